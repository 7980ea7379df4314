/* Shared helpers for the cmocka unit tests: a seeded RNG whose seed is
 * printed whenever a test fails, so any failure can be replayed with
 * PAL_TEST_SEED=<seed>. */
#ifndef PAL_TEST_H
#define PAL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

typedef struct pal_test_rng {
  uint64_t state;
} pal_test_rng_t;

/* The run's seed: PAL_TEST_SEED from the environment, else a fixed default
 * (tests are reproducible by default; set the variable to explore). */
static inline uint64_t pal_test_seed(void) {
  const char *s = getenv("PAL_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 0x5EED0A11ull;
}

static inline void pal_test_rng_init(pal_test_rng_t *rng, uint64_t seed) { rng->state = seed; }

/* splitmix64 */
static inline uint64_t pal_test_rng_u64(pal_test_rng_t *rng) {
  uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline uint32_t pal_test_rng_u32(pal_test_rng_t *rng) {
  return (uint32_t)(pal_test_rng_u64(rng) >> 32);
}
/* Uniform in [0, n). */
static inline uint32_t pal_test_rng_below(pal_test_rng_t *rng, uint32_t n) {
  return (uint32_t)(((uint64_t)pal_test_rng_u32(rng) * n) >> 32);
}
/* Uniform in [0, 1). */
static inline double pal_test_rng_uniform(pal_test_rng_t *rng) {
  return (double)(pal_test_rng_u64(rng) >> 11) * 0x1.0p-53;
}
/* Standard normal (Box-Muller). */
static inline double pal_test_rng_gauss(pal_test_rng_t *rng) {
  double u1 = pal_test_rng_uniform(rng), u2 = pal_test_rng_uniform(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Fails the current test with a formatted message that includes the seed. */
#define PAL_TEST_FAIL(seed, ...)                                                 \
  do {                                                                           \
    print_error("seed 0x%llx (replay with PAL_TEST_SEED=0x%llx): ",              \
                (unsigned long long)(seed), (unsigned long long)(seed));         \
    print_error(__VA_ARGS__);                                                    \
    print_error("\n");                                                           \
    fail();                                                                      \
  } while (0)

#define PAL_TEST_CHECK(seed, cond, ...)                   \
  do {                                                    \
    if (!(cond)) PAL_TEST_FAIL(seed, __VA_ARGS__);        \
  } while (0)

#endif /* PAL_TEST_H */
