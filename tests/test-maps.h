/* test-maps.h: which file backs an address, from /proc/self/maps
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

guint64 test_mapping_inode (gconstpointer   addr,
                            char          **path);

G_END_DECLS
