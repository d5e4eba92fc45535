/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/fakeuio.h - running a client (DPDK, testpmd, pvio) against
 * the uio door of `pvio sim hyperv --uio DIR`: the child process makes
 * itself a private mount namespace (unshare(CLONE_NEWNS), propagation
 * private), covers /sys/bus and /dev with tmpfs, binds every real entry
 * back, and binds DIR/vmbus on /sys/bus/vmbus and DIR/dev/uioN on
 * /dev/uioN.  Nothing is visible outside the namespace.  Needs root.
 *
 * Children are stopped by pid (SIGKILL after a bound: DPDK's NVSP waits
 * never time out), also when a test fails.
 */
#ifndef PVIO_TESTS_FAKEUIO_H
#define PVIO_TESTS_FAKEUIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct fu_child {
	pid_t pid;
	int in;            /* its stdin (write end), -1 if none */
	int out;           /* its stdout (read end) */
	char log[160];     /* its stderr */
	char buf[65536];   /* stdout read so far */
	size_t len, seen;
};

/* In a private mount namespace with DIR's fake devices: exec argv
 * (argv[0] a path), or run fn(arg) and exit with its result when argv is
 * NULL.  stdin/stdout are pipes to the caller.  0 or -errno. */
int fu_spawn(struct fu_child *c, const char *dir, unsigned nuio,
	     char *const argv[], int (*fn)(void *), void *arg);
/* Write a line to the child's stdin. */
int fu_say(struct fu_child *c, const char *line);
/* Wait (bounded by timeout_ms) for an output line starting with prefix
 * (after what earlier calls consumed); the line goes to out.  1 found,
 * 0 timeout or the child closed stdout. */
int fu_expect(struct fu_child *c, const char *prefix, char *out, size_t cap,
	      int timeout_ms);
/* Read the child's stdout (bounded by timeout_ms) until it closes it, as
 * a command that prints a report and exits does: 1 at its end, 0 on
 * timeout or when buf is full.  The text is in c->buf from c->seen on. */
int fu_drain(struct fu_child *c, int timeout_ms);
/* Wait (bounded) for exit: the exit code, or -1 (killed after the bound). */
int fu_wait(struct fu_child *c, int timeout_ms);
/* SIGKILL and reap (for failures). */
void fu_kill(struct fu_child *c);

/* Is this process allowed to do all of it (root, fanotify, mounts)? */
bool fu_can_run(char *why, size_t len);

#endif /* PVIO_TESTS_FAKEUIO_H */
