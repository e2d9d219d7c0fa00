/* test-wait.c: proc_wait_futures() and ProcAsCompleted
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

static gboolean
array_has (GPtrArray *array,
           gpointer   item)
{
  return g_ptr_array_find (array, item, NULL);
}

/* A task that runs until it is interrupted. */
static ProcFuture *
submit_long (ProcExecutor *executor)
{
  return test_submit (executor, "sleep", g_variant_new ("(u)", 60000));
}

/* Interrupts a long task and waits until it is done. */
static void
stop_long (ProcFuture *future)
{
  proc_future_interrupt (future);
  g_assert_true (proc_future_wait (future, TEST_TIMEOUT_USEC));
}

static void
test_first_completed (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[2];
  GPtrArray *done = NULL, *not_done = NULL;

  futures[0] = submit_long (executor);
  futures[1] = test_submit (executor, "echo", NULL);

  g_assert_true (proc_wait_futures (futures, 2, PROC_WAIT_FIRST_COMPLETED,
                                    TEST_TIMEOUT_USEC, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_cmpuint (not_done->len, ==, 1);
  g_assert_true (array_has (done, futures[1]));
  g_assert_true (array_has (not_done, futures[0]));
  g_assert_true (proc_future_is_done (futures[1]));
  g_assert_false (proc_future_is_done (futures[0]));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  /* Already satisfied: returns at once, even with a poll. */
  g_assert_true (proc_wait_futures (futures, 2, PROC_WAIT_FIRST_COMPLETED, 0,
                                    &done, &not_done));
  g_assert_true (array_has (done, futures[1]));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  stop_long (futures[0]);
  g_object_unref (futures[0]);
  g_object_unref (futures[1]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_first_exception (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[3];
  GPtrArray *done = NULL, *not_done = NULL;

  futures[0] = submit_long (executor);
  futures[1] = test_submit (executor, "fail",
                            g_variant_new ("(sis)", "proc-test-error-quark", 1, "first"));
  futures[2] = test_submit (executor, "echo", NULL);

  g_assert_true (proc_wait_futures (futures, 3, PROC_WAIT_FIRST_EXCEPTION,
                                    TEST_TIMEOUT_USEC, &done, &not_done));
  g_assert_cmpuint (done->len + not_done->len, ==, 3);
  g_assert_true (array_has (done, futures[1]));
  g_assert_true (array_has (not_done, futures[0]));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  stop_long (futures[0]);
  for (guint i = 0; i < 3; i++)
    g_object_unref (futures[i]);

  /* Without any exception it waits for all. */
  for (guint i = 0; i < 3; i++)
    futures[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 20 * (i + 1)));
  g_assert_true (proc_wait_futures (futures, 3, PROC_WAIT_FIRST_EXCEPTION,
                                    TEST_TIMEOUT_USEC, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 3);
  g_assert_cmpuint (not_done->len, ==, 0);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (proc_future_is_done (futures[i]));
      g_object_unref (futures[i]);
    }
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_all_completed (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[5];
  GPtrArray *done = NULL, *not_done = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 30));
  /* A failure does not stop ALL_COMPLETED. */
  g_object_unref (futures[2]);
  futures[2] = test_submit (executor, "fail",
                            g_variant_new ("(sis)", "proc-test-error-quark", 2, "x"));

  g_assert_true (proc_wait_futures (futures, G_N_ELEMENTS (futures), PROC_WAIT_ALL_COMPLETED,
                                    TEST_TIMEOUT_USEC, &done, &not_done));
  g_assert_cmpuint (done->len, ==, G_N_ELEMENTS (futures));
  g_assert_cmpuint (not_done->len, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      g_assert_true (array_has (done, futures[i]));
      g_assert_true (proc_future_is_done (futures[i]));
    }
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  /* done/not_done are optional. */
  g_assert_true (proc_wait_futures (futures, G_N_ELEMENTS (futures), PROC_WAIT_ALL_COMPLETED,
                                    0, NULL, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    g_object_unref (futures[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* An expired wait returns FALSE, with what is done and what is not, and
 * changes nothing. */
static void
test_wait_timeout (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[2];
  GPtrArray *done = NULL, *not_done = NULL;
  gint64 start, elapsed;

  futures[0] = submit_long (executor);
  futures[1] = test_submit (executor, "echo", NULL);
  g_assert_true (proc_future_wait (futures[1], TEST_TIMEOUT_USEC));

  start = g_get_monotonic_time ();
  g_assert_false (proc_wait_futures (futures, 2, PROC_WAIT_ALL_COMPLETED, 100000,
                                     &done, &not_done));
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, >=, 100000);
  g_assert_cmpint (elapsed, <, TEST_TIMEOUT_USEC);
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_cmpuint (not_done->len, ==, 1);
  g_assert_true (array_has (done, futures[1]));
  g_assert_true (array_has (not_done, futures[0]));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  /* A poll. */
  g_assert_false (proc_wait_futures (futures, 2, PROC_WAIT_ALL_COMPLETED, 0, &done, &not_done));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  /* FIRST_EXCEPTION with no exception yet and not all done: times out. */
  g_assert_false (proc_wait_futures (futures, 2, PROC_WAIT_FIRST_EXCEPTION, 20000,
                                     &done, &not_done));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  g_assert_false (proc_future_is_done (futures[0]));
  g_assert_false (proc_future_is_cancelled (futures[0]));

  stop_long (futures[0]);
  g_object_unref (futures[0]);
  g_object_unref (futures[1]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* The same future given several times counts once; an empty set is
 * complete; a cancelled future is done but not an exception. */
static void
test_wait_duplicates_empty_cancelled (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *futures[3];
  ProcFuture *running, *queued[40], *cancelled;
  GPtrArray *done = NULL, *not_done = NULL;

  futures[0] = futures[1] = futures[2] = test_submit (executor, "echo", NULL);
  g_assert_true (proc_wait_futures (futures, 3, PROC_WAIT_ALL_COMPLETED,
                                    TEST_TIMEOUT_USEC, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_cmpuint (not_done->len, ==, 0);
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);
  g_object_unref (futures[0]);

  g_assert_true (proc_wait_futures (futures, 0, PROC_WAIT_ALL_COMPLETED, 0, &done, &not_done));
  g_assert_cmpuint (done->len, ==, 0);
  g_assert_cmpuint (not_done->len, ==, 0);
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  running = test_submit (executor, "sleep_report", g_variant_new ("(u)", 60000));
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = test_submit (executor, "echo", NULL);
  cancelled = queued[G_N_ELEMENTS (queued) - 1];
  test_wait_started (running);
  g_assert_true (proc_future_cancel (cancelled));

  futures[0] = cancelled;
  g_assert_true (proc_wait_futures (futures, 1, PROC_WAIT_ALL_COMPLETED, 0, &done, &not_done));
  g_assert_true (array_has (done, cancelled));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  futures[1] = running;
  g_assert_true (proc_wait_futures (futures, 2, PROC_WAIT_FIRST_COMPLETED, 0, &done, &not_done));
  g_assert_true (array_has (done, cancelled));
  g_assert_true (array_has (not_done, running));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  g_assert_false (proc_wait_futures (futures, 2, PROC_WAIT_FIRST_EXCEPTION, 20000,
                                     &done, &not_done));
  g_assert_true (array_has (done, cancelled));
  g_assert_true (array_has (not_done, running));
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  stop_long (running);
  g_object_unref (running);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_object_unref (queued[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* as_completed yields the futures already done first, then the others in
 * the order they complete (made deterministic by interrupting them one by
 * one), then ends. */
static void
test_as_completed_order (void)
{
  ProcExecutor *executor = test_executor_new (3, NULL);
  ProcFuture *a, *b, *c, *d;
  ProcFuture *futures[4];
  ProcAsCompleted *ac;
  GError *error = NULL;
  ProcFuture *next;

  d = test_submit (executor, "echo", NULL);
  g_assert_true (proc_future_wait (d, TEST_TIMEOUT_USEC));
  a = submit_long (executor);
  b = submit_long (executor);
  c = submit_long (executor);
  futures[0] = a;
  futures[1] = b;
  futures[2] = c;
  futures[3] = d;

  ac = proc_as_completed_new (futures, 4, TEST_TIMEOUT_USEC);

  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_true (next == d);
  g_object_unref (next);

  proc_future_interrupt (c);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_true (next == c);
  g_assert_true (proc_future_is_done (c));
  g_object_unref (next);

  proc_future_interrupt (a);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_true (next == a);
  g_object_unref (next);

  proc_future_interrupt (b);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_true (next == b);
  g_object_unref (next);

  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_null (next);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_null (next);

  g_object_unref (ac);
  g_object_unref (a);
  g_object_unref (b);
  g_object_unref (c);
  g_object_unref (d);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* The timeout of as_completed is a deadline from its creation: once it has
 * passed, next() fails with TIMED_OUT and cancels nothing. */
static void
test_as_completed_timeout (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[2];
  ProcAsCompleted *ac;
  GError *error = NULL;
  ProcFuture *next;
  gint64 start, elapsed;

  futures[0] = submit_long (executor);
  futures[1] = test_submit (executor, "echo", NULL);
  g_assert_true (proc_future_wait (futures[1], TEST_TIMEOUT_USEC));

  start = g_get_monotonic_time ();
  ac = proc_as_completed_new (futures, 2, 200000);

  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_true (next == futures[1]);
  g_object_unref (next);

  next = proc_as_completed_next (ac, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_null (next);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpint (elapsed, >=, 200000);
  g_assert_cmpint (elapsed, <, TEST_TIMEOUT_USEC);

  g_assert_false (proc_future_is_done (futures[0]));
  g_assert_false (proc_future_is_cancelled (futures[0]));
  g_object_unref (ac);

  /* A poll on a set where nothing is done. */
  ac = proc_as_completed_new (futures, 1, 0);
  next = proc_as_completed_next (ac, &error);
  g_assert_null (next);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_object_unref (ac);

  stop_long (futures[0]);
  g_object_unref (futures[0]);
  g_object_unref (futures[1]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_as_completed_duplicates (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f = test_submit (executor, "echo", NULL);
  ProcFuture *futures[3] = { f, f, f };
  ProcAsCompleted *ac;
  GError *error = NULL;
  ProcFuture *next;

  ac = proc_as_completed_new (futures, 3, TEST_TIMEOUT_USEC);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_true (next == f);
  g_object_unref (next);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_null (next);
  g_object_unref (ac);

  /* Empty: exhausted at once. */
  ac = proc_as_completed_new (futures, 0, 0);
  next = proc_as_completed_next (ac, &error);
  g_assert_no_error (error);
  g_assert_null (next);
  g_object_unref (ac);

  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

typedef struct {
  ProcAsCompleted *ac;
  GPtrArray *seen;
  gboolean finished;
  GError *error;
} AsyncNextData;

static void
next_async_cb (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  AsyncNextData *data = user_data;
  ProcFuture *next;

  next = proc_as_completed_next_finish (PROC_AS_COMPLETED (source), res, &data->error);
  if (next == NULL)
    {
      data->finished = TRUE;
      return;
    }
  g_assert_true (proc_future_is_done (next));
  g_ptr_array_add (data->seen, next);
  proc_as_completed_next_async (data->ac, NULL, next_async_cb, data);
}

/* next_async/_finish yields every future once, then NULL. */
static void
test_as_completed_async (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[4];
  AsyncNextData data = { NULL, g_ptr_array_new_with_free_func (g_object_unref), FALSE, NULL };

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 40 * (i + 1)));
  data.ac = proc_as_completed_new (futures, G_N_ELEMENTS (futures), TEST_TIMEOUT_USEC);
  proc_as_completed_next_async (data.ac, NULL, next_async_cb, &data);
  g_assert_true (test_iterate_until_flag (NULL, &data.finished));
  g_assert_no_error (data.error);

  g_assert_cmpuint (data.seen->len, ==, G_N_ELEMENTS (futures));
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    g_assert_true (array_has (data.seen, futures[i]));

  g_ptr_array_unref (data.seen);
  g_object_unref (data.ac);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    g_object_unref (futures[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/wait/first-completed", test_first_completed);
  g_test_add_func ("/wait/first-exception", test_first_exception);
  g_test_add_func ("/wait/all-completed", test_all_completed);
  g_test_add_func ("/wait/timeout", test_wait_timeout);
  g_test_add_func ("/wait/duplicates-empty-cancelled", test_wait_duplicates_empty_cancelled);
  g_test_add_func ("/as-completed/order", test_as_completed_order);
  g_test_add_func ("/as-completed/timeout", test_as_completed_timeout);
  g_test_add_func ("/as-completed/duplicates", test_as_completed_duplicates);
  g_test_add_func ("/as-completed/async", test_as_completed_async);

  return g_test_run ();
}
