/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/wire.h - the Hyper-V wire formats as the simulated host sees
 * them: VMBus channel messages, ring buffers and packet descriptors, NVSP,
 * RNDIS and the NDIS objects carried in it, VSTOR and the SCSI constants the
 * StorVSP uses.
 *
 * Written from docs (shared/specs/hyperv-vmbus.md) on purpose with no code in
 * common with pvio's guest side (backends/vmbus).  Everything is little
 * endian and packed; the sizes and offsets are asserted here and compared
 * against DPDK's rte_vmbus_reg.h and glibc's <scsi/scsi.h> by
 * tests/unit/test_simvmbus_layout.c.
 */
#ifndef PVIO_SIM_VMBUS_WIRE_H
#define PVIO_SIM_VMBUS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SHV_PACKED __attribute__((packed))
#define SHV_PAGE 4096u
#define SHV_PAGE_SHIFT 12

/* ------------------------------------------------------------------ VMBus */

/* Protocol versions, major << 16 | minor. */
#define SHV_VMBUS_V2_4 0x00020004u
#define SHV_VMBUS_V3_0 0x00030000u
#define SHV_VMBUS_V4_0 0x00040000u
#define SHV_VMBUS_V4_1 0x00040001u
#define SHV_VMBUS_V5_0 0x00050000u
#define SHV_VMBUS_V5_1 0x00050001u
#define SHV_VMBUS_V5_2 0x00050002u
#define SHV_VMBUS_V5_3 0x00050003u

/* HvPostMessage connection ids and limits. */
#define SHV_CONNID_MESSAGE 1u    /* < 5.0, and msg_conn_id we hand out */
#define SHV_CONNID_MESSAGE_4 4u  /* INITIATE_CONTACT at >= 5.0 */
#define SHV_MSG_PAYLOAD_MAX 240u
#define SHV_VMBUS_SINT 2u

/* Hypercall status codes (HV_STATUS_*). */
#define SHV_HV_OK 0u
#define SHV_HV_INVALID_PARAMETER 5u
#define SHV_HV_INVALID_CONNECTION_ID 18u
#define SHV_HV_INSUFFICIENT_BUFFERS 19u

/* NTSTATUS values the host puts in status fields. */
#define SHV_NT_SUCCESS 0u
#define SHV_NT_UNSUCCESSFUL 0xC0000001u
#define SHV_NT_INVALID_PARAMETER 0xC000000Du
#define SHV_NT_REVISION_MISMATCH 0xC0000059u
#define SHV_NT_INVALID_DEVICE_STATE 0xC0000184u
#define SHV_NT_DEVICE_BUSY 0x80000011u

enum shv_msgtype {
	SHV_MSG_OFFERCHANNEL = 1,
	SHV_MSG_RESCIND_CHANNELOFFER = 2,
	SHV_MSG_REQUESTOFFERS = 3,
	SHV_MSG_ALLOFFERS_DELIVERED = 4,
	SHV_MSG_OPENCHANNEL = 5,
	SHV_MSG_OPENCHANNEL_RESULT = 6,
	SHV_MSG_CLOSECHANNEL = 7,
	SHV_MSG_GPADL_HEADER = 8,
	SHV_MSG_GPADL_BODY = 9,
	SHV_MSG_GPADL_CREATED = 10,
	SHV_MSG_GPADL_TEARDOWN = 11,
	SHV_MSG_GPADL_TORNDOWN = 12,
	SHV_MSG_RELID_RELEASED = 13,
	SHV_MSG_INITIATE_CONTACT = 14,
	SHV_MSG_VERSION_RESPONSE = 15,
	SHV_MSG_UNLOAD = 16,
	SHV_MSG_UNLOAD_RESPONSE = 17,
};

struct shv_msg_hdr {
	uint32_t type;
	uint32_t padding;
} SHV_PACKED;

struct shv_msg_offer {
	struct shv_msg_hdr hdr;
	uint8_t if_type[16];
	uint8_t if_instance[16];
	uint8_t reserved1[16];
	uint16_t chflags;
	uint16_t mmio_mb;
	uint8_t user_def[120];
	uint16_t sub_index;
	uint16_t reserved2;
	uint32_t child_relid;
	uint8_t monitor_id;
	uint8_t monitor_allocated; /* bit 0 */
	uint16_t dedicated_interrupt; /* bit 0 */
	uint32_t connection_id;
} SHV_PACKED;

struct shv_msg_relid {  /* RESCIND_CHANNELOFFER, CLOSECHANNEL, RELID_RELEASED */
	struct shv_msg_hdr hdr;
	uint32_t relid;
} SHV_PACKED;

struct shv_msg_open {
	struct shv_msg_hdr hdr;
	uint32_t relid;
	uint32_t openid;
	uint32_t ring_gpadl;
	uint32_t target_vp;
	uint32_t downstream_offset; /* pages of the guest-to-host ring */
	uint8_t user_data[120];
} SHV_PACKED;

struct shv_msg_open_result {
	struct shv_msg_hdr hdr;
	uint32_t relid;
	uint32_t openid;
	uint32_t status;
} SHV_PACKED;

struct shv_gpa_range {
	uint32_t byte_count;
	uint32_t byte_offset;
	/* uint64_t pfn[] follows */
} SHV_PACKED;

struct shv_msg_gpadl_header {
	struct shv_msg_hdr hdr;
	uint32_t relid;
	uint32_t gpadl;
	uint16_t range_buflen;
	uint16_t rangecount;
	struct shv_gpa_range range; /* then PFNs */
} SHV_PACKED;
#define SHV_GPADL_HEADER_PFNS 26u

struct shv_msg_gpadl_body {
	struct shv_msg_hdr hdr;
	uint32_t msgnumber;
	uint32_t gpadl;
	/* uint64_t pfn[] follows */
} SHV_PACKED;
#define SHV_GPADL_BODY_PFNS 28u

struct shv_msg_gpadl_created {
	struct shv_msg_hdr hdr;
	uint32_t relid;
	uint32_t gpadl;
	uint32_t status;
} SHV_PACKED;

struct shv_msg_gpadl_teardown {
	struct shv_msg_hdr hdr;
	uint32_t relid;
	uint32_t gpadl;
} SHV_PACKED;

struct shv_msg_gpadl_torndown {
	struct shv_msg_hdr hdr;
	uint32_t gpadl;
} SHV_PACKED;

struct shv_msg_initiate_contact {
	struct shv_msg_hdr hdr;
	uint32_t version;
	uint32_t target_vp;
	uint64_t interrupt_page_or_sint; /* < 5.0: GPA; >= 5.0: byte 0 = SINT */
	uint64_t monitor_page1;          /* host to guest */
	uint64_t monitor_page2;          /* guest to host */
} SHV_PACKED;

struct shv_msg_version_response {
	struct shv_msg_hdr hdr;
	uint8_t version_supported;
	uint8_t connection_state; /* 0 ok, 1 low resources, 2 failure */
	uint16_t padding;
	uint32_t msg_conn_id;
} SHV_PACKED;

/* Monitor page (guest to host = monitor page 2). */
#define SHV_MON_TRIG_PENDING(g) (8u + 8u * (g))
#define SHV_MON_LATENCY_OFF 576u
#define SHV_MON_GROUPS 4u

/* --------------------------------------------------------- ring buffers */
struct shv_ring_hdr {
	uint32_t write_index;
	uint32_t read_index;
	uint32_t interrupt_mask;
	uint32_t pending_send_sz;
	uint32_t reserved1[12];
	uint32_t feature_bits; /* bit 0: pending_send_sz supported */
} SHV_PACKED;
#define SHV_RING_FEAT_PENDING_SEND 1u

enum shv_pkt_type {
	SHV_PKT_INBAND = 0x6,
	SHV_PKT_XFER_PAGES = 0x7,
	SHV_PKT_GPADL = 0x8,
	SHV_PKT_GPA_DIRECT = 0x9,
	SHV_PKT_COMP = 0xB,
};
#define SHV_PKT_FLAG_RC 0x1u /* completion requested */

struct shv_pkt_desc {
	uint16_t type;
	uint16_t offset8;
	uint16_t len8;
	uint16_t flags;
	uint64_t trans_id;
} SHV_PACKED;

struct shv_gpa_direct_hdr {
	struct shv_pkt_desc d;
	uint32_t reserved;
	uint32_t range_cnt;
	/* struct shv_gpa_range + pfns, range_cnt times */
} SHV_PACKED;

struct shv_xfer_range {
	uint32_t byte_count;
	uint32_t byte_offset;
} SHV_PACKED;

struct shv_xfer_hdr {
	struct shv_pkt_desc d;
	uint16_t xfer_pageset_id;
	uint8_t sender_owns_set;
	uint8_t reserved;
	uint32_t range_cnt;
	/* struct shv_xfer_range[range_cnt] */
} SHV_PACKED;

/* ------------------------------------------------------------------ NVSP */
#define SHV_NVSP_V1 0x00002u
#define SHV_NVSP_V2 0x30002u
#define SHV_NVSP_V4 0x40000u
#define SHV_NVSP_V5 0x50000u
#define SHV_NVSP_V6 0x60000u
#define SHV_NVSP_V61 0x60001u

enum shv_nvsp_type {
	SHV_NVSP_INIT = 1,
	SHV_NVSP_INIT_COMPLETE = 2,
	SHV_NVSP_SEND_NDIS_VER = 100,
	SHV_NVSP_SEND_RECV_BUF = 101,
	SHV_NVSP_SEND_RECV_BUF_COMPLETE = 102,
	SHV_NVSP_REVOKE_RECV_BUF = 103,
	SHV_NVSP_SEND_SEND_BUF = 104,
	SHV_NVSP_SEND_SEND_BUF_COMPLETE = 105,
	SHV_NVSP_REVOKE_SEND_BUF = 106,
	SHV_NVSP_SEND_RNDIS_PKT = 107,
	SHV_NVSP_SEND_RNDIS_PKT_COMPLETE = 108,
	SHV_NVSP_SEND_NDIS_CONFIG = 125,
	SHV_NVSP_SEND_VF_ASSOCIATION = 128,
	SHV_NVSP_SWITCH_DATA_PATH = 129,
	SHV_NVSP_SUBCHANNEL = 133,
	SHV_NVSP_SEND_INDIRECTION_TABLE = 134,
};
#define SHV_NVSP_STAT_SUCCESS 1u
#define SHV_NVSP_STAT_FAIL 2u
#define SHV_NVSP_STAT_INVALID_RNDIS 5u
#define SHV_NVSP_MSG_SIZE 40u     /* what Linux sends and we send back */
#define SHV_NVSP_NO_SECTION 0xFFFFFFFFu
#define SHV_NVSP_SUBCHANNEL_ALLOCATE 1u

struct shv_nvsp_init {
	uint32_t type;
	uint32_t min_ver;
	uint32_t max_ver;
} SHV_PACKED;

struct shv_nvsp_init_complete {
	uint32_t type;
	uint32_t negotiated_ver;
	uint32_t max_mdl_chain_len;
	uint32_t status;
} SHV_PACKED;

struct shv_nvsp_ndis_ver {
	uint32_t type;
	uint32_t major;
	uint32_t minor;
} SHV_PACKED;

struct shv_nvsp_ndis_config {
	uint32_t type;
	uint32_t mtu;
	uint32_t reserved;
	uint64_t capability;
} SHV_PACKED;

struct shv_nvsp_send_buf { /* SEND_RECV_BUF and SEND_SEND_BUF */
	uint32_t type;
	uint32_t gpadl;
	uint16_t id;
} SHV_PACKED;

struct shv_nvsp_recv_section {
	uint32_t offset;
	uint32_t sub_alloc_size;
	uint32_t num_sub_allocs;
	uint32_t end_offset;
} SHV_PACKED;

struct shv_nvsp_recv_buf_complete {
	uint32_t type;
	uint32_t status;
	uint32_t num_sections;
	struct shv_nvsp_recv_section section;
} SHV_PACKED;

struct shv_nvsp_revoke_buf {
	uint32_t type;
	uint16_t id;
} SHV_PACKED;

struct shv_nvsp_send_buf_complete {
	uint32_t type;
	uint32_t status;
	uint32_t section_size;
} SHV_PACKED;

struct shv_nvsp_rndis_pkt {
	uint32_t type;
	uint32_t channel_type; /* 0 data, 1 control */
	uint32_t section_index;
	uint32_t section_size;
} SHV_PACKED;

struct shv_nvsp_status { /* SEND_RNDIS_PKT_COMPLETE and other acks */
	uint32_t type;
	uint32_t status;
} SHV_PACKED;

struct shv_nvsp_subchannel {
	uint32_t type;
	uint32_t op_or_status; /* request: op; completion: status */
	uint32_t count;
} SHV_PACKED;

/* ----------------------------------------------------------------- RNDIS */
enum shv_rndis_type {
	SHV_RNDIS_PACKET = 0x00000001,
	SHV_RNDIS_INITIALIZE = 0x00000002,
	SHV_RNDIS_HALT = 0x00000003,
	SHV_RNDIS_QUERY = 0x00000004,
	SHV_RNDIS_SET = 0x00000005,
	SHV_RNDIS_RESET = 0x00000006,
	SHV_RNDIS_INDICATE_STATUS = 0x00000007,
	SHV_RNDIS_KEEPALIVE = 0x00000008,
	SHV_RNDIS_CMPLT = (int)0x80000000,
};

#define SHV_RNDIS_STATUS_SUCCESS 0x00000000u
#define SHV_RNDIS_STATUS_FAILURE 0xC0000001u
#define SHV_RNDIS_STATUS_INVALID_LENGTH 0xC0010014u
#define SHV_RNDIS_STATUS_INVALID_DATA 0xC0010015u
#define SHV_RNDIS_STATUS_NOT_SUPPORTED 0xC00000BBu
#define SHV_RNDIS_STATUS_MEDIA_CONNECT 0x4001000Bu
#define SHV_RNDIS_STATUS_MEDIA_DISCONNECT 0x4001000Cu

struct shv_rndis_hdr {
	uint32_t type;
	uint32_t len;
} SHV_PACKED;

struct shv_rndis_packet {
	struct shv_rndis_hdr h;
	uint32_t data_offset; /* all offsets relative to byte 8 */
	uint32_t data_len;
	uint32_t oob_offset;
	uint32_t oob_len;
	uint32_t num_oob;
	uint32_t ppi_offset;
	uint32_t ppi_len;
	uint32_t vc_handle;
	uint32_t reserved;
} SHV_PACKED;

struct shv_rndis_init_req {
	struct shv_rndis_hdr h;
	uint32_t req_id;
	uint32_t major;
	uint32_t minor;
	uint32_t max_xfer_size;
} SHV_PACKED;

struct shv_rndis_init_cmplt {
	struct shv_rndis_hdr h;
	uint32_t req_id;
	uint32_t status;
	uint32_t major;
	uint32_t minor;
	uint32_t dev_flags;
	uint32_t medium;
	uint32_t max_pkts_per_msg;
	uint32_t max_xfer_size;
	uint32_t pkt_align_shift;
	uint32_t af_list_offset;
	uint32_t af_list_size;
} SHV_PACKED;

struct shv_rndis_req_id { /* HALT, KEEPALIVE, RESET (reserved) */
	struct shv_rndis_hdr h;
	uint32_t req_id;
} SHV_PACKED;

struct shv_rndis_oid_req { /* QUERY and SET */
	struct shv_rndis_hdr h;
	uint32_t req_id;
	uint32_t oid;
	uint32_t info_len;
	uint32_t info_offset;
	uint32_t vc_handle;
} SHV_PACKED;

struct shv_rndis_query_cmplt {
	struct shv_rndis_hdr h;
	uint32_t req_id;
	uint32_t status;
	uint32_t info_len;
	uint32_t info_offset;
} SHV_PACKED;

struct shv_rndis_status_cmplt { /* SET_CMPLT, KEEPALIVE_CMPLT */
	struct shv_rndis_hdr h;
	uint32_t req_id;
	uint32_t status;
} SHV_PACKED;

struct shv_rndis_reset_cmplt {
	struct shv_rndis_hdr h;
	uint32_t status;
	uint32_t addressing_reset;
} SHV_PACKED;

struct shv_rndis_indicate {
	struct shv_rndis_hdr h;
	uint32_t status;
	uint32_t buf_len;
	uint32_t buf_offset;
} SHV_PACKED;

struct shv_rndis_ppi {
	uint32_t size;
	uint32_t type; /* bit 31: internal */
	uint32_t data_offset;
} SHV_PACKED;

enum shv_ppi_type {
	SHV_PPI_CHECKSUM = 0,
	SHV_PPI_IPSEC = 1,
	SHV_PPI_LSO = 2,
	SHV_PPI_VLAN = 6,
	SHV_PPI_HASH_VALUE = 8,
};

/* TCP/IP checksum PPI: transmit request bits, receive result bits */
#define SHV_CSUM_TX_IPV4 0x01u
#define SHV_CSUM_TX_IPV6 0x02u
#define SHV_CSUM_TX_TCP 0x04u
#define SHV_CSUM_TX_UDP 0x08u
#define SHV_CSUM_TX_IP 0x10u
#define SHV_CSUM_TX_THOFF(v) (((v) >> 16) & 0x3FFu)
#define SHV_CSUM_RX_TCP_FAILED 0x01u
#define SHV_CSUM_RX_UDP_FAILED 0x02u
#define SHV_CSUM_RX_IP_FAILED 0x04u
#define SHV_CSUM_RX_TCP_OK 0x08u
#define SHV_CSUM_RX_UDP_OK 0x10u
#define SHV_CSUM_RX_IP_OK 0x20u
/* LSOv2 PPI */
#define SHV_LSO_MSS(v) ((v) & 0xFFFFFu)
#define SHV_LSO_THOFF(v) (((v) >> 20) & 0x3FFu)
#define SHV_LSO_V2 0x40000000u
#define SHV_LSO_IPV6 0x80000000u

/* OIDs */
#define SHV_OID_GEN_SUPPORTED_LIST 0x00010101u
#define SHV_OID_GEN_HARDWARE_STATUS 0x00010102u
#define SHV_OID_GEN_MEDIA_SUPPORTED 0x00010103u
#define SHV_OID_GEN_MEDIA_IN_USE 0x00010104u
#define SHV_OID_GEN_MAXIMUM_FRAME_SIZE 0x00010106u
#define SHV_OID_GEN_LINK_SPEED 0x00010107u
#define SHV_OID_GEN_CURRENT_PACKET_FILTER 0x0001010Eu
#define SHV_OID_GEN_MAXIMUM_TOTAL_SIZE 0x00010111u
#define SHV_OID_GEN_MEDIA_CONNECT_STATUS 0x00010114u
#define SHV_OID_GEN_RSS_CAPABILITIES 0x00010203u
#define SHV_OID_GEN_RSS_PARAMETERS 0x00010204u
#define SHV_OID_802_3_PERMANENT_ADDRESS 0x01010101u
#define SHV_OID_802_3_CURRENT_ADDRESS 0x01010102u
#define SHV_OID_802_3_MULTICAST_LIST 0x01010103u
#define SHV_OID_802_3_MAXIMUM_LIST_SIZE 0x01010104u
#define SHV_OID_TCP_OFFLOAD_PARAMETERS 0xFC01020Cu
#define SHV_OID_TCP_OFFLOAD_HW_CAPS 0xFC01020Du

/* packet filter bits */
#define SHV_FILTER_DIRECTED 0x1u
#define SHV_FILTER_MULTICAST 0x2u
#define SHV_FILTER_ALL_MULTICAST 0x4u
#define SHV_FILTER_BROADCAST 0x8u
#define SHV_FILTER_PROMISCUOUS 0x20u
#define SHV_FILTER_KNOWN 0x3FFFu

/* NDIS objects (natural C alignment, as NDIS declares them) */
#define SHV_NDIS_OBJ_DEFAULT 0x80
#define SHV_NDIS_OBJ_RSS_CAPS 0x88
#define SHV_NDIS_OBJ_RSS_PARAMS 0x89
#define SHV_NDIS_OBJ_OFFLOAD 0xA7

struct shv_ndis_obj_hdr {
	uint8_t type;
	uint8_t revision;
	uint16_t size;
};

struct shv_ndis_offload { /* OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES */
	struct shv_ndis_obj_hdr h;
	uint32_t csum[8];     /* ip4 tx enc/caps, rx enc/caps, ip6 the same */
	uint32_t lsov1[4];
	uint32_t ipsecv1[7];
	uint32_t lsov2[7];    /* ip4 enc, maxsz, minsg, ip6 enc, maxsz, minsg, opts */
	uint32_t flags;
	/* NDIS 6.1 */
	uint32_t ipsecv2_encap;
	uint8_t ipsecv2_bytes[11];
	uint32_t ipsecv2_words[4];
	/* NDIS 6.30 */
	uint8_t rsc_ip4;
	uint8_t rsc_ip6;
	uint32_t encap_flags;
	uint32_t encap_maxhdr;
};
#define SHV_NDIS_OFFLOAD_SIZE_6_0 112u
/* csum[] word indices and capability bits */
#define SHV_CSUM_IP4_TXENC 0
#define SHV_CSUM_IP4_TX 1
#define SHV_CSUM_IP4_RXENC 2
#define SHV_CSUM_IP4_RX 3
#define SHV_CSUM_IP6_TXENC 4
#define SHV_CSUM_IP6_TX 5
#define SHV_CSUM_IP6_RXENC 6
#define SHV_CSUM_IP6_RX 7
#define SHV_NDIS_ENCAP_8023 0x0002u
#define SHV_CAP_IP4OPT 0x001u     /* ip4; IP6EXT in the ip6 words */
#define SHV_CAP_TCPOPT 0x004u
#define SHV_CAP_TCP 0x010u
#define SHV_CAP_UDP 0x040u
#define SHV_CAP_IP4 0x100u
/* offload parameter values */
#define SHV_OLP_NO_CHANGE 0
#define SHV_OLP_OFF 1
#define SHV_OLP_TX 2
#define SHV_OLP_RX 3
#define SHV_OLP_TXRX 4
#define SHV_OLP_LSO_OFF 1
#define SHV_OLP_LSO_ON 2
#define SHV_NDIS_OFFLOAD_SIZE_6_1 144u
#define SHV_NDIS_OFFLOAD_SIZE 156u

struct shv_ndis_offload_params { /* OID_TCP_OFFLOAD_PARAMETERS */
	struct shv_ndis_obj_hdr h;
	uint8_t ip4_csum;
	uint8_t tcp4_csum;
	uint8_t udp4_csum;
	uint8_t tcp6_csum;
	uint8_t udp6_csum;
	uint8_t lsov1;
	uint8_t ipsecv1;
	uint8_t lsov2_ip4;
	uint8_t lsov2_ip6;
	uint8_t tcp4_conn;
	uint8_t tcp6_conn;
	uint32_t flags;
	uint8_t ipsecv2;
	uint8_t ipsecv2_ip4;
	uint8_t rsc_ip4;
	uint8_t rsc_ip6;
	uint8_t encap;
	uint8_t encap_types;
};
#define SHV_NDIS_OFFLOAD_PARAMS_SIZE_6_1 22u
#define SHV_NDIS_OFFLOAD_PARAMS_SIZE 28u

struct shv_ndis_rss_caps {
	struct shv_ndis_obj_hdr h;
	uint32_t caps;
	uint32_t num_msi;
	uint32_t num_rx_queues;
	uint16_t num_ind_entries;
	uint16_t pad;
};
#define SHV_NDIS_RSS_CAP_IPV4 0x00000100u
#define SHV_NDIS_RSS_CAP_IPV6 0x00000200u
#define SHV_NDIS_RSS_CAP_TOEPLITZ 0x00000001u
#define SHV_NDIS_RSS_INDIRECTION 128u

struct shv_ndis_rss_params {
	struct shv_ndis_obj_hdr h;
	uint16_t flags;
	uint16_t base_cpu;
	uint32_t hash_info;
	uint16_t ind_size;    /* bytes */
	uint32_t ind_offset;  /* from the start of this object */
	uint16_t key_size;
	uint32_t key_offset;
	uint32_t cpumask_offset;
	uint32_t cpumask_count;
	uint32_t cpumask_entry_size;
};
#define SHV_NDIS_RSS_PARAMS_SIZE_6_0 28u
#define SHV_NDIS_RSS_FLAG_DISABLE 0x0010u

#define SHV_NDIS_V6_1 0x00060001u
#define SHV_NDIS_V6_20 0x00060014u
#define SHV_NDIS_V6_30 0x0006001Eu

/* ----------------------------------------------------------------- VSTOR */
#define SHV_VSTOR_WIN8 0x0501u
#define SHV_VSTOR_WIN8_1 0x0600u
#define SHV_VSTOR_WIN10 0x0602u

enum shv_vstor_op {
	SHV_VSTOR_COMPLETE_IO = 1,
	SHV_VSTOR_REMOVE_DEVICE = 2,
	SHV_VSTOR_EXECUTE_SRB = 3,
	SHV_VSTOR_RESET_LUN = 4,
	SHV_VSTOR_RESET_ADAPTER = 5,
	SHV_VSTOR_RESET_BUS = 6,
	SHV_VSTOR_BEGIN_INIT = 7,
	SHV_VSTOR_END_INIT = 8,
	SHV_VSTOR_QUERY_PROTOCOL_VERSION = 9,
	SHV_VSTOR_QUERY_PROPERTIES = 10,
	SHV_VSTOR_ENUMERATE_BUS = 11,
	SHV_VSTOR_FCHBA_DATA = 12,
	SHV_VSTOR_CREATE_SUB_CHANNELS = 13,
};
#define SHV_VSTOR_FLAG_REQUEST_COMPLETION 0x1u
#define SHV_VSTOR_PROP_MULTI_CHANNEL 0x1u

#define SHV_SRB_CDB_MAX 16u
#define SHV_SRB_SENSE_MAX 20u

struct shv_vmscsi_request {
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
	union {
		uint8_t cdb[SHV_SRB_CDB_MAX];
		uint8_t sense[SHV_SRB_SENSE_MAX];
	};
	uint16_t reserve;
	uint8_t queue_tag;
	uint8_t queue_action;
	uint32_t srb_flags;
	uint32_t timeout;
	uint32_t queue_sort_key;
} SHV_PACKED;

struct shv_vstor_properties {
	uint32_t reserved;
	uint16_t max_channel_cnt;
	uint16_t reserved1;
	uint32_t flags;
	uint32_t max_transfer_bytes;
	uint64_t reserved2;
} SHV_PACKED;

struct shv_vstor_packet {
	uint32_t operation;
	uint32_t flags;
	uint32_t status;
	union {
		struct shv_vmscsi_request srb;
		struct shv_vstor_properties props;
		struct {
			uint16_t major_minor;
			uint16_t revision;
		} SHV_PACKED version;
		uint16_t sub_channel_count;
		uint8_t raw[52];
	};
} SHV_PACKED;

enum { SHV_DATA_OUT = 0, SHV_DATA_IN = 1, SHV_DATA_NONE = 2 };
#define SHV_SRB_FLAGS_DATA_IN 0x40u
#define SHV_SRB_FLAGS_DATA_OUT 0x80u

#define SHV_SRB_SUCCESS 0x01u
#define SHV_SRB_ABORTED 0x02u
#define SHV_SRB_ERROR 0x04u
#define SHV_SRB_INVALID_REQUEST 0x06u
#define SHV_SRB_DATA_OVERRUN 0x12u
#define SHV_SRB_INVALID_LUN 0x20u
#define SHV_SRB_AUTOSENSE_VALID 0x80u

/* ------------------------------------------------------------------ SCSI */
#define SHV_SCSI_TEST_UNIT_READY 0x00
#define SHV_SCSI_REQUEST_SENSE 0x03
#define SHV_SCSI_READ_6 0x08
#define SHV_SCSI_WRITE_6 0x0A
#define SHV_SCSI_INQUIRY 0x12
#define SHV_SCSI_MODE_SELECT_6 0x15
#define SHV_SCSI_MODE_SENSE_6 0x1A
#define SHV_SCSI_START_STOP 0x1B
#define SHV_SCSI_ALLOW_MEDIUM_REMOVAL 0x1E
#define SHV_SCSI_READ_CAPACITY_10 0x25
#define SHV_SCSI_READ_10 0x28
#define SHV_SCSI_WRITE_10 0x2A
#define SHV_SCSI_VERIFY_10 0x2F
#define SHV_SCSI_SYNCHRONIZE_CACHE_10 0x35
#define SHV_SCSI_WRITE_SAME_10 0x41
#define SHV_SCSI_UNMAP 0x42
#define SHV_SCSI_MODE_SENSE_10 0x5A
#define SHV_SCSI_READ_16 0x88
#define SHV_SCSI_WRITE_16 0x8A
#define SHV_SCSI_VERIFY_16 0x8F
#define SHV_SCSI_SYNCHRONIZE_CACHE_16 0x91
#define SHV_SCSI_WRITE_SAME_16 0x93
#define SHV_SCSI_SERVICE_ACTION_IN_16 0x9E
#define SHV_SCSI_SAI_READ_CAPACITY_16 0x10
#define SHV_SCSI_REPORT_LUNS 0xA0
#define SHV_SCSI_READ_12 0xA8
#define SHV_SCSI_WRITE_12 0xAA

/* SAM status */
#define SHV_SAM_GOOD 0x00
#define SHV_SAM_CHECK_CONDITION 0x02

/* sense keys */
#define SHV_SK_NO_SENSE 0x0
#define SHV_SK_NOT_READY 0x2
#define SHV_SK_MEDIUM_ERROR 0x3
#define SHV_SK_HARDWARE_ERROR 0x4
#define SHV_SK_ILLEGAL_REQUEST 0x5
#define SHV_SK_UNIT_ATTENTION 0x6
#define SHV_SK_DATA_PROTECT 0x7
#define SHV_SK_ABORTED_COMMAND 0xB

/* additional sense codes (ASC << 8 | ASCQ) */
#define SHV_ASC_INVALID_OPCODE 0x2000u
#define SHV_ASC_LBA_OUT_OF_RANGE 0x2100u
#define SHV_ASC_INVALID_FIELD_IN_CDB 0x2400u
#define SHV_ASC_INVALID_FIELD_IN_PARAM 0x2600u
#define SHV_ASC_PARAM_LIST_LENGTH_ERROR 0x1A00u
#define SHV_ASC_WRITE_PROTECTED 0x2700u
#define SHV_ASC_POWER_ON_RESET 0x2900u
#define SHV_ASC_CAPACITY_CHANGED 0x2A09u
#define SHV_ASC_UNRECOVERED_READ_ERROR 0x1100u
#define SHV_ASC_WRITE_ERROR 0x0C00u
#define SHV_ASC_INTERNAL_TARGET_FAILURE 0x4400u
#define SHV_SENSE_FIXED_LEN 18u

/* ------------------------------------------------------- compile checks */
#define SHV_CHECK(c) _Static_assert(c, #c)
SHV_CHECK(sizeof(struct shv_msg_offer) == 196);
SHV_CHECK(offsetof(struct shv_msg_offer, sub_index) == 180);
SHV_CHECK(offsetof(struct shv_msg_offer, child_relid) == 184);
SHV_CHECK(offsetof(struct shv_msg_offer, connection_id) == 192);
SHV_CHECK(sizeof(struct shv_msg_relid) == 12);
SHV_CHECK(sizeof(struct shv_msg_open) == 148);
SHV_CHECK(sizeof(struct shv_msg_open_result) == 20);
SHV_CHECK(sizeof(struct shv_msg_gpadl_header) == 28);
SHV_CHECK(sizeof(struct shv_msg_gpadl_body) == 16);
SHV_CHECK(sizeof(struct shv_msg_gpadl_created) == 20);
SHV_CHECK(sizeof(struct shv_msg_gpadl_teardown) == 16);
SHV_CHECK(sizeof(struct shv_msg_gpadl_torndown) == 12);
SHV_CHECK(sizeof(struct shv_msg_initiate_contact) == 40);
SHV_CHECK(sizeof(struct shv_msg_version_response) == 16);
SHV_CHECK(20 + 8 + 8 * SHV_GPADL_HEADER_PFNS <= SHV_MSG_PAYLOAD_MAX);
SHV_CHECK(16 + 8 * SHV_GPADL_BODY_PFNS <= SHV_MSG_PAYLOAD_MAX);
SHV_CHECK(offsetof(struct shv_ring_hdr, feature_bits) == 64);
SHV_CHECK(sizeof(struct shv_pkt_desc) == 16);
SHV_CHECK(sizeof(struct shv_gpa_direct_hdr) == 24);
SHV_CHECK(sizeof(struct shv_xfer_hdr) == 24);
SHV_CHECK(sizeof(struct shv_nvsp_recv_buf_complete) == 28);
SHV_CHECK(offsetof(struct shv_nvsp_ndis_config, capability) == 12);
SHV_CHECK(sizeof(struct shv_rndis_packet) == 44);
SHV_CHECK(sizeof(struct shv_rndis_init_req) == 24);
SHV_CHECK(sizeof(struct shv_rndis_init_cmplt) == 52);
SHV_CHECK(sizeof(struct shv_rndis_oid_req) == 28);
SHV_CHECK(sizeof(struct shv_rndis_query_cmplt) == 24);
SHV_CHECK(sizeof(struct shv_rndis_status_cmplt) == 16);
SHV_CHECK(sizeof(struct shv_rndis_indicate) == 20);
SHV_CHECK(sizeof(struct shv_rndis_ppi) == 12);
SHV_CHECK(sizeof(struct shv_ndis_offload) == SHV_NDIS_OFFLOAD_SIZE);
SHV_CHECK(offsetof(struct shv_ndis_offload, ipsecv2_encap) ==
	  SHV_NDIS_OFFLOAD_SIZE_6_0);
SHV_CHECK(offsetof(struct shv_ndis_offload, rsc_ip4) ==
	  SHV_NDIS_OFFLOAD_SIZE_6_1);
SHV_CHECK(sizeof(struct shv_ndis_offload_params) ==
	  SHV_NDIS_OFFLOAD_PARAMS_SIZE);
SHV_CHECK(offsetof(struct shv_ndis_offload_params, flags) == 16);
SHV_CHECK(offsetof(struct shv_ndis_offload_params, rsc_ip4) ==
	  SHV_NDIS_OFFLOAD_PARAMS_SIZE_6_1);
SHV_CHECK(sizeof(struct shv_ndis_rss_caps) == 20);
SHV_CHECK(sizeof(struct shv_ndis_rss_params) == 40);
SHV_CHECK(offsetof(struct shv_ndis_rss_params, ind_offset) == 16);
SHV_CHECK(offsetof(struct shv_ndis_rss_params, key_offset) == 24);
SHV_CHECK(offsetof(struct shv_ndis_rss_params, cpumask_offset) ==
	  SHV_NDIS_RSS_PARAMS_SIZE_6_0);
SHV_CHECK(sizeof(struct shv_vmscsi_request) == 52);
SHV_CHECK(sizeof(struct shv_vstor_packet) == 64);
SHV_CHECK(offsetof(struct shv_vstor_packet, props.max_transfer_bytes) == 24);

#endif /* PVIO_SIM_VMBUS_WIRE_H */
