/* The timing contract (docs/isa.md §4): hand-computed cycle counts for
 * small programs, and random GEMMs against an independent transcription of
 * the §4 model (tile_timing_model.h) from the test's own operands, with every
 * counter and the identities between them. */
#include "tile_timing_model.h"

/* Runs `asm_text` (ending in END) after a counter reset; returns counters. */
static pal_tile_counters_t run_prog(uint64_t seed, pal_tile_device_t *dev, const char *asm_text) {
  tt_load_asm(seed, dev, asm_text);
  pal_tile_status_t st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.done && !st.error, "program stopped with %s at %u:\n%s",
                 pal_tile_error_name(st.error), st.err_pc, asm_text);
  return tt_counters(seed, dev);
}

/* One activation row of K codes (all `code` at the positions in `nz_mask`
 * of each block) against 16 dense weight columns. */
static void load_row(uint64_t seed, pal_tile_device_t *dev, size_t K, const uint32_t *nz_mask) {
  pal_b32_matrix_t A, W;
  uint32_t P = pal_tile_config_pes(&dev->config);
  TT_OK(seed, pal_b32_matrix_create(1, K, &A));
  TT_OK(seed, pal_b32_matrix_create(P, K, &W));
  for (size_t k = 0; k < A.kblocks; k++) {
    A.scales[k] = 127;
    for (int i = 0; i < 32; i++)
      if (nz_mask[k] >> i & 1) A.codes[k * 32 + i] = 0x40;
  }
  for (size_t i = 0; i < W.rows * W.kblocks * 32; i++) W.codes[i] = 0xC1;
  memset(W.scales, 120, W.rows * W.kblocks);
  tt_write_act(seed, dev, &A, 0, (uint32_t)A.kblocks);
  tt_write_weights(seed, dev, &W, 0);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
}

#define CTR(c, name) ((unsigned long long)(c).value[PAL_TILE_CTR_##name])

static void test_hand_computed(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_emu_t *emu = tt_emu_create(seed, 4, 4); /* P = 16, H = 4 */
  pal_tile_device_t *dev = pal_emu_device(emu);
  const uint32_t dense[2] = {0xFFFFFFFFu, 0xFFFFFFFFu}, none[2] = {0, 0};

  /* Dense K = 64, M = 1, one tile. Walk: block 0 ends at 32 (units till
   * 36), block 1 at 64 (till 68), the row end waits 64 -> 68 (stall 4,
   * units till 72); drain max(68, 72) + 3 = 75. GEMM = 1 + 2 + 75 = 78,
   * END 1: 79. */
  load_row(seed, dev, 64, dense);
  pal_tile_counters_t c = run_prog(seed, dev, "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 79 && CTR(c, CYC_BUSY) == 64 && CTR(c, CYC_STALL) == 4 &&
                           CTR(c, CYC_IDLE) == 11 && CTR(c, MACS_ISSUED) == 1024 &&
                           CTR(c, MACS_GATED) == 0 && CTR(c, ACT_SKIPPED) == 0 &&
                           CTR(c, BLOCKS_SKIPPED) == 0,
                 "dense K=64: total %llu busy %llu stall %llu", CTR(c, CYC_TOTAL), CTR(c, CYC_BUSY),
                 CTR(c, CYC_STALL));

  /* A fully zero row: both blocks skipped; only the row end hand-off:
   * units till 4, drain 4 + 3 = 7. GEMM 10, END 1. */
  load_row(seed, dev, 64, none);
  c = run_prog(seed, dev, "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 11 && CTR(c, CYC_BUSY) == 0 && CTR(c, CYC_STALL) == 0 &&
                           CTR(c, BLOCKS_SKIPPED) == 2 && CTR(c, ACT_SKIPPED) == 0 && CTR(c, MACS_ISSUED) == 0,
                 "zero row: total %llu", CTR(c, CYC_TOTAL));

  /* A 90 % sparse block: 3 non-zero codes of 32. Block ends at 3 (units
   * till 7), row end waits 3 -> 7 (stall 4, till 11), drain 14. GEMM 17. */
  const uint32_t sparse[1] = {0x80000401u};
  load_row(seed, dev, 32, sparse);
  c = run_prog(seed, dev, "gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 18 && CTR(c, CYC_BUSY) == 3 && CTR(c, CYC_STALL) == 4 &&
                           CTR(c, ACT_SKIPPED) == 29 && CTR(c, MACS_ISSUED) == 48,
                 "sparse block: total %llu busy %llu stall %llu", CTR(c, CYC_TOTAL), CTR(c, CYC_BUSY),
                 CTR(c, CYC_STALL));

  /* Two rows (a_stride 0: the same 2-code block twice). Row 0: block at
   * 2 (till 6), row end 2 -> 6 (stall 4, till 10). Row 1: block at 6 + 2
   * = 8 -> 10 (stall 2, till 14), row end 10 -> 14 (stall 4, till 18);
   * drain 21. GEMM 24 with 10 stall cycles. */
  const uint32_t two[1] = {0x00000011u};
  load_row(seed, dev, 32, two);
  c = run_prog(seed, dev, "gemm a=0 as=0 m=2 k=1 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 25 && CTR(c, CYC_BUSY) == 4 && CTR(c, CYC_STALL) == 10,
                 "two rows: total %llu busy %llu stall %llu", CTR(c, CYC_TOTAL), CTR(c, CYC_BUSY),
                 CTR(c, CYC_STALL));

  /* POST: 2 setup + 1 per element (FP32) or 2 (PAL8) + 2 drain, plus
   * fetch. SETR, SYNC, END: 1 each. */
  c = run_prog(seed, dev, "post acc=0 n=5 m=2 out=0 os=5\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 1 + 2 + 10 + 2 + 1 && CTR(c, CYC_IDLE) == 16,
                 "post fp32: %llu", CTR(c, CYC_TOTAL));
  c = run_prog(seed, dev, "post acc=0 n=5 m=2 fmt=pal8 out=100 os=1\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 1 + 2 + 20 + 2 + 1, "post pal8: %llu", CTR(c, CYC_TOTAL));
  c = run_prog(seed, dev, "setr reg=clip_lo value=1\nsync\nsync\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 4 && CTR(c, CYC_IDLE) == 4, "setr, sync: %llu", CTR(c, CYC_TOTAL));
  pal_emu_destroy(emu);

  /* One accumulate unit for 16 PEs: H = 16. Dense K = 64: blocks end at
   * 32 (till 48) and 64 (till 80); the row end waits 64 -> 80 (stall 16,
   * till 96); drain 99. GEMM 102. */
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  cfg.acc_units = 1;
  TT_OK(seed, pal_emu_create(&cfg, &emu));
  dev = pal_emu_device(emu);
  load_row(seed, dev, 64, dense);
  c = run_prog(seed, dev, "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 103 && CTR(c, CYC_STALL) == 16, "H=16: total %llu stall %llu",
                 CTR(c, CYC_TOTAL), CTR(c, CYC_STALL));
  pal_emu_destroy(emu);
}

/* Random GEMMs on several geometries against the model, counter by counter. */
static void test_random_against_model(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 77);
  const uint32_t geos[][3] = {{4, 4, 4}, {8, 8, 16}, {4, 4, 1}, {3, 3, 2}, {2, 8, 16}, {1, 1, 1}};
  for (size_t g = 0; g < sizeof geos / sizeof geos[0]; g++) {
    pal_tile_config_t cfg;
    pal_tile_config_initialize(&cfg, geos[g][0], geos[g][1]);
    cfg.acc_units = geos[g][2];
    pal_emu_t *emu;
    TT_OK(seed, pal_emu_create(&cfg, &emu));
    pal_tile_device_t *dev = pal_emu_device(emu);
    const uint32_t P = pal_tile_config_pes(&cfg), H = pal_tile_config_pes_per_unit(&cfg);
    for (int it = 0; it < 40; it++) {
      size_t M = 1 + pal_test_rng_below(&rng, 6), N = 1 + pal_test_rng_below(&rng, 3 * P),
             K = 1 + pal_test_rng_below(&rng, 256);
      tt_gen_t ga = {pal_test_rng_uniform(&rng), 0.3 * pal_test_rng_uniform(&rng),
                     it % 5 == 1 ? 0.003 : 0.0, it % 5 == 2 ? 0.05 : 0.0};
      tt_gen_t gw = {pal_test_rng_uniform(&rng), 0.2 * pal_test_rng_uniform(&rng),
                     it % 5 == 3 ? 0.001 : 0.0, it % 5 == 4 ? 0.02 : 0.0};
      pal_b32_matrix_t A, W;
      tt_random_matrix(seed, &rng, M, K, &ga, &A);
      tt_random_matrix(seed, &rng, N, K, &gw, &W);
      size_t kb = A.kblocks, nt = (N + P - 1) / P;
      tt_write_act(seed, dev, &A, 0, (uint32_t)kb);
      tt_write_weights(seed, dev, &W, 0);
      model_t md = {0};
      model_gemm(&A, &W, P, H, &md);
      /* a second GEMM over the same data, a POST of each kind, and the
       * single-cycle instructions */
      model_gemm(&A, &W, P, H, &md);
      md.total += (1 + 2 + M * N + 2) + (1 + 2 + 2 * M * N + 2) + 3;
      char prog[512];
      snprintf(prog, sizeof prog,
               "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=zero\n"
               "sync\n"
               "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=acc\n"
               "post acc=0 n=%zu m=%zu out=0 os=%zu\n"
               "post acc=0 n=%zu m=%zu fmt=pal8 out=300 os=%zu\n"
               "setr reg=clip_hi value=3\n"
               "end\n",
               kb, M, kb, nt, kb, M, kb, nt, N, M, N, N, M, (N + 31) / 32);
      run_prog(seed, dev, prog);
      char label[128];
      snprintf(label, sizeof label, "geometry %ux%u/%u, M=%zu N=%zu K=%zu, it %d", geos[g][0],
               geos[g][1], geos[g][2], M, N, K, it);
      check_counters(seed, dev, &md, label);
      pal_b32_matrix_release(&A);
      pal_b32_matrix_release(&W);
    }
    pal_emu_destroy(emu);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_computed),
      cmocka_unit_test(test_random_against_model),
  };
  return cmocka_run_group_tests_name("tile_timing", tests, NULL, NULL);
}
