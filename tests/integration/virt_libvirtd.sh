#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/integration/virt_libvirtd.sh - run a command next to a private
# libvirtd (QEMU driver) that nothing else on the machine sees.
#
#   virt_libvirtd.sh COMMAND [ARGS...]
#
# The script re-executes itself in a private mount namespace (unshare -m)
# and bind-mounts fresh directories from a temporary directory over
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
# /var/cache/libvirt, and private copies of /etc/passwd and /etc/group that
# hold the user libvirt-qemu and the groups libvirt-qemu and kvm (the QEMU
# driver refuses to start without them).  qemu.conf runs QEMU as root with
# no security driver and no dynamic ownership.  Then virtlogd and libvirtd
# start as daemons, COMMAND runs with LIBVIRT_DEFAULT_URI=qemu:///system,
# and both daemons are stopped by their process ids, also when COMMAND
# fails or the script is interrupted.  Nothing on the machine changes; the
# mounts vanish with the namespace.
#
# Exit status: COMMAND's, or 77 when the machine cannot do this (not root,
# no unshare, libvirtd or QEMU not installed: scripts/deps.sh installs
# them), or 99 when the daemons did not come up (their logs are printed).
set -u

if [ "${PVIO_VIRT_IN_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "virt_libvirtd.sh: needs root (a private libvirtd for qemu:///system)" >&2
		exit 77
	fi
	for t in unshare mount libvirtd virtlogd virsh qemu-system-x86_64; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "virt_libvirtd.sh: $t not found; run scripts/deps.sh" >&2
			exit 77
		fi
	done
	if [ ! -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] &&
	   ! ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so >/dev/null 2>&1; then
		echo "virt_libvirtd.sh: libvirt's QEMU driver is not installed; run scripts/deps.sh" >&2
		exit 77
	fi
	PVIO_VIRT_IN_NS=1 exec unshare --mount --propagation private "$0" "$@"
	echo "virt_libvirtd.sh: unshare failed" >&2
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-libvirtd.XXXXXX") || exit 99
LIBVIRTD_PID=
VIRTLOGD_PID=

stop_pid() { # pid name
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then # 10 s, then hard
			echo "virt_libvirtd.sh: $2 ($1) did not stop on SIGTERM; killing it" >&2
			kill -9 "$1" 2>/dev/null
			break
		fi
		sleep 0.1
	done
}

cleanup() {
	stop_pid "$LIBVIRTD_PID" libvirtd
	stop_pid "$VIRTLOGD_PID" virtlogd
	# a QEMU the daemon left behind (it should not): our namespace's
	# pid files name them
	for p in "$T"/run/qemu/*.pid; do
		[ -f "$p" ] || continue
		q=$(cat "$p" 2>/dev/null)
		[ -n "$q" ] && kill -9 "$q" 2>/dev/null && echo "virt_libvirtd.sh: killed stray QEMU $q" >&2
	done
	if [ -z "${PVIO_VIRT_KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "virt_libvirtd.sh: kept $T" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$T/etc" "$T/run" "$T/lib/qemu" "$T/log/qemu" "$T/cache" || exit 99
cp /etc/passwd "$T/passwd" && cp /etc/group "$T/group" || exit 99
grep -q '^kvm:' "$T/group" || echo 'kvm:x:64990:' >> "$T/group"
grep -q '^libvirt-qemu:' "$T/group" || echo 'libvirt-qemu:x:64991:' >> "$T/group"
grep -q '^libvirt-qemu:' "$T/passwd" ||
	echo 'libvirt-qemu:x:64991:64991:pvio test:/nonexistent:/usr/sbin/nologin' >> "$T/passwd"

cat > "$T/etc/qemu.conf" <<'CONF'
# pvio test: QEMU as root, no labelling, no chown of images
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
CONF
cat > "$T/etc/libvirtd.conf" <<'CONF'
# pvio test: local unix socket only
listen_tls = 0
listen_tcp = 0
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:stderr"
CONF
cat > "$T/etc/virtlogd.conf" <<'CONF'
log_outputs = "3:stderr"
CONF

mnt() { mount --bind "$1" "$2" || { echo "virt_libvirtd.sh: cannot bind $1 on $2" >&2; exit 99; }; }
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
	mkdir -p "$d" || exit 99
done
mnt "$T/etc" /etc/libvirt
mnt "$T/run" /run/libvirt
mnt "$T/lib" /var/lib/libvirt
mnt "$T/log" /var/log/libvirt
mnt "$T/cache" /var/cache/libvirt
mnt "$T/passwd" /etc/passwd
mnt "$T/group" /etc/group

virtlogd -d -f /etc/libvirt/virtlogd.conf -p "$T/run/virtlogd.pid" 2>"$T/virtlogd.err"
libvirtd -d -f /etc/libvirt/libvirtd.conf -p "$T/run/libvirtd.pid" 2>"$T/libvirtd.err"

# bounded wait for the daemons: pid files, then an answer on the socket
i=0
while :; do
	[ -z "$VIRTLOGD_PID" ] && [ -s "$T/run/virtlogd.pid" ] && VIRTLOGD_PID=$(cat "$T/run/virtlogd.pid")
	[ -z "$LIBVIRTD_PID" ] && [ -s "$T/run/libvirtd.pid" ] && LIBVIRTD_PID=$(cat "$T/run/libvirtd.pid")
	if [ -n "$LIBVIRTD_PID" ] &&
	   timeout 10 virsh -q -c qemu:///system uri >/dev/null 2>&1; then
		break
	fi
	i=$((i + 1))
	if [ $i -ge 300 ]; then # 30 s
		echo "virt_libvirtd.sh: libvirtd did not answer on qemu:///system within 30 s" >&2
		tail -n 20 "$T/virtlogd.err" "$T/libvirtd.err" >&2
		exit 99
	fi
	sleep 0.1
done

export LIBVIRT_DEFAULT_URI=qemu:///system
export PVIO_LIBVIRTD_LOG="$T/libvirtd.err"
"$@"
