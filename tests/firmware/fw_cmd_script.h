/* Drives the firmware's command loop (firmware/pal_fw_cmd.c) over the fake
 * HAL with a script of requests read from bytes, and checks what must hold
 * for any request stream (docs/control-core.md §4):
 *  - every complete request gets exactly one reply, whose header carries the
 *    request's command | 0x80, its tag and the count of the words that follow;
 *  - the status word is one of PAL_FW_OK..PAL_FW_ERR_NO_REPLAY, and the
 *    replies of INFO, STATUS, COUNTERS and the load commands have their
 *    documented lengths;
 *  - a replay (header bit 7) of the last request returns its reply word for
 *    word and runs nothing; any other replay answers NO_REPLAY;
 *  - the tile is started exactly when START or RUN answers OK, never else,
 *    and never at a PC outside its IMEM;
 *  - nothing is written outside a buffer or register of the tile.
 * Shared by the seeded test in test_fw_cmd.c (make test) and the libFuzzer
 * target fuzz_fw_cmd.c (make fuzz-run-fw-cmd); no cmocka here.
 *
 * Script: per request one op byte, then for most ops a length byte and the
 * payload words (4 bytes each, little-endian; missing bytes read as 0).
 *   op & 7:    0 INFO, 1 LOAD_BEGIN, 2 LOAD_DATA, 3 START, 4 STATUS,
 *              5 COUNTERS, 6 RUN, 7 the command byte is the next byte
 *   op & 0x08: mark the request as a replay; with op & 0x40 it is the
 *              retransmission of the last request (its command, tag and
 *              length; the payload words are still read from the script)
 *   op & 0x10: the fake tile's kernels hang from now on (toggles)
 *   op & 0x20: instead, load `image` (when given) in chunks of the next
 *              byte + 1 bytes: LOAD_BEGIN then LOAD_DATA requests
 *   length:    payload words, the byte mod 72 (64 is the firmware's limit) */
#ifndef PAL_FW_CMD_SCRIPT_H
#define PAL_FW_CMD_SCRIPT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fake_hal.h"
#include "pal_fw_cmd.h"
#include "pal_fw_map.h"

typedef struct fw_script_stats {
    uint32_t requests, replays_matched;
    uint32_t status[PAL_FW_ERR_NO_REPLAY + 1];
    uint32_t started, watchdogs, loads_complete;
} fw_script_stats_t;

typedef struct fw_script {
    const uint8_t *data;
    size_t size, pos;
    pal_fw_t fw;
    uint32_t tag;
    uint32_t last_head;                              /* last non-replay request */
    uint32_t last_reply[2 + PAL_FW_REPLY_MAX_WORDS]; /* its reply */
    uint32_t last_reply_words;                       /* 0: none kept */
    fw_script_stats_t *stats;
    char *why;
    size_t why_n;
} fw_script_t;

static inline uint32_t fw_script_byte(fw_script_t *s)
{
    return s->pos < s->size ? s->data[s->pos++] : 0u;
}

static inline uint32_t fw_script_word(fw_script_t *s)
{
    uint32_t w = 0;
    for (int i = 0; i < 4; i++)
        w |= fw_script_byte(s) << (8 * i);
    return w;
}

static inline int fw_script_fail(fw_script_t *s, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(s->why, s->why_n, "request %u (header 0x%08x): %s", s->stats->requests, s->fw.msg[0], msg);
    return 1;
}

/* The words of a command's reply (header, status, data) for a status. */
static inline int fw_script_reply_words(uint32_t cmd, uint32_t status)
{
    if (status != PAL_FW_OK && !((cmd == PAL_FW_CMD_LOAD_BEGIN || cmd == PAL_FW_CMD_LOAD_DATA) &&
                                 (status == PAL_FW_ERR_REJECTED || status == PAL_FW_ERR_SEQUENCE)))
        return 2;
    switch (cmd) {
    case PAL_FW_CMD_INFO: return 2 + 12;
    case PAL_FW_CMD_STATUS: return 2 + 8;
    case PAL_FW_CMD_COUNTERS: return (int)(2 + PAL_FW_COUNTER_WORDS + 5);
    case PAL_FW_CMD_LOAD_BEGIN:
    case PAL_FW_CMD_LOAD_DATA: return 2 + 4;
    default: return 2;
    }
}

/* Sends one request (header bits [7:0] cmd, tag, n payload words), runs the
 * loop until its reply is out and checks it. */
static inline int fw_script_request(fw_script_t *s, uint32_t cmd, const uint32_t *payload, uint32_t n)
{
    if (!(cmd & PAL_FW_REPLAY) || ((cmd ^ s->last_head) & 0x7Fu) != 0 || (s->last_head >> 16) != n)
        s->tag = (s->tag + 1u) & 0xFFu; /* a retransmission keeps its tag */
    uint32_t head = (cmd & 0xFFu) | s->tag << 8 | n << 16;
    uint32_t starts = fake.starts, resets = fake.resets;
    fake.tx_len = 0;
    fake_send(cmd & 0xFFu, s->tag, payload, n);
    s->stats->requests++;
    for (int i = 0; i < 4 * (int)n + 64 && (fake.rx_head != fake.rx_tail || fake.tx_len == 0); i++)
        pal_fw_poll(&s->fw);
    if (fake.rx_head != fake.rx_tail)
        return fw_script_fail(s, "the request was not consumed");
    if (fake.tx_len == 0)
        return fw_script_fail(s, "no reply");
    uint32_t rh = fake.tx[0];
    if ((rh & 0xFFFFu) != ((head | PAL_FW_REPLY) & 0xFFFFu))
        return fw_script_fail(s, "reply header 0x%08x: command or tag wrong", rh);
    if (fake.tx_len != 1u + (rh >> 16))
        return fw_script_fail(s, "reply header says %u words, %zu sent", rh >> 16, fake.tx_len - 1);
    if (fake.tx_len < 2)
        return fw_script_fail(s, "reply without a status word");
    uint32_t status = fake.tx[1];
    if (status > PAL_FW_ERR_NO_REPLAY)
        return fw_script_fail(s, "status %u", status);
    s->stats->status[status]++;
    if (fake.outside_writes)
        return fw_script_fail(s, "%u writes outside the tile's buffers (last 0x%08x)", fake.outside_writes,
                              fake.last_outside);
    if (fake.resets != resets)
        s->stats->watchdogs++;

    if (cmd & PAL_FW_REPLAY) {
        if (fake.starts != starts)
            return fw_script_fail(s, "a replay started the tile");
        if (s->last_reply_words && (head & ~(uint32_t)PAL_FW_REPLAY) == s->last_head) {
            if (fake.tx_len != s->last_reply_words ||
                memcmp(fake.tx, s->last_reply, 4u * s->last_reply_words) != 0)
                return fw_script_fail(s, "a replay of the last request got another reply");
            s->stats->replays_matched++;
        } else if (status != PAL_FW_ERR_NO_REPLAY || fake.tx_len != 2) {
            return fw_script_fail(s, "a replay of no kept request answered status %u", status);
        }
        return 0;
    }
    int want = fw_script_reply_words(cmd & 0xFFu, status);
    if (fake.tx_len != (size_t)want)
        return fw_script_fail(s, "status %u with %zu reply words, %d expected", status, fake.tx_len, want);
    int starter = (cmd & 0xFFu) == PAL_FW_CMD_START || (cmd & 0xFFu) == PAL_FW_CMD_RUN;
    uint32_t started = fake.starts - starts;
    if (started != (starter && status == PAL_FW_OK ? 1u : 0u))
        return fw_script_fail(s, "status %u, the tile started %u times", status, started);
    if (started && fake.start_pc >= fake.config.imem_depth)
        return fw_script_fail(s, "the tile started at pc %u, outside its %u instructions", fake.start_pc,
                              fake.config.imem_depth);
    s->stats->started += started;
    if ((cmd & 0xFFu) == PAL_FW_CMD_LOAD_DATA && status == PAL_FW_OK && fake.tx[5] == 1u)
        s->stats->loads_complete++;
    s->last_head = head;
    /* the firmware keeps a reply of up to PAL_FW_REPLY_MAX_WORDS words after its header */
    s->last_reply_words = fake.tx_len <= 1 + PAL_FW_REPLY_MAX_WORDS ? (uint32_t)fake.tx_len : 0u;
    memcpy(s->last_reply, fake.tx, 4u * s->last_reply_words);
    return 0;
}

/* LOAD_BEGIN and LOAD_DATA of a whole image in chunks of `chunk` bytes. */
static inline int fw_script_load(fw_script_t *s, const uint8_t *image, size_t size, uint32_t chunk)
{
    uint32_t total = (uint32_t)size;
    if (fw_script_request(s, PAL_FW_CMD_LOAD_BEGIN, &total, 1))
        return 1;
    for (size_t pos = 0; pos < size;) {
        uint32_t n = chunk < size - pos ? chunk : (uint32_t)(size - pos);
        uint32_t msg[PAL_FW_MSG_MAX_WORDS] = {n};
        memcpy(&msg[1], image + pos, n); /* little-endian: bytes in word order */
        if (fw_script_request(s, PAL_FW_CMD_LOAD_DATA, msg, 1 + (n + 3) / 4))
            return 1;
        pos += n;
    }
    return 0;
}

/* Runs the script on a fresh fake tile of `config`. 0 when every request
 * got a reply as above; else 1 with the reason in why. */
static inline int fw_cmd_script(const pal_tile_config_t *config, const uint8_t *data, size_t size,
                                const uint8_t *image, size_t image_size, fw_script_stats_t *stats,
                                char *why, size_t why_n)
{
    static fw_script_t s; /* pal_fw_t is large: keep it off the stack */
    memset(&s, 0, sizeof s);
    memset(stats, 0, sizeof *stats);
    s.data = data;
    s.size = size;
    s.stats = stats;
    s.why = why;
    s.why_n = why_n;
    fake_init(config);
    pal_fw_init(&s.fw);
    static const uint32_t cmds[7] = {PAL_FW_CMD_INFO,   PAL_FW_CMD_LOAD_BEGIN, PAL_FW_CMD_LOAD_DATA,
                                     PAL_FW_CMD_START,  PAL_FW_CMD_STATUS,     PAL_FW_CMD_COUNTERS,
                                     PAL_FW_CMD_RUN};
    int rc = 0;
    while (s.pos < s.size && rc == 0) {
        uint32_t op = fw_script_byte(&s);
        if (op & 0x10u)
            fake.hang = !fake.hang;
        if ((op & 0x20u) && image) {
            rc = fw_script_load(&s, image, image_size, 1 + fw_script_byte(&s) % (4 * (PAL_FW_MSG_MAX_WORDS - 1)));
            continue;
        }
        uint32_t cmd = (op & 7u) == 7u ? fw_script_byte(&s) & 0x7Fu : cmds[op & 7u];
        uint32_t n = fw_script_byte(&s) % 72u;
        if (op & 0x08u) {
            cmd |= PAL_FW_REPLAY;
            if (op & 0x40u) { /* the host's retransmission of the last request */
                cmd = (s.last_head & 0x7Fu) | PAL_FW_REPLAY;
                n = s.last_head >> 16;
            }
        }
        uint32_t payload[72]; /* n < 72: the script's length byte mod 72, or a kept request's */
        for (uint32_t i = 0; i < n; i++)
            payload[i] = fw_script_word(&s);
        rc = fw_script_request(&s, cmd, payload, n);
    }
    return rc;
}

#endif
