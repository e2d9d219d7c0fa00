/* proc-shared-buffer-private.h: what the channel asks of shared buffers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

int _proc_shared_region_dup_fd (gconstpointer data,
                                gsize         size);

G_END_DECLS
