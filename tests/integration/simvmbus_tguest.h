/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simvmbus_tguest.h - a minimal, test-only Hyper-V guest
 * for the simulated host: sim hostif framing, HvPostMessage, VMBus channel
 * messages, GPADLs, ring buffers and packets.  Written from
 * shared/specs/hyperv-vmbus.md and docs/sim-hostif.md with byte offsets,
 * independently of sim/vmbus (it shares only sim/common's plumbing for
 * sockets), so that it checks the host rather than agreeing with it.
 */
#ifndef PVIO_TESTS_SIMVMBUS_TGUEST_H
#define PVIO_TESTS_SIMVMBUS_TGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_GPA_BASE 0x100000000ull
#define TG_MSGQ 256
#define TG_TIMEOUT_MS 5000

/* a running `pvio sim hyperv` */
struct tg_host {
	int pid;
	char dir[64];
	char sock[96];
	char log[96];
	char ready[512];
};
/* Start the host with extra arguments (NULL-terminated) in a fresh temp
 * dir; waits (bounded) for its ready line.  0 or -errno. */
int tg_host_start(struct tg_host *h, const char *const *args);
/* SIGTERM, bounded wait, SIGKILL if needed; returns the exit status
 * (waitpid style) or -1.  The directory (log) stays until cleanup. */
int tg_host_stop(struct tg_host *h);
void tg_host_cleanup(struct tg_host *h);
/* Does the host's log mention a sanitizer report? */
bool tg_host_log_has(const struct tg_host *h, const char *needle);
/* SIM_CTL over a management connection; reply text into out. */
int tg_ctl(const char *sock, const char *cmd, char *out, size_t outlen);

struct tg {
	int fd;
	uint32_t seq;
	uint32_t part_id;
	int memfd;
	uint8_t *mem;
	uint64_t size;
	uint64_t brk;
	uint64_t monitor_page[2];  /* host to guest, guest to host */
	uint32_t msg_conn;
	unsigned nq;
	uint32_t qlen[TG_MSGQ];
	uint8_t q[TG_MSGQ][240];
};

int tg_connect(struct tg *g, const char *sock, const char *name,
	       uint64_t mem_bytes);
void tg_close(struct tg *g);
/* One hostif request; reply payload after the status into reply.
 * Returns the reply status, or -ETIMEDOUT/-EPIPE. */
int tg_call(struct tg *g, uint16_t type, const void *req, uint32_t len,
	    uint8_t *reply, uint32_t *rlen, int *fds, int *nfds);
/* Raw HvPostMessage; returns the hv status, or UINT32_MAX on error. */
/* SET_MEMORY of [gpa, gpa+size) from fd at offset; the reply status. */
int tg_set_memory(struct tg *g, uint64_t gpa, uint64_t size, int fd,
		  uint64_t off);
uint32_t tg_post_raw(struct tg *g, uint32_t conn, uint32_t msg_type,
		     uint32_t payload_size, const void *msg, uint32_t len);
uint32_t tg_post(struct tg *g, const void *msg, uint32_t len);
/* Wait for the next channel message of type msgtype (others stay
 * queued).  0, or -ETIMEDOUT. */
int tg_wait(struct tg *g, uint32_t msgtype, uint8_t *out, uint32_t *len,
	    int timeout_ms);
/* Is a message of that type queued (after reading what is pending)? */
bool tg_has(struct tg *g, uint32_t msgtype);

uint64_t tg_alloc(struct tg *g, uint64_t bytes);
void *tg_va(struct tg *g, uint64_t gpa);

/* INITIATE_CONTACT; returns version_supported, response in resp[16]. */
int tg_contact(struct tg *g, uint32_t version, uint32_t conn,
	       uint8_t *resp);

struct tg_offer {
	uint8_t type[16];
	uint8_t inst[16];
	uint16_t sub;
	uint32_t relid;
	uint8_t monitor_id;
	uint8_t monitor_alloc;
	uint32_t conn_id;
};
void tg_parse_offer(const uint8_t *m, struct tg_offer *o);
/* REQUESTOFFERS, collects offers until ALLOFFERS_DELIVERED. */
int tg_offers(struct tg *g, struct tg_offer *out, int max);

/* GPADL over [gpa, gpa+bytes); returns the GPADL_CREATED status or
 * UINT32_MAX when none came. */
uint32_t tg_gpadl(struct tg *g, uint32_t relid, uint32_t handle, uint64_t gpa,
		  uint32_t bytes);
uint32_t tg_gpadl_teardown(struct tg *g, uint32_t relid, uint32_t handle);

struct tg_chan {
	struct tg *g;
	uint32_t relid;
	uint32_t gpadl;
	uint8_t *tx_hdr, *tx_data; /* guest to host */
	uint32_t tx_size;
	uint8_t *rx_hdr, *rx_data; /* host to guest */
	uint32_t rx_size;
	int sig, intr;
	uint64_t signals;
	/* set to signal through monitor page 2 instead of the eventfd */
	uint8_t *monitor;
	uint8_t monitor_id;
};
/* Ring GPADL, CHANNEL_EVENTS, OPENCHANNEL; returns the open status,
 * UINT32_MAX on a transport error. */
uint32_t tg_open(struct tg *g, struct tg_chan *c, uint32_t relid,
		 uint32_t tx_pages, uint32_t rx_pages, uint32_t handle);
void tg_close_chan(struct tg_chan *c);

/* Write one packet (ext: bytes after the 16-byte descriptor, a multiple of
 * 8) and signal when Hyper-V's rules say so.  -EAGAIN when full. */
int tg_send(struct tg_chan *c, uint16_t type, uint16_t flags, uint64_t tid,
	    const void *ext, uint32_t extlen, const void *payload,
	    uint32_t plen);
/* Raw bytes into the ring (for corruption tests), then signal. */
void tg_send_raw(struct tg_chan *c, const void *bytes, uint32_t len);
/* Next host packet (descriptor..end) into pkt; returns its length, 0 on
 * timeout, -EPROTO when the host wrote something invalid. */
int tg_recv(struct tg_chan *c, uint8_t *pkt, uint32_t cap, int timeout_ms);
/* Send a GPA-direct packet with one range covering [gpa, gpa+len). */
int tg_send_gpa(struct tg_chan *c, uint64_t tid, uint64_t gpa, uint32_t len,
		const void *payload, uint32_t plen);

static inline uint32_t tg_g32(const void *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}
static inline uint16_t tg_g16(const void *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
}
static inline uint64_t tg_g64(const void *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}
static inline void tg_p32(void *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void tg_p16(void *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
static inline void tg_p64(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }

#endif /* PVIO_TESTS_SIMVMBUS_TGUEST_H */
