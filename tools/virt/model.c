/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/model.c - what a libvirt domain's disks and interfaces are, as
 * pvio sees them from inside the guest.
 *
 * The hypervisor family comes from <domain type> (kvm/qemu: KVM with
 * virtio; xen: Xen; hyperv: Hyper-V); for any other type (libvirt's test
 * driver, ...) it is inferred from the devices (virtio -> KVM, a xen disk
 * bus or netfront model -> Xen).  Then, per family:
 *
 *  KVM    virtio disks and interfaces are virtio-blk/virtio-net on PCI
 *         (virtio-pci:BB:DD.F from the PCI <address>; virtio-mmio on
 *         microvm); every other model or bus is emulated (an interface
 *         without a model is QEMU's default rtl8139); virtio-scsi is
 *         paravirtual but not a device pvio drives.
 *  Xen    every disk is a VBD (xen:vbd/N, N from the target name as Xen's
 *         vbd-interface.txt encodes it) and every interface a vif
 *         (xen:vif/N, N = its position: libxl numbers NICs in order); on
 *         HVM guests an ide/scsi/sata disk and an interface with a model
 *         other than netfront are also emulated ("ioemu").  Only disk bus
 *         xen and model netfront / no model count as the paravirtual
 *         definition convert rewrites.
 *  Hyper-V libvirt's hyperv driver attaches every interface as a synthetic
 *         NIC on a virtual switch (type='bridge', no model; an emulated
 *         model such as e1000 is taken as a legacy adapter pvio cannot
 *         drive) and SCSI disks
 *         on synthetic SCSI controllers (StorVSC); IDE and floppy disks are
 *         emulated.  libvirt does not report the VMBus instance GUID, so
 *         the address is "vmbus (instance assigned by Hyper-V)".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/virt/virt.h"

const char *virt_hv_name(enum virt_hv h)
{
	switch (h) {
	case VIRT_HV_KVM:
		return "kvm";
	case VIRT_HV_XEN:
		return "xen";
	case VIRT_HV_HYPERV:
		return "hyperv";
	default:
		return "unknown";
	}
}

enum pvio_family virt_hv_family(enum virt_hv h)
{
	switch (h) {
	case VIRT_HV_KVM:
		return PVIO_FAMILY_VIRTIO;
	case VIRT_HV_XEN:
		return PVIO_FAMILY_XEN;
	case VIRT_HV_HYPERV:
		return PVIO_FAMILY_VMBUS;
	default:
		return PVIO_FAMILY_NONE;
	}
}

int virt_hv_parse(const char *s, enum virt_hv *out)
{
	if (!strcasecmp(s, "kvm") || !strcasecmp(s, "qemu"))
		*out = VIRT_HV_KVM;
	else if (!strcasecmp(s, "xen"))
		*out = VIRT_HV_XEN;
	else if (!strcasecmp(s, "hyperv") || !strcasecmp(s, "hyper-v"))
		*out = VIRT_HV_HYPERV;
	else
		return -EINVAL;
	return 0;
}

static void setf(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

#define SET(field, s) setf(field, sizeof(field), s)
#define SETF(field, ...) snprintf(field, sizeof(field), __VA_ARGS__)

/* The element's text content, trimmed, into buf. */
static void text_of(xmlNodePtr n, char *buf, size_t size)
{
	buf[0] = 0;
	if (!n)
		return;
	xmlChar *t = xmlNodeGetContent(n);
	if (!t)
		return;
	const char *s = (const char *)t;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	snprintf(buf, size, "%s", s);
	size_t l = strlen(buf);
	while (l && (buf[l - 1] == ' ' || buf[l - 1] == '\n' ||
		     buf[l - 1] == '\t' || buf[l - 1] == '\r'))
		buf[--l] = 0;
	xmlFree(t);
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static bool is_virtio_model(const char *m)
{
	return streq(m, "virtio") || streq(m, "virtio-transitional") ||
	       streq(m, "virtio-non-transitional");
}

/* The bus libvirt assumes when <target> names none. */
static const char *default_bus(const char *dev)
{
	const char *prefix;
	uint32_t disk;
	int part;
	if (!dev || virt_disk_name_split(dev, &prefix, &disk, &part))
		return "";
	if (!strcmp(prefix, "vd"))
		return "virtio";
	if (!strcmp(prefix, "xvd"))
		return "xen";
	if (!strcmp(prefix, "sd"))
		return "scsi";
	return "ide";
}

/* virtio device address from the element's <address>. */
static void virtio_address(const struct virt_domain *d, xmlNodePtr n,
			   struct virt_dev *v)
{
	xmlNodePtr a = virt_xml_child(n, "address");
	char *type = virt_xml_attr(a, "type");
	if (streq(type, "pci")) {
		char *dom = virt_xml_attr(a, "domain"), *bus = virt_xml_attr(a, "bus");
		char *slot = virt_xml_attr(a, "slot"), *fn = virt_xml_attr(a, "function");
		unsigned long vd = dom ? strtoul(dom, NULL, 0) : 0;
		unsigned long vb = bus ? strtoul(bus, NULL, 0) : 0;
		unsigned long vs = slot ? strtoul(slot, NULL, 0) : 0;
		unsigned long vf = fn ? strtoul(fn, NULL, 0) : 0;
		if (vb > 0xff || vs > 0x1f || vf > 7) {
			SETF(v->address, "virtio-pci (address %s:%s.%s is not "
				"a valid PCI address)", bus ? bus : "?",
				slot ? slot : "?", fn ? fn : "?");
		} else {
			SETF(v->address, "virtio-pci:%02lx:%02lx.%lx", vb, vs, vf);
			if (vd)
				SETF(v->note, "PCI domain %lu: pvio's virtio-pci "
				     "addresses reach domain 0 only", vd);
		}
		xmlFree(dom), xmlFree(bus), xmlFree(slot), xmlFree(fn);
	} else if (streq(type, "virtio-mmio") || strstr(d->machine, "microvm")) {
		SET(v->address, "virtio-mmio (base address assigned by QEMU)");
	} else if (type) {
		SETF(v->address, "virtio on a %.32s address: no pvio address "
		     "form", type);
	} else {
		SET(v->address, "virtio-pci (slot assigned when the domain "
			"is defined or started)");
	}
	xmlFree(type);
}

static void not_drivable(struct virt_dev *v, const char *why)
{
	v->drivable = false;
	SETF(v->address, "not drivable by pvio: %s", why);
}

/* The <controller type='scsi'> a SCSI disk sits on: its model or "". */
static void scsi_controller_model(xmlNodePtr devices, xmlNodePtr disk,
				  char *model, size_t size)
{
	char *ctl = virt_xml_child_attr(disk, "address", "controller");
	long want = ctl ? strtol(ctl, NULL, 10) : 0;
	xmlFree(ctl);
	model[0] = 0;
	for (xmlNodePtr c = virt_xml_child(devices, "controller"); c;
	     c = virt_xml_next(c, "controller")) {
		char *t = virt_xml_attr(c, "type"), *i = virt_xml_attr(c, "index");
		char *m = virt_xml_attr(c, "model");
		if (streq(t, "scsi") && (i ? strtol(i, NULL, 10) : 0) == want)
			snprintf(model, size, "%s", m ? m : "");
		xmlFree(t), xmlFree(i), xmlFree(m);
	}
}

static void read_disk(const struct virt_domain *d, xmlNodePtr devices,
		      xmlNodePtr n, struct virt_dev *v)
{
	v->cls = PVIO_CLASS_BLK;
	char *device = virt_xml_attr(n, "device");
	SET(v->device, device ? device : "disk");
	xmlFree(device);
	char *dev = virt_xml_child_attr(n, "target", "dev");
	char *bus = virt_xml_child_attr(n, "target", "bus");
	SET(v->target, dev);
	SET(v->model, bus ? bus : default_bus(dev));
	xmlFree(dev), xmlFree(bus);

	xmlNodePtr src = virt_xml_child(n, "source");
	char *f = virt_xml_attr(src, "file");
	if (!f)
		f = virt_xml_attr(src, "dev");
	if (!f)
		f = virt_xml_attr(src, "dir");
	if (f) {
		SET(v->source, f);
	} else {
		char *proto = virt_xml_attr(src, "protocol");
		char *name = virt_xml_attr(src, "name");
		char *pool = virt_xml_attr(src, "pool");
		char *vol = virt_xml_attr(src, "volume");
		if (proto)
			SETF(v->source, "%s:%s", proto, name ? name : "");
		else if (pool)
			SETF(v->source, "pool %s volume %s", pool, vol ? vol : "");
		else if (src)
			SET(v->source, name);
		xmlFree(proto), xmlFree(name), xmlFree(pool), xmlFree(vol);
	}
	xmlFree(f);

	const char *b = v->model;
	bool is_disk = strcmp(v->device, "cdrom") && strcmp(v->device, "floppy");
	char why[96];
	v->drivable = true;
	switch (d->hv) {
	case VIRT_HV_KVM:
		if (streq(b, "virtio")) {
			v->paravirt = true;
			SET(v->kind, "virtio-blk");
			virtio_address(d, n, v);
			if (!is_disk)
				not_drivable(v, "a CD-ROM/floppy, not a disk");
		} else if (streq(b, "scsi")) {
			char m[32];
			scsi_controller_model(devices, n, m, sizeof(m));
			if (!strncmp(m, "virtio", 6)) {
				SET(v->kind, "virtio-scsi");
				not_drivable(v, "virtio-scsi (pvio drives "
					     "virtio-blk)");
			} else {
				SETF(v->kind, "scsi%s%s (emulated)", *m ? " " : "", m);
				not_drivable(v, "an emulated SCSI controller");
			}
		} else {
			SETF(v->kind, "%.24s%s%.16s (emulated)", b,
			     is_disk ? "" : " ", is_disk ? "" : v->device);
			SETF(why, "an emulated %.24s %.16s", b, v->device);
			not_drivable(v, why);
		}
		break;
	case VIRT_HV_XEN: {
		uint32_t num;
		int r = virt_vbd_number(v->target, &num);
		if (streq(b, "xen")) {
			v->paravirt = true;
			SET(v->kind, "Xen vbd");
		} else if (d->xen_pv) {
			SETF(v->kind, "Xen vbd (bus %.16s)", b);
		} else if (streq(b, "ide") || streq(b, "scsi") || streq(b, "sata")) {
			SETF(v->kind, "%.16s (emulated) + Xen vbd", b);
		} else {
			SETF(v->kind, "%.24s", b);
			SETF(why, "bus %.24s has no Xen VBD", b);
			not_drivable(v, why);
			break;
		}
		if (!is_disk)
			not_drivable(v, "a CD-ROM/floppy, not a disk");
		else if (r == -ERANGE)
			not_drivable(v, "the target name is beyond what Xen's "
				     "VBD numbers encode");
		else if (r)
			not_drivable(v, "the target name is not a Xen disk "
				     "name (xvdX, sdX, hdX, dN)");
		else
			SETF(v->address, "xen:vbd/%u", num);
		break;
	}
	case VIRT_HV_HYPERV:
		if (streq(b, "scsi")) {
			v->paravirt = true;
			SET(v->kind, "StorVSC (synthetic SCSI)");
			SET(v->address, "vmbus (instance assigned by Hyper-V)");
			if (!is_disk)
				not_drivable(v, "a CD-ROM, not a disk");
		} else {
			SETF(v->kind, "%.24s%s%.16s (emulated)", b,
			     is_disk ? "" : " ", is_disk ? "" : v->device);
			SETF(why, "an emulated %.24s %.16s (pvio drives "
			     "synthetic SCSI)", b, v->device);
			not_drivable(v, why);
		}
		break;
	default:
		if (streq(b, "virtio")) {
			v->paravirt = true;
			SET(v->kind, "virtio-blk");
			virtio_address(d, n, v);
		} else if (streq(b, "xen")) {
			uint32_t num;
			v->paravirt = true;
			SET(v->kind, "Xen vbd");
			if (virt_vbd_number(v->target, &num))
				not_drivable(v, "the target name has no Xen VBD "
					     "number");
			else
				SETF(v->address, "xen:vbd/%u", num);
		} else {
			SETF(v->kind, "%.24s", b);
			not_drivable(v, "the hypervisor family is unknown and "
				     "the bus is not paravirtual");
		}
		if (!is_disk && v->drivable)
			not_drivable(v, "a CD-ROM/floppy, not a disk");
	}
}

static void read_interface(const struct virt_domain *d, xmlNodePtr n,
			   unsigned vif_index, struct virt_dev *v)
{
	v->cls = PVIO_CLASS_NET;
	char *type = virt_xml_attr(n, "type");
	char *mac = virt_xml_child_attr(n, "mac", "address");
	char *model = virt_xml_child_attr(n, "model", "type");
	SET(v->mac, mac);
	SET(v->model, model);
	SET(v->device, type ? type : "");
	xmlNodePtr src = virt_xml_child(n, "source");
	const char *attr = streq(type, "network") ? "network"
			 : streq(type, "bridge") ? "bridge"
			 : streq(type, "direct") ? "dev"
			 : streq(type, "vhostuser") ? "path"
			 : streq(type, "udp") || streq(type, "mcast") ||
			   streq(type, "server") || streq(type, "client") ? "address"
			 : NULL;
	char *s = attr ? virt_xml_attr(src, attr) : NULL;
	if (s)
		SETF(v->source, "%s %s", type, s);
	else
		SET(v->source, type ? type : "?");
	xmlFree(s), xmlFree(mac);

	char why[96];
	v->drivable = true;
	if (streq(type, "hostdev")) {
		SET(v->kind, "PCI passthrough");
		not_drivable(v, "a passed-through host NIC (SR-IOV VF)");
		goto out;
	}
	const char *m = v->model;
	switch (d->hv) {
	case VIRT_HV_KVM:
		if (is_virtio_model(m)) {
			v->paravirt = true;
			SET(v->kind, "virtio-net");
			virtio_address(d, n, v);
		} else if (!*m) {
			SET(v->kind, "rtl8139 (emulated: QEMU's default model)");
			not_drivable(v, "an emulated NIC (no model: QEMU's "
				     "rtl8139)");
		} else {
			SETF(v->kind, "%.24s (emulated)", m);
			SETF(why, "an emulated %.24s NIC", m);
			not_drivable(v, why);
		}
		break;
	case VIRT_HV_XEN:
		if (streq(m, "netfront") || (!*m && d->xen_pv)) {
			v->paravirt = true;
			SET(v->kind, "Xen vif (netfront)");
		} else if (!*m) {
			v->paravirt = true;
			SET(v->kind, "Xen vif + emulated NIC (ioemu)");
		} else if (d->xen_pv) {
			SETF(v->kind, "Xen vif (model %.16s)", m);
			SET(v->note, "libvirt's Xen driver allows only model "
				"'netfront' on PV guests");
		} else {
			SETF(v->kind, "%.24s (emulated) + Xen vif", m);
		}
		SETF(v->address, "xen:vif/%u", vif_index);
		break;
	case VIRT_HV_HYPERV:
		if (*m && !is_virtio_model(m) && !streq(m, "netfront")) {
			/* an emulated model: Hyper-V's legacy adapter at best;
			 * libvirt's driver attaches synthetic NICs only */
			SETF(v->kind, "%.24s (emulated)", m);
			SETF(why, "an emulated %.24s NIC (pvio drives Hyper-V's "
			     "synthetic NIC)", m);
			not_drivable(v, why);
			break;
		}
		v->paravirt = true;
		SET(v->kind, "NetVSC (synthetic NIC)");
		SET(v->address, "vmbus (instance assigned by Hyper-V)");
		if (*m)
			SETF(v->note, "model '%.24s' means nothing on Hyper-V: "
			     "libvirt attaches synthetic NICs only", m);
		else if (!streq(type, "bridge"))
			SET(v->note, "Hyper-V connects NICs to a virtual switch "
				"(type='bridge')");
		break;
	default:
		if (is_virtio_model(m)) {
			v->paravirt = true;
			SET(v->kind, "virtio-net");
			virtio_address(d, n, v);
		} else if (streq(m, "netfront")) {
			v->paravirt = true;
			SET(v->kind, "Xen vif (netfront)");
			SETF(v->address, "xen:vif/%u", vif_index);
		} else {
			SETF(v->kind, "%.24s", *m ? m : "no model");
			not_drivable(v, "the hypervisor family is unknown and "
				     "the model is not paravirtual");
		}
	}
out:
	xmlFree(type), xmlFree(model);
}

/* Family from the devices: virtio says KVM, a xen bus or netfront Xen. */
static enum virt_hv infer(xmlNodePtr devices)
{
	int kvm = 0, xen = 0;
	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || c->ns)
			continue;
		char *v = NULL;
		if (!strcmp((const char *)c->name, "disk"))
			v = virt_xml_child_attr(c, "target", "bus");
		else if (!strcmp((const char *)c->name, "interface"))
			v = virt_xml_child_attr(c, "model", "type");
		if (is_virtio_model(v))
			kvm++;
		if (streq(v, "xen") || streq(v, "netfront"))
			xen++;
		xmlFree(v);
	}
	if (kvm && !xen)
		return VIRT_HV_KVM;
	if (xen && !kvm)
		return VIRT_HV_XEN;
	return VIRT_HV_UNKNOWN;
}

int virt_domain_read(xmlDocPtr doc, enum virt_hv hint, struct virt_domain *d,
		     char *err, size_t errsize)
{
	memset(d, 0, sizeof(*d));
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || root->ns || strcmp((const char *)root->name, "domain")) {
		char tmp[64];
		snprintf(err, errsize, "not a libvirt domain: the root element "
			 "is <%s>, not <domain>",
			 root ? virt_printable((const char *)root->name, tmp,
					       sizeof(tmp)) : "");
		return -EINVAL;
	}
	char *type = virt_xml_attr(root, "type");
	SET(d->type, type);
	xmlFree(type);
	text_of(virt_xml_child(root, "name"), d->name, sizeof(d->name));
	xmlNodePtr os = virt_xml_child(root, "os");
	xmlNodePtr ostype = virt_xml_child(os, "type");
	char *machine = virt_xml_attr(ostype, "machine");
	SET(d->machine, machine);
	xmlFree(machine);
	char ost[32];
	text_of(ostype, ost, sizeof(ost));
	xmlNodePtr devices = virt_xml_child(root, "devices");

	enum virt_hv hv = VIRT_HV_UNKNOWN;
	if (hint != VIRT_HV_UNKNOWN)
		hv = hint;
	else if (virt_hv_parse(d->type, &hv)) {
		hv = infer(devices);
		d->inferred = true;
	}
	d->hv = hv;
	d->xen_pv = hv == VIRT_HV_XEN && (!strcmp(ost, "xen") ||
					  !strcmp(ost, "linux") ||
					  !strcmp(ost, "xenpvh"));

	size_t cap = 0;
	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			cap++;
	d->dev = virt_calloc(cap ? cap : 1, sizeof(*d->dev));
	unsigned vif = 0;
	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || c->ns)
			continue;
		struct virt_dev *v = &d->dev[d->ndev];
		if (!strcmp((const char *)c->name, "disk")) {
			v->node = c;
			read_disk(d, devices, c, v);
			d->ndev++;
		} else if (!strcmp((const char *)c->name, "interface")) {
			v->node = c;
			char *t = virt_xml_attr(c, "type");
			read_interface(d, c, vif, v);
			if (!streq(t, "hostdev"))
				vif++;
			xmlFree(t);
			d->ndev++;
		}
	}
	return 0;
}

void virt_domain_free(struct virt_domain *d)
{
	free(d->dev);
	memset(d, 0, sizeof(*d));
}

static const char *hv_title(enum virt_hv h)
{
	return h == VIRT_HV_UNKNOWN ? "unknown"
				    : pvio_family_hypervisor(virt_hv_family(h));
}

void virt_domain_print(const struct virt_domain *d, FILE *f)
{
	char n[160], t[48];
	fprintf(f, "domain %s: type %s, %s (%s)%s\n",
		virt_printable(d->name, n, sizeof(n)),
		virt_printable(*d->type ? d->type : "?", t, sizeof(t)),
		hv_title(d->hv),
		d->hv == VIRT_HV_UNKNOWN ? "no paravirtual devices to tell by"
					 : pvio_family_name(virt_hv_family(d->hv)),
		d->inferred && d->hv != VIRT_HV_UNKNOWN
			? ", inferred from its devices" : "");
	if (!d->ndev) {
		fprintf(f, "  no disks or interfaces\n");
		return;
	}
	struct virt_table tab;
	virt_table_init(&tab, 6);
	const char *hdr[] = { "CLASS", "DEVICE", "TARGET", "MAC", "SOURCE",
			      "PVIO ADDRESS" };
	virt_table_row(&tab, hdr);
	for (size_t i = 0; i < d->ndev; i++) {
		const struct virt_dev *v = &d->dev[i];
		const char *row[] = {
			pvio_class_name(v->cls), v->kind,
			*v->target ? v->target : "-", *v->mac ? v->mac : "-",
			*v->source ? v->source : "-", v->address,
		};
		virt_table_row(&tab, row);
	}
	virt_table_print(&tab, f, "  ");
	virt_table_free(&tab);
	for (size_t i = 0; i < d->ndev; i++) {
		const struct virt_dev *v = &d->dev[i];
		char a[64], b[200];
		if (*v->note)
			fprintf(f, "  note: %s: %s\n",
				virt_printable(*v->target ? v->target : v->mac, a,
					       sizeof(a)),
				virt_printable(v->note, b, sizeof(b)));
	}
}

static void jfield(FILE *f, const char *k, const char *v, bool comma)
{
	fprintf(f, "\"%s\":", k);
	virt_json_str(f, v);
	if (comma)
		fputc(',', f);
}

void virt_domain_json(const struct virt_domain *d, FILE *f)
{
	fputc('{', f);
	jfield(f, "name", d->name, true);
	jfield(f, "type", d->type, true);
	jfield(f, "hypervisor", virt_hv_name(d->hv), true);
	jfield(f, "family", d->hv == VIRT_HV_UNKNOWN ? NULL
			    : pvio_family_name(virt_hv_family(d->hv)), true);
	fprintf(f, "\"inferred\":%s,\"devices\":[", d->inferred ? "true" : "false");
	for (size_t i = 0; i < d->ndev; i++) {
		const struct virt_dev *v = &d->dev[i];
		fputs(i ? ",{" : "{", f);
		jfield(f, "class", pvio_class_name(v->cls), true);
		jfield(f, "kind", v->kind, true);
		jfield(f, "model", *v->model ? v->model : NULL, true);
		jfield(f, "device", *v->device ? v->device : NULL, true);
		jfield(f, "mac", *v->mac ? v->mac : NULL, true);
		jfield(f, "source", *v->source ? v->source : NULL, true);
		jfield(f, "target", *v->target ? v->target : NULL, true);
		fprintf(f, "\"paravirtual\":%s,\"drivable\":%s,",
			v->paravirt ? "true" : "false",
			v->drivable ? "true" : "false");
		jfield(f, "address", v->drivable ? v->address : NULL, true);
		jfield(f, "reason", v->drivable ? NULL : v->address, true);
		jfield(f, "note", *v->note ? v->note : NULL, false);
		fputc('}', f);
	}
	fputs("]}", f);
}
