/* test-chaos.c: many tasks on few workers, some of them misbehaving
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 20,000 tasks (times $PROC_STRESS_SCALE) on 2 workers; 2 % of them, picked
 * at random with a printed seed ($PROC_STRESS_SEED repeats a run), crash
 * their worker in one of the ways a worker can: a segfault, an abort, an
 * _exit(n), a SIGKILL from outside (this test kills the worker when the
 * task reports its pid), a hang past the task's timeout, a huge result,
 * garbage on the control channel. Every well-behaved task must return its
 * own value (or its own error), every misbehaving one must fail with the
 * error code that says what happened, every future must resolve, and once
 * the executor is shut down no process, zombie or fd may be left.
 */

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"

#define N_TASKS        20000
#define MISBEHAVING    0.02
#define HUGE_SIZE      (32 * 1024 * 1024)
#define HANG_TIMEOUT   (200 * 1000)

typedef enum {
  /* well-behaved */
  KIND_ECHO,
  KIND_ADD,
  KIND_TASK_ERROR,
  /* misbehaving */
  KIND_SEGFAULT,
  KIND_ABORT,
  KIND_EXIT,
  KIND_SIGKILL,
  KIND_HANG,
  KIND_HUGE,
  KIND_GARBAGE,
  N_KINDS
} Kind;

#define FIRST_BAD KIND_SEGFAULT

static const char *kind_names[N_KINDS] = {
  "echo (result)",
  "add (result)",
  "fail_on (task's own error)",
  "segfault -> WORKER_DIED (SIGSEGV)",
  "abort -> WORKER_DIED (SIGABRT)",
  "_exit(n) -> WORKER_DIED (status n)",
  "SIGKILL from outside -> WORKER_DIED (SIGKILL)",
  "hang past timeout -> TASK_TIMEOUT",
  "32 MiB result -> result",
  "garbage on the channel -> PROTOCOL",
};

typedef struct _Chaos Chaos;

typedef struct {
  Chaos      *chaos;
  guint       index;
  Kind        kind;
  gint32      exit_status;
  GPid        killed_pid;
  ProcFuture *future;     /* until it is done */
} Item;

struct _Chaos {
  Item       *items;
  guint       n;
  guint       n_done;
  guint       counts[N_KINDS];
  GHashTable *worker_pids;
  guint8     *huge_pattern;
};

static void
sigkill_on_progress (ProcFuture *future,
                     double      fraction,
                     GVariant   *detail,
                     gpointer    user_data)
{
  Item *item = user_data;
  gint32 pid;

  if (item->killed_pid != 0)
    return;
  g_assert_true (g_variant_is_of_type (detail, G_VARIANT_TYPE ("(i)")));
  g_variant_get (detail, "(i)", &pid);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (pid, !=, getpid ());
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  item->killed_pid = pid;
}

static void
check_outcome (Item *item)
{
  ProcFuture *future = item->future;
  GError *error = NULL;
  GVariant *result;
  GPid pid = proc_future_get_worker_pid (future);

  test_assert_finished (future);
  g_assert_cmpint (pid, >, 0);
  g_hash_table_add (item->chaos->worker_pids, GINT_TO_POINTER (pid));

  result = proc_future_result (future, 0, &error);
  switch (item->kind)
    {
    case KIND_ECHO:
      {
        char *expected = g_strdup_printf ("item-%u", item->index);

        g_assert_no_error (error);
        test_assert_variant (result, g_variant_new ("(us)", item->index, expected));
        g_free (expected);
      }
      break;

    case KIND_ADD:
      g_assert_no_error (error);
      test_assert_variant (result, g_variant_new ("(i)", (gint32) item->index + 7));
      break;

    case KIND_TASK_ERROR:
      {
        char *expected = g_strdup_printf ("bad value %u", item->index);

        g_assert_null (result);
        g_assert_error (error, TEST_ERROR, (gint) item->index);
        g_assert_cmpstr (error->message, ==, expected);
        g_free (expected);
      }
      break;

    case KIND_SEGFAULT:
      g_assert_null (result);
      test_assert_worker_died (error, pid, SIGSEGV, 0);
      break;

    case KIND_ABORT:
      g_assert_null (result);
      test_assert_worker_died (error, pid, SIGABRT, 0);
      break;

    case KIND_EXIT:
      g_assert_null (result);
      test_assert_worker_died (error, pid, 0, item->exit_status);
      break;

    case KIND_SIGKILL:
      g_assert_null (result);
      g_assert_cmpint (item->killed_pid, ==, pid);
      test_assert_worker_died (error, pid, SIGKILL, 0);
      break;

    case KIND_HANG:
      g_assert_null (result);
      g_assert_error (error, PROC_ERROR, PROC_ERROR_TASK_TIMEOUT);
      break;

    case KIND_HUGE:
      {
        gconstpointer data;
        gsize size;

        g_assert_no_error (error);
        g_assert_cmpstr (g_variant_get_type_string (result), ==, "ay");
        data = g_variant_get_fixed_array (result, &size, 1);
        g_assert_cmpuint (size, ==, HUGE_SIZE);
        g_assert_true (memcmp (data, item->chaos->huge_pattern, size) == 0);
      }
      break;

    case KIND_GARBAGE:
      g_assert_null (result);
      g_assert_error (error, PROC_ERROR, PROC_ERROR_PROTOCOL);
      break;

    default:
      g_assert_not_reached ();
    }

  g_clear_pointer (&result, g_variant_unref);
  g_clear_error (&error);
}

static void
item_done (ProcFuture *future,
           gpointer    user_data)
{
  Item *item = user_data;

  g_assert_true (future == item->future);
  check_outcome (item);
  item->chaos->counts[item->kind]++;
  item->chaos->n_done++;
  g_clear_object (&item->future);
}

static gboolean
all_done (gpointer data)
{
  Chaos *chaos = data;

  return chaos->n_done == chaos->n;
}

static void
submit_item (ProcExecutor *executor,
             Item         *item)
{
  GError *error = NULL;
  GVariant *args = NULL;
  const char *task = NULL;
  gint64 timeout = -1;

  switch (item->kind)
    {
    case KIND_ECHO:
      {
        char *s = g_strdup_printf ("item-%u", item->index);

        task = "echo";
        args = g_variant_new ("(us)", item->index, s);
        g_free (s);
      }
      break;
    case KIND_ADD:
      task = "add";
      args = g_variant_new ("(ii)", (gint32) item->index, 7);
      break;
    case KIND_TASK_ERROR:
      task = "fail_on";
      args = g_variant_new ("(ii)", (gint32) item->index, (gint32) item->index);
      break;
    case KIND_SEGFAULT:
      task = "segfault";
      break;
    case KIND_ABORT:
      task = "abort";
      break;
    case KIND_EXIT:
      task = "exit";
      args = g_variant_new ("(i)", item->exit_status);
      break;
    case KIND_SIGKILL:
      /* Reports its pid, then sleeps for a minute: only the kill ends it. */
      task = "sleep_report";
      args = g_variant_new ("(u)", 60000);
      break;
    case KIND_HANG:
      task = "hang";
      timeout = HANG_TIMEOUT;
      break;
    case KIND_HUGE:
      task = "huge";
      args = g_variant_new ("(u)", HUGE_SIZE);
      break;
    case KIND_GARBAGE:
      task = "garbage";
      break;
    default:
      g_assert_not_reached ();
    }

  item->future = proc_executor_submit_full (executor, task, args, NULL, timeout, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (item->future);
  if (item->kind == KIND_SIGKILL)
    g_signal_connect (item->future, "progress", G_CALLBACK (sigkill_on_progress), item);
  proc_future_add_done_callback (item->future, item_done, item, NULL);
}

/* The first executor of the process makes GLib set up what it keeps for
 * the rest of the process (its worker thread, the child-watch machinery,
 * type classes): not a leak, so done before counting. */
static void
warm_up (void)
{
  ProcExecutor *executor = test_executor_new (2, "worker-argv", test_counting_worker_argv (), NULL);
  ProcFuture *ok = test_submit (executor, "echo", NULL);
  ProcFuture *crash = test_submit (executor, "abort", NULL);
  GVariant *result = test_result (ok);
  GError *error = test_result_error (crash);

  g_assert_error (error, PROC_ERROR, PROC_ERROR_WORKER_DIED);
  g_error_free (error);
  g_variant_unref (result);
  g_object_unref (ok);
  g_object_unref (crash);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

static void
test_chaos (void)
{
  Chaos chaos = { 0 };
  ProcExecutor *executor;
  GRand *rand;
  guint n_bad, fds_before, fds_after, children_before, children_after;
  guint *order;
  gint64 start, elapsed;
  GHashTableIter iter;
  gpointer key;

  warm_up ();
  fds_before = test_count_open_fds ();
  children_before = test_count_children ();

  rand = g_rand_new_with_seed (test_stress_seed ());
  chaos.n = test_stress_size (N_TASKS);
  chaos.items = g_new0 (Item, chaos.n);
  chaos.worker_pids = g_hash_table_new (NULL, NULL);
  chaos.huge_pattern = g_malloc (HUGE_SIZE);
  for (gsize i = 0; i < HUGE_SIZE; i++)
    chaos.huge_pattern[i] = (guint8) ((i * 31u + 7u) & 0xff);

  /* Exactly 2 % misbehave, at random places; every kind of misbehaviour
   * at least once. */
  n_bad = MAX ((guint) (chaos.n * MISBEHAVING + 0.5), N_KINDS - FIRST_BAD);
  n_bad = MIN (n_bad, chaos.n);
  order = g_new (guint, chaos.n);
  for (guint i = 0; i < chaos.n; i++)
    order[i] = i;
  for (guint i = chaos.n - 1; i > 0; i--)
    {
      guint j = (guint) g_rand_int_range (rand, 0, (gint32) i + 1);
      guint tmp = order[i];

      order[i] = order[j];
      order[j] = tmp;
    }
  for (guint i = 0; i < chaos.n; i++)
    {
      Item *item = &chaos.items[i];

      item->chaos = &chaos;
      item->index = i;
      /* Of the well-behaved, 1 in 20 fails with its own error. */
      if (g_rand_int_range (rand, 0, 20) == 0)
        item->kind = KIND_TASK_ERROR;
      else
        item->kind = g_rand_boolean (rand) ? KIND_ECHO : KIND_ADD;
    }
  for (guint b = 0; b < n_bad; b++)
    {
      Item *item = &chaos.items[order[b]];

      if (b < N_KINDS - FIRST_BAD)
        item->kind = FIRST_BAD + b;
      else
        item->kind = (Kind) g_rand_int_range (rand, FIRST_BAD, N_KINDS);
      item->exit_status = g_rand_int_range (rand, 0, 121);
    }
  g_free (order);

  g_test_message ("%u tasks on 2 workers, %u of them misbehaving", chaos.n, n_bad);

  executor = test_executor_new (2, "worker-argv", test_counting_worker_argv (), NULL);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < chaos.n; i++)
    submit_item (executor, &chaos.items[i]);

  /* Done callbacks and the SIGKILLs run here, in this thread's context. */
  if (!test_iterate_until (NULL, all_done, &chaos,
                           600 * G_USEC_PER_SEC * test_slow_factor ()))
    {
      guint shown = 0;

      for (guint i = 0; i < chaos.n && shown < 20; i++)
        if (chaos.items[i].future != NULL)
          {
            g_printerr ("unresolved: task %u (%s), state %d\n", i,
                        kind_names[chaos.items[i].kind],
                        proc_future_get_state (chaos.items[i].future));
            shown++;
          }
      g_error ("%u of %u futures did not resolve", chaos.n - chaos.n_done, chaos.n);
    }
  elapsed = g_get_monotonic_time () - start;

  g_assert_false (proc_executor_is_broken (executor));
  g_assert_cmpuint (proc_executor_get_n_completed (executor), ==, chaos.n);
  g_assert_cmpuint (proc_executor_get_n_pending (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_running (executor), ==, 0);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), <=, 2);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_assert_cmpuint (proc_executor_get_n_workers (executor), ==, 0);
  g_object_unref (executor);
  test_drain_context (NULL);

  for (Kind k = 0; k < N_KINDS; k++)
    g_test_message ("%6u  %s", chaos.counts[k], kind_names[k]);
  g_test_message ("%u tasks in %.1f s (%.0f tasks/s); %u worker processes in all",
                  chaos.n, elapsed / (double) G_USEC_PER_SEC,
                  chaos.n / (elapsed / (double) G_USEC_PER_SEC),
                  g_hash_table_size (chaos.worker_pids));

  {
    guint total = 0, bad = 0;

    for (Kind k = 0; k < N_KINDS; k++)
      {
        total += chaos.counts[k];
        if (k >= FIRST_BAD)
          bad += chaos.counts[k];
      }
    g_assert_cmpuint (total, ==, chaos.n);
    g_assert_cmpuint (bad, ==, n_bad);
    for (Kind k = FIRST_BAD; k < N_KINDS; k++)
      g_assert_cmpuint (chaos.counts[k], >=, 1);
  }

  /* Every worker that ever ran a task is gone: neither running nor a
   * zombie of ours. */
  g_hash_table_iter_init (&iter, chaos.worker_pids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (test_is_our_child (GPOINTER_TO_INT (key)))
      g_error ("worker %d is still a child of the test after shutdown",
               GPOINTER_TO_INT (key));

  fds_after = test_wait_open_fds (fds_before, TEST_TIMEOUT_USEC);
  children_after = test_count_children ();
  g_test_message ("fds: %u before, %u after; children: %u before, %u after",
                  fds_before, fds_after, children_before, children_after);
  g_assert_cmpuint (children_after, ==, children_before);
  /* At most: the first count may still have seen fds GLib's worker
   * thread was about to close (see test_wait_open_fds()). */
  g_assert_cmpuint (fds_after, <=, fds_before);

  g_hash_table_unref (chaos.worker_pids);
  g_free (chaos.huge_pattern);
  g_free (chaos.items);
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  test_init (&argc, &argv);

  g_test_add_func ("/stress/chaos", test_chaos);

  return g_test_run ();
}
