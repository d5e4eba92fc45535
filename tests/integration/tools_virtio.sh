#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The pvio command against pvio's simulated KVM host (`pvio sim virtio`,
# vhost-user): info, block round trips, write-zeroes and discard, network
# loopback on one and two queue pairs and on split and packed rings, bench,
# the errors a user can cause, and a host that returns a used id twice
# (one line naming the reason, never a frame counted intact that was not).
set -u
. "$(dirname "$0")/tools_lib.sh"

start_sim virtio "ctl: ready" virtio --ctl "$T/ctl.sock" \
	--blk "$T/blk.sock=$T/disk.img,size=16M" \
	--net "$T/net.sock" \
	--net "$T/mq.sock,queues=2,packed=off" \
	--net "$T/bad.sock,name=bad" || exit 1
B="vhost-user:$T/blk.sock?class=blk"
N="vhost-user:$T/net.sock?class=net"
MQ="vhost-user:$T/mq.sock?class=net&queues=2"
BAD="vhost-user:$T/bad.sock?class=net"

check_info "$B" blk KVM
check_info "$N" net KVM
check_blk "$B" 16777216
if cmp -s "$T/data" <(dd if="$T/disk.img" bs=65536 skip=1 count=16 status=none); then
	ok "the host's disk image holds the data"
else
	fail "disk image differs from the data written"
fi
check_net "$N"
check_bench "$B" "$N"

# write-zeroes zeroes exactly its range (the data around it stays)
run wz "$PVIO" blk write-zeroes "$B" 128k 64k
expect_status 0 wz "blk write-zeroes 64 KiB"
run wzr "$PVIO" blk read "$B" 64k 1M
{ head -c 65536 "$T/data"; head -c 65536 /dev/zero; tail -c +131073 "$T/data"; } >"$T/expect"
if cmp -s "$T/expect" "$T/wzr.stdout"; then ok "write-zeroes zeroed exactly its range"; else fail "write-zeroes: wrong data in or around the range"; fi
run dc "$PVIO" blk discard "$B" 0 1M
expect_status 0 dc "blk discard 1 MiB"

# a block command on a network device says which command to use
run wrongc "$PVIO" blk read "$N" 0 512
expect_status 1 wrongc "blk read on a network device"
one_line wrongc "is a net device, not a blk device; use \`pvio net\`" "wrong class"

# two queue pairs (split rings): frames go out on both and all come back
run mq "$PVIO" net loopback "$MQ" --queues 2 --count 4000
expect_status 0 mq "4000 frames over two queue pairs"
if grep -q '^sent 4000  received 4000  corrupted 0  duplicate 0  lost 0' "$T/mq.stdout"; then
	ok "two queue pairs: every frame back"
else
	fail "two queue pairs: $(cat "$T/mq.stdout")"
fi
run mq1 "$PVIO" net loopback "$N" --queues 2 --count 10
expect_status 1 mq1 "two queue pairs on a device with one"
one_line mq1 "--queues 2: the device gave 1 queue pair \(it has at most 1\)" "queue count explained"

# a host that returns a used id twice
"$PVIO" sim ctl "$T/ctl.sock" corrupt bad dup >/dev/null
run dup "$PVIO" net loopback "$BAD" --count 1000
expect_status 1 dup "loopback through a host that duplicates a used id"
one_line dup "device broken: " "the broken device's reason is given"

finish
