#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every Debian package pvio's build, tests and demos need.
# Idempotent; run as root on Debian 12.  Each line says who needs what.
set -eu

PKGS="
  build-essential autoconf automake libtool pkg-config check
  clang libclang-rt-14-dev
  qemu-system-common qemu-utils
  dpdk dpdk-dev libdpdk-dev
  libxen-dev xenstore-utils
  libvirt-dev libxml2-dev libvirt-clients libvirt-daemon
  libvirt-daemon-driver-qemu qemu-system-x86 python3
  kmod cpio
  gnuplot-nox
"
# build-essential..check   the library, tools and unit tests
# clang, libclang-rt-14-dev  the clang build and its sanitizer runtime
# qemu-system-common       qemu-storage-daemon (real vhost-user-blk peer)
# qemu-utils               qemu-img
# dpdk, dpdk-dev           dpdk-testpmd (real vhost-user-net peer)
# libdpdk-dev              rte_vmbus_reg.h for VMBus layout checks
#                          (dpdk, dpdk-dev, libdpdk-dev also: the Hyper-V
#                          interop tests, DPDK's netvsc PMD and testpmd
#                          against pvio sim hyperv's uio door; run as root)
# libxen-dev               xen/io/*.h for Xen layout checks
# xenstore-utils           xenstore-read & co. against the simulated xenstored
# libvirt-dev, libxml2-dev `pvio virt` (libvirt's C API, domain XML)
# libvirt-clients          virsh and virt-xml-validate for the virt tests
# libvirt-daemon, libvirt-daemon-driver-qemu, qemu-system-x86
#                          the private libvirtd that boots the probe guest
#                          (tests/integration/virt_probe.sh)
# python3                  a silent socket and a JSON check in virt_cli.sh;
#                          tests/integration/tools_*.sh check pvio's --json output
# qemu-system-x86, python3 also: the probe guest booted on q35 and microvm
#                          (tests/integration/guest_qemu.sh, guest_install.sh;
#                          python3 writes and checks the disk images)
# kmod, cpio               `make check-xen` (tests/xenreal): depmod/modinfo
#                          for dom0's modules, cpio for its initramfs; it
#                          also needs qemu-system-x86 and libxen-dev (above)
# gnuplot-nox              the SVG chart of `pvio compare`
#                          and downloads Xen, dom0's kernel, busybox-static
#                          and xenstore-utils itself (apt-get download)

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages:$missing; run this script as root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
