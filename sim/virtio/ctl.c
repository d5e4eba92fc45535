/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/ctl.c - the management socket of the simulated virtio host:
 * sim hostif framing (docs/sim-hostif.md), HELLO with role 1, then
 * SIM_CTL text commands (`pvio sim ctl SOCKET COMMAND...`).
 *
 * The commands inspect the devices and inject faults; `help` lists them
 * (the text below is the reference).  Fault settings stay in force across
 * front-end reconnections until changed.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "virtio/svirtio.h"

struct svirtio_ctl_conn {
	struct svirtio_host *h;
	int fd;
	bool hello;
	struct svirtio_ctl_conn *next;
};

static const char help_text[] =
	"commands (DEV is a device name from `status`, e.g. blk0 or net0):\n"
	"  help                      this text\n"
	"  status                    devices, negotiated features, queues\n"
	"  stats [DEV]               per-queue counters\n"
	"  quit                      stop the simulated host (sockets removed)\n"
	"  delay DEV MS              complete every request MS ms late (0: off)\n"
	"  hang DEV on|off           hold all completions; off releases them\n"
	"  ooo DEV on|off            complete each batch in reverse order\n"
	"                            (ignored while IN_ORDER is negotiated)\n"
	"  ioerr DEV N|on|off        blk: fail the next N requests (on: all)\n"
	"                            with IOERR without doing them\n"
	"  corrupt DEV id|dup|len [N]  corrupt the next N completions (1):\n"
	"                            id: used id = queue size (out of range);\n"
	"                            dup: the id of the previous completion;\n"
	"                            len: used len 64 KiB beyond the buffer\n"
	"  disconnect DEV            close the front-end connection now\n"
	"  link DEV up|down          net: link state (config STATUS and a\n"
	"                            CONFIG_CHANGE message if negotiated)\n"
	"  loglevel error|warn|info|debug\n";

/* ------------------------------------------------------------- output */
struct out {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len >= o->cap)
		o->len = o->cap - 1;   /* truncated */
}

static struct svirtio_dev *find_dev(struct svirtio_host *h, const char *name)
{
	for (unsigned i = 0; i < h->ndev; i++)
		if (!strcmp(h->dev[i]->name, name) ||
		    !strcmp(h->dev[i]->path, name))
			return h->dev[i];
	return NULL;
}

static int on_off(const char *s, bool *v)
{
	if (s && (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "yes"))) {
		*v = true;
		return 0;
	}
	if (s && (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "no"))) {
		*v = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned max, unsigned *v)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long x = strtoul(s, &end, 10);
	if (errno || *end || x > max)
		return -EINVAL;
	*v = (unsigned)x;
	return 0;
}

static void status_dev(struct out *o, struct svirtio_dev *d)
{
	put(o, "%s %s %s: %s", d->name, d->kind == SVIRTIO_BLK ? "blk" : "net",
	    d->path, d->sock >= 0 ? "connected" : "waiting for a front end");
	if (d->kind == SVIRTIO_BLK)
		put(o, ", image %s, %llu sectors%s", d->u.blk.image,
		    (unsigned long long)d->u.blk.sectors,
		    d->u.blk.ro ? ", read-only" : "");
	else
		put(o, ", %s%s, link %s, mtu %u",
		    d->u.net.group ? "switch:" : "reflect",
		    d->u.net.group ? d->u.net.group->name : "",
		    d->u.net.link_up ? "up" : "down", d->u.net.mtu);
	put(o, "\n  features offered 0x%llx acked 0x%llx protocol 0x%llx/0x%llx "
	       "status 0x%x connections %u\n",
	    (unsigned long long)d->features, (unsigned long long)d->acked,
	    (unsigned long long)d->pfeatures, (unsigned long long)d->pf_acked,
	    d->status, d->conn_count);
	if (d->broken_reason[0])
		put(o, "  broken: %s\n", d->broken_reason);
	put(o, "  faults: delay %ums hang %s ooo %s ioerr %s corrupt %u\n",
	    d->f.delay_ms, d->f.hang ? "on" : "off", d->f.ooo ? "on" : "off",
	    d->f.ioerr == ~0u ? "all" : d->f.ioerr ? "some" : "off",
	    d->f.corrupt_count);
	for (unsigned i = 0; i < d->nvqs; i++) {
		struct svirtio_vq *vq = &d->vq[i];
		if (!vq->started && !vq->num)
			continue;
		put(o, "  vq%u %s size %u %s%s%s%s avail %u used %u pending %u\n",
		    i, vq->packed ? "packed" : "split", vq->num,
		    vq->started ? "started" : "stopped",
		    vq->enabled ? " enabled" : " disabled",
		    vq->broken ? " BROKEN" : "", vq->blocked ? " waiting" : "",
		    vq->last_avail, vq->used_idx, vq->pend_count);
	}
}

static void stats_dev(struct out *o, struct svirtio_dev *d)
{
	put(o, "%s\n", d->name);
	if (d->kind == SVIRTIO_NET) {
		const struct svirtio_net *n = &d->u.net;
		put(o, "  net tx_frames %llu tx_bytes %llu rx_frames %llu rx_bytes %llu "
		       "tx_csum %llu drop_link %llu drop_norx %llu drop_bad %llu "
		       "drop_full %llu\n",
		    (unsigned long long)n->tx_frames,
		    (unsigned long long)n->tx_bytes,
		    (unsigned long long)n->rx_frames,
		    (unsigned long long)n->rx_bytes,
		    (unsigned long long)n->tx_csum,
		    (unsigned long long)n->drop_link,
		    (unsigned long long)n->drop_norx,
		    (unsigned long long)n->drop_bad,
		    (unsigned long long)n->drop_full);
	}
	for (unsigned i = 0; i < d->nvqs; i++) {
		const struct svirtio_vq_stats *s = &d->vq[i].st;
		if (!s->kicks && !s->bufs && !d->vq[i].started)
			continue;
		put(o, "  vq%u kicks %llu bufs %llu used %llu calls %llu "
		       "calls_suppressed %llu kick_enables %llu bytes %llu "
		       "errors %llu drops %llu delayed %llu reordered %llu "
		       "corrupted %llu pending %u\n",
		    i, (unsigned long long)s->kicks, (unsigned long long)s->bufs,
		    (unsigned long long)s->used, (unsigned long long)s->calls,
		    (unsigned long long)s->calls_suppressed,
		    (unsigned long long)s->kick_enables,
		    (unsigned long long)s->bytes, (unsigned long long)s->errors,
		    (unsigned long long)s->drops, (unsigned long long)s->delayed,
		    (unsigned long long)s->reordered,
		    (unsigned long long)s->corrupted, d->vq[i].pend_count);
	}
}

static void release(struct svirtio_dev *d)
{
	for (unsigned i = 0; i < d->nvqs; i++)
		svirtio_complete_ready(&d->vq[i]);
}

int svirtio_ctl_exec(struct svirtio_host *h, char *cmd, char *outbuf,
		     size_t outlen)
{
	struct out o = { outbuf, 0, outlen };
	char *save = NULL;
	char *argv[6] = { 0 };
	int argc = 0;
	struct svirtio_dev *d = NULL;
	bool b;
	unsigned v;

	outbuf[0] = 0;
	for (char *t = strtok_r(cmd, " \t\n", &save); t && argc < 6;
	     t = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = t;
	if (!argc || !strcmp(argv[0], "help")) {
		put(&o, "%s", help_text);
		return 0;
	}
	if (!strcmp(argv[0], "status")) {
		for (unsigned i = 0; i < h->ndev; i++)
			status_dev(&o, h->dev[i]);
		return 0;
	}
	if (!strcmp(argv[0], "quit")) {
		h->quit = true;
		sim_loop_stop(h->loop);
		put(&o, "stopping\n");
		return 0;
	}
	if (!strcmp(argv[0], "loglevel")) {
		static const char *const lv[] = { "error", "warn", "info", "debug" };
		for (int i = 0; i < 4; i++)
			if (argv[1] && !strcmp(argv[1], lv[i])) {
				sim_log_init("pvio-sim-virtio", i);
				put(&o, "ok\n");
				return 0;
			}
		put(&o, "usage: loglevel error|warn|info|debug\n");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "stats") && argc == 1) {
		for (unsigned i = 0; i < h->ndev; i++)
			stats_dev(&o, h->dev[i]);
		return 0;
	}
	static const char *const with_dev[] = { "stats", "delay", "hang",
						"ooo", "ioerr", "corrupt",
						"disconnect", "link" };
	bool known = false;
	for (size_t i = 0; i < sizeof(with_dev) / sizeof(with_dev[0]); i++)
		known |= !strcmp(argv[0], with_dev[i]);
	if (!known) {
		put(&o, "unknown command '%s'; try help\n", argv[0]);
		return -EINVAL;
	}
	if (argc < 2 || !(d = find_dev(h, argv[1]))) {
		put(&o, "%s: no device '%s'; devices:", argv[0],
		    argc < 2 ? "" : argv[1]);
		for (unsigned i = 0; i < h->ndev; i++)
			put(&o, " %s", h->dev[i]->name);
		put(&o, "\n");
		return -ENOENT;
	}
	const char *a = argv[2];
	if (!strcmp(argv[0], "stats")) {
		stats_dev(&o, d);
		return 0;
	}
	if (!strcmp(argv[0], "delay")) {
		if (parse_uint(a, 600000, &v) < 0)
			goto usage;
		d->f.delay_ms = v;
	} else if (!strcmp(argv[0], "hang")) {
		if (on_off(a, &b) < 0)
			goto usage;
		d->f.hang = b;
		if (!b)
			release(d);
	} else if (!strcmp(argv[0], "ooo")) {
		if (on_off(a, &b) < 0)
			goto usage;
		d->f.ooo = b;
	} else if (!strcmp(argv[0], "ioerr")) {
		if (d->kind != SVIRTIO_BLK) {
			put(&o, "ioerr: %s is not a block device\n", d->name);
			return -EINVAL;
		}
		if (a && !strcmp(a, "on"))
			d->f.ioerr = ~0u;
		else if (a && !strcmp(a, "off"))
			d->f.ioerr = 0;
		else if (parse_uint(a, UINT_MAX - 1, &v) == 0)
			d->f.ioerr = v;
		else
			goto usage;
	} else if (!strcmp(argv[0], "corrupt")) {
		enum svirtio_corrupt c;
		v = 1;
		if (a && !strcmp(a, "id"))
			c = SVIRTIO_CORRUPT_ID;
		else if (a && !strcmp(a, "dup"))
			c = SVIRTIO_CORRUPT_DUP;
		else if (a && !strcmp(a, "len"))
			c = SVIRTIO_CORRUPT_LEN;
		else
			goto usage;
		if (argv[3] && parse_uint(argv[3], 1000000, &v) < 0)
			goto usage;
		d->f.corrupt = v ? c : SVIRTIO_CORRUPT_NONE;
		d->f.corrupt_count = v;
	} else if (!strcmp(argv[0], "disconnect")) {
		if (d->sock < 0) {
			put(&o, "%s has no front end connected\n", d->name);
			return -ENOTCONN;
		}
		svirtio_dev_disconnect(d, "disconnected by the management socket");
	} else if (!strcmp(argv[0], "link")) {
		if (d->kind != SVIRTIO_NET) {
			put(&o, "link: %s is not a network device\n", d->name);
			return -EINVAL;
		}
		if (a && !strcmp(a, "up"))
			svirtio_net_set_link(d, true);
		else if (a && !strcmp(a, "down"))
			svirtio_net_set_link(d, false);
		else
			goto usage;
	}
	sim_log(SIM_LOG_INFO, "%s: ctl: %s %s%s%s", d->name, argv[0],
		a ? a : "", argv[3] ? " " : "", argv[3] ? argv[3] : "");
	put(&o, "ok\n");
	return 0;
usage:
	put(&o, "bad arguments for '%s'; try help\n", argv[0]);
	return -EINVAL;
}

/* ------------------------------------------------------------ sockets */
static void conn_close(struct svirtio_ctl_conn *c)
{
	struct svirtio_host *h = c->h;
	sim_loop_del(h->loop, c->fd);
	close(c->fd);
	for (struct svirtio_ctl_conn **p = &h->ctl_conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c);
}

static void on_ctl_msg(struct sim_loop *loop, int fd, uint32_t events,
		       void *arg)
{
	struct svirtio_ctl_conn *c = arg;
	struct sim_hostif_msg *m = malloc(sizeof(*m));
	char *out = malloc(SIM_HOSTIF_MAX_PAYLOAD);
	const char *why = NULL;
	(void)loop;
	(void)events;

	if (!m || !out) {
		why = "out of memory";
		goto close;
	}
	int r = sim_hostif_recv(fd, m);
	sim_hostif_msg_close_fds(m);
	if (r == 0) {
		conn_close(c);
		goto done;
	}
	if (r < 0) {
		why = r == -EPROTO ? "malformed message" : strerror(-r);
		goto close;
	}
	if (m->hdr.flags & SIM_HOSTIF_F_REPLY) {
		why = "a reply where a request was expected";
		goto close;
	}
	if (m->hdr.type == SIM_HOSTIF_HELLO) {
		uint32_t ver = 0, role = 0, domain = 0;
		if (m->hdr.len < 8) {
			why = "short HELLO";
			goto close;
		}
		memcpy(&ver, m->payload, 4);
		memcpy(&role, m->payload + 4, 4);
		if (c->hello || ver != 1 || role != 1) {
			sim_hostif_reply(fd, &m->hdr,
					 c->hello ? -EALREADY
						  : ver != 1 ? -EPROTONOSUPPORT
							     : -EPERM,
					 NULL, 0, NULL, 0);
			why = c->hello ? "a second HELLO"
			      : ver != 1 ? "HELLO with an unknown version"
					 : "HELLO with a role other than "
					   "management (guests use the "
					   "vhost-user sockets)";
			goto close;
		}
		c->hello = true;
		sim_hostif_reply(fd, &m->hdr, 0, &domain, sizeof(domain), NULL, 0);
		goto done;
	}
	if (!c->hello) {
		why = "a request before HELLO";
		goto close;
	}
	if (m->hdr.type != SIM_HOSTIF_SIM_CTL) {
		why = "a message type this host does not serve";
		goto close;
	}
	size_t len = m->hdr.len < SIM_HOSTIF_MAX_PAYLOAD ? m->hdr.len
							 : SIM_HOSTIF_MAX_PAYLOAD - 1;
	m->payload[len] = 0;   /* a command need not be NUL-terminated */
	int st = svirtio_ctl_exec(c->h, (char *)m->payload, out,
				  SIM_HOSTIF_MAX_PAYLOAD - 4);
	sim_hostif_reply(fd, &m->hdr, st, out, strlen(out) + 1, NULL, 0);
	goto done;
close:
	sim_log(SIM_LOG_WARN, "ctl: closing a management connection: %s",
		why);
	conn_close(c);
done:
	free(m);
	free(out);
}

static void on_ctl_accept(struct sim_loop *loop, int fd, uint32_t events,
			  void *arg)
{
	struct svirtio_host *h = arg;
	(void)events;
	int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return;
	struct svirtio_ctl_conn *c = calloc(1, sizeof(*c));
	struct timeval tv = { 2, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!c || sim_loop_add(loop, s, EPOLLIN, on_ctl_msg, c) < 0) {
		free(c);
		close(s);
		return;
	}
	c->h = h;
	c->fd = s;
	c->next = h->ctl_conns;
	h->ctl_conns = c;
}

int svirtio_ctl_listen(struct svirtio_host *h, const char *path)
{
	struct stat st;
	int fd = sim_listen_unix(path, 8);
	if (fd < 0)
		return fd;
	snprintf(h->ctl_path, sizeof(h->ctl_path), "%s", path);
	if (stat(path, &st) == 0) {
		h->ctl_dev = st.st_dev;
		h->ctl_ino = st.st_ino;
	}
	int r = sim_loop_add(h->loop, fd, EPOLLIN, on_ctl_accept, h);
	if (r < 0) {
		close(fd);
		unlink(path);
		return r;
	}
	h->ctl_fd = fd;
	return 0;
}

void svirtio_ctl_close(struct svirtio_host *h)
{
	struct stat st;
	while (h->ctl_conns)
		conn_close(h->ctl_conns);
	if (h->ctl_fd < 0)
		return;
	sim_loop_del(h->loop, h->ctl_fd);
	close(h->ctl_fd);
	h->ctl_fd = -1;
	if (stat(h->ctl_path, &st) == 0 && st.st_dev == h->ctl_dev &&
	    st.st_ino == h->ctl_ino)
		unlink(h->ctl_path);
}
