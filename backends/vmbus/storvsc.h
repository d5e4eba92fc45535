/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/storvsc.h - StorVSC wire format (VSTOR packets) and the
 * SCSI pieces pvio needs (CDBs, sense, capacity, VPD).  scsi.c holds the
 * pure encoders/decoders; blk.c the device.
 */
#ifndef PVIO_VMBUS_STORVSC_H
#define PVIO_VMBUS_STORVSC_H

#include "vmbus.h"

/* VSTOR protocol versions (major << 8 | minor), newest first is tried */
#define VSTOR_VERSION_WIN8 0x0501
#define VSTOR_VERSION_WIN8_1 0x0600
#define VSTOR_VERSION_WIN10 0x0602

enum {
	VSTOR_OP_COMPLETE_IO = 1,
	VSTOR_OP_REMOVE_DEVICE = 2,
	VSTOR_OP_EXECUTE_SRB = 3,
	VSTOR_OP_RESET_LUN = 4,
	VSTOR_OP_RESET_ADAPTER = 5,
	VSTOR_OP_RESET_BUS = 6,
	VSTOR_OP_BEGIN_INITIALIZATION = 7,
	VSTOR_OP_END_INITIALIZATION = 8,
	VSTOR_OP_QUERY_PROTOCOL_VERSION = 9,
	VSTOR_OP_QUERY_PROPERTIES = 10,
	VSTOR_OP_ENUMERATE_BUS = 11,
	VSTOR_OP_FCHBA_DATA = 12,
	VSTOR_OP_CREATE_SUB_CHANNELS = 13,
};
#define VSTOR_FLAG_REQUEST_COMPLETION 1u

#define VSTOR_SENSE_SIZE 20u
#define VSTOR_CDB_SIZE 16u

struct vstor_srb {
	uint16_t length;
	uint8_t srb_status;
	uint8_t scsi_status;
	uint8_t port;
	uint8_t path_id;
	uint8_t target_id;
	uint8_t lun;
	uint8_t cdb_length;
	uint8_t sense_info_length;
	uint8_t data_in;
	uint8_t reserved;
	uint32_t data_transfer_length;
	uint8_t cdb_sense[VSTOR_SENSE_SIZE];
	uint16_t reserved2;
	uint8_t queue_tag;
	uint8_t queue_action;
	uint32_t srb_flags;
	uint32_t time_out_value;
	uint32_t queue_sort_key;
} VMBUS_PACKED;

struct vstor_props {
	uint32_t reserved;
	uint16_t max_channel_cnt;
	uint16_t reserved1;
	uint32_t flags; /* bit0: multi-channel */
	uint32_t max_transfer_bytes;
	uint64_t reserved2;
} VMBUS_PACKED;

struct vstor_packet {
	uint32_t operation;
	uint32_t flags;
	uint32_t status;
	union {
		struct vstor_srb srb;
		struct vstor_props props;
		struct {
			uint16_t version;
			uint16_t revision;
		} VMBUS_PACKED ver;
		uint16_t sub_channel_count;
		uint8_t raw[52];
	} u;
} VMBUS_PACKED;

_Static_assert(sizeof(struct vstor_srb) == 52, "vmscsi_request");
_Static_assert(sizeof(struct vstor_packet) == 64, "vstor_packet");

#define VSTOR_PROP_MULTI_CHANNEL 1u

/* data_in */
enum { VSTOR_WRITE = 0, VSTOR_READ = 1, VSTOR_NONE = 2 };
/* srb_flags */
#define SRB_FLAGS_DISABLE_SYNCH_TRANSFER 0x08u
#define SRB_FLAGS_DATA_IN 0x40u
#define SRB_FLAGS_DATA_OUT 0x80u
/* srb_status */
#define SRB_STATUS_SUCCESS 0x01
#define SRB_STATUS_ABORTED 0x02
#define SRB_STATUS_ERROR 0x04
#define SRB_STATUS_INVALID_REQUEST 0x06
#define SRB_STATUS_NO_DEVICE 0x08
#define SRB_STATUS_DATA_OVERRUN 0x12
#define SRB_STATUS_INVALID_LUN 0x20
#define SRB_STATUS_QUEUE_FROZEN 0x40
#define SRB_STATUS_AUTOSENSE_VALID 0x80

/* SCSI (T10) */
enum {
	SCSI_TEST_UNIT_READY = 0x00,
	SCSI_INQUIRY = 0x12,
	SCSI_MODE_SENSE_6 = 0x1A,
	SCSI_SYNCHRONIZE_CACHE_10 = 0x35,
	SCSI_UNMAP = 0x42,
	SCSI_READ_16 = 0x88,
	SCSI_WRITE_16 = 0x8A,
	SCSI_SERVICE_ACTION_IN_16 = 0x9E,
	SCSI_REPORT_LUNS = 0xA0,
};
#define SCSI_SAI_READ_CAPACITY_16 0x10

/* SAM status */
#define SAM_STAT_GOOD 0x00
#define SAM_STAT_CHECK_CONDITION 0x02
#define SAM_STAT_BUSY 0x08
#define SAM_STAT_TASK_SET_FULL 0x28

/* sense keys */
enum {
	SENSE_NO_SENSE = 0x0,
	SENSE_RECOVERED_ERROR = 0x1,
	SENSE_NOT_READY = 0x2,
	SENSE_MEDIUM_ERROR = 0x3,
	SENSE_HARDWARE_ERROR = 0x4,
	SENSE_ILLEGAL_REQUEST = 0x5,
	SENSE_UNIT_ATTENTION = 0x6,
	SENSE_DATA_PROTECT = 0x7,
	SENSE_ABORTED_COMMAND = 0xB,
};

struct scsi_sense {
	uint8_t key, asc, ascq;
};

/* ---- scsi.c (pure functions; every return is a CDB length) ---- */
unsigned vmbus_scsi_cdb_tur(uint8_t *cdb);
unsigned vmbus_scsi_cdb_inquiry(uint8_t *cdb, bool evpd, uint8_t page,
			  uint16_t alloc);
unsigned vmbus_scsi_cdb_read_capacity16(uint8_t *cdb, uint32_t alloc);
unsigned vmbus_scsi_cdb_rw16(uint8_t *cdb, bool write, uint64_t lba,
		       uint32_t blocks, bool fua);
unsigned vmbus_scsi_cdb_sync_cache10(uint8_t *cdb);
unsigned vmbus_scsi_cdb_unmap(uint8_t *cdb, uint16_t param_len);
unsigned vmbus_scsi_cdb_report_luns(uint8_t *cdb, uint32_t alloc);
/* MODE SENSE(6) of all pages, block descriptors disabled */
unsigned vmbus_scsi_cdb_mode_sense6(uint8_t *cdb, uint8_t alloc);
/* MODE SENSE(6) parameter header: 1 write-protected, 0 not, -EINVAL */
int vmbus_scsi_mode_wp(const uint8_t *d, uint32_t len);
/* UNMAP parameter list with one descriptor (24 bytes) */
void vmbus_scsi_unmap_param(uint8_t *p, uint64_t lba, uint32_t blocks);
/* Name of a CDB's command for messages ("READ(16)") */
const char *vmbus_scsi_cdb_name(const uint8_t *cdb);
const char *vmbus_scsi_sense_key_name(uint8_t key);

/* Sense data (fixed or descriptor format): 0, or -EINVAL if it is not
 * sense data pvio understands. */
int vmbus_scsi_sense_parse(const uint8_t *s, uint32_t len, struct scsi_sense *out);

struct scsi_capacity {
	uint64_t blocks;
	uint32_t block_len;
	uint32_t phys_exp;  /* logical blocks per physical block, log2 */
	bool lbpme;         /* thin provisioning enabled */
};
/* READ CAPACITY(16) data: 0 or -EINVAL for a nonsensical answer */
int vmbus_scsi_parse_capacity16(const uint8_t *d, uint32_t len,
			  struct scsi_capacity *out);

struct scsi_block_limits {
	uint32_t max_transfer_blocks;
	uint32_t max_unmap_blocks;
	uint32_t max_unmap_descs;
	uint32_t unmap_granularity;
};
int vmbus_scsi_parse_block_limits(const uint8_t *d, uint32_t len,
			    struct scsi_block_limits *out);
/* VPD page 0x00: 1 if page is listed */
int vmbus_scsi_vpd_has_page(const uint8_t *d, uint32_t len, uint8_t page);
/* VPD page 0xB2: 1 if UNMAP is supported (LBPU) */
int vmbus_scsi_vpd_lbpu(const uint8_t *d, uint32_t len);
/* REPORT LUNS: the i-th LUN (single level addressing), -ENOENT past the
 * end, -EINVAL for a malformed list. */
int vmbus_scsi_report_luns_get(const uint8_t *d, uint32_t len, unsigned i,
			 uint16_t *lun);

#endif /* PVIO_VMBUS_STORVSC_H */
