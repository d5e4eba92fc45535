/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_xen_xs.c - the xenstore client (backends/xen/xenstore.c)
 * against a xenstored whose byte stream the fuzzer writes.
 *
 * The client runs requests the fuzzer picks (read, read_u64, write,
 * directory, watch, unwatch, transactions, polling for watch events).
 * Whenever it reads the stream, the fake server produces the next bytes
 * from the input: a reply to the oldest request it has not answered (its
 * own type and id, or others; any length and payload, also more than
 * xenstore allows), an error reply, a watch event, raw bytes, a short
 * read, nothing for a while, or the end of the stream.
 *
 * Properties: no crash or sanitizer report; every value returned is
 * NUL-terminated inside the caller's buffer, as long as the return value
 * says, without an embedded NUL; a directory's count matches its names;
 * numbers are within the asked maximum; watch events are terminated and
 * bounded; transaction ids are not 0; once the connection is dead every
 * call says so (-EPIPE) without touching the stream; requests the client
 * writes are well-formed xsd_sockmsg messages with fresh ids.
 */
#include "fuzz.h"

#include "backends/xen/xen.h"

enum {
	XS_DIRECTORY = 1, XS_READ = 2, XS_WATCH = 4, XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6, XS_TRANSACTION_END = 7, XS_WRITE = 11,
	XS_MKDIR = 12, XS_RM = 13, XS_WATCH_EVENT = 15, XS_ERROR = 16,
};

struct srv {
	struct xen_hostif h;
	struct fz *f;
	/* requests written and not answered yet */
	uint32_t pend_type[64], pend_id[64];
	unsigned npend;
	uint32_t last_id;
	/* bytes produced, not yet read */
	uint8_t out[4096 + 64 + 16];
	size_t olen, opos;
	bool eof;
	bool dead_seen;      /* the client reported the stream dead */
	unsigned reads_after_dead;
};

static struct srv *S(struct xen_hostif *h)
{
	return (struct srv *)(void *)h;
}

static int s_xs_write(struct xen_hostif *h, const void *buf, size_t len,
		      uint64_t deadline)
{
	struct srv *s = S(h);
	(void)deadline;
	FZ_ASSERT(len >= 16 && len <= 16 + 4096, "request of %zu bytes", len);
	uint32_t hdr[4];
	memcpy(hdr, buf, 16);
	FZ_ASSERT(hdr[3] == len - 16, "request header says %u payload bytes, "
		  "%zu sent", hdr[3], len - 16);
	FZ_ASSERT(hdr[1] != 0 && hdr[1] != s->last_id, "request id %u reused",
		  hdr[1]);
	s->last_id = hdr[1];
	if (s->eof)
		return -EPIPE;
	if (s->npend == 64) {
		memmove(s->pend_type, s->pend_type + 1, 63 * 4);
		memmove(s->pend_id, s->pend_id + 1, 63 * 4);
		s->npend--;
	}
	s->pend_type[s->npend] = hdr[0];
	s->pend_id[s->npend++] = hdr[1];
	return 0;
}

static void put_msg(struct srv *s, uint32_t type, uint32_t id, uint32_t len,
		 const uint8_t *pl, size_t plen)
{
	uint32_t hdr[4] = { type, id, 0, len };
	memcpy(s->out, hdr, 16);
	memcpy(s->out + 16, pl, plen);
	s->olen = 16 + plen;
	s->opos = 0;
}

/* The next thing the server says. */
static void produce(struct srv *s)
{
	struct fz *f = s->f;
	uint8_t a = fz_u8(f);
	uint8_t pl[4096 + 8];
	if (!fz_left(f)) {
		s->eof = true;
		return;
	}
	switch (a % 8) {
	case 0:
	case 1:
	case 2: { /* a reply to the oldest request */
		uint32_t type = s->npend ? s->pend_type[0] : XS_READ;
		uint32_t id = s->npend ? s->pend_id[0] : 1;
		if (s->npend) {
			s->npend--;
			memmove(s->pend_type, s->pend_type + 1, s->npend * 4);
			memmove(s->pend_id, s->pend_id + 1, s->npend * 4);
		}
		size_t n = fz_below(f, 80);
		if (a & 0x80)
			n = fz_below(f, 4097);
		fz_bytes(f, pl, n);
		if (a & 0x40) /* an "OK\0" or number-ish value */
			memcpy(pl, "OK", n < 3 ? n : 3);
		uint32_t len = (uint32_t)n;
		if ((a & 0x38) == 0x38)
			len = fz_u32(f); /* lies about its length */
		if ((a & 0x38) == 0x30)
			type = fz_u32(f) % 20;
		if ((a & 0x38) == 0x28)
			id = fz_u32(f);
		put_msg(s, type, id, len, pl, n);
		break;
	}
	case 3: { /* an error reply */
		static const char *const names[] = { "ENOENT", "EAGAIN", "EINVAL",
						     "EACCES", "E2BIG", "EQUACK" };
		uint32_t id = s->npend ? s->pend_id[0] : 0;
		if (s->npend) {
			s->npend--;
			memmove(s->pend_type, s->pend_type + 1, s->npend * 4);
			memmove(s->pend_id, s->pend_id + 1, s->npend * 4);
		}
		const char *e = names[fz_below(f, 6)];
		size_t n = strlen(e) + 1;
		memcpy(pl, e, n);
		if (a & 0x80) { /* not terminated */
			n = 1 + fz_below(f, 32);
			fz_bytes(f, pl, n);
		}
		put_msg(s, XS_ERROR, id, (uint32_t)n, pl, n);
		break;
	}
	case 4: { /* a watch event: path\0token\0, or anything */
		size_t n = fz_below(f, 400);
		fz_bytes(f, pl, n);
		put_msg(s, XS_WATCH_EVENT, 0, (uint32_t)n, pl, n);
		break;
	}
	case 5: { /* raw bytes */
		size_t n = 1 + fz_below(f, 64);
		fz_bytes(f, s->out, n);
		s->olen = n;
		s->opos = 0;
		break;
	}
	case 6: /* nothing now */
		break;
	default:
		if ((a & 0xf0) == 0xf0)
			s->eof = true;
		break;
	}
}

static int s_xs_read(struct xen_hostif *h, void *buf, size_t len)
{
	struct srv *s = S(h);
	FZ_ASSERT(!s->dead_seen, "the client read the stream after it died");
	if (s->opos == s->olen && !s->eof) {
		s->olen = s->opos = 0;
		produce(s);
	}
	if (s->opos == s->olen)
		return s->eof ? -EPIPE : 0;
	size_t n = s->olen - s->opos;
	if (n > len)
		n = len;
	/* sometimes in pieces */
	uint8_t cut = fz_u8(s->f);
	if ((cut & 0xe0) == 0xe0 && n > 1)
		n = 1 + cut % (n - 1);
	memcpy(buf, s->out + s->opos, n);
	s->opos += n;
	return (int)n;
}

static int s_xs_wait(struct xen_hostif *h, uint64_t deadline)
{
	struct srv *s = S(h);
	(void)deadline;
	return s->eof || fz_left(s->f) ? 1 : 0;
}

static const struct xen_hostif_ops s_ops = {
	.xs_write = s_xs_write,
	.xs_read = s_xs_read,
	.xs_wait = s_xs_wait,
};

static const char *const paths[] = {
	"/local/domain/0/backend/vbd/1/51712/state",
	"device/vif/0/mac",
	"/local/domain/1/device/vbd/51712/ring-ref",
	"data/x",
};

static int tx_fn(struct xs_client *xs, uint32_t tx, void *arg)
{
	struct fz *f = arg;
	char v[16];
	snprintf(v, sizeof(v), "%u", fz_u8(f));
	int r = xs_write(xs, tx, paths[fz_below(f, 4)], v);
	return r == -ENOENT ? 0 : r;
}

static void check_str(const char *buf, size_t cap, int r)
{
	FZ_ASSERT(r >= 0 && (size_t)r < cap, "length %d for a %zu-byte buffer",
		  r, cap);
	FZ_ASSERT(strnlen(buf, cap) == (size_t)r, "value of %d bytes has its "
		  "NUL at %zu", r, strnlen(buf, cap));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	pvio_ctx *ctx = fz_ctx(1 << 16, 20);
	struct srv *s = calloc(1, sizeof(*s));
	FZ_ASSERT(s, "calloc");
	s->f = &f;
	s->h.ops = &s_ops;
	s->h.ctx = ctx;
	s->h.name = "fuzz-xenstored";
	struct xs_client *xs = calloc(1, sizeof(*xs));
	FZ_ASSERT(xs, "calloc");
	xs_init(xs, ctx, &s->h);

	for (unsigned step = 0; step < 64 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		const char *path = paths[(op >> 4) % 4];
		bool was_dead = xs->dead;
		s->dead_seen = was_dead;
		int r = 0;
		switch (op % 10) {
		case 0: {
			size_t cap = 1 + fz_below(&f, 64);
			char *buf = malloc(cap);
			FZ_ASSERT(buf, "malloc");
			r = xs_read(xs, 0, path, buf, cap);
			if (r >= 0)
				check_str(buf, cap, r);
			free(buf);
			break;
		}
		case 1: {
			uint64_t max = fz_bool(&f) ? UINT64_MAX : fz_u32(&f);
			uint64_t v = 12345;
			r = xs_read_u64(xs, 0, path, max, &v);
			if (r == 0)
				FZ_ASSERT(v <= max, "%llu > max %llu",
					  (unsigned long long)v,
					  (unsigned long long)max);
			break;
		}
		case 2:
			r = xs_write(xs, 0, path, "4");
			break;
		case 3: {
			size_t cap = 2 + fz_below(&f, 128);
			char *buf = malloc(cap);
			FZ_ASSERT(buf, "malloc");
			r = xs_directory(xs, 0, path, buf, cap);
			if (r >= 0) {
				size_t end = 0;
				int count = 0;
				/* the names, each terminated, within cap */
				while (end < cap && count < r) {
					size_t l = strnlen(buf + end, cap - end);
					FZ_ASSERT(end + l < cap, "name runs past "
						  "the buffer");
					end += l + 1;
					count++;
				}
				FZ_ASSERT(count == r, "directory said %d names, "
					  "found %d", r, count);
			}
			free(buf);
			break;
		}
		case 4:
			r = xs_watch(xs, path, "tok");
			break;
		case 5:
			r = xs_unwatch(xs, path, "tok");
			break;
		case 6: {
			uint32_t tx = 0;
			r = xs_tx_start(xs, &tx);
			if (r == 0) {
				FZ_ASSERT(tx != 0, "transaction id 0");
				r = xs_tx_end(xs, tx, fz_bool(&f));
			}
			break;
		}
		case 7:
			r = xs_transaction(xs, tx_fn, &f);
			break;
		case 8: {
			struct xs_event ev;
			memset(&ev, 0xa5, sizeof(ev));
			bool take = fz_bool(&f);
			/* wait_event only says one is queued */
			r = take ? xs_next_event(xs, &ev)
				 : xs_wait_event(xs, pvio_deadline(ctx));
			if (r == 1 && take) {
				FZ_ASSERT(memchr(ev.path, 0, sizeof(ev.path)) &&
					  memchr(ev.token, 0, sizeof(ev.token)),
					  "watch event not terminated");
			}
			break;
		}
		default:
			r = xs_poll(xs);
			break;
		}
		/* events queued before the end may still be taken */
		if (was_dead)
			FZ_ASSERT(r == -EPIPE || (op % 10 == 8 && r == 1),
				  "call on a dead connection returned %d", r);
		s->dead_seen = false;
	}
	free(xs);
	free(s);
	fz_ctx_free(ctx);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

static void reply(struct fzb *b, uint8_t kind, const char *val)
{
	size_t n = strlen(val) + 1;
	fzb_u8(b, kind);          /* reply to the oldest */
	fzb_u8(b, (uint8_t)n);    /* length */
	fzb_put(b, val, n);
	fzb_u8(b, 0);             /* whole */
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	/* read, read_u64, write, directory, watch + event, transaction */
	fzb_u8(&b, 0);
	fzb_u8(&b, 20);
	reply(&b, 0, "hello");
	fzb_u8(&b, 1);
	fzb_u8(&b, 1);
	reply(&b, 0, "42");
	fzb_u8(&b, 2);
	reply(&b, 0, "OK");
	fzb_u8(&b, 3);
	fzb_u8(&b, 60);
	fzb_u8(&b, 0);
	fzb_u8(&b, 12);
	fzb_put(&b, "a\0bb\0ccc\0d\0\0\0", 12);
	fzb_u8(&b, 0);
	fzb_u8(&b, 4);
	reply(&b, 0, "OK");
	fzb_u8(&b, 8);
	fzb_u8(&b, 1);
	fzb_u8(&b, 4);
	fzb_u8(&b, 20);
	fzb_put(&b, "/local/domain/0\0tok\0", 20);
	fzb_u8(&b, 0);
	fzb_u8(&b, 6);
	reply(&b, 0, "7");
	fzb_u8(&b, 1);
	reply(&b, 0, "OK");
	fzb_u8(&b, 7);
	reply(&b, 0, "9");
	fzb_u8(&b, 3);
	reply(&b, 0, "OK");
	fzb_u8(&b, 3);
	fzb_u8(&b, 1);  /* EAGAIN */
	fzb_u8(&b, 0);
	reply(&b, 0, "10");
	fzb_u8(&b, 3);
	reply(&b, 0, "OK");
	reply(&b, 0, "OK");
	fzb_emit(&b, emit, arg, "session");
	fzb_free(&b);
}
