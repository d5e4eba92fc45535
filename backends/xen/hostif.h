/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/hostif.h - how pvio's Xen back end reaches its hypervisor.
 *
 * The protocol files (ring.c, grant.c, xenstore.c, xenbus.c, blk.c,
 * net.c, transport.c) make no system call and use no C library; all they
 * need from the outside world is this table:
 *
 *  - a xenstore byte stream (xsd_sockmsg messages): the sim's XS_CONNECT
 *    socket, xenstored's unix socket or /dev/xen/xenbus on Linux, the
 *    xenstore ring page in a freestanding guest;
 *  - event channels: allocate an unbound port for a remote domain, send,
 *    wait for and acknowledge upcalls;
 *  - memory shared with other domains: pages the hostif allocates and
 *    grants (ring pages, indirect pages, copy pools), and - when the guest
 *    writes its own grant table (sim, HVM/PVH) - the table itself
 *    (h->gnttab), so any page of the DMA pool can be granted per request;
 *  - the toolstack's part of attaching a device (the sim's DEVICE_ATTACH,
 *    hand-written back-end nodes when self-attaching in dom0).
 *
 * hostif_sim.c implements it over docs/sim-hostif.md.  hostif_linux.c
 * uses /dev/xen/gntalloc for share/unshare (and leaves gnttab NULL: blk.c
 * and net.c then copy data through shared pages), one /dev/xen/evtchn
 * descriptor per port, and the xenstored socket or /dev/xen/xenbus for
 * the byte stream.
 */
#ifndef PVIO_XEN_HOSTIF_H
#define PVIO_XEN_HOSTIF_H

#include <pvio/transport.h>

struct xen_hostif;
struct xen_gnttab;

/* An event channel as the hostif keeps it.  port is the Xen port number
 * (written to xenstore); fd[] belong to the hostif. */
struct xen_evtchn {
	uint32_t port;
	int fd[2];
	bool open;
};

/* Pages shared with another domain: contiguous, zeroed before granting. */
struct xen_shared {
	void *va;
	uint32_t npages;
	uint32_t *refs;      /* npages grant references */
	bool leaked;         /* still mapped by the peer at unshare: kept */
};

struct xen_hostif_ops {
	/* Free what the hostif holds and end the connection; a hypervisor
	 * (or sim) then tears down what the domain had. */
	void (*close)(struct xen_hostif *h);

	/* ---- xenstore byte stream ---- */
	/* Write all of buf before deadline_ns, or -errno. */
	int (*xs_write)(struct xen_hostif *h, const void *buf, size_t len,
			uint64_t deadline_ns);
	/* Read what is there, up to len bytes, without blocking: the count,
	 * 0 when nothing is waiting, -EPIPE when the stream ended. */
	int (*xs_read)(struct xen_hostif *h, void *buf, size_t len);
	/* Sleep until xs_read may return bytes or deadline_ns passes:
	 * 1, 0 (deadline) or -errno. */
	int (*xs_wait)(struct xen_hostif *h, uint64_t deadline_ns);
	/* Hosted: a descriptor readable when xs_read has bytes. */
	int (*xs_fd)(struct xen_hostif *h);

	/* ---- event channels ---- */
	int (*evtchn_alloc)(struct xen_hostif *h, uint16_t remote_domid,
			    struct xen_evtchn *ev);
	void (*evtchn_close)(struct xen_hostif *h, struct xen_evtchn *ev);
	/* Data path: notify the remote end (EVTCHNOP_send). */
	void (*evtchn_notify)(struct xen_hostif *h, struct xen_evtchn *ev);
	/* Hosted: a descriptor readable while an upcall is pending
	 * (-EOPNOTSUPP: poll the rings). */
	int (*evtchn_fd)(struct xen_hostif *h, struct xen_evtchn *ev);
	/* Clear the pending upcall (and unmask); returns how many were
	 * pending (0: none). */
	int (*evtchn_ack)(struct xen_hostif *h, struct xen_evtchn *ev);

	/* ---- shared pages ---- */
	/* npages zeroed pages granted to domid (read-only for the peer if
	 * ro).  Fills s; s->refs is allocated by the hostif. */
	int (*share)(struct xen_hostif *h, uint16_t domid, uint32_t npages,
		     bool ro, struct xen_shared *s);
	/* Revoke and free.  Pages the peer still maps are kept (s->leaked),
	 * never reused (XSA-396).  Returns the number of pages leaked. */
	uint32_t (*unshare)(struct xen_hostif *h, struct xen_shared *s);

	/* ---- toolstack ---- */
	/* Create the device's xenstore directories and start its back end
	 * (xl block-attach / network-attach).  -ENOENT: no such device. */
	int (*device_attach)(struct xen_hostif *h, const char *type,
			     uint32_t devid);
	int (*device_detach)(struct xen_hostif *h, const char *type,
			     uint32_t devid);
};

struct xen_hostif {
	const struct xen_hostif_ops *ops;
	pvio_ctx *ctx;
	const char *name;     /* "sim-xen", "xen" */
	uint16_t domid;       /* our own domain id */
	/* The domain's grant table when the guest writes it directly; NULL
	 * when only share() can grant (then data is copied). */
	struct xen_gnttab *gnttab;
	/* Pages share() may have out at once (0: only memory limits it; a
	 * gntalloc hostif sets the module's per-process limit), and how
	 * many are out now (kept by share/unshare; leaked pages stay
	 * counted).  blk.c and net.c size their copy pools to fit. */
	uint32_t share_limit;
	uint32_t shared;
	/* What share_limit is, for error messages ("gntalloc's limit ..."). */
	const char *share_what;
};

#endif /* PVIO_XEN_HOSTIF_H */
