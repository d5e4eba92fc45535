#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/integration/guest_install.sh - the freestanding library as an
# out-of-tree consumer sees it: `make install` into a DESTDIR, then build
# the probe guest from its sources with nothing but the installed headers,
# the installed libpvio-freestanding.a and `pkg-config --cflags --libs
# pvio-freestanding`, and boot it once under QEMU.
. "${top_srcdir:-.}/tests/integration/guest_lib.sh"
need_tools
CC=${CC:-cc}
D=$T/root
if ! make -C "$top_builddir" install DESTDIR="$D" >"$T/install.log" 2>&1; then
	bad "make install DESTDIR=$D failed"
	tail -20 "$T/install.log"
	finish
	exit 1
fi
pc=$(find "$D" -name pvio-freestanding.pc | head -1)
if [ -z "$pc" ]; then
	bad "no pvio-freestanding.pc installed"
	finish
	exit 1
fi
ok "installed $(find "$D" -name 'libpvio-freestanding.a' | sed "s|^$D||") and ${pc#"$D"}"
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$D
PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
if ! cflags=$(pkg-config --cflags pvio-freestanding) ||
	! libs=$(pkg-config --libs pvio-freestanding); then
	bad "pkg-config does not know pvio-freestanding"
	finish
	exit 1
fi
ok "pkg-config: cflags '$cflags', libs '$libs'"
case "$cflags $libs" in
*"$top_srcdir"* | *"$top_builddir"*)
	bad "pkg-config points into the source or build tree"
	;;
esac

# the kernel's own flags: no C library, no red zone, not PIC
KFLAGS="-std=gnu11 -O2 -ffreestanding -fno-stack-protector -fno-pic -fno-pie
	-mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables
	-nostdinc -isystem $($CC -print-file-name=include)"
G=$top_srcdir/tests/guest
objs=
for src in boot.S runtime.c probe.c probe_blk.c probe_net.c; do
	o=$T/${src%.*}.o
	# shellcheck disable=SC2086
	if ! $CC $KFLAGS $cflags -c "$G/$src" -o "$o" 2>"$T/cc.log"; then
		bad "compiling $src against the installed headers failed"
		head -20 "$T/cc.log"
		finish
		exit 1
	fi
	objs="$objs $o"
done
# shellcheck disable=SC2086
if ! $CC -nostdlib -no-pie -Wl,-T,"$G/guest.ld" -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments $objs $libs \
	-o "$T/probe.elf" 2>"$T/ld.log"; then
	bad "linking the probe with the installed library failed"
	head -20 "$T/ld.log"
	finish
	exit 1
fi
ok "built the probe out of tree with pkg-config only"

MAC=52:54:00:70:76:02
make_disk "$T/d.img" 8192
boot oot -M q35 -accel tcg -cpu max -kernel "$T/probe.elf" \
	-append "pvio.blk.sectors=8192 pvio.mac=$MAC" \
	-drive "file=$T/d.img,format=raw,if=none,id=d0,discard=unmap" \
	-device virtio-blk-pci,drive=d0 -netdev user,id=n0 \
	-device "virtio-net-pci,netdev=n0,mac=$MAC"
if [ "$RC" = 1 ] && [ "$(result_of oot)" = ok ] &&
	out=$(check_disk "$T/d.img" "$T/oot.log"); then
	ok "the out-of-tree probe boots and passes: $out"
else
	bad "the out-of-tree probe: exit $RC, result '$(result_of oot)'"
	show_log oot
fi
finish
