#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/xenreal/init.sh - /init of dom0's initramfs (busybox sh), written
# by tests/xenreal/run.sh: bring up dom0's Xen services by hand (modules,
# xenstored, dom0's own xenstore nodes), play the toolstack (write the
# device nodes xen-real.md lists, remove them afterwards), run xtest and
# the pvio command, and power off.  Results are "XTEST ..." lines on the console (hvc0, which
# Xen forwards to the serial port).  Every wait is bounded; run.sh also
# bounds the whole boot.
#
# Kernel command line: xtest.bench=SECONDS also runs the benchmarks.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

say() { echo "XTEST $*"; }

# wait_for TENTHS CMD...: until CMD succeeds, at most TENTHS x 0.1 s
wait_for() {
	n=$1
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -le 0 ] && return 1
		sleep 0.1
	done
	return 0
}
absent() { ! test -e "$1"; }

finish() {
	say DONE
	# dom0 waits for nothing at power-off (no kernel front ends); the
	# sleep keeps init alive until it happens (init exiting panics)
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mkdir -p /run/lock /run/xen /run/xenstored /tmp

BENCH=0
for a in $(cat /proc/cmdline); do
	case "$a" in
	xtest.bench=*) BENCH=${a#xtest.bench=} ;;
	esac
done

# -- dom0's Xen services ---------------------------------------------------
# never xen-blkfront / xen-netfront: a kernel front end would take our
# device/vbd and device/vif nodes (xen-real.md pitfall 5)
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback \
	xen-netback loop; do
	if ! modprobe "$m"; then
		say FAIL boot: modprobe "$m" failed
		finish
	fi
done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xenstored.pid
if ! wait_for 100 test -S /run/xenstored/socket; then
	say FAIL boot: xenstored did not create its socket in 10 s
	finish
fi
# what xen-init-dom0 would write (we need no libxenlight)
xenstore-write /local/domain/0/name Domain-0 /local/domain/0/domid 0
say OK boot "dom0 $(uname -r) up $(cut -d' ' -f1 /proc/uptime) s, Xen $(cat /sys/hypervisor/version/major 2>/dev/null).$(cat /sys/hypervisor/version/minor 2>/dev/null)$(cat /sys/hypervisor/version/extra 2>/dev/null), gntalloc limit $(cat /sys/module/xen_gntalloc/parameters/limit)"

# -- the toolstack's part --------------------------------------------------
FE=/local/domain/0/device
BE=/local/domain/0/backend

# vbd_attach DEVID LOOPDEV: front-end nodes first, then the back end's
# (dev and physical-device are what blkback needs, xen-real.md pitfall 3)
vbd_attach() {
	f=$FE/vbd/$1
	b=$BE/vbd/0/$1
	pd=$(stat -L -c '%t:%T' "$2")
	xenstore-write $f/backend $b $f/backend-id 0 $f/virtual-device $1 \
		$f/device-type disk $f/state 1 &&
		xenstore-write $b/frontend $f $b/frontend-id 0 $b/online 1 \
			$b/state 1 $b/type phy $b/mode w $b/params "$2" \
			$b/dev xvda $b/physical-device "$pd"
}

# dev_detach TYPE DEVID SYSPATH NAME: remove the nodes after pvio closed
# the device; the kernel then removes the back end
dev_detach() {
	xenstore-write $BE/$1/0/$2/online 0
	xenstore-rm $BE/$1/0/$2
	xenstore-rm $FE/$1/$2
	if xenstore-exists $FE/$1/$2 || xenstore-exists $BE/$1/0/$2; then
		say FAIL "$4-detached": the nodes of $1/$2 are still there
	elif ! wait_for 300 absent "$3"; then
		say FAIL "$4-detached": "$3" still exists 30 s after the nodes went
	else
		say OK "$4-detached" nodes removed, back end "$3" gone
	fi
}

# vif_attach HANDLE MAC: netback needs `script` (xen-real.md pitfall 2);
# hotplug-status is what the hotplug script would write.  Then vif0.N up.
vif_attach() {
	f=$FE/vif/$1
	b=$BE/vif/0/$1
	xenstore-write $f/backend $b $f/backend-id 0 $f/handle $1 $f/mac $2 \
		$f/state 1 &&
		xenstore-write $b/frontend $f $b/frontend-id 0 $b/online 1 \
			$b/state 1 $b/handle $1 $b/mac $2 $b/type vif \
			$b/script /bin/true $b/hotplug-status connected ||
		return 1
	if ! wait_for 200 test -e /sys/class/net/vif0.$1; then
		say FAIL "vif$1-attach": netback created no vif0.$1 in 20 s
		return 1
	fi
	ip link set vif0.$1 up
}

# -- block: a loop device on an image with known content -----------------
SIZE=16777216
VBD=51712
xtest mkimage /run/disk.img $SIZE
LOOP=/dev/loop0
losetup $LOOP /run/disk.img || say FAIL boot: losetup failed

for phase in 1 2; do
	if vbd_attach $VBD $LOOP; then
		addr=xen:vbd/$VBD
		# phase 2 reaches xenstore through the kernel's xenbus device
		[ $phase = 2 ] && addr="$addr?xenstore=/dev/xen/xenbus"
		timeout 300 xtest blk "$addr" $SIZE $phase /run/blk.state
		# what the real back end wrote (for comparing the sim with it)
		[ $phase = 1 ] && xenstore-ls -f $BE/vbd/0/$VBD |
			sed 's/^/XTEST INFO xenstore /'
		dev_detach vbd $VBD /sys/bus/xen-backend/devices/vbd-0-$VBD \
			blk$phase
		xtest verify $LOOP $SIZE $phase /run/blk.state
	else
		say FAIL blk$phase-attach: xenstore-write failed
	fi
done

# -- gntalloc's limit: pvio sizes its copy pools to it, or says why not --
# 200 pages: a 16-page ring, 64 indirect pages, and too few left for a
# pool of 256-segment requests; ?indirect=32 fits.
LIMIT=/sys/module/xen_gntalloc/parameters/limit
old=$(cat $LIMIT)
echo 200 >$LIMIT
for try in "fail:" "ok:?indirect=32"; do
	if vbd_attach $VBD $LOOP; then
		timeout 300 xtest blk-limit "xen:vbd/$VBD${try#*:}" $SIZE ${try%%:*}
		dev_detach vbd $VBD /sys/bus/xen-backend/devices/vbd-0-$VBD \
			blk-limit-${try%%:*}
	fi
done
echo "$old" >$LIMIT

# -- network: vif0.0 in dom0 ------------------------------------------------
MAC=00:16:3e:5a:00:01
for phase in 1 2; do
	if vif_attach 0 $MAC; then
		addr=xen:vif/0
		[ $phase = 2 ] && addr="$addr?xenstore=/dev/xen/xenbus"
		timeout 300 xtest net "$addr" vif0.0 $phase
		[ $phase = 1 ] && xenstore-ls -f $BE/vif/0/0 |
			sed 's/^/XTEST INFO xenstore /'
		dev_detach vif 0 /sys/class/net/vif0.0 net$phase
	fi
done

# -- the pvio command on xen:vbd/N and xen:vif/N ---------------------------
# /usr/bin/pvio (tests/xenreal/pvio-static) against the same back ends,
# each command on a fresh attach after xtest let go of them: info, a write
# of known bytes, a discard and the whole disk read back for the vbd; info
# and a loopback for the vif, with `xtest reflect` sending the frames back
# into vif0.0.  The command's output goes to the log as "XTEST PVIO TAG
# LINE" and "XTEST PVIO TAG exit N"; run.sh checks what it says (the
# numbers below are run.sh's too: PAT_*, DISC_*).
PAT_LINE="pvio blk write xen:vbd/51712 from dom0"
PAT_OFF=8390144 # 8 MiB + 1536: crosses pages
PAT_LEN=1060864 # 1 MiB + 12 KiB: more than one request of the command
DISC_OFF=12582912
DISC_LEN=1048576

# pvio_run TAG OUT ARGS...: `pvio ARGS`, its stdout into OUT (- : onto
# the log), its stderr onto the log
pvio_run() {
	tag=$1
	out=$2
	shift 2
	if [ "$out" = - ]; then
		timeout 120 pvio "$@" >/run/pvio.log 2>&1
	else
		timeout 120 pvio "$@" >"$out" 2>/run/pvio.log
	fi
	rc=$?
	sed "s/^/XTEST PVIO $tag /" /run/pvio.log
	echo "XTEST PVIO $tag exit $rc"
}

# md5 of LEN bytes of FILE at OFF (multiples of 512)
md5_at() {
	dd if="$1" bs=512 skip=$(($2 / 512)) count=$(($3 / 512)) 2>/dev/null |
		md5sum | cut -d' ' -f1
}

yes "$PAT_LINE" | head -c $PAT_LEN >/run/pattern.bin
echo "XTEST PVIO blk-image discard-range md5 $(md5_at /run/disk.img $DISC_OFF $DISC_LEN) before"
for step in info write discard read; do
	if ! vbd_attach $VBD $LOOP; then
		say FAIL cli-$step-vbd-attach: xenstore-write failed
		continue
	fi
	case $step in
	info) pvio_run vbd-info - info xen:vbd/$VBD ;;
	write) pvio_run blk-write - blk write --sync xen:vbd/$VBD $PAT_OFF \
		</run/pattern.bin ;;
	discard) pvio_run blk-discard - blk discard xen:vbd/$VBD $DISC_OFF \
		$DISC_LEN ;;
	read) pvio_run blk-read /run/cli-disk.bin blk read xen:vbd/$VBD 0 $SIZE ;;
	esac
	dev_detach vbd $VBD /sys/bus/xen-backend/devices/vbd-0-$VBD \
		cli-$step-vbd
done
# what the command read, against the image file behind the loop device
echo "XTEST PVIO blk-read bytes $(stat -c %s /run/cli-disk.bin) md5 $(md5sum </run/cli-disk.bin | cut -d' ' -f1)"
echo "XTEST PVIO blk-read written md5 $(md5_at /run/cli-disk.bin $PAT_OFF $PAT_LEN)"
echo "XTEST PVIO blk-read discarded md5 $(md5_at /run/cli-disk.bin $DISC_OFF $DISC_LEN)"
echo "XTEST PVIO blk-image md5 $(md5sum </run/disk.img | cut -d' ' -f1)"
echo "XTEST PVIO blk-image written md5 $(md5_at /run/disk.img $PAT_OFF $PAT_LEN)"
rm -f /run/cli-disk.bin /run/pattern.bin

if vif_attach 0 $MAC; then
	pvio_run vif-info - info xen:vif/0
	dev_detach vif 0 /sys/class/net/vif0.0 cli-info-vif
fi
if vif_attach 0 $MAC; then
	rm -f /run/reflect.ready
	xtest reflect vif0.0 /run/reflect.ready 120 &
	rpid=$!
	if wait_for 100 test -e /run/reflect.ready; then
		pvio_run net-loopback - net loopback xen:vif/0 --count 256 \
			--size 1514 --window 64 --wait 5
	else
		say FAIL cli-net-loopback: the reflector on vif0.0 did not start in 10 s
	fi
	kill $rpid
	wait $rpid
	dev_detach vif 0 /sys/class/net/vif0.0 cli-loopback-vif
fi

# -- grants: none left behind --------------------------------------------
# The kernel defers (and logs "deferring g.e.") a grant it cannot end
# because the peer still maps it: pvio must end grants only after the
# back end let go of them.
n=$(dmesg | grep -c 'g\.e\. ')
if [ "$n" = 0 ]; then
	say OK no-deferred-grants the kernel ended every grant at once
else
	say FAIL no-deferred-grants: "$n grant(s) still mapped when released:"
	dmesg | grep 'g\.e\. ' | head -5 | sed 's/^/XTEST INFO dmesg /'
fi
dmesg | grep -E 'blkback|netback|vbd|vif' | grep -v 'g\.e\.' |
	tail -20 | sed 's/^/XTEST INFO dmesg /'

# -- benchmarks ------------------------------------------------------------
if [ "$BENCH" != 0 ]; then
	if vbd_attach $VBD $LOOP; then
		timeout 300 xtest bench-blk xen:vbd/$VBD "$BENCH" xen
		dev_detach vbd $VBD /sys/bus/xen-backend/devices/vbd-0-$VBD \
			bench-blk
	fi
	if vif_attach 0 $MAC; then
		timeout 300 xtest bench-net xen:vif/0 vif0.0 "$BENCH" xen
		dev_detach vif 0 /sys/class/net/vif0.0 bench-net
	fi
	xtest mkimage /run/sim.img $SIZE
	timeout 300 xtest bench-sim /run/sim.img "$BENCH"
fi

finish
