/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/xenbus.c - the dom0 XenBus layer the back-end models sit on,
 * behaving like Linux's drivers/xen/xenbus for a back-end device:
 * a watch on the front end's `state` whose callback reads the current
 * state (unparsable or absent = Unknown), xenbus_switch_state() that only
 * writes when the state node still exists, xenbus_dev_fatal() that writes
 * "<errno> <message>" under /local/domain/0/error/<nodename>/error and
 * switches to Closing, and xenbus_scanf-style readers ("%u": leading
 * digits count, garbage after them is ignored, no digits is an error).
 *
 * Each device has its own dom0 xenstore client, so when it goes away its
 * watches and pending events go with it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

static const char otherend_token[] = "otherend";

const char *sxen_xb_state_name(int s)
{
	static const char *const n[] = { "Unknown", "Initialising", "InitWait",
					 "Initialised", "Connected", "Closing",
					 "Closed", "Reconfiguring",
					 "Reconfigured" };
	return s >= 0 && s <= 8 ? n[s] : "Invalid";
}

static void xb_event(void *arg, const char *path, const char *token)
{
	struct sxen_xbdev *x = arg;
	if (!strcmp(token, otherend_token)) {
		/* Linux ignores events that are not about the other end */
		if (strncmp(path, x->fe, strlen(x->fe)))
			return;
		x->changed(x, sxen_xb_fe_state(x));
	} else if (x->watch_fn) {
		x->watch_fn(x, path);
	}
}

int sxen_xb_init(struct sxen_xbdev *x, struct sxen_host *h,
		 struct sxen_domain *d, const char *type, uint32_t devid,
		 sxen_xb_changed_fn changed, sxen_xb_watch_fn watch_fn,
		 void *priv)
{
	static const struct sxen_xs_sink sink = { NULL, xb_event };
	char p[128];
	memset(x, 0, sizeof(*x));
	x->h = h;
	x->dom = d;
	snprintf(x->type, sizeof(x->type), "%s", type);
	x->devid = devid;
	snprintf(x->fe, sizeof(x->fe), "/local/domain/%u/device/%s/%u", d->domid,
		 type, devid);
	snprintf(x->be, sizeof(x->be), "/local/domain/0/backend/%s/%u/%u", type,
		 d->domid, devid);
	x->state = SXB_INITIALISING;
	x->changed = changed;
	x->watch_fn = watch_fn;
	x->priv = priv;
	x->log_budget = 20;
	x->xs = sxen_xs_client_new(h->xs, 0, true, &sink, x);
	if (!x->xs)
		return -ENOMEM;
	snprintf(p, sizeof(p), "%s/state", x->fe);
	int r = sxen_xs_watch(x->xs, p, otherend_token);
	if (!r)
		sxen_xs_watch_fire_initial(x->xs, p, otherend_token);
	return r;
}

void sxen_xb_fini(struct sxen_xbdev *x)
{
	sxen_xs_client_free(x->xs);
	x->xs = NULL;
}

int sxen_xb_watch(struct sxen_xbdev *x, const char *path)
{
	int r = sxen_xs_watch(x->xs, path, path);
	if (!r)
		sxen_xs_watch_fire_initial(x->xs, path, path);
	return r;
}

void sxen_xb_unwatch(struct sxen_xbdev *x, const char *path)
{
	sxen_xs_unwatch(x->xs, path, path);
}

void sxen_xb_switch(struct sxen_xbdev *x, int state)
{
	char p[128], *v;
	uint32_t len;
	if (state == x->state)
		return;
	sim_log(SIM_LOG_DEBUG, "%s: %s -> %s", x->be,
		sxen_xb_state_name(x->state), sxen_xb_state_name(state));
	x->state = state;
	snprintf(p, sizeof(p), "%s/state", x->be);
	/* xenbus_switch_state: only if the node is still there */
	if (sxen_xs_read(x->xs, 0, p, &v, &len))
		return;
	free(v);
	sxen_xs_printf(x->xs, 0, p, "%d", state);
}

void sxen_xb_fatal(struct sxen_xbdev *x, int err, const char *fmt, ...)
{
	char msg[256], p[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err < 0)
		err = -err;
	sim_log(SIM_LOG_WARN, "%s: %s (%s); the back end goes to Closing",
		x->be, msg, strerror(err));
	snprintf(p, sizeof(p), "/local/domain/0/error%s/error",
		 x->be + strlen("/local/domain/0"));
	sxen_xs_printf(x->xs, 0, p, "%d %s", err, msg);
	sxen_xb_switch(x, SXB_CLOSING);
}

static int scan_uint(const char *s, unsigned long long *v)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	unsigned long long n = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (~0ull - 9) / 10)
			return -ERANGE;
		n = n * 10 + (unsigned)(*s - '0');
	}
	*v = n;
	return 0;
}

int sxen_xb_fe_state(struct sxen_xbdev *x)
{
	unsigned long long v;
	if (sxen_xb_read_uint(x, x->fe, "state", &v) || v > 0x7fffffff)
		return SXB_UNKNOWN;
	return (int)v;
}

char *sxen_xb_read_str(struct sxen_xbdev *x, const char *dir, const char *key)
{
	char p[192], *v;
	uint32_t len;
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	if (sxen_xs_read(x->xs, 0, p, &v, &len))
		return NULL;
	return v;
}

int sxen_xb_read_uint(struct sxen_xbdev *x, const char *dir, const char *key,
		      unsigned long long *v)
{
	char *s = sxen_xb_read_str(x, dir, key);
	if (!s)
		return -ENOENT;
	int r = scan_uint(s, v);
	free(s);
	return r;
}

unsigned long long sxen_xb_read_uint_def(struct sxen_xbdev *x,
					 const char *dir, const char *key,
					 unsigned long long def)
{
	unsigned long long v;
	return sxen_xb_read_uint(x, dir, key, &v) ? def : v;
}

int sxen_xb_printf(struct sxen_xbdev *x, uint32_t tx, const char *key,
		   const char *fmt, ...)
{
	char v[256], p[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s/%s", x->be, key);
	return sxen_xs_write(x->xs, tx, p, v, (uint32_t)strlen(v));
}

bool sxen_xb_online(struct sxen_xbdev *x)
{
	return sxen_xb_read_uint_def(x, x->be, "online", 0) != 0;
}
