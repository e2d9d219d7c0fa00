/* proc-executor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "proc-executor.h"
#include "proc-future-private.h"

G_BEGIN_DECLS

ProcFuture *_proc_executor_submit_chunk (ProcExecutor  *self,
                                         const char    *task,
                                         GVariant      *items,
                                         GError       **error);
gboolean    _proc_check_task_name       (const char    *task,
                                         GError       **error);

G_END_DECLS
