#!/usr/bin/env bash
# Install the named Debian packages that are missing; elsewhere say how.
#
# Usage: scripts/os-packages.sh PACKAGE...
set -euo pipefail

missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} from the OS packages..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v apt-get >/dev/null; then
    echo "missing OS packages; run: sudo apt-get install ${missing[*]}" >&2
    exit 1
else
    echo "missing OS packages: ${missing[*]}; install them with your OS's package manager" >&2
    exit 1
fi
