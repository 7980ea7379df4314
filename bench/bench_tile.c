/* Tile benchmark (make bench-tile): array utilisation of dense GEMMs,
 * zero-skip speedup at 50 % and 90 % zero activations, and the Verilated
 * RTL's simulation speed, for the 4x4, 8x8 and 16x16 tiles. Every GEMM
 * runs on the RTL (build/sim models) and on the emulator; their counters
 * must agree exactly, and the table says which engine each number comes
 * from. Prints a table and writes build/bench/tile.json.
 *   usage: bench_tile [--json PATH] [--quick] */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "pal/format.h"
#include "pal/sim.h"
#include "pal/tile.h"

#define CHECK(expr)                                                                 \
  do {                                                                              \
    pal_status_t st_ = (expr);                                                      \
    if (st_) {                                                                      \
      fprintf(stderr, "bench_tile: %s: %s\n", #expr, pal_status_message(st_));     \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

/* splitmix64 and a Gaussian, for reproducible operands */
static uint64_t g_rng = 0x5EED0A11ull;
static uint64_t rng_u64(void) {
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double rng_uniform(void) { return (double)(rng_u64() >> 11) * 0x1.0p-53; }
static double rng_gauss(void) {
  double u1 = rng_uniform(), u2 = rng_uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A rows x cols PAL8-B32 matrix of Gaussians with `zeros` of the elements
 * exactly zero (at random positions). */
static void random_matrix(size_t rows, size_t cols, double zeros, pal_b32_matrix_t *out) {
  CHECK(pal_b32_matrix_create(rows, cols, out));
  float *x = malloc(rows * cols * sizeof *x);
  for (size_t i = 0; i < rows * cols; i++)
    x[i] = rng_uniform() < zeros ? 0.0f : (float)rng_gauss();
  pal_b32_matrix_encode(x, cols, out);
  free(x);
}

typedef struct engine {
  pal_tile_device_t *dev;
  pal_sim_t *sim; /* NULL for the emulator */
} engine_t;

/* Loads A (rows at ABUF a_stride = kblocks) and W on one tile. */
static void load(engine_t *e, const pal_b32_matrix_t *A, const pal_b32_matrix_t *W) {
  pal_tile_device_t *dev = e->dev;
  uint32_t P = pal_tile_config_pes(&dev->config);
  size_t kb = A->kblocks, nt = (W->rows + P - 1) / P;
  CHECK(pal_tile_device_write(dev, PAL_TILE_REGION_ABUF_CODES, 0, 0, A->rows * kb * 32, A->codes));
  CHECK(pal_tile_device_write(dev, PAL_TILE_REGION_ABUF_SCALES, 0, 0, A->rows * kb, A->scales));
  uint8_t *zeros = calloc(kb * 32, 1);
  for (size_t t = 0; t < nt; t++)
    for (uint32_t p = 0; p < P; p++) {
      size_t n = t * P + p;
      const uint8_t *codes = n < W->rows ? W->codes + n * kb * 32 : zeros;
      const uint8_t *scales = n < W->rows ? W->scales + n * kb : zeros;
      CHECK(pal_tile_device_write(dev, PAL_TILE_REGION_WMEM_CODES, p, t * kb * 32, kb * 32, codes));
      CHECK(pal_tile_device_write(dev, PAL_TILE_REGION_WMEM_SCALES, p, t * kb, kb, scales));
    }
  free(zeros);
}

/* Runs "gemm ...; end" after a counter reset; returns the counters and, for
 * the RTL, the wall time and cycles of the run itself. */
static pal_tile_counters_t run(engine_t *e, size_t M, size_t kb, size_t nt, double *out_seconds,
                               uint64_t *out_cycles) {
  char text[160];
  snprintf(text, sizeof text, "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=zero\nend\n", kb, M,
           kb, nt);
  pal_asm_program_t prog;
  CHECK(pal_asm_assemble(text, strlen(text), NULL, &prog));
  CHECK(pal_tile_device_load_program(e->dev, 0, prog.words, prog.word_count));
  pal_asm_program_release(&prog);
  CHECK(pal_tile_device_write_reg(e->dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  uint64_t c0 = e->sim ? pal_sim_cycle(e->sim) : 0;
  double t0 = bench_now();
  pal_tile_status_t st;
  CHECK(pal_tile_device_run(e->dev, 0, PAL_TILE_NO_CYCLE_LIMIT, &st));
  double t1 = bench_now();
  if (!st.done || st.error) {
    fprintf(stderr, "bench_tile: %s stopped with %s\n", e->dev->name, pal_tile_error_name(st.error));
    exit(1);
  }
  if (out_seconds) *out_seconds = t1 - t0;
  if (out_cycles) *out_cycles = e->sim ? pal_sim_cycle(e->sim) - c0 : 0;
  pal_tile_counters_t c;
  CHECK(pal_tile_device_read_counters(e->dev, &c));
  return c;
}

typedef struct geo_ctx {
  uint32_t R;
  engine_t rtl, emu;
  bool have_rtl;
  double sim_seconds; /* summed over the RTL runs */
  uint64_t sim_cycles;
} geo_ctx_t;

/* One GEMM on both engines (the RTL when `use_rtl`), counters compared;
 * returns the counters of the engine reported (the RTL's when it ran). */
static pal_tile_counters_t gemm(geo_ctx_t *g, size_t M, size_t N, size_t K, double zeros,
                                bool use_rtl, const char **out_engine) {
  uint32_t P = g->R * g->R;
  pal_b32_matrix_t A, W;
  random_matrix(M, K, zeros, &A);
  random_matrix(N, K, 0.0, &W);
  size_t kb = A.kblocks, nt = (N + P - 1) / P;
  load(&g->emu, &A, &W);
  pal_tile_counters_t ce = run(&g->emu, M, kb, nt, NULL, NULL);
  pal_tile_counters_t c = ce;
  *out_engine = "emu";
  if (use_rtl && g->have_rtl) {
    load(&g->rtl, &A, &W);
    double secs;
    uint64_t cycles;
    c = run(&g->rtl, M, kb, nt, &secs, &cycles);
    g->sim_seconds += secs;
    g->sim_cycles += cycles;
    *out_engine = "rtl";
    if (memcmp(&c, &ce, sizeof c)) {
      fprintf(stderr, "bench_tile: %ux%u M=%zu N=%zu K=%zu: the RTL's counters differ from the emulator's\n",
              g->R, g->R, M, N, K);
      exit(1);
    }
  }
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  return c;
}

static bool fits(const pal_tile_config_t *cfg, size_t M, size_t N, size_t K) {
  uint32_t P = pal_tile_config_pes(cfg);
  size_t kb = (K + 31) / 32, nt = (N + P - 1) / P;
  return N % P == 0 && M * kb <= cfg->abuf_blocks && nt * kb <= cfg->wmem_blocks &&
         M * nt * P <= cfg->acc_depth;
}

static void row(const char *what, uint32_t R, const char *shape, const char *engine, double value,
                const char *unit, const char *op, double target) {
  char t[32] = "";
  if (op) snprintf(t, sizeof t, "%s %g", op, target);
  printf("%-28s %5ux%-3u %-22s %-4s %12.4g %-9s %-10s %s\n", what, R, R, shape, engine, value, unit, t,
         bench_verdict(value, op, target));
}

int main(int argc, char **argv) {
  const char *json_path = NULL;
  bool quick = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else if (!strcmp(argv[i], "--quick")) quick = true;
    else {
      fprintf(stderr, "usage: bench_tile [--json PATH] [--quick]\n");
      return 2;
    }
  }
  bench_json_t json = {0};
  if (json_path && bench_json_open(&json, json_path, "tile")) {
    fprintf(stderr, "bench_tile: cannot write %s\n", json_path);
    return 2;
  }
  printf("%-28s %-9s %-22s %-4s %12s %-9s %-10s %s\n", "metric", "tile", "shape", "eng", "value", "unit",
         "target", "");
  static const uint32_t kGeos[] = {4, 8, 16};
  static const size_t kUtil[][3] = {{1, 64, 256},  {1, 64, 1024},  {1, 256, 256}, {1, 256, 1024},
                                    {16, 256, 256}, {16, 64, 1024}, {64, 64, 256}};
  for (size_t gi = 0; gi < sizeof kGeos / sizeof kGeos[0]; gi++) {
    geo_ctx_t g = {0};
    g.R = kGeos[gi];
    pal_tile_config_t cfg;
    pal_tile_config_initialize(&cfg, g.R, g.R);
    pal_emu_t *emu;
    CHECK(pal_emu_create(&cfg, &emu));
    g.emu.dev = pal_emu_device(emu);
    pal_sim_options_t so;
    pal_sim_options_initialize(&so);
    so.rows = so.cols = g.R;
    pal_status_t st = pal_sim_create(&so, &g.rtl.sim);
    g.have_rtl = st == PAL_STATUS_OK;
    if (!g.have_rtl) {
      fprintf(stderr, "bench_tile: no RTL model: %s (emulator only)\n", pal_status_message(st));
      pal_status_free(st);
    } else {
      g.rtl.dev = pal_sim_device(g.rtl.sim);
    }
    char params[256], shape[64];
    const char *engine;

    /* utilisation of dense GEMMs, data resident, N a multiple of P */
    for (size_t u = 0; u < sizeof kUtil / sizeof kUtil[0]; u++) {
      size_t M = kUtil[u][0], N = kUtil[u][1], K = kUtil[u][2];
      if (!fits(&cfg, M, N, K)) continue;
      if (quick && u > 1) continue;
      pal_tile_counters_t c = gemm(&g, M, N, K, 0.0, true, &engine);
      double util = (double)c.value[PAL_TILE_CTR_CYC_BUSY] / (double)c.value[PAL_TILE_CTR_CYC_TOTAL];
      snprintf(shape, sizeof shape, "M=%zu N=%zu K=%zu", M, N, K);
      row("array_utilisation", g.R, shape, engine, util, "ratio", ">=", 0.90);
      snprintf(params, sizeof params,
               "\"tile\": \"%ux%u\", \"M\": %zu, \"N\": %zu, \"K\": %zu, \"engine\": \"%s\"", g.R,
               g.R, M, N, K, engine);
      bench_json_result(&json, "array_utilisation", util, "ratio", params, ">=", 0.90);
    }

    /* zero-skip: cycles at 50 % and 90 % zero activations / dense, batch
     * 1 and 64 (16 on 16x16, whose ACC holds 16 rows of 256) */
    uint32_t P = g.R * g.R;
    size_t N = P < 64 ? 64 : P;
    size_t batches[2] = {1, g.R == 16 ? 16 : 64};
    for (int b = 0; b < 2; b++) {
      if (quick && b) continue;
      size_t M = batches[b], K = M == 1 ? 1024 : 256;
      if (!fits(&cfg, M, N, K)) continue;
      pal_tile_counters_t dense = gemm(&g, M, N, K, 0.0, true, &engine);
      static const double kZeros[] = {0.5, 0.9};
      for (int z = 0; z < 2; z++) {
        pal_tile_counters_t c = gemm(&g, M, N, K, kZeros[z], true, &engine);
        double ratio = (double)c.value[PAL_TILE_CTR_CYC_TOTAL] / (double)dense.value[PAL_TILE_CTR_CYC_TOTAL];
        bool has_target = g.R <= 8;
        double target = z ? 0.15 : 0.55;
        snprintf(shape, sizeof shape, "M=%zu N=%zu K=%zu %d%%", M, N, K, z ? 90 : 50);
        row("zero_skip_cycle_ratio", g.R, shape, engine, ratio, "ratio", has_target ? "<=" : NULL, target);
        snprintf(params, sizeof params,
                 "\"tile\": \"%ux%u\", \"M\": %zu, \"N\": %zu, \"K\": %zu, \"zeros\": %.1f, "
                 "\"engine\": \"%s\"",
                 g.R, g.R, M, N, K, kZeros[z], engine);
        bench_json_result(&json, "zero_skip_cycle_ratio", ratio, "ratio", params,
                          has_target ? "<=" : NULL, target);
      }
    }

    /* Verilator speed: tile cycles per second over every RTL run above */
    if (g.have_rtl && g.sim_seconds > 0) {
      double speed = (double)g.sim_cycles / g.sim_seconds;
      bool target = g.R == 4;
      row("sim_speed", g.R, "all GEMMs above", "rtl", speed, "cycles/s", target ? ">=" : NULL, 3e6);
      snprintf(params, sizeof params, "\"tile\": \"%ux%u\", \"threads\": 1, \"cycles\": %llu", g.R,
               g.R, (unsigned long long)g.sim_cycles);
      bench_json_result(&json, "sim_speed", speed, "cycles/s", params, target ? ">=" : NULL, 3e6);
      pal_sim_destroy(g.rtl.sim);
    }
    pal_emu_destroy(emu);
    fflush(stdout);
  }
  if (json_path) {
    bench_json_close(&json);
    printf("wrote %s\n", json_path);
  }
  return 0;
}
