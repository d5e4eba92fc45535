/* SPDX-License-Identifier: MIT */
/* sim/common/hostif.c - framing of the sim hostif (docs/sim-hostif.md). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

int sim_hostif_recv(int sock, struct sim_hostif_msg *m)
{
	int nfds = 0;
	m->nfds = 0;
	ssize_t n = sim_recv_fds(sock, &m->hdr, sizeof(m->hdr), m->fds,
				 SIM_HOSTIF_MAX_FDS, &nfds);
	m->nfds = nfds;
	if (n <= 0)
		return (int)n;
	if (m->hdr.magic != SIM_HOSTIF_MAGIC ||
	    m->hdr.len > SIM_HOSTIF_MAX_PAYLOAD)
		return -EPROTO;
	if (m->hdr.len) {
		int more = 0;
		n = sim_recv_fds(sock, m->payload, m->hdr.len,
				 m->fds + m->nfds,
				 SIM_HOSTIF_MAX_FDS - m->nfds, &more);
		m->nfds += more;
		if (n <= 0)
			return n == 0 ? -EPROTO : (int)n;
	}
	return 1;
}

void sim_hostif_msg_close_fds(struct sim_hostif_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

int sim_hostif_reply(int sock, const struct sim_hostif_hdr *req,
		     int32_t status, const void *extra, size_t extra_len,
		     const int *fds, int nfds)
{
	uint8_t buf[sizeof(struct sim_hostif_hdr) + 4 + SIM_HOSTIF_MAX_PAYLOAD];
	struct sim_hostif_hdr h = {
		.magic = SIM_HOSTIF_MAGIC,
		.type = req->type,
		.flags = SIM_HOSTIF_F_REPLY,
		.seq = req->seq,
		.len = (uint32_t)(4 + extra_len),
	};
	if (extra_len > SIM_HOSTIF_MAX_PAYLOAD - 4)
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &status, 4);
	if (extra_len)
		memcpy(buf + sizeof(h) + 4, extra, extra_len);
	ssize_t n = sim_send_fds(sock, buf, sizeof(h) + 4 + extra_len, fds,
				 nfds);
	return n < 0 ? (int)n : 0;
}

int sim_hostif_send(int sock, uint16_t type, uint16_t flags, uint32_t seq,
		    const void *payload, size_t len)
{
	uint8_t buf[sizeof(struct sim_hostif_hdr) + SIM_HOSTIF_MAX_PAYLOAD];
	struct sim_hostif_hdr h = { SIM_HOSTIF_MAGIC, type, flags, seq,
				    (uint32_t)len };
	if (len > SIM_HOSTIF_MAX_PAYLOAD)
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	ssize_t n = sim_send_fds(sock, buf, sizeof(h) + len, NULL, 0);
	return n < 0 ? (int)n : 0;
}
