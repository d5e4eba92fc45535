/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vmbus_ring.c - the VMBus ring buffer
 * (backends/vmbus/ring.c) with the host's side played by the fuzzer.
 *
 * Two rings in exact-size heap memory (so ASan sees any index the guest
 * follows out of range).  On the receive ring the host writes packets
 * with the independent host-side helpers of tests/unit/test_vmbus_host.h,
 * or writes anything: its write index (anywhere, backwards, unaligned),
 * descriptors with any offset8/len8, trailers, raw bytes.  On the send
 * ring the host reads the guest's packets (checking them strictly) or
 * moves its read index anywhere.  The guest reads into buffers of any
 * capacity, peeks, publishes, masks and unmasks, and writes packets of
 * any size.
 *
 * Properties: a packet read is a multiple of 8 bytes, at least a
 * descriptor, no larger than the buffer, and - while the host behaved -
 * exactly what the host wrote, in order; an honest host never makes the
 * ring report -EIO; every packet the guest writes is well-formed (the
 * host model's checks, trailers included) and comes out as written.
 */
#include "fuzz.h"

#include "backends/vmbus/vmbus.h"
#include "test_vmbus_host.h"

#define HDR_PAGE 4096u

struct sent {
	uint8_t data[512];
	uint32_t len;     /* padded */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint32_t dsize = 8u * (3 + fz_below(&f, 1024)); /* 24 .. 8208 bytes */
	uint32_t bytes = HDR_PAGE + dsize;
	uint8_t *rxm = calloc(1, bytes), *txm = calloc(1, bytes);
	FZ_ASSERT(rxm && txm, "calloc");
	struct vmbus_ring rx, tx;
	vmbus_ring_init(&rx, rxm, bytes);
	vmbus_ring_init(&tx, txm, bytes);
	vmbus_ring_setup(&rx);
	vmbus_ring_setup(&tx);
	struct hring hrx, htx;
	hr_init(&hrx, rxm, bytes);
	hr_init(&htx, txm, bytes);

	/* packets the host wrote and the guest has not read, in order */
	struct sent *q = calloc(64, sizeof(*q));
	FZ_ASSERT(q, "calloc");
	unsigned qh = 0, qn = 0;
	/* packets the guest wrote and the host has not read */
	struct sent *g = calloc(64, sizeof(*g));
	FZ_ASSERT(g, "calloc");
	unsigned gh = 0, gn = 0;
	bool hostile = false, rx_broken = false, tx_broken = false;
	uint8_t buf[600];

	for (unsigned step = 0; step < 400 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		switch (op % 9) {
		case 0: { /* host: a well-formed packet */
			uint8_t pkt[512];
			uint32_t plen = fz_below(&f, 200);
			uint8_t payload[200];
			fz_bytes(&f, payload, plen);
			uint32_t n = hp_build(pkt, (uint16_t)(6 + fz_below(&f, 6)),
					      fz_u16(&f), fz_u64(&f), NULL, 0,
					      payload, plen);
			if (hostile || qn == 64)
				break;
			if (hr_put(&hrx, pkt, n) >= 0) {
				memcpy(q[(qh + qn) % 64].data, pkt, n);
				q[(qh + qn) % 64].len = n;
				qn++;
			}
			break;
		}
		case 1: { /* guest reads */
			uint32_t cap = 16 + fz_below(&f, sizeof(buf) - 16);
			uint8_t *b = malloc(cap);
			FZ_ASSERT(b, "malloc");
			const char *why = "";
			int r = vmbus_ring_read(&rx, b, cap, &why);
			if (r > 0) {
				FZ_ASSERT((uint32_t)r <= cap && r % 8 == 0 && r >= 16,
					  "read of %d bytes into %u", r, cap);
				if (!hostile) {
					FZ_ASSERT(qn, "a packet the host never wrote");
					FZ_ASSERT((uint32_t)r == q[qh].len &&
						  !memcmp(b, q[qh].data, (size_t)r),
						  "packet read differs from the one "
						  "written");
					qh = (qh + 1) % 64;
					qn--;
				}
			} else if (r < 0) {
				FZ_ASSERT(*why, "error %d without a reason", r);
				if (r == -EMSGSIZE && !hostile) {
					/* the caller's buffer was too small */
					FZ_ASSERT(qn && q[qh].len > cap, "-EMSGSIZE "
						  "for a packet that fits");
				} else {
					FZ_ASSERT(hostile, "an honest host broke the "
						  "receive ring: %s", why);
				}
				rx_broken = true;
			} else if (!hostile) {
				FZ_ASSERT(!qn, "ring empty with %u packets written",
					  qn);
			}
			free(b);
			break;
		}
		case 2: { /* guest peeks, publishes its read index */
			struct vmbus_pkt_desc d;
			const char *why = "";
			int r = vmbus_ring_peek(&rx, &d, &why);
			if (r < 0)
				FZ_ASSERT(hostile, "peek failed on an honest "
					  "host: %s", why);
			if (r == 1 && !hostile)
				FZ_ASSERT(qn && !memcmp(&d, q[qh].data, sizeof(d)),
					  "peek shows another descriptor");
			int s = vmbus_ring_done(&rx);
			FZ_ASSERT(s == 0 || s == 1, "done returned %d", s);
			break;
		}
		case 3: /* guest masks / unmasks / asks */
			if (fz_bool(&f))
				vmbus_ring_mask(&rx);
			else
				FZ_ASSERT(vmbus_ring_unmask(&rx) >= 0, "unmask");
			(void)vmbus_ring_pending(&rx);
			break;
		case 4: { /* guest writes a packet */
			struct vmbus_iov iov[3];
			uint8_t parts[3][160];
			uint32_t total = 0;
			unsigned n = 1 + fz_below(&f, 3);
			(void)total;
			for (unsigned i = 0; i < n; i++) {
				iov[i].len = fz_below(&f, 160);
				fz_bytes(&f, parts[i], iov[i].len);
				iov[i].base = parts[i];
				total += iov[i].len;
			}
			/* the first piece is a descriptor, as pvio builds them */
			struct vmbus_pkt_desc d;
			vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, 16,
				       total - iov[0].len, 0, fz_u64(&f));
			memcpy(parts[0], &d, 16);
			iov[0].len = 16;
			const char *why = "";
			int r = vmbus_ring_write(&tx, iov, n, &why);
			if (r == 0 && !tx_broken && gn < 64) {
				struct sent *s = &g[(gh + gn++) % 64];
				uint32_t o = 0;
				for (unsigned i = 0; i < n; i++) {
					memcpy(s->data + o, parts[i], iov[i].len);
					o += iov[i].len;
				}
				s->len = o;
			} else if (r < 0) {
				FZ_ASSERT(r == -EAGAIN || r == -EMSGSIZE ||
					  (r == -EIO && hostile && *why),
					  "write returned %d (%s)", r, why);
				if (r == -EIO)
					tx_broken = true;
			}
			int p = vmbus_ring_publish(&tx);
			FZ_ASSERT(p >= -1 && p <= 1, "publish returned %d", p);
			break;
		}
		case 5: { /* host reads the guest's packets */
			uint8_t hb[600];
			int r = hr_get(&htx, hb, sizeof(hb));
			if (hostile || tx_broken)
				break;
			FZ_ASSERT(r >= 0, "the guest wrote a malformed packet");
			if (r > 0) {
				FZ_ASSERT(gn, "a packet the guest did not write");
				struct sent *s = &g[gh];
				FZ_ASSERT((uint32_t)r == ((s->len + 7) & ~7u) &&
					  !memcmp(hb, s->data, s->len),
					  "the host read %d bytes, the guest wrote "
					  "%u", r, s->len);
				gh = (gh + 1) % 64;
				gn--;
			}
			break;
		}
		case 6: { /* hostile: indices */
			hostile = true;
			uint32_t v = fz_bool(&f) ? fz_u32(&f)
						 : (uint32_t)fz_below(&f, dsize + 16) & ~7u;
			hr_set32(fz_bool(&f) ? rxm + HR_W : txm + HR_R, v);
			break;
		}
		case 7: { /* hostile: bytes in the receive data area */
			hostile = true;
			uint32_t off = fz_below(&f, dsize);
			uint8_t raw[16];
			size_t n = 1 + fz_below(&f, sizeof(raw));
			fz_bytes(&f, raw, n);
			hr_copy_in(&hrx, off, raw, (uint32_t)n);
			break;
		}
		default: { /* hostile: a packet with any offset8/len8 */
			hostile = true;
			uint8_t pkt[64];
			fz_bytes(&f, pkt, sizeof(pkt));
			uint32_t n = 8u * (1 + fz_below(&f, 8));
			hr_put(&hrx, pkt, n);
			break;
		}
		}
	}
	(void)rx_broken;
	free(q);
	free(g);
	free(rxm);
	free(txm);
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 4; v++) {
		fzb_u16(&b, (uint16_t)(20 + 200 * v)); /* ring size */
		for (unsigned i = 0; i < 40; i++) {
			/* host packet, guest packet, reads */
			fzb_u8(&b, 0);
			fzb_u8(&b, (uint8_t)(8 * i + v));
			for (unsigned k = 0; k < 8 * i + v; k++)
				fzb_u8(&b, (uint8_t)k);
			fzb_u8(&b, 0);
			fzb_u16(&b, 0);
			fzb_u64(&b, i);
			fzb_u8(&b, 4);
			fzb_u8(&b, 1);
			fzb_u8(&b, 16);
			fzb_u64(&b, 0);
			fzb_u64(&b, 0);
			fzb_u8(&b, 30);
			for (unsigned k = 0; k < 30; k++)
				fzb_u8(&b, (uint8_t)(k * i));
			fzb_u8(&b, 0);
			fzb_u8(&b, 1);
			fzb_u16(&b, 300);
			fzb_u8(&b, 5);
			fzb_u8(&b, 2);
		}
		char name[16];
		snprintf(name, sizeof(name), "ring-%u", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
