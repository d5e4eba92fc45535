/* SPDX-License-Identifier: MIT */
/*
 * tools/json.c - a small streaming JSON writer for `--json` output.
 *
 * Strings a host hands us (protocol names, native feature detail) may hold
 * any byte, so quoting escapes control characters and replaces bytes that
 * are not well-formed UTF-8 with U+FFFD: the output is always valid JSON.
 */
#include <inttypes.h>
#include <math.h>

#include "tools/pvio.h"

void tool_json_init(struct tool_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = false;
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0. */
static int utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	int n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	unsigned cp = c & (0x7Fu >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

void tool_json_quote(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	fputc('"', f);
	while (*s) {
		unsigned c = *s;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
			s++;
		} else if (c < 0x20 || c == 0x7F) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			s++;
		} else {
			int n = utf8_len(s);
			if (n == 0) {
				fputs("\\ufffd", f);
				s++;
			} else {
				fwrite(s, 1, (size_t)n, f);
				s += n;
			}
		}
	}
	fputc('"', f);
}

static void member(struct tool_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (j->depth > 0) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	if (key) {
		tool_json_quote(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_(struct tool_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < TOOL_JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

void tool_json_obj(struct tool_json *j, const char *key)
{
	open_(j, key, '{');
}

void tool_json_arr(struct tool_json *j, const char *key)
{
	open_(j, key, '[');
}

void tool_json_end(struct tool_json *j, char close)
{
	bool had = j->need_comma[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (had) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(close, j->f);
}

void tool_json_str(struct tool_json *j, const char *key, const char *v)
{
	member(j, key);
	if (v)
		tool_json_quote(j->f, v);
	else
		fputs("null", j->f);
}

void tool_json_u64(struct tool_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void tool_json_dbl(struct tool_json *j, const char *key, double v)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void tool_json_bool(struct tool_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void tool_json_null(struct tool_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void tool_json_done(struct tool_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
