// pool-tasks.js: the JS functions test-pool.js runs in GJS worker processes
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every exported function is a task of a ProcessPool made with this module.
// None of them prints: the workers share the test's stdout, which is TAP.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Procexec from 'gi://Procexec';
import System from 'system';

function pid() {
    return new Gio.Credentials().get_unix_pid();
}

export function square(n) {
    return n * n;
}

export function add(a, b) {
    return a + b;
}

// Returns its arguments as they arrived.
export function echo(...args) {
    return args;
}

export function nothing() {
}

export function workerPid() {
    return pid();
}

export function isWorker() {
    return Procexec.isWorker();
}

// Describes a GLib.Variant argument, and returns a GLib.Variant.
export function variantInfo(v, label) {
    if (!(v instanceof GLib.Variant))
        throw new TypeError(`expected a GLib.Variant, got ${typeof v}`);
    return new GLib.Variant('(ssv)', [v.get_type_string(), label, v]);
}

export function throwTypeError(message) {
    throw new TypeError(message);
}

class ParseFailure extends Error {}

export function throwCustom(message) {
    throw new ParseFailure(message);
}

export function throwNamed(name, message) {
    const e = new Error(message);
    e.name = name;
    throw e;
}

export function throwGError(domain, code, message) {
    throw new GLib.Error(GLib.quark_from_string(domain), code, message);
}

export function throwValue(value) {
    throw value;
}

// A Gio call that fails: its GLib.Error reaches the parent as it is.
export function readMissing(path) {
    return Gio.File.new_for_path(path).load_contents(null);
}

// An unsendable result.
export function returnFunction() {
    return () => 1;
}

function delay(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

export async function later(value, ms) {
    await delay(ms);
    return value;
}

export async function laterThrow(message, ms) {
    await delay(ms);
    throw new RangeError(message);
}

// An async task that awaits a Gio async call.
export async function asyncGio(path) {
    const file = Gio.File.new_for_path(path);
    const [, contents] = await new Promise((resolve, reject) => {
        file.load_contents_async(Procexec.currentTask().get_cancellable(), (f, res) => {
            try {
                resolve(f.load_contents_finish(res));
            } catch (e) {
                reject(e);
            }
        });
    });
    return new TextDecoder().decode(contents);
}

// Reports (pid, tag) as progress, then waits until interrupted, without
// polling: the parent sees it running, and it ends cooperatively.
export async function hold(tag) {
    Procexec.currentTask().report_progress(0, new GLib.Variant('(is)', [pid(), tag]));
    await Procexec.whenCancelled();
    throw new GLib.Error(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED, `hold ${tag} interrupted`);
}

// Reports its pid, then spins forever, ignoring interrupts.
export function spin() {
    Procexec.currentTask().report_progress(0, new GLib.Variant('(is)', [pid(), 'spin']));
    for (;;)
        ;
}

// Reports its pid, then ends its worker process.
export function exitWorker(status) {
    System.exit(status);
}

let initialized = null;

export function setup(value) {
    initialized = {value, pid: pid()};
}

export function setupFails(message) {
    throw new Error(message);
}

export function getSetup() {
    return initialized;
}
