/* ONNX backend node tests (Debian's libonnx-testdata, data/node): loads each
 * test's model.onnx and test_data_set_*, runs it through the whole runtime
 * (import, finalize, partition, providers) and compares every output with
 * the expected one (|got - want| <= atol + rtol |want|, rtol 1e-3, atol
 * 1e-5; integer and bool outputs exactly). Prints pass / fail / unsupported
 * per op; nothing is skipped silently: each unsupported test is listed with
 * the reason. With --expect FILE, every test named in FILE must pass (the
 * asserted set, so a regression fails); --write-expect FILE records the
 * tests that pass now. Output ends in cmocka's summary lines, so
 * scripts/run-tests.sh counts it like the other test programs.
 *
 * usage: onnx_node_runner [--data DIR] [--device URI] [--expect FILE]
 *                         [--write-expect FILE] [--filter SUBSTR] [-v] */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx.pb-c.h"
#include "runtime_internal.h"

typedef enum { R_PASS, R_FAIL, R_UNSUPPORTED, R_SKIP, R_FALLBACK } result_t;

typedef struct op_stat {
  char op[48];
  int pass, fail, unsup;
} op_stat_t;

static op_stat_t stats[512];
static size_t n_stats;

static op_stat_t *stat_for(const char *op) {
  for (size_t i = 0; i < n_stats; i++)
    if (!strcmp(stats[i].op, op)) return &stats[i];
  if (n_stats == 512) return &stats[511];
  snprintf(stats[n_stats].op, sizeof stats[n_stats].op, "%s", op);
  return &stats[n_stats++];
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The op a test is about: the model's op whose name (without case and
 * underscores) starts the test name, else its first node's op. */
static void test_op(const char *test, const Onnx__ModelProto *m, char *out, size_t size) {
  char t[128];
  size_t k = 0;
  for (const char *p = test + 5; *p && k + 1 < sizeof t; p++)
    if (*p != '_') t[k++] = (char)(*p | 0x20);
  t[k] = 0;
  const Onnx__GraphProto *g = m->graph;
  snprintf(out, size, "%s", g && g->n_node ? g->node[0]->op_type : "?");
  size_t best = 0;
  for (size_t i = 0; g && i < g->n_node; i++) {
    char o[64];
    size_t j = 0;
    for (const char *p = g->node[i]->op_type; *p && j + 1 < sizeof o; p++) o[j++] = (char)(*p | 0x20);
    o[j] = 0;
    if (!strncmp(t, o, j) && j > best) {
      best = j;
      snprintf(out, size, "%s", g->node[i]->op_type);
    }
  }
}

/* On a device (PAL8-B32 operands) the bound is relative to the output's
 * largest magnitude: |got - want| <= 5e-2 * max|want| + 1e-5. */
static bool device_mode;

static bool close_enough(const pal_tensor_t *got, const pal_tensor_t *want, char *why, size_t size) {
  if (got->dtype != want->dtype || got->rank != want->rank ||
      memcmp(got->dims, want->dims, got->rank * sizeof *got->dims) != 0) {
    char a[160], b[160];
    pal_tensor_shape_string(got, a, sizeof a);
    pal_tensor_shape_string(want, b, sizeof b);
    snprintf(why, size, "got %s, expected %s", a, b);
    return false;
  }
  if (got->dtype != PAL_DTYPE_FP32) {
    if (memcmp(got->data, want->data, pal_tensor_nbytes(got)) != 0) {
      snprintf(why, size, "integer/bool values differ");
      return false;
    }
    return true;
  }
  const float *g = got->data, *w = want->data;
  float amax = 0;
  for (size_t i = 0; i < got->count; i++)
    if (isfinite(w[i]) && fabsf(w[i]) > amax) amax = fabsf(w[i]);
  for (size_t i = 0; i < got->count; i++) {
    if (isnan(w[i]) && isnan(g[i])) continue;
    if (isinf(w[i]) && g[i] == w[i]) continue;
    float tol = device_mode ? 1e-5f + 5e-2f * amax : 1e-5f + 1e-3f * fabsf(w[i]);
    if (!(fabsf(g[i] - w[i]) <= tol)) {
      snprintf(why, size, "element %zu: got %.9g, expected %.9g", i, (double)g[i], (double)w[i]);
      return false;
    }
  }
  return true;
}

static pal_status_t read_pb(const char *path, pal_tensor_t **out) {
  uint8_t *data;
  size_t size;
  PAL_RETURN_IF_ERROR(pal_file_read_all(path, (size_t)1 << 30, &data, &size));
  pal_status_t st = pal_onnx_parse_tensor(data, size, path, out);
  free(data);
  return st;
}

/* Device mode: the node tests give weights as graph inputs; the tile takes
 * constant weights. Inputs 1.. become initializers holding
 * test_data_set_0's values (every data set of these tests shares them? no:
 * so only set 0 is run in device mode), then the model is parsed. */
static pal_status_t bind_weights(Onnx__ModelProto *m, const char *dir, const char *path,
                                 pal_graph_t **out_graph, size_t *out_bound) {
  *out_bound = 0;
  Onnx__GraphProto *gp = m->graph;
  size_t n_in = gp->n_input, n_init = gp->n_initializer;
  Onnx__ValueInfoProto **old_in = gp->input;
  Onnx__TensorProto **old_init = gp->initializer;
  Onnx__TensorProto *loaded[16] = {0};
  Onnx__TensorProto **inits = calloc(n_init + n_in + 1, sizeof *inits);
  char *saved_names[16] = {0};
  pal_status_t st = PAL_STATUS_OK;
  for (size_t i = 0; i < n_init; i++) inits[i] = old_init[i];
  size_t k = n_init;
  for (size_t i = 1; i < n_in && i < 16 && !st; i++) {
    char p[1200];
    snprintf(p, sizeof p, "%s/test_data_set_0/input_%zu.pb", dir, i);
    uint8_t *data;
    size_t len;
    st = pal_file_read_all(p, (size_t)1 << 30, &data, &len);
    if (st) break;
    loaded[i] = onnx__tensor_proto__unpack(NULL, len, data);
    free(data);
    if (!loaded[i]) {
      st = pal_status_make(PAL_DATA_LOSS, "%s does not parse", p);
      break;
    }
    saved_names[i] = loaded[i]->name;
    loaded[i]->name = old_in[i]->name;
    inits[k++] = loaded[i];
  }
  if (!st) {
    gp->n_input = n_in ? 1 : 0;
    gp->n_initializer = k;
    gp->initializer = inits;
    size_t len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    onnx__model_proto__pack(m, buf);
    gp->n_input = n_in;
    gp->n_initializer = n_init;
    gp->initializer = old_init;
    st = pal_onnx_parse(buf, len, path, dir, out_graph);
    free(buf);
    *out_bound = k - n_init;
  }
  for (size_t i = 0; i < 16; i++)
    if (loaded[i]) {
      loaded[i]->name = saved_names[i];
      onnx__tensor_proto__free_unpacked(loaded[i], NULL);
    }
  free(inits);
  return st;
}

/* Runs one test directory. */
static result_t run_test(const char *dir, const char *name, const char *device, char *why,
                         size_t size, char *op, size_t op_size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  uint8_t *data;
  size_t len;
  pal_status_t st = pal_file_read_all(path, (size_t)1 << 30, &data, &len);
  if (st) {
    snprintf(why, size, "%s", pal_status_message(st));
    pal_status_free(st);
    snprintf(op, op_size, "?");
    return R_FAIL;
  }
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
  free(data);
  if (!m) {
    snprintf(why, size, "model.onnx does not parse");
    snprintf(op, op_size, "?");
    return R_FAIL;
  }
  test_op(name, m, op, op_size);
  /* Unsupported ops are reported as such, not attempted. */
  for (size_t i = 0; m->graph && i < m->graph->n_node; i++)
    if (!pal_op_is_supported(m->graph->node[i]->op_type)) {
      snprintf(why, size, "op %s is not supported", m->graph->node[i]->op_type);
      onnx__model_proto__free_unpacked(m, NULL);
      return R_UNSUPPORTED;
    }
  pal_graph_t *g = NULL;
  pal_session_t *s = NULL;
  result_t r = R_PASS;
  size_t bound_inputs = 0; /* graph inputs turned into initializers */
  if (device_mode) {
    bool core = false;
    for (size_t i = 0; m->graph && i < m->graph->n_node; i++) {
      const char *op_type = m->graph->node[i]->op_type;
      core = core || !strcmp(op_type, "Gemm") || !strcmp(op_type, "MatMul") || !strcmp(op_type, "Conv");
    }
    if (!core) {
      onnx__model_proto__free_unpacked(m, NULL);
      snprintf(why, size, "no Gemm/MatMul/Conv: not a device test");
      return R_SKIP;
    }
    st = bind_weights(m, dir, path, &g, &bound_inputs);
  } else {
    st = pal_onnx_load(path, &g);
  }
  onnx__model_proto__free_unpacked(m, NULL);
  if (!st && !g) st = pal_status_make(PAL_INTERNAL, "no graph");
  if (!st) {
    pal_session_options_t o;
    pal_session_options_initialize(&o);
    o.device_uri = device;
    o.providers = device ? "pal,cpu" : "cpu";
    st = pal_session_create(g, &o, &s);
  }
  if (st) {
    /* Unsupported types, opsets and attributes are UNIMPLEMENTED: the
     * runtime refuses them with a reason, which is what it should do. */
    r = pal_status_code(st) == PAL_UNIMPLEMENTED ? R_UNSUPPORTED : R_FAIL;
    snprintf(why, size, "%s", pal_status_message(st));
    pal_status_free(st);
    pal_graph_release(g);
    return r;
  }
  if (device_mode) {
    for (size_t i = 0; i < pal_graph_node_count(g); i++) {
      const char *op_type = pal_graph_node_op(g, i);
      if ((!strcmp(op_type, "Gemm") || !strcmp(op_type, "MatMul") || !strcmp(op_type, "Conv")) &&
          strcmp(pal_session_node_provider(s, i), "pal") != 0) {
        char *buf = NULL;
        size_t blen = 0;
        FILE *f = open_memstream(&buf, &blen);
        pal_session_print_placement(s, f);
        fclose(f);
        const char *fb = strstr(buf, "-> cpu: ");
        snprintf(why, size, "%s on cpu: %.*s", op_type, fb ? (int)strcspn(fb + 8, "\n") : 0,
                 fb ? fb + 8 : "");
        free(buf);
        r = R_FALLBACK;
      }
    }
  }
  size_t nin = pal_graph_input_count(g), nout = pal_graph_output_count(g);
  int sets = 0;
  for (int set = 0; r == R_PASS || (r == R_FALLBACK && set == 0); set++) {
    if (r == R_FALLBACK) break;
    char sdir[1100];
    snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", dir, set);
    struct stat sb;
    if (stat(sdir, &sb) != 0 || (device_mode && set > 0)) break;
    sets++;
    pal_tensor_t *in[16] = {0}, *out[16] = {0}, *want[16] = {0};
    if (nin > 16 || nout > 16) {
      snprintf(why, size, "more than 16 inputs or outputs");
      r = R_UNSUPPORTED;
      break;
    }
    for (size_t i = 0; i < nin && !st; i++) {
      (void)bound_inputs; /* bound inputs are no longer graph inputs */
      snprintf(path, sizeof path, "%s/input_%zu.pb", sdir, i);
      st = read_pb(path, &in[i]);
    }
    for (size_t i = 0; i < nout && !st; i++) {
      snprintf(path, sizeof path, "%s/output_%zu.pb", sdir, i);
      st = read_pb(path, &want[i]);
    }
    if (st) {
      r = pal_status_code(st) == PAL_UNIMPLEMENTED ? R_UNSUPPORTED : R_FAIL;
    } else {
      st = pal_session_run(s, nin, (const pal_tensor_t *const *)in, nout, out);
      if (st) r = pal_status_code(st) == PAL_UNIMPLEMENTED ? R_UNSUPPORTED : R_FAIL;
    }
    if (st) {
      snprintf(why, size, "%s", pal_status_message(st));
      pal_status_free(st);
      st = NULL;
    } else {
      for (size_t i = 0; i < nout && r == R_PASS; i++) {
        char w[256];
        if (!close_enough(out[i], want[i], w, sizeof w)) {
          snprintf(why, size, "set %d output %zu '%s': %s", set, i, pal_graph_output_name(g, i), w);
          r = R_FAIL;
        }
      }
    }
    for (size_t i = 0; i < 16; i++) {
      pal_tensor_release(in[i]);
      pal_tensor_release(out[i]);
      pal_tensor_release(want[i]);
    }
  }
  if (r == R_PASS && !sets) {
    snprintf(why, size, "no test_data_set_0");
    r = R_FAIL;
  }
  pal_session_release(s);
  pal_graph_release(g);
  return r;
}

static char **read_list(const char *path, size_t *out_n) {
  *out_n = 0;
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char **list = NULL;
  size_t n = 0, cap = 0;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      list = realloc(list, cap * sizeof *list);
    }
    list[n++] = strdup(line);
  }
  fclose(f);
  *out_n = n;
  return list;
}

int main(int argc, char **argv) {
  const char *data = "/usr/share/libonnx-testdata/data/node";
  const char *device = NULL, *expect = NULL, *write_expect = NULL, *filter = NULL;
  bool verbose = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i], device_mode = true;
    else if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect = argv[++i];
    else if (!strcmp(argv[i], "--write-expect") && i + 1 < argc) write_expect = argv[++i];
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "-v")) verbose = true;
    else {
      fprintf(stderr, "usage: %s [--data DIR] [--device URI] [--expect FILE] [--write-expect FILE] "
              "[--filter SUBSTR] [-v]\n", argv[0]);
      return 2;
    }
  }
  DIR *d = opendir(data);
  if (!d) {
    printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] onnx_node_tests: cannot open %s "
           "(Debian package libonnx-testdata)\n", data);
    return 1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (strncmp(e->d_name, "test_", 5) || (filter && !strstr(e->d_name, filter))) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 1024;
      names = realloc(names, cap * sizeof *names);
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  size_t n_exp = 0;
  char **exp = expect ? read_list(expect, &n_exp) : NULL;
  if (expect && !exp) {
    printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] cannot read %s\n", expect);
    return 1;
  }
  result_t *res = calloc(n ? n : 1, sizeof *res);
  int pass = 0, fail = 0, unsup = 0, skipped = 0, fallback = 0;
  FILE *wf = write_expect ? fopen(write_expect, "w") : NULL;
  if (wf)
    fprintf(wf, "# ONNX node tests (libonnx-testdata) that pass on %s: the set\n"
                "# onnx_node_runner --expect asserts. Regenerate with --write-expect.\n",
            device ? device : "the cpu provider");
  printf("ONNX node tests in %s, provider %s%s\n", data, device ? "pal on " : "cpu",
         device ? device : "");
  if (device_mode)
    printf("(device mode: weights bound as constants from test_data_set_0; tolerance "
           "5e-2 * max|expected| + 1e-5)\n");
  for (size_t i = 0; i < n; i++) {
    char dir[1024], why[512] = "", op[64];
    snprintf(dir, sizeof dir, "%s/%s", data, names[i]);
    res[i] = run_test(dir, names[i], device, why, sizeof why, op, sizeof op);
    if (res[i] == R_SKIP) {
      skipped++;
      continue;
    }
    op_stat_t *s = stat_for(op);
    if (res[i] == R_FALLBACK) {
      fallback++, s->unsup++;
      printf("  fallback    %-55s %s\n", names[i], why);
      continue;
    }
    if (res[i] == R_PASS) pass++, s->pass++;
    else if (res[i] == R_FAIL) fail++, s->fail++;
    else unsup++, s->unsup++;
    if (res[i] == R_PASS && wf) fprintf(wf, "%s\n", names[i]);
    if (res[i] == R_UNSUPPORTED && (verbose || pal_op_is_supported(op)))
      printf("  unsupported %-55s %s\n", names[i], why);
    if (res[i] == R_FAIL) printf("  FAIL        %-55s %s\n", names[i], why);
  }
  if (wf) fclose(wf);
  printf("\n%-24s %6s %6s %6s\n", "op", "pass", "fail", "unsup");
  for (size_t i = 0; i < n_stats; i++)
    if (pal_op_is_supported(stats[i].op) || verbose)
      printf("%-24s %6d %6d %6d\n", stats[i].op, stats[i].pass, stats[i].fail, stats[i].unsup);
  int other = 0;
  for (size_t i = 0; i < n_stats; i++)
    if (!pal_op_is_supported(stats[i].op)) other += stats[i].unsup + stats[i].fail + stats[i].pass;
  printf("(%d tests of ops not on the supported list: unsupported; -v lists them)\n", other);
  printf("total: %zu tests, %d pass, %d fail, %d unsupported", n, pass, fail, unsup);
  if (device_mode)
    printf(", %d with Gemm/MatMul/Conv on cpu (listed), %d without those ops (not device tests)",
           fallback, skipped);
  printf("\n");

  /* The asserted set. */
  int regressions = 0;
  for (size_t k = 0; k < n_exp; k++) {
    char **hit = bsearch(&exp[k], names, n, sizeof *names, cmp_str);
    if (!hit) {
      printf("  MISSING     %s (in %s, not in %s)\n", exp[k], expect, data);
      regressions++;
    } else if (res[hit - names] != R_PASS) {
      printf("  REGRESSION  %s\n", exp[k]);
      regressions++;
    }
  }
  for (size_t k = 0; k < n_exp; k++) free(exp[k]);
  for (size_t k = 0; k < n; k++) free(names[k]);
  free(exp);
  free(names);
  free(res);
  /* A test that ran and gave wrong numbers fails the run whether or not it
   * is in the expected set. */
  if (expect) printf("expected set: %zu tests, %d regressed\n", n_exp, regressions);
  if (regressions || fail) {
    printf("[  FAILED  ] %d test(s), listed below:\n[  FAILED  ] onnx_node_tests\n",
           regressions + fail);
    return 1;
  }
  printf("[  PASSED  ] %d test(s).\n", pass);
  return 0;
}
