/* SPDX-License-Identifier: MIT */
/*
 * pvio/blk.h - the block front end.
 *
 * One front end for virtio-blk, Xen blkif and Hyper-V StorVSC.  It splits
 * requests to the device's limits, bounces buffers that are not in
 * device-reachable memory (or all buffers, with PVIO_BLK_ALWAYS_BOUNCE),
 * tracks requests, keeps statistics, and can move to another device while
 * requests are in flight (pvio_blk_migrate()).
 *
 * Asynchronous use, per queue (a queue is used by one thread at a time):
 *
 *     pvio_blk_read(blk, q, off, buf, len, cookie, 0);   // enqueue
 *     pvio_blk_write(blk, q, ...);
 *     pvio_blk_submit(blk, q);                           // one notification
 *     n = pvio_blk_poll(blk, q, done, 1, 16, timeout_ns);
 *
 * Enqueue functions return 0 or a negative errno (-EAGAIN: no free request
 * slot - poll for completions first; -EINVAL: bad offset/length/alignment;
 * -EROFS, -EOPNOTSUPP: the device cannot do it; -EIO: the device is broken).
 * A request that was accepted always completes exactly once, through
 * pvio_blk_poll(), with ret 0 or a negative errno.  Offsets and lengths are
 * in bytes and must be multiples of the logical block size.  Buffers and the
 * iovec arrays passed to readv/writev must stay valid until the request
 * completes (pvio may have to resubmit them after a migration).
 */
#ifndef PVIO_BLK_H
#define PVIO_BLK_H

#include <pvio/pvio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pvio_blk pvio_blk;

/* pvio_blk_opts.flags */
enum {
	/* Copy every buffer through pvio's own device-reachable memory, even
	 * buffers from pvio_dma_alloc(): the host never sees caller memory
	 * (the safe mode for untrusted hosts, cf. Xen XSA-403). */
	PVIO_BLK_ALWAYS_BOUNCE = 1u << 0,
	/* Poll without sleeping in pvio_blk_poll() (lowest latency, burns a
	 * CPU). */
	PVIO_BLK_BUSY_POLL = 1u << 1,
	/* When the device fails (broken or removed), hold the requests in
	 * flight instead of completing them with -EIO / -ENODEV:
	 * pvio_blk_poll() then returns -EIO / -ENODEV, new requests are
	 * refused with that error, and pvio_blk_reconnect() or
	 * pvio_blk_migrate() resubmits the held requests on the next device.
	 * pvio_blk_close() frees held requests without completing them.
	 * Requests made by the synchronous helpers are never held (their
	 * buffers belong to a caller that is waiting): they fail. */
	PVIO_BLK_KEEP_ON_FAILURE = 1u << 2,
};

struct pvio_blk_opts {
	size_t struct_size;
	uint32_t num_queues;  /* 0: 1 */
	uint32_t queue_depth; /* user requests in flight per queue; 0: 64 */
	uint32_t flags;       /* PVIO_BLK_* */
};

struct pvio_blk_info {
	size_t struct_size;
	uint64_t capacity;           /* bytes */
	uint32_t block_size;         /* logical block size, bytes */
	uint32_t physical_block_size;
	uint32_t max_transfer;       /* bytes in one device request; larger user
					requests are split */
	uint32_t max_segments;       /* per device request */
	uint32_t max_segment_size;
	uint32_t num_queues;
	uint32_t queue_depth;
	uint64_t max_discard;        /* bytes per device request, 0 = no discard */
	uint64_t max_write_zeroes;   /* bytes per device request, 0 = none */
	uint32_t discard_granularity;/* bytes */
	bool read_only;
	bool flush;                  /* has a volatile write cache to flush */
	bool discard;
	bool write_zeroes;
	uint64_t features;           /* PVIO_F_* in use */
};

/* Open the device at address and attach a block front end to it. */
int pvio_blk_open(pvio_ctx *ctx, const char *address,
		  const struct pvio_blk_opts *opts, pvio_blk **out);
/* Attach a block front end to an open device; the front end takes
 * ownership of dev (pvio_blk_close() closes it). */
int pvio_blk_attach(pvio_dev *dev, const struct pvio_blk_opts *opts,
		    pvio_blk **out);
/* Stop the device (waiting, bounded, for requests in flight; those that do
 * not finish complete with -ECANCELED internally) and free everything. */
void pvio_blk_close(pvio_blk *blk);

int pvio_blk_get_info(pvio_blk *blk, struct pvio_blk_info *info);
pvio_dev *pvio_blk_dev(pvio_blk *blk);
pvio_ctx *pvio_blk_ctx(pvio_blk *blk);

/* ---- asynchronous requests ---- */

/* Request flags */
enum {
	PVIO_REQ_FUA = 1u << 0, /* write: durable on completion (pvio issues a
				   flush after the write where the protocol has
				   no FUA) */
};

int pvio_blk_read(pvio_blk *blk, unsigned q, uint64_t offset, void *buf,
		  size_t len, void *cookie, uint32_t flags);
int pvio_blk_write(pvio_blk *blk, unsigned q, uint64_t offset,
		   const void *buf, size_t len, void *cookie, uint32_t flags);
int pvio_blk_readv(pvio_blk *blk, unsigned q, uint64_t offset,
		   const struct pvio_iovec *iov, unsigned iovcnt, void *cookie,
		   uint32_t flags);
int pvio_blk_writev(pvio_blk *blk, unsigned q, uint64_t offset,
		    const struct pvio_iovec *iov, unsigned iovcnt,
		    void *cookie, uint32_t flags);
int pvio_blk_flush(pvio_blk *blk, unsigned q, void *cookie, uint32_t flags);
int pvio_blk_discard(pvio_blk *blk, unsigned q, uint64_t offset,
		     uint64_t len, void *cookie, uint32_t flags);
int pvio_blk_write_zeroes(pvio_blk *blk, unsigned q, uint64_t offset,
			  uint64_t len, void *cookie, uint32_t flags);

/* Make enqueued requests visible to the device (notifying it if it asked to
 * be notified).  Returns 0 or -errno. */
int pvio_blk_submit(pvio_blk *blk, unsigned q);

struct pvio_blk_completion {
	void *cookie;
	int ret;          /* 0 or -errno */
	uint32_t reserved;
};

/*
 * Reap completions of queue q into out[0..max).  Waits until at least min
 * are available or timeout_ns passes (timeout_ns < 0: no limit, which is
 * still bounded by the device being marked broken or removed; 0: do not
 * wait).  Also submits anything enqueued but not yet submitted.  Returns
 * the number reaped (may be less than min after a timeout) or -errno.
 */
int pvio_blk_poll(pvio_blk *blk, unsigned q, struct pvio_blk_completion *out,
		  unsigned min, unsigned max, int64_t timeout_ns);

/* Hosted: a descriptor that polls readable when queue q may have
 * completions (for event loops).  Once it has been asked for, queue q runs
 * in descriptor mode: when the descriptor fires, call pvio_blk_poll(...,
 * timeout 0), which consumes the notification, and call it again while it
 * returns max completions; before it returns fewer it re-enables the
 * device's notification, so the descriptor fires again for anything still
 * in flight (edge-like: a readable descriptor may find nothing, and one
 * whose notification was consumed does not fire again for completions
 * already there).  Stable for the life of blk, across migrations.
 * -EOPNOTSUPP when not hosted or when the device has no notification
 * descriptor (poll with a timeout instead). */
int pvio_blk_completion_fd(pvio_blk *blk, unsigned q);

/* Requests enqueued or in flight on queue q. */
unsigned pvio_blk_inflight(pvio_blk *blk, unsigned q);

/* ---- synchronous helpers (queue 0; bounded by the context timeout) ---- */

int pvio_blk_pread(pvio_blk *blk, uint64_t offset, void *buf, size_t len);
int pvio_blk_pwrite(pvio_blk *blk, uint64_t offset, const void *buf,
		    size_t len);
int pvio_blk_sync_flush(pvio_blk *blk);
int pvio_blk_sync_discard(pvio_blk *blk, uint64_t offset, uint64_t len);
int pvio_blk_sync_write_zeroes(pvio_blk *blk, uint64_t offset, uint64_t len);

/* ---- statistics (struct pvio_queue_stats is in pvio.h) ---- */

int pvio_blk_get_stats(pvio_blk *blk, unsigned q, struct pvio_queue_stats *st);

/* ---- moving between devices ---- */

/* pvio_blk_migrate flags */
enum {
	/* Allow the new device to have a larger capacity than the old one. */
	PVIO_MIGRATE_ALLOW_GROW = 1u << 0,
};

/* struct pvio_migrate_report is in pvio.h */


/*
 * Move the front end, with requests in flight, from its current device to
 * new_dev (already opened with pvio_dev_open()): quiesce the old device,
 * stop it, attach to new_dev, check that it keeps the front end's contract
 * (same capacity and logical block size; the features in use must still be
 * there or the requests needing them fail with -EOPNOTSUPP), resubmit what
 * had not completed, and close the old device.  On failure the front end
 * stays on (or returns to) the old device where possible, and new_dev is
 * closed.  Ownership of new_dev passes to blk in every case.
 */
int pvio_blk_migrate(pvio_blk *blk, pvio_dev *new_dev, uint32_t flags,
		     struct pvio_migrate_report *report);

/* Reopen the current device's address and move to it: the recovery path
 * after PVIO_EVENT_REMOVED or NEEDS_RESET (vhost-user back end restart,
 * VMBus rescind and re-offer, Xen suspend/resume).  While the device is
 * not back yet (nobody listens on the socket, the channel is not offered
 * again, the device is suspended) the open is retried, for at most the
 * context timeout.  On failure the front end stays where it was (requests
 * held with PVIO_BLK_KEEP_ON_FAILURE stay held): call it again later. */
int pvio_blk_reconnect(pvio_blk *blk, struct pvio_migrate_report *report);

/* The report of the most recent migration or reconnect (-ENOENT if none),
 * with downtime_ns filled in once the new device completed a request. */
int pvio_blk_migration_report(pvio_blk *blk, struct pvio_migrate_report *r);

#ifdef __cplusplus
}
#endif
#endif /* PVIO_BLK_H */
