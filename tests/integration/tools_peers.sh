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

need_cmds qemu-storage-daemon dpdk-testpmd

# ---- qemu-storage-daemon
start_qsd 16M || exit 1
B=$QSD
check_info "$B" blk KVM
check_blk "$B" 16777216
if cmp -s "$T/data" <(dd if="$T/qsd.img" bs=65536 skip=1 count=16 status=none); then
	ok "qemu-storage-daemon's image holds the data"
else
	fail "qemu-storage-daemon's image differs from the data written"
fi

# ---- dpdk-testpmd, io forwarding: frames come back unchanged
start_testpmd || exit 1
N=$TPMD
check_info "$N" net KVM
check_net "$N"

finish
