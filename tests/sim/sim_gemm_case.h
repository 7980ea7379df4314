/* One GEMM (+ optional POST) case (tests/tile/tile_gemm_case.h) run on the
 * emulator and the RTL side by side, each output checked three ways: RTL
 * vs golden model (pal_gemm_ref, pal_b32_encode_block), RTL vs emulator bit
 * for bit (ACC words and NaR flags, OBUF or the PAL8 blocks in ABUF), and
 * every counter equal (st_run). */
#ifndef SIM_GEMM_CASE_H
#define SIM_GEMM_CASE_H

#include "sim_test_util.h"
#include "tile_gemm_case.h"

/* Runs one case on both tiles; every check described at the top. */
static inline void gc_run_case(uint64_t seed, pal_test_rng_t *rng, st_pair_t *pair, const gemm_case_t *c,
                               const char *label) {
  gc_layout_t L;
  gc_prepare(seed, rng, pair->dev, 2, c, label, &L);
  st_load_asm(seed, pair, L.prog);
  pal_tile_status_t st = st_run(seed, pair, 0, label);
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: stopped with error %s at pc %u\n%s",
                 label, pal_tile_error_name(st.error), st.err_pc, L.prog);

  gc_check_ref(seed, pair->dev[ST_RTL], c, &L, st, label);
  const size_t acc_words = c->M * L.nt * L.P;
  st_check_region(seed, pair, PAL_TILE_REGION_ACC, 0, L.acc_base, acc_words, label);
  st_check_region(seed, pair, PAL_TILE_REGION_ACC_NAR, 0, L.acc_base, acc_words, label);
  if (c->post && c->fmt == PAL_ISA_OUT_FP32) {
    st_check_region(seed, pair, PAL_TILE_REGION_OBUF, 0, L.out_base,
                    (c->M - 1) * L.out_stride + c->N, label);
  } else if (c->post) {
    size_t blocks = (c->M - 1) * L.out_stride + (c->N + 31) / 32;
    st_check_region(seed, pair, PAL_TILE_REGION_ABUF_CODES, 0, (uint64_t)L.out_base * 32, blocks * 32, label);
    st_check_region(seed, pair, PAL_TILE_REGION_ABUF_SCALES, 0, L.out_base, blocks, label);
  }
  gc_release(&L);
}

/* gc_run_case as the sweeps' gc_run_fn, ctx = the st_pair_t. */
static inline void gc_run_on_pair(uint64_t seed, pal_test_rng_t *rng, void *pair, const gemm_case_t *c,
                                  const char *label) {
  gc_run_case(seed, rng, (st_pair_t *)pair, c, label);
}

#endif /* SIM_GEMM_CASE_H */
