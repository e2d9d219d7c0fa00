// primes.js: a CPU-bound job split over the pool; one worker against one
// per CPU
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Usage: gjs -m primes.js [LIMIT]   (default 5000000)
//
// The Python original is in ../primes.c. It prints the number of primes
// below LIMIT, the time with 1 worker and with one per CPU, and the
// speed-up, which comes close to the number of CPUs for a large LIMIT.

import GLib from 'gi://GLib';
import Procexec from 'gi://Procexec';
import System from 'system';

const N_CHUNKS = 64;

function isPrime(n) {
    if (n < 2)
        return false;
    if (n % 2 === 0)
        return n === 2;
    for (let d = 3; d * d <= n; d += 2) {
        if (n % d === 0)
            return false;
    }
    return true;
}

export function countPrimes(start, end) {
    let count = 0;
    for (let n = start; n < end; n++) {
        if (isPrime(n))
            count++;
    }
    return count;
}

async function run(maxWorkers, limit) {
    const step = Math.ceil(limit / N_CHUNKS);
    const ranges = [];
    for (let start = 0; start < limit; start += step)
        ranges.push([start, Math.min(start + step, limit)]);

    // Workers start on demand: their start-up is in the time, as in Python.
    const t0 = GLib.get_monotonic_time();
    const executor = new Procexec.ProcessPool({module: import.meta.url, maxWorkers});
    let total = 0;
    for await (const count of executor.starmap('countPrimes', ranges))
        total += count;
    await executor.shutdown();
    return [total, (GLib.get_monotonic_time() - t0) / 1e6];
}

if (!Procexec.isWorker()) {
    const limit = System.programArgs.length > 0 ? Number(System.programArgs[0]) : 5000000;
    if (!Number.isInteger(limit) || limit < 1) {
        printerr(`usage: primes.js [LIMIT]: not a positive integer: ${System.programArgs[0]}`);
        System.exit(2);
    }
    const n = GLib.get_num_processors();
    const [total1, t1] = await run(1, limit);
    const [totalN, tn] = await run(n, limit);
    if (total1 !== totalN) {
        printerr(`the counts differ: ${total1} and ${totalN}`);
        System.exit(1);
    }
    print(`${total1} primes below ${limit}`);
    print(`1 worker: ${t1.toFixed(2)} s`);
    print(`${n} workers: ${tn.toFixed(2)} s`);
    print(`speed-up: ${(t1 / tn).toFixed(2)}x`);
}
