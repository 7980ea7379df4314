// rtl/pal_fp32_acc.v against pal_fp32_accumulate (pal-format.md §3): one
// block sum s * 2^e added to an FP32 accumulator, bit for bit, NaR flag
// included. Inputs stay inside the unit's contract: the accumulator is never
// subnormal or NaN (pal_fp32_start and every addition flush subnormals; an
// infinite accumulator only follows an overflow, which raised NaR).
#include <deque>

#include "Vpal_fp32_acc.h"
#include "rtl_test.h"

using rtl_test::f2u;
using rtl_test::Rng;
using rtl_test::u2f;

namespace {

struct Case {
  uint32_t acc;
  bool nar;
  int32_t sum;  // 22-bit two's complement
  int exp;      // -512..511
  unsigned tag;
};

struct Expected {
  Case in;
  uint32_t acc;
  bool nar;
};

Expected reference(const Case &c) {
  bool nar = c.nar;
  float r = pal_fp32_accumulate(u2f(c.acc), c.sum, c.exp, &nar);
  return Expected{c, f2u(r), nar};
}

int lead_bit(uint32_t v) { return 31 - __builtin_clz(v); }

int32_t random_sum(Rng &rng) {
  switch (rng.below(8)) {
    case 0: return 0;
    case 1: {
      static const int32_t ends[] = {1, -1, 1 << 20, -(1 << 20), (1 << 21) - 1, -(1 << 21),
                                     (1 << 20) - 1, 3, -3, 1 << 15};
      return ends[rng.below(10)];
    }
    case 2: return rng.range(-15, 15);
    case 3: return rng.range(-(1 << 21), (1 << 21) - 1);  // the whole 22-bit range
    default: {  // what a PE produces: |s| <= 2^20, often with trailing zeros
      int32_t s = rng.range(-(1 << 20), 1 << 20);
      return s & ~((1 << rng.below(12)) - 1);
    }
  }
}

// One case, often with t placed near the accumulator: ties at half an ulp,
// cancellation, results at the subnormal boundary, overflow.
Case random_case(Rng &rng) {
  Case c;
  c.acc = rtl_test::random_acc_bits(rng);
  c.nar = rng.chance(5);
  c.sum = random_sum(rng);
  c.exp = rng.chance(90) ? rng.range(-269, 239) : rng.range(-512, 511);
  c.tag = rng.below(2);
  int ea = (int)((c.acc >> 23) & 0xFF);
  switch (rng.below(10)) {
    case 0:
    case 1:
    case 2: {  // t's leading bit a few binades around acc's (ties, cancellation)
      if (c.sum == 0 || ea == 0) break;
      int lead = lead_bit((uint32_t)std::abs(c.sum));
      c.exp = (ea - 127) - lead + rng.range(-26, 3);
      break;
    }
    case 3: {  // exact cancellation: acc = -t when t is a normal float
      double t = std::ldexp((double)c.sum, c.exp);
      if (c.sum != 0 && std::fabs(t) >= FLT_MIN && std::fabs(t) <= FLT_MAX)
        c.acc = f2u(-(float)t);
      break;
    }
    case 4: {  // acc near FLT_MIN and t of the other sign: subnormal results
      c.acc = (rng.u32() & 0x80000000u) | ((uint32_t)rng.range(1, 2) << 23) | (rng.u32() & 0x7FFFFFu);
      if (c.sum == 0) c.sum = 1;
      if ((c.sum < 0) == ((c.acc >> 31) != 0)) c.sum = c.sum == -(1 << 21) ? (1 << 21) - 1 : -c.sum;
      int lead = lead_bit((uint32_t)std::abs(c.sum));
      c.exp = -126 - lead + rng.range(-1, 1);
      break;
    }
    case 5: {  // near the top: overflow to infinity, t above FLT_MAX
      c.acc = (rng.u32() & 0x80000000u) | (254u << 23) | (rng.u32() & 0x7FFFFFu);
      if (c.sum == 0) c.sum = 1 << 20;
      int lead = lead_bit((uint32_t)std::abs(c.sum));
      c.exp = 127 - lead + rng.range(-2, 1);
      break;
    }
    case 6:  // an accumulator that already overflowed
      if (rng.chance(30)) {
        c.acc = (rng.u32() & 0x80000000u) | 0x7F800000u;
        c.nar = true;
      }
      break;
    default: break;
  }
  return c;
}

// Streams n cases; with backpressure, i_ready drops and inputs pause at
// random. Compares every result in order.
void run_stream(uint64_t seed, uint64_t salt, long n, bool backpressure) {
  Rng rng(seed ^ salt);
  rtl_test::Clocked<Vpal_fp32_acc> sim(seed);
  Vpal_fp32_acc *m = sim.m;
  m->i_valid = 0;
  m->i_ready = 1;
  sim.reset();
  std::deque<Expected> pending;
  long sent = 0, checked = 0;
  while (checked < n) {
    m->i_ready = !backpressure || rng.chance(60);
    m->i_valid = 0;
    sim.settle();
    if (m->o_valid && m->i_ready) {
      RTL_CHECK(seed, !pending.empty(), "unit produced a result nobody asked for");
      Expected e = pending.front();
      pending.pop_front();
      RTL_CHECK(seed, m->o_acc == e.acc && m->o_nar == e.nar && m->o_tag == e.in.tag,
                "acc %08x nar %d + %d * 2^%d: rtl %08x nar %d, expected %08x nar %d", e.in.acc,
                e.in.nar, e.in.sum, e.in.exp, m->o_acc, m->o_nar, e.acc, e.nar);
      checked++;
    }
    if (m->o_ready && sent < n && (!backpressure || rng.chance(80))) {
      Case c = random_case(rng);
      m->i_valid = 1;
      m->i_acc = c.acc;
      m->i_nar = c.nar;
      m->i_sum = (uint32_t)c.sum & 0x3FFFFFu;
      m->i_exp = (uint16_t)((unsigned)c.exp & 0x3FFu);
      m->i_tag = c.tag;
      pending.push_back(reference(c));
      sent++;
    }
    sim.tick();
    RTL_CHECK(seed, sim.cycles < (uint64_t)n * 20 + 100, "unit stopped producing results");
  }
}

void test_stream(void **state) {
  (void)state;
  run_stream(rtl_test::seed(), 0, 400000, false);
}

void test_stream_with_backpressure(void **state) {
  (void)state;
  run_stream(rtl_test::seed(), 0xACCu, 100000, true);
}

// Latency 4, one result per input, and the hand-written corner cases.
void test_corners(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  const float fmin = FLT_MIN;
  static const Case cases[] = {
      {f2u(0.0f), false, 3, -15, 0},              // 3 * 2^-15
      {f2u(-0.0f), false, 1, -127, 1},            // below FLT_MIN: -0 stays -0
      {f2u(-0.0f), false, 0, 0, 0},               // s = 0: -0 stays -0
      {f2u(0.0f), false, 1, -126, 0},             // exactly FLT_MIN
      {f2u(1.5f * fmin), false, -1, -126, 0},     // 1.5 - 1 = 0.5 * FLT_MIN -> +0
      {f2u(-1.5f * fmin), false, 1, -126, 0},     // -> -0
      {f2u(1.0f), false, 1, -24, 0},              // tie, round to even: 1
      {f2u(1.0f), false, 3, -24, 0},              // tie, round to even: 1 + 2^-22
      {f2u(1.0f), false, -1, -25, 0},             // 1 - 2^-25 -> 1
      {f2u(1.0f), false, -1, 0, 0},               // exact cancellation: +0
      {f2u(-1.0f), false, 1, 0, 0},               // exact cancellation: +0
      {f2u(0.0f), false, 1, 128, 0},              // t > FLT_MAX: NaR, acc kept
      {f2u(FLT_MAX), false, 1 << 20, 107, 0},     // overflow to inf: NaR
      {f2u(FLT_MAX), false, -(1 << 20), 107, 0},  // 0
      {0x7F800000u, true, 5, 0, 0},               // inf stays inf, NaR
      {0x7F800000u, false, 0, 0, 0},              // skipped block: no NaR
      {f2u(2.0f), false, -(1 << 21), -20, 0},     // s = -2^21
      {f2u(2.0f), false, (1 << 21) - 1, -269, 0}, // far below FLT_MIN
      {f2u(2.0f), false, 1, 239, 0},              // e at its top: 2^239 > FLT_MAX
      // outside the unit's contract, but the host can write them into ACC:
      // a block that is skipped or overflows leaves them bit for bit
      {0x00000001u, false, 0, 0, 1},              // subnormal, s = 0
      {0x807FFFFFu, false, 1, -200, 0},           // subnormal, t below FLT_MIN
      {0x7FC01234u, false, 0, 0, 1},              // a NaN's payload, s = 0
      {0x00400000u, false, 1, 128, 0},            // subnormal, t > FLT_MAX: NaR
  };
  rtl_test::Clocked<Vpal_fp32_acc> sim(seed);
  Vpal_fp32_acc *m = sim.m;
  m->i_valid = 0;
  m->i_ready = 1;
  sim.reset();
  for (const Case &c : cases) {
    Expected e = reference(c);
    m->i_valid = 1;
    m->i_acc = c.acc;
    m->i_nar = c.nar;
    m->i_sum = (uint32_t)c.sum & 0x3FFFFFu;
    m->i_exp = (uint16_t)((unsigned)c.exp & 0x3FFu);
    m->i_tag = c.tag;
    sim.tick();
    m->i_valid = 0;
    for (int i = 0; i < 3; i++) {
      RTL_CHECK(seed, !m->o_valid, "result before the documented latency of 4");
      sim.tick();
    }
    RTL_CHECK(seed, m->o_valid, "no result after the documented latency of 4");
    RTL_CHECK(seed, m->o_acc == e.acc && m->o_nar == e.nar && m->o_tag == c.tag,
              "acc %08x nar %d + %d * 2^%d: rtl %08x nar %d, expected %08x nar %d", c.acc, c.nar,
              c.sum, c.exp, m->o_acc, m->o_nar, e.acc, e.nar);
    sim.tick();
    RTL_CHECK(seed, !m->o_valid, "one input gave two results");
  }
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_corners),
    cmocka_unit_test(test_stream),
    cmocka_unit_test(test_stream_with_backpressure),
};

RTL_TEST_MAIN("rtl_fp32_acc", tests)
