/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/chan.c - serving one open channel: read the guest's packets,
 * check their framing, hand them to the device engine, write the host's
 * packets, and interrupt the guest exactly when a Hyper-V host would.
 *
 * While the host reads the guest-to-host ring it sets that ring's
 * interrupt_mask (so the guest need not signal), clears it when done and
 * looks once more.  Output that does not fit the host-to-guest ring waits
 * in a small queue; while anything waits the host reads no more requests
 * (back pressure instead of unbounded buffering), sets pending_send_sz when
 * the guest supports it and retries on the guest's signal or a timer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/shv.h"

#define RETRY_NS 1000000ull /* ring full: look again after 1 ms */
#define SCRATCH_MAX (512u * 1024u)
#define BUILD_MAX 2048u

const char *shv_chan_name(const struct shv_chan *c)
{
	static char bufs[4][64];
	static unsigned k;
	char *b = bufs[k++ % 4];
	snprintf(b, sizeof(bufs[0]), "part %u relid %u (%s/%u)",
		 c->part->id, c->relid, c->dev->name, c->sub_index);
	return b;
}

bool shv_chan_is_open(const struct shv_chan *c)
{
	return c && c->state == SHV_CH_OPEN && !c->broken;
}

void shv_chan_break(struct shv_chan *c, const char *why)
{
	if (c->broken)
		return;
	c->broken = true;
	shv_warn("%s: %s; the host stops serving this channel until it is "
		 "closed", shv_chan_name(c), why);
}

static void timer_cb(struct sim_loop *loop, void *arg)
{
	struct shv_chan *c = arg;
	(void)loop;
	c->timer = 0;
	shv_chan_service(c);
}

static void arm(struct shv_chan *c, uint64_t ns)
{
	if (!c->timer)
		c->timer = sim_loop_timer(c->part->host->loop, ns, timer_cb, c);
}

int shv_chan_start(struct shv_chan *c)
{
	c->scratch_len = c->in.size < SCRATCH_MAX ? c->in.size : SCRATCH_MAX;
	c->scratch = malloc(c->scratch_len);
	c->outq = malloc(SHV_OUTQ_BYTES);
	c->outq_len = 0;
	c->broken = false;
	c->need_intr = false;
	if (!c->scratch || !c->outq) {
		shv_chan_stop(c);
		return -ENOMEM;
	}
	return 0;
}

void shv_chan_stop(struct shv_chan *c)
{
	if (c->timer)
		sim_loop_cancel(c->part->host->loop, c->timer);
	c->timer = 0;
	free(c->scratch);
	free(c->outq);
	c->scratch = NULL;
	c->outq = NULL;
	c->scratch_len = 0;
	c->outq_len = 0;
	c->need_intr = false;
}

void shv_chan_flush_intr(struct shv_chan *c)
{
	if (!c->need_intr)
		return;
	c->need_intr = false;
	c->st.interrupts++;
	c->part->door->interrupt(c->part, c);
}

/* Write one built packet; -ENOSPC when the ring is full, -EPIPE broken. */
static int ring_put(struct shv_chan *c, const uint8_t *pkt, uint32_t len)
{
	bool sig = false, supp = false;
	const char *why = NULL;
	int r = shv_ring_write(&c->out, pkt, len, &sig, &supp, &why);
	if (r == -EPROTO) {
		shv_chan_break(c, why);
		return -EPIPE;
	}
	if (r < 0)
		return r;
	c->st.pkts_out++;
	c->st.bytes_out += len;
	if (sig)
		c->need_intr = true;
	if (supp)
		c->st.interrupts_suppressed++;
	return 0;
}

/* Queued packets are stored as u32 length + packet. */
static bool flush_outq(struct shv_chan *c)
{
	uint32_t off = 0;
	while (off < c->outq_len) {
		uint32_t len = shv_get32(c->outq + off);
		int r = ring_put(c, c->outq + off + 4, len);
		if (r == -ENOSPC)
			break;
		off += 4 + len;
		if (r < 0) {
			off = c->outq_len;
			break;
		}
	}
	memmove(c->outq, c->outq + off, c->outq_len - off);
	c->outq_len -= off;
	if (c->outq_len) {
		c->st.ring_full++;
		arm(c, RETRY_NS);
		return false;
	}
	shv_ring_clear_pending(&c->out);
	return true;
}

int shv_chan_send(struct shv_chan *c, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *hdr, uint32_t hdr_len,
		  const void *data, uint32_t len, unsigned how)
{
	uint8_t buf[BUILD_MAX];
	if (c->state != SHV_CH_OPEN || c->broken || !c->outq)
		return -EPIPE;
	uint32_t hl = (uint32_t)sizeof(struct shv_pkt_desc) + hdr_len;
	uint32_t total = (hl + len + 7u) & ~7u;
	if ((hl & 7) || total > sizeof(buf))
		return -EMSGSIZE;
	struct shv_pkt_desc d = {
		.type = type,
		.offset8 = (uint16_t)(hl / 8),
		.len8 = (uint16_t)(total / 8),
		.flags = flags,
		.trans_id = trans_id,
	};
	uint32_t kinds = SHV_CK(SHV_CORRUPT_OFFSET8) | SHV_CK(SHV_CORRUPT_LEN8);
	if (type == SHV_PKT_COMP)
		kinds |= SHV_CK(SHV_CORRUPT_TRANSID);
	switch (shv_dev_take_corrupt(c->dev, kinds)) {
	case SHV_CORRUPT_TRANSID:
		d.trans_id ^= 0x5A5A5A5A00000000ull | 0x7Fu;
		break;
	case SHV_CORRUPT_OFFSET8:
		d.offset8 = (uint16_t)(d.len8 + 1);
		break;
	case SHV_CORRUPT_LEN8:
		d.len8 = (uint16_t)(d.len8 + 64);
		break;
	default:
		break;
	}
	memset(buf, 0, total);
	memcpy(buf, &d, sizeof(d));
	if (hdr_len)
		memcpy(buf + sizeof(d), hdr, hdr_len);
	if (len)
		memcpy(buf + hl, data, len);

	int r = -ENOSPC;
	if (!c->outq_len)
		r = ring_put(c, buf, total);
	if (r == -EPIPE)
		return r;
	if (r == -ENOSPC) {
		c->st.ring_full++;
		if ((how & SHV_SEND_DROPPABLE) ||
		    c->outq_len + 4 + total > SHV_OUTQ_BYTES) {
			c->st.dropped++;
			if (!(how & SHV_SEND_DROPPABLE))
				shv_warn("%s: guest does not read its ring; "
					 "host packet dropped",
					 shv_chan_name(c));
			return -ENOSPC;
		}
		shv_put32(c->outq + c->outq_len, total);
		memcpy(c->outq + c->outq_len + 4, buf, total);
		c->outq_len += 4 + total;
		arm(c, RETRY_NS);
	}
	if (!c->servicing)
		shv_chan_flush_intr(c);
	return 0;
}

int shv_chan_complete(struct shv_chan *c, uint64_t trans_id,
		      const void *data, uint32_t len)
{
	return shv_chan_send(c, SHV_PKT_COMP, 0, trans_id, NULL, 0, data, len,
			     0);
}

/* Check a packet's type-specific header; NULL when fine. */
static const char *parse(const uint8_t *raw, uint32_t total,
			 struct shv_pkt *pkt)
{
	struct shv_pkt_desc d;
	memcpy(&d, raw, sizeof(d));
	memset(pkt, 0, sizeof(*pkt));
	pkt->type = d.type;
	pkt->flags = d.flags;
	pkt->trans_id = d.trans_id;
	pkt->raw = raw;
	pkt->hdr_len = (uint32_t)d.offset8 * 8u;
	pkt->data = raw + pkt->hdr_len;
	pkt->len = total - pkt->hdr_len;
	switch (d.type) {
	case SHV_PKT_INBAND:
	case SHV_PKT_COMP:
		return NULL;
	case SHV_PKT_GPA_DIRECT:
		break;
	default:
		return "packet type the host does not accept from a guest";
	}
	if (pkt->hdr_len < sizeof(struct shv_gpa_direct_hdr))
		return "GPA-direct packet offset8 too small for its header";
	uint32_t cnt = shv_get32(raw + 20);
	if (!cnt || cnt > SHV_SG_MAX)
		return "GPA-direct packet range count zero or too large";
	uint32_t off = sizeof(struct shv_gpa_direct_hdr);
	for (uint32_t i = 0; i < cnt; i++) {
		if (pkt->hdr_len - off < sizeof(struct shv_gpa_range))
			return "GPA-direct ranges run past offset8";
		uint32_t bc = shv_get32(raw + off);
		uint32_t bo = shv_get32(raw + off + 4);
		if (!bc || bo >= SHV_PAGE)
			return "GPA range with zero bytes or offset past a page";
		uint64_t npfn = ((uint64_t)bo + bc + SHV_PAGE - 1) / SHV_PAGE;
		off += (uint32_t)sizeof(struct shv_gpa_range);
		if ((uint64_t)pkt->hdr_len - off < npfn * 8u)
			return "GPA-direct PFN list runs past offset8";
		off += (uint32_t)npfn * 8u;
	}
	if (off != pkt->hdr_len)
		return "GPA-direct offset8 does not end where the ranges end";
	pkt->range_cnt = cnt;
	pkt->ranges = raw + sizeof(struct shv_gpa_direct_hdr);
	return NULL;
}

int shv_pkt_sg(struct shv_part *p, const struct shv_pkt *pkt,
	       struct shv_sg *sg, const char **reason)
{
	shv_sg_reset(sg);
	const uint8_t *q = pkt->ranges;
	for (uint32_t i = 0; i < pkt->range_cnt; i++) {
		uint32_t bc = shv_get32(q), bo = shv_get32(q + 4);
		uint32_t npfn = (uint32_t)(((uint64_t)bo + bc + SHV_PAGE - 1) /
					   SHV_PAGE);
		q += sizeof(struct shv_gpa_range);
		for (uint32_t k = 0; k < npfn; k++) {
			uint8_t *hva = shv_part_page(p, shv_get64(q + 8u * k));
			if (!hva) {
				*reason = "a PFN lies outside guest memory";
				return -EFAULT;
			}
			uint32_t o = k ? 0 : bo;
			uint32_t n = SHV_PAGE - o < bc ? SHV_PAGE - o : bc;
			if (shv_sg_add(sg, hva + o, n) < 0) {
				*reason = "too many pages in one request";
				return -E2BIG;
			}
			bc -= n;
		}
		q += 8u * npfn;
	}
	return 0;
}

void shv_chan_service(struct shv_chan *c)
{
	if (c->state != SHV_CH_OPEN || c->broken || c->servicing)
		return;
	c->servicing = true;
	if (c->outq_len && !flush_outq(c))
		goto out;
	shv_ring_set_imask(&c->in, 1);
	for (;;) {
		uint32_t consumed = 0;
		while (!c->outq_len && !c->broken && c->state == SHV_CH_OPEN) {
			const char *why = NULL;
			int n = shv_ring_peek(&c->in, c->scratch, c->scratch_len,
					      &why);
			if (n < 0) {
				shv_chan_break(c, why);
				break;
			}
			if (n == 0)
				break;
			shv_ring_consume(&c->in, (uint32_t)n);
			consumed += (uint32_t)n + 8u;
			c->read_since_signal++;
			c->st.pkts_in++;
			c->st.bytes_in += (uint32_t)n;
			struct shv_pkt pkt;
			why = parse(c->scratch, (uint32_t)n, &pkt);
			if (why) {
				c->st.bad++;
				shv_warn("%s: %s (type %u); packet dropped",
					 shv_chan_name(c), why, pkt.type);
				continue;
			}
			c->dev->ops->packet(c, &pkt);
		}
		if (c->state != SHV_CH_OPEN || c->broken)
			break;
		if (consumed && shv_ring_publish_read(&c->in, consumed))
			c->need_intr = true;
		if (c->outq_len)
			break; /* resumed when the queue drains */
		shv_ring_set_imask(&c->in, 0);
		if (shv_ring_in_empty(&c->in))
			break;
		shv_ring_set_imask(&c->in, 1);
	}
out:
	c->servicing = false;
	if (c->state == SHV_CH_OPEN)
		shv_chan_flush_intr(c);
}

void shv_chan_kick(struct shv_chan *c)
{
	if (c->state != SHV_CH_OPEN || c->broken)
		return;
	uint32_t delay = c->part->host->delay_ms;
	if (delay) {
		arm(c, (uint64_t)delay * 1000000ull);
		return;
	}
	shv_chan_service(c);
}

void shv_chan_signalled(struct shv_chan *c, uint64_t n)
{
	if (!n)
		return;
	c->st.signals_in += n;
	if (c->state == SHV_CH_OPEN && !c->broken) {
		/* One signal per batch written to an empty ring, one more when
		 * the guest made room the host was waiting for.  A batch the
		 * host already read (it looked once more before it unmasked,
		 * and found it) still had its signal due. */
		uint64_t expected = 0;
		if (!shv_ring_in_empty(&c->in) || c->read_since_signal)
			expected++;
		if (c->outq_len)
			expected++;
		if (n > expected)
			c->st.signals_unexpected += n - expected;
		c->read_since_signal = 0;
	} else {
		c->st.signals_unexpected += n;
	}
	shv_chan_kick(c);
}
