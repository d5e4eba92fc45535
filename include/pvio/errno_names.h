/* SPDX-License-Identifier: MIT */
/*
 * pvio/errno_names.h - E* names for code built without a C library
 * (freestanding).  Included by pvio/transport.h when PVIO_FREESTANDING is
 * defined; hosted code uses <errno.h>, whose values are the same.
 */
#ifndef PVIO_ERRNO_NAMES_H
#define PVIO_ERRNO_NAMES_H
#include <pvio/errno.h>

#ifndef EPERM
#define EPERM PVIO_EPERM
#endif
#ifndef ENOENT
#define ENOENT PVIO_ENOENT
#endif
#ifndef EINTR
#define EINTR PVIO_EINTR
#endif
#ifndef EIO
#define EIO PVIO_EIO
#endif
#ifndef ENXIO
#define ENXIO PVIO_ENXIO
#endif
#ifndef E2BIG
#define E2BIG PVIO_E2BIG
#endif
#ifndef EBADF
#define EBADF PVIO_EBADF
#endif
#ifndef EAGAIN
#define EAGAIN PVIO_EAGAIN
#endif
#ifndef ENOMEM
#define ENOMEM PVIO_ENOMEM
#endif
#ifndef EACCES
#define EACCES PVIO_EACCES
#endif
#ifndef EFAULT
#define EFAULT PVIO_EFAULT
#endif
#ifndef EBUSY
#define EBUSY PVIO_EBUSY
#endif
#ifndef EEXIST
#define EEXIST PVIO_EEXIST
#endif
#ifndef ENODEV
#define ENODEV PVIO_ENODEV
#endif
#ifndef ENOTDIR
#define ENOTDIR PVIO_ENOTDIR
#endif
#ifndef EISDIR
#define EISDIR PVIO_EISDIR
#endif
#ifndef EINVAL
#define EINVAL PVIO_EINVAL
#endif
#ifndef EMFILE
#define EMFILE PVIO_EMFILE
#endif
#ifndef EFBIG
#define EFBIG PVIO_EFBIG
#endif
#ifndef ENOSPC
#define ENOSPC PVIO_ENOSPC
#endif
#ifndef EROFS
#define EROFS PVIO_EROFS
#endif
#ifndef EPIPE
#define EPIPE PVIO_EPIPE
#endif
#ifndef ERANGE
#define ERANGE PVIO_ERANGE
#endif
#ifndef ENAMETOOLONG
#define ENAMETOOLONG PVIO_ENAMETOOLONG
#endif
#ifndef ENOSYS
#define ENOSYS PVIO_ENOSYS
#endif
#ifndef ENOTEMPTY
#define ENOTEMPTY PVIO_ENOTEMPTY
#endif
#ifndef ENOMSG
#define ENOMSG PVIO_ENOMSG
#endif
#ifndef ENODATA
#define ENODATA PVIO_ENODATA
#endif
#ifndef EPROTO
#define EPROTO PVIO_EPROTO
#endif
#ifndef EBADMSG
#define EBADMSG PVIO_EBADMSG
#endif
#ifndef EOVERFLOW
#define EOVERFLOW PVIO_EOVERFLOW
#endif
#ifndef EMSGSIZE
#define EMSGSIZE PVIO_EMSGSIZE
#endif
#ifndef EPROTONOSUPPORT
#define EPROTONOSUPPORT PVIO_EPROTONOSUPPORT
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP PVIO_EOPNOTSUPP
#endif
#ifndef EADDRNOTAVAIL
#define EADDRNOTAVAIL PVIO_EADDRNOTAVAIL
#endif
#ifndef ECONNRESET
#define ECONNRESET PVIO_ECONNRESET
#endif
#ifndef ENOBUFS
#define ENOBUFS PVIO_ENOBUFS
#endif
#ifndef EISCONN
#define EISCONN PVIO_EISCONN
#endif
#ifndef ENOTCONN
#define ENOTCONN PVIO_ENOTCONN
#endif
#ifndef ESHUTDOWN
#define ESHUTDOWN PVIO_ESHUTDOWN
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT PVIO_ETIMEDOUT
#endif
#ifndef ECONNREFUSED
#define ECONNREFUSED PVIO_ECONNREFUSED
#endif
#ifndef EALREADY
#define EALREADY PVIO_EALREADY
#endif
#ifndef EINPROGRESS
#define EINPROGRESS PVIO_EINPROGRESS
#endif
#ifndef ESTALE
#define ESTALE PVIO_ESTALE
#endif
#ifndef EREMOTEIO
#define EREMOTEIO PVIO_EREMOTEIO
#endif
#ifndef ENOMEDIUM
#define ENOMEDIUM PVIO_ENOMEDIUM
#endif
#ifndef ECANCELED
#define ECANCELED PVIO_ECANCELED
#endif

#endif
