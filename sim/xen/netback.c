/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/netback.c - a network back end that behaves like Linux
 * xen-netback (drivers/net/xen-netback, 6.1), attached to a one-vif
 * "reflect" loop (frames come back to the sender) or to a hub shared by
 * the vifs of one bridge group (frames go to every other connected vif of
 * the group, whichever domain it belongs to).
 *
 * XenBus: at probe, Initialising plus (in one transaction) feature-sg,
 * feature-gso-tcpv4/6, feature-ipv6-csum-offload, feature-rx-copy,
 * feature-rx-flip=0, then feature-split-event-channels,
 * multi-queue-max-queues and `carrier`; the toolstack's `script` and
 * `handle` must exist.  Front Initialising -> InitWait; front Initialised is
 * ignored; front Connected -> connect: multi-queue-num-queues, `mac`,
 * request-rx-copy (see below), feature-rx-notify, feature-sg,
 * feature-gso-tcpv4/6, feature-no-csum-offload,
 * feature-ipv6-csum-offload, then per queue tx-ring-ref, rx-ring-ref and
 * event-channel-tx/-rx or event-channel.  The state only becomes Connected
 * once `hotplug-status` says "connected" (the hotplug script's job), as in
 * Linux.  Closing and Closed follow Linux's set_backend_state() walk.
 *
 * request-rx-copy: Linux before 3.16 refused to connect without it; Linux
 * since then connects anyway but ignores the front end's other feature
 * keys.  By default we refuse (xenbus_dev_fatal); the vif option
 * `lax-rx-copy` gives today's Linux behaviour.
 *
 * TX follows xenvif_tx_build_gops(): extra-info slots (GSO, multicast,
 * hash; type 0 or >= 6 is fatal), up to 18 more data slots (more gets
 * ERROR responses, 20 or more is fatal), a slot larger than what remains
 * of the packet gets ERROR responses, a slot crossing its page or a ring
 * holding more requests than it can is fatal (the vif is disabled, as
 * xenvif_fatal_tx_err does), a first slot under 14 bytes gets ERROR,
 * a zero GSO size or unknown GSO type is fatal.  Data is grant-copied
 * read-only; each slot gets its response, extra-info slots a NULL one.
 * RX copies into the front end's pages at offset 0, a GSO extra-info slot
 * after the first data slot, the response in the request's slot.
 * Checksums: csum_blank frames must carry the pseudo-header sum; the
 * receiving side gets csum_blank|data_validated if it has checksum
 * offload, else a completed checksum; GSO frames go as GSO only to a
 * receiver with feature-sg and the matching feature-gso-*, else they are
 * segmented in software.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

#define NB_MAX_QUEUES 16
#define FATAL_SKB_SLOTS 20u
#define RXQ_MAX_BYTES (512u * 1024u)
#define RX_POLL_NS (10u * 1000000u)
#define UNPLUG_TIMEOUT_MS 10000u

struct tresp {
	uint16_t id;
	int16_t st;
	uint64_t due;
};

struct nstats {
	uint64_t tx_pkts, tx_bytes, tx_err, tx_csum_drop;
	uint64_t rx_pkts, rx_bytes, rx_err;
	uint64_t drop_link, drop_mtu, drop_nosg, drop_full, drop_gso;
	uint64_t gso_in, gso_segmented, csum_completed;
	uint64_t notify_tx, notify_rx, suppressed, kicks, spurious;
	uint64_t dropped, corrupted, delayed;
};

struct netq {
	struct sxen_netback *nb;
	unsigned idx;
	bool mapped, split, bound_tx, bound_rx;
	struct sxen_ring tx, rx;
	uint32_t tx_ref, rx_ref;
	uint32_t tx_port, tx_gen, rx_port, rx_gen;
	struct sxen_frame *rxq, *rxq_tail;
	uint32_t rxq_bytes;
	uint64_t rx_timer, tx_timer;
	struct tresp *tq; /* held TX responses */
	uint32_t tq_head, tq_n;
	bool jump;
	struct nstats st;
};

struct sxen_netback {
	struct sxen_xbdev xb;
	struct sxen_vif_cfg *cfg;
	struct sxen_domain *dom;
	int state; /* netback's be->state */
	bool hotplug_watch;
	bool connected, disabled;
	bool can_sg, ip_csum, ipv6_csum, rx_notify;
	unsigned gso_mask;
	uint8_t fe_mac[6];
	unsigned nq;
	struct netq q[NB_MAX_QUEUES];
	uint64_t unplug_timer;
	char hotplug_path[128];
};

static void rx_action(struct netq *q);
static void tx_action(struct netq *q, bool kicked);

struct sxen_domain *sxen_netback_domain(struct sxen_netback *nb)
{
	return nb->dom;
}

/* ------------------------------------------------------------ frames */

static void frame_free_list(struct sxen_frame *f)
{
	while (f) {
		struct sxen_frame *n = f->next;
		free(f);
		f = n;
	}
}

static bool gso_ok(const struct sxen_netback *nb, unsigned type)
{
	if (!nb->can_sg || !(nb->gso_mask & (1u << type)))
		return false;
	return type == SNET_GSO_TYPE_TCPV4 ? nb->ip_csum : nb->ipv6_csum;
}

static unsigned pick_queue(const struct sxen_netback *nb,
			   const struct sxen_frame *f)
{
	if (nb->nq <= 1 || f->len < 34)
		return 0;
	uint32_t h = 2166136261u;
	for (uint32_t i = 26; i < 34 && i < f->len; i++)
		h = (h ^ f->data[i]) * 16777619u;
	h ^= h >> 16; /* mix the high bits into the low ones */
	h *= 0x7feb352du;
	h ^= h >> 15;
	return h % nb->nq;
}

static void enqueue_rx(struct sxen_netback *nb, struct sxen_frame *f)
{
	struct netq *q = &nb->q[pick_queue(nb, f)];
	if (q->rxq_bytes + f->len > RXQ_MAX_BYTES) {
		q->st.drop_full++;
		free(f);
		return;
	}
	f->next = NULL;
	f->due = nb->cfg->f.delay_ms
			 ? sim_now_ns() + (uint64_t)nb->cfg->f.delay_ms * 1000000u
			 : 0;
	if (q->rxq_tail)
		q->rxq_tail->next = f;
	else
		q->rxq = f;
	q->rxq_tail = f;
	q->rxq_bytes += f->len;
	rx_action(q);
}

/* Hand one frame to the receiving vif, as the bridge and its transmit
 * path would: MTU, checksum help, software GSO. */
static void deliver_to(struct sxen_netback *nb, struct sxen_frame *f)
{
	struct netq *q0 = &nb->q[0];
	if (!nb->connected || nb->disabled || !nb->cfg->link || !nb->nq) {
		q0->st.drop_link++;
		free(f);
		return;
	}
	if (f->gso_type) {
		if (gso_ok(nb, f->gso_type)) {
			enqueue_rx(nb, f);
			return;
		}
		struct sxen_frame *segs = sxen_pkt_segment(f);
		free(f);
		if (!segs) {
			q0->st.drop_gso++;
			return;
		}
		q0->st.gso_segmented++;
		while (segs) {
			struct sxen_frame *n = segs->next;
			segs->next = NULL;
			deliver_to(nb, segs);
			segs = n;
		}
		return;
	}
	if (f->len > nb->cfg->mtu + 18) {
		q0->st.drop_mtu++;
		free(f);
		return;
	}
	if (f->csum == SXEN_CSUM_PARTIAL &&
	    !(f->l3 == 4 ? nb->ip_csum : nb->ipv6_csum)) {
		if (sxen_pkt_csum_complete(f->data, f->len)) {
			free(f);
			return;
		}
		f->csum = SXEN_CSUM_NONE;
		q0->st.csum_completed++;
	}
	if (!nb->can_sg && f->len > SXEN_PAGE_SIZE) {
		q0->st.drop_nosg++;
		free(f);
		return;
	}
	enqueue_rx(nb, f);
}

static struct sxen_frame *frame_dup(const struct sxen_frame *f)
{
	struct sxen_frame *c = sxen_frame_new(f->len);
	if (!c)
		return NULL;
	memcpy(c, f, sizeof(*c) + f->len);
	c->next = NULL;
	return c;
}

static void deliver(struct sxen_netback *src, struct sxen_frame *f)
{
	struct sxen_host *h = src->xb.h;
	if (!src->cfg->link) {
		src->q[0].st.drop_link++;
		free(f);
		return;
	}
	if (src->cfg->mode == SXEN_VIF_REFLECT) {
		deliver_to(src, f);
		return;
	}
	for (unsigned i = 0; i < h->nvif; i++) {
		struct sxen_vif_cfg *v = &h->vif[i];
		if (v == src->cfg || !v->nb || v->mode != SXEN_VIF_BRIDGE ||
		    strcmp(v->bridge, src->cfg->bridge))
			continue;
		struct sxen_frame *c = frame_dup(f);
		if (c)
			deliver_to(v->nb, c);
	}
	free(f);
}

/* ------------------------------------------------------------ TX */

static void fatal_tx(struct netq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fatal_tx(struct netq *q, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_log(SIM_LOG_WARN, "%s: %s; vif disabled (xenvif_fatal_tx_err)",
		q->nb->xb.be, msg);
	q->nb->disabled = true;
	if (q->nb->cfg->link)
		sxen_xb_printf(&q->nb->xb, 0, "carrier", "0");
}

static void tx_write(struct netq *q, uint16_t id, int16_t st)
{
	struct sxen_faults *f = &q->nb->cfg->f;
	struct sxen_netif_tx_response r = { id, st };
	if (f->corrupt & (SXEN_CORRUPT_ID | SXEN_CORRUPT_STATUS |
			  SXEN_CORRUPT_RSP_PROD)) {
		if (f->corrupt & SXEN_CORRUPT_ID)
			r.id = (uint16_t)(id ^ 0x8000u);
		if (f->corrupt & SXEN_CORRUPT_STATUS)
			r.status = 0x55;
		if (f->corrupt & SXEN_CORRUPT_RSP_PROD)
			q->jump = true;
		f->corrupt &= ~(uint32_t)(SXEN_CORRUPT_ID | SXEN_CORRUPT_STATUS |
					  SXEN_CORRUPT_RSP_PROD);
		q->st.corrupted++;
	}
	sxen_ring_put(&q->tx, q->tx.rsp_prod_pvt, &r, sizeof(r));
	q->tx.rsp_prod_pvt++;
}

static void tx_push(struct netq *q)
{
	bool notify = sxen_ring_push_responses(&q->tx);
	if (q->jump) {
		sxen_ring_set_rsp_prod(&q->tx, q->tx.rsp_prod_pvt + q->tx.nr_ents + 5);
		q->jump = false;
		notify = true;
	}
	if (!notify) {
		q->st.suppressed++;
		return;
	}
	if (sxen_evtchn_notify(q->nb->dom, q->tx_port, q->tx_gen))
		q->st.notify_tx++;
}

static void tx_timer_fire(struct sim_loop *l, void *arg);

static void tx_flush_held(struct netq *q, bool all)
{
	uint64_t now = sim_now_ns();
	bool any = false;
	while (q->tq_n && (all || q->tq[q->tq_head].due <= now)) {
		struct tresp *t = &q->tq[q->tq_head];
		tx_write(q, t->id, t->st);
		q->tq_head = (q->tq_head + 1) % q->tx.nr_ents;
		q->tq_n--;
		any = true;
	}
	if (any)
		tx_push(q);
	if (q->tq_n && !q->tx_timer) {
		uint64_t due = q->tq[q->tq_head].due;
		q->tx_timer = sim_loop_timer(q->nb->xb.h->loop,
					     due > now ? due - now : 0,
					     tx_timer_fire, q);
	}
}

static void tx_timer_fire(struct sim_loop *l, void *arg)
{
	struct netq *q = arg;
	(void)l;
	q->tx_timer = 0;
	tx_flush_held(q, false);
	tx_action(q, false);
}

static void tx_response(struct netq *q, uint16_t id, int16_t st)
{
	struct sxen_faults *f = &q->nb->cfg->f;
	if (st == SNET_RSP_ERROR)
		q->st.tx_err++;
	if (f->drop) {
		f->drop--;
		q->st.dropped++;
		return;
	}
	if (f->delay_ms || q->tq_n) {
		if (q->tq_n >= q->tx.nr_ents)
			tx_flush_held(q, true);
		uint32_t t = (q->tq_head + q->tq_n) % q->tx.nr_ents;
		q->tq[t] = (struct tresp){ id, st,
					   sim_now_ns() +
						   (uint64_t)f->delay_ms * 1000000u };
		q->tq_n++;
		q->st.delayed++;
		return;
	}
	tx_write(q, id, st);
}

/* make_tx_response(): the first slot's response, then NULL responses for
 * the extra-info slots that followed it. */
static void tx_response_first(struct netq *q, uint16_t id, int16_t st,
			      unsigned extras)
{
	tx_response(q, id, st);
	while (extras--)
		tx_response(q, 0, SNET_RSP_NULL);
}

/* xenvif_tx_err(): ERROR for the first slot and every slot up to end. */
static void tx_err(struct netq *q, uint16_t first_id, unsigned extras,
		   uint32_t cons, uint32_t end)
{
	tx_response_first(q, first_id, SNET_RSP_ERROR, extras);
	while (cons != end) {
		struct sxen_netif_tx_request t;
		sxen_ring_get(&q->tx, cons++, &t, sizeof(t));
		tx_response(q, t.id, SNET_RSP_ERROR);
	}
	q->tx.req_cons = end;
}

/* One packet starting at req_cons; false if the vif became disabled or
 * the batch must stop. */
static bool tx_one(struct netq *q, uint32_t rp)
{
	struct sxen_netback *nb = q->nb;
	struct sxen_netif_tx_request first, frags[SNET_NR_SLOTS_MIN];
	struct sxen_netif_extra_info extras[SNET_EXTRA_TYPE_MAX - 1];
	unsigned nextra = 0, nfrags = 0;
	int32_t work = (int32_t)(rp - q->tx.req_cons);

	sxen_ring_get(&q->tx, q->tx.req_cons, &first, sizeof(first));
	uint16_t first_id = first.id;
	work--;
	q->tx.req_cons++;
	memset(extras, 0, sizeof(extras));
	if (first.flags & SNET_TXF_EXTRA_INFO) {
		struct sxen_netif_extra_info ex;
		do {
			if (work-- <= 0) {
				fatal_tx(q, "Missing extra info");
				return false;
			}
			sxen_ring_get(&q->tx, q->tx.req_cons, &ex, sizeof(ex));
			q->tx.req_cons++;
			nextra++;
			if (!ex.type || ex.type >= SNET_EXTRA_TYPE_MAX) {
				fatal_tx(q, "Invalid extra type: %d", ex.type);
				return false;
			}
			extras[ex.type - 1] = ex;
		} while (ex.flags & SNET_EXTRA_FLAG_MORE);
	}
	if (extras[SNET_EXTRA_TYPE_MCAST_ADD - 1].type ||
	    extras[SNET_EXTRA_TYPE_MCAST_DEL - 1].type) {
		/* multicast filter updates: no packet; we do not filter */
		tx_response_first(q, first_id, SNET_RSP_OKAY, nextra);
		return true;
	}
	/* xenvif_count_requests() */
	uint32_t cons = q->tx.req_cons, slots = 0;
	int drop = 0;
	if (first.flags & SNET_TXF_MORE_DATA) {
		bool more;
		do {
			struct sxen_netif_tx_request t;
			if ((int32_t)slots >= work) {
				fatal_tx(q, "Asked for %u slots but exceeds this limit",
					 (unsigned)work);
				return false;
			}
			if (slots >= FATAL_SKB_SLOTS) {
				fatal_tx(q, "Malicious frontend using %u slots, threshold %u",
					 slots, FATAL_SKB_SLOTS);
				return false;
			}
			if (!drop && slots >= SNET_NR_SLOTS_MIN)
				drop = -E2BIG;
			sxen_ring_get(&q->tx, cons + slots, &t, sizeof(t));
			if (!drop && t.size > first.size)
				drop = -EIO;
			first.size = (uint16_t)(first.size - t.size);
			slots++;
			if ((uint32_t)t.offset + t.size > SXEN_PAGE_SIZE) {
				fatal_tx(q, "Cross page boundary, txp->offset: %u, size: %u",
					 t.offset, t.size);
				return false;
			}
			more = t.flags & SNET_TXF_MORE_DATA;
			if (!drop)
				frags[nfrags++] = t;
		} while (more);
	}
	if (drop) {
		tx_err(q, first_id, nextra, cons, cons + slots);
		return true;
	}
	uint32_t end = cons + slots;
	if (first.size < 14) {
		tx_err(q, first_id, nextra, cons, end);
		return true;
	}
	if ((uint32_t)first.offset + first.size > SXEN_PAGE_SIZE) {
		fatal_tx(q, "txreq.offset: %u, size: %u, end: %u", first.offset,
			 first.size, (unsigned)first.offset + first.size);
		return false;
	}
	struct sxen_netif_extra_info *gso = &extras[SNET_EXTRA_TYPE_GSO - 1];
	if (gso->type) {
		if (!gso->u.gso.size) {
			fatal_tx(q, "GSO size must not be zero.");
			return false;
		}
		if (gso->u.gso.type != SNET_GSO_TYPE_TCPV4 &&
		    gso->u.gso.type != SNET_GSO_TYPE_TCPV6) {
			fatal_tx(q, "Bad GSO type %d.", gso->u.gso.type);
			return false;
		}
	}
	q->tx.req_cons = end;

	/* grant-copy the data out */
	uint32_t total = first.size;
	for (unsigned i = 0; i < nfrags; i++)
		total += frags[i].size;
	struct sxen_frame *f = sxen_frame_new(total);
	int16_t st0 = SNET_RSP_OKAY, stf[SNET_NR_SLOTS_MIN];
	bool bad = !f;
	uint32_t off = 0;
	if (f && sxen_gnt_copy(nb->dom, first.gref, first.offset, f->data,
			       first.size, false)) {
		st0 = SNET_RSP_ERROR;
		bad = true;
	}
	off = first.size;
	for (unsigned i = 0; i < nfrags; i++) {
		stf[i] = SNET_RSP_OKAY;
		if (f && sxen_gnt_copy(nb->dom, frags[i].gref, frags[i].offset,
				       f->data + off, frags[i].size, false)) {
			stf[i] = SNET_RSP_ERROR;
			bad = true;
		}
		off += frags[i].size;
	}
	tx_response_first(q, first_id, st0, nextra);
	for (unsigned i = 0; i < nfrags; i++)
		tx_response(q, frags[i].id, stf[i]);
	if (bad) {
		free(f);
		return true;
	}
	q->st.tx_pkts++;
	q->st.tx_bytes += total;

	/* xenvif_tx_submit() + checksum_setup() */
	if (first.flags & SNET_TXF_CSUM_BLANK)
		f->csum = SXEN_CSUM_PARTIAL;
	else if (first.flags & SNET_TXF_DATA_VALIDATED)
		f->csum = SXEN_CSUM_VALIDATED;
	bool recalc = false;
	if (gso->type) {
		f->gso_type = gso->u.gso.type;
		f->gso_size = gso->u.gso.size;
		q->st.gso_in++;
		if (f->csum != SXEN_CSUM_PARTIAL) {
			f->csum = SXEN_CSUM_PARTIAL;
			recalc = true;
		}
	}
	if (f->csum == SXEN_CSUM_PARTIAL) {
		int l3, l4;
		if (sxen_pkt_csum_setup(f->data, f->len, &f->csum_start,
					&f->csum_off, &l3, &l4) ||
		    (recalc && sxen_pkt_pseudo_csum(f->data, f->len))) {
			q->st.tx_csum_drop++;
			free(f);
			return true;
		}
		f->l3 = (uint8_t)l3;
	}
	deliver(nb, f);
	return true;
}

static void tx_action(struct netq *q, bool kicked)
{
	struct sxen_netback *nb = q->nb;
	uint64_t before = q->st.tx_pkts + q->st.tx_err;
	if (!q->mapped || nb->disabled)
		return;
	if (kicked)
		q->st.kicks++;
	for (;;) {
		uint32_t rp = sxen_load_acq(&sxen_ring_hdr(&q->tx)->req_prod);
		if (rp - q->tx.req_cons > q->tx.nr_ents) {
			fatal_tx(q, "Impossible number of requests. req_prod %u, req_cons %u, size %u",
				 rp, q->tx.req_cons, q->tx.nr_ents);
			break;
		}
		if (rp == q->tx.req_cons) {
			if (!sxen_ring_final_check(&q->tx))
				break;
			continue;
		}
		/* room for the responses this packet may need */
		if (q->tx.req_cons - q->tx.rsp_prod_pvt >= q->tx.nr_ents)
			break;
		if (!tx_one(q, rp) || nb->disabled)
			break;
	}
	if (q->mapped)
		tx_push(q);
	if (kicked && q->st.tx_pkts + q->st.tx_err == before)
		q->st.spurious++;
}

/* ------------------------------------------------------------ RX */

static void rx_timer_fire(struct sim_loop *l, void *arg)
{
	struct netq *q = arg;
	(void)l;
	q->rx_timer = 0;
	rx_action(q);
}

static void rx_arm(struct netq *q, uint64_t delay)
{
	if (!q->rx_timer)
		q->rx_timer = sim_loop_timer(q->nb->xb.h->loop, delay,
					     rx_timer_fire, q);
}

static void rx_put(struct netq *q, uint16_t id, uint16_t off, uint16_t flags,
		   int16_t st)
{
	struct sxen_faults *f = &q->nb->cfg->f;
	struct sxen_netif_rx_response r = { id, off, flags, st };
	if (f->corrupt & (SXEN_CORRUPT_RX_STATUS | SXEN_CORRUPT_RX_OFFSET)) {
		if (f->corrupt & SXEN_CORRUPT_RX_STATUS)
			r.status = 5000;
		if (f->corrupt & SXEN_CORRUPT_RX_OFFSET)
			r.offset = 4000;
		f->corrupt &= ~(uint32_t)(SXEN_CORRUPT_RX_STATUS |
					  SXEN_CORRUPT_RX_OFFSET);
		q->st.corrupted++;
	}
	sxen_ring_put(&q->rx, q->rx.req_cons, &r, sizeof(r));
}

static void rx_action(struct netq *q)
{
	struct sxen_netback *nb = q->nb;
	bool any = false;
	if (!q->mapped || nb->disabled)
		return;
	while (q->rxq) {
		struct sxen_frame *f = q->rxq;
		uint64_t now = sim_now_ns();
		if (f->due > now) {
			rx_arm(q, f->due - now);
			break;
		}
		bool gso = f->gso_type != 0;
		uint32_t data_slots = (f->len + SXEN_PAGE_SIZE - 1) / SXEN_PAGE_SIZE;
		if (!data_slots)
			data_slots = 1;
		uint32_t needed = data_slots + (gso ? 1 : 0);
		struct sxen_sring_hdr *h = sxen_ring_hdr(&q->rx);
		uint32_t prod = sxen_load_acq(&h->req_prod);
		if (prod - q->rx.rsp_prod_pvt > q->rx.nr_ents) {
			fatal_tx(q, "Impossible number of RX requests. req_prod %u, rsp_prod %u, size %u",
				 prod, q->rx.rsp_prod_pvt, q->rx.nr_ents);
			return;
		}
		if (prod - q->rx.req_cons < needed) {
			__atomic_store_n(&h->req_event, prod + 1, __ATOMIC_RELAXED);
			sxen_mb();
			if (sxen_load_acq(&h->req_prod) != prod)
				continue;
			if (!nb->rx_notify)
				rx_arm(q, RX_POLL_NS);
			break;
		}
		q->rxq = f->next;
		if (!q->rxq)
			q->rxq_tail = NULL;
		q->rxq_bytes -= f->len;

		uint32_t off = 0, slot = 0;
		bool extra_pending = gso;
		do {
			struct sxen_netif_rx_request req;
			sxen_ring_get(&q->rx, q->rx.req_cons, &req, sizeof(req));
			if (slot != 0 && extra_pending) {
				struct sxen_netif_extra_info ex = { 0 };
				ex.type = SNET_EXTRA_TYPE_GSO;
				ex.u.gso.size = f->gso_size;
				ex.u.gso.type = f->gso_type;
				sxen_ring_put(&q->rx, q->rx.req_cons, &ex, sizeof(ex));
				extra_pending = false;
			} else {
				uint32_t n = f->len - off;
				if (n > SXEN_PAGE_SIZE)
					n = SXEN_PAGE_SIZE;
				uint16_t flags = 0;
				if (off + n < f->len)
					flags |= SNET_RXF_MORE_DATA;
				if (slot == 0) {
					if (f->csum == SXEN_CSUM_PARTIAL)
						flags |= SNET_RXF_CSUM_BLANK |
							 SNET_RXF_DATA_VALIDATED;
					else if (f->csum == SXEN_CSUM_VALIDATED)
						flags |= SNET_RXF_DATA_VALIDATED;
					if (gso)
						flags |= SNET_RXF_EXTRA_INFO;
				}
				int16_t st = (int16_t)n;
				if (sxen_gnt_copy(nb->dom, req.gref, 0, f->data + off, n,
						  true)) {
					st = SNET_RSP_ERROR;
					q->st.rx_err++;
				}
				rx_put(q, req.id, 0, flags, st);
				off += n;
			}
			q->rx.req_cons++;
			slot++;
		} while (off < f->len || extra_pending);
		q->rx.rsp_prod_pvt = q->rx.req_cons;
		q->st.rx_pkts++;
		q->st.rx_bytes += f->len;
		free(f);
		any = true;
	}
	if (any) {
		if (sxen_ring_push_responses(&q->rx)) {
			if (sxen_evtchn_notify(nb->dom, q->rx_port, q->rx_gen))
				q->st.notify_rx++;
		} else {
			q->st.suppressed++;
		}
	}
}

static void on_kick_tx(void *arg)
{
	tx_action(arg, true);
}

static void on_kick_rx(void *arg)
{
	struct netq *q = arg;
	q->st.kicks++;
	rx_action(q);
}

static void on_kick_both(void *arg)
{
	struct netq *q = arg;
	tx_action(q, true);
	rx_action(q);
}

/* ------------------------------------------------------------ connect */

static void queue_disconnect(struct netq *q)
{
	struct sxen_netback *nb = q->nb;
	struct sim_loop *l = nb->xb.h->loop;
	if (q->rx_timer)
		sim_loop_cancel(l, q->rx_timer);
	if (q->tx_timer)
		sim_loop_cancel(l, q->tx_timer);
	q->rx_timer = q->tx_timer = 0;
	if (q->mapped && q->tq_n)
		tx_flush_held(q, true);
	if (q->tx_timer) {
		sim_loop_cancel(l, q->tx_timer);
		q->tx_timer = 0;
	}
	if (q->bound_tx)
		sxen_evtchn_unbind(nb->dom, q->tx_port, q->tx_gen);
	if (q->bound_rx)
		sxen_evtchn_unbind(nb->dom, q->rx_port, q->rx_gen);
	q->bound_tx = q->bound_rx = false;
	if (q->mapped) {
		sxen_gnt_unmap(nb->dom, q->tx_ref, true);
		sxen_gnt_unmap(nb->dom, q->rx_ref, true);
	}
	q->mapped = false;
	frame_free_list(q->rxq);
	q->rxq = q->rxq_tail = NULL;
	q->rxq_bytes = 0;
	free(q->tq);
	q->tq = NULL;
	q->tq_n = q->tq_head = 0;
	q->jump = false;
}

static void backend_disconnect(struct sxen_netback *nb)
{
	for (unsigned i = 0; i < nb->nq; i++)
		queue_disconnect(&nb->q[i]);
	nb->nq = 0;
	if (nb->connected && nb->cfg->link)
		sxen_xb_printf(&nb->xb, 0, "carrier", "0");
	nb->connected = false;
}

static int read_u32(struct sxen_xbdev *x, const char *dir, const char *key,
		    uint32_t *v)
{
	unsigned long long l;
	int r = sxen_xb_read_uint(x, dir, key, &l);
	if (r)
		return r;
	if (l > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)l;
	return 0;
}

static int connect_queue(struct sxen_netback *nb, struct netq *q,
			 const char *dir)
{
	struct sxen_xbdev *x = &nb->xb;
	uint32_t txr, rxr, txe, rxe;
	uint8_t *txp, *rxp;
	int r;
	if (read_u32(x, dir, "tx-ring-ref", &txr) ||
	    read_u32(x, dir, "rx-ring-ref", &rxr)) {
		sxen_xb_fatal(x, -ENOENT, "reading %s/ring-ref", dir);
		return -ENOENT;
	}
	q->split = !read_u32(x, dir, "event-channel-tx", &txe) &&
		   !read_u32(x, dir, "event-channel-rx", &rxe);
	if (!q->split) {
		if (read_u32(x, dir, "event-channel", &txe)) {
			sxen_xb_fatal(x, -ENOENT,
				      "reading %s/event-channel(-tx/rx)", dir);
			return -ENOENT;
		}
		rxe = txe;
	}
	r = sxen_gnt_map(nb->dom, txr, true, &txp);
	if (!r) {
		r = sxen_gnt_map(nb->dom, rxr, true, &rxp);
		if (r)
			sxen_gnt_unmap(nb->dom, txr, true);
	}
	if (r)
		goto fail;
	q->tx_ref = txr;
	q->rx_ref = rxr;
	sxen_ring_init(&q->tx, &txp, 1, SNET_TX_ENTRY_SIZE);
	sxen_ring_init(&q->rx, &rxp, 1, SNET_RX_ENTRY_SIZE);
	q->mapped = true;
	q->tq = calloc(q->tx.nr_ents, sizeof(*q->tq));
	if (!q->tq) {
		r = -ENOMEM;
		goto fail_unmap;
	}
	if (q->split) {
		r = sxen_evtchn_bind(nb->dom, txe, on_kick_tx, q, &q->tx_gen);
		if (!r) {
			q->bound_tx = true;
			r = sxen_evtchn_bind(nb->dom, rxe, on_kick_rx, q, &q->rx_gen);
			q->bound_rx = !r;
		}
	} else {
		r = sxen_evtchn_bind(nb->dom, txe, on_kick_both, q, &q->tx_gen);
		q->bound_tx = !r;
		q->rx_gen = q->tx_gen;
	}
	q->tx_port = txe;
	q->rx_port = rxe;
	if (r)
		goto fail_unmap;
	return 0;
fail_unmap:
	queue_disconnect(q);
fail:
	sxen_xb_fatal(x, r, "mapping shared-frames %u/%u port tx %u rx %u", txr,
		      rxr, txe, rxe);
	return r;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char *e;
		unsigned long v = strtoul(s, &e, 16);
		if (e == s || v > 0xFF || *e != (i == 5 ? '\0' : ':'))
			return -ENOENT;
		mac[i] = (uint8_t)v;
		s = e + 1;
	}
	return 0;
}

/* connect(): false if it failed (a fatal error was reported). */
static bool backend_connect(struct sxen_netback *nb)
{
	struct sxen_xbdev *x = &nb->xb;
	struct sxen_vif_cfg *cfg = nb->cfg;
	unsigned long long nq = sxen_xb_read_uint_def(x, x->fe,
						      "multi-queue-num-queues", 1);
	if (nq > cfg->queues || nq == 0) {
		sxen_xb_fatal(x, -EINVAL,
			      "guest requested %llu queues, exceeding the maximum of %u.",
			      nq, cfg->queues);
		return false;
	}
	char *mac = sxen_xb_read_str(x, x->be, "mac");
	int r = mac ? parse_mac(mac, nb->fe_mac) : -ENOENT;
	free(mac);
	if (r) {
		sxen_xb_fatal(x, r, "parsing %s/mac", x->be);
		return false;
	}
	/* read_xenbus_vif_flags() */
	unsigned long long rxcopy = 0;
	r = sxen_xb_read_uint(x, x->fe, "request-rx-copy", &rxcopy);
	if (r && r != -ENOENT) {
		sxen_xb_fatal(x, r, "reading %s/request-rx-copy", x->fe);
		return false;
	}
	nb->can_sg = true;
	nb->ip_csum = true;
	nb->ipv6_csum = false;
	nb->gso_mask = 0;
	nb->rx_notify = true;
	if (!rxcopy) {
		if (!cfg->lax_rx_copy) {
			sxen_xb_fatal(x, -EOPNOTSUPP,
				      "%s/request-rx-copy is not 1: the front end must use rx-copy (Linux netback before 3.16 refuses to connect; use the vif option lax-rx-copy for newer Linux behaviour)",
				      x->fe);
			return false;
		}
		sim_log(SIM_LOG_WARN,
			"%s: front end did not write request-rx-copy; connecting anyway and ignoring its feature keys, as Linux >= 3.16 does",
			x->be);
	} else {
		nb->rx_notify = sxen_xb_read_uint_def(x, x->fe, "feature-rx-notify", 0);
		nb->can_sg = sxen_xb_read_uint_def(x, x->fe, "feature-sg", 0);
		if (sxen_xb_read_uint_def(x, x->fe, "feature-gso-tcpv4", 0))
			nb->gso_mask |= 1u << SNET_GSO_TYPE_TCPV4;
		if (sxen_xb_read_uint_def(x, x->fe, "feature-gso-tcpv6", 0))
			nb->gso_mask |= 1u << SNET_GSO_TYPE_TCPV6;
		nb->ip_csum = !sxen_xb_read_uint_def(x, x->fe,
						     "feature-no-csum-offload", 0);
		nb->ipv6_csum = sxen_xb_read_uint_def(x, x->fe,
						      "feature-ipv6-csum-offload", 0);
	}
	nb->nq = (unsigned)nq;
	for (unsigned i = 0; i < nb->nq; i++) {
		struct netq *q = &nb->q[i];
		struct nstats keep = q->st;
		memset(q, 0, sizeof(*q));
		q->st = keep;
		q->nb = nb;
		q->idx = i;
	}
	for (unsigned i = 0; i < nb->nq; i++) {
		char dir[128];
		if (nb->nq == 1)
			snprintf(dir, sizeof(dir), "%s", x->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", x->fe, i);
		if (connect_queue(nb, &nb->q[i], dir)) {
			for (unsigned j = 0; j < i; j++)
				queue_disconnect(&nb->q[j]);
			nb->nq = 0;
			return false;
		}
	}
	nb->connected = true;
	nb->disabled = false;
	sxen_xb_printf(x, 0, "carrier", "%d", cfg->link ? 1 : 0);
	sim_log(SIM_LOG_INFO, "%s: connected, %u queue%s, sg=%d gso=0x%x csum=%d/%d rx-notify=%d",
		x->be, nb->nq, nb->nq > 1 ? "s" : "", nb->can_sg, nb->gso_mask,
		nb->ip_csum, nb->ipv6_csum, nb->rx_notify);
	/* the state follows once hotplug-status says "connected" */
	nb->hotplug_watch = true;
	sxen_xb_watch(x, nb->hotplug_path);
	return true;
}

static void hotplug_changed(struct sxen_xbdev *x, const char *path)
{
	struct sxen_netback *nb = x->priv;
	(void)path;
	if (!nb->hotplug_watch)
		return;
	char *s = sxen_xb_read_str(x, x->be, "hotplug-status");
	if (s && !strcmp(s, "connected")) {
		sxen_xb_switch(x, nb->state);
		sxen_xb_unwatch(x, nb->hotplug_path);
		nb->hotplug_watch = false;
		/* frames may be waiting, requests may be queued */
		for (unsigned i = 0; i < nb->nq; i++) {
			tx_action(&nb->q[i], false);
			rx_action(&nb->q[i]);
		}
	}
	free(s);
}

static void backend_switch_state(struct sxen_netback *nb, int state)
{
	nb->state = state;
	if (!nb->hotplug_watch)
		sxen_xb_switch(&nb->xb, state);
}

/* set_backend_state(): walk to `target` via the shortest path. */
static void set_backend_state(struct sxen_netback *nb, int target)
{
	for (int guard = 0; nb->state != target && guard < 8; guard++) {
		switch (nb->state) {
		case SXB_INITIALISING:
			backend_switch_state(nb, target == SXB_CLOSED ? SXB_CLOSED
								      : SXB_INITWAIT);
			break;
		case SXB_CLOSED:
			backend_switch_state(nb, target == SXB_CLOSING ? SXB_CLOSING
								       : SXB_INITWAIT);
			break;
		case SXB_INITWAIT:
			if (target == SXB_CONNECTED) {
				if (!backend_connect(nb)) {
					/* the fatal error left us Closing */
					nb->state = SXB_CLOSING;
					return;
				}
				backend_switch_state(nb, SXB_CONNECTED);
			} else {
				backend_switch_state(nb, SXB_CLOSING);
			}
			break;
		case SXB_CONNECTED:
			backend_disconnect(nb);
			backend_switch_state(nb, SXB_CLOSING);
			break;
		case SXB_CLOSING:
			backend_switch_state(nb, SXB_CLOSED);
			break;
		default:
			return;
		}
	}
}

static void remove_device(struct sxen_netback *nb, bool toolstack_rm);

static void frontend_changed(struct sxen_xbdev *x, int state)
{
	struct sxen_netback *nb = x->priv;
	sim_log(SIM_LOG_DEBUG, "%s: front end is %s", x->be,
		sxen_xb_state_name(state));
	switch (state) {
	case SXB_INITIALISING:
		if (nb->cfg->suspended) {
			sim_log(SIM_LOG_INFO, "%s: suspended; reconnect after "
					      "resume", x->be);
			break;
		}
		set_backend_state(nb, SXB_INITWAIT);
		break;
	case SXB_INITIALISED:
		break;
	case SXB_CONNECTED:
		if (nb->cfg->suspended)
			break;
		set_backend_state(nb, SXB_CONNECTED);
		break;
	case SXB_CLOSING:
		set_backend_state(nb, SXB_CLOSING);
		break;
	case SXB_CLOSED:
		set_backend_state(nb, SXB_CLOSED);
		if (sxen_xb_online(x))
			break;
		__attribute__((fallthrough)); /* not online */
	case SXB_UNKNOWN:
		set_backend_state(nb, SXB_CLOSED);
		sim_log(SIM_LOG_INFO, "%s: device removed", x->be);
		remove_device(nb, true);
		break;
	default:
		sxen_xb_fatal(x, -EINVAL, "saw state %d at frontend", state);
		break;
	}
}

int sxen_netback_probe(struct sxen_host *h, struct sxen_domain *d,
		       struct sxen_vif_cfg *cfg)
{
	struct sxen_netback *nb = calloc(1, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	nb->cfg = cfg;
	nb->dom = d;
	nb->state = SXB_INITIALISING;
	int r = sxen_xb_init(&nb->xb, h, d, "vif", cfg->devid, frontend_changed,
			     hotplug_changed, nb);
	if (r) {
		sxen_xb_fini(&nb->xb);
		free(nb);
		return r;
	}
	struct sxen_xbdev *x = &nb->xb;
	snprintf(nb->hotplug_path, sizeof(nb->hotplug_path), "%s/hotplug-status",
		 x->be);
	uint32_t tx;
	do {
		if ((r = sxen_xs_tx_start(x->xs, &tx)))
			break;
		sxen_xb_printf(x, tx, "feature-sg", "1");
		sxen_xb_printf(x, tx, "feature-gso-tcpv4", "1");
		sxen_xb_printf(x, tx, "feature-gso-tcpv6", "1");
		sxen_xb_printf(x, tx, "feature-ipv6-csum-offload", "1");
		sxen_xb_printf(x, tx, "feature-rx-copy", "1");
		sxen_xb_printf(x, tx, "feature-rx-flip", "0");
		r = sxen_xs_tx_end(x->xs, tx, true);
	} while (r == -EAGAIN);
	sxen_xb_printf(x, 0, "feature-split-event-channels", "%d", cfg->split);
	sxen_xb_printf(x, 0, "multi-queue-max-queues", "%u", cfg->queues);
	sxen_xb_printf(x, 0, "carrier", "0");
	cfg->nb = nb;
	char *s = sxen_xb_read_str(x, x->be, "script");
	if (!s) {
		sxen_xb_fatal(x, -ENOENT, "reading script");
		return 0;
	}
	free(s);
	if (sxen_xb_read_uint(x, x->be, "handle", &(unsigned long long){ 0 })) {
		sxen_xb_fatal(x, -EINVAL, "reading handle");
		return 0;
	}
	return 0;
}

static void remove_device(struct sxen_netback *nb, bool toolstack_rm)
{
	struct sxen_host *h = nb->xb.h;
	struct sxen_domain *d = nb->dom;
	uint32_t devid = nb->cfg->devid;
	if (nb->unplug_timer)
		sim_loop_cancel(h->loop, nb->unplug_timer);
	backend_disconnect(nb);
	nb->hotplug_watch = false;
	backend_switch_state(nb, SXB_CLOSED);
	sxen_xs_rm(nb->xb.xs, 0, nb->hotplug_path);
	sxen_xb_fini(&nb->xb);
	nb->cfg->nb = NULL;
	free(nb);
	if (toolstack_rm)
		sxen_device_gone(d, SXEN_KIND_VIF, devid);
}

void sxen_netback_remove(struct sxen_netback *nb)
{
	remove_device(nb, false);
}

void sxen_netback_close(struct sxen_netback *nb)
{
	sim_log(SIM_LOG_INFO, "%s: closing on request (ctl)", nb->xb.be);
	set_backend_state(nb, SXB_CLOSING);
}

void sxen_netback_suspend(struct sxen_netback *nb)
{
	sim_log(SIM_LOG_INFO, "%s: suspended (ctl): rings dropped, Closing",
		nb->xb.be);
	nb->cfg->suspended = true;
	set_backend_state(nb, SXB_CLOSING); /* disconnects */
	if (sxen_xb_fe_state(&nb->xb) == SXB_CLOSED)
		set_backend_state(nb, SXB_CLOSED);
}

void sxen_netback_resume(struct sxen_netback *nb)
{
	sim_log(SIM_LOG_INFO, "%s: resumed (ctl)", nb->xb.be);
	if (nb->state == SXB_CLOSED &&
	    sxen_xb_fe_state(&nb->xb) == SXB_INITIALISING)
		set_backend_state(nb, SXB_INITWAIT);
}

static void unplug_fire(struct sim_loop *l, void *arg)
{
	struct sxen_netback *nb = arg;
	(void)l;
	nb->unplug_timer = 0;
	sim_log(SIM_LOG_WARN, "%s: front end did not close within %u ms; forcing removal",
		nb->xb.be, UNPLUG_TIMEOUT_MS);
	remove_device(nb, true);
}

void sxen_netback_unplug(struct sxen_netback *nb)
{
	struct sxen_xbdev *x = &nb->xb;
	sim_log(SIM_LOG_INFO, "%s: unplug requested (online=0, Closing)", x->be);
	sxen_xb_printf(x, 0, "online", "0");
	set_backend_state(nb, SXB_CLOSING);
	if (!nb->unplug_timer)
		nb->unplug_timer = sim_loop_timer(x->h->loop,
						  (uint64_t)UNPLUG_TIMEOUT_MS * 1000000u,
						  unplug_fire, nb);
	if (sxen_xb_fe_state(x) == SXB_CLOSED)
		frontend_changed(x, SXB_CLOSED);
}

void sxen_netback_set_link(struct sxen_netback *nb, bool up)
{
	nb->cfg->link = up;
	if (nb->connected && !nb->disabled)
		sxen_xb_printf(&nb->xb, 0, "carrier", "%d", up ? 1 : 0);
	if (up)
		for (unsigned i = 0; i < nb->nq; i++)
			rx_action(&nb->q[i]);
}

void sxen_netback_faults_changed(struct sxen_netback *nb)
{
	for (unsigned i = 0; i < nb->nq; i++) {
		struct netq *q = &nb->q[i];
		if (!q->mapped || nb->cfg->f.delay_ms)
			continue;
		if (q->tq_n) {
			if (q->tx_timer) {
				sim_loop_cancel(nb->xb.h->loop, q->tx_timer);
				q->tx_timer = 0;
			}
			tx_flush_held(q, true);
		}
		for (struct sxen_frame *f = q->rxq; f; f = f->next)
			f->due = 0;
		rx_action(q);
		tx_action(q, false);
	}
}

void sxen_netback_status(struct sxen_netback *nb, char *out, size_t len)
{
	size_t off = 0;
#define P(...)                                                            \
	do {                                                              \
		int w_ = snprintf(out + off, len > off ? len - off : 0,    \
				  __VA_ARGS__);                           \
		if (w_ > 0)                                               \
			off += (size_t)w_;                                \
	} while (0)
	P("vif/%u dom%u %s%s%s state=%s fe=%s link=%s%s queues=%u sg=%d gso=0x%x csum=%d/%d\n",
	  nb->cfg->devid, nb->dom->domid,
	  nb->cfg->mode == SXEN_VIF_BRIDGE ? "bridge:" : "reflect",
	  nb->cfg->mode == SXEN_VIF_BRIDGE ? nb->cfg->bridge : "",
	  nb->hotplug_watch ? " (waiting for hotplug-status)" : "",
	  sxen_xb_state_name(nb->xb.state),
	  sxen_xb_state_name(sxen_xb_fe_state(&nb->xb)),
	  nb->cfg->link ? "up" : "down", nb->disabled ? " DISABLED" : "",
	  nb->nq, nb->can_sg, nb->gso_mask, nb->ip_csum, nb->ipv6_csum);
	for (unsigned i = 0; i < nb->nq; i++) {
		struct netq *q = &nb->q[i];
		struct nstats *s = &q->st;
		P("  queue %u:%s tx req_cons=%u rsp=%u rx req_cons=%u held_tx=%u rxq=%u bytes\n",
		  i, q->split ? " split" : "", q->tx.req_cons, q->tx.rsp_prod_pvt,
		  q->rx.req_cons, q->tq_n, q->rxq_bytes);
		P("    tx_pkts=%" PRIu64 " tx_bytes=%" PRIu64 " tx_err=%" PRIu64
		  " rx_pkts=%" PRIu64 " rx_bytes=%" PRIu64 " rx_err=%" PRIu64
		  " gso_in=%" PRIu64 " segmented=%" PRIu64 " csum_completed=%" PRIu64 "\n",
		  s->tx_pkts, s->tx_bytes, s->tx_err, s->rx_pkts, s->rx_bytes,
		  s->rx_err, s->gso_in, s->gso_segmented, s->csum_completed);
		P("    drops: link=%" PRIu64 " mtu=%" PRIu64 " nosg=%" PRIu64
		  " full=%" PRIu64 " gso=%" PRIu64 " csum=%" PRIu64 "\n",
		  s->drop_link, s->drop_mtu, s->drop_nosg, s->drop_full,
		  s->drop_gso, s->tx_csum_drop);
		P("    notify_tx=%" PRIu64 " notify_rx=%" PRIu64 " suppressed=%" PRIu64
		  " kicks=%" PRIu64 " spurious_kicks=%" PRIu64 " dropped=%" PRIu64
		  " corrupted=%" PRIu64 " delayed=%" PRIu64 "\n",
		  s->notify_tx, s->notify_rx, s->suppressed, s->kicks, s->spurious,
		  s->dropped, s->corrupted, s->delayed);
	}
#undef P
}
