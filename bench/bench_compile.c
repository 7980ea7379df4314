/* Compiled MLP on the emulated tile: the 784-256-128-10 ReLU MLP of the
 * end-to-end demo, planned for 4x4 and 8x8 and run at batch 1 and 64 on
 * emu:// (direct, and through the link protocol) — kernel runs, bytes moved each way, tile cycles from the
 * counters, utilisation (CYC_BUSY / CYC_TOTAL), MACs issued/gated and skipped
 * activations, checked bit for bit against pal_plan_reference. Synthetic
 * weights (Gaussian) and inputs (half zeros, like image backgrounds);
 * `make bench-compile` -> table + build/bench/compile.json. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "pal/compile.h"

static uint64_t rng_state = 0x5EED0A11ull;
static double urand(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}
static double grand(void) {
  double u1 = urand(), u2 = urand();
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void die(const char *what, pal_status_t st) {
  fprintf(stderr, "bench_compile: %s: %s\n", what, pal_status_message(st));
  exit(1);
}

int main(int argc, char **argv) {
  const char *json_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      fprintf(stderr, "usage: bench_compile [--json PATH]\n");
      return 2;
    }
  }
  bench_json_t j = {0};
  if (json_path && bench_json_open(&j, json_path, "compile") != 0) {
    fprintf(stderr, "bench_compile: cannot write %s\n", json_path);
    return 2;
  }
  const uint32_t dims[4] = {784, 256, 128, 10};
  float *w[3], *b[3];
  pal_dense_layer_t layers[3];
  for (int l = 0; l < 3; l++) {
    size_t k = dims[l], n = dims[l + 1];
    w[l] = malloc(n * k * sizeof(float));
    b[l] = malloc(n * sizeof(float));
    for (size_t i = 0; i < n * k; i++) w[l][i] = (float)(grand() / sqrt((double)k));
    for (size_t i = 0; i < n; i++) b[l][i] = (float)(0.1 * grand());
    pal_dense_layer_initialize(&layers[l]);
    layers[l].in_features = (uint32_t)k;
    layers[l].out_features = (uint32_t)n;
    layers[l].weights = w[l];
    layers[l].bias = b[l];
    layers[l].act = l < 2 ? PAL_ACT_RELU : PAL_ACT_NONE;
  }
  const uint32_t max_batch = 64;
  float *x = malloc((size_t)max_batch * 784 * sizeof(float));
  for (size_t i = 0; i < (size_t)max_batch * 784; i++) x[i] = urand() < 0.5 ? 0.0f : (float)urand();
  float *y = malloc((size_t)max_batch * 10 * sizeof(float)), *yr = malloc((size_t)max_batch * 10 * sizeof(float));
  const double macs_per_image = 784.0 * 256 + 256.0 * 128 + 128.0 * 10;
  int failures = 0;

  printf("784-256-128-10 ReLU MLP compiled for the tile, run on emu://?direct=1 and emu:// (link protocol) (tile cycles: the ISA's timing model)\n\n");
  printf("%-5s %-6s %5s %5s %6s %10s %10s %10s %12s %10s %8s %12s %12s %8s %6s\n", "tile", "device", "batch",
         "chunk", "runs", "to_dev_B", "from_dev_B", "wire_B", "cycles", "cyc/image", "util", "macs_issued",
         "macs_gated", "host_s", "exact");
  const uint32_t geoms[2] = {4, 8}, batches[2] = {1, 64};
  for (int gi = 0; gi < 2; gi++) {
    pal_tile_config_t cfg;
    pal_tile_config_initialize(&cfg, geoms[gi], geoms[gi]);
    for (int vi = 0; vi < 4; vi++) {
      uint32_t batch = batches[vi / 2];
      bool link = vi % 2;
      pal_plan_t *plan = NULL;
      pal_status_t st = pal_plan_dense_chain(&cfg, layers, 3, batch, NULL, &plan);
      if (st) die("planning", st);
      pal_device_options_t o;
      pal_device_options_initialize(&o);
      o.emu_config = &cfg;
      pal_device_t *dev = NULL;
      if ((st = pal_device_open(link ? "emu://" : "emu://?direct=1", &o, &dev))) die("opening emu://", st);
      pal_plan_stats_t s;
      double t0 = bench_now();
      if ((st = pal_plan_run(plan, dev, x, batch, y, &s))) die("running", st);
      double secs = bench_now() - t0;
      if ((st = pal_plan_reference(plan, x, batch, yr))) die("reference", st);
      bool exact = memcmp(y, yr, (size_t)batch * 10 * sizeof(float)) == 0;
      failures += !exact;
      const uint64_t *c = s.counters.value;
      double util = c[PAL_TILE_CTR_CYC_TOTAL] ? (double)c[PAL_TILE_CTR_CYC_BUSY] / (double)c[PAL_TILE_CTR_CYC_TOTAL] : 0;
      double cyc_img = (double)c[PAL_TILE_CTR_CYC_TOTAL] / batch;
      printf("%ux%-3u %-6s %5u %5u %6" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64
             " %10.0f %8.4f %12" PRIu64 " %12" PRIu64 " %8.3f %6s\n",
             geoms[gi], geoms[gi], link ? "link" : "direct", batch, pal_plan_m_chunk(plan), s.kernel_runs,
             s.bytes_to_device, s.bytes_from_device, s.wire_bytes_tx + s.wire_bytes_rx,
             c[PAL_TILE_CTR_CYC_TOTAL], cyc_img, util, c[PAL_TILE_CTR_MACS_ISSUED], c[PAL_TILE_CTR_MACS_GATED],
             secs, exact ? "yes" : "NO");
      char params[160];
      snprintf(params, sizeof params, "\"model\": \"mlp_784_256_128_10\", \"tile\": \"%ux%u\", \"batch\": %u, \"device\": \"%s\"",
               geoms[gi], geoms[gi], batch, link ? "emu_link" : "emu_direct");
      bench_json_result(&j, "kernel_runs", (double)s.kernel_runs, "count", params, NULL, 0);
      bench_json_result(&j, "bytes_to_device", (double)s.bytes_to_device, "bytes", params, NULL, 0);
      bench_json_result(&j, "bytes_from_device", (double)s.bytes_from_device, "bytes", params, NULL, 0);
      bench_json_result(&j, "weight_bytes", (double)s.weight_bytes, "bytes", params, NULL, 0);
      bench_json_result(&j, "spills", (double)s.spills, "count", params, NULL, 0);
      bench_json_result(&j, "wire_bytes", (double)(s.wire_bytes_tx + s.wire_bytes_rx), "bytes", params, NULL, 0);
      bench_json_result(&j, "link_requests", (double)s.link_requests, "count", params, NULL, 0);
      bench_json_result(&j, "tile_cycles", (double)c[PAL_TILE_CTR_CYC_TOTAL], "cycles", params, NULL, 0);
      bench_json_result(&j, "tile_cycles_per_image", cyc_img, "cycles", params, NULL, 0);
      bench_json_result(&j, "cycles_busy", (double)c[PAL_TILE_CTR_CYC_BUSY], "cycles", params, NULL, 0);
      bench_json_result(&j, "cycles_stall", (double)c[PAL_TILE_CTR_CYC_STALL], "cycles", params, NULL, 0);
      bench_json_result(&j, "utilisation", util, "ratio", params, NULL, 0);
      bench_json_result(&j, "macs_issued", (double)c[PAL_TILE_CTR_MACS_ISSUED], "count", params, NULL, 0);
      bench_json_result(&j, "macs_gated", (double)c[PAL_TILE_CTR_MACS_GATED], "count", params, NULL, 0);
      bench_json_result(&j, "act_skipped", (double)c[PAL_TILE_CTR_ACT_SKIPPED], "count", params, NULL, 0);
      bench_json_result(&j, "blocks_skipped", (double)c[PAL_TILE_CTR_BLOCKS_SKIPPED], "count", params, NULL, 0);
      bench_json_result(&j, "dense_macs", macs_per_image * batch, "count", params, NULL, 0);
      bench_json_result(&j, "host_seconds", secs, "s", params, NULL, 0);
      bench_json_result(&j, "bit_exact", exact ? 1 : 0, "bool", params, NULL, 0);
      if (vi == 3) {
        char *d = NULL;
        if (!pal_plan_describe(plan, &d)) {
          printf("%s", d);
          free(d);
        }
      }
      pal_device_close(dev);
      pal_plan_destroy(plan);
    }
  }
  printf("\ndense MACs per image: %.0f; util = CYC_BUSY / CYC_TOTAL (docs/isa.md §4)\n", macs_per_image);
  bench_json_close(&j);
  for (int l = 0; l < 3; l++) {
    free(w[l]);
    free(b[l]);
  }
  free(x);
  free(y);
  free(yr);
  return failures ? 1 : 0;
}
