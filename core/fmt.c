/* SPDX-License-Identifier: MIT */
/*
 * core/fmt.c - a small bounded printf for messages, usable without a C
 * library so the hosted and freestanding builds word errors identically.
 */
#include "core.h"

struct out {
	char *buf;
	size_t size;
	size_t n; /* characters produced, even beyond size */
};

static void put(struct out *o, char c)
{
	if (o->n + 1 < o->size)
		o->buf[o->n] = c;
	o->n++;
}

static void put_str(struct out *o, const char *s, int width, int left,
		    int prec)
{
	size_t len = 0;
	if (!s)
		s = "(null)";
	while (s[len] && (prec < 0 || (int)len < prec))
		len++;
	int pad = width > (int)len ? width - (int)len : 0;
	if (!left)
		while (pad-- > 0)
			put(o, ' ');
	for (size_t i = 0; i < len; i++)
		put(o, s[i]);
	if (left)
		while (pad-- > 0)
			put(o, ' ');
}

static void put_num(struct out *o, unsigned long long v, int neg,
		    unsigned base, int upper, int width, int zero, int left)
{
	char tmp[24];
	int len = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		tmp[len++] = digits[v % base];
		v /= base;
	} while (v);
	int total = len + (neg ? 1 : 0);
	int pad = width > total ? width - total : 0;
	if (!left && !zero)
		while (pad-- > 0)
			put(o, ' ');
	if (neg)
		put(o, '-');
	if (!left && zero)
		while (pad-- > 0)
			put(o, '0');
	while (len)
		put(o, tmp[--len]);
	if (left)
		while (pad-- > 0)
			put(o, ' ');
}

int pvio_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		int left = 0, zero = 0, width = 0, prec = -1, lng = 0, sz = 0;
		for (;; p++) {
			if (*p == '-')
				left = 1;
			else if (*p == '0')
				zero = 1;
			else
				break;
		}
		if (*p == '*') {
			width = va_arg(ap, int);
			p++;
			if (width < 0) {
				/* as in C: a negative width is the - flag */
				left = 1;
				width = width < -65536 ? 65536 : -width;
			}
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		while (*p == 'l') {
			lng++;
			p++;
		}
		int shrt = 0; /* h: short, hh: char (passed as int) */
		while (*p == 'h') {
			shrt++;
			p++;
		}
		if (*p == 'z') {
			sz = 1;
			p++;
		}
		unsigned long long u;
		long long s;
		switch (*p) {
		case 'd':
		case 'i':
			if (sz)
				s = (long long)va_arg(ap, long);
			else if (lng >= 2)
				s = va_arg(ap, long long);
			else if (lng == 1)
				s = va_arg(ap, long);
			else if (shrt == 1)
				s = (short)va_arg(ap, int);
			else if (shrt >= 2)
				s = (signed char)va_arg(ap, int);
			else
				s = va_arg(ap, int);
			put_num(&o, s < 0 ? 0ull - (unsigned long long)s
					  : (unsigned long long)s,
				s < 0, 10, 0, width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			if (sz)
				u = va_arg(ap, size_t);
			else if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else if (shrt == 1)
				u = (unsigned short)va_arg(ap, unsigned int);
			else if (shrt >= 2)
				u = (unsigned char)va_arg(ap, unsigned int);
			else
				u = va_arg(ap, unsigned int);
			put_num(&o, u, 0, *p == 'u' ? 10 : 16, *p == 'X', width,
				zero, left);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 0, 16, 0, 0, 0,
				0);
			break;
		case 's':
			put_str(&o, va_arg(ap, const char *), width, left, prec);
			break;
		case 'c': {
			char ch = (char)va_arg(ap, int);
			int pad = width > 1 ? width - 1 : 0;
			if (!left)
				while (pad-- > 0)
					put(&o, ' ');
			put(&o, ch);
			if (left)
				while (pad-- > 0)
					put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--;
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.n < size ? o.n : size - 1] = '\0';
	return (int)o.n;
}

int pvio_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = pvio_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
