/* proc-wait.h: waiting on several futures at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "proc-enums.h"
#include "proc-future.h"
#include "proc-version-macros.h"

G_BEGIN_DECLS

PROC_AVAILABLE_IN_ALL
gboolean proc_wait_futures (ProcFuture  **futures,
                            guint         n_futures,
                            ProcWaitMode  mode,
                            gint64        timeout_usec,
                            GPtrArray   **done,
                            GPtrArray   **not_done);

#define PROC_TYPE_AS_COMPLETED (proc_as_completed_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcAsCompleted, proc_as_completed, PROC, AS_COMPLETED, GObject)

PROC_AVAILABLE_IN_ALL
ProcAsCompleted *proc_as_completed_new         (ProcFuture          **futures,
                                                guint                 n_futures,
                                                gint64                timeout_usec);
PROC_AVAILABLE_IN_ALL
ProcFuture      *proc_as_completed_next        (ProcAsCompleted      *self,
                                                GError              **error);
PROC_AVAILABLE_IN_ALL
void             proc_as_completed_next_async  (ProcAsCompleted      *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
PROC_AVAILABLE_IN_ALL
ProcFuture      *proc_as_completed_next_finish (ProcAsCompleted      *self,
                                                GAsyncResult         *result,
                                                GError              **error);


G_END_DECLS
