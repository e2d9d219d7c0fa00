/* test-executor.c: ProcExecutor — submission, results, shutdown, workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "test-util.h"
#include "test-maps.h"

/* 10,000 echo tasks on 2 workers: every result matches its input. */
static void
test_echo_many (void)
{
  const guint n = 10000;
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture **futures = g_new0 (ProcFuture *, n);

  for (guint i = 0; i < n; i++)
    {
      char *s = g_strdup_printf ("item-%u", i);
      futures[i] = test_submit (executor, "echo", g_variant_new ("(us)", i, s));
      g_free (s);
    }

  for (guint i = 0; i < n; i++)
    {
      GVariant *result = test_result (futures[i]);
      guint32 got;
      const char *s;
      char *expected = g_strdup_printf ("item-%u", i);

      g_assert_cmpstr (g_variant_get_type_string (result), ==, "(us)");
      g_variant_get (result, "(u&s)", &got, &s);
      g_assert_cmpuint (got, ==, i);
      g_assert_cmpstr (s, ==, expected);
      test_assert_finished (futures[i]);
      g_free (expected);
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }
  g_free (futures);

  g_assert_cmpuint (proc_executor_get_n_workers (executor), <=, 2);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_completed (executor), ==, n);
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_running (executor), ==, 0);
  g_object_unref (executor);
}

/* add (ii) -> (i), and NULL args mean (). */
static void
test_add_and_null_args (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f;
  GVariant *result;
  gint32 sum;

  f = test_submit (executor, "add", g_variant_new ("(ii)", 40, 2));
  result = test_result (f);
  g_variant_get (result, "(i)", &sum);
  g_assert_cmpint (sum, ==, 42);
  g_assert_cmpstr (proc_future_get_task_name (f), ==, "add");
  g_variant_unref (result);
  g_object_unref (f);

  f = test_submit (executor, "echo", NULL);
  result = test_result (f);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "()");
  g_variant_unref (result);
  g_object_unref (f);

  /* A task that returns NULL without an error yields (). */
  f = test_submit (executor, "print", g_variant_new ("(s)", ""));
  result = test_result (f);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "()");
  g_variant_unref (result);
  g_object_unref (f);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* Bad input at submit fails with INVALID_ARGUMENT, submit after shutdown
 * with SHUTDOWN; none of it breaks the pool. */
static void
test_submit_invalid (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  GError *error = NULL;
  ProcFuture *f;
  GVariant *result;

  f = proc_executor_submit (executor, NULL, g_variant_new ("(i)", 1), &error);
  g_assert_null (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  f = proc_executor_submit (executor, "echo", g_variant_new_int32 (5), &error);
  g_assert_null (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  f = proc_executor_submit_full (executor, "echo", g_variant_new_string ("x"),
                                 NULL, -1, NULL, &error);
  g_assert_null (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The pool still works. */
  f = test_submit (executor, "echo", g_variant_new ("(i)", 7));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(i)", 7));
  g_variant_unref (result);
  g_object_unref (f);

  g_assert_false (proc_executor_is_shutdown (executor));
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_true (proc_executor_is_shutdown (executor));
  g_assert_false (proc_executor_is_broken (executor));

  f = proc_executor_submit (executor, "echo", g_variant_new ("(i)", 1), &error);
  g_assert_null (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SHUTDOWN);
  g_clear_error (&error);

  f = proc_executor_submit_full (executor, "echo", NULL, NULL, -1, NULL, &error);
  g_assert_null (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SHUTDOWN);
  g_clear_error (&error);

  /* Shutting down again is harmless. */
  proc_executor_shutdown (executor, TRUE, FALSE);
  proc_executor_shutdown (executor, FALSE, TRUE);
  g_assert_true (proc_executor_is_shutdown (executor));

  g_object_unref (executor);
}

/* A name no module registered fails that task with UNKNOWN_TASK. */
static void
test_unknown_task (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f, *g;
  GError *error;
  GVariant *result;

  f = test_submit (executor, "no-such-task", NULL);
  g = test_submit (executor, "echo", g_variant_new ("(s)", "after"));

  error = test_result_error (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK);
  g_assert_nonnull (strstr (error->message, "no-such-task"));
  g_error_free (error);
  test_assert_finished (f);

  result = test_result (g);
  test_assert_variant (result, g_variant_new ("(s)", "after"));
  g_variant_unref (result);

  g_object_unref (f);
  g_object_unref (g);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A task's GError arrives with its own domain, code and message, both from
 * result() and from exception(). */
static void
test_task_error (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *f, *g, *ok;
  GError *error, *local = NULL;

  f = test_submit (executor, "fail",
                   g_variant_new ("(sis)", "proc-test-error-quark", 42,
                                  "it went wrong: äöü"));
  g = test_submit (executor, "fail",
                   g_variant_new ("(sis)", g_quark_to_string (G_IO_ERROR),
                                  G_IO_ERROR_NOT_FOUND, "nothing here"));
  ok = test_submit (executor, "echo", NULL);

  error = test_result_error (f);
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "it went wrong: äöü");
  g_error_free (error);
  test_assert_finished (f);

  error = proc_future_exception (f, 0, &local);
  g_assert_no_error (local);
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "it went wrong: äöü");
  g_error_free (error);

  error = test_result_error (g);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "nothing here");
  g_error_free (error);

  /* A message that is not UTF-8 cannot be a GVariant string: it arrives
   * made valid, with the task's domain and code, in a single result and
   * in a chunk of a map alike. */
  {
    ProcFuture *bad = test_submit (executor, "fail_invalid_utf8", g_variant_new ("()"));
    g_autoptr(ProcMapIter) iter = NULL;
    GVariant *item = NULL;

    error = test_result_error (bad);
    g_assert_error (error, TEST_ERROR, 7);
    g_assert_cmpstr (error->message, ==, "no file \xef\xbf\xbd\xef\xbf\xbd.txt");
    g_error_free (error);
    g_object_unref (bad);

    iter = proc_executor_map (executor, "fail_invalid_utf8", g_variant_new_parsed ("[(), ()]"),
                              2, 0, -1, &local);
    g_assert_no_error (local);
    g_assert_false (proc_map_iter_next (iter, &item, &local));
    g_assert_null (item);
    g_assert_error (local, TEST_ERROR, 7);
    g_assert_cmpstr (local->message, ==, "no file \xef\xbf\xbd\xef\xbf\xbd.txt");
    g_clear_error (&local);
  }

  /* A successful future has no exception. */
  g_assert_true (proc_future_wait (ok, TEST_TIMEOUT_USEC));
  error = proc_future_exception (ok, 0, &local);
  g_assert_no_error (local);
  g_assert_null (error);

  g_object_unref (f);
  g_object_unref (g);
  g_object_unref (ok);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* proc_executor_new() and the properties read back what was set. */
static void
test_properties (void)
{
  ProcExecutor *executor;
  const char * const *argv;
  const char * const *modules;
  guint max_workers = 0, mtpc = 0;
  gint64 task_timeout = 0, idle_timeout = 0, grace = 0;
  char *initializer = NULL;
  GVariant *initargs = NULL;

  executor = proc_executor_new (3);
  g_assert_cmpuint (proc_executor_get_max_workers (executor), ==, 3);
  argv = proc_executor_get_worker_argv (executor);
  g_assert_nonnull (argv);
  g_assert_nonnull (argv[0]);
  if (g_getenv ("PROCEXEC_WORKER") != NULL)
    g_assert_cmpstr (argv[0], ==, g_getenv ("PROCEXEC_WORKER"));
  g_assert_false (proc_executor_is_shutdown (executor));
  g_assert_false (proc_executor_is_broken (executor));
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_running (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_completed (executor), ==, 0);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);

  executor = test_executor_new (4,
                                "max-tasks-per-child", 5,
                                "task-timeout", (gint64) 7 * G_USEC_PER_SEC,
                                "idle-timeout", (gint64) 11 * G_USEC_PER_SEC,
                                "cancel-grace", (gint64) 13000,
                                "initializer", "init_ok",
                                "initargs", g_variant_new ("(s)", "arg"),
                                NULL);
  g_object_get (executor,
                "max-workers", &max_workers,
                "max-tasks-per-child", &mtpc,
                "task-timeout", &task_timeout,
                "idle-timeout", &idle_timeout,
                "cancel-grace", &grace,
                "initializer", &initializer,
                "initargs", &initargs,
                NULL);
  g_assert_cmpuint (max_workers, ==, 4);
  g_assert_cmpuint (mtpc, ==, 5);
  g_assert_cmpint (task_timeout, ==, 7 * G_USEC_PER_SEC);
  g_assert_cmpint (idle_timeout, ==, 11 * G_USEC_PER_SEC);
  g_assert_cmpint (grace, ==, 13000);
  g_assert_cmpstr (initializer, ==, "init_ok");
  g_assert_nonnull (initargs);
  test_assert_variant (initargs, g_variant_new ("(s)", "arg"));
  g_free (initializer);
  g_variant_unref (initargs);

  g_assert_cmpuint (proc_executor_get_max_workers (executor), ==, 4);
  g_assert_cmpuint (proc_executor_get_max_tasks_per_child (executor), ==, 5);
  g_assert_cmpint (proc_executor_get_task_timeout (executor), ==, 7 * G_USEC_PER_SEC);
  g_assert_cmpint (proc_executor_get_idle_timeout (executor), ==, 11 * G_USEC_PER_SEC);
  g_assert_cmpint (proc_executor_get_cancel_grace (executor), ==, 13000);
  g_assert_cmpstr (proc_executor_get_initializer (executor), ==, "init_ok");
  modules = proc_executor_get_modules (executor);
  g_assert_nonnull (modules);
  g_assert_cmpstr (modules[0], ==, test_module_path ());
  g_assert_null (modules[1]);

  proc_executor_set_task_timeout (executor, 123);
  g_assert_cmpint (proc_executor_get_task_timeout (executor), ==, 123);
  proc_executor_set_idle_timeout (executor, 0);
  g_assert_cmpint (proc_executor_get_idle_timeout (executor), ==, 0);
  proc_executor_set_cancel_grace (executor, 456);
  g_assert_cmpint (proc_executor_get_cancel_grace (executor), ==, 456);
  proc_executor_set_max_workers (executor, 2);
  g_assert_cmpuint (proc_executor_get_max_workers (executor), ==, 2);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* The initializer runs in every worker before its tasks. */
static void
test_initializer_ok (void)
{
  ProcExecutor *executor;
  ProcFuture *futures[10];

  executor = test_executor_new (2,
                                "initializer", "init_ok",
                                "initargs", g_variant_new ("(s)", "initialized"),
                                NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "init_check", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      GVariant *result = test_result (futures[i]);
      gboolean ran;
      const char *arg;

      g_variant_get (result, "(b&s)", &ran, &arg);
      g_assert_true (ran);
      g_assert_cmpstr (arg, ==, "initialized");
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }
  g_assert_false (proc_executor_is_broken (executor));

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);

  /* Without an initializer, it does not run. */
  executor = test_executor_new (1, NULL);
  futures[0] = test_submit (executor, "init_check", NULL);
  {
    GVariant *result = test_result (futures[0]);
    gboolean ran;
    const char *arg;

    g_variant_get (result, "(b&s)", &ran, &arg);
    g_assert_false (ran);
    g_variant_unref (result);
  }
  g_object_unref (futures[0]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* max-tasks-per-child=2: no worker runs more than 2 tasks, so 20 tasks on 2
 * workers need at least 10 distinct workers, and all tasks complete. */
static void
test_max_tasks_per_child (void)
{
  const guint n = 20;
  ProcExecutor *executor = test_executor_new (2, "max-tasks-per-child", 2, NULL);
  GHashTable *pids = g_hash_table_new (g_direct_hash, g_direct_equal);
  ProcFuture *futures[20];
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < n; i++)
    futures[i] = test_submit (executor, "pid", NULL);
  for (guint i = 0; i < n; i++)
    {
      GVariant *result = test_result (futures[i]);
      gint32 pid;
      guint count;

      g_variant_get (result, "(i)", &pid);
      g_assert_cmpint (pid, >, 0);
      g_assert_cmpint (proc_future_get_worker_pid (futures[i]), ==, pid);
      count = GPOINTER_TO_UINT (g_hash_table_lookup (pids, GINT_TO_POINTER (pid)));
      g_hash_table_insert (pids, GINT_TO_POINTER (pid), GUINT_TO_POINTER (count + 1));
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }

  g_hash_table_iter_init (&iter, pids);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpuint (GPOINTER_TO_UINT (value), <=, 2);
  g_assert_cmpuint (g_hash_table_size (pids), >=, n / 2);
  g_assert_cmpuint (g_hash_table_size (pids), >, 2);

  g_hash_table_unref (pids);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_completed (executor), ==, n);
  g_object_unref (executor);
}

/* A long task does not hold up later short ones while another worker is
 * free (Python keeps at most max-workers + 1 tasks handed out, from one
 * shared queue). A short task handed ahead of time to the worker busy with
 * the long one would wait for it. */
static void
test_no_head_of_line_blocking (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *warm[300], *long_task, *medium, *shorts[50];
  GError *error = NULL;

  /* Both workers up, and the executor has seen only short tasks. */
  for (guint i = 0; i < G_N_ELEMENTS (warm); i++)
    warm[i] = test_submit (executor, "echo", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (warm); i++)
    {
      g_variant_unref (test_result (warm[i]));
      g_object_unref (warm[i]);
    }

  /* One worker busy for long, the other for a moment: the short tasks
   * submitted now must run on the second one once it is free. */
  long_task = test_submit (executor, "sleep_report", g_variant_new ("(u)", 60000));
  test_wait_started (long_task);
  medium = test_submit (executor, "sleep_report", g_variant_new ("(u)", 300));
  test_wait_started (medium);

  for (guint i = 0; i < G_N_ELEMENTS (shorts); i++)
    shorts[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));
  for (guint i = 0; i < G_N_ELEMENTS (shorts); i++)
    {
      GVariant *result = proc_future_result (shorts[i], 10 * G_USEC_PER_SEC, &error);

      if (error != NULL)
        g_error ("short task %u of %u is stuck behind the long one (state %d): %s",
                 i, (guint) G_N_ELEMENTS (shorts), proc_future_get_state (shorts[i]),
                 error->message);
      test_assert_variant (result, g_variant_new ("(u)", i));
      g_variant_unref (result);
    }
  g_assert_false (proc_future_is_done (long_task));
  g_variant_unref (test_result (medium));
  g_object_unref (medium);

  proc_future_interrupt (long_task);
  g_assert_true (proc_future_wait (long_task, TEST_TIMEOUT_USEC));
  g_object_unref (long_task);
  for (guint i = 0; i < G_N_ELEMENTS (shorts); i++)
    g_object_unref (shorts[i]);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A task waits for a ready worker, not for a given starting one: the
 * oldest queued task goes to whichever worker is ready first, as in
 * CPython, whose workers take from one shared queue. Here one of the two
 * workers is held in its start (in a shell, before it execs the worker)
 * until the test releases it: both tasks must run on the other. */
static void
test_first_ready_worker_runs_oldest (void)
{
  /* $1: a folder; the first shell to make $1/held is held until a line
   * can be read from the fifo $1/release (for 2 minutes at most, so that
   * a failed test leaves no process behind). */
  static const char script[] =
    "d=$1; shift; "
    "if mkdir \"$d/held\" 2>/dev/null; then "
    "  echo $$ > \"$d/held/pid.tmp\" && mv \"$d/held/pid.tmp\" \"$d/held/pid\"; "
    "  timeout 120 head -n 1 \"$d/release\" > /dev/null; "
    "fi; "
    "exec \"$@\"";
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("proc-held-XXXXXX", &error);
  g_autofree char *release = NULL, *held = NULL, *held_pid = NULL, *contents = NULL;
  const char *argv[] = { "/bin/sh", "-c", script, "sh", dir, g_getenv ("PROCEXEC_WORKER"), NULL };
  ProcExecutor *executor;
  ProcFuture *futures[2];
  gint32 pids[2];
  int fd;

  g_assert_no_error (error);
  g_assert_nonnull (argv[5]);
  release = g_build_filename (dir, "release", NULL);
  held = g_build_filename (dir, "held", NULL);
  held_pid = g_build_filename (held, "pid", NULL);
  g_assert_cmpint (mkfifo (release, 0600), ==, 0);

  executor = test_executor_new (2, "worker-argv", argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "pid", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      GVariant *result = proc_future_result (futures[i], TEST_TIMEOUT_USEC, &error);

      if (error != NULL)
        g_error ("task %u waits for the held worker (state %d): %s",
                 i, proc_future_get_state (futures[i]), error->message);
      g_variant_get (result, "(i)", &pids[i]);
      g_variant_unref (result);
    }
  g_assert_cmpint (pids[0], ==, pids[1]);

  /* Opening the fifo waits for the held shell to open it: written then. */
  fd = open (release, O_WRONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, "\n", 1), ==, 1);
  close (fd);

  g_assert_true (g_file_get_contents (held_pid, &contents, NULL, NULL));
  g_assert_cmpint (atoi (contents), >, 0);
  g_assert_cmpint (atoi (contents), !=, pids[0]);

  /* The held one starts now and takes its share. */
  test_assert_pool_works (executor, 10);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    g_object_unref (futures[i]);

  g_assert_cmpint (g_unlink (held_pid), ==, 0);
  g_assert_cmpint (g_rmdir (held), ==, 0);
  g_assert_cmpint (g_unlink (release), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* shutdown(wait=TRUE) returns only when every queued future is done. */
static void
test_shutdown_wait (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[6];

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 50));
  proc_executor_shutdown (executor, TRUE, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      GVariant *result;
      GError *error = NULL;
      guint32 msec;

      g_assert_true (proc_future_is_done (futures[i]));
      result = proc_future_peek_result (futures[i], &error);
      g_assert_no_error (error);
      g_variant_get (result, "(u)", &msec);
      g_assert_cmpuint (msec, ==, 50);
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_completed (executor), ==, G_N_ELEMENTS (futures));
  g_object_unref (executor);
}

/* shutdown(wait=FALSE, cancel_futures=TRUE) with many queued tasks: every
 * future gets resolved, the queued ones as CANCELLED. */
static void
test_shutdown_cancel_futures (void)
{
  const guint n = 300;
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture **futures = g_new0 (ProcFuture *, n);
  guint n_cancelled = 0, n_finished = 0;
  GError *error = NULL;

  /* One worker, busy with the sleep: everything behind it is queued. */
  futures[0] = test_submit (executor, "sleep_report", g_variant_new ("(u)", 1000));
  for (guint i = 1; i < n; i++)
    futures[i] = test_submit (executor, "echo", g_variant_new ("(u)", i));
  test_wait_started (futures[0]);

  proc_executor_shutdown (executor, FALSE, TRUE);
  g_assert_true (proc_executor_is_shutdown (executor));
  g_assert_null (proc_executor_submit (executor, "echo", NULL, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SHUTDOWN);
  g_clear_error (&error);

  for (guint i = 0; i < n; i++)
    {
      g_assert_true (proc_future_wait (futures[i], TEST_TIMEOUT_USEC));
      g_assert_true (proc_future_is_done (futures[i]));

      if (proc_future_get_state (futures[i]) == PROC_FUTURE_STATE_CANCELLED)
        {
          GVariant *result;

          g_assert_true (proc_future_is_cancelled (futures[i]));
          result = proc_future_result (futures[i], 0, &error);
          g_assert_null (result);
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_clear_error (&error);
          n_cancelled++;
        }
      else
        {
          GVariant *result;

          g_assert_cmpint (proc_future_get_state (futures[i]), ==, PROC_FUTURE_STATE_FINISHED);
          result = proc_future_result (futures[i], 0, &error);
          g_assert_no_error (error);
          if (i == 0)
            test_assert_variant (result, g_variant_new ("(u)", 1000));
          else
            test_assert_variant (result, g_variant_new ("(u)", i));
          g_variant_unref (result);
          n_finished++;
        }
    }

  /* The sleep was running: it finished. The queue behind it was cancelled. */
  g_assert_cmpint (proc_future_get_state (futures[0]), ==, PROC_FUTURE_STATE_FINISHED);
  g_assert_cmpint (proc_future_get_state (futures[n - 1]), ==, PROC_FUTURE_STATE_CANCELLED);
  g_assert_cmpuint (n_cancelled + n_finished, ==, n);
  g_test_message ("%u finished, %u cancelled", n_finished, n_cancelled);

  for (guint i = 0; i < n; i++)
    g_object_unref (futures[i]);
  g_free (futures);
  g_object_unref (executor);
}

static void
shutdown_async_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  gboolean *done = user_data;
  GError *error = NULL;

  g_assert_true (proc_executor_shutdown_finish (PROC_EXECUTOR (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

/* shutdown_async completes in the caller's context once the queued work is
 * done. */
static void
test_shutdown_async (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[4];
  gboolean done = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "sleep", g_variant_new ("(u)", 30));
  proc_executor_shutdown_async (executor, FALSE, NULL, shutdown_async_cb, &done);
  g_assert_false (done);
  g_assert_true (test_iterate_until_flag (NULL, &done));

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      g_assert_true (proc_future_is_done (futures[i]));
      test_assert_finished (futures[i]);
      g_object_unref (futures[i]);
    }
  g_object_unref (executor);
}

typedef struct {
  guint n_done;
  guint n_ok;
  GError *last_error;
  GThread *thread;
} AsyncData;

static void
submit_async_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  AsyncData *data = user_data;
  GError *error = NULL;
  GVariant *result;

  g_assert_true (g_thread_self () == data->thread);
  result = proc_executor_submit_finish (PROC_EXECUTOR (source), res, &error);
  if (result != NULL)
    {
      g_assert_no_error (error);
      test_assert_variant (result, g_variant_new ("(s)", "async"));
      g_variant_unref (result);
      data->n_ok++;
    }
  else
    {
      g_assert_nonnull (error);
      g_clear_error (&data->last_error);
      data->last_error = error;
    }
  data->n_done++;
}

/* submit_async/_finish deliver the result in the caller's main context;
 * after shutdown the finish reports SHUTDOWN. */
static void
test_submit_async (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  AsyncData data = { 0, 0, NULL, g_thread_self () };

  for (guint i = 0; i < 5; i++)
    proc_executor_submit_async (executor, "echo", g_variant_new ("(s)", "async"),
                                NULL, submit_async_cb, &data);
  g_assert_cmpuint (data.n_done, ==, 0);
  g_assert_true (test_iterate_until_count (NULL, &data.n_done, 5));
  g_assert_cmpuint (data.n_ok, ==, 5);
  g_assert_null (data.last_error);

  /* A task error arrives through finish. */
  proc_executor_submit_async (executor, "fail",
                              g_variant_new ("(sis)", "proc-test-error-quark", 3, "async failure"),
                              NULL, submit_async_cb, &data);
  g_assert_true (test_iterate_until_count (NULL, &data.n_done, 6));
  g_assert_error (data.last_error, TEST_ERROR, 3);
  g_assert_cmpstr (data.last_error->message, ==, "async failure");
  g_clear_error (&data.last_error);

  proc_executor_shutdown (executor, TRUE, FALSE);
  proc_executor_submit_async (executor, "echo", g_variant_new ("(s)", "async"),
                              NULL, submit_async_cb, &data);
  g_assert_true (test_iterate_until_count (NULL, &data.n_done, 7));
  g_assert_error (data.last_error, PROC_ERROR, PROC_ERROR_SHUTDOWN);
  g_clear_error (&data.last_error);
  g_assert_cmpuint (data.n_ok, ==, 5);

  g_object_unref (executor);
  test_drain_context (NULL);
}

/* A file descriptor passed with submit_full reaches the task. */
static void
test_fd_passing (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  GUnixFDList *fd_list = g_unix_fd_list_new ();
  GError *error = NULL;
  const char payload[] = "bytes through a pipe\n\0and after a NUL";
  ProcFuture *f;
  GVariant *result;
  gconstpointer data;
  gsize size;
  int fds[2];
  int index;

  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  g_assert_cmpint (write (fds[1], payload, sizeof payload), ==, (int) sizeof payload);
  close (fds[1]);

  index = g_unix_fd_list_append (fd_list, fds[0], &error);
  g_assert_no_error (error);
  close (fds[0]);

  f = proc_executor_submit_full (executor, "readfd", g_variant_new ("(h)", index),
                                 fd_list, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f);
  g_object_unref (fd_list);

  result = test_result (f);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ay");
  data = g_variant_get_fixed_array (result, &size, 1);
  g_assert_cmpmem (data, size, payload, sizeof payload);
  g_variant_unref (result);
  g_object_unref (f);

  /* A handle without an fd list: refused at submit, or the task finds no
   * fd at that index. */
  f = proc_executor_submit (executor, "readfd", g_variant_new ("(h)", 0), &error);
  if (f == NULL)
    {
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  else
    {
      g_assert_no_error (error);
      error = test_result_error (f);
      g_assert_error (error, TEST_ERROR, 100);
      g_clear_error (&error);
      g_object_unref (f);
    }

  /* The worker still serves. */
  f = test_submit (executor, "echo", g_variant_new ("(s)", "still here"));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(s)", "still here"));
  g_variant_unref (result);
  g_object_unref (f);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

static guint8
pattern_byte (gsize i)
{
  return (guint8) ((i * 31u + 7u) & 0xff);
}

/* An 8 MiB result (memfd path), a 4 MiB argument and a 1 MiB value of a
 * maybe type arrive intact. */
static void
test_huge_payloads (void)
{
  const guint32 huge = 8 * 1024 * 1024;
  const gsize arg_size = 4 * 1024 * 1024 + 1;
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *f, *g, *small;
  GVariant *result;
  const guint8 *data;
  guint8 *arg;
  gsize size;

  f = test_submit (executor, "huge", g_variant_new ("(u)", huge));
  result = test_result (f);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ay");
  data = g_variant_get_fixed_array (result, &size, 1);
  g_assert_cmpuint (size, ==, huge);
  for (gsize i = 0; i < size; i++)
    if (data[i] != pattern_byte (i))
      g_error ("byte %" G_GSIZE_FORMAT " of the huge result is %u, expected %u",
               i, data[i], pattern_byte (i));
  g_variant_unref (result);
  g_object_unref (f);

  arg = g_malloc (arg_size);
  for (gsize i = 0; i < arg_size; i++)
    arg[i] = pattern_byte (i + 3);
  g = test_submit (executor, "echo",
                   g_variant_new ("(@ay)",
                                  g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                             arg, arg_size, 1)));
  small = test_submit (executor, "echo", g_variant_new ("(i)", 5));
  result = test_result (g);
  {
    GVariant *child = g_variant_get_child_value (result, 0);

    data = g_variant_get_fixed_array (child, &size, 1);
    g_assert_cmpmem (data, size, arg, arg_size);
    g_variant_unref (child);
  }
  g_variant_unref (result);
  result = test_result (small);
  test_assert_variant (result, g_variant_new ("(i)", 5));
  g_variant_unref (result);
  g_object_unref (g);
  g_object_unref (small);

  /* A large value of a type no D-Bus signature can spell (a maybe) goes
   * in a memfd both ways too. */
  {
    g_autofree char *text = g_strnfill (arg_size / 4, 'm');
    g_autoptr(GVariant) expected = g_variant_ref_sink (g_variant_new ("(msmi)", text, NULL));
    g = test_submit (executor, "echo", expected);
    result = test_result (g);
    g_assert_cmpvariant (result, expected);
    g_variant_unref (result);
    g_object_unref (g);
  }
  g_free (arg);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* What a task prints reaches the parent's stdout. */
static void
test_print_stdout (void)
{
  if (g_test_subprocess ())
    {
      ProcExecutor *executor = test_executor_new (1, NULL);
      ProcFuture *f = test_submit (executor, "print",
                                   g_variant_new ("(s)", "hello from the worker\n"));
      GVariant *result = test_result (f);

      g_variant_unref (result);
      g_object_unref (f);
      proc_executor_shutdown (executor, TRUE, FALSE);
      g_object_unref (executor);
      return;
    }

  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*hello from the worker*");
}

/* In a test's subprocess: a worker that prints "goodbye from atexit"
 * @delay_msec after it closed its channel is shut down with @grace_usec
 * of cancel-grace. */
static void
shutdown_worker_printing_at_exit (guint32 delay_msec,
                                  gint64  grace_usec)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f = test_submit (executor, "print_at_exit",
                               g_variant_new ("(su)", "goodbye from atexit\n", delay_msec));

  g_variant_unref (test_result (f));
  g_object_unref (f);
  proc_executor_set_cancel_grace (executor, grace_usec);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);
}

/* A worker asked to exit may still have work to do after it closed its
 * channel (atexit handlers, a language runtime's finalization): shutdown
 * lets it finish, within cancel-grace, instead of killing it at once. */
static void
test_shutdown_lets_worker_exit (void)
{
  if (g_test_subprocess ())
    {
      shutdown_worker_printing_at_exit (200, 20 * G_USEC_PER_SEC);
      return;
    }

  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*goodbye from atexit*");
}

/* ... but not for longer: one that does not end within cancel-grace is
 * killed, and shutdown returns. */
static void
test_shutdown_kills_worker_slow_to_exit (void)
{
  if (g_test_subprocess ())
    {
      shutdown_worker_printing_at_exit (600000, 50 * 1000);
      return;
    }

  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout_unmatched ("*goodbye from atexit*");
}

typedef struct {
  ProcExecutor *executor;
  guint n_notifies;
  GThread *thread;
} NotifyData;

static void
n_completed_notify_cb (GObject    *object,
                       GParamSpec *pspec,
                       gpointer    user_data)
{
  NotifyData *data = user_data;

  g_assert_true (g_thread_self () == data->thread);
  data->n_notifies++;
}

static gboolean
n_completed_is_5 (gpointer user_data)
{
  NotifyData *data = user_data;

  return data->n_notifies > 0 && proc_executor_get_n_completed (data->executor) == 5;
}

/* The counters and their notifications, in the creating thread. */
static void
test_counters (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  NotifyData data = { executor, 0, g_thread_self () };
  ProcFuture *futures[5];
  guint64 n_completed = 0;
  guint n_workers = 0;

  g_signal_connect (executor, "notify::n-completed",
                    G_CALLBACK (n_completed_notify_cb), &data);

  futures[0] = test_submit (executor, "sleep_report", g_variant_new ("(u)", 1000));
  for (guint i = 1; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "echo", NULL);
  test_wait_started (futures[0]);

  /* One worker, busy with the sleep; the rest is queued. */
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 1);
  g_assert_cmpuint (proc_executor_get_n_running (executor), >=, 1);
  g_assert_cmpuint (proc_executor_get_n_running (executor)
                    + proc_executor_get_n_pending (executor), ==, 5);
  g_assert_cmpuint (proc_executor_get_n_completed (executor), ==, 0);

  g_assert_true (test_iterate_until (NULL, n_completed_is_5, &data, TEST_TIMEOUT_USEC));
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_running (executor), ==, 0);
  g_object_get (executor, "n-completed", &n_completed, "n-workers", &n_workers, NULL);
  g_assert_cmpuint (n_completed, ==, 5);
  g_assert_cmpuint (n_workers, ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      g_assert_true (proc_future_is_done (futures[i]));
      g_object_unref (futures[i]);
    }
  g_signal_handlers_disconnect_by_data (executor, &data);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

typedef struct {
  ProcExecutor *executor;
  guint n_notifies;
} WorkersData;

static void
n_workers_notify_cb (GObject    *object,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  WorkersData *data = user_data;

  data->n_notifies++;
}

static gboolean
no_workers (gpointer user_data)
{
  WorkersData *data = user_data;

  return proc_executor_get_n_workers (data->executor) == 0;
}

/* idle-timeout: an idle worker exits, and a new one serves later work. */
static void
test_idle_timeout (void)
{
  ProcExecutor *executor = test_executor_new (1, "idle-timeout", (gint64) 100000, NULL);
  WorkersData data = { executor, 0 };
  ProcFuture *f;
  GVariant *result;
  gint32 pid1, pid2;

  g_signal_connect (executor, "notify::n-workers", G_CALLBACK (n_workers_notify_cb), &data);

  f = test_submit (executor, "pid", NULL);
  result = test_result (f);
  g_variant_get (result, "(i)", &pid1);
  g_variant_unref (result);
  g_object_unref (f);

  /* Woken by notify::n-workers, not by polling. */
  g_assert_true (test_iterate_until (NULL, no_workers, &data, TEST_TIMEOUT_USEC));
  g_assert_cmpuint (data.n_notifies, >, 0);

  f = test_submit (executor, "pid", NULL);
  result = test_result (f);
  g_variant_get (result, "(i)", &pid2);
  g_variant_unref (result);
  g_object_unref (f);
  g_assert_cmpint (pid1, !=, pid2);

  g_signal_handlers_disconnect_by_data (executor, &data);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

/* kill_workers: the running task fails, the queued ones are cancelled, and
 * the executor accepts no more work. */
static void
test_kill_workers (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *running, *queued[40];
  GError *error = NULL;
  ProcFuture *f;

  running = test_submit (executor, "hang", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = test_submit (executor, "echo", NULL);
  test_wait_started (running);

  proc_executor_kill_workers (executor);

  error = test_result_error (running);
  g_assert_true (error->domain == PROC_ERROR);
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    {
      g_assert_true (proc_future_wait (queued[i], TEST_TIMEOUT_USEC));
      g_assert_true (proc_future_is_done (queued[i]));
      if (!proc_future_is_cancelled (queued[i]))
        {
          GVariant *result = proc_future_result (queued[i], 0, &error);

          g_assert_null (result);
          g_assert_nonnull (error);
          g_clear_error (&error);
        }
    }
  g_assert_true (proc_future_is_cancelled (queued[G_N_ELEMENTS (queued) - 1]));

  f = proc_executor_submit (executor, "echo", NULL, &error);
  g_assert_null (f);
  g_assert_true (g_error_matches (error, PROC_ERROR, PROC_ERROR_SHUTDOWN)
                 || g_error_matches (error, PROC_ERROR, PROC_ERROR_BROKEN));
  g_clear_error (&error);

  /* Killing again, and shutting down after the kill, are harmless. */
  proc_executor_kill_workers (executor);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);

  g_object_unref (running);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_object_unref (queued[i]);
  g_object_unref (executor);
}

/* terminate_workers on a pool that never started a worker is a no-op, and
 * on a busy pool stops the running task. */
static void
test_terminate_workers (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  GError *error = NULL;
  ProcFuture *f;

  proc_executor_terminate_workers (executor);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);

  executor = test_executor_new (1, NULL);
  f = test_submit (executor, "sleep_report", g_variant_new ("(u)", 60000));
  test_wait_started (f);
  proc_executor_terminate_workers (executor);
  error = test_result_error (f);
  g_assert_true (error->domain == PROC_ERROR);
  g_clear_error (&error);
  g_object_unref (f);

  f = proc_executor_submit (executor, "echo", NULL, &error);
  g_assert_null (f);
  g_assert_nonnull (error);
  g_clear_error (&error);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);
}

/* Dropping the last reference without a shutdown still runs the queued
 * work: the futures complete. */
static void
test_unref_without_shutdown (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  ProcFuture *futures[20];

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    futures[i] = test_submit (executor, "add", g_variant_new ("(ii)", (gint32) i, 100));
  g_object_unref (executor);

  for (guint i = 0; i < G_N_ELEMENTS (futures); i++)
    {
      GVariant *result = test_result (futures[i]);
      gint32 sum;

      g_variant_get (result, "(i)", &sum);
      g_assert_cmpint (sum, ==, (gint32) i + 100);
      g_variant_unref (result);
      g_object_unref (futures[i]);
    }
}

/* Programming errors at public entry points are criticals, not crashes. */
static void
test_critical_submit_null_executor (void)
{
  if (g_test_subprocess ())
    {
      GError *error = NULL;

      g_assert_null (proc_executor_submit (NULL, "echo", NULL, &error));
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_executor_submit*");
}

static void
test_critical_shutdown_null_executor (void)
{
  if (g_test_subprocess ())
    {
      proc_executor_shutdown (NULL, TRUE, FALSE);
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_executor_shutdown*");
}

static void
test_critical_map_null_executor (void)
{
  if (g_test_subprocess ())
    {
      GError *error = NULL;

      g_assert_null (proc_executor_map (NULL, "echo",
                                        g_variant_new_array (G_VARIANT_TYPE ("(i)"), NULL, 0),
                                        1, 0, -1, &error));
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_executor_map*");
}

static void
test_critical_future_null (void)
{
  if (g_test_subprocess ())
    {
      GError *error = NULL;

      g_assert_null (proc_future_result (NULL, 0, &error));
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_future_result*");
}

static void
test_critical_cancel_null (void)
{
  if (g_test_subprocess ())
    {
      g_assert_false (proc_future_cancel (NULL));
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_future_cancel*");
}

static void
test_critical_map_iter_null (void)
{
  if (g_test_subprocess ())
    {
      GVariant *result = NULL;
      GError *error = NULL;

      g_assert_false (proc_map_iter_next (NULL, &result, &error));
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_map_iter_next*");
}

static void
test_critical_as_completed_null (void)
{
  if (g_test_subprocess ())
    {
      GError *error = NULL;

      g_assert_null (proc_as_completed_next (NULL, &error));
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*proc_as_completed_next*");
}

/* A shared buffer crosses as its own memfd, both ways: the worker maps
 * the parent's pages, the parent the worker's. Ordinary bytes are copied
 * into a memfd of the channel's. */
static void
test_shared_payloads (void)
{
  const gsize size = 2 * 1024 * 1024 + 5;
  g_autoptr(GError) error = NULL;
  ProcExecutor *executor = test_executor_new (2, NULL);
  g_autoptr(GBytes) shared = NULL;
  g_autofree guint8 *plain = g_malloc (size);
  ProcFuture *fs[4];
  GVariant *result;
  guint64 parent_inode, inode;
  const char *path;

  for (gsize i = 0; i < size; i++)
    plain[i] = pattern_byte (i);
  shared = proc_shared_bytes_new (plain, size, &error);
  g_assert_no_error (error);
  parent_inode = test_mapping_inode (g_bytes_get_data (shared, NULL), NULL);

  /* One region, sent to several tasks at once, is the same pages in each. */
  for (guint i = 0; i < G_N_ELEMENTS (fs); i++)
    fs[i] = test_submit (executor, "mapping",
                         g_variant_new ("(@ay)", g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, shared, TRUE)));
  for (guint i = 0; i < G_N_ELEMENTS (fs); i++)
    {
      result = test_result (fs[i]);
      g_variant_get (result, "(&st)", &path, &inode);
      g_assert_cmpuint (inode, ==, parent_inode);
      g_assert_nonnull (strstr (path, "procexec-shared"));
      g_variant_unref (result);
      g_object_unref (fs[i]);
    }

  fs[0] = test_submit (executor, "mapping",
                       g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, plain, size, 1)));
  result = test_result (fs[0]);
  g_variant_get (result, "(&st)", &path, &inode);
  g_assert_cmpuint (inode, !=, parent_inode);
  g_assert_nonnull (strstr (path, "procexec-payload"));
  g_variant_unref (result);
  g_object_unref (fs[0]);

  /* A result from a shared buffer in the worker, and the same bytes from
   * ordinary memory, arrive intact; only the first is the worker's pages. */
  fs[0] = test_submit (executor, "shared", g_variant_new ("(uy)", (guint32) size, 0x5a));
  fs[1] = test_submit (executor, "echo", g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, plain, size, 1)));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GVariant) array = NULL;
      g_autofree char *mapped = NULL;
      const guint8 *data;
      gsize n;

      result = test_result (fs[i]);
      array = g_variant_get_child_value (result, 0);
      data = g_variant_get_fixed_array (array, &n, 1);
      g_assert_cmpuint (n, ==, size);
      if (i == 0)
        {
          for (gsize j = 0; j < n; j++)
            if (data[j] != 0x5a)
              g_error ("byte %" G_GSIZE_FORMAT " of the shared result is %u", j, data[j]);
        }
      else
        g_assert_cmpmem (data, n, plain, size);
      test_mapping_inode (data, &mapped);
      g_assert_nonnull (strstr (mapped, i == 0 ? "procexec-shared" : "procexec-payload"));
      g_variant_unref (result);
      g_object_unref (fs[i]);
    }

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* A task sends fds back with its result, and only with a result. */
static void
test_result_fds (void)
{
  const char *text = "through the pool";
  g_autoptr(GError) error = NULL;
  ProcExecutor *executor = test_executor_new (1, NULL);
  ProcFuture *f;
  GVariant *result;
  GUnixFDList *fds;
  ProcMapIter *iter;
  char buf[32];
  gint32 handle;
  guint fds_before;
  int fd;

  /* Warm, so that the count below sees no worker's channel arrive. */
  f = test_submit (executor, "echo", g_variant_new ("()"));
  g_variant_unref (test_result (f));
  g_object_unref (f);
  fds_before = test_count_open_fds ();

  f = test_submit (executor, "pipe_result", g_variant_new ("(sb)", text, FALSE));
  result = test_result (f);
  g_variant_get (result, "(h)", &handle);
  fds = proc_future_get_result_fd_list (f);
  g_assert_nonnull (fds);
  g_assert_cmpint (g_unix_fd_list_get_length (fds), ==, 1);
  fd = g_unix_fd_list_get (fds, handle, &error);
  g_assert_no_error (error);
  g_assert_cmpint (read (fd, buf, sizeof buf), ==, (gssize) strlen (text));
  g_assert_cmpmem (buf, strlen (text), text, strlen (text));
  close (fd);
  g_variant_unref (result);
  g_object_unref (f);

  /* An error drops the fds the task set. */
  f = test_submit (executor, "pipe_result", g_variant_new ("(sb)", "lost", TRUE));
  error = test_result_error (f);
  g_assert_error (error, TEST_ERROR, 7);
  g_clear_error (&error);
  g_assert_null (proc_future_get_result_fd_list (f));
  g_object_unref (f);

  /* Every fd that came back was closed with its future. */
  g_assert_cmpuint (test_count_open_fds (), ==, fds_before);

  /* Tasks run by map cannot send fds: each such item fails, clearly. */
  iter = proc_executor_map (executor, "pipe_result", g_variant_new_parsed ("[('a', false), ('b', false)]"),
                            1, 0, -1, &error);
  g_assert_no_error (error);
  result = NULL;
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_null (result);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "map()"));
  g_clear_error (&error);
  g_object_unref (iter);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/executor/echo-10000", test_echo_many);
  g_test_add_func ("/executor/add-and-null-args", test_add_and_null_args);
  g_test_add_func ("/executor/submit/invalid", test_submit_invalid);
  g_test_add_func ("/executor/submit/unknown-task", test_unknown_task);
  g_test_add_func ("/executor/submit/async", test_submit_async);
  g_test_add_func ("/executor/task-error", test_task_error);
  g_test_add_func ("/executor/properties", test_properties);
  g_test_add_func ("/executor/counters", test_counters);
  g_test_add_func ("/executor/initializer/ok", test_initializer_ok);
  g_test_add_func ("/executor/max-tasks-per-child", test_max_tasks_per_child);
  g_test_add_func ("/executor/idle-timeout", test_idle_timeout);
  g_test_add_func ("/executor/no-head-of-line-blocking", test_no_head_of_line_blocking);
  g_test_add_func ("/executor/first-ready-worker-runs-oldest", test_first_ready_worker_runs_oldest);
  g_test_add_func ("/executor/shutdown/wait", test_shutdown_wait);
  g_test_add_func ("/executor/shutdown/cancel-futures", test_shutdown_cancel_futures);
  g_test_add_func ("/executor/shutdown/async", test_shutdown_async);
  g_test_add_func ("/executor/shutdown/unref-without-shutdown", test_unref_without_shutdown);
  g_test_add_func ("/executor/kill-workers", test_kill_workers);
  g_test_add_func ("/executor/terminate-workers", test_terminate_workers);
  g_test_add_func ("/executor/fd-passing", test_fd_passing);
  g_test_add_func ("/executor/huge-payloads", test_huge_payloads);
  g_test_add_func ("/executor/shared-payloads", test_shared_payloads);
  g_test_add_func ("/executor/result-fds", test_result_fds);
  g_test_add_func ("/executor/print-stdout", test_print_stdout);
  g_test_add_func ("/executor/shutdown/lets-worker-exit", test_shutdown_lets_worker_exit);
  g_test_add_func ("/executor/shutdown/kills-worker-slow-to-exit", test_shutdown_kills_worker_slow_to_exit);
  g_test_add_func ("/executor/critical/submit-null-executor", test_critical_submit_null_executor);
  g_test_add_func ("/executor/critical/shutdown-null-executor", test_critical_shutdown_null_executor);
  g_test_add_func ("/executor/critical/map-null-executor", test_critical_map_null_executor);
  g_test_add_func ("/executor/critical/future-result-null", test_critical_future_null);
  g_test_add_func ("/executor/critical/future-cancel-null", test_critical_cancel_null);
  g_test_add_func ("/executor/critical/map-iter-next-null", test_critical_map_iter_null);
  g_test_add_func ("/executor/critical/as-completed-next-null", test_critical_as_completed_null);

  return g_test_run ();
}
