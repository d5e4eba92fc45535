/* SPDX-License-Identifier: MIT */
/*
 * tools/hosts.c - the hosts `pvio compare` and `pvio migrate-demo` start
 * for themselves: pvio's three simulated hosts (this very binary, `pvio
 * sim xen|hyperv|virtio`) and the real vhost-user peers Debian packages
 * (qemu-storage-daemon, dpdk-testpmd), each in the caller's temporary
 * directory with its log there.
 *
 * A host is ready when it says so (the simulated hosts print a ready line,
 * which lands in the log) or, for the real peers, when its unix socket
 * listens (/proc/net/unix).  Every wait is bounded and fails at once when
 * the process dies.  Hosts are stopped by process id: SIGTERM, then
 * SIGKILL when it does not go; PR_SET_PDEATHSIG takes them down with pvio
 * if pvio itself is killed.
 *
 * Ctrl-C: tool_hosts_catch_signals() turns SIGINT/SIGTERM into a flag
 * (tool_interrupted) that the long loops check, so the normal clean-up
 * runs; a second signal kills every host at once and exits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/sim-list.h"
#include "tools/pvio.h"

volatile sig_atomic_t tool_interrupted;

/* Hosts running now, for the second Ctrl-C (tool code: process-wide). */
#define MAX_LIVE 16
static volatile pid_t live_pids[MAX_LIVE];

static void track(pid_t pid, bool add)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (add && !live_pids[i]) {
			live_pids[i] = pid;
			return;
		}
		if (!add && live_pids[i] == pid) {
			live_pids[i] = 0;
			return;
		}
	}
}

static void on_signal(int sig)
{
	if (!tool_interrupted) {
		tool_interrupted = sig;
		return;
	}
	for (int i = 0; i < MAX_LIVE; i++)
		if (live_pids[i] > 0)
			kill(live_pids[i], SIGKILL);
	_exit(128 + sig);
}

void tool_hosts_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a wait in progress returns, the loop sees the flag */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const struct {
	const char *name, *label, *program;
} kinds[TOOL_HOST_NKINDS] = {
	[TOOL_HOST_XEN] = { "xen", "Xen (pvio sim xen)", NULL },
	[TOOL_HOST_HYPERV] = { "hyperv", "Hyper-V (pvio sim hyperv)", NULL },
	[TOOL_HOST_VIRTIO] = { "virtio", "KVM/virtio (pvio sim virtio)", NULL },
	[TOOL_HOST_QSD] = { "qsd", "KVM/virtio (qemu-storage-daemon)",
			    "qemu-storage-daemon" },
	[TOOL_HOST_TESTPMD] = { "testpmd", "KVM/virtio (dpdk-testpmd)",
				"dpdk-testpmd" },
};

const char *tool_host_kind_name(int kind)
{
	return kind >= 0 && kind < TOOL_HOST_NKINDS ? kinds[kind].name : "?";
}

const char *tool_host_kind_label(int kind)
{
	return kind >= 0 && kind < TOOL_HOST_NKINDS ? kinds[kind].label : "?";
}

int tool_host_kind_of(const char *name)
{
	for (int k = 0; k < TOOL_HOST_NKINDS; k++)
		if (!strcmp(name, kinds[k].name))
			return k;
	return -1;
}

/* An executable named prog in PATH, copied into out. */
static bool in_path(const char *prog, char *out, size_t n)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path) {
		size_t l = strcspn(path, ":");
		if (l && (size_t)snprintf(out, n, "%.*s/%s", (int)l, path, prog) < n &&
		    access(out, X_OK) == 0)
			return true;
		path += l;
		if (*path == ':')
			path++;
	}
	return false;
}

const char *tool_host_missing(int kind)
{
	char p[512];
	switch (kind) {
	case TOOL_HOST_XEN:
#ifdef PVIO_SIM_HAVE_XEN
		return NULL;
#else
		return "this pvio was built without `pvio sim xen`";
#endif
	case TOOL_HOST_HYPERV:
#ifdef PVIO_SIM_HAVE_HYPERV
		return NULL;
#else
		return "this pvio was built without `pvio sim hyperv`";
#endif
	case TOOL_HOST_VIRTIO:
#ifdef PVIO_SIM_HAVE_VIRTIO
		return NULL;
#else
		return "this pvio was built without `pvio sim virtio`";
#endif
	case TOOL_HOST_QSD:
		return in_path("qemu-storage-daemon", p, sizeof(p))
			       ? NULL
			       : "qemu-storage-daemon is not installed "
				 "(Debian: qemu-system-common; scripts/deps.sh)";
	case TOOL_HOST_TESTPMD:
		return in_path("dpdk-testpmd", p, sizeof(p))
			       ? NULL
			       : "dpdk-testpmd is not installed (Debian: dpdk; "
				 "scripts/deps.sh)";
	default:
		return "unknown kind of host";
	}
}

/* ---- command lines ---- */

static int addarg(struct tool_host *h, size_t *used, const char *fmt, ...)
	TOOL_PRINTF(3, 4);
static int addarg(struct tool_host *h, size_t *used, const char *fmt, ...)
{
	unsigned n = 0;
	while (h->argv[n])
		n++;
	if (n + 1 >= sizeof(h->argv) / sizeof(h->argv[0]))
		return -E2BIG;
	va_list ap;
	va_start(ap, fmt);
	int l = vsnprintf(h->args + *used, sizeof(h->args) - *used, fmt, ap);
	va_end(ap);
	if (l < 0 || (size_t)l >= sizeof(h->args) - *used)
		return -E2BIG;
	h->argv[n] = h->args + *used;
	h->argv[n + 1] = NULL;
	*used += (size_t)l + 1;
	return 0;
}

static void mac_text(const uint8_t *m, char *b, size_t n)
{
	snprintf(b, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
}

#define ADD(...)                                                               \
	do {                                                                   \
		if (addarg(h, &used, __VA_ARGS__) < 0)                         \
			return -E2BIG;                                         \
	} while (0)

static int build_argv(struct tool_host *h, const struct tool_host_opts *o)
{
	size_t used = 0;
	char mac[24] = "";
	const char *d = h->dir;
	if (o->mac)
		mac_text(o->mac, mac, sizeof(mac));
	h->argv[0] = NULL;
	h->ready[0] = 0;
	switch (h->kind) {
	case TOOL_HOST_XEN:
		ADD("/proc/self/exe");
		ADD("sim");
		ADD("xen");
		ADD("--socket");
		ADD("%s/xen.sock", d);
		if (o->image) {
			ADD("--vbd");
			ADD("51712=%s", o->image);
			snprintf(h->blk, sizeof(h->blk), "sim-xen:%s/xen.sock/vbd/51712", d);
		}
		if (o->net) {
			ADD("--vif");
			ADD("0,mode=reflect%s%s", *mac ? ",mac=" : "", mac);
			snprintf(h->net, sizeof(h->net), "sim-xen:%s/xen.sock/vif/0", d);
		}
		ADD("--quiet");
		snprintf(h->ctl, sizeof(h->ctl), "%s/xen.sock", d);
		snprintf(h->ready, sizeof(h->ready), "ready socket=");
		break;
	case TOOL_HOST_HYPERV:
		ADD("/proc/self/exe");
		ADD("sim");
		ADD("hyperv");
		ADD("--socket");
		ADD("%s/hyperv.sock", d);
		if (o->image) {
			ADD("--scsi");
			ADD("%s", o->image);
			snprintf(h->blk, sizeof(h->blk), "sim-hyperv:%s/hyperv.sock/storvsc0", d);
		}
		if (o->net) {
			ADD("--nic");
			ADD("mode=reflect%s%s", *mac ? ",mac=" : "", mac);
			snprintf(h->net, sizeof(h->net), "sim-hyperv:%s/hyperv.sock/netvsc0", d);
		}
		ADD("--quiet");
		snprintf(h->ctl, sizeof(h->ctl), "%s/hyperv.sock", d);
		snprintf(h->ready, sizeof(h->ready), "ready socket=");
		break;
	case TOOL_HOST_VIRTIO:
		ADD("/proc/self/exe");
		ADD("sim");
		ADD("virtio");
		ADD("--ctl");
		ADD("%s/virtio-ctl.sock", d);
		if (o->image) {
			ADD("--blk");
			ADD("%s/virtio-blk.sock=%s", d, o->image);
			snprintf(h->blk, sizeof(h->blk), "vhost-user:%s/virtio-blk.sock?class=blk", d);
		}
		if (o->net) {
			ADD("--net");
			ADD("%s/virtio-net.sock,mode=reflect%s%s", d, *mac ? ",mac=" : "", mac);
			snprintf(h->net, sizeof(h->net), "vhost-user:%s/virtio-net.sock?class=net", d);
		}
		ADD("--log-level");
		ADD("warn");
		snprintf(h->ctl, sizeof(h->ctl), "%s/virtio-ctl.sock", d);
		snprintf(h->ready, sizeof(h->ready), "ctl: ready on");
		break;
	case TOOL_HOST_QSD:
		if (!o->image)
			return -EINVAL;
		if (!in_path("qemu-storage-daemon", h->args, sizeof(h->args)))
			return -ENOENT;
		used = strlen(h->args) + 1;
		h->argv[0] = h->args;
		h->argv[1] = NULL;
		ADD("--blockdev");
		ADD("driver=file,node-name=file,filename=%s", o->image);
		ADD("--export");
		ADD("type=vhost-user-blk,id=exp,node-name=file,addr.type=unix,"
		    "addr.path=%s/qsd.sock,writable=on", d);
		snprintf(h->sock, sizeof(h->sock), "%s/qsd.sock", d);
		snprintf(h->blk, sizeof(h->blk), "vhost-user:%s/qsd.sock?class=blk", d);
		break;
	case TOOL_HOST_TESTPMD:
		if (!o->net)
			return -EINVAL;
		if (!in_path("dpdk-testpmd", h->args, sizeof(h->args)))
			return -ENOENT;
		used = strlen(h->args) + 1;
		h->argv[0] = h->args;
		h->argv[1] = NULL;
		ADD("--no-huge");
		ADD("-m");
		ADD("512");
		ADD("--no-pci");
		ADD("--no-shconf");
		ADD("--no-telemetry");
		ADD("--file-prefix=pvio-%ld", (long)getpid());
		ADD("--lcores=%s", sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "0@0,1@1"
								     : "0@0,1@0");
		ADD("--vdev");
		ADD("net_vhost0,iface=%s/testpmd.sock,client=0", d);
		ADD("--");
		ADD("--total-num-mbufs=4096");
		/* with a stats period testpmd forwards until it is stopped;
		 * without one it waits for Enter and stdin is /dev/null, so
		 * it would exit at once */
		ADD("--stats-period");
		ADD("60");
		ADD("--forward-mode=io");
		ADD("--no-flush-rx"); /* frames sent while it starts are kept */
		snprintf(h->sock, sizeof(h->sock), "%s/testpmd.sock", d);
		snprintf(h->net, sizeof(h->net), "vhost-user:%s/testpmd.sock?class=net", d);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}
#undef ADD

/* ---- readiness ---- */

static void nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Has the log file got a line containing s (from offset from)? */
static bool log_has(const char *log, long from, const char *s)
{
	FILE *f = fopen(log, "re");
	char line[1024];
	bool found = false;
	if (!f)
		return false;
	if (from > 0)
		fseek(f, from, SEEK_SET);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

static long log_size(const char *log)
{
	struct stat st;
	return stat(log, &st) == 0 ? (long)st.st_size : 0;
}

/* Is path a listening unix socket (/proc/net/unix flags __SO_ACCEPTCON)? */
static bool listening(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[1024];
	bool found = false;
	size_t pl = strlen(path);
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);
		while (l && (line[l - 1] == '\n' || line[l - 1] == ' '))
			line[--l] = 0;
		if (l < pl + 1 || strcmp(line + l - pl, path) ||
		    line[l - pl - 1] != ' ')
			continue;
		unsigned long flags = 0;
		char *c = strchr(line, ':');
		if (c && sscanf(c + 1, "%*x %*x %lx", &flags) == 1 &&
		    (flags & 0x10000))
			found = true;
	}
	fclose(f);
	return found;
}

/* The last line of the log that says something, for a message. */
static void log_last(const char *log, char *out, size_t n)
{
	FILE *f = fopen(log, "re");
	char line[512];
	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (*line) {
			size_t l = strlen(line);
			if (l >= n)
				l = n - 1;
			memcpy(out, line, l);
			out[l] = 0;
		}
	}
	fclose(f);
}

/* fork and exec the host's command; its output goes to its log */
static int launch(struct tool_host *h, char *err, size_t errlen)
{
	h->log_from = log_size(h->log);
	int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", h->log, strerror(e));
		return -e;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		int in = open("/dev/null", O_RDONLY);
		if (in >= 0)
			dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_IGN); /* pvio stops it: Ctrl-C goes to pvio */
		execv(h->argv[0], h->argv);
		fprintf(stderr, "cannot run %s: %s\n", h->argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	h->pid = pid;
	track(pid, true);
	return 0;
}

int tool_host_wait_ready(struct tool_host *h, char *err, size_t errlen)
{
	uint64_t end = tool_now_ns() + (uint64_t)h->timeout_ms * 1000000u;
	if (!h->pid) {
		snprintf(err, errlen, "%s is not running", h->label);
		return -ECHILD;
	}
	for (;;) {
		bool ready = h->ready[0] ? log_has(h->log, h->log_from, h->ready)
					 : listening(h->sock);
		if (ready)
			return 0;
		int st;
		if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
			char last[300];
			track(h->pid, false);
			h->pid = 0;
			h->status = st;
			log_last(h->log, last, sizeof(last));
			snprintf(err, errlen, "%s exited before it was ready%s%s "
					      "(log: %s)",
				 h->label, *last ? ": " : "", last, h->log);
			return -ECHILD;
		}
		if (tool_interrupted || tool_now_ns() >= end) {
			snprintf(err, errlen, "%s was not ready within %u ms "
					      "(log: %s)",
				 h->label, h->timeout_ms, h->log);
			tool_host_stop(h);
			return tool_interrupted ? -EINTR : -ETIMEDOUT;
		}
		nap_ms(10);
	}
}

static int spawn(struct tool_host *h, char *err, size_t errlen)
{
	int r = launch(h, err, errlen);
	return r < 0 ? r : tool_host_wait_ready(h, err, errlen);
}

int tool_host_start(struct tool_host *h, int kind, const char *dir,
		    const struct tool_host_opts *o, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->name = tool_host_kind_name(kind);
	h->label = tool_host_kind_label(kind);
	h->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	snprintf(h->log, sizeof(h->log), "%s/%s.log", dir, h->name);
	const char *why = tool_host_missing(kind);
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -ENOENT;
	}
	int r = build_argv(h, o);
	if (r < 0) {
		snprintf(err, errlen, "cannot build the command line of %s",
			 h->label);
		return r;
	}
	return spawn(h, err, errlen);
}

int tool_host_restart(struct tool_host *h, bool wait, char *err,
		      size_t errlen)
{
	if (h->pid)
		tool_host_kill(h);
	/* a host killed with SIGKILL leaves its sockets behind, and would
	 * refuse to listen on them again (dpdk-testpmd: "failed to bind");
	 * the real peers' socket is h->sock, the simulated hosts' are these */
	static const char *const socks[][3] = {
		[TOOL_HOST_XEN] = { "xen.sock" },
		[TOOL_HOST_HYPERV] = { "hyperv.sock" },
		[TOOL_HOST_VIRTIO] = { "virtio-ctl.sock", "virtio-blk.sock",
				       "virtio-net.sock" },
	};
	char p[400];
	for (int i = 0; h->kind <= TOOL_HOST_VIRTIO && i < 3 &&
			socks[h->kind][i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", h->dir, socks[h->kind][i]);
		unlink(p);
	}
	if (h->sock[0])
		unlink(h->sock);
	return wait ? spawn(h, err, errlen) : launch(h, err, errlen);
}

int tool_host_kill(struct tool_host *h)
{
	if (!h->pid)
		return 0;
	kill(h->pid, SIGKILL);
	waitpid(h->pid, &h->status, 0);
	track(h->pid, false);
	h->pid = 0;
	return 0;
}

void tool_host_stop(struct tool_host *h)
{
	if (!h->pid)
		return;
	kill(h->pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(h->pid, &h->status, WNOHANG) == h->pid) {
			track(h->pid, false);
			h->pid = 0;
			return;
		}
		nap_ms(10);
	}
	tool_host_kill(h);
}

int tool_host_ctl(struct tool_host *h, const char *cmd, char *out,
		  size_t outlen)
{
	int pfd[2];
	if (!h->ctl[0])
		return -EOPNOTSUPP;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid == 0) {
		char buf[512];
		char *argv[16];
		int n = 0;
		argv[n++] = "/proc/self/exe";
		argv[n++] = "sim";
		argv[n++] = "ctl";
		argv[n++] = h->ctl;
		snprintf(buf, sizeof(buf), "%s", cmd);
		for (char *s = strtok(buf, " "); s && n < 15; s = strtok(NULL, " "))
			argv[n++] = s;
		argv[n] = NULL;
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t got = 0;
	uint64_t end = tool_now_ns() + 10000000000ull;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		uint64_t now = tool_now_ns();
		if (now >= end)
			break;
		int r = poll(&p, 1, (int)((end - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		char tmp[256];
		ssize_t k = read(pfd[0], tmp, sizeof(tmp));
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k && outlen && got + 1 < outlen; i++)
			out[got++] = tmp[i];
	}
	if (outlen)
		out[got < outlen ? got : outlen - 1] = 0;
	close(pfd[0]);
	int st = 0;
	if (tool_now_ns() >= end)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

pid_t tool_host_ctl_later(struct tool_host *h, const char *cmd,
			  unsigned delay_ms)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	nap_ms(delay_ms);
	char out[512];
	_exit(tool_host_ctl(h, cmd, out, sizeof(out)) == 0 ? 0 : 1);
}

int tool_reap(pid_t pid, unsigned timeout_ms)
{
	int st = 0;
	uint64_t end = tool_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		if (r < 0)
			return -errno;
		if (tool_now_ns() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -ETIMEDOUT;
		}
		nap_ms(5);
	}
}

int tool_tmpdir(char *out, size_t n, const char *what)
{
	const char *t = getenv("TMPDIR");
	if (!t || !*t)
		t = "/tmp";
	if ((size_t)snprintf(out, n, "%s/pvio-%s.XXXXXX", t, what) >= n)
		return -ENAMETOOLONG;
	return mkdtemp(out) ? 0 : -errno;
}

void tool_rmtree(const char *dir)
{
	/* our temporary directories are flat: files and sockets only */
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char p[600];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

int tool_make_image(const char *path, uint64_t size, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		snprintf(err, errlen, "cannot create the %llu-byte image %s: %s",
			 (unsigned long long)size, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}
