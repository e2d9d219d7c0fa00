/* proc-enums.h: enumerations and the error domain of procexec
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

/**
 * ProcError:
 * @PROC_ERROR_FAILED: a failure with no more specific code
 * @PROC_ERROR_SHUTDOWN: the executor has been shut down and accepts no work
 * @PROC_ERROR_BROKEN: the pool cannot run work any more (its initializer
 *   failed, or new workers keep dying before they take a task)
 * @PROC_ERROR_WORKER_DIED: the worker running the task exited or was killed;
 *   the message names its pid and exit status or signal
 * @PROC_ERROR_TASK_TIMEOUT: the task ran past its timeout and its worker was
 *   killed
 * @PROC_ERROR_UNKNOWN_TASK: no task of that name is registered in the worker
 * @PROC_ERROR_INVALID_ARGUMENT: an argument was not acceptable
 * @PROC_ERROR_PROTOCOL: a worker sent a malformed message; it was killed
 * @PROC_ERROR_PENDING: the future is not done yet
 * @PROC_ERROR_SPAWN: a worker process could not be started
 *
 * Error codes of the `PROC_ERROR` domain.
 *
 * Errors raised by a task itself keep their own domain and code; the
 * cancellation of a future is reported as `G_IO_ERROR_CANCELLED` and an
 * expired wait as `G_IO_ERROR_TIMED_OUT`, as in GIO.
 */
typedef enum {
  PROC_ERROR_FAILED,
  PROC_ERROR_SHUTDOWN,
  PROC_ERROR_BROKEN,
  PROC_ERROR_WORKER_DIED,
  PROC_ERROR_TASK_TIMEOUT,
  PROC_ERROR_UNKNOWN_TASK,
  PROC_ERROR_INVALID_ARGUMENT,
  PROC_ERROR_PROTOCOL,
  PROC_ERROR_PENDING,
  PROC_ERROR_SPAWN,
} ProcError;

/**
 * PROC_ERROR:
 *
 * The error domain of procexec.
 */
#define PROC_ERROR (proc_error_quark ())

PROC_AVAILABLE_IN_ALL
GQuark proc_error_quark (void);

/**
 * ProcFutureState:
 * @PROC_FUTURE_STATE_PENDING: queued, not yet handed to a worker
 * @PROC_FUTURE_STATE_RUNNING: handed to a worker; it can no longer be
 *   cancelled with [method@Future.cancel]
 * @PROC_FUTURE_STATE_FINISHED: done, with a result or an error
 * @PROC_FUTURE_STATE_CANCELLED: cancelled before it ran
 *
 * The life cycle of a [class@Future]: PENDING → RUNNING → FINISHED, or
 * PENDING → CANCELLED.
 */
typedef enum {
  PROC_FUTURE_STATE_PENDING,
  PROC_FUTURE_STATE_RUNNING,
  PROC_FUTURE_STATE_FINISHED,
  PROC_FUTURE_STATE_CANCELLED,
} ProcFutureState;

/**
 * ProcWaitMode:
 * @PROC_WAIT_FIRST_COMPLETED: return when any future is done
 * @PROC_WAIT_FIRST_EXCEPTION: return when any future fails, or when all are
 *   done
 * @PROC_WAIT_ALL_COMPLETED: return when every future is done
 *
 * When [func@wait_futures] returns, as `return_when` of Python's
 * `concurrent.futures.wait()`.
 */
typedef enum {
  PROC_WAIT_FIRST_COMPLETED,
  PROC_WAIT_FIRST_EXCEPTION,
  PROC_WAIT_ALL_COMPLETED,
} ProcWaitMode;

G_END_DECLS
