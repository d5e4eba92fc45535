/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/probe.c - `pvio virt probe`: boot pvio's probe guest through
 * libvirt on each connection given, collect its "PVIO-GUEST " result lines
 * and print them side by side, one column per host.
 *
 * The domain (built as a libxml2 tree) is a TCG QEMU guest (type='qemu':
 * KVM cannot run guests on every machine this runs on) with direct kernel
 * boot of the probe ELF (PVH entry), a paravirtual disk (a small raw image
 * made here, virtio-blk on KVM) and a user-mode virtio-net interface
 * (dropped, and said so, when the connection cannot provide one), both at
 * fixed PCI slots that the kernel command line names (pvio.blk=...,
 * pvio.net=...), the serial port and QEMU's debugcon in files, and
 * isa-debug-exit through <qemu:commandline> so the guest ends itself.
 *
 * Lifecycle, and why: define; start with VIR_DOMAIN_START_AUTODESTROY
 * (libvirt destroys the domain when this connection closes, so even a
 * killed pvio leaves nothing running); undefine at once (the running domain
 * turns transient and vanishes when it stops); wait for the guest to stop,
 * a deadline or a signal; then destroy it if it still runs and undefine it
 * if it is somehow still defined, and check it is gone - on every path,
 * with SIGINT/SIGTERM/SIGHUP held off during the clean-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libxml/uri.h>

#include "tools/virt/virt.h"

#define SUB "probe"
#define DISK_SECTORS 8192 /* 4 MiB */
#define BLK_SLOT 5
#define NET_SLOT 6
#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

#ifndef PVIO_PKGLIBEXECDIR
#define PVIO_PKGLIBEXECDIR "/usr/local/libexec/pvio"
#endif
#ifndef PVIO_ABS_BUILDDIR
#define PVIO_ABS_BUILDDIR "."
#endif

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct probe_opts {
	const char *kernel;
	double timeout;
	double connect_timeout;
	bool json;
	bool keep;
	bool no_net;
};

struct host {
	const char *uri;
	char result[32];     /* ok, failed, timeout, interrupted, no-results */
	char detail[512];
	char network[160];
	char disk[96];
	char dir[PATH_MAX];
	char name[64];
	double t_started, t_first, t_stopped; /* seconds after define */
	bool guest_failed;
	struct virt_collect col;
};

/* ---------------------------------------------------------------- files */

static int find_kernel(const char *opt, char *out, size_t size, char *err,
		       size_t errsize)
{
	const char *cand[4];
	size_t n = 0;
	const char *env = getenv("PVIO_PROBE_KERNEL");
	static const char built[] = PVIO_ABS_BUILDDIR "/tests/guest/pvio-probe.elf";
	static const char installed[] = PVIO_PKGLIBEXECDIR "/pvio-probe.elf";
	if (opt) {
		cand[n++] = opt;
	} else if (env && *env) {
		cand[n++] = env;
	} else {
		/* running from the build tree: prefer its guest */
		char self[PATH_MAX];
		ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
		bool in_tree = false;
		if (l > 0) {
			self[l] = 0;
			in_tree = !strncmp(self, PVIO_ABS_BUILDDIR "/",
					   strlen(PVIO_ABS_BUILDDIR "/"));
		}
		if (in_tree)
			cand[n++] = built;
		cand[n++] = installed;
		if (!in_tree)
			cand[n++] = built;
	}
	for (size_t i = 0; i < n; i++) {
		int fd = open(cand[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (opt || (env && *env)) {
				snprintf(err, errsize, "cannot open the probe "
					 "kernel %s: %s", cand[i], strerror(errno));
				return -1;
			}
			continue;
		}
		unsigned char magic[4] = { 0 };
		ssize_t r = read(fd, magic, 4);
		close(fd);
		if (r != 4 || memcmp(magic, "\177ELF", 4)) {
			snprintf(err, errsize, "%s is not an ELF file; give the "
				 "probe guest (tests/guest/pvio-probe.elf)",
				 cand[i]);
			return -1;
		}
		if (!realpath(cand[i], out)) {
			snprintf(err, errsize, "%s: %s", cand[i], strerror(errno));
			return -1;
		}
		(void)size;
		return 0;
	}
	snprintf(err, errsize, "no probe guest at %s or %s; build pvio with the "
		 "freestanding library, or give --kernel PATH or "
		 "PVIO_PROBE_KERNEL", installed, built);
	return -1;
}

/* Files QEMU writes are created here, world-writable, in a directory others
 * may pass through but not list: QEMU may run as another user. */
static int make_file(const char *dir, const char *name, char *path,
		     size_t size, const void *data, size_t len)
{
	snprintf(path, size, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = 0;
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!r && fchmod(fd, 0666))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	return r;
}

/* The disk: every 512-byte sector n starts with "PVIOSECT" and n as a
 * 64-bit little-endian number, the rest zero, so a guest can check it
 * reads what it should. */
static int make_disk(const char *dir, char *path, size_t size)
{
	unsigned char *img = virt_calloc(DISK_SECTORS, 512);
	for (uint64_t s = 0; s < DISK_SECTORS; s++) {
		unsigned char *p = img + s * 512;
		memcpy(p, "PVIOSECT", 8);
		for (int i = 0; i < 8; i++)
			p[8 + i] = (unsigned char)(s >> (8 * i));
	}
	int r = make_file(dir, "disk.img", path, size, img,
			  (size_t)DISK_SECTORS * 512);
	free(img);
	return r;
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "disk.img", "debugcon.log",
					     "serial.log", "domain.xml" };
	char p[PATH_MAX + 32];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* ---------------------------------------------------------------- XML */

static xmlNodePtr el(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name,
			       (const xmlChar *)text);
}

static void at(xmlNodePtr n, const char *k, const char *v)
{
	xmlNewProp(n, (const xmlChar *)k, (const xmlChar *)v);
}

static void pci(xmlNodePtr dev, int slot)
{
	char s[8];
	snprintf(s, sizeof(s), "0x%02x", slot);
	xmlNodePtr a = el(dev, "address", NULL);
	at(a, "type", "pci");
	at(a, "domain", "0x0000");
	at(a, "bus", "0x00");
	at(a, "slot", s);
	at(a, "function", "0x0");
}

struct dom_spec {
	const char *name;
	const char *kernel;
	const char *dir;
	const char *machine;
	const char *emulator; /* may be NULL */
	const char *mac;      /* NULL: no network */
};

static char *domain_xml(const struct dom_spec *s)
{
	char path[PATH_MAX + 32], cmdline[256];
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr d = xmlNewNode(NULL, (const xmlChar *)"domain");
	xmlDocSetRootElement(doc, d);
	xmlNsPtr qns = xmlNewNs(d, (const xmlChar *)QEMU_NS, (const xmlChar *)"qemu");
	at(d, "type", "qemu");
	el(d, "name", s->name);
	el(d, "description", "pvio probe guest (pvio virt probe); destroyed "
			     "and undefined when the probe ends");
	at(el(d, "memory", "128"), "unit", "MiB");
	el(d, "vcpu", "1");
	xmlNodePtr os = el(d, "os", NULL);
	xmlNodePtr type = el(os, "type", "hvm");
	at(type, "arch", "x86_64");
	at(type, "machine", s->machine);
	el(os, "kernel", s->kernel);
	if (s->mac)
		snprintf(cmdline, sizeof(cmdline),
			 "pvio.blk=virtio-pci:00:%02x.0 pvio.blk.sectors=%u "
			 "pvio.net=virtio-pci:00:%02x.0 pvio.mac=%s",
			 BLK_SLOT, DISK_SECTORS, NET_SLOT, s->mac);
	else
		snprintf(cmdline, sizeof(cmdline),
			 "pvio.blk=virtio-pci:00:%02x.0 pvio.blk.sectors=%u",
			 BLK_SLOT, DISK_SECTORS);
	el(os, "cmdline", cmdline);
	/* the guest maps memory with 1 GiB pages: a CPU with pdpe1gb */
	xmlNodePtr cpu = el(d, "cpu", NULL);
	at(cpu, "mode", "maximum");
	at(cpu, "migratable", "off");
	el(d, "on_poweroff", "destroy");
	el(d, "on_reboot", "destroy");
	el(d, "on_crash", "destroy");
	xmlNodePtr dev = el(d, "devices", NULL);
	if (s->emulator)
		el(dev, "emulator", s->emulator);

	xmlNodePtr disk = el(dev, "disk", NULL);
	at(disk, "type", "file");
	at(disk, "device", "disk");
	xmlNodePtr drv = el(disk, "driver", NULL);
	at(drv, "name", "qemu");
	at(drv, "type", "raw");
	snprintf(path, sizeof(path), "%s/disk.img", s->dir);
	at(el(disk, "source", NULL), "file", path);
	xmlNodePtr tgt = el(disk, "target", NULL);
	at(tgt, "dev", "vda");
	at(tgt, "bus", "virtio");
	pci(disk, BLK_SLOT);

	if (s->mac) {
		xmlNodePtr ifc = el(dev, "interface", NULL);
		at(ifc, "type", "user");
		at(el(ifc, "mac", NULL), "address", s->mac);
		at(el(ifc, "model", NULL), "type", "virtio");
		pci(ifc, NET_SLOT);
	}
	xmlNodePtr ser = el(dev, "serial", NULL);
	at(ser, "type", "file");
	snprintf(path, sizeof(path), "%s/serial.log", s->dir);
	at(el(ser, "source", NULL), "path", path);
	at(el(ser, "target", NULL), "port", "0");
	/* nothing else: no USB tablet, no graphics, no balloon */
	xmlNodePtr usb = el(dev, "controller", NULL);
	at(usb, "type", "usb");
	at(usb, "model", "none");
	at(el(dev, "memballoon", NULL), "model", "none");

	xmlNodePtr cl = xmlNewChild(d, qns, (const xmlChar *)"commandline", NULL);
	snprintf(path, sizeof(path), "file:%s/debugcon.log", s->dir);
	const char *args[] = { "-debugcon", path, "-device",
			       "isa-debug-exit,iobase=0xf4,iosize=0x04" };
	for (size_t i = 0; i < 4; i++) {
		xmlNodePtr a = xmlNewChild(cl, qns, (const xmlChar *)"arg", NULL);
		at(a, "value", args[i]);
	}
	xmlChar *out = NULL;
	int len = 0;
	xmlDocDumpFormatMemory(doc, &out, &len, 1);
	xmlFreeDoc(doc);
	char *s2 = virt_strdup(out ? (const char *)out : "");
	xmlFree(out);
	return s2;
}

/* ---------------------------------------------------------------- libvirt */

/* What the connection can run: an x86_64 guest with domain type 'qemu'
 * (TCG).  Fills emulator and machine (q35 if offered, else pc). */
static int check_caps(virConnectPtr conn, const char *uri, char *emulator,
		      size_t esize, char *machine, size_t msize, char *err,
		      size_t errsize)
{
	const char *drv = virConnectGetType(conn);
	char *caps = virConnectGetCapabilities(conn);
	if (!caps) {
		snprintf(err, errsize, "cannot read the capabilities of %s: %s",
			 uri, virt_lverr());
		return -1;
	}
	char perr[256];
	xmlDocPtr doc = virt_xml_parse(caps, strlen(caps), "capabilities",
				       perr, sizeof(perr));
	free(caps);
	if (!doc) {
		snprintf(err, errsize, "%s", perr);
		return -1;
	}
	bool found = false, q35 = false;
	emulator[0] = 0;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr g = virt_xml_child(root, "guest"); g && !found;
	     g = virt_xml_next(g, "guest")) {
		xmlNodePtr arch = virt_xml_child(g, "arch");
		char *name = virt_xml_attr(arch, "name");
		bool x86 = name && !strcmp(name, "x86_64");
		xmlFree(name);
		if (!x86)
			continue;
		for (xmlNodePtr dt = virt_xml_child(arch, "domain"); dt;
		     dt = virt_xml_next(dt, "domain")) {
			char *t = virt_xml_attr(dt, "type");
			if (t && !strcmp(t, "qemu"))
				found = true;
			xmlFree(t);
		}
		if (!found)
			continue;
		xmlNodePtr em = virt_xml_child(arch, "emulator");
		xmlChar *e = em ? xmlNodeGetContent(em) : NULL;
		if (e)
			snprintf(emulator, esize, "%s", (const char *)e);
		xmlFree(e);
		for (xmlNodePtr m = virt_xml_child(arch, "machine"); m;
		     m = virt_xml_next(m, "machine")) {
			xmlChar *mn = xmlNodeGetContent(m);
			if (mn && !strcmp((const char *)mn, "q35"))
				q35 = true;
			xmlFree(mn);
		}
	}
	xmlFreeDoc(doc);
	if (!found) {
		if (drv && !strcmp(drv, "TEST"))
			snprintf(err, errsize, "%s is libvirt's test driver: it "
				 "simulates domains and runs no guest code; "
				 "probe needs a QEMU connection such as "
				 "qemu:///system", uri);
		else
			snprintf(err, errsize, "%s offers no x86_64 QEMU (TCG) "
				 "guests (driver %s); install qemu-system-x86 on "
				 "its host", uri, drv ? drv : "?");
		return -1;
	}
	snprintf(machine, msize, "%s", q35 ? "q35" : "pc");
	return 0;
}

static bool uri_is_local(const char *uri)
{
	xmlURIPtr u = xmlParseURI(uri);
	if (!u)
		return true; /* libvirt will say what is wrong with it */
	bool local = !u->server || !*u->server || !strcmp(u->server, "localhost");
	xmlFreeURI(u);
	return local;
}

struct run {
	bool stopped;
};

static int on_lifecycle(virConnectPtr c, virDomainPtr dom, int event,
			int detail, void *opaque)
{
	(void)c, (void)dom, (void)detail;
	struct run *r = opaque;
	/* not UNDEFINED: the probe undefines its domain while it runs */
	if (event == VIR_DOMAIN_EVENT_STOPPED || event == VIR_DOMAIN_EVENT_CRASHED)
		r->stopped = true;
	return 0;
}

static void on_tick(int timer, void *opaque)
{
	(void)timer, (void)opaque;
}

static double since(uint64_t t0)
{
	return (double)(virt_now_ns() - t0) / 1e9;
}

/* Destroy the domain if it runs, undefine it if defined, and check that
 * nothing of it is left.  Returns 0 when it is gone. */
static int tear_down(virConnectPtr conn, const unsigned char *uuid,
		     char *err, size_t errsize)
{
	virDomainPtr dom = virDomainLookupByUUID(conn, uuid);
	if (!dom)
		return 0; /* transient and stopped: gone */
	int r = 0;
	if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0 &&
	    virDomainIsActive(dom) == 1) {
		snprintf(err, errsize, "cannot destroy the probe domain: %s",
			 virt_lverr());
		r = -1;
	}
	if (virDomainIsPersistent(dom) == 1 && virDomainUndefine(dom) < 0) {
		snprintf(err, errsize, "cannot undefine the probe domain: %s",
			 virt_lverr());
		r = -1;
	}
	virDomainFree(dom);
	dom = virDomainLookupByUUID(conn, uuid);
	if (dom) {
		if (!r)
			snprintf(err, errsize, "the probe domain is still there "
				 "after destroy and undefine");
		virDomainFree(dom);
		r = -1;
	}
	return r;
}

static void set_result(struct host *h, const char *res, const char *fmt, ...)
	VIRT_PRINTF(3, 4);
static void set_result(struct host *h, const char *res, const char *fmt, ...)
{
	snprintf(h->result, sizeof(h->result), "%s", res);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->detail, sizeof(h->detail), fmt, ap);
	va_end(ap);
}

static void random_hex(char *buf, size_t bytes)
{
	unsigned char r[8] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, r, bytes > 8 ? 8 : bytes) < 0)
			memset(r, 0, sizeof(r));
		close(fd);
	}
	uint64_t t = virt_now_ns() ^ (uint64_t)getpid() << 20;
	for (size_t i = 0; i < bytes && i < 8; i++)
		sprintf(buf + 2 * i, "%02x", (unsigned)(r[i] ^ (t >> (8 * i))) & 0xff);
}

static void probe_host(struct host *h, const struct probe_opts *o,
		       const char *kernel)
{
	char err[512], pu[256];
	virt_printable(h->uri, pu, sizeof(pu));
	if (!uri_is_local(h->uri)) {
		set_result(h, "failed", "%s is a remote connection; probe needs "
			   "the host's QEMU to read files made here (run it on "
			   "that host)", pu);
		return;
	}
	virConnectPtr conn = virt_connect(NULL, h->uri, false, o->connect_timeout);
	if (!conn) {
		set_result(h, "failed", "cannot connect to %s (above)", pu);
		return;
	}
	virConnectSetKeepAlive(conn, 5, 3); /* remote: notice a dead daemon */
	char emulator[PATH_MAX], machine[32];
	if (check_caps(conn, pu, emulator, sizeof(emulator), machine,
		       sizeof(machine), err, sizeof(err))) {
		set_result(h, "failed", "%s", err);
		virConnectClose(conn);
		return;
	}

	const char *tmp = getenv("TMPDIR");
	snprintf(h->dir, sizeof(h->dir), "%s/pvio-probe.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(h->dir)) {
		set_result(h, "failed", "cannot make a directory in %s: %s",
			   tmp && *tmp ? tmp : "/tmp", strerror(errno));
		h->dir[0] = 0;
		virConnectClose(conn);
		return;
	}
	chmod(h->dir, 0711);
	char disk[PATH_MAX + 32], dcon[PATH_MAX + 32], ser[PATH_MAX + 32];
	int r = make_disk(h->dir, disk, sizeof(disk));
	if (!r)
		r = make_file(h->dir, "debugcon.log", dcon, sizeof(dcon), "", 0);
	if (!r)
		r = make_file(h->dir, "serial.log", ser, sizeof(ser), "", 0);
	if (r) {
		set_result(h, "failed", "cannot create the probe's files in %s: "
			   "%s", h->dir, strerror(-r));
		virConnectClose(conn);
		return;
	}
	char hex[17] = "", mac[24];
	random_hex(hex, 4);
	snprintf(h->name, sizeof(h->name), "pvio-probe-%ld-%s", (long)getpid(), hex);
	random_hex(hex, 3);
	snprintf(mac, sizeof(mac), "52:54:00:%c%c:%c%c:%c%c", hex[0], hex[1],
		 hex[2], hex[3], hex[4], hex[5]);
	snprintf(h->disk, sizeof(h->disk), "virtio-blk virtio-pci:00:%02x.0, "
		 "%u KiB raw", BLK_SLOT, DISK_SECTORS / 2);

	struct dom_spec spec = { h->name, kernel, h->dir, machine,
				 *emulator ? emulator : NULL,
				 o->no_net ? NULL : mac };
	if (o->no_net)
		snprintf(h->network, sizeof(h->network), "none (--no-net)");
	else
		snprintf(h->network, sizeof(h->network), "virtio-net "
			 "virtio-pci:00:%02x.0, user-mode, %s", NET_SLOT, mac);

	uint64_t t0 = virt_now_ns();
	virDomainPtr dom = NULL;
	unsigned char uuid[VIR_UUID_BUFLEN];
	bool have_uuid = false;
	struct run run = { false };
	int cb = -1, timer = -1;
	for (int attempt = 0; attempt < 2 && !dom; attempt++) {
		char *xml = domain_xml(&spec);
		if (o->keep) {
			char p[PATH_MAX + 32];
			make_file(h->dir, "domain.xml", p, sizeof(p), xml, strlen(xml));
		}
		dom = virDomainDefineXML(conn, xml);
		free(xml);
		if (!dom) {
			snprintf(err, sizeof(err), "libvirt refused the probe "
				 "domain: %s", virt_lverr());
		} else {
			have_uuid = virDomainGetUUID(dom, uuid) == 0;
			cb = virConnectDomainEventRegisterAny(
				conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
				VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &run, NULL);
			if (virDomainCreateWithFlags(dom, VIR_DOMAIN_START_AUTODESTROY) < 0) {
				snprintf(err, sizeof(err), "the probe domain did "
					 "not start: %s", virt_lverr());
				if (cb >= 0)
					virConnectDomainEventDeregisterAny(conn, cb);
				cb = -1;
				virDomainUndefine(dom);
				virDomainFree(dom);
				dom = NULL;
				have_uuid = false;
			}
		}
		if (!dom && spec.mac && attempt == 0 &&
		    (strcasestr(err, "net") || strcasestr(err, "interface") ||
		     strcasestr(err, "slirp"))) {
			/* the connection cannot do user-mode networking, it
			 * seems: once more without a network, and say so */
			snprintf(h->network, sizeof(h->network), "none: %.140s", err);
			spec.mac = NULL;
			continue;
		}
		break;
	}
	if (!dom) {
		set_result(h, "failed", "%s", err);
		goto out;
	}
	h->t_started = since(t0);
	/* running and autodestroyed with this connection; undefined now so it
	 * vanishes when it stops, whatever happens to this process */
	virDomainUndefine(dom);

	virt_collect_init(&h->col, dcon, o->json ? NULL : stdout, NULL);
	if (!o->json)
		printf("%s: %s started (%.2f s); waiting up to %g s for the "
		       "guest\n", pu, h->name, h->t_started, o->timeout);
	fflush(stdout);
	timer = virEventAddTimeout(100, on_tick, NULL, NULL);
	uint64_t deadline = t0 + (uint64_t)(o->timeout * 1e9);
	unsigned ticks = 0;
	while (!run.stopped && !got_signal && virt_now_ns() < deadline) {
		if (virEventRunDefaultImpl() < 0)
			break;
		if (virt_collect_poll(&h->col, false) && h->t_first == 0)
			h->t_first = since(t0);
		/* events are the fast path; ask now and then as well */
		if (++ticks % 5 == 0) {
			int a = virDomainIsActive(dom);
			if (a != 1)
				run.stopped = true;
		}
	}
	h->t_stopped = since(t0);

	/* clean up with the signals held off */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	bool stopped = run.stopped;
	if (timer >= 0)
		virEventRemoveTimeout(timer);
	if (cb >= 0)
		virConnectDomainEventDeregisterAny(conn, cb);
	virDomainFree(dom);
	char terr[256] = "";
	int gone = have_uuid ? tear_down(conn, uuid, terr, sizeof(terr)) : 0;

	virt_collect_poll(&h->col, true);
	if (h->col.nres == 0) {
		/* debugcon empty (an older QEMU, a guest that only has COM1)?
		 * the serial port carries the same lines */
		struct virt_collect sc;
		virt_collect_init(&sc, ser, o->json ? NULL : stdout, NULL);
		virt_collect_poll(&sc, true);
		if (sc.nres) {
			virt_collect_free(&h->col);
			h->col = sc;
			h->col.path = dcon;
		} else {
			virt_collect_free(&sc);
		}
	}
	for (size_t i = 0; i < h->col.nres; i++) {
		const char *v = h->col.res[i].value;
		if (!strcmp(h->col.res[i].key, "fail") || !strncmp(v, "FAIL", 4))
			h->guest_failed = true;
	}
	const char *keep = o->keep ? "; its files are kept in " : "";
	if (got_signal)
		set_result(h, "interrupted", "interrupted by signal %d; the "
			   "domain was destroyed%s%s", (int)got_signal, keep,
			   o->keep ? h->dir : "");
	else if (!stopped)
		set_result(h, "timeout", "the guest did not stop within %g s "
			   "(%zu result line%s); it was destroyed%s%s",
			   o->timeout, h->col.nres, h->col.nres == 1 ? "" : "s",
			   keep, o->keep ? h->dir : "");
	else if (!h->col.nres)
		set_result(h, "no-results", "the guest stopped without a "
			   "PVIO-GUEST line; QEMU's log is "
			   "/var/log/libvirt/qemu/%s.log on the host%s%s",
			   h->name, keep, o->keep ? h->dir : "");
	else if (h->guest_failed)
		set_result(h, "guest-failed", "the guest reported a failure");
	else
		set_result(h, "ok", "the guest stopped itself after %.2f s",
			   h->t_stopped);
	if (gone) {
		snprintf(h->result, sizeof(h->result), "failed");
		size_t l = strlen(h->detail);
		snprintf(h->detail + l, sizeof(h->detail) - l, "; %s", terr);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	virConnectClose(conn);
	if (!o->keep && *h->dir)
		remove_dir(h->dir);
}

/* ---------------------------------------------------------------- report */

static void summary_table(struct host *hosts, size_t n)
{
	struct virt_table t;
	virt_table_init(&t, n + 1);
	const char **row = virt_calloc(n + 1, sizeof(*row));
	char (*cell)[64] = virt_calloc(n, sizeof(*cell));
	row[0] = "";
	for (size_t i = 0; i < n; i++)
		row[i + 1] = hosts[i].uri;
	virt_table_row(&t, row);
	row[0] = "result";
	for (size_t i = 0; i < n; i++)
		row[i + 1] = hosts[i].result;
	virt_table_row(&t, row);
	row[0] = "boot";
	for (size_t i = 0; i < n; i++) {
		const struct host *h = &hosts[i];
		if (h->t_started > 0)
			snprintf(cell[i], sizeof(cell[i]), "start %.2f s, first "
				 "result %.2f s, end %.2f s", h->t_started,
				 h->t_first, h->t_stopped);
		else
			snprintf(cell[i], sizeof(cell[i]), "-");
		row[i + 1] = cell[i];
	}
	virt_table_row(&t, row);
	row[0] = "disk";
	for (size_t i = 0; i < n; i++)
		row[i + 1] = *hosts[i].disk ? hosts[i].disk : "-";
	virt_table_row(&t, row);
	row[0] = "network";
	for (size_t i = 0; i < n; i++)
		row[i + 1] = *hosts[i].network ? hosts[i].network : "-";
	virt_table_row(&t, row);
	/* every result key, in order of first appearance */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < hosts[i].col.nres; k++) {
			const char *key = hosts[i].col.res[k].key;
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = virt_collect_get(&hosts[j].col, key) != NULL;
			if (seen)
				continue;
			row[0] = key;
			for (size_t j = 0; j < n; j++) {
				const char *v = virt_collect_get(&hosts[j].col, key);
				row[j + 1] = v ? v : "-";
			}
			virt_table_row(&t, row);
		}
	}
	virt_table_print(&t, stdout, "");
	virt_table_free(&t);
	free(row);
	free(cell);
}

static void summary_json(struct host *hosts, size_t n)
{
	fputs("{\"hosts\":[", stdout);
	for (size_t i = 0; i < n; i++) {
		const struct host *h = &hosts[i];
		fputs(i ? ",{\"uri\":" : "{\"uri\":", stdout);
		virt_json_str(stdout, h->uri);
		fputs(",\"result\":", stdout);
		virt_json_str(stdout, h->result);
		fputs(",\"detail\":", stdout);
		virt_json_str(stdout, h->detail);
		fputs(",\"domain\":", stdout);
		virt_json_str(stdout, *h->name ? h->name : NULL);
		fputs(",\"disk\":", stdout);
		virt_json_str(stdout, *h->disk ? h->disk : NULL);
		fputs(",\"network\":", stdout);
		virt_json_str(stdout, *h->network ? h->network : NULL);
		printf(",\"seconds\":{\"started\":%.3f,\"first_result\":%.3f,"
		       "\"end\":%.3f},\"results\":[", h->t_started, h->t_first,
		       h->t_stopped);
		for (size_t k = 0; k < h->col.nres; k++) {
			fputs(k ? ",{\"key\":" : "{\"key\":", stdout);
			virt_json_str(stdout, h->col.res[k].key);
			fputs(",\"value\":", stdout);
			virt_json_str(stdout, h->col.res[k].value);
			fputc('}', stdout);
		}
		fputs("]}", stdout);
	}
	fputs("]}\n", stdout);
}

static void usage(FILE *f)
{
	fputs("usage: pvio virt probe URI... [OPTIONS]\n"
	      "\n"
	      "Boots pvio's probe guest on each libvirt connection (a TCG QEMU\n"
	      "domain with a virtio disk and a user-mode virtio NIC), prints its\n"
	      "PVIO-GUEST result lines as they come and a summary with one column\n"
	      "per host.  The domain is always destroyed and undefined at the end.\n"
	      "\n"
	      "  --kernel PATH          the probe guest ELF (default: the installed\n"
	      "                         or built one; PVIO_PROBE_KERNEL overrides)\n"
	      "  --timeout S            destroy the guest after S seconds (60)\n"
	      "  --connect-timeout S    give up connecting after S seconds (30)\n"
	      "  --no-net               no network interface\n"
	      "  --json                 the summary as JSON (no progress lines)\n"
	      "  --keep                 keep the probe's files (console, disk, XML)\n"
	      "  --print-xml            print the domain XML and exit (no\n"
	      "                         connection)\n"
	      "\n"
	      "Exit status: 0 if every guest reported and stopped by itself, 1 if\n"
	      "not, 130 when interrupted.  man pvio-virt(1).\n", f);
}

int virt_cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'K' },
		{ "no-net", no_argument, NULL, 'n' },
		{ "print-xml", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe_opts o = { .timeout = 60, .connect_timeout = 30 };
	bool print_xml = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return VIRT_OK;
		case 'k':
			o.kernel = optarg;
			break;
		case 't':
		case 'c':
			if (virt_parse_seconds(optarg, 3600, c == 't' ? &o.timeout
						       : &o.connect_timeout))
				return virt_usage(SUB, "--%s takes seconds "
						  "(0 < S <= 3600)",
						  c == 't' ? "timeout"
							   : "connect-timeout");
			break;
		case 'j':
			o.json = true;
			break;
		case 'K':
			o.keep = true;
			break;
		case 'n':
			o.no_net = true;
			break;
		case 'p':
			print_xml = true;
			break;
		case ':':
			return virt_usage(SUB, "%s needs a value", argv[optind - 1]);
		default:
			return virt_usage(SUB, "unknown option '%s'",
					  argv[optind - 1]);
		}
	}
	size_t n = (size_t)(argc - optind);
	if (!print_xml && n < 1)
		return virt_usage(SUB, "which connection? give a URI such as "
				  "qemu:///system");
	if (n > 16)
		return virt_usage(SUB, "at most 16 connections at once");
	char kernel[PATH_MAX], err[512];
	if (find_kernel(o.kernel, kernel, sizeof(kernel), err, sizeof(err))) {
		if (!print_xml)
			return virt_fail(SUB, "%s", err);
		snprintf(kernel, sizeof(kernel), "%s",
			 o.kernel ? o.kernel : PVIO_PKGLIBEXECDIR "/pvio-probe.elf");
	}
	if (print_xml) {
		struct dom_spec s = { "pvio-probe-example", kernel,
				      "/tmp/pvio-probe.example", "q35", NULL,
				      o.no_net ? NULL : "52:54:00:00:00:01" };
		char *xml = domain_xml(&s);
		fputs(xml, stdout);
		free(xml);
		return VIRT_OK;
	}

	virt_quiet_errors();
	static bool loop_registered;
	if (!loop_registered && virEventRegisterDefaultImpl() < 0)
		return virt_fail(SUB, "cannot set up libvirt's event loop: %s",
				 virt_lverr());
	loop_registered = true;

	struct sigaction sa, old_int, old_term, old_hup, old_pipe;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	got_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);

	struct host *hosts = virt_calloc(n, sizeof(*hosts));
	int rc = VIRT_OK;
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		hosts[i].uri = argv[optind + (int)i];
		if (got_signal) {
			set_result(&hosts[i], "interrupted", "not started");
			continue;
		}
		probe_host(&hosts[i], &o, kernel);
		done++;
		if (strcmp(hosts[i].result, "ok")) {
			char pu[256], pd[600];
			virt_fail(SUB, "%s: %s: %s",
				  virt_printable(hosts[i].uri, pu, sizeof(pu)),
				  hosts[i].result,
				  virt_printable(hosts[i].detail, pd, sizeof(pd)));
			rc = VIRT_FAIL;
		}
	}
	(void)done;
	if (o.json)
		summary_json(hosts, n);
	else {
		putchar('\n');
		summary_table(hosts, n);
	}
	fflush(stdout);
	for (size_t i = 0; i < n; i++)
		virt_collect_free(&hosts[i].col);
	free(hosts);
	if (got_signal)
		rc = 128 + (int)got_signal;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return rc;
}
