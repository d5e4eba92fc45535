/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/evtchn.c - a guest's event channels.
 *
 * EVTCHN_ALLOC_UNBOUND gives the guest two eventfds per port: the guest
 * writes the first to notify the remote end (EVTCHNOP_send) and reads the
 * second, which we write, as its upcall.  dom0's back ends bind to the
 * port the way bind_interdomain does: only an unbound port allocated for
 * remote domain 0.  A port the guest closes is simply gone for the back
 * end: its later notifications are dropped (Xen returns an error to it).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sxen.h"

static void on_send(struct sim_loop *l, int fd, uint32_t events, void *arg)
{
	struct sxen_evtchn *ch = arg;
	(void)l;
	(void)events;
	if (!sim_eventfd_drain(fd))
		return;
	ch->kicks++;
	if (ch->bound && ch->fn)
		ch->fn(ch->arg);
}

static void port_release(struct sxen_domain *d, struct sxen_evtchn *ch)
{
	if (ch->send_fd >= 0) {
		sim_loop_del(d->h->loop, ch->send_fd);
		close(ch->send_fd);
	}
	if (ch->up_fd >= 0)
		close(ch->up_fd);
	ch->send_fd = ch->up_fd = -1;
	ch->used = ch->bound = false;
	ch->fn = NULL;
	ch->arg = NULL;
}

int sxen_evtchn_alloc(struct sxen_domain *d, uint32_t remote, uint32_t *port,
		      int fds[2])
{
	if (remote == SXEN_DOMID_SELF)
		remote = d->domid;
	else if (remote >= SXEN_DOMID_SELF)
		return -EINVAL;
	if (!d->ports) {
		d->ports = calloc(SXEN_EVTCHN_MAX + 1, sizeof(*d->ports));
		if (!d->ports)
			return -ENOMEM;
		for (unsigned i = 0; i <= SXEN_EVTCHN_MAX; i++)
			d->ports[i].send_fd = d->ports[i].up_fd = -1;
	}
	uint32_t p;
	for (p = 1; p <= SXEN_EVTCHN_MAX && d->ports[p].used; p++)
		;
	if (p > SXEN_EVTCHN_MAX)
		return -ENOSPC;
	struct sxen_evtchn *ch = &d->ports[p];
	int s = sim_eventfd(), u = sim_eventfd();
	if (s < 0 || u < 0) {
		if (s >= 0)
			close(s);
		if (u >= 0)
			close(u);
		return s < 0 ? s : u;
	}
	int r = sim_loop_add(d->h->loop, s, EPOLLIN, on_send, ch);
	if (r < 0) {
		close(s);
		close(u);
		return r;
	}
	ch->used = true;
	ch->bound = false;
	ch->remote = (uint16_t)remote;
	ch->gen++;
	ch->send_fd = s;
	ch->up_fd = u;
	ch->kicks = ch->notifies = 0;
	*port = p;
	fds[0] = s;
	fds[1] = u;
	return 0;
}

static struct sxen_evtchn *port_get(struct sxen_domain *d, uint32_t port)
{
	if (!d->ports || port < 1 || port > SXEN_EVTCHN_MAX ||
	    !d->ports[port].used)
		return NULL;
	return &d->ports[port];
}

int sxen_evtchn_close(struct sxen_domain *d, uint32_t port)
{
	struct sxen_evtchn *ch = port_get(d, port);
	if (!ch)
		return -EINVAL;
	port_release(d, ch);
	return 0;
}

int sxen_evtchn_bind(struct sxen_domain *d, uint32_t port, sxen_evtchn_fn fn,
		     void *arg, uint32_t *gen)
{
	struct sxen_evtchn *ch = port_get(d, port);
	if (!ch || ch->bound || ch->remote != 0)
		return -EINVAL;
	ch->bound = true;
	ch->fn = fn;
	ch->arg = arg;
	*gen = ch->gen;
	return 0;
}

void sxen_evtchn_unbind(struct sxen_domain *d, uint32_t port, uint32_t gen)
{
	struct sxen_evtchn *ch = port_get(d, port);
	if (!ch || ch->gen != gen)
		return;
	ch->bound = false;
	ch->fn = NULL;
	ch->arg = NULL;
}

bool sxen_evtchn_notify(struct sxen_domain *d, uint32_t port, uint32_t gen)
{
	struct sxen_evtchn *ch = port_get(d, port);
	if (!ch || ch->gen != gen || !ch->bound)
		return false;
	ch->notifies++;
	sim_eventfd_signal(ch->up_fd);
	return true;
}

void sxen_evtchn_fini(struct sxen_domain *d)
{
	if (!d->ports)
		return;
	for (unsigned i = 1; i <= SXEN_EVTCHN_MAX; i++)
		if (d->ports[i].used)
			port_release(d, &d->ports[i]);
	free(d->ports);
	d->ports = NULL;
}
