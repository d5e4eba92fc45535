#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The pvio command against pvio's simulated Hyper-V host (`pvio sim
# hyperv`): info, block round trips through StorVSC, network loopback
# through NetVSC, bench, and the one-line errors a user gets when the host
# misbehaves (a bogus transaction id, a SCSI medium error) or has taken the
# device away (rescind).
set -u
. "$(dirname "$0")/tools_lib.sh"

truncate -s 16M "$T/disk.img" || exit 1
start_sim hyperv "ready socket=" hyperv --socket "$T/hv.sock" \
	--scsi "$T/disk.img" --nic --nic mode=reflect || exit 1
B="sim-hyperv:$T/hv.sock/storvsc0"
N="sim-hyperv:$T/hv.sock/netvsc0"
N2="sim-hyperv:$T/hv.sock/netvsc1"
ctl() { "$PVIO" sim ctl "$T/hv.sock" "$@" >/dev/null; }

check_info "$B" blk Hyper-V
check_info "$N" net Hyper-V
check_blk "$B" 16777216
# what pvio read is what the host's disk image holds
dd if="$T/disk.img" bs=65536 skip=1 count=16 status=none >"$T/img"
if cmp -s "$T/data" "$T/img"; then ok "the host's disk image holds the data"; else fail "disk image differs from the data written"; fi
check_net "$N"
check_bench "$B" "$N"

# StorVSC offers no write-zeroes: refused up front, in one line
run wz "$PVIO" blk write-zeroes "$B" 0 4k
expect_status 1 wz "write-zeroes on a device without it"
one_line wz "does not support write-zeroes" "write-zeroes refused"

# a SCSI command failing with a medium error: one line with the sense data
ctl sense storvsc0 1
run sense "$PVIO" blk read "$B" 0 4k
expect_status 1 sense "a read through a medium error fails"
one_line sense "MEDIUM ERROR" "medium error named"

# a host that answers with a transaction id pvio never used
ctl corrupt netvsc1 transid
run tid "$PVIO" net loopback "$N2" --count 100
expect_status 1 tid "loopback through a host that sends a bogus transaction id"
one_line tid "not outstanding" "bogus transaction id named"
run tid2 "$PVIO" net loopback "$N2" --count 100
expect_status 0 tid2 "the next connection works again"

# a rescinded device is gone, and says so; offered again, it works
ctl rescind storvsc0
run gone "$PVIO" info "$B"
expect_status 1 gone "info on a rescinded device"
one_line gone "offers no storvsc0" "rescinded device"
ctl offer storvsc0
run back "$PVIO" blk read "$B" 64k 1M
if [ "$RC" = 0 ] && cmp -s "$T/data" "$T/back.stdout"; then
	ok "offered again: the data is still there"
else
	fail "after offer (status $RC): $(cat "$T/back.stderr")"
fi

finish
