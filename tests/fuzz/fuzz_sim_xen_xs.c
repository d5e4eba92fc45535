/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sim_xen_xs.c - the simulated Xen host's xenstored
 * (sim/xen/xs_proto.c, xs_store.c) against guests whose wire requests the
 * fuzzer writes.
 *
 * Three wire clients - dom0 (privileged) and two guests - send requests
 * of every type with any header (request id, transaction id, length) and
 * payload (paths, values, permission lists, watch tokens, transaction
 * ends, control and introduce messages), mixed with well-formed ones so
 * the store fills up; deferred watch work runs in between, as the loop
 * does.
 *
 * Properties: no crash, leak or sanitizer report; every reply is one
 * well-formed message (at most 4096 bytes of payload, the request's id
 * and transaction id, a known type, errors are NUL-terminated names);
 * and isolation: a node dom0 made private (perms "n0") holds a secret
 * that no guest ever receives in any reply or watch event, and no guest
 * can change it.
 *
 * dom0's wire client is privileged: like C xenstored, the store lets it
 * rewrite or remove the private node and hand out rights to it or to its
 * ancestors (a domain that may write /local/domain/0 may remove the whole
 * subtree, whatever the children's permissions).  So after each of dom0's
 * requests the harness puts the node and its ancestors' permissions back
 * as they were (as the toolstack); after each guest request they must be
 * unchanged.  No request may carry the secret itself, so it can only
 * reach a guest out of the private node.
 */
#include "fuzz.h"

#include "xen/sxen.h"

#define SECRET "s3cr3t-value-of-dom0"

struct cl {
	struct sxen_xs_client *c;
	uint16_t domid;
	uint32_t last_req, last_tx;
	bool replied;
	unsigned replies;
};

static void on_send(void *arg, uint32_t type, uint32_t req_id, uint32_t tx_id,
		    const void *p, uint32_t len)
{
	struct cl *c = arg;
	FZ_ASSERT(len <= SXEN_XS_PAYLOAD_MAX, "a reply of %u bytes", len);
	FZ_ASSERT(type < SXS_TYPE_COUNT, "reply type %u", type);
	if (len) {
		/* an exact copy, so ASan sees a length that lies */
		uint8_t *copy = malloc(len);
		FZ_ASSERT(copy, "malloc");
		memcpy(copy, p, len);
		if (c->domid != 0)
			FZ_ASSERT(!memmem(copy, len, SECRET, strlen(SECRET)),
				  "domain %u received dom0's private value",
				  c->domid);
		if (type == SXS_ERROR)
			FZ_ASSERT(copy[len - 1] == 0, "error name not terminated");
		free(copy);
	}
	if (type == SXS_WATCH_EVENT)
		return;
	FZ_ASSERT(req_id == c->last_req, "reply with request id %u to %u",
		  req_id, c->last_req);
	c->replied = true;
	c->replies++;
	(void)tx_id;
}

static const struct sxen_xs_sink sink = { on_send, NULL };

/* The private node and the ancestors whose rights reach it. */
static const char *const guarded[] = {
	"/", "/local", "/local/domain", "/local/domain/0",
	"/local/domain/0/secret",
};
#define NGUARDED (sizeof(guarded) / sizeof(guarded[0]))

struct gstate {
	struct sxen_xs_perm *perms[NGUARDED];
	uint32_t nperms[NGUARDED];
	int err[NGUARDED];
	char *val;
	uint32_t vlen;
	int verr;
};

static void gstate_get(struct sxen_xs_client *tool, struct gstate *g)
{
	for (unsigned i = 0; i < NGUARDED; i++) {
		g->perms[i] = NULL;
		g->nperms[i] = 0;
		g->err[i] = sxen_xs_get_perms(tool, 0, guarded[i], &g->perms[i],
					      &g->nperms[i]);
	}
	g->val = NULL;
	g->vlen = 0;
	g->verr = sxen_xs_read(tool, 0, guarded[NGUARDED - 1], &g->val,
			       &g->vlen);
}

static void gstate_free(struct gstate *g)
{
	for (unsigned i = 0; i < NGUARDED; i++)
		free(g->perms[i]);
	free(g->val);
}

static bool gstate_same(const struct gstate *a, const struct gstate *b)
{
	for (unsigned i = 0; i < NGUARDED; i++)
		if (a->err[i] != b->err[i] || a->nperms[i] != b->nperms[i] ||
		    (a->nperms[i] && memcmp(a->perms[i], b->perms[i],
					    a->nperms[i] * sizeof(*a->perms[i]))))
			return false;
	return a->verr == b->verr && a->vlen == b->vlen &&
	       (!a->vlen || !memcmp(a->val, b->val, a->vlen));
}

/* Put the private node and its ancestors' rights back to g. */
static void gstate_restore(struct sxen_xs_client *tool, const struct gstate *g)
{
	FZ_ASSERT(sxen_xs_write(tool, 0, guarded[NGUARDED - 1], g->val,
				g->vlen) == 0, "restoring the private node");
	for (unsigned i = 0; i < NGUARDED; i++)
		FZ_ASSERT(sxen_xs_set_perms(tool, 0, guarded[i], g->perms[i],
					    g->nperms[i]) == 0,
			  "restoring the permissions of %s", guarded[i]);
}

static const char *const paths[] = {
	"/local/domain/0/secret", "/local/domain/3/data/x", "data/y",
	"/local/domain/4", "@introduceDomain", "/local/domain/3",
	"/vm/../local", "/local/domain/3/data/very/deep/path/that/goes/on",
	"device/vbd/51712/state", "",
};

/* A request payload: mostly made of known pieces. */
static uint32_t payload(struct fz *f, uint32_t type, uint8_t *p)
{
	uint32_t n = 0;
	uint8_t how = fz_u8(f);
	if (how >= 0xc0) {
		n = fz_below(f, 300);
		if (how == 0xff)
			n = fz_below(f, SXEN_XS_PAYLOAD_MAX + 1);
		fz_bytes(f, p, n);
		return n;
	}
	const char *path = paths[how % (sizeof(paths) / sizeof(paths[0]))];
	size_t pl = strlen(path);
	memcpy(p, path, pl + 1);
	n = (uint32_t)pl + 1;
	switch (type) {
	case SXS_WRITE: {
		size_t vl = fz_below(f, 40);
		fz_bytes(f, p + pl + 1, vl);
		n = (uint32_t)(pl + 1 + vl);
		break;
	}
	case SXS_WATCH:
	case SXS_UNWATCH:
		memcpy(p + n, "tok", 4);
		n += 4;
		break;
	case SXS_SET_PERMS: {
		static const char *const perms[] = { "n3", "r0", "b4", "w3",
						     "n0\0r3", "x9", "n65535" };
		unsigned pi = fz_below(f, 7);
		const char *pm = perms[pi];
		size_t ml = strlen(pm) + 1;
		if (pi == 4)
			ml += 3; /* the two-entry list */
		memcpy(p + n, pm, ml);
		n += (uint32_t)ml;
		break;
	}
	case SXS_TRANSACTION_START:
		p[0] = 0;
		n = 1;
		break;
	case SXS_TRANSACTION_END:
		memcpy(p, fz_bool(f) ? "T" : "F", 2);
		n = 2;
		break;
	case SXS_INTRODUCE:
	case SXS_RELEASE:
	case SXS_IS_DOMAIN_INTRODUCED:
	case SXS_GET_DOMAIN_PATH: {
		int k = snprintf((char *)p, 64, "%u", fz_u8(f) % 8);
		n = (uint32_t)k + 1;
		if (type == SXS_INTRODUCE) {
			memcpy(p + n, "123\0" "5", 6);
			n += 6;
		}
		break;
	}
	default:
		break;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	sim_log_init("fuzz", getenv("FUZZ_LOG") ? SIM_LOG_DEBUG : -1);
	struct sxen_store *st = sxen_xs_new();
	FZ_ASSERT(st, "store");
	struct sxen_xs_client *tool = sxen_xs_client_new(st, 0, true, NULL, NULL);
	FZ_ASSERT(tool, "client");
	FZ_ASSERT(sxen_xs_write(tool, 0, "/local/domain/0/secret", SECRET,
				strlen(SECRET)) == 0 &&
		  sxen_xs_set_perms_str(tool, 0, "/local/domain/0/secret", "n0") == 0,
		  "secret");
	for (unsigned d = 3; d <= 4; d++) {
		char p[64], pm[16];
		snprintf(p, sizeof(p), "/local/domain/%u", d);
		snprintf(pm, sizeof(pm), "n0,r%u", d);
		sxen_xs_mkdir(tool, 0, p);
		sxen_xs_set_perms_str(tool, 0, p, pm);
		snprintf(p, sizeof(p), "/local/domain/%u/data", d);
		snprintf(pm, sizeof(pm), "n%u", d);
		sxen_xs_mkdir(tool, 0, p);
		sxen_xs_set_perms_str(tool, 0, p, pm);
		sxen_xs_set_domain(st, (uint16_t)d, true);
	}
	struct gstate g0;
	gstate_get(tool, &g0);
	FZ_ASSERT(!g0.verr && !g0.err[NGUARDED - 1], "the private node");
	struct cl cl[3] = { { .domid = 0 }, { .domid = 3 }, { .domid = 4 } };
	for (int i = 0; i < 3; i++) {
		cl[i].c = sxen_xs_client_new(st, cl[i].domid, i == 0, &sink, &cl[i]);
		FZ_ASSERT(cl[i].c, "client");
	}

	uint8_t *p = malloc(SXEN_XS_PAYLOAD_MAX + 1);
	FZ_ASSERT(p, "malloc");
	for (unsigned step = 0; step < 200 && fz_left(&f); step++) {
		struct cl *c = &cl[fz_below(&f, 3)];
		struct sxen_xs_hdr h;
		uint8_t k = fz_u8(&f);
		h.type = k < 0xf0 ? fz_below(&f, SXS_TYPE_COUNT + 1) : fz_u32(&f);
		h.req_id = fz_u32(&f);
		h.tx_id = (k & 0x0f) == 0x0f ? fz_u32(&f)
			  : (k & 1) ? c->last_tx : 0;
		uint32_t n = payload(&f, h.type, p);
		/* the secret comes only out of the private node */
		for (uint8_t *m; (m = memmem(p, n, SECRET, strlen(SECRET)));)
			m[0] ^= 0x20;
		h.len = n;
		/* the store trusts the connection layer for len <= 4096 and
		 * the payload being there: give it what conn.c gives it */
		uint8_t *exact = malloc(n ? n : 1);
		FZ_ASSERT(exact, "malloc");
		memcpy(exact, p, n);
		c->last_req = h.req_id;
		c->replied = false;
		sxen_xs_handle(c->c, &h, exact);
		free(exact);
		if (h.type == SXS_TRANSACTION_START && c->replied)
			c->last_tx = 0; /* unknown here; next ones guess */
		if (fz_bool(&f))
			sxen_xs_run_deferred(st);
		struct gstate g;
		gstate_get(tool, &g);
		if (!gstate_same(&g0, &g)) {
			FZ_ASSERT(c->domid == 0, "domain %u changed dom0's "
				  "private node or the rights to it", c->domid);
			gstate_restore(tool, &g0);
			gstate_free(&g);
			gstate_get(tool, &g);
			FZ_ASSERT(gstate_same(&g0, &g), "restoring the private "
				  "node");
		}
		gstate_free(&g);
	}
	sxen_xs_run_deferred(st);
	/* no guest changed the private node */
	char *v = NULL;
	uint32_t vl = 0;
	FZ_ASSERT(sxen_xs_read(tool, 0, "/local/domain/0/secret", &v, &vl) == 0 &&
		  vl == strlen(SECRET) && !memcmp(v, SECRET, vl),
		  "dom0's private node was changed or removed");
	free(v);
	gstate_free(&g0);
	free(p);
	for (int i = 0; i < 3; i++)
		sxen_xs_client_free(cl[i].c);
	sxen_xs_client_free(tool);
	sxen_xs_free(st);
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	/* write, read, directory, watch, transaction, as each client */
	static const uint8_t types[] = { SXS_WRITE, SXS_READ, SXS_DIRECTORY,
					 SXS_WATCH, SXS_TRANSACTION_START,
					 SXS_WRITE, SXS_TRANSACTION_END,
					 SXS_GET_PERMS, SXS_SET_PERMS, SXS_RM,
					 SXS_MKDIR, SXS_UNWATCH,
					 SXS_GET_DOMAIN_PATH };
	for (unsigned who = 0; who < 3; who++) {
		for (unsigned i = 0; i < sizeof(types); i++) {
			fzb_u8(&b, (uint8_t)who);
			fzb_u8(&b, 0);               /* header knob */
			fzb_u8(&b, types[i]);
			fzb_u32(&b, 100 + i);        /* req id */
			fzb_u8(&b, (uint8_t)(1 + i % 3)); /* a path */
			fzb_u8(&b, 5);               /* value / perms */
			fzb_put(&b, "hello", 5);
			fzb_u8(&b, 1);
		}
		char name[16];
		snprintf(name, sizeof(name), "dom%u", who);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
