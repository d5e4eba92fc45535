/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/main.c - `pvio sim xen`: command line, the listening socket,
 * the initial xenstore contents (dom0's own nodes), start-up and shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sxen.h"

#define MAX_DEVS 64
#define MAX_QUEUES 16

static void usage(FILE *f)
{
	fprintf(f,
"usage: pvio sim xen --socket PATH [--vbd SPEC]... [--vif SPEC]... [OPTIONS]\n"
"\n"
"A simulated Xen host: a xenstored speaking xenstored's wire protocol,\n"
"grant tables, event channels, and Linux-like blkback and netback back ends.\n"
"Guests connect over the sim hostif (docs/sim-hostif.md); dom0 xenstore\n"
"clients (Debian's xenstore-* tools with XENSTORED_PATH=PATH) use the same\n"
"socket.\n"
"\n"
"  -s, --socket PATH        unix socket to listen on (required)\n"
"      --vbd DEVID=FILE[,OPT...]\n"
"                           a disk served from FILE (image or block device);\n"
"                           DEVID is the vdev number (51712 = xvda) or xvdX.\n"
"                           OPT: ro, cdrom, sector-size=N (512..4096),\n"
"                           queues=N (max queues, 1..16, default 2),\n"
"                           max-ring-order=N (0..4, default 4), no-persistent,\n"
"                           no-indirect, no-discard, no-flush,\n"
"                           closing-delay=MS (Linux blkback's slow Closing)\n"
"      --vif DEVID[,OPT...] a network interface; OPT: mac=xx:xx:xx:xx:xx:xx,\n"
"                           mode=reflect (default: frames return to the\n"
"                           sender) or mode=bridge (frames go to the other\n"
"                           vifs of the same bridge, any domain), bridge=NAME\n"
"                           (implies mode=bridge; default br0), mtu=N,\n"
"                           queues=N (1..16, default 2), no-split (no\n"
"                           feature-split-event-channels), lax-rx-copy\n"
"                           (connect a front end without request-rx-copy, as\n"
"                           Linux >= 3.16 does), link=down\n"
"      --closing-delay MS   default closing-delay for every vbd\n"
"  -v, --verbose            log protocol details\n"
"  -q, --quiet              log only errors\n"
"  -h, --help               this text\n"
"\n"
"When it is ready it prints one line on stdout:\n"
"  pvio-sim-xen ready socket=PATH [vbd=DEVID:FILE]... [vif=DEVID:MAC]...\n"
"and it exits cleanly on SIGTERM or SIGINT.\n"
"\n"
"Control a running host with `pvio sim ctl PATH COMMAND`; DEV is vbd/DEVID\n"
"or vif/DEVID:\n");
	sxen_ctl_help(f);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_devid(const char *s, uint32_t *out)
{
	unsigned long v;
	if (!strncmp(s, "xvd", 3) && s[3] >= 'a' && s[3] <= 'p' && !s[4]) {
		*out = 202u << 8 | (uint32_t)(s[3] - 'a') << 4;
		return 0;
	}
	if (parse_uint(s, 0xFFFFFFFFul, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int bad(const char *what, const char *spec, const char *why)
{
	fprintf(stderr, "pvio sim xen: bad %s '%s': %s; see `pvio sim xen --help`\n",
		what, spec, why);
	return -EINVAL;
}

static int parse_vbd(struct sxen_host *h, const char *spec, uint32_t cdelay)
{
	struct sxen_vbd_cfg *v = &h->vbd[h->nvbd];
	char buf[1024];
	unsigned long n;
	if (strlen(spec) >= sizeof(buf))
		return bad("--vbd", spec, "too long");
	strcpy(buf, spec);
	char *eq = strchr(buf, '=');
	if (!eq)
		return bad("--vbd", spec, "expected DEVID=FILE");
	*eq = 0;
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	if (parse_devid(buf, &v->devid))
		return bad("--vbd", spec, "DEVID must be a number or xvdX");
	char *save = NULL, *path = strtok_r(eq + 1, ",", &save);
	if (!path || !*path)
		return bad("--vbd", spec, "no file");
	v->sector_size = 512;
	v->queues = 2;
	v->max_order = 4;
	v->persistent = v->indirect = v->discard = v->flush = true;
	v->f.closing_delay_ms = cdelay;
	for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "ro"))
			v->ro = true;
		else if (!strcmp(o, "rw"))
			v->ro = false;
		else if (!strcmp(o, "cdrom"))
			v->cdrom = v->ro = true;
		else if (!strcmp(o, "no-persistent"))
			v->persistent = false;
		else if (!strcmp(o, "no-indirect"))
			v->indirect = false;
		else if (!strcmp(o, "no-discard"))
			v->discard = false;
		else if (!strcmp(o, "no-flush"))
			v->flush = false;
		else if (!strncmp(o, "sector-size=", 12)) {
			if (parse_uint(o + 12, 4096, &n) || n < 512 || (n & (n - 1)))
				return bad("--vbd", spec, "sector-size must be 512, 1024, 2048 or 4096");
			v->sector_size = (unsigned)n;
		} else if (!strncmp(o, "queues=", 7)) {
			if (parse_uint(o + 7, MAX_QUEUES, &n) || !n)
				return bad("--vbd", spec, "queues must be 1..16");
			v->queues = (unsigned)n;
		} else if (!strncmp(o, "max-ring-order=", 15)) {
			if (parse_uint(o + 15, 4, &n))
				return bad("--vbd", spec, "max-ring-order must be 0..4");
			v->max_order = (unsigned)n;
		} else if (!strncmp(o, "closing-delay=", 14)) {
			if (parse_uint(o + 14, 600000, &n))
				return bad("--vbd", spec, "closing-delay must be 0..600000 ms");
			v->f.closing_delay_ms = (uint32_t)n;
		} else {
			return bad("--vbd", spec, "unknown option");
		}
	}
	for (unsigned i = 0; i < h->nvbd; i++)
		if (h->vbd[i].devid == v->devid)
			return bad("--vbd", spec, "DEVID used twice");
	v->path = strdup(path);
	v->fd = open(path, (v->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (v->fd < 0) {
		fprintf(stderr,
			"pvio sim xen: cannot open %s: %s; create the image first (e.g. `truncate -s 64M %s`)\n",
			path, strerror(errno), path);
		return -errno;
	}
	struct stat st;
	if (fstat(v->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
		return bad("--vbd", spec, "FILE must be a regular file or a block device");
	v->is_blockdev = S_ISBLK(st.st_mode);
	v->discard_granularity = st.st_blksize > (blksize_t)v->sector_size
					 ? (unsigned)st.st_blksize
					 : v->sector_size;
	h->nvbd++;
	return 0;
}

static int parse_vif(struct sxen_host *h, const char *spec)
{
	struct sxen_vif_cfg *v = &h->vif[h->nvif];
	char buf[512];
	unsigned long n;
	if (strlen(spec) >= sizeof(buf))
		return bad("--vif", spec, "too long");
	strcpy(buf, spec);
	memset(v, 0, sizeof(*v));
	char *save = NULL, *id = strtok_r(buf, ",", &save);
	if (!id || parse_uint(id, 0xFFFFFFFFul, &n))
		return bad("--vif", spec, "DEVID must be a number");
	v->devid = (uint32_t)n;
	v->mac[0] = 0x00;
	v->mac[1] = 0x16;
	v->mac[2] = 0x3e;
	v->mac[3] = 0x5e;
	v->mac[4] = (uint8_t)(v->devid >> 8);
	v->mac[5] = (uint8_t)v->devid;
	v->mtu = 1500;
	v->queues = 2;
	v->split = true;
	v->link = true;
	v->mode = SXEN_VIF_REFLECT;
	snprintf(v->bridge, sizeof(v->bridge), "br0");
	for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strncmp(o, "mac=", 4)) {
			if (sim_parse_mac(o + 4, v->mac))
				return bad("--vif", spec, "mac must be xx:xx:xx:xx:xx:xx");
		} else if (!strcmp(o, "mode=reflect")) {
			v->mode = SXEN_VIF_REFLECT;
		} else if (!strcmp(o, "mode=bridge")) {
			v->mode = SXEN_VIF_BRIDGE;
		} else if (!strncmp(o, "bridge=", 7)) {
			if (!o[7] || strlen(o + 7) >= sizeof(v->bridge))
				return bad("--vif", spec, "bridge name must be 1..15 characters");
			snprintf(v->bridge, sizeof(v->bridge), "%s", o + 7);
			v->mode = SXEN_VIF_BRIDGE;
		} else if (!strncmp(o, "mtu=", 4)) {
			if (parse_uint(o + 4, 65535, &n) || n < 68)
				return bad("--vif", spec, "mtu must be 68..65535");
			v->mtu = (unsigned)n;
			v->mtu_set = true;
		} else if (!strncmp(o, "queues=", 7)) {
			if (parse_uint(o + 7, MAX_QUEUES, &n) || !n)
				return bad("--vif", spec, "queues must be 1..16");
			v->queues = (unsigned)n;
		} else if (!strcmp(o, "no-split")) {
			v->split = false;
		} else if (!strcmp(o, "lax-rx-copy")) {
			v->lax_rx_copy = true;
		} else if (!strcmp(o, "link=down")) {
			v->link = false;
		} else if (!strcmp(o, "link=up")) {
			v->link = true;
		} else {
			return bad("--vif", spec, "unknown option");
		}
	}
	for (unsigned i = 0; i < h->nvif; i++)
		if (h->vif[i].devid == v->devid)
			return bad("--vif", spec, "DEVID used twice");
	h->nvif++;
	return 0;
}

static void run_deferred(struct sim_loop *l, void *arg)
{
	struct sxen_host *h = arg;
	(void)l;
	h->deferred_timer = 0;
	sxen_xs_run_deferred(h->xs);
}

void sxen_kick_deferred(void *arg)
{
	struct sxen_host *h = arg;
	if (!h->deferred_timer)
		h->deferred_timer = sim_loop_timer(h->loop, 0, run_deferred, h);
}

static void on_listen(struct sim_loop *l, int fd, uint32_t events, void *arg)
{
	struct sxen_host *h = arg;
	(void)l;
	(void)events;
	for (int i = 0; i < 16; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				sim_log(SIM_LOG_WARN, "accept on %s: %s", h->path,
					strerror(errno));
			return;
		}
		if (sxen_conn_accept(h, c) < 0)
			close(c);
	}
}

static void initial_store(struct sxen_host *h)
{
	struct sxen_xs_client *t = h->tool;
	sxen_xs_mkdir(t, 0, "/tool/xenstored");
	sxen_xs_mkdir(t, 0, "/local/domain/0");
	sxen_xs_set_perms_str(t, 0, "/local/domain/0", "n0");
	sxen_xs_printf(t, 0, "/local/domain/0/name", "Domain-0");
	sxen_xs_printf(t, 0, "/local/domain/0/domid", "0");
	sxen_xs_mkdir(t, 0, "/local/domain/0/backend");
	sxen_xs_mkdir(t, 0, "/local/domain/0/device");
}

static void cleanup(struct sxen_host *h)
{
	while (h->domains) {
		struct sxen_domain *d = h->domains;
		if (d->conn)
			sxen_conn_close(d->conn, NULL); /* destroys d */
		else
			sxen_domain_destroy(d);
	}
	sxen_conn_free_all(h);
	if (h->lfd >= 0) {
		sim_loop_del(h->loop, h->lfd);
		close(h->lfd);
		unlink(h->path);
	}
	sxen_xs_client_free(h->tool);
	sxen_xs_free(h->xs);
	for (unsigned i = 0; i < h->nvbd; i++) {
		if (h->vbd[i].fd >= 0)
			close(h->vbd[i].fd);
		free(h->vbd[i].path);
	}
	free(h->vbd);
	free(h->vif);
	sim_loop_free(h->loop);
}

int sim_xen_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "vbd", required_argument, NULL, 'b' },
		{ "vif", required_argument, NULL, 'n' },
		{ "closing-delay", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sxen_host host, *h = &host;
	const char *vbds[MAX_DEVS], *vifs[MAX_DEVS];
	unsigned nv = 0, nn = 0;
	unsigned long cdelay = 0;
	int level = SIM_LOG_INFO, c;

	memset(h, 0, sizeof(*h));
	h->lfd = -1;
	h->next_domid = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			h->path = optarg;
			break;
		case 'b':
			if (nv == MAX_DEVS) {
				fprintf(stderr, "pvio sim xen: at most %d --vbd\n", MAX_DEVS);
				return 2;
			}
			vbds[nv++] = optarg;
			break;
		case 'n':
			if (nn == MAX_DEVS) {
				fprintf(stderr, "pvio sim xen: at most %d --vif\n", MAX_DEVS);
				return 2;
			}
			vifs[nn++] = optarg;
			break;
		case 'c':
			if (parse_uint(optarg, 600000, &cdelay)) {
				fprintf(stderr, "pvio sim xen: --closing-delay takes milliseconds (0..600000)\n");
				return 2;
			}
			break;
		case 'v':
			level = SIM_LOG_DEBUG;
			break;
		case 'q':
			level = SIM_LOG_ERROR;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "pvio sim xen: run `pvio sim xen --help` for usage\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pvio sim xen: unexpected argument '%s'; run `pvio sim xen --help`\n",
			argv[optind]);
		return 2;
	}
	if (!h->path) {
		fprintf(stderr, "pvio sim xen: --socket PATH is required; run `pvio sim xen --help`\n");
		return 2;
	}
	sim_log_init("pvio-sim-xen", level);
	h->vbd = calloc(MAX_DEVS, sizeof(*h->vbd));
	h->vif = calloc(MAX_DEVS, sizeof(*h->vif));
	h->loop = sim_loop_new();
	h->xs = sxen_xs_new();
	if (!h->vbd || !h->vif || !h->loop || !h->xs) {
		fprintf(stderr, "pvio sim xen: out of memory\n");
		return 1;
	}
	h->tool = sxen_xs_client_new(h->xs, 0, true, NULL, NULL);
	sxen_xs_set_kick(h->xs, sxen_kick_deferred, h);
	h->closing_delay_ms = (uint32_t)cdelay;
	int rc = 0;
	for (unsigned i = 0; i < nv && !rc; i++)
		rc = parse_vbd(h, vbds[i], (uint32_t)cdelay);
	for (unsigned i = 0; i < nn && !rc; i++)
		rc = parse_vif(h, vifs[i]);
	if (rc) {
		cleanup(h);
		return 2;
	}
	initial_store(h);
	h->lfd = sim_listen_unix(h->path, 64);
	if (h->lfd < 0) {
		fprintf(stderr, "pvio sim xen: cannot listen on %s: %s%s\n", h->path,
			strerror(-h->lfd),
			h->lfd == -EEXIST ? "; the path exists and is not a socket" : "");
		h->lfd = -1;
		cleanup(h);
		return 1;
	}
	fcntl(h->lfd, F_SETFL, fcntl(h->lfd, F_GETFL) | O_NONBLOCK);
	sim_loop_add(h->loop, h->lfd, EPOLLIN, on_listen, h);

	printf("pvio-sim-xen ready socket=%s", h->path);
	for (unsigned i = 0; i < h->nvbd; i++)
		printf(" vbd=%u:%s", h->vbd[i].devid, h->vbd[i].path);
	for (unsigned i = 0; i < h->nvif; i++)
		printf(" vif=%u:%02x:%02x:%02x:%02x:%02x:%02x", h->vif[i].devid,
		       h->vif[i].mac[0], h->vif[i].mac[1], h->vif[i].mac[2],
		       h->vif[i].mac[3], h->vif[i].mac[4], h->vif[i].mac[5]);
	printf("\n");
	fflush(stdout);

	rc = sim_loop_run(h->loop);
	sim_log(SIM_LOG_INFO, "shutting down");
	cleanup(h);
	return rc < 0 ? 1 : 0;
}
