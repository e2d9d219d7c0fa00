/* proc-version-macros.h: symbol export and availability macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (PROCEXEC_INSIDE) && !defined (PROCEXEC_COMPILATION)
# error "Only <procexec.h> can be included directly."
#endif

#include <glib.h>

#include "proc-version.h"

/* The library is built with hidden visibility; config.h turns this into the
 * visibility("default") attribute while the library itself is compiled. */
#ifndef _PROC_EXTERN
# define _PROC_EXTERN extern
#endif

#define PROC_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#ifndef PROC_VERSION_MIN_REQUIRED
# define PROC_VERSION_MIN_REQUIRED PROC_VERSION_1_0
#endif

#ifndef PROC_VERSION_MAX_ALLOWED
# define PROC_VERSION_MAX_ALLOWED PROC_VERSION_1_0
#endif

#define PROC_AVAILABLE_IN_ALL _PROC_EXTERN
#define PROC_AVAILABLE_IN_1_0 _PROC_EXTERN
