/* check_encoder: pal_code8_encode against the exact definition of
 * pal-format.md §2 (d = round(16 * (E - log2|x|)), flush d > 126, saturate
 * d < 0) for all 2^32 FP32 inputs, at seven block exponents around and away
 * from each input's own. The reference evaluates t = 16 * (E - log2|x|) per
 * input, with log2|x| = e + log2(m / 2^23) and the second term taken from a
 * table of long-double logarithms of the 2^23 significands; when t lies near
 * a rounding midpoint it decides with exact big-integer powers instead. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/format.h"
#include "pal_bigint.h"

enum { N_OFFSETS = 7 };

typedef struct worker {
  uint64_t begin, end; /* input bit patterns [begin, end) */
  uint64_t checked, mismatches, exact_fallbacks;
  pthread_t thread;
} worker_t;

static atomic_uint_fast64_t progress;
static double *log2_significand; /* [m - 2^23] = 16 * log2(m / 2^23) */

/* u = #{j : m >= 2^((2j-1)/32) * 2^23}, decided by m^32 >= 2^(2j-1+736). */
static int exact_step(uint32_t m) {
  int u = 0;
  for (unsigned j = 1; j <= 16; j++) u += pal_bigint_pow_cmp_pow2(m, 32, 2 * j - 1 + 736) >= 0;
  return u;
}

/* x is normal: |x| = 2^ex * m / 2^23. */
static uint8_t reference(float x, int e, uint64_t *fallbacks) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  int ex = (int)((b >> 23) & 0xFF) - 127;
  uint32_t m = (b & 0x7FFFFFu) | 0x800000u;
  double t = 16.0 * (e - ex) - log2_significand[m - 0x800000u];
  double fl = floor(t);
  long d;
  if (fabs(t - fl - 0.5) < 1e-9) {
    /* near a midpoint: decide exactly */
    d = 16L * (e - ex) - exact_step(m);
    (*fallbacks)++;
  } else {
    d = (long)fl + (t - fl > 0.5);
  }
  if (d > 126) return 0;
  if (d < 0) d = 0;
  return (uint8_t)((signbit(x) ? 0x80 : 0) | (127 - d));
}

static int clamp_e(int e) { return e < -127 ? -127 : e > 127 ? 127 : e; }

static void *run(void *arg) {
  worker_t *w = arg;
  for (uint64_t i = w->begin; i < w->end; i++) {
    uint32_t b = (uint32_t)i;
    float x;
    memcpy(&x, &b, sizeof x);
    int own, es[N_OFFSETS];
    int biased = (int)((b >> 23) & 0xFF);
    if (biased == 0 || biased == 255) {
      /* zero, subnormal, Inf, NaN: one answer whatever E is */
      uint8_t want = biased == 255 ? 0x80 : 0;
      for (int e = -127; e <= 127; e += 127)
        if (pal_code8_encode(x, e) != want) {
          if (w->mismatches++ < 5)
            fprintf(stderr, "mismatch: x = 0x%08x E = %d: 0x%02x, expected 0x%02x\n", b, e,
                    pal_code8_encode(x, e), want);
        }
      w->checked += 3;
    } else {
      /* own E = ceil(log2|x|) from the definition: ex, or ex + 1 unless m = 2^23 */
      own = clamp_e((biased - 127) + ((b & 0x7FFFFFu) != 0));
      es[0] = own;
      es[1] = clamp_e(own - 1);
      es[2] = clamp_e(own + 1);
      es[3] = clamp_e(own + 4);
      es[4] = clamp_e(own + 7);
      es[5] = 127;
      es[6] = -127;
      for (int k = 0; k < N_OFFSETS; k++) {
        uint8_t got = pal_code8_encode(x, es[k]);
        uint8_t want = reference(x, es[k], &w->exact_fallbacks);
        if (got != want && w->mismatches++ < 5)
          fprintf(stderr, "mismatch: x = 0x%08x (%a) E = %d: 0x%02x, expected 0x%02x\n", b,
                  (double)x, es[k], got, want);
      }
      w->checked += N_OFFSETS;
    }
    if ((i & 0xFFFFFF) == 0xFFFFFF) {
      uint64_t done = atomic_fetch_add(&progress, 1) + 1;
      if (done % 16 == 0) fprintf(stderr, "  %3.0f%%\n", 100.0 * (double)done / 256.0);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  int threads = 2;
  uint64_t limit = 1ull << 32;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = strtoull(argv[++i], NULL, 0);
    else {
      fprintf(stderr, "usage: check_encoder [--threads N] [--limit COUNT]\n");
      return 2;
    }
  }
  if (threads < 1) threads = 1;
  if (threads > 64) threads = 64;
  if (limit > (1ull << 32)) limit = 1ull << 32;
  log2_significand = malloc(sizeof(double) << 23);
  if (!log2_significand) {
    fprintf(stderr, "check_encoder: out of memory for the logarithm table\n");
    return 1;
  }
  for (uint32_t i = 0; i < (1u << 23); i++)
    log2_significand[i] = (double)(16.0L * log2l((long double)(0x800000u + i) / 0x800000));
  worker_t w[64];
  /* Interleave the slices so every thread gets a mix of exponents. */
  uint64_t chunk = (limit + (uint64_t)threads - 1) / (uint64_t)threads;
  for (int t = 0; t < threads; t++) {
    memset(&w[t], 0, sizeof w[t]);
    w[t].begin = (uint64_t)t * chunk;
    w[t].end = w[t].begin + chunk > limit ? limit : w[t].begin + chunk;
    if (pthread_create(&w[t].thread, NULL, run, &w[t])) {
      fprintf(stderr, "check_encoder: cannot start thread %d\n", t);
      return 1;
    }
  }
  uint64_t checked = 0, mismatches = 0, fallbacks = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(w[t].thread, NULL);
    checked += w[t].checked;
    mismatches += w[t].mismatches;
    fallbacks += w[t].exact_fallbacks;
  }
  printf("check_encoder: %llu inputs, %llu (input, E) pairs checked, %llu decided by exact "
         "big-integer arithmetic, %llu mismatches\n",
         (unsigned long long)limit, (unsigned long long)checked, (unsigned long long)fallbacks,
         (unsigned long long)mismatches);
  return mismatches ? 1 : 0;
}
