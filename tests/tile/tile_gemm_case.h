/* One random GEMM (+ optional POST) case, shared by the emulator's tests
 * (tests/tile/test_tile_emu.c) and the RTL's (tests/sim/sim_gemm_case.h):
 * the operands are drawn, placed at random bases and strides and written to
 * every device given, the program is written as assembly text (so the
 * assembler is in the loop), and the outputs of one device are checked
 * against the golden model (pal_gemm_ref, pal_b32_encode_block). Running
 * the program and any device-against-device comparison are the caller's. */
#ifndef TILE_GEMM_CASE_H
#define TILE_GEMM_CASE_H

#include "tile_test_util.h"

typedef struct gemm_case {
  size_t M, N, K;
  tt_gen_t ga, gw;
  uint32_t init;  /* PAL_ISA_INIT_ZERO or _BIAS for the (first) GEMM */
  bool split;     /* second GEMM with init=acc over the rest of K */
  bool post;
  uint32_t act;   /* pal_isa_act_t */
  bool bias_post; /* only with init = zero: one bias per output */
  uint32_t fmt;   /* pal_isa_out_fmt_t */
  bool odd_bias;  /* NaN, Inf, subnormal and -0 among the biases */
} gemm_case_t;

/* A case as placed on the devices. */
typedef struct gc_layout {
  pal_b32_matrix_t A, W;
  float *bias;     /* nt * P values at bias_base */
  size_t kb, nt;   /* K blocks, N tiles */
  uint32_t P;
  uint32_t a_base, a_stride, w_base, acc_base, bias_base;
  uint32_t out_base, out_stride;
  float clip_lo, clip_hi;
  char prog[1024]; /* assembly text, ends with "end" */
} gc_layout_t;

/* Blocks [b0, b1) of every row of w. */
static inline void gc_sub_blocks(uint64_t seed, const pal_b32_matrix_t *w, size_t b0, size_t b1,
                                 pal_b32_matrix_t *out) {
  TT_OK(seed, pal_b32_matrix_create(w->rows, (b1 - b0) * 32, out));
  for (size_t r = 0; r < w->rows; r++) {
    memcpy(out->codes + r * out->kblocks * 32, w->codes + (r * w->kblocks + b0) * 32, (b1 - b0) * 32);
    memcpy(out->scales + r * out->kblocks, w->scales + r * w->kblocks + b0, b1 - b0);
  }
}

static inline void gc_random_bias(pal_test_rng_t *rng, float *bias, size_t n, bool odd) {
  for (size_t i = 0; i < n; i++) {
    bias[i] = (float)pal_test_rng_gauss(rng);
    if (odd) switch (pal_test_rng_below(rng, 12)) {
        case 0: bias[i] = NAN; break;
        case 1: bias[i] = -INFINITY; break;
        case 2: bias[i] = 1e-40f; break; /* subnormal: flushed */
        case 3: bias[i] = -0.0f; break;
        default: break;
      }
  }
}

/* ACC words acc_base + m*acc_stride + n of dev against row-major reference
 * outputs (M x N, NaN = NaR). */
static inline void gc_check_acc_ref(uint64_t seed, pal_tile_device_t *dev, const float *ref, size_t M,
                                    size_t N, uint32_t acc_base, size_t acc_stride, const char *label) {
  uint32_t *bits = malloc(N * sizeof *bits);
  uint8_t *nar = malloc(N);
  for (size_t m = 0; m < M; m++) {
    uint32_t at = (uint32_t)(acc_base + m * acc_stride);
    TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC, 0, at, N, bits));
    TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC_NAR, 0, at, N, nar));
    for (size_t n = 0; n < N; n++) {
      float r = ref[m * N + n];
      PAL_TEST_CHECK(seed, tt_same(tt_u2f(bits[n]), nar[n] != 0, r),
                     "%s: ACC m=%zu n=%zu: tile %08x nar %d, ref %08x", label, m, n, bits[n], nar[n],
                     tt_f2u(r));
    }
  }
  free(bits);
  free(nar);
}

/* Draws case c's operands and places them on devs[0..ndev) (every device
 * gets the same data), and writes the program into L->prog. */
static inline void gc_prepare(uint64_t seed, pal_test_rng_t *rng, pal_tile_device_t *const *devs,
                              int ndev, const gemm_case_t *c, const char *label, gc_layout_t *L) {
  const pal_tile_config_t *cfg = &devs[0]->config;
  memset(L, 0, sizeof *L);
  L->P = pal_tile_config_pes(cfg);
  L->kb = (c->K + 31) / 32;
  L->nt = (c->N + L->P - 1) / L->P;
  const size_t kb = L->kb, nt = L->nt, P = L->P;
  tt_random_matrix(seed, rng, c->M, c->K, &c->ga, &L->A);
  tt_random_matrix(seed, rng, c->N, c->K, &c->gw, &L->W);
  L->bias = malloc(nt * P * sizeof *L->bias);
  gc_random_bias(rng, L->bias, nt * P, c->odd_bias);

  L->a_stride = (uint32_t)(kb + pal_test_rng_below(rng, 3));
  L->a_base = pal_test_rng_below(rng, 8);
  L->w_base = pal_test_rng_below(rng, 8);
  L->acc_base = pal_test_rng_below(rng, 16);
  L->bias_base = pal_test_rng_below(rng, 16);
  size_t a_end = L->a_base + (c->M - 1) * L->a_stride + kb;
  PAL_TEST_CHECK(seed, a_end <= cfg->abuf_blocks && L->w_base + nt * kb <= cfg->wmem_blocks &&
                           L->acc_base + c->M * nt * P <= cfg->acc_depth &&
                           L->bias_base + nt * P <= cfg->bias_depth,
                 "%s: case does not fit the tile (test bug)", label);
  for (int d = 0; d < ndev; d++) {
    tt_write_act(seed, devs[d], &L->A, L->a_base, L->a_stride);
    tt_write_bias(seed, devs[d], L->bias, nt * P, L->bias_base);
  }

  char *prog = L->prog;
  const size_t cap = sizeof L->prog;
  int len = 0;
  const char *init_name = c->init == PAL_ISA_INIT_BIAS ? "bias" : "zero";
  if (c->split && kb >= 2) {
    size_t kb1 = 1 + pal_test_rng_below(rng, (uint32_t)kb - 1);
    pal_b32_matrix_t W1, W2;
    gc_sub_blocks(seed, &L->W, 0, kb1, &W1);
    gc_sub_blocks(seed, &L->W, kb1, kb, &W2);
    uint32_t w_base2 = (uint32_t)(L->w_base + nt * kb1);
    for (int d = 0; d < ndev; d++) {
      tt_write_weights(seed, devs[d], &W1, L->w_base);
      tt_write_weights(seed, devs[d], &W2, w_base2);
    }
    pal_b32_matrix_release(&W1);
    pal_b32_matrix_release(&W2);
    len += snprintf(prog + len, cap - len,
                    "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=%s bias=%u\n"
                    "gemm a=%zu as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=acc\n",
                    L->a_base, L->a_stride, c->M, kb1, L->w_base, nt, L->acc_base, init_name,
                    L->bias_base, L->a_base + kb1, L->a_stride, c->M, kb - kb1, w_base2, nt,
                    L->acc_base);
  } else {
    for (int d = 0; d < ndev; d++) tt_write_weights(seed, devs[d], &L->W, L->w_base);
    len += snprintf(prog + len, cap - len,
                    "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=%s bias=%u\n", L->a_base,
                    L->a_stride, c->M, kb, L->w_base, nt, L->acc_base, init_name, L->bias_base);
  }

  L->clip_lo = -(float)fabs(pal_test_rng_gauss(rng));
  L->clip_hi = (float)fabs(pal_test_rng_gauss(rng));
  if (c->post) {
    if (c->fmt == PAL_ISA_OUT_PAL8) {
      L->out_stride = (uint32_t)((c->N + 31) / 32 + pal_test_rng_below(rng, 2));
      L->out_base = (uint32_t)(a_end + pal_test_rng_below(rng, 4));
      PAL_TEST_CHECK(seed, L->out_base + (c->M - 1) * L->out_stride + (c->N + 31) / 32 <= cfg->abuf_blocks,
                     "%s: PAL8 output does not fit (test bug)", label);
    } else {
      L->out_stride = (uint32_t)(c->N + pal_test_rng_below(rng, 3));
      L->out_base = pal_test_rng_below(rng, 32);
    }
    len += snprintf(prog + len, cap - len,
                    "setr reg=clip_lo value=0x%08x\nsetr reg=clip_hi value=0x%08x\n"
                    "post acc=%u n=%zu m=%zu act=%u fmt=%u out=%u os=%u bias=%u bp=%d\n",
                    tt_f2u(L->clip_lo), tt_f2u(L->clip_hi), L->acc_base, c->N, c->M, c->act, c->fmt,
                    L->out_base, L->out_stride, L->bias_base, c->bias_post ? 1 : 0);
  }
  snprintf(prog + len, cap - len, "end\n");
}

/* Checks dev's outputs after the program ran to its end with status st:
 * ACC against the unsplit reference without post-processing, then (with
 * POST) OBUF or the PAL8 blocks in ABUF, the NAR_OUTPUTS counter and
 * STATUS.nar against the reference with the case's epilogue. */
static inline void gc_check_ref(uint64_t seed, pal_tile_device_t *dev, const gemm_case_t *c,
                                const gc_layout_t *L, pal_tile_status_t st, const char *label) {
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  if (c->init == PAL_ISA_INIT_BIAS) epi.bias = L->bias, epi.bias_mode = PAL_BIAS_START;
  float *ref = malloc(c->M * c->N * sizeof *ref);
  pal_gemm_ref(&L->A, &L->W, &epi, ref, c->N);
  gc_check_acc_ref(seed, dev, ref, c->M, c->N, L->acc_base, L->nt * L->P, label);

  if (c->post) {
    if (c->bias_post) epi.bias = L->bias, epi.bias_mode = PAL_BIAS_POST;
    epi.act = c->act == PAL_ISA_ACT_RELU ? PAL_ACT_RELU : c->act == PAL_ISA_ACT_CLIP ? PAL_ACT_CLIP : PAL_ACT_NONE;
    epi.clip_lo = L->clip_lo, epi.clip_hi = L->clip_hi;
    size_t nar_ref = pal_gemm_ref(&L->A, &L->W, &epi, ref, c->N);
    if (c->fmt == PAL_ISA_OUT_FP32) {
      uint32_t *got = malloc(c->N * sizeof *got);
      for (size_t m = 0; m < c->M; m++) {
        TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_OBUF, 0, L->out_base + m * L->out_stride,
                                         c->N, got));
        for (size_t n = 0; n < c->N; n++) {
          uint32_t want = isnan(ref[m * c->N + n]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[m * c->N + n]);
          PAL_TEST_CHECK(seed, got[n] == want, "%s: OBUF m=%zu n=%zu: tile %08x, ref %08x", label, m,
                         n, got[n], want);
        }
      }
      free(got);
    } else {
      size_t nb = (c->N + 31) / 32;
      for (size_t m = 0; m < c->M; m++)
        for (size_t j = 0; j < nb; j++) {
          uint8_t want[32], wscale, got[32], gscale;
          size_t n = c->N - j * 32 < 32 ? c->N - j * 32 : 32;
          pal_b32_encode_block(ref + m * c->N + j * 32, n, want, &wscale);
          size_t blk = L->out_base + m * L->out_stride + j;
          TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ABUF_CODES, 0, blk * 32, 32, got));
          TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ABUF_SCALES, 0, blk, 1, &gscale));
          PAL_TEST_CHECK(seed, gscale == wscale && !memcmp(got, want, 32),
                         "%s: PAL8 block m=%zu j=%zu differs from the reference (scale %u vs %u)",
                         label, m, j, gscale, wscale);
        }
    }
    pal_tile_counters_t ctr = tt_counters(seed, dev);
    PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == nar_ref && st.nar == (nar_ref != 0),
                   "%s: NAR_OUTPUTS %llu, STATUS.nar %d; ref %zu", label,
                   (unsigned long long)ctr.value[PAL_TILE_CTR_NAR_OUTPUTS], st.nar, nar_ref);
  }
  free(ref);
}

static inline void gc_release(gc_layout_t *L) {
  free(L->bias);
  pal_b32_matrix_release(&L->A);
  pal_b32_matrix_release(&L->W);
  L->bias = NULL;
}

/* ---- the sweeps both test suites run -------------------------------------
 * Each calls run(seed, rng, ctx, case, label) per case on one geometry
 * (rows x cols, for the label); ctx is the caller's device or pair. */
typedef void (*gc_run_fn)(uint64_t seed, pal_test_rng_t *rng, void *ctx, const gemm_case_t *c,
                          const char *label);

/* M, N not multiples of the array, K not a multiple of 32, K = 32, M or
 * N = 1. */
static inline size_t gc_shape(size_t s, gemm_case_t *c) {
  static const size_t shapes[][3] = {
      {1, 1, 32},  {1, 16, 64}, {3, 17, 33}, {5, 50, 100}, {7, 64, 256}, {2, 1, 300},
      {1, 100, 32}, {9, 15, 31}, {4, 33, 320}, {6, 65, 96}, {1, 7, 1},
  };
  const size_t n = sizeof shapes / sizeof shapes[0];
  if (c && s < n) c->M = shapes[s][0], c->N = shapes[s][1], c->K = shapes[s][2];
  return n;
}
#define GC_N_SHAPES gc_shape(0, NULL)

/* Every shape x activation sparsity 0/50/90/100 % (random elements, and
 * whole zero blocks in the 50 % class) with zero weights x the three init
 * modes (the third: a split K, the first GEMM's init random). Returns the
 * number of cases run (12 per shape). */
static inline int gc_sweep_shapes(uint64_t seed, pal_test_rng_t *rng, uint32_t rows, uint32_t cols,
                                  gc_run_fn run, void *ctx) {
  static const double sparsity[] = {0.0, 0.5, 0.9, 1.0};
  int cases = 0;
  for (size_t s = 0; s < GC_N_SHAPES; s++)
    for (size_t sp = 0; sp < 4; sp++)
      for (uint32_t init = 0; init < 3; init++) {
        gemm_case_t c = {0};
        gc_shape(s, &c);
        c.ga.zero_rate = sparsity[sp];
        c.ga.zero_block_rate = sp == 1 ? 0.3 : 0.0; /* whole zero blocks too */
        c.gw.zero_rate = sp == 2 ? 0.5 : 0.1;         /* zero weights */
        c.gw.zero_block_rate = sp == 3 ? 0.2 : 0.0;
        c.init = init == 2 ? pal_test_rng_below(rng, 2) : init;
        c.split = init == 2;
        char label[96];
        snprintf(label, sizeof label, "%ux%u M=%zu N=%zu K=%zu zeros=%.1f init=%u split=%d", rows,
                 cols, c.M, c.N, c.K, c.ga.zero_rate, c.init, c.split);
        run(seed, rng, ctx, &c, label);
        cases++;
      }
  return cases;
}

/* Every shape x NaR codes or scale 255, in activations or in weights, with
 * random init, split, bias and every epilogue after it. */
static inline void gc_sweep_nar(uint64_t seed, pal_test_rng_t *rng, uint32_t rows, uint32_t cols,
                                gc_run_fn run, void *ctx) {
  for (int variant = 0; variant < 4; variant++)
    for (size_t s = 0; s < GC_N_SHAPES; s++) {
      gemm_case_t c = {0};
      gc_shape(s, &c);
      c.ga.zero_rate = 0.6, c.ga.zero_block_rate = 0.3;
      c.gw.zero_rate = 0.3;
      double rate = 0.3 / (double)c.K; /* a few NaR per output on average */
      switch (variant) {
        case 0: c.ga.nar_code_rate = rate; break;
        case 1: c.ga.nar_scale_rate = 0.05; break;
        case 2: c.gw.nar_code_rate = rate; break;
        default: c.gw.nar_scale_rate = 0.05; break;
      }
      c.init = pal_test_rng_below(rng, 2);
      c.split = pal_test_rng_below(rng, 2);
      c.post = true;
      c.fmt = pal_test_rng_below(rng, 2);
      c.act = pal_test_rng_below(rng, 3);
      c.bias_post = c.init == PAL_ISA_INIT_ZERO && pal_test_rng_below(rng, 2);
      c.odd_bias = pal_test_rng_below(rng, 2);
      char label[96];
      snprintf(label, sizeof label, "NaR variant %d %ux%u M=%zu N=%zu K=%zu", variant, rows, cols,
               c.M, c.N, c.K);
      run(seed, rng, ctx, &c, label);
    }
}

/* Every POST variant (FP32 and PAL8 out, none/ReLU/clip, post-bias or bias
 * at the start, odd biases) over every other shape. */
static inline void gc_sweep_post(uint64_t seed, pal_test_rng_t *rng, uint32_t rows, uint32_t cols,
                                 gc_run_fn run, void *ctx) {
  for (uint32_t fmt = 0; fmt < 2; fmt++)
    for (uint32_t act = 0; act < 3; act++)
      for (int bp = 0; bp < 2; bp++)
        for (size_t s = 0; s < GC_N_SHAPES; s += 2) {
          gemm_case_t c = {0};
          gc_shape(s, &c);
          c.ga.zero_rate = 0.5, c.gw.zero_rate = 0.2;
          c.init = bp ? PAL_ISA_INIT_ZERO : PAL_ISA_INIT_BIAS;
          c.post = true, c.fmt = fmt, c.act = act, c.bias_post = bp;
          c.odd_bias = s % 4 == 0;
          char label[96];
          snprintf(label, sizeof label, "post fmt=%u act=%u bp=%d %ux%u M=%zu N=%zu K=%zu", fmt, act,
                   bp, rows, cols, c.M, c.N, c.K);
          run(seed, rng, ctx, &c, label);
        }
}

#endif /* TILE_GEMM_CASE_H */
