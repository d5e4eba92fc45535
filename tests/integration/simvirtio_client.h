/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simvirtio_client.h - a small scripted vhost-user front
 * end for testing `pvio sim virtio` (tests only).
 *
 * It is written independently of sim/virtio: rings and device structures
 * come from the Linux uapi headers, the vhost-user framing from QEMU's
 * vhost-user.rst.  It starts the simulated host as a child process (in a
 * temporary directory, killed if the test dies), talks to its management
 * socket, negotiates, shares a memfd as guest memory (guest-physical =
 * user address, as DPDK's virtio-user does) and drives split or packed
 * queues.  Every wait is bounded.
 */
#ifndef SIMVIRTIO_CLIENT_H
#define SIMVIRTIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define SVT_TIMEOUT_MS 10000

/* vhost-user requests used by the tests (QEMU vhost-user.rst) */
enum {
	VU_GET_FEATURES = 1, VU_SET_FEATURES = 2, VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5, VU_SET_VRING_NUM = 8, VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10, VU_GET_VRING_BASE = 11, VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13, VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15, VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17, VU_SET_VRING_ENABLE = 18,
	VU_SET_BACKEND_REQ_FD = 21, VU_GET_CONFIG = 24, VU_SET_CONFIG = 25,
	VU_GET_MAX_MEM_SLOTS = 36, VU_ADD_MEM_REG = 37, VU_REM_MEM_REG = 38,
	VU_SET_STATUS = 39, VU_GET_STATUS = 40,
};
#define VU_F_PROTOCOL_FEATURES 30
#define VU_PF_MQ 0
#define VU_PF_REPLY_ACK 3
#define VU_PF_BACKEND_REQ 5
#define VU_PF_CONFIG 9
#define VU_PF_CONFIGURE_MEM_SLOTS 15
#define VU_PF_STATUS 16
#define VU_FLAG_VERSION 1u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

struct vu_hdr {
	uint32_t request, flags, size;
};

/* the simulated host process */
struct svt_sim {
	pid_t pid;
	int out;              /* its stdout */
	char dir[64];         /* temporary directory */
	char log[96];         /* its stderr */
};

/* Unchecked fixture of a test case (runs in the runner process): one
 * temporary directory for all the tests' directories, removed at the end
 * even when tests failed. */
void svt_suite_setup(void);
void svt_suite_teardown(void);

/* Start `$PVIO sim virtio ARGS...` (args NULL-terminated; "@" in an
 * argument is replaced by the temporary directory) and wait for nready
 * "ready on" lines.  0 or -1. */
int svt_sim_start(struct svt_sim *s, int nready, const char *const *args);
/* SIGTERM, wait for the exit; returns the exit status or -1. */
int svt_sim_stop(struct svt_sim *s);
bool svt_sim_alive(struct svt_sim *s);
/* dir/name in buf */
const char *svt_path(const struct svt_sim *s, const char *name, char *buf,
		     size_t len);
/* Does the host's log contain needle? */
bool svt_log_has(const struct svt_sim *s, const char *needle);
/* How many lines of the log contain needle? */
int svt_log_count(const struct svt_sim *s, const char *needle);

/* one management command; returns the status, reply text in out */
int svt_ctl(const char *path, const char *cmd, char *out, size_t outlen);
/* value of "key N" in the reply of `stats DEV` for line prefix (vq0...) */
long long svt_stat(const char *ctl, const char *dev, const char *line,
		   const char *key);

/* a vhost-user connection */
struct svt_vu {
	int sock;
	int memfd;
	uint8_t *mem;
	size_t memsize, bump;
	uint64_t features, pfeatures;   /* offered */
	uint64_t acked, packed;
};

int svt_vu_connect(struct svt_vu *v, const char *path);
void svt_vu_close(struct svt_vu *v);
/* raw message; size bytes of payload right after the 12-byte header */
int svt_vu_send(struct svt_vu *v, uint32_t req, uint32_t flags,
		const void *payload, uint32_t size, const int *fds, int nfds);
/* wait for a reply: 0 with header and payload, -1 on EOF/timeout/error */
int svt_vu_recv(struct svt_vu *v, struct vu_hdr *h, void *payload, size_t max);
int svt_vu_get_u64(struct svt_vu *v, uint32_t req, uint64_t *out);
/* request with a u64; with need_reply, returns the ack value (0 ok) */
int svt_vu_set_u64(struct svt_vu *v, uint32_t req, uint64_t val,
		   bool need_reply);
int svt_vu_state(struct svt_vu *v, uint32_t req, uint32_t index, uint32_t num);
/* Has the back end closed the connection (EOF within the timeout)? */
bool svt_vu_closed(struct svt_vu *v, int timeout_ms);
/* GET_FEATURES, protocol features, SET_OWNER, SET_FEATURES (want &
 * offered, plus bit 30), memfd memory of memsize bytes and SET_MEM_TABLE */
int svt_vu_negotiate(struct svt_vu *v, uint64_t want, uint64_t want_pf,
		     size_t memsize);
void *svt_alloc(struct svt_vu *v, size_t size, size_t align);
static inline uint64_t svt_gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}
int svt_get_config(struct svt_vu *v, uint32_t off, uint32_t size, void *out);

/* a queue, driver side */
struct svt_buf {
	void *p;
	uint32_t len;
	bool write;
};

struct svt_q {
	struct svt_vu *v;
	unsigned index;
	uint16_t num;
	bool packed, event_idx;
	struct vring vr;
	struct vring_packed_desc *pd;
	struct vring_packed_desc_event *drv, *dev;
	uint16_t next_desc, last_used;
	uint16_t p_slot, p_used;
	bool p_wrap, p_used_wrap;
	uint16_t ndesc_of[1024];
	int kick, call;
};

/* Allocate rings, SET_VRING_NUM/BASE/ADDR/CALL/KICK (and ENABLE 1 when
 * protocol features were accepted). */
int svt_q_setup(struct svt_vu *v, struct svt_q *q, unsigned index,
		uint16_t num);
/* Publish one buffer (not kicked); returns its id or -1. */
int svt_q_add(struct svt_q *q, const struct svt_buf *b, unsigned n,
	      bool indirect);
void svt_q_kick(struct svt_q *q);
/* 1 and the next used entry, or 0 if there is none yet */
int svt_q_get(struct svt_q *q, uint32_t *id, uint32_t *len);
/* wait (bounded) for the next used entry: 1 or 0 on timeout */
int svt_q_wait(struct svt_q *q, uint32_t *id, uint32_t *len, int timeout_ms);
/* raw descriptor access for malformed chains (split) */
void svt_q_publish_head(struct svt_q *q, uint16_t head);

#endif
