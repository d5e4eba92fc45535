/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: vhost-user addresses that do not lead to a working
 * back end.  Missing or wrong sockets, peers that are not vhost-user
 * (garbage, silence, hang-ups), and a scripted peer that speaks just
 * enough vhost-user to hand pvio hostile answers (impossible config
 * values, refused features, a device that never completes a request, a
 * device that needs a reset).  Every case must fail with a clear one-line
 * message, within the context timeout, without crashing or leaking.
 *
 * The fake peers run in forked children in a temporary directory and are
 * stopped by pid.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vhost_user_util.h"

#define TIMEOUT_MS 300u

/* ---- a fake peer ---- */

enum behaviour {
	B_GARBAGE,    /* answers with something else entirely */
	B_SILENT,     /* accepts and never answers */
	B_HANGUP,     /* accepts and closes */
	B_SCRIPT,     /* speaks vhost-user, with the answers below */
};

struct script {
	uint64_t features;      /* GET_FEATURES (raw, bit 30 included) */
	uint64_t pfeatures;     /* GET_PROTOCOL_FEATURES */
	uint64_t queue_num;
	uint8_t config[256];    /* GET_CONFIG region */
	int status_mode;        /* 1: never keep FEATURES_OK; 2: NEEDS_RESET
				   once DRIVER_OK is set */
	uint32_t nak;           /* REPLY_ACK this request with 1 */
	uint32_t hangup_after;  /* close after this request */
	uint32_t bad_reply_to;  /* answer this request with the wrong id */
	uint32_t big_reply_to;  /* answer this request with 4096 bytes */
};

struct fake {
	pid_t pid;
	char dir[256];
	char path[300];
};

static int read_full(int fd, void *b, size_t n)
{
	size_t d = 0;
	while (d < n) {
		char cbuf[CMSG_SPACE(sizeof(int) * 8)];
		struct iovec iov = { (char *)b + d, n - d };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		ssize_t r = recvmsg(fd, &m, 0);
		if (r <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < k; i++) {
				int fd2;
				memcpy(&fd2, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd2);
			}
		}
		d += (size_t)r;
	}
	return 0;
}

static void reply(int fd, uint32_t req, const void *p, uint32_t size)
{
	uint32_t h[3] = { req, 1u | 4u, size };
	if (write(fd, h, sizeof(h)) != sizeof(h) ||
	    (size && write(fd, p, size) != (ssize_t)size))
		_exit(3);
}

static void serve_script(int c, const struct script *s)
{
	uint8_t status = 0;
	for (;;) {
		uint32_t h[3];
		static uint8_t pl[8192];
		if (read_full(c, h, sizeof(h)) < 0 || h[2] > sizeof(pl) ||
		    read_full(c, pl, h[2]) < 0)
			_exit(0);
		uint32_t req = h[0];
		uint64_t v = 0;
		bool need = h[1] & 8u;
		if (req == s->bad_reply_to) {
			reply(c, req + 1, &v, 8);
			continue;
		}
		if (req == s->big_reply_to) {
			static uint8_t big[4096];
			reply(c, req, big, sizeof(big));
			continue;
		}
		switch (req) {
		case 1: /* GET_FEATURES */
			reply(c, req, &s->features, 8);
			break;
		case 15: /* GET_PROTOCOL_FEATURES */
			reply(c, req, &s->pfeatures, 8);
			break;
		case 17: /* GET_QUEUE_NUM */
			reply(c, req, &s->queue_num, 8);
			break;
		case 24: { /* GET_CONFIG: echo offset/size/flags, then data */
			uint32_t size;
			memcpy(&size, pl + 4, 4);
			if (size > 256)
				size = 256;
			memcpy(pl + 12, s->config, size);
			reply(c, req, pl, 12 + size);
			break;
		}
		case 40: /* GET_STATUS */
			v = status;
			reply(c, req, &v, 8);
			break;
		case 11: { /* GET_VRING_BASE */
			uint32_t st[2];
			memcpy(st, pl, 4);
			st[1] = 0;
			reply(c, req, st, 8);
			break;
		}
		default:
			if (req == 39) { /* SET_STATUS */
				memcpy(&v, pl, 8);
				status = (uint8_t)v;
				if (s->status_mode == 1)
					status &= (uint8_t)~8u;
				if (s->status_mode == 2 && (status & 4u))
					status |= 0x40;
				v = 0;
			}
			if (need) {
				v = req == s->nak;
				reply(c, req, &v, 8);
			}
			break;
		}
		if (req == s->hangup_after)
			_exit(0);
	}
}

static void set_sun(struct sockaddr_un *sa, const char *path)
{
	ck_assert_uint_lt(strlen(path), sizeof(sa->sun_path));
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

static void fake_start_in(struct fake *f, const char *dir, enum behaviour b,
			  const struct script *s)
{
	if (dir)
		snprintf(f->dir, sizeof(f->dir), "%s", dir);
	else
		ck_assert_int_eq(peer_mkdtemp(f->dir, sizeof(f->dir)), 0);
	snprintf(f->path, sizeof(f->path), "%s/fake.sock", f->dir);
	unlink(f->path);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	set_sun(&sa, f->path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	pid_t parent = getpid();
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int c = accept(l, NULL, NULL);
		if (c < 0)
			_exit(2);
		static const char junk[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
					   "Protocol mismatch.\r\n";
		switch (b) {
		case B_GARBAGE: {
			char in[12];
			if (read(c, in, sizeof(in)) > 0 &&
			    write(c, junk, sizeof(junk)) < 0)
				_exit(3);
			pause();
			break;
		}
		case B_SILENT:
			pause();
			break;
		case B_HANGUP:
			close(c);
			pause();
			break;
		case B_SCRIPT:
			serve_script(c, s);
			break;
		}
		_exit(0);
	}
	close(l);
}

static void fake_start(struct fake *f, enum behaviour b, const struct script *s)
{
	fake_start_in(f, NULL, b, s);
}

static void fake_stop(struct fake *f)
{
	kill(f->pid, SIGKILL);
	int st;
	ck_assert_int_eq(waitpid(f->pid, &st, 0), f->pid);
	peer_rmtree(f->dir);
}

/* Open addr and expect failure err with msg in the message. */
static void expect_fail(const char *addr, int err, const char *msg)
{
	pvio_ctx *ctx = util_ctx(16u << 20, TIMEOUT_MS);
	pvio_dev *dev = (pvio_dev *)&ctx; /* must be reset to NULL */
	int r = pvio_dev_open(ctx, addr, &dev);
	printf("%-60.60s -> %s\n", addr, pvio_errmsg(ctx));
	ck_assert_msg(r == -err, "open %s: %d (%s), wanted %d", addr, r,
		      pvio_errmsg(ctx), -err);
	ck_assert_ptr_null(dev);
	ck_assert_msg(strstr(pvio_errmsg(ctx), msg) != NULL,
		      "message '%s' lacks '%s'", pvio_errmsg(ctx), msg);
	ck_assert_ptr_null(strchr(pvio_errmsg(ctx), '\n'));
	pvio_ctx_free(ctx);
}

static void expect_fake(enum behaviour b, const struct script *s,
			const char *opts, int err, const char *msg)
{
	struct fake f;
	fake_start(&f, b, s);
	char addr[400];
	snprintf(addr, sizeof(addr), "vhost-user:%s%s%s", f.path,
		 opts ? "?" : "", opts ? opts : "");
	expect_fail(addr, err, msg);
	fake_stop(&f);
}

START_TEST(bad_addresses)
{
	char dir[256], p[400];
	ck_assert_int_eq(peer_mkdtemp(dir, sizeof(dir)), 0);

	snprintf(p, sizeof(p), "vhost-user:%s/nothing.sock", dir);
	expect_fail(p, ENOENT, "is the vhost-user back end running");
	expect_fail("vhost-user:", EINVAL, "no socket path");
	expect_fail("vhost-user:?class=blk", EINVAL, "no socket path");

	/* a regular file and a directory are not sockets */
	snprintf(p, sizeof(p), "%s/file", dir);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(p, sizeof(p), "vhost-user:%s/file", dir);
	expect_fail(p, ECONNREFUSED, "cannot connect");
	snprintf(p, sizeof(p), "vhost-user:%s", dir);
	expect_fail(p, ECONNREFUSED, "cannot connect");

	/* a socket file nobody listens on any more */
	snprintf(p, sizeof(p), "%s/stale.sock", dir);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	set_sun(&sa, p);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(l);
	snprintf(p, sizeof(p), "vhost-user:%s/stale.sock", dir);
	expect_fail(p, ECONNREFUSED, "is the vhost-user back end running");

	char longp[300];
	memset(longp, 'x', sizeof(longp));
	memcpy(longp, "vhost-user:/", 12);
	longp[sizeof(longp) - 1] = 0;
	expect_fail(longp, ENAMETOOLONG, "longer than the 107 a unix socket allows");

	snprintf(p, sizeof(p), "vhost-user:%s/x.sock?class=scsi", dir);
	expect_fail(p, EINVAL, "bad option");
	snprintf(p, sizeof(p), "vhost-user:%s/x.sock?queues=0", dir);
	expect_fail(p, EINVAL, "bad option");
	snprintf(p, sizeof(p), "vhost-user:%s/x.sock?queues=65", dir);
	expect_fail(p, EINVAL, "bad option");
	snprintf(p, sizeof(p), "vhost-user:%s/x.sock?size=100", dir);
	expect_fail(p, EINVAL, "bad option");
	snprintf(p, sizeof(p), "vhost-user:%s/x.sock?colour=blue", dir);
	expect_fail(p, EINVAL, "bad option");
	snprintf(p, sizeof(p), "vhost-user:%s/x.sock?class", dir);
	expect_fail(p, EINVAL, "bad option");
	expect_fail("vhostuser:/tmp/x", EPROTONOSUPPORT, "unknown address type");
	peer_rmtree(dir);
}
END_TEST

START_TEST(not_vhost_user)
{
	expect_fake(B_GARBAGE, NULL, NULL, EPROTO, "is not vhost-user");
	expect_fake(B_SILENT, NULL, NULL, ETIMEDOUT, "no reply to GET_FEATURES");
	expect_fake(B_HANGUP, NULL, NULL, ECONNRESET, "closed the connection");
}
END_TEST

/* A minimal, well-behaved blk back end, then one thing wrong each time. */
static struct script blk_script(void)
{
	struct script s;
	memset(&s, 0, sizeof(s));
	s.features = 1ull << 32 | 1ull << 30 | 1ull << 28 | 1ull << 29 |
		     1ull << 2 | 1ull << 6 | 1ull << 9;
	s.pfeatures = 1ull << 0 | 1ull << 3 | 1ull << 9 | 1ull << 16;
	s.queue_num = 1;
	uint64_t cap = 2048;
	memcpy(s.config, &cap, 8);
	uint32_t segmax = 8, bs = 512;
	memcpy(s.config + 12, &segmax, 4);
	memcpy(s.config + 20, &bs, 4);
	return s;
}

START_TEST(wrong_answers)
{
	struct script s = blk_script();
	s.bad_reply_to = 1;
	expect_fake(B_SCRIPT, &s, NULL, EPROTO, "reply to GET_FEATURES is not vhost-user");
	s = blk_script();
	s.big_reply_to = 15;
	expect_fake(B_SCRIPT, &s, NULL, EPROTO, "4096 payload bytes, expected 8");
	s = blk_script();
	s.hangup_after = 15;
	expect_fake(B_SCRIPT, &s, NULL, ECONNRESET, "closed the connection");
	s = blk_script();
	s.nak = 3; /* SET_OWNER refused */
	expect_fake(B_SCRIPT, &s, NULL, EIO, "refused SET_OWNER");
	s = blk_script();
	s.queue_num = 0;
	expect_fake(B_SCRIPT, &s, NULL, EPROTO, "GET_QUEUE_NUM returned 0");
	s = blk_script();
	s.features &= ~(1ull << 32);
	expect_fake(B_SCRIPT, &s, NULL, EPROTONOSUPPORT, "VIRTIO_F_VERSION_1");
	/* no config space, yet asked to be a block device */
	s = blk_script();
	s.pfeatures &= ~(1ull << 9);
	expect_fake(B_SCRIPT, &s, "class=blk", EPROTONOSUPPORT, "no config space");
}
END_TEST

START_TEST(hostile_config)
{
	struct script s = blk_script();
	uint32_t v = 3;
	memcpy(s.config + 20, &v, 4); /* block size 3 */
	expect_fake(B_SCRIPT, &s, NULL, EPROTO, "block size 3");
	s = blk_script();
	uint64_t cap = UINT64_MAX / 100;
	memcpy(s.config, &cap, 8);
	expect_fake(B_SCRIPT, &s, NULL, ERANGE, "impossible");
	s = blk_script();
	s.features |= 1ull << 1; /* SIZE_MAX below the block size */
	v = 100;
	memcpy(s.config + 8, &v, 4);
	expect_fake(B_SCRIPT, &s, NULL, EPROTO, "size_max 100");
}
END_TEST

/* Values that are odd but usable are clamped, and the device opens. */
START_TEST(clamped_config)
{
	struct script s = blk_script();
	uint32_t zero = 0;
	memcpy(s.config + 12, &zero, 4);     /* seg_max 0 */
	s.features |= 1ull << 12 | 1ull << 13; /* MQ with 0 queues, DISCARD */
	struct fake f;
	fake_start(&f, B_SCRIPT, &s);
	char addr[400];
	snprintf(addr, sizeof(addr), "vhost-user:%s", f.path);
	pvio_ctx *ctx = util_ctx(16u << 20, TIMEOUT_MS);
	pvio_dev *dev;
	ck_assert_int_eq(pvio_dev_open(ctx, addr, &dev), 0);
	const struct pvio_blk_limits *L = &dev->limits.blk;
	ck_assert_uint_eq(L->max_segments, 1);
	ck_assert_uint_eq(L->max_queues, 1);
	ck_assert(L->discard);
	ck_assert_uint_eq(L->max_discard, (uint64_t)UINT32_MAX * 512 & ~511ull);
	ck_assert_uint_eq(L->discard_granularity, 512);
	ck_assert_uint_eq(L->capacity, 2048 * 512);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
	fake_stop(&f);
}
END_TEST

/* Configure against back ends that refuse features, never complete a
 * request, or need a reset: configure fails within the timeout and the
 * device is not usable. */
static void expect_configure_fail(const struct script *s, int err,
				  const char *msg)
{
	struct fake f;
	fake_start(&f, B_SCRIPT, s);
	char addr[400];
	snprintf(addr, sizeof(addr), "vhost-user:%s", f.path);
	pvio_ctx *ctx = util_ctx(16u << 20, TIMEOUT_MS);
	pvio_dev *dev;
	ck_assert_int_eq(pvio_dev_open(ctx, addr, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 8 };
	int r = pvio_dev_configure(dev, &cfg);
	printf("configure -> %s\n", pvio_errmsg(ctx));
	ck_assert_int_eq(r, -err);
	ck_assert_msg(strstr(pvio_errmsg(ctx), msg) != NULL,
		      "message '%s' lacks '%s'", pvio_errmsg(ctx), msg);
	ck_assert_int_ne(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	/* a second configure is refused, not attempted */
	ck_assert_int_lt(pvio_dev_configure(dev, &cfg), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
	fake_stop(&f);
}

START_TEST(configure_failures)
{
	struct script s = blk_script();
	s.status_mode = 1;
	expect_configure_fail(&s, EPROTO, "rejected features");
	s = blk_script();
	s.status_mode = 2;
	expect_configure_fail(&s, EIO, "needs a reset");
	/* acks everything, processes nothing: the first request times out */
	s = blk_script();
	expect_configure_fail(&s, ETIMEDOUT, "did not answer its first request");
	s = blk_script();
	s.nak = 5; /* SET_MEM_TABLE refused */
	expect_configure_fail(&s, EIO, "refused SET_MEM_TABLE");
	s = blk_script();
	s.hangup_after = 9; /* gone during ring set-up */
	expect_configure_fail(&s, ECONNRESET, "closed the connection");
}
END_TEST

/* A net back end (no config space): the class is inferred as net. */
START_TEST(infer_net)
{
	struct script s = blk_script();
	s.pfeatures = 1ull << 3;
	s.features = 1ull << 32 | 1ull << 30 | 1ull << 15;
	struct fake f;
	fake_start(&f, B_SCRIPT, &s);
	char addr[400];
	snprintf(addr, sizeof(addr), "vhost-user:%s", f.path);
	pvio_ctx *ctx = util_ctx(16u << 20, TIMEOUT_MS);
	pvio_dev *dev;
	ck_assert_int_eq(pvio_dev_open(ctx, addr, &dev), 0);
	ck_assert_int_eq(dev->info.cls, PVIO_CLASS_NET);
	ck_assert_uint_eq(dev->limits.net.max_queues, 1);
	ck_assert_uint_eq(dev->limits.net.mtu, 1500);
	/* the same address always gets the same MAC */
	uint8_t mac[6];
	memcpy(mac, dev->limits.net.mac, 6);
	pvio_dev_close(dev);
	/* a new back end process on the same socket path */
	kill(f.pid, SIGKILL);
	waitpid(f.pid, NULL, 0);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", f.dir);
	fake_start_in(&f, dir, B_SCRIPT, &s);
	ck_assert_int_eq(pvio_dev_open(ctx, addr, &dev), 0);
	ck_assert_mem_eq(dev->limits.net.mac, mac, 6);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
	fake_stop(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user_errors");
	TCase *t = tcase_create("errors");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, bad_addresses);
	tcase_add_test(t, not_vhost_user);
	tcase_add_test(t, wrong_answers);
	tcase_add_test(t, hostile_config);
	tcase_add_test(t, clamped_config);
	tcase_add_test(t, configure_failures);
	tcase_add_test(t, infer_net);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
