#!/bin/bash
# SPDX-License-Identifier: MIT
#
# pvio's main job and its promise, end to end:
#   `pvio compare`      the built-in simulated Xen, Hyper-V and KVM/virtio
#                       hosts plus a real qemu-storage-daemon and a real
#                       dpdk-testpmd given as devices: every column
#                       measured, the protocols and features each one
#                       negotiated, the table, the JSON and the SVG chart;
#   `pvio migrate-demo` one block and one network front end moved across
#                       the three simulated hypervisors and a real
#                       vhost-user back end with I/O in flight, through
#                       each protocol's lifecycle event, with pvio's
#                       integrity checks after every step (no completed
#                       write lost, no block corrupted, no request
#                       completed twice, every frame back or counted).
# Figures are never judged here (timing belongs in BENCHMARKS.md); only
# that each was measured and that the checks held.
set -u
. "$(dirname "$0")/tools_lib.sh"

need_cmds qemu-storage-daemon dpdk-testpmd gnuplot python3

# ---- the real peers, given to compare as devices
start_qsd 32M || exit 1
start_testpmd || exit 1
SHORT=(--seconds 0.2 --warmup 0.05)

# ---- compare --json: five columns, every figure measured
run cj "$PVIO" compare --json --no-svg "${SHORT[@]}" "$QSD" "$TPMD"
expect_status 0 cj "compare --json, built-in hosts + qemu-storage-daemon + dpdk-testpmd"
got=$(json_get "$T/cj.stdout" '(j["ok"], [b["name"] for b in j["backends"]])')
if [ "$got" = "(True, ['xen', 'hyperv', 'virtio', 'device4', 'device5'])" ]; then
	ok "compare --json: ok, columns xen hyperv virtio + two devices"
else
	fail "compare --json columns: $got"
fi
# the protocol each built-in host spoke, block and network
got=$(json_get "$T/cj.stdout" '[(b["blk"]["protocol"].split()[0], b["net"]["protocol"].split()[0]) for b in j["backends"][:3]]')
if [ "$got" = "[('blkif', 'netif'), ('VSTOR', 'NVSP'), ('virtio-blk', 'virtio-net')]" ]; then
	ok "each built-in host spoke its own protocol: $got"
else
	fail "protocols: $got"
fi
# every built-in host: three block figures (reads at QD 1 and 32, writes
# at 32) with operations, no errors and a latency distribution, one
# network figure with frames, none lost, and round-trip latencies, and
# features in use a subset of those offered
chk='all(
  [(r["op"], r["depth"]) for r in b["blk"]["results"]] == [("randread", 1), ("randread", 32), ("randwrite", 32)]
  and all(r["ops"] > 0 and r["totals"]["errors"] == 0 and 0 < r["latency_ns"]["p50"] <= r["latency_ns"]["p99"] for r in b["blk"]["results"])
  and [(r["op"], r["ops"] > 0, r["lost"], r["totals"]["errors"]) for r in b["net"]["results"]] == [("loopback", True, 0, 0)]
  and all(0 < r["latency_ns"]["p50"] <= r["latency_ns"]["p99"] for r in b["net"]["results"])
  and b["blk"]["features"] and set(b["blk"]["features"]) <= set(b["blk"]["offered"])
  and set(b["net"]["features"]) <= set(b["net"]["offered"])
  for b in j["backends"][:3])'
if [ "$(json_get "$T/cj.stdout" "$chk")" = True ]; then
	ok "built-in hosts: 3 block figures and 1 network figure each, measured, no errors"
else
	fail "built-in hosts' figures: $(head -c 600 "$T/cj.stdout")"
fi
# the real devices: reads only on qemu-storage-daemon (writes would
# overwrite a user's disk), round trips through testpmd
got=$(json_get "$T/cj.stdout" '([(r["op"], r["ops"] > 0) for r in j["backends"][3]["blk"]["results"]], j["backends"][3]["blk"]["backend"], [r["ops"] > 0 for r in j["backends"][4]["net"]["results"]], j["backends"][4]["net"]["protocol"].split()[0])')
if [ "$got" = "([('randread', True), ('randread', True)], 'vhost-user', [True], 'virtio-net')" ]; then
	ok "qemu-storage-daemon read-only figures and dpdk-testpmd round trips measured"
else
	fail "real devices: $got"
fi

# ---- compare as people see it: the table and the chart
run ct "$PVIO" compare --svg "$T/chart.svg" "${SHORT[@]}" --hosts xen,hyperv,virtio
expect_status 0 ct "compare, table and chart"
missing=""
for want in "^ *Xen  *Hyper-V  *KVM/virtio" "^Block" "^Network" "^Features" \
	"randread 4096 B x 1: IOPS  *[0-9]+  *[0-9]+  *[0-9]+" \
	"randwrite 4096 B x 32: IOPS  *[0-9]+  *[0-9]+  *[0-9]+" \
	"round trips 64 B: frames/s  *[0-9]+  *[0-9]+  *[0-9]+" \
	"round trip p50/99/99.9 us  *[0-9.]+ / [0-9.]+ / [0-9.]+  " \
	"protocol  *blkif  *VSTOR" "persistent-map" "packed-ring"; do
	grep -Eq -- "$want" "$T/ct.stdout" || missing="$missing /$want/"
done
if [ -z "$missing" ]; then
	ok "the table has every section, column and figure"
else
	fail "the table lacks$missing: $(cat "$T/ct.stdout")"
fi
if grep -q "~ " "$T/ct.stdout"; then
	fail "the table cut a value short: $(grep "~ " "$T/ct.stdout" | head -n 3)"
else
	ok "no value in the table is cut short"
fi
if [ -s "$T/chart.svg" ] && grep -q "<svg" "$T/chart.svg" && grep -q "Hyper-V" "$T/chart.svg" &&
	grep -q "KVM/virtio" "$T/chart.svg" && grep -q "chart: $T/chart.svg" "$T/ct.stdout"; then
	ok "compare drew the SVG chart, with every column named"
else
	fail "no usable chart at $T/chart.svg: $(head -c 300 "$T/chart.svg" 2>&1)"
fi

# ---- the mistakes a user can make: one line, usage status
run bh "$PVIO" compare --hosts bogus
expect_status 2 bh "compare --hosts bogus"
one_line bh "--hosts wants a list of xen, hyperv, virtio" "unknown built-in host"
run bd "$PVIO" compare --hosts none "vhost-user:$T/nothing.sock?class=blk"
expect_status 1 bd "compare with a device nobody serves"
one_line bd "nothing.sock" "a device that is not there is named"

# ---- migrate-demo: across the hypervisors, with the lifecycle events
run md "$PVIO" migrate-demo --json --seconds 0.3
expect_status 0 md "migrate-demo --json"
got=$(json_get "$T/md.stdout" '[(s["kind"], s["blk"]["from_host"], s["blk"]["to_host"], s["net"]["from_host"], s["net"]["to_host"]) for s in j["steps"][1:]]')
want="[('xen-suspend-resume', 'xen', 'xen', 'xen', 'xen'), ('migrate', 'xen', 'virtio', 'xen', 'virtio'), ('migrate', 'virtio', 'hyperv', 'virtio', 'hyperv'), ('vmbus-rescind-offer', 'hyperv', 'hyperv', 'hyperv', 'hyperv'), ('migrate', 'hyperv', 'qsd', 'hyperv', 'virtio'), ('vhost-user-restart', 'qsd', 'qsd', 'virtio', 'virtio'), ('migrate', 'qsd', 'xen', 'virtio', 'xen')]"
if [ "$got" = "$want" ]; then
	ok "migrate-demo: every hop and lifecycle event ran"
else
	fail "migrate-demo steps: $got"
fi
chk='(j["ok"] and all(
  s["check"]["image_file"] and s["check"]["read_back"] and s["check"]["frames"]
  and s["check"]["corrupt"] == 0 and s["check"]["completed_twice"] == 0 and s["check"]["failed"] == 0
  and s["check"]["corrupted_frames"] == 0 and s["check"]["duplicate_frames"] == 0
  and s["check"]["sent"] == s["check"]["back"] + s["check"]["dropped"]
  and s["blk"]["failed"] == 0 and s["blk"]["downtime_ns"] > 0 and s["net"]["downtime_ns"] > 0
  for s in j["steps"][1:])
  and j["totals"]["writes"] > 0 and j["totals"]["chunks_checked"] > 0
  and j["totals"]["corrupt"] == 0 and j["totals"]["completed_twice"] == 0)'
if [ "$(json_get "$T/md.stdout" "$chk")" = True ]; then
	ok "migrate-demo: after every step no write lost, nothing corrupt or completed twice, every frame back or counted"
else
	fail "migrate-demo checks: $(head -c 800 "$T/md.stdout")"
fi
# requests in flight were carried over: something was replayed somewhere
if [ "$(json_get "$T/md.stdout" 'sum(s["blk"]["replayed"] for s in j["steps"][1:]) > 0')" = True ]; then
	ok "migrate-demo replayed block requests that were in flight"
else
	fail "migrate-demo replayed nothing: the moves did not happen under I/O"
fi

# the same with dpdk-testpmd as the real vhost-user network peer
run mt "$PVIO" migrate-demo --seconds 0.3 --net-peer testpmd
expect_status 0 mt "migrate-demo --net-peer testpmd (killed and restarted too)"
if grep -q "^integrity: OK" "$T/mt.stdout" && grep -q "dpdk-testpmd" "$T/mt.stdout"; then
	ok "migrate-demo through dpdk-testpmd: $(grep '^integrity' "$T/mt.stdout")"
else
	fail "migrate-demo through dpdk-testpmd: $(tail -n 5 "$T/mt.stdout")"
fi

finish
