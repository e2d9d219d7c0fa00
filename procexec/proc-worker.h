/* proc-worker.h: the worker side of procexec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "proc-task.h"
#include "proc-version-macros.h"

G_BEGIN_DECLS

#define PROC_TYPE_WORKER (proc_worker_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcWorker, proc_worker, PROC, WORKER, GObject)

/**
 * ProcTaskFunc:
 * @task: the running task: its cancellable, fds and progress reporting
 * @args: (not nullable): the argument tuple the task was submitted with
 * @user_data: the data given to [method@Worker.register_task]
 * @error: return location for the task's error
 *
 * A task function, run by a worker process.
 *
 * Returns: (transfer full) (nullable): the task's result; %NULL with @error
 *   set when the task fails; %NULL without an error means "no value" and is
 *   delivered to the parent as the empty tuple `()`
 */
typedef GVariant *(*ProcTaskFunc) (ProcTask  *task,
                                   GVariant  *args,
                                   gpointer   user_data,
                                   GError   **error);

/**
 * ProcModuleInitFunc:
 * @worker: the worker loading the module
 * @error: return location for an error
 *
 * The entry point of a task module: a shared object loaded by
 * `procexec-worker` must export a function of this type named
 * `proc_module_init` (see [const@MODULE_INIT_SYMBOL]) that registers its
 * tasks on @worker.
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*ProcModuleInitFunc) (ProcWorker  *worker,
                                        GError     **error);

/**
 * PROC_MODULE_INIT_SYMBOL:
 *
 * The name of the function a task module exports, of type
 * [callback@ModuleInitFunc].
 */
#define PROC_MODULE_INIT_SYMBOL "proc_module_init"

PROC_AVAILABLE_IN_ALL
ProcWorker *proc_worker_new               (void);
PROC_AVAILABLE_IN_ALL
void        proc_worker_register_task     (ProcWorker    *self,
                                           const char    *name,
                                           ProcTaskFunc   func,
                                           gpointer       user_data,
                                           GDestroyNotify destroy);
PROC_AVAILABLE_IN_ALL
gboolean    proc_worker_has_task          (ProcWorker    *self,
                                           const char    *name);
PROC_AVAILABLE_IN_ALL
gboolean    proc_worker_load_module       (ProcWorker    *self,
                                           const char    *path,
                                           GError       **error);
PROC_AVAILABLE_IN_ALL
gboolean    proc_worker_is_worker_process (void);
PROC_AVAILABLE_IN_ALL
gboolean    proc_worker_serve             (ProcWorker    *self,
                                           GError       **error);
PROC_AVAILABLE_IN_ALL
void        proc_worker_main_if_worker    (ProcWorker    *self);

G_END_DECLS
