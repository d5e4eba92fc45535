#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/compare.sh - pvio's main job, from a clean clone.  Run as root on
# Debian 12:
#
#     sudo scripts/compare.sh
#
# It installs what is missing (scripts/deps.sh), builds pvio under
# build-demo/, then runs `pvio compare`: pvio's simulated Xen, Hyper-V and
# KVM/virtio hosts are started one after the other, the same block
# workloads (random 4 KiB reads at queue depths 1 and 32, random writes)
# and the same network workload (64-byte frames to a reflecting device,
# every frame checked) run through pvio's one block and one network front
# end on each, and a side-by-side table says what each protocol negotiated
# (in pvio's normalised feature names), the limits of its queues and
# requests, IOPS, frames per second, latency percentiles, and the
# notifications, interrupts and copies per operation.  The chart goes to
# build-demo/pvio-compare.svg (`--json` prints the figures as JSON instead
# of the table).  Everything it starts is stopped when it ends.  Exit
# status 0 only if every workload ran and checked out.
#
# Options:  --no-build     use build-demo/ as it is
#           any other option goes to `pvio compare` (see pvio(1)), e.g.
#           --seconds S (measured time per figure, default 2) or a
#           vhost-user socket to compare as one more column
set -u

PVIO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$PVIO_ROOT/scripts/lib.sh"

build=yes
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-build) build=no ;;
	-h|--help) sed -n '3,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) args+=("$1") ;;
	esac
	shift
done

BUILD=$PVIO_ROOT/build-demo
PVIO=$BUILD/pvio

say "pvio compare: $(uname -srm), $(nproc) CPUs"
if [ "$build" = yes ]; then
	say "installing packages (scripts/deps.sh)"
	pvio_deps
	say "building pvio in build-demo/"
	pvio_autoreconf
	pvio_build "$BUILD" --quiet
fi
[ -x "$PVIO" ] || die "$PVIO is missing; run without --no-build"

say ""
"$PVIO" compare --svg "$BUILD/pvio-compare.svg" "${args[@]}"
rc=$?
[ $rc = 0 ] || die "pvio compare failed (exit status $rc); the table's Problems section says why"
