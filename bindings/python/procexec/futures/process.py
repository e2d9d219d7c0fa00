# procexec.futures.process: concurrent.futures.process, on procexec
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What concurrent.futures.process exports, with procexec's pool.

BrokenProcessPool here is procexec's, a subclass of CPython's, so
`except concurrent.futures.process.BrokenProcessPool` catches both.
"""

from concurrent.futures.process import _RemoteTraceback

from .._executor import (
    BrokenProcessPool,
    ProcessPoolExecutor,
    ResultUnpicklingError,
    TaskUnpicklingError,
    TaskInterruptedError,
    TaskTimeoutError,
    WorkerDiedError,
)

__all__ = [
    'BrokenProcessPool',
    'ProcessPoolExecutor',
    'ResultUnpicklingError',
    'TaskInterruptedError',
    'TaskTimeoutError',
    'TaskUnpicklingError',
    'WorkerDiedError',
    '_RemoteTraceback',
]
