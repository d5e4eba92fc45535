#!/bin/sh
# SPDX-License-Identifier: MIT
# The layering rules of docs/HACKING.md, checked on the source tree:
#  - front ends know no hypervisor: no back-end header, no protocol name;
#  - simulated hosts share no code with the guest side: they include
#    nothing from include/pvio or backends/;
#  - back ends include no other family's files.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
fail=0

bad=$(grep -n -i -E '#include[^\n]*(backends/|sim/)|\b(virtio|vhost|xen|xenstore|xenbus|blkif|netif|vmbus|hyper-?v|storvsc|netvsc|nvsp|rndis|vstor|gpadl|evtchn)\b' \
	"$src"/frontends/*.c "$src"/frontends/*.h)
if [ -n "$bad" ]; then
	echo "layering: frontends/ must not know which hypervisor it runs on:" >&2
	echo "$bad" >&2
	fail=1
fi

bad=$(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](pvio/|backends/|frontends/|core/)' \
	$(find "$src/sim" -name '*.[ch]'))
if [ -n "$bad" ]; then
	echo "layering: sim/ must not include guest-side code:" >&2
	echo "$bad" >&2
	fail=1
fi

for fam in virtio xen vmbus; do
	others=$(echo virtio xen vmbus | tr ' ' '\n' | grep -v "^$fam$" | paste -sd'|')
	bad=$(grep -n -E "#[[:space:]]*include[[:space:]]*\"(backends/)?($others)/" \
		$(find "$src/backends/$fam" -name '*.[ch]') 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "layering: backends/$fam includes another family's files:" >&2
		echo "$bad" >&2
		fail=1
	fi
done

[ $fail = 0 ] && echo "layering: ok"
exit $fail
