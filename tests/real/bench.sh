#!/usr/bin/env bash
# bench.sh - bench-real: each real program on a heavier workload under lvm
# and natively, alternating, REAL_REPS times (odd: the median is one
# sample), then wasm3 and WAMR's iwasm on the same .wasm when ANCHORS_DIR
# has them.  Prints
#   bench: real_NAME_lvm S s    bench: real_NAME_native S s
#   bench: real_NAME R x        (lvm median / native median)
#   bench: real_NAME_wasm3 R x  bench: real_NAME_iwasm R x   (when present)
# and the geometric mean of each ratio.  Every run's stdout must equal the
# native one's, or the benchmark fails.
#
# Environment (mk/real.mk sets it): LVM, REAL_DIR (native/ and wasm/),
# REAL_WORK (the workloads, and the working directory), REAL_REPS,
# ANCHORS_DIR.
set -euo pipefail
: "${LVM:?}" "${REAL_DIR:?}" "${REAL_WORK:?}"
REPS=${REAL_REPS:-3}
LVM=$(realpath "$LVM"); REAL_DIR=$(realpath "$REAL_DIR")
WASM3=${ANCHORS_DIR:-}/wasm3; IWASM=${ANCHORS_DIR:-}/iwasm
[ -n "${ANCHORS_DIR:-}" ] && [ -x "$WASM3" ] && WASM3=$(realpath "$WASM3") || WASM3=
[ -n "${ANCHORS_DIR:-}" ] && [ -x "$IWASM" ] && IWASM=$(realpath "$IWASM") || IWASM=
cd "$REAL_WORK"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The workloads: NAME, program, stdin file (or -), arguments.
workloads=(
  "sqlite|sqlite_run|bench.sql|"
  "lua|lua|-|bench.lua"
  "zstd|zstd_run|-|roundtrip 10000000 1 3 -1"
)

# seconds CMD...: run CMD with stdin from $input, stdout to $tmp/out; print
# the wall time in seconds.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" < "$input" > "$tmp/out"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
geo_lvm=(); geo_wasm3=(); geo_iwasm=()

# other NAME RUNNER...: median time of another interpreter, checked too.
other() {
  local who=$1; shift
  local times=() i
  for ((i = 0; i < REPS; i++)); do
    times+=("$(seconds "$@" 2> "$tmp/err" || echo fail)")
    if [ "${times[-1]}" = fail ] || ! cmp -s "$tmp/out" "$tmp/native.out"; then
      echo "# real_${name}_$who: skipped, it did not run the workload as the native build does ($(head -c 200 "$tmp/err" | head -1))"
      return 0
    fi
  done
  local m; m=$(median "${times[@]}")
  echo "bench: real_${name}_$who $(ratio "$m" "$native_median") x"
  eval "geo_$who+=(\$(ratio \"\$m\" \"\$native_median\"))"
}

for w in "${workloads[@]}"; do
  IFS='|' read -r name prog stdin args <<< "$w"
  input=/dev/null; [ "$stdin" != - ] && input=$stdin
  wasm=$REAL_DIR/wasm/$prog.wasm
  lvm_t=(); native_t=()
  for ((i = 0; i < REPS; i++)); do
    # shellcheck disable=SC2086
    lvm_t+=("$(seconds "$LVM" run --dir . "$wasm" $args)"); cp "$tmp/out" "$tmp/lvm.out"
    # shellcheck disable=SC2086
    native_t+=("$(seconds "$REAL_DIR/native/$prog" $args)"); cp "$tmp/out" "$tmp/native.out"
    cmp -s "$tmp/lvm.out" "$tmp/native.out" || { echo "real_$name: lvm's output differs from native" >&2; exit 1; }
  done
  lvm_median=$(median "${lvm_t[@]}"); native_median=$(median "${native_t[@]}")
  printf 'bench: real_%s_lvm %.3f s\n' "$name" "$lvm_median"
  printf 'bench: real_%s_native %.3f s\n' "$name" "$native_median"
  echo "bench: real_$name $(ratio "$lvm_median" "$native_median") x"
  geo_lvm+=("$(ratio "$lvm_median" "$native_median")")
  # shellcheck disable=SC2086
  [ -n "$WASM3" ] && other wasm3 "$WASM3" --stack-size 1048576 "$wasm" $args
  # shellcheck disable=SC2086
  [ -n "$IWASM" ] && other iwasm "$IWASM" --dir=. --stack-size=1048576 "$wasm" $args
done

geomean() { printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { if (n) printf "%.2f", exp(s / n) }'; }
echo "bench: real_geomean $(geomean "${geo_lvm[@]}") x"
[ ${#geo_wasm3[@]} -gt 0 ] && echo "bench: real_geomean_wasm3 $(geomean "${geo_wasm3[@]}") x"
[ ${#geo_iwasm[@]} -gt 0 ] && echo "bench: real_geomean_iwasm $(geomean "${geo_iwasm[@]}") x"
exit 0
