/* procexec-worker.c: the default worker program of procexec
 *
 * A ProcExecutor starts this program (unless told otherwise), sends it
 * the task modules to load, and then tasks to run. Extra modules can be
 * given on the command line, which is handy for wrappers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <unistd.h>

#include <procexec.h>

int
main (int    argc,
      char **argv)
{
  g_autoptr(ProcWorker) worker = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) modules = NULL;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "module", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &modules,
      "Load a task module before serving (repeatable)", "PATH" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("- run procexec tasks for a ProcExecutor");
  g_option_context_set_summary (context,
                                "This program is started by a ProcExecutor, which talks to it on fd 3.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("procexec-worker: %s\n", error->message);
      return 2;
    }

  if (version)
    {
      g_print ("procexec-worker %s\n", PROC_VERSION_S);
      return 0;
    }

  if (!proc_worker_is_worker_process ())
    {
      g_printerr ("procexec-worker: this program is started by a ProcExecutor "
                  "(no channel in $PROCEXEC_CHANNEL_FD)\n");
      return 2;
    }

  worker = proc_worker_new ();
  for (guint i = 0; modules != NULL && modules[i] != NULL; i++)
    if (!proc_worker_load_module (worker, modules[i], &error))
      {
        g_printerr ("procexec-worker: %s\n", error->message);
        return 1;
      }

  if (!proc_worker_serve (worker, &error))
    {
      g_printerr ("procexec-worker %d: %s\n", (int) getpid (), error->message);
      return 1;
    }

  return 0;
}
