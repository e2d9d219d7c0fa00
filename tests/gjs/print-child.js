// print-child.js: a program whose JS task prints; test-pool.js runs it and
// checks that the worker's line comes, on this program's stdout, between
// the lines printed before and after awaiting the task
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import Gio from 'gi://Gio';
import Procexec from 'gi://Procexec';

export function hello(name) {
    print(`worker ${new Gio.Credentials().get_unix_pid()}: hello ${name}`);
    return 'returned';
}

if (!Procexec.isWorker()) {
    const pool = new Procexec.ProcessPool({module: import.meta.url, maxWorkers: 1});
    print(`parent ${new Gio.Credentials().get_unix_pid()}: before`);
    const future = pool.submit('hello', 'world');
    const value = await future;
    print(`parent: after, ${value} by ${future.workerPid}`);
    await pool.shutdown();
}
