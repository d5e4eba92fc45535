/* SPDX-License-Identifier: MIT */
/* tests/interop/fakeuio.c - see fakeuio.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakeuio.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fakeuio: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	_exit(126);
}

static void bind(const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("bind %s on %s", src, dst);
}

/* Cover dir with a tmpfs holding every entry it had (bound back), after
 * keeping the original under keep. */
static void cover(const char *dir, const char *keep)
{
	if (mkdir(keep, 0700) < 0)
		die("mkdir %s", keep);
	bind(dir, keep);
	if (mount("none", dir, "tmpfs", 0, "mode=0755") < 0)
		die("tmpfs on %s", dir);
	DIR *d = opendir(keep);
	if (!d)
		die("opendir %s", keep);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char src[512], dst[512], link[512];
		snprintf(src, sizeof(src), "%s/%s", keep, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(src, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(src, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = 0;
			if (symlink(link, dst) < 0)
				die("symlink %s", dst);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, 0755) < 0)
				die("mkdir %s", dst);
		} else {
			int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
			if (fd < 0)
				die("create %s", dst);
			close(fd);
		}
		bind(src, dst);
	}
	closedir(d);
}

static void make_namespace(const char *dir, unsigned nuio)
{
	char ns[300], keep[320], path[320];
	if (unshare(CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	/* scratch space of this namespace only */
	snprintf(ns, sizeof(ns), "%s/.ns", dir);
	if (mount("none", ns, "tmpfs", 0, "mode=0700") < 0)
		die("tmpfs on %s", ns);
	snprintf(keep, sizeof(keep), "%s/sysbus", ns);
	cover("/sys/bus", keep);
	if (mkdir("/sys/bus/vmbus", 0755) < 0 && errno != EEXIST)
		die("mkdir /sys/bus/vmbus");
	snprintf(path, sizeof(path), "%s/vmbus", dir);
	bind(path, "/sys/bus/vmbus");
	snprintf(keep, sizeof(keep), "%s/dev", ns);
	cover("/dev", keep);
	for (unsigned i = 0; i < nuio; i++) {
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/uio%u", i);
		int fd = open(dev, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			die("create %s", dev);
		close(fd);
		snprintf(path, sizeof(path), "%s/dev/uio%u", dir, i);
		bind(path, dev);
	}
}

int fu_spawn(struct fu_child *c, const char *dir, unsigned nuio,
	     char *const argv[], int (*fn)(void *), void *arg)
{
	int in[2], out[2];
	memset(c, 0, sizeof(*c));
	c->in = c->out = -1;
	snprintf(c->log, sizeof(c->log), "%s/child-%ld.log", dir,
		 (long)now_ms());
	char ns[300];
	snprintf(ns, sizeof(ns), "%s/.ns", dir);
	if (mkdir(ns, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int lfd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (lfd >= 0)
			dup2(lfd, 2);
		make_namespace(dir, nuio);
		if (argv) {
			execv(argv[0], argv);
			die("exec %s", argv[0]);
		}
		_exit(fn(arg));
	}
	close(in[0]);
	close(out[1]);
	c->pid = pid;
	c->in = in[1];
	c->out = out[0];
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int fu_say(struct fu_child *c, const char *line)
{
	size_t n = strlen(line);
	if (write(c->in, line, n) != (ssize_t)n || write(c->in, "\n", 1) != 1)
		return -errno;
	return 0;
}

/* A complete line starting at seen, or NULL. */
static char *next_line(struct fu_child *c, size_t *llen)
{
	char *s = c->buf + c->seen;
	char *nl = memchr(s, '\n', c->len - c->seen);
	if (!nl)
		return NULL;
	*llen = (size_t)(nl - s);
	c->seen += *llen + 1;
	return s;
}

int fu_expect(struct fu_child *c, const char *prefix, char *out, size_t cap,
	      int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	size_t pl = strlen(prefix);
	for (;;) {
		size_t ll;
		char *l;
		while ((l = next_line(c, &ll))) {
			if (ll >= pl && !memcmp(l, prefix, pl)) {
				if (out && cap) {
					size_t k = ll < cap - 1 ? ll : cap - 1;
					memcpy(out, l, k);
					out[k] = 0;
				}
				return 1;
			}
		}
		int64_t left = end - now_ms();
		if (left <= 0 || c->len >= sizeof(c->buf) - 1)
			return 0;
		struct pollfd p = { .fd = c->out, .events = POLLIN };
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t n = read(c->out, c->buf + c->len,
				 sizeof(c->buf) - 1 - c->len);
		if (n <= 0)
			return 0;
		c->len += (size_t)n;
		c->buf[c->len] = 0;
	}
}

int fu_drain(struct fu_child *c, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		int64_t left = end - now_ms();
		if (left <= 0 || c->len >= sizeof(c->buf) - 1)
			return 0;
		struct pollfd p = { .fd = c->out, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return 0;
		if (r <= 0)
			continue;
		ssize_t n = read(c->out, c->buf + c->len,
				 sizeof(c->buf) - 1 - c->len);
		if (n == 0)
			return 1;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 0;
		}
		c->len += (size_t)n;
		c->buf[c->len] = 0;
	}
}

int fu_wait(struct fu_child *c, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int st;
	if (c->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(c->pid, &st, WNOHANG);
		if (r == c->pid)
			break;
		if (r < 0 || now_ms() > end) {
			fu_kill(c);
			return -1;
		}
		usleep(10000);
	}
	c->pid = 0;
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	c->in = c->out = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void fu_kill(struct fu_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	c->in = c->out = -1;
}

bool fu_can_run(char *why, size_t len)
{
	if (geteuid() != 0) {
		snprintf(why, len, "needs root (mount namespaces, fanotify, "
				   "/proc/PID/map_files)");
		return false;
	}
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
	if (fd < 0) {
		snprintf(why, len, "fanotify permission events unavailable: %s",
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}
