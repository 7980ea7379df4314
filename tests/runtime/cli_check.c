/* The `pal` CLI's contract, end to end: a small MLP built and exported by
 * this program runs under `pal run` on emu:// with every node on the tile
 * (--no-fallback), its output equal bit for bit to the golden model and
 * within the PAL8 tolerance of FP32; the cpu provider matches FP32, and
 * with --cpu-format pal8-b32 the golden model bit for bit; a
 * model with a node the tile cannot run fails under --no-fallback with
 * exit 5 naming the node; bad files exit 4 naming the file; usage errors
 * exit 2; `pal quantize` equals pal_quant_roundtrip bit for bit; `pal
 * compile` writes a kernel image. usage: cli_check PATH-TO-pal */
#include <math.h>
#include <sys/wait.h>

#include "pal/quant.h"
#include "rt_test_util.h"

static const char *pal_bin;
static char dir[256];

/* Runs `pal ARGS` with stdout+stderr into DIR/out.txt; returns the exit code. */
static int run_pal(const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s > '%s/out.txt' 2>&1", pal_bin, args, dir);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *out_text(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

#define EXPECT_RC(args, want)                                                         \
  do {                                                                                \
    int rc_ = run_pal(args);                                                          \
    if (rc_ != (want)) {                                                              \
      print_error("pal %s: exit %d, expected %d:\n%s\n", args, rc_, want, out_text()); \
      fail();                                                                         \
    }                                                                                 \
  } while (0)

#define EXPECT_OUT(needle)                                                   \
  do {                                                                       \
    if (!strstr(out_text(), needle)) {                                       \
      print_error("output lacks '%s':\n%s\n", needle, out_text());           \
      fail();                                                                \
    }                                                                        \
  } while (0)

static const int dims[] = {50, 20, 6};

static void test_cli_run(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_graph_t *g = rt_make_mlp(&rng, dims, 2, 4);
  char model[300], xin[300], yout[300], args[1500];
  snprintf(model, sizeof model, "%s/mlp.onnx", dir);
  snprintf(xin, sizeof xin, "%s/x.npy", dir);
  snprintf(yout, sizeof yout, "%s/y.npy", dir);
  RT_OK(pal_onnx_save(g, model));
  int64_t xd[2] = {4, 50};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0);
  RT_OK(pal_npy_write(xin, x));

  snprintf(args, sizeof args, "run '%s' --input '%s' --output '%s' --device emu:// --no-fallback",
           model, xin, yout);
  EXPECT_RC(args, 0);
  EXPECT_OUT("pal 3, cuda 0, cpu 0");
  EXPECT_OUT("fallbacks: none");
  pal_tensor_t *y;
  RT_OK(pal_npy_read(yout, &y));
  const float *w[2] = {pal_tensor_cdata(pal_graph_initializer(g, "w0")),
                       pal_tensor_cdata(pal_graph_initializer(g, "w1"))};
  const float *b[2] = {pal_tensor_cdata(pal_graph_initializer(g, "b0")),
                       pal_tensor_cdata(pal_graph_initializer(g, "b1"))};
  float gold[24], ref[24];
  rt_golden_mlp(pal_tensor_cdata(x), 4, dims, 2, w, b, gold);
  rt_fp32_mlp(g, pal_tensor_cdata(x), 4, dims, 2, ref);
  const float *yd = pal_tensor_cdata(y);
  double se = 0, sr = 0;
  for (size_t i = 0; i < 24; i++) {
    PAL_TEST_CHECK(seed, pal_f32_bits(yd[i]) == pal_f32_bits(gold[i]), "y[%zu] %a, golden %a", i,
                   (double)yd[i], (double)gold[i]);
    se += (double)(yd[i] - ref[i]) * (yd[i] - ref[i]);
    sr += (double)ref[i] * ref[i];
  }
  PAL_TEST_CHECK(seed, sqrt(se / sr) < 0.05, "relative RMS vs FP32 %.4f", sqrt(se / sr));
  pal_tensor_release(y);

  /* The cpu provider: FP32. */
  snprintf(args, sizeof args, "run '%s' --input '%s' --output '%s' --providers cpu --profile", model,
           xin, yout);
  EXPECT_RC(args, 0);
  EXPECT_OUT("profile");
  RT_OK(pal_npy_read(yout, &y));
  yd = pal_tensor_cdata(y);
  for (size_t i = 0; i < 24; i++)
    PAL_TEST_CHECK(seed, fabsf(yd[i] - ref[i]) <= 1e-5f + 1e-5f * fabsf(ref[i]), "cpu y[%zu]", i);
  pal_tensor_release(y);

  /* The cpu provider in PAL8-B32: the golden model again, bit for bit. */
  snprintf(args, sizeof args, "run '%s' --input '%s' --output '%s' --providers cpu --cpu-format pal8-b32",
           model, xin, yout);
  EXPECT_RC(args, 0);
  EXPECT_OUT("PAL8-B32 (pal_gemm, bit-exact with the tile)");
  RT_OK(pal_npy_read(yout, &y));
  yd = pal_tensor_cdata(y);
  for (size_t i = 0; i < 24; i++)
    PAL_TEST_CHECK(seed, pal_f32_bits(yd[i]) == pal_f32_bits(gold[i]), "cpu pal8-b32 y[%zu] %a, golden %a",
                   i, (double)yd[i], (double)gold[i]);
  pal_tensor_release(y);
  snprintf(args, sizeof args, "run '%s' --input '%s' --providers cpu --cpu-format int4", model, xin);
  EXPECT_RC(args, 2);
  EXPECT_OUT("--cpu-format must be fp32 or pal8-b32, not 'int4'");

  /* A Softmax at the end: it falls back with its reason, and
   * --no-fallback turns that into exit 5 naming the node. */
  const char *in[1] = {pal_graph_output_name(g, 0)}, *out[1] = {"probs"};
  pal_graph_t *h;
  RT_OK(pal_onnx_load(model, &h));
  RT_OK(pal_graph_add_node(h, "Softmax", "final_softmax", 1, in, 1, out, NULL));
  RT_OK(pal_graph_add_output(h, "probs"));
  RT_OK(pal_graph_finalize(h));
  char model2[300];
  snprintf(model2, sizeof model2, "%s/mlp_softmax.onnx", dir);
  RT_OK(pal_onnx_save(h, model2));
  pal_graph_release(h);
  snprintf(args, sizeof args, "run '%s' --input '%s' --device emu://", model2, xin);
  EXPECT_RC(args, 0);
  EXPECT_OUT("'final_softmax' (Softmax) -> cpu: pal: Softmax is not lowered");
  snprintf(args, sizeof args, "run '%s' --input '%s' --device emu:// --no-fallback", model2, xin);
  EXPECT_RC(args, 5);
  EXPECT_OUT("'final_softmax' (Softmax) would fall back");

  /* compile: the chain as one kernel image. */
  snprintf(args, sizeof args, "compile '%s' -o '%s/mlp.palk' --device emu://", model, dir);
  EXPECT_RC(args, 0);
  char palk[300];
  snprintf(palk, sizeof palk, "%s/mlp.palk", dir);
  FILE *f = fopen(palk, "rb");
  assert_non_null(f);
  char magic[4];
  assert_int_equal(fread(magic, 1, 4, f), 4);
  fclose(f);
  assert_memory_equal(magic, "PALK", 4);

  /* Errors: bad files name the file (exit 4), usage errors exit 2. */
  char bad[300];
  snprintf(bad, sizeof bad, "%s/bad.onnx", dir);
  f = fopen(bad, "wb");
  fputs("this is not a protobuf \x01\x02\x03", f);
  fclose(f);
  snprintf(args, sizeof args, "run '%s' --input '%s'", bad, xin);
  EXPECT_RC(args, 4);
  EXPECT_OUT("bad.onnx");
  snprintf(args, sizeof args, "run '%s' --input '%s' --providers cpu", model, bad);
  EXPECT_RC(args, 4);
  EXPECT_OUT("bad.onnx");
  snprintf(args, sizeof args, "run '%s'", model);
  EXPECT_RC(args, 2);
  EXPECT_OUT("1 inputs ('x'), 0 --input given");
  EXPECT_RC("run", 2);
  EXPECT_RC("frobnicate", 2);
  EXPECT_RC("run --help", 0);
  EXPECT_OUT("--no-fallback");
  EXPECT_RC("info --help", 0);
  EXPECT_RC("compile --help", 0);
  EXPECT_RC("bench --help", 0);
  EXPECT_RC("quantize --help", 0);
  EXPECT_RC("--help", 0);
  EXPECT_OUT("exit codes");
  EXPECT_RC("info --device emu://", 0);
  EXPECT_OUT("default device:");
  EXPECT_OUT("cuda");
  EXPECT_RC("info --device 'no-scheme-here'", 2);
  snprintf(args, sizeof args, "bench '%s' --device emu:// --iters 3", model);
  EXPECT_RC(args, 0);
  EXPECT_OUT("3 runs");
  pal_tensor_release(x);
  pal_graph_release(g);
}

static void test_cli_quantize(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0x77);
  int64_t xd[2] = {5, 70};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 2.0);
  char in[300], out[300], args[900];
  snprintf(in, sizeof in, "%s/q_in.npy", dir);
  snprintf(out, sizeof out, "%s/q_out.npy", dir);
  RT_OK(pal_npy_write(in, x));
  static const struct {
    const char *name;
    pal_qformat_t f;
  } fmts[] = {{"pal8-b32", PAL_QF_PAL8_B32}, {"pal8-t", PAL_QF_PAL8_T}, {"pal16", PAL_QF_PAL16}};
  for (size_t k = 0; k < 3; k++) {
    snprintf(args, sizeof args, "quantize '%s' -o '%s' --format %s", in, out, fmts[k].name);
    EXPECT_RC(args, 0);
    EXPECT_OUT("rel rms err");
    pal_tensor_t *y;
    RT_OK(pal_npy_read(out, &y));
    float want[350];
    RT_OK(pal_quant_roundtrip(fmts[k].f, pal_tensor_cdata(x), 5, 70, want));
    assert_memory_equal(pal_tensor_cdata(y), want, sizeof want);
    pal_tensor_release(y);
  }
  snprintf(args, sizeof args, "quantize '%s' -o '%s' --format fp64", in, out);
  EXPECT_RC(args, 2);
  pal_tensor_release(x);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH-TO-pal\n", argv[0]);
    return 2;
  }
  pal_bin = argv[1];
  rt_mkdtemp(dir, sizeof dir);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cli_run),
      cmocka_unit_test(test_cli_quantize),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  rt_rmdir(dir);
  return rc;
}
