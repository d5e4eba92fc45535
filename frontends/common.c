/* SPDX-License-Identifier: MIT */
/*
 * frontends/common.c - helpers both front ends use: deadlines, the stable
 * per-queue fd sets, counters summed across the devices a front end used,
 * reopening a device that is coming back.
 */
#include "fe.h"

uint64_t fe_deadline(const pvio_ctx *ctx, int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return UINT64_MAX;
	uint64_t now = pvio_now_ns(ctx);
	uint64_t t = (uint64_t)timeout_ns;
	return t > UINT64_MAX - now ? UINT64_MAX : now + t;
}

void fe_fdsets_new(pvio_ctx *ctx, unsigned n, int *sets)
{
	for (unsigned q = 0; q < n; q++)
		sets[q] = pvio_ctx_hosted(ctx) ? pvio_fdset_new(ctx) : -1;
	/* a failed epoll_create leaves -errno: treat as "no fd" */
	for (unsigned q = 0; q < n; q++)
		if (sets[q] < 0)
			sets[q] = -1;
}

void fe_fdsets_free(pvio_ctx *ctx, unsigned n, int *sets)
{
	for (unsigned q = 0; q < n; q++) {
		if (sets[q] >= 0)
			pvio_fdset_free(ctx, sets[q]);
		sets[q] = -1;
	}
}

static void fds_of(pvio_dev *dev, unsigned q, int *qfd, int *efd)
{
	*qfd = dev->ops->queue_fd ? dev->ops->queue_fd(dev, q) : -EOPNOTSUPP;
	*efd = dev->ops->event_fd ? dev->ops->event_fd(dev) : -EOPNOTSUPP;
}

void fe_fdsets_attach(pvio_dev *dev, unsigned n, const int *sets)
{
	for (unsigned q = 0; q < n; q++) {
		int qfd, efd;
		if (sets[q] < 0)
			continue;
		fds_of(dev, q, &qfd, &efd);
		if (qfd >= 0)
			pvio_fdset_add(dev->ctx, sets[q], qfd);
		if (efd >= 0)
			pvio_fdset_add(dev->ctx, sets[q], efd);
	}
}

void fe_fdsets_detach(pvio_dev *dev, unsigned n, const int *sets)
{
	for (unsigned q = 0; q < n; q++) {
		int qfd, efd;
		if (sets[q] < 0)
			continue;
		fds_of(dev, q, &qfd, &efd);
		if (qfd >= 0)
			pvio_fdset_del(dev->ctx, sets[q], qfd);
		if (efd >= 0)
			pvio_fdset_del(dev->ctx, sets[q], efd);
	}
}

int fe_fdset_get(pvio_dev *dev, const int *sets, unsigned q)
{
	if (sets[q] < 0)
		return pvio_set_error(dev->ctx, EOPNOTSUPP,
				      "no completion descriptor: pvio is not "
				      "hosted here; poll with a timeout instead");
	int qfd = dev->ops->queue_fd ? dev->ops->queue_fd(dev, q) : -EOPNOTSUPP;
	if (qfd < 0)
		return pvio_set_error(dev->ctx, EOPNOTSUPP,
				      "%s: the device has no notification "
				      "descriptor for queue %u; poll with a "
				      "timeout instead",
				      dev->info.address ? dev->info.address
							: "device",
				      q);
	return sets[q];
}

void fe_stats_add(struct pvio_queue_stats *d, const struct pvio_queue_stats *s)
{
	d->requests += s->requests;
	d->device_requests += s->device_requests;
	d->bytes += s->bytes;
	d->errors += s->errors;
	d->notify_sent += s->notify_sent;
	d->notify_suppressed += s->notify_suppressed;
	d->irqs += s->irqs;
	d->copies += s->copies;
	d->copy_bytes += s->copy_bytes;
	d->replayed += s->replayed;
	d->dropped += s->dropped;
	d->rx_errors += s->rx_errors;
}

void fe_stats_retire(const pvio_dev *dev, unsigned n,
		     struct pvio_queue_stats *acc)
{
	for (unsigned q = 0; q < n && dev->stats && q < dev->stats_n; q++)
		fe_stats_add(&acc[q], &dev->stats[q]);
}

void fe_stats_sum(const pvio_dev *dev, const struct pvio_queue_stats *acc,
		  unsigned q, struct pvio_queue_stats *out)
{
	*out = acc[q];
	if (dev->stats && q < dev->stats_n)
		fe_stats_add(out, &dev->stats[q]);
}

int fe_copy_versioned(void *out, const void *src, size_t src_size)
{
	size_t have = *(const size_t *)out;
	if (have < sizeof(size_t))
		return -EINVAL;
	size_t n = have < src_size ? have : src_size;
	memcpy(out, src, n);
	*(size_t *)out = n;
	return 0;
}

int fe_quiesce(pvio_dev *dev)
{
	if (!dev->ops->quiesce)
		return 0;
	int r = dev->ops->quiesce(dev);
	if (r < 0)
		pvio_log(dev->ctx, PVIO_LOG_WARN,
			 "%s: quiesce failed (%s); its memory is not reused",
			 dev->info.address ? dev->info.address : "device",
			 pvio_strerror(r));
	return r;
}

/* Errors that mean "not there (yet)": nobody listens on the socket, the
 * channel is not offered, the device is suspended or still held by the
 * connection we are leaving, the back end is still closed. */
static bool not_back_yet(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ENODEV ||
	       r == -EAGAIN || r == -EBUSY || r == -ETIMEDOUT;
}

int fe_reopen(pvio_ctx *ctx, const char *address, pvio_dev **out)
{
	uint64_t t0 = pvio_now_ns(ctx);
	uint64_t deadline = pvio_deadline(ctx);
	uint64_t pause = 1000000; /* 1 ms, doubling up to 50 ms */
	unsigned tries = 0;
	for (;;) {
		int r = pvio_dev_open(ctx, address, out);
		tries++;
		if (r == 0)
			return 0;
		uint64_t now = pvio_now_ns(ctx);
		if (!not_back_yet(r) || now >= deadline) {
			if (tries > 1) {
				char why[192];
				pvio_strlcpy(why, pvio_errmsg(ctx), sizeof(why));
				return pvio_set_error(ctx, -r,
						      "%s (still so after %u "
						      "tries in %u ms)",
						      why, tries,
						      (unsigned)((now - t0) /
								 1000000));
			}
			return r;
		}
		pvio_sleep_until(ctx, now + pause < deadline ? now + pause
							     : deadline);
		pause = pause * 2 > 50000000 ? 50000000 : pause * 2;
	}
}
