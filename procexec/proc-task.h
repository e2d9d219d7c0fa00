/* proc-task.h: one running task, as seen by the worker that runs it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "proc-version-macros.h"

G_BEGIN_DECLS

#define PROC_TYPE_TASK (proc_task_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcTask, proc_task, PROC, TASK, GObject)

PROC_AVAILABLE_IN_ALL
const char   *proc_task_get_name            (ProcTask   *self);
PROC_AVAILABLE_IN_ALL
GCancellable *proc_task_get_cancellable     (ProcTask   *self);
PROC_AVAILABLE_IN_ALL
gboolean      proc_task_is_cancelled        (ProcTask   *self);
PROC_AVAILABLE_IN_ALL
GUnixFDList  *proc_task_get_fd_list         (ProcTask   *self);
PROC_AVAILABLE_IN_ALL
void          proc_task_set_result_fd_list  (ProcTask    *self,
                                             GUnixFDList *fd_list);
PROC_AVAILABLE_IN_ALL
void          proc_task_report_progress     (ProcTask   *self,
                                             double      fraction,
                                             GVariant   *detail);

G_END_DECLS
