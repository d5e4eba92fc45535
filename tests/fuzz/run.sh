#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/fuzz/run.sh SECONDS NAME... - run each fuzzer for SECONDS, one at a
# time (called by `make fuzz`; needs a --enable-fuzzing build).
#
# For each NAME, in $builddir/fuzz-work/NAME/:
#   seeds/      written by tests/fuzz/replay_NAME --write-seeds
#   corpus/     what libFuzzer found interesting (kept between runs)
#   crash-*, timeout-*, leak-*   inputs that broke something
#   log         libFuzzer's output
# The regression corpus $srcdir/tests/fuzz/corpus/NAME/ is read too.  Copy
# a crash there (and fix the bug) to make `make check` replay it.
#
# Environment: FUZZ_JOBS (default 1), FUZZ_ARGS (more libFuzzer options).
set -u
secs=${1:?usage: run.sh SECONDS NAME...}
shift
srcdir=${srcdir:-.}
builddir=${builddir:-.}
jobs=${FUZZ_JOBS:-1}
jobsarg=
# parallel jobs log to fuzz-N.log in the current directory
[ "$jobs" -gt 1 ] && jobsarg="-jobs=$jobs -workers=$jobs"
status=0
for name in "$@"; do
	w="$builddir/fuzz-work/$name"
	mkdir -p "$w/corpus" "$w/seeds"
	"$builddir/tests/fuzz/replay_$name" --write-seeds "$w/seeds" >/dev/null ||
		{ echo "$name: cannot write seeds" >&2; status=1; continue; }
	reg="$srcdir/tests/fuzz/corpus/$name"
	[ -d "$reg" ] || reg=
	t0=$(date +%s)
	before=$(ls "$w" | grep -c '^\(crash\|timeout\|leak\|oom\)-')
	# -timeout: no input may take more than 10 s (harnesses never wait
	# for real); -rss_limit_mb: a leak or runaway allocation is a finding
	"$builddir/tests/fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 $jobsarg \
		-artifact_prefix="$w/" -print_final_stats=1 ${FUZZ_ARGS:-} \
		"$w/corpus" "$w/seeds" $reg >"$w/log" 2>&1
	rc=$?
	t1=$(date +%s)
	after=$(ls "$w" | grep -c '^\(crash\|timeout\|leak\|oom\)-')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$w/log" | tail -1)
	echo "$name: $((t1 - t0))s, ${execs:-?} execs, ${cov:-cov: ?}, $((after - before)) new finding(s), exit $rc"
	if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
		status=1
		grep -a -m1 -A3 'ERROR\|property violated' "$w/log" >&2
	fi
done
exit $status
