/* Runtime providers benchmark (make bench-providers): the cpu provider's
 * Gemm through a whole session next to calling OpenBLAS directly on the
 * same shapes (throughput ratio, target >= 0.9), and an MLP
 * (784-256-128-10, ReLU, seeded weights and inputs) through the pal
 * provider on the 4x4 and 8x8 emulated tiles: cycles per image, array
 * utilisation (CYC_BUSY / CYC_TOTAL), MACs gated by zero weights and
 * activation codes skipped by zero skipping. Table + build/bench/providers.json.
 *
 * With --runtime-json PATH (make bench-runtime) it also gathers the other
 * runtime figures without recomputing them: the ONNX node-test pass rates
 * per op from the node runner's report (--nodes, --nodes-emu: the files
 * check-onnx-nodes writes) and the demo's accuracy and tile figures from
 * make demo's key=value summary (--demo; absent: "run make demo first"),
 * and prints them with the GEMM ratios as one table. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

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

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* GEMM rows kept for the runtime table. */
static struct {
  int m, n, k;
  double session_gflops, blas_gflops, ratio_best, ratio_median;
} g_gemm[8];
static int g_n_gemm;

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

/* ---- the runtime table (--runtime-json) ------------------------------------ */

typedef struct row {
  char what[96], params[160];
  double value;
  char unit[16], value_text[64];
  const char *op; /* target, or NULL */
  double target;
} row_t;

static row_t g_rows[256];
static int g_n_rows;

static row_t *add_row(const char *what, const char *params, double value, const char *unit,
                      const char *op, double target) {
  if (g_n_rows == (int)(sizeof g_rows / sizeof *g_rows)) return NULL;
  row_t *r = &g_rows[g_n_rows++];
  snprintf(r->what, sizeof r->what, "%s", what);
  snprintf(r->params, sizeof r->params, "%s", params);
  r->value = value;
  snprintf(r->unit, sizeof r->unit, "%s", unit);
  r->op = op;
  r->target = target;
  return r;
}

/* The node runner's report: "op pass fail unsup" rows up to "total: ...". */
static int read_nodes(const char *path, const char *provider) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[1024], what[96], params[160];
  bool table = false;
  int tp = 0, tf = 0, tu = 0, ops = 0;
  while (fgets(line, sizeof line, f)) {
    char op[64];
    int p, fl, u;
    if (!strncmp(line, "op ", 3)) {
      table = true;
    } else if (!strncmp(line, "total:", 6)) {
      int tests = 0;
      sscanf(line, "total: %d tests, %d pass, %d fail, %d unsupported", &tests, &tp, &tf, &tu);
      int attempted = tp + tf;
      snprintf(params, sizeof params, "\"provider\": \"%s\", \"tests\": %d, \"attempted\": %d, "
               "\"pass\": %d, \"fail\": %d, \"unsupported\": %d", provider, tests, attempted, tp, tf, tu);
      snprintf(what, sizeof what, "node tests, all ops (%s)", provider);
      row_t *r = add_row(what, params, attempted ? (double)tp / attempted : 0, "ratio", "==", 1.0);
      if (r)
        snprintf(r->value_text, sizeof r->value_text, "%d/%d attempted (%d tests)", tp, attempted,
                 tests);
      table = false;
    } else if (table && !strcmp(provider, "cpu") && sscanf(line, "%63s %d %d %d", op, &p, &fl, &u) == 4) {
      snprintf(params, sizeof params, "\"provider\": \"%s\", \"op\": \"%s\", \"attempted\": %d, "
               "\"pass\": %d, \"fail\": %d, \"unsupported\": %d", provider, op, p + fl, p, fl, u);
      snprintf(what, sizeof what, "node tests %s", op);
      row_t *r = add_row(what, params, p + fl ? (double)p / (p + fl) : 0, "ratio", NULL, 0);
      if (r) snprintf(r->value_text, sizeof r->value_text, "%d/%d (%d unsup)", p, p + fl, u);
      ops++;
    }
  }
  fclose(f);
  return ops;
}

/* make demo's summary: key=value lines, the first value of a key wins. */
static char g_keys[256][96];
static double g_vals[256];
static int g_n_keys;

static bool demo_get(const char *key, double *out) {
  for (int i = 0; i < g_n_keys; i++)
    if (!strcmp(g_keys[i], key)) {
      *out = g_vals[i];
      return true;
    }
  return false;
}

static bool read_demo(const char *path) {
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) return false;
  char line[256];
  while (fgets(line, sizeof line, f) && g_n_keys < 256) {
    char *eq = strchr(line, '=');
    if (!eq) continue;
    *eq = 0;
    double v;
    if (demo_get(line, &v)) continue;
    snprintf(g_keys[g_n_keys], sizeof g_keys[0], "%.95s", line);
    g_vals[g_n_keys++] = atof(eq + 1);
  }
  fclose(f);
  return true;
}

static void demo_rows(void) {
  static const struct {
    const char *model, *pal8_key;
    double fp32_target;
  } models[] = {{"mlp", "mlp.tile_emu_4x4.accuracy", 88.0}, {"cnn", "cnn.pal_provider_emu.accuracy", 90.0}};
  char key[128], what[96], params[160];
  for (size_t m = 0; m < 2; m++) {
    const char *name = models[m].model;
    double fp, q;
    snprintf(key, sizeof key, "%s.fp32.accuracy", name);
    bool have_fp = demo_get(key, &fp), have_q = demo_get(models[m].pal8_key, &q);
    snprintf(params, sizeof params, "\"model\": \"%s\", \"format\": \"fp32\"", name);
    snprintf(what, sizeof what, "%s accuracy FP32 (cpu)", name);
    if (have_fp) add_row(what, params, fp, "%", ">=", models[m].fp32_target);
    snprintf(params, sizeof params, "\"model\": \"%s\", \"format\": \"pal8_b32\", \"device\": \"emu://\"", name);
    snprintf(what, sizeof what, "%s accuracy PAL8-B32 (emu://)", name);
    if (have_q) add_row(what, params, q, "%", NULL, 0);
    snprintf(what, sizeof what, "%s accuracy PAL8 - FP32", name);
    if (have_fp && have_q) add_row(what, params, q - fp, "pp", ">=", -0.5);
    for (int t = 0; t < 2; t++) {
      const char *tile = t ? "8x8" : "4x4";
      double cyc = 0, util, skipped;
      snprintf(params, sizeof params, "\"model\": \"%s\", \"tile\": \"%s\"", name, tile);
      snprintf(key, sizeof key, "%s.tile_emu_%s.cycles_per_image", name, tile);
      bool have_cyc = demo_get(key, &cyc);
      snprintf(what, sizeof what, "%s cycles/image %s", name, tile);
      if (have_cyc) add_row(what, params, cyc, "cycles", NULL, 0);
      snprintf(key, sizeof key, "%s.tile_emu_%s.utilisation", name, tile);
      snprintf(what, sizeof what, "%s array utilisation %s", name, tile);
      if (demo_get(key, &util)) add_row(what, params, util, "%", NULL, 0);
      snprintf(key, sizeof key, "%s.tile_emu_%s.act_skipped_per_image", name, tile);
      snprintf(what, sizeof what, "%s zero-skip saved/image %s", name, tile);
      if (demo_get(key, &skipped)) {
        row_t *r = add_row(what, params, skipped, "codes", NULL, 0);
        if (r && have_cyc)
          snprintf(r->value_text, sizeof r->value_text, "%.0f (%.1f %% of cycles)", skipped,
                   100.0 * skipped / (skipped + cyc));
      }
    }
  }
}

static void print_runtime_table(bool have_demo, const char *demo) {
  printf("\n==== bench-runtime ====\n");
  printf("%-44s %-30s %-10s %s\n", "measurement", "value", "target", "");
  for (int i = 0; i < g_n_rows; i++) {
    const row_t *r = &g_rows[i];
    char v[64], t[24] = "";
    if (r->value_text[0]) snprintf(v, sizeof v, "%s", r->value_text);
    else snprintf(v, sizeof v, "%.4g %s", r->value, r->unit);
    if (r->op) snprintf(t, sizeof t, "%s %g", r->op, r->target);
    bool ok = !r->op || (!strcmp(r->op, "==") ? r->value == r->target
                                              : !strcmp(bench_verdict(r->value, r->op, r->target), "met"));
    printf("%-44s %-30s %-10s %s\n", r->what, v, t, r->op ? (ok ? "met" : "MISSED") : "");
  }
  if (!have_demo)
    printf("%-44s %s\n", "demo (accuracy, cycles, zero skip)",
           demo ? "run make demo first (no summary file)" : "run make demo first");
}

static int write_runtime_json(const char *path) {
  bench_json_t j = {0};
  if (bench_json_open(&j, path, "runtime") != 0) return -1;
  for (int i = 0; i < g_n_rows; i++) {
    const row_t *r = &g_rows[i];
    char metric[96];
    const char *m = "value";
    if (!strncmp(r->what, "gemm", 4)) m = "cpu_gemm_vs_openblas";
    else if (!strncmp(r->what, "node tests, all", 15)) m = "node_test_pass_rate";
    else if (!strncmp(r->what, "node tests", 10)) m = "node_test_pass_rate_op";
    else if (strstr(r->what, "PAL8 - FP32")) m = "accuracy_pal8_minus_fp32";
    else if (strstr(r->what, "accuracy FP32")) m = "accuracy_fp32";
    else if (strstr(r->what, "accuracy PAL8")) m = "accuracy_pal8";
    else if (strstr(r->what, "cycles/image")) m = "cycles_per_image";
    else if (strstr(r->what, "utilisation")) m = "array_utilisation";
    else if (strstr(r->what, "zero-skip")) m = "act_codes_skipped_per_image";
    snprintf(metric, sizeof metric, "%s", m);
    bench_json_result(&j, metric, r->value, r->unit, r->params, r->op, r->target);
  }
  return bench_json_close(&j);
}

int main(int argc, char **argv) {
  const char *json = NULL, *runtime_json = NULL, *nodes = NULL, *nodes_emu = NULL, *demo = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--runtime-json") && i + 1 < argc) runtime_json = argv[++i];
    else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) nodes = argv[++i];
    else if (!strcmp(argv[i], "--nodes-emu") && i + 1 < argc) nodes_emu = argv[++i];
    else if (!strcmp(argv[i], "--demo") && i + 1 < argc) demo = argv[++i];
    else {
      fprintf(stderr, "usage: bench_providers [--json PATH] [--runtime-json PATH --nodes FILE "
                      "[--nodes-emu FILE] [--demo SUMMARY]]\n");
      return 2;
    }
  }
  bench_json_t j = {0};
  if (json && bench_json_open(&j, json, "providers") != 0) {
    fprintf(stderr, "bench_providers: cannot write %s\n", json);
    return 1;
  }

  printf("cpu provider Gemm (session, transB=1, bias) vs cblas_sgemm directly\n");
  printf("(calls interleaved; GF/s and \"best\": the fastest call of each; \"median\": median over\n"
         " adjacent pairs of calls of the direct/session time ratio, the figure held to the target)\n");
  printf("%6s %6s %6s %12s %12s %8s %8s %8s\n", "M", "N", "K", "session GF/s", "OpenBLAS GF/s",
         "best", "median", "target");
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
    /* Side by side: calls of each in turn (A B, then B A, ...), so machine
     * load hits both alike. Each adjacent pair gives a ratio (direct time /
     * session time); the reported ratio is the median over all pairs of
     * about 2 s of calls (at least 15 pairs), so a burst of load that hits
     * one call of a pair is an outlier, not a bias. GF/s and "best" come
     * from the fastest single call of each. */
    enum { MAX_PAIRS = 1 << 16 };
    static double ratios[MAX_PAIRS];
    size_t n_pairs = 0;
    double ts = 1e30, tb = 1e30;
    run_session(&c), run_blas(&c); /* warm-up: first touch, thread start */
    double start = bench_now();
    for (int it = 0; (bench_now() - start < 2.0 || n_pairs < 15) && n_pairs < MAX_PAIRS; it++) {
      double t[2]; /* session, direct */
      for (int h = 0; h < 2; h++) {
        int which = (h == 0) == ((it & 1) == 0) ? 0 : 1;
        double t0 = bench_now();
        if (which == 0) run_session(&c);
        else run_blas(&c);
        t[which] = bench_now() - t0;
      }
      if (t[0] < ts) ts = t[0];
      if (t[1] < tb) tb = t[1];
      ratios[n_pairs++] = t[1] / t[0];
    }
    qsort(ratios, n_pairs, sizeof *ratios, cmp_double);
    double flops = 2.0 * c.m * c.n * c.k;
    double ratio = ratios[n_pairs / 2];
    printf("%6d %6d %6d %12.2f %12.2f %8.3f %8.3f %8s %s\n", c.m, c.n, c.k, flops / ts * 1e-9,
           flops / tb * 1e-9, tb / ts, ratio, ">= 0.9", bench_verdict(ratio, ">=", 0.9));
    g_gemm[g_n_gemm].m = c.m, g_gemm[g_n_gemm].n = c.n, g_gemm[g_n_gemm].k = c.k;
    g_gemm[g_n_gemm].session_gflops = flops / ts * 1e-9;
    g_gemm[g_n_gemm].blas_gflops = flops / tb * 1e-9;
    g_gemm[g_n_gemm].ratio_best = tb / ts;
    g_gemm[g_n_gemm++].ratio_median = ratio;
    char params[128];
    snprintf(params, sizeof params, "\"M\": %d, \"N\": %d, \"K\": %d", c.m, c.n, c.k);
    bench_json_result(&j, "cpu_gemm_gflops", flops / ts * 1e-9, "GFLOP/s", params, NULL, 0);
    bench_json_result(&j, "openblas_gemm_gflops", flops / tb * 1e-9, "GFLOP/s", params, NULL, 0);
    bench_json_result(&j, "cpu_gemm_vs_openblas", ratio, "ratio", params, ">=", 0.9);
    bench_json_result(&j, "cpu_gemm_vs_openblas_best", tb / ts, "ratio", params, NULL, 0);
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
  if (!runtime_json) return 0;
  for (int i = 0; i < g_n_gemm; i++) {
    char what[96], params[160];
    snprintf(what, sizeof what, "gemm cpu provider / OpenBLAS %dx%dx%d", g_gemm[i].m, g_gemm[i].n,
             g_gemm[i].k);
    snprintf(params, sizeof params, "\"M\": %d, \"N\": %d, \"K\": %d, \"best_of_each\": %.3f",
             g_gemm[i].m, g_gemm[i].n, g_gemm[i].k, g_gemm[i].ratio_best);
    row_t *r = add_row(what, params, g_gemm[i].ratio_median, "ratio", ">=", 0.9);
    if (r)
      snprintf(r->value_text, sizeof r->value_text, "%.3f (%.1f vs %.1f GF/s)", g_gemm[i].ratio_median,
               g_gemm[i].session_gflops, g_gemm[i].blas_gflops);
  }
  if (!nodes || read_nodes(nodes, "cpu") < 0) {
    fprintf(stderr, "bench_providers: cannot read the node runner's report %s\n", nodes ? nodes : "(none given)");
    return 1;
  }
  if (nodes_emu && read_nodes(nodes_emu, "pal on emu://") < 0) {
    fprintf(stderr, "bench_providers: cannot read %s\n", nodes_emu);
    return 1;
  }
  bool have_demo = read_demo(demo);
  if (have_demo) demo_rows();
  print_runtime_table(have_demo, demo);
  if (write_runtime_json(runtime_json) != 0) {
    fprintf(stderr, "bench_providers: cannot write %s\n", runtime_json);
    return 1;
  }
  printf("\nwrote %s\n", runtime_json);
  return 0;
}
