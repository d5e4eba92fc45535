/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simxen_lib.h - a minimal test-only Xen guest for the
 * simulated Xen host: starts `pvio sim xen` in a temporary directory,
 * speaks the sim hostif (HELLO, SET_MEMORY, XS_CONNECT, GNTTAB_SETUP,
 * EVTCHN_*, DEVICE_*), owns a memfd as guest memory with a grant table in
 * it, and talks xenstore over the domain connection.  Ring and protocol
 * structures come from Debian's libxen-dev headers, independently of
 * sim/xen.  Every wait is bounded.
 */
#ifndef SIMXEN_LIB_H
#define SIMXEN_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TG_TIMEOUT_MS 10000

struct tsim {
	pid_t pid;
	char dir[64];
	char sock[96];
	char log[96];
};

/* Make the temporary directory (to put images in) before tsim_start. */
int tsim_prepare(struct tsim *s);
/* Start `$PVIO sim xen --socket DIR/x.sock ARGS...` (args may contain
 * "@DIR@", replaced by the temp dir) and wait for its ready line. */
int tsim_start(struct tsim *s, const char *const *args);
/* SIGTERM, bounded wait, SIGKILL; returns the exit status or -1. */
int tsim_stop(struct tsim *s);
/* `pvio sim ctl SOCK cmd`: output into out, returns the exit code. */
int tsim_ctl(struct tsim *s, const char *cmd, char *out, size_t len);
/* Poll `status` until it contains `needle` (bounded). */
bool tsim_wait_status(struct tsim *s, const char *needle);
/* Run a program with XENSTORED_PATH set, capture stdout; exit code. */
int tsim_run(struct tsim *s, char *out, size_t len, const char *const *argv);

struct tguest {
	int fd;
	uint32_t seq;
	uint32_t domid;
	int memfd;
	uint8_t *mem;
	uint64_t gpa;   /* guest-physical address of mem[0] */
	uint64_t size;
	uint64_t next;  /* bump allocator offset */
	uint8_t *gnttab; /* grant_entry_v1[] */
	uint32_t gnt_frames;
	uint32_t next_ref;
	int xs;          /* domain xenstore connection, or -1 */
	uint32_t xs_req;
	/* queued watch events */
	char events[32][256];
	unsigned nevents;
};

int tg_connect(struct tguest *g, const char *sock, const char *name);
void tg_close(struct tguest *g);
/* One hostif request; reply payload after the status into rep (len in
 * *rlen), fds into fds.  Returns the status, or -EPIPE/-ETIMEDOUT. */
int tg_request(struct tguest *g, uint16_t type, const void *p, uint32_t len,
	       void *rep, uint32_t *rlen, int *fds, int *nfds);
int tg_set_memory(struct tguest *g, uint64_t size);
uint8_t *tg_alloc_page(struct tguest *g, uint64_t *gfn);
int tg_gnttab_setup(struct tguest *g, uint32_t frames);
/* Grant frame gfn to domid with flags (GTF_permit_access|...); ref out. */
uint32_t tg_grant(struct tguest *g, uint64_t gfn, uint16_t domid, bool ro);
uint16_t tg_gnt_flags(struct tguest *g, uint32_t ref);
void tg_gnt_set(struct tguest *g, uint32_t ref, uint16_t flags, uint16_t domid,
		uint32_t frame);
int tg_evtchn_alloc(struct tguest *g, uint32_t remote, uint32_t *port,
		    int *send_fd, int *up_fd);
int tg_attach(struct tguest *g, const char *type, uint32_t devid);
int tg_detach(struct tguest *g, const char *type, uint32_t devid);
void tg_kick(int send_fd);
/* Wait for the upcall eventfd (bounded); true if it fired. */
bool tg_wait_upcall(int up_fd, int timeout_ms);

/* xenstore over the domain connection (or any xenstore socket fd). */
int tg_xs_connect(struct tguest *g);
/* A dom0 xenstore client on the host's socket (privileged). */
int tg_xs_dom0(struct tguest *g, const char *sock);
/* Raw request: returns the reply type (or -errno on transport failure);
 * reply payload into rep. */
int tg_xs_raw(struct tguest *g, uint32_t type, uint32_t tx, const void *p,
	      uint32_t len, char *rep, uint32_t *rlen);
/* Convenience: 0 or -errno decoded from an ERROR reply. */
int tg_xs_read(struct tguest *g, uint32_t tx, const char *path, char *val,
	       size_t len);
int tg_xs_write(struct tguest *g, uint32_t tx, const char *path,
		const char *val);
int tg_xs_rm(struct tguest *g, uint32_t tx, const char *path);
int tg_xs_watch(struct tguest *g, const char *path, const char *token);
int tg_xs_tx_start(struct tguest *g, uint32_t *tx);
int tg_xs_tx_end(struct tguest *g, uint32_t tx, bool commit);
/* Wait for a watch event whose path equals `path` (bounded). */
bool tg_xs_wait_event(struct tguest *g, const char *path);
/* Wait until `path` reads as `value` (watching it; bounded). */
bool tg_xs_wait_value(struct tguest *g, const char *path, const char *value);
/* Wait until `path` does not exist (bounded). */
bool tg_xs_wait_absent(struct tguest *g, const char *path);
int tg_errno_of(const char *name);

#endif
