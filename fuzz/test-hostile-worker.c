/* test-hostile-worker.c: workers that answer with malformed frames are
 * killed, their task fails with PROC_ERROR_PROTOCOL, and the pool goes on
 *
 * Every input of the parent's seed corpus (fuzz/corpus/parent) that the
 * parent must refuse — err-* (a malformed frame), partial-* (a frame cut
 * short: the worker then closes its channel), reject-* (frames that decode
 * but that a parent never accepts), and two payloads of the wrong type whose
 * task id cannot match — is sent by proc-hostile-worker (hostile-worker.c)
 * to a real executor, twice:
 *   /hostile/hello/NAME   in answer to the HELLO, before the worker is
 *                         given a task (a task waits for a READY worker),
 *                         all in one write (a frame cut short without
 *                         the READY it starts with): the worker is killed
 *                         before the pool gives it the task, which then
 *                         runs on a real worker and succeeds;
 *   /hostile/run/NAME     after a proper READY, once the task's RUN arrived:
 *                         the task fails with PROC_ERROR_PROTOCOL naming
 *                         the worker's pid.
 * Each time the worker was killed (it never saw its channel closed, and is
 * gone), and the executor is not broken and runs ten more tasks on real
 * workers.
 *
 * tests/proc-test-tasks.c's "garbage" task (in test-failures.c) covers one
 * unknown kind sent by a real worker while running a task; this covers the
 * rest, and the handshake.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

static char *tmp_dir;
static guint n_cases;

typedef struct {
  char *when;
  char *file;
} Case;

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->when);
  g_free (c->file);
  g_free (c);
}

static void
test_hostile (gconstpointer data)
{
  const Case *c = data;
  char *marker = g_strdup_printf ("%s/marker-%u", tmp_dir, ++n_cases);
  const char *argv[] = {
    g_getenv ("PROC_HOSTILE_WORKER"), c->when, c->file, marker, g_getenv ("PROCEXEC_WORKER"), NULL,
  };
  ProcExecutor *executor;
  ProcFuture *f;
  GError *error;
  char *contents = NULL;
  GPid pid;

  g_assert_nonnull (argv[0]);
  g_assert_nonnull (argv[4]);

  executor = test_executor_new (2, "worker-argv", argv, NULL);
  f = test_submit (executor, "echo", g_variant_new ("(u)", 42));
  if (g_str_has_prefix (c->when, "hello"))
    {
      GVariant *result = test_result (f);

      test_assert_variant (result, g_variant_new ("(u)", 42));
      g_variant_unref (result);
      error = NULL;
    }
  else
    {
      error = test_result_error (f);
      g_test_message ("%s", error->message);
      g_assert_error (error, PROC_ERROR, PROC_ERROR_PROTOCOL);
    }

  /* The pool goes on, on real workers. */
  test_assert_pool_works (executor, 10);
  g_assert_false (proc_executor_is_broken (executor));

  /* Once shut down, every worker it had is reaped. */
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);

  /* The first worker was the hostile one; the marker has its pid. */
  g_assert_true (g_file_get_contents (marker, &contents, NULL, NULL));
  pid = (GPid) atoi (contents);
  g_assert_cmpint (pid, >, 0);
  if (error != NULL)
    g_assert_true (test_message_has_number (error->message, pid));
  /* It was killed: it never saw its channel closed, and it is gone. */
  g_assert_null (strstr (contents, "eof"));
  g_assert_cmpint (kill (pid, 0), ==, -1);
  g_assert_cmpint (errno, ==, ESRCH);

  g_clear_error (&error);
  g_object_unref (f);
  g_free (contents);
  g_unlink (marker);
  g_free (marker);
}

static gboolean
must_be_refused (const char *name)
{
  return g_str_has_prefix (name, "err-") ||
         g_str_has_prefix (name, "partial-") ||
         g_str_has_prefix (name, "reject-") ||
         /* A payload of another type, garbage: the task id read from them
          * is not the running task's. */
         strcmp (name, "ok-payload-of-another-type") == 0 ||
         strcmp (name, "ok-garbage-payloads") == 0;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

int
main (int argc, char **argv)
{
  const char *corpus = g_getenv ("PROC_FUZZ_CORPUS_PARENT");
  GPtrArray *cases = g_ptr_array_new_with_free_func (case_free);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  GDir *dir;
  const char *name;
  int ret;

  test_init (&argc, &argv);

  if (corpus == NULL)
    g_error ("PROC_FUZZ_CORPUS_PARENT is not set; run the tests with meson test");
  dir = g_dir_open (corpus, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (must_be_refused (name))
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_strings);
  /* No test that cannot fail: the corpus must have such inputs. */
  g_assert_cmpuint (names->len, >=, 20);

  tmp_dir = g_dir_make_tmp ("proc-hostile-XXXXXX", &error);
  g_assert_no_error (error);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      gboolean cut_short = g_str_has_prefix (file, "partial-");

      for (guint run = 0; run < 2; run++)
        {
          Case *c = g_new0 (Case, 1);
          char *path;

          c->when = g_strdup_printf ("%s%s", run ? "run" : "hello", cut_short ? "+eof" : "");
          c->file = g_build_filename (corpus, file, NULL);
          path = g_strdup_printf ("/hostile/%s/%s", run ? "run" : "hello", file);
          g_test_add_data_func (path, c, test_hostile);
          g_ptr_array_add (cases, c);
          g_free (path);
        }
    }

  ret = g_test_run ();

  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  g_ptr_array_unref (names);
  g_ptr_array_unref (cases);
  return ret;
}
