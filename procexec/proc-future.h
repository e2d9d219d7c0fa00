/* proc-future.h: the pending result of a task submitted to a ProcExecutor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "proc-enums.h"
#include "proc-version-macros.h"

G_BEGIN_DECLS

#define PROC_TYPE_FUTURE (proc_future_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcFuture, proc_future, PROC, FUTURE, GObject)

/**
 * ProcFutureDoneFunc:
 * @future: the future that is done
 * @user_data: the data given to [method@Future.add_done_callback]
 *
 * Called once when @future is done (finished or cancelled).
 */
typedef void (*ProcFutureDoneFunc) (ProcFuture *future,
                                    gpointer    user_data);

PROC_AVAILABLE_IN_ALL
const char      *proc_future_get_task_name      (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
ProcFutureState  proc_future_get_state          (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
gboolean         proc_future_is_done            (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
gboolean         proc_future_is_running         (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
gboolean         proc_future_is_cancelled       (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
GPid             proc_future_get_worker_pid     (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
double           proc_future_get_progress       (ProcFuture          *self);

PROC_AVAILABLE_IN_ALL
gboolean         proc_future_cancel             (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
gboolean         proc_future_interrupt          (ProcFuture          *self);

PROC_AVAILABLE_IN_ALL
gboolean         proc_future_wait               (ProcFuture          *self,
                                                 gint64               timeout_usec);
PROC_AVAILABLE_IN_ALL
GVariant        *proc_future_result             (ProcFuture          *self,
                                                 gint64               timeout_usec,
                                                 GError             **error);
PROC_AVAILABLE_IN_ALL
GUnixFDList     *proc_future_get_result_fd_list (ProcFuture          *self);
PROC_AVAILABLE_IN_ALL
GError          *proc_future_exception          (ProcFuture          *self,
                                                 gint64               timeout_usec,
                                                 GError             **error);
PROC_AVAILABLE_IN_ALL
GVariant        *proc_future_peek_result        (ProcFuture          *self,
                                                 GError             **error);

PROC_AVAILABLE_IN_ALL
void             proc_future_wait_async         (ProcFuture          *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
PROC_AVAILABLE_IN_ALL
GVariant        *proc_future_wait_finish        (ProcFuture          *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

PROC_AVAILABLE_IN_ALL
void             proc_future_add_done_callback  (ProcFuture          *self,
                                                 ProcFutureDoneFunc   callback,
                                                 gpointer             user_data,
                                                 GDestroyNotify       destroy);


G_END_DECLS
