#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/xenreal/run.sh - pvio's Xen back end on a real Xen hypervisor.
#
# Boots Debian 12's Xen 4.17 with Debian's 6.1 dom0 kernel under QEMU
# (TCG: KVM cannot run Xen here) with an initramfs holding xenstored, the
# Xen back-end modules, xtest (tests/xenreal/xtest.c, static) and the pvio
# command (static), whose /init (init.sh) attaches a vbd and a vif to dom0
# itself and runs pvio's front ends against xen-blkback and xen-netback,
# through xtest and through `pvio info|blk|net`.  Results come back on the
# serial log as "XTEST ..." lines; this script checks that every expected
# check passed, none failed, what the pvio command printed, and that the
# run finished.
#
#   run.sh --xtest PATH --pvio PATH [--work DIR] [--bench SECONDS]
#          [--timeout SECONDS]
#
# --pvio   the pvio command, linked statically (tests/xenreal/pvio-static)
# --work   cache and scratch (default: ./xenreal-work): debs/ keeps the
#          downloaded packages, so a re-run downloads nothing
# --bench  also run the benchmarks (SECONDS per workload)
# PVIO_XEN_KERNEL=6.1.0-NN-amd64 pins the dom0 kernel (default: the
# newest linux-image-6.1.0-*-amd64 apt offers).
#
# Exit status: 0 all passed, 1 a check failed or the run did not finish
# (hang: QEMU is killed at the timeout), 2 usage or setup error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
xtest="" pvio="" work="$PWD/xenreal-work" bench=0 tmo=""
while [ $# -gt 0 ]; do
	case "$1" in
	--xtest) xtest=$2; shift 2 ;;
	--pvio) pvio=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--bench) bench=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	-h | --help) sed -n '3,28p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'; see --help" >&2; exit 2 ;;
	esac
done
die() { echo "run.sh: $*" >&2; exit 2; }
[ -n "$xtest" ] && [ -x "$xtest" ] || die "--xtest PATH (the static test program) is required"
[ -n "$pvio" ] && [ -x "$pvio" ] || die "--pvio PATH (the static pvio command) is required"
for b in "$xtest" "$pvio"; do
	file -b "$b" 2>/dev/null | grep -q dynamic &&
		die "$b is dynamically linked; build it with \`make check-xen\`"
done
# a hang must fail, not block CI: the whole boot is bounded
[ -n "$tmo" ] || tmo=$((600 + 10 * bench))

for t in qemu-system-x86_64 apt-get apt-cache dpkg-deb depmod modinfo cpio \
	gzip ldd timeout md5sum file; do
	command -v "$t" >/dev/null || die "$t is missing; run scripts/deps.sh"
done

mkdir -p "$work/debs"
debs="$work/debs"

# -- the packages ----------------------------------------------------------
if [ -n "${PVIO_XEN_KERNEL:-}" ]; then
	kver=$PVIO_XEN_KERNEL
else
	kver=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
		awk '{ print $1 }' | sed 's/^linux-image-//' | sort -V | tail -1)
	[ -n "$kver" ] || die "apt offers no linux-image-6.1.0-*-amd64; run apt-get update"
fi
pkgs="xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
	libxenevtchn1 libxengnttab1 libxenmisc4.17 libxentoollog1
	libxentoolcore1 libxencall1 libxenforeignmemory1 libxendevicemodel1
	libxenstore4 busybox-static linux-image-$kver"
missing=""
for p in $pkgs; do
	ls "$debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "run.sh: downloading$missing"
	# shellcheck disable=SC2086
	(cd "$debs" && apt-get download -q $missing) ||
		die "apt-get download failed; is the Debian mirror reachable?"
fi

stage="$work/stage"
want=""
for p in $pkgs; do
	want="$want $(ls "$debs/${p}_"*.deb | sort -V | tail -1)"
done
if [ "$(cat "$stage.list" 2>/dev/null)" != "$want" ]; then
	rm -rf "$stage" "$stage.list"
	mkdir -p "$stage"
	for d in $want; do
		dpkg-deb -x "$d" "$stage"
	done
	echo "$want" >"$stage.list"
fi

# -- boot files --------------------------------------------------------------
boot="$work/boot"
mkdir -p "$boot"
gzip -dc "$stage/boot/xen-4.17-amd64.gz" >"$boot/xen.bin"
cp "$stage/boot/vmlinuz-$kver" "$boot/vmlinuz"
"$here/mkinitrd.sh" "$stage" "$kver" "$xtest" "$pvio" "$here/init.sh" \
	"$work/root" "$boot/initrd.gz"

# -- boot ------------------------------------------------------------------
log="$work/serial.log"
: >"$log"
echo "run.sh: booting Xen 4.17 + dom0 $kver under QEMU (TCG), at most $tmo s; serial log: $log"
start=$(date +%s)
# Xen on com1; dom0 on hvc0 (Xen's console, so also com1).  QEMU's
# multiboot loader takes -initrd as "file args,file args": the dom0
# kernel with its command line, then the initramfs.
timeout --kill-after=10 "$tmo" qemu-system-x86_64 -accel tcg -M q35 \
	-cpu Nehalem -m 1536 -smp 2 -display none -vga none -monitor none \
	-serial "file:$log" -no-reboot -nic none \
	-kernel "$boot/xen.bin" \
	-append "console=com1 com1=115200 dom0_mem=768M noreboot dom0_max_vcpus=1" \
	-initrd "$boot/vmlinuz console=hvc0 quiet xtest.bench=$bench,$boot/initrd.gz" \
	</dev/null &
qpid=$!
# progress: the result lines as they come
tail -n +1 -f --pid=$qpid "$log" 2>/dev/null | grep --line-buffered '^XTEST' &
tpid=$!
qrc=0
wait $qpid || qrc=$?
wait $tpid 2>/dev/null || true
echo "run.sh: QEMU exited ($qrc) after $(($(date +%s) - start)) s"

# -- results ----------------------------------------------------------------
expect="boot"
for p in 1 2; do
	expect="$expect blk$p-open blk$p-negotiated blk$p-read blk$p-write
		blk$p-flush blk$p-readback blk$p-evtchn blk$p-grant-live
		blk$p-closed blk$p-grants-ended blk$p-detached blk$p-landed
		net$p-open net$p-tx net$p-rx net$p-evtchn net$p-grant-live
		net$p-closed net$p-grants-ended net$p-detached"
done
expect="$expect blk1-discard blk-limit-short blk-limit-fits
	blk-limit-fail-detached blk-limit-ok-detached no-deferred-grants
	cli-info-vbd-detached cli-write-vbd-detached cli-discard-vbd-detached
	cli-read-vbd-detached cli-info-vif-detached cli-loopback-vif-detached"
rc=0
tr -d '\r' <"$log" >"$log.txt"
for c in $expect; do
	if ! grep -q "^XTEST OK $c\( \|$\)" "$log.txt"; then
		echo "run.sh: missing: XTEST OK $c"
		rc=1
	fi
done
# -- what the pvio command printed in dom0 ("XTEST PVIO TAG LINE") --------
# The written bytes and the discarded range are init.sh's (PAT_*, DISC_*);
# their digests are computed here, independently of dom0.
PAT_LINE="pvio blk write xen:vbd/51712 from dom0" PAT_LEN=1060864
DISC_LEN=1048576 DISK_SIZE=16777216 MAC=00:16:3e:5a:00:01
NET_COUNT=256 NET_SIZE=1514
pat_md5=$( (yes "$PAT_LINE" || :) | head -c $PAT_LEN | md5sum | cut -d' ' -f1)
zero_md5=$(head -c $DISC_LEN /dev/zero | md5sum | cut -d' ' -f1)
# pv TAG ERE: pvio's output under TAG has a line matching ERE (whole line)
pv() {
	if ! grep -Eq "^XTEST PVIO $1 $2\$" "$log.txt"; then
		echo "run.sh: pvio $1 printed no line matching '$2'"
		rc=1
	fi
}
# pv_md5 TAG [WHAT]: the digest in the line "XTEST PVIO TAG [WHAT] md5 HEX"
pv_md5() {
	sed -n "s/^XTEST PVIO $1${2:+ $2} md5 \([0-9a-f]\{32\}\)\( .*\)\{0,1\}\$/\1/p" \
		"$log.txt" | head -1
}
# same WHAT A B: both digests are there and equal
same() {
	if [ -z "$2" ] || [ "$2" != "$3" ]; then
		echo "run.sh: $1: '$2' is not '$3'"
		rc=1
	fi
}
for t in vbd-info blk-write blk-discard blk-read vif-info net-loopback; do
	pv $t 'exit 0'
done
for re in 'device +xen:vbd/51712' 'class +blk' 'hypervisor +Xen \(xen family\)' \
	'back end +xen' 'protocol +blkif' 'state +ready' \
	'native +ring-page-order=[0-9]+ queues=[0-9]+ feature-max-indirect-segments=[0-9]+ feature-persistent=1 sector-size=512 .*' \
	' +indirect +yes +yes' ' +persistent-map +yes +yes' \
	' +multi-page-ring +yes +yes' ' +flush +yes +yes' \
	' +discard +yes +yes' \
	"  capacity +$DISK_SIZE bytes \(16\.0 MiB\)" '  block size +512 .*' \
	'  read-only +no' '  flush +yes .*' '  discard +yes, .*'; do
	pv vbd-info "$re"
done
for re in 'device +xen:vif/0' 'class +net' 'hypervisor +Xen \(xen family\)' \
	'back end +xen' 'protocol +netif' 'state +ready' \
	'native +feature-sg=1 .*' ' +mac +yes +yes' \
	"  mac +$MAC" '  mtu +1500' '  link +up'; do
	pv vif-info "$re"
done
pv blk-read "bytes $DISK_SIZE md5 [0-9a-f]{32}"
same "pvio blk read: the whole disk against the image file" \
	"$(sed -n 's/^XTEST PVIO blk-read bytes [0-9]* md5 //p' "$log.txt" | head -1)" \
	"$(pv_md5 blk-image)"
same "pvio blk write: the written bytes read back by pvio blk read" \
	"$(pv_md5 blk-read written)" "$pat_md5"
same "pvio blk write: the written bytes in the image file" \
	"$(pv_md5 blk-image written)" "$pat_md5"
same "pvio blk discard: the discarded range read back (zeros)" \
	"$(pv_md5 blk-read discarded)" "$zero_md5"
before=$(pv_md5 blk-image discard-range)
if [ -z "$before" ] || [ "$before" = "$zero_md5" ]; then
	echo "run.sh: pvio blk discard: the range held no data before ('$before')"
	rc=1
fi
pv net-loopback "xen:vif/0: $NET_COUNT frames of $NET_SIZE bytes on 1 queue, window 64"
pv net-loopback "sent $NET_COUNT  received $NET_COUNT  corrupted 0  duplicate 0  lost 0  unsent 0  foreign [0-9]+"
pv net-loopback '[0-9]+ frames/s round trip .*'
if ! grep -q "^XTEST INFO reflect frames $NET_COUNT bytes $((NET_COUNT * NET_SIZE)) unsent 0 on vif0.0\$" "$log.txt"; then
	echo "run.sh: the reflector in dom0 did not send back exactly pvio's $NET_COUNT frames"
	rc=1
fi
if grep -q '^XTEST FAIL' "$log.txt"; then
	echo "run.sh: failed checks:"
	grep '^XTEST FAIL' "$log.txt"
	rc=1
fi
if ! grep -q '^XTEST DONE' "$log.txt"; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "run.sh: the run did not finish within $tmo s (hang)"
	else
		echo "run.sh: the run did not finish (QEMU exit status $qrc)"
	fi
	rc=1
fi
if [ "$rc" != 0 ]; then
	echo "run.sh: ---- last 60 lines of the serial log ----"
	tail -n 60 "$log.txt"
	echo "run.sh: FAIL"
	exit 1
fi
n=$(grep -c '^XTEST OK' "$log.txt")
echo "run.sh: PASS ($n checks on real Xen, $(($(date +%s) - start)) s)"
