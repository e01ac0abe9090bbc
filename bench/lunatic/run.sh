#!/usr/bin/env bash
# run.sh - the lunatic API measured from a C guest, with Erlang beside it
# (`make bench-lunatic`).  Usage: run.sh LVM [N_IDLE]
#
# Figures, each on one worker (lvm --workers 1, erl +S 1):
#   guest_spawn_join   ns to spawn an empty child and join it, one at a
#                      time (Erlang: spawn_monitor + 'DOWN')
#   guest_batch_join   ns per child to spawn 100,000 empty children, then
#                      join them all (Erlang: 100,000 spawn_monitor, then
#                      every 'DOWN')
#   guest_wake_parked  median ns from a message sent to a child parked
#                      in receive for 50 ms to its answer (Erlang: the
#                      same with ! and receive)
#   guest_park         ns per child to spawn N_IDLE children that each
#                      report in and block in receive, until the last
#                      has reported (Erlang: the same, reporting through
#                      an atomic counter)
#   guest_roundtrip    ns for a message to a child and its answer back
#                      (Erlang: ping-pong between two processes)
#   guest_idle_proc    bytes of resident memory per process with N_IDLE
#                      (default 1,000,000) children blocked in receive:
#                      lvm's VmHWM when all are blocked, minus its VmRSS
#                      before the first spawn, over N_IDLE (Erlang: the
#                      same delta with a million processes in receive)
# Lines have the form `bench: NAME VALUE UNIT`; a final table puts each
# lvm figure beside Erlang's with the ratio lvm / Erlang (below 1: lvm is
# faster or smaller).  Targets: batch join and park at most 1 and 1.5
# times Erlang's, an idle process at most 6 KiB, a wake-up at most 2 us.
# Erlang is skipped with a comment if not installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lvm=${1:?usage: run.sh LVM [N_IDLE [FOOTPRINT]]}
n_idle=${2:-1000000}
footprint=${3:-}
guest=$here/guest.wasm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A fig

# Record and print a `bench:` line.
note() {
    fig[$1]=$2
    echo "bench: $1 $2 $3"
}

value_of() { awk -v name="$1" '$1 == "bench:" && $2 == name { print $3 }'; }

# {====== lvm

# The short timed figures: three rounds, lvm then Erlang, and the median
# for each side (bench/rounds.sh).  Erlang's single mode measures more
# than these; only these are kept.
rounds=3
source "$here/../rounds.sh"
have_erl=false
if command -v erl >/dev/null && command -v erlc >/dev/null; then
    erlc -o "$tmp" "$here/../baseline/procs.erl"
    have_erl=true
fi
for round in $(seq 1 $rounds); do
    add guest_spawn_join "$("$lvm" run --workers 1 "$guest" spawn_join 100000 | value_of guest_spawn_join)" ns
    add guest_batch_join "$("$lvm" run --workers 1 "$guest" batch 100000 | value_of guest_batch_join)" ns
    add guest_roundtrip "$("$lvm" run --workers 1 "$guest" roundtrip 200000 | value_of guest_roundtrip)" ns
    add guest_wake_parked "$("$lvm" run --workers 1 "$guest" wake 1000 | value_of guest_wake_parked)" ns
    if $have_erl; then
        out=$(erl -noshell -pa "$tmp" +S 1 -s procs main single)
        for f in erlang_spawn_join erlang_batch_join erlang_pingpong erlang_wake_parked; do
            add "$f" "$(value_of "$f" <<<"$out")" ns
        done
    fi
done
for f in guest_spawn_join guest_batch_join guest_roundtrip guest_wake_parked \
         erlang_spawn_join erlang_batch_join erlang_pingpong erlang_wake_parked; do
    [ -n "${all[$f]:-}" ] && note "$f" "$(median "$f")" ns
done

# The idle figure talks to the guest: it prints "base" and waits for "go"
# (so its memory can be read before any child exists), spawns, prints
# "ready ..." once every child is blocked and waits for "done".  Sets
# idle_line and idle_bytes (per process).  Usage: idle_run N [OPTION...]
idle_run() {
    local n=$1 pid line base_kb hwm_kb
    shift
    coproc IDLE { exec "$lvm" run --workers 1 "$@" "$guest" idle "$n"; }
    pid=$IDLE_PID
    read -r line <&"${IDLE[0]}"
    [ "$line" = base ] || { echo "run.sh: unexpected guest output: $line" >&2; exit 1; }
    base_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    echo go >&"${IDLE[1]}"
    read -r line <&"${IDLE[0]}"
    hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    echo "# $n processes blocked in receive${*:+ ($*)}: $line, lvm peak RSS $((hwm_kb / 1024)) MiB"
    echo done >&"${IDLE[1]}"
    wait "$pid"
    idle_line=$line
    idle_bytes=$(((hwm_kb - base_kb) * 1024 / n))
}

idle_run "$n_idle"
note guest_idle_proc "$idle_bytes" bytes
note guest_park "$(awk '{ print $4 }' <<<"$idle_line")" ns
# The same without packing, for the breakdown below.
n_unpacked=$((n_idle < 100000 ? n_idle : 100000))
idle_run "$n_unpacked" --pack-after=0
note guest_idle_proc_unpacked "$idle_bytes" bytes

# }======

# {====== Erlang

if $have_erl; then
    out=$(erl -noshell -pa "$tmp" +S 1 +P 2000000 -s procs main idle "$n_idle")
    note erlang_idle_proc "$(awk '$1 == "bench:" && $2 ~ /^erlang_idle_proc_/ { print $3 }' <<<"$out")" bytes
    note erlang_park "$(awk '$1 == "bench:" && $2 ~ /^erlang_park_/ { print $3 }' <<<"$out")" ns
else
    echo "# erlang not installed, skipped"
fi

# }======

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "#"
printf '# %-28s %12s %12s %8s\n' figure lvm erlang ratio
for pair in "spawn + join (ns):guest_spawn_join:erlang_spawn_join" \
            "spawn all, join all (ns):guest_batch_join:erlang_batch_join" \
            "message round trip (ns):guest_roundtrip:erlang_pingpong" \
            "wake a parked one (ns):guest_wake_parked:erlang_wake_parked" \
            "spawn + park, per proc (ns):guest_park:erlang_park" \
            "idle process (bytes):guest_idle_proc:erlang_idle_proc"; do
    IFS=: read -r label ours theirs <<<"$pair"
    e=${fig[$theirs]:-}
    printf '# %-28s %12s %12s %8s\n' "$label" "${fig[$ours]}" "${e:--}" "$([ -n "$e" ] && ratio "${fig[$ours]}" "$e" || echo -)"
done

# Where a parked process's bytes go: linear memory (what packing gives
# back: the same processes measured with --pack-after=0), and lvm's own
# structures by their sizes (FOOTPRINT, bench/lunatic/footprint.c); the
# rest is malloc's headers and rounding, the process's channel end and
# its packed bytes.
echo "#"
echo "# an idle process, $n_idle packed: ${fig[guest_idle_proc]} bytes;" \
     "$n_unpacked not packed: ${fig[guest_idle_proc_unpacked]} bytes" \
     "(linear memory pages: $((fig[guest_idle_proc_unpacked] - fig[guest_idle_proc])))"
if [ -n "$footprint" ]; then
    sum=0
    parts=""
    while read -r _ name value _; do
        parts="$parts ${name#footprint_} $value,"
        sum=$((sum + value))
    done < <("$footprint" "$guest")
    echo "# lvm's structures:${parts% ,} = $sum bytes;" \
         "the rest of the packed figure: $((fig[guest_idle_proc] - sum))"
fi
