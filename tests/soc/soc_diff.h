/* The differential harness of tests/soc/: the same byte stream into the
 * Verilated SoC's link engine (FIFO attachment) and into the C reference
 * (driver/pal_link_model.c over the emulator); the reply bytes must be
 * identical, byte for byte, after every chunk. Link counters and memory
 * contents are compared by READ frames, whose replies are compared the
 * same way (and so come from the emulator on one side, the RTL tile on the
 * other). Include once, from the test's .c. */
#ifndef SOC_DIFF_H
#define SOC_DIFF_H

#include "pal_test.h"

#include "pal/protocol.h"
#include "pal/soc.h"
#include "pal_soc_debug.h"
#include "tile_test_util.h"

#define SD_OK(d, expr)                                                                       \
  do {                                                                                       \
    pal_status_t sd_st_ = (expr);                                                            \
    if (sd_st_) PAL_TEST_FAIL((d)->seed, "%s failed: %s", #expr, pal_status_message(sd_st_)); \
  } while (0)

typedef struct sd_buf {
  uint8_t *p;
  size_t n, cap;
} sd_buf_t;

static void sd_buf_add(sd_buf_t *b, const uint8_t *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 1024;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

/* The emulator as the RTL tile's port behaves: memory regions only while
 * the tile is idle (docs/tile-rtl.md; pal_sim refuses the same way), so a
 * model over it NAKs such accesses with REFUSED as the RTL link engine does.
 * The emulator itself does not check. */
static pal_status_t sd_guard(pal_tile_device_t *emu) {
  uint32_t st = 0;
  pal_status_t s = emu->ops->read_reg(emu->self, PAL_TILE_REG_STATUS, &st);
  if (s) return s;
  return (st & PAL_TILE_STATUS_BUSY)
             ? pal_status_make(PAL_FAILED_PRECONDITION, "guarded emu: memory while the tile is busy")
             : PAL_STATUS_OK;
}
static pal_status_t sd_g_write(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                               size_t count, const void *data) {
  pal_tile_device_t *emu = self;
  PAL_RETURN_IF_ERROR(sd_guard(emu));
  return emu->ops->write(emu->self, region, pe, index, count, data);
}
static pal_status_t sd_g_read(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                              size_t count, void *out) {
  pal_tile_device_t *emu = self;
  PAL_RETURN_IF_ERROR(sd_guard(emu));
  return emu->ops->read(emu->self, region, pe, index, count, out);
}
static pal_status_t sd_g_write_reg(void *self, uint32_t offset, uint32_t value) {
  pal_tile_device_t *emu = self;
  return emu->ops->write_reg(emu->self, offset, value);
}
static pal_status_t sd_g_read_reg(void *self, uint32_t offset, uint32_t *out) {
  pal_tile_device_t *emu = self;
  return emu->ops->read_reg(emu->self, offset, out);
}
static pal_status_t sd_g_wait(void *self, uint64_t max_cycles) {
  pal_tile_device_t *emu = self;
  return emu->ops->wait(emu->self, max_cycles);
}
static const pal_tile_device_ops_t kSdGuardOps = {sd_g_write, sd_g_read, sd_g_write_reg,
                                                  sd_g_read_reg, sd_g_wait};

typedef struct sd {
  uint64_t seed;
  uint32_t rows, cols, max_payload;
  bool wait_tile;         /* after each chunk, clock the RTL until its tile is idle */
  pal_soc_t *soc;
  pal_emu_t *emu;
  pal_tile_device_t guard; /* the emulator behind the busy rule */
  pal_link_model_t *model;
  sd_buf_t mout, sout;    /* replies of the model and of the RTL, not yet compared */
  uint64_t frames, bytes; /* fed, for the report */
  uint8_t seq;
} sd_t;

static void sd_emit(void *ctx, const uint8_t *bytes, size_t len) {
  sd_buf_add(&((sd_t *)ctx)->mout, bytes, len);
}

/* run_cycles: the model's tile budget per request (PAL_TILE_NO_CYCLE_LIMIT:
 * to completion, with the RTL clocked until idle after every chunk). */
static void sd_open_payload(sd_t *d, uint64_t seed, uint32_t rows, uint32_t cols,
                            uint64_t run_cycles, uint32_t max_payload) {
  memset(d, 0, sizeof *d);
  d->seed = seed, d->rows = rows, d->cols = cols, d->max_payload = max_payload;
  d->wait_tile = run_cycles == PAL_TILE_NO_CYCLE_LIMIT;
  pal_soc_options_t so;
  pal_soc_options_initialize(&so);
  so.rows = rows, so.cols = cols, so.seed = seed;
  SD_OK(d, pal_soc_create_with_max_payload(&so, max_payload, &d->soc));
  d->emu = tt_emu_create(seed, rows, cols);
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.max_payload = max_payload, mo.idle_byte_times = 4096, mo.clock_hz = 12000000, mo.name = "sim";
  mo.run_cycles = run_cycles, mo.emit = sd_emit, mo.emit_ctx = d;
  d->guard = *pal_emu_device(d->emu);
  d->guard.ops = &kSdGuardOps;
  d->guard.self = pal_emu_device(d->emu);
  SD_OK(d, pal_link_model_create(&d->guard, &mo, &d->model));
}

static void sd_open(sd_t *d, uint64_t seed, uint32_t rows, uint32_t cols, uint64_t run_cycles) {
  sd_open_payload(d, seed, rows, cols, run_cycles, 4096);
}

static void sd_close(sd_t *d) {
  pal_link_model_destroy(d->model);
  pal_emu_destroy(d->emu);
  pal_soc_destroy(d->soc);
  free(d->mout.p);
  free(d->sout.p);
}

static void sd_collect(sd_t *d) {
  uint8_t tmp[4096];
  size_t n;
  while ((n = pal_soc_read_bytes(d->soc, tmp, sizeof tmp)) > 0) sd_buf_add(&d->sout, tmp, n);
}

static void sd_compare(sd_t *d, const char *what) {
  size_t n = d->mout.n < d->sout.n ? d->mout.n : d->sout.n, i = 0;
  while (i < n && d->mout.p[i] == d->sout.p[i]) i++;
  if (i < n || d->mout.n != d->sout.n) {
    char m[64] = "", s[64] = "";
    for (size_t k = i; k < i + 12 && k < d->mout.n; k++) sprintf(m + strlen(m), "%02x ", d->mout.p[k]);
    for (size_t k = i; k < i + 12 && k < d->sout.n; k++) sprintf(s + strlen(s), "%02x ", d->sout.p[k]);
    PAL_TEST_FAIL(d->seed,
                  "%ux%u %s: replies differ at byte %zu (model %zu bytes, RTL %zu): model %s| RTL %s",
                  d->rows, d->cols, what, i, d->mout.n, d->sout.n, m, s);
  }
  d->mout.n = d->sout.n = 0;
}

/* Feeds a chunk to both and compares the replies. */
static void sd_feed(sd_t *d, const uint8_t *p, size_t n, const char *what) {
  pal_link_model_receive(d->model, p, n);
  SD_OK(d, pal_soc_write_bytes(d->soc, p, n));
  d->bytes += n;
  uint64_t cap = 64ull * n + 400000, t = 0;
  while (t < cap && (pal_soc_input_pending(d->soc) || d->sout.n < d->mout.n)) {
    SD_OK(d, pal_soc_run(d->soc, 16));
    t += 16;
    sd_collect(d);
  }
  SD_OK(d, pal_soc_run(d->soc, 64)); /* a reply the model did not send would show here */
  sd_collect(d);
  if (d->wait_tile)
    for (uint64_t k = 0; k < 4000000 && pal_soc_tile_busy(d->soc); k += 64)
      SD_OK(d, pal_soc_run(d->soc, 64));
  sd_compare(d, what);
}

/* Silence on the line: the model is told, the RTL clocked that long (plus
 * a margin when it is meant to reach the idle timeout). */
static void sd_idle(sd_t *d, uint64_t byte_times) {
  pal_link_model_idle(d->model, byte_times);
  SD_OK(d, pal_soc_run(d->soc, byte_times >= 4096 ? byte_times + 32 : byte_times));
  sd_collect(d);
  sd_compare(d, "idle");
}

static size_t sd_encode(uint8_t type, uint8_t seq, const uint8_t *payload, size_t len, uint8_t *out) {
  pal_frame_t f = {type, seq, PAL_PROTO_VERSION, (uint16_t)len, payload};
  size_t n = 0;
  pal_status_t st = pal_frame_encode(&f, out, len + PAL_PROTO_OVERHEAD, &n);
  assert_null(st);
  return n;
}

static void sd_frame(sd_t *d, uint8_t type, const uint8_t *payload, size_t len, const char *what) {
  uint8_t *buf = malloc(len + PAL_PROTO_OVERHEAD);
  size_t n = sd_encode(type, d->seq++, payload, len, buf);
  d->frames++;
  sd_feed(d, buf, n, what);
  free(buf);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void sd_write(sd_t *d, uint32_t addr, const uint8_t *data, size_t n, const char *what) {
  uint8_t *p = malloc(n + 4);
  put32(p, addr);
  memcpy(p + 4, data, n);
  sd_frame(d, PAL_MSG_WRITE, p, n + 4, what);
  free(p);
}

static void sd_write32(sd_t *d, uint32_t addr, uint32_t v, const char *what) {
  uint8_t b[4];
  put32(b, v);
  sd_write(d, addr, b, 4, what);
}

static void sd_read(sd_t *d, uint32_t addr, uint32_t n, const char *what) {
  uint8_t p[6];
  put32(p, addr);
  p[4] = (uint8_t)n, p[5] = (uint8_t)(n >> 8);
  sd_frame(d, PAL_MSG_READ, p, 6, what);
}

/* Every link counter, every tile register run, and every region of every
 * PE, read back in READs of the max payload on both sides. */
static void sd_read_everything(sd_t *d) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, d->rows, d->cols);
  sd_read(d, PAL_ADDR_LINK_REGS, 40, "link counters");
  sd_read(d, PAL_ADDR_TILE_REGS, 36, "ID registers");
  sd_read(d, PAL_ADDR_TILE_REGS + 0x40, 20, "control registers");
  sd_read(d, PAL_ADDR_TILE_REGS + 0x80, 72, "counters");
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    uint32_t pes = pal_tile_region_is_per_pe((pal_tile_region_t)r) ? pal_tile_config_pes(&cfg) : 1;
    uint64_t bytes = pal_tile_region_length(&cfg, (pal_tile_region_t)r) *
                     pal_tile_region_element_size((pal_tile_region_t)r);
    for (uint32_t pe = 0; pe < pes; pe++) {
      uint32_t base;
      SD_OK(d, pal_bus_region_address(&cfg, (pal_tile_region_t)r, pe, 0, &base));
      for (uint64_t o = 0; o < bytes; o += d->max_payload)
        sd_read(d, base + (uint32_t)o, (uint32_t)(bytes - o < d->max_payload ? bytes - o : d->max_payload),
                pal_tile_region_name((pal_tile_region_t)r));
    }
  }
  sd_read(d, PAL_ADDR_LINK_REGS, 40, "link counters at the end");
}

#endif /* SOC_DIFF_H */
