/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for backends/vmbus/conn.c (VMBus channel management) over a
 * scripted message port: the test plays the hypervisor and the VMBus host,
 * answering each posted message as the fact sheet says and checking what
 * the guest sends (sizes, connection ids, GPADL PFNs), with knobs for old
 * hosts, silent hosts and hostile messages.
 */
#include <check.h>
#include <stdlib.h>

#include "backends/vmbus/conn.h"
#include "core/core.h"

struct fport {
	pvio_ctx *ctx;
	uint8_t q[128][240];
	uint32_t qlen[128];
	unsigned qh, qt;
	uint32_t max_version;
	bool old_host;       /* refuses connection id 4 */
	bool silent;         /* never answers */
	uint32_t open_status;
	uint32_t version;    /* accepted */
	uint32_t bad_conn_id;
	unsigned posts, closes, releases, teardowns;
	uint32_t released[8];
	/* GPADL reassembly */
	uint32_t g_handle, g_need, g_have, g_relid;
	uint64_t g_first, g_bad;
	uint32_t gpadls_created;
	/* offers */
	unsigned noffers;
	uint8_t offers[8][196];
};

static void qmsg(struct fport *f, const void *m, uint32_t len)
{
	ck_assert_uint_lt(f->qt - f->qh, 128);
	memcpy(f->q[f->qt % 128], m, len);
	f->qlen[f->qt % 128] = len;
	f->qt++;
}

static void q2(struct fport *f, uint32_t type, const uint32_t *w, unsigned n)
{
	uint32_t m[8] = { type, 0 };
	for (unsigned i = 0; i < n; i++)
		m[2 + i] = w[i];
	qmsg(f, m, 8 + 4 * n);
}

static void add_offer(struct fport *f, const struct vmbus_guid *cls,
		      uint8_t inst, uint32_t relid, uint16_t sub)
{
	uint8_t *o = f->offers[f->noffers++];
	memset(o, 0, 196);
	uint32_t t = VMBUS_MSG_OFFERCHANNEL;
	memcpy(o, &t, 4);
	memcpy(o + 8, cls->b, 16);
	o[24] = inst;
	memcpy(o + 180, &sub, 2);
	memcpy(o + 184, &relid, 4);
	o[188] = (uint8_t)relid; /* monitor id */
	o[189] = 1;
	uint32_t connid = 0x1000 + relid;
	memcpy(o + 192, &connid, 4);
}

static uint32_t w32(const uint8_t *m, uint32_t off)
{
	uint32_t v;
	memcpy(&v, m + off, 4);
	return v;
}

static int f_post(void *port, uint32_t conn_id, const void *msg, uint32_t len,
		  uint32_t *hv)
{
	struct fport *f = port;
	const uint8_t *m = msg;
	uint32_t type = w32(m, 0);
	f->posts++;
	*hv = 0;
	ck_assert_uint_le(len, 240);
	if (type != VMBUS_MSG_INITIATE_CONTACT) {
		uint32_t want = f->version >= VMBUS_VERSION(5, 0) ? 0x77 : 1;
		if (conn_id != want)
			f->bad_conn_id++;
	}
	if (f->silent && type != VMBUS_MSG_RELID_RELEASED)
		return 0;
	switch (type) {
	case VMBUS_MSG_INITIATE_CONTACT: {
		ck_assert_uint_eq(len, 40);
		uint32_t v = w32(m, 8);
		if (f->old_host && conn_id == 4) {
			*hv = HV_STATUS_INVALID_CONNECTION_ID;
			return 0;
		}
		ck_assert_uint_eq(conn_id, v >= VMBUS_VERSION(5, 0) ? 4 : 1);
		if (v >= VMBUS_VERSION(5, 0))
			ck_assert_uint_eq(m[16], 2); /* SINT */
		{
			uint64_t ip, m1, m2;
			memcpy(&ip, m + 16, 8);
			memcpy(&m1, m + 24, 8);
			memcpy(&m2, m + 32, 8);
			if (v < VMBUS_VERSION(5, 0))
				ck_assert_uint_ne(ip, 0); /* interrupt page */
			ck_assert_uint_ne(m1, 0);
			ck_assert_uint_eq(m2, m1 + 4096);
			ck_assert_uint_eq(m1 % 4096, 0);
		}
		uint8_t r[16] = { 0 };
		uint32_t t = VMBUS_MSG_VERSION_RESPONSE, cid = 0x77;
		memcpy(r, &t, 4);
		r[8] = v <= f->max_version;
		memcpy(r + 12, &cid, 4);
		if (r[8])
			f->version = v;
		qmsg(f, r, 16);
		return 0;
	}
	case VMBUS_MSG_REQUESTOFFERS:
		ck_assert_uint_eq(len, 8);
		for (unsigned i = 0; i < f->noffers; i++)
			qmsg(f, f->offers[i], 196);
		q2(f, VMBUS_MSG_ALLOFFERS_DELIVERED, NULL, 0);
		return 0;
	case VMBUS_MSG_GPADL_HEADER: {
		uint32_t n = (len - 28) / 8;
		f->g_relid = w32(m, 8);
		f->g_handle = w32(m, 12);
		f->g_need = (uint32_t)(*(const uint16_t *)(m + 16) - 8) / 8;
		ck_assert_uint_eq(w32(m, 20), f->g_need * 4096);
		f->g_have = 0;
		f->g_bad = 0;
		memcpy(&f->g_first, m + 28, 8);
		for (uint32_t k = 0; k < n; k++) {
			uint64_t p;
			memcpy(&p, m + 28 + 8 * k, 8);
			if (p != f->g_first + f->g_have)
				f->g_bad++;
			f->g_have++;
		}
		break;
	}
	case VMBUS_MSG_GPADL_BODY: {
		ck_assert_uint_eq(w32(m, 12), f->g_handle);
		uint32_t n = (len - 16) / 8;
		for (uint32_t k = 0; k < n; k++) {
			uint64_t p;
			memcpy(&p, m + 16 + 8 * k, 8);
			if (p != f->g_first + f->g_have)
				f->g_bad++;
			f->g_have++;
		}
		break;
	}
	case VMBUS_MSG_OPENCHANNEL: {
		ck_assert_uint_eq(len, 148);
		uint32_t w[3] = { w32(m, 8), w32(m, 12), f->open_status };
		q2(f, VMBUS_MSG_OPENCHANNEL_RESULT, w, 3);
		return 0;
	}
	case VMBUS_MSG_CLOSECHANNEL:
		ck_assert_uint_eq(len, 12);
		f->closes++;
		return 0;
	case VMBUS_MSG_GPADL_TEARDOWN: {
		ck_assert_uint_eq(len, 16);
		f->teardowns++;
		uint32_t w[1] = { w32(m, 12) };
		q2(f, VMBUS_MSG_GPADL_TORNDOWN, w, 1);
		return 0;
	}
	case VMBUS_MSG_RELID_RELEASED:
		ck_assert_uint_eq(len, 12);
		f->released[f->releases++ % 8] = w32(m, 8);
		return 0;
	case VMBUS_MSG_UNLOAD:
		q2(f, VMBUS_MSG_UNLOAD_RESPONSE, NULL, 0);
		return 0;
	default:
		ck_abort_msg("unexpected message %u", type);
	}
	if (f->g_have == f->g_need) {
		uint32_t w[3] = { f->g_relid, f->g_handle, f->g_bad ? 1u : 0u };
		f->gpadls_created++;
		q2(f, VMBUS_MSG_GPADL_CREATED, w, 3);
	}
	return 0;
}

static int f_recv(void *port, void *buf, uint32_t *len)
{
	struct fport *f = port;
	if (f->qh == f->qt)
		return 0;
	*len = f->qlen[f->qh % 128];
	memcpy(buf, f->q[f->qh % 128], *len);
	f->qh++;
	return 1;
}

static int f_wait(void *port, struct vmbus_chan *ch, uint64_t deadline)
{
	struct fport *f = port;
	(void)ch;
	if (f->qh != f->qt)
		return 1;
	/* nothing will come: the deadline is the answer (the context's
	 * timeout is short in these tests) */
	while (pvio_now_ns(f->ctx) < deadline) {
	}
	return 0;
}

static const struct vmbus_msgport_ops fops = { f_post, f_recv, f_wait };

static pvio_ctx *ctx;
static struct fport F;
static struct vmbus_conn C;

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 8 << 20,
				   .timeout_ms = 100 };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	memset(&F, 0, sizeof(F));
	F.ctx = ctx;
	F.max_version = VMBUS_VERSION(5, 3);
	add_offer(&F, &vmbus_guid_storvsc, 1, 10, 0);
	add_offer(&F, &vmbus_guid_netvsc, 2, 11, 0);
	add_offer(&F, &vmbus_guid_netvsc, 3, 12, 0);
	vmbus_conn_init(&C, ctx, &fops, &F, "test");
}

static void teardown(void)
{
	pvio_ctx_free(ctx);
}

START_TEST(connect_newest)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	ck_assert_uint_eq(C.version, VMBUS_VERSION(5, 3));
	ck_assert_uint_eq(C.msg_conn_id, 0x77);
	struct vmbus_offer o;
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 1, &o), 0);
	ck_assert_uint_eq(o.relid, 12);
	ck_assert_uint_eq(o.connection_id, 0x100c);
	ck_assert_uint_eq(o.monitor_allocated, 1);
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &o), 0);
	ck_assert_uint_eq(o.relid, 10);
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 1, &o), -ENODEV);
	vmbus_conn_disconnect(&C);
	ck_assert_uint_eq(F.bad_conn_id, 0);
}
END_TEST

START_TEST(connect_old_host)
{
	F.old_host = true;
	F.max_version = VMBUS_VERSION(4, 0);
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	ck_assert_uint_eq(C.version, VMBUS_VERSION(4, 0));
	ck_assert_uint_eq(C.msg_conn_id, 1);
	vmbus_conn_disconnect(&C);
	ck_assert_uint_eq(F.bad_conn_id, 0);
}
END_TEST

START_TEST(connect_refused)
{
	F.max_version = VMBUS_VERSION(1, 1);
	ck_assert_int_eq(vmbus_conn_connect(&C), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "5.3"));
}
END_TEST

START_TEST(connect_silent)
{
	F.silent = true;
	ck_assert_int_eq(vmbus_conn_connect(&C), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "INITIATE_CONTACT"));
	vmbus_conn_disconnect(&C); /* no answer to UNLOAD either: bounded */
}
END_TEST

START_TEST(gpadl_roundtrip)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 0, &ch.offer), 0);
	struct vmbus_buf b;
	ck_assert_int_eq(vmbus_conn_buf_get(&C, &ch, 100 * 4096 - 5, &b), 0);
	ck_assert_uint_eq(b.len, 100 * 4096);
	ck_assert_uint_eq(F.g_need, 100);
	ck_assert_uint_eq(F.g_have, 100);
	ck_assert_uint_eq(F.g_bad, 0);
	ck_assert_uint_eq(F.g_first, b.dev_addr >> 12);
	ck_assert_uint_eq(F.g_relid, 11);
	ck_assert_uint_eq(b.gpadl, VMBUS_GPADL_FIRST);
	vmbus_conn_buf_put(&C, &ch, &b);
	ck_assert_uint_eq(F.teardowns, 1);
	ck_assert_ptr_null(b.va);
	vmbus_conn_disconnect(&C);
}
END_TEST

START_TEST(open_close)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &ch.offer), 0);
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), 0);
	ck_assert(ch.open);
	ck_assert_uint_eq(ch.tx.size, 3 * 4096);
	ck_assert_uint_eq(F.g_need, 8); /* both rings */
	vmbus_conn_close(&C, &ch);
	ck_assert_uint_eq(F.closes, 1);
	ck_assert_uint_eq(F.teardowns, 1);
	ck_assert_uint_eq(F.releases, 0);
	/* the host refuses to open: error, ring GPADL torn down */
	F.open_status = 0xC0000001u;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &ch.offer), 0);
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), -EIO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "refused to open"));
	ck_assert_uint_eq(F.teardowns, 2);
	vmbus_conn_disconnect(&C);
}
END_TEST

START_TEST(rescind)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &ch.offer), 0);
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), 0);
	uint32_t relid = 10;
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1);
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1); /* twice: harmless */
	ck_assert_int_eq(vmbus_conn_poll(&C), 0);
	ck_assert(vmbus_chan_gone(&ch));
	struct vmbus_offer o;
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &o), -ENODEV);
	vmbus_conn_close(&C, &ch);
	/* no CLOSECHANNEL or teardown to a rescinded channel; relid released */
	ck_assert_uint_eq(F.closes, 0);
	ck_assert_uint_eq(F.teardowns, 0);
	ck_assert_uint_eq(F.releases, 1);
	ck_assert_uint_eq(F.released[0], 10);
	/* an unused channel's rescind is released at once */
	relid = 12;
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1);
	relid = 999; /* unknown: ignored */
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1);
	ck_assert_int_eq(vmbus_conn_poll(&C), 0);
	ck_assert_uint_eq(F.releases, 2);
	ck_assert_uint_eq(F.released[1], 12);
	/* the relid can be offered again */
	add_offer(&F, &vmbus_guid_storvsc, 9, 10, 0);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	ck_assert_int_eq(vmbus_conn_poll(&C), 0);
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &o), 0);
	ck_assert_uint_eq(o.if_instance.b[0], 9);
	vmbus_conn_disconnect(&C);
}
END_TEST

START_TEST(rescind_during_open)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 0, &ch.offer), 0);
	F.silent = true; /* the GPADL is never answered ... */
	uint32_t relid = 11;
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1); /* ... it is rescinded */
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), -ENODEV);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "rescinded"));
	ck_assert_uint_eq(F.releases, 1); /* never opened: released at once */
	ck_assert_uint_eq(F.released[0], 11);
	F.silent = false;
	vmbus_conn_disconnect(&C);
}
END_TEST

/* fuzz_vmbus_conn: an unanswered GPADL_HEADER at open freed the ring,
 * which the host may hold through that GPADL. */
START_TEST(open_unanswered_gpadl_keeps_the_ring)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &ch.offer), 0);
	unsigned used = ctx->dma.nused;
	F.silent = true;
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "GPADL_HEADER"));
	ck_assert_ptr_null(ch.ring_mem);
	ck_assert_uint_eq(ctx->dma.nused, used + 1); /* kept, not reused */
	F.silent = false;
	vmbus_conn_disconnect(&C);
}
END_TEST

/* fuzz_vmbus_conn: a rescind read in the same poll as GPADL_CREATED was
 * overlooked; the channel was opened and used after its rescind. */
START_TEST(rescind_with_the_answer)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 0, &ch.offer), 0);
	uint32_t relid = 11;
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1);
	unsigned posts = F.posts;
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), -ENODEV);
	ck_assert(!ch.open);
	/* the GPADL header (8 pages fit) and RELID_RELEASED; no
	 * OPENCHANNEL */
	ck_assert_uint_eq(F.gpadls_created, 1);
	ck_assert_uint_eq(F.releases, 1);
	ck_assert_uint_eq(F.posts - posts, 2);
	vmbus_conn_disconnect(&C);
}
END_TEST

/* fuzz_vmbus_conn: a relid offered again before pvio released it took
 * over the slot; the old channel's relid was never released and a
 * buffer GPADL could be made on the rescinded channel. */
START_TEST(reoffer_before_release)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &ch.offer), 0);
	ck_assert_int_eq(vmbus_conn_open(&C, &ch, 4 * 4096), 0);
	uint32_t relid = 10;
	q2(&F, VMBUS_MSG_RESCIND_CHANNELOFFER, &relid, 1);
	add_offer(&F, &vmbus_guid_storvsc, 9, 10, 0);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	ck_assert_int_eq(vmbus_conn_poll(&C), 0);
	ck_assert(vmbus_chan_gone(&ch));
	struct vmbus_offer o;
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_storvsc, 0, &o), -ENODEV);
	uint32_t made = F.gpadls_created;
	struct vmbus_buf b;
	ck_assert_int_eq(vmbus_conn_buf_get(&C, &ch, 4096, &b), -ENODEV);
	ck_assert_uint_eq(F.gpadls_created, made);
	vmbus_conn_close(&C, &ch);
	ck_assert_uint_eq(F.releases, 1);
	ck_assert_uint_eq(F.released[0], 10);
	vmbus_conn_disconnect(&C);
}
END_TEST

START_TEST(hostile_messages)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	unsigned ign = C.ignored;
	/* a reply nobody waits for */
	uint32_t w[3] = { 10, 0x1234, 0 };
	q2(&F, VMBUS_MSG_GPADL_CREATED, w, 3);
	/* a truncated offer */
	qmsg(&F, F.offers[0], 100);
	/* offers with relid 0 and beyond the event bitmap */
	add_offer(&F, &vmbus_guid_netvsc, 4, 0, 0);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	add_offer(&F, &vmbus_guid_netvsc, 5, 5000, 0);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	/* a second offer for a live relid */
	add_offer(&F, &vmbus_guid_netvsc, 6, 11, 0);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	/* a guest-to-host message type, and a header-only message */
	q2(&F, VMBUS_MSG_OPENCHANNEL, NULL, 0);
	uint8_t tiny[4] = { 1 };
	qmsg(&F, tiny, 4);
	ck_assert_int_eq(vmbus_conn_poll(&C), 0);
	ck_assert_uint_eq(C.ignored - ign, 7);
	struct vmbus_offer o;
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 0, &o), 0);
	ck_assert_uint_eq(o.if_instance.b[0], 2); /* the original */
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 2, &o), -ENODEV);
	vmbus_conn_disconnect(&C);
}
END_TEST

START_TEST(subchannels)
{
	ck_assert_int_eq(vmbus_conn_connect(&C), 0);
	struct vmbus_offer p, out[4];
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 0, &p), 0);
	/* sub-channel offers arrive out of order */
	add_offer(&F, &vmbus_guid_netvsc, 2, 21, 2);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	add_offer(&F, &vmbus_guid_netvsc, 2, 20, 1);
	qmsg(&F, F.offers[F.noffers - 1], 196);
	add_offer(&F, &vmbus_guid_netvsc, 3, 30, 1); /* other device */
	qmsg(&F, F.offers[F.noffers - 1], 196);
	int n = vmbus_conn_subchannels(&C, &p, 2, pvio_deadline(ctx), out);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(out[0].relid, 20);
	ck_assert_uint_eq(out[1].relid, 21);
	/* asking for more than the host offers ends at the deadline */
	n = vmbus_conn_subchannels(&C, &p, 3, pvio_deadline(ctx), out);
	ck_assert_int_eq(n, 2);
	/* primaries are still found by index among primaries */
	ck_assert_int_eq(vmbus_conn_find(&C, &vmbus_guid_netvsc, 1, &p), 0);
	ck_assert_uint_eq(p.relid, 12);
	vmbus_conn_disconnect(&C);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmbus_conn");
	TCase *tc = tcase_create("conn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, connect_newest);
	tcase_add_test(tc, connect_old_host);
	tcase_add_test(tc, connect_refused);
	tcase_add_test(tc, connect_silent);
	tcase_add_test(tc, gpadl_roundtrip);
	tcase_add_test(tc, open_close);
	tcase_add_test(tc, rescind);
	tcase_add_test(tc, rescind_during_open);
	tcase_add_test(tc, open_unanswered_gpadl_keeps_the_ring);
	tcase_add_test(tc, rescind_with_the_answer);
	tcase_add_test(tc, reoffer_before_release);
	tcase_add_test(tc, hostile_messages);
	tcase_add_test(tc, subchannels);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
