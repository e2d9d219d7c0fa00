#!/usr/bin/python3
# cpython_suite.py: CPython's own tests of ProcessPoolExecutor, run against
# procexec.ProcessPoolExecutor.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: cpython_suite.py [--context fork|forkserver|spawn ...] [-v] [TEST...]
#
# It imports Debian's copy of CPython's test file
# (/usr/lib/python3.11/test/test_concurrent_futures.py, package
# libpython3.11-testsuite) as a module, without editing it, and:
#   * points the three process-pool mixins (fork, forkserver, spawn) and the
#     module's `futures` global at procexec (procexec.futures is
#     concurrent.futures with procexec's ProcessPoolExecutor);
#   * makes the scripts that some tests run in a child interpreter use
#     procexec too (see _patch_script_helper);
#   * runs every test class made for a process pool (ProcessPool*Test),
#     that is every test of the file that involves ProcessPoolExecutor;
#   * marks the deliberate deviations, listed in DEVIATIONS with the reason
#     (also in docs/python-guide.md), as expected failures: if one of them
#     starts to pass, the run fails, so that the list stays true.
#
# The adapter adds no sleeps. The few CPython-private attributes the tests
# read (executor._processes, ._call_queue) are provided by procexec or by
# the AdapterExecutor below, each explained there.
#
# At the end it prints one line:
#   CPYTHON-SUITE run=N passed=N failed=N errors=N skipped=N deviations=N unexpected-successes=N
# and exits with 0 only if nothing failed.

import argparse
import os
import sys
import time
import unittest

import procexec
import procexec.futures

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_FILE = '/usr/lib/python3.11/test/test_concurrent_futures.py'

# The deliberate deviations: 'Mixin.test_method' -> (contexts or None for
# all three, why). docs/python-guide.md lists the same, with more detail.
DEVIATIONS = {
    'ProcessPoolExecutorTest.test_killed_child': (
        None,
        'a worker killed during a task fails only that task (with '
        'WorkerDiedError, a BrokenProcessPool); the pool is not broken, so '
        'the next submit() succeeds where CPython raises BrokenProcessPool'),
    'ProcessPoolExecutorTest.test_saturation': (
        None,
        'its tasks (sem.acquire of a multiprocessing semaphore) cannot be '
        'pickled; procexec pickles in submit() and fails such a future at '
        'once, without starting a worker, while CPython starts a worker '
        'and fails the future later; the test counts workers'),
    'ProcessPoolShutdownTest.test_processes_terminate': (
        None,
        'as test_saturation: its task is a local function, which cannot be '
        'pickled, so no worker starts; with the fork context it also '
        'expects every worker to start at once, as fork does'),
    'FailingInitializerMixin.test_initializer': (
        ('fork',),
        'its initargs hold a Queue made with the fork context, whose '
        'semaphores exist only in forked children; procexec workers are '
        'always started with exec, as with spawn (which passes)'),
}


def load_cpython_module():
    if not os.path.exists(TEST_FILE):
        print('SKIP: %s is missing (Debian package libpython3.11-testsuite)' % TEST_FILE)
        sys.exit(77)
    from test import test_concurrent_futures as T
    return T


class AdapterExecutor(procexec.ProcessPoolExecutor):
    """procexec.ProcessPoolExecutor plus stand-ins for CPython-private
    attributes that some tests read and procexec does not have.

    It is named ProcessPoolExecutor because tests that run a script in a
    child interpreter write `from concurrent.futures import <its name>`."""

    class _NoCallQueue:
        # procexec has no call queue and no feeder thread: tasks go straight
        # to the C library. test_del_shutdown and test_shutdown_no_wait join
        # CPython's queue thread; there is nothing to join.
        def join_thread(self):
            pass

    _call_queue = _NoCallQueue()


AdapterExecutor.__name__ = AdapterExecutor.__qualname__ = 'ProcessPoolExecutor'


def patch_module(T):
    for mixin in (T.ProcessPoolForkMixin, T.ProcessPoolForkserverMixin,
                  T.ProcessPoolSpawnMixin):
        mixin.executor_type = AdapterExecutor
    # Tests that build their own pool call futures.ProcessPoolExecutor and
    # read futures.process._RemoteTraceback.
    futures = type(sys)('procexec_futures_for_tests')
    futures.__dict__.update(procexec.futures.__dict__)
    futures.ProcessPoolExecutor = AdapterExecutor
    T.futures = futures
    _patch_script_helper(T)


def _patch_script_helper(T):
    """Scripts run in a child interpreter (test_interpreter_shutdown,
    test_submit_after_interpreter_shutdown) do `from concurrent.futures
    import ProcessPoolExecutor`: make that procexec's in the child."""
    original = T.assert_python_ok
    pkg_dir = os.path.dirname(os.path.dirname(os.path.abspath(procexec.__file__)))
    prelude = ('import sys; sys.path.insert(0, %r); import concurrent.futures, procexec; '
               'concurrent.futures.ProcessPoolExecutor = procexec.ProcessPoolExecutor\n'
               % pkg_dir)

    def assert_python_ok(*args, **env_vars):
        args = list(args)
        if len(args) >= 2 and args[0] == '-c':
            args[1] = prelude + args[1]
        # Not isolated (-I): the child needs GI_TYPELIB_PATH and friends.
        env_vars.setdefault('__isolated', False)
        for name in ('GI_TYPELIB_PATH', 'LD_LIBRARY_PATH', 'PROCEXEC_WORKER'):
            if name in os.environ:
                env_vars.setdefault(name, os.environ[name])
        return original(*args, **env_vars)

    T.assert_python_ok = assert_python_ok


def process_pool_classes(T, contexts):
    names = []
    for name, obj in vars(T).items():
        if (isinstance(obj, type) and issubclass(obj, unittest.TestCase)
                and name.startswith('ProcessPool') and name.endswith('Test')):
            ctx = getattr(obj, 'ctx', None)
            if ctx in contexts:
                names.append(name)
    return sorted(names)


def mark_deviations(T, class_names):
    marked = []
    for cname in class_names:
        cls = getattr(T, cname)
        for key, (contexts, reason) in DEVIATIONS.items():
            mixin, method = key.split('.')
            if not issubclass(cls, getattr(T, mixin)):
                continue
            if contexts is not None and cls.ctx not in contexts:
                continue
            setattr(cls, method, unittest.expectedFailure(getattr(cls, method)))
            marked.append('%s.%s' % (cname, method))
    return marked


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--context', action='append', choices=['fork', 'forkserver', 'spawn'])
    parser.add_argument('-v', '--verbose', action='store_true')
    parser.add_argument('--reference', action='store_true',
                        help="run CPython's own ProcessPoolExecutor (no patching, "
                             "no deviations), for comparison")
    parser.add_argument('tests', nargs='*', help='Class or Class.test_method')
    opts = parser.parse_args()
    contexts = opts.context or ['fork', 'forkserver', 'spawn']

    T = load_cpython_module()
    class_names = process_pool_classes(T, contexts)
    if not opts.reference:
        patch_module(T)
        mark_deviations(T, class_names)

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    if opts.tests:
        for t in opts.tests:
            suite.addTests(loader.loadTestsFromName(t, T))
    else:
        for cname in class_names:
            suite.addTests(loader.loadTestsFromTestCase(getattr(T, cname)))

    # The module's own setUp/tearDown of the module (thread and process
    # leak checks).
    T.setUpModule()
    t0 = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2 if opts.verbose else 1, stream=sys.stdout)
    try:
        result = runner.run(suite)
    finally:
        unittest.case.doModuleCleanups()
    dt = time.monotonic() - t0

    n_fail = len(result.failures)
    n_err = len(result.errors)
    n_skip = len(result.skipped)
    n_dev = len(result.expectedFailures)
    n_unexp = len(result.unexpectedSuccesses)
    n_pass = result.testsRun - n_fail - n_err - n_skip - n_dev - n_unexp
    print('CPYTHON-SUITE run=%d passed=%d failed=%d errors=%d skipped=%d deviations=%d '
          'unexpected-successes=%d seconds=%.0f'
          % (result.testsRun, n_pass, n_fail, n_err, n_skip, n_dev, n_unexp, dt))
    for test, reason in result.skipped:
        print('  skipped: %s: %s' % (test.id(), reason))
    for test, _ in result.expectedFailures:
        reason = next((r for k, (c, r) in DEVIATIONS.items()
                       if k.split('.')[1] == test._testMethodName and issubclass(
                           type(test), getattr(T, k.split('.')[0]))), '?')
        print('  deviation: %s: %s' % (test.id(), reason))
    for test in result.unexpectedSuccesses:
        print('  unexpected success (remove it from DEVIATIONS): %s' % test.id())
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
