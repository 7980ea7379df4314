/* The host link protocol (docs/protocol.md) served by the firmware itself,
 * for the SoC without a link engine (rtl/pal_fwsoc.v, the iCEBreaker's):
 * bytes from the UART through the same receiver as the host's
 * (pal_frame_parser_t in driver/pal_protocol.c: hunt, header and HCRC, the
 * rescan after a bad HCRC, VER and LEN at the header, CRC-32, the idle
 * timeout), then INFO, WRITE, READ, PING and FW executed as
 * driver/pal_link_model.c executes them, with the duplicate-WRITE rule and
 * the link registers of §5.1; FW requests go straight to the command loop
 * (pal_fw_message). tests/firmware/link/ runs it against the C model on the
 * same byte streams. */
#ifndef PAL_FW_LINK_H
#define PAL_FW_LINK_H

#include <stdint.h>

#include "pal_fw_cmd.h"
#include "pal_fw_proto.h"

/* Largest LEN accepted and sent: a whole frame (267 bytes) fits the SoC's
 * 512-byte receive FIFO, so the host's stop-and-wait never overruns it. */
#ifndef PAL_FW_LINK_MAX_PAYLOAD
#define PAL_FW_LINK_MAX_PAYLOAD 256u
#endif
#define PAL_FW_LINK_IDLE_BYTE_TIMES 4096u
/* an LED stays on this many cycles after it was lit (as pal_soc's) */
#define PAL_FW_LINK_LED_CYCLES (1u << 20)

typedef struct pal_fw_link {
    pal_fw_t *fw;
    /* receiver: hdr[0] SYNC, hdr[1..5] TYPE SEQ LEN VER, hdr[6] HCRC */
    uint8_t hdr[8];
    uint32_t hdr_n;           /* header bytes held; 0 = hunting */
    uint32_t in_body, body_n, body_need;
    uint32_t frames_done;     /* frames completed (good or not), for the poll loop */
    uint32_t last_byte_at;    /* timer at the last byte received */
    uint32_t idle_cycles;     /* IDLE byte times in core cycles */
    /* the last executed request (0: none yet), for the duplicate-WRITE
     * rule (§7.2) and the replay of a FW reply (§4.2) */
    uint32_t last_type, last_seq;
    uint32_t ctr[PAL_FW_LINK_CTR_COUNT];
    uint32_t leds, led_at[2]; /* LED bits lit (error, activity) and when */
    uint32_t pes;             /* R x C, from the tile's GEOMETRY */
    uint8_t info[PAL_FW_PROTO_INFO_BYTES];
    /* payload and CRC of the frame being received; word-aligned for FW */
    uint32_t body[(PAL_FW_LINK_MAX_PAYLOAD + 4u + 3u) / 4u];
    uint32_t reply[(PAL_FW_LINK_MAX_PAYLOAD + 3u) / 4u];
} pal_fw_link_t;

/* Reads the tile's ID registers and the SoC's SYSINFO; fw must have been
 * initialised (pal_fw_init). */
void pal_fw_link_init(pal_fw_link_t *link, pal_fw_t *fw);
/* One step: the watchdog, the idle timeout, then every byte the UART holds
 * (a completed frame is executed and answered before the next byte). */
void pal_fw_link_poll(pal_fw_link_t *link);
/* One received byte (pal_fw_link_poll's inner step; the host tests feed
 * bytes with it too). */
void pal_fw_link_byte(pal_fw_link_t *link, uint8_t byte);

/* CRC-8 of the header (poly 0x07, init 0), CRC-32 through the SoC's CRC
 * unit; both as docs/protocol.md §2. */
uint8_t pal_fw_crc8(const uint8_t *p, uint32_t n);
uint32_t pal_fw_crc32(const uint8_t *p, uint32_t n, uint32_t running);

#endif
