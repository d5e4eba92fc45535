/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/hostif_vhost_user.c - reaching a virtio device through a
 * vhost-user back end (qemu-storage-daemon, DPDK, SPDK, ...): pvio is the
 * front end, the role QEMU usually plays.
 *
 *   vhost-user:PATH[?class=blk|net][&queues=N][&packed=on|off][&size=N]
 *
 * PATH is a unix socket the back end listens on.  Options:
 *   class   the device class.  Without it the class is inferred: a back end
 *           that offers VHOST_USER_PROTOCOL_F_CONFIG (it has a device config
 *           space) and not VIRTIO_NET_F_MRG_RXBUF is taken for a block
 *           device - vhost-user-blk back ends serve their config and never
 *           offer bit 15 (virtio-blk's LIFETIME, which none implements);
 *           every other back end is taken for a network device: net back
 *           ends usually have no config space (DPDK; the VMM owns it), and
 *           those that have one (pvio's simulated host) offer MRG_RXBUF.
 *           The rule covers qemu-storage-daemon, DPDK and pvio sim virtio;
 *           for anything else say class=.
 *   queues  at most N queues (net: queue pairs; default 1 for net, as a
 *           net back end serves as many rings as it is given; blk: default
 *           what the back end reports)
 *   packed  off: do not use packed virtqueues even if offered
 *   size    ring size (power of two, default 256)
 *
 * Memory: every region of the context's DMA pool goes into SET_MEM_TABLE
 * (guest_phys_addr = the region's device address, userspace_addr = its
 * virtual address, the memfd as descriptor), so descriptor addresses are
 * device addresses and ring addresses are virtual ones, as the protocol
 * wants.  Notifications are eventfds: one kick fd per ring, one call fd per
 * notification group (both rings of a net queue pair share one).
 *
 * Every request that has a reply - and, with REPLY_ACK, every other one -
 * is answered within the context timeout or the operation fails.  A peer
 * that answers with something that is not vhost-user is refused with a
 * message saying so; a peer that closes the socket marks the device
 * removed.
 */
#include "virtio.h"
#include "vhost_user.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define VHU_QUEUE_MAX 32768u
#define VHU_MAX_QUEUES 64u

struct vhu {
	struct virtio_hostif h;
	pvio_ctx *ctx;
	int sock;
	bool dead;              /* connection unusable */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t features;      /* offered, raw */
	uint64_t pfeatures;     /* protocol features in use */
	bool proto;             /* bit 30 in use */
	uint8_t status;         /* the device status as pvio set it */
	uint32_t queue_num;     /* GET_QUEUE_NUM, 0 unknown */
	int kick[VIRTIO_MAX_VQS];
	int call[VIRTIO_MAX_VQS];
};

static const char *req_name(uint32_t r)
{
	switch (r) {
	case VHU_GET_FEATURES: return "GET_FEATURES";
	case VHU_SET_FEATURES: return "SET_FEATURES";
	case VHU_SET_OWNER: return "SET_OWNER";
	case VHU_SET_MEM_TABLE: return "SET_MEM_TABLE";
	case VHU_SET_VRING_NUM: return "SET_VRING_NUM";
	case VHU_SET_VRING_ADDR: return "SET_VRING_ADDR";
	case VHU_SET_VRING_BASE: return "SET_VRING_BASE";
	case VHU_GET_VRING_BASE: return "GET_VRING_BASE";
	case VHU_SET_VRING_KICK: return "SET_VRING_KICK";
	case VHU_SET_VRING_CALL: return "SET_VRING_CALL";
	case VHU_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
	case VHU_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
	case VHU_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
	case VHU_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
	case VHU_GET_CONFIG: return "GET_CONFIG";
	case VHU_SET_STATUS: return "SET_STATUS";
	case VHU_GET_STATUS: return "GET_STATUS";
	default: return "request";
	}
}

static struct vhu *vhu_of(struct virtio_hostif *h)
{
	return (struct vhu *)(void *)h;
}

/* The connection failed: the device (if any) is gone; err > 0. */
static int conn_lost(struct vhu *u, int err, const char *what)
{
	u->dead = true;
	if (u->h.dev)
		pvio_dev_set_removed(u->h.dev,
				     "vhost-user back end %s: %s", u->path, what);
	return pvio_set_error(u->ctx, err,
			      "%s: %s; is the vhost-user back end still running?",
			      u->path, what);
}

/* The peer said something that is not vhost-user. */
static int proto_error(struct vhu *u, const char *fmt, ...) PVIO_PRINTF(2, 3);
static int proto_error(struct vhu *u, const char *fmt, ...)
{
	char m[160];
	va_list ap;
	va_start(ap, fmt);
	pvio_vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	u->dead = true;
	if (u->h.dev)
		pvio_dev_set_broken(u->h.dev, "vhost-user protocol error: %s", m);
	return pvio_set_error(u->ctx, EPROTO,
			      "%s: %s; is this a vhost-user back end socket?",
			      u->path, m);
}

static int ms_until(const pvio_ctx *ctx, uint64_t deadline)
{
	uint64_t now = pvio_now_ns(ctx);
	if (now >= deadline)
		return 0;
	uint64_t ms = (deadline - now + 999999u) / 1000000u;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static int wait_fd(struct vhu *u, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = u->sock, .events = ev };
	for (;;) {
		int r = poll(&p, 1, ms_until(u->ctx, deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int send_msg(struct vhu *u, uint32_t req, uint32_t flags,
		    const void *payload, uint32_t size, const int *fds,
		    unsigned nfds, uint64_t deadline)
{
	struct vhu_hdr hdr = { req, VHU_VERSION | flags, size };
	char cbuf[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
	size_t total = sizeof(hdr) + size, done = 0;

	if (u->dead)
		return pvio_set_error(u->ctx, ENOTCONN, "%s: connection already "
				      "failed", u->path);
	while (done < total) {
		struct iovec iov[2];
		int niov = 0;
		if (done < sizeof(hdr)) {
			iov[niov++] = (struct iovec){ (char *)&hdr + done,
						      sizeof(hdr) - done };
			if (size)
				iov[niov++] = (struct iovec){ (void *)(uintptr_t)payload,
							      size };
		} else {
			iov[niov++] = (struct iovec){
				(char *)(uintptr_t)payload + (done - sizeof(hdr)),
				total - done };
		}
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)niov };
		if (done == 0 && nfds) {
			memset(cbuf, 0, sizeof(cbuf));
			m.msg_control = cbuf;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&m);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		ssize_t n = sendmsg(u->sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(u, POLLOUT, deadline);
			if (r == -ETIMEDOUT) {
				char w[64];
				pvio_snprintf(w, sizeof(w), "could not send %s within "
					      "%u ms", req_name(req),
					      pvio_timeout_ms(u->ctx));
				return conn_lost(u, ETIMEDOUT, w);
			}
			if (r < 0)
				return conn_lost(u, -r, "poll failed");
			continue;
		}
		char w[96];
		int e = n < 0 ? errno : EPIPE;
		if (e == EPIPE || e == ECONNRESET) {
			pvio_snprintf(w, sizeof(w), "the back end closed the "
				      "connection (sending %s)", req_name(req));
			return conn_lost(u, ECONNRESET, w);
		}
		pvio_snprintf(w, sizeof(w), "sending %s failed: %s", req_name(req),
			      pvio_strerror(e));
		return conn_lost(u, e, w);
	}
	return 0;
}

/* Read exactly len bytes; descriptors that come along are closed. */
static int recv_exact(struct vhu *u, void *buf, size_t len, uint32_t req,
		      uint64_t deadline)
{
	size_t done = 0;
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	while (done < len) {
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(u->sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n > 0) {
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c;
			     c = CMSG_NXTHDR(&m, c)) {
				if (c->cmsg_level != SOL_SOCKET ||
				    c->cmsg_type != SCM_RIGHTS)
					continue;
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
					       sizeof(fd));
					close(fd);
				}
			}
			done += (size_t)n;
			continue;
		}
		char w[96];
		if (n == 0) {
			pvio_snprintf(w, sizeof(w), "the back end closed the "
				      "connection (waiting for the reply to %s)",
				      req_name(req));
			return conn_lost(u, ECONNRESET, w);
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET) {
			pvio_snprintf(w, sizeof(w), "the back end closed the "
				      "connection (waiting for the reply to %s)",
				      req_name(req));
			return conn_lost(u, ECONNRESET, w);
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			pvio_snprintf(w, sizeof(w), "receiving the reply to %s "
				      "failed: %s", req_name(req),
				      pvio_strerror(errno));
			return conn_lost(u, errno, w);
		}
		int r = wait_fd(u, POLLIN, deadline);
		if (r == -ETIMEDOUT) {
			u->dead = true;
			if (u->h.dev)
				pvio_dev_set_broken(u->h.dev, "vhost-user back end "
						    "did not answer %s within %u ms",
						    req_name(req),
						    pvio_timeout_ms(u->ctx));
			return pvio_set_error(u->ctx, ETIMEDOUT,
					      "%s: no reply to %s within %u ms; "
					      "is this a vhost-user back end "
					      "socket, and is the back end alive?",
					      u->path, req_name(req),
					      pvio_timeout_ms(u->ctx));
		}
		if (r < 0)
			return conn_lost(u, -r, "poll failed");
	}
	return 0;
}

/* Wait for the reply to req: exactly size bytes of payload into out. */
static int recv_reply(struct vhu *u, uint32_t req, void *out, uint32_t size,
		      uint64_t deadline)
{
	struct vhu_hdr h;
	int r = recv_exact(u, &h, sizeof(h), req, deadline);
	if (r < 0)
		return r;
	if ((h.flags & VHU_VERSION_MASK) != VHU_VERSION ||
	    !(h.flags & VHU_FLAG_REPLY) || h.request != req)
		return proto_error(u, "the reply to %s is not vhost-user "
				   "(request %u, flags 0x%x, size %u)",
				   req_name(req), h.request, h.flags, h.size);
	if (h.size != size)
		return proto_error(u, "the reply to %s has %u payload bytes, "
				   "expected %u",
				   req_name(req), h.size, size);
	return recv_exact(u, out, size, req, deadline);
}

/* A request whose reply is a payload of out_size bytes. */
static int vhu_get(struct vhu *u, uint32_t req, const void *in, uint32_t in_size,
		   void *out, uint32_t out_size)
{
	uint64_t deadline = pvio_deadline(u->ctx);
	int r = send_msg(u, req, 0, in, in_size, NULL, 0, deadline);
	if (r < 0)
		return r;
	return recv_reply(u, req, out, out_size, deadline);
}

/* A request without a reply of its own: acknowledged with REPLY_ACK. */
static int vhu_set(struct vhu *u, uint32_t req, const void *in, uint32_t size,
		   const int *fds, unsigned nfds)
{
	uint64_t deadline = pvio_deadline(u->ctx);
	bool ack = u->pfeatures & VW_BIT(VHU_PF_REPLY_ACK);
	int r = send_msg(u, req, ack ? VHU_FLAG_NEED_REPLY : 0, in, size, fds,
			 nfds, deadline);
	if (r < 0 || !ack)
		return r;
	uint64_t v;
	if ((r = recv_reply(u, req, &v, sizeof(v), deadline)) < 0)
		return r;
	if (v != 0)
		return pvio_set_error(u->ctx, EIO,
				      "%s: the back end refused %s (status %llu)",
				      u->path, req_name(req),
				      (unsigned long long)v);
	return 0;
}

static int vhu_set_u64(struct vhu *u, uint32_t req, uint64_t v)
{
	return vhu_set(u, req, &v, sizeof(v), NULL, 0);
}

static int vhu_get_u64(struct vhu *u, uint32_t req, uint64_t *v)
{
	return vhu_get(u, req, NULL, 0, v, sizeof(*v));
}

/* ---- hostif ops ---- */

static int op_get_features(struct virtio_hostif *h, uint64_t *f)
{
	*f = vhu_of(h)->features & ~VW_BIT(VHU_F_PROTOCOL_FEATURES);
	return 0;
}

static int send_mem_table(struct vhu *u)
{
	const struct pvio_dma_region *reg;
	unsigned n = pvio_dma_regions(u->ctx, &reg);
	struct vhu_memtab t;
	int fds[VHU_MAX_REGIONS];

	if (n > VHU_MAX_REGIONS)
		return pvio_set_error(u->ctx, E2BIG, "%s: %u DMA regions, vhost-user "
				      "takes at most %u",
				      u->path, n, VHU_MAX_REGIONS);
	memset(&t, 0, sizeof(t));
	t.nregions = n;
	for (unsigned i = 0; i < n; i++) {
		if (reg[i].fd < 0)
			return pvio_set_error(u->ctx, EINVAL,
					      "%s: DMA region %u has no file "
					      "descriptor to share with the back "
					      "end",
					      u->path, i);
		t.region[i].guest_phys_addr = reg[i].dev_addr;
		t.region[i].memory_size = reg[i].len;
		t.region[i].userspace_addr = (uint64_t)(uintptr_t)reg[i].va;
		t.region[i].mmap_offset = reg[i].fd_offset;
		fds[i] = reg[i].fd;
	}
	return vhu_set(u, VHU_SET_MEM_TABLE, &t,
		       (uint32_t)(8 + n * sizeof(struct vhu_region)), fds, n);
}

static int op_set_features(struct virtio_hostif *h, uint64_t f)
{
	struct vhu *u = vhu_of(h);
	if (u->proto)
		f |= VW_BIT(VHU_F_PROTOCOL_FEATURES);
	int r = vhu_set_u64(u, VHU_SET_FEATURES, f);
	if (r < 0)
		return r;
	/* the memory table follows the features, as QEMU sends it */
	return send_mem_table(u);
}

static int op_get_status(struct virtio_hostif *h, uint8_t *st)
{
	struct vhu *u = vhu_of(h);
	if (!(u->pfeatures & VW_BIT(VHU_PF_STATUS))) {
		/* no status channel: the back end accepts what it was given */
		*st = u->status;
		return 0;
	}
	uint64_t v;
	int r = vhu_get_u64(u, VHU_GET_STATUS, &v);
	if (r < 0)
		return r;
	if (v > 0xff)
		return proto_error(u, "GET_STATUS returned 0x%llx, not a status "
				   "byte", (unsigned long long)v);
	*st = (uint8_t)v;
	return 0;
}

static int op_set_status(struct virtio_hostif *h, uint8_t st)
{
	struct vhu *u = vhu_of(h);
	u->status = st;
	if (!(u->pfeatures & VW_BIT(VHU_PF_STATUS)))
		return 0;
	return vhu_set_u64(u, VHU_SET_STATUS, st);
}

static int op_config_read(struct virtio_hostif *h, uint32_t off, void *buf,
			  uint32_t len)
{
	struct vhu *u = vhu_of(h);
	if (!(u->pfeatures & VW_BIT(VHU_PF_CONFIG)))
		return -EOPNOTSUPP;
	if (off > VHU_MAX_CONFIG || len > VHU_MAX_CONFIG - off)
		return -EINVAL;
	/* back ends serve the config from offset 0 (libvhost-user ignores
	 * the offset), so read the prefix and take the part asked for */
	struct vhu_config in, out;
	uint32_t size = off + len;
	memset(&in, 0, sizeof(in));
	in.size = size;
	uint64_t deadline = pvio_deadline(u->ctx);
	int r = send_msg(u, VHU_GET_CONFIG, 0, &in, VHU_CONFIG_HDR + size, NULL,
			 0, deadline);
	if (r < 0)
		return r;
	struct vhu_hdr rh;
	if ((r = recv_exact(u, &rh, sizeof(rh), VHU_GET_CONFIG, deadline)) < 0)
		return r;
	if ((rh.flags & VHU_VERSION_MASK) != VHU_VERSION ||
	    !(rh.flags & VHU_FLAG_REPLY) || rh.request != VHU_GET_CONFIG ||
	    rh.size > sizeof(out))
		return proto_error(u, "the reply to GET_CONFIG is not vhost-user "
				   "(request %u, flags 0x%x, size %u)",
				   rh.request, rh.flags, rh.size);
	memset(&out, 0, sizeof(out));
	if ((r = recv_exact(u, &out, rh.size, VHU_GET_CONFIG, deadline)) < 0)
		return r;
	if (rh.size == 0)
		/* libvhost-user's way of saying no */
		return pvio_set_error(u->ctx, EIO,
				      "%s: the back end refused GET_CONFIG of %u "
				      "bytes",
				      u->path, size);
	if (rh.size != VHU_CONFIG_HDR + size || out.size != size)
		return proto_error(u, "GET_CONFIG returned %u bytes for %u asked",
				   rh.size >= VHU_CONFIG_HDR ? rh.size - VHU_CONFIG_HDR
							     : 0,
				   size);
	memcpy(buf, out.region + off, len);
	return 0;
}

static uint16_t op_queue_max(struct virtio_hostif *h, unsigned vq)
{
	if (vq >= VIRTIO_MAX_VQS || (h->max_vqs && vq >= h->max_vqs))
		return 0;
	return VHU_QUEUE_MAX;
}

static int new_eventfd(struct vhu *u, int *fd)
{
	if (*fd >= 0)
		return 0;
	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*fd < 0)
		return pvio_set_error(u->ctx, errno, "eventfd: %s",
				      pvio_strerror(errno));
	return 0;
}

static int op_queue_setup(struct virtio_hostif *h, unsigned vq,
			  const struct virtio_queue_cfg *c)
{
	struct vhu *u = vhu_of(h);
	int r;
	if (vq >= VIRTIO_MAX_VQS || vq > VHU_VRING_IDX_MASK ||
	    c->irq >= VIRTIO_MAX_VQS)
		return pvio_set_error(u->ctx, EINVAL, "%s: virtqueue %u cannot be "
				      "addressed", u->path, vq);
	if ((r = new_eventfd(u, &u->kick[vq])) < 0 ||
	    (r = new_eventfd(u, &u->call[c->irq])) < 0)
		return r;

	struct vhu_state num = { vq, c->size };
	/* packed rings start with both wrap counters at 1: bit 15 */
	struct vhu_state base = { vq, c->packed ? 1u << 15 : 0 };
	struct vhu_addr a = {
		.index = vq,
		.desc = (uint64_t)(uintptr_t)c->desc,
		.used = (uint64_t)(uintptr_t)c->device,
		.avail = (uint64_t)(uintptr_t)c->driver,
	};
	uint64_t kick = vq, call = vq;
	if ((r = vhu_set(u, VHU_SET_VRING_NUM, &num, sizeof(num), NULL, 0)) < 0 ||
	    (r = vhu_set(u, VHU_SET_VRING_BASE, &base, sizeof(base), NULL, 0)) < 0 ||
	    (r = vhu_set(u, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0)) < 0 ||
	    (r = vhu_set(u, VHU_SET_VRING_KICK, &kick, sizeof(kick),
			 &u->kick[vq], 1)) < 0 ||
	    (r = vhu_set(u, VHU_SET_VRING_CALL, &call, sizeof(call),
			 &u->call[c->irq], 1)) < 0)
		return r;
	return 0;
}

static int op_queue_enable(struct virtio_hostif *h, unsigned vq, bool on)
{
	struct vhu *u = vhu_of(h);
	if (!u->proto)
		return 0; /* rings start enabled without protocol features */
	struct vhu_state s = { vq, on ? 1u : 0u };
	return vhu_set(u, VHU_SET_VRING_ENABLE, &s, sizeof(s), NULL, 0);
}

static int op_stop(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		   uint32_t *bases)
{
	struct vhu *u = vhu_of(h);
	int r;
	/* Disable, then fetch the bases, as QEMU's vhost_dev_stop does.  No
	 * SET_STATUS 0 before: that is a device reset, which may drop what
	 * is in flight and the ring positions (QEMU 7.2 sent it first; later
	 * QEMU moved it after the rings were stopped).  The reset comes at
	 * close. */
	for (unsigned i = 0; i < n && u->proto; i++) {
		struct vhu_state s = { nums[i], 0 };
		if ((r = vhu_set(u, VHU_SET_VRING_ENABLE, &s, sizeof(s), NULL, 0)) < 0)
			return r;
	}
	for (unsigned i = 0; i < n; i++) {
		struct vhu_state s = { nums[i], 0 }, o;
		if ((r = vhu_get(u, VHU_GET_VRING_BASE, &s, sizeof(s), &o,
				 sizeof(o))) < 0)
			return r;
		if (o.index != nums[i])
			return proto_error(u, "GET_VRING_BASE for ring %u answered "
					   "for ring %u", nums[i], o.index);
		bases[i] = o.num;
	}
	return 0;
}

static void op_notify(struct virtio_hostif *h, unsigned vq, uint32_t data)
{
	struct vhu *u = vhu_of(h);
	uint64_t one = 1;
	(void)data;
	/* EAGAIN: the counter is saturated, a kick is pending anyway */
	if (write(u->kick[vq], &one, sizeof(one)) < 0)
		return;
}

static int op_irq_fd(struct virtio_hostif *h, unsigned irq)
{
	struct vhu *u = vhu_of(h);
	if (irq >= VIRTIO_MAX_VQS || u->call[irq] < 0)
		return -EOPNOTSUPP;
	return u->call[irq];
}

static void op_irq_ack(struct virtio_hostif *h, unsigned irq)
{
	struct vhu *u = vhu_of(h);
	uint64_t v;
	if (irq < VIRTIO_MAX_VQS && u->call[irq] >= 0 &&
	    read(u->call[irq], &v, sizeof(v)) < 0)
		return;
}

static int op_event_fd(struct virtio_hostif *h)
{
	struct vhu *u = vhu_of(h);
	return u->dead ? -EOPNOTSUPP : u->sock;
}

/* The back end never speaks first on this socket: readable means it
 * closed it or is misbehaving. */
static int op_service(struct virtio_hostif *h, unsigned *what)
{
	struct vhu *u = vhu_of(h);
	char b;
	*what = 0;
	if (u->dead)
		return u->h.dev && pvio_dev_state(u->h.dev, NULL) == PVIO_DEV_BROKEN ? -EIO
								     : -ENODEV;
	ssize_t n = recv(u->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return conn_lost(u, ENODEV, "the back end closed the connection");
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return conn_lost(u, errno, "the connection failed");
	}
	return proto_error(u, "unexpected message from the back end");
}

static void op_wait(struct virtio_hostif *h, int irq, uint64_t deadline)
{
	struct vhu *u = vhu_of(h);
	struct pollfd p[2];
	int n = 0;
	if (irq >= 0 && irq < (int)VIRTIO_MAX_VQS && u->call[irq] >= 0)
		p[n++] = (struct pollfd){ .fd = u->call[irq], .events = POLLIN };
	if (!u->dead)
		p[n++] = (struct pollfd){ .fd = u->sock, .events = POLLIN };
	if (poll(p, (nfds_t)n, ms_until(u->ctx, deadline)) > 0 && !u->dead &&
	    p[n - 1].revents) {
		unsigned what;
		op_service(h, &what);
	}
}

static void op_close(struct virtio_hostif *h)
{
	struct vhu *u = vhu_of(h);
	if (u->sock >= 0)
		close(u->sock);
	for (unsigned i = 0; i < VIRTIO_MAX_VQS; i++) {
		if (u->kick[i] >= 0)
			close(u->kick[i]);
		if (u->call[i] >= 0)
			close(u->call[i]);
	}
	pvio_free(u->ctx, u);
}

static const struct virtio_hostif_ops vhu_ops = {
	.get_features = op_get_features,
	.set_features = op_set_features,
	.get_status = op_get_status,
	.set_status = op_set_status,
	.config_read = op_config_read,
	.queue_max = op_queue_max,
	.queue_setup = op_queue_setup,
	.queue_enable = op_queue_enable,
	.stop = op_stop,
	.notify = op_notify,
	.irq_fd = op_irq_fd,
	.irq_ack = op_irq_ack,
	.event_fd = op_event_fd,
	.service = op_service,
	.wait = op_wait,
	.close = op_close,
};

/* ---- opening ---- */

static int connect_path(struct vhu *u)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, u->path, sizeof(u->path));
	u->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->sock < 0)
		return pvio_set_error(u->ctx, errno, "socket: %s",
				      pvio_strerror(errno));
	int r = connect(u->sock, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && (errno == EINPROGRESS || errno == EAGAIN)) {
		/* the listen backlog is full: wait for room, bounded */
		r = wait_fd(u, POLLOUT, pvio_deadline(u->ctx));
		if (r == 0) {
			int e = 0;
			socklen_t l = sizeof(e);
			getsockopt(u->sock, SOL_SOCKET, SO_ERROR, &e, &l);
			errno = e;
			r = e ? -1 : 0;
		} else {
			errno = -r;
			r = -1;
		}
	}
	if (r < 0) {
		int e = errno;
		const char *hint = e == ENOENT || e == ECONNREFUSED
					   ? "is the vhost-user back end running "
					     "and listening on it?"
				   : e == ETIMEDOUT ? "the back end does not accept "
						      "connections"
						    : "check the path";
		return pvio_set_error(u->ctx, e, "cannot connect to %s: %s; %s",
				      u->path, pvio_strerror(e), hint);
	}
	return 0;
}

struct vhu_opts {
	enum pvio_class cls;
	uint32_t queues;
	uint32_t size;
	bool no_packed;
};

static int parse_opts(pvio_ctx *ctx, const char *address, const char *opts,
		      struct vhu_opts *o)
{
	const char *p = opts;
	while (p && *p) {
		const char *amp = pvio_strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : pvio_strlen(p);
		char kv[48];
		if (n >= sizeof(kv))
			goto bad;
		memcpy(kv, p, n);
		kv[n] = 0;
		char *eq = (char *)pvio_strchr(kv, '=');
		if (!eq)
			goto bad;
		*eq = 0;
		const char *v = eq + 1;
		uint64_t x;
		if (!pvio_strcmp(kv, "class")) {
			if (!pvio_strcmp(v, "blk"))
				o->cls = PVIO_CLASS_BLK;
			else if (!pvio_strcmp(v, "net"))
				o->cls = PVIO_CLASS_NET;
			else
				goto bad;
		} else if (!pvio_strcmp(kv, "queues")) {
			if (pvio_parse_u64(v, VHU_MAX_QUEUES, &x) < 0 || !x)
				goto bad;
			o->queues = (uint32_t)x;
		} else if (!pvio_strcmp(kv, "size")) {
			if (pvio_parse_u64(v, VHU_QUEUE_MAX, &x) < 0 || !x ||
			    (x & (x - 1)))
				goto bad;
			o->size = (uint32_t)x;
		} else if (!pvio_strcmp(kv, "packed")) {
			if (!pvio_strcmp(v, "off"))
				o->no_packed = true;
			else if (pvio_strcmp(v, "on"))
				goto bad;
		} else {
			goto bad;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
bad:
	return pvio_set_error(ctx, EINVAL,
			      "cannot open '%s': bad option; use "
			      "vhost-user:PATH[?class=blk|net][&queues=1..%u]"
			      "[&packed=on|off][&size=POWER_OF_2]",
			      address, VHU_MAX_QUEUES);
}

static int vhu_open(pvio_ctx *ctx, const char *address, const char *rest,
		    pvio_dev **out)
{
	struct vhu_opts o = { PVIO_CLASS_NONE, 0, 0, false };
	const char *q = pvio_strchr(rest, '?');
	size_t plen = q ? (size_t)(q - rest) : pvio_strlen(rest);
	int r;

	if (!pvio_ctx_hosted(ctx))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "cannot open '%s': vhost-user needs the "
				      "hosted Linux platform (sockets, eventfds)",
				      address);
	if (!plen)
		return pvio_set_error(ctx, EINVAL,
				      "cannot open '%s': no socket path; use "
				      "vhost-user:PATH[?class=blk|net][&queues=N]",
				      address);
	if ((r = parse_opts(ctx, address, q ? q + 1 : NULL, &o)) < 0)
		return r;

	struct vhu *u = pvio_zalloc(ctx, sizeof(*u));
	if (!u)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	u->ctx = ctx;
	u->sock = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_VQS; i++)
		u->kick[i] = u->call[i] = -1;
	if (plen >= sizeof(u->path)) {
		pvio_free(ctx, u);
		return pvio_set_error(ctx, ENAMETOOLONG,
				      "vhost-user socket path of %zu bytes is "
				      "longer than the %zu a unix socket allows; "
				      "use a shorter path",
				      plen, sizeof(u->path) - 1);
	}
	memcpy(u->path, rest, plen);
	u->path[plen] = 0;
	u->h.ops = &vhu_ops;
	u->h.ctx = ctx;
	u->h.name = "vhost-user";

	if ((r = connect_path(u)) < 0)
		goto fail;
	if ((r = vhu_get_u64(u, VHU_GET_FEATURES, &u->features)) < 0)
		goto fail;
	uint64_t pf = 0;
	if (u->features & VW_BIT(VHU_F_PROTOCOL_FEATURES)) {
		u->proto = true;
		if ((r = vhu_get_u64(u, VHU_GET_PROTOCOL_FEATURES, &pf)) < 0)
			goto fail;
	}
	/* the class: asked for, or inferred (see the top of this file) */
	if (o.cls == PVIO_CLASS_NONE)
		o.cls = (pf & VW_BIT(VHU_PF_CONFIG)) &&
				!(u->features & VW_BIT(VW_NET_F_MRG_RXBUF))
			? PVIO_CLASS_BLK
			: PVIO_CLASS_NET;
	if (o.cls == PVIO_CLASS_BLK && !(pf & VW_BIT(VHU_PF_CONFIG))) {
		r = pvio_set_error(ctx, EPROTONOSUPPORT,
				   "%s: the back end has no config space "
				   "(VHOST_USER_PROTOCOL_F_CONFIG), which a "
				   "vhost-user-blk back end needs; is it a block "
				   "device?",
				   u->path);
		goto fail;
	}
	uint64_t want = VW_BIT(VHU_PF_MQ) | VW_BIT(VHU_PF_REPLY_ACK) |
			VW_BIT(VHU_PF_STATUS) | VW_BIT(VHU_PF_CONFIG);
	if (u->proto) {
		/* not acknowledged: REPLY_ACK is not in force yet */
		uint64_t v = pf & want;
		if ((r = send_msg(u, VHU_SET_PROTOCOL_FEATURES, 0, &v, sizeof(v),
				  NULL, 0, pvio_deadline(ctx))) < 0)
			goto fail;
		u->pfeatures = v;
	}
	if (u->pfeatures & VW_BIT(VHU_PF_MQ)) {
		uint64_t n;
		if ((r = vhu_get_u64(u, VHU_GET_QUEUE_NUM, &n)) < 0)
			goto fail;
		if (!n || n > VHU_QUEUE_MAX) {
			r = proto_error(u, "GET_QUEUE_NUM returned %llu",
					(unsigned long long)n);
			goto fail;
		}
		u->queue_num = (uint32_t)n;
	}
	if ((r = vhu_set(u, VHU_SET_OWNER, NULL, 0, NULL, 0)) < 0)
		goto fail;

	/* GET_QUEUE_NUM counts queues for blk, queue pairs for net */
	u->h.device_id = o.cls == PVIO_CLASS_BLK ? VW_ID_BLK : VW_ID_NET;
	/* a net back end without a config space leaves config and control
	 * to the front end, as QEMU plays them for DPDK; one with a config
	 * space (pvio's simulated host) is a whole virtio-net device */
	u->h.flags = o.cls == PVIO_CLASS_NET && !(u->pfeatures & VW_BIT(VHU_PF_CONFIG))
			     ? VIRTIO_HF_VMM_NET
			     : 0;
	if (u->queue_num) {
		/* net: the pairs' rings and a control queue after them */
		uint64_t v = o.cls == PVIO_CLASS_NET ? 2ull * u->queue_num + 1
						     : u->queue_num;
		u->h.max_vqs = v > VIRTIO_MAX_VQS ? VIRTIO_MAX_VQS : (uint32_t)v;
	}
	u->h.transport_features =
		VW_BIT(VW_F_INDIRECT_DESC) | VW_BIT(VW_F_EVENT_IDX) |
		VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_F_RING_PACKED) |
		VW_BIT(VW_F_IN_ORDER);

	struct virtio_open_args a = {
		.cls = o.cls,
		.address = address,
		.max_queues = o.queues,
		.queue_size = (uint16_t)o.size,
		.no_packed = o.no_packed,
	};
	return virtio_dev_open(ctx, &u->h, &a, out);

fail:
	op_close(&u->h);
	return r;
}

const struct pvio_backend pvio_backend_vhost_user = {
	.scheme = "vhost-user",
	.family = PVIO_FAMILY_VIRTIO,
	.summary = "vhost-user:PATH[?class=blk|net][&queues=N] - a vhost-user "
		   "back end (qemu-storage-daemon, DPDK) on a unix socket",
	.open = vhu_open,
};
