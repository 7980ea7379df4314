/* Random programs on randomized memories, RTL against the emulator: each
 * program is a few GEMM / POST / SETR / SYNC instructions with random
 * fields (mostly in range, sometimes just past a limit or with a zero
 * count, so that some programs fault part way), over whatever the previous
 * programs left in memory. After every program STATUS and every counter
 * must be equal, and every few programs every memory. On 4x4, 8x8 and the
 * iCEBreaker's 2x2 with its small buffers and no POST unit; built with
 * SIM_RANDOM_BOARD (test_sim_random_<board>, sim/sim.mk), on one ECP5
 * board's tile instead, as its bitstream builds it (the OrangeCrab's 4x4
 * with small buffers, the ULX3S's 8x8 with 64 WMEM blocks per PE), or on
 * the iCEBreaker's 2x2 without accumulate units (2x2raw: raw block sums,
 * docs/isa.md §1). */
#include "sim_test_util.h"

static uint32_t pick(pal_test_rng_t *rng, uint32_t lo, uint32_t hi) {
  return lo + pal_test_rng_below(rng, hi - lo + 1);
}

/* A GEMM that fits (with probability ~0.97) over the current geometry. */
static int gen_gemm(pal_test_rng_t *rng, const pal_tile_config_t *cfg, char *out, size_t size) {
  uint32_t P = pal_tile_config_pes(cfg);
  /* (sizes fit the buffers: the clamps change nothing at the default
   * depths, only on the iCEBreaker's small ones) */
  uint32_t kb = pick(rng, 1, cfg->wmem_blocks < 12 ? cfg->wmem_blocks : 12);
  uint32_t nt = pick(rng, 1, cfg->wmem_blocks / kb < 3 ? cfg->wmem_blocks / kb : 3);
  uint32_t m = pick(rng, 1, 6);
  uint32_t as = kb + pick(rng, 0, 2);
  if (pal_test_rng_below(rng, 8) == 0) as = pick(rng, 0, kb); /* overlapping rows */
  /* without accumulate units ACC holds k_blocks planes (docs/isa.md §1) */
  uint32_t planes = cfg->no_accu ? kb : 1;
  while (m > 1 && ((m - 1) * as + kb > cfg->abuf_blocks || m * nt * P * planes > cfg->acc_depth)) m--;
  uint32_t a = pick(rng, 0, cfg->abuf_blocks - ((m - 1) * as + kb));
  uint32_t w = pick(rng, 0, cfg->wmem_blocks - nt * kb);
  uint32_t rows = nt * P;
  uint32_t acc = pick(rng, 0, cfg->acc_depth - m * rows * planes);
  /* there, only init = 0 runs: the others (BAD_FIELD) now and then */
  uint32_t init = cfg->no_accu && pal_test_rng_below(rng, 16) ? 0 : pick(rng, 0, 2);
  uint32_t bias = init == 1 ? pick(rng, 0, cfg->bias_depth - rows) : pick(rng, 0, 100);
  switch (pal_test_rng_below(rng, 40)) {
    case 0: kb = 0; break;                          /* ZERO_LOOP */
    case 1: a = cfg->abuf_blocks - ((m - 1) * as + kb) + 1; break; /* ADDR_RANGE */
    case 2: acc = cfg->acc_depth - m * rows * planes + 1; break;
    default: break;
  }
  return snprintf(out, size, "gemm a=%u as=%u m=%u k=%u w=%u nt=%u acc=%u init=%u bias=%u\n", a, as,
                  m, kb, w, nt, acc, init, bias);
}

static int gen_post(pal_test_rng_t *rng, const pal_tile_config_t *cfg, char *out, size_t size) {
  uint32_t P = pal_tile_config_pes(cfg);
  uint32_t n = pick(rng, 1, 3 * P), m = pick(rng, 1, 5), fmt = pick(rng, 0, 1);
  uint32_t stride = (n + P - 1) / P * P;
  uint32_t acc = pick(rng, 0, cfg->acc_depth - m * stride);
  uint32_t bp = pick(rng, 0, 1), bias = bp ? pick(rng, 0, cfg->bias_depth - n) : 0;
  uint32_t os, out_base;
  if (fmt) {
    os = (n + 31) / 32 + pick(rng, 0, 2);
    out_base = pick(rng, 0, cfg->abuf_blocks - ((m - 1) * os + (n + 31) / 32));
  } else {
    os = n + pick(rng, 0, 3);
    if (pal_test_rng_below(rng, 6) == 0) os = pick(rng, 0, n); /* overlapping rows */
    out_base = pick(rng, 0, cfg->obuf_depth - ((m - 1) * os + n));
  }
  if (pal_test_rng_below(rng, 40) == 0) m = 0; /* ZERO_LOOP */
  return snprintf(out, size, "post acc=%u n=%u m=%u act=%u fmt=%u out=%u os=%u bias=%u bp=%u\n", acc,
                  n, m, pick(rng, 0, 2), fmt, out_base, os, bias, bp);
}

static void random_programs(uint32_t rows, uint32_t cols, uint64_t salt, int programs) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + salt);
  st_pair_t pair;
  st_pair_create(seed, rows, cols, &pair);
  const pal_tile_config_t *cfg = &pair.dev[0]->config;
  st_randomize(seed, &rng, &pair);
  /* sparser activations than random bytes give: zero most codes, some
   * blocks entirely, and NaR codes and scales here and there */
  uint8_t *codes = malloc((size_t)cfg->abuf_blocks * 32);
  uint8_t *scales = malloc(cfg->abuf_blocks);
  for (uint32_t b = 0; b < cfg->abuf_blocks; b++) {
    double z = pal_test_rng_uniform(&rng);
    for (int i = 0; i < 32; i++) {
      uint8_t c = (uint8_t)pal_test_rng_u32(&rng);
      codes[b * 32 + i] = pal_test_rng_uniform(&rng) < z ? 0 : (c == PAL_CODE8_NAR && b % 7) ? 0x11 : c;
    }
    scales[b] = (uint8_t)pick(&rng, 110, 140);
    if (b % 53 == 0) scales[b] = PAL_SCALE_NAR;
  }
  st_write(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, 0, (size_t)cfg->abuf_blocks * 32, codes);
  st_write(seed, &pair, PAL_TILE_REGION_ABUF_SCALES, 0, 0, cfg->abuf_blocks, scales);
  free(codes);
  free(scales);
  for (uint32_t p = 0; p < pair.P; p++) {
    uint8_t ws[256];
    for (uint32_t b = 0; b < cfg->wmem_blocks && b < 256; b++)
      ws[b] = (p + b) % 97 == 0 ? PAL_SCALE_NAR : (uint8_t)pick(&rng, 115, 135);
    st_write(seed, &pair, PAL_TILE_REGION_WMEM_SCALES, p, 0, cfg->wmem_blocks, ws);
  }
  int faults = 0;
  for (int it = 0; it < programs; it++) {
    char prog[2048];
    int len = 0, n = 1 + (int)pal_test_rng_below(&rng, 5);
    for (int i = 0; i < n; i++) {
      switch (pal_test_rng_below(&rng, 8)) {
        case 0: case 1: case 2: case 3:
          len += gen_gemm(&rng, cfg, prog + len, sizeof prog - len);
          break;
        case 4: case 5:
          /* a tile without POST stops at one with ILLEGAL_OPCODE: rarely,
           * so that its GEMMs still run */
          if (!cfg->no_post || pal_test_rng_below(&rng, 8) == 0)
            len += gen_post(&rng, cfg, prog + len, sizeof prog - len);
          else
            len += gen_gemm(&rng, cfg, prog + len, sizeof prog - len);
          break;
        case 6:
          len += snprintf(prog + len, sizeof prog - len, "setr reg=%u value=0x%08x\n",
                          pick(&rng, 0, 1), pal_test_rng_u32(&rng) & 0xBFFFFFFFu);
          break;
        default:
          len += snprintf(prog + len, sizeof prog - len, "sync\n");
          break;
      }
    }
    snprintf(prog + len, sizeof prog - len, "end\n");
    st_load_asm(seed, &pair, prog);
    char label[64];
    snprintf(label, sizeof label, "%ux%u program %d", rows, cols, it);
    pal_tile_status_t st = st_run(seed, &pair, 0, label);
    faults += st.error != 0;
    if (it % 10 == 9 || it == programs - 1 || getenv("SIM_RANDOM_EVERY")) {
      snprintf(label, sizeof label, "%ux%u program %d (the last one: see the log)", rows, cols, it);
      if (getenv("SIM_RANDOM_EVERY")) {
        printf("%s", prog);
        uint32_t x[2];
        for (int d = 0; d < 2; d++)
          TT_OK(seed, pal_tile_device_read(pair.dev[d], PAL_TILE_REGION_OBUF, 0, cfg->obuf_depth - 1, 1, &x[d]));
        printf("obuf[last]: emu %08x rtl %08x\n", x[0], x[1]);
      }
      st_check_snapshots(seed, &pair, true, label);
    }
  }
  printf("%ux%u: %d of %d programs faulted\n", rows, cols, faults, programs);
  PAL_TEST_CHECK(seed, faults > 0 && faults < programs, "%d of %d programs faulted", faults, programs);
  st_pair_destroy(&pair);
}

#ifdef SIM_RANDOM_BOARD
/* Built once per ECP5 board (sim/sim.mk: SIM_RANDOM_BOARD names it,
 * SIM_RANDOM_R / _C give its geometry), linked with that board's model
 * alone, whose depths are the board's. */
static void test_random_programs_board(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  st_pair_t pair;
  st_pair_create(seed, SIM_RANDOM_R, SIM_RANDOM_C, &pair);
  const pal_tile_config_t *cfg = &pair.dev[0]->config;
  printf("%s tile %ux%u: IMEM %u, ABUF %u blocks, WMEM %u blocks, ACC %u, BIAS %u, OBUF %u%s%s\n",
         SIM_RANDOM_BOARD, cfg->rows, cfg->cols, cfg->imem_depth, cfg->abuf_blocks,
         cfg->wmem_blocks, cfg->acc_depth, cfg->bias_depth, cfg->obuf_depth,
         cfg->no_post ? ", no POST unit" : "", cfg->no_accu ? ", no accumulate units" : "");
#ifndef SIM_RANDOM_RAW
#define SIM_RANDOM_RAW 0
#endif
  PAL_TEST_CHECK(seed, cfg->no_accu == SIM_RANDOM_RAW, "the %s model has no_accu = %u, want %d",
                 SIM_RANDOM_BOARD, cfg->no_accu, SIM_RANDOM_RAW);
  st_pair_destroy(&pair);
  /* as many programs as the 4x4 (60) and 8x8 (30) runs of the default models */
  uint32_t pes = SIM_RANDOM_R * SIM_RANDOM_C;
  random_programs(SIM_RANDOM_R, SIM_RANDOM_C, 903 + pes + 100 * SIM_RANDOM_RAW,
                  pes <= 4 ? 80 : pes <= 16 ? 60 : 30);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_programs_board),
  };
  return cmocka_run_group_tests_name("sim_random_" SIM_RANDOM_BOARD, tests, NULL, NULL);
}
#else
static void test_random_programs_4x4(void **state) {
  (void)state;
  random_programs(4, 4, 900, 60);
}
static void test_random_programs_8x8(void **state) {
  (void)state;
  random_programs(8, 8, 901, 30);
}
static void test_random_programs_2x2_board(void **state) {
  (void)state;
  random_programs(2, 2, 902, 80);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_programs_4x4),
      cmocka_unit_test(test_random_programs_8x8),
      cmocka_unit_test(test_random_programs_2x2_board),
  };
  return cmocka_run_group_tests_name("sim_random", tests, NULL, NULL);
}
#endif
