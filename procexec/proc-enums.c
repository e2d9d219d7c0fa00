/* proc-enums.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-enums.h"

G_DEFINE_QUARK (proc-error-quark, proc_error)
