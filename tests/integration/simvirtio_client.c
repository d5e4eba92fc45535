/* SPDX-License-Identifier: MIT */
/* tests/integration/simvirtio_client.c - see simvirtio_client.h */
#include "simvirtio_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- process */
/* Processes and directories to clean up at exit.  A test that fails
 * ends with _exit() (Check), so no atexit handler runs then: the host
 * dies with its parent (PR_SET_PDEATHSIG) and the suite's directory,
 * holding every test's, goes in svt_suite_teardown in the runner. */
static pid_t live_pid[8];
static char live_dir[8][64];
static char suite_dir[40];

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void svt_suite_setup(void)
{
	snprintf(suite_dir, sizeof(suite_dir), "/tmp/simvirtio-XXXXXX");
	if (!mkdtemp(suite_dir))
		suite_dir[0] = 0;
}

void svt_suite_teardown(void)
{
	if (suite_dir[0])
		nftw(suite_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	suite_dir[0] = 0;
}

/* remove the temporary directory and what is in it */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static void kill_live(void)
{
	for (int i = 0; i < 8; i++) {
		if (live_pid[i] > 0) {
			kill(live_pid[i], SIGKILL);
			waitpid(live_pid[i], NULL, 0);
			live_pid[i] = 0;
		}
		if (live_dir[i][0])
			remove_dir(live_dir[i]);
		live_dir[i][0] = 0;
	}
}

static void track(pid_t pid, const char *dir)
{
	for (int i = 0; i < 8; i++)
		if (!live_pid[i] && !live_dir[i][0]) {
			live_pid[i] = pid;
			snprintf(live_dir[i], sizeof(live_dir[i]), "%s", dir);
			return;
		}
}

static void untrack(pid_t pid)
{
	for (int i = 0; i < 8; i++)
		if (live_pid[i] == pid)
			live_pid[i] = 0;   /* the directory stays listed */
}

const char *svt_path(const struct svt_sim *s, const char *name, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/%s", s->dir, name);
	return buf;
}

int svt_sim_start(struct svt_sim *s, int nready, const char *const *args)
{
	const char *pvio = getenv("PVIO");
	char *argv[40];
	char expanded[32][256];
	int p[2], n = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/XXXXXX",
		 suite_dir[0] ? suite_dir : "/tmp");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->log, sizeof(s->log), "%s/sim.log", s->dir);
	argv[n++] = (char *)(pvio ? pvio : "./pvio");
	argv[n++] = (char *)"sim";
	argv[n++] = (char *)"virtio";
	for (int i = 0; args[i] && n < 38 && i < 32; i++) {
		char *d = expanded[i];
		size_t o = 0;
		for (const char *c = args[i]; *c && o + 70 < sizeof(expanded[i]); c++) {
			if (*c == '@')
				o += (size_t)snprintf(d + o, sizeof(expanded[i]) - o,
						      "%s", s->dir);
			else
				d[o++] = *c;
		}
		d[o] = 0;
		argv[n++] = d;
	}
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int log = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(p[1], 1);
		if (log >= 0)
			dup2(log, 2);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	s->pid = pid;
	s->out = p[0];
	track(pid, s->dir);
	static bool registered;
	if (!registered) {
		atexit(kill_live);
		registered = true;
	}
	/* wait for the ready lines */
	char line[4096];
	size_t have = 0;
	int ready = 0;
	uint64_t end = now_ms() + SVT_TIMEOUT_MS;
	while (ready < nready) {
		uint64_t t = now_ms();
		if (t >= end)
			return -1;
		struct pollfd pf = { s->out, POLLIN, 0 };
		if (poll(&pf, 1, (int)(end - t)) <= 0)
			continue;
		ssize_t r = read(s->out, line + have, sizeof(line) - 1 - have);
		if (r <= 0)
			return -1;    /* exited */
		have += (size_t)r;
		line[have] = 0;
		char *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			if (strstr(line, ": ready on "))
				ready++;
			memmove(line, nl + 1, have - (size_t)(nl + 1 - line) + 1);
			have -= (size_t)(nl + 1 - line);
		}
	}
	return 0;
}

bool svt_sim_alive(struct svt_sim *s)
{
	return s->pid > 0 && waitpid(s->pid, NULL, WNOHANG) == 0;
}

int svt_sim_stop(struct svt_sim *s)
{
	int st = -1;
	char buf[256];
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	/* its stdout closes when it exits: wait for that, bounded */
	uint64_t end = now_ms() + SVT_TIMEOUT_MS;
	for (;;) {
		uint64_t t = now_ms();
		if (t >= end)
			break;
		struct pollfd pf = { s->out, POLLIN, 0 };
		if (poll(&pf, 1, (int)(end - t)) > 0 &&
		    read(s->out, buf, sizeof(buf)) <= 0)
			break;
	}
	/* its files close a moment before it can be reaped */
	pid_t r = 0;
	for (int i = 0; i < 500 && (r = waitpid(s->pid, &st, WNOHANG)) == 0; i++)
		poll(NULL, 0, 10);
	if (r != s->pid) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &st, 0);
		st = -1;
	}
	close(s->out);
	untrack(s->pid);
	s->pid = 0;
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_log(const struct svt_sim *s)
{
	FILE *f = fopen(s->log, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

bool svt_log_has(const struct svt_sim *s, const char *needle)
{
	return svt_log_count(s, needle) > 0;
}

int svt_log_count(const struct svt_sim *s, const char *needle)
{
	char *b = read_log(s);
	int n = 0;
	if (!b)
		return 0;
	for (char *p = b; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(b);
	return n;
}

/* ---------------------------------------------------------------- sockets */
static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { SVT_TIMEOUT_MS / 1000, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int svt_ctl(const char *path, const char *cmd, char *out, size_t outlen)
{
	/* sim hostif framing: magic, type, flags, seq, len (docs/sim-hostif.md) */
	struct {
		uint32_t magic;
		uint16_t type, flags;
		uint32_t seq, len;
	} __attribute__((packed)) h;
	uint8_t msg[16 + 4096];
	int fd = connect_unix(path), st = -EIO;
	if (fd < 0)
		return -ECONNREFUSED;
	for (int step = 0; step < 2; step++) {
		uint32_t len;
		if (step == 0) {
			uint32_t hello[10] = { 1, 1 };
			memcpy(hello + 2, "simvirtio-test", 15);
			len = sizeof(hello);
			memcpy(msg + 16, hello, len);
			h = (typeof(h)){ 0x4F495650, 1, 0, 1, len };
		} else {
			len = (uint32_t)strlen(cmd) + 1;
			memcpy(msg + 16, cmd, len);
			h = (typeof(h)){ 0x4F495650, 100, 0, 2, len };
		}
		memcpy(msg, &h, 16);
		if (write(fd, msg, 16 + len) != (ssize_t)(16 + len) ||
		    read_full(fd, &h, 16) < 0 || h.len < 4 || h.len > 4096 ||
		    read_full(fd, msg, h.len) < 0) {
			st = -EIO;
			break;
		}
		int32_t s32;
		memcpy(&s32, msg, 4);
		st = s32;
		if (step == 1 && out) {
			size_t n = h.len - 4 < outlen - 1 ? h.len - 4 : outlen - 1;
			memcpy(out, msg + 4, n);
			out[n] = 0;
		}
		if (st < 0)
			break;
	}
	close(fd);
	return st;
}

long long svt_stat(const char *ctl, const char *dev, const char *line,
		   const char *key)
{
	char cmd[64], out[4096], k[64];
	snprintf(cmd, sizeof(cmd), "stats %s", dev);
	if (svt_ctl(ctl, cmd, out, sizeof(out)) < 0)
		return -1;
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
		while (*l == ' ')
			l++;
		if (strncmp(l, line, strlen(line)) || l[strlen(line)] != ' ')
			continue;
		snprintf(k, sizeof(k), " %s ", key);
		char *p = strstr(l, k);
		if (p)
			return atoll(p + strlen(k));
	}
	return -1;
}

/* ------------------------------------------------------------ vhost-user */
int svt_vu_connect(struct svt_vu *v, const char *path)
{
	memset(v, 0, sizeof(*v));
	v->memfd = -1;
	v->sock = connect_unix(path);
	return v->sock < 0 ? -1 : 0;
}

void svt_vu_close(struct svt_vu *v)
{
	if (v->sock >= 0)
		close(v->sock);
	if (v->mem)
		munmap(v->mem, v->memsize);
	if (v->memfd >= 0)
		close(v->memfd);
	v->sock = v->memfd = -1;
	v->mem = NULL;
}

int svt_vu_send(struct svt_vu *v, uint32_t req, uint32_t flags,
		const void *payload, uint32_t size, const int *fds, int nfds)
{
	uint8_t buf[12 + 4096];
	struct vu_hdr h = { req, flags, size };
	union {
		char c[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	size_t len = 12 + (size < 4096 ? size : 4096);
	memcpy(buf, &h, 12);
	if (size && payload)
		memcpy(buf + 12, payload, len - 12);
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.c;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(v->sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

int svt_vu_recv(struct svt_vu *v, struct vu_hdr *h, void *payload, size_t max)
{
	struct pollfd pf = { v->sock, POLLIN, 0 };
	if (poll(&pf, 1, SVT_TIMEOUT_MS) <= 0)
		return -1;
	if (read_full(v->sock, h, 12) < 0 || h->size > max ||
	    (h->size && read_full(v->sock, payload, h->size) < 0))
		return -1;
	return 0;
}

int svt_vu_get_u64(struct svt_vu *v, uint32_t req, uint64_t *out)
{
	struct vu_hdr h;
	if (svt_vu_send(v, req, VU_FLAG_VERSION, NULL, 0, NULL, 0) < 0 ||
	    svt_vu_recv(v, &h, out, 8) < 0 || h.request != req ||
	    h.flags != (VU_FLAG_VERSION | VU_FLAG_REPLY) || h.size != 8)
		return -1;
	return 0;
}

int svt_vu_set_u64(struct svt_vu *v, uint32_t req, uint64_t val,
		   bool need_reply)
{
	uint64_t ack;
	struct vu_hdr h;
	if (svt_vu_send(v, req, VU_FLAG_VERSION | (need_reply ? VU_FLAG_NEED_REPLY : 0),
			&val, 8, NULL, 0) < 0)
		return -1;
	if (!need_reply)
		return 0;
	if (svt_vu_recv(v, &h, &ack, 8) < 0 || h.request != req || h.size != 8)
		return -1;
	return (int)ack;
}

int svt_vu_state(struct svt_vu *v, uint32_t req, uint32_t index, uint32_t num)
{
	uint32_t s[2] = { index, num };
	return svt_vu_send(v, req, VU_FLAG_VERSION, s, 8, NULL, 0);
}

bool svt_vu_closed(struct svt_vu *v, int timeout_ms)
{
	char c;
	struct pollfd pf = { v->sock, POLLIN, 0 };
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t t = now_ms();
		if (t >= end || poll(&pf, 1, (int)(end - t)) <= 0)
			return false;
		ssize_t r = recv(v->sock, &c, 1, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0 && errno != EAGAIN)
			return true;
	}
}

void *svt_alloc(struct svt_vu *v, size_t size, size_t align)
{
	size_t o = (v->bump + align - 1) & ~(align - 1);
	if (o + size > v->memsize)
		return NULL;
	v->bump = o + size;
	memset(v->mem + o, 0, size);
	return v->mem + o;
}

int svt_vu_negotiate(struct svt_vu *v, uint64_t want, uint64_t want_pf,
		     size_t memsize)
{
	if (svt_vu_get_u64(v, VU_GET_FEATURES, &v->features) < 0)
		return -1;
	if (v->features & 1ull << VU_F_PROTOCOL_FEATURES) {
		if (svt_vu_get_u64(v, VU_GET_PROTOCOL_FEATURES, &v->pfeatures) < 0)
			return -1;
		v->packed = v->pfeatures & want_pf;
		if (svt_vu_set_u64(v, VU_SET_PROTOCOL_FEATURES, v->packed, false) < 0)
			return -1;
	}
	if (svt_vu_send(v, VU_SET_OWNER, VU_FLAG_VERSION, NULL, 0, NULL, 0) < 0)
		return -1;
	v->acked = (want & v->features) |
		   (v->features & 1ull << VU_F_PROTOCOL_FEATURES);
	if (svt_vu_set_u64(v, VU_SET_FEATURES, v->acked, false) < 0)
		return -1;
	if (!memsize)
		return 0;
	v->memfd = memfd_create("simvirtio-guest", MFD_CLOEXEC);
	if (v->memfd < 0 || ftruncate(v->memfd, (off_t)memsize) < 0)
		return -1;
	v->mem = mmap(NULL, memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->memfd, 0);
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		return -1;
	}
	v->memsize = memsize;
	v->bump = 0;
	uint64_t tab[1 + 4] = { 1, svt_gpa(v->mem), memsize, svt_gpa(v->mem), 0 };
	return svt_vu_send(v, VU_SET_MEM_TABLE, VU_FLAG_VERSION, tab, sizeof(tab),
			   &v->memfd, 1);
}

int svt_get_config(struct svt_vu *v, uint32_t off, uint32_t size, void *out)
{
	uint8_t buf[12 + 256];
	struct vu_hdr h;
	uint32_t c[3] = { off, size, 0 };
	memcpy(buf, c, 12);
	memset(buf + 12, 0, size);
	if (svt_vu_send(v, VU_GET_CONFIG, VU_FLAG_VERSION, buf, 12 + size, NULL,
			0) < 0 ||
	    svt_vu_recv(v, &h, buf, sizeof(buf)) < 0 || h.request != VU_GET_CONFIG)
		return -1;
	if (h.size == 0)
		return 1;      /* the back end's "error" */
	if (h.size != 12 + size)
		return -1;
	memcpy(out, buf + 12, size);
	return 0;
}

/* ------------------------------------------------------------------ queues */
int svt_q_setup(struct svt_vu *v, struct svt_q *q, unsigned index,
		uint16_t num)
{
	memset(q, 0, sizeof(*q));
	q->v = v;
	q->index = index;
	q->num = num;
	q->packed = v->acked & 1ull << VIRTIO_F_RING_PACKED;
	q->event_idx = v->acked & 1ull << VIRTIO_RING_F_EVENT_IDX;
	uint64_t desc, avail, used;
	if (q->packed) {
		q->pd = svt_alloc(v, 16u * num, 16);
		q->drv = svt_alloc(v, 4, 4);
		q->dev = svt_alloc(v, 4, 4);
		if (!q->pd || !q->drv || !q->dev)
			return -1;
		q->p_wrap = q->p_used_wrap = true;
		desc = svt_gpa(q->pd);
		avail = svt_gpa(q->drv);
		used = svt_gpa(q->dev);
	} else {
		void *m = svt_alloc(v, vring_size(num, 4096), 4096);
		if (!m)
			return -1;
		vring_init(&q->vr, num, m, 4096);
		desc = svt_gpa(q->vr.desc);
		avail = svt_gpa(q->vr.avail);
		used = svt_gpa(q->vr.used);
	}
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (svt_vu_state(v, VU_SET_VRING_NUM, index, num) < 0 ||
	    svt_vu_state(v, VU_SET_VRING_BASE, index, q->packed ? 1u << 15 : 0) < 0)
		return -1;
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} a = { index, 0, desc, used, avail, 0 };
	uint64_t idx = index;
	if (svt_vu_send(v, VU_SET_VRING_ADDR, VU_FLAG_VERSION, &a, sizeof(a), NULL,
			0) < 0 ||
	    svt_vu_send(v, VU_SET_VRING_CALL, VU_FLAG_VERSION, &idx, 8, &q->call,
			1) < 0 ||
	    svt_vu_send(v, VU_SET_VRING_KICK, VU_FLAG_VERSION, &idx, 8, &q->kick,
			1) < 0)
		return -1;
	if (v->acked & 1ull << VU_F_PROTOCOL_FEATURES)
		return svt_vu_state(v, VU_SET_VRING_ENABLE, index, 1);
	return 0;
}

int svt_q_add(struct svt_q *q, const struct svt_buf *b, unsigned n,
	      bool indirect)
{
	if (q->packed) {
		uint16_t head = q->p_slot, head_flags = 0, id = q->p_slot;
		const uint16_t avail = q->p_wrap ? 1u << VRING_PACKED_DESC_F_AVAIL
						 : 1u << VRING_PACKED_DESC_F_USED;
		if (indirect) {
			struct vring_packed_desc *t = svt_alloc(q->v, 16u * n, 16);
			if (!t)
				return -1;
			for (unsigned i = 0; i < n; i++)
				t[i] = (struct vring_packed_desc){
					svt_gpa(b[i].p), b[i].len, 0,
					b[i].write ? VRING_DESC_F_WRITE : 0 };
			q->pd[head].addr = svt_gpa(t);
			q->pd[head].len = 16u * n;
			q->pd[head].id = id;
			head_flags = VRING_DESC_F_INDIRECT | avail;
			q->ndesc_of[id] = 1;
			if (++q->p_slot == q->num) {
				q->p_slot = 0;
				q->p_wrap = !q->p_wrap;
			}
		} else {
			for (unsigned i = 0; i < n; i++) {
				uint16_t f = avail |
					     (b[i].write ? VRING_DESC_F_WRITE : 0) |
					     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
				struct vring_packed_desc *d = &q->pd[q->p_slot];
				d->addr = svt_gpa(b[i].p);
				d->len = b[i].len;
				d->id = id;
				if (i == 0)
					head_flags = f;
				else
					d->flags = f;
				if (++q->p_slot == q->num) {
					q->p_slot = 0;
					q->p_wrap = !q->p_wrap;
				}
			}
			q->ndesc_of[id] = (uint16_t)n;
		}
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&q->pd[head].flags, head_flags, __ATOMIC_RELAXED);
		return id;
	}
	uint16_t head = q->next_desc;
	if (indirect) {
		struct vring_desc *t = svt_alloc(q->v, 16u * n, 16);
		if (!t)
			return -1;
		for (unsigned i = 0; i < n; i++)
			t[i] = (struct vring_desc){
				svt_gpa(b[i].p), b[i].len,
				(uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
				(uint16_t)(i + 1) };
		q->vr.desc[head] = (struct vring_desc){ svt_gpa(t), 16u * n,
							VRING_DESC_F_INDIRECT, 0 };
		q->next_desc = (uint16_t)((head + 1) % q->num);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t d = q->next_desc;
			q->next_desc = (uint16_t)((d + 1) % q->num);
			q->vr.desc[d] = (struct vring_desc){
				svt_gpa(b[i].p), b[i].len,
				(uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
				q->next_desc };
		}
	}
	svt_q_publish_head(q, head);
	return head;
}

void svt_q_publish_head(struct svt_q *q, uint16_t head)
{
	q->vr.avail->ring[q->vr.avail->idx % q->num] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&q->vr.avail->idx, (uint16_t)(q->vr.avail->idx + 1),
			 __ATOMIC_RELAXED);
}

void svt_q_kick(struct svt_q *q)
{
	uint64_t one = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(q->kick, &one, 8) != 8)
		abort();
}

int svt_q_get(struct svt_q *q, uint32_t *id, uint32_t *len)
{
	if (q->packed) {
		uint16_t f = __atomic_load_n(&q->pd[q->p_used].flags,
					     __ATOMIC_ACQUIRE);
		bool a = f & 1u << VRING_PACKED_DESC_F_AVAIL;
		bool u = f & 1u << VRING_PACKED_DESC_F_USED;
		if (a != q->p_used_wrap || u != q->p_used_wrap)
			return 0;
		*id = q->pd[q->p_used].id;
		*len = q->pd[q->p_used].len;
		uint16_t step = *id < q->num && q->ndesc_of[*id] ? q->ndesc_of[*id] : 1;
		q->p_used = (uint16_t)(q->p_used + step);
		if (q->p_used >= q->num) {
			q->p_used = (uint16_t)(q->p_used - q->num);
			q->p_used_wrap = !q->p_used_wrap;
		}
		return 1;
	}
	uint16_t idx = __atomic_load_n(&q->vr.used->idx, __ATOMIC_ACQUIRE);
	if (idx == q->last_used)
		return 0;
	struct vring_used_elem e = q->vr.used->ring[q->last_used % q->num];
	*id = e.id;
	*len = e.len;
	q->last_used++;
	return 1;
}

int svt_q_wait(struct svt_q *q, uint32_t *id, uint32_t *len, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (svt_q_get(q, id, len))
			return 1;
		uint64_t t = now_ms();
		if (t >= end)
			return 0;
		struct pollfd pf = { q->call, POLLIN, 0 };
		/* the used entry may already be there without a call when
		 * the driver side asked for none: poll briefly then */
		if (poll(&pf, 1, (int)(end - t < 50 ? end - t : 50)) > 0) {
			uint64_t c;
			if (read(q->call, &c, 8) < 0)
				continue;
		}
	}
}
