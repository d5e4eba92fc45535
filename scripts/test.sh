#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/test.sh - the whole test suite, from a clean clone, as CI runs it
# (.ci/run calls exactly this).  Run as root on Debian 12:
#
#     sudo scripts/test.sh
#
# It installs what is missing (scripts/deps.sh), regenerates the build
# system, then builds out of tree under build-test/ and runs, in order:
#
#   gcc    --enable-werror                          make check, make check-xen
#                                                   (a real Xen under QEMU),
#                                                   make distcheck
#   clang  --enable-werror                          make check
#   asan   gcc --enable-sanitizers=address,undefined make check
#
# Every step's output goes to build-test/<build>/<target>.out; a failing
# step prints the tail of the failing tests' logs.  Exit status 0 only if
# every step passed.  Options:
#
#   --only NAME[,NAME]   run only these builds (gcc, clang, asan)
#   --keep               keep earlier build directories (default: start clean)
set -u

PVIO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$PVIO_ROOT/scripts/lib.sh"

only=""
keep=no
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=${2:?--only wants build names}; shift 2 ;;
	--keep) keep=yes; shift ;;
	-h|--help) sed -n '3,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1'; see --help" ;;
	esac
done

# Sanitizer errors are fatal and show where they happened; the settings are
# inherited by everything the tests start (simulated hosts included).
SAN_ENV="ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:print_summary=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"

# ---------------------------------------------------------------- the plan
# One line per build: NAME COMPILER "CONFIGURE ARGS" TARGET...  A new make
# target (e.g. check-xen) is a word added to a line; a new build is a line.
plan() {
	build gcc   gcc   "--enable-werror"                        check check-xen distcheck
	build clang clang "--enable-werror"                        check
	build asan  gcc   "--enable-sanitizers=address,undefined"  check
}

# ---------------------------------------------------------------- machinery
BASE=$PVIO_ROOT/build-test
results=()
failed=0
t_start=$(date +%s)

elapsed() {
	local s=$(( $(date +%s) - $1 ))
	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# The logs of the tests that failed in build dir $1, tails only.
show_failed_tests() {
	local dir=$1 trs log n=0
	while IFS= read -r trs; do
		if grep -qE '^:test-result: (FAIL|XPASS|ERROR)' "$trs"; then
			log=${trs%.trs}.log
			n=$((n + 1))
			say "---------- ${log#"$dir"/} (last 40 lines)"
			tail -n 40 "$log"
		fi
	done < <(find "$dir" -name '*.trs' -newer "$dir/.step-start" 2>/dev/null | sort)
	if [ "$n" = 0 ]; then
		return 1
	fi
	return 0
}

# ", N tests, M skipped" from the last test-suite summary in a make log
test_counts() {
	local total skip
	total=$(sed -n 's/^# TOTAL: *//p' "$1" | tail -n 1)
	skip=$(sed -n 's/^# SKIP: *//p' "$1" | tail -n 1)
	[ -n "$total" ] && printf ', %s tests, %s skipped' "$total" "${skip:-0}"
}

# step NAME DIR ENV TARGET [MAKE ARGS...]
step() {
	local name=$1 dir=$2 env=$3 target=$4 out t0 rc
	shift 4
	out=$dir/$target.out
	t0=$(date +%s)
	touch "$dir/.step-start"
	printf '%-6s %-12s ' "$name" "$target"
	# shellcheck disable=SC2086
	env $env make -C "$dir" -j2 "$target" "$@" >"$out" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		say "ok      ($(elapsed "$t0"))$(test_counts "$out")"
		results+=("ok      $name $target ($(elapsed "$t0"))$(test_counts "$out")")
		# a skipped test is not a silent one: name it
		grep -E '^SKIP: ' "$out" | sed 's/^/        /'
		return 0
	fi
	say "FAILED  ($(elapsed "$t0")); log: ${out#"$PVIO_ROOT"/}"
	results+=("FAILED  $name $target ($(elapsed "$t0")): ${out#"$PVIO_ROOT"/}")
	failed=$((failed + 1))
	# make distcheck runs its own build under $dir/pvio-*/_build: found too
	show_failed_tests "$dir" || {
		say "---------- ${out#"$PVIO_ROOT"/} (last 40 lines)"
		tail -n 40 "$out"
	}
	say "----------"
	return 1
}

# build NAME COMPILER "CONFIGURE ARGS" TARGET...
build() {
	local name=$1 cc=$2 conf=$3 dir env="" t
	shift 3
	if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then
		return 0
	fi
	dir=$BASE/$name
	[ "$keep" = yes ] || rm -rf "$dir"
	mkdir -p "$dir"
	printf '%-6s %-12s ' "$name" "configure"
	# shellcheck disable=SC2086
	if ! (cd "$dir" && CC=$cc "$PVIO_ROOT/configure" $conf >configure.out 2>&1); then
		say "FAILED; log: ${dir#"$PVIO_ROOT"/}/configure.out"
		tail -n 20 "$dir/configure.out"
		results+=("FAILED  $name configure")
		failed=$((failed + 1))
		return 1
	fi
	say "ok"
	case $conf in *sanitizers*) env=$SAN_ENV ;; esac
	step "$name" "$dir" "$env" all || return 1
	for t in "$@"; do
		if [ "$t" = distcheck ]; then
			# the tarball's own build, with the same compiler and
			# warnings as errors
			step "$name" "$dir" "$env" distcheck \
				DISTCHECK_CONFIGURE_FLAGS="CC=$cc $conf" || true
		else
			step "$name" "$dir" "$env" "$t" || true
		fi
	done
}

# ---------------------------------------------------------------- run
say "pvio test suite: $(uname -srm), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
pvio_deps
say "gcc: $(gcc --version | head -n 1)"
say "clang: $(clang --version | head -n 1)"
(cd "$PVIO_ROOT" && autoreconf -fi) >"$PVIO_ROOT/autoreconf.log" 2>&1 ||
	{ tail -n 30 "$PVIO_ROOT/autoreconf.log"; die "autoreconf failed"; }
plan

say ""
say "summary ($(elapsed "$t_start") in all):"
for r in "${results[@]}"; do
	say "  $r"
done
if [ "$failed" != 0 ]; then
	say "$failed step(s) FAILED"
	exit 1
fi
say "all steps passed"
exit 0
