/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd_blk.c - `pvio blk read|write|flush|discard|write-zeroes`:
 * block I/O through pvio's block front end, from the shell.
 *
 * Data moves through buffers from pvio_dma_alloc(), so the front end does
 * not have to bounce them; offsets and lengths must be whole logical
 * blocks (the front end would refuse anything else; we say so first, with
 * the numbers).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvio/blk.h>

#include "tools/pvio.h"

#define CHUNK (1u << 20) /* bytes per synchronous request */

static const char usage_text[] =
	"usage: pvio blk read DEVICE OFFSET LENGTH      raw bytes to stdout\n"
	"       pvio blk write DEVICE OFFSET [--sync] [--pad]\n"
	"                                               bytes from stdin\n"
	"       pvio blk flush DEVICE\n"
	"       pvio blk discard DEVICE OFFSET LENGTH\n"
	"       pvio blk write-zeroes DEVICE OFFSET LENGTH\n"
	"\n"
	"Block I/O through pvio's block front end.  OFFSET and LENGTH are bytes\n"
	"(decimal, 0x hex, or with a k, M, G, T suffix: 4k = 4096) and must be\n"
	"multiples of the device's logical block size (`pvio info DEVICE`).\n"
	"write writes everything stdin gives, which must be whole blocks unless\n"
	"--pad is given (the last block is then padded with zeroes).\n"
	"\n"
	"  --sync       write: flush the device's write cache afterwards, so\n"
	"               the data is durable when the command returns\n"
	"  --pad        write: zero-pad a partial last block\n"
	"  -h, --help   this text\n";

struct blk_cmd {
	const char *name; /* "blk read" */
	pvio_ctx *ctx;
	pvio_blk *blk;
	struct pvio_blk_info info;
};

static int open_blk(struct blk_cmd *b, const char *address)
{
	b->ctx = tool_ctx_new(b->name);
	if (!b->ctx)
		return TOOL_FAIL;
	pvio_dev *dev = NULL;
	int r = tool_open_class(b->name, b->ctx, address, PVIO_CLASS_BLK, &dev);
	if (r)
		return r;
	struct pvio_blk_opts o = { .struct_size = sizeof(o) };
	r = pvio_blk_attach(dev, &o, &b->blk); /* owns dev from here on */
	if (r < 0)
		return tool_lib_fail(b->name, b->ctx, r,
				     "starting the block front end");
	b->info.struct_size = sizeof(b->info);
	r = pvio_blk_get_info(b->blk, &b->info);
	if (r < 0)
		return tool_lib_fail(b->name, b->ctx, r, "reading block information");
	if (!b->info.block_size)
		return tool_fail(b->name, "%s reports a block size of 0", address);
	return TOOL_OK;
}

static void close_blk(struct blk_cmd *b)
{
	if (b->blk)
		pvio_blk_close(b->blk);
	if (b->ctx)
		pvio_ctx_free(b->ctx);
}

static int parse_off(struct blk_cmd *b, const char *what, const char *s,
		     uint64_t *v)
{
	int r = tool_parse_size(s, v);
	if (r < 0)
		return tool_usage(b->name, "%s '%s' is not a size (e.g. 4096, 4k, "
					   "1M, 0x1000)",
				  what, s);
	return TOOL_OK;
}

/* Offset and length within the device, in whole blocks. */
static int check_range(struct blk_cmd *b, uint64_t off, uint64_t len)
{
	uint32_t bs = b->info.block_size;
	if (off % bs || len % bs)
		return tool_fail(b->name,
				 "offset %" PRIu64 " and length %" PRIu64
				 " must be multiples of the %u-byte block size",
				 off, len, bs);
	if (off > b->info.capacity || len > b->info.capacity - off)
		return tool_fail(b->name,
				 "bytes %" PRIu64 "..%" PRIu64
				 " lie beyond the end of the device (%" PRIu64
				 " bytes)",
				 off, off + len, b->info.capacity);
	return TOOL_OK;
}

static int do_read(struct blk_cmd *b, uint64_t off, uint64_t len)
{
	int ret = check_range(b, off, len);
	if (ret)
		return ret;
	size_t chunk = len < CHUNK ? (size_t)len : CHUNK;
	uint8_t *buf = chunk ? pvio_dma_alloc(b->ctx, chunk, 4096) : NULL;
	if (chunk && !buf)
		return tool_fail(b->name, "cannot allocate a %zu-byte buffer",
				 chunk);
	uint64_t done = 0;
	while (done < len) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		int r = pvio_blk_pread(b->blk, off + done, buf, n);
		if (r < 0) {
			char what[96];
			snprintf(what, sizeof(what), "read at offset %" PRIu64,
				 off + done);
			ret = tool_io_fail(b->name, pvio_blk_dev(b->blk), r, what);
			break;
		}
		for (size_t w = 0; w < n;) {
			ssize_t k = write(STDOUT_FILENO, buf + w, n - w);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				ret = tool_fail(b->name, "cannot write to stdout: %s",
						k < 0 ? strerror(errno)
						      : "short write");
				goto out;
			}
			w += (size_t)k;
		}
		done += n;
	}
out:
	if (buf)
		pvio_dma_free(b->ctx, buf);
	return ret;
}

/* Read up to size bytes from stdin; returns the count (short only at EOF)
 * or -errno. */
static ssize_t read_in(uint8_t *buf, size_t size)
{
	size_t got = 0;
	while (got < size) {
		ssize_t k = read(STDIN_FILENO, buf + got, size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int do_write(struct blk_cmd *b, uint64_t off, bool sync, bool pad)
{
	uint32_t bs = b->info.block_size;
	struct stat st;

	if (b->info.read_only)
		return tool_fail(b->name, "the device is read-only");
	int ret = check_range(b, off, 0);
	if (ret)
		return ret;
	/* A regular file's size is known: refuse before writing anything. */
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
		uint64_t left = pos >= 0 && (uint64_t)pos <= (uint64_t)st.st_size
					? (uint64_t)(st.st_size - pos)
					: 0;
		if (left % bs && !pad)
			return tool_fail(b->name,
					 "stdin holds %" PRIu64 " bytes, not a "
					 "multiple of the %u-byte block size; pad "
					 "the input or use --pad",
					 left, bs);
		uint64_t need = (left + bs - 1) / bs * bs;
		if (need > b->info.capacity - off)
			return tool_fail(b->name,
					 "stdin holds %" PRIu64 " bytes, more than "
					 "the %" PRIu64 " bytes from offset %" PRIu64
					 " to the end of the device",
					 left, b->info.capacity - off, off);
	}
	size_t chunk = CHUNK - CHUNK % bs;
	if (!chunk)
		chunk = bs;
	uint8_t *buf = pvio_dma_alloc(b->ctx, chunk, 4096);
	if (!buf)
		return tool_fail(b->name, "cannot allocate a %zu-byte buffer",
				 chunk);
	uint64_t done = 0;
	for (;;) {
		ssize_t n = read_in(buf, chunk);
		if (n < 0) {
			ret = tool_fail(b->name, "cannot read stdin: %s",
					strerror((int)-n));
			break;
		}
		if (n == 0)
			break;
		size_t len = (size_t)n;
		if (len % bs) {
			if (!pad) {
				char wrote[64] = "nothing was written";
				if (done)
					snprintf(wrote, sizeof(wrote),
						 "the first %" PRIu64
						 " bytes were written",
						 done);
				ret = tool_fail(b->name,
						"stdin ended after %" PRIu64
						" bytes, not a multiple of the "
						"%u-byte block size (%s); pad the "
						"input or use --pad",
						done + len, bs, wrote);
				break;
			}
			size_t full = (len + bs - 1) / bs * bs;
			memset(buf + len, 0, full - len);
			len = full;
		}
		if (len > b->info.capacity - off - done) {
			ret = tool_fail(b->name,
					"stdin goes beyond the end of the device "
					"(%" PRIu64 " bytes; the first %" PRIu64
					" bytes from offset %" PRIu64
					" were written)",
					b->info.capacity, done, off);
			break;
		}
		int r = pvio_blk_pwrite(b->blk, off + done, buf, len);
		if (r < 0) {
			char what[96];
			snprintf(what, sizeof(what), "write at offset %" PRIu64,
				 off + done);
			ret = tool_io_fail(b->name, pvio_blk_dev(b->blk), r, what);
			break;
		}
		done += len;
		if ((size_t)n < chunk)
			break; /* EOF */
	}
	if (ret == TOOL_OK && sync && done) {
		/* durability of everything written: one flush, where the
		 * device has a volatile cache to flush */
		if (b->info.flush) {
			int r = pvio_blk_sync_flush(b->blk);
			if (r < 0)
				ret = tool_io_fail(b->name, pvio_blk_dev(b->blk),
						   r, "flush");
		}
	}
	pvio_dma_free(b->ctx, buf);
	return ret;
}

static int do_flush(struct blk_cmd *b)
{
	int r = pvio_blk_sync_flush(b->blk);
	if (r < 0)
		return tool_io_fail(b->name, pvio_blk_dev(b->blk), r, "flush");
	return TOOL_OK;
}

static int do_ranged(struct blk_cmd *b, bool zeroes, uint64_t off,
		     uint64_t len)
{
	int ret = check_range(b, off, len);
	if (ret)
		return ret;
	if (zeroes ? !b->info.write_zeroes : !b->info.discard)
		return tool_fail(b->name, "the device does not support %s",
				 zeroes ? "write-zeroes" : "discard");
	if (b->info.read_only)
		return tool_fail(b->name, "the device is read-only");
	int r = zeroes ? pvio_blk_sync_write_zeroes(b->blk, off, len)
		       : pvio_blk_sync_discard(b->blk, off, len);
	if (r < 0)
		return tool_io_fail(b->name, pvio_blk_dev(b->blk), r,
				    zeroes ? "write-zeroes" : "discard");
	return TOOL_OK;
}

int cmd_blk(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sync", no_argument, NULL, 's' },
		{ "pad", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *op, *name;
		int nargs; /* after DEVICE */
	} ops[] = {
		{ "read", "blk read", 2 },
		{ "write", "blk write", 1 },
		{ "flush", "blk flush", 0 },
		{ "discard", "blk discard", 2 },
		{ "write-zeroes", "blk write-zeroes", 2 },
	};

	if (argc < 2)
		return tool_usage("blk", "expected an operation: read, write, "
					 "flush, discard or write-zeroes");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return TOOL_OK;
	}
	unsigned k;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (!strcmp(argv[1], ops[k].op))
			break;
	if (k == sizeof(ops) / sizeof(ops[0]))
		return tool_usage("blk", "unknown operation '%s' (read, write, "
					 "flush, discard, write-zeroes)",
				  argv[1]);

	struct blk_cmd b = { .name = ops[k].name };
	bool sync = false, pad = false;
	int c;
	argc--;
	argv++;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': sync = true; break;
		case 'p': pad = true; break;
		case 'h': fputs(usage_text, stdout); return TOOL_OK;
		default: return tool_bad_option(b.name, c, argv);
		}
	}
	if ((sync || pad) && k != 1)
		return tool_usage(b.name, "--sync and --pad are for `blk write`");
	if (argc - optind != 1 + ops[k].nargs)
		return tool_usage(b.name, "expected %s",
				  ops[k].nargs == 2   ? "DEVICE OFFSET LENGTH"
				  : ops[k].nargs == 1 ? "DEVICE OFFSET"
						      : "DEVICE");
	const char *address = argv[optind];
	uint64_t off = 0, len = 0;
	int ret = TOOL_OK;
	if (ops[k].nargs >= 1)
		ret = parse_off(&b, "OFFSET", argv[optind + 1], &off);
	if (!ret && ops[k].nargs >= 2)
		ret = parse_off(&b, "LENGTH", argv[optind + 2], &len);
	if (ret)
		return ret;

	ret = open_blk(&b, address);
	if (!ret) {
		switch (k) {
		case 0: ret = do_read(&b, off, len); break;
		case 1: ret = do_write(&b, off, sync, pad); break;
		case 2: ret = do_flush(&b); break;
		case 3: ret = do_ranged(&b, false, off, len); break;
		default: ret = do_ranged(&b, true, off, len); break;
		}
	}
	close_blk(&b);
	return ret;
}
