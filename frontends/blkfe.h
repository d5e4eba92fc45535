/* SPDX-License-Identifier: MIT */
/*
 * frontends/blkfe.h - the block front end's internals.
 *
 * Model.  Each queue has a fixed pool of user-request slots (struct
 * fe_brq, queue_depth of them) and, per device, a fixed pool of
 * device-request slots ("tags", struct fe_btag) with bounce buffers.  A user
 * request is split lazily: a cursor walks it and each step builds one
 * device request ("child") that fits the device's limits, when a tag (and,
 * if needed, a bounce buffer) is free.  Requests with work left wait in the
 * queue's pending FIFO, so the order in which user requests start is the
 * order they were made, and nothing is allocated on the data path.
 *
 * A user request completes when its cursor reached the end and no child is
 * out; its result is the first child error.  Resetting the cursor is all it
 * takes to resubmit a request on another device (migration, reconnect),
 * which is why children are not materialised up front.
 */
#ifndef PVIO_BLKFE_H
#define PVIO_BLKFE_H

#include "fe.h"

#define FE_MAX_IOV 1024u         /* iovecs per user request */
#define FE_MAX_DEPTH 4096u       /* user requests per queue */
#define FE_MAX_TAGS 1024u        /* device requests per queue we use */
#define FE_MIN_TAGS 8u           /* ... at least, when the ring has them */
#define FE_MAX_SEGS 1024u        /* segments per device request we build */
#define FE_BOUNCE_MAX (128u << 10) /* bytes per bounce buffer */
#define FE_BOUNCE_BYTES (512u << 10) /* bounce memory per queue */
#define FE_REAP_BATCH 32u

/* What the current device allows, derived once per device. */
struct fe_bgeo {
	uint64_t capacity;
	uint32_t bs;          /* logical block size */
	uint32_t xfer;        /* bytes per read/write child (multiple of bs) */
	uint32_t mss;         /* bytes per segment (multiple of align) */
	uint32_t nseg;        /* segments per child */
	uint32_t align;       /* segment address/length alignment (>= 1) */
	uint32_t sb;          /* a segment must not cross this (0: no rule) */
	uint32_t vb;          /* virt boundary (0: no rule) */
	uint32_t unit;        /* bounce segment size: power of two <= mss, sb */
	uint32_t bsize;       /* bytes one bounce buffer carries */
	uint32_t bstride;     /* distance between bounce buffers */
	uint64_t max_discard; /* bytes per discard child, 0: no discard */
	uint64_t max_wz;      /* bytes per write-zeroes child, 0: emulate */
	uint32_t ntags;
	uint32_t nbounce;
	bool ro, flush, fua;
};

/* Link of an intrusive list over a queue's user-request slots. */
struct fe_link {
	uint16_t prev, next;
};
struct fe_list {
	uint16_t head, tail;
};
enum { FE_L_ACT = 0, FE_L_PEND = 1 };

enum fe_rq_state { FE_RQ_FREE = 0, FE_RQ_ACTIVE, FE_RQ_DONE };
enum fe_phase { FE_PH_DATA = 0, FE_PH_FLUSH = 1 };

struct fe_brq {
	void *cookie;
	const struct pvio_iovec *iov; /* the caller's array, or &one */
	struct pvio_iovec one;
	uint64_t offset, len;
	uint32_t niov;
	uint8_t op;        /* enum pvio_blk_op as the user asked */
	uint8_t state;     /* enum fe_rq_state */
	uint8_t phase;     /* enum fe_phase */
	bool fua;
	bool zc;           /* every buffer can go to the device as it is */
	bool stop;         /* a child failed: build no more */
	bool sync;         /* made by a synchronous helper: never held */
	bool on[2];        /* on the active / pending list */
	int32_t err;       /* first child error */
	uint32_t nchild;   /* children holding a tag */
	/* cursor: bytes turned into children, and where that is in iov */
	uint64_t done;
	uint32_t ci;
	size_t coff;
	struct fe_link l[2];
};

/* A device-request slot. */
struct fe_btag {
	uint16_t rq;       /* owning user request, FE_NONE when free */
	uint16_t bounce;   /* bounce buffer, or FE_NONE */
	uint8_t op;        /* the child's op */
	bool live;         /* accepted by the ring (not just staged) */
	uint64_t len;
	uint32_t ci;       /* where the child's data starts in the user iov */
	size_t coff;
};

/* Per queue, per device: replaced wholesale when the device changes. */
struct fe_bdq {
	struct fe_btag *tag;
	uint16_t *tag_free;
	uint32_t tag_nfree;
	uint8_t *bounce;          /* nbounce buffers, bstride apart */
	uint16_t *bounce_free;
	uint32_t bounce_nfree;
	struct pvio_dseg *seg;    /* the staged child's segments */
	struct pvio_blk_dreq staged; /* built, not yet accepted by the ring */
	bool staged_valid;
	uint32_t nchild;          /* tags in use */
	uint32_t nlive;           /* children the device has */
};

struct fe_bq {
	struct fe_brq *rq;
	uint16_t *rq_free;
	uint32_t rq_nfree;
	struct fe_list list[2];   /* active (in order made), pending FIFO */
	uint32_t nact;            /* on the active list */
	uint16_t *done;           /* completed, not yet returned by poll */
	uint32_t done_head, done_n; /* FIFO of depth entries */
	struct pvio_blk_dcomp *dcomp;
	struct fe_bdq d;
	int failed;               /* device failed: -EIO/-ENODEV, else 0 */
	bool need_kick;
	bool fd_mode;             /* the completion fd was asked for */
	bool await_first;         /* after a move: time the first completion */
	uint64_t first_ns;
	uint64_t last_ns;         /* time of the latest completion reaped */
	uint64_t reaped;          /* children completed (progress marker) */
	uint64_t finished;        /* user requests completed */
	bool dirty;               /* a write completed: flush before leaving */
};

struct pvio_blk {
	pvio_ctx *ctx;
	pvio_dev *dev;
	uint32_t nq, depth, flags;
	struct fe_bgeo geo;
	bool ro;                  /* contract: no writes (from attach) */
	void *zbuf;               /* FE_BOUNCE_MAX zeroed bytes (emulated
				     write-zeroes) */
	struct fe_bq *q;
	int *fdset;
	struct pvio_queue_stats *retired;
	struct pvio_migrate_report report;
	bool have_report;
	uint64_t t_last_old;      /* last completion on the device we left
				     (or when we started leaving it, if it
				     completed nothing) */
	/* the current device was drained and quiesced (reconnect, close):
	 * what that did, for the report */
	bool stopped;
	bool moving;              /* leaving the device: a failure of it does
				     not fail the queues */
	int stop_ret;             /* its quiesce result */
	struct pvio_migrate_report stop_rep;
};

/* blk_geo.c */
/* depth: user requests per queue (tags are sized by it and the ring) */
int fe_blk_geo(pvio_ctx *ctx, const pvio_dev *dev, uint32_t depth,
	       struct fe_bgeo *g);
int fe_bdq_alloc(pvio_ctx *ctx, const struct fe_bgeo *g, struct fe_bdq *d);
void fe_bdq_free(pvio_ctx *ctx, struct fe_bdq *d, bool leak_bounce);

/* blk_split.c */
int fe_blk_build(pvio_blk *blk, struct fe_bq *bq, struct fe_brq *rq);
void fe_blk_copy_back(pvio_blk *blk, struct fe_bq *bq, const struct fe_btag *t,
		      const struct fe_brq *rq);
bool fe_blk_zc_ok(const pvio_blk *blk, const struct pvio_iovec *iov,
		  unsigned niov);

/* blk_io.c */
bool fe_brq_more(const struct fe_brq *rq);
void fe_brq_start(pvio_blk *blk, struct fe_bq *bq, struct fe_brq *rq);
void fe_brq_finish(pvio_blk *blk, struct fe_bq *bq, struct fe_brq *rq);
void fe_blk_progress(pvio_blk *blk, unsigned q);
int fe_blk_issue(pvio_blk *blk, unsigned q);
int fe_blk_kick(pvio_blk *blk, unsigned q);
int fe_blk_reap(pvio_blk *blk, unsigned q);
/* blk_req.c */
struct fe_breq_args {
	uint8_t op;
	uint64_t offset, len;
	const struct pvio_iovec *iov; /* NULL: buf/len is the only buffer */
	unsigned niov;
	void *buf;
	void *cookie;
	uint32_t flags;
	bool sync;
};
int fe_blk_enqueue(pvio_blk *blk, unsigned q, const struct fe_breq_args *a,
		   uint16_t *slot);
void fe_blk_free_slot(struct fe_bq *bq, struct fe_brq *rq);

/* blk_fail.c, blk_move.c */
void fe_blk_fail_queue(pvio_blk *blk, unsigned q, int err);
void fe_blk_drop_children(pvio_blk *blk, struct fe_bq *bq);
void fe_blk_stop(pvio_blk *blk);

/* lists (blk_io.c) */
void fe_list_push(struct fe_bq *bq, unsigned w, uint16_t i);
void fe_list_unlink(struct fe_bq *bq, unsigned w, uint16_t i);

#endif /* PVIO_BLKFE_H */
