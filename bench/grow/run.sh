#!/usr/bin/env bash
# run.sh - the memory-growth benchmark (`make bench-grow`).
# Usage: GROW_REPS=3 run.sh LVM NATIVE [MIB]
#
# Runs grow.wasm under LVM and NATIVE (grow.c built for the host), each
# GROW_REPS times, alternating, with a heap of MIB MiB (default 1024), and
# prints the median wall times and their ratio:
#   bench: grow_1gib_lvm SECONDS s
#   bench: grow_1gib_native SECONDS s
#   bench: grow_1gib RATIO x          (lvm / native)
# Times are of whole OS processes (bash's EPOCHREALTIME), start-up
# included.  Both builds print the same checksum line, or the script fails.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lvm=${1:?usage: run.sh LVM NATIVE [MIB]}
native=${2:?usage: run.sh LVM NATIVE [MIB]}
mib=${3:-1024}
reps=${GROW_REPS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# time_run OUTFILE CMD...: run CMD with stdout to OUTFILE; print its wall
# time in seconds, or fail the script.
time_run() {
    local out=$1 start end
    shift
    start=$EPOCHREALTIME
    if ! "$@" >"$out" 2>"$tmp/stderr"; then
        echo "run.sh: FAILED: $* : $(head -c 300 "$tmp/stderr")" >&2
        exit 1
    fi
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

lvm_times=() native_times=()
for ((i = 0; i < reps; i++)); do
    t=$(time_run "$tmp/native.out" "$native" "$mib") || exit 1
    native_times+=("$t")
    t=$(time_run "$tmp/lvm.out" "$lvm" run "$here/grow.wasm" "$mib") || exit 1
    lvm_times+=("$t")
    if ! cmp -s "$tmp/native.out" "$tmp/lvm.out"; then
        echo "run.sh: MISMATCH: lvm printed '$(cat "$tmp/lvm.out")'," \
             "native printed '$(cat "$tmp/native.out")'" >&2
        exit 1
    fi
done
echo "# $(cat "$tmp/native.out")"
l=$(median "${lvm_times[@]}")
n=$(median "${native_times[@]}")
echo "bench: grow_1gib_lvm $l s"
echo "bench: grow_1gib_native $n s"
awk -v l="$l" -v n="$n" 'BEGIN { printf "bench: grow_1gib %.2f x\n", l / n }'
