/* SPDX-License-Identifier: MIT */
/* sim/common/loop.c - an epoll event loop with one-shot timers. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

struct sim_watch {
	int fd;
	int dead;
	sim_fd_cb cb;
	void *arg;
	struct sim_watch *next;
};

struct sim_timer {
	uint64_t id;
	uint64_t due;
	sim_timer_cb cb;
	void *arg;
	struct sim_timer *next;
};

struct sim_loop {
	int epfd;
	int sigfd;
	int stop;
	uint64_t next_timer_id;
	struct sim_watch *watches;
	struct sim_watch *dead;   /* deleted during a batch; freed after it */
	struct sim_timer *timers; /* sorted by due */
};

uint64_t sim_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct sim_loop *sim_loop_new(void)
{
	struct sim_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	if (l->epfd < 0 || l->sigfd < 0) {
		sim_loop_free(l);
		return NULL;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev);
	return l;
}

void sim_loop_free(struct sim_loop *l)
{
	if (!l)
		return;
	while (l->watches) {
		struct sim_watch *w = l->watches;
		l->watches = w->next;
		free(w);
	}
	while (l->dead) {
		struct sim_watch *w = l->dead;
		l->dead = w->next;
		free(w);
	}
	while (l->timers) {
		struct sim_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l);
}

int sim_loop_add(struct sim_loop *l, int fd, uint32_t events, sim_fd_cb cb,
		 void *arg)
{
	struct sim_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		free(w);
		return -e;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

static struct sim_watch *find_watch(struct sim_loop *l, int fd,
				    struct sim_watch ***link)
{
	for (struct sim_watch **p = &l->watches; *p; p = &(*p)->next)
		if ((*p)->fd == fd) {
			if (link)
				*link = p;
			return *p;
		}
	return NULL;
}

int sim_loop_mod(struct sim_loop *l, int fd, uint32_t events)
{
	struct sim_watch *w = find_watch(l, fd, NULL);
	if (!w)
		return -ENOENT;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void sim_loop_del(struct sim_loop *l, int fd)
{
	struct sim_watch **link;
	struct sim_watch *w = find_watch(l, fd, &link);
	if (!w)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = w->next;
	/* A callback may delete a watch whose event is already in the current
	 * epoll batch: keep it, marked dead, until the batch is over. */
	w->dead = 1;
	w->next = l->dead;
	l->dead = w;
}

uint64_t sim_loop_timer(struct sim_loop *l, uint64_t delay_ns, sim_timer_cb cb,
			void *arg)
{
	struct sim_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return 0;
	t->id = ++l->next_timer_id;
	t->due = sim_now_ns() + delay_ns;
	t->cb = cb;
	t->arg = arg;
	struct sim_timer **p = &l->timers;
	while (*p && (*p)->due <= t->due)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	return t->id;
}

void sim_loop_cancel(struct sim_loop *l, uint64_t id)
{
	for (struct sim_timer **p = &l->timers; *p; p = &(*p)->next)
		if ((*p)->id == id) {
			struct sim_timer *t = *p;
			*p = t->next;
			free(t);
			return;
		}
}

void sim_loop_stop(struct sim_loop *l)
{
	l->stop = 1;
}

static void run_timers(struct sim_loop *l)
{
	uint64_t now = sim_now_ns();
	while (l->timers && l->timers->due <= now) {
		struct sim_timer *t = l->timers;
		l->timers = t->next;
		t->cb(l, t->arg);
		free(t);
	}
}

int sim_loop_once(struct sim_loop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	if (l->timers) {
		uint64_t now = sim_now_ns();
		int64_t ms = l->timers->due > now
				     ? (int64_t)((l->timers->due - now + 999999) / 1000000)
				     : 0;
		if (timeout_ms < 0 || ms < timeout_ms)
			timeout_ms = (int)ms;
	}
	int n = epoll_wait(l->epfd, evs, 32, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !l->stop; i++) {
		struct sim_watch *w = evs[i].data.ptr;
		if (!w) {
			l->stop = 1; /* SIGINT / SIGTERM */
			break;
		}
		if (!w->dead)
			w->cb(l, w->fd, evs[i].events, w->arg);
	}
	while (l->dead) {
		struct sim_watch *w = l->dead;
		l->dead = w->next;
		free(w);
	}
	run_timers(l);
	return n;
}

int sim_loop_run(struct sim_loop *l)
{
	while (!l->stop) {
		int r = sim_loop_once(l, -1);
		if (r < 0)
			return r;
	}
	return 0;
}
