/* The FP32 trainer: backpropagated gradients against central finite
 * differences on a tiny network, the loss of a known network, a short
 * training run on a Fashion-MNIST subset that must lower the loss and give
 * identical weights for the same seed, and the model files (.npy round trip,
 * ONNX export loaded back by the runtime). */
#include <sys/stat.h>
#include <unistd.h>

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

static pal_mlp_t *tiny_mlp(uint64_t seed, const size_t *sizes, size_t n_layers) {
  pal_mlp_t *m;
  check_ok(pal_mlp_create(n_layers, sizes, &m));
  pal_mlp_init_he(m, seed);
  /* Non-zero biases so their gradients are tested in a general position. */
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0xB1A5);
  for (size_t l = 0; l < n_layers; l++)
    for (size_t i = 0; i < sizes[l + 1]; i++) m->b[l][i] = (float)(0.3 * pal_test_rng_gauss(&rng));
  return m;
}

/* The ReLU pattern of every hidden layer, to spot a finite difference that
 * straddles a kink (where the derivative is not defined). */
static void relu_mask(const pal_mlp_t *m, const float *x, size_t batch, uint8_t *mask) {
  float *acts[PAL_MLP_MAX_LAYERS];
  for (size_t l = 0; l < m->n_layers; l++) acts[l] = malloc(batch * m->sizes[l + 1] * sizeof(float));
  check_ok(pal_mlp_forward(m, x, batch, acts));
  size_t k = 0;
  for (size_t l = 0; l + 1 < m->n_layers; l++)
    for (size_t i = 0; i < batch * m->sizes[l + 1]; i++) mask[k++] = acts[l][i] > 0.0f;
  for (size_t l = 0; l < m->n_layers; l++) free(acts[l]);
}

static void test_gradient_finite_differences(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const size_t sizes[4] = {9, 7, 6, 4};
  const size_t batch = 5;
  pal_mlp_t *m = tiny_mlp(seed, sizes, 3), *g;
  check_ok(pal_mlp_create(3, sizes, &g));
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  float x[5 * 9];
  uint8_t y[5];
  for (size_t i = 0; i < batch * 9; i++) x[i] = (float)pal_test_rng_gauss(&rng);
  for (size_t i = 0; i < batch; i++) y[i] = (uint8_t)pal_test_rng_below(&rng, 4);
  double loss;
  check_ok(pal_mlp_loss_grad(m, x, y, batch, g, &loss));
  assert_true(loss > 0.0);

  size_t mask_n = batch * (7 + 6);
  uint8_t m0[5 * 13], m1[5 * 13];
  const float h = 1e-2f;
  size_t checked = 0, skipped = 0;
  for (size_t l = 0; l < 3; l++) {
    for (int is_bias = 0; is_bias < 2; is_bias++) {
      size_t count = is_bias ? sizes[l + 1] : sizes[l] * sizes[l + 1];
      float *p = is_bias ? m->b[l] : m->w[l];
      const float *gp = is_bias ? g->b[l] : g->w[l];
      for (size_t i = 0; i < count; i++) {
        float keep = p[i];
        double lp, lm;
        p[i] = keep + h;
        check_ok(pal_mlp_loss_grad(m, x, y, batch, NULL, &lp));
        relu_mask(m, x, batch, m0);
        p[i] = keep - h;
        check_ok(pal_mlp_loss_grad(m, x, y, batch, NULL, &lm));
        relu_mask(m, x, batch, m1);
        p[i] = keep;
        if (memcmp(m0, m1, mask_n) != 0) { /* crosses a ReLU kink */
          skipped++;
          continue;
        }
        double num = (lp - lm) / (2.0 * (double)h), ana = gp[i];
        PAL_TEST_CHECK(seed, fabs(num - ana) <= 2e-3 + 2e-2 * fabs(ana),
                       "layer %zu %s[%zu]: backprop %.6g, finite difference %.6g", l, is_bias ? "b" : "W",
                       i, ana, num);
        checked++;
      }
    }
  }
  /* The test means something only if nearly every parameter was checked. */
  PAL_TEST_CHECK(seed, skipped * 10 < checked, "%zu of %zu parameters straddled a kink", skipped,
                 checked + skipped);
  pal_mlp_destroy(m);
  pal_mlp_destroy(g);
}

/* All-zero parameters: uniform softmax, loss ln(C), logit gradient
 * (1/C - onehot)/B, so the last bias gradient is the class frequency gap. */
static void test_loss_known_network(void **state) {
  (void)state;
  const size_t sizes[3] = {3, 4, 5};
  pal_mlp_t *m, *g;
  check_ok(pal_mlp_create(2, sizes, &m));
  check_ok(pal_mlp_create(2, sizes, &g));
  const float x[4 * 3] = {1, 2, 3, -1, 0, 2, 0.5f, 0.5f, 0.5f, 9, 9, 9};
  const uint8_t y[4] = {0, 4, 4, 2};
  double loss;
  check_ok(pal_mlp_loss_grad(m, x, y, 4, g, &loss));
  assert_true(fabs(loss - log(5.0)) < 1e-6);
  const double want[5] = {0.2 - 0.25, 0.2, 0.2 - 0.25, 0.2, 0.2 - 0.5};
  for (size_t c = 0; c < 5; c++) assert_true(fabs(g->b[1][c] - want[c]) < 1e-6);
  /* Labels out of range are refused. */
  const uint8_t bad[4] = {0, 5, 1, 1};
  pal_status_t st = pal_mlp_loss_grad(m, x, bad, 4, g, &loss);
  assert_non_null(st);
  assert_non_null(strstr(pal_status_message(st), "row 1"));
  pal_status_free(st);
  pal_mlp_destroy(m);
  pal_mlp_destroy(g);
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

static pal_mlp_t *train_once(const pal_mnist_set_t *set, uint64_t seed, size_t epochs, double *losses) {
  const size_t sizes[4] = {784, 256, 128, 10};
  pal_mlp_t *m;
  check_ok(pal_mlp_create(3, sizes, &m));
  pal_mlp_init_he(m, seed);
  pal_train_options_t o;
  pal_train_options_initialize(&o);
  o.batch = 64;
  o.seed = seed * 31 + 7;
  pal_trainer_t *t;
  check_ok(pal_trainer_create(m, &o, &t));
  check_ok(pal_mlp_loss_grad(m, set->images, set->labels, set->n, NULL, &losses[0]));
  for (size_t e = 0; e < epochs; e++) {
    double ignored;
    check_ok(pal_trainer_epoch(t, set->images, set->labels, set->n, &ignored));
    check_ok(pal_mlp_loss_grad(m, set->images, set->labels, set->n, NULL, &losses[e + 1]));
  }
  pal_trainer_destroy(t);
  return m;
}

static bool same_params(const pal_mlp_t *a, const pal_mlp_t *b) {
  for (size_t l = 0; l < a->n_layers; l++)
    if (memcmp(a->w[l], b->w[l], a->sizes[l] * a->sizes[l + 1] * sizeof(float)) ||
        memcmp(a->b[l], b->b[l], a->sizes[l + 1] * sizeof(float)))
      return false;
  return true;
}

static void test_training_deterministic(void **state) {
  (void)state;
  pal_mnist_set_t set;
  if (!load_subset(&set, 600)) skip();
  double l1[4], l2[4], l3[4];
  pal_mlp_t *a = train_once(&set, 5, 3, l1), *b = train_once(&set, 5, 3, l2), *c = train_once(&set, 6, 3, l3);
  /* The full-subset loss goes down every epoch and ends well below where it
   * started (ln 10 = 2.30 for a guess). */
  for (size_t e = 0; e < 3; e++)
    if (!(l1[e + 1] < l1[e])) fail_msg("loss went up in epoch %zu: %.4f -> %.4f", e + 1, l1[e], l1[e + 1]);
  if (!(l1[3] < 0.6 * l1[0])) fail_msg("loss only went from %.4f to %.4f", l1[0], l1[3]);
  assert_true(same_params(a, b));
  assert_memory_equal(l1, l2, sizeof l1);
  assert_false(same_params(a, c));
  pal_mlp_destroy(a);
  pal_mlp_destroy(b);
  pal_mlp_destroy(c);
  pal_mnist_release(&set);
}

static void test_sgd_momentum_reduces_loss(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  /* A separable toy problem: the class is the largest of 3 inputs. */
  const size_t sizes[3] = {3, 16, 3}, n = 300;
  float x[300 * 3];
  uint8_t y[300];
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < 3; j++) x[i * 3 + j] = (float)pal_test_rng_uniform(&rng);
    y[i] = (uint8_t)pal_argmax(x + i * 3, 3);
  }
  pal_mlp_t *m;
  check_ok(pal_mlp_create(2, sizes, &m));
  pal_mlp_init_he(m, seed);
  pal_train_options_t o;
  pal_train_options_initialize(&o);
  o.optimizer = PAL_OPT_SGD_MOMENTUM;
  o.lr = 0.1f;
  o.lr_decay = 1.0f;
  o.batch = 16;
  pal_trainer_t *t;
  check_ok(pal_trainer_create(m, &o, &t));
  double before, after, ep;
  check_ok(pal_mlp_loss_grad(m, x, y, n, NULL, &before));
  for (int e = 0; e < 30; e++) check_ok(pal_trainer_epoch(t, x, y, n, &ep));
  check_ok(pal_mlp_loss_grad(m, x, y, n, NULL, &after));
  PAL_TEST_CHECK(seed, after < 0.5 * before && after < 0.4, "SGD loss %.4f -> %.4f", before, after);
  pal_trainer_destroy(t);
  pal_mlp_destroy(m);
}

static void test_bad_options(void **state) {
  (void)state;
  const size_t sizes[3] = {3, 4, 5}, zero[3] = {3, 0, 5};
  pal_mlp_t *m;
  pal_status_t st = pal_mlp_create(2, zero, &m);
  assert_non_null(st);
  pal_status_free(st);
  st = pal_mlp_create(0, sizes, &m);
  assert_non_null(st);
  pal_status_free(st);
  check_ok(pal_mlp_create(2, sizes, &m));
  pal_train_options_t o;
  pal_train_options_initialize(&o);
  o.batch = 0;
  pal_trainer_t *t;
  st = pal_trainer_create(m, &o, &t);
  assert_non_null(st);
  assert_non_null(strstr(pal_status_message(st), "batch"));
  pal_status_free(st);
  pal_mlp_destroy(m);
}

/* ---- model files ---------------------------------------------------------------- */

static void test_npy_and_onnx(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *base = getenv("TMPDIR");
  char dir[256], path[400];
  snprintf(dir, sizeof dir, "%s/pal-train-io-XXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(dir));
  const size_t sizes[4] = {40, 33, 17, 10};
  pal_mlp_t *m = tiny_mlp(seed, sizes, 3), *r;
  check_ok(pal_mlp_save_npy(m, dir));
  check_ok(pal_mlp_load_npy(dir, &r));
  assert_int_equal(r->n_layers, 3);
  assert_memory_equal(r->sizes, m->sizes, 4 * sizeof(size_t));
  assert_true(same_params(m, r));
  pal_mlp_destroy(r);

  /* A chain whose shapes do not fit: W2 from another network. */
  pal_mlp_t *other;
  const size_t osz[3] = {5, 6, 7};
  check_ok(pal_mlp_create(2, osz, &other));
  char odir[300];
  snprintf(odir, sizeof odir, "%s/o", dir);
  assert_int_equal(mkdir(odir, 0777), 0);
  check_ok(pal_mlp_save_npy(other, odir));
  char cmd[800];
  snprintf(cmd, sizeof cmd, "cp '%s/W2.npy' '%s/W2.npy'", odir, dir);
  assert_int_equal(system(cmd), 0);
  pal_status_t st = pal_mlp_load_npy(dir, &r);
  assert_non_null(st);
  assert_non_null(strstr(pal_status_message(st), "W2.npy"));
  pal_status_free(st);
  pal_mlp_destroy(other);

  /* ONNX: the runtime loads what we wrote: Gemm, Relu, Gemm, Relu, Gemm,
   * input x [?, 40], output logits, initializers W1.. with their shapes. */
  snprintf(path, sizeof path, "%s/m.onnx", dir);
  check_ok(pal_mlp_save_onnx(m, path));
  pal_graph_t *g;
  check_ok(pal_onnx_load(path, &g));
  const char *ops[5] = {"Gemm", "Relu", "Gemm", "Relu", "Gemm"};
  assert_int_equal(pal_graph_node_count(g), 5);
  for (size_t i = 0; i < 5; i++) assert_string_equal(pal_graph_node_op(g, i), ops[i]);
  assert_int_equal(pal_graph_input_count(g), 1);
  assert_string_equal(pal_graph_input_name(g, 0), "x");
  assert_int_equal(pal_graph_output_count(g), 1);
  assert_string_equal(pal_graph_output_name(g, 0), "logits");
  pal_dtype_t dt;
  pal_shape_t sh;
  /* (The logits' shape is left to the runtime's inference: not checked.) */
  assert_true(pal_graph_value_info(g, "logits", &dt, &sh));
  assert_int_equal(dt, PAL_DTYPE_FP32);
  assert_true(pal_graph_value_info(g, "x", &dt, &sh));
  assert_int_equal(sh.rank, 2);
  assert_true(sh.dims[0] < 0); /* symbolic batch */
  assert_int_equal(sh.dims[1], 40);
  assert_true(pal_graph_value_info(g, "W2", &dt, &sh));
  assert_int_equal(sh.dims[0], 17);
  assert_int_equal(sh.dims[1], 33);

  /* The exported model means what the trainer's forward pass means: the
   * runtime's cpu provider gives the same logits (weight layout, transB). */
  enum { B = 4 };
  float x[B * 40], *acts[3];
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 3);
  for (size_t i = 0; i < B * 40; i++) x[i] = (float)pal_test_rng_gauss(&rng);
  for (size_t l = 0; l < 3; l++) acts[l] = malloc(B * sizes[l + 1] * sizeof(float));
  check_ok(pal_mlp_forward(m, x, B, acts));
  pal_session_options_t so;
  pal_session_options_initialize(&so);
  so.providers = "cpu";
  pal_session_t *s;
  check_ok(pal_session_create(g, &so, &s));
  pal_tensor_t *in, *out;
  const int64_t xd[2] = {B, 40};
  check_ok(pal_tensor_create_from(PAL_DTYPE_FP32, 2, xd, x, &in));
  const pal_tensor_t *ins[1] = {in};
  check_ok(pal_session_run(s, 1, ins, 1, &out));
  assert_int_equal(pal_tensor_count(out), B * 10);
  const float *y = pal_tensor_cdata(out);
  for (size_t i = 0; i < B * 10; i++)
    PAL_TEST_CHECK(seed, fabsf(y[i] - acts[2][i]) <= 1e-5f * (1.0f + fabsf(acts[2][i])),
                   "logit %zu: runtime %.8g, trainer %.8g", i, (double)y[i], (double)acts[2][i]);
  pal_tensor_release(in);
  pal_tensor_release(out);
  pal_session_release(s);
  for (size_t l = 0; l < 3; l++) free(acts[l]);
  pal_graph_release(g);
  pal_mlp_destroy(m);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradient_finite_differences),
      cmocka_unit_test(test_loss_known_network),
      cmocka_unit_test(test_training_deterministic),
      cmocka_unit_test(test_sgd_momentum_reduces_loss),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_npy_and_onnx),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
