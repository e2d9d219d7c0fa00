// submit-result.js: submit a JS function to the pool and get its result
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original (seed "Python's concurrent.futures.ProcessPoolExecutor"):
//
//     with concurrent.futures.ProcessPoolExecutor() as executor:
//         task_future = executor.submit(my_function, arg1, arg2, kwarg1=value1)
//         result = task_future.result()
//
// Run it with `gjs -m submit-result.js` (uninstalled: under `meson devenv`).
// This module is also what the workers import: they register its exported
// functions, so the main program is guarded by Procexec.isWorker().

import Procexec from 'gi://Procexec';

// JS has no keyword arguments: pass an object.
export function myFunction(arg1, arg2, {kwarg1 = 0} = {}) {
    return arg1 * arg2 + kwarg1;
}

if (!Procexec.isWorker()) {
    const executor = new Procexec.ProcessPool({module: import.meta.url});

    const taskFuture = executor.submit('myFunction', 6, 7, {kwarg1: 100});
    print('Submitted myFunction(6, 7, {kwarg1: 100})');

    const result = await taskFuture;       // the task's value, once it is done
    print(`Result: ${result}, computed by worker ${taskFuture.workerPid}`);

    await executor.shutdown();             // what leaving Python's "with" does
}
