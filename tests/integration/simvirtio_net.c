/* SPDX-License-Identifier: MIT */
/*
 * `pvio sim virtio --net` driven by the scripted vhost-user front end:
 * config space, reflect and switch modes, merged RX buffers, checksum
 * offload (passed on or completed in software), link changes with
 * CONFIG_CHANGE on the back-end channel, back-pressure when no RX buffer
 * is posted, the control queue, and strictness (bad frames dropped and
 * counted, malformed TX/RX buffers stop the queue).  DPDK's virtio-user
 * exercises the same device in simvirtio_dpdk.sh.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "simvirtio_client.h"

#define QSIZE 32

struct port {
	struct svt_vu v;
	struct svt_q rx, tx, ctrl;
	int backend;          /* our end of the back-end request channel */
	unsigned hl;          /* virtio-net header length */
};

struct net {
	struct svt_sim sim;
	char ctl[128];
	struct port p[2];
};

static const uint64_t want_pf = 1ull << VU_PF_MQ | 1ull << VU_PF_REPLY_ACK |
				1ull << VU_PF_CONFIG | 1ull << VU_PF_STATUS |
				1ull << VU_PF_BACKEND_REQ;

static void start2(struct net *n, const char *a, const char *b)
{
	const char *args[] = { "--net", a, "--ctl", "@/ctl.sock", NULL, NULL, NULL };
	if (b) {
		args[2] = "--net";
		args[3] = b;
		args[4] = "--ctl";
		args[5] = "@/ctl.sock";
	}
	ck_assert_int_eq(svt_sim_start(&n->sim, b ? 2 : 1, args), 0);
	svt_path(&n->sim, "ctl.sock", n->ctl, sizeof(n->ctl));
}

static void port_open(struct net *n, struct port *p, const char *sock,
		      uint64_t want, bool ctrl)
{
	char path[128];
	ck_assert_int_eq(svt_vu_connect(&p->v, svt_path(&n->sim, sock, path,
							sizeof(path))), 0);
	want |= 1ull << VIRTIO_F_VERSION_1;
	ck_assert_int_eq(svt_vu_negotiate(&p->v, want, want_pf, 8u << 20), 0);
	p->hl = sizeof(struct virtio_net_hdr_v1);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(svt_vu_send(&p->v, VU_SET_BACKEND_REQ_FD, VU_FLAG_VERSION,
				     NULL, 0, &sv[1], 1), 0);
	close(sv[1]);
	p->backend = sv[0];
	ck_assert_int_eq(svt_q_setup(&p->v, &p->rx, 0, QSIZE), 0);
	ck_assert_int_eq(svt_q_setup(&p->v, &p->tx, 1, QSIZE), 0);
	if (ctrl)
		ck_assert_int_eq(svt_q_setup(&p->v, &p->ctrl,
					     p->v.acked & 1ull << VIRTIO_NET_F_MQ ? 4 : 2,
					     QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(&p->v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_ACKNOWLEDGE |
						VIRTIO_CONFIG_S_DRIVER |
						VIRTIO_CONFIG_S_FEATURES_OK |
						VIRTIO_CONFIG_S_DRIVER_OK,
					true), 0);
}

static void port_close(struct port *p)
{
	svt_vu_close(&p->v);
	close(p->backend);
}

static void finish(struct net *n)
{
	ck_assert_int_eq(svt_sim_stop(&n->sim), 0);
}

/* post `count` RX buffers of len bytes */
static void post_rx(struct port *p, unsigned count, uint32_t len)
{
	for (unsigned i = 0; i < count; i++) {
		struct svt_buf b = { svt_alloc(&p->v, len, 64), len, true };
		ck_assert_int_ge(svt_q_add(&p->rx, &b, 1, false), 0);
	}
	svt_q_kick(&p->rx);
}

/* send a frame with header h (NULL: zero) in two descriptors */
static int send_frame(struct port *p, const struct virtio_net_hdr_v1 *h,
		      const void *frame, uint32_t len)
{
	struct virtio_net_hdr_v1 *hd = svt_alloc(&p->v, p->hl, 16);
	void *fb = svt_alloc(&p->v, len ? len : 1, 64);
	if (h)
		memcpy(hd, h, p->hl);
	memcpy(fb, frame, len);
	struct svt_buf b[2] = { { hd, p->hl, false }, { fb, len, false } };
	int id = svt_q_add(&p->tx, b, 2, false);
	ck_assert_int_ge(id, 0);
	svt_q_kick(&p->tx);
	return id;
}

static void *rx_buffer(struct port *p, uint32_t id)
{
	if (p->rx.packed)
		return (void *)(uintptr_t)p->rx.pd[id].addr;
	return (void *)(uintptr_t)p->rx.vr.desc[id].addr;
}

/* wait until `status` shows the TX queue of dev holding a frame back */
static bool tx_waiting(struct net *n, const char *dev)
{
	char out[4096], want[64];
	snprintf(want, sizeof(want), "vq1 split size %u started enabled waiting",
		 QSIZE);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(svt_ctl(n->ctl, "status", out, sizeof(out)), 0);
		char *at = strstr(out, dev);
		if (at && strstr(at, want))
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

static void make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	memset(f, 0xff, 6);                       /* broadcast */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;                             /* local experimental */
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* receive one frame: header copy, payload into out; returns its length */
static uint32_t recv_frame(struct port *p, struct virtio_net_hdr_v1 *h,
			   uint8_t *out, uint32_t max)
{
	uint32_t id, len, total = 0, nbuf = 1;
	for (uint32_t k = 0; k < nbuf; k++) {
		ck_assert_msg(svt_q_wait(&p->rx, &id, &len, SVT_TIMEOUT_MS),
			      "no frame received");
		uint8_t *b = rx_buffer(p, id);
		uint32_t skip = 0;
		if (k == 0) {
			memcpy(h, b, p->hl);
			skip = p->hl;
			if (p->v.acked & 1ull << VIRTIO_NET_F_MRG_RXBUF)
				nbuf = h->num_buffers;
			ck_assert_uint_ge(nbuf, 1);
		}
		ck_assert_uint_ge(len, skip);
		ck_assert_uint_le(total + len - skip, max);
		memcpy(out + total, b + skip, len - skip);
		total += len - skip;
	}
	return total;
}

static void wait_tx(struct port *p, int id)
{
	uint32_t gid, len;
	ck_assert_msg(svt_q_wait(&p->tx, &gid, &len, SVT_TIMEOUT_MS),
		      "TX buffer not completed");
	ck_assert_uint_eq(gid, (uint32_t)id);
	ck_assert_uint_eq(len, 0);
}

START_TEST(config_and_reflect)
{
	struct net n;
	start2(&n, "@/n.sock,mac=52:54:00:ab:cd:ef,mtu=9000", NULL);
	struct port *p = &n.p[0];
	port_open(&n, p, "n.sock", 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MTU |
					     1ull << VIRTIO_NET_F_STATUS, false);
	const uint64_t must = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MTU |
			      1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_CSUM |
			      1ull << VIRTIO_NET_F_GUEST_CSUM |
			      1ull << VIRTIO_NET_F_MRG_RXBUF |
			      1ull << VIRTIO_F_RING_PACKED;
	ck_assert_uint_eq(p->v.features & must, must);
	ck_assert(!(p->v.features & 1ull << VIRTIO_NET_F_HOST_TSO4));
	struct virtio_net_config cfg;
	ck_assert_int_eq(svt_get_config(&p->v, 0, sizeof(cfg), &cfg), 0);
	ck_assert_mem_eq(cfg.mac, "\x52\x54\x00\xab\xcd\xef", 6);
	ck_assert_uint_eq(cfg.status, VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(cfg.mtu, 9000);
	ck_assert_uint_eq(cfg.max_virtqueue_pairs, 1);

	post_rx(p, 4, 9100);
	uint8_t f[9014], got[9100];
	struct virtio_net_hdr_v1 h;
	for (unsigned size = 60; size <= 9014; size = size * 3 + 11) {
		make_frame(f, size, (uint8_t)size);
		int id = send_frame(p, NULL, f, size);
		wait_tx(p, id);
		ck_assert_uint_eq(recv_frame(p, &h, got, sizeof(got)), size);
		ck_assert_mem_eq(got, f, size);
		ck_assert_uint_eq(h.num_buffers, 1);
		ck_assert_uint_eq(h.flags, 0);
		post_rx(p, 1, 9100);
	}
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "tx_frames"), 5);
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "rx_frames"), 5);
	port_close(p);
	finish(&n);
}
END_TEST

START_TEST(merged_rx_buffers)
{
	struct net n;
	start2(&n, "@/n.sock", NULL);
	struct port *p = &n.p[0];
	port_open(&n, p, "n.sock", 1ull << VIRTIO_NET_F_MRG_RXBUF, false);
	post_rx(p, 12, 256);
	uint8_t f[1514], got[4096];
	struct virtio_net_hdr_v1 h;
	make_frame(f, 1000, 9);
	wait_tx(p, send_frame(p, NULL, f, 1000));
	ck_assert_uint_eq(recv_frame(p, &h, got, sizeof(got)), 1000);
	ck_assert_uint_eq(h.num_buffers, 4);   /* 12 + 1000 over 256-byte buffers */
	ck_assert_mem_eq(got, f, 1000);
	make_frame(f, 1514, 3);
	wait_tx(p, send_frame(p, NULL, f, 1514));
	ck_assert_uint_eq(recv_frame(p, &h, got, sizeof(got)), 1514);
	ck_assert_uint_eq(h.num_buffers, 6);
	ck_assert_mem_eq(got, f, 1514);
	/* a frame needing more buffers than posted waits, then arrives */
	make_frame(f, 1514, 4);
	int id = send_frame(p, NULL, f, 1514);
	uint32_t gid, len;
	ck_assert(tx_waiting(&n, "net0"));
	ck_assert_int_eq(svt_q_get(&p->tx, &gid, &len), 0);
	post_rx(p, 8, 256);
	wait_tx(p, id);
	ck_assert_uint_eq(recv_frame(p, &h, got, sizeof(got)), 1514);
	ck_assert_mem_eq(got, f, 1514);
	port_close(p);
	finish(&n);
}
END_TEST

/* a UDP/IPv4 frame whose checksum field holds the pseudo-header sum */
static uint32_t udp_frame(uint8_t *f, uint32_t payload)
{
	uint32_t len = 14 + 20 + 8 + payload;
	make_frame(f, len, 1);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14, *udp = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	udp[0] = 0x12, udp[1] = 0x34, udp[2] = 0x56, udp[3] = 0x78;
	udp[4] = (uint8_t)((8 + payload) >> 8);
	udp[5] = (uint8_t)(8 + payload);
	uint32_t sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 8 + payload;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	udp[6] = (uint8_t)(sum >> 8);   /* not complemented: partial */
	udp[7] = (uint8_t)sum;
	return len;
}

/* ones' complement sum of pseudo header + UDP datagram: 0xffff if right */
static uint16_t udp_verify(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14;
	uint32_t ulen = len - 34, sum = 0;
	for (int i = 12; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum += 17 + ulen;
	for (uint32_t i = 0; i < ulen; i += 2)
		sum += (uint32_t)f[34 + i] << 8 | (i + 1 < ulen ? f[35 + i] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

START_TEST(checksum_offload)
{
	struct net n;
	start2(&n, "@/a.sock,mode=switch:x", "@/b.sock,mode=switch:x");
	struct port *a = &n.p[0], *b = &n.p[1];
	/* b completes checksums itself (GUEST_CSUM), a does not */
	port_open(&n, a, "a.sock", 1ull << VIRTIO_NET_F_CSUM, false);
	port_open(&n, b, "b.sock",
		  1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM, false);
	post_rx(a, 4, 1600);
	post_rx(b, 4, 1600);
	uint8_t f[1514], got[1600];
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = 34, .csum_offset = 6 };
	struct virtio_net_hdr_v1 rh;
	uint32_t len = udp_frame(f, 333);
	ck_assert_uint_ne(udp_verify(f, len), 0xffff);
	/* a -> b: passed on as partial */
	wait_tx(a, send_frame(a, &h, f, len));
	ck_assert_uint_eq(recv_frame(b, &rh, got, sizeof(got)), len);
	ck_assert_uint_eq(rh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(rh.csum_start, 34);
	ck_assert_uint_eq(rh.csum_offset, 6);
	ck_assert_mem_eq(got, f, len);
	/* b -> a: completed by the device */
	wait_tx(b, send_frame(b, &h, f, len));
	ck_assert_uint_eq(recv_frame(a, &rh, got, sizeof(got)), len);
	ck_assert_uint_eq(rh.flags, 0);
	ck_assert_uint_eq(udp_verify(got, len), 0xffff);
	ck_assert_mem_eq(got, f, 40);
	ck_assert_mem_eq(got + 42, f + 42, len - 42);
	ck_assert_int_eq(svt_stat(n.ctl, "net1", "net", "tx_csum"), 1);
	/* NEEDS_CSUM outside the frame: dropped, counted, queue goes on */
	h.csum_start = (uint16_t)(len - 1);
	wait_tx(a, send_frame(a, &h, f, len));
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "drop_bad"), 1);
	ck_assert(svt_log_has(&n.sim, "lies outside the"));
	port_close(a);
	port_close(b);
	finish(&n);
}
END_TEST

START_TEST(switch_and_peer_loss)
{
	struct net n;
	start2(&n, "@/a.sock,mode=switch:lan", "@/b.sock,mode=switch:lan,packed=on");
	struct port *a = &n.p[0], *b = &n.p[1];
	port_open(&n, a, "a.sock", 1ull << VIRTIO_RING_F_EVENT_IDX, false);
	port_open(&n, b, "b.sock",
		  1ull << VIRTIO_F_RING_PACKED | 1ull << VIRTIO_RING_F_EVENT_IDX, false);
	ck_assert(b->rx.packed && !a->rx.packed);
	post_rx(a, 8, 1600);
	post_rx(b, 8, 1600);
	uint8_t f[1514], got[1600];
	struct virtio_net_hdr_v1 h;
	for (int i = 0; i < 20; i++) {
		struct port *from = i & 1 ? b : a, *to = i & 1 ? a : b;
		make_frame(f, 100 + (uint32_t)i, (uint8_t)i);
		wait_tx(from, send_frame(from, NULL, f, 100 + (uint32_t)i));
		ck_assert_uint_eq(recv_frame(to, &h, got, sizeof(got)), 100u + (uint32_t)i);
		ck_assert_mem_eq(got, f, 100u + (uint32_t)i);
		post_rx(to, 1, 1600);
	}
	/* nothing came back to the sender */
	uint32_t id, len;
	ck_assert_int_eq(svt_q_get(&a->rx, &id, &len), 0);
	ck_assert_int_eq(svt_q_get(&b->rx, &id, &len), 0);
	/* the peer goes away: frames are dropped, the sender never waits */
	port_close(b);
	for (int i = 0; i < 1000 && !svt_log_has(&n.sim, "net1: front end disconnected");
	     i++)
		poll(NULL, 0, 10);
	for (int i = 0; i < 3; i++)
		wait_tx(a, send_frame(a, NULL, f, 100));
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "drop_norx"), 3);
	port_close(a);
	finish(&n);
}
END_TEST

static bool wait_config_change(struct port *p)
{
	struct vu_hdr h;
	struct pollfd pf = { p->backend, POLLIN, 0 };
	if (poll(&pf, 1, SVT_TIMEOUT_MS) <= 0 ||
	    read(p->backend, &h, sizeof(h)) != (ssize_t)sizeof(h))
		return false;
	return h.request == 2 && h.size == 0 && (h.flags & 3) == 1;
}

START_TEST(link_down_up)
{
	struct net n;
	char out[512];
	start2(&n, "@/n.sock", NULL);
	struct port *p = &n.p[0];
	port_open(&n, p, "n.sock", 1ull << VIRTIO_NET_F_STATUS, false);
	post_rx(p, 4, 1600);
	ck_assert_int_eq(svt_ctl(n.ctl, "link net0 down", out, sizeof(out)), 0);
	ck_assert(wait_config_change(p));
	uint16_t st = 0xffff;
	ck_assert_int_eq(svt_get_config(&p->v, 6, 2, &st), 0);
	ck_assert_uint_eq(st, 0);
	uint8_t f[100], got[1600];
	make_frame(f, 100, 1);
	wait_tx(p, send_frame(p, NULL, f, 100));   /* consumed, dropped */
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "drop_link"), 1);
	uint32_t id, len;
	ck_assert_int_eq(svt_q_get(&p->rx, &id, &len), 0);
	ck_assert_int_eq(svt_ctl(n.ctl, "link net0 up", out, sizeof(out)), 0);
	ck_assert(wait_config_change(p));
	ck_assert_int_eq(svt_get_config(&p->v, 6, 2, &st), 0);
	ck_assert_uint_eq(st, VIRTIO_NET_S_LINK_UP);
	struct virtio_net_hdr_v1 h;
	wait_tx(p, send_frame(p, NULL, f, 100));
	ck_assert_uint_eq(recv_frame(p, &h, got, sizeof(got)), 100);
	ck_assert_int_lt(svt_ctl(n.ctl, "link net0 sideways", out, sizeof(out)), 0);
	ck_assert_int_lt(svt_ctl(n.ctl, "ioerr net0 1", out, sizeof(out)), 0);
	port_close(p);
	finish(&n);
}
END_TEST

START_TEST(backpressure_and_drop)
{
	struct net n;
	start2(&n, "@/w.sock", "@/d.sock,rxfull=drop");
	struct port *w = &n.p[0], *d = &n.p[1];
	port_open(&n, w, "w.sock", 0, false);
	port_open(&n, d, "d.sock", 0, false);
	uint8_t f[200], got[1600];
	struct virtio_net_hdr_v1 h;
	make_frame(f, 200, 5);
	/* wait mode: the TX buffer stays with the device until RX arrives */
	int id = send_frame(w, NULL, f, 200);
	ck_assert(tx_waiting(&n, "net0"));
	uint32_t gid, len;
	ck_assert_int_eq(svt_q_get(&w->tx, &gid, &len), 0);
	post_rx(w, 2, 1600);
	wait_tx(w, id);
	ck_assert_uint_eq(recv_frame(w, &h, got, sizeof(got)), 200);
	ck_assert_mem_eq(got, f, 200);
	/* drop mode: consumed and counted */
	wait_tx(d, send_frame(d, NULL, f, 200));
	ck_assert_int_eq(svt_stat(n.ctl, "net1", "net", "drop_full"), 1);
	port_close(w);
	port_close(d);
	finish(&n);
}
END_TEST

static uint8_t ctrl_cmd(struct port *p, uint8_t cls, uint8_t cmd,
			const void *data, uint32_t len)
{
	uint8_t *c = svt_alloc(&p->v, 2 + len, 8), *ack = svt_alloc(&p->v, 1, 1);
	c[0] = cls;
	c[1] = cmd;
	memcpy(c + 2, data, len);
	*ack = 0xee;
	struct svt_buf b[2] = { { c, 2 + len, false }, { ack, 1, true } };
	ck_assert_int_ge(svt_q_add(&p->ctrl, b, 2, false), 0);
	svt_q_kick(&p->ctrl);
	uint32_t id, l;
	ck_assert(svt_q_wait(&p->ctrl, &id, &l, SVT_TIMEOUT_MS));
	ck_assert_uint_eq(l, 1);
	return *ack;
}

START_TEST(control_queue_mq)
{
	struct net n;
	start2(&n, "@/n.sock,queues=2", NULL);
	struct port *p = &n.p[0];
	port_open(&n, p, "n.sock",
		  1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_MQ, true);
	uint64_t qn;
	ck_assert_int_eq(svt_vu_get_u64(&p->v, VU_GET_QUEUE_NUM, &qn), 0);
	ck_assert_uint_eq(qn, 2);
	uint16_t pairs = 2;
	ck_assert_uint_eq(ctrl_cmd(p, VIRTIO_NET_CTRL_MQ,
				   VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			  VIRTIO_NET_OK);
	pairs = 3;
	ck_assert_uint_eq(ctrl_cmd(p, VIRTIO_NET_CTRL_MQ,
				   VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			  VIRTIO_NET_ERR);
	uint8_t on = 1;
	ck_assert_uint_eq(ctrl_cmd(p, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
				   &on, 1), VIRTIO_NET_ERR);
	ck_assert(svt_log_has(&n.sim, "control command class 0 cmd 0"));
	port_close(p);
	finish(&n);
}
END_TEST

static bool needs_reset(struct port *p)
{
	uint64_t s = 0;
	for (int i = 0; i < 1000; i++) {
		if (svt_vu_get_u64(&p->v, VU_GET_STATUS, &s) < 0)
			return false;
		if (s & VIRTIO_CONFIG_S_NEEDS_RESET)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

START_TEST(strict_frames)
{
	struct net n;
	start2(&n, "@/n.sock", "@/m.sock,mrg_rxbuf=off");
	struct port *p = &n.p[0];
	port_open(&n, p, "n.sock", 0, false);
	post_rx(p, 8, 1600);
	uint8_t f[1600];
	make_frame(f, 1514, 1);
	struct virtio_net_hdr_v1 gso = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 };
	struct virtio_net_hdr_v1 csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	struct virtio_net_hdr_v1 dv = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	wait_tx(p, send_frame(p, NULL, f, 10));      /* runt */
	wait_tx(p, send_frame(p, &gso, f, 200));     /* GSO not offered */
	wait_tx(p, send_frame(p, &csum, f, 200));    /* CSUM not negotiated */
	wait_tx(p, send_frame(p, &dv, f, 200));      /* RX-only flag */
	make_frame(f, 1519, 1);
	wait_tx(p, send_frame(p, NULL, f, 1519));    /* > MTU + 18 */
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "drop_bad"), 5);
	ck_assert_int_eq(svt_stat(n.ctl, "net0", "net", "rx_frames"), 0);
	ck_assert(svt_log_has(&n.sim, "is too short"));
	ck_assert(svt_log_has(&n.sim, "no host segmentation offload"));
	ck_assert(svt_log_has(&n.sim, "CSUM was not negotiated"));
	ck_assert(svt_log_has(&n.sim, "exceeds MTU 1500"));
	/* a good frame still goes through */
	uint8_t got[1600];
	struct virtio_net_hdr_v1 h;
	wait_tx(p, send_frame(p, NULL, f, 1518));
	ck_assert_uint_eq(recv_frame(p, &h, got, sizeof(got)), 1518);
	/* a TX buffer the device could write: the queue stops */
	uint8_t *hd = svt_alloc(&p->v, 12, 16);
	struct svt_buf bad[2] = { { hd, 12, false }, { f, 100, true } };
	bad[1].p = svt_alloc(&p->v, 100, 16);
	svt_q_add(&p->tx, bad, 2, false);
	svt_q_kick(&p->tx);
	ck_assert(needs_reset(p));
	ck_assert(svt_log_has(&n.sim, "has device-writable descriptors"));
	port_close(p);

	/* without MRG_RXBUF an RX buffer must hold a whole frame */
	struct port *m = &n.p[1];
	port_open(&n, m, "m.sock", 1ull << VIRTIO_NET_F_MRG_RXBUF, false);
	ck_assert(!(m->v.acked & 1ull << VIRTIO_NET_F_MRG_RXBUF));
	post_rx(m, 2, 512);
	make_frame(f, 600, 2);
	wait_tx(m, send_frame(m, NULL, f, 600));
	ck_assert(needs_reset(m));
	ck_assert(svt_log_has(&n.sim, "cannot hold a 600-byte frame"));
	port_close(m);
	ck_assert(svt_sim_alive(&n.sim));
	finish(&n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simvirtio_net");
	TCase *tc = tcase_create("net");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, svt_suite_setup, svt_suite_teardown);
	tcase_add_test(tc, config_and_reflect);
	tcase_add_test(tc, merged_rx_buffers);
	tcase_add_test(tc, checksum_offload);
	tcase_add_test(tc, switch_and_peer_loss);
	tcase_add_test(tc, link_down_up);
	tcase_add_test(tc, backpressure_and_drop);
	tcase_add_test(tc, control_queue_mq);
	tcase_add_test(tc, strict_frames);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
