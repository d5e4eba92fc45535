/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/util.c - messages, strings, tables and JSON strings for
 * `pvio virt`.  (The rest of the pvio command has its own helpers; these
 * stay here so `pvio virt` depends on nothing but libvirt and libxml2.)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/virt/virt.h"

static void vmsg(const char *sub, const char *kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vmsg(const char *sub, const char *kind, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "pvio virt%s%s: %s%s\n", sub ? " " : "", sub ? sub : "",
		kind, line);
}

int virt_fail(const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(sub, "", fmt, ap);
	va_end(ap);
	return VIRT_FAIL;
}

int virt_usage(const char *sub, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pvio virt%s%s: %s; run `pvio virt%s%s --help`\n",
		sub ? " " : "", sub ? sub : "", line, sub ? " " : "",
		sub ? sub : "");
	return VIRT_USAGE;
}

void virt_warn(const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(sub, "warning: ", fmt, ap);
	va_end(ap);
}

static void oom(void)
{
	fputs("pvio virt: out of memory\n", stderr);
	exit(VIRT_FAIL);
}

void *virt_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

char *virt_strdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		oom();
	return d;
}

static void buf_reserve(struct virt_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s)
		oom();
	b->s = s;
	b->cap = cap;
}

void virt_buf_add(struct virt_buf *b, const char *s)
{
	size_t n = strlen(s);
	buf_reserve(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void virt_buf_printf(struct virt_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void virt_buf_free(struct virt_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

const char *virt_printable(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	if (!size)
		return "";
	for (; s && *s && i + 1 < size; s++)
		buf[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	buf[i] = 0;
	return buf;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t min, cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void virt_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	fputc('"', f);
	while (n) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t l = utf8_len(p, n);
			if (!l) {
				fputs("\\ufffd", f);
				p++, n--;
				continue;
			}
			fwrite(p, 1, l, f);
			p += l, n -= l;
			continue;
		} else {
			fputc(c, f);
		}
		p++, n--;
	}
	fputc('"', f);
}

int virt_parse_seconds(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

uint64_t virt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void virt_table_init(struct virt_table *t, size_t cols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
}

void virt_table_row(struct virt_table *t, const char *const *cells)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		char **c = realloc(t->cells, cap * t->cols * sizeof(*c));
		if (!c)
			oom();
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->cols; i++) {
		char tmp[512];
		t->cells[t->rows * t->cols + i] =
			virt_strdup(virt_printable(cells[i] ? cells[i] : "",
						   tmp, sizeof(tmp)));
	}
	t->rows++;
}

void virt_table_print(const struct virt_table *t, FILE *f, const char *indent)
{
	size_t w[16] = { 0 };
	size_t cols = t->cols < 16 ? t->cols : 16;
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < cols; c++) {
			size_t l = strlen(t->cells[r * t->cols + c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->rows; r++) {
		fputs(indent ? indent : "", f);
		for (size_t c = 0; c < cols; c++) {
			const char *s = t->cells[r * t->cols + c];
			if (c + 1 == cols)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
}

void virt_table_free(struct virt_table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
