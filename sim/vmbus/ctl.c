/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/ctl.c - management commands of the simulated Hyper-V host
 * (`pvio sim ctl SOCKET COMMAND`): status, and the faults a test injects.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/scsi.h"
#include "vmbus/shv.h"

static const char help_text[] =
	"commands:\n"
	"  help                      this list\n"
	"  status [DEV]              devices, partitions, channels, counters "
	"(of DEV only)\n"
	"  quit                      stop the host\n"
	"  rescind DEV               rescind DEV's channels in every partition "
	"(mid-I/O: requests\n"
	"                            not yet served are never completed)\n"
	"  offer DEV                 offer a rescinded DEV again (new relid)\n"
	"  delay MS                  slow host: serve each guest signal MS ms "
	"later (0: off)\n"
	"  corrupt DEV KIND [N]      corrupt DEV's next N (1) host packets; "
	"KIND: transid,\n"
	"                            offset8, len8, rndis-len, xfer-range, "
	"status\n"
	"  sense DEV N [KEY ASC ASCQ] fail DEV's next N SCSI commands with "
	"CHECK CONDITION\n"
	"                            (default 3 11 00: medium error, "
	"unrecovered read error)\n"
	"  link DEV up|down          NIC link state (guest gets "
	"INDICATE_STATUS)\n"
	"  resize DEV SIZE           resize DEV's image (UNIT ATTENTION "
	"2A/09 next)\n"
	"  reset DEV                 UNIT ATTENTION 29/00 on DEV's next "
	"command\n"

	"DEV: storvscN or netvscN (offer order within the class)\n";

const char *shv_ctl_help(void)
{
	return help_text;
}

struct out {
	char *p;
	size_t len, used;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->used + 1 >= o->len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->used += (size_t)n;
	if (o->used >= o->len) {
		o->used = o->len - 1;
		if (o->len > 5)
			memcpy(o->p + o->len - 5, "...\n", 5);
	}
}

static const char *const corrupt_names[] = {
	[SHV_CORRUPT_TRANSID] = "transid",
	[SHV_CORRUPT_OFFSET8] = "offset8",
	[SHV_CORRUPT_LEN8] = "len8",
	[SHV_CORRUPT_RNDIS_LEN] = "rndis-len",
	[SHV_CORRUPT_XFER_RANGE] = "xfer-range",
	[SHV_CORRUPT_STATUS] = "status",
};

enum shv_corrupt shv_dev_take_corrupt(struct shv_dev *d, uint32_t kinds)
{
	if (!d->corrupt_left || !(kinds & SHV_CK(d->corrupt)))
		return SHV_CORRUPT_NONE;
	enum shv_corrupt k = d->corrupt;
	if (--d->corrupt_left == 0)
		d->corrupt = SHV_CORRUPT_NONE;
	sim_log(SIM_LOG_INFO, "%s: injecting fault: %s", d->name,
		corrupt_names[k]);
	return k;
}

struct shv_dev *shv_host_dev(struct shv_host *h, const char *name)
{
	for (unsigned i = 0; i < h->ndevs; i++)
		if (!strcmp(h->devs[i]->name, name))
			return h->devs[i];
	return NULL;
}

static void status(struct shv_host *h, struct out *o,
		   const struct shv_dev *only)
{
	char line[512];
	put(o, "host socket=%s max_version=%u.%u delay_ms=%u partitions=%u\n",
	    h->socket_path, h->max_version >> 16, h->max_version & 0xFFFF,
	    h->delay_ms, h->nparts);
	for (unsigned i = 0; i < h->ndevs; i++) {
		struct shv_dev *d = h->devs[i];
		if (only && d != only)
			continue;
		char g[37];
		shv_guid_str(d->inst_guid, g);
		d->ops->status(d, line, sizeof(line));
		put(o, "dev %s instance=%s channels=%u offered=%d owner=%u %s\n",
		    d->name, g, d->channels, d->offered,
		    d->owner ? d->owner->id : 0, line);
		shv_uio_status(h, d, line, sizeof(line));
		if (line[0])
			put(o, "uio %s %s\n", d->name, line);
	}
	for (struct shv_part *p = h->parts; p; p = p->next) {
		put(o, "part %u name=%s state=%s vmbus=%u.%u gpadls=%u\n",
		    p->id, p->name,
		    p->state == SHV_P_CONNECTED ? "connected" : "disconnected",
		    p->version >> 16, p->version & 0xFFFF, p->ngpadls);
		for (struct shv_chan *c = p->chans; c; c = c->next) {
			const struct shv_chan_stats *s = &c->st;
			if (only && c->dev != only)
				continue;
			put(o,
			    "chan part=%u relid=%u dev=%s sub=%u state=%s "
			    "conn_id=%#x monitor=%u pkts_in=%llu pkts_out=%llu "
			    "signals=%llu unexpected=%llu interrupts=%llu "
			    "suppressed=%llu ring_full=%llu dropped=%llu "
			    "bad=%llu\n",
			    p->id, c->relid, c->dev->name, c->sub_index,
			    c->state == SHV_CH_OPEN
				    ? (c->broken ? "broken" : "open")
			    : c->state == SHV_CH_OFFERED ? "offered"
							 : "rescinded",
			    c->conn_id, c->monitor_id,
			    (unsigned long long)s->pkts_in,
			    (unsigned long long)s->pkts_out,
			    (unsigned long long)s->signals_in,
			    (unsigned long long)s->signals_unexpected,
			    (unsigned long long)s->interrupts,
			    (unsigned long long)s->interrupts_suppressed,
			    (unsigned long long)s->ring_full,
			    (unsigned long long)s->dropped,
			    (unsigned long long)s->bad);
		}
	}
}

static int parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || x > max)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

int shv_ctl(struct shv_host *h, const char *cmd, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	char copy[1024], *argv[8];
	int argc = 0;
	buf[0] = 0;
	snprintf(copy, sizeof(copy), "%s", cmd);
	for (char *t = strtok(copy, " \t\n"); t && argc < 8;
	     t = strtok(NULL, " \t\n"))
		argv[argc++] = t;
	if (!argc || !strcmp(argv[0], "help")) {
		put(&o, "%s", help_text);
		return 0;
	}
	if (!strcmp(argv[0], "status") && argc == 1) {
		status(h, &o, NULL);
		return 0;
	}
	if (!strcmp(argv[0], "quit")) {
		put(&o, "stopping\n");
		sim_loop_stop(h->loop);
		return 0;
	}
	if (!strcmp(argv[0], "delay") && argc == 2) {
		uint32_t ms;
		if (parse_u32(argv[1], 60000, &ms) < 0) {
			put(&o, "delay: MS must be 0..60000\n");
			return -EINVAL;
		}
		h->delay_ms = ms;
		put(&o, "delay %u ms\n", ms);
		return 0;
	}
	if (argc < 2) {
		put(&o, "unknown or incomplete command '%s'; try help\n",
		    argv[0]);
		return -EINVAL;
	}
	struct shv_dev *d = shv_host_dev(h, argv[1]);
	if (!d) {
		put(&o, "no device '%s'; devices:", argv[1]);
		for (unsigned i = 0; i < h->ndevs; i++)
			put(&o, " %s", h->devs[i]->name);
		put(&o, "\n");
		return -ENOENT;
	}
	if (!strcmp(argv[0], "status") && argc == 2) {
		status(h, &o, d);
		return 0;
	}
	if (!strcmp(argv[0], "rescind") && argc == 2) {
		if (!d->offered) {
			put(&o, "%s is already rescinded\n", d->name);
			return -EALREADY;
		}
		shv_vmbus_rescind_dev(h, d);
		put(&o, "%s rescinded\n", d->name);
		return 0;
	}
	if (!strcmp(argv[0], "offer") && argc == 2) {
		if (d->offered) {
			put(&o, "%s is offered already\n", d->name);
			return -EALREADY;
		}
		shv_vmbus_offer_dev(h, d);
		put(&o, "%s offered\n", d->name);
		return 0;
	}
	if (!strcmp(argv[0], "corrupt") && (argc == 3 || argc == 4)) {
		uint32_t n = 1;
		enum shv_corrupt k = SHV_CORRUPT_NONE;
		for (unsigned i = 1; i < sizeof(corrupt_names) /
						 sizeof(corrupt_names[0]);
		     i++)
			if (!strcmp(argv[2], corrupt_names[i]))
				k = (enum shv_corrupt)i;
		if (k == SHV_CORRUPT_NONE ||
		    (argc == 4 && parse_u32(argv[3], 1000000, &n) < 0) || !n) {
			put(&o, "corrupt DEV KIND [N]: KIND is transid, "
				"offset8, len8, rndis-len, xfer-range or "
				"status; N >= 1\n");
			return -EINVAL;
		}
		if ((k == SHV_CORRUPT_RNDIS_LEN || k == SHV_CORRUPT_XFER_RANGE) &&
		    d->kind != SHV_DEV_NIC) {
			put(&o, "%s applies to NICs only\n", argv[2]);
			return -EINVAL;
		}
		d->corrupt = k;
		d->corrupt_left = n;
		put(&o, "%s: next %u host packets get %s\n", d->name, n,
		    argv[2]);
		return 0;
	}
	if (!strcmp(argv[0], "sense") && (argc == 3 || argc == 6)) {
		uint32_t n, key = SHV_SK_MEDIUM_ERROR, asc = 0x11, ascq = 0;
		if (d->kind != SHV_DEV_SCSI ||
		    parse_u32(argv[2], 1000000, &n) < 0 ||
		    (argc == 6 && (parse_u32(argv[3], 15, &key) < 0 ||
				   parse_u32(argv[4], 255, &asc) < 0 ||
				   parse_u32(argv[5], 255, &ascq) < 0))) {
			put(&o, "sense storvscN N [KEY ASC ASCQ] (numbers, "
				"0x.. for hex)\n");
			return -EINVAL;
		}
		d->disk.sense_left = n;
		d->disk.sense_key = (uint8_t)key;
		d->disk.sense_asc = (uint16_t)(asc << 8 | ascq);
		put(&o, "%s: next %u commands fail with sense %x/%02x/%02x\n",
		    d->name, n, key, asc, ascq);
		return 0;
	}
	if (!strcmp(argv[0], "link") && argc == 3) {
		if (d->kind != SHV_DEV_NIC ||
		    (strcmp(argv[2], "up") && strcmp(argv[2], "down"))) {
			put(&o, "link netvscN up|down\n");
			return -EINVAL;
		}
		bool up = !strcmp(argv[2], "up");
		if (d->nic.link_up != up) {
			d->nic.link_up = up;
			d->ops->changed(d);
		}
		put(&o, "%s link %s\n", d->name, argv[2]);
		return 0;
	}
	if (!strcmp(argv[0], "resize") && argc == 3) {
		uint64_t bytes;
		if (d->kind != SHV_DEV_SCSI || sim_parse_size(argv[2], &bytes) ||
		    bytes % d->disk.bs) {
			put(&o, "resize storvscN SIZE (a multiple of the block "
				"size)\n");
			return -EINVAL;
		}
		int r = shv_disk_resize(&d->disk, bytes);
		if (r < 0) {
			put(&o, "resize %s: %s\n", d->name, strerror(-r));
			return r;
		}
		d->ops->changed(d);
		put(&o, "%s: %llu blocks\n", d->name,
		    (unsigned long long)d->disk.blocks);
		return 0;
	}
	if (!strcmp(argv[0], "reset") && argc == 2) {
		if (d->kind != SHV_DEV_SCSI) {
			put(&o, "reset storvscN\n");
			return -EINVAL;
		}
		d->disk.ua = SHV_ASC_POWER_ON_RESET;
		put(&o, "%s: unit attention pending\n", d->name);
		return 0;
	}
	put(&o, "unknown or incomplete command '%s'; try help\n", argv[0]);
	return -EINVAL;
}
