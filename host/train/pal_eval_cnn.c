/* pal-eval-cnn: the demo's CNN (fashion_cnn.onnx, written by pal-train-cnn)
 * on the Fashion-MNIST test set, through the runtime: FP32 on the cpu
 * provider (checked against the trainer's own forward pass), PAL8-B32 on
 * the pal provider of a device (Conv and Gemm on the tile, MaxPool and
 * Flatten on cpu); then a sample layer by layer through the tile compiler
 * on one or more devices for the tile's counters (cycles, utilisation, zero
 * skipping), which must agree bit for bit with the pal provider. Built
 * twice: pal-eval-cnn, and pal-eval-cnn-sim with sim:// (the Verilated SoC)
 * registered in the process. Exit codes: 0 done, 1 failed, 2 usage. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/compile.h"
#include "pal/driver.h"
#include "pal/pal.h"
#include "pal_train.h"
#ifdef PAL_TRAIN_WITH_SIM
#include "pal/soc.h"
#endif

#define MAX_DEVICES 4

static void usage(FILE *f) {
  fprintf(f,
          "usage: pal-eval-cnn [options]\n"
          "Evaluates fashion_cnn.onnx (pal-train-cnn) on the Fashion-MNIST test set.\n"
          "  --model DIR        folder with fashion_cnn.onnx; default build/demo\n"
          "  --data DIR         IDX files (t10k-*); default %s\n"
          "  --limit N          evaluate only the first N test images\n"
          "  --device URI       device of the pal provider; default emu://\n"
          "  --pal8-images N    images run on the pal provider (0: skip); default all\n"
          "  --tile URI         a device for the layer-by-layer counters run (repeatable, up to %d);\n"
          "                     default emu:// and emu://?rows=8&cols=8\n"
          "  --tile-images N    images of that run; default 64\n"
          "  --summary PATH     append key=value lines with the results (for make demo's table)\n"
          "  --write-sample DIR write the first --tile-images test images as DIR/sample_x_nchw.npy\n"
          "                     [N,1,28,28] and DIR/sample_x_flat.npy [N,784] (for `pal run`)\n"
          "  --help             this text\n"
          "Exit codes: 0 done, 1 failed (also: tile results that differ from the pal provider's),\n"
          "2 usage error.\n",
          PAL_MNIST_DEFAULT_DIR, MAX_DEVICES);
}

/* The trainer's model back from the graph's initializers (the shapes give
 * the configuration), for the FP32 cross-check and the compiler's plans. */
static pal_status_t cnn_from_graph(const pal_graph_t *g, const char *path, pal_cnn_t **out) {
  static const char *const names[8] = {"conv1.W", "conv1.b", "conv2.W", "conv2.b",
                                       "fc1.W",   "fc1.b",   "fc2.W",   "fc2.b"};
  const pal_tensor_t *t[8];
  for (int i = 0; i < 8; i++) {
    t[i] = pal_graph_initializer(g, names[i]);
    if (!t[i] || pal_tensor_dtype(t[i]) != PAL_DTYPE_FP32)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: no FP32 initializer '%s' (not a pal-train-cnn model)", path,
                             names[i]);
  }
  pal_cnn_config_t cfg;
  pal_cnn_config_initialize(&cfg);
  if (pal_tensor_rank(t[0]) != 4 || pal_tensor_rank(t[2]) != 4 || pal_tensor_rank(t[4]) != 2 ||
      pal_tensor_rank(t[6]) != 2)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: unexpected weight ranks", path);
  cfg.c1 = (size_t)pal_tensor_dims(t[0])[0];
  cfg.c2 = (size_t)pal_tensor_dims(t[2])[0];
  cfg.hidden = (size_t)pal_tensor_dims(t[4])[0];
  cfg.classes = (size_t)pal_tensor_dims(t[6])[0];
  if (cfg.c1 == 0 || cfg.c2 == 0 || cfg.hidden == 0 || cfg.classes == 0 || pal_tensor_dims(t[4])[1] <= 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: a weight has a zero dimension", path);
  size_t flat = (size_t)pal_tensor_dims(t[4])[1], q = 0;
  while (cfg.c2 * (q + 1) * (q + 1) <= flat) q++;
  cfg.hw = 4 * q;
  pal_cnn_t *m;
  PAL_RETURN_IF_ERROR(pal_cnn_create(&cfg, &m));
  float *dst[8] = {m->w1, m->b1, m->w2, m->b2, m->w3, m->b3, m->w4, m->b4};
  size_t want[8] = {cfg.c1 * 9, cfg.c1, cfg.c2 * cfg.c1 * 9, cfg.c2, cfg.hidden * m->flat, cfg.hidden,
                    cfg.classes * cfg.hidden, cfg.classes};
  for (int i = 0; i < 8; i++) {
    if (pal_tensor_count(t[i]) != want[i]) {
      pal_cnn_destroy(m);
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: '%s' has %zu values, expected %zu", path, names[i],
                             pal_tensor_count(t[i]), want[i]);
    }
    memcpy(dst[i], pal_tensor_cdata(t[i]), want[i] * sizeof(float));
  }
  *out = m;
  return PAL_STATUS_OK;
}

/* Runs the graph on n images of hw x hw in chunks of 500; logits n x classes. */
static pal_status_t run_session(const pal_graph_t *g, const char *providers, const char *device_uri,
                                const float *x, size_t n, size_t hw, size_t classes, bool print_placement,
                                float *logits, size_t *out_cpu_nodes) {
  const int64_t item[3] = {1, (int64_t)hw, (int64_t)hw};
  return pal_train_run_session(g, providers, device_uri, x, n, 3, item, classes, 500, print_placement, logits,
                               out_cpu_nodes);
}

/* 2x2 max pool, stride 2, NCHW (as the cpu provider's MaxPool). */
static void maxpool2_nchw(const float *x, size_t planes, size_t h, size_t w, float *y) {
  for (size_t p = 0; p < planes; p++)
    for (size_t oy = 0; oy < h / 2; oy++)
      for (size_t ox = 0; ox < w / 2; ox++) {
        const float *r0 = x + (p * h + 2 * oy) * w + 2 * ox, *r1 = r0 + w;
        float v = r0[0];
        if (r0[1] > v) v = r0[1];
        if (r1[0] > v) v = r1[0];
        if (r1[1] > v) v = r1[1];
        y[(p * (h / 2) + oy) * (w / 2) + ox] = v;
      }
}

static void add_stats(pal_plan_stats_t *acc, const pal_plan_stats_t *s) {
  acc->kernel_runs += s->kernel_runs;
  acc->spills += s->spills;
  for (int i = 0; i < PAL_TILE_CTR_COUNT; i++) acc->counters.value[i] += s->counters.value[i];
}

#define N_TILE_LAYERS 3 /* conv1, conv2, fc1+fc2 */
static const char *const tile_layer_names[N_TILE_LAYERS] = {"conv1+ReLU", "conv2+ReLU", "fc1+ReLU, fc2"};

/* The CNN layer by layer through the tile compiler on `dev`: each Conv a
 * conv plan (im2col on the host, the ReLU fused), MaxPool on the host, the
 * two Gemms one dense chain; the per-layer stats are summed over chunks. */
static pal_status_t tile_forward(const pal_cnn_t *m, pal_device_t *dev, const float *x, size_t n, float *logits,
                                 pal_plan_stats_t *layer_stats) {
  const pal_cnn_config_t *c = &m->cfg;
  const pal_tile_config_t *geom = &pal_device_tile(dev)->config;
  size_t H = c->hw, H2 = H / 2, H4 = H / 4;
  const uint32_t chunk = 16;
  pal_conv2d_t cv[2];
  for (int i = 0; i < 2; i++) {
    pal_conv2d_initialize(&cv[i]);
    cv[i].in_channels = (uint32_t)(i ? c->c1 : 1);
    cv[i].in_h = cv[i].in_w = (uint32_t)(i ? H2 : H);
    cv[i].out_channels = (uint32_t)(i ? c->c2 : c->c1);
    cv[i].kernel_h = cv[i].kernel_w = 3;
    cv[i].pad_top = cv[i].pad_left = cv[i].pad_bottom = cv[i].pad_right = 1;
    cv[i].weights = i ? m->w2 : m->w1;
    cv[i].bias = i ? m->b2 : m->b1;
    cv[i].act = PAL_ACT_RELU;
  }
  pal_dense_layer_t fc[2];
  for (int i = 0; i < 2; i++) {
    pal_dense_layer_initialize(&fc[i]);
    fc[i].in_features = (uint32_t)(i ? c->hidden : m->flat);
    fc[i].out_features = (uint32_t)(i ? c->classes : c->hidden);
    fc[i].weights = i ? m->w4 : m->w3;
    fc[i].bias = i ? m->b4 : m->b3;
    fc[i].bias_mode = PAL_BIAS_START;
    fc[i].act = i ? PAL_ACT_NONE : PAL_ACT_RELU;
  }
  pal_conv2d_plan_t *p1 = NULL, *p2 = NULL;
  pal_plan_t *pf = NULL;
  float *y1 = malloc(chunk * c->c1 * H * H * sizeof(float)), *q1 = malloc(chunk * c->c1 * H2 * H2 * sizeof(float));
  float *y2 = malloc(chunk * c->c2 * H2 * H2 * sizeof(float)), *q2 = malloc(chunk * m->flat * sizeof(float));
  pal_status_t st = (y1 && q1 && y2 && q2) ? PAL_STATUS_OK : pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  if (!st) st = pal_plan_conv2d(geom, &cv[0], chunk, &p1);
  if (!st) st = pal_plan_conv2d(geom, &cv[1], chunk, &p2);
  if (!st) st = pal_plan_dense_chain(geom, fc, 2, chunk, NULL, &pf);
  memset(layer_stats, 0, N_TILE_LAYERS * sizeof *layer_stats);
  for (size_t s0 = 0; !st && s0 < n; s0 += chunk) {
    uint32_t b = (uint32_t)(n - s0 < chunk ? n - s0 : chunk);
    pal_plan_stats_t s;
    st = pal_conv2d_plan_run(p1, dev, x + s0 * H * H, b, y1, &s);
    if (st) break;
    add_stats(&layer_stats[0], &s);
    maxpool2_nchw(y1, b * c->c1, H, H, q1);
    st = pal_conv2d_plan_run(p2, dev, q1, b, y2, &s);
    if (st) break;
    add_stats(&layer_stats[1], &s);
    maxpool2_nchw(y2, b * c->c2, H2, H2, q2); /* NCHW pooled = ONNX Flatten's order */
    (void)H4;
    st = pal_plan_run(pf, dev, q2, b, logits + s0 * c->classes, &s);
    if (st) break;
    add_stats(&layer_stats[2], &s);
  }
  pal_conv2d_plan_destroy(p1);
  pal_conv2d_plan_destroy(p2);
  pal_plan_destroy(pf);
  free(y1);
  free(q1);
  free(y2);
  free(q2);
  return st;
}

static size_t count_correct(const float *logits, const uint8_t *labels, size_t n, size_t classes) {
  size_t ok = 0;
  for (size_t i = 0; i < n; i++) ok += pal_argmax(logits + i * classes, classes) == labels[i];
  return ok;
}

static size_t count_bit_diffs(const float *a, const float *b, size_t n) {
  size_t d = 0;
  for (size_t i = 0; i < n; i++) d += pal_f32_bits(a[i]) != pal_f32_bits(b[i]) && !(isnan(a[i]) && isnan(b[i]));
  return d;
}

/* Zero-skip savings from the counters (docs/isa.md): ACT_SKIPPED zero
 * activation codes cost no cycle, each would have been one step of a row
 * of PEs; MACS_GATED PE-steps with a zero weight code did no multiply. */
static void print_tile_row(const char *what, size_t n, const pal_plan_stats_t *s, FILE *sum, const char *key) {
  const uint64_t *v = s->counters.value;
  double cyc = (double)v[PAL_TILE_CTR_CYC_TOTAL];
  printf("  %-16s %12.0f %7.1f %% %12.0f %12.0f %12.0f %10.0f\n", what, cyc / n,
         cyc > 0 ? 100.0 * (double)v[PAL_TILE_CTR_CYC_BUSY] / cyc : 0.0,
         (double)v[PAL_TILE_CTR_MACS_ISSUED] / n, (double)v[PAL_TILE_CTR_MACS_GATED] / n,
         (double)v[PAL_TILE_CTR_ACT_SKIPPED] / n, (double)v[PAL_TILE_CTR_BLOCKS_SKIPPED] / n);
  if (sum && key)
    fprintf(sum, "%s.cycles_per_image=%.0f\n%s.utilisation=%.1f\n%s.macs_gated_per_image=%.0f\n"
                 "%s.act_skipped_per_image=%.0f\n",
            key, cyc / n, key, cyc > 0 ? 100.0 * (double)v[PAL_TILE_CTR_CYC_BUSY] / cyc : 0.0, key,
            (double)v[PAL_TILE_CTR_MACS_GATED] / n, key, (double)v[PAL_TILE_CTR_ACT_SKIPPED] / n);
}

int main(int argc, char **argv) {
  const char *dir = "build/demo", *data = PAL_MNIST_DEFAULT_DIR, *device_uri = "emu://", *summary = NULL;
  const char *sample_dir = NULL;
  const char *tiles[MAX_DEVICES];
  size_t n_tiles = 0, limit = 0, pal8_images = SIZE_MAX, tile_images = 64;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "pal-eval-cnn: %s needs a value (or is unknown); see --help\n", a);
      return 2;
    }
    i++;
    bool ok = true;
    if (!strcmp(a, "--model")) dir = v;
    else if (!strcmp(a, "--data")) data = v;
    else if (!strcmp(a, "--device")) device_uri = v;
    else if (!strcmp(a, "--summary")) summary = v;
    else if (!strcmp(a, "--write-sample")) sample_dir = v;
    else if (!strcmp(a, "--limit")) ok = pal_train_parse_size(v, &limit) && limit >= 1;
    else if (!strcmp(a, "--pal8-images")) ok = pal_train_parse_size(v, &pal8_images);
    else if (!strcmp(a, "--tile-images")) ok = pal_train_parse_size(v, &tile_images) && tile_images <= 100000;
    else if (!strcmp(a, "--tile")) {
      ok = n_tiles < MAX_DEVICES;
      if (ok) tiles[n_tiles++] = v;
    } else {
      fprintf(stderr, "pal-eval-cnn: unknown option %s; see --help\n", a);
      return 2;
    }
    if (!ok) {
      fprintf(stderr, "pal-eval-cnn: bad value '%s' for %s; see --help\n", v, a);
      return 2;
    }
  }
  if (n_tiles == 0) {
    tiles[n_tiles++] = "emu://";
    tiles[n_tiles++] = "emu://?rows=8&cols=8";
  }
#ifdef PAL_TRAIN_WITH_SIM
  pal_status_t st = pal_soc_register_scheme();
#else
  pal_status_t st = PAL_STATUS_OK;
#endif
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/fashion_cnn.onnx", dir);
  pal_graph_t *g = NULL;
  pal_cnn_t *cnn = NULL;
  pal_mnist_set_t test = {0};
  float *ref = NULL, *fp = NULL, *q8 = NULL, *ty = NULL;
  FILE *sum = NULL;
  int rc = 1;
  if (!st) st = pal_onnx_load(path, &g);
  if (!st) st = cnn_from_graph(g, path, &cnn);
  if (!st) st = pal_mnist_load(data, "t10k", limit, &test);
  if (!st && cnn->cfg.hw != 28)
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: input %zu x %zu, the data set's images are 28 x 28", path,
                         cnn->cfg.hw, cnn->cfg.hw);
  if (!st && summary && !(sum = fopen(summary, "a")))
    st = pal_status_make(PAL_IO_ERROR, "%s: cannot open: %s", summary, strerror(errno));
  if (st) goto done;
  size_t n = test.n, K = cnn->cfg.classes, hw = cnn->cfg.hw;
  ref = malloc(n * K * sizeof(float));
  fp = malloc(n * K * sizeof(float));
  q8 = malloc(n * K * sizeof(float));
  if (!ref || !fp || !q8) {
    st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for %zu images", n);
    goto done;
  }
  printf("pal-eval-cnn: %s (conv 1->%zu, conv %zu->%zu, fc %zu->%zu->%zu), %zu test images\n", path, cnn->cfg.c1,
         cnn->cfg.c1, cnn->cfg.c2, cnn->flat, cnn->cfg.hidden, K, n);

  /* FP32: the runtime's cpu provider, against the trainer's forward pass. */
  double t0 = pal_train_now_s();
  for (size_t s0 = 0; !st && s0 < n; s0 += 500)
    st = pal_cnn_forward(cnn, test.images + s0 * hw * hw, n - s0 < 500 ? n - s0 : 500, ref + s0 * K);
  double t_ref = pal_train_now_s() - t0;
  t0 = pal_train_now_s();
  if (!st) st = run_session(g, "cpu", NULL, test.images, n, hw, K, false, fp, NULL);
  double t_fp = pal_train_now_s() - t0;
  if (st) goto done;
  double worst = 0.0;
  for (size_t i = 0; i < n * K; i++) {
    double e = fabs((double)fp[i] - ref[i]) / (1.0 + fabs((double)ref[i]));
    if (!(e <= worst)) worst = e;
  }
  size_t ok_ref = count_correct(ref, test.labels, n, K), ok_fp = count_correct(fp, test.labels, n, K);
  printf("\n  %-44s %8s %10s %9s\n", "path", "images", "accuracy", "time");
  printf("  %-44s %8zu %9.2f %% %7.2f s\n", "FP32, trainer (OpenBLAS im2col)", n, 100.0 * ok_ref / n, t_ref);
  printf("  %-44s %8zu %9.2f %% %7.2f s   (max rel. diff. to the trainer %.2g)\n", "FP32, runtime cpu provider", n,
         100.0 * ok_fp / n, t_fp, worst);
  if (sum) fprintf(sum, "cnn.fp32.images=%zu\ncnn.fp32.accuracy=%.2f\n", n, 100.0 * ok_fp / n);
  if (!(worst <= 1e-4)) {
    st = pal_status_make(PAL_INTERNAL, "%s on the cpu provider differs from the trainer's forward pass by %.3g", path,
                         worst);
    goto done;
  }

  /* PAL8-B32: the runtime's pal provider on the device. */
  size_t m8 = pal8_images < n ? pal8_images : n, on_cpu = 0;
  if (m8 > 0) {
    printf("\n  placement on %s:\n", device_uri);
    t0 = pal_train_now_s();
    st = run_session(g, "pal,cpu", device_uri, test.images, m8, hw, K, true, q8, &on_cpu);
    if (st) goto done;
    size_t ok_q = count_correct(q8, test.labels, m8, K), ok_f = count_correct(fp, test.labels, m8, K), agree = 0;
    for (size_t i = 0; i < m8; i++) agree += pal_argmax(q8 + i * K, K) == pal_argmax(fp + i * K, K);
    printf("  %-44s %8zu %9.2f %% %7.2f s\n", "PAL8-B32, runtime pal provider", m8, 100.0 * ok_q / m8,
           pal_train_now_s() - t0);
    printf("  on those images: FP32 %.2f %%, PAL8 %+.2f points, argmax agreement %.2f %%\n", 100.0 * ok_f / m8,
           100.0 * ((double)ok_q - (double)ok_f) / m8, 100.0 * agree / m8);
    if (sum)
      fprintf(sum, "cnn.pal_provider_%.*s.images=%zu\ncnn.pal_provider_%.*s.accuracy=%.2f\n"
                   "cnn.placement.pal_nodes=%zu\ncnn.placement.nodes=%zu\n",
              (int)strcspn(device_uri, ":"), device_uri, m8, (int)strcspn(device_uri, ":"), device_uri,
              100.0 * ok_q / m8, pal_graph_node_count(g) - on_cpu, pal_graph_node_count(g));
  }

  /* The tile's counters, layer by layer through the compiler. */
  size_t mt = tile_images < n ? tile_images : n;
  if (sample_dir && mt > 0) { /* the same images for `pal run` on both models */
    char sp[PATH_MAX];
    int64_t dn[4] = {(int64_t)mt, 1, (int64_t)hw, (int64_t)hw}, df[2] = {(int64_t)mt, (int64_t)(hw * hw)};
    pal_tensor_t *t = NULL;
    snprintf(sp, sizeof sp, "%s/sample_x_nchw.npy", sample_dir);
    st = pal_tensor_create_from(PAL_DTYPE_FP32, 4, dn, test.images, &t);
    if (!st) st = pal_npy_write(sp, t);
    pal_tensor_release(t);
    t = NULL;
    snprintf(sp, sizeof sp, "%s/sample_x_flat.npy", sample_dir);
    if (!st) st = pal_tensor_create_from(PAL_DTYPE_FP32, 2, df, test.images, &t);
    if (!st) st = pal_npy_write(sp, t);
    pal_tensor_release(t);
    if (st) goto done;
  }
  ty = malloc((mt ? mt : 1) * K * sizeof(float));
  if (!ty) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  for (size_t d = 0; !st && mt > 0 && d < n_tiles; d++) {
    pal_device_t *dev = NULL;
    pal_plan_stats_t ls[N_TILE_LAYERS], total;
    memset(&total, 0, sizeof total);
    st = pal_device_open(tiles[d], NULL, &dev);
    t0 = pal_train_now_s();
    if (!st) st = tile_forward(cnn, dev, test.images, mt, ty, ls);
    double t_tile = pal_train_now_s() - t0;
    if (!st) {
      const pal_tile_config_t *geo = &pal_device_tile(dev)->config;
      for (int l = 0; l < N_TILE_LAYERS; l++) add_stats(&total, &ls[l]);
      size_t ok_t = count_correct(ty, test.labels, mt, K);
      printf("\n  tile compiler on %s (%u x %u), layer by layer (MaxPool on the host): %zu images, %.2f %%, "
             "%.1f s\n",
             tiles[d], geo->rows, geo->cols, mt, 100.0 * ok_t / mt, t_tile);
      printf("  %-16s %12s %9s %12s %12s %12s %10s\n", "per image", "cycles", "util.", "MACS_ISSUED",
             "MACS_GATED", "ACT_SKIPPED", "BLK_SKIP");
      char key[96];
      snprintf(key, sizeof key, "cnn.tile_%.*s_%ux%u", (int)strcspn(tiles[d], ":"), tiles[d], geo->rows, geo->cols);
      for (int l = 0; l < N_TILE_LAYERS; l++) print_tile_row(tile_layer_names[l], mt, &ls[l], NULL, NULL);
      print_tile_row("total", mt, &total, sum, key);
      if (sum) fprintf(sum, "%s.images=%zu\n%s.accuracy=%.2f\n", key, mt, key, 100.0 * ok_t / mt);
      size_t cmp = m8 < mt ? m8 : mt;
      if (cmp > 0) {
        size_t diff = count_bit_diffs(ty, q8, cmp * K);
        printf("  against the pal provider on the same %zu images: %zu of %zu logits differ bitwise\n", cmp, diff,
               cmp * K);
        if (sum)
          fprintf(sum, "cnn.cmp_%.*s_vs_%.*s.images=%zu\ncnn.cmp_%.*s_vs_%.*s.bit_diffs=%zu\n",
                  (int)strcspn(tiles[d], ":"), tiles[d], (int)strcspn(device_uri, ":"), device_uri, cmp,
                  (int)strcspn(tiles[d], ":"), tiles[d], (int)strcspn(device_uri, ":"), device_uri, diff);
        /* With every Conv and Gemm on the tile the pal provider computes
         * exactly this; a difference is a bug in one of the two paths. */
        if (diff && on_cpu <= 3)
          st = pal_status_make(PAL_INTERNAL, "%s: the compiler path differs from the pal provider in %zu logits",
                               tiles[d], diff);
      }
    } else {
      st = pal_status_annotate(st, "tile run on %s", tiles[d]);
    }
    pal_device_close(dev);
  }
  if (!st) rc = 0;

done:
  if (st) {
    fprintf(stderr, "pal-eval-cnn: %s\n", pal_status_message(st));
    pal_status_free(st);
  }
  if (sum) fclose(sum);
  free(ref);
  free(fp);
  free(q8);
  free(ty);
  pal_mnist_release(&test);
  pal_cnn_destroy(cnn);
  pal_graph_release(g);
  return rc;
}
