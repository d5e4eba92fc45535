/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/test_regress.c - unit tests for the bugs the fuzzers found,
 * one test per fix, stated plainly (the inputs that found them are in
 * tests/fuzz/corpus/ and replayed by tests/fuzz/replay_*).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/transport.h>

/* ---------------------------------------------------------------- core */

/* fuzz_core: %hhX printed the whole int; C prints the low byte. */
START_TEST(fmt_h_hh)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "%hhX|%hhd|%hu|%hd", 0x1ff,
				       0x180, 0x12345, 0x8000),
			 snprintf(b, 0, "%hhX|%hhd|%hu|%hd", 0x1ff, 0x180,
				  0x12345, 0x8000));
	ck_assert_str_eq(b, "FF|-128|9029|-32768");
}
END_TEST

/* fuzz_core: a negative '*' width is the - flag, as in C. */
START_TEST(fmt_negative_star_width)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "[%*d]", -5, 42), 7);
	ck_assert_str_eq(b, "[42   ]");
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "[%*s]", -4, "x"), 6);
	ck_assert_str_eq(b, "[x   ]");
}
END_TEST

/* fuzz_core: %c ignored its width. */
START_TEST(fmt_char_width)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "[%3c|%-3c]", 'a', 'b'), 9);
	ck_assert_str_eq(b, "[  a|b  ]");
}
END_TEST

/* fuzz_core: a string that is not a number but has more digits than fit
 * in 64 bits said -ERANGE ("out of range") instead of -EINVAL. */
START_TEST(parse_u64_garbage_after_overflow)
{
	uint64_t v = 7;
	ck_assert_int_eq(pvio_parse_u64("077375164674375164674407315x", UINT64_MAX,
					&v),
			 -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("0x1ffffffffffffffffz", UINT64_MAX, &v),
			 -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("184467440737095516160", UINT64_MAX, &v),
			 -ERANGE);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(pvio_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuzz-regress");
	TCase *c = tcase_create("core");
	tcase_add_test(c, fmt_h_hh);
	tcase_add_test(c, fmt_negative_star_width);
	tcase_add_test(c, fmt_char_width);
	tcase_add_test(c, parse_u64_garbage_after_overflow);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
