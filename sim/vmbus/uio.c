/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/uio.c - the uio door: a NIC handed to a user-space client the
 * way Linux's uio_hv_generic does it inside a Hyper-V guest, so that a
 * client nobody here wrote (DPDK's netvsc PMD) can talk to the simulated
 * host (shared/specs/vmbus-uio-dpdk.md).
 *
 * For each NIC given `uio` the door plays the guest kernel: it makes a
 * partition, posts INITIATE_CONTACT and REQUESTOFFERS, GPADLs the receive
 * and send buffers ("probe"); when a process opens the device file, the
 * ring and OPENCHANNEL, before the open returns; when the last descriptor
 * is closed, CLOSECHANNEL and the ring GPADL's teardown.  The opens and
 * closes are seen with fanotify (FAN_OPEN_PERM holds the opener until the
 * channel is open, as uio_hv_generic's open does, and names its pid); the
 * host needs CAP_SYS_ADMIN for that, and for the client's memory.  It writes what uio_hv_generic shows in
 * sysfs into DIR/vmbus (to be mounted over /sys/bus/vmbus) and the device
 * file DIR/dev/uioN, in which the maps lie at map index x 4096, the only
 * layout a regular file can give:
 *
 *   0x00000  map0 txrx_rings: TX ring (header, 1 data page), RX ring
 *   0x01000  map1 int_page      (= TX ring data; clients do not use it)
 *   0x02000  map2 monitor_page  (= RX ring header: trigger groups 1-3 and
 *                                the latencies land in its reserved part)
 *   0x03000  map3 recv:<gpadl>  0x21000 bytes (its first 0x11000 alias the
 *                                RX ring data and the send buffer: the
 *                                host never puts a message there)
 *   0x04000  map4 send:<gpadl>  0x10000 bytes
 *   0x24000  monitor page 1 (host to guest), the door's own
 *
 * The client's guest addresses (GPA-direct ranges) are its own virtual
 * addresses (DPDK runs with IOVA = VA): the door maps the shared mapping
 * holding one from /proc/<pid>/map_files when the host first needs it.
 * The client signals through the monitor page only; the host polls it.
 * `rescind`
 * takes the device out of sysfs as the kernel would; `offer` puts it back
 * under its new relid.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vmbus/shv.h"

#define U_RING 0x00000u
#define U_RING_BYTES 0x2000u   /* per direction */
#define U_MON 0x02000u
#define U_RECV 0x03000u
#define U_RECV_SIZE 0x21000u
#define U_SEND 0x04000u
#define U_SEND_SIZE 0x10000u
#define U_MON1 0x24000u
#define U_FILE 0x25000u
#define U_RX_RESERVE 0x11000u
#define U_GPA_BASE (1ull << 48) /* above any user-space address */
#define U_GPA_STRIDE 0x1000000ull
#define U_MSGQ 64
#define U_OPENERS 8

struct uio_dev {
	struct uio_dev *next;
	struct shv_host *h;
	struct shv_dev *dev;
	unsigned index;               /* uioN */
	struct shv_part *part;
	int fd;                       /* the device file */
	uint8_t *mem;
	uint64_t gpa;
	char path[200];               /* DIR/dev/uioN */
	char sysdir[240];             /* DIR/vmbus/devices/<instance> */
	uint32_t relid;
	uint8_t monitor_id;
	bool bound;                   /* buffers GPADL'd, sysfs written */
	bool open;
	bool rescinded;
	uint32_t next_gpadl;
	uint32_t recv_gpadl, send_gpadl, ring_gpadl;
	/* channel messages the host sent the "kernel" */
	unsigned nq;
	uint32_t qlen[U_MSGQ];
	uint8_t q[U_MSGQ][SHV_MSG_PAYLOAD_MAX];
	dev_t st_dev;                 /* the device file's identity */
	ino_t st_ino;
	/* the client: the process that opened the device file first */
	int pid;
	int openers[U_OPENERS];       /* processes holding the file */
	unsigned nopeners;
	struct sim_mem client;
	uint64_t work_timer;
	uint64_t attaches, faults;
};

struct uio_door {
	char dir[160];
	struct uio_dev *devs;
	struct shv_host *h;
	int fan;                      /* fanotify group */
};

/* --------------------------------------------------------------- files */
static int mkdirs(const char *path)
{
	char p[256];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int put_file(const char *dir, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int put_file(const char *dir, const char *name, const char *fmt, ...)
{
	char path[320], buf[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
	close(fd);
	return r;
}

/* Remove a device directory this door wrote (its shape is known: no
 * directory walking, no symlink followed). */
static void rm_tree(const char *path)
{
	static const char *const mapf[] = { "name", "size", "offset", "addr" };
	static const char *const top[] = { "class_id", "device_id", "id",
					   "monitor_id", "numa_node", "driver" };
	char p[320];
	for (unsigned u = 0; u < 16; u++) {
		for (unsigned m = 0; m < 5; m++) {
			for (unsigned k = 0; k < 4; k++) {
				snprintf(p, sizeof(p),
					 "%s/uio/uio%u/maps/map%u/%s", path, u,
					 m, mapf[k]);
				unlink(p);
			}
			snprintf(p, sizeof(p), "%s/uio/uio%u/maps/map%u", path,
				 u, m);
			rmdir(p);
		}
		snprintf(p, sizeof(p), "%s/uio/uio%u/maps", path, u);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/uio/uio%u/name", path, u);
		unlink(p);
		snprintf(p, sizeof(p), "%s/uio/uio%u/version", path, u);
		unlink(p);
		snprintf(p, sizeof(p), "%s/uio/uio%u", path, u);
		rmdir(p);
	}
	for (unsigned k = 0; k < 6; k++) {
		snprintf(p, sizeof(p), "%s/%s", path, top[k]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/uio", path);
	rmdir(p);
	rmdir(path);
}

/* -------------------------------------------------------- the "kernel" */
static void later(struct uio_dev *u);

static void door_post(struct shv_part *p, const void *msg, uint32_t len)
{
	struct uio_dev *u = p->door_priv;
	if (len > SHV_MSG_PAYLOAD_MAX)
		return;
	if (u->nq == U_MSGQ) {
		memmove(u->q, u->q + 1, sizeof(u->q[0]) * (U_MSGQ - 1));
		memmove(u->qlen, u->qlen + 1, sizeof(u->qlen[0]) * (U_MSGQ - 1));
		u->nq--;
	}
	memcpy(u->q[u->nq], msg, len);
	u->qlen[u->nq++] = len;
	uint32_t type = shv_get32(msg);
	if (type == SHV_MSG_RESCIND_CHANNELOFFER ||
	    type == SHV_MSG_OFFERCHANNEL)
		later(u); /* from the loop, not inside the host's own call */
}

/* Take the first queued message of type (and relid/handle key at off 8
 * when key != 0): copied to out; true if there was one. */
static bool take(struct uio_dev *u, uint32_t type, uint32_t key,
		 uint8_t *out)
{
	for (unsigned i = 0; i < u->nq; i++) {
		if (shv_get32(u->q[i]) != type ||
		    (key && shv_get32(u->q[i] + 8) != key))
			continue;
		if (out)
			memcpy(out, u->q[i], SHV_MSG_PAYLOAD_MAX);
		memmove(u->q + i, u->q + i + 1,
			sizeof(u->q[0]) * (u->nq - i - 1));
		memmove(u->qlen + i, u->qlen + i + 1,
			sizeof(u->qlen[0]) * (u->nq - i - 1));
		u->nq--;
		return true;
	}
	return false;
}

static uint32_t post(struct uio_dev *u, const void *msg, uint32_t len)
{
	uint32_t conn = u->part->state == SHV_P_CONNECTED
				? u->part->msg_conn_id
				: SHV_CONNID_MESSAGE;
	return shv_vmbus_post(u->part, conn, 1, msg, len);
}

/* GPADL over [off, off + bytes) of the device file: 0 or -EIO. */
static int gpadl(struct uio_dev *u, uint32_t off, uint32_t bytes,
		 uint32_t *handle)
{
	uint32_t n = bytes / SHV_PAGE, h = u->next_gpadl++;
	uint64_t pfn0 = (u->gpa + off) >> SHV_PAGE_SHIFT;
	uint8_t m[SHV_MSG_PAYLOAD_MAX];
	uint32_t done = 0;
	memset(m, 0, sizeof(m));
	shv_put32(m, SHV_MSG_GPADL_HEADER);
	shv_put32(m + 8, u->relid);
	shv_put32(m + 12, h);
	shv_put16(m + 16, (uint16_t)(8 + 8 * n));
	shv_put16(m + 18, 1);
	shv_put32(m + 20, bytes);
	shv_put32(m + 24, 0);
	uint32_t k = n < SHV_GPADL_HEADER_PFNS ? n : SHV_GPADL_HEADER_PFNS;
	for (uint32_t i = 0; i < k; i++)
		shv_put64(m + 28 + 8 * i, pfn0 + i);
	post(u, m, 28 + 8 * k);
	done = k;
	while (done < n) {
		memset(m, 0, sizeof(m));
		shv_put32(m, SHV_MSG_GPADL_BODY);
		shv_put32(m + 12, h);
		k = n - done < SHV_GPADL_BODY_PFNS ? n - done
						   : SHV_GPADL_BODY_PFNS;
		for (uint32_t i = 0; i < k; i++)
			shv_put64(m + 16 + 8 * i, pfn0 + done + i);
		post(u, m, 16 + 8 * k);
		done += k;
	}
	uint8_t r[SHV_MSG_PAYLOAD_MAX];
	if (!take(u, SHV_MSG_GPADL_CREATED, u->relid, r) ||
	    shv_get32(r + 12) != h || shv_get32(r + 16) != 0)
		return -EIO;
	*handle = h;
	return 0;
}

static void teardown(struct uio_dev *u, uint32_t handle)
{
	uint8_t m[16];
	shv_put32(m, SHV_MSG_GPADL_TEARDOWN);
	shv_put32(m + 4, 0);
	shv_put32(m + 8, u->relid);
	shv_put32(m + 12, handle);
	post(u, m, sizeof(m));
	take(u, SHV_MSG_GPADL_TORNDOWN, handle, NULL);
}

/* The NIC's primary offer among the queued ones: relid, monitor id. */
static bool find_offer(struct uio_dev *u)
{
	uint8_t o[SHV_MSG_PAYLOAD_MAX];
	bool found = false;
	while (take(u, SHV_MSG_OFFERCHANNEL, 0, o)) {
		struct shv_msg_offer m;
		memcpy(&m, o, sizeof(m));
		if (memcmp(m.if_instance, u->dev->inst_guid, 16) ||
		    m.sub_index)
			continue;
		u->relid = m.child_relid;
		u->monitor_id = m.monitor_id;
		found = (m.monitor_allocated & 1) != 0;
	}
	return found;
}

static void write_sysfs(struct uio_dev *u)
{
	const char *dir = u->sysdir;
	char cls[37], inst[37], d[300];
	shv_guid_str(u->dev->type_guid, cls);
	shv_guid_str(u->dev->inst_guid, inst);
	rm_tree(dir);
	snprintf(d, sizeof(d), "%s/uio/uio%u", dir, u->index);
	mkdirs(d);
	put_file(dir, "class_id", "{%s}\n", cls);
	put_file(dir, "device_id", "{%s}\n", inst);
	put_file(dir, "id", "%u\n", u->relid);
	put_file(dir, "monitor_id", "%u\n", u->monitor_id);
	put_file(dir, "numa_node", "0\n");
	char link[64];
	snprintf(d, sizeof(d), "%s/driver", dir);
	snprintf(link, sizeof(link), "../../drivers/uio_hv_generic");
	if (symlink(link, d) < 0 && errno != EEXIST)
		shv_warn("uio%u: cannot link %s: %s", u->index, d,
			 strerror(errno));
	snprintf(d, sizeof(d), "%s/uio/uio%u", dir, u->index);
	put_file(d, "name", "uio_hv_generic\n");
	put_file(d, "version", "0.02.1\n");
	static const struct {
		const char *name;
		uint32_t off, size;
	} maps[5] = {
		{ "txrx_rings", U_RING, 2 * U_RING_BYTES },
		{ "int_page", 0x1000, 0x1000 },
		{ "monitor_page", U_MON, 0x1000 },
		{ "recv", U_RECV, U_RECV_SIZE },
		{ "send", U_SEND, U_SEND_SIZE },
	};
	for (unsigned i = 0; i < 5; i++) {
		char m[320];
		snprintf(m, sizeof(m), "%s/maps/map%u", d, i);
		mkdirs(m);
		if (i == 3)
			put_file(m, "name", "recv:%u\n", u->recv_gpadl);
		else if (i == 4)
			put_file(m, "name", "send:%u\n", u->send_gpadl);
		else
			put_file(m, "name", "%s\n", maps[i].name);
		put_file(m, "size", "0x%08x\n", maps[i].size);
		put_file(m, "offset", "0x%x\n", i * SHV_PAGE);
		put_file(m, "addr", "0x%016x\n", 0);
	}
}

/* "Probe": the buffers' GPADLs and the sysfs entry, for the offer found. */
static int bind(struct uio_dev *u)
{
	if (gpadl(u, U_RECV, U_RECV_SIZE, &u->recv_gpadl) < 0 ||
	    gpadl(u, U_SEND, U_SEND_SIZE, &u->send_gpadl) < 0) {
		shv_warn("uio%u: the host refused the buffer GPADLs of %s",
			 u->index, u->dev->name);
		return -EIO;
	}
	write_sysfs(u);
	u->bound = true;
	u->rescinded = false;
	sim_log(SIM_LOG_INFO, "uio%u: %s bound as relid %u, monitor id %u, "
		"recv:%u send:%u", u->index, u->dev->name, u->relid,
		u->monitor_id, u->recv_gpadl, u->send_gpadl);
	return 0;
}

/* ------------------------------------------------------- client memory */
static uint8_t *door_page(struct shv_part *p, uint64_t pfn)
{
	struct uio_dev *u = p->door_priv;
	uint64_t va = pfn << SHV_PAGE_SHIFT;
	uint8_t *hva = sim_mem_ptr(&u->client, va, SHV_PAGE);
	if (hva || u->pid <= 0 || pfn > (1ull << 35))
		return hva;
	/* which shared mapping of the client holds va? */
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", u->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	uint64_t start = 0, end = 0, off = 0;
	char perms[8] = "";
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64, &start,
			   &end, perms, &off) != 4)
			continue;
		if (va >= start && va < end) {
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found || perms[3] != 's') {
		shv_warn("uio%u: guest address %#" PRIx64 " is not in a shared "
			 "mapping of process %d", u->index, va, u->pid);
		return NULL;
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 u->pid, start, end);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		shv_warn("uio%u: cannot open %s: %s (the host needs "
			 "CAP_SYS_ADMIN to reach client memory)", u->index,
			 path, strerror(errno));
		return NULL;
	}
	int r = sim_mem_add(&u->client, start, end - start, fd, off);
	close(fd);
	if (r < 0) {
		shv_warn("uio%u: cannot map %s: %s", u->index, path,
			 strerror(-r));
		return NULL;
	}
	u->faults++;
	return sim_mem_ptr(&u->client, va, SHV_PAGE);
}

/* ------------------------------------------------------ open/release */
static void reset_rings(struct uio_dev *u)
{
	/* the kernel sets up fresh rings for each first open */
	memset(u->mem + U_RING, 0, 2 * U_RING_BYTES);
	shv_put32(u->mem + U_RING + 64, SHV_RING_FEAT_PENDING_SEND);
	shv_put32(u->mem + U_RING + U_RING_BYTES + 64,
		  SHV_RING_FEAT_PENDING_SEND);
}

static int open_chan(struct uio_dev *u)
{
	if (gpadl(u, U_RING, 2 * U_RING_BYTES, &u->ring_gpadl) < 0)
		return -EIO;
	struct shv_msg_open m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = SHV_MSG_OPENCHANNEL;
	m.relid = u->relid;
	m.openid = u->relid;
	m.ring_gpadl = u->ring_gpadl;
	m.downstream_offset = U_RING_BYTES / SHV_PAGE;
	post(u, &m, sizeof(m));
	uint8_t r[SHV_MSG_PAYLOAD_MAX];
	if (!take(u, SHV_MSG_OPENCHANNEL_RESULT, u->relid, r) ||
	    shv_get32(r + 16) != 0) {
		teardown(u, u->ring_gpadl);
		return -EBUSY;
	}
	u->open = true;
	return 0;
}

static void close_chan(struct uio_dev *u)
{
	if (!u->open)
		return;
	struct shv_msg_relid m = { .hdr.type = SHV_MSG_CLOSECHANNEL,
				   .relid = u->relid };
	post(u, &m, sizeof(m));
	teardown(u, u->ring_gpadl);
	u->open = false;
}

/* Does process pid still hold the device file, by a descriptor or a
 * mapping?  (What keeps uio_hv_generic's file open.) */
static bool holds(const struct uio_dev *u, int pid)
{
	char path[320], line[512];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return false; /* gone */
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, e->d_name);
		found = e->d_name[0] != '.' && stat(path, &st) == 0 &&
			st.st_dev == u->st_dev && st.st_ino == u->st_ino;
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = found ? NULL : fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3)
			found = ino == (unsigned long long)u->st_ino &&
				makedev(maj, min) == u->st_dev;
	}
	if (f)
		fclose(f);
	return found;
}

/* hv_uio_open: the first open connects the ring.  false: refuse it. */
static bool dev_open(struct uio_dev *u, int pid)
{
	if (!u->bound)
		return false; /* rescinded: the device is gone */
	for (unsigned i = 0; i < u->nopeners; i++)
		if (u->openers[i] == pid)
			return true;
	if (u->nopeners == U_OPENERS)
		return false;
	u->openers[u->nopeners++] = pid;
	if (u->nopeners > 1)
		return true;
	reset_rings(u);
	u->pid = pid;
	if (open_chan(u) < 0) {
		shv_warn("uio%u: the host refused to open %s's channel for "
			 "process %d", u->index, u->dev->name, pid);
		u->nopeners = 0;
		u->pid = 0;
		return false;
	}
	u->attaches++;
	sim_log(SIM_LOG_INFO, "uio%u: opened by process %d, channel %u open",
		u->index, pid, u->relid);
	return true;
}

/* hv_uio_release: when no process holds the file any more, the ring is
 * disconnected.  (Close events of one process may be merged, so each
 * one asks /proc rather than counting.) */
static void dev_closed(struct uio_dev *u, int pid)
{
	for (unsigned i = 0; i < u->nopeners; i++)
		if (u->openers[i] == pid && !holds(u, pid)) {
			u->openers[i] = u->openers[--u->nopeners];
			break;
		}
	if (u->nopeners || !u->pid)
		return;
	sim_log(SIM_LOG_INFO, "uio%u: released by process %d", u->index,
		u->pid);
	close_chan(u);
	sim_mem_clear(&u->client);
	u->pid = 0;
	if (u->bound)
		reset_rings(u);
}

static struct uio_dev *dev_of(struct uio_door *d, int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	for (struct uio_dev *u = d->devs; u; u = u->next)
		if (u->st_dev == st.st_dev && u->st_ino == st.st_ino)
			return u;
	return NULL;
}

static void on_fanotify(struct sim_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct uio_door *d = arg;
	(void)loop;
	(void)ev;
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		ssize_t len = read(fd, buf, sizeof(buf));
		if (len <= 0)
			return;
		for (struct fanotify_event_metadata *m = (void *)buf;
		     FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			struct uio_dev *u = dev_of(d, m->fd);
			if (m->mask & FAN_OPEN_PERM) {
				bool ok = u && dev_open(u, m->pid);
				struct fanotify_response r = {
					m->fd, ok ? FAN_ALLOW : FAN_DENY };
				if (write(fd, &r, sizeof(r)) != sizeof(r))
					shv_warn("uio: cannot answer an open "
						 "of a uio device: %s",
						 strerror(errno));
			}
			if (u && (m->mask & (FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE)))
				dev_closed(u, m->pid);
			if (m->fd >= 0)
				close(m->fd);
		}
	}
}

/* Rescind and re-offer, seen from the loop after the host sent them. */
static void work(struct sim_loop *loop, void *arg)
{
	struct uio_dev *u = arg;
	(void)loop;
	u->work_timer = 0;
	uint8_t m[SHV_MSG_PAYLOAD_MAX];
	while (u->bound && take(u, SHV_MSG_RESCIND_CHANNELOFFER, u->relid, m)) {
		/* as the kernel does: the device leaves sysfs, the client
		 * loses it, the relid is released */
		sim_log(SIM_LOG_INFO, "uio%u: %s rescinded", u->index,
			u->dev->name);
		u->rescinded = true;
		u->bound = false;
		u->open = false;
		sim_mem_clear(&u->client);
		rm_tree(u->sysdir);
		struct shv_msg_relid r = { .hdr.type = SHV_MSG_RELID_RELEASED,
					   .relid = u->relid };
		post(u, &r, sizeof(r));
	}
	/* drop other channels' rescinds */
	while (take(u, SHV_MSG_RESCIND_CHANNELOFFER, 0, m)) {
		struct shv_msg_relid r = { .hdr.type = SHV_MSG_RELID_RELEASED,
					   .relid = shv_get32(m + 8) };
		post(u, &r, sizeof(r));
	}
	if (!u->bound && find_offer(u))
		bind(u);
}

static void later(struct uio_dev *u)
{
	if (!u->work_timer)
		u->work_timer = sim_loop_timer(u->h->loop, 0, work, u);
}

static void door_interrupt(struct shv_part *p, struct shv_chan *c)
{
	/* uio_hv_generic would count an event on /dev/uioN; the fake device
	 * is a regular file and the client polls */
	(void)p;
	(void)c;
}

static void door_chan_gone(struct shv_part *p, struct shv_chan *c)
{
	(void)p;
	(void)c;
}

static const struct shv_door_ops door_uio = {
	.name = "uio",
	.post = door_post,
	.interrupt = door_interrupt,
	.chan_gone = door_chan_gone,
	.page = door_page,
	.monitored = true,
};

/* --------------------------------------------------------------- setup */
static int start_dev(struct uio_door *d, struct shv_host *h, struct shv_dev *dev,
		     unsigned index)
{
	struct uio_dev *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->h = h;
	u->dev = dev;
	u->index = index;
	u->fd = -1;
	u->next_gpadl = 0xE1E10;
	u->gpa = U_GPA_BASE + U_GPA_STRIDE * index;
	u->next = d->devs;
	d->devs = u;
	char inst[37], dir[200];
	shv_guid_str(dev->inst_guid, inst);
	snprintf(dir, sizeof(dir), "%s/vmbus/devices", d->dir);
	int r = mkdirs(dir);
	snprintf(u->sysdir, sizeof(u->sysdir), "%s/%s", dir, inst);
	snprintf(dir, sizeof(dir), "%s/vmbus/drivers/uio_hv_generic", d->dir);
	if (r == 0)
		r = mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s/dev", d->dir);
	if (r == 0)
		r = mkdirs(dir);
	if (r < 0)
		return r;
	snprintf(u->path, sizeof(u->path), "%s/dev/uio%u", d->dir, index);
	u->fd = open(u->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (u->fd < 0 || ftruncate(u->fd, U_FILE) < 0)
		return -errno;
	u->mem = mmap(NULL, U_FILE, PROT_READ | PROT_WRITE, MAP_SHARED, u->fd,
		      0);
	if (u->mem == MAP_FAILED) {
		u->mem = NULL;
		return -errno;
	}
	struct stat st;
	if (fstat(u->fd, &st) < 0)
		return -errno;
	u->st_dev = st.st_dev;
	u->st_ino = st.st_ino;
	if (fanotify_mark(d->fan, FAN_MARK_ADD,
			  FAN_OPEN_PERM | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE,
			  AT_FDCWD, u->path) < 0)
		return -errno;
	/* the NIC never writes received data where the maps alias */
	if (dev->nic.rx_reserve < U_RX_RESERVE)
		dev->nic.rx_reserve = U_RX_RESERVE;
	char name[16];
	snprintf(name, sizeof(name), "uio%u", index);
	u->part = shv_part_new(h, &door_uio, u, name);
	if (!u->part)
		return -EUSERS;
	r = sim_mem_add(&u->part->mem, u->gpa, U_FILE, u->fd, 0);
	if (r < 0)
		return r;
	reset_rings(u);
	/* connect as Linux does: the newest version the host takes */
	struct shv_msg_initiate_contact c;
	memset(&c, 0, sizeof(c));
	c.hdr.type = SHV_MSG_INITIATE_CONTACT;
	c.version = h->max_version;
	c.monitor_page1 = u->gpa + U_MON1;
	c.monitor_page2 = u->gpa + U_MON;
	bool v5 = c.version >= SHV_VMBUS_V5_0;
	c.interrupt_page_or_sint = v5 ? SHV_VMBUS_SINT : 0;
	shv_vmbus_post(u->part, v5 ? SHV_CONNID_MESSAGE_4 : SHV_CONNID_MESSAGE,
		       1, &c, sizeof(c));
	uint8_t m[SHV_MSG_PAYLOAD_MAX];
	if (!take(u, SHV_MSG_VERSION_RESPONSE, 0, m) || !m[8])
		return -EPROTO;
	struct shv_msg_hdr ro = { .type = SHV_MSG_REQUESTOFFERS };
	post(u, &ro, sizeof(ro));
	take(u, SHV_MSG_ALLOFFERS_DELIVERED, 0, NULL);
	if (!find_offer(u)) {
		shv_warn("uio%u: %s was not offered with a monitor id; "
			 "uio_hv_generic needs one", index, dev->name);
		return -ENODEV;
	}
	return bind(u);
}

int shv_uio_start(struct shv_host *h, const char *dir)
{
	struct uio_door *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	d->h = h;
	h->uio = d;
	d->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
			       O_RDONLY | O_CLOEXEC);
	if (d->fan < 0)
		return -errno;
	if (sim_loop_add(h->loop, d->fan, EPOLLIN, on_fanotify, d) < 0)
		return -ENOMEM;
	unsigned n = 0;
	for (unsigned i = 0; i < h->ndevs; i++) {
		struct shv_dev *dev = h->devs[i];
		if (dev->kind != SHV_DEV_NIC || !dev->nic.uio)
			continue;
		int r = start_dev(d, h, dev, n++);
		if (r < 0) {
			fprintf(stderr, "pvio sim hyperv: uio%u (%s): %s\n",
				n - 1, dev->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

void shv_uio_stop(struct shv_host *h)
{
	struct uio_door *d = h->uio;
	if (!d)
		return;
	while (d->devs) {
		struct uio_dev *u = d->devs;
		d->devs = u->next;
		if (u->work_timer)
			sim_loop_cancel(h->loop, u->work_timer);
		sim_mem_clear(&u->client);
		if (u->part)
			shv_part_free(u->part);
		if (u->mem)
			munmap(u->mem, U_FILE);
		if (u->fd >= 0)
			close(u->fd);
		rm_tree(u->sysdir);
		unlink(u->path);
		free(u);
	}
	if (d->fan >= 0) {
		sim_loop_del(h->loop, d->fan);
		close(d->fan); /* openers still held are let through */
	}
	char p[240];
	snprintf(p, sizeof(p), "%s/vmbus/drivers/uio_hv_generic", d->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/vmbus/drivers", d->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/vmbus/devices", d->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/vmbus", d->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/dev", d->dir);
	rmdir(p);
	free(d);
	h->uio = NULL;
}

static struct uio_dev *find_dev(struct shv_host *h, const struct shv_dev *dev)
{
	struct uio_door *d = h->uio;
	for (struct uio_dev *u = d ? d->devs : NULL; u; u = u->next)
		if (u->dev == dev)
			return u;
	return NULL;
}

void shv_uio_status(struct shv_host *h, const struct shv_dev *dev, char *buf,
		    size_t len)
{
	struct uio_dev *u = find_dev(h, dev);
	buf[0] = 0;
	if (u)
		snprintf(buf, len,
			 "uio=uio%u relid=%u monitor_id=%u bound=%d open=%d "
			 "pid=%d openers=%u clients=%llu client_maps=%u",
			 u->index, u->relid, u->monitor_id, u->bound, u->open,
			 u->pid, u->nopeners, (unsigned long long)u->attaches,
			 u->client.n);
}
