/* The partitioner, the placement summary and the pal provider on emu://:
 * which node goes where and why, --no-fallback, and an MLP whose device
 * part equals the golden model bit for bit and the FP32 result within the
 * PAL8 tolerance. */
#include <math.h>

#include "rt_test_util.h"

static pal_session_t *session(const pal_graph_t *g, const char *providers, bool no_fallback) {
  pal_session_options_t o;
  pal_session_options_initialize(&o);
  o.providers = providers;
  o.device_uri = "emu://";
  o.no_fallback = no_fallback;
  pal_session_t *s;
  RT_OK(pal_session_create(g, &o, &s));
  return s;
}

static char *placement_text(const pal_session_t *s) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  pal_session_print_placement(s, f);
  fclose(f);
  return buf;
}

/* MatMul(x, W) + b -> Relu -> Softmax, and a MatMul whose weights are a
 * graph input: the first three run on pal (one fused layer), Softmax and
 * the second MatMul fall back to cpu with their reasons. */
static pal_graph_t *mixed_graph(pal_test_rng_t *rng) {
  pal_graph_t *g;
  RT_OK(pal_graph_create("mixed", &g));
  pal_shape_t xs = {.rank = 2, .dims = {3, 16}}, ws = {.rank = 2, .dims = {8, 4}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  RT_OK(pal_graph_add_input(g, "w2", PAL_DTYPE_FP32, &ws));
  int64_t wd[2] = {16, 8}, bd[1] = {8};
  RT_OK(pal_graph_add_initializer(g, "w", rt_rand_tensor(rng, 2, wd, 0.25)));
  RT_OK(pal_graph_add_initializer(g, "b", rt_rand_tensor(rng, 1, bd, 0.1)));
  const char *mm_in[2] = {"x", "w"}, *mm_out[1] = {"h"};
  RT_OK(pal_graph_add_node(g, "MatMul", "mm", 2, mm_in, 1, mm_out, NULL));
  const char *add_in[2] = {"h", "b"}, *add_out[1] = {"hb"};
  RT_OK(pal_graph_add_node(g, "Add", "bias", 2, add_in, 1, add_out, NULL));
  const char *r_in[1] = {"hb"}, *r_out[1] = {"a"};
  RT_OK(pal_graph_add_node(g, "Relu", "relu", 1, r_in, 1, r_out, NULL));
  const char *m2_in[2] = {"a", "w2"}, *m2_out[1] = {"z"};
  RT_OK(pal_graph_add_node(g, "MatMul", "mm2", 2, m2_in, 1, m2_out, NULL));
  const char *s_in[1] = {"z"}, *s_out[1] = {"p"};
  RT_OK(pal_graph_add_node(g, "Softmax", "sm", 1, s_in, 1, s_out, NULL));
  RT_OK(pal_graph_add_output(g, "p"));
  RT_OK(pal_graph_finalize(g));
  return g;
}

static void test_partition_mixed(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_graph_t *g = mixed_graph(&rng);
  pal_session_t *s = session(g, "pal,cpu", false);
  assert_string_equal(pal_session_node_provider(s, 0), "pal");
  assert_string_equal(pal_session_node_provider(s, 1), "pal");
  assert_string_equal(pal_session_node_provider(s, 2), "pal");
  assert_string_equal(pal_session_node_provider(s, 3), "cpu");
  assert_string_equal(pal_session_node_provider(s, 4), "cpu");
  assert_int_equal(pal_session_provider_node_count(s, "pal"), 3);
  assert_int_equal(pal_session_provider_node_count(s, "cpu"), 2);
  char *text = placement_text(s);
  assert_non_null(strstr(text, "pal 3, cpu 2"));
  assert_non_null(strstr(text, "'mm2' (MatMul) -> cpu: pal: the weights (input 1) are not a constant"));
  assert_non_null(strstr(text, "'sm' (Softmax) -> cpu: pal: Softmax is not lowered"));
  assert_non_null(strstr(text, "subgraph 0 on pal: 3 nodes"));
  free(text);

  /* It runs, and agrees with the all-cpu session within the PAL8 bound. */
  int64_t xd[2] = {3, 16}, wd[2] = {8, 4};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0), *w2 = rt_rand_tensor(&rng, 2, wd, 0.5);
  const pal_tensor_t *in[2] = {x, w2};
  pal_tensor_t *yp, *yc;
  RT_OK(pal_session_run(s, 2, in, 1, &yp));
  pal_session_t *c = session(g, "cpu", true);
  RT_OK(pal_session_run(c, 2, in, 1, &yc));
  const float *a = pal_tensor_cdata(yp), *b = pal_tensor_cdata(yc);
  for (size_t i = 0; i < 12; i++)
    PAL_TEST_CHECK(seed, fabsf(a[i] - b[i]) <= 0.05f, "prob %zu: pal %g, cpu %g", i, (double)a[i],
                   (double)b[i]);
  pal_tensor_release(yp);
  pal_tensor_release(yc);
  pal_tensor_release(x);
  pal_tensor_release(w2);
  pal_session_release(c);
  pal_session_release(s);

  /* --no-fallback: the first node that would fall back is the error. */
  pal_session_options_t o;
  pal_session_options_initialize(&o);
  o.providers = "pal,cpu";
  o.device_uri = "emu://";
  o.no_fallback = true;
  RT_ERR(pal_session_create(g, &o, &s), "'mm2' (MatMul) would fall back to cpu (--no-fallback)");
  /* Unknown provider names and duplicates. */
  o.no_fallback = false;
  o.providers = "pal,gpu9";
  RT_ERR(pal_session_create(g, &o, &s), "unknown provider 'gpu9'");
  o.providers = "cpu,cpu";
  RT_ERR(pal_session_create(g, &o, &s), "listed twice");
  /* A device that is not there: the pal provider is skipped with the
   * reason, and with --no-fallback that is an error. */
  o.providers = NULL;
  o.device_uri = "sim+tcp://127.0.0.1:1?timeout_ms=50&retries=0";
  RT_OK(pal_session_create(g, &o, &s));
  assert_int_equal(pal_session_provider_node_count(s, "pal"), 0);
  text = placement_text(s);
  assert_non_null(strstr(text, "provider pal  skipped"));
  pal_provider_status_t ps[4];
  pal_providers_list("emu://", ps, 4);
  /* cuda is skipped too unless this machine has a GPU (and the library) */
  assert_non_null(strstr(text, ps[1].available ? "provider cuda ready" : "provider cuda skipped"));
  free(text);
  pal_session_release(s);
  o.no_fallback = true;
  RT_ERR(pal_session_create(g, &o, &s), "unavailable");
  /* Wrong input shapes name the input. */
  s = session(g, "cpu", false);
  int64_t bad[2] = {3, 17};
  x = rt_rand_tensor(&rng, 2, bad, 1.0);
  w2 = rt_rand_tensor(&rng, 2, wd, 0.5);
  const pal_tensor_t *bin[2] = {x, w2};
  RT_ERR(pal_session_run(s, 2, bin, 1, &yp), "input 'x' must be f32[3,16]");
  pal_tensor_release(x);
  pal_tensor_release(w2);
  pal_session_release(s);
  pal_graph_release(g);
}

/* The MLP on emu://: the whole chain on pal (one subgraph), output equal
 * bit for bit to the golden model, and within the PAL8 tolerance of FP32. */
static void test_mlp_emu_bit_exact(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  static const int dims[] = {70, 33, 12};
  const size_t m = 7;
  /* A symbolic batch (-1), as exported models have: the shapes after it
   * keep their known dims, so the whole chain still goes to the tile. */
  pal_graph_t *g = rt_make_mlp(&rng, dims, 2, -1);
  pal_shape_t hs;
  assert_true(pal_graph_value_info(g, "relu0", NULL, &hs));
  assert_int_equal(hs.rank, 2);
  assert_true(hs.dims[0] == -1 && hs.dims[1] == 33);
  pal_session_t *s = session(g, NULL, true); /* all on pal, or an error */
  assert_int_equal(pal_session_provider_node_count(s, "pal"), 3);
  int64_t xd[2] = {(int64_t)m, 70};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0), *y;
  RT_OK(pal_session_run(s, 1, (const pal_tensor_t *const *)&x, 1, &y));
  const float *w[2] = {pal_tensor_cdata(pal_graph_initializer(g, "w0")),
                       pal_tensor_cdata(pal_graph_initializer(g, "w1"))};
  const float *b[2] = {pal_tensor_cdata(pal_graph_initializer(g, "b0")),
                       pal_tensor_cdata(pal_graph_initializer(g, "b1"))};
  float gold[7 * 12], ref[7 * 12];
  rt_golden_mlp(pal_tensor_cdata(x), m, dims, 2, w, b, gold);
  rt_fp32_mlp(g, pal_tensor_cdata(x), m, dims, 2, ref);
  const float *yd = pal_tensor_cdata(y);
  double se = 0, sr = 0;
  for (size_t i = 0; i < m * 12; i++) {
    PAL_TEST_CHECK(seed, pal_f32_bits(yd[i]) == pal_f32_bits(gold[i]),
                   "output %zu: device %a, golden model %a", i, (double)yd[i], (double)gold[i]);
    se += (double)(yd[i] - ref[i]) * (yd[i] - ref[i]);
    sr += (double)ref[i] * ref[i];
  }
  /* PAL8-B32 two-layer error: well under 5 % relative RMS. */
  PAL_TEST_CHECK(seed, sqrt(se / sr) < 0.05, "relative RMS error vs FP32 %.4f", sqrt(se / sr));
  pal_tensor_release(x);
  pal_tensor_release(y);
  pal_session_release(s);
  pal_graph_release(g);
}

/* Conv (+ bias) + Relu on emu://: lowered through im2col, equal bit for
 * bit to the golden GEMM over im2col rows written here, and close to the
 * cpu provider's FP32 convolution. */
static void test_conv_emu_bit_exact(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0xC0);
  enum { B = 2, C = 3, H = 6, W = 7, M = 5, KH = 3, KW = 3, OH = 6, OW = 7, K = C * KH * KW };
  pal_graph_t *g;
  RT_OK(pal_graph_create("conv", &g));
  pal_shape_t xs = {.rank = 4, .dims = {-1, C, H, W}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  int64_t wd[4] = {M, C, KH, KW}, bd[1] = {M};
  RT_OK(pal_graph_add_initializer(g, "w", rt_rand_tensor(&rng, 4, wd, 0.3)));
  RT_OK(pal_graph_add_initializer(g, "b", rt_rand_tensor(&rng, 1, bd, 0.2)));
  const char *cin[3] = {"x", "w", "b"}, *cout[1] = {"c"}, *rin[1] = {"c"}, *rout[1] = {"y"};
  size_t conv;
  RT_OK(pal_graph_add_node(g, "Conv", "conv", 3, cin, 1, cout, &conv));
  int64_t pads[4] = {1, 1, 1, 1};
  RT_OK(pal_graph_set_attr_ints(g, conv, "pads", 4, pads));
  RT_OK(pal_graph_add_node(g, "Relu", "relu", 1, rin, 1, rout, NULL));
  RT_OK(pal_graph_add_output(g, "y"));
  /* A symbolic batch: Conv needs the per-image shape only. */
  RT_OK(pal_graph_finalize(g));
  pal_session_t *s = session(g, NULL, true);
  int64_t xd[4] = {B, C, H, W};
  pal_tensor_t *x = rt_rand_tensor(&rng, 4, xd, 1.0), *y, *yc;
  RT_OK(pal_session_run(s, 1, (const pal_tensor_t *const *)&x, 1, &y));
  pal_session_t *c = session(g, "cpu", false);
  RT_OK(pal_session_run(c, 1, (const pal_tensor_t *const *)&x, 1, &yc));
  const float *xv = pal_tensor_cdata(x), *wv = pal_tensor_cdata(pal_graph_initializer(g, "w"));
  const float *bv = pal_tensor_cdata(pal_graph_initializer(g, "b"));
  static float rows[OH * OW * K], out[OH * OW * M];
  const float *yd = pal_tensor_cdata(y), *yr = pal_tensor_cdata(yc);
  for (int bi = 0; bi < B; bi++) {
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++)
        for (int ci = 0; ci < C; ci++)
          for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
              int ih = oh - 1 + kh, iw = ow - 1 + kw;
              rows[(oh * OW + ow) * K + (ci * KH + kh) * KW + kw] =
                  ih < 0 || ih >= H || iw < 0 || iw >= W ? 0.0f
                                                          : xv[((bi * C + ci) * H + ih) * W + iw];
            }
    pal_b32_matrix_t am, wm;
    assert_null(pal_b32_matrix_create(OH * OW, K, &am));
    assert_null(pal_b32_matrix_create(M, K, &wm));
    pal_b32_matrix_encode(rows, K, &am);
    pal_b32_matrix_encode(wv, K, &wm);
    pal_epilogue_t ep;
    pal_epilogue_initialize(&ep);
    ep.bias = bv;
    ep.act = PAL_ACT_RELU;
    pal_gemm_ref(&am, &wm, &ep, out, M);
    pal_b32_matrix_release(&am);
    pal_b32_matrix_release(&wm);
    for (int m = 0; m < M; m++)
      for (int r = 0; r < OH * OW; r++) {
        size_t i = ((size_t)bi * M + m) * OH * OW + r;
        PAL_TEST_CHECK(seed, pal_f32_bits(yd[i]) == pal_f32_bits(out[r * M + m]),
                       "image %d channel %d pixel %d: device %a, golden %a", bi, m, r,
                       (double)yd[i], (double)out[r * M + m]);
        PAL_TEST_CHECK(seed, fabsf(yd[i] - yr[i]) <= 0.1f + 0.05f * fabsf(yr[i]),
                       "pixel %zu: device %g, cpu %g", i, (double)yd[i], (double)yr[i]);
      }
  }
  pal_tensor_release(x);
  pal_tensor_release(y);
  pal_tensor_release(yc);
  pal_session_release(s);
  pal_session_release(c);
  pal_graph_release(g);
}

static void test_providers_list(void **state) {
  (void)state;
  pal_provider_status_t ps[4];
  size_t n = pal_providers_list("emu://", ps, 4);
  assert_int_equal(n, 3);
  assert_string_equal(ps[0].name, "pal");
  assert_true(ps[0].available);
  assert_non_null(strstr(ps[0].detail, "4 x 4"));
  assert_string_equal(ps[1].name, "cuda");
  assert_true(ps[1].detail[0] != 0 && !strchr(ps[1].detail, '\n')); /* one line, either way */
  assert_string_equal(ps[2].name, "cpu");
  assert_true(ps[2].available);
  n = pal_providers_list("emu://?rows=8&cols=8", ps, 4);
  assert_non_null(strstr(ps[0].detail, "8 x 8"));
  const char *d = pal_default_device();
  assert_true(!strcmp(d, "emu://") || !strcmp(d, "sim://"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_partition_mixed),
      cmocka_unit_test(test_mlp_emu_bit_exact),
      cmocka_unit_test(test_conv_emu_bit_exact),
      cmocka_unit_test(test_providers_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
