// as-completed.js: several tasks, handled as they complete
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original (seed "Python's concurrent.futures module"):
//
//     def task(n):
//         print(f'Started task {n}')
//         # Perform some CPU-intensive operation here
//         print(f'Completed task {n}')
//
//     with concurrent.futures.ProcessPoolExecutor() as executor:
//         tasks = [executor.submit(task, i) for i in range(5)]
//         for future in concurrent.futures.as_completed(tasks):
//             # Wait for each task to complete
//             pass
//     print('All tasks completed')

import GLib from 'gi://GLib';
import Procexec from 'gi://Procexec';

export function task(n) {
    print(`Started task ${n}`);
    // Perform some CPU-intensive operation here (here: a short sleep)
    GLib.usleep(50 * 1000 * (5 - n));
    print(`Completed task ${n}`);
}

if (!Procexec.isWorker()) {
    const executor = new Procexec.ProcessPool({module: import.meta.url});
    const tasks = [0, 1, 2, 3, 4].map(i => executor.submit('task', i));

    for await (const future of Procexec.asCompleted(tasks)) {
        // Wait for each task to complete: done already; this reports its
        // exception, if any
        await future;
    }
    await executor.shutdown();
    print('All tasks completed');
}
