#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/demo.sh - pvio's main job, from a clean clone.  Run as root on
# Debian 12:
#
#     sudo scripts/demo.sh
#
# It installs what is missing (scripts/deps.sh), builds pvio under
# build-demo/, then for each simulated hypervisor host (KVM/virtio, Xen,
# Hyper-V): starts it, writes a disk through pvio's block front end, reads
# it back and compares, sends frames through pvio's network front end to a
# reflecting peer and checks every one, and prints a short report.
# Everything it starts is stopped by process id when it ends, also on
# failure or Ctrl-C.  Exit status 0 only if every check passed.
#
# Options:  --no-build     use build-demo/ as it is
set -u

PVIO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$PVIO_ROOT/scripts/lib.sh"

# The simulated hosts the demo runs, in order.  Each has a start_<name>
# function in scripts/lib.sh that starts it and sets BLK and NET to device
# addresses.
HOSTS="virtio xen hyperv"

DISK_MB=4        # data written and read back per disk
FRAMES=10000     # 64-byte frames per network device
BIG_FRAMES=1000  # full-size (1514-byte) frames per network device

build=yes
for a in "$@"; do
	case $a in
	--no-build) build=no ;;
	-h|--help) sed -n '3,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$a'; see --help" ;;
	esac
done

BUILD=$PVIO_ROOT/build-demo
PVIO=$BUILD/pvio
TMP=$(mktemp -d /tmp/pvio-demo.XXXXXX)
DISK_SIZE=64M
pvio_host_cleanup_on_exit

REPORT=()
FAILED_HOSTS=""
failures=0
result() {
	REPORT+=("$(printf '  %-8s %-7s %-5s %s' "$1" "$2" "$3" "$4")")
	if [ "$3" != ok ]; then
		failures=$((failures + 1))
		case " $FAILED_HOSTS " in *" $1 "*) ;; *) FAILED_HOSTS="$FAILED_HOSTS $1" ;; esac
	fi
}

# describe HOST WHAT ADDR: `pvio info` on the device; prints its protocol
# and the normalised features pvio uses, and sets PROTO.  Fails (with a
# report line) if the device cannot be opened and started.
describe() {
	local host=$1 what=$2 addr=$3 feats
	if ! "$PVIO" info "$addr" >"$TMP/info" 2>"$TMP/err"; then
		result "$host" "$what" FAIL "$(cat "$TMP/err")"
		return 1
	fi
	PROTO=$(sed -n 's/^protocol *//p' "$TMP/info")
	feats=$(awk '
		/^features/ { f = 1; next }
		f && /^[^ ]/ { f = 0 }
		f && $NF == "yes" { printf "%s%s", n++ ? ", " : "", $1 }' "$TMP/info")
	say "  $what: $PROTO at $addr"
	say "    features in use: $feats"
}

demo_blk() {
	local host=$1 dev=$2 off=$((1024 * 1024))
	describe "$host" disk "$dev" || return 1
	head -c $((DISK_MB * 1024 * 1024)) /dev/urandom >"$TMP/data"
	if ! "$PVIO" blk write --sync "$dev" "$off" <"$TMP/data" 2>"$TMP/err"; then
		result "$host" disk FAIL "write: $(cat "$TMP/err")"
		return 1
	fi
	# a new process and a new connection: the data must come from the host
	if ! "$PVIO" blk read "$dev" "$off" "${DISK_MB}M" >"$TMP/back" 2>"$TMP/err"; then
		result "$host" disk FAIL "read: $(cat "$TMP/err")"
		return 1
	fi
	if ! cmp -s "$TMP/data" "$TMP/back"; then
		result "$host" disk FAIL "read back differs: $(cmp "$TMP/data" "$TMP/back" 2>&1 | head -n 1)"
		return 1
	fi
	result "$host" disk ok "$PROTO: wrote ${DISK_MB} MiB at offset 1 MiB, read back identical"
}

demo_net() {
	local host=$1 dev=$2 out rate
	describe "$host" network "$dev" || return 1
	if ! out=$("$PVIO" net loopback "$dev" --count "$FRAMES" --size 64 2>"$TMP/err"); then
		result "$host" network FAIL "$(cat "$TMP/err") $(echo "$out" | sed -n 2p)"
		return 1
	fi
	rate=$(echo "$out" | sed -n 's/^\([0-9]*\) frames\/s.*/\1/p')
	if ! out=$("$PVIO" net loopback "$dev" --count "$BIG_FRAMES" --size 1514 2>"$TMP/err"); then
		result "$host" network FAIL "1514-byte frames: $(cat "$TMP/err") $(echo "$out" | sed -n 2p)"
		return 1
	fi
	result "$host" network ok "$PROTO: $FRAMES x 64 B and $BIG_FRAMES x 1514 B frames came back intact (${rate:-?} frames/s)"
}

# ---------------------------------------------------------------- run
say "pvio demo: $(uname -srm), $(nproc) CPUs"
if [ "$build" = yes ]; then
	say "installing packages (scripts/deps.sh)"
	pvio_deps
	say "building pvio in build-demo/"
	pvio_autoreconf
	pvio_build "$BUILD" --quiet
fi
[ -x "$PVIO" ] || die "$PVIO is missing; run without --no-build"

for h in $HOSTS; do
	say "starting the simulated $h host"
	if ! "start_$h"; then
		result "$h" host FAIL "could not start the simulated host"
		continue
	fi
	demo_blk "$h" "$BLK"
	demo_net "$h" "$NET"
done

say ""
say "pvio demo report:"
for r in "${REPORT[@]}"; do
	say "$r"
done
if [ "$failures" != 0 ]; then
	for h in $FAILED_HOSTS; do
		[ -s "$TMP/$h.log" ] || continue
		say "---------- the simulated $h host's log (last 20 lines)"
		tail -n 20 "$TMP/$h.log"
	done
	say "$failures check(s) FAILED"
	exit 1
fi
say "all checks passed"
