/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/xs_store.c - the xenstore tree of the simulated Xen host.
 *
 * Semantics follow C xenstored (docs/misc/xenstore.txt and its sources):
 *  - permissions: the first entry names the owner and everybody's default;
 *    later entries grant a domain r/w/b/n.  dom0 and owners have all
 *    rights.  A missing node answers ENOENT only if the nearest existing
 *    ancestor would be readable (writable for writes), else EACCES, so a
 *    domain learns nothing about nodes it cannot see.
 *  - nodes a domain creates inherit the parent's permissions but are owned
 *    by that domain; RM of a missing node whose parent exists succeeds.
 *  - watches fire for the changed node and its ancestors' watchers, with
 *    the changed path (relative if the watch was), once at registration,
 *    for every node a RM deletes (exact), and only to watchers that may
 *    read the node or its parent.
 *  - transactions work on a private copy of the tree and record the
 *    generation of every node they touch; at commit, any touched node whose
 *    generation changed meanwhile makes the commit fail with EAGAIN,
 *    otherwise the recorded operations are replayed on the live tree (and
 *    fire their watches then).
 *  - quotas for unprivileged domains: 1000 nodes, 2048-byte entries, 128
 *    watches, 10 transactions, 5 permissions per node.
 *
 * Internal clients (the back ends) get their watch events from a deferred
 * queue so they never run in the middle of a store update.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

#define PERM_OWNER 4u
#define QUOTA_NODES 1000u
#define QUOTA_ENTRY 2048u
#define QUOTA_WATCHES 128u
#define QUOTA_TX 10u
#define QUOTA_PERMS 5u
#define PATH_BUF (SXEN_XS_ABS_PATH_MAX + 64)

struct xnode {
	char *name;
	struct xnode *parent;
	struct xnode **kids;
	uint32_t nkids, capkids;
	uint8_t *val;
	uint32_t vlen;
	struct sxen_xs_perm *perms;
	uint32_t nperms;
	uint64_t gen;
};

struct xwatch {
	struct sxen_xs_client *c;
	char *path;
	char *token;
	bool relative;
	struct xwatch *next;
};

struct xacc {
	char *path;
	uint64_t gen;
};

enum { OP_WRITE, OP_MKDIR, OP_RM, OP_SETPERMS };

struct xop {
	int type;
	char *path;
	uint8_t *val;
	uint32_t vlen;
	struct sxen_xs_perm *perms;
	uint32_t nperms;
};

struct xtx {
	uint32_t id;
	struct xnode *root;
	struct xacc *acc;
	uint32_t nacc, capacc;
	struct xop *ops;
	uint32_t nops, capops;
	struct xtx *next;
};

struct xevent {
	struct sxen_xs_client *c;
	char *path;
	char *token;
	struct xevent *next;
};

struct sxen_xs_client {
	struct sxen_store *st;
	uint16_t domid;
	bool priv;
	struct sxen_xs_sink sink;
	void *arg;
	struct xtx *txs;
	uint32_t ntx;
	uint32_t next_txid;
	struct sxen_xs_client *next;
};

struct sxen_store {
	struct xnode *root;
	uint64_t gen;
	struct xwatch *watches;
	struct sxen_xs_client *clients;
	struct xevent *evq, *evq_tail;
	void (*kick)(void *arg);
	void *kick_arg;
	bool kicked;
	uint16_t doms[64];
	unsigned ndoms;
};

/* One operation in progress: on the live tree or a transaction's copy. */
struct ctx {
	struct sxen_store *st;
	struct sxen_xs_client *c;
	struct xtx *tx;  /* NULL: live tree */
	struct xnode *root;
	bool check;      /* permissions and quotas (not when replaying) */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		sim_log(SIM_LOG_ERROR, "out of memory");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

static void *xmemdup(const void *s, size_t n)
{
	void *p = xmalloc(n);
	if (n)
		memcpy(p, s, n);
	return p;
}

/* ---------------------------------------------------------------- nodes */

static struct xnode *node_new(const char *name, struct xnode *parent,
			      const struct sxen_xs_perm *perms, uint32_t nperms)
{
	struct xnode *n = calloc(1, sizeof(*n));
	if (!n)
		abort();
	n->name = xstrdup(name);
	n->parent = parent;
	n->perms = xmemdup(perms, nperms * sizeof(*perms));
	n->nperms = nperms;
	return n;
}

static void node_free(struct xnode *n)
{
	if (!n)
		return;
	for (uint32_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->val);
	free(n->perms);
	free(n);
}

static struct xnode *node_copy(const struct xnode *n, struct xnode *parent)
{
	struct xnode *c = node_new(n->name, parent, n->perms, n->nperms);
	c->val = xmemdup(n->val, n->vlen);
	c->vlen = n->vlen;
	c->gen = n->gen;
	c->capkids = c->nkids = n->nkids;
	c->kids = xmalloc(sizeof(*c->kids) * (n->nkids ? n->nkids : 1));
	for (uint32_t i = 0; i < n->nkids; i++)
		c->kids[i] = node_copy(n->kids[i], c);
	return c;
}

static struct xnode *node_child(const struct xnode *n, const char *name,
				size_t len)
{
	for (uint32_t i = 0; i < n->nkids; i++)
		if (strlen(n->kids[i]->name) == len &&
		    !memcmp(n->kids[i]->name, name, len))
			return n->kids[i];
	return NULL;
}

static void node_add_child(struct xnode *p, struct xnode *k)
{
	if (p->nkids == p->capkids) {
		p->capkids = p->capkids ? p->capkids * 2 : 4;
		struct xnode **nk = realloc(p->kids, sizeof(*nk) * p->capkids);
		if (!nk)
			abort();
		p->kids = nk;
	}
	p->kids[p->nkids++] = k;
}

static void node_del_child(struct xnode *p, struct xnode *k)
{
	for (uint32_t i = 0; i < p->nkids; i++)
		if (p->kids[i] == k) {
			memmove(&p->kids[i], &p->kids[i + 1],
				sizeof(*p->kids) * (p->nkids - i - 1));
			p->nkids--;
			return;
		}
}

static struct xnode *lookup(struct xnode *root, const char *path)
{
	struct xnode *n = root;
	const char *p = path;
	if (*p != '/')
		return NULL;
	while (n && *p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		n = node_child(n, p, len);
		p += len;
	}
	return n;
}

/* The absolute path of n, built from the leaf up (paths can be ~1500
 * levels deep). */
static void node_path(const struct xnode *n, char *buf, size_t len)
{
	size_t end = len - 1;
	buf[end] = 0;
	if (!n->parent) {
		snprintf(buf, len, "/");
		return;
	}
	for (const struct xnode *i = n; i && i->parent; i = i->parent) {
		size_t l = strlen(i->name);
		if (l + 1 > end) {
			buf[0] = 0; /* cannot happen: paths are bounded */
			return;
		}
		end -= l;
		memcpy(buf + end, i->name, l);
		buf[--end] = '/';
	}
	memmove(buf, buf + end, len - end);
}

static uint32_t child_bytes(const struct xnode *n)
{
	uint32_t b = 0;
	for (uint32_t i = 0; i < n->nkids; i++)
		b += (uint32_t)strlen(n->kids[i]->name) + 1;
	return b;
}

/* The size C xenstored charges an entry: record header, permissions,
 * value and the children's names. */
static uint32_t entry_size(const struct xnode *n, uint32_t extra_child)
{
	return 24 + 8 * n->nperms + n->vlen + child_bytes(n) + extra_child;
}

static unsigned count_owned(const struct xnode *n, uint16_t domid)
{
	unsigned c = n->nperms && n->perms[0].id == domid;
	for (uint32_t i = 0; i < n->nkids; i++)
		c += count_owned(n->kids[i], domid);
	return c;
}

static unsigned count_nodes(const struct xnode *n)
{
	unsigned c = 1;
	for (uint32_t i = 0; i < n->nkids; i++)
		c += count_nodes(n->kids[i]);
	return c;
}

/* ---------------------------------------------------------------- perms */

static unsigned perm_for(const struct sxen_xs_client *c,
			 const struct sxen_xs_perm *p, uint32_t n)
{
	const unsigned all = SXEN_XS_PERM_READ | SXEN_XS_PERM_WRITE | PERM_OWNER;
	if (!c || c->priv || !n || p[0].id == c->domid)
		return all;
	for (uint32_t i = 1; i < n; i++)
		if (p[i].id == c->domid)
			return p[i].perms;
	return p[0].perms;
}

int sxen_xs_parse_perm(const char *s, struct sxen_xs_perm *p)
{
	unsigned v;
	switch (s[0]) {
	case 'n': p->perms = 0; break;
	case 'r': p->perms = SXEN_XS_PERM_READ; break;
	case 'w': p->perms = SXEN_XS_PERM_WRITE; break;
	case 'b': p->perms = SXEN_XS_PERM_READ | SXEN_XS_PERM_WRITE; break;
	default: return -EINVAL;
	}
	if (s[1] < '0' || s[1] > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long l = strtoul(s + 1, &end, 10);
	if (errno || *end || l > 0xFFFF)
		return -EINVAL;
	v = (unsigned)l;
	p->id = (uint16_t)v;
	return 0;
}

void sxen_xs_format_perm(const struct sxen_xs_perm *p, char *buf, size_t len)
{
	static const char letters[] = "nrwb";
	snprintf(buf, len, "%c%u", letters[p->perms & 3], p->id);
}

/* ---------------------------------------------------------------- paths */

static bool valid_chars(const char *s)
{
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' ||
		      ch == '_' || ch == '@'))
			return false;
	}
	return true;
}

void sxen_xs_home(const struct sxen_xs_client *c, char *buf, size_t len)
{
	snprintf(buf, len, "/local/domain/%u", c->domid);
}

static bool valid_path(const struct sxen_xs_client *c, const char *p)
{
	size_t len = strlen(p);
	if (p[0] != '/' || len > SXEN_XS_ABS_PATH_MAX)
		return false;
	if (len > 1 && p[len - 1] == '/')
		return false;
	if (strstr(p, "//"))
		return false;
	if (c && !c->priv) {
		unsigned dom;
		int off = 0;
		if (sscanf(p, "/local/domain/%5u/%n", &dom, &off) >= 1 &&
		    off > 0 && len - (size_t)off > SXEN_XS_REL_PATH_MAX)
			return false;
	}
	return valid_chars(p);
}

/* Relative paths are relative to the client's home. */
static int canon(const struct sxen_xs_client *c, const char *in, char *out,
		 bool allow_special, bool *relative)
{
	if (relative)
		*relative = false;
	if (!in)
		return -EINVAL;
	if (in[0] == '@') {
		if (!allow_special || strlen(in) > SXEN_XS_REL_PATH_MAX)
			return -EINVAL;
		snprintf(out, PATH_BUF, "%s", in);
		return 0;
	}
	if (in[0] == '/') {
		if (strlen(in) >= PATH_BUF)
			return -EINVAL;
		strcpy(out, in);
	} else {
		char home[48];
		sxen_xs_home(c, home, sizeof(home));
		size_t hl = strlen(home), il = strlen(in);
		if (hl + il + 2 > PATH_BUF)
			return -EINVAL;
		memcpy(out, home, hl);
		out[hl] = '/';
		memcpy(out + hl + 1, in, il + 1);
		if (relative)
			*relative = true;
	}
	return valid_path(c, out) ? 0 : -EINVAL;
}

static void parent_path(const char *p, char *out)
{
	const char *s = strrchr(p, '/');
	if (!s || s == p) {
		strcpy(out, "/");
		return;
	}
	memcpy(out, p, (size_t)(s - p));
	out[s - p] = 0;
}

/* ---------------------------------------------------------------- events */

static void emit(struct sxen_xs_client *c, const char *path,
		 const char *token)
{
	struct sxen_store *st = c->st;
	if (c->sink.send) {
		size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
		if (pl + tl > SXEN_XS_PAYLOAD_MAX)
			return; /* xenstored drops over-long events too */
		char buf[SXEN_XS_PAYLOAD_MAX];
		memcpy(buf, path, pl);
		memcpy(buf + pl, token, tl);
		c->sink.send(c->arg, SXS_WATCH_EVENT, 0, 0, buf,
			     (uint32_t)(pl + tl));
		return;
	}
	struct xevent *e = xmalloc(sizeof(*e));
	e->c = c;
	e->path = xstrdup(path);
	e->token = xstrdup(token);
	e->next = NULL;
	if (st->evq_tail)
		st->evq_tail->next = e;
	else
		st->evq = e;
	st->evq_tail = e;
	if (!st->kicked && st->kick) {
		st->kicked = true;
		st->kick(st->kick_arg);
	}
}

void sxen_xs_run_deferred(struct sxen_store *st)
{
	st->kicked = false;
	while (st->evq) {
		struct xevent *e = st->evq;
		st->evq = e->next;
		if (!st->evq)
			st->evq_tail = NULL;
		if (e->c && e->c->sink.event)
			e->c->sink.event(e->c->arg, e->path, e->token);
		free(e->path);
		free(e->token);
		free(e);
	}
}

static bool is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);
	if (!strcmp(parent, "/"))
		return true;
	if (strncmp(child, parent, len))
		return false;
	return child[len] == '/' || child[len] == 0;
}

static bool watch_permitted(const struct sxen_xs_client *c,
			    const struct xnode *n,
			    const struct sxen_xs_perm *old, uint32_t nold)
{
	if (c->priv)
		return true;
	if (old && (perm_for(c, old, nold) & SXEN_XS_PERM_READ))
		return true;
	if (!n)
		return false;
	if (perm_for(c, n->perms, n->nperms) & SXEN_XS_PERM_READ)
		return true;
	return n->parent && (perm_for(c, n->parent->perms, n->parent->nperms) &
			     SXEN_XS_PERM_READ);
}

static void fire(struct sxen_store *st, const char *path, bool exact,
		 const struct xnode *n, const struct sxen_xs_perm *old,
		 uint32_t nold)
{
	for (struct xwatch *w = st->watches; w; w = w->next) {
		if (exact ? strcmp(path, w->path) != 0 : !is_child(path, w->path))
			continue;
		if (!watch_permitted(w->c, n, old, nold))
			continue;
		const char *p = path;
		if (w->relative) {
			char home[48];
			sxen_xs_home(w->c, home, sizeof(home));
			size_t hl = strlen(home);
			if (!strncmp(p, home, hl)) {
				p += hl;
				if (*p == '/')
					p++;
			}
		}
		emit(w->c, p, w->token);
	}
}

void sxen_xs_fire_special(struct sxen_store *st, const char *name)
{
	for (struct xwatch *w = st->watches; w; w = w->next)
		if (w->c->priv && !strcmp(w->path, name))
			emit(w->c, name, w->token);
}

/* ---------------------------------------------------------------- txs */

static void touch(struct ctx *x, const char *path, const struct xnode *n)
{
	struct xtx *t = x->tx;
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nacc; i++)
		if (!strcmp(t->acc[i].path, path))
			return;
	if (t->nacc == t->capacc) {
		t->capacc = t->capacc ? t->capacc * 2 : 16;
		struct xacc *na = realloc(t->acc, sizeof(*na) * t->capacc);
		if (!na)
			abort();
		t->acc = na;
	}
	t->acc[t->nacc].path = xstrdup(path);
	t->acc[t->nacc].gen = n ? n->gen : 0;
	t->nacc++;
}

static void touch_tree(struct ctx *x, const struct xnode *n, char *p)
{
	node_path(n, p, PATH_BUF);
	touch(x, p, n);
	for (uint32_t i = 0; i < n->nkids; i++)
		touch_tree(x, n->kids[i], p);
}

static void log_op(struct ctx *x, int type, const char *path,
		   const void *val, uint32_t vlen,
		   const struct sxen_xs_perm *perms, uint32_t nperms)
{
	struct xtx *t = x->tx;
	if (!t)
		return;
	if (t->nops == t->capops) {
		t->capops = t->capops ? t->capops * 2 : 8;
		struct xop *no = realloc(t->ops, sizeof(*no) * t->capops);
		if (!no)
			abort();
		t->ops = no;
	}
	struct xop *o = &t->ops[t->nops++];
	o->type = type;
	o->path = xstrdup(path);
	o->val = val ? xmemdup(val, vlen) : NULL;
	o->vlen = vlen;
	o->perms = perms ? xmemdup(perms, nperms * sizeof(*perms)) : NULL;
	o->nperms = nperms;
}

static void tx_free(struct xtx *t)
{
	node_free(t->root);
	for (uint32_t i = 0; i < t->nacc; i++)
		free(t->acc[i].path);
	free(t->acc);
	for (uint32_t i = 0; i < t->nops; i++) {
		free(t->ops[i].path);
		free(t->ops[i].val);
		free(t->ops[i].perms);
	}
	free(t->ops);
	free(t);
}

static int ctx_init(struct ctx *x, struct sxen_xs_client *c, uint32_t tx)
{
	x->st = c->st;
	x->c = c;
	x->tx = NULL;
	x->root = c->st->root;
	x->check = true;
	if (tx) {
		for (struct xtx *t = c->txs; t; t = t->next)
			if (t->id == tx) {
				x->tx = t;
				x->root = t->root;
				return 0;
			}
		return -ENOENT;
	}
	return 0;
}

/* ---------------------------------------------------------------- ops */

static uint64_t next_gen(struct sxen_store *st)
{
	return ++st->gen;
}

/* get_node(): the node at path if the client has `want` on it. */
static int get_node(struct ctx *x, const char *path, unsigned want,
		    struct xnode **out)
{
	struct xnode *n = lookup(x->root, path);
	*out = NULL;
	touch(x, path, n);
	if (n) {
		if (x->check && (perm_for(x->c, n->perms, n->nperms) & want) != want)
			return -EACCES;
		*out = n;
		return 0;
	}
	if (!x->check)
		return -ENOENT;
	/* What do the parents say? */
	char p[PATH_BUF];
	strcpy(p, path);
	struct xnode *a = NULL;
	while (strcmp(p, "/")) {
		char q[PATH_BUF];
		parent_path(p, q);
		strcpy(p, q);
		a = lookup(x->root, p);
		if (a)
			break;
	}
	if (!a)
		a = x->root;
	return (perm_for(x->c, a->perms, a->nperms) & want) ? -ENOENT : -EACCES;
}

static int create_node(struct ctx *x, const char *path, const void *val,
		       uint32_t vlen, struct xnode **out)
{
	/* Find the nearest existing ancestor and the names below it. */
	char p[PATH_BUF];
	strcpy(p, path);
	struct xnode *a;
	while (!(a = lookup(x->root, p))) {
		char q[PATH_BUF];
		parent_path(p, q);
		strcpy(p, q);
	}
	const char *rest = path + strlen(p);
	if (x->check && !x->c->priv) {
		/* one new node per path component below the ancestor */
		unsigned newn = *rest && *rest != '/';
		for (const char *s = rest; *s; s++)
			newn += *s == '/';
		if (count_owned(x->root, x->c->domid) + newn > QUOTA_NODES)
			return -ENOSPC;
		const char *first = rest + (*rest == '/');
		const char *e = strchr(first, '/');
		size_t fl = e ? (size_t)(e - first) : strlen(first);
		if (entry_size(a, (uint32_t)fl + 1) >= QUOTA_ENTRY)
			return -ENOSPC;
		if (24 + 8 * a->nperms + vlen >= QUOTA_ENTRY)
			return -ENOSPC;
	}
	/* The ancestor's children change. */
	touch(x, p, a);
	a->gen = next_gen(x->st);
	struct xnode *n = a;
	char cur[PATH_BUF];
	strcpy(cur, p);
	while (*rest) {
		if (*rest == '/')
			rest++;
		const char *e = strchr(rest, '/');
		size_t len = e ? (size_t)(e - rest) : strlen(rest);
		char name[PATH_BUF];
		memcpy(name, rest, len);
		name[len] = 0;
		struct xnode *k = node_new(name, n, n->perms, n->nperms);
		if (!x->c->priv && k->nperms)
			k->perms[0].id = x->c->domid;
		k->gen = next_gen(x->st);
		node_add_child(n, k);
		size_t cl = strlen(cur);
		if (strcmp(cur, "/"))
			cur[cl++] = '/';
		memcpy(cur + cl, name, len + 1); /* fits: cur is a prefix of path */
		touch(x, cur, NULL);
		n = k;
		rest += len;
	}
	free(n->val);
	n->val = xmemdup(val, vlen);
	n->vlen = vlen;
	*out = n;
	return 0;
}

static int do_write(struct ctx *x, const char *path, const void *val,
		    uint32_t vlen)
{
	struct xnode *n;
	int r = get_node(x, path, SXEN_XS_PERM_WRITE, &n);
	if (r == -ENOENT) {
		r = create_node(x, path, val, vlen, &n);
		if (r)
			return r;
	} else if (r) {
		return r;
	} else {
		if (x->check && !x->c->priv &&
		    24 + 8 * n->nperms + vlen + child_bytes(n) >= QUOTA_ENTRY)
			return -ENOSPC;
		free(n->val);
		n->val = xmemdup(val, vlen);
		n->vlen = vlen;
		n->gen = next_gen(x->st);
	}
	log_op(x, OP_WRITE, path, val, vlen, NULL, 0);
	if (!x->tx)
		fire(x->st, path, false, n, NULL, 0);
	return 0;
}

static int do_mkdir(struct ctx *x, const char *path)
{
	struct xnode *n;
	int r = get_node(x, path, SXEN_XS_PERM_WRITE, &n);
	if (!r)
		return 0; /* exists: fine */
	if (r != -ENOENT)
		return r;
	r = create_node(x, path, NULL, 0, &n);
	if (r)
		return r;
	log_op(x, OP_MKDIR, path, NULL, 0, NULL, 0);
	if (!x->tx)
		fire(x->st, path, false, n, NULL, 0);
	return 0;
}

/* p: a PATH_BUF scratch buffer shared by the recursion (trees can be
 * ~1500 levels deep: no path buffer per frame). */
static void delete_tree(struct ctx *x, struct xnode *n, char *p)
{
	while (n->nkids)
		delete_tree(x, n->kids[0], p);
	node_path(n, p, PATH_BUF);
	if (!x->tx)
		fire(x->st, p, true, n, NULL, 0);
	if (n->parent) {
		node_del_child(n->parent, n);
		n->parent->gen = next_gen(x->st);
	}
	node_free(n);
}

static int do_rm(struct ctx *x, const char *path)
{
	struct xnode *n;
	int r = get_node(x, path, SXEN_XS_PERM_WRITE, &n);
	if (r == -ENOENT) {
		char p[PATH_BUF];
		parent_path(path, p);
		struct xnode *pn = lookup(x->root, p);
		touch(x, p, pn);
		return pn ? 0 : -ENOENT;
	}
	if (r)
		return r;
	if (!strcmp(path, "/"))
		return -EINVAL;
	char p[PATH_BUF];
	parent_path(path, p);
	touch(x, p, n->parent);
	if (x->tx)
		touch_tree(x, n, p);
	if (!x->tx)
		fire(x->st, path, false, n, NULL, 0);
	delete_tree(x, n, p);
	log_op(x, OP_RM, path, NULL, 0, NULL, 0);
	return 0;
}

static int do_set_perms(struct ctx *x, const char *path,
			const struct sxen_xs_perm *perms, uint32_t np)
{
	struct xnode *n;
	if (!np)
		return -EINVAL;
	if (x->check && !x->c->priv && np > QUOTA_PERMS)
		return -ENOSPC;
	int r = get_node(x, path, SXEN_XS_PERM_WRITE | PERM_OWNER, &n);
	if (r)
		return r;
	if (x->check && !x->c->priv && n->nperms && perms[0].id != n->perms[0].id)
		return -EPERM;
	struct sxen_xs_perm *old = n->perms;
	uint32_t nold = n->nperms;
	n->perms = xmemdup(perms, np * sizeof(*perms));
	n->nperms = np;
	n->gen = next_gen(x->st);
	log_op(x, OP_SETPERMS, path, NULL, 0, perms, np);
	if (!x->tx)
		fire(x->st, path, false, n, old, nold);
	free(old);
	return 0;
}

/* ---------------------------------------------------------------- API */

struct sxen_store *sxen_xs_new(void)
{
	struct sxen_store *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	struct sxen_xs_perm n0 = { 0, 0 };
	st->root = node_new("", NULL, &n0, 1);
	st->root->gen = next_gen(st);
	return st;
}

void sxen_xs_free(struct sxen_store *st)
{
	if (!st)
		return;
	while (st->clients)
		sxen_xs_client_free(st->clients);
	sxen_xs_run_deferred(st);
	node_free(st->root);
	free(st);
}

void sxen_xs_set_kick(struct sxen_store *st, void (*kick)(void *), void *arg)
{
	st->kick = kick;
	st->kick_arg = arg;
}

struct sxen_xs_client *sxen_xs_client_new(struct sxen_store *st,
					  uint16_t domid, bool priv,
					  const struct sxen_xs_sink *sink,
					  void *arg)
{
	struct sxen_xs_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->st = st;
	c->domid = domid;
	c->priv = priv;
	if (sink)
		c->sink = *sink;
	c->arg = arg;
	c->next_txid = 1;
	c->next = st->clients;
	st->clients = c;
	return c;
}

static void drop_watches(struct sxen_xs_client *c)
{
	for (struct xwatch **pw = &c->st->watches; *pw;) {
		struct xwatch *w = *pw;
		if (w->c == c) {
			*pw = w->next;
			free(w->path);
			free(w->token);
			free(w);
		} else {
			pw = &w->next;
		}
	}
}

static void drop_txs(struct sxen_xs_client *c)
{
	while (c->txs) {
		struct xtx *t = c->txs;
		c->txs = t->next;
		tx_free(t);
	}
	c->ntx = 0;
}

void sxen_xs_client_free(struct sxen_xs_client *c)
{
	if (!c)
		return;
	struct sxen_store *st = c->st;
	drop_watches(c);
	drop_txs(c);
	for (struct xevent *e = st->evq; e; e = e->next)
		if (e->c == c)
			e->c = NULL;
	for (struct sxen_xs_client **pc = &st->clients; *pc; pc = &(*pc)->next)
		if (*pc == c) {
			*pc = c->next;
			break;
		}
	free(c);
}

uint16_t sxen_xs_client_domid(const struct sxen_xs_client *c)
{
	return c->domid;
}

bool sxen_xs_client_priv(const struct sxen_xs_client *c)
{
	return c->priv;
}

struct sxen_store *sxen_xs_client_store(const struct sxen_xs_client *c)
{
	return c->st;
}

int sxen_xs_read(struct sxen_xs_client *c, uint32_t tx, const char *path,
		 char **val, uint32_t *len)
{
	struct ctx x;
	char p[PATH_BUF];
	struct xnode *n;
	int r = ctx_init(&x, c, tx);
	if (!r)
		r = canon(c, path, p, false, NULL);
	if (!r)
		r = get_node(&x, p, SXEN_XS_PERM_READ, &n);
	if (r)
		return r;
	*val = xmalloc(n->vlen + 1);
	if (n->vlen)
		memcpy(*val, n->val, n->vlen);
	(*val)[n->vlen] = 0;
	*len = n->vlen;
	return 0;
}

int sxen_xs_write(struct sxen_xs_client *c, uint32_t tx, const char *path,
		  const void *val, uint32_t len)
{
	struct ctx x;
	char p[PATH_BUF];
	int r = ctx_init(&x, c, tx);
	if (!r)
		r = canon(c, path, p, false, NULL);
	return r ? r : do_write(&x, p, val, len);
}

int sxen_xs_mkdir(struct sxen_xs_client *c, uint32_t tx, const char *path)
{
	struct ctx x;
	char p[PATH_BUF];
	int r = ctx_init(&x, c, tx);
	if (!r)
		r = canon(c, path, p, false, NULL);
	return r ? r : do_mkdir(&x, p);
}

int sxen_xs_rm(struct sxen_xs_client *c, uint32_t tx, const char *path)
{
	struct ctx x;
	char p[PATH_BUF];
	int r = ctx_init(&x, c, tx);
	if (!r)
		r = canon(c, path, p, false, NULL);
	return r ? r : do_rm(&x, p);
}

int sxen_xs_directory(struct sxen_xs_client *c, uint32_t tx, const char *path,
		      char **names, uint32_t *len, uint64_t *gen)
{
	struct ctx x;
	char p[PATH_BUF];
	struct xnode *n;
	int r = ctx_init(&x, c, tx);
	if (!r)
		r = canon(c, path, p, false, NULL);
	if (!r)
		r = get_node(&x, p, SXEN_XS_PERM_READ, &n);
	if (r)
		return r;
	uint32_t total = child_bytes(n), off = 0;
	*names = xmalloc(total + 1);
	for (uint32_t i = 0; i < n->nkids; i++) {
		size_t l = strlen(n->kids[i]->name) + 1;
		memcpy(*names + off, n->kids[i]->name, l);
		off += (uint32_t)l;
	}
	*len = total;
	if (gen)
		*gen = n->gen;
	return 0;
}

int sxen_xs_get_perms(struct sxen_xs_client *c, uint32_t tx, const char *path,
		      struct sxen_xs_perm **perms, uint32_t *np)
{
	struct ctx x;
	char p[PATH_BUF];
	struct xnode *n;
	int r = ctx_init(&x, c, tx);
	if (!r)
		r = canon(c, path, p, false, NULL);
	if (!r)
		r = get_node(&x, p, SXEN_XS_PERM_READ, &n);
	if (r)
		return r;
	*perms = xmemdup(n->perms, n->nperms * sizeof(*n->perms));
	*np = n->nperms;
	return 0;
}

int sxen_xs_set_perms(struct sxen_xs_client *c, uint32_t tx, const char *path,
		      const struct sxen_xs_perm *perms, uint32_t n)
{
	struct ctx x;
	char p[PATH_BUF];
	int r = ctx_init(&x, c, tx);
	if (r)
		return r;
	if (path && path[0] == '@') {
		/* Special nodes: only dom0 may change who hears about
		 * domains; we accept and ignore it. */
		return c->priv ? 0 : -EACCES;
	}
	r = canon(c, path, p, false, NULL);
	return r ? r : do_set_perms(&x, p, perms, n);
}

int sxen_xs_set_perms_str(struct sxen_xs_client *c, uint32_t tx,
			  const char *path, const char *perms)
{
	struct sxen_xs_perm p[8];
	uint32_t n = 0;
	char buf[128], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", perms);
	for (char *s = strtok_r(buf, ",", &save); s && n < 8;
	     s = strtok_r(NULL, ",", &save))
		if (sxen_xs_parse_perm(s, &p[n++]) < 0)
			return -EINVAL;
	return sxen_xs_set_perms(c, tx, path, p, n);
}

int sxen_xs_printf(struct sxen_xs_client *c, uint32_t tx, const char *path,
		   const char *fmt, ...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -E2BIG;
	return sxen_xs_write(c, tx, path, v, (uint32_t)n);
}

int sxen_xs_watch(struct sxen_xs_client *c, const char *path,
		  const char *token)
{
	char p[PATH_BUF];
	bool rel;
	int r = canon(c, path, p, true, &rel);
	if (r)
		return r;
	unsigned count = 0;
	for (struct xwatch *w = c->st->watches; w; w = w->next) {
		if (w->c == c && !strcmp(w->path, p) && !strcmp(w->token, token))
			return -EEXIST;
		if (w->c->domid == c->domid)
			count++;
	}
	if (!c->priv && count > QUOTA_WATCHES)
		return -E2BIG;
	struct xwatch *w = xmalloc(sizeof(*w));
	w->c = c;
	w->path = xstrdup(p);
	w->token = xstrdup(token);
	w->relative = rel;
	/* keep registration order: append */
	w->next = NULL;
	struct xwatch **pw = &c->st->watches;
	while (*pw)
		pw = &(*pw)->next;
	*pw = w;
	return 0;
}

int sxen_xs_watch_fire_initial(struct sxen_xs_client *c, const char *path,
			       const char *token)
{
	emit(c, path, token);
	return 0;
}

int sxen_xs_unwatch(struct sxen_xs_client *c, const char *path,
		    const char *token)
{
	char p[PATH_BUF];
	int r = canon(c, path, p, true, NULL);
	if (r)
		return r;
	for (struct xwatch **pw = &c->st->watches; *pw; pw = &(*pw)->next) {
		struct xwatch *w = *pw;
		if (w->c == c && !strcmp(w->path, p) && !strcmp(w->token, token)) {
			*pw = w->next;
			free(w->path);
			free(w->token);
			free(w);
			return 0;
		}
	}
	return -ENOENT;
}

void sxen_xs_reset_watches(struct sxen_xs_client *c)
{
	drop_watches(c);
	drop_txs(c);
}

int sxen_xs_tx_start(struct sxen_xs_client *c, uint32_t *id)
{
	if (!c->priv && c->ntx > QUOTA_TX)
		return -ENOSPC;
	struct xtx *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	do {
		t->id = c->next_txid++;
	} while (!t->id);
	t->root = node_copy(c->st->root, NULL);
	t->next = c->txs;
	c->txs = t;
	c->ntx++;
	*id = t->id;
	return 0;
}

int sxen_xs_tx_end(struct sxen_xs_client *c, uint32_t id, bool commit)
{
	struct xtx **pt = &c->txs, *t = NULL;
	for (; *pt; pt = &(*pt)->next)
		if ((*pt)->id == id) {
			t = *pt;
			*pt = t->next;
			c->ntx--;
			break;
		}
	if (!t)
		return -ENOENT;
	int r = 0;
	if (commit) {
		for (uint32_t i = 0; i < t->nacc; i++) {
			struct xnode *n = lookup(c->st->root, t->acc[i].path);
			if ((n ? n->gen : 0) != t->acc[i].gen) {
				r = -EAGAIN;
				break;
			}
		}
		if (!r) {
			struct ctx x = { c->st, c, NULL, c->st->root, false };
			for (uint32_t i = 0; i < t->nops; i++) {
				struct xop *o = &t->ops[i];
				switch (o->type) {
				case OP_WRITE:
					do_write(&x, o->path, o->val, o->vlen);
					break;
				case OP_MKDIR:
					do_mkdir(&x, o->path);
					break;
				case OP_RM:
					do_rm(&x, o->path);
					break;
				case OP_SETPERMS:
					do_set_perms(&x, o->path, o->perms,
						     o->nperms);
					break;
				}
			}
		}
	}
	tx_free(t);
	return r;
}

void sxen_xs_send(struct sxen_xs_client *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *p, uint32_t len)
{
	if (c->sink.send)
		c->sink.send(c->arg, type, req_id, tx_id, p, len);
}

bool sxen_xs_tx_valid(const struct sxen_xs_client *c, uint32_t id)
{
	for (const struct xtx *t = c->txs; t; t = t->next)
		if (t->id == id)
			return true;
	return false;
}

void sxen_xs_stats(const struct sxen_store *st, unsigned *nodes,
		   unsigned *watches, unsigned *txs)
{
	*nodes = count_nodes(st->root);
	*watches = 0;
	for (struct xwatch *w = st->watches; w; w = w->next)
		(*watches)++;
	*txs = 0;
	for (struct sxen_xs_client *c = st->clients; c; c = c->next)
		*txs += c->ntx;
}

const char *sxen_xs_errname(int err)
{
	static const struct {
		int e;
		const char *n;
	} names[] = {
		{ EINVAL, "EINVAL" }, { EACCES, "EACCES" },
		{ EEXIST, "EEXIST" }, { EISDIR, "EISDIR" },
		{ ENOENT, "ENOENT" }, { ENOMEM, "ENOMEM" },
		{ ENOSPC, "ENOSPC" }, { EIO, "EIO" },
		{ ENOTEMPTY, "ENOTEMPTY" }, { ENOSYS, "ENOSYS" },
		{ EROFS, "EROFS" }, { EBUSY, "EBUSY" },
		{ EAGAIN, "EAGAIN" }, { EISCONN, "EISCONN" },
		{ E2BIG, "E2BIG" }, { EPERM, "EPERM" },
	};
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == err)
			return names[i].n;
	return "EINVAL";
}

void sxen_xs_set_domain(struct sxen_store *st, uint16_t domid, bool present)
{
	for (unsigned i = 0; i < st->ndoms; i++)
		if (st->doms[i] == domid) {
			if (!present) {
				st->doms[i] = st->doms[--st->ndoms];
				sxen_xs_fire_special(st, "@releaseDomain");
			}
			return;
		}
	if (present && st->ndoms < sizeof(st->doms) / sizeof(st->doms[0])) {
		st->doms[st->ndoms++] = domid;
		sxen_xs_fire_special(st, "@introduceDomain");
	}
}

bool sxen_xs_domain_known(const struct sxen_store *st, unsigned domid)
{
	if (domid == 0)
		return true;
	for (unsigned i = 0; i < st->ndoms; i++)
		if (st->doms[i] == domid)
			return true;
	return false;
}
