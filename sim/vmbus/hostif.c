/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/hostif.c - the sim hostif door (docs/sim-hostif.md, Hyper-V):
 * a unix socket whose guest connections are partitions and whose
 * management connections send SIM_CTL commands.
 *
 * POST_MESSAGE is HvPostMessage into the channel manager; its answers go
 * back as SYNIC_MESSAGEs, sent after the reply to the request that caused
 * them.  CHANNEL_EVENTS hands out a channel's two eventfds: the host
 * watches the signal fd (HvSignalEvent) and writes the interrupt fd when
 * it sets the channel's event flag.  A peer that breaks the framing is
 * disconnected with one log line; a guest that goes away takes its
 * partition with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vmbus/shv.h"

enum {
	T_POST_MESSAGE = 32,
	T_SYNIC_MESSAGE = 33,
	T_CHANNEL_EVENTS = 34,
};

#define IO_TIMEOUT_S 5
#define SYNIC_LEN (16u + SHV_MSG_PAYLOAD_MAX)
#define PENDING_MAX 512

struct conn {
	struct conn *next;
	struct hostif *hi;
	int fd;
	int role;                   /* -1 before HELLO, 0 guest, 1 manager */
	char name[33];
	struct shv_part *part;
	bool dead;
	bool in_request;
	uint32_t seq;
	unsigned npending;
	uint8_t (*pending)[SYNIC_LEN];
};

struct hostif {
	struct shv_host *h;
	int lfd;
	struct conn *conns;
	uint64_t reap_timer;
	struct sim_hostif_msg msg;  /* one request at a time */
};

struct hchan {
	int sig;
	int intr;
};

static void conn_close(struct conn *c);

/* --------------------------------------------------------------- door */
static void send_synic(struct conn *c, const uint8_t *m)
{
	if (c->dead)
		return;
	if (sim_hostif_send(c->fd, T_SYNIC_MESSAGE, SIM_HOSTIF_F_UNSOLICITED,
			    ++c->seq, m, SYNIC_LEN) < 0) {
		sim_log(SIM_LOG_WARN, "part %u: cannot write to the guest's "
			"socket; disconnecting", c->part ? c->part->id : 0);
		c->dead = true;
	}
}

static void reap(struct sim_loop *loop, void *arg)
{
	struct hostif *hi = arg;
	(void)loop;
	hi->reap_timer = 0;
	struct conn **pp = &hi->conns;
	while (*pp) {
		struct conn *c = *pp;
		if (c->dead && !c->in_request) {
			*pp = c->next;
			conn_close(c);
		} else {
			pp = &c->next;
		}
	}
}

static void mark_dead(struct conn *c)
{
	c->dead = true;
	if (!c->hi->reap_timer)
		c->hi->reap_timer = sim_loop_timer(c->hi->h->loop, 0, reap,
						   c->hi);
}

static void door_post(struct shv_part *p, const void *msg, uint32_t len)
{
	struct conn *c = p->door_priv;
	uint8_t m[SYNIC_LEN];
	if (!c || c->dead || len > SHV_MSG_PAYLOAD_MAX)
		return;
	memset(m, 0, sizeof(m));
	shv_put32(m, SHV_VMBUS_SINT);
	shv_put32(m + 4, 1);
	shv_put32(m + 8, len);
	memcpy(m + 16, msg, len);
	if (!c->in_request) {
		send_synic(c, m);
		if (c->dead)
			mark_dead(c);
		return;
	}
	if (c->npending == PENDING_MAX) {
		shv_warn("part %u: too many channel messages queued; guest "
			 "disconnected", p->id);
		mark_dead(c);
		return;
	}
	if (!c->pending) {
		c->pending = malloc(sizeof(*c->pending) * PENDING_MAX);
		if (!c->pending) {
			mark_dead(c);
			return;
		}
	}
	memcpy(c->pending[c->npending++], m, SYNIC_LEN);
}

static void door_interrupt(struct shv_part *p, struct shv_chan *ch)
{
	struct hchan *hc = ch->door_priv;
	(void)p;
	if (hc)
		sim_eventfd_signal(hc->intr);
}

static void door_chan_gone(struct shv_part *p, struct shv_chan *ch)
{
	struct hchan *hc = ch->door_priv;
	if (!hc)
		return;
	sim_loop_del(p->host->loop, hc->sig);
	close(hc->sig);
	close(hc->intr);
	free(hc);
	ch->door_priv = NULL;
}

static const struct shv_door_ops door_plain = {
	.name = "hostif",
	.post = door_post,
	.interrupt = door_interrupt,
	.chan_gone = door_chan_gone,
	.monitored = false,
};

static const struct shv_door_ops door_monitored = {
	.name = "hostif",
	.post = door_post,
	.interrupt = door_interrupt,
	.chan_gone = door_chan_gone,
	.monitored = true,
};

/* ------------------------------------------------------------ requests */
static void on_signal(struct sim_loop *loop, int fd, uint32_t ev, void *arg)
{
	(void)loop;
	(void)ev;
	shv_chan_signalled(arg, sim_eventfd_drain(fd));
}

static int channel_events(struct conn *c, uint32_t relid, int fds[2])
{
	struct shv_chan *ch = shv_part_chan(c->part, relid);
	if (!ch || ch->state == SHV_CH_RESCINDED)
		return -ENOENT;
	struct hchan *hc = ch->door_priv;
	if (!hc) {
		hc = calloc(1, sizeof(*hc));
		if (!hc)
			return -ENOMEM;
		hc->sig = sim_eventfd();
		hc->intr = sim_eventfd();
		if (hc->sig < 0 || hc->intr < 0 ||
		    sim_loop_add(c->hi->h->loop, hc->sig, EPOLLIN, on_signal,
				 ch) < 0) {
			if (hc->sig >= 0)
				close(hc->sig);
			if (hc->intr >= 0)
				close(hc->intr);
			free(hc);
			return -EMFILE;
		}
		ch->door_priv = hc;
	}
	fds[0] = hc->sig;
	fds[1] = hc->intr;
	return 0;
}

static int hello(struct conn *c, const struct sim_hostif_msg *m,
		 uint32_t *domain)
{
	if (m->hdr.len < 40)
		return -EPROTO;
	uint32_t ver = shv_get32(m->payload), role = shv_get32(m->payload + 4);
	memcpy(c->name, m->payload + 8, 32);
	c->name[32] = 0;
	for (char *q = c->name; *q; q++)
		if (*q < 32 || *q > 126)
			*q = '?';
	if (ver != 1)
		return -EPROTONOSUPPORT;
	if (role > 1)
		return -EINVAL;
	*domain = 0;
	if (role == 0) {
		struct shv_host *h = c->hi->h;
		c->part = shv_part_new(h, h->monitor ? &door_monitored
						     : &door_plain,
				       c, c->name);
		if (!c->part)
			return -EUSERS;
		*domain = c->part->id;
		sim_log(SIM_LOG_INFO, "part %u (%s): guest connected",
			c->part->id, c->name);
	}
	c->role = (int)role;
	return 0;
}

/* Returns false when the peer must be disconnected. */
static bool handle(struct conn *c, struct sim_hostif_msg *m)
{
	uint8_t extra[SIM_HOSTIF_MAX_PAYLOAD];
	size_t extra_len = 0;
	int fds[2], nfds = 0;
	int32_t st = 0;
	uint32_t len = m->hdr.len;
	const char *who = c->part ? "guest" : "peer";

	if (m->hdr.flags) {
		shv_warn("hostif: %s sent a message with flags %#x; "
			 "disconnected", who, m->hdr.flags);
		return false;
	}
	if (c->role < 0 && m->hdr.type != SIM_HOSTIF_HELLO) {
		shv_warn("hostif: first message is type %u, not HELLO; "
			 "disconnected", m->hdr.type);
		return false;
	}
	switch (m->hdr.type) {
	case SIM_HOSTIF_HELLO: {
		uint32_t dom = 0;
		if (c->role >= 0) {
			st = -EALREADY;
			break;
		}
		st = hello(c, m, &dom);
		if (st == -EPROTO) {
			shv_warn("hostif: HELLO of %u bytes; disconnected",
				 len);
			return false;
		}
		memcpy(extra, &dom, 4);
		extra_len = 4;
		break;
	}
	case SIM_HOSTIF_SET_MEMORY: {
		if (len < 24 || m->nfds != 1) {
			shv_warn("hostif: SET_MEMORY of %u bytes with %d fds; "
				 "disconnected", len, m->nfds);
			return false;
		}
		if (c->role != 0) {
			st = -EPERM;
			break;
		}
		st = sim_mem_add(&c->part->mem, shv_get64(m->payload),
				 shv_get64(m->payload + 8), m->fds[0],
				 shv_get64(m->payload + 16));
		if (st < 0)
			shv_warn("part %u: SET_MEMORY gpa %#llx size %#llx "
				 "refused: %s", c->part->id,
				 (unsigned long long)shv_get64(m->payload),
				 (unsigned long long)shv_get64(m->payload + 8),
				 strerror(-st));
		break;
	}
	case T_POST_MESSAGE: {
		if (len < 16) {
			shv_warn("hostif: POST_MESSAGE of %u bytes; "
				 "disconnected", len);
			return false;
		}
		uint32_t psize = shv_get32(m->payload + 8);
		if (psize <= SHV_MSG_PAYLOAD_MAX && len < 16 + psize) {
			shv_warn("hostif: POST_MESSAGE payload_size %u but %u "
				 "bytes; disconnected", psize, len);
			return false;
		}
		if (c->role != 0) {
			st = -EPERM;
			break;
		}
		uint32_t hv = shv_vmbus_post(c->part, shv_get32(m->payload),
					     shv_get32(m->payload + 4),
					     m->payload + 16, psize);
		memcpy(extra, &hv, 4);
		extra_len = 4;
		break;
	}
	case T_CHANNEL_EVENTS:
		if (len < 4) {
			shv_warn("hostif: CHANNEL_EVENTS of %u bytes; "
				 "disconnected", len);
			return false;
		}
		if (c->role != 0) {
			st = -EPERM;
			break;
		}
		st = channel_events(c, shv_get32(m->payload), fds);
		if (st == 0)
			nfds = 2;
		break;
	case SIM_HOSTIF_SIM_CTL: {
		if (c->role != 1) {
			st = -EPERM;
			break;
		}
		char cmd[SIM_HOSTIF_MAX_PAYLOAD + 1];
		memcpy(cmd, m->payload, len);
		cmd[len] = 0;
		st = shv_ctl(c->hi->h, cmd, (char *)extra, sizeof(extra) - 4);
		extra_len = strlen((char *)extra) + 1;
		break;
	}
	default:
		shv_warn("hostif: unknown message type %u; disconnected",
			 m->hdr.type);
		return false;
	}
	if (sim_hostif_reply(c->fd, &m->hdr, st, extra, extra_len, fds,
			     nfds) < 0)
		return false;
	return true;
}

static void on_conn(struct sim_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct conn *c = arg;
	struct sim_hostif_msg *m = &c->hi->msg;
	(void)loop;
	(void)ev;
	if (c->dead)
		return;
	int r = sim_hostif_recv(fd, m);
	if (r <= 0) {
		if (r == -EPROTO)
			shv_warn("hostif: malformed message (bad magic or "
				 "length above 4096); disconnected");
		else if (r < 0)
			shv_warn("hostif: read failed: %s; disconnected",
				 strerror(-r));
		sim_hostif_msg_close_fds(m);
		mark_dead(c);
		return;
	}
	c->in_request = true;
	bool ok = handle(c, m);
	sim_hostif_msg_close_fds(m);
	c->in_request = false;
	for (unsigned i = 0; i < c->npending && !c->dead; i++)
		send_synic(c, c->pending[i]);
	c->npending = 0;
	if (!ok || c->dead)
		mark_dead(c);
}

static void conn_close(struct conn *c)
{
	struct shv_host *h = c->hi->h;
	if (c->part) {
		sim_log(SIM_LOG_INFO, "part %u (%s): guest gone; partition torn "
			"down", c->part->id, c->name);
		shv_part_free(c->part);
	}
	sim_loop_del(h->loop, c->fd);
	close(c->fd);
	free(c->pending);
	free(c);
}

static void on_accept(struct sim_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct hostif *hi = arg;
	(void)ev;
	int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct conn *c = calloc(1, sizeof(*c));
	if (!c || sim_loop_add(loop, s, EPOLLIN, on_conn, c) < 0) {
		free(c);
		close(s);
		return;
	}
	c->hi = hi;
	c->fd = s;
	c->role = -1;
	c->next = hi->conns;
	hi->conns = c;
}

int shv_hostif_listen(struct shv_host *h, const char *path)
{
	struct hostif *hi = calloc(1, sizeof(*hi));
	if (!hi)
		return -ENOMEM;
	hi->h = h;
	hi->lfd = sim_listen_unix(path, 16);
	if (hi->lfd < 0) {
		int e = hi->lfd;
		free(hi);
		return e;
	}
	int r = sim_loop_add(h->loop, hi->lfd, EPOLLIN, on_accept, hi);
	if (r < 0) {
		close(hi->lfd);
		free(hi);
		return r;
	}
	snprintf(h->socket_path, sizeof(h->socket_path), "%s", path);
	h->hostif = hi;
	return 0;
}

void shv_hostif_close(struct shv_host *h)
{
	struct hostif *hi = h->hostif;
	if (!hi)
		return;
	while (hi->conns) {
		struct conn *c = hi->conns;
		hi->conns = c->next;
		conn_close(c);
	}
	if (hi->reap_timer)
		sim_loop_cancel(h->loop, hi->reap_timer);
	sim_loop_del(h->loop, hi->lfd);
	close(hi->lfd);
	unlink(h->socket_path);
	free(hi);
	h->hostif = NULL;
}
