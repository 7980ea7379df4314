/* The emulator against the golden model, bit for bit: GEMM programs over
 * many shapes (M, N not multiples of P, ragged K, K = 32, M or N = 1),
 * sparsity, zero weights, NaR in activations and weights, the three init
 * modes (a K loop split across GEMMs equals the unsplit one), POST to FP32
 * and to PAL8-B32, and a chained two-layer program, on 4x4 and 8x8.
 * Programs are written as assembly text, so the assembler is in the loop. */
#include "tile_test_util.h"

/* Each test runs once per arithmetic path of the emulator (its state). */
static const pal_emu_arith_t kTable = PAL_EMU_ARITH_TABLE, kFastGemm = PAL_EMU_ARITH_FAST_GEMM;

static pal_emu_t *emu_create(void **state, uint64_t seed, const pal_tile_config_t *cfg) {
  pal_emu_options_t o;
  pal_emu_options_initialize(&o);
  o.arith = *(const pal_emu_arith_t *)*state;
  pal_emu_t *emu = NULL;
  TT_OK(seed, pal_emu_create_with_options(cfg, &o, &emu));
  return emu;
}

static pal_emu_t *emu_square(void **state, uint64_t seed, uint32_t rows, uint32_t cols) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, rows, cols);
  return emu_create(state, seed, &cfg);
}

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

/* Blocks [b0, b1) of every row of w. */
static void sub_blocks(uint64_t seed, const pal_b32_matrix_t *w, size_t b0, size_t b1,
                       pal_b32_matrix_t *out) {
  TT_OK(seed, pal_b32_matrix_create(w->rows, (b1 - b0) * 32, out));
  for (size_t r = 0; r < w->rows; r++) {
    memcpy(out->codes + r * out->kblocks * 32, w->codes + (r * w->kblocks + b0) * 32, (b1 - b0) * 32);
    memcpy(out->scales + r * out->kblocks, w->scales + r * w->kblocks + b0, b1 - b0);
  }
}

static void random_bias(pal_test_rng_t *rng, float *bias, size_t n, bool odd) {
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

/* Checks row-major reference outputs (M x N, NaN = NaR) against ACC words
 * acc_base + m*acc_stride + n. */
static void check_acc(uint64_t seed, pal_tile_device_t *dev, const float *ref, size_t M, size_t N,
                      uint32_t acc_base, size_t acc_stride, const char *label) {
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < N; n++) {
      bool nar;
      float v = tt_read_acc(seed, dev, (uint32_t)(acc_base + m * acc_stride + n), &nar);
      float r = ref[m * N + n];
      PAL_TEST_CHECK(seed, tt_same(v, nar, r), "%s: ACC m=%zu n=%zu: tile %08x nar %d, ref %08x",
                     label, m, n, tt_f2u(v), nar, tt_f2u(r));
    }
}

/* Runs one case on dev and compares every output with pal_gemm_ref. */
static void run_case(uint64_t seed, pal_test_rng_t *rng, pal_tile_device_t *dev,
                     const gemm_case_t *c, const char *label) {
  const pal_tile_config_t *cfg = &dev->config;
  const uint32_t P = pal_tile_config_pes(cfg);
  const size_t kb = (c->K + 31) / 32, nt = (c->N + P - 1) / P;
  pal_b32_matrix_t A, W;
  tt_random_matrix(seed, rng, c->M, c->K, &c->ga, &A);
  tt_random_matrix(seed, rng, c->N, c->K, &c->gw, &W);
  float *bias = malloc(nt * P * sizeof *bias);
  random_bias(rng, bias, nt * P, c->odd_bias);

  uint32_t a_stride = (uint32_t)(kb + pal_test_rng_below(rng, 3));
  uint32_t a_base = pal_test_rng_below(rng, 8);
  uint32_t w_base = pal_test_rng_below(rng, 8);
  uint32_t acc_base = pal_test_rng_below(rng, 16);
  uint32_t bias_base = pal_test_rng_below(rng, 16);
  size_t a_end = a_base + (c->M - 1) * a_stride + kb;
  PAL_TEST_CHECK(seed, a_end <= cfg->abuf_blocks && w_base + nt * kb <= cfg->wmem_blocks &&
                           acc_base + c->M * nt * P <= cfg->acc_depth &&
                           bias_base + nt * P <= cfg->bias_depth,
                 "%s: case does not fit the tile (test bug)", label);
  tt_write_act(seed, dev, &A, a_base, a_stride);
  tt_write_bias(seed, dev, bias, nt * P, bias_base);

  char prog[1024];
  int len = 0;
  const char *init_name = c->init == PAL_ISA_INIT_BIAS ? "bias" : "zero";
  size_t kb1 = kb;
  if (c->split && kb >= 2) {
    kb1 = 1 + pal_test_rng_below(rng, (uint32_t)kb - 1);
    pal_b32_matrix_t W1, W2;
    sub_blocks(seed, &W, 0, kb1, &W1);
    sub_blocks(seed, &W, kb1, kb, &W2);
    uint32_t w_base2 = (uint32_t)(w_base + nt * kb1);
    tt_write_weights(seed, dev, &W1, w_base);
    tt_write_weights(seed, dev, &W2, w_base2);
    pal_b32_matrix_release(&W1);
    pal_b32_matrix_release(&W2);
    len += snprintf(prog + len, sizeof prog - len,
                    "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=%s bias=%u\n"
                    "gemm a=%zu as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=acc\n",
                    a_base, a_stride, c->M, kb1, w_base, nt, acc_base, init_name, bias_base,
                    a_base + kb1, a_stride, c->M, kb - kb1, w_base2, nt, acc_base);
  } else {
    tt_write_weights(seed, dev, &W, w_base);
    len += snprintf(prog + len, sizeof prog - len,
                    "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=%s bias=%u\n", a_base,
                    a_stride, c->M, kb, w_base, nt, acc_base, init_name, bias_base);
  }

  float clip_lo = -(float)fabs(pal_test_rng_gauss(rng)), clip_hi = (float)fabs(pal_test_rng_gauss(rng));
  uint32_t out_base = 0, out_stride = 0;
  if (c->post) {
    if (c->fmt == PAL_ISA_OUT_PAL8) {
      out_stride = (uint32_t)((c->N + 31) / 32 + pal_test_rng_below(rng, 2));
      out_base = (uint32_t)(a_end + pal_test_rng_below(rng, 4));
      PAL_TEST_CHECK(seed, out_base + (c->M - 1) * out_stride + (c->N + 31) / 32 <= cfg->abuf_blocks,
                     "%s: PAL8 output does not fit (test bug)", label);
    } else {
      out_stride = (uint32_t)(c->N + pal_test_rng_below(rng, 3));
      out_base = pal_test_rng_below(rng, 32);
    }
    len += snprintf(prog + len, sizeof prog - len,
                    "setr reg=clip_lo value=0x%08x\nsetr reg=clip_hi value=0x%08x\n"
                    "post acc=%u n=%zu m=%zu act=%u fmt=%u out=%u os=%u bias=%u bp=%d\n",
                    tt_f2u(clip_lo), tt_f2u(clip_hi), acc_base, c->N, c->M, c->act, c->fmt,
                    out_base, out_stride, bias_base, c->bias_post ? 1 : 0);
  }
  snprintf(prog + len, sizeof prog - len, "end\n");
  tt_load_asm(seed, dev, prog);
  pal_tile_status_t st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: stopped with error %s at pc %u\n%s",
                 label, pal_tile_error_name(st.error), st.err_pc, prog);

  /* ACC against the unsplit reference without post-processing */
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  if (c->init == PAL_ISA_INIT_BIAS) epi.bias = bias, epi.bias_mode = PAL_BIAS_START;
  float *ref = malloc(c->M * c->N * sizeof *ref);
  pal_gemm_ref(&A, &W, &epi, ref, c->N);
  check_acc(seed, dev, ref, c->M, c->N, acc_base, nt * P, label);

  if (c->post) {
    if (c->bias_post) epi.bias = bias, epi.bias_mode = PAL_BIAS_POST;
    epi.act = c->act == PAL_ISA_ACT_RELU ? PAL_ACT_RELU : c->act == PAL_ISA_ACT_CLIP ? PAL_ACT_CLIP : PAL_ACT_NONE;
    epi.clip_lo = clip_lo, epi.clip_hi = clip_hi;
    size_t nar_ref = pal_gemm_ref(&A, &W, &epi, ref, c->N);
    if (c->fmt == PAL_ISA_OUT_FP32) {
      for (size_t m = 0; m < c->M; m++)
        for (size_t n = 0; n < c->N; n++) {
          uint32_t got;
          TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_OBUF, 0, out_base + m * out_stride + n, 1, &got));
          uint32_t want = isnan(ref[m * c->N + n]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[m * c->N + n]);
          PAL_TEST_CHECK(seed, got == want, "%s: OBUF m=%zu n=%zu: %08x, ref %08x", label, m, n, got, want);
        }
    } else {
      size_t nb = (c->N + 31) / 32;
      for (size_t m = 0; m < c->M; m++)
        for (size_t j = 0; j < nb; j++) {
          uint8_t want[32], wscale, got[32], gscale;
          size_t n = c->N - j * 32 < 32 ? c->N - j * 32 : 32;
          pal_b32_encode_block(ref + m * c->N + j * 32, n, want, &wscale);
          size_t blk = out_base + m * out_stride + j;
          TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ABUF_CODES, 0, blk * 32, 32, got));
          TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ABUF_SCALES, 0, blk, 1, &gscale));
          PAL_TEST_CHECK(seed, gscale == wscale && !memcmp(got, want, 32),
                         "%s: PAL8 block m=%zu j=%zu differs (scale %u vs %u)", label, m, j, gscale, wscale);
        }
    }
    pal_tile_counters_t ctr = tt_counters(seed, dev);
    PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == nar_ref && st.nar == (nar_ref != 0),
                   "%s: NAR_OUTPUTS %llu, STATUS.nar %d; ref %zu", label,
                   (unsigned long long)ctr.value[PAL_TILE_CTR_NAR_OUTPUTS], st.nar, nar_ref);
  }
  free(ref);
  free(bias);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
}

static const size_t kShapes[][3] = {
    {1, 1, 32},  {1, 16, 64}, {3, 17, 33}, {5, 50, 100}, {7, 64, 256}, {2, 1, 300},
    {1, 100, 32}, {9, 15, 31}, {4, 33, 320}, {6, 65, 96}, {1, 7, 1},
};
#define N_SHAPES (sizeof kShapes / sizeof kShapes[0])

static const double kSparsity[] = {0.0, 0.5, 0.9, 1.0};

static void shapes_for_geometry(void **state, uint32_t rows, uint32_t cols, uint64_t salt) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + salt);
  pal_emu_t *emu = emu_square(state, seed, rows, cols);
  pal_tile_device_t *dev = pal_emu_device(emu);
  int cases = 0;
  for (size_t s = 0; s < N_SHAPES; s++)
    for (size_t sp = 0; sp < 4; sp++)
      for (uint32_t init = 0; init < 3; init++) {
        gemm_case_t c = {0};
        c.M = kShapes[s][0], c.N = kShapes[s][1], c.K = kShapes[s][2];
        c.ga.zero_rate = kSparsity[sp];
        c.ga.zero_block_rate = sp == 1 ? 0.3 : 0.0; /* whole zero blocks too */
        c.gw.zero_rate = sp == 2 ? 0.5 : 0.1;         /* zero weights */
        c.gw.zero_block_rate = sp == 3 ? 0.2 : 0.0;
        c.init = init == 2 ? pal_test_rng_below(&rng, 2) : init;
        c.split = init == 2;
        char label[96];
        snprintf(label, sizeof label, "%ux%u M=%zu N=%zu K=%zu zeros=%.1f init=%u split=%d", rows,
                 cols, c.M, c.N, c.K, c.ga.zero_rate, c.init, c.split);
        run_case(seed, &rng, dev, &c, label);
        cases++;
      }
  PAL_TEST_CHECK(seed, cases == (int)(N_SHAPES * 12), "case count");
  pal_emu_destroy(emu);
}

static void test_shapes_sparsity_4x4(void **state) {
  shapes_for_geometry(state, 4, 4, 100);
}
static void test_shapes_sparsity_8x8(void **state) {
  shapes_for_geometry(state, 8, 8, 200);
}

/* NaR codes and scale 255 in activations and in weights. */
static void test_nar_everywhere(void **state) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 300);
  for (int geo = 0; geo < 2; geo++) {
    pal_emu_t *emu = emu_square(state, seed, geo ? 8 : 4, geo ? 8 : 4);
    pal_tile_device_t *dev = pal_emu_device(emu);
    for (int variant = 0; variant < 4; variant++)
      for (size_t s = 0; s < N_SHAPES; s++) {
        gemm_case_t c = {0};
        c.M = kShapes[s][0], c.N = kShapes[s][1], c.K = kShapes[s][2];
        c.ga.zero_rate = 0.6, c.ga.zero_block_rate = 0.3;
        c.gw.zero_rate = 0.3;
        double rate = 0.3 / (double)c.K; /* a few NaR per output on average */
        switch (variant) {
          case 0: c.ga.nar_code_rate = rate; break;
          case 1: c.ga.nar_scale_rate = 0.05; break;
          case 2: c.gw.nar_code_rate = rate; break;
          default: c.gw.nar_scale_rate = 0.05; break;
        }
        c.init = pal_test_rng_below(&rng, 2);
        c.split = pal_test_rng_below(&rng, 2);
        c.post = true;
        c.fmt = pal_test_rng_below(&rng, 2);
        c.act = pal_test_rng_below(&rng, 3);
        c.bias_post = c.init == PAL_ISA_INIT_ZERO && pal_test_rng_below(&rng, 2);
        c.odd_bias = pal_test_rng_below(&rng, 2);
        char label[96];
        snprintf(label, sizeof label, "NaR variant %d geo %d M=%zu N=%zu K=%zu", variant, geo, c.M,
                 c.N, c.K);
        run_case(seed, &rng, dev, &c, label);
      }
    pal_emu_destroy(emu);
  }
}

/* A NaR weight facing only zero activations (the walk would skip them)
 * still makes the output NaR; a scale-255 weight block facing a zero
 * activation block too; other columns are unaffected. */
static void test_nar_weight_facing_zeros(void **state) {
  uint64_t seed = pal_test_seed();
  pal_emu_t *emu = emu_square(state, seed, 4, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  pal_b32_matrix_t A, W;
  TT_OK(seed, pal_b32_matrix_create(1, 96, &A));
  TT_OK(seed, pal_b32_matrix_create(16, 96, &W));
  /* activations: block 0 has codes only at even positions, block 1 all
   * zero, block 2 dense */
  for (int i = 0; i < 32; i++) A.codes[i] = (i % 2 == 0) ? 0x70 : 0;
  for (int i = 64; i < 96; i++) A.codes[i] = 0x60 | (uint8_t)(i & 7);
  A.scales[0] = A.scales[1] = A.scales[2] = 127;
  for (int n = 0; n < 16; n++)
    for (int i = 0; i < 96; i++) W.codes[n * 96 + i] = 0x50, W.scales[n * 3 + i / 32] = 120;
  W.codes[3 * 96 + 5] = PAL_CODE8_NAR;  /* col 3: NaR at an odd (zero) activation of block 0 */
  W.codes[7 * 96 + 40] = PAL_CODE8_NAR; /* col 7: NaR in the all-zero block 1 */
  W.scales[11 * 3 + 1] = PAL_SCALE_NAR; /* col 11: NaR scale on the all-zero block 1 */
  tt_write_act(seed, dev, &A, 0, 3);
  tt_write_weights(seed, dev, &W, 0);
  tt_load_asm(seed, dev, "gemm a=0 as=3 m=1 k=3 w=0 nt=1 acc=0 init=zero\n"
                         "post acc=0 n=16 m=1 fmt=fp32 out=0 os=16\nend\n");
  pal_tile_status_t st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.done && st.nar, "done with STATUS.nar");
  float ref[16];
  size_t nars = pal_gemm_ref(&A, &W, NULL, ref, 16);
  PAL_TEST_CHECK(seed, nars == 3 && isnan(ref[3]) && isnan(ref[7]) && isnan(ref[11]),
                 "the reference sees 3 NaR outputs");
  check_acc(seed, dev, ref, 1, 16, 0, 16, "nar-facing-zero");
  for (int n = 0; n < 16; n++) {
    uint32_t got;
    TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_OBUF, 0, (uint64_t)n, 1, &got));
    PAL_TEST_CHECK(seed, got == (isnan(ref[n]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[n])), "OBUF %d", n);
  }
  pal_tile_counters_t ctr = tt_counters(seed, dev);
  PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == 3, "NAR_OUTPUTS = 3");
  /* the walk visits the all-zero block 1 for its NaR weights: 1 step */
  PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_BUSY] == 16 + 1 + 32 &&
                           ctr.value[PAL_TILE_CTR_BLOCKS_SKIPPED] == 0,
                 "busy %llu, skipped %llu", (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_BUSY],
                 (unsigned long long)ctr.value[PAL_TILE_CTR_BLOCKS_SKIPPED]);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  pal_emu_destroy(emu);
}

/* K split across GEMMs (init=acc) equals the unsplit GEMM bit for bit,
 * ACC words and NaR flags both, for every split point. */
static void test_split_k_equals_unsplit(void **state) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 400);
  pal_emu_t *emu = emu_square(state, seed, 4, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  const size_t M = 3, N = 20, K = 6 * 32 - 5, kb = 6, nt = 2, P = 16;
  tt_gen_t ga = {0.5, 0.2, 0.002, 0.0}, gw = {0.2, 0.0, 0.0, 0.01};
  pal_b32_matrix_t A, W;
  tt_random_matrix(seed, &rng, M, K, &ga, &A);
  tt_random_matrix(seed, &rng, N, K, &gw, &W);
  float bias[32];
  random_bias(&rng, bias, 32, false);
  tt_write_act(seed, dev, &A, 0, kb);
  tt_write_bias(seed, dev, bias, 32, 0);
  tt_write_weights(seed, dev, &W, 0);
  char prog[512];
  snprintf(prog, sizeof prog, "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=bias bias=0\nend\n",
           kb, M, kb, nt);
  tt_load_asm(seed, dev, prog);
  tt_run(seed, dev, 0);
  uint32_t whole[M * 32];
  uint8_t whole_nar[M * 32];
  TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC, 0, 0, M * nt * P, whole));
  TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC_NAR, 0, 0, M * nt * P, whole_nar));
  for (size_t split = 1; split < kb; split++)
    for (int three = 0; three < 2; three++) {
      /* chunks [0,split) and [split,kb), or three chunks [0,1), [1,split), [split,kb) */
      size_t cuts[4] = {0, split, kb, kb}, nchunks = 2;
      if (three && split > 1) cuts[1] = 1, cuts[2] = split, cuts[3] = kb, nchunks = 3;
      int len = 0;
      uint32_t wb = 100;
      for (size_t ch = 0; ch < nchunks; ch++) {
        pal_b32_matrix_t Wc;
        sub_blocks(seed, &W, cuts[ch], cuts[ch + 1], &Wc);
        tt_write_weights(seed, dev, &Wc, wb);
        len += snprintf(prog + len, sizeof prog - len,
                        "gemm a=%zu as=%zu m=%zu k=%zu w=%u nt=%zu acc=1000 init=%s bias=0\n",
                        cuts[ch], kb, M, cuts[ch + 1] - cuts[ch], wb, nt, ch ? "acc" : "bias");
        wb += (uint32_t)(nt * (cuts[ch + 1] - cuts[ch]));
        pal_b32_matrix_release(&Wc);
      }
      snprintf(prog + len, sizeof prog - len, "end\n");
      tt_load_asm(seed, dev, prog);
      pal_tile_status_t st = tt_run(seed, dev, 0);
      PAL_TEST_CHECK(seed, st.done, "split %zu", split);
      uint32_t got[M * 32];
      uint8_t got_nar[M * 32];
      TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC, 0, 1000, M * nt * P, got));
      TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC_NAR, 0, 1000, M * nt * P, got_nar));
      for (size_t i = 0; i < M * nt * P; i++)
        PAL_TEST_CHECK(seed, got[i] == whole[i] && got_nar[i] == whole_nar[i],
                       "split at %zu (%zu chunks), word %zu: %08x/%u vs %08x/%u", split, nchunks, i,
                       got[i], got_nar[i], whole[i], whole_nar[i]);
    }
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  epi.bias = bias;
  float ref[M * N];
  pal_gemm_ref(&A, &W, &epi, ref, N);
  check_acc(seed, dev, ref, M, N, 1000, nt * P, "split-k vs ref");
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  pal_emu_destroy(emu);
}

/* Every POST variant: act none/relu/clip, bias post, FP32 and PAL8 out. */
static void test_post_variants(void **state) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 500);
  for (int geo = 0; geo < 2; geo++) {
    pal_emu_t *emu = emu_square(state, seed, geo ? 8 : 4, geo ? 8 : 4);
    pal_tile_device_t *dev = pal_emu_device(emu);
    for (uint32_t fmt = 0; fmt < 2; fmt++)
      for (uint32_t act = 0; act < 3; act++)
        for (int bp = 0; bp < 2; bp++)
          for (size_t s = 0; s < N_SHAPES; s += 2) {
            gemm_case_t c = {0};
            c.M = kShapes[s][0], c.N = kShapes[s][1], c.K = kShapes[s][2];
            c.ga.zero_rate = 0.5, c.gw.zero_rate = 0.2;
            c.init = bp ? PAL_ISA_INIT_ZERO : PAL_ISA_INIT_BIAS;
            c.post = true, c.fmt = fmt, c.act = act, c.bias_post = bp;
            c.odd_bias = s % 4 == 0;
            char label[96];
            snprintf(label, sizeof label, "post fmt=%u act=%u bp=%d geo %d M=%zu N=%zu K=%zu", fmt,
                     act, bp, geo, c.M, c.N, c.K);
            run_case(seed, &rng, dev, &c, label);
          }
    pal_emu_destroy(emu);
  }
}

/* Layer 1 writes PAL8-B32 to ABUF, layer 2 reads it as activations. */
static void test_chained_two_layers(void **state) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 600);
  for (int geo = 0; geo < 2; geo++)
    for (int rep = 0; rep < 4; rep++) {
      uint32_t R = geo ? 8 : 4;
      pal_emu_t *emu = emu_square(state, seed, R, R);
      pal_tile_device_t *dev = pal_emu_device(emu);
      const size_t P = (size_t)R * R;
      size_t M = 1 + pal_test_rng_below(&rng, 4), K1 = 20 + pal_test_rng_below(&rng, 200);
      size_t N1 = 1 + pal_test_rng_below(&rng, 90), N2 = 1 + pal_test_rng_below(&rng, 40);
      size_t kb1 = (K1 + 31) / 32, nt1 = (N1 + P - 1) / P, kb2 = (N1 + 31) / 32,
             nt2 = (N2 + P - 1) / P;
      tt_gen_t ga = {0.3, 0.1, 0, 0}, gw = {0.1, 0, rep == 3 ? 0.002 : 0, 0};
      pal_b32_matrix_t A1, W1, W2, A2;
      tt_random_matrix(seed, &rng, M, K1, &ga, &A1);
      tt_random_matrix(seed, &rng, N1, K1, &gw, &W1);
      tt_random_matrix(seed, &rng, N2, N1, &gw, &W2);
      float *b1 = malloc(nt1 * P * sizeof(float)), *b2 = malloc(nt2 * P * sizeof(float));
      random_bias(&rng, b1, nt1 * P, false);
      random_bias(&rng, b2, nt2 * P, false);
      uint32_t w2_base = (uint32_t)(nt1 * kb1), h_base = (uint32_t)(M * kb1 + 3),
               h_stride = (uint32_t)kb2 + (rep & 1), bias2 = 512, acc2 = 2048;
      tt_write_act(seed, dev, &A1, 0, (uint32_t)kb1);
      tt_write_weights(seed, dev, &W1, 0);
      tt_write_weights(seed, dev, &W2, w2_base);
      tt_write_bias(seed, dev, b1, nt1 * P, 0);
      tt_write_bias(seed, dev, b2, nt2 * P, bias2);
      char prog[1024];
      snprintf(prog, sizeof prog,
               "# layer 1: relu(A1 W1 + b1) -> ABUF as PAL8-B32\n"
               "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=bias bias=0\n"
               "post acc=0 n=%zu m=%zu act=relu fmt=pal8 out=%u os=%u\n"
               "sync\n"
               "# layer 2 reads it\n"
               "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=bias bias=%u\n"
               "post acc=%u n=%zu m=%zu act=none fmt=fp32 out=0 os=%zu\n"
               "end\n",
               kb1, M, kb1, nt1, N1, M, h_base, h_stride, h_base, h_stride, M, kb2, w2_base, nt2,
               acc2, bias2, acc2, N2, M, N2);
      tt_load_asm(seed, dev, prog);
      pal_tile_status_t st = tt_run(seed, dev, 0);
      PAL_TEST_CHECK(seed, st.done && !st.error, "chained: error %u at %u", st.error, st.err_pc);

      pal_epilogue_t e1, e2;
      pal_epilogue_initialize(&e1);
      e1.bias = b1, e1.act = PAL_ACT_RELU;
      pal_epilogue_initialize(&e2);
      e2.bias = b2;
      float *h = malloc(M * N1 * sizeof(float)), *y = malloc(M * N2 * sizeof(float));
      size_t nars1 = pal_gemm_ref(&A1, &W1, &e1, h, N1);
      TT_OK(seed, pal_b32_matrix_create(M, N1, &A2));
      pal_b32_matrix_encode(h, N1, &A2);
      for (size_t m = 0; m < M; m++) {
        uint8_t got[32 * 8], gs[8];
        TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ABUF_CODES, 0,
                                         (h_base + m * h_stride) * 32, kb2 * 32, got));
        TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ABUF_SCALES, 0, h_base + m * h_stride,
                                         kb2, gs));
        PAL_TEST_CHECK(seed, !memcmp(got, A2.codes + m * kb2 * 32, kb2 * 32) &&
                                 !memcmp(gs, A2.scales + m * kb2, kb2),
                       "chained geo %d rep %d: hidden row %zu differs from the encoded reference",
                       geo, rep, m);
      }
      size_t nars = pal_gemm_ref(&A2, &W2, &e2, y, N2);
      for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N2; n++) {
          uint32_t got;
          TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_OBUF, 0, m * N2 + n, 1, &got));
          uint32_t want = isnan(y[m * N2 + n]) ? PAL_TILE_FP32_NAR : tt_f2u(y[m * N2 + n]);
          PAL_TEST_CHECK(seed, got == want, "chained geo %d rep %d: y[%zu][%zu] %08x want %08x", geo,
                         rep, m, n, got, want);
        }
      pal_tile_counters_t ctr = tt_counters(seed, dev);
      PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == nars1 + nars &&
                               st.nar == (nars1 + nars != 0),
                     "chained geo %d rep %d: NAR_OUTPUTS %llu, want %zu + %zu", geo, rep,
                     (unsigned long long)ctr.value[PAL_TILE_CTR_NAR_OUTPUTS], nars1, nars);
      free(h), free(y), free(b1), free(b2);
      pal_b32_matrix_release(&A1), pal_b32_matrix_release(&W1);
      pal_b32_matrix_release(&W2), pal_b32_matrix_release(&A2);
      pal_emu_destroy(emu);
    }
}

/* Every (weight, activation) code pair once, each at its own position of
 * the block, against pal_gemm_ref: the product of §3 for all 65536 pairs,
 * signs, zeros and NaR included. */
static void test_every_code_pair(void **state) {
  uint64_t seed = pal_test_seed();
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 8, 8);
  cfg.acc_depth = 65536;
  pal_emu_t *emu;
  emu = emu_create(state, seed, &cfg);
  pal_tile_device_t *dev = pal_emu_device(emu);
  pal_b32_matrix_t A, W;
  TT_OK(seed, pal_b32_matrix_create(256, 32, &A));
  TT_OK(seed, pal_b32_matrix_create(256, 32, &W));
  for (int c = 0; c < 256; c++) {
    A.codes[c * 32 + c % 32] = (uint8_t)c; /* activation code c at position c % 32 */
    A.scales[c] = (uint8_t)(120 + c % 9);
    for (int i = 0; i < 32; i++) W.codes[c * 32 + i] = (uint8_t)c; /* weight code c everywhere */
    W.scales[c] = (uint8_t)(125 + c % 5);
  }
  tt_write_act(seed, dev, &A, 0, 1);
  tt_write_weights(seed, dev, &W, 0);
  tt_load_asm(seed, dev, "gemm a=0 as=1 m=256 k=1 w=0 nt=4 acc=0\nend\n");
  pal_tile_status_t st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.done, "ran");
  float *ref = malloc(256 * 256 * sizeof *ref);
  pal_gemm_ref(&A, &W, NULL, ref, 256);
  check_acc(seed, dev, ref, 256, 256, 0, 256, "every code pair");
  free(ref);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  pal_emu_destroy(emu);
}

#define PATH_TEST(f, path) \
  { #f "[" #path "]", f, NULL, NULL, (void *)(path == table ? &kTable : &kFastGemm) }
enum { table, fast_gemm };

int main(void) {
  const struct CMUnitTest tests[] = {
      PATH_TEST(test_every_code_pair, table),
      PATH_TEST(test_shapes_sparsity_4x4, table),
      PATH_TEST(test_shapes_sparsity_8x8, table),
      PATH_TEST(test_nar_everywhere, table),
      PATH_TEST(test_nar_weight_facing_zeros, table),
      PATH_TEST(test_split_k_equals_unsplit, table),
      PATH_TEST(test_post_variants, table),
      PATH_TEST(test_chained_two_layers, table),
      PATH_TEST(test_every_code_pair, fast_gemm),
      PATH_TEST(test_shapes_sparsity_4x4, fast_gemm),
      PATH_TEST(test_shapes_sparsity_8x8, fast_gemm),
      PATH_TEST(test_nar_everywhere, fast_gemm),
      PATH_TEST(test_nar_weight_facing_zeros, fast_gemm),
      PATH_TEST(test_split_k_equals_unsplit, fast_gemm),
      PATH_TEST(test_post_variants, fast_gemm),
      PATH_TEST(test_chained_two_layers, fast_gemm),
  };
  return cmocka_run_group_tests_name("tile_emu", tests, NULL, NULL);
}
