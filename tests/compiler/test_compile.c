/* The tile compiler against the golden model: plans for many shapes and
 * geometries (4x4, 8x8, tiny custom buffers that force every tiling path)
 * run on emu:// (direct and through the link protocol) and must give, bit
 * for bit, both pal_plan_reference and an independent reference built here
 * from pal_gemm_ref + pal_postprocess with PAL8-B32 re-encoding between
 * layers. Conv goes against a direct convolution; error paths must give
 * clear statuses; a single-kernel plan's .palk must pass the validating
 * loader and run. */
#include "pal_test.h"

#include <unistd.h>

#include "compile_test_util.h"
#include "pal/driver.h"


/* ---- devices ------------------------------------------------------------------ */

static pal_device_t *open_emu(uint64_t seed, const pal_tile_config_t *cfg, bool direct) {
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.emu_config = cfg;
  pal_device_t *d = NULL;
  OK(seed, pal_device_open(direct ? "emu://?direct=1" : "emu://?max_payload=1024", &o, &d));
  return d;
}

/* Plans, runs, compares with both references; returns the plan's description. */
typedef struct case_result {
  pal_plan_stats_t stats;
  char *describe;
  uint32_t mc;
  bool single;
  size_t nar_outputs, outputs; /* of the run (NaR: NaN), so a test can tell an all-NaR case */
} case_result_t;

static void run_case(uint64_t seed, const pal_tile_config_t *cfg, bool direct, owned_layer_t *o, size_t n,
                     uint32_t max_batch, uint32_t batch, const pal_plan_options_t *opt, case_result_t *res) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0xC0FFEE);
  uint32_t k0 = o[0].l.in_features, nl = o[n - 1].l.out_features;
  float *x = rand_input(&rng, batch, k0);
  float *y = malloc((size_t)batch * nl * sizeof(float));
  float *yp = malloc((size_t)batch * nl * sizeof(float));
  float *yr = malloc((size_t)batch * nl * sizeof(float));
  pal_dense_layer_t layers[8];
  for (size_t i = 0; i < n; i++) layers[i] = o[i].l;
  pal_plan_t *plan = NULL;
  OK(seed, pal_plan_dense_chain(cfg, layers, n, max_batch, opt, &plan));
  pal_device_t *dev = open_emu(seed, cfg, direct);
  memset(y, 0xA5, (size_t)batch * nl * sizeof(float));
  OK(seed, pal_plan_run(plan, dev, x, batch, y, &res->stats));
  OK(seed, pal_plan_reference(plan, x, batch, yp));
  ref_chain(o, n, x, batch, yr);
  char what[160];
  snprintf(what, sizeof what, "%ux%u K0=%u N=%u layers=%zu batch=%u vs pal_plan_reference", cfg->rows, cfg->cols,
           k0, nl, n, batch);
  compare(seed, what, y, yp, (size_t)batch * nl);
  snprintf(what, sizeof what, "%ux%u K0=%u N=%u layers=%zu batch=%u vs independent reference", cfg->rows,
           cfg->cols, k0, nl, n, batch);
  compare(seed, what, y, yr, (size_t)batch * nl);
  res->outputs = (size_t)batch * nl;
  res->nar_outputs = 0;
  for (size_t i = 0; i < res->outputs; i++) res->nar_outputs += isnan(y[i]) != 0;
  OK(seed, pal_plan_describe(plan, &res->describe));
  res->mc = pal_plan_m_chunk(plan);
  res->single = pal_plan_is_single_kernel(plan);
  PAL_TEST_CHECK(seed, res->stats.kernel_runs >= 1 && res->stats.counters.value[PAL_TILE_CTR_CYC_TOTAL] > 0,
                 "no kernel ran (%llu runs)", (unsigned long long)res->stats.kernel_runs);
  pal_device_close(dev);
  pal_plan_destroy(plan);
  free(x);
  free(y);
  free(yp);
  free(yr);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_single_layer_shapes(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  /* K not a multiple of 32, N not a multiple of P, M = 1 and many */
  const uint32_t shapes[][3] = {{1, 1, 1}, {31, 5, 3}, {33, 17, 1}, {100, 40, 7}, {64, 16, 64}, {250, 3, 2}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    owned_layer_t o;
    make_layer(&rng, &o, shapes[s][0], shapes[s][1], s % 2 == 0, s % 3 == 1 ? PAL_BIAS_POST : PAL_BIAS_START,
               (pal_activation_t)(s % 3));
    case_result_t r = {0};
    run_case(seed + s, &cfg, true, &o, 1, shapes[s][2], shapes[s][2], NULL, &r);
    free(r.describe);
    free_layers(&o, 1);
  }
}

/* Every activation on chip, weights resident: one kernel run per chunk. */
static void test_chain_on_chip(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 11);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 96, 64, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 64, 40, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[2], 40, 10, true, PAL_BIAS_START, PAL_ACT_NONE);
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 3, 9, 9, NULL, &r);
  PAL_TEST_CHECK(seed, r.single && r.stats.kernel_runs == 1 && r.stats.spills == 0,
                 "expected one kernel and no spill, got %llu runs, %llu spills:\n%s",
                 (unsigned long long)r.stats.kernel_runs, (unsigned long long)r.stats.spills, r.describe);
  PAL_TEST_CHECK(seed, strstr(r.describe, "on chip") != NULL, "describe() does not say on chip:\n%s", r.describe);
  free(r.describe);
  /* the same through the link protocol, batch above the plan's max */
  run_case(seed, &cfg, false, o, 3, 4, 11, NULL, &r);
  PAL_TEST_CHECK(seed, r.stats.kernel_runs == 3, "batch 11 in chunks of 4 took %llu runs",
                 (unsigned long long)r.stats.kernel_runs);
  free(r.describe);
  free_layers(o, 3);
}

/* The MLP shape of the demo on 8x8: layer 1's weights (784 x 256) exceed WMEM. */
static void test_mlp_8x8(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 22);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 8, 8);
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 784, 256, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 256, 128, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[2], 128, 10, true, PAL_BIAS_START, PAL_ACT_NONE);
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 3, 5, 5, NULL, &r);
  free(r.describe);
  /* 4x4: 784*256 needs 400 blocks per PE > WMEM 256: streamed */
  pal_tile_config_initialize(&cfg, 4, 4);
  run_case(seed, &cfg, true, o, 3, 3, 3, NULL, &r);
  PAL_TEST_CHECK(seed, !r.single && strstr(r.describe, "streamed") != NULL,
                 "4x4 784-256 should stream weights:\n%s", r.describe);
  free(r.describe);
  free_layers(o, 3);
}

/* A 2x3 tile (P = 6) with buffers small enough to force every tiling path. */
static void tiny_config(pal_tile_config_t *cfg) {
  pal_tile_config_initialize(cfg, 2, 3);
  cfg->imem_depth = 4;
  cfg->abuf_blocks = 8;
  cfg->wmem_blocks = 5;
  cfg->acc_depth = 24;
  cfg->bias_depth = 12;
  cfg->obuf_depth = 30;
}

/* Tiny buffers on a 2x3 tile (P = 6, not a divisor of 32): K streamed
 * through ABUF, weights streamed through WMEM, N groups, spills, IMEM
 * splits, bias per group. */
static void test_tiny_geometry(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 33);
  pal_tile_config_t cfg;
  tiny_config(&cfg);
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 300, 70, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 70, 40, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[2], 40, 13, false, PAL_BIAS_START, PAL_ACT_NONE);
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 3, 5, 5, NULL, &r);
  const char *paths[] = {"streamed through ABUF", "streamed per", "SPILLED", "per N group"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    PAL_TEST_CHECK(seed, strstr(r.describe, paths[i]) != NULL, "tiny geometry plan lacks \"%s\":\n%s", paths[i],
                   r.describe);
  PAL_TEST_CHECK(seed, r.stats.spills >= 1 && r.stats.kernel_runs > 10, "%llu spills, %llu runs",
                 (unsigned long long)r.stats.spills, (unsigned long long)r.stats.kernel_runs);
  free(r.describe);
  /* through the protocol too, with M chunks forced to 2 */
  pal_plan_options_t opt;
  pal_plan_options_initialize(&opt);
  opt.max_m_chunk = 2;
  run_case(seed + 1, &cfg, false, o + 1, 2, 7, 7, &opt, &r);
  PAL_TEST_CHECK(seed, r.mc <= 2, "M chunk %u > 2", r.mc);
  free(r.describe);
  free_layers(o, 3);
}

/* Weights larger than WMEM with room in ABUF: K chunks accumulate in ACC. */
static void test_weight_streaming(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 44);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  cfg.wmem_blocks = 4;
  cfg.acc_depth = 64;
  owned_layer_t o[2];
  make_layer(&rng, &o[0], 300, 50, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 50, 33, true, PAL_BIAS_POST, PAL_ACT_NONE);
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 2, 10, 10, NULL, &r);
  PAL_TEST_CHECK(seed, strstr(r.describe, "streamed per") != NULL && r.stats.weight_bytes > 50u * 300u,
                 "expected weight streaming:\n%s", r.describe);
  free(r.describe);
  free_layers(o, 2);
}

/* NaN/Inf inputs become NaR and must come out as NaN where the golden model says. */
static void test_nar(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 55);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  owned_layer_t o[2];
  make_layer(&rng, &o[0], 70, 20, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 20, 6, false, PAL_BIAS_START, PAL_ACT_NONE);
  o[0].w[5] = NAN; /* output 0 of layer 0 is NaR for every row */
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 2, 3, 3, NULL, &r);
  PAL_TEST_CHECK(seed, r.stats.counters.value[PAL_TILE_CTR_NAR_OUTPUTS] > 0, "no NaR output counted");
  free(r.describe);
  free_layers(o, 2);
}


/* Random geometries (odd P, tiny buffers, short IMEM) and random chains:
 * every plan that the planner accepts must run without a tile error and
 * match both references. PAL_COMPILE_SWEEP=N sets the number of cases. */
static void test_random_plans(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 99);
  const char *env = getenv("PAL_COMPILE_SWEEP");
  int cases = env && *env ? atoi(env) : 50, planned = 0;
  /* the tiling paths the sweep must reach (docs/compiler.md §2) */
  const char *paths[] = {"resident", "whole layer per M chunk", "streamed per", "streamed through ABUF",
                         "SPILLED", "on chip: POST", "read per N group", "several kernel runs"};
  /* (single-kernel plans are rare at random; test_chain_on_chip and test_palk have them) */
  enum { N_PATHS = sizeof paths / sizeof paths[0] };
  int seen[N_PATHS] = {0};
  for (int i = 0; i < cases; i++) {
    uint64_t cs = seed + 1000 + (uint64_t)i;
    pal_tile_config_t cfg;
    pal_tile_config_initialize(&cfg, 1 + pal_test_rng_below(&rng, 5), 1 + pal_test_rng_below(&rng, 5));
    uint32_t P = cfg.rows * cfg.cols;
    cfg.imem_depth = 2 + pal_test_rng_below(&rng, 40);
    cfg.abuf_blocks = 1 + pal_test_rng_below(&rng, 48);
    cfg.wmem_blocks = 1 + pal_test_rng_below(&rng, 24);
    cfg.acc_depth = P + pal_test_rng_below(&rng, 8 * P);
    cfg.bias_depth = P + pal_test_rng_below(&rng, 4 * P);
    cfg.obuf_depth = P + pal_test_rng_below(&rng, 8 * P);
    size_t n = 1 + pal_test_rng_below(&rng, 3);
    owned_layer_t o[3];
    uint32_t k = 1 + pal_test_rng_below(&rng, 150);
    for (size_t l = 0; l < n; l++) {
      uint32_t nn = 1 + pal_test_rng_below(&rng, 70);
      make_layer(&rng, &o[l], k, nn, pal_test_rng_below(&rng, 3) != 0,
                 pal_test_rng_below(&rng, 2) ? PAL_BIAS_POST : PAL_BIAS_START,
                 (pal_activation_t)pal_test_rng_below(&rng, 3));
      k = nn;
    }
    uint32_t batch = 1 + pal_test_rng_below(&rng, 9), max_batch = 1 + pal_test_rng_below(&rng, 12);
    pal_dense_layer_t layers[3];
    for (size_t l = 0; l < n; l++) layers[l] = o[l].l;
    pal_plan_t *plan = NULL;
    pal_status_t st = pal_plan_dense_chain(&cfg, layers, n, max_batch, NULL, &plan);
    if (st) {
      /* only "too small" is an acceptable refusal */
      PAL_TEST_CHECK(cs, pal_status_code(st) == PAL_RESOURCE_EXHAUSTED, "case %d refused: %s", i,
                     pal_status_message(st));
      pal_status_free(st);
    } else {
      pal_plan_destroy(plan);
      planned++;
      case_result_t r = {0};
      run_case(cs, &cfg, true, o, n, max_batch, batch, NULL, &r);
      for (int p = 0; p < N_PATHS; p++) seen[p] += r.describe && strstr(r.describe, paths[p]) != NULL;
      free(r.describe);
    }
    free_layers(o, n);
  }
  PAL_TEST_CHECK(seed, planned * 2 >= cases, "only %d of %d random plans were accepted", planned, cases);
  for (int p = 0; p < N_PATHS; p++) {
    if (getenv("PAL_COMPILE_SWEEP_VERBOSE")) print_message("%-26s %d plans\n", paths[p], seen[p]);
    PAL_TEST_CHECK(seed, cases < 50 || seen[p] > 0, "no random plan took the path \"%s\"", paths[p]);
  }
}

/* ---- conv --------------------------------------------------------------------- */

/* Direct convolution: for every output pixel, the patch gathered straight
 * from the NCHW input, encoded as one PAL8-B32 row (the quantisation the
 * tile applies to im2col rows), times the encoded weights. */
static void ref_conv(const pal_conv2d_t *c, const float *x, uint32_t batch, float *y, uint32_t oh_n, uint32_t ow_n) {
  uint32_t k = c->in_channels * c->kernel_h * c->kernel_w, m_n = c->out_channels;
  pal_b32_matrix_t w, a;
  assert_null(pal_b32_matrix_create(m_n, k, &w));
  assert_null(pal_b32_matrix_create(1, k, &a));
  pal_b32_matrix_encode(c->weights, k, &w);
  float *patch = malloc(k * sizeof(float)), *out = malloc(m_n * sizeof(float));
  pal_epilogue_t ep;
  pal_epilogue_initialize(&ep);
  ep.bias = c->bias;
  ep.act = c->act;
  ep.clip_lo = c->clip_lo;
  ep.clip_hi = c->clip_hi;
  for (uint32_t b = 0; b < batch; b++)
    for (uint32_t oh = 0; oh < oh_n; oh++)
      for (uint32_t ow = 0; ow < ow_n; ow++) {
        uint32_t i = 0;
        for (uint32_t ch = 0; ch < c->in_channels; ch++)
          for (uint32_t kh = 0; kh < c->kernel_h; kh++)
            for (uint32_t kw = 0; kw < c->kernel_w; kw++) {
              long ih = (long)(oh * c->stride_h + kh * c->dilation_h) - (long)c->pad_top;
              long iw = (long)(ow * c->stride_w + kw * c->dilation_w) - (long)c->pad_left;
              patch[i++] = ih < 0 || iw < 0 || ih >= (long)c->in_h || iw >= (long)c->in_w
                               ? 0.0f
                               : x[(((size_t)b * c->in_channels + ch) * c->in_h + (size_t)ih) * c->in_w + (size_t)iw];
            }
        pal_b32_matrix_encode(patch, k, &a);
        pal_gemm_ref(&a, &w, &ep, out, m_n);
        for (uint32_t m = 0; m < m_n; m++) y[(((size_t)b * m_n + m) * oh_n + oh) * ow_n + ow] = out[m];
      }
  free(patch);
  free(out);
  pal_b32_matrix_release(&w);
  pal_b32_matrix_release(&a);
}

static void test_conv2d(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 66);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  /* C H W M kh kw sh sw pt pl pb pr dh dw */
  const uint32_t shapes[][14] = {
      {3, 8, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {2, 9, 9, 4, 3, 2, 2, 1, 0, 1, 1, 0, 2, 1},
      {16, 6, 6, 20, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1}, /* K = 144: not a multiple of 32 */
      {1, 5, 5, 3, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1},   /* one output pixel */
  };
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const uint32_t *v = shapes[s];
    pal_conv2d_t c;
    pal_conv2d_initialize(&c);
    c.in_channels = v[0];
    c.in_h = v[1];
    c.in_w = v[2];
    c.out_channels = v[3];
    c.kernel_h = v[4];
    c.kernel_w = v[5];
    c.stride_h = v[6];
    c.stride_w = v[7];
    c.pad_top = v[8];
    c.pad_left = v[9];
    c.pad_bottom = v[10];
    c.pad_right = v[11];
    c.dilation_h = v[12];
    c.dilation_w = v[13];
    size_t k = (size_t)c.in_channels * c.kernel_h * c.kernel_w;
    float *w = malloc(c.out_channels * k * sizeof(float)), *b = malloc(c.out_channels * sizeof(float));
    for (size_t i = 0; i < c.out_channels * k; i++) w[i] = rand_value(&rng, 0.3);
    for (size_t i = 0; i < c.out_channels; i++) b[i] = rand_value(&rng, 0.2);
    c.weights = w;
    c.bias = s % 2 ? b : NULL;
    c.act = s % 2 ? PAL_ACT_RELU : PAL_ACT_NONE;
    uint32_t oh, ow, batch = s == 0 ? 80 : 2; /* 80 x 56 rows: two im2col slices */
    OK(seed, pal_conv2d_check(&c, &oh, &ow));
    size_t in_n = (size_t)batch * c.in_channels * c.in_h * c.in_w, out_n = (size_t)batch * c.out_channels * oh * ow;
    float *x = malloc(in_n * sizeof(float)), *y = malloc(out_n * sizeof(float));
    float *yr = malloc(out_n * sizeof(float)), *yp = malloc(out_n * sizeof(float));
    for (size_t i = 0; i < in_n; i++) x[i] = rand_value(&rng, 1.0);
    pal_conv2d_plan_t *plan = NULL;
    OK(seed, pal_plan_conv2d(&cfg, &c, batch, &plan));
    pal_device_t *dev = open_emu(seed, &cfg, true);
    OK(seed, pal_conv2d_plan_run(plan, dev, x, batch, y, NULL));
    OK(seed, pal_conv2d_plan_reference(plan, x, batch, yp));
    ref_conv(&c, x, batch, yr, oh, ow);
    char what[96];
    snprintf(what, sizeof what, "conv shape %zu vs direct convolution", s);
    compare(seed, what, y, yr, out_n);
    snprintf(what, sizeof what, "conv shape %zu vs pal_conv2d_plan_reference", s);
    compare(seed, what, y, yp, out_n);
    pal_device_close(dev);
    pal_conv2d_plan_destroy(plan);
    free(w);
    free(b);
    free(x);
    free(y);
    free(yr);
    free(yp);
  }
}

/* ---- errors -------------------------------------------------------------------- */

static void expect_status(uint64_t seed, pal_status_t st, pal_status_code_t code, const char *needle,
                          const char *what) {
  PAL_TEST_CHECK(seed, st && pal_status_code(st) == code && strstr(pal_status_message(st), needle),
                 "%s: expected %s mentioning \"%s\", got %s: %s", what, pal_status_code_name(code), needle,
                 pal_status_code_name(pal_status_code(st)), pal_status_message(st));
  pal_status_free(st);
}

/* A tile without a POST unit (the iCEBreaker's, pal_tile_config_t.no_post):
 * the host reads each N group's sums from ACC and applies bias-after,
 * activation and re-encoding; the outputs must be the references' bit for
 * bit (run_case), through both paths, with NaR, tiny buffers and bias-after
 * layers. A plan for a tile with POST must be refused on it, and what needs
 * POST on chip (single kernel, .palk, outputs on chip) must say why not. */
static void test_no_post_unit(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 66);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  cfg.no_post = 1;
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 96, 64, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 64, 40, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[2], 40, 10, true, PAL_BIAS_POST, PAL_ACT_NONE);
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 3, 9, 9, NULL, &r);
  PAL_TEST_CHECK(seed, r.nar_outputs == 0, "%zu of %zu outputs NaR without a NaR operand", r.nar_outputs, r.outputs);
  /* every output of every layer went through the host, none on chip */
  PAL_TEST_CHECK(seed, r.stats.host_post_outputs == 9u * (64 + 40 + 10) && r.stats.spills == 2,
                 "host POST of %llu outputs, %llu spills (expected %u and 2):\n%s",
                 (unsigned long long)r.stats.host_post_outputs, (unsigned long long)r.stats.spills,
                 9u * (64 + 40 + 10), r.describe);
  PAL_TEST_CHECK(seed, strstr(r.describe, "no POST unit") && strstr(r.describe, "POST on the host") && !r.single,
                 "describe() does not say where POST ran:\n%s", r.describe);
  PAL_TEST_CHECK(seed, r.stats.counters.value[PAL_TILE_CTR_NAR_OUTPUTS] == 0,
                 "a tile without POST counted %llu NaR outputs",
                 (unsigned long long)r.stats.counters.value[PAL_TILE_CTR_NAR_OUTPUTS]);
  free(r.describe);
  run_case(seed + 1, &cfg, false, o, 3, 4, 11, NULL, &r);
  free(r.describe);
  /* a NaR output column, in one layer (a NaR column of a chain's first
   * layer makes every output of the next NaR, which would compare nothing) */
  {
    owned_layer_t nl;
    make_layer(&rng, &nl, 96, 40, true, PAL_BIAS_POST, PAL_ACT_RELU);
    nl.w[7] = NAN;
    run_case(seed + 5, &cfg, true, &nl, 1, 5, 5, NULL, &r);
    PAL_TEST_CHECK(seed, r.nar_outputs == 5 && r.outputs == 5 * 40, "%zu of %zu outputs NaR, want one column's 5",
                   r.nar_outputs, r.outputs);
    free(r.describe);
    free_layers(&nl, 1);
  }
  /* the same chain with POST on chip: no output goes through the host */
  pal_tile_config_t full = cfg;
  full.no_post = 0;
  run_case(seed, &full, true, o, 3, 9, 9, NULL, &r);
  PAL_TEST_CHECK(seed, r.stats.host_post_outputs == 0, "%llu host POST outputs on a tile with POST",
                 (unsigned long long)r.stats.host_post_outputs);
  free(r.describe);
  /* tiny buffers: K and weights streamed, N groups, IMEM splits */
  pal_tile_config_t tiny;
  tiny_config(&tiny);
  tiny.obuf_depth = 1; /* OBUF is not used without POST */
  tiny.no_post = 1;
  owned_layer_t t[2];
  make_layer(&rng, &t[0], 300, 70, true, PAL_BIAS_POST, PAL_ACT_RELU);
  make_layer(&rng, &t[1], 70, 13, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  run_case(seed + 2, &tiny, true, t, 2, 5, 5, NULL, &r);
  free(r.describe);
  {
    pal_tile_config_t with_post = tiny;
    with_post.no_post = 0;
    pal_dense_layer_t tl[2] = {t[0].l, t[1].l};
    pal_plan_t *p1 = NULL;
    expect_status(seed, pal_plan_dense_chain(&with_post, tl, 2, 5, NULL, &p1), PAL_RESOURCE_EXHAUSTED,
                  "OBUF_DEPTH 1", "a 1-word OBUF with POST");
  }

  /* refusals */
  pal_dense_layer_t l[2] = {o[0].l, o[1].l};
  pal_plan_t *plan = NULL;
  pal_plan_options_t opt;
  pal_plan_options_initialize(&opt);
  opt.single_kernel = true;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 4, &opt, &plan), PAL_UNIMPLEMENTED, "no POST unit",
                "single_kernel without POST");
  pal_plan_options_initialize(&opt);
  opt.require_on_chip = true;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 4, &opt, &plan), PAL_RESOURCE_EXHAUSTED, "no POST unit",
                "require_on_chip without POST");
  OK(seed, pal_plan_dense_chain(&cfg, l, 1, 4, NULL, &plan));
  pal_kernel_image_builder_t *b = NULL;
  expect_status(seed, pal_plan_build_palk(plan, &b), PAL_UNIMPLEMENTED, "no POST unit", "palk without POST");
  assert_null(b);
  pal_plan_destroy(plan);
  OK(seed, pal_plan_dense_chain(&full, l, 2, 4, NULL, &plan));
  float x[96 * 2] = {0}, y[40 * 2];
  pal_device_t *dev = open_emu(seed, &cfg, true);
  expect_status(seed, pal_plan_run(plan, dev, x, 2, y, NULL), PAL_FAILED_PRECONDITION, "no POST unit",
                "a plan with POST on a tile without");
  pal_device_close(dev);
  pal_plan_destroy(plan);
  free_layers(o, 3);
  free_layers(t, 2);
}


static void test_errors(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 77);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  owned_layer_t o[2];
  make_layer(&rng, &o[0], 40, 20, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 20, 7, false, PAL_BIAS_START, PAL_ACT_NONE);
  pal_dense_layer_t l[2] = {o[0].l, o[1].l};
  pal_plan_t *plan = NULL;

  l[0].in_features = 0;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 1, NULL, &plan), PAL_INVALID_ARGUMENT, "layer 0", "K = 0");
  assert_null(plan);
  l[0] = o[0].l;
  l[1].in_features = 21;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 1, NULL, &plan), PAL_INVALID_ARGUMENT, "layer 1",
                "mismatched chain");
  l[1] = o[1].l;
  l[1].weights = NULL;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 1, NULL, &plan), PAL_INVALID_ARGUMENT, "weights",
                "NULL weights");
  l[1] = o[1].l;
  l[1].act = PAL_ACT_CLIP;
  l[1].clip_lo = 1.0f;
  l[1].clip_hi = -1.0f;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 1, NULL, &plan), PAL_INVALID_ARGUMENT, "clip_lo",
                "clip lo > hi");
  l[1] = o[1].l;
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 0, 1, NULL, &plan), PAL_INVALID_ARGUMENT, "layer",
                "no layers");
  expect_status(seed, pal_plan_dense_chain(&cfg, l, 2, 0, NULL, &plan), PAL_INVALID_ARGUMENT, "max_batch",
                "max_batch 0");

  /* a geometry too small for any tiling */
  pal_tile_config_t tiny = cfg;
  tiny.acc_depth = 8;
  expect_status(seed, pal_plan_dense_chain(&tiny, l, 2, 1, NULL, &plan), PAL_RESOURCE_EXHAUSTED, "ACC_DEPTH",
                "ACC smaller than P");
  tiny = cfg;
  tiny.imem_depth = 1;
  expect_status(seed, pal_plan_dense_chain(&tiny, l, 2, 1, NULL, &plan), PAL_RESOURCE_EXHAUSTED, "IMEM_DEPTH",
                "IMEM of one");
  tiny = cfg;
  tiny.bias_depth = 4;
  expect_status(seed, pal_plan_dense_chain(&tiny, l, 2, 1, NULL, &plan), PAL_RESOURCE_EXHAUSTED, "BIAS_DEPTH",
                "BIAS smaller than P");
  tiny = cfg;
  tiny.abuf_blocks = 2;
  pal_plan_options_t opt;
  pal_plan_options_initialize(&opt);
  opt.require_on_chip = true;
  expect_status(seed, pal_plan_dense_chain(&tiny, l, 2, 1, &opt, &plan), PAL_RESOURCE_EXHAUSTED, "on chip",
                "require_on_chip with a 2-block ABUF");

  /* devices that do not match the plan */
  OK(seed, pal_plan_dense_chain(&cfg, l, 2, 4, NULL, &plan));
  float x[40 * 2] = {0}, y[7 * 2];
  pal_tile_config_t c8;
  pal_tile_config_initialize(&c8, 8, 8);
  pal_device_t *dev = open_emu(seed, &c8, true);
  expect_status(seed, pal_plan_run(plan, dev, x, 2, y, NULL), PAL_FAILED_PRECONDITION, "emu://",
                "4x4 plan on an 8x8 device");
  pal_device_close(dev);
  pal_tile_config_t small = cfg;
  small.abuf_blocks = 64;
  dev = open_emu(seed, &small, true);
  expect_status(seed, pal_plan_run(plan, dev, x, 2, y, NULL), PAL_FAILED_PRECONDITION, "ABUF_BLOCKS",
                "device with a smaller ABUF");
  expect_status(seed, pal_plan_run(plan, dev, x, 0, y, NULL), PAL_INVALID_ARGUMENT, "batch", "batch 0");
  pal_device_close(dev);
  pal_plan_destroy(plan);

  /* asking for a single kernel where none exists */
  tiny = cfg;
  tiny.wmem_blocks = 1;
  pal_plan_options_initialize(&opt);
  opt.single_kernel = true;
  expect_status(seed, pal_plan_dense_chain(&tiny, l, 2, 4, &opt, &plan), PAL_UNIMPLEMENTED, "WMEM",
                "single_kernel on a 1-block WMEM");
  assert_null(plan);

  /* a streamed plan has no single .palk */
  tiny = cfg;
  tiny.wmem_blocks = 1;
  OK(seed, pal_plan_dense_chain(&tiny, l, 2, 4, NULL, &plan));
  pal_kernel_image_builder_t *b = NULL;
  expect_status(seed, pal_plan_build_palk(plan, &b), PAL_UNIMPLEMENTED, "pal_plan_run", "palk of a streamed plan");
  assert_null(b);
  pal_plan_destroy(plan);

  /* conv shapes that do not lower */
  pal_conv2d_t c;
  pal_conv2d_initialize(&c);
  c.in_channels = 4;
  c.in_h = c.in_w = 5;
  c.out_channels = 4;
  c.kernel_h = c.kernel_w = 3;
  c.weights = o[0].w;
  c.groups = 2;
  pal_conv2d_plan_t *cp = NULL;
  expect_status(seed, pal_plan_conv2d(&cfg, &c, 1, &cp), PAL_UNIMPLEMENTED, "groups", "grouped conv");
  c.groups = 1;
  c.kernel_h = 9;
  expect_status(seed, pal_plan_conv2d(&cfg, &c, 1, &cp), PAL_INVALID_ARGUMENT, "kernel", "kernel > input");
  c.kernel_h = 3;
  c.stride_w = 0;
  expect_status(seed, pal_plan_conv2d(&cfg, &c, 1, &cp), PAL_INVALID_ARGUMENT, "strides", "stride 0");
  assert_null(cp);
  free_layers(o, 2);
}

/* ---- .palk ------------------------------------------------------------------- */

static void test_palk(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 88);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 100, 48, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 48, 30, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[2], 30, 9, true, PAL_BIAS_START, PAL_ACT_NONE);
  pal_dense_layer_t l[3] = {o[0].l, o[1].l, o[2].l};
  pal_plan_t *plan = NULL;
  pal_plan_options_t opt;
  pal_plan_options_initialize(&opt);
  opt.single_kernel = true;
  OK(seed, pal_plan_dense_chain(&cfg, l, 3, 1000, &opt, &plan));
  assert_true(pal_plan_is_single_kernel(plan));
  pal_plan_destroy(plan);
  OK(seed, pal_plan_dense_chain(&cfg, l, 3, 4, NULL, &plan));
  assert_true(pal_plan_is_single_kernel(plan));
  char path[] = "/tmp/pal-compile-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  OK(seed, pal_plan_write_palk(plan, path));
  pal_kernel_image_t *img = NULL;
  OK(seed, pal_kernel_image_read_file(path, &img));
  unlink(path);
  OK(seed, pal_kernel_image_validate(img, &cfg));
  pal_tile_config_t c8;
  pal_tile_config_initialize(&c8, 8, 8);
  pal_status_t st = pal_kernel_image_validate(img, &c8);
  PAL_TEST_CHECK(seed, st != NULL, "a 4x4 image validated against an 8x8 device");
  pal_status_free(st);

  uint32_t batch = 6; /* a chunk of 4 and a partial one */
  float *x = rand_input(&rng, batch, 100), y[6 * 9], yp[6 * 9];
  pal_device_t *dev = open_emu(seed, &cfg, false);
  pal_plan_stats_t stats;
  OK(seed, pal_palk_run_dense(img, dev, x, batch, y, &stats));
  OK(seed, pal_plan_reference(plan, x, batch, yp));
  compare(seed, ".palk run vs pal_plan_reference", y, yp, (size_t)batch * 9);
  PAL_TEST_CHECK(seed, stats.kernel_runs == 2, "%llu runs for 6 rows in chunks of 4",
                 (unsigned long long)stats.kernel_runs);
  pal_device_close(dev);
  pal_kernel_image_destroy(img);
  pal_plan_destroy(plan);
  free(x);
  free_layers(o, 3);
}

/* A tile without accumulate units either (pal_tile_config_t.no_accu, the
 * UP5K tile in the making): every GEMM starts from zero and leaves raw
 * block sums per K block in ACC; the host accumulates them (from the bias
 * where the layer starts from one) and post-processes. The outputs must
 * be the references' bit for bit, over the link and direct, with NaR, a
 * start bias and a post bias, and with buffers so small that ACC bounds
 * the K chunk; the plan says where the accumulation ran, and a plan is
 * refused on a tile of the other kind (it would read one kind of sum as
 * the other). */
static void test_no_accumulate_units(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 67);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  cfg.no_post = cfg.no_accu = 1;
  owned_layer_t o[3];
  make_layer(&rng, &o[0], 96, 64, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &o[1], 64, 40, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  make_layer(&rng, &o[2], 40, 10, true, PAL_BIAS_START, PAL_ACT_NONE);
  case_result_t r = {0};
  run_case(seed, &cfg, true, o, 3, 9, 9, NULL, &r);
  PAL_TEST_CHECK(seed, r.nar_outputs == 0, "%zu of %zu outputs NaR without a NaR operand", r.nar_outputs, r.outputs);
  PAL_TEST_CHECK(seed, r.stats.host_post_outputs == 9u * (64 + 40 + 10),
                 "host POST of %llu outputs (expected %u):\n%s", (unsigned long long)r.stats.host_post_outputs,
                 9u * (64 + 40 + 10), r.describe);
  PAL_TEST_CHECK(seed, strstr(r.describe, "no accumulate units") && strstr(r.describe, "accumulated and POST on the host"),
                 "describe() does not say where the accumulation ran:\n%s", r.describe);
  free(r.describe);
  run_case(seed + 1, &cfg, false, o, 3, 4, 11, NULL, &r);
  free(r.describe);

  /* NaR weight blocks (one layer, so that they do not make every later
   * output NaR): their columns' outputs are NaR, the others are not; an
   * N-tile visits such a block for every row, zero activations or not */
  owned_layer_t nl;
  make_layer(&rng, &nl, 200, 40, true, PAL_BIAS_START, PAL_ACT_NONE);
  nl.w[3 * 200 + 7] = NAN;      /* column 3, block 0: the rows' zero block (rand_input) */
  nl.w[21 * 200 + 150] = NAN;   /* column 21, block 4 */
  run_case(seed + 4, &cfg, true, &nl, 1, 6, 6, NULL, &r);
  PAL_TEST_CHECK(seed, r.nar_outputs > 0 && r.nar_outputs < r.outputs, "%zu of %zu outputs NaR", r.nar_outputs,
                 r.outputs);
  free(r.describe);

  /* tiny buffers: ACC (24 words) bounds the K chunk to 24 / (mc * 6) blocks */
  pal_tile_config_t tiny;
  tiny_config(&tiny);
  tiny.no_post = tiny.no_accu = 1;
  owned_layer_t t[2];
  make_layer(&rng, &t[0], 300, 70, true, PAL_BIAS_START, PAL_ACT_RELU);
  make_layer(&rng, &t[1], 70, 13, true, PAL_BIAS_POST, PAL_ACT_CLIP);
  run_case(seed + 2, &tiny, true, t, 2, 5, 5, NULL, &r);
  PAL_TEST_CHECK(seed, r.nar_outputs == 0, "%zu of %zu outputs NaR", r.nar_outputs, r.outputs);
  PAL_TEST_CHECK(seed, strstr(r.describe, "K chunk(s) of <= 1 blocks") || strstr(r.describe, "K chunk(s) of <= 2 blocks"),
                 "ACC did not bound the K chunk:\n%s", r.describe);
  free(r.describe);
  run_case(seed + 3, &tiny, false, t, 2, 3, 7, NULL, &r);
  free(r.describe);

  /* a plan of one kind on a tile of the other: refused, naming it */
  pal_tile_config_t fp32 = cfg;
  fp32.no_accu = 0;
  pal_dense_layer_t l0 = o[0].l;
  for (int k = 0; k < 2; k++) {
    pal_plan_t *plan = NULL;
    OK(seed, pal_plan_dense_chain(k ? &fp32 : &cfg, &l0, 1, 2, NULL, &plan));
    pal_device_t *dev = open_emu(seed, k ? &cfg : &fp32, true);
    float x[2 * 96] = {0}, y[2 * 64];
    pal_status_t st = pal_plan_run(plan, dev, x, 2, y, NULL);
    PAL_TEST_CHECK(seed, st && pal_status_code(st) == PAL_FAILED_PRECONDITION &&
                             strstr(pal_status_message(st), "accumulate units"),
                   "a plan %s accumulate units on a tile %s them: %s", k ? "with" : "without", k ? "without" : "with",
                   st ? pal_status_message(st) : "ran");
    pal_status_free(st);
    pal_device_close(dev);
    pal_plan_destroy(plan);
  }
  free_layers(o, 3);
  free_layers(&nl, 1);
  free_layers(t, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_layer_shapes), cmocka_unit_test(test_chain_on_chip),
      cmocka_unit_test(test_mlp_8x8),             cmocka_unit_test(test_tiny_geometry),
      cmocka_unit_test(test_weight_streaming),    cmocka_unit_test(test_nar),
      cmocka_unit_test(test_conv2d),              cmocka_unit_test(test_errors),
      cmocka_unit_test(test_palk),                cmocka_unit_test(test_random_plans),
      cmocka_unit_test(test_no_post_unit),
      cmocka_unit_test(test_no_accumulate_units),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
