/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/hostif_linux.c - the "xen:vbd/N" and "xen:vif/N" address
 * scheme: pvio as the front end of a real Xen device from Linux user
 * space (in a guest, or in dom0 attached to dom0's own back ends), with
 * no kernel front end involved.
 *
 *  - xenstore: xenstored's unix socket (dom0), else the kernel's
 *    /dev/xen/xenbus (any domain), or the path given with ?xenstore=PATH.
 *    Our domain id is the relative node "domid", which the toolstack
 *    writes (xen-init-dom0 in dom0).
 *  - shared pages: /dev/xen/gntalloc.  The kernel allocates zeroed pages,
 *    grants them to the back end's domain and lets us mmap them.  We
 *    cannot write grant entries for arbitrary pages, so h->gnttab is NULL
 *    and blk.c / net.c copy data through pools of such pages, granted
 *    once: exactly what persistent grants want.  Ending access is the
 *    kernel's (when the last mapping and the allocation are gone); a page
 *    the peer still maps is kept by the kernel until the peer lets go
 *    (gnttab's deferred list), never reused while mapped.  gntalloc
 *    limits the pages all its users hold (module parameter `limit`); we
 *    report it as share_limit so the copy pools are sized to fit.
 *  - event channels: one /dev/xen/evtchn descriptor per channel, so
 *    every queue has its own pollable descriptor.  A port that fired is
 *    masked by the kernel until we write it back (evtchn_ack).
 *  - the toolstack's part is not ours: the device's xenstore directories
 *    must exist (xl block-attach / network-attach, or a harness writing
 *    the nodes); we never create or remove them.
 *
 * Nothing here is on the data path except evtchn_notify (one ioctl, the
 * protocol's notification) and evtchn_ack (read + write per interrupt).
 */
#include "xen.h"
#include "linux_abi.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Pages handed out by one gntalloc allocation. */
struct lx_share {
	struct lx_share *next;
	void *va;
	uint64_t index;
	uint32_t npages;
};

struct xlin {
	struct xen_hostif h;
	int gnt;              /* /dev/xen/gntalloc */
	int xs;               /* xenstored socket or xenbus device */
	bool xs_sock;
	struct lx_share *shares;
	char xspath[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static inline struct xlin *lx_of(struct xen_hostif *h)
{
	return (struct xlin *)h;
}

static int ms_left(const pvio_ctx *ctx, uint64_t deadline)
{
	uint64_t now = pvio_now_ns(ctx);
	if (now >= deadline)
		return 0;
	uint64_t ms = (deadline - now + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* ---------------------------------------------------------------- xenstore */

static int l_xs_write(struct xen_hostif *h, const void *buf, size_t len,
		      uint64_t deadline)
{
	struct xlin *x = lx_of(h);
	size_t done = 0;
	while (done < len) {
		ssize_t n;
		if (x->xs_sock)
			n = send(x->xs, (const char *)buf + done, len - done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(x->xs, (const char *)buf + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		/* the xenbus device never blocks a writer; a socket may */
		struct pollfd p = { .fd = x->xs, .events = POLLOUT };
		int r = poll(&p, 1, ms_left(h->ctx, deadline));
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

static int l_xs_read(struct xen_hostif *h, void *buf, size_t len)
{
	struct xlin *x = lx_of(h);
	for (;;) {
		ssize_t n = read(x->xs, buf, len);
		if (n > 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

static int l_xs_wait(struct xen_hostif *h, uint64_t deadline)
{
	struct pollfd p = { .fd = lx_of(h)->xs, .events = POLLIN };
	int r = poll(&p, 1, ms_left(h->ctx, deadline));
	if (r < 0)
		return errno == EINTR ? 1 : -errno;
	return r > 0;
}

static int l_xs_fd(struct xen_hostif *h)
{
	return lx_of(h)->xs;
}

/* ---------------------------------------------------------------- event channels */

static int l_evtchn_alloc(struct xen_hostif *h, uint16_t remote,
			  struct xen_evtchn *ev)
{
	(void)h;
	int fd = open(XEN_LX_EVTCHN, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct xen_lx_evtchn_bind_unbound b = { .remote_domain = remote };
	int port = ioctl(fd, XEN_LX_IOCTL_EVTCHN_BIND_UNBOUND, &b);
	if (port < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	ev->port = (uint32_t)port;
	ev->fd[0] = fd;
	ev->fd[1] = -1;
	ev->open = true;
	return 0;
}

static void l_evtchn_close(struct xen_hostif *h, struct xen_evtchn *ev)
{
	(void)h;
	if (!ev->open)
		return;
	/* closing the descriptor unbinds (and closes) its port */
	close(ev->fd[0]);
	ev->fd[0] = -1;
	ev->open = false;
}

static void l_evtchn_notify(struct xen_hostif *h, struct xen_evtchn *ev)
{
	(void)h;
	struct xen_lx_evtchn_port p = { .port = ev->port };
	/* fails only for a port this descriptor does not hold */
	if (ioctl(ev->fd[0], XEN_LX_IOCTL_EVTCHN_NOTIFY, &p) < 0)
		return;
}

static int l_evtchn_fd(struct xen_hostif *h, struct xen_evtchn *ev)
{
	(void)h;
	return ev->open ? ev->fd[0] : -EBADF;
}

static int l_evtchn_ack(struct xen_hostif *h, struct xen_evtchn *ev)
{
	(void)h;
	uint32_t ports[16];
	int n = 0;
	if (!ev->open)
		return 0;
	for (;;) {
		ssize_t r = read(ev->fd[0], ports, sizeof(ports));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (int)((size_t)r / sizeof(uint32_t));
		if ((size_t)r < sizeof(ports))
			break;
	}
	if (n > 0) {
		/* the kernel masked the port when it fired: unmask it
		 * (edges that came meanwhile are redelivered) */
		uint32_t p = ev->port;
		if (write(ev->fd[0], &p, sizeof(p)) < 0)
			return n;
	}
	return n;
}

/* ---------------------------------------------------------------- shared pages */

static int l_share(struct xen_hostif *h, uint16_t domid, uint32_t npages,
		   bool ro, struct xen_shared *sh)
{
	struct xlin *x = lx_of(h);
	pvio_ctx *ctx = h->ctx;

	memset(sh, 0, sizeof(*sh));
	if (!npages || npages > (UINT32_MAX - sizeof(struct xen_lx_gntalloc_alloc)) /
				       sizeof(uint32_t))
		return -EINVAL;
	if (h->share_limit && npages > xen_share_room(h))
		return -ENOSPC;
	size_t asz = sizeof(struct xen_lx_gntalloc_alloc) +
		     (size_t)(npages - 1) * sizeof(uint32_t);
	struct xen_lx_gntalloc_alloc *a = pvio_zalloc(ctx, asz);
	struct lx_share *rec = pvio_zalloc(ctx, sizeof(*rec));
	uint32_t *refs = pvio_zalloc(ctx, npages * sizeof(uint32_t));
	if (!a || !rec || !refs) {
		pvio_free(ctx, a);
		pvio_free(ctx, rec);
		pvio_free(ctx, refs);
		return -ENOMEM;
	}
	a->domid = domid;
	a->flags = ro ? 0 : XEN_LX_GNTALLOC_WRITABLE;
	a->count = npages;
	if (ioctl(x->gnt, XEN_LX_IOCTL_GNTALLOC_ALLOC, a) < 0) {
		int e = errno;
		pvio_free(ctx, a);
		pvio_free(ctx, rec);
		pvio_free(ctx, refs);
		if (e == ENOSPC)
			pvio_log(ctx, PVIO_LOG_WARN,
				 "xen: gntalloc has no room for %u more pages "
				 "(its limit, for all its users together, is "
				 "%s)",
				 npages, XEN_LX_GNTALLOC_LIMIT);
		return -e;
	}
	size_t bytes = (size_t)npages * XEN_PAGE_SIZE;
	void *va = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, x->gnt,
			(off_t)a->index);
	if (va == MAP_FAILED) {
		int e = errno;
		struct xen_lx_gntalloc_dealloc d = { .index = a->index,
						     .count = npages };
		ioctl(x->gnt, XEN_LX_IOCTL_GNTALLOC_DEALLOC, &d);
		pvio_free(ctx, a);
		pvio_free(ctx, rec);
		pvio_free(ctx, refs);
		return -e;
	}
	/* gntalloc zeroes each page before granting it (alloc_page with
	 * __GFP_ZERO): nothing of ours or the kernel's is in them (XSA-403) */
	memcpy(refs, a->gref_ids, npages * sizeof(uint32_t));
	rec->va = va;
	rec->index = a->index;
	rec->npages = npages;
	rec->next = x->shares;
	x->shares = rec;
	pvio_free(ctx, a);
	sh->va = va;
	sh->npages = npages;
	sh->refs = refs;
	h->shared += npages;
	return 0;
}

static uint32_t l_unshare(struct xen_hostif *h, struct xen_shared *sh)
{
	struct xlin *x = lx_of(h);
	if (!sh->va)
		return 0;
	struct lx_share **pp = &x->shares;
	while (*pp && (*pp)->va != sh->va)
		pp = &(*pp)->next;
	struct lx_share *rec = *pp;
	if (rec) {
		/* Both steps drop a use of each page; at the last one the
		 * kernel ends access, or - if the peer still maps the page -
		 * keeps page and grant until it unmaps. */
		munmap(rec->va, (size_t)rec->npages * XEN_PAGE_SIZE);
		struct xen_lx_gntalloc_dealloc d = { .index = rec->index,
						     .count = rec->npages };
		if (ioctl(x->gnt, XEN_LX_IOCTL_GNTALLOC_DEALLOC, &d) < 0)
			pvio_log(h->ctx, PVIO_LOG_WARN,
				 "xen: gntalloc refused to release %u pages: "
				 "%s",
				 rec->npages, pvio_strerror(errno));
		*pp = rec->next;
		pvio_free(h->ctx, rec);
		h->shared -= sh->npages;
	}
	pvio_free(h->ctx, sh->refs);
	sh->va = NULL;
	sh->refs = NULL;
	sh->npages = 0;
	/* what the peer still maps is the kernel's to keep, not ours */
	return 0;
}

/* ---------------------------------------------------------------- toolstack */

static int l_device_attach(struct xen_hostif *h, const char *type,
			   uint32_t devid)
{
	(void)h, (void)type, (void)devid;
	/* the toolstack attaches devices to domains; we only use them */
	return -EEXIST;
}

static int l_device_detach(struct xen_hostif *h, const char *type,
			   uint32_t devid)
{
	(void)h, (void)type, (void)devid;
	return 0;
}

/* ---------------------------------------------------------------- lifecycle */

static void l_close(struct xen_hostif *h)
{
	struct xlin *x = lx_of(h);
	pvio_ctx *ctx = h->ctx;
	while (x->shares) {
		/* callers unshare everything; this only runs after a bug */
		struct lx_share *rec = x->shares;
		x->shares = rec->next;
		munmap(rec->va, (size_t)rec->npages * XEN_PAGE_SIZE);
		pvio_free(ctx, rec);
	}
	if (x->xs >= 0)
		close(x->xs);
	if (x->gnt >= 0)
		close(x->gnt); /* releases whatever is still allocated */
	pvio_free(ctx, x);
}

static const struct xen_hostif_ops linux_ops = {
	.close = l_close,
	.xs_write = l_xs_write,
	.xs_read = l_xs_read,
	.xs_wait = l_xs_wait,
	.xs_fd = l_xs_fd,
	.evtchn_alloc = l_evtchn_alloc,
	.evtchn_close = l_evtchn_close,
	.evtchn_notify = l_evtchn_notify,
	.evtchn_fd = l_evtchn_fd,
	.evtchn_ack = l_evtchn_ack,
	.share = l_share,
	.unshare = l_unshare,
	.device_attach = l_device_attach,
	.device_detach = l_device_detach,
};

/* 0 and the descriptor in x->xs, or -errno. */
static int xs_connect_sock(struct xlin *x, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (pvio_strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	pvio_strlcpy(a.sun_path, path, sizeof(a.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	x->xs = fd;
	x->xs_sock = true;
	return 0;
}

static int xs_open_dev(struct xlin *x, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	x->xs = fd;
	x->xs_sock = false;
	return 0;
}

/* A path given with ?xenstore=: a socket or a character device. */
static int xs_open_path(struct xlin *x, const char *path)
{
	int r = xs_connect_sock(x, path);
	if (r == -ENOTSOCK || r == -ECONNREFUSED)
		r = xs_open_dev(x, path);
	return r;
}

static int xs_open_default(struct xlin *x)
{
	static const char *const socks[] = { XEN_LX_XS_SOCKET,
					     XEN_LX_XS_SOCKET_OLD };
	for (unsigned i = 0; i < 2; i++) {
		if (xs_connect_sock(x, socks[i]) == 0) {
			pvio_strlcpy(x->xspath, socks[i], sizeof(x->xspath));
			return 0;
		}
	}
	int r = xs_open_dev(x, XEN_LX_XENBUS);
	if (r == 0)
		pvio_strlcpy(x->xspath, XEN_LX_XENBUS, sizeof(x->xspath));
	return r;
}

/* Our domain id: the toolstack's "domid" node, relative to our domain's
 * directory (xenstored resolves it for the connection). */
static int read_domid(struct xlin *x)
{
	pvio_ctx *ctx = x->h.ctx;
	struct xs_client *xs = pvio_zalloc(ctx, sizeof(*xs));
	uint64_t v = 0;
	if (!xs)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	xs_init(xs, ctx, &x->h);
	int r = xs_read_u64(xs, 0, "domid", 0x7FEF, &v);
	pvio_free(ctx, xs);
	if (r == -ENOENT)
		return pvio_set_error(ctx, ENODEV,
				      "xenstore (%s) has no 'domid' node for "
				      "this domain; in dom0 run xen-init-dom0 "
				      "(or write /local/domain/0/domid)",
				      x->xspath);
	if (r < 0)
		return pvio_set_error(ctx, r == -EINVAL || r == -ERANGE ? EPROTO
									: -r,
				      "cannot read our domain id from xenstore "
				      "(%s): %s",
				      x->xspath, pvio_strerror(r));
	x->h.domid = (uint16_t)v;
	return 0;
}

static uint32_t gntalloc_limit(void)
{
	char b[24];
	uint64_t v;
	int fd = open(XEN_LX_GNTALLOC_LIMIT, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1024; /* the module's default */
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 1024;
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' '))
		n--;
	b[n] = '\0';
	if (pvio_parse_u64(b, INT32_MAX, &v) < 0 || v == 0)
		return 1024;
	return (uint32_t)v;
}

/* Copy spec without its xenstore= option (ours, not transport.c's). */
static int take_xs_opt(pvio_ctx *ctx, const char *rest, char *spec,
		       size_t cap, char *xspath, size_t xcap)
{
	const char *q = pvio_strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : pvio_strlen(rest);
	xspath[0] = '\0';
	if (n >= cap)
		return pvio_set_error(ctx, EINVAL, "'%s': too long", rest);
	memcpy(spec, rest, n);
	size_t o = n;
	bool first = true;
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		size_t k = 0;
		while (p[k] && p[k] != '&')
			k++;
		if (k > 9 && !pvio_strncmp(p, "xenstore=", 9)) {
			if (k - 9 >= xcap)
				return pvio_set_error(ctx, ENAMETOOLONG,
						      "'%s': the xenstore path "
						      "is too long",
						      rest);
			memcpy(xspath, p + 9, k - 9);
			xspath[k - 9] = '\0';
		} else if (k) {
			if (o + k + 2 > cap)
				return pvio_set_error(ctx, EINVAL,
						      "'%s': too long", rest);
			spec[o++] = first ? '?' : '&';
			memcpy(spec + o, p, k);
			o += k;
			first = false;
		}
		p += k;
		if (*p == '&')
			p++;
	}
	spec[o] = '\0';
	return 0;
}

static int linux_open(pvio_ctx *ctx, const char *address, const char *rest,
		      pvio_dev **out)
{
	char type[4], spec[256];
	uint32_t devid;
	struct xen_opts o;
	int r;

	if (!pvio_ctx_hosted(ctx))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "%s: the xen scheme needs hosted pvio on "
				      "Linux (/dev/xen)",
				      address);
	if (sysconf(_SC_PAGESIZE) != XEN_PAGE_SIZE)
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "%s: gntalloc shares kernel pages, which "
				      "are not 4096 bytes here",
				      address);
	struct xlin *x = pvio_zalloc(ctx, sizeof(*x));
	if (!x)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	x->h.ops = &linux_ops;
	x->h.ctx = ctx;
	x->h.name = "xen";
	x->h.gnttab = NULL; /* only gntalloc grants: blk.c / net.c copy */
	x->gnt = x->xs = -1;

	r = take_xs_opt(ctx, rest, spec, sizeof(spec), x->xspath,
			sizeof(x->xspath));
	if (r < 0)
		goto fail;
	r = xen_parse_device(ctx, spec, type, &devid, &o);
	if (r < 0)
		goto fail;

	x->gnt = open(XEN_LX_GNTALLOC, O_RDWR | O_CLOEXEC);
	if (x->gnt < 0) {
		r = pvio_set_error(ctx, errno,
				   "cannot open %s: %s; is this a Xen domain "
				   "with the xen-gntalloc module loaded "
				   "(modprobe xen-gntalloc)?",
				   XEN_LX_GNTALLOC, pvio_strerror(errno));
		goto fail;
	}
	int efd = open(XEN_LX_EVTCHN, O_RDWR | O_CLOEXEC);
	if (efd < 0) {
		r = pvio_set_error(ctx, errno,
				   "cannot open %s: %s; load the xen-evtchn "
				   "module (modprobe xen-evtchn)",
				   XEN_LX_EVTCHN, pvio_strerror(errno));
		goto fail;
	}
	close(efd);
	x->h.share_limit = gntalloc_limit();
	x->h.share_what = "gntalloc's limit allows (for all its users "
			  "together: " XEN_LX_GNTALLOC_LIMIT ")";

	if (x->xspath[0]) {
		r = xs_open_path(x, x->xspath);
		if (r < 0) {
			r = pvio_set_error(ctx, -r,
					   "cannot reach xenstore at %s: %s",
					   x->xspath, pvio_strerror(r));
			goto fail;
		}
	} else {
		r = xs_open_default(x);
		if (r < 0) {
			r = pvio_set_error(ctx, -r,
					   "cannot reach xenstore: no xenstored "
					   "socket at %s and %s: %s; is "
					   "xenstored running (dom0), or this "
					   "not a Xen domain?",
					   XEN_LX_XS_SOCKET, XEN_LX_XENBUS,
					   pvio_strerror(r));
			goto fail;
		}
	}
	r = read_domid(x);
	if (r < 0)
		goto fail;
	pvio_log(ctx, PVIO_LOG_DEBUG,
		 "xen: domain %u, xenstore %s, gntalloc limit %u pages",
		 x->h.domid, x->xspath, x->h.share_limit);
	return xen_open(ctx, &x->h, type, devid, &o, out);
fail:
	l_close(&x->h);
	return r;
}

const struct pvio_backend pvio_backend_xen = {
	.scheme = "xen",
	.family = PVIO_FAMILY_XEN,
	.summary = "a vbd or vif of the Xen domain we run in (Linux /dev/xen): "
		   "xen:vbd/N, xen:vif/N",
	.open = linux_open,
};
