/* test-memory-limits.c: worker-max-rss and worker-memory-limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 1. worker-max-rss: a task that leaks (allocates, touches and keeps
 *    memory) grows its worker; once the worker's resident memory is past
 *    the threshold after a task, the next task runs in a fresh worker (a
 *    new pid) and the old one exits. No task is lost on the way.
 * 2. worker-memory-limit (RLIMIT_AS in the worker): a task allocating past
 *    it fails, with WORKER_DIED when the allocation aborts the worker
 *    (g_malloc) or with its own error when the task handles the failure
 *    (g_try_malloc); the pool goes on working, under the same limit.
 *    Skipped under AddressSanitizer, which reserves terabytes of address
 *    space and cannot run under RLIMIT_AS.
 */

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test-util.h"

#define MIB            (G_GUINT64_CONSTANT (1024) * 1024)
#define LEAK_MIB       16
#define RSS_ABOVE_BASE (40 * MIB)
/* The worker's memory moves a little between the task's own measurement
 * and the executor's: no claim is made within this margin. */
#define RSS_SLACK      (4 * MIB)

typedef struct {
  gint32  pid;
  guint64 rss;
} LeakResult;

static LeakResult
run_leak (ProcExecutor *executor,
          guint         mib)
{
  ProcFuture *f = test_submit (executor, "leak", g_variant_new ("(u)", mib));
  GVariant *result = test_result (f);
  LeakResult r;

  g_variant_get (result, "(it)", &r.pid, &r.rss);
  g_variant_unref (result);
  g_object_unref (f);
  g_assert_cmpint (r.pid, >, 0);
  g_assert_cmpuint (r.rss, >, 0);
  return r;
}

/* The resident memory of a fresh worker that ran one task. */
static guint64
measure_base_rss (void)
{
  ProcExecutor *executor = test_executor_new (1, "worker-argv", test_counting_worker_argv (), NULL);
  LeakResult r = run_leak (executor, 0);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  return r.rss;
}

static void
test_max_rss (void)
{
  guint64 base = measure_base_rss ();
  guint64 threshold = base + RSS_ABOVE_BASE;
  ProcExecutor *executor;
  LeakResult prev = { 0, 0 };
  guint n_recycled = 0, n_tasks = 0, n_burst = 24;
  ProcFuture *burst[24];
  GHashTable *burst_pids;

  g_test_message ("a fresh worker is %" G_GUINT64_FORMAT " KiB resident; worker-max-rss %"
                  G_GUINT64_FORMAT " KiB; each task leaks %u MiB",
                  base / 1024, threshold / 1024, LEAK_MIB);

  executor = test_executor_new (1,
                                "worker-max-rss", threshold,
                                "worker-argv", test_counting_worker_argv (),
                                NULL);
  g_assert_cmpuint (proc_executor_get_max_workers (executor), ==, 1);

  /* One at a time: each result says how big its worker was after it. */
  for (guint i = 0; i < 12; i++)
    {
      LeakResult r = run_leak (executor, LEAK_MIB);

      n_tasks++;
      g_test_message ("task %u: worker %d, %" G_GUINT64_FORMAT " KiB resident after it",
                      i, r.pid, r.rss / 1024);
      if (prev.pid != 0)
        {
          if (prev.rss > threshold + RSS_SLACK)
            {
              /* Recycled: a new worker, and the old one exits. */
              g_assert_cmpint (r.pid, !=, prev.pid);
              if (!test_wait_not_our_child (prev.pid, 10 * G_USEC_PER_SEC * test_slow_factor ()))
                g_error ("worker %d, recycled for its size, did not exit", prev.pid);
              n_recycled++;
            }
          else if (prev.rss + RSS_SLACK < threshold)
            /* Below the threshold: kept. */
            g_assert_cmpint (r.pid, ==, prev.pid);
        }
      prev = r;
    }
  g_test_message ("%u tasks one at a time: %u workers recycled", n_tasks, n_recycled);
  g_assert_cmpuint (n_recycled, >=, 2);

  /* Many at once (tasks are sent ahead to the worker): none is lost. */
  burst_pids = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < n_burst; i++)
    burst[i] = test_submit (executor, "leak", g_variant_new ("(u)", LEAK_MIB / 2));
  for (guint i = 0; i < n_burst; i++)
    {
      GVariant *result = test_result (burst[i]);
      gint32 pid;
      guint64 rss;

      g_variant_get (result, "(it)", &pid, &rss);
      g_assert_cmpint (pid, ==, proc_future_get_worker_pid (burst[i]));
      g_hash_table_add (burst_pids, GINT_TO_POINTER (pid));
      g_variant_unref (result);
      g_object_unref (burst[i]);
    }
  g_test_message ("%u tasks at once: all done, by %u workers", n_burst,
                  g_hash_table_size (burst_pids));
  g_assert_cmpuint (g_hash_table_size (burst_pids), >=, 2);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), <=, 1);
  g_assert_false (proc_executor_is_broken (executor));

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);
  g_hash_table_unref (burst_pids);
  test_drain_context (NULL);
}

static gint32
run_pid (ProcExecutor *executor)
{
  ProcFuture *f = test_submit (executor, "pid", NULL);
  GVariant *result = test_result (f);
  gint32 pid;

  g_variant_get (result, "(i)", &pid);
  g_variant_unref (result);
  g_object_unref (f);
  return pid;
}

static void
assert_limit (ProcExecutor *executor,
              guint64       limit)
{
  ProcFuture *f = test_submit (executor, "rlimit_as", NULL);
  GVariant *result = test_result (f);

  test_assert_variant (result, g_variant_new ("(tt)", limit, limit));
  g_variant_unref (result);
  g_object_unref (f);
}

static void
test_memory_limit (void)
{
  const guint64 limit = 1024 * MIB;
  guint64 value = 0;
  ProcExecutor *executor;
  ProcFuture *f;
  GVariant *result;
  GError *error;
  gint32 pid, pid2;
  struct rlimit own;

  if (test_under_asan ())
    {
      g_test_skip ("RLIMIT_AS (worker-memory-limit) is incompatible with AddressSanitizer, "
                   "which reserves terabytes of address space");
      return;
    }

  executor = test_executor_new (1, "worker-memory-limit", limit, NULL);
  g_object_get (executor, "worker-memory-limit", &value, NULL);
  g_assert_cmpuint (value, ==, limit);

  /* The limit is in force in the worker, and allows normal work. */
  assert_limit (executor, limit);
  pid = run_pid (executor);
  f = test_submit (executor, "alloc", g_variant_new ("(u)", 64));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(u)", 64));
  g_variant_unref (result);
  g_object_unref (f);
  g_assert_cmpint (run_pid (executor), ==, pid);

  /* Past it, a task that checks its allocation fails on its own ... */
  f = test_submit (executor, "try_alloc", g_variant_new ("(u)", 2048));
  error = test_result_error (f);
  g_assert_error (error, TEST_ERROR, ENOMEM);
  g_test_message ("try_alloc 2 GiB under a 1 GiB limit: %s", error->message);
  g_error_free (error);
  g_object_unref (f);
  g_assert_cmpint (run_pid (executor), ==, pid);

  /* ... and one whose allocation aborts ends its worker. */
  f = test_submit (executor, "alloc", g_variant_new ("(u)", 2048));
  error = test_result_error (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_WORKER_DIED);
  g_assert_true (test_message_has_number (error->message, pid));
  g_test_message ("alloc 2 GiB under a 1 GiB limit: %s", error->message);
  g_error_free (error);
  g_object_unref (f);

  /* The pool goes on, in a new worker under the same limit. */
  pid2 = run_pid (executor);
  g_assert_cmpint (pid2, !=, pid);
  assert_limit (executor, limit);
  f = test_submit (executor, "alloc", g_variant_new ("(u)", 64));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(u)", 64));
  g_variant_unref (result);
  g_object_unref (f);
  g_assert_false (proc_executor_is_broken (executor));

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);

  /* Without the property, the worker has this process's limit. */
  g_assert_cmpint (getrlimit (RLIMIT_AS, &own), ==, 0);
  g_assert_cmpuint (own.rlim_cur, ==, own.rlim_max);
  executor = test_executor_new (1, NULL);
  assert_limit (executor, own.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64) own.rlim_cur);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/stress/memory/max-rss-recycles", test_max_rss);
  g_test_add_func ("/stress/memory/address-space-limit", test_memory_limit);

  return g_test_run ();
}
