/* SPDX-License-Identifier: MIT */
/* core/dev.c - device objects: opening by address, state, events. */
#include "core.h"

pvio_dev *pvio_dev_alloc(pvio_ctx *ctx, const struct pvio_dev_ops *ops,
			 size_t priv_size)
{
	pvio_dev *dev = pvio_zalloc(ctx, sizeof(*dev));
	if (!dev)
		return NULL;
	if (priv_size) {
		dev->priv = pvio_zalloc(ctx, priv_size);
		if (!dev->priv) {
			pvio_free(ctx, dev);
			return NULL;
		}
	}
	dev->ops = ops;
	dev->ctx = ctx;
	dev->info.struct_size = sizeof(dev->info);
	dev->state = PVIO_DEV_READY;
	return dev;
}

void pvio_dev_free(pvio_dev *dev)
{
	if (!dev)
		return;
	pvio_ctx *ctx = dev->ctx;
	pvio_free(ctx, dev->priv);
	pvio_free(ctx, dev->stats);
	pvio_free(ctx, dev->address);
	pvio_free(ctx, dev->backend_name);
	pvio_free(ctx, dev->protocol);
	pvio_free(ctx, dev);
}

int pvio_dev_set_strings(pvio_dev *dev, const char *backend,
			 const char *protocol)
{
	if (backend) {
		char *b = pvio_strdup(dev->ctx, backend);
		if (!b)
			return -ENOMEM;
		pvio_free(dev->ctx, dev->backend_name);
		dev->backend_name = b;
		dev->info.backend = b;
	}
	if (protocol) {
		char *p = pvio_strdup(dev->ctx, protocol);
		if (!p)
			return -ENOMEM;
		pvio_free(dev->ctx, dev->protocol);
		dev->protocol = p;
		dev->info.protocol = p;
	}
	return 0;
}

void pvio_dev_push_event(pvio_dev *dev, enum pvio_event_type type,
			 uint32_t value)
{
	unsigned n = sizeof(dev->events) / sizeof(dev->events[0]);
	if (dev->ev_tail - dev->ev_head >= n) {
		/* keep the newest: a storm must not grow memory */
		dev->ev_head++;
		dev->ev_lost++;
	}
	dev->events[dev->ev_tail % n] = (struct pvio_event){ type, value };
	dev->ev_tail++;
}

static int set_state(pvio_dev *dev, enum pvio_dev_state st,
		     enum pvio_event_type ev, const char *fmt, va_list ap)
{
	int r = st == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	int unclaimed = 0;
	/* first reason wins, whichever thread gets here first */
	if (!__atomic_compare_exchange_n(&dev->state_claimed, &unclaimed, 1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return r;
	pvio_vsnprintf(dev->reason, sizeof(dev->reason), fmt, ap);
	__atomic_store_n(&dev->state, st, __ATOMIC_RELEASE);
	__atomic_store_n(&dev->state_event, (int)ev, __ATOMIC_RELEASE);
	pvio_log(dev->ctx, PVIO_LOG_WARN, "%s: %s: %s",
		 dev->address ? dev->address : "device",
		 st == PVIO_DEV_REMOVED ? "removed" : "broken", dev->reason);
	return r;
}

int pvio_dev_set_broken(pvio_dev *dev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_state(dev, PVIO_DEV_BROKEN, PVIO_EVENT_NEEDS_RESET, fmt, ap);
	va_end(ap);
	return r;
}

int pvio_dev_set_removed(pvio_dev *dev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_state(dev, PVIO_DEV_REMOVED, PVIO_EVENT_REMOVED, fmt, ap);
	va_end(ap);
	return r;
}

void pvio_dev_set_stopped(pvio_dev *dev)
{
	int unclaimed = 0;
	if (__atomic_compare_exchange_n(&dev->state_claimed, &unclaimed, 1, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		pvio_strlcpy(dev->reason, "stopped by pvio", sizeof(dev->reason));
		__atomic_store_n(&dev->state, PVIO_DEV_STOPPED, __ATOMIC_RELEASE);
	}
}

enum pvio_dev_state pvio_dev_state(pvio_dev *dev, const char **reason)
{
	enum pvio_dev_state st = __atomic_load_n(&dev->state, __ATOMIC_ACQUIRE);
	if (reason)
		*reason = st == PVIO_DEV_READY ? "" : dev->reason;
	return st;
}

/* "scheme:rest" -> back end */
static const struct pvio_backend *find_backend(const char *address,
					       const char **rest)
{
	const char *colon = pvio_strchr(address, ':');
	if (!colon)
		return NULL;
	size_t n = (size_t)(colon - address);
	for (unsigned i = 0; pvio_backends[i]; i++) {
		const char *s = pvio_backends[i]->scheme;
		if (pvio_strlen(s) == n && !pvio_strncmp(s, address, n)) {
			*rest = colon + 1;
			return pvio_backends[i];
		}
	}
	return NULL;
}

int pvio_dev_open(pvio_ctx *ctx, const char *address, pvio_dev **out)
{
	const char *rest = NULL;

	if (!ctx || !address || !out)
		return -EINVAL;
	*out = NULL;
	const struct pvio_backend *be = find_backend(address, &rest);
	if (!be)
		return pvio_set_error(ctx, EPROTONOSUPPORT,
				      "cannot open '%s': unknown address type; "
				      "this pvio understands %s",
				      address, pvio_backend_list());
	pvio_dev *dev = NULL;
	int r = be->open(ctx, address, rest, &dev);
	if (r < 0)
		return r;
	dev->address = pvio_strdup(ctx, address);
	if (!dev->address) {
		dev->ops->close(dev);
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	}
	dev->info.address = dev->address;
	if (!dev->info.family)
		dev->info.family = be->family;
	if (!dev->info.backend)
		pvio_dev_set_strings(dev, be->scheme, NULL);
	*out = dev;
	return 0;
}

void pvio_dev_close(pvio_dev *dev)
{
	if (dev)
		dev->ops->close(dev);
}

int pvio_dev_get_info(pvio_dev *dev, struct pvio_dev_info *info)
{
	if (!dev || !info || info->struct_size < sizeof(size_t))
		return -EINVAL;
	size_t n = info->struct_size < sizeof(*info) ? info->struct_size
						     : sizeof(*info);
	memcpy(info, &dev->info, n);
	info->struct_size = n;
	return 0;
}

int pvio_dev_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	pvio_ctx *ctx = dev->ctx;
	if (!cfg->num_queues || !cfg->max_tags)
		return pvio_set_error(ctx, EINVAL,
				      "configure: no queues or no tags");
	if (dev->stats_n < cfg->num_queues) {
		struct pvio_queue_stats *st =
			pvio_zalloc(ctx, cfg->num_queues * sizeof(*st));
		if (!st)
			return pvio_set_error(ctx, ENOMEM, "out of memory");
		pvio_free(ctx, dev->stats);
		dev->stats = st;
		dev->stats_n = cfg->num_queues;
	}
	if (!pvio_dev_usable(dev))
		return pvio_set_error(ctx, EIO, "%s: %s", dev->address,
				      dev->reason);
	return dev->ops->configure(dev, cfg);
}

int pvio_dev_next_event(pvio_dev *dev, struct pvio_event *ev)
{
	int r = 0;
	if (!dev || !ev)
		return -EINVAL;
	if (dev->ops->service && pvio_dev_state(dev, NULL) != PVIO_DEV_STOPPED)
		r = dev->ops->service(dev);
	int owed = __atomic_exchange_n(&dev->state_event, 0, __ATOMIC_ACQ_REL);
	if (owed)
		pvio_dev_push_event(dev, (enum pvio_event_type)owed, 0);
	if (dev->ev_head == dev->ev_tail) {
		ev->type = PVIO_EVENT_NONE;
		ev->value = 0;
		return r < 0 && r != -EAGAIN ? r : 0;
	}
	unsigned n = sizeof(dev->events) / sizeof(dev->events[0]);
	*ev = dev->events[dev->ev_head % n];
	dev->ev_head++;
	return 1;
}

int pvio_dev_event_fd(pvio_dev *dev)
{
	if (!dev->ops->event_fd)
		return -EOPNOTSUPP;
	return dev->ops->event_fd(dev);
}
