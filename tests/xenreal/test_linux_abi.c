/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/linux_abi.h against the kernel's own definitions of the
 * /dev/xen/gntalloc and /dev/xen/evtchn ioctls (Debian's libxen-dev ships
 * Linux's include/uapi/xen/{gntalloc,evtchn}.h as /usr/include/xen/sys/):
 * ioctl numbers, struct sizes and offsets.  Compile-time checks, restated
 * at run time so the test asserts when it runs.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntalloc.h>

#include "backends/xen/linux_abi.h"

#define SAME_OFF(a, fa, b, fb) \
	_Static_assert(offsetof(a, fa) == offsetof(b, fb), #a "." #fa)

_Static_assert(XEN_LX_IOCTL_GNTALLOC_ALLOC == IOCTL_GNTALLOC_ALLOC_GREF,
	       "alloc ioctl");
_Static_assert(XEN_LX_IOCTL_GNTALLOC_DEALLOC == IOCTL_GNTALLOC_DEALLOC_GREF,
	       "dealloc ioctl");
_Static_assert(sizeof(struct xen_lx_gntalloc_alloc) ==
		       sizeof(struct ioctl_gntalloc_alloc_gref),
	       "alloc size");
SAME_OFF(struct xen_lx_gntalloc_alloc, domid, struct ioctl_gntalloc_alloc_gref,
	 domid);
SAME_OFF(struct xen_lx_gntalloc_alloc, flags, struct ioctl_gntalloc_alloc_gref,
	 flags);
SAME_OFF(struct xen_lx_gntalloc_alloc, count, struct ioctl_gntalloc_alloc_gref,
	 count);
SAME_OFF(struct xen_lx_gntalloc_alloc, index, struct ioctl_gntalloc_alloc_gref,
	 index);
SAME_OFF(struct xen_lx_gntalloc_alloc, gref_ids,
	 struct ioctl_gntalloc_alloc_gref, gref_ids);
_Static_assert(sizeof(struct xen_lx_gntalloc_dealloc) ==
		       sizeof(struct ioctl_gntalloc_dealloc_gref),
	       "dealloc size");
SAME_OFF(struct xen_lx_gntalloc_dealloc, index,
	 struct ioctl_gntalloc_dealloc_gref, index);
SAME_OFF(struct xen_lx_gntalloc_dealloc, count,
	 struct ioctl_gntalloc_dealloc_gref, count);
_Static_assert(XEN_LX_GNTALLOC_WRITABLE == GNTALLOC_FLAG_WRITABLE, "flag");

_Static_assert(XEN_LX_IOCTL_EVTCHN_BIND_UNBOUND ==
		       IOCTL_EVTCHN_BIND_UNBOUND_PORT,
	       "bind unbound ioctl");
_Static_assert(XEN_LX_IOCTL_EVTCHN_UNBIND == IOCTL_EVTCHN_UNBIND,
	       "unbind ioctl");
_Static_assert(XEN_LX_IOCTL_EVTCHN_NOTIFY == IOCTL_EVTCHN_NOTIFY,
	       "notify ioctl");
_Static_assert(sizeof(struct xen_lx_evtchn_bind_unbound) ==
		       sizeof(struct ioctl_evtchn_bind_unbound_port),
	       "bind size");
_Static_assert(sizeof(struct xen_lx_evtchn_port) ==
		       sizeof(struct ioctl_evtchn_notify),
	       "notify size");

START_TEST(gntalloc)
{
	ck_assert_uint_eq(XEN_LX_IOCTL_GNTALLOC_ALLOC, IOCTL_GNTALLOC_ALLOC_GREF);
	ck_assert_uint_eq(XEN_LX_IOCTL_GNTALLOC_DEALLOC,
			  IOCTL_GNTALLOC_DEALLOC_GREF);
	ck_assert_uint_eq(sizeof(struct xen_lx_gntalloc_alloc),
			  sizeof(struct ioctl_gntalloc_alloc_gref));
	ck_assert_uint_eq(offsetof(struct xen_lx_gntalloc_alloc, index),
			  offsetof(struct ioctl_gntalloc_alloc_gref, index));
	ck_assert_uint_eq(offsetof(struct xen_lx_gntalloc_alloc, gref_ids),
			  offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids));
	ck_assert_uint_eq(XEN_LX_GNTALLOC_WRITABLE, GNTALLOC_FLAG_WRITABLE);
}
END_TEST

START_TEST(evtchn)
{
	ck_assert_uint_eq(XEN_LX_IOCTL_EVTCHN_BIND_UNBOUND,
			  IOCTL_EVTCHN_BIND_UNBOUND_PORT);
	ck_assert_uint_eq(XEN_LX_IOCTL_EVTCHN_UNBIND, IOCTL_EVTCHN_UNBIND);
	ck_assert_uint_eq(XEN_LX_IOCTL_EVTCHN_NOTIFY, IOCTL_EVTCHN_NOTIFY);
	ck_assert_uint_eq(sizeof(struct xen_lx_evtchn_port),
			  sizeof(struct ioctl_evtchn_notify));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_linux_abi");
	TCase *tc = tcase_create("abi");
	tcase_add_test(tc, gntalloc);
	tcase_add_test(tc, evtchn);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
