/* The RTL tile against the emulator and the golden model, bit for bit and
 * cycle for cycle, on GEMMs: many shapes (M, N not multiples of the array,
 * K not a multiple of 32, K = 32, M or N = 1), activation sparsity
 * 0/50/90/100 % (random elements and whole zero blocks), zero weights, the
 * three init modes (a split K equals the unsplit GEMM), NaR in activations
 * and weights (also NaR weights facing skipped zeros), on 4x4 and 8x8. */
#include "sim_gemm_case.h"

static void shapes_for_geometry(uint32_t rows, uint32_t cols, uint64_t salt) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + salt);
  st_pair_t pair;
  st_pair_create(seed, rows, cols, &pair);
  int cases = gc_sweep_shapes(seed, &rng, rows, cols, gc_run_on_pair, &pair);
  PAL_TEST_CHECK(seed, cases == (int)(GC_N_SHAPES * 12), "case count");
  st_pair_destroy(&pair);
}

static void test_shapes_sparsity_4x4(void **state) {
  (void)state;
  shapes_for_geometry(4, 4, 100);
}
static void test_shapes_sparsity_8x8(void **state) {
  (void)state;
  shapes_for_geometry(8, 8, 200);
}

/* NaR codes and scale 255 in activations and in weights, with bias and
 * every epilogue after it. */
static void test_nar_everywhere(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 300);
  for (uint32_t side = 4; side <= 8; side += 4) {
    st_pair_t pair;
    st_pair_create(seed, side, side, &pair);
    gc_sweep_nar(seed, &rng, side, side, gc_run_on_pair, &pair);
    st_pair_destroy(&pair);
  }
}

/* A NaR weight facing only zero activations (the walk skips them
 * otherwise), a scale-255 weight block facing a zero block: NaR outputs,
 * the blocks visited for 1 step each, the other columns unaffected. Then
 * the NaR weights are overwritten: the walk forgets them again. */
static void test_nar_weight_facing_zeros(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  pal_b32_matrix_t A, W;
  TT_OK(seed, pal_b32_matrix_create(1, 96, &A));
  TT_OK(seed, pal_b32_matrix_create(16, 96, &W));
  for (int i = 0; i < 32; i++) A.codes[i] = (i % 2 == 0) ? 0x70 : 0;
  for (int i = 64; i < 96; i++) A.codes[i] = 0x60 | (uint8_t)(i & 7);
  A.scales[0] = A.scales[1] = A.scales[2] = 127;
  for (int n = 0; n < 16; n++)
    for (int i = 0; i < 96; i++) W.codes[n * 96 + i] = 0x50, W.scales[n * 3 + i / 32] = 120;
  W.codes[3 * 96 + 5] = PAL_CODE8_NAR;
  W.codes[7 * 96 + 40] = PAL_CODE8_NAR;
  W.scales[11 * 3 + 1] = PAL_SCALE_NAR;
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair.dev[d], &A, 0, 3);
    tt_write_weights(seed, pair.dev[d], &W, 0);
  }
  const char *prog = "gemm a=0 as=3 m=1 k=3 w=0 nt=1 acc=0 init=zero\n"
                     "post acc=0 n=16 m=1 fmt=fp32 out=0 os=16\nend\n";
  st_load_asm(seed, &pair, prog);
  pal_tile_status_t st = st_run(seed, &pair, 0, "nar-facing-zero");
  PAL_TEST_CHECK(seed, st.done && st.nar, "done with STATUS.nar");
  float ref[16];
  size_t nars = pal_gemm_ref(&A, &W, NULL, ref, 16);
  PAL_TEST_CHECK(seed, nars == 3, "the reference sees 3 NaR outputs");
  gc_check_acc_ref(seed, pair.dev[ST_RTL], ref, 1, 16, 0, 16, "nar-facing-zero");
  st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, 0, 16, "nar-facing-zero");
  pal_tile_counters_t ctr = tt_counters(seed, pair.dev[ST_RTL]);
  PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_BUSY] == 16 + 1 + 32 &&
                           ctr.value[PAL_TILE_CTR_BLOCKS_SKIPPED] == 0 &&
                           ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == 3,
                 "busy %llu, skipped %llu", (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_BUSY],
                 (unsigned long long)ctr.value[PAL_TILE_CTR_BLOCKS_SKIPPED]);
  /* clear the NaR code of column 7 (block 1 of PE 7) and the scale of
   * column 11: block 1 still has column 3's... no, column 3's NaR is in
   * block 0; so block 1 is skipped again */
  uint8_t code = 0x50, scale = 120;
  st_write(seed, &pair, PAL_TILE_REGION_WMEM_CODES, 7, 40, 1, &code);
  st_write(seed, &pair, PAL_TILE_REGION_WMEM_SCALES, 11, 1, 1, &scale);
  st = st_run(seed, &pair, 0, "nar-cleared");
  ctr = tt_counters(seed, pair.dev[ST_RTL]);
  PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_BUSY] == 16 + 32 &&
                           ctr.value[PAL_TILE_CTR_BLOCKS_SKIPPED] == 1 &&
                           ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == 1,
                 "after clearing: busy %llu, skipped %llu, nar %llu",
                 (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_BUSY],
                 (unsigned long long)ctr.value[PAL_TILE_CTR_BLOCKS_SKIPPED],
                 (unsigned long long)ctr.value[PAL_TILE_CTR_NAR_OUTPUTS]);
  st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, 0, 16, "nar-cleared");
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  st_pair_destroy(&pair);
}

/* K split across two or three GEMMs (init=acc) equals the unsplit GEMM on
 * the RTL, word and NaR flag, for every split point. */
static void test_split_k_equals_unsplit(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 400);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  const size_t M = 3, N = 20, K = 6 * 32 - 5, kb = 6, nt = 2, P = 16;
  tt_gen_t ga = {0.5, 0.2, 0.002, 0.0}, gw = {0.2, 0.0, 0.0, 0.01};
  pal_b32_matrix_t A, W;
  tt_random_matrix(seed, &rng, M, K, &ga, &A);
  tt_random_matrix(seed, &rng, N, K, &gw, &W);
  float bias[32];
  gc_random_bias(&rng, bias, 32, false);
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair.dev[d], &A, 0, kb);
    tt_write_bias(seed, pair.dev[d], bias, 32, 0);
    tt_write_weights(seed, pair.dev[d], &W, 0);
  }
  char prog[512];
  snprintf(prog, sizeof prog, "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=bias bias=0\nend\n",
           kb, M, kb, nt);
  st_load_asm(seed, &pair, prog);
  st_run(seed, &pair, 0, "unsplit");
  uint32_t whole[M * 32];
  uint8_t whole_nar[M * 32];
  TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_ACC, 0, 0, M * nt * P, whole));
  TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_ACC_NAR, 0, 0, M * nt * P, whole_nar));
  for (size_t split = 1; split < kb; split++)
    for (int three = 0; three < 2; three++) {
      size_t cuts[4] = {0, split, kb, kb}, nchunks = 2;
      if (three && split > 1) cuts[1] = 1, cuts[2] = split, cuts[3] = kb, nchunks = 3;
      int len = 0;
      uint32_t wb = 100;
      for (size_t ch = 0; ch < nchunks; ch++) {
        pal_b32_matrix_t Wc;
        gc_sub_blocks(seed, &W, cuts[ch], cuts[ch + 1], &Wc);
        for (int d = 0; d < 2; d++) tt_write_weights(seed, pair.dev[d], &Wc, wb);
        len += snprintf(prog + len, sizeof prog - len,
                        "gemm a=%zu as=%zu m=%zu k=%zu w=%u nt=%zu acc=1000 init=%s bias=0\n",
                        cuts[ch], kb, M, cuts[ch + 1] - cuts[ch], wb, nt, ch ? "acc" : "bias");
        wb += (uint32_t)(nt * (cuts[ch + 1] - cuts[ch]));
        pal_b32_matrix_release(&Wc);
      }
      snprintf(prog + len, sizeof prog - len, "end\n");
      st_load_asm(seed, &pair, prog);
      char label[64];
      snprintf(label, sizeof label, "split at %zu (%zu chunks)", split, nchunks);
      pal_tile_status_t st = st_run(seed, &pair, 0, label);
      PAL_TEST_CHECK(seed, st.done, "%s", label);
      uint32_t got[M * 32];
      uint8_t got_nar[M * 32];
      TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_ACC, 0, 1000, M * nt * P, got));
      TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_ACC_NAR, 0, 1000, M * nt * P, got_nar));
      for (size_t i = 0; i < M * nt * P; i++)
        PAL_TEST_CHECK(seed, got[i] == whole[i] && got_nar[i] == whole_nar[i],
                       "%s, word %zu: %08x/%u vs %08x/%u", label, i, got[i], got_nar[i], whole[i],
                       whole_nar[i]);
      st_check_region(seed, &pair, PAL_TILE_REGION_ACC, 0, 1000, M * nt * P, label);
    }
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  epi.bias = bias;
  float ref[M * N];
  pal_gemm_ref(&A, &W, &epi, ref, N);
  gc_check_acc_ref(seed, pair.dev[ST_RTL], ref, M, N, 1000, nt * P, "split-k vs ref");
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  st_pair_destroy(&pair);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes_sparsity_4x4),
      cmocka_unit_test(test_shapes_sparsity_8x8),
      cmocka_unit_test(test_nar_everywhere),
      cmocka_unit_test(test_nar_weight_facing_zeros),
      cmocka_unit_test(test_split_k_equals_unsplit),
  };
  return cmocka_run_group_tests_name("sim_gemm", tests, NULL, NULL);
}
