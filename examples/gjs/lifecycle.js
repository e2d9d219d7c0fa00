// lifecycle.js: the life cycle of a process pool
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original (seed "ProcessPoolExecutor in Python: The Complete
// Guide", "demonstration with the process pool life-cycle"):
//
//     def task():
//         sleep(1)
//         print(f'Task running in a worker process')
//         return 'All done'
//
//     if __name__ == '__main__':
//         with ProcessPoolExecutor() as executor:
//             future = executor.submit(task)
//             print('Waiting for the new process to finish...')
//             result = future.result()
//             print(result)

import GLib from 'gi://GLib';
import Procexec from 'gi://Procexec';

// a simple task that blocks for a moment and prints a message
export function task() {
    // block for a moment
    GLib.usleep(1 * GLib.USEC_PER_SEC);
    // display a message: print() in a worker writes to our stdout
    print('Task running in a worker process');
    // return a message
    return 'All done';
}

// entry point: the workers import this module too, and skip this part
if (!Procexec.isWorker()) {
    // create the pool of worker processes (one per CPU)
    const executor = new Procexec.ProcessPool({module: import.meta.url});
    // execute a task in another process
    const future = executor.submit('task');
    // display a message
    print('Waiting for the new process to finish...');
    // wait for the task to finish and get the result
    const result = await future;
    // report the result
    print(result);
    // shut down the process pool (Python's "with" does it)
    await executor.shutdown();
}
