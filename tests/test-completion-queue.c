/* test-completion-queue.c: ProcCompletionQueue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Futures come back in completion order (not in the order they were
 * added), one at a time (next), in batches (take) or asynchronously
 * (next_async); done futures are ready at once; waits time out, and
 * close() wakes blocked waiters; a removed future is forgotten, pending
 * or ready; a queue serves futures of several executors; and it carries
 * thousands of futures.
 *
 * Completion order is made deterministic without timing: futures queued
 * behind a busy worker complete when they are cancelled, in the order the
 * test cancels them; and one worker runs its tasks in submission order.
 */

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test-util.h"

/* One worker, busy with a task that runs until interrupted: whatever is
 * submitted next stays PENDING. */
static ProcExecutor *
busy_executor_new (ProcFuture **sleeper)
{
  ProcExecutor *executor = test_executor_new (1, NULL);

  *sleeper = test_submit (executor, "sleep_report", g_variant_new ("(u)", 600000));
  test_wait_started (*sleeper);
  return executor;
}

static void
finish_sleeper (ProcFuture *sleeper)
{
  GError *error;

  g_assert_true (proc_future_interrupt (sleeper));
  error = test_result_error (sleeper);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_error_free (error);
}

/* The value of an 'echo (u)' future. */
static guint
echo_value (ProcFuture *future)
{
  GVariant *result = test_result (future);
  guint32 value;

  g_variant_get (result, "(u)", &value);
  g_variant_unref (result);
  return value;
}

static void
test_completion_order (void)
{
  const guint order[10] = { 7, 2, 9, 0, 4, 8, 1, 6, 3, 5 };
  ProcFuture *sleeper, *f, *futures[10], *more[6];
  ProcExecutor *executor = busy_executor_new (&sleeper);
  ProcCompletionQueue *queue = proc_completion_queue_new ();
  GPtrArray *batch;

  for (guint i = 0; i < 10; i++)
    futures[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));
  /* Added in reverse: the order of addition does not matter. */
  for (guint i = 10; i > 0; i--)
    proc_completion_queue_add (queue, futures[i - 1]);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 10);
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 0);
  g_assert_null (proc_completion_queue_next (queue, 0));

  /* They complete in the order they are cancelled ... */
  for (guint i = 0; i < 10; i++)
    g_assert_true (proc_future_cancel (futures[order[i]]));
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 10);

  /* ... and come back in that order. */
  for (guint i = 0; i < 10; i++)
    {
      f = proc_completion_queue_next (queue, 0);
      g_assert_true (f == futures[order[i]]);
      g_assert_true (proc_future_is_cancelled (f));
      g_object_unref (f);
    }
  g_assert_null (proc_completion_queue_next (queue, 0));
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 0);

  /* take() hands back every ready one, in order, and leaves the rest. */
  for (guint i = 0; i < G_N_ELEMENTS (more); i++)
    {
      more[i] = test_submit (executor, "echo", g_variant_new ("(u)", 100 + i));
      proc_completion_queue_add (queue, more[i]);
    }
  g_assert_true (proc_future_cancel (more[4]));
  g_assert_true (proc_future_cancel (more[1]));
  g_assert_true (proc_future_cancel (more[2]));
  batch = proc_completion_queue_take (queue, 0);
  g_assert_cmpuint (batch->len, ==, 3);
  g_assert_true (g_ptr_array_index (batch, 0) == more[4]);
  g_assert_true (g_ptr_array_index (batch, 1) == more[1]);
  g_assert_true (g_ptr_array_index (batch, 2) == more[2]);
  g_ptr_array_unref (batch);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 3);

  /* Real completions: the interrupted task first, then the one worker
   * runs the others in submission order. */
  proc_completion_queue_add (queue, sleeper);
  finish_sleeper (sleeper);
  f = proc_completion_queue_next (queue, TEST_TIMEOUT_USEC);
  g_assert_true (f == sleeper);
  g_object_unref (f);
  for (guint i = 0; i < 3; i++)
    {
      const guint expected[] = { 0, 3, 5 };

      f = proc_completion_queue_next (queue, TEST_TIMEOUT_USEC);
      g_assert_nonnull (f);
      g_assert_true (f == more[expected[i]]);
      test_assert_finished (f);
      g_assert_cmpuint (echo_value (f), ==, 100 + expected[i]);
      g_object_unref (f);
    }
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_null (proc_completion_queue_next (queue, 0));

  for (guint i = 0; i < 10; i++)
    g_object_unref (futures[i]);
  for (guint i = 0; i < G_N_ELEMENTS (more); i++)
    g_object_unref (more[i]);
  g_object_unref (sleeper);
  g_object_unref (queue);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

static void
test_already_done (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcCompletionQueue *queue = proc_completion_queue_new ();
  ProcFuture *done = test_submit (executor, "echo", g_variant_new ("(u)", 1));
  ProcFuture *failed = test_submit (executor, "fail_on", g_variant_new ("(ii)", 2, 2));
  ProcFuture *sleeper, *pending, *f;
  ProcExecutor *busy;
  GError *error;

  g_assert_true (proc_future_wait (done, TEST_TIMEOUT_USEC));
  g_assert_true (proc_future_wait (failed, TEST_TIMEOUT_USEC));

  /* Ready at once, and the queue holds its own reference. */
  proc_completion_queue_add (queue, done);
  proc_completion_queue_add (queue, failed);
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 2);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 0);
  g_object_unref (failed);

  f = proc_completion_queue_next (queue, 0);
  g_assert_true (f == done);
  g_assert_cmpuint (echo_value (f), ==, 1);
  g_object_unref (f);
  f = proc_completion_queue_next (queue, 0);
  g_assert_true (PROC_IS_FUTURE (f));
  error = test_result_error (f);
  g_assert_error (error, TEST_ERROR, 2);
  g_error_free (error);
  g_object_unref (f);

  /* A cancelled future is done too. */
  busy = busy_executor_new (&sleeper);
  pending = test_submit (busy, "echo", g_variant_new ("(u)", 3));
  /* Added twice while pending: handed back once. */
  proc_completion_queue_add (queue, pending);
  proc_completion_queue_add (queue, pending);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 1);
  g_assert_true (proc_future_cancel (pending));
  f = proc_completion_queue_next (queue, 0);
  g_assert_true (f == pending);
  g_object_unref (f);
  g_assert_null (proc_completion_queue_next (queue, 0));
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 0);

  finish_sleeper (sleeper);
  g_object_unref (sleeper);
  g_object_unref (pending);
  g_object_unref (done);
  g_object_unref (queue);
  proc_executor_shutdown (busy, TRUE, FALSE);
  g_object_unref (busy);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

/* remove(): a removed future is not handed back and wakes nobody, whether
 * it was pending or ready; added back, it is handed back as any other. */
static void
test_remove (void)
{
  ProcFuture *sleeper, *a, *b, *c, *f;
  ProcExecutor *executor = busy_executor_new (&sleeper);
  ProcCompletionQueue *queue = proc_completion_queue_new ();

  a = test_submit (executor, "echo", g_variant_new ("(u)", 1));
  b = test_submit (executor, "echo", g_variant_new ("(u)", 2));
  c = test_submit (executor, "echo", g_variant_new ("(u)", 3));
  proc_completion_queue_add (queue, a);
  proc_completion_queue_add (queue, b);
  proc_completion_queue_add (queue, c);

  /* Pending: removed, it completes unseen by the queue. */
  g_assert_true (proc_completion_queue_remove (queue, a));
  g_assert_false (proc_completion_queue_remove (queue, a));
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 2);
  g_assert_true (proc_future_cancel (a));
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 0);
  g_assert_null (proc_completion_queue_next (queue, 0));

  /* Ready: removed before it is taken. */
  g_assert_true (proc_future_cancel (b));
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 1);
  g_assert_true (proc_completion_queue_remove (queue, b));
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 0);
  g_assert_null (proc_completion_queue_next (queue, 0));

  /* Taken already: not in the queue any more. */
  g_assert_true (proc_future_cancel (c));
  f = proc_completion_queue_next (queue, 0);
  g_assert_true (f == c);
  g_object_unref (f);
  g_assert_false (proc_completion_queue_remove (queue, c));

  /* Added back once done: ready at once. A future never added is not in
   * the queue. */
  proc_completion_queue_add (queue, a);
  f = proc_completion_queue_next (queue, 0);
  g_assert_true (f == a);
  g_object_unref (f);
  g_assert_false (proc_completion_queue_remove (queue, sleeper));

  /* Removed and added back while pending: its real completion is handed
   * back. */
  proc_completion_queue_add (queue, sleeper);
  g_assert_true (proc_completion_queue_remove (queue, sleeper));
  proc_completion_queue_add (queue, sleeper);
  finish_sleeper (sleeper);
  f = proc_completion_queue_next (queue, TEST_TIMEOUT_USEC);
  g_assert_true (f == sleeper);
  g_object_unref (f);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 0);

  /* A reference the queue kept of what it forgot would be a leak, which
   * the valgrind and ASan runs of this suite report. */
  g_object_unref (b);
  g_object_unref (a);
  g_object_unref (c);
  g_object_unref (sleeper);
  g_object_unref (queue);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

static void
test_timeouts (void)
{
  ProcCompletionQueue *queue = proc_completion_queue_new ();
  const gint64 timeouts[] = { 20000, 50000 };
  ProcFuture *sleeper;
  ProcExecutor *executor;
  GPtrArray *batch;
  gint64 start, elapsed;

  /* 0 does not wait. */
  g_assert_null (proc_completion_queue_next (queue, 0));
  batch = proc_completion_queue_take (queue, 0);
  g_assert_cmpuint (batch->len, ==, 0);
  g_ptr_array_unref (batch);

  /* A short timeout waits that long, with nothing added ... */
  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      start = g_get_monotonic_time ();
      g_assert_null (proc_completion_queue_next (queue, timeouts[i]));
      elapsed = g_get_monotonic_time () - start;
      g_assert_cmpint (elapsed, >=, timeouts[i]);
      g_assert_cmpint (elapsed, <, timeouts[i] + TEST_TIMEOUT_USEC);

      start = g_get_monotonic_time ();
      batch = proc_completion_queue_take (queue, timeouts[i]);
      elapsed = g_get_monotonic_time () - start;
      g_assert_cmpuint (batch->len, ==, 0);
      g_ptr_array_unref (batch);
      g_assert_cmpint (elapsed, >=, timeouts[i]);
    }

  /* ... and with a future that does not complete in time. */
  executor = busy_executor_new (&sleeper);
  proc_completion_queue_add (queue, sleeper);
  start = g_get_monotonic_time ();
  g_assert_null (proc_completion_queue_next (queue, 30000));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 30000);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 1);

  /* A wait with a long timeout ends as soon as the future completes. */
  finish_sleeper (sleeper);
  batch = proc_completion_queue_take (queue, TEST_TIMEOUT_USEC);
  g_assert_cmpuint (batch->len, ==, 1);
  g_assert_true (g_ptr_array_index (batch, 0) == sleeper);
  g_ptr_array_unref (batch);

  g_object_unref (sleeper);
  g_object_unref (queue);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

typedef struct {
  ProcCompletionQueue *queue;
  gboolean             use_take;
  gint                 tid;        /* atomic */
  gint                 returned;   /* atomic */
  gint64               returned_at;
  guint                n_got;
} Waiter;

static gpointer
blocked_waiter (gpointer data)
{
  Waiter *w = data;

  g_atomic_int_set (&w->tid, (gint) syscall (SYS_gettid));
  if (w->use_take)
    {
      GPtrArray *batch = proc_completion_queue_take (w->queue, -1);

      w->n_got = batch->len;
      g_ptr_array_unref (batch);
    }
  else
    {
      ProcFuture *f = proc_completion_queue_next (w->queue, -1);

      w->n_got = f != NULL ? 1 : 0;
      g_clear_object (&f);
    }
  w->returned_at = g_get_monotonic_time ();
  g_atomic_int_set (&w->returned, TRUE);
  return NULL;
}

/* Polls /proc until thread @tid sleeps (blocked in its wait). */
static void
wait_thread_sleeping (gint tid)
{
  gint64 deadline = g_get_monotonic_time () + TEST_TIMEOUT_USEC;
  char *path = g_strdup_printf ("/proc/self/task/%d/stat", tid);

  for (;;)
    {
      char *contents = NULL;
      const char *p;
      gboolean sleeping = FALSE;

      if (g_file_get_contents (path, &contents, NULL, NULL))
        {
          p = strrchr (contents, ')');
          sleeping = p != NULL && p[1] == ' ' && p[2] == 'S';
        }
      g_free (contents);
      if (sleeping)
        break;
      if (g_get_monotonic_time () >= deadline)
        g_error ("thread %d never blocked", tid);
      g_usleep (1000); /* a polling interval, not a synchronisation */
    }
  g_free (path);
}

/* close() from another thread wakes waits that block forever. */
static void
test_close_wakes_waiters (void)
{
  ProcCompletionQueue *queue = proc_completion_queue_new ();
  ProcExecutor *executor = test_executor_new (1, NULL);
  Waiter waiters[2] = { { queue, TRUE, 0, 0, 0, 0 }, { queue, FALSE, 0, 0, 0, 0 } };
  GThread *threads[2];
  TestWatchdog *watchdog;
  ProcFuture *done, *f;
  gint64 closed_at;

  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("waiter", blocked_waiter, &waiters[i]);
  for (guint i = 0; i < 2; i++)
    {
      while (g_atomic_int_get (&waiters[i].tid) == 0)
        g_thread_yield ();
      wait_thread_sleeping (g_atomic_int_get (&waiters[i].tid));
      g_assert_false (g_atomic_int_get (&waiters[i].returned));
    }

  watchdog = test_watchdog_start (TEST_TIMEOUT_USEC, "the waiters woken by close()");
  closed_at = g_get_monotonic_time ();
  proc_completion_queue_close (queue);
  for (guint i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (waiters[i].returned);
      g_assert_cmpint (waiters[i].returned_at, >=, closed_at);
      g_assert_cmpuint (waiters[i].n_got, ==, 0);
    }
  test_watchdog_stop (watchdog);

  /* Closed: waits return at once, now and later ... */
  g_assert_null (proc_completion_queue_next (queue, -1));
  g_ptr_array_unref (proc_completion_queue_take (queue, -1));

  /* ... but futures that complete are still handed back. */
  done = test_submit (executor, "echo", g_variant_new ("(u)", 9));
  g_assert_true (proc_future_wait (done, TEST_TIMEOUT_USEC));
  proc_completion_queue_add (queue, done);
  f = proc_completion_queue_next (queue, -1);
  g_assert_true (f == done);
  g_object_unref (f);
  g_assert_null (proc_completion_queue_next (queue, -1));

  g_object_unref (done);
  g_object_unref (queue);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

typedef struct {
  ProcCompletionQueue *queue;
  GThread             *thread;
  guint                n_calls;
  ProcFuture          *future;
  GError              *error;
} AsyncData;

static void
next_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AsyncData *data = user_data;

  g_assert_true (g_thread_self () == data->thread);
  g_assert_true (source == G_OBJECT (data->queue));
  g_assert_null (data->future);
  g_assert_null (data->error);
  data->future = proc_completion_queue_next_finish (data->queue, result, &data->error);
  data->n_calls++;
}

static void
async_data_reset (AsyncData *data)
{
  g_clear_object (&data->future);
  g_clear_error (&data->error);
}

static void
test_next_async (void)
{
  GMainContext *context = g_main_context_new ();
  ProcCompletionQueue *queue = proc_completion_queue_new ();
  AsyncData data = { queue, g_thread_self (), 0, NULL, NULL };
  AsyncData second = { queue, g_thread_self (), 0, NULL, NULL };
  ProcExecutor *executor, *busy;
  ProcFuture *futures[3], *sleeper, *pending;
  GCancellable *cancellable;

  g_main_context_push_thread_default (context);
  executor = test_executor_new (1, NULL);

  /* Three tasks on one worker: handed back in submission order, in this
   * thread's context. */
  for (guint i = 0; i < 3; i++)
    {
      futures[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 10 + i));
      proc_completion_queue_add (queue, futures[i]);
    }
  for (guint i = 0; i < 3; i++)
    {
      proc_completion_queue_next_async (queue, NULL, next_cb, &data);
      g_assert_cmpuint (data.n_calls, ==, i);
      g_assert_true (test_iterate_until_count (context, &data.n_calls, i + 1));
      g_assert_no_error (data.error);
      g_assert_true (data.future == futures[i]);
      async_data_reset (&data);
    }

  /* A future that is ready already: still not answered synchronously. */
  proc_completion_queue_add (queue, futures[0]);
  proc_completion_queue_next_async (queue, NULL, next_cb, &data);
  g_assert_cmpuint (data.n_calls, ==, 3);
  g_assert_true (test_iterate_until_count (context, &data.n_calls, 4));
  g_assert_true (data.future == futures[0]);
  async_data_reset (&data);

  /* One at a time: a second call while one is in progress fails with
   * PENDING; cancelling the first ends it with CANCELLED. */
  busy = busy_executor_new (&sleeper);
  pending = test_submit (busy, "echo", g_variant_new ("(u)", 5));
  proc_completion_queue_add (queue, pending);
  cancellable = g_cancellable_new ();
  proc_completion_queue_next_async (queue, cancellable, next_cb, &data);
  proc_completion_queue_next_async (queue, NULL, next_cb, &second);
  g_assert_true (test_iterate_until_count (context, &second.n_calls, 1));
  g_assert_error (second.error, PROC_ERROR, PROC_ERROR_PENDING);
  g_assert_null (second.future);
  async_data_reset (&second);
  g_assert_cmpuint (data.n_calls, ==, 4);

  g_cancellable_cancel (cancellable);
  g_assert_true (test_iterate_until_count (context, &data.n_calls, 5));
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (data.future);
  async_data_reset (&data);
  g_object_unref (cancellable);

  /* An already cancelled cancellable: CANCELLED, in a later iteration. */
  cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  proc_completion_queue_next_async (queue, cancellable, next_cb, &data);
  g_assert_cmpuint (data.n_calls, ==, 5);
  g_assert_true (test_iterate_until_count (context, &data.n_calls, 6));
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  async_data_reset (&data);
  g_object_unref (cancellable);

  /* After a cancelled wait the queue serves the next one: the pending
   * future completes when cancelled. */
  proc_completion_queue_next_async (queue, NULL, next_cb, &data);
  g_assert_true (proc_future_cancel (pending));
  g_assert_true (test_iterate_until_count (context, &data.n_calls, 7));
  g_assert_no_error (data.error);
  g_assert_true (data.future == pending);
  async_data_reset (&data);

  /* close() answers a pending call with no future and no error. */
  proc_completion_queue_add (queue, sleeper);
  proc_completion_queue_next_async (queue, NULL, next_cb, &data);
  proc_completion_queue_close (queue);
  g_assert_true (test_iterate_until_count (context, &data.n_calls, 8));
  g_assert_no_error (data.error);
  g_assert_null (data.future);

  finish_sleeper (sleeper);
  for (guint i = 0; i < 3; i++)
    g_object_unref (futures[i]);
  g_object_unref (pending);
  g_object_unref (sleeper);
  g_object_unref (queue);
  proc_executor_shutdown (busy, TRUE, FALSE);
  g_object_unref (busy);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (context);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

/* Futures of several executors in one queue. */
static void
test_several_executors (void)
{
  const guint n_executors = 3, per_executor = 40;
  ProcExecutor *executors[3];
  ProcCompletionQueue *queue = proc_completion_queue_new ();
  GHashTable *seen = g_hash_table_new (NULL, NULL);
  guint total = 0;

  for (guint e = 0; e < n_executors; e++)
    executors[e] = test_executor_new (1 + e, NULL);
  for (guint i = 0; i < per_executor; i++)
    for (guint e = 0; e < n_executors; e++)
      {
        ProcFuture *f = test_submit (executors[e], "echo",
                                     g_variant_new ("(u)", e * 1000 + i));

        proc_completion_queue_add (queue, f);
        g_object_unref (f);
      }

  while (total < n_executors * per_executor)
    {
      GPtrArray *batch = proc_completion_queue_take (queue, TEST_TIMEOUT_USEC);

      g_assert_cmpuint (batch->len, >, 0);
      for (guint i = 0; i < batch->len; i++)
        {
          guint value = echo_value (g_ptr_array_index (batch, i));

          g_assert_cmpuint (value % 1000, <, per_executor);
          g_assert_cmpuint (value / 1000, <, n_executors);
          g_assert_true (g_hash_table_add (seen, GUINT_TO_POINTER (value + 1)));
        }
      total += batch->len;
      g_ptr_array_unref (batch);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, n_executors * per_executor);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (queue), ==, 0);
  g_assert_null (proc_completion_queue_next (queue, 0));

  for (guint e = 0; e < n_executors; e++)
    {
      proc_executor_shutdown (executors[e], TRUE, FALSE);
      g_object_unref (executors[e]);
    }
  g_hash_table_unref (seen);
  g_object_unref (queue);
}

typedef struct {
  ProcCompletionQueue *queue;
  guint                expected;
  guint                total;
  guint                batches;
  guint                largest;
  guint8              *seen;
} Consumer;

static gpointer
consumer_thread (gpointer data)
{
  Consumer *c = data;

  while (c->total < c->expected)
    {
      GPtrArray *batch = proc_completion_queue_take (c->queue, -1);

      g_assert_cmpuint (batch->len, >, 0);
      for (guint i = 0; i < batch->len; i++)
        {
          guint value = echo_value (g_ptr_array_index (batch, i));

          g_assert_cmpuint (value, <, c->expected);
          g_assert_cmpuint (c->seen[value], ==, 0);
          c->seen[value] = 1;
        }
      c->total += batch->len;
      c->batches++;
      c->largest = MAX (c->largest, batch->len);
      g_ptr_array_unref (batch);
    }
  return NULL;
}

/* The queue as the completion path of 5,000 tasks, taken in batches by a
 * thread of its own while they are submitted. */
static void
test_many_in_batches (void)
{
  const guint n = 5000;
  ProcExecutor *executor = test_executor_new (2, NULL);
  Consumer c = { proc_completion_queue_new (), n, 0, 0, 0, g_new0 (guint8, n) };
  TestWatchdog *watchdog;
  GThread *thread;

  watchdog = test_watchdog_start (120 * G_USEC_PER_SEC, "the consumer of 5000 futures");
  thread = g_thread_new ("consumer", consumer_thread, &c);
  for (guint i = 0; i < n; i++)
    {
      ProcFuture *f = test_submit (executor, "echo", g_variant_new ("(u)", i));

      proc_completion_queue_add (c.queue, f);
      g_object_unref (f);
    }
  g_thread_join (thread);
  test_watchdog_stop (watchdog);

  g_test_message ("%u futures taken in %u batches (%.1f on average, %u at most)",
                  c.total, c.batches, c.total / (double) c.batches, c.largest);
  g_assert_cmpuint (c.batches, >, 0);
  g_assert_cmpuint (c.total, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (c.seen[i], ==, 1);
  g_assert_cmpuint (proc_completion_queue_get_n_pending (c.queue), ==, 0);
  g_assert_cmpuint (proc_completion_queue_get_n_ready (c.queue), ==, 0);

  g_free (c.seen);
  g_object_unref (c.queue);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A queue dropped with futures pending and ready: the futures live on and
 * complete normally. */
static void
test_drop_with_pending (void)
{
  ProcFuture *sleeper, *pending[5], *done;
  ProcExecutor *executor = busy_executor_new (&sleeper);
  ProcCompletionQueue *queue = proc_completion_queue_new ();

  for (guint i = 0; i < G_N_ELEMENTS (pending); i++)
    {
      pending[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));
      proc_completion_queue_add (queue, pending[i]);
    }
  done = test_submit (executor, "echo", g_variant_new ("(u)", 99));
  g_assert_true (proc_future_cancel (done));
  proc_completion_queue_add (queue, done);
  proc_completion_queue_add (queue, sleeper);
  g_assert_cmpuint (proc_completion_queue_get_n_ready (queue), ==, 1);
  g_object_unref (queue);

  finish_sleeper (sleeper);
  for (guint i = 0; i < G_N_ELEMENTS (pending); i++)
    {
      g_assert_cmpuint (echo_value (pending[i]), ==, i);
      g_object_unref (pending[i]);
    }
  g_object_unref (done);
  g_object_unref (sleeper);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/completion-queue/completion-order", test_completion_order);
  g_test_add_func ("/completion-queue/already-done", test_already_done);
  g_test_add_func ("/completion-queue/remove", test_remove);
  g_test_add_func ("/completion-queue/timeouts", test_timeouts);
  g_test_add_func ("/completion-queue/close-wakes-waiters", test_close_wakes_waiters);
  g_test_add_func ("/completion-queue/next-async", test_next_async);
  g_test_add_func ("/completion-queue/several-executors", test_several_executors);
  g_test_add_func ("/completion-queue/many-in-batches", test_many_in_batches);
  g_test_add_func ("/completion-queue/drop-with-pending", test_drop_with_pending);

  return g_test_run ();
}
