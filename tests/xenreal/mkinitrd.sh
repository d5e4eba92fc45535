#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/xenreal/mkinitrd.sh - dom0's initramfs for tests/xenreal/run.sh.
#
#   mkinitrd.sh STAGE KVER XTEST PVIO INIT ROOT OUT
#
# STAGE is the tree the Debian packages were extracted into (run.sh does
# that), KVER the dom0 kernel's version, XTEST the static test program,
# PVIO the static pvio command, INIT the /init script, ROOT a scratch
# directory (emptied), OUT the gzipped cpio archive to write.
#
# Contents: busybox (every applet linked), xenstored and the xenstore
# client (with the libraries ldd finds for them, from STAGE first), the
# Xen and loop modules with their dependencies (depmod run on STAGE
# first: the linux-image package ships no modules.dep), xtest, pvio and
# /init.
# No xl, no hotplug scripts: the harness writes the xenstore nodes.
set -euo pipefail

if [ $# -ne 7 ]; then
	echo "usage: mkinitrd.sh STAGE KVER XTEST PVIO INIT ROOT OUT" >&2
	exit 2
fi
S=$1 KVER=$2 XTEST=$3 PVIO=$4 INIT=$5 R=$6 OUT=$7
LIBDIR=usr/lib/x86_64-linux-gnu

die() { echo "mkinitrd.sh: $*" >&2; exit 1; }
[ -x "$S/bin/busybox" ] || die "$S/bin/busybox missing (busybox-static not extracted)"
[ -x "$S/usr/lib/xen-4.17/bin/xenstored" ] || die "xenstored missing (xen-utils-4.17 not extracted)"
[ -x "$S/usr/bin/xenstore" ] || die "xenstore client missing (xenstore-utils not extracted)"
[ -d "$S/lib/modules/$KVER" ] || die "no modules for $KVER in $S"
[ -x "$XTEST" ] || die "$XTEST missing"
[ -x "$PVIO" ] || die "$PVIO missing"

rm -rf "$R"
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,run,tmp,lib,lib64,usr/bin,usr/sbin,$LIBDIR}
mkdir -p "$R"/var/{lib/xen,log/xen}
ln -s ../run "$R/var/run"
ln -s "../$LIBDIR" "$R/lib/x86_64-linux-gnu"

# busybox and its applets (never over something already there)
cp "$S/bin/busybox" "$R/bin/busybox"
for a in $("$S/bin/busybox" --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done

# xenstored and the xenstore client, linked as xenstore-<verb>
cp "$S/usr/lib/xen-4.17/bin/xenstored" "$R/usr/sbin/xenstored"
cp "$S/usr/bin/xenstore" "$R/usr/bin/xenstore"
for v in read write ls list rm exists watch chmod; do
	ln -sf xenstore "$R/usr/bin/xenstore-$v"
done

# their shared libraries: the packages' first, the host's C library
for b in "$R/usr/sbin/xenstored" "$R/usr/bin/xenstore"; do
	out=$(LD_LIBRARY_PATH="$S/$LIBDIR" ldd "$b") || die "ldd $b failed"
	if grep -q "not found" <<<"$out"; then
		die "libraries of $b not found: $(grep 'not found' <<<"$out" | tr '\n' ' ')"
	fi
	for l in $(awk '/=>/ { print $3 }' <<<"$out"); do
		[ -f "$l" ] && cp -L "$l" "$R/$LIBDIR/"
	done
done
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"

# modules and what they depend on
depmod -b "$S" "$KVER"
declare -A seen
add_module() {
	local m=$1 f d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	f=$(modinfo -b "$S" -k "$KVER" -F filename "$m") ||
		die "module $m not found for $KVER"
	case "$f" in
	"(builtin)" | "") return 0 ;;
	esac
	mkdir -p "$R/$(dirname "${f#"$S"/}")"
	cp "$f" "$R/${f#"$S"/}"
	for d in $(modinfo -b "$S" -k "$KVER" -F depends "$m" | tr , ' '); do
		add_module "$d"
	done
}
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd \
	xen-blkback xen-netback loop; do
	add_module "$m"
done
cp "$S/lib/modules/$KVER"/modules.{builtin,builtin.modinfo,order} \
	"$R/lib/modules/$KVER/"
depmod -b "$R" "$KVER"

cp "$XTEST" "$R/usr/bin/xtest"
cp "$PVIO" "$R/usr/bin/pvio"
cp "$INIT" "$R/init"
chmod 755 "$R/init" "$R/usr/bin/xtest" "$R/usr/bin/pvio"

(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
