/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/netvsc.h - NetVSC wire format: NVSP messages, RNDIS
 * messages, NDIS objects and per-packet info.  rndis.c holds the pure
 * encoders/decoders; net.c the device.
 */
#ifndef PVIO_VMBUS_NETVSC_H
#define PVIO_VMBUS_NETVSC_H

#include "vmbus.h"

/* ---- NVSP ---- */
#define NVSP_VERSION_1 0x00002u
#define NVSP_VERSION_2 0x30002u
#define NVSP_VERSION_4 0x40000u
#define NVSP_VERSION_5 0x50000u
#define NVSP_VERSION_6 0x60000u
#define NVSP_VERSION_61 0x60001u

enum {
	NVSP_MSG_INIT = 1,
	NVSP_MSG_INIT_COMPLETE = 2,
	NVSP_MSG_SEND_NDIS_VER = 100,
	NVSP_MSG_SEND_RECV_BUF = 101,
	NVSP_MSG_SEND_RECV_BUF_COMPLETE = 102,
	NVSP_MSG_REVOKE_RECV_BUF = 103,
	NVSP_MSG_SEND_SEND_BUF = 104,
	NVSP_MSG_SEND_SEND_BUF_COMPLETE = 105,
	NVSP_MSG_REVOKE_SEND_BUF = 106,
	NVSP_MSG_SEND_RNDIS_PKT = 107,
	NVSP_MSG_SEND_RNDIS_PKT_COMPLETE = 108,
	NVSP_MSG_SEND_NDIS_CONFIG = 125,
	NVSP_MSG_SEND_VF_ASSOCIATION = 128,
	NVSP_MSG_SWITCH_DATA_PATH = 129,
	NVSP_MSG_SUBCHANNEL = 133,
	NVSP_MSG_SEND_INDIRECTION_TABLE = 134,
};
#define NVSP_STAT_SUCCESS 1u
#define NVSP_MSG_SIZE 40u       /* what Linux and DPDK send */
#define NVSP_RECV_BUF_ID 0xCAFEu
#define NVSP_SEND_BUF_ID 0u
#define NVSP_NO_SECTION 0xFFFFFFFFu
#define NVSP_SUBCHANNEL_ALLOCATE 1u

/* SEND_NDIS_CONFIG capability bits */
#define NDIS_CONFIG_CAP_VMQ (1u << 0)
#define NDIS_CONFIG_CAP_CHIMNEY (1u << 1)
#define NDIS_CONFIG_CAP_SRIOV (1u << 2)
#define NDIS_CONFIG_CAP_IEEE8021Q (1u << 3)
#define NDIS_CONFIG_CAP_TEAMING (1u << 5)
#define NDIS_CONFIG_CAP_RSC (1u << 7)

/* ---- RNDIS ---- */
enum {
	RNDIS_MSG_PACKET = 0x00000001,
	RNDIS_MSG_INIT = 0x00000002,
	RNDIS_MSG_HALT = 0x00000003,
	RNDIS_MSG_QUERY = 0x00000004,
	RNDIS_MSG_SET = 0x00000005,
	RNDIS_MSG_RESET = 0x00000006,
	RNDIS_MSG_INDICATE = 0x00000007,
	RNDIS_MSG_KEEPALIVE = 0x00000008,
	RNDIS_MSG_INIT_C = 0x80000002,
	RNDIS_MSG_QUERY_C = 0x80000004,
	RNDIS_MSG_SET_C = 0x80000005,
	RNDIS_MSG_RESET_C = 0x80000006,
	RNDIS_MSG_KEEPALIVE_C = 0x80000008,
};
#define RNDIS_STATUS_SUCCESS 0x00000000u
#define RNDIS_STATUS_NOT_SUPPORTED 0xC00000BBu
#define RNDIS_STATUS_MEDIA_CONNECT 0x4001000Bu
#define RNDIS_STATUS_MEDIA_DISCONNECT 0x4001000Cu
#define RNDIS_STATUS_LINK_SPEED_CHANGE 0x40010013u
#define RNDIS_STATUS_NETWORK_CHANGE 0x40010018u

#define OID_GEN_MAXIMUM_FRAME_SIZE 0x00010106u
#define OID_GEN_LINK_SPEED 0x00010107u
#define OID_GEN_CURRENT_PACKET_FILTER 0x0001010Eu
#define OID_GEN_MEDIA_CONNECT_STATUS 0x00010114u
#define OID_GEN_RECEIVE_SCALE_CAPABILITIES 0x00010203u
#define OID_GEN_RECEIVE_SCALE_PARAMETERS 0x00010204u
#define OID_802_3_PERMANENT_ADDRESS 0x01010101u
#define OID_TCP_OFFLOAD_PARAMETERS 0xFC01020Cu
#define OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES 0xFC01020Du

#define NDIS_PACKET_TYPE_DIRECTED 0x1u
#define NDIS_PACKET_TYPE_ALL_MULTICAST 0x4u
#define NDIS_PACKET_TYPE_BROADCAST 0x8u

#define RNDIS_PKT_HDR 44u      /* PACKET message header */
#define RNDIS_PPI_HDR 12u

/* per-packet info types */
#define PPI_TCPIP_CHECKSUM 0u
#define PPI_LSO 2u
#define PPI_VLAN 6u
#define PPI_HASH 8u

/* TX checksum PPI */
#define PPI_TXCSUM_IPV4 0x1u
#define PPI_TXCSUM_IPV6 0x2u
#define PPI_TXCSUM_TCP 0x4u
#define PPI_TXCSUM_UDP 0x8u
#define PPI_TXCSUM_IP 0x10u
/* RX checksum PPI */
#define PPI_RXCSUM_TCP_FAILED 0x1u
#define PPI_RXCSUM_UDP_FAILED 0x2u
#define PPI_RXCSUM_IP_FAILED 0x4u
#define PPI_RXCSUM_TCP_OK 0x8u
#define PPI_RXCSUM_UDP_OK 0x10u
#define PPI_RXCSUM_IP_OK 0x20u
/* LSOv2 PPI */
#define PPI_LSO2 0x40000000u
#define PPI_LSO_IPV6 0x80000000u

/* NDIS objects */
#define NDIS_OBJ_DEFAULT 0x80
#define NDIS_OBJ_RSS_CAPS 0x88
#define NDIS_OBJ_RSS_PARAMS 0x89
#define NDIS_OBJ_OFFLOAD 0xA7

#define NDIS_CSUM_TCP 0x010u   /* in ip4/ip6 tx/rx csum caps */
#define NDIS_CSUM_UDP 0x040u
#define NDIS_OFFLOAD_PARAM_OFF 1
#define NDIS_OFFLOAD_PARAM_TXRX 4
#define NDIS_OFFLOAD_PARAM_TX 2
#define NDIS_OFFLOAD_PARAM_RX 3
#define NDIS_LSOV2_OFF 1
#define NDIS_LSOV2_ON 2

#define NDIS_ENCAP_8023 0x0002u  /* LSOv2 encapsulation: Ethernet */
#define NDIS_LSOV2_IP6_EXT 0x001u
#define NDIS_LSOV2_IP6_TCPOPT 0x004u

/* offload capabilities pvio uses (lso*_max 0: no LSOv2 for Ethernet) */
struct ndis_caps {
	uint32_t ip4_txcsum, ip4_rxcsum, ip6_txcsum, ip6_rxcsum;
	uint32_t lso4_max, lso4_minsg, lso6_max, lso6_minsg;
};

/* A validated view of one RNDIS message (offsets from its start). */
struct rndis_view {
	uint32_t type;
	uint32_t len;
	uint32_t req_id;
	uint32_t status;
	/* PACKET */
	uint32_t data_off, data_len, ppi_off, ppi_len;
	/* QUERY_C info, INDICATE status buffer */
	uint32_t info_off, info_len;
	/* INIT_C */
	uint32_t major, minor, max_xfer;
};

/* ---- rndis.c ---- */
uint32_t vmbus_rndis_msg_init(uint8_t *b, uint32_t req_id);
uint32_t vmbus_rndis_msg_query(uint8_t *b, uint32_t req_id, uint32_t oid,
			 const void *info, uint32_t ilen);
uint32_t vmbus_rndis_msg_set(uint8_t *b, uint32_t req_id, uint32_t oid,
		       const void *val, uint32_t vlen);
uint32_t vmbus_rndis_msg_halt(uint8_t *b, uint32_t req_id);
uint32_t vmbus_rndis_msg_keepalive_c(uint8_t *b, uint32_t req_id);
/* PACKET header + PPIs for a frame of frame_len bytes (b holds 128
 * bytes); csum/lso: PPI values, 0 for none.  Returns the header length
 * (the frame follows it). */
uint32_t vmbus_rndis_pkt_hdr(uint8_t *b, uint32_t frame_len, uint32_t csum,
		       uint32_t lso);
/* Check one RNDIS message (a private copy of at least min(len, 64)
 * bytes; len = the whole message's room).  0 or -EINVAL. */
int vmbus_rndis_parse(const uint8_t *m, uint32_t room, struct rndis_view *v);
/* Find PPI type in a PPI list (a private copy): 1 found (*val), 0 not,
 * -EINVAL malformed. */
int vmbus_rndis_ppi_find(const uint8_t *p, uint32_t len, uint32_t type,
		   uint32_t *val);
/* NDIS offload capabilities (QUERY_C info): 0 or -EINVAL */
int vmbus_ndis_parse_caps(const uint8_t *d, uint32_t len, struct ndis_caps *c);
/* NDIS offload parameters: returns the length */
uint32_t vmbus_ndis_offload_params(uint8_t *b, bool ndis630, bool csum_tx,
			     bool csum_rx, bool lso4, bool lso6);
/* RSS parameters spreading 128 indirection entries over nq queues */
uint32_t vmbus_ndis_rss_params(uint8_t *b, uint32_t nq);
/* RSS capabilities: number of receive queues, or -EINVAL */
int vmbus_ndis_parse_rss_caps(const uint8_t *d, uint32_t len);

#endif /* PVIO_VMBUS_NETVSC_H */
