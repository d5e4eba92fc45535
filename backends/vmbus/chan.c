/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/chan.c - what NetVSC and StorVSC share on top of a ring:
 * device class GUIDs, packet descriptors, sending and signalling, and the
 * transaction-id table (ids are small integers naming slots, never
 * pointers, so a host's echo can be checked before it is used).
 */
#include "hostif.h"

/* f8615163-df3e-46c5-913f-f2d2f965ed0e */
const struct vmbus_guid vmbus_guid_netvsc = { {
	0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf, 0xc5, 0x46,
	0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e } };
/* ba6163d9-04a1-4d29-b605-72e2ffb1dc7f */
const struct vmbus_guid vmbus_guid_storvsc = { {
	0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04, 0x29, 0x4d,
	0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f } };

void vmbus_guid_str(const struct vmbus_guid *g, char *buf, size_t size)
{
	const uint8_t *b = g->b;
	pvio_snprintf(buf, size,
		      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		      "%02x%02x%02x%02x%02x%02x",
		      b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
		      b[10], b[11], b[12], b[13], b[14], b[15]);
}

void vmbus_pkt_desc(struct vmbus_pkt_desc *d, uint16_t type, uint32_t hdr_len,
		    uint32_t payload_len, uint16_t flags, uint64_t trans_id)
{
	uint32_t total = (hdr_len + payload_len + 7) & ~7u;
	d->type = PVIO_LE16(type);
	d->offset8 = PVIO_LE16((uint16_t)(hdr_len / 8));
	d->len8 = PVIO_LE16((uint16_t)(total / 8));
	d->flags = PVIO_LE16(flags);
	d->trans_id = PVIO_LE64(trans_id);
}

int vmbus_send_inband(struct vmbus_chan *ch, uint16_t type, uint16_t flags,
		      uint64_t trans_id, const void *payload, uint32_t len,
		      const char **why)
{
	struct vmbus_pkt_desc d;
	vmbus_pkt_desc(&d, type, sizeof(d), len, flags, trans_id);
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { payload, len } };
	return vmbus_ring_write(&ch->tx, iov, 2, why);
}

void vmbus_chan_kick(struct vmbus_chan *ch, struct pvio_queue_stats *st)
{
	int s = vmbus_ring_publish(&ch->tx);
	if (s < 0)
		return;
	if (s) {
		ch->hostif->ops->signal(ch->hostif, ch);
		if (st)
			st->notify_sent++;
	} else if (st) {
		st->notify_suppressed++;
	}
}

void vmbus_chan_read_done(struct vmbus_chan *ch, struct pvio_queue_stats *st)
{
	if (vmbus_ring_done(&ch->rx)) {
		ch->hostif->ops->signal(ch->hostif, ch);
		if (st)
			st->notify_sent++;
	}
}

int vmbus_tid_init(pvio_ctx *ctx, struct vmbus_tid *t, uint32_t n)
{
	memset(t, 0, sizeof(*t));
	t->free = pvio_zalloc(ctx, n * sizeof(*t->free));
	t->used = pvio_zalloc(ctx, n);
	if (!t->free || !t->used) {
		vmbus_tid_fini(ctx, t);
		return -ENOMEM;
	}
	t->n = n;
	/* hand out low slots first */
	for (uint32_t i = 0; i < n; i++)
		t->free[i] = n - 1 - i;
	t->nfree = n;
	return 0;
}

void vmbus_tid_fini(pvio_ctx *ctx, struct vmbus_tid *t)
{
	pvio_free(ctx, t->free);
	pvio_free(ctx, t->used);
	memset(t, 0, sizeof(*t));
}

uint64_t vmbus_tid_get(struct vmbus_tid *t)
{
	if (!t->nfree)
		return 0;
	uint32_t slot = t->free[--t->nfree];
	t->used[slot] = 1;
	return (uint64_t)slot + 1;
}

int64_t vmbus_tid_lookup(const struct vmbus_tid *t, uint64_t id)
{
	if (id == 0 || id > t->n)
		return -1;
	uint32_t slot = (uint32_t)(id - 1);
	return t->used[slot] ? (int64_t)slot : -1;
}

void vmbus_tid_put(struct vmbus_tid *t, uint32_t slot)
{
	if (slot >= t->n || !t->used[slot])
		return;
	t->used[slot] = 0;
	t->free[t->nfree++] = slot;
}

uint32_t vmbus_tid_busy(const struct vmbus_tid *t)
{
	return t->n - t->nfree;
}
