/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/xenstore.c against the fake xenstored of test_xen_fake.c:
 * requests and errors, replies cut into single bytes, watch events and
 * stale replies arriving before the reply, a server that breaks the
 * protocol (wrong type, oversized message, silence), transactions that
 * must be restarted, strict parsing of values.
 *
 * The fake xenstored itself is checked against Debian's xenstore-utils
 * (libxenstore): xenstore-write/-read/-ls talk to it on a unix socket
 * (XENSTORED_PATH) and the pvio client sees what they wrote, and the
 * other way round.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "test_xen_fake.h"

extern char **environ;

static pvio_ctx *ctx;
static struct fx *fx;
static struct xs_client xs;

static void setup(void)
{
	ctx = fx_ctx(300);
	fx = fx_new(ctx, 7);
	xs_init(&xs, ctx, &fx->h);
}

static void teardown(void)
{
	fx_destroy(fx);
	pvio_ctx_free(ctx);
}

START_TEST(basic_requests)
{
	char b[64];
	ck_assert_int_eq(xs_write(&xs, 0, "/a/b/c", "hello"), 0);
	ck_assert_str_eq(fx_read(fx, "/a/b/c"), "hello");
	ck_assert_int_eq(xs_read(&xs, 0, "/a/b/c", b, sizeof(b)), 5);
	ck_assert_str_eq(b, "hello");
	/* an empty value */
	ck_assert_int_eq(xs_write(&xs, 0, "/a/e", ""), 0);
	ck_assert_int_eq(xs_read(&xs, 0, "/a/e", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "");
	/* relative paths are under /local/domain/<domid> */
	ck_assert_int_eq(xs_write(&xs, 0, "device/x", "1"), 0);
	ck_assert_str_eq(fx_read(fx, "/local/domain/7/device/x"), "1");
	ck_assert_int_eq(xs_mkdir(&xs, 0, "/a/d"), 0);
	ck_assert_int_eq(xs_write(&xs, 0, "/a/d/k1", "1"), 0);
	ck_assert_int_eq(xs_directory(&xs, 0, "/a", b, sizeof(b)), 3);
	ck_assert_str_eq(b, "b");
	ck_assert_str_eq(b + 2, "e");
	ck_assert_str_eq(b + 4, "d");
	ck_assert_int_eq(xs_rm(&xs, 0, "/a/d"), 0);
	ck_assert_ptr_null(fx_read(fx, "/a/d/k1"));
	ck_assert_int_eq(xs_read(&xs, 0, "/a/d/k1", b, sizeof(b)), -ENOENT);
	ck_assert_int_eq(xs_rm(&xs, 0, "/nope"), -ENOENT);
	ck_assert_int_eq(xs_directory(&xs, 0, "/nope", b, sizeof(b)), -ENOENT);
	ck_assert_int_eq(xs_printf(&xs, 0, "/n", "%u-%s", 42u, "x"), 0);
	ck_assert_str_eq(fx_read(fx, "/n"), "42-x");
	/* characters xenstore does not allow never leave the client */
	uint64_t before = fx->requests;
	ck_assert_int_eq(xs_read(&xs, 0, "/a b", b, sizeof(b)), -EINVAL);
	ck_assert_int_eq(xs_write(&xs, 0, "/a\n", "x"), -EINVAL);
	ck_assert_uint_eq(fx->requests, before);
}
END_TEST

static const char *err_name;
static bool reply_error(struct fx *f, uint32_t type, uint32_t req_id,
			const char *pl, uint32_t len)
{
	(void)type, (void)pl, (void)len;
	fx_emit(f, XS_ERROR, req_id, 0, err_name, (uint32_t)strlen(err_name) + 1);
	return true;
}

START_TEST(error_names_map_to_errno)
{
	static const struct {
		const char *name;
		int err;
	} t[] = {
		{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
		{ "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
		{ "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
		{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
		{ "EPERM", EPERM }, { "EWHATEVER", EIO },
	};
	char b[16];
	fx->intercept = reply_error;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err_name = t[i].name;
		ck_assert_int_eq(xs_read(&xs, 0, "/x", b, sizeof(b)), -t[i].err);
		/* also for requests whose reply buffer is small */
		ck_assert_int_eq(xs_write(&xs, 0, "/x", "1"), -t[i].err);
	}
	ck_assert(!xs.dead);
}
END_TEST

START_TEST(replies_in_single_bytes)
{
	char b[64];
	fx->c.chunk = 1;
	fx_write(fx, "/k", "value-42");
	ck_assert_int_eq(xs_read(&xs, 0, "/k", b, sizeof(b)), 8);
	ck_assert_str_eq(b, "value-42");
	ck_assert_int_eq(xs_watch(&xs, "/w", "tok"), 0);
	fx_write(fx, "/w/child", "1");
	struct xs_event ev;
	ck_assert_int_eq(xs_next_event(&xs, &ev), 1); /* the initial event */
	ck_assert_str_eq(ev.path, "/w");
	ck_assert_int_eq(xs_next_event(&xs, &ev), 1);
	ck_assert_str_eq(ev.path, "/w/child");
	ck_assert_str_eq(ev.token, "tok");
	ck_assert_int_eq(xs_next_event(&xs, &ev), 0);
}
END_TEST

/* a watch event and a stale reply arrive before each READ reply */
static bool noisy(struct fx *f, uint32_t type, uint32_t req_id,
		  const char *pl, uint32_t len)
{
	(void)len;
	if (type != XS_READ)
		return false;
	static const char ev[] = "/some/path\0tk";
	fx_emit(f, XS_WATCH_EVENT, 0, 0, ev, sizeof(ev));
	fx_emit(f, XS_READ, req_id - 1, 0, "stale", 5);
	fx_emit(f, XS_READ, req_id + 100, 0, "bogus", 5);
	const char *v = fx_read(f, pl);
	fx_emit(f, XS_READ, req_id, 0, v ? v : "", v ? (uint32_t)strlen(v) : 0);
	return true;
}

START_TEST(events_and_stale_replies_interleaved)
{
	char b[64];
	fx_write(fx, "/r", "right");
	fx->intercept = noisy;
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(xs_read(&xs, 0, "/r", b, sizeof(b)), 5);
		ck_assert_str_eq(b, "right");
	}
	struct xs_event ev;
	int n = 0;
	while (xs_next_event(&xs, &ev) == 1) {
		ck_assert_str_eq(ev.path, "/some/path");
		ck_assert_str_eq(ev.token, "tk");
		n++;
	}
	ck_assert_int_eq(n, 5);
	ck_assert(!xs.dead);
}
END_TEST

static bool wrong_type(struct fx *f, uint32_t type, uint32_t req_id,
		       const char *pl, uint32_t len)
{
	(void)pl, (void)len;
	fx_emit(f, type == XS_READ ? XS_WRITE : XS_READ, req_id, 0, "OK", 3);
	return true;
}

START_TEST(wrong_reply_type_kills_connection)
{
	char b[16];
	fx->intercept = wrong_type;
	ck_assert_int_eq(xs_read(&xs, 0, "/x", b, sizeof(b)), -EPROTO);
	ck_assert(xs.dead);
	fx->intercept = NULL;
	ck_assert_int_eq(xs_read(&xs, 0, "/x", b, sizeof(b)), -EPIPE);
	ck_assert_int_eq(xs_write(&xs, 0, "/x", "1"), -EPIPE);
	struct xs_event ev;
	ck_assert_int_eq(xs_next_event(&xs, &ev), -EPIPE);
}
END_TEST

static bool oversized(struct fx *f, uint32_t type, uint32_t req_id,
		      const char *pl, uint32_t len)
{
	(void)pl, (void)len;
	struct xsd_sockmsg m = { .type = type, .req_id = req_id, .len = 4097 };
	fx_emit_raw(f, &m, sizeof(m));
	static char junk[4097];
	fx_emit_raw(f, junk, sizeof(junk));
	return true;
}

START_TEST(oversized_message_kills_connection)
{
	char b[16];
	fx->intercept = oversized;
	ck_assert_int_eq(xs_read(&xs, 0, "/x", b, sizeof(b)), -EPROTO);
	ck_assert(xs.dead);
}
END_TEST

START_TEST(payload_limit)
{
	static char big[4100];
	memset(big, 'v', sizeof(big) - 1);
	uint64_t before = fx->requests;
	/* path + NUL + value must fit in 4096 */
	ck_assert_int_eq(xs_write(&xs, 0, "/p", big), -E2BIG);
	ck_assert_uint_eq(fx->requests, before);
	big[4096 - 3] = '\0'; /* "/p\0" + 4093 bytes = 4096 */
	ck_assert_int_eq(xs_write(&xs, 0, "/p", big), 0);
	ck_assert_uint_eq(strlen(fx_read(fx, "/p")), 4093);
	char rb[4100];
	ck_assert_int_eq(xs_read(&xs, 0, "/p", rb, sizeof(rb)), 4093);
	/* a value that does not fit the caller's buffer */
	ck_assert_int_eq(xs_read(&xs, 0, "/p", rb, 4093), -E2BIG);
	ck_assert_int_eq(xs_read(&xs, 0, "/p", rb, 4094), 4093);
	ck_assert(!xs.dead);
}
END_TEST

struct txarg {
	int calls;
	bool interfere;
};

static int tx_body(struct xs_client *c, uint32_t tx, void *arg)
{
	struct txarg *a = arg;
	char b[16];
	a->calls++;
	int r = xs_read(c, tx, "/counter", b, sizeof(b));
	int v = r > 0 ? atoi(b) : 0;
	if (a->interfere && a->calls < 3)
		fx_write(fx, "/other", "changed"); /* a conflicting writer */
	return xs_printf(c, tx, "/counter", "%d", v + 1);
}

START_TEST(transactions_restart_on_eagain)
{
	struct txarg a = { 0 };
	fx_write(fx, "/counter", "10");
	fx->eagain_commits = 3;
	ck_assert_int_eq(xs_transaction(&xs, tx_body, &a), 0);
	ck_assert_int_eq(a.calls, 4);
	ck_assert_str_eq(fx_read(fx, "/counter"), "11");
	/* a real conflict: someone wrote while the transaction ran */
	a = (struct txarg){ .interfere = true };
	ck_assert_int_eq(xs_transaction(&xs, tx_body, &a), 0);
	ck_assert_int_eq(a.calls, 3);
	ck_assert_str_eq(fx_read(fx, "/counter"), "12");
	/* a transaction's writes are invisible until committed */
	uint32_t tx;
	ck_assert_int_eq(xs_tx_start(&xs, &tx), 0);
	ck_assert_int_eq(xs_write(&xs, tx, "/counter", "99"), 0);
	ck_assert_str_eq(fx_read(fx, "/counter"), "12");
	ck_assert_int_eq(xs_tx_end(&xs, tx, false), 0);
	ck_assert_str_eq(fx_read(fx, "/counter"), "12");
	/* never succeeding: bounded */
	a = (struct txarg){ 0 };
	fx->eagain_commits = 1000;
	ck_assert_int_eq(xs_transaction(&xs, tx_body, &a), -EAGAIN);
	ck_assert_int_le(a.calls, 32);
	ck_assert_str_eq(fx_read(fx, "/counter"), "12");
}
END_TEST

START_TEST(silent_server_times_out)
{
	char b[16];
	fx_write(fx, "/x", "1");
	fx->no_reply = true;
	uint64_t t0 = pvio_now_ns(ctx);
	ck_assert_int_eq(xs_read(&xs, 0, "/x", b, sizeof(b)), -ETIMEDOUT);
	ck_assert_uint_ge(pvio_now_ns(ctx) - t0, 300u * 1000000u);
	ck_assert(!xs.dead);
	/* the late reply arrives; it must not be taken for the next one */
	fx->no_reply = false;
	fx_emit(fx, XS_READ, xs.req_id, 0, "late", 4);
	fx_write(fx, "/x", "fresh");
	ck_assert_int_eq(xs_read(&xs, 0, "/x", b, sizeof(b)), 5);
	ck_assert_str_eq(b, "fresh");
}
END_TEST

START_TEST(strict_values)
{
	uint64_t v;
	char b[16];
	static const char *const bad[] = { "12abc", "0x10", "", "-1", " 5",
					   "5 ", "+5", "1e3" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_write(fx, "/n", bad[i]);
		ck_assert_int_eq(xs_read_u64(&xs, 0, "/n", UINT64_MAX, &v),
				 -EINVAL);
	}
	fx_write(fx, "/n", "18446744073709551616");
	ck_assert_int_eq(xs_read_u64(&xs, 0, "/n", UINT64_MAX, &v), -ERANGE);
	fx_write(fx, "/n", "99999999999999999999999999999999999");
	ck_assert_int_eq(xs_read_u64(&xs, 0, "/n", UINT64_MAX, &v), -ERANGE);
	fx_write(fx, "/n", "17");
	ck_assert_int_eq(xs_read_u64(&xs, 0, "/n", 16, &v), -ERANGE);
	fx_write(fx, "/n", "007");
	ck_assert_int_eq(xs_read_u64(&xs, 0, "/n", 16, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(xs_read_u64(&xs, 0, "/absent", 16, &v), -ENOENT);
	/* an embedded NUL is refused, a trailing one tolerated */
	char raw[] = { '/', 'z', 0, '1', 0, '2' };
	fx_write(fx, "/z", "x");
	{
		/* write "1\02" as the value through the wire */
		struct xsd_sockmsg m = { .type = XS_WRITE, .req_id = 9999,
					 .len = sizeof(raw) };
		struct fx_conn other = { 0 };
		fx->extra = &other;
		fx_conn_input(fx, &other, &m, sizeof(m));
		fx_conn_input(fx, &other, raw, sizeof(raw));
		fx->extra = NULL;
		free(other.out);
		for (unsigned i = 0; i < other.nw; i++)
			free(other.w[i].path), free(other.w[i].token);
	}
	ck_assert_int_eq(xs_read(&xs, 0, "/z", b, sizeof(b)), -EINVAL);
	{
		char raw2[] = { '/', 'y', 0, '4', '2', 0 };
		struct xsd_sockmsg m = { .type = XS_WRITE, .req_id = 9998,
					 .len = sizeof(raw2) };
		struct fx_conn other = { 0 };
		fx->extra = &other;
		fx_conn_input(fx, &other, &m, sizeof(m));
		fx_conn_input(fx, &other, raw2, sizeof(raw2));
		fx->extra = NULL;
		free(other.out);
	}
	ck_assert_int_eq(xs_read_u64(&xs, 0, "/y", 100, &v), 0);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(watch_event_queue_is_bounded)
{
	ck_assert_int_eq(xs_watch(&xs, "/q", "t"), 0);
	for (int i = 0; i < 40; i++)
		fx_printf(fx, "/q/k", "%d", i);
	struct xs_event ev;
	int n = 0;
	while (xs_next_event(&xs, &ev) == 1)
		n++;
	ck_assert_int_eq(n, XS_EVQ);
	ck_assert_uint_eq(xs.ev_lost, 41 - XS_EVQ);
	/* malformed events (no token) are dropped, the stream goes on */
	fx_emit(fx, XS_WATCH_EVENT, 0, 0, "/only-path", 10);
	fx_emit(fx, XS_WATCH_EVENT, 0, 0, "/p\0tok", 7);
	ck_assert_int_eq(xs_next_event(&xs, &ev), 1);
	ck_assert_str_eq(ev.path, "/p");
	ck_assert_int_eq(xs_next_event(&xs, &ev), 0);
	ck_assert_int_eq(xs_unwatch(&xs, "/q", "t"), 0);
	fx_write(fx, "/q/k", "x");
	ck_assert_int_eq(xs_next_event(&xs, &ev), 0);
	ck_assert_int_eq(xs_unwatch(&xs, "/q", "t"), -ENOENT);
}
END_TEST

/* ---- the fake xenstored against Debian's xenstore-utils ---- */

struct server {
	int lfd;
	volatile int stop;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	while (!s->stop) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(s->lfd, NULL, NULL);
		if (c < 0)
			continue;
		struct fx_conn conn = { 0 };
		fx->extra = &conn;
		uint8_t buf[8192];
		for (;;) {
			struct pollfd q = { .fd = c, .events = POLLIN };
			if (s->stop || poll(&q, 1, 100) < 0)
				break;
			if (!q.revents)
				continue;
			ssize_t n = read(c, buf, sizeof(buf));
			if (n <= 0)
				break;
			fx_conn_input(fx, &conn, buf, (size_t)n);
			if (conn.outlen &&
			    write(c, conn.out, conn.outlen) != (ssize_t)conn.outlen)
				break;
			conn.outlen = 0;
			if (conn.dead)
				break;
		}
		fx->extra = NULL;
		for (unsigned i = 0; i < conn.nw; i++) {
			free(conn.w[i].path);
			free(conn.w[i].token);
		}
		free(conn.out);
		close(c);
	}
	return NULL;
}

/* run a xenstore tool with a bounded wait; returns its exit status and
 * its stdout in out */
static int run_tool(const char *sock, char *out, size_t cap,
		    const char *const argv[])
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	char env0[256];
	snprintf(env0, sizeof(env0), "XENSTORED_PATH=%s", sock);
	char *envp[] = { env0, NULL };
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			     envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	ck_assert_int_eq(r, 0);
	size_t got = 0;
	int status = -1;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		if (poll(&p, 1, 100) > 0 && got < cap - 1) {
			ssize_t n = read(pfd[0], out + got, cap - 1 - got);
			if (n > 0)
				got += (size_t)n;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 20) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("%s did not finish", argv[0]);
		}
	}
	ssize_t n;
	while (got < cap - 1 && (n = read(pfd[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(fake_xenstored_matches_libxenstore)
{
	if (access("/usr/bin/xenstore-write", X_OK)) {
		/* deps.sh installs xenstore-utils; without it this check
		 * cannot run */
		ck_abort_msg("xenstore-utils missing: run scripts/deps.sh");
	}
	char dir[] = "/tmp/pvio-xs-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char sock[64];
	snprintf(sock, sizeof(sock), "%s/xenstored", dir);
	struct server s = { 0 };
	s.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	ck_assert_int_eq(bind(s.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s.lfd, 4), 0);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, serve, &s), 0);

	char out[512];
	const char *w[] = { "xenstore-write", "/tool/a", "from-libxenstore",
			    "/tool/b", "2", NULL };
	int rw = run_tool(sock, out, sizeof(out), w);
	const char *r[] = { "xenstore-read", "/tool/a", NULL };
	int rr = run_tool(sock, out, sizeof(out), r);
	char out2[512];
	const char *l[] = { "xenstore-list", "/tool", NULL };
	int rl = run_tool(sock, out2, sizeof(out2), l);
	const char *rm[] = { "xenstore-rm", "/tool/b", NULL };
	int rrm = run_tool(sock, out2 + 256, 256, rm);
	s.stop = 1;
	pthread_join(th, NULL);
	close(s.lfd);
	unlink(sock);
	rmdir(dir);

	ck_assert_int_eq(rw, 0);
	ck_assert_int_eq(rr, 0);
	ck_assert_str_eq(out, "from-libxenstore\n");
	ck_assert_int_eq(rl, 0);
	ck_assert_str_eq(out2, "a\nb\n");
	ck_assert_int_eq(rrm, 0);
	/* and pvio's client sees the same store */
	char b[64];
	ck_assert_int_eq(xs_read(&xs, 0, "/tool/a", b, sizeof(b)), 16);
	ck_assert_str_eq(b, "from-libxenstore");
	ck_assert_int_eq(xs_read(&xs, 0, "/tool/b", b, sizeof(b)), -ENOENT);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("xen_xs");
	TCase *tc = tcase_create("xenstore");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, basic_requests);
	tcase_add_test(tc, error_names_map_to_errno);
	tcase_add_test(tc, replies_in_single_bytes);
	tcase_add_test(tc, events_and_stale_replies_interleaved);
	tcase_add_test(tc, wrong_reply_type_kills_connection);
	tcase_add_test(tc, oversized_message_kills_connection);
	tcase_add_test(tc, payload_limit);
	tcase_add_test(tc, transactions_restart_on_eagain);
	tcase_add_test(tc, silent_server_times_out);
	tcase_add_test(tc, strict_values);
	tcase_add_test(tc, watch_event_queue_is_bounded);
	tcase_add_test(tc, fake_xenstored_matches_libxenstore);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
