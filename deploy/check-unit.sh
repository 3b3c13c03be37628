#!/usr/bin/env bash
# Checks deploy/warden.service with `systemd-analyze verify` when systemd-analyze is available;
# otherwise says so and exits 0 (CI machines and containers often lack it).
#
# verify insists that ExecStart's program exists. When /usr/local/bin/warden is not installed (CI,
# a developer's checkout), the unit is checked from a temporary copy whose ExecStart names a stand-in
# program; every other line is checked exactly as written.
#
# Usage: deploy/check-unit.sh [UNIT_FILE]   (default: deploy/warden.service beside this script)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
unit="${1:-$here/warden.service}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "check-unit: systemd-analyze not found; skipped the check of $unit"
    exit 0
fi
if [ ! -f "$unit" ]; then
    echo "check-unit: no such unit file: $unit" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
name="$(basename "$unit")"
copy="$work/$name"

program="$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" | head -n 1)"
if [ -n "$program" ] && [ ! -x "$program" ]; then
    stand_in="$work/warden"
    printf '#!/bin/sh\nexit 0\n' >"$stand_in"
    chmod 0755 "$stand_in"
    # Replace only the program path at the start of ExecStart lines.
    sed "s|^\(ExecStart=[-@:+!]*\)$program|\1$stand_in|" "$unit" >"$copy"
    echo "check-unit: $program is not installed; checking with a stand-in program"
else
    cp "$unit" "$copy"
fi

# verify prints problems on stderr but, on some versions, exits 0 for warnings: fail on any output.
output="$(systemd-analyze verify --man=no "$copy" 2>&1)" || {
    printf '%s\n' "$output" >&2
    echo "check-unit: systemd-analyze verify failed for $unit" >&2
    exit 1
}
if [ -n "$output" ]; then
    printf '%s\n' "$output" >&2
    echo "check-unit: systemd-analyze verify reported problems in $unit" >&2
    exit 1
fi
echo "check-unit: $unit verified ($(systemd-analyze --version | head -n 1))"
