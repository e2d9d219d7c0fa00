/* demo.vala: procexec from Vala — tasks written in Vala, awaited with yield
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program is its own worker (the self-exec pattern): main() registers
 * Vala lambdas as tasks, then worker.main_if_worker() turns the process
 * into a worker when the executor started it as one. Everything else runs
 * in an async method driven by a MainLoop: each `yield` gives the loop
 * back until the worker's answer is there.
 *
 * It shows: yield submit_async(), several tasks and yield
 * AsCompleted.next_async(), a task's own errordomain caught in the parent
 * (catch (MathError e)), an error of the pool caught as
 * catch (Procexec.Error e), progress signals, and yield shutdown_async().
 */

/* The tasks' own error domain. Its quark string, "math-error-quark",
 * travels with the error, and the worker is this same program, so the
 * parent's catch (MathError e) matches it. */
errordomain MathError {
    DIVISION_BY_ZERO = 1
}

void register_tasks (Procexec.Worker worker) {
    /* square(x) = x * x */
    worker.register_task ("square", (task, args) => {
        int64 x;
        args.get ("(x)", out x);
        return new Variant.int64 (x * x);
    });

    /* divide(a, b): throws MathError.DIVISION_BY_ZERO when b is 0 */
    worker.register_task ("divide", (task, args) => {
        int64 a, b;
        args.get ("(xx)", out a, out b);
        if (b == 0)
            throw new MathError.DIVISION_BY_ZERO ("division by zero");
        return new Variant.int64 (a / b);
    });

    /* count_up(n): n steps, each one reported to the parent */
    worker.register_task ("count_up", (task, args) => {
        int32 n;
        args.get ("(i)", out n);
        for (int i = 1; i <= n; i++) {
            /* a long task should notice interrupt() */
            if (task.is_cancelled ())
                throw new IOError.CANCELLED ("interrupted at step %d", i);
            task.report_progress ((double) i / n, new Variant.string ("step %d of %d".printf (i, n)));
        }
        return new Variant.string ("%d steps done".printf (n));
    });
}

/* stdout.printf() writes UTF-8 as it is (print() would convert it to the
 * locale's charset); flush, since the workers write to the same stdout. */
void say (string text) {
    stdout.printf ("%s\n", text);
    stdout.flush ();
}

async void run (Procexec.Executor executor) throws GLib.Error {
    say ("1. yield submit_async()");
    var result = yield executor.submit_async ("square", new Variant ("(x)", (int64) 7));
    say ("   square(7) = %lld".printf (result.get_int64 ()));

    say ("2. three tasks, yield next_async() as they complete");
    Procexec.Future[] futures = {};
    for (int64 x = 2; x <= 4; x++)
        futures += executor.submit ("square", new Variant ("(x)", x));
    var completed = new Procexec.AsCompleted (futures, -1);
    int64 sum = 0;
    Procexec.Future? future;
    while ((future = yield completed.next_async ()) != null)
        sum += future.result (0).get_int64 ();
    say ("   4 + 9 + 16 = %lld".printf (sum));

    say ("3. a task's own error");
    try {
        yield executor.submit_async ("divide", new Variant ("(xx)", (int64) 1, (int64) 0));
        say ("   divide(1, 0) did not fail?");
    } catch (MathError.DIVISION_BY_ZERO e) {
        say ("   divide(1, 0): %s (MathError.DIVISION_BY_ZERO, %s)".printf (e.message, e.domain.to_string ()));
    }

    say ("4. an error of the pool");
    try {
        yield executor.submit_async ("cube", new Variant ("(x)", (int64) 3));
        say ("   cube(3) did not fail?");
    } catch (Procexec.Error.UNKNOWN_TASK e) {
        say ("   cube(3): Procexec.Error.UNKNOWN_TASK: %s".printf (e.message));
    } catch (Procexec.Error e) {
        say ("   cube(3): another Procexec.Error: %s".printf (e.message));
    }

    say ("5. progress, delivered in the main loop");
    var counting = executor.submit ("count_up", new Variant ("(i)", 3));
    counting.progress.connect ((f, fraction, detail) => {
        say ("   %3.0f%%: %s".printf (fraction * 100, detail.get_string ()));
    });
    result = yield counting.wait_async ();
    say ("   count_up(3) = \"%s\"".printf (result.get_string ()));

    say ("6. yield shutdown_async()");
    yield executor.shutdown_async (false);
    say ("   %llu tasks completed, %u workers left".printf (executor.n_completed, executor.n_workers));
}

int main (string[] args) {
    var worker = new Procexec.Worker ();
    register_tasks (worker);
    worker.main_if_worker ();   /* in a worker: serves tasks, never returns */

    var executor = new Procexec.Executor.self_exec (2);
    var loop = new MainLoop ();
    int status = 0;

    run.begin (executor, (obj, res) => {
        try {
            run.end (res);
            say ("Done.");
        } catch (Procexec.Error e) {
            stderr.printf ("the pool failed: %s\n", e.message);
            status = 1;
        } catch (GLib.Error e) {
            stderr.printf ("failed: %s (%s, %d)\n", e.message, e.domain.to_string (), e.code);
            status = 1;
        }
        loop.quit ();
    });
    loop.run ();

    return status;
}
