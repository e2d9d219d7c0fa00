/* test-threads.c: many threads submitting, cancelling and waiting at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 8 threads share one executor and run 50,000 tasks in all (times
 * $PROC_STRESS_SCALE), each thread a random mix (seeded; the seed is
 * printed and $PROC_STRESS_SEED repeats it) of:
 *
 *  - submit + result;
 *  - submit + cancel (a cancelled future is CANCELLED, one that was not
 *    cancelled returns its value);
 *  - interrupt, of a task still queued, of one known to be running
 *    (cooperative), or of one that ignores it (its worker is killed);
 *  - proc_wait_futures() (ALL_COMPLETED or FIRST_COMPLETED);
 *  - proc_as_completed_*();
 *  - done callbacks, in the thread's own main context.
 *
 * Every result must be right, every future resolve, and a watchdog fails
 * the test if the threads do not finish (a deadlock, a lost wake-up).
 * Meant to run under AddressSanitizer and UBSan too (tools/test.sh).
 *
 * A second case is a storm of futures submitted, cancelled and dropped at
 * once from 8 threads (8 x 25,000), which is where creating and finalizing
 * futures concurrently is put to the test.
 */

#include <string.h>

#include "test-util.h"

#define N_THREADS 8
#define N_TASKS   50000
#define MAX_BATCH 16

typedef enum {
  OP_RESULT,
  OP_CANCEL,
  OP_INTERRUPT,
  OP_WAIT,
  OP_AS_COMPLETED,
  OP_DONE_CALLBACK,
  N_OPS
} Op;

static const char *op_names[N_OPS] = {
  "submit + result",
  "submit + cancel",
  "interrupt",
  "wait_futures",
  "as_completed",
  "done callbacks",
};

typedef struct {
  ProcExecutor *executor;
  guint         id;
  guint32       seed;
  guint         quota;        /* tasks to submit */

  /* Results, read by the main thread after the join. */
  guint         n_tasks;
  guint         ops[N_OPS];
  guint         n_cancelled;
  guint         n_not_cancelled;
  guint         n_interrupted_pending;
  guint         n_interrupted_running;
  guint         n_interrupted_too_late;
  guint         n_interrupt_kills;
} ThreadData;

/* Each task's value names its thread and its serial number. */
static GVariant *
task_args (ThreadData *td,
           guint       serial)
{
  return g_variant_new ("(uu)", td->id, serial);
}

static void
assert_echo (GVariant   *result,
             ThreadData *td,
             guint       serial)
{
  test_assert_variant (result, g_variant_new ("(uu)", td->id, serial));
}

static ProcFuture *
submit_echo (ThreadData *td)
{
  return test_submit (td->executor, "echo", task_args (td, td->n_tasks++));
}

/* The serial number of an echo future's task, from its result. */
static guint
echo_serial (ProcFuture *future,
             ThreadData *td)
{
  GVariant *result = test_result (future);
  guint32 thread, serial;

  g_assert_cmpstr (g_variant_get_type_string (result), ==, "(uu)");
  g_variant_get (result, "(uu)", &thread, &serial);
  g_assert_cmpuint (thread, ==, td->id);
  g_variant_unref (result);
  return serial;
}

static void
op_result (ThreadData *td)
{
  guint serial = td->n_tasks;
  ProcFuture *f = submit_echo (td);
  GVariant *result = test_result (f);

  assert_echo (result, td, serial);
  test_assert_finished (f);
  g_variant_unref (result);
  g_object_unref (f);
}

static void
op_cancel (ThreadData *td,
           GRand      *rand)
{
  guint serial = td->n_tasks;
  ProcFuture *f = submit_echo (td);
  GError *error = NULL;
  GVariant *result;

  /* Sometimes let it get ahead a little first. */
  if (g_rand_boolean (rand))
    proc_future_wait (f, g_rand_int_range (rand, 0, 2000));

  if (proc_future_cancel (f))
    {
      g_assert_true (proc_future_is_cancelled (f));
      g_assert_true (proc_future_is_done (f));
      result = proc_future_result (f, 0, &error);
      g_assert_null (result);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      td->n_cancelled++;
    }
  else
    {
      result = test_result (f);
      assert_echo (result, td, serial);
      test_assert_finished (f);
      g_variant_unref (result);
      td->n_not_cancelled++;
    }
  g_object_unref (f);
}

typedef struct {
  gboolean started;
} Started;

static void
started_cb (ProcFuture *future,
            double      fraction,
            GVariant   *detail,
            gpointer    user_data)
{
  ((Started *) user_data)->started = TRUE;
}

/* Interrupts a task, queued or running: a future whose interrupt() said
 * TRUE must end with G_IO_ERROR_CANCELLED (CANCELLED if it never ran,
 * FINISHED if it was stopped running); FALSE means it was done and has its
 * value. */
static void
op_interrupt (ThreadData   *td,
              GRand        *rand,
              GMainContext *context)
{
  gint how = g_rand_int_range (rand, 0, 20);
  guint serial = td->n_tasks;
  ProcFuture *f;
  GError *error = NULL;
  GVariant *result;
  gboolean was_running = FALSE;

  if (how == 0)
    {
      /* Ignores its cancellable: the worker is killed after cancel-grace. */
      Started started = { FALSE };
      gulong id;

      f = test_submit (td->executor, "hang", NULL);
      td->n_tasks++;
      id = g_signal_connect (f, "progress", G_CALLBACK (started_cb), &started);
      g_assert_true (test_iterate_until_flag (context, &started.started));
      g_signal_handler_disconnect (f, id);
      was_running = TRUE;
      td->n_interrupt_kills++;
    }
  else if (how < 8)
    {
      /* Honours its cancellable, interrupted once it is known to run. */
      Started started = { FALSE };
      gulong id;

      f = test_submit (td->executor, "sleep_report", g_variant_new ("(u)", 60000));
      td->n_tasks++;
      id = g_signal_connect (f, "progress", G_CALLBACK (started_cb), &started);
      g_assert_true (test_iterate_until_flag (context, &started.started));
      g_signal_handler_disconnect (f, id);
      was_running = TRUE;
    }
  else
    /* Whatever state it is in by now. */
    f = submit_echo (td);

  if (was_running)
    g_assert_cmpint (proc_future_get_state (f), ==, PROC_FUTURE_STATE_RUNNING);

  if (proc_future_interrupt (f))
    {
      g_assert_true (proc_future_wait (f, TEST_TIMEOUT_USEC));
      result = proc_future_result (f, 0, &error);
      g_assert_null (result);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      if (proc_future_is_cancelled (f))
        {
          g_assert_false (was_running);
          td->n_interrupted_pending++;
        }
      else
        {
          test_assert_finished (f);
          td->n_interrupted_running++;
        }
    }
  else
    {
      g_assert_false (was_running);
      result = test_result (f);
      assert_echo (result, td, serial);
      g_variant_unref (result);
      td->n_interrupted_too_late++;
    }
  g_object_unref (f);
  /* Notifications of the futures of this thread. */
  test_drain_context (context);
}

static void
op_wait (ThreadData *td,
         GRand      *rand,
         guint       n)
{
  ProcFuture *futures[MAX_BATCH];
  guint first = td->n_tasks;
  GPtrArray *done = NULL, *not_done = NULL;
  gboolean all = g_rand_boolean (rand);

  for (guint i = 0; i < n; i++)
    futures[i] = submit_echo (td);

  if (!all)
    {
      g_assert_true (proc_wait_futures (futures, n, PROC_WAIT_FIRST_COMPLETED,
                                        TEST_TIMEOUT_USEC, &done, &not_done));
      g_assert_cmpuint (done->len, >=, 1);
      g_assert_cmpuint (done->len + not_done->len, ==, n);
      for (guint i = 0; i < done->len; i++)
        g_assert_true (proc_future_is_done (g_ptr_array_index (done, i)));
      g_ptr_array_unref (done);
      g_ptr_array_unref (not_done);
    }

  g_assert_true (proc_wait_futures (futures, n, PROC_WAIT_ALL_COMPLETED,
                                    TEST_TIMEOUT_USEC, &done, &not_done));
  g_assert_cmpuint (done->len, ==, n);
  g_assert_cmpuint (not_done->len, ==, 0);
  g_ptr_array_unref (done);
  g_ptr_array_unref (not_done);

  for (guint i = 0; i < n; i++)
    {
      g_assert_true (proc_future_is_done (futures[i]));
      g_assert_cmpuint (echo_serial (futures[i], td), ==, first + i);
      g_object_unref (futures[i]);
    }
}

static void
op_as_completed (ThreadData *td,
                 guint       n)
{
  ProcFuture *futures[MAX_BATCH];
  gboolean seen[MAX_BATCH] = { FALSE };
  guint first = td->n_tasks;
  ProcAsCompleted *it;
  ProcFuture *f;
  GError *error = NULL;
  guint count = 0;

  for (guint i = 0; i < n; i++)
    futures[i] = submit_echo (td);

  it = proc_as_completed_new (futures, n, TEST_TIMEOUT_USEC);
  while ((f = proc_as_completed_next (it, &error)) != NULL)
    {
      guint serial = echo_serial (f, td);

      g_assert_cmpuint (serial, >=, first);
      g_assert_cmpuint (serial, <, first + n);
      g_assert_true (f == futures[serial - first]);
      g_assert_false (seen[serial - first]);
      seen[serial - first] = TRUE;
      count++;
      g_object_unref (f);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, n);
  g_object_unref (it);

  for (guint i = 0; i < n; i++)
    g_object_unref (futures[i]);
}

typedef struct {
  ThreadData *td;
  GThread    *thread;
  guint       n_called;
  guint       serial;
  guint      *counter;
} CallbackData;

static void
done_cb (ProcFuture *future,
         gpointer    user_data)
{
  CallbackData *cd = user_data;

  g_assert_true (g_thread_self () == cd->thread);
  g_assert_true (proc_future_is_done (future));
  g_assert_cmpuint (echo_serial (future, cd->td), ==, cd->serial);
  cd->n_called++;
  (*cd->counter)++;
}

static void
op_done_callbacks (ThreadData   *td,
                   GMainContext *context,
                   guint         n)
{
  ProcFuture *futures[MAX_BATCH];
  CallbackData cds[MAX_BATCH];
  guint counter = 0;

  for (guint i = 0; i < n; i++)
    {
      cds[i] = (CallbackData) { td, g_thread_self (), 0, td->n_tasks, &counter };
      futures[i] = submit_echo (td);
      proc_future_add_done_callback (futures[i], done_cb, &cds[i], NULL);
    }
  /* Never synchronously, in this thread's context. */
  g_assert_true (test_iterate_until_count (context, &counter, n));
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (cds[i].n_called, ==, 1);
      g_object_unref (futures[i]);
    }
  test_drain_context (context);
  g_assert_cmpuint (counter, ==, n);
}

static gpointer
thread_func (gpointer data)
{
  ThreadData *td = data;
  GMainContext *context = g_main_context_new ();
  GRand *rand = g_rand_new_with_seed (td->seed);

  g_main_context_push_thread_default (context);

  while (td->n_tasks < td->quota)
    {
      Op op = (Op) g_rand_int_range (rand, 0, N_OPS);
      guint left = td->quota - td->n_tasks;
      guint n = (guint) g_rand_int_range (rand, 1, MAX_BATCH + 1);

      n = MIN (n, left);

      switch (op)
        {
        case OP_RESULT:
          op_result (td);
          break;
        case OP_CANCEL:
          op_cancel (td, rand);
          break;
        case OP_INTERRUPT:
          op_interrupt (td, rand, context);
          break;
        case OP_WAIT:
          op_wait (td, rand, n);
          break;
        case OP_AS_COMPLETED:
          op_as_completed (td, n);
          break;
        case OP_DONE_CALLBACK:
          op_done_callbacks (td, context, n);
          break;
        default:
          g_assert_not_reached ();
        }
      td->ops[op]++;
    }

  test_drain_context (context);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_rand_free (rand);
  return NULL;
}

static void
test_threads (void)
{
  ProcExecutor *executor;
  ThreadData tds[N_THREADS];
  GThread *threads[N_THREADS];
  TestWatchdog *watchdog;
  guint32 seed = test_stress_seed ();
  guint total = test_stress_size (N_TASKS), n_tasks = 0;
  guint ops[N_OPS] = { 0 };
  guint cancelled = 0, not_cancelled = 0, int_pending = 0, int_running = 0;
  guint int_late = 0, int_kills = 0;
  gint64 start, elapsed;

  executor = test_executor_new (2, "cancel-grace", (gint64) 100000, NULL);

  watchdog = test_watchdog_start (600 * G_USEC_PER_SEC, "the 8 threads");
  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_THREADS; i++)
    {
      memset (&tds[i], 0, sizeof tds[i]);
      tds[i].executor = executor;
      tds[i].id = i;
      tds[i].seed = seed + i;
      tds[i].quota = total / N_THREADS + (i < total % N_THREADS ? 1 : 0);
      threads[i] = g_thread_new ("submitter", thread_func, &tds[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  elapsed = g_get_monotonic_time () - start;
  test_watchdog_stop (watchdog);

  for (guint i = 0; i < N_THREADS; i++)
    {
      g_assert_cmpuint (tds[i].n_tasks, ==, tds[i].quota);
      n_tasks += tds[i].n_tasks;
      for (Op op = 0; op < N_OPS; op++)
        ops[op] += tds[i].ops[op];
      cancelled += tds[i].n_cancelled;
      not_cancelled += tds[i].n_not_cancelled;
      int_pending += tds[i].n_interrupted_pending;
      int_running += tds[i].n_interrupted_running;
      int_late += tds[i].n_interrupted_too_late;
      int_kills += tds[i].n_interrupt_kills;
    }
  g_assert_cmpuint (n_tasks, ==, total);

  g_test_message ("%u tasks from %u threads in %.1f s", n_tasks, N_THREADS,
                  elapsed / (double) G_USEC_PER_SEC);
  for (Op op = 0; op < N_OPS; op++)
    g_test_message ("%6u  %s", ops[op], op_names[op]);
  g_test_message ("cancel: %u cancelled, %u too late (finished with their value)",
                  cancelled, not_cancelled);
  g_test_message ("interrupt: %u while pending (CANCELLED), %u while running (of which "
                  "%u ignored it and had their worker killed), %u too late",
                  int_pending, int_running, int_kills, int_late);

  /* Every future resolved: nothing pending or running is left. */
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_running (executor), ==, 0);
  g_assert_false (proc_executor_is_broken (executor));
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);
  test_drain_context (NULL);
}

/* ---- a storm of short-lived futures --------------------------------------- */

#define STORM_PER_THREAD 25000

typedef struct {
  ProcExecutor *executor;
  guint         id;
  guint         n;
  guint         n_cancelled;
  guint         n_ran;
} StormData;

/* Submits, cancels at once (3 in 4) and drops futures as fast as it can: futures
 * are created and finalized on every thread at once (and on the
 * executor's), all with the same task name. */
static gpointer
storm_thread (gpointer data)
{
  StormData *sd = data;

  for (guint i = 0; i < sd->n; i++)
    {
      ProcFuture *f = test_submit (sd->executor, "echo", g_variant_new ("(uu)", sd->id, i));

      /* One in four runs; the others are cancelled if still pending. */
      if (i % 4 != 3 && proc_future_cancel (f))
        {
          g_assert_true (proc_future_is_cancelled (f));
          sd->n_cancelled++;
        }
      else
        {
          GVariant *result = test_result (f);

          test_assert_variant (result, g_variant_new ("(uu)", sd->id, i));
          g_variant_unref (result);
          sd->n_ran++;
        }
      g_object_unref (f);
    }
  return NULL;
}

static void
test_storm (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  StormData sds[N_THREADS];
  GThread *threads[N_THREADS];
  TestWatchdog *watchdog;
  guint cancelled = 0, ran = 0;
  gint64 start = g_get_monotonic_time ();

  watchdog = test_watchdog_start (600 * G_USEC_PER_SEC, "the storm threads");
  for (guint i = 0; i < N_THREADS; i++)
    {
      sds[i] = (StormData) { executor, i, test_stress_size (STORM_PER_THREAD), 0, 0 };
      threads[i] = g_thread_new ("storm", storm_thread, &sds[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (sds[i].n_cancelled + sds[i].n_ran, ==, sds[i].n);
      cancelled += sds[i].n_cancelled;
      ran += sds[i].n_ran;
    }
  test_watchdog_stop (watchdog);

  g_test_message ("%u futures from %u threads in %.1f s: %u cancelled, %u ran",
                  cancelled + ran, N_THREADS,
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC,
                  cancelled, ran);
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_running (executor), ==, 0);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/stress/threads/mixed", test_threads);
  g_test_add_func ("/stress/threads/submit-cancel-storm", test_storm);

  return g_test_run ();
}
