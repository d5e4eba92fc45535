/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/main.c - `pvio sim virtio ...`: pvio's simulated KVM/virtio
 * host, a vhost-user back end with block and network devices.
 *
 * Command line (also printed by --help; the man page is made from this):
 *
 *   pvio sim virtio [--ctl PATH] [--log-level LEVEL] DEVICE...
 *
 *   --blk PATH=IMAGE[,OPTION...]   a virtio-blk device on vhost-user
 *                                  socket PATH, backed by file IMAGE
 *   --net PATH[,OPTION...]         a virtio-net device on socket PATH
 *   --ctl PATH                     management socket (`pvio sim ctl PATH
 *                                  help` lists its commands)
 *   --log-level error|warn|info|debug   (default info; -v = debug)
 *
 * Options of every device:
 *   queues=N          blk: request queues (1-128); net: queue pairs (1-64)
 *   packed=on|off     offer RING_PACKED (on)
 *   event_idx=on|off  offer RING_EVENT_IDX (on)
 *   indirect=on|off   offer RING_INDIRECT_DESC (on)
 *   in_order=on|off   offer IN_ORDER (off)
 *   batch=N           buffers taken per batch before completing (32)
 *   delay=MS          complete every request MS ms late (0)
 *   ooo=on|off        complete each batch in reverse order (off)
 *   name=NAME         name in logs and ctl commands (blk0, net0, ...)
 * blk options:
 *   ro                read-only (offers RO; writes fail with IOERR)
 *   size=SIZE         create IMAGE with this size if it does not exist
 *   serial=STRING     GET_ID answer, at most 20 characters (pvio-NAME)
 *   bs=N              logical block size, 512..65536, power of two (512)
 *   seg_max=N         data segments per request (126)
 *   size_max=N        bytes per segment (1M)
 *   discard=on|off, write_zeroes=on|off   offer them (on unless ro)
 * net options:
 *   mode=reflect      every frame sent comes back to the sender (default)
 *   mode=switch:GROUP frames go to the other devices of GROUP
 *   mac=52:54:00:..   MAC address (default derived from PATH)
 *   mtu=N             68..65535 (1500)
 *   mrg_rxbuf=on|off  offer MRG_RXBUF (on)
 *   csum=on|off       offer CSUM and GUEST_CSUM (on)
 *   ctrl_vq=on|off    offer CTRL_VQ, answering MQ VQ_PAIRS_SET (on)
 *   rxfull=wait|drop  no RX buffer: hold the sender or drop (wait)
 *   link=up|down      initial link state (up)
 *
 * One line "NAME: ready on PATH (...)" is printed on stdout per device,
 * then "ctl: ready on PATH", once every socket listens.  SIGTERM or SIGINT
 * (or the ctl command quit) ends the program; it removes its sockets.
 * PATH and IMAGE cannot contain commas.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/svirtio.h"

static const char usage_text[] =
	"usage: pvio sim virtio [--ctl PATH] [--log-level LEVEL] DEVICE...\n"
	"\n"
	"pvio's simulated KVM/virtio host: vhost-user back ends (the device\n"
	"side) for virtio-blk and virtio-net, one unix socket per device.\n"
	"\n"
	"devices:\n"
	"  --blk PATH=IMAGE[,OPT...]  virtio-blk on socket PATH backed by IMAGE\n"
	"  --net PATH[,OPT...]        virtio-net on socket PATH\n"
	"other options:\n"
	"  --ctl PATH                 management socket (pvio sim ctl PATH help)\n"
	"  --log-level LEVEL          error, warn, info (default) or debug\n"
	"  -v                         same as --log-level debug\n"
	"  -h, --help                 this text\n"
	"\n"
	"options of every device:\n"
	"  queues=N          blk: queues (1-128, 1); net: queue pairs (1-64, 1)\n"
	"  packed=on|off     offer RING_PACKED (on)\n"
	"  event_idx=on|off  offer RING_EVENT_IDX (on)\n"
	"  indirect=on|off   offer RING_INDIRECT_DESC (on)\n"
	"  in_order=on|off   offer IN_ORDER (off)\n"
	"  batch=N           buffers per batch before completing (32)\n"
	"  delay=MS          complete requests MS milliseconds late (0)\n"
	"  ooo=on|off        complete each batch in reverse order (off)\n"
	"  name=NAME         name for logs and ctl (blk0, net0, ...)\n"
	"blk options:\n"
	"  ro                read-only: offer RO, fail writes with IOERR\n"
	"  size=SIZE         create IMAGE with SIZE bytes (k/M/G) if missing\n"
	"  serial=STRING     GET_ID answer, up to 20 characters (pvio-NAME)\n"
	"  bs=N              logical block size, power of two 512..65536 (512)\n"
	"  seg_max=N         data segments per request, 1..1022 (126)\n"
	"  size_max=N        bytes per segment, >= 4096 (1M)\n"
	"  discard=on|off    offer DISCARD (on, off when ro)\n"
	"  write_zeroes=on|off  offer WRITE_ZEROES (on, off when ro)\n"
	"net options:\n"
	"  mode=reflect      frames come back to the sender (default)\n"
	"  mode=switch:GROUP frames go to the other devices of GROUP\n"
	"  mac=MAC           MAC address (default: derived from PATH)\n"
	"  mtu=N             68..65535 (1500)\n"
	"  mrg_rxbuf=on|off  offer MRG_RXBUF (on)\n"
	"  csum=on|off       offer CSUM and GUEST_CSUM (on)\n"
	"  ctrl_vq=on|off    offer CTRL_VQ (MQ VQ_PAIRS_SET only) (on)\n"
	"  rxfull=wait|drop  no RX buffer: hold the sender or drop (wait)\n"
	"  link=up|down      initial link state (up)\n"
	"\n"
	"Prints \"NAME: ready on PATH (...)\" per device and \"ctl: ready on\n"
	"PATH\" when listening.  Ends on SIGTERM/SIGINT or ctl quit, removing\n"
	"its sockets.  Example:\n"
	"  pvio sim virtio --blk /tmp/b.sock=disk.img,queues=2 \\\n"
	"      --net /tmp/n.sock --ctl /tmp/ctl.sock\n";

static int on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int num(const char *v, uint64_t min, uint64_t max, unsigned *out)
{
	uint64_t x;
	if (sim_parse_size(v, &x) < 0 || x < min || x > max)
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

static struct svirtio_group *group_get(struct svirtio_host *h,
				       const char *name)
{
	for (struct svirtio_group *g = h->groups; g; g = g->next)
		if (!strcmp(g->name, name))
			return g;
	struct svirtio_group *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->next = h->groups;
	h->groups = g;
	return g;
}

static void default_mac(const char *path, uint8_t mac[6])
{
	uint32_t hsh = 2166136261u;   /* FNV-1a of the path */
	for (const char *p = path; *p; p++)
		hsh = (hsh ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(hsh >> 16);
	mac[4] = (uint8_t)(hsh >> 8);
	mac[5] = (uint8_t)hsh;
}

static struct svirtio_dev *dev_new(struct svirtio_host *h,
				   enum svirtio_kind kind)
{
	struct svirtio_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->elem = malloc(sizeof(*d->elem));
	if (!d->elem) {
		free(d);
		return NULL;
	}
	d->host = h;
	d->kind = kind;
	d->listen_fd = d->sock = d->backend_fd = -1;
	for (unsigned i = 0; i < SVIRTIO_MAX_VQS; i++) {
		d->vq[i].dev = d;
		d->vq[i].index = i;
		d->vq[i].kick_fd = d->vq[i].call_fd = d->vq[i].err_fd = -1;
	}
	d->o.queues = 1;
	d->o.packed = d->o.event_idx = d->o.indirect = true;
	d->o.batch = 32;
	if (kind == SVIRTIO_BLK) {
		d->u.blk.fd = -1;
		d->u.blk.blk_size = 512;
		d->u.blk.seg_max = 126;
		d->u.blk.size_max = 1u << 20;
		d->u.blk.max_discard_sectors = 1u << 16;
		d->u.blk.max_discard_seg = 16;
		d->u.blk.max_wz_sectors = 1u << 16;
		d->u.blk.max_wz_seg = 16;
	} else {
		d->u.net.mtu = 1500;
		d->u.net.link_up = true;
		d->u.net.mrg_rxbuf = d->u.net.csum = d->u.net.ctrl_vq = true;
	}
	return d;
}

static void dev_free(struct svirtio_dev *d)
{
	if (!d)
		return;
	if (d->kind == SVIRTIO_BLK)
		svirtio_blk_fini(d);
	else
		svirtio_net_fini(d);
	for (unsigned i = 0; i < SVIRTIO_MAX_VQS; i++)
		svirtio_vq_stop(&d->vq[i]);
	free(d->elem);
	free(d);
}

/* Parse one --blk / --net argument into a new device of h. */
int svirtio_parse_device(struct svirtio_host *h, enum svirtio_kind kind,
			 const char *arg, char *err, size_t errlen)
{
	const char *opt = kind == SVIRTIO_BLK ? "--blk" : "--net";
	char buf[1024], *save = NULL;
	bool discard = true, wz = true;
	uint64_t create_size = 0;
	const char *mode = "reflect";
	struct svirtio_dev *d;

	if (h->ndev >= sizeof(h->dev) / sizeof(h->dev[0])) {
		snprintf(err, errlen, "too many devices (at most %zu)",
			 sizeof(h->dev) / sizeof(h->dev[0]));
		return -1;
	}
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "%s argument is too long", opt);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	if (!(d = dev_new(h, kind))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *first = strtok_r(buf, ",", &save);
	if (!first) {
		snprintf(err, errlen, "%s needs a socket path (see --help)", opt);
		goto fail;
	}
	if (kind == SVIRTIO_BLK) {
		char *eq = strchr(first, '=');
		if (!eq || eq == first || !eq[1]) {
			snprintf(err, errlen,
				 "--blk %s: expected PATH=IMAGE (see --help)", arg);
			goto fail;
		}
		*eq = 0;
		if (strlen(eq + 1) >= sizeof(d->u.blk.image)) {
			snprintf(err, errlen, "--blk: image path is too long");
			goto fail;
		}
		snprintf(d->u.blk.image, sizeof(d->u.blk.image), "%s", eq + 1);
	}
	if (strlen(first) >= sizeof(d->path)) {
		snprintf(err, errlen, "%s: socket path %s is too long (at most "
				      "%zu bytes)", opt, first,
			 sizeof(d->path) - 1);
		goto fail;
	}
	snprintf(d->path, sizeof(d->path), "%s", first);
	for (unsigned i = 0; i < h->ndev; i++)
		if (!strcmp(h->dev[i]->path, d->path)) {
			snprintf(err, errlen, "socket %s is given twice", d->path);
			goto fail;
		}
	unsigned nth = 0;
	for (unsigned i = 0; i < h->ndev; i++)
		nth += h->dev[i]->kind == kind;
	snprintf(d->name, sizeof(d->name), "%s%u",
		 kind == SVIRTIO_BLK ? "blk" : "net", nth);

	for (char *t = strtok_r(NULL, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		char *v = strchr(t, '=');
		if (v)
			*v++ = 0;
		int bad = 0;
		const char *k = t;
		if (!v && kind == SVIRTIO_BLK && !strcmp(k, "ro")) {
			d->u.blk.ro = true;
			continue;
		}
		if (!v) {
			bad = 1;
		} else if (!strcmp(k, "queues")) {
			bad = num(v, 1, kind == SVIRTIO_BLK ? 128 : 64,
				  &d->o.queues);
		} else if (!strcmp(k, "packed")) {
			bad = on_off(v, &d->o.packed);
		} else if (!strcmp(k, "event_idx")) {
			bad = on_off(v, &d->o.event_idx);
		} else if (!strcmp(k, "indirect")) {
			bad = on_off(v, &d->o.indirect);
		} else if (!strcmp(k, "in_order")) {
			bad = on_off(v, &d->o.in_order);
		} else if (!strcmp(k, "batch")) {
			bad = num(v, 1, 4096, &d->o.batch);
		} else if (!strcmp(k, "delay")) {
			bad = num(v, 0, 600000, &d->f.delay_ms);
		} else if (!strcmp(k, "ooo")) {
			bad = on_off(v, &d->f.ooo);
		} else if (!strcmp(k, "name")) {
			if (!*v || strlen(v) >= sizeof(d->name) ||
			    strchr(v, ' '))
				bad = 1;
			else
				snprintf(d->name, sizeof(d->name), "%s", v);
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "size")) {
			bad = sim_parse_size(v, &create_size) < 0 || !create_size;
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "serial")) {
			if (strlen(v) > SVIRTIO_BLK_ID_BYTES)
				bad = 1;
			else
				snprintf(d->u.blk.serial, sizeof(d->u.blk.serial),
					 "%s", v);
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "bs")) {
			bad = num(v, 512, 65536, &d->u.blk.blk_size) ||
			      (d->u.blk.blk_size & (d->u.blk.blk_size - 1));
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "seg_max")) {
			bad = num(v, 1, SVIRTIO_MAX_SEGS - 2, &d->u.blk.seg_max);
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "size_max")) {
			bad = num(v, 4096, 0xffffffffu, &d->u.blk.size_max);
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "discard")) {
			bad = on_off(v, &discard);
		} else if (kind == SVIRTIO_BLK && !strcmp(k, "write_zeroes")) {
			bad = on_off(v, &wz);
		} else if (kind == SVIRTIO_NET && !strcmp(k, "mode")) {
			if (!strcmp(v, "reflect"))
				mode = "reflect";
			else if (!strncmp(v, "switch:", 7) && v[7] &&
				 strlen(v + 7) < 32)
				mode = v + 7;
			else
				bad = 1;
		} else if (kind == SVIRTIO_NET && !strcmp(k, "mac")) {
			/* a unicast address: the group bit must be clear */
			bad = sim_parse_mac(v, d->u.net.mac) < 0 ||
			      (d->u.net.mac[0] & 1);
		} else if (kind == SVIRTIO_NET && !strcmp(k, "mtu")) {
			unsigned m = 1500;
			bad = num(v, 68, 65535, &m);
			d->u.net.mtu = (uint16_t)m;
		} else if (kind == SVIRTIO_NET && !strcmp(k, "mrg_rxbuf")) {
			bad = on_off(v, &d->u.net.mrg_rxbuf);
		} else if (kind == SVIRTIO_NET && !strcmp(k, "csum")) {
			bad = on_off(v, &d->u.net.csum);
		} else if (kind == SVIRTIO_NET && !strcmp(k, "ctrl_vq")) {
			bad = on_off(v, &d->u.net.ctrl_vq);
		} else if (kind == SVIRTIO_NET && !strcmp(k, "rxfull")) {
			if (!strcmp(v, "wait"))
				d->u.net.rxfull_drop = false;
			else if (!strcmp(v, "drop"))
				d->u.net.rxfull_drop = true;
			else
				bad = 1;
		} else if (kind == SVIRTIO_NET && !strcmp(k, "link")) {
			if (!strcmp(v, "up") || !strcmp(v, "down"))
				d->u.net.link_up = !strcmp(v, "up");
			else
				bad = 1;
		} else {
			snprintf(err, errlen, "%s %s: unknown option '%s' (see "
					      "--help)", opt, arg, k);
			goto fail;
		}
		if (bad) {
			snprintf(err, errlen, "%s %s: bad value for '%s'%s%s (see "
					      "--help)", opt, arg, k,
				 v ? ": " : "", v ? v : "");
			goto fail;
		}
	}

	/* what the device offers */
	uint64_t f = 1ull << SVIRTIO_F_VERSION_1 |
		     1ull << SVIRTIO_F_PROTOCOL_FEATURES;
	if (d->o.indirect)
		f |= 1ull << SVIRTIO_F_INDIRECT_DESC;
	if (d->o.event_idx)
		f |= 1ull << SVIRTIO_F_EVENT_IDX;
	if (d->o.packed)
		f |= 1ull << SVIRTIO_F_RING_PACKED;
	if (d->o.in_order)
		f |= 1ull << SVIRTIO_F_IN_ORDER;
	if (kind == SVIRTIO_BLK) {
		struct svirtio_blk *bk = &d->u.blk;
		f |= 1ull << SVIRTIO_BLK_F_SIZE_MAX | 1ull << SVIRTIO_BLK_F_SEG_MAX |
		     1ull << SVIRTIO_BLK_F_BLK_SIZE | 1ull << SVIRTIO_BLK_F_FLUSH |
		     1ull << SVIRTIO_BLK_F_TOPOLOGY | 1ull << SVIRTIO_BLK_F_MQ;
		if (bk->ro)
			f |= 1ull << SVIRTIO_BLK_F_RO;
		if (discard && !bk->ro)
			f |= 1ull << SVIRTIO_BLK_F_DISCARD;
		if (wz && !bk->ro)
			f |= 1ull << SVIRTIO_BLK_F_WRITE_ZEROES;
		if (!bk->serial[0])
			snprintf(bk->serial, sizeof(bk->serial), "pvio-%.15s",
				 d->name);
		if (bk->size_max < bk->blk_size)
			bk->size_max = bk->blk_size;
		d->nvqs = d->o.queues;
		if (create_size) {
			int fd = open(bk->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
				      0644);
			if (fd >= 0) {
				int r = ftruncate(fd, (off_t)create_size);
				close(fd);
				if (r < 0) {
					snprintf(err, errlen, "cannot size %s: %s",
						 bk->image, strerror(errno));
					goto fail;
				}
			} else if (errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s",
					 bk->image, strerror(errno));
				goto fail;
			}
		}
		if (svirtio_blk_init(d, err, errlen) < 0)
			goto fail;
	} else {
		struct svirtio_net *n = &d->u.net;
		static const uint8_t zero[6];
		f |= 1ull << SVIRTIO_NET_F_MAC | 1ull << SVIRTIO_NET_F_MTU |
		     1ull << SVIRTIO_NET_F_STATUS;
		if (n->mrg_rxbuf)
			f |= 1ull << SVIRTIO_NET_F_MRG_RXBUF;
		if (n->csum)
			f |= 1ull << SVIRTIO_NET_F_CSUM |
			     1ull << SVIRTIO_NET_F_GUEST_CSUM;
		if (n->ctrl_vq)
			f |= 1ull << SVIRTIO_NET_F_CTRL_VQ;
		if (d->o.queues > 1)
			f |= 1ull << SVIRTIO_NET_F_MQ;
		if (!memcmp(n->mac, zero, 6))
			default_mac(d->path, n->mac);
		d->nvqs = 2 * d->o.queues + (n->ctrl_vq ? 1 : 0);
		if (strcmp(mode, "reflect")) {
			struct svirtio_group *g = group_get(h, mode);
			if (!g) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			n->group = g;
			struct svirtio_dev **p = &g->first;
			while (*p)
				p = &(*p)->u.net.next_in_group;
			*p = d;
		}
		if (svirtio_net_init(d, err, errlen) < 0)
			goto fail;
	}
	d->features = f;
	d->pfeatures = 1ull << SVU_PF_MQ | 1ull << SVU_PF_REPLY_ACK |
		       1ull << SVU_PF_BACKEND_REQ | 1ull << SVU_PF_CONFIG |
		       1ull << SVU_PF_CONFIGURE_MEM_SLOTS | 1ull << SVU_PF_STATUS;
	h->dev[h->ndev++] = d;
	return 0;
fail:
	if (kind == SVIRTIO_NET && d->u.net.group) {
		struct svirtio_dev **p = &d->u.net.group->first;
		while (*p && *p != d)
			p = &(*p)->u.net.next_in_group;
		if (*p)
			*p = d->u.net.next_in_group;
	}
	dev_free(d);
	return -1;
}

static void describe(const struct svirtio_dev *d, char *buf, int len)
{
	if (d->kind == SVIRTIO_BLK) {
		snprintf(buf, (size_t)len,
			 "vhost-user-blk, %.255s, %llu sectors%s, %u queue%s",
			 d->u.blk.image, (unsigned long long)d->u.blk.sectors,
			 d->u.blk.ro ? ", read-only" : "", d->o.queues,
			 d->o.queues == 1 ? "" : "s");
		return;
	}
	const uint8_t *m = d->u.net.mac;
	snprintf(buf, (size_t)len,
		 "vhost-user-net, %s%s, mac %02x:%02x:%02x:%02x:%02x:%02x, "
		 "mtu %u, %u queue pair%s",
		 d->u.net.group ? "switch:" : "reflect",
		 d->u.net.group ? d->u.net.group->name : "", m[0], m[1], m[2],
		 m[3], m[4], m[5], d->u.net.mtu, d->o.queues,
		 d->o.queues == 1 ? "" : "s");
}

static void host_free(struct svirtio_host *h)
{
	svirtio_ctl_close(h);
	for (unsigned i = 0; i < h->ndev; i++)
		svirtio_dev_close(h->dev[i]);
	for (unsigned i = 0; i < h->ndev; i++)
		dev_free(h->dev[i]);
	while (h->groups) {
		struct svirtio_group *g = h->groups;
		h->groups = g->next;
		free(g);
	}
	sim_loop_free(h->loop);
	free(h);
}

int sim_virtio_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "blk", required_argument, NULL, 'b' },
		{ "net", required_argument, NULL, 'n' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	struct svirtio_host *h = calloc(1, sizeof(*h));
	const char *ctl = NULL;
	int level = SIM_LOG_INFO, c, rc = 1;
	char err[512];

	if (!h) {
		fprintf(stderr, "pvio sim virtio: out of memory\n");
		return 1;
	}
	h->ctl_fd = -1;
	sim_log_init("pvio-sim-virtio", level);
	h->loop = sim_loop_new();
	if (!h->loop) {
		fprintf(stderr, "pvio sim virtio: cannot create the event loop\n");
		free(h);
		return 1;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
		case 'n':
			if (svirtio_parse_device(h, c == 'b' ? SVIRTIO_BLK
							     : SVIRTIO_NET,
						 optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "pvio sim virtio: %s\n", err);
				goto out;
			}
			break;
		case 'c':
			ctl = optarg;
			break;
		case 'l':
			level = -1;
			for (int i = 0; i < 4; i++)
				if (!strcmp(optarg, levels[i]))
					level = i;
			if (level < 0) {
				fprintf(stderr, "pvio sim virtio: unknown log "
						"level '%s' (error, warn, info, "
						"debug)\n", optarg);
				goto out;
			}
			sim_log_init("pvio-sim-virtio", level);
			break;
		case 'v':
			level = SIM_LOG_DEBUG;
			sim_log_init("pvio-sim-virtio", level);
			break;
		case 'h':
			fputs(usage_text, stdout);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "pvio sim virtio: %s '%s'; run `pvio sim "
					"virtio --help`\n",
				optopt ? "missing argument or bad option"
				       : "unknown option",
				argv[optind - 1]);
			rc = 2;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pvio sim virtio: unexpected argument '%s'; run "
				"`pvio sim virtio --help`\n", argv[optind]);
		rc = 2;
		goto out;
	}
	if (!h->ndev) {
		fprintf(stderr, "pvio sim virtio: no devices; give at least one "
				"--blk PATH=IMAGE or --net PATH (see --help)\n");
		rc = 2;
		goto out;
	}
	for (unsigned i = 0; i < h->ndev; i++) {
		struct svirtio_dev *d = h->dev[i];
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(h->dev[j]->name, d->name)) {
				fprintf(stderr, "pvio sim virtio: two devices "
						"are named %s; use name=\n",
					d->name);
				goto out;
			}
		if (d->kind == SVIRTIO_NET && d->u.net.group &&
		    !d->u.net.group->first->u.net.next_in_group) {
			fprintf(stderr, "pvio sim virtio: switch group %s has only "
					"%s; a switch needs two or more --net "
					"devices with mode=switch:%s\n",
				d->u.net.group->name, d->name,
				d->u.net.group->name);
			goto out;
		}
	}
	for (unsigned i = 0; i < h->ndev; i++) {
		int r = svirtio_dev_listen(h->dev[i]);
		if (r < 0) {
			fprintf(stderr, "pvio sim virtio: cannot listen on %s: %s%s\n",
				h->dev[i]->path, strerror(-r),
				r == -EEXIST ? " (a file that is not a socket is "
					       "in the way)" : "");
			goto out;
		}
	}
	if (ctl) {
		int r = svirtio_ctl_listen(h, ctl);
		if (r < 0) {
			fprintf(stderr, "pvio sim virtio: cannot listen on %s: %s\n",
				ctl, strerror(-r));
			goto out;
		}
	}
	for (unsigned i = 0; i < h->ndev; i++) {
		char desc[400];
		describe(h->dev[i], desc, sizeof(desc));
		printf("%s: ready on %s (%s)\n", h->dev[i]->name, h->dev[i]->path,
		       desc);
	}
	if (ctl)
		printf("ctl: ready on %s\n", ctl);
	fflush(stdout);
	int r = sim_loop_run(h->loop);
	if (r < 0) {
		fprintf(stderr, "pvio sim virtio: event loop failed: %s\n",
			strerror(-r));
		goto out;
	}
	sim_log(SIM_LOG_INFO, "shutting down");
	rc = 0;
out:
	host_free(h);
	return rc;
}
