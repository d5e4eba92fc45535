/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/dev.c - the processing engine shared by the device models:
 * when a queue runs, how completions reach the used ring, and the faults
 * the management socket can inject on the way (delay, hang, reverse
 * order, corrupt id/len).
 *
 * A queue is drained in batches of `batch` buffers with kicks disabled;
 * after each batch its completions are written and the driver is notified
 * once (if it wants to be).  When the ring looks empty, kicks are
 * re-enabled and the ring is checked once more, so a buffer added in
 * between is never missed.  A busy queue yields to the loop after
 * SVIRTIO_MAX_ROUNDS batches so one driver cannot starve the others.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "virtio/svirtio.h"

void svirtio_complain_key(struct svirtio_dev *d, const void *key,
			  const char *fmt, ...)
{
	struct svirtio_ratelimit *rl = NULL, *oldest = &d->rl[0];
	uint64_t now = sim_now_ns();
	char line[400];
	va_list ap;

	for (unsigned i = 0; i < SVIRTIO_RL_SLOTS && !rl; i++) {
		if (d->rl[i].key == key)
			rl = &d->rl[i];
		else if (d->rl[i].window < oldest->window)
			oldest = &d->rl[i];
	}
	if (!rl) {
		rl = oldest;
		memset(rl, 0, sizeof(*rl));
		rl->key = key;
	}
	if (now - rl->window >= 1000000000ull) {
		rl->window = now;
		rl->printed = 0;
	}
	if (rl->printed >= 3) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->suppressed) {
		sim_log(SIM_LOG_WARN, "%s (%u similar messages suppressed)",
			line, rl->suppressed);
		rl->suppressed = 0;
	} else {
		sim_log(SIM_LOG_WARN, "%s", line);
	}
}

size_t svirtio_iov_copy_from(const struct svirtio_seg *seg, unsigned nseg,
			     size_t off, void *dst, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < nseg && done < len; i++) {
		if (off >= seg[i].len) {
			off -= seg[i].len;
			continue;
		}
		size_t n = seg[i].len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)dst + done, seg[i].p + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t svirtio_iov_copy_to(const struct svirtio_seg *seg, unsigned nseg,
			   size_t off, const void *src, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < nseg && done < len; i++) {
		if (off >= seg[i].len) {
			off -= seg[i].len;
			continue;
		}
		size_t n = seg[i].len - off;
		if (n > len - done)
			n = len - done;
		memcpy(seg[i].p + off, (const uint8_t *)src + done, n);
		done += n;
		off = 0;
	}
	return done;
}

bool svirtio_vq_ready(const struct svirtio_vq *vq)
{
	const struct svirtio_dev *d = vq->dev;
	if (!vq->started || vq->broken || d->sock < 0)
		return false;
	/* With STATUS negotiated the front end says when the driver is
	 * live; until DRIVER_OK the device must not use buffers. */
	if (svirtio_has(d->pf_acked, SVU_PF_STATUS) &&
	    !(d->status & SVIRTIO_S_DRIVER_OK))
		return false;
	return true;
}

static void cont_cb(struct sim_loop *loop, void *arg)
{
	struct svirtio_vq *vq = arg;
	(void)loop;
	vq->cont_timer = 0;
	svirtio_process(vq);
}

static bool is_net_rx(const struct svirtio_vq *vq)
{
	const struct svirtio_dev *d = vq->dev;
	return d->kind == SVIRTIO_NET && !(vq->index & 1) &&
	       vq->index != svirtio_net_ctrl_index(d);
}

void svirtio_process(struct svirtio_vq *vq)
{
	struct svirtio_dev *d = vq->dev;
	unsigned batch = d->o.batch;

	if (!svirtio_vq_ready(vq) || vq->blocked)
		return;
	if (is_net_rx(vq)) {
		/* RX buffers are consumed when frames arrive; a kick only
		 * means "more buffers": wake whoever waits for them. */
		svirtio_vq_kicks_off(vq);
		svirtio_net_rx_kicked(d);
		return;
	}
	/* A disabled net TX ring is still drained (frames dropped, as the
	 * vhost-user spec asks); other disabled rings wait for
	 * SET_VRING_ENABLE. */
	if (!vq->enabled &&
	    (d->kind != SVIRTIO_NET || vq->index == svirtio_net_ctrl_index(d)))
		return;
	for (unsigned round = 0;; round++) {
		svirtio_vq_kicks_off(vq);
		unsigned n = d->kind == SVIRTIO_BLK
				     ? svirtio_blk_handle(vq, batch)
				     : svirtio_net_handle(vq, batch);
		svirtio_complete_ready(vq);
		if (!vq->started || vq->broken || vq->blocked || d->sock < 0)
			return;
		if (n < batch && !svirtio_vq_kicks_on(vq))
			return;
		if (round + 1 >= SVIRTIO_MAX_ROUNDS) {
			if (!vq->cont_timer)
				vq->cont_timer = sim_loop_timer(d->host->loop, 0,
								cont_cb, vq);
			return;
		}
	}
}

void svirtio_kick_cb(struct sim_loop *loop, int fd, uint32_t events,
		     void *arg)
{
	struct svirtio_vq *vq = arg;
	(void)loop;
	(void)events;
	sim_eventfd_drain(fd);
	vq->st.kicks++;
	svirtio_process(vq);
}

void svirtio_dev_kick_all(struct svirtio_dev *d)
{
	for (unsigned i = 0; i < d->nvqs; i++)
		if (d->vq[i].started)
			svirtio_process(&d->vq[i]);
}

/* ------------------------------------------------------- completions */
static void timer_cb(struct sim_loop *loop, void *arg)
{
	struct svirtio_vq *vq = arg;
	(void)loop;
	vq->timer = 0;
	svirtio_complete_ready(vq);
}

void svirtio_complete(struct svirtio_vq *vq, uint16_t id, uint16_t ndesc,
		      uint32_t len, bool wrote, uint16_t group)
{
	struct svirtio_faults *f = &vq->dev->f;
	if (vq->pend_count >= vq->num) {
		/* cannot happen: every outstanding buffer has its own id */
		svirtio_vq_fail(vq, "internal: completion FIFO overflow");
		return;
	}
	struct svirtio_done *p =
		&vq->pend[(vq->pend_head + vq->pend_count) % vq->num];
	p->id = id;
	p->ndesc = ndesc;
	p->len = len;
	p->wrote = wrote;
	p->group = group;
	p->due = 0;
	if (f->delay_ms) {
		p->due = sim_now_ns() + (uint64_t)f->delay_ms * 1000000ull;
		vq->st.delayed++;
	}
	vq->pend_count++;
}

static void push_one(struct svirtio_vq *vq, const struct svirtio_done *p)
{
	struct svirtio_faults *f = &vq->dev->f;
	uint32_t id = p->id, len = p->len;

	if (f->corrupt != SVIRTIO_CORRUPT_NONE && f->corrupt_count) {
		const char *what = "id";
		switch (f->corrupt) {
		case SVIRTIO_CORRUPT_ID:
			id = vq->num;              /* out of range */
			break;
		case SVIRTIO_CORRUPT_DUP:          /* not outstanding */
			what = "id (duplicate)";
			id = f->have_last_id ? f->last_id
					     : (uint16_t)((p->id + 1) % vq->num);
			break;
		case SVIRTIO_CORRUPT_LEN:
			what = "len";
			len = p->len + 0x10000u;   /* beyond the buffer */
			break;
		default:
			break;
		}
		if (--f->corrupt_count == 0)
			f->corrupt = SVIRTIO_CORRUPT_NONE;
		vq->st.corrupted++;
		sim_log(SIM_LOG_INFO,
			"%s: queue %u: corrupted the used %s of buffer %u "
			"(fault injection): id %u len %u",
			vq->dev->name, vq->index, what, p->id, id, len);
	}
	f->last_id = p->id;
	f->have_last_id = true;
	vq->inflight[p->id / 64] &= ~(1ull << (p->id % 64));
	svirtio_vq_push_raw(vq, id, p->ndesc, len, p->wrote);
}

void svirtio_complete_ready(struct svirtio_vq *vq)
{
	struct svirtio_faults *f = &vq->dev->f;
	if (!vq->started || vq->broken || !vq->pend_count || f->hang)
		return;

	uint64_t now = 0;
	unsigned k = 0;
	while (k < vq->pend_count) {
		const struct svirtio_done *p =
			&vq->pend[(vq->pend_head + k) % vq->num];
		if (p->due) {
			if (!now)
				now = sim_now_ns();
			if (p->due > now)
				break;
		}
		k++;
	}
	/* never split a group (the buffers of one merged RX frame) */
	while (k && k < vq->pend_count &&
	       vq->pend[(vq->pend_head + k) % vq->num].group == 0)
		k--;
	if (k) {
		if (f->ooo && !vq->in_order && k > 1) {
			/* reverse the batch, unit by unit */
			int j = (int)k - 1;
			while (j >= 0) {
				int s = j;
				while (s > 0 &&
				       vq->pend[(vq->pend_head + (unsigned)s) %
						vq->num].group == 0)
					s--;
				for (int i = s; i <= j; i++)
					push_one(vq, &vq->pend[(vq->pend_head +
								(unsigned)i) %
							       vq->num]);
				j = s - 1;
			}
			vq->st.reordered++;
		} else {
			for (unsigned i = 0; i < k; i++)
				push_one(vq, &vq->pend[(vq->pend_head + i) %
						       vq->num]);
		}
		vq->pend_head = (vq->pend_head + k) % vq->num;
		vq->pend_count -= k;
		svirtio_vq_flush(vq);
	}
	if (vq->pend_count && !vq->timer) {
		const struct svirtio_done *p = &vq->pend[vq->pend_head];
		if (!now)
			now = sim_now_ns();
		uint64_t wait = p->due > now ? p->due - now : 0;
		vq->timer = sim_loop_timer(vq->dev->host->loop, wait, timer_cb,
					   vq);
	}
}

void svirtio_complete_all(struct svirtio_vq *vq, bool discard)
{
	if (vq->timer) {
		sim_loop_cancel(vq->dev->host->loop, vq->timer);
		vq->timer = 0;
	}
	if (!vq->started || !vq->pend_count)
		return;
	if (discard || vq->broken) {
		sim_log(SIM_LOG_INFO, "%s: queue %u: %u completions discarded",
			vq->dev->name, vq->index, vq->pend_count);
		for (unsigned i = 0; i < vq->pend_count; i++) {
			unsigned id = vq->pend[(vq->pend_head + i) % vq->num].id;
			vq->inflight[id / 64] &= ~(1ull << (id % 64));
		}
	} else {
		for (unsigned i = 0; i < vq->pend_count; i++)
			push_one(vq, &vq->pend[(vq->pend_head + i) % vq->num]);
		svirtio_vq_flush(vq);
	}
	vq->pend_head = vq->pend_count = 0;
}

void svirtio_config_changed(struct svirtio_dev *d)
{
	struct svu_hdr h = { SVU_BACKEND_CONFIG_CHANGE_MSG, SVU_VERSION, 0 };
	if (d->backend_fd < 0 || !svirtio_has(d->pf_acked, SVU_PF_CONFIG) ||
	    !svirtio_has(d->pf_acked, SVU_PF_BACKEND_REQ))
		return;
	if (send(d->backend_fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(h))
		sim_log(SIM_LOG_WARN,
			"%s: cannot send CONFIG_CHANGE to the front end: %s",
			d->name, strerror(errno));
}
