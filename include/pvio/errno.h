/* SPDX-License-Identifier: MIT */
/*
 * pvio/errno.h - the error numbers pvio returns (negated), with Linux's
 * values, so that a freestanding embedder without <errno.h> can compare
 * against them.  Hosted builds check at compile time that they equal
 * <errno.h>'s.
 */
#ifndef PVIO_ERRNO_H
#define PVIO_ERRNO_H

#define PVIO_EPERM 1 /* operation not permitted */
#define PVIO_ENOENT 2 /* no such entry */
#define PVIO_EINTR 4 /* interrupted */
#define PVIO_EIO 5 /* I/O error */
#define PVIO_ENXIO 6 /* no such device or address */
#define PVIO_E2BIG 7 /* argument list too long */
#define PVIO_EBADF 9 /* bad descriptor */
#define PVIO_EAGAIN 11 /* try again */
#define PVIO_ENOMEM 12 /* out of memory */
#define PVIO_EACCES 13 /* permission denied */
#define PVIO_EFAULT 14 /* bad address */
#define PVIO_EBUSY 16 /* busy */
#define PVIO_EEXIST 17 /* exists */
#define PVIO_ENODEV 19 /* no such device */
#define PVIO_ENOTDIR 20 /* not a directory */
#define PVIO_EISDIR 21 /* is a directory */
#define PVIO_EINVAL 22 /* invalid argument */
#define PVIO_EMFILE 24 /* too many open files */
#define PVIO_EFBIG 27 /* too large */
#define PVIO_ENOSPC 28 /* no space left */
#define PVIO_EROFS 30 /* read-only */
#define PVIO_EPIPE 32 /* broken pipe */
#define PVIO_ERANGE 34 /* out of range */
#define PVIO_ENAMETOOLONG 36 /* name too long */
#define PVIO_ENOSYS 38 /* not implemented */
#define PVIO_ENOTEMPTY 39 /* not empty */
#define PVIO_ENOMSG 42 /* no message */
#define PVIO_ENODATA 61 /* no data */
#define PVIO_EPROTO 71 /* protocol error */
#define PVIO_EBADMSG 74 /* bad message */
#define PVIO_EOVERFLOW 75 /* overflow */
#define PVIO_EMSGSIZE 90 /* message too long */
#define PVIO_EPROTONOSUPPORT 93 /* protocol not supported */
#define PVIO_EOPNOTSUPP 95 /* operation not supported */
#define PVIO_EADDRNOTAVAIL 99 /* address not available */
#define PVIO_ECONNRESET 104 /* connection reset */
#define PVIO_ENOBUFS 105 /* no buffer space */
#define PVIO_EISCONN 106 /* already connected */
#define PVIO_ENOTCONN 107 /* not connected */
#define PVIO_ESHUTDOWN 108 /* shut down */
#define PVIO_ETIMEDOUT 110 /* timed out */
#define PVIO_ECONNREFUSED 111 /* connection refused */
#define PVIO_EALREADY 114 /* already in progress */
#define PVIO_EINPROGRESS 115 /* in progress */
#define PVIO_ESTALE 116 /* stale */
#define PVIO_EREMOTEIO 121 /* remote I/O error */
#define PVIO_ENOMEDIUM 123 /* no medium */
#define PVIO_ECANCELED 125 /* canceled */

#endif /* PVIO_ERRNO_H */
