/* SPDX-License-Identifier: MIT */
/* tests/unit/test_xen_fake.c - the in-process fake Xen host (see .h). */
#include "test_xen_fake.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define HDR sizeof(struct xsd_sockmsg)

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	ck_assert_ptr_nonnull(d);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ================================================================ store */

static bool is_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(p, dir, n) && (p[n] == '\0' || p[n] == '/' ||
				       (n == 1 && dir[0] == '/'));
}

static struct fx_node *st_find(struct fx_store *s, const char *path)
{
	for (size_t i = 0; i < s->nn; i++)
		if (!strcmp(s->n[i].path, path))
			return &s->n[i];
	return NULL;
}

static void st_set1(struct fx_store *s, const char *path, const char *val,
		    size_t vlen)
{
	struct fx_node *n = st_find(s, path);
	if (!n) {
		if (s->nn == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->n = realloc(s->n, s->cap * sizeof(*s->n));
			ck_assert_ptr_nonnull(s->n);
		}
		n = &s->n[s->nn++];
		n->path = strdup(path);
		n->val = NULL;
	}
	free(n->val);
	n->val = xstrndup(val, vlen);
	n->vlen = vlen;
}

static void st_set(struct fx_store *s, const char *path, const char *val,
		   size_t vlen)
{
	/* parents exist (empty) as in xenstored */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (!st_find(s, tmp))
			st_set1(s, tmp, "", 0);
		*p = '/';
	}
	st_set1(s, path, val, vlen);
}

static void st_rm(struct fx_store *s, const char *path)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nn; i++) {
		if (is_under(s->n[i].path, path)) {
			free(s->n[i].path);
			free(s->n[i].val);
		} else {
			s->n[k++] = s->n[i];
		}
	}
	s->nn = k;
}

static void st_free(struct fx_store *s)
{
	for (size_t i = 0; i < s->nn; i++) {
		free(s->n[i].path);
		free(s->n[i].val);
	}
	free(s->n);
	memset(s, 0, sizeof(*s));
}

static void st_copy(struct fx_store *d, const struct fx_store *s)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < s->nn; i++)
		st_set1(d, s->n[i].path, s->n[i].val, s->n[i].vlen);
}

/* ================================================================ wire */

static void conn_put(struct fx_conn *c, const void *p, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2 + 256;
		c->out = realloc(c->out, c->outcap);
		ck_assert_ptr_nonnull(c->out);
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

static void conn_emit(struct fx_conn *c, uint32_t type, uint32_t req_id,
		      uint32_t tx, const void *pl, uint32_t len)
{
	struct xsd_sockmsg m = { .type = type, .req_id = req_id, .tx_id = tx,
				 .len = len };
	conn_put(c, &m, HDR);
	if (len)
		conn_put(c, pl, len);
}

void fx_emit(struct fx *fx, uint32_t type, uint32_t req_id, uint32_t tx,
	     const void *pl, uint32_t len)
{
	conn_emit(&fx->c, type, req_id, tx, pl, len);
}

void fx_emit_raw(struct fx *fx, const void *buf, size_t len)
{
	conn_put(&fx->c, buf, len);
}

static void watch_event(struct fx_conn *c, const char *path, const char *tok)
{
	char b[4096];
	size_t a = strlen(path) + 1, t = strlen(tok) + 1;
	memcpy(b, path, a);
	memcpy(b + a, tok, t);
	conn_emit(c, XS_WATCH_EVENT, 0, 0, b, (uint32_t)(a + t));
}

static void log_fe_state(struct fx *fx, const char *path)
{
	size_t l = strlen(path);
	if (strncmp(path, "/local/domain/", 14) || !strstr(path, "/device/") ||
	    l < 6 || strcmp(path + l - 6, "/state"))
		return;
	struct fx_node *n = st_find(&fx->st, path);
	if (n && fx->nfe_log < 32)
		fx->fe_log[fx->nfe_log++] = atoi(n->val);
}

static void fire(struct fx *fx, const char *path, bool removed)
{
	struct fx_conn *cs[2] = { &fx->c, fx->extra };
	log_fe_state(fx, path);
	for (int k = 0; k < 2; k++) {
		struct fx_conn *c = cs[k];
		if (!c)
			continue;
		for (unsigned i = 0; i < c->nw; i++) {
			if (is_under(path, c->w[i].path))
				watch_event(c, path, c->w[i].token);
			else if (removed && is_under(c->w[i].path, path))
				watch_event(c, c->w[i].path, c->w[i].token);
		}
	}
}

static void reply_err(struct fx_conn *c, const struct xsd_sockmsg *m,
		      const char *name)
{
	conn_emit(c, XS_ERROR, m->req_id, m->tx_id, name,
		  (uint32_t)strlen(name) + 1);
}

static void reply_ok(struct fx_conn *c, const struct xsd_sockmsg *m)
{
	conn_emit(c, m->type, m->req_id, m->tx_id, "OK", 3);
}

static struct fx_store *store_for(struct fx *fx, uint32_t tx, int *slot)
{
	*slot = -1;
	if (!tx)
		return &fx->st;
	for (int i = 0; i < 8; i++)
		if (fx->tx[i].used && fx->tx[i].id == tx) {
			*slot = i;
			return &fx->tx[i].snap;
		}
	return NULL;
}

static void changed(struct fx *fx, int slot, const char *path, bool rm)
{
	if (slot >= 0) {
		if (fx->tx[slot].nwr < 128)
			fx->tx[slot].wr[fx->tx[slot].nwr++] = strdup(path);
		return;
	}
	fx->gen++;
	fire(fx, path, rm);
}

static void process(struct fx *fx, struct fx_conn *c,
		    const struct xsd_sockmsg *m, const char *pl)
{
	fx->requests++;
	if (c == &fx->c && fx->intercept &&
	    fx->intercept(fx, m->type, m->req_id, pl, m->len))
		return;
	if (c == &fx->c && fx->no_reply)
		return;
	int slot;
	struct fx_store *s = store_for(fx, m->tx_id, &slot);
	if (!s) {
		reply_err(c, m, "ENOENT");
		return;
	}
	size_t plen = strnlen(pl, m->len);
	char path[4096];
	snprintf(path, sizeof(path), "%.*s", (int)plen, pl);
	if (path[0] != '/' && path[0] && m->type != XS_TRANSACTION_START &&
	    m->type != XS_TRANSACTION_END) {
		/* relative to our domain */
		char abs[4200];
		snprintf(abs, sizeof(abs), "/local/domain/%u/%s", fx->h.domid,
			 path);
		memcpy(path, abs, sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
	}
	switch (m->type) {
	case XS_READ: {
		struct fx_node *n = st_find(s, path);
		if (!n)
			return reply_err(c, m, "ENOENT");
		conn_emit(c, XS_READ, m->req_id, m->tx_id, n->val,
			  (uint32_t)n->vlen);
		return;
	}
	case XS_WRITE: {
		if (plen >= m->len)
			return reply_err(c, m, "EINVAL");
		st_set(s, path, pl + plen + 1, m->len - plen - 1);
		reply_ok(c, m);
		changed(fx, slot, path, false);
		return;
	}
	case XS_MKDIR:
		if (!st_find(s, path))
			st_set(s, path, "", 0);
		reply_ok(c, m);
		changed(fx, slot, path, false);
		return;
	case XS_RM:
		if (!st_find(s, path))
			return reply_err(c, m, "ENOENT");
		st_rm(s, path);
		reply_ok(c, m);
		changed(fx, slot, path, true);
		return;
	case XS_DIRECTORY: {
		if (!st_find(s, path) && strcmp(path, "/"))
			return reply_err(c, m, "ENOENT");
		char b[XENSTORE_PAYLOAD_MAX];
		uint32_t len = 0;
		size_t pl0 = strcmp(path, "/") ? strlen(path) : 0;
		for (size_t i = 0; i < s->nn; i++) {
			const char *p = s->n[i].path;
			if (strncmp(p, path, pl0) || p[pl0] != '/' ||
			    strchr(p + pl0 + 1, '/'))
				continue;
			size_t k = strlen(p + pl0 + 1) + 1;
			if (len + k > sizeof(b))
				return reply_err(c, m, "E2BIG");
			memcpy(b + len, p + pl0 + 1, k);
			len += (uint32_t)k;
		}
		conn_emit(c, XS_DIRECTORY, m->req_id, m->tx_id, b, len);
		return;
	}
	case XS_WATCH: {
		if (plen >= m->len || c->nw >= 32)
			return reply_err(c, m, "EINVAL");
		c->w[c->nw].path = strdup(path);
		c->w[c->nw].token = strdup(pl + plen + 1);
		c->nw++;
		reply_ok(c, m);
		/* a new watch fires once at once */
		watch_event(c, path, pl + plen + 1);
		return;
	}
	case XS_UNWATCH: {
		const char *tok = plen < m->len ? pl + plen + 1 : "";
		for (unsigned i = 0; i < c->nw; i++) {
			if (strcmp(c->w[i].path, path) ||
			    strcmp(c->w[i].token, tok))
				continue;
			free(c->w[i].path);
			free(c->w[i].token);
			c->w[i] = c->w[--c->nw];
			return reply_ok(c, m);
		}
		return reply_err(c, m, "ENOENT");
	}
	case XS_TRANSACTION_START: {
		for (int i = 0; i < 8; i++) {
			if (fx->tx[i].used)
				continue;
			fx->tx[i].used = true;
			fx->tx[i].id = ++fx->next_tx;
			fx->tx[i].gen = fx->gen;
			fx->tx[i].nwr = 0;
			st_copy(&fx->tx[i].snap, &fx->st);
			char b[16];
			int n = snprintf(b, sizeof(b), "%u", fx->tx[i].id);
			conn_emit(c, XS_TRANSACTION_START, m->req_id, 0, b,
				  (uint32_t)n + 1);
			return;
		}
		return reply_err(c, m, "ENOSPC");
	}
	case XS_TRANSACTION_END: {
		if (slot < 0)
			return reply_err(c, m, "EINVAL");
		bool commit = pl[0] == 'T';
		bool conflict = fx->tx[slot].gen != fx->gen;
		if (commit && fx->eagain_commits > 0) {
			fx->eagain_commits--;
			conflict = true;
		}
		if (commit && !conflict) {
			st_free(&fx->st);
			fx->st = fx->tx[slot].snap;
			memset(&fx->tx[slot].snap, 0, sizeof(fx->tx[slot].snap));
			fx->gen++;
			for (unsigned i = 0; i < fx->tx[slot].nwr; i++)
				fire(fx, fx->tx[slot].wr[i], false);
		} else {
			st_free(&fx->tx[slot].snap);
		}
		for (unsigned i = 0; i < fx->tx[slot].nwr; i++)
			free(fx->tx[slot].wr[i]);
		fx->tx[slot].used = false;
		if (commit && conflict)
			return reply_err(c, m, "EAGAIN");
		reply_ok(c, m);
		return;
	}
	case XS_GET_DOMAIN_PATH: {
		char b[64];
		int n = snprintf(b, sizeof(b), "/local/domain/%s", pl);
		conn_emit(c, m->type, m->req_id, 0, b, (uint32_t)n + 1);
		return;
	}
	default:
		return reply_err(c, m, "EINVAL");
	}
}

/* bytes from a client: whole messages are processed */
void fx_conn_input(struct fx *fx, struct fx_conn *c, const void *buf,
		       size_t len)
{
	const uint8_t *p = buf;
	while (len && !c->dead) {
		size_t room = sizeof(c->in) - c->inlen;
		size_t k = len < room ? len : room;
		memcpy(c->in + c->inlen, p, k);
		c->inlen += k;
		p += k;
		len -= k;
		for (;;) {
			if (c->inlen < HDR)
				break;
			struct xsd_sockmsg m;
			memcpy(&m, c->in, HDR);
			if (m.len > XENSTORE_PAYLOAD_MAX) {
				c->dead = true; /* xenstored drops such clients */
				return;
			}
			if (c->inlen < HDR + m.len)
				break;
			char pl[XENSTORE_PAYLOAD_MAX + 1];
			memcpy(pl, c->in + HDR, m.len);
			pl[m.len] = '\0';
			process(fx, c, &m, pl);
			memmove(c->in, c->in + HDR + m.len,
				c->inlen - HDR - m.len);
			c->inlen -= HDR + m.len;
		}
	}
}

/* ================================================================ store API */

void fx_write(struct fx *fx, const char *path, const char *val)
{
	st_set(&fx->st, path, val, strlen(val));
	changed(fx, -1, path, false);
}

void fx_printf(struct fx *fx, const char *path, const char *fmt, ...)
{
	char b[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	fx_write(fx, path, b);
}

const char *fx_read(struct fx *fx, const char *path)
{
	struct fx_node *n = st_find(&fx->st, path);
	return n ? n->val : NULL;
}

int fx_read_int(struct fx *fx, const char *path)
{
	const char *v = fx_read(fx, path);
	return v && *v ? atoi(v) : -1;
}

void fx_rm(struct fx *fx, const char *path)
{
	if (!st_find(&fx->st, path))
		return;
	st_rm(&fx->st, path);
	changed(fx, -1, path, true);
}

/* ================================================================ grants */

void *fx_map(struct fx *fx, uint32_t ref, bool write)
{
	if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= fx->gt.nr_ents) {
		fx->map_refused++;
		return NULL;
	}
	grant_entry_v1_t *e = (grant_entry_v1_t *)fx->frames + ref;
	uint16_t old = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	for (;;) {
		if ((old & GTF_type_mask) != GTF_permit_access ||
		    (write && (old & GTF_readonly))) {
			fx->map_refused++;
			return NULL;
		}
		uint16_t nw = (uint16_t)(old | GTF_reading |
					 (write ? GTF_writing : 0));
		if (__atomic_compare_exchange_n(&e->flags, &old, nw, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			break;
	}
	uint16_t dom = __atomic_load_n(&e->domid, __ATOMIC_RELAXED);
	uint32_t frame = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);
	void *va = fx->gfn_to_va ? fx->gfn_to_va(fx, frame)
				 : pvio_dma_to_va(fx->ctx, (uint64_t)frame << 12,
						  4096);
	if (dom != 0 || !va) {
		fx->maps[ref]++;
		fx_unmap(fx, ref);
		fx->map_refused++;
		return NULL;
	}
	fx->maps[ref]++;
	return va;
}

void fx_unmap(struct fx *fx, uint32_t ref)
{
	ck_assert_uint_gt(fx->maps[ref], 0);
	if (--fx->maps[ref])
		return;
	grant_entry_v1_t *e = (grant_entry_v1_t *)fx->frames + ref;
	uint16_t old = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	for (;;) {
		/* the guest must never have cleared it under us */
		ck_assert(old & GTF_reading);
		uint16_t nw = (uint16_t)(old & ~(GTF_reading | GTF_writing));
		if (__atomic_compare_exchange_n(&e->flags, &old, nw, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			return;
	}
}

/* ================================================================ evtchn */

struct fx_evt *fx_evt(struct fx *fx, uint32_t port)
{
	for (unsigned i = 0; i < fx->nev; i++)
		if (fx->ev[i].port == port && fx->ev[i].open)
			return &fx->ev[i];
	return NULL;
}

void fx_irq(struct fx *fx, struct fx_evt *e)
{
	uint64_t one = 1;
	(void)fx;
	e->irqs++;
	ck_assert_int_eq(write(e->upcall, &one, 8), 8);
}

/* ================================================================ hostif */

static struct fx *fx_of(struct xen_hostif *h)
{
	return (struct fx *)h;
}

static int f_xs_write(struct xen_hostif *h, const void *buf, size_t len,
		      uint64_t deadline)
{
	(void)deadline;
	struct fx *fx = fx_of(h);
	if (fx->c.dead)
		return -EPIPE;
	fx_conn_input(fx, &fx->c, buf, len);
	return 0;
}

static int f_xs_read(struct xen_hostif *h, void *buf, size_t len)
{
	struct fx *fx = fx_of(h);
	struct fx_conn *c = &fx->c;
	if (!c->outlen)
		return c->dead ? -EPIPE : 0;
	size_t n = len < c->outlen ? len : c->outlen;
	if (c->chunk && n > c->chunk)
		n = c->chunk;
	memcpy(buf, c->out, n);
	memmove(c->out, c->out + n, c->outlen - n);
	c->outlen -= n;
	return (int)n;
}

static int f_xs_wait(struct xen_hostif *h, uint64_t deadline)
{
	struct fx *fx = fx_of(h);
	if (fx->c.outlen || fx->c.dead)
		return 1;
	fx_run(fx);
	if (fx->c.outlen)
		return 1;
	/* nothing will happen before the deadline: wait it out (bounded) */
	uint64_t now = pvio_now_ns(h->ctx);
	if (deadline > now) {
		uint64_t d = deadline - now;
		struct timespec ts = { (time_t)(d / 1000000000u),
				       (long)(d % 1000000000u) };
		nanosleep(&ts, NULL);
	}
	return 0;
}

struct fx_evt *fx_evt_new(struct fx *fx)
{
	ck_assert_uint_lt(fx->nev, 64);
	struct fx_evt *e = &fx->ev[fx->nev++];
	memset(e, 0, sizeof(*e));
	e->port = fx->nev + 4; /* ports need not be dense */
	e->upcall = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(e->upcall, 0);
	e->open = true;
	return e;
}

static int f_evtchn_alloc(struct xen_hostif *h, uint16_t remote,
			  struct xen_evtchn *ev)
{
	(void)remote;
	struct fx_evt *e = fx_evt_new(fx_of(h));
	ev->port = e->port;
	ev->fd[0] = -1;
	ev->fd[1] = e->upcall;
	ev->open = true;
	return 0;
}

static void f_evtchn_close(struct xen_hostif *h, struct xen_evtchn *ev)
{
	struct fx_evt *e = fx_evt(fx_of(h), ev->port);
	if (e) {
		close(e->upcall);
		e->open = false;
	}
	ev->open = false;
}

static void f_evtchn_notify(struct xen_hostif *h, struct xen_evtchn *ev)
{
	struct fx *fx = fx_of(h);
	struct fx_evt *e = fx_evt(fx, ev->port);
	ck_assert_ptr_nonnull(e);
	e->kicks++;
	if (!e->on_kick)
		fx_run(fx); /* a back end that has not looked yet */
	if (e->on_kick)
		e->on_kick(fx, e);
}

static int f_evtchn_fd(struct xen_hostif *h, struct xen_evtchn *ev)
{
	(void)h;
	return ev->fd[1];
}

static int f_evtchn_ack(struct xen_hostif *h, struct xen_evtchn *ev)
{
	uint64_t v = 0;
	(void)h;
	if (read(ev->fd[1], &v, 8) != 8)
		return 0;
	return (int)v;
}

static int f_share(struct xen_hostif *h, uint16_t domid, uint32_t npages,
		   bool ro, struct xen_shared *sh)
{
	struct fx *fx = fx_of(h);
	uint64_t a;
	memset(sh, 0, sizeof(*sh));
	if (h->share_limit && h->shared + npages > h->share_limit)
		return -ENOSPC; /* as gntalloc at its limit */
	void *va = pvio_dma_alloc(fx->ctx, npages * 4096u, 4096);
	if (!va)
		return -ENOMEM;
	memset(va, 0, npages * 4096u);
	ck_assert_int_eq(pvio_dma_translate(fx->ctx, va, 4096, &a), 0);
	sh->refs = calloc(npages, sizeof(uint32_t));
	for (uint32_t i = 0; i < npages; i++) {
		int r = xen_gnt_alloc(&fx->gt, &sh->refs[i]);
		if (r < 0) {
			while (i--)
				xen_gnt_release(&fx->gt, sh->refs[i]);
			free(sh->refs);
			pvio_dma_free(fx->ctx, va);
			return r;
		}
		ck_assert_int_eq(xen_gnt_set(&fx->gt, sh->refs[i], domid,
					     (a >> 12) + i, ro),
				 0);
	}
	sh->va = va;
	sh->npages = npages;
	h->shared += npages;
	return 0;
}

static uint32_t f_unshare(struct xen_hostif *h, struct xen_shared *sh)
{
	struct fx *fx = fx_of(h);
	uint32_t leaked = 0;
	for (uint32_t i = 0; i < sh->npages; i++)
		if (xen_gnt_release(&fx->gt, sh->refs[i]) < 0)
			leaked++;
	free(sh->refs);
	if (leaked) {
		sh->leaked = true;
	} else {
		pvio_dma_free(fx->ctx, sh->va);
		h->shared -= sh->npages;
	}
	sh->va = NULL;
	sh->refs = NULL;
	sh->npages = 0;
	return leaked;
}

static void blk_attach(struct fx *fx, uint32_t devid);
static void blk_detach(struct fx *fx);
static void net_attach(struct fx *fx, uint32_t devid);
static void net_detach(struct fx *fx);

static int f_attach(struct xen_hostif *h, const char *type, uint32_t devid)
{
	struct fx *fx = fx_of(h);
	if (fx->attach_err)
		return fx->attach_err;
	fx->attached++;
	if (!strcmp(type, "vbd") && fx->blk)
		blk_attach(fx, devid);
	else if (!strcmp(type, "vif") && fx->net)
		net_attach(fx, devid);
	else if (fx->scripted) {
		char fe[96], be[96], p[160];
		snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%u",
			 fx->h.domid, type, devid);
		snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%u",
			 type, fx->h.domid, devid);
		snprintf(p, sizeof(p), "%s/backend", fe);
		fx_write(fx, p, be);
		snprintf(p, sizeof(p), "%s/backend-id", fe);
		fx_write(fx, p, "0");
		snprintf(p, sizeof(p), "%s/state", fe);
		fx_write(fx, p, "1");
		snprintf(p, sizeof(p), "%s/frontend", be);
		fx_write(fx, p, fe);
		snprintf(p, sizeof(p), "%s/state", be);
		fx_printf(fx, p, "%d", fx->script_at_attach);
	} else {
		return -ENOENT;
	}
	return 0;
}

static int f_detach(struct xen_hostif *h, const char *type, uint32_t devid)
{
	struct fx *fx = fx_of(h);
	(void)devid;
	fx->detached++;
	if (!strcmp(type, "vbd") && fx->blk)
		blk_detach(fx);
	if (!strcmp(type, "vif") && fx->net)
		net_detach(fx);
	return 0;
}

static void f_close(struct xen_hostif *h)
{
	fx_of(h)->closed = true;
}

static const struct xen_hostif_ops fake_ops = {
	.close = f_close,
	.xs_write = f_xs_write,
	.xs_read = f_xs_read,
	.xs_wait = f_xs_wait,
	.evtchn_alloc = f_evtchn_alloc,
	.evtchn_close = f_evtchn_close,
	.evtchn_notify = f_evtchn_notify,
	.evtchn_fd = f_evtchn_fd,
	.evtchn_ack = f_evtchn_ack,
	.share = f_share,
	.unshare = f_unshare,
	.device_attach = f_attach,
	.device_detach = f_detach,
};

pvio_ctx *fx_ctx(uint32_t timeout_ms)
{
	pvio_ctx *ctx;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 64u << 20,
				   .log_level = PVIO_LOG_ERROR,
				   .timeout_ms = timeout_ms };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	return ctx;
}

struct fx *fx_new(pvio_ctx *ctx, uint16_t domid)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	ck_assert_ptr_nonnull(fx);
	fx->h.ops = &fake_ops;
	fx->h.ctx = ctx;
	fx->h.name = "fake-xen";
	fx->h.domid = domid;
	fx->h.gnttab = &fx->gt;
	fx->ctx = ctx;
	fx->frames = pvio_dma_alloc(ctx, 32 * 4096, 4096);
	ck_assert_ptr_nonnull(fx->frames);
	ck_assert_int_eq(xen_gnttab_init(&fx->gt, ctx, fx->frames, 32), 0);
	fx->maps = calloc(fx->gt.nr_ents, sizeof(uint16_t));
	for (int i = 0; i < 9; i++)
		fx->script[i] = -1;
	fx->script_last = -100;
	fx_write(fx, "/local/domain/0/name", "Domain-0");
	return fx;
}

void fx_destroy(struct fx *fx)
{
	st_free(&fx->st);
	for (int i = 0; i < 8; i++)
		if (fx->tx[i].used)
			st_free(&fx->tx[i].snap);
	for (unsigned i = 0; i < fx->c.nw; i++) {
		free(fx->c.w[i].path);
		free(fx->c.w[i].token);
	}
	free(fx->c.out);
	for (unsigned i = 0; i < fx->nev; i++)
		if (fx->ev[i].open)
			close(fx->ev[i].upcall);
	xen_gnttab_fini(&fx->gt);
	free(fx->maps);
	if (fx->blk) {
		free(fx->blk->disk);
		free(fx->blk);
	}
	if (fx->net) {
		free(fx->net->frames);
		free(fx->net);
	}
	free(fx);
}

/* ================================================================ models */

static void script_step(struct fx *fx);
static void blk_step(struct fx *fx);
static void net_step(struct fx *fx);

void fx_run(struct fx *fx)
{
	for (int i = 0; i < 16; i++) {
		uint64_t g = fx->gen;
		fx->steps++;
		if (fx->scripted)
			script_step(fx);
		if (fx->blk)
			blk_step(fx);
		if (fx->net)
			net_step(fx);
		if (fx->gen == g)
			break;
	}
}

/* ---- scripted back end (XenBus tests) ---- */

static void script_step(struct fx *fx)
{
	char p[160];
	/* the device directory of the single scripted device */
	for (size_t i = 0; i < fx->st.nn; i++) {
		const char *path = fx->st.n[i].path;
		const char *d = strstr(path, "/device/");
		if (!d || strncmp(path, "/local/domain/", 14))
			continue;
		size_t l = strlen(path);
		if (l < 6 || strcmp(path + l - 6, "/state"))
			continue;
		int fe = atoi(fx->st.n[i].val);
		if (fe == fx->script_last || fe < 0 || fe > 8)
			return;
		fx->script_last = fe;
		if (fx->script[fe] < 0)
			return;
		snprintf(p, sizeof(p), "%.*s/backend", (int)(l - 6), path);
		const char *be = fx_read(fx, p);
		if (!be)
			return;
		char bp[160];
		snprintf(bp, sizeof(bp), "%s/state", be);
		fx_printf(fx, bp, "%d", fx->script[fe]);
		return;
	}
}

/* ---- blkback ---- */

struct fxb *fxb_new(struct fx *fx, const struct fxb_cfg *cfg)
{
	struct fxb *b = calloc(1, sizeof(*b));
	ck_assert_ptr_nonnull(b);
	b->cfg = *cfg;
	if (!b->cfg.sector_size)
		b->cfg.sector_size = 512;
	b->disk = calloc(1, b->cfg.sectors * 512 + 1);
	ck_assert_ptr_nonnull(b->disk);
	b->last_fe = -1;
	fx->blk = b;
	return b;
}

static void dkey(struct fx *fx, const char *dir, const char *key,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void dkey(struct fx *fx, const char *dir, const char *key,
		 const char *fmt, ...)
{
	char p[200], v[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	fx_write(fx, p, v);
}

/* a key in the blkback's / netback's directory */
#define bkey(fx, ...) dkey((fx), (fx)->blk->be, __VA_ARGS__)
#define nkey(fx, ...) dkey((fx), (fx)->net->be, __VA_ARGS__)

static void blk_props(struct fx *fx)
{
	struct fxb *b = fx->blk;
	if (b->cfg.raw_sectors)
		bkey(fx, "sectors", "%s", b->cfg.raw_sectors);
	else
		bkey(fx, "sectors", "%llu", (unsigned long long)b->cfg.sectors);
	if (b->cfg.raw_sector_size)
		bkey(fx, "sector-size", "%s", b->cfg.raw_sector_size);
	else
		bkey(fx, "sector-size", "%u", b->cfg.sector_size);
	bkey(fx, "info", "%u", b->cfg.info);
	bkey(fx, "feature-flush-cache", "%d", b->cfg.flush);
	bkey(fx, "feature-barrier", "%d", b->cfg.barrier);
	bkey(fx, "feature-persistent", "%d", b->cfg.persistent);
	if (b->cfg.discard) {
		bkey(fx, "feature-discard", "1");
		bkey(fx, "discard-granularity", "%u", b->cfg.sector_size);
	}
	if (b->cfg.indirect)
		bkey(fx, "feature-max-indirect-segments", "%d",
		     b->cfg.indirect);
}

static void blk_attach(struct fx *fx, uint32_t devid)
{
	struct fxb *b = fx->blk;
	char p[200];
	b->devid = devid;
	snprintf(b->fe, sizeof(b->fe), "/local/domain/%u/device/vbd/%u",
		 fx->h.domid, devid);
	snprintf(b->be, sizeof(b->be), "/local/domain/0/backend/vbd/%u/%u",
		 fx->h.domid, devid);
	snprintf(p, sizeof(p), "%s/backend", b->fe);
	fx_write(fx, p, b->be);
	snprintf(p, sizeof(p), "%s/backend-id", b->fe);
	fx_write(fx, p, "0");
	snprintf(p, sizeof(p), "%s/virtual-device", b->fe);
	fx_printf(fx, p, "%u", devid);
	snprintf(p, sizeof(p), "%s/device-type", b->fe);
	fx_write(fx, p, "disk");
	snprintf(p, sizeof(p), "%s/state", b->fe);
	fx_write(fx, p, "1");
	bkey(fx, "frontend", "%s", b->fe);
	bkey(fx, "frontend-id", "%u", fx->h.domid);
	bkey(fx, "online", "1");
	bkey(fx, "state", "1");
	b->last_fe = 1;
	if (b->cfg.never_ready)
		return;
	if (b->cfg.skip_initwait) {
		/* blkif.h: straight to Initialised, default parameters */
		bkey(fx, "state", "3");
		return;
	}
	if (b->cfg.raw_order)
		bkey(fx, "max-ring-page-order", "%s", b->cfg.raw_order);
	else if (b->cfg.max_order >= 0)
		bkey(fx, "max-ring-page-order", "%d", b->cfg.max_order);
	if (b->cfg.raw_queues)
		bkey(fx, "multi-queue-max-queues", "%s", b->cfg.raw_queues);
	else if (b->cfg.max_queues >= 0)
		bkey(fx, "multi-queue-max-queues", "%d", b->cfg.max_queues);
	if (b->cfg.connected_early) {
		blk_props(fx);
		bkey(fx, "state", "4");
		return;
	}
	bkey(fx, "state", "2");
}

static void blk_kick(struct fx *fx, struct fx_evt *e)
{
	struct fxb *b = fx->blk;
	if (b->cfg.manual)
		return;
	for (unsigned q = 0; q < b->nq; q++)
		if (b->q[q].ev == e)
			fxb_process(fx, q);
}

static int fe_int(struct fx *fx, const char *dir, const char *key)
{
	char p[200];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	return fx_read_int(fx, p);
}

static bool blk_connect(struct fx *fx)
{
	struct fxb *b = fx->blk;
	char p[200];
	int order = fe_int(fx, b->fe, "ring-page-order");
	int nq = fe_int(fx, b->fe, "multi-queue-num-queues");
	b->order = order < 0 ? 0 : (unsigned)order;
	b->nq = nq < 0 ? 1 : (unsigned)nq;
	if (b->nq > 16 || b->order > 4)
		return false;
	snprintf(p, sizeof(p), "%s/protocol", b->fe);
	const char *proto = fx_read(fx, p);
	snprintf(b->protocol, sizeof(b->protocol), "%s", proto ? proto : "");
	b->persistent_on = b->cfg.persistent &&
			   fe_int(fx, b->fe, "feature-persistent") == 1;
	for (unsigned q = 0; q < b->nq; q++) {
		char dir[160];
		struct fxb_ring *r = &b->q[q];
		if (b->nq == 1)
			snprintf(dir, sizeof(dir), "%s", b->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", b->fe, q);
		r->npages = 1u << b->order;
		/* the pages must be contiguous for this model: map each */
		void *first = NULL;
		for (unsigned i = 0; i < r->npages; i++) {
			char key[32];
			if (b->order == 0)
				snprintf(key, sizeof(key), "ring-ref");
			else
				snprintf(key, sizeof(key), "ring-ref%u", i);
			int ref = fe_int(fx, dir, key);
			if (ref < 0)
				return false;
			void *va = fx_map(fx, (uint32_t)ref, true);
			if (!va)
				return false;
			r->refs[i] = (uint32_t)ref;
			if (!i)
				first = va;
			else
				ck_assert_ptr_eq(va, (uint8_t *)first + i * 4096);
		}
		r->va = first;
		BACK_RING_INIT(&r->br, (blkif_sring_t *)first, r->npages * 4096);
		int port = fe_int(fx, dir, "event-channel");
		r->ev = port < 0 ? NULL : fx_evt(fx, (uint32_t)port);
		if (!r->ev)
			return false;
		r->ev->on_kick = blk_kick;
		r->connected = true;
	}
	return true;
}

static void blk_disconnect(struct fx *fx)
{
	struct fxb *b = fx->blk;
	for (unsigned q = 0; q < b->nq; q++) {
		struct fxb_ring *r = &b->q[q];
		if (!r->connected)
			continue;
		for (unsigned i = 0; i < r->npages; i++)
			fx_unmap(fx, r->refs[i]);
		if (r->ev)
			r->ev->on_kick = NULL;
		r->connected = false;
	}
	for (unsigned i = 0; i < b->npmaps; i++)
		fx_unmap(fx, b->pmaps[i]);
	b->npmaps = 0;
}

static void blk_step(struct fx *fx)
{
	struct fxb *b = fx->blk;
	if (!b->fe[0])
		return;
	int fe = fe_int(fx, b->fe, "state");
	if (fe == b->last_fe)
		return;
	b->last_fe = fe;
	switch (fe) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (b->cfg.never_connect || b->q[0].connected)
			return;
		if (!blk_connect(fx)) {
			bkey(fx, "state", "5");
			return;
		}
		blk_props(fx);
		bkey(fx, "state", "4");
		return;
	case XenbusStateClosing:
		bkey(fx, "state", "5");
		return;
	case XenbusStateClosed:
		blk_disconnect(fx);
		bkey(fx, "state", "6");
		return;
	default:
		return;
	}
}

static void blk_detach(struct fx *fx)
{
	struct fxb *b = fx->blk;
	blk_disconnect(fx);
	if (b->fe[0]) {
		fx_rm(fx, b->fe);
		fx_rm(fx, b->be);
	}
}

/* map one segment's page, do the I/O, unmap (or keep: persistent) */
static int blk_seg_io(struct fx *fx, uint8_t op, uint32_t gref, uint8_t first,
		      uint8_t last, uint64_t *sector)
{
	struct fxb *b = fx->blk;
	if (last >= 8 || last < first)
		return BLKIF_RSP_ERROR;
	/* the back end writes guest memory for a read; with persistent
	 * grants Linux blkback maps everything writable */
	bool w = op == BLKIF_OP_READ || b->persistent_on;
	uint8_t *pg = fx_map(fx, gref, w);
	if (!pg)
		return BLKIF_RSP_ERROR;
	uint32_t n = (uint32_t)(last - first + 1) * 512;
	if ((*sector + n / 512) > b->cfg.sectors) {
		fx_unmap(fx, gref);
		return BLKIF_RSP_ERROR;
	}
	if (op == BLKIF_OP_READ)
		memcpy(pg + first * 512, b->disk + *sector * 512, n);
	else
		memcpy(b->disk + *sector * 512, pg + first * 512, n);
	*sector += n / 512;
	bool keep = b->cfg.keep_data_mapped;
	if (b->persistent_on) {
		bool known = false;
		for (unsigned i = 0; i < b->npmaps; i++)
			known |= b->pmaps[i] == gref;
		if (!known && b->npmaps < 4096) {
			b->pmaps[b->npmaps++] = gref;
			keep = true;
		} else if (known) {
			fx_unmap(fx, gref); /* drop the extra mapping count */
			return BLKIF_RSP_OKAY;
		}
	}
	if (!keep)
		fx_unmap(fx, gref);
	return BLKIF_RSP_OKAY;
}

void fxb_process(struct fx *fx, unsigned qi)
{
	struct fxb *b = fx->blk;
	struct fxb_ring *r = &b->q[qi];
	if (!r->connected)
		return;
	int more;
	do {
		while (RING_HAS_UNCONSUMED_REQUESTS(&r->br)) {
			blkif_request_t req;
			RING_COPY_REQUEST(&r->br, r->br.req_cons, &req);
			r->br.req_cons++;
			b->reqs++;
			int16_t st = BLKIF_RSP_OKAY;
			uint8_t op = req.operation;
			uint64_t sector = req.sector_number;
			switch (req.operation) {
			case BLKIF_OP_READ:
			case BLKIF_OP_WRITE:
				if (op == BLKIF_OP_READ)
					b->reads++;
				else
					b->writes++;
				if (!req.nr_segments ||
				    req.nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
					st = BLKIF_RSP_ERROR;
					break;
				}
				if (req.nr_segments > b->max_nseg)
					b->max_nseg = req.nr_segments;
				for (unsigned i = 0; i < req.nr_segments && !st; i++)
					st = (int16_t)blk_seg_io(
						fx, op, req.seg[i].gref,
						req.seg[i].first_sect,
						req.seg[i].last_sect, &sector);
				break;
			case BLKIF_OP_INDIRECT: {
				blkif_request_indirect_t *ir = (void *)&req;
				op = ir->indirect_op;
				sector = ir->sector_number;
				b->indirects++;
				if (op == BLKIF_OP_READ)
					b->reads++;
				else
					b->writes++;
				unsigned n = ir->nr_segments;
				if (!b->cfg.indirect || n > (unsigned)b->cfg.indirect ||
				    n <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
					st = BLKIF_RSP_ERROR;
					break;
				}
				if (n > b->max_nseg)
					b->max_nseg = n;
				unsigned pages = (n + 511) / 512;
				for (unsigned p = 0; p < pages && !st; p++) {
					/* read-only is enough for indirect pages,
					 * but not with persistent grants */
					struct blkif_request_segment *segs =
						fx_map(fx, ir->indirect_grefs[p],
						       b->persistent_on);
					if (!segs) {
						st = BLKIF_RSP_ERROR;
						break;
					}
					for (unsigned i = p * 512; i < n && i < (p + 1) * 512 && !st; i++) {
						struct blkif_request_segment sg = segs[i - p * 512];
						st = (int16_t)blk_seg_io(fx, op, sg.gref,
									 sg.first_sect,
									 sg.last_sect,
									 &sector);
					}
					fx_unmap(fx, ir->indirect_grefs[p]);
				}
				break;
			}
			case BLKIF_OP_FLUSH_DISKCACHE:
				b->flushes++;
				b->last_flush_nseg = req.nr_segments;
				if (!b->cfg.flush)
					st = BLKIF_RSP_EOPNOTSUPP;
				break;
			case BLKIF_OP_WRITE_BARRIER:
				b->barriers++;
				if (!b->cfg.barrier)
					st = BLKIF_RSP_EOPNOTSUPP;
				break;
			case BLKIF_OP_DISCARD: {
				blkif_request_discard_t *d = (void *)&req;
				b->discards++;
				b->last_discard_sector = d->sector_number;
				b->last_discard_n = d->nr_sectors;
				if (!b->cfg.discard)
					st = BLKIF_RSP_EOPNOTSUPP;
				else if (d->sector_number + d->nr_sectors >
					 b->cfg.sectors)
					st = BLKIF_RSP_ERROR;
				else
					memset(b->disk + d->sector_number * 512, 0,
					       d->nr_sectors * 512);
				break;
			}
			default:
				st = BLKIF_RSP_EOPNOTSUPP;
				break;
			}
			blkif_response_t *rsp =
				RING_GET_RESPONSE(&r->br, r->br.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->operation = op;
			rsp->status = st;
			r->br.rsp_prod_pvt++;
		}
		int notify;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->br, notify);
		if (notify) {
			b->notify_sent++;
			fx_irq(fx, r->ev);
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&r->br, more);
	} while (more);
}

/* ---- netback ---- */

struct fxn *fxn_new(struct fx *fx, const struct fxn_cfg *cfg)
{
	struct fxn *n = calloc(1, sizeof(*n));
	ck_assert_ptr_nonnull(n);
	n->cfg = *cfg;
	n->last_fe = -1;
	fx->net = n;
	return n;
}

static void net_attach(struct fx *fx, uint32_t devid)
{
	struct fxn *n = fx->net;
	char p[200];
	n->devid = devid;
	snprintf(n->fe, sizeof(n->fe), "/local/domain/%u/device/vif/%u",
		 fx->h.domid, devid);
	snprintf(n->be, sizeof(n->be), "/local/domain/0/backend/vif/%u/%u",
		 fx->h.domid, devid);
	snprintf(p, sizeof(p), "%s/backend", n->fe);
	fx_write(fx, p, n->be);
	snprintf(p, sizeof(p), "%s/backend-id", n->fe);
	fx_write(fx, p, "0");
	snprintf(p, sizeof(p), "%s/handle", n->fe);
	fx_printf(fx, p, "%u", devid);
	snprintf(p, sizeof(p), "%s/mac", n->fe);
	fx_write(fx, p, n->cfg.mac ? n->cfg.mac : "00:16:3e:01:02:03");
	if (n->cfg.mtu) {
		snprintf(p, sizeof(p), "%s/mtu", n->fe);
		fx_write(fx, p, n->cfg.mtu);
	}
	snprintf(p, sizeof(p), "%s/state", n->fe);
	fx_write(fx, p, "1");
	nkey(fx, "frontend", "%s", n->fe);
	nkey(fx, "frontend-id", "%u", fx->h.domid);
	nkey(fx, "online", "1");
	nkey(fx, "state", "1");
	if (!n->cfg.no_rx_copy)
		nkey(fx, "feature-rx-copy", "1");
	nkey(fx, "feature-sg", "%d", n->cfg.sg);
	nkey(fx, "feature-gso-tcpv4", "%d", n->cfg.gso4);
	nkey(fx, "feature-gso-tcpv6", "%d", n->cfg.gso6);
	nkey(fx, "feature-ipv6-csum-offload", "%d", n->cfg.ipv6csum);
	nkey(fx, "feature-split-event-channels", "%d", n->cfg.split);
	if (n->cfg.max_queues >= 0)
		nkey(fx, "multi-queue-max-queues", "%d", n->cfg.max_queues);
	if (n->cfg.carrier)
		nkey(fx, "carrier", "%s", n->cfg.carrier);
	n->last_fe = 1;
	nkey(fx, "state", "2");
}

static void net_kick(struct fx *fx, struct fx_evt *e)
{
	struct fxn *n = fx->net;
	if (n->cfg.manual)
		return;
	for (unsigned q = 0; q < n->nq; q++)
		if (n->q[q].evtx == e)
			fxn_process_tx(fx, q);
}

static bool net_connect(struct fx *fx)
{
	struct fxn *n = fx->net;
	char p[200];
	int nq = fe_int(fx, n->fe, "multi-queue-num-queues");
	n->nq = nq < 0 ? 1 : (unsigned)nq;
	if (n->nq > 16 || fe_int(fx, n->fe, "request-rx-copy") != 1)
		return false;
	n->fe_keys[0] = '\0';
	static const char *const keys[] = { "feature-rx-notify", "feature-sg",
		"feature-gso-tcpv4", "feature-gso-tcpv6",
		"feature-no-csum-offload", "feature-ipv6-csum-offload" };
	for (unsigned i = 0; i < 6; i++) {
		char kv[64];
		snprintf(kv, sizeof(kv), "%s=%d ", keys[i],
			 fe_int(fx, n->fe, keys[i]));
		strncat(n->fe_keys, kv, sizeof(n->fe_keys) - strlen(n->fe_keys) - 1);
	}
	for (unsigned q = 0; q < n->nq; q++) {
		struct fxn_q *r = &n->q[q];
		char dir[160];
		if (n->nq == 1)
			snprintf(dir, sizeof(dir), "%s", n->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", n->fe, q);
		int tr = fe_int(fx, dir, "tx-ring-ref");
		int rr = fe_int(fx, dir, "rx-ring-ref");
		if (tr < 0 || rr < 0)
			return false;
		r->txva = fx_map(fx, (uint32_t)tr, true);
		r->rxva = fx_map(fx, (uint32_t)rr, true);
		if (!r->txva || !r->rxva)
			return false;
		r->txref = (uint32_t)tr;
		r->rxref = (uint32_t)rr;
		BACK_RING_INIT(&r->tx, (netif_tx_sring_t *)r->txva, 4096);
		BACK_RING_INIT(&r->rx, (netif_rx_sring_t *)r->rxva, 4096);
		int pt, pr;
		snprintf(p, sizeof(p), "%s/event-channel", dir);
		if (fx_read(fx, p)) {
			pt = pr = fx_read_int(fx, p);
		} else {
			if (!n->cfg.split)
				return false;
			pt = fe_int(fx, dir, "event-channel-tx");
			pr = fe_int(fx, dir, "event-channel-rx");
		}
		r->evtx = pt < 0 ? NULL : fx_evt(fx, (uint32_t)pt);
		r->evrx = pr < 0 ? NULL : fx_evt(fx, (uint32_t)pr);
		if (!r->evtx || !r->evrx)
			return false;
		r->evtx->on_kick = net_kick;
		r->connected = true;
	}
	return true;
}

static void net_disconnect(struct fx *fx)
{
	struct fxn *n = fx->net;
	for (unsigned q = 0; q < n->nq; q++) {
		struct fxn_q *r = &n->q[q];
		if (!r->connected)
			continue;
		fx_unmap(fx, r->txref);
		fx_unmap(fx, r->rxref);
		r->evtx->on_kick = NULL;
		r->connected = false;
	}
}

static void net_step(struct fx *fx)
{
	struct fxn *n = fx->net;
	if (!n->fe[0])
		return;
	int fe = fe_int(fx, n->fe, "state");
	if (fe == n->last_fe)
		return;
	n->last_fe = fe;
	switch (fe) {
	case XenbusStateConnected: /* netback ignores Initialised */
		if (n->q[0].connected)
			return;
		if (!net_connect(fx)) {
			nkey(fx, "state", "5");
			return;
		}
		nkey(fx, "state", "4");
		return;
	case XenbusStateClosing:
		nkey(fx, "state", "5");
		return;
	case XenbusStateClosed:
		net_disconnect(fx);
		nkey(fx, "state", "6");
		return;
	default:
		return;
	}
}

static void net_detach(struct fx *fx)
{
	struct fxn *n = fx->net;
	net_disconnect(fx);
	if (n->fe[0]) {
		fx_rm(fx, n->fe);
		fx_rm(fx, n->be);
	}
}

static void tx_rsp(struct fxn_q *r, uint16_t id, int16_t st)
{
	netif_tx_response_t *rs = RING_GET_RESPONSE(&r->tx, r->tx.rsp_prod_pvt);
	rs->id = id;
	rs->status = st;
	r->tx.rsp_prod_pvt++;
}

void fxn_process_tx(struct fx *fx, unsigned qi)
{
	struct fxn *n = fx->net;
	struct fxn_q *r = &n->q[qi];
	if (!r->connected)
		return;
	int more;
	do {
		while (RING_HAS_UNCONSUMED_REQUESTS(&r->tx)) {
			netif_tx_request_t first;
			RING_COPY_REQUEST(&r->tx, r->tx.req_cons, &first);
			r->tx.req_cons++;
			if (n->nframes == n->frames_cap) {
				n->frames_cap = n->frames_cap ? n->frames_cap * 2 : 16;
				n->frames = realloc(n->frames,
						    n->frames_cap * sizeof(*n->frames));
			}
			struct fxn_frame *f = &n->frames[n->nframes++];
			memset(f, 0, offsetof(struct fxn_frame, data));
			f->flags = first.flags;
			f->slots = 1;
			uint32_t total = first.size, got = 0;
			int16_t st = NETIF_RSP_OKAY;
			netif_tx_request_t cur = first;
			unsigned extras = 0;
			if (first.flags & NETTXF_extra_info) {
				struct netif_extra_info ex;
				do {
					netif_tx_request_t slot;
					RING_COPY_REQUEST(&r->tx, r->tx.req_cons,
							  &slot);
					memcpy(&ex, &slot, sizeof(ex));
					r->tx.req_cons++;
					extras++;
					if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
						f->gso_type = ex.u.gso.type;
						f->gso_size = ex.u.gso.size;
					}
				} while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
			}
			/* data slots */
			netif_tx_request_t slots[32];
			unsigned ns = 0;
			slots[ns++] = cur;
			while (cur.flags & NETTXF_more_data && ns < 32) {
				RING_COPY_REQUEST(&r->tx, r->tx.req_cons, &cur);
				r->tx.req_cons++;
				slots[ns++] = cur;
			}
			f->slots = ns;
			uint32_t rest = 0;
			for (unsigned i = 1; i < ns; i++)
				rest += slots[i].size;
			for (unsigned i = 0; i < ns; i++) {
				uint32_t len = i ? slots[i].size : total - rest;
				if (rest > total || slots[i].offset + len > 4096 ||
				    got + len > sizeof(f->data)) {
					st = NETIF_RSP_ERROR;
					continue;
				}
				uint8_t *pg = fx_map(fx, slots[i].gref, false);
				if (!pg) {
					st = NETIF_RSP_ERROR;
					continue;
				}
				memcpy(f->data + got, pg + slots[i].offset, len);
				got += len;
				fx_unmap(fx, slots[i].gref);
			}
			f->len = got;
			if (n->cfg.reflect && st == NETIF_RSP_OKAY)
				fxn_inject(fx, qi, f->data, f->len, 0);
			tx_rsp(r, slots[0].id, st);
			for (unsigned i = 0; i < extras; i++)
				tx_rsp(r, 0xdead, NETIF_RSP_NULL);
			for (unsigned i = 1; i < ns; i++)
				tx_rsp(r, slots[i].id, st);
		}
		int notify;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->tx, notify);
		if (notify) {
			n->notify_sent++;
			fx_irq(fx, r->evtx);
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&r->tx, more);
	} while (more);
}

int fxn_inject(struct fx *fx, unsigned qi, const void *frame, uint32_t len,
	       uint16_t flags)
{
	struct fxn *n = fx->net;
	struct fxn_q *r = &n->q[qi];
	if (!r->connected || !RING_HAS_UNCONSUMED_REQUESTS(&r->rx))
		return -1;
	netif_rx_request_t rq;
	RING_COPY_REQUEST(&r->rx, r->rx.req_cons, &rq);
	r->rx.req_cons++;
	int16_t st = (int16_t)len;
	uint8_t *pg = fx_map(fx, rq.gref, true);
	if (!pg || n->cfg.rx_offset + len > 4096) {
		st = NETIF_RSP_ERROR;
	} else {
		memcpy(pg + n->cfg.rx_offset, frame, len);
	}
	if (pg)
		fx_unmap(fx, rq.gref);
	netif_rx_response_t *rs = RING_GET_RESPONSE(&r->rx, r->rx.rsp_prod_pvt);
	rs->id = rq.id;
	rs->offset = n->cfg.rx_offset;
	rs->flags = flags;
	rs->status = st;
	r->rx.rsp_prod_pvt++;
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->rx, notify);
	if (notify) {
		n->notify_sent++;
		fx_irq(fx, r->evrx);
	}
	return 0;
}
