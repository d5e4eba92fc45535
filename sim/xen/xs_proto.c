/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/xs_proto.c - xenstored's wire protocol on top of xs_store.c:
 * parse one request (struct xsd_sockmsg + payload), run it, answer with
 * the same type or with ERROR and an errno name, as C xenstored does
 * (argument counting, "OK" acks, the initial watch event after the WATCH
 * ack, E2BIG for replies over XENSTORE_PAYLOAD_MAX, ENOSYS for unknown
 * types, EACCES for dom0-only types from a domain, ENOENT for an unknown
 * transaction id).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

struct req {
	struct sxen_xs_client *c;
	const struct sxen_xs_hdr *h;
	const char *p;
	uint32_t len;
};

static void reply(struct req *r, uint32_t type, const void *p, uint32_t len)
{
	if (len > SXEN_XS_PAYLOAD_MAX) {
		const char *e = "E2BIG";
		type = SXS_ERROR;
		p = e;
		len = (uint32_t)strlen(e) + 1;
	}
	sxen_xs_send(r->c, type, r->h->req_id, r->h->tx_id, p, len);
}

static void reply_err(struct req *r, int err)
{
	const char *n = sxen_xs_errname(err);
	sxen_xs_send(r->c, SXS_ERROR, r->h->req_id, r->h->tx_id, n,
		     (uint32_t)strlen(n) + 1);
}

static void reply_ok(struct req *r)
{
	reply(r, r->h->type, "OK", 3);
}

/* Number of NUL-terminated strings in the payload. */
static unsigned count_strings(const struct req *r)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < r->len; i++)
		n += r->p[i] == 0;
	return n;
}

/* Exactly one string, ending at the end of the payload. */
static const char *onearg(const struct req *r)
{
	if (!r->len || memchr(r->p, 0, r->len) != r->p + r->len - 1)
		return NULL;
	return r->p;
}

static int parse_domid(const char *s, unsigned *out)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xFFFF)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int do_directory_part(struct req *r)
{
	if (count_strings(r) != 2)
		return -EINVAL;
	char *names;
	uint32_t nlen;
	uint64_t gen;
	int e = sxen_xs_directory(r->c, r->h->tx_id, r->p, &names, &nlen, &gen);
	if (e)
		return e;
	unsigned long off = strtoul(r->p + strlen(r->p) + 1, NULL, 10);
	char out[SXEN_XS_PAYLOAD_MAX];
	int gl = snprintf(out, sizeof(out), "%llu", (unsigned long long)gen) + 1;
	if (off >= nlen) {
		out[gl] = 0;
		reply(r, SXS_DIRECTORY_PART, out, (uint32_t)gl + 1);
		free(names);
		return 0;
	}
	uint32_t len = 0, maxlen = SXEN_XS_PAYLOAD_MAX - (uint32_t)gl - 1;
	const char *child = names + off;
	while (len + strlen(child) < maxlen) {
		len += (uint32_t)strlen(child) + 1;
		child += strlen(child) + 1;
		if (off + len >= nlen)
			break;
	}
	memcpy(out + gl, names + off, len);
	uint32_t total = (uint32_t)gl + len;
	if (off + len >= nlen)
		out[total++] = 0;
	reply(r, SXS_DIRECTORY_PART, out, total);
	free(names);
	return 0;
}

static int dispatch(struct req *r)
{
	struct sxen_xs_client *c = r->c;
	uint32_t tx = r->h->tx_id;
	const char *a;
	char *v;
	uint32_t len;
	int e;

	switch (r->h->type) {
	case SXS_DIRECTORY:
		if (!(a = onearg(r)))
			return -EINVAL;
		if ((e = sxen_xs_directory(c, tx, a, &v, &len, NULL)))
			return e;
		reply(r, SXS_DIRECTORY, v, len);
		free(v);
		return 0;
	case SXS_DIRECTORY_PART:
		return do_directory_part(r);
	case SXS_READ:
		if (!(a = onearg(r)))
			return -EINVAL;
		if ((e = sxen_xs_read(c, tx, a, &v, &len)))
			return e;
		reply(r, SXS_READ, v, len);
		free(v);
		return 0;
	case SXS_GET_PERMS: {
		struct sxen_xs_perm *p;
		uint32_t n;
		if (!(a = onearg(r)))
			return -EINVAL;
		if ((e = sxen_xs_get_perms(c, tx, a, &p, &n)))
			return e;
		char out[SXEN_XS_PAYLOAD_MAX + 16];
		uint32_t off = 0;
		for (uint32_t i = 0; i < n && off < SXEN_XS_PAYLOAD_MAX; i++) {
			sxen_xs_format_perm(&p[i], out + off, 16);
			off += (uint32_t)strlen(out + off) + 1;
		}
		free(p);
		reply(r, SXS_GET_PERMS, out, off);
		return 0;
	}
	case SXS_WATCH:
	case SXS_UNWATCH: {
		if (count_strings(r) != 2)
			return -EINVAL;
		const char *path = r->p, *token = r->p + strlen(r->p) + 1;
		if (r->h->type == SXS_UNWATCH)
			e = sxen_xs_unwatch(c, path, token);
		else
			e = sxen_xs_watch(c, path, token);
		if (e)
			return e;
		reply_ok(r);
		if (r->h->type == SXS_WATCH)
			sxen_xs_watch_fire_initial(c, path, token);
		return 0;
	}
	case SXS_TRANSACTION_START: {
		uint32_t id;
		if (tx)
			return -EBUSY;
		if ((e = sxen_xs_tx_start(c, &id)))
			return e;
		char out[16];
		int n = snprintf(out, sizeof(out), "%u", id);
		reply(r, SXS_TRANSACTION_START, out, (uint32_t)n + 1);
		return 0;
	}
	case SXS_TRANSACTION_END:
		if (!(a = onearg(r)))
			return -EINVAL;
		if (!tx)
			return -ENOENT;
		if (strcmp(a, "T") && strcmp(a, "F"))
			return -EINVAL;
		if ((e = sxen_xs_tx_end(c, tx, !strcmp(a, "T"))))
			return e;
		reply_ok(r);
		return 0;
	case SXS_GET_DOMAIN_PATH: {
		unsigned dom;
		if (!(a = onearg(r)) || parse_domid(a, &dom))
			return -EINVAL;
		char out[32];
		int n = snprintf(out, sizeof(out), "/local/domain/%u", dom);
		reply(r, SXS_GET_DOMAIN_PATH, out, (uint32_t)n + 1);
		return 0;
	}
	case SXS_WRITE: {
		const char *nul = memchr(r->p, 0, r->len);
		if (!r->len || !nul)
			return -EINVAL;
		uint32_t off = (uint32_t)(nul - r->p) + 1;
		if ((e = sxen_xs_write(c, tx, r->p, r->p + off, r->len - off)))
			return e;
		reply_ok(r);
		return 0;
	}
	case SXS_MKDIR:
		if (!(a = onearg(r)))
			return -EINVAL;
		if ((e = sxen_xs_mkdir(c, tx, a)))
			return e;
		reply_ok(r);
		return 0;
	case SXS_RM:
		if (!(a = onearg(r)))
			return -EINVAL;
		if ((e = sxen_xs_rm(c, tx, a)))
			return e;
		reply_ok(r);
		return 0;
	case SXS_SET_PERMS: {
		unsigned n = count_strings(r);
		if (n < 2)
			return -EINVAL;
		n--;
		struct sxen_xs_perm *p = calloc(n, sizeof(*p));
		if (!p)
			return -ENOMEM;
		const char *s = r->p + strlen(r->p) + 1;
		for (unsigned i = 0; i < n; i++) {
			if (sxen_xs_parse_perm(s, &p[i])) {
				free(p);
				return -EINVAL;
			}
			s += strlen(s) + 1;
		}
		e = sxen_xs_set_perms(c, tx, r->p, p, n);
		free(p);
		if (e)
			return e;
		reply_ok(r);
		return 0;
	}
	case SXS_IS_DOMAIN_INTRODUCED: {
		unsigned dom;
		if (!(a = onearg(r)) || parse_domid(a, &dom))
			return -EINVAL;
		bool known = sxen_xs_domain_known(sxen_xs_client_store(c), dom);
		reply(r, SXS_IS_DOMAIN_INTRODUCED, known ? "T" : "F", 2);
		return 0;
	}
	case SXS_RESET_WATCHES:
		sxen_xs_reset_watches(c);
		reply_ok(r);
		return 0;
	default:
		/* CONTROL, INTRODUCE, RELEASE, RESUME, SET_TARGET: a
		 * simulated host has no rings to introduce. */
		return -ENOSYS;
	}
}

void sxen_xs_handle(struct sxen_xs_client *c, const struct sxen_xs_hdr *h,
		    const uint8_t *payload)
{
	struct req r = { c, h, (const char *)payload, h->len };
	uint32_t t = h->type;

	if (t >= SXS_TYPE_COUNT || t == SXS_WATCH_EVENT || t == SXS_ERROR ||
	    t == 20) {
		reply_err(&r, ENOSYS);
		return;
	}
	bool privonly = t == SXS_CONTROL || t == SXS_INTRODUCE ||
			t == SXS_RELEASE || t == SXS_IS_DOMAIN_INTRODUCED ||
			t == SXS_RESUME || t == SXS_SET_TARGET;
	if (privonly && !sxen_xs_client_priv(c)) {
		reply_err(&r, EACCES);
		return;
	}
	bool notid = t == SXS_WATCH || t == SXS_UNWATCH;
	if (!notid && h->tx_id && !sxen_xs_tx_valid(c, h->tx_id)) {
		reply_err(&r, ENOENT);
		return;
	}
	int e = dispatch(&r);
	if (e)
		reply_err(&r, -e);
}
