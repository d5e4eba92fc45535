#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/integration/virt_cli.sh - `pvio virt devices` on libvirt's embedded
# test driver (no daemon) and on the example node; bad input of every kind:
# one line on stderr, a non-zero exit, bounded.
. "${top_srcdir:-.}/tests/integration/virt_lib.sh"
NODE="test://$(cd "$top_srcdir/examples" && pwd)/pvio-test-node.xml"

run 0 "$PVIO" virt devices test:///default &&
	has "test:///default: virtio disk address" "$T/out" "virtio-pci:01:00.0" &&
	has "test:///default: the rtl8139 is not drivable" "$T/out" "not drivable by pvio"

run 0 "$PVIO" virt devices "$NODE" && {
	has "node: kvm virtio-blk" "$T/out" "virtio-pci:04:00.0"
	has "node: xvda vbd" "$T/out" "xen:vbd/51712"
	has "node: xvdb vbd" "$T/out" "xen:vbd/51728"
	has "node: hda vbd on HVM" "$T/out" "xen:vbd/768"
	has "node: third vif" "$T/out" "xen:vif/2"
	has "node: Hyper-V StorVSC" "$T/out" "StorVSC (synthetic SCSI)"
	has "node: Hyper-V address" "$T/out" "vmbus (instance assigned by Hyper-V)"
}
run 0 "$PVIO" virt devices "$NODE" xen-pv --json &&
	has "json: partition vbd" "$T/out" '"address":"xen:vbd/51729"'
if command -v python3 >/dev/null 2>&1; then
	if python3 -m json.tool "$T/out" >/dev/null; then ok "json parses"; else bad "json does not parse"; fi
fi
# the node file is not a domain
run 1 "$PVIO" virt devices --xml "$top_srcdir/examples/pvio-test-node.xml" &&
	one_line "node file is not a domain" "not a libvirt domain"

run 1 "$PVIO" virt devices test:///default --strict &&
	one_line "--strict names the undrivable NIC" "aa:bb:cc:dd:ee:ff"
run 1 "$PVIO" virt devices test:///default nosuchdomain &&
	one_line "unknown domain" "no domain 'nosuchdomain'"

# unreachable connections
run 1 "$PVIO" virt devices "qemu+unix:///system?socket=$T/nosuch.sock" &&
	one_line "no daemon on the socket" "cannot connect to"
run 1 "$PVIO" virt devices "nosuchdriver:///x" && one_line "unknown driver" "cannot connect"
run 1 "$PVIO" virt devices "test://$T/missing.xml" && one_line "missing node file" "cannot connect"
# a socket that accepts and never answers: the connect timeout bounds it
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
time.sleep(60)' "$T/mute.sock" &
MUTE=$!
i=0
while [ ! -S "$T/mute.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run 1 "$PVIO" virt devices "qemu+unix:///system?socket=$T/mute.sock" --connect-timeout 2 &&
	one_line "silent daemon: bounded" "no answer from"
kill "$MUTE" 2>/dev/null
wait "$MUTE" 2>/dev/null
else
	echo "note: python3 missing; the silent-daemon case did not run"
fi

# hostile and malformed domain XML
printf '<domain type="kvm"><name>x</name>' >"$T/trunc.xml"
run 1 "$PVIO" virt devices --xml "$T/trunc.xml" && one_line "truncated XML" "line"
cat >"$T/laughs.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE domain [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<domain type="kvm"><name>&f;</name></domain>
X
run 1 "$PVIO" virt devices --xml "$T/laughs.xml" && one_line "entity expansion refused" "DOCTYPE"
printf '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain><name>&x;</name></domain>' >"$T/xxe.xml"
run 1 "$PVIO" virt devices --xml "$T/xxe.xml" && one_line "external entity refused" "DOCTYPE"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "<a>"; for (i = 0; i < 20000; i++) printf "</a>"; print "" }' >"$T/deep.xml"
run 1 "$PVIO" virt devices --xml "$T/deep.xml" && one_line "deep nesting refused" "depth"
head -c 5242880 /dev/zero | tr '\0' ' ' >"$T/huge.xml"
run 1 "$PVIO" virt devices --xml "$T/huge.xml" && one_line "huge file refused" "more than"
run 1 "$PVIO" virt devices --xml "$T" && one_line "a directory" "directory"
run 1 "$PVIO" virt devices --xml "$T/none.xml" && one_line "a missing file" "cannot open"
# U+009B (CSI) is valid XML and a terminal control: never printed as is
printf '<domain type="kvm"><name>x\302\2332J</name><devices/></domain>' >"$T/esc.xml"
run 0 "$PVIO" virt devices --xml "$T/esc.xml" &&
if grep -q "$(printf '\302\233')" "$T/out"; then bad "a C1 control reached the terminal"; else ok "control bytes made printable"; fi

# usage errors: exit 2, one line
run 2 "$PVIO" virt devices && one_line "no URI" "which connection"
run 2 "$PVIO" virt devices test:///default --as vmware && one_line "bad --as" "--as takes"
run 2 "$PVIO" virt nosuch && one_line "unknown subcommand" "unknown command"
run 0 "$PVIO" virt devices --help && has "devices --help" "$T/out" "usage: pvio virt devices"

# probe on the test driver: it runs no guest code
run 1 "$PVIO" virt probe test:///default --kernel "$top_srcdir/tests/integration/virt_cli.sh" &&
	one_line "probe needs an ELF" "not an ELF"
if [ -f "$top_builddir/tests/guest/pvio-probe.elf" ]; then
	run 1 "$PVIO" virt probe test:///default --kernel "$top_builddir/tests/guest/pvio-probe.elf" &&
		has "probe refuses the test driver" "$T/err" "runs no guest code"
fi
run 1 "$PVIO" virt probe "qemu+ssh://example.invalid/system" --kernel "$top_builddir/tests/guest/pvio-probe.elf" &&
	has "probe refuses remote connections" "$T/err" "remote connection"
finish
