/* The firmware's command loop: mailbox messages in, replies out
 * (docs/control-core.md §4), the kernel loader, and the watchdog that
 * resets a tile whose kernel runs past its limit. pal_fw_poll() does one
 * step and never blocks except while a reply word waits for the mailbox,
 * so the host tests drive it step by step over the fake HAL. */
#ifndef PAL_FW_CMD_H
#define PAL_FW_CMD_H

#include <stdint.h>

#include "pal_fw_image.h"

#define PAL_FW_VERSION 1u
#define PAL_FW_MSG_MAX_WORDS 64u        /* payload words of one request */
#define PAL_FW_REPLY_MAX_WORDS 24u      /* payload words of a reply, status included (COUNTERS) */
#define PAL_FW_DEFAULT_WATCHDOG 12000000u /* cycles: 1 s at 12 MHz */

/* Commands (request header bits [7:0]); replies carry cmd | 0x80. */
enum {
    PAL_FW_CMD_INFO = 0x01,
    PAL_FW_CMD_LOAD_BEGIN = 0x02,
    PAL_FW_CMD_LOAD_DATA = 0x03,
    PAL_FW_CMD_START = 0x04,
    PAL_FW_CMD_STATUS = 0x05,
    PAL_FW_CMD_COUNTERS = 0x06,
    PAL_FW_CMD_RUN = 0x07,        /* start code already in IMEM (written over the bare path) */
    PAL_FW_REPLY = 0x80,
    /* Request header bit 7 from the link engine: the host retransmitted the
     * last request (its reply was lost); send that reply again, do not run
     * the command twice (docs/protocol.md §4.2). */
    PAL_FW_REPLAY = 0x80,
};

/* Status word (first reply payload word). */
enum {
    PAL_FW_OK = 0,
    PAL_FW_ERR_UNKNOWN_COMMAND = 1,
    PAL_FW_ERR_BAD_LENGTH = 2,     /* payload length wrong for the command, or too long */
    PAL_FW_ERR_BUSY = 3,           /* a kernel is running */
    PAL_FW_ERR_NO_KERNEL = 4,      /* START without a completely validated image */
    PAL_FW_ERR_REJECTED = 5,       /* the image was rejected; reason and detail follow */
    PAL_FW_ERR_SEQUENCE = 6,       /* LOAD_DATA without LOAD_BEGIN, or after completion */
    PAL_FW_ERR_BAD_PC = 7,         /* RUN at a pc outside the tile's IMEM */
    PAL_FW_ERR_NO_REPLAY = 8,      /* a replay that does not match the last request */
};

/* Run states (STATUS reply). */
enum {
    PAL_FW_RUN_IDLE = 0,     /* nothing started since reset or last load */
    PAL_FW_RUN_RUNNING = 1,
    PAL_FW_RUN_DONE = 2,     /* the tile reported done (its STATUS has error bits, if any) */
    PAL_FW_RUN_WATCHDOG = 3, /* stopped by the watchdog; the tile was reset */
};

typedef struct pal_fw {
    pal_fw_tile_info_t tile;
    pal_fw_loader_t loader;
    uint32_t loading;        /* a load is in progress (LOAD_BEGIN seen) */
    uint32_t kernel_valid;   /* the last load completed and passed every check */
    uint32_t run_state;
    uint32_t run_start, run_cycles, watchdog_limit;
    uint32_t tile_status;    /* tile STATUS at the end of the last run */
    uint32_t last_reject, last_detail;
    uint32_t stat_commands, stat_rejects, stat_watchdogs, stat_bad_messages, stat_replays;
    /* the last request's header and its whole reply, for a replay */
    uint32_t last_head;
    uint32_t last_reply[1 + PAL_FW_REPLY_MAX_WORDS];
    uint32_t last_reply_words;  /* 0: nothing to replay */
    /* request being received */
    uint32_t msg[PAL_FW_MSG_MAX_WORDS + 1];
    uint32_t msg_fill, msg_need;
    /* where reply words go: 0 = the mailbox; else this buffer
     * (pal_fw_message, the firmware link) */
    uint32_t *out;
    uint32_t out_words;
} pal_fw_t;

/* Words of the longest reply, header included. */
#define PAL_FW_REPLY_BUFFER_WORDS (1u + PAL_FW_REPLY_MAX_WORDS + 1u)

/* Reads the tile's ID registers; call once after reset. */
void pal_fw_init(pal_fw_t *fw);
/* One step: the watchdog check, then at most one mailbox word (a whole
 * reply is sent when a request completes). */
void pal_fw_poll(pal_fw_t *fw);
/* The watchdog check of pal_fw_poll alone. */
void pal_fw_watchdog(pal_fw_t *fw);
/* One whole request (header word and the n - 1 payload words it announces,
 * n >= 1, as checked by the caller) handled at once; its reply goes into
 * out_reply (PAL_FW_REPLY_BUFFER_WORDS words), *out_words says how many.
 * The firmware link (pal_fw_link.c) calls this instead of the mailbox. */
void pal_fw_message(pal_fw_t *fw, const uint32_t *words, uint32_t n, uint32_t *out_reply,
                    uint32_t *out_words);

#endif
