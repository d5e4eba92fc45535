#!/bin/sh
# SPDX-License-Identifier: MIT
# (functions here are called through wait_for and traps)
# shellcheck disable=SC2317
#
# `pvio sim virtio --net` against an independent, real front end: DPDK's
# virtio-user PMD inside dpdk-testpmd (Debian dpdk-dev), without hugepages.
# testpmd forwards (io mode, --tx-first) on a device in reflect mode, so
# every frame it sends comes back and is sent again; the test waits until
# the simulated host has switched enough frames, stops testpmd with SIGINT
# and checks both sides' counters.  Cases: split ring with merged RX
# buffers, packed ring with IN_ORDER and no MRG_RXBUF, two queue pairs, a
# two-port switch, checksum offloads negotiated, and two front ends one
# after the other on the same device.  All processes are stopped by pid; every wait
# is bounded.
set -u

PVIO=${PVIO:-./pvio}
FRAMES=20000          # frames the host must switch per device and case

if ! command -v dpdk-testpmd >/dev/null 2>&1; then
	echo "dpdk-testpmd not found (Debian package dpdk-dev; scripts/deps.sh)"
	exit 77
fi

dir=$(mktemp -d /tmp/simvirtio-dpdk-XXXXXX) || exit 1
simpid=
tppid=
failed=0

cleanup() {
	[ -n "$tppid" ] && kill -KILL "$tppid" 2>/dev/null
	[ -n "$simpid" ] && kill -KILL "$simpid" 2>/dev/null
	rm -rf "$dir"
	# EAL's runtime directory for our file prefix (made even with
	# --no-shconf)
	rm -rf "/var/run/dpdk/simvirtio$$" \
		"${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/simvirtio$$"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	echo "--- testpmd (last lines)"
	tail -n 25 "$dir/tp.out" 2>/dev/null
	echo "--- simulated host log"
	tail -n 25 "$dir/sim.err" 2>/dev/null
	exit 1
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds (bounded)
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

# gone PID: exited (a zombie counts: it is reaped by `wait` afterwards)
gone() {
	! kill -0 "$1" 2>/dev/null ||
		grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

ready_lines() {
	_ready=$(grep -c ': ready on ' "$dir/sim.out" 2>/dev/null)
	[ "${_ready:-0}" -ge "$1" ]
}

# start_sim NREADY ARGS...
start_sim() {
	want=$1
	shift
	: >"$dir/sim.out" # (the job's own redirection happens after the fork)
	"$PVIO" sim virtio "$@" --ctl "$dir/ctl.sock" >"$dir/sim.out" 2>"$dir/sim.err" &
	simpid=$!
	wait_for 10 ready_lines $((want + 1)) || fail "simulated host not ready"
}

stop_sim() {
	kill -TERM "$simpid"
	wait_for 10 gone "$simpid" ||
		fail "simulated host did not exit on SIGTERM"
	wait "$simpid"
	rc=$?
	simpid=
	[ "$rc" -eq 0 ] || fail "simulated host exited with $rc"
	for s in "$dir"/*.sock; do
		[ -e "$s" ] && fail "socket $s left behind"
	done
	grep -q 'warning' "$dir/sim.err" && fail "the host complained"
	return 0
}

# stat DEV KEY [LINE]: a counter from `pvio sim ctl ... stats DEV`
stat() {
	"$PVIO" sim ctl "$dir/ctl.sock" stats "$1" |
		awk -v k="$2" -v l="${3:-net}" \
		'$1 == l { for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }'
}

# switched DEV...: every DEV sent FRAMES frames since mark_start
mark_start() {
	for d in "$@"; do
		v=$(stat "$d" tx_frames)
		eval "start_$d=\${v:-0}"
	done
}

switched() {
	for d in "$@"; do
		v=$(stat "$d" tx_frames)
		eval "s=\$start_$d"
		# shellcheck disable=SC2154
		if [ -z "$v" ] || [ "$v" -lt $((s + FRAMES)) ]; then
			return 1
		fi
	done
	return 0
}

# run_testpmd DEVS "VDEV..." TESTPMD-ARGS...: forward until every device
# in DEVS switched FRAMES frames, then stop testpmd
run_testpmd() {
	devs=$1
	vdevs=$2
	shift 2
	# shellcheck disable=SC2086
	mark_start $devs
	# shellcheck disable=SC2086
	dpdk-testpmd --no-huge -m 512 --no-pci --no-shconf \
		--file-prefix="simvirtio$$" -l 0,1 \
		--log-level='pmd.net.virtio.*:info' $vdevs -- \
		--total-num-mbufs=8192 --stats-period 1 --tx-first "$@" \
		</dev/null >"$dir/tp.out" 2>&1 &
	tppid=$!
	# shellcheck disable=SC2086
	wait_for 60 switched $devs || fail "frames not flowing through $devs"
	kill -INT "$tppid"
	wait_for 20 gone "$tppid" ||
		fail "testpmd did not stop"
	wait "$tppid"
	tppid=
	grep -q 'Bye' "$dir/tp.out" || fail "testpmd did not end cleanly"
}

# port_stat PORT FIELD: from testpmd's final "Forward statistics"
port_stat() {
	awk -v p="$1" -v f="$2:" '
		/Forward statistics for port/ { cur = $(NF - 1) }
		cur == p { for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }' \
		"$dir/tp.out" | tail -n 1
}

check_port() {
	rx=$(port_stat "$1" RX-packets)
	tx=$(port_stat "$1" TX-packets)
	drop=$(port_stat "$1" RX-dropped)
	if [ -z "$rx" ] || [ -z "$tx" ]; then
		fail "no final statistics for port $1"
	fi
	[ "$rx" -ge "$FRAMES" ] || fail "port $1 received only $rx frames"
	[ "$tx" -ge "$FRAMES" ] || fail "port $1 sent only $tx frames"
	[ "$drop" -eq 0 ] || fail "port $1 dropped $drop frames"
	echo "  port $1: RX $rx TX $tx"
}

negotiated() {
	grep -o 'set features: 0x[0-9a-f]*' "$dir/tp.out" | tail -n 1
}

echo "split ring, merged RX buffers"
start_sim 1 --net "$dir/n.sock"
run_testpmd net0 "--vdev net_virtio_user0,path=$dir/n.sock" --forward-mode=io
check_port 0
echo "  $(negotiated)"
# the same device serves a second front end after the first one left
run_testpmd net0 "--vdev net_virtio_user0,path=$dir/n.sock" --forward-mode=io
check_port 0
[ "$(stat net0 tx_frames)" -ge $((2 * FRAMES)) ] || fail "second session"
stop_sim

echo "packed ring, IN_ORDER, no MRG_RXBUF"
start_sim 1 --net "$dir/n.sock,in_order=on"
run_testpmd net0 \
	"--vdev net_virtio_user0,path=$dir/n.sock,packed_vq=1,in_order=1,mrg_rxbuf=0" \
	--forward-mode=io
check_port 0
f=$(negotiated)
echo "  $f"
[ $(( ${f#set features: } >> 34 & 3 )) -eq 3 ] || fail "packed/in_order not negotiated: $f"
stop_sim

echo "two queue pairs"
start_sim 1 --net "$dir/n.sock,queues=2"
run_testpmd net0 "--vdev net_virtio_user0,path=$dir/n.sock,queues=2,cq=1" \
	--forward-mode=io --rxq=2 --txq=2
check_port 0
for q in vq1 vq3; do
	b=$(stat net0 bufs "$q")
	if [ -z "$b" ] || [ "$b" -eq 0 ]; then
		fail "queue $q carried nothing"
	fi
	echo "  $q: $b buffers"
done
stop_sim

echo "two-port switch"
start_sim 2 --net "$dir/a.sock,mode=switch:lan" --net "$dir/b.sock,mode=switch:lan"
run_testpmd "net0 net1" \
	"--vdev net_virtio_user0,path=$dir/a.sock --vdev net_virtio_user1,path=$dir/b.sock" \
	--forward-mode=io
check_port 0
check_port 1
stop_sim

echo "checksum offload negotiated (CSUM/GUEST_CSUM), csum engine"
# testpmd's UDP frames carry checksum 0 ("none"), so its csum engine never
# asks for NEEDS_CSUM; simvirtio_net checks partial checksums end to end.
start_sim 1 --net "$dir/n.sock"
run_testpmd net0 "--vdev net_virtio_user0,path=$dir/n.sock" \
	--forward-mode=csum --tx-offloads=0xc --rx-offloads=0xc
check_port 0
f=$(negotiated)
[ $(( ${f#set features: } & 3 )) -eq 3 ] || fail "CSUM/GUEST_CSUM not negotiated: $f"
bad=$(port_stat 0 Bad-l4csum)
[ "$bad" = 0 ] || fail "testpmd saw $bad bad L4 checksums"
echo "  $f, bad L4 checksums: $bad"
stop_sim

exit $failed
