"""bench_python.py: the workloads of bench/README.md on Python pools.

Usage: /usr/bin/python3 bench_python.py POOL WORKLOAD [N]
  POOL: cpython (concurrent.futures.ProcessPoolExecutor),
        mp (multiprocessing.Pool), procexec (procexec.ProcessPoolExecutor)
Prints one JSON object, as bench-procexec does.
"""

import json
import os
import statistics
import sys
import time

WORKERS = 2


def ident(x):
    return x


def nap_pid(seconds):
    time.sleep(seconds)
    return os.getpid()


def length(b):
    return len(b)


def make_bytes(n):
    return b"\x5a" * n


def spin(n):
    acc = 0
    for i in range(n):
        acc = (acc * 6364136223846793005 + i) & 0xFFFFFFFFFFFFFFFF
    return acc


def timed_spin(n):
    """spin(n), returning the CPU time it took in the worker."""
    t = time.thread_time()
    spin(n)
    return time.thread_time() - t


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def pool_class(kind):
    """The pool of @kind, imported: (d) calls this before its clock starts,
    as a program has imported its pool before it makes one."""
    if kind == "cpython":
        from concurrent.futures.process import ProcessPoolExecutor
        return ProcessPoolExecutor
    if kind == "procexec":
        from procexec import ProcessPoolExecutor
        return ProcessPoolExecutor
    if kind == "mp":
        import multiprocessing.pool
        return multiprocessing.pool.Pool
    raise SystemExit(f"unknown pool {kind}")


class Pool:
    """The three pools behind one small interface."""

    def __init__(self, kind, workers=WORKERS):
        self.kind = kind
        self.workers = workers
        self.pool = pool_class(kind)(workers)

    def submit(self, fn, *args):
        if self.kind == "mp":
            return self.pool.apply_async(fn, args)
        return self.pool.submit(fn, *args)

    def result(self, f):
        return f.get() if self.kind == "mp" else f.result()

    def map(self, fn, it, chunksize):
        return self.pool.imap(fn, it, chunksize) if self.kind == "mp" else self.pool.map(fn, it, chunksize=chunksize)

    def close(self):
        if self.kind == "mp":
            self.pool.close()
            self.pool.join()
        else:
            self.pool.shutdown(wait=True)

    def warm_up(self):
        """Runs short tasks, two per worker at a time, until each worker
        has answered one: pools that start workers on demand may run a
        whole batch on the first worker ready while another still starts,
        and no workload is to be timed while one does (starting is (d))."""
        pids = set()
        for _ in range(10_000):
            fs = [self.submit(nap_pid, 0.001) for _ in range(2 * self.workers)]
            pids.update(self.result(f) for f in fs)
            if len(pids) >= self.workers:
                return
        raise SystemExit(f"{self.kind}: only {len(pids)} of {self.workers} workers answered")


def throughput(kind, n):
    p = Pool(kind)
    p.warm_up()
    t = time.perf_counter()
    fs = [p.submit(ident, i) for i in range(n)]
    for i, f in enumerate(fs):
        assert p.result(f) == i
    dt = time.perf_counter() - t
    p.close()
    return {"tasks_per_s": n / dt}


def map_items(kind, n, chunksize):
    p = Pool(kind)
    p.warm_up()
    t = time.perf_counter()
    for i, x in enumerate(p.map(ident, range(n), chunksize)):
        assert x == i
    dt = time.perf_counter() - t
    p.close()
    return {"items_per_s": n / dt}


def latency(kind, n):
    p = Pool(kind)
    p.warm_up()
    lat = []
    for i in range(n):
        t = time.perf_counter()
        p.result(p.submit(ident, i))
        lat.append((time.perf_counter() - t) * 1e6)
    p.close()
    lat.sort()
    return {"median_us": lat[n // 2], "p99_us": lat[n * 99 // 100]}


def start(kind):
    pool_class(kind)
    t = time.perf_counter()
    p = Pool(kind)
    p.result(p.submit(ident, 1))
    dt = time.perf_counter() - t
    p.close()
    return {"seconds": dt}


def payload(kind, size):
    p = Pool(kind)
    p.warm_up()
    data = b"\xa5" * size
    t = time.perf_counter()
    assert p.result(p.submit(length, data)) == size
    t_in = time.perf_counter() - t
    t = time.perf_counter()
    assert len(p.result(p.submit(make_bytes, size))) == size
    t_out = time.perf_counter() - t
    p.close()
    return {"send_mb_per_s": size / 1e6 / t_in, "receive_mb_per_s": size / 1e6 / t_out}


def scaling(kind, n):
    seconds = []
    cpu = []
    for workers in (1, 2):
        p = Pool(kind, workers)
        p.warm_up()
        t = time.perf_counter()
        fs = [p.submit(timed_spin, n) for _ in range(8)]
        cpu.append(sum(p.result(f) for f in fs))
        seconds.append(time.perf_counter() - t)
        p.close()
    # The same tasks may take much more or less CPU time from one second
    # to the next on a shared virtual machine: the speed-up corrected for
    # the CPU time the tasks took tells the pool's share from the host's.
    return {"one_worker_s": seconds[0], "two_workers_s": seconds[1],
            "speedup": seconds[0] / seconds[1],
            "one_worker_task_cpu_s": cpu[0], "two_workers_task_cpu_s": cpu[1],
            "cpu_normalised_speedup": (seconds[0] / cpu[0]) / (seconds[1] / cpu[1])}


def main():
    kind, what = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else None
    if what == "throughput":
        out = throughput(kind, n or 20000)
    elif what == "map1":
        out = map_items(kind, n or 100000, 1)
    elif what == "map100":
        out = map_items(kind, n or 100000, 100)
    elif what == "latency":
        out = latency(kind, n or 2000)
    elif what == "start":
        out = start(kind)
    elif what == "payload":
        out = payload(kind, n or 16 * 1024 * 1024)
    elif what == "scaling":
        out = scaling(kind, n or 2_500_000)
    else:
        raise SystemExit(f"unknown workload {what}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
