/* Instruction-level emulator of the PAL tile (the emu:// device): executes
 * Tile ISA v1 (docs/isa.md) with every result from the golden model of
 * pal/format.h and the cycle and counter model of §4, instruction by
 * instruction. The RTL is the cycle-accurate reference; this is the fast
 * bit-exact one that the differential tests hold it against. The choices it
 * makes where docs/isa.md is silent are listed at pal_emu_t in pal/tile.h.
 *
 * Values: every block sum is the exact integer of pal_b32_block_sum, formed
 * from a table of pal_product_mag for all code pairs (exact, so any order
 * of addition gives the same sum; NaR codes are tracked per block, as the
 * hardware's flags do), and every FP32 step goes through
 * pal_fp32_start / pal_fp32_accumulate / pal_postprocess /
 * pal_b32_encode_block. Large GEMMs that start from zero or a bias may
 * instead go to pal_gemm (pal/gemm.h), bit-identical to pal_gemm_ref by its
 * contract and held to it by the tests, which run both paths. Timing: the walk is replayed from the activation
 * bitmaps and per-block NaR flags alone, as §4 describes it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pal/format.h"
#include "pal/gemm.h"
#include "pal/tile.h"

/* PAL_EMU_ARITH_AUTO hands GEMMs of at least this many MACs to pal_gemm. */
#define FAST_GEMM_MIN_MACS (1u << 20)

#define BLOCK PAL_B32_BLOCK

struct pal_emu {
  pal_tile_config_t cfg;
  uint32_t pes;     /* P */
  uint32_t per_unit; /* H */
  pal_tile_device_t device;
  pal_emu_options_t options;

  uint32_t *imem;        /* imem_depth * 4 words */
  uint8_t *abuf_codes;   /* abuf_blocks * 32 */
  uint8_t *abuf_scales;  /* abuf_blocks */
  uint32_t *abuf_nz;     /* per block: bit i set when code i != 0 (NaR too) */
  uint8_t *abuf_nar;     /* per block: some code is NaR */
  uint8_t *wmem_codes;   /* [pe][block][32] */
  uint8_t *wmem_scales;  /* [pe][block] */
  uint32_t *wmem_zero;   /* [pe][block]: bit i set when code i == 0 */
  uint8_t *wmem_flags;   /* [pe][block]: WFLAG_* */
  uint32_t *acc;         /* FP32 bits */
  uint8_t *acc_nar;
  uint32_t *bias;
  uint32_t *obuf;

  /* registers and sequencer state */
  uint32_t start_pc, clip_lo, clip_hi;
  bool busy, done, nar;
  uint32_t error, err_pc, pc;
  uint64_t ctr[PAL_TILE_CTR_COUNT]; /* CYC_IDLE is derived when read */

  /* products of §3 for every code pair, [weight << 8 | activation]; 0 when
   * either code is zero or NaR (NaR is tracked per block instead) */
  int32_t *products;

  /* scratch, sized for the largest instruction the 16-bit fields allow */
  uint8_t *walk_wnar; /* per kb of one N-tile: a NaR weight in some PE */
  float *post_row;    /* one output row for PAL8 re-quantisation */
};

enum {
  WFLAG_NAR_CODE = 1, /* a code of the block is NaR */
  WFLAG_NAR = 2,      /* NaR code or scale 255: the walk must visit it */
};

/* Portable popcount without a libgcc call (the build has no -mpopcnt). */
static inline unsigned popcount32(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  return (x * 0x01010101u) >> 24;
}

/* ---- hardware-maintained side information ------------------------------ */

static void refresh_abuf_block(pal_emu_t *emu, size_t b) {
  const uint8_t *c = emu->abuf_codes + b * BLOCK;
  uint32_t nz = 0;
  bool nar = false;
  for (unsigned i = 0; i < BLOCK; i++) {
    nz |= (uint32_t)(c[i] != 0) << i;
    nar |= c[i] == PAL_CODE8_NAR;
  }
  emu->abuf_nz[b] = nz;
  emu->abuf_nar[b] = nar;
}

static void refresh_wmem_block(pal_emu_t *emu, size_t pe, size_t b) {
  size_t idx = pe * emu->cfg.wmem_blocks + b;
  const uint8_t *c = emu->wmem_codes + idx * BLOCK;
  uint32_t zero = 0;
  bool nar_code = false;
  for (unsigned i = 0; i < BLOCK; i++) {
    zero |= (uint32_t)(c[i] == PAL_CODE8_ZERO) << i;
    nar_code |= c[i] == PAL_CODE8_NAR;
  }
  emu->wmem_zero[idx] = zero;
  uint8_t flags = 0;
  if (nar_code) flags |= WFLAG_NAR_CODE | WFLAG_NAR;
  if (emu->wmem_scales[idx] == PAL_SCALE_NAR) flags |= WFLAG_NAR;
  emu->wmem_flags[idx] = flags;
}

/* ---- error stop ---------------------------------------------------------- */

static uint32_t stop_error(pal_emu_t *emu, pal_tile_error_t err, uint32_t pc) {
  emu->busy = false;
  emu->done = false;
  emu->error = err;
  emu->err_pc = pc & 0xFFFFu;
  return PAL_TILE_FETCH_CYCLES; /* the faulting instruction's fetch and decode */
}

/* ---- GEMM ------------------------------------------------------------------ */

typedef struct walk {
  uint64_t time, units_free, stalled;
  uint32_t per_unit;
} walk_t;

/* One hand-off of the §4 pseudo-code: `steps` broadcast cycles, then the
 * P block sums go to the accumulate units, which take H cycles each. */
static inline void walk_handoff(walk_t *w, uint64_t steps) {
  w->time += steps;
  uint64_t begin = w->time > w->units_free ? w->time : w->units_free;
  w->stalled += begin - w->time;
  w->time = begin;
  w->units_free = begin + w->per_unit;
}

/* N-tile t of a GEMM: fills walk_wnar[kb] (a NaR weight block in some PE)
 * and returns the tile's first weight block. */
static size_t walk_tile(pal_emu_t *emu, const pal_isa_instr_t *in, uint32_t t) {
  const uint32_t P = emu->pes, W = emu->cfg.wmem_blocks;
  size_t wrow = (size_t)in->w_base + (size_t)t * in->k_blocks;
  memset(emu->walk_wnar, 0, in->k_blocks);
  for (uint32_t p = 0; p < P; p++) {
    const uint8_t *flags = emu->wmem_flags + (size_t)p * W + wrow;
    for (uint32_t kb = 0; kb < in->k_blocks; kb++) emu->walk_wnar[kb] |= flags[kb] & WFLAG_NAR;
  }
  return wrow;
}

/* Whether the walk visits ABUF block ab as block kb of its row (§4): a
 * non-zero (or NaR) code, a scale of 255, or a NaR weight block in some
 * PE of the N-tile (walk_tile). */
static inline bool walk_visits(const pal_emu_t *emu, size_t ab, uint32_t kb) {
  return emu->abuf_nz[ab] || emu->abuf_scales[ab] == PAL_SCALE_NAR || emu->walk_wnar[kb];
}

/* Timing and counters of the walk (§4), from the activation bitmaps, the
 * NaR scales and the per-block NaR-weight flags alone. */
static uint64_t gemm_walk(pal_emu_t *emu, const pal_isa_instr_t *in) {
  const uint32_t P = emu->pes, W = emu->cfg.wmem_blocks;
  walk_t w = {0, 0, 0, emu->per_unit};
  uint64_t busy = 0, gated = 0, act_skipped = 0, blocks_skipped = 0;
  for (uint32_t t = 0; t < in->n_tiles; t++) {
    size_t wrow = walk_tile(emu, in, t);
    for (uint32_t m = 0; m < in->m_count; m++) {
      size_t arow = (size_t)in->a_base + (size_t)m * in->a_stride;
      for (uint32_t kb = 0; kb < in->k_blocks; kb++) {
        size_t ab = arow + kb;
        if (!walk_visits(emu, ab, kb)) {
          blocks_skipped++;
          continue;
        }
        uint32_t nz = emu->abuf_nz[ab];
        unsigned nnz = popcount32(nz);
        unsigned steps = nnz ? nnz : 1;
        act_skipped += BLOCK - nnz;
        if (nnz) {
          const uint32_t *wzero = emu->wmem_zero + wrow + kb;
          for (uint32_t p = 0; p < P; p++)
            gated += popcount32(nz & wzero[(size_t)p * W]);
        } else {
          gated += P; /* a step for NaR alone multiplies nothing */
        }
        busy += steps;
        walk_handoff(&w, steps);
      }
      walk_handoff(&w, 0); /* row end: write-back of the P running sums */
    }
  }
  uint64_t end = (w.time > w.units_free ? w.time : w.units_free) + PAL_TILE_GEMM_DRAIN_CYCLES;
  emu->ctr[PAL_TILE_CTR_CYC_BUSY] += busy;
  emu->ctr[PAL_TILE_CTR_CYC_STALL] += w.stalled;
  emu->ctr[PAL_TILE_CTR_MACS_ISSUED] += busy * P;
  emu->ctr[PAL_TILE_CTR_MACS_GATED] += gated;
  emu->ctr[PAL_TILE_CTR_ACT_SKIPPED] += act_skipped;
  emu->ctr[PAL_TILE_CTR_BLOCKS_SKIPPED] += blocks_skipped;
  return end;
}

/* The block sum of §3 (pal_b32_block_sum) for blocks without NaR codes,
 * from the product table: the 22-bit sum is exact, so the order in which
 * the products are added does not matter, and a sparse block only adds
 * the products of its non-zero activations. */
static inline int32_t dense_block_sum(const int32_t *products, const uint8_t *wc, const uint8_t *ac) {
  int32_t s = 0;
  for (unsigned i = 0; i < BLOCK; i++) s += products[(unsigned)wc[i] << 8 | ac[i]];
  return s;
}

static inline int32_t sparse_block_sum(const int32_t *products, const uint8_t *wc, const uint8_t *ac,
                                       uint32_t nz) {
  int32_t s = 0;
  while (nz) {
    unsigned i = (unsigned)__builtin_ctz(nz);
    nz &= nz - 1;
    s += products[(unsigned)wc[i] << 8 | ac[i]];
  }
  return s;
}

static void build_products(int32_t *products) {
  for (unsigned w = 0; w < 256; w++)
    for (unsigned a = 0; a < 256; a++) {
      int32_t p = 0;
      if ((w & PAL_CODE8_MAG_MASK) && (a & PAL_CODE8_MAG_MASK)) { /* neither zero nor NaR */
        unsigned dist = (127u - (w & PAL_CODE8_MAG_MASK)) + (127u - (a & PAL_CODE8_MAG_MASK));
        p = (int32_t)pal_product_mag(dist);
        if ((w ^ a) & PAL_CODE8_SIGN) p = -p;
      }
      products[w << 8 | a] = p;
    }
}

/* The values: acc = start(init) (+) sum over kb of block(...), exactly as
 * pal_gemm_ref; NaR is sticky, so an output stops at its first NaR. */
static void gemm_compute(pal_emu_t *emu, const pal_isa_instr_t *in) {
  const uint32_t P = emu->pes, W = emu->cfg.wmem_blocks;
  const size_t acc_stride = (size_t)in->n_tiles * P;
  for (uint32_t t = 0; t < in->n_tiles; t++) {
    size_t wrow = (size_t)in->w_base + (size_t)t * in->k_blocks;
    for (uint32_t m = 0; m < in->m_count; m++) {
      size_t arow = (size_t)in->a_base + (size_t)m * in->a_stride;
      const uint8_t *ascale = emu->abuf_scales + arow;
      const uint32_t *anz = emu->abuf_nz + arow;
      const uint8_t *anar = emu->abuf_nar + arow;
      const uint8_t *acodes = emu->abuf_codes + arow * BLOCK;
      for (uint32_t p = 0; p < P; p++) {
        size_t n = (size_t)t * P + p;
        size_t addr = (size_t)in->acc_base + m * acc_stride + n;
        size_t wi = (size_t)p * W + wrow;
        const uint8_t *wscale = emu->wmem_scales + wi;
        const uint8_t *wflags = emu->wmem_flags + wi;
        const uint8_t *wcodes = emu->wmem_codes + wi * BLOCK;
        bool nar = false;
        float acc;
        switch (in->init) {
          case PAL_ISA_INIT_BIAS:
            acc = pal_fp32_start(pal_f32_from_bits(emu->bias[in->bias_base + n]), &nar);
            break;
          case PAL_ISA_INIT_ACC:
            acc = pal_f32_from_bits(emu->acc[addr]);
            nar = emu->acc_nar[addr] != 0;
            break;
          default:
            acc = 0.0f;
            break;
        }
        for (uint32_t kb = 0; kb < in->k_blocks && !nar; kb++) {
          uint8_t xa = ascale[kb], xw = wscale[kb];
          if (xa == PAL_SCALE_NAR || xw == PAL_SCALE_NAR) {
            nar = true;
            break;
          }
          /* a NaR code on either side makes the output NaR, whatever it
           * faces: NaR is not zero (pal_b32_block_sum checks it first) */
          if ((wflags[kb] & WFLAG_NAR_CODE) || anar[kb]) {
            nar = true;
            break;
          }
          uint32_t nz = anz[kb];
          if (!nz) continue; /* the block sum is 0: acc unchanged */
          const uint8_t *wc = wcodes + (size_t)kb * BLOCK, *ac = acodes + (size_t)kb * BLOCK;
          int32_t s = popcount32(nz) > 12 ? dense_block_sum(emu->products, wc, ac)
                                          : sparse_block_sum(emu->products, wc, ac, nz);
          acc = pal_fp32_accumulate(acc, s, (int)xw + (int)xa - 2 * PAL_SCALE_BIAS - 15, &nar);
        }
        emu->acc[addr] = nar ? PAL_TILE_FP32_NAR : pal_f32_bits(acc);
        emu->acc_nar[addr] = nar;
      }
    }
  }
}

/* A tile without accumulate units (cfg.no_accu): each block the walk
 * visits (gemm_walk's predicate: a non-zero or NaR activation code, an
 * activation scale of 255, or a NaR weight block in some PE of the N-tile)
 * leaves its P raw words in ACC plane kb (pal_tile_raw_word); skipped
 * blocks leave their words as they were. */
static void gemm_compute_raw(pal_emu_t *emu, const pal_isa_instr_t *in) {
  const uint32_t P = emu->pes, W = emu->cfg.wmem_blocks;
  const size_t row_words = (size_t)in->n_tiles * P, plane = (size_t)in->m_count * row_words;
  for (uint32_t t = 0; t < in->n_tiles; t++) {
    size_t wrow = walk_tile(emu, in, t);
    for (uint32_t m = 0; m < in->m_count; m++) {
      size_t arow = (size_t)in->a_base + (size_t)m * in->a_stride;
      for (uint32_t kb = 0; kb < in->k_blocks; kb++) {
        size_t ab = arow + kb;
        if (!walk_visits(emu, ab, kb)) continue;
        uint32_t nz = emu->abuf_nz[ab];
        uint8_t xa = emu->abuf_scales[ab];
        const uint8_t *ac = emu->abuf_codes + ab * BLOCK;
        size_t addr = (size_t)in->acc_base + kb * plane + m * row_words + (size_t)t * P;
        for (uint32_t p = 0; p < P; p++, addr++) {
          size_t wi = (size_t)p * W + wrow + kb;
          uint8_t xw = emu->wmem_scales[wi];
          bool nar = xa == PAL_SCALE_NAR || xw == PAL_SCALE_NAR ||
                     (emu->wmem_flags[wi] & WFLAG_NAR_CODE) || emu->abuf_nar[ab];
          int32_t s = 0;
          if (!nar && nz) {
            const uint8_t *wc = emu->wmem_codes + wi * BLOCK;
            s = sparse_block_sum(emu->products, wc, ac, nz);
          }
          emu->acc[addr] = nar ? 0u : pal_tile_raw_word(s, (int)xw + (int)xa - 2 * PAL_SCALE_BIAS - 15);
          emu->acc_nar[addr] = nar;
        }
      }
    }
  }
}

/* The same values through pal_gemm: gathers the operands into PAL8-B32
 * matrices (ACC starts are not expressible there, so init=acc stays on the
 * table path). Returns false, having written nothing, when it does not
 * apply or cannot run (memory, an unsupported CPU): the caller then uses
 * the table path. */
static bool gemm_compute_fast(pal_emu_t *emu, const pal_isa_instr_t *in) {
  if (emu->options.arith == PAL_EMU_ARITH_TABLE || in->init == PAL_ISA_INIT_ACC) return false;
  const size_t P = emu->pes, W = emu->cfg.wmem_blocks, M = in->m_count, kb = in->k_blocks;
  const size_t N = (size_t)in->n_tiles * P;
  if (emu->options.arith == PAL_EMU_ARITH_AUTO && (uint64_t)M * N * kb * BLOCK < FAST_GEMM_MIN_MACS)
    return false;
  pal_b32_matrix_t a = {M, kb * BLOCK, kb, malloc(M * kb * BLOCK), malloc(M * kb)};
  pal_b32_matrix_t w = {N, kb * BLOCK, kb, malloc(N * kb * BLOCK), malloc(N * kb)};
  float *out = malloc(M * N * sizeof *out), *bias = malloc(N * sizeof *bias);
  bool ok = a.codes && a.scales && w.codes && w.scales && out && bias;
  if (ok) {
    for (size_t m = 0; m < M; m++) {
      size_t ab = (size_t)in->a_base + m * in->a_stride;
      memcpy(a.codes + m * kb * BLOCK, emu->abuf_codes + ab * BLOCK, kb * BLOCK);
      memcpy(a.scales + m * kb, emu->abuf_scales + ab, kb);
    }
    for (size_t n = 0; n < N; n++) {
      size_t wi = (n % P) * W + in->w_base + (n / P) * kb;
      memcpy(w.codes + n * kb * BLOCK, emu->wmem_codes + wi * BLOCK, kb * BLOCK);
      memcpy(w.scales + n * kb, emu->wmem_scales + wi, kb);
      bias[n] = in->init == PAL_ISA_INIT_BIAS ? pal_f32_from_bits(emu->bias[in->bias_base + n]) : 0.0f;
    }
    pal_epilogue_t epi;
    pal_epilogue_initialize(&epi);
    if (in->init == PAL_ISA_INIT_BIAS) epi.bias = bias, epi.bias_mode = PAL_BIAS_START;
    pal_gemm_options_t go;
    pal_gemm_options_initialize(&go);
    go.threads = emu->options.threads;
    pal_status_t st = pal_gemm(&a, &w, &epi, &go, out, N, NULL);
    ok = st == PAL_STATUS_OK;
    pal_status_free(st);
  }
  if (ok)
    for (size_t m = 0; m < M; m++)
      for (size_t n = 0; n < N; n++) {
        size_t addr = (size_t)in->acc_base + m * N + n;
        float v = out[m * N + n];
        bool nar = isnan(v); /* pal_gemm writes NaR as NaN, and nothing else */
        emu->acc[addr] = nar ? PAL_TILE_FP32_NAR : pal_f32_bits(v);
        emu->acc_nar[addr] = nar;
      }
  free(a.codes), free(a.scales), free(w.codes), free(w.scales), free(out), free(bias);
  return ok;
}

static uint64_t exec_gemm(pal_emu_t *emu, const pal_isa_instr_t *in) {
  const pal_tile_config_t *c = &emu->cfg;
  if (!in->n_tiles || !in->m_count || !in->k_blocks)
    return stop_error(emu, PAL_TILE_ERR_ZERO_LOOP, emu->pc);
  uint64_t rows = (uint64_t)in->n_tiles * emu->pes;
  if ((uint64_t)in->a_base + (uint64_t)(in->m_count - 1) * in->a_stride + in->k_blocks >
          c->abuf_blocks ||
      (uint64_t)in->w_base + (uint64_t)in->n_tiles * in->k_blocks > c->wmem_blocks ||
      (uint64_t)in->acc_base + (uint64_t)in->m_count * rows * (c->no_accu ? in->k_blocks : 1) >
          c->acc_depth ||
      (in->init == PAL_ISA_INIT_BIAS && (uint64_t)in->bias_base + rows > c->bias_depth))
    return stop_error(emu, PAL_TILE_ERR_ADDR_RANGE, emu->pc);
  uint64_t cycles = PAL_TILE_FETCH_CYCLES + PAL_TILE_GEMM_SETUP_CYCLES + gemm_walk(emu, in);
  if (c->no_accu)
    gemm_compute_raw(emu, in);
  else if (!gemm_compute_fast(emu, in))
    gemm_compute(emu, in);
  return cycles;
}

/* ---- POST ------------------------------------------------------------------ */

static void write_abuf_block(pal_emu_t *emu, size_t b, const float *x, size_t n) {
  uint8_t scale;
  pal_b32_encode_block(x, n, emu->abuf_codes + b * BLOCK, &scale);
  emu->abuf_scales[b] = scale;
  refresh_abuf_block(emu, b);
}

static uint64_t exec_post(pal_emu_t *emu, const pal_isa_instr_t *in) {
  const pal_tile_config_t *c = &emu->cfg;
  if (!in->n_count || !in->m_count) return stop_error(emu, PAL_TILE_ERR_ZERO_LOOP, emu->pc);
  const uint64_t acc_stride = ((uint64_t)in->n_count + emu->pes - 1) / emu->pes * emu->pes;
  const uint64_t out_last = (uint64_t)in->out_base + (uint64_t)(in->m_count - 1) * in->out_stride;
  const bool pal8 = in->out_fmt == PAL_ISA_OUT_PAL8;
  const uint32_t out_blocks = (in->n_count + BLOCK - 1) / BLOCK;
  if ((uint64_t)in->acc_base + (uint64_t)in->m_count * acc_stride > c->acc_depth ||
      (in->bias_post && (uint64_t)in->bias_base + in->n_count > c->bias_depth) ||
      (!pal8 && out_last + in->n_count > c->obuf_depth) ||
      (pal8 && out_last + out_blocks > c->abuf_blocks))
    return stop_error(emu, PAL_TILE_ERR_ADDR_RANGE, emu->pc);

  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  static const float kBiasPresent = 0.0f; /* pal_postprocess only tests for non-NULL */
  epi.bias = in->bias_post ? &kBiasPresent : NULL;
  epi.bias_mode = PAL_BIAS_POST;
  epi.act = in->act == PAL_ISA_ACT_RELU   ? PAL_ACT_RELU
            : in->act == PAL_ISA_ACT_CLIP ? PAL_ACT_CLIP
                                          : PAL_ACT_NONE;
  epi.clip_lo = pal_f32_from_bits(emu->clip_lo);
  epi.clip_hi = pal_f32_from_bits(emu->clip_hi);

  uint64_t nar_outputs = 0;
  for (uint32_t m = 0; m < in->m_count; m++) {
    size_t arow = (size_t)in->acc_base + m * (size_t)acc_stride;
    size_t orow = (size_t)in->out_base + (size_t)m * in->out_stride;
    for (uint32_t n = 0; n < in->n_count; n++) {
      bool nar = emu->acc_nar[arow + n] != 0;
      float b = in->bias_post ? pal_f32_from_bits(emu->bias[in->bias_base + n]) : 0.0f;
      float v = pal_postprocess(pal_f32_from_bits(emu->acc[arow + n]), b, &epi, &nar);
      nar_outputs += nar;
      if (pal8)
        emu->post_row[n] = nar ? NAN : v;
      else
        emu->obuf[orow + n] = nar ? PAL_TILE_FP32_NAR : pal_f32_bits(v);
    }
    if (pal8)
      for (uint32_t j = 0; j < out_blocks; j++) {
        uint32_t len = in->n_count - j * BLOCK;
        write_abuf_block(emu, orow + j, emu->post_row + (size_t)j * BLOCK, len < BLOCK ? len : BLOCK);
      }
  }
  emu->ctr[PAL_TILE_CTR_NAR_OUTPUTS] += nar_outputs;
  if (nar_outputs) emu->nar = true;
  uint64_t elems = (uint64_t)in->m_count * in->n_count;
  return PAL_TILE_FETCH_CYCLES + PAL_TILE_POST_SETUP_CYCLES +
         elems * (pal8 ? PAL_TILE_POST_PAL8_CYCLES : PAL_TILE_POST_FP32_CYCLES) +
         PAL_TILE_POST_DRAIN_CYCLES;
}

/* ---- the sequencer --------------------------------------------------------- */

/* Executes the instruction at pc; returns the cycles it took. */
static uint64_t step(pal_emu_t *emu) {
  if (emu->pc >= emu->cfg.imem_depth) return stop_error(emu, PAL_TILE_ERR_PC_RANGE, emu->pc);
  const uint32_t *words = emu->imem + (size_t)emu->pc * PAL_ISA_INSTR_WORDS;
  pal_isa_instr_t in;
  pal_tile_error_t err = pal_isa_decode_check(words, &in);
  /* a tile without a POST unit decodes POST as it decodes any opcode it
   * does not have (docs/isa.md §1), before any check of its fields */
  if (in.opcode == PAL_ISA_OP_POST && emu->cfg.no_post)
    err = PAL_TILE_ERR_ILLEGAL_OPCODE;
  /* without accumulate units a GEMM has no start value to add to: init
   * other than zero is a bad field there (checked before the loops and
   * ranges, as every field is) */
  if (err == PAL_TILE_ERR_NONE && in.opcode == PAL_ISA_OP_GEMM && emu->cfg.no_accu &&
      in.init != PAL_ISA_INIT_ZERO)
    err = PAL_TILE_ERR_BAD_FIELD;
  if (err != PAL_TILE_ERR_NONE) return stop_error(emu, err, emu->pc);
  uint64_t cycles;
  switch (in.opcode) {
    case PAL_ISA_OP_GEMM:
      cycles = exec_gemm(emu, &in);
      break;
    case PAL_ISA_OP_POST:
      cycles = exec_post(emu, &in);
      break;
    case PAL_ISA_OP_SETR:
      /* CLIP_LO/HI are POST's: without a POST unit they hold nothing
       * (docs/isa.md §1) */
      if (!emu->cfg.no_post) {
        if (in.reg == PAL_ISA_SETR_CLIP_LO)
          emu->clip_lo = in.value;
        else
          emu->clip_hi = in.value;
      }
      cycles = PAL_TILE_FETCH_CYCLES;
      break;
    case PAL_ISA_OP_END:
      emu->busy = false;
      emu->done = true;
      cycles = PAL_TILE_FETCH_CYCLES;
      break;
    default: /* SYNC: execution is in order, nothing is in flight */
      cycles = PAL_TILE_FETCH_CYCLES;
      break;
  }
  if (emu->busy) emu->pc++;
  return cycles;
}

/* ---- device backend ------------------------------------------------------- */

static void *region_base(pal_emu_t *emu, pal_tile_region_t region, uint32_t pe) {
  switch (region) {
    case PAL_TILE_REGION_IMEM: return emu->imem;
    case PAL_TILE_REGION_ABUF_CODES: return emu->abuf_codes;
    case PAL_TILE_REGION_ABUF_SCALES: return emu->abuf_scales;
    case PAL_TILE_REGION_WMEM_CODES:
      return emu->wmem_codes + (size_t)pe * emu->cfg.wmem_blocks * BLOCK;
    case PAL_TILE_REGION_WMEM_SCALES: return emu->wmem_scales + (size_t)pe * emu->cfg.wmem_blocks;
    case PAL_TILE_REGION_ACC: return emu->acc;
    case PAL_TILE_REGION_ACC_NAR: return emu->acc_nar;
    case PAL_TILE_REGION_BIAS: return emu->bias;
    case PAL_TILE_REGION_OBUF: return emu->obuf;
    default: return NULL;
  }
}

static pal_status_t emu_write(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                              size_t count, const void *data) {
  pal_emu_t *emu = self;
  size_t es = pal_tile_region_element_size(region);
  memcpy((char *)region_base(emu, region, pe) + index * es, data, count * es);
  if (region == PAL_TILE_REGION_ABUF_CODES) {
    for (size_t b = index / BLOCK; b <= (index + count - 1) / BLOCK; b++) refresh_abuf_block(emu, b);
  } else if (region == PAL_TILE_REGION_WMEM_CODES) {
    for (size_t b = index / BLOCK; b <= (index + count - 1) / BLOCK; b++)
      refresh_wmem_block(emu, pe, b);
  } else if (region == PAL_TILE_REGION_WMEM_SCALES) {
    for (size_t b = index; b < index + count; b++) refresh_wmem_block(emu, pe, b);
  }
  return PAL_STATUS_OK;
}

static pal_status_t emu_read(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                             size_t count, void *out_data) {
  pal_emu_t *emu = self;
  size_t es = pal_tile_region_element_size(region);
  memcpy(out_data, (const char *)region_base(emu, region, pe) + index * es, count * es);
  return PAL_STATUS_OK;
}

static pal_status_t emu_write_reg(void *self, uint32_t offset, uint32_t value) {
  pal_emu_t *emu = self;
  switch (offset) {
    case PAL_TILE_REG_CONTROL:
      if (value & PAL_TILE_CONTROL_RESET) {
        memset(emu->ctr, 0, sizeof emu->ctr);
        emu->busy = emu->done = emu->nar = false;
        emu->error = emu->err_pc = 0;
      }
      if (value & PAL_TILE_CONTROL_START) {
        if (emu->busy)
          return pal_status_make(PAL_FAILED_PRECONDITION,
                                 "emu: CONTROL.start while the tile is busy (pc %u)",
                                 (unsigned)emu->pc);
        emu->busy = true;
        emu->done = emu->nar = false;
        emu->error = emu->err_pc = 0;
        emu->pc = emu->start_pc;
      }
      return PAL_STATUS_OK;
    case PAL_TILE_REG_START_PC: emu->start_pc = value; return PAL_STATUS_OK;
    /* without a POST unit the clip bounds read as 0 and take no write */
    case PAL_TILE_REG_CLIP_LO:
      if (!emu->cfg.no_post) emu->clip_lo = value;
      return PAL_STATUS_OK;
    case PAL_TILE_REG_CLIP_HI:
      if (!emu->cfg.no_post) emu->clip_hi = value;
      return PAL_STATUS_OK;
    default:
      return pal_status_make(PAL_INTERNAL, "emu: register 0x%02x is not writable", (unsigned)offset);
  }
}

static uint64_t counter_value(const pal_emu_t *emu, uint32_t c) {
  if (c == PAL_TILE_CTR_CYC_IDLE)
    return emu->ctr[PAL_TILE_CTR_CYC_TOTAL] - emu->ctr[PAL_TILE_CTR_CYC_BUSY] -
           emu->ctr[PAL_TILE_CTR_CYC_STALL];
  return emu->ctr[c];
}

static pal_status_t emu_read_reg(void *self, uint32_t offset, uint32_t *out_value) {
  pal_emu_t *emu = self;
  const pal_tile_config_t *c = &emu->cfg;
  uint32_t v;
  switch (offset) {
    case PAL_TILE_REG_ID: v = PAL_TILE_ID_VALUE; break;
    case PAL_TILE_REG_ISA_VERSION: v = PAL_ISA_VERSION; break;
    case PAL_TILE_REG_GEOMETRY:
      v = c->rows | c->cols << 8 | c->acc_units << 16 | (c->no_post ? PAL_TILE_GEOMETRY_NO_POST : 0) |
          (c->no_accu ? PAL_TILE_GEOMETRY_NO_ACCU : 0);
      break;
    case PAL_TILE_REG_IMEM_DEPTH: v = c->imem_depth; break;
    case PAL_TILE_REG_ABUF_BLOCKS: v = c->abuf_blocks; break;
    case PAL_TILE_REG_WMEM_BLOCKS: v = c->wmem_blocks; break;
    case PAL_TILE_REG_ACC_DEPTH: v = c->acc_depth; break;
    case PAL_TILE_REG_BIAS_DEPTH: v = c->bias_depth; break;
    case PAL_TILE_REG_OBUF_DEPTH: v = c->obuf_depth; break;
    case PAL_TILE_REG_START_PC: v = emu->start_pc; break;
    case PAL_TILE_REG_STATUS:
      v = (emu->busy ? PAL_TILE_STATUS_BUSY : 0) | (emu->done ? PAL_TILE_STATUS_DONE : 0) |
          (emu->nar ? PAL_TILE_STATUS_NAR : 0) | emu->error << PAL_TILE_STATUS_ERROR_LSB |
          emu->err_pc << PAL_TILE_STATUS_ERR_PC_LSB;
      break;
    case PAL_TILE_REG_CLIP_LO: v = emu->clip_lo; break;
    case PAL_TILE_REG_CLIP_HI: v = emu->clip_hi; break;
    default: {
      if (offset < PAL_TILE_REG_COUNTERS || offset >= PAL_TILE_REG_COUNTER(PAL_TILE_CTR_COUNT))
        return pal_status_make(PAL_INTERNAL, "emu: no register at 0x%02x", (unsigned)offset);
      uint64_t x = counter_value(emu, (offset - PAL_TILE_REG_COUNTERS) / 8);
      v = (offset & 4) ? (uint32_t)(x >> 32) : (uint32_t)x;
      break;
    }
  }
  *out_value = v;
  return PAL_STATUS_OK;
}

static pal_status_t emu_wait(void *self, uint64_t max_cycles) {
  pal_emu_t *emu = self;
  uint64_t elapsed = 0;
  while (emu->busy) {
    if (elapsed >= max_cycles)
      return pal_status_make(PAL_DEADLINE_EXCEEDED,
                             "emu: still busy at pc %u after %llu cycles (limit %llu)",
                             (unsigned)emu->pc, (unsigned long long)elapsed,
                             (unsigned long long)max_cycles);
    uint64_t cycles = step(emu);
    emu->ctr[PAL_TILE_CTR_CYC_TOTAL] += cycles;
    elapsed += cycles;
  }
  return PAL_STATUS_OK;
}

static const pal_tile_device_ops_t kEmuOps = {
    .write = emu_write,
    .read = emu_read,
    .write_reg = emu_write_reg,
    .read_reg = emu_read_reg,
    .wait = emu_wait,
};

/* ---- lifetime --------------------------------------------------------------- */

void pal_emu_options_initialize(pal_emu_options_t *options) {
  memset(options, 0, sizeof *options);
  options->arith = PAL_EMU_ARITH_AUTO;
  options->threads = 0;
}

pal_status_t pal_emu_create(const pal_tile_config_t *config, pal_emu_t **out_emu) {
  return pal_emu_create_with_options(config, NULL, out_emu);
}

pal_status_t pal_emu_create_with_options(const pal_tile_config_t *config,
                                         const pal_emu_options_t *options, pal_emu_t **out_emu) {
  *out_emu = NULL;
  PAL_RETURN_IF_ERROR(pal_tile_config_validate(config));
  pal_emu_options_t opts;
  if (options)
    opts = *options;
  else
    pal_emu_options_initialize(&opts);
  if ((unsigned)opts.arith > PAL_EMU_ARITH_FAST_GEMM || opts.threads < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "emu options: arith = %d, threads = %d",
                           (int)opts.arith, opts.threads);
  pal_emu_t *emu = calloc(1, sizeof *emu);
  if (!emu) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "emu: out of memory");
  emu->cfg = *config;
  emu->options = opts;
  emu->pes = pal_tile_config_pes(config);
  emu->per_unit = pal_tile_config_pes_per_unit(config);
  size_t P = emu->pes, WB = config->wmem_blocks, AB = config->abuf_blocks;
  emu->imem = calloc((size_t)config->imem_depth * PAL_ISA_INSTR_WORDS, sizeof(uint32_t));
  emu->abuf_codes = calloc(AB * BLOCK, 1);
  emu->abuf_scales = calloc(AB, 1);
  emu->abuf_nz = calloc(AB, sizeof(uint32_t));
  emu->abuf_nar = calloc(AB, 1);
  emu->products = malloc(256 * 256 * sizeof(int32_t));
  emu->wmem_codes = calloc(P * WB * BLOCK, 1);
  emu->wmem_scales = calloc(P * WB, 1);
  emu->wmem_zero = malloc(P * WB * sizeof(uint32_t));
  emu->wmem_flags = calloc(P * WB, 1);
  emu->acc = calloc(config->acc_depth, sizeof(uint32_t));
  emu->acc_nar = calloc(config->acc_depth, 1);
  emu->bias = calloc(config->bias_depth, sizeof(uint32_t));
  emu->obuf = calloc(config->obuf_depth, sizeof(uint32_t));
  emu->walk_wnar = malloc(65536);
  emu->post_row = malloc(65536 * sizeof(float));
  if (!emu->imem || !emu->abuf_codes || !emu->abuf_scales || !emu->abuf_nz || !emu->abuf_nar || !emu->products || !emu->wmem_codes ||
      !emu->wmem_scales || !emu->wmem_zero || !emu->wmem_flags || !emu->acc || !emu->acc_nar ||
      !emu->bias || !emu->obuf || !emu->walk_wnar || !emu->post_row) {
    pal_emu_destroy(emu);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                           "emu: out of memory for a %ux%u tile with %u weight blocks per PE",
                           (unsigned)config->rows, (unsigned)config->cols, (unsigned)WB);
  }
  for (size_t i = 0; i < P * WB; i++) emu->wmem_zero[i] = 0xFFFFFFFFu; /* all codes zero */
  build_products(emu->products);
  emu->device.ops = &kEmuOps;
  emu->device.self = emu;
  emu->device.config = *config;
  emu->device.name = "emu";
  *out_emu = emu;
  return PAL_STATUS_OK;
}

void pal_emu_destroy(pal_emu_t *emu) {
  if (!emu) return;
  free(emu->imem);
  free(emu->abuf_codes);
  free(emu->abuf_scales);
  free(emu->abuf_nz);
  free(emu->abuf_nar);
  free(emu->products);
  free(emu->wmem_codes);
  free(emu->wmem_scales);
  free(emu->wmem_zero);
  free(emu->wmem_flags);
  free(emu->acc);
  free(emu->acc_nar);
  free(emu->bias);
  free(emu->obuf);
  free(emu->walk_wnar);
  free(emu->post_row);
  free(emu);
}

pal_tile_device_t *pal_emu_device(pal_emu_t *emu) { return &emu->device; }
