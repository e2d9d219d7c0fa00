/* as-completed.vala: submit several tasks, then take them as they complete.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original ("Python's concurrent.futures module", Using
 * ProcessPoolExecutor):
 *
 *     import concurrent.futures
 *
 *     def task(n):
 *         print(f'Started task {n}')
 *         # Perform some CPU-intensive operation here
 *         print(f'Completed task {n}')
 *
 *     with concurrent.futures.ProcessPoolExecutor() as executor:
 *         tasks = [executor.submit(task, i) for i in range(5)]
 *
 *         for future in concurrent.futures.as_completed(tasks):
 *             # Wait for each task to complete
 *             pass
 *
 *     print('All tasks completed')
 *
 * It prints "Started task n" and "Completed task n" for n = 0..4 (the tasks
 * run in parallel, so their lines may interleave), then
 * "All tasks completed".
 *
 * Here the futures are taken with `yield`, in an async method driven by a
 * MainLoop; AsCompleted.next () is the blocking form.
 */

const int N_TASKS = 5;

async void take_as_completed (Procexec.Future[] tasks) throws Error {
    /* for future in concurrent.futures.as_completed(tasks): */
    var completed = new Procexec.AsCompleted (tasks, -1);
    Procexec.Future? future;
    while ((future = yield completed.next_async ()) != null) {
        /* done already, so this does not wait; it throws the task's error,
         * if any */
        future.result (0);
    }
}

int main (string[] args) {
    var worker = new Procexec.Worker ();
    worker.register_task ("task", (task, task_args) => {
        int32 n;
        task_args.get ("(i)", out n);
        stdout.printf ("Started task %d\n", n);
        stdout.flush ();
        /* Perform some CPU-intensive operation here */
        Thread.usleep (50000 * (N_TASKS - n));
        stdout.printf ("Completed task %d\n", n);
        stdout.flush ();
        return null;   /* no value: the future's result is () */
    });
    worker.main_if_worker ();

    var executor = new Procexec.Executor.self_exec (0);
    int status = 0;
    try {
        /* tasks = [executor.submit(task, i) for i in range(5)] */
        Procexec.Future[] tasks = {};
        for (int i = 0; i < N_TASKS; i++)
            tasks += executor.submit ("task", new Variant ("(i)", i));

        var loop = new MainLoop ();
        take_as_completed.begin (tasks, (obj, res) => {
            try {
                take_as_completed.end (res);
            } catch (Error e) {
                stderr.printf ("a task failed: %s\n", e.message);
                status = 1;
            }
            loop.quit ();
        });
        loop.run ();
    } catch (Error e) {
        stderr.printf ("submit failed: %s\n", e.message);
        return 1;
    }

    /* the end of the "with" block */
    executor.shutdown (true, false);

    stdout.printf ("All tasks completed\n");
    stdout.flush ();
    return status;
}
