/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/conn.c - connections to the simulated Xen host.
 *
 * One unix socket serves two protocols, told apart by the first four
 * bytes a client sends (docs/sim-hostif.md): "PVIO" starts a sim hostif
 * connection (a guest domain, or a management client for SIM_CTL);
 * anything else is a dom0 xenstore client speaking xenstored's wire
 * protocol (Debian's xenstore-* tools).  Both are framed as a 16-byte
 * header whose last field is the payload length, at most 4096.
 *
 * Everything is non-blocking: input is reassembled piece by piece (a guest
 * that sends half a message stalls only itself), descriptors passed with
 * SCM_RIGHTS belong to the message whose bytes they came with, and output
 * that the peer does not read yet is queued.  A connection is never freed
 * while one of its own callbacks runs, and a failed send only marks it
 * broken: it is closed from its next event, so the store's watch loop
 * never sees a client disappear under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sxen.h"

#define OUT_MAX (16u << 20)

enum { KIND_NEW, KIND_HOSTIF, KIND_XS };

struct outbuf {
	struct outbuf *next;
	size_t len, off;
	int fds[SIM_HOSTIF_MAX_FDS];
	int nfds;
	uint8_t data[];
};

struct sxen_conn {
	struct sxen_host *h;
	int fd;
	int kind;
	bool dead, broken, in_cb, out_armed;
	char desc[64];
	/* input */
	uint8_t hdr[16];
	uint32_t hgot;
	uint8_t payload[SIM_HOSTIF_MAX_PAYLOAD];
	uint32_t pgot;
	int fds[SIM_HOSTIF_MAX_FDS];
	int nfds;
	/* output */
	struct outbuf *out, *out_tail;
	size_t out_bytes;
	/* hostif */
	bool hello;
	uint32_t role;
	struct sxen_domain *dom;
	/* xenstore */
	struct sxen_xs_client *xs;
	struct sxen_domain *xsdom;
	struct sxen_conn *next;
};

static void on_io(struct sim_loop *l, int fd, uint32_t events, void *arg);

static void conn_free(struct sxen_conn *c)
{
	while (c->out) {
		struct outbuf *o = c->out;
		c->out = o->next;
		for (int i = 0; i < o->nfds; i++)
			close(o->fds[i]);
		free(o);
	}
	for (int i = 0; i < c->nfds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	free(c);
}

static void unlink_conn(struct sxen_conn *c)
{
	for (struct sxen_conn **p = &c->h->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			return;
		}
}

void sxen_conn_close(struct sxen_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	if (why)
		sim_log(SIM_LOG_WARN, "%s: %s; disconnected", c->desc, why);
	else
		sim_log(SIM_LOG_DEBUG, "%s: closed", c->desc);
	sim_loop_del(c->h->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->xs) {
		sxen_xs_client_free(c->xs);
		c->xs = NULL;
	}
	if (c->xsdom) {
		c->xsdom->nxs--;
		c->xsdom = NULL;
	}
	if (c->dom) {
		struct sxen_domain *d = c->dom;
		c->dom = NULL;
		d->conn = NULL;
		sxen_domain_destroy(d);
	}
	unlink_conn(c);
	if (!c->in_cb)
		conn_free(c);
}

void sxen_conn_close_domain_xs(struct sxen_host *h, struct sxen_domain *d)
{
	for (struct sxen_conn *c = h->conns, *n; c; c = n) {
		n = c->next;
		if (c->xsdom == d)
			sxen_conn_close(c, NULL);
	}
}

void sxen_conn_free_all(struct sxen_host *h)
{
	while (h->conns)
		sxen_conn_close(h->conns, NULL);
}

static void mark_broken(struct sxen_conn *c, const char *why)
{
	if (c->broken || c->dead)
		return;
	c->broken = true;
	sim_log(SIM_LOG_DEBUG, "%s: %s", c->desc, why);
	/* the next event (EPOLLOUT fires at once) closes it */
	sim_loop_mod(c->h->loop, c->fd, EPOLLIN | EPOLLOUT);
}

static void arm_out(struct sxen_conn *c, bool on)
{
	if (c->out_armed == on || c->dead)
		return;
	c->out_armed = on;
	sim_loop_mod(c->h->loop, c->fd, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static ssize_t send_some(struct sxen_conn *c, const uint8_t *p, size_t len,
			 const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_HOSTIF_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
}

static void flush_out(struct sxen_conn *c)
{
	while (c->out && !c->broken) {
		struct outbuf *o = c->out;
		ssize_t n = send_some(c, o->data + o->off, o->len - o->off,
				      o->nfds ? o->fds : NULL, o->nfds);
		if (n < 0) {
			mark_broken(c, strerror((int)-n));
			return;
		}
		if (n > 0 && o->nfds) {
			for (int i = 0; i < o->nfds; i++)
				close(o->fds[i]);
			o->nfds = 0;
		}
		o->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (o->off < o->len)
			break;
		c->out = o->next;
		if (!c->out)
			c->out_tail = NULL;
		free(o);
	}
	arm_out(c, c->out != NULL);
}

static int conn_send(struct sxen_conn *c, const void *buf, size_t len,
		     const int *fds, int nfds)
{
	size_t done = 0;
	if (c->dead || c->broken)
		return -EPIPE;
	if (!c->out) {
		ssize_t n = send_some(c, buf, len, fds, nfds);
		if (n < 0) {
			mark_broken(c, strerror((int)-n));
			return (int)n;
		}
		done = (size_t)n;
		if (done == len)
			return 0;
		if (done > 0)
			nfds = 0; /* they went with the first byte */
	}
	if (c->out_bytes + len - done > OUT_MAX) {
		mark_broken(c, "the peer does not read its replies");
		return -ENOBUFS;
	}
	struct outbuf *o = malloc(sizeof(*o) + len - done);
	if (!o) {
		mark_broken(c, "out of memory");
		return -ENOMEM;
	}
	o->next = NULL;
	o->len = len - done;
	o->off = 0;
	o->nfds = 0;
	for (int i = 0; i < nfds; i++) {
		int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (d >= 0)
			o->fds[o->nfds++] = d;
	}
	memcpy(o->data, (const uint8_t *)buf + done, len - done);
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out = o;
	c->out_tail = o;
	c->out_bytes += o->len;
	arm_out(c, true);
	return 0;
}

int sxen_conn_reply(struct sxen_conn *c, const struct sim_hostif_hdr *req,
		    int32_t status, const void *extra, size_t len,
		    const int *fds, int nfds)
{
	uint8_t buf[sizeof(struct sim_hostif_hdr) + SIM_HOSTIF_MAX_PAYLOAD];
	if (len > SIM_HOSTIF_MAX_PAYLOAD - 4)
		return -EINVAL;
	struct sim_hostif_hdr h = {
		.magic = SIM_HOSTIF_MAGIC,
		.type = req->type,
		.flags = SIM_HOSTIF_F_REPLY,
		.seq = req->seq,
		.len = (uint32_t)(4 + len),
	};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &status, 4);
	if (len)
		memcpy(buf + sizeof(h) + 4, extra, len);
	return conn_send(c, buf, sizeof(h) + 4 + len, fds, nfds);
}

static void xs_sink_send(void *arg, uint32_t type, uint32_t req_id,
			 uint32_t tx_id, const void *p, uint32_t len)
{
	struct sxen_conn *c = arg;
	uint8_t buf[sizeof(struct sxen_xs_hdr) + SXEN_XS_PAYLOAD_MAX];
	struct sxen_xs_hdr h = { type, req_id, tx_id, len };
	if (len > SXEN_XS_PAYLOAD_MAX)
		return;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), p, len);
	conn_send(c, buf, sizeof(h) + len, NULL, 0);
}

static const struct sxen_xs_sink xs_sink = { xs_sink_send, NULL };

static struct sxen_conn *conn_new(struct sxen_host *h, int fd, int kind)
{
	struct sxen_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->h = h;
	c->fd = fd;
	c->kind = kind;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (sim_loop_add(h->loop, fd, EPOLLIN, on_io, c) < 0) {
		free(c);
		return NULL;
	}
	c->next = h->conns;
	h->conns = c;
	return c;
}

int sxen_conn_accept(struct sxen_host *h, int fd)
{
	static unsigned serial;
	struct sxen_conn *c = conn_new(h, fd, KIND_NEW);
	if (!c)
		return -ENOMEM;
	snprintf(c->desc, sizeof(c->desc), "connection #%u", ++serial);
	return 0;
}

struct sxen_conn *sxen_conn_new_xs(struct sxen_host *h, int fd,
				   struct sxen_domain *d)
{
	struct sxen_conn *c = conn_new(h, fd, KIND_XS);
	if (!c)
		return NULL;
	c->xs = sxen_xs_client_new(h->xs, d->domid, false, &xs_sink, c);
	if (!c->xs) {
		sxen_conn_close(c, NULL);
		return NULL;
	}
	c->xsdom = d;
	d->nxs++;
	snprintf(c->desc, sizeof(c->desc), "dom%u xenstore connection",
		 d->domid);
	return c;
}

/* ---------------------------------------------------------------- input */

static void take_fds(struct sxen_conn *c, const int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (c->kind != KIND_XS && c->nfds < SIM_HOSTIF_MAX_FDS)
			c->fds[c->nfds++] = fds[i];
		else
			close(fds[i]);
	}
}

static void drop_fds(struct sxen_conn *c)
{
	for (int i = 0; i < c->nfds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->nfds = 0;
}

/* Read at most len bytes: >0 bytes, 0 would block, -1 EOF/error (closed). */
static ssize_t read_some(struct sxen_conn *c, uint8_t *p, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do {
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		sxen_conn_close(c, strerror(errno));
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int got[8];
		int cnt = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (cnt > 8)
			cnt = 8;
		memcpy(got, CMSG_DATA(cm), sizeof(int) * (size_t)cnt);
		take_fds(c, got, cnt);
	}
	if (n == 0) {
		if (c->hgot || c->pgot)
			sxen_conn_close(c, "connection closed in the middle of a message");
		else
			sxen_conn_close(c, NULL);
		return -1;
	}
	return n;
}

static void hostif_message(struct sxen_conn *c)
{
	struct sim_hostif_hdr h;
	memcpy(&h, c->hdr, sizeof(h));
	const uint8_t *p = c->payload;
	struct sxen_host *host = c->h;

	if (h.flags & (SIM_HOSTIF_F_REPLY | SIM_HOSTIF_F_UNSOLICITED)) {
		sxen_conn_close(c, "sent a message flagged as a reply");
		return;
	}
	if (!c->hello && h.type != SIM_HOSTIF_HELLO) {
		sxen_conn_close(c, "first message is not HELLO");
		return;
	}
	switch (h.type) {
	case SIM_HOSTIF_HELLO: {
		uint32_t ver, role;
		char name[33];
		if (h.len < 40) {
			sxen_conn_close(c, "short HELLO");
			return;
		}
		if (c->hello) {
			sxen_conn_reply(c, &h, -EISCONN, NULL, 0, NULL, 0);
			return;
		}
		memcpy(&ver, p, 4);
		memcpy(&role, p + 4, 4);
		memcpy(name, p + 8, 32);
		name[32] = 0;
		for (char *s = name; *s; s++)
			if (*s < 0x20 || *s > 0x7e)
				*s = '?';
		if (ver != 1) {
			sxen_conn_reply(c, &h, -EPROTONOSUPPORT, NULL, 0, NULL, 0);
			return;
		}
		if (role > 1) {
			sxen_conn_reply(c, &h, -EINVAL, NULL, 0, NULL, 0);
			return;
		}
		uint32_t dom = 0;
		if (role == 0) {
			struct sxen_domain *d = sxen_domain_create(host, c, name);
			if (!d) {
				sxen_conn_reply(c, &h, -ENOSPC, NULL, 0, NULL, 0);
				return;
			}
			c->dom = d;
			dom = d->domid;
			snprintf(c->desc, sizeof(c->desc), "dom%u (%s)", dom,
				 name[0] ? name : "unnamed");
			sim_log(SIM_LOG_INFO, "guest '%s' connected as domain %u",
				name, dom);
		} else {
			snprintf(c->desc, sizeof(c->desc), "management client %s",
				 name);
		}
		c->hello = true;
		c->role = role;
		sxen_conn_reply(c, &h, 0, &dom, 4, NULL, 0);
		return;
	}
	case SIM_HOSTIF_SIM_CTL: {
		char out[SIM_HOSTIF_MAX_PAYLOAD - 8];
		int status = 0;
		if (c->role != 1) {
			sxen_conn_reply(c, &h, -EPERM, NULL, 0, NULL, 0);
			return;
		}
		if (!h.len || !memchr(p, 0, h.len)) {
			sxen_conn_close(c, "SIM_CTL without a NUL-terminated command");
			return;
		}
		out[0] = 0;
		sxen_ctl(host, (const char *)p, out, sizeof(out), &status);
		sxen_conn_reply(c, &h, status, out, strlen(out) + 1, NULL, 0);
		return;
	}
	case SIM_HOSTIF_SET_MEMORY:
	case SXEN_HOSTIF_XS_CONNECT:
	case SXEN_HOSTIF_GNTTAB_SETUP:
	case SXEN_HOSTIF_EVTCHN_ALLOC_UNBOUND:
	case SXEN_HOSTIF_EVTCHN_CLOSE:
	case SXEN_HOSTIF_DEVICE_ATTACH:
	case SXEN_HOSTIF_DEVICE_DETACH:
		if (c->role != 0 || !c->dom) {
			sxen_conn_reply(c, &h, -EPERM, NULL, 0, NULL, 0);
			return;
		}
		if (sxen_domain_request(c->dom, c, &h, p, c->fds, c->nfds) < 0)
			sxen_conn_close(c, "sent a malformed request");
		return;
	default: {
		char why[64];
		snprintf(why, sizeof(why), "sent unknown message type %u", h.type);
		sxen_conn_close(c, why);
		return;
	}
	}
}

static void message(struct sxen_conn *c)
{
	if (c->kind == KIND_HOSTIF) {
		hostif_message(c);
	} else {
		struct sxen_xs_hdr h;
		memcpy(&h, c->hdr, sizeof(h));
		sxen_xs_handle(c->xs, &h, c->payload);
	}
	if (!c->dead)
		drop_fds(c);
	c->hgot = c->pgot = 0;
}

static void classify(struct sxen_conn *c)
{
	uint32_t magic;
	memcpy(&magic, c->hdr, 4);
	if (magic == SIM_HOSTIF_MAGIC) {
		c->kind = KIND_HOSTIF;
		return;
	}
	c->kind = KIND_XS;
	drop_fds(c);
	c->xs = sxen_xs_client_new(c->h->xs, 0, true, &xs_sink, c);
	if (!c->xs)
		sxen_conn_close(c, "out of memory");
	else
		snprintf(c->desc + strlen(c->desc),
			 sizeof(c->desc) - strlen(c->desc), " (dom0 xenstore)");
}

static void on_input(struct sxen_conn *c)
{
	for (int rounds = 0; rounds < 64 && !c->dead && !c->broken; rounds++) {
		ssize_t n;
		if (c->hgot < 16) {
			uint32_t want = c->kind == KIND_NEW ? 4 - c->hgot
							    : 16 - c->hgot;
			n = read_some(c, c->hdr + c->hgot, want);
			if (n <= 0)
				return;
			c->hgot += (uint32_t)n;
			if (c->kind == KIND_NEW && c->hgot == 4) {
				classify(c);
				if (c->dead)
					return;
			}
			if (c->hgot < 16)
				continue;
			uint32_t len;
			memcpy(&len, c->hdr + 12, 4);
			if (c->kind == KIND_HOSTIF) {
				uint32_t magic;
				memcpy(&magic, c->hdr, 4);
				if (magic != SIM_HOSTIF_MAGIC) {
					sxen_conn_close(c, "bad magic");
					return;
				}
			}
			if (len > SIM_HOSTIF_MAX_PAYLOAD) {
				sxen_conn_close(c, "payload longer than 4096 bytes");
				return;
			}
		}
		uint32_t len;
		memcpy(&len, c->hdr + 12, 4);
		if (c->pgot < len) {
			n = read_some(c, c->payload + c->pgot, len - c->pgot);
			if (n <= 0)
				return;
			c->pgot += (uint32_t)n;
			if (c->pgot < len)
				continue;
		}
		message(c);
	}
}

static void on_io(struct sim_loop *l, int fd, uint32_t events, void *arg)
{
	struct sxen_conn *c = arg;
	(void)l;
	(void)fd;
	c->in_cb = true;
	if (c->broken) {
		sxen_conn_close(c, NULL);
	} else {
		if (events & EPOLLOUT)
			flush_out(c);
		if (!c->dead && !c->broken &&
		    (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			on_input(c);
		if (c->broken && !c->dead)
			sxen_conn_close(c, NULL);
	}
	c->in_cb = false;
	if (c->dead)
		conn_free(c);
}
