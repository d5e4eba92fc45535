/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/main.c - `pvio sim hyperv`: parse the command line, build the
 * host (devices in command-line order), open the socket, print the ready
 * line, run until SIGTERM/SIGINT or `quit`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmbus/scsi.h"
#include "vmbus/shv.h"

/* Device class GUIDs in wire order (Microsoft mixed endian). */
static const uint8_t guid_nic[16] = { 0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf,
				      0xc5, 0x46, 0x91, 0x3f, 0xf2, 0xd2,
				      0xf9, 0x65, 0xed, 0x0e };
static const uint8_t guid_scsi[16] = { 0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04,
				       0x29, 0x4d, 0xb6, 0x05, 0x72, 0xe2,
				       0xff, 0xb1, 0xdc, 0x7f };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvio sim hyperv --socket PATH [DEVICE...] [OPTIONS]\n"
		"\n"
		"A simulated Hyper-V host: VMBus with StorVSP disks and NetVSP "
		"NICs, reached\n"
		"through the sim hostif socket PATH (docs/sim-hostif.md).  "
		"Devices are offered\n"
		"in command-line order; pvio names them storvscN and netvscN.\n"
		"\n"
		"devices:\n"
		"  --scsi FILE[,ro][,bs=512|4096][,channels=N][,max-transfer=SIZE]"
		"[,guid=GUID]\n"
		"      a SCSI disk on FILE (default 512-byte blocks, 1 channel, "
		"512K transfers)\n"
		"  --nic [mac=MAC][,mtu=N][,mode=reflect|bridge:N|drop]"
		"[,channels=N]\n"
		"        [,link=up|down][,speed=MBIT][,section=SIZE]"
		"[,rx-reserve=SIZE][,offload=on|none]\n"
		"        [,uio][,guid=GUID]\n"
		"      a synthetic NIC (default mac 00:15:5d:00:00:0K for the "
		"K-th NIC, mtu 1500,\n"
		"      mode reflect: frames come back to the sender; bridge:N "
		"links it with\n"
		"      netvscN both ways, possibly in another partition; "
		"section: send-buffer\n"
		"      section size (6144); rx-reserve: receive-buffer bytes "
		"the host never\n"
		"      writes, for guests that alias it, e.g. a single-file "
		"fake uio device;\n"
		"      offload: checksum and LSOv2 offloads offered (on, the "
		"default) or none;\n"
		"      uio: handed to a user-space client through the uio door, "
		"see --uio)\n"
		"options:\n"
		"  --max-version X.Y  highest VMBus version accepted (2.4..5.3, "
		"default 5.3)\n"
		"  --monitor          offers with monitor pages; the host polls "
		"monitor page 2\n"
		"  --delay MS         slow host from the start (see `delay`)\n"
		"  --uio DIR          the uio door: NICs given `uio` appear as "
		"Linux\n"
		"                     uio_hv_generic devices in DIR/vmbus (mount "
		"it on\n"
		"                     /sys/bus/vmbus) and DIR/dev/uioN (mount it "
		"on\n"
		"                     /dev/uioN); needs CAP_SYS_ADMIN\n"
		"  -v, --verbose      log each partition's steps; -q, --quiet: "
		"errors only\n"
		"\n"
		"Prints one line \"pvio-sim-hyperv: ready socket=PATH "
		"DEV=... ...\" on stdout\n"
		"when it accepts connections; stops on SIGTERM, SIGINT or "
		"`quit`.\n"
		"\n"
		"`pvio sim ctl PATH COMMAND` while it runs:\n%s",
		shv_ctl_help());
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pvio sim hyperv: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see pvio sim hyperv --help\n");
	return 2;
}

static int parse_count(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return -1;
	*out = (unsigned)x;
	return 0;
}

static struct shv_dev *new_dev(struct shv_host *h, enum shv_dev_kind kind)
{
	if (h->ndevs == SHV_MAX_DEVS)
		return NULL;
	struct shv_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	unsigned idx = 0;
	for (unsigned i = 0; i < h->ndevs; i++)
		if (h->devs[i]->kind == kind)
			idx++;
	d->host = h;
	d->kind = kind;
	d->index = idx;
	d->channels = 1;
	d->offered = true;
	snprintf(d->name, sizeof(d->name), "%s%u",
		 kind == SHV_DEV_SCSI ? "storvsc" : "netvsc", idx);
	memcpy(d->type_guid, kind == SHV_DEV_SCSI ? guid_scsi : guid_nic, 16);
	/* instance 5056494f-000K-4000-8000-0000000000II ("PVIO") */
	char g[40];
	snprintf(g, sizeof(g), "5056494f-%04x-4000-8000-%012x",
		 kind == SHV_DEV_SCSI ? 1u : 2u, idx);
	shv_guid_parse(g, d->inst_guid);
	h->devs[h->ndevs++] = d;
	return d;
}

static int parse_scsi(struct shv_host *h, char *spec)
{
	struct shv_dev *d = new_dev(h, SHV_DEV_SCSI);
	if (!d)
		return fail("too many devices (at most %s)", "16");
	d->ops = &shv_storvsp_ops;
	d->disk.fd = -1;
	d->disk.bs = 512;
	d->disk.max_transfer = 512 * 1024;
	char *save = NULL;
	char *file = strtok_r(spec, ",", &save);
	if (!file || !*file)
		return fail("--scsi needs an image file");
	if (strlen(file) >= sizeof(d->disk.path))
		return fail("image path too long: %s", file);
	strcpy(d->disk.path, file);
	for (char *o = strtok_r(NULL, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		uint64_t sz;
		if (!strcmp(o, "ro"))
			d->disk.ro = true;
		else if (!strcmp(o, "bs=512") || !strcmp(o, "bs=4096"))
			d->disk.bs = (uint32_t)atoi(o + 3);
		else if (!strncmp(o, "channels=", 9)) {
			if (parse_count(o + 9, 1, SHV_MAX_CHANNELS,
					&d->channels) < 0)
				return fail("channels must be 1..16: %s", o);
		} else if (!strncmp(o, "max-transfer=", 13)) {
			if (sim_parse_size(o + 13, &sz) < 0 || sz < 4096 ||
			    sz > 2 * 1024 * 1024 || sz % 4096)
				return fail("max-transfer must be 4K..2M in "
					    "4K steps: %s", o);
			d->disk.max_transfer = (uint32_t)sz;
		} else if (!strncmp(o, "guid=", 5)) {
			if (shv_guid_parse(o + 5, d->inst_guid) < 0)
				return fail("bad GUID: %s", o);
		} else {
			return fail("unknown --scsi option '%s'", o);
		}
	}
	int r = shv_disk_open(&d->disk);
	if (r < 0) {
		fprintf(stderr,
			"pvio sim hyperv: cannot open disk image %s: %s; create "
			"it first (e.g. truncate -s 64M %s)\n",
			d->disk.path, strerror(-r), d->disk.path);
		return 1;
	}
	if (!d->disk.blocks) {
		fprintf(stderr, "pvio sim hyperv: disk image %s is smaller "
				"than one block; give it a size\n",
			d->disk.path);
		return 1;
	}
	return 0;
}

static int parse_nic(struct shv_host *h, char *spec)
{
	struct shv_dev *d = new_dev(h, SHV_DEV_NIC);
	if (!d)
		return fail("too many devices (at most %s)", "16");
	d->ops = &shv_netvsp_ops;
	struct shv_nic *n = &d->nic;
	uint8_t mac[6] = { 0x00, 0x15, 0x5d, 0x00, 0x00,
			   (uint8_t)(d->index + 1) };
	memcpy(n->mac, mac, 6);
	n->mtu = 1500;
	n->mode = SHV_NIC_REFLECT;
	n->peer = -1;
	n->link_up = true;
	n->link_speed = 100000000; /* 10 Gbit/s in 100 bit/s units */
	n->section_size = 6144;
	char *save = NULL;
	for (char *o = spec ? strtok_r(spec, ",", &save) : NULL; o;
	     o = strtok_r(NULL, ",", &save)) {
		unsigned v;
		uint64_t sz;
		if (!strncmp(o, "mac=", 4)) {
			if (sim_parse_mac(o + 4, n->mac) < 0 || (n->mac[0] & 1))
				return fail("bad unicast MAC: %s", o);
		} else if (!strncmp(o, "mtu=", 4)) {
			if (parse_count(o + 4, 68, 9000, &n->mtu) < 0)
				return fail("mtu must be 68..9000: %s", o);
		} else if (!strcmp(o, "mode=reflect")) {
			n->mode = SHV_NIC_REFLECT;
		} else if (!strcmp(o, "mode=drop")) {
			n->mode = SHV_NIC_DROP;
		} else if (!strncmp(o, "mode=bridge:", 12)) {
			if (parse_count(o + 12, 0, SHV_MAX_DEVS - 1, &v) < 0)
				return fail("mode=bridge:N needs a NIC index: %s",
					    o);
			n->mode = SHV_NIC_BRIDGE;
			n->peer = (int)v; /* a NIC index until resolved */
		} else if (!strncmp(o, "channels=", 9)) {
			if (parse_count(o + 9, 1, SHV_MAX_CHANNELS,
					&d->channels) < 0)
				return fail("channels must be 1..16: %s", o);
		} else if (!strcmp(o, "link=up") || !strcmp(o, "link=down")) {
			n->link_up = !strcmp(o, "link=up");
		} else if (!strncmp(o, "speed=", 6)) {
			if (parse_count(o + 6, 1, 400000, &v) < 0)
				return fail("speed is in Mbit/s, 1..400000: %s",
					    o);
			n->link_speed = v * 10000u;
		} else if (!strncmp(o, "section=", 8)) {
			if (sim_parse_size(o + 8, &sz) < 0 || sz < 512 ||
			    sz > 65536 || sz % 8)
				return fail("section must be 512..64K, a "
					    "multiple of 8: %s", o);
			n->section_size = (uint32_t)sz;
		} else if (!strncmp(o, "rx-reserve=", 11)) {
			if (sim_parse_size(o + 11, &sz) < 0 ||
			    sz > 16 * 1024 * 1024)
				return fail("rx-reserve must be at most 16M: %s",
					    o);
			n->rx_reserve = (uint32_t)sz;
		} else if (!strcmp(o, "uio")) {
			n->uio = true;
		} else if (!strcmp(o, "offload=none") ||
			   !strcmp(o, "offload=on")) {
			n->no_offload = !strcmp(o, "offload=none");
		} else if (!strncmp(o, "guid=", 5)) {
			if (shv_guid_parse(o + 5, d->inst_guid) < 0)
				return fail("bad GUID: %s", o);
		} else {
			return fail("unknown --nic option '%s'", o);
		}
	}
	return 0;
}

/* bridge:N names netvscN; make the link symmetric, as devs[] indices. */
static int resolve_bridges(struct shv_host *h)
{
	for (unsigned i = 0; i < h->ndevs; i++) {
		struct shv_dev *d = h->devs[i];
		if (d->kind != SHV_DEV_NIC || d->nic.mode != SHV_NIC_BRIDGE ||
		    d->nic.peer >= SHV_MAX_DEVS)
			continue;
		char name[24];
		snprintf(name, sizeof(name), "netvsc%d", d->nic.peer);
		struct shv_dev *p = shv_host_dev(h, name);
		if (!p)
			return fail("mode=bridge names %s, which is not "
				    "configured", name);
		unsigned pi = 0;
		while (h->devs[pi] != p)
			pi++;
		d->nic.peer = SHV_MAX_DEVS + (int)pi; /* resolved */
		if (p != d && p->nic.mode == SHV_NIC_REFLECT) {
			p->nic.mode = SHV_NIC_BRIDGE;
			p->nic.peer = SHV_MAX_DEVS + (int)i;
		}
	}
	for (unsigned i = 0; i < h->ndevs; i++)
		if (h->devs[i]->kind == SHV_DEV_NIC &&
		    h->devs[i]->nic.peer >= SHV_MAX_DEVS)
			h->devs[i]->nic.peer -= SHV_MAX_DEVS;
	return 0;
}

void shv_host_free(struct shv_host *h)
{
	shv_uio_stop(h);
	shv_hostif_close(h);
	while (h->parts)
		shv_part_free(h->parts);
	for (unsigned i = 0; i < h->ndevs; i++) {
		struct shv_dev *d = h->devs[i];
		if (d->kind == SHV_DEV_SCSI && d->disk.fd >= 0)
			close(d->disk.fd);
		free(d);
	}
	h->ndevs = 0;
	sim_loop_free(h->loop);
	h->loop = NULL;
}

static int parse_version(const char *s, uint32_t *v)
{
	unsigned maj, min;
	char tail;
	if (sscanf(s, "%u.%u%c", &maj, &min, &tail) != 2 || maj > 0xFFFF ||
	    min > 0xFFFF)
		return -1;
	*v = maj << 16 | min;
	return *v >= SHV_VMBUS_V2_4 && *v <= SHV_VMBUS_V5_3 ? 0 : -1;
}

int sim_hyperv_main(int argc, char **argv)
{
	struct shv_host host;
	struct shv_host *h = &host;
	const char *sock = NULL, *uio = NULL;
	int level = SIM_LOG_INFO, rc = 0;
	memset(h, 0, sizeof(*h));
	h->max_version = SHV_VMBUS_V5_3;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--socket") && val) {
			sock = val;
			i++;
		} else if (!strcmp(a, "--scsi") && val) {
			char spec[512];
			snprintf(spec, sizeof(spec), "%s", val);
			i++;
			if ((rc = parse_scsi(h, spec)))
				goto out;
		} else if (!strcmp(a, "--nic")) {
			char spec[512];
			bool has = val && strncmp(val, "--", 2) &&
				   strcmp(val, "-v") && strcmp(val, "-q");
			snprintf(spec, sizeof(spec), "%s", has ? val : "");
			if (has)
				i++;
			if ((rc = parse_nic(h, has ? spec : NULL)))
				goto out;
		} else if (!strcmp(a, "--max-version") && val) {
			if (parse_version(val, &h->max_version) < 0) {
				rc = fail("--max-version must be 2.4..5.3: %s",
					  val);
				goto out;
			}
			i++;
		} else if (!strcmp(a, "--delay") && val) {
			unsigned ms;
			if (parse_count(val, 0, 60000, &ms) < 0) {
				rc = fail("--delay must be 0..60000 ms: %s",
					  val);
				goto out;
			}
			h->delay_ms = ms;
			i++;
		} else if (!strcmp(a, "--uio") && val) {
			uio = val;
			i++;
		} else if (!strcmp(a, "--monitor")) {
			h->monitor = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			level = SIM_LOG_DEBUG;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			level = SIM_LOG_ERROR;
		} else {
			rc = fail("unknown or incomplete argument '%s'", a);
			goto out;
		}
	}
	if (!sock) {
		rc = fail("--socket PATH is required");
		goto out;
	}
	if ((rc = resolve_bridges(h)))
		goto out;
	sim_log_init("pvio-sim-hyperv", level);
	h->loop = sim_loop_new();
	if (!h->loop) {
		fprintf(stderr, "pvio sim hyperv: cannot create the event loop: "
				"%s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	int r = shv_hostif_listen(h, sock);
	if (r < 0) {
		fprintf(stderr,
			"pvio sim hyperv: cannot listen on %s: %s; is the path "
			"writable and not a regular file?\n",
			sock, strerror(-r));
		rc = 1;
		goto out;
	}
	bool want_uio = false;
	for (unsigned i = 0; i < h->ndevs; i++)
		want_uio = want_uio || (h->devs[i]->kind == SHV_DEV_NIC &&
					h->devs[i]->nic.uio);
	if (want_uio && !uio) {
		rc = fail("a NIC given `uio` needs --uio DIR");
		goto out;
	}
	if (uio && (r = shv_uio_start(h, uio)) < 0) {
		fprintf(stderr, "pvio sim hyperv: cannot set up the uio door in "
				"%s: %s; is the directory writable?\n",
			uio, strerror(-r));
		rc = 1;
		goto out;
	}
	printf("pvio-sim-hyperv: ready socket=%s", sock);
	if (uio)
		printf(" uio=%s", uio);
	for (unsigned i = 0; i < h->ndevs; i++) {
		struct shv_dev *d = h->devs[i];
		if (d->kind == SHV_DEV_SCSI)
			printf(" %s=%s", d->name, d->disk.path);
		else
			printf(" %s=%02x:%02x:%02x:%02x:%02x:%02x", d->name,
			       d->nic.mac[0], d->nic.mac[1], d->nic.mac[2],
			       d->nic.mac[3], d->nic.mac[4], d->nic.mac[5]);
	}
	printf("\n");
	fflush(stdout);
	r = sim_loop_run(h->loop);
	if (r < 0) {
		fprintf(stderr, "pvio sim hyperv: event loop failed: %s\n",
			strerror(-r));
		rc = 1;
	}
	sim_log(SIM_LOG_INFO, "stopping");
out:
	shv_host_free(h);
	return rc;
}
