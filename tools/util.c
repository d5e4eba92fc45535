/* SPDX-License-Identifier: MIT */
/*
 * tools/util.c - what the pvio subcommands share: one-line messages,
 * parsing of sizes and lists, the context, time and a random generator.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/pvio.h"

static void vmsg(const char *cmd, const char *fmt, va_list ap)
	TOOL_PRINTF(2, 0);
static void vmsg(const char *cmd, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* one line, whatever the message held */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "pvio %s: %s\n", cmd, line);
}

int tool_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	return TOOL_FAIL;
}

int tool_usage(const char *cmd, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pvio %s: %s; run `pvio %s --help`\n", cmd, line, cmd);
	return TOOL_USAGE;
}

int tool_lib_fail(const char *cmd, pvio_ctx *ctx, int r, const char *what)
{
	const char *m = ctx ? pvio_errmsg(ctx) : "";
	if (m && *m)
		return tool_fail(cmd, "%s", m);
	return tool_fail(cmd, "%s: %s", what, strerror(r < 0 ? -r : r));
}

int tool_io_fail(const char *cmd, pvio_dev *dev, int r, const char *what)
{
	const char *reason = NULL;
	if (dev && pvio_dev_state(dev, &reason) != PVIO_DEV_READY && reason &&
	    *reason)
		return tool_fail(cmd, "%s: %s (device %s: %s)", what,
				 strerror(r < 0 ? -r : r),
				 pvio_dev_state(dev, NULL) == PVIO_DEV_REMOVED
					 ? "removed"
					 : "broken",
				 reason);
	return tool_fail(cmd, "%s: %s", what, strerror(r < 0 ? -r : r));
}

int tool_bad_option(const char *cmd, int opt, char **argv)
{
	/* getopt_long leaves the offending element just before optind */
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (opt == ':')
		return tool_usage(cmd, "option '%s' needs a value", arg);
	if (optopt && !(arg[0] == '-' && arg[1] == '-'))
		return tool_usage(cmd, "unknown option '-%c'", optopt);
	return tool_usage(cmd, "unknown option '%s'", arg);
}

int tool_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int tool_parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -EINVAL;
	uint64_t v = 0;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return -EINVAL;
		for (; *p; p++) {
			unsigned d;
			if (*p >= '0' && *p <= '9')
				d = (unsigned)(*p - '0');
			else if (*p >= 'a' && *p <= 'f')
				d = (unsigned)(*p - 'a' + 10);
			else if (*p >= 'A' && *p <= 'F')
				d = (unsigned)(*p - 'A' + 10);
			else
				return -EINVAL;
			if (v >> 60)
				return -ERANGE;
			v = v << 4 | d;
		}
		*out = v;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (*p) {
	case 0: break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*p) {
		p++;
		if (!strcmp(p, "iB") || !strcmp(p, "ib") || !strcmp(p, "B") ||
		    !strcmp(p, "b"))
			p += strlen(p);
		if (*p)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int tool_parse_seconds(const char *s, double max, double *out)
{
	if (!s || !*s)
		return -EINVAL;
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !end || *end || !isfinite(v) || v <= 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int tool_parse_list(const char *s, uint64_t min, uint64_t maxval,
		    uint64_t *out, unsigned max)
{
	char buf[256];
	unsigned n = 0;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return -EINVAL;
		if (tool_parse_uint(t, min, maxval, &out[n]) < 0)
			return -EINVAL;
		n++;
	}
	/* "1,,2" and ",1" leave empty tokens strtok skips: reject them */
	if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return -EINVAL;
	return n ? (int)n : -EINVAL;
}

pvio_ctx *tool_ctx_new(const char *cmd)
{
	/* Errors reach the user as the command's own one line (which names
	 * a broken device's reason); the library's warnings are for
	 * PVIO_LOG=warn, which overrides this. */
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .log_level = PVIO_LOG_ERROR };
	pvio_ctx *ctx = NULL;
	int r = pvio_ctx_new(&o, &ctx);
	if (r < 0) {
		tool_fail(cmd, "cannot create a pvio context: %s", strerror(-r));
		return NULL;
	}
	return ctx;
}

int tool_open_class(const char *cmd, pvio_ctx *ctx, const char *address,
		    enum pvio_class want, pvio_dev **out)
{
	pvio_dev *dev = NULL;
	struct pvio_dev_info info = { .struct_size = sizeof(info) };

	*out = NULL;
	int r = pvio_dev_open(ctx, address, &dev);
	if (r < 0)
		return tool_lib_fail(cmd, ctx, r, address);
	r = pvio_dev_get_info(dev, &info);
	if (r < 0) {
		pvio_dev_close(dev);
		return tool_lib_fail(cmd, ctx, r, "reading device information");
	}
	if (info.cls != want) {
		const char *has = pvio_class_name(info.cls);
		pvio_dev_close(dev);
		if (info.cls == PVIO_CLASS_BLK || info.cls == PVIO_CLASS_NET)
			return tool_fail(cmd, "%s is a %s device, not a %s device; "
					      "use `pvio %s`",
					 address, has, pvio_class_name(want), has);
		return tool_fail(cmd, "%s is neither a block nor a network "
				      "device",
				 address);
	}
	*out = dev;
	return TOOL_OK;
}

uint64_t tool_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *tool_human_bytes(uint64_t v, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	unsigned u = 0;
	double d = (double)v;
	while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", v);
	else
		snprintf(buf, size, "%.1f %s", d, units[u]);
	return buf;
}

const char *tool_printable(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	if (!size)
		return "";
	for (; s && *s && i + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		buf[i++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	buf[i] = 0;
	return buf;
}

uint64_t tool_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

uint64_t tool_seed(void)
{
	uint64_t s = tool_now_ns() ^ ((uint64_t)getpid() << 32);
	return s ? s : 0x9E3779B97F4A7C15ull;
}
