/* SPDX-License-Identifier: MIT */
/* core/string.c - string and number parsing without a C library. */
#include "core.h"

size_t pvio_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int pvio_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int pvio_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

const char *pvio_strchr(const char *s, int c)
{
	for (; *s; s++)
		if (*s == (char)c)
			return s;
	return c ? NULL : s;
}

size_t pvio_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = pvio_strlen(src);
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int pvio_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	bool big = false;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		/* too big; still a number only if every character is a digit */
		if (v > (UINT64_MAX - d) / base)
			big = true;
		else
			v = v * base + d;
	}
	if (big || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int pvio_opt_get(const char *opts, const char *key, char *buf, size_t size)
{
	size_t klen = pvio_strlen(key);

	if (!opts)
		return 0;
	const char *p = opts;
	while (*p) {
		const char *end = pvio_strchr(p, '&');
		if (!end)
			end = p + pvio_strlen(p);
		if ((size_t)(end - p) > klen && !pvio_strncmp(p, key, klen) &&
		    p[klen] == '=') {
			size_t vlen = (size_t)(end - p) - klen - 1;
			if (vlen + 1 > size)
				return -ENAMETOOLONG;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = '\0';
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}
