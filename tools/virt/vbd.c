/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/vbd.c - disk names: their letters, and Xen's VBD numbers.
 *
 * The VBD number is what a Xen guest finds under device/vbd/<number> in
 * xenstore, so it is the N of pvio's xen:vbd/N address.  Encoding from
 * Xen's docs/misc/vbd-interface.txt:
 *     1 << 28 | disk << 8 | partition    xvd, disks or partitions 16 on
 *   202 << 8 | disk << 4 | partition     xvd, disks and partitions to 15
 *     8 << 8 | disk << 4 | partition     sd, disks and partitions to 15
 *     3 << 8 | disk << 6 | partition     hd, disks 0..1, partitions to 63
 *    22 << 8 | (disk-2) << 6 | partition hd, disks 2..3, partitions to 63
 * The 1<<28 form holds disks up to 2^20 - 1 and partitions up to 255.
 * Letters count like spreadsheet columns: a = 0 ... z = 25, aa = 26.
 */
#include <errno.h>
#include <string.h>

#include "tools/virt/virt.h"

#define MAX_LETTERS 5 /* 26^5 > 2^20: more than any format holds */

static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int virt_disk_name_split(const char *name, const char **prefix, uint32_t *disk,
			 int *part)
{
	static const char *const prefixes[] = { "xvd", "vd", "sd", "hd" };
	const char *p = NULL;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) {
			p = prefixes[i];
			break;
		}
	if (!p)
		return -EINVAL;
	const char *s = name + strlen(p);
	uint32_t idx = 0;
	size_t n = 0;
	for (; *s >= 'a' && *s <= 'z'; s++, n++) {
		if (n == MAX_LETTERS)
			return -ERANGE;
		idx = idx * 26 + (uint32_t)(*s - 'a' + 1);
	}
	if (!n)
		return -EINVAL;
	int pt = -1;
	if (*s) {
		uint32_t v;
		int r = parse_uint(s, 255, &v);
		if (r)
			return r;
		pt = (int)v;
	}
	*prefix = p;
	*disk = idx - 1;
	*part = pt;
	return 0;
}

int virt_disk_name(const char *prefix, uint32_t disk, int part, char *buf,
		   size_t size)
{
	char letters[MAX_LETTERS + 2];
	size_t n = 0;
	uint64_t v = (uint64_t)disk + 1;
	while (v && n < MAX_LETTERS + 1) {
		v -= 1;
		letters[n++] = (char)('a' + v % 26);
		v /= 26;
	}
	if (v)
		return -ERANGE;
	char rev[MAX_LETTERS + 2];
	for (size_t i = 0; i < n; i++)
		rev[i] = letters[n - 1 - i];
	rev[n] = 0;
	int w = part >= 0 ? snprintf(buf, size, "%s%s%d", prefix, rev, part)
			  : snprintf(buf, size, "%s%s", prefix, rev);
	return (w < 0 || (size_t)w >= size) ? -ERANGE : 0;
}

static int xvd_number(uint32_t disk, uint32_t part, uint32_t *num)
{
	if (disk < 16 && part < 16) {
		*num = 202u << 8 | disk << 4 | part;
		return 0;
	}
	if (disk < (1u << 20) && part < 256) {
		*num = 1u << 28 | disk << 8 | part;
		return 0;
	}
	return -ERANGE;
}

int virt_vbd_number(const char *name, uint32_t *num)
{
	/* d<disk>[p<partition>] */
	if (name[0] == 'd' && name[1] >= '0' && name[1] <= '9') {
		char d[16];
		const char *p = strchr(name, 'p');
		size_t dl = p ? (size_t)(p - name - 1) : strlen(name + 1);
		if (dl == 0 || dl >= sizeof(d))
			return -EINVAL;
		memcpy(d, name + 1, dl);
		d[dl] = 0;
		uint32_t disk, part = 0;
		int r = parse_uint(d, (1u << 20) - 1, &disk);
		if (!r && p)
			r = parse_uint(p + 1, 255, &part);
		if (r)
			return r;
		return xvd_number(disk, part, num);
	}
	const char *prefix;
	uint32_t disk;
	int part;
	int r = virt_disk_name_split(name, &prefix, &disk, &part);
	if (r)
		return r;
	uint32_t pt = part < 0 ? 0 : (uint32_t)part;
	if (!strcmp(prefix, "xvd"))
		return xvd_number(disk, pt, num);
	if (!strcmp(prefix, "sd")) {
		if (disk > 15 || pt > 15)
			return -ERANGE;
		*num = 8u << 8 | disk << 4 | pt;
		return 0;
	}
	if (!strcmp(prefix, "hd")) {
		if (disk > 3 || pt > 63)
			return -ERANGE;
		*num = disk < 2 ? (3u << 8 | disk << 6 | pt)
				: (22u << 8 | (disk - 2) << 6 | pt);
		return 0;
	}
	return -EINVAL; /* vd*: not a name Xen knows */
}
