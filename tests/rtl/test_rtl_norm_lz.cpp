// rtl/pal_norm_lz.v, the FP32 paths' leading-zero normaliser, at its
// default width (22 bits, pal_fp32_acc's block-sum magnitude): every input,
// against a count of leading zeros and the shift it implies; 0 gives a
// count of 31 and 0. (The 28-bit instance is checked inside pal_fp32_add by
// test_rtl_fp32_add.)
#include "Vpal_norm_lz.h"
#include "rtl_test.h"

namespace {

void test_every_input(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  VerilatedContext ctx;
  Vpal_norm_lz m(&ctx);
  const unsigned W = 22;
  for (uint32_t x = 0; x < (1u << W); x++) {
    m.i_x = x;
    m.eval();
    unsigned zeros = 0;
    while (zeros < W && !(x >> (W - 1 - zeros) & 1u)) zeros++;
    uint32_t want_norm = x == 0 ? 0 : (x << zeros) & ((1u << W) - 1);
    unsigned want_zeros = x == 0 ? 31 : zeros;
    RTL_CHECK(seed, m.o_norm == want_norm && m.o_zeros == want_zeros,
              "x %06x: norm %06x zeros %u, expected %06x %u", x, m.o_norm, m.o_zeros, want_norm,
              want_zeros);
  }
  m.final();
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_input),
};

RTL_TEST_MAIN("rtl_norm_lz", tests)
