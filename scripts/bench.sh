#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/bench.sh - measure what BENCHMARKS.md reports, the same way on
# every host: pvio's simulated KVM, Xen and Hyper-V hosts,
# qemu-storage-daemon and dpdk-testpmd.  Run as root on Debian 12 (it installs what is missing
# and builds pvio in build-demo/ like scripts/compare.sh, unless --no-build):
#
#     sudo scripts/bench.sh [--seconds S] [--out DIR] [--no-build]
#
# One host runs at a time (the others would compete for the CPUs); for each
# it runs `pvio bench --json` on its block and network devices (and once
# more with --bounce on its disk), keeps the JSON in DIR (default
# build-demo/bench-results/), and at the end prints the figures as a
# Markdown table.  Timing lives here and in `pvio bench`, never in the
# test suite.
set -u

PVIO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$PVIO_ROOT/scripts/lib.sh"

# Hosts measured, in order (start_<name> in scripts/lib.sh).
HOSTS="virtio qsd testpmd xen hyperv"

seconds=5
out=""
build=yes
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?--seconds wants a number}; shift 2 ;;
	--out) out=${2:?--out wants a directory}; shift 2 ;;
	--no-build) build=no; shift ;;
	-h|--help) sed -n '3,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$1'; see --help" ;;
	esac
done

BUILD=$PVIO_ROOT/build-demo
PVIO=$BUILD/pvio
[ -n "$out" ] || out=$BUILD/bench-results
TMP=$(mktemp -d /tmp/pvio-bench.XXXXXX)
DISK_SIZE=1G
pvio_host_cleanup_on_exit

if [ "$build" = yes ]; then
	say "installing packages (scripts/deps.sh)"
	pvio_deps
	say "building pvio in build-demo/"
	pvio_autoreconf
	pvio_build "$BUILD" --quiet
fi
[ -x "$PVIO" ] || die "$PVIO is missing; run without --no-build"
mkdir -p "$out" || die "cannot create $out"

failed=0
for h in $HOSTS; do
	say "== $h"
	if ! "start_$h"; then
		failed=$((failed + 1))
		continue
	fi
	devs=()
	[ -n "$BLK" ] && devs+=("$BLK")
	[ -n "$NET" ] && devs+=("$NET")
	"$PVIO" bench --json --seconds "$seconds" "${devs[@]}" >"$out/$h.json" ||
		failed=$((failed + 1))
	if [ -n "$BLK" ]; then
		"$PVIO" bench --json --bounce --seconds "$seconds" "$BLK" \
			>"$out/$h-bounce.json" || failed=$((failed + 1))
	fi
	pvio_hosts_stop
done

say ""
# shellcheck disable=SC2086  # one argument per host
python3 - "$out" $HOSTS <<'PY'
import json, os, sys
out, hosts = sys.argv[1], sys.argv[2:]
def load(name):
    p = os.path.join(out, name + ".json")
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
first = next((load(h) for h in hosts if load(h)), None)
if first:
    h = first["host"]
    print(f"machine: {h['cpu']}, {h['cpus']} CPUs, Linux {h['kernel']}, pvio {h['pvio']}; "
          f"{first['settings']['seconds']} s per figure after {first['settings']['warmup']} s warm-up\n")
def per(r, k):
    return f"{r['per_op'][k]:.3f}"
print("| host | protocol | op | depth | ops/s | MB/s | p50 us | p99 us | kick/op | supp/op | irq/op | copy/op |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for h in hosts:
    for suffix in ("", "-bounce"):
        j = load(h + suffix)
        if not j:
            continue
        for r in j["results"]:
            lat = r["latency_ns"]
            p50 = f"{lat['p50'] / 1000:.1f}" if lat else "-"
            p99 = f"{lat['p99'] / 1000:.1f}" if lat else "-"
            op = r["op"] + (" (bounce)" if suffix else "")
            print(f"| {h} | {r['protocol']} | {op} {r['size']} B | {r['depth']} | "
                  f"{r['ops_per_second']:.0f} | {r['mb_per_second']:.1f} | {p50} | {p99} | "
                  f"{per(r, 'notify_sent')} | {per(r, 'notify_suppressed')} | "
                  f"{per(r, 'irqs')} | {per(r, 'copies')} |")
PY
say ""
say "JSON: $out/"
[ "$failed" = 0 ] || { say "$failed host(s) FAILED"; exit 1; }
