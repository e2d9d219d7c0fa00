/* map-squares.vala: apply a task to every item of an input, in chunks, and
 * get the results back in input order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Python original:
 *
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def square(n):
 *         return n * n
 *
 *     if __name__ == '__main__':
 *         with ProcessPoolExecutor() as executor:
 *             for result in executor.map(square, range(10), chunksize=3):
 *                 print(result)
 *
 * It prints 0, 1, 4, 9, 16, 25, 36, 49, 64 and 81, one a line, in that order
 * whichever worker finishes first.
 */

int main (string[] args) {
    var worker = new Procexec.Worker ();
    worker.register_task ("square", (task, task_args) => {
        int64 n;
        task_args.get ("(x)", out n);
        return new Variant.int64 (n * n);
    });
    worker.main_if_worker ();

    var executor = new Procexec.Executor.self_exec (0);

    /* range(10), as an array of argument tuples: [(0,), (1,), ... (9,)] */
    var inputs = new VariantBuilder (new VariantType ("a(x)"));
    for (int64 n = 0; n < 10; n++)
        inputs.add ("(x)", n);

    try {
        /* executor.map(square, range(10), chunksize=3): chunks of 3 items
         * travel to a worker together; buffersize 0 = at most twice
         * max-workers chunks in flight; -1 = no timeout. */
        var results = executor.map ("square", inputs.end (), 3, 0, -1);

        /* for result in ...: print(result) */
        Variant? result;
        while (results.next (out result))
            stdout.printf ("%lld\n", result.get_int64 ());
        stdout.flush ();
    } catch (Error e) {
        stderr.printf ("map failed: %s\n", e.message);
        return 1;
    }

    executor.shutdown (true, false);
    return 0;
}
