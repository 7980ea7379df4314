/* The FP32 CNN trainer: backpropagated gradients (through im2col, ReLU and
 * max pooling) against central finite differences on a tiny instance; a
 * short training run on a Fashion-MNIST subset that must lower the loss and
 * give identical parameters for the same seed; the exported ONNX model loaded
 * back and run on the runtime's cpu provider (the trainer's logits within
 * 1e-5), and on its pal provider (emu://) against the compiler's golden
 * model computed layer by layer (bit for bit); bad shapes and labels. */
#include <unistd.h>

#include "pal/compile.h"
#include "pal/pal.h"
#include "pal_test.h"
#include "pal_train.h"

static void check_ok(pal_status_t st) {
  if (st) {
    print_error("unexpected error: %s\n", pal_status_message(st));
    pal_status_free(st);
    fail();
  }
}

static pal_cnn_t *tiny_cnn(uint64_t seed, size_t hw, size_t c1, size_t c2, size_t hidden, size_t classes) {
  pal_cnn_config_t cfg = {.hw = hw, .c1 = c1, .c2 = c2, .hidden = hidden, .classes = classes};
  pal_cnn_t *m;
  check_ok(pal_cnn_create(&cfg, &m));
  pal_cnn_init_he(m, seed);
  /* Non-zero biases so their gradients are tested in a general position. */
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0xB1A5);
  float *b[4] = {m->b1, m->b2, m->b3, m->b4};
  size_t nb[4] = {c1, c2, hidden, classes};
  for (int l = 0; l < 4; l++)
    for (size_t i = 0; i < nb[l]; i++) b[l][i] = (float)(0.2 * pal_test_rng_gauss(&rng));
  return m;
}

static void test_gradient_finite_differences(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const size_t batch = 3, hw = 8;
  pal_cnn_t *m = tiny_cnn(seed, hw, 3, 4, 6, 5), *g;
  check_ok(pal_cnn_create(&m->cfg, &g));
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  float x[3 * 64];
  uint8_t y[3];
  for (size_t i = 0; i < batch * hw * hw; i++) x[i] = (float)pal_test_rng_uniform(&rng);
  for (size_t i = 0; i < batch; i++) y[i] = (uint8_t)pal_test_rng_below(&rng, 5);
  double loss;
  check_ok(pal_cnn_loss_grad(m, x, y, batch, g, &loss));
  assert_true(loss > 0.0);
  /* Central differences; a step whose ReLU signs or pool winners differ
   * from the unperturbed ones crossed a kink (no derivative there), and the
   * parameter is skipped. */
  const double h = 1e-3;
  uint64_t sig0, sig;
  check_ok(pal_cnn_kink_signature(m, x, batch, &sig0));
  size_t checked = 0, skipped = 0;
  for (size_t i = 0; i < m->n_params; i++) {
    float keep = m->params[i];
    double lp, lm;
    bool kink = false;
    m->params[i] = keep + (float)h;
    check_ok(pal_cnn_loss_grad(m, x, y, batch, NULL, &lp));
    check_ok(pal_cnn_kink_signature(m, x, batch, &sig));
    kink |= sig != sig0;
    m->params[i] = keep - (float)h;
    check_ok(pal_cnn_loss_grad(m, x, y, batch, NULL, &lm));
    check_ok(pal_cnn_kink_signature(m, x, batch, &sig));
    kink |= sig != sig0;
    m->params[i] = keep;
    if (kink) {
      skipped++;
      continue;
    }
    double num = (lp - lm) / (2 * h), ana = g->params[i];
    PAL_TEST_CHECK(seed, fabs(num - ana) <= 2e-3 + 2e-2 * fabs(ana),
                   "parameter %zu of %zu: backprop %.6g, finite difference %.6g", i, m->n_params, ana, num);
    checked++;
  }
  /* The test means something only if nearly every parameter was checked. */
  PAL_TEST_CHECK(seed, skipped * 10 < checked, "%zu of %zu parameters straddled a kink", skipped,
                 checked + skipped);
  pal_cnn_destroy(m);
  pal_cnn_destroy(g);
}

static bool load_subset(pal_mnist_set_t *set, size_t n) {
  pal_status_t st = pal_mnist_load(PAL_MNIST_DEFAULT_DIR, "t10k", n, set);
  if (st) {
    print_message("Fashion-MNIST not available (%s): install dataset-fashion-mnist\n", pal_status_message(st));
    pal_status_free(st);
    return false;
  }
  return true;
}

static pal_cnn_t *train_once(const pal_mnist_set_t *set, uint64_t seed, size_t epochs, double *losses) {
  pal_cnn_t *m = tiny_cnn(seed, 28, 4, 8, 32, 10);
  pal_cnn_init_he(m, seed);
  pal_train_options_t o;
  pal_train_options_initialize(&o);
  o.batch = 32;
  o.lr = 3e-3f;
  o.seed = seed * 31 + 7;
  pal_cnn_trainer_t *t;
  check_ok(pal_cnn_trainer_create(m, &o, &t));
  check_ok(pal_cnn_loss_grad(m, set->images, set->labels, set->n, NULL, &losses[0]));
  for (size_t e = 0; e < epochs; e++) {
    double ignored;
    check_ok(pal_cnn_trainer_epoch(t, set->images, set->labels, set->n, &ignored));
    check_ok(pal_cnn_loss_grad(m, set->images, set->labels, set->n, NULL, &losses[e + 1]));
  }
  pal_cnn_trainer_destroy(t);
  return m;
}

static void test_training_lowers_loss(void **state) {
  (void)state;
  pal_mnist_set_t set;
  if (!load_subset(&set, 400)) skip();
  double l1[4], l2[4], l3[4];
  pal_cnn_t *a = train_once(&set, 5, 3, l1), *b = train_once(&set, 5, 3, l2), *c = train_once(&set, 6, 3, l3);
  for (size_t e = 0; e < 3; e++)
    if (!(l1[e + 1] < l1[e])) fail_msg("loss went up in epoch %zu: %.4f -> %.4f", e + 1, l1[e], l1[e + 1]);
  if (!(l1[3] < 0.6 * l1[0])) fail_msg("loss only went from %.4f to %.4f", l1[0], l1[3]);
  assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
  assert_memory_equal(l1, l2, sizeof l1);
  assert_true(memcmp(a->params, c->params, a->n_params * sizeof(float)) != 0);
  pal_cnn_destroy(a);
  pal_cnn_destroy(b);
  pal_cnn_destroy(c);
  pal_mnist_release(&set);
}

static void test_bad_input(void **state) {
  (void)state;
  pal_cnn_config_t cfg;
  pal_cnn_config_initialize(&cfg);
  pal_cnn_t *m = NULL;
  cfg.hw = 30; /* not a multiple of 4 */
  pal_status_t st = pal_cnn_create(&cfg, &m);
  assert_non_null(st);
  assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
  assert_non_null(strstr(pal_status_message(st), "30"));
  pal_status_free(st);
  assert_null(m);
  pal_cnn_config_initialize(&cfg);
  cfg.c2 = 0;
  st = pal_cnn_create(&cfg, &m);
  assert_non_null(st);
  pal_status_free(st);
  m = tiny_cnn(1, 8, 2, 2, 3, 4);
  float x[2 * 64] = {0};
  uint8_t y[2] = {1, 4}; /* 4 is not below 4 classes */
  double loss;
  st = pal_cnn_loss_grad(m, x, y, 2, NULL, &loss);
  assert_non_null(st);
  assert_non_null(strstr(pal_status_message(st), "row 1"));
  pal_status_free(st);
  pal_cnn_t *other = tiny_cnn(1, 8, 2, 3, 3, 4);
  y[1] = 0;
  st = pal_cnn_loss_grad(m, x, y, 2, other, &loss); /* gradient of another shape */
  assert_non_null(st);
  pal_status_free(st);
  pal_cnn_destroy(other);
  pal_cnn_destroy(m);
}

/* Runs the graph on n images (n x 1 x hw x hw) on `providers`. */
static void run_graph(const pal_graph_t *g, const char *providers, const float *x, size_t n, size_t hw,
                      size_t classes, float *logits, size_t *out_pal_nodes) {
  pal_session_options_t so;
  pal_session_options_initialize(&so);
  so.providers = providers;
  so.device_uri = "emu://";
  pal_session_t *s;
  check_ok(pal_session_create(g, &so, &s));
  if (out_pal_nodes) *out_pal_nodes = pal_session_provider_node_count(s, PAL_PROVIDER_PAL);
  int64_t dims[4] = {(int64_t)n, 1, (int64_t)hw, (int64_t)hw};
  pal_tensor_t *in, *out;
  check_ok(pal_tensor_create_from(PAL_DTYPE_FP32, 4, dims, x, &in));
  const pal_tensor_t *ins[1] = {in};
  check_ok(pal_session_run(s, 1, ins, 1, &out));
  assert_int_equal(pal_tensor_count(out), n * classes);
  memcpy(logits, pal_tensor_cdata(out), n * classes * sizeof(float));
  pal_tensor_release(in);
  pal_tensor_release(out);
  pal_session_release(s);
}

static void maxpool2(const float *x, size_t planes, size_t h, float *y) {
  for (size_t p = 0; p < planes; p++)
    for (size_t i = 0; i < h / 2; i++)
      for (size_t j = 0; j < h / 2; j++) {
        const float *r = x + (p * h + 2 * i) * h + 2 * j;
        float v = r[0];
        if (r[1] > v) v = r[1];
        if (r[h] > v) v = r[h];
        if (r[h + 1] > v) v = r[h + 1];
        y[(p * (h / 2) + i) * (h / 2) + j] = v;
      }
}

/* The compiler's golden model (pal_*_reference), layer by layer with the
 * pools on the host: what the pal provider must produce bit for bit. */
static void golden_pal8(const pal_cnn_t *m, const float *x, size_t n, float *logits) {
  const pal_cnn_config_t *c = &m->cfg;
  pal_tile_config_t geo;
  pal_tile_config_initialize(&geo, 4, 4);
  size_t H = c->hw, H2 = H / 2;
  pal_conv2d_t cv[2];
  pal_conv2d_plan_t *p[2];
  for (int i = 0; i < 2; i++) {
    pal_conv2d_initialize(&cv[i]);
    cv[i].in_channels = (uint32_t)(i ? c->c1 : 1);
    cv[i].in_h = cv[i].in_w = (uint32_t)(i ? H2 : H);
    cv[i].out_channels = (uint32_t)(i ? c->c2 : c->c1);
    cv[i].kernel_h = cv[i].kernel_w = 3;
    cv[i].pad_top = cv[i].pad_left = cv[i].pad_bottom = cv[i].pad_right = 1;
    cv[i].weights = i ? m->w2 : m->w1;
    cv[i].bias = i ? m->b2 : m->b1;
    cv[i].act = PAL_ACT_RELU;
    check_ok(pal_plan_conv2d(&geo, &cv[i], (uint32_t)n, &p[i]));
  }
  pal_dense_layer_t fc[2];
  for (int i = 0; i < 2; i++) {
    pal_dense_layer_initialize(&fc[i]);
    fc[i].in_features = (uint32_t)(i ? c->hidden : m->flat);
    fc[i].out_features = (uint32_t)(i ? c->classes : c->hidden);
    fc[i].weights = i ? m->w4 : m->w3;
    fc[i].bias = i ? m->b4 : m->b3;
    fc[i].act = i ? PAL_ACT_NONE : PAL_ACT_RELU;
  }
  pal_plan_t *pf;
  check_ok(pal_plan_dense_chain(&geo, fc, 2, (uint32_t)n, NULL, &pf));
  float *y1 = malloc(n * c->c1 * H * H * sizeof(float)), *q1 = malloc(n * c->c1 * H2 * H2 * sizeof(float));
  float *y2 = malloc(n * c->c2 * H2 * H2 * sizeof(float)), *q2 = malloc(n * m->flat * sizeof(float));
  check_ok(pal_conv2d_plan_reference(p[0], x, (uint32_t)n, y1));
  maxpool2(y1, n * c->c1, H, q1);
  check_ok(pal_conv2d_plan_reference(p[1], q1, (uint32_t)n, y2));
  maxpool2(y2, n * c->c2, H2, q2);
  check_ok(pal_plan_reference(pf, q2, (uint32_t)n, logits));
  free(y1);
  free(q1);
  free(y2);
  free(q2);
  pal_conv2d_plan_destroy(p[0]);
  pal_conv2d_plan_destroy(p[1]);
  pal_plan_destroy(pf);
}

static void test_onnx_export(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *base = getenv("TMPDIR");
  char dir[256], path[400];
  snprintf(dir, sizeof dir, "%s/pal-train-cnn-XXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/cnn.onnx", dir);
  pal_cnn_t *m = tiny_cnn(seed, 12, 5, 6, 20, 10);
  check_ok(pal_cnn_save_onnx(m, path));
  pal_graph_t *g;
  check_ok(pal_onnx_load(path, &g));
  static const char *const ops[] = {"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool",
                                    "Flatten", "Gemm", "Relu", "Gemm"};
  assert_int_equal(pal_graph_node_count(g), 10);
  for (size_t i = 0; i < 10; i++) assert_string_equal(pal_graph_node_op(g, i), ops[i]);
  assert_int_equal(pal_graph_input_count(g), 1);
  assert_string_equal(pal_graph_output_name(g, 0), "logits");
  const pal_tensor_t *w2 = pal_graph_initializer(g, "conv2.W");
  assert_non_null(w2);
  assert_int_equal(pal_tensor_rank(w2), 4);
  assert_int_equal(pal_tensor_dims(w2)[0], 6);
  assert_int_equal(pal_tensor_dims(w2)[1], 5);
  assert_memory_equal(pal_tensor_cdata(w2), m->w2, 6 * 5 * 9 * sizeof(float));

  const size_t n = 6, K = 10, hw = 12;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  float x[6 * 144], ref[60], got[60], gold[60];
  for (size_t i = 0; i < n * hw * hw; i++) x[i] = (float)pal_test_rng_uniform(&rng);
  check_ok(pal_cnn_forward(m, x, n, ref));
  run_graph(g, "cpu", x, n, hw, K, got, NULL);
  for (size_t i = 0; i < n * K; i++)
    PAL_TEST_CHECK(seed, fabsf(got[i] - ref[i]) <= 1e-5f * (1.0f + fabsf(ref[i])),
                   "logit %zu: cpu provider %.9g, trainer %.9g", i, got[i], ref[i]);
  /* PAL8 on emu://: Conv and Gemm (with their ReLUs) on the tile. */
  size_t on_pal = 0;
  run_graph(g, "pal,cpu", x, n, hw, K, got, &on_pal);
  assert_int_equal(on_pal, 7);
  golden_pal8(m, x, n, gold);
  for (size_t i = 0; i < n * K; i++)
    PAL_TEST_CHECK(seed, pal_f32_bits(got[i]) == pal_f32_bits(gold[i]), "logit %zu: pal provider %a, golden %a", i,
                   (double)got[i], (double)gold[i]);
  pal_graph_release(g);
  pal_cnn_destroy(m);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradient_finite_differences),
      cmocka_unit_test(test_training_lowers_loss),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_onnx_export),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
