/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/scsi.h - the SCSI disk behind the simulated StorVSP: one LUN
 * backed by a file, SBC/SPC commands with fixed-format sense.
 */
#ifndef PVIO_SIM_VMBUS_SCSI_H
#define PVIO_SIM_VMBUS_SCSI_H

#include "vmbus/shv.h"

struct shv_scsi_cmd {
	/* in */
	const uint8_t *cdb;
	uint8_t cdb_len;
	const struct shv_sg *data; /* the guest's buffer (may be NULL) */
	uint32_t data_len;         /* usable bytes of it */
	/* out */
	uint8_t status;            /* SAM status */
	uint8_t sense[SHV_SENSE_FIXED_LEN];
	uint8_t sense_len;
	uint32_t transferred;
	bool overrun;              /* needed more than data_len */
};

/* Which way the command moves data: SHV_DATA_IN, _OUT or _NONE. */
int shv_scsi_dir(const uint8_t *cdb, uint8_t cdb_len);
void shv_scsi_exec(struct shv_disk *disk, struct shv_scsi_cmd *cmd);
/* Open the image; blocks from its size.  -errno. */
int shv_disk_open(struct shv_disk *disk);
/* Re-read the size (after a resize); sets the unit attention. */
int shv_disk_resize(struct shv_disk *disk, uint64_t bytes);

#endif /* PVIO_SIM_VMBUS_SCSI_H */
