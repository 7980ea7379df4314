/* pal-eval-mnist: accuracy of the trained MLP on the Fashion-MNIST test set
 * in FP32 (OpenBLAS) and in PAL8-B32 (the golden model's fast path, as the
 * tile computes it), per-layer error of PAL8 against FP32, and a sample run
 * through the tile compiler on a device that must agree bit for bit with
 * the golden-model path. Exit codes: 0 done, 1 failed (including a tile
 * result that differs from the golden model), 2 usage. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/pal.h"
#include "pal_train.h"
#ifdef PAL_TRAIN_HAVE_COMPILER
#include "pal/compile.h"
#include "pal/driver.h"
#endif
#ifdef PAL_TRAIN_WITH_SIM
#include "pal/soc.h"
#endif

static void usage(FILE *f) {
  fprintf(f,
          "usage: pal-eval-mnist [options]\n"
          "Evaluates the MLP written by pal-train-mnist on its test set (x_test.npy, y_test.npy)\n"
          "in FP32 and in PAL8-B32, and runs a sample through the tile compiler on a device.\n"
          "  --model DIR        folder with W1.npy.., b1.npy.., x_test.npy, y_test.npy; default build/demo\n"
          "  --limit N          evaluate only the first N test images\n"
          "  --device URI       device for the tile-compiler run; default emu://\n"
          "  --tile-images N    images run on the device (0: skip); default 256\n"
          "  --threads N        pal_gemm threads (0: one per CPU); default 0\n"
          "  --no-onnx          skip running fashion_mlp.onnx through the runtime (cpu provider on\n"
          "                     every image, pal provider on the device for the tile sample)\n"
          "  --summary PATH     append key=value lines with the results (make demo's table)\n"
          "  --help             this text\n"
          "Exit codes: 0 done, 1 failed (also: device output not bit-exact with the golden model),\n"
          "2 usage error.\n");
}

/* x (n x 784 FP32) and labels (n, int64) from the model folder. */
static pal_status_t load_test_set(const char *dir, size_t d, pal_tensor_t **out_x, pal_tensor_t **out_y) {
  char path[PATH_MAX];
  *out_x = *out_y = NULL;
  snprintf(path, sizeof path, "%s/x_test.npy", dir);
  PAL_RETURN_IF_ERROR(pal_npy_read(path, out_x));
  const int64_t *xd = pal_tensor_dims(*out_x);
  if (pal_tensor_dtype(*out_x) != PAL_DTYPE_FP32 || pal_tensor_rank(*out_x) != 2 || xd[1] != (int64_t)d ||
      xd[0] < 1)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: expected float32 [N, %zu]", path, d);
  snprintf(path, sizeof path, "%s/y_test.npy", dir);
  PAL_RETURN_IF_ERROR(pal_npy_read(path, out_y));
  if (pal_tensor_dtype(*out_y) != PAL_DTYPE_INT64 || pal_tensor_rank(*out_y) != 1 ||
      pal_tensor_dims(*out_y)[0] != xd[0])
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: expected int64 [%lld]", path, (long long)xd[0]);
  return PAL_STATUS_OK;
}

/* --summary's file (NULL: none), for check_onnx's lines too. */
static FILE *g_summary;

/* The graph through a runtime session on the first n rows of x, as one
 * batch; *out_y (n x classes, malloc'd) receives the logits. */
static pal_status_t run_session(const pal_graph_t *g, const char *providers, const char *device_uri,
                                const float *x, size_t n, size_t d, size_t classes, bool print_placement,
                                float **out_y, size_t *out_cpu_nodes) {
  const int64_t item[1] = {(int64_t)d};
  *out_y = malloc((n ? n : 1) * classes * sizeof(float));
  if (!*out_y) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  return pal_train_run_session(g, providers, device_uri, x, n, 1, item, classes, n ? n : 1, print_placement,
                               *out_y, out_cpu_nodes);
}

/* The exported ONNX model through the runtime: on the cpu provider it must
 * give the FP32 logits (within 1e-4 relative), on the pal provider (the
 * device) the golden-model PAL8 logits bit for bit. */
static pal_status_t check_onnx(const char *dir, const char *device_uri, const float *x, size_t n, size_t m,
                               size_t d, size_t classes, const float *fp32_logits, const float *pal8_logits) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/fashion_mlp.onnx", dir);
  pal_graph_t *g = NULL;
  float *y = NULL;
  pal_status_t st = pal_onnx_load(path, &g);
  printf("\n  ONNX model %s through the runtime (pal run):\n", path);
  double t0 = pal_train_now_s();
  if (!st) st = run_session(g, "cpu", NULL, x, n, d, classes, false, &y, NULL);
  if (!st) {
    double worst = 0.0;
    size_t agree = 0;
    for (size_t i = 0; i < n * classes; i++) {
      double e = fabs((double)y[i] - fp32_logits[i]) / (1.0 + fabs((double)fp32_logits[i]));
      if (!(e <= worst)) worst = e;
    }
    for (size_t i = 0; i < n; i++)
      agree += pal_argmax(y + i * classes, classes) == pal_argmax(fp32_logits + i * classes, classes);
    printf("  %-34s %8zu images, argmax = FP32 path for %zu, max rel. difference %.2g (%.2f s)\n",
           "cpu provider (FP32)", n, agree, worst, pal_train_now_s() - t0);
    if (!(worst <= 1e-4))
      st = pal_status_make(PAL_INTERNAL, "%s on the cpu provider differs from the FP32 path by %.3g (> 1e-4)",
                           path, worst);
  }
  free(y);
  y = NULL;
  if (!st && m > 0) {
    t0 = pal_train_now_s();
    size_t on_cpu = 0;
    st = run_session(g, "pal,cpu", device_uri, x, m, d, classes, true, &y, &on_cpu);
    if (!st) {
      size_t diff = 0, agree = 0;
      for (size_t i = 0; i < m * classes; i++)
        diff += pal_f32_bits(y[i]) != pal_f32_bits(pal8_logits[i]) && !(isnan(y[i]) && isnan(pal8_logits[i]));
      for (size_t i = 0; i < m; i++)
        agree += pal_argmax(y + i * classes, classes) == pal_argmax(pal8_logits + i * classes, classes);
      if (g_summary)
        fprintf(g_summary, "mlp.placement.pal_nodes=%zu\nmlp.placement.nodes=%zu\nmlp.pal_provider_%.*s.images=%zu\n"
                           "mlp.pal_provider_%.*s.bit_diffs=%zu\n",
                pal_graph_node_count(g) - on_cpu, pal_graph_node_count(g), (int)strcspn(device_uri, ":"), device_uri,
                m, (int)strcspn(device_uri, ":"), device_uri, diff);
      printf("  %-34s %8zu images on %s: argmax = PAL8 path for %zu; %zu of %zu logits differ bitwise (%.2f s)\n",
             "pal provider (PAL8-B32)", m, device_uri, agree, diff, m * classes, pal_train_now_s() - t0);
      /* Bit-exactness is owed only when the whole chain ran on the device;
       * with nodes on the cpu provider part of it is FP32. */
      if (on_cpu == 0 && diff)
        st = pal_status_make(PAL_INTERNAL, "%s on the pal provider (%s): %zu logits differ from the golden model",
                             path, device_uri, diff);
      else if (on_cpu)
        printf("  (%zu of %zu nodes fell back to the cpu provider, so the result mixes PAL8 and FP32: "
               "not compared bit for bit)\n", on_cpu, pal_graph_node_count(g));
      else
        printf("  bit-exact with the golden-model path: yes\n");
    }
  }
  free(y);
  pal_graph_release(g);
  return st;
}

/* Per-layer sums for the relative error ||pal8 - fp32|| / ||fp32||. */
typedef struct layer_err {
  double diff2, ref2;
} layer_err_t;

int main(int argc, char **argv) {
  const char *dir = "build/demo", *device_uri = "emu://", *summary = NULL;
  size_t limit = 0, tile_images = 256, threads = 0;
  bool onnx = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "--no-onnx")) {
      onnx = false;
      continue;
    }
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "pal-eval-mnist: %s needs a value (or is unknown); see --help\n", a);
      return 2;
    }
    i++;
    bool ok = true;
    if (!strcmp(a, "--model")) dir = v;
    else if (!strcmp(a, "--device")) device_uri = v;
    else if (!strcmp(a, "--summary")) summary = v;
    else if (!strcmp(a, "--limit")) ok = pal_train_parse_size(v, &limit) && limit >= 1;
    else if (!strcmp(a, "--tile-images")) ok = pal_train_parse_size(v, &tile_images) && tile_images <= 100000;
    else if (!strcmp(a, "--threads")) ok = pal_train_parse_size(v, &threads) && threads <= 1024;
    else {
      fprintf(stderr, "pal-eval-mnist: unknown option %s; see --help\n", a);
      return 2;
    }
    if (!ok) {
      fprintf(stderr, "pal-eval-mnist: bad value '%s' for %s; see --help\n", v, a);
      return 2;
    }
  }

  pal_mlp_t *mlp = NULL;
  pal_mlp_pal8_t *q = NULL;
  pal_tensor_t *xt = NULL, *yt = NULL;
  float *fa[PAL_MLP_MAX_LAYERS] = {0}, *qa[PAL_MLP_MAX_LAYERS] = {0};
  int rc = 1;
  FILE *sum = NULL;
#ifdef PAL_TRAIN_WITH_SIM
  pal_status_t st = pal_soc_register_scheme(); /* sim:// in this process */
  if (!st) st = pal_mlp_load_npy(dir, &mlp);
#else
  pal_status_t st = pal_mlp_load_npy(dir, &mlp);
#endif
  if (!st && summary && !(sum = fopen(summary, "a")))
    st = pal_status_make(PAL_IO_ERROR, "%s: cannot open: %s", summary, strerror(errno));
  if (!st) st = load_test_set(dir, mlp->sizes[0], &xt, &yt);
  if (!st) st = pal_mlp_pal8_create(mlp, &q);
  if (st) goto done;

  size_t L = mlp->n_layers, classes = mlp->sizes[L], d = mlp->sizes[0];
  size_t n = (size_t)pal_tensor_dims(xt)[0];
  if (limit && limit < n) n = limit;
  const float *x = pal_tensor_cdata(xt);
  const int64_t *y = pal_tensor_cdata(yt);
  for (size_t l = 0; l < L; l++) {
    fa[l] = malloc(n * mlp->sizes[l + 1] * sizeof(float));
    qa[l] = malloc(n * mlp->sizes[l + 1] * sizeof(float));
    if (!fa[l] || !qa[l]) {
      st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for %zu images", n);
      goto done;
    }
  }
  printf("pal-eval-mnist: model %s (", dir);
  for (size_t l = 0; l <= L; l++) printf("%zu%s", mlp->sizes[l], l < L ? "-" : "");
  printf("), %zu test images\n", n);

  double t0 = pal_train_now_s();
  st = pal_mlp_forward(mlp, x, n, fa);
  double t_fp32 = pal_train_now_s() - t0;
  size_t nar = 0;
  t0 = pal_train_now_s();
  if (!st) st = pal_mlp_pal8_forward(q, x, n, (int)threads, qa, &nar);
  double t_pal8 = pal_train_now_s() - t0;
  if (st) goto done;

  size_t ok_f = 0, ok_q = 0, agree = 0;
  for (size_t i = 0; i < n; i++) {
    size_t pf = pal_argmax(fa[L - 1] + i * classes, classes);
    size_t pq = pal_argmax(qa[L - 1] + i * classes, classes);
    ok_f += (int64_t)pf == y[i];
    ok_q += (int64_t)pq == y[i];
    agree += pf == pq;
  }
  layer_err_t err[PAL_MLP_MAX_LAYERS] = {{0}};
  for (size_t l = 0; l < L; l++)
    for (size_t i = 0; i < n * mlp->sizes[l + 1]; i++) {
      double r = fa[l][i], e = (double)qa[l][i] - r;
      err[l].diff2 += e * e;
      err[l].ref2 += r * r;
    }

  printf("\n  %-34s %8s %10s %9s\n", "path", "images", "accuracy", "time");
  printf("  %-34s %8zu %9.2f %% %7.2f s\n", "FP32 (OpenBLAS)", n, 100.0 * ok_f / n, t_fp32);
  printf("  %-34s %8zu %9.2f %% %7.2f s\n", "PAL8-B32 (golden model, pal_gemm)", n, 100.0 * ok_q / n, t_pal8);
  printf("  argmax agreement FP32 vs PAL8-B32: %.2f %% (%zu of %zu); accuracy difference %+.2f points\n",
         100.0 * agree / n, agree, n, 100.0 * ((double)ok_q - (double)ok_f) / n);
  if (nar) printf("  NaR outputs in the PAL8 path: %zu\n", nar);
  if (sum)
    fprintf(sum, "mlp.fp32.images=%zu\nmlp.fp32.accuracy=%.2f\nmlp.pal8_golden.images=%zu\nmlp.pal8_golden.accuracy=%.2f\n",
            n, 100.0 * ok_f / n, n, 100.0 * ok_q / n);
  printf("\n  %-18s %6s %28s\n", "layer", "width", "rel. L2 error PAL8 vs FP32");
  for (size_t l = 0; l < L; l++) {
    char name[32];
    snprintf(name, sizeof name, "fc%zu%s", l + 1, l + 1 < L ? " + ReLU" : " (logits)");
    printf("  %-18s %6zu %28.4f\n", name, mlp->sizes[l + 1],
           err[l].ref2 > 0 ? sqrt(err[l].diff2 / err[l].ref2) : 0.0);
  }

#ifdef PAL_TRAIN_HAVE_COMPILER
  if (tile_images > 0) {
    size_t m = tile_images < n ? tile_images : n;
    pal_device_t *dev = NULL;
    pal_plan_t *plan = NULL;
    float *ty = malloc(m * classes * sizeof(float));
    pal_dense_layer_t layers[PAL_MLP_MAX_LAYERS];
    for (size_t l = 0; l < L; l++) {
      pal_dense_layer_initialize(&layers[l]);
      layers[l].in_features = (uint32_t)mlp->sizes[l];
      layers[l].out_features = (uint32_t)mlp->sizes[l + 1];
      layers[l].weights = mlp->w[l];
      layers[l].bias = mlp->b[l];
      layers[l].bias_mode = PAL_BIAS_START;
      layers[l].act = l + 1 < L ? PAL_ACT_RELU : PAL_ACT_NONE;
    }
    pal_plan_stats_t stats;
    memset(&stats, 0, sizeof stats);
    if (!ty) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
    if (!st) st = pal_device_open(device_uri, NULL, &dev);
    if (!st) st = pal_plan_dense_chain(&pal_device_tile(dev)->config, layers, L, (uint32_t)m, NULL, &plan);
    t0 = pal_train_now_s();
    if (!st) st = pal_plan_run(plan, dev, x, (uint32_t)m, ty, &stats);
    double t_tile = pal_train_now_s() - t0;
    if (!st) {
      size_t diff = 0, ok_t = 0, first = SIZE_MAX;
      for (size_t i = 0; i < m; i++) {
        for (size_t c = 0; c < classes; c++) {
          float a = ty[i * classes + c], b = qa[L - 1][i * classes + c];
          /* NaR reads back as a quiet NaN: equal when both are NaN. */
          bool same = pal_f32_bits(a) == pal_f32_bits(b) || (isnan(a) && isnan(b));
          if (!same) {
            diff++;
            if (first == SIZE_MAX) first = i * classes + c;
          }
        }
        ok_t += (int64_t)pal_argmax(ty + i * classes, classes) == y[i];
      }
      const pal_tile_config_t *g = &pal_device_tile(dev)->config;
      const uint64_t *cv = stats.counters.value;
      uint64_t cyc = cv[PAL_TILE_CTR_CYC_TOTAL];
      printf("\n  tile compiler on %s (%u x %u): %zu images, %llu kernel runs, %llu spills, %.1f s\n", device_uri,
             g->rows, g->cols, m, (unsigned long long)stats.kernel_runs, (unsigned long long)stats.spills, t_tile);
      printf("  %-34s %8zu %9.2f %%\n", "PAL8-B32 on the tile", m, 100.0 * ok_t / m);
      /* Counter meanings: docs/isa.md (MACS_ISSUED adds P per step,
       * MACS_GATED counts PE-steps with a zero weight code, ACT_SKIPPED
       * zero activation codes walked over without a cycle). */
      printf("  tile counters: cycles/image %.0f, utilisation (CYC_BUSY/CYC_TOTAL) %.1f %%, MACS_ISSUED/image %.0f,\n"
             "    MACS_GATED/image %.0f, ACT_SKIPPED/image %.0f, BLOCKS_SKIPPED/image %.1f\n",
             (double)cyc / m, cyc ? 100.0 * cv[PAL_TILE_CTR_CYC_BUSY] / cyc : 0.0,
             (double)cv[PAL_TILE_CTR_MACS_ISSUED] / m, (double)cv[PAL_TILE_CTR_MACS_GATED] / m,
             (double)cv[PAL_TILE_CTR_ACT_SKIPPED] / m, (double)cv[PAL_TILE_CTR_BLOCKS_SKIPPED] / m);
      if (sum) {
        char key[96];
        snprintf(key, sizeof key, "mlp.tile_%.*s_%ux%u", (int)strcspn(device_uri, ":"), device_uri, g->rows, g->cols);
        fprintf(sum, "%s.images=%zu\n%s.accuracy=%.2f\n%s.bit_diffs=%zu\n%s.cycles_per_image=%.0f\n"
                     "%s.utilisation=%.1f\n%s.act_skipped_per_image=%.0f\n%s.macs_gated_per_image=%.0f\n",
                key, m, key, 100.0 * ok_t / m, key, diff, key, (double)cyc / m, key,
                cyc ? 100.0 * cv[PAL_TILE_CTR_CYC_BUSY] / cyc : 0.0, key, (double)cv[PAL_TILE_CTR_ACT_SKIPPED] / m,
                key, (double)cv[PAL_TILE_CTR_MACS_GATED] / m);
      }
      if (diff) {
        size_t i = first / classes, c = first % classes;
        st = pal_status_make(PAL_INTERNAL,
                             "tile output differs from the golden-model path in %zu of %zu logits "
                             "(first: image %zu class %zu: tile %a, golden %a)",
                             diff, m * classes, i, c, (double)ty[first], (double)qa[L - 1][first]);
      } else {
        printf("  bit-exact with the golden-model path: yes (%zu logits compared)\n", m * classes);
      }
    } else {
      st = pal_status_annotate(st, "tile run on %s", device_uri);
    }
    pal_plan_destroy(plan);
    pal_device_close(dev);
    free(ty);
  }
#else
  if (tile_images > 0) printf("\n  tile compiler: not in this build (host/compiler/ missing); skipped\n");
#endif
  g_summary = sum;
  if (!st && onnx) st = check_onnx(dir, device_uri, x, n, tile_images < n ? tile_images : n, d, classes,
                                   fa[L - 1], qa[L - 1]);
  if (!st) rc = 0;

done:
  if (sum) fclose(sum);
  if (st) {
    fprintf(stderr, "pal-eval-mnist: %s\n", pal_status_message(st));
    pal_status_free(st);
  }
  for (size_t l = 0; l < PAL_MLP_MAX_LAYERS; l++) {
    free(fa[l]);
    free(qa[l]);
  }
  pal_tensor_release(xt);
  pal_tensor_release(yt);
  pal_mlp_pal8_destroy(q);
  pal_mlp_destroy(mlp);
  (void)d;
  return rc;
}
