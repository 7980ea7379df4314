// Shared helpers for the Verilator testbenches of rtl/: cmocka from C++, a
// seeded RNG whose seed is printed with every failure (replay with
// PAL_TEST_SEED=<seed>), FP32 bit helpers and a clock for a Verilated model.
#ifndef PAL_RTL_TEST_H
#define PAL_RTL_TEST_H

// cmocka needs these before its header; its 1.1 header declares no C linkage.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h>
}

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "pal/format.h"
#include "verilated.h"

namespace rtl_test {

// The run's seed: PAL_TEST_SEED from the environment, else a fixed default.
inline uint64_t seed() {
  const char *s = getenv("PAL_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 0x5EED0A11ull;
}

// splitmix64
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t s) : state(s) {}
  uint64_t u64() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t u32() { return (uint32_t)(u64() >> 32); }
  uint32_t below(uint32_t n) { return (uint32_t)(((uint64_t)u32() * n) >> 32); }
  int range(int lo, int hi) { return lo + (int)below((uint32_t)(hi - lo + 1)); }  // [lo, hi]
  bool chance(unsigned percent) { return below(100) < percent; }
};

inline uint32_t f2u(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
inline float u2f(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// A random FP32 bit pattern that is finite and normal or zero (what an
// accumulator can hold), with exponents spread over the whole range.
inline uint32_t random_acc_bits(Rng &rng) {
  switch (rng.below(8)) {
    case 0: return rng.chance(50) ? 0x00000000u : 0x80000000u;
    case 1: {  // near the ends of the normal range
      static const uint32_t ends[] = {0x00800000u, 0x00800001u, 0x00FFFFFFu, 0x7F7FFFFFu,
                                      0x7F7FFFFEu, 0x7F000000u, 0x01000000u, 0x3F800000u};
      return ends[rng.below(8)] | (rng.u32() & 0x80000000u);
    }
    default: {
      uint32_t e = 1 + rng.below(254);
      return (rng.u32() & 0x80000000u) | (e << 23) | (rng.u32() & 0x7FFFFFu);
    }
  }
}

// Clock for a Verilated model with i_clk: inputs are set before tick();
// registered outputs read after it hold the state of the next cycle.
template <class Model>
struct Clocked {
  VerilatedContext ctx;
  Model *m;
  uint64_t cycles = 0;
  explicit Clocked(uint64_t seed_value) {
    // Every register starts random (--x-initial unique): reset must clear
    // whatever matters.
    ctx.randReset(2);
    ctx.randSeed((int)(seed_value & 0x7FFFFFFF));
    m = new Model(&ctx);
    m->i_clk = 0;
    m->eval();
  }
  ~Clocked() {
    m->final();
    delete m;
  }
  Clocked(const Clocked &) = delete;
  Clocked &operator=(const Clocked &) = delete;
  // Settles combinational outputs for the inputs just set (before the edge).
  void settle() {
    m->i_clk = 0;
    m->eval();
  }
  void tick() {
    settle();
    m->i_clk = 1;
    m->eval();
    cycles++;
  }
  void reset(int n = 2) {
    m->i_rst = 1;
    for (int i = 0; i < n; i++) tick();
    m->i_rst = 0;
  }
};

}  // namespace rtl_test

// Fails the current test with a formatted message that includes the seed.
#define RTL_FAIL(seed_value, ...)                                                  \
  do {                                                                             \
    print_error("seed 0x%llx (replay with PAL_TEST_SEED=0x%llx): ",                \
                (unsigned long long)(seed_value), (unsigned long long)(seed_value)); \
    print_error(__VA_ARGS__);                                                      \
    print_error("\n");                                                             \
    fail();                                                                        \
  } while (0)

#define RTL_CHECK(seed_value, cond, ...)            \
  do {                                              \
    if (!(cond)) RTL_FAIL(seed_value, __VA_ARGS__); \
  } while (0)

// cmocka's main for a testbench: runs the group named `name`. cmocka writes
// to stdout and stderr; line buffering keeps its summary lines whole when
// both go to one pipe (scripts/run-tests.sh counts them).
#define RTL_TEST_MAIN(name, tests)                                          \
  int main(int argc, char **argv) {                                         \
    setvbuf(stdout, NULL, _IOLBF, 0);                                       \
    Verilated::commandArgs(argc, argv);                                     \
    printf("%s: seed 0x%llx\n", name, (unsigned long long)rtl_test::seed()); \
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);            \
  }

#endif  // PAL_RTL_TEST_H
