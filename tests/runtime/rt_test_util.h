/* Helpers the runtime tests share: graphs built in code (an MLP of Gemm +
 * bias + ReLU layers), seeded tensors, a scratch folder, and the golden
 * model's answer for a dense chain (pal_gemm_ref layer by layer, PAL8-B32
 * re-encoding between layers), written here from format.h alone so the
 * runtime's pal provider is checked against it, not against itself. */
#ifndef RT_TEST_UTIL_H
#define RT_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pal/format.h"
#include "pal/pal.h"
#include "pal_test.h"

static inline pal_tensor_t *rt_rand_tensor(pal_test_rng_t *rng, size_t rank, const int64_t *dims,
                                           double scale) {
  pal_tensor_t *t = NULL;
  pal_status_t st = pal_tensor_create(PAL_DTYPE_FP32, rank, dims, &t);
  if (st) {
    print_error("%s\n", pal_status_message(st));
    fail();
  }
  float *d = pal_tensor_data(t);
  for (size_t i = 0; i < pal_tensor_count(t); i++) d[i] = (float)(scale * pal_test_rng_gauss(rng));
  return t;
}

#define RT_OK(expr)                                                    \
  do {                                                                 \
    pal_status_t rt_st_ = (expr);                                      \
    if (rt_st_) {                                                      \
      print_error("%s: %s\n", #expr, pal_status_message(rt_st_));      \
      pal_status_free(rt_st_);                                         \
      fail();                                                          \
    }                                                                  \
  } while (0)

/* Expects an error whose message contains `needle`; frees it. */
#define RT_ERR(expr, needle)                                                         \
  do {                                                                               \
    pal_status_t rt_st_ = (expr);                                                    \
    if (!rt_st_) {                                                                   \
      print_error("%s: expected an error mentioning '%s'\n", #expr, needle);         \
      fail();                                                                        \
    }                                                                                \
    if (!strstr(pal_status_message(rt_st_), needle)) {                               \
      print_error("%s: message '%s' lacks '%s'\n", #expr, pal_status_message(rt_st_), \
                  needle);                                                           \
      pal_status_free(rt_st_);                                                       \
      fail();                                                                        \
    }                                                                                \
    pal_status_free(rt_st_);                                                         \
  } while (0)

/* An MLP: x[batch, dims[0]] -> Gemm(transB=1, W[n,k], b[n]) -> Relu -> ...
 * -> Gemm (no Relu on the last layer). Weights seeded, ~N(0, 1/k). */
static inline pal_graph_t *rt_make_mlp(pal_test_rng_t *rng, const int *dims, size_t n_layers,
                                       int64_t batch) {
  pal_graph_t *g;
  RT_OK(pal_graph_create("mlp", &g));
  pal_shape_t xs = {.rank = 2, .dims = {batch, dims[0]}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  char prev[32] = "x";
  for (size_t l = 0; l < n_layers; l++) {
    char w[32], b[32], y[32], r[32], name[32];
    snprintf(w, sizeof w, "w%zu", l);
    snprintf(b, sizeof b, "b%zu", l);
    snprintf(y, sizeof y, "fc%zu", l);
    snprintf(r, sizeof r, "relu%zu", l);
    int64_t wd[2] = {dims[l + 1], dims[l]}, bd[1] = {dims[l + 1]};
    RT_OK(pal_graph_add_initializer(g, w, rt_rand_tensor(rng, 2, wd, 1.0 / sqrt((double)dims[l]))));
    RT_OK(pal_graph_add_initializer(g, b, rt_rand_tensor(rng, 1, bd, 0.1)));
    const char *in[3] = {prev, w, b};
    const char *out[1] = {y};
    size_t node;
    snprintf(name, sizeof name, "gemm%zu", l);
    RT_OK(pal_graph_add_node(g, "Gemm", name, 3, in, 1, out, &node));
    RT_OK(pal_graph_set_attr_int(g, node, "transB", 1));
    snprintf(prev, sizeof prev, "%s", y);
    if (l + 1 < n_layers) {
      const char *rin[1] = {y};
      const char *rout[1] = {r};
      snprintf(name, sizeof name, "act%zu", l);
      RT_OK(pal_graph_add_node(g, "Relu", name, 1, rin, 1, rout, NULL));
      snprintf(prev, sizeof prev, "%s", r);
    }
  }
  RT_OK(pal_graph_add_output(g, prev));
  RT_OK(pal_graph_finalize(g));
  return g;
}

/* FP32 reference of an MLP (as rt_make_mlp builds) in double. */
static inline void rt_fp32_mlp(const pal_graph_t *g, const float *x, size_t m, const int *dims,
                               size_t n_layers, float *y) {
  double *cur = malloc(m * (size_t)dims[0] * sizeof *cur);
  for (size_t i = 0; i < m * (size_t)dims[0]; i++) cur[i] = x[i];
  for (size_t l = 0; l < n_layers; l++) {
    char wn[16], bn[16];
    snprintf(wn, sizeof wn, "w%zu", l);
    snprintf(bn, sizeof bn, "b%zu", l);
    const float *w = pal_tensor_cdata(pal_graph_initializer(g, wn));
    const float *b = pal_tensor_cdata(pal_graph_initializer(g, bn));
    size_t k = (size_t)dims[l], n = (size_t)dims[l + 1];
    double *out = malloc(m * n * sizeof *out);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double s = b[j];
        for (size_t q = 0; q < k; q++) s += cur[i * k + q] * w[j * k + q];
        out[i * n + j] = l + 1 < n_layers && s < 0 ? 0 : s;
      }
    free(cur);
    cur = out;
  }
  for (size_t i = 0; i < m * (size_t)dims[n_layers]; i++) y[i] = (float)cur[i];
  free(cur);
}

/* Golden model of the dense chain: x (m x k0) -> y (m x n_last), exactly
 * as the tile computes it (PAL8-B32 operands, bias as start value, ReLU in
 * post, PAL8-B32 re-encoding between layers). */
static inline void rt_golden_mlp(const float *x, size_t m, const int *dims, size_t n_layers,
                                 const float *const *w, const float *const *b, float *y) {
  float *cur = malloc(m * (size_t)dims[0] * sizeof *cur);
  memcpy(cur, x, m * (size_t)dims[0] * sizeof *cur);
  for (size_t l = 0; l < n_layers; l++) {
    size_t k = (size_t)dims[l], n = (size_t)dims[l + 1];
    pal_b32_matrix_t a, wm;
    assert_null(pal_b32_matrix_create(m, k, &a));
    assert_null(pal_b32_matrix_create(n, k, &wm));
    pal_b32_matrix_encode(cur, k, &a);
    pal_b32_matrix_encode(w[l], k, &wm);
    pal_epilogue_t ep;
    pal_epilogue_initialize(&ep);
    ep.bias = b[l];
    ep.bias_mode = PAL_BIAS_START;
    ep.act = l + 1 < n_layers ? PAL_ACT_RELU : PAL_ACT_NONE;
    float *out = malloc(m * n * sizeof *out);
    pal_gemm_ref(&a, &wm, &ep, out, n);
    pal_b32_matrix_release(&a);
    pal_b32_matrix_release(&wm);
    free(cur);
    cur = out;
  }
  memcpy(y, cur, m * (size_t)dims[n_layers] * sizeof *y);
  free(cur);
}

/* A fresh scratch folder under $TMPDIR (or /tmp); the caller removes it
 * with rt_rmdir. */
static inline void rt_mkdtemp(char *buf, size_t size) {
  const char *t = getenv("TMPDIR");
  snprintf(buf, size, "%s/paltest.XXXXXX", t && *t ? t : "/tmp");
  assert_non_null(mkdtemp(buf));
}

static inline void rt_rmdir(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) print_error("could not remove %s\n", dir);
}

#endif /* RT_TEST_UTIL_H */
