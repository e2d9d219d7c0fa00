/* gio-floor.c: the least resident memory of a GIO program
 *
 * Links GLib, GObject and GIO, makes a cancellable and a main context (as
 * a worker does), says "ready" and waits for its stdin to close.
 * bench-procexec measures it beside an idle worker: most of a worker's
 * resident memory is the pages of these shared libraries.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <unistd.h>

#include <gio/gio.h>

int
main (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  char c;

  printf ("ready\n");
  fflush (stdout);
  while (read (STDIN_FILENO, &c, 1) > 0)
    ;
  return 0;
}
