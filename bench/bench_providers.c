/* Runtime providers benchmark (make bench-providers): the cpu provider's
 * Gemm through a whole session next to calling OpenBLAS directly on the
 * same shapes (throughput ratio, target >= 0.9), and an MLP
 * (784-256-128-10, ReLU, seeded weights and inputs) through the pal
 * provider on the 4x4 and 8x8 emulated tiles: cycles per image, array
 * utilisation (CYC_BUSY / CYC_TOTAL), MACs gated by zero weights and
 * activation codes skipped by zero skipping. Table + build/bench/providers.json. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>

#include "bench_util.h"
#include "pal/pal.h"

static void die(pal_status_t st, const char *what) {
  if (!st) return;
  fprintf(stderr, "bench_providers: %s: %s\n", what, pal_status_message(st));
  exit(1);
}

static uint64_t rng = 0x5EEDBEEF;
static float frand(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static pal_tensor_t *rand_tensor(size_t rank, const int64_t *dims, float scale) {
  pal_tensor_t *t;
  die(pal_tensor_create(PAL_DTYPE_FP32, rank, dims, &t), "tensor");
  float *d = pal_tensor_data(t);
  for (size_t i = 0; i < pal_tensor_count(t); i++) d[i] = scale * frand();
  return t;
}

/* Seconds per call of fn over one 0.2 s round. */
typedef void (*bench_fn)(void *ctx);
static double time_round(bench_fn fn, void *ctx) {
  int reps = 0;
  double t0 = bench_now(), t;
  do {
    fn(ctx);
    reps++;
    t = bench_now() - t0;
  } while (t < 0.2);
  return t / reps;
}

typedef struct gemm_case {
  int m, n, k;
  pal_session_t *s;
  pal_tensor_t *x, *w, *b;
  float *y;
} gemm_case_t;

static void run_session(void *ctx) {
  gemm_case_t *c = ctx;
  pal_tensor_t *out;
  die(pal_session_run(c->s, 1, (const pal_tensor_t *const *)&c->x, 1, &out), "run");
  pal_tensor_release(out);
}

static void run_blas(void *ctx) {
  gemm_case_t *c = ctx;
  const float *b = pal_tensor_cdata(c->b);
  for (int i = 0; i < c->m; i++) memcpy(c->y + (size_t)i * c->n, b, (size_t)c->n * sizeof *b);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->m, c->n, c->k, 1.0f,
              pal_tensor_cdata(c->x), c->k, pal_tensor_cdata(c->w), c->k, 1.0f, c->y, c->n);
}

int main(int argc, char **argv) {
  const char *json = NULL;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
  bench_json_t j = {0};
  if (json && bench_json_open(&j, json, "providers") != 0) {
    fprintf(stderr, "bench_providers: cannot write %s\n", json);
    return 1;
  }

  printf("cpu provider Gemm (session, transB=1, bias) vs cblas_sgemm directly\n");
  printf("%6s %6s %6s %12s %12s %8s %8s\n", "M", "N", "K", "session GF/s", "OpenBLAS GF/s",
         "ratio", "target");
  static const int shapes[][3] = {{64, 256, 784}, {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}};
  for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
    gemm_case_t c = {.m = shapes[si][0], .n = shapes[si][1], .k = shapes[si][2]};
    int64_t xd[2] = {c.m, c.k}, wd[2] = {c.n, c.k}, bd[1] = {c.n};
    c.x = rand_tensor(2, xd, 1.0f);
    pal_graph_t *g;
    die(pal_graph_create("gemm", &g), "graph");
    pal_shape_t xs = {.rank = 2, .dims = {c.m, c.k}};
    die(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs), "input");
    die(pal_graph_add_initializer(g, "w", rand_tensor(2, wd, 0.05f)), "w");
    die(pal_graph_add_initializer(g, "b", rand_tensor(1, bd, 0.1f)), "b");
    const char *in[3] = {"x", "w", "b"}, *out[1] = {"y"};
    size_t node;
    die(pal_graph_add_node(g, "Gemm", "gemm", 3, in, 1, out, &node), "node");
    die(pal_graph_set_attr_int(g, node, "transB", 1), "attr");
    die(pal_graph_add_output(g, "y"), "output");
    die(pal_graph_finalize(g), "finalize");
    c.w = (pal_tensor_t *)pal_graph_initializer(g, "w");
    c.b = (pal_tensor_t *)pal_graph_initializer(g, "b");
    pal_session_options_t o;
    pal_session_options_initialize(&o);
    o.providers = "cpu";
    die(pal_session_create(g, &o, &c.s), "session");
    c.y = malloc((size_t)c.m * c.n * sizeof *c.y);
    /* Side by side, alternating rounds, so machine load hits both alike. */
    double ts = 1e30, tb = 1e30;
    for (int round = 0; round < 5; round++) { /* alternate; best of each */
      double a = time_round(run_session, &c), b = time_round(run_blas, &c);
      if (a < ts) ts = a;
      if (b < tb) tb = b;
    }
    double flops = 2.0 * c.m * c.n * c.k;
    double ratio = tb / ts;
    printf("%6d %6d %6d %12.2f %12.2f %8.3f %8s %s\n", c.m, c.n, c.k, flops / ts * 1e-9,
           flops / tb * 1e-9, ratio, ">= 0.9", bench_verdict(ratio, ">=", 0.9));
    char params[128];
    snprintf(params, sizeof params, "\"M\": %d, \"N\": %d, \"K\": %d", c.m, c.n, c.k);
    bench_json_result(&j, "cpu_gemm_gflops", flops / ts * 1e-9, "GFLOP/s", params, NULL, 0);
    bench_json_result(&j, "openblas_gemm_gflops", flops / tb * 1e-9, "GFLOP/s", params, NULL, 0);
    bench_json_result(&j, "cpu_gemm_vs_openblas", ratio, "ratio", params, ">=", 0.9);
    free(c.y);
    pal_tensor_release(c.x);
    pal_session_release(c.s);
    pal_graph_release(g);
  }

  printf("\nMLP 784-256-128-10 (ReLU, seeded random weights and inputs) on the pal provider\n");
  printf("%-22s %6s %12s %10s %12s %12s %8s\n", "device", "batch", "cycles/img", "util",
         "MACs gated", "act skipped", "spills");
  static const int dims[] = {784, 256, 128, 10};
  pal_graph_t *g;
  die(pal_graph_create("mlp", &g), "graph");
  pal_shape_t xs = {.rank = 2, .dims = {-1, 784}};
  die(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs), "input");
  char prev[16] = "x";
  for (int l = 0; l < 3; l++) {
    char w[8], b[8], y[8], r[8];
    snprintf(w, sizeof w, "w%d", l);
    snprintf(b, sizeof b, "b%d", l);
    snprintf(y, sizeof y, "y%d", l);
    snprintf(r, sizeof r, "r%d", l);
    int64_t wd[2] = {dims[l + 1], dims[l]}, bd[1] = {dims[l + 1]};
    die(pal_graph_add_initializer(g, w, rand_tensor(2, wd, (float)(1.7 / sqrt(dims[l])))), "w");
    die(pal_graph_add_initializer(g, b, rand_tensor(1, bd, 0.05f)), "b");
    const char *in[3] = {prev, w, b}, *out[1] = {y};
    size_t node;
    die(pal_graph_add_node(g, "Gemm", y, 3, in, 1, out, &node), "gemm");
    die(pal_graph_set_attr_int(g, node, "transB", 1), "attr");
    snprintf(prev, sizeof prev, "%s", y);
    if (l < 2) {
      const char *rin[1] = {y}, *rout[1] = {r};
      die(pal_graph_add_node(g, "Relu", r, 1, rin, 1, rout, NULL), "relu");
      snprintf(prev, sizeof prev, "%s", r);
    }
  }
  die(pal_graph_add_output(g, prev), "output");
  die(pal_graph_finalize(g), "finalize");
  const int batch = 64;
  int64_t xd[2] = {batch, 784};
  pal_tensor_t *x = rand_tensor(2, xd, 1.0f);
  float *xv = pal_tensor_data(x);
  for (size_t i = 0; i < pal_tensor_count(x); i++) xv[i] = xv[i] < 0 ? 0 : xv[i]; /* image-like */
  static const struct {
    const char *uri, *tile;
  } devs[] = {{"emu://", "4x4"}, {"emu://?rows=8&cols=8", "8x8"}};
  for (size_t d = 0; d < 2; d++) {
    pal_session_options_t o;
    pal_session_options_initialize(&o);
    o.device_uri = devs[d].uri;
    o.no_fallback = true;
    pal_session_t *s;
    die(pal_session_create(g, &o, &s), devs[d].uri);
    pal_tensor_t *y;
    die(pal_session_run(s, 1, (const pal_tensor_t *const *)&x, 1, &y), "mlp run");
    pal_device_run_stats_t st;
    pal_session_device_stats(s, &st);
    double cpi = (double)st.cycles_total / batch;
    double util = st.cycles_total ? (double)st.cycles_busy / (double)st.cycles_total : 0;
    printf("%-22s %6d %12.0f %10.3f %12llu %12llu %8llu\n", devs[d].uri, batch, cpi, util,
           (unsigned long long)st.macs_gated, (unsigned long long)st.act_skipped,
           (unsigned long long)st.spills);
    char params[160];
    snprintf(params, sizeof params, "\"model\": \"mlp_784_256_128_10\", \"tile\": \"%s\", \"batch\": %d",
             devs[d].tile, batch);
    bench_json_result(&j, "mlp_cycles_per_image", cpi, "cycles", params, NULL, 0);
    bench_json_result(&j, "mlp_array_utilisation", util, "ratio", params, NULL, 0);
    bench_json_result(&j, "mlp_act_codes_skipped_per_image", (double)st.act_skipped / batch, "codes",
                      params, NULL, 0);
    bench_json_result(&j, "mlp_macs_gated_per_image", (double)st.macs_gated / batch, "MACs", params,
                      NULL, 0);
    pal_tensor_release(y);
    pal_session_release(s);
  }
  pal_tensor_release(x);
  pal_graph_release(g);
  if (json) {
    bench_json_close(&j);
    printf("\nwrote %s\n", json);
  }
  return 0;
}
