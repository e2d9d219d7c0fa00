/* proc-worker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "proc-task.h"
#include "proc-worker.h"

G_BEGIN_DECLS

ProcTask *_proc_task_new              (ProcWorker   *worker,
                                       guint64       id,
                                       const char   *name,
                                       GCancellable *cancellable,
                                       GUnixFDList  *fd_list);
void      _proc_task_reset            (ProcTask     *task,
                                       guint64       id,
                                       const char   *name,
                                       GCancellable *cancellable,
                                       GUnixFDList  *fd_list);
GUnixFDList *_proc_task_steal_result_fd_list (ProcTask *task);
void      _proc_worker_report_progress (ProcWorker  *worker,
                                        guint64      id,
                                        double       fraction,
                                        GVariant    *detail);

G_END_DECLS
