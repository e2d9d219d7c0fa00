// test-pool.js: JS functions in GJS worker processes (Procexec.ProcessPool)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The tasks are the exported functions of pool-tasks.js. Run by
// `meson test --suite gjs` with GJS_PATH and PROCEXEC_GJS_WORKER pointing at
// the uninstalled override and worker script.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Procexec from 'gi://Procexec';

import {
    test, run, assert, assertEqual, assertRejects, assertThrows, assertGError,
    nextSignal, isOurChild, ownPid,
} from './harness.js';

const here = name => GLib.Uri.resolve_relative(import.meta.url, name, GLib.UriFlags.NONE);
const TASKS = here('pool-tasks.js');
const IO_ERROR = Gio.io_error_quark();
const PROC_ERROR = Procexec.error_quark();

async function withPool(options, body) {
    const pool = new Procexec.ProcessPool({module: TASKS, maxWorkers: 2, ...options});
    try {
        return await body(pool);
    } finally {
        pool.killWorkers();        // nothing left running if the test failed
        await pool.shutdown();
    }
}

// The (pid, tag) a `hold` or `spin` task reports when it starts.
async function started(future) {
    const [, detail] = await nextSignal(future.future, 'progress');
    return detail.deepUnpack()[0];
}

test('results: JSON values, undefined, several arguments', () => withPool({}, async pool => {
    assertEqual(await pool.submit('square', 12), 144, 'square(12)');
    assertEqual(await pool.submit('add', 'ab', 'cd'), 'abcd', 'add("ab", "cd")');
    const values = [0, -1.5, 'text with “unicode” ✓ and\nnewlines', true, false, null,
        [1, [2, [3]]], {a: {b: [null, 'c']}, 'key with space': 1}, [], {}];
    assertEqual(await pool.submit('echo', ...values), values, 'echo(...values)');
    assertEqual(await pool.submit('echo', undefined, 1), [null, 1],
        'undefined arguments arrive as null (as JSON.stringify does)');
    const nothing = await pool.submit('nothing');
    assertEqual(nothing, undefined, 'a function without a return value gives undefined');
    assertEqual(await pool.submit('isWorker'), true, 'isWorker() in a worker');
    assertEqual(Procexec.isWorker(), false, 'isWorker() in the parent');
}));

test('GLib.Variant arguments and results pass through', () => withPool({}, async pool => {
    const v = new GLib.Variant('(sa{sv})', ['x', {k: new GLib.Variant('i', 1)}]);
    const result = await pool.submit('variantInfo', v, 'label');
    assert(result instanceof GLib.Variant, 'the result is a GLib.Variant');
    assertEqual(result.get_type_string(), '(ssv)', 'result type');
    assertEqual(result.get_child_value(0).unpack(), '(sa{sv})', 'the argument arrived typed');
    assertEqual(result.get_child_value(1).unpack(), 'label', 'the JSON argument beside it');
    assert(result.get_child_value(2).get_variant().equal(v), 'the argument is intact');

    const e = assertThrows(() => pool.submit('echo', {nested: new GLib.Variant('i', 1)}),
        'a GLib.Variant inside a JSON value');
    assert(e instanceof TypeError, `TypeError, got ${e}`);
}));

test('arguments that cannot be sent are refused at submit()', () => withPool({}, async pool => {
    for (const [what, arg] of [['a function', () => 1], ['a BigInt', 10n],
        ['a Uint8Array', new Uint8Array([1, 2])], ['a Map', new Map()],
        ['a GObject', new Gio.Cancellable()]]) {
        const e = assertThrows(() => pool.submit('echo', arg), what);
        assert(e instanceof TypeError, `${what}: TypeError, got ${e}`);
    }
    assertEqual(pool.executor.get_n_pending() + pool.executor.get_n_running(), 0,
        'nothing was submitted');
    // a result that cannot be sent fails its task
    const e = await assertRejects(pool.submit('returnFunction'));
    assert(e instanceof TypeError, `TypeError for an unsendable result, got ${e}`);
}));

test('exceptions reject with the remote name and message', () => withPool({}, async pool => {
    let e = await assertRejects(pool.submit('throwTypeError', 'bad input'));
    assert(e instanceof TypeError, `a TypeError, got ${e?.constructor?.name}`);
    assertEqual([e.name, e.message], ['TypeError', 'bad input'], 'name and message');
    assert(/throwTypeError@.*pool-tasks\.js/.test(e.remoteStack ?? ''),
        `remoteStack names the task: ${e.remoteStack}`);
    assert(e.cause instanceof GLib.Error, 'the cause is the GLib.Error');
    assertGError(e.cause, Procexec.GjsError.quark(), Procexec.GjsError.ERROR, 'cause');
    assert(e.cause.message.startsWith('TypeError: bad input\n\nRemote stack (worker '),
        `the GLib.Error message: ${e.cause.message}`);

    e = await assertRejects(pool.submit('throwCustom', 'no parse'));
    assertEqual([e.name, e.message, String(e)], ['ParseFailure', 'no parse', 'ParseFailure: no parse'],
        'a subclass of Error keeps its class name');

    e = await assertRejects(pool.submit('throwNamed', 'QuotaError', 'a: b: c'));
    assertEqual([e.name, e.message], ['QuotaError', 'a: b: c'], 'a custom name, ": " in the message');

    e = await assertRejects(pool.submit('throwGError', 'my-js-domain', 17, 'from a GLib.Error'));
    assertGError(e, GLib.quark_from_string('my-js-domain'), 17, 'a thrown GLib.Error');
    assertEqual(e.message, 'from a GLib.Error', 'message');

    e = await assertRejects(pool.submit('readMissing', '/nonexistent/procexec-test'));
    assertGError(e, IO_ERROR, Gio.IOErrorEnum.NOT_FOUND, 'a Gio error in the task');

    e = await assertRejects(pool.submit('throwValue', {code: 42, list: [1]}));
    assertEqual(e, {code: 42, list: [1]}, 'a thrown non-Error value rejects with that value');
    e = await assertRejects(pool.submit('throwValue', 'just a string'));
    assertEqual(e, 'just a string', 'a thrown string');

    e = await assertRejects(pool.submit('noSuchFunction', 1));
    assertGError(e, PROC_ERROR, Procexec.Error.UNKNOWN_TASK, 'an unknown function');
}));

test('async functions run to completion in the worker', () => withPool({}, async pool => {
    assertEqual(await pool.submit('later', {x: 1}, 20), {x: 1}, 'later()');
    const e = await assertRejects(pool.submit('laterThrow', 'too late', 10));
    assert(e instanceof RangeError && e.message === 'too late', `laterThrow(): ${e}`);
    const path = GLib.build_filenamev([GLib.get_tmp_dir(), `procexec-gjs-${ownPid()}.txt`]);
    GLib.file_set_contents(path, 'contents ✓');
    try {
        assertEqual(await pool.submit('asyncGio', path), 'contents ✓', 'a Gio async call');
    } finally {
        GLib.unlink(path);
    }
    // several async tasks at once, each in its own worker
    const values = await Promise.all([1, 2, 3, 4].map(n => pool.submit('later', n, 5)));
    assertEqual(values, [1, 2, 3, 4], 'results');
}));

test('maxWorkers 2: tasks running at once are in distinct workers, at most 2', () =>
    withPool({maxWorkers: 2}, async pool => {
        const held = ['a', 'b', 'c', 'd'].map(tag => pool.submit('hold', tag));
        const first = await Promise.all([started(held[0]), started(held[1])]);
        const own = ownPid();
        assert(first[0] !== first[1], `two running tasks, two workers: ${first}`);
        assert(!first.includes(own), 'the workers are not this process');
        assertEqual(pool.executor.get_n_workers(), 2, 'n-workers');
        assert(held[2].future.get_state() === Procexec.FutureState.PENDING &&
            held[3].future.get_state() === Procexec.FutureState.PENDING,
        'the other two wait for a worker');

        // interrupted, `hold` ends by itself: its worker is kept and takes
        // the waiting tasks
        const next = [started(held[2]), started(held[3])];
        held[0].interrupt();
        held[1].interrupt();
        for (const f of held.slice(0, 2))
            assertGError(await assertRejects(f), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'held');
        const second = await Promise.all(next);
        assert(second.every(p => first.includes(p)), `the same two workers ran them: ${second}`);
        assert(second[0] !== second[1], 'still one task per worker');
        held[2].interrupt();
        held[3].interrupt();
        await assertRejects(held[2]);
        await assertRejects(held[3]);
        assertEqual(pool.executor.get_n_workers(), 2, 'no worker was replaced');
    }));

test('interrupt() a JS task that ignores it: its worker is killed', () =>
    withPool({maxWorkers: 1, cancelGraceMs: 100}, async pool => {
        const spin = pool.submit('spin');
        const pid = await started(spin);
        assert(spin.interrupt(), 'interrupt()');
        assertGError(await assertRejects(spin), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'spin');
        const next = await pool.submit('workerPid');
        assert(next !== pid, `a new worker ${next} replaced ${pid}`);
    }));

test('taskTimeoutMs: a task running too long fails, its worker is replaced', () =>
    withPool({maxWorkers: 1, taskTimeoutMs: 200}, async pool => {
        const spin = pool.submit('spin');
        const pid = await started(spin);
        assertGError(await assertRejects(spin), PROC_ERROR, Procexec.Error.TASK_TIMEOUT, 'spin');
        assertEqual(await pool.submit('square', 5), 25, 'the next task');
        assert(await pool.submit('workerPid') !== pid, 'in a new worker');
    }));

test('cancel() a task that has not started', () => withPool({maxWorkers: 1}, async pool => {
    const hold = pool.submit('hold', 'x');
    const queued = pool.submit('square', 3);
    await started(hold);
    assert(queued.cancel(), 'cancel()');
    assert(queued.cancelled && queued.done, 'cancelled and done');
    assertGError(await assertRejects(queued), IO_ERROR, Gio.IOErrorEnum.CANCELLED, 'queued');
    hold.interrupt();
    await assertRejects(hold);
}));

test('a worker that exits fails only its task', () => withPool({maxWorkers: 1}, async pool => {
    const before = await pool.submit('workerPid');
    const crash = pool.submit('exitWorker', 3);
    const after = pool.submit('square', 9);
    const e = await assertRejects(crash);
    assertGError(e, PROC_ERROR, Procexec.Error.WORKER_DIED, 'exitWorker(3)');
    assert(e.message.includes(`Worker ${before} exited with status 3`), `message: ${e.message}`);
    assertEqual(await after, 81, 'the next task runs in a new worker');
    assert(!pool.executor.is_broken(), 'the pool is not broken');
}));

test('print() in a task reaches the parent\'s stdout, in order', async () => {
    const gjs = GLib.file_read_link('/proc/self/exe');
    const proc = Gio.Subprocess.new([gjs, '-m', GLib.filename_from_uri(here('print-child.js'))[0]],
        Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE);
    const [out, err] = await new Promise((resolve, reject) => {
        proc.communicate_utf8_async(null, null, (p, res) => {
            try {
                const [, o, e] = p.communicate_utf8_finish(res);
                resolve([o, e]);
            } catch (e) {
                reject(e);
            }
        });
    });
    assertEqual(proc.get_exit_status(), 0, `exit status (stderr: ${err})`);
    const lines = out.split('\n').filter(l => l !== '');
    assertEqual(lines.length, 3, `three lines: ${JSON.stringify(lines)}`);
    const m0 = /^parent (\d+): before$/.exec(lines[0]);
    const m1 = /^worker (\d+): hello world$/.exec(lines[1]);
    const m2 = /^parent: after, returned by (\d+)$/.exec(lines[2]);
    assert(m0 && m1 && m2, `the lines, in order: ${JSON.stringify(lines)}`);
    assert(m1[1] !== m0[1], 'the worker line comes from another process');
    assertEqual(m2[1], m1[1], 'the future names the worker that printed');
});

test('map(): results in input order, lazily, the first error', () => withPool({}, async pool => {
    const got = [];
    for await (const v of pool.map('square', Array.from({length: 30}, (_, i) => i), {chunksize: 4}))
        got.push(v);
    assertEqual(got, Array.from({length: 30}, (_, i) => i * i), 'squares');

    const sums = [];
    for await (const v of pool.starmap('add', [[1, 2], ['a', 'b']]))
        sums.push(v);
    assertEqual(sums, [3, 'ab'], 'starmap');

    // an endless generator: inputs are read only as results are consumed
    let produced = 0;
    function* naturals() {
        for (let i = 0; ; i++) {
            produced++;
            yield i;
        }
    }
    const firsts = [];
    for await (const v of pool.map('square', naturals(), {chunksize: 2, buffersize: 2})) {
        firsts.push(v);
        if (firsts.length === 5)
            break;
    }
    assertEqual(firsts, [0, 1, 4, 9, 16], 'the first squares of an endless input');
    assert(produced <= 5 + 2 * 2 + 2, `only a bounded look-ahead was read (${produced} items)`);

    // a failing item: the results before it, then its error
    const before = [];
    let error = null;
    try {
        for await (const v of pool.starmap('throwNamed', [['A', '1'], ['B', '2']].map(
            ([n, m]) => [n, m]), {chunksize: 1}))
            before.push(v);
    } catch (e) {
        error = e;
    }
    assertEqual([before, error?.name, error?.message], [[], 'A', '1'], 'starmap error');

    const mixed = [];
    error = null;
    try {
        for await (const v of pool.map('square', [1, 2, () => 3, 4]))
            mixed.push(v);
    } catch (e) {
        error = e;
    }
    assertEqual(mixed, [1, 4], 'the results before an input that cannot be sent');
    assert(error instanceof TypeError, `then its TypeError: ${error}`);
}));

test('asCompleted() over pool futures', () => withPool({maxWorkers: 3}, async pool => {
    const slow = pool.submit('hold', 'slow');
    const quick = [pool.submit('square', 2), pool.submit('later', 'x', 1)];
    const order = [];
    for await (const f of Procexec.asCompleted([slow, ...quick])) {
        assert(f.done, 'a yielded future is done');
        order.push(f);
        if (order.length === 2)
            slow.interrupt();
    }
    assert(order[2] === slow && order.includes(quick[0]) && order.includes(quick[1]),
        'the same PoolFuture objects, the interrupted one last');
    assertEqual(await Promise.all(quick), [4, 'x'], 'values');
}));

test('initializer and initargs run once in each worker', async () => {
    await withPool({maxWorkers: 2, initializer: 'setup', initargs: ['config']}, async pool => {
        const results = await Promise.all([1, 2, 3, 4].map(() => pool.submit('getSetup')));
        for (const r of results)
            assertEqual(r?.value, 'config', `initialized: ${JSON.stringify(r)}`);
    });
    await withPool({initializer: 'setupFails', initargs: ['no config']}, async pool => {
        const e = await assertRejects(pool.submit('square', 2));
        assertGError(e, PROC_ERROR, Procexec.Error.BROKEN, 'a failed initializer');
        assert(e.message.includes('no config'), `the message carries its error: ${e.message}`);
        assert(pool.executor.is_broken(), 'the pool is broken');
    });
});

test('a module that cannot be imported breaks the pool with its error', async () => {
    const pool = new Procexec.ProcessPool({module: here('broken-module.js'), maxWorkers: 1});
    try {
        const e = await assertRejects(pool.submit('never'));
        assertGError(e, PROC_ERROR, Procexec.Error.BROKEN, 'submit to a broken module');
        assert(e.message.includes('this module refuses to load'), `message: ${e.message}`);
    } finally {
        await pool.shutdown();
    }
    const unguarded = new Procexec.ProcessPool({module: here('unguarded-module.js'), maxWorkers: 1});
    try {
        const e = await assertRejects(unguarded.submit('square', 2));
        assertGError(e, PROC_ERROR, Procexec.Error.BROKEN, 'a module that makes a pool on import');
        assert(e.message.includes('Procexec.isWorker()'), `message: ${e.message}`);
    } finally {
        await unguarded.shutdown();
    }
    let e = assertThrows(() => new Procexec.ProcessPool({module: here('no-such-module.js')}));
    assert(/does not exist/.test(e.message), `a missing module: ${e.message}`);
    e = assertThrows(() => new Procexec.ProcessPool({maxWorkers: 1}));
    assert(e instanceof TypeError, `no module: ${e}`);
    e = assertThrows(() => new Procexec.ProcessPool({module: TASKS, maxWorkers: -1}));
    assert(e instanceof RangeError, `maxWorkers -1: ${e}`);
});

test('shutdown() resolves once the workers exited; submit() then throws', async () => {
    const pool = new Procexec.ProcessPool({module: TASKS, maxWorkers: 2});
    const pids = new Set(await Promise.all([1, 2, 3, 4].map(() => pool.submit('workerPid'))));
    for (const pid of pids)
        assert(isOurChild(pid), `worker ${pid} is a child of this process`);
    const last = pool.submit('later', 'last', 20);
    await pool.shutdown();
    assert(last.done, 'work submitted before shutdown() is done');
    assertEqual(await last, 'last', 'its value');
    assertEqual(pool.executor.get_n_workers(), 0, 'n-workers');
    for (const pid of pids)
        assert(!isOurChild(pid), `worker ${pid} is gone (no zombie)`);
    const e = assertThrows(() => pool.submit('square', 1), 'submit after shutdown');
    assertGError(e, PROC_ERROR, Procexec.Error.SHUTDOWN);
});

await run();
