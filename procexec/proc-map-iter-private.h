/* proc-map-iter-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "proc-executor.h"
#include "proc-map-iter.h"

G_BEGIN_DECLS

ProcMapIter *_proc_map_iter_new (ProcExecutor     *executor,
                                 const char       *task,
                                 GVariant         *inputs,
                                 ProcMapInputFunc  input_func,
                                 gpointer          user_data,
                                 GDestroyNotify    destroy,
                                 guint             chunksize,
                                 guint             buffersize,
                                 gint64            timeout_usec,
                                 GError          **error);

G_END_DECLS
