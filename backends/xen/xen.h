/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/xen.h - internals shared by the files of the Xen back end.
 *
 * Names: xen_ for the back end, xs_ for the xenstore client.  Nothing here
 * calls the operating system; see hostif.h for how the back end reaches
 * the hypervisor.
 */
#ifndef PVIO_XEN_H
#define PVIO_XEN_H

#include <pvio/transport.h>

#include "hostif.h"
#include "wire.h"

/* ================================================================ ring.c */

/* The front end's view of one shared ring (io/ring.h FRONT_RING). */
struct xen_fring {
	uint8_t *sring;        /* shared header, then the entries */
	uint8_t *ents;
	uint32_t nr_ents;      /* power of two */
	uint32_t ent_size;
	uint32_t req_prod_pvt; /* next request to fill */
	uint32_t req_prod;     /* last published (our copy, never re-read) */
	uint32_t rsp_cons;     /* next response to consume */
};

/* Entries a ring of bytes with entries of ent_size holds (power of two,
 * io/ring.h __CONST_RING_SIZE); 0 if none fit. */
uint32_t xen_ring_entries(size_t bytes, size_t ent_size);
/* SHARED_RING_INIT + FRONT_RING_INIT on zeroed memory.  start is the
 * first index (0 on a real ring; tests use it to exercise wrap-around). */
void xen_ring_init(struct xen_fring *r, void *va, size_t bytes,
		   uint32_t ent_size, uint32_t start);
/* Publish the queued requests: wmb, req_prod, mb, then true if the back
 * end asked to be notified (req_event in (old, new]). */
bool xen_ring_push(struct xen_fring *r);
/* Read rsp_prod once and return how many responses may be consumed,
 * or -EPROTO if the back end produced more responses than there are
 * published requests (including a producer moving backwards). */
int xen_ring_pending(struct xen_fring *r, uint32_t *rsp_prod);
/* Is request index idx filled but not yet published (between req_prod and
 * req_prod_pvt)?  The back end can only know such a request by reading
 * ahead of req_prod, so a response naming it is a protocol violation. */
static inline bool xen_ring_unpublished(const struct xen_fring *r,
					uint32_t idx)
{
	return (uint32_t)(idx - r->req_prod) <
	       (uint32_t)(r->req_prod_pvt - r->req_prod);
}
/* Before sleeping: rsp_event = rsp_cons + 1, mb, re-check.  True if
 * responses are waiting (do not sleep), or -EPROTO as above. */
int xen_ring_final_check(struct xen_fring *r);
/* Ask for no response notifications (busy polling). */
void xen_ring_mute(struct xen_fring *r);

static inline void *xen_ring_slot(const struct xen_fring *r, uint32_t idx)
{
	return r->ents + (size_t)(idx & (r->nr_ents - 1)) * r->ent_size;
}
static inline uint32_t xen_ring_free(const struct xen_fring *r)
{
	return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);
}
/* Copy response idx out of shared memory (RING_COPY_RESPONSE). */
static inline void xen_ring_copy(const struct xen_fring *r, uint32_t idx,
				 void *dst, size_t len)
{
	memcpy(dst, xen_ring_slot(r, idx), len);
}

/* ================================================================ grant.c */

/* A grant table v1 that the guest writes itself. */
struct xen_gnttab {
	pvio_ctx *ctx;
	struct xen_grant_v1 *ent;
	uint32_t nr_ents;
	uint32_t next;         /* refs >= next were never handed out */
	uint32_t *free;        /* handed back, ended */
	uint32_t nfree;
	uint32_t *quar;        /* ended while mapped: never reused */
	uint32_t nquar;
};

int xen_gnttab_init(struct xen_gnttab *t, pvio_ctx *ctx, void *frames,
		    uint32_t nframes);
void xen_gnttab_fini(struct xen_gnttab *t);
/* Refs ended while the peer still mapped them (never reused). */
uint32_t xen_gnttab_quarantined(const struct xen_gnttab *t);
/* Refs that xen_gnt_alloc can still hand out. */
uint32_t xen_gnttab_available(const struct xen_gnttab *t);

/* Entry-level operations (no allocation; safe on the data path as long
 * as each ref is used by one thread). */
int xen_gnt_set(struct xen_gnttab *t, uint32_t ref, uint16_t domid,
		uint64_t gfn, bool ro);
/* End access with the CAS rule: 0 when revoked, -EBUSY when the peer
 * still maps it (GTF_reading/GTF_writing). */
int xen_gnt_clear(struct xen_gnttab *t, uint32_t ref);

/* Control path: take a free ref, give one back after ending it.
 * xen_gnt_release ends access; a ref still mapped goes to quarantine and
 * is retried by xen_gnttab_retry. */
int xen_gnt_alloc(struct xen_gnttab *t, uint32_t *ref);
int xen_gnt_release(struct xen_gnttab *t, uint32_t ref);
/* Retry the quarantine; returns how many refs are still mapped. */
uint32_t xen_gnttab_retry(struct xen_gnttab *t);

/* A per-queue set of refs for granting data pages on the data path. */
struct xen_gnt_pool {
	struct xen_gnttab *t;
	uint32_t *stack;
	uint32_t n, cap;
	uint32_t *quar;
	uint32_t nquar;
};

int xen_gnt_pool_init(struct xen_gnt_pool *p, struct xen_gnttab *t,
		      uint32_t count);
/* Ends every granted ref it still holds (callers end theirs first) and
 * returns refs to the table; quarantined ones stay quarantined there. */
void xen_gnt_pool_fini(struct xen_gnt_pool *p);

static inline int xen_gnt_pool_grant(struct xen_gnt_pool *p, uint16_t domid,
				     uint64_t gfn, bool ro, uint32_t *ref)
{
	if (!p->n)
		return -EAGAIN;
	uint32_t r = p->stack[p->n - 1];
	int e = xen_gnt_set(p->t, r, domid, gfn, ro);
	if (e < 0)
		return e;
	p->n--;
	*ref = r;
	return 0;
}

/* 0: revoked and reusable; -EBUSY: still mapped, quarantined. */
static inline int xen_gnt_pool_end(struct xen_gnt_pool *p, uint32_t ref)
{
	if (xen_gnt_clear(p->t, ref) < 0) {
		p->quar[p->nquar++] = ref;
		return -EBUSY;
	}
	p->stack[p->n++] = ref;
	return 0;
}

/* Retry the pool's quarantine (cheap when empty). */
void xen_gnt_pool_retry(struct xen_gnt_pool *p);

/* ================================================================ xenstore.c */

#define XS_EV_PATH 256
#define XS_EV_TOKEN 48
#define XS_EVQ 32

struct xs_event {
	char path[XS_EV_PATH];   /* truncated if longer (see trunc) */
	char token[XS_EV_TOKEN];
	bool trunc;
};

struct xs_client {
	pvio_ctx *ctx;
	struct xen_hostif *h;
	uint32_t req_id;
	bool dead;
	int dead_err;
	/* the message being received */
	uint8_t rx[sizeof(struct xen_xsd_sockmsg) + XEN_XS_PAYLOAD_MAX];
	size_t rx_len;
	/* the reply being waited for */
	bool waiting;
	uint32_t want_id;
	bool got;
	struct xen_xsd_sockmsg rhdr;
	char errname[16];
	char *rbuf;
	size_t rcap, rlen;
	/* watch events received, not yet taken */
	struct xs_event ev[XS_EVQ];
	unsigned ev_head, ev_tail;
	uint32_t ev_lost;
	uint32_t stale;
};

int xs_init(struct xs_client *xs, pvio_ctx *ctx, struct xen_hostif *h);

/* Requests (tx 0: outside a transaction).  Every one is bounded by the
 * context timeout.  Errors: the errno the server named, -ETIMEDOUT,
 * -EPROTO (the server broke the protocol; the client is then dead and
 * every later call fails with -EPIPE). */
/* Read a value into buf (NUL-terminated): its length, -ENOENT, -E2BIG
 * (does not fit cap), -EINVAL (embedded NUL). */
int xs_read(struct xs_client *xs, uint32_t tx, const char *path, char *buf,
	    size_t cap);
/* Strict unsigned decimal within [0, max]: 0, -ENOENT, -EINVAL, -ERANGE. */
int xs_read_u64(struct xs_client *xs, uint32_t tx, const char *path,
		uint64_t max, uint64_t *v);
int xs_write(struct xs_client *xs, uint32_t tx, const char *path,
	     const char *value);
int xs_printf(struct xs_client *xs, uint32_t tx, const char *path,
	      const char *fmt, ...) PVIO_PRINTF(4, 5);
int xs_mkdir(struct xs_client *xs, uint32_t tx, const char *path);
int xs_rm(struct xs_client *xs, uint32_t tx, const char *path);
/* Children of path as NUL-separated names in buf; returns the count. */
int xs_directory(struct xs_client *xs, uint32_t tx, const char *path,
		 char *buf, size_t cap);
int xs_watch(struct xs_client *xs, const char *path, const char *token);
int xs_unwatch(struct xs_client *xs, const char *path, const char *token);
int xs_tx_start(struct xs_client *xs, uint32_t *tx);
/* -EAGAIN: another writer conflicted, run the transaction again. */
int xs_tx_end(struct xs_client *xs, uint32_t tx, bool commit);
/* Run fn inside a transaction, restarting it while the commit reports
 * EAGAIN (bounded). */
int xs_transaction(struct xs_client *xs,
		   int (*fn)(struct xs_client *xs, uint32_t tx, void *arg),
		   void *arg);

/* Take in what the server sent, without blocking (queues watch events):
 * 0 or -errno. */
int xs_poll(struct xs_client *xs);
/* Next queued watch event: 1, 0 (none), -errno. */
int xs_next_event(struct xs_client *xs, struct xs_event *ev);
/* Wait until a watch event is queued or deadline_ns: 1, 0, -errno. */
int xs_wait_event(struct xs_client *xs, uint64_t deadline_ns);
/* errno for a xenstore error name ("ENOENT"), EIO if unknown. */
int xs_errno(const char *name);

/* ================================================================ xenbus.c */

struct xen_xb {
	struct xs_client *xs;
	pvio_ctx *ctx;
	char fe[128];      /* /local/domain/<domid>/device/<type>/<devid> */
	char be[256];      /* the back end's directory (validated) */
	char token[40];    /* our watch on <be>/state */
	uint16_t be_domid;
	uint32_t devid;
	int fe_state;      /* what we last wrote */
	int be_state;      /* what we last read */
	bool watching;
	bool vif;          /* netfront order (Initialising -> Connected) */
};

/* Callbacks of the handshake, in this order. */
struct xen_xb_hooks {
	/* back end at InitWait (or already Connected): read its features */
	int (*features)(void *arg);
	/* write our keys inside transaction tx (restarted on EAGAIN) */
	int (*keys)(struct xs_client *xs, uint32_t tx, void *arg);
	/* back end Connected: read the device's properties */
	int (*props)(void *arg);
};

int xen_xb_probe(struct xen_xb *xb, struct xs_client *xs, uint16_t domid,
		 const char *type, uint32_t devid, bool vif);
void xen_xb_fini(struct xen_xb *xb);
/* The back end's state from xenstore (absent: Unknown). */
int xen_xb_read_be(struct xen_xb *xb);
/* Write our state (in a transaction, after checking our node exists). */
int xen_xb_switch(struct xen_xb *xb, int state);
/* Wait (bounded) until the back end's state is in ok (bit mask); fail
 * with -ENODEV when it is in fatal.  *state gets the last state seen. */
int xen_xb_wait(struct xen_xb *xb, uint32_t ok, uint32_t fatal,
		uint64_t deadline_ns, int *state);
/* The connection handshake of xen-pv.md section 6 (vbd: Initialised then
 * Connected; vif: straight to Connected). */
int xen_xb_connect(struct xen_xb *xb, const struct xen_xb_hooks *hk,
		   void *arg, uint64_t deadline_ns);
/* The front end's close: Closing, wait, Closed, wait.  0 when the back
 * end reached Closed (or went away), -ETIMEDOUT otherwise. */
int xen_xb_close(struct xen_xb *xb, uint64_t deadline_ns);

#define XB_BIT(s) (1u << (s))
/* states in which a back end takes our keys */
#define XEN_XB_READY (XB_BIT(XEN_XB_INITWAIT) | XB_BIT(XEN_XB_INITIALISED) | \
		      XB_BIT(XEN_XB_CONNECTED))
#define XB_GONE (XB_BIT(XEN_XB_CLOSING) | XB_BIT(XEN_XB_CLOSED) | \
		 XB_BIT(XEN_XB_UNKNOWN))

/* ================================================================ transport.c */

/* Options from the address (after '?'). */
struct xen_opts {
	bool attach;         /* do the toolstack's part (default 1) */
	bool copy;           /* grant only pvio's own pages: copy data */
	bool persistent;     /* vbd: offer persistent grants (default 1) */
	bool split;          /* vif: split event channels if offered */
	uint32_t queues;     /* queues to offer/connect (0: default) */
	uint32_t ring_order; /* vbd: largest ring order wanted */
	uint32_t indirect;   /* vbd: max indirect segments wanted (0: none) */
};

struct xen_dev;

/* Per-class part. */
struct xen_class {
	int (*open)(struct xen_dev *xd);
	/* watch event on something the class watches (after transport's) */
	void (*changed)(struct xen_dev *xd);
	/* free rings, grants, channels (after the back end closed) */
	void (*teardown)(struct xen_dev *xd);
};

struct xen_dev {
	pvio_dev *dev;
	pvio_ctx *ctx;
	struct xen_hostif *h;
	struct xs_client *xs;
	struct xen_xb xb;
	const struct xen_class *cls;
	struct xen_opts opts;
	char type[4];
	uint32_t devid;
	bool attached;
	bool connected;      /* handshake finished */
	bool quiesced;       /* the back end closed the device */
	bool close_tried;    /* our close handshake ran (maybe timed out) */
	bool copy;           /* data goes through pvio's own shared pages */
	void *cpriv;         /* the class's state */
};

/* Parse "vbd/N" or "vif/N" plus "?opts": 0 or -EINVAL (message set). */
int xen_parse_device(pvio_ctx *ctx, const char *spec, char type[4],
		     uint32_t *devid, struct xen_opts *o);
/* Open the device over an open hostif (which it owns from then on, also
 * on failure). */
int xen_open(pvio_ctx *ctx, struct xen_hostif *h, const char *type,
	     uint32_t devid, const struct xen_opts *o, pvio_dev **out);

static inline struct xen_dev *xen_dev_of(pvio_dev *dev)
{
	return (struct xen_dev *)dev->priv;
}

/* The one-line error for a failed hostif share() of npages for what. */
int xen_share_error(struct xen_dev *xd, int r, const char *what,
		    uint32_t npages);

/* Shared dev ops. */
int xen_service(pvio_dev *dev);
int xen_event_fd(pvio_dev *dev);
int xen_quiesce(pvio_dev *dev);
void xen_close(pvio_dev *dev);

/* Per-class ops tables and parts. */
extern const struct pvio_dev_ops xen_blk_dev_ops;
extern const struct pvio_dev_ops xen_net_dev_ops;
extern const struct xen_class xen_blk_class;
extern const struct xen_class xen_net_class;

/* Event channels: notify and count. */
static inline void xen_notify(struct xen_dev *xd, struct xen_evtchn *ev)
{
	xd->h->ops->evtchn_notify(xd->h, ev);
}

/* Pages share() can still hand out. */
static inline uint32_t xen_share_room(const struct xen_hostif *h)
{
	if (!h->share_limit)
		return UINT32_MAX;
	return h->share_limit > h->shared ? h->share_limit - h->shared : 0;
}

/* Frame number of a DMA address. */
static inline uint64_t xen_gfn(uint64_t dev_addr)
{
	return dev_addr >> XEN_PAGE_SHIFT;
}

#endif /* PVIO_XEN_H */
