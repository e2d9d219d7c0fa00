"""report.py: the table, JSON and chart of a benchmark run.

Reads the JSON lines written by run-bench.sh (one object per repetition,
tagged with pool and workload), prints a table of medians with min and max
and the ratio to CPython's ProcessPoolExecutor measured in the same run,
and writes results.json and results.png next to the input.
"""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

POOLS = ["procexec-c", "procexec-py", "cpython", "mp"]
POOL_NAMES = {
    "procexec-c": "procexec C API",
    "procexec-py": "procexec Python",
    "cpython": "CPython ProcessPoolExecutor",
    "mp": "multiprocessing.Pool",
}

# (row, workload, metric, unit, higher is better[, CPython's metric to
# compare with, when the row is a procexec variant of another])
ROWS = [
    ("(a) throughput, 20,000 trivial tasks", "throughput", "tasks_per_s", "tasks/s", True),
    ("(b) map 100,000 ints, chunksize 1", "map1", "items_per_s", "items/s", True),
    ("(b) map 100,000 ints, chunksize 100", "map100", "items_per_s", "items/s", True),
    ("(c) latency, median", "latency", "median_us", "us", False),
    ("(c) latency, p99", "latency", "p99_us", "us", False),
    ("(d) start to first result", "start", "seconds", "s", False),
    ("(e) 16 MiB argument", "payload", "send_mb_per_s", "MB/s", True),
    ("(e) 16 MiB result", "payload", "receive_mb_per_s", "MB/s", True),
    ("(e) 16 MiB argument, shared buffer", "payload", "send_shared_mb_per_s", "MB/s", True,
     "send_mb_per_s"),
    ("(e) 16 MiB result, shared buffer", "payload", "receive_shared_mb_per_s", "MB/s", True,
     "receive_mb_per_s"),
    ("(f) speed-up, 2 workers vs 1", "scaling", "speedup", "x", True),
]


def load(path):
    runs = defaultdict(list)
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        runs[(rec["pool"], rec["workload"])].append(rec["result"])
    return runs


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def main():
    path = Path(sys.argv[1])
    runs = load(path)
    out = {"rows": [], "extra": {}}

    print(f"{'workload':42} {'pool':30} {'median':>12} {'min':>12} {'max':>12}  vs CPython")
    for title, workload, metric, unit, higher, *base_metric in ROWS:
        base = runs.get(("cpython", workload))
        base_key = base_metric[0] if base_metric else metric
        base_med = statistics.median(r[base_key] for r in base) if base else None
        for pool in POOLS:
            recs = [r for r in runs.get((pool, workload), []) if metric in r]
            if not recs:
                continue
            s = summary([r[metric] for r in recs])
            ratio = s["median"] / base_med if base_med else None
            out["rows"].append({"row": title, "workload": workload, "metric": metric,
                                "unit": unit, "pool": pool, **s, "ratio_to_cpython": ratio})
            rtxt = f"{ratio:8.2f}x" if ratio is not None else ""
            prec = 4 if unit == "s" else 2
            print(f"{title:42} {POOL_NAMES[pool]:30} {s['median']:12.{prec}f} {s['min']:12.{prec}f} "
                  f"{s['max']:12.{prec}f}  {rtxt} ({unit})")

    floor = runs.get(("floor", "pingpong"))
    if floor:
        s = summary([r["median_us"] for r in floor])
        out["extra"]["socketpair_pingpong_median_us"] = s
        lat = [r for r in out["rows"] if r["workload"] == "latency" and r["metric"] == "median_us"
               and r["pool"] == "procexec-c"]
        ratio = lat[0]["median"] / s["median"] if lat else None
        out["extra"]["procexec_c_latency_vs_floor"] = ratio
        print(f"\nraw socketpair 64-byte ping-pong (floor): median {s['median']:.2f} us"
              + (f"; procexec C round trip = {ratio:.2f}x the floor" if ratio else ""))
    mem = runs.get(("procexec-c", "memory"))
    if mem:
        per = summary([r["bytes_per_pending_future"] for r in mem])
        rss = summary([r["idle_worker_rss_bytes"] for r in mem])
        anon = summary([r["idle_worker_anon_rss_bytes"] for r in mem])
        pss = summary([r["idle_worker_pss_bytes"] for r in mem])
        out["extra"]["bytes_per_pending_future"] = per
        out["extra"]["idle_c_worker_rss_bytes"] = rss
        out["extra"]["idle_c_worker_anon_rss_bytes"] = anon
        out["extra"]["idle_c_worker_pss_bytes"] = pss
        floor = None
        if all("gio_floor_rss_bytes" in r for r in mem):
            floor = summary([r["gio_floor_rss_bytes"] for r in mem])
            out["extra"]["gio_floor_rss_bytes"] = floor
        print(f"(g) parent memory per pending future: {per['median']:.0f} bytes "
              f"(min {per['min']:.0f}, max {per['max']:.0f}); idle C worker: RSS "
              f"{rss['median'] / 1048576:.2f} MiB, of which private {anon['median'] / 1048576:.2f} MiB; "
              f"PSS {pss['median'] / 1048576:.2f} MiB"
              + (f"; a do-nothing GIO process: RSS {floor['median'] / 1048576:.2f} MiB" if floor else ""))

    json_path = path.with_name("results.json")
    json_path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {json_path}")
    chart(out, path.with_name("results.png"))


def chart(out, png):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (Debian: python3-matplotlib): no chart")
        return
    rows = [r for r in ROWS]
    fig, ax = plt.subplots(figsize=(10, 6))
    width = 0.2
    labels = [r[0] for r in rows]
    for i, pool in enumerate(POOLS):
        ratios = []
        for title, workload, metric, unit, higher, *_ in rows:
            rec = [r for r in out["rows"] if r["row"] == title and r["pool"] == pool]
            if not rec or rec[0]["ratio_to_cpython"] is None:
                ratios.append(0)
                continue
            ratio = rec[0]["ratio_to_cpython"]
            # Bars show "times better than CPython" for every row.
            ratios.append(ratio if higher else 1 / ratio)
        ax.barh([y + i * width for y in range(len(rows))], ratios, height=width,
                label=POOL_NAMES[pool])
    ax.set_yticks([y + 1.5 * width for y in range(len(rows))])
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("times better than CPython's ProcessPoolExecutor (same run, log scale)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
