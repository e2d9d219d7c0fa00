/* test-bad-input.c: bad input at every public entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every public function, given bad input, must answer with a GError (whose
 * domain and code are checked here) or, for programming errors (NULL
 * objects, wrong types), with a g_return_if_fail() critical that
 * g_test_trap_subprocess() traps; never with a crash or a hang. Invalid
 * property values get GObject's warning. test-executor.c's critical/
 * cases and the invalid-input cases of test-executor.c and test-map.c are
 * not repeated here.
 */

#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "test-util.h"

/* ---- fixtures ------------------------------------------------------------ */

/* An executor that never starts a process: its workers cannot be spawned,
 * so its futures fail with SPAWN. Enough for argument checks. */
static ProcExecutor *
inert_executor_new (void)
{
  const char *argv[] = { "/nonexistent/procexec-worker", NULL };

  return test_executor_new (1, "worker-argv", argv, NULL);
}

/* A real future, cheaply (no process). */
static ProcFuture *
inert_future_new (void)
{
  ProcExecutor *executor = inert_executor_new ();
  ProcFuture *future = test_submit (executor, "echo", NULL);

  g_object_unref (executor);
  return future;
}

/* A GAsyncResult that belongs to no procexec object. */
static GAsyncResult *
foreign_result_new (void)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GTask *task = g_task_new (object, NULL, NULL, NULL);

  g_object_unref (object);
  return G_ASYNC_RESULT (task);
}

static void
never_called_async (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_assert_not_reached ();
}

static void
never_called_done (ProcFuture *future,
                   gpointer    user_data)
{
  g_assert_not_reached ();
}

static GVariant *
never_called_task (ProcTask  *task,
                   GVariant  *args,
                   gpointer   user_data,
                   GError   **error)
{
  g_assert_not_reached ();
  return NULL;
}

static GVariant *
end_of_input (gpointer   user_data,
              GError   **error)
{
  return NULL;
}

/* ---- criticals ------------------------------------------------------------ */

/* Each case runs in a subprocess (criticals are fatal in tests) and must
 * die of the critical whose text matches @pattern, not of anything else. */
typedef struct {
  const char *name;
  void      (*func) (void);
  const char *pattern;
} CriticalCase;

/* ProcExecutor */
static void c_get_max_workers_null (void) { proc_executor_get_max_workers (NULL); }
static void c_set_max_workers_null (void) { proc_executor_set_max_workers (NULL, 2); }
static void c_set_max_workers_zero (void) { proc_executor_set_max_workers (inert_executor_new (), 0); }
static void c_set_task_timeout_negative (void) { proc_executor_set_task_timeout (inert_executor_new (), -1); }
static void c_set_idle_timeout_negative (void) { proc_executor_set_idle_timeout (inert_executor_new (), -5); }
static void c_set_cancel_grace_negative (void) { proc_executor_set_cancel_grace (inert_executor_new (), -1); }
static void c_get_worker_argv_null (void) { proc_executor_get_worker_argv (NULL); }
static void c_get_modules_null (void) { proc_executor_get_modules (NULL); }
static void c_get_initializer_null (void) { proc_executor_get_initializer (NULL); }
static void c_get_initargs_null (void) { proc_executor_get_initargs (NULL); }
static void c_get_max_tasks_per_child_null (void) { proc_executor_get_max_tasks_per_child (NULL); }
static void c_get_task_timeout_null (void) { proc_executor_get_task_timeout (NULL); }
static void c_get_idle_timeout_null (void) { proc_executor_get_idle_timeout (NULL); }
static void c_get_cancel_grace_null (void) { proc_executor_get_cancel_grace (NULL); }
static void c_get_n_workers_null (void) { proc_executor_get_n_workers (NULL); }
static void c_get_n_pending_null (void) { proc_executor_get_n_pending (NULL); }
static void c_get_n_running_null (void) { proc_executor_get_n_running (NULL); }
static void c_get_n_completed_null (void) { proc_executor_get_n_completed (NULL); }
static void c_is_broken_null (void) { proc_executor_is_broken (NULL); }
static void c_is_shutdown_null (void) { proc_executor_is_shutdown (NULL); }
static void c_executor_not_an_executor (void)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  proc_executor_get_max_workers ((ProcExecutor *) object);
}

static void
c_submit_full_null (void)
{
  proc_executor_submit_full (NULL, "echo", NULL, NULL, -1, NULL, NULL);
}

static void
c_submit_full_fd_list_wrong_type (void)
{
  GCancellable *not_a_list = g_cancellable_new ();
  proc_executor_submit_full (inert_executor_new (), "echo", NULL,
                             (GUnixFDList *) not_a_list, -1, NULL, NULL);
}

static void
c_submit_full_cancellable_wrong_type (void)
{
  GObject *not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  proc_executor_submit_full (inert_executor_new (), "echo", NULL, NULL, -1,
                             (GCancellable *) not_a_cancellable, NULL);
}

static void
c_submit_error_already_set (void)
{
  GError *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "earlier");
  proc_executor_submit (inert_executor_new (), "echo", NULL, &error);
}

static void
c_submit_async_null (void)
{
  proc_executor_submit_async (NULL, "echo", NULL, NULL, never_called_async, NULL);
}

static void
c_submit_async_cancellable_wrong_type (void)
{
  GObject *not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  proc_executor_submit_async (inert_executor_new (), "echo", NULL,
                              (GCancellable *) not_a_cancellable, never_called_async, NULL);
}

static void c_submit_finish_null (void) { proc_executor_submit_finish (NULL, foreign_result_new (), NULL); }
static void c_submit_finish_foreign (void) { proc_executor_submit_finish (inert_executor_new (), foreign_result_new (), NULL); }

static void
c_map_null_inputs (void)
{
  proc_executor_map (inert_executor_new (), "echo", NULL, 1, 0, -1, NULL);
}

static void
c_map_error_already_set (void)
{
  GError *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "earlier");
  proc_executor_map (inert_executor_new (), "echo", g_variant_new_parsed ("[(1,)]"), 1, 0, -1, &error);
}

static void c_map_func_null (void) { proc_executor_map_func (NULL, "echo", end_of_input, NULL, NULL, 1, 0, -1, NULL); }
static void c_map_func_null_func (void) { proc_executor_map_func (inert_executor_new (), "echo", NULL, NULL, NULL, 1, 0, -1, NULL); }
static void c_shutdown_async_null (void) { proc_executor_shutdown_async (NULL, FALSE, NULL, never_called_async, NULL); }
static void c_shutdown_finish_foreign (void) { proc_executor_shutdown_finish (inert_executor_new (), foreign_result_new (), NULL); }
static void c_terminate_workers_null (void) { proc_executor_terminate_workers (NULL); }
static void c_kill_workers_null (void) { proc_executor_kill_workers (NULL); }

/* ProcFuture */
static void c_future_get_task_name_null (void) { proc_future_get_task_name (NULL); }
static void c_future_get_state_null (void) { proc_future_get_state (NULL); }
static void c_future_get_worker_pid_null (void) { proc_future_get_worker_pid (NULL); }
static void c_future_get_progress_null (void) { proc_future_get_progress (NULL); }
static void c_future_interrupt_null (void) { proc_future_interrupt (NULL); }
static void c_future_wait_null (void) { proc_future_wait (NULL, 0); }
static void c_future_exception_null (void) { proc_future_exception (NULL, 0, NULL); }
static void c_future_peek_result_null (void) { proc_future_peek_result (NULL, NULL); }
static void c_future_wait_async_null (void) { proc_future_wait_async (NULL, NULL, never_called_async, NULL); }
static void c_future_wait_finish_foreign (void) { proc_future_wait_finish (inert_future_new (), foreign_result_new (), NULL); }
static void c_future_done_callback_null (void) { proc_future_add_done_callback (NULL, never_called_done, NULL, NULL); }
static void c_future_done_callback_null_func (void) { proc_future_add_done_callback (inert_future_new (), NULL, NULL, NULL); }

static void
c_future_result_error_already_set (void)
{
  GError *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "earlier");
  proc_future_result (inert_future_new (), 0, &error);
}

/* ProcMapIter */
static void c_map_iter_next_async_null (void) { proc_map_iter_next_async (NULL, NULL, never_called_async, NULL); }
static void c_map_iter_close_null (void) { proc_map_iter_close (NULL); }

static void
c_map_iter_next_finish_foreign (void)
{
  ProcMapIter *iter = proc_executor_map (inert_executor_new (), "echo",
                                         g_variant_new_parsed ("@a(i) []"), 1, 0, -1, NULL);
  proc_map_iter_next_finish (iter, foreign_result_new (), NULL, NULL);
}

/* proc_wait_futures(), ProcAsCompleted */
static void c_wait_futures_null_array (void) { proc_wait_futures (NULL, 3, PROC_WAIT_ALL_COMPLETED, 0, NULL, NULL); }

static void
c_wait_futures_bad_mode (void)
{
  ProcFuture *futures[] = { inert_future_new () };
  proc_wait_futures (futures, 1, (ProcWaitMode) 42, 0, NULL, NULL);
}

static void c_as_completed_new_null_array (void) { proc_as_completed_new (NULL, 2, -1); }
static void c_as_completed_next_async_null (void) { proc_as_completed_next_async (NULL, NULL, never_called_async, NULL); }

static void
c_as_completed_next_finish_foreign (void)
{
  ProcAsCompleted *it = proc_as_completed_new (NULL, 0, -1);
  proc_as_completed_next_finish (it, foreign_result_new (), NULL);
}

/* ProcCompletionQueue */
static void c_queue_add_null (void) { proc_completion_queue_add (NULL, inert_future_new ()); }
static void c_queue_add_null_future (void) { proc_completion_queue_add (proc_completion_queue_new (), NULL); }
static void c_queue_get_n_pending_null (void) { proc_completion_queue_get_n_pending (NULL); }
static void c_queue_get_n_ready_null (void) { proc_completion_queue_get_n_ready (NULL); }
static void c_queue_next_null (void) { proc_completion_queue_next (NULL, 0); }
static void c_queue_take_null (void) { proc_completion_queue_take (NULL, 0); }
static void c_queue_next_async_null (void) { proc_completion_queue_next_async (NULL, NULL, never_called_async, NULL); }
static void c_queue_next_finish_foreign (void) { proc_completion_queue_next_finish (proc_completion_queue_new (), foreign_result_new (), NULL); }
static void c_queue_close_null (void) { proc_completion_queue_close (NULL); }

static void
c_queue_next_async_cancellable_wrong_type (void)
{
  GObject *not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  proc_completion_queue_next_async (proc_completion_queue_new (),
                                    (GCancellable *) not_a_cancellable, never_called_async, NULL);
}

/* ProcWorker, ProcTask */
static void c_worker_register_null (void) { proc_worker_register_task (NULL, "x", never_called_task, NULL, NULL); }
static void c_worker_register_null_name (void) { proc_worker_register_task (proc_worker_new (), NULL, never_called_task, NULL, NULL); }
static void c_worker_register_empty_name (void) { proc_worker_register_task (proc_worker_new (), "", never_called_task, NULL, NULL); }
static void c_worker_register_null_func (void) { proc_worker_register_task (proc_worker_new (), "x", NULL, NULL, NULL); }
static void c_worker_has_task_null_name (void) { proc_worker_has_task (proc_worker_new (), NULL); }
static void c_worker_load_module_null_path (void) { proc_worker_load_module (proc_worker_new (), NULL, NULL); }
static void c_worker_serve_null (void) { proc_worker_serve (NULL, NULL); }
static void c_worker_main_if_worker_null (void) { proc_worker_main_if_worker (NULL); }
static void c_task_get_name_null (void) { proc_task_get_name (NULL); }
static void c_task_get_cancellable_null (void) { proc_task_get_cancellable (NULL); }
static void c_task_is_cancelled_null (void) { proc_task_is_cancelled (NULL); }
static void c_task_get_fd_list_null (void) { proc_task_get_fd_list (NULL); }
static void c_task_report_progress_null (void) { proc_task_report_progress (NULL, 0.5, NULL); }

/* Property values: GObject refuses them with a warning. */
static void c_prop_max_workers_out_of_range (void) { g_object_set (inert_executor_new (), "max-workers", 5000u, NULL); }
static void c_prop_task_timeout_negative (void) { g_object_set (inert_executor_new (), "task-timeout", (gint64) -5, NULL); }
static void c_prop_idle_timeout_negative (void) { g_object_set (inert_executor_new (), "idle-timeout", (gint64) -1, NULL); }
static void c_prop_cancel_grace_negative (void) { g_object_set (inert_executor_new (), "cancel-grace", (gint64) -1, NULL); }
static void c_prop_new_task_timeout_negative (void) { g_object_new (PROC_TYPE_EXECUTOR, "task-timeout", (gint64) -5, NULL); }
static void c_prop_initargs_not_a_tuple (void) { g_object_new (PROC_TYPE_EXECUTOR, "initargs", g_variant_new_int32 (1), NULL); }
static void c_prop_n_workers_read_only (void) { g_object_set (inert_executor_new (), "n-workers", 3u, NULL); }

static void
c_prop_modules_construct_only (void)
{
  const char *modules[] = { "x", NULL };
  g_object_set (inert_executor_new (), "modules", modules, NULL);
}

static void c_prop_no_such_property (void) { g_object_set (inert_executor_new (), "no-such-property", 1, NULL); }

static const CriticalCase critical_cases[] = {
  { "executor/get-max-workers-null", c_get_max_workers_null, "*CRITICAL*proc_executor_get_max_workers*PROC_IS_EXECUTOR*" },
  { "executor/set-max-workers-null", c_set_max_workers_null, "*CRITICAL*proc_executor_set_max_workers*PROC_IS_EXECUTOR*" },
  { "executor/set-max-workers-zero", c_set_max_workers_zero, "*CRITICAL*proc_executor_set_max_workers*max_workers > 0*" },
  { "executor/set-task-timeout-negative", c_set_task_timeout_negative, "*CRITICAL*proc_executor_set_task_timeout*timeout_usec >= 0*" },
  { "executor/set-idle-timeout-negative", c_set_idle_timeout_negative, "*CRITICAL*proc_executor_set_idle_timeout*timeout_usec >= 0*" },
  { "executor/set-cancel-grace-negative", c_set_cancel_grace_negative, "*CRITICAL*proc_executor_set_cancel_grace*grace_usec >= 0*" },
  { "executor/get-worker-argv-null", c_get_worker_argv_null, "*CRITICAL*proc_executor_get_worker_argv*" },
  { "executor/get-modules-null", c_get_modules_null, "*CRITICAL*proc_executor_get_modules*" },
  { "executor/get-initializer-null", c_get_initializer_null, "*CRITICAL*proc_executor_get_initializer*" },
  { "executor/get-initargs-null", c_get_initargs_null, "*CRITICAL*proc_executor_get_initargs*" },
  { "executor/get-max-tasks-per-child-null", c_get_max_tasks_per_child_null, "*CRITICAL*proc_executor_get_max_tasks_per_child*" },
  { "executor/get-task-timeout-null", c_get_task_timeout_null, "*CRITICAL*proc_executor_get_task_timeout*" },
  { "executor/get-idle-timeout-null", c_get_idle_timeout_null, "*CRITICAL*proc_executor_get_idle_timeout*" },
  { "executor/get-cancel-grace-null", c_get_cancel_grace_null, "*CRITICAL*proc_executor_get_cancel_grace*" },
  { "executor/get-n-workers-null", c_get_n_workers_null, "*CRITICAL*proc_executor_get_n_workers*" },
  { "executor/get-n-pending-null", c_get_n_pending_null, "*CRITICAL*proc_executor_get_n_pending*" },
  { "executor/get-n-running-null", c_get_n_running_null, "*CRITICAL*proc_executor_get_n_running*" },
  { "executor/get-n-completed-null", c_get_n_completed_null, "*CRITICAL*proc_executor_get_n_completed*" },
  { "executor/is-broken-null", c_is_broken_null, "*CRITICAL*proc_executor_is_broken*" },
  { "executor/is-shutdown-null", c_is_shutdown_null, "*CRITICAL*proc_executor_is_shutdown*" },
  { "executor/not-an-executor", c_executor_not_an_executor, "*CRITICAL*proc_executor_get_max_workers*PROC_IS_EXECUTOR*" },
  { "executor/submit-full-null", c_submit_full_null, "*CRITICAL*proc_executor_submit_full*PROC_IS_EXECUTOR*" },
  { "executor/submit-full-fd-list-wrong-type", c_submit_full_fd_list_wrong_type, "*CRITICAL*proc_executor_submit_full*G_IS_UNIX_FD_LIST*" },
  { "executor/submit-full-cancellable-wrong-type", c_submit_full_cancellable_wrong_type, "*CRITICAL*proc_executor_submit_full*G_IS_CANCELLABLE*" },
  { "executor/submit-error-already-set", c_submit_error_already_set, "*CRITICAL*proc_executor_submit_full*error == NULL*" },
  { "executor/submit-async-null", c_submit_async_null, "*CRITICAL*proc_executor_submit_async*PROC_IS_EXECUTOR*" },
  { "executor/submit-async-cancellable-wrong-type", c_submit_async_cancellable_wrong_type, "*CRITICAL*proc_executor_submit_async*G_IS_CANCELLABLE*" },
  { "executor/submit-finish-null", c_submit_finish_null, "*CRITICAL*proc_executor_submit_finish*PROC_IS_EXECUTOR*" },
  { "executor/submit-finish-foreign-result", c_submit_finish_foreign, "*CRITICAL*proc_executor_submit_finish*g_task_is_valid*" },
  { "executor/map-null-inputs", c_map_null_inputs, "*CRITICAL*proc_executor_map*inputs != NULL*" },
  { "executor/map-error-already-set", c_map_error_already_set, "*CRITICAL*proc_executor_map*error == NULL*" },
  { "executor/map-func-null", c_map_func_null, "*CRITICAL*proc_executor_map_func*PROC_IS_EXECUTOR*" },
  { "executor/map-func-null-func", c_map_func_null_func, "*CRITICAL*proc_executor_map_func*input_func != NULL*" },
  { "executor/shutdown-async-null", c_shutdown_async_null, "*CRITICAL*proc_executor_shutdown_async*" },
  { "executor/shutdown-finish-foreign-result", c_shutdown_finish_foreign, "*CRITICAL*proc_executor_shutdown_finish*g_task_is_valid*" },
  { "executor/terminate-workers-null", c_terminate_workers_null, "*CRITICAL*proc_executor_terminate_workers*" },
  { "executor/kill-workers-null", c_kill_workers_null, "*CRITICAL*proc_executor_kill_workers*" },
  { "future/get-task-name-null", c_future_get_task_name_null, "*CRITICAL*proc_future_get_task_name*" },
  { "future/get-state-null", c_future_get_state_null, "*CRITICAL*proc_future_get_state*" },
  { "future/get-worker-pid-null", c_future_get_worker_pid_null, "*CRITICAL*proc_future_get_worker_pid*" },
  { "future/get-progress-null", c_future_get_progress_null, "*CRITICAL*proc_future_get_progress*" },
  { "future/interrupt-null", c_future_interrupt_null, "*CRITICAL*proc_future_interrupt*" },
  { "future/wait-null", c_future_wait_null, "*CRITICAL*proc_future_wait*" },
  { "future/exception-null", c_future_exception_null, "*CRITICAL*proc_future_exception*" },
  { "future/peek-result-null", c_future_peek_result_null, "*CRITICAL*proc_future_peek_result*" },
  { "future/result-error-already-set", c_future_result_error_already_set, "*CRITICAL*proc_future_result*error == NULL*" },
  { "future/wait-async-null", c_future_wait_async_null, "*CRITICAL*proc_future_wait_async*" },
  { "future/wait-finish-foreign-result", c_future_wait_finish_foreign, "*CRITICAL*proc_future_wait_finish*g_task_is_valid*" },
  { "future/add-done-callback-null", c_future_done_callback_null, "*CRITICAL*proc_future_add_done_callback*PROC_IS_FUTURE*" },
  { "future/add-done-callback-null-func", c_future_done_callback_null_func, "*CRITICAL*proc_future_add_done_callback*callback != NULL*" },
  { "map-iter/next-async-null", c_map_iter_next_async_null, "*CRITICAL*proc_map_iter_next_async*" },
  { "map-iter/next-finish-foreign-result", c_map_iter_next_finish_foreign, "*CRITICAL*proc_map_iter_next_finish*g_task_is_valid*" },
  { "map-iter/close-null", c_map_iter_close_null, "*CRITICAL*proc_map_iter_close*" },
  { "wait/futures-null-array", c_wait_futures_null_array, "*CRITICAL*proc_wait_futures*futures != NULL*" },
  { "wait/futures-bad-mode", c_wait_futures_bad_mode, "*CRITICAL*proc_wait_futures*mode*" },
  { "as-completed/new-null-array", c_as_completed_new_null_array, "*CRITICAL*proc_as_completed_new*futures != NULL*" },
  { "as-completed/next-async-null", c_as_completed_next_async_null, "*CRITICAL*proc_as_completed_next_async*" },
  { "as-completed/next-finish-foreign-result", c_as_completed_next_finish_foreign, "*CRITICAL*proc_as_completed_next_finish*g_task_is_valid*" },
  { "completion-queue/add-null", c_queue_add_null, "*CRITICAL*proc_completion_queue_add*PROC_IS_COMPLETION_QUEUE*" },
  { "completion-queue/add-null-future", c_queue_add_null_future, "*CRITICAL*proc_completion_queue_add*PROC_IS_FUTURE*" },
  { "completion-queue/get-n-pending-null", c_queue_get_n_pending_null, "*CRITICAL*proc_completion_queue_get_n_pending*" },
  { "completion-queue/get-n-ready-null", c_queue_get_n_ready_null, "*CRITICAL*proc_completion_queue_get_n_ready*" },
  { "completion-queue/next-null", c_queue_next_null, "*CRITICAL*proc_completion_queue_next*" },
  { "completion-queue/take-null", c_queue_take_null, "*CRITICAL*proc_completion_queue_take*" },
  { "completion-queue/next-async-null", c_queue_next_async_null, "*CRITICAL*proc_completion_queue_next_async*" },
  { "completion-queue/next-async-cancellable-wrong-type", c_queue_next_async_cancellable_wrong_type, "*CRITICAL*proc_completion_queue_next_async*G_IS_CANCELLABLE*" },
  { "completion-queue/next-finish-foreign-result", c_queue_next_finish_foreign, "*CRITICAL*proc_completion_queue_next_finish*g_task_is_valid*" },
  { "completion-queue/close-null", c_queue_close_null, "*CRITICAL*proc_completion_queue_close*" },
  { "worker/register-task-null", c_worker_register_null, "*CRITICAL*proc_worker_register_task*PROC_IS_WORKER*" },
  { "worker/register-task-null-name", c_worker_register_null_name, "*CRITICAL*proc_worker_register_task*name*" },
  { "worker/register-task-empty-name", c_worker_register_empty_name, "*CRITICAL*proc_worker_register_task*name*" },
  { "worker/register-task-null-func", c_worker_register_null_func, "*CRITICAL*proc_worker_register_task*func != NULL*" },
  { "worker/has-task-null-name", c_worker_has_task_null_name, "*CRITICAL*proc_worker_has_task*name != NULL*" },
  { "worker/load-module-null-path", c_worker_load_module_null_path, "*CRITICAL*proc_worker_load_module*path != NULL*" },
  { "worker/serve-null", c_worker_serve_null, "*CRITICAL*proc_worker_serve*PROC_IS_WORKER*" },
  { "worker/main-if-worker-null", c_worker_main_if_worker_null, "*CRITICAL*proc_worker_main_if_worker*PROC_IS_WORKER*" },
  { "task/get-name-null", c_task_get_name_null, "*CRITICAL*proc_task_get_name*PROC_IS_TASK*" },
  { "task/get-cancellable-null", c_task_get_cancellable_null, "*CRITICAL*proc_task_get_cancellable*PROC_IS_TASK*" },
  { "task/is-cancelled-null", c_task_is_cancelled_null, "*CRITICAL*proc_task_is_cancelled*PROC_IS_TASK*" },
  { "task/get-fd-list-null", c_task_get_fd_list_null, "*CRITICAL*proc_task_get_fd_list*PROC_IS_TASK*" },
  { "task/report-progress-null", c_task_report_progress_null, "*CRITICAL*proc_task_report_progress*PROC_IS_TASK*" },
  { "property/max-workers-out-of-range", c_prop_max_workers_out_of_range, "*WARNING*5000*out of range*max-workers*" },
  { "property/task-timeout-negative", c_prop_task_timeout_negative, "*WARNING*-5*out of range*task-timeout*" },
  { "property/idle-timeout-negative", c_prop_idle_timeout_negative, "*WARNING*out of range*idle-timeout*" },
  { "property/cancel-grace-negative", c_prop_cancel_grace_negative, "*WARNING*out of range*cancel-grace*" },
  { "property/construct-task-timeout-negative", c_prop_new_task_timeout_negative, "*WARNING*out of range*task-timeout*" },
  { "property/initargs-not-a-tuple", c_prop_initargs_not_a_tuple, "*WARNING*out of range*initargs*" },
  { "property/n-workers-read-only", c_prop_n_workers_read_only, "*WARNING*n-workers*not writable*" },
  { "property/modules-construct-only", c_prop_modules_construct_only, "*WARNING*modules*after construction*" },
  { "property/no-such-property", c_prop_no_such_property, "*WARNING*no property named*no-such-property*" },
};

static void
run_critical_case (gconstpointer data)
{
  const CriticalCase *c = data;

  if (g_test_subprocess ())
    {
      c->func ();
      /* Not reached when the critical fires (criticals are fatal). */
      return;
    }
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr (c->pattern);
  /* The critical itself, not a crash after it. */
  g_test_trap_assert_stderr_unmatched ("*Segmentation fault*");
}

/* ---- GErrors: task names and arguments ------------------------------------ */

typedef struct {
  guint   n_done;
  GError *error;
  GVariant *result;
} AsyncOutcome;

static void
submit_async_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  AsyncOutcome *outcome = user_data;

  outcome->result = proc_executor_submit_finish (PROC_EXECUTOR (source), res, &outcome->error);
  outcome->n_done++;
}

/* Submits @task with @args through submit_async and returns its error. */
static GError *
submit_async_error (ProcExecutor *executor,
                    const char   *task,
                    GVariant     *args)
{
  AsyncOutcome outcome = { 0, NULL, NULL };

  proc_executor_submit_async (executor, task, args, NULL, submit_async_cb, &outcome);
  g_assert_true (test_iterate_until_count (NULL, &outcome.n_done, 1));
  g_assert_null (outcome.result);
  g_assert_nonnull (outcome.error);
  return outcome.error;
}

static gboolean destroyed;

static void
note_destroyed (gpointer data)
{
  destroyed = TRUE;
}

/* Every way to name a task refuses @task with @code. map_func's user_data
 * is released even though no iterator is made. */
static void
assert_task_name_refused (ProcExecutor *executor,
                          const char   *task,
                          gint          code)
{
  GError *error = NULL;

  g_assert_null (proc_executor_submit (executor, task, NULL, &error));
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  g_assert_null (proc_executor_submit_full (executor, task, g_variant_new ("(i)", 1),
                                            NULL, 0, NULL, &error));
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  error = submit_async_error (executor, task, NULL);
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  g_assert_null (proc_executor_map (executor, task, g_variant_new_parsed ("[(1,), (2,)]"),
                                    1, 0, -1, &error));
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  destroyed = FALSE;
  g_assert_null (proc_executor_map_func (executor, task, end_of_input, NULL, note_destroyed,
                                         1, 0, -1, &error));
  g_assert_error (error, PROC_ERROR, code);
  g_assert_true (destroyed);
  g_clear_error (&error);
}

static void
test_task_names (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  char *too_long = g_strnfill (257, 'a');
  char *longest = g_strnfill (256, 'b');
  const char *bad[] = {
    "",
    "\xff\xfe",            /* not UTF-8 */
    "ech\xc3",             /* truncated UTF-8 sequence */
    "echo\ttab",
    "echo\nnewline",
    "\x1b[31mred",
    "del\x7f",
    too_long,
  };
  ProcFuture *f;
  GError *error = NULL;
  GVariant *result;

  /* NULL: submit and map are covered by test-executor and test-map. */
  g_assert_null (proc_executor_submit_full (executor, NULL, NULL, NULL, 0, NULL, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  error = submit_async_error (executor, NULL, NULL);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  destroyed = FALSE;
  g_assert_null (proc_executor_map_func (executor, NULL, end_of_input, NULL, note_destroyed,
                                         1, 0, -1, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_assert_true (destroyed);
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_task_name_refused (executor, bad[i], PROC_ERROR_INVALID_ARGUMENT);

  /* The longest valid name is accepted: the future fails, as no such task
   * exists. */
  f = test_submit (executor, longest, NULL);
  error = test_result_error (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK);
  g_clear_error (&error);
  g_object_unref (f);
  error = submit_async_error (executor, "no-such-task", NULL);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK);
  g_clear_error (&error);

  /* Nothing of it broke the pool. */
  f = test_submit (executor, "echo", g_variant_new ("(s)", "fine"));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(s)", "fine"));
  g_variant_unref (result);
  g_object_unref (f);
  g_assert_false (proc_executor_is_broken (executor));

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  g_free (too_long);
  g_free (longest);
  test_drain_context (NULL);
}

static void
test_args_not_a_tuple (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  const char *not_tuples[] = {
    "<(1, 2)>",                 /* a variant holding a tuple */
    "[1, 2, 3]",
    "@mi 5",
    "@m(i) (5,)",
    "{'key': <1>}",
    "@a{sv} {}",
    "true",
    "'text'",
  };
  GError *error = NULL;
  ProcFuture *f;
  GVariant *result;

  for (guint i = 0; i < G_N_ELEMENTS (not_tuples); i++)
    {
      g_assert_null (proc_executor_submit (executor, "echo",
                                           g_variant_new_parsed (not_tuples[i]), &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      g_assert_null (proc_executor_submit_full (executor, "echo",
                                                g_variant_new_parsed (not_tuples[i]),
                                                NULL, -1, NULL, &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      error = submit_async_error (executor, "echo", g_variant_new_parsed (not_tuples[i]));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  /* A tuple of the wrong types reaches the task, which refuses it. */
  f = test_submit (executor, "add", g_variant_new ("(ss)", "1", "2"));
  error = test_result_error (f);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_object_unref (f);

  /* The empty tuple and NULL are the same. */
  f = test_submit (executor, "echo", g_variant_new ("()"));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("()"));
  g_variant_unref (result);
  g_object_unref (f);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  test_drain_context (NULL);
}

/* ---- GErrors: options ------------------------------------------------------ */

static void
test_invalid_options (void)
{
  ProcExecutor *executor = test_executor_new (1, NULL);
  GUnixFDList *fds = g_unix_fd_list_new ();
  GError *error = NULL;
  const gint64 bad_timeouts[] = { -2, -1000, G_MININT64 };
  ProcFuture *f;
  GVariant *result;

  for (guint i = 0; i < G_N_ELEMENTS (bad_timeouts); i++)
    {
      g_assert_null (proc_executor_submit_full (executor, "echo", NULL, NULL,
                                                bad_timeouts[i], NULL, &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      g_assert_null (proc_executor_map (executor, "echo", g_variant_new_parsed ("[(1,)]"),
                                        1, 0, bad_timeouts[i], &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      destroyed = FALSE;
      g_assert_null (proc_executor_map_func (executor, "echo", end_of_input, NULL,
                                             note_destroyed, 1, 0, bad_timeouts[i], &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_assert_true (destroyed);
      g_clear_error (&error);
    }

  /* chunksize 0 */
  g_assert_null (proc_executor_map (executor, "echo", g_variant_new_parsed ("[(1,)]"),
                                    0, 0, -1, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  destroyed = FALSE;
  g_assert_null (proc_executor_map_func (executor, "echo", end_of_input, NULL, note_destroyed,
                                         0, 0, -1, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_assert_true (destroyed);
  g_clear_error (&error);

  /* More fds than a task may get. */
  for (guint i = 0; i < 65; i++)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (g_unix_fd_list_append (fds, fd, &error), ==, (gint) i);
      g_assert_no_error (error);
      close (fd);
    }
  g_assert_null (proc_executor_submit_full (executor, "readfd", g_variant_new ("(h)", 0),
                                            fds, -1, NULL, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_object_unref (fds);

  /* The refused setters changed nothing (their criticals are trapped in
   * the critical/ cases). */
  g_assert_cmpuint (proc_executor_get_max_workers (executor), ==, 1);

  /* The pool still works. */
  f = test_submit (executor, "echo", g_variant_new ("(i)", 3));
  result = test_result (f);
  test_assert_variant (result, g_variant_new ("(i)", 3));
  g_variant_unref (result);
  g_object_unref (f);

  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* ---- GErrors: map inputs of the wrong types -------------------------------- */

static int n_func_calls;

static GVariant *
non_tuple_after_one (gpointer   user_data,
                     GError   **error)
{
  switch (n_func_calls++)
    {
    case 0:
      return g_variant_new ("(i)", 1);
    case 1:
      return g_variant_new_int32 (2);
    case 2:
      return g_variant_new ("(i)", 3);
    default:
      return NULL;
    }
}

/* The first result, then the error of the second item. */
static void
assert_map_fails_at_second (ProcMapIter *iter,
                            gint32       first)
{
  GVariant *result = NULL;
  GError *error = NULL;

  g_assert_nonnull (iter);
  g_assert_true (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  test_assert_variant (result, g_variant_new ("(i)", first));
  g_variant_unref (result);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_null (result);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* The iteration is over. */
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_no_error (error);
  g_object_unref (iter);
}

static void
test_map_wrong_types (void)
{
  ProcExecutor *executor = test_executor_new (2, NULL);
  const char *not_arrays_of_tuples[] = {
    "@a{si} {'a': 1}",          /* an array of dict entries */
    "[[1, 2], [3]]",            /* an array of arrays */
    "@as ['a']",
    "([(1,)],)",                /* a tuple holding the array */
    "@ma(i) [(1,)]",
  };
  GError *error = NULL;
  GVariant *result = NULL;
  ProcMapIter *iter;

  for (guint i = 0; i < G_N_ELEMENTS (not_arrays_of_tuples); i++)
    {
      g_assert_null (proc_executor_map (executor, "echo",
                                        g_variant_new_parsed (not_arrays_of_tuples[i]),
                                        1, 0, -1, &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  /* av whose items are not all tuples: found when the item is submitted
   * (chunksize 1) or run (in a chunk). */
  for (guint chunksize = 1; chunksize <= 3; chunksize += 2)
    assert_map_fails_at_second (proc_executor_map (executor, "echo",
                                                   g_variant_new_parsed ("[<(1,)>, <2>, <(3,)>]"),
                                                   chunksize, 0, TEST_TIMEOUT_USEC, &error),
                                1);
  g_assert_no_error (error);

  /* An input function producing a non-tuple. */
  for (guint chunksize = 1; chunksize <= 3; chunksize += 2)
    {
      n_func_calls = 0;
      assert_map_fails_at_second (proc_executor_map_func (executor, "echo", non_tuple_after_one,
                                                          NULL, NULL, chunksize, 0,
                                                          TEST_TIMEOUT_USEC, &error),
                                  1);
      g_assert_no_error (error);
    }

  /* Tuples of the wrong arity for the task: the task's own error. */
  iter = proc_executor_map (executor, "add", g_variant_new_parsed ("[(1,), (2,)]"),
                            1, 0, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_object_unref (iter);

  /* An unknown task through map_func (map: test-map.c). */
  n_func_calls = 0;
  iter = proc_executor_map_func (executor, "no-such-task", non_tuple_after_one, NULL, NULL,
                                 1, 0, TEST_TIMEOUT_USEC, &error);
  g_assert_no_error (error);
  g_assert_false (proc_map_iter_next (iter, &result, &error));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_UNKNOWN_TASK);
  g_clear_error (&error);
  g_object_unref (iter);

  g_assert_false (proc_executor_is_broken (executor));
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
}

/* ---- GErrors: use after shutdown, after kill, on a broken pool -------------- */

/* All five ways in fail with @code. */
static void
assert_refused (ProcExecutor *executor,
                gint          code)
{
  GError *error = NULL;
  ProcMapIter *iter;
  GVariant *result = NULL;

  g_assert_null (proc_executor_submit (executor, "echo", NULL, &error));
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  g_assert_null (proc_executor_submit_full (executor, "echo", g_variant_new ("(i)", 1),
                                            NULL, 1000, NULL, &error));
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  error = submit_async_error (executor, "echo", NULL);
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  /* map and map_func may refuse at once, or hand back an iterator whose
   * first step fails: either way with @code. */
  iter = proc_executor_map (executor, "echo", g_variant_new_parsed ("[(1,)]"), 1, 0, -1, &error);
  if (iter != NULL)
    {
      g_assert_no_error (error);
      g_assert_false (proc_map_iter_next (iter, &result, &error));
      g_object_unref (iter);
    }
  g_assert_error (error, PROC_ERROR, code);
  g_clear_error (&error);

  destroyed = FALSE;
  n_func_calls = 0;
  iter = proc_executor_map_func (executor, "echo", non_tuple_after_one, NULL, note_destroyed,
                                 1, 0, -1, &error);
  if (iter != NULL)
    {
      g_assert_no_error (error);
      g_assert_false (proc_map_iter_next (iter, &result, &error));
      g_object_unref (iter);
    }
  g_assert_error (error, PROC_ERROR, code);
  g_assert_true (destroyed);
  g_clear_error (&error);
}

static void
test_use_after_shutdown (void)
{
  ProcExecutor *executor;
  ProcFuture *f;
  GError *error;

  /* shutdown(wait) */
  executor = test_executor_new (1, NULL);
  proc_executor_shutdown (executor, TRUE, FALSE);
  assert_refused (executor, PROC_ERROR_SHUTDOWN);
  g_object_unref (executor);

  /* shutdown(no wait) while a task runs: refused at once. */
  executor = test_executor_new (1, NULL);
  f = test_submit (executor, "sleep", g_variant_new ("(u)", 200));
  proc_executor_shutdown (executor, FALSE, FALSE);
  assert_refused (executor, PROC_ERROR_SHUTDOWN);
  g_variant_unref (test_result (f));
  g_object_unref (f);
  g_object_unref (executor);

  /* kill_workers and terminate_workers shut down too. */
  executor = test_executor_new (1, NULL);
  proc_executor_kill_workers (executor);
  assert_refused (executor, PROC_ERROR_SHUTDOWN);
  g_object_unref (executor);
  executor = test_executor_new (1, NULL);
  proc_executor_terminate_workers (executor);
  assert_refused (executor, PROC_ERROR_SHUTDOWN);
  g_object_unref (executor);

  /* A broken pool refuses with BROKEN. */
  executor = inert_executor_new ();
  f = test_submit (executor, "echo", NULL);
  error = test_result_error (f);
  g_assert_error (error, PROC_ERROR, PROC_ERROR_SPAWN);
  g_clear_error (&error);
  g_object_unref (f);
  g_assert_true (proc_executor_is_broken (executor));
  assert_refused (executor, PROC_ERROR_BROKEN);
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);

  test_drain_context (NULL);
}

/* ---- GErrors: bad construction: modules, initializer, worker program ------ */

/* The first task's error, for an executor made from bad parts. */
static GError *
first_task_error (ProcExecutor *executor)
{
  GError *error = NULL;
  ProcFuture *f = proc_executor_submit (executor, "echo", NULL, &error);

  /* A configuration known bad at construction (an invalid initializer
   * name) fails the submit itself; others fail the first task. */
  if (f != NULL)
    {
      g_assert_no_error (error);
      error = test_result_error (f);
      g_object_unref (f);
    }
  g_assert_true (proc_executor_is_broken (executor));
  proc_executor_shutdown (executor, TRUE, FALSE);
  g_object_unref (executor);
  return error;
}

/* The path of a shared object that has no proc_module_init(): the
 * library itself. */
static char *
libprocexec_path (void)
{
  Dl_info info;

  g_assert_cmpint (dladdr ((gpointer) proc_executor_new, &info), !=, 0);
  g_assert_nonnull (info.dli_fname);
  return g_strdup (info.dli_fname);
}

static void
test_bad_modules (void)
{
  char *lib = libprocexec_path ();
  const char *nonexistent[] = { "/nonexistent/proc-test-tasks.so", NULL };
  const char *not_a_module[] = { g_test_get_filename (G_TEST_DIST, "meson.build", NULL), NULL };
  const char *no_init[] = { lib, NULL };
  const char *not_installed[] = { "no-such-module", NULL };
  const char **cases[] = { nonexistent, not_a_module, no_init, not_installed };
  ProcWorker *worker = proc_worker_new ();
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* In a worker process, through the executor ... */
      error = first_task_error (g_object_new (PROC_TYPE_EXECUTOR, "max-workers", 1,
                                              "modules", cases[i], NULL));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
      g_assert_nonnull (strstr (error->message, cases[i][0]));
      g_test_message ("module %s: %s", cases[i][0], error->message);
      g_clear_error (&error);

      /* ... and right here. */
      g_assert_false (proc_worker_load_module (worker, cases[i][0], &error));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  g_object_unref (worker);
  g_free (lib);
}

static void
test_bad_initializer (void)
{
  const char *names[] = { "", "no-such-initializer\n", "\t" };
  GError *error;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      error = first_task_error (test_executor_new (1, "initializer", names[i], NULL));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
      g_clear_error (&error);
    }

  /* The initializer's arguments of the wrong types: its own error. */
  error = first_task_error (test_executor_new (1, "initializer", "init_ok",
                                               "initargs", g_variant_new ("(i)", 5), NULL));
  g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
  g_assert_nonnull (strstr (error->message, "expected arguments of type (s)"));
  g_clear_error (&error);
}

/* Strings that GVariant cannot carry (they are not UTF-8) in the
 * construct properties must get an error or a critical at the entry
 * point, not a critical (or a crash) on the executor's private thread. */
static void
run_non_utf8_construct (const char *property)
{
  if (g_test_subprocess ())
    {
      const char *modules[] = { test_module_path (), "/tmp/\xff\xfe-module.so", NULL };
      ProcExecutor *executor;
      ProcFuture *f;
      GError *error = NULL;

      if (g_str_equal (property, "modules"))
        executor = g_object_new (PROC_TYPE_EXECUTOR, "max-workers", 1, "modules", modules, NULL);
      else
        executor = test_executor_new (1, "initializer", "init\xff", NULL);

      f = proc_executor_submit (executor, "echo", NULL, &error);
      if (f != NULL)
        {
          g_assert_null (proc_future_result (f, TEST_TIMEOUT_USEC, &error));
          g_object_unref (f);
        }
      g_assert_nonnull (error);
      g_assert_true (g_error_matches (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT) ||
                     g_error_matches (error, PROC_ERROR, PROC_ERROR_BROKEN));
      g_printerr ("error: %s\n", error->message);
      g_error_free (error);
      proc_executor_shutdown (executor, TRUE, FALSE);
      g_object_unref (executor);
      return;
    }

  /* These two run last: a failure here must not hide the other's. */
  g_test_set_nonfatal_assertions ();
  g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
  if (g_test_trap_has_passed ())
    return;
  /* Refused with a critical: only one of procexec's entry points may
   * raise it. */
  g_test_trap_assert_stderr ("*CRITICAL*proc_executor*");
}

static void test_non_utf8_module (void) { run_non_utf8_construct ("modules"); }
static void test_non_utf8_initializer (void) { run_non_utf8_construct ("initializer"); }

static void
test_not_a_worker_program (void)
{
  /* Exits at once; echoes what it is sent back; closes its channel. */
  const char *true_argv[] = { "/bin/true", NULL };
  const char *cat_argv[] = { "/bin/cat", NULL };
  const char *closing_argv[] = { "/bin/sh", "-c", "exec 3<&-; exit 3", NULL };
  const char **cases[] = { true_argv, cat_argv, closing_argv };
  GError *error;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      error = first_task_error (test_executor_new (1, "worker-argv", cases[i], NULL));
      g_assert_error (error, PROC_ERROR, PROC_ERROR_BROKEN);
      g_test_message ("worker-argv %s: %s", cases[i][0], error->message);
      g_clear_error (&error);
    }
}

/* ---- GErrors: a worker's serve() on a bad channel ------------------------- */

typedef enum {
  SERVE_NOT_A_WORKER,
  SERVE_NOT_A_NUMBER,
  SERVE_CLOSED_FD,
  SERVE_EOF,
  SERVE_NOT_A_SOCKET,
  SERVE_UNKNOWN_KIND,
  SERVE_HUGE_LENGTH,
} ServeCase;

static void
run_serve_case (gconstpointer data)
{
  ServeCase which = GPOINTER_TO_INT (data);
  ProcWorker *worker;
  GError *error = NULL;
  char fd_str[16];
  int sv[2];

  /* In a subprocess: serve() takes the fd and changes the environment. */
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, TEST_TIMEOUT_USEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  switch (which)
    {
    case SERVE_NOT_A_WORKER:
      g_unsetenv ("PROCEXEC_CHANNEL_FD");
      break;
    case SERVE_NOT_A_NUMBER:
      g_setenv ("PROCEXEC_CHANNEL_FD", "three", TRUE);
      break;
    case SERVE_CLOSED_FD:
      g_setenv ("PROCEXEC_CHANNEL_FD", "987", TRUE);
      break;
    case SERVE_NOT_A_SOCKET:
      g_assert_cmpint (pipe (sv), ==, 0);
      close (sv[1]);
      break;
    default:
      g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
      break;
    }

  if (which == SERVE_UNKNOWN_KIND)
    {
      /* u32 length 8, kind 0xee, flags 0, no fds, 8 bytes */
      static const guint8 frame[16] = { 8, 0, 0, 0, 0xee, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
      g_assert_cmpint (write (sv[1], frame, sizeof frame), ==, sizeof frame);
    }
  else if (which == SERVE_HUGE_LENGTH)
    {
      /* A HELLO claiming 2 GiB. */
      static const guint8 header[8] = { 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0 };
      g_assert_cmpint (write (sv[1], header, sizeof header), ==, sizeof header);
    }
  if (which >= SERVE_EOF)
    {
      if (which != SERVE_NOT_A_SOCKET)
        close (sv[1]);
      g_snprintf (fd_str, sizeof fd_str, "%d", sv[0]);
      g_setenv ("PROCEXEC_CHANNEL_FD", fd_str, TRUE);
    }

  worker = proc_worker_new ();
  proc_worker_register_task (worker, "x", never_called_task, NULL, NULL);
  g_assert_false (proc_worker_serve (worker, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  switch (which)
    {
    case SERVE_NOT_A_WORKER:
    case SERVE_NOT_A_NUMBER:
    case SERVE_CLOSED_FD:
      g_assert_error (error, PROC_ERROR, PROC_ERROR_INVALID_ARGUMENT);
      break;
    case SERVE_EOF:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      break;
    case SERVE_NOT_A_SOCKET:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      break;
    case SERVE_UNKNOWN_KIND:
    case SERVE_HUGE_LENGTH:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      break;
    }
  g_error_free (error);
  g_object_unref (worker);
}

int
main (int   argc,
      char *argv[])
{
  static const struct {
    const char *name;
    ServeCase which;
  } serve_cases[] = {
    { "not-a-worker-process", SERVE_NOT_A_WORKER },
    { "fd-not-a-number", SERVE_NOT_A_NUMBER },
    { "fd-not-open", SERVE_CLOSED_FD },
    { "eof-before-hello", SERVE_EOF },
    { "fd-not-a-socket", SERVE_NOT_A_SOCKET },
    { "unknown-message-kind", SERVE_UNKNOWN_KIND },
    { "huge-length", SERVE_HUGE_LENGTH },
  };

  test_init (&argc, &argv);

  for (gsize i = 0; i < G_N_ELEMENTS (critical_cases); i++)
    {
      char *path = g_strdup_printf ("/bad-input/critical/%s", critical_cases[i].name);
      g_test_add_data_func (path, &critical_cases[i], run_critical_case);
      g_free (path);
    }

  g_test_add_func ("/bad-input/task-names", test_task_names);
  g_test_add_func ("/bad-input/args-not-a-tuple", test_args_not_a_tuple);
  g_test_add_func ("/bad-input/invalid-options", test_invalid_options);
  g_test_add_func ("/bad-input/map-wrong-types", test_map_wrong_types);
  g_test_add_func ("/bad-input/use-after-shutdown", test_use_after_shutdown);
  g_test_add_func ("/bad-input/construct/bad-modules", test_bad_modules);
  g_test_add_func ("/bad-input/construct/bad-initializer", test_bad_initializer);
  g_test_add_func ("/bad-input/construct/not-a-worker-program", test_not_a_worker_program);

  for (gsize i = 0; i < G_N_ELEMENTS (serve_cases); i++)
    {
      char *path = g_strdup_printf ("/bad-input/worker-serve/%s", serve_cases[i].name);
      g_test_add_data_func (path, GINT_TO_POINTER (serve_cases[i].which), run_serve_case);
      g_free (path);
    }

  /* Last: see run_non_utf8_construct(). */
  g_test_add_func ("/bad-input/non-utf8/module-path", test_non_utf8_module);
  g_test_add_func ("/bad-input/non-utf8/initializer", test_non_utf8_initializer);

  return g_test_run ();
}
