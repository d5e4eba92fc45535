#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/guest/bench.sh - the numbers in BENCHMARKS.md, "Freestanding guest":
# the probe guest with pvio.bench=1 on q35 (virtio-pci) and microvm
# (virtio-mmio), split and packed rings, and - with --linux - Linux's own
# virtio drivers under the same QEMU command lines (Debian's cloud kernel,
# fetched with apt-get download, and a busybox-static initramfs doing dd on
# /dev/vda and pings to 10.0.2.2).
#
#   tests/guest/bench.sh [--linux] [--accel tcg|kvm] [--runs N]
#
# Boot-to-first-I/O is measured from the host for both guests the same way:
# from starting QEMU to the first I/O's line appearing in the console log
# (polled every 5 ms).  The probe also reports its own TSC-based times.
# Run from the build directory (it uses tests/guest/pvio-probe.elf).
set -u
ACCEL=tcg
LINUX=0
RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--linux) LINUX=1 ;;
	--accel) ACCEL=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	*) echo "usage: $0 [--linux] [--accel tcg|kvm] [--runs N]" >&2; exit 2 ;;
	esac
	shift
done
KERNEL=${PVIO_PROBE_KERNEL:-tests/guest/pvio-probe.elf}
[ -f "$KERNEL" ] || { echo "no $KERNEL; run from the build directory" >&2; exit 1; }
QEMU=${QEMU:-qemu-system-x86_64}
T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-bench.XXXXXX")
QPID=
trap '[ -n "$QPID" ] && kill -9 $QPID 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
if [ "$ACCEL" = kvm ]; then CPU="-accel kvm -cpu host"; else CPU="-accel tcg -cpu max"; fi
SECTORS=131072 # 64 MiB

ms() { date +%s%N | cut -c1-13; }

# qrun LOG MARKER QEMU-ARGS...: run QEMU (60 s limit); FIRST = ms from
# start to MARKER in LOG, TOTAL = ms to exit
qrun() {
	log=$1 marker=$2
	shift 2
	: >"$log"
	t0=$(ms)
	# shellcheck disable=SC2086
	$QEMU -nographic -no-reboot -nodefaults -m 256M "$@" >"$T/qemu.out" 2>&1 &
	QPID=$!
	FIRST=-
	while kill -0 $QPID 2>/dev/null; do
		if [ "$FIRST" = - ] && grep -q "$marker" "$log" 2>/dev/null; then
			FIRST=$(($(ms) - t0))
		fi
		if [ $(($(ms) - t0)) -gt 60000 ]; then
			kill -9 $QPID
			echo "  (timed out)"
			break
		fi
		sleep 0.005
	done
	wait $QPID
	QPID=
	TOTAL=$(($(ms) - t0))
	[ "$FIRST" = - ] && grep -q "$marker" "$log" && FIRST="<$TOTAL"
}

disk() {
	python3 -c "
import struct,sys
with open(sys.argv[1],'wb') as f:
    for s in range($SECTORS):
        f.write((b'PVIOSECT'+struct.pack('<Q',s)).ljust(512,b'\0'))" "$1"
}

devs() { # machine packed
	if [ "$1" = q35 ]; then
		echo "-device virtio-blk-pci,drive=d0,packed=$2 -device virtio-net-pci,netdev=n0,packed=$2"
	else
		echo "-global virtio-mmio.force-legacy=false -device virtio-blk-device,drive=d0,packed=$2 -device virtio-net-device,netdev=n0,packed=$2"
	fi
}

echo "accelerator: $ACCEL; $(nproc) host CPUs; $($QEMU --version | head -1)"
echo "== pvio probe guest (64 MiB disk; boot timing without, throughput with pvio.bench=1) =="
for m in q35 microvm; do
	for pk in off on; do
		for r in $(seq "$RUNS"); do
			for b in 0 1; do
				disk "$T/d.img"
				# shellcheck disable=SC2046
				qrun "$T/p.log" "blk.first_io_ms" -M $m $CPU -serial none \
					-debugcon "file:$T/p.log" \
					-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
					-kernel "$KERNEL" -append "pvio.bench=$b pvio.blk.sectors=$SECTORS" \
					-drive "file=$T/d.img,format=raw,if=none,id=d0,discard=unmap" \
					-netdev user,id=n0 $(devs $m $pk)
				tr -d '\r' <"$T/p.log" >"$T/p2.log"
				res=$(sed -n 's/^PVIO-GUEST result //p' "$T/p2.log")
				if [ "$b" = 0 ]; then
					printf '%-8s packed=%-3s run %s: host: first I/O %s ms, exit %s ms; ' \
						$m $pk "$r" "$FIRST" "$TOTAL"
					printf 'guest: entry %s ms, first I/O %s ms (since reset), result %s\n' \
						"$(sed -n 's/^PVIO-GUEST boot.entry_ms //p' "$T/p2.log")" \
						"$(sed -n 's/^PVIO-GUEST blk.first_io_ms //p' "$T/p2.log")" "$res"
				else
					[ "$res" = ok ] || echo "    bench run: result $res"
					sed -n 's/^PVIO-GUEST \(bench\.[^ ]*\) /    \1 /p' "$T/p2.log"
				fi
			done
		done
	done
done

[ "$LINUX" = 1 ] || exit 0
echo "== Linux virtio drivers (same QEMU command lines) =="
L=$T/linux
mkdir -p "$L"
(cd "$L" && apt-get download 'linux-image-6.1.*-cloud-amd64-unsigned' >/dev/null 2>&1) ||
	(cd "$L" && pkg=$(apt-cache search --names-only '^linux-image-6\.1\.[0-9-]*-cloud-amd64-unsigned$' | sort -V | tail -1 | cut -d' ' -f1) &&
		apt-get download "$pkg" >/dev/null 2>&1)
deb=$(ls "$L"/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "cannot download a Debian cloud kernel" >&2; exit 1; }
dpkg-deb -x "$deb" "$L/root"
BB=$(command -v busybox)
case $(file -b "$BB" 2>/dev/null) in *static*) ;; *) BB=/bin/busybox ;; esac
vmlinuz=$(ls "$L"/root/boot/vmlinuz-*)
I=$L/initrd
mkdir -p "$I/bin" "$I/m" "$I/proc" "$I/sys" "$I/dev"
cp "$BB" "$I/bin/busybox"
for k in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_mmio virtio_blk failover net_failover virtio_net; do
	f=$(find "$L/root/lib/modules" -name "$k.ko*" | head -1)
	cp "$f" "$I/m/"
done
cat >"$I/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for k in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_mmio virtio_blk failover net_failover virtio_net; do
	insmod /m/$k.ko* 2>/dev/null
done
n=0
while [ ! -b /dev/vda ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n + 1)); done
dd if=/dev/vda of=/dev/null bs=512 count=1 iflag=direct 2>/dev/null
echo "LINUX first_io uptime $(cut -d' ' -f1 /proc/uptime)"
echo "LINUX features blk $(cat /sys/block/vda/device/features 2>/dev/null)"
up() { cut -d' ' -f1 /proc/uptime; }
rate() { awk "BEGIN { printf \"%d KiB/s (%d MiB in %.2f s)\", $1 * 1024 / ($3 - $2), $1, $3 - $2 }"; }
t0=$(up)
for i in 1 2 3 4 5 6 7 8; do dd if=/dev/vda of=/dev/null bs=64k count=1024 iflag=direct 2>/dev/null; done
t1=$(up)
echo "LINUX read_qd1 $(rate 512 $t0 $t1)"
t0=$(up)
for i in 1 2 3 4 5 6 7 8; do dd if=/dev/zero of=/dev/vda bs=64k count=512 seek=512 oflag=direct 2>/dev/null; done
t1=$(up)
echo "LINUX write_qd1 $(rate 256 $t0 $t1)"
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ping -c 1 -W 3 10.0.2.2 >/dev/null
t0=$(up)
p=$(ping -q -A -c 5000 -s 1400 10.0.2.2 2>&1 | tail -2 | tr '\n' ' ')
t1=$(up)
echo "LINUX ping_A_1400 $(awk "BEGIN { printf \"%d replies/s\", 5000 / ($t1 - $t0) }") ($p)"
echo "LINUX done"
reboot -f
EOF
chmod +x "$I/init"
(cd "$I" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$L/initrd.gz"
# Linux cannot calibrate its TSC on microvm under TCG (no HPET, and the PIT
# calibration fails) and then hangs: tell it the host's TSC rate, which is
# what QEMU's TCG TSC runs at
KHZ=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
for m in q35 microvm; do
	for pk in off on; do
		for r in $(seq "$RUNS"); do
			disk "$T/d.img"
			# shellcheck disable=SC2046
			qrun "$T/l.log" "LINUX first_io" -M $m $CPU -serial "file:$T/l.log" \
				-kernel "$vmlinuz" -initrd "$L/initrd.gz" \
				-append "console=ttyS0 quiet panic=-1 rdinit=/init tsc_early_khz=$KHZ tsc=reliable" \
				-drive "file=$T/d.img,format=raw,if=none,id=d0,discard=unmap" \
				-netdev user,id=n0 $(devs $m $pk)
			tr -d '\r' <"$T/l.log" >"$T/l2.log"
			printf '%-8s packed=%-3s run %s: host: first I/O %s ms, exit %s ms\n' \
				$m $pk "$r" "$FIRST" "$TOTAL"
			grep '^LINUX' "$T/l2.log" | grep -v first_io | sed 's/^/    /'
		done
	done
done
