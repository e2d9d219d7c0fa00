/* test-shutdown-load.c: shutting down, or dropping, a busy executor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 1. shutdown(wait=FALSE, cancel_futures=TRUE) with 10,000 tasks queued
 *    (times $PROC_STRESS_SCALE) and 2 running: the call returns at once,
 *    with the running tasks still RUNNING; every future then resolves
 *    (the queued ones CANCELLED, the running ones with their value), and
 *    no process survives.
 * 2. Dropping the last reference (no shutdown) with tasks running and
 *    queued: the unref returns at once, every future still resolves with
 *    its value, and no process survives.
 */

#include <unistd.h>

#include "test-util.h"

#define N_QUEUED   10000
#define RUN_MSEC   1500

typedef struct {
  GPid  pids[2];
  guint n_started;
} Running;

static void
started_cb (ProcFuture *future,
            double      fraction,
            GVariant   *detail,
            gpointer    user_data)
{
  Running *r = user_data;
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (future), "index"));
  gint32 pid;

  g_variant_get (detail, "(i)", &pid);
  if (r->pids[index] == 0)
    r->n_started++;
  r->pids[index] = pid;
}

/* Waits until both 'sleep_report' tasks run (they report their pid when
 * they start) and returns their workers' pids in @pids. Call it right
 * after submitting them, before this thread's context is iterated. */
static void
wait_both_running (ProcFuture *futures[2],
                   GPid        pids[2])
{
  Running r = { { 0, 0 }, 0 };
  gulong ids[2];

  for (guint i = 0; i < 2; i++)
    {
      g_object_set_data (G_OBJECT (futures[i]), "index", GUINT_TO_POINTER (i));
      ids[i] = g_signal_connect (futures[i], "progress", G_CALLBACK (started_cb), &r);
    }
  g_assert_true (test_iterate_until_count (NULL, &r.n_started, 2));
  for (guint i = 0; i < 2; i++)
    {
      g_signal_handler_disconnect (futures[i], ids[i]);
      g_assert_cmpint (proc_future_get_state (futures[i]), ==, PROC_FUTURE_STATE_RUNNING);
      g_assert_cmpint (proc_future_get_worker_pid (futures[i]), ==, r.pids[i]);
      pids[i] = r.pids[i];
    }
  g_assert_cmpint (pids[0], !=, pids[1]);
}

static void
assert_no_process_left (GPid  *pids,
                        guint  n_pids,
                        guint  children_before)
{
  gint64 timeout = 10 * G_USEC_PER_SEC * test_slow_factor ();

  for (guint i = 0; i < n_pids; i++)
    if (!test_wait_not_our_child (pids[i], timeout))
      g_error ("worker %d is still a child of the test", pids[i]);
  if (!test_wait_children (children_before, timeout))
    g_error ("%u children left, %u before", test_count_children (), children_before);
}

static gboolean
executor_has_no_workers (gpointer data)
{
  return proc_executor_get_n_workers (data) == 0;
}

static void
test_shutdown_cancel_under_load (void)
{
  guint n = test_stress_size (N_QUEUED);
  guint children_before = test_count_children ();
  ProcExecutor *executor;
  ProcFuture *running[2];
  ProcFuture **queued = g_new0 (ProcFuture *, n);
  GPid pids[2];
  guint n_cancelled = 0, n_finished = 0;
  gint64 before, call_usec;
  GError *error = NULL;

  executor = test_executor_new (2, "worker-argv", test_counting_worker_argv (), NULL);
  for (guint i = 0; i < 2; i++)
    running[i] = test_submit (executor, "sleep_report", g_variant_new ("(u)", RUN_MSEC));
  wait_both_running (running, pids);

  for (guint i = 0; i < n; i++)
    queued[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, n);

  before = g_get_monotonic_time ();
  proc_executor_shutdown (executor, FALSE, TRUE);
  call_usec = g_get_monotonic_time () - before;

  /* It did not wait for the running tasks. */
  g_assert_cmpint (proc_future_get_state (running[0]), ==, PROC_FUTURE_STATE_RUNNING);
  g_assert_cmpint (proc_future_get_state (running[1]), ==, PROC_FUTURE_STATE_RUNNING);
  g_assert_true (proc_executor_is_shutdown (executor));
  g_test_message ("shutdown(wait=FALSE, cancel_futures=TRUE) with %u queued and 2 running "
                  "returned after %.1f ms", n, call_usec / 1000.0);

  g_assert_null (proc_executor_submit (executor, "echo", NULL, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SHUTDOWN);
  g_clear_error (&error);

  for (guint i = 0; i < n; i++)
    {
      GVariant *result;

      g_assert_true (proc_future_wait (queued[i], TEST_TIMEOUT_USEC));
      result = proc_future_result (queued[i], 0, &error);
      if (proc_future_is_cancelled (queued[i]))
        {
          g_assert_null (result);
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_clear_error (&error);
          n_cancelled++;
        }
      else
        {
          g_assert_no_error (error);
          test_assert_finished (queued[i]);
          test_assert_variant (result, g_variant_new ("(u)", i));
          g_variant_unref (result);
          n_finished++;
        }
      g_object_unref (queued[i]);
    }
  g_test_message ("queued tasks: %u cancelled, %u had already been sent and finished",
                  n_cancelled, n_finished);
  g_assert_cmpuint (n_cancelled + n_finished, ==, n);
  g_assert_cmpuint (n_cancelled, >, 0);

  for (guint i = 0; i < 2; i++)
    {
      GVariant *result = test_result (running[i]);

      test_assert_finished (running[i]);
      test_assert_variant (result, g_variant_new ("(u)", RUN_MSEC));
      g_variant_unref (result);
      g_object_unref (running[i]);
    }

  /* Nobody waits for the executor: its workers go on their own. The
   * counter follows the I/O thread's handling of their exit, which may come
   * after the process is reaped; its notify arrives in this context. */
  assert_no_process_left (pids, 2, children_before);
  g_assert_true (test_iterate_until (NULL, executor_has_no_workers, executor, TEST_TIMEOUT_USEC));

  g_object_unref (executor);
  test_drain_context (NULL);
  g_free (queued);
}

static void
test_unref_under_load (void)
{
  guint n = test_stress_size (N_QUEUED);
  guint children_before = test_count_children ();
  ProcExecutor *executor;
  ProcFuture *running[2];
  ProcFuture **queued = g_new0 (ProcFuture *, n);
  GHashTable *pids = g_hash_table_new (NULL, NULL);
  GPid running_pids[2];
  GHashTableIter iter;
  gpointer key;
  gint64 before, call_usec;

  executor = test_executor_new (2, "worker-argv", test_counting_worker_argv (), NULL);
  for (guint i = 0; i < 2; i++)
    running[i] = test_submit (executor, "sleep_report", g_variant_new ("(u)", RUN_MSEC));
  wait_both_running (running, running_pids);
  for (guint i = 0; i < 2; i++)
    g_hash_table_add (pids, GINT_TO_POINTER (running_pids[i]));
  for (guint i = 0; i < n; i++)
    queued[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));

  /* The last reference: no shutdown() was called. */
  before = g_get_monotonic_time ();
  g_object_unref (executor);
  call_usec = g_get_monotonic_time () - before;
  g_assert_cmpint (proc_future_get_state (running[0]), ==, PROC_FUTURE_STATE_RUNNING);
  g_assert_cmpint (proc_future_get_state (running[1]), ==, PROC_FUTURE_STATE_RUNNING);
  g_test_message ("the last unref with %u queued and 2 running returned after %.1f ms",
                  n, call_usec / 1000.0);

  /* Work already submitted still runs. */
  for (guint i = 0; i < 2; i++)
    {
      GVariant *result = test_result (running[i]);

      test_assert_variant (result, g_variant_new ("(u)", RUN_MSEC));
      g_variant_unref (result);
      g_object_unref (running[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      GVariant *result = test_result (queued[i]);

      test_assert_finished (queued[i]);
      test_assert_variant (result, g_variant_new ("(u)", i));
      g_variant_unref (result);
      g_hash_table_add (pids, GINT_TO_POINTER (proc_future_get_worker_pid (queued[i])));
      g_object_unref (queued[i]);
    }

  g_hash_table_iter_init (&iter, pids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!test_wait_not_our_child (GPOINTER_TO_INT (key), 10 * G_USEC_PER_SEC * test_slow_factor ()))
      g_error ("worker %d is still a child of the test", GPOINTER_TO_INT (key));
  assert_no_process_left (NULL, 0, children_before);
  g_test_message ("%u worker processes, all gone", g_hash_table_size (pids));

  test_drain_context (NULL);
  g_hash_table_unref (pids);
  g_free (queued);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/stress/shutdown/cancel-futures-under-load", test_shutdown_cancel_under_load);
  g_test_add_func ("/stress/shutdown/unref-under-load", test_unref_under_load);

  return g_test_run ();
}
