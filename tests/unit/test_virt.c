/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_virt.c - `pvio virt` internals: Xen VBD numbers, the
 * guarded XML parser, the device model on the example test-driver node,
 * conversions (each result defined on libvirt's embedded test driver, and
 * round trips compared device by device), and the guest console collector.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libxml/parser.h>

#include "tools/virt/virt.h"

#ifndef VIRT_EXAMPLES
#define VIRT_EXAMPLES "examples"
#endif
#define NODE_XML VIRT_EXAMPLES "/pvio-test-node.xml"

/* ---------------------------------------------------------------- VBD */

START_TEST(vbd_numbers)
{
	static const struct {
		const char *name;
		uint32_t num;
	} ok[] = {
		{ "xvda", 51712 },     { "xvdb", 51728 },
		{ "xvdp", 202u << 8 | 15 << 4 },
		{ "xvda1", 51713 },    { "xvdb15", 51743 },
		{ "xvdq", 1u << 28 | 16 << 8 },
		{ "xvda16", 1u << 28 | 16 },
		{ "xvdtq37", 1u << 28 | 536 << 8 | 37 }, /* vbd-interface.txt */
		{ "d0", 51712 },       { "d0p0", 51712 },
		{ "d1p2", 202u << 8 | 1 << 4 | 2 },
		{ "d536p37", 1u << 28 | 536 << 8 | 37 },
		{ "sda", 2048 },       { "sdb3", 8u << 8 | 1 << 4 | 3 },
		{ "sdp15", 8u << 8 | 15 << 4 | 15 },
		{ "hda", 768 },        { "hdb", 3u << 8 | 1 << 6 },
		{ "hdc", 22u << 8 },   { "hdd", 22u << 8 | 1 << 6 },
		{ "hda63", 768 + 63 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t n = 0;
		ck_assert_msg(virt_vbd_number(ok[i].name, &n) == 0, "%s", ok[i].name);
		ck_assert_msg(n == ok[i].num, "%s: %u != %u", ok[i].name, n,
			      ok[i].num);
	}
	static const struct {
		const char *name;
		int err;
	} bad[] = {
		{ "sdq", -ERANGE },  { "sda16", -ERANGE }, { "hde", -ERANGE },
		{ "hda64", -ERANGE }, { "vda", -EINVAL }, { "foo", -EINVAL },
		{ "xvd", -EINVAL },  { "xvda1x", -EINVAL }, { "d", -EINVAL },
		{ "d1048576", -ERANGE }, { "xvdzzzzzz", -ERANGE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t n;
		ck_assert_msg(virt_vbd_number(bad[i].name, &n) == bad[i].err,
			      "%s", bad[i].name);
	}
}
END_TEST

START_TEST(disk_names)
{
	static const struct {
		uint32_t idx;
		const char *name;
	} t[] = { { 0, "vda" }, { 25, "vdz" }, { 26, "vdaa" }, { 701, "vdzz" },
		  { 702, "vdaaa" } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[16];
		ck_assert_int_eq(virt_disk_name("vd", t[i].idx, -1, buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, t[i].name);
		const char *p;
		uint32_t idx;
		int part;
		ck_assert_int_eq(virt_disk_name_split(buf, &p, &idx, &part), 0);
		ck_assert_uint_eq(idx, t[i].idx);
		ck_assert_int_eq(part, -1);
	}
	char buf[16];
	ck_assert_int_eq(virt_disk_name("xvd", 1, 3, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "xvdb3");
	ck_assert_int_eq(virt_disk_name("xvd", 1, 3, buf, 4), -ERANGE);
}
END_TEST

/* ---------------------------------------------------------------- XML */

static xmlDocPtr parse(const char *s, char *err, size_t n)
{
	return virt_xml_parse(s, strlen(s), "input", err, n);
}

START_TEST(xml_refuses_entities)
{
	char err[512];
	const char *laughs =
		"<?xml version='1.0'?>\n<!DOCTYPE domain [\n"
		"<!ENTITY a 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'>\n"
		"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n"
		"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>\n"
		"<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>\n"
		"<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>\n"
		"<!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>\n"
		"<!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'>\n"
		"<!ENTITY h '&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;'>\n"
		"]>\n<domain type='kvm'><name>&h;</name></domain>\n";
	ck_assert_ptr_null(parse(laughs, err, sizeof(err)));
	ck_assert_msg(strstr(err, "DOCTYPE"), "%s", err);

	const char *xxe = "<!DOCTYPE domain [<!ENTITY x SYSTEM "
			  "'file:///etc/passwd'>]><domain><name>&x;</name></domain>";
	ck_assert_ptr_null(parse(xxe, err, sizeof(err)));
	ck_assert_msg(strstr(err, "DOCTYPE"), "%s", err);

	const char *ext = "<!DOCTYPE domain SYSTEM 'http://127.0.0.1:1/x.dtd'>"
			  "<domain/>";
	ck_assert_ptr_null(parse(ext, err, sizeof(err)));
}
END_TEST

START_TEST(xml_limits)
{
	char err[512];
	/* deeper than libxml2's limit without XML_PARSE_HUGE */
	size_t depth = 5000;
	char *deep = malloc(depth * 7 + 64);
	char *p = deep;
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "</a>");
	ck_assert_ptr_null(parse(deep, err, sizeof(err)));
	ck_assert_msg(strstr(err, "line 1") && strstr(err, "depth"), "%s", err);
	free(deep);

	/* bigger than the guard: refused before parsing */
	size_t big = VIRT_XML_MAX_BYTES + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	ck_assert_ptr_null(virt_xml_parse(huge, big, "huge", err, sizeof(err)));
	ck_assert_msg(strstr(err, "more than"), "%s", err);
	free(huge);

	ck_assert_ptr_null(parse("<domain><name>x</domain>", err, sizeof(err)));
	ck_assert_msg(strstr(err, "input: line 1:"), "%s", err);
	ck_assert_ptr_null(virt_xml_parse("", 0, "empty", err, sizeof(err)));

	/* well-formed, but not a domain */
	xmlDocPtr d = parse("<network><name>n</name></network>", err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	struct virt_domain dom;
	ck_assert_int_eq(virt_domain_read(d, VIRT_HV_UNKNOWN, &dom, err,
					  sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "<network>"), "%s", err);
	xmlFreeDoc(d);
}
END_TEST

/* ---------------------------------------------------------------- model */

/* Domain name from the example node, as its own document. */
static xmlDocPtr example(const char *name)
{
	char err[512];
	xmlDocPtr node = virt_xml_read_file(NODE_XML, NULL, err, sizeof(err));
	ck_assert_msg(node != NULL, "%s", err);
	xmlDocPtr out = NULL;
	for (xmlNodePtr d = virt_xml_child(xmlDocGetRootElement(node), "domain");
	     d; d = virt_xml_next(d, "domain")) {
		xmlNodePtr n = virt_xml_child(d, "name");
		xmlChar *t = xmlNodeGetContent(n);
		bool hit = t && !strcmp((const char *)t, name);
		xmlFree(t);
		if (hit) {
			out = xmlNewDoc((const xmlChar *)"1.0");
			xmlDocSetRootElement(out, xmlDocCopyNode(d, out, 1));
		}
	}
	xmlFreeDoc(node);
	ck_assert_msg(out != NULL, "no domain %s in %s", name, NODE_XML);
	return out;
}

static const struct virt_dev *find(const struct virt_domain *d, const char *id)
{
	for (size_t i = 0; i < d->ndev; i++)
		if (!strcmp(d->dev[i].target, id) || !strcmp(d->dev[i].mac, id))
			return &d->dev[i];
	ck_abort_msg("no device %s", id);
	return NULL;
}

static void read_example(const char *name, struct virt_domain *d, xmlDocPtr *doc)
{
	char err[256];
	*doc = example(name);
	ck_assert_int_eq(virt_domain_read(*doc, VIRT_HV_UNKNOWN, d, err,
					  sizeof(err)), 0);
}

START_TEST(model_examples)
{
	struct virt_domain d;
	xmlDocPtr doc;

	read_example("kvm-q35", &d, &doc);
	ck_assert_int_eq(d.hv, VIRT_HV_KVM);
	ck_assert_str_eq(find(&d, "vda")->address, "virtio-pci:04:00.0");
	ck_assert(find(&d, "vda")->paravirt && find(&d, "vda")->drivable);
	ck_assert_str_eq(find(&d, "52:54:00:6b:10:01")->address, "virtio-pci:01:00.0");
	ck_assert_str_eq(find(&d, "52:54:00:6b:10:01")->kind, "virtio-net");
	ck_assert(!find(&d, "52:54:00:6b:10:02")->drivable);
	ck_assert(!find(&d, "sdc")->drivable); /* sata cdrom */
	virt_domain_free(&d);
	xmlFreeDoc(doc);

	read_example("xen-hvm", &d, &doc);
	ck_assert_int_eq(d.hv, VIRT_HV_XEN);
	ck_assert(!d.xen_pv);
	ck_assert_str_eq(find(&d, "xvda")->address, "xen:vbd/51712");
	ck_assert_str_eq(find(&d, "xvdb")->address, "xen:vbd/51728");
	ck_assert_str_eq(find(&d, "xvdq")->address, "xen:vbd/268439552");
	ck_assert_str_eq(find(&d, "hda")->address, "xen:vbd/768");
	ck_assert(!find(&d, "hda")->paravirt);
	ck_assert_str_eq(find(&d, "00:16:3e:00:20:01")->address, "xen:vif/0");
	ck_assert_str_eq(find(&d, "00:16:3e:00:20:02")->address, "xen:vif/1");
	ck_assert_str_eq(find(&d, "00:16:3e:00:20:03")->address, "xen:vif/2");
	ck_assert(!find(&d, "00:16:3e:00:20:03")->paravirt); /* e1000 + vif */
	virt_domain_free(&d);
	xmlFreeDoc(doc);

	read_example("xen-pv", &d, &doc);
	ck_assert(d.xen_pv);
	ck_assert_str_eq(find(&d, "xvdb1")->address, "xen:vbd/51729");
	ck_assert_str_eq(find(&d, "00:16:3e:00:30:01")->kind, "Xen vif (netfront)");
	virt_domain_free(&d);
	xmlFreeDoc(doc);

	read_example("hyperv-gen2", &d, &doc);
	ck_assert_int_eq(d.hv, VIRT_HV_HYPERV);
	ck_assert_str_eq(find(&d, "sda")->address,
			 "vmbus (instance assigned by Hyper-V)");
	ck_assert_str_eq(find(&d, "sda")->kind, "StorVSC (synthetic SCSI)");
	ck_assert(!find(&d, "hda")->drivable);
	ck_assert_str_eq(find(&d, "00:15:5d:00:40:01")->kind,
			 "NetVSC (synthetic NIC)");
	virt_domain_free(&d);
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(model_infers_test_domains)
{
	char err[256];
	xmlDocPtr doc = parse(
		"<domain type='test'><name>t</name><devices>"
		"<disk type='file'><source file='/x'/><target dev='xvda' bus='xen'/></disk>"
		"<interface type='bridge'><mac address='00:16:3e:00:00:01'/>"
		"<model type='netfront'/></interface></devices></domain>",
		err, sizeof(err));
	ck_assert_ptr_nonnull(doc);
	struct virt_domain d;
	ck_assert_int_eq(virt_domain_read(doc, VIRT_HV_UNKNOWN, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d.hv, VIRT_HV_XEN);
	ck_assert(d.inferred);
	ck_assert_str_eq(d.dev[0].address, "xen:vbd/51712");
	virt_domain_free(&d);
	/* --as overrides */
	ck_assert_int_eq(virt_domain_read(doc, VIRT_HV_HYPERV, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(d.hv, VIRT_HV_HYPERV);
	ck_assert(!d.dev[0].drivable);
	virt_domain_free(&d);
	xmlFreeDoc(doc);
}
END_TEST

/* ---------------------------------------------------------------- convert */

static int notes_seen;
static char last_note[512];

static void count_note(void *opaque, const char *msg)
{
	(void)opaque;
	notes_seen++;
	snprintf(last_note, sizeof(last_note), "%s", msg);
}

static xmlDocPtr convert(xmlDocPtr in, enum virt_hv to)
{
	char err[512];
	size_t len;
	char *s = virt_xml_dump(in, false, &len);
	xmlDocPtr doc = virt_xml_parse(s, len, "copy", err, sizeof(err));
	free(s);
	ck_assert_ptr_nonnull(doc);
	struct virt_convert_opts o = { .to = to, .set_type = true,
				       .note = count_note };
	ck_assert_msg(virt_convert_doc(doc, &o, err, sizeof(err)) >= 0, "%s", err);
	return doc;
}

/* libvirt itself accepts the converted domain (its parser and checks, on
 * the embedded test driver). */
static void defines(virConnectPtr conn, xmlDocPtr doc)
{
	char *xml = virt_xml_dump(doc, false, NULL);
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	ck_assert_msg(dom != NULL, "libvirt refused: %s\n%s", virt_lverr(), xml);
	ck_assert_int_eq(virDomainUndefine(dom), 0);
	virDomainFree(dom);
	free(xml);
}

static const char *after_space(const char *s)
{
	const char *p = strchr(s, ' ');
	return p ? p + 1 : s;
}

/* Same devices, in the same order: class, kind, target, MAC, disk source,
 * interface source name, drivable. */
static void same_devices(xmlDocPtr a, xmlDocPtr b)
{
	char err[256];
	struct virt_domain x, y;
	ck_assert_int_eq(virt_domain_read(a, VIRT_HV_UNKNOWN, &x, err, sizeof(err)), 0);
	ck_assert_int_eq(virt_domain_read(b, VIRT_HV_UNKNOWN, &y, err, sizeof(err)), 0);
	ck_assert_int_eq(x.hv, y.hv);
	ck_assert_uint_eq(x.ndev, y.ndev);
	for (size_t i = 0; i < x.ndev; i++) {
		const struct virt_dev *u = &x.dev[i], *v = &y.dev[i];
		ck_assert_int_eq(u->cls, v->cls);
		ck_assert_int_eq(u->paravirt, v->paravirt);
		/* the same kind of device, but a Xen vif that had an emulated
		 * twin (ioemu) comes back netfront-only: compare how pvio
		 * reaches it */
		if (!strstr(u->kind, "ioemu"))
			ck_assert_str_eq(u->kind, v->kind);
		ck_assert_uint_eq(strcspn(u->address, ":( "), strcspn(v->address, ":( "));
		ck_assert(!strncmp(u->address, v->address, strcspn(u->address, ":( ")));
		ck_assert_str_eq(u->target, v->target);
		ck_assert_str_eq(u->mac, v->mac);
		ck_assert_int_eq(u->drivable, v->drivable);
		if (u->cls == PVIO_CLASS_BLK)
			ck_assert_str_eq(u->source, v->source);
		else
			ck_assert_str_eq(after_space(u->source), after_space(v->source));
	}
	virt_domain_free(&x);
	virt_domain_free(&y);
}

START_TEST(convert_round_trips)
{
	virt_quiet_errors();
	virConnectPtr conn = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(conn);
	static const struct {
		const char *name;
		enum virt_hv home, via;
		bool exact;
	} trips[] = {
		{ "kvm-q35", VIRT_HV_KVM, VIRT_HV_XEN, true },
		{ "kvm-q35", VIRT_HV_KVM, VIRT_HV_HYPERV, true },
		{ "xen-hvm", VIRT_HV_XEN, VIRT_HV_KVM, true },
		{ "xen-hvm", VIRT_HV_XEN, VIRT_HV_HYPERV, true },
		/* xvdb1 (a partition as a disk) exists on Xen only: it comes
		 * back as xvdb, and convert says so */
		{ "xen-pv", VIRT_HV_XEN, VIRT_HV_KVM, false },
		{ "hyperv-gen2", VIRT_HV_HYPERV, VIRT_HV_KVM, true },
		{ "hyperv-gen2", VIRT_HV_HYPERV, VIRT_HV_XEN, true },
	};
	for (size_t i = 0; i < sizeof(trips) / sizeof(trips[0]); i++) {
		xmlDocPtr orig = example(trips[i].name);
		notes_seen = 0;
		last_note[0] = 0;
		xmlDocPtr there = convert(orig, trips[i].via);
		if (!trips[i].exact)
			ck_assert_int_ge(notes_seen, 1);
		defines(conn, there);
		/* every paravirtual device is paravirtual on the target */
		struct virt_domain a, b;
		char err[256];
		ck_assert_int_eq(virt_domain_read(orig, VIRT_HV_UNKNOWN, &a, err, sizeof(err)), 0);
		ck_assert_int_eq(virt_domain_read(there, VIRT_HV_UNKNOWN, &b, err, sizeof(err)), 0);
		ck_assert_int_eq(b.hv, trips[i].via);
		ck_assert_uint_eq(a.ndev, b.ndev);
		for (size_t k = 0; k < a.ndev; k++) {
			if (a.dev[k].paravirt && a.dev[k].drivable)
				ck_assert_msg(b.dev[k].paravirt && b.dev[k].drivable,
					      "%s via %s: device %zu is %s",
					      trips[i].name, virt_hv_name(trips[i].via),
					      k, b.dev[k].kind);
			ck_assert_str_eq(a.dev[k].mac, b.dev[k].mac);
		}
		virt_domain_free(&a);
		virt_domain_free(&b);
		xmlDocPtr back = convert(there, trips[i].home);
		defines(conn, back);
		if (trips[i].exact)
			same_devices(orig, back);
		xmlFreeDoc(orig);
		xmlFreeDoc(there);
		xmlFreeDoc(back);
	}
	virConnectClose(conn);
}
END_TEST

START_TEST(convert_details)
{
	char err[512];
	/* to Hyper-V: SCSI controller added, PCI address dropped (said), a
	 * name taken by an emulated disk moves on (said) */
	xmlDocPtr doc = parse(
		"<domain type='kvm'><name>c</name><memory>1024</memory><os><type>hvm</type></os><devices>\n"
		"    <disk type='file' device='cdrom'><source file='/a.iso'/><target dev='sda' bus='sata'/></disk>\n"
		"    <disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/>"
		"<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>\n"
		"    <disk type='file' device='disk'><source file='/b'/><target dev='vdb' bus='virtio'/></disk>\n"
		"    <interface type='user'><mac address='52:54:00:00:00:09'/><model type='virtio'/></interface>\n"
		"    <memballoon model='virtio'/>\n"
		"  </devices></domain>", err, sizeof(err));
	ck_assert_ptr_nonnull(doc);
	notes_seen = 0;
	struct virt_convert_opts o = { .to = VIRT_HV_HYPERV, .note = count_note };
	int n = virt_convert_doc(doc, &o, err, sizeof(err));
	ck_assert_int_eq(n, notes_seen);
	/* cdrom left, PCI dropped, vda renamed, user NIC unmapped, balloon,
	 * domain type kept */
	ck_assert_int_eq(n, 6);
	struct virt_domain d;
	ck_assert_int_eq(virt_domain_read(doc, VIRT_HV_HYPERV, &d, err, sizeof(err)), 0);
	ck_assert_str_eq(d.dev[1].target, "sdc"); /* was vda: sda is taken */
	ck_assert_str_eq(d.dev[2].target, "sdb"); /* was vdb: own letters */
	ck_assert_ptr_null(virt_xml_child(d.dev[1].node, "address"));
	ck_assert_ptr_null(virt_xml_child(d.dev[3].node, "model"));
	virt_domain_free(&d);
	xmlNodePtr devs = virt_xml_child(xmlDocGetRootElement(doc), "devices");
	bool scsi = false;
	for (xmlNodePtr c = virt_xml_child(devs, "controller"); c;
	     c = virt_xml_next(c, "controller")) {
		char *t = virt_xml_attr(c, "type");
		scsi |= t && !strcmp(t, "scsi");
		xmlFree(t);
	}
	ck_assert(scsi);
	/* whitespace of the original kept: no blank lines left behind */
	char *out = virt_xml_dump(doc, false, NULL);
	ck_assert_ptr_null(strstr(out, "\n\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n    <memballoon"));
	free(out);
	xmlFreeDoc(doc);

	/* unknown family: a clear error */
	doc = parse("<domain type='test'><name>u</name><devices><disk type='file'>"
		    "<target dev='sda' bus='scsi'/></disk></devices></domain>",
		    err, sizeof(err));
	o.to = VIRT_HV_KVM;
	ck_assert_int_eq(virt_convert_doc(doc, &o, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "--from"), "%s", err);
	o.from = VIRT_HV_HYPERV;
	ck_assert_int_eq(virt_convert_doc(doc, &o, err, sizeof(err)), 0);
	xmlFreeDoc(doc);
}
END_TEST

/* ---------------------------------------------------------------- collect */

START_TEST(collect_lines)
{
	struct virt_collect c;
	virt_collect_init(&c, NULL, NULL, NULL);
	const char *in = "boot noise\r\nPVIO-GUEST hello magic=1\r\nPVIO-GUEST b";
	ck_assert_uint_eq(virt_collect_feed(&c, in, strlen(in)), 1);
	ck_assert_str_eq(virt_collect_get(&c, "hello"), "magic=1");
	/* the unfinished line completes later */
	ck_assert_uint_eq(virt_collect_feed(&c, "lk ok 4096\n", 11), 1);
	ck_assert_str_eq(virt_collect_get(&c, "blk"), "ok 4096");
	/* repeats, NULs, an over-long line dropped whole */
	const char rep[] = "PVIO-GUEST blk again\nPVIO\0-GUEST x y\n";
	ck_assert_uint_eq(virt_collect_feed(&c, rep, sizeof(rep) - 1), 2);
	ck_assert_str_eq(virt_collect_get(&c, "blk#2"), "again");
	ck_assert_str_eq(virt_collect_get(&c, "x"), "y");
	char *lng = malloc(5000);
	memcpy(lng, "PVIO-GUEST long ", 16);
	memset(lng + 16, 'z', 5000 - 17);
	lng[4999] = '\n';
	ck_assert_uint_eq(virt_collect_feed(&c, lng, 5000), 0);
	free(lng);
	ck_assert_ptr_null(virt_collect_get(&c, "long"));
	ck_assert_uint_eq(virt_collect_feed(&c, "PVIO-GUEST after 1\n", 19), 1);
	ck_assert_uint_eq(c.nres, 5);
	ck_assert_ptr_null(virt_collect_get(&c, "noise"));
	virt_collect_free(&c);
}
END_TEST

START_TEST(collect_file)
{
	char path[] = "/tmp/pvio-test-collect.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	struct virt_collect c;
	virt_collect_init(&c, path, NULL, NULL);
	fputs("PVIO-GUEST one 1\nPVIO-GUEST tw", f);
	fflush(f);
	ck_assert_uint_eq(virt_collect_poll(&c, false), 1);
	fputs("o 2\nPVIO-GUEST three 3", f);
	fflush(f);
	ck_assert_uint_eq(virt_collect_poll(&c, false), 1);
	ck_assert_uint_eq(virt_collect_poll(&c, true), 1); /* last, unfinished */
	ck_assert_str_eq(virt_collect_get(&c, "two"), "2");
	ck_assert_str_eq(virt_collect_get(&c, "three"), "3");
	fclose(f);
	unlink(path);
	virt_collect_free(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virt");
	TCase *t = tcase_create("vbd");
	tcase_add_test(t, vbd_numbers);
	tcase_add_test(t, disk_names);
	suite_add_tcase(s, t);
	t = tcase_create("xml");
	tcase_add_test(t, xml_refuses_entities);
	tcase_add_test(t, xml_limits);
	suite_add_tcase(s, t);
	t = tcase_create("model");
	tcase_add_test(t, model_examples);
	tcase_add_test(t, model_infers_test_domains);
	suite_add_tcase(s, t);
	t = tcase_create("convert");
	tcase_add_test(t, convert_round_trips);
	tcase_add_test(t, convert_details);
	suite_add_tcase(s, t);
	t = tcase_create("collect");
	tcase_add_test(t, collect_lines);
	tcase_add_test(t, collect_file);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	virt_quiet_errors();
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
