/* Helpers shared by the tile tests (tests/tile/): an emulator on a tile
 * device, matrices laid out the way GEMM expects them (docs/isa.md §2),
 * random PAL8-B32 operands with sparsity and NaR, and snapshots of every
 * memory. Everything goes through the backend-neutral pal_tile_device_t,
 * so the same helpers can drive the Verilated RTL later. */
#ifndef TILE_TEST_UTIL_H
#define TILE_TEST_UTIL_H

#include "pal_test.h"

#include "pal/format.h"
#include "pal/tile.h"

/* Fails the test (with the seed) when expr returns an error status. */
#define TT_OK(seed, expr)                                                                 \
  do {                                                                                    \
    pal_status_t tt_st_ = (expr);                                                         \
    if (tt_st_) PAL_TEST_FAIL(seed, "%s failed: %s", #expr, pal_status_message(tt_st_)); \
  } while (0)

static inline uint32_t tt_f2u(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
static inline float tt_u2f(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static inline pal_emu_t *tt_emu_create(uint64_t seed, uint32_t rows, uint32_t cols) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, rows, cols);
  pal_emu_t *emu = NULL;
  TT_OK(seed, pal_emu_create(&cfg, &emu));
  return emu;
}

/* Assembles `text` and loads it at pc 0. Returns the instruction count. */
static inline size_t tt_load_asm(uint64_t seed, pal_tile_device_t *dev, const char *text) {
  pal_asm_program_t prog;
  TT_OK(seed, pal_asm_assemble(text, strlen(text), NULL, &prog));
  TT_OK(seed, pal_tile_device_load_program(dev, 0, prog.words, prog.word_count));
  size_t n = prog.word_count / 4;
  pal_asm_program_release(&prog);
  return n;
}

/* Resets counters and status, runs from start_pc to the end. */
static inline pal_tile_status_t tt_run(uint64_t seed, pal_tile_device_t *dev, uint32_t start_pc) {
  pal_tile_status_t st;
  TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  TT_OK(seed, pal_tile_device_run(dev, start_pc, PAL_TILE_NO_CYCLE_LIMIT, &st));
  return st;
}

static inline pal_tile_counters_t tt_counters(uint64_t seed, pal_tile_device_t *dev) {
  pal_tile_counters_t c;
  TT_OK(seed, pal_tile_device_read_counters(dev, &c));
  return c;
}

/* ---- operands ----------------------------------------------------------- */

typedef struct tt_gen {
  double zero_rate;       /* fraction of elements that are exactly zero */
  double zero_block_rate; /* fraction of whole blocks forced to zero */
  double nar_code_rate;   /* fraction of elements replaced by the NaR code */
  double nar_scale_rate;  /* fraction of blocks with scale 255 */
} tt_gen_t;

/* A rows x cols PAL8-B32 matrix of Gaussian values, with the requested
 * zeros and NaR (the tail past cols stays zero-padded). */
static inline void tt_random_matrix(uint64_t seed, pal_test_rng_t *rng, size_t rows, size_t cols,
                                    const tt_gen_t *g, pal_b32_matrix_t *out) {
  TT_OK(seed, pal_b32_matrix_create(rows, cols, out));
  size_t count = rows * cols;
  float *x = malloc((count ? count : 1) * sizeof *x);
  for (size_t i = 0; i < rows * cols; i++)
    x[i] = pal_test_rng_uniform(rng) < g->zero_rate ? 0.0f
                                                    : (float)(pal_test_rng_gauss(rng) *
                                                              ldexp(1.0, (int)pal_test_rng_below(rng, 9) - 4));
  pal_b32_matrix_encode(x, cols, out);
  free(x);
  for (size_t r = 0; r < rows; r++)
    for (size_t kb = 0; kb < out->kblocks; kb++) {
      size_t b = r * out->kblocks + kb;
      uint8_t *c = out->codes + b * PAL_B32_BLOCK;
      if (pal_test_rng_uniform(rng) < g->zero_block_rate) {
        memset(c, 0, PAL_B32_BLOCK);
        out->scales[b] = (uint8_t)pal_test_rng_below(rng, 255); /* any scale but NaR */
      }
      size_t len = cols - kb * PAL_B32_BLOCK < PAL_B32_BLOCK ? cols - kb * PAL_B32_BLOCK : PAL_B32_BLOCK;
      for (size_t i = 0; i < len; i++)
        if (g->nar_code_rate > 0 && pal_test_rng_uniform(rng) < g->nar_code_rate)
          c[i] = PAL_CODE8_NAR;
      if (g->nar_scale_rate > 0 && pal_test_rng_uniform(rng) < g->nar_scale_rate)
        out->scales[b] = PAL_SCALE_NAR;
    }
}

/* Activations: row m of `a` into ABUF blocks a_base + m*a_stride + kb. */
static inline void tt_write_act(uint64_t seed, pal_tile_device_t *dev, const pal_b32_matrix_t *a,
                                uint32_t a_base, uint32_t a_stride) {
  for (size_t m = 0; m < a->rows; m++) {
    uint64_t blk = a_base + (uint64_t)m * a_stride;
    TT_OK(seed, pal_tile_device_write(dev, PAL_TILE_REGION_ABUF_CODES, 0, blk * 32,
                                      a->kblocks * 32, a->codes + m * a->kblocks * 32));
    TT_OK(seed, pal_tile_device_write(dev, PAL_TILE_REGION_ABUF_SCALES, 0, blk, a->kblocks,
                                      a->scales + m * a->kblocks));
  }
}

/* Weights: column n = t*P + p of the output is row n of `w`, in PE p at
 * WMEM blocks w_base + t*kblocks + kb; columns past w->rows get zeros. */
static inline void tt_write_weights(uint64_t seed, pal_tile_device_t *dev, const pal_b32_matrix_t *w,
                                    uint32_t w_base) {
  uint32_t P = pal_tile_config_pes(&dev->config);
  size_t nt = (w->rows + P - 1) / P, kb = w->kblocks;
  uint8_t *zeros = calloc(kb * 32 + 1, 1);
  for (size_t t = 0; t < nt; t++)
    for (uint32_t p = 0; p < P; p++) {
      size_t n = t * P + p;
      uint64_t blk = w_base + t * kb;
      const uint8_t *codes = n < w->rows ? w->codes + n * kb * 32 : zeros;
      const uint8_t *scales = n < w->rows ? w->scales + n * kb : zeros;
      TT_OK(seed, pal_tile_device_write(dev, PAL_TILE_REGION_WMEM_CODES, p, blk * 32, kb * 32, codes));
      TT_OK(seed, pal_tile_device_write(dev, PAL_TILE_REGION_WMEM_SCALES, p, blk, kb, scales));
    }
  free(zeros);
}

static inline void tt_write_bias(uint64_t seed, pal_tile_device_t *dev, const float *bias, size_t n,
                                 uint32_t base) {
  uint32_t *bits = malloc((n ? n : 1) * sizeof *bits);
  for (size_t i = 0; i < n; i++) bits[i] = tt_f2u(bias[i]);
  TT_OK(seed, pal_tile_device_write(dev, PAL_TILE_REGION_BIAS, 0, base, n, bits));
  free(bits);
}

/* Reads the FP32 value of ACC or OBUF word i, mapping the ACC NaR flag to
 * quiet NaN the way pal_gemm_ref writes NaR. */
static inline float tt_read_acc(uint64_t seed, pal_tile_device_t *dev, uint32_t i, bool *out_nar) {
  uint32_t bits;
  uint8_t nar;
  TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC, 0, i, 1, &bits));
  TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC_NAR, 0, i, 1, &nar));
  *out_nar = nar != 0;
  return tt_u2f(bits);
}

/* Bit-exact comparison of a tile value with pal_gemm_ref's: NaR <=> NaN. */
static inline bool tt_same(float tile, bool tile_nar, float ref) {
  if (isnan(ref)) return tile_nar;
  return !tile_nar && tt_f2u(tile) == tt_f2u(ref);
}

/* ---- snapshots of every memory -------------------------------------------- */

typedef struct tt_snapshot {
  uint8_t *region[PAL_TILE_REGION_COUNT]; /* per-PE regions: all PEs back to back */
  size_t bytes[PAL_TILE_REGION_COUNT];
  uint32_t regs[4]; /* START_PC, CLIP_LO, CLIP_HI, and STATUS is not compared */
} tt_snapshot_t;

static inline void tt_snapshot_take(uint64_t seed, pal_tile_device_t *dev, tt_snapshot_t *s) {
  uint32_t P = pal_tile_config_pes(&dev->config);
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t reg = (pal_tile_region_t)r;
    size_t len = (size_t)pal_tile_region_length(&dev->config, reg);
    size_t es = pal_tile_region_element_size(reg);
    uint32_t npe = pal_tile_region_is_per_pe(reg) ? P : 1;
    s->bytes[r] = len * es * npe;
    s->region[r] = malloc(s->bytes[r]);
    for (uint32_t pe = 0; pe < npe; pe++)
      TT_OK(seed, pal_tile_device_read(dev, reg, pe, 0, len, s->region[r] + (size_t)pe * len * es));
  }
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_START_PC, &s->regs[0]));
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_CLIP_LO, &s->regs[1]));
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_CLIP_HI, &s->regs[2]));
  s->regs[3] = 0;
}

static inline void tt_snapshot_release(tt_snapshot_t *s) {
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) free(s->region[r]);
  memset(s, 0, sizeof *s);
}

/* Describes the first difference into msg; returns false when equal. */
static inline bool tt_snapshot_diff(const tt_snapshot_t *a, const tt_snapshot_t *b, char *msg,
                                    size_t size) {
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++)
    for (size_t i = 0; i < a->bytes[r]; i++)
      if (a->region[r][i] != b->region[r][i]) {
        snprintf(msg, size, "%s byte %zu: 0x%02x -> 0x%02x", pal_tile_region_name((pal_tile_region_t)r),
                 i, a->region[r][i], b->region[r][i]);
        return true;
      }
  for (int i = 0; i < 3; i++)
    if (a->regs[i] != b->regs[i]) {
      snprintf(msg, size, "register %d: 0x%08x -> 0x%08x", i, a->regs[i], b->regs[i]);
      return true;
    }
  return false;
}

#endif /* TILE_TEST_UTIL_H */
