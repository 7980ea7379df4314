/* `pal run`, `pal compile` and `pal bench`: load an ONNX model, partition
 * it over the providers (placement summary on stderr), then run it on .npy
 * inputs, write the device part as a kernel image, or time it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct run_args {
  const char *model;
  const char *inputs[16];
  size_t n_inputs;
  const char *outputs[16];
  size_t n_outputs;
  const char *out_palk;
  pal_session_options_t opt;
  int iters;
  bool quiet;
} run_args_t;

static const char run_help[] =
    "usage: pal run MODEL.onnx --input X.npy [--input X2.npy ...] [--output Y.npy ...]\n"
    "               [--device URI] [--providers LIST] [--cpu-format fp32|pal8-b32]\n"
    "               [--no-fallback] [--profile] [--quiet]\n"
    "  Runs the model. Inputs bind the graph inputs in order, outputs the graph\n"
    "  outputs in order (without --output, a summary of each is printed). The\n"
    "  placement summary (nodes per provider, each fallback and its reason) goes\n"
    "  to stderr unless --quiet.\n"
    "  --device URI      the pal provider's device (default: sim:// when registered,\n"
    "                    else emu://; see pal info)\n"
    "  --providers LIST  priority order, default pal,cuda,cpu\n"
    "  --cpu-format F    fp32 (default): the cpu provider runs everything in FP32;\n"
    "                    pal8-b32: the Gemm/MatMul/Conv the tile would take (with\n"
    "                    its bias and ReLU/Clip fusion) run on the cpu in PAL8-B32,\n"
    "                    bit for bit as the pal provider on emu://\n"
    "  --no-fallback     any node not on the first provider is an error (exit 5)\n"
    "  --profile         time per subgraph, tile counters\n"
    "  Exit codes: 0 ok, 1 run failed, 2 usage, 3 device unavailable, 4 bad or\n"
    "  unsupported model or input, 5 fallback under --no-fallback.\n";

static const char compile_help[] =
    "usage: pal compile MODEL.onnx -o MODEL.palk [--device URI]\n"
    "  Partitions the model and writes the kernel image of its device subgraph\n"
    "  (one dense chain or conv whose weights fit on the tile) for the device's\n"
    "  geometry. Exit codes as pal run; 5 also when no node runs on the device.\n";

static const char bench_help[] =
    "usage: pal bench MODEL.onnx [--device URI] [--providers LIST] [--iters N]\n"
    "                 [--cpu-format fp32|pal8-b32] [--input X.npy ...]\n"
    "  Times the model on seeded random inputs (unknown dims are 1) or the given\n"
    "  ones: mean and best time per run, and the profile of the last run.\n"
    "  Exit codes as pal run.\n";

static int parse(const char *cmd, const char *help, int argc, char **argv, run_args_t *a) {
  memset(a, 0, sizeof *a);
  pal_session_options_initialize(&a->opt);
  a->iters = 10;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    bool has = i + 1 < argc;
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
      fputs(help, stdout);
      return -1;
    } else if (!strcmp(s, "--input") && has) {
      if (a->n_inputs == 16) goto too_many;
      a->inputs[a->n_inputs++] = argv[++i];
    } else if (!strcmp(s, "--output") && has) {
      if (a->n_outputs == 16) goto too_many;
      a->outputs[a->n_outputs++] = argv[++i];
    } else if (!strcmp(s, "-o") && has) {
      a->out_palk = argv[++i];
    } else if (!strcmp(s, "--device") && has) {
      a->opt.device_uri = argv[++i];
    } else if (!strcmp(s, "--providers") && has) {
      a->opt.providers = argv[++i];
    } else if (!strcmp(s, "--cpu-format") && has) {
      a->opt.cpu_format = argv[++i];
      if (strcmp(a->opt.cpu_format, PAL_CPU_FORMAT_FP32) &&
          strcmp(a->opt.cpu_format, PAL_CPU_FORMAT_PAL8_B32)) {
        fprintf(stderr, "pal %s: --cpu-format must be fp32 or pal8-b32, not '%s'\n", cmd,
                a->opt.cpu_format);
        return PAL_EXIT_USAGE;
      }
    } else if (!strcmp(s, "--iters") && has) {
      a->iters = atoi(argv[++i]);
      if (a->iters < 1 || a->iters > 1000000) {
        fprintf(stderr, "pal %s: --iters must be 1..1000000\n", cmd);
        return PAL_EXIT_USAGE;
      }
    } else if (!strcmp(s, "--no-fallback")) {
      a->opt.no_fallback = true;
    } else if (!strcmp(s, "--profile")) {
      a->opt.profile = true;
    } else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
      a->quiet = true;
    } else if (s[0] != '-' && !a->model) {
      a->model = s;
    } else {
      fprintf(stderr, "pal %s: unexpected argument '%s'\n%s", cmd, s, help);
      return PAL_EXIT_USAGE;
    }
  }
  if (!a->model) {
    fprintf(stderr, "pal %s: no model given\n%s", cmd, help);
    return PAL_EXIT_USAGE;
  }
  return 0;
too_many:
  fprintf(stderr, "pal %s: at most 16 inputs and 16 outputs\n", cmd);
  return PAL_EXIT_USAGE;
}

static void on_progress(void *ctx, size_t done, size_t total) {
  pal_progress_update(ctx, done, total);
}

/* Loads the model and creates the session; prints the placement. */
static int open_session(const char *cmd, run_args_t *a, pal_graph_t **out_g,
                        pal_session_t **out_s) {
  *out_g = NULL;
  *out_s = NULL;
  pal_graph_t *g;
  pal_status_t st = pal_onnx_load(a->model, &g);
  if (st) return pal_cli_fail(cmd, st);
  pal_session_t *s;
  st = pal_session_create(g, &a->opt, &s);
  if (st) {
    pal_graph_release(g);
    /* A refused fallback is its own exit code; an unknown provider name a
     * usage error. */
    int rc = pal_cli_exit_code(st);
    fprintf(stderr, "pal %s: %s: %s\n", cmd, a->model, pal_status_message(st));
    pal_status_free(st);
    return rc;
  }
  if (!a->quiet) pal_session_print_placement(s, stderr);
  *out_g = g;
  *out_s = s;
  return 0;
}

static void print_summary(const char *name, const pal_tensor_t *t) {
  char shape[160];
  pal_tensor_shape_string(t, shape, sizeof shape);
  printf("%s: %s", name, shape);
  size_t n = pal_tensor_count(t);
  for (size_t i = 0; i < n && i < 8; i++) {
    switch (pal_tensor_dtype(t)) {
      case PAL_DTYPE_FP32: printf(" %.6g", ((const float *)pal_tensor_cdata(t))[i]); break;
      case PAL_DTYPE_INT64: printf(" %lld", (long long)((const int64_t *)pal_tensor_cdata(t))[i]); break;
      case PAL_DTYPE_INT32: printf(" %d", ((const int32_t *)pal_tensor_cdata(t))[i]); break;
      case PAL_DTYPE_BOOL: printf(" %d", ((const uint8_t *)pal_tensor_cdata(t))[i]); break;
      default: break;
    }
  }
  printf("%s\n", n > 8 ? " ..." : "");
}

int pal_cmd_run(int argc, char **argv) {
  run_args_t a;
  int rc = parse("run", run_help, argc, argv, &a);
  if (rc) return rc < 0 ? PAL_EXIT_OK : rc;
  pal_graph_t *g;
  pal_session_t *s;
  pal_progress_t pr;
  pal_progress_begin(&pr, "run (nodes)");
  a.opt.progress = on_progress;
  a.opt.progress_ctx = &pr;
  if ((rc = open_session("run", &a, &g, &s))) return rc;
  size_t nin = pal_graph_input_count(g), nout = pal_graph_output_count(g);
  pal_tensor_t *in[16] = {0}, *out[16] = {0};
  pal_status_t st = PAL_STATUS_OK;
  if (a.n_inputs != nin) {
    fprintf(stderr, "pal run: %s has %zu inputs (", a.model, nin);
    for (size_t i = 0; i < nin; i++) fprintf(stderr, "%s'%s'", i ? ", " : "", pal_graph_input_name(g, i));
    fprintf(stderr, "), %zu --input given\n", a.n_inputs);
    rc = PAL_EXIT_USAGE;
    goto done;
  }
  if (a.n_outputs > nout) {
    fprintf(stderr, "pal run: %s has %zu outputs, %zu --output given\n", a.model, nout, a.n_outputs);
    rc = PAL_EXIT_USAGE;
    goto done;
  }
  for (size_t i = 0; i < nin && !st; i++) st = pal_npy_read(a.inputs[i], &in[i]);
  if (!st) {
    /* The bar counts nodes (a device subgraph's at once) and shows once the
     * run has taken more than a second (on a terminal). */
    pal_progress_begin(&pr, "run (nodes)");
    st = pal_session_run(s, nin, (const pal_tensor_t *const *)in, nout, out);
    pal_progress_end(&pr);
    if (st) st = pal_status_annotate(st, "%s", a.model);
  }
  for (size_t o = 0; o < a.n_outputs && !st; o++) st = pal_npy_write(a.outputs[o], out[o]);
  if (st) {
    rc = pal_cli_fail("run", st);
    goto done;
  }
  if (!a.n_outputs)
    for (size_t o = 0; o < nout; o++) print_summary(pal_graph_output_name(g, o), out[o]);
  if (a.opt.profile) {
    pal_session_print_profile(s, stderr);
    pal_session_print_placement(s, stderr); /* now with the tile counters of the run */
  }
  rc = PAL_EXIT_OK;
done:
  for (size_t i = 0; i < 16; i++) {
    pal_tensor_release(in[i]);
    pal_tensor_release(out[i]);
  }
  pal_session_release(s);
  pal_graph_release(g);
  return rc;
}

int pal_cmd_compile(int argc, char **argv) {
  run_args_t a;
  int rc = parse("compile", compile_help, argc, argv, &a);
  if (rc) return rc < 0 ? PAL_EXIT_OK : rc;
  if (!a.out_palk) {
    fprintf(stderr, "pal compile: -o MODEL.palk is required\n%s", compile_help);
    return PAL_EXIT_USAGE;
  }
  if (!a.opt.providers) a.opt.providers = "pal,cpu";
  pal_graph_t *g;
  pal_session_t *s;
  if ((rc = open_session("compile", &a, &g, &s))) return rc;
  pal_status_t st = pal_session_save_kernels(s, a.out_palk);
  rc = st ? pal_cli_fail("compile", st) : PAL_EXIT_OK;
  if (!rc) fprintf(stderr, "pal compile: wrote %s\n", a.out_palk);
  pal_session_release(s);
  pal_graph_release(g);
  return rc;
}

/* Seeded inputs of the declared shapes (unknown dims 1). */
static pal_status_t random_input(const pal_graph_t *g, size_t i, uint64_t *seed, pal_tensor_t **out) {
  pal_dtype_t dt;
  pal_shape_t sh;
  if (!pal_graph_value_info(g, pal_graph_input_name(g, i), &dt, &sh) || sh.rank < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "input '%s' has no declared shape; pass --input",
                           pal_graph_input_name(g, i));
  for (int d = 0; d < sh.rank; d++)
    if (sh.dims[d] < 0) sh.dims[d] = 1;
  PAL_RETURN_IF_ERROR(pal_tensor_create(dt, (size_t)sh.rank, sh.dims, out));
  size_t n = pal_tensor_count(*out);
  for (size_t k = 0; k < n; k++) {
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(*seed >> 11) * 0x1.0p-53;
    if (dt == PAL_DTYPE_FP32) ((float *)pal_tensor_data(*out))[k] = (float)(2 * u - 1);
    else if (dt == PAL_DTYPE_INT64) ((int64_t *)pal_tensor_data(*out))[k] = 0;
    else if (dt == PAL_DTYPE_BOOL) ((uint8_t *)pal_tensor_data(*out))[k] = u < 0.5;
  }
  return PAL_STATUS_OK;
}

int pal_cmd_bench(int argc, char **argv) {
  run_args_t a;
  int rc = parse("bench", bench_help, argc, argv, &a);
  if (rc) return rc < 0 ? PAL_EXIT_OK : rc;
  a.opt.profile = true;
  pal_graph_t *g;
  pal_session_t *s;
  if ((rc = open_session("bench", &a, &g, &s))) return rc;
  size_t nin = pal_graph_input_count(g), nout = pal_graph_output_count(g);
  pal_tensor_t *in[16] = {0}, *out[16] = {0};
  pal_status_t st = PAL_STATUS_OK;
  uint64_t seed = 0x5EED;
  if (nin > 16) st = pal_status_make(PAL_UNIMPLEMENTED, "more than 16 inputs");
  for (size_t i = 0; i < nin && !st; i++)
    st = i < a.n_inputs ? pal_npy_read(a.inputs[i], &in[i]) : random_input(g, i, &seed, &in[i]);
  double best = 1e30, total = 0;
  pal_progress_t pr;
  pal_progress_begin(&pr, "bench");
  for (int it = 0; it < a.iters && !st; it++) {
    double t0 = pal_cli_now();
    st = pal_session_run(s, nin, (const pal_tensor_t *const *)in, nout > 16 ? 16 : nout, out);
    double dt = pal_cli_now() - t0;
    total += dt;
    if (dt < best) best = dt;
    for (size_t o = 0; o < 16; o++) {
      pal_tensor_release(out[o]);
      out[o] = NULL;
    }
    pal_progress_update(&pr, (size_t)it + 1, (size_t)a.iters);
  }
  pal_progress_end(&pr);
  if (st) {
    rc = pal_cli_fail("bench", pal_status_annotate(st, "%s", a.model));
  } else {
    printf("%s: %d runs, mean %.3f ms, best %.3f ms\n", a.model, a.iters, 1e3 * total / a.iters,
           1e3 * best);
    pal_session_print_profile(s, stdout);
    rc = PAL_EXIT_OK;
  }
  for (size_t i = 0; i < 16; i++) pal_tensor_release(in[i]);
  pal_session_release(s);
  pal_graph_release(g);
  return rc;
}
