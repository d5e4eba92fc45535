/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/gpadl.c - GPADLs: assembling GPADL_HEADER + GPADL_BODY into a
 * list of guest pages, answering GPADL_CREATED, and GPADL_TEARDOWN.
 *
 * Every PFN is checked against the partition's memory as it arrives; the
 * first problem is remembered and, once all the PFNs the header announced
 * have arrived, GPADL_CREATED carries a failure status (the guest sends its
 * bodies back to back, so answering early would leave them dangling).
 * A GPADL still used by a ring or a device buffer when the guest tears it
 * down is answered when the user lets go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/shv.h"

struct shv_gpadl *shv_gpadl_find(struct shv_part *p, uint32_t handle)
{
	for (struct shv_gpadl *g = p->gpadls; g; g = g->next)
		if (g->handle == handle)
			return g;
	return NULL;
}

static void unlink_gpadl(struct shv_part *p, struct shv_gpadl *g)
{
	for (struct shv_gpadl **pp = &p->gpadls; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			p->ngpadls--;
			break;
		}
	free(g->page);
	free(g);
}

static void send_created(struct shv_part *p, uint32_t relid, uint32_t handle,
			 uint32_t status)
{
	struct shv_msg_gpadl_created m = {
		.hdr.type = SHV_MSG_GPADL_CREATED,
		.relid = relid,
		.gpadl = handle,
		.status = status,
	};
	shv_vmbus_send(p, &m, sizeof(m));
}

static void send_torndown(struct shv_part *p, uint32_t handle)
{
	struct shv_msg_gpadl_torndown m = {
		.hdr.type = SHV_MSG_GPADL_TORNDOWN,
		.gpadl = handle,
	};
	shv_vmbus_send(p, &m, sizeof(m));
}

static void fail(struct shv_gpadl *g, const char *why)
{
	if (g->state != SHV_GPADL_FAILED) {
		g->state = SHV_GPADL_FAILED;
		g->fail_reason = why;
	}
}

static void add_pfns(struct shv_part *p, struct shv_gpadl *g,
		     const uint8_t *pfns, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pfn = shv_get64(pfns + 8u * i);
		uint8_t *hva = shv_part_page(p, pfn);
		if (!hva)
			fail(g, "a PFN lies outside guest memory");
		else if (g->state != SHV_GPADL_FAILED && g->page &&
			 g->received < g->npages)
			g->page[g->received] = hva;
		g->received++;
	}
}

/* All PFNs are in: answer, and forget a failed GPADL. */
static void maybe_complete(struct shv_part *p, struct shv_gpadl *g)
{
	if (g->received < g->expected)
		return;
	if (g->state == SHV_GPADL_FAILED) {
		shv_warn("part %u: GPADL %#x refused: %s", p->id, g->handle,
			 g->fail_reason);
		send_created(p, g->relid, g->handle, SHV_NT_INVALID_PARAMETER);
		unlink_gpadl(p, g);
		return;
	}
	g->state = SHV_GPADL_READY;
	sim_log(SIM_LOG_DEBUG, "part %u: GPADL %#x: %u pages for relid %u",
		p->id, g->handle, g->npages, g->relid);
	send_created(p, g->relid, g->handle, SHV_NT_SUCCESS);
}

void shv_gpadl_header(struct shv_part *p, const uint8_t *msg, uint32_t len)
{
	if (len < sizeof(struct shv_msg_gpadl_header) ||
	    (len - sizeof(struct shv_msg_gpadl_header)) % 8) {
		shv_warn("part %u: GPADL_HEADER of %u bytes is malformed; "
			 "dropped", p->id, len);
		return;
	}
	uint32_t relid = shv_get32(msg + 8);
	uint32_t handle = shv_get32(msg + 12);
	uint16_t range_buflen = shv_get16(msg + 16);
	uint16_t rangecount = shv_get16(msg + 18);
	uint32_t byte_count = shv_get32(msg + 20);
	uint32_t byte_offset = shv_get32(msg + 24);
	uint32_t here = (len - (uint32_t)sizeof(struct shv_msg_gpadl_header)) / 8;

	if (range_buflen < 16 || range_buflen % 8) {
		shv_warn("part %u: GPADL %#x: range_buflen %u cannot describe "
			 "a range; refused", p->id, handle, range_buflen);
		send_created(p, relid, handle, SHV_NT_INVALID_PARAMETER);
		return;
	}
	if (!handle || shv_gpadl_find(p, handle)) {
		shv_warn("part %u: GPADL handle %#x is %s; refused", p->id,
			 handle, handle ? "already in use" : "zero");
		send_created(p, relid, handle, SHV_NT_INVALID_PARAMETER);
		return;
	}
	if (p->ngpadls >= SHV_MAX_GPADLS) {
		shv_warn("part %u: more than %u GPADLs; GPADL %#x refused",
			 p->id, SHV_MAX_GPADLS, handle);
		send_created(p, relid, handle, SHV_NT_UNSUCCESSFUL);
		return;
	}
	struct shv_gpadl *g = calloc(1, sizeof(*g));
	if (!g) {
		send_created(p, relid, handle, SHV_NT_UNSUCCESSFUL);
		return;
	}
	g->handle = handle;
	g->relid = relid;
	g->byte_count = byte_count;
	g->byte_offset = byte_offset;
	g->expected = (range_buflen - 8u) / 8u;
	g->state = SHV_GPADL_ASSEMBLING;
	g->next = p->gpadls;
	p->gpadls = g;
	p->ngpadls++;

	struct shv_chan *c = shv_part_chan(p, relid);
	uint64_t span = (uint64_t)byte_offset + byte_count;
	g->npages = (uint32_t)((span + SHV_PAGE - 1) / SHV_PAGE);
	if (!c || c->state == SHV_CH_RESCINDED)
		fail(g, "relid is not an offered channel");
	else if (rangecount != 1)
		fail(g, "rangecount is not 1");
	else if (!byte_count || byte_offset >= SHV_PAGE)
		fail(g, "byte_count zero or byte_offset beyond the first page");
	else if (g->npages != g->expected)
		fail(g, "range_buflen does not match byte_offset + byte_count");
	else if (here > g->expected)
		fail(g, "more PFNs than range_buflen announces");
	if (g->state != SHV_GPADL_FAILED) {
		g->page = calloc(g->npages, sizeof(*g->page));
		if (!g->page)
			fail(g, "host out of memory");
	}
	add_pfns(p, g, msg + sizeof(struct shv_msg_gpadl_header),
		 here < g->expected ? here : g->expected);
	if (here > g->expected)
		g->received = g->expected;
	maybe_complete(p, g);
}

void shv_gpadl_body(struct shv_part *p, const uint8_t *msg, uint32_t len)
{
	if (len < sizeof(struct shv_msg_gpadl_body) + 8 ||
	    (len - sizeof(struct shv_msg_gpadl_body)) % 8) {
		shv_warn("part %u: GPADL_BODY of %u bytes is malformed; "
			 "dropped", p->id, len);
		return;
	}
	uint32_t handle = shv_get32(msg + 12);
	uint32_t n = (len - (uint32_t)sizeof(struct shv_msg_gpadl_body)) / 8;
	struct shv_gpadl *g = shv_gpadl_find(p, handle);
	if (!g || g->state == SHV_GPADL_READY) {
		shv_warn("part %u: GPADL_BODY for %s GPADL %#x; dropped", p->id,
			 g ? "an already complete" : "an unknown", handle);
		return;
	}
	if (n > g->expected - g->received) {
		fail(g, "GPADL_BODY messages carry more PFNs than announced");
		g->received = g->expected;
	} else {
		add_pfns(p, g, msg + sizeof(struct shv_msg_gpadl_body), n);
	}
	maybe_complete(p, g);
}

void shv_gpadl_teardown(struct shv_part *p, const uint8_t *msg, uint32_t len)
{
	if (len < sizeof(struct shv_msg_gpadl_teardown)) {
		shv_warn("part %u: GPADL_TEARDOWN of %u bytes is too short; "
			 "dropped", p->id, len);
		return;
	}
	uint32_t relid = shv_get32(msg + 8);
	uint32_t handle = shv_get32(msg + 12);
	struct shv_gpadl *g = shv_gpadl_find(p, handle);
	if (!g) {
		shv_warn("part %u: GPADL_TEARDOWN of unknown GPADL %#x; "
			 "dropped", p->id, handle);
		return;
	}
	if (g->relid != relid)
		shv_warn("part %u: GPADL_TEARDOWN of GPADL %#x names relid %u, "
			 "it was created for relid %u", p->id, handle, relid,
			 g->relid);
	if (g->state != SHV_GPADL_READY) {
		shv_warn("part %u: GPADL %#x torn down before all its PFNs "
			 "arrived", p->id, handle);
		unlink_gpadl(p, g);
		send_torndown(p, handle);
		return;
	}
	if (g->users) {
		shv_warn("part %u: GPADL %#x torn down while still in use; "
			 "answering when the host lets go", p->id, handle);
		g->teardown_pending = true;
		return;
	}
	unlink_gpadl(p, g);
	send_torndown(p, handle);
}

void shv_gpadl_get(struct shv_gpadl *g)
{
	g->users++;
}

void shv_gpadl_put(struct shv_part *p, struct shv_gpadl *g)
{
	if (!g || !g->users)
		return;
	if (--g->users == 0 && g->teardown_pending) {
		uint32_t handle = g->handle;
		unlink_gpadl(p, g);
		send_torndown(p, handle);
	}
}

void shv_gpadl_drop(struct shv_part *p, uint32_t relid, bool all)
{
	struct shv_gpadl **pp = &p->gpadls;
	while (*pp) {
		struct shv_gpadl *g = *pp;
		if ((all || g->relid == relid) && !g->users) {
			*pp = g->next;
			p->ngpadls--;
			free(g->page);
			free(g);
		} else {
			pp = &g->next;
		}
	}
}

/* Callers bound [off, off+len) by byte_count. */
void shv_gpadl_read(const struct shv_gpadl *g, uint32_t off, void *dst,
		    uint32_t len)
{
	uint8_t *d = dst;
	uint64_t pos = (uint64_t)g->byte_offset + off;
	while (len) {
		uint32_t pg = (uint32_t)(pos / SHV_PAGE);
		uint32_t o = (uint32_t)(pos % SHV_PAGE);
		uint32_t n = SHV_PAGE - o < len ? SHV_PAGE - o : len;
		memcpy(d, g->page[pg] + o, n);
		d += n;
		pos += n;
		len -= n;
	}
}

void shv_gpadl_write(const struct shv_gpadl *g, uint32_t off,
		     const void *src, uint32_t len)
{
	const uint8_t *s = src;
	uint64_t pos = (uint64_t)g->byte_offset + off;
	while (len) {
		uint32_t pg = (uint32_t)(pos / SHV_PAGE);
		uint32_t o = (uint32_t)(pos % SHV_PAGE);
		uint32_t n = SHV_PAGE - o < len ? SHV_PAGE - o : len;
		memcpy(g->page[pg] + o, s, n);
		s += n;
		pos += n;
		len -= n;
	}
}
