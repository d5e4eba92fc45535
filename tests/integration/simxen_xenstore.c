/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simxen_xenstore.c - the simulated xenstored against
 * Debian's xenstore-utils (the real libxenstore client, XENSTORED_PATH
 * pointing at the host's socket) and against a guest domain's xenstore
 * connection obtained with the hostif XS_CONNECT: reads, writes, listing,
 * removal, watches firing, permissions, transactions, errors, limits.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "simxen_lib.h"

static struct tsim sim;
static char out[65536];

static void setup(void)
{
	memset(&sim, 0, sizeof(sim));
	ck_assert_int_eq(tsim_start(&sim, NULL), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(tsim_stop(&sim), 0);
}

#define RUN(...) tsim_run(&sim, out, sizeof(out), (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(utils_write_read_ls_rm)
{
	ck_assert_int_eq(RUN("xenstore-write", "/test/a", "hello", "/test/b/c", "x y"), 0);
	ck_assert_int_eq(RUN("xenstore-read", "/test/a"), 0);
	ck_assert_str_eq(out, "hello\n");
	ck_assert_int_eq(RUN("xenstore-read", "/test/b/c"), 0);
	ck_assert_str_eq(out, "x y\n");
	/* implicit parent created empty */
	ck_assert_int_eq(RUN("xenstore-read", "/test/b"), 0);
	ck_assert_str_eq(out, "\n");
	ck_assert_int_eq(RUN("xenstore-ls", "/test"), 0);
	ck_assert_str_eq(out, "a = \"hello\"\nb = \"\"\n c = \"x y\"\n");
	ck_assert_int_eq(RUN("xenstore-list", "/test"), 0);
	ck_assert_str_eq(out, "a\nb\n");
	ck_assert_int_eq(RUN("xenstore-exists", "/test/b/c"), 0);
	ck_assert_int_eq(RUN("xenstore-rm", "/test/b"), 0);
	ck_assert_int_ne(RUN("xenstore-exists", "/test/b/c"), 0);
	ck_assert_int_ne(RUN("xenstore-read", "/test/b"), 0);
	ck_assert_ptr_nonnull(strstr(out, "couldn't read path"));
	/* xenstored: removing a missing node whose parent exists is fine */
	ck_assert_int_eq(RUN("xenstore-rm", "/test/nothing"), 0);
	ck_assert_int_ne(RUN("xenstore-rm", "/nothere/nothing"), 0);
	/* the store's fixed nodes */
	ck_assert_int_eq(RUN("xenstore-read", "/local/domain/0/name"), 0);
	ck_assert_str_eq(out, "Domain-0\n");
	/* permissions as the tools show them */
	ck_assert_int_eq(RUN("xenstore-chmod", "/test/a", "n0", "r3", "w4", "b5"), 0);
	ck_assert_int_eq(RUN("xenstore-ls", "-p", "/test"), 0);
	ck_assert_ptr_nonnull(strstr(out, "(n0,r3,w4,b5)"));
}
END_TEST

START_TEST(utils_watch_fires)
{
	char wout[4096];
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		int r = tsim_run(&sim, wout, sizeof(wout),
				 (const char *const[]){ "xenstore-watch", "-n", "4",
							"/watched", NULL });
		dprintf(pfd[1], "%d\n%s", r, wout);
		_exit(0);
	}
	close(pfd[1]);
	/* the watch is registered once its initial event exists: wait for
	 * xenstored to hold a watch on /watched via a dom0 client's view */
	struct tguest d0;
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	ck_assert(tsim_wait_status(&sim, ", 1 watches,"));
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/watched/x", "1"), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/elsewhere", "1"), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/watched", "top"), 0);
	ck_assert_int_eq(tg_xs_rm(&d0, 0, "/watched"), 0);
	tg_close(&d0);
	size_t got = 0;
	ssize_t n;
	while ((n = read(pfd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	/* exit code 0, then: the initial event, the write under it, the
	 * write to it, the removal; nothing for /elsewhere */
	ck_assert_str_eq(out, "0\n/watched\n/watched/x\n/watched\n/watched\n");
}
END_TEST

START_TEST(domain_permissions)
{
	struct tguest g;
	char v[256];
	ck_assert_int_eq(tg_connect(&g, sim.sock, "perm-guest"), 0);
	ck_assert_uint_eq(g.domid, 1);
	ck_assert_int_eq(tg_xs_connect(&g), 0);
	/* its own home, relative and absolute */
	ck_assert_int_eq(tg_xs_read(&g, 0, "domid", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(tg_xs_read(&g, 0, "/local/domain/1/name", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "perm-guest");
	/* dom0's nodes are invisible: EACCES, also for missing ones below */
	ck_assert_int_eq(tg_xs_read(&g, 0, "/local/domain/0/name", v, sizeof(v)), -EACCES);
	ck_assert_int_eq(tg_xs_read(&g, 0, "/local/domain/0/nothing", v, sizeof(v)), -EACCES);
	ck_assert_int_eq(tg_xs_write(&g, 0, "/local/domain/0/x", "1"), -EACCES);
	/* the home itself is dom0's: the domain may not write there ... */
	ck_assert_int_eq(tg_xs_write(&g, 0, "newkey", "1"), -EACCES);
	/* ... but data/ is its own */
	ck_assert_int_eq(tg_xs_write(&g, 0, "data/x", "42"), 0);
	ck_assert_int_eq(tg_xs_read(&g, 0, "data/nothing", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(RUN("xenstore-read", "/local/domain/1/data/x"), 0);
	ck_assert_str_eq(out, "42\n");
	/* what it creates it owns */
	ck_assert_int_eq(RUN("xenstore-ls", "-p", "/local/domain/1/data"), 0);
	ck_assert_ptr_nonnull(strstr(out, "(n1)"));
	/* dom0 grants read access to one of its nodes */
	ck_assert_int_eq(RUN("xenstore-write", "/local/domain/0/shared", "s"), 0);
	ck_assert_int_eq(tg_xs_read(&g, 0, "/local/domain/0/shared", v, sizeof(v)), -EACCES);
	ck_assert_int_eq(RUN("xenstore-chmod", "/local/domain/0/shared", "n0", "r1"), 0);
	ck_assert_int_eq(tg_xs_read(&g, 0, "/local/domain/0/shared", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "s");
	ck_assert_int_eq(tg_xs_write(&g, 0, "/local/domain/0/shared", "t"), -EACCES);
	/* SET_PERMS: only the owner, and a domain may not give nodes away */
	char p[64];
	size_t l = (size_t)snprintf(p, sizeof(p), "data/x%cn1%cr0", 0, 0) + 1;
	char rep[64];
	uint32_t rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, XS_SET_PERMS, 0, p, (uint32_t)l, rep, &rl), XS_SET_PERMS);
	l = (size_t)snprintf(p, sizeof(p), "data/x%cn0", 0) + 1;
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, XS_SET_PERMS, 0, p, (uint32_t)l, rep, &rl), XS_ERROR);
	ck_assert_str_eq(rep, "EPERM");
	/* dom0-only operations */
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, XS_IS_DOMAIN_INTRODUCED, 0, "1", 2, rep, &rl), XS_ERROR);
	ck_assert_str_eq(rep, "EACCES");
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, XS_GET_DOMAIN_PATH, 0, "7", 2, rep, &rl),
			 XS_GET_DOMAIN_PATH);
	ck_assert_str_eq(rep, "/local/domain/7");
	/* the tools see the domain's tree as libxl makes it */
	ck_assert_int_eq(RUN("xenstore-ls", "-p", "/local/domain/1"), 0);
	ck_assert_ptr_nonnull(strstr(out, "device = \"\""));
	ck_assert_ptr_nonnull(strstr(out, "(n0,r1)"));
	tg_close(&g);
}
END_TEST

START_TEST(domain_watches_relative)
{
	struct tguest g, d0;
	ck_assert_int_eq(tg_connect(&g, sim.sock, "watcher"), 0);
	ck_assert_int_eq(tg_xs_connect(&g), 0);
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	ck_assert_int_eq(tg_xs_watch(&g, "data", "tok"), 0);
	/* the initial event carries the path as registered: relative */
	ck_assert(tg_xs_wait_event(&g, "data"));
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/local/domain/1/data/y", "v"), 0);
	ck_assert(tg_xs_wait_event(&g, "data/y"));
	/* a watch on a node it cannot read never fires */
	ck_assert_int_eq(tg_xs_watch(&g, "/local/domain/0/secret", "t2"), 0);
	ck_assert(tg_xs_wait_event(&g, "/local/domain/0/secret"));
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/local/domain/0/secret", "x"), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/local/domain/1/data/z", "v"), 0);
	ck_assert(tg_xs_wait_event(&g, "data/z"));
	for (unsigned i = 0; i < g.nevents; i++)
		ck_assert_str_ne(g.events[i], "/local/domain/0/secret");
	/* duplicate watch */
	ck_assert_int_eq(tg_xs_watch(&g, "data", "tok"), -EEXIST);
	/* dom0 hears about the domain going away */
	ck_assert_int_eq(tg_xs_watch(&d0, "@releaseDomain", "rel"), 0);
	ck_assert(tg_xs_wait_event(&d0, "@releaseDomain"));
	char rep[8];
	uint32_t rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "1", 2, rep, &rl),
			 XS_IS_DOMAIN_INTRODUCED);
	ck_assert_str_eq(rep, "T");
	tg_close(&g);
	ck_assert(tg_xs_wait_event(&d0, "@releaseDomain"));
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "1", 2, rep, &rl),
			 XS_IS_DOMAIN_INTRODUCED);
	ck_assert_str_eq(rep, "F");
	char v[64];
	ck_assert_int_eq(tg_xs_read(&d0, 0, "/local/domain/1/name", v, sizeof(v)), -ENOENT);
	tg_close(&d0);
}
END_TEST

START_TEST(transactions)
{
	struct tguest g, d0;
	uint32_t tx;
	char v[64];
	ck_assert_int_eq(tg_connect(&g, sim.sock, "tx"), 0);
	ck_assert_int_eq(tg_xs_connect(&g), 0);
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	ck_assert_int_eq(tg_xs_write(&g, 0, "data/n", "1"), 0);
	/* snapshot: reads inside see the old value, writes are private */
	ck_assert_int_eq(tg_xs_tx_start(&g, &tx), 0);
	ck_assert_int_eq(tg_xs_read(&g, tx, "data/n", v, sizeof(v)), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/local/domain/1/data/n", "2"), 0);
	ck_assert_int_eq(tg_xs_read(&g, tx, "data/n", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(tg_xs_write(&g, tx, "data/m", "x"), 0);
	ck_assert_int_eq(tg_xs_read(&g, 0, "data/m", v, sizeof(v)), -ENOENT);
	/* a node it read changed: EAGAIN, nothing applied */
	ck_assert_int_eq(tg_xs_tx_end(&g, tx, true), -EAGAIN);
	ck_assert_int_eq(tg_xs_read(&g, 0, "data/m", v, sizeof(v)), -ENOENT);
	/* retry without interference commits, and fires the watch then */
	ck_assert_int_eq(tg_xs_watch(&d0, "/local/domain/1/data/m", "m"), 0);
	ck_assert(tg_xs_wait_event(&d0, "/local/domain/1/data/m"));
	ck_assert_int_eq(tg_xs_tx_start(&g, &tx), 0);
	ck_assert_int_eq(tg_xs_read(&g, tx, "data/n", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "2");
	ck_assert_int_eq(tg_xs_write(&g, tx, "data/m", "y"), 0);
	ck_assert_int_eq(tg_xs_tx_end(&g, tx, true), 0);
	ck_assert(tg_xs_wait_event(&d0, "/local/domain/1/data/m"));
	ck_assert_int_eq(tg_xs_read(&g, 0, "data/m", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "y");
	/* abort discards */
	ck_assert_int_eq(tg_xs_tx_start(&g, &tx), 0);
	ck_assert_int_eq(tg_xs_rm(&g, tx, "data/m"), 0);
	ck_assert_int_eq(tg_xs_tx_end(&g, tx, false), 0);
	ck_assert_int_eq(tg_xs_read(&g, 0, "data/m", v, sizeof(v)), 0);
	/* unknown transaction id, and a transaction inside one */
	ck_assert_int_eq(tg_xs_read(&g, 999, "data/m", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(tg_xs_tx_start(&g, &tx), 0);
	char rep[32];
	uint32_t rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, XS_TRANSACTION_START, tx, "", 1, rep, &rl), XS_ERROR);
	ck_assert_str_eq(rep, "EBUSY");
	ck_assert_int_eq(tg_xs_tx_end(&g, tx, true), 0);
	/* a transaction that creates a node someone else created: EAGAIN */
	ck_assert_int_eq(tg_xs_tx_start(&g, &tx), 0);
	ck_assert_int_eq(tg_xs_write(&g, tx, "data/new", "a"), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/local/domain/1/data/new", "b"), 0);
	ck_assert_int_eq(tg_xs_tx_end(&g, tx, true), -EAGAIN);
	ck_assert_int_eq(tg_xs_read(&g, 0, "data/new", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "b");
	tg_close(&g);
	tg_close(&d0);
}
END_TEST

START_TEST(protocol_errors_and_limits)
{
	struct tguest g;
	char rep[4200];
	uint32_t rl;
	ck_assert_int_eq(tg_connect(&g, sim.sock, "limits"), 0);
	ck_assert_int_eq(tg_xs_connect(&g), 0);
	/* unknown type */
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, 99, 0, "x", 2, rep, &rl), XS_ERROR);
	ck_assert_str_eq(rep, "ENOSYS");
	/* bad paths */
	ck_assert_int_eq(tg_xs_read(&g, 0, "/a//b", rep, sizeof(rep)), -EINVAL);
	ck_assert_int_eq(tg_xs_read(&g, 0, "/a/", rep, sizeof(rep)), -EINVAL);
	ck_assert_int_eq(tg_xs_read(&g, 0, "/a b", rep, sizeof(rep)), -EINVAL);
	/* READ with two strings */
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&g, XS_READ, 0, "a\0b", 4, rep, &rl), XS_ERROR);
	ck_assert_str_eq(rep, "EINVAL");
	/* a relative path longer than 2048 */
	char longp[2100];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "data/", 5);
	longp[2060] = 0;
	ck_assert_int_eq(tg_xs_write(&g, 0, longp, "x"), -EINVAL);
	/* an entry of 2048 bytes or more: ENOSPC for a domain */
	static char big[3000];
	memset(big, 'v', 2100);
	big[2100] = 0;
	ck_assert_int_eq(tg_xs_write(&g, 0, "data/big", big), -ENOSPC);
	big[1000] = 0;
	ck_assert_int_eq(tg_xs_write(&g, 0, "data/big", big), 0);
	/* transactions per connection */
	uint32_t tx;
	int r = 0;
	for (int i = 0; i < 20 && !r; i++)
		r = tg_xs_tx_start(&g, &tx);
	ck_assert_int_eq(r, -ENOSPC);
	/* a payload over 4096 bytes kills the connection */
	struct {
		uint32_t type, req, tx, len;
	} h = { XS_READ, 77, 0, 5000 };
	ck_assert_int_eq(write(g.xs, &h, sizeof(h)), (ssize_t)sizeof(h));
	char c;
	ck_assert_int_eq(read(g.xs, &c, 1), 0);
	tg_close(&g);
	/* the host lives on */
	ck_assert_int_eq(RUN("xenstore-read", "/local/domain/0/domid"), 0);
	ck_assert_str_eq(out, "0\n");
}
END_TEST

START_TEST(directory_part)
{
	struct tguest d0;
	char rep[4200];
	uint32_t rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/dp/aa", ""), 0);
	ck_assert_int_eq(tg_xs_write(&d0, 0, "/dp/bb", ""), 0);
	ck_assert_int_eq(tg_xs_raw(&d0, XS_DIRECTORY_PART, 0, "/dp\0" "0", 6, rep, &rl),
			 XS_DIRECTORY_PART);
	/* generation, then the names, then the empty string: complete */
	size_t gl = strlen(rep) + 1;
	ck_assert_uint_gt(gl, 1);
	ck_assert_uint_eq(rl, gl + 3 + 3 + 1);
	ck_assert_str_eq(rep + gl, "aa");
	ck_assert_str_eq(rep + gl + 3, "bb");
	rl = sizeof(rep);
	ck_assert_int_eq(tg_xs_raw(&d0, XS_DIRECTORY_PART, 0, "/dp\0" "3", 6, rep, &rl),
			 XS_DIRECTORY_PART);
	ck_assert_str_eq(rep + strlen(rep) + 1, "bb");
	tg_close(&d0);
}
END_TEST

/* raw bytes on a new connection; true if the host closed it */
static bool host_closes(const void *buf, size_t len)
{
	struct tguest g;
	ck_assert_int_eq(tg_xs_dom0(&g, sim.sock), 0); /* just a connection */
	ck_assert_int_eq(write(g.xs, buf, len), (ssize_t)len);
	char c[64];
	struct pollfd p = { g.xs, POLLIN, 0 };
	bool closed = false;
	/* replies may come first; EOF must follow within the deadline */
	while (poll(&p, 1, 10000) > 0) {
		ssize_t n = read(g.xs, c, sizeof(c));
		if (n <= 0) {
			closed = true;
			break;
		}
	}
	tg_close(&g);
	return closed;
}

START_TEST(hostif_malformed)
{
	struct {
		uint32_t magic;
		uint16_t type, flags;
		uint32_t seq, len;
		uint8_t payload[48];
	} m;
	memset(&m, 0, sizeof(m));
	m.magic = 0x4F495650u;
	/* a request before HELLO */
	m.type = 17;
	m.len = 8;
	ck_assert(host_closes(&m, 16 + 8));
	/* payload longer than 4096 */
	m.type = 1;
	m.len = 5000;
	ck_assert(host_closes(&m, 16));
	/* a short HELLO */
	m.len = 8;
	ck_assert(host_closes(&m, 16 + 8));
	/* an unknown type after a good HELLO */
	struct tguest g;
	ck_assert_int_eq(tg_connect(&g, sim.sock, "fuzz"), 0);
	ck_assert_int_eq(tg_request(&g, 55, NULL, 0, NULL, NULL, NULL, NULL), -EPIPE);
	tg_close(&g);
	/* bad magic after HELLO */
	ck_assert_int_eq(tg_connect(&g, sim.sock, "fuzz2"), 0);
	m.magic = 0x12345678;
	m.type = 16;
	m.len = 0;
	ck_assert_int_eq(write(g.fd, &m, 16), 16);
	char c;
	ck_assert_int_eq(read(g.fd, &c, 1), 0);
	tg_close(&g);
	/* requests with bad arguments get errors, not disconnection */
	ck_assert_int_eq(tg_connect(&g, sim.sock, "args"), 0);
	uint64_t mem[3] = { 0x1000, 0x2000, 0 };
	ck_assert_int_eq(tg_request(&g, 2, mem, sizeof(mem), NULL, NULL, NULL, NULL), -EBADF);
	uint32_t n[2] = { 0, 0 };
	ck_assert_int_eq(tg_request(&g, 17, n, sizeof(n), NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(tg_set_memory(&g, 1u << 20), 0);
	/* a grant table outside guest memory */
	struct {
		uint32_t n, pad;
		uint64_t gfn;
	} gt = { 1, 0, 0x5 };
	ck_assert_int_eq(tg_request(&g, 17, &gt, sizeof(gt), NULL, NULL, NULL, NULL), -EINVAL);
	uint32_t port = 99;
	ck_assert_int_eq(tg_request(&g, 19, &port, 4, NULL, NULL, NULL, NULL), -EINVAL);
	int s, u;
	ck_assert_int_eq(tg_evtchn_alloc(&g, 0x7FF5, &port, &s, &u), -EINVAL);
	ck_assert_int_eq(tg_evtchn_alloc(&g, 0, &port, &s, &u), 0);
	ck_assert_uint_eq(port, 1);
	ck_assert_int_eq(tg_request(&g, 19, &port, 4, NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(tg_request(&g, 19, &port, 4, NULL, NULL, NULL, NULL), -EINVAL);
	close(s);
	close(u);
	/* SIM_CTL is for management connections only */
	ck_assert_int_eq(tg_request(&g, 100, "status", 7, NULL, NULL, NULL, NULL), -EPERM);
	tg_close(&g);
	/* a client that stops in the middle of a message stalls only itself */
	ck_assert_int_eq(tg_connect(&g, sim.sock, "stall"), 0);
	ck_assert_int_eq(write(g.fd, &m, 7), 7);
	ck_assert_int_eq(RUN("xenstore-read", "/local/domain/0/domid"), 0);
	ck_assert_str_eq(out, "0\n");
	tg_close(&g);
	ck_assert_int_eq(tsim_ctl(&sim, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "xenstore:"));
}
END_TEST

int main(void)
{
	if (system("command -v xenstore-read >/dev/null 2>&1") != 0) {
		fprintf(stderr, "simxen_xenstore: xenstore-utils is not installed; run scripts/deps.sh\n");
		return 77;
	}
	Suite *s = suite_create("simxen_xenstore");
	TCase *tc = tcase_create("xenstored");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, utils_write_read_ls_rm);
	tcase_add_test(tc, utils_watch_fires);
	tcase_add_test(tc, domain_permissions);
	tcase_add_test(tc, domain_watches_relative);
	tcase_add_test(tc, transactions);
	tcase_add_test(tc, protocol_errors_and_limits);
	tcase_add_test(tc, directory_part);
	tcase_add_test(tc, hostif_malformed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
