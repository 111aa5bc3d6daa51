#!/usr/bin/env bash
# Pin the newest releases of what requirements*.in name, and all they need,
# in requirements.txt and requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

freeze() {  # freeze VENV REQUIREMENTS...: install into a fresh venv, print its pins
    local venv="$tmp/$1"
    shift
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "${@/#/-r}" 2>/dev/null
    "$venv/bin/pip" freeze
}

freeze run requirements.in > "$tmp/run.txt"
freeze dev requirements.in requirements-dev.in > "$tmp/dev.txt"
{ echo "# Pinned by \`make pin\` from requirements.in."; cat "$tmp/run.txt"; } > requirements.txt
{ echo "# Pinned by \`make pin\` from requirements-dev.in."; grep -vxF -f "$tmp/run.txt" "$tmp/dev.txt"; } \
    > requirements-dev.txt
echo "pinned: requirements.txt, requirements-dev.txt"
