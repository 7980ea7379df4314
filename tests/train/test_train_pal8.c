/* The evaluator's PAL8-B32 path (pal_gemm fast path) against an
 * independent layer-by-layer computation with the reference GEMM
 * (pal_gemm_ref), bit for bit, on random and on real images; against the
 * tile compiler on emu:// when the compiler is built; and its error
 * against FP32 stays within what PAL8-B32 allows. */
#include "pal/gemm.h"
#include "pal_test.h"
#include "pal_train.h"
#ifdef PAL_TRAIN_HAVE_COMPILER
#include "pal/compile.h"
#include "pal/driver.h"
#endif

static void check_ok(pal_status_t st) {
  if (st) {
    print_error("unexpected error: %s\n", pal_status_message(st));
    pal_status_free(st);
    fail();
  }
}

/* The tile's dataflow written out with the reference GEMM: encode the
 * input along K, accumulate from the bias (start mode), ReLU on hidden
 * layers, re-encode each hidden output. acts[l] as pal_mlp_pal8_forward. */
static void reference_forward(const pal_mlp_t *m, const float *x, size_t batch, float **acts) {
  const float *cur = x;
  for (size_t l = 0; l < m->n_layers; l++) {
    size_t in = m->sizes[l], out = m->sizes[l + 1];
    pal_b32_matrix_t a, w;
    check_ok(pal_b32_matrix_create(batch, in, &a));
    check_ok(pal_b32_matrix_create(out, in, &w));
    pal_b32_matrix_encode(cur, in, &a);
    pal_b32_matrix_encode(m->w[l], in, &w);
    pal_epilogue_t ep;
    pal_epilogue_initialize(&ep);
    ep.bias = m->b[l];
    ep.bias_mode = PAL_BIAS_START;
    ep.act = l + 1 < m->n_layers ? PAL_ACT_RELU : PAL_ACT_NONE;
    pal_gemm_ref(&a, &w, &ep, acts[l], out);
    pal_b32_matrix_release(&a);
    pal_b32_matrix_release(&w);
    cur = acts[l];
  }
}

static size_t bit_diffs(const float *a, const float *b, size_t n, size_t *first) {
  size_t d = 0;
  for (size_t i = 0; i < n; i++)
    if (pal_f32_bits(a[i]) != pal_f32_bits(b[i]) && !(isnan(a[i]) && isnan(b[i]))) {
      if (!d) *first = i;
      d++;
    }
  return d;
}

/* Compares the PAL8 path with the reference on `batch` rows of x; returns
 * the relative L2 error of the logits against FP32 through *out_rel. */
static void compare(uint64_t seed, const pal_mlp_t *m, const float *x, size_t batch, double *out_rel) {
  size_t L = m->n_layers;
  float *qa[PAL_MLP_MAX_LAYERS], *ra[PAL_MLP_MAX_LAYERS], *fa[PAL_MLP_MAX_LAYERS];
  for (size_t l = 0; l < L; l++) {
    qa[l] = malloc(batch * m->sizes[l + 1] * sizeof(float));
    ra[l] = malloc(batch * m->sizes[l + 1] * sizeof(float));
    fa[l] = malloc(batch * m->sizes[l + 1] * sizeof(float));
  }
  pal_mlp_pal8_t *q;
  check_ok(pal_mlp_pal8_create(m, &q));
  size_t nar = 99;
  check_ok(pal_mlp_pal8_forward(q, x, batch, 2, qa, &nar));
  assert_int_equal(nar, 0);
  reference_forward(m, x, batch, ra);
  check_ok(pal_mlp_forward(m, x, batch, fa));
  for (size_t l = 0; l < L; l++) {
    size_t first = 0, d = bit_diffs(qa[l], ra[l], batch * m->sizes[l + 1], &first);
    PAL_TEST_CHECK(seed, d == 0, "layer %zu: %zu outputs differ from pal_gemm_ref, first at %zu: %a vs %a", l, d,
                   first, (double)qa[l][first], (double)ra[l][first]);
  }
  double e2 = 0, r2 = 0;
  for (size_t i = 0; i < batch * m->sizes[L]; i++) {
    double e = (double)qa[L - 1][i] - fa[L - 1][i];
    e2 += e * e;
    r2 += (double)fa[L - 1][i] * fa[L - 1][i];
  }
  *out_rel = sqrt(e2 / r2);
  pal_mlp_pal8_destroy(q);
  for (size_t l = 0; l < L; l++) {
    free(qa[l]);
    free(ra[l]);
    free(fa[l]);
  }
}

static pal_mlp_t *random_mlp(uint64_t seed, const size_t *sizes, size_t n_layers) {
  pal_mlp_t *m;
  check_ok(pal_mlp_create(n_layers, sizes, &m));
  pal_mlp_init_he(m, seed);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0xB1A5);
  for (size_t l = 0; l < n_layers; l++)
    for (size_t i = 0; i < sizes[l + 1]; i++) m->b[l][i] = (float)(0.1 * pal_test_rng_gauss(&rng));
  return m;
}

/* Widths that are not multiples of 32 exercise the tail blocks. */
static void test_pal8_random(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const size_t sizes[4] = {100, 70, 45, 10}, batch = 7;
  pal_mlp_t *m = random_mlp(seed, sizes, 3);
  float x[7 * 100];
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 1);
  for (size_t i = 0; i < batch * 100; i++) x[i] = (float)pal_test_rng_uniform(&rng);
  double rel;
  compare(seed, m, x, batch, &rel);
  /* PAL8-B32's per-product error is a few per cent at most; a chain of
   * three layers must stay well within 10 % of FP32. */
  PAL_TEST_CHECK(seed, rel < 0.1, "PAL8 logits differ from FP32 by %.4f (relative L2)", rel);
  pal_mlp_destroy(m);
}

static void test_pal8_real_images(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_mnist_set_t set;
  pal_status_t st = pal_mnist_load(PAL_MNIST_DEFAULT_DIR, "t10k", 5, &set);
  if (st) {
    print_message("Fashion-MNIST not available (%s): install dataset-fashion-mnist\n", pal_status_message(st));
    pal_status_free(st);
    skip();
  }
  const size_t sizes[4] = {784, 256, 128, 10};
  pal_mlp_t *m = random_mlp(seed, sizes, 3);
  double rel;
  compare(seed, m, set.images, set.n, &rel);
  PAL_TEST_CHECK(seed, rel < 0.1, "PAL8 logits differ from FP32 by %.4f (relative L2)", rel);
  pal_mlp_destroy(m);
  pal_mnist_release(&set);
}

static void test_argmax(void **state) {
  (void)state;
  const float a[5] = {1, 3, 3, -1, 2};
  assert_int_equal(pal_argmax(a, 5), 1);
  const float b[3] = {NAN, -5, -7};
  assert_int_equal(pal_argmax(b, 3), 1);
  const float c[1] = {4};
  assert_int_equal(pal_argmax(c, 1), 0);
}

#ifdef PAL_TRAIN_HAVE_COMPILER
/* The tile compiler on emu:// gives the PAL8 path's logits, bit for bit. */
static void test_pal8_equals_tile(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const size_t sizes[4] = {96, 40, 33, 10}, batch = 6;
  pal_mlp_t *m = random_mlp(seed, sizes, 3);
  float x[6 * 96], ty[6 * 10];
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 2);
  for (size_t i = 0; i < batch * 96; i++) x[i] = pal_test_rng_below(&rng, 3) ? (float)pal_test_rng_uniform(&rng) : 0.0f;
  float *qa[3];
  for (size_t l = 0; l < 3; l++) qa[l] = malloc(batch * sizes[l + 1] * sizeof(float));
  pal_mlp_pal8_t *q;
  check_ok(pal_mlp_pal8_create(m, &q));
  check_ok(pal_mlp_pal8_forward(q, x, batch, 1, qa, NULL));
  pal_dense_layer_t layers[3];
  for (size_t l = 0; l < 3; l++) {
    pal_dense_layer_initialize(&layers[l]);
    layers[l].in_features = (uint32_t)sizes[l];
    layers[l].out_features = (uint32_t)sizes[l + 1];
    layers[l].weights = m->w[l];
    layers[l].bias = m->b[l];
    layers[l].act = l < 2 ? PAL_ACT_RELU : PAL_ACT_NONE;
  }
  pal_device_t *dev;
  check_ok(pal_device_open("emu://", NULL, &dev));
  pal_plan_t *plan;
  check_ok(pal_plan_dense_chain(&pal_device_tile(dev)->config, layers, 3, (uint32_t)batch, NULL, &plan));
  check_ok(pal_plan_run(plan, dev, x, (uint32_t)batch, ty, NULL));
  size_t first = 0, d = bit_diffs(ty, qa[2], batch * 10, &first);
  PAL_TEST_CHECK(seed, d == 0, "%zu tile logits differ from the PAL8 path, first at %zu: %a vs %a", d, first,
                 (double)ty[first], (double)qa[2][first]);
  pal_plan_destroy(plan);
  pal_device_close(dev);
  pal_mlp_pal8_destroy(q);
  for (size_t l = 0; l < 3; l++) free(qa[l]);
  pal_mlp_destroy(m);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pal8_random),
      cmocka_unit_test(test_pal8_real_images),
      cmocka_unit_test(test_argmax),
#ifdef PAL_TRAIN_HAVE_COMPILER
      cmocka_unit_test(test_pal8_equals_tile),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
