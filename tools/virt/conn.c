/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/conn.c - opening a libvirt connection within a time limit.
 *
 * virConnectOpen() blocks for as long as its transport does (a remote host
 * that drops packets, an ssh that waits): the open runs in a helper thread
 * and the caller waits for it with a deadline.  On a timeout the thread is
 * left behind (the command is about to exit) with its own heap state, so it
 * can finish late without touching anything freed.
 *
 * libvirt prints every error to stderr by default; pvio virt silences that
 * and reports one line of its own that quotes libvirt's message.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "tools/virt/virt.h"

static void silent(void *opaque, virErrorPtr e)
{
	(void)opaque, (void)e;
}

void virt_quiet_errors(void)
{
	virInitialize();
	virSetErrorFunc(NULL, silent);
	virt_quiet_xml_errors();
}

const char *virt_lverr(void)
{
	static __thread char line[512];
	const char *m = virGetLastErrorMessage();
	virt_printable(m ? m : "unknown libvirt error", line, sizeof(line));
	return line;
}

struct open_job {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	char *uri;
	bool ro;
	bool done;
	bool abandoned;
	virConnectPtr conn;
	char err[512];
};

static void job_free(struct open_job *j)
{
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cv);
	free(j->uri);
	free(j);
}

static void *open_thread(void *p)
{
	struct open_job *j = p;
	virSetErrorFunc(NULL, silent);
	virt_quiet_xml_errors(); /* libxml2's handlers are per thread */
	virConnectPtr c = j->ro ? virConnectOpenReadOnly(j->uri)
				: virConnectOpen(j->uri);
	pthread_mutex_lock(&j->lock);
	j->conn = c;
	if (!c)
		snprintf(j->err, sizeof(j->err), "%s", virt_lverr());
	j->done = true;
	bool abandoned = j->abandoned;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->lock);
	if (abandoned) {
		if (c)
			virConnectClose(c);
		job_free(j);
	}
	return NULL;
}

virConnectPtr virt_connect(const char *sub, const char *uri, bool ro,
			   double timeout_s)
{
	char pu[256];
	virt_quiet_errors();
	struct open_job *j = virt_calloc(1, sizeof(*j));
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	j->uri = virt_strdup(uri);
	j->ro = ro;
	pthread_t t;
	if (pthread_create(&t, NULL, open_thread, j)) {
		job_free(j);
		virt_fail(sub, "cannot start a thread to connect to %s",
			  virt_printable(uri, pu, sizeof(pu)));
		return NULL;
	}
	pthread_detach(t);
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)timeout_s;
	dl.tv_nsec += (long)((timeout_s - (double)(time_t)timeout_s) * 1e9);
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->lock);
	int r = 0;
	while (!j->done && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&j->cv, &j->lock, &dl);
	if (!j->done) {
		j->abandoned = true; /* the thread frees it */
		pthread_mutex_unlock(&j->lock);
		virt_fail(sub, "no answer from %s within %g s; is the host "
			  "reachable and its libvirt daemon running? "
			  "(--connect-timeout S)",
			  virt_printable(uri, pu, sizeof(pu)), timeout_s);
		return NULL;
	}
	pthread_mutex_unlock(&j->lock);
	virConnectPtr c = j->conn;
	if (!c)
		virt_fail(sub, "cannot connect to %s: %s; check the URI and "
			  "that its libvirt daemon runs",
			  virt_printable(uri, pu, sizeof(pu)), j->err);
	job_free(j);
	return c;
}
