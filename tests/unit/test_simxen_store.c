/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_simxen_store.c - sim/xen's xenstore tree in-process:
 * permission answers (ENOENT vs EACCES), ownership of created nodes,
 * which watches fire with which path, transaction conflicts, quotas; and
 * the packet helpers (checksum completion, software GSO).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen/sxen.h"

struct sink_log {
	char ev[64][128];
	unsigned n;
};

static void cap_send(void *arg, uint32_t type, uint32_t req_id, uint32_t tx_id,
		     const void *p, uint32_t len)
{
	struct sink_log *l = arg;
	(void)req_id;
	(void)tx_id;
	(void)len;
	if (type == SXS_WATCH_EVENT && l->n < 64)
		snprintf(l->ev[l->n++], sizeof(l->ev[0]), "%s|%s", (const char *)p,
			 (const char *)p + strlen(p) + 1);
}

static const struct sxen_xs_sink cap = { cap_send, NULL };

static bool has_event(struct sink_log *l, const char *e)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->ev[i], e))
			return true;
	return false;
}

static struct sxen_store *st;
static struct sxen_xs_client *dom0;

static void setup(void)
{
	sim_log_init("test", SIM_LOG_ERROR);
	st = sxen_xs_new();
	dom0 = sxen_xs_client_new(st, 0, true, NULL, NULL);
	ck_assert_int_eq(sxen_xs_mkdir(dom0, 0, "/local/domain/3"), 0);
	ck_assert_int_eq(sxen_xs_set_perms_str(dom0, 0, "/local/domain/3", "n0,r3"), 0);
	ck_assert_int_eq(sxen_xs_mkdir(dom0, 0, "/local/domain/3/data"), 0);
	ck_assert_int_eq(sxen_xs_set_perms_str(dom0, 0, "/local/domain/3/data", "n3"), 0);
}

static void teardown(void)
{
	sxen_xs_free(st);
}

START_TEST(perms_enoent_vs_eacces)
{
	struct sxen_xs_client *d = sxen_xs_client_new(st, 3, false, NULL, NULL);
	char *v;
	uint32_t len;
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/secret/a", "x", 1), 0);
	/* exists but unreadable, and missing below an unreadable parent */
	ck_assert_int_eq(sxen_xs_read(d, 0, "/secret/a", &v, &len), -EACCES);
	ck_assert_int_eq(sxen_xs_read(d, 0, "/secret/b", &v, &len), -EACCES);
	/* missing below a readable parent */
	ck_assert_int_eq(sxen_xs_read(d, 0, "data/none", &v, &len), -ENOENT);
	ck_assert_int_eq(sxen_xs_read(d, 0, "none", &v, &len), -ENOENT);
	/* readable but not writable home */
	ck_assert_int_eq(sxen_xs_write(d, 0, "x", "1", 1), -EACCES);
	ck_assert_int_eq(sxen_xs_write(d, 0, "data/a/b/c", "1", 1), 0);
	struct sxen_xs_perm *p;
	uint32_t n;
	ck_assert_int_eq(sxen_xs_get_perms(d, 0, "data/a/b", &p, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(p[0].id, 3);
	free(p);
	/* invalid paths */
	ck_assert_int_eq(sxen_xs_read(d, 0, "/x//y", &v, &len), -EINVAL);
	ck_assert_int_eq(sxen_xs_read(d, 0, "/x/", &v, &len), -EINVAL);
	ck_assert_int_eq(sxen_xs_read(d, 0, "@introduceDomain", &v, &len), -EINVAL);
	/* rm of the root, rm of a missing node */
	ck_assert_int_eq(sxen_xs_rm(dom0, 0, "/"), -EINVAL);
	ck_assert_int_eq(sxen_xs_rm(dom0, 0, "/secret/zzz"), 0);
	ck_assert_int_eq(sxen_xs_rm(dom0, 0, "/nothing/zzz"), -ENOENT);
	sxen_xs_client_free(d);
}
END_TEST

START_TEST(watch_paths_and_permissions)
{
	struct sink_log l0 = { .n = 0 }, l3 = { .n = 0 };
	struct sxen_xs_client *w0 = sxen_xs_client_new(st, 0, true, &cap, &l0);
	struct sxen_xs_client *w3 = sxen_xs_client_new(st, 3, false, &cap, &l3);
	ck_assert_int_eq(sxen_xs_watch(w3, "data", "rel"), 0);
	ck_assert_int_eq(sxen_xs_watch(w3, "/local/domain/3/data", "abs"), 0);
	ck_assert_int_eq(sxen_xs_watch(w3, "/secret", "sec"), 0);
	ck_assert_int_eq(sxen_xs_watch(w0, "/", "all"), 0);
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/local/domain/3/data/k", "1", 1), 0);
	ck_assert(has_event(&l3, "data/k|rel"));
	ck_assert(has_event(&l3, "/local/domain/3/data/k|abs"));
	ck_assert(has_event(&l0, "/local/domain/3/data/k|all"));
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/secret/x", "1", 1), 0);
	ck_assert(!has_event(&l3, "/secret/x|sec"));
	ck_assert(has_event(&l0, "/secret/x|all"));
	/* rm fires for the node and, exactly, for every deleted node */
	l0.n = l3.n = 0;
	ck_assert_int_eq(sxen_xs_watch(w3, "data/k", "exact"), 0);
	ck_assert_int_eq(sxen_xs_rm(dom0, 0, "/local/domain/3/data"), 0);
	ck_assert(has_event(&l3, "data|rel"));
	ck_assert(has_event(&l3, "data/k|exact"));
	/* a watch above fires once, with the removed node's path */
	ck_assert(has_event(&l0, "/local/domain/3/data|all"));
	ck_assert(!has_event(&l0, "/local/domain/3/data/k|all"));
	/* special events go to dom0 only */
	l0.n = l3.n = 0;
	ck_assert_int_eq(sxen_xs_watch(w0, "@releaseDomain", "r"), 0);
	ck_assert_int_eq(sxen_xs_watch(w3, "@releaseDomain", "r"), 0);
	sxen_xs_set_domain(st, 3, true);
	sxen_xs_set_domain(st, 3, false);
	ck_assert(has_event(&l0, "@releaseDomain|r"));
	ck_assert(!has_event(&l3, "@releaseDomain|r"));
	ck_assert_int_eq(sxen_xs_unwatch(w3, "data", "rel"), 0);
	ck_assert_int_eq(sxen_xs_unwatch(w3, "data", "rel"), -ENOENT);
	sxen_xs_client_free(w0);
	sxen_xs_client_free(w3);
}
END_TEST

START_TEST(transaction_conflicts)
{
	struct sxen_xs_client *d = sxen_xs_client_new(st, 3, false, NULL, NULL);
	uint32_t tx;
	char *v;
	uint32_t len;
	ck_assert_int_eq(sxen_xs_write(d, 0, "data/a", "1", 1), 0);
	/* listing a directory, then a child appears: conflict */
	ck_assert_int_eq(sxen_xs_tx_start(d, &tx), 0);
	char *names;
	ck_assert_int_eq(sxen_xs_directory(d, tx, "data", &names, &len, NULL), 0);
	free(names);
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/local/domain/3/data/b", "2", 1), 0);
	ck_assert_int_eq(sxen_xs_tx_end(d, tx, true), -EAGAIN);
	/* unrelated change: no conflict; the write lands */
	ck_assert_int_eq(sxen_xs_tx_start(d, &tx), 0);
	ck_assert_int_eq(sxen_xs_read(d, tx, "data/a", &v, &len), 0);
	free(v);
	ck_assert_int_eq(sxen_xs_write(d, tx, "data/c", "3", 1), 0);
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/elsewhere", "x", 1), 0);
	ck_assert_int_eq(sxen_xs_tx_end(d, tx, true), 0);
	ck_assert_int_eq(sxen_xs_read(d, 0, "data/c", &v, &len), 0);
	ck_assert_str_eq(v, "3");
	free(v);
	/* a removed subtree someone wrote into: conflict */
	ck_assert_int_eq(sxen_xs_write(d, 0, "data/t/u", "1", 1), 0);
	ck_assert_int_eq(sxen_xs_tx_start(d, &tx), 0);
	ck_assert_int_eq(sxen_xs_rm(d, tx, "data/t"), 0);
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/local/domain/3/data/t/u", "2", 1), 0);
	ck_assert_int_eq(sxen_xs_tx_end(d, tx, true), -EAGAIN);
	ck_assert_int_eq(sxen_xs_read(d, 0, "data/t/u", &v, &len), 0);
	free(v);
	ck_assert_int_eq(sxen_xs_tx_end(d, 12345, true), -ENOENT);
	sxen_xs_client_free(d);
}
END_TEST

START_TEST(quotas)
{
	struct sxen_xs_client *d = sxen_xs_client_new(st, 3, false, NULL, NULL);
	char p[64];
	int r = 0;
	unsigned i;
	/* one directory's entry (its children's names) stays under 2048 */
	for (i = 0; i < 1100 && !r; i++) {
		snprintf(p, sizeof(p), "data/d%u/n%u", i / 100, i % 100);
		r = sxen_xs_write(d, 0, p, "", 0);
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_uint_lt(i, 1001);
	ck_assert_uint_gt(i, 980);
	/* a single entry over 2048 bytes (its children's names): ENOSPC */
	r = 0;
	for (i = 0; i < 1000 && !r; i++) {
		snprintf(p, sizeof(p), "/local/domain/3/data/d0/long-name-%04u", i);
		r = sxen_xs_write(dom0, 0, p, "", 0);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(sxen_xs_write(d, 0, "data/d0/one-more", "", 0), -ENOSPC);
	/* dom0 has no quota */
	ck_assert_int_eq(sxen_xs_write(dom0, 0, "/local/domain/3/data/more", "", 0), 0);
	/* watches */
	r = 0;
	for (i = 0; i < 200 && !r; i++) {
		snprintf(p, sizeof(p), "t%u", i);
		r = sxen_xs_watch(d, "data", p);
	}
	ck_assert_int_eq(r, -E2BIG);
	sxen_xs_client_free(d);
}
END_TEST

START_TEST(deep_paths)
{
	/* ~900 levels: paths, events and removal must not depend on depth */
	struct sink_log l = { .n = 0 };
	struct sxen_xs_client *w = sxen_xs_client_new(st, 3, false, &cap, &l);
	static char p[2100];
	size_t off = (size_t)snprintf(p, sizeof(p), "data");
	while (off + 2 < 1800) { /* ~900 levels, under the 1000-node quota */
		p[off++] = '/';
		p[off++] = 'a';
	}
	p[off] = 0;
	ck_assert_int_eq(sxen_xs_watch(w, p, "deep"), 0);
	ck_assert_int_eq(sxen_xs_write(w, 0, p, "v", 1), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(strncmp(l.ev[0], "data/a/a/a", 10), 0);
	uint32_t tx;
	ck_assert_int_eq(sxen_xs_tx_start(w, &tx), 0);
	ck_assert_int_eq(sxen_xs_rm(w, tx, "data/a"), 0);
	ck_assert_int_eq(sxen_xs_tx_end(w, tx, true), 0);
	char *v;
	uint32_t len;
	ck_assert_int_eq(sxen_xs_read(w, 0, p, &v, &len), -ENOENT);
	/* the deep watch fired exactly for its node on removal */
	ck_assert_uint_eq(l.n, 2);
	sxen_xs_client_free(w);
}
END_TEST

/* an Ethernet + IPv4 + TCP frame with `payload` bytes */
static struct sxen_frame *tcp4(uint32_t payload)
{
	struct sxen_frame *f = sxen_frame_new(54 + payload);
	uint8_t *p = f->data;
	memset(p, 0, f->len);
	p[12] = 0x08;
	uint8_t *ip = p + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((40 + payload) >> 8);
	ip[3] = (uint8_t)(40 + payload);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	uint8_t *t = ip + 20;
	t[0] = 0x12, t[1] = 0x34, t[2] = 0x00, t[3] = 0x50;
	t[4] = 0, t[5] = 0, t[6] = 0x10, t[7] = 0;
	t[12] = 0x50;
	t[13] = 0x18; /* PSH|ACK */
	for (uint32_t i = 0; i < payload; i++)
		t[20 + i] = (uint8_t)(i * 7 + 3);
	return f;
}

/* A valid TCP checksum sums (pseudo header + segment) to 0xFFFF. */
static uint16_t verify_tcp4(const uint8_t *p, uint32_t len)
{
	const uint8_t *ip = p + 14;
	uint32_t tl = (uint32_t)(ip[2] << 8 | ip[3]) - 20;
	uint32_t s = sxen_csum_add(0, ip + 12, 8) + 6 + tl;
	s = sxen_csum_add(s, ip + 20, tl);
	(void)len;
	return sxen_csum_fold(s);
}

START_TEST(checksum_and_gso)
{
	struct sxen_frame *f = tcp4(100);
	/* what a CHECKSUM_PARTIAL sender puts in the field, then completion */
	ck_assert_int_eq(sxen_pkt_pseudo_csum(f->data, f->len), 0);
	ck_assert_int_eq(sxen_pkt_csum_complete(f->data, f->len), 0);
	ck_assert_uint_eq(verify_tcp4(f->data, f->len), 0xFFFF);
	uint16_t start, off;
	int l3, l4;
	ck_assert_int_eq(sxen_pkt_csum_setup(f->data, f->len, &start, &off, &l3, &l4), 0);
	ck_assert_uint_eq(start, 34);
	ck_assert_uint_eq(off, 16);
	ck_assert_int_eq(l3, 4);
	ck_assert_int_eq(l4, 6);
	free(f);
	/* not TCP/UDP: no checksum setup */
	f = tcp4(10);
	f->data[14 + 9] = 1;
	ck_assert_int_eq(sxen_pkt_csum_setup(f->data, f->len, &start, &off, &l3, &l4), -EPROTO);
	free(f);
	/* GSO: 2500 bytes, MSS 1000 -> 3 segments, valid, in sequence */
	f = tcp4(2500);
	f->gso_type = SNET_GSO_TYPE_TCPV4;
	f->gso_size = 1000;
	struct sxen_frame *s = sxen_pkt_segment(f), *n;
	unsigned cnt = 0;
	uint32_t bytes = 0;
	for (; s; s = n, cnt++) {
		n = s->next;
		const uint8_t *t = s->data + 34;
		uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
			       (uint32_t)t[6] << 8 | t[7];
		ck_assert_uint_eq(seq, 0x1000 + bytes);
		ck_assert_uint_eq(verify_tcp4(s->data, s->len), 0xFFFF);
		ck_assert_uint_eq(sxen_csum_fold(sxen_csum_add(0, s->data + 14, 20)), 0xFFFF);
		ck_assert_int_eq(memcmp(s->data + 54, f->data + 54 + bytes, s->len - 54), 0);
		/* PSH only on the last segment */
		ck_assert_uint_eq(!!(t[13] & 0x08), n == NULL);
		bytes += s->len - 54;
		free(s);
	}
	ck_assert_uint_eq(cnt, 3);
	ck_assert_uint_eq(bytes, 2500);
	free(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simxen_store");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, perms_enoent_vs_eacces);
	tcase_add_test(tc, watch_paths_and_permissions);
	tcase_add_test(tc, transaction_conflicts);
	tcase_add_test(tc, quotas);
	tcase_add_test(tc, deep_paths);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("packets");
	tcase_add_test(tp, checksum_and_gso);
	suite_add_tcase(s, tp);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
