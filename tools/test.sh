#!/usr/bin/env bash
# test.sh: install what is missing, then build and test procexec twice from
# clean build directories: a normal build, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer. Warnings are errors in both. Any failure fails
# the script.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Environment: BUILD_ROOT (default: the repository) holds _build-test and
# _build-asan; MESON_TEST_ARGS adds arguments to both `meson test` runs
# (e.g. "--suite examples").

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
srcdir=$PWD
build_root=${BUILD_ROOT:-$srcdir}
read -r -a extra_test_args <<< "${MESON_TEST_ARGS:-}"

bash tools/install-deps.sh

step() {
  echo
  echo "==== $*"
}

# -- 1. the normal build -------------------------------------------------------
builddir=$build_root/_build-test
step "configure $builddir"
rm -rf "$builddir"
meson setup --werror "$builddir" "$srcdir"

step "build $builddir"
meson compile -C "$builddir"

step "test $builddir"
meson test -C "$builddir" --print-errorlogs "${extra_test_args[@]}"

# The C suite under valgrind memcheck (parents; workers are checked by the
# ASan build below): errors and definite leaks fail it.
step "test $builddir under valgrind (C suite)"
meson test -C "$builddir" --setup valgrind --suite unit --print-errorlogs --num-processes 2

# -- 2. AddressSanitizer + UndefinedBehaviorSanitizer --------------------------
builddir=$build_root/_build-asan
step "configure $builddir (ASan + UBSan)"
rm -rf "$builddir"
meson setup --werror \
  -Db_sanitize=address,undefined \
  -Db_lundef=false \
  "$builddir" "$srcdir"

# Programs run during the build (g-ir-scanner's dumper) are instrumented
# too; their leaks are not ours to find.
step "build $builddir"
ASAN_OPTIONS=detect_leaks=0 meson compile -C "$builddir"

# The options reach the worker processes too: GSubprocess passes the
# environment on. Workers of a self-exec program are ASan processes as well.
# handle_segv=0: a task that segfaults must kill its worker with SIGSEGV, as
# it does outside ASan, so that the WORKER_DIED message names the signal.
export ASAN_OPTIONS=detect_leaks=1:handle_segv=0:abort_on_error=1:halt_on_error=1:strict_init_order=1:detect_stack_use_after_return=1
export LSAN_OPTIONS=suppressions=$srcdir/tools/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
# GLib 2.74's GSlice hides allocations from ASan unless told to use malloc.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly

step "test $builddir (ASan + UBSan)"
# Everything is slower under the sanitizers.
meson test -C "$builddir" --print-errorlogs --timeout-multiplier 3 \
  "${extra_test_args[@]}"

step "all tests passed"
