# SPDX-License-Identifier: MIT
# tests/integration/tools_lib.sh - helpers and shared checks for the pvio
# command's integration tests (sourced by tools_*.sh; needs bash).
#
# Everything a test starts runs in a temporary directory and is stopped by
# process id when the test ends, whatever way it ends.  Every wait is
# bounded.  Checks print "ok: ..." or "FAIL: ..."; finish() sets the status.
: "${PVIO:?run from make check (PVIO names the pvio binary)}"

T=$(mktemp -d /tmp/pvio-test.XXXXXX)
SIM_PIDS=""

# Every pvio command a test runs is bounded (a hung command fails the test
# instead of hanging make check); the simulated hosts run the binary itself
# and are stopped by process id.
PVIO_BIN=$PVIO
printf '#!/bin/sh\nexec timeout -k 5 120 "%s" "$@"\n' "$PVIO_BIN" >"$T/pvio"
chmod +x "$T/pvio"
PVIO=$T/pvio
FAILS=0
CHECKS=0

t_cleanup() {
	local p
	for p in $SIM_PIDS; do kill "$p" 2>/dev/null; done
	for p in $SIM_PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap t_cleanup EXIT

ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

# start_sim NAME READY ARGS...: `pvio sim ARGS...` in the background; waits
# (at most 30 s) for a line on its stdout containing READY, which the host
# prints once it accepts connections.  Its stderr is $T/NAME.log.
start_sim() {
	local name=$1 ready=$2 line fd
	shift 2
	mkfifo "$T/$name.out"
	"$PVIO_BIN" sim "$@" >"$T/$name.out" 2>"$T/$name.log" &
	SIM_PIDS="$SIM_PIDS $!"
	exec {fd}<"$T/$name.out"
	while IFS= read -r -t 30 line <&"$fd"; do
		echo "$name: $line"
		case $line in *"$ready"*) return 0 ;; esac
	done
	echo "simulated host $name did not become ready; its log:"
	cat "$T/$name.log"
	return 1
}

# start_peer NAME SOCKET CMD...: a real peer (qemu-storage-daemon,
# dpdk-testpmd) in the background, output in $T/NAME.log; waits, at most
# 60 s, until it listens on the unix socket SOCKET (a listening socket in
# /proc/net/unix), failing at once if it exits first.
start_peer() {
	local name=$1 sock=$2 pid n=0
	shift 2
	"$@" </dev/null >"$T/$name.log" 2>&1 &
	pid=$!
	SIM_PIDS="$SIM_PIDS $pid"
	while [ $n -lt 1200 ]; do
		if awk -v p="$sock" '$NF == p && $4 == "00010000" { f = 1 } END { exit !f }' /proc/net/unix; then
			echo "$name: listening on $sock"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.05
		n=$((n + 1))
	done
	echo "$name did not start listening on $sock; its output:"
	tail -n 30 "$T/$name.log"
	return 1
}

# need_cmds CMD...: every command is installed, or the test fails saying
# who installs it.
need_cmds() {
	local p
	for p in "$@"; do
		if ! command -v "$p" >/dev/null; then
			echo "$p is not installed; scripts/deps.sh installs it"
			exit 1
		fi
	done
}

# start_qsd SIZE: qemu-storage-daemon exporting a fresh SIZE-byte raw image
# $T/qsd.img as vhost-user-blk on $T/qsd.sock; sets QSD to its address.
start_qsd() {
	truncate -s "$1" "$T/qsd.img" || return 1
	start_peer qsd "$T/qsd.sock" qemu-storage-daemon \
		--blockdev "driver=file,node-name=file,filename=$T/qsd.img" \
		--export "type=vhost-user-blk,id=exp,node-name=file,addr.type=unix,addr.path=$T/qsd.sock,writable=on" ||
		return 1
	QSD="vhost-user:$T/qsd.sock?class=blk"
}

# start_testpmd: dpdk-testpmd with a net_vhost port on $T/testpmd.sock in io
# forward mode (every frame goes back; frames sent while it starts are not
# flushed); sets TPMD to its address.
start_testpmd() {
	local lcores=0@0,1@1
	[ "$(nproc)" -gt 1 ] || lcores=0@0,1@0
	start_peer testpmd "$T/testpmd.sock" dpdk-testpmd --no-huge -m 512 --no-pci \
		--no-shconf --no-telemetry --file-prefix="pvio-tools-$$" --lcores="$lcores" \
		--vdev "net_vhost0,iface=$T/testpmd.sock,client=0" -- \
		--total-num-mbufs=4096 --stats-period 60 --forward-mode=io \
		--no-flush-rx || return 1
	TPMD="vhost-user:$T/testpmd.sock?class=net"
}

# run NAME CMD...: run CMD with stdin from /dev/null; stdout in
# $T/NAME.stdout, stderr in $T/NAME.stderr, status in $RC.
run() {
	local n=$1
	shift
	"$@" </dev/null >"$T/$n.stdout" 2>"$T/$n.stderr"
	RC=$?
}

# expect_status WANT NAME DESCRIPTION
expect_status() {
	if [ "$RC" = "$1" ]; then
		ok "$3"
	else
		fail "$3: exit status $RC, expected $1; stderr: $(head -c 500 "$T/$2.stderr")"
	fi
}

# one_line NAME REGEX DESCRIPTION: NAME's stderr is one line matching REGEX
one_line() {
	local lines
	lines=$(wc -l <"$T/$1.stderr")
	if [ "$lines" = 1 ] && grep -Eq -- "$2" "$T/$1.stderr"; then
		ok "$3: $(cat "$T/$1.stderr")"
	else
		fail "$3: expected one line matching /$2/, got $lines: $(head -c 500 "$T/$1.stderr")"
	fi
}

# json_get FILE EXPR: a Python expression over the parsed JSON `j` (python3
# refusing the file fails the comparison that follows).
json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---------------------------------------------------------------- shared checks

# check_info ADDR CLASS HYPERVISOR: text and JSON info agree with what the
# host is; features in use are a subset of those offered.
check_info() {
	local a=$1 cls=$2 hv=$3
	run info "$PVIO" info "$a"
	expect_status 0 info "info $a"
	if grep -q "^class *$cls\$" "$T/info.stdout" && grep -q "^hypervisor *$hv " "$T/info.stdout" &&
		grep -q '^state *ready$' "$T/info.stdout"; then
		ok "info names class $cls, hypervisor $hv, state ready"
	else
		fail "info $a: $(cat "$T/info.stdout")"
	fi
	run infoj "$PVIO" info --json "$a"
	expect_status 0 infoj "info --json $a"
	if [ "$(json_get "$T/infoj.stdout" 'j["class"], j["hypervisor"], j["started"], set(j["features"]["in_use"]) <= set(j["features"]["offered"])')" = "('$cls', '$hv', True, True)" ]; then
		ok "info --json: valid JSON, class, hypervisor, features in use offered"
	else
		fail "info --json $a: $(head -c 400 "$T/infoj.stdout")"
	fi
	run infons "$PVIO" info --no-start --json "$a"
	if [ "$RC" = 0 ] && [ "$(json_get "$T/infons.stdout" 'j["started"], j["features"]["in_use"]')" = "(False, None)" ]; then
		ok "info --no-start attaches no front end"
	else
		fail "info --no-start $a (status $RC): $(head -c 300 "$T/infons.stdout") $(cat "$T/infons.stderr")"
	fi
}

# check_blk ADDR CAPACITY: write / read back in separate processes (so the
# data comes from the host), flush, discard, the errors a user can make.
check_blk() {
	local b=$1 cap=$2
	head -c 1048576 /dev/urandom >"$T/data"
	"$PVIO" blk write --sync "$b" 64k <"$T/data" >/dev/null 2>"$T/w.stderr"
	RC=$?
	expect_status 0 w "blk write --sync 1 MiB at 64 KiB"
	run r "$PVIO" blk read "$b" 64k 1M
	expect_status 0 r "blk read 1 MiB at 64 KiB"
	if cmp -s "$T/data" "$T/r.stdout"; then
		ok "read back what was written"
	else
		fail "read back differs from what was written"
	fi
	run fl "$PVIO" blk flush "$b"
	expect_status 0 fl "blk flush"
	# the last block of the device, through a pipe
	head -c 512 /dev/urandom >"$T/last"
	cat "$T/last" | "$PVIO" blk write "$b" $((cap - 512)) >/dev/null 2>"$T/wl.stderr"
	RC=$?
	expect_status 0 wl "blk write of the last block from a pipe"
	run rl "$PVIO" blk read "$b" $((cap - 512)) 512
	if cmp -s "$T/last" "$T/rl.stdout"; then ok "last block read back"; else fail "last block differs"; fi
	# --pad: 1000 bytes become two blocks ending in zeroes
	head -c 1000 /dev/urandom >"$T/odd"
	"$PVIO" blk write --pad "$b" 4M <"$T/odd" >/dev/null 2>"$T/pad.stderr"
	RC=$?
	expect_status 0 pad "blk write --pad of 1000 bytes"
	run padr "$PVIO" blk read "$b" 4M 1024
	{ cat "$T/odd"; head -c 24 /dev/zero; } >"$T/padexpect"
	if cmp -s "$T/padexpect" "$T/padr.stdout"; then ok "--pad wrote the data and zeroes"; else fail "--pad did not write data + zeroes"; fi

	"$PVIO" blk write "$b" 0 <"$T/odd" >/dev/null 2>"$T/odd.stderr"
	RC=$?
	expect_status 1 odd "blk write of 1000 bytes without --pad"
	one_line odd "stdin holds 1000 bytes, not a multiple of the 512-byte block size" "unaligned write refused before writing"
	run una "$PVIO" blk read "$b" 100 512
	expect_status 1 una "blk read at an unaligned offset"
	one_line una "must be multiples of the 512-byte block size" "unaligned read"
	run past "$PVIO" blk read "$b" "$cap" 512
	expect_status 1 past "blk read past the end"
	one_line past "beyond the end of the device \\($cap bytes\\)" "read past the end"
	run badsz "$PVIO" blk read "$b" 0 12q
	expect_status 2 badsz "blk read with a bad size"
	one_line badsz "LENGTH '12q' is not a size" "bad size"
}

# check_net ADDR: loopback of small and full-size frames, every one back
# intact; JSON; a size the device cannot take.
check_net() {
	local n=$1
	run lb "$PVIO" net loopback "$n" --count 5000 --size 64
	expect_status 0 lb "5000 64-byte frames"
	if grep -q '^sent 5000  received 5000  corrupted 0  duplicate 0  lost 0  unsent 0' "$T/lb.stdout"; then
		ok "every 64-byte frame came back intact"
	else
		fail "loopback counts: $(cat "$T/lb.stdout")"
	fi
	run lbb "$PVIO" net loopback "$n" --count 500 --size 1514 --json
	expect_status 0 lbb "500 1514-byte frames"
	if [ "$(json_get "$T/lbb.stdout" 'j["ok"], j["received"], j["corrupted"], j["lost"]')" = "(True, 500, 0, 0)" ]; then
		ok "every 1514-byte frame came back intact (JSON)"
	else
		fail "loopback --json: $(cat "$T/lbb.stdout")"
	fi
	run toobig "$PVIO" net loopback "$n" --size 9000
	expect_status 1 toobig "frames larger than the device takes"
	one_line toobig "larger than the largest frame the device takes" "frame too large"
}

# check_bench BLK NET: the JSON structure only (tests never judge time).
check_bench() {
	run bench "$PVIO" bench --json --seconds 0.2 --warmup 0 --blk-qd 1,4 "$1" "$2"
	expect_status 0 bench "bench on a block and a network device"
	if [ "$(json_get "$T/bench.stdout" '[(r["class"], r["op"], r["depth"], r["ops"] > 0) for r in j["results"]][:2], j["results"][2]["op"], j["results"][2]["lost"], j["ok"]')" = "([('blk', 'randread', 1, True), ('blk', 'randread', 4, True)], 'loopback', 0, True)" ]; then
		ok "bench --json: one figure per depth and the loopback"
	else
		fail "bench --json: $(head -c 600 "$T/bench.stdout") $(cat "$T/bench.stderr")"
	fi
}

finish() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" = 0 ]
}
