/* Compiled plans on the Verilated RTL tile (pal/sim.h behind
 * pal_device_open_tile): the same plans as on emu:// must give the golden
 * model's bits on the RTL, including the streamed, spilled and multi-group
 * paths, and the cycle counters of the whole plan must agree with the
 * emulator's within the ISA's 5 % timing contract (docs/isa.md §4). */
#include "pal_test.h"

#include "compile_test_util.h"
#include "pal/driver.h"
#include "pal/sim.h"

static void release_sim(void *ctx) { pal_sim_destroy(ctx); }

static pal_device_t *open_rtl(uint64_t seed, uint32_t rows, uint32_t cols) {
  pal_sim_options_t so;
  pal_sim_options_initialize(&so);
  so.rows = rows;
  so.cols = cols;
  so.seed = seed;
  pal_sim_t *sim = NULL;
  OK(seed, pal_sim_create(&so, &sim));
  pal_device_t *dev = NULL;
  OK(seed, pal_device_open_tile("rtl://", pal_sim_device(sim), release_sim, sim, &dev));
  return dev;
}

static void run_on_rtl(uint64_t seed, uint32_t rows, uint32_t cols, owned_layer_t *o, size_t n,
                       uint32_t max_batch, uint32_t batch, const pal_plan_options_t *opt) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0xBEEF);
  pal_device_t *rtl = open_rtl(seed, rows, cols);
  /* plan for what the RTL reports */
  pal_tile_config_t cfg = pal_device_tile(rtl)->config;
  pal_dense_layer_t layers[4];
  for (size_t i = 0; i < n; i++) layers[i] = o[i].l;
  pal_plan_t *plan = NULL;
  OK(seed, pal_plan_dense_chain(&cfg, layers, n, max_batch, opt, &plan));
  uint32_t k0 = o[0].l.in_features, nl = o[n - 1].l.out_features;
  float *x = rand_input(&rng, batch, k0);
  size_t ny = (size_t)batch * nl;
  float *y = malloc(ny * sizeof(float)), *ye = malloc(ny * sizeof(float)), *yr = malloc(ny * sizeof(float));
  pal_plan_stats_t srtl, semu;
  OK(seed, pal_plan_run(plan, rtl, x, batch, y, &srtl));
  pal_device_options_t eo;
  pal_device_options_initialize(&eo);
  eo.emu_config = &cfg;
  eo.emu_direct = true;
  pal_device_t *emu = NULL;
  OK(seed, pal_device_open("emu://?direct=1", &eo, &emu));
  OK(seed, pal_plan_run(plan, emu, x, batch, ye, &semu));
  ref_chain(o, n, x, batch, yr);
  char what[128];
  snprintf(what, sizeof what, "RTL %ux%u, %zu layer(s) %u->%u, batch %u vs golden model", rows, cols, n, k0, nl,
           batch);
  compare(seed, what, y, yr, ny);
  compare(seed, "emu vs golden model", ye, yr, ny);
  /* a tile without POST (the iCEBreaker's 2x2) leaves every layer's POST to the host */
  PAL_TEST_CHECK(seed, (srtl.host_post_outputs > 0) == (cfg.no_post != 0),
                 "%s: %llu outputs post-processed on the host, the tile %s a POST unit", what,
                 (unsigned long long)srtl.host_post_outputs, cfg.no_post ? "has no" : "has");
  PAL_TEST_CHECK(seed, srtl.kernel_runs == semu.kernel_runs, "kernel runs: RTL %llu, emu %llu",
                 (unsigned long long)srtl.kernel_runs, (unsigned long long)semu.kernel_runs);
  double c_rtl = (double)srtl.counters.value[PAL_TILE_CTR_CYC_TOTAL];
  double c_emu = (double)semu.counters.value[PAL_TILE_CTR_CYC_TOTAL];
  PAL_TEST_CHECK(seed, c_emu > 0 && fabs(c_rtl - c_emu) <= 0.05 * c_emu,
                 "%s: CYC_TOTAL RTL %.0f vs emu %.0f: more than 5 %% apart", what, c_rtl, c_emu);
  PAL_TEST_CHECK(seed,
                 srtl.counters.value[PAL_TILE_CTR_MACS_ISSUED] == semu.counters.value[PAL_TILE_CTR_MACS_ISSUED],
                 "%s: MACS_ISSUED RTL %llu vs emu %llu", what,
                 (unsigned long long)srtl.counters.value[PAL_TILE_CTR_MACS_ISSUED],
                 (unsigned long long)semu.counters.value[PAL_TILE_CTR_MACS_ISSUED]);
  pal_device_close(emu);
  pal_device_close(rtl);
  pal_plan_destroy(plan);
  free(x);
  free(y);
  free(ye);
  free(yr);
}

/* A chain that stays on chip in one kernel (4x4), and one that spills and
 * groups N (8x8 with a forced small chunk). */
static void test_rtl_chains(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 100, 48, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 48, 30, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[2], 30, 9, true, PAL_BIAS_START, PAL_ACT_NONE);
  run_on_rtl(seed, 4, 4, o, 3, 3, 3, NULL);
  run_on_rtl(seed + 1, 8, 8, o, 3, 2, 5, NULL);
  free_layers(o, 3);
}

/* The iCEBreaker's tile (2x2, its small buffers, no POST unit): the host
 * post-processes each N group's sums read from ACC, bias-after and clip
 * included, and the outputs are still the golden model's bits. */
static void test_rtl_board_tile_without_post(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 9);
  owned_layer_t o[2];
  make_layer(&rng, &o[0], 60, 12, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[1], 12, 5, true, PAL_BIAS_START, PAL_ACT_RELU);
  run_on_rtl(seed, 2, 2, o, 2, 3, 3, NULL);
  free_layers(o, 2);
}

/* Weights larger than WMEM on the RTL: 640 x 400 on 4x4 is 25 N-tiles x 20
 * blocks = 500 > 256 blocks per PE (streamed N groups); K = 8224 is 257
 * blocks, more than WMEM holds for one tile, so K is cut in two chunks and
 * the second GEMM continues the first with init=acc. */
static void test_rtl_streaming(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 5);
  owned_layer_t o[2];
  make_layer(&rng, &o[0], 640, 400, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 400, 7, false, PAL_BIAS_START, PAL_ACT_NONE);
  run_on_rtl(seed, 4, 4, o, 2, 2, 2, NULL);
  free_layers(o, 2);
  owned_layer_t big;
  make_layer(&rng, &big, 8224, 20, true, PAL_BIAS_START, PAL_ACT_NONE);
  run_on_rtl(seed + 1, 4, 4, &big, 1, 1, 1, NULL);
  free_layers(&big, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rtl_chains),
      cmocka_unit_test(test_rtl_streaming),
      cmocka_unit_test(test_rtl_board_tile_without_post),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
