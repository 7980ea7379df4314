/* Shared by the compiler's tests (emulator and RTL): random layers and
 * inputs, and the independent reference built from the golden model's
 * functions layer by layer. Header-only; include after pal_test.h. */
#ifndef PAL_COMPILE_TEST_UTIL_H
#define PAL_COMPILE_TEST_UTIL_H

#include "pal/compile.h"
#include "pal/format.h"

#define OK(seed, expr)                                                                      \
  do {                                                                                      \
    pal_status_t ok_st_ = (expr);                                                           \
    if (ok_st_) PAL_TEST_FAIL(seed, "%s failed: %s", #expr, pal_status_message(ok_st_));    \
  } while (0)

/* ---- data ------------------------------------------------------------------- */

typedef struct owned_layer {
  pal_dense_layer_t l;
  float *w, *b;
} owned_layer_t;

static inline float rand_value(pal_test_rng_t *rng, double scale) {
  uint32_t r = pal_test_rng_below(rng, 16);
  if (r == 0) return 0.0f; /* zeros exercise the skipping */
  return (float)(pal_test_rng_gauss(rng) * scale);
}

static inline void make_layer(pal_test_rng_t *rng, owned_layer_t *o, uint32_t k, uint32_t n, bool bias,
                       pal_bias_mode_t mode, pal_activation_t act) {
  pal_dense_layer_initialize(&o->l);
  o->w = malloc((size_t)n * k * sizeof(float));
  o->b = bias ? malloc((size_t)n * sizeof(float)) : NULL;
  double ws = 1.0 / sqrt((double)k);
  for (size_t i = 0; i < (size_t)n * k; i++) o->w[i] = rand_value(rng, ws);
  /* a whole zero weight row and a zero 32-block here and there */
  if (n > 2) memset(o->w + (size_t)(n / 2) * k, 0, k * sizeof(float));
  if (k > 40) memset(o->w, 0, 32 * sizeof(float));
  for (uint32_t i = 0; bias && i < n; i++) o->b[i] = (float)(pal_test_rng_gauss(rng) * 0.3);
  o->l.in_features = k;
  o->l.out_features = n;
  o->l.weights = o->w;
  o->l.bias = o->b;
  o->l.bias_mode = mode;
  o->l.act = act;
  o->l.clip_lo = -0.25f;
  o->l.clip_hi = 0.5f;
}

static inline void free_layers(owned_layer_t *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(o[i].w);
    free(o[i].b);
  }
}

static inline float *rand_input(pal_test_rng_t *rng, uint32_t rows, uint32_t k) {
  float *x = malloc((size_t)rows * k * sizeof(float));
  for (size_t i = 0; i < (size_t)rows * k; i++) x[i] = rand_value(rng, 1.0);
  /* a row with a zero block */
  if (k >= 32) memset(x, 0, 32 * sizeof(float));
  return x;
}

/* ---- the independent reference: golden-model functions layer by layer ------- */

static inline void ref_chain(const owned_layer_t *o, size_t n, const float *x, uint32_t batch, float *y) {
  const float *cur = x;
  float *prev = NULL;
  for (size_t i = 0; i < n; i++) {
    const pal_dense_layer_t *l = &o[i].l;
    pal_b32_matrix_t a, w;
    assert_null(pal_b32_matrix_create(batch, l->in_features, &a));
    assert_null(pal_b32_matrix_create(l->out_features, l->in_features, &w));
    pal_b32_matrix_encode(cur, l->in_features, &a);
    pal_b32_matrix_encode(l->weights, l->in_features, &w);
    /* K loop through pal_gemm_ref (bias as start value when so asked), then
     * §4 by hand: post bias, activation */
    pal_epilogue_t ep;
    pal_epilogue_initialize(&ep);
    if (l->bias && l->bias_mode == PAL_BIAS_START) {
      ep.bias = l->bias;
      ep.bias_mode = PAL_BIAS_START;
    }
    float *acc = malloc((size_t)batch * l->out_features * sizeof(float));
    pal_gemm_ref(&a, &w, &ep, acc, l->out_features);
    pal_epilogue_t post;
    pal_epilogue_initialize(&post);
    post.bias = l->bias && l->bias_mode == PAL_BIAS_POST ? l->bias : NULL;
    post.bias_mode = PAL_BIAS_POST;
    post.act = l->act;
    post.clip_lo = l->clip_lo;
    post.clip_hi = l->clip_hi;
    float *out = i + 1 == n ? y : malloc((size_t)batch * l->out_features * sizeof(float));
    for (size_t m = 0; m < batch; m++)
      for (size_t j = 0; j < l->out_features; j++) {
        float v = acc[m * l->out_features + j];
        bool nar = isnan(v);
        out[m * l->out_features + j] = pal_postprocess(v, post.bias ? post.bias[j] : 0.0f, &post, &nar);
      }
    free(acc);
    pal_b32_matrix_release(&a);
    pal_b32_matrix_release(&w);
    free(prev);
    prev = out == y ? NULL : out;
    cur = out;
  }
  free(prev);
}

static inline bool same(float a, float b) {
  return (isnan(a) && isnan(b)) || pal_f32_bits(a) == pal_f32_bits(b);
}

static inline void compare(uint64_t seed, const char *what, const float *got, const float *want, size_t count) {
  for (size_t i = 0; i < count; i++)
    PAL_TEST_CHECK(seed, same(got[i], want[i]), "%s: element %zu is %a (0x%08x), expected %a (0x%08x)", what, i,
                   (double)got[i], pal_f32_bits(got[i]), (double)want[i], pal_f32_bits(want[i]));
}

#endif /* PAL_COMPILE_TEST_UTIL_H */
