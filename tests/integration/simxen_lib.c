/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simxen_lib.c - the test-only Xen guest and the
 * helpers that run `pvio sim xen` and xenstore-utils for the simxen_*
 * tests (see simxen_lib.h).
 */
#include "simxen_lib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define HOSTIF_MAGIC 0x4F495650u

struct hhdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *pvio_path(void)
{
	const char *p = getenv("PVIO");
	return p && *p ? p : "./pvio";
}

/* ------------------------------------------------------------ processes */

/* A test that fails exits at once (Check, fork mode): stop the host and
 * remove its directory from an exit handler then. */
static struct tsim *running;

static void at_exit_stop(void)
{
	if (running)
		tsim_stop(running);
}

int tsim_prepare(struct tsim *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/simxen-XXXXXX");
	if (!mkdtemp(s->dir)) {
		s->dir[0] = 0;
		return -1;
	}
	snprintf(s->sock, sizeof(s->sock), "%s/x.sock", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/sim.log", s->dir);
	return 0;
}

int tsim_start(struct tsim *s, const char *const *args)
{
	int pfd[2];
	static bool registered;
	if (!registered) {
		atexit(at_exit_stop);
		registered = true;
	}
	if (!s->dir[0] && tsim_prepare(s))
		return -1;
	running = s;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	const char *argv[64];
	char expanded[32][256];
	int n = 0, e = 0;
	argv[n++] = pvio_path();
	argv[n++] = "sim";
	argv[n++] = "xen";
	argv[n++] = "--socket";
	argv[n++] = s->sock;
	for (int i = 0; args && args[i] && n < 62 && e < 32; i++) {
		const char *a = args[i], *at = strstr(a, "@DIR@");
		if (at) {
			snprintf(expanded[e], sizeof(expanded[e]), "%.*s%s%s",
				 (int)(at - a), a, s->dir, at + 5);
			argv[n++] = expanded[e++];
		} else {
			argv[n++] = a;
		}
	}
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int log = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(pfd[1], 1);
		if (log >= 0)
			dup2(log, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	s->pid = pid;
	char line[512];
	size_t got = 0;
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int left = (int)(end - now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t r = read(pfd[0], line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	line[got] = 0;
	if (strncmp(line, "pvio-sim-xen ready socket=", 26)) {
		fprintf(stderr, "simxen: the simulated host did not start (got '%s'); its log:\n", line);
		char buf[4096];
		int fd = open(s->log, O_RDONLY);
		if (fd >= 0) {
			ssize_t r = read(fd, buf, sizeof(buf) - 1);
			if (r > 0) {
				buf[r] = 0;
				fputs(buf, stderr);
			}
			close(fd);
		}
		tsim_stop(s);
		return -1;
	}
	return 0;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

int tsim_stop(struct tsim *s)
{
	int status = -1;
	if (running == s)
		running = NULL;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		uint64_t end = now_ms() + 5000;
		pid_t r = 0;
		while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < end) {
			struct timespec ts = { 0, 10 * 1000000 };
			nanosleep(&ts, NULL);
		}
		if (r == 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			status = -1;
		}
		s->pid = 0;
	}
	if (getenv("SIMXEN_KEEP_LOG")) {
		char buf[65536];
		int fd = open(s->log, O_RDONLY);
		if (fd >= 0) {
			ssize_t r = read(fd, buf, sizeof(buf) - 1);
			if (r > 0) {
				buf[r] = 0;
				fputs(buf, stderr);
			}
			close(fd);
		}
	}
	if (s->dir[0])
		rm_tree(s->dir);
	s->dir[0] = 0;
	if (status >= 0 && WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

static int run_capture(const char *const *argv, const char *xs_path,
		       char *out, size_t len)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (xs_path)
			setenv("XENSTORED_PATH", xs_path, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t got = 0;
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	char sink[256];
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int left = (int)(end - now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t r;
		if (out && got + 1 < len)
			r = read(pfd[0], out + got, len - 1 - got);
		else
			r = read(pfd[0], sink, sizeof(sink));
		if (r <= 0)
			break;
		if (out && got + 1 < len)
			got += (size_t)r;
	}
	close(pfd[0]);
	if (out && len)
		out[got] = 0;
	int status;
	uint64_t wend = now_ms() + 2000;
	pid_t r;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < wend) {
		struct timespec ts = { 0, 5 * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tsim_run(struct tsim *s, char *out, size_t len, const char *const *argv)
{
	return run_capture(argv, s->sock, out, len);
}

int tsim_ctl(struct tsim *s, const char *cmd, char *out, size_t len)
{
	char buf[256];
	const char *argv[16];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", cmd);
	argv[n++] = pvio_path();
	argv[n++] = "sim";
	argv[n++] = "ctl";
	argv[n++] = s->sock;
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 15;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	return run_capture(argv, NULL, out, len);
}

bool tsim_wait_status(struct tsim *s, const char *needle)
{
	static char out[65536];
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	do {
		if (tsim_ctl(s, "status", out, sizeof(out)) == 0 && strstr(out, needle))
			return true;
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	} while (now_ms() < end);
	fprintf(stderr, "simxen: status never showed '%s'; last status:\n%s\n",
		needle, out);
	return false;
}

/* ------------------------------------------------------------ hostif */

static int wait_in(int fd, uint64_t end)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int left = (int)(end - now_ms());
	if (left <= 0)
		return -ETIMEDOUT;
	int r = poll(&p, 1, left);
	return r > 0 ? 0 : -ETIMEDOUT;
}

static int read_full(int fd, void *buf, size_t len, uint64_t end, int *fds,
		     int *nfds)
{
	size_t got = 0;
	while (got < len) {
		if (wait_in(fd, end))
			return -ETIMEDOUT;
		union {
			char b[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr a;
		} u;
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_type != SCM_RIGHTS)
				continue;
			int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int tmp[4];
			if (cnt > 4)
				cnt = 4;
			memcpy(tmp, CMSG_DATA(c), sizeof(int) * (size_t)cnt);
			for (int i = 0; i < cnt; i++) {
				if (fds && nfds && *nfds < 4)
					fds[(*nfds)++] = tmp[i];
				else
					close(tmp[i]);
			}
		}
		got += (size_t)r;
	}
	return 0;
}

static int send_msg(int fd, const void *h, size_t hl, const void *p,
		    size_t pl, const int *fds, int nfds)
{
	char buf[16 + 4096 + 64];
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr a;
	} u;
	memcpy(buf, h, hl);
	if (pl)
		memcpy(buf + hl, p, pl);
	struct iovec iov = { buf, hl + pl };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	return r == (ssize_t)(hl + pl) ? 0 : -EPIPE;
}

static int hostif_connect(const char *sock)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int request_fds(struct tguest *g, uint16_t type, const void *p,
		       uint32_t len, const int *sfds, int snfds, void *rep,
		       uint32_t *rlen, int *fds, int *nfds)
{
	struct hhdr h = { HOSTIF_MAGIC, type, 0, ++g->seq, len };
	if (nfds)
		*nfds = 0;
	if (send_msg(g->fd, &h, sizeof(h), p, len, sfds, snfds))
		return -EPIPE;
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	for (;;) {
		struct hhdr r;
		uint8_t buf[4096];
		int tmpn = 0, tmpf[4];
		int e = read_full(g->fd, &r, sizeof(r), end, tmpf, &tmpn);
		if (!e && r.len > sizeof(buf))
			e = -EPROTO;
		if (!e)
			e = read_full(g->fd, buf, r.len, end, tmpf, &tmpn);
		if (e)
			return e;
		if (!(r.flags & 1) || r.seq != h.seq || r.len < 4) {
			for (int i = 0; i < tmpn; i++)
				close(tmpf[i]);
			continue;
		}
		int32_t st;
		memcpy(&st, buf, 4);
		if (rep && rlen) {
			uint32_t n = r.len - 4 < *rlen ? r.len - 4 : *rlen;
			memcpy(rep, buf + 4, n);
			*rlen = n;
		}
		for (int i = 0; i < tmpn; i++) {
			if (fds && nfds)
				fds[(*nfds)++] = tmpf[i];
			else
				close(tmpf[i]);
		}
		return st;
	}
}

int tg_request(struct tguest *g, uint16_t type, const void *p, uint32_t len,
	       void *rep, uint32_t *rlen, int *fds, int *nfds)
{
	return request_fds(g, type, p, len, NULL, 0, rep, rlen, fds, nfds);
}

int tg_connect(struct tguest *g, const char *sock, const char *name)
{
	memset(g, 0, sizeof(*g));
	g->xs = -1;
	g->memfd = -1;
	g->fd = hostif_connect(sock);
	if (g->fd < 0)
		return g->fd;
	struct {
		uint32_t ver, role;
		char name[32];
	} hello = { 1, 0, { 0 } };
	snprintf(hello.name, sizeof(hello.name), "%s", name);
	uint32_t dom = 0, rl = 4;
	int r = tg_request(g, 1, &hello, sizeof(hello), &dom, &rl, NULL, NULL);
	if (r)
		return r;
	g->domid = dom;
	return 0;
}

void tg_close(struct tguest *g)
{
	if (g->xs >= 0)
		close(g->xs);
	if (g->fd >= 0)
		close(g->fd);
	if (g->mem)
		munmap(g->mem, g->size);
	if (g->memfd >= 0)
		close(g->memfd);
	g->xs = g->fd = g->memfd = -1;
	g->mem = NULL;
}

int tg_set_memory(struct tguest *g, uint64_t size)
{
	g->memfd = memfd_create("simxen-guest", MFD_CLOEXEC);
	if (g->memfd < 0 || ftruncate(g->memfd, (off_t)size) < 0)
		return -errno;
	g->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return -errno;
	}
	g->size = size;
	g->gpa = 0x100000000ull;
	g->next = 0;
	uint64_t p[3] = { g->gpa, size, 0 };
	return request_fds(g, 2, p, sizeof(p), &g->memfd, 1, NULL, NULL, NULL,
			   NULL);
}

uint8_t *tg_alloc_page(struct tguest *g, uint64_t *gfn)
{
	if (g->next + 4096 > g->size)
		return NULL;
	uint8_t *p = g->mem + g->next;
	memset(p, 0, 4096);
	*gfn = (g->gpa + g->next) >> 12;
	g->next += 4096;
	return p;
}

int tg_gnttab_setup(struct tguest *g, uint32_t frames)
{
	struct {
		uint32_t n, pad;
		uint64_t gfn[32];
	} req = { frames, 0, { 0 } };
	for (uint32_t i = 0; i < frames; i++) {
		uint8_t *p = tg_alloc_page(g, &req.gfn[i]);
		if (!p)
			return -ENOMEM;
		if (i == 0)
			g->gnttab = p;
	}
	g->gnt_frames = frames;
	g->next_ref = 8;
	return tg_request(g, 17, &req, 8 + 8 * frames, NULL, NULL, NULL, NULL);
}

void tg_gnt_set(struct tguest *g, uint32_t ref, uint16_t flags, uint16_t domid,
		uint32_t frame)
{
	uint8_t *e = g->gnttab + ref * 8u;
	__atomic_store_n((uint16_t *)(e + 2), domid, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(e + 4), frame, __ATOMIC_RELAXED);
	__atomic_store_n((uint16_t *)e, flags, __ATOMIC_RELEASE);
}

uint32_t tg_grant(struct tguest *g, uint64_t gfn, uint16_t domid, bool ro)
{
	uint32_t ref = g->next_ref++;
	tg_gnt_set(g, ref, (uint16_t)(1u | (ro ? 4u : 0u)), domid, (uint32_t)gfn);
	return ref;
}

uint16_t tg_gnt_flags(struct tguest *g, uint32_t ref)
{
	return __atomic_load_n((uint16_t *)(g->gnttab + ref * 8u), __ATOMIC_ACQUIRE);
}

int tg_evtchn_alloc(struct tguest *g, uint32_t remote, uint32_t *port,
		    int *send_fd, int *up_fd)
{
	int fds[4], n = 0;
	uint32_t rl = 4;
	int r = tg_request(g, 18, &remote, 4, port, &rl, fds, &n);
	if (r)
		return r;
	if (n != 2)
		return -EPROTO;
	*send_fd = fds[0];
	*up_fd = fds[1];
	return 0;
}

static int dev_req(struct tguest *g, uint16_t type, const char *t, uint32_t devid)
{
	struct {
		char type[8];
		uint32_t devid;
	} p;
	memset(&p, 0, sizeof(p));
	snprintf(p.type, sizeof(p.type), "%s", t);
	p.devid = devid;
	return tg_request(g, type, &p, sizeof(p), NULL, NULL, NULL, NULL);
}

int tg_attach(struct tguest *g, const char *type, uint32_t devid)
{
	return dev_req(g, 20, type, devid);
}

int tg_detach(struct tguest *g, const char *type, uint32_t devid)
{
	return dev_req(g, 21, type, devid);
}

void tg_kick(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, 8) != 8)
		perror("simxen: kick");
}

bool tg_wait_upcall(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	uint64_t v;
	return read(fd, &v, 8) == 8;
}

/* ------------------------------------------------------------ xenstore */

int tg_xs_dom0(struct tguest *g, const char *sock)
{
	memset(g, 0, sizeof(*g));
	g->fd = g->memfd = -1;
	g->xs = hostif_connect(sock);
	return g->xs < 0 ? g->xs : 0;
}

int tg_xs_connect(struct tguest *g)
{
	int fds[4], n = 0;
	int r = tg_request(g, 16, NULL, 0, NULL, NULL, fds, &n);
	if (r)
		return r;
	if (n != 1)
		return -EPROTO;
	g->xs = fds[0];
	return 0;
}

static int xs_read_msg(struct tguest *g, struct xsd_sockmsg *h, char *buf,
		       uint64_t end)
{
	int e = read_full(g->xs, h, sizeof(*h), end, NULL, NULL);
	if (e)
		return e;
	if (h->len > XENSTORE_PAYLOAD_MAX)
		return -EPROTO;
	e = read_full(g->xs, buf, h->len, end, NULL, NULL);
	if (e)
		return e;
	buf[h->len] = 0;
	if (h->type == XS_WATCH_EVENT) {
		if (g->nevents < 32)
			snprintf(g->events[g->nevents++], sizeof(g->events[0]), "%s", buf);
		return 1;
	}
	return 0;
}

int tg_xs_raw(struct tguest *g, uint32_t type, uint32_t tx, const void *p,
	      uint32_t len, char *rep, uint32_t *rlen)
{
	struct xsd_sockmsg h = { type, ++g->xs_req, tx, len };
	if (send_msg(g->xs, &h, sizeof(h), p, len, NULL, 0))
		return -EPIPE;
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	for (;;) {
		struct xsd_sockmsg r;
		static char buf[XENSTORE_PAYLOAD_MAX + 1];
		int e = xs_read_msg(g, &r, buf, end);
		if (e < 0)
			return e;
		if (e == 1)
			continue;
		if (r.req_id != h.req_id)
			continue;
		if (rep && rlen) {
			uint32_t n = r.len < *rlen ? r.len : *rlen;
			memcpy(rep, buf, n);
			*rlen = n;
		}
		return (int)r.type;
	}
}

int tg_errno_of(const char *name)
{
	static const struct {
		const char *n;
		int e;
	} t[] = { { "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
		  { "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
		  { "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
		  { "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
		  { "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
		  { "EPERM", EPERM } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].n, name))
			return t[i].e;
	return 9999;
}

static int xs_simple(struct tguest *g, uint32_t type, uint32_t tx,
		     const void *p, uint32_t len, char *out, size_t outlen)
{
	char rep[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t rl = XENSTORE_PAYLOAD_MAX;
	int t = tg_xs_raw(g, type, tx, p, len, rep, &rl);
	if (t < 0)
		return t;
	rep[rl] = 0;
	if (t == XS_ERROR)
		return -tg_errno_of(rep);
	if ((uint32_t)t != type)
		return -EPROTO;
	if (out && outlen) {
		size_t n = rl < outlen - 1 ? rl : outlen - 1;
		memcpy(out, rep, n);
		out[n] = 0;
	}
	return 0;
}

int tg_xs_read(struct tguest *g, uint32_t tx, const char *path, char *val,
	       size_t len)
{
	return xs_simple(g, XS_READ, tx, path, (uint32_t)strlen(path) + 1, val, len);
}

int tg_xs_write(struct tguest *g, uint32_t tx, const char *path,
		const char *val)
{
	char buf[4096];
	size_t pl = strlen(path) + 1, vl = strlen(val);
	if (pl + vl > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	return xs_simple(g, XS_WRITE, tx, buf, (uint32_t)(pl + vl), NULL, 0);
}

int tg_xs_rm(struct tguest *g, uint32_t tx, const char *path)
{
	return xs_simple(g, XS_RM, tx, path, (uint32_t)strlen(path) + 1, NULL, 0);
}

int tg_xs_watch(struct tguest *g, const char *path, const char *token)
{
	char buf[1024];
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	return xs_simple(g, XS_WATCH, 0, buf, (uint32_t)(pl + tl), NULL, 0);
}

int tg_xs_tx_start(struct tguest *g, uint32_t *tx)
{
	char out[32];
	int r = xs_simple(g, XS_TRANSACTION_START, 0, "", 1, out, sizeof(out));
	if (!r)
		*tx = (uint32_t)strtoul(out, NULL, 10);
	return r;
}

int tg_xs_tx_end(struct tguest *g, uint32_t tx, bool commit)
{
	return xs_simple(g, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, 0);
}

bool tg_xs_wait_event(struct tguest *g, const char *path)
{
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	for (;;) {
		for (unsigned i = 0; i < g->nevents; i++)
			if (!strcmp(g->events[i], path)) {
				memmove(&g->events[i], &g->events[i + 1],
					sizeof(g->events[0]) * (g->nevents - i - 1));
				g->nevents--;
				return true;
			}
		struct xsd_sockmsg r;
		static char buf[XENSTORE_PAYLOAD_MAX + 1];
		int e = xs_read_msg(g, &r, buf, end);
		if (e < 0)
			return false;
	}
}

static bool wait_cond(struct tguest *g, const char *path, const char *value)
{
	char tok[64], v[256];
	static unsigned serial;
	snprintf(tok, sizeof(tok), "wait%u", ++serial);
	if (tg_xs_watch(g, path, tok))
		return false;
	uint64_t end = now_ms() + TG_TIMEOUT_MS;
	bool ok = false;
	while (now_ms() < end) {
		int rr = tg_xs_read(g, 0, path, v, sizeof(v));
		if (value ? !rr && !strcmp(v, value) : rr == -ENOENT) {
			ok = true;
			break;
		}
		/* any message (or none within the deadline) */
		struct xsd_sockmsg r;
		static char buf[XENSTORE_PAYLOAD_MAX + 1];
		int e = xs_read_msg(g, &r, buf, end);
		if (e < 0)
			break;
	}
	for (unsigned i = 0; i < g->nevents;) {
		if (!strcmp(g->events[i], path)) {
			memmove(&g->events[i], &g->events[i + 1],
				sizeof(g->events[0]) * (g->nevents - i - 1));
			g->nevents--;
		} else {
			i++;
		}
	}
	char ub[512];
	size_t pl = strlen(path) + 1, tl = strlen(tok) + 1;
	memcpy(ub, path, pl);
	memcpy(ub + pl, tok, tl);
	xs_simple(g, XS_UNWATCH, 0, ub, (uint32_t)(pl + tl), NULL, 0);
	return ok;
}

bool tg_xs_wait_value(struct tguest *g, const char *path, const char *value)
{
	return wait_cond(g, path, value);
}

bool tg_xs_wait_absent(struct tguest *g, const char *path)
{
	return wait_cond(g, path, NULL);
}
