# mk/baseline.mk - Erlang and Go baselines for lvm's green-process
# benchmarks, included by the GNUmakefile.
#
#   make bench-baseline   run bench/baseline/run.sh: the same figures as
#                         lvm's, measured on BEAM (erl) and in Go, each
#                         skipped with a `#` comment if not installed
#                         (Debian: erlang-base, golang-go).  About a minute.
#
# BASELINE_SAMPLES: fresh OS processes per memory figure (odd; median).

BASELINE_SCRIPT  := bench/baseline/run.sh
BASELINE_SAMPLES ?= 3

.PHONY: bench-baseline
bench-baseline:
	@BASELINE_SAMPLES=$(BASELINE_SAMPLES) bash $(BASELINE_SCRIPT)
