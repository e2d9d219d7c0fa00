#!/usr/bin/env bash
# install-deps.sh: install the Debian 12 packages that procexec's build, its
# tests, its examples and its documentation need, if any is missing.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs apt-get only when something is missing: as root directly, otherwise
# through sudo.

set -euo pipefail

packages=(
  meson
  ninja-build
  pkg-config
  gcc
  libglib2.0-dev
  libgirepository1.0-dev
  gobject-introspection
  gjs
  valac
  gi-docgen
  python3-gi
  valgrind
  clang
  libclang-rt-14-dev
  libpython3.11-testsuite
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: not root and no sudo; install these packages: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
