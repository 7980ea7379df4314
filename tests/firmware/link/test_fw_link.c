/* The host link protocol served by the firmware (firmware/pal_fw_link.c)
 * against the reference device, the C link model (driver/pal_link_model.c),
 * each in front of its own C emulator of the iCEBreaker's tile: the same
 * byte streams in, the same bytes out, the same memories after.
 *
 * The streams are seeded: requests of every type to addresses inside,
 * across and outside every region and register run, and the line's faults
 * (flipped, dropped and inserted bytes, retransmissions, wrong versions,
 * oversize lengths, partial frames left to the idle timeout). FW requests
 * are checked on their own (the model has no firmware: NAK 2), as are the
 * busy tile's refusals (the model's tile never stays busy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emu_hal.h"
#include "pal/protocol.h"
#include "pal/tile.h"
#include "pal_fw_link.h"

#define MAX_PAYLOAD PAL_FW_LINK_MAX_PAYLOAD

typedef struct out_buf {
    uint8_t *p;
    size_t n, cap;
} out_buf_t;

static void out_append(out_buf_t *o, const uint8_t *b, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 4096;
        o->p = realloc(o->p, o->cap);
        assert_non_null(o->p);
    }
    memcpy(o->p + o->n, b, n);
    o->n += n;
}

static void model_emit(void *ctx, const uint8_t *bytes, size_t len) { out_append(ctx, bytes, len); }

typedef struct rig {
    pal_fw_t fw;
    pal_fw_link_t link;
    pal_emu_t *ref_emu;
    pal_link_model_t *model;
    out_buf_t model_out, fw_out;
    pal_tile_config_t cfg;
} rig_t;

/* The iCEBreaker's tile: 2x2, its depths (FW_LINK_TEST_DEPTHS: IMEM ABUF
 * WMEM ACC BIAS OBUF, sim/sim.mk's ICEBREAKER_TILE_DEPTHS), no POST and no
 * accumulate units. */
static void board_config(pal_tile_config_t *cfg)
{
    static const uint32_t depths[6] = {FW_LINK_TEST_DEPTHS};
    pal_tile_config_initialize(cfg, 2, 2);
    uint32_t *const d[6] = {&cfg->imem_depth, &cfg->abuf_blocks, &cfg->wmem_blocks,
                            &cfg->acc_depth,  &cfg->bias_depth,  &cfg->obuf_depth};
    for (int i = 0; i < 6; i++)
        if (depths[i]) *d[i] = depths[i];
    cfg->no_post = true;
    cfg->no_accu = true;
}

static rig_t *rig_new(void)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    board_config(&r->cfg);
    emu_hal_init(&r->cfg);
    pal_fw_init(&r->fw);
    pal_fw_link_init(&r->link, &r->fw);
    assert_int_equal(pal_emu_create(&r->cfg, &r->ref_emu), PAL_OK);
    pal_link_model_options_t mo;
    pal_link_model_options_initialize(&mo);
    mo.max_payload = MAX_PAYLOAD;
    mo.clock_hz = emu_hal.clock_hz;
    mo.flags = PAL_PROTO_FLAG_FIRMWARE;
    mo.name = "icebreaker";
    mo.emit = model_emit;
    mo.emit_ctx = &r->model_out;
    assert_int_equal(pal_link_model_create(pal_emu_device(r->ref_emu), &mo, &r->model), PAL_OK);
    return r;
}

static void rig_free(rig_t *r)
{
    pal_link_model_destroy(r->model);
    pal_emu_destroy(r->ref_emu);
    emu_hal_release();
    free(r->model_out.p);
    free(r->fw_out.p);
    free(r);
}

/* Bytes into the firmware's UART, polled until it has taken them all. */
static void fw_feed(rig_t *r, const uint8_t *b, size_t n)
{
    emu_hal_rx(b, n);
    while (emu_hal.rx_head != emu_hal.rx_tail)
        pal_fw_link_poll(&r->link);
    uint8_t tmp[4096];
    size_t k;
    while ((k = emu_hal_take_tx(tmp, sizeof tmp)) > 0)
        out_append(&r->fw_out, tmp, k);
}

static void both_feed(rig_t *r, const uint8_t *b, size_t n)
{
    fw_feed(r, b, n);
    pal_link_model_receive(r->model, b, n);
}

/* Silence: the model's idle count and the firmware's timer. */
static void both_idle(rig_t *r, uint32_t byte_times)
{
    pal_link_model_idle(r->model, byte_times);
    emu_hal.time += byte_times * emu_hal.byte_cycles;
    pal_fw_link_poll(&r->link);
}

static size_t frame(uint8_t *out, uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t len, uint8_t ver)
{
    pal_frame_t f = {type, seq, ver, len, payload};
    size_t n = 0;
    pal_status_t st = pal_frame_encode(&f, out, len + PAL_PROTO_OVERHEAD, &n);
    assert_int_equal(st, PAL_OK);
    return n;
}

/* The first mismatch of the two output streams, printed. */
static void assert_same_output(const rig_t *r, const char *what, unsigned seed)
{
    size_t n = r->model_out.n < r->fw_out.n ? r->model_out.n : r->fw_out.n, i = 0;
    while (i < n && r->model_out.p[i] == r->fw_out.p[i])
        i++;
    if (i < n || r->model_out.n != r->fw_out.n) {
        print_error("%s (seed %u): output differs at byte %zu of %zu (model) / %zu (firmware): "
                    "model 0x%02x, firmware 0x%02x\n",
                    what, seed, i, r->model_out.n, r->fw_out.n, i < r->model_out.n ? r->model_out.p[i] : 0,
                    i < r->fw_out.n ? r->fw_out.p[i] : 0);
        fail();
    }
}

/* ---- the request generator ------------------------------------------------- */

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An address near something: a region's start, inside, its end, one PE
 * past, a register, a hole, the link registers, nothing at all. */
static uint32_t pick_address(uint64_t *s, const pal_tile_config_t *c, int allow_imem)
{
    uint32_t pes = c->rows * c->cols;
    switch (rnd(s) % 14) {
    case 0: return 4u * (rnd(s) % 0x40u);                                   /* tile registers, holes */
    case 1: return allow_imem ? PAL_ADDR_IMEM + 4u * (rnd(s) % (c->imem_depth * 4u + 8u)) : 0x100u;
    case 2: return PAL_ADDR_ABUF_CODES + rnd(s) % (c->abuf_blocks * 32u + 64u);
    case 3: return PAL_ADDR_ABUF_SCALES + rnd(s) % (c->abuf_blocks + 16u);
    case 4: return PAL_ADDR_WMEM_CODES + (rnd(s) % (pes + 1u)) * PAL_ADDR_WMEM_CODES_STRIDE +
                   rnd(s) % (c->wmem_blocks * 32u + 16u);
    case 5: return PAL_ADDR_WMEM_SCALES + (rnd(s) % (pes + 1u)) * PAL_ADDR_WMEM_SCALES_STRIDE +
                   rnd(s) % (c->wmem_blocks + 8u);
    case 6: return PAL_ADDR_ACC + 4u * (rnd(s) % (c->acc_depth + 8u)) + (rnd(s) % 8 == 0);
    case 7: return PAL_ADDR_ACC_NAR + rnd(s) % (c->acc_depth + 8u);
    case 8: return PAL_ADDR_BIAS + 4u * (rnd(s) % (c->bias_depth + 8u));
    case 9: return PAL_ADDR_OBUF + 4u * (rnd(s) % (c->obuf_depth + 8u));
    case 10: return PAL_ADDR_LINK_REGS + 4u * (rnd(s) % 12u) + (rnd(s) % 8 == 0);
    case 11: return PAL_ADDR_TILE_REGS + PAL_TILE_REG_COUNTERS + 4u * (rnd(s) % 20u);
    case 12: return rnd(s);                                               /* mostly nothing */
    default: return PAL_ADDR_TILE_REGS + PAL_TILE_REG_CONTROL + (rnd(s) % 2 ? 0 : 4u * (rnd(s) % 5u));
    }
}

/* The payload of one request; returns its type and length. */
static uint8_t make_request(uint64_t *s, const pal_tile_config_t *c, int allow_start, uint8_t *p,
                            uint16_t *len)
{
    uint32_t k = rnd(s) % 100;
    if (k < 6) {
        *len = rnd(s) % 10 == 0 ? 1 : 0;
        return PAL_MSG_INFO;
    }
    if (k < 14) {
        *len = (uint16_t)(rnd(s) % (MAX_PAYLOAD + 1));
        for (uint32_t i = 0; i < *len; i++)
            p[i] = (uint8_t)rnd(s);
        return PAL_MSG_PING;
    }
    if (k < 17) {
        static const uint8_t odd[] = {0x00, 0x06, 0x7F, 0x81, 0x83, 0xFF};
        *len = (uint16_t)(rnd(s) % 8);
        for (uint32_t i = 0; i < *len; i++)
            p[i] = (uint8_t)rnd(s);
        return odd[rnd(s) % sizeof odd];
    }
    uint32_t addr = pick_address(s, c, allow_start);
    put32le(p, addr);
    if (k < 55) { /* READ */
        uint32_t n = rnd(s) % 5 == 0 ? rnd(s) % (MAX_PAYLOAD + 40u) : 1u + rnd(s) % 64u;
        if (rnd(s) % 4) n = (n + 3u) & ~3u;
        p[4] = (uint8_t)n;
        p[5] = (uint8_t)(n >> 8);
        *len = rnd(s) % 20 == 0 ? (uint16_t)(rnd(s) % 9) : 6;
        return PAL_MSG_READ;
    }
    /* WRITE */
    uint32_t n = rnd(s) % 6 == 0 ? rnd(s) % (MAX_PAYLOAD - 3u) : 1u + rnd(s) % 48u;
    if (rnd(s) % 4) n = (n + 3u) & ~3u;
    if (addr == PAL_ADDR_TILE_REGS + PAL_TILE_REG_CONTROL && rnd(s) % 2) n = 4;
    if (n > MAX_PAYLOAD - 4u) n = MAX_PAYLOAD - 4u;
    for (uint32_t i = 0; i < n; i++)
        p[4 + i] = (uint8_t)rnd(s);
    if (addr - PAL_ADDR_ACC_NAR < PAL_ADDR_BANK_WINDOW) {
        int valid = rnd(s) % 4 != 0;                 /* mostly valid NaR flags, else a 2 or more */
        for (uint32_t i = 0; i < n; i++)
            p[4 + i] = valid ? p[4 + i] & 1u : (uint8_t)(rnd(s) % 3 ? rnd(s) % 2 : 2 + rnd(s) % 2);
    }
    if (addr < 0x100u) {
        for (uint32_t i = 0; i + 4 <= n; i += 4) {  /* register values worth refusing or taking */
            uint32_t off = addr + i, v = rnd(s);
            if (off == PAL_TILE_REG_CONTROL) {
                static const uint32_t vals[] = {0, 2, 4, 8, 0x80000000u, 3, 1};
                v = vals[rnd(s) % (allow_start ? 7u : 5u)];
            } else if (off == PAL_TILE_REG_START_PC) {
                v = rnd(s) % 2 ? rnd(s) % 300u : 0xFFFFu + rnd(s) % 3u;
            }
            put32le(p + 4 + i, v);
        }
    }
    *len = (uint16_t)(4u + n);
    if (rnd(s) % 30 == 0) *len = (uint16_t)(rnd(s) % 5);       /* too short */
    return PAL_MSG_WRITE;
}

/* What the sessions produced, over all of them: every link register and
 * every reply type and NAK reason must occur, or the streams test less
 * than they claim. */
static uint64_t tally_ctr[PAL_LINK_CTR_COUNT];
static uint64_t tally_type[256], tally_nak[8];

static void tally_replies(const out_buf_t *o)
{
    pal_frame_parser_t *p = NULL;
    assert_int_equal(pal_frame_parser_create(PAL_PROTO_MAX_LEN, &p), PAL_OK);
    size_t at = 0;
    while (at < o->n) {
        pal_frame_event_t ev;
        pal_frame_t f;
        at += pal_frame_parser_push(p, o->p + at, o->n - at, &ev, &f);
        if (ev == PAL_FRAME_OK) {
            tally_type[f.type]++;
            if (f.type == PAL_MSG_NAK && f.len == 1 && f.payload[0] < 8) tally_nak[f.payload[0]]++;
        } else {
            assert_int_equal(ev, PAL_FRAME_NONE); /* replies are whole, intact frames */
        }
    }
    pal_frame_parser_destroy(p);
}

/* One seeded session: about `requests` frames with the line's faults. */
static void run_session(unsigned seed, int requests)
{
    rig_t *r = rig_new();
    uint64_t s = seed * 2654435761u + 1u;
    int allow_start = (seed % 3) == 0;  /* starts only where IMEM stays untouched (all zero) */
    uint8_t payload[MAX_PAYLOAD + 64], wire[MAX_PAYLOAD + 128], last[MAX_PAYLOAD + 128];
    size_t last_n = 0;
    uint8_t seq = (uint8_t)rnd(&s);
    for (int q = 0; q < requests; q++) {
        uint32_t f = rnd(&s) % 100;
        size_t n;
        if (f < 8 && last_n) { /* the host's retransmission of the last frame */
            memcpy(wire, last, last_n);
            n = last_n;
        } else {
            uint16_t len = 0;
            uint8_t type = make_request(&s, &r->cfg, allow_start, payload, &len);
            uint8_t ver = rnd(&s) % 40 == 0 ? (uint8_t)(2 + rnd(&s) % 3) : (uint8_t)PAL_PROTO_VERSION;
            if (rnd(&s) % 50 == 0) { /* a header announcing more than the device takes */
                uint8_t h[7] = {PAL_PROTO_SYNC, type, seq, 0, 0, (uint8_t)PAL_PROTO_VERSION, 0};
                uint32_t big = MAX_PAYLOAD + 1u + rnd(&s) % 1000u;
                h[3] = (uint8_t)big;
                h[4] = (uint8_t)(big >> 8);
                h[6] = pal_proto_crc8(h + 1, 5);
                memcpy(wire, h, 7);
                n = 7;
            } else {
                n = frame(wire, type, seq, payload, len, ver);
            }
            if (rnd(&s) % 10) seq++;  /* sometimes a new request reuses a SEQ */
            memcpy(last, wire, n);
            last_n = n;
        }
        /* the line */
        uint32_t fault = rnd(&s) % 100;
        if (fault < 4) {
            wire[rnd(&s) % n] ^= (uint8_t)(1u << (rnd(&s) % 8));
        } else if (fault < 7 && n > 1) {
            size_t at = rnd(&s) % n;
            memmove(wire + at, wire + at + 1, n - at - 1);
            n--;
        } else if (fault < 10) {
            uint8_t junk[4] = {(uint8_t)rnd(&s), PAL_PROTO_SYNC, (uint8_t)rnd(&s), 0x01};
            both_feed(r, junk, 1 + rnd(&s) % 4);
        }
        if (fault >= 95 && n > 2) {
            /* a partial frame, then silence: short of the idle timeout, or past it */
            size_t cut = 1 + rnd(&s) % (n - 1);
            both_feed(r, wire, cut);
            both_idle(r, rnd(&s) % 2 ? PAL_FW_LINK_IDLE_BYTE_TIMES : PAL_FW_LINK_IDLE_BYTE_TIMES - 1u);
            both_feed(r, wire + cut, n - cut);
        } else {
            /* in pieces: the result must not depend on the chunking */
            size_t at = 0;
            while (at < n) {
                size_t k = 1 + rnd(&s) % (n - at);
                both_feed(r, wire + at, k);
                at += k;
            }
        }
        assert_same_output(r, "reply stream", seed);
    }
    /* the link registers, and every byte of every region of every PE */
    pal_link_counters_t mc;
    pal_link_model_get_counters(r->model, &mc);
    for (int i = 0; i < PAL_LINK_CTR_COUNT; i++)
        if (mc.value[i] != r->link.ctr[i]) {
            print_error("seed %u: link register %s: model %u, firmware %u\n", seed, pal_link_counter_name(i),
                        (unsigned)mc.value[i], (unsigned)r->link.ctr[i]);
            fail();
        }
    for (int i = 0; i < PAL_LINK_CTR_COUNT; i++)
        tally_ctr[i] += mc.value[i];
    tally_replies(&r->model_out);
    pal_tile_device_t *a = pal_emu_device(r->ref_emu), *b = pal_emu_device(emu_hal.emu);
    for (int reg = 0; reg < PAL_TILE_REGION_COUNT; reg++) {
        uint32_t pes = pal_tile_region_is_per_pe((pal_tile_region_t)reg) ? r->cfg.rows * r->cfg.cols : 1u;
        uint64_t len = pal_tile_region_length(&r->cfg, (pal_tile_region_t)reg);
        size_t bytes = len * pal_tile_region_element_size((pal_tile_region_t)reg);
        uint8_t *x = malloc(bytes), *y = malloc(bytes);
        assert_true(x && y);
        for (uint32_t pe = 0; pe < pes; pe++) {
            assert_int_equal(pal_tile_device_read(a, (pal_tile_region_t)reg, pe, 0, len, x), PAL_OK);
            assert_int_equal(pal_tile_device_read(b, (pal_tile_region_t)reg, pe, 0, len, y), PAL_OK);
            if (memcmp(x, y, bytes)) {
                print_error("seed %u: %s of PE %u differs\n", seed, pal_tile_region_name((pal_tile_region_t)reg),
                            (unsigned)pe);
                fail();
            }
        }
        free(x);
        free(y);
    }
    rig_free(r);
}

static void test_streams_match_model(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 60; seed++)
        run_session(seed, 400);
    for (int i = 0; i < PAL_LINK_CTR_COUNT; i++) {
        if (!tally_ctr[i]) print_error("no session moved link register %s\n", pal_link_counter_name(i));
        assert_true(tally_ctr[i] > 0);
    }
    const uint8_t types[] = {PAL_MSG_INFO_REPLY, PAL_MSG_WRITE_ACK, PAL_MSG_READ_REPLY, PAL_MSG_PONG};
    for (size_t i = 0; i < sizeof types; i++)
        assert_true(tally_type[types[i]] > 0);
    for (int why = PAL_NAK_BAD_CRC; why <= PAL_NAK_REFUSED; why++) {
        if (!tally_nak[why]) print_error("no session drew NAK %d\n", why);
        assert_true(tally_nak[why] > 0);
    }
    print_message("streams: %llu frames, %llu writes executed, %llu duplicates, %llu kernel starts, "
                  "NAKs 1..6: %llu %llu %llu %llu %llu %llu, %llu bad headers, %llu idle resets\n",
                  (unsigned long long)tally_ctr[PAL_LINK_CTR_RX_FRAMES],
                  (unsigned long long)tally_ctr[PAL_LINK_CTR_WRITES_EXECUTED],
                  (unsigned long long)tally_ctr[PAL_LINK_CTR_DUP_WRITES],
                  (unsigned long long)tally_ctr[PAL_LINK_CTR_KERNEL_STARTS], (unsigned long long)tally_nak[1],
                  (unsigned long long)tally_nak[2], (unsigned long long)tally_nak[3],
                  (unsigned long long)tally_nak[4], (unsigned long long)tally_nak[5],
                  (unsigned long long)tally_nak[6], (unsigned long long)tally_ctr[PAL_LINK_CTR_RX_BAD_HCRC],
                  (unsigned long long)tally_ctr[PAL_LINK_CTR_RX_IDLE_RESETS]);
}

/* ---- what the model cannot show --------------------------------------------- */

/* Sends one frame to the firmware alone and parses its one reply. */
static void fw_request(rig_t *r, uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t len,
                       pal_frame_t *out, uint8_t *body)
{
    uint8_t wire[MAX_PAYLOAD + 16];
    size_t n = frame(wire, type, seq, payload, len, PAL_PROTO_VERSION);
    r->fw_out.n = 0;
    fw_feed(r, wire, n);
    pal_frame_parser_t *p = NULL;
    assert_int_equal(pal_frame_parser_create(MAX_PAYLOAD, &p), PAL_OK);
    pal_frame_event_t ev = PAL_FRAME_NONE;
    size_t used = pal_frame_parser_push(p, r->fw_out.p, r->fw_out.n, &ev, out);
    assert_int_equal(ev, PAL_FRAME_OK);
    assert_int_equal(used, r->fw_out.n);
    memcpy(body, out->payload, out->len);
    out->payload = body;
    pal_frame_parser_destroy(p);
}

static void fw_words(uint8_t *p, const uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put32le(p + 4 * i, w[i]);
}

static uint32_t word_at(const uint8_t *p, size_t i)
{
    return (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
           (uint32_t)p[4 * i + 3] << 24;
}

static void test_fw_requests(void **state)
{
    (void)state;
    rig_t *r = rig_new();
    pal_frame_t f;
    uint8_t body[MAX_PAYLOAD], p[64];
    /* INFO through the firmware: the tile's registers */
    uint32_t info[1] = {PAL_FWMSG_INFO | 7u << 8};
    fw_words(p, info, 1);
    fw_request(r, PAL_MSG_FW, 10, p, 4, &f, body);
    assert_int_equal(f.type, PAL_MSG_FW_REPLY);
    assert_int_equal(f.seq, 10);
    assert_int_equal(word_at(body, 0), (PAL_FWMSG_INFO | 0x80u | 7u << 8 | 13u << 16));
    assert_int_equal(f.len, 4u * 14u);
    assert_int_equal(word_at(body, 1), 0);                       /* OK */
    assert_int_equal(word_at(body, 2), PAL_TILE_ID_VALUE);
    assert_int_equal(word_at(body, 4) & 0xFFFFu, 2u | 2u << 8);  /* GEOMETRY: R, C */
    assert_int_equal(word_at(body, 5), r->cfg.imem_depth);       /* IMEM_DEPTH */
    /* the LEN must be the header's words */
    uint32_t bad[2] = {PAL_FWMSG_INFO | 1u << 16, 0};
    fw_words(p, bad, 2);
    fw_request(r, PAL_MSG_FW, 11, p, 4, &f, body);
    assert_int_equal(f.type, PAL_MSG_NAK);
    assert_int_equal(body[0], PAL_NAK_BAD_LENGTH);
    /* RUN at pc 0 (IMEM is zero): started once, answered OK; the same SEQ
     * again is a replay: the same reply, nothing run twice */
    uint32_t run[3] = {PAL_FWMSG_RUN | 3u << 8 | 2u << 16, 0, 100000};
    fw_words(p, run, 3);
    uint32_t starts0 = r->link.ctr[PAL_FW_LINK_KERNEL_STARTS];
    fw_request(r, PAL_MSG_FW, 12, p, 12, &f, body);
    assert_int_equal(f.type, PAL_MSG_FW_REPLY);
    assert_int_equal(word_at(body, 1), 0);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_KERNEL_STARTS], starts0 + 1);
    uint8_t first[16];
    memcpy(first, body, 8);
    uint32_t cmds = r->fw.stat_commands;
    fw_request(r, PAL_MSG_FW, 12, p, 12, &f, body);
    assert_int_equal(f.type, PAL_MSG_FW_REPLY);
    assert_memory_equal(body, first, 8);
    assert_int_equal(r->fw.stat_commands, cmds);
    assert_int_equal(r->fw.stat_replays, 1);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_KERNEL_STARTS], starts0 + 1);
    /* the link's INFO says firmware, and the tile's own flags */
    fw_request(r, PAL_MSG_INFO, 13, NULL, 0, &f, body);
    assert_int_equal(f.type, PAL_MSG_INFO_REPLY);
    pal_link_info_t li;
    assert_int_equal(pal_link_info_decode(body, f.len, &li), PAL_OK);
    assert_true(li.flags & PAL_PROTO_FLAG_FIRMWARE);
    assert_true(li.tile.no_post);
    assert_true(li.tile.no_accu);
    assert_int_equal(li.max_payload, MAX_PAYLOAD);
    assert_int_equal(li.clock_hz, 12000000u);
    assert_string_equal(li.name, "icebreaker");
    rig_free(r);
}

/* A tile that is still running: memories and a plain start are refused
 * (NAK 6, as rtl/pal_link_exec.v), registers and a reset-and-start are not. */
static void test_busy_tile(void **state)
{
    (void)state;
    rig_t *r = rig_new();
    pal_frame_t f;
    uint8_t body[MAX_PAYLOAD], p[16];
    emu_hal.force_busy = 1;
    put32le(p, PAL_ADDR_ABUF_CODES);
    p[4] = 1;
    p[5] = 2;
    fw_request(r, PAL_MSG_WRITE, 1, p, 6, &f, body);
    assert_int_equal(f.type, PAL_MSG_NAK);
    assert_int_equal(body[0], PAL_NAK_REFUSED);
    put32le(p, PAL_ADDR_ACC);
    p[4] = 8;
    p[5] = 0;
    fw_request(r, PAL_MSG_READ, 2, p, 6, &f, body);
    assert_int_equal(f.type, PAL_MSG_NAK);
    assert_int_equal(body[0], PAL_NAK_REFUSED);
    put32le(p, PAL_TILE_REG_STATUS);
    p[4] = 4;
    fw_request(r, PAL_MSG_READ, 3, p, 6, &f, body);
    assert_int_equal(f.type, PAL_MSG_READ_REPLY);
    assert_true(word_at(body, 0) & PAL_TILE_STATUS_BUSY);
    put32le(p, PAL_TILE_REG_CONTROL);
    put32le(p + 4, PAL_TILE_CONTROL_START);
    fw_request(r, PAL_MSG_WRITE, 4, p, 8, &f, body);
    assert_int_equal(f.type, PAL_MSG_NAK);
    assert_int_equal(body[0], PAL_NAK_REFUSED);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_KERNEL_STARTS], 0);
    /* the NAKs lit the error LED, the traffic the activity LED; both go
     * out PAL_FW_LINK_LED_CYCLES after they were last lit */
    assert_int_equal(emu_hal.led, 3);
    emu_hal.time += PAL_FW_LINK_LED_CYCLES / 2;
    pal_fw_link_poll(&r->link);
    assert_int_equal(emu_hal.led, 3);
    emu_hal.time += PAL_FW_LINK_LED_CYCLES / 2;
    pal_fw_link_poll(&r->link);
    assert_int_equal(emu_hal.led, 0);
    put32le(p + 4, PAL_TILE_CONTROL_START | PAL_TILE_CONTROL_RESET);
    fw_request(r, PAL_MSG_WRITE, 5, p, 8, &f, body);
    assert_int_equal(f.type, PAL_MSG_WRITE_ACK);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_KERNEL_STARTS], 1);
    assert_int_equal(emu_hal.bus_errors, 0);
    rig_free(r);
}

/* A partial frame survives silence short of IDLE byte times and is dropped
 * at IDLE; the next frame is answered. */
static void test_idle_timeout(void **state)
{
    (void)state;
    rig_t *r = rig_new();
    uint8_t wire[32];
    size_t n = frame(wire, PAL_MSG_PING, 1, (const uint8_t *)"abcd", 4, PAL_PROTO_VERSION);
    fw_feed(r, wire, 9);
    emu_hal.time += (PAL_FW_LINK_IDLE_BYTE_TIMES - 2u) * emu_hal.byte_cycles;
    pal_fw_link_poll(&r->link);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_RX_IDLE_RESETS], 0);
    fw_feed(r, wire + 9, n - 9);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_RX_FRAMES], 1);
    fw_feed(r, wire, 9);
    emu_hal.time += PAL_FW_LINK_IDLE_BYTE_TIMES * emu_hal.byte_cycles;
    pal_fw_link_poll(&r->link);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_RX_IDLE_RESETS], 1);
    r->fw_out.n = 0;
    fw_feed(r, wire, n);
    assert_int_equal(r->link.ctr[PAL_FW_LINK_RX_FRAMES], 2);
    assert_int_equal(r->fw_out.n, n); /* the PONG: as long as its PING */
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_match_model),
        cmocka_unit_test(test_fw_requests),
        cmocka_unit_test(test_busy_tile),
        cmocka_unit_test(test_idle_timeout),
    };
    return cmocka_run_group_tests_name("firmware_link", tests, NULL, NULL);
}
