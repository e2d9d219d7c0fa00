# procexec: a process pool for Python on the procexec C library
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A drop-in for concurrent.futures.ProcessPoolExecutor, on procexec.

    from procexec import ProcessPoolExecutor      # instead of concurrent.futures'

    with ProcessPoolExecutor() as executor:
        print(executor.submit(pow, 2, 8).result())

procexec.futures mirrors the whole concurrent.futures module with procexec's
ProcessPoolExecutor, so that `import procexec as concurrent` lets code
written as `concurrent.futures.ProcessPoolExecutor(...)` run unchanged.

Extras beyond CPython: a worker crash fails only its own task
(WorkerDiedError, a BrokenProcessPool) and the pool goes on; per-task
timeouts (submit_with(timeout=...), task_timeout=...); Future.interrupt()
stops a running task; tasks report progress with report_progress() to a
callback given to submit_with(progress=...).

The C API stays available through GObject-Introspection:
`from gi.repository import Procexec`.
"""

# The names below are imported on first use (PEP 562), so that a worker
# process, which imports procexec._worker, does not load the executor's
# side of the package unless the task's code asks for it.
_LAZY = {
    'BrokenProcessPool': '_executor',
    'Future': '_executor',
    'ProcessPoolExecutor': '_executor',
    'ResultUnpicklingError': '_executor',
    'TaskInterruptedError': '_executor',
    'TaskTimeoutError': '_executor',
    'TaskUnpicklingError': '_executor',
    'WorkerDiedError': '_executor',
    'interrupted': '_worker',
    'report_progress': '_worker',
    'futures': None,
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError('module %r has no attribute %r' % (__name__, name)) from None
    import importlib
    if module is None:
        value = importlib.import_module('.' + name, __name__)
    else:
        value = getattr(importlib.import_module('.' + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
