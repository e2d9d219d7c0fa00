#!/usr/bin/python3
# test_gi.py: the raw GObject-Introspection API of procexec, from Python.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Procexec.Executor runs named C tasks of the test module
# ($PROC_TEST_MODULE, loaded by procexec-worker) with GLib.Variant
# arguments; results come back with Future.result() and with
# Future.wait_async() in a GLib.MainLoop.

import os
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Procexec', '1')
from gi.repository import GLib, Procexec  # noqa: E402

SECOND_USEC = 1_000_000


def run_loop(loop, seconds=30):
    """Runs @loop until it quits; fails the test if that takes longer than
    @seconds (a deadline for a broken test, not a synchronisation)."""
    timed_out = []

    def on_timeout():
        timed_out.append(True)
        loop.quit()
        return False

    guard = GLib.timeout_add_seconds(seconds, on_timeout)
    loop.run()
    if timed_out:
        raise AssertionError('the main loop did not quit within %d s' % seconds)
    GLib.source_remove(guard)


def test_module():
    path = os.environ.get('PROC_TEST_MODULE')
    if not path:
        raise unittest.SkipTest('PROC_TEST_MODULE is not set (run through meson test)')
    return path


class RawGITest(unittest.TestCase):

    def setUp(self):
        self.executor = Procexec.Executor(max_workers=2, modules=[test_module()])

    def tearDown(self):
        self.executor.shutdown(True, False)
        self.assertEqual(self.executor.get_n_workers(), 0)

    def test_submit_named_task_with_variant_args(self):
        future = self.executor.submit('add', GLib.Variant('(ii)', (40, 2)))
        self.assertIsInstance(future, Procexec.Future)
        result = future.result(10 * SECOND_USEC)
        self.assertEqual(result.get_type_string(), '(i)')
        self.assertEqual(result.unpack(), (42,))
        self.assertEqual(future.get_state(), Procexec.FutureState.FINISHED)
        self.assertGreater(future.get_worker_pid(), 0)
        self.assertNotEqual(future.get_worker_pid(), os.getpid())

    def test_task_error_is_a_glib_error(self):
        future = self.executor.submit('fail', GLib.Variant('(sis)', ('my-test-domain', 7, 'no luck')))
        with self.assertRaises(GLib.Error) as cm:
            future.result(10 * SECOND_USEC)
        self.assertEqual(cm.exception.domain, 'my-test-domain')
        self.assertEqual(cm.exception.code, 7)
        self.assertEqual(cm.exception.message, 'no luck')

    def test_unknown_task_and_worker_death(self):
        unknown = self.executor.submit('no-such-task', None)
        with self.assertRaises(GLib.Error) as cm:
            unknown.result(10 * SECOND_USEC)
        self.assertTrue(cm.exception.matches(Procexec.error_quark(), Procexec.Error.UNKNOWN_TASK))

        crash = self.executor.submit('segfault', None)
        with self.assertRaises(GLib.Error) as cm:
            crash.result(10 * SECOND_USEC)
        self.assertTrue(cm.exception.matches(Procexec.error_quark(), Procexec.Error.WORKER_DIED),
                        cm.exception.message)
        # The pool goes on.
        again = self.executor.submit('add', GLib.Variant('(ii)', (1, 2)))
        self.assertEqual(again.result(10 * SECOND_USEC).unpack(), (3,))

    def test_wait_async_in_a_main_loop(self):
        loop = GLib.MainLoop.new(None, False)
        outcomes = {}
        futures = {n: self.executor.submit('add', GLib.Variant('(ii)', (n, n))) for n in range(5)}
        failing = self.executor.submit('fail', GLib.Variant('(sis)', ('my-test-domain', 3, 'three')))

        def on_done(future, result, n):
            try:
                outcomes[n] = future.wait_finish(result).unpack()
            except GLib.Error as e:
                outcomes[n] = (e.domain, e.code, e.message)
            if len(outcomes) == 6:
                loop.quit()

        for n, future in futures.items():
            future.wait_async(None, on_done, n)
        failing.wait_async(None, on_done, 'failing')

        run_loop(loop)

        self.assertEqual(outcomes, {**{n: (2 * n,) for n in range(5)},
                                    'failing': ('my-test-domain', 3, 'three')})

    def test_progress_signal(self):
        loop = GLib.MainLoop.new(None, False)
        reports = []
        future = self.executor.submit('progress', None)
        future.connect('progress', lambda f, fraction, detail:
                       reports.append((fraction, detail.unpack())))

        def on_done(f, result, data):
            f.wait_finish(result)
            loop.quit()

        future.wait_async(None, on_done, None)
        run_loop(loop)
        # Progress reports are queued before the result, in the same context.
        self.assertEqual(reports, [(0.25, 'quarter'), (0.5, 'half'), (1.0, 'done')])

    def test_cancel_and_interrupt(self):
        self.executor.set_max_workers(1)
        running = self.executor.submit('sleep', GLib.Variant('(u)', (60_000,)))
        queued = self.executor.submit('sleep', GLib.Variant('(u)', (60_000,)))
        self.assertTrue(queued.cancel())
        self.assertTrue(queued.is_cancelled())
        self.assertTrue(running.interrupt())
        with self.assertRaises(GLib.Error) as cm:
            running.result(30 * SECOND_USEC)
        # G_IO_ERROR_CANCELLED
        self.assertEqual((cm.exception.domain, cm.exception.code), ('g-io-error-quark', 19),
                         cm.exception.message)


if __name__ == '__main__':
    unittest.main()
