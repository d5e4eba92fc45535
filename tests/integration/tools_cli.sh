#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The pvio command's user interface, without any device: usage errors are
# one line on stderr with exit status 2, failures one clear line with exit
# status 1, --help goes to stdout with status 0.
set -u
: "${PVIO:?run from make check (PVIO names the pvio binary)}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# every command bounded: a hang fails the test instead of make check
printf '#!/bin/sh\nexec timeout -k 5 60 "%s" "$@"\n' "$PVIO" >"$tmp/pvio"
chmod +x "$tmp/pvio"
PVIO=$tmp/pvio
fails=0
n=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# expect STATUS REGEX CMD...: CMD exits with STATUS, prints nothing on
# stdout and exactly one line on stderr, matching the extended REGEX.
expect() {
	want=$1 re=$2
	shift 2
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$got" != "$want" ]; then
		fail "'$*' exited $got, expected $want; stderr: $(cat "$tmp/err")"
	elif [ -s "$tmp/out" ]; then
		fail "'$*' wrote to stdout: $(head -c 200 "$tmp/out")"
	elif [ "$lines" != 1 ]; then
		fail "'$*' wrote $lines lines on stderr, expected one: $(cat "$tmp/err")"
	elif ! grep -Eq -- "$re" "$tmp/err"; then
		fail "'$*': stderr '$(cat "$tmp/err")' does not match /$re/"
	else
		echo "ok: $* -> $got: $(cat "$tmp/err")"
	fi
}

# help CMD...: usage on stdout, nothing on stderr, status 0.
help() {
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != 0 ] || [ -s "$tmp/err" ] || ! grep -q '^usage: pvio' "$tmp/out"; then
		fail "'$*' should print usage on stdout and exit 0 (got $got; stderr: $(cat "$tmp/err"))"
	else
		echo "ok: $* prints usage"
	fi
}

# ---- the command itself
expect 2 'pvio: expected a COMMAND; run `pvio --help`' "$PVIO"
expect 2 "pvio: unknown command 'frobnicate'" "$PVIO" frobnicate
help "$PVIO" --help
help "$PVIO" help
n=$((n + 1))
if "$PVIO" --version | grep -Eq '^pvio [0-9]+\.[0-9]+\.[0-9]+ '; then
	echo "ok: pvio --version"
else
	fail "pvio --version does not print 'pvio X.Y.Z ...'"
fi

# ---- every subcommand has --help; the list comes from pvio --help itself
cmds=$("$PVIO" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$cmds" ] || fail "pvio --help lists no commands"
for c in $cmds; do
	help "$PVIO" "$c" --help
done

# ---- pvio info: usage errors
expect 2 '^pvio info: expected a DEVICE address; run `pvio info --help`$' "$PVIO" info
expect 2 '^pvio info: expected exactly one DEVICE' "$PVIO" info a:b c:d
expect 2 "^pvio info: unknown option '--bogus'" "$PVIO" info --bogus x:y
expect 2 "^pvio info: unknown option '-z'" "$PVIO" info -z x:y

# ---- unknown address schemes: one line naming the address and what this
# pvio does understand
expect 1 "^pvio info: cannot open 'nosuch:/tmp/x': unknown address type; this pvio understands " \
	"$PVIO" info nosuch:/tmp/x
expect 1 "^pvio info: cannot open 'no-colon-at-all': unknown address type" \
	"$PVIO" info no-colon-at-all
expect 1 "^pvio info: cannot open 'nosuch:x': unknown address type" \
	"$PVIO" info --json nosuch:x

# ---- back ends in this build: a host that is not there is one line
# naming where pvio looked
for scheme in $("$PVIO" --version | sed -n 's/.*(device addresses: \(.*\))$/\1/p' | tr -d ','); do
	case $scheme in
	vhost-user) addr="vhost-user:$tmp/none.sock?class=blk" ;;
	sim-hyperv) addr="sim-hyperv:$tmp/none.sock/storvsc0" ;;
	sim-xen) addr="sim-xen:$tmp/none.sock/vbd/0" ;;
	*) continue ;;
	esac
	expect 1 "^pvio info: .*$tmp/none.sock" "$PVIO" info "$addr"
done

# ---- pvio sim
expect 2 '^pvio sim: expected a KIND of simulated host \(.*ctl\); run `pvio sim --help`$' "$PVIO" sim
expect 2 "^pvio sim: unknown simulated host 'nosuch'" "$PVIO" sim nosuch
expect 2 '^usage: pvio sim ctl SOCKET COMMAND' "$PVIO" sim ctl
# every simulated host kind this pvio has answers --help
for k in $("$PVIO" sim --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'); do
	help "$PVIO" sim "$k" --help
done
expect 1 "^pvio sim ctl: cannot connect to $tmp/none.sock: No such file or directory" \
	"$PVIO" sim ctl "$tmp/none.sock" status

echo "$n checks, $fails failed"
[ "$fails" = 0 ]
