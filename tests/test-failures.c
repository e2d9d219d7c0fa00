/* test-failures.c: workers that die, hang, time out or misbehave
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

/* SIGKILL of a worker in the middle of a task fails only that task, with
 * WORKER_DIED naming the pid and the signal; the queued and later tasks
 * succeed. */
static void
test_sigkill_mid_task (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *victim, *queued[20];
  GError *error;
  GPid pid;

  victim = test_submit (executor, "sleep_report", g_variant_new ("(u)", 60000));
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 5));
  pid = test_wait_started (victim);
  g_assert_cmpint (proc_future_get_worker_pid (victim), ==, pid);

  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  error = test_result_error (victim);
  test_assert_worker_died (error, pid, SIGKILL, 0);
  g_test_message ("%s", error->message);
  g_error_free (error);
  test_assert_finished (victim);

  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    {
      GVariant *result = test_result (queued[i]);

      test_assert_variant (result, g_variant_new ("(u)", 5));
      g_variant_unref (result);
      g_object_unref (queued[i]);
    }
  test_assert_pool_works (executor, 20);
  g_assert_false (proc_executor_is_broken (executor));

  g_object_unref (victim);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A task that crashes its worker fails alone, with WORKER_DIED naming the
 * pid and the signal or exit status; everything submitted around it
 * succeeds. */
static void
check_crash (const char *task,
             GVariant   *args,
             int         signum,
             int         exit_status)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *before[10], *crash, *after[30];
  GError *error;

  g_variant_ref_sink (args);
  test_submit_echoes (executor, before, G_N_ELEMENTS (before), 0);
  crash = test_submit (executor, task, args);
  test_submit_echoes (executor, after, G_N_ELEMENTS (after), 100);

  error = test_result_error (crash);
  test_assert_worker_died (error, proc_future_get_worker_pid (crash), signum, exit_status);
  g_test_message ("%s: %s", task, error->message);
  g_error_free (error);
  test_assert_finished (crash);

  test_assert_echoes (before, G_N_ELEMENTS (before), 0);
  test_assert_echoes (after, G_N_ELEMENTS (after), 100);
  g_assert_false (proc_executor_is_broken (executor));

  g_object_unref (crash);
  g_variant_unref (args);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_segfault (void)
{
  check_crash ("segfault", g_variant_new ("()"), SIGSEGV, 0);
}

static void
test_abort (void)
{
  check_crash ("abort", g_variant_new ("()"), SIGABRT, 0);
}

static void
test_exit_status (void)
{
  check_crash ("exit", g_variant_new ("(i)", 7), 0, 7);
}

/* The only task of a warm worker, waited for with result(): the waiting
 * thread reads the worker's socket itself. The worker exits leaving a
 * child that holds that socket open: its death must still be heard at
 * once, not when the child lets go. */
static void
test_exit_keeping_channel (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *warm = test_submit (executor, "echo", g_variant_new ("(u)", 1));
  ProcFuture *crash;
  GError *error;
  gint64 start;

  g_variant_unref (test_result (warm));
  g_object_unref (warm);

  start = g_get_monotonic_time ();
  crash = test_submit (executor, "exit_keeping_channel", g_variant_new ("(i)", 3));
  error = test_result_error (crash);
  test_assert_worker_died (error, proc_future_get_worker_pid (crash), 0, 3);
  g_error_free (error);
  /* The child holds the socket for 5 s. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);

  /* The pool goes on with a new worker. */
  warm = test_submit (executor, "echo", g_variant_new ("(u)", 2));
  g_variant_unref (test_result (warm));
  g_object_unref (warm);

  g_object_unref (crash);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static void
test_exit_zero (void)
{
  /* Exiting "successfully" in the middle of a task is still a death. */
  check_crash ("exit", g_variant_new ("(i)", 0), 0, 0);
}

/* A worker holds back the results of short tasks while it has more
 * queued, to write several at once; a crash in the next task must lose
 * none of them (the pool reads them from the worker's result log). The
 * worker is kept busy by a sleep while the tasks after it are sent, so
 * that it finds them all queued when the sleep ends: the echoes then run
 * back to back and their results are held when "abort" kills it. Without
 * the log, the first echo would fail as the task the worker died in. */
static void
test_crash_after_held_results (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *busy, *echo[8], *crash, *after[8];
  GError *error;

  /* Short tasks first, so that the pool sends the next ones ahead. */
  test_assert_pool_works (executor, 20);

  busy = test_submit (executor, "sleep", g_variant_new ("(u)", 10));
  test_submit_echoes (executor, echo, G_N_ELEMENTS (echo), 100);
  crash = test_submit (executor, "abort", NULL);
  test_submit_echoes (executor, after, G_N_ELEMENTS (after), 200);

  g_variant_unref (test_result (busy));
  test_assert_echoes (echo, G_N_ELEMENTS (echo), 100);
  error = test_result_error (crash);
  test_assert_worker_died (error, proc_future_get_worker_pid (crash), SIGABRT, 0);
  g_error_free (error);
  test_assert_echoes (after, G_N_ELEMENTS (after), 200);
  g_assert_false (proc_executor_is_broken (executor));

  g_object_unref (busy);
  g_object_unref (crash);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* Several crashes in a row do not break the pool. */
static void
test_repeated_crashes (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[12];

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = i % 2 == 0
                 ? test_submit (executor, "abort", NULL)
                 : test_submit (executor, "add", g_variant_new ("(ii)", (gint32) i, 1));
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      if (i % 2 == 0)
        {
          GError *error = test_result_error (futures[i]);

          g_assert_error (error, PROC_ERROR, PROC_ERROR_WORKER_DIED);
          g_error_free (error);
        }
      else
        {
          GVariant *result = test_result (futures[i]);

          test_assert_variant (result, g_variant_new ("(i)", (gint32) i + 1));
          g_variant_unref (result);
        }
      g_object_unref (futures[i]);
    }
  g_assert_false (proc_executor_is_broken (executor));
  test_assert_pool_works (executor, 10);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A per-task timeout (submit_full) on a task that never returns fails it
 * with TASK_TIMEOUT; the pool keeps working. */
static void
test_task_timeout (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  GError *error = NULL;
  ProcFuture *f, *quick;
  GVariant *result;
  gint64 start, elapsed;

  start = g_get_monotonic_time ();
  f = proc_executor_submit_full (executor, "hang", NULL, NULL, 200000, NULL, &error);
  g_assert_no_error (error);
  /* A timeout long enough does not fire. */
  quick = proc_executor_submit_full (executor, "sleep", g_variant_new ("(u)", 10), NULL,
                                     TEST_TIMEOUT_USEC, NULL, &error);
  g_assert_no_error (error);

  error = test_result_error (f);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, PROC_ERROR, PROC_ERROR_TASK_TIMEOUT);
  g_error_free (error);
  test_assert_finished (f);
  g_assert_cmpint (elapsed, >=, 200000);

  result = test_result (quick);
  test_assert_variant (result, g_variant_new ("(u)", 10));
  g_variant_unref (result);

  test_assert_pool_works (executor, 10);
  g_assert_false (proc_executor_is_broken (executor));

  g_object_unref (f);
  g_object_unref (quick);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* The executor's task-timeout applies to every task. */
static void
test_executor_task_timeout (void)
{
  ProcExecutor *executor = test_executor_new (1, "task-timeout", (gint64) 200000, NULL);
  ProcFuture *hang, *quick;
  GError *error;
  GVariant *result;

  hang = test_submit (executor, "hang", NULL);
  quick = test_submit (executor, "sleep", g_variant_new ("(u)", 10));

  error = test_result_error (hang);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_TASK_TIMEOUT);
  g_error_free (error);

  /* Queued behind the hung task: its timeout starts when it runs. */
  result = test_result (quick);
  test_assert_variant (result, g_variant_new ("(u)", 10));
  g_variant_unref (result);

  test_assert_pool_works (executor, 5);

  g_object_unref (hang);
  g_object_unref (quick);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static guint
count_lines (const char *path)
{
  char *contents = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  for (const char *p = contents; *p != '\0'; p++)
    if (*p == '\n')
      n++;
  g_free (contents);
  return n;
}

/* A failing initializer breaks the pool: pending futures fail with BROKEN
 * carrying the initializer's message, later submits fail with BROKEN, and
 * only a bounded number of workers is ever tried. */
static void
test_initializer_failure (void)
{
  const guint max_workers = 2;
  ProcExecutor *executor;
  ProcFuture *futures[20];
  GError *error = NULL;
  char *counter_path;
  ProcFuture *f;
  guint spawned;
  int fd;

  fd = g_file_open_tmp ("procexec-init-XXXXXX", &counter_path, &error);
  g_assert_no_error (error);
  close (fd);

  executor = test_executor_new (max_workers,
                                "initializer", "init_fail",
                                "initargs", g_variant_new ("(ss)", "init exploded", counter_path),
                                NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "echo", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      error = test_result_error (futures[i]);
      g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
      if (strstr (error->message, "init exploded") == NULL)
        g_error ("BROKEN message \"%s\" does not carry the initializer's message",
                 error->message);
      g_clear_error (&error);
      test_assert_finished (futures[i]);
      g_object_unref (futures[i]);
    }
  g_assert_true (proc_executor_is_broken (executor));

  f = proc_executor_submit (executor, "echo", NULL, &error);
  g_assert_null (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
  g_assert_nonnull (strstr (error->message, "init exploded"));
  g_clear_error (&error);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);

  spawned = count_lines (counter_path);
  g_test_message ("%u workers ran the failing initializer", spawned);
  g_assert_cmpuint (spawned, >=, 1);
  g_assert_cmpuint (spawned, <=, 2 * max_workers);

  g_unlink (counter_path);
  g_free (counter_path);
}

/* An unknown initializer task breaks the pool too. */
static void
test_initializer_unknown (void)
{
  ProcExecutor *executor = test_executor_new (1, "initializer", "no-such-initializer", NULL);
  ProcFuture *f = test_submit (executor, "echo", NULL);
  GError *error = test_result_error (f);

  g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
  g_error_free (error);
  g_assert_true (proc_executor_is_broken (executor));

  g_object_unref (f);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A worker that writes garbage on its control channel is killed; its task
 * fails with PROTOCOL; the pool goes on. */
static void
test_protocol_garbage (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *f;
  GError *error;

  f = test_submit (executor, "garbage", NULL);
  error = test_result_error (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_error_free (error);
  g_object_unref (f);

  test_assert_pool_works (executor, 10);
  g_assert_false (proc_executor_is_broken (executor));

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A worker program that starts but exits before it is ready (here: one
 * that is not a procexec worker at all) must not be respawned forever:
 * after a few such deaths in a row the pool breaks with a clear error. */
static void
test_early_deaths_break_the_pool (void)
{
  const char *argv[] = { "/bin/true", NULL };
  ProcExecutor *executor = test_executor_new (1, "worker-argv", argv, NULL);
  ProcFuture *futures[5];
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "echo", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      error = test_result_error (futures[i]);
      g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
      g_assert_nonnull (strstr (error->message, "died before they were ready"));
      g_assert_nonnull (strstr (error->message, "exited with status 0"));
      if (i == 0)
        g_test_message ("%s", error->message);
      g_clear_error (&error);
      g_object_unref (futures[i]);
    }

  g_assert_true (proc_executor_is_broken (executor));
  g_assert_null (proc_executor_submit (executor, "echo", NULL, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
  g_clear_error (&error);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);
}

/* A worker program that cannot be started fails the queued work with
 * SPAWN, breaks the pool (later submits fail with BROKEN), never hangs. */
static void
test_spawn_failure (void)
{
  const char *argv[] = { "/nonexistent/procexec-worker", NULL };
  ProcExecutor *executor;
  ProcFuture *f;
  GError *error = NULL;

  executor = test_executor_new (1, "worker-argv", argv, NULL);
  f = test_submit (executor, "echo", NULL);
  error = test_result_error (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SPAWN);
  g_assert_nonnull (strstr (error->message, "/nonexistent/procexec-worker"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_object_unref (f);

  g_assert_true (proc_executor_is_broken (executor));
  g_assert_null (proc_executor_submit (executor, "echo", NULL, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
  g_clear_error (&error);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/failures/sigkill-mid-task", test_sigkill_mid_task);
  g_test_add_func ("/failures/segfault", test_segfault);
  g_test_add_func ("/failures/abort", test_abort);
  g_test_add_func ("/failures/exit-status", test_exit_status);
  g_test_add_func ("/failures/exit-zero", test_exit_zero);
  g_test_add_func ("/failures/exit-keeping-channel", test_exit_keeping_channel);
  g_test_add_func ("/failures/crash-after-held-results", test_crash_after_held_results);
  g_test_add_func ("/failures/repeated-crashes", test_repeated_crashes);
  g_test_add_func ("/failures/task-timeout", test_task_timeout);
  g_test_add_func ("/failures/executor-task-timeout", test_executor_task_timeout);
  g_test_add_func ("/failures/initializer-failure", test_initializer_failure);
  g_test_add_func ("/failures/initializer-unknown", test_initializer_unknown);
  g_test_add_func ("/failures/protocol-garbage", test_protocol_garbage);
  g_test_add_func ("/failures/spawn-failure", test_spawn_failure);
  g_test_add_func ("/failures/early-deaths", test_early_deaths_break_the_pool);

  return g_test_run ();
}
