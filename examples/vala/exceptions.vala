/* exceptions.vala: a task that fails; the caller gets its error back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original ("Python's concurrent.futures.ProcessPoolExecutor",
 * Handling exceptions, made runnable):
 *
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def divide(a, b):
 *         return a / b
 *
 *     if __name__ == '__main__':
 *         with ProcessPoolExecutor() as executor:
 *             good = executor.submit(divide, 10, 2)
 *             bad = executor.submit(divide, 1, 0)
 *             print(good.result())
 *             try:
 *                 result = bad.result()
 *             except Exception as e:
 *                 print(f'Task failed: {e}')
 *             print(f'exception(): {bad.exception()}')
 *
 * It prints:
 *
 *     5.0
 *     Task failed: division by zero
 *     exception(): division by zero
 *
 * A Vala task fails by throwing. The error reaches the caller with the same
 * domain, code and message, so `catch (ExampleError.ZERO_DIVISION e)` works
 * in the parent as `except ZeroDivisionError` does in Python. Errors of the
 * pool itself (a worker that died, a timeout, an unknown task name...) are
 * in the errordomain Procexec.Error.
 */

/* The parent and the workers run this same program, so the domain's quark,
 * "example-error-quark", means the same on both sides. */
errordomain ExampleError {
    ZERO_DIVISION = 1
}

int main (string[] args) {
    var worker = new Procexec.Worker ();
    worker.register_task ("divide", (task, task_args) => {
        double a, b;
        task_args.get ("(dd)", out a, out b);
        if (b == 0)
            throw new ExampleError.ZERO_DIVISION ("division by zero");
        return new Variant.double (a / b);
    });
    worker.main_if_worker ();

    var executor = new Procexec.Executor.self_exec (0);
    Procexec.Future good, bad;
    try {
        good = executor.submit ("divide", new Variant ("(dd)", 10.0, 2.0));
        bad = executor.submit ("divide", new Variant ("(dd)", 1.0, 0.0));
        /* print(good.result()) */
        stdout.printf ("%.1f\n", good.result (-1).get_double ());
    } catch (Error e) {
        stderr.printf ("unexpected: %s\n", e.message);
        return 1;
    }

    /* try: bad.result() except Exception as e: print(...) */
    try {
        bad.result (-1);
        stdout.printf ("Unexpected: a result\n");
    } catch (ExampleError.ZERO_DIVISION e) {
        stdout.printf ("Task failed: %s\n", e.message);
        stdout.printf ("  (domain %s, code %d: our own error, as the task threw it)\n",
               e.domain.to_string (), e.code);
    } catch (Error e) {
        stdout.printf ("Unexpected: %s\n", e.message);
    }

    /* print(f'exception(): {bad.exception()}'): the task's error as a
     * value, null when the task succeeded; it throws only when the wait
     * itself fails. */
    try {
        var exception = bad.exception (-1);
        stdout.printf ("exception(): %s\n", exception != null ? exception.message : "None");
    } catch (Error e) {
        stderr.printf ("the wait failed: %s\n", e.message);
        return 1;
    }

    /* Not in the Python original: an error of the pool itself. */
    try {
        executor.submit ("no-such-task", null).result (-1);
        stdout.printf ("Unexpected: a result\n");
    } catch (Procexec.Error.UNKNOWN_TASK e) {
        stdout.printf ("Unknown task: %s\n", e.message);
    } catch (Error e) {
        stdout.printf ("Unexpected: %s\n", e.message);
    }
    stdout.flush ();

    executor.shutdown (true, false);
    return 0;
}
