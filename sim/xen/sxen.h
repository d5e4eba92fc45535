/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/sxen.h - internals of pvio's simulated Xen host.
 *
 * One process plays the hypervisor and dom0: a xenstored (xs_store.c,
 * xs_proto.c), grant tables (gnttab.c) and event channels (evtchn.c) per
 * guest domain, a toolstack that creates device directories (domain.c),
 * and Linux-like blkback / netback models (blkback.c, netback.c) built on
 * a small XenBus layer (xenbus.c).  Guests reach it over the sim hostif
 * (docs/sim-hostif.md, conn.c).  Everything runs on one sim_loop thread.
 *
 * Nothing here includes <pvio/...> or backends/: the simulated host knows
 * the Xen protocols on its own (wire.h).
 */
#ifndef PVIO_SIM_XEN_SXEN_H
#define PVIO_SIM_XEN_SXEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/sim.h"
#include "wire.h"

/* Per-host type numbers of the Xen part of the sim hostif. */
enum {
	SXEN_HOSTIF_XS_CONNECT = 16,
	SXEN_HOSTIF_GNTTAB_SETUP = 17,
	SXEN_HOSTIF_EVTCHN_ALLOC_UNBOUND = 18,
	SXEN_HOSTIF_EVTCHN_CLOSE = 19,
	SXEN_HOSTIF_DEVICE_ATTACH = 20,
	SXEN_HOSTIF_DEVICE_DETACH = 21,
};

struct sxen_host;
struct sxen_domain;
struct sxen_conn;
struct sxen_store;
struct sxen_xs_client;
struct sxen_blkback;
struct sxen_netback;

/* ------------------------------------------------------------ xenstore */
#define SXEN_XS_PERM_READ 1u
#define SXEN_XS_PERM_WRITE 2u

struct sxen_xs_perm {
	uint16_t id;
	uint8_t perms; /* SXEN_XS_PERM_* */
};

/* How a client hears from the store.  A wire client (send != NULL) gets
 * watch events as WATCH_EVENT messages at once; an internal client (a
 * back end, send == NULL) gets event() later, from
 * sxen_xs_run_deferred(), so a back end never runs in the middle of a
 * store update. */
struct sxen_xs_sink {
	void (*send)(void *arg, uint32_t type, uint32_t req_id, uint32_t tx_id,
		     const void *payload, uint32_t len);
	void (*event)(void *arg, const char *path, const char *token);
};

struct sxen_store *sxen_xs_new(void);
void sxen_xs_free(struct sxen_store *st);
void sxen_xs_set_kick(struct sxen_store *st, void (*kick)(void *arg),
		      void *arg);
void sxen_xs_run_deferred(struct sxen_store *st);

struct sxen_xs_client *sxen_xs_client_new(struct sxen_store *st,
					  uint16_t domid, bool priv,
					  const struct sxen_xs_sink *sink,
					  void *arg);
void sxen_xs_client_free(struct sxen_xs_client *c);
uint16_t sxen_xs_client_domid(const struct sxen_xs_client *c);
bool sxen_xs_client_priv(const struct sxen_xs_client *c);
struct sxen_store *sxen_xs_client_store(const struct sxen_xs_client *c);

/* All return 0 or a negative errno, as xenstored would answer it. */
int sxen_xs_read(struct sxen_xs_client *c, uint32_t tx, const char *path,
		 char **val, uint32_t *len);
int sxen_xs_write(struct sxen_xs_client *c, uint32_t tx, const char *path,
		  const void *val, uint32_t len);
int sxen_xs_mkdir(struct sxen_xs_client *c, uint32_t tx, const char *path);
int sxen_xs_rm(struct sxen_xs_client *c, uint32_t tx, const char *path);
int sxen_xs_directory(struct sxen_xs_client *c, uint32_t tx, const char *path,
		      char **names, uint32_t *len, uint64_t *gen);
int sxen_xs_get_perms(struct sxen_xs_client *c, uint32_t tx, const char *path,
		      struct sxen_xs_perm **perms, uint32_t *n);
int sxen_xs_set_perms(struct sxen_xs_client *c, uint32_t tx, const char *path,
		      const struct sxen_xs_perm *perms, uint32_t n);
int sxen_xs_watch(struct sxen_xs_client *c, const char *path,
		  const char *token);
int sxen_xs_unwatch(struct sxen_xs_client *c, const char *path,
		    const char *token);
int sxen_xs_tx_start(struct sxen_xs_client *c, uint32_t *id);
int sxen_xs_tx_end(struct sxen_xs_client *c, uint32_t id, bool commit);
void sxen_xs_reset_watches(struct sxen_xs_client *c);
bool sxen_xs_tx_valid(const struct sxen_xs_client *c, uint32_t id);
/* A reply on a wire client's connection. */
void sxen_xs_send(struct sxen_xs_client *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *p, uint32_t len);
void sxen_xs_fire_special(struct sxen_store *st, const char *name);
/* The first event of a new watch (sent after the WATCH reply). */
int sxen_xs_watch_fire_initial(struct sxen_xs_client *c, const char *path,
			       const char *token);
/* Domains the store knows (IS_DOMAIN_INTRODUCED); fires @introduceDomain
 * or @releaseDomain. */
void sxen_xs_set_domain(struct sxen_store *st, uint16_t domid, bool present);
bool sxen_xs_domain_known(const struct sxen_store *st, unsigned domid);
/* Path this client's relative paths are relative to. */
void sxen_xs_home(const struct sxen_xs_client *c, char *buf, size_t len);
/* Convenience for internal (dom0) users. */
int sxen_xs_printf(struct sxen_xs_client *c, uint32_t tx, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int sxen_xs_set_perms_str(struct sxen_xs_client *c, uint32_t tx,
			  const char *path, const char *perms);
int sxen_xs_parse_perm(const char *s, struct sxen_xs_perm *p);
void sxen_xs_format_perm(const struct sxen_xs_perm *p, char *buf, size_t len);
const char *sxen_xs_errname(int err);
void sxen_xs_stats(const struct sxen_store *st, unsigned *nodes,
		   unsigned *watches, unsigned *txs);

/* xs_proto.c: one request in xenstored's wire format from client c;
 * the reply goes out through c's sink. */
void sxen_xs_handle(struct sxen_xs_client *c, const struct sxen_xs_hdr *h,
		    const uint8_t *payload);

/* ------------------------------------------------------------ grants */
struct sxen_gnt_active {
	uint32_t frame;
	uint16_t rpins; /* read-only mappings */
	uint16_t wpins; /* writable mappings */
};

struct sxen_gnttab {
	uint32_t nr_frames;
	uint8_t *frames[SXEN_GNT_MAX_FRAMES];
	uint32_t nr_ents;
	struct sxen_gnt_active *act;
	uint64_t pins;
	uint64_t maps, unmaps, copies, refused;
	unsigned log_budget;
};

int sxen_gnt_setup(struct sxen_domain *d, const uint64_t *gfns, uint32_t n);
void sxen_gnt_fini(struct sxen_domain *d);
/* Map grant `ref` of domain d for dom0, as GNTTABOP_map_grant_ref. */
int sxen_gnt_map(struct sxen_domain *d, uint32_t ref, bool write,
		 uint8_t **page);
void sxen_gnt_unmap(struct sxen_domain *d, uint32_t ref, bool write);
/* GNTTABOP_copy with one side a grant of d: to_guest writes buf into the
 * granted page at off, else reads from it. */
int sxen_gnt_copy(struct sxen_domain *d, uint32_t ref, uint32_t off,
		  void *buf, uint32_t len, bool to_guest);

/* ------------------------------------------------------------ evtchn */
typedef void (*sxen_evtchn_fn)(void *arg);

struct sxen_evtchn {
	bool used;
	bool bound;
	uint16_t remote;
	uint32_t gen;
	int send_fd; /* guest writes, we read: the guest's EVTCHNOP_send */
	int up_fd;   /* we write: the upcall */
	sxen_evtchn_fn fn;
	void *arg;
	uint64_t kicks, notifies;
};

int sxen_evtchn_alloc(struct sxen_domain *d, uint32_t remote, uint32_t *port,
		      int fds[2]);
int sxen_evtchn_close(struct sxen_domain *d, uint32_t port);
/* EVTCHNOP_bind_interdomain from dom0 to d's unbound `port`. */
int sxen_evtchn_bind(struct sxen_domain *d, uint32_t port, sxen_evtchn_fn fn,
		     void *arg, uint32_t *gen);
void sxen_evtchn_unbind(struct sxen_domain *d, uint32_t port, uint32_t gen);
/* EVTCHNOP_send from dom0; false if the port is no longer ours. */
bool sxen_evtchn_notify(struct sxen_domain *d, uint32_t port, uint32_t gen);
void sxen_evtchn_fini(struct sxen_domain *d);

/* ------------------------------------------------------------ config */
enum {
	SXEN_CORRUPT_ID = 1,
	SXEN_CORRUPT_STATUS = 2,
	SXEN_CORRUPT_OP = 4,
	SXEN_CORRUPT_RSP_PROD = 8,
	SXEN_CORRUPT_RX_STATUS = 16,
	SXEN_CORRUPT_RX_OFFSET = 32,
};

struct sxen_faults {
	uint32_t delay_ms;      /* hold each response this long */
	uint32_t drop;          /* lose this many next responses */
	uint32_t corrupt;       /* SXEN_CORRUPT_* for the next response */
	uint32_t closing_delay_ms; /* Linux blkback's slow Closing */
};

enum { SXEN_KIND_VBD = 1, SXEN_KIND_VIF = 2 };

struct sxen_vbd_cfg {
	uint32_t devid;
	char *path;
	int fd;
	bool ro, cdrom, is_blockdev;
	unsigned sector_size;
	unsigned queues;
	unsigned max_order;
	bool persistent, indirect, discard, flush;
	unsigned discard_granularity;
	struct sxen_faults f;
	bool suspended;          /* ctl suspend: no (re)connect until resume */
	struct sxen_blkback *bb; /* attached back end, or NULL */
};

enum { SXEN_VIF_REFLECT = 0, SXEN_VIF_BRIDGE = 1 };

struct sxen_vif_cfg {
	uint32_t devid;
	uint8_t mac[6];
	unsigned mtu;
	bool mtu_set;
	unsigned queues;
	int mode;
	char bridge[16];
	bool split;       /* advertise feature-split-event-channels */
	bool lax_rx_copy; /* connect without request-rx-copy (Linux >= 3.16) */
	bool link;        /* carrier */
	struct sxen_faults f;
	bool suspended;          /* ctl suspend: no (re)connect until resume */
	struct sxen_netback *nb; /* attached back end, or NULL */
};

/* ------------------------------------------------------------ host */
struct sxen_host {
	struct sim_loop *loop;
	const char *path;
	int lfd;
	struct sxen_store *xs;
	struct sxen_xs_client *tool; /* the toolstack: dom0, privileged */
	uint64_t deferred_timer;
	struct sxen_conn *conns;
	struct sxen_domain *domains;
	uint16_t next_domid;
	struct sxen_vbd_cfg *vbd;
	unsigned nvbd;
	struct sxen_vif_cfg *vif;
	unsigned nvif;
	uint32_t closing_delay_ms;
	bool stopping;
};

struct sxen_domain {
	struct sxen_host *h;
	uint16_t domid;
	char name[33];
	struct sxen_conn *conn; /* its hostif connection */
	struct sim_mem mem;
	struct sxen_gnttab gt;
	struct sxen_evtchn *ports; /* [SXEN_EVTCHN_MAX + 1], port 0 unused */
	unsigned nxs;              /* xenstore connections handed out */
	bool dying;
	struct sxen_domain *next;
};

/* Host pointer of guest frame gfn (one whole page), or NULL. */
static inline uint8_t *sxen_gfn_ptr(struct sxen_domain *d, uint64_t gfn)
{
	if (gfn > (UINT64_MAX >> SXEN_PAGE_SHIFT))
		return NULL;
	return sim_mem_ptr(&d->mem, gfn << SXEN_PAGE_SHIFT, SXEN_PAGE_SIZE);
}

/* conn.c */
int sxen_conn_accept(struct sxen_host *h, int fd);
struct sxen_conn *sxen_conn_new_xs(struct sxen_host *h, int fd,
				   struct sxen_domain *d);
void sxen_conn_close(struct sxen_conn *c, const char *why);
void sxen_conn_close_domain_xs(struct sxen_host *h, struct sxen_domain *d);
int sxen_conn_reply(struct sxen_conn *c, const struct sim_hostif_hdr *req,
		    int32_t status, const void *extra, size_t len,
		    const int *fds, int nfds);
void sxen_conn_free_all(struct sxen_host *h);

/* domain.c */
struct sxen_domain *sxen_domain_create(struct sxen_host *h,
				       struct sxen_conn *c, const char *name);
void sxen_domain_destroy(struct sxen_domain *d);
/* One hostif request of a guest.  Returns 0, or -EPROTO if the message is
 * malformed (the caller disconnects).  Takes the fds it uses and sets
 * their slot to -1. */
int sxen_domain_request(struct sxen_domain *d, struct sxen_conn *c,
			const struct sim_hostif_hdr *hdr,
			const uint8_t *payload, int *fds, int nfds);
struct sxen_domain *sxen_domain_find(struct sxen_host *h, uint16_t domid);
int sxen_device_attach(struct sxen_domain *d, int kind, uint32_t devid);
int sxen_device_detach(struct sxen_domain *d, int kind, uint32_t devid);
/* ctl "unplug": the toolstack asks the back end to close (xl *-detach). */
int sxen_device_unplug(struct sxen_host *h, int kind, uint32_t devid);
/* A back end unregistered itself: the toolstack removes its directories. */
void sxen_device_gone(struct sxen_domain *d, int kind, uint32_t devid);

/* main.c / ctl.c */
void sxen_ctl(struct sxen_host *h, const char *cmd, char *out, size_t outlen,
	      int *status);
void sxen_ctl_help(FILE *f);
void sxen_kick_deferred(void *arg);

/* ------------------------------------------------------------ xenbus */
struct sxen_xbdev;
typedef void (*sxen_xb_changed_fn)(struct sxen_xbdev *x, int fe_state);
typedef void (*sxen_xb_watch_fn)(struct sxen_xbdev *x, const char *path);

struct sxen_xbdev {
	struct sxen_host *h;
	struct sxen_domain *dom;
	struct sxen_xs_client *xs; /* this device's own dom0 client */
	char type[8];
	uint32_t devid;
	char fe[96]; /* /local/domain/<domid>/device/<type>/<devid> */
	char be[96]; /* /local/domain/0/backend/<type>/<domid>/<devid> */
	int state;   /* what we last switched to */
	sxen_xb_changed_fn changed;
	sxen_xb_watch_fn watch_fn; /* other watches this device set */
	void *priv;
	unsigned log_budget;
};

int sxen_xb_init(struct sxen_xbdev *x, struct sxen_host *h,
		 struct sxen_domain *d, const char *type, uint32_t devid,
		 sxen_xb_changed_fn changed, sxen_xb_watch_fn watch_fn,
		 void *priv);
void sxen_xb_fini(struct sxen_xbdev *x);
int sxen_xb_watch(struct sxen_xbdev *x, const char *path);
void sxen_xb_unwatch(struct sxen_xbdev *x, const char *path);
void sxen_xb_switch(struct sxen_xbdev *x, int state);
void sxen_xb_fatal(struct sxen_xbdev *x, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sxen_xb_fe_state(struct sxen_xbdev *x);
/* Read dir/key as an unsigned decimal (as xenbus_scanf "%u"): -ENOENT if
 * absent, -EINVAL if not a number. */
int sxen_xb_read_uint(struct sxen_xbdev *x, const char *dir, const char *key,
		      unsigned long long *v);
unsigned long long sxen_xb_read_uint_def(struct sxen_xbdev *x,
					 const char *dir, const char *key,
					 unsigned long long def);
/* Malloc'd, NUL-terminated, or NULL. */
char *sxen_xb_read_str(struct sxen_xbdev *x, const char *dir, const char *key);
int sxen_xb_printf(struct sxen_xbdev *x, uint32_t tx, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool sxen_xb_online(struct sxen_xbdev *x);
const char *sxen_xb_state_name(int s);

/* ------------------------------------------------------------ back ends */
struct sxen_domain *sxen_blkback_domain(struct sxen_blkback *bb);
struct sxen_domain *sxen_netback_domain(struct sxen_netback *nb);
int sxen_blkback_probe(struct sxen_host *h, struct sxen_domain *d,
		       struct sxen_vbd_cfg *cfg);
/* Disconnect, switch to Closed and free (the device goes away). */
void sxen_blkback_remove(struct sxen_blkback *bb);
void sxen_blkback_close(struct sxen_blkback *bb); /* ctl "close" */
/* ctl "suspend" / "resume": the domain's save and restore as the back end
 * sees it - it stops serving at once (requests not yet answered never
 * are), goes Closing and then Closed, and connects again only after
 * resume. */
void sxen_blkback_suspend(struct sxen_blkback *bb);
void sxen_blkback_resume(struct sxen_blkback *bb);
void sxen_blkback_unplug(struct sxen_blkback *bb);
int sxen_blkback_resize(struct sxen_blkback *bb);
void sxen_blkback_faults_changed(struct sxen_blkback *bb);
void sxen_blkback_status(struct sxen_blkback *bb, char *out, size_t len);

int sxen_netback_probe(struct sxen_host *h, struct sxen_domain *d,
		       struct sxen_vif_cfg *cfg);
void sxen_netback_remove(struct sxen_netback *nb);
void sxen_netback_close(struct sxen_netback *nb);
void sxen_netback_suspend(struct sxen_netback *nb);
void sxen_netback_resume(struct sxen_netback *nb);
void sxen_netback_unplug(struct sxen_netback *nb);
void sxen_netback_set_link(struct sxen_netback *nb, bool up);
void sxen_netback_faults_changed(struct sxen_netback *nb);
void sxen_netback_status(struct sxen_netback *nb, char *out, size_t len);

/* ------------------------------------------------------------ rings */
/* Loads and stores of the shared ring indexes: single accesses with the
 * ordering io/ring.h asks for. */
static inline uint32_t sxen_load_acq(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void sxen_store_rel(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline void sxen_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* A ring spread over up to 16 granted pages that are not contiguous in
 * our address space: slots are copied in and out piecewise. */
struct sxen_ring {
	uint8_t *pg[16];
	uint32_t npages;
	uint32_t entry;  /* slot size */
	uint32_t nr_ents;
	uint32_t req_cons;
	uint32_t rsp_prod_pvt;
};

static inline struct sxen_sring_hdr *sxen_ring_hdr(struct sxen_ring *r)
{
	return (struct sxen_sring_hdr *)r->pg[0];
}
void sxen_ring_init(struct sxen_ring *r, uint8_t **pages, uint32_t npages,
		    uint32_t entry);
void sxen_ring_get(struct sxen_ring *r, uint32_t idx, void *dst, uint32_t len);
void sxen_ring_put(struct sxen_ring *r, uint32_t idx, const void *src,
		   uint32_t len);
/* RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: true if the peer wants a kick. */
bool sxen_ring_push_responses(struct sxen_ring *r);
/* Publish rsp_prod as `value` without the notify logic (faults). */
void sxen_ring_set_rsp_prod(struct sxen_ring *r, uint32_t value);
/* RING_FINAL_CHECK_FOR_REQUESTS: true if more requests arrived. */
bool sxen_ring_final_check(struct sxen_ring *r);
/* Unconsumed requests, or UINT32_MAX if the front end published more
 * than the ring holds (req_prod - rsp_prod_pvt > nr_ents). */
uint32_t sxen_ring_pending(struct sxen_ring *r, uint32_t *req_prod);

/* ------------------------------------------------------------ netpkt.c */
/* Frames moving through the simulated bridge. */
enum { SXEN_CSUM_NONE = 0, SXEN_CSUM_PARTIAL = 1, SXEN_CSUM_VALIDATED = 2 };

struct sxen_frame {
	struct sxen_frame *next;
	uint32_t len;
	uint16_t gso_size;
	uint8_t gso_type;   /* SNET_GSO_TYPE_* */
	uint8_t csum;       /* SXEN_CSUM_* */
	uint16_t csum_start; /* PARTIAL: L4 header offset */
	uint16_t csum_off;   /* PARTIAL: checksum field offset in L4 */
	uint8_t l3;          /* 4 or 6 when PARTIAL */
	uint64_t due;        /* delivery not before (delay fault) */
	uint8_t data[];
};

struct sxen_frame *sxen_frame_new(uint32_t len);
/* Find the L4 checksum of a TCP/UDP over IPv4/IPv6 frame (as Linux's
 * skb_checksum_setup): 0, or -EPROTO if it has none.  l3 = 4 or 6. */
int sxen_pkt_csum_setup(const uint8_t *p, uint32_t len, uint16_t *start,
			uint16_t *off, int *l3, int *l4proto);
/* Store the pseudo-header sum at the checksum field (what a Linux
 * CHECKSUM_PARTIAL packet carries). */
int sxen_pkt_pseudo_csum(uint8_t *p, uint32_t len);
/* Complete a PARTIAL checksum in place (skb_checksum_help): the field
 * holds the pseudo-header sum, the result covers the L4 segment. */
int sxen_pkt_csum_complete(uint8_t *p, uint32_t len);
/* Software GSO of a TCP frame into MSS-sized frames with full checksums;
 * returns a list or NULL (malformed). */
struct sxen_frame *sxen_pkt_segment(const struct sxen_frame *f);
uint16_t sxen_csum_fold(uint32_t sum);
uint32_t sxen_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);

#endif /* PVIO_SIM_XEN_SXEN_H */
