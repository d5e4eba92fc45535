# SPDX-License-Identifier: MIT
# tests/integration/virt_lib.sh - helpers for the `pvio virt` shell tests
# (sourced).  Every command runs under `timeout`, so no test can hang.
PVIO=${PVIO:-./pvio}
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
FAILS=0
PASSES=0
T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-virt-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

ok() { PASSES=$((PASSES + 1)); echo "ok: $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

# run EXPECTED_STATUS CMD... : stdout in $T/out, stderr in $T/err
run() {
	want=$1
	shift
	timeout 120 "$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ]; then
		bad "exit $got, not $want: $*"
		sed 's/^/  stderr: /' "$T/err" | head -5
		return 1
	fi
	return 0
}

# the command failed with exactly one line on stderr containing WORDS
one_line() { # what words
	n=$(wc -l <"$T/err")
	if [ "$n" != 1 ]; then
		bad "$1: $n lines on stderr, not one"
		sed 's/^/  stderr: /' "$T/err" | head -5
		return 1
	fi
	if ! grep -q -- "$2" "$T/err"; then
		bad "$1: stderr lacks '$2': $(cat "$T/err")"
		return 1
	fi
	ok "$1"
}

has() { # what file pattern
	if grep -q -- "$3" "$2"; then ok "$1"; else bad "$1: no '$3' in output"; sed 's/^/  | /' "$2" | head -20; fi
}

finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}
