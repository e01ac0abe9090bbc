#!/usr/bin/env bash
# run.sh - the lunatic 0.14 API measured from a C guest, with Erlang
# beside it (`make bench-lunatic14`).  Usage: run.sh LVM [N_MONITORED]
#
# Four figures, each on one worker (lvm --workers 1, erl +S 1):
#   l14_spawn_down    ns to spawn an empty child, monitor it and receive
#                     its DOWN (Erlang: spawn_monitor + 'DOWN')
#   l14_request       ns per request/response round trip through the
#                     mailbox, send_receive_skip_search (Erlang: ping-pong)
#   l14_restart       ns per restart of a child that crashes at once: a
#                     supervisor receiving LinkDied and spawning again
#                     (Erlang: a one_for_one supervisor's restart)
#   l14_monitored     ms until the last DOWN of N_MONITORED (default
#                     100,000) monitored children that all exit
# Lines have the form `bench: NAME VALUE UNIT`, each round's and then the
# medians; a final table puts each lvm median beside Erlang's with the
# ratio lvm / Erlang (below 1: lvm is faster).  Erlang is skipped with a comment if not installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lvm=${1:?usage: run.sh LVM [N_MONITORED]}
n_mon=${2:-100000}
guest=$here/guest.wasm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A fig
note() {
    fig[$1]=$2
    echo "bench: $1 $2 $3"
}
value_of() { awk -v name="$1" '$1 == "bench:" && $2 == name { print $3 }'; }

# Three rounds, lvm's four figures then Erlang's, and the median for each
# side (bench/rounds.sh).
rounds=3
source "$here/../rounds.sh"
have_erl=false
if command -v erl >/dev/null && command -v erlc >/dev/null; then
    erlc -o "$tmp" "$here/procs14.erl"
    have_erl=true
fi
for round in $(seq 1 $rounds); do
    add l14_spawn_down "$("$lvm" run --workers 1 "$guest" spawn_down 20000 | value_of l14_spawn_down)" ns
    add l14_request "$("$lvm" run --workers 1 "$guest" request 100000 | value_of l14_request)" ns
    add l14_restart "$("$lvm" run --workers 1 "$guest" restart 20000 | value_of l14_restart)" ns
    add l14_monitored "$("$lvm" run --workers 1 "$guest" monitored "$n_mon" | value_of l14_monitored)" ms
    if $have_erl; then
        out=$(erl -noshell -pa "$tmp" +S 1 -s procs14 main)
        for f in erlang_spawn_monitor:ns erlang_pingpong:ns erlang_restart:ns erlang_monitored:ms; do
            add "${f%%:*}" "$(value_of "${f%%:*}" <<<"$out")" "${f##*:}"
        done
    fi
done
$have_erl || echo "# erlang not installed, skipped"
for f in l14_spawn_down:ns l14_request:ns l14_restart:ns l14_monitored:ms \
         erlang_spawn_monitor:ns erlang_pingpong:ns erlang_restart:ns erlang_monitored:ms; do
    [ -n "${all[${f%%:*}]:-}" ] && note "${f%%:*}" "$(median "${f%%:*}")" "${f##*:}"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "#"
printf '# %-44s %10s %10s %7s\n' "figure (one worker)" lvm erlang ratio
for pair in "spawn + DOWN (ns):l14_spawn_down:erlang_spawn_monitor" \
            "request/response round trip (ns):l14_request:erlang_pingpong" \
            "supervisor restart (ns):l14_restart:erlang_restart" \
            "$n_mon monitored children, last DOWN (ms):l14_monitored:erlang_monitored"; do
    IFS=: read -r label ours theirs <<<"$pair"
    e=${fig[$theirs]:-}
    printf '# %-44s %10s %10s %7s\n' "$label" "${fig[$ours]}" "${e:--}" \
        "$([ -n "$e" ] && ratio "${fig[$ours]}" "$e" || echo -)"
done
