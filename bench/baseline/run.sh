#!/usr/bin/env bash
# run.sh - measure lvm's green-process figures on Erlang and Go, for
# comparison with lvm's own in the same run (`make bench-baseline`).
#
# Prints lines of exactly the form `bench: erlang_NAME VALUE UNIT` and
# `bench: go_NAME VALUE UNIT`, plus comment lines starting with `#`.  A
# toolchain that is not installed is skipped with a comment; the script
# fails only if a program fails.  About a minute on a 2-core machine, most
# of it in the million-process runs.
#
# How each figure is taken:
#   - one scheduler (erl +S 1, GOMAXPROCS=1), except spawn_throughput_all,
#     which gets the default: one scheduler / P per CPU;
#   - the timed figures are medians of repetitions inside one OS process
#     (see procs.erl and procs.go);
#   - idle_proc_* and start_finish_1m are medians over BASELINE_SAMPLES
#     fresh OS processes, one sample each: the RSS delta is only meaningful
#     in a process that has not freed (and kept) that memory before.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
samples=${BASELINE_SAMPLES:-3}   # odd, so that the median is one sample
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs "$@" $samples times and prints, for each figure, the line with the
# median value; lines that are not figures pass through.
median_of_runs() {
    local i
    for ((i = 0; i < samples; i++)); do
        "$@"
    done | awk '
        $1 == "bench:" {
            n = ++count[$2]
            value[$2, n] = $3
            unit[$2] = $4
            if (n == 1) names[++k] = $2
            next
        }
        { print }
        END {
            for (i = 1; i <= k; i++) {
                name = names[i]
                n = count[name]
                for (a = 2; a <= n; a++) {    # insertion sort, numeric
                    x = value[name, a]
                    for (b = a - 1; b >= 1 && value[name, b] + 0 > x + 0; b--)
                        value[name, b + 1] = value[name, b]
                    value[name, b + 1] = x
                }
                print "bench: " name " " value[name, int((n + 1) / 2)] " " unit[name]
            }
        }'
}

SECONDS=0

# {====== Erlang

if command -v erl >/dev/null && command -v erlc >/dev/null; then
    erlc -o "$tmp" "$here/procs.erl"
    erl_run() { erl -noshell -pa "$tmp" "$@"; }
    echo "# erlang/OTP $(erl_run -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')"
    # +P 2000000: the default limit is 262 144 processes.
    erl_run +S 1 -s procs main single
    erl_run -s procs main all
    median_of_runs erl_run +S 1 +P 2000000 -s procs main idle 100000
    median_of_runs erl_run +S 1 +P 2000000 -s procs main idle 1000000
else
    echo "# erlang not installed, skipped"
fi

# }======

# {====== Go

if command -v go >/dev/null; then
    # Standard library only: never reach the network.  The build cache
    # goes to a temporary folder if the usual one is not writable.
    export GOPROXY=off GOTOOLCHAIN=local GOFLAGS=
    for var in GOCACHE GOPATH; do
        dir=$(go env "$var" 2>/dev/null || true)
        if [ -z "$dir" ] || [ "$dir" = off ] || ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then
            export "$var=$tmp/$var"
        fi
    done
    go build -o "$tmp/procs" "$here/procs.go"
    echo "# $(go version | cut -d' ' -f3), $(nproc) CPUs"
    GOMAXPROCS=1 "$tmp/procs" single
    (unset GOMAXPROCS && "$tmp/procs" all)
    median_of_runs env GOMAXPROCS=1 "$tmp/procs" idle 100000
    median_of_runs env GOMAXPROCS=1 "$tmp/procs" idle 1000000
else
    echo "# go not installed, skipped"
fi

# }======

echo "# baselines took ${SECONDS} s"
