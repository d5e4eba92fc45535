/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/peers.c - real vhost-user peers for tests (see peers.h).
 */
#include "peers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Peers still running, stopped at exit (test code: process-wide state). */
#define MAX_LIVE 16
static struct peer *live[MAX_LIVE];
static int atexit_done;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void stop_all(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i])
			peer_stop(live[i], 2000);
}

static void track(struct peer *p, int add)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (add && !live[i]) {
			live[i] = p;
			break;
		}
		if (!add && live[i] == p)
			live[i] = NULL;
	}
	if (add && !atexit_done) {
		atexit(stop_all);
		atexit_done = 1;
	}
}

int peer_mkdtemp(char *out, size_t n)
{
	const char *t = getenv("TMPDIR");
	if (!t || !*t)
		t = "/tmp";
	if ((size_t)snprintf(out, n, "%s/pvio-peer-XXXXXX", t) >= n)
		return -ENAMETOOLONG;
	return mkdtemp(out) ? 0 : -errno;
}

void peer_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[600];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

const char *peer_log_tail(const struct peer *p)
{
	static char buf[2048];
	buf[0] = 0;
	int fd = open(p->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "(no log)";
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

const char *peer_address(const struct peer *p, const char *opts, char *buf,
			 size_t n)
{
	snprintf(buf, n, "vhost-user:%s%s%s", p->sock, opts && *opts ? "?" : "",
		 opts ? opts : "");
	return buf;
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static pid_t spawn(struct peer *p, char *const argv[])
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* child: die with the test, log to a file, no inherited fds */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	int lfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int nfd = open("/dev/null", O_RDONLY);
	if (lfd < 0 || nfd < 0)
		_exit(126);
	dup2(nfd, 0);
	dup2(lfd, 1);
	dup2(lfd, 2);
	syscall(SYS_close_range, 3u, ~0u, 0u);
	if (chdir(p->dir) < 0)
		_exit(126);
	execvp(argv[0], argv);
	dprintf(2, "exec %s: %s (run scripts/deps.sh to install it)\n", argv[0],
		strerror(errno));
	_exit(127);
}

/* Is path a listening unix socket (/proc/net/unix: flags __SO_ACCEPTCON)? */
static int listening(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[1024];
	int found = 0;
	size_t pl = strlen(path);
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);
		while (l && (line[l - 1] == '\n' || line[l - 1] == ' '))
			line[--l] = 0;
		if (l < pl + 1 || strcmp(line + l - pl, path) || line[l - pl - 1] != ' ')
			continue;
		unsigned long flags = 0;
		char *s = strchr(line, ':');
		if (s && sscanf(s + 1, "%*x %*x %lx", &flags) == 1 &&
		    (flags & 0x10000))
			found = 1;
	}
	fclose(f);
	return found;
}

/* Wait until the socket listens, the peer dies, or timeout. */
static int wait_ready(struct peer *p, unsigned timeout_ms)
{
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int pfd = pidfd_of(p->pid);
	uint64_t end = now_ms() + timeout_ms;
	int ret = -ETIMEDOUT;
	if (in >= 0)
		inotify_add_watch(in, p->dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB);
	for (;;) {
		if (listening(p->sock)) {
			ret = 0;
			break;
		}
		int st;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->status = st;
			p->pid = 0;
			ret = -ECHILD;
			break;
		}
		uint64_t t = now_ms();
		if (t >= end)
			break;
		/* the socket file appearing (inotify) or the peer exiting
		 * (pidfd) wakes us; listen() follows bind() without a file
		 * event, so look again after at most 10 ms */
		struct pollfd fds[2] = { { in, POLLIN, 0 }, { pfd, POLLIN, 0 } };
		unsigned left = (unsigned)(end - t);
		poll(fds, 2, left < 10 ? (int)left : 10);
		char ev[4096];
		if (in >= 0)
			while (read(in, ev, sizeof(ev)) > 0)
				;
	}
	if (in >= 0)
		close(in);
	if (pfd >= 0)
		close(pfd);
	return ret;
}

static struct peer *peer_new(const char *name)
{
	struct peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (peer_mkdtemp(p->dir, sizeof(p->dir)) < 0) {
		fprintf(stderr, "peers: cannot create a temporary directory: %s\n",
			strerror(errno));
		free(p);
		return NULL;
	}
	snprintf(p->sock, sizeof(p->sock), "%s/vhost.sock", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/peer.log", p->dir);
	return p;
}

static int keep_argv(struct peer *p, char *const argv[])
{
	size_t off = 0;
	unsigned i = 0;
	for (; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;
		if (i + 1 >= sizeof(p->argv) / sizeof(p->argv[0]) ||
		    off + n > sizeof(p->argbuf))
			return -E2BIG;
		memcpy(p->argbuf + off, argv[i], n);
		p->argv[i] = p->argbuf + off;
		off += n;
	}
	p->argv[i] = NULL;
	return 0;
}

static struct peer *launch(struct peer *p, char *const argv[],
			   unsigned timeout_ms)
{
	if (keep_argv(p, argv) < 0) {
		fprintf(stderr, "peers: command line too long\n");
		peer_rmtree(p->dir);
		free(p);
		return NULL;
	}
	p->pid = spawn(p, p->argv);
	if (p->pid < 0) {
		fprintf(stderr, "peers: fork: %s\n", strerror(errno));
		peer_rmtree(p->dir);
		free(p);
		return NULL;
	}
	track(p, 1);
	int r = wait_ready(p, timeout_ms);
	if (r < 0) {
		fprintf(stderr, "peers: %s %s (%s); its log:\n%s\n", p->name,
			r == -ECHILD ? "exited before listening"
				     : "did not listen in time",
			p->sock, peer_log_tail(p));
		peer_stop(p, 2000);
		return NULL;
	}
	return p;
}

struct peer *peer_qsd_start(const struct peer_qsd_opts *o, unsigned timeout_ms)
{
	struct peer_qsd_opts d = { 0 };
	if (!o)
		o = &d;
	struct peer *p = peer_new("qemu-storage-daemon");
	if (!p)
		return NULL;
	snprintf(p->image, sizeof(p->image), "%s/disk.img", p->dir);
	int fd = open(p->image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 ||
	    ftruncate(fd, (off_t)(o->image_size ? o->image_size : 64u << 20)) < 0) {
		fprintf(stderr, "peers: cannot create %s: %s\n", p->image,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		peer_rmtree(p->dir);
		free(p);
		return NULL;
	}
	close(fd);

	char blockdev[400], export[600], extra[80] = "";
	snprintf(blockdev, sizeof(blockdev),
		 "driver=file,node-name=file,filename=%s,discard=unmap", p->image);
	if (o->num_queues)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 ",num-queues=%u", o->num_queues);
	if (o->logical_block_size)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 ",logical-block-size=%u", o->logical_block_size);
	snprintf(export, sizeof(export),
		 "type=vhost-user-blk,id=exp,node-name=file,addr.type=unix,"
		 "addr.path=%s,writable=%s%s",
		 p->sock, o->read_only ? "off" : "on", extra);
	char *argv[] = { "qemu-storage-daemon", "--blockdev", blockdev,
			 "--export", export, NULL };
	return launch(p, argv, timeout_ms);
}

struct peer *peer_testpmd_start(const struct peer_testpmd_opts *o,
				unsigned timeout_ms)
{
	unsigned q = o && o->queues ? o->queues : 1;
	struct peer *p = peer_new("dpdk-testpmd");
	if (!p)
		return NULL;
	snprintf(p->prefix, sizeof(p->prefix), "pvio%d", (int)getpid());
	char vdev[400], prefix[80], rxq[32], txq[32];
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,client=0,queues=%u",
		 p->sock, q);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", p->prefix);
	snprintf(rxq, sizeof(rxq), "--rxq=%u", q);
	snprintf(txq, sizeof(txq), "--txq=%u", q);
	/* one forwarding lcore; both on CPU 0 when there is only one CPU */
	const char *lc = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "--lcores=0@0,1@1"
							    : "--lcores=0@0,1@0";
	char *argv[] = { "dpdk-testpmd", "--no-huge", "-m", "512", "--no-pci",
			 "--no-shconf", "--no-telemetry", prefix, (char *)lc,
			 "--vdev", vdev, "--", "--total-num-mbufs=4096",
			 "--stats-period", "60", "--forward-mode=io", rxq, txq,
			 /* frames sent before forwarding starts wait in the
			  * ring instead of being flushed away */
			 "--no-flush-rx",
			 NULL };
	return launch(p, argv, timeout_ms);
}

/* s with every "@SOCK@" and "@DIR@" replaced, into out. */
static int expand(const struct peer *p, const char *s, char *out, size_t n)
{
	size_t o = 0;
	while (*s) {
		const char *rep = NULL;
		size_t skip = 1;
		if (!strncmp(s, "@SOCK@", 6)) {
			rep = p->sock;
			skip = 6;
		} else if (!strncmp(s, "@DIR@", 5)) {
			rep = p->dir;
			skip = 5;
		}
		size_t l = rep ? strlen(rep) : 1;
		if (o + l + 1 > n)
			return -E2BIG;
		memcpy(out + o, rep ? rep : s, l);
		o += l;
		s += skip;
	}
	out[o] = 0;
	return 0;
}

struct peer *peer_cmd_start(const char *name, const char *const argv[],
			    unsigned timeout_ms)
{
	struct peer *p = peer_new(name);
	if (!p)
		return NULL;
	static char bufs[24][600];
	char *av[24];
	unsigned i = 0;
	for (; argv[i]; i++) {
		if (i + 1 >= 24 || expand(p, argv[i], bufs[i], sizeof(bufs[i])) < 0) {
			fprintf(stderr, "peers: command line too long\n");
			peer_rmtree(p->dir);
			free(p);
			return NULL;
		}
		av[i] = bufs[i];
	}
	av[i] = NULL;
	return launch(p, av, timeout_ms);
}

int peer_restart(struct peer *p, unsigned timeout_ms)
{
	if (!p || p->pid > 0)
		return -EBUSY;
	/* a killed peer leaves its socket file behind */
	unlink(p->sock);
	p->pid = spawn(p, p->argv);
	if (p->pid < 0) {
		p->pid = 0;
		return -errno;
	}
	int r = wait_ready(p, timeout_ms);
	if (r < 0)
		fprintf(stderr, "peers: %s did not come back (%s); its log:\n%s\n",
			p->name, p->sock, peer_log_tail(p));
	return r;
}

int peer_signal(struct peer *p, int sig)
{
	if (!p || p->pid <= 0)
		return -ESRCH;
	return kill(p->pid, sig) < 0 ? -errno : 0;
}

int peer_wait_exit(struct peer *p, unsigned timeout_ms)
{
	if (!p->pid)
		return 0;
	int pfd = pidfd_of(p->pid);
	uint64_t end = now_ms() + timeout_ms;
	int ret = -ETIMEDOUT;
	for (;;) {
		int st;
		pid_t r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			p->status = r == p->pid ? st : -1;
			p->pid = 0;
			ret = 0;
			break;
		}
		uint64_t t = now_ms();
		if (t >= end)
			break;
		struct pollfd f = { pfd, POLLIN, 0 };
		poll(&f, pfd >= 0 ? 1 : 0, (int)(end - t));
	}
	if (pfd >= 0)
		close(pfd);
	return ret;
}

int peer_stop(struct peer *p, unsigned timeout_ms)
{
	if (!p)
		return -1;
	if (p->pid > 0) {
		kill(p->pid, SIGCONT); /* in case a test stopped it */
		kill(p->pid, SIGTERM);
		if (peer_wait_exit(p, timeout_ms) < 0) {
			kill(p->pid, SIGKILL);
			peer_wait_exit(p, 5000);
		}
	}
	int st = p->status;
	track(p, 0);
	peer_rmtree(p->dir);
	if (p->prefix[0]) {
		char rd[128];
		snprintf(rd, sizeof(rd), "/var/run/dpdk/%s", p->prefix);
		peer_rmtree(rd);
	}
	free(p);
	return st;
}
