/* SPDX-License-Identifier: MIT */
/*
 * sim/common/sim.h - plumbing shared by pvio's simulated hosts.
 *
 * Only host-side plumbing lives here: an event loop, unix sockets with
 * descriptor passing, eventfds, guest-memory mapping, the framing of the
 * sim hostif (docs/sim-hostif.md) and logging.  No paravirtual protocol
 * (virtio, Xen, VMBus) is here or in anything the guest side uses: each
 * simulated host knows its protocol on its own.
 *
 * The simulated hosts are single-threaded: one sim_loop per process.
 */
#ifndef PVIO_SIM_H
#define PVIO_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- entry points, called by `pvio sim ...` (tools/) ---- */
int sim_virtio_main(int argc, char **argv);
int sim_xen_main(int argc, char **argv);
int sim_hyperv_main(int argc, char **argv);
/* `pvio sim ctl SOCKET COMMAND...`: one SIM_CTL request, reply on stdout */
int sim_ctl_main(int argc, char **argv);

/* ---- logging ---- */
enum { SIM_LOG_ERROR, SIM_LOG_WARN, SIM_LOG_INFO, SIM_LOG_DEBUG };
/* Process-wide settings of the simulated host program (one host per
 * process, so this is the program's state, not a library's). */
void sim_log_init(const char *prog, int level);
void sim_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Rate-limited: at most a few lines per second per call site key. */
void sim_log_limited(unsigned *budget, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- event loop ---- */
struct sim_loop;
typedef void (*sim_fd_cb)(struct sim_loop *loop, int fd, uint32_t events,
			  void *arg);
typedef void (*sim_timer_cb)(struct sim_loop *loop, void *arg);

struct sim_loop *sim_loop_new(void);
void sim_loop_free(struct sim_loop *loop);
/* events: EPOLLIN etc. */
int sim_loop_add(struct sim_loop *loop, int fd, uint32_t events, sim_fd_cb cb,
		 void *arg);
int sim_loop_mod(struct sim_loop *loop, int fd, uint32_t events);
void sim_loop_del(struct sim_loop *loop, int fd);
/* One-shot timer after delay_ns; returns an id for sim_loop_cancel. */
uint64_t sim_loop_timer(struct sim_loop *loop, uint64_t delay_ns,
			sim_timer_cb cb, void *arg);
void sim_loop_cancel(struct sim_loop *loop, uint64_t id);
/* Run until sim_loop_stop() or a termination signal (SIGINT/SIGTERM). */
int sim_loop_run(struct sim_loop *loop);
void sim_loop_stop(struct sim_loop *loop);
/* Run ready callbacks once, waiting at most timeout_ms (-1: forever). */
int sim_loop_once(struct sim_loop *loop, int timeout_ms);

uint64_t sim_now_ns(void);

/* ---- sockets ---- */
/* Listen on a unix stream socket at path (an existing socket file is
 * replaced).  Returns the fd or -errno. */
int sim_listen_unix(const char *path, int backlog);
int sim_connect_unix(const char *path);
/* sendmsg/recvmsg of exactly len bytes with up to maxfds descriptors.
 * recv returns 0 on orderly EOF before any byte, len on success, -errno
 * (-EPROTO for a short message).  Received fds are close-on-exec. */
ssize_t sim_send_fds(int sock, const void *buf, size_t len, const int *fds,
		     int nfds);
ssize_t sim_recv_fds(int sock, void *buf, size_t len, int *fds, int maxfds,
		     int *nfds);
/* Read/write exactly len bytes (blocking socket), -errno or 0 at EOF. */
ssize_t sim_read_full(int fd, void *buf, size_t len);
ssize_t sim_write_full(int fd, const void *buf, size_t len);

/* ---- eventfds ---- */
int sim_eventfd(void);                /* non-blocking, close-on-exec */
void sim_eventfd_signal(int fd);      /* add 1 */
uint64_t sim_eventfd_drain(int fd);   /* read and return the count */

/* ---- guest memory ---- */
#define SIM_MEM_MAX_REGIONS 8
struct sim_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;   /* mapping in this process */
	uint64_t map_len;
};
struct sim_mem {
	struct sim_mem_region r[SIM_MEM_MAX_REGIONS];
	unsigned n;
};
/* Map fd at fd_offset..+size MAP_SHARED as guest range [gpa, gpa+size).
 * Rejects unaligned, overlapping or too many ranges (-EINVAL/-ENOSPC). */
int sim_mem_add(struct sim_mem *m, uint64_t gpa, uint64_t size, int fd,
		uint64_t fd_offset);
void sim_mem_clear(struct sim_mem *m);
/* Host pointer for guest range [gpa, gpa+len), or NULL if any byte lies
 * outside guest memory (or the range wraps).  A range never spans two
 * regions. */
void *sim_mem_ptr(const struct sim_mem *m, uint64_t gpa, uint64_t len);

/* ---- sim hostif framing (docs/sim-hostif.md) ---- */
#define SIM_HOSTIF_MAGIC 0x4F495650u
#define SIM_HOSTIF_MAX_PAYLOAD 4096u
#define SIM_HOSTIF_MAX_FDS 4
#define SIM_HOSTIF_F_REPLY 1u
#define SIM_HOSTIF_F_UNSOLICITED 2u
enum {
	SIM_HOSTIF_HELLO = 1,
	SIM_HOSTIF_SET_MEMORY = 2,
	SIM_HOSTIF_SIM_CTL = 100,
};

struct sim_hostif_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
};

struct sim_hostif_msg {
	struct sim_hostif_hdr hdr;
	uint8_t payload[SIM_HOSTIF_MAX_PAYLOAD];
	int fds[SIM_HOSTIF_MAX_FDS];
	int nfds;
};

/* Read one whole message (blocking).  0 at EOF, 1 with a message, -errno
 * (-EPROTO: malformed; the caller disconnects).  Unused fds are the
 * caller's to close (sim_hostif_msg_close_fds). */
int sim_hostif_recv(int sock, struct sim_hostif_msg *m);
void sim_hostif_msg_close_fds(struct sim_hostif_msg *m);
/* Send a reply to req: status then extra payload bytes, with fds. */
int sim_hostif_reply(int sock, const struct sim_hostif_hdr *req,
		     int32_t status, const void *extra, size_t extra_len,
		     const int *fds, int nfds);
/* Send an unsolicited message. */
int sim_hostif_send(int sock, uint16_t type, uint16_t flags, uint32_t seq,
		    const void *payload, size_t len);

/* ---- command-line helpers ---- */
/* Parse "64M", "1G", "4096" into bytes. */
int sim_parse_size(const char *s, uint64_t *out);
/* Parse "52:54:00:12:34:56". */
int sim_parse_mac(const char *s, uint8_t mac[6]);

#endif /* PVIO_SIM_H */
