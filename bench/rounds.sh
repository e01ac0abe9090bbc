# rounds.sh - sourced by bench/lunatic/run.sh and bench/lunatic14/run.sh:
# figures measured over several rounds, each lvm's then Erlang's, and the
# median of the rounds for each.  This machine's speed drifts by 20% and
# more over tens of seconds; alternating puts both sides in the same
# drift.  The caller sets `round` (shown on each line) while it calls add.
#
#   add NAME VALUE UNIT    keep one round's value, print it
#   median NAME            the median of NAME's values so far
declare -A all
add() { all[$1]="${all[$1]:-} $2"; echo "bench: $1 $2 $3 (round $round)"; }
median() { tr ' ' '\n' <<<"${all[$1]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
