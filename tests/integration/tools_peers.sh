#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The pvio command against real vhost-user peers from Debian:
# qemu-storage-daemon exporting a raw image as vhost-user-blk (block round
# trips through pvio's block front end, checked against the image file),
# and dpdk-testpmd with a net_vhost port in io forwarding mode, which sends
# every frame back (loopback through pvio's network front end, every frame
# checked).  The peers run in a temporary directory and are stopped by
# process id.
set -u
. "$(dirname "$0")/tools_lib.sh"

for p in qemu-storage-daemon dpdk-testpmd; do
	if ! command -v "$p" >/dev/null; then
		echo "$p is not installed; scripts/deps.sh installs it"
		exit 1
	fi
done

# ---- qemu-storage-daemon
truncate -s 16M "$T/qsd.img" || exit 1
start_peer qsd "$T/qsd.sock" qemu-storage-daemon \
	--blockdev "driver=file,node-name=file,filename=$T/qsd.img" \
	--export "type=vhost-user-blk,id=exp,node-name=file,addr.type=unix,addr.path=$T/qsd.sock,writable=on" ||
	exit 1
B="vhost-user:$T/qsd.sock?class=blk"
check_info "$B" blk KVM
check_blk "$B" 16777216
if cmp -s "$T/data" <(dd if="$T/qsd.img" bs=65536 skip=1 count=16 status=none); then
	ok "qemu-storage-daemon's image holds the data"
else
	fail "qemu-storage-daemon's image differs from the data written"
fi

# ---- dpdk-testpmd, io forwarding: frames come back unchanged
if [ "$(nproc)" -gt 1 ]; then lcores=0@0,1@1; else lcores=0@0,1@0; fi
start_peer testpmd "$T/testpmd.sock" dpdk-testpmd --no-huge -m 512 --no-pci \
	--no-shconf --no-telemetry --file-prefix="pvio-tools-$$" --lcores="$lcores" \
	--vdev "net_vhost0,iface=$T/testpmd.sock,client=0" -- \
	--total-num-mbufs=4096 --stats-period 60 --forward-mode=io \
	--no-flush-rx || exit 1
N="vhost-user:$T/testpmd.sock?class=net"
check_info "$N" net KVM
check_net "$N"

finish
