/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/vhost.c - the vhost-user server (back-end side of QEMU's
 * docs/interop/vhost-user.rst).
 *
 * One front end per device at a time; when it goes away the device drops
 * every piece of session state (memory, rings, negotiated features) and
 * accepts the next one, as qemu-storage-daemon does.  A second front end
 * that connects while the first is still there is turned away.
 *
 * Messages are checked as a careful back end would: version bits, sizes
 * per request, fd counts, ring indexes, feature subsets.  A refused
 * message is answered with a non-zero REPLY_ACK when the front end asked
 * for one; otherwise there is no way to tell it, so the connection is
 * closed with a log line saying why (the vhost-user spec allows this).
 * A connection that stalls mid-message is closed after a timeout so the
 * single-threaded host never hangs on it.
 */
#include <errno.h>
#include <poll.h>
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

#define MSG_TIMEOUT_S 5

static const char *req_name(uint32_t r)
{
	static const char *const names[] = {
		[SVU_GET_FEATURES] = "GET_FEATURES",
		[SVU_SET_FEATURES] = "SET_FEATURES",
		[SVU_SET_OWNER] = "SET_OWNER",
		[SVU_RESET_OWNER] = "RESET_OWNER",
		[SVU_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[SVU_SET_LOG_BASE] = "SET_LOG_BASE",
		[SVU_SET_LOG_FD] = "SET_LOG_FD",
		[SVU_SET_VRING_NUM] = "SET_VRING_NUM",
		[SVU_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[SVU_SET_VRING_BASE] = "SET_VRING_BASE",
		[SVU_GET_VRING_BASE] = "GET_VRING_BASE",
		[SVU_SET_VRING_KICK] = "SET_VRING_KICK",
		[SVU_SET_VRING_CALL] = "SET_VRING_CALL",
		[SVU_SET_VRING_ERR] = "SET_VRING_ERR",
		[SVU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[SVU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[SVU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[SVU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
		[SVU_SEND_RARP] = "SEND_RARP",
		[SVU_NET_SET_MTU] = "NET_SET_MTU",
		[SVU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
		[SVU_IOTLB_MSG] = "IOTLB_MSG",
		[SVU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
		[SVU_GET_CONFIG] = "GET_CONFIG",
		[SVU_SET_CONFIG] = "SET_CONFIG",
		[SVU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
		[SVU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
		[SVU_RESET_DEVICE] = "RESET_DEVICE",
		[SVU_VRING_KICK] = "VRING_KICK",
		[SVU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
		[SVU_ADD_MEM_REG] = "ADD_MEM_REG",
		[SVU_REM_MEM_REG] = "REM_MEM_REG",
		[SVU_SET_STATUS] = "SET_STATUS",
		[SVU_GET_STATUS] = "GET_STATUS",
	};
	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "unknown request";
}

/* ------------------------------------------------------------ session */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void stop_vq(struct svirtio_dev *d, struct svirtio_vq *vq,
		    bool discard)
{
	if (vq->started)
		svirtio_complete_all(vq, discard || d->f.hang);
	if (vq->timer) {
		sim_loop_cancel(d->host->loop, vq->timer);
		vq->timer = 0;
	}
	if (vq->cont_timer) {
		sim_loop_cancel(d->host->loop, vq->cont_timer);
		vq->cont_timer = 0;
	}
	svirtio_vq_stop(vq);
}

static void drop_kick(struct svirtio_dev *d, struct svirtio_vq *vq)
{
	if (vq->kick_fd >= 0) {
		sim_loop_del(d->host->loop, vq->kick_fd);
		close_fd(&vq->kick_fd);
	}
}

void svirtio_dev_reset_rings(struct svirtio_dev *d)
{
	for (unsigned i = 0; i < SVIRTIO_MAX_VQS; i++) {
		struct svirtio_vq *vq = &d->vq[i];
		stop_vq(d, vq, true);
		drop_kick(d, vq);
		close_fd(&vq->call_fd);
		close_fd(&vq->err_fd);
		vq->num = 0;
		vq->addr_set = false;
		vq->base_set = false;
		vq->base = 0;
		vq->pbase = 0;
		vq->enabled = false;
		vq->broken = false;
		vq->last_avail = vq->used_idx = 0;
	}
}

static void reset_session(struct svirtio_dev *d)
{
	svirtio_dev_reset_rings(d);
	svirtio_mem_clear(&d->mem);
	close_fd(&d->backend_fd);
	d->acked = 0;
	d->acked_set = false;
	d->pf_acked = 0;
	d->status = 0;
	d->owner = false;
	d->broken_reason[0] = 0;
	if (d->kind == SVIRTIO_NET)
		d->u.net.curr_pairs = 1;
}

void svirtio_dev_disconnect(struct svirtio_dev *d, const char *why)
{
	if (d->sock < 0)
		return;
	sim_log(SIM_LOG_INFO, "%s: front end disconnected: %s", d->name, why);
	sim_loop_del(d->host->loop, d->sock);
	close_fd(&d->sock);
	reset_session(d);
	if (d->kind == SVIRTIO_NET)
		svirtio_net_rx_kicked(d);   /* peers stop waiting for us */
}

/* ------------------------------------------------------------- replies */
static int send_reply(struct svirtio_dev *d, const struct svu_msg *req,
		      const void *payload, uint32_t size)
{
	/* header and payload back to back: on the wire the payload follows
	 * the 12-byte header directly (struct svu_msg pads it to 16) */
	uint8_t buf[sizeof(struct svu_hdr) + SVU_MAX_PAYLOAD];
	struct svu_hdr h = { req->hdr.request, SVU_VERSION | SVU_FLAG_REPLY,
			     size };
	if (size > SVU_MAX_PAYLOAD)
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	ssize_t n = sim_send_fds(d->sock, buf, sizeof(h) + size, NULL, 0);
	return n < 0 ? (int)n : 0;
}

static int reply_u64(struct svirtio_dev *d, const struct svu_msg *req,
		     uint64_t v)
{
	return send_reply(d, req, &v, sizeof(v));
}

/* ------------------------------------------------------------ handlers */
struct ctx {
	struct svirtio_dev *d;
	struct svu_msg *m;
	int *fds;
	int nfds;
	char why[240];
	const char *key;      /* the cause, for rate-limited logging */
	bool replied;
};

__attribute__((format(printf, 2, 3))) static int refuse(struct ctx *c,
							const char *fmt, ...)
{
	va_list ap;
	c->key = fmt;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int want_size(struct ctx *c, uint32_t size)
{
	if (c->m->hdr.size != size)
		return refuse(c, "%s with a %u-byte payload (expected %u)",
			      req_name(c->m->hdr.request), c->m->hdr.size, size);
	return 0;
}

static int want_fds(struct ctx *c, int n)
{
	if (c->nfds != n)
		return refuse(c, "%s with %d file descriptors (expected %d)",
			      req_name(c->m->hdr.request), c->nfds, n);
	return 0;
}

/* Take ownership of fd i. */
static int take_fd(struct ctx *c, int i)
{
	int fd = c->fds[i];
	c->fds[i] = -1;
	return fd;
}

static struct svirtio_vq *vq_of(struct ctx *c, uint32_t index)
{
	if (index >= c->d->nvqs) {
		refuse(c, "%s for vring %u, but the device has %u",
		       req_name(c->m->hdr.request), index, c->d->nvqs);
		return NULL;
	}
	return &c->d->vq[index];
}

static int do_reply(struct ctx *c, const void *p, uint32_t size)
{
	c->replied = true;
	if (send_reply(c->d, c->m, p, size) < 0)
		return refuse(c, "cannot send the reply to %s",
			      req_name(c->m->hdr.request));
	return 0;
}

static int do_reply_u64(struct ctx *c, uint64_t v)
{
	return do_reply(c, &v, sizeof(v));
}

static bool ring_shape_changes(const struct svirtio_dev *d, uint64_t v)
{
	const uint64_t shape = 1ull << SVIRTIO_F_RING_PACKED |
			       1ull << SVIRTIO_F_EVENT_IDX |
			       1ull << SVIRTIO_F_INDIRECT_DESC |
			       1ull << SVIRTIO_F_IN_ORDER |
			       1ull << SVIRTIO_F_VERSION_1 |
			       1ull << SVIRTIO_NET_F_MRG_RXBUF;
	return (d->acked ^ v) & shape;
}

static bool any_started(const struct svirtio_dev *d)
{
	for (unsigned i = 0; i < d->nvqs; i++)
		if (d->vq[i].started)
			return true;
	return false;
}

static void retranslate(struct svirtio_dev *d)
{
	char why[200];
	for (unsigned i = 0; i < d->nvqs; i++) {
		struct svirtio_vq *vq = &d->vq[i];
		if (vq->started && !vq->broken &&
		    svirtio_vq_translate(vq, why, sizeof(why)) < 0)
			svirtio_vq_fail(vq, "after a memory table change: %s",
					why);
	}
}

static int h_set_mem_table(struct ctx *c)
{
	struct svirtio_dev *d = c->d;
	struct svu_mem *t = &c->m->u.mem;
	struct svirtio_mem nm;
	char why[200];

	if (c->m->hdr.size < 8)
		return refuse(c, "SET_MEM_TABLE payload of %u bytes is too short",
			      c->m->hdr.size);
	if (t->nregions > SVU_MEM_REGIONS)
		return refuse(c, "SET_MEM_TABLE with %u regions (at most %u)",
			      t->nregions, SVU_MEM_REGIONS);
	if (c->m->hdr.size < 8 + 32 * t->nregions ||
	    c->m->hdr.size > sizeof(struct svu_mem))
		return refuse(c, "SET_MEM_TABLE payload of %u bytes does not "
				 "fit %u regions", c->m->hdr.size, t->nregions);
	if (want_fds(c, (int)t->nregions) < 0)
		return -1;
	memset(&nm, 0, sizeof(nm));
	for (unsigned i = 0; i < t->nregions; i++) {
		if (svirtio_mem_add(&nm, &t->r[i], c->fds[i], why,
				    sizeof(why)) < 0) {
			svirtio_mem_clear(&nm);
			return refuse(c, "SET_MEM_TABLE region %u: %s", i, why);
		}
	}
	/* switch tables before unmapping the old one: running rings are
	 * re-translated into the new mappings */
	struct svirtio_mem old = d->mem;
	d->mem = nm;
	retranslate(d);
	svirtio_mem_clear(&old);
	for (unsigned i = 0; i < t->nregions; i++)
		close_fd(&c->fds[i]);
	return 0;
}

static int h_add_mem_reg(struct ctx *c)
{
	char why[200];
	if (want_size(c, sizeof(struct svu_mem_single)) < 0 ||
	    want_fds(c, 1) < 0)
		return -1;
	if (svirtio_mem_add(&c->d->mem, &c->m->u.single.r, c->fds[0], why,
			    sizeof(why)) < 0)
		return refuse(c, "ADD_MEM_REG: %s", why);
	close_fd(&c->fds[0]);
	return 0;
}

static int h_rem_mem_reg(struct ctx *c)
{
	if (want_size(c, sizeof(struct svu_mem_single)) < 0)
		return -1;
	if (c->nfds > 1)
		return want_fds(c, 1);
	const struct svu_region *r = &c->m->u.single.r;
	if (svirtio_mem_remove(&c->d->mem, r) < 0)
		return refuse(c, "REM_MEM_REG: no region gpa 0x%llx size 0x%llx "
				 "uva 0x%llx",
			      (unsigned long long)r->gpa,
			      (unsigned long long)r->size,
			      (unsigned long long)r->uva);
	retranslate(c->d);
	return 0;
}

static bool features_ok(const struct svirtio_dev *d, char *why, size_t len)
{
	if (svirtio_has(d->acked, SVIRTIO_F_RING_PACKED) &&
	    !svirtio_has(d->acked, SVIRTIO_F_VERSION_1)) {
		snprintf(why, len, "RING_PACKED accepted without VERSION_1");
		return false;
	}
	if (!svirtio_has(d->acked, SVIRTIO_F_VERSION_1) &&
	    svirtio_has(d->acked, SVIRTIO_F_IN_ORDER)) {
		snprintf(why, len, "IN_ORDER accepted without VERSION_1");
		return false;
	}
	return true;
}

static int h_set_status(struct ctx *c)
{
	struct svirtio_dev *d = c->d;
	if (want_size(c, 8) < 0)
		return -1;
	uint64_t v = c->m->u.u64;
	if (v > 0xff)
		return refuse(c, "SET_STATUS 0x%llx is not a status byte",
			      (unsigned long long)v);
	uint8_t s = (uint8_t)v, old = d->status;
	if (s == 0) {
		/* device reset: rings stop, the front end sets them up again */
		for (unsigned i = 0; i < d->nvqs; i++) {
			stop_vq(d, &d->vq[i], true);
			drop_kick(d, &d->vq[i]);
			d->vq[i].broken = false;
		}
		d->status = 0;
		d->broken_reason[0] = 0;
		if (d->kind == SVIRTIO_NET)
			svirtio_net_rx_kicked(d);  /* senders stop waiting */
		return 0;
	}
	if ((s & SVIRTIO_S_FEATURES_OK) && !(old & SVIRTIO_S_FEATURES_OK)) {
		char why[120];
		if (!features_ok(d, why, sizeof(why))) {
			svirtio_complain(d, "%s: FEATURES_OK refused: %s", d->name,
					 why);
			s &= (uint8_t)~SVIRTIO_S_FEATURES_OK;
		}
	}
	d->status = s;
	if ((s & SVIRTIO_S_DRIVER_OK) && !(old & SVIRTIO_S_DRIVER_OK))
		svirtio_dev_kick_all(d);
	return 0;
}

static uint8_t get_status(const struct svirtio_dev *d)
{
	uint8_t s = d->status;
	for (unsigned i = 0; i < d->nvqs; i++)
		if (d->vq[i].broken)
			s |= SVIRTIO_S_NEEDS_RESET;
	return s;
}

static int h_get_config(struct ctx *c)
{
	struct svu_config *cfg = &c->m->u.config;
	uint8_t buf[SVU_MAX_CONFIG];
	size_t len;

	if (c->m->hdr.size < 12 || cfg->size > SVU_MAX_CONFIG ||
	    c->m->hdr.size != 12 + cfg->size)
		return refuse(c, "GET_CONFIG payload of %u bytes for a %u-byte "
				 "read", c->m->hdr.size,
			      c->m->hdr.size >= 12 ? cfg->size : 0);
	memset(buf, 0, sizeof(buf));
	len = c->d->kind == SVIRTIO_BLK ? svirtio_blk_config(c->d, buf)
					: svirtio_net_config(c->d, buf);
	if (cfg->offset > len || cfg->size > len - cfg->offset) {
		svirtio_complain(c->d, "%s: GET_CONFIG of %u bytes at %u is outside "
				 "the %zu-byte config space", c->d->name,
				 cfg->size, cfg->offset, len);
		return do_reply(c, NULL, 0);   /* size 0: the spec's error */
	}
	memcpy(cfg->data, buf + cfg->offset, cfg->size);
	return do_reply(c, cfg, 12 + cfg->size);
}

static int h_vring_fd(struct ctx *c, int **slot_out, struct svirtio_vq **vqo)
{
	if (want_size(c, 8) < 0)
		return -1;
	uint64_t v = c->m->u.u64;
	if (v & ~(uint64_t)(SVU_VRING_IDX_MASK | SVU_VRING_NOFD))
		return refuse(c, "%s payload 0x%llx has unknown bits",
			      req_name(c->m->hdr.request), (unsigned long long)v);
	struct svirtio_vq *vq = vq_of(c, (uint32_t)(v & SVU_VRING_IDX_MASK));
	if (!vq)
		return -1;
	bool nofd = v & SVU_VRING_NOFD;
	if (want_fds(c, nofd ? 0 : 1) < 0)
		return -1;
	switch (c->m->hdr.request) {
	case SVU_SET_VRING_KICK: *slot_out = &vq->kick_fd; break;
	case SVU_SET_VRING_CALL: *slot_out = &vq->call_fd; break;
	default: *slot_out = &vq->err_fd; break;
	}
	*vqo = vq;
	return nofd ? -2 : 0;
}

static int h_set_vring_kick(struct ctx *c)
{
	struct svirtio_dev *d = c->d;
	struct svirtio_vq *vq;
	int *slot;
	int r = h_vring_fd(c, &slot, &vq);
	if (r == -1)
		return -1;
	if (r == -2)
		return refuse(c, "SET_VRING_KICK without an fd (polling) is not "
				 "supported by this back end");
	drop_kick(d, vq);
	vq->kick_fd = take_fd(c, 0);
	int e = sim_loop_add(d->host->loop, vq->kick_fd, EPOLLIN,
			     svirtio_kick_cb, vq);
	if (e < 0)
		return refuse(c, "cannot watch the kick fd of vring %u: %s",
			      vq->index, strerror(-e));
	if (!vq->started) {
		char why[240];
		if (svirtio_vq_start(vq, why, sizeof(why)) < 0) {
			drop_kick(d, vq);
			return refuse(c, "cannot start vring: %s", why);
		}
		if (!svirtio_has(d->acked, SVIRTIO_F_PROTOCOL_FEATURES))
			vq->enabled = true;
		sim_log(SIM_LOG_DEBUG, "%s: vring %u started (%s, size %u)",
			d->name, vq->index, vq->packed ? "packed" : "split",
			vq->num);
	}
	svirtio_process(vq);
	return 0;
}

static int h_set_vring_callerr(struct ctx *c)
{
	struct svirtio_vq *vq;
	int *slot;
	int r = h_vring_fd(c, &slot, &vq);
	if (r == -1)
		return -1;
	close_fd(slot);
	if (r == 0)
		*slot = take_fd(c, 0);
	return 0;
}

static int h_vring_state(struct ctx *c, struct svirtio_vq **vqo)
{
	if (want_size(c, sizeof(struct svu_state)) < 0)
		return -1;
	*vqo = vq_of(c, c->m->u.state.index);
	return *vqo ? 0 : -1;
}

static int handle(struct ctx *c)
{
	struct svirtio_dev *d = c->d;
	struct svu_msg *m = c->m;
	struct svirtio_vq *vq;
	uint64_t v;

	switch (m->hdr.request) {
	case SVU_GET_FEATURES:
		if (want_size(c, 0) < 0)
			return -1;
		return do_reply_u64(c, d->features);
	case SVU_SET_FEATURES:
		if (want_size(c, 8) < 0)
			return -1;
		v = m->u.u64;
		if (v & ~d->features)
			return refuse(c, "SET_FEATURES accepts bits 0x%llx that "
					 "were not offered",
				      (unsigned long long)(v & ~d->features));
		if (any_started(d) && ring_shape_changes(d, v))
			return refuse(c, "SET_FEATURES changes the ring format "
					 "while vrings are running");
		d->acked = v;
		d->acked_set = true;
		return 0;
	case SVU_SET_OWNER:
		if (want_size(c, 0) < 0)
			return -1;
		d->owner = true;
		return 0;
	case SVU_RESET_OWNER:
		/* deprecated; the spec suggests disabling the rings */
		for (unsigned i = 0; i < d->nvqs; i++) {
			stop_vq(d, &d->vq[i], true);
			drop_kick(d, &d->vq[i]);
		}
		return 0;
	case SVU_GET_PROTOCOL_FEATURES:
		if (want_size(c, 0) < 0)
			return -1;
		return do_reply_u64(c, d->pfeatures);
	case SVU_SET_PROTOCOL_FEATURES:
		if (want_size(c, 8) < 0)
			return -1;
		v = m->u.u64;
		if (v & ~d->pfeatures)
			return refuse(c, "SET_PROTOCOL_FEATURES accepts bits "
					 "0x%llx that were not offered",
				      (unsigned long long)(v & ~d->pfeatures));
		d->pf_acked = v;
		return 0;
	case SVU_GET_QUEUE_NUM:
		if (want_size(c, 0) < 0)
			return -1;
		return do_reply_u64(c, d->o.queues);
	case SVU_GET_MAX_MEM_SLOTS:
		if (want_size(c, 0) < 0)
			return -1;
		return do_reply_u64(c, SVIRTIO_MAX_MEM_SLOTS);
	case SVU_SET_MEM_TABLE:
		return h_set_mem_table(c);
	case SVU_ADD_MEM_REG:
		return h_add_mem_reg(c);
	case SVU_REM_MEM_REG:
		return h_rem_mem_reg(c);
	case SVU_SET_VRING_NUM:
		if (h_vring_state(c, &vq) < 0)
			return -1;
		if (vq->started)
			return refuse(c, "SET_VRING_NUM on running vring %u",
				      vq->index);
		if (!m->u.state.num || m->u.state.num > SVIRTIO_MAX_QSIZE)
			return refuse(c, "vring %u size %u is not in 1..%u",
				      vq->index, m->u.state.num,
				      SVIRTIO_MAX_QSIZE);
		vq->num = m->u.state.num;
		return 0;
	case SVU_SET_VRING_ADDR: {
		if (want_size(c, sizeof(struct svu_addr)) < 0)
			return -1;
		const struct svu_addr *a = &m->u.addr;
		if (!(vq = vq_of(c, a->index)))
			return -1;
		if (a->flags & ~SVU_VRING_F_LOG)
			return refuse(c, "SET_VRING_ADDR flags 0x%x unknown",
				      a->flags);
		vq->desc_uva = a->desc;
		vq->avail_uva = a->avail;
		vq->used_uva = a->used;
		vq->addr_set = true;
		if (vq->started) {
			char why[200];
			if (svirtio_vq_translate(vq, why, sizeof(why)) < 0)
				svirtio_vq_fail(vq, "%s", why);
		}
		return 0;
	}
	case SVU_SET_VRING_BASE:
		if (h_vring_state(c, &vq) < 0)
			return -1;
		if (vq->started)
			return refuse(c, "SET_VRING_BASE on running vring %u",
				      vq->index);
		vq->base = (uint16_t)m->u.state.num;
		vq->pbase = m->u.state.num;
		vq->base_set = true;
		return 0;
	case SVU_GET_VRING_BASE: {
		if (h_vring_state(c, &vq) < 0)
			return -1;
		struct svu_state st = { vq->index, 0 };
		if (vq->started) {
			stop_vq(d, vq, false);
			drop_kick(d, vq);
			if (d->kind == SVIRTIO_NET)
				svirtio_net_rx_kicked(d);
		}
		if (vq->base_set)
			st.num = svirtio_has(d->acked, SVIRTIO_F_RING_PACKED)
					 ? vq->pbase
					 : vq->base;
		sim_log(SIM_LOG_DEBUG, "%s: vring %u stopped at 0x%x", d->name,
			vq->index, st.num);
		return do_reply(c, &st, sizeof(st));
	}
	case SVU_SET_VRING_KICK:
		return h_set_vring_kick(c);
	case SVU_SET_VRING_CALL:
	case SVU_SET_VRING_ERR:
		return h_set_vring_callerr(c);
	case SVU_SET_VRING_ENABLE:
		if (h_vring_state(c, &vq) < 0)
			return -1;
		if (m->u.state.num > 1)
			return refuse(c, "SET_VRING_ENABLE %u for vring %u",
				      m->u.state.num, vq->index);
		vq->enabled = m->u.state.num;
		if (vq->enabled)
			svirtio_process(vq);
		else if (d->kind == SVIRTIO_NET)
			svirtio_net_rx_kicked(d);  /* waiters re-route */
		return 0;
	case SVU_GET_CONFIG:
		if (!svirtio_has(d->pfeatures, SVU_PF_CONFIG))
			break;
		return h_get_config(c);
	case SVU_SET_CONFIG:
		return refuse(c, "SET_CONFIG: this device has no writable "
				 "config fields");
	case SVU_SET_BACKEND_REQ_FD:
		if (want_size(c, 0) < 0 || want_fds(c, 1) < 0)
			return -1;
		close_fd(&d->backend_fd);
		d->backend_fd = take_fd(c, 0);
		return 0;
	case SVU_SET_STATUS:
		return h_set_status(c);
	case SVU_GET_STATUS:
		if (want_size(c, 0) < 0)
			return -1;
		return do_reply_u64(c, get_status(d));
	default:
		break;
	}
	return refuse(c, "%s (%u) is not supported by this back end",
		      req_name(m->hdr.request), m->hdr.request);
}

__attribute__((format(printf, 3, 4))) static void set_why(char *why,
							  const char **key,
							  const char *fmt, ...)
{
	va_list ap;
	*key = fmt;
	va_start(ap, fmt);
	vsnprintf(why, 300, fmt, ap);
	va_end(ap);
}

static void on_msg(struct sim_loop *loop, int fd, uint32_t events, void *arg)
{
	struct svirtio_dev *d = arg;
	struct svu_msg m;
	int fds[SVU_MAX_FDS], nfds = 0, more = 0;
	char why[300];
	const char *key = NULL;
	(void)loop;
	(void)events;

	ssize_t n = sim_recv_fds(fd, &m.hdr, sizeof(m.hdr), fds, SVU_MAX_FDS,
				 &nfds);
	if (n == 0) {
		svirtio_dev_disconnect(d, "the front end closed the connection");
		return;
	}
	if (n < 0) {
		set_why(why, &key, "cannot read a message: %s",
			n == -EAGAIN ? "timed out mid-message"
				     : strerror((int)-n));
		goto drop;
	}
	if ((m.hdr.flags & SVU_FLAG_VERSION_MASK) != SVU_VERSION ||
	    (m.hdr.flags & SVU_FLAG_REPLY)) {
		set_why(why, &key,
			"message %u has flags 0x%x (version must be 1, no "
			"reply bit)", m.hdr.request, m.hdr.flags);
		goto drop;
	}
	if (m.hdr.size > SVU_MAX_PAYLOAD) {
		set_why(why, &key,
			"message %u announces a %u-byte payload (at most %u)",
			m.hdr.request, m.hdr.size, SVU_MAX_PAYLOAD);
		goto drop;
	}
	if (m.hdr.size) {
		n = sim_recv_fds(fd, &m.u, m.hdr.size, fds + nfds,
				 SVU_MAX_FDS - nfds, &more);
		nfds += more;
		if (n <= 0) {
			set_why(why, &key, "message %u is truncated (%s)",
				m.hdr.request,
				n == 0 ? "connection closed"
				: n == -EAGAIN ? "timed out"
					       : strerror((int)-n));
			goto drop;
		}
	}
	sim_log(SIM_LOG_DEBUG, "%s: <- %s size %u fds %d", d->name,
		req_name(m.hdr.request), m.hdr.size, nfds);

	struct ctx c = { .d = d, .m = &m, .fds = fds, .nfds = nfds };
	int r = handle(&c);
	bool ack = (m.hdr.flags & SVU_FLAG_NEED_REPLY) &&
		   svirtio_has(d->pf_acked, SVU_PF_REPLY_ACK) && !c.replied;
	for (int i = 0; i < nfds; i++)
		close_fd(&fds[i]);
	if (d->sock < 0)
		return;
	if (r < 0) {
		key = c.key;
		snprintf(why, sizeof(why), "%s", c.why);
		if (c.replied || !ack)
			goto drop_nofds;
		svirtio_complain_key(d, key, "%s: refused: %s", d->name, c.why);
		if (reply_u64(d, &m, 1) < 0)
			svirtio_dev_disconnect(d, "cannot send a reply");
		return;
	}
	if (ack && reply_u64(d, &m, 0) < 0)
		svirtio_dev_disconnect(d, "cannot send a reply");
	return;

drop:
	for (int i = 0; i < nfds; i++)
		close_fd(&fds[i]);
drop_nofds:
	svirtio_complain_key(d, key, "%s: closing the connection: %s", d->name,
			     why);
	svirtio_dev_disconnect(d, why);
}

static void on_accept(struct sim_loop *loop, int fd, uint32_t events,
		      void *arg)
{
	struct svirtio_dev *d = arg;
	(void)events;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (d->sock >= 0) {
		/* A front end that closed and connected again at once: its
		 * EOF may still be queued behind this accept. */
		struct pollfd pf = { d->sock, POLLRDHUP, 0 };
		if (poll(&pf, 1, 0) == 1 &&
		    (pf.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			svirtio_dev_disconnect(d, "the front end closed the "
						  "connection");
		} else {
			svirtio_complain(d, "%s: refusing a second front end on "
					    "%s while one is connected",
					 d->name, d->path);
			close(c);
			return;
		}
	}
	struct timeval tv = { MSG_TIMEOUT_S, 0 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int r = sim_loop_add(loop, c, EPOLLIN, on_msg, d);
	if (r < 0) {
		sim_log(SIM_LOG_ERROR, "%s: cannot watch a connection: %s",
			d->name, strerror(-r));
		close(c);
		return;
	}
	d->sock = c;
	d->conn_count++;
	reset_session(d);
	sim_log(SIM_LOG_INFO, "%s: front end connected (connection %u)",
		d->name, d->conn_count);
}

int svirtio_dev_listen(struct svirtio_dev *d)
{
	struct stat st;
	int fd = sim_listen_unix(d->path, 4);
	if (fd < 0)
		return fd;
	if (stat(d->path, &st) == 0) {
		d->sock_dev = st.st_dev;
		d->sock_ino = st.st_ino;
	}
	int r = sim_loop_add(d->host->loop, fd, EPOLLIN, on_accept, d);
	if (r < 0) {
		close(fd);
		unlink(d->path);
		return r;
	}
	d->listen_fd = fd;
	return 0;
}

void svirtio_dev_close(struct svirtio_dev *d)
{
	struct stat st;
	svirtio_dev_disconnect(d, "the simulated host is shutting down");
	if (d->listen_fd >= 0) {
		sim_loop_del(d->host->loop, d->listen_fd);
		close_fd(&d->listen_fd);
		/* remove the socket only if it is still ours */
		if (stat(d->path, &st) == 0 && st.st_dev == d->sock_dev &&
		    st.st_ino == d->sock_ino)
			unlink(d->path);
	}
}
