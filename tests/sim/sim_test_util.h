/* Helpers of the differential tests (tests/sim/): an emulator and a
 * Verilated RTL tile of the same geometry driven side by side through
 * pal_tile_device_t, and the comparisons every test makes: STATUS, every
 * counter (exactly, and CYC_TOTAL within the 5 % of docs/isa.md §4 as its
 * own assertion), and memory ranges or whole-memory snapshots. Built on
 * tests/tile/tile_test_util.h. */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include "tile_test_util.h"

#include "pal/sim.h"

enum { ST_EMU = 0, ST_RTL = 1 };

typedef struct st_pair {
  pal_emu_t *emu;
  pal_sim_t *sim;
  pal_tile_device_t *dev[2]; /* [ST_EMU], [ST_RTL] */
  uint32_t P;
} st_pair_t;

/* The RTL model of that geometry (2x2 is the iCEBreaker's tile, with its
 * small buffers) and an emulator with the configuration the model reports. */
static inline void st_pair_create(uint64_t seed, uint32_t rows, uint32_t cols, st_pair_t *pair) {
  memset(pair, 0, sizeof *pair);
  pal_sim_options_t so;
  pal_sim_options_initialize(&so);
  so.rows = rows, so.cols = cols, so.seed = seed;
  TT_OK(seed, pal_sim_create(&so, &pair->sim));
  pal_tile_config_t cfg = *pal_sim_config(pair->sim);
  TT_OK(seed, pal_emu_create(&cfg, &pair->emu));
  pair->dev[ST_EMU] = pal_emu_device(pair->emu);
  pair->dev[ST_RTL] = pal_sim_device(pair->sim);
  pair->P = rows * cols;
  PAL_TEST_CHECK(seed, !memcmp(&pair->dev[0]->config, &pair->dev[1]->config, sizeof cfg),
                 "emulator and RTL disagree on the %ux%u geometry", rows, cols);
}

static inline void st_pair_destroy(st_pair_t *pair) {
  pal_emu_destroy(pair->emu);
  pal_sim_destroy(pair->sim);
  memset(pair, 0, sizeof *pair);
}

/* Same write on both tiles. */
static inline void st_write(uint64_t seed, st_pair_t *pair, pal_tile_region_t region, uint32_t pe,
                            uint64_t index, size_t count, const void *data) {
  for (int d = 0; d < 2; d++)
    TT_OK(seed, pal_tile_device_write(pair->dev[d], region, pe, index, count, data));
}

static inline void st_load_asm(uint64_t seed, st_pair_t *pair, const char *text) {
  for (int d = 0; d < 2; d++) tt_load_asm(seed, pair->dev[d], text);
}

/* Compares STATUS and every counter of the two tiles. */
static inline void st_check_same_state(uint64_t seed, st_pair_t *pair, const char *label) {
  pal_tile_status_t s[2];
  pal_tile_counters_t c[2];
  for (int d = 0; d < 2; d++) {
    TT_OK(seed, pal_tile_device_read_status(pair->dev[d], &s[d]));
    c[d] = tt_counters(seed, pair->dev[d]);
  }
  PAL_TEST_CHECK(seed,
                 s[0].busy == s[1].busy && s[0].done == s[1].done && s[0].nar == s[1].nar &&
                     s[0].error == s[1].error && s[0].err_pc == s[1].err_pc,
                 "%s: STATUS emu busy %d done %d nar %d %s@%u, rtl busy %d done %d nar %d %s@%u",
                 label, s[0].busy, s[0].done, s[0].nar, pal_tile_error_name(s[0].error),
                 s[0].err_pc, s[1].busy, s[1].done, s[1].nar, pal_tile_error_name(s[1].error),
                 s[1].err_pc);
  /* the contract: the emulator's cycle count within 5 % of the RTL's */
  double e = (double)c[0].value[PAL_TILE_CTR_CYC_TOTAL], r = (double)c[1].value[PAL_TILE_CTR_CYC_TOTAL];
  PAL_TEST_CHECK(seed, fabs(e - r) <= 0.05 * r, "%s: CYC_TOTAL emu %.0f, rtl %.0f: more than 5 %% apart",
                 label, e, r);
  /* and what the RTL is built for: every counter equal */
  for (int i = 0; i < PAL_TILE_CTR_COUNT; i++)
    PAL_TEST_CHECK(seed, c[0].value[i] == c[1].value[i], "%s: %s emu %llu, rtl %llu", label,
                   pal_tile_counter_name((uint32_t)i), (unsigned long long)c[0].value[i],
                   (unsigned long long)c[1].value[i]);
}

/* Resets counters and STATUS on both, runs from start_pc, compares status
 * and counters; returns the RTL's status. */
static inline pal_tile_status_t st_run(uint64_t seed, st_pair_t *pair, uint32_t start_pc,
                                       const char *label) {
  pal_tile_status_t st[2];
  for (int d = 0; d < 2; d++) st[d] = tt_run(seed, pair->dev[d], start_pc);
  st_check_same_state(seed, pair, label);
  return st[ST_RTL];
}

/* Compares `count` elements of a region (per PE when it is one) between
 * the two tiles. */
static inline void st_check_region(uint64_t seed, st_pair_t *pair, pal_tile_region_t region,
                                   uint32_t pe, uint64_t index, size_t count, const char *label) {
  size_t es = pal_tile_region_element_size(region);
  uint8_t *a = malloc(count * es + 1), *b = malloc(count * es + 1);
  TT_OK(seed, pal_tile_device_read(pair->dev[ST_EMU], region, pe, index, count, a));
  TT_OK(seed, pal_tile_device_read(pair->dev[ST_RTL], region, pe, index, count, b));
  for (size_t i = 0; i < count * es; i++)
    if (a[i] != b[i]) {
      PAL_TEST_FAIL(seed, "%s: %s pe %u element %llu (byte %zu): emu 0x%02x, rtl 0x%02x", label,
                    pal_tile_region_name(region), (unsigned)pe,
                    (unsigned long long)(index + i / es), i % es, a[i], b[i]);
      break;
    }
  free(a);
  free(b);
}

/* Whole-memory snapshots of the two tiles must be equal (IMEM excluded when
 * the programs differ). */
static inline void st_check_snapshots(uint64_t seed, st_pair_t *pair, bool imem, const char *label) {
  tt_snapshot_t s[2];
  for (int d = 0; d < 2; d++) tt_snapshot_take(seed, pair->dev[d], &s[d]);
  if (!imem)
    for (int d = 0; d < 2; d++)
      memset(s[d].region[PAL_TILE_REGION_IMEM], 0, s[d].bytes[PAL_TILE_REGION_IMEM]);
  char diff[200];
  PAL_TEST_CHECK(seed, !tt_snapshot_diff(&s[0], &s[1], diff, sizeof diff), "%s: emu vs rtl: %s",
                 label, diff);
  for (int d = 0; d < 2; d++) tt_snapshot_release(&s[d]);
}

/* Fills every memory but IMEM of both tiles with the same random bytes
 * (ACC NaR flags 0/1, finite ACC and BIAS values). */
static inline void st_randomize(uint64_t seed, pal_test_rng_t *rng, st_pair_t *pair) {
  const pal_tile_config_t *cfg = &pair->dev[0]->config;
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t reg = (pal_tile_region_t)r;
    if (reg == PAL_TILE_REGION_IMEM) continue;
    size_t len = (size_t)pal_tile_region_length(cfg, reg);
    size_t es = pal_tile_region_element_size(reg);
    uint8_t *buf = malloc(len * es);
    for (uint32_t pe = 0; pe < (pal_tile_region_is_per_pe(reg) ? pair->P : 1); pe++) {
      for (size_t i = 0; i < len * es; i++) buf[i] = (uint8_t)pal_test_rng_u32(rng);
      if (reg == PAL_TILE_REGION_ACC_NAR)
        for (size_t i = 0; i < len; i++) buf[i] &= 1;
      if (reg == PAL_TILE_REGION_ACC || reg == PAL_TILE_REGION_BIAS)
        for (size_t i = 0; i < len; i++) buf[4 * i + 3] &= 0x3F;
      st_write(seed, pair, reg, pe, 0, len, buf);
    }
    free(buf);
  }
}

#endif /* SIM_TEST_UTIL_H */
