/* proc-enums.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "proc-enums.h"

/**
 * proc_error_quark:
 *
 * The error domain of procexec, [error@Error] (`PROC_ERROR` in C).
 *
 * Returns: the quark of the `proc-error-quark` domain
 */
G_DEFINE_QUARK (proc-error-quark, proc_error)
