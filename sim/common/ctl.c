/* SPDX-License-Identifier: MIT */
/*
 * sim/common/ctl.c - `pvio sim ctl SOCKET COMMAND...`: send one SIM_CTL
 * command to a running simulated host over a management connection and
 * print its reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

static int request(int fd, uint16_t type, uint32_t seq, const void *p,
		   size_t len, struct sim_hostif_msg *reply)
{
	int r = sim_hostif_send(fd, type, 0, seq, p, len);
	if (r < 0)
		return r;
	for (;;) {
		r = sim_hostif_recv(fd, reply);
		if (r <= 0)
			return r ? r : -ECONNRESET;
		sim_hostif_msg_close_fds(reply);
		if ((reply->hdr.flags & SIM_HOSTIF_F_REPLY) &&
		    reply->hdr.seq == seq)
			break;
	}
	if (reply->hdr.len < 4)
		return -EPROTO;
	int32_t st;
	memcpy(&st, reply->payload, 4);
	return st;
}

int sim_ctl_main(int argc, char **argv)
{
	static struct sim_hostif_msg reply;
	char cmd[1024] = "";

	if (argc < 3) {
		fprintf(stderr, "usage: pvio sim ctl SOCKET COMMAND [ARGS...]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strlen(cmd) + strlen(argv[i]) + 2 > sizeof(cmd)) {
			fprintf(stderr, "pvio sim ctl: command too long\n");
			return 2;
		}
		if (i > 2)
			strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	int fd = sim_connect_unix(argv[1]);
	if (fd < 0) {
		fprintf(stderr,
			"pvio sim ctl: cannot connect to %s: %s; is the "
			"simulated host running?\n",
			argv[1], strerror(-fd));
		return 1;
	}
	struct {
		uint32_t version, role;
		char name[32];
	} hello = { 1, 1, "pvio-sim-ctl" };
	int r = request(fd, SIM_HOSTIF_HELLO, 1, &hello, sizeof(hello), &reply);
	if (r < 0) {
		fprintf(stderr, "pvio sim ctl: %s refused the management "
				"connection: %s\n",
			argv[1], strerror(-r));
		close(fd);
		return 1;
	}
	r = request(fd, SIM_HOSTIF_SIM_CTL, 2, cmd, strlen(cmd) + 1, &reply);
	close(fd);
	if (reply.hdr.len > 4) {
		reply.payload[reply.hdr.len < SIM_HOSTIF_MAX_PAYLOAD
				      ? reply.hdr.len
				      : SIM_HOSTIF_MAX_PAYLOAD - 1] = 0;
		const char *text = (const char *)reply.payload + 4;
		size_t tl = strlen(text);
		fputs(text, r < 0 ? stderr : stdout);
		/* the reply is NUL-terminated: look at its last character */
		if (tl && text[tl - 1] != '\n')
			fputc('\n', r < 0 ? stderr : stdout);
	}
	if (r < 0) {
		if (reply.hdr.len <= 4)
			fprintf(stderr, "pvio sim ctl: '%s' failed: %s\n", cmd,
				strerror(-r));
		return 1;
	}
	return 0;
}
