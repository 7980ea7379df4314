/* make bench-soc: the Verilated SoC (rtl/pal_soc.v) through the driver on
 * the sim:// transport (pal_soc_transport + pal_device_open_transport, the
 * path sim:// takes, with the SoC in hand so its cycle counter can be read
 * between phases). Measures, in model cycles (properties of the RTL, the
 * same on every machine) and wall time (this machine):
 *   - link payload bytes per cycle for bulk WRITE and READ on the FIFO
 *     attachment (4096-byte packets, 128 KiB of WMEM) and on the UART at
 *     4 clocks per bit (16 KiB),
 *   - Verilated SoC cycles per CPU second of this process (4x4; the wall
 *     clock of a shared machine measures the other jobs),
 *   - the end-to-end breakdown of a 256x256 (N x K) GEMM at batch M = 64 on
 *     the 4x4 tile: weights, activations, program + bias, kernel runs,
 *     outputs. ACC holds 4096 words, so the GEMM runs as 4 kernels of 16
 *     rows each (16 N-tiles x 8 K-blocks; weights 128 blocks per PE fit
 *     WMEM's 256, activations 512 blocks fill ABUF), each followed by a
 *     read of its 16 x 256 FP32 outputs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "pal/driver.h"
#include "pal/protocol.h"
#include "pal/soc.h"

#define CHECK(expr)                                                           \
  do {                                                                        \
    pal_status_t st_ = (expr);                                                \
    if (st_) {                                                                \
      fprintf(stderr, "bench_soc: %s: %s\n", #expr, pal_status_message(st_)); \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

typedef struct rig {
  pal_soc_t *soc;
  pal_device_t *dev;
} rig_t;

static void rig_open(rig_t *r, pal_soc_attach_t attach) {
  pal_soc_options_t o;
  pal_soc_options_initialize(&o);
  o.attach = attach;
  CHECK(pal_soc_create(&o, &r->soc));
  pal_transport_t t;
  CHECK(pal_soc_transport(r->soc, attach == PAL_SOC_ATTACH_UART ? "sim://?attach=uart" : "sim://", &t));
  pal_device_options_t d;
  pal_device_options_initialize(&d);
  d.timeout_ms = 20000; /* the wall-clock guard must not fire on a slow machine */
  d.wait_poll_us = 0;   /* as sim:// itself: the model moves only while polled */
  uint32_t cpb = attach == PAL_SOC_ATTACH_UART ? 40 : 1;
  CHECK(pal_device_open_transport(t.name, t, cpb * 1000000u / o.cycles_per_ms, &d, &r->dev));
}

static void rig_close(rig_t *r) {
  pal_device_close(r->dev);
  pal_soc_destroy(r->soc);
}

static uint64_t cyc(const rig_t *r) { return pal_soc_cycle(r->soc); }

/* Process CPU time: on a shared machine the wall clock measures the others. */
static double cpu_now(void) { return (double)clock() / CLOCKS_PER_SEC; }

static void fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (uint8_t)(seed >> 24);
  }
}

int main(int argc, char **argv) {
  const char *json = NULL;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
  bench_json_t j = {0};
  if (json && bench_json_open(&j, json, "soc")) {
    fprintf(stderr, "bench_soc: cannot write %s\n", json);
    return 1;
  }
  printf("%-44s %14s  %s\n", "metric", "value", "unit");

  /* ---- bulk transfers -------------------------------------------------------- */
  for (int a = 0; a < 2; a++) {
    rig_t r;
    rig_open(&r, a ? PAL_SOC_ATTACH_UART : PAL_SOC_ATTACH_FIFO);
    size_t per_pe = 8192, pes = a ? 2 : 16, total = per_pe * pes;
    uint8_t *buf = malloc(total), *back = malloc(total);
    fill(buf, total, 7);
    uint64_t c0 = cyc(&r);
    double t0 = cpu_now();
    for (size_t pe = 0; pe < pes; pe++)
      CHECK(pal_device_write_region(r.dev, PAL_TILE_REGION_WMEM_CODES, (uint32_t)pe, 0, per_pe, buf + pe * per_pe));
    uint64_t c1 = cyc(&r);
    double t1 = cpu_now();
    for (size_t pe = 0; pe < pes; pe++)
      CHECK(pal_device_read_region(r.dev, PAL_TILE_REGION_WMEM_CODES, (uint32_t)pe, 0, per_pe, back + pe * per_pe));
    uint64_t c2 = cyc(&r);
    double t2 = cpu_now();
    if (memcmp(buf, back, total)) {
      fprintf(stderr, "bench_soc: WMEM does not read back\n");
      return 1;
    }
    const char *att = a ? "uart" : "fifo";
    char params[160];
    snprintf(params, sizeof params, "\"attach\": \"%s\", \"bytes\": %zu, \"max_payload\": 4096%s", att, total,
             a ? ", \"clocks_per_bit\": 4" : "");
    double w = (double)total / (double)(c1 - c0), rd = (double)total / (double)(c2 - c1);
    char name[64];
    snprintf(name, sizeof name, "link_write_bytes_per_cycle_%s", att);
    printf("%-44s %14.4f  %s\n", name, w, "B/cycle");
    bench_json_result(&j, name, w, "B/cycle", params, NULL, 0);
    snprintf(name, sizeof name, "link_read_bytes_per_cycle_%s", att);
    printf("%-44s %14.4f  %s\n", name, rd, "B/cycle");
    bench_json_result(&j, name, rd, "B/cycle", params, NULL, 0);
    double cps = (double)(c2 - c0) / (t2 - t0);
    snprintf(name, sizeof name, "soc_cycles_per_second_%s", att);
    printf("%-44s %14.0f  %s\n", name, cps, "cycles/cpu-s");
    snprintf(params, sizeof params, "\"attach\": \"%s\", \"rows\": 4, \"cols\": 4, \"what\": \"bulk transfers\"", att);
    bench_json_result(&j, name, cps, "cycles/cpu_s", params, NULL, 0);
    (void)t1;
    free(buf);
    free(back);
    rig_close(&r);
  }

  /* ---- GEMM 256x256, M = 64, on the 4x4 tile ---------------------------------- */
  {
    rig_t r;
    rig_open(&r, PAL_SOC_ATTACH_FIFO);
    const uint32_t P = 16, M = 64, N = 256, K = 256, KB = K / 32, NT = N / P, MC = 16;
    uint64_t c_w = 0, c_a = 0, c_p = 0, c_run = 0, c_out = 0, tile_cycles = 0;
    double t0 = cpu_now(), w0 = bench_now();
    uint64_t c = cyc(&r);
    /* weights: PE p holds columns n = t*P + p, blocks t*KB + kb */
    uint8_t *codes = malloc(NT * KB * 32), *scales = malloc(NT * KB);
    for (uint32_t pe = 0; pe < P; pe++) {
      fill(codes, NT * KB * 32, 100 + pe);
      for (uint32_t b = 0; b < NT * KB; b++) scales[b] = (uint8_t)(120 + (b * 7 + pe) % 8);
      CHECK(pal_device_write_region(r.dev, PAL_TILE_REGION_WMEM_CODES, pe, 0, NT * KB * 32, codes));
      CHECK(pal_device_write_region(r.dev, PAL_TILE_REGION_WMEM_SCALES, pe, 0, NT * KB, scales));
    }
    c_w = cyc(&r) - c, c = cyc(&r);
    uint8_t *acodes = malloc(M * KB * 32), *ascales = malloc(M * KB);
    fill(acodes, M * KB * 32, 99);
    for (uint32_t b = 0; b < M * KB; b++) ascales[b] = (uint8_t)(122 + b % 6);
    CHECK(pal_device_write_region(r.dev, PAL_TILE_REGION_ABUF_CODES, 0, 0, M * KB * 32, acodes));
    CHECK(pal_device_write_region(r.dev, PAL_TILE_REGION_ABUF_SCALES, 0, 0, M * KB, ascales));
    c_a = cyc(&r) - c, c = cyc(&r);
    /* bias and one program per 16-row chunk (GEMM, POST FP32, END) */
    uint32_t bias[256];
    for (uint32_t i = 0; i < N; i++) bias[i] = 0x3C000000u + i;
    CHECK(pal_device_write_region(r.dev, PAL_TILE_REGION_BIAS, 0, 0, N, bias));
    uint32_t prog[4 * 12];
    for (uint32_t k = 0; k < M / MC; k++) {
      pal_isa_instr_t g, p, e;
      pal_isa_instr_initialize(&g, PAL_ISA_OP_GEMM);
      g.init = PAL_ISA_INIT_BIAS, g.n_tiles = NT, g.a_stride = KB, g.a_base = k * MC * KB;
      g.k_blocks = KB, g.m_count = MC, g.acc_base = 0, g.w_base = 0, g.bias_base = 0;
      pal_isa_instr_initialize(&p, PAL_ISA_OP_POST);
      p.out_fmt = PAL_ISA_OUT_FP32, p.act = PAL_ISA_ACT_NONE, p.n_count = N;
      p.acc_base = 0, p.m_count = MC, p.out_stride = N, p.out_base = 0;
      pal_isa_instr_initialize(&e, PAL_ISA_OP_END);
      CHECK(pal_isa_encode(&g, prog + 12 * k));
      CHECK(pal_isa_encode(&p, prog + 12 * k + 4));
      CHECK(pal_isa_encode(&e, prog + 12 * k + 8));
    }
    CHECK(pal_device_load_program(r.dev, 0, prog, 4 * 12));
    c_p = cyc(&r) - c, c = cyc(&r);
    uint32_t *out = malloc(M * N * sizeof *out);
    for (uint32_t k = 0; k < M / MC; k++) {
      pal_tile_status_t st;
      CHECK(pal_device_reset(r.dev));
      CHECK(pal_device_run(r.dev, 3 * k, 60000, &st));
      if (!st.done || st.error) {
        fprintf(stderr, "bench_soc: kernel %u stopped with %s\n", k, pal_tile_error_name(st.error));
        return 1;
      }
      pal_tile_counters_t ctr;
      CHECK(pal_device_read_counters(r.dev, &ctr));
      tile_cycles += ctr.value[PAL_TILE_CTR_CYC_TOTAL];
      c_run += cyc(&r) - c, c = cyc(&r);
      CHECK(pal_device_read_region(r.dev, PAL_TILE_REGION_OBUF, 0, 0, MC * N, out + k * MC * N));
      c_out += cyc(&r) - c, c = cyc(&r);
    }
    double cpu = cpu_now() - t0, wall = bench_now() - w0;
    uint64_t total = c_w + c_a + c_p + c_run + c_out;
    struct {
      const char *metric;
      double v;
      const char *unit;
    } rows[] = {
        {"gemm_cycles_weights", (double)c_w, "cycles"},
        {"gemm_cycles_activations", (double)c_a, "cycles"},
        {"gemm_cycles_program_bias", (double)c_p, "cycles"},
        {"gemm_cycles_kernels_end_to_end", (double)c_run, "cycles"},
        {"gemm_cycles_tile_compute", (double)tile_cycles, "cycles"},
        {"gemm_cycles_outputs", (double)c_out, "cycles"},
        {"gemm_cycles_total", (double)total, "cycles"},
        {"gemm_link_share", (double)(total - tile_cycles) / (double)total, "ratio"},
        {"gemm_cpu_seconds", cpu, "s"},
        {"gemm_wall_seconds", wall, "s"},
        {"soc_cycles_per_second_gemm", (double)total / cpu, "cycles/cpu_s"},
    };
    const char *params = "\"rows\": 4, \"cols\": 4, \"M\": 64, \"N\": 256, \"K\": 256, "
                         "\"kernels\": 4, \"attach\": \"fifo\", \"max_payload\": 4096";
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
      printf("%-44s %14.4g  %s\n", rows[i].metric, rows[i].v, rows[i].unit);
      bench_json_result(&j, rows[i].metric, rows[i].v, rows[i].unit, params, NULL, 0);
    }
    free(codes), free(scales), free(acodes), free(ascales), free(out);
    rig_close(&r);
  }
  if (json) {
    bench_json_close(&j);
    printf("wrote %s\n", json);
  }
  return 0;
}
