/* Frames and the device side of docs/protocol.md: CRC check values, encode
 * and parse round trips in any chunking, every malformed frame (bad HCRC,
 * bad CRC, truncated, oversize LEN, unknown type, wrong version) handled as
 * documented by both the parser and the link-engine model, the
 * duplicate-WRITE rule, the idle timeout and the address map. */
#include "pal_test.h"

#include "pal/protocol.h"
#include "pal/tile.h"

#define OK(seed, expr)                                                                   \
  do {                                                                                   \
    pal_status_t ok_st_ = (expr);                                                        \
    if (ok_st_) PAL_TEST_FAIL(seed, "%s failed: %s", #expr, pal_status_message(ok_st_)); \
  } while (0)

static size_t encode(const pal_frame_t *f, uint8_t *out) {
  size_t n = 0;
  OK(0, pal_frame_encode(f, out, (size_t)f->len + PAL_PROTO_OVERHEAD, &n));
  return n;
}

static pal_frame_t frame(uint8_t type, uint8_t seq, const uint8_t *payload, size_t len) {
  pal_frame_t f = {type, seq, PAL_PROTO_VERSION, (uint16_t)len, payload};
  return f;
}

/* ---- CRCs and the encoder ------------------------------------------------- */

static void test_crc_check_values(void **state) {
  (void)state;
  const uint8_t *s = (const uint8_t *)"123456789";
  assert_int_equal(pal_proto_crc8(s, 9), 0xF4);
  assert_int_equal(pal_proto_crc32(s, 9), 0xCBF43926u);
  assert_int_equal(pal_proto_crc32(s, 0), 0);
  uint32_t c = pal_proto_crc32_update(0, s, 4);
  assert_int_equal(pal_proto_crc32_update(c, s + 4, 5), 0xCBF43926u);
}

/* The worked example of docs/protocol.md §3, byte for byte. */
static void test_worked_example(void **state) {
  (void)state;
  const uint8_t payload[] = {0x40, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
  pal_frame_t f = frame(PAL_MSG_WRITE, 0x07, payload, sizeof payload);
  uint8_t out[32];
  size_t n = encode(&f, out);
  const uint8_t want[] = {0xA5, 0x02, 0x07, 0x08, 0x00, 0x01, 0xF0, 0x40, 0x00, 0x00,
                          0x00, 0x01, 0x00, 0x00, 0x00, 0xC8, 0x4A, 0x29, 0x27};
  assert_int_equal(n, sizeof want);
  for (size_t i = 0; i < n; i++)
    if (out[i] != want[i]) fail_msg("byte %zu: 0x%02x, documented 0x%02x", i, out[i], want[i]);
  uint8_t small[10];
  pal_status_t st = pal_frame_encode(&f, small, sizeof small, &n);
  assert_int_equal(pal_status_code(st), PAL_RESOURCE_EXHAUSTED);
  pal_status_free(st);
}

/* ---- parser ---------------------------------------------------------------- */

typedef struct got {
  pal_frame_event_t ev;
  uint8_t type, seq, version;
  uint16_t len;
  uint8_t payload[PAL_PROTO_MAX_LEN];
} got_t;

/* Feeds data in chunks of 1..max_chunk bytes; records up to cap events. */
static size_t feed(pal_frame_parser_t *p, pal_test_rng_t *rng, const uint8_t *data, size_t len,
                   uint32_t max_chunk, got_t *out, size_t cap) {
  size_t n = 0, i = 0;
  while (i < len) {
    size_t chunk = 1 + (max_chunk > 1 ? pal_test_rng_below(rng, max_chunk) : 0);
    if (chunk > len - i) chunk = len - i;
    size_t j = 0;
    while (j < chunk) {
      pal_frame_event_t ev;
      pal_frame_t f;
      j += pal_frame_parser_push(p, data + i + j, chunk - j, &ev, &f);
      if (ev == PAL_FRAME_NONE) continue;
      if (n < cap) {
        out[n].ev = ev;
        if (ev != PAL_FRAME_BAD_HCRC) {
          out[n].type = f.type, out[n].seq = f.seq, out[n].version = f.version, out[n].len = f.len;
          if (ev == PAL_FRAME_OK && f.len) memcpy(out[n].payload, f.payload, f.len);
        }
      }
      n++;
    }
    i += chunk;
  }
  return n;
}

static void test_round_trip_any_chunking(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  enum { FRAMES = 300 };
  pal_frame_parser_t *p;
  OK(seed, pal_frame_parser_create(4096, &p));
  uint8_t *stream = malloc(FRAMES * (4096 + 64));
  uint8_t(*payloads)[4096] = malloc(FRAMES * sizeof *payloads);
  pal_frame_t *fr = malloc(FRAMES * sizeof *fr);
  size_t len = 0;
  for (int k = 0; k < FRAMES; k++) {
    /* Garbage between frames, without SYNC so no false header can start. */
    size_t junk = pal_test_rng_below(&rng, 4) == 0 ? pal_test_rng_below(&rng, 40) : 0;
    for (size_t j = 0; j < junk; j++) {
      uint8_t b = (uint8_t)pal_test_rng_u32(&rng);
      stream[len++] = b == PAL_PROTO_SYNC ? 0x5A : b;
    }
    size_t n = pal_test_rng_below(&rng, 3) == 0 ? pal_test_rng_below(&rng, 4097) : pal_test_rng_below(&rng, 64);
    for (size_t j = 0; j < n; j++) payloads[k][j] = (uint8_t)pal_test_rng_u32(&rng);
    fr[k] = frame((uint8_t)pal_test_rng_u32(&rng), (uint8_t)k, payloads[k], n);
    len += encode(&fr[k], stream + len);
  }
  static got_t got[FRAMES + 8];
  for (uint32_t max_chunk = 1; max_chunk <= 8192; max_chunk *= 8) {
    size_t n = feed(p, &rng, stream, len, max_chunk, got, FRAMES + 8);
    PAL_TEST_CHECK(seed, n == FRAMES, "chunks <= %u: %zu events for %d frames", max_chunk, n, FRAMES);
    for (int k = 0; k < FRAMES; k++)
      PAL_TEST_CHECK(seed, got[k].ev == PAL_FRAME_OK && got[k].type == fr[k].type &&
                               got[k].seq == fr[k].seq && got[k].len == fr[k].len &&
                               !memcmp(got[k].payload, payloads[k], fr[k].len),
                     "chunks <= %u: frame %d came back as %s type %u len %u", max_chunk, k,
                     pal_frame_event_name(got[k].ev), got[k].type, got[k].len);
    PAL_TEST_CHECK(seed, !pal_frame_parser_busy(p), "parser busy after whole frames");
  }
  free(stream);
  free(payloads);
  free(fr);
  pal_frame_parser_destroy(p);
}

/* Every malformed frame, then a good one that must come through. */
static void test_malformed_frames(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_frame_parser_t *p;
  OK(seed, pal_frame_parser_create(256, &p));
  uint8_t payload[300], buf[400], good[64];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
  pal_frame_t gf = frame(PAL_MSG_PING, 99, payload, 20);
  size_t gn = encode(&gf, good);
  static got_t got[8];

  for (int trial = 0; trial < 200; trial++) {
    pal_frame_t f = frame(PAL_MSG_WRITE, (uint8_t)trial, payload, 1 + pal_test_rng_below(&rng, 200));
    size_t n = encode(&f, buf);
    /* bad HCRC: any single bit of TYPE..HCRC. Dropped silently; hunting
     * goes on through the payload (where a SYNC byte may start more
     * candidate headers that fail their CRC) and the next frame parses. */
    uint8_t bad[400];
    memcpy(bad, buf, n);
    size_t bit = 8 + pal_test_rng_below(&rng, 48);
    bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    memcpy(bad + n, good, gn);
    pal_frame_parser_reset(p);
    size_t k = feed(p, &rng, bad, n + gn, 16, got, 8);
    bool only_hcrc = k >= 2 && k <= 8;
    for (size_t j = 0; j + 1 < k && only_hcrc; j++) only_hcrc = got[j].ev == PAL_FRAME_BAD_HCRC;
    PAL_TEST_CHECK(seed, only_hcrc && got[k - 1].ev == PAL_FRAME_OK && got[k - 1].seq == 99,
                   "bad HCRC (bit %zu): %zu events, first %s", bit, k, pal_frame_event_name(got[0].ev));
    /* bad CRC: any bit of the payload or the CRC-32 */
    memcpy(bad, buf, n);
    bit = 8 * PAL_PROTO_HEADER_BYTES + pal_test_rng_below(&rng, (uint32_t)(8 * (n - PAL_PROTO_HEADER_BYTES)));
    bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    memcpy(bad + n, good, gn);
    k = feed(p, &rng, bad, n + gn, 16, got, 8);
    PAL_TEST_CHECK(seed, k == 2 && got[0].ev == PAL_FRAME_BAD_CRC && got[0].seq == (uint8_t)trial &&
                             got[1].ev == PAL_FRAME_OK,
                   "bad CRC (bit %zu): %zu events, first %s", bit, k, pal_frame_event_name(got[0].ev));
  }

  /* truncated: the rest never comes; the idle reset drops it */
  pal_frame_t f = frame(PAL_MSG_WRITE, 5, payload, 100);
  size_t n = encode(&f, buf);
  pal_frame_parser_stats_t s0, s1;
  pal_frame_parser_get_stats(p, &s0);
  for (size_t cut = 1; cut < n; cut += 13) {
    size_t k = feed(p, &rng, buf, cut, 8, got, 8);
    assert_int_equal(k, 0);
    assert_true(pal_frame_parser_busy(p));
    assert_true(pal_frame_parser_reset(p));
    k = feed(p, &rng, good, gn, 8, got, 8);
    assert_int_equal(k, 1);
    assert_int_equal(got[0].ev, PAL_FRAME_OK);
  }
  assert_false(pal_frame_parser_reset(p)); /* nothing partial: no reset counted */
  pal_frame_parser_get_stats(p, &s1);
  assert_int_equal(s1.idle_resets - s0.idle_resets, (n - 1 + 12) / 13);

  /* oversize LEN: refused as soon as the header is in, hunting resumes */
  pal_frame_t big = frame(PAL_MSG_WRITE, 6, payload, 257);
  n = encode(&big, buf);
  pal_frame_event_t ev;
  pal_frame_t out;
  size_t used = pal_frame_parser_push(p, buf, n, &ev, &out);
  assert_int_equal(used, PAL_PROTO_HEADER_BYTES);
  assert_int_equal(ev, PAL_FRAME_OVERSIZE);
  assert_int_equal(out.seq, 6);
  assert_int_equal(out.len, 257);
  assert_false(pal_frame_parser_busy(p));

  /* wrong version: the same */
  f = frame(PAL_MSG_READ, 7, payload, 6);
  f.version = 2;
  n = encode(&f, buf);
  used = pal_frame_parser_push(p, buf, n, &ev, &out);
  assert_int_equal(used, PAL_PROTO_HEADER_BYTES);
  assert_int_equal(ev, PAL_FRAME_BAD_VERSION);
  assert_int_equal(out.version, 2);
  assert_int_equal(out.seq, 7);

  /* a stray SYNC right before a frame: the failed candidate header is
   * rescanned from the byte after its SYNC, so the frame survives */
  pal_frame_parser_reset(p);
  buf[0] = PAL_PROTO_SYNC;
  memcpy(buf + 1, good, gn);
  size_t k = feed(p, &rng, buf, gn + 1, 1, got, 8);
  assert_int_equal(k, 2);
  assert_int_equal(got[0].ev, PAL_FRAME_BAD_HCRC);
  assert_int_equal(got[1].ev, PAL_FRAME_OK);
  assert_int_equal(got[1].seq, 99);
  pal_frame_parser_destroy(p);
}

/* Garbage with SYNC bytes in it, then silence, then a frame: the frame
 * always comes through, whatever the garbage did to the receiver. */
static void test_resync_after_garbage(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0x6A5);
  pal_frame_parser_t *p;
  OK(seed, pal_frame_parser_create(4096, &p));
  uint8_t junk[512], good[64], payload[16] = {1, 2, 3};
  pal_frame_t gf = frame(PAL_MSG_PONG, 42, payload, sizeof payload);
  size_t gn = encode(&gf, good);
  static got_t got[64];
  for (int trial = 0; trial < 2000; trial++) {
    size_t jn = pal_test_rng_below(&rng, sizeof junk);
    for (size_t i = 0; i < jn; i++)
      junk[i] = pal_test_rng_below(&rng, 8) == 0 ? PAL_PROTO_SYNC : (uint8_t)pal_test_rng_u32(&rng);
    feed(p, &rng, junk, jn, 64, got, 64);
    pal_frame_parser_reset(p);
    size_t k = feed(p, &rng, good, gn, 64, got, 64);
    PAL_TEST_CHECK(seed, k == 1 && got[0].ev == PAL_FRAME_OK && got[0].seq == 42,
                   "trial %d: the frame after %zu bytes of garbage was lost", trial, jn);
  }
  pal_frame_parser_destroy(p);
}

/* ---- the device model ------------------------------------------------------- */

typedef struct capture {
  uint8_t bytes[1 << 17];
  size_t len;
  size_t emits;
} capture_t;

static void capture_emit(void *ctx, const uint8_t *b, size_t n) {
  capture_t *c = ctx;
  assert_true(c->len + n <= sizeof c->bytes);
  memcpy(c->bytes + c->len, b, n);
  c->len += n;
  c->emits++;
}

typedef struct rig {
  pal_emu_t *emu;
  pal_tile_device_t *tile;
  pal_link_model_t *model;
  capture_t cap;
  pal_frame_parser_t *rx;
} rig_t;

static rig_t *rig_new(uint32_t max_payload) {
  rig_t *r = calloc(1, sizeof *r);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  OK(0, pal_emu_create(&cfg, &r->emu));
  r->tile = pal_emu_device(r->emu);
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.max_payload = max_payload;
  mo.name = "frame-test";
  mo.clock_hz = 12000000;
  mo.emit = capture_emit;
  mo.emit_ctx = &r->cap;
  OK(0, pal_link_model_create(r->tile, &mo, &r->model));
  OK(0, pal_frame_parser_create(PAL_PROTO_MAX_LEN, &r->rx));
  return r;
}

static void rig_free(rig_t *r) {
  pal_frame_parser_destroy(r->rx);
  pal_link_model_destroy(r->model);
  pal_emu_destroy(r->emu);
  free(r);
}

/* Sends raw bytes; returns the number of reply frames, the last in *out. */
static size_t rig_raw(rig_t *r, const uint8_t *bytes, size_t n, got_t *out) {
  r->cap.len = 0;
  pal_link_model_receive(r->model, bytes, n);
  size_t k = 0, i = 0;
  while (i < r->cap.len) {
    pal_frame_event_t ev;
    pal_frame_t f;
    i += pal_frame_parser_push(r->rx, r->cap.bytes + i, r->cap.len - i, &ev, &f);
    if (ev == PAL_FRAME_NONE) continue;
    assert_int_equal(ev, PAL_FRAME_OK); /* the model's replies are always well formed */
    out->ev = ev, out->type = f.type, out->seq = f.seq, out->len = f.len, out->version = f.version;
    memcpy(out->payload, f.payload, f.len);
    k++;
  }
  return k;
}

static size_t rig_send(rig_t *r, const pal_frame_t *f, got_t *out) {
  static uint8_t buf[PAL_PROTO_MAX_LEN + PAL_PROTO_OVERHEAD];
  size_t n = encode(f, buf);
  return rig_raw(r, buf, n, out);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void expect_nak(rig_t *r, const pal_frame_t *f, pal_nak_reason_t reason, const char *what) {
  static got_t g;
  size_t k = rig_send(r, f, &g);
  if (k != 1 || g.type != PAL_MSG_NAK || g.len != 1 || g.payload[0] != reason || g.seq != f->seq)
    fail_msg("%s: %zu replies, type %s, reason %u (want NAK %s, seq %u)", what, k,
             pal_msg_type_name(g.type), g.len ? g.payload[0] : 0, pal_nak_reason_name(reason), f->seq);
}

static pal_link_counters_t counters(rig_t *r) {
  pal_link_counters_t c;
  pal_link_model_get_counters(r->model, &c);
  return c;
}

static void test_model_info_ping(void **state) {
  (void)state;
  rig_t *r = rig_new(256);
  static got_t g;
  pal_frame_t f = frame(PAL_MSG_INFO, 1, NULL, 0);
  assert_int_equal(rig_send(r, &f, &g), 1);
  assert_int_equal(g.type, PAL_MSG_INFO_REPLY);
  assert_int_equal(g.seq, 1);
  assert_int_equal(g.len, PAL_PROTO_INFO_BYTES);
  assert_memory_equal(g.payload, "PAL1", 4);
  pal_link_info_t info;
  OK(0, pal_link_info_decode(g.payload, g.len, &info));
  assert_int_equal(info.protocol_version, 1);
  assert_int_equal(info.isa_version, PAL_ISA_VERSION);
  assert_int_equal(info.tile.rows, 4);
  assert_int_equal(info.tile.cols, 4);
  assert_int_equal(info.tile.acc_units, 4);
  assert_int_equal(info.tile.imem_depth, 256);
  assert_int_equal(info.tile.abuf_blocks, 512);
  assert_int_equal(info.tile.wmem_blocks, 256);
  assert_int_equal(info.tile.obuf_depth, 4096);
  assert_int_equal(info.max_payload, 256);
  assert_int_equal(info.clock_hz, 12000000);
  assert_int_equal(info.idle_byte_times, PAL_LINK_DEFAULT_IDLE_BYTE_TIMES);
  assert_string_equal(info.name, "frame-test");
  assert_int_equal(info.tile.no_post, 0);
  assert_int_equal(info.flags & PAL_PROTO_FLAG_NO_POST, 0);
  /* the NO_POST flag carries pal_tile_config_t.no_post both ways */
  pal_link_info_t np = info, back;
  np.tile.no_post = 1;
  uint8_t enc[PAL_PROTO_INFO_BYTES];
  pal_link_info_encode(&np, enc);
  assert_int_equal(enc[6], PAL_PROTO_FLAG_NO_POST);
  OK(0, pal_link_info_decode(enc, sizeof enc, &back));
  assert_int_equal(back.tile.no_post, 1);
  assert_int_equal(back.flags, PAL_PROTO_FLAG_NO_POST);
  enc[6] = 0;
  OK(0, pal_link_info_decode(enc, sizeof enc, &back));
  assert_int_equal(back.tile.no_post, 0);
  uint8_t bad[PAL_PROTO_INFO_BYTES];
  memcpy(bad, g.payload, sizeof bad);
  bad[0] = 'Q';
  pal_status_t st = pal_link_info_decode(bad, sizeof bad, &info);
  assert_int_equal(pal_status_code(st), PAL_DATA_LOSS);
  pal_status_free(st);
  st = pal_link_info_decode(g.payload, 63, &info);
  assert_int_equal(pal_status_code(st), PAL_DATA_LOSS);
  pal_status_free(st);

  uint8_t p[256];
  for (int i = 0; i < 256; i++) p[i] = (uint8_t)(255 - i);
  f = frame(PAL_MSG_PING, 2, p, 256);
  assert_int_equal(rig_send(r, &f, &g), 1);
  assert_int_equal(g.type, PAL_MSG_PONG);
  assert_int_equal(g.len, 256);
  assert_memory_equal(g.payload, p, 256);
  rig_free(r);
}

static void test_model_malformed(void **state) {
  (void)state;
  rig_t *r = rig_new(256);
  uint8_t p[300] = {0};
  static got_t g;
  uint8_t buf[600];

  /* bad HCRC: no reply at all */
  pal_frame_t f = frame(PAL_MSG_INFO, 3, NULL, 0);
  size_t n = encode(&f, buf);
  buf[2] ^= 0x10;
  assert_int_equal(rig_raw(r, buf, n, &g), 0);
  assert_int_equal(counters(r).value[PAL_LINK_CTR_RX_BAD_HCRC], 1);

  /* bad payload CRC: NAK 1 with the frame's SEQ */
  f = frame(PAL_MSG_PING, 4, p, 10);
  n = encode(&f, buf);
  buf[PAL_PROTO_HEADER_BYTES + 3] ^= 1;
  assert_int_equal(rig_raw(r, buf, n, &g), 1);
  assert_true(g.type == PAL_MSG_NAK && g.payload[0] == PAL_NAK_BAD_CRC && g.seq == 4);
  assert_int_equal(counters(r).value[PAL_LINK_CTR_RX_BAD_CRC], 1);

  /* oversize LEN: NAK 3 as soon as the header is in, payload not awaited */
  f = frame(PAL_MSG_WRITE, 5, p, 257);
  n = encode(&f, buf);
  assert_int_equal(rig_raw(r, buf, PAL_PROTO_HEADER_BYTES, &g), 1);
  assert_true(g.type == PAL_MSG_NAK && g.payload[0] == PAL_NAK_BAD_LENGTH && g.seq == 5);

  /* wrong version: NAK 5 at the header */
  f = frame(PAL_MSG_INFO, 6, NULL, 0);
  f.version = 9;
  n = encode(&f, buf);
  assert_int_equal(rig_raw(r, buf, PAL_PROTO_HEADER_BYTES, &g), 1);
  assert_true(g.type == PAL_MSG_NAK && g.payload[0] == PAL_NAK_BAD_VERSION && g.seq == 6);
  assert_int_equal(rig_raw(r, buf + PAL_PROTO_HEADER_BYTES, n - PAL_PROTO_HEADER_BYTES, &g), 0);

  /* unknown types, replies sent to the device included */
  const uint8_t types[] = {0x00, 0x05, 0x7F, PAL_MSG_INFO_REPLY, PAL_MSG_NAK};
  for (size_t i = 0; i < sizeof types; i++) {
    f = frame(types[i], (uint8_t)(10 + i), NULL, 0);
    expect_nak(r, &f, PAL_NAK_UNKNOWN_TYPE, "unknown type");
  }

  /* lengths that do not fit the type */
  f = frame(PAL_MSG_INFO, 20, p, 1);
  expect_nak(r, &f, PAL_NAK_BAD_LENGTH, "INFO with a payload");
  f = frame(PAL_MSG_READ, 21, p, 5);
  expect_nak(r, &f, PAL_NAK_BAD_LENGTH, "READ of 5 bytes");
  f = frame(PAL_MSG_WRITE, 22, p, 4);
  expect_nak(r, &f, PAL_NAK_BAD_LENGTH, "WRITE without data");
  put32(p, PAL_ADDR_OBUF);
  p[4] = 0, p[5] = 0;
  f = frame(PAL_MSG_READ, 23, p, 6);
  expect_nak(r, &f, PAL_NAK_BAD_LENGTH, "READ of 0 bytes");
  p[4] = 0x04, p[5] = 0x01; /* 260 > 256 */
  expect_nak(r, &f, PAL_NAK_BAD_LENGTH, "READ over the max payload");

  /* addresses: nothing mapped, misaligned, past the end, read-only */
  const struct {
    uint32_t addr, len;
  } bad[] = {{0x00000100, 4},      {0x00009000, 4},      {PAL_ADDR_OBUF + 2, 4},
             {PAL_ADDR_OBUF, 6},   {PAL_ADDR_OBUF + 4 * 4095, 8},
             {PAL_ADDR_WMEM_CODES + 16 * PAL_ADDR_WMEM_CODES_STRIDE, 1},
             {PAL_ADDR_TILE_REGS + 0x24, 4}, {PAL_ADDR_LINK_REGS + 0x80, 4}, {0xFFFFFFFF, 1}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    put32(p, bad[i].addr);
    p[4] = (uint8_t)bad[i].len, p[5] = 0;
    f = frame(PAL_MSG_READ, (uint8_t)(30 + i), p, 6);
    expect_nak(r, &f, PAL_NAK_BAD_ADDRESS, "bad READ address");
    f = frame(PAL_MSG_WRITE, (uint8_t)(60 + i), p, 4 + bad[i].len);
    expect_nak(r, &f, PAL_NAK_BAD_ADDRESS, "bad WRITE address");
  }
  const uint32_t read_only[] = {PAL_TILE_REG_ID, PAL_TILE_REG_STATUS, PAL_TILE_REG_COUNTERS};
  for (size_t i = 0; i < 3; i++) {
    put32(p, PAL_ADDR_TILE_REGS + read_only[i]);
    put32(p + 4, 1);
    f = frame(PAL_MSG_WRITE, (uint8_t)(90 + i), p, 8);
    expect_nak(r, &f, PAL_NAK_BAD_ADDRESS, "write to a read-only register");
  }
  put32(p, PAL_ADDR_LINK_REGS);
  f = frame(PAL_MSG_WRITE, 95, p, 8);
  expect_nak(r, &f, PAL_NAK_BAD_ADDRESS, "write to a link-engine register");

  /* refused values: CONTROL reserved bits, a NaR flag of 2 (nothing written) */
  put32(p, PAL_ADDR_TILE_REGS + PAL_TILE_REG_CONTROL);
  put32(p + 4, 0x4);
  f = frame(PAL_MSG_WRITE, 100, p, 8);
  expect_nak(r, &f, PAL_NAK_REFUSED, "CONTROL reserved bit");
  put32(p, PAL_ADDR_ACC_NAR);
  memset(p + 4, 1, 8);
  p[4 + 5] = 2;
  f = frame(PAL_MSG_WRITE, 101, p, 12);
  expect_nak(r, &f, PAL_NAK_REFUSED, "NaR flag 2");
  uint8_t nar[8];
  OK(0, pal_tile_device_read(r->tile, PAL_TILE_REGION_ACC_NAR, 0, 0, 8, nar));
  for (int i = 0; i < 8; i++) assert_int_equal(nar[i], 0); /* nothing half-written */

  pal_link_counters_t c = counters(r);
  assert_int_equal(c.value[PAL_LINK_CTR_WRITES_EXECUTED], 0);
  assert_int_equal(c.value[PAL_LINK_CTR_NAKS_SENT], c.value[PAL_LINK_CTR_TX_FRAMES]);
  rig_free(r);
}

static void test_model_write_read_and_duplicates(void **state) {
  (void)state;
  rig_t *r = rig_new(4096);
  static got_t g;
  uint8_t p[4096 + 8];
  /* WRITE then READ back through the link, checked against the tile */
  put32(p, PAL_ADDR_BIAS + 4 * 10);
  for (int i = 0; i < 400; i++) p[4 + i] = (uint8_t)(i * 13 + 1);
  pal_frame_t f = frame(PAL_MSG_WRITE, 1, p, 404);
  assert_int_equal(rig_send(r, &f, &g), 1);
  assert_int_equal(g.type, PAL_MSG_WRITE_ACK);
  assert_int_equal(g.len, 6);
  assert_int_equal(get32(g.payload), PAL_ADDR_BIAS + 40);
  assert_int_equal(g.payload[4] | g.payload[5] << 8, 400);
  uint32_t words[100];
  OK(0, pal_tile_device_read(r->tile, PAL_TILE_REGION_BIAS, 0, 10, 100, words));
  assert_memory_equal(words, p + 4, 400);
  uint8_t rq[6];
  put32(rq, PAL_ADDR_BIAS + 40);
  rq[4] = 400 & 0xFF, rq[5] = 400 >> 8;
  f = frame(PAL_MSG_READ, 2, rq, 6);
  assert_int_equal(rig_send(r, &f, &g), 1);
  assert_int_equal(g.type, PAL_MSG_READ_REPLY);
  assert_int_equal(g.len, 400);
  assert_memory_equal(g.payload, p + 4, 400);

  /* The duplicate-WRITE rule. START_PC = 7 with SEQ 3, then a "retransmission"
   * with SEQ 3 carrying 9: acknowledged, not executed. */
  uint8_t w[8];
  put32(w, PAL_ADDR_TILE_REGS + PAL_TILE_REG_START_PC);
  put32(w + 4, 7);
  f = frame(PAL_MSG_WRITE, 3, w, 8);
  assert_int_equal(rig_send(r, &f, &g), 1);
  put32(w + 4, 9);
  assert_int_equal(rig_send(r, &f, &g), 1);
  assert_int_equal(g.type, PAL_MSG_WRITE_ACK);
  uint32_t v;
  OK(0, pal_tile_device_read_reg(r->tile, PAL_TILE_REG_START_PC, &v));
  assert_int_equal(v, 7);
  assert_int_equal(counters(r).value[PAL_LINK_CTR_DUP_WRITES], 1);
  /* Any other executed request in between ends the rule: SEQ 3 is new again. */
  f = frame(PAL_MSG_PING, 4, NULL, 0);
  rig_send(r, &f, &g);
  f = frame(PAL_MSG_WRITE, 3, w, 8);
  rig_send(r, &f, &g);
  OK(0, pal_tile_device_read_reg(r->tile, PAL_TILE_REG_START_PC, &v));
  assert_int_equal(v, 9);
  /* A NAKed request does not: WRITE 5 executed, a damaged copy NAKed, the
   * good retransmission is still recognised as a duplicate. */
  put32(w + 4, 0);
  f = frame(PAL_MSG_WRITE, 5, w, 8);
  rig_send(r, &f, &g);
  uint8_t raw[32];
  size_t n = encode(&f, raw);
  raw[n - 1] ^= 0x80;
  assert_int_equal(rig_raw(r, raw, n, &g), 1);
  assert_int_equal(g.payload[0], PAL_NAK_BAD_CRC);
  put32(w + 4, 3);
  rig_send(r, &f, &g);
  OK(0, pal_tile_device_read_reg(r->tile, PAL_TILE_REG_START_PC, &v));
  assert_int_equal(v, 0);
  assert_int_equal(counters(r).value[PAL_LINK_CTR_DUP_WRITES], 2);

  /* A kernel start retransmitted runs once: the counters show one run. */
  uint32_t prog[8];
  pal_isa_instr_t in;
  pal_isa_instr_initialize(&in, PAL_ISA_OP_SYNC);
  OK(0, pal_isa_encode(&in, prog));
  pal_isa_instr_initialize(&in, PAL_ISA_OP_END);
  OK(0, pal_isa_encode(&in, prog + 4));
  OK(0, pal_tile_device_load_program(r->tile, 0, prog, 8));
  put32(w, PAL_ADDR_TILE_REGS + PAL_TILE_REG_CONTROL);
  put32(w + 4, PAL_TILE_CONTROL_START);
  f = frame(PAL_MSG_WRITE, 6, w, 8);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(rig_send(r, &f, &g), 1);
    assert_int_equal(g.type, PAL_MSG_WRITE_ACK);
  }
  pal_tile_counters_t tc;
  OK(0, pal_tile_device_read_counters(r->tile, &tc));
  assert_int_equal(tc.value[PAL_TILE_CTR_CYC_TOTAL], 2); /* SYNC + END, once */
  pal_link_counters_t c = counters(r);
  assert_int_equal(c.value[PAL_LINK_CTR_KERNEL_STARTS], 1);
  assert_int_equal(c.value[PAL_LINK_CTR_DUP_WRITES], 4);

  /* The link registers read over the link itself. */
  put32(rq, PAL_ADDR_LINK_REGS);
  rq[4] = 4 * PAL_LINK_CTR_COUNT, rq[5] = 0;
  f = frame(PAL_MSG_READ, 7, rq, 6);
  assert_int_equal(rig_send(r, &f, &g), 1);
  c = counters(r);
  for (int i = 0; i < PAL_LINK_CTR_COUNT; i++)
    if (i != PAL_LINK_CTR_TX_FRAMES) /* this reply is counted after it was built */
      assert_int_equal(get32(g.payload + 4 * i), c.value[i]);
  rig_free(r);
}

static void test_model_idle_timeout(void **state) {
  (void)state;
  rig_t *r = rig_new(256);
  static got_t g;
  uint8_t buf[64];
  pal_frame_t f = frame(PAL_MSG_PING, 1, (const uint8_t *)"hello", 5);
  size_t n = encode(&f, buf);
  /* half a frame, a pause shorter than the timeout, the rest: one frame */
  assert_int_equal(rig_raw(r, buf, 9, &g), 0);
  pal_link_model_idle(r->model, PAL_LINK_DEFAULT_IDLE_BYTE_TIMES - 1);
  assert_int_equal(rig_raw(r, buf + 9, n - 9, &g), 1);
  assert_int_equal(g.type, PAL_MSG_PONG);
  /* pauses add up only while silent: bytes restart the count */
  assert_int_equal(rig_raw(r, buf, 4, &g), 0);
  pal_link_model_idle(r->model, PAL_LINK_DEFAULT_IDLE_BYTE_TIMES / 2 + 1);
  assert_int_equal(rig_raw(r, buf + 4, 4, &g), 0);
  pal_link_model_idle(r->model, PAL_LINK_DEFAULT_IDLE_BYTE_TIMES / 2 + 1);
  assert_int_equal(rig_raw(r, buf + 8, n - 8, &g), 1);
  /* a longer pause drops the partial frame; the next frame is clean */
  assert_int_equal(rig_raw(r, buf, 9, &g), 0);
  pal_link_model_idle(r->model, PAL_LINK_DEFAULT_IDLE_BYTE_TIMES);
  assert_int_equal(counters(r).value[PAL_LINK_CTR_RX_IDLE_RESETS], 1);
  assert_int_equal(rig_raw(r, buf, n, &g), 1);
  assert_int_equal(g.type, PAL_MSG_PONG);
  assert_int_equal(counters(r).value[PAL_LINK_CTR_RX_BAD_CRC], 0);
  rig_free(r);
}

/* ---- the address map --------------------------------------------------------- */

static void test_address_map(void **state) {
  (void)state;
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  OK(0, pal_bus_check_geometry(&cfg));
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t region = (pal_tile_region_t)r;
    uint32_t npe = pal_tile_region_is_per_pe(region) ? 16 : 1;
    uint64_t len = pal_tile_region_length(&cfg, region);
    size_t es = pal_tile_region_element_size(region);
    for (uint32_t pe = 0; pe < npe; pe += 5) {
      uint64_t idx[] = {0, 1, len / 2, len - 1};
      for (int k = 0; k < 4; k++) {
        uint32_t a;
        OK(0, pal_bus_region_address(&cfg, region, pe, idx[k], &a));
        pal_bus_target_t t;
        OK(0, pal_bus_decode(&cfg, a, (uint32_t)es, &t));
        assert_int_equal(t.kind, PAL_BUS_REGION);
        assert_int_equal(t.region, region);
        assert_int_equal(t.pe, pe);
        assert_int_equal(t.index, idx[k]);
        assert_int_equal(t.count, 1);
        /* one element past the end of the region is outside it */
        pal_status_t st = pal_bus_decode(&cfg, a, (uint32_t)((len - idx[k] + 1) * es), &t);
        assert_int_equal(pal_status_code(st), PAL_OUT_OF_RANGE);
        pal_status_free(st);
      }
    }
  }
  /* documented bases */
  uint32_t a;
  OK(0, pal_bus_region_address(&cfg, PAL_TILE_REGION_WMEM_CODES, 3, 5, &a));
  assert_int_equal(a, 0x01030005u);
  OK(0, pal_bus_region_address(&cfg, PAL_TILE_REGION_WMEM_SCALES, 15, 2, &a));
  assert_int_equal(a, 0x0200F002u);
  OK(0, pal_bus_region_address(&cfg, PAL_TILE_REGION_IMEM, 0, 4, &a));
  assert_int_equal(a, 0x00010010u);
  OK(0, pal_bus_region_address(&cfg, PAL_TILE_REGION_OBUF, 0, 1, &a));
  assert_int_equal(a, 0x03300004u);
  pal_bus_target_t t;
  OK(0, pal_bus_decode(&cfg, PAL_ADDR_TILE_REGS + PAL_TILE_REG_COUNTERS, 72, &t));
  assert_int_equal(t.kind, PAL_BUS_TILE_REG);
  assert_int_equal(t.count, 18);
  OK(0, pal_bus_decode(&cfg, PAL_ADDR_LINK_REGS + 4, 8, &t));
  assert_int_equal(t.kind, PAL_BUS_LINK_REG);
  assert_int_equal(t.offset, 4);
  pal_status_t st = pal_bus_decode(&cfg, 0x04000000u, 4, &t);
  assert_int_equal(pal_status_code(st), PAL_OUT_OF_RANGE);
  assert_non_null(strstr(pal_status_message(st), "0x04000000"));
  pal_status_free(st);
  /* geometries past the map are refused, naming the region */
  pal_tile_config_initialize(&cfg, 16, 17);
  st = pal_bus_check_geometry(&cfg);
  assert_int_equal(pal_status_code(st), PAL_OUT_OF_RANGE);
  pal_status_free(st);
  pal_tile_config_initialize(&cfg, 4, 4);
  cfg.wmem_blocks = 4096;
  st = pal_bus_check_geometry(&cfg);
  assert_non_null(strstr(pal_status_message(st), "WMEM_CODES"));
  pal_status_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc_check_values),
      cmocka_unit_test(test_worked_example),
      cmocka_unit_test(test_round_trip_any_chunking),
      cmocka_unit_test(test_malformed_frames),
      cmocka_unit_test(test_resync_after_garbage),
      cmocka_unit_test(test_model_info_ping),
      cmocka_unit_test(test_model_malformed),
      cmocka_unit_test(test_model_write_read_and_duplicates),
      cmocka_unit_test(test_model_idle_timeout),
      cmocka_unit_test(test_address_map),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
