/* The emulator against the golden model, bit for bit: GEMM programs over
 * many shapes (M, N not multiples of P, ragged K, K = 32, M or N = 1),
 * sparsity, zero weights, NaR in activations and weights, the three init
 * modes (a K loop split across GEMMs equals the unsplit one), POST to FP32
 * and to PAL8-B32, and a chained two-layer program, on 4x4 and 8x8.
 * Programs are written as assembly text, so the assembler is in the loop. */
#include "tile_gemm_case.h"

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

/* Runs one case (tile_gemm_case.h) on dev and compares every output with
 * pal_gemm_ref. */
static void run_case(uint64_t seed, pal_test_rng_t *rng, pal_tile_device_t *dev,
                     const gemm_case_t *c, const char *label) {
  gc_layout_t L;
  gc_prepare(seed, rng, &dev, 1, c, label, &L);
  tt_load_asm(seed, dev, L.prog);
  pal_tile_status_t st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: stopped with error %s at pc %u\n%s",
                 label, pal_tile_error_name(st.error), st.err_pc, L.prog);
  gc_check_ref(seed, dev, c, &L, st, label);
  gc_release(&L);
}

static void run_on_dev(uint64_t seed, pal_test_rng_t *rng, void *dev, const gemm_case_t *c,
                       const char *label) {
  run_case(seed, rng, (pal_tile_device_t *)dev, c, label);
}

static void shapes_for_geometry(void **state, uint32_t rows, uint32_t cols, uint64_t salt) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + salt);
  pal_emu_t *emu = emu_square(state, seed, rows, cols);
  int cases = gc_sweep_shapes(seed, &rng, rows, cols, run_on_dev, pal_emu_device(emu));
  PAL_TEST_CHECK(seed, cases == (int)(GC_N_SHAPES * 12), "case count");
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
  for (uint32_t side = 4; side <= 8; side += 4) {
    pal_emu_t *emu = emu_square(state, seed, side, side);
    gc_sweep_nar(seed, &rng, side, side, run_on_dev, pal_emu_device(emu));
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
  gc_check_acc_ref(seed, dev, ref, 1, 16, 0, 16, "nar-facing-zero");
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
  gc_random_bias(&rng, bias, 32, false);
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
        gc_sub_blocks(seed, &W, cuts[ch], cuts[ch + 1], &Wc);
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
  gc_check_acc_ref(seed, dev, ref, M, N, 1000, nt * P, "split-k vs ref");
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  pal_emu_destroy(emu);
}

/* Every POST variant: act none/relu/clip, bias post, FP32 and PAL8 out. */
static void test_post_variants(void **state) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 500);
  for (uint32_t side = 4; side <= 8; side += 4) {
    pal_emu_t *emu = emu_square(state, seed, side, side);
    gc_sweep_post(seed, &rng, side, side, run_on_dev, pal_emu_device(emu));
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
      gc_random_bias(&rng, b1, nt1 * P, false);
      gc_random_bias(&rng, b2, nt2 * P, false);
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
  gc_check_acc_ref(seed, dev, ref, 256, 256, 0, 256, "every code pair");
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
