#!/usr/bin/env bash
# diff.sh - differential check of lvm's two interpreter builds
# (`make bench-diff`).
#
#   NATIVE_DIR=build/bench/interp/native \
#   bash bench/interp/diff.sh LVM_THREADED LVM_SWITCH -- NAME...
#
# Runs every workload at a small size (argument 1: a few percent of the
# benchmark's work) natively and under both lvm builds, on both the plain
# and the -mbulk-memory module, and compares the printed checksums.  Prints
# one line per workload, `diff: NAME ok CHECKSUM` or `diff: NAME MISMATCH
# ...`, and exits 1 if any output differs or any run fails.  The computed-
# goto build and the switch build share every handler body (exec/interp.c),
# so a mismatch points at the dispatch machinery or at undefined behaviour
# that the two compilations treat differently.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
native_dir=${NATIVE_DIR:?NATIVE_DIR: the folder of the native builds}
threaded=$1 switch=$2
shift 2
[[ ${1:-} == -- ]] && shift
size=${DIFF_SIZE:-1}
failed=0

for name in "$@"; do
    want=$("$native_dir/$name" "$size" 2>&1) || want="native failed: $want"
    bad=()
    for lvm in "$threaded" "$switch"; do
        for wasm in "$name.wasm" "$name.bulk.wasm"; do
            got=$("$lvm" run "$here/$wasm" "$size" 2>&1) || got="exit $?: $got"
            [[ $got == "$want" ]] || bad+=("$lvm $wasm: '${got:0:200}'")
        done
    done
    if ((${#bad[@]})); then
        echo "diff: $name MISMATCH: native '${want:0:200}'; ${bad[*]}"
        failed=1
    else
        echo "diff: $name ok ${want##* }"
    fi
done
exit "$failed"
