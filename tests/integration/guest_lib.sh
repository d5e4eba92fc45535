# SPDX-License-Identifier: MIT
# tests/integration/guest_lib.sh - helpers for the probe-guest tests
# (sourced): disks in the probe's convention, a bounded QEMU boot, the
# KVM probe, host-side checks of the image file.  Every QEMU run has a hard
# timeout (a hang is a failure) and is stopped by its pid.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-90}
FAILS=0
PASSES=0
T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-guest-test.XXXXXX")
QPID=
cleanup() {
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() { PASSES=$((PASSES + 1)); echo "ok: $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}

need_tools() {
	if ! command -v "$QEMU" >/dev/null 2>&1; then
		echo "SKIP: $QEMU is not installed (scripts/deps.sh installs qemu-system-x86)"
		exit 77
	fi
	if ! command -v python3 >/dev/null 2>&1; then
		echo "FAIL: python3 is needed for the host-side image checks (scripts/deps.sh)"
		exit 1
	fi
}

# make_disk PATH SECTORS: every sector n starts with "PVIOSECT" + n (le64)
make_disk() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    for s in range(n):
        f.write((b"PVIOSECT" + struct.pack("<Q", s)).ljust(512, b"\0"))
EOF
}

# check_disk PATH LOG: the image holds what the guest said it did -
# its pattern at 1024..1151, zeroes at 2048..2111 (discard, with
# discard=unmap) and 3072..3135 (write zeroes), the original elsewhere.
# Prints one line; status 0 when everything matches.
check_disk() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
path, log = sys.argv[1], open(sys.argv[2], errors="replace").read()
img = open(path, "rb").read()
def said(key):
    for l in log.splitlines():
        if l.startswith("PVIO-GUEST " + key + " "):
            return l.split(" ", 2)[2]
    return ""
def pattern(s):
    b = bytes(((s * 31 + j * 7 + 0x5a) & 0xff) for j in range(512))
    return b"PVIOGST!" + struct.pack("<Q", s) + b[16:]
def orig(s):
    return (b"PVIOSECT" + struct.pack("<Q", s)).ljust(512, b"\0")
zero = bytes(512)
wrote = said("blk.write").startswith("ok")
disc = said("blk.discard").startswith("ok")
wz = said("blk.write_zeroes").startswith("ok")
if not (wrote and disc and wz):
    print("the guest did not report write, discard and write zeroes ok")
    sys.exit(1)
bad = []
for s in range(len(img) // 512):
    got = img[s * 512:(s + 1) * 512]
    if 1024 <= s < 1152:
        want = pattern(s)
    elif 2048 <= s < 2112 or 3072 <= s < 3136:
        want = zero
    else:
        want = orig(s)
    if got != want:
        bad.append(s)
if bad:
    print("%d sectors differ from what the guest reported, first %d" % (len(bad), bad[0]))
    sys.exit(1)
print("image checked: %d sectors; pattern at 1024..1151, zeroes at 2048..2111 "
      "and 3072..3135, the rest untouched" % (len(img) // 512))
EOF
}

# boot NAME QEMU-ARGS...: run the probe; the console goes to $T/NAME.log.
# Sets RC: isa-debug-exit's (code << 1) | 1, so 1 = the guest passed and
# 3 = it reported a failure; 124 = it did not stop in time (killed).
boot() {
	name=$1
	shift
	: >"$T/$name.log"
	"$QEMU" -nographic -no-reboot -nodefaults -m 128M -serial none \
		-debugcon "file:$T/$name.log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" \
		>"$T/$name.qemu" 2>&1 &
	QPID=$!
	# bounded wait; kill by pid on expiry
	waited=0
	while kill -0 "$QPID" 2>/dev/null; do
		if [ "$waited" -ge "$((GUEST_TIMEOUT * 10))" ]; then
			kill -9 "$QPID" 2>/dev/null
			wait "$QPID" 2>/dev/null
			QPID=
			RC=124
			return
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	wait "$QPID"
	RC=$?
	QPID=
	# COM1 wants CR LF; the checks want lines
	tr -d '\r' <"$T/$name.log" >"$T/$name.tmp" && mv "$T/$name.tmp" "$T/$name.log"
}

# result NAME: the guest's result line value
result_of() { sed -n 's/^PVIO-GUEST result //p' "$T/$1.log" | tr -d '\r' | tail -1; }
value_of() { sed -n "s/^PVIO-GUEST $2 //p" "$T/$1.log" | tr -d '\r' | head -1; }
show_log() { sed 's/^/  | /' "$T/$1.log" | head -60; sed 's/^/  qemu: /' "$T/$1.qemu" | head -5; }

# ACCEL: kvm when a short bounded boot under KVM completes, else tcg (with
# the reason in ACCEL_WHY).  The probe kernel with no devices must reach its
# result line within 20 s.
pick_accel() {
	ACCEL=tcg
	if [ -n "${PVIO_GUEST_ACCEL:-}" ]; then
		ACCEL=$PVIO_GUEST_ACCEL
		ACCEL_WHY="PVIO_GUEST_ACCEL=$ACCEL"
		return
	fi
	if [ ! -e /dev/kvm ]; then
		ACCEL_WHY="no /dev/kvm"
		return
	fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		ACCEL_WHY="/dev/kvm is not accessible"
		return
	fi
	save=$GUEST_TIMEOUT
	GUEST_TIMEOUT=20
	boot kvmprobe -M microvm -accel kvm -cpu host \
		-kernel "$KERNEL" -append "pvio.blk=none pvio.net=none"
	GUEST_TIMEOUT=$save
	if [ "$RC" = 1 ] && [ "$(result_of kvmprobe)" = ok ]; then
		ACCEL=kvm
		ACCEL_WHY="a bounded KVM boot completed"
	elif [ "$RC" = 124 ]; then
		ACCEL_WHY="a KVM boot did not finish within 20 s (hung; killed)"
	else
		ACCEL_WHY="a KVM boot failed: QEMU exited $RC without the guest's result line$(head -c 200 "$T/kvmprobe.qemu" | tr '\n' ' ' | sed 's/^./ (&/;s/.$/&)/')"
	fi
}
