/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/hostif_uio.c - reaching Hyper-V from user space inside a
 * Linux guest, through uio_hv_generic (shared/specs/hyperv-vmbus.md sec.
 * 13, shared/specs/vmbus-uio-dpdk.md): the guest kernel's VMBus driver owns
 * the connection, made the offer's ring and GPADL'd a receive and a send
 * buffer; it opens the channel when /dev/uioN is opened.  So this host
 * interface has no channel messages at all:
 *
 *   find/open  the device's sysfs directory /sys/bus/vmbus/devices/<uuid>:
 *              class_id, id (the relid), monitor_id, uio/uioN/maps/mapK
 *              (name, size); /dev/uioN mapped at K x page size:
 *              0 txrx_rings (send ring, then receive ring), 1 int_page,
 *              2 monitor_page, 3 recv:<gpadl>, 4 send:<gpadl>
 *   buf_get    the kernel's receive/send buffer and its GPADL handle
 *   signal     the channel's bit in the monitor page's trigger group (user
 *              space cannot make a hypercall); the rings' own rules
 *              (interrupt_mask, pending_send_sz) decide when
 *   irq_fd     /dev/uioN when it is the kernel's device: readable when the
 *              host interrupted one of the device's channels (reading
 *              consumes it); a regular file (the simulated host's fake
 *              device) gives none, and pvio polls
 *   pfn        the host addresses guest memory physically: a DMA page's
 *              guest frame number is its physical frame
 *              (/proc/self/pagemap, the pool locked in memory first);
 *              with ?iova=va, the default for the simulated host's fake
 *              device, the host reads our virtual addresses, as DPDK's
 *              IOVA-as-VA mode does
 *   service    the device leaving sysfs (rescind) marks the channel gone
 *
 * Sub-channels (channels/<relid>/ring) are not used: one queue.  The
 * `vmbus-uio:UUID` address scheme (pvio_backend_vmbus_uio) is at the end:
 * this file is only in the hosted library.
 */
#include "dev.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SYSFS_VMBUS "/sys/bus/vmbus/devices"
#define UIO_MAPS 5
#define MAP_RING 0
#define MAP_MONITOR 2
#define MAP_RECV 3
#define MAP_SEND 4

struct pa_table {
	uint64_t dev_addr;
	size_t pages;
	uint64_t *pfn;
};

struct huio {
	struct vmbus_hostif h;
	char dir[256];             /* the device's sysfs directory */
	struct vmbus_offer offer;
	int fd;                    /* /dev/uioN */
	bool irq;                  /* it is a character device */
	struct {
		uint8_t *va;
		size_t len;
	} map[UIO_MAPS];
	uint32_t gpadl[UIO_MAPS];
	bool va_mode;
	unsigned npa;
	struct pa_table pa[8];
	struct vmbus_chan *primary;
};

static struct huio *U(const struct vmbus_hostif *h)
{
	return (struct huio *)h;
}

/* ---------------------------------------------------------------- sysfs */

/* One line of dir/name into buf (newline removed): 0 or -errno. */
static int sys_read(const char *dir, const char *name, char *buf, size_t size)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return 0;
}

static int sys_u64(const char *dir, const char *name, uint64_t max,
		   uint64_t *v)
{
	char buf[64];
	int r = sys_read(dir, name, buf, sizeof(buf));
	if (r < 0)
		return r;
	return pvio_parse_u64(buf, max, v);
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "{f8615163-df3e-46c5-913f-f2d2f965ed0e}" (braces optional) into the
 * wire form. */
static int parse_guid(const char *s, struct vmbus_guid *g)
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
				       8, 9, 10, 11, 12, 13, 14, 15 };
	size_t n = strlen(s);
	if (n == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		n = 36;
	}
	if (n != 36)
		return -EINVAL;
	int k = 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hexv(s[i]), lo = hexv(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		g->b[order[k++]] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return 0;
}

/* The uio device number under dir/uio: uioN. */
static int find_uio(const char *dir, unsigned *num)
{
	char path[400];
	for (unsigned n = 0; n < 256; n++) {
		snprintf(path, sizeof(path), "%s/uio/uio%u", dir, n);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			*num = n;
			return 0;
		}
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ addresses */

static uint64_t pfn_va(const struct vmbus_hostif *h, uint64_t a)
{
	const uint8_t *va = pvio_dma_to_va(h->ctx, a, 1);
	return va ? (uint64_t)(uintptr_t)va >> VMBUS_PAGE_SHIFT : 0;
}

static uint64_t pfn_pa(const struct vmbus_hostif *h, uint64_t a)
{
	const struct huio *u = U(h);
	for (unsigned i = 0; i < u->npa; i++) {
		const struct pa_table *t = &u->pa[i];
		if (a >= t->dev_addr &&
		    (a - t->dev_addr) >> VMBUS_PAGE_SHIFT < t->pages)
			return t->pfn[(a - t->dev_addr) >> VMBUS_PAGE_SHIFT];
	}
	return 0;
}

/* Lock the DMA pool in memory and read each page's physical frame from
 * /proc/self/pagemap (bits 54..0, bit 63 present; root only). */
static int pa_tables(struct huio *u)
{
	pvio_ctx *ctx = u->h.ctx;
	const struct pvio_dma_region *regs;
	unsigned n = pvio_dma_regions(ctx, &regs);
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return pvio_set_error(ctx, errno, "vmbus-uio: cannot open "
						   "/proc/self/pagemap: %s",
				      pvio_strerror(-errno));
	int r = 0;
	for (unsigned i = 0; i < n && i < 8 && r == 0; i++) {
		struct pa_table *t = &u->pa[u->npa];
		t->dev_addr = regs[i].dev_addr;
		t->pages = regs[i].len / VMBUS_PAGE;
		t->pfn = pvio_zalloc(ctx, t->pages * sizeof(uint64_t));
		if (!t->pfn) {
			r = pvio_set_error(ctx, ENOMEM, "out of memory");
			break;
		}
		u->npa++;
		if (mlock(regs[i].va, regs[i].len) < 0) {
			r = pvio_set_error(ctx, errno,
					   "vmbus-uio: cannot lock %zu bytes of "
					   "DMA memory: %s; the host addresses "
					   "it physically (raise RLIMIT_MEMLOCK "
					   "or use a smaller dma_pool_size)",
					   regs[i].len, pvio_strerror(-errno));
			break;
		}
		uint64_t vpn = (uint64_t)(uintptr_t)regs[i].va / VMBUS_PAGE;
		for (size_t k = 0; k < t->pages; k++) {
			/* make sure the page is there (mlock populates it,
			 * but not where mlock is intercepted, e.g. ASan) */
			volatile uint8_t *pg = (volatile uint8_t *)regs[i].va +
					       k * VMBUS_PAGE;
			pg[0] = pg[0];
			uint64_t e = 0;
			if (pread(pm, &e, 8, (off_t)((vpn + k) * 8)) != 8 ||
			    !(e >> 63) || !(e & ((1ull << 55) - 1))) {
				r = pvio_set_error(ctx, EPERM,
						   "vmbus-uio: /proc/self/pagemap "
						   "gives no physical frame for "
						   "DMA memory (needs "
						   "CAP_SYS_ADMIN); use "
						   "?iova=va only with the "
						   "simulated host");
				break;
			}
			t->pfn[k] = e & ((1ull << 55) - 1);
		}
	}
	close(pm);
	return r;
}

/* ---------------------------------------------------------------- ops */

static int h_find(struct vmbus_hostif *h, const struct vmbus_guid *cls,
		  unsigned idx, struct vmbus_offer *out)
{
	struct huio *u = U(h);
	if (idx || !vmbus_guid_eq(cls, &u->offer.if_type))
		return -ENODEV;
	*out = u->offer;
	return 0;
}

static int h_open(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint32_t ring_bytes)
{
	struct huio *u = U(h);
	(void)ring_bytes; /* the kernel chose the ring size */
	if (ch->offer.relid != u->offer.relid || ch->offer.sub_index)
		return pvio_set_error(h->ctx, ENODEV,
				      "vmbus-uio: channel %u is not this "
				      "device's primary channel",
				      ch->offer.relid);
	size_t half = u->map[MAP_RING].len / 2;
	uint8_t *mem = u->map[MAP_RING].va;
	vmbus_ring_init(&ch->tx, mem, (uint32_t)half);
	vmbus_ring_init(&ch->rx, mem + half, (uint32_t)half);
	/* the kernel set the rings up at open; continue where they stand
	 * (a fresh open: both at 0) */
	uint32_t w = pvio_read32((const void *)ch->tx.hdr);
	uint32_t r = pvio_read32((const void *)(ch->rx.hdr + 4));
	if (w >= ch->tx.size || (w & 7) || r >= ch->rx.size || (r & 7))
		return pvio_set_error(h->ctx, EIO,
				      "vmbus-uio: %s: ring indices out of "
				      "range; reload uio_hv_generic",
				      u->dir);
	ch->tx.priv = ch->tx.pub = w;
	ch->rx.priv = ch->rx.pub = ch->rx.host_w = r;
	ch->ring_bytes = (uint32_t)half;
	ch->hostif = h;
	ch->open = true;
	u->primary = ch;
	/* how soon the host should look at our trigger bit (100 ns units):
	 * 50 us, as DPDK asks */
	uint8_t id = ch->offer.monitor_id;
	pvio_write16(u->map[MAP_MONITOR].va + 576 + 2u * id, 500);
	return 0;
}

static void h_close(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct huio *u = U(h);
	ch->open = false;
	if (u->primary == ch)
		u->primary = NULL;
}

static int h_buf_get(struct vmbus_hostif *h, struct vmbus_chan *ch,
		     enum vmbus_buf_kind kind, size_t size,
		     struct vmbus_buf *out)
{
	struct huio *u = U(h);
	(void)ch;
	(void)size; /* the kernel's buffers, whatever their size */
	unsigned m = kind == VMBUS_BUF_RECV ? MAP_RECV : MAP_SEND;
	memset(out, 0, sizeof(*out));
	out->va = u->map[m].va;
	out->len = u->map[m].len;
	out->gpadl = u->gpadl[m];
	out->gpadl_live = false; /* the kernel's to tear down */
	return 0;
}

static void h_buf_put(struct vmbus_hostif *h, struct vmbus_chan *ch,
		      struct vmbus_buf *b)
{
	(void)h;
	(void)ch;
	memset(b, 0, sizeof(*b));
}

static void h_signal(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct huio *u = U(h);
	uint8_t id = ch->offer.monitor_id;
	uint32_t *pending = (uint32_t *)(void *)(u->map[MAP_MONITOR].va + 8 +
						 8u * (id / 32u));
	__atomic_fetch_or(pending, PVIO_LE32(1u << (id % 32u)),
			  __ATOMIC_SEQ_CST);
}

static int h_irq_fd(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)ch;
	return U(h)->irq ? U(h)->fd : -EOPNOTSUPP;
}

static void h_irq_ack(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct huio *u = U(h);
	(void)ch;
	uint32_t count;
	if (u->irq && read(u->fd, &count, sizeof(count)) < 0) {
		/* nothing pending (non-blocking) */
	}
}

static int h_service(struct vmbus_hostif *h)
{
	struct huio *u = U(h);
	uint64_t relid;
	if (h->lost)
		return -ENOTCONN;
	/* rescinded: the kernel took the device out of sysfs (a re-offer
	 * comes back under another relid) */
	if (sys_u64(u->dir, "id", VMBUS_RELID_MAX, &relid) < 0 ||
	    relid != u->offer.relid) {
		h->lost = 1;
		if (u->primary)
			__atomic_store_n(&u->primary->gone, 1,
					 __ATOMIC_RELEASE);
		return -ENOTCONN;
	}
	return 0;
}

static int h_wait(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint64_t deadline)
{
	struct huio *u = U(h);
	(void)ch;
	uint64_t now = pvio_now_ns(h->ctx);
	if (now >= deadline)
		return 0;
	uint64_t left = deadline - now;
	if (u->irq) {
		struct pollfd p = { .fd = u->fd, .events = POLLIN };
		uint64_t ms = (left + 999999) / 1000000;
		int r = poll(&p, 1, ms > 100 ? 100 : (int)ms);
		if (r > 0)
			h_irq_ack(h, ch);
	} else {
		/* no interrupt to sleep on: look again soon */
		struct timespec ts = { 0, left < 200000 ? (long)left : 200000 };
		nanosleep(&ts, NULL);
	}
	int s = h_service(h);
	return s < 0 ? s : 1;
}

static int h_event_fd(struct vmbus_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}

static void h_free(struct vmbus_hostif *h)
{
	struct huio *u = U(h);
	for (unsigned i = 0; i < UIO_MAPS; i++)
		if (u->map[i].va)
			munmap(u->map[i].va, u->map[i].len);
	if (u->fd >= 0)
		close(u->fd);
	for (unsigned i = 0; i < u->npa; i++)
		pvio_free(h->ctx, u->pa[i].pfn);
	pvio_free(h->ctx, u);
}

static const struct vmbus_hostif_ops uio_ops_va = {
	.find = h_find,
	.subchannels = NULL, /* one queue */
	.open = h_open,
	.close = h_close,
	.buf_get = h_buf_get,
	.buf_put = h_buf_put,
	.signal = h_signal,
	.irq_fd = h_irq_fd,
	.irq_ack = h_irq_ack,
	.wait = h_wait,
	.service = h_service,
	.event_fd = h_event_fd,
	.free = h_free,
	.pfn = pfn_va,
};

static const struct vmbus_hostif_ops uio_ops_pa = {
	.find = h_find,
	.subchannels = NULL, /* one queue */
	.open = h_open,
	.close = h_close,
	.buf_get = h_buf_get,
	.buf_put = h_buf_put,
	.signal = h_signal,
	.irq_fd = h_irq_fd,
	.irq_ack = h_irq_ack,
	.wait = h_wait,
	.service = h_service,
	.event_fd = h_event_fd,
	.free = h_free,
	.pfn = pfn_pa,
};

/* ---------------------------------------------------------------- open */

static const char *const map_names[UIO_MAPS] = {
	"txrx_rings", "int_page", "monitor_page", "recv:", "send:",
};

static int map_all(struct huio *u, const char uiodir[320])
{
	pvio_ctx *ctx = u->h.ctx;
	for (unsigned i = 0; i < UIO_MAPS; i++) {
		char mdir[352], name[64];
		uint64_t size;
		snprintf(mdir, sizeof(mdir), "%s/maps/map%u", uiodir, i);
		if (sys_read(mdir, "name", name, sizeof(name)) < 0 ||
		    strncmp(name, map_names[i], strlen(map_names[i])) ||
		    sys_u64(mdir, "size", 1ull << 32, &size) < 0 || !size ||
		    size % VMBUS_PAGE)
			return pvio_set_error(ctx, ENODEV,
					      "vmbus-uio: %s: map %u is not "
					      "\"%s\" with a page-multiple "
					      "size; is the device bound to "
					      "uio_hv_generic?",
					      uiodir, i, map_names[i]);
		if (i == MAP_RECV || i == MAP_SEND) {
			uint64_t g;
			if (pvio_parse_u64(name + strlen(map_names[i]),
					   UINT32_MAX, &g) < 0 || !g)
				return pvio_set_error(ctx, EIO,
						      "vmbus-uio: %s: map %u "
						      "name '%s' holds no "
						      "GPADL handle",
						      uiodir, i, name);
			u->gpadl[i] = (uint32_t)g;
		}
		void *va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				u->fd, (off_t)i * VMBUS_PAGE);
		if (va == MAP_FAILED)
			return pvio_set_error(ctx, errno,
					      "vmbus-uio: cannot map %s map %u "
					      "(%s): %s",
					      uiodir, i, name,
					      pvio_strerror(-errno));
		u->map[i].va = va;
		u->map[i].len = size;
	}
	size_t half = u->map[MAP_RING].len / 2;
	if (half <= VMBUS_PAGE || half % VMBUS_PAGE || half > (1u << 30) ||
	    u->map[MAP_MONITOR].len < VMBUS_PAGE)
		return pvio_set_error(ctx, EIO,
				      "vmbus-uio: %s: a %zu-byte ring map "
				      "cannot hold two rings",
				      uiodir, u->map[MAP_RING].len);
	return 0;
}

int vmbus_hostif_uio_open(pvio_ctx *ctx, const char *uuid, const char *opts,
			  struct vmbus_hostif **out)
{
	if (!pvio_ctx_hosted(ctx))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "vmbus-uio needs the hosted Linux "
				      "platform");
	struct huio *u = pvio_zalloc(ctx, sizeof(*u));
	if (!u)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	u->h.ctx = ctx;
	u->h.name = "vmbus-uio";
	u->fd = -1;
	struct vmbus_guid inst;
	int r;
	if (parse_guid(uuid, &inst) < 0) {
		r = pvio_set_error(ctx, EINVAL,
				   "bad address 'vmbus-uio:%s': expected "
				   "vmbus-uio:UUID (a device in %s)",
				   uuid, SYSFS_VMBUS);
		goto fail;
	}
	snprintf(u->dir, sizeof(u->dir), SYSFS_VMBUS "/%s", uuid);
	char buf[64];
	uint64_t relid, mon;
	if (sys_read(u->dir, "class_id", buf, sizeof(buf)) < 0) {
		r = pvio_set_error(ctx, ENODEV,
				   "vmbus-uio: no VMBus device %s (%s/class_id "
				   "unreadable); is this a Hyper-V guest and "
				   "the UUID right?",
				   uuid, u->dir);
		goto fail;
	}
	if (parse_guid(buf, &u->offer.if_type) < 0 ||
	    sys_u64(u->dir, "id", VMBUS_RELID_MAX, &relid) < 0 || !relid ||
	    sys_u64(u->dir, "monitor_id", 255, &mon) < 0) {
		r = pvio_set_error(ctx, EIO,
				   "vmbus-uio: %s: class_id, id or monitor_id "
				   "unreadable or out of range",
				   u->dir);
		goto fail;
	}
	u->offer.if_instance = inst;
	u->offer.relid = (uint32_t)relid;
	u->offer.monitor_id = (uint8_t)mon;
	u->offer.monitor_allocated = 1;
	u->offer.present = 1;
	if (mon >= 128) {
		r = pvio_set_error(ctx, EIO,
				   "vmbus-uio: %s: monitor id %llu is not "
				   "usable from user space",
				   u->dir, (unsigned long long)mon);
		goto fail;
	}
	unsigned num;
	if (find_uio(u->dir, &num) < 0) {
		r = pvio_set_error(ctx, ENODEV,
				   "vmbus-uio: %s is not managed by "
				   "uio_hv_generic (no uio/uioN); bind it: "
				   "echo %s > /sys/bus/vmbus/drivers/"
				   "uio_hv_generic/bind",
				   u->dir, uuid);
		goto fail;
	}
	char dev[64], uiodir[320];
	snprintf(dev, sizeof(dev), "/dev/uio%u", num);
	snprintf(uiodir, sizeof(uiodir), "%s/uio/uio%u", u->dir, num);
	u->fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0) {
		r = pvio_set_error(ctx, errno, "vmbus-uio: cannot open %s: %s",
				   dev, pvio_strerror(-errno));
		goto fail;
	}
	struct stat st;
	u->irq = fstat(u->fd, &st) == 0 && S_ISCHR(st.st_mode);
	r = map_all(u, uiodir);
	if (r < 0)
		goto fail;
	/* the host reads our memory by physical address on Hyper-V; the
	 * simulated host's fake device (a regular file) by virtual address */
	char iova[8] = "";
	if (opts && pvio_opt_get(opts, "iova", iova, sizeof(iova)) == 1 &&
	    strcmp(iova, "va") && strcmp(iova, "pa")) {
		r = pvio_set_error(ctx, EINVAL, "vmbus-uio: iova=%s: expected "
					       "va or pa", iova);
		goto fail;
	}
	u->va_mode = iova[0] ? !strcmp(iova, "va") : !u->irq;
	u->h.ops = u->va_mode ? &uio_ops_va : &uio_ops_pa;
	if (!u->va_mode && (r = pa_tables(u)) < 0)
		goto fail;
	*out = &u->h;
	return 0;
fail:
	u->h.ops = &uio_ops_va;
	h_free(&u->h);
	return r;
}

/* ------------------------------------------------------------ backend */

/* "UUID[?opts]": a device bound to uio_hv_generic */
static int uio_open(pvio_ctx *ctx, const char *address, const char *rest,
		    pvio_dev **out)
{
	char uuid[40];
	const char *q = pvio_strchr(rest, '?');
	size_t len = q ? (size_t)(q - rest) : pvio_strlen(rest);
	if (len >= sizeof(uuid))
		return pvio_set_error(ctx, EINVAL,
				      "bad address '%s': expected "
				      "vmbus-uio:UUID[?iova=va|pa]",
				      address);
	memcpy(uuid, rest, len);
	uuid[len] = 0;
	struct vmbus_hostif *h;
	int r = vmbus_hostif_uio_open(ctx, uuid, q ? q + 1 : NULL, &h);
	if (r < 0)
		return r;
	struct vmbus_offer offer;
	if (h->ops->find(h, &vmbus_guid_netvsc, 0, &offer) < 0) {
		h->ops->free(h);
		return pvio_set_error(ctx, ENODEV,
				      "%s: not a synthetic NIC; pvio drives "
				      "NetVSC devices through uio_hv_generic",
				      address);
	}
	r = vmbus_net_open(ctx, h, &offer, "netvsc", q ? q + 1 : NULL, out);
	if (r < 0) {
		char msg[256];
		pvio_strlcpy(msg, pvio_errmsg(ctx), sizeof(msg));
		h->ops->free(h);
		return pvio_set_error(ctx, -r, "%s", msg);
	}
	return 0;
}

const struct pvio_backend pvio_backend_vmbus_uio = {
	.scheme = "vmbus-uio",
	.family = PVIO_FAMILY_VMBUS,
	.summary = "vmbus-uio:UUID[?iova=va|pa]  a Hyper-V NetVSC device "
		   "handed to user space by Linux uio_hv_generic",
	.open = uio_open,
};
