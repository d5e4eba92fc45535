#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The pvio command against pvio's simulated Xen host (`pvio sim xen`):
# info, block round trips through blkif (checked against the host's disk
# image), network loopback through netif on one and two queues, bench, and
# what a user sees when the host misbehaves: a response with a bad id (the
# device is broken, one line says why), a frame delivered at the wrong
# offset (the loopback notices the damage and fails), the carrier down.
set -u
. "$(dirname "$0")/tools_lib.sh"

truncate -s 16M "$T/disk.img" || exit 1
start_sim xen "ready socket=" xen --socket "$T/xen.sock" \
	--vbd "51712=$T/disk.img" --vif 0 --vif 1 || exit 1
B="sim-xen:$T/xen.sock/vbd/51712"
N="sim-xen:$T/xen.sock/vif/0"
N1="sim-xen:$T/xen.sock/vif/1"
ctl() { "$PVIO" sim ctl "$T/xen.sock" "$@" >/dev/null; }

check_info "$B" blk Xen
check_info "$N" net Xen
check_blk "$B" 16777216
if cmp -s "$T/data" <(dd if="$T/disk.img" bs=65536 skip=1 count=16 status=none); then
	ok "the host's disk image holds the data"
else
	fail "disk image differs from the data written"
fi
check_net "$N"
check_bench "$B" "$N"

run mq "$PVIO" net loopback "$N" --queues 2 --count 4000
expect_status 0 mq "4000 frames over two queues"
if grep -q '^sent 4000  received 4000  corrupted 0  duplicate 0  lost 0' "$T/mq.stdout"; then
	ok "two queues: every frame back"
else
	fail "two queues: $(cat "$T/mq.stdout")"
fi

# a block response whose id pvio never used
ctl corrupt vbd/51712 id
run badid "$PVIO" blk read "$B" 0 4k
expect_status 1 badid "a read answered with a bad id"
one_line badid "device broken: .*id" "the broken device's reason is given"
ctl clear vbd/51712
run again "$PVIO" blk read "$B" 64k 4k
expect_status 0 again "the next connection reads again"

# a received frame at the wrong offset in its page: the loopback sees data
# that is not its frame and a frame that never came back
ctl corrupt vif/1 rx-offset
run off "$PVIO" net loopback "$N1" --count 100 --wait 0.5
expect_status 3 off "a frame delivered at a wrong offset fails the loopback"
one_line off "^pvio net loopback: FAILED: 1 frame never came back .*1 frame that was not ours arrived" "the damage is described"

# carrier down: nothing comes back, and the line says why
ctl link vif/1 down
run down "$PVIO" net loopback "$N1" --count 10 --wait 0.3
expect_status 3 down "loopback with the carrier down"
one_line down "the device reports its link down" "link down named"
ctl link vif/1 up

finish
