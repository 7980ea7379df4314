// rtl/pal_fp32_start.v against pal_fp32_start (pal-format.md §3): the
// accumulator's start value from a bias, over every special class and a
// million random bit patterns.
#include "Vpal_fp32_start.h"
#include "rtl_test.h"

using rtl_test::f2u;
using rtl_test::Rng;
using rtl_test::u2f;

namespace {

void check_one(uint64_t seed, Vpal_fp32_start *m, uint32_t bias) {
  m->i_bias = bias;
  m->eval();
  bool nar = false;
  uint32_t want = f2u(pal_fp32_start(u2f(bias), &nar));
  RTL_CHECK(seed, m->o_value == want && m->o_nar == nar,
            "bias %08x: rtl %08x nar %d, expected %08x nar %d", bias, m->o_value, m->o_nar, want,
            nar);
}

void test_start_values(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  Rng rng(seed);
  VerilatedContext ctx;
  Vpal_fp32_start m(&ctx);
  // Every exponent with the extreme and a random significand, both signs.
  for (uint32_t e = 0; e < 256; e++)
    for (uint32_t s = 0; s < 2; s++) {
      uint32_t base = s << 31 | e << 23;
      check_one(seed, &m, base);
      check_one(seed, &m, base | 1u);
      check_one(seed, &m, base | 0x7FFFFFu);
      check_one(seed, &m, base | 0x400000u);
      check_one(seed, &m, base | (rng.u32() & 0x7FFFFFu));
    }
  for (int i = 0; i < 1000000; i++) check_one(seed, &m, rng.u32());
  m.final();
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_start_values),
};

RTL_TEST_MAIN("rtl_fp32_start", tests)
