/* pal_emu_bench: speed of the instruction-level emulator (host MACs per
 * second of wall time) on one GEMM, next to pal_gemm_ref on the same
 * operands, plus the emulated tile's own cycle count. Prints a table and,
 * with --json FILE, the project's bench JSON (conventions.md).
 *   usage: pal_emu_bench [--json FILE] [--m M --n N --k K] [--reps R] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/format.h"
#include "pal/tile.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x5EED;
static double uniform(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static void random_matrix(size_t rows, size_t cols, double zero_rate, pal_b32_matrix_t *m) {
  float *x = malloc(rows * cols * sizeof *x);
  for (size_t i = 0; i < rows * cols; i++)
    x[i] = uniform() < zero_rate ? 0.0f : (float)(uniform() * 2.0 - 1.0);
  if (pal_b32_matrix_create(rows, cols, m)) abort();
  pal_b32_matrix_encode(x, cols, m);
  free(x);
}

static int check(pal_status_t st, const char *what) {
  if (!st) return 0;
  fprintf(stderr, "pal_emu_bench: %s: %s\n", what, pal_status_message(st));
  pal_status_free(st);
  return 1;
}

typedef struct result {
  pal_emu_arith_t arith;
  unsigned rows, cols;
  double zero_rate, emu_s, ref_s;
  unsigned long long cycles, busy;
  int exact;
} result_t;

static const char *arith_name(pal_emu_arith_t a) {
  return a == PAL_EMU_ARITH_TABLE ? "table" : a == PAL_EMU_ARITH_FAST_GEMM ? "pal_gemm" : "auto";
}

static int run_one(unsigned R, size_t M, size_t N, size_t K, double zero_rate,
                   pal_emu_arith_t arith, int reps, result_t *out) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, R, R);
  const size_t P = (size_t)R * R, kb = (K + 31) / 32, nt = (N + P - 1) / P;
  cfg.abuf_blocks = 65536;
  cfg.wmem_blocks = (uint32_t)(nt * kb);
  cfg.acc_depth = 65536;
  cfg.obuf_depth = 65536;
  if (M * kb > cfg.abuf_blocks || M * nt * P > cfg.acc_depth || nt > 255) {
    fprintf(stderr, "pal_emu_bench: %zux%zux%zu does not fit one GEMM on %ux%u\n", M, N, K, R, R);
    return 1;
  }
  pal_emu_t *emu;
  pal_emu_options_t opt;
  pal_emu_options_initialize(&opt);
  opt.arith = arith;
  if (check(pal_emu_create_with_options(&cfg, &opt, &emu), "create")) return 1;
  pal_tile_device_t *dev = pal_emu_device(emu);
  pal_b32_matrix_t A, W;
  rng_state = 0x5EED; /* the same operands for every path */
  random_matrix(M, K, zero_rate, &A);
  random_matrix(N, K, 0.0, &W);
  int bad = 0;
  bad |= check(pal_tile_device_write(dev, PAL_TILE_REGION_ABUF_CODES, 0, 0, M * kb * 32, A.codes), "abuf");
  bad |= check(pal_tile_device_write(dev, PAL_TILE_REGION_ABUF_SCALES, 0, 0, M * kb, A.scales), "abuf");
  uint8_t *zero = calloc(kb * 32, 1);
  for (size_t t = 0; t < nt; t++)
    for (size_t p = 0; p < P; p++) {
      size_t n = t * P + p;
      bad |= check(pal_tile_device_write(dev, PAL_TILE_REGION_WMEM_CODES, (uint32_t)p, t * kb * 32,
                                         kb * 32, n < N ? W.codes + n * kb * 32 : zero), "wmem");
      bad |= check(pal_tile_device_write(dev, PAL_TILE_REGION_WMEM_SCALES, (uint32_t)p, t * kb, kb,
                                         n < N ? W.scales + n * kb : zero), "wmem");
    }
  free(zero);
  pal_isa_instr_t in;
  pal_isa_instr_initialize(&in, PAL_ISA_OP_GEMM);
  in.a_stride = (uint32_t)kb, in.m_count = (uint32_t)M, in.k_blocks = (uint32_t)kb;
  in.n_tiles = (uint32_t)nt;
  uint32_t prog[8] = {0, 0, 0, 0, (uint32_t)PAL_ISA_OP_END << PAL_ISA_OPCODE_LSB, 0, 0, 0};
  bad |= check(pal_isa_encode(&in, prog), "encode");
  bad |= check(pal_tile_device_load_program(dev, 0, prog, 8), "load");
  double t0 = now_s();
  for (int r = 0; r < reps && !bad; r++) {
    bad |= check(pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET), "reset");
    bad |= check(pal_tile_device_run(dev, 0, PAL_TILE_NO_CYCLE_LIMIT, NULL), "run");
  }
  out->emu_s = (now_s() - t0) / reps;
  pal_tile_counters_t c;
  bad |= check(pal_tile_device_read_counters(dev, &c), "counters");
  float *ref = malloc(M * N * sizeof *ref);
  t0 = now_s();
  pal_gemm_ref(&A, &W, NULL, ref, N);
  out->ref_s = now_s() - t0;
  out->exact = 1;
  for (size_t m = 0; m < M && !bad; m++) {
    uint32_t bits[4096];
    uint8_t nar[4096];
    bad |= check(pal_tile_device_read(dev, PAL_TILE_REGION_ACC, 0, m * nt * P, N, bits), "acc");
    bad |= check(pal_tile_device_read(dev, PAL_TILE_REGION_ACC_NAR, 0, m * nt * P, N, nar), "acc");
    for (size_t n = 0; n < N; n++) {
      float r = ref[m * N + n];
      uint32_t rb;
      memcpy(&rb, &r, 4);
      if (isnan(r) ? !nar[n] : (nar[n] || bits[n] != rb)) out->exact = 0;
    }
  }
  out->arith = arith;
  out->rows = out->cols = R;
  out->zero_rate = zero_rate;
  out->cycles = (unsigned long long)c.value[PAL_TILE_CTR_CYC_TOTAL];
  out->busy = (unsigned long long)c.value[PAL_TILE_CTR_CYC_BUSY];
  free(ref);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  pal_emu_destroy(emu);
  return bad;
}

int main(int argc, char **argv) {
  const char *json = NULL;
  size_t M = 256, N = 256, K = 64;
  int reps = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--m") && i + 1 < argc) M = strtoul(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--n") && i + 1 < argc) N = strtoul(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--k") && i + 1 < argc) K = strtoul(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: pal_emu_bench [--json FILE] [--m M --n N --k K] [--reps R]\n");
      return 2;
    }
  }
  if (reps < 1 || !M || !N || !K || N > 4096) {
    fprintf(stderr, "pal_emu_bench: need M, N, K >= 1, N <= 4096, reps >= 1\n");
    return 2;
  }
  const unsigned geos[] = {4, 8};
  const double zeros[] = {0.0, 0.5, 0.9};
  const pal_emu_arith_t ariths[] = {PAL_EMU_ARITH_TABLE, PAL_EMU_ARITH_FAST_GEMM};
  result_t res[12];
  int n = 0;
  printf("emulator speed, GEMM M=%zu N=%zu K=%zu (host MACs = M*N*K)\n", M, N, K);
  printf("%-9s %-6s %-6s %12s %12s %10s %14s %8s %6s\n", "path", "tile", "zeros", "emu MAC/s", "ref MAC/s",
         "emu/ref", "tile cycles", "util", "exact");
  for (int ar = 0; ar < 2; ar++)
  for (int g = 0; g < 2; g++)
    for (int z = 0; z < 3; z++) {
      result_t *r = &res[n];
      if (run_one(geos[g], M, N, K, zeros[z], ariths[ar], reps, r)) return 1;
      double macs = (double)M * N * K;
      printf("%-9s %ux%-4u %-6.1f %12.3g %12.3g %10.2f %14llu %8.3f %6s\n", arith_name(r->arith),
             r->rows, r->cols, r->zero_rate,
             macs / r->emu_s, macs / r->ref_s, r->ref_s / r->emu_s, r->cycles,
             (double)r->busy / (double)r->cycles, r->exact ? "yes" : "NO");
      if (!r->exact) return 1;
      n++;
    }
  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      perror(json);
      return 2;
    }
    fprintf(f, "{\"bench\": \"tile_emu\", \"commit\": \"%s\", \"machine\": \"%s\",\n \"results\": [\n",
            getenv("PAL_COMMIT") ? getenv("PAL_COMMIT") : "unknown",
            getenv("PAL_MACHINE") ? getenv("PAL_MACHINE") : "unknown");
    for (int i = 0; i < n; i++) {
      double macs = (double)M * N * K;
      fprintf(f,
              "  {\"metric\": \"emu_macs_per_s\", \"value\": %.4g, \"unit\": \"MAC/s\", \"params\": "
              "{\"path\": \"%s\", \"tile\": \"%ux%u\", \"zero_rate\": %.2f, \"M\": %zu, \"N\": %zu, \"K\": %zu}},\n"
              "  {\"metric\": \"emu_over_ref_speed\", \"value\": %.4g, \"unit\": \"ratio\", \"params\": "
              "{\"path\": \"%s\", \"tile\": \"%ux%u\", \"zero_rate\": %.2f, \"M\": %zu, \"N\": %zu, \"K\": %zu}},\n"
              "  {\"metric\": \"tile_cycles\", \"value\": %llu, \"unit\": \"cycles\", \"params\": "
              "{\"path\": \"%s\", \"tile\": \"%ux%u\", \"zero_rate\": %.2f, \"M\": %zu, \"N\": %zu, \"K\": %zu}}%s\n",
              macs / res[i].emu_s, arith_name(res[i].arith), res[i].rows, res[i].cols,
              res[i].zero_rate, M, N, K, res[i].ref_s / res[i].emu_s, arith_name(res[i].arith),
              res[i].rows, res[i].cols, res[i].zero_rate, M, N, K, res[i].cycles,
              arith_name(res[i].arith), res[i].rows, res[i].cols, res[i].zero_rate, M, N, K,
              i + 1 < n ? "," : "");
    }
    fprintf(f, " ]}\n");
    fclose(f);
  }
  return 0;
}
