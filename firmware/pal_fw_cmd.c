/* Command loop of the firmware (pal_fw_cmd.h). Requests arrive word by word
 * from the mailbox: a header word [7:0] command, [15:8] tag, [31:16]
 * payload word count, then the payload. Every request gets exactly one
 * reply: header (command | 0x80, same tag, count), then a status word and
 * the command's data. A request longer than PAL_FW_MSG_MAX_WORDS is read
 * to its end and answered with BAD_LENGTH, so the stream stays in step.
 * The last reply is kept: a request marked PAL_FW_REPLAY (the host's
 * retransmission, the reply having been lost) gets it again, and the
 * command does not run twice. */
#include "pal_fw_cmd.h"

#include "hal.h"

static void send_word(pal_fw_t *fw, uint32_t word)
{
    if (fw->out) {
        if (fw->out_words < PAL_FW_REPLY_BUFFER_WORDS)
            fw->out[fw->out_words++] = word;
        return;
    }
    while (!pal_hal_mbox_tx_free())
        ;
    pal_hal_mbox_tx(word);
}

/* Sends a reply and keeps it for a replay (every reply fits: at most
 * PAL_FW_REPLY_MAX_WORDS payload words), each word kept as it goes out. */
static void reply(pal_fw_t *fw, uint32_t status, const uint32_t *data, uint32_t n)
{
    uint32_t head = fw->msg[0];
    uint32_t *keep = fw->last_reply;
    uint32_t w = (head & 0xFFu) | PAL_FW_REPLY | (head & 0xFF00u) | (n + 1u) << 16;
    keep[0] = w;
    send_word(fw, w);
    keep[1] = status;
    send_word(fw, status);
    uint32_t room = PAL_FW_REPLY_MAX_WORDS - 1u;
    for (uint32_t i = 0; i < n; i++) {
        w = data[i];
        if (i < room)
            keep[2u + i] = w;
        send_word(fw, w);
    }
    fw->last_reply_words = n <= room ? n + 2u : 0u;
}

/* A retransmitted request: its kept reply again, or NO_REPLAY when it is
 * not the last request (nothing was kept, or the header differs). */
static void replay(pal_fw_t *fw)
{
    uint32_t head = fw->msg[0];
    fw->stat_replays++;
    if (fw->last_reply_words && (head & ~(uint32_t)PAL_FW_REPLAY) == fw->last_head) {
        for (uint32_t i = 0; i < fw->last_reply_words; i++)
            send_word(fw, fw->last_reply[i]);
        return;
    }
    fw->stat_bad_messages++;
    send_word(fw, (head & 0xFFFFu) | PAL_FW_REPLY | 1u << 16);
    send_word(fw, PAL_FW_ERR_NO_REPLAY);
}

void pal_fw_init(pal_fw_t *fw)
{
    uint8_t *p = (uint8_t *)fw;
    for (uint32_t i = 0; i < sizeof *fw; i++)
        p[i] = 0;
    pal_fw_tile_info_t *t = &fw->tile;
    t->id = pal_hal_tile_reg(PAL_FW_REG_ID);
    t->isa_version = pal_hal_tile_reg(PAL_FW_REG_ISA_VERSION);
    t->geometry = pal_hal_tile_reg(PAL_FW_REG_GEOMETRY);
    t->rows = t->geometry & 0xFFu;
    t->cols = (t->geometry >> 8) & 0xFFu;
    t->imem_depth = pal_hal_tile_reg(PAL_FW_REG_IMEM_DEPTH);
    t->abuf_blocks = pal_hal_tile_reg(PAL_FW_REG_ABUF_BLOCKS);
    t->wmem_blocks = pal_hal_tile_reg(PAL_FW_REG_WMEM_BLOCKS);
    t->acc_depth = pal_hal_tile_reg(PAL_FW_REG_ACC_DEPTH);
    t->bias_depth = pal_hal_tile_reg(PAL_FW_REG_BIAS_DEPTH);
    t->obuf_depth = pal_hal_tile_reg(PAL_FW_REG_OBUF_DEPTH);
    fw->run_state = PAL_FW_RUN_IDLE;
    fw->watchdog_limit = PAL_FW_DEFAULT_WATCHDOG;
}

void pal_fw_watchdog(pal_fw_t *fw)
{
    if (fw->run_state != PAL_FW_RUN_RUNNING)
        return;
    uint32_t st = pal_hal_tile_reg(PAL_FW_REG_STATUS);
    uint32_t elapsed = pal_hal_now() - fw->run_start;
    if ((st & PAL_FW_STATUS_DONE) || !(st & PAL_FW_STATUS_BUSY)) {
        fw->run_state = PAL_FW_RUN_DONE;
        fw->run_cycles = elapsed;
        fw->tile_status = st;
    } else if (elapsed > fw->watchdog_limit) {
        /* A hung kernel: hold the tile in reset for a moment. Its memories
         * survive a reset, but the loaded image is no longer trusted. */
        pal_hal_tile_reset(1);
        pal_hal_tile_reset(0);
        fw->run_state = PAL_FW_RUN_WATCHDOG;
        fw->run_cycles = elapsed;
        fw->tile_status = st;
        fw->kernel_valid = 0;
        fw->stat_watchdogs++;
    }
}

static void cmd_info(pal_fw_t *fw)
{
    const pal_fw_tile_info_t *t = &fw->tile;
    uint32_t d[12] = {t->id, t->isa_version, t->geometry, t->imem_depth, t->abuf_blocks,
                      t->wmem_blocks, t->acc_depth, t->bias_depth, t->obuf_depth,
                      PAL_FW_VERSION, 1u /* firmware present */, PAL_FW_MSG_MAX_WORDS};
    reply(fw, PAL_FW_OK, d, 12);
}

static void load_reply(pal_fw_t *fw, uint32_t status)
{
    uint32_t d[4] = {fw->loader.reject, fw->loader.detail, fw->loader.pos, fw->kernel_valid};
    reply(fw, status, d, 4);
}

static void cmd_load_begin(pal_fw_t *fw, uint32_t total)
{
    fw->kernel_valid = 0;
    fw->loading = 1;
    pal_fw_loader_begin(&fw->loader, &fw->tile, total);
    if (fw->loader.reject) {
        fw->loading = 0;
        fw->stat_rejects++;
        fw->last_reject = fw->loader.reject;
        fw->last_detail = fw->loader.detail;
        load_reply(fw, PAL_FW_ERR_REJECTED);
        return;
    }
    load_reply(fw, PAL_FW_OK);
}

static void cmd_load_data(pal_fw_t *fw, uint32_t n_words)
{
    uint32_t count = fw->msg[1];
    if (n_words < 1u || count == 0 || count > 4u * (n_words - 1u) || count + 3u < 4u * (n_words - 1u)) {
        reply(fw, PAL_FW_ERR_BAD_LENGTH, 0, 0);
        return;
    }
    if (!fw->loading) {
        load_reply(fw, PAL_FW_ERR_SEQUENCE);
        return;
    }
    /* The payload words hold the image bytes little-endian, which is their
     * order in memory on the (little-endian) core: feed them in place. */
    pal_fw_loader_feed(&fw->loader, (const uint8_t *)&fw->msg[2], count);
    if (fw->loader.reject) {
        fw->loading = 0;
        fw->stat_rejects++;
        fw->last_reject = fw->loader.reject;
        fw->last_detail = fw->loader.detail;
        load_reply(fw, PAL_FW_ERR_REJECTED);
        return;
    }
    if (pal_fw_loader_complete(&fw->loader)) {
        fw->loading = 0;
        fw->kernel_valid = 1;
        fw->run_state = PAL_FW_RUN_IDLE;
        pal_hal_tile_reg_write(PAL_FW_REG_START_PC, fw->loader.entry_pc);
    }
    load_reply(fw, PAL_FW_OK);
}

static void cmd_start(pal_fw_t *fw, uint32_t n_words)
{
    if (n_words > 1u) {
        reply(fw, PAL_FW_ERR_BAD_LENGTH, 0, 0);
        return;
    }
    if (fw->run_state == PAL_FW_RUN_RUNNING) {
        reply(fw, PAL_FW_ERR_BUSY, 0, 0);
        return;
    }
    if (!fw->kernel_valid) {
        reply(fw, PAL_FW_ERR_NO_KERNEL, 0, 0);
        return;
    }
    fw->watchdog_limit = n_words == 1u && fw->msg[1] ? fw->msg[1] : PAL_FW_DEFAULT_WATCHDOG;
    pal_hal_tile_reg_write(PAL_FW_REG_START_PC, fw->loader.entry_pc);
    pal_hal_tile_reg_write(PAL_FW_REG_CONTROL, PAL_FW_CONTROL_START);
    fw->run_start = pal_hal_now();
    fw->run_state = PAL_FW_RUN_RUNNING;
    fw->run_cycles = 0;
    reply(fw, PAL_FW_OK, 0, 0);
}

/* RUN: a kernel whose code the host wrote through the link's bare path
 * (no image, so nothing to validate but the entry point); the watchdog
 * guards it as it guards START. Payload: pc, optional watchdog limit. */
static void cmd_run(pal_fw_t *fw, uint32_t n_words)
{
    if (n_words < 1u || n_words > 2u) {
        reply(fw, PAL_FW_ERR_BAD_LENGTH, 0, 0);
        return;
    }
    if (fw->run_state == PAL_FW_RUN_RUNNING) {
        reply(fw, PAL_FW_ERR_BUSY, 0, 0);
        return;
    }
    uint32_t pc = fw->msg[1];
    if (pc >= fw->tile.imem_depth) {
        reply(fw, PAL_FW_ERR_BAD_PC, 0, 0);
        return;
    }
    fw->watchdog_limit = n_words == 2u && fw->msg[2] ? fw->msg[2] : PAL_FW_DEFAULT_WATCHDOG;
    pal_hal_tile_reg_write(PAL_FW_REG_START_PC, pc);
    pal_hal_tile_reg_write(PAL_FW_REG_CONTROL, PAL_FW_CONTROL_START);
    fw->run_start = pal_hal_now();
    fw->run_state = PAL_FW_RUN_RUNNING;
    fw->run_cycles = 0;
    reply(fw, PAL_FW_OK, 0, 0);
}

static void cmd_status(pal_fw_t *fw)
{
    uint32_t running = fw->run_state == PAL_FW_RUN_RUNNING;
    uint32_t live = pal_hal_tile_reg(PAL_FW_REG_STATUS);
    /* word 1: STATUS at the end of the last run (live while running);
     * word 7: STATUS now, which the host's reads of STATUS need after a reset */
    uint32_t d[8] = {fw->run_state,
                     running ? live : fw->tile_status,
                     running ? pal_hal_now() - fw->run_start : fw->run_cycles,
                     fw->watchdog_limit, fw->kernel_valid, fw->last_reject, fw->last_detail, live};
    reply(fw, PAL_FW_OK, d, 8);
}

static void cmd_counters(pal_fw_t *fw)
{
    uint32_t d[PAL_FW_COUNTER_WORDS + 5];
    for (uint32_t i = 0; i < PAL_FW_COUNTER_WORDS; i++)
        d[i] = pal_hal_tile_reg(PAL_FW_REG_COUNTERS + 4u * i);
    d[PAL_FW_COUNTER_WORDS + 0] = fw->stat_commands;
    d[PAL_FW_COUNTER_WORDS + 1] = fw->stat_rejects;
    d[PAL_FW_COUNTER_WORDS + 2] = fw->stat_watchdogs;
    d[PAL_FW_COUNTER_WORDS + 3] = fw->stat_bad_messages;
    d[PAL_FW_COUNTER_WORDS + 4] = fw->stat_replays;
    reply(fw, PAL_FW_OK, d, PAL_FW_COUNTER_WORDS + 5);
}

static void dispatch(pal_fw_t *fw)
{
    uint32_t head = fw->msg[0];
    uint32_t n = head >> 16;
    if (head & PAL_FW_REPLAY) {
        replay(fw);
        return;
    }
    fw->last_head = head;
    fw->stat_commands++;
    if (n > PAL_FW_MSG_MAX_WORDS) {
        fw->stat_bad_messages++;
        reply(fw, PAL_FW_ERR_BAD_LENGTH, 0, 0);
        return;
    }
    switch (head & 0xFFu) {
    case PAL_FW_CMD_INFO:
        if (n != 0)
            break;
        cmd_info(fw);
        return;
    case PAL_FW_CMD_LOAD_BEGIN:
        if (n != 1)
            break;
        if (fw->run_state == PAL_FW_RUN_RUNNING) {
            reply(fw, PAL_FW_ERR_BUSY, 0, 0);
            return;
        }
        cmd_load_begin(fw, fw->msg[1]);
        return;
    case PAL_FW_CMD_LOAD_DATA:
        if (fw->run_state == PAL_FW_RUN_RUNNING) {
            reply(fw, PAL_FW_ERR_BUSY, 0, 0);
            return;
        }
        cmd_load_data(fw, n);
        return;
    case PAL_FW_CMD_START:
        cmd_start(fw, n);
        return;
    case PAL_FW_CMD_STATUS:
        if (n != 0)
            break;
        cmd_status(fw);
        return;
    case PAL_FW_CMD_COUNTERS:
        if (n != 0)
            break;
        cmd_counters(fw);
        return;
    case PAL_FW_CMD_RUN:
        cmd_run(fw, n);
        return;
    default:
        fw->stat_bad_messages++;
        reply(fw, PAL_FW_ERR_UNKNOWN_COMMAND, 0, 0);
        return;
    }
    fw->stat_bad_messages++;
    reply(fw, PAL_FW_ERR_BAD_LENGTH, 0, 0);
}

void pal_fw_poll(pal_fw_t *fw)
{
    pal_fw_watchdog(fw);
    if (!pal_hal_mbox_rx_valid())
        return;
    uint32_t word = pal_hal_mbox_rx();
    if (fw->msg_fill == 0) {
        fw->msg[0] = word;
        fw->msg_fill = 1;
        fw->msg_need = 1u + (word >> 16);
    } else {
        if (fw->msg_fill <= PAL_FW_MSG_MAX_WORDS)
            fw->msg[fw->msg_fill] = word;
        fw->msg_fill++;
    }
    if (fw->msg_fill == fw->msg_need) {
        fw->msg_fill = 0;
        dispatch(fw);
    }
}

void pal_fw_message(pal_fw_t *fw, const uint32_t *words, uint32_t n, uint32_t *out_reply,
                    uint32_t *out_words)
{
    for (uint32_t i = 0; i < n && i <= PAL_FW_MSG_MAX_WORDS; i++)
        fw->msg[i] = words[i];
    fw->msg_fill = 0;
    fw->out = out_reply;
    fw->out_words = 0;
    dispatch(fw);
    *out_words = fw->out_words;
    fw->out = 0;
}
