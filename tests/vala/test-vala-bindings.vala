/* test-vala-bindings.vala: the Vala binding of procexec (procexec-1.vapi),
 * used the way a Vala program uses it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program is its own worker (self-exec): main() registers Vala lambdas
 * as tasks, then Procexec.Worker.main_if_worker() serves them when the
 * executor started this program as a worker. Each test checks one point of
 * the binding: properties, async methods with `yield`, the errordomain, a
 * Vala errordomain thrown in a worker, delegates and their ownership.
 *
 * No test sleeps to wait for something: tasks that must be running when
 * the test acts announce it with a progress report, and the test waits for
 * that signal.
 */

/* An error domain of the tasks. Its quark is "test-error-quark"; the
 * workers run this same program, so it is the same string on both sides. */
errordomain TestError {
    BAD_INPUT = 1,
    OTHER = 2
}

namespace Late {
    /* Thrown by a task and never touched by the parent before the error
     * arrives: its quark does not exist in the parent until then. */
    errordomain LateError {
        LATE = 7
    }
}

/* How long the "block" task waits to be interrupted before it gives up. */
const int64 BLOCK_LIMIT_USEC = 60 * 1000 * 1000;

/* ---- the tasks, run by the worker processes ------------------------------ */

void register_tasks (Procexec.Worker worker) {
    /* A captured local: the closure's data travels with the delegate
     * (owned, with a destroy notify) and is rebuilt in each worker, which
     * runs this same main(). */
    int64 offset = 1000;

    worker.register_task ("square", (task, args) => {
        int64 n;
        args.get ("(x)", out n);
        return new Variant.int64 (n * n);
    });

    worker.register_task ("add_offset", (task, args) => {
        int64 n;
        args.get ("(x)", out n);
        return new Variant.int64 (n + offset);
    });

    worker.register_task ("describe_args", (task, args) => {
        return new Variant.string (args.get_type_string ());
    });

    worker.register_task ("nothing", (task, args) => {
        return null;   /* "no value": the caller gets () */
    });

    worker.register_task ("pid", (task, args) => {
        return new Variant.int32 ((int32) Posix.getpid ());
    });

    worker.register_task ("check_positive", (task, args) => {
        int64 n;
        args.get ("(x)", out n);
        if (n < 0)
            throw new TestError.BAD_INPUT ("bad input: %lld", n);
        return new Variant.int64 (n);
    });

    worker.register_task ("late_error", (task, args) => {
        throw new Late.LateError.LATE ("thrown by worker %d", (int) Posix.getpid ());
    });

    worker.register_task ("steps", (task, args) => {
        int32 n;
        args.get ("(i)", out n);
        for (int i = 1; i <= n; i++)
            task.report_progress ((double) i / n, new Variant.string ("step %d".printf (i)));
        return new Variant.string ("%d steps".printf (n));
    });

    /* Returns @n bytes of 0x5a in shared memory, and with them the read
     * end of a pipe holding "vala". */
    worker.register_task ("shared_back", (task, args) => {
        int32 n;
        args.get ("(i)", out n);
        var data = new uint8[n];
        Memory.set (data, 0x5a, n);
        var bytes = Procexec.shared_bytes_new (data);
        int fds[2];
        if (Posix.pipe (fds) != 0)
            throw new TestError.OTHER ("pipe failed");
        Posix.write (fds[1], "vala", 4);
        Posix.close (fds[1]);
        task.set_result_fd_list (new UnixFDList.from_array ({ fds[0] }));
        return new Variant.from_bytes (VariantType.BYTESTRING, bytes, true);
    });

    /* Dies as a worker killed by the OOM killer would. */
    worker.register_task ("crash", (task, args) => {
        Posix.kill (Posix.getpid (), Posix.Signal.KILL);
        return null;
    });

    /* Announces that it runs, then waits until it is interrupted (the
     * cooperative polling a long task does, not a wait of the test). */
    worker.register_task ("block", (task, args) => {
        task.report_progress (0.0, new Variant.string ("started"));
        var deadline = get_monotonic_time () + BLOCK_LIMIT_USEC;
        while (!task.is_cancelled ()) {
            if (get_monotonic_time () > deadline)
                throw new TestError.OTHER ("never interrupted");
            Thread.usleep (1000);
        }
        if (!task.get_cancellable ().is_cancelled ())
            throw new TestError.OTHER ("is_cancelled() and the cancellable disagree");
        throw new IOError.CANCELLED ("interrupted");
    });
}

/* ---- helpers ------------------------------------------------------------- */

/* A sentinel whose finalization a test can observe: the owned delegates
 * of the binding must free their closure data. */
class Sentinel : Object {
    public static int n_finalized = 0;

    ~Sentinel () {
        n_finalized++;
    }
}

/* ---- properties ---------------------------------------------------------- */

void test_properties_executor () {
    /* No process starts before the first task. */
    var executor = new Procexec.Executor (2);

    assert_cmpuint (executor.max_workers, CompareOperator.EQ, 2);
    int n_notify = 0;
    executor.notify["max-workers"].connect (() => { n_notify++; });
    executor.max_workers = 3;
    assert_cmpuint (executor.max_workers, CompareOperator.EQ, 3);
    assert_cmpuint (executor.get_max_workers (), CompareOperator.EQ, 3);
    assert_cmpint (n_notify, CompareOperator.EQ, 1);
    executor.max_workers = 3;   /* no change, no notification */
    assert_cmpint (n_notify, CompareOperator.EQ, 1);

    executor.task_timeout = 5 * 1000 * 1000;
    assert (executor.task_timeout == 5 * 1000 * 1000);
    assert (executor.get_task_timeout () == 5 * 1000 * 1000);
    executor.idle_timeout = 250000;
    assert (executor.idle_timeout == 250000);
    executor.cancel_grace = 123456;
    assert (executor.cancel_grace == 123456);

    /* read-only ones */
    assert_cmpuint (executor.n_workers, CompareOperator.EQ, 0);
    assert_cmpuint (executor.n_pending, CompareOperator.EQ, 0);
    assert_cmpuint (executor.n_running, CompareOperator.EQ, 0);
    assert (executor.n_completed == 0);
    /* [NoAccessorMethod]: read through g_object_get(), as its getter is
     * proc_executor_is_broken(), not _get_broken() */
    assert_false (executor.broken);
    assert_false (executor.is_broken ());

    /* construct-only ones, with their defaults */
    assert_null (executor.initializer);
    assert_null (executor.initargs);
    assert_null (executor.modules);
    assert_cmpuint (executor.max_tasks_per_child, CompareOperator.EQ, 0);
    assert (executor.worker_memory_limit == 0);
    assert (executor.worker_max_rss == 0);
    assert (executor.worker_argv.length >= 1);
    assert_true (executor.worker_argv[0].has_suffix ("procexec-worker"));
}

void test_properties_construct () {
    string[] modules = { "no-such-module" };
    var executor = (Procexec.Executor) Object.new (typeof (Procexec.Executor),
        "max-workers", 1,
        "modules", modules,
        "initializer", "setup",
        "initargs", new Variant ("(s)", "config"),
        "max-tasks-per-child", 5,
        "worker-max-rss", (uint64) 1 << 30);

    assert_cmpuint (executor.max_workers, CompareOperator.EQ, 1);
    assert_cmpstrv (executor.modules, modules);
    assert_cmpstr (executor.initializer, CompareOperator.EQ, "setup");
    assert_cmpvariant (executor.initargs, new Variant ("(s)", "config"));
    assert_cmpuint (executor.max_tasks_per_child, CompareOperator.EQ, 5);
    assert (executor.worker_max_rss == (uint64) 1 << 30);
    executor.shutdown (true, false);
    assert_true (executor.is_shutdown ());
}

void test_properties_future () {
    var executor = new Procexec.Executor.self_exec (1);
    try {
        var future = executor.submit ("pid", null);
        assert_cmpstr (future.task_name, CompareOperator.EQ, "pid");
        var result = future.result (-1);

        assert (future.state == Procexec.FutureState.FINISHED);
        assert (future.get_state () == Procexec.FutureState.FINISHED);
        assert_true (future.is_done ());
        assert_false (future.is_cancelled ());
        assert_false (future.is_running ());
        /* the pid the task saw is the one the future reports, not ours */
        assert_cmpint (future.worker_pid, CompareOperator.EQ, result.get_int32 ());
        assert_cmpint (future.worker_pid, CompareOperator.NE, (int) Posix.getpid ());
        assert (executor.n_completed >= 1);
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

/* ---- async methods with yield ---------------------------------------------- */

async void submit_async_body (Procexec.Executor executor) throws Error {
    var v = yield executor.submit_async ("square", new Variant ("(x)", (int64) 7));
    assert_cmpvariant (v, new Variant.int64 (49));

    /* the closure's captured local, rebuilt in the worker */
    v = yield executor.submit_async ("add_offset", new Variant ("(x)", (int64) 1));
    assert_cmpvariant (v, new Variant.int64 (1001));

    /* null arguments are the empty tuple; a task returning null gives () */
    v = yield executor.submit_async ("describe_args", null);
    assert_cmpvariant (v, new Variant.string ("()"));
    v = yield executor.submit_async ("nothing", null);
    assert_cmpstr (v.get_type_string (), CompareOperator.EQ, "()");
}

void test_async_submit () {
    var executor = new Procexec.Executor.self_exec (2);
    var loop = new MainLoop ();
    submit_async_body.begin (executor, (obj, res) => {
        try {
            submit_async_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

async void wait_async_body (Procexec.Executor executor) throws Error {
    var future = executor.submit ("square", new Variant ("(x)", (int64) 12));
    var v = yield future.wait_async ();
    assert_cmpvariant (v, new Variant.int64 (144));
    assert (future.state == Procexec.FutureState.FINISHED);
    /* done: peek_result() has it too */
    assert_cmpvariant (future.peek_result (), new Variant.int64 (144));
}

void test_async_future_wait () {
    var executor = new Procexec.Executor.self_exec (1);
    var loop = new MainLoop ();
    wait_async_body.begin (executor, (obj, res) => {
        try {
            wait_async_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

async void as_completed_body (Procexec.Executor executor) throws Error {
    Procexec.Future[] futures = {};
    for (int64 n = 0; n < 6; n++)
        futures += executor.submit ("square", new Variant ("(x)", n));

    var completed = new Procexec.AsCompleted (futures, -1);
    int64 sum = 0;
    int count = 0;
    Procexec.Future? future;
    while ((future = yield completed.next_async ()) != null) {
        assert_true (future.is_done ());
        sum += future.result (0).get_int64 ();
        count++;
    }
    assert_cmpint (count, CompareOperator.EQ, 6);
    assert (sum == 0 + 1 + 4 + 9 + 16 + 25);
}

void test_async_as_completed () {
    var executor = new Procexec.Executor.self_exec (2);
    var loop = new MainLoop ();
    as_completed_body.begin (executor, (obj, res) => {
        try {
            as_completed_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

async void map_body (Procexec.Executor executor) throws Error {
    var builder = new VariantBuilder (new VariantType ("a(x)"));
    for (int64 n = 0; n < 10; n++)
        builder.add ("(x)", n);

    var results = executor.map ("square", builder.end (), 3, 0, -1);
    Variant? v;
    int64 expected = 0;
    while (yield results.next_async (null, out v)) {
        assert_nonnull (v);
        assert (v.get_int64 () == expected * expected);
        expected++;
    }
    assert (expected == 10);
    /* the end: FALSE, no error, and the out value is null */
    assert_null (v);
}

void test_async_map () {
    var executor = new Procexec.Executor.self_exec (2);
    var loop = new MainLoop ();
    map_body.begin (executor, (obj, res) => {
        try {
            map_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

async void completion_queue_body (Procexec.Executor executor) throws Error {
    var queue = new Procexec.CompletionQueue ();
    for (int64 n = 1; n <= 4; n++)
        queue.add (executor.submit ("square", new Variant ("(x)", n)));

    int64 sum = 0;
    for (int i = 0; i < 4; i++) {
        var future = yield queue.next_async ();
        assert_nonnull (future);
        sum += future.result (0).get_int64 ();
    }
    assert (sum == 1 + 4 + 9 + 16);
    assert_cmpuint (queue.get_n_pending (), CompareOperator.EQ, 0);

    /* take(): the container and its references are ours */
    queue.add (executor.submit ("square", new Variant ("(x)", (int64) 5)));
    var taken = queue.take (-1);
    assert_cmpuint (taken.length, CompareOperator.EQ, 1);
    assert_cmpvariant (taken[0].result (0), new Variant.int64 (25));

    queue.close ();
    assert_null (yield queue.next_async ());
}

void test_async_completion_queue () {
    var executor = new Procexec.Executor.self_exec (2);
    var loop = new MainLoop ();
    completion_queue_body.begin (executor, (obj, res) => {
        try {
            completion_queue_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

async void shutdown_body () throws Error {
    var executor = new Procexec.Executor.self_exec (1);
    var future = executor.submit ("square", new Variant ("(x)", (int64) 3));

    bool ok = yield executor.shutdown_async (false);
    assert_true (ok);
    assert_true (executor.is_shutdown ());
    /* queued work still ran */
    assert_cmpvariant (future.result (0), new Variant.int64 (9));
    assert_cmpuint (executor.n_workers, CompareOperator.EQ, 0);

    try {
        executor.submit ("square", new Variant ("(x)", (int64) 4));
        assert_not_reached ();
    } catch (Procexec.Error.SHUTDOWN e) {
        assert_error (e, Procexec.Error.quark (), Procexec.Error.SHUTDOWN);
    }
}

void test_async_shutdown () {
    var loop = new MainLoop ();
    shutdown_body.begin ((obj, res) => {
        try {
            shutdown_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
}

/* ---- errors -------------------------------------------------------------- */

void test_errordomain () {
    /* the binding's domain is the library's quark */
    assert (Procexec.Error.quark () == Quark.from_string ("proc-error-quark"));

    var executor = new Procexec.Executor.self_exec (1);
    try {
        executor.submit ("no-such-task", null).result (-1);
        assert_not_reached ();
    } catch (Procexec.Error.UNKNOWN_TASK e) {
        assert_error (e, Procexec.Error.quark (), Procexec.Error.UNKNOWN_TASK);
        assert_true (e is Procexec.Error);
        assert_true ("no-such-task" in e.message);
    } catch (Error e) {
        assert_no_error (e);
    }

    /* a catch of the whole domain */
    var caught = false;
    try {
        executor.submit ("", null);
    } catch (Procexec.Error e) {
        caught = true;
        assert_error (e, Procexec.Error.quark (), Procexec.Error.INVALID_ARGUMENT);
    } catch (Error e) {
        assert_no_error (e);
    }
    assert_true (caught);
    executor.shutdown (true, false);
}

async void task_error_async_body (Procexec.Executor executor) throws Error {
    try {
        yield executor.submit_async ("check_positive", new Variant ("(x)", (int64) (-2)));
        assert_not_reached ();
    } catch (TestError.BAD_INPUT e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "bad input: -2");
        assert_cmpint (e.code, CompareOperator.EQ, 1);
    }
}

void test_task_errordomain () {
    var executor = new Procexec.Executor.self_exec (1);
    var bad_input = new TestError.BAD_INPUT ("");
    assert_cmpstr (bad_input.domain.to_string (), CompareOperator.EQ, "test-error-quark");

    /* synchronous: result() throws the task's own error */
    try {
        executor.submit ("check_positive", new Variant ("(x)", (int64) (-1))).result (-1);
        assert_not_reached ();
    } catch (TestError.BAD_INPUT e) {
        assert_error (e, bad_input.domain, TestError.BAD_INPUT);
        assert_cmpstr (e.message, CompareOperator.EQ, "bad input: -1");
    } catch (Error e) {
        assert_no_error (e);
    }

    /* exception() returns it as a value */
    try {
        var future = executor.submit ("check_positive", new Variant ("(x)", (int64) (-5)));
        var error = future.exception (-1);
        assert_true (error != null);
        assert_true (error is TestError.BAD_INPUT);
        assert_cmpstr (error.message, CompareOperator.EQ, "bad input: -5");
        /* and none for a task that succeeded */
        assert_true (executor.submit ("check_positive", new Variant ("(x)", (int64) 5)).exception (-1) == null);
    } catch (Error e) {
        assert_no_error (e);
    }

    /* with yield */
    var loop = new MainLoop ();
    task_error_async_body.begin (executor, (obj, res) => {
        try {
            task_error_async_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

void test_task_errordomain_first_seen () {
    /* Nothing in this process has used Late.LateError yet: the parent
     * learns the domain from the worker's error. */
    assert (Quark.try_string ("late-late-error-quark") == 0);

    var executor = new Procexec.Executor.self_exec (1);
    try {
        executor.submit ("late_error", null).result (-1);
        assert_not_reached ();
    } catch (Late.LateError.LATE e) {
        assert_cmpstr (e.domain.to_string (), CompareOperator.EQ, "late-late-error-quark");
        assert_cmpint (e.code, CompareOperator.EQ, 7);
        assert_true (e.message.has_prefix ("thrown by worker "));
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

void test_pool_failures () {
    var executor = new Procexec.Executor.self_exec (1);
    try {
        /* a worker that dies fails its own task only ... */
        try {
            executor.submit ("crash", null).result (-1);
            assert_not_reached ();
        } catch (Procexec.Error.WORKER_DIED e) {
            assert_true ("signal 9" in e.message);   /* names the signal */
        }

        /* ... a task past its timeout is killed ... */
        try {
            executor.submit_full ("block", null, null, 200 * 1000).result (-1);
            assert_not_reached ();
        } catch (Procexec.Error.TASK_TIMEOUT e) {
            assert_error (e, Procexec.Error.quark (), Procexec.Error.TASK_TIMEOUT);
        }

        /* ... and the pool goes on */
        assert_false (executor.broken);
        assert_cmpvariant (executor.submit ("square", new Variant ("(x)", (int64) 6)).result (-1),
                           new Variant.int64 (36));
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

async void interrupt_body (Procexec.Executor executor) throws Error {
    var future = executor.submit ("block", null);
    var running = false;
    future.progress.connect ((f, fraction, detail) => {
        if (running)
            return;
        running = true;
        assert_cmpvariant (detail, new Variant.string ("started"));
        /* running, not done: peek_result() says PENDING */
        try {
            f.peek_result ();
            assert_not_reached ();
        } catch (Error e) {
            assert_error (e, Procexec.Error.quark (), Procexec.Error.PENDING);
        }
        assert_true (f.is_running ());
        assert_false (f.cancel ());     /* too late to cancel ... */
        assert_true (f.interrupt ());   /* ... but not to interrupt */
    });

    try {
        yield future.wait_async ();
        assert_not_reached ();
    } catch (IOError.CANCELLED e) {
        assert_true (running);
    }
    assert (future.state == Procexec.FutureState.FINISHED);
}

void test_interrupt () {
    var executor = new Procexec.Executor.self_exec (1);
    var loop = new MainLoop ();
    interrupt_body.begin (executor, (obj, res) => {
        try {
            interrupt_body.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    executor.shutdown (true, false);
}

/* ---- signals and delegates --------------------------------------------- */

void test_progress_signal () {
    var executor = new Procexec.Executor.self_exec (1);
    string[] seen = {};
    double last_fraction = 0;
    try {
        var future = executor.submit ("steps", new Variant ("(i)", 4));
        future.progress.connect ((f, fraction, detail) => {
            assert_true (fraction > last_fraction);
            last_fraction = fraction;
            seen += detail.get_string ();
        });
        assert_cmpvariant (future.result (-1), new Variant.string ("4 steps"));
        /* the reports were queued in this context before the result came:
         * they are all there to dispatch now */
        var context = MainContext.default ();
        while (context.pending ())
            context.iteration (false);
    } catch (Error e) {
        assert_no_error (e);
    }
    assert_cmpstrv (seen, { "step 1", "step 2", "step 3", "step 4" });
    assert_cmpfloat (last_fraction, CompareOperator.EQ, 1.0);
    executor.shutdown (true, false);
}

void test_done_callbacks () {
    var executor = new Procexec.Executor.self_exec (1);
    var order = new StringBuilder ();
    var n_finalized = Sentinel.n_finalized;
    var loop = new MainLoop ();
    try {
        var future = executor.submit ("square", new Variant ("(x)", (int64) 2));
        add_done_callbacks (future, order, loop);
        loop.run ();
        assert_cmpstr (order.str, CompareOperator.EQ, "12");
        /* each callback's closure was freed after it ran */
        assert_cmpint (Sentinel.n_finalized - n_finalized, CompareOperator.EQ, 2);

        /* on a future that is done: later, never synchronously */
        future.add_done_callback ((f) => {
            assert_true (f.is_done ());
            order.append ("3");
            loop.quit ();
        });
        assert_cmpstr (order.str, CompareOperator.EQ, "12");
        loop.run ();
        assert_cmpstr (order.str, CompareOperator.EQ, "123");
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

/* In a function of its own, so that the sentinels live only in the
 * closures given to the future. */
void add_done_callbacks (Procexec.Future future, StringBuilder order, MainLoop loop) {
    var first = new Sentinel ();
    var second = new Sentinel ();
    future.add_done_callback ((f) => {
        assert_nonnull (first);
        order.append ("1");
    });
    future.add_done_callback ((f) => {
        assert_nonnull (second);
        order.append ("2");
        loop.quit ();
    });
}

void test_register_task_ownership () {
    /* A worker in this process, never serving: only the delegates. */
    var n_finalized = Sentinel.n_finalized;
    var worker = new Procexec.Worker ();
    register_with_sentinel (worker, "a");
    register_with_sentinel (worker, "b");
    assert_true (worker.has_task ("a"));
    assert_true (worker.has_task ("b"));
    assert_false (worker.has_task ("c"));
    assert_cmpint (Sentinel.n_finalized - n_finalized, CompareOperator.EQ, 0);

    /* registering a name again replaces the old function and frees it */
    register_with_sentinel (worker, "a");
    assert_cmpint (Sentinel.n_finalized - n_finalized, CompareOperator.EQ, 1);

    /* the worker frees the others */
    worker = null;
    assert_cmpint (Sentinel.n_finalized - n_finalized, CompareOperator.EQ, 3);
    assert_false (Procexec.Worker.is_worker_process ());
}

void register_with_sentinel (Procexec.Worker worker, string name) {
    var sentinel = new Sentinel ();
    worker.register_task (name, (task, args) => {
        return new Variant.string (sentinel.get_type ().name ());
    });
}

void test_map_func () {
    var executor = new Procexec.Executor.self_exec (2);
    var n_finalized = Sentinel.n_finalized;
    try {
        var results = map_with_generator (executor, 10);
        Variant? v;
        int64 expected = 0;
        while (results.next (out v)) {
            assert (v.get_int64 () == expected * expected);
            expected++;
        }
        assert (expected == 10);
        assert_null (v);
        /* the input ended: the generator's closure was freed */
        assert_cmpint (Sentinel.n_finalized - n_finalized, CompareOperator.EQ, 1);
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

Procexec.MapIter map_with_generator (Procexec.Executor executor, int64 count) throws Error {
    var sentinel = new Sentinel ();
    int64 next = 0;
    return executor.map_func ("square", () => {
        assert_nonnull (sentinel);
        if (next == count)
            return null;
        return new Variant ("(x)", next++);
    }, 2, 0, -1);
}

void test_wait_futures () {
    var executor = new Procexec.Executor.self_exec (2);
    try {
        Procexec.Future[] futures = {
            executor.submit ("square", new Variant ("(x)", (int64) 1)),
            executor.submit ("check_positive", new Variant ("(x)", (int64) (-1))),
            executor.submit ("square", new Variant ("(x)", (int64) 3)),
        };
        GenericArray<weak Procexec.Future> done, not_done;
        assert_true (Procexec.wait_futures (futures, Procexec.WaitMode.ALL_COMPLETED, -1,
                                            out done, out not_done));
        assert_cmpuint (done.length, CompareOperator.EQ, 3);
        assert_cmpuint (not_done.length, CompareOperator.EQ, 0);
        foreach (var f in futures)
            assert_true (f.is_done ());
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

/* ---- payloads ------------------------------------------------------------ */

void test_shared_bytes_and_result_fds () {
    var executor = new Procexec.Executor.self_exec (1);
    try {
        var future = executor.submit ("shared_back", new Variant ("(i)", (int32) 200000));
        var v = future.result (-1);
        unowned uint8[] data = (uint8[]) v.get_data ();
        assert_cmpuint ((uint) v.get_size (), CompareOperator.EQ, 200000);
        for (int i = 0; i < 200000; i++)
            assert_cmpuint (data[i], CompareOperator.EQ, 0x5a);

        var fds = future.get_result_fd_list ();
        assert_nonnull (fds);
        assert_cmpint (fds.get_length (), CompareOperator.EQ, 1);
        int fd = fds.get (0);
        var buf = new uint8[16];
        assert_cmpint ((int) Posix.read (fd, buf, buf.length), CompareOperator.EQ, 4);
        Posix.close (fd);
        assert_cmpstr ((string) buf, CompareOperator.EQ, "vala");
    } catch (Error e) {
        assert_no_error (e);
    }
    executor.shutdown (true, false);
}

int main (string[] args) {
    var worker = new Procexec.Worker ();
    register_tasks (worker);
    worker.main_if_worker ();   /* never returns in a worker */

    Test.init (ref args);
    Test.add_func ("/vala/properties/executor", test_properties_executor);
    Test.add_func ("/vala/properties/construct", test_properties_construct);
    Test.add_func ("/vala/properties/future", test_properties_future);
    Test.add_func ("/vala/async/submit", test_async_submit);
    Test.add_func ("/vala/async/future-wait", test_async_future_wait);
    Test.add_func ("/vala/async/as-completed", test_async_as_completed);
    Test.add_func ("/vala/async/map", test_async_map);
    Test.add_func ("/vala/async/completion-queue", test_async_completion_queue);
    Test.add_func ("/vala/async/shutdown", test_async_shutdown);
    Test.add_func ("/vala/errors/errordomain", test_errordomain);
    Test.add_func ("/vala/errors/task-errordomain", test_task_errordomain);
    Test.add_func ("/vala/errors/task-errordomain-first-seen", test_task_errordomain_first_seen);
    Test.add_func ("/vala/errors/pool-failures", test_pool_failures);
    Test.add_func ("/vala/errors/interrupt", test_interrupt);
    Test.add_func ("/vala/signals/progress", test_progress_signal);
    Test.add_func ("/vala/delegates/done-callbacks", test_done_callbacks);
    Test.add_func ("/vala/delegates/register-task", test_register_task_ownership);
    Test.add_func ("/vala/delegates/map-func", test_map_func);
    Test.add_func ("/vala/wait-futures", test_wait_futures);
    Test.add_func ("/vala/payloads/shared-bytes-and-result-fds", test_shared_bytes_and_result_fds);
    return Test.run ();
}
