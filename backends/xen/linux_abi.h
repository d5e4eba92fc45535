/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/linux_abi.h - the Linux ioctls hostif_linux.c uses:
 * /dev/xen/gntalloc (grant pages we allocate to another domain) and
 * /dev/xen/evtchn (event channels), and where the xenstore byte stream
 * is found.
 *
 * pvio's own definitions of a public kernel ABI, written from the facts
 * in Linux's include/uapi/xen/{gntalloc,evtchn}.h (shipped by Debian's
 * libxen-dev as /usr/include/xen/sys/).  tests/xenreal/test_linux_abi.c
 * compares every number, size and offset here with those headers.
 */
#ifndef PVIO_XEN_LINUX_ABI_H
#define PVIO_XEN_LINUX_ABI_H

#include <stdint.h>
#include <sys/ioctl.h>

/* ---- /dev/xen/gntalloc ---- */

/* IN: domid, flags, count; OUT: index (the mmap offset of the pages) and
 * count grant references.  The ioctl number encodes the size of the
 * struct with one gref_ids entry; the kernel writes count of them. */
struct xen_lx_gntalloc_alloc {
	uint16_t domid;
	uint16_t flags;
	uint32_t count;
	uint64_t index;
	uint32_t gref_ids[1];
};
#define XEN_LX_GNTALLOC_WRITABLE 1u

struct xen_lx_gntalloc_dealloc {
	uint64_t index;
	uint32_t count;
};

#define XEN_LX_IOCTL_GNTALLOC_ALLOC \
	_IOC(_IOC_NONE, 'G', 5, sizeof(struct xen_lx_gntalloc_alloc))
#define XEN_LX_IOCTL_GNTALLOC_DEALLOC \
	_IOC(_IOC_NONE, 'G', 6, sizeof(struct xen_lx_gntalloc_dealloc))

/* The module's limit on pages allocated through gntalloc (all users of
 * the device together; default 1024). */
#define XEN_LX_GNTALLOC_LIMIT "/sys/module/xen_gntalloc/parameters/limit"

/* ---- /dev/xen/evtchn ---- */

/* Bind a new port for remote_domain to bind to; the ioctl returns the
 * local port.  read() then yields the ports that fired (uint32_t each),
 * each masked until written back with write(). */
struct xen_lx_evtchn_bind_unbound {
	unsigned int remote_domain;
};
struct xen_lx_evtchn_port {
	unsigned int port;
};

#define XEN_LX_IOCTL_EVTCHN_BIND_UNBOUND \
	_IOC(_IOC_NONE, 'E', 2, sizeof(struct xen_lx_evtchn_bind_unbound))
#define XEN_LX_IOCTL_EVTCHN_UNBIND \
	_IOC(_IOC_NONE, 'E', 3, sizeof(struct xen_lx_evtchn_port))
#define XEN_LX_IOCTL_EVTCHN_NOTIFY \
	_IOC(_IOC_NONE, 'E', 4, sizeof(struct xen_lx_evtchn_port))

/* ---- the devices and the xenstore stream ---- */

#define XEN_LX_GNTALLOC "/dev/xen/gntalloc"
#define XEN_LX_EVTCHN "/dev/xen/evtchn"
/* xenstored's unix socket in dom0 (and its older place), then the
 * kernel's xenbus device (dom0 and guests): the order libxenstore tries */
#define XEN_LX_XS_SOCKET "/run/xenstored/socket"
#define XEN_LX_XS_SOCKET_OLD "/var/run/xenstored/socket"
#define XEN_LX_XENBUS "/dev/xen/xenbus"

#endif /* PVIO_XEN_LINUX_ABI_H */
