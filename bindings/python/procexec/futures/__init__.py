# procexec.futures: concurrent.futures, with procexec's ProcessPoolExecutor
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The concurrent.futures module, with procexec.ProcessPoolExecutor.

Everything else (ThreadPoolExecutor, Future, wait, as_completed, the
constants and exceptions) is concurrent.futures' own, so the futures of
both pools mix freely. Code written as

    import concurrent.futures
    ... concurrent.futures.ProcessPoolExecutor() ...
    ... concurrent.futures.as_completed(fs) ...

runs on procexec with only its import line changed to

    import procexec as concurrent

(`procexec.futures` is this module), and `from concurrent.futures import X`
becomes `from procexec.futures import X`.
"""

from concurrent.futures import (  # noqa: F401
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    InvalidStateError,
    ThreadPoolExecutor,
    TimeoutError,
    as_completed,
    wait,
)

from .._executor import ProcessPoolExecutor
from . import process, thread  # noqa: F401 (procexec.futures.process, as concurrent.futures')

__all__ = (
    'FIRST_COMPLETED',
    'FIRST_EXCEPTION',
    'ALL_COMPLETED',
    'CancelledError',
    'TimeoutError',
    'BrokenExecutor',
    'InvalidStateError',
    'Future',
    'Executor',
    'wait',
    'as_completed',
    'ProcessPoolExecutor',
    'ThreadPoolExecutor',
)
