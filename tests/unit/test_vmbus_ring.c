/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for backends/vmbus/ring.c against the host-side model in
 * test_vmbus_host.h: packets and trailers, wrap-around, the signalling
 * rules (interrupt_mask, empty->non-empty, pending_send_sz), and hostile
 * indices and descriptors.
 */
#include <check.h>
#include <stdlib.h>

#include "backends/vmbus/vmbus.h"
#include "test_vmbus_host.h"

#define RB (4096 + 4096) /* header page + 4 KiB data: wraps quickly */

struct pair {
	void *mem;
	struct vmbus_ring g; /* guest view */
	struct hring h;      /* host view */
};

static void pair_init(struct pair *p)
{
	p->mem = aligned_alloc(4096, RB);
	ck_assert_ptr_nonnull(p->mem);
	memset(p->mem, 0xAB, RB); /* ring setup must not rely on zeroes */
	vmbus_ring_init(&p->g, p->mem, RB);
	vmbus_ring_setup(&p->g);
	memset((uint8_t *)p->mem + 4096, 0, 4096);
	hr_init(&p->h, p->mem, RB);
}

static void pair_fini(struct pair *p)
{
	free(p->mem);
}

static uint32_t fill(uint8_t *buf, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	return len;
}

/* guest writes inband packets; host reads them back intact */
START_TEST(tx_roundtrip_and_wrap)
{
	struct pair p;
	pair_init(&p);
	ck_assert_uint_eq(hr_get32(p.h.hdr + HR_FEAT) & 1, 1);
	uint8_t payload[300], out[512];
	const char *why = "";
	unsigned wrapped = 0;
	for (int i = 0; i < 200; i++) {
		uint32_t plen = 1 + (uint32_t)(i * 37) % 290;
		fill(payload, plen, (uint8_t)i);
		struct vmbus_pkt_desc d;
		vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, 16, plen,
			       VMBUS_PKT_FLAG_COMPLETION, (uint64_t)i + 1);
		struct vmbus_iov iov[2] = { { &d, 16 }, { payload, plen } };
		uint32_t before = p.g.priv;
		ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), 0);
		if (p.g.priv < before)
			wrapped++;
		/* nothing visible before publish */
		ck_assert_int_eq(hr_get(&p.h, out, sizeof(out)), 0);
		ck_assert_int_ge(vmbus_ring_publish(&p.g), 0);
		int n = hr_get(&p.h, out, sizeof(out));
		ck_assert_int_eq(n, (int)((16 + plen + 7) & ~7u));
		uint64_t tid;
		memcpy(&tid, out + 8, 8);
		ck_assert_uint_eq(tid, (uint64_t)i + 1);
		ck_assert_mem_eq(out + 16, payload, plen);
		/* padding is zeroed */
		for (uint32_t k = 16 + plen; k < (uint32_t)n; k++)
			ck_assert_uint_eq(out[k], 0);
	}
	ck_assert_uint_gt(wrapped, 5);
	pair_fini(&p);
}
END_TEST

/* signal only when the ring was empty and the host did not mask */
START_TEST(tx_signal_rules)
{
	struct pair p;
	pair_init(&p);
	uint8_t pl[40] = { 1 }, out[128];
	const char *why = "";
	struct vmbus_pkt_desc d;
	vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, 16, sizeof(pl), 0, 1);
	struct vmbus_iov iov[2] = { { &d, 16 }, { pl, sizeof(pl) } };

	ck_assert_int_eq(vmbus_ring_publish(&p.g), -1); /* nothing written */
	ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), 0);
	ck_assert_int_eq(vmbus_ring_publish(&p.g), 1);  /* empty -> data */
	ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), 0);
	ck_assert_int_eq(vmbus_ring_publish(&p.g), 0);  /* host has not read */
	ck_assert_int_gt(hr_get(&p.h, out, sizeof(out)), 0);
	ck_assert_int_gt(hr_get(&p.h, out, sizeof(out)), 0);
	/* host drained but is polling: interrupt_mask suppresses */
	hr_set32(p.h.hdr + HR_IMASK, 1);
	ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), 0);
	ck_assert_int_eq(vmbus_ring_publish(&p.g), 0);
	ck_assert_int_gt(hr_get(&p.h, out, sizeof(out)), 0);
	hr_set32(p.h.hdr + HR_IMASK, 0);
	/* a batch of three: one signal */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), 0);
	ck_assert_int_eq(vmbus_ring_publish(&p.g), 1);
	pair_fini(&p);
}
END_TEST

/* full ring: -EAGAIN and pending_send_sz; strictly-greater space rule */
START_TEST(tx_full_and_pending)
{
	struct pair p;
	pair_init(&p);
	uint8_t pl[1000], out[2048];
	memset(pl, 0x5a, sizeof(pl));
	const char *why = "";
	struct vmbus_pkt_desc d;
	vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, 16, sizeof(pl), 0, 1);
	struct vmbus_iov iov[2] = { { &d, 16 }, { pl, sizeof(pl) } };
	int n = 0;
	while (vmbus_ring_write(&p.g, iov, 2, &why) == 0)
		n++;
	/* 1016 + 8 = 1024 per packet; 4096 data: only 3 fit (4th would
	 * leave w == r) */
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(hr_get32(p.h.hdr + HR_PENDING), 1024);
	vmbus_ring_publish(&p.g);
	ck_assert_int_gt(hr_get(&p.h, out, sizeof(out)), 0);
	ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), 0);
	ck_assert_uint_eq(hr_get32(p.h.hdr + HR_PENDING), 0);
	/* a packet larger than the ring can never fit */
	uint8_t big[5000];
	struct vmbus_iov biov[2] = { { &d, 16 }, { big, sizeof(big) } };
	ck_assert_int_eq(vmbus_ring_write(&p.g, biov, 2, &why), -EMSGSIZE);
	pair_fini(&p);
}
END_TEST

START_TEST(tx_hostile_read_index)
{
	struct pair p;
	pair_init(&p);
	uint8_t pl[8] = { 0 };
	const char *why = "";
	struct vmbus_pkt_desc d;
	vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, 16, 8, 0, 1);
	struct vmbus_iov iov[2] = { { &d, 16 }, { pl, 8 } };
	hr_set32(p.h.hdr + HR_R, 4096); /* == size: out of range */
	ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "read index"));
	hr_set32(p.h.hdr + HR_R, 12); /* misaligned */
	ck_assert_int_eq(vmbus_ring_write(&p.g, iov, 2, &why), -EIO);
	pair_fini(&p);
}
END_TEST

/* host writes, guest reads: wrap-around, copy-out, read index, signals */
START_TEST(rx_roundtrip_and_wrap)
{
	struct pair p;
	pair_init(&p);
	uint8_t pkt[600], pl[560], buf[1024];
	const char *why = "";
	int wrapped = 0;
	for (int i = 0; i < 100; i++) {
		uint32_t plen = 8 + (uint32_t)(i * 53) % 550;
		fill(pl, plen, (uint8_t)(i * 3));
		uint32_t len = hp_build(pkt, VMBUS_PKT_COMP, 0, 1000 + i, NULL,
					0, pl, plen);
		uint32_t w0 = hr_get32(p.h.hdr + HR_W);
		ck_assert_int_ge(hr_put(&p.h, pkt, len), 0);
		if (hr_get32(p.h.hdr + HR_W) < w0)
			wrapped++;
		ck_assert_int_eq(vmbus_ring_pending(&p.g), 1);
		int n = vmbus_ring_read(&p.g, buf, sizeof(buf), &why);
		ck_assert_int_eq(n, (int)len);
		ck_assert_mem_eq(buf + 16, pl, plen);
		/* read index is private until done */
		ck_assert_uint_ne(hr_get32(p.h.hdr + HR_R), p.g.priv);
		ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), 0);
		vmbus_ring_done(&p.g);
		ck_assert_uint_eq(hr_get32(p.h.hdr + HR_R), p.g.priv);
	}
	ck_assert_int_gt(wrapped, 3);
	pair_fini(&p);
}
END_TEST

START_TEST(rx_interrupt_mask)
{
	struct pair p;
	pair_init(&p);
	uint8_t pkt[64], buf[128];
	const char *why = "";
	uint32_t len = hp_build(pkt, VMBUS_PKT_COMP, 0, 1, NULL, 0, "abcd", 4);
	vmbus_ring_mask(&p.g);
	ck_assert_int_eq(hr_put(&p.h, pkt, len), 0); /* masked: no irq */
	/* unmask sees the data that arrived meanwhile */
	ck_assert_int_eq(vmbus_ring_unmask(&p.g), 1);
	ck_assert_int_gt(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), 0);
	vmbus_ring_done(&p.g);
	ck_assert_int_eq(vmbus_ring_unmask(&p.g), 0);
	ck_assert_int_eq(hr_put(&p.h, pkt, len), 1); /* empty, unmasked */
	pair_fini(&p);
}
END_TEST

/* a blocked host writer is signalled once space crosses pending_send_sz */
START_TEST(rx_pending_send_sz)
{
	struct pair p;
	pair_init(&p);
	uint8_t pkt[1024], buf[1024], pl[1000] = { 7 };
	const char *why = "";
	uint32_t len = hp_build(pkt, VMBUS_PKT_COMP, 0, 1, NULL, 0, pl, 1000);
	ck_assert_uint_eq(len, 1016);
	for (int i = 0; i < 3; i++)
		ck_assert_int_ge(hr_put(&p.h, pkt, len), 0);
	ck_assert_int_eq(hr_put(&p.h, pkt, len), -1); /* full */
	/* host wants room for one more packet */
	hr_set32(p.h.hdr + HR_PENDING, 1024);
	/* free now 4096 - 3072 = 1024: not enough (needs > 1024) */
	ck_assert_int_gt(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), 0);
	ck_assert_int_eq(vmbus_ring_done(&p.g), 1); /* 1024 -> 2048 crosses */
	ck_assert_int_gt(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), 0);
	ck_assert_int_eq(vmbus_ring_done(&p.g), 0); /* already had room */
	/* feature bit cleared: never signal */
	hr_set32(p.h.hdr + HR_FEAT, 0);
	ck_assert_int_gt(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), 0);
	ck_assert_int_eq(vmbus_ring_done(&p.g), 0);
	pair_fini(&p);
}
END_TEST

static void put_raw(struct pair *p, uint16_t off8, uint16_t len8,
		    uint32_t advance)
{
	uint8_t d[16] = { 0 };
	d[0] = VMBUS_PKT_COMP;
	memcpy(d + 2, &off8, 2);
	memcpy(d + 4, &len8, 2);
	hr_copy_in(&p->h, 0, d, 16);
	hr_set32(p->h.hdr + HR_W, advance);
}

START_TEST(rx_hostile)
{
	struct pair p;
	uint8_t buf[4096];
	const char *why = "";

	pair_init(&p);
	put_raw(&p, 1, 4, 40); /* offset8 below the descriptor */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "offset8"));
	pair_fini(&p);

	pair_init(&p);
	put_raw(&p, 4, 3, 40); /* len8 < offset8 */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	pair_fini(&p);

	pair_init(&p);
	put_raw(&p, 2, 100, 40); /* len8 beyond the write index */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "len8"));
	pair_fini(&p);

	pair_init(&p);
	put_raw(&p, 2, 4, 4096); /* write index out of range */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "write index"));
	pair_fini(&p);

	pair_init(&p);
	put_raw(&p, 2, 4, 44); /* misaligned write index */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	pair_fini(&p);

	pair_init(&p);
	put_raw(&p, 2, 2, 16); /* fewer bytes than descriptor + trailer */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	pair_fini(&p);

	/* packet larger than the reader accepts */
	pair_init(&p);
	put_raw(&p, 2, 100, 808);
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, 512, &why), -EMSGSIZE);
	pair_fini(&p);

	/* write index moving backwards over data already announced */
	pair_init(&p);
	uint8_t pkt[64];
	uint32_t len = hp_build(pkt, VMBUS_PKT_COMP, 0, 1, NULL, 0, "x", 1);
	hr_put(&p.h, pkt, len);
	hr_put(&p.h, pkt, len);
	ck_assert_int_gt(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), 0);
	hr_set32(p.h.hdr + HR_W, p.g.priv); /* retract the second packet */
	ck_assert_int_eq(vmbus_ring_read(&p.g, buf, sizeof(buf), &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "backwards"));
	pair_fini(&p);
}
END_TEST

/* The descriptor the reader returns is the one it validated, even if the
 * host rewrites it (double fetch) - checked by construction: the copy's
 * header is replaced with the validated copy. */
START_TEST(rx_copy_is_private)
{
	struct pair p;
	pair_init(&p);
	uint8_t pkt[64], buf[128];
	const char *why = "";
	uint32_t len = hp_build(pkt, VMBUS_PKT_COMP, 0, 77, NULL, 0, "data1234", 8);
	hr_put(&p.h, pkt, len);
	int n = vmbus_ring_read(&p.g, buf, sizeof(buf), &why);
	ck_assert_int_eq(n, 24);
	/* host scribbles over the ring after the read */
	memset(p.h.data, 0xff, 64);
	uint64_t tid;
	memcpy(&tid, buf + 8, 8);
	ck_assert_uint_eq(tid, 77);
	ck_assert_mem_eq(buf + 16, "data1234", 8);
	pair_fini(&p);
}
END_TEST

START_TEST(tid_table)
{
	pvio_ctx *ctx;
	ck_assert_int_eq(pvio_ctx_new(NULL, &ctx), 0);
	struct vmbus_tid t;
	ck_assert_int_eq(vmbus_tid_init(ctx, &t, 4), 0);
	uint64_t a = vmbus_tid_get(&t), b = vmbus_tid_get(&t);
	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(b, 2);
	ck_assert_int_eq(vmbus_tid_lookup(&t, a), 0);
	ck_assert_int_eq(vmbus_tid_lookup(&t, 0), -1);      /* 0 is never valid */
	ck_assert_int_eq(vmbus_tid_lookup(&t, 3), -1);      /* not outstanding */
	ck_assert_int_eq(vmbus_tid_lookup(&t, 5), -1);      /* out of range */
	ck_assert_int_eq(vmbus_tid_lookup(&t, (uint64_t)-1), -1);
	vmbus_tid_put(&t, 0);
	ck_assert_int_eq(vmbus_tid_lookup(&t, a), -1);      /* completed twice */
	vmbus_tid_put(&t, 0);                              /* harmless */
	ck_assert_uint_eq(vmbus_tid_busy(&t), 1);
	vmbus_tid_get(&t);
	vmbus_tid_get(&t);
	vmbus_tid_get(&t);
	ck_assert_uint_eq(vmbus_tid_get(&t), 0);           /* exhausted */
	vmbus_tid_fini(ctx, &t);
	pvio_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmbus_ring");
	TCase *tc = tcase_create("ring");
	tcase_add_test(tc, tx_roundtrip_and_wrap);
	tcase_add_test(tc, tx_signal_rules);
	tcase_add_test(tc, tx_full_and_pending);
	tcase_add_test(tc, tx_hostile_read_index);
	tcase_add_test(tc, rx_roundtrip_and_wrap);
	tcase_add_test(tc, rx_interrupt_mask);
	tcase_add_test(tc, rx_pending_send_sz);
	tcase_add_test(tc, rx_hostile);
	tcase_add_test(tc, rx_copy_is_private);
	tcase_add_test(tc, tid_table);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
