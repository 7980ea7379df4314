// rtl/pal_fp32_add.v against the host's IEEE binary32 addition with the
// accumulator's rules of pal-format.md §3 (the same expression as the golden
// model's fp32_add_ftz): round to nearest even, subnormal results flushed to
// a zero of their sign, non-finite results raise NaR; and i_pass, which
// returns the first operand unchanged.
#include <deque>

#include "Vpal_fp32_add.h"
#include "rtl_test.h"

using rtl_test::f2u;
using rtl_test::Rng;
using rtl_test::u2f;

namespace {

struct Expected {
  uint32_t a, b;
  uint32_t sum;  // don't care when is_nan
  bool nar, is_nan;
};

Expected reference(uint32_t a, uint32_t b) {
  volatile float r = u2f(a) + u2f(b);  // one rounding in binary32
  float v = r;
  Expected e = {a, b, f2u(v), false, false};
  if (std::isnan(v)) {
    e.nar = e.is_nan = true;
  } else if (std::isinf(v)) {
    e.nar = true;
  } else if (std::fabs(v) < FLT_MIN) {
    e.sum = f2u(std::copysign(0.0f, v));
  }
  return e;
}

// i_pass (b a zero of either sign): the result is a itself (a subnormal,
// an infinity, a NaN's payload), with no NaR
Expected passed(uint32_t a, uint32_t b) {
  Expected e = {a, b, a, false, false};
  return e;
}

// A second operand that makes the interesting cases common: nearby
// exponents (cancellation), trailing zeros (exact ties), opposite values.
uint32_t partner(Rng &rng, uint32_t a) {
  uint32_t sign = rng.u32() & 0x80000000u;
  int ea = (int)((a >> 23) & 0xFF);
  switch (rng.below(10)) {
    case 0: return a ^ 0x80000000u;                        // x + (-x)
    case 1: return (a ^ 0x80000000u) + rng.range(-3, 3);   // near-cancellation
    case 2:
    case 3:
    case 4: {  // exponent a little or a lot below, significand with trailing zeros
      int e = ea - rng.range(0, rng.chance(50) ? 3 : 30);
      if (e < 0) e = 0;
      uint32_t frac = rng.u32() & 0x7FFFFFu & (0x7FFFFFu << rng.below(24));
      return sign | ((uint32_t)e << 23) | frac;
    }
    case 5: return sign | (a & 0x7FFFFFFFu);  // same magnitude
    default: return rtl_test::random_acc_bits(rng);
  }
}

uint32_t special_bits(Rng &rng) {
  static const uint32_t specials[] = {
      0x00000000u, 0x80000000u, 0x00000001u, 0x007FFFFFu, 0x00400000u, 0x00800000u,
      0x00800001u, 0x00FFFFFFu, 0x01000000u, 0x3F800000u, 0x3F800001u, 0x3FFFFFFFu,
      0x4B000000u, 0x7F7FFFFFu, 0x7F7FFFFEu, 0x7F000000u, 0x7F800000u, 0x7FC00000u,
      0x7F800001u, 0x33800000u, 0x34000000u};
  return specials[rng.below(sizeof specials / sizeof specials[0])] | (rng.u32() & 0x80000000u);
}

uint32_t first_operand(Rng &rng) {
  switch (rng.below(6)) {
    case 0: return special_bits(rng);
    case 1: return rng.u32();  // anything: NaN, Inf, subnormal
    default: return rtl_test::random_acc_bits(rng);
  }
}

// Streams n operand pairs through the adder; with stalls, i_en drops at
// random. Compares every result in order. `salt` varies the stream.
void run_stream(uint64_t seed, uint64_t salt, long n, bool stalls) {
  Rng rng(seed ^ salt);
  rtl_test::Clocked<Vpal_fp32_add> sim(seed);
  Vpal_fp32_add *m = sim.m;
  m->i_en = 1;
  m->i_valid = 0;
  sim.reset();
  std::deque<Expected> pending;
  long sent = 0, checked = 0;
  while (checked < n) {
    bool en = !stalls || rng.chance(70);
    m->i_en = en;
    if (en && m->o_valid) {
      RTL_CHECK(seed, !pending.empty(), "adder produced a result nobody asked for");
      Expected e = pending.front();
      pending.pop_front();
      bool ok = e.is_nan ? (m->o_nar && m->o_sum == 0x7FC00000u)
                         : (m->o_nar == e.nar && m->o_sum == e.sum);
      RTL_CHECK(seed, ok, "%08x + %08x: rtl %08x nar %d, expected %08x nar %d%s", e.a, e.b,
                m->o_sum, m->o_nar, e.sum, e.nar, e.is_nan ? " (NaN)" : "");
      RTL_CHECK(seed, m->o_side == (e.sum & 1u), "side band lost");
      checked++;
    }
    m->i_valid = 0;
    if (en && sent < n && rng.chance(stalls ? 80 : 100)) {
      uint32_t a = first_operand(rng);
      uint32_t b = rng.chance(75) ? partner(rng, a) : first_operand(rng);
      if (rng.chance(50)) std::swap(a, b);
      // i_pass (one in eight): a itself, bit for bit, beside a zero
      bool pass = rng.chance(12);
      if (pass) b = rng.u32() & 0x80000000u;
      Expected e = pass ? passed(a, b) : reference(a, b);
      m->i_valid = 1;
      m->i_a = a;
      m->i_b = b;
      m->i_pass = pass;
      m->i_side = e.sum & 1u;
      pending.push_back(e);
      sent++;
    }
    sim.tick();
    RTL_CHECK(seed, sim.cycles < (uint64_t)n * 20 + 100, "adder stopped producing results");
  }
}

void test_stream(void **state) {
  (void)state;
  run_stream(rtl_test::seed(), 0, 400000, false);
}

void test_stream_with_stalls(void **state) {
  (void)state;
  run_stream(rtl_test::seed(), 0xA11u, 100000, true);
}

// Exhaustive over a small grid of hand-picked operands: every pair.
void test_special_pairs(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  static const uint32_t vals[] = {
      0x00000000u, 0x80000000u, 0x00000001u, 0x807FFFFFu, 0x00800000u, 0x80800000u,
      0x00800001u, 0x80FFFFFFu, 0x3F800000u, 0xBF800000u, 0x3F800001u, 0x33800000u,
      0xB3800000u, 0x33800001u, 0x34000000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x7F000000u,
      0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x4B800000u, 0xCB7FFFFFu};
  const size_t nv = sizeof vals / sizeof vals[0];
  rtl_test::Clocked<Vpal_fp32_add> sim(seed);
  Vpal_fp32_add *m = sim.m;
  m->i_en = 1;
  m->i_valid = 0;
  sim.reset();
  for (size_t i = 0; i < nv; i++)
    for (size_t j = 0; j <= nv; j++) {
      // j == nv: vals[i] passed through (i_pass) beside a zero of either
      // sign, which must keep its bits
      bool pass = j == nv;
      uint32_t b = pass ? (uint32_t)(i & 1) << 31 : vals[j];
      m->i_valid = 1;
      m->i_a = vals[i];
      m->i_b = b;
      m->i_pass = pass;
      m->i_side = 0;
      sim.tick();
      m->i_valid = 0;
      for (int c = 0; c < 2; c++) sim.tick();
      RTL_CHECK(seed, m->o_valid, "latency is not 3");
      Expected e = pass ? passed(vals[i], b) : reference(vals[i], b);
      bool ok = e.is_nan ? (m->o_nar && m->o_sum == 0x7FC00000u)
                         : (m->o_nar == e.nar && m->o_sum == e.sum);
      RTL_CHECK(seed, ok, "%08x + %08x%s: rtl %08x nar %d, expected %08x nar %d", vals[i], b,
                pass ? " (pass)" : "", m->o_sum, m->o_nar, e.sum, e.nar);
      sim.tick();
      RTL_CHECK(seed, !m->o_valid, "one input gave two outputs");
    }
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_special_pairs),
    cmocka_unit_test(test_stream),
    cmocka_unit_test(test_stream_with_stalls),
};

RTL_TEST_MAIN("rtl_fp32_add", tests)
