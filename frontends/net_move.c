/* SPDX-License-Identifier: MIT */
/*
 * frontends/net_move.c - moving the network front end to another device
 * (pvio_net_migrate) or a fresh instance of the same one
 * (pvio_net_reconnect).
 *
 * As for block (blk_move.c): the new device is checked and configured
 * first - MTU, receive-buffer rules, frame size, the offloads in use and
 * the MAC - so a refusal leaves the front end where it was.  Then the old
 * device's transmissions are drained (bounded), it is quiesced, frames
 * that had arrived are kept for the next rx_burst, transmissions it never
 * finished are counted as dropped, and every receive buffer is posted on
 * the new device.  Packet pools stay: the application keeps its packets.
 * If quiesce failed the old host may still write buffers it had, so those
 * packets are retired instead of reused.
 */
#include "netfe.h"

static uint64_t tx_done_total(const pvio_net *net)
{
	uint64_t n = 0;
	for (unsigned q = 0; q < net->nq; q++)
		n += net->q[q].tx_done;
	return n;
}

static void drain_tx(pvio_net *net, uint64_t deadline)
{
	pvio_dev *dev = net->dev;
	for (;;) {
		int busy = -1;
		for (unsigned q = 0; q < net->nq; q++) {
			/* frames that already arrived are kept for the next
			 * rx_burst: some back ends drop what is left in their
			 * rings when quiesced */
			fe_net_reclaim(net, q);
			fe_net_rx_reap(net, q, NULL, UINT32_MAX, true);
			if (net->q[q].tx_inflight)
				busy = (int)q;
		}
		if (busy < 0 || !pvio_dev_usable(dev))
			return;
		uint64_t now = pvio_now_ns(net->ctx);
		if (now >= deadline)
			return;
		uint64_t until = net->nq > 1 ? fe_min(deadline, now + 1000000)
					     : deadline;
		pvio_dev_wait(dev, (unsigned)busy, until);
	}
}

/* After quiesce: what the old device still had goes back to the pools
 * (or is retired); transmissions are the dropped frames. */
static uint32_t take_back(pvio_net *net, unsigned q, bool retire)
{
	struct fe_nq *nq = &net->q[q];
	uint32_t dropped = 0;
	for (unsigned k = 0; k < 2; k++) {
		struct fe_pool *pool = &nq->pool[k];
		for (uint32_t i = 0; i < pool->n; i++) {
			struct pvio_pkt *p = &pool->pkt[i];
			unsigned st = FE_PKT_STATE(p);
			if (st != FE_PKT_TX && st != FE_PKT_RX)
				continue;
			if (st == FE_PKT_TX)
				dropped++;
			if (retire)
				fe_pkt_set_state(p, FE_PKT_LOST);
			else
				fe_pool_put(pool, p);
		}
	}
	nq->tx_inflight = 0;
	nq->rx_posted = 0;
	nq->rx_kick = false;
	return dropped;
}

static void stop_old(pvio_net *net)
{
	pvio_dev *dev = net->dev;
	struct pvio_migrate_report *rep = &net->stop_rep;
	if (net->stopped)
		return;
	memset(rep, 0, sizeof(*rep));
	rep->struct_size = sizeof(*rep);
	uint64_t t0 = pvio_now_ns(net->ctx);
	uint64_t done0 = tx_done_total(net);
	if (pvio_dev_usable(dev))
		drain_tx(net, pvio_deadline(net->ctx));
	bool removed = dev->state == PVIO_DEV_REMOVED;
	net->stop_ret = fe_quiesce(dev);
	net->t_last_old = 0;
	for (unsigned q = 0; q < net->nq; q++) {
		/* What landed before it stopped - also from a host that went
		 * away: completions it wrote are as good as before, and a
		 * frame it sent back must not count as lost.  (Back ends that
		 * cannot read a removed device's rings refuse; a broken
		 * device is not read.) */
		if (pvio_dev_usable(dev) || dev->state == PVIO_DEV_STOPPED ||
		    removed) {
			fe_net_reclaim(net, q);
			fe_net_rx_reap(net, q, NULL, UINT32_MAX, true);
		}
		if (net->q[q].last_ns > net->t_last_old)
			net->t_last_old = net->q[q].last_ns;
		uint32_t d = take_back(net, q, net->stop_ret < 0);
		rep->dropped += d;
		if (dev->stats)
			dev->stats[q].dropped += d;
	}
	if (!net->t_last_old)
		net->t_last_old = t0;
	rep->completed_during_quiesce = (uint32_t)(tx_done_total(net) - done0);
	rep->quiesce_ns = pvio_now_ns(net->ctx) - t0;
	pvio_dev_set_stopped(dev);
	net->stopped = true;
}

static int check_contract(pvio_net *net, pvio_dev *nd)
{
	pvio_ctx *ctx = net->ctx;
	const char *a = nd->info.address ? nd->info.address : "new device";
	const struct pvio_net_limits *l = &nd->limits.net;
	const struct fe_pool *rx = &net->q[0].pool[FE_POOL_RX];
	if (nd->info.cls != PVIO_CLASS_NET)
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: it is a %s device, "
				      "not a network device",
				      a, pvio_class_name(nd->info.cls));
	if (!pvio_dev_usable(nd))
		return pvio_set_error(ctx, EIO, "cannot move to %s: %s", a,
				      nd->reason);
	int r = fe_net_limits_check(ctx, nd);
	if (r < 0)
		return r;
	uint32_t mtu = l->mtu ? l->mtu : 1500;
	if (mtu != net->mtu)
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: its MTU is %u, the "
				      "front end's is %u",
				      a, mtu, net->mtu);
	if (l->max_queues < net->nq)
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: it has %u queues, %u "
				      "are in use",
				      a, l->max_queues, net->nq);
	if ((l->rx_buf_exact && l->rx_buf_exact != rx->size) ||
	    l->rx_buf_min > rx->size ||
	    (l->rx_buf_align && rx->align % l->rx_buf_align))
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: its receive buffers "
				      "must be %u bytes (at least %u, aligned "
				      "to %u); the front end's are %u bytes "
				      "aligned to %u",
				      a, l->rx_buf_exact, l->rx_buf_min,
				      l->rx_buf_align, rx->size, rx->align);
	return 0;
}

/* After configure: some back ends settle their frame limit only then. */
static int check_frames(pvio_net *net, pvio_dev *nd)
{
	uint32_t m = fe_net_tx_max(nd, net->mtu,
				   net->q[0].pool[FE_POOL_TX].size, net->granted);
	if (m < net->max_tx_frame)
		return pvio_set_error(net->ctx, EINVAL,
				      "cannot move to %s: it transmits frames "
				      "of at most %u bytes, the front end "
				      "promised %u",
				      nd->info.address, m, net->max_tx_frame);
	return 0;
}

static int move(pvio_net *net, pvio_dev *nd, struct pvio_migrate_report *out)
{
	pvio_ctx *ctx = net->ctx;
	pvio_dev *old = net->dev;
	uint8_t mac[6];
	memcpy(mac, net->mac, 6);

	int r = check_contract(net, nd);
	if (r < 0)
		goto fail;
	struct pvio_dev_config cfg = {
		.num_queues = net->nq,
		.max_tags = net->q[0].pool[FE_POOL_RX].n +
			    net->q[0].pool[FE_POOL_TX].n,
		.want = net->granted,
		.mac = net->mac,
	};
	if ((r = pvio_dev_configure(nd, &cfg)) < 0)
		goto fail;
	if (nd->info.num_queues && nd->info.num_queues < net->nq) {
		r = pvio_set_error(ctx, EINVAL,
				   "cannot move to %s: it started %u queues, "
				   "%u are in use",
				   nd->info.address, nd->info.num_queues,
				   net->nq);
		goto fail;
	}
	if ((nd->info.features & net->granted) != net->granted) {
		r = pvio_set_error(ctx, EINVAL,
				   "cannot move to %s: it does not grant the "
				   "offloads in use (0x%llx of 0x%llx)",
				   nd->info.address,
				   (unsigned long long)(nd->info.features &
							net->granted),
				   (unsigned long long)net->granted);
		goto fail;
	}
	if ((r = check_frames(net, nd)) < 0 || (r = fe_net_mac(net, nd, mac)) < 0)
		goto fail;

	stop_old(net);
	struct pvio_migrate_report rep = net->stop_rep;
	fe_fdsets_detach(old, net->nq, net->fdset);
	fe_stats_retire(old, net->nq, net->retired);
	net->dev = nd;
	net->stopped = false;
	net->max_tx_segs = (uint32_t)fe_min(nd->limits.net.max_tx_segments,
					    FE_NET_MAX_SEGS);
	net->tx_boundary = nd->limits.net.tx_seg_boundary;
	pvio_dev_close(old);
	fe_fdsets_attach(nd, net->nq, net->fdset);
	for (unsigned q = 0; q < net->nq; q++) {
		net->q[q].await_first = true;
		net->q[q].first_ns = 0;
		fe_net_refill(net, q);
		fe_net_rx_kick(net, q);
	}
	net->report = rep;
	net->have_report = true;
	if (out)
		fe_copy_versioned(out, &rep, sizeof(rep));
	return 0;

fail:
	memcpy(net->mac, mac, 6);
	pvio_dev_close(nd);
	return r;
}

static int report_ok(pvio_ctx *ctx, const struct pvio_migrate_report *r)
{
	if (r && r->struct_size < sizeof(size_t))
		return pvio_set_error(ctx, EINVAL,
				      "migrate report: set struct_size");
	return 0;
}

int pvio_net_migrate(pvio_net *net, pvio_dev *new_dev, uint32_t flags,
		     struct pvio_migrate_report *report)
{
	if (!net || !new_dev) {
		if (new_dev)
			pvio_dev_close(new_dev);
		return -EINVAL;
	}
	if (new_dev == net->dev)
		return pvio_set_error(net->ctx, EINVAL,
				      "cannot migrate to the device already in "
				      "use");
	int r = report_ok(net->ctx, report);
	if (!r && flags)
		r = pvio_set_error(net->ctx, EINVAL,
				   "migrate: unknown flags 0x%x", flags);
	if (r < 0) {
		pvio_dev_close(new_dev);
		return r;
	}
	return move(net, new_dev, report);
}

int pvio_net_reconnect(pvio_net *net, struct pvio_migrate_report *report)
{
	if (!net)
		return -EINVAL;
	int r = report_ok(net->ctx, report);
	if (r < 0)
		return r;
	if (!net->dev->info.address)
		return pvio_set_error(net->ctx, EINVAL,
				      "the device was not opened by address; "
				      "use pvio_net_migrate");
	char *addr = pvio_strdup(net->ctx, net->dev->info.address);
	if (!addr)
		return pvio_set_error(net->ctx, ENOMEM, "out of memory");
	stop_old(net);
	pvio_dev *nd = NULL;
	r = fe_reopen(net->ctx, addr, &nd);
	pvio_free(net->ctx, addr);
	if (r < 0)
		return r;
	return move(net, nd, report);
}

int pvio_net_migration_report(pvio_net *net, struct pvio_migrate_report *r)
{
	if (!net || !r || r->struct_size < sizeof(size_t))
		return -EINVAL;
	if (!net->have_report)
		return pvio_set_error(net->ctx, ENOENT,
				      "no migration or reconnect happened");
	if (!net->report.downtime_ns) {
		uint64_t first = 0;
		for (unsigned q = 0; q < net->nq; q++)
			if (net->q[q].first_ns &&
			    (!first || net->q[q].first_ns < first))
				first = net->q[q].first_ns;
		if (first)
			net->report.downtime_ns =
				first > net->t_last_old ? first - net->t_last_old
							: 1;
	}
	return fe_copy_versioned(r, &net->report, sizeof(net->report));
}

void fe_net_stop(pvio_net *net)
{
	stop_old(net);
}
