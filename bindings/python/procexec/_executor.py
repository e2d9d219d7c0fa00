# _executor.py: procexec.ProcessPoolExecutor, a drop-in for
# concurrent.futures.ProcessPoolExecutor built on Procexec.Executor
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# How it works
#
# submit() pickles (fn, args, kwargs) on the calling thread and submits it
# to a Procexec.Executor as the task "procexec-py-call" of the Python worker
# program (procexec._worker), with the pickle as a `(ay)` GVariant. The
# ProcFuture it gets back goes into a Procexec.CompletionQueue. One
# collector thread per executor blocks in CompletionQueue.take(), in C and
# without the GIL, and settles the concurrent.futures.Future of every
# ProcFuture that completed: a batch per wake-up, no thread per task and no
# polling.
#
# A task's outcome travels as an `ay`: the pickled result or the pickled
# exception carrying its remote traceback, then a kind byte (0: result, 1:
# exception, 2: the worker could not unpickle the task, 3: a result whose
# large bytes are in the task's result fd list). The C layer's errors are the
# pool's own failures: a worker that died, a timeout, an interrupted task,
# a broken pool. Large bytes objects travel beside the pickles (_wire).

import itertools
import logging
import multiprocessing
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from collections import deque

import concurrent.futures as _cf
from concurrent.futures import _base
from concurrent.futures.process import BrokenProcessPool as _CPythonBrokenProcessPool
from concurrent.futures.process import _RemoteTraceback

from ._gi import GLib, Procexec, T_TUPLE_AY, variant_bytes, variant_from_bytes
from ._wire import (CALL_BUFFERS_TASK, CALL_PROGRESS_BUFFERS_TASK, CALL_PROGRESS_TASK,
                    CALL_TASK, INIT_TASK, RESULT_WITH_BUFFERS, call_with_buffers,
                    has_big_bytes, load_result_with_buffers)

__all__ = [
    'ProcessPoolExecutor',
    'Future',
    'BrokenProcessPool',
    'WorkerDiedError',
    'TaskTimeoutError',
    'TaskInterruptedError',
    'ResultUnpicklingError',
    'TaskUnpicklingError',
]

LOGGER = logging.getLogger('concurrent.futures')

# Bound once: submit() is the hot path.
_new_from_bytes = GLib.Variant.new_from_bytes
_Bytes = GLib.Bytes.new

_HIGHEST = pickle.HIGHEST_PROTOCOL
_dumps = pickle.dumps
_loads = pickle.loads

_PENDING = _base.PENDING
_RUNNING = _base.RUNNING
_CANCELLED = _base.CANCELLED
_CANCELLED_AND_NOTIFIED = _base.CANCELLED_AND_NOTIFIED
_FINISHED = _base.FINISHED

_PF_PENDING = Procexec.FutureState.PENDING
_PF_CANCELLED = Procexec.FutureState.CANCELLED

_PROC_ERROR_DOMAIN = 'proc-error-quark'
_GIO_ERROR_DOMAIN = 'g-io-error-quark'
_GIO_ERROR_CANCELLED = 19   # G_IO_ERROR_CANCELLED

_CALL_TASK = CALL_TASK

# How long Future.result() waits for its task in C before it leaves the
# future to the collector thread (see Future._settle_here).
_FAST_WAIT_USEC = 20_000

# The largest max-workers the C library accepts.
_MAX_WORKERS_LIMIT = 4096

# The worker's command: it imports this very procexec package (the one the
# parent runs, wherever it is) without putting its folder on sys.path,
# where it could hide other modules; _worker then sets sys.path as the
# parent's.
_BOOTSTRAP = ('import sys, importlib.util as u; '
              's = u.spec_from_file_location("procexec", {init!r}, '
              'submodule_search_locations=[{pkg!r}]); '
              'm = sys.modules["procexec"] = u.module_from_spec(s); s.loader.exec_module(m); '
              'from procexec._worker import main; main()')


# ---- exceptions ---------------------------------------------------------------

class BrokenProcessPool(_CPythonBrokenProcessPool):
    """The pool cannot run work any more (its initializer failed, or new
    workers keep dying before they are ready).

    A subclass of concurrent.futures.process.BrokenProcessPool, so existing
    `except BrokenProcessPool` clauses catch it.
    """


class WorkerDiedError(BrokenProcessPool):
    """The worker running the task exited or was killed.

    Only the tasks that worker was running fail with it; the worker is
    replaced and the pool goes on (CPython breaks the whole pool). The
    message names the pid and the exit status or signal. It is a
    BrokenProcessPool, so code written for CPython still catches it.
    """


class TaskUnpicklingError(BrokenProcessPool):
    """The task (its function or arguments) could not be unpickled in the
    worker; __cause__ is the worker's exception, with its traceback.

    CPython's pool breaks then (its worker dies), hence a BrokenProcessPool;
    here only this task fails and the worker goes on.
    """


class ResultUnpicklingError(BrokenProcessPool):
    """The task's outcome (its result or exception) reached the parent
    but could not be unpickled there; __cause__ says why.

    CPython's pool breaks then, hence a BrokenProcessPool; here only this
    task fails.
    """


class TaskTimeoutError(TimeoutError):
    """The task ran past its timeout (see submit_with() and the task_timeout
    argument); its worker was killed and replaced.

    Unlike the TimeoutError of Future.result(timeout=...), which means "not
    done yet", this one is the task's final outcome.
    """


class TaskInterruptedError(_cf.CancelledError):
    """The task was stopped while it ran, by Future.interrupt().

    A subclass of concurrent.futures.CancelledError. The future is
    finished with this exception, not cancelled: cancelled() stays False,
    as cancelled() means "never ran".
    """


def _submit_error(error):
    """What submit() raises for a GLib.Error of Executor.submit()."""
    exc = _error_from_gerror(error)
    if isinstance(exc, BrokenProcessPool):
        exc = BrokenProcessPool('A child process terminated abruptly, the process pool '
                                'is not usable anymore (%s)' % error.message)
    return exc


def _error_from_gerror(error):
    """The Python exception for a GLib.Error of the C layer."""
    domain, code, message = error.domain, error.code, error.message
    if domain == _PROC_ERROR_DOMAIN:
        if code == Procexec.Error.WORKER_DIED:
            exc = WorkerDiedError(message)
        elif code == Procexec.Error.PROTOCOL:
            exc = WorkerDiedError(message)
        elif code == Procexec.Error.TASK_TIMEOUT:
            exc = TaskTimeoutError(message)
        elif code in (Procexec.Error.BROKEN, Procexec.Error.SPAWN):
            exc = BrokenProcessPool(message)
        elif code == Procexec.Error.SHUTDOWN:
            exc = RuntimeError('cannot schedule new futures after shutdown')
        else:
            exc = RuntimeError(message)
    elif domain == _GIO_ERROR_DOMAIN and code == _GIO_ERROR_CANCELLED:
        exc = TaskInterruptedError(message)
    else:
        exc = RuntimeError('%s (%s, %d)' % (message, domain, code))
    return exc


# ---- the future -----------------------------------------------------------------

_DONE_STATES = frozenset((_CANCELLED, _CANCELLED_AND_NOTIFIED, _FINISHED))
_allocate_lock = threading.Lock
_Condition = threading.Condition


class Future(_cf.Future):
    """A concurrent.futures.Future tied to a task in the pool.

    cancel() cancels the task in the pool too, and fails (returns False)
    once a worker has it, as in CPython. interrupt() also stops a running
    task.

    It behaves as its base class, whose methods it uses, with one
    difference inside: the Condition, the list of waiters and the list of
    done-callbacks are made on first use, around a plain lock made at once.
    Most futures are only ever read once done, and a Condition is a dozen
    objects for the garbage collector to track: making one per task costs
    more than the rest of submit().
    """

    def __init__(self):
        self._state = _PENDING
        self._result = None
        self._exception = None
        self._lock = _allocate_lock()
        self._pf = None
        self._st = None

    def __getattr__(self, name):
        # Only for attributes not made yet.
        if name == '_condition':
            return self.__dict__.setdefault('_condition', _Condition(self._lock))
        if name == '_waiters' or name == '_done_callbacks':
            return self.__dict__.setdefault(name, [])
        raise AttributeError('%r object has no attribute %r' % (type(self).__name__, name))

    # -- reads that need no lock: one attribute, written last under the lock --

    def done(self):
        return self._state in _DONE_STATES

    def cancelled(self):
        state = self._state
        return state == _CANCELLED or state == _CANCELLED_AND_NOTIFIED

    def result(self, timeout=None):
        if self._state == _FINISHED and self._exception is None:
            return self._result
        if self._state != _FINISHED:
            timeout = self._settle_here(timeout)
            if self._state == _FINISHED and self._exception is None:
                return self._result
        return super().result(timeout)

    def exception(self, timeout=None):
        if self._state == _FINISHED:
            return self._exception
        timeout = self._settle_here(timeout)
        if self._state == _FINISHED:
            return self._exception
        return super().exception(timeout)

    def _settle_here(self, timeout):
        """When this future's task is the executor's only pending one,
        waits a little for it in C, without the GIL, and settles the
        future in this thread if it completed, instead of waiting for the
        collector thread to settle it and wake this one: a round trip of
        one short task at a time goes faster. Returns what is left of
        @timeout.

        The wait is short (FAST_WAIT_USEC): Ctrl-C cannot interrupt it.
        Futures with done-callbacks or waiters (wait(), as_completed())
        and futures with progress callbacks are left to the collector, so
        that callbacks run in the executor's threads, as before."""
        pf = self._pf
        st = self._st
        if pf is None or st is None or timeout is not None and timeout <= 0:
            return timeout
        if len(st.pending) > 1:
            # Other tasks are pending: the collector settles the futures
            # that complete in batches, one wake-up for several; waking
            # this thread too for each would cost more than it saves.
            return timeout
        d = self.__dict__
        if d.get('_done_callbacks') or d.get('_waiters') or pf in st.with_progress:
            return timeout
        # Out of the completion queue while this thread waits, so that the
        # collector is not woken for it too (and does not take the GIL
        # from this thread just to find it settled). Whatever happens here,
        # a future this thread did not settle goes back (adding it twice,
        # or one the collector has, is harmless: claim() settles it once).
        claimed = False
        try:
            st.cq_remove(pf)
            if timeout is None:
                done = pf.wait(_FAST_WAIT_USEC)
            else:
                start = time.monotonic()
                done = pf.wait(min(_FAST_WAIT_USEC, int(timeout * 1_000_000)))
                timeout = max(0.0, timeout - (time.monotonic() - start))
            if done:
                box = st.claim(pf)
                if box is not None:
                    claimed = True
                    _settle_guarded(pf, box)
        finally:
            if not claimed:
                st.cq_add(pf)
        if claimed and st.stopping:
            st.wake_collector_if_idle()
        return timeout

    # -- completion, by the collector thread --

    def set_result(self, result):
        _publish([self, result, None])

    def set_exception(self, exception):
        _publish([self, None, exception])

    # -- the task in the pool --

    def _sync_running(self):
        # Called with the lock held: a PENDING future whose task a worker
        # has taken is RUNNING.
        pf = self._pf
        if self._state == _PENDING and pf is not None:
            state = pf.get_state()
            if state != _PF_PENDING and state != _PF_CANCELLED:
                self._state = _RUNNING

    def cancel(self):
        """Cancels the future if its task has not been handed to a worker.

        Returns True if the future is cancelled, False if it is running or
        done, exactly as concurrent.futures.Future.cancel().
        """
        state = self._state
        if state == _FINISHED or state == _RUNNING:
            # Final for cancel(): no need for the lock, nor to make the
            # Condition (map() cancels every future it has yielded).
            return False
        with self._lock:
            if self._state == _PENDING:
                pf = self._pf
                if pf is not None and not pf.cancel():
                    # A worker has it, or it finished: too late.
                    self._state = _RUNNING
                    return False
        return super().cancel()

    def running(self):
        with self._lock:
            self._sync_running()
            return self._state == _RUNNING

    def interrupt(self):
        """Stops the task, even while it runs (an extra of procexec).

        A pending task is cancelled, as by cancel(). A running task's worker
        is asked to stop it (procexec.interrupted() turns True in the task);
        if the task does not return within the executor's cancel_grace, the
        worker is killed and replaced. The future then fails with
        TaskInterruptedError. Returns True if the future was not done.
        """
        if self.cancel():
            return True
        pf = self._pf
        if pf is None:
            return False
        return pf.interrupt()

    def __repr__(self):
        with self._lock:
            self._sync_running()
        return super().__repr__()


# ---- worker processes, as seen from the parent -------------------------------------

class _WorkerProcess:
    """A live worker process (what CPython keeps in `_processes`)."""

    def __init__(self, pid):
        self.pid = pid

    def __repr__(self):
        return '<procexec worker %d>' % self.pid

    def _signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def terminate(self):
        self._signal(signal.SIGTERM)

    def kill(self):
        self._signal(signal.SIGKILL)

    def is_alive(self):
        try:
            with open('/proc/%d/stat' % self.pid, 'rb') as f:
                stat = f.read()
        except OSError:
            return False
        return stat[stat.rfind(b')') + 2:][:1] not in (b'Z', b'X')

    def join(self, timeout=None):
        """Waits until the process has exited."""
        try:
            fd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            return
        try:
            p = select.poll()
            p.register(fd, select.POLLIN)
            p.poll(None if timeout is None else int(timeout * 1000))
        finally:
            os.close(fd)


# ---- per-executor state, shared with the collector thread -------------------------

_states_lock = threading.Lock()
_states = set()            # states whose collector runs
_global_shutdown = False   # the interpreter is exiting


class _State:
    """Everything the collector thread needs. It does not reference the
    ProcessPoolExecutor, so that dropping the executor lets it be collected
    while its work finishes (as in CPython)."""

    def __init__(self, gexec):
        self.gexec = gexec
        self.cq = Procexec.CompletionQueue.new()
        self.pending = {}          # ProcFuture -> Future
        self.lock = threading.Lock()
        self.shutdown = False      # no more submits
        self.stopping = False      # the collector ends once pending is empty
        self.collector = None
        self.progress = None       # _ProgressLoop, on demand
        self.with_progress = set() # ProcFutures with a progress callback
        # Bound once: submit() is the hot path.
        self.gexec_submit = gexec.submit
        self.cq_add = self.cq.add
        self.cq_remove = self.cq.remove
        self.shared_fds = []       # see _sharing

    def track(self, f, pf):
        # With self.lock held: the collector settles f once pf is done.
        f._pf = pf
        f._st = self
        self.pending[pf] = f
        self.cq_add(pf)
        if self.collector is None:
            self.start_collector()

    def claim(self, pf):
        """Takes the future of @pf, which is done, out of pending, as the
        first item of a list for _settle(); None if another thread took
        it first."""
        f = self.pending.pop(pf, None)
        return None if f is None else [f, None, None]

    # -- the collector thread --

    def start_collector(self):
        # With self.lock held.
        t = threading.Thread(target=self._collect, name='procexec-collector',
                             daemon=False)
        self.collector = t
        with _states_lock:
            _states.add(self)
        t.start()

    def _collect(self):
        take = self.cq.take
        pending = self.pending
        with_progress = self.with_progress
        claim = self.claim
        settle = _settle
        try:
            while True:
                batch = take(-1)
                for pf in batch:
                    # No local names the future: see _publish().
                    box = claim(pf)
                    if box is None:
                        continue
                    if with_progress and pf in with_progress:
                        # Settled in the progress thread, after the progress
                        # reports the task sent before its result.
                        with_progress.discard(pf)
                        self.progress.post(_settle_guarded, pf, box)
                        continue
                    try:
                        settle(pf, box)
                    except BaseException:
                        # Never let the collector die: every other future
                        # depends on it. (A done-callback's Exception is
                        # already logged by the Future.)
                        LOGGER.exception('procexec: could not settle the future of %r', pf)
                # Keep nothing between batches.
                batch = pf = box = None
                if self.stopping and not pending:
                    break
        finally:
            if self.progress is not None:
                self.progress.stop()
            with _states_lock:
                _states.discard(self)

    def cancel_pending(self, keep):
        """Stops accepting work and cancels the futures of the tasks no
        worker has taken, but the oldest @keep of them."""
        with self.lock:
            self.shutdown = True
            pending = list(self.pending.items())   # in submission order
        for pf, f in pending:
            if pf.get_state() != _PF_PENDING:
                continue
            if keep > 0:
                keep -= 1
                continue
            # Fails, harmlessly, if a worker took it meanwhile.
            f.cancel()

    def wake_collector_if_idle(self):
        """Once stopping, with nothing pending, closes the completion
        queue, which wakes the collector to end: it may be waiting on the
        queue with nothing to wait for, as after the last future was
        settled outside it (see Future._settle_here)."""
        with self.lock:
            if not self.pending:
                self.cq.close()

    def request_stop(self):
        """Lets the collector end once every submitted future is settled."""
        with self.lock:
            self.shutdown = True
            self.stopping = True
        # It may be waiting with nothing to wait for.
        self.wake_collector_if_idle()

    def join_collector(self):
        t = self.collector
        if t is not None and t is not threading.current_thread():
            t.join()
        progress = self.progress
        if progress is not None:
            if t is None:
                # No collector ran, to stop it.
                progress.stop()
            progress.join()

    def shutdown_now(self, wait, cancel_futures=False):
        with self.lock:
            self.shutdown = True
        self.gexec.shutdown(wait, cancel_futures)
        self.request_stop()
        if wait:
            self.join_collector()
            if self.collector is not threading.current_thread():
                self.collector = None
            # No worker will start any more: the descriptors shared with
            # the initializer's arguments can go.
            if self.shared_fds:
                from . import _sharing
                _sharing.release(self.shared_fds)


def _settle_guarded(pf, box):
    try:
        _settle(pf, box)
    except BaseException:
        LOGGER.exception('procexec: could not settle the future of %r', pf)


def _settle(pf, box):
    """Gives the future box[0] (box is [future, None, None], see
    _State.claim()) the outcome of @pf, which is done."""
    try:
        value = pf.peek_result()
    except GLib.Error as e:
        if pf.get_state() == _PF_CANCELLED:
            # Cancelled in the pool: by Future.cancel(), or by
            # shutdown(cancel_futures=True), or terminate_workers().
            f = box[0]
            if f.cancel() and f._state == _CANCELLED:
                f.set_running_or_notify_cancel()
            f._pf = f._st = None
        else:
            box[2] = _error_from_gerror(e)
            _publish_once(box)
        return

    try:
        data = value.get_data_as_bytes().get_data()
        del value
        kind = data[-1]
        if kind == RESULT_WITH_BUFFERS:
            # Its large bytes came in a memfd (see _wire).
            outcome = load_result_with_buffers(data, pf.get_result_fd_list())
            kind = 0
        else:
            outcome = _loads(data)      # up to its end: the kind byte follows
    except BaseException as e:
        exc = box[2] = ResultUnpicklingError('the outcome of the task could not be '
                                             'unpickled: %s: %s' % (type(e).__name__, e))
        exc.__cause__ = _without_frames(e)
        del e, exc
    else:
        if kind == 0:
            box[1] = outcome
        elif kind == 1:
            box[2] = outcome
        else:
            exc = box[2] = TaskUnpicklingError('the task could not be unpickled in the '
                                               'worker: %s: %s' % (type(outcome).__name__,
                                                                   outcome))
            exc.__cause__ = outcome
            del exc
        del outcome
    _publish_once(box)


def _publish_once(box):
    try:
        _publish(box)
    except _base.InvalidStateError:
        pass


def _publish(box):
    """Finishes the future box[0] with the result box[1] or the exception
    box[2], as set_result() or set_exception(), and empties @box. Makes
    no Condition nobody waits on (the lock is the Condition's, if any).

    Once the future is done, its waiter may run at any moment. The
    collector's frames then hold no reference to the future or its
    outcome: the callers keep them only in @box, and here the state is the
    last thing set before the locals go, with the lock still held. A
    result is then freed as soon as its consumer drops it, as CPython's
    test_free_reference checks."""
    f, result, exception = box
    box.clear()
    d = f.__dict__
    with f._lock:
        state = f._state
        if state not in _DONE_STATES:
            f._result = result
            f._exception = exception
            del result
            # Its waiters need the lock to go on: by then the state is set.
            condition = d.get('_condition')
            if condition is not None:
                condition.notify_all()
            del condition
            waiters = d.get('_waiters')
            callbacks = d.get('_done_callbacks')
            del d
            # Only now: cancel() needs them until the future is done.
            f._pf = f._st = None
            f._state = _FINISHED
            if waiters:
                # wait() and as_completed() hold the future anyway; done()
                # must be True when they wake.
                for waiter in waiters:
                    if exception is None:
                        waiter.add_result(f)
                    else:
                        waiter.add_exception(f)
            del waiters, exception
            if not callbacks:
                del f
                return
    if state in _DONE_STATES:
        # Out of the lock, which repr() takes.
        raise _base.InvalidStateError('{}: {!r}'.format(state, f))
    # The callbacks receive the future.
    f._invoke_callbacks()


def _without_frames(e):
    """@e with its traceback turned into text (a _RemoteTraceback as its
    __cause__, as CPython does for pickling errors), so that a future
    holding it keeps no frame, and no local variable, alive."""
    tb = e.__traceback__
    if tb is not None:
        if e.__cause__ is None:
            text = ''.join(traceback.format_exception(type(e), e, tb))
            e.__cause__ = _RemoteTraceback('\n"""\n%s"""' % text)
        e.__traceback__ = None
    return e


def _python_exit():
    # As CPython's: the program does not exit before the work submitted to
    # any executor is done, and submit() refuses new work from now on.
    global _global_shutdown
    _global_shutdown = True
    with _states_lock:
        states = list(_states)
    for st in states:
        st.shutdown_now(wait=False)
    for st in states:
        st.gexec.shutdown(True, False)
        st.join_collector()


threading._register_atexit(_python_exit)


# ---- progress reports -----------------------------------------------------------------

class _ProgressLoop:
    """A thread iterating a GMainContext of its own, in which the progress
    signals of the futures submitted with a progress callback are emitted.

    ProcFuture emits ::progress in the thread-default context of the thread
    that submitted the task, so those tasks are submitted from this thread.
    """

    def __init__(self):
        self.context = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.context, False)
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,),
                                       name='procexec-progress', daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready):
        self.context.push_thread_default()
        try:
            src = GLib.idle_source_new()
            src.set_callback(lambda *a: ready.set() or False)
            src.attach(self.context)
            self.loop.run()
        finally:
            self.context.pop_thread_default()

    def call(self, func):
        """Runs @func in the loop's thread and returns what it returns."""
        if threading.current_thread() is self.thread:
            return func()
        done = threading.Event()
        box = []

        def run(*args):
            try:
                box.append((True, func()))
            except BaseException as e:
                box.append((False, e))
            done.set()
            return False

        src = GLib.idle_source_new()
        src.set_callback(run)
        src.attach(self.context)
        done.wait()
        ok, value = box.pop()
        if ok:
            return value
        raise value

    def post(self, func, *args):
        """Runs func(*args) in the loop's thread, after what is queued."""
        def run(*unused):
            func(*args)
            return False
        src = GLib.idle_source_new()
        src.set_callback(run)
        src.attach(self.context)

    def stop(self):
        """Ends the thread once what is queued ran."""
        self.post(self.loop.quit)

    def join(self):
        if self.thread is not threading.current_thread():
            self.thread.join()


def _progress_handler(callback, future_ref):
    def on_progress(pf, fraction, detail):
        f = future_ref()
        if f is None:
            return
        try:
            value = None if detail is None else _loads(variant_bytes(detail))
            callback(f, fraction, value)
        except Exception:
            LOGGER.exception('exception calling progress callback for %r', f)
    return on_progress


# ---- map helpers ----------------------------------------------------------------------

def _process_chunk(fn, chunk):
    """Runs @fn over a chunk of argument tuples, in a worker (as CPython)."""
    return [fn(*args) for args in chunk]


def _batched(iterable, n):
    it = iter(iterable)
    while batch := tuple(itertools.islice(it, n)):
        yield batch


def _result_or_cancel(fut, timeout=None):
    try:
        try:
            return fut.result(timeout)
        finally:
            fut.cancel()
    finally:
        # Break a reference cycle with the exception in fut._exception.
        del fut


# ---- the executor ---------------------------------------------------------------------

def _seconds_to_usec(value, what):
    if value is None:
        return 0
    value = float(value)
    if not value > 0:
        raise ValueError('%s must be None or > 0' % what)
    return max(1, int(value * 1_000_000))


_token_counter = itertools.count(1)


class ProcessPoolExecutor(_base.Executor):
    """A concurrent.futures.ProcessPoolExecutor on procexec.

    It takes CPython's arguments and returns concurrent.futures.Future
    objects. Python callables run in Python worker processes started by
    the C library (as CPython's "spawn" start method: the main script is
    imported as __mp_main__ in each worker).

    Differences from CPython: a worker that crashes fails only the tasks it
    was running (with WorkerDiedError, a BrokenProcessPool) and the pool
    goes on; mp_context is accepted but workers are always started like
    "spawn". Extras (keyword-only): task_timeout (seconds, the default
    per-task timeout), cancel_grace (seconds an interrupted task has to
    return before its worker is killed, and a worker asked to exit has to
    finish its interpreter's finalization); submit_with(); Future.interrupt();
    progress reports.
    """

    def __init__(self, max_workers=None, mp_context=None, initializer=None,
                 initargs=(), *, max_tasks_per_child=None, task_timeout=None,
                 cancel_grace=None):
        worker = sys.modules.get(__package__ + '._worker')
        if worker is not None and worker.bootstrapping:
            # A worker imports a main script without a __main__ guard: stop
            # there, see procexec._worker.StopMainImport. (Only workers
            # import _worker, unless a task function asks for it.)
            raise worker.StopMainImport()

        if max_workers is None:
            max_workers = os.cpu_count() or 1
        else:
            if not isinstance(max_workers, int):
                raise TypeError("max_workers must be an integer or None")
            if max_workers <= 0:
                raise ValueError("max_workers must be greater than 0")
            if max_workers > _MAX_WORKERS_LIMIT:
                raise ValueError("max_workers must be <= %d" % _MAX_WORKERS_LIMIT)
        self._max_workers = max_workers

        if mp_context is None:
            # Workers are always started anew, as with "spawn".
            mp_context = multiprocessing.get_context('spawn')
        self._mp_context = mp_context

        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._initializer = initializer
        self._initargs = initargs

        if max_tasks_per_child is not None:
            if not isinstance(max_tasks_per_child, int):
                raise TypeError("max_tasks_per_child must be an integer")
            elif max_tasks_per_child <= 0:
                raise ValueError("max_tasks_per_child must be >= 1")
            if mp_context.get_start_method(allow_none=False) == "fork":
                raise ValueError("max_tasks_per_child is incompatible with"
                                 " the 'fork' multiprocessing start method;"
                                 " supply a different mp_context.")
        self._max_tasks_per_child = max_tasks_per_child

        task_timeout_usec = _seconds_to_usec(task_timeout, 'task_timeout')
        cancel_grace_usec = None
        if cancel_grace is not None:
            cancel_grace = float(cancel_grace)
            if cancel_grace < 0:
                raise ValueError('cancel_grace must be None or >= 0')
            cancel_grace_usec = int(cancel_grace * 1_000_000)

        prep = self._preparation_data()
        shared_fds = []
        if initializer is not None:
            # Pickled as CPython pickles them for a spawned process, so that
            # initargs may hold multiprocessing queues, locks, values...
            try:
                from . import _sharing
                prep['initializer'], shared_fds = _sharing.dumps_spawning(
                    (initializer, tuple(initargs)))
            except Exception as e:
                raise TypeError('the initializer and its initargs must be picklable, '
                                'to be sent to the worker processes: %s' % e) from e

        self._token = 'procexec-worker:%d:%d' % (os.getpid(), next(_token_counter))
        pkg_dir = os.path.dirname(os.path.abspath(__file__))
        argv = [sys.executable or '/usr/bin/python3',
                *subprocess._args_from_interpreter_flags(),
                '-c', _BOOTSTRAP.format(init=os.path.join(pkg_dir, '__init__.py'),
                                        pkg=pkg_dir),
                self._token]

        props = dict(max_workers=max_workers,
                     worker_argv=argv,
                     initializer=INIT_TASK,
                     initargs=variant_from_bytes(T_TUPLE_AY, _dumps(prep, _HIGHEST)),
                     max_tasks_per_child=max_tasks_per_child or 0,
                     task_timeout=task_timeout_usec)
        if cancel_grace_usec is not None:
            props['cancel_grace'] = cancel_grace_usec
        gexec = Procexec.Executor(**props)

        self._state = _State(gexec)
        # Dropping the executor shuts it down without waiting; submitted
        # work still runs and its futures resolve.
        self._state.shared_fds = shared_fds
        self._finalizer = weakref.finalize(self, _State.shutdown_now, self._state, False)
        if shared_fds:
            from . import _sharing
            weakref.finalize(self, _sharing.release, shared_fds)

    @staticmethod
    def _preparation_data():
        # What multiprocessing.spawn.get_preparation_data() sends a child.
        import multiprocessing.process as mpp
        d = dict(sys_path=list(sys.path),
                 sys_argv=list(sys.argv),
                 authkey=bytes(mpp.current_process().authkey),
                 orig_dir=mpp.ORIGINAL_DIR)
        main_module = sys.modules.get('__main__')
        main_mod_name = getattr(getattr(main_module, '__spec__', None), 'name', None)
        if main_mod_name is not None:
            d['main_name'] = main_mod_name
        else:
            main_path = getattr(main_module, '__file__', None)
            if main_path is not None:
                if not os.path.isabs(main_path) and mpp.ORIGINAL_DIR is not None:
                    main_path = os.path.join(mpp.ORIGINAL_DIR, main_path)
                d['main_path'] = os.path.normpath(main_path)
        return d

    # -- submitting --

    def submit(self, fn, /, *args, **kwargs):
        """Schedules fn(*args, **kwargs) in a worker and returns its Future."""
        # The hot path: _submit() inlined for the common case.
        if (args and has_big_bytes(args)) or (kwargs and has_big_bytes(kwargs.values())):
            # Large bytes travel in a memfd (see _wire).
            return self._submit(fn, args, kwargs, -1, None)
        st = self._state
        f = Future()
        try:
            payload = _dumps((fn, args, kwargs), _HIGHEST)
        except Exception as e:
            return self._pickling_failed(f, e)
        variant = _new_from_bytes(T_TUPLE_AY, _Bytes(payload), True)
        with st.lock:
            if st.shutdown or _global_shutdown:
                self._check_can_submit()
            try:
                pf = st.gexec_submit(_CALL_TASK, variant)
            except GLib.Error as e:
                raise _submit_error(e) from None
            st.track(f, pf)
        return f

    def submit_with(self, fn, /, args=(), kwargs=None, *, timeout=None, progress=None):
        """submit() with per-task options (an extra of procexec).

        timeout: seconds the task may run, from when it starts; then its
            worker is killed and the future fails with TaskTimeoutError.
            None means the executor's task_timeout.
        progress: called as progress(future, fraction, detail) each time
            the task calls procexec.report_progress(fraction, detail), in
            order, in a thread of the executor (as done-callbacks run in a
            thread of the executor), and always before the future is done.
        """
        if kwargs is None:
            kwargs = {}
        timeout_usec = -1 if timeout is None else _seconds_to_usec(timeout, 'timeout')
        return self._submit(fn, tuple(args), kwargs, timeout_usec, progress)

    def _submit(self, fn, args, kwargs, timeout_usec, progress):
        st = self._state
        f = Future()
        call = None
        try:
            if (args and has_big_bytes(args)) or (kwargs and has_big_bytes(kwargs.values())):
                # Large bytes travel in a memfd (see _wire), if one is to be had.
                call = call_with_buffers(fn, args, kwargs, _HIGHEST)
            if call is not None:
                variant, fd_list = call
                task = CALL_BUFFERS_TASK if progress is None else CALL_PROGRESS_BUFFERS_TASK
            else:
                variant = _new_from_bytes(T_TUPLE_AY,
                                          _Bytes(_dumps((fn, args, kwargs), _HIGHEST)), True)
                fd_list = None
                task = CALL_TASK if progress is None else CALL_PROGRESS_TASK
        except Exception as e:
            return self._pickling_failed(f, e)
        with st.lock:
            if st.shutdown or _global_shutdown:
                self._check_can_submit()
            try:
                if progress is not None:
                    pf = self._submit_with_progress(task, variant, fd_list, timeout_usec,
                                                    progress, f)
                else:
                    pf = st.gexec.submit_full(task, variant, fd_list, timeout_usec, None)
            except GLib.Error as e:
                raise _submit_error(e) from None
            st.track(f, pf)
        return f

    def _pickling_failed(self, f, e):
        # As in CPython, an argument that cannot be pickled fails this
        # future, not submit() and not the pool.
        st = self._state
        if st.shutdown or _global_shutdown or st.gexec.is_broken():
            self._check_can_submit()
        f.set_exception(_without_frames(e))
        return f

    def _submit_with_progress(self, task, variant, fd_list, timeout_usec, progress, f):
        st = self._state
        if st.progress is None:
            st.progress = _ProgressLoop()
        gexec = st.gexec
        handler = _progress_handler(progress, weakref.ref(f))

        def submit_here():
            pf = gexec.submit_full(task, variant, fd_list, timeout_usec, None)
            pf.connect('progress', handler)
            return pf
        pf = st.progress.call(submit_here)
        st.with_progress.add(pf)
        return pf

    def _check_can_submit(self):
        st = self._state
        if st.gexec.is_broken():
            raise BrokenProcessPool('A child process terminated abruptly, the process '
                                    'pool is not usable anymore')
        if _global_shutdown:
            raise RuntimeError('cannot schedule new futures after interpreter shutdown')
        if st.shutdown:
            raise RuntimeError('cannot schedule new futures after shutdown')

    # -- map --

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator equivalent to map(fn, *iterables), computed
        in the workers, as CPython 3.14's ProcessPoolExecutor.map().

        chunksize: items sent and run as one task.
        buffersize: if given, at most that many tasks (chunks) are submitted
            and not yet consumed; the input is read only as results are
            consumed, so it may be endless. None submits everything now.
        timeout: seconds from this call after which next() raises
            TimeoutError.

        If a task raises, next() raises it for that item (for chunksize >
        1, for the whole chunk) and the iterator ends, cancelling the rest.
        """
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if buffersize is not None:
            if not isinstance(buffersize, int):
                raise TypeError("buffersize must be an integer or None")
            if buffersize < 1:
                raise ValueError("buffersize must be None or > 0")
        if timeout is not None:
            end_time = timeout + time.monotonic()

        # The iterator must not keep the executor alive (as in CPython,
        # dropping the executor while a map is pending shuts it down), so
        # these take the executor as an argument.
        if chunksize == 1:
            inputs = zip(*iterables)

            def submit(executor, args):
                return executor.submit(fn, *args)
        else:
            inputs = _batched(zip(*iterables), chunksize)

            def submit(executor, chunk):
                return executor.submit(_process_chunk, fn, chunk)

        if buffersize is None:
            fs = deque(submit(self, a) for a in inputs)
        else:
            fs = deque(submit(self, a) for a in itertools.islice(inputs, buffersize))
        executor_ref = weakref.ref(self)

        def result_iterator():
            try:
                while fs:
                    if buffersize is not None:
                        executor = executor_ref()
                        if executor is not None:
                            args = next(inputs, None)
                            if args is not None:
                                fs.append(submit(executor, args))
                        del executor
                    if chunksize == 1:
                        if timeout is None:
                            yield _result_or_cancel(fs.popleft())
                        else:
                            yield _result_or_cancel(fs.popleft(), end_time - time.monotonic())
                    else:
                        if timeout is None:
                            chunk = _result_or_cancel(fs.popleft())
                        else:
                            chunk = _result_or_cancel(fs.popleft(), end_time - time.monotonic())
                        chunk.reverse()
                        while chunk:
                            yield chunk.pop()
            finally:
                for future in fs:
                    future.cancel()
        return result_iterator()

    # -- shutting down --

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stops accepting work; see concurrent.futures.Executor.shutdown().

        With wait, returns once every submitted task is done (or cancelled,
        with cancel_futures), its future settled, and every worker exited.

        cancel_futures cancels the tasks no worker has taken, except the
        oldest max_workers + 1 of them: CPython hands that many to its call
        queue, where they count as running, before it cancels the others,
        so that much work always goes on, however fast shutdown() follows
        submit().
        """
        st = self._state
        if cancel_futures:
            st.cancel_pending(keep=self._max_workers + 1)
        st.shutdown_now(wait, False)

    def terminate_workers(self):
        """Shuts down at once: cancels the tasks not yet running and sends
        SIGTERM to every worker; the running tasks fail with
        WorkerDiedError. Does not wait (as CPython 3.14)."""
        st = self._state
        with st.lock:
            st.shutdown = True
        st.gexec.terminate_workers()
        st.request_stop()

    def kill_workers(self):
        """As terminate_workers(), with SIGKILL."""
        st = self._state
        with st.lock:
            st.shutdown = True
        st.gexec.kill_workers()
        st.request_stop()

    # -- introspection --

    @property
    def _broken(self):
        """False, or why the pool is broken (as CPython's attribute)."""
        if self._state.gexec.is_broken():
            return 'A child process terminated abruptly, the process pool is not usable anymore'
        return False

    @property
    def _executor_manager_thread(self):
        """The collector thread (CPython's manager thread), once started."""
        return self._state.collector

    @property
    def _processes(self):
        """The live worker processes, by pid (as CPython's attribute)."""
        return {pid: _WorkerProcess(pid) for pid in self._worker_pids()}

    def _worker_pids(self):
        token = self._token.encode()
        pids = []
        try:
            tids = os.listdir('/proc/self/task')
        except OSError:
            return pids
        for tid in tids:
            try:
                with open('/proc/self/task/%s/children' % tid, 'rb') as f:
                    children = f.read().split()
            except OSError:
                continue
            for child in children:
                try:
                    with open(b'/proc/%s/cmdline' % child, 'rb') as f:
                        cmdline = f.read().split(b'\0')
                except OSError:
                    continue
                if token in cmdline:
                    pids.append(int(child))
        return sorted(pids)

    @property
    def procexec_executor(self):
        """The underlying Procexec.Executor (GObject), e.g. to watch its
        n-workers/n-pending/n-running/n-completed properties."""
        return self._state.gexec
