/* submit-result.vala: submit a task with arguments, get its result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original ("Python's concurrent.futures.ProcessPoolExecutor",
 * made runnable):
 *
 *     import concurrent.futures
 *
 *     def my_function(arg1, arg2, kwarg1=None):
 *         return f'{arg1} + {arg2} = {arg1 + arg2} ({kwarg1})'
 *
 *     if __name__ == '__main__':
 *         with concurrent.futures.ProcessPoolExecutor() as executor:
 *             task_future = executor.submit(my_function, 2, 3, kwarg1='sum')
 *             result = task_future.result()
 *             print(result)
 *
 * It prints "2 + 3 = 5 (sum)".
 *
 * A task takes one argument tuple, a GLib.Variant. Positional arguments
 * are its first members; keyword arguments can travel as a dictionary,
 * here the last member, of type a{sv}.
 */

int main (string[] args) {
    var worker = new Procexec.Worker ();
    worker.register_task ("my_function", (task, task_args) => {
        int64 arg1, arg2;
        Variant kwargs_variant;
        task_args.get ("(xx@a{sv})", out arg1, out arg2, out kwargs_variant);
        var kwargs = new VariantDict (kwargs_variant);
        string? kwarg1 = null;
        kwargs.lookup ("kwarg1", "s", out kwarg1);
        return new Variant.string ("%lld + %lld = %lld (%s)".printf (
            arg1, arg2, arg1 + arg2, kwarg1 ?? "None"));
    });
    worker.main_if_worker ();

    var executor = new Procexec.Executor.self_exec (0);
    try {
        /* task_future = executor.submit(my_function, 2, 3, kwarg1='sum') */
        var kwargs = new VariantDict ();
        kwargs.insert_value ("kwarg1", new Variant.string ("sum"));
        var task_future = executor.submit ("my_function",
            new Variant ("(xx@a{sv})", (int64) 2, (int64) 3, kwargs.end ()));

        /* result = task_future.result(); blocks until it is there */
        var result = task_future.result (-1);
        stdout.printf ("%s\n", result.get_string ());
        /* not in the Python original: the future knows its worker */
        stdout.printf ("(computed by worker %d)\n", task_future.worker_pid);
        stdout.flush ();
    } catch (Error e) {
        stderr.printf ("my_function failed: %s\n", e.message);
        return 1;
    }

    executor.shutdown (true, false);
    return 0;
}
