/* proc-shared-buffer.h: memory that crosses to another process uncopied
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <glib.h>

#include "proc-version-macros.h"

G_BEGIN_DECLS

typedef struct _ProcSharedBuffer ProcSharedBuffer;

PROC_AVAILABLE_IN_ALL
ProcSharedBuffer *proc_shared_buffer_new           (gsize              size,
                                                    GError           **error);
PROC_AVAILABLE_IN_ALL
gpointer          proc_shared_buffer_get_data      (ProcSharedBuffer  *self);
PROC_AVAILABLE_IN_ALL
gsize             proc_shared_buffer_get_size      (ProcSharedBuffer  *self);
PROC_AVAILABLE_IN_ALL
GBytes           *proc_shared_buffer_free_to_bytes (ProcSharedBuffer  *self,
                                                    GError           **error);
PROC_AVAILABLE_IN_ALL
void              proc_shared_buffer_free          (ProcSharedBuffer  *self);

PROC_AVAILABLE_IN_ALL
GBytes           *proc_shared_bytes_new            (const guint8      *data,
                                                    gsize              size,
                                                    GError           **error);
PROC_AVAILABLE_IN_ALL
gboolean          proc_bytes_is_shared             (GBytes            *bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProcSharedBuffer, proc_shared_buffer_free)

G_END_DECLS
