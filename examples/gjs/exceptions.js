// exceptions.js: a task's exception reaches the caller
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original (seed "Python's concurrent.futures.ProcessPoolExecutor",
// "Handling exceptions"):
//
//     def divide(a, b):
//         return a / b
//
//     with ProcessPoolExecutor() as executor:
//         good = executor.submit(divide, 10, 2)
//         bad = executor.submit(divide, 1, 0)
//         print(good.result())
//         try:
//             result = bad.result()
//         except Exception as e:
//             print(f'Task failed: {e}')
//         print(f'exception(): {bad.exception()}')

import GLib from 'gi://GLib';
import Procexec from 'gi://Procexec';

// JS divides by zero without complaint; Python raises ZeroDivisionError.
class ZeroDivisionError extends Error {}

export function divide(a, b) {
    if (b === 0)
        throw new ZeroDivisionError('division by zero');
    return a / b;
}

if (!Procexec.isWorker()) {
    const executor = new Procexec.ProcessPool({module: import.meta.url});
    const good = executor.submit('divide', 10, 2);
    const bad = executor.submit('divide', 1, 0);

    print((await good).toFixed(1));

    try {
        await bad;
    } catch (e) {
        // the worker's exception, rebuilt here: same name and message
        print(`Task failed: ${e.message}`);
        printerr(`  (${e.name}, thrown in the worker at:\n${e.remoteStack})`);
    }

    // the exception as a value (null when the task succeeded)
    const exception = await bad.exception();
    print(`exception(): ${exception?.message ?? 'null'}`);

    // Not in the Python original: an error of the pool itself, a GLib.Error
    try {
        await executor.submit('noSuchFunction');
    } catch (e) {
        if (e instanceof GLib.Error && e.matches(Procexec.Error, Procexec.Error.UNKNOWN_TASK))
            print(`Unknown task: ${e.message}`);
        else
            print(`Unexpected: ${e}`);
    }

    await executor.shutdown();
}
