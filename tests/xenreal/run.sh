#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/xenreal/run.sh - pvio's Xen back end on a real Xen hypervisor.
#
# Boots Debian 12's Xen 4.17 with Debian's 6.1 dom0 kernel under QEMU
# (TCG: KVM cannot run Xen here) with an initramfs holding xenstored, the
# Xen back-end modules and xtest (tests/xenreal/xtest.c, static), whose
# /init (init.sh) attaches a vbd and a vif to dom0 itself and runs pvio's
# front ends against xen-blkback and xen-netback.  Results come back on
# the serial log as "XTEST ..." lines; this script checks that every
# expected check passed, none failed, and the run finished.
#
#   run.sh --xtest PATH [--work DIR] [--bench SECONDS] [--timeout SECONDS]
#
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
xtest="" work="$PWD/xenreal-work" bench=0 tmo=""
while [ $# -gt 0 ]; do
	case "$1" in
	--xtest) xtest=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--bench) bench=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	-h | --help) sed -n '3,24p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'; see --help" >&2; exit 2 ;;
	esac
done
die() { echo "run.sh: $*" >&2; exit 2; }
[ -n "$xtest" ] && [ -x "$xtest" ] || die "--xtest PATH (the static test program) is required"
file -b "$xtest" 2>/dev/null | grep -q dynamic &&
	die "$xtest is dynamically linked; build it with \`make check-xen\`"
# a hang must fail, not block CI: the whole boot is bounded
[ -n "$tmo" ] || tmo=$((600 + 10 * bench))

for t in qemu-system-x86_64 apt-get apt-cache dpkg-deb depmod modinfo cpio \
	gzip ldd timeout; do
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
"$here/mkinitrd.sh" "$stage" "$kver" "$xtest" "$here/init.sh" \
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
	blk-limit-fail-detached blk-limit-ok-detached no-deferred-grants"
rc=0
tr -d '\r' <"$log" >"$log.txt"
for c in $expect; do
	if ! grep -q "^XTEST OK $c\( \|$\)" "$log.txt"; then
		echo "run.sh: missing: XTEST OK $c"
		rc=1
	fi
done
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
