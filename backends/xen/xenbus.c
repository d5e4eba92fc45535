/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/xenbus.c - the front end's XenBus state machine.
 *
 * The handshake of xen-pv.md section 6: wait for the back end to reach
 * InitWait (or Initialised or Connected, when it skipped InitWait, which
 * blkif.h allows with default parameters), read its features,
 * write our keys in one transaction, then
 *   vbd (blkfront order): Initialised, wait for Connected, read the
 *                         device's properties, Connected;
 *   vif (netfront order): straight to Connected, wait for Connected.
 * A back end in Closing or Closed (or whose state node vanished) during
 * the handshake fails it; after the handshake transport.c treats that as
 * the device being removed.  Our own close is Closing, wait for the back
 * end to follow, Closed, wait for Closed.  Every wait is bounded.
 *
 * Everything read from xenstore is parsed strictly: a state that is not a
 * small decimal number is a protocol error, not "Unknown".
 */
#include "xen.h"

static const char *const state_names[] = {
	"Unknown",     "Initialising", "InitWait",     "Initialised",
	"Connected",   "Closing",      "Closed",       "Reconfiguring",
	"Reconfigured",
};

static const char *sname(int s)
{
	return s >= 0 && s <= XEN_XB_RECONFIGURED ? state_names[s] : "invalid";
}

/* An absolute xenstore path: "/a/b", no empty component, no "." games. */
static bool abs_path_ok(const char *p, size_t max)
{
	size_t n = pvio_strlen(p);
	if (n < 2 || n >= max || p[0] != '/' || p[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '/' && p[i + 1] == '/')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '/' ||
		      c == '_' || c == '@'))
			return false;
	}
	return true;
}

int xen_xb_probe(struct xen_xb *xb, struct xs_client *xs, uint16_t domid,
		 const char *type, uint32_t devid, bool vif)
{
	pvio_ctx *ctx = xs->ctx;
	char path[192];
	uint64_t v;
	int r;

	memset(xb, 0, sizeof(*xb));
	xb->xs = xs;
	xb->ctx = ctx;
	xb->devid = devid;
	xb->vif = vif;
	pvio_snprintf(xb->fe, sizeof(xb->fe), "/local/domain/%u/device/%s/%u",
		      (unsigned)domid, type, devid);

	pvio_snprintf(path, sizeof(path), "%s/backend-id", xb->fe);
	r = xs_read_u64(xs, 0, path, 0x7FEF, &v);
	if (r == -ENOENT)
		return pvio_set_error(ctx, ENODEV,
				      "%s/%u does not exist in xenstore (%s "
				      "missing); is the device attached to "
				      "this domain?",
				      type, devid, path);
	if (r < 0)
		return pvio_set_error(ctx, r == -ERANGE || r == -EINVAL ? EPROTO : -r,
				      "cannot read %s: %s", path,
				      pvio_strerror(r));
	xb->be_domid = (uint16_t)v;

	pvio_snprintf(path, sizeof(path), "%s/backend", xb->fe);
	r = xs_read(xs, 0, path, xb->be, sizeof(xb->be));
	if (r < 0 && r != -E2BIG)
		return pvio_set_error(ctx, r == -ENOENT ? ENODEV : -r,
				      "cannot read %s: %s", path,
				      pvio_strerror(r));
	if (r == -E2BIG || !abs_path_ok(xb->be, sizeof(xb->be) - 8))
		return pvio_set_error(ctx, EPROTO,
				      "%s is not a valid back-end path", path);

	pvio_snprintf(path, sizeof(path), "%s/state", xb->fe);
	r = xs_read_u64(xs, 0, path, XEN_XB_RECONFIGURED, &v);
	xb->fe_state = r == 0 ? (int)v : XEN_XB_UNKNOWN;

	pvio_snprintf(xb->token, sizeof(xb->token), "pvio-%s-%u", type, devid);
	pvio_snprintf(path, sizeof(path), "%s/state", xb->be);
	r = xs_watch(xs, path, xb->token);
	if (r < 0)
		return pvio_set_error(ctx, -r, "cannot watch %s: %s", path,
				      pvio_strerror(r));
	xb->watching = true;
	r = xen_xb_read_be(xb);
	if (r < 0)
		return r;
	return 0;
}

void xen_xb_fini(struct xen_xb *xb)
{
	char path[300];
	if (!xb->watching)
		return;
	pvio_snprintf(path, sizeof(path), "%s/state", xb->be);
	xs_unwatch(xb->xs, path, xb->token);
	xb->watching = false;
}

int xen_xb_read_be(struct xen_xb *xb)
{
	char path[300];
	uint64_t v;
	pvio_snprintf(path, sizeof(path), "%s/state", xb->be);
	int r = xs_read_u64(xb->xs, 0, path, XEN_XB_RECONFIGURED, &v);
	if (r == -ENOENT) {
		xb->be_state = XEN_XB_UNKNOWN;
		return XEN_XB_UNKNOWN;
	}
	if (r == -EINVAL || r == -ERANGE)
		return pvio_set_error(xb->ctx, EPROTO,
				      "the back end's state (%s) is not a "
				      "XenBus state",
				      path);
	if (r < 0)
		return pvio_set_error(xb->ctx, -r, "cannot read %s: %s", path,
				      pvio_strerror(r));
	xb->be_state = (int)v;
	return (int)v;
}

struct sw {
	struct xen_xb *xb;
	int state;
};

static int switch_tx(struct xs_client *xs, uint32_t tx, void *arg)
{
	struct sw *s = arg;
	char path[160], cur[16];
	pvio_snprintf(path, sizeof(path), "%s/state", s->xb->fe);
	/* as xenbus_switch_state: only write a node that still exists */
	int r = xs_read(xs, tx, path, cur, sizeof(cur));
	if (r == -ENOENT)
		return -ENODEV;
	if (r < 0 && r != -E2BIG)
		return r;
	return xs_printf(xs, tx, path, "%d", s->state);
}

int xen_xb_switch(struct xen_xb *xb, int state)
{
	struct sw s = { xb, state };
	int r = xs_transaction(xb->xs, switch_tx, &s);
	if (r < 0)
		return pvio_set_error(xb->ctx, -r,
				      "cannot set %s/state to %s: %s", xb->fe,
				      sname(state), pvio_strerror(r));
	xb->fe_state = state;
	return 0;
}

int xen_xb_wait(struct xen_xb *xb, uint32_t ok, uint32_t fatal,
		uint64_t deadline_ns, int *state)
{
	struct xs_event ev;
	for (;;) {
		int s = xen_xb_read_be(xb);
		if (s < 0)
			return s;
		*state = s;
		if (ok & XB_BIT(s))
			return 0;
		if (fatal & XB_BIT(s))
			return -ENODEV;
		int r = xs_wait_event(xb->xs, deadline_ns);
		if (r < 0)
			return pvio_set_error(xb->ctx, -r,
					      "lost xenstore while waiting for "
					      "the back end: %s",
					      pvio_strerror(r));
		if (r == 0)
			return -ETIMEDOUT;
		/* any event: re-read the state (watches may fire
		 * spuriously, and a queue overflow may have dropped some) */
		while (xs_next_event(xb->xs, &ev) > 0)
			;
	}
}

static int handshake_fail(struct xen_xb *xb, int r, int s, const char *what)
{
	if (r == -ETIMEDOUT)
		return pvio_set_error(xb->ctx, ETIMEDOUT,
				      "the back end of %s stayed in state %s "
				      "while we waited for %s; is the back "
				      "end running?",
				      xb->fe, sname(s), what);
	if (r == -ENODEV)
		return pvio_set_error(xb->ctx, ENODEV,
				      "the back end of %s went to state %s "
				      "during the handshake; the device was "
				      "removed",
				      xb->fe, sname(s));
	return r;
}

int xen_xb_connect(struct xen_xb *xb, const struct xen_xb_hooks *hk,
		   void *arg, uint64_t deadline_ns)
{
	int s = XEN_XB_UNKNOWN, r;

	/* 1. the back end has published its features: InitWait, or - when
	 * it skipped InitWait - Initialised (default parameters) or even
	 * Connected already */
	r = xen_xb_wait(xb, XEN_XB_READY, XB_BIT(XEN_XB_CLOSING) |
					      XB_BIT(XEN_XB_CLOSED),
			deadline_ns, &s);
	if (r < 0)
		return handshake_fail(xb, r, s, "InitWait");
	if (hk->features && (r = hk->features(arg)) < 0)
		return r;

	/* 2. our keys, in one transaction */
	r = xs_transaction(xb->xs, hk->keys, arg);
	if (r < 0)
		return pvio_set_error(xb->ctx, -r,
				      "cannot write the keys of %s: %s",
				      xb->fe, pvio_strerror(r));

	/* 3. vbd: Initialised; vif: Connected (netback waits for it) */
	r = xen_xb_switch(xb, xb->vif ? XEN_XB_CONNECTED : XEN_XB_INITIALISED);
	if (r < 0)
		return r;

	/* 4. the back end connected the rings */
	r = xen_xb_wait(xb, XB_BIT(XEN_XB_CONNECTED), XB_GONE, deadline_ns, &s);
	if (r < 0)
		return handshake_fail(xb, r, s, "Connected");
	if (hk->props && (r = hk->props(arg)) < 0)
		return r;

	/* 5. vbd: Connected */
	if (!xb->vif)
		return xen_xb_switch(xb, XEN_XB_CONNECTED);
	return 0;
}

int xen_xb_close(struct xen_xb *xb, uint64_t deadline_ns)
{
	int s = XEN_XB_UNKNOWN, r;

	if (xb->fe_state == XEN_XB_CLOSED) {
		r = xen_xb_wait(xb, XB_BIT(XEN_XB_CLOSED) | XB_BIT(XEN_XB_UNKNOWN),
				0, deadline_ns, &s);
		return r;
	}
	if (xb->fe_state != XEN_XB_CLOSING) {
		r = xen_xb_switch(xb, XEN_XB_CLOSING);
		if (r == -ENODEV)
			return 0; /* our directory is gone: nothing to close */
		if (r < 0)
			return r;
	}
	r = xen_xb_wait(xb, XB_GONE, 0, deadline_ns, &s);
	if (r < 0) {
		pvio_log(xb->ctx, PVIO_LOG_WARN,
			 "%s: the back end stayed in state %s after we "
			 "started closing",
			 xb->fe, sname(s));
		/* go on: Closed tells it we are gone */
	}
	int r2 = xen_xb_switch(xb, XEN_XB_CLOSED);
	if (r2 == -ENODEV)
		return 0;
	if (r2 < 0)
		return r2;
	r2 = xen_xb_wait(xb, XB_BIT(XEN_XB_CLOSED) | XB_BIT(XEN_XB_UNKNOWN), 0,
			 deadline_ns, &s);
	if (r2 < 0) {
		pvio_log(xb->ctx, PVIO_LOG_WARN,
			 "%s: the back end did not close (state %s); pages it "
			 "may still map are kept",
			 xb->fe, sname(s));
		return r2;
	}
	return r;
}
