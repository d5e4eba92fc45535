/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/peers.h - start and stop the real vhost-user peers the tests
 * talk to: qemu-storage-daemon (vhost-user-blk on a raw image) and
 * dpdk-testpmd (net_vhost in io forward mode).
 *
 * Each peer runs in its own temporary directory (socket, image, log).  It
 * is stopped by pid: peer_stop(), an atexit handler for peers still
 * running, and PR_SET_PDEATHSIG (SIGKILL) so that it also dies when the test
 * process is killed or _exit()s (Check's fork mode ends a failing test that
 * way; the temporary directory is then left behind).
 * Every wait is bounded.  No sleeps: readiness is the socket appearing in
 * LISTEN state (/proc/net/unix), observed with inotify on the directory.
 *
 * The commands are the ones shared/specs/virtio.md section 10 verified on
 * Debian 12.
 */
#ifndef PVIO_TESTS_PEERS_H
#define PVIO_TESTS_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct peer {
	pid_t pid;          /* 0 once stopped */
	char name[32];      /* "qemu-storage-daemon", "dpdk-testpmd" */
	char dir[256];      /* private temporary directory */
	char sock[300];     /* the vhost-user socket */
	char log[300];      /* the peer's stdout and stderr */
	char image[300];    /* qsd: the raw image */
	char prefix[64];    /* testpmd: DPDK file prefix */
	int status;         /* wait status once it exited */
	/* the command line, kept for peer_restart */
	char argbuf[2048];
	char *argv[24];
};

struct peer_qsd_opts {
	uint64_t image_size;    /* bytes (default 64 MiB) */
	unsigned num_queues;    /* 0: the daemon's default */
	bool read_only;
	unsigned logical_block_size; /* 0: default (512) */
};

struct peer_testpmd_opts {
	unsigned queues;        /* net_vhost queues (and testpmd rxq/txq) */
};

/* Start a peer; NULL with a message on stderr (and the peer's log) if it
 * did not come up within timeout_ms. */
struct peer *peer_qsd_start(const struct peer_qsd_opts *o, unsigned timeout_ms);
struct peer *peer_testpmd_start(const struct peer_testpmd_opts *o,
				unsigned timeout_ms);

/* Any other vhost-user back end: argv (NULL-terminated) in which "@SOCK@"
 * and "@DIR@" are replaced by the peer's socket path and directory, e.g.
 * pvio's simulated host: {"pvio", "sim", "virtio", "--blk",
 * "@SOCK@=@DIR@/disk.img,size=16M", NULL}. */
struct peer *peer_cmd_start(const char *name, const char *const argv[],
			    unsigned timeout_ms);

/* Send a signal (SIGSTOP, SIGKILL, ...) to the peer. */
int peer_signal(struct peer *p, int sig);
/* Wait (bounded) for the peer to exit by itself; 0 if it did. */
int peer_wait_exit(struct peer *p, unsigned timeout_ms);
/* Start the same command again (same directory, socket, image) after the
 * peer exited or was killed: a back end restarting.  0 or -errno. */
int peer_restart(struct peer *p, unsigned timeout_ms);
/* SIGTERM (SIGKILL after timeout_ms), reap, remove the directory, free.
 * Returns the peer's wait status, or -1. */
int peer_stop(struct peer *p, unsigned timeout_ms);

/* The last lines of the peer's log (static buffer), for messages. */
const char *peer_log_tail(const struct peer *p);

/* A private temporary directory (mkdtemp under $TMPDIR or /tmp); the
 * caller removes it with peer_rmtree. */
int peer_mkdtemp(char *out, size_t n);
void peer_rmtree(const char *dir);

/* "vhost-user:SOCK?class=..." into buf. */
const char *peer_address(const struct peer *p, const char *opts, char *buf,
			 size_t n);

#endif /* PVIO_TESTS_PEERS_H */
