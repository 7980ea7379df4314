/* libFuzzer target for the link protocol (make fuzz-protocol; run with
 * make fuzz-run-protocol): the frame parser and the device's link-engine
 * model on arbitrary bytes in arbitrary chunks, well-formed frames built
 * from the input (so the CRCs pass and requests reach the address decoder,
 * the bus and the emulator), and the host's request engine reading the
 * input as the device's replies. Every reply the model sends must itself
 * be a well-formed frame with the request's SEQ. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                        \
  do {                                                     \
    if (!(cond)) {                                         \
      fprintf(stderr, "fuzz-protocol: %s failed\n", #cond); \
      abort();                                             \
    }                                                      \
  } while (0)

typedef struct replies {
  pal_frame_parser_t *p;
  int expect_seq; /* -1: any */
  size_t frames;
} replies_t;

/* Every byte the model sends must parse as good frames. */
static void on_reply(void *ctx, const uint8_t *bytes, size_t len) {
  replies_t *r = ctx;
  size_t i = 0;
  while (i < len) {
    pal_frame_event_t ev;
    pal_frame_t f;
    i += pal_frame_parser_push(r->p, bytes + i, len - i, &ev, &f);
    if (ev == PAL_FRAME_NONE) continue;
    CHECK(ev == PAL_FRAME_OK);
    CHECK(f.type & PAL_MSG_REPLY_BIT);
    CHECK(f.len <= 256);
    if (r->expect_seq >= 0) CHECK(f.seq == (uint8_t)r->expect_seq);
    r->frames++;
  }
  CHECK(!pal_frame_parser_busy(r->p)); /* replies are emitted whole */
}

typedef struct rig {
  pal_emu_t *emu;
  pal_link_model_t *model;
  replies_t replies;
} rig_t;

static void rig_open(rig_t *r) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 2, 2);
  cfg.imem_depth = 16, cfg.abuf_blocks = 8, cfg.wmem_blocks = 8;
  cfg.acc_depth = 64, cfg.bias_depth = 16, cfg.obuf_depth = 64;
  CHECK(!pal_emu_create(&cfg, &r->emu));
  CHECK(!pal_frame_parser_create(PAL_PROTO_MAX_LEN, &r->replies.p));
  r->replies.expect_seq = -1;
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.max_payload = 256;
  mo.emit = on_reply;
  mo.emit_ctx = &r->replies;
  CHECK(!pal_link_model_create(pal_emu_device(r->emu), &mo, &r->model));
}

static void rig_close(rig_t *r) {
  pal_link_model_destroy(r->model);
  pal_frame_parser_destroy(r->replies.p);
  pal_emu_destroy(r->emu);
}

/* Mode 0: raw bytes, chunk sizes taken from the input too. */
static void fuzz_raw(const uint8_t *d, size_t n) {
  rig_t r;
  rig_open(&r);
  pal_frame_parser_t *p;
  CHECK(!pal_frame_parser_create(64, &p));
  size_t i = 0;
  while (i < n) {
    size_t chunk = 1 + d[i] % 97;
    if (chunk > n - i) chunk = n - i;
    size_t j = 0;
    while (j < chunk) {
      pal_frame_event_t ev;
      pal_frame_t f;
      size_t used = pal_frame_parser_push(p, d + i + j, chunk - j, &ev, &f);
      CHECK(used <= chunk - j);
      if (ev == PAL_FRAME_OK) CHECK(f.len <= 64 && (f.len == 0 || f.payload));
      if (ev == PAL_FRAME_NONE) CHECK(used == chunk - j);
      j += used;
    }
    pal_link_model_receive(r.model, d + i, chunk);
    if (d[i] == 0x00) {
      pal_frame_parser_reset(p);
      pal_link_model_idle(r.model, UINT64_MAX);
    }
    i += chunk;
  }
  pal_frame_parser_destroy(p);
  rig_close(&r);
}

static const uint32_t kBases[] = {
    PAL_ADDR_TILE_REGS, PAL_ADDR_IMEM,         PAL_ADDR_ABUF_CODES, PAL_ADDR_ABUF_SCALES,
    PAL_ADDR_WMEM_CODES, PAL_ADDR_WMEM_SCALES, PAL_ADDR_ACC,        PAL_ADDR_ACC_NAR,
    PAL_ADDR_BIAS,      PAL_ADDR_OBUF,         PAL_ADDR_LINK_REGS,
};

/* Mode 1: well-formed requests built from the input, now and then damaged. */
static void fuzz_frames(const uint8_t *d, size_t n) {
  rig_t r;
  rig_open(&r);
  static uint8_t payload[300], buf[400];
  size_t i = 0;
  while (i + 6 <= n) {
    uint8_t type = d[i], seq = d[i + 1], flags = d[i + 2], sel = d[i + 3];
    uint16_t off = (uint16_t)(d[i + 4] | d[i + 5] << 8);
    i += 6;
    size_t len = 0;
    switch (type % 6) {
      case 0: type = PAL_MSG_INFO; break;
      case 1: type = PAL_MSG_PING; break;
      case 2:
      case 3: { /* WRITE: the address in a mapped window, data from the input */
        type = PAL_MSG_WRITE;
        uint32_t a = kBases[sel % 11] + ((sel & 0x80) ? (uint32_t)(off & 0xF) << 16 : 0) + (off & 0x3FF);
        if ((flags & 3) == 0) a = PAL_ADDR_TILE_REGS + PAL_TILE_REG_CONTROL; /* start kernels */
        size_t dl = 1 + (flags >> 2) % 64;
        if (dl > n - i) dl = n - i;
        if (dl == 0) dl = 1, payload[4] = 0;
        for (int k = 0; k < 4; k++) payload[k] = (uint8_t)(a >> (8 * k));
        if (i < n) memcpy(payload + 4, d + i, dl <= n - i ? dl : n - i);
        i += dl <= n - i ? dl : n - i;
        len = 4 + dl;
        break;
      }
      case 4: { /* READ */
        type = PAL_MSG_READ;
        uint32_t a = kBases[sel % 11] + ((sel & 0x80) ? (uint32_t)(off & 0xF) << 16 : 0) + (off & 0x3FF);
        for (int k = 0; k < 4; k++) payload[k] = (uint8_t)(a >> (8 * k));
        payload[4] = flags, payload[5] = (uint8_t)(sel & 1);
        len = 6;
        break;
      }
      default: len = flags % 8; break; /* any type, any short payload */
    }
    pal_frame_t f = {type, seq, PAL_PROTO_VERSION, (uint16_t)len, payload};
    if ((flags & 0xF0) == 0xF0) f.version = 2;
    size_t fn;
    CHECK(!pal_frame_encode(&f, buf, sizeof buf, &fn));
    if ((flags & 0xE0) == 0xC0) buf[off % fn] ^= (uint8_t)(1u << (sel & 7)); /* damage */
    /* After a damaged header or a NAK of the version the payload is hunted
     * through, and may hold frames of its own (A5 00 00 00 00 00 00 is a
     * valid header): only intact requests must be answered with their SEQ. */
    bool intact = (flags & 0xE0) != 0xC0 && f.version == PAL_PROTO_VERSION;
    r.replies.expect_seq = intact ? seq : -1;
    size_t before = r.replies.frames;
    pal_link_model_receive(r.model, buf, fn);
    /* an undamaged request gets exactly one reply */
    if (intact) CHECK(r.replies.frames == before + 1);
    pal_link_model_idle(r.model, UINT64_MAX);
  }
  rig_close(&r);
}

/* Mode 2: the host engine, with the input as everything the device says. */
typedef struct script {
  const uint8_t *d;
  size_t n, pos;
} script_t;

static pal_status_t s_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  (void)self, (void)data, (void)len, (void)timeout_ms;
  return PAL_STATUS_OK;
}
static pal_status_t s_read(void *self, uint8_t *data, size_t cap, size_t *out_len, uint32_t timeout_ms) {
  (void)timeout_ms;
  script_t *s = self;
  size_t n = s->n - s->pos;
  if (n > 0 && s->d[s->pos] % 7 == 0) n = n < 3 ? n : 3; /* vary the chunking */
  if (n > cap) n = cap;
  memcpy(data, s->d + s->pos, n);
  s->pos += n;
  *out_len = n;
  return PAL_STATUS_OK;
}
static pal_status_t s_purge(void *self) {
  (void)self;
  return PAL_STATUS_OK;
}
static void s_close(void *self) { (void)self; }
static const pal_transport_ops_t kScriptOps = {s_write, s_read, s_purge, s_close};

static void fuzz_host(const uint8_t *d, size_t n) {
  script_t s = {d, n, 0};
  pal_transport_t t = {&kScriptOps, &s, "fuzz://"};
  pal_link_options_t o;
  pal_link_options_initialize(&o);
  o.retries = 2;
  o.resync_attempts = 2;
  pal_link_t *link;
  CHECK(!pal_link_create(t, &o, &link));
  pal_link_info_t info;
  pal_status_free(pal_link_info(link, &info));
  uint8_t buf[300];
  pal_status_free(pal_link_read(link, PAL_ADDR_OBUF, buf, sizeof buf));
  memset(buf, 0x5A, sizeof buf);
  pal_status_free(pal_link_write(link, PAL_ADDR_BIAS, buf, 200));
  pal_status_free(pal_link_ping(link, buf, 5));
  pal_link_destroy(link);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
    case 0: fuzz_raw(data + 1, size - 1); break;
    case 1: fuzz_frames(data + 1, size - 1); break;
    default: fuzz_host(data + 1, size - 1); break;
  }
  return 0;
}
