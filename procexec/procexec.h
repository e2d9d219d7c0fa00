/* procexec.h: the one header of procexec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef PROCEXEC_H
#define PROCEXEC_H

#define PROCEXEC_INSIDE
# include "proc-version.h"
# include "proc-version-macros.h"
# include "proc-enums.h"
# include "proc-enum-types.h"
# include "proc-future.h"
# include "proc-completion-queue.h"
# include "proc-map-iter.h"
# include "proc-executor.h"
# include "proc-wait.h"
# include "proc-shared-buffer.h"
# include "proc-task.h"
# include "proc-worker.h"
#undef PROCEXEC_INSIDE

#endif /* PROCEXEC_H */
