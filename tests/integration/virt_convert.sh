#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/integration/virt_convert.sh - `pvio virt convert` on the example
# domains to every other family: libvirt's own schema check
# (virt-xml-validate) and libvirt's parser (virsh define on the embedded
# test driver) accept each result, and a round trip gives back the same
# targets and MACs in the same order.  (tests/unit/test_virt.c compares
# round trips field by field.)
. "${top_srcdir:-.}/tests/integration/virt_lib.sh"
NODE="test://$(cd "$top_srcdir/examples" && pwd)/pvio-test-node.xml"
for t in virsh virt-xml-validate; do
	command -v $t >/dev/null 2>&1 || { echo "$t missing: run scripts/deps.sh (libvirt-clients)"; exit 1; }
done

ids() { # the devices' targets and MACs, in order
	"$PVIO" virt devices --xml "$1" --json | tr ',' '\n' | grep -E '"(target|mac)":"'
}

for dom in kvm-q35 xen-hvm hyperv-gen2; do
	run 0 virsh -c "$NODE" dumpxml "$dom" || continue
	cp "$T/out" "$T/$dom.xml"
	case $dom in kvm*) home=kvm ;; xen*) home=xen ;; *) home=hyperv ;; esac
	for to in kvm xen hyperv; do
		[ $to = $home ] && continue
		run 0 "$PVIO" virt convert --to $to --set-type "$T/$dom.xml" -o "$T/$dom-$to.xml" || continue
		if [ -s "$T/out" ]; then bad "$dom -> $to: -o wrote to stdout too"; fi
		if virt-xml-validate "$T/$dom-$to.xml" domain >"$T/val" 2>&1; then
			ok "$dom -> $to: libvirt's schema accepts it"
		else
			bad "$dom -> $to: virt-xml-validate: $(cat "$T/val")"
		fi
		if timeout 60 virsh -q -c test:///default define "$T/$dom-$to.xml" >"$T/def" 2>&1; then
			ok "$dom -> $to: defines on the test driver"
		else
			bad "$dom -> $to: virsh define: $(cat "$T/def")"
		fi
		"$PVIO" virt devices --xml "$T/$dom-$to.xml" --json | grep -q "\"hypervisor\":\"$to\"" &&
			ok "$dom -> $to: devices are $to's" || bad "$dom -> $to: not a $to domain"
		run 0 "$PVIO" virt convert -q --to $home --set-type "$T/$dom-$to.xml" || continue
		cp "$T/out" "$T/$dom-$to-$home.xml"
		ids "$T/$dom.xml" >"$T/a"
		ids "$T/$dom-$to-$home.xml" >"$T/b"
		if cmp -s "$T/a" "$T/b"; then ok "$dom -> $to -> $home: same targets and MACs"
		else bad "$dom -> $to -> $home: devices differ"; diff "$T/a" "$T/b" | head; fi
	done
done

# what could not be mapped is said, one line each; --strict refuses
run 0 "$PVIO" virt convert --to xen "$T/kvm-q35.xml" &&
	has "emulated e1000 reported" "$T/err" "e1000 (emulated)): left as it is" &&
	has "dropped PCI address reported" "$T/err" "dropped its PCI address"
run 1 "$PVIO" virt convert --strict --to xen "$T/kvm-q35.xml" -o "$T/strict.xml" &&
	has "--strict refuses" "$T/err" "nothing written" &&
	if [ -e "$T/strict.xml" ]; then bad "--strict wrote a file"; else ok "--strict wrote nothing"; fi
# stdin, a declaration kept
printf '<?xml version="1.0"?>\n<domain type="kvm"><name>s</name><devices><disk type="file"><source file="/x"/><target dev="vda" bus="virtio"/></disk></devices></domain>\n' >"$T/decl.xml"
run 0 "$PVIO" virt convert --to xen - <"$T/decl.xml" &&
	has "declaration kept" "$T/out" '<?xml version="1.0"' &&
	has "stdin converted" "$T/out" 'dev="xvda" bus="xen"'

# bad input
run 2 "$PVIO" virt convert "$T/kvm-q35.xml" && one_line "no --to" "which target"
run 2 "$PVIO" virt convert --to vmware "$T/kvm-q35.xml" && one_line "bad --to" "--to takes"
printf '<domain type="test"><name>u</name><devices><disk type="file"><target dev="sda" bus="scsi"/></disk></devices></domain>' >"$T/unk.xml"
run 1 "$PVIO" virt convert --to kvm "$T/unk.xml" && one_line "unknown family" "--from"
run 0 "$PVIO" virt convert --from hyperv --to kvm "$T/unk.xml" && has "--from" "$T/out" 'bus="virtio"'
printf '<domain' >"$T/bad.xml"
run 1 "$PVIO" virt convert --to kvm "$T/bad.xml" && one_line "malformed" "line 1"
run 1 "$PVIO" virt convert --to kvm "$T/kvm-q35.xml" -o "$T/nodir/x.xml" && one_line "unwritable -o" "cannot write"
finish
