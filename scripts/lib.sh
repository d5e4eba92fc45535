# SPDX-License-Identifier: MIT
# scripts/lib.sh - shell helpers shared by scripts/compare.sh,
# scripts/bench.sh and scripts/test.sh (sourced by bash, not run).
# shellcheck disable=SC2034  # BLK, NET are for the scripts that source this

# The repository root, whatever directory the caller ran us from.
pvio_root() {
	cd "$(dirname "$0")/.." && pwd
}

say() { printf '%s\n' "$*"; }
die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# Install the Debian packages pvio needs (scripts/deps.sh says which and
# why); needs root only when something is missing.
pvio_deps() {
	"$PVIO_ROOT/scripts/deps.sh" || die "installing packages failed (see above); run as root on Debian 12"
}

# Generate configure if it is missing or older than what it is made from.
pvio_autoreconf() {
	if [ ! -x "$PVIO_ROOT/configure" ] ||
		[ -n "$(find "$PVIO_ROOT" -maxdepth 3 \( -name configure.ac -o -name 'Makefile.am' -o -name 'Makefile.inc' \) -newer "$PVIO_ROOT/configure" -print 2>/dev/null | head -n 1)" ]; then
		(cd "$PVIO_ROOT" && autoreconf -fi) >"$PVIO_ROOT/autoreconf.log" 2>&1 ||
			{ tail -n 30 "$PVIO_ROOT/autoreconf.log" >&2; die "autoreconf failed (log: autoreconf.log)"; }
	fi
}

# pvio_build DIR [CONFIGURE ARGS...]: configure (once) and build out of tree
# in DIR, quietly; on failure show the tail of the log and stop.
pvio_build() {
	dir=$1
	shift
	# a build system newer than the build directory: start that afresh
	# (config.status cannot always catch up with new folders)
	if [ -f "$dir/config.status" ] && [ "$PVIO_ROOT/configure" -nt "$dir/config.status" ]; then
		rm -rf "$dir"
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$PVIO_ROOT/configure" "$@") >"$dir/configure.out" 2>&1 ||
			{ tail -n 30 "$dir/configure.out" >&2; die "configure failed (log: $dir/configure.out, $dir/config.log)"; }
	fi
	make -C "$dir" -j2 >"$dir/make.out" 2>&1 ||
		{ grep -E 'error|Error' "$dir/make.out" | tail -n 30 >&2; die "build failed (log: $dir/make.out)"; }
}

# ---------------------------------------------------------------- hosts
# The functions below start simulated hosts and real peers in $TMP with
# $PVIO, remember their process ids in PIDS, and set BLK and NET to device
# addresses.  pvio_host_cleanup_on_exit stops them all by process id (and
# removes $TMP) when the script ends, however it ends.

PIDS=""

# Stop every host started so far (SIGTERM, then wait for each).
pvio_hosts_stop() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
}

pvio_host_cleanup() {
	pvio_hosts_stop
	rm -rf "$TMP"
}

pvio_host_cleanup_on_exit() {
	trap pvio_host_cleanup EXIT
	trap 'exit 130' INT TERM
}

# start_sim NAME READY ARGS...: run `pvio sim ARGS...` in the background
# and wait (at most 30 s) for the line containing READY that the host
# prints once it accepts connections; the host's log is $TMP/NAME.log.
start_sim() {
	local name=$1 ready=$2 line fd
	shift 2
	mkfifo "$TMP/$name.ready"
	"$PVIO" sim "$@" >"$TMP/$name.ready" 2>"$TMP/$name.log" &
	PIDS="$PIDS $!"
	exec {fd}<"$TMP/$name.ready"
	while IFS= read -r -t 30 line <&"$fd"; do
		case $line in
		*"$ready"*) return 0 ;;
		esac
	done
	say "the simulated $name host did not start; its log:"
	tail -n 20 "$TMP/$name.log"
	return 1
}

# start_peer NAME SOCKET CMD...: a real peer in the background, output in
# $TMP/NAME.log; waits (at most 60 s) until it listens on the unix socket
# SOCKET, failing at once if it exits first.
start_peer() {
	local name=$1 sock=$2 pid n=0
	shift 2
	"$@" </dev/null >"$TMP/$name.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	while [ $n -lt 1200 ]; do
		awk -v p="$sock" '$NF == p && $4 == "00010000" { f = 1 } END { exit !f }' \
			/proc/net/unix && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
		n=$((n + 1))
	done
	say "$name did not start listening on $sock; its output:"
	tail -n 20 "$TMP/$name.log"
	return 1
}

# pvio's simulated hosts, each with a disk of $DISK_SIZE and a network
# device that reflects frames.
start_virtio() {
	start_sim virtio "ctl: ready" virtio --ctl "$TMP/virtio-ctl.sock" \
		--blk "$TMP/virtio-blk.sock=$TMP/virtio-disk.img,size=$DISK_SIZE" \
		--net "$TMP/virtio-net.sock,mode=reflect" || return 1
	BLK="vhost-user:$TMP/virtio-blk.sock?class=blk"
	NET="vhost-user:$TMP/virtio-net.sock?class=net"
}

start_xen() {
	truncate -s "$DISK_SIZE" "$TMP/xen-disk.img" || return 1
	start_sim xen "ready socket=" xen --socket "$TMP/xen.sock" \
		--vbd "51712=$TMP/xen-disk.img" --vif 0,mode=reflect || return 1
	BLK="sim-xen:$TMP/xen.sock/vbd/51712"
	NET="sim-xen:$TMP/xen.sock/vif/0"
}

start_hyperv() {
	truncate -s "$DISK_SIZE" "$TMP/hyperv-disk.img" || return 1
	start_sim hyperv "ready socket=" hyperv --socket "$TMP/hyperv.sock" \
		--scsi "$TMP/hyperv-disk.img" --nic mode=reflect || return 1
	BLK="sim-hyperv:$TMP/hyperv.sock/storvsc0"
	NET="sim-hyperv:$TMP/hyperv.sock/netvsc0"
}

# Real vhost-user peers from Debian: qemu-storage-daemon exporting a raw
# image, dpdk-testpmd forwarding every frame back (io mode).
start_qsd() {
	truncate -s "$DISK_SIZE" "$TMP/qsd.img" || return 1
	start_peer qsd "$TMP/qsd.sock" qemu-storage-daemon \
		--blockdev "driver=file,node-name=file,filename=$TMP/qsd.img" \
		--export "type=vhost-user-blk,id=exp,node-name=file,addr.type=unix,addr.path=$TMP/qsd.sock,writable=on" ||
		return 1
	BLK="vhost-user:$TMP/qsd.sock?class=blk"
	NET=""
}

start_testpmd() {
	local lcores=0@0,1@1
	[ "$(nproc)" -gt 1 ] || lcores=0@0,1@0
	start_peer testpmd "$TMP/testpmd.sock" dpdk-testpmd --no-huge -m 512 \
		--no-pci --no-shconf --no-telemetry --file-prefix="pvio-$$" \
		--lcores="$lcores" --vdev "net_vhost0,iface=$TMP/testpmd.sock,client=0" -- \
		--total-num-mbufs=4096 --stats-period 60 --forward-mode=io \
		--no-flush-rx || return 1
	BLK=""
	NET="vhost-user:$TMP/testpmd.sock?class=net"
}
