/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/hostif_sim.c over a real unix socket: a host thread in
 * this test speaks docs/sim-hostif.md (HELLO, SET_MEMORY with the DMA
 * pool's memfd, POST_MESSAGE answered with SYNIC_MESSAGEs that arrive
 * *before* the reply, CHANNEL_EVENTS with two eventfds) and a minimal
 * VMBus channel manager, so the guest's framing, descriptor passing,
 * queueing, signalling, rescind and connection loss are tested without
 * the simulated host.  Every wait is bounded.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/vmbus/hostif.h"

#define MAGIC 0x4F495650u

struct host {
	int lsock, sock;
	char path[108];
	pthread_t th;
	/* behaviour */
	bool rescind_on_signal, close_on_signal, garbage_on_signal;
	/* what it saw */
	char err[160];
	uint32_t hello_version, hello_role;
	char hello_name[33];
	uint64_t mem_gpa, mem_size;
	uint8_t *mem;
	unsigned posts, signals, closes, releases, teardowns, unloads;
	unsigned gpadl_pages;
	unsigned max_conns, conns;
	int sig_fd, irq_fd;   /* host ends */
};

static void host_fail(struct host *h, const char *m)
{
	if (!h->err[0])
		snprintf(h->err, sizeof(h->err), "%s", m);
}

static int rd_full(int fd, void *b, size_t n, int *fdout)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		char cb[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { (char *)b + got, n - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cb, .msg_controllen = sizeof(cb) };
		ssize_t r = recvmsg(fd, &mh, 0);
		if (r <= 0)
			return -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_type == SCM_RIGHTS && fdout)
			memcpy(fdout, CMSG_DATA(c), sizeof(int));
		got += (size_t)r;
	}
	return 0;
}

static void send_msg(struct host *h, uint16_t type, uint16_t flags, uint32_t seq,
		     const void *p, uint32_t len, const int *fds, int nfds)
{
	uint8_t b[16 + 512];
	uint32_t m = MAGIC;
	memcpy(b, &m, 4);
	memcpy(b + 4, &type, 2);
	memcpy(b + 6, &flags, 2);
	memcpy(b + 8, &seq, 4);
	memcpy(b + 12, &len, 4);
	memcpy(b + 16, p, len);
	struct iovec iov = { b, 16 + len };
	char cb[CMSG_SPACE(2 * sizeof(int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		memset(cb, 0, sizeof(cb));
		mh.msg_control = cb;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(h->sock, &mh, MSG_NOSIGNAL) != (ssize_t)(16 + len))
		host_fail(h, "sendmsg");
}

static void synic(struct host *h, const void *msg, uint32_t len)
{
	uint8_t p[256] = { 0 };
	uint32_t sint = 2, mt = 1;
	memcpy(p, &sint, 4);
	memcpy(p + 4, &mt, 4);
	memcpy(p + 8, &len, 4);
	memcpy(p + 16, msg, len);
	send_msg(h, 33, 2, 0, p, 256, NULL, 0);
}

static void synic_w(struct host *h, uint32_t type, const uint32_t *w, unsigned n)
{
	uint32_t m[8] = { type, 0 };
	for (unsigned i = 0; i < n; i++)
		m[2 + i] = w[i];
	synic(h, m, 8 + 4 * n);
}

static void reply(struct host *h, uint16_t type, uint32_t seq, int32_t st,
		  const void *extra, uint32_t elen, const int *fds, int nfds)
{
	uint8_t p[64];
	memcpy(p, &st, 4);
	if (elen)
		memcpy(p + 4, extra, elen);
	send_msg(h, type, 1, seq, p, 4 + elen, fds, nfds);
}

static uint32_t g32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* one VMBus channel-management message: answers go out as SYNIC first */
static uint32_t vmbus_msg(struct host *h, uint32_t conn, const uint8_t *m,
			  uint32_t len)
{
	static uint32_t gneed, ghave, grelid, ghandle;
	uint32_t type = g32(m);
	h->posts++;
	switch (type) {
	case 14: {
		if (conn != 4 || len != 40)
			host_fail(h, "INITIATE_CONTACT id/size");
		uint8_t r[16] = { 15, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
		uint32_t cid = 0x77;
		memcpy(r + 12, &cid, 4);
		synic(h, r, 16);
		return 0;
	}
	case 3: {
		uint8_t o[196] = { 1 };
		static const uint8_t scsi[16] = { 0xd9, 0x63, 0x61, 0xba, 0xa1,
						  0x04, 0x29, 0x4d, 0xb6, 0x05,
						  0x72, 0xe2, 0xff, 0xb1, 0xdc,
						  0x7f };
		memcpy(o + 8, scsi, 16);
		uint32_t relid = 5;
		memcpy(o + 184, &relid, 4);
		synic(h, o, 196);
		synic_w(h, 4, NULL, 0);
		return 0;
	}
	case 8: {
		grelid = g32(m + 8);
		ghandle = g32(m + 12);
		gneed = (uint32_t)(m[16] | m[17] << 8) / 8 - 1;
		ghave = (len - 28) / 8;
		break;
	}
	case 9:
		if (g32(m + 12) != ghandle)
			host_fail(h, "GPADL_BODY handle");
		ghave += (len - 16) / 8;
		break;
	case 5: {
		uint32_t w[3] = { g32(m + 8), g32(m + 12), 0 };
		synic_w(h, 6, w, 3);
		return 0;
	}
	case 7:
		h->closes++;
		return 0;
	case 11: {
		h->teardowns++;
		uint32_t w[1] = { g32(m + 12) };
		synic_w(h, 12, w, 1);
		return 0;
	}
	case 13:
		h->releases++;
		return 0;
	case 16:
		h->unloads++;
		synic_w(h, 17, NULL, 0);
		return 0;
	default:
		host_fail(h, "unexpected VMBus message");
		return 5;
	}
	if (conn != 0x77)
		host_fail(h, "message not on msg_conn_id");
	if (ghave == gneed) {
		h->gpadl_pages += gneed;
		uint32_t w[3] = { grelid, ghandle, 0 };
		synic_w(h, 10, w, 3);
	}
	return 0;
}

static void serve(struct host *h);

static void *host_main(void *arg)
{
	struct host *h = arg;
	/* max_conns is read each time: a test may raise it before it
	 * connects a second time */
	for (unsigned i = 0;
	     i < (__atomic_load_n(&h->max_conns, __ATOMIC_ACQUIRE) ?: 1u); i++) {
		struct pollfd pa = { h->lsock, POLLIN, 0 };
		if (poll(&pa, 1, 10000) <= 0) {
			host_fail(h, "no connection");
			return NULL;
		}
		h->sock = accept(h->lsock, NULL, NULL);
		h->conns++;
		serve(h);
	}
	return NULL;
}

static void serve(struct host *h)
{
	for (;;) {
		struct pollfd p[2] = { { h->sock, POLLIN, 0 }, { h->sig_fd, POLLIN, 0 } };
		int n = poll(p, h->sig_fd >= 0 ? 2 : 1, 10000);
		if (n <= 0) {
			host_fail(h, "guest went quiet");
			break;
		}
		if (h->sig_fd >= 0 && p[1].revents) {
			uint64_t v;
			if (read(h->sig_fd, &v, 8) != 8)
				host_fail(h, "signal read");
			h->signals += (unsigned)v;
			if (h->close_on_signal)
				break;
			if (h->garbage_on_signal) {
				uint8_t junk[16] = "not a hostif!!!";
				if (write(h->sock, junk, 16) != 16)
					host_fail(h, "write");
				h->garbage_on_signal = false;
			}
			if (h->rescind_on_signal) {
				uint32_t relid = 5;
				synic_w(h, 2, &relid, 1);
				h->rescind_on_signal = false;
			}
			uint64_t one = 1;
			if (write(h->irq_fd, &one, 8) != 8)
				host_fail(h, "irq write");
			continue;
		}
		uint8_t hd[16], pl[4096];
		int fd = -1;
		if (rd_full(h->sock, hd, 16, &fd) < 0)
			break; /* guest closed */
		uint16_t type;
		uint32_t seq, len;
		memcpy(&type, hd + 4, 2);
		memcpy(&seq, hd + 8, 4);
		memcpy(&len, hd + 12, 4);
		if (g32(hd) != MAGIC || len > 4096 || rd_full(h->sock, pl, len, &fd) < 0) {
			host_fail(h, "bad frame from the guest");
			break;
		}
		if (type == 1) {
			h->hello_version = g32(pl);
			h->hello_role = g32(pl + 4);
			memcpy(h->hello_name, pl + 8, 32);
			uint32_t dom = 1;
			reply(h, 1, seq, 0, &dom, 4, NULL, 0);
		} else if (type == 2) {
			memcpy(&h->mem_gpa, pl, 8);
			memcpy(&h->mem_size, pl + 8, 8);
			if (fd < 0) {
				host_fail(h, "SET_MEMORY without fd");
			} else {
				h->mem = mmap(NULL, h->mem_size, PROT_READ | PROT_WRITE,
					      MAP_SHARED, fd, 0);
				close(fd);
			}
			reply(h, 2, seq, 0, NULL, 0, NULL, 0);
		} else if (type == 32) {
			uint32_t conn = g32(pl), mt = g32(pl + 4), ps = g32(pl + 8);
			if (mt != 1 || ps > 240 || len != 256)
				host_fail(h, "POST_MESSAGE framing");
			uint32_t hv = vmbus_msg(h, conn, pl + 16, ps);
			reply(h, 32, seq, 0, &hv, 4, NULL, 0);
		} else if (type == 34) {
			int sig = eventfd(0, EFD_NONBLOCK), irq = eventfd(0, EFD_NONBLOCK);
			int fds[2] = { sig, irq };
			reply(h, 34, seq, 0, NULL, 0, fds, 2);
			h->sig_fd = sig;
			h->irq_fd = irq;
		} else {
			host_fail(h, "unknown request");
		}
	}
	close(h->sock);
	if (h->sig_fd >= 0)
		close(h->sig_fd);
	if (h->irq_fd >= 0)
		close(h->irq_fd);
	h->sig_fd = h->irq_fd = -1;
	if (h->mem)
		munmap(h->mem, h->mem_size);
	h->mem = NULL;
}

static pvio_ctx *ctx;
static struct host H;
static char dir[64];

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 8 << 20, .timeout_ms = 1000,
				   .log_level = PVIO_LOG_ERROR };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	memset(&H, 0, sizeof(H));
	H.sig_fd = H.irq_fd = -1;
	snprintf(dir, sizeof(dir), "/tmp/pvio-vmbus-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(H.path, sizeof(H.path), "%s/hv.sock", dir);
	H.lsock = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, H.path);
	ck_assert_int_eq(bind(H.lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(H.lsock, 1), 0);
	ck_assert_int_eq(pthread_create(&H.th, NULL, host_main, &H), 0);
}

static void teardown(void)
{
	pthread_join(H.th, NULL);
	close(H.lsock);
	unlink(H.path);
	rmdir(dir);
	pvio_ctx_free(ctx);
}

static int wait_fd(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, 10000);
}

static struct vmbus_hostif *connect_open(struct vmbus_chan *ch)
{
	struct vmbus_hostif *h;
	int r = vmbus_hostif_sim_open(ctx, H.path, &h);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	memset(ch, 0, sizeof(*ch));
	ck_assert_int_eq(h->ops->find(h, &vmbus_guid_storvsc, 0, &ch->offer), 0);
	ck_assert_uint_eq(ch->offer.relid, 5);
	r = h->ops->open(h, ch, 8 * 4096);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	return h;
}

START_TEST(hello_memory_open_signal_close)
{
	struct vmbus_chan ch;
	struct vmbus_hostif *h = connect_open(&ch);
	ck_assert_uint_eq(H.hello_version, 1);
	ck_assert_uint_eq(H.hello_role, 0);
	ck_assert_str_eq(H.hello_name, "pvio");
	ck_assert_uint_eq(H.mem_gpa, 0x100000000ull);
	ck_assert_uint_eq(H.mem_size, 8 << 20);
	ck_assert_uint_eq(H.gpadl_pages, 16); /* both rings */
	/* the host sees the guest's ring through the shared memfd */
	uint64_t off = ch.ring_dev_addr - H.mem_gpa;
	ck_assert_uint_eq(H.mem[off + 64] & 1, 1); /* feature_bits */
	/* signal -> host; host interrupt -> guest fd */
	h->ops->signal(h, &ch);
	int fd = h->ops->irq_fd(h, &ch);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(wait_fd(fd), 1);
	h->ops->irq_ack(h, &ch);
	struct pollfd p = { fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&p, 1, 0), 0); /* acked */
	ck_assert_int_eq(h->ops->service(h), 0);
	h->ops->close(h, &ch);
	h->ops->free(h);
	pthread_join(H.th, NULL);
	H.th = pthread_self();
	ck_assert_msg(!H.err[0], "host: %s", H.err);
	ck_assert_uint_eq(H.signals, 1);
	ck_assert_uint_eq(H.closes, 1);
	ck_assert_uint_eq(H.teardowns, 1);
	ck_assert_uint_eq(H.unloads, 1);
}
END_TEST

START_TEST(rescind_via_socket)
{
	struct vmbus_chan ch;
	H.rescind_on_signal = true;
	struct vmbus_hostif *h = connect_open(&ch);
	h->ops->signal(h, &ch);
	ck_assert_int_eq(wait_fd(h->ops->irq_fd(h, &ch)), 1);
	/* the rescind went out before the interrupt */
	ck_assert_int_eq(wait_fd(h->ops->event_fd(h)), 1);
	for (int i = 0; i < 100 && !vmbus_chan_gone(&ch); i++) {
		ck_assert_int_eq(h->ops->service(h), 0);
		if (!vmbus_chan_gone(&ch))
			wait_fd(h->ops->event_fd(h));
	}
	ck_assert(vmbus_chan_gone(&ch));
	h->ops->close(h, &ch);
	h->ops->free(h);
	pthread_join(H.th, NULL);
	H.th = pthread_self();
	ck_assert_msg(!H.err[0], "host: %s", H.err);
	ck_assert_uint_eq(H.closes, 0);    /* no CLOSECHANNEL after rescind */
	ck_assert_uint_eq(H.releases, 1);  /* RELID_RELEASED */
}
END_TEST

START_TEST(host_disappears)
{
	struct vmbus_chan ch;
	H.close_on_signal = true;
	struct vmbus_hostif *h = connect_open(&ch);
	h->ops->signal(h, &ch);
	ck_assert_int_eq(wait_fd(h->ops->event_fd(h)), 1);
	int r = 0;
	for (int i = 0; i < 100 && r == 0; i++)
		r = h->ops->service(h);
	ck_assert_int_lt(r, 0);
	ck_assert(h->lost);
	ck_assert(vmbus_chan_gone(&ch));
	h->ops->close(h, &ch); /* nothing to talk to: bounded, no crash */
	h->ops->free(h);
}
END_TEST

START_TEST(host_sends_garbage)
{
	struct vmbus_chan ch;
	H.garbage_on_signal = true;
	struct vmbus_hostif *h = connect_open(&ch);
	h->ops->signal(h, &ch);
	ck_assert_int_eq(wait_fd(h->ops->event_fd(h)), 1);
	int r = 0;
	for (int i = 0; i < 100 && r == 0; i++)
		r = h->ops->service(h);
	ck_assert_int_eq(r, -ENOTCONN);
	ck_assert(vmbus_chan_gone(&ch));
	h->ops->close(h, &ch);
	h->ops->free(h); /* the guest hangs up: the host thread ends */
}
END_TEST

/* the public way in: pvio_dev_open("sim-hyperv:...") */
START_TEST(dev_open_addresses)
{
	pvio_dev *dev;
	char a[200];
	static const char *const bad[] = {
		"sim-hyperv:", "sim-hyperv:/x/foo0", "sim-hyperv:/x/storvsc",
		"sim-hyperv:/x/storvsc01", "sim-hyperv:storvsc0",
		"sim-hyperv:/x/netvsc-1",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(pvio_dev_open(ctx, bad[i], &dev), -EINVAL);
		ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "SOCKET/storvscN"));
	}
	__atomic_store_n(&H.max_conns, 2, __ATOMIC_RELEASE);
	/* the host offers no NIC */
	snprintf(a, sizeof(a), "sim-hyperv:%s/netvsc0", H.path);
	ck_assert_int_eq(pvio_dev_open(ctx, a, &dev), -ENODEV);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "offers no netvsc0"));
	/* the disk's StorVSP never answers: bounded, everything undone */
	snprintf(a, sizeof(a), "sim-hyperv:%s/storvsc0", H.path);
	ck_assert_int_eq(pvio_dev_open(ctx, a, &dev), -ETIMEDOUT);
	ck_assert_msg(strstr(pvio_errmsg(ctx), "BEGIN_INITIALIZATION"), "%s",
		      pvio_errmsg(ctx));
	pthread_join(H.th, NULL);
	H.th = pthread_self();
	ck_assert_msg(!H.err[0], "host: %s", H.err);
	ck_assert_uint_eq(H.conns, 2);
	ck_assert_uint_eq(H.closes, 1);
	ck_assert_uint_eq(H.teardowns, 1);
	ck_assert_uint_eq(H.unloads, 2);
}
END_TEST

START_TEST(no_host)
{
	struct vmbus_hostif *h;
	char p[128];
	snprintf(p, sizeof(p), "%s/none.sock", dir);
	ck_assert_int_eq(vmbus_hostif_sim_open(ctx, p, &h), -ENOENT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "pvio sim hyperv"));
	/* let the host thread end: connect and hang up */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, H.path);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmbus_hostif");
	TCase *tc = tcase_create("hostif_sim");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hello_memory_open_signal_close);
	tcase_add_test(tc, rescind_via_socket);
	tcase_add_test(tc, host_disappears);
	tcase_add_test(tc, host_sends_garbage);
	tcase_add_test(tc, dev_open_addresses);
	tcase_add_test(tc, no_host);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
