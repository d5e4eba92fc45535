#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/integration/virt_probe.sh - `pvio virt probe` for real: a private
# libvirtd with the QEMU driver (tests/integration/virt_libvirtd.sh: a
# mount namespace, nothing on the machine changes) boots the probe guest
# under TCG; its PVIO-GUEST lines must arrive, and no domain may be left
# defined or running afterwards - also after a guest that never reports
# (bounded timeout), a kernel QEMU cannot boot, SIGINT and SIGKILL.
if [ "${PVIO_VIRT_IN_NS:-}" != 1 ]; then
	exec "${top_srcdir:-.}/tests/integration/virt_libvirtd.sh" "$0" "$@"
fi
. "${top_srcdir:-.}/tests/integration/virt_lib.sh"
KERNEL="$top_builddir/tests/guest/pvio-probe.elf"
HANG="$top_builddir/tests/integration/virt-hang.elf"
if [ ! -f "$KERNEL" ] || [ ! -f "$HANG" ]; then
	echo "no probe guest: the freestanding build is off (x86_64 only)"
	exit 77
fi
URI=qemu:///system

no_domains() { # what
	timeout 30 virsh -q -c $URI list --all --name >"$T/list" 2>&1
	if [ -s "$T/list" ] && grep -q . "$T/list"; then
		bad "$1: domains left: $(cat "$T/list")"
		for d in $(cat "$T/list"); do
			virsh -q -c $URI destroy "$d" >/dev/null 2>&1
			virsh -q -c $URI undefine "$d" >/dev/null 2>&1
		done
	else
		ok "$1: no domain left defined or running"
	fi
}

# wait (bounded) until file holds pattern
wait_for() { # file pattern seconds
	i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}

# 1. the probe guest boots and reports
PVIO_PROBE_KERNEL="$KERNEL" run 0 "$PVIO" virt probe $URI --timeout 120 --json && {
	has "probe: ok" "$T/out" '"result":"ok"'
	has "probe: the guest's hello arrived" "$T/out" '"key":"hello"'
	has "probe: the guest's ctx line arrived" "$T/out" '"key":"ctx"'
	sed -n 's/.*"seconds":{\([^}]*\)}.*/  timings (s): \1/p' "$T/out"
}
no_domains "after a good run"

run 0 "$PVIO" virt probe $URI --kernel "$KERNEL" --timeout 120 --keep --no-net && {
	has "text: lines forwarded" "$T/out" "^PVIO-GUEST hello"
	has "text: summary row" "$T/out" "^result *ok"
	has "text: no network said" "$T/out" "none (--no-net)"
}
no_domains "after --no-net --keep"

# 2. a guest that never reports: bounded, destroyed, undefined
run 1 "$PVIO" virt probe $URI --kernel "$HANG" --timeout 4 &&
	has "hang: timed out" "$T/err" "timeout: the guest did not stop within 4 s"
no_domains "after a timeout"

# 3. a kernel QEMU cannot boot (no PVH note)
NOTPVH=/bin/true
[ -f "$NOTPVH" ] || NOTPVH=/usr/bin/true
run 1 "$PVIO" virt probe $URI --kernel "$NOTPVH" --timeout 30 &&
	has "bad kernel: start fails" "$T/err" "did not start"
no_domains "after a failed start"

# 4. SIGINT while the guest runs
timeout 120 "$PVIO" virt probe $URI --kernel "$HANG" --timeout 100 >"$T/int.out" 2>"$T/int.err" &
P=$!
if wait_for "$T/int.out" "started" 60; then
	kill -INT $P
	wait $P
	rc=$?
	[ $rc = 130 ] && ok "SIGINT: exit 130" || bad "SIGINT: exit $rc, not 130"
	has "SIGINT: said" "$T/int.err" "interrupted by signal 2"
else
	bad "SIGINT: the probe never started"; kill $P; wait $P
fi
no_domains "after SIGINT"

# 5. SIGKILL: libvirt destroys the autodestroy domain when the connection
# drops, and the domain was undefined at start: nothing may remain
# (pvio itself, not under timeout(1), so the kill reaches it; its own
# --timeout bounds it should the kill fail)
"$PVIO" virt probe $URI --kernel "$HANG" --timeout 100 >"$T/kill.out" 2>&1 &
P=$!
if wait_for "$T/kill.out" "started" 60; then
	kill -KILL $P
	wait $P
	i=0
	while [ -n "$(timeout 30 virsh -q -c $URI list --all --name 2>/dev/null)" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
else
	bad "SIGKILL: the probe never started"; kill $P; wait $P
fi
no_domains "after SIGKILL"
finish
