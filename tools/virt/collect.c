/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/collect.c - results from a probe guest's console.
 *
 * The guest writes its console to COM1 and QEMU's debugcon, which libvirt
 * and QEMU put in files; this reads a file incrementally, splits it into
 * lines, and keeps every line that starts with "PVIO-GUEST " as a result:
 * the first word after the prefix is the key, the rest the value (a key
 * seen again becomes "key#2", "key#3", ...).  Nothing else about the line
 * format is assumed, so the guest can grow its checks without this file
 * changing.  A guest is not trusted: lines are bounded (longer ones are
 * dropped whole), carriage returns and NULs are ignored, results are
 * capped, and everything printed is made printable by the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/virt/virt.h"

#define MAX_RESULTS 4096

void virt_collect_init(struct virt_collect *c, const char *path, FILE *forward,
		       const char *tag)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->forward = forward;
	c->tag = tag;
}

static void add_result(struct virt_collect *c, const char *line)
{
	const char *p = line + strlen(VIRT_GUEST_PREFIX);
	while (*p == ' ')
		p++;
	size_t kl = strcspn(p, " ");
	if (!kl || c->nres >= MAX_RESULTS)
		return;
	char key[80];
	snprintf(key, sizeof(key), "%.*s", (int)(kl < 60 ? kl : 60), p);
	/* repeats: key#2, key#3 */
	unsigned same = 0;
	for (size_t i = 0; i < c->nres; i++) {
		const char *k = c->res[i].key;
		size_t l = strlen(key);
		if (!strncmp(k, key, l) && (k[l] == 0 || k[l] == '#'))
			same++;
	}
	if (same)
		snprintf(key + strlen(key), sizeof(key) - strlen(key), "#%u",
			 same + 1);
	const char *v = p + kl;
	while (*v == ' ')
		v++;
	if (c->nres == c->capres) {
		size_t cap = c->capres ? c->capres * 2 : 16;
		struct virt_result *r = realloc(c->res, cap * sizeof(*r));
		if (!r)
			return;
		c->res = r;
		c->capres = cap;
	}
	c->res[c->nres].key = virt_strdup(key);
	c->res[c->nres].value = virt_strdup(v);
	c->nres++;
	if (c->forward) {
		char buf[1100];
		fprintf(c->forward, "%s%s\n", c->tag ? c->tag : "",
			virt_printable(line, buf, sizeof(buf)));
		fflush(c->forward);
	}
}

static size_t end_line(struct virt_collect *c)
{
	size_t n = 0;
	if (!c->overlong) {
		c->partial[c->plen] = 0;
		c->lines++;
		if (!strncmp(c->partial, VIRT_GUEST_PREFIX,
			     strlen(VIRT_GUEST_PREFIX))) {
			size_t before = c->nres;
			add_result(c, c->partial);
			n = c->nres - before;
		}
	}
	c->plen = 0;
	c->overlong = false;
	return n;
}

size_t virt_collect_feed(struct virt_collect *c, const char *p, size_t n)
{
	size_t added = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (ch == '\n') {
			added += end_line(c);
		} else if (ch == '\r' || ch == 0) {
			continue;
		} else if (c->plen + 1 < sizeof(c->partial)) {
			c->partial[c->plen++] = ch;
		} else {
			c->overlong = true;
		}
	}
	return added;
}

size_t virt_collect_poll(struct virt_collect *c, bool at_end)
{
	size_t added = 0;
	FILE *f = c->path ? fopen(c->path, "rb") : NULL;
	if (f) {
		if (fseek(f, c->offset, SEEK_SET) == 0) {
			char buf[4096];
			size_t n;
			/* bounded per poll: a guest that floods its console
			 * is read over several polls, never all at once */
			for (int i = 0; i < 256 &&
				     (n = fread(buf, 1, sizeof(buf), f)) > 0; i++) {
				c->offset += (long)n;
				added += virt_collect_feed(c, buf, n);
			}
		}
		fclose(f);
	}
	if (at_end && c->plen)
		added += end_line(c);
	return added;
}

const char *virt_collect_get(const struct virt_collect *c, const char *key)
{
	for (size_t i = 0; i < c->nres; i++)
		if (!strcmp(c->res[i].key, key))
			return c->res[i].value;
	return NULL;
}

void virt_collect_free(struct virt_collect *c)
{
	for (size_t i = 0; i < c->nres; i++) {
		free(c->res[i].key);
		free(c->res[i].value);
	}
	free(c->res);
	c->res = NULL;
	c->nres = c->capres = 0;
}
