#!/usr/bin/env bash
# run.sh - the interpreter-speed benchmark (`make bench-interp`).
#
#   LVM=build/lvm NATIVE_DIR=build/bench/interp/native \
#   TRANSLATE=build/bench/interp/translate INTERP_REPS=5 \
#   bash bench/interp/run.sh NAME...
#
# For each workload NAME (NAME.c in this folder; NAME.wasm and
# NAME.bulk.wasm committed next to it, NATIVE_DIR/NAME built by make), runs
# the native build, then lvm on NAME.wasm, then lvm on NAME.bulk.wasm (then
# node, if installed), and repeats the round INTERP_REPS times, so that a
# slow spell of the machine hits every runtime alike.  Each run's stdout
# must equal the native build's (the workload prints a checksum); any
# difference or failed run makes the script exit 1 after the report.
#
# Output: lines of exactly the form `bench: NAME VALUE UNIT`, plus comment
# lines starting with `#`:
#   interp_NAME, interp_NAME_bulk   lvm median / native median  (x)
#   interp_geomean, interp_geomean_bulk   their geometric means (x)
#   node_NAME, node_geomean         the same for node (V8), if installed
#   wasm_interp_geomean             wabt's wasm-interp, if it can run WASI
#   startup_big_rust                median wall time of `lvm run` on a
#                                   5.8 MB Rust hello world (mostly DWARF)
#   startup_hello_c                 the same for a 20 KB C hello world
#   validate_mb_per_s, translate_mb_per_s   from translate.c on big6k.wasm
#
# Times are wall-clock times of whole OS processes (bash's EPOCHREALTIME
# around each run), so lvm's start-up and node's compilation are included,
# as a user running the program would see them.  The workloads run
# 0.05-0.1 s natively, long enough that process start-up (~1 ms native,
# ~5 ms lvm) is a few percent at most.
#
# Reference figures from the interpreter notes' machine (2-vCPU EPYC, Zen
# 1): geomean of time / native time, wasm3 18.3x, WAMR fast interpreter
# 20x, node 3.8x, wasm-interp 446x (on a different set of workloads).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lvm=${LVM:?LVM: the lvm binary}
native_dir=${NATIVE_DIR:?NATIVE_DIR: the folder of the native builds}
translate=${TRANSLATE:-}
reps=${INTERP_REPS:-5}
names=("$@")
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# {====== helpers

# time_run OUTFILE CMD...: run CMD with stdout to OUTFILE; print its wall
# time in milliseconds.  A failed run is reported and recorded in
# $tmp/failed (time_run runs in a $(...) subshell: a variable would not
# survive it).
time_run() {
    local out=$1 start end status
    shift
    start=$EPOCHREALTIME
    "$@" >"$out" 2>"$tmp/stderr"
    status=$?
    if ((status)); then
        echo "# FAILED: $* (exit status $status): $(head -c 300 "$tmp/stderr")" >&2
        touch "$tmp/failed"
    fi
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", (e - s) * 1000 }'
}

# same_output NAME RUNTIME FILE: compare FILE with the native output.
same_output() {
    if ! cmp -s "$tmp/native.out" "$3"; then
        echo "# MISMATCH: $1 under $2: got '$(head -c 200 "$3")'," \
             "native printed '$(cat "$tmp/native.out")'" >&2
        failed=1
    fi
}

# median of the numbers given as arguments
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'; }

# geomean of the numbers given as arguments
geomean() {
    printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { if (n) printf "%.2f\n", exp(s / n) }'
}

# }======

# {====== which baselines can run

node_cmd=()
if command -v node >/dev/null; then
    node_cmd=(node --no-warnings)
    # Node before 20 hides node:wasi behind a flag; newer ones accept it.
    if node --experimental-wasi-unstable-preview1 -e 0 2>/dev/null; then
        node_cmd+=(--experimental-wasi-unstable-preview1)
    fi
    node_cmd+=("$here/node_wasi.mjs")
    if ! "${node_cmd[@]}" "$here/calls.wasm" 1 >/dev/null 2>&1; then
        echo "# node $(node --version) cannot run WASI programs, skipped"
        node_cmd=()
    else
        # node's own start-up is a large share of a 0.05 s workload, so
        # node_NAME overstates V8's steady-state ratio; this says how much.
        t=()
        for ((r = 0; r < 3; r++)); do
            t+=("$(time_run /dev/null "${node_cmd[@]}" "$here/calls.wasm" 1)")
        done
        echo "# node $(node --version); start-up plus calls.wasm at size 1: $(median "${t[@]}") ms"
    fi
else
    echo "# node not installed, skipped"
fi

# wabt's wasm-interp: Debian's build has no WASI ("wasi support not
# compiled in"), so check before relying on it.
wasm_interp=0
if command -v wasm-interp >/dev/null; then
    if wasm-interp --wasi "$here/calls.wasm" 1 2>&1 | grep -q 'calls: checksum'; then
        wasm_interp=1
    else
        echo "# wasm-interp $(wasm-interp --version 2>/dev/null) has no WASI support, skipped"
    fi
else
    echo "# wasm-interp not installed, skipped"
fi

echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), $(nproc) CPUs;" \
     "$reps rounds per workload, medians"

# }======

# {====== interpreter speed

lvm_ratios=() bulk_ratios=() node_ratios=() wi_ratios=()
for name in "${names[@]}"; do
    nat=() lv=() bu=() nd=()
    for ((r = 0; r < reps; r++)); do
        nat+=("$(time_run "$tmp/native.out" "$native_dir/$name")")
        lv+=("$(time_run "$tmp/lvm.out" "$lvm" run "$here/$name.wasm")")
        same_output "$name" lvm "$tmp/lvm.out"
        bu+=("$(time_run "$tmp/bulk.out" "$lvm" run "$here/$name.bulk.wasm")")
        same_output "$name" "lvm (bulk)" "$tmp/bulk.out"
        if ((${#node_cmd[@]})); then
            nd+=("$(time_run "$tmp/node.out" "${node_cmd[@]}" "$here/$name.wasm")")
            same_output "$name" node "$tmp/node.out"
        fi
    done
    n_ms=$(median "${nat[@]}")
    l_ms=$(median "${lv[@]}")
    b_ms=$(median "${bu[@]}")
    lvm_ratios+=("$(ratio "$l_ms" "$n_ms")")
    bulk_ratios+=("$(ratio "$b_ms" "$n_ms")")
    line="# $name: native $n_ms ms, lvm $l_ms ms, lvm bulk $b_ms ms"
    echo "bench: interp_$name ${lvm_ratios[-1]} x"
    echo "bench: interp_${name}_bulk ${bulk_ratios[-1]} x"
    if ((${#node_cmd[@]})); then
        d_ms=$(median "${nd[@]}")
        node_ratios+=("$(ratio "$d_ms" "$n_ms")")
        echo "bench: node_$name ${node_ratios[-1]} x"
        line+=", node $d_ms ms"
    fi
    echo "$line"
done
echo "bench: interp_geomean $(geomean "${lvm_ratios[@]}") x"
echo "bench: interp_geomean_bulk $(geomean "${bulk_ratios[@]}") x"
if ((${#node_cmd[@]})); then
    echo "bench: node_geomean $(geomean "${node_ratios[@]}") x"
fi

# wasm-interp runs ~400x native: one run per workload at size 1 (a few
# percent of the default), capped at 60 s each, against native at size 1.
if ((wasm_interp)); then
    echo "# wasm-interp: size 1, one run each (60 s cap), against native at size 1"
    for name in "${names[@]}"; do
        nat=()
        for ((r = 0; r < 3; r++)); do
            nat+=("$(time_run "$tmp/native.out" "$native_dir/$name" 1)")
        done
        w_ms=$(time_run "$tmp/wi.out" timeout 60 wasm-interp --wasi "$here/$name.wasm" 1)
        if cmp -s "$tmp/native.out" "$tmp/wi.out"; then
            wi_ratios+=("$(ratio "$w_ms" "$(median "${nat[@]}")")")
            echo "bench: wasm_interp_$name ${wi_ratios[-1]} x"
        else
            echo "# wasm-interp: $name failed or timed out, left out"
        fi
    done
    if ((${#wi_ratios[@]})); then
        echo "bench: wasm_interp_geomean $(geomean "${wi_ratios[@]}") x"
    fi
fi

# }======

# {====== start-up and translation

startup() {
    local file=$1 times=() r
    for ((r = 0; r < 11; r++)); do
        times+=("$(time_run "$tmp/startup.out" "$lvm" run "$file")")
    done
    median "${times[@]}"
}
echo "bench: startup_big_rust $(startup "$here/big_rust.wasm") ms"
echo "# big_rust.wasm: $(wc -c <"$here/big_rust.wasm") bytes, mostly DWARF; median of 11 runs of lvm run"
hello="$here/../../examples/hello.wasm"
if [[ -f $hello ]]; then
    echo "bench: startup_hello_c $(startup "$hello") ms"
fi
if [[ -n $translate ]]; then
    "$translate" --reps 5 "$here/big6k.wasm" || failed=1
fi

# }======

[[ -e $tmp/failed ]] && failed=1
if ((failed)); then
    echo "# bench-interp: FAILED (see the messages above)" >&2
fi
exit "$failed"
