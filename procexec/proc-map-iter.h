/* proc-map-iter.h: ordered results of ProcExecutor's map
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "proc-version-macros.h"

G_BEGIN_DECLS

#define PROC_TYPE_MAP_ITER (proc_map_iter_get_type ())

PROC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (ProcMapIter, proc_map_iter, PROC, MAP_ITER, GObject)

PROC_AVAILABLE_IN_ALL
gboolean proc_map_iter_next         (ProcMapIter          *self,
                                     GVariant            **result,
                                     GError              **error);
PROC_AVAILABLE_IN_ALL
void     proc_map_iter_next_async   (ProcMapIter          *self,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer              user_data);
PROC_AVAILABLE_IN_ALL
gboolean proc_map_iter_next_finish  (ProcMapIter          *self,
                                     GAsyncResult         *result,
                                     GVariant            **out_result,
                                     GError              **error);
PROC_AVAILABLE_IN_ALL
void     proc_map_iter_close        (ProcMapIter          *self);


G_END_DECLS
