/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/convert.c - `pvio virt convert`: rewrite a domain's
 * paravirtual disk and interface definitions for another hypervisor
 * family, so the devices pvio drives exist again after the move.
 *
 * What is rewritten (the source family's paravirtual definitions, see
 * model.c): disks on virtio / xen / Hyper-V SCSI become
 *   kvm     <target dev='vdX' bus='virtio'>
 *   xen     <target dev='xvdX' bus='xen'>
 *   hyperv  <target dev='sdX' bus='scsi'> on a <controller type='scsi'>
 * keeping the disk's letters (vdb -> xvdb -> sdb) and order; a name already
 * taken by a disk that stays moves to the next free letter.  Interfaces get
 *   kvm     <model type='virtio'/>
 *   xen     <model type='netfront'/> (a PV-only vif)
 *   hyperv  no model, type='bridge' (libvirt's Hyper-V driver attaches a
 *           synthetic NIC to the virtual switch the bridge names; a
 *           type='network' becomes a bridge of the network's name)
 * MACs, sources and everything else stay; addresses that mean nothing on
 * the target (a PCI slot on Xen or Hyper-V, a SCSI drive address on
 * virtio) and virtio-only driver settings are dropped.  <domain type>
 * stays unless set_type.  Every device left as it was (emulated ones,
 * CD-ROMs, interface types the target cannot connect) and everything
 * dropped is reported through o->note, one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/virt/virt.h"

#define SUB "convert"

struct conv {
	const struct virt_convert_opts *o;
	int notes;
};

static void note(struct conv *c, const char *fmt, ...) VIRT_PRINTF(2, 3);
static void note(struct conv *c, const char *fmt, ...)
{
	char line[512], pl[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->notes++;
	if (c->o->note)
		c->o->note(c->o->opaque, virt_printable(line, pl, sizeof(pl)));
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static const char *dev_name(const struct virt_dev *v)
{
	return *v->target ? v->target : *v->mac ? v->mac : "(unnamed)";
}

static const char *target_bus(enum virt_hv to)
{
	return to == VIRT_HV_KVM ? "virtio" : to == VIRT_HV_XEN ? "xen" : "scsi";
}

static const char *target_prefix(enum virt_hv to)
{
	return to == VIRT_HV_KVM ? "vd" : to == VIRT_HV_XEN ? "xvd" : "sd";
}

static const char *target_title(enum virt_hv to)
{
	return to == VIRT_HV_KVM ? "KVM" : to == VIRT_HV_XEN ? "Xen" : "Hyper-V";
}

/* Is name used as a target by a disk other than self? */
static bool name_taken(const struct virt_domain *d, const char *name,
		       const struct virt_dev *self)
{
	for (size_t i = 0; i < d->ndev; i++) {
		const struct virt_dev *v = &d->dev[i];
		if (v == self || v->cls != PVIO_CLASS_BLK)
			continue;
		if (!strcmp(v->target, name))
			return true;
	}
	return false;
}

/* Drop child <address> when it does not fit want ("pci", "drive", NULL =
 * none fits); say so. */
static void fit_address(struct conv *c, const struct virt_dev *v,
			const char *want, const char *why)
{
	xmlNodePtr a = virt_xml_child(v->node, "address");
	if (!a)
		return;
	char *type = virt_xml_attr(a, "type");
	if (!want || !streq(type, want)) {
		if (streq(type, "pci")) {
			char *b = virt_xml_attr(a, "bus"), *s = virt_xml_attr(a, "slot");
			char *f = virt_xml_attr(a, "function");
			note(c, "%s %s: dropped its PCI address (bus %s slot %s "
			     "function %s): %s",
			     v->cls == PVIO_CLASS_BLK ? "disk" : "interface",
			     dev_name(v), b ? b : "?", s ? s : "?", f ? f : "?",
			     why);
			xmlFree(b), xmlFree(s), xmlFree(f);
		} else {
			note(c, "%s %s: dropped its %s address: %s",
			     v->cls == PVIO_CLASS_BLK ? "disk" : "interface",
			     dev_name(v), type ? type : "untyped", why);
		}
		virt_xml_remove(a);
	}
	xmlFree(type);
}

/* The name a converted disk wants: the target's prefix with the disk's own
 * letters (Xen's d<N> form counts as letters N). */
static void wanted_name(struct conv *c, const struct virt_dev *v, uint32_t *idx,
			int *part)
{
	const char *prefix;
	if (virt_disk_name_split(v->target, &prefix, idx, part)) {
		char *end;
		unsigned long n = v->target[0] == 'd'
					  ? strtoul(v->target + 1, &end, 10) : 0;
		*idx = (uint32_t)(v->target[0] == 'd' && end != v->target + 1 &&
					  n < (1ul << 20) ? n : 0);
		*part = -1;
	}
	if (*part >= 0 && c->o->to != VIRT_HV_XEN) {
		note(c, "disk %s: a partition (%d) as a disk exists on Xen only; "
		     "it becomes a whole disk", v->target, *part);
		*part = -1;
	}
}

/* Give disk v its new name: its own letters when free (first pass), else
 * (second pass) the lowest free letters.  Returns false if the first pass
 * must leave it for the second. */
static bool convert_disk(struct conv *c, struct virt_domain *d,
			 struct virt_dev *v, enum virt_hv to, bool second)
{
	xmlNodePtr t = virt_xml_child(v->node, "target");
	uint32_t idx;
	int part;
	char name[32], old[32];
	const char *px = target_prefix(to);
	snprintf(old, sizeof(old), "%s", v->target);
	if (!second) {
		struct conv quiet = { .o = c->o };
		struct virt_convert_opts qo = *c->o;
		qo.note = NULL;
		quiet.o = &qo;
		wanted_name(&quiet, v, &idx, &part);
		if (virt_disk_name(px, idx, part, name, sizeof(name)) ||
		    name_taken(d, name, v))
			return false;
		wanted_name(c, v, &idx, &part);
	} else {
		wanted_name(c, v, &idx, &part);
		bool found = false;
		for (uint32_t i = 0; i < 4096 && !found; i++) {
			if (virt_disk_name(px, i, part, name, sizeof(name)))
				break;
			found = !name_taken(d, name, v);
		}
		if (!found) {
			note(c, "disk %s: no free %s name; left as it is", old,
			     target_title(to));
			return true;
		}
		note(c, "disk %s: renamed to %s: the name with its own letters "
		     "is taken by another disk", old, name);
	}
	xmlSetProp(t, (const xmlChar *)"dev", (const xmlChar *)name);
	xmlSetProp(t, (const xmlChar *)"bus", (const xmlChar *)target_bus(to));
	snprintf(v->target, sizeof(v->target), "%s", name);

	if (to == VIRT_HV_KVM)
		fit_address(c, v, "pci", "virtio disks get a PCI slot");
	else if (to == VIRT_HV_XEN)
		fit_address(c, v, NULL, "a Xen VBD has no bus address");
	else
		fit_address(c, v, "drive", "synthetic SCSI disks sit on a SCSI "
			    "controller");

	/* virtio-blk's own driver settings mean nothing elsewhere */
	xmlNodePtr drv = virt_xml_child(v->node, "driver");
	static const char *const vonly[] = { "queues", "queue_size", "iothread",
					     "ioeventfd", "event_idx" };
	for (size_t i = 0; drv && to != VIRT_HV_KVM &&
			   i < sizeof(vonly) / sizeof(vonly[0]); i++) {
		char *val = virt_xml_attr(drv, vonly[i]);
		if (val) {
			note(c, "disk %s: dropped driver %s='%s' (virtio-blk "
			     "only)", name, vonly[i], val);
			xmlUnsetProp(drv, (const xmlChar *)vonly[i]);
			xmlFree(val);
		}
	}
	return true;
}

static void set_model(xmlNodePtr iface, const char *model)
{
	xmlNodePtr m = virt_xml_child(iface, "model");
	if (!model) {
		if (m)
			virt_xml_remove(m);
		return;
	}
	if (!m)
		m = virt_xml_append(iface, "model");
	if (m)
		xmlSetProp(m, (const xmlChar *)"type", (const xmlChar *)model);
}

static void convert_interface(struct conv *c, struct virt_dev *v,
			      enum virt_hv to)
{
	xmlNodePtr n = v->node;
	char *type = virt_xml_attr(n, "type");
	const char *name = dev_name(v);
	if (strstr(v->kind, "ioemu"))
		note(c, "interface %s: its emulated twin (Xen ioemu) is not "
		     "kept; the paravirtual NIC is", name);
	if (to == VIRT_HV_KVM) {
		set_model(n, "virtio");
		fit_address(c, v, "pci", "virtio NICs get a PCI slot");
	} else {
		set_model(n, to == VIRT_HV_XEN ? "netfront" : NULL);
		fit_address(c, v, NULL, to == VIRT_HV_XEN
				? "a Xen vif has no bus address"
				: "a Hyper-V synthetic NIC has no bus address");
		xmlNodePtr drv = virt_xml_child(n, "driver");
		if (drv) {
			note(c, "interface %s: dropped its <driver> (virtio-net "
			     "and vhost settings)", name);
			virt_xml_remove(drv);
		}
	}
	if (to == VIRT_HV_XEN && !streq(type, "bridge") &&
	    !streq(type, "network") && !streq(type, "ethernet"))
		note(c, "interface %s: type '%s' cannot be connected by "
		     "libvirt's Xen driver (bridge, network or ethernet); left "
		     "as it is", name, type ? type : "");
	if (to == VIRT_HV_HYPERV && !streq(type, "bridge")) {
		xmlNodePtr src = virt_xml_child(n, "source");
		char *net = virt_xml_attr(src, "network");
		if (streq(type, "network") && net) {
			xmlSetProp(n, (const xmlChar *)"type",
				   (const xmlChar *)"bridge");
			xmlUnsetProp(src, (const xmlChar *)"network");
			xmlUnsetProp(src, (const xmlChar *)"portgroup");
			xmlSetProp(src, (const xmlChar *)"bridge",
				   (const xmlChar *)net);
			note(c, "interface %s: network '%s' became the Hyper-V "
			     "virtual switch '%s' (type='bridge'); make sure "
			     "the switch exists", name, net, net);
		} else {
			note(c, "interface %s: type '%s' has no Hyper-V form "
			     "(a synthetic NIC connects to a virtual switch: "
			     "type='bridge'); left as it is", name,
			     type ? type : "");
		}
		xmlFree(net);
	}
	xmlFree(type);
}

/* SCSI controller indexes any scsi disk still uses. */
static bool scsi_controller_used(xmlNodePtr devices, long index)
{
	for (xmlNodePtr disk = virt_xml_child(devices, "disk"); disk;
	     disk = virt_xml_next(disk, "disk")) {
		char *bus = virt_xml_child_attr(disk, "target", "bus");
		char *dev = virt_xml_child_attr(disk, "target", "dev");
		char *ctl = virt_xml_child_attr(disk, "address", "controller");
		bool scsi = streq(bus, "scsi") || (!bus && dev && !strncmp(dev, "sd", 2));
		long i = ctl ? strtol(ctl, NULL, 10) : 0;
		xmlFree(bus), xmlFree(dev), xmlFree(ctl);
		if (scsi && i == index)
			return true;
	}
	return false;
}

static xmlNodePtr find_controller(xmlNodePtr devices, const char *type,
				  long index)
{
	for (xmlNodePtr n = virt_xml_child(devices, "controller"); n;
	     n = virt_xml_next(n, "controller")) {
		char *t = virt_xml_attr(n, "type"), *i = virt_xml_attr(n, "index");
		bool hit = streq(t, type) && (i ? strtol(i, NULL, 10) : 0) == index;
		xmlFree(t), xmlFree(i);
		if (hit)
			return n;
	}
	return NULL;
}

/* Other virtio devices (balloon, rng, serial, ...) pvio does not convert. */
static void report_other_virtio(struct conv *c, xmlNodePtr devices)
{
	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || n->ns)
			continue;
		const char *e = (const char *)n->name;
		if (!strcmp(e, "disk") || !strcmp(e, "interface"))
			continue;
		char *model = virt_xml_attr(n, "model");
		char *type = virt_xml_attr(n, "type");
		char *bus = virt_xml_attr(n, "bus");
		char *cmodel = virt_xml_child_attr(n, "model", "type");
		char *ttype = virt_xml_child_attr(n, "target", "type");
		bool virtio = (model && !strncmp(model, "virtio", 6)) ||
			      streq(type, "virtio-serial") || streq(bus, "virtio") ||
			      (cmodel && !strncmp(cmodel, "virtio", 6)) ||
			      streq(ttype, "virtio");
		if (virtio)
			note(c, "<%s%s%s%s> is a virtio device with no %s form "
			     "here; left as it is (pvio converts disks and "
			     "interfaces)", e, type ? " type='" : "",
			     type ? type : "", type ? "'" : "",
			     target_title(c->o->to));
		xmlFree(model), xmlFree(type), xmlFree(bus), xmlFree(cmodel);
		xmlFree(ttype);
	}
}

int virt_convert_doc(xmlDocPtr doc, const struct virt_convert_opts *o,
		     char *err, size_t errsize)
{
	struct conv c = { .o = o };
	struct virt_domain d;
	if (virt_domain_read(doc, o->from, &d, err, errsize))
		return -EINVAL;
	if (d.hv == VIRT_HV_UNKNOWN) {
		char t[48];
		snprintf(err, errsize, "cannot tell which hypervisor family the "
			 "devices are for (domain type '%s', no virtio or Xen "
			 "devices); say --from kvm|xen|hyperv",
			 virt_printable(d.type, t, sizeof(t)));
		virt_domain_free(&d);
		return -EINVAL;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr devices = virt_xml_child(root, "devices");
	enum virt_hv to = o->to;
	bool scsi_freed[64] = { false };
	size_t *pending = virt_calloc(d.ndev ? d.ndev : 1, sizeof(*pending));
	size_t npending = 0;

	for (size_t i = 0; i < d.ndev && d.hv != to; i++) {
		struct virt_dev *v = &d.dev[i];
		if (v->paravirt && v->drivable) {
			if (v->cls == PVIO_CLASS_BLK) {
				if (d.hv == VIRT_HV_HYPERV) {
					char *ctl = virt_xml_child_attr(
						v->node, "address", "controller");
					long ci = ctl ? strtol(ctl, NULL, 10) : 0;
					xmlFree(ctl);
					if (ci >= 0 && ci < 64)
						scsi_freed[ci] = true;
				}
				if (!convert_disk(&c, &d, v, to, false))
					pending[npending++] = i;
			} else {
				convert_interface(&c, v, to);
			}
			continue;
		}
		/* left as it is: say what and why */
		const char *why = v->drivable ? "not the paravirtual definition"
					      : v->address;
		if (!strncmp(why, "not drivable by pvio: ", 22))
			why += 22;
		note(&c, "%s %s (%s): left as it is: %s",
		     v->cls == PVIO_CLASS_BLK ? "disk" : "interface",
		     dev_name(v), v->kind, why);
	}

	/* second pass: disks whose own letters were taken */
	for (size_t k = 0; k < npending; k++) {
		struct virt_dev *v = &d.dev[pending[k]];
		convert_disk(&c, &d, v, to, true);
	}
	free(pending);

	if (d.hv != to) {
		/* controllers: Hyper-V's synthetic disks need a SCSI one;
		 * SCSI controllers only converted disks used go away */
		bool any_scsi = false;
		for (size_t i = 0; i < d.ndev; i++)
			if (d.dev[i].cls == PVIO_CLASS_BLK && d.dev[i].paravirt &&
			    d.dev[i].drivable)
				any_scsi = true;
		if (to == VIRT_HV_HYPERV && any_scsi &&
		    !find_controller(devices, "scsi", 0)) {
			xmlNodePtr after = NULL;
			for (xmlNodePtr n = devices->children; n; n = n->next)
				if (n->type == XML_ELEMENT_NODE && !n->ns &&
				    (!strcmp((const char *)n->name, "disk") ||
				     !strcmp((const char *)n->name, "controller")))
					after = n;
			xmlNodePtr ctl = after ? virt_xml_insert_after(after, "controller")
					       : virt_xml_append(devices, "controller");
			if (ctl) {
				xmlSetProp(ctl, (const xmlChar *)"type",
					   (const xmlChar *)"scsi");
				xmlSetProp(ctl, (const xmlChar *)"index",
					   (const xmlChar *)"0");
			}
		}
		for (long ci = 0; ci < 64; ci++) {
			if (!scsi_freed[ci] || scsi_controller_used(devices, ci))
				continue;
			xmlNodePtr ctl = find_controller(devices, "scsi", ci);
			if (ctl) {
				note(&c, "removed <controller type='scsi' "
				     "index='%ld'>: no disk uses it any more", ci);
				virt_xml_remove(ctl);
			}
		}
		if (to != VIRT_HV_KVM)
			report_other_virtio(&c, devices);
	}

	enum virt_hv typed;
	bool typed_ok = !virt_hv_parse(d.type, &typed);
	if (o->set_type) {
		const char *nt = to == VIRT_HV_KVM
					 ? (streq(d.type, "qemu") ? "qemu" : "kvm")
					 : virt_hv_name(to);
		if (!streq(d.type, nt)) {
			xmlSetProp(root, (const xmlChar *)"type",
				   (const xmlChar *)nt);
			note(&c, "set <domain type='%s'>; <os>, <emulator> and "
			     "<features> are not converted: check them", nt);
		}
	} else if (typed_ok && typed != to) {
		note(&c, "kept <domain type='%s'>: give --set-type to make it a "
		     "%s domain", d.type, target_title(to));
	}
	virt_domain_free(&d);
	return c.notes;
}

/* ---------------------------------------------------------------- command */

static void usage(FILE *f)
{
	fputs("usage: pvio virt convert --to kvm|xen|hyperv [OPTIONS] DOMAIN.xml\n"
	      "\n"
	      "Rewrites a libvirt domain's paravirtual disks and interfaces for\n"
	      "another hypervisor family and writes the domain XML to standard\n"
	      "output.  Whatever it could not map or had to drop is said on\n"
	      "standard error, one line each.  DOMAIN.xml may be - (stdin).\n"
	      "\n"
	      "  --to kvm|xen|hyperv    target family (required)\n"
	      "  --from kvm|xen|hyperv  source family (default: the domain type,\n"
	      "                         else inferred from the devices)\n"
	      "  --set-type             also set <domain type> for the target\n"
	      "  -o FILE                write to FILE instead of standard output\n"
	      "  --strict               fail (exit 1, nothing written) if anything\n"
	      "                         could not be mapped\n"
	      "  -q, --quiet            do not print the notes\n"
	      "\n"
	      "man pvio-virt(1).\n", f);
}

struct notes {
	bool quiet;
	bool strict;
};

static void print_note(void *opaque, const char *msg)
{
	struct notes *n = opaque;
	if (n->strict)
		fprintf(stderr, "pvio virt convert: %s\n", msg);
	else if (!n->quiet)
		fprintf(stderr, "pvio virt convert: note: %s\n", msg);
}

/* Write data to path through a temporary file and rename, so a failure
 * never leaves half a domain behind. */
static int write_file(const char *path, const char *data, size_t len)
{
	size_t pl = strlen(path);
	char *tmp = virt_calloc(1, pl + 16);
	snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return -e;
	}
	fchmod(fd, 0644);
	size_t off = 0;
	int r = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

int virt_cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "to", required_argument, NULL, 'T' },
		{ "from", required_argument, NULL, 'F' },
		{ "set-type", no_argument, NULL, 'S' },
		{ "strict", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct virt_convert_opts o = { .to = VIRT_HV_UNKNOWN };
	struct notes nt = { false, false };
	const char *out = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:q", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return VIRT_OK;
		case 'T':
		case 'F':
			if (virt_hv_parse(optarg, c == 'T' ? &o.to : &o.from))
				return virt_usage(SUB, "--%s takes kvm, xen or "
						  "hyperv, not '%s'",
						  c == 'T' ? "to" : "from", optarg);
			break;
		case 'S':
			o.set_type = true;
			break;
		case 's':
			nt.strict = true;
			break;
		case 'q':
			nt.quiet = true;
			break;
		case 'o':
			out = optarg;
			break;
		case ':':
			return virt_usage(SUB, "%s needs a value", argv[optind - 1]);
		default:
			return virt_usage(SUB, "unknown option '%s'",
					  argv[optind - 1]);
		}
	}
	if (o.to == VIRT_HV_UNKNOWN)
		return virt_usage(SUB, "which target? give --to kvm, xen or hyperv");
	if (argc - optind != 1)
		return virt_usage(SUB, argc - optind ? "one domain XML file, please"
						     : "which domain XML file?");
	const char *in = argv[optind];
	o.note = print_note;
	o.opaque = &nt;

	virt_quiet_xml_errors();
	char err[512];
	bool decl = false;
	xmlDocPtr doc = virt_xml_read_file(in, &decl, err, sizeof(err));
	if (!doc)
		return virt_fail(SUB, "%s", err);
	int notes = virt_convert_doc(doc, &o, err, sizeof(err));
	if (notes < 0) {
		xmlFreeDoc(doc);
		return virt_fail(SUB, "%s", err);
	}
	if (nt.strict && notes) {
		xmlFreeDoc(doc);
		return virt_fail(SUB, "%d thing%s could not be mapped to %s "
				 "(above); nothing written (--strict)", notes,
				 notes == 1 ? "" : "s", target_title(o.to));
	}
	size_t len;
	char *xml = virt_xml_dump(doc, decl, &len);
	xmlFreeDoc(doc);
	if (!xml)
		return virt_fail(SUB, "cannot serialize the converted domain");
	int rc = VIRT_OK;
	if (out) {
		int r = write_file(out, xml, len);
		if (r)
			rc = virt_fail(SUB, "cannot write %s: %s", out, strerror(-r));
	} else if (fwrite(xml, 1, len, stdout) != len || fflush(stdout)) {
		rc = virt_fail(SUB, "cannot write the domain to standard output");
	}
	free(xml);
	return rc;
}
