/* primes.vala: a CPU-bound job split over the pool; compare one worker with
 * one per CPU.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: example-vala-primes [LIMIT]   (default 5000000)
 *
 * The Python original:
 *
 *     import os, sys, time
 *     from concurrent.futures import ProcessPoolExecutor
 *
 *     def is_prime(n):
 *         if n < 2: return False
 *         if n % 2 == 0: return n == 2
 *         d = 3
 *         while d * d <= n:
 *             if n % d == 0: return False
 *             d += 2
 *         return True
 *
 *     def count_primes(start, end):
 *         return sum(1 for n in range(start, end) if is_prime(n))
 *
 *     def run(max_workers, limit, n_chunks=64):
 *         step = -(-limit // n_chunks)
 *         starts = range(0, limit, step)
 *         ends = [min(s + step, limit) for s in starts]
 *         t0 = time.perf_counter()
 *         with ProcessPoolExecutor(max_workers) as executor:
 *             total = sum(executor.map(count_primes, starts, ends))
 *         return total, time.perf_counter() - t0
 *
 *     if __name__ == '__main__':
 *         limit = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
 *         n = os.cpu_count()
 *         total, t1 = run(1, limit)
 *         total_n, tn = run(n, limit)
 *         assert total == total_n
 *         print(f'{total} primes below {limit}')
 *         print(f'1 worker: {t1:.2f} s')
 *         print(f'{n} workers: {tn:.2f} s')
 *         print(f'speed-up: {t1 / tn:.2f}x')
 *
 * With the default limit it prints "348513 primes below 5000000", the two
 * times and a speed-up close to the number of CPUs.
 */

const uint64 N_CHUNKS = 64;

bool is_prime (uint64 n) {
    if (n < 2)
        return false;
    if (n % 2 == 0)
        return n == 2;
    for (uint64 d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return false;
    return true;
}

/* count_primes(start, end): the primes in [start, end) */
Variant? count_primes (Procexec.Task task, Variant args) throws Error {
    uint64 start, end, count = 0;
    args.get ("(tt)", out start, out end);
    for (uint64 n = start; n < end; n++) {
        if (is_prime (n))
            count++;
        /* a long task should notice interrupt() now and then */
        if ((n & 0xffff) == 0 && task.is_cancelled ())
            break;
    }
    return new Variant.uint64 (count);
}

/* Returns the number of primes below @limit; @seconds is the wall time,
 * spawning the workers included, as in Python. */
uint64 run (uint max_workers, uint64 limit, out double seconds) throws Error {
    var t0 = get_monotonic_time ();
    var step = (limit + N_CHUNKS - 1) / N_CHUNKS;
    var inputs = new VariantBuilder (new VariantType ("a(tt)"));
    for (uint64 start = 0; start < limit; start += step)
        inputs.add ("(tt)", start, uint64.min (start + step, limit));

    var executor = new Procexec.Executor.self_exec (max_workers);
    var results = executor.map ("count_primes", inputs.end (), 1, 0, -1);
    uint64 total = 0;
    Variant? result;
    while (results.next (out result))
        total += result.get_uint64 ();
    executor.shutdown (true, false);

    seconds = (get_monotonic_time () - t0) / (double) TimeSpan.SECOND;
    return total;
}

int main (string[] args) {
    var worker = new Procexec.Worker ();
    worker.register_task ("count_primes", count_primes);
    worker.main_if_worker ();

    /* only the parent gets here: parse the command line */
    uint64 limit = 5000000;
    try {
        if (args.length > 1)
            uint64.from_string (args[1], out limit, 10, 1, uint32.MAX);
    } catch (NumberParserError e) {
        stderr.printf ("usage: %s [LIMIT]: %s\n", args[0], e.message);
        return 2;
    }

    var n = get_num_processors ();
    uint64 total_1, total_n;
    double t1, tn;
    try {
        total_1 = run (1, limit, out t1);
        total_n = run (n, limit, out tn);
    } catch (Error e) {
        stderr.printf ("failed: %s\n", e.message);
        return 1;
    }
    if (total_1 != total_n) {
        stderr.printf ("the counts differ: %llu and %llu\n", total_1, total_n);
        return 1;
    }

    stdout.printf ("%llu primes below %llu\n", total_1, limit);
    stdout.printf ("1 worker: %.2f s\n", t1);
    stdout.printf ("%u workers: %.2f s\n", n, tn);
    stdout.printf ("speed-up: %.2fx\n", t1 / tn);
    stdout.flush ();
    return 0;
}
