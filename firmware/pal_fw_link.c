/* The host link protocol in firmware (pal_fw_link.h). The receiver follows
 * pal_frame_parser_push (driver/pal_protocol.c) step for step, the
 * execution pal_link_model.c's execute() and pal_bus.c's checks, and where
 * the RTL link engine adds a check (a memory access while the tile runs is
 * NAK 6, rtl/pal_link_exec.v) this does too. */
#include "pal_fw_link.h"

#include "hal.h"

/* ---- CRCs ---------------------------------------------------------------- */

/* CRC-8 a byte at a time from a table made once (the core shifts one bit
 * a cycle: the bitwise form cost about 1 000 cycles a header) */
static uint8_t crc8_table[256];
static uint32_t crc8_ready;

uint8_t pal_fw_crc8(const uint8_t *p, uint32_t n)
{
    if (!crc8_ready) {
        /* the CRC is linear: the entries of the eight single bits, then
         * every other entry as the xor of two already made */
        for (uint32_t bit = 1; bit < 256u; bit <<= 1) {
            uint32_t c = bit;
            for (uint32_t b = 0; b < 8u; b++)
                c = (c & 0x80u) ? ((c << 1) ^ 0x07u) & 0xFFu : (c << 1) & 0xFFu;
            crc8_table[bit] = (uint8_t)c;
        }
        for (uint32_t v = 3; v < 256u; v++)
            if (v & (v - 1u))
                crc8_table[v] = crc8_table[v & (v - 1u)] ^ crc8_table[v & (0u - v)];
        crc8_ready = 1;
    }
    uint32_t crc = 0;
    for (uint32_t i = 0; i < n; i++)
        crc = crc8_table[crc ^ p[i]];
    return (uint8_t)crc;
}

uint32_t pal_fw_crc32(const uint8_t *p, uint32_t n, uint32_t running)
{
    pal_hal_write32(PAL_FW_CRC_VALUE, running);
    for (uint32_t i = 0; i < n; i++)
        pal_hal_write32(PAL_FW_CRC_BYTE, p[i]);
    return pal_hal_read32(PAL_FW_CRC_VALUE);
}

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- sending --------------------------------------------------------------- */

static void tx_byte(uint8_t b)
{
    while (!(pal_hal_read32(PAL_FW_UART_STATUS) & PAL_FW_UART_TX_FREE))
        ;
    pal_hal_write32(PAL_FW_UART_TX_DATA, b);
}

/* The LEDs (system control): bit 0 error, bit 1 link activity; each goes
 * out PAL_FW_LINK_LED_CYCLES after it was last lit (pal_fw_link_poll). */
static void led_light(pal_fw_link_t *l, uint32_t bit)
{
    l->led_at[bit] = pal_hal_now();
    if (!(l->leds & (1u << bit))) {
        l->leds |= 1u << bit;
        pal_hal_write32(PAL_FW_SYSCTL_LED, l->leds);
    }
}

static void reply(pal_fw_link_t *l, uint32_t type, uint32_t seq, const uint8_t *payload, uint32_t len)
{
    uint8_t h[6] = {(uint8_t)type, (uint8_t)seq, (uint8_t)len, (uint8_t)(len >> 8),
                    (uint8_t)PAL_FW_PROTO_VERSION, 0};
    h[5] = pal_fw_crc8(h, 5);
    pal_hal_write32(PAL_FW_CRC_VALUE, 0xFFFFFFFFu);
    tx_byte((uint8_t)PAL_FW_PROTO_SYNC);
    for (uint32_t i = 0; i < 6u; i++) {
        tx_byte(h[i]);
        if (i < 5u)
            pal_hal_write32(PAL_FW_CRC_BYTE, h[i]);
    }
    /* the CRC-32 as the bytes go out: one pass over the payload */
    for (uint32_t i = 0; i < len; i++) {
        tx_byte(payload[i]);
        pal_hal_write32(PAL_FW_CRC_BYTE, payload[i]);
    }
    uint32_t crc = ~pal_hal_read32(PAL_FW_CRC_VALUE);
    for (uint32_t i = 0; i < 4u; i++)
        tx_byte((uint8_t)(crc >> (8u * i)));
    l->ctr[PAL_FW_LINK_TX_FRAMES]++;
    led_light(l, 1);
}

static void nak(pal_fw_link_t *l, uint32_t seq, uint32_t reason)
{
    uint8_t r = (uint8_t)reason;
    l->ctr[PAL_FW_LINK_NAKS_SENT]++;
    led_light(l, 0);
    reply(l, PAL_FW_MSG_NAK, seq, &r, 1);
}

/* ---- the device map (pal_bus_decode) ---------------------------------------- */

enum { K_TILE_REG, K_LINK_REG, K_REGION };

typedef struct target {
    uint32_t kind;
    uint32_t elem;      /* element bytes of a region: 1 or 4 */
} target_t;

static int tile_reg_exists(uint32_t off)
{
    return off <= PAL_FW_REG_OBUF_DEPTH || (off >= PAL_FW_REG_CONTROL && off <= PAL_FW_REG_CLIP_HI) ||
           (off >= PAL_FW_REG_COUNTERS && off < PAL_FW_REG_COUNTERS_END);
}

static int decode_regs(uint32_t off, uint32_t len, uint32_t window, int tile)
{
    if (off + len > window || len > window || (off | len) % 4u)
        return 0;
    for (uint32_t o = off; o < off + len; o += 4u)
        if (tile ? !tile_reg_exists(o) : o >= 4u * PAL_FW_LINK_CTR_COUNT)
            return 0;
    return 1;
}

/* 1 when [address, address + len) is one whole run of registers or lies in
 * one region of one PE, aligned to its elements (len >= 1). */
static int decode(const pal_fw_link_t *l, uint32_t address, uint32_t len, target_t *t)
{
    const pal_fw_tile_info_t *g = &l->fw->tile;
    if (address < PAL_FW_DEV_TILE_REGS_WINDOW) {
        t->kind = K_TILE_REG;
        return decode_regs(address, len, PAL_FW_DEV_TILE_REGS_WINDOW, 1);
    }
    if (address - PAL_FW_DEV_LINK_REGS < PAL_FW_DEV_LINK_REGS_WINDOW) {
        t->kind = K_LINK_REG;
        return decode_regs(address - PAL_FW_DEV_LINK_REGS, len, PAL_FW_DEV_LINK_REGS_WINDOW, 0);
    }
    struct win {
        uint32_t base, size, stride, elem, bytes;
    } w[9] = {
        {PAL_FW_DEV_IMEM, PAL_FW_DEV_IMEM_WINDOW, 0, 4, g->imem_depth * PAL_FW_INSTR_WORDS * 4u},
        {PAL_FW_DEV_ABUF_CODES, PAL_FW_DEV_ABUF_CODES_WINDOW, 0, 1, g->abuf_blocks * PAL_FW_BLOCK_CODES},
        {PAL_FW_DEV_ABUF_SCALES, PAL_FW_DEV_ABUF_SCALES_WINDOW, 0, 1, g->abuf_blocks},
        {PAL_FW_DEV_WMEM_CODES, PAL_FW_DEV_MAX_PES * PAL_FW_DEV_WMEM_CODES_STRIDE,
         PAL_FW_DEV_WMEM_CODES_STRIDE, 1, g->wmem_blocks * PAL_FW_BLOCK_CODES},
        {PAL_FW_DEV_WMEM_SCALES, PAL_FW_DEV_MAX_PES * PAL_FW_DEV_WMEM_SCALES_STRIDE,
         PAL_FW_DEV_WMEM_SCALES_STRIDE, 1, g->wmem_blocks},
        {PAL_FW_DEV_ACC, PAL_FW_DEV_BANK_WINDOW, 0, 4, g->acc_depth * 4u},
        {PAL_FW_DEV_ACC_NAR, PAL_FW_DEV_BANK_WINDOW, 0, 1, g->acc_depth},
        {PAL_FW_DEV_BIAS, PAL_FW_DEV_BANK_WINDOW, 0, 4, g->bias_depth * 4u},
        {PAL_FW_DEV_OBUF, PAL_FW_DEV_BANK_WINDOW, 0, 4, g->obuf_depth * 4u},
    };
    for (uint32_t i = 0; i < 9u; i++) {
        uint32_t off = address - w[i].base;
        if (address < w[i].base || off >= w[i].size)
            continue;
        if (w[i].stride) {
            /* the strides are powers of two: PE and offset without a divide */
            uint32_t shift = w[i].stride == PAL_FW_DEV_WMEM_CODES_STRIDE ? 16u : 12u;
            if ((off >> shift) >= l->pes)
                return 0;
            off &= w[i].stride - 1u;
        }
        t->kind = K_REGION;
        t->elem = w[i].elem;
        return len <= w[i].bytes && off <= w[i].bytes - len && ((off | len) & (w[i].elem - 1u)) == 0;
    }
    return 0;
}

static int tile_busy(void)
{
    return (pal_hal_tile_reg(PAL_FW_REG_STATUS) & PAL_FW_STATUS_BUSY) != 0;
}

/* ---- requests ---------------------------------------------------------------- */

static uint32_t do_write(pal_fw_link_t *l, uint32_t addr, const uint8_t *d, uint32_t n)
{
    target_t t;
    if (!decode(l, addr, n, &t) || t.kind == K_LINK_REG)
        return PAL_FW_NAK_BAD_ADDRESS;
    if (t.kind == K_TILE_REG) {
        /* every word checked before the first is written (pal_bus.c write_regs) */
        for (uint32_t k = 0; k < n; k += 4u) {
            uint32_t off = addr + k, v = get32(d + k);
            if (off != PAL_FW_REG_CONTROL && off != PAL_FW_REG_START_PC && off != PAL_FW_REG_CLIP_LO &&
                off != PAL_FW_REG_CLIP_HI)
                return PAL_FW_NAK_BAD_ADDRESS;
            if (off == PAL_FW_REG_CONTROL &&
                ((v & ~(PAL_FW_CONTROL_START | PAL_FW_CONTROL_CLEAR)) ||
                 ((v & PAL_FW_CONTROL_START) && !(v & PAL_FW_CONTROL_CLEAR) && tile_busy())))
                return PAL_FW_NAK_REFUSED;
            if (off == PAL_FW_REG_START_PC && v > 0xFFFFu)
                return PAL_FW_NAK_REFUSED;
        }
        for (uint32_t k = 0; k < n; k += 4u) {
            uint32_t v = get32(d + k);
            pal_hal_tile_reg_write(addr + k, v);
            if (addr + k == PAL_FW_REG_CONTROL && (v & PAL_FW_CONTROL_START))
                l->ctr[PAL_FW_LINK_KERNEL_STARTS]++;
        }
        return 0;
    }
    if (tile_busy())
        return PAL_FW_NAK_REFUSED;
    if (addr - PAL_FW_DEV_ACC_NAR < PAL_FW_DEV_BANK_WINDOW)
        for (uint32_t k = 0; k < n; k++)
            if (d[k] > 1u)
                return PAL_FW_NAK_REFUSED;
    uint32_t a = PAL_FW_TILE_BASE + addr;
    /* the payload sits word-aligned in the receive buffer (address, then
     * data): whole words are loaded as words, not assembled from bytes
     * with the core's bit-serial shifts */
    for (uint32_t k = 0; k < n;) {
        if (((a + k) & 3u) == 0 && n - k >= 4u) {
            pal_hal_write32(a + k, ((uintptr_t)(d + k) & 3u) == 0 ? *(const uint32_t *)(const void *)(d + k)
                                                                   : get32(d + k));
            k += 4u;
        } else {
            pal_hal_write8(a + k, d[k]);
            k++;
        }
    }
    return 0;
}

static uint32_t do_read(pal_fw_link_t *l, uint32_t addr, uint8_t *out, uint32_t n)
{
    target_t t;
    if (!decode(l, addr, n, &t))
        return PAL_FW_NAK_BAD_ADDRESS;
    if (t.kind == K_LINK_REG) {
        for (uint32_t k = 0; k < n; k += 4u)
            put32(out + k, l->ctr[(addr - PAL_FW_DEV_LINK_REGS + k) / 4u]);
        return 0;
    }
    if (t.kind == K_REGION && tile_busy())
        return PAL_FW_NAK_REFUSED;
    /* byte regions: the aligned word holding each byte, little-endian lanes */
    uint32_t a = PAL_FW_TILE_BASE + addr;
    for (uint32_t k = 0; k < n;) {
        uint32_t w = pal_hal_read32((a + k) & ~3u);
        for (uint32_t lane = (a + k) & 3u; lane < 4u && k < n; lane++, k++)
            out[k] = (uint8_t)(w >> (8u * lane));
    }
    return 0;
}

/* FW: the words of one message straight to the command loop. A FW
 * request with the SEQ of the last executed request, when that was a FW
 * too, is the host's retransmission of a request whose reply was lost: it
 * goes in with the replay mark (header bit 7), as the link engine passes
 * it, and the firmware sends its kept reply. START and RUN answered OK
 * count as kernel starts, a replay not again (docs/protocol.md §4.2). */
static int do_fw(pal_fw_link_t *l, uint32_t seq, uint32_t len)
{
    uint32_t n = len / 4u;
    uint32_t *words = l->body;
    if (len == 0 || len % 4u || (words[0] >> 16) != n - 1u) {
        nak(l, seq, PAL_FW_NAK_BAD_LENGTH);
        return 0;
    }
    int replay = l->last_type == PAL_FW_MSG_FW && l->last_seq == seq;
    if (replay)
        words[0] |= PAL_FW_REPLAY;
    uint32_t r[PAL_FW_REPLY_BUFFER_WORDS], rn = 0;
    pal_fw_message(l->fw, words, n, r, &rn);
    uint32_t cmd = words[0] & 0xFFu;
    if (!replay && rn >= 2u && r[1] == PAL_FW_OK && (cmd == PAL_FW_CMD_START || cmd == PAL_FW_CMD_RUN))
        l->ctr[PAL_FW_LINK_KERNEL_STARTS]++;
    /* little-endian words are the wire's byte order on this core */
    for (uint32_t i = 0; i < rn; i++)
        l->reply[i] = r[i];
    reply(l, PAL_FW_MSG_FW | PAL_FW_MSG_REPLY_BIT, seq, (const uint8_t *)l->reply, 4u * rn);
    return 1;
}

static int execute(pal_fw_link_t *l, uint32_t type, uint32_t seq, uint32_t len)
{
    const uint8_t *p = (const uint8_t *)l->body;
    uint8_t *out = (uint8_t *)l->reply;
    uint32_t why;
    switch (type) {
    case PAL_FW_MSG_INFO:
        if (len != 0)
            break;
        reply(l, PAL_FW_MSG_INFO | PAL_FW_MSG_REPLY_BIT, seq, l->info, PAL_FW_PROTO_INFO_BYTES);
        return 1;
    case PAL_FW_MSG_PING:
        reply(l, PAL_FW_MSG_PING | PAL_FW_MSG_REPLY_BIT, seq, p, len);
        return 1;
    case PAL_FW_MSG_WRITE: {
        if (len < 5u)
            break;
        uint32_t n = len - 4u;
        if (l->last_type == PAL_FW_MSG_WRITE && l->last_seq == seq) {
            l->ctr[PAL_FW_LINK_DUP_WRITES]++;    /* a retransmission: executed once already */
        } else if ((why = do_write(l, get32(p), p + 4, n)) != 0) {
            nak(l, seq, why);
            return 0;
        } else {
            l->ctr[PAL_FW_LINK_WRITES_EXECUTED]++;
        }
        uint8_t ack[6] = {p[0], p[1], p[2], p[3], (uint8_t)n, (uint8_t)(n >> 8)};
        reply(l, PAL_FW_MSG_WRITE | PAL_FW_MSG_REPLY_BIT, seq, ack, 6);
        return 1;
    }
    case PAL_FW_MSG_READ: {
        if (len != 6u)
            break;
        uint32_t n = get16(p + 4);
        if (n == 0 || n > PAL_FW_LINK_MAX_PAYLOAD)
            break;
        if ((why = do_read(l, get32(p), out, n)) != 0) {
            nak(l, seq, why);
            return 0;
        }
        reply(l, PAL_FW_MSG_READ | PAL_FW_MSG_REPLY_BIT, seq, out, n);
        return 1;
    }
    case PAL_FW_MSG_FW:
        return do_fw(l, seq, len);
    default:
        nak(l, seq, PAL_FW_NAK_UNKNOWN_TYPE);
        return 0;
    }
    nak(l, seq, PAL_FW_NAK_BAD_LENGTH);
    return 0;
}

/* ---- receiving (pal_frame_parser_push, a byte at a time) -------------------- */

/* After a bad HCRC hunting resumes at the byte after the SYNC: a SYNC among
 * the six header bytes already taken starts the next candidate. */
static void rescan_header(pal_fw_link_t *l)
{
    uint32_t j = 1;
    while (j < l->hdr_n && l->hdr[j] != PAL_FW_PROTO_SYNC)
        j++;
    l->ctr[PAL_FW_LINK_RX_DISCARDED] += j - 1u;
    for (uint32_t i = j; i < l->hdr_n; i++)
        l->hdr[i - j] = l->hdr[i];
    l->hdr_n -= j;
}

static void frame_done(pal_fw_link_t *l)
{
    l->frames_done++;
    uint32_t type = l->hdr[1], seq = l->hdr[2], len = get16(l->hdr + 3);
    const uint8_t *body = (const uint8_t *)l->body;
    l->in_body = 0;
    l->hdr_n = 0;
    uint32_t crc = ~pal_fw_crc32(body, len, pal_fw_crc32(l->hdr + 1, 5, 0xFFFFFFFFu));
    if (crc != get32(body + len)) {
        l->ctr[PAL_FW_LINK_RX_BAD_CRC]++;
        nak(l, seq, PAL_FW_NAK_BAD_CRC);
        return;
    }
    l->ctr[PAL_FW_LINK_RX_FRAMES]++;
    /* executed = answered with anything but a NAK (§7.2) */
    if (execute(l, type, seq, len)) {
        l->last_type = type;
        l->last_seq = seq;
    }
}

void pal_fw_link_byte(pal_fw_link_t *l, uint8_t b)
{
    if (l->in_body) {
        ((uint8_t *)l->body)[l->body_n++] = b;
        if (l->body_n == l->body_need)
            frame_done(l);
        return;
    }
    if (l->hdr_n == 0) {
        if (b == PAL_FW_PROTO_SYNC)
            l->hdr[l->hdr_n++] = b;
        else
            l->ctr[PAL_FW_LINK_RX_DISCARDED]++;
        return;
    }
    l->hdr[l->hdr_n++] = b;
    if (l->hdr_n < 7u)
        return;
    if (pal_fw_crc8(l->hdr + 1, 5) != l->hdr[6]) {
        l->ctr[PAL_FW_LINK_RX_BAD_HCRC]++;
        rescan_header(l);
        return;
    }
    uint32_t seq = l->hdr[2], len = get16(l->hdr + 3);
    /* nothing after a header of another version or an oversize LEN can be
     * trusted to be its payload: answer at once and hunt on */
    if (l->hdr[5] != PAL_FW_PROTO_VERSION) {
        l->hdr_n = 0;
        nak(l, seq, PAL_FW_NAK_BAD_VERSION);
    } else if (len > PAL_FW_LINK_MAX_PAYLOAD) {
        l->hdr_n = 0;
        nak(l, seq, PAL_FW_NAK_BAD_LENGTH);
    } else {
        l->in_body = 1;
        l->body_n = 0;
        l->body_need = len + 4u;
    }
}

void pal_fw_link_poll(pal_fw_link_t *l)
{
    pal_fw_watchdog(l->fw);
    uint32_t now = pal_hal_now();
    for (uint32_t bit = 0; bit < 2u; bit++)
        if ((l->leds & (1u << bit)) && now - l->led_at[bit] >= PAL_FW_LINK_LED_CYCLES) {
            l->leds &= ~(1u << bit);
            pal_hal_write32(PAL_FW_SYSCTL_LED, l->leds);
        }
    if (!(pal_hal_read32(PAL_FW_UART_STATUS) & PAL_FW_UART_RX_VALID)) {
        /* a partial frame is dropped after IDLE byte times of silence */
        if ((l->hdr_n || l->in_body) && now - l->last_byte_at >= l->idle_cycles) {
            l->ctr[PAL_FW_LINK_RX_IDLE_RESETS]++;
            l->hdr_n = 0;
            l->in_body = 0;
        }
        return;
    }
    /* the bytes there are, up to the end of a frame: the watchdog runs
     * between frames however closely the host sends them */
    uint32_t frames = l->frames_done;
    led_light(l, 1);
    do {
        if (l->in_body) {
            /* the payload: the hot loop (a frame is mostly payload), with
             * its state in registers; the CRC-32 is checked when it ends */
            uint8_t *body = (uint8_t *)l->body;
            uint32_t n = l->body_n, need = l->body_need;
            do {
                body[n++] = (uint8_t)pal_hal_read32(PAL_FW_UART_RX_DATA);
            } while (n < need && (pal_hal_read32(PAL_FW_UART_STATUS) & PAL_FW_UART_RX_VALID));
            l->body_n = n;
            if (n == need)
                frame_done(l);
        } else {
            pal_fw_link_byte(l, (uint8_t)pal_hal_read32(PAL_FW_UART_RX_DATA));
        }
    } while (l->frames_done == frames && (pal_hal_read32(PAL_FW_UART_STATUS) & PAL_FW_UART_RX_VALID));
    l->last_byte_at = pal_hal_now();
}

void pal_fw_link_init(pal_fw_link_t *l, pal_fw_t *fw)
{
    uint8_t *z = (uint8_t *)l;
    for (uint32_t i = 0; i < sizeof *l; i++)
        z[i] = 0;
    l->fw = fw;
    pal_fw_crc8(l->hdr, 0);  /* its table, made before the first frame waits on it */
    const pal_fw_tile_info_t *t = &fw->tile;
    l->pes = t->rows * t->cols;
    l->idle_cycles = PAL_FW_LINK_IDLE_BYTE_TIMES * pal_hal_read32(PAL_FW_SYSINFO_BYTE_CYCLES);
    l->last_byte_at = pal_hal_now();
    /* INFO (docs/protocol.md §4.1): the tile's registers, this link's
     * limits, the SoC's clock and name */
    uint8_t *p = l->info;
    put32(p, 0x314C4150u);    /* "PAL1" */
    p[4] = (uint8_t)PAL_FW_PROTO_VERSION;
    p[5] = (uint8_t)t->isa_version;
    uint32_t flags = PAL_FW_FLAG_FIRMWARE | (t->geometry & PAL_FW_GEOMETRY_NO_POST ? PAL_FW_FLAG_NO_POST : 0) |
                     (t->geometry & PAL_FW_GEOMETRY_NO_ACCU ? PAL_FW_FLAG_NO_ACCU : 0);
    p[6] = (uint8_t)flags;
    p[8] = (uint8_t)t->rows;
    p[9] = (uint8_t)t->cols;
    p[10] = (uint8_t)(t->geometry >> 16);
    put32(p + 12, t->imem_depth);
    put32(p + 16, t->abuf_blocks);
    put32(p + 20, t->wmem_blocks);
    put32(p + 24, t->acc_depth);
    put32(p + 28, t->bias_depth);
    put32(p + 32, t->obuf_depth);
    put32(p + 36, PAL_FW_LINK_MAX_PAYLOAD);
    put32(p + 40, pal_hal_read32(PAL_FW_SYSINFO_CLOCK_HZ));
    put32(p + 44, PAL_FW_LINK_IDLE_BYTE_TIMES);
    for (uint32_t i = 0; i < PAL_FW_PROTO_NAME_BYTES; i += 4u)
        put32(p + 48 + i, pal_hal_read32(PAL_FW_SYSINFO_NAME + i));
}
