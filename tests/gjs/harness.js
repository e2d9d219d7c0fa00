// harness.js: a small TAP harness for the GJS tests (run with gjs -m)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// test(name, async fn) registers a test; run() runs them in order, prints
// TAP ("ok", "not ok", "ok … # SKIP") with diagnostics as "# " lines, and
// exits 1 if any failed, else 0. A test that does not settle within its
// timeout fails. skip(reason) inside a test reports it as skipped.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

const tests = [];

class SkipTest extends Error {}

export function test(name, fn, {timeoutMs = 30000} = {}) {
    tests.push({name, fn, timeoutMs});
}

export function skip(reason) {
    throw new SkipTest(reason);
}

function show(value) {
    if (value instanceof GLib.Variant)
        return `GLib.Variant ${value.print(true)}`;
    if (value instanceof GLib.Error)
        return `GLib.Error ${GLib.quark_to_string(value.domain)} ${value.code}: ${value.message}`;
    try {
        const json = JSON.stringify(value);
        return json === undefined ? String(value) : json;
    } catch (_) {
        return String(value);
    }
}

export class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

export function assert(condition, message = 'assertion failed') {
    if (!condition)
        throw new AssertionError(message);
}

function deepEqual(a, b) {
    if (a === b)
        return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object')
        return Number.isNaN(a) && Number.isNaN(b);
    if (Array.isArray(a) !== Array.isArray(b))
        return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => deepEqual(a[k], b[k]));
}

export function assertEqual(actual, expected, what = 'value') {
    if (!deepEqual(actual, expected))
        throw new AssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

// Awaits @promise, which must reject; returns the reason.
export async function assertRejects(promise, what = 'promise') {
    try {
        const value = await promise;
        throw new AssertionError(`${what}: expected a rejection, got ${show(value)}`);
    } catch (e) {
        if (e instanceof AssertionError)
            throw e;
        return e;
    }
}

// Calls @fn, which must throw synchronously; returns the exception.
export function assertThrows(fn, what = 'call') {
    let value;
    try {
        value = fn();
    } catch (e) {
        return e;
    }
    throw new AssertionError(`${what}: expected an exception, got ${show(value)}`);
}

export function assertGError(e, domain, code, what = 'error') {
    if (!(e instanceof GLib.Error)) {
        throw new AssertionError(`${what}: expected a GLib.Error ${GLib.quark_to_string(domain)} ` +
            `${code}, got ${show(e)} (${e?.stack ?? ''})`);
    }
    if (!e.matches(domain, code)) {
        throw new AssertionError(`${what}: expected ${GLib.quark_to_string(domain)} ${code}, ` +
            `got ${show(e)}`);
    }
}

// A promise of the next `signal` emission of @object, with its arguments.
export function nextSignal(object, signal) {
    return new Promise(resolve => {
        const id = object.connect(signal, (...args) => {
            object.disconnect(id);
            resolve(args.slice(1));
        });
    });
}

// Whether process @pid is a child of this process, running or a zombie
// (not reaped yet). A pid reaped and reused by another process is not.
export function isOurChild(pid) {
    let contents;
    try {
        [, contents] = GLib.file_get_contents(`/proc/${pid}/stat`);
    } catch (_) {
        return false;
    }
    // pid (comm) state ppid …; comm may hold spaces and parentheses
    const stat = new TextDecoder().decode(contents);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]) === ownPid();
}

export function ownPid() {
    return new Gio.Credentials().get_unix_pid();
}

function timeout(ms) {
    let id = 0;
    const promise = new Promise((_, reject) => {
        id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            id = 0;
            reject(new Error(`timed out after ${ms} ms`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return {promise, cancel: () => id && GLib.source_remove(id)};
}

function diag(text) {
    for (const line of String(text).split('\n'))
        print(`# ${line}`);
}

export async function run() {
    print(`1..${tests.length}`);
    let failed = 0, skipped = 0;
    for (const [i, t] of tests.entries()) {
        const n = i + 1;
        const timer = timeout(t.timeoutMs);
        try {
            await Promise.race([t.fn(), timer.promise]);
            print(`ok ${n} ${t.name}`);
        } catch (e) {
            if (e instanceof SkipTest) {
                skipped++;
                print(`ok ${n} ${t.name} # SKIP ${e.message}`);
            } else {
                failed++;
                print(`not ok ${n} ${t.name}`);
                diag(e instanceof GLib.Error ? show(e) : `${e}`);
                if (e?.stack)
                    diag(e.stack);
            }
        } finally {
            timer.cancel();
        }
    }
    diag(`${tests.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
    System.exit(failed > 0 ? 1 : 0);
}
