/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/xenstore.c - a client of xenstored's wire protocol.
 *
 * Messages are struct xsd_sockmsg headers followed by at most 4096 bytes
 * of payload (xen-pv.md section 5), carried by whatever byte stream the
 * hostif provides.  The client is synchronous - one request at a time -
 * but the stream is not: replies are matched by req_id, watch events that
 * arrive in between are queued, replies to requests that already timed
 * out are dropped.  Every wait is bounded by the context timeout.
 *
 * The server is not trusted more than any other host input: a header
 * announcing more than 4096 bytes, or a reply of the wrong type, ends the
 * connection (-EPROTO, then -EPIPE); values are length-checked and
 * NUL-terminated here, and numbers are parsed strictly by the callers.
 */
#include "xen.h"

#define HDR sizeof(struct xen_xsd_sockmsg)
#define TX_RESTARTS 32
#define STALE_MAX 64

struct part {
	const void *p;
	size_t len;
};

static const struct {
	const char *name;
	int err;
} xs_errors[] = {
	{ "EINVAL", EINVAL },   { "EACCES", EACCES },	{ "EEXIST", EEXIST },
	{ "EISDIR", EISDIR },   { "ENOENT", ENOENT },	{ "ENOMEM", ENOMEM },
	{ "ENOSPC", ENOSPC },   { "EIO", EIO },		{ "ENOTEMPTY", ENOTEMPTY },
	{ "ENOSYS", ENOSYS },   { "EROFS", EROFS },	{ "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN },   { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
	{ "EPERM", EPERM },
};

int xs_errno(const char *name)
{
	for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
		if (!pvio_strcmp(name, xs_errors[i].name))
			return xs_errors[i].err;
	return EIO;
}

int xs_init(struct xs_client *xs, pvio_ctx *ctx, struct xen_hostif *h)
{
	memset(xs, 0, sizeof(*xs));
	xs->ctx = ctx;
	xs->h = h;
	return 0;
}

static int xs_fail(struct xs_client *xs, int err, const char *why)
{
	if (!xs->dead) {
		xs->dead = true;
		xs->dead_err = err;
		pvio_log(xs->ctx, PVIO_LOG_WARN, "xenstore connection lost: %s",
			 why);
	}
	return -err;
}

/* Paths we send: absolute or relative, xenstore's character set. */
static int path_ok(const char *p)
{
	size_t n = 0;
	if (!p || !*p)
		return 0;
	for (; p[n]; n++) {
		char c = p[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '/' ||
		      c == '_' || c == '@'))
			return 0;
		if (n >= XEN_XS_ABS_PATH_MAX)
			return 0;
	}
	return 1;
}

static void queue_event(struct xs_client *xs, const uint8_t *pl, uint32_t len)
{
	/* path\0token\0 */
	const char *path = (const char *)pl;
	size_t plen = 0;
	while (plen < len && pl[plen])
		plen++;
	if (plen >= len) {
		xs->stale++;
		return;
	}
	const char *tok = path + plen + 1;
	size_t tlen = 0, rest = len - plen - 1;
	while (tlen < rest && tok[tlen])
		tlen++;
	if (tlen >= rest || tlen >= XS_EV_TOKEN) {
		/* malformed, or not a token of ours */
		xs->stale++;
		return;
	}
	if (xs->ev_tail - xs->ev_head >= XS_EVQ) {
		/* keep the newest; consumers re-read state on any event */
		xs->ev_head++;
		xs->ev_lost++;
	}
	struct xs_event *e = &xs->ev[xs->ev_tail % XS_EVQ];
	size_t c = plen < XS_EV_PATH - 1 ? plen : XS_EV_PATH - 1;
	memcpy(e->path, path, c);
	e->path[c] = '\0';
	e->trunc = c < plen;
	memcpy(e->token, tok, tlen);
	e->token[tlen] = '\0';
	xs->ev_tail++;
}

static void dispatch(struct xs_client *xs)
{
	struct xen_xsd_sockmsg m;
	memcpy(&m, xs->rx, HDR);
	uint32_t type = PVIO_LE32(m.type), id = PVIO_LE32(m.req_id);
	uint32_t len = PVIO_LE32(m.len);
	const uint8_t *pl = xs->rx + HDR;

	if (type == XEN_XS_WATCH_EVENT) {
		queue_event(xs, pl, len);
		return;
	}
	if (!xs->waiting || xs->got || id != xs->want_id) {
		xs->stale++;
		return;
	}
	xs->got = true;
	if (type == XEN_XS_ERROR) {
		size_t i = 0;
		for (; i < len && i < sizeof(xs->errname) - 1 && pl[i]; i++)
			xs->errname[i] = (char)pl[i];
		xs->errname[i] = '\0';
	}
	xs->rhdr.type = type;
	xs->rhdr.req_id = id;
	xs->rhdr.tx_id = PVIO_LE32(m.tx_id);
	xs->rhdr.len = len;
	size_t c = len < xs->rcap ? len : xs->rcap;
	if (c)
		memcpy(xs->rbuf, pl, c);
	xs->rlen = len;
}

int xs_poll(struct xs_client *xs)
{
	if (xs->dead)
		return -EPIPE;
	for (;;) {
		size_t need;
		if (xs->rx_len < HDR) {
			need = HDR - xs->rx_len;
		} else {
			uint32_t len;
			memcpy(&len, xs->rx + 12, 4);
			len = PVIO_LE32(len);
			if (len > XEN_XS_PAYLOAD_MAX)
				return xs_fail(xs, EPROTO,
					    "xenstored sent a message longer "
					    "than 4096 bytes");
			need = HDR + len - xs->rx_len;
		}
		if (need) {
			int n = xs->h->ops->xs_read(xs->h, xs->rx + xs->rx_len,
						    need);
			if (n < 0)
				return xs_fail(xs, -n == EPIPE ? EPIPE : -n,
					    "the xenstore stream ended");
			if (n == 0)
				return 0;
			if ((size_t)n > need)
				return xs_fail(xs, EPROTO, "hostif overran a read");
			xs->rx_len += (size_t)n;
			continue;
		}
		/* one whole message */
		dispatch(xs);
		xs->rx_len = 0;
		if (xs->stale > STALE_MAX)
			return xs_fail(xs, EPROTO,
				    "xenstored keeps sending replies to "
				    "requests we did not make");
	}
}

/* Send one request and wait for its reply.  The reply payload goes to
 * out (up to cap bytes; *olen is the full length). */
static int request(struct xs_client *xs, uint32_t type, uint32_t tx,
		   const struct part *parts, unsigned nparts, void *out,
		   size_t cap, size_t *olen)
{
	uint8_t msg[HDR + XEN_XS_PAYLOAD_MAX];
	size_t len = 0;

	if (xs->dead)
		return -EPIPE;
	for (unsigned i = 0; i < nparts; i++) {
		if (parts[i].len > XEN_XS_PAYLOAD_MAX - len)
			return -E2BIG;
		memcpy(msg + HDR + len, parts[i].p, parts[i].len);
		len += parts[i].len;
	}
	if (++xs->req_id == 0)
		xs->req_id = 1;
	struct xen_xsd_sockmsg m = {
		.type = PVIO_LE32(type),
		.req_id = PVIO_LE32(xs->req_id),
		.tx_id = PVIO_LE32(tx),
		.len = PVIO_LE32((uint32_t)len),
	};
	memcpy(msg, &m, HDR);

	uint64_t deadline = pvio_deadline(xs->ctx);
	int r = xs->h->ops->xs_write(xs->h, msg, HDR + len, deadline);
	if (r < 0)
		return xs_fail(xs, -r, "cannot write to xenstored");

	xs->waiting = true;
	xs->want_id = xs->req_id;
	xs->got = false;
	xs->rbuf = out;
	xs->rcap = cap;
	xs->rlen = 0;
	xs->stale = 0;
	for (;;) {
		r = xs_poll(xs);
		if (r < 0 || xs->got)
			break;
		r = xs->h->ops->xs_wait(xs->h, deadline);
		if (r < 0) {
			xs_fail(xs, -r, "waiting for xenstored failed");
			break;
		}
		if (r == 0 && pvio_now_ns(xs->ctx) >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
	}
	xs->waiting = false;
	xs->rbuf = NULL;
	if (!xs->got)
		return r < 0 ? r : -ETIMEDOUT;

	if (xs->rhdr.type == XEN_XS_ERROR)
		return -xs_errno(xs->errname);
	if (xs->rhdr.type != type)
		return xs_fail(xs, EPROTO, "xenstored answered with the wrong "
					"message type");
	*olen = xs->rlen;
	return 0;
}

/* Requests whose reply is "OK". */
static int simple(struct xs_client *xs, uint32_t type, uint32_t tx,
		  const struct part *parts, unsigned n)
{
	char rep[8];
	size_t len;
	return request(xs, type, tx, parts, n, rep, sizeof(rep), &len);
}

int xs_read(struct xs_client *xs, uint32_t tx, const char *path, char *buf,
	    size_t cap)
{
	size_t len;
	if (!path_ok(path) || !cap)
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 } };
	int r = request(xs, XEN_XS_READ, tx, p, 1, buf, cap - 1, &len);
	if (r < 0)
		return r;
	if (len > cap - 1)
		return -E2BIG;
	/* tolerate a trailing NUL, refuse an embedded one */
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (!buf[i])
			return -EINVAL;
	buf[len] = '\0';
	return (int)len;
}

int xs_read_u64(struct xs_client *xs, uint32_t tx, const char *path,
		uint64_t max, uint64_t *v)
{
	char b[32];
	int r = xs_read(xs, tx, path, b, sizeof(b));
	if (r == -E2BIG)
		return -ERANGE;
	if (r < 0)
		return r;
	/* decimal only: xenstore numbers are decimal */
	if (b[0] == '0' && (b[1] == 'x' || b[1] == 'X'))
		return -EINVAL;
	return pvio_parse_u64(b, max, v);
}

int xs_write(struct xs_client *xs, uint32_t tx, const char *path,
	     const char *value)
{
	if (!path_ok(path))
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 },
			    { value, pvio_strlen(value) } };
	return simple(xs, XEN_XS_WRITE, tx, p, 2);
}

int xs_printf(struct xs_client *xs, uint32_t tx, const char *path,
	      const char *fmt, ...)
{
	char v[128];
	va_list ap;
	va_start(ap, fmt);
	int n = pvio_vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -E2BIG;
	return xs_write(xs, tx, path, v);
}

int xs_mkdir(struct xs_client *xs, uint32_t tx, const char *path)
{
	if (!path_ok(path))
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 } };
	return simple(xs, XEN_XS_MKDIR, tx, p, 1);
}

int xs_rm(struct xs_client *xs, uint32_t tx, const char *path)
{
	if (!path_ok(path))
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 } };
	return simple(xs, XEN_XS_RM, tx, p, 1);
}

int xs_directory(struct xs_client *xs, uint32_t tx, const char *path,
		 char *buf, size_t cap)
{
	size_t len;
	if (!path_ok(path) || cap < 2)
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 } };
	int r = request(xs, XEN_XS_DIRECTORY, tx, p, 1, buf, cap - 1, &len);
	if (r < 0)
		return r;
	if (len > cap - 1)
		return -E2BIG;
	if (len && buf[len - 1] != '\0')
		buf[len++] = '\0';
	int count = 0;
	for (size_t i = 0; i < len; i++)
		if (!buf[i])
			count++;
	if (len < cap)
		buf[len] = '\0';
	return count;
}

int xs_watch(struct xs_client *xs, const char *path, const char *token)
{
	if (!path_ok(path) || pvio_strlen(token) >= XS_EV_TOKEN)
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 },
			    { token, pvio_strlen(token) + 1 } };
	return simple(xs, XEN_XS_WATCH, 0, p, 2);
}

int xs_unwatch(struct xs_client *xs, const char *path, const char *token)
{
	if (!path_ok(path) || pvio_strlen(token) >= XS_EV_TOKEN)
		return -EINVAL;
	struct part p[] = { { path, pvio_strlen(path) + 1 },
			    { token, pvio_strlen(token) + 1 } };
	return simple(xs, XEN_XS_UNWATCH, 0, p, 2);
}

int xs_tx_start(struct xs_client *xs, uint32_t *tx)
{
	char rep[16];
	size_t len;
	struct part p[] = { { "", 1 } };
	int r = request(xs, XEN_XS_TRANSACTION_START, 0, p, 1, rep,
			sizeof(rep) - 1, &len);
	if (r < 0)
		return r;
	if (len >= sizeof(rep))
		return xs_fail(xs, EPROTO, "transaction id too long");
	while (len && rep[len - 1] == '\0')
		len--;
	rep[len] = '\0';
	uint64_t v;
	if (pvio_parse_u64(rep, UINT32_MAX, &v) < 0 || v == 0)
		return xs_fail(xs, EPROTO, "xenstored sent a bad transaction id");
	*tx = (uint32_t)v;
	return 0;
}

int xs_tx_end(struct xs_client *xs, uint32_t tx, bool commit)
{
	struct part p[] = { { commit ? "T" : "F", 2 } };
	return simple(xs, XEN_XS_TRANSACTION_END, tx, p, 1);
}

int xs_transaction(struct xs_client *xs,
		   int (*fn)(struct xs_client *xs, uint32_t tx, void *arg),
		   void *arg)
{
	uint64_t deadline = pvio_deadline(xs->ctx);
	for (int attempt = 0;; attempt++) {
		uint32_t tx;
		int r = xs_tx_start(xs, &tx);
		if (r < 0)
			return r;
		r = fn(xs, tx, arg);
		if (r < 0) {
			xs_tx_end(xs, tx, false);
			return r;
		}
		r = xs_tx_end(xs, tx, true);
		if (r != -EAGAIN)
			return r;
		if (attempt + 1 >= TX_RESTARTS ||
		    pvio_now_ns(xs->ctx) >= deadline)
			return -EAGAIN;
	}
}

int xs_next_event(struct xs_client *xs, struct xs_event *ev)
{
	int r = xs_poll(xs);
	if (xs->ev_head != xs->ev_tail) {
		*ev = xs->ev[xs->ev_head % XS_EVQ];
		xs->ev_head++;
		return 1;
	}
	return r < 0 ? r : 0;
}

int xs_wait_event(struct xs_client *xs, uint64_t deadline_ns)
{
	for (;;) {
		int r = xs_poll(xs);
		if (xs->ev_head != xs->ev_tail)
			return 1;
		if (r < 0)
			return r;
		r = xs->h->ops->xs_wait(xs->h, deadline_ns);
		if (r < 0)
			return xs_fail(xs, -r, "waiting for xenstored failed");
		if (r == 0 && pvio_now_ns(xs->ctx) >= deadline_ns)
			return 0;
	}
}
