/* SPDX-License-Identifier: MIT */
/*
 * core/registry.c - the back ends compiled into this library.
 *
 * A constant table, so there is no registration at run time and no global
 * mutable state.  configure decides which back ends a build has.
 */
#include "core.h"

#ifndef PVIO_FREESTANDING
#include "core/backend-list.h"
#endif

extern const struct pvio_backend pvio_backend_vhost_user;
extern const struct pvio_backend pvio_backend_virtio_pci;
extern const struct pvio_backend pvio_backend_virtio_mmio;
extern const struct pvio_backend pvio_backend_sim_xen;
extern const struct pvio_backend pvio_backend_xen;
extern const struct pvio_backend pvio_backend_sim_hyperv;
extern const struct pvio_backend pvio_backend_vmbus_uio;

const struct pvio_backend *const pvio_backends[] = {
#ifdef PVIO_HAVE_VHOST_USER
	&pvio_backend_vhost_user,
#endif
#ifdef PVIO_HAVE_VIRTIO_PCI
	&pvio_backend_virtio_pci,
#endif
#ifdef PVIO_HAVE_VIRTIO_MMIO
	&pvio_backend_virtio_mmio,
#endif
#ifdef PVIO_HAVE_SIM_XEN
	&pvio_backend_sim_xen,
#endif
#ifdef PVIO_HAVE_XEN_LINUX
	&pvio_backend_xen,
#endif
#ifdef PVIO_HAVE_SIM_HYPERV
	&pvio_backend_sim_hyperv,
#endif
#ifdef PVIO_HAVE_VMBUS_UIO
	&pvio_backend_vmbus_uio,
#endif
	NULL,
};

const char *pvio_backend_list(void)
{
	static const char list[] = ""
#ifdef PVIO_HAVE_VHOST_USER
	       ", vhost-user"
#endif
#ifdef PVIO_HAVE_VIRTIO_PCI
	       ", virtio-pci"
#endif
#ifdef PVIO_HAVE_VIRTIO_MMIO
	       ", virtio-mmio"
#endif
#ifdef PVIO_HAVE_SIM_XEN
	       ", sim-xen"
#endif
#ifdef PVIO_HAVE_XEN_LINUX
	       ", xen"
#endif
#ifdef PVIO_HAVE_SIM_HYPERV
	       ", sim-hyperv"
#endif
#ifdef PVIO_HAVE_VMBUS_UIO
	       ", vmbus-uio"
#endif
	       "";
	return sizeof(list) > 2 ? list + 2 : "(none)";
}
