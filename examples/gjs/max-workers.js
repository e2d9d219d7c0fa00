// max-workers.js: a pool of 3 workers; each task prints its process id
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Python original (seed "Python ProcessPoolExecutor Tutorial"):
//
//     def task():
//         print("Executing our Task on Process {}".format(os.getpid()))
//
//     def main():
//         executor = ProcessPoolExecutor(max_workers=3)
//         task1 = executor.submit(task)
//         task2 = executor.submit(task)
//
//     if __name__ == '__main__':
//         main()

import Gio from 'gi://Gio';
import Procexec from 'gi://Procexec';

export function task() {
    print(`Executing our Task on Process ${new Gio.Credentials().get_unix_pid()}`);
}

async function main() {
    const executor = new Procexec.ProcessPool({module: import.meta.url, maxWorkers: 3});
    const task1 = executor.submit('task');
    const task2 = executor.submit('task');
    // Python joins the pool when the interpreter exits; here we say so.
    await executor.shutdown();
    // Not in the Python original: the futures know their worker.
    printerr(`(parent ${new Gio.Credentials().get_unix_pid()}: task1 ran on ` +
        `${task1.workerPid}, task2 on ${task2.workerPid})`);
}

if (!Procexec.isWorker())
    await main();
