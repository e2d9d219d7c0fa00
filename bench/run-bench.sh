#!/usr/bin/env bash
# run-bench.sh: build procexec for speed and run every benchmark, side by
# side with CPython's pools, in one run on this machine. Not part of the
# test suite: timings belong here, never in tests.
#
# Usage: bench/run-bench.sh [REPETITIONS]   (default 5)
# Writes bench/results/raw.jsonl, results.json and results.png.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
srcdir=$PWD
reps=${1:-5}
builddir=$srcdir/_build-bench
out=$srcdir/bench/results
mkdir -p "$out"
raw=$out/raw.jsonl
: > "$raw"

bash tools/install-deps.sh
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  extra=(python3-matplotlib)
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${extra[@]}"
fi

[ -d "$builddir" ] || meson setup --buildtype=release -Ddocs=disabled "$builddir" "$srcdir"
meson compile -C "$builddir"

export GI_TYPELIB_PATH=$builddir/procexec
export LD_LIBRARY_PATH=$builddir/procexec
export PROCEXEC_WORKER=$builddir/worker/procexec-worker
export PYTHONPATH=$srcdir/bindings/python${PYTHONPATH:+:$PYTHONPATH}
bench_c=$builddir/bench/bench-procexec
bench_py=$srcdir/bench/bench_python.py

has_procexec_py=0
/usr/bin/python3 -c 'import procexec; procexec.ProcessPoolExecutor' 2>/dev/null && has_procexec_py=1

record () { # pool workload command...
  local pool=$1 workload=$2; shift 2
  local result
  result=$("$@")
  printf '{"pool": "%s", "workload": "%s", "result": %s}\n' "$pool" "$workload" "$result" >> "$raw"
}

for rep in $(seq "$reps"); do
  echo "== repetition $rep of $reps"
  for workload in throughput map1 map100 latency start payload scaling; do
    record procexec-c "$workload" "$bench_c" "$workload"
    record cpython "$workload" /usr/bin/python3 "$bench_py" cpython "$workload"
    record mp "$workload" /usr/bin/python3 "$bench_py" mp "$workload"
    if [ $has_procexec_py = 1 ]; then
      record procexec-py "$workload" /usr/bin/python3 "$bench_py" procexec "$workload"
    fi
  done
  record floor pingpong "$bench_c" pingpong
  record procexec-c memory "$bench_c" memory
done

/usr/bin/python3 bench/report.py "$raw" | tee "$out/table.txt"
# The docs show the chart of the last run.
cp "$out/results.png" docs/benchmarks.png
