#!/bin/sh
# SPDX-License-Identifier: MIT
# (functions here are called through wait_for and traps)
# shellcheck disable=SC2317
#
# The command line of `pvio sim virtio`: --help, one-line errors for bad
# arguments, the ready lines, the ctl commands' help, SIGTERM/SIGINT and
# ctl quit ending the program with its sockets removed.
set -u
PVIO=${PVIO:-./pvio}
dir=$(mktemp -d /tmp/simvirtio-cli-XXXXXX) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	[ -f "$dir/err" ] && cat "$dir/err"
	exit 1
}

wait_for() {
	_tries=$(($1 * 10))
	shift
	while [ "$_tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_tries=$((_tries - 1))
	done
	return 1
}

gone() {
	! kill -0 "$1" 2>/dev/null ||
		grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# expect_error EXIT-CODE TEXT ARGS...: fails with that code and one line
# on stderr containing TEXT
expect_error() {
	code=$1
	text=$2
	shift 2
	"$PVIO" sim virtio "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	[ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code"
	[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "'$*': not one line of error"
	grep -q -- "$text" "$dir/err" || fail "'$*': error lacks '$text'"
}

"$PVIO" sim virtio --help >"$dir/out" || fail "--help failed"
for w in --blk --net --ctl queues= packed= mode=switch: rxfull= ro serial=; do
	grep -q -- "$w" "$dir/out" || fail "--help does not mention $w"
done
"$PVIO" sim --help | grep -q virtio || fail "pvio sim --help lacks virtio"

expect_error 2 "no devices"
expect_error 2 "unknown option" --frob
expect_error 2 "unexpected argument" stray
expect_error 1 "expected PATH=IMAGE" --blk "$dir/b.sock"
expect_error 1 "unknown option 'colour'" --net "$dir/n.sock,colour=red"
expect_error 1 "bad value for 'queues': 0" --net "$dir/n.sock,queues=0"
expect_error 1 "bad value for 'mac'" --net "$dir/n.sock,mac=01:00:00:00:00:01"
expect_error 1 "bad value for 'bs'" --blk "$dir/b.sock=$dir/i,bs=1000,size=1M"
expect_error 1 "cannot open disk image" --blk "$dir/b.sock=$dir/missing.img"
expect_error 1 "given twice" --net "$dir/n.sock" --net "$dir/n.sock"
expect_error 1 "switch group lan has only" --net "$dir/n.sock,mode=switch:lan"
: >"$dir/plain"
expect_error 1 "not a socket is in the way" --net "$dir/plain"
[ -f "$dir/plain" ] || fail "a regular file was removed"

ready() {
	[ "$(grep -c ': ready on ' "$dir/out" 2>/dev/null)" = "$1" ]
}

# run, wait for the ready lines, stop with SIGNAL (or ctl quit)
for how in TERM INT quit; do
	# A background job does its redirections after the fork: empty the
	# file first, or the wait below may read the previous run's lines.
	: >"$dir/out"
	"$PVIO" sim virtio --blk "$dir/b.sock=$dir/disk.img,size=4M,name=disk" \
		--net "$dir/n.sock" --ctl "$dir/ctl.sock" >"$dir/out" 2>"$dir/err" &
	pid=$!
	wait_for 10 ready 3 || fail "not ready"
	grep -q "^disk: ready on $dir/b.sock (vhost-user-blk" "$dir/out" ||
		fail "no ready line for the disk"
	grep -q "^net0: ready on $dir/n.sock (vhost-user-net, reflect" "$dir/out" ||
		fail "no ready line for net0"
	grep -q "^ctl: ready on $dir/ctl.sock" "$dir/out" || fail "no ctl line"
	"$PVIO" sim ctl "$dir/ctl.sock" help | grep -q "disconnect DEV" ||
		fail "ctl help"
	"$PVIO" sim ctl "$dir/ctl.sock" status | grep -q "^disk blk $dir/b.sock" ||
		fail "ctl status"
	"$PVIO" sim ctl "$dir/ctl.sock" delay nosuch 5 2>/dev/null &&
		fail "ctl accepted an unknown device"
	if [ "$how" = quit ]; then
		"$PVIO" sim ctl "$dir/ctl.sock" quit >/dev/null || fail "ctl quit"
	else
		kill -"$how" "$pid"
	fi
	wait_for 10 gone "$pid" || fail "did not stop on $how"
	wait "$pid"
	rc=$?
	pid=
	[ "$rc" -eq 0 ] || fail "exit status $rc after $how"
	for s in b.sock n.sock ctl.sock; do
		[ -e "$dir/$s" ] && fail "$s left behind after $how"
	done
	[ -f "$dir/disk.img" ] || fail "the image went away"
done
echo "ok"
