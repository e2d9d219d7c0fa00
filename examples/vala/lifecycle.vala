/* lifecycle.vala: the life cycle of a process pool: submit one task, wait
 * for its result, shut the pool down.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original (SuperFastPython, "demonstration with the process pool
 * life-cycle"):
 *
 *     from time import sleep
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def task():
 *         sleep(1)
 *         print(f'Task running in a worker process')
 *         return 'All done'
 *
 *     if __name__ == '__main__':
 *         with ProcessPoolExecutor() as executor:
 *             future = executor.submit(task)
 *             print('Waiting for the new process to finish...')
 *             result = future.result()
 *             print(result)
 *
 * It prints:
 *
 *     Waiting for the new process to finish...
 *     Task running in a worker process
 *     All done
 */

int main (string[] args) {
    /* The self-exec pattern: this program is also the worker. Register the
     * tasks first; when this process was started as a worker,
     * main_if_worker() serves tasks and never returns. */
    var worker = new Procexec.Worker ();
    worker.register_task ("task", (task, task_args) => {
        /* block for a moment */
        Thread.usleep (1000000);
        /* display a message; the worker's stdout is ours */
        stdout.printf ("Task running in a worker process\n");
        stdout.flush ();
        /* return a message */
        return new Variant.string ("All done");
    });
    worker.main_if_worker ();

    /* create the pool of worker processes (0: one per CPU) */
    var executor = new Procexec.Executor.self_exec (0);
    try {
        /* execute a task in another process */
        var future = executor.submit ("task", null);
        /* display a message */
        stdout.printf ("Waiting for the new process to finish...\n");
        stdout.flush ();
        /* wait for the task to finish and get the result (-1: no timeout) */
        var result = future.result (-1);
        /* report the result */
        stdout.printf ("%s\n", result.get_string ());
        stdout.flush ();
    } catch (Error e) {
        stderr.printf ("the task failed: %s\n", e.message);
        return 1;
    }

    /* what Python's "with" block does on exit: wait for the workers */
    executor.shutdown (true, false);
    return 0;
}
