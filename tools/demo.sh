#!/usr/bin/env bash
# demo.sh: install what is missing, build procexec in _build and run the
# main demo (examples/demo.c).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/install-deps.sh

builddir=_build
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir"
fi
meson compile -C "$builddir"

echo
echo "== $builddir/examples/example-demo"
exec "$builddir/examples/example-demo" "$@"
