// rtl/pal_pe_prod.v, the product of one PAL8 step, against the element rule
// of pal_b32_block_sum (pal-format.md §3): every weight code against every
// activation code, with and without a step. The RTL gives the one's
// complement of a negative term and its +1 apart; their sum must be the
// golden model's signed product, 0 where a NaR or zero code adds nothing.
#include "Vpal_pe_prod.h"
#include "rtl_test.h"

namespace {

void test_every_code_pair(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  VerilatedContext ctx;
  Vpal_pe_prod m(&ctx);
  for (unsigned valid = 0; valid < 2; valid++)
    for (unsigned w = 0; w < 256; w++)
      for (unsigned a = 0; a < 256; a++) {
        m.i_valid = valid;
        m.i_wcode = w;
        m.i_acode = a;
        m.eval();
        bool nar = valid && (w == PAL_CODE8_NAR || a == PAL_CODE8_NAR);
        bool gated = valid && w == PAL_CODE8_ZERO;
        bool mac = valid && !nar && w != PAL_CODE8_ZERO && a != PAL_CODE8_ZERO;
        int32_t want = 0;
        if (mac) {
          unsigned dist = (127u - (w & PAL_CODE8_MAG_MASK)) + (127u - (a & PAL_CODE8_MAG_MASK));
          int32_t p = (int32_t)pal_product_mag(dist);
          want = ((w ^ a) & PAL_CODE8_SIGN) ? -p : p;
        }
        // o_term as a 17-bit two's-complement number, plus the carry-in
        int32_t term = (int32_t)(m.o_term << 15) >> 15;
        int32_t got = term + (int32_t)m.o_neg;
        RTL_CHECK(seed, got == want && m.o_nar == nar && m.o_gated == gated,
                  "valid %u w %02x a %02x: term %05x neg %u nar %u gated %u (= %d), "
                  "expected %d nar %d gated %d",
                  valid, w, a, m.o_term, m.o_neg, m.o_nar, m.o_gated, got, want, nar, gated);
        // the carry-in goes with the sign (a product that shifts out to 0
        // may carry either sign); a step that adds nothing gives 0 and no +1
        bool neg_ok = want > 0 ? !m.o_neg : want < 0 ? m.o_neg : true;
        RTL_CHECK(seed, neg_ok && (mac || (m.o_term == 0 && !m.o_neg)),
                  "valid %u w %02x a %02x: term %05x neg %u for %d", valid, w, a, m.o_term,
                  m.o_neg, want);
      }
  m.final();
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_code_pair),
};

RTL_TEST_MAIN("rtl_pe_prod", tests)
