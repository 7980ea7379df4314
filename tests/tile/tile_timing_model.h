/* The timing contract of docs/isa.md §4 transcribed from the text, not
 * from the emulator, for the emulator's timing test
 * (tests/tile/test_tile_timing.c) and the RTL's (tests/sim/test_sim_basic.c):
 * the counters a GEMM must give, computed from the test's own operands, and
 * a check of a device's counters (and the identities between them) against
 * them. */
#ifndef TILE_TIMING_MODEL_H
#define TILE_TIMING_MODEL_H

#include "tile_test_util.h"

typedef struct model {
  uint64_t total, busy, stall, macs, gated, act_skipped, blocks_skipped;
} model_t;

typedef struct handoffs {
  uint64_t time, units_free, stalled, h;
} handoffs_t;

static inline void handoff(handoffs_t *s, uint64_t steps) {
  s->time += steps;                                    /* time += steps(h) */
  uint64_t begin = s->time > s->units_free ? s->time : s->units_free; /* max(time, units_free) */
  s->stalled += begin - s->time;
  s->time = begin;
  s->units_free = begin + s->h;
}

/* A (M x K) at ABUF as laid out by tt_write_act, W (N x K) over nt tiles. */
static inline void model_gemm(const pal_b32_matrix_t *A, const pal_b32_matrix_t *W, uint32_t P, uint32_t H,
                       model_t *md) {
  size_t kb = A->kblocks, nt = (W->rows + P - 1) / P;
  handoffs_t s = {0, 0, 0, H};
  for (size_t t = 0; t < nt; t++)
    for (size_t m = 0; m < A->rows; m++) {
      for (size_t k = 0; k < kb; k++) {
        const uint8_t *a = A->codes + (m * kb + k) * 32;
        unsigned nnz = 0;
        for (int i = 0; i < 32; i++) nnz += a[i] != 0;
        bool nar_w = false;
        for (uint32_t p = 0; p < P; p++) {
          size_t n = t * P + p;
          if (n >= W->rows) continue; /* padding columns hold zero weights */
          const uint8_t *w = W->codes + (n * kb + k) * 32;
          nar_w |= W->scales[n * kb + k] == PAL_SCALE_NAR;
          for (int i = 0; i < 32; i++) nar_w |= w[i] == PAL_CODE8_NAR;
        }
        bool visit = nnz > 0 || A->scales[m * kb + k] == PAL_SCALE_NAR || nar_w;
        if (!visit) {
          md->blocks_skipped++;
          continue;
        }
        unsigned steps = nnz ? nnz : 1;
        md->busy += steps;
        md->macs += (uint64_t)steps * P;
        md->act_skipped += 32 - nnz;
        if (!nnz) {
          md->gated += P;
        } else {
          for (uint32_t p = 0; p < P; p++) {
            size_t n = t * P + p;
            for (int i = 0; i < 32; i++)
              if (a[i] && (n >= W->rows || W->codes[(n * kb + k) * 32 + i] == 0)) md->gated++;
          }
        }
        handoff(&s, steps);
      }
      handoff(&s, 0); /* row end */
    }
  uint64_t end = (s.time > s.units_free ? s.time : s.units_free) + 3;
  md->total += 1 + 2 + end;
  md->stall += s.stalled;
}

static inline void check_counters(uint64_t seed, pal_tile_device_t *dev, const model_t *md, const char *label) {
  pal_tile_counters_t c = tt_counters(seed, dev);
  const uint64_t *v = c.value;
  uint32_t P = pal_tile_config_pes(&dev->config);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_CYC_TOTAL] == md->total, "%s: CYC_TOTAL %llu, model %llu", label,
                 (unsigned long long)v[PAL_TILE_CTR_CYC_TOTAL], (unsigned long long)md->total);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_CYC_BUSY] == md->busy, "%s: CYC_BUSY %llu, model %llu", label,
                 (unsigned long long)v[PAL_TILE_CTR_CYC_BUSY], (unsigned long long)md->busy);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_CYC_STALL] == md->stall, "%s: CYC_STALL %llu, model %llu", label,
                 (unsigned long long)v[PAL_TILE_CTR_CYC_STALL], (unsigned long long)md->stall);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_MACS_ISSUED] == md->macs, "%s: MACS_ISSUED", label);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_MACS_GATED] == md->gated, "%s: MACS_GATED %llu, model %llu",
                 label, (unsigned long long)v[PAL_TILE_CTR_MACS_GATED], (unsigned long long)md->gated);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_ACT_SKIPPED] == md->act_skipped, "%s: ACT_SKIPPED", label);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_BLOCKS_SKIPPED] == md->blocks_skipped, "%s: BLOCKS_SKIPPED", label);
  /* identities */
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_CYC_TOTAL] == v[PAL_TILE_CTR_CYC_BUSY] + v[PAL_TILE_CTR_CYC_STALL] + v[PAL_TILE_CTR_CYC_IDLE],
                 "%s: TOTAL != BUSY + STALL + IDLE", label);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_MACS_ISSUED] == (uint64_t)P * v[PAL_TILE_CTR_CYC_BUSY],
                 "%s: MACS_ISSUED != P * BUSY", label);
  PAL_TEST_CHECK(seed, v[PAL_TILE_CTR_MACS_GATED] <= v[PAL_TILE_CTR_MACS_ISSUED], "%s: gated > issued", label);
}

#endif /* TILE_TIMING_MODEL_H */
