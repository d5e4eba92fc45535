/* SPDX-License-Identifier: MIT */
/* core/errnames.c - names and short texts of the errno values pvio uses. */
#include "core.h"
#include <pvio/errno.h>

struct errname { int err; const char *name; const char *text; };

static const struct errname errnames[] = {
	{ 1, "EPERM", "operation not permitted" },
	{ 2, "ENOENT", "no such entry" },
	{ 4, "EINTR", "interrupted" },
	{ 5, "EIO", "I/O error" },
	{ 6, "ENXIO", "no such device or address" },
	{ 7, "E2BIG", "argument list too long" },
	{ 9, "EBADF", "bad descriptor" },
	{ 11, "EAGAIN", "try again" },
	{ 12, "ENOMEM", "out of memory" },
	{ 13, "EACCES", "permission denied" },
	{ 14, "EFAULT", "bad address" },
	{ 16, "EBUSY", "busy" },
	{ 17, "EEXIST", "exists" },
	{ 19, "ENODEV", "no such device" },
	{ 20, "ENOTDIR", "not a directory" },
	{ 21, "EISDIR", "is a directory" },
	{ 22, "EINVAL", "invalid argument" },
	{ 24, "EMFILE", "too many open files" },
	{ 27, "EFBIG", "too large" },
	{ 28, "ENOSPC", "no space left" },
	{ 30, "EROFS", "read-only" },
	{ 32, "EPIPE", "broken pipe" },
	{ 34, "ERANGE", "out of range" },
	{ 36, "ENAMETOOLONG", "name too long" },
	{ 38, "ENOSYS", "not implemented" },
	{ 39, "ENOTEMPTY", "not empty" },
	{ 42, "ENOMSG", "no message" },
	{ 61, "ENODATA", "no data" },
	{ 71, "EPROTO", "protocol error" },
	{ 74, "EBADMSG", "bad message" },
	{ 75, "EOVERFLOW", "overflow" },
	{ 90, "EMSGSIZE", "message too long" },
	{ 93, "EPROTONOSUPPORT", "protocol not supported" },
	{ 95, "EOPNOTSUPP", "operation not supported" },
	{ 99, "EADDRNOTAVAIL", "address not available" },
	{ 104, "ECONNRESET", "connection reset" },
	{ 105, "ENOBUFS", "no buffer space" },
	{ 106, "EISCONN", "already connected" },
	{ 107, "ENOTCONN", "not connected" },
	{ 108, "ESHUTDOWN", "shut down" },
	{ 110, "ETIMEDOUT", "timed out" },
	{ 111, "ECONNREFUSED", "connection refused" },
	{ 114, "EALREADY", "already in progress" },
	{ 115, "EINPROGRESS", "in progress" },
	{ 116, "ESTALE", "stale" },
	{ 121, "EREMOTEIO", "remote I/O error" },
	{ 123, "ENOMEDIUM", "no medium" },
	{ 125, "ECANCELED", "canceled" },
};

const char *pvio_errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	return "E?";
}

const char *pvio_strerror(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].text;
	return "unknown error";
}

#ifndef PVIO_FREESTANDING
#include <errno.h>
_Static_assert(EPERM == PVIO_EPERM, "errno EPERM");
_Static_assert(ENOENT == PVIO_ENOENT, "errno ENOENT");
_Static_assert(EINTR == PVIO_EINTR, "errno EINTR");
_Static_assert(EIO == PVIO_EIO, "errno EIO");
_Static_assert(ENXIO == PVIO_ENXIO, "errno ENXIO");
_Static_assert(E2BIG == PVIO_E2BIG, "errno E2BIG");
_Static_assert(EBADF == PVIO_EBADF, "errno EBADF");
_Static_assert(EAGAIN == PVIO_EAGAIN, "errno EAGAIN");
_Static_assert(ENOMEM == PVIO_ENOMEM, "errno ENOMEM");
_Static_assert(EACCES == PVIO_EACCES, "errno EACCES");
_Static_assert(EFAULT == PVIO_EFAULT, "errno EFAULT");
_Static_assert(EBUSY == PVIO_EBUSY, "errno EBUSY");
_Static_assert(EEXIST == PVIO_EEXIST, "errno EEXIST");
_Static_assert(ENODEV == PVIO_ENODEV, "errno ENODEV");
_Static_assert(ENOTDIR == PVIO_ENOTDIR, "errno ENOTDIR");
_Static_assert(EISDIR == PVIO_EISDIR, "errno EISDIR");
_Static_assert(EINVAL == PVIO_EINVAL, "errno EINVAL");
_Static_assert(EMFILE == PVIO_EMFILE, "errno EMFILE");
_Static_assert(EFBIG == PVIO_EFBIG, "errno EFBIG");
_Static_assert(ENOSPC == PVIO_ENOSPC, "errno ENOSPC");
_Static_assert(EROFS == PVIO_EROFS, "errno EROFS");
_Static_assert(EPIPE == PVIO_EPIPE, "errno EPIPE");
_Static_assert(ERANGE == PVIO_ERANGE, "errno ERANGE");
_Static_assert(ENAMETOOLONG == PVIO_ENAMETOOLONG, "errno ENAMETOOLONG");
_Static_assert(ENOSYS == PVIO_ENOSYS, "errno ENOSYS");
_Static_assert(ENOTEMPTY == PVIO_ENOTEMPTY, "errno ENOTEMPTY");
_Static_assert(ENOMSG == PVIO_ENOMSG, "errno ENOMSG");
_Static_assert(ENODATA == PVIO_ENODATA, "errno ENODATA");
_Static_assert(EPROTO == PVIO_EPROTO, "errno EPROTO");
_Static_assert(EBADMSG == PVIO_EBADMSG, "errno EBADMSG");
_Static_assert(EOVERFLOW == PVIO_EOVERFLOW, "errno EOVERFLOW");
_Static_assert(EMSGSIZE == PVIO_EMSGSIZE, "errno EMSGSIZE");
_Static_assert(EPROTONOSUPPORT == PVIO_EPROTONOSUPPORT, "errno EPROTONOSUPPORT");
_Static_assert(EOPNOTSUPP == PVIO_EOPNOTSUPP, "errno EOPNOTSUPP");
_Static_assert(EADDRNOTAVAIL == PVIO_EADDRNOTAVAIL, "errno EADDRNOTAVAIL");
_Static_assert(ECONNRESET == PVIO_ECONNRESET, "errno ECONNRESET");
_Static_assert(ENOBUFS == PVIO_ENOBUFS, "errno ENOBUFS");
_Static_assert(EISCONN == PVIO_EISCONN, "errno EISCONN");
_Static_assert(ENOTCONN == PVIO_ENOTCONN, "errno ENOTCONN");
_Static_assert(ESHUTDOWN == PVIO_ESHUTDOWN, "errno ESHUTDOWN");
_Static_assert(ETIMEDOUT == PVIO_ETIMEDOUT, "errno ETIMEDOUT");
_Static_assert(ECONNREFUSED == PVIO_ECONNREFUSED, "errno ECONNREFUSED");
_Static_assert(EALREADY == PVIO_EALREADY, "errno EALREADY");
_Static_assert(EINPROGRESS == PVIO_EINPROGRESS, "errno EINPROGRESS");
_Static_assert(ESTALE == PVIO_ESTALE, "errno ESTALE");
_Static_assert(EREMOTEIO == PVIO_EREMOTEIO, "errno EREMOTEIO");
_Static_assert(ENOMEDIUM == PVIO_ENOMEDIUM, "errno ENOMEDIUM");
_Static_assert(ECANCELED == PVIO_ECANCELED, "errno ECANCELED");
#endif
