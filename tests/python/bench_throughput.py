#!/usr/bin/python3
# bench_throughput.py: tasks per second of procexec.ProcessPoolExecutor and
# of CPython's ProcessPoolExecutor, in the same run.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: bench_throughput.py [N [ROUNDS [WORKERS]]]
#
# Each round, for each pool: start a pool of WORKERS (default 2) workers,
# warm it up, then submit N (default 20,000) trivial tasks and wait for
# all their results. The pools take turns, round after round, so that the
# load of the machine weighs on both alike; the median round counts. CPU
# time is that of the whole process tree (parent, and workers once reaped),
# per task. Registered as a meson benchmark: `meson test --benchmark`.

import json
import os
import resource
import statistics
import subprocess
import sys
import time


def ident(x):
    return x


def one_run(kind, n, workers):
    if kind == 'cpython':
        from concurrent.futures import ProcessPoolExecutor
    else:
        from procexec import ProcessPoolExecutor
    ex = ProcessPoolExecutor(workers)
    for f in [ex.submit(ident, 0) for _ in range(2 * workers)]:
        f.result()
    t0 = time.perf_counter()
    fs = [ex.submit(ident, i) for i in range(n)]
    for i, f in enumerate(fs):
        assert f.result() == i
    dt = time.perf_counter() - t0
    ex.shutdown(wait=True)
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    print(json.dumps({'tasks_per_s': n / dt, 'cpu_us_per_task': cpu / n * 1e6}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--one':
        one_run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return 0
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    results = {'cpython': [], 'procexec': []}
    for r in range(rounds):
        for kind in results:
            out = subprocess.run([sys.executable, os.path.abspath(__file__), '--one', kind,
                                  str(n), str(workers)],
                                 check=True, capture_output=True, text=True).stdout
            results[kind].append(json.loads(out))
            print('round %d %-8s %8.0f tasks/s  %6.1f us CPU/task'
                  % (r + 1, kind, results[kind][-1]['tasks_per_s'],
                     results[kind][-1]['cpu_us_per_task']), flush=True)
    median = {k: statistics.median(x['tasks_per_s'] for x in v) for k, v in results.items()}
    print('median: procexec %.0f tasks/s, CPython %.0f tasks/s: %.2fx'
          % (median['procexec'], median['cpython'], median['procexec'] / median['cpython']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
