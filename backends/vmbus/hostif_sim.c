/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/hostif_sim.c - reaching pvio's simulated Hyper-V host
 * (docs/sim-hostif.md): a unix socket for the hypercall-level path
 * (HELLO, SET_MEMORY, POST_MESSAGE = HvPostMessage, SYNIC_MESSAGE = the
 * SINT 2 message slot, CHANNEL_EVENTS) and two eventfds per channel
 * (signal = HvSignalEvent, interrupt = the channel's event flag).
 *
 * The VMBus protocol itself is conn.c's; this file only moves messages.
 * Host messages that arrive while a request waits for its reply are queued
 * (bounded) and handed to conn.c in order.  Everything the host sends is
 * checked for framing before it is used; a host that breaks the framing
 * loses the connection, which marks every channel gone.
 */
#include "conn.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HIF_MAGIC 0x4F495650u
#define HIF_MAX_PAYLOAD 4096u
#define HIF_F_REPLY 1u
#define HIF_F_UNSOLICITED 2u
enum {
	HIF_HELLO = 1,
	HIF_SET_MEMORY = 2,
	HIF_POST_MESSAGE = 32,
	HIF_SYNIC_MESSAGE = 33,
	HIF_CHANNEL_EVENTS = 34,
};

struct hif_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
} VMBUS_PACKED;
_Static_assert(sizeof(struct hif_hdr) == 16, "hostif header");

struct hif_post {           /* POST_MESSAGE and SYNIC_MESSAGE payload */
	uint32_t conn_or_sint;
	uint32_t message_type;
	uint32_t payload_size;
	uint32_t pad;
	uint8_t payload[VMBUS_MSG_MAX];
} VMBUS_PACKED;

#define QMAX 256u

struct hsim {
	struct vmbus_hostif h;
	struct vmbus_conn conn;
	int sock;
	uint32_t seq;
	uint32_t domain;
	struct {
		uint32_t len;
		uint8_t m[VMBUS_MSG_MAX];
	} q[QMAX];
	unsigned qh, qt;
};

struct hsim_chan {
	int sig_fd;
	int irq_fd;
};

static struct hsim *H(struct vmbus_hostif *h)
{
	return (struct hsim *)h;
}

/* ---------------------------------------------------------------- socket */

/* Wait for fd readable until deadline: 1, 0 (deadline), -errno. */
static int wait_fd(int fd, int fd2, uint64_t deadline, pvio_ctx *ctx,
		   int *which)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			       { .fd = fd2, .events = POLLIN } };
	for (;;) {
		uint64_t now = pvio_now_ns(ctx);
		int ms = 0;
		if (deadline > now) {
			uint64_t d = (deadline - now + 999999) / 1000000;
			ms = d > 60000 ? 60000 : (int)d;
		}
		int r = poll(p, fd2 >= 0 ? 2 : 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			if (pvio_now_ns(ctx) >= deadline)
				return 0;
			continue;
		}
		if (which)
			*which = p[0].revents ? 0 : 1;
		return 1;
	}
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Read exactly len bytes (bounded by the context timeout), collecting
 * passed descriptors into fds. */
static int read_full(struct hsim *s, void *buf, size_t len, int *fds,
		     int *nfds)
{
	uint64_t deadline = pvio_deadline(s->h.ctx);
	size_t got = 0;
	while (got < len) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(s->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(s->sock, -1, deadline, s->h.ctx, NULL);
			if (r < 0)
				return r;
			if (r == 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int tmp[4];
			if (cnt > 4)
				cnt = 4;
			memcpy(tmp, CMSG_DATA(c), (size_t)cnt * sizeof(int));
			for (int i = 0; i < cnt; i++) {
				if (fds && *nfds < 4)
					fds[(*nfds)++] = tmp[i];
				else
					close(tmp[i]);
			}
		}
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int send_msg(struct hsim *s, uint16_t type, uint32_t seq,
		    const void *payload, uint32_t len, int fd)
{
	uint8_t buf[sizeof(struct hif_hdr) + 512];
	struct hif_hdr h = { PVIO_LE32(HIF_MAGIC), PVIO_LE16(type), 0,
			     PVIO_LE32(seq), PVIO_LE32(len) };
	if (len > sizeof(buf) - sizeof(h))
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(h) + len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(s->sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if ((size_t)n != iov.iov_len)
			return -EPROTO; /* a stream socket this small never splits */
		return 0;
	}
}

static void lose(struct hsim *s, const char *why, int err)
{
	if (s->h.lost)
		return;
	s->h.lost = 1;
	s->conn.lost = 1;
	pvio_log(s->h.ctx, PVIO_LOG_WARN, "sim-hyperv: connection to the host "
		 "lost: %s (%s)", why, pvio_strerror(err));
	for (unsigned i = 0; i < VMBUS_CONN_MAX_CHANS; i++)
		if (s->conn.chans[i])
			__atomic_store_n(&s->conn.chans[i]->gone, 1,
					 __ATOMIC_RELEASE);
}

/*
 * Read one message from the socket.  SYNIC_MESSAGEs are queued; a reply is
 * returned in *hdr/payload (with fds) when want_reply.  1: got the reply,
 * 0: queued an unsolicited message, -errno.
 */
static int read_one(struct hsim *s, struct hif_hdr *hdr, uint8_t *payload,
		    int *fds, int *nfds)
{
	struct hif_hdr h;
	int lfds[4];
	int ln = 0;
	int r = read_full(s, &h, sizeof(h), lfds, &ln);
	if (r < 0)
		goto fail;
	uint32_t magic = PVIO_LE32(h.magic), len = PVIO_LE32(h.len);
	uint16_t type = PVIO_LE16(h.type), flags = PVIO_LE16(h.flags);
	if (magic != HIF_MAGIC || len > HIF_MAX_PAYLOAD) {
		r = -EPROTO;
		goto fail;
	}
	uint8_t tmp[HIF_MAX_PAYLOAD];
	if (len) {
		r = read_full(s, tmp, len, lfds, &ln);
		if (r < 0)
			goto fail;
	}
	if (type == HIF_SYNIC_MESSAGE && (flags & HIF_F_UNSOLICITED) &&
	    !(flags & HIF_F_REPLY)) {
		close_fds(lfds, ln);
		struct hif_post p;
		if (len < 16) {
			r = -EPROTO;
			goto fail_nofds;
		}
		memset(&p, 0, sizeof(p));
		memcpy(&p, tmp, len < sizeof(p) ? len : sizeof(p));
		uint32_t psz = PVIO_LE32(p.payload_size);
		if (psz > VMBUS_MSG_MAX || 16 + psz > len) {
			r = -EPROTO;
			goto fail_nofds;
		}
		if (s->qt - s->qh >= QMAX) {
			r = -ENOBUFS;
			goto fail_nofds;
		}
		unsigned i = s->qt++ % QMAX;
		s->q[i].len = psz;
		memcpy(s->q[i].m, p.payload, psz);
		return 0;
	}
	if (!(flags & HIF_F_REPLY) || !hdr) {
		close_fds(lfds, ln);
		r = -EPROTO;
		goto fail_nofds;
	}
	*hdr = (struct hif_hdr){ magic, type, flags, PVIO_LE32(h.seq), len };
	memcpy(payload, tmp, len);
	for (int i = 0; i < ln; i++) {
		if (fds && *nfds < 4)
			fds[(*nfds)++] = lfds[i];
		else
			close(lfds[i]);
	}
	return 1;
fail:
	close_fds(lfds, ln);
fail_nofds:
	lose(s, r == -EPROTO ? "malformed message" :
		r == -ENOBUFS ? "more than 256 queued SynIC messages" :
		"read failed", r);
	return r;
}

/* One request/reply.  reply (4096 bytes) gets the payload after status. */
static int request(struct hsim *s, uint16_t type, const void *payload,
		   uint32_t len, int fd, int32_t *status, uint8_t *reply,
		   uint32_t *reply_len, int *fds, int *nfds)
{
	if (s->h.lost)
		return -ENOTCONN;
	uint32_t seq = ++s->seq;
	int r = send_msg(s, type, seq, payload, len, fd);
	if (r < 0) {
		lose(s, "send failed", r);
		return r;
	}
	uint8_t buf[HIF_MAX_PAYLOAD];
	struct hif_hdr h;
	int ln = 0;
	for (;;) {
		r = read_one(s, &h, buf, fds, &ln);
		if (r < 0)
			return r;
		if (r == 1)
			break;
	}
	if (nfds)
		*nfds = ln;
	if (h.type != type || h.seq != seq || h.len < 4) {
		if (fds)
			close_fds(fds, ln);
		if (nfds)
			*nfds = 0;
		lose(s, "reply does not match the request", EPROTO);
		return -EPROTO;
	}
	int32_t st;
	memcpy(&st, buf, 4);
	*status = (int32_t)PVIO_LE32((uint32_t)st);
	if (reply) {
		memcpy(reply, buf + 4, h.len - 4);
		*reply_len = h.len - 4;
	}
	return 0;
}

/* Pull whatever the host has sent into the queue, without blocking. */
static int drain_socket(struct hsim *s)
{
	if (s->h.lost)
		return -ENOTCONN;
	for (unsigned n = 0; n < QMAX && s->qt - s->qh < QMAX; n++) {
		struct pollfd p = { .fd = s->sock, .events = POLLIN };
		int r = poll(&p, 1, 0);
		if (r <= 0)
			return 0;
		r = read_one(s, NULL, NULL, NULL, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- port */

static int port_post(void *port, uint32_t conn_id, const void *msg,
		     uint32_t len, uint32_t *hv_status)
{
	struct hsim *s = port;
	struct hif_post p;
	memset(&p, 0, sizeof(p));
	p.conn_or_sint = PVIO_LE32(conn_id);
	p.message_type = PVIO_LE32(1);
	p.payload_size = PVIO_LE32(len);
	memcpy(p.payload, msg, len);
	int32_t st;
	uint8_t rep[HIF_MAX_PAYLOAD];
	uint32_t rl = 0;
	int r = request(s, HIF_POST_MESSAGE, &p, sizeof(p), -1, &st, rep, &rl,
			NULL, NULL);
	if (r < 0)
		return r;
	if (st < 0)
		return pvio_set_error(s->h.ctx, -st, "sim-hyperv: POST_MESSAGE "
						    "failed: %s",
				      pvio_strerror(st));
	if (rl < 4) {
		lose(s, "short POST_MESSAGE reply", EPROTO);
		return -EPROTO;
	}
	uint32_t hv;
	memcpy(&hv, rep, 4);
	*hv_status = PVIO_LE32(hv);
	return 0;
}

static int port_recv(void *port, void *buf, uint32_t *len)
{
	struct hsim *s = port;
	if (s->qh == s->qt) {
		int r = drain_socket(s);
		if (r < 0 && s->qh == s->qt)
			return r;
	}
	if (s->qh == s->qt)
		return 0;
	unsigned i = s->qh++ % QMAX;
	*len = s->q[i].len;
	memcpy(buf, s->q[i].m, s->q[i].len);
	return 1;
}

static int port_wait(void *port, struct vmbus_chan *ch, uint64_t deadline)
{
	struct hsim *s = port;
	if (s->qh != s->qt)
		return 1;
	if (s->h.lost)
		return -ENOTCONN;
	struct hsim_chan *hc = ch ? ch->hpriv : NULL;
	int which = 0;
	int r = wait_fd(s->sock, hc ? hc->irq_fd : -1, deadline, s->h.ctx,
			&which);
	if (r > 0 && which == 1) {
		uint64_t v;
		if (read(hc->irq_fd, &v, sizeof(v)) < 0) {
			/* already drained */
		}
	}
	return r;
}

static const struct vmbus_msgport_ops port_ops = {
	.post = port_post,
	.recv = port_recv,
	.wait = port_wait,
};

/* ---------------------------------------------------------------- hostif */

static int h_find(struct vmbus_hostif *h, const struct vmbus_guid *cls,
		  unsigned idx, struct vmbus_offer *out)
{
	struct hsim *s = H(h);
	vmbus_conn_poll(&s->conn);
	return vmbus_conn_find(&s->conn, cls, idx, out);
}

static int h_subchannels(struct vmbus_hostif *h,
			 const struct vmbus_offer *primary, unsigned want,
			 uint64_t deadline, struct vmbus_offer *out)
{
	return vmbus_conn_subchannels(&H(h)->conn, primary, want, deadline, out);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -errno : fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static int h_open(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint32_t ring_bytes)
{
	struct hsim *s = H(h);
	struct hsim_chan *hc = pvio_zalloc(h->ctx, sizeof(*hc));
	if (!hc)
		return pvio_set_error(h->ctx, ENOMEM, "out of memory");
	hc->sig_fd = hc->irq_fd = -1;
	uint32_t relid = PVIO_LE32(ch->offer.relid);
	int32_t st;
	int fds[4];
	int nfds = 0;
	int r = request(s, HIF_CHANNEL_EVENTS, &relid, sizeof(relid), -1, &st,
			NULL, NULL, fds, &nfds);
	if (r < 0) {
		pvio_free(h->ctx, hc);
		return pvio_set_error(h->ctx, -r, "sim-hyperv: CHANNEL_EVENTS "
						 "for channel %u failed: %s",
				      ch->offer.relid, pvio_strerror(r));
	}
	if (st < 0 || nfds != 2) {
		close_fds(fds, nfds);
		pvio_free(h->ctx, hc);
		return pvio_set_error(h->ctx, st < 0 ? -st : EPROTO,
				      "sim-hyperv: host gave no event fds for "
				      "channel %u (%s)",
				      ch->offer.relid,
				      st < 0 ? pvio_strerror(st)
					     : "wrong descriptor count");
	}
	hc->sig_fd = fds[0];
	hc->irq_fd = fds[1];
	set_nonblock(hc->sig_fd);
	set_nonblock(hc->irq_fd);
	ch->hpriv = hc;
	ch->hostif = h;
	r = vmbus_conn_open(&s->conn, ch, ring_bytes);
	if (r < 0) {
		close(hc->sig_fd);
		close(hc->irq_fd);
		pvio_free(h->ctx, hc);
		ch->hpriv = NULL;
	}
	return r;
}

static void h_close(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct hsim *s = H(h);
	vmbus_conn_close(&s->conn, ch);
	struct hsim_chan *hc = ch->hpriv;
	if (hc) {
		close(hc->sig_fd);
		close(hc->irq_fd);
		pvio_free(h->ctx, hc);
		ch->hpriv = NULL;
	}
}

static int h_buf_get(struct vmbus_hostif *h, struct vmbus_chan *ch,
		     enum vmbus_buf_kind kind, size_t size, struct vmbus_buf *out)
{
	(void)kind;
	return vmbus_conn_buf_get(&H(h)->conn, ch, size, out);
}

static void h_buf_put(struct vmbus_hostif *h, struct vmbus_chan *ch,
		      struct vmbus_buf *b)
{
	vmbus_conn_buf_put(&H(h)->conn, ch, b);
}

static void h_signal(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h;
	struct hsim_chan *hc = ch->hpriv;
	uint64_t one = 1;
	if (hc && write(hc->sig_fd, &one, sizeof(one)) < 0) {
		/* counter saturated or fd gone: the host sees the ring anyway */
	}
}

static int h_irq_fd(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h;
	struct hsim_chan *hc = ch->hpriv;
	return hc ? hc->irq_fd : -EOPNOTSUPP;
}

static void h_irq_ack(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h;
	struct hsim_chan *hc = ch->hpriv;
	uint64_t v;
	if (hc && read(hc->irq_fd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
}

static int h_wait(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint64_t deadline)
{
	struct hsim *s = H(h);
	int r = port_wait(s, ch, deadline);
	if (r < 0)
		return r;
	int p = vmbus_conn_poll(&s->conn);
	return p < 0 ? p : r;
}

static int h_service(struct vmbus_hostif *h)
{
	struct hsim *s = H(h);
	int r = vmbus_conn_poll(&s->conn);
	if (h->lost)
		return -ENOTCONN;
	return r;
}

static int h_event_fd(struct vmbus_hostif *h)
{
	return H(h)->sock;
}

static void h_free(struct vmbus_hostif *h)
{
	struct hsim *s = H(h);
	vmbus_conn_disconnect(&s->conn);
	if (s->sock >= 0)
		close(s->sock);
	pvio_free(h->ctx, s);
}

static const struct vmbus_hostif_ops sim_ops = {
	.find = h_find,
	.subchannels = h_subchannels,
	.open = h_open,
	.close = h_close,
	.buf_get = h_buf_get,
	.buf_put = h_buf_put,
	.signal = h_signal,
	.irq_fd = h_irq_fd,
	.irq_ack = h_irq_ack,
	.wait = h_wait,
	.service = h_service,
	.event_fd = h_event_fd,
	.free = h_free,
};

/* ---------------------------------------------------------------- open */

static int hello(struct hsim *s, const char *path)
{
	pvio_ctx *ctx = s->h.ctx;
	struct {
		uint32_t version, role;
		char name[32];
	} VMBUS_PACKED hl = { PVIO_LE32(1), 0, "pvio" };
	int32_t st;
	uint8_t rep[HIF_MAX_PAYLOAD];
	uint32_t rl = 0;
	int r = request(s, HIF_HELLO, &hl, sizeof(hl), -1, &st, rep, &rl, NULL,
			NULL);
	if (r < 0)
		return pvio_set_error(ctx, -r, "sim-hyperv: no HELLO answer from "
					      "%s: %s; is `pvio sim hyperv` "
					      "serving that socket?",
				      path, pvio_strerror(r));
	if (st < 0 || rl < 4)
		return pvio_set_error(ctx, st < 0 ? -st : EPROTO,
				      "sim-hyperv: host at %s refused HELLO: %s",
				      path, pvio_strerror(st < 0 ? st : -EPROTO));
	memcpy(&s->domain, rep, 4);
	s->domain = PVIO_LE32(s->domain);

	const struct pvio_dma_region *regs;
	unsigned n = pvio_dma_regions(ctx, &regs);
	for (unsigned i = 0; i < n; i++) {
		if (regs[i].fd < 0)
			return pvio_set_error(ctx, EOPNOTSUPP,
					      "sim-hyperv: the DMA pool has no "
					      "file descriptor to share; use "
					      "the hosted platform");
		struct {
			uint64_t gpa, size, off;
		} VMBUS_PACKED m = { PVIO_LE64(regs[i].dev_addr),
				     PVIO_LE64(regs[i].len),
				     PVIO_LE64(regs[i].fd_offset) };
		r = request(s, HIF_SET_MEMORY, &m, sizeof(m), regs[i].fd, &st,
			    NULL, NULL, NULL, NULL);
		if (r < 0 || st < 0)
			return pvio_set_error(ctx, r < 0 ? -r : -st,
					      "sim-hyperv: host refused guest "
					      "memory: %s",
					      pvio_strerror(r < 0 ? r : st));
	}
	return 0;
}

int vmbus_hostif_sim_open(pvio_ctx *ctx, const char *path,
			  struct vmbus_hostif **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!pvio_ctx_hosted(ctx))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "sim-hyperv needs the hosted Linux platform");
	if (pvio_strlen(path) >= sizeof(sa.sun_path))
		return pvio_set_error(ctx, ENAMETOOLONG,
				      "sim-hyperv: socket path too long: %s",
				      path);
	pvio_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	struct hsim *s = pvio_zalloc(ctx, sizeof(*s));
	if (!s)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	s->h.ops = &sim_ops;
	s->h.ctx = ctx;
	s->h.name = "sim-hyperv";
	s->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->sock < 0) {
		int e = errno;
		pvio_free(ctx, s);
		return pvio_set_error(ctx, e, "socket: %s", pvio_strerror(e));
	}
	if (connect(s->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(s->sock);
		pvio_free(ctx, s);
		return pvio_set_error(ctx, e, "cannot connect to %s: %s; is "
					   "`pvio sim hyperv --socket %s` "
					   "running?",
				      path, pvio_strerror(e), path);
	}
	vmbus_conn_init(&s->conn, ctx, &port_ops, s, "sim-hyperv");
	int r = hello(s, path);
	if (r == 0)
		r = vmbus_conn_connect(&s->conn);
	s->h.version = s->conn.version;
	if (r < 0) {
		char msg[256];
		pvio_strlcpy(msg, pvio_errmsg(ctx), sizeof(msg));
		vmbus_conn_disconnect(&s->conn);
		close(s->sock);
		pvio_free(ctx, s);
		return pvio_set_error(ctx, -r, "%s", msg);
	}
	*out = &s->h;
	return 0;
}
