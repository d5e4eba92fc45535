#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/integration/guest_qemu.sh - boot pvio's probe guest under QEMU and
# check what it reports and what it wrote.
#
# Runs (TCG, or KVM when a bounded KVM boot works; the output says which):
#   q35 + virtio-blk-pci/virtio-net-pci, split rings, addresses on the
#       command line as `pvio virt probe` passes them
#   q35, packed=on, devices found by the PCI scan
#   microvm + virtio-blk-device/virtio-net-device (virtio-mmio version 2),
#       split and packed=on, devices found by the slot scan
#   microvm with QEMU's default legacy virtio-mmio, a missing PCI device
#       and an empty slot: clear one-line failures, the failure exit code
# After each run the image file is checked from the host side.
. "${top_srcdir:-.}/tests/integration/guest_lib.sh"

KERNEL=${PVIO_PROBE_KERNEL:-$top_builddir/tests/guest/pvio-probe.elf}
need_tools
if [ ! -f "$KERNEL" ]; then
	echo "FAIL: no probe guest at $KERNEL (build with the freestanding library)"
	exit 1
fi
pick_accel
echo "accelerator: $ACCEL ($ACCEL_WHY)"
if [ "$ACCEL" = kvm ]; then
	CPU="-accel kvm -cpu host"
else
	CPU="-accel tcg -cpu max"
fi
MAC=52:54:00:70:76:01
SECTORS=8192

# one full run: NAME MACHINE RING(split|packed) CMDLINE DEVICE-ARGS...
full_run() {
	name=$1 machine=$2 ring=$3 cmdline=$4
	shift 4
	make_disk "$T/$name.img" $SECTORS
	# shellcheck disable=SC2086
	boot "$name" -M "$machine" $CPU -kernel "$KERNEL" -append "$cmdline" \
		-drive "file=$T/$name.img,format=raw,if=none,id=d0,discard=unmap" \
		-netdev user,id=n0 "$@"
	res=$(result_of "$name")
	if [ "$RC" != 1 ] || [ "$res" != ok ]; then
		bad "$name: exit $RC, result '${res:-none}' (1 and ok expected)"
		show_log "$name"
		return
	fi
	if grep -q '^PVIO-GUEST fail\|^PVIO-GUEST [^ ]* FAIL' "$T/$name.log"; then
		bad "$name: a failure line with result ok"
		show_log "$name"
		return
	fi
	ok "$name: guest result ok ($(value_of "$name" blk.device); $(value_of "$name" net.device))"
	for c in blk net; do
		got=$(value_of "$name" $c.ring)
		if [ "$got" = "$ring" ]; then
			ok "$name: $c negotiated a $ring ring (offered: $(value_of "$name" $c.offered))"
		else
			bad "$name: $c ring '$got', expected $ring"
		fi
	done
	for k in blk.verify blk.write blk.flush blk.discard blk.write_zeroes \
		blk.inflight net.arp net.ping; do
		case $(value_of "$name" $k) in
		ok*) ;;
		*) bad "$name: $k: $(value_of "$name" $k)" ;;
		esac
	done
	if out=$(check_disk "$T/$name.img" "$T/$name.log"); then
		ok "$name: $out"
	else
		bad "$name: host-side image check: $out"
	fi
}

PCI_ADDR="pvio.blk=virtio-pci:00:05.0 pvio.blk.sectors=$SECTORS pvio.net=virtio-pci:00:06.0 pvio.mac=$MAC"
full_run q35-split q35 split "$PCI_ADDR" \
	-device virtio-blk-pci,drive=d0,addr=05.0,packed=off \
	-device "virtio-net-pci,netdev=n0,addr=06.0,mac=$MAC,packed=off"
full_run q35-packed q35 packed "pvio.blk.sectors=$SECTORS pvio.mac=$MAC" \
	-device virtio-blk-pci,drive=d0,addr=04.0,packed=on \
	-device "virtio-net-pci,netdev=n0,addr=03.0,mac=$MAC,packed=on"
full_run microvm-split microvm split "pvio.blk.sectors=$SECTORS pvio.mac=$MAC" \
	-global virtio-mmio.force-legacy=false \
	-device virtio-blk-device,drive=d0,packed=off \
	-device "virtio-net-device,netdev=n0,mac=$MAC,packed=off"
full_run microvm-packed microvm packed "pvio.blk.sectors=$SECTORS pvio.mac=$MAC" \
	-global virtio-mmio.force-legacy=false \
	-device virtio-blk-device,drive=d0,packed=on \
	-device "virtio-net-device,netdev=n0,mac=$MAC,packed=on"

# QEMU's default virtio-mmio is legacy (version 1): refused, said so
make_disk "$T/legacy.img" 64
# shellcheck disable=SC2086
boot legacy -M microvm $CPU -kernel "$KERNEL" -append "pvio.net=none" \
	-drive "file=$T/legacy.img,format=raw,if=none,id=d0" \
	-device virtio-blk-device,drive=d0
if [ "$RC" = 3 ] && [ "$(result_of legacy)" = fail ] &&
	grep -q "^PVIO-GUEST blk.open FAIL .*legacy (version 1) virtio-mmio device.*force-legacy=false" "$T/legacy.log"; then
	ok "legacy virtio-mmio: refused with a hint, failure exit code 3"
else
	bad "legacy virtio-mmio: exit $RC, result '$(result_of legacy)'"
	show_log legacy
fi

# a PCI address with nothing there, and an empty virtio-mmio slot
# shellcheck disable=SC2086
boot nodev -M q35 $CPU -kernel "$KERNEL" \
	-append "pvio.blk=virtio-pci:00:1f.7 pvio.net=virtio-mmio:0xfeb00000"
if [ "$RC" = 3 ] &&
	grep -q "^PVIO-GUEST blk.open FAIL cannot open 'virtio-pci:00:1f.7': no PCI device at 00:1f.7$" "$T/nodev.log" &&
	grep -q "^PVIO-GUEST net.open FAIL cannot open 'virtio-mmio:0xfeb00000': no virtio-mmio device there" "$T/nodev.log"; then
	ok "missing devices: one-line errors, failure exit code"
else
	bad "missing devices: exit $RC"
	show_log nodev
fi

# a bad address
# shellcheck disable=SC2086
boot badaddr -M microvm $CPU -kernel "$KERNEL" \
	-append "pvio.blk=virtio-pci:0:99.9 pvio.net=virtio-mmio:0x123"
if [ "$RC" = 3 ] &&
	grep -q "^PVIO-GUEST blk.open FAIL cannot open 'virtio-pci:0:99.9': not a PCI address; use virtio-pci:BB:DD.F" "$T/badaddr.log" &&
	grep -q "^PVIO-GUEST net.open FAIL cannot open 'virtio-mmio:0x123': use virtio-mmio:0xADDR" "$T/badaddr.log"; then
	ok "bad addresses: usage in one line"
else
	bad "bad addresses: exit $RC"
	show_log badaddr
fi
finish
