/* The host link protocol (docs/protocol.md) as the firmware link needs it:
 * frame constants, message types, NAK reasons, INFO flags, the device map's
 * windows and the tile registers a WRITE or READ may reach. The firmware is
 * built freestanding and keeps this copy; tests/firmware/test_fw_map.c
 * holds every number to include/pal/protocol.h and include/pal/tile.h. */
#ifndef PAL_FW_PROTO_H
#define PAL_FW_PROTO_H

#define PAL_FW_PROTO_VERSION 1u
#define PAL_FW_PROTO_SYNC 0xA5u
#define PAL_FW_PROTO_OVERHEAD 11u         /* SYNC, 5 header bytes, HCRC, CRC-32 */
#define PAL_FW_PROTO_INFO_BYTES 64u
#define PAL_FW_PROTO_NAME_BYTES 16u
#define PAL_FW_PROTO_MIN_MAX_PAYLOAD 64u

/* message types */
#define PAL_FW_MSG_INFO 0x01u
#define PAL_FW_MSG_WRITE 0x02u
#define PAL_FW_MSG_READ 0x03u
#define PAL_FW_MSG_PING 0x04u
#define PAL_FW_MSG_FW 0x05u
#define PAL_FW_MSG_REPLY_BIT 0x80u
#define PAL_FW_MSG_NAK 0xFFu

/* NAK reasons */
#define PAL_FW_NAK_BAD_CRC 1u
#define PAL_FW_NAK_UNKNOWN_TYPE 2u
#define PAL_FW_NAK_BAD_LENGTH 3u
#define PAL_FW_NAK_BAD_ADDRESS 4u
#define PAL_FW_NAK_BAD_VERSION 5u
#define PAL_FW_NAK_REFUSED 6u

/* INFO flags */
#define PAL_FW_FLAG_FIRMWARE 0x1u
#define PAL_FW_FLAG_NO_POST 0x2u
#define PAL_FW_FLAG_NO_ACCU 0x4u
/* GEOMETRY register bits that say the same (docs/isa.md §6) */
#define PAL_FW_GEOMETRY_NO_POST (1u << 24)
#define PAL_FW_GEOMETRY_NO_ACCU (1u << 25)

/* windows of the device map (docs/protocol.md §5) */
#define PAL_FW_DEV_TILE_REGS_WINDOW 0x100u
#define PAL_FW_DEV_IMEM_WINDOW 0xF0000u
#define PAL_FW_DEV_ABUF_CODES_WINDOW 0x80000u
#define PAL_FW_DEV_ABUF_SCALES_WINDOW 0x10000u
#define PAL_FW_DEV_BANK_WINDOW 0x100000u
#define PAL_FW_DEV_LINK_REGS 0x0F000000u
#define PAL_FW_DEV_LINK_REGS_WINDOW 0x100u
#define PAL_FW_DEV_MAX_PES 256u
#define PAL_FW_INSTR_WORDS 4u             /* 32-bit words per tile instruction */
#define PAL_FW_BLOCK_CODES 32u            /* codes per ABUF/WMEM block */

/* link-engine registers (§5.1), in their order */
enum {
    PAL_FW_LINK_RX_FRAMES, PAL_FW_LINK_RX_BAD_HCRC, PAL_FW_LINK_RX_BAD_CRC,
    PAL_FW_LINK_RX_IDLE_RESETS, PAL_FW_LINK_RX_DISCARDED, PAL_FW_LINK_TX_FRAMES,
    PAL_FW_LINK_NAKS_SENT, PAL_FW_LINK_DUP_WRITES, PAL_FW_LINK_WRITES_EXECUTED,
    PAL_FW_LINK_KERNEL_STARTS, PAL_FW_LINK_CTR_COUNT
};

/* tile registers beyond pal_fw_map.h's */
#define PAL_FW_REG_CLIP_LO 0x4Cu
#define PAL_FW_REG_CLIP_HI 0x50u
#define PAL_FW_REG_COUNTERS_END 0xC8u     /* 18 counter words from 0x80 */

#endif
