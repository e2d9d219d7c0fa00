// test-gi.js: the raw GI API from GJS, with the Promise additions of the
// override, on the C tasks of the test module (tests/proc-test-tasks.c)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run by `meson test --suite gjs` with GI_TYPELIB_PATH, LD_LIBRARY_PATH,
// GJS_PATH, PROCEXEC_WORKER and PROC_TEST_MODULE pointing into the build.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Procexec from 'gi://Procexec';

import {
    test, run, skip, assert, assertEqual, assertRejects, assertThrows, assertGError,
    nextSignal, isOurChild, ownPid,
} from './harness.js';

const TEST_MODULE = GLib.getenv('PROC_TEST_MODULE');
const TEST_ERROR = GLib.quark_from_string('proc-test-error-quark');
const IO_ERROR = Gio.io_error_quark();
const PROC_ERROR = Procexec.error_quark();

function newExecutor(props = {}) {
    if (!TEST_MODULE)
        skip('PROC_TEST_MODULE is not set (run under meson test)');
    return new Procexec.Executor({max_workers: 2, modules: [TEST_MODULE], ...props});
}

// Ends an executor whatever state its tasks are in, and waits for its
// workers to exit.
async function dispose(executor) {
    executor.kill_workers();
    await executor.shutdown_async(true, null);
}

const add = (a, b) => new GLib.Variant('(ii)', [a, b]);
const msec = ms => new GLib.Variant('(u)', [ms]);

test('the override is applied to gi://Procexec', () => {
    assertEqual(typeof Procexec.ProcessPool, 'function', 'Procexec.ProcessPool');
    assertEqual(typeof Procexec.Future.prototype.then, 'function', 'Future.prototype.then');
    assertEqual(typeof Procexec.asCompleted, 'function', 'Procexec.asCompleted');
    assertEqual(typeof Procexec.MapIter.prototype[Symbol.asyncIterator], 'function',
        'MapIter is async iterable');
});

test('submit a C task with a GLib.Variant and await its future', async () => {
    const executor = newExecutor();
    try {
        const future = executor.submit('add', add(2, 3));
        assert(future instanceof Procexec.Future, 'submit() returns a Procexec.Future');
        const result = await future;
        assert(result instanceof GLib.Variant, 'the result is a GLib.Variant');
        assertEqual(result.deepUnpack(), [5], 'add(2, 3)');
        assert(future.is_done(), 'the future is done');
        assertEqual(future.get_state(), Procexec.FutureState.FINISHED, 'state');
        const pid = future.get_worker_pid();
        assert(pid > 0 && pid !== ownPid(), `worker pid ${pid} is another process`);

        // await executor.submit(...) directly, and the other Promise forms
        assertEqual((await executor.submit('add', add(1, 1))).deepUnpack(), [2], 'await submit()');
        assertEqual((await executor.submit_async('add', add(3, 4), null)).deepUnpack(), [7],
            'await submit_async()');
        const f = executor.submit('add', add(5, 5));
        assertEqual((await f.wait_async(null)).deepUnpack(), [10], 'await wait_async()');
        const p = Procexec.result(f);
        assert(p instanceof Promise, 'Procexec.result() returns a real Promise');
        assertEqual((await p).deepUnpack(), [10], 'Procexec.result()');
        // the empty tuple for a task without a value
        assertEqual((await executor.submit('echo', null)).get_type_string(), '()', 'echo()');
    } finally {
        await dispose(executor);
    }
});

test('Promise.all over futures', async () => {
    const executor = newExecutor();
    try {
        const futures = [];
        for (let i = 0; i < 20; i++)
            futures.push(executor.submit('add', add(i, i)));
        const results = await Promise.all(futures);
        assertEqual(results.map(v => v.deepUnpack()[0]), futures.map((_, i) => 2 * i), 'results');
    } finally {
        await dispose(executor);
    }
});

test('a task error keeps its domain, code and message', async () => {
    const executor = newExecutor();
    try {
        let e = await assertRejects(executor.submit('fail',
            new GLib.Variant('(sis)', ['my-test-domain', 42, 'it went wrong'])));
        assertGError(e, GLib.quark_from_string('my-test-domain'), 42);
        assertEqual(GLib.quark_to_string(e.domain), 'my-test-domain', 'domain');
        assertEqual(e.message, 'it went wrong', 'message');

        e = await assertRejects(executor.submit('fail',
            new GLib.Variant('(sis)', ['g-io-error-quark', Gio.IOErrorEnum.NOT_FOUND, 'no file'])));
        assertGError(e, IO_ERROR, Gio.IOErrorEnum.NOT_FOUND);
        assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), 'matches(Gio.IOErrorEnum, …)');

        e = await assertRejects(executor.submit('fail_on', add(7, 7)));
        assertGError(e, TEST_ERROR, 7);
        assertEqual(e.message, 'bad value 7', 'message');

        // the same error through the other forms
        e = await assertRejects(executor.submit_async('fail_on', add(3, 3), null));
        assertGError(e, TEST_ERROR, 3, 'submit_async');
        const f = executor.submit('fail_on', add(4, 4));
        await assertRejects(f);
        const exception = f.exception(0);
        assertEqual([GLib.quark_to_string(exception.domain), exception.code, exception.message],
            ['proc-test-error-quark', 4, 'bad value 4'], 'exception()');
    } finally {
        await dispose(executor);
    }
});

test('errors of the pool: unknown task, bad arguments, submit after shutdown', async () => {
    const executor = newExecutor();
    try {
        let e = await assertRejects(executor.submit('no-such-task', null));
        assertGError(e, PROC_ERROR, Procexec.Error.UNKNOWN_TASK);
        assert(e.matches(Procexec.Error, Procexec.Error.UNKNOWN_TASK), 'matches(Procexec.Error, …)');

        e = await assertRejects(executor.submit('add', new GLib.Variant('(s)', ['x'])));
        assertGError(e, IO_ERROR, Gio.IOErrorEnum.INVALID_ARGUMENT, 'add("x")');

        await executor.shutdown_async(false, null);
        e = assertThrows(() => executor.submit('add', add(1, 2)), 'submit after shutdown');
        assertGError(e, PROC_ERROR, Procexec.Error.SHUTDOWN);
    } finally {
        await dispose(executor);
    }
});

test('for await over asCompleted(): futures in completion order', async () => {
    const executor = newExecutor({max_workers: 3});
    try {
        // `slow` cannot finish before it is interrupted, so it must come last
        const slow = executor.submit('sleep', msec(600000));
        const quick = [executor.submit('add', add(1, 2)), executor.submit('add', add(3, 4))];
        const seen = [];
        for await (const f of Procexec.asCompleted([slow, ...quick])) {
            assert(f.is_done(), 'a yielded future is done');
            seen.push(f);
            if (seen.length === 2)
                assert(slow.interrupt(), 'interrupt() of the running sleep');
        }
        assertEqual(seen.length, 3, 'number of futures yielded');
        assert(seen.includes(quick[0]) && seen.includes(quick[1]),
            'the quick futures come first, as the same objects');
        assert(seen[2] === slow, 'the interrupted future comes last');
        assertGError(await assertRejects(slow), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'slow');
        assertEqual((await quick[1]).deepUnpack(), [7], 'quick[1]');

        // the raw Procexec.AsCompleted is async iterable too
        const more = [executor.submit('add', add(0, 1)), executor.submit('add', add(0, 2))];
        const got = [];
        for await (const f of Procexec.AsCompleted.new(more, -1))
            got.push(f.peek_result().deepUnpack()[0]);
        assertEqual(got.sort(), [1, 2], 'results through Procexec.AsCompleted');
    } finally {
        await dispose(executor);
    }
});

test('asCompleted() with a timeout rejects with TIMED_OUT', async () => {
    const executor = newExecutor();
    try {
        const slow = executor.submit('sleep', msec(600000));
        const iter = Procexec.asCompleted([slow], {timeoutMs: 50});
        const e = await assertRejects(iter.next());
        assertGError(e, IO_ERROR, Gio.IOErrorEnum.TIMED_OUT);
        assert(!slow.is_done(), 'the timeout changed nothing');
        slow.interrupt();
        await assertRejects(slow);
    } finally {
        await dispose(executor);
    }
});

test('for await over executor.map(): results in input order, the first error', async () => {
    const executor = newExecutor();
    try {
        const pairs = [];
        for (let i = 0; i < 25; i++)
            pairs.push([i, 100 * i]);
        const results = [];
        for await (const v of executor.map('add', new GLib.Variant('a(ii)', pairs), 3, 0, -1))
            results.push(v.deepUnpack()[0]);
        assertEqual(results, pairs.map(([a, b]) => a + b), 'results');

        // fail_on(i, 5): the map yields 0..4, then throws the error of item 5
        const inputs = new GLib.Variant('a(ii)', [0, 1, 2, 3, 4, 5, 6, 7].map(i => [i, 5]));
        const before = [];
        let error = null;
        try {
            for await (const v of executor.map('fail_on', inputs, 2, 0, -1))
                before.push(v.deepUnpack()[0]);
        } catch (e) {
            error = e;
        }
        assertEqual(before, [0, 1, 2, 3, 4], 'results before the error');
        assertGError(error, TEST_ERROR, 5, 'the map error');

        // leaving the loop early closes the map
        let n = 0;
        for await (const _ of executor.map('add', new GLib.Variant('a(ii)', pairs), 1, 2, -1)) {
            if (++n === 2)
                break;
        }
        assertEqual(n, 2, 'items before break');
        assertEqual((await executor.submit('add', add(1, 1))).deepUnpack(), [2],
            'the executor works after a closed map');
    } finally {
        await dispose(executor);
    }
});

test('cancel() a pending future, interrupt() a running one', async () => {
    const executor = newExecutor({max_workers: 1});
    try {
        const running = executor.submit('sleep_report', msec(600000));
        const started = nextSignal(running, 'progress');
        const queued = executor.submit('add', add(1, 2));
        const [fraction, detail] = await started;   // the sleep has started
        assertEqual(fraction, 0, 'first progress');
        assertEqual(detail.deepUnpack(), [running.get_worker_pid()], 'the worker reports its pid');
        assert(running.is_running(), 'running');

        assert(queued.cancel(), 'cancel() of a pending future');
        assert(queued.is_cancelled(), 'is_cancelled()');
        assertGError(await assertRejects(queued), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'queued');
        assertEqual(queued.get_state(), Procexec.FutureState.CANCELLED, 'state of the cancelled');

        assert(!running.cancel(), 'cancel() of a running future fails, as in Python');
        assert(running.interrupt(), 'interrupt()');
        assertGError(await assertRejects(running), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'running');
        assertEqual(running.get_state(), Procexec.FutureState.FINISHED, 'state of the interrupted');

        assertEqual((await executor.submit('add', add(2, 2))).deepUnpack(), [4], 'next task');
    } finally {
        await dispose(executor);
    }
});

test('interrupt() a task that ignores its cancellable kills its worker', async () => {
    const executor = newExecutor({max_workers: 1, cancel_grace: 100000});
    try {
        const hang = executor.submit('hang', null);
        const [, detail] = await nextSignal(hang, 'progress');
        const pid = detail.deepUnpack()[0];
        hang.interrupt();
        assertGError(await assertRejects(hang), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'hang');
        const next = executor.submit('pid', null);
        const newPid = (await next).deepUnpack()[0];
        assert(newPid !== pid, `a new worker (${newPid}) replaced the killed one (${pid})`);
    } finally {
        await dispose(executor);
    }
});

test('a crashing task fails alone; the pool goes on', async () => {
    const executor = newExecutor({max_workers: 1});
    try {
        const crash = executor.submit('segfault', null);
        const after = executor.submit('add', add(20, 22));   // queued behind the crash
        const e = await assertRejects(crash);
        assertGError(e, PROC_ERROR, Procexec.Error.WORKER_DIED);
        assert(/signal 11/.test(e.message), `the message names the signal: ${e.message}`);
        assertEqual((await after).deepUnpack(), [42], 'the task after the crash');
        assert(!executor.is_broken(), 'the executor is not broken');

        const exit = await assertRejects(executor.submit('exit', new GLib.Variant('(i)', [3])));
        assertGError(exit, PROC_ERROR, Procexec.Error.WORKER_DIED);
        assert(/status 3/.test(exit.message), `the message names the status: ${exit.message}`);
    } finally {
        await dispose(executor);
    }
});

test('the cancellable of wait_async() cancels the wait, not the task', async () => {
    const executor = newExecutor();
    try {
        const f = executor.submit('sleep', msec(600000));
        const cancellable = new Gio.Cancellable();
        const wait = f.wait_async(cancellable);
        cancellable.cancel();
        assertGError(await assertRejects(wait), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'the wait');
        assert(!f.is_done(), 'the task goes on');
        f.interrupt();
        await assertRejects(f);
    } finally {
        await dispose(executor);
    }
});

test('progress reports arrive as signals, in order', async () => {
    const executor = newExecutor();
    try {
        const f = executor.submit('progress', null);
        const reports = [];
        f.connect('progress', (_f, fraction, detail) => reports.push([fraction, detail.unpack()]));
        await f;
        // Reports are queued before the result; let the context run them.
        const ctx = GLib.MainContext.default();
        while (reports.length < 3 && ctx.iteration(false))
            ;
        assertEqual(reports, [[0.25, 'quarter'], [0.5, 'half'], [1, 'done']], 'reports');
    } finally {
        await dispose(executor);
    }
});

test('shutdown as a Promise: the workers exit and are reaped', async () => {
    const executor = newExecutor();
    const pids = new Set();
    try {
        const futures = [];
        for (let i = 0; i < 6; i++)
            futures.push(executor.submit('pid', null));
        for (const f of futures)
            pids.add((await f).deepUnpack()[0]);
        assert(executor.get_n_workers() > 0, 'workers are alive');
        for (const pid of pids)
            assert(isOurChild(pid), `worker ${pid} is a child of this process`);
        const done = await executor.shutdown_async(false, null);
        assertEqual(done, true, 'shutdown_async() resolves to true');
        assertEqual(executor.get_n_workers(), 0, 'n-workers after shutdown');
        for (const pid of pids)
            assert(!isOurChild(pid), `worker ${pid} is gone (no zombie)`);
    } finally {
        await dispose(executor);
    }
});

test('shared bytes cross to the worker as one memfd; fds come back with a result', async () => {
    const executor = newExecutor();
    try {
        const data = new Uint8Array(300000).map((_, i) => i * 7);
        const shared = Procexec.shared_bytes_new(data);
        assert(Procexec.bytes_is_shared(shared), 'shared_bytes_new() makes shared bytes');
        assert(!Procexec.bytes_is_shared(new GLib.Bytes(data)), 'ordinary bytes are not shared');
        const array = GLib.Variant.new_from_bytes(new GLib.VariantType('ay'), shared, true);
        const [path, inode] = (await executor.submit('mapping', GLib.Variant.new_tuple([array])))
            .deepUnpack();
        assert(path.includes('procexec-shared'), `the worker maps the parent's memfd (${path})`);
        assert(inode > 0, 'it has an inode');
        // the same bytes, sent again, are the same pages
        const [, again] = (await executor.submit('mapping', GLib.Variant.new_tuple([array])))
            .deepUnpack();
        assertEqual(again, inode, 'inode of the second send');

        const future = executor.submit('pipe_result', new GLib.Variant('(sb)', ['from a worker', false]));
        const [handle] = (await future).deepUnpack();
        const fds = future.get_result_fd_list();
        assert(fds !== null, 'the future has a result fd list');
        const stream = new Gio.UnixInputStream({fd: fds.get(handle), close_fd: true});
        const bytes = stream.read_bytes(64, null);
        stream.close(null);
        assertEqual(new TextDecoder().decode(bytes.toArray()), 'from a worker', 'read from the fd');
    } finally {
        await dispose(executor);
    }
});

await run();
