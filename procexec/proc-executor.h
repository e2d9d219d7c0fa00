/* proc-executor.h: a pool of worker processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "proc-future.h"
#include "proc-map-iter.h"
#include "proc-version-macros.h"

G_BEGIN_DECLS

#define PROC_TYPE_EXECUTOR (proc_executor_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcExecutor, proc_executor, PROC, EXECUTOR, GObject)

/**
 * ProcMapInputFunc:
 * @user_data: the data given with the function
 * @error: return location for an error reading the input
 *
 * Produces the argument tuple of the next item of a map, or %NULL when the
 * input is exhausted. An error ends the input: the map yields the results
 * of the items before it, then fails with it.
 *
 * Returns: (transfer full) (nullable): the next argument tuple, or %NULL
 *   at the end or with @error set
 */
typedef GVariant *(*ProcMapInputFunc) (gpointer   user_data,
                                       GError   **error);

PROC_AVAILABLE_IN_ALL
ProcExecutor  *proc_executor_new                   (guint                 max_workers);
PROC_AVAILABLE_IN_ALL
ProcExecutor  *proc_executor_new_self_exec         (guint                 max_workers);

PROC_AVAILABLE_IN_ALL
guint          proc_executor_get_max_workers       (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
void           proc_executor_set_max_workers       (ProcExecutor         *self,
                                                    guint                 max_workers);
PROC_AVAILABLE_IN_ALL
const char * const *proc_executor_get_worker_argv  (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
const char * const *proc_executor_get_modules      (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
const char    *proc_executor_get_initializer       (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
GVariant      *proc_executor_get_initargs          (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
guint          proc_executor_get_max_tasks_per_child (ProcExecutor       *self);
PROC_AVAILABLE_IN_ALL
gint64         proc_executor_get_task_timeout      (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
void           proc_executor_set_task_timeout      (ProcExecutor         *self,
                                                    gint64                timeout_usec);
PROC_AVAILABLE_IN_ALL
gint64         proc_executor_get_idle_timeout      (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
void           proc_executor_set_idle_timeout      (ProcExecutor         *self,
                                                    gint64                timeout_usec);
PROC_AVAILABLE_IN_ALL
gint64         proc_executor_get_cancel_grace      (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
void           proc_executor_set_cancel_grace      (ProcExecutor         *self,
                                                    gint64                grace_usec);
PROC_AVAILABLE_IN_ALL
guint          proc_executor_get_n_workers         (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
guint          proc_executor_get_n_pending         (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
guint          proc_executor_get_n_running         (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
guint64        proc_executor_get_n_completed       (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
gboolean       proc_executor_is_broken             (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
gboolean       proc_executor_is_shutdown           (ProcExecutor         *self);

PROC_AVAILABLE_IN_ALL
ProcFuture    *proc_executor_submit                (ProcExecutor         *self,
                                                    const char           *task,
                                                    GVariant             *args,
                                                    GError              **error);
PROC_AVAILABLE_IN_ALL
ProcFuture    *proc_executor_submit_full           (ProcExecutor         *self,
                                                    const char           *task,
                                                    GVariant             *args,
                                                    GUnixFDList          *fd_list,
                                                    gint64                timeout_usec,
                                                    GCancellable         *cancellable,
                                                    GError              **error);
PROC_AVAILABLE_IN_ALL
void           proc_executor_submit_async          (ProcExecutor         *self,
                                                    const char           *task,
                                                    GVariant             *args,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);
PROC_AVAILABLE_IN_ALL
GVariant      *proc_executor_submit_finish         (ProcExecutor         *self,
                                                    GAsyncResult         *result,
                                                    GError              **error);

PROC_AVAILABLE_IN_ALL
ProcMapIter   *proc_executor_map                   (ProcExecutor         *self,
                                                    const char           *task,
                                                    GVariant             *inputs,
                                                    guint                 chunksize,
                                                    guint                 buffersize,
                                                    gint64                timeout_usec,
                                                    GError              **error);
PROC_AVAILABLE_IN_ALL
ProcMapIter   *proc_executor_map_func              (ProcExecutor         *self,
                                                    const char           *task,
                                                    ProcMapInputFunc      input_func,
                                                    gpointer              user_data,
                                                    GDestroyNotify        destroy,
                                                    guint                 chunksize,
                                                    guint                 buffersize,
                                                    gint64                timeout_usec,
                                                    GError              **error);

PROC_AVAILABLE_IN_ALL
void           proc_executor_shutdown              (ProcExecutor         *self,
                                                    gboolean              wait,
                                                    gboolean              cancel_futures);
PROC_AVAILABLE_IN_ALL
void           proc_executor_shutdown_async        (ProcExecutor         *self,
                                                    gboolean              cancel_futures,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);
PROC_AVAILABLE_IN_ALL
gboolean       proc_executor_shutdown_finish       (ProcExecutor         *self,
                                                    GAsyncResult         *result,
                                                    GError              **error);
PROC_AVAILABLE_IN_ALL
void           proc_executor_terminate_workers     (ProcExecutor         *self);
PROC_AVAILABLE_IN_ALL
void           proc_executor_kill_workers          (ProcExecutor         *self);


G_END_DECLS
