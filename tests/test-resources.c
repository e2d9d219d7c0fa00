/* test-resources.c: an executor's life leaves no fd and no process behind
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A program of its own: leftover workers of other tests must not disturb
 * the counts.
 */

#include <fcntl.h>
#include <unistd.h>

#include "test-util.h"

/* Creates an executor, runs a mixed load (results, errors, a crash, a
 * timeout, a huge result), shuts down with wait=TRUE and drops it. */
/* Under AddressSanitizer, a worker that exits runs LeakSanitizer, which
 * ptrace-stops it; GLib 2.74's pidfd child watch then reports the exit
 * before the process is reaped (fixed in GLib 2.77.2), leaving a zombie
 * that this test would count. Here only, workers run without leak
 * detection; every other test keeps it on in the workers. */
static ProcExecutor *
resources_executor_new (void)
{
  const char *worker = g_getenv ("PROCEXEC_WORKER");
  const char *argv[] = { "/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0:handle_segv=0", worker, NULL };

  if (g_getenv ("ASAN_OPTIONS") == NULL)
    return test_executor_new (2, "cancel-grace", (gint64) 50000, NULL);
  return test_executor_new (2, "cancel-grace", (gint64) 50000, "worker-argv", argv, NULL);
}

static void
executor_life (void)
{
  ProcExecutor *executor = resources_executor_new ();
  ProcFuture *futures[40];
  ProcFuture *crash, *timeout, *huge;
  GError *error = NULL;
  GVariant *result;

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "add", g_variant_new ("(ii)", (gint32) i, 1));
  crash = test_submit (executor, "abort", NULL);
  timeout = proc_executor_submit_full (executor, "hang", NULL, NULL, 100000, NULL, &error);
  g_assert_no_error (error);
  huge = test_submit (executor, "huge", g_variant_new ("(u)", 1024 * 1024));

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      gint32 sum;

      result = test_result (futures[i]);
      g_variant_get (result, "(i)", &sum);
      g_assert_cmpint (sum, ==, (gint32) i + 1);
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }

  error = test_result_error (crash);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_WORKER_DIED);
  g_clear_error (&error);
  error = test_result_error (timeout);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_TASK_TIMEOUT);
  g_clear_error (&error);
  result = test_result (huge);
  g_assert_cmpuint (g_variant_n_children (result), ==, 1024 * 1024);
  g_variant_unref (result);

  g_object_unref (crash);
  g_object_unref (timeout);
  g_object_unref (huge);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);

  /* Notifications queued for this thread may hold references; let them
   * run. */
  test_drain_context (NULL);
}

static void
test_no_leaks (void)
{
  guint fds_before, fds_after, children_before, children_after;

  /* The first executor makes GLib set up its process-wide singletons (the
   * worker thread, the SIGCHLD handling, type classes...): not a leak. */
  executor_life ();

  fds_before = test_count_open_fds ();
  children_before = test_count_children ();
  g_test_message ("before: %u fds, %u children", fds_before, children_before);

  for (guint round = 0; round < 3; round++)
    executor_life ();

  fds_after = test_wait_open_fds (fds_before, TEST_TIMEOUT_USEC);
  children_after = test_count_children ();
  g_test_message ("after: %u fds, %u children", fds_after, children_after);

  g_assert_cmpuint (children_after, ==, children_before);
  /* At most: the first count may still have seen fds GLib's worker
   * thread was about to close (see test_wait_open_fds()). */
  g_assert_cmpuint (fds_after, <=, fds_before);
}

static guint
worker_fdcount (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f = test_submit (executor, "fdcount", NULL);
  GVariant *result = test_result (f);
  guint32 n;

  g_variant_get (result, "(u)", &n);
  g_variant_unref (result);
  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
  return n;
}

/* The parent's fds (even without O_CLOEXEC) do not leak into workers. */
static void
test_workers_do_not_inherit_fds (void)
{
  int extra[32];
  guint base, with_extra;

  base = worker_fdcount ();
  g_test_message ("a worker has %u fds open", base);

  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      extra[i] = open ("/dev/null", O_RDONLY); /* deliberately no O_CLOEXEC */
      g_assert_cmpint (extra[i], >=, 0);
    }

  with_extra = worker_fdcount ();
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    close (extra[i]);

  g_test_message ("with %u more fds in the parent, a worker has %u fds open",
                  (guint) G_N_ELEMENTS (extra), with_extra);
  g_assert_cmpuint (with_extra, <=, base + 2);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/resources/no-leaked-fds-or-children", test_no_leaks);
  g_test_add_func ("/resources/workers-do-not-inherit-fds", test_workers_do_not_inherit_fds);

  return g_test_run ();
}
