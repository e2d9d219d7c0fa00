/* test-parent-death.c: workers do not outlive a parent killed with SIGKILL
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test runs a helper (this program again, with --helper) that creates
 * an executor with three workers: one busy with a task that ignores its
 * cancellable ('hang'), one busy with a task that honours it (a long
 * 'sleep_report'), and one idle. The helper prints their pids and waits.
 * The test kills the helper with SIGKILL, which gives it no chance to
 * clean up, and then polls /proc until every worker has exited: all must
 * be gone within one second.
 *
 * The test makes itself a child subreaper, so that the orphaned workers
 * become its children: it can then see their exit and reap them, whatever
 * the init process of the machine or container does. Each must exit
 * cleanly (status 0): under AddressSanitizer, LeakSanitizer checks what an
 * orphaned worker leaves behind as it exits.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

#define N_WORKERS 3
#define DEADLINE_USEC (1 * G_USEC_PER_SEC)

/* ---- the helper ---------------------------------------------------------- */

static int
helper_main (void)
{
  ProcExecutor *executor = test_executor_new (N_WORKERS, NULL);
  ProcFuture *hang, *sleeper, *idle;
  GPid hang_pid, sleep_pid;
  GVariant *result;
  gint32 idle_pid;

  /* Busy: ignores its cancellable, so only the orphan grace ends it. */
  hang = test_submit (executor, "hang", NULL);
  hang_pid = test_wait_started (hang);
  /* Busy: returns as soon as its cancellable trips. */
  sleeper = test_submit (executor, "sleep_report", g_variant_new ("(u)", 600000));
  sleep_pid = test_wait_started (sleeper);
  /* Idle after these tasks: a third worker, since the others are busy.
   * It has run a few hundred tasks, so that what a worker keeps per task
   * would show when it exits (under LeakSanitizer). */
  idle = test_submit (executor, "pid", NULL);
  result = test_result (idle);
  g_variant_get (result, "(i)", &idle_pid);
  g_variant_unref (result);
  g_object_unref (idle);
  for (guint i = 0; i < 300; i++)
    {
      idle = test_submit (executor, "echo", g_variant_new ("(u)", i));
      result = test_result (idle);
      test_assert_variant (result, g_variant_new ("(u)", i));
      g_variant_unref (result);
      g_assert_cmpint (proc_future_get_worker_pid (idle), ==, idle_pid);
      g_object_unref (idle);
    }

  g_assert_cmpint (hang_pid, !=, sleep_pid);
  g_assert_cmpint (idle_pid, !=, hang_pid);
  g_assert_cmpint (idle_pid, !=, sleep_pid);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, N_WORKERS);
  g_assert_true (proc_future_is_running (hang));
  g_assert_true (proc_future_is_running (sleeper));
  g_object_unref (hang);
  g_object_unref (sleeper);

  printf ("%d %d %d\n", (int) hang_pid, (int) sleep_pid, (int) idle_pid);
  fflush (stdout);

  /* Until killed. */
  for (;;)
    pause ();
  return 1;
}

/* ---- the test -------------------------------------------------------------- */

typedef struct {
  GPid        pid;
  const char *role;
  gint64      gone_after;  /* usec after the kill; -1 while alive */
  int         status;
  gboolean    reaped;      /* by us, with its status */
} Watched;

/* Whether @w has exited. As its parent now, we reap it: it has exited once
 * waitpid() says so (a zombie thread-group leader may still have threads
 * being torn down, so the 'Z' state alone is not enough). While its parent
 * is still the dying helper, it is about to become ours. A process that
 * is neither has exited when it is a zombie or gone. */
static gboolean
has_exited (Watched *w,
            GPid     helper_pid)
{
  char state = 0;
  GPid ppid = 0;
  pid_t r;

  if (!test_read_proc_stat (w->pid, &state, &ppid))
    return TRUE;
  if (ppid == helper_pid)
    return FALSE;
  if (ppid != getpid ())
    return state == 'Z' || state == 'X';

  r = waitpid (w->pid, &w->status, WNOHANG);
  g_assert_true (r >= 0 || errno == ECHILD);
  if (r == w->pid)
    w->reaped = TRUE;
  return r == w->pid;
}

static char *
describe_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("killed by signal %d", WTERMSIG (status));
  return g_strdup ("reaped by someone else");
}

static void
test_parent_killed (void)
{
  char *exe;
  GSubprocess *helper;
  GError *error = NULL;
  GDataInputStream *out;
  char *line;
  int pids[N_WORKERS];
  Watched watched[N_WORKERS] = {
    { 0, "busy, ignores cancellation ('hang')", -1, -1, FALSE },
    { 0, "busy, honours cancellation ('sleep_report')", -1, -1, FALSE },
    { 0, "idle", -1, -1, FALSE },
  };
  GPid helper_pid;
  gint64 killed_at, deadline, worst = 0;
  guint n_gone = 0;

  /* Orphans of the helper become our children. */
  g_assert_cmpint (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), ==, 0);

  /* This very program, in helper mode. */
  exe = g_file_read_link ("/proc/self/exe", &error);
  g_assert_no_error (error);
  helper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             exe, "--helper", NULL);
  g_assert_no_error (error);
  g_free (exe);
  helper_pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (helper), NULL, 10);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (helper));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    g_error ("the helper ended without printing its workers' pids");
  g_assert_cmpint (sscanf (line, "%d %d %d", &pids[0], &pids[1], &pids[2]), ==, N_WORKERS);
  g_free (line);

  for (guint i = 0; i < N_WORKERS; i++)
    {
      char state = 0;
      GPid ppid = 0;

      watched[i].pid = pids[i];
      g_assert_true (test_read_proc_stat (pids[i], &state, &ppid));
      g_assert_cmpint (ppid, ==, helper_pid);
      g_assert_cmpint (state, !=, 'Z');
      g_test_message ("worker %d: %s", pids[i], watched[i].role);
    }

  killed_at = g_get_monotonic_time ();
  g_assert_cmpint (kill (helper_pid, SIGKILL), ==, 0);

  /* Measure, with a deadline that fails the test: poll until every worker
   * has exited. Keep watching past the deadline, for the report. */
  deadline = killed_at + 5 * DEADLINE_USEC * test_slow_factor ();
  while (n_gone < N_WORKERS && g_get_monotonic_time () < deadline)
    {
      for (guint i = 0; i < N_WORKERS; i++)
        if (watched[i].gone_after < 0 && has_exited (&watched[i], helper_pid))
          {
            watched[i].gone_after = g_get_monotonic_time () - killed_at;
            n_gone++;
          }
      if (n_gone < N_WORKERS)
        g_usleep (500); /* a polling interval, not a synchronisation */
    }

  g_subprocess_wait (helper, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (helper));
  g_assert_cmpint (g_subprocess_get_term_sig (helper), ==, SIGKILL);

  for (guint i = 0; i < N_WORKERS; i++)
    {
      if (watched[i].gone_after < 0)
        {
          kill (watched[i].pid, SIGKILL);
          g_error ("worker %d (%s) still runs %.1f s after its parent was killed",
                   watched[i].pid, watched[i].role,
                   (g_get_monotonic_time () - killed_at) / (double) G_USEC_PER_SEC);
        }
      else
        {
          char *status = describe_status (watched[i].status);

          g_test_message ("worker %d (%s) gone %.0f ms after the parent's SIGKILL; %s",
                          watched[i].pid, watched[i].role,
                          watched[i].gone_after / 1000.0, status);
          /* A clean exit: no crash, and under AddressSanitizer no leak
           * (LeakSanitizer would make it exit with status 23). */
          g_assert_true (watched[i].reaped);
          if (!WIFEXITED (watched[i].status) || WEXITSTATUS (watched[i].status) != 0)
            g_error ("worker %d (%s) %s after its parent was killed",
                     watched[i].pid, watched[i].role, status);
          g_free (status);
        }
      worst = MAX (worst, watched[i].gone_after);
    }
  g_test_message ("every worker gone within %.0f ms", worst / 1000.0);
  g_assert_cmpint (worst, <, DEADLINE_USEC);

  g_object_unref (out);
  g_object_unref (helper);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 2 && strcmp (argv[1], "--helper") == 0)
    return helper_main ();

  test_init (&argc, &argv);

  g_test_add_func ("/stress/parent-death/sigkill", test_parent_killed);

  return g_test_run ();
}
