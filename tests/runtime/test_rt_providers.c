/* The cuda provider (what it claims, the unavailable path for real, and a
 * GPU run where there is one) and the cpu provider's PAL8-B32 mode (bit for
 * bit the pal provider on emu://). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "pal/cuda.h"
#include "provider.h"
#include "rt_test_util.h"

static char *placement_text(const pal_session_t *s) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  pal_session_print_placement(s, f);
  fclose(f);
  return buf;
}

static pal_session_t *session_on(const pal_graph_t *g, const char *providers, const char *cpu_format,
                                 const char *uri) {
  pal_session_options_t o;
  pal_session_options_initialize(&o);
  o.providers = providers;
  o.device_uri = uri;
  o.cpu_format = cpu_format;
  pal_session_t *s;
  RT_OK(pal_session_create(g, &o, &s));
  return s;
}

static pal_session_t *session_fmt(const pal_graph_t *g, const char *providers,
                                  const char *cpu_format) {
  return session_on(g, providers, cpu_format, "emu://");
}

/* x[4,8] -> Gemm(W const, transA=1 on a [8,4] view is not needed: transB) ->
 * Relu -> MatMul(., w2 input) -> Add(., y2 input) -> Softmax, plus nodes the
 * GPU does not take: a MatMul with 3-D weights, an integer Add, Equal. */
static pal_graph_t *cuda_graph(pal_test_rng_t *rng) {
  pal_graph_t *g;
  RT_OK(pal_graph_create("gpu", &g));
  pal_shape_t xs = {.rank = 2, .dims = {4, 8}}, w2s = {.rank = 2, .dims = {6, 5}};
  pal_shape_t w3s = {.rank = 3, .dims = {2, 5, 3}}, is = {.rank = 1, .dims = {3}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  RT_OK(pal_graph_add_input(g, "w2", PAL_DTYPE_FP32, &w2s));
  RT_OK(pal_graph_add_input(g, "w3", PAL_DTYPE_FP32, &w3s));
  RT_OK(pal_graph_add_input(g, "i", PAL_DTYPE_INT64, &is));
  int64_t wd[2] = {6, 8}, bd[1] = {6};
  RT_OK(pal_graph_add_initializer(g, "w", rt_rand_tensor(rng, 2, wd, 0.3)));
  RT_OK(pal_graph_add_initializer(g, "b", rt_rand_tensor(rng, 1, bd, 0.1)));
  size_t node;
  const char *g_in[3] = {"x", "w", "b"}, *g_out[1] = {"h"};
  RT_OK(pal_graph_add_node(g, "Gemm", "gemm", 3, g_in, 1, g_out, &node)); /* 0 */
  RT_OK(pal_graph_set_attr_int(g, node, "transB", 1));
  RT_OK(pal_graph_set_attr_float(g, node, "alpha", 0.5f));
  const char *r_in[1] = {"h"}, *r_out[1] = {"r"};
  RT_OK(pal_graph_add_node(g, "Relu", "relu", 1, r_in, 1, r_out, NULL)); /* 1 */
  const char *m_in[2] = {"r", "w2"}, *m_out[1] = {"z"};
  RT_OK(pal_graph_add_node(g, "MatMul", "mm", 2, m_in, 1, m_out, NULL)); /* 2 */
  const char *a_in[2] = {"z", "z"}, *a_out[1] = {"zz"};
  RT_OK(pal_graph_add_node(g, "Mul", "sq", 2, a_in, 1, a_out, NULL)); /* 3 */
  const char *s_in[1] = {"zz"}, *s_out[1] = {"p"};
  RT_OK(pal_graph_add_node(g, "Softmax", "sm", 1, s_in, 1, s_out, NULL)); /* 4 */
  const char *b_in[2] = {"p", "w3"}, *b_out[1] = {"q"};
  RT_OK(pal_graph_add_node(g, "MatMul", "mm3", 2, b_in, 1, b_out, NULL)); /* 5 */
  const char *i_in[2] = {"i", "i"}, *i_out[1] = {"j"};
  RT_OK(pal_graph_add_node(g, "Add", "iadd", 2, i_in, 1, i_out, NULL)); /* 6 */
  RT_OK(pal_graph_add_output(g, "q"));
  RT_OK(pal_graph_add_output(g, "j"));
  RT_OK(pal_graph_finalize(g));
  return g;
}

/* The claim rule, on the graph alone (runs everywhere). */
static void test_cuda_claims(void **state) {
  (void)state;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  pal_graph_t *g = cuda_graph(&rng);
  static const struct {
    const char *name;
    bool claimed;
    const char *why;
  } want[] = {{"gemm", true, NULL},
              {"relu", true, NULL},
              {"mm", true, NULL},
              {"sq", true, NULL},
              {"sm", false, "Softmax has no CUDA kernel"},
              {"mm3", false, "MatMul of ranks 2 and 3"},
              {"iadd", false, "is i64, the CUDA kernels take f32"}};
  assert_int_equal(pal_graph_node_count(g), 7);
  for (size_t i = 0; i < 7; i++) {
    size_t node = SIZE_MAX;
    for (size_t k = 0; k < 7; k++)
      if (!strcmp(pal_graph_node_name(g, k), want[i].name)) node = k;
    assert_true(node != SIZE_MAX);
    char why[256] = "";
    bool got = pal_cuda_node_claim(g, node, why, sizeof why);
    if (got != want[i].claimed) fail_msg("node %s: claimed %d (%s)", want[i].name, got, why);
    if (want[i].why && !strstr(why, want[i].why))
      fail_msg("node %s: reason '%s', want '%s'", want[i].name, why, want[i].why);
  }
  pal_graph_release(g);
}

/* No library (PAL_CUDA_LIBRARY names a file that is not there): the
 * provider is unavailable with the loader's reason, declines every node
 * with it, and the partitioner puts everything on pal and cpu. */
static void test_cuda_unavailable(void **state) {
  (void)state;
  const char *old = getenv("PAL_CUDA_LIBRARY");
  char *saved = old ? strdup(old) : NULL;
  setenv("PAL_CUDA_LIBRARY", "/nonexistent/libpalcuda.so", 1);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  pal_graph_t *g = cuda_graph(&rng);
  pal_provider_t *p;
  RT_OK(pal_provider_cuda_create(&p));
  assert_false(p->available);
  assert_non_null(strstr(p->detail, "cannot load PAL_CUDA_LIBRARY"));
  assert_null(strchr(p->detail, '\n'));
  for (size_t i = 0; i < pal_graph_node_count(g); i++) {
    char why[256] = "";
    assert_false(p->can_run(p, g, i, why, sizeof why));
    assert_non_null(strstr(why, "unavailable: "));
    assert_non_null(strstr(why, p->detail));
  }
  pal_provider_destroy(p);

  pal_session_t *s = session_fmt(g, "pal,cuda,cpu", NULL);
  assert_int_equal(pal_session_provider_node_count(s, "cuda"), 0);
  assert_int_equal(pal_session_provider_node_count(s, "pal"), 2); /* gemm + relu */
  assert_int_equal(pal_session_provider_node_count(s, "cpu"), 5);
  char *text = placement_text(s);
  assert_non_null(strstr(text, "provider cuda skipped: cannot load PAL_CUDA_LIBRARY"));
  free(text);
  pal_session_release(s);
  s = session_fmt(g, "cuda,cpu", NULL);
  assert_int_equal(pal_session_provider_node_count(s, "cpu"), 7);
  text = placement_text(s);
  assert_non_null(strstr(text, "'gemm' (Gemm) -> cpu: cuda: unavailable (cannot load PAL_CUDA_LIBRARY"));
  free(text);
  pal_session_release(s);
  pal_graph_release(g);
  if (saved) setenv("PAL_CUDA_LIBRARY", saved, 1);
  else unsetenv("PAL_CUDA_LIBRARY");
  free(saved);
}

/* On a GPU: the claimed nodes run there and agree with the cpu provider. */
static void test_cuda_session(void **state) {
  (void)state;
  pal_cuda_t *cu = NULL;
  pal_status_t st = pal_cuda_open(NULL, &cu);
  if (st) {
    /* Where the build made libpalcuda.so (build/lib, three levels above this
     * program), it must load: only the GPU or driver may be missing. */
    char exe[PATH_MAX - 64], lib[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
      exe[len] = 0;
      char *slash = strrchr(exe, '/');
      if (slash) *slash = 0;
      snprintf(lib, sizeof lib, "%s/../../../lib/libpalcuda.so", exe);
      if (access(lib, F_OK) == 0 && !strstr(pal_status_message(st), "no usable GPU"))
        fail_msg("%s is built but: %s", lib, pal_status_message(st));
    }
    print_message("skipped: %s\n", pal_status_message(st));
    pal_status_free(st);
    skip();
    return;
  }
  pal_cuda_close(cu);
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_graph_t *g = cuda_graph(&rng);
  pal_session_t *s = session_fmt(g, "cuda,cpu", NULL), *c = session_fmt(g, "cpu", NULL);
  assert_string_equal(pal_session_node_provider(s, 0), "cuda");
  assert_int_equal(pal_session_provider_node_count(s, "cuda"), 4);
  int64_t xd[2] = {4, 8}, w2d[2] = {6, 5}, w3d[3] = {2, 5, 3}, id[1] = {3};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0), *w2 = rt_rand_tensor(&rng, 2, w2d, 0.5);
  pal_tensor_t *w3 = rt_rand_tensor(&rng, 3, w3d, 0.5), *iv;
  RT_OK(pal_tensor_create(PAL_DTYPE_INT64, 1, id, &iv));
  const pal_tensor_t *in[4] = {x, w2, w3, iv};
  pal_tensor_t *ys[2], *yc[2];
  RT_OK(pal_session_run(s, 4, in, 2, ys));
  RT_OK(pal_session_run(c, 4, in, 2, yc));
  const float *a = pal_tensor_cdata(ys[0]), *b = pal_tensor_cdata(yc[0]);
  for (size_t i = 0; i < pal_tensor_count(yc[0]); i++)
    PAL_TEST_CHECK(seed, fabsf(a[i] - b[i]) <= 1e-4f * (1 + fabsf(b[i])), "q[%zu]: cuda %g, cpu %g",
                   i, (double)a[i], (double)b[i]);
  for (int k = 0; k < 2; k++) pal_tensor_release(ys[k]), pal_tensor_release(yc[k]);
  pal_tensor_release(x), pal_tensor_release(w2), pal_tensor_release(w3), pal_tensor_release(iv);
  pal_session_release(s);
  pal_session_release(c);
  pal_graph_release(g);
}

/* An MLP with every fusion the tile does (MatMul + bias Add + Relu, Gemm
 * with alpha/beta/C + Clip, Gemm without transB) and a Softmax, and a CNN
 * (Conv + bias + Relu, Flatten, Gemm): the cpu provider in pal8-b32 equals
 * the pal provider on emu:// bit for bit, and differs from FP32. */
static pal_graph_t *pal8_mlp(pal_test_rng_t *rng) {
  pal_graph_t *g;
  RT_OK(pal_graph_create("pal8_mlp", &g));
  pal_shape_t xs = {.rank = 2, .dims = {-1, 40}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  int64_t w0[2] = {40, 48}, b0[1] = {48}, w1[2] = {24, 48}, b1[1] = {24}, w2[2] = {24, 10};
  int64_t one[1] = {1};
  RT_OK(pal_graph_add_initializer(g, "w0", rt_rand_tensor(rng, 2, w0, 0.3)));
  RT_OK(pal_graph_add_initializer(g, "b0", rt_rand_tensor(rng, 1, b0, 0.1)));
  RT_OK(pal_graph_add_initializer(g, "w1", rt_rand_tensor(rng, 2, w1, 0.3)));
  RT_OK(pal_graph_add_initializer(g, "b1", rt_rand_tensor(rng, 1, b1, 0.1)));
  RT_OK(pal_graph_add_initializer(g, "w2", rt_rand_tensor(rng, 2, w2, 0.3)));
  RT_OK(pal_graph_add_initializer(g, "b2", rt_rand_tensor(rng, 1, one, 0.1)));
  pal_tensor_t *lo, *hi;
  RT_OK(pal_tensor_create(PAL_DTYPE_FP32, 0, NULL, &lo));
  RT_OK(pal_tensor_create(PAL_DTYPE_FP32, 0, NULL, &hi));
  *(float *)pal_tensor_data(lo) = 0.0f;
  *(float *)pal_tensor_data(hi) = 1.5f;
  RT_OK(pal_graph_add_initializer(g, "lo", lo));
  RT_OK(pal_graph_add_initializer(g, "hi", hi));
  size_t node;
  const char *in0[2] = {"x", "w0"}, *out0[1] = {"h0"};
  RT_OK(pal_graph_add_node(g, "MatMul", "mm0", 2, in0, 1, out0, NULL));
  const char *in1[2] = {"b0", "h0"}, *out1[1] = {"a0"};
  RT_OK(pal_graph_add_node(g, "Add", "bias0", 2, in1, 1, out1, NULL));
  const char *in2[1] = {"a0"}, *out2[1] = {"r0"};
  RT_OK(pal_graph_add_node(g, "Relu", "relu0", 1, in2, 1, out2, NULL));
  const char *in3[3] = {"r0", "w1", "b1"}, *out3[1] = {"h1"};
  RT_OK(pal_graph_add_node(g, "Gemm", "gemm1", 3, in3, 1, out3, &node));
  RT_OK(pal_graph_set_attr_int(g, node, "transB", 1));
  RT_OK(pal_graph_set_attr_float(g, node, "alpha", 0.75f));
  RT_OK(pal_graph_set_attr_float(g, node, "beta", 2.0f));
  const char *in4[3] = {"h1", "lo", "hi"}, *out4[1] = {"r1"};
  RT_OK(pal_graph_add_node(g, "Clip", "clip1", 3, in4, 1, out4, NULL));
  const char *in5[3] = {"r1", "w2", "b2"}, *out5[1] = {"h2"};
  RT_OK(pal_graph_add_node(g, "Gemm", "gemm2", 3, in5, 1, out5, NULL));
  const char *in6[1] = {"h2"}, *out6[1] = {"p"};
  RT_OK(pal_graph_add_node(g, "Softmax", "sm", 1, in6, 1, out6, NULL));
  RT_OK(pal_graph_add_output(g, "p"));
  RT_OK(pal_graph_finalize(g));
  return g;
}

static pal_graph_t *pal8_cnn(pal_test_rng_t *rng) {
  pal_graph_t *g;
  RT_OK(pal_graph_create("pal8_cnn", &g));
  pal_shape_t xs = {.rank = 4, .dims = {-1, 3, 9, 8}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  int64_t wd[4] = {6, 3, 3, 3}, bd[1] = {6}, fd[2] = {6 * 5 * 4, 7};
  RT_OK(pal_graph_add_initializer(g, "w", rt_rand_tensor(rng, 4, wd, 0.3)));
  RT_OK(pal_graph_add_initializer(g, "b", rt_rand_tensor(rng, 1, bd, 0.2)));
  RT_OK(pal_graph_add_initializer(g, "f", rt_rand_tensor(rng, 2, fd, 0.2)));
  size_t conv;
  const char *cin[3] = {"x", "w", "b"}, *cout[1] = {"c"};
  RT_OK(pal_graph_add_node(g, "Conv", "conv", 3, cin, 1, cout, &conv));
  int64_t pads[4] = {1, 0, 1, 1}, strides[2] = {2, 2};
  RT_OK(pal_graph_set_attr_ints(g, conv, "pads", 4, pads));
  RT_OK(pal_graph_set_attr_ints(g, conv, "strides", 2, strides));
  const char *rin[1] = {"c"}, *rout[1] = {"r"};
  RT_OK(pal_graph_add_node(g, "Relu", "relu", 1, rin, 1, rout, NULL));
  const char *fin[1] = {"r"}, *fout[1] = {"flat"};
  RT_OK(pal_graph_add_node(g, "Flatten", "flatten", 1, fin, 1, fout, NULL));
  const char *min[2] = {"flat", "f"}, *mout[1] = {"y"};
  RT_OK(pal_graph_add_node(g, "MatMul", "fc", 2, min, 1, mout, NULL));
  RT_OK(pal_graph_add_output(g, "y"));
  RT_OK(pal_graph_finalize(g));
  return g;
}

static void check_pal8_equals_emu(pal_graph_t *g, pal_tensor_t *x, uint64_t seed,
                                  size_t expect_pal_nodes) {
  pal_session_t *dev = session_fmt(g, "pal,cpu", NULL);
  pal_session_t *c8 = session_fmt(g, "cpu", PAL_CPU_FORMAT_PAL8_B32);
  pal_session_t *c32 = session_fmt(g, "cpu", NULL);
  assert_int_equal(pal_session_provider_node_count(dev, "pal"), expect_pal_nodes);
  char *text = placement_text(c8);
  assert_non_null(strstr(text, "PAL8-B32 (pal_gemm, bit-exact with the tile)"));
  free(text);
  pal_tensor_t *yd, *y8, *y32;
  const pal_tensor_t *in[1] = {x};
  RT_OK(pal_session_run(dev, 1, in, 1, &yd));
  RT_OK(pal_session_run(c8, 1, in, 1, &y8));
  RT_OK(pal_session_run(c32, 1, in, 1, &y32));
  assert_int_equal(pal_tensor_count(yd), pal_tensor_count(y8));
  const float *a = pal_tensor_cdata(yd), *b = pal_tensor_cdata(y8), *f = pal_tensor_cdata(y32);
  size_t differ = 0;
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < pal_tensor_count(yd); i++) {
    PAL_TEST_CHECK(seed, pal_f32_bits(a[i]) == pal_f32_bits(b[i]),
                   "%s output %zu: pal on emu:// %a, cpu pal8-b32 %a", pal_graph_node_name(g, 0), i,
                   (double)a[i], (double)b[i]);
    differ += pal_f32_bits(b[i]) != pal_f32_bits(f[i]);
    err2 += ((double)b[i] - f[i]) * ((double)b[i] - f[i]);
    ref2 += (double)f[i] * f[i];
  }
  assert_true(differ > 0); /* the PAL8 path really ran */
  /* a tile without a POST unit (the iCEBreaker's): the CPU finishes each
   * layer, the outputs are the same bits, and the placement says so */
  pal_session_t *np = session_on(g, "pal,cpu", NULL, "emu://?post=0");
  assert_int_equal(pal_session_provider_node_count(np, "pal"), expect_pal_nodes);
  pal_tensor_t *yn;
  RT_OK(pal_session_run(np, 1, in, 1, &yn));
  const float *n = pal_tensor_cdata(yn);
  for (size_t i = 0; i < pal_tensor_count(yn); i++)
    PAL_TEST_CHECK(seed, pal_f32_bits(n[i]) == pal_f32_bits(b[i]),
                   "output %zu: pal on emu://?post=0 %a, cpu pal8-b32 %a", i, (double)n[i], (double)b[i]);
  text = placement_text(np);
  PAL_TEST_CHECK(seed, strstr(text, "no POST unit") && strstr(text, "post-processed on the CPU"),
                 "the placement does not say where POST ran:\n%s", text);
  free(text);
  pal_tensor_release(yn);
  pal_session_release(np);
  /* nor accumulate units: the tile leaves raw block sums, the CPU adds them
   * up, and still the same bits */
  pal_session_t *na = session_on(g, "pal,cpu", NULL, "emu://?post=0&accu=0");
  assert_int_equal(pal_session_provider_node_count(na, "pal"), expect_pal_nodes);
  RT_OK(pal_session_run(na, 1, in, 1, &yn));
  n = pal_tensor_cdata(yn);
  for (size_t i = 0; i < pal_tensor_count(yn); i++)
    PAL_TEST_CHECK(seed, pal_f32_bits(n[i]) == pal_f32_bits(b[i]),
                   "output %zu: pal on emu://?post=0&accu=0 %a, cpu pal8-b32 %a", i, (double)n[i], (double)b[i]);
  text = placement_text(na);
  PAL_TEST_CHECK(seed, strstr(text, "no accumulate units") && strstr(text, "accumulated and POST on the host"),
                 "the placement does not say where the accumulation ran:\n%s", text);
  free(text);
  pal_tensor_release(yn);
  pal_session_release(na);
  /* and it is PAL8 of the same model: within 10 % relative RMS of FP32 */
  PAL_TEST_CHECK(seed, err2 <= 0.01 * ref2, "relative RMS error %g", sqrt(err2 / ref2));
  pal_tensor_release(yd), pal_tensor_release(y8), pal_tensor_release(y32);
  pal_session_release(dev), pal_session_release(c8), pal_session_release(c32);
}

static void test_cpu_pal8_bit_exact(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0x8B32);
  pal_graph_t *g = pal8_mlp(&rng);
  int64_t xd[2] = {37, 40};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0);
  check_pal8_equals_emu(g, x, seed, 6);
  pal_tensor_release(x);
  pal_graph_release(g);
  g = pal8_cnn(&rng);
  int64_t cd[4] = {3, 3, 9, 8};
  x = rt_rand_tensor(&rng, 4, cd, 1.0);
  check_pal8_equals_emu(g, x, seed, 3);
  pal_tensor_release(x);
  pal_graph_release(g);
  /* An unknown format is refused, naming it. */
  pal_session_options_t o;
  pal_session_options_initialize(&o);
  o.providers = "cpu";
  o.cpu_format = "int8";
  pal_session_t *s;
  g = pal8_mlp(&rng);
  RT_ERR(pal_session_create(g, &o, &s), "cpu format 'int8' is not known");
  pal_graph_release(g);
}

/* The progress callback counts nodes: one call per node on cpu, one per
 * device subgraph (all its nodes at once), ending at the node count. */
typedef struct progress_log {
  size_t calls, last, total;
  bool monotonic;
} progress_log_t;

static void on_progress(void *ctx, size_t done, size_t total) {
  progress_log_t *l = ctx;
  if (done <= l->last && l->calls) l->monotonic = false;
  l->calls++;
  l->last = done;
  l->total = total;
}

static void test_progress_in_nodes(void **state) {
  (void)state;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  pal_graph_t *g = pal8_mlp(&rng);
  int64_t xd[2] = {5, 40};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0), *y;
  static const struct {
    const char *providers;
    size_t calls;
  } cases[] = {{"cpu", 7}, {"pal,cpu", 2}};
  for (size_t c = 0; c < 2; c++) {
    progress_log_t log = {.monotonic = true};
    pal_session_options_t o;
    pal_session_options_initialize(&o);
    o.providers = cases[c].providers;
    o.device_uri = "emu://";
    o.progress = on_progress;
    o.progress_ctx = &log;
    pal_session_t *s;
    RT_OK(pal_session_create(g, &o, &s));
    const pal_tensor_t *in[1] = {x};
    RT_OK(pal_session_run(s, 1, in, 1, &y));
    pal_tensor_release(y);
    assert_int_equal(log.calls, cases[c].calls);
    assert_int_equal(log.last, 7);
    assert_int_equal(log.total, 7);
    assert_true(log.monotonic);
    pal_session_release(s);
  }
  pal_tensor_release(x);
  pal_graph_release(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cuda_claims),
      cmocka_unit_test(test_cuda_unavailable),
      cmocka_unit_test(test_cuda_session),
      cmocka_unit_test(test_cpu_pal8_bit_exact),
      cmocka_unit_test(test_progress_in_nodes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
