/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/storvsp.c - the StorVSP: VSTOR on a channel, SCSI requests
 * (SRBs) executed on the disk of scsi.c.
 *
 * Initialisation is BEGIN_INITIALIZATION, QUERY_PROTOCOL_VERSION (6.2,
 * 6.0 and 5.1 accepted; others answered with STATUS_REVISION_MISMATCH),
 * QUERY_PROPERTIES, END_INITIALIZATION, then CREATE_SUB_CHANNELS if the
 * guest wants more channels.  EXECUTE_SRB carries data in a GPA-direct
 * packet with exactly one range; every PFN is checked and the range must
 * cover data_transfer_length.  Requests out of order get
 * STATUS_INVALID_DEVICE_STATE.  Replies are COMP packets with operation
 * COMPLETE_IO, as long as the request was (48 bytes before version
 * negotiation, as Linux sends them, 64 after).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/scsi.h"
#include "vmbus/shv.h"

enum phase { PH_NEW, PH_BEGUN, PH_VERSIONED, PH_READY };

struct stor_state {
	struct shv_dev *dev;
	unsigned refs;
	enum phase phase;
	uint16_t version;
	uint64_t srbs, errors;
	struct shv_sg sg;
};

#define PRE_WIN8_PACKET 48u

static int stor_open(struct shv_chan *c)
{
	struct shv_dev *d = c->dev;
	struct stor_state *s = d->state;
	if (c->sub_index) {
		if (!s)
			return -EINVAL;
		s->refs++;
		return 0;
	}
	if (s)
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = d;
	s->refs = 1;
	d->state = s;
	return 0;
}

static void stor_close(struct shv_chan *c)
{
	struct stor_state *s = c->dev->state;
	if (s && --s->refs == 0) {
		free(s);
		c->dev->state = NULL;
	}
}

static void reply(struct shv_chan *c, const struct shv_pkt *pkt,
		  struct shv_vstor_packet *v, uint32_t len, uint32_t status)
{
	if (!(pkt->flags & SHV_PKT_FLAG_RC))
		return;
	v->operation = SHV_VSTOR_COMPLETE_IO;
	v->flags = 0;
	v->status = status;
	if (shv_dev_take_corrupt(c->dev, SHV_CK(SHV_CORRUPT_STATUS)) ==
	    SHV_CORRUPT_STATUS)
		v->status = SHV_NT_UNSUCCESSFUL;
	shv_chan_complete(c, pkt->trans_id, v, len);
}

static void srb_fail(struct shv_vstor_packet *v, uint8_t srb_status)
{
	v->srb.srb_status = srb_status;
	v->srb.scsi_status = 0;
	v->srb.sense_info_length = 0;
	v->srb.data_transfer_length = 0;
}

static void execute_srb(struct shv_chan *c, struct stor_state *s,
			const struct shv_pkt *pkt, struct shv_vstor_packet *v)
{
	struct shv_vmscsi_request *r = &v->srb;
	uint32_t dlen = r->data_transfer_length;
	const char *bad = NULL;
	uint8_t cdb[SHV_SRB_CDB_MAX];
	bool fin = r->srb_flags & SHV_SRB_FLAGS_DATA_IN;
	bool fout = r->srb_flags & SHV_SRB_FLAGS_DATA_OUT;
	s->srbs++;
	if (r->length != sizeof(*r))
		bad = "vm_srb length is not 52";
	else if (!r->cdb_length || r->cdb_length > SHV_SRB_CDB_MAX)
		bad = "CDB length not 1..16";
	else if (r->data_in > SHV_DATA_NONE)
		bad = "data_in not 0, 1 or 2";
	else if (dlen && r->data_in == SHV_DATA_NONE)
		bad = "data without a direction";
	else if (dlen > c->dev->disk.max_transfer)
		bad = "data_transfer_length above the advertised maximum";
	else if (dlen && pkt->type != SHV_PKT_GPA_DIRECT)
		bad = "data but no GPA-direct range";
	else if (dlen && pkt->range_cnt != 1)
		bad = "more than one GPA range";
	else if (dlen && shv_get32(pkt->ranges) < dlen)
		bad = "GPA range shorter than data_transfer_length";
	else if (fin != fout && ((r->data_in == SHV_DATA_IN && fout) ||
				 (r->data_in == SHV_DATA_OUT && fin)))
		bad = "srb_flags direction contradicts data_in";
	memcpy(cdb, r->cdb, sizeof(cdb));
	if (!bad && dlen) {
		int dir = shv_scsi_dir(cdb, r->cdb_length);
		if (dir != SHV_DATA_NONE && dir != r->data_in)
			bad = "data direction contradicts the command";
	}
	if (!bad && dlen)
		shv_pkt_sg(c->part, pkt, &s->sg, &bad); /* sets bad */
	if (bad) {
		shv_warn("%s: SRB (opcode %#x) refused: %s", shv_chan_name(c),
			 cdb[0], bad);
		s->errors++;
		srb_fail(v, SHV_SRB_INVALID_REQUEST);
		return;
	}
	if (r->path_id || r->target_id || r->lun) {
		srb_fail(v, SHV_SRB_INVALID_LUN);
		return;
	}
	struct shv_scsi_cmd cmd = {
		.cdb = cdb,
		.cdb_len = r->cdb_length,
		.data = dlen ? &s->sg : NULL,
		.data_len = dlen,
	};
	shv_scsi_exec(&c->dev->disk, &cmd);
	uint8_t want_sense = r->sense_info_length;
	r->scsi_status = cmd.status;
	r->data_transfer_length = cmd.transferred;
	memset(r->sense, 0, sizeof(r->sense));
	r->sense_info_length = 0;
	if (cmd.status == SHV_SAM_CHECK_CONDITION) {
		s->errors++;
		r->srb_status = SHV_SRB_ERROR;
		if (want_sense) {
			uint8_t n = want_sense < cmd.sense_len ? want_sense
							       : cmd.sense_len;
			if (n > SHV_SRB_SENSE_MAX)
				n = SHV_SRB_SENSE_MAX;
			memcpy(r->sense, cmd.sense, n);
			r->sense_info_length = n;
			r->srb_status |= SHV_SRB_AUTOSENSE_VALID;
		}
	} else if (cmd.overrun) {
		r->srb_status = SHV_SRB_DATA_OVERRUN;
	} else {
		r->srb_status = SHV_SRB_SUCCESS;
	}
}

static void stor_packet(struct shv_chan *c, const struct shv_pkt *pkt)
{
	struct stor_state *s = c->dev->state;
	struct shv_vstor_packet v;
	if (pkt->type == SHV_PKT_COMP) {
		shv_warn("%s: completion packet from the guest; StorVSP sends "
			 "none that need one; dropped", shv_chan_name(c));
		return;
	}
	if (pkt->len < PRE_WIN8_PACKET) {
		shv_warn("%s: VSTOR packet of %u bytes is too short; dropped",
			 shv_chan_name(c), pkt->len);
		return;
	}
	uint32_t len = pkt->len < sizeof(v) ? pkt->len : (uint32_t)sizeof(v);
	memset(&v, 0, sizeof(v));
	memcpy(&v, pkt->data, len);
	if (!(pkt->flags & SHV_PKT_FLAG_RC) ||
	    !(v.flags & SHV_VSTOR_FLAG_REQUEST_COMPLETION))
		shv_warn("%s: VSTOR operation %u without completion requested",
			 shv_chan_name(c), v.operation);
	uint32_t st = SHV_NT_SUCCESS;
	bool primary = !c->sub_index;

	switch (v.operation) {
	case SHV_VSTOR_BEGIN_INIT:
		if (!primary || s->phase != PH_NEW)
			st = SHV_NT_INVALID_DEVICE_STATE;
		else
			s->phase = PH_BEGUN;
		break;
	case SHV_VSTOR_QUERY_PROTOCOL_VERSION:
		if (!primary || s->phase != PH_BEGUN) {
			st = SHV_NT_INVALID_DEVICE_STATE;
			break;
		}
		if (v.version.major_minor == SHV_VSTOR_WIN10 ||
		    v.version.major_minor == SHV_VSTOR_WIN8_1 ||
		    v.version.major_minor == SHV_VSTOR_WIN8) {
			s->version = v.version.major_minor;
			s->phase = PH_VERSIONED;
			sim_log(SIM_LOG_DEBUG, "%s: VSTOR %u.%u",
				shv_chan_name(c), s->version >> 8,
				s->version & 0xFF);
		} else {
			st = SHV_NT_REVISION_MISMATCH;
		}
		break;
	case SHV_VSTOR_QUERY_PROPERTIES:
		if (!primary || s->phase != PH_VERSIONED) {
			st = SHV_NT_INVALID_DEVICE_STATE;
			break;
		}
		memset(&v.props, 0, sizeof(v.props));
		v.props.max_channel_cnt = (uint16_t)(c->dev->channels - 1);
		v.props.flags = c->dev->channels > 1
					? SHV_VSTOR_PROP_MULTI_CHANNEL
					: 0;
		v.props.max_transfer_bytes = c->dev->disk.max_transfer;
		break;
	case SHV_VSTOR_END_INIT:
		if (!primary || s->phase != PH_VERSIONED)
			st = SHV_NT_INVALID_DEVICE_STATE;
		else
			s->phase = PH_READY;
		break;
	case SHV_VSTOR_CREATE_SUB_CHANNELS: {
		uint16_t n = v.sub_channel_count;
		unsigned room = primary ? shv_vmbus_subchannel_room(c) : 0;
		if (!primary || s->phase != PH_READY) {
			st = SHV_NT_INVALID_DEVICE_STATE;
		} else if (!n || n > room) {
			shv_warn("%s: CREATE_SUB_CHANNELS asks for %u, %u more "
				 "possible; refused", shv_chan_name(c), n, room);
			st = SHV_NT_INVALID_PARAMETER;
		} else {
			reply(c, pkt, &v, len, st);
			shv_vmbus_offer_subchannels(c, n);
			return;
		}
		break;
	}
	case SHV_VSTOR_EXECUTE_SRB:
		if (s->phase != PH_READY) {
			st = SHV_NT_INVALID_DEVICE_STATE;
			break;
		}
		if (pkt->len < sizeof(v)) {
			shv_warn("%s: EXECUTE_SRB of %u bytes, needs 64; "
				 "dropped", shv_chan_name(c), pkt->len);
			return;
		}
		execute_srb(c, s, pkt, &v);
		break;
	case SHV_VSTOR_RESET_LUN:
	case SHV_VSTOR_RESET_ADAPTER:
	case SHV_VSTOR_RESET_BUS:
		/* nothing is outstanding here; the next command sees the
		 * reset as a unit attention */
		c->dev->disk.ua = SHV_ASC_POWER_ON_RESET;
		break;
	default:
		shv_warn("%s: VSTOR operation %u not supported",
			 shv_chan_name(c), v.operation);
		st = SHV_NT_INVALID_PARAMETER;
		break;
	}
	if (st == SHV_NT_INVALID_DEVICE_STATE)
		shv_warn("%s: VSTOR operation %u out of order%s; refused",
			 shv_chan_name(c), v.operation,
			 primary ? "" : " (or on a sub-channel)");
	reply(c, pkt, &v, len, st);
}

static void stor_changed(struct shv_dev *d)
{
	(void)d; /* the unit attention is reported on the next command */
}

static void stor_status(struct shv_dev *d, char *buf, size_t len)
{
	struct stor_state *s = d->state;
	snprintf(buf, len,
		 "image=%s ro=%d bs=%u blocks=%llu max_transfer=%u "
		 "protocol=%u.%u srbs=%llu errors=%llu sense_pending=%u",
		 d->disk.path, d->disk.ro, d->disk.bs,
		 (unsigned long long)d->disk.blocks, d->disk.max_transfer,
		 s ? s->version >> 8 : 0, s ? s->version & 0xFF : 0,
		 (unsigned long long)(s ? s->srbs : 0),
		 (unsigned long long)(s ? s->errors : 0), d->disk.sense_left);
}

const struct shv_dev_ops shv_storvsp_ops = {
	.open = stor_open,
	.close = stor_close,
	.packet = stor_packet,
	.changed = stor_changed,
	.status = stor_status,
};
