/* SPDX-License-Identifier: MIT */
/*
 * core/wait.c - sleeping until a device has work.
 *
 * Hosted: poll() on the queue's notification fd and the device's control
 * fd.  Freestanding: the platform's wait hook, or busy polling.  Also
 * pvio_sleep_until(), for the rare wait on nothing but time (a reconnect
 * waiting for a device to come back).
 */
#include "core.h"

#ifndef PVIO_FREESTANDING
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>
#endif

int pvio_dev_wait(pvio_dev *dev, unsigned q, uint64_t deadline_ns)
{
	pvio_ctx *ctx = dev->ctx;
	const struct pvio_dev_ops *ops = dev->ops;

	if (!pvio_dev_usable(dev))
		return pvio_dev_state(dev, NULL) == PVIO_DEV_REMOVED ? -ENODEV
							     : -EIO;
	int r = ops->queue_arm ? ops->queue_arm(dev, q) : 1;
	if (r != 0)
		return r < 0 ? r : 1;

#ifndef PVIO_FREESTANDING
	if (ctx->hosted) {
		struct pollfd pfd[2];
		int n = 0;
		int qfd = ops->queue_fd ? ops->queue_fd(dev, q) : -EOPNOTSUPP;
		int efd = ops->event_fd ? ops->event_fd(dev) : -EOPNOTSUPP;
		if (qfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = qfd, .events = POLLIN };
		if (efd >= 0)
			pfd[n++] = (struct pollfd){ .fd = efd, .events = POLLIN };
		if (qfd < 0) {
			/* nothing to sleep on: the caller polls the ring */
			if (ops->queue_disarm)
				ops->queue_disarm(dev, q);
			return 1;
		}
		uint64_t now = pvio_now_ns(ctx);
		int ms;
		if (deadline_ns == UINT64_MAX)
			ms = -1;
		else if (deadline_ns <= now)
			ms = 0;
		else {
			uint64_t d = (deadline_ns - now + 999999) / 1000000;
			ms = d > 0x7fffffff ? 0x7fffffff : (int)d;
		}
		r = poll(pfd, (nfds_t)n, ms);
		if (ops->queue_disarm)
			ops->queue_disarm(dev, q);
		if (r < 0)
			return errno == EINTR ? 1 : -errno;
		if (r == 0)
			return 0;
		if (pfd[0].revents) {
			dev->stats[q].irqs++;
			if (ops->queue_ack)
				ops->queue_ack(dev, q);
		}
		if (n > 1 && pfd[1].revents && ops->service)
			ops->service(dev);
		return 1;
	}
#endif
	/* freestanding or a foreign platform: its wait hook, else spin */
	if (ctx->plat->wait)
		ctx->plat->wait(ctx->opaque, deadline_ns);
	else if (ctx->plat->relax)
		ctx->plat->relax(ctx->opaque);
	if (ops->queue_disarm)
		ops->queue_disarm(dev, q);
	if (ops->service)
		ops->service(dev);
	return pvio_now_ns(ctx) >= deadline_ns ? 0 : 1;
}

void pvio_sleep_until(const pvio_ctx *ctx, uint64_t deadline_ns)
{
	uint64_t now = pvio_now_ns(ctx);
	if (deadline_ns <= now)
		return;
#ifndef PVIO_FREESTANDING
	if (ctx->hosted) {
		uint64_t d = (deadline_ns - now + 999999) / 1000000;
		poll(NULL, 0, d > 0x7fffffff ? 0x7fffffff : (int)d);
		return;
	}
#endif
	while (pvio_now_ns(ctx) < deadline_ns) {
		if (ctx->plat->wait)
			ctx->plat->wait(ctx->opaque, deadline_ns);
		else if (ctx->plat->relax)
			ctx->plat->relax(ctx->opaque);
	}
}

#ifndef PVIO_FREESTANDING
int pvio_fdset_new(pvio_ctx *ctx)
{
	if (!ctx->hosted)
		return -EOPNOTSUPP;
	int fd = epoll_create1(EPOLL_CLOEXEC);
	return fd < 0 ? pvio_set_error(ctx, errno, "epoll_create1 failed") : fd;
}

int pvio_fdset_add(pvio_ctx *ctx, int set, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (set < 0 || fd < 0)
		return -EINVAL;
	if (epoll_ctl(set, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
		return pvio_set_error(ctx, errno, "epoll_ctl add failed");
	return 0;
}

int pvio_fdset_del(pvio_ctx *ctx, int set, int fd)
{
	(void)ctx;
	if (set < 0 || fd < 0)
		return -EINVAL;
	epoll_ctl(set, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

void pvio_fdset_free(pvio_ctx *ctx, int set)
{
	(void)ctx;
	if (set >= 0)
		close(set);
}
#else
int pvio_fdset_new(pvio_ctx *ctx)
{
	(void)ctx;
	return -EOPNOTSUPP;
}
int pvio_fdset_add(pvio_ctx *ctx, int set, int fd)
{
	(void)ctx, (void)set, (void)fd;
	return -EOPNOTSUPP;
}
int pvio_fdset_del(pvio_ctx *ctx, int set, int fd)
{
	(void)ctx, (void)set, (void)fd;
	return -EOPNOTSUPP;
}
void pvio_fdset_free(pvio_ctx *ctx, int set)
{
	(void)ctx, (void)set;
}
#endif
