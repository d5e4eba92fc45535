/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simvmbus_test.c - `pvio sim hyperv` driven end to end
 * by the test guest of simvmbus_tguest.c over its hostif socket:
 *
 *   storage  VMBus bring-up (5.3 on connection id 4, msg_conn_id), offers,
 *            a ring GPADL spanning header and body messages, StorVSP
 *            initialisation and SCSI I/O checked against the image file;
 *   network  NetVSP + RNDIS bring-up, frames reflected through send-buffer
 *            sections and GPA ranges, a bridge between two partitions,
 *            sub-channels;
 *   strict   malformed guest input of each layer is refused the way the
 *            sheet says and the host stays up;
 *   faults   ctl commands: sense errors, link down/up, rescind mid-I/O and
 *            re-offer, corrupted completions;
 *   version  an old host (--max-version 4.0) refuses connection id 4.
 *
 * The host is started per test case in a temporary directory and stopped
 * by pid, also when a test fails; each case ends by checking the host
 * exits cleanly with nothing in its log from ASan/UBSan/LSan.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simvmbus_tguest.h"

#define T 5000 /* ms, every wait */

static struct tg_host host;
static char img[64];
static const uint8_t nic_guid[16] = { 0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf,
				      0xc5, 0x46, 0x91, 0x3f, 0xf2, 0xd2,
				      0xf9, 0x65, 0xed, 0x0e };
static const uint8_t scsi_guid[16] = { 0xd9, 0x63, 0x61, 0xba, 0xa1, 0x04,
				       0x29, 0x4d, 0xb6, 0x05, 0x72, 0xe2,
				       0xff, 0xb1, 0xdc, 0x7f };
static const uint8_t mac0[6] = { 0x00, 0x15, 0x5d, 0xaa, 0x00, 0x01 };

static void start(const char *const *args)
{
	int r = tg_host_start(&host, args);
	if (r < 0) {
		fprintf(stderr, "cannot start pvio sim hyperv (PVIO=%s): %s\n",
			getenv("PVIO") ? getenv("PVIO") : "unset",
			strerror(-r));
		abort();
	}
}

static void make_img(void)
{
	strcpy(img, "/tmp/simvmbus_img.XXXXXX");
	int fd = mkstemp(img);
	if (fd < 0 || ftruncate(fd, 8 << 20) < 0)
		abort();
	close(fd);
}

static void setup_main(void)
{
	make_img();
	char scsi[96];
	snprintf(scsi, sizeof(scsi), "%s,channels=2", img);
	const char *args[] = { "--scsi",
			       scsi,
			       "--nic",
			       "mac=00:15:5d:aa:00:01,channels=2",
			       "--nic",
			       "mode=bridge:2",
			       "--nic",
			       "rx-reserve=1M",
			       "-v",
			       NULL };
	start(args);
}

static void setup_monitor(void)
{
	make_img();
	const char *args[] = { "--scsi", img, "--monitor", NULL };
	start(args);
}

static void setup_old(void)
{
	make_img();
	const char *args[] = { "--scsi", img, "--max-version", "4.0", NULL };
	start(args);
}

static void teardown(void)
{
	tg_host_stop(&host);
	tg_host_cleanup(&host);
	unlink(img);
}

/* Last test of a case: quit, see the host exit 0 with a clean log. */
START_TEST(host_exits_clean)
{
	char out[4096];
	ck_assert_int_eq(tg_ctl(host.sock, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "host socket="));
	ck_assert_int_eq(tg_ctl(host.sock, "quit", out, sizeof(out)), 0);
	/* the host is our parent's child: wait until it is a zombie */
	char path[64], st[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", host.pid);
	bool gone = false;
	for (int i = 0; i < 1000 && !gone; i++) {
		FILE *f = fopen(path, "r");
		if (!f) {
			gone = true;
			break;
		}
		size_t n = fread(st, 1, sizeof(st) - 1, f);
		fclose(f);
		st[n] = 0;
		char *rp = strrchr(st, ')');
		gone = rp && (rp[2] == 'Z' || rp[2] == 'X');
		if (!gone)
			usleep(10000);
	}
	ck_assert_msg(gone, "host did not exit after quit");
	ck_assert_msg(!tg_host_log_has(&host, "Sanitizer"),
		      "sanitizer report in %s", host.log);
	ck_assert_msg(!tg_host_log_has(&host, "runtime error"),
		      "UBSan report in %s", host.log);
}
END_TEST

/* ------------------------------------------------------------ bring-up */
static void guest(struct tg *g, const char *name, struct tg_offer *offers,
		  int *n)
{
	ck_assert_int_eq(tg_connect(g, host.sock, name, 64 << 20), 0);
	uint8_t resp[16];
	ck_assert_int_eq(tg_contact(g, 0x00050003, 4, resp), 1);
	ck_assert_uint_eq(resp[9], 0);
	ck_assert_uint_eq(g->msg_conn, 1);
	*n = tg_offers(g, offers, 16);
}

static const struct tg_offer *find(const struct tg_offer *o, int n,
				   const uint8_t *type, unsigned k)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(o[i].type, type, 16) && o[i].sub == 0 && !k--)
			return &o[i];
	return NULL;
}

START_TEST(offers_describe_the_devices)
{
	struct tg g;
	struct tg_offer o[16];
	int n;
	guest(&g, "offers", o, &n);
	ck_assert_int_eq(n, 4);
	ck_assert_mem_eq(o[0].type, scsi_guid, 16);
	for (int i = 1; i < 4; i++)
		ck_assert_mem_eq(o[i].type, nic_guid, 16);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(o[i].sub, 0);
		ck_assert_uint_ne(o[i].relid, 0);
		ck_assert_uint_ne(o[i].conn_id, 0);
		for (int k = 0; k < i; k++) {
			ck_assert_uint_ne(o[i].relid, o[k].relid);
			ck_assert_mem_ne(o[i].inst, o[k].inst, 16);
		}
	}
	tg_close(&g);
}
END_TEST

/* --------------------------------------------------------------- storage */
static uint64_t tid_next = 1;

static int wait_comp(struct tg_chan *c, uint64_t tid, uint8_t *payload,
		     uint32_t *plen)
{
	uint8_t pkt[8192];
	for (;;) {
		int n = tg_recv(c, pkt, sizeof(pkt), T);
		if (n <= 0)
			return n < 0 ? n : -ETIMEDOUT;
		if (tg_g16(pkt) != 0x0B || tg_g64(pkt + 8) != tid)
			continue;
		uint32_t off = tg_g16(pkt + 2) * 8u;
		if (payload)
			memcpy(payload, pkt + off, (uint32_t)n - off);
		if (plen)
			*plen = (uint32_t)n - off;
		return 0;
	}
}

static uint32_t vstor(struct tg_chan *c, uint32_t op, const void *body,
		      uint32_t blen, uint32_t size, uint8_t *reply)
{
	uint8_t p[64] = { 0 }, r[512];
	uint32_t rl = 0;
	tg_p32(p, op);
	tg_p32(p + 4, 1);
	if (blen)
		memcpy(p + 12, body, blen);
	uint64_t tid = tid_next++;
	ck_assert_int_eq(tg_send(c, 6, 1, tid, NULL, 0, p, size), 0);
	ck_assert_int_eq(wait_comp(c, tid, r, &rl), 0);
	ck_assert_uint_ge(rl, size);
	ck_assert_uint_eq(tg_g32(r), 1); /* COMPLETE_IO */
	if (reply)
		memcpy(reply, r, 64);
	return tg_g32(r + 8);
}

static void stor_init(struct tg_chan *c)
{
	uint8_t v[4] = { 0x02, 0x06, 0, 0 }, r[64];
	ck_assert_uint_eq(vstor(c, 7, NULL, 0, 48, NULL), 0);
	uint8_t old[4] = { 0x02, 0x04, 0, 0 };
	ck_assert_uint_ne(vstor(c, 9, old, 4, 48, NULL), 0); /* 4.2 */
	ck_assert_uint_eq(vstor(c, 9, v, 4, 48, NULL), 0);    /* 6.2 */
	ck_assert_uint_eq(vstor(c, 10, NULL, 0, 64, r), 0);
	ck_assert_uint_eq(tg_g32(r + 12 + 12), 512 * 1024);   /* max xfer */
	ck_assert_uint_eq(vstor(c, 8, NULL, 0, 64, NULL), 0);
}

/* Returns srb_status; reply (64 bytes) for the rest. */
static uint8_t srb(struct tg_chan *c, const uint8_t *cdb, uint8_t cdblen,
		   uint8_t data_in, uint64_t gpa, uint32_t len, uint8_t *reply)
{
	uint8_t p[64] = { 0 }, r[512];
	tg_p32(p, 3);
	tg_p32(p + 4, 1);
	uint8_t *s = p + 12;
	tg_p16(s, 52);
	s[8] = cdblen;
	s[9] = 20;
	s[10] = data_in;
	tg_p32(s + 12, len);
	memcpy(s + 16, cdb, cdblen);
	tg_p32(s + 40, len ? (data_in == 1 ? 0x40 : 0x80) : 0);
	tg_p32(s + 44, 60);
	uint64_t tid = tid_next++;
	if (len)
		ck_assert_int_eq(tg_send_gpa(c, tid, gpa, len, p, 64), 0);
	else
		ck_assert_int_eq(tg_send(c, 6, 1, tid, NULL, 0, p, 64), 0);
	ck_assert_int_eq(wait_comp(c, tid, r, NULL), 0);
	if (reply)
		memcpy(reply, r, 64);
	return r[12 + 2];
}

static void open_storage(struct tg *g, struct tg_chan *c, const char *name)
{
	struct tg_offer o[16];
	int n;
	guest(g, name, o, &n);
	const struct tg_offer *so = find(o, n, scsi_guid, 0);
	ck_assert_ptr_nonnull(so);
	/* 20 + 20 pages: the ring GPADL needs a header and a body */
	ck_assert_uint_eq(tg_open(g, c, so->relid, 20, 20, 0xE1E10), 0);
	stor_init(c);
}

START_TEST(storage_reads_and_writes_the_image)
{
	struct tg g;
	struct tg_chan c;
	uint8_t r[64];
	open_storage(&g, &c, "storage");
	uint64_t buf = tg_alloc(&g, 80 * 1024);
	uint8_t *va = tg_va(&g, buf);

	uint8_t inq[6] = { 0x12, 0, 0, 0, 255, 0 };
	ck_assert_uint_eq(srb(&c, inq, 6, 1, buf, 255, r), 1);
	ck_assert_uint_eq(tg_g32(r + 12 + 12), 36);
	ck_assert_mem_eq(va + 8, "Msft", 4);
	uint8_t rc[16] = { 0x9E, 0x10 };
	rc[13] = 32;
	ck_assert_uint_eq(srb(&c, rc, 16, 1, buf, 32, r), 1);
	ck_assert_uint_eq(va[5] << 16 | va[6] << 8 | va[7], (8 << 20) / 512 - 1);

	/* 64 KiB from byte 512 of a page: 17 pages, partial first and last */
	uint64_t data = buf + 512;
	uint8_t *dv = tg_va(&g, data);
	for (int i = 0; i < 65536; i++)
		dv[i] = (uint8_t)(i * 13 + 5);
	uint8_t w10[10] = { 0x2A, 0, 0, 0, 0x10, 0, 0, 0, 128, 0 };
	ck_assert_uint_eq(srb(&c, w10, 10, 0, data, 65536, r), 1);
	ck_assert_uint_eq(tg_g32(r + 12 + 12), 65536);
	int fd = open(img, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	uint8_t *chk = malloc(65536);
	ck_assert_int_eq(pread(fd, chk, 65536, 0x1000 * 512), 65536);
	ck_assert_mem_eq(chk, dv, 65536);
	memset(dv, 0, 65536);
	uint8_t r16[16] = { 0x88 };
	r16[8] = 0x10;
	r16[13] = 128;
	ck_assert_uint_eq(srb(&c, r16, 16, 1, data, 65536, r), 1);
	ck_assert_mem_eq(chk, dv, 65536);
	free(chk);
	close(fd);

	/* past the end: CHECK CONDITION, ILLEGAL REQUEST, LBA out of range */
	uint8_t bad[16] = { 0x88 };
	bad[6] = 0x01;
	bad[13] = 1;
	ck_assert_uint_eq(srb(&c, bad, 16, 1, buf, 512, r), 0x84);
	ck_assert_uint_eq(r[12 + 3], 2);
	ck_assert_uint_eq(r[12 + 16], 0x70);
	ck_assert_uint_eq(r[12 + 16 + 2] & 0xF, 5);
	ck_assert_uint_eq(r[12 + 16 + 12], 0x21);
	uint8_t sync[10] = { 0x35 };
	ck_assert_uint_eq(srb(&c, sync, 10, 2, 0, 0, r), 1);
	uint8_t tur[6] = { 0 };
	ck_assert_uint_eq(srb(&c, tur, 6, 2, 0, 0, r), 1);
	uint8_t luns[12] = { 0xA0 };
	luns[9] = 64;
	ck_assert_uint_eq(srb(&c, luns, 12, 1, buf, 64, r), 1);
	ck_assert_uint_eq(va[3], 8);
	/* this guest follows the signalling rules: the host counted no
	 * surprise, and interrupted it */
	char out[4096], want[64];
	ck_assert_int_eq(tg_ctl(host.sock, "status", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "chan part=%u relid=%u ", g.part_id,
		 c.relid);
	char *line = strstr(out, want);
	ck_assert_ptr_nonnull(line);
	char *eol = strchr(line, '\n');
	if (eol)
		*eol = 0;
	ck_assert_ptr_nonnull(strstr(line, "unexpected=0 "));
	ck_assert_ptr_null(strstr(line, "interrupts=0 "));
	ck_assert_ptr_null(strstr(line, "signals=0 "));

	tg_close_chan(&c);
	ck_assert_uint_eq(tg_gpadl_teardown(&g, c.relid, 0xE1E10), 0);
	uint8_t ul[8] = { 16 };
	ck_assert_uint_eq(tg_post(&g, ul, 8), 0);
	ck_assert_int_eq(tg_wait(&g, 17, NULL, NULL, T), 0);
	tg_close(&g);
}
END_TEST

START_TEST(storage_refuses_bad_requests)
{
	struct tg g;
	struct tg_chan c;
	uint8_t r[64];
	open_storage(&g, &c, "stor-strict");
	uint64_t buf = tg_alloc(&g, 8192);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
	/* a PFN outside guest memory */
	ck_assert_uint_eq(srb(&c, r10, 10, 1, 0x7000000000ull, 4096, r), 6);
	/* data direction contradicts the command */
	ck_assert_uint_eq(srb(&c, r10, 10, 0, buf, 4096, r), 6);
	/* range shorter than data_transfer_length */
	uint8_t pk[64] = { 0 };
	tg_p32(pk, 3);
	tg_p32(pk + 4, 1);
	tg_p16(pk + 12, 52);
	pk[12 + 8] = 10;
	pk[12 + 10] = 1;
	tg_p32(pk + 12 + 12, 8192);
	memcpy(pk + 12 + 16, r10, 10);
	ck_assert_int_eq(tg_send_gpa(&c, 900, buf, 4096, pk, 64), 0);
	uint8_t cp[512];
	ck_assert_int_eq(wait_comp(&c, 900, cp, NULL), 0);
	ck_assert_uint_eq(cp[12 + 2], 6);
	/* LUN 3: no such LUN */
	pk[12 + 7] = 3;
	tg_p32(pk + 12 + 12, 4096);
	ck_assert_int_eq(tg_send_gpa(&c, 901, buf, 4096, pk, 64), 0);
	ck_assert_int_eq(wait_comp(&c, 901, cp, NULL), 0);
	ck_assert_uint_eq(cp[12 + 2], 0x20);
	/* unknown opcode */
	uint8_t op[6] = { 0xC7 };
	ck_assert_uint_eq(srb(&c, op, 6, 2, 0, 0, r), 0x84);
	ck_assert_uint_eq(r[12 + 16 + 12], 0x20);
	/* initialisation again: out of order */
	ck_assert_uint_ne(vstor(&c, 7, NULL, 0, 64, NULL), 0);
	/* still serving */
	ck_assert_uint_eq(srb(&c, r10, 10, 1, buf, 4096, r), 1);
	tg_close(&g);
}
END_TEST

START_TEST(ring_corruption_stops_only_that_channel)
{
	struct tg g;
	struct tg_chan c;
	char out[4096];
	open_storage(&g, &c, "ring-bad");
	/* descriptor with offset8 > len8, correct trailer */
	uint8_t junk[32] = { 0 };
	tg_p16(junk, 6);
	tg_p16(junk + 2, 9);
	tg_p16(junk + 4, 3);
	tg_p64(junk + 24, (uint64_t)tg_g32(c.tx_hdr) << 32);
	tg_send_raw(&c, junk, 32);
	/* the host is alive and says so */
	bool broken = false;
	for (int i = 0; i < 500 && !broken; i++) {
		ck_assert_int_eq(tg_ctl(host.sock, "status", out, sizeof(out)),
				 0);
		broken = strstr(out, "state=broken") != NULL;
		if (!broken)
			usleep(10000);
	}
	ck_assert_msg(broken, "%s", out);
	/* close, tear down, reopen: works again */
	tg_close_chan(&c);
	ck_assert_uint_eq(tg_gpadl_teardown(&g, c.relid, 0xE1E10), 0);
	struct tg_chan c2;
	ck_assert_uint_eq(tg_open(&g, &c2, c.relid, 8, 8, 0xE1E11), 0);
	/* VSTOR state was reset with the close */
	stor_init(&c2);
	tg_close(&g);
}
END_TEST

START_TEST(storage_subchannel)
{
	struct tg g;
	struct tg_chan c, sc;
	uint8_t r[64];
	open_storage(&g, &c, "stor-sub");
	/* properties said one sub-channel; asking for two is refused */
	uint8_t two[2] = { 2, 0 }, one[2] = { 1, 0 };
	ck_assert_uint_ne(vstor(&c, 13, two, 2, 64, NULL), 0);
	ck_assert_uint_eq(vstor(&c, 13, one, 2, 64, NULL), 0);
	uint8_t m[240];
	ck_assert_int_eq(tg_wait(&g, 1, m, NULL, T), 0);
	struct tg_offer so;
	tg_parse_offer(m, &so);
	ck_assert_uint_eq(so.sub, 1);
	ck_assert_mem_eq(so.type, scsi_guid, 16);
	ck_assert_uint_ne(vstor(&c, 13, one, 2, 64, NULL), 0); /* no more */
	ck_assert_uint_eq(tg_open(&g, &sc, so.relid, 8, 8, 0xE1E30), 0);
	uint64_t buf = tg_alloc(&g, 4096);
	memset(tg_va(&g, buf), 0x5A, 4096);
	uint8_t w10[10] = { 0x2A, 0, 0, 0, 0, 64, 0, 0, 8, 0 };
	ck_assert_uint_eq(srb(&sc, w10, 10, 0, buf, 4096, r), 1);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 64, 0, 0, 8, 0 };
	memset(tg_va(&g, buf), 0, 4096);
	ck_assert_uint_eq(srb(&c, r10, 10, 1, buf, 4096, r), 1);
	ck_assert_uint_eq(((uint8_t *)tg_va(&g, buf))[4095], 0x5A);
	/* initialisation belongs to the primary */
	ck_assert_uint_ne(vstor(&sc, 10, NULL, 0, 64, NULL), 0);
	tg_close(&g);
}
END_TEST

START_TEST(monitor_page_signals)
{
	struct tg g;
	struct tg_offer o[4];
	struct tg_chan c;
	uint8_t r[64];
	ck_assert_int_eq(tg_connect(&g, host.sock, "mon", 16 << 20), 0);
	ck_assert_int_eq(tg_contact(&g, 0x00050003, 4, NULL), 1);
	ck_assert_int_eq(tg_offers(&g, o, 4), 1);
	ck_assert_uint_eq(o[0].monitor_alloc & 1, 1);
	ck_assert_uint_lt(o[0].monitor_id, 128);
	ck_assert_uint_eq(tg_open(&g, &c, o[0].relid, 8, 8, 0x77), 0);
	/* from now on the guest signals only through monitor page 2 */
	c.monitor = tg_va(&g, g.monitor_page[1]);
	c.monitor_id = o[0].monitor_id;
	stor_init(&c);
	uint8_t tur[6] = { 0 };
	ck_assert_uint_eq(srb(&c, tur, 6, 2, 0, 0, r), 1);
	ck_assert_uint_gt(c.signals, 0);
	tg_close(&g);
}
END_TEST

/* ------------------------------------------------------------ hostif, vmbus */
START_TEST(vmbus_refuses_malformed_messages)
{
	struct tg g;
	uint8_t resp[16], m[240] = { 0 };
	ck_assert_int_eq(tg_connect(&g, host.sock, "strict", 16 << 20), 0);
	/* memory the file does not hold, overlapping, unaligned */
	int small = memfd_create("small", MFD_CLOEXEC);
	ck_assert_int_eq(ftruncate(small, 4096), 0);
	ck_assert_int_eq(tg_set_memory(&g, 0x200000000ull, 8192, small, 0),
			 -EINVAL);
	ck_assert_int_eq(tg_set_memory(&g, TG_GPA_BASE, 4096, small, 0),
			 -EINVAL);
	ck_assert_int_eq(tg_set_memory(&g, 0x200000100ull, 4096, small, 0),
			 -EINVAL);
	close(small);
	/* wrong connection id, message type, size */
	tg_p32(m, 14);
	tg_p32(m + 8, 0x00050003);
	ck_assert_uint_eq(tg_post_raw(&g, 9, 1, 40, m, 40), 18);
	ck_assert_uint_eq(tg_post_raw(&g, 4, 2, 40, m, 40), 5);
	ck_assert_uint_eq(tg_post_raw(&g, 4, 1, 241, m, 40), 5);
	/* 5.3 on connection id 1: not accepted */
	ck_assert_int_eq(tg_contact(&g, 0x00050003, 1, resp), 0);
	/* unknown version */
	ck_assert_int_eq(tg_contact(&g, 0x00060000, 4, resp), 0);
	ck_assert_int_eq(tg_contact(&g, 0x00050003, 4, resp), 1);
	struct tg_offer o[16];
	int n = tg_offers(&g, o, 16);
	ck_assert_int_eq(n, 4);
	/* GPADL with a PFN outside memory, zero handle, duplicate */
	uint64_t gpa = tg_alloc(&g, 4096 * 4);
	ck_assert_uint_eq(tg_gpadl(&g, o[0].relid, 0x500, gpa, 4 * 4096), 0);
	ck_assert_uint_ne(tg_gpadl(&g, o[0].relid, 0x500, gpa, 4096), 0);
	ck_assert_uint_ne(tg_gpadl(&g, o[0].relid, 0, gpa, 4096), 0);
	ck_assert_uint_ne(tg_gpadl(&g, o[0].relid, 0x501, 0x4000000000ull,
				   4096),
			  0);
	/* OPENCHANNEL with another channel's GPADL */
	uint8_t op[148] = { 0 };
	tg_p32(op, 5);
	tg_p32(op + 8, o[1].relid);
	tg_p32(op + 16, 0x500);
	tg_p32(op + 24, 2);
	ck_assert_uint_eq(tg_post(&g, op, 148), 0);
	ck_assert_int_eq(tg_wait(&g, 6, m, NULL, T), 0);
	ck_assert_uint_ne(tg_g32(m + 16), 0);
	/* a message the host sends, not the guest */
	tg_p32(m, 15);
	ck_assert_uint_eq(tg_post(&g, m, 16), 0);
	tg_close(&g);

	/* framing: bad magic disconnects, the host keeps serving */
	struct tg g2;
	ck_assert_int_eq(tg_connect(&g2, host.sock, "after", 1 << 20), 0);
	uint8_t junk[16] = { 'X', 'X', 'X', 'X' };
	ck_assert_int_eq(write(g2.fd, junk, 16), 16);
	char buf[8];
	struct pollfd pfd = { g2.fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&pfd, 1, T), 1);
	ck_assert_int_eq(read(g2.fd, buf, sizeof(buf)), 0); /* EOF */
	tg_close(&g2);
	char out[4096];
	ck_assert_int_eq(tg_ctl(host.sock, "status", out, sizeof(out)), 0);
}
END_TEST

START_TEST(old_host_refuses_connection_id_4)
{
	struct tg g;
	uint8_t resp[16];
	ck_assert_int_eq(tg_connect(&g, host.sock, "old", 16 << 20), 0);
	ck_assert_int_eq(tg_contact(&g, 0x00050003, 4, resp), -18);
	ck_assert_int_eq(tg_contact(&g, 0x00050000, 4, resp), -18);
	ck_assert_int_eq(tg_contact(&g, 0x00040001, 1, resp), 0);
	ck_assert_int_eq(tg_contact(&g, 0x00040000, 1, resp), 1);
	ck_assert_uint_eq(tg_g32(resp + 12), 0x00040000);
	struct tg_offer o[4];
	ck_assert_int_eq(tg_offers(&g, o, 4), 1);
	struct tg_chan c;
	ck_assert_uint_eq(tg_open(&g, &c, o[0].relid, 4, 4, 7), 0);
	stor_init(&c);
	tg_close(&g);
}
END_TEST

/* ---------------------------------------------------------------- faults */
START_TEST(faults_sense_rescind_reoffer)
{
	struct tg g;
	struct tg_chan c;
	uint8_t r[64];
	char out[4096];
	open_storage(&g, &c, "faults");
	uint64_t buf = tg_alloc(&g, 8192);
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
	ck_assert_int_eq(tg_ctl(host.sock, "sense storvsc0 2", out,
				sizeof(out)), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(srb(&c, r10, 10, 1, buf, 4096, r), 0x84);
		ck_assert_uint_eq(r[12 + 16 + 2] & 0xF, 3);
		ck_assert_uint_eq(r[12 + 16 + 12], 0x11);
	}
	ck_assert_uint_eq(srb(&c, r10, 10, 1, buf, 4096, r), 1);
	/* unit attention after a reset, once */
	ck_assert_int_eq(tg_ctl(host.sock, "reset storvsc0", out, sizeof(out)),
			 0);
	ck_assert_uint_eq(srb(&c, r10, 10, 1, buf, 4096, r), 0x84);
	ck_assert_uint_eq(r[12 + 16 + 2] & 0xF, 6);
	ck_assert_uint_eq(srb(&c, r10, 10, 1, buf, 4096, r), 1);

	/* a request in flight when the channel is rescinded: slow host */
	ck_assert_int_eq(tg_ctl(host.sock, "delay 60000", out, sizeof(out)),
			 0);
	uint8_t p[64] = { 0 };
	tg_p32(p, 3);
	tg_p32(p + 4, 1);
	tg_p16(p + 12, 52);
	p[12 + 8] = 10;
	p[12 + 9] = 20;
	p[12 + 10] = 1;
	tg_p32(p + 12 + 12, 4096);
	memcpy(p + 12 + 16, r10, 10);
	ck_assert_int_eq(tg_send_gpa(&c, 4242, buf, 4096, p, 64), 0);
	ck_assert_int_eq(tg_ctl(host.sock, "rescind storvsc0", out,
				sizeof(out)), 0);
	uint8_t m[240];
	ck_assert_int_eq(tg_wait(&g, 2, m, NULL, T), 0);
	ck_assert_uint_eq(tg_g32(m + 8), c.relid);
	/* the rescind is done (ctl answered after it): nothing was completed */
	ck_assert_uint_eq(tg_g32(c.rx_hdr), tg_g32(c.rx_hdr + 4));
	/* a slow host still answers */
	ck_assert_int_eq(tg_ctl(host.sock, "delay 20", out, sizeof(out)), 0);
	uint8_t rel[12] = { 0 };
	tg_p32(rel, 13);
	tg_p32(rel + 8, c.relid);
	ck_assert_uint_eq(tg_post(&g, rel, 12), 0);
	/* offered again (the released relid may be reused); usable */
	ck_assert_int_eq(tg_ctl(host.sock, "offer storvsc0", out, sizeof(out)),
			 0);
	ck_assert_int_eq(tg_wait(&g, 1, m, NULL, T), 0);
	struct tg_offer no;
	tg_parse_offer(m, &no);
	ck_assert_mem_eq(no.type, scsi_guid, 16);
	struct tg_chan c2;
	ck_assert_uint_eq(tg_open(&g, &c2, no.relid, 8, 8, 0xE1E20), 0);
	stor_init(&c2);
	ck_assert_uint_eq(srb(&c2, r10, 10, 1, buf, 4096, r), 1);
	ck_assert_int_eq(tg_ctl(host.sock, "delay 0", out, sizeof(out)), 0);
	/* a completion with a transaction id never used */
	ck_assert_int_eq(tg_ctl(host.sock, "corrupt storvsc0 transid", out,
				sizeof(out)), 0);
	uint8_t tur[6] = { 0 };
	memset(p, 0, sizeof(p));
	tg_p32(p, 3);
	tg_p32(p + 4, 1);
	tg_p16(p + 12, 52);
	p[12 + 8] = 6;
	p[12 + 10] = 2;
	memcpy(p + 12 + 16, tur, 6);
	ck_assert_int_eq(tg_send(&c2, 6, 1, 77, NULL, 0, p, 64), 0);
	uint8_t pkt[512];
	ck_assert_int_gt(tg_recv(&c2, pkt, sizeof(pkt), T), 0);
	ck_assert_uint_eq(tg_g16(pkt), 0x0B);
	ck_assert_uint_ne(tg_g64(pkt + 8), 77);
	tg_close(&g);
}
END_TEST

/* --------------------------------------------------------------- network */
struct rxmsg {
	uint32_t len;
	uint8_t msg[2048];
};

struct net {
	struct tg *g;
	struct tg_chan c[2];
	uint64_t rbuf;
	uint32_t rsize;
	uint64_t sbuf;
	uint32_t sect;
	uint64_t ctl;
	unsigned nrx;
	struct rxmsg rx[64];
	unsigned ncomp;
	uint64_t comp_tid[64];
	uint32_t comp_status[64];
	uint64_t xfers;
	uint32_t last_off;
};

/* One host packet on channel ch: completions recorded, transfer pages
 * read out of the receive buffer and acked.  0 on timeout. */
static int pump(struct net *n, int ch)
{
	uint8_t pkt[8192];
	int len = tg_recv(&n->c[ch], pkt, sizeof(pkt), T);
	ck_assert_int_ge(len, 0);
	if (!len)
		return 0;
	uint32_t off = tg_g16(pkt + 2) * 8u;
	uint16_t type = tg_g16(pkt);
	if (type == 0x0B) {
		ck_assert_uint_lt(n->ncomp, 64);
		n->comp_tid[n->ncomp] = tg_g64(pkt + 8);
		n->comp_status[n->ncomp++] = tg_g32(pkt + off + 4);
		return 1;
	}
	ck_assert_uint_eq(type, 7);
	ck_assert_uint_eq(tg_g16(pkt + 16), 0xCAFE);
	uint32_t cnt = tg_g32(pkt + 20);
	ck_assert_uint_ge(cnt, 1);
	ck_assert_uint_eq(tg_g32(pkt + off), 107);
	for (uint32_t i = 0; i < cnt; i++) {
		uint32_t bl = tg_g32(pkt + 24 + 8 * i);
		uint32_t bo = tg_g32(pkt + 24 + 8 * i + 4);
		ck_assert_uint_le((uint64_t)bo + bl, n->rsize);
		ck_assert_uint_le(bl, 2048);
		ck_assert_uint_lt(n->nrx, 64);
		n->last_off = bo;
		n->rx[n->nrx].len = bl;
		memcpy(n->rx[n->nrx++].msg,
		       (uint8_t *)tg_va(n->g, n->rbuf) + bo, bl);
	}
	n->xfers++;
	uint8_t ack[8];
	tg_p32(ack, 108);
	tg_p32(ack + 4, 1);
	ck_assert_int_eq(tg_send(&n->c[ch], 0x0B, 0, tg_g64(pkt + 8), NULL, 0,
				 ack, 8),
			 0);
	return 1;
}

static uint32_t wait_nvsp(struct net *n, int ch, uint64_t tid)
{
	for (;;) {
		for (unsigned i = 0; i < n->ncomp; i++)
			if (n->comp_tid[i] == tid) {
				uint32_t st = n->comp_status[i];
				n->comp_tid[i] = n->comp_tid[--n->ncomp];
				n->comp_status[i] = n->comp_status[n->ncomp];
				return st;
			}
		ck_assert_msg(pump(n, ch), "no completion for %llu",
			      (unsigned long long)tid);
	}
}

/* Next received RNDIS message of that type (waiting for it). */
static struct rxmsg take_rx(struct net *n, int ch, uint32_t type)
{
	for (;;) {
		for (unsigned i = 0; i < n->nrx; i++)
			if (tg_g32(n->rx[i].msg) == type) {
				struct rxmsg m = n->rx[i];
				memmove(&n->rx[i], &n->rx[i + 1],
					sizeof(n->rx[0]) * (n->nrx - i - 1));
				n->nrx--;
				return m;
			}
		ck_assert_msg(pump(n, ch), "no RNDIS message %#x", type);
	}
}

static uint32_t nvsp(struct net *n, const void *msg, uint32_t len,
		     uint8_t *reply)
{
	uint8_t p[40] = { 0 }, pkt[8192];
	memcpy(p, msg, len);
	uint64_t tid = tid_next++;
	ck_assert_int_eq(tg_send(&n->c[0], 6, 1, tid, NULL, 0, p, 40), 0);
	for (;;) {
		int l = tg_recv(&n->c[0], pkt, sizeof(pkt), T);
		ck_assert_int_gt(l, 0);
		if (tg_g16(pkt) == 0x0B && tg_g64(pkt + 8) == tid) {
			memcpy(reply, pkt + tg_g16(pkt + 2) * 8u, 40);
			return tg_g32(reply);
		}
	}
}

/* An RNDIS control request from a guest page, as DPDK sends them. */
static struct rxmsg rndis(struct net *n, const void *msg, uint32_t len,
			  uint32_t want)
{
	uint8_t p[40] = { 0 };
	memcpy(tg_va(n->g, n->ctl), msg, len);
	tg_p32(p, 107);
	tg_p32(p + 4, 1);
	tg_p32(p + 8, 0xFFFFFFFF);
	uint64_t tid = tid_next++;
	ck_assert_int_eq(tg_send_gpa(&n->c[0], tid, n->ctl, len, p, 40), 0);
	ck_assert_uint_eq(wait_nvsp(n, 0, tid), 1);
	return take_rx(n, 0, want);
}

static uint32_t query(struct net *n, uint32_t oid, void *out, uint32_t cap)
{
	uint8_t q[28] = { 0 };
	tg_p32(q, 4);
	tg_p32(q + 4, 28);
	tg_p32(q + 8, (uint32_t)tid_next);
	tg_p32(q + 12, oid);
	tg_p32(q + 20, 20);
	struct rxmsg m = rndis(n, q, 28, 0x80000004);
	ck_assert_uint_eq(tg_g32(m.msg + 8), (uint32_t)tid_next - 1);
	uint32_t st = tg_g32(m.msg + 12), il = tg_g32(m.msg + 16);
	if (st == 0) {
		uint32_t io = tg_g32(m.msg + 20);
		ck_assert_uint_le(8 + io + il, m.len);
		memcpy(out, m.msg + 8 + io, il < cap ? il : cap);
	}
	return st;
}

static uint32_t set(struct net *n, uint32_t oid, const void *v, uint32_t len)
{
	uint8_t q[128] = { 0 };
	tg_p32(q, 5);
	tg_p32(q + 4, 28 + len);
	tg_p32(q + 8, 99);
	tg_p32(q + 12, oid);
	tg_p32(q + 16, len);
	tg_p32(q + 20, 20);
	memcpy(q + 28, v, len);
	struct rxmsg m = rndis(n, q, 28 + len, 0x80000005);
	return tg_g32(m.msg + 12);
}

static void net_up(struct net *n, struct tg *g, uint32_t relid, uint32_t hbase)
{
	uint8_t m[40], r[40];
	memset(n, 0, sizeof(*n));
	n->g = g;
	ck_assert_uint_eq(tg_open(g, &n->c[0], relid, 16, 16, hbase), 0);
	/* NVSP 6.1 */
	memset(m, 0, sizeof(m));
	tg_p32(m, 1);
	tg_p32(m + 4, 0x60001);
	tg_p32(m + 8, 0x60001);
	ck_assert_uint_eq(nvsp(n, m, 12, r), 2);
	ck_assert_uint_eq(tg_g32(r + 12), 1);
	/* NDIS config and version: no replies */
	memset(m, 0, sizeof(m));
	tg_p32(m, 125);
	tg_p32(m + 4, 1514);
	tg_p64(m + 12, 0x8);
	ck_assert_int_eq(tg_send(&n->c[0], 6, 0, 0, NULL, 0, m, 40), 0);
	memset(m, 0, sizeof(m));
	tg_p32(m, 100);
	tg_p32(m + 4, 6);
	tg_p32(m + 8, 30);
	ck_assert_int_eq(tg_send(&n->c[0], 6, 0, 0, NULL, 0, m, 40), 0);
	/* receive buffer: 2 MiB, a GPADL of 512 pages */
	n->rsize = 2 << 20;
	n->rbuf = tg_alloc(g, n->rsize);
	ck_assert_uint_eq(tg_gpadl(g, relid, hbase + 1, n->rbuf, n->rsize), 0);
	memset(m, 0, sizeof(m));
	tg_p32(m, 101);
	tg_p32(m + 4, hbase + 1);
	tg_p16(m + 8, 0xCAFE);
	ck_assert_uint_eq(nvsp(n, m, 10, r), 102);
	ck_assert_uint_eq(tg_g32(r + 4), 1);
	ck_assert_uint_eq(tg_g32(r + 8), 1);
	uint32_t slot = tg_g32(r + 16), nslot = tg_g32(r + 20);
	ck_assert_uint_eq(tg_g32(r + 12), 0);
	ck_assert_uint_ge(slot, 1514 + 44);
	ck_assert_uint_eq(nslot, n->rsize / slot);
	/* send buffer: 1 MiB */
	n->sbuf = tg_alloc(g, 1 << 20);
	ck_assert_uint_eq(tg_gpadl(g, relid, hbase + 2, n->sbuf, 1 << 20), 0);
	memset(m, 0, sizeof(m));
	tg_p32(m, 104);
	tg_p32(m + 4, hbase + 2);
	ck_assert_uint_eq(nvsp(n, m, 10, r), 105);
	ck_assert_uint_eq(tg_g32(r + 4), 1);
	n->sect = tg_g32(r + 8);
	ck_assert_uint_ne(n->sect, 0);
	n->ctl = tg_alloc(g, 4096);
	/* RNDIS */
	uint8_t init[24] = { 0 };
	tg_p32(init, 2);
	tg_p32(init + 4, 24);
	tg_p32(init + 8, 1);
	tg_p32(init + 12, 1);
	tg_p32(init + 20, 0x4000);
	struct rxmsg im = rndis(n, init, 24, 0x80000002);
	ck_assert_uint_eq(im.len, 52);
	ck_assert_uint_eq(tg_g32(im.msg + 8), 1);
	ck_assert_uint_eq(tg_g32(im.msg + 12), 0);
}

static uint32_t pkt_msg(uint8_t *out, const uint8_t *frame, uint32_t len)
{
	memset(out, 0, 44);
	tg_p32(out, 1);
	tg_p32(out + 4, 44 + len);
	tg_p32(out + 8, 36);
	tg_p32(out + 12, len);
	memcpy(out + 44, frame, len);
	return 44 + len;
}

static uint32_t tx_section(struct net *n, int ch, uint32_t idx,
			   const void *msg, uint32_t len)
{
	uint8_t p[40] = { 0 };
	memcpy((uint8_t *)tg_va(n->g, n->sbuf) + idx * n->sect, msg, len);
	tg_p32(p, 107);
	tg_p32(p + 8, idx);
	tg_p32(p + 12, len);
	uint64_t tid = tid_next++;
	ck_assert_int_eq(tg_send(&n->c[ch], 6, 1, tid, NULL, 0, p, 40), 0);
	return wait_nvsp(n, ch, tid);
}

static void frame(uint8_t *f, uint32_t len, const uint8_t *dst, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, mac0, 6);
	f[12] = 0x88;
	f[13] = 0xB5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* The frame of the next received data message. */
static void expect_frame(struct net *n, int ch, const uint8_t *f, uint32_t len)
{
	struct rxmsg m = take_rx(n, ch, 1);
	ck_assert_uint_ge(m.len, 44);
	uint32_t doff = tg_g32(m.msg + 8), dlen = tg_g32(m.msg + 12);
	ck_assert_uint_eq(tg_g32(m.msg + 4), m.len);
	ck_assert_uint_le(8 + doff + dlen, m.len);
	ck_assert_uint_eq(dlen, len);
	ck_assert_mem_eq(m.msg + 8 + doff, f, len);
}

START_TEST(network_reflects_frames)
{
	struct tg g;
	struct net n;
	struct tg_offer o[16];
	int no;
	uint8_t v[64];
	guest(&g, "net", o, &no);
	const struct tg_offer *nic = find(o, no, nic_guid, 0);
	net_up(&n, &g, nic->relid, 0x1000);
	ck_assert_uint_eq(query(&n, 0x01010101, v, 6), 0);
	ck_assert_mem_eq(v, mac0, 6);
	ck_assert_uint_eq(query(&n, 0x00010106, v, 4), 0);
	ck_assert_uint_eq(tg_g32(v), 1500);
	ck_assert_uint_eq(query(&n, 0x00010114, v, 4), 0);
	ck_assert_uint_eq(tg_g32(v), 0);
	uint8_t hw[156] = { 0xA7, 3 };
	tg_p16(hw + 2, 156);
	uint8_t q[28 + 156] = { 0 };
	tg_p32(q, 4);
	tg_p32(q + 4, sizeof(q));
	tg_p32(q + 8, 4242);
	tg_p32(q + 12, 0xFC01020D);
	tg_p32(q + 16, 156);
	tg_p32(q + 20, 20);
	memcpy(q + 28, hw, 156);
	struct rxmsg hm = rndis(&n, q, sizeof(q), 0x80000004);
	ck_assert_uint_eq(tg_g32(hm.msg + 12), 0);
	ck_assert_uint_eq(tg_g32(hm.msg + 16), 156);
	ck_assert_uint_eq(hm.msg[24], 0xA7);
	ck_assert_uint_eq(hm.msg[25], 3);
	/* RSS: two channels configured, NDIS 6.30 */
	ck_assert_uint_eq(query(&n, 0x00010203, v, 20), 0);
	ck_assert_uint_eq(v[0], 0x88);
	ck_assert_uint_eq(tg_g32(v + 12), 2);
	uint32_t filter = 0x1 | 0x8;
	ck_assert_uint_eq(set(&n, 0x0001010E, &filter, 4), 0);

	uint8_t f[1514], msg[2048];
	frame(f, 100, mac0, 1);
	ck_assert_uint_eq(tx_section(&n, 0, 3, msg, pkt_msg(msg, f, 100)), 1);
	expect_frame(&n, 0, f, 100);
	/* a full-size frame from GPA ranges straddling a page boundary */
	frame(f, 1514, mac0, 2);
	uint64_t gb = tg_alloc(&g, 8192);
	uint32_t ml = pkt_msg(msg, f, 1514);
	memcpy((uint8_t *)tg_va(&g, gb) + 3000, msg, ml);
	uint8_t p[40] = { 0 };
	tg_p32(p, 107);
	tg_p32(p + 8, 0xFFFFFFFF);
	uint64_t tid = tid_next++;
	ck_assert_int_eq(tg_send_gpa(&n.c[0], tid, gb + 3000, ml, p, 40), 0);
	ck_assert_uint_eq(wait_nvsp(&n, 0, tid), 1);
	expect_frame(&n, 0, f, 1514);
	/* two frames aggregated in one section, one broadcast */
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f2[200];
	frame(f, 64, mac0, 3);
	frame(f2, 200, bc, 4);
	uint32_t l1 = pkt_msg(msg, f, 64);
	l1 = (l1 + 7) & ~7u;
	tg_p32(msg + 4, l1);
	uint32_t l2 = pkt_msg(msg + l1, f2, 200);
	ck_assert_uint_eq(tx_section(&n, 0, 0, msg, l1 + l2), 1);
	expect_frame(&n, 0, f, 64);
	expect_frame(&n, 0, f2, 200);
	/* an 802.1Q per-packet info comes back with the frame */
	frame(f, 90, mac0, 6);
	memset(msg, 0, 44 + 16);
	tg_p32(msg, 1);
	tg_p32(msg + 4, 44 + 16 + 90);
	tg_p32(msg + 8, 36 + 16);
	tg_p32(msg + 12, 90);
	tg_p32(msg + 28, 36);
	tg_p32(msg + 32, 16);
	tg_p32(msg + 44, 16);
	tg_p32(msg + 48, 6);
	tg_p32(msg + 52, 12);
	tg_p32(msg + 56, 5u << 4 | 3u);
	memcpy(msg + 60, f, 90);
	ck_assert_uint_eq(tx_section(&n, 0, 4, msg, 150), 1);
	struct rxmsg vm = take_rx(&n, 0, 1);
	uint32_t ppo = tg_g32(vm.msg + 28), ppl = tg_g32(vm.msg + 32);
	ck_assert_uint_eq(ppl, 16);
	ck_assert_uint_eq(tg_g32(vm.msg + 8 + ppo + 4), 6);
	ck_assert_uint_eq(tg_g32(vm.msg + 8 + ppo + 12), 5u << 4 | 3u);
	ck_assert_mem_eq(vm.msg + 8 + tg_g32(vm.msg + 8), f, 90);
	/* filtered: someone else's unicast */
	static const uint8_t other[6] = { 0x00, 0x15, 0x5d, 0x99, 0x99, 0x99 };
	frame(f, 80, other, 5);
	ck_assert_uint_eq(tx_section(&n, 0, 1, msg, pkt_msg(msg, f, 80)), 1);
	char out[4096];
	ck_assert_int_eq(tg_ctl(host.sock, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "tx=6 rx=5"));
	tg_close(&g);
}
END_TEST

START_TEST(network_refuses_bad_rndis)
{
	struct tg g;
	struct net n;
	struct tg_offer o[16];
	int no;
	guest(&g, "net-strict", o, &no);
	net_up(&n, &g, find(o, no, nic_guid, 0)->relid, 0x2000);
	uint8_t f[100], msg[256];
	frame(f, 100, mac0, 1);
	/* data beyond the message */
	uint32_t l = pkt_msg(msg, f, 100);
	tg_p32(msg + 12, 400);
	ck_assert_uint_eq(tx_section(&n, 0, 0, msg, l), 5);
	/* message length beyond the section data */
	l = pkt_msg(msg, f, 100);
	tg_p32(msg + 4, 4000);
	ck_assert_uint_eq(tx_section(&n, 0, 0, msg, l), 5);
	/* section index out of range */
	uint8_t p[40] = { 0 };
	tg_p32(p, 107);
	tg_p32(p + 8, 100000);
	tg_p32(p + 12, 64);
	ck_assert_int_eq(tg_send(&n.c[0], 6, 1, 555, NULL, 0, p, 40), 0);
	ck_assert_uint_eq(wait_nvsp(&n, 0, 555), 5);
	/* a frame above the MTU */
	uint8_t big[1600];
	frame(big, 1600, mac0, 9);
	uint8_t *bm = malloc(2048);
	ck_assert_uint_eq(tx_section(&n, 0, 0, bm, pkt_msg(bm, big, 1600)), 5);
	free(bm);
	/* checksum offload asked for, never enabled */
	l = pkt_msg(msg, f, 100);
	uint8_t pm[256];
	memcpy(pm, msg, 44);
	tg_p32(pm + 4, 44 + 16 + 100);
	tg_p32(pm + 8, 36 + 16);
	tg_p32(pm + 28, 36);
	tg_p32(pm + 32, 16);
	tg_p32(pm + 44, 16);
	tg_p32(pm + 48, 0);
	tg_p32(pm + 52, 12);
	tg_p32(pm + 56, 0x5);
	memcpy(pm + 60, f, 100);
	ck_assert_uint_eq(tx_section(&n, 0, 0, pm, 160), 5);
	/* QUERY with its information buffer outside the message */
	uint8_t q[28] = { 0 };
	tg_p32(q, 4);
	tg_p32(q + 4, 28);
	tg_p32(q + 8, 31);
	tg_p32(q + 12, 0x01010101);
	tg_p32(q + 16, 64);
	tg_p32(q + 20, 20);
	struct rxmsg m = rndis(&n, q, 28, 0x80000004);
	ck_assert_uint_eq(tg_g32(m.msg + 12), 0xC0010015);
	/* unknown OID */
	uint8_t v[8];
	ck_assert_uint_eq(query(&n, 0x00FFFF01, v, 8), 0xC00000BB);
	/* offloads the host did not offer (LSOv1, RSC), a value out of
	 * range, and ones it did */
	uint8_t op[28] = { 0x80, 3 };
	tg_p16(op + 2, 28);
	op[9] = 2; /* LSOv1 on */
	ck_assert_uint_eq(set(&n, 0xFC01020C, op, 28), 0xC00000BB);
	op[9] = 0;
	op[22] = 2; /* RSC for IPv4 on */
	ck_assert_uint_eq(set(&n, 0xFC01020C, op, 28), 0xC00000BB);
	op[22] = 0;
	op[5] = 5; /* tcp4 csum: no such value */
	ck_assert_uint_eq(set(&n, 0xFC01020C, op, 28), 0xC0010015);
	op[5] = 4; /* tcp4 csum tx+rx */
	ck_assert_uint_eq(set(&n, 0xFC01020C, op, 28), 0);
	op[5] = 1;
	ck_assert_uint_eq(set(&n, 0xFC01020C, op, 28), 0);
	/* still moving frames */
	uint32_t filter = 0x1;
	ck_assert_uint_eq(set(&n, 0x0001010E, &filter, 4), 0);
	ck_assert_uint_eq(tx_section(&n, 0, 0, msg, pkt_msg(msg, f, 100)), 1);
	expect_frame(&n, 0, f, 100);
	tg_close(&g);
}
END_TEST

START_TEST(network_link_and_corruption)
{
	struct tg g;
	struct net n;
	struct tg_offer o[16];
	int no;
	char out[4096];
	uint8_t v[8];
	guest(&g, "net-faults", o, &no);
	net_up(&n, &g, find(o, no, nic_guid, 0)->relid, 0x3000);
	ck_assert_int_eq(tg_ctl(host.sock, "link netvsc0 down", out,
				sizeof(out)), 0);
	struct rxmsg m = take_rx(&n, 0, 7);
	ck_assert_uint_eq(tg_g32(m.msg + 8), 0x4001000C);
	ck_assert_uint_eq(query(&n, 0x00010114, v, 4), 0);
	ck_assert_uint_eq(tg_g32(v), 1);
	ck_assert_int_eq(tg_ctl(host.sock, "link netvsc0 up", out, sizeof(out)),
			 0);
	m = take_rx(&n, 0, 7);
	ck_assert_uint_eq(tg_g32(m.msg + 8), 0x4001000B);
	/* a transfer-page range outside the receive buffer */
	ck_assert_int_eq(tg_ctl(host.sock, "corrupt netvsc0 xfer-range", out,
				sizeof(out)), 0);
	uint8_t q[28] = { 0 };
	tg_p32(q, 4);
	tg_p32(q + 4, 28);
	tg_p32(q + 8, 5);
	tg_p32(q + 12, 0x00010114);
	tg_p32(q + 20, 20);
	memcpy(tg_va(&g, n.ctl), q, 28);
	uint8_t p[40] = { 0 };
	tg_p32(p, 107);
	tg_p32(p + 4, 1);
	tg_p32(p + 8, 0xFFFFFFFF);
	ck_assert_int_eq(tg_send_gpa(&n.c[0], 808, n.ctl, 28, p, 40), 0);
	uint8_t pkt[4096];
	bool seen = false;
	for (int i = 0; i < 4 && !seen; i++) {
		int l = tg_recv(&n.c[0], pkt, sizeof(pkt), T);
		ck_assert_int_gt(l, 0);
		if (tg_g16(pkt) == 7) {
			ck_assert_uint_gt((uint64_t)tg_g32(pkt + 28) +
						  tg_g32(pkt + 24),
					  n.rsize);
			seen = true;
		}
	}
	ck_assert(seen);
	tg_close(&g);
}
END_TEST

/* A corrupted host packet: the guest (here) must notice. */
static void corrupt_and_query(const char *kind, uint32_t hbase,
			      struct tg *g, struct net *n)
{
	char cmd[64], out[256];
	struct tg_offer o[16];
	int no;
	guest(g, kind, o, &no);
	net_up(n, g, find(o, no, nic_guid, 0)->relid, hbase);
	snprintf(cmd, sizeof(cmd), "corrupt netvsc0 %s", kind);
	ck_assert_int_eq(tg_ctl(host.sock, cmd, out, sizeof(out)), 0);
	uint8_t q[28] = { 0 };
	tg_p32(q, 4);
	tg_p32(q + 4, 28);
	tg_p32(q + 8, 5);
	tg_p32(q + 12, 0x00010114);
	tg_p32(q + 20, 20);
	memcpy(tg_va(g, n->ctl), q, 28);
	uint8_t p[40] = { 0 };
	tg_p32(p, 107);
	tg_p32(p + 4, 1);
	tg_p32(p + 8, 0xFFFFFFFF);
	ck_assert_int_eq(tg_send_gpa(&n->c[0], 909, n->ctl, 28, p, 40), 0);
}

START_TEST(network_corrupt_descriptors)
{
	struct tg g;
	struct net n;
	uint8_t pkt[4096];
	/* offset8 beyond len8 on the next packet (the RNDIS ack) */
	corrupt_and_query("offset8", 0x7000, &g, &n);
	ck_assert_int_eq(tg_recv(&n.c[0], pkt, sizeof(pkt), T), -EPROTO);
	tg_close(&g);
	/* len8 past what was written */
	corrupt_and_query("len8", 0x7100, &g, &n);
	ck_assert_int_eq(tg_recv(&n.c[0], pkt, sizeof(pkt), T), -EPROTO);
	tg_close(&g);
}
END_TEST

START_TEST(network_corrupt_rndis_length)
{
	struct tg g;
	struct net n;
	corrupt_and_query("rndis-len", 0x7200, &g, &n);
	ck_assert_uint_eq(wait_nvsp(&n, 0, 909), 1);
	struct rxmsg m = take_rx(&n, 0, 0x80000004);
	ck_assert_uint_gt(tg_g32(m.msg + 4), m.len);
	tg_close(&g);
}
END_TEST

START_TEST(network_bridge_between_partitions)
{
	struct tg ga, gb;
	struct net na, nb;
	struct tg_offer oa[16], ob[16];
	int na_n, nb_n;
	guest(&ga, "left", oa, &na_n);
	guest(&gb, "right", ob, &nb_n);
	const struct tg_offer *n1 = find(oa, na_n, nic_guid, 1);
	const struct tg_offer *n2 = find(ob, nb_n, nic_guid, 2);
	ck_assert_ptr_nonnull(n1);
	ck_assert_ptr_nonnull(n2);
	net_up(&na, &ga, n1->relid, 0x4000);
	net_up(&nb, &gb, n2->relid, 0x5000);
	/* the other partition cannot open a NIC that is in use */
	struct tg_chan busy;
	const struct tg_offer *n1b = find(ob, nb_n, nic_guid, 1);
	ck_assert_uint_ne(tg_open(&gb, &busy, n1b->relid, 4, 4, 0x5100), 0);
	uint32_t promisc = 0x20;
	ck_assert_uint_eq(set(&nb, 0x0001010E, &promisc, 4), 0);
	/* one channel: no RSS */
	uint8_t rc[20];
	ck_assert_uint_eq(query(&nb, 0x00010203, rc, 20), 0xC00000BB);
	uint8_t f[300], msg[512];
	static const uint8_t bmac[6] = { 0x00, 0x15, 0x5d, 0x00, 0x00, 0x03 };
	frame(f, 300, bmac, 7);
	ck_assert_uint_eq(tx_section(&na, 0, 2, msg, pkt_msg(msg, f, 300)), 1);
	expect_frame(&nb, 0, f, 300);
	/* netvsc2 has rx-reserve=1M: the host never wrote below */
	ck_assert_uint_ge(nb.last_off, 1u << 20);
	tg_close(&ga);
	/* the left partition is gone: frames from the right are dropped */
	ck_assert_uint_eq(tx_section(&nb, 0, 2, msg, pkt_msg(msg, f, 300)), 1);
	tg_close(&gb);
}
END_TEST

START_TEST(network_nvsp_versions)
{
	struct tg g;
	struct net n;
	struct tg_offer o[16];
	int no;
	uint8_t m[40] = { 0 }, r[40];
	guest(&g, "nvsp", o, &no);
	memset(&n, 0, sizeof(n));
	n.g = &g;
	ck_assert_uint_eq(tg_open(&g, &n.c[0], find(o, no, nic_guid, 0)->relid,
				  8, 8, 0x8000),
			  0);
	/* a version from the future, then Linux's fallback order */
	tg_p32(m, 1);
	tg_p32(m + 4, 0x70000);
	tg_p32(m + 8, 0x70000);
	ck_assert_uint_eq(nvsp(&n, m, 12, r), 2);
	ck_assert_uint_eq(tg_g32(r + 12), 2);
	tg_p32(m + 4, 0x40000);
	tg_p32(m + 8, 0x40000);
	ck_assert_uint_eq(nvsp(&n, m, 12, r), 2);
	ck_assert_uint_eq(tg_g32(r + 12), 1);
	/* sub-channels need NVSP 5 */
	memset(m, 0, sizeof(m));
	tg_p32(m, 133);
	tg_p32(m + 4, 1);
	tg_p32(m + 8, 1);
	ck_assert_uint_eq(nvsp(&n, m, 12, r), 133);
	ck_assert_uint_eq(tg_g32(r + 4), 2);
	/* one receive buffer; a second is refused */
	uint64_t rb = tg_alloc(&g, 64 * 4096);
	ck_assert_uint_eq(tg_gpadl(&g, n.c[0].relid, 0x8001, rb, 64 * 4096), 0);
	memset(m, 0, sizeof(m));
	tg_p32(m, 101);
	tg_p32(m + 4, 0x8001);
	tg_p16(m + 8, 0xCAFE);
	ck_assert_uint_eq(nvsp(&n, m, 10, r), 102);
	ck_assert_uint_eq(tg_g32(r + 4), 1);
	ck_assert_uint_eq(nvsp(&n, m, 10, r), 102);
	ck_assert_uint_eq(tg_g32(r + 4), 2);
	tg_close(&g);
}
END_TEST

START_TEST(network_subchannel_reflects)
{
	struct tg g;
	struct net n;
	struct tg_offer o[16];
	int no;
	guest(&g, "net-sub", o, &no);
	const struct tg_offer *nic = find(o, no, nic_guid, 0);
	net_up(&n, &g, nic->relid, 0x6000);
	uint8_t m[40] = { 0 }, r[40];
	tg_p32(m, 133);
	tg_p32(m + 4, 1);
	tg_p32(m + 8, 4); /* asks for 4, the NIC has 2 channels */
	ck_assert_uint_eq(nvsp(&n, m, 12, r), 133);
	ck_assert_uint_eq(tg_g32(r + 4), 1);
	ck_assert_uint_eq(tg_g32(r + 8), 1);
	uint8_t om[240];
	ck_assert_int_eq(tg_wait(&g, 1, om, NULL, T), 0);
	struct tg_offer so;
	tg_parse_offer(om, &so);
	ck_assert_uint_eq(so.sub, 1);
	ck_assert_mem_eq(so.inst, nic->inst, 16);
	ck_assert_uint_eq(tg_open(&g, &n.c[1], so.relid, 8, 8, 0x6100), 0);
	uint32_t filter = 0x1;
	ck_assert_uint_eq(set(&n, 0x0001010E, &filter, 4), 0);
	uint8_t f[128], msg[256];
	frame(f, 128, mac0, 3);
	ck_assert_uint_eq(tx_section(&n, 1, 5, msg, pkt_msg(msg, f, 128)), 1);
	expect_frame(&n, 1, f, 128);
	/* closing the primary rescinds the sub-channel */
	tg_close_chan(&n.c[1]);
	tg_close_chan(&n.c[0]);
	uint8_t rm[240];
	ck_assert_int_eq(tg_wait(&g, 2, rm, NULL, T), 0);
	ck_assert_uint_eq(tg_g32(rm + 8), so.relid);
	tg_close(&g);
}
END_TEST

/* ------------------------------------------------------------- lifecycle */
static int sh(const char *cmd, const char *out)
{
	char line[1024];
	snprintf(line, sizeof(line), "%s > %s 2>&1", cmd, out);
	int st = system(line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char buf[8192];
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

START_TEST(command_line_and_ctl_cli)
{
	const char *pvio = getenv("PVIO");
	char cmd[512], out[128];
	ck_assert_ptr_nonnull(pvio);
	make_img();
	snprintf(out, sizeof(out), "%s.out", img);
	snprintf(cmd, sizeof(cmd), "%s sim hyperv --help", pvio);
	ck_assert_int_eq(sh(cmd, out), 0);
	ck_assert(file_has(out, "--scsi FILE"));
	ck_assert(file_has(out, "rescind DEV"));
	snprintf(cmd, sizeof(cmd),
		 "%s sim hyperv --socket %s.sock --scsi /nonexistent/disk",
		 pvio, img);
	ck_assert_int_eq(sh(cmd, out), 1);
	ck_assert(file_has(out, "cannot open disk image /nonexistent/disk"));
	snprintf(cmd, sizeof(cmd), "%s sim hyperv --socket %s.sock --nic mtu=5",
		 pvio, img);
	ck_assert_int_eq(sh(cmd, out), 2);
	ck_assert(file_has(out, "mtu must be"));

	const char *args[] = { "--scsi", img, "--nic", NULL };
	start(args);
	ck_assert_ptr_nonnull(strstr(host.ready, "storvsc0="));
	ck_assert_ptr_nonnull(strstr(host.ready, "netvsc0=00:15:5d:00:00:01"));
	snprintf(cmd, sizeof(cmd), "%s sim ctl %s help", pvio, host.sock);
	ck_assert_int_eq(sh(cmd, out), 0);
	ck_assert(file_has(out, "corrupt DEV KIND"));
	snprintf(cmd, sizeof(cmd), "%s sim ctl %s link netvsc7 down", pvio,
		 host.sock);
	ck_assert_int_eq(sh(cmd, out), 1);
	ck_assert(file_has(out, "no device 'netvsc7'"));
	snprintf(cmd, sizeof(cmd), "%s sim ctl %s status", pvio, host.sock);
	ck_assert_int_eq(sh(cmd, out), 0);
	ck_assert(file_has(out, "dev netvsc0"));
	unlink(out);
	int st = tg_host_stop(&host);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tg_host_cleanup(&host);
	unlink(img);
}
END_TEST

START_TEST(sigterm_with_guests_attached)
{
	struct tg g;
	struct tg_chan c;
	uint8_t r[64];
	make_img();
	const char *args[] = { "--scsi", img, "--nic", "--nic", NULL };
	start(args);
	open_storage(&g, &c, "busy");
	uint64_t buf = tg_alloc(&g, 4096);
	uint8_t w10[10] = { 0x2A, 0, 0, 0, 0, 1, 0, 0, 8, 0 };
	ck_assert_uint_eq(srb(&c, w10, 10, 0, buf, 4096, r), 1);
	struct tg g2;
	struct tg_offer o[8];
	int n;
	guest(&g2, "idle", o, &n);
	int st = tg_host_stop(&host);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "host exit status %#x", st);
	ck_assert_msg(!tg_host_log_has(&host, "Sanitizer"), "see %s",
		      host.log);
	ck_assert(!tg_host_log_has(&host, "runtime error"));
	tg_host_cleanup(&host);
	tg_close(&g);
	tg_close(&g2);
	unlink(img);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("simvmbus");
	TCase *tc = tcase_create("main");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup_main, teardown);
	tcase_add_test(tc, offers_describe_the_devices);
	tcase_add_test(tc, storage_reads_and_writes_the_image);
	tcase_add_test(tc, storage_refuses_bad_requests);
	tcase_add_test(tc, storage_subchannel);
	tcase_add_test(tc, ring_corruption_stops_only_that_channel);
	tcase_add_test(tc, vmbus_refuses_malformed_messages);
	tcase_add_test(tc, faults_sense_rescind_reoffer);
	tcase_add_test(tc, network_reflects_frames);
	tcase_add_test(tc, network_refuses_bad_rndis);
	tcase_add_test(tc, network_link_and_corruption);
	tcase_add_test(tc, network_corrupt_descriptors);
	tcase_add_test(tc, network_corrupt_rndis_length);
	tcase_add_test(tc, network_bridge_between_partitions);
	tcase_add_test(tc, network_subchannel_reflects);
	tcase_add_test(tc, network_nvsp_versions);
	tcase_add_test(tc, host_exits_clean);
	suite_add_tcase(s, tc);
	TCase *to = tcase_create("old-host");
	tcase_set_timeout(to, 60);
	tcase_add_unchecked_fixture(to, setup_old, teardown);
	tcase_add_test(to, old_host_refuses_connection_id_4);
	tcase_add_test(to, host_exits_clean);
	suite_add_tcase(s, to);
	TCase *tm = tcase_create("monitor");
	tcase_set_timeout(tm, 60);
	tcase_add_unchecked_fixture(tm, setup_monitor, teardown);
	tcase_add_test(tm, monitor_page_signals);
	tcase_add_test(tm, host_exits_clean);
	suite_add_tcase(s, tm);
	TCase *tl = tcase_create("lifecycle");
	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, command_line_and_ctl_cli);
	tcase_add_test(tl, sigterm_with_guests_attached);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
