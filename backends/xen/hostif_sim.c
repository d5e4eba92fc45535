/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/hostif_sim.c - the guest side of the sim hostif for Xen
 * (docs/sim-hostif.md), and the "sim-xen:SOCKET/vbd/N" address scheme.
 *
 * One connection per device: each is its own guest domain on the
 * simulated host.  Opening it: HELLO (we learn our domid), SET_MEMORY
 * with the context's DMA pool (our "guest-physical memory"), XS_CONNECT
 * (a xenstore socket as that domain), GNTTAB_SETUP with 32 table frames
 * allocated in the DMA pool, which grant.c then writes.  Event channels
 * are pairs of eventfds; the toolstack's part is DEVICE_ATTACH/DETACH.
 *
 * Requests are synchronous and answered in order; the Xen host defines no
 * unsolicited messages, so any that arrive are dropped.  Every wait is
 * bounded by the context timeout.
 */
#include "xen.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HIF_MAGIC 0x4F495650u
#define HIF_F_REPLY 1u
#define HIF_F_UNSOLICITED 2u
#define HIF_MAX 4096u
#define HIF_MAX_FDS 4
#define GNT_FRAMES 32u

enum {
	HIF_HELLO = 1,
	HIF_SET_MEMORY = 2,
	HIF_XS_CONNECT = 16,
	HIF_GNTTAB_SETUP = 17,
	HIF_EVTCHN_ALLOC_UNBOUND = 18,
	HIF_EVTCHN_CLOSE = 19,
	HIF_DEVICE_ATTACH = 20,
	HIF_DEVICE_DETACH = 21,
};

struct hif_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
};

struct xsim {
	struct xen_hostif h;
	int sock;
	int xs;
	uint32_t seq;
	bool broken;
	void *frames;
	struct xen_gnttab gt;
	bool gt_ok;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static inline struct xsim *sim_of(struct xen_hostif *h)
{
	return (struct xsim *)h;
}

static int ms_left(const pvio_ctx *ctx, uint64_t deadline)
{
	uint64_t now = pvio_now_ns(ctx);
	if (now >= deadline)
		return 0;
	uint64_t ms = (deadline - now + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---------------------------------------------------------------- framing */

static ssize_t recv_some(int fd, void *buf, size_t len, int *fds, int maxfds,
			 int *nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * HIF_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct iovec io = { buf, len };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = c.b, .msg_controllen = sizeof(c.b) };
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm;
	     cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (*nfds < maxfds)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (m.msg_flags & MSG_CTRUNC)
		return -EPROTO;
	return n == 0 ? -EPIPE : n;
}

static int recv_exact(struct xsim *s, void *buf, size_t len, int *fds,
		      int *nfds, uint64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv_some(s->sock, (char *)buf + got, len - got,
				      fds, HIF_MAX_FDS, nfds);
		if (n < 0)
			return (int)n;
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		struct pollfd p = { .fd = s->sock, .events = POLLIN };
		int r = poll(&p, 1, ms_left(s->h.ctx, deadline));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * One request and its reply: status (0 or -errno from the host), reply
 * payload after the status into rep, received fds into fds[] (the caller
 * owns them on success).
 */
static int hif_call(struct xsim *s, uint16_t type, const void *pl,
		    uint32_t len, int sendfd, void *rep, size_t repcap,
		    size_t *replen, int *fds, int maxfds, int *nfds)
{
	pvio_ctx *ctx = s->h.ctx;
	uint8_t buf[sizeof(struct hif_hdr) + HIF_MAX];
	int rfds[HIF_MAX_FDS];
	int nr = 0, r;

	if (nfds)
		*nfds = 0;
	if (s->broken)
		return -EPIPE;
	if (len > HIF_MAX)
		return -E2BIG;
	struct hif_hdr h = {
		.magic = PVIO_LE32(HIF_MAGIC),
		.type = PVIO_LE16(type),
		.flags = 0,
		.seq = PVIO_LE32(++s->seq),
		.len = PVIO_LE32(len),
	};
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), pl, len);

	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec io = { buf, sizeof(h) + len };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
	if (sendfd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.b;
		m.msg_controllen = sizeof(c.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &sendfd, sizeof(int));
	}
	/* a message of at most 4112 bytes fits the socket buffer: one
	 * blocking sendmsg */
	ssize_t n = sendmsg(s->sock, &m, MSG_NOSIGNAL);
	if (n != (ssize_t)io.iov_len) {
		s->broken = true;
		return n < 0 ? -errno : -EPROTO;
	}

	uint64_t deadline = pvio_deadline(ctx);
	for (;;) {
		struct hif_hdr rh;
		nr = 0;
		r = recv_exact(s, &rh, sizeof(rh), rfds, &nr, deadline);
		if (r < 0)
			goto fail;
		uint32_t rlen = PVIO_LE32(rh.len);
		uint16_t rflags = PVIO_LE16(rh.flags);
		if (PVIO_LE32(rh.magic) != HIF_MAGIC || rlen > HIF_MAX) {
			r = -EPROTO;
			goto fail;
		}
		r = recv_exact(s, buf, rlen, rfds, &nr, deadline);
		if (r < 0)
			goto fail;
		if (rflags & HIF_F_UNSOLICITED) {
			/* none are defined for Xen: drop it */
			pvio_log(ctx, PVIO_LOG_DEBUG,
				 "sim-xen: dropped unsolicited message type %u",
				 PVIO_LE16(rh.type));
			close_fds(rfds, nr);
			continue;
		}
		if (!(rflags & HIF_F_REPLY) || PVIO_LE32(rh.seq) != s->seq ||
		    PVIO_LE16(rh.type) != type || rlen < 4) {
			r = -EPROTO;
			goto fail;
		}
		int32_t status;
		memcpy(&status, buf, 4);
		status = (int32_t)PVIO_LE32((uint32_t)status);
		if (status > 0) {
			r = -EPROTO;
			goto fail;
		}
		if (status < 0) {
			close_fds(rfds, nr);
			return status;
		}
		size_t extra = rlen - 4;
		if (replen)
			*replen = extra;
		if (rep)
			memcpy(rep, buf + 4, extra < repcap ? extra : repcap);
		for (int i = 0; i < nr; i++) {
			if (fds && i < maxfds)
				fds[(*nfds)++] = rfds[i];
			else
				close(rfds[i]);
		}
		return 0;
	}
fail:
	close_fds(rfds, nr);
	s->broken = true;
	pvio_log(ctx, PVIO_LOG_WARN, "sim-xen: hostif request %u failed: %s",
		 type, pvio_strerror(r));
	return r;
}

/* ---------------------------------------------------------------- xenstore */

static int s_xs_write(struct xen_hostif *h, const void *buf, size_t len,
		      uint64_t deadline)
{
	struct xsim *s = sim_of(h);
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(s->xs, (const char *)buf + done, len - done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -errno;
		struct pollfd p = { .fd = s->xs, .events = POLLOUT };
		int r = poll(&p, 1, ms_left(h->ctx, deadline));
		if (r == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int s_xs_read(struct xen_hostif *h, void *buf, size_t len)
{
	ssize_t n = recv(sim_of(h)->xs, buf, len, MSG_DONTWAIT);
	if (n > 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
		       ? 0
		       : -errno;
}

static int s_xs_wait(struct xen_hostif *h, uint64_t deadline)
{
	struct pollfd p = { .fd = sim_of(h)->xs, .events = POLLIN };
	int r = poll(&p, 1, ms_left(h->ctx, deadline));
	if (r < 0)
		return errno == EINTR ? 1 : -errno;
	return r > 0;
}

static int s_xs_fd(struct xen_hostif *h)
{
	return sim_of(h)->xs;
}

/* ---------------------------------------------------------------- event channels */

static int s_evtchn_alloc(struct xen_hostif *h, uint16_t remote,
			  struct xen_evtchn *ev)
{
	struct xsim *s = sim_of(h);
	uint32_t pl = PVIO_LE32(remote), port = 0;
	int fds[2], nfds = 0;
	size_t rl = 0;
	int r = hif_call(s, HIF_EVTCHN_ALLOC_UNBOUND, &pl, sizeof(pl), -1,
			 &port, sizeof(port), &rl, fds, 2, &nfds);
	if (r < 0)
		return r;
	port = PVIO_LE32(port);
	if (nfds != 2 || rl < 4 || port == 0 || port > 4095) {
		close_fds(fds, nfds);
		return -EPROTO;
	}
	set_nonblock(fds[0]);
	set_nonblock(fds[1]);
	ev->port = port;
	ev->fd[0] = fds[0]; /* send */
	ev->fd[1] = fds[1]; /* upcall */
	ev->open = true;
	return 0;
}

static void s_evtchn_close(struct xen_hostif *h, struct xen_evtchn *ev)
{
	uint32_t pl = PVIO_LE32(ev->port);
	if (!ev->open)
		return;
	hif_call(sim_of(h), HIF_EVTCHN_CLOSE, &pl, sizeof(pl), -1, NULL, 0,
		 NULL, NULL, 0, NULL);
	close(ev->fd[0]);
	close(ev->fd[1]);
	ev->open = false;
}

static void s_evtchn_notify(struct xen_hostif *h, struct xen_evtchn *ev)
{
	uint64_t one = 1;
	(void)h;
	/* EAGAIN only if the counter is saturated: the peer is notified */
	if (write(ev->fd[0], &one, sizeof(one)) < 0)
		return;
}

static int s_evtchn_fd(struct xen_hostif *h, struct xen_evtchn *ev)
{
	(void)h;
	return ev->open ? ev->fd[1] : -EBADF;
}

static int s_evtchn_ack(struct xen_hostif *h, struct xen_evtchn *ev)
{
	uint64_t v = 0;
	(void)h;
	if (!ev->open || read(ev->fd[1], &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v > 0x7fffffff ? 0x7fffffff : (int)v;
}

/* ---------------------------------------------------------------- shared pages */

static int s_share(struct xen_hostif *h, uint16_t domid, uint32_t npages,
		   bool ro, struct xen_shared *sh)
{
	struct xsim *s = sim_of(h);
	pvio_ctx *ctx = h->ctx;
	uint64_t addr;

	memset(sh, 0, sizeof(*sh));
	if (!npages)
		return -EINVAL;
	void *va = pvio_dma_alloc(ctx, (size_t)npages * XEN_PAGE_SIZE,
				  XEN_PAGE_SIZE);
	if (!va)
		return -ENOMEM;
	/* XSA-403: nothing of ours is in a page before we share it */
	memset(va, 0, (size_t)npages * XEN_PAGE_SIZE);
	uint32_t *refs = pvio_zalloc(ctx, npages * sizeof(uint32_t));
	if (!refs || pvio_dma_translate(ctx, va, XEN_PAGE_SIZE, &addr) < 0) {
		pvio_free(ctx, refs);
		pvio_dma_free(ctx, va);
		return -ENOMEM;
	}
	uint32_t i;
	int r = 0;
	for (i = 0; i < npages; i++) {
		r = xen_gnt_alloc(&s->gt, &refs[i]);
		if (r < 0)
			break;
		r = xen_gnt_set(&s->gt, refs[i], domid, xen_gfn(addr) + i, ro);
		if (r < 0) {
			xen_gnt_release(&s->gt, refs[i]);
			break;
		}
	}
	if (r < 0) {
		/* nobody has seen these refs yet: they end at once */
		while (i--)
			xen_gnt_release(&s->gt, refs[i]);
		pvio_free(ctx, refs);
		pvio_dma_free(ctx, va);
		return r == -ENOSPC ? -ENOSPC : r;
	}
	sh->va = va;
	sh->npages = npages;
	sh->refs = refs;
	h->shared += npages;
	return 0;
}

static uint32_t s_unshare(struct xen_hostif *h, struct xen_shared *sh)
{
	struct xsim *s = sim_of(h);
	uint32_t leaked = 0;
	if (!sh->va)
		return 0;
	for (uint32_t i = 0; i < sh->npages; i++)
		if (xen_gnt_release(&s->gt, sh->refs[i]) == -EBUSY)
			leaked++;
	pvio_free(h->ctx, sh->refs);
	if (leaked) {
		/* XSA-396: the back end may still write these pages */
		sh->leaked = true;
	} else {
		pvio_dma_free(h->ctx, sh->va);
		h->shared -= sh->npages;
	}
	sh->va = NULL;
	sh->refs = NULL;
	sh->npages = 0;
	return leaked;
}

/* ---------------------------------------------------------------- toolstack */

static int dev_msg(struct xen_hostif *h, uint16_t type, const char *t,
		   uint32_t devid)
{
	uint8_t pl[12] = { 0 };
	uint32_t d = PVIO_LE32(devid);
	memcpy(pl, t, pvio_strlen(t) < 8 ? pvio_strlen(t) : 7);
	memcpy(pl + 8, &d, 4);
	return hif_call(sim_of(h), type, pl, sizeof(pl), -1, NULL, 0, NULL,
			NULL, 0, NULL);
}

static int s_device_attach(struct xen_hostif *h, const char *type,
			   uint32_t devid)
{
	return dev_msg(h, HIF_DEVICE_ATTACH, type, devid);
}

static int s_device_detach(struct xen_hostif *h, const char *type,
			   uint32_t devid)
{
	return dev_msg(h, HIF_DEVICE_DETACH, type, devid);
}

/* ---------------------------------------------------------------- lifecycle */

static void s_close(struct xen_hostif *h)
{
	struct xsim *s = sim_of(h);
	pvio_ctx *ctx = h->ctx;
	if (s->xs >= 0)
		close(s->xs);
	if (s->sock >= 0)
		close(s->sock);
	if (s->gt_ok) {
		uint32_t still = xen_gnttab_retry(&s->gt);
		if (still) {
			pvio_log(ctx, PVIO_LOG_WARN,
				 "sim-xen: %u grants are still mapped; keeping "
				 "the grant table and their pages",
				 still);
		} else {
			memset(s->frames, 0, GNT_FRAMES * XEN_PAGE_SIZE);
			pvio_dma_free(ctx, s->frames);
		}
		xen_gnttab_fini(&s->gt);
	} else if (s->frames) {
		pvio_dma_free(ctx, s->frames);
	}
	pvio_free(ctx, s);
}

static const struct xen_hostif_ops sim_ops = {
	.close = s_close,
	.xs_write = s_xs_write,
	.xs_read = s_xs_read,
	.xs_wait = s_xs_wait,
	.xs_fd = s_xs_fd,
	.evtchn_alloc = s_evtchn_alloc,
	.evtchn_close = s_evtchn_close,
	.evtchn_notify = s_evtchn_notify,
	.evtchn_fd = s_evtchn_fd,
	.evtchn_ack = s_evtchn_ack,
	.share = s_share,
	.unshare = s_unshare,
	.device_attach = s_device_attach,
	.device_detach = s_device_detach,
};

static int sim_connect(struct xsim *s)
{
	pvio_ctx *ctx = s->h.ctx;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, s->path, sizeof(a.sun_path));
	s->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->sock < 0)
		return pvio_set_error(ctx, errno, "socket: %s",
				      pvio_strerror(errno));
	if (connect(s->sock, (struct sockaddr *)&a, sizeof(a)) < 0)
		return pvio_set_error(ctx, errno,
				      "cannot connect to %s: %s; is `pvio sim "
				      "xen --socket %s` running?",
				      s->path, pvio_strerror(errno), s->path);

	/* HELLO */
	uint8_t hello[40] = { 0 };
	uint32_t v = PVIO_LE32(1), role = 0, dom = 0;
	size_t rl = 0;
	memcpy(hello, &v, 4);
	memcpy(hello + 4, &role, 4);
	memcpy(hello + 8, "pvio-xen", 8);
	int r = hif_call(s, HIF_HELLO, hello, sizeof(hello), -1, &dom,
			 sizeof(dom), &rl, NULL, 0, NULL);
	if (r < 0)
		return pvio_set_error(ctx, -r,
				      "%s does not answer as a pvio simulated "
				      "Xen host: %s",
				      s->path, pvio_strerror(r));
	dom = PVIO_LE32(dom);
	if (rl < 4 || dom == 0 || dom >= 0x7FF0)
		return pvio_set_error(ctx, EPROTO,
				      "the simulated Xen host gave us domain id "
				      "%u",
				      dom);
	s->h.domid = (uint16_t)dom;

	/* SET_MEMORY: the DMA pool is our guest-physical memory */
	const struct pvio_dma_region *reg;
	unsigned nreg = pvio_dma_regions(ctx, &reg);
	for (unsigned i = 0; i < nreg; i++) {
		if (reg[i].fd < 0)
			return pvio_set_error(ctx, EOPNOTSUPP,
					      "DMA memory without a file "
					      "descriptor cannot be shared with "
					      "the simulated host");
		uint64_t pl[3] = { PVIO_LE64(reg[i].dev_addr),
				   PVIO_LE64((uint64_t)reg[i].len),
				   PVIO_LE64(reg[i].fd_offset) };
		r = hif_call(s, HIF_SET_MEMORY, pl, sizeof(pl), reg[i].fd, NULL,
			     0, NULL, NULL, 0, NULL);
		if (r < 0)
			return pvio_set_error(ctx, -r,
					      "the simulated Xen host refused our "
					      "memory: %s",
					      pvio_strerror(r));
	}

	/* XS_CONNECT */
	int fds[1], nfds = 0;
	r = hif_call(s, HIF_XS_CONNECT, NULL, 0, -1, NULL, 0, NULL, fds, 1,
		     &nfds);
	if (r < 0 || nfds != 1) {
		close_fds(fds, nfds);
		return pvio_set_error(ctx, r < 0 ? -r : EPROTO,
				      "no xenstore connection from the "
				      "simulated Xen host: %s",
				      pvio_strerror(r < 0 ? r : -EPROTO));
	}
	s->xs = fds[0];
	set_nonblock(s->xs);

	/* GNTTAB_SETUP: frames in our memory, zeroed first */
	s->frames = pvio_dma_alloc(ctx, GNT_FRAMES * XEN_PAGE_SIZE,
				   XEN_PAGE_SIZE);
	if (!s->frames)
		return -ENOMEM;
	r = xen_gnttab_init(&s->gt, ctx, s->frames, GNT_FRAMES);
	if (r < 0)
		return pvio_set_error(ctx, -r, "out of memory");
	s->gt_ok = true;
	uint64_t gaddr;
	if (pvio_dma_translate(ctx, s->frames, GNT_FRAMES * XEN_PAGE_SIZE,
			       &gaddr) < 0)
		return pvio_set_error(ctx, EFAULT, "grant table not in DMA memory");
	uint8_t pl[8 + 8 * GNT_FRAMES];
	uint32_t nf = PVIO_LE32(GNT_FRAMES), pad = 0;
	memcpy(pl, &nf, 4);
	memcpy(pl + 4, &pad, 4);
	for (uint32_t i = 0; i < GNT_FRAMES; i++) {
		uint64_t g = PVIO_LE64(xen_gfn(gaddr) + i);
		memcpy(pl + 8 + 8 * i, &g, 8);
	}
	r = hif_call(s, HIF_GNTTAB_SETUP, pl, sizeof(pl), -1, NULL, 0, NULL,
		     NULL, 0, NULL);
	if (r < 0)
		return pvio_set_error(ctx, -r,
				      "the simulated Xen host refused our grant "
				      "table: %s",
				      pvio_strerror(r));
	return 0;
}

/* "SOCKET/vbd/N?opts": the socket path ends at the last "/vbd/" or
 * "/vif/" before the options. */
static const char *split_device(const char *rest)
{
	const char *q = pvio_strchr(rest, '?');
	size_t end = q ? (size_t)(q - rest) : pvio_strlen(rest);
	const char *found = NULL;
	for (size_t i = 0; i + 5 <= end; i++)
		if (!pvio_strncmp(rest + i, "/vbd/", 5) ||
		    !pvio_strncmp(rest + i, "/vif/", 5))
			found = rest + i;
	return found;
}

static int sim_open(pvio_ctx *ctx, const char *address, const char *rest,
		    pvio_dev **out)
{
	char type[4];
	uint32_t devid;
	struct xen_opts o;

	if (!pvio_ctx_hosted(ctx))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "%s: sim-xen needs hosted pvio (unix "
				      "sockets and eventfds)",
				      address);
	const char *dev = split_device(rest);
	if (!dev || dev == rest)
		return pvio_set_error(ctx, EINVAL,
				      "'%s': expected sim-xen:SOCKET/vbd/N or "
				      "sim-xen:SOCKET/vif/N",
				      address);
	int r = xen_parse_device(ctx, dev + 1, type, &devid, &o);
	if (r < 0)
		return r;
	struct xsim *s = pvio_zalloc(ctx, sizeof(*s));
	if (!s)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	s->h.ops = &sim_ops;
	s->h.ctx = ctx;
	s->h.name = "sim-xen";
	s->h.gnttab = &s->gt;
	s->sock = s->xs = -1;
	size_t plen = (size_t)(dev - rest);
	if (plen >= sizeof(s->path)) {
		pvio_free(ctx, s);
		return pvio_set_error(ctx, ENAMETOOLONG,
				      "'%s': the socket path is longer than %zu "
				      "bytes",
				      address, sizeof(s->path) - 1);
	}
	memcpy(s->path, rest, plen);
	s->path[plen] = '\0';
	r = sim_connect(s);
	if (r < 0) {
		s_close(&s->h);
		return r;
	}
	return xen_open(ctx, &s->h, type, devid, &o, out);
}

const struct pvio_backend pvio_backend_sim_xen = {
	.scheme = "sim-xen",
	.family = PVIO_FAMILY_XEN,
	.summary = "a vbd or vif of pvio's simulated Xen host: "
		   "sim-xen:SOCKET/vbd/N, sim-xen:SOCKET/vif/N",
	.open = sim_open,
};
