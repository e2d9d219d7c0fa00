# _worker.py: the worker program of procexec.ProcessPoolExecutor
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A worker is a Procexec.Worker, written through GObject-Introspection, that
# registers these generic tasks:
#
#   procexec-py-init           run once by the C layer before any task (the
#                              executor's "initializer"): prepares the
#                              process as CPython's spawn start method does
#                              (sys.path, sys.argv, the authkey, the main
#                              script imported as __mp_main__), then runs the
#                              user's initializer. If anything fails, it
#                              raises a GLib.Error: the C layer then reports
#                              INIT_FAILED and the pool is broken, as in
#                              CPython.
#   procexec-py-call           unpickles (fn, args, kwargs) from its `(ay)`
#   procexec-py-call-progress  argument, calls it, and returns an `ay`: the
#                              pickled result, or the pickled exception with
#                              its formatted traceback, then a kind byte (0:
#                              result, 1: exception, 2: the task could not be
#                              unpickled; last, as unpickling ignores what
#                              follows a pickle). A task's exception is
#                              data: the C layer's GError path is left for
#                              real failures (a worker that died, a
#                              timeout...). The -progress variant is used
#                              when the parent listens for progress reports.
#   procexec-py-call-buffers   the same for a call whose large bytes
#   procexec-py-call-progress-buffers  arguments come in a memfd: a `(ayat)`
#                              argument and an fd (see _wire). A result
#                              holding large bytes, from any of these
#                              tasks, sends them in a memfd as the task's
#                              result fd list, with the kind byte 3.
#
# A task's print() goes to the parent's stdout: the C layer gives workers
# the parent's stdout and stderr, and _run() flushes both after each task.
#
# The executor starts it as
#   python3 [interpreter flags] -c "<BOOTSTRAP>" procexec-worker:<token>
# where BOOTSTRAP imports the parent's procexec package from its folder and
# calls main(); the token lets the parent tell its own workers apart in
# /proc.

import functools
import io
import os
import pickle
import sys
import types

from ._gi import GLib, Procexec, T_AY, ay_variant, variant_bytes, variant_from_bytes
from ._wire import (CALL_BUFFERS_TASK, CALL_PROGRESS_BUFFERS_TASK, CALL_PROGRESS_TASK,
                    CALL_TASK, INIT_TASK, big_items, load_call_with_buffers,
                    result_with_buffers)


ERROR_DOMAIN = 'procexec-python-error-quark'

_HIGHEST = pickle.HIGHEST_PROTOCOL
_dumps = pickle.dumps
_loads = pickle.loads

# The last byte of a task's outcome, after the pickle.
_OK = b'\x00'           # the pickled result
_RAISED = b'\x01'       # the task raised: the pickled exception
_UNPICKLING = b'\x02'   # (fn, args, kwargs) could not be unpickled here

# True while the main script is being imported as __mp_main__. A
# ProcessPoolExecutor created then (a script without an
# `if __name__ == '__main__':` guard) stops the import there, see
# StopMainImport.
bootstrapping = False

# The task running now and whether its parent listens for progress.
_current_task = None
_current_reports = False


class StopMainImport(BaseException):
    """Raised by ProcessPoolExecutor() while a worker imports the main script.

    A script without an `if __name__ == '__main__':` guard would otherwise
    create a pool in every worker. The worker stops importing the script
    there: everything defined above that point (the task functions) is
    available, the rest of the script does not run in workers.
    """


def in_worker():
    """Whether this process is a procexec Python worker."""
    return _worker is not None


_worker = None


# ---- the main script, as multiprocessing.spawn does it ---------------------

def _run_main(run):
    """Runs the main script's code by calling @run, in bootstrapping mode."""
    global bootstrapping
    bootstrapping = True
    try:
        run()
    except StopMainImport:
        pass
    finally:
        bootstrapping = False


def _new_main_module(**attributes):
    module = types.ModuleType('__mp_main__')
    module.__builtins__ = __builtins__
    for name, value in attributes.items():
        setattr(module, name, value)
    # As multiprocessing.spawn: pickles made in the parent name it __main__.
    sys.modules['__main__'] = sys.modules['__mp_main__'] = module
    return module


def _fixup_main_from_path(main_path):
    current_main = sys.modules['__main__']
    main_name = os.path.splitext(os.path.basename(main_path))[0]
    if main_name == 'ipython':
        return
    if getattr(current_main, '__file__', None) == main_path:
        return

    module = _new_main_module(__file__=main_path, __spec__=None, __loader__=None)
    if os.path.isfile(main_path):
        with io.open_code(main_path) as f:
            code = compile(f.read(), main_path, 'exec')
        _run_main(lambda: exec(code, module.__dict__))
    else:
        # A directory or a zip file with a __main__.py: runpy knows how.
        import runpy
        _run_main(lambda: module.__dict__.update(
            runpy.run_path(main_path, run_name='__mp_main__')))


def _fixup_main_from_name(mod_name):
    current_main = sys.modules['__main__']
    if mod_name == '__main__' or mod_name.endswith('.__main__'):
        return
    if getattr(current_main.__spec__, 'name', None) == mod_name:
        return

    import importlib.util
    spec = importlib.util.find_spec(mod_name)
    if spec is None or spec.loader is None:
        raise ImportError('No module named %r (the main module of the parent)' % mod_name)
    code = spec.loader.get_code(mod_name)
    module = _new_main_module(__spec__=spec, __file__=spec.origin, __loader__=spec.loader,
                              __package__=spec.parent)
    _run_main(lambda: exec(code, module.__dict__))


def _prepare(data):
    """Makes this process look like the parent, as multiprocessing.spawn."""
    import multiprocessing.process as mpp

    if 'sys_path' in data:
        sys.path[:] = data['sys_path']
    if 'sys_argv' in data:
        sys.argv[:] = data['sys_argv']
    if 'authkey' in data:
        mpp.current_process().authkey = data['authkey']
    if 'orig_dir' in data:
        mpp.ORIGINAL_DIR = data['orig_dir']
    if 'main_name' in data:
        _fixup_main_from_name(data['main_name'])
    elif 'main_path' in data:
        _fixup_main_from_path(data['main_path'])


def _init_task(task, args, *user_data):
    """Runs once, before the first task (the C layer's initializer)."""
    try:
        data = _loads(variant_bytes(args))
        _prepare(data)
        init = data.get('initializer')
        if init is not None:
            initializer, initargs = _loads(init)
            del init
            initializer(*initargs)
    except BaseException as e:
        # As CPython's _process_worker: log it, then the pool breaks.
        import logging
        logging.getLogger('concurrent.futures').critical('Exception in initializer:',
                                                         exc_info=True)
        _flush()
        # CPython's worker exits here, which flushes multiprocessing queues
        # (say, one a QueueHandler logs to) before the parent learns that
        # the pool is broken. Flush them now, before the C layer tells it.
        mp_util = sys.modules.get('multiprocessing.util')
        if mp_util is not None:
            try:
                mp_util._run_finalizers()
            except Exception:
                pass
        message = ''.join(__import__('traceback').format_exception_only(type(e), e)).strip()
        raise GLib.Error.new_literal(GLib.quark_from_string(ERROR_DOMAIN), message, 1)
    finally:
        _flush()
    return None


# ---- tasks ------------------------------------------------------------------

def _rebuild_exc(exc, tb):
    """Unpickles a task's exception in the parent, as CPython's
    concurrent.futures.process._rebuild_exc: the remote traceback becomes
    its __cause__."""
    from concurrent.futures.process import _RemoteTraceback
    exc.__cause__ = _RemoteTraceback(tb)
    return exc


class _ExceptionWithTraceback:
    """As CPython's concurrent.futures.process._ExceptionWithTraceback,
    without importing multiprocessing into every worker."""

    def __init__(self, exc, tb):
        import traceback
        tb = ''.join(traceback.format_exception(type(exc), exc, tb))
        self.exc = exc
        # The traceback's frames hold every object of the task's scope.
        self.exc.__traceback__ = None
        self.tb = '\n"""\n%s"""' % tb

    def __reduce__(self):
        return _rebuild_exc, (self.exc, self.tb)


def _exception_payload(exc, kind=_RAISED):
    try:
        return _dumps(_ExceptionWithTraceback(exc, exc.__traceback__), _HIGHEST) + kind
    except BaseException as e:
        # The exception cannot be pickled: send the pickling error instead,
        # as CPython's _sendback_result does.
        error = e
    try:
        return _dumps(_ExceptionWithTraceback(error, error.__traceback__), _HIGHEST) + kind
    except BaseException:
        err = RuntimeError('%s, which could not be pickled: %s' % (type(exc).__name__, exc))
        return _dumps(_ExceptionWithTraceback(err, None), _HIGHEST) + kind


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


_ay_variant = ay_variant
# The worker reuses one ProcTask for all its tasks: keeping its wrapper
# saves making a new one per task.
_last_task = None


_sigint_blocked = False


def _unblock_sigint():
    global _sigint_blocked
    import signal
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _sigint_blocked = False


def _run(task, args, *user_data, reports, buffers):
    global _current_task, _current_reports, _last_task
    if _sigint_blocked:
        _unblock_sigint()
    _current_task = _last_task = task
    _current_reports = reports
    try:
        try:
            if buffers:
                # `(ayat)`: large bytes arguments travel in a memfd (_wire).
                fn, a, kw = load_call_with_buffers(args, task)
            else:
                fn, a, kw = _loads(args.get_data_as_bytes().get_data())
        except BaseException as e:
            out = _exception_payload(e, _UNPICKLING)
        else:
            result = fn(*a, **kw)
            del fn, a, kw
            t = type(result)
            out = None
            if (t is bytes or t is tuple or t is list) and big_items(result):
                out = result_with_buffers(result, _HIGHEST, task)
            if out is None:
                out = _dumps(result, _HIGHEST) + _OK
    except BaseException as e:
        out = _exception_payload(e)
    finally:
        _current_task = None
        _current_reports = False
        _flush()
    return _ay_variant(out)


# The tasks, as partials of _run: called from C, they add no Python frame
# of their own to each task.
_call_task = functools.partial(_run, reports=False, buffers=False)
_call_progress_task = functools.partial(_run, reports=True, buffers=False)
_call_buffers_task = functools.partial(_run, reports=False, buffers=True)
_call_progress_buffers_task = functools.partial(_run, reports=True, buffers=True)


# ---- API for task functions ---------------------------------------------------

def report_progress(fraction, detail=None):
    """Reports the progress of the running task to the parent.

    Call it from the task function (in the worker). The parent's callback
    given to ProcessPoolExecutor.submit_with(progress=...) receives the
    fraction (clamped to 0.0–1.0) and @detail, which must be picklable.
    Without such a callback the report is dropped; outside of a task it
    raises RuntimeError.
    """
    task = _current_task
    if task is None:
        raise RuntimeError('report_progress() must be called by a task '
                           'running in a procexec worker')
    fraction = float(fraction)
    if not _current_reports:
        return
    dv = None
    if detail is not None:
        dv = variant_from_bytes(T_AY, _dumps(detail, _HIGHEST))
    task.report_progress(fraction, dv)


def interrupted():
    """Whether the parent interrupted the running task.

    Long tasks may poll it and return early; a task that does not is killed
    after the executor's cancel_grace. Outside of a task it returns False.
    """
    task = _current_task
    return task is not None and task.is_cancelled()


# ---- main ---------------------------------------------------------------------

def _on_sigint(signum, frame):
    # A Ctrl-C in the terminal reaches the workers too. A running task gets
    # KeyboardInterrupt, as in CPython, and reports it; an idle worker
    # ignores it (Python would raise it at the start of its next task).
    if _current_task is not None:
        raise KeyboardInterrupt


def main():
    global _worker

    if not Procexec.Worker.is_worker_process():
        sys.stderr.write('procexec._worker: this program is started by '
                         'procexec.ProcessPoolExecutor, not by hand\n')
        sys.exit(2)

    import signal
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
        # The C layer's reader thread, created by serve(), must not take
        # the signal: only a signal delivered to the main thread interrupts
        # the task's blocking calls. It inherits this mask; the main thread
        # unblocks the signal at its first task (_run).
        global _sigint_blocked
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        _sigint_blocked = True

    _worker = Procexec.Worker.new()
    _worker.register_task(INIT_TASK, _init_task)
    _worker.register_task(CALL_TASK, _call_task)
    _worker.register_task(CALL_PROGRESS_TASK, _call_progress_task)
    _worker.register_task(CALL_BUFFERS_TASK, _call_buffers_task)
    _worker.register_task(CALL_PROGRESS_BUFFERS_TASK, _call_progress_buffers_task)

    status = 0
    try:
        _worker.serve()
    except GLib.Error as e:
        # The initializer failed (already logged, and reported to the
        # parent) or the channel broke: nothing more to do here.
        if not (e.domain == ERROR_DOMAIN or
                e.matches(Procexec.error_quark(), Procexec.Error.BROKEN)):
            sys.stderr.write('procexec worker %d: %s\n' % (os.getpid(), e.message))
        status = 1
    finally:
        _flush()
    sys.exit(status)
