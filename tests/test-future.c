/* test-future.c: ProcFuture — results, timeouts, cancel, interrupt,
 * callbacks, signals
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <unistd.h>

#include "test-util.h"

/* result() with a timeout that expires fails with TIMED_OUT and changes
 * nothing: the task keeps running and a later result() succeeds. */
static void
test_result_timeout (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f;
  GError *error = NULL, *exception;
  GVariant *result;
  gint64 start;

  f = test_submit (executor, "sleep_report", g_variant_new ("(u)", 1000));
  test_wait_started (f);
  g_assert_cmpint (proc_future_get_state (f), ==, PROC_FUTURE_STATE_RUNNING);
  g_assert_true (proc_future_is_running (f));

  /* A poll. */
  result = proc_future_result (f, 0, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* A short wait. */
  start = g_get_monotonic_time ();
  result = proc_future_result (f, 50000, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50000);

  exception = proc_future_exception (f, 10000, &error);
  g_assert_null (exception);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  g_assert_false (proc_future_wait (f, 0));
  g_assert_false (proc_future_wait (f, 10000));

  result = proc_future_peek_result (f, &error);
  g_assert_null (result);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_PENDING);
  g_clear_error (&error);

  /* Still running, not cancelled by the expired waits. */
  g_assert_false (proc_future_is_done (f));
  g_assert_false (proc_future_is_cancelled (f));

  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(u)", 1000));
  g_variant_unref (result);
  test_assert_finished (f);

  /* Each call returns the result again. */
  result = proc_future_peek_result (f, &error);
  g_assert_no_error (error);
  test_assert_variant (result, g_variant_new ("(u)", 1000));
  g_variant_unref (result);
  result = proc_future_result (f, 0, &error);
  g_assert_no_error (error);
  test_assert_variant (result, g_variant_new ("(u)", 1000));
  g_variant_unref (result);

  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

typedef struct {
  ProcFuture *future;
  GVariant *result;
} WaiterData;

static gpointer
waiter_thread (gpointer user_data)
{
  WaiterData *data = user_data;
  GError *error = NULL;

  data->result = proc_future_result (data->future, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  return NULL;
}

/* Several threads blocked in result() on one future all get the result. */
static void
test_result_from_threads (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f = test_submit (executor, "sleep", g_variant_new ("(u)", 200));
  WaiterData data[4];
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      data[i].future = f;
      data[i].result = NULL;
      threads[i] = g_thread_new ("waiter", waiter_thread, &data[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (threads[i]);
      test_assert_variant (data[i].result, g_variant_new ("(u)", 200));
      g_variant_unref (data[i].result);
    }

  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* cancel(): TRUE while PENDING (and again once CANCELLED), FALSE once
 * RUNNING or FINISHED. The future cancelled is the last of many queued
 * behind a running task: a busy worker may already hold a few tasks ahead
 * of time (they count as RUNNING, as in Python). */
static void
test_cancel (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *running, *queued[40], *last;
  GError *error = NULL;
  GVariant *result;

  running = test_submit (executor, "sleep_report", g_variant_new ("(u)", 500));
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));
  last = queued[G_N_ELEMENTS (queued) - 1];
  test_wait_started (running);

  g_assert_cmpint (proc_future_get_state (last), ==, PROC_FUTURE_STATE_PENDING);
  g_assert_true (proc_future_cancel (last));
  g_assert_cmpint (proc_future_get_state (last), ==, PROC_FUTURE_STATE_CANCELLED);
  g_assert_true (proc_future_is_cancelled (last));
  g_assert_true (proc_future_is_done (last));
  g_assert_false (proc_future_is_running (last));
  g_assert_true (proc_future_wait (last, 0));
  g_assert_true (proc_future_cancel (last));

  result = proc_future_result (last, 0, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* exception() of a cancelled future: the wait itself fails. */
  g_assert_null (proc_future_exception (last, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_false (proc_future_cancel (running));
  g_assert_cmpint (proc_future_get_state (running), ==, PROC_FUTURE_STATE_RUNNING);

  result = test_result (running);
  test_assert_variant (result, g_variant_new ("(u)", 500));
  g_variant_unref (result);
  g_assert_false (proc_future_cancel (running));
  test_assert_finished (running);

  /* The others ran; the cancelled one never did. */
  for (guint i = 0; i + 1 < G_N_ELEMENTS (queued); i++)
    {
      result = test_result (queued[i]);
      test_assert_variant (result, g_variant_new ("(u)", i));
      g_variant_unref (result);
    }
  g_assert_cmpint (proc_future_get_state (last), ==, PROC_FUTURE_STATE_CANCELLED);

  g_object_unref (running);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_object_unref (queued[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* interrupt() of a running cooperative task: its cancellable trips, it
 * returns G_IO_ERROR_CANCELLED long before its sleep would end, and the
 * worker survives (the grace period is long). */
static void
test_interrupt_sleep (void)
{
  ProcExecutor *executor = test_executor_new (1, "cancel-grace", (gint64) 20 * G_USEC_PER_SEC, NULL);
  ProcFuture *f, *g;
  GError *error;
  GVariant *result;
  gint64 start, elapsed;
  GPid pid;
  gint32 pid_after;

  f = test_submit (executor, "sleep_report", g_variant_new ("(u)", 60000));
  pid = test_wait_started (f);
  g_assert_cmpint (proc_future_get_worker_pid (f), ==, pid);

  start = g_get_monotonic_time ();
  g_assert_true (proc_future_interrupt (f));
  error = test_result_error (f);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_error_free (error);
  g_test_message ("interrupted after %" G_GINT64_FORMAT " us", elapsed);
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);

  /* Interrupted while running: FINISHED, not CANCELLED. */
  test_assert_finished (f);
  g_assert_false (proc_future_interrupt (f));
  g_assert_false (proc_future_cancel (f));

  /* The same worker serves the next task. */
  g = test_submit (executor, "pid", NULL);
  result = test_result (g);
  g_variant_get (result, "(i)", &pid_after);
  g_assert_cmpint (pid_after, ==, pid);
  g_variant_unref (result);

  g_object_unref (f);
  g_object_unref (g);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* interrupt() of a task that ignores its cancellable: after the grace period
 * the worker is killed and replaced; the future fails with CANCELLED. */
static void
test_interrupt_hang (void)
{
  ProcExecutor *executor = test_executor_new (1, "cancel-grace", (gint64) 100000, NULL);
  ProcFuture *f, *g;
  GError *error;
  GVariant *result;
  gint64 start, elapsed;
  GPid pid;
  gint32 pid_after;

  f = test_submit (executor, "hang", NULL);
  g = test_submit (executor, "pid", NULL);
  pid = test_wait_started (f);

  start = g_get_monotonic_time ();
  g_assert_true (proc_future_interrupt (f));
  error = test_result_error (f);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_error_free (error);
  test_assert_finished (f);
  /* The worker got its grace period before it was killed. */
  g_test_message ("a hung task stopped %" G_GINT64_FORMAT " us after its interruption", elapsed);
  g_assert_cmpint (elapsed, >=, 100000);

  /* The task queued behind it ran in a new worker. */
  result = test_result (g);
  g_variant_get (result, "(i)", &pid_after);
  g_assert_cmpint (pid_after, !=, pid);
  g_variant_unref (result);

  g_object_unref (f);
  g_object_unref (g);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* interrupt() of a pending future cancels it; of a finished one does
 * nothing. */
static void
test_interrupt_pending_and_finished (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *running, *queued[40], *done;
  ProcFuture *last;
  GError *error = NULL;
  GVariant *result;

  done = test_submit (executor, "echo", g_variant_new ("(s)", "done"));
  g_assert_true (proc_future_wait (done, TEST_TIMEOUT_USEC));

  running = test_submit (executor, "sleep_report", g_variant_new ("(u)", 500));
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = test_submit (executor, "echo", NULL);
  last = queued[G_N_ELEMENTS (queued) - 1];
  test_wait_started (running);

  g_assert_true (proc_future_interrupt (last));
  g_assert_true (proc_future_is_done (last));
  g_assert_cmpint (proc_future_get_state (last), ==, PROC_FUTURE_STATE_CANCELLED);
  result = proc_future_result (last, 0, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_false (proc_future_interrupt (done));
  result = proc_future_result (done, 0, &error);
  g_assert_no_error (error);
  test_assert_variant (result, g_variant_new ("(s)", "done"));
  g_variant_unref (result);

  result = test_result (running);
  g_variant_unref (result);

  g_object_unref (done);
  g_object_unref (running);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_object_unref (queued[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

typedef struct {
  GArray *order;
  guint n_destroyed;
  GThread *thread;
  ProcFuture *future;
} CallbackLog;

typedef struct {
  CallbackLog *log;
  guint index;
} CallbackItem;

static void
logging_done_cb (ProcFuture *future,
                 gpointer    user_data)
{
  CallbackItem *item = user_data;

  g_assert_true (future == item->log->future);
  g_assert_true (proc_future_is_done (future));
  g_assert_true (g_thread_self () == item->log->thread);
  g_array_append_val (item->log->order, item->index);
}

static void
logging_destroy (gpointer user_data)
{
  CallbackItem *item = user_data;

  item->log->n_destroyed++;
  g_free (item);
}

static void
add_logging_callback (ProcFuture  *future,
                      CallbackLog *log,
                      guint        index)
{
  CallbackItem *item = g_new0 (CallbackItem, 1);

  item->log = log;
  item->index = index;
  proc_future_add_done_callback (future, logging_done_cb, item, logging_destroy);
}

/* Done callbacks run once each, in registration order, in the adding
 * thread's context, never synchronously: also when added to a future that
 * is already done. */
static void
test_done_callbacks_order (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  CallbackLog log = { g_array_new (FALSE, FALSE, sizeof (guint)), 0, g_thread_self (), NULL };
  ProcFuture *f;

  f = test_submit (executor, "sleep", g_variant_new ("(u)", 100));
  log.future = f;
  for (guint i = 0; i < 5; i++)
    add_logging_callback (f, &log, i);

  /* Not run by the blocking wait itself. */
  g_assert_true (proc_future_wait (f, TEST_TIMEOUT_USEC));
  g_assert_cmpuint (log.order->len, ==, 0);

  g_assert_true (test_iterate_until_count (NULL, &log.order->len, 5));
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (g_array_index (log.order, guint, i), ==, i);

  /* Added to a done future: runs in a later iteration, not inside the
   * call. */
  add_logging_callback (f, &log, 5);
  add_logging_callback (f, &log, 6);
  g_assert_cmpuint (log.order->len, ==, 5);
  g_assert_true (test_iterate_until_count (NULL, &log.order->len, 7));
  g_assert_cmpuint (g_array_index (log.order, guint, 5), ==, 5);
  g_assert_cmpuint (g_array_index (log.order, guint, 6), ==, 6);

  /* Exactly once each, and every destroy notify runs. */
  test_drain_context (NULL);
  g_assert_cmpuint (log.order->len, ==, 7);
  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  g_assert_true (test_iterate_until_count (NULL, &log.n_destroyed, 7));
  g_assert_cmpuint (log.n_destroyed, ==, 7);

  g_array_unref (log.order);
}

/* A done callback runs for a cancelled future as well. */
static void
test_done_callback_cancelled (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  CallbackLog log = { g_array_new (FALSE, FALSE, sizeof (guint)), 0, g_thread_self (), NULL };
  ProcFuture *running, *queued[40], *last;

  running = test_submit (executor, "sleep_report", g_variant_new ("(u)", 500));
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = test_submit (executor, "echo", NULL);
  last = queued[G_N_ELEMENTS (queued) - 1];
  test_wait_started (running);

  log.future = last;
  add_logging_callback (last, &log, 0);
  g_assert_true (proc_future_cancel (last));
  g_assert_cmpuint (log.order->len, ==, 0);
  g_assert_true (test_iterate_until_count (NULL, &log.order->len, 1));
  g_assert_true (proc_future_is_cancelled (last));

  g_assert_true (proc_future_wait (running, TEST_TIMEOUT_USEC));
  g_object_unref (running);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_object_unref (queued[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
  g_assert_cmpuint (log.order->len, ==, 1);
  g_array_unref (log.order);
}

typedef struct {
  ProcFuture *future;
  GThread *helper;
  GMainContext *helper_context;
  gboolean ran;
  gboolean right_thread;
  gboolean right_context;
  gboolean timed_out;
} ThreadCallbackData;

static void
thread_done_cb (ProcFuture *future,
                gpointer    user_data)
{
  ThreadCallbackData *data = user_data;

  data->right_thread = g_thread_self () == data->helper;
  data->right_context = g_main_context_get_thread_default () == data->helper_context;
  data->ran = TRUE;
}

static gpointer
helper_thread (gpointer user_data)
{
  ThreadCallbackData *data = user_data;
  GMainContext *context = g_main_context_new ();

  data->helper = g_thread_self ();
  data->helper_context = context;
  g_main_context_push_thread_default (context);

  proc_future_add_done_callback (data->future, thread_done_cb, data, NULL);
  data->timed_out = !test_iterate_until_flag (context, &data->ran);

  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

typedef struct {
  gboolean ran;
  GThread *thread;
} MainCallbackData;

static void
main_done_cb (ProcFuture *future,
              gpointer    user_data)
{
  MainCallbackData *data = user_data;

  data->thread = g_thread_self ();
  data->ran = TRUE;
}

/* A callback added in a helper thread with its own thread-default context
 * runs in that thread; one added in the main thread runs in the main
 * thread. */
static void
test_done_callback_thread (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ThreadCallbackData data = { 0 };
  MainCallbackData main_data = { FALSE, NULL };
  GThread *thread;

  data.future = test_submit (executor, "sleep", g_variant_new ("(u)", 200));
  proc_future_add_done_callback (data.future, main_done_cb, &main_data, NULL);
  thread = g_thread_new ("helper", helper_thread, &data);
  g_thread_join (thread);

  g_assert_false (data.timed_out);
  g_assert_true (data.ran);
  g_assert_true (data.right_thread);
  g_assert_true (data.right_context);

  g_assert_true (test_iterate_until_flag (NULL, &main_data.ran));
  g_assert_true (main_data.thread == g_thread_self ());

  g_object_unref (data.future);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

typedef struct {
  GArray *fractions;
  GPtrArray *details;
  GThread *thread;
} ProgressLog;

static void
progress_cb (ProcFuture *future,
             double      fraction,
             GVariant   *detail,
             gpointer    user_data)
{
  ProgressLog *log = user_data;

  g_assert_true (g_thread_self () == log->thread);
  g_array_append_val (log->fractions, fraction);
  g_assert_nonnull (detail);
  g_assert_true (g_variant_is_of_type (detail, G_VARIANT_TYPE_STRING));
  g_ptr_array_add (log->details, g_variant_dup_string (detail, NULL));
}

/* Waits for three reports in @log, then checks them against @fractions
 * and @details. */
static void
assert_progress_log (ProgressLog  *log,
                     const double *fractions,
                     const char  **details)
{
  g_assert_true (test_iterate_until_count (NULL, &log->fractions->len, 3));
  test_drain_context (NULL);
  g_assert_cmpuint (log->fractions->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpfloat (g_array_index (log->fractions, double, i), ==, fractions[i]);
      g_assert_cmpstr (g_ptr_array_index (log->details, i), ==, details[i]);
    }
}

/* The progress signal arrives in the submitting thread, in order. */
static void
test_progress (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProgressLog log = { g_array_new (FALSE, FALSE, sizeof (double)),
                      g_ptr_array_new_with_free_func (g_free), g_thread_self () };
  ProcFuture *f;
  GVariant *result;

  f = test_submit (executor, "progress", NULL);
  g_signal_connect (f, "progress", G_CALLBACK (progress_cb), &log);

  result = test_result (f);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "()");
  g_variant_unref (result);

  assert_progress_log (&log, (double[]) { 0.25, 0.5, 1.0 }, (const char *[]) { "quarter", "half", "done" });
  g_assert_cmpfloat (proc_future_get_progress (f), ==, 1.0);

  g_signal_handlers_disconnect_by_data (f, &log);
  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  g_array_unref (log.fractions);
  g_ptr_array_unref (log.details);
}

/* Fractions out of range are clamped and NaN counts as 0.0, in the
 * worker: its reports, details included, arrive, and the worker lives. */
static void
test_progress_out_of_range (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProgressLog log = { g_array_new (FALSE, FALSE, sizeof (double)),
                      g_ptr_array_new_with_free_func (g_free), g_thread_self () };
  ProcFuture *f, *g;
  GVariant *result;

  f = test_submit (executor, "progress_out_of_range", NULL);
  g_signal_connect (f, "progress", G_CALLBACK (progress_cb), &log);
  result = test_result (f);
  g_variant_unref (result);

  assert_progress_log (&log, (double[]) { 0.0, 1.0, 0.0 }, (const char *[]) { "nan", "seven", "minus-inf" });

  /* The same worker runs the next task. */
  g = test_submit (executor, "pid", NULL);
  result = test_result (g);
  {
    gint32 pid;

    g_variant_get (result, "(i)", &pid);
    g_assert_cmpint (pid, ==, proc_future_get_worker_pid (f));
  }
  g_variant_unref (result);

  g_signal_handlers_disconnect_by_data (f, &log);
  g_object_unref (f);
  g_object_unref (g);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  g_array_unref (log.fractions);
  g_ptr_array_unref (log.details);
}

typedef struct {
  GArray *states;
  GThread *thread;
} StateLog;

static void
notify_state_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  StateLog *log = user_data;
  ProcFutureState state = proc_future_get_state (PROC_FUTURE (object));

  g_assert_true (g_thread_self () == log->thread);
  g_array_append_val (log->states, state);
}

static gboolean
saw_finished (gpointer user_data)
{
  StateLog *log = user_data;

  return log->states->len > 0
         && g_array_index (log->states, ProcFutureState, log->states->len - 1)
            == PROC_FUTURE_STATE_FINISHED;
}

/* notify::state arrives in the submitting thread; the states only move
 * forward and end with FINISHED. */
static void
test_notify_state (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  StateLog log = { g_array_new (FALSE, FALSE, sizeof (ProcFutureState)), g_thread_self () };
  ProcFuture *f;

  f = test_submit (executor, "sleep", g_variant_new ("(u)", 100));
  g_signal_connect (f, "notify::state", G_CALLBACK (notify_state_cb), &log);
  g_assert_true (test_iterate_until (NULL, saw_finished, &log, TEST_TIMEOUT_USEC));
  test_drain_context (NULL);

  for (guint i = 1; i < log.states->len; i++)
    g_assert_cmpint (g_array_index (log.states, ProcFutureState, i - 1), <,
                     g_array_index (log.states, ProcFutureState, i));
  g_assert_cmpint (g_array_index (log.states, ProcFutureState, log.states->len - 1), ==,
                   PROC_FUTURE_STATE_FINISHED);

  g_signal_handlers_disconnect_by_data (f, &log);
  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  g_array_unref (log.states);
}

typedef struct {
  GMainLoop *loop;
  GVariant *result;
  GError *error;
  gboolean done;
} WaitAsyncData;

static void
wait_async_cb (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  WaitAsyncData *data = user_data;

  data->result = proc_future_wait_finish (PROC_FUTURE (source), res, &data->error);
  g_assert_true ((data->result == NULL) != (data->error == NULL));
  data->done = TRUE;
  g_main_loop_quit (data->loop);
}

static gboolean
loop_timeout_cb (gpointer user_data)
{
  g_error ("the main loop did not finish within %d s",
           (int) (TEST_TIMEOUT_USEC / G_USEC_PER_SEC));
  return G_SOURCE_REMOVE;
}

static void
run_loop (WaitAsyncData *data)
{
  guint id = g_timeout_add ((guint) (TEST_TIMEOUT_USEC / 1000), loop_timeout_cb, NULL);

  if (!data->done)
    g_main_loop_run (data->loop);
  g_source_remove (id);
}

/* wait_async/_finish with a GMainLoop: the result, a task's error, and a
 * cancelled wait that leaves the task alone. */
static void
test_wait_async (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  WaitAsyncData data = { g_main_loop_new (NULL, FALSE), NULL, NULL, FALSE };
  GCancellable *cancellable;
  ProcFuture *f;
  GVariant *result;

  f = test_submit (executor, "add", g_variant_new ("(ii)", 1, 2));
  proc_future_wait_async (f, NULL, wait_async_cb, &data);
  g_assert_false (data.done);
  run_loop (&data);
  g_assert_no_error (data.error);
  test_assert_variant (data.result, g_variant_new ("(i)", 3));
  g_clear_pointer (&data.result, g_variant_unref);
  g_object_unref (f);

  /* On a done future it completes too (in a later iteration). */
  f = test_submit (executor, "fail",
                   g_variant_new ("(sis)", "proc-test-error-quark", 9, "nine"));
  g_assert_true (proc_future_wait (f, TEST_TIMEOUT_USEC));
  data.done = FALSE;
  proc_future_wait_async (f, NULL, wait_async_cb, &data);
  g_assert_false (data.done);
  run_loop (&data);
  g_assert_null (data.result);
  g_assert_error (data.error, TEST_ERROR, 9);
  g_assert_cmpstr (data.error->message, ==, "nine");
  g_clear_error (&data.error);
  g_object_unref (f);

  /* Cancelling the wait does not cancel the task. */
  f = test_submit (executor, "sleep", g_variant_new ("(u)", 300));
  cancellable = g_cancellable_new ();
  data.done = FALSE;
  proc_future_wait_async (f, cancellable, wait_async_cb, &data);
  g_cancellable_cancel (cancellable);
  run_loop (&data);
  g_assert_null (data.result);
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&data.error);
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(u)", 300));
  g_variant_unref (result);
  test_assert_finished (f);
  g_object_unref (cancellable);
  g_object_unref (f);

  g_main_loop_unref (data.loop);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

/* get_worker_pid names the process that ran the task. */
static void
test_worker_pid (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[6];

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "pid", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      GVariant *result = test_result (futures[i]);
      gint32 pid;

      g_variant_get (result, "(i)", &pid);
      g_assert_cmpint (pid, !=, getpid ());
      g_assert_cmpint (proc_future_get_worker_pid (futures[i]), ==, pid);
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/future/result/timeout", test_result_timeout);
  g_test_add_func ("/future/result/threads", test_result_from_threads);
  g_test_add_func ("/future/cancel", test_cancel);
  g_test_add_func ("/future/interrupt/sleep", test_interrupt_sleep);
  g_test_add_func ("/future/interrupt/hang", test_interrupt_hang);
  g_test_add_func ("/future/interrupt/pending-and-finished", test_interrupt_pending_and_finished);
  g_test_add_func ("/future/done-callback/order", test_done_callbacks_order);
  g_test_add_func ("/future/done-callback/cancelled", test_done_callback_cancelled);
  g_test_add_func ("/future/done-callback/thread", test_done_callback_thread);
  g_test_add_func ("/future/progress", test_progress);
  g_test_add_func ("/future/progress-out-of-range", test_progress_out_of_range);
  g_test_add_func ("/future/notify-state", test_notify_state);
  g_test_add_func ("/future/wait-async", test_wait_async);
  g_test_add_func ("/future/worker-pid", test_worker_pid);

  return g_test_run ();
}
