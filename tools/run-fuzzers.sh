#!/usr/bin/env bash
# run-fuzzers.sh: builds the decoder fuzzers (fuzz/) with clang, libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs each for a while.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# usage: tools/run-fuzzers.sh [options] [SECONDS]
#   SECONDS           how long each fuzzer runs (default 60)
#   -o DIR            output directory (default _build-fuzz in the repository)
#   -p                run the fuzzers side by side, not one after the other
#   --only NAME       only one fuzzer: parent or worker
#   --build-only      build, do not run
#
# Each fuzzer starts from the committed seeds (fuzz/corpus/NAME) and
# regression inputs (fuzz/regressions/NAME), and writes
#   DIR/corpus/NAME/      the inputs it found that add coverage (kept between
#                         runs: the next run starts from them too)
#   DIR/artifacts/NAME/   crash-*, leak-*, timeout-*, oom-* inputs
#   DIR/NAME.log          libFuzzer's output
# A finding is replayed with `DIR/fuzz-NAME-decoder FILE`; once understood,
# copy it into fuzz/regressions/NAME/ (see fuzz/README.md) so that
# `meson test --suite fuzz` replays it for ever.
#
# Exits 1 when a fuzzer found something, 0 otherwise.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
srcdir=$PWD

seconds=60
out=$srcdir/_build-fuzz
parallel=0
build_only=0
sides=(parent worker)

while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$(realpath -m "$2"); shift 2 ;;
    -p) parallel=1; shift ;;
    --only) sides=("$2"); shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    [0-9]*) seconds=$1; shift ;;
    *) echo "run-fuzzers.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

bash tools/install-deps.sh

step() {
  echo
  echo "==== $*"
}

# -- 1. the build ------------------------------------------------------------
# meson only configures (config.h, proc-version.h); the harnesses and the
# library sources they use (the channel, the protocol, the error domain)
# are compiled here with clang: libFuzzer's coverage, ASan and UBSan, in
# both. The rest of the library is not needed, so a change in progress
# elsewhere in procexec/ does not stop the fuzzers.
confdir=$out/conf
if [ ! -f "$confdir/config.h" ]; then
  step "configure $confdir"
  CC=clang meson setup "$confdir" "$srcdir" \
    -Dtests=false -Dexamples=false \
    -Dintrospection=disabled -Dvapi=disabled -Ddocs=disabled >/dev/null
fi

read -r -a glib_cflags <<< "$(pkg-config --cflags gio-2.0 gio-unix-2.0)"
read -r -a glib_libs <<< "$(pkg-config --libs gio-2.0 gio-unix-2.0 gobject-2.0)"
cflags=(
  -g -O1 -std=gnu11
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -DPROCEXEC_COMPILATION -D_GNU_SOURCE '-DG_LOG_DOMAIN="Procexec"'
  -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
  -I"$confdir" -I"$confdir/procexec" -I"$srcdir" -I"$srcdir/procexec" -I"$srcdir/fuzz"
  "${glib_cflags[@]}"
)
library_sources=(procexec/proc-channel.c procexec/proc-protocol.c procexec/proc-enums.c)
for side in "${sides[@]}"; do
  step "build $out/fuzz-$side-decoder"
  clang "${cflags[@]}" -o "$out/fuzz-$side-decoder" \
    "fuzz/fuzz-$side-decoder.c" fuzz/fuzz-decoder.c fuzz/fuzz-input.c fuzz/fuzz-alloc.c \
    "${library_sources[@]}" "${glib_libs[@]}" -lm -pthread
done

[ "$build_only" = 1 ] && exit 0

# -- 2. the runs --------------------------------------------------------------
# GSlice hides allocations from ASan (and from the allocation checks) unless
# told to use malloc.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:allocator_may_return_null=0
export LSAN_OPTIONS=suppressions=$srcdir/tools/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local side=$1
  mkdir -p "$out/corpus/$side" "$out/artifacts/$side"
  # -rss_limit_mb / -malloc_limit_mb: a frame that made the decoder allocate
  # hundreds of MB is a finding (oom-*), whatever its length claims.
  # -timeout: one input taking 10 s is a finding (timeout-*).
  # -max_len: inputs up to 8 KiB (a larger seed is used cut short).
  "$out/fuzz-$side-decoder" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=1024 \
    -malloc_limit_mb=256 \
    -max_len=8192 \
    -dict="$srcdir/fuzz/gvariant.dict" \
    -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$side/" \
    "$out/corpus/$side" "$srcdir/fuzz/corpus/$side" "$srcdir/fuzz/regressions/$side" \
    > "$out/$side.log" 2>&1
}

mkdir -p "$out"
touch "$out/.run-start"
status=0
pids=()
for side in "${sides[@]}"; do
  step "fuzz-$side-decoder for $seconds s (log: $out/$side.log)"
  if [ "$parallel" = 1 ]; then
    run_one "$side" & pids+=($!)
  else
    run_one "$side" || status=1
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done

step "summary"
for side in "${sides[@]}"; do
  log=$out/$side.log
  echo "-- fuzz-$side-decoder"
  # The last status line (execs, coverage, corpus) and the final stats.
  grep -E '^#[0-9]+' "$log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
  findings=$(find "$out/artifacts/$side" -type f -newer "$out/.run-start" | sort)
  if [ -n "$findings" ]; then
    echo "FOUND:"
    echo "$findings"
    grep -E 'ERROR: |SUMMARY: |fuzz: |==ERROR|deadly signal|out-of-memory|timeout' "$log" | head -n 20 || true
    status=1
  else
    echo "no crash, leak, timeout or out-of-memory"
  fi
done
exit $status
