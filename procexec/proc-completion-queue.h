/* proc-completion-queue.h: futures handed back as they complete
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "proc-future.h"
#include "proc-version-macros.h"

G_BEGIN_DECLS

#define PROC_TYPE_COMPLETION_QUEUE (proc_completion_queue_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcCompletionQueue, proc_completion_queue, PROC, COMPLETION_QUEUE, GObject)

PROC_AVAILABLE_IN_ALL
ProcCompletionQueue *proc_completion_queue_new           (void);
PROC_AVAILABLE_IN_ALL
void                 proc_completion_queue_add           (ProcCompletionQueue  *self,
                                                          ProcFuture           *future);
PROC_AVAILABLE_IN_ALL
gboolean             proc_completion_queue_remove        (ProcCompletionQueue  *self,
                                                          ProcFuture           *future);
PROC_AVAILABLE_IN_ALL
guint                proc_completion_queue_get_n_pending (ProcCompletionQueue  *self);
PROC_AVAILABLE_IN_ALL
guint                proc_completion_queue_get_n_ready   (ProcCompletionQueue  *self);
PROC_AVAILABLE_IN_ALL
ProcFuture          *proc_completion_queue_next          (ProcCompletionQueue  *self,
                                                          gint64                timeout_usec);
PROC_AVAILABLE_IN_ALL
GPtrArray           *proc_completion_queue_take          (ProcCompletionQueue  *self,
                                                          gint64                timeout_usec);
PROC_AVAILABLE_IN_ALL
void                 proc_completion_queue_next_async    (ProcCompletionQueue  *self,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
PROC_AVAILABLE_IN_ALL
ProcFuture          *proc_completion_queue_next_finish   (ProcCompletionQueue  *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);
PROC_AVAILABLE_IN_ALL
void                 proc_completion_queue_close         (ProcCompletionQueue  *self);

G_END_DECLS
