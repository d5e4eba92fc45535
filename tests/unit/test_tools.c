/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pvio command's helpers (tools/util.c, json.c,
 * hist.c): size and list parsing, JSON quoting of hostile strings, the
 * latency histogram's percentiles.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/pvio.h"

START_TEST(sizes)
{
	uint64_t v;
	ck_assert_int_eq(tool_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(tool_parse_size("4k", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(tool_parse_size("4K", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(tool_parse_size("1M", &v), 0);
	ck_assert_uint_eq(v, 1048576);
	ck_assert_int_eq(tool_parse_size("2MiB", &v), 0);
	ck_assert_uint_eq(v, 2097152);
	ck_assert_int_eq(tool_parse_size("3G", &v), 0);
	ck_assert_uint_eq(v, 3ull << 30);
	ck_assert_int_eq(tool_parse_size("1T", &v), 0);
	ck_assert_uint_eq(v, 1ull << 40);
	ck_assert_int_eq(tool_parse_size("0x1000", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(tool_parse_size("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(tool_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("k", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("-1", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("4x", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("4kk", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("0x", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("0xg", &v), -EINVAL);
	ck_assert_int_eq(tool_parse_size("4 k", &v), -EINVAL);
	/* overflow is an error, never a wrapped value */
	ck_assert_int_eq(tool_parse_size("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(tool_parse_size("16777216T", &v), -ERANGE);
	ck_assert_int_eq(tool_parse_size("0x10000000000000000", &v), -ERANGE);
}
END_TEST

START_TEST(uints_and_lists)
{
	uint64_t v, l[4];
	ck_assert_int_eq(tool_parse_uint("32", 1, 64, &v), 0);
	ck_assert_uint_eq(v, 32);
	ck_assert_int_eq(tool_parse_uint("0", 1, 64, &v), -ERANGE);
	ck_assert_int_eq(tool_parse_uint("65", 1, 64, &v), -ERANGE);
	ck_assert_int_eq(tool_parse_uint("+3", 1, 64, &v), -EINVAL);
	ck_assert_int_eq(tool_parse_uint("3k", 1, 64, &v), -EINVAL);

	ck_assert_int_eq(tool_parse_list("1,32", 1, 1024, l, 4), 2);
	ck_assert_uint_eq(l[0], 1);
	ck_assert_uint_eq(l[1], 32);
	ck_assert_int_eq(tool_parse_list("8", 1, 1024, l, 4), 1);
	ck_assert_int_eq(tool_parse_list("1,,2", 1, 1024, l, 4), -EINVAL);
	ck_assert_int_eq(tool_parse_list(",1", 1, 1024, l, 4), -EINVAL);
	ck_assert_int_eq(tool_parse_list("1,", 1, 1024, l, 4), -EINVAL);
	ck_assert_int_eq(tool_parse_list("1,2,3,4,5", 1, 1024, l, 4), -EINVAL);
	ck_assert_int_eq(tool_parse_list("0", 1, 1024, l, 4), -EINVAL);
	ck_assert_int_eq(tool_parse_list("", 1, 1024, l, 4), -EINVAL);

	double d;
	ck_assert_int_eq(tool_parse_seconds("0.5", 10, &d), 0);
	ck_assert(d == 0.5);
	ck_assert_int_eq(tool_parse_seconds("0", 10, &d), -EINVAL);
	ck_assert_int_eq(tool_parse_seconds("11", 10, &d), -EINVAL);
	ck_assert_int_eq(tool_parse_seconds("nan", 10, &d), -EINVAL);
	ck_assert_int_eq(tool_parse_seconds("1s", 10, &d), -EINVAL);
}
END_TEST

/* What tool_json_quote writes for s. */
static char *quoted(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	tool_json_quote(f, s);
	fclose(f);
	return buf;
}

START_TEST(json_quoting)
{
	char *q;
	q = quoted("plain");
	ck_assert_str_eq(q, "\"plain\"");
	free(q);
	q = quoted("a\"b\\c\n\t\x01\x7f");
	ck_assert_str_eq(q, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
	free(q);
	/* well-formed UTF-8 passes through */
	q = quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ck_assert_str_eq(q, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	free(q);
	/* stray continuation, truncated sequence, overlong form, surrogate,
	 * beyond U+10FFFF: each bad byte becomes U+FFFD */
	q = quoted("\x80|\xc3|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80");
	ck_assert_str_eq(q, "\"\\ufffd|\\ufffd|\\ufffd\\ufffd|"
			    "\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd\"");
	free(q);
	q = quoted(NULL);
	ck_assert_str_eq(q, "\"\"");
	free(q);
}
END_TEST

START_TEST(json_document)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tool_json j;
	tool_json_init(&j, f);
	tool_json_obj(&j, NULL);
	tool_json_str(&j, "s", "x");
	tool_json_arr(&j, "empty");
	tool_json_end(&j, ']');
	tool_json_arr(&j, "a");
	tool_json_u64(&j, NULL, 1);
	tool_json_bool(&j, NULL, true);
	tool_json_null(&j, NULL);
	tool_json_dbl(&j, NULL, 0.0 / 0.0);
	tool_json_end(&j, ']');
	tool_json_obj(&j, "o");
	tool_json_dbl(&j, "d", 1.5);
	tool_json_end(&j, '}');
	tool_json_end(&j, '}');
	tool_json_done(&j);
	fclose(f);
	/* compare without the layout whitespace */
	char *w = buf;
	for (char *r = buf; *r; r++)
		if (*r != ' ' && *r != '\n')
			*w++ = *r;
	*w = 0;
	ck_assert_str_eq(buf, "{\"s\":\"x\",\"empty\":[],\"a\":[1,true,null,null],"
			      "\"o\":{\"d\":1.5}}");
	free(buf);
}
END_TEST

START_TEST(histogram)
{
	struct tool_hist *h = malloc(sizeof(*h));
	ck_assert_ptr_nonnull(h);
	tool_hist_reset(h);
	ck_assert_uint_eq(tool_hist_pct(h, 0.5), 0);
	/* 1..100000 once each: percentiles within the bucket precision */
	for (uint64_t v = 1; v <= 100000; v++)
		tool_hist_add(h, v);
	ck_assert_uint_eq(h->count, 100000);
	ck_assert_uint_eq(h->min, 1);
	ck_assert_uint_eq(h->max, 100000);
	uint64_t p50 = tool_hist_pct(h, 0.5);
	uint64_t p99 = tool_hist_pct(h, 0.99);
	ck_assert_uint_ge(p50, 50000 - 50000 / 32);
	ck_assert_uint_le(p50, 50000 + 50000 / 32);
	ck_assert_uint_ge(p99, 99000 - 99000 / 32);
	ck_assert_uint_le(p99, 99000 + 99000 / 32);
	ck_assert_uint_eq(tool_hist_pct(h, 0), 1);
	ck_assert_uint_eq(tool_hist_pct(h, 1), 100000);
	/* small values are exact; huge ones do not overflow the table */
	tool_hist_reset(h);
	tool_hist_add(h, 7);
	ck_assert_uint_eq(tool_hist_pct(h, 0.5), 7);
	tool_hist_add(h, UINT64_MAX);
	ck_assert_uint_ge(tool_hist_pct(h, 0.99), UINT64_MAX - UINT64_MAX / 32);
	free(h);
}
END_TEST

START_TEST(printable)
{
	char b[8];
	ck_assert_str_eq(tool_printable("a\x1b[2Jz", b, sizeof(b)), "a?[2Jz");
	ck_assert_str_eq(tool_printable("0123456789", b, sizeof(b)), "0123456");
	ck_assert_str_eq(tool_printable(NULL, b, sizeof(b)), "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tools");
	TCase *tc = tcase_create("helpers");
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, uints_and_lists);
	tcase_add_test(tc, json_quoting);
	tcase_add_test(tc, json_document);
	tcase_add_test(tc, histogram);
	tcase_add_test(tc, printable);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
