#!/usr/bin/python3
# test_executor.py: procexec.ProcessPoolExecutor, the drop-in for
# concurrent.futures.ProcessPoolExecutor, and its extras.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The task functions are defined in this file, which is the main script:
# the workers import it as __mp_main__ (as CPython's spawn does), so this
# also tests that functions of the main script resolve by reference.
#
# No test waits by sleeping. Tasks that must block do so on a Gate: they
# announce that they started through a FIFO, then wait for a lock the test
# holds. A few tasks sleep as a workload (a task that is slow), never to
# order events.

import asyncio
import concurrent.futures as cf
import errno
import fcntl
import gc
import itertools
import multiprocessing
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import weakref
from concurrent.futures.process import BrokenProcessPool, _RemoteTraceback

import procexec
from procexec import ProcessPoolExecutor

DEADLINE = 60   # seconds: how long a test waits for anything before failing

INIT_VALUE = 'uninitialized'


# ---- task functions (they run in the workers) ---------------------------------

def add(a, b=0):
    return a + b


def getpid():
    return os.getpid()


def raise_value_error(message):
    raise ValueError(message)   # the remote traceback shows this line


def raise_system_exit():
    sys.exit(3)


def die(status):
    os._exit(status)


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def gated(gate_dir, value):
    """Announces it started, then waits until the test opens the gate."""
    Gate.announce(gate_dir)
    Gate.pass_through(gate_dir)
    return value


def polling_gated(gate_dir, value):
    """As gated(), polling the gate in the task's own loop: a signal then
    always interrupts it (one that comes between two system calls would
    wait for a blocking call to return)."""
    Gate.announce(gate_dir)
    with open(os.path.join(gate_dir, 'lock')) as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return value
            except BlockingIOError:
                time.sleep(0.01)   # the task's work loop


def write_marker(path):
    with open(path, 'w') as f:
        f.write('ran')
    return 'ran'


def return_unpicklable():
    return threading.Lock()


def print_lines(tag, n):
    for i in range(n):
        print('%s %d' % (tag, i))
    return n


def report(n):
    for i in range(1, n + 1):
        procexec.report_progress(i / n, {'step': i})
    return 'reported'


def spin_until_interrupted(gate_dir):
    Gate.announce(gate_dir)
    while not procexec.interrupted():
        time.sleep(0.005)   # the task's own work loop
    return 'stopped'


def announce_then_sleep(gate_dir, seconds):
    Gate.announce(gate_dir)
    time.sleep(seconds)
    return 'slept'


def init_global(value):
    global INIT_VALUE
    INIT_VALUE = value


def get_init_value():
    return INIT_VALUE


def init_fail():
    raise ValueError('bad initializer')


def init_put(queue, lock):
    with lock:
        queue.put(('initialized', os.getpid()))


def in_parent():
    return os.environ.get('PROCEXEC_TEST_PARENT') == str(os.getpid())


def _explode_unless_parent():
    if not in_parent():
        raise RuntimeError('cannot be rebuilt in a worker')
    return 'rebuilt'


def _explode_in_parent():
    if in_parent():
        raise RuntimeError('cannot be rebuilt in the parent')
    return 'rebuilt'


class FailsInWorker:
    def __reduce__(self):
        return _explode_unless_parent, ()


class FailsInParent:
    def __reduce__(self):
        return _explode_in_parent, ()


def describe_call(*args, **kwargs):
    """What a task sees of its arguments, and how they came."""
    from procexec import _worker
    fd_list = _worker._current_task.get_fd_list()
    return ([(type(a).__name__, len(a)) for a in args],
            sorted((k, type(v).__name__, len(v)) for k, v in kwargs.items()),
            fd_list is not None and fd_list.get_length())


def identities(a, b, nested):
    return a is b, nested[0] is a, nested[1] == a


def big_results(n, shape):
    data = b'r' * n
    if shape == 'bytes':
        return data
    if shape == 'tuple':
        return (data, 1, data, {'nested': b'n' * n})
    if shape == 'list':
        return [b's' * n, data]
    raise ValueError(shape)


def big_then_raise(data):
    raise ValueError(len(data))


def return_fails_in_parent():
    return FailsInParent()


# ---- helpers -------------------------------------------------------------------

class Gate:
    """Tasks that wait for the test: they write their pid to a FIFO when
    they start, then block on a lock the test holds until open()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='procexec-gate-')
        self.fifo = os.path.join(self.dir, 'started')
        self.lock_path = os.path.join(self.dir, 'lock')
        os.mkfifo(self.fifo)
        self.read_fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        # Our own writer keeps reads from seeing EOF between tasks.
        self.write_fd = os.open(self.fifo, os.O_WRONLY)
        self.lock_file = open(self.lock_path, 'w')
        fcntl.flock(self.lock_file, fcntl.LOCK_EX)
        self.buffer = b''

    @staticmethod
    def announce(gate_dir):
        fd = os.open(os.path.join(gate_dir, 'started'), os.O_WRONLY)
        try:
            os.write(fd, b'%d\n' % os.getpid())
        finally:
            os.close(fd)

    @staticmethod
    def pass_through(gate_dir):
        with open(os.path.join(gate_dir, 'lock')) as f:
            fcntl.flock(f, fcntl.LOCK_SH)

    def wait_started(self, n=1):
        """Returns the pids of the next @n tasks that start."""
        deadline = time.monotonic() + DEADLINE
        while self.buffer.count(b'\n') < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise AssertionError('%d task(s) did not start within %d s' % (n, DEADLINE))
            try:
                self.buffer += os.read(self.read_fd, 4096)
            except BlockingIOError:
                pass
        lines = self.buffer.split(b'\n')
        self.buffer = b'\n'.join(lines[n:])
        return [int(x) for x in lines[:n]]

    def open(self):
        fcntl.flock(self.lock_file, fcntl.LOCK_UN)

    def close(self):
        self.open()
        self.lock_file.close()
        os.close(self.read_fd)
        os.close(self.write_fd)
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


def procexec_children():
    """The child processes of this process that are procexec workers,
    zombies included (other children, such as multiprocessing's resource
    tracker, are not ours to check)."""
    pids = []
    for tid in os.listdir('/proc/self/task'):
        try:
            with open('/proc/self/task/%s/children' % tid) as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for pid in children:
            try:
                with open('/proc/%d/stat' % pid, 'rb') as f:
                    stat = f.read()
                with open('/proc/%d/cmdline' % pid, 'rb') as f:
                    cmdline = f.read()
            except OSError:
                continue
            zombie = stat[stat.rfind(b')') + 2:][:1] == b'Z'
            if zombie or b'procexec-worker:' in cmdline:
                pids.append(pid)
    return pids


def open_fds():
    return sorted(int(fd) for fd in os.listdir('/proc/self/fd'))


def run_script(source, *args, cwd=None):
    """Runs @source as the main script of a new python3; returns it done."""
    # Buffered output, as a script gets by default: with PYTHONUNBUFFERED,
    # print() writes its pieces one by one, and the lines of workers that
    # print at once mix (with CPython's workers too).
    env = dict(os.environ)
    env.pop('PYTHONUNBUFFERED', None)
    with tempfile.TemporaryDirectory(prefix='procexec-script-') as d:
        path = os.path.join(d, 'script.py')
        with open(path, 'w') as f:
            f.write(textwrap.dedent(source))
        return subprocess.run([sys.executable, path, *args], capture_output=True, text=True,
                              timeout=DEADLINE, cwd=cwd or d, env=env)


class ExecutorTestCase(unittest.TestCase):
    """Each test gets self.executor (2 workers) and leaves no process."""

    max_workers = 2
    executor_kwargs = {}

    def setUp(self):
        self.executor = ProcessPoolExecutor(self.max_workers, **self.executor_kwargs)
        self.gates = []

    def tearDown(self):
        for gate in self.gates:
            gate.open()
        self.executor.shutdown(wait=True)
        for gate in self.gates:
            gate.close()
        self.assertEqual(self.executor._worker_pids(), [])
        self.executor = None

    def gate(self):
        gate = Gate()
        self.gates.append(gate)
        return gate


# ---- the drop-in ---------------------------------------------------------------

class SubmitTest(ExecutorTestCase):

    def test_submit_and_result(self):
        self.assertEqual(self.executor.submit(add, 2, 3).result(timeout=DEADLINE), 5)
        self.assertEqual(self.executor.submit(add, 2, b=8).result(timeout=DEADLINE), 10)
        self.assertEqual(self.executor.submit(pow, 2, 8).result(timeout=DEADLINE), 256)

    def test_runs_in_another_process(self):
        pid = self.executor.submit(getpid).result(timeout=DEADLINE)
        self.assertNotEqual(pid, os.getpid())
        self.assertIn(pid, self.executor._processes)

    def test_returns_concurrent_futures_futures(self):
        f = self.executor.submit(add, 1, 1)
        self.assertIsInstance(f, cf.Future)
        done, not_done = cf.wait([f], timeout=DEADLINE)
        self.assertEqual((done, not_done), ({f}, set()))
        fs = [self.executor.submit(add, i, i) for i in range(10)]
        self.assertEqual(sorted(x.result() for x in cf.as_completed(fs, timeout=DEADLINE)),
                         [2 * i for i in range(10)])

    def test_asyncio_wrap_future(self):
        async def main():
            return await asyncio.wait_for(
                asyncio.gather(*(asyncio.wrap_future(self.executor.submit(add, i, 1))
                                 for i in range(5))), DEADLINE)
        self.assertEqual(asyncio.run(main()), [1, 2, 3, 4, 5])

    def test_run_in_executor(self):
        async def main():
            loop = asyncio.get_running_loop()
            return await asyncio.wait_for(loop.run_in_executor(self.executor, add, 20, 22),
                                          DEADLINE)
        self.assertEqual(asyncio.run(main()), 42)

    def test_many_threads_waiting(self):
        # Futures are settled by the collector thread while other threads
        # wait on them in every way, and add callbacks, at the same time.
        fs = [self.executor.submit(add, i, 1) for i in range(300)]
        called = []
        all_called = threading.Event()
        errors = []

        def callback(f):
            called.append(f)
            if len(called) == 2 * len(fs):
                all_called.set()

        def waiter(kind):
            try:
                if kind == 'as_completed':
                    got = sorted(f.result() for f in cf.as_completed(fs, timeout=DEADLINE))
                elif kind == 'wait':
                    done, not_done = cf.wait(fs, timeout=DEADLINE)
                    got = sorted(f.result() for f in done) if not not_done else None
                elif kind == 'result':
                    got = [f.result(timeout=DEADLINE) for f in reversed(fs)][::-1]
                else:
                    for f in fs:
                        f.add_done_callback(callback)
                    got = list(range(1, 301))
                if got != list(range(1, 301)):
                    errors.append((kind, got))
            except BaseException as e:
                errors.append((kind, e))

        threads = [threading.Thread(target=waiter, args=(kind,))
                   for kind in ('as_completed', 'wait', 'result', 'callbacks') * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in threads))
        # Each callback runs once per add_done_callback(): 2 threads added one.
        self.assertTrue(all_called.wait(DEADLINE))
        self.assertEqual(sorted(id(f) for f in called), sorted(id(f) for f in fs * 2))

    def test_done_callbacks(self):
        called = threading.Event()
        seen = []
        f = self.executor.submit(add, 3, 4)
        f.add_done_callback(lambda fut: (seen.append(fut.result()), called.set()))
        self.assertTrue(called.wait(DEADLINE))
        self.assertEqual(seen, [7])

    def test_done_callbacks_run_in_an_executor_thread(self):
        # result() may settle a future in the calling thread, but not one
        # with done-callbacks: those run in the executor's thread, as in
        # CPython, whoever waits.
        threads = []
        for task in ((add, 1, 2), (sleep_then, 0.05, 3), (raise_value_error, 'x')):
            f = self.executor.submit(*task)
            f.add_done_callback(lambda f: threads.append(threading.current_thread()))
            f.exception(timeout=DEADLINE)
        self.assertEqual(len(threads), 3)
        self.assertNotIn(threading.main_thread(), threads)

    def test_result_and_exception_timeouts(self):
        gate = self.gate()
        f = self.executor.submit(gated, gate.dir, 5)
        gate.wait_started()
        with self.assertRaises(cf.TimeoutError):
            f.result(timeout=0.001)
        with self.assertRaises(cf.TimeoutError):
            f.exception(timeout=0)
        gate.open()
        self.assertEqual(f.result(timeout=DEADLINE), 5)
        self.assertIsNone(f.exception(timeout=0))
        g = self.executor.submit(raise_value_error, 'late')
        self.assertIsInstance(g.exception(timeout=DEADLINE), ValueError)
        with self.assertRaises(ValueError):
            g.result(timeout=0)

    def test_exception_keeps_type_message_and_remote_traceback(self):
        f = self.executor.submit(raise_value_error, 'boom')
        with self.assertRaises(ValueError) as cm:
            f.result(timeout=DEADLINE)
        self.assertEqual(cm.exception.args, ('boom',))
        cause = cm.exception.__cause__
        self.assertIs(type(cause), _RemoteTraceback)
        self.assertIn('raise ValueError(message)   # the remote traceback shows this line',
                      cause.tb)
        self.assertIs(type(f.exception()), ValueError)

    def test_base_exception_is_the_tasks_outcome(self):
        with self.assertRaises(SystemExit) as cm:
            self.executor.submit(raise_system_exit).result(timeout=DEADLINE)
        self.assertEqual(cm.exception.code, 3)
        # The worker lived on.
        self.assertEqual(len(self.executor._worker_pids()), 1)
        self.assertEqual(self.executor.submit(add, 1, 2).result(timeout=DEADLINE), 3)

    def test_unpicklable_argument_fails_the_future_not_submit(self):
        f = self.executor.submit(add, threading.Lock(), 1)
        self.assertIsInstance(f.exception(timeout=0), TypeError)
        self.assertEqual(self.executor.submit(add, 1, 1).result(timeout=DEADLINE), 2)

    def test_unpicklable_result_fails_the_future(self):
        f = self.executor.submit(return_unpicklable)
        with self.assertRaises(TypeError) as cm:
            f.result(timeout=DEADLINE)
        self.assertIn('pickle', str(cm.exception))
        self.assertEqual(self.executor.submit(add, 1, 1).result(timeout=DEADLINE), 2)

    def test_task_that_cannot_be_unpickled_in_the_worker(self):
        f = self.executor.submit(add, FailsInWorker(), 1)
        with self.assertRaises(procexec.TaskUnpicklingError) as cm:
            f.result(timeout=DEADLINE)
        self.assertIsInstance(cm.exception, BrokenProcessPool)
        self.assertIsInstance(cm.exception.__cause__, RuntimeError)
        self.assertIn('cannot be rebuilt in a worker', str(cm.exception.__cause__))
        self.assertEqual(self.executor.submit(add, 1, 1).result(timeout=DEADLINE), 2)
        self.assertFalse(self.executor._broken)

    def test_result_that_cannot_be_unpickled_in_the_parent(self):
        f = self.executor.submit(return_fails_in_parent)
        with self.assertRaises(procexec.ResultUnpicklingError) as cm:
            f.result(timeout=DEADLINE)
        self.assertIsInstance(cm.exception, BrokenProcessPool)
        self.assertIn('cannot be rebuilt in the parent', str(cm.exception.__cause__))
        self.assertEqual(self.executor.submit(add, 1, 1).result(timeout=DEADLINE), 2)

    def test_big_arguments_and_results(self):
        data = os.urandom(3 * 1024 * 1024)
        self.assertEqual(self.executor.submit(add, data, data).result(timeout=DEADLINE),
                         data + data)

    def test_large_bytes_travel_beside_the_pickle(self):
        # Arguments of at least 64 KiB come in a memfd, as bytes.
        big = os.urandom(100 * 1024)
        small = b'x' * 10
        self.assertEqual(
            self.executor.submit(describe_call, big, small, k=big, j=small).result(DEADLINE),
            ([('bytes', len(big)), ('bytes', 10)],
             [('j', 'bytes', 10), ('k', 'bytes', len(big))], 1))
        self.assertEqual(self.executor.submit(describe_call, small).result(DEADLINE),
                         ([('bytes', 10)], [], False))
        # A bytearray stays a bytearray (inside the pickle).
        self.assertEqual(self.executor.submit(describe_call, bytearray(big)).result(DEADLINE),
                         ([('bytearray', len(big))], [], False))
        # The same object twice is one object again, as with a plain pickle;
        # large bytes nested deeper travel with the others.
        self.assertEqual(
            self.executor.submit(identities, big, big, (big, bytes(big))).result(DEADLINE),
            (True, True, True))
        # submit_with, with and without progress, and map.
        self.assertEqual(self.executor.submit_with(add, (big, small), timeout=DEADLINE)
                         .result(DEADLINE), big + small)
        self.assertEqual(self.executor.submit_with(add, (big,), {'b': small},
                                                   progress=lambda *a: None)
                         .result(DEADLINE), big + small)
        self.assertEqual(list(self.executor.map(len, [big, small, big])),
                         [len(big), 10, len(big)])
        # A task that raises, with a large argument.
        with self.assertRaises(ValueError) as cm:
            self.executor.submit(big_then_raise, big).result(DEADLINE)
        self.assertEqual(cm.exception.args, (len(big),))
        # Something else that cannot be pickled still fails only the future.
        f = self.executor.submit(add, big, lambda: 0)
        self.assertIsInstance(f.exception(DEADLINE), (AttributeError, pickle.PicklingError))

    def test_large_bytes_without_a_memfd(self):
        from procexec import _executor, _wire
        big = os.urandom(100 * 1024)
        # Out of file descriptors, call_with_buffers() gives up... (the
        # memfd is refused as a full fd table refuses it: exhausting the
        # real table raced with the executor's threads closing fds)
        from unittest import mock
        emfile = OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        with mock.patch.object(_wire.os, 'memfd_create', side_effect=emfile) as memfd_create:
            self.assertIsNone(_wire.call_with_buffers(add, (big,), {}, 5))
            # (and so does result_with_buffers(), without touching the task)
            self.assertIsNone(_wire.result_with_buffers(big, 5, None))
        self.assertEqual(memfd_create.call_count, 2)
        # ... and submit() then sends the call as a plain pickle.
        call_with_buffers = _executor.call_with_buffers
        _executor.call_with_buffers = lambda *args: None
        try:
            f = self.executor.submit(describe_call, big)
        finally:
            _executor.call_with_buffers = call_with_buffers
        self.assertEqual(f.result(DEADLINE), ([('bytes', len(big))], [], False))

    def test_large_bytes_results(self):
        n = 100 * 1024
        self.assertEqual(self.executor.submit(big_results, n, 'bytes').result(DEADLINE),
                         b'r' * n)
        data, one, again, nested = self.executor.submit(big_results, n, 'tuple').result(DEADLINE)
        self.assertEqual((data, one, nested), (b'r' * n, 1, {'nested': b'n' * n}))
        self.assertIs(again, data)
        self.assertEqual(self.executor.submit(big_results, n, 'list').result(DEADLINE),
                         [b's' * n, b'r' * n])
        self.assertEqual(self.executor.submit(big_results, 10, 'tuple').result(DEADLINE),
                         (b'r' * 10, 1, b'r' * 10, {'nested': b'n' * 10}))

    def test_large_bytes_wire_format(self):
        from procexec import _wire
        big = b'b' * _wire.OOB_MIN
        variant, fd_list = _wire.call_with_buffers(add, (big, big), {'x': b'c' * _wire.OOB_MIN}, 5)
        self.assertEqual(variant.get_type_string(), '(ayat)')
        self.assertEqual(variant.get_child_value(1).unpack(), [_wire.OOB_MIN, _wire.OOB_MIN])
        self.assertEqual(fd_list.get_length(), 1)
        fd = fd_list.get(0)
        try:
            self.assertEqual(os.fstat(fd).st_size, 2 * _wire.OOB_MIN)
        finally:
            os.close(fd)
        self.assertFalse(_wire.has_big_bytes((big[1:], bytearray(big), 'x' * _wire.OOB_MIN)))
        self.assertTrue(_wire.big_items([1, big]))
        self.assertFalse(_wire.big_items({'k': big}))

        class Task:   # as much of a ProcTask as result_with_buffers() uses
            def set_result_fd_list(self, fd_list):
                self.fd_list = fd_list
        task = Task()
        outcome = _wire.result_with_buffers([big, big], 5, task)
        self.assertEqual(outcome[-1], _wire.RESULT_WITH_BUFFERS)
        fd = task.fd_list.get(0)
        try:
            # One copy of the object met twice, in a sealed memfd.
            self.assertEqual(os.fstat(fd).st_size, _wire.OOB_MIN)
            with self.assertRaises(PermissionError):
                os.write(fd, b'x')
        finally:
            os.close(fd)
        result = _wire.load_result_with_buffers(outcome, task.fd_list)
        self.assertEqual(result, [big, big])
        self.assertIs(result[0], result[1])

    def test_worker_output_reaches_our_stdout(self):
        # Checked in a child interpreter, whose stdout we can read.
        r = run_script('''
            from procexec import ProcessPoolExecutor
            def task(n):
                print('line from worker', n)   # no flush: the worker flushes
                return n
            if __name__ == '__main__':
                with ProcessPoolExecutor(1) as ex:
                    for n in range(3):
                        ex.submit(task, n).result()
                        print('line from parent', n, flush=True)
            ''')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ['line from worker 0', 'line from parent 0',
                          'line from worker 1', 'line from parent 1',
                          'line from worker 2', 'line from parent 2'])


class FutureTest(unittest.TestCase):

    def test_finishing_a_done_future_again_raises(self):
        # As concurrent.futures.Future (it once deadlocked on its own lock
        # while formatting the message). In a thread, to fail, not hang.
        errors = []

        def finish_twice():
            f = procexec.Future()
            f.set_result(1)
            for finish in (f.set_result, f.set_exception):
                try:
                    finish(ValueError())
                except cf.InvalidStateError as e:
                    errors.append(str(e))
        t = threading.Thread(target=finish_twice, daemon=True)
        t.start()
        t.join(DEADLINE)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(errors), 2)
        self.assertIn('state=finished returned int', errors[0])


class CancelTest(ExecutorTestCase):
    max_workers = 1

    def test_cancel_pending_future(self):
        gate = self.gate()
        marker = os.path.join(gate.dir, 'marker')
        blocker = self.executor.submit(gated, gate.dir, 'first')
        gate.wait_started()
        queued = self.executor.submit(write_marker, marker)
        self.assertFalse(queued.running())
        self.assertTrue(queued.cancel())
        self.assertTrue(queued.cancelled())
        self.assertTrue(queued.done())
        with self.assertRaises(cf.CancelledError):
            queued.result(timeout=0)
        # cancel() cancels the task in the pool too: it never runs.
        gate.open()
        self.assertEqual(blocker.result(timeout=DEADLINE), 'first')
        self.executor.shutdown(wait=True)
        self.assertFalse(os.path.exists(marker))

    def test_cancel_running_future_fails(self):
        gate = self.gate()
        blocker = self.executor.submit(gated, gate.dir, 'value')
        gate.wait_started()
        self.assertTrue(blocker.running())
        self.assertFalse(blocker.cancel())
        self.assertFalse(blocker.cancelled())
        gate.open()
        self.assertEqual(blocker.result(timeout=DEADLINE), 'value')

    def test_wait_sees_cancelled_futures_as_done(self):
        gate = self.gate()
        self.executor.submit(gated, gate.dir, None)
        gate.wait_started()
        queued = [self.executor.submit(add, i) for i in range(3)]
        for f in queued:
            self.assertTrue(f.cancel())
        done, not_done = cf.wait(queued, timeout=DEADLINE)
        self.assertEqual((done, not_done), (set(queued), set()))

    def test_shutdown_cancel_futures(self):
        gate = self.gate()
        blocker = self.executor.submit(gated, gate.dir, 'done')
        gate.wait_started()
        queued = [self.executor.submit(add, i) for i in range(20)]
        # The one worker is busy: the 20 tasks wait in the pool.
        self.executor.shutdown(wait=False, cancel_futures=True)
        gate.open()
        self.executor.shutdown(wait=True)
        # The running task finished. Of the waiting ones, the oldest
        # max_workers + 1 ran (those CPython would have put in its call
        # queue), the others were cancelled.
        self.assertEqual(blocker.result(timeout=0), 'done')
        self.assertEqual([f.result(timeout=0) for f in queued[:2]], [0, 1])
        self.assertTrue(all(f.cancelled() for f in queued[2:]))


# ---- map -------------------------------------------------------------------------

class MapTest(ExecutorTestCase):

    def test_map_in_order(self):
        self.assertEqual(list(self.executor.map(add, range(20), range(20))),
                         [2 * i for i in range(20)])

    def test_map_chunks(self):
        for chunksize in (1, 3, 7, 50):
            self.assertEqual(list(self.executor.map(add, range(40), chunksize=chunksize)),
                             list(range(40)), chunksize)

    def test_map_shortest_iterable(self):
        self.assertEqual(list(self.executor.map(add, range(5), range(100))), [0, 2, 4, 6, 8])
        self.assertEqual(list(self.executor.map(add, [])), [])

    def test_map_argument_checks(self):
        with self.assertRaisesRegex(ValueError, 'chunksize must be >= 1'):
            self.executor.map(add, range(3), chunksize=0)
        with self.assertRaisesRegex(TypeError, 'buffersize must be an integer or None'):
            self.executor.map(add, range(3), buffersize='2')
        with self.assertRaisesRegex(ValueError, r'buffersize must be None or > 0'):
            self.executor.map(add, range(3), buffersize=0)

    def test_map_exception_ends_the_iteration(self):
        it = self.executor.map(divmod, [6, 6, 6, 6], [3, 2, 0, 1])
        self.assertEqual(next(it), (2, 0))
        self.assertEqual(next(it), (3, 0))
        self.assertRaises(ZeroDivisionError, next, it)
        self.assertRaises(StopIteration, next, it)

    def test_map_buffersize_reads_input_lazily(self):
        pulled = []

        def numbers():
            for i in itertools.count():
                pulled.append(i)
                yield i

        it = self.executor.map(add, numbers(), buffersize=2)
        self.assertEqual(len(pulled), 2)
        self.assertEqual([next(it) for _ in range(3)], [0, 1, 2])
        # One more item is read per result consumed.
        self.assertEqual(len(pulled), 5)
        it.close()

    def test_map_buffersize_counts_chunks(self):
        pulled = []

        def numbers():
            for i in range(100):
                pulled.append(i)
                yield i

        it = self.executor.map(add, numbers(), chunksize=4, buffersize=2)
        self.assertEqual(len(pulled), 8)
        self.assertEqual(list(it), list(range(100)))

    def test_map_timeout(self):
        gate = self.gate()
        it = self.executor.map(gated, [gate.dir] * 3, [1, 2, 3], timeout=0.5)
        with self.assertRaises(TimeoutError):
            next(it)
        self.assertRaises(StopIteration, next, it)

    def test_map_does_not_keep_the_executor_alive(self):
        executor = ProcessPoolExecutor(2)
        it = executor.map(add, range(10))
        ref = weakref.ref(executor)
        del executor
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(list(it), list(range(10)))


# ---- shutting down -----------------------------------------------------------------

class ShutdownTest(unittest.TestCase):

    def test_with_statement_waits_and_workers_exit(self):
        with ProcessPoolExecutor(2) as executor:
            fs = [executor.submit(sleep_then, 0.05, i) for i in range(6)]
        self.assertTrue(all(f.done() for f in fs))
        self.assertEqual([f.result() for f in fs], list(range(6)))
        self.assertEqual(executor._worker_pids(), [])
        self.assertEqual(procexec_children(), [])

    def test_submit_after_shutdown(self):
        executor = ProcessPoolExecutor(1)
        executor.shutdown()
        with self.assertRaisesRegex(RuntimeError, 'cannot schedule new futures after shutdown'):
            executor.submit(add, 1, 2)
        with self.assertRaises(RuntimeError):
            executor.map(add, [1])
        executor.shutdown()   # again: harmless

    def test_shutdown_without_waiting(self):
        executor = ProcessPoolExecutor(2)
        fs = [executor.submit(sleep_then, 0.05, i) for i in range(6)]
        executor.shutdown(wait=False)
        self.assertEqual([f.result(timeout=DEADLINE) for f in fs], list(range(6)))
        executor.shutdown(wait=True)
        self.assertEqual(procexec_children(), [])

    def test_waiter_settling_the_last_future_ends_the_collector(self):
        # result() on the only pending future takes it out of the
        # completion queue and settles it itself; once the executor is shut
        # down, that may be the last future, and the collector, which then
        # never hears of it, must still be woken to end.
        from procexec import _executor
        saved = _executor._FAST_WAIT_USEC
        # The waiter waits in C for as long as the test may take, so that
        # it is the one that settles the future.
        _executor._FAST_WAIT_USEC = DEADLINE * 1_000_000
        gate = Gate()
        executor = ProcessPoolExecutor(1)
        try:
            f = executor.submit(gated, gate.dir, 7)
            gate.wait_started()
            st = f._st
            executor.shutdown(wait=False)
            results = []
            waiter = threading.Thread(target=lambda: results.append(f.result()))
            waiter.start()
            # Once the waiter has taken the future out of the queue, it is
            # the one that sees it complete.
            deadline = time.monotonic() + DEADLINE
            while st.cq.get_n_pending() != 0:
                self.assertLess(time.monotonic(), deadline, 'result() never took the future')
                time.sleep(0.001)
            gate.open()
            waiter.join(DEADLINE)
            self.assertEqual(results, [7])
            # shutdown() would close the queue itself, now that nothing is
            # pending: the collector must end without it.
            collector = st.collector
            collector.join(DEADLINE)
            self.assertFalse(collector.is_alive(), 'the collector did not end')
        finally:
            _executor._FAST_WAIT_USEC = saved
            gate.close()
            executor.shutdown()
        self.assertEqual(procexec_children(), [])

    def test_no_leaked_fds_threads_or_processes(self):
        with ProcessPoolExecutor(2) as executor:   # warm up GLib's own threads and fds
            executor.submit(add, 1, 1).result()
        del executor
        gc.collect()
        fds, threads = set(open_fds()), threading.active_count()
        executor = ProcessPoolExecutor(2)
        list(executor.map(add, range(50)))
        executor.submit(die, 1).exception(timeout=DEADLINE)
        executor.submit_with(report, (2,), progress=lambda *a: None).result(timeout=DEADLINE)
        executor.shutdown(wait=True)
        del executor
        gc.collect()
        self.assertEqual(set(open_fds()) - fds, set())
        self.assertEqual(threading.active_count(), threads)
        self.assertEqual(procexec_children(), [])

    def test_terminate_workers(self):
        for method in ('terminate_workers', 'kill_workers'):
            with self.subTest(method=method):
                executor = ProcessPoolExecutor(1)
                gate = Gate()
                try:
                    running = executor.submit(gated, gate.dir, None)
                    gate.wait_started()
                    queued = executor.submit(add, 1, 2)
                    getattr(executor, method)()
                    with self.assertRaises(BrokenProcessPool):
                        running.result(timeout=DEADLINE)
                    cf.wait([queued], timeout=DEADLINE)
                    self.assertTrue(queued.cancelled())
                    self.assertRaises(RuntimeError, executor.submit, add, 1, 2)
                    executor.shutdown(wait=True)
                    self.assertEqual(procexec_children(), [])
                finally:
                    gate.close()

    def test_exit_without_shutdown_waits_for_the_work(self):
        # As CPython's test_interpreter_shutdown.
        r = run_script('''
            from procexec import ProcessPoolExecutor
            import time
            def task():
                time.sleep(0.5)
                print('apple')
            if __name__ == '__main__':
                t = ProcessPoolExecutor(2)
                t.submit(task)
            ''')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, 'apple\n', ''))

    def test_exit_after_shutdown_without_waiting(self):
        # CPython's test_hang_gh83386, which CPython skips for its
        # ProcessPoolExecutor (it hangs there).
        r = run_script('''
            from procexec import ProcessPoolExecutor
            import time
            def task():
                time.sleep(0.5)
                print('apple')
            if __name__ == '__main__':
                t = ProcessPoolExecutor(3)
                t.submit(task)
                t.shutdown(wait=False)
            ''')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, 'apple\n', ''))

    def test_shutdown_lets_a_worker_finish_exiting(self):
        # A worker's interpreter runs its atexit functions after the worker
        # closed its channel; shutdown waits for them (within cancel_grace).
        r = run_script('''
            from procexec import ProcessPoolExecutor
            import atexit, sys, time
            def goodbye():
                time.sleep(0.2)
                sys.stdout.write('goodbye\\n')
                sys.stdout.flush()
            def task():
                atexit.register(goodbye)
                return 1
            if __name__ == '__main__':
                with ProcessPoolExecutor(1, cancel_grace=30) as executor:
                    print(executor.submit(task).result())
            ''')
        # The parent's own line is buffered until it exits: compare as a set.
        self.assertEqual((r.returncode, sorted(r.stdout.splitlines()), r.stderr),
                         (0, ['1', 'goodbye'], ''))

    def test_dropped_executor_finishes_its_work(self):
        # Seed 002: the executor is a local of main(), never shut down.
        r = run_script('''
            from procexec import ProcessPoolExecutor
            def task(n):
                print('task', n)
            def main():
                executor = ProcessPoolExecutor(max_workers=3)
                executor.submit(task, 1)
                executor.submit(task, 2)
            if __name__ == '__main__':
                main()
            ''')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.splitlines()), ['task 1', 'task 2'])
        self.assertEqual(r.stderr, '')

    def test_submit_after_interpreter_shutdown(self):
        r = run_script('''
            import atexit
            from procexec import ProcessPoolExecutor
            @atexit.register
            def run_last():
                try:
                    t.submit(id, None)
                except RuntimeError as e:
                    print(e)
            if __name__ == '__main__':
                t = ProcessPoolExecutor(1)
                t.submit(id, 42).result()
            ''')
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, 'cannot schedule new futures after interpreter shutdown'))


# ---- the main script -----------------------------------------------------------------

class MainScriptTest(unittest.TestCase):

    def test_guarded_main_runs_once(self):
        r = run_script('''
            import os
            from procexec import ProcessPoolExecutor
            print('module level, pid', os.getpid(), flush=True)
            def square(n):
                return n * n
            if __name__ == '__main__':
                print('main, pid', os.getpid(), flush=True)
                with ProcessPoolExecutor(2) as ex:
                    print(list(ex.map(square, range(6))), flush=True)
            ''')
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len([x for x in lines if x.startswith('main')]), 1, lines)
        self.assertIn('[0, 1, 4, 9, 16, 25]', lines)
        # As with spawn, module-level code runs in each worker too.
        self.assertGreaterEqual(len([x for x in lines if x.startswith('module level')]), 2)

    def test_unguarded_script(self):
        # Seed 001's example: no __main__ guard. A worker stops importing the
        # script where it creates its pool.
        r = run_script('''
            import procexec as concurrent
            def task(n):
                print(f'Started task {n}')
                print(f'Completed task {n}')
            with concurrent.futures.ProcessPoolExecutor() as executor:
                tasks = [executor.submit(task, i) for i in range(5)]
                for future in concurrent.futures.as_completed(tasks):
                    pass
            print('All tasks completed')
            ''')
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(sorted(lines), sorted(['Started task %d' % n for n in range(5)] +
                                               ['Completed task %d' % n for n in range(5)] +
                                               ['All tasks completed']))
        self.assertEqual(lines[-1], 'All tasks completed')

    def test_main_module_run_with_dash_m(self):
        with tempfile.TemporaryDirectory(prefix='procexec-pkg-') as d:
            os.mkdir(os.path.join(d, 'mypkg'))
            open(os.path.join(d, 'mypkg', '__init__.py'), 'w').close()
            with open(os.path.join(d, 'mypkg', 'tool.py'), 'w') as f:
                f.write(textwrap.dedent('''
                    from procexec import ProcessPoolExecutor
                    def cube(n):
                        return n ** 3
                    if __name__ == '__main__':
                        with ProcessPoolExecutor(2) as ex:
                            print(list(ex.map(cube, range(4))))
                    '''))
            env = dict(os.environ)
            env.pop('PYTHONUNBUFFERED', None)
            r = subprocess.run([sys.executable, '-m', 'mypkg.tool'], capture_output=True,
                               text=True, timeout=DEADLINE, cwd=d, env=env)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, '[0, 1, 8, 27]\n', ''))

    def test_import_procexec_as_concurrent(self):
        import procexec as concurrent
        self.assertIs(concurrent.futures.ProcessPoolExecutor, ProcessPoolExecutor)
        self.assertIs(concurrent.futures.ThreadPoolExecutor, cf.ThreadPoolExecutor)
        self.assertIs(concurrent.futures.as_completed, cf.as_completed)
        self.assertIs(concurrent.futures.Future, cf.Future)
        self.assertTrue(issubclass(concurrent.futures.process.BrokenProcessPool,
                                   BrokenProcessPool))
        for name in cf.__all__:
            self.assertTrue(hasattr(procexec.futures, name), name)


# ---- crashes ---------------------------------------------------------------------------

class CrashTest(ExecutorTestCase):

    def test_crash_fails_only_its_task(self):
        gate = self.gate()
        survivor = self.executor.submit(gated, gate.dir, 'survived')
        [survivor_pid] = gate.wait_started()
        crash = self.executor.submit(die, 7)
        with self.assertRaises(procexec.WorkerDiedError) as cm:
            crash.result(timeout=DEADLINE)
        self.assertIsInstance(cm.exception, BrokenProcessPool)
        self.assertIn('status 7', str(cm.exception))
        self.assertFalse(self.executor._broken)
        # The other task, in the other worker, goes on.
        self.assertFalse(survivor.done())
        gate.open()
        self.assertEqual(survivor.result(timeout=DEADLINE), 'survived')
        # So does the pool.
        self.assertEqual(self.executor.submit(add, 2, 2).result(timeout=DEADLINE), 4)

    def test_killed_worker(self):
        gate = self.gate()
        f = self.executor.submit(gated, gate.dir, None)
        [pid] = gate.wait_started()
        self.executor._processes[pid].kill()
        with self.assertRaises(BrokenProcessPool) as cm:
            f.result(timeout=DEADLINE)
        self.assertIn(str(pid), str(cm.exception))
        self.assertIn('signal 9', str(cm.exception))
        self.assertEqual(self.executor.submit(add, 1, 1).result(timeout=DEADLINE), 2)

    def test_sigint_interrupts_the_running_task_only(self):
        # As a Ctrl-C in a terminal, which reaches every worker.
        pid = self.executor.submit(getpid).result(timeout=DEADLINE)
        os.kill(pid, signal.SIGINT)            # idle: ignored
        self.assertEqual(self.executor.submit(getpid).result(timeout=DEADLINE), pid)
        gate = self.gate()
        f = self.executor.submit(polling_gated, gate.dir, None)
        [running] = gate.wait_started()
        os.kill(running, signal.SIGINT)        # running: the task gets it
        with self.assertRaises(KeyboardInterrupt):
            f.result(timeout=DEADLINE)
        self.assertEqual(self.executor.submit(getpid).result(timeout=DEADLINE), running)

    def test_each_failed_future_has_its_own_exception(self):
        fs = [self.executor.submit(kill_self) for _ in range(3)]
        excs = [f.exception(timeout=DEADLINE) for f in fs]
        for e in excs:
            self.assertIsInstance(e, BrokenProcessPool)
        self.assertEqual(len({id(e) for e in excs}), 3)


# ---- initializer ------------------------------------------------------------------------

class InitializerTest(unittest.TestCase):

    def test_initializer_runs_in_each_worker(self):
        gate = Gate()
        try:
            with ProcessPoolExecutor(2, initializer=init_global, initargs=('ready',)) as ex:
                # Two tasks at once: two workers.
                blockers = [ex.submit(gated, gate.dir, None) for _ in range(2)]
                self.assertEqual(len(set(gate.wait_started(2))), 2)
                gate.open()
                for f in blockers:
                    f.result(timeout=DEADLINE)
                values = {ex.submit(get_init_value).result(timeout=DEADLINE) for _ in range(6)}
        finally:
            gate.close()
        self.assertEqual(values, {'ready'})

    def test_failing_initializer_breaks_the_pool(self):
        ex = ProcessPoolExecutor(2, initializer=init_fail)
        try:
            f = ex.submit(add, 1, 2)
            with self.assertRaises(BrokenProcessPool) as cm:
                f.result(timeout=DEADLINE)
            self.assertIn('bad initializer', str(cm.exception))
            self.assertTrue(ex._broken)
            with self.assertRaises(BrokenProcessPool):
                ex.submit(add, 1, 2)
        finally:
            ex.shutdown(wait=True)
        self.assertEqual(procexec_children(), [])

    def test_multiprocessing_objects_in_initargs(self):
        ctx = multiprocessing.get_context('spawn')
        queue, lock = ctx.Queue(), ctx.Lock()
        with ProcessPoolExecutor(2, initializer=init_put, initargs=(queue, lock)) as ex:
            pids = {ex.submit(getpid).result(timeout=DEADLINE) for _ in range(2)}
            got = queue.get(timeout=DEADLINE)
        self.assertEqual(got[0], 'initialized')
        self.assertIn(got[1], pids | set(ex._worker_pids()) | {got[1]})
        queue.close()
        queue.join_thread()

    def test_unpicklable_initializer(self):
        with self.assertRaises(TypeError):
            ProcessPoolExecutor(1, initializer=init_global, initargs=(threading.Lock(),))


# ---- workers -------------------------------------------------------------------------------

class WorkersTest(unittest.TestCase):

    def test_saturation(self):
        # Never more than max_workers processes, however many tasks wait.
        gate = Gate()
        ex = ProcessPoolExecutor(3)
        try:
            fs = [ex.submit(gated, gate.dir, i) for i in range(12)]
            pids = gate.wait_started(3)
            self.assertEqual(len(set(pids)), 3)
            self.assertEqual(sorted(ex._processes), sorted(pids))
            self.assertEqual(ex.procexec_executor.get_n_workers(), 3)
            gate.open()
            self.assertEqual([f.result(timeout=DEADLINE) for f in fs], list(range(12)))
        finally:
            gate.close()
            ex.shutdown(wait=True)

    def test_idle_worker_is_reused(self):
        with ProcessPoolExecutor(4) as ex:
            pids = {ex.submit(getpid).result(timeout=DEADLINE) for _ in range(5)}
        self.assertEqual(len(pids), 1)

    def test_max_tasks_per_child(self):
        with ProcessPoolExecutor(1, max_tasks_per_child=2) as ex:
            pids = [ex.submit(getpid).result(timeout=DEADLINE) for _ in range(5)]
        self.assertEqual(pids[0], pids[1])
        self.assertEqual(pids[2], pids[3])
        self.assertEqual(len(set(pids)), 3)


# ---- arguments -----------------------------------------------------------------------------

class ArgumentsTest(unittest.TestCase):

    def test_checks(self):
        for n in (0, -1):
            with self.assertRaisesRegex(ValueError, 'max_workers must be greater than 0'):
                ProcessPoolExecutor(n)
        with self.assertRaisesRegex(TypeError, 'initializer must be a callable'):
            ProcessPoolExecutor(1, initializer=42)
        with self.assertRaisesRegex(TypeError, 'max_tasks_per_child must be an integer'):
            ProcessPoolExecutor(1, max_tasks_per_child=1.5)
        with self.assertRaisesRegex(ValueError, 'max_tasks_per_child must be >= 1'):
            ProcessPoolExecutor(1, max_tasks_per_child=0)
        with self.assertRaisesRegex(ValueError, "incompatible with the 'fork'"):
            ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('fork'),
                                max_tasks_per_child=1)
        with self.assertRaises(ValueError):
            ProcessPoolExecutor(1, task_timeout=0)
        with self.assertRaises(TypeError):
            ProcessPoolExecutor(1).submit()

    def test_defaults(self):
        ex = ProcessPoolExecutor()
        try:
            self.assertEqual(ex._max_workers, os.cpu_count())
            self.assertEqual(ex._mp_context.get_start_method(), 'spawn')
            self.assertEqual(ex.procexec_executor.get_n_workers(), 0)   # none yet
        finally:
            ex.shutdown()


# ---- extras ---------------------------------------------------------------------------------

class TimeoutTest(ExecutorTestCase):

    def test_task_timeout(self):
        f = self.executor.submit_with(sleep_then, (60, 'late'), timeout=0.3)
        with self.assertRaises(procexec.TaskTimeoutError) as cm:
            f.result(timeout=DEADLINE)
        self.assertIsInstance(cm.exception, TimeoutError)
        self.assertFalse(f.cancelled())
        self.assertEqual(self.executor.submit(add, 1, 1).result(timeout=DEADLINE), 2)

    def test_executor_task_timeout(self):
        with ProcessPoolExecutor(1, task_timeout=0.3) as ex:
            with self.assertRaises(procexec.TaskTimeoutError):
                ex.submit(sleep_then, 60, 'late').result(timeout=DEADLINE)
            # A per-task timeout overrides it.
            self.assertEqual(ex.submit_with(sleep_then, (0.5, 'ok'), timeout=30)
                             .result(timeout=DEADLINE), 'ok')

    def test_submit_with_kwargs(self):
        f = self.executor.submit_with(add, (1,), {'b': 2})
        self.assertEqual(f.result(timeout=DEADLINE), 3)


class InterruptTest(ExecutorTestCase):
    executor_kwargs = dict(cancel_grace=0.3)

    def test_interrupt_cooperative_task(self):
        gate = self.gate()
        f = self.executor.submit(spin_until_interrupted, gate.dir)
        [pid] = gate.wait_started()
        self.assertTrue(f.interrupt())
        with self.assertRaises(procexec.TaskInterruptedError) as cm:
            f.result(timeout=DEADLINE)
        self.assertIsInstance(cm.exception, cf.CancelledError)
        self.assertFalse(f.cancelled())
        # It returned in time: the same worker goes on.
        self.assertEqual(self.executor.submit(getpid).result(timeout=DEADLINE), pid)

    def test_interrupt_stubborn_task(self):
        gate = self.gate()
        f = self.executor.submit(announce_then_sleep, gate.dir, 60)
        [pid] = gate.wait_started()
        t0 = time.monotonic()
        self.assertTrue(f.interrupt())
        with self.assertRaises(procexec.TaskInterruptedError):
            f.result(timeout=DEADLINE)
        self.assertLess(time.monotonic() - t0, 30)
        # Its worker was killed and replaced.
        new_pid = self.executor.submit(getpid).result(timeout=DEADLINE)
        self.assertNotEqual(new_pid, pid)

    def test_interrupt_pending_future_cancels_it(self):
        self.executor.shutdown()
        self.executor = ProcessPoolExecutor(1)
        gate = self.gate()
        self.executor.submit(gated, gate.dir, None)
        gate.wait_started()
        queued = self.executor.submit(add, 1, 2)
        self.assertTrue(queued.interrupt())
        self.assertTrue(queued.cancelled())

    def test_interrupted_outside_a_task(self):
        self.assertFalse(procexec.interrupted())


class ProgressTest(ExecutorTestCase):

    def test_progress_callback(self):
        reports = []

        def on_progress(future, fraction, detail):
            self.assertFalse(future.done())
            reports.append((future, fraction, detail))

        f = self.executor.submit_with(report, (4,), progress=on_progress)
        self.assertEqual(f.result(timeout=DEADLINE), 'reported')
        # Every report is delivered before the future is done.
        self.assertEqual([(fr, d) for _, fr, d in reports],
                         [(0.25, {'step': 1}), (0.5, {'step': 2}), (0.75, {'step': 3}),
                          (1.0, {'step': 4})])
        self.assertTrue(all(fut is f for fut, _, _ in reports))

    def test_progress_of_many_tasks(self):
        seen = {}

        def on_progress(future, fraction, detail):
            seen.setdefault(future, []).append(detail['step'])

        fs = [self.executor.submit_with(report, (3,), progress=on_progress)
              for _ in range(10)]
        done_seen = []
        all_done = threading.Event()

        def on_done(fut):
            done_seen.append(list(seen.get(fut, [])))
            if len(done_seen) == len(fs):
                all_done.set()

        for f in fs:
            f.add_done_callback(on_done)
        self.assertTrue(all_done.wait(DEADLINE))
        self.assertEqual([seen[f] for f in fs], [[1, 2, 3]] * 10)
        self.assertEqual(done_seen, [[1, 2, 3]] * 10)

    def test_progress_without_callback_is_dropped(self):
        self.assertEqual(self.executor.submit(report, 3).result(timeout=DEADLINE), 'reported')

    def test_report_progress_outside_a_task(self):
        with self.assertRaises(RuntimeError):
            procexec.report_progress(0.5)


if __name__ == '__main__':
    os.environ['PROCEXEC_TEST_PARENT'] = str(os.getpid())
    unittest.main()
