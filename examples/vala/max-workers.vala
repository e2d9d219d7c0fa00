/* max-workers.vala: a pool of three workers; each task prints the process
 * it runs in.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original (Elliot Forbes, "Python ProcessPoolExecutor Tutorial"):
 *
 *     from concurrent.futures import ProcessPoolExecutor
 *     import os
 *
 *     def task():
 *         print("Executing our Task on Process {}".format(os.getpid()))
 *
 *     def main():
 *         executor = ProcessPoolExecutor(max_workers=3)
 *         task1 = executor.submit(task)
 *         task2 = executor.submit(task)
 *
 *     if __name__ == '__main__':
 *         main()
 *
 * It prints (the pids vary):
 *
 *     Executing our Task on Process 40365
 *     Executing our Task on Process 40366
 */

int main (string[] args) {
    var worker = new Procexec.Worker ();
    worker.register_task ("task", (task, task_args) => {
        stdout.printf ("Executing our Task on Process %d\n", (int) Posix.getpid ());
        stdout.flush ();
        return null;
    });
    worker.main_if_worker ();

    var executor = new Procexec.Executor.self_exec (3);
    Procexec.Future task1, task2;
    try {
        task1 = executor.submit ("task", null);
        task2 = executor.submit ("task", null);
    } catch (Error e) {
        stderr.printf ("submit failed: %s\n", e.message);
        return 1;
    }

    /* Python joins the pool when the interpreter exits; here we say so:
     * wait for the queued tasks to run, then for the workers to exit. */
    executor.shutdown (true, false);

    /* Not in the Python original: the futures also know their worker. */
    stderr.printf ("(parent %d: task1 ran on %d, task2 on %d)\n",
              (int) Posix.getpid (), task1.worker_pid, task2.worker_pid);
    return 0;
}
