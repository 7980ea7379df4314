// rtl/pal_post.v against pal_postprocess (pal-format.md §4): post-bias,
// ReLU or clip, NaR passthrough as 0x7FC00000, bit for bit, over random
// configurations. The accumulator input stays inside the unit's contract:
// never subnormal or NaN (what pal_fp32_accumulate can leave behind).
#include <deque>

#include "Vpal_post.h"
#include "rtl_test.h"

using rtl_test::f2u;
using rtl_test::Rng;
using rtl_test::u2f;

namespace {

struct Config {
  bool bias_en;
  unsigned act;  // pal_activation_t
  uint32_t lo, hi;
};

struct Case {
  uint32_t acc, bias;
  bool nar;
  unsigned tag;
};

struct Expected {
  Case in;
  uint32_t data;
  bool nar;
};

Expected reference(const Config &cfg, const Case &c) {
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  float bias = u2f(c.bias);
  if (cfg.bias_en) {
    epi.bias = &bias;
    epi.bias_mode = PAL_BIAS_POST;
  }
  epi.act = (pal_activation_t)cfg.act;
  epi.clip_lo = u2f(cfg.lo);
  epi.clip_hi = u2f(cfg.hi);
  bool nar = c.nar;
  float r = pal_postprocess(u2f(c.acc), bias, &epi, &nar);
  return Expected{c, f2u(r), nar};
}

uint32_t any_bits(Rng &rng) {
  static const uint32_t specials[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x807FFFFFu,
                                      0x00800000u, 0x3F800000u, 0x7F7FFFFFu, 0x7F800000u,
                                      0xFF800000u, 0x7FC00000u, 0xFFC00001u};
  switch (rng.below(4)) {
    case 0: return specials[rng.below(sizeof specials / sizeof specials[0])];
    case 1: return rng.u32();
    default: return rtl_test::random_acc_bits(rng);
  }
}

Config random_config(Rng &rng) {
  Config cfg;
  cfg.bias_en = rng.chance(50);
  cfg.act = rng.below(3);
  // Clip bounds: mostly ordered finite values, sometimes zeros of either
  // sign, infinities, NaN, subnormals, or lo > hi.
  float lo = (float)rng.range(-8, 0) * 0.25f, hi = (float)rng.range(0, 8) * 0.5f;
  cfg.lo = f2u(lo);
  cfg.hi = f2u(hi);
  if (rng.chance(30)) cfg.lo = any_bits(rng);
  if (rng.chance(30)) cfg.hi = any_bits(rng);
  return cfg;
}

Case random_case(Rng &rng, const Config &cfg) {
  Case c;
  c.acc = rtl_test::random_acc_bits(rng);
  if (rng.chance(30)) c.acc = f2u((float)rng.range(-40, 40) * 0.125f);  // near the clip range
  if (rng.chance(3)) c.acc = (rng.u32() & 0x80000000u) | 0x7F800000u;  // infinite
  if (rng.chance(5)) c.acc = rng.chance(50) ? cfg.lo : cfg.hi;  // on a bound
  uint32_t e = (c.acc >> 23) & 0xFF;
  if ((e == 0 && (c.acc & 0x7FFFFFu)) || (e == 0xFF && (c.acc & 0x7FFFFFu)))
    c.acc = 0x3F800000u;  // the contract: no subnormal or NaN accumulator
  // ... except without a bias, where any value the host wrote into ACC
  // passes through the adder unchanged (pal_fp32_add's i_pass)
  if (!cfg.bias_en && rng.chance(15)) {
    static const uint32_t odd[] = {0x00000001u, 0x807FFFFFu, 0x00400000u, 0x7F800001u,
                                   0xFFC00001u, 0x7FFFFFFFu};
    c.acc = rng.chance(50) ? odd[rng.below(sizeof odd / sizeof odd[0])]
                           : (rng.u32() & 0x807FFFFFu) | (rng.chance(50) ? 0x7F800000u : 0u);
  }
  c.nar = rng.chance(5);
  c.bias = rng.chance(60) ? any_bits(rng) : (c.acc ^ 0x80000000u) + rng.range(-2, 2);
  c.tag = rng.below(2);
  return c;
}

// Batches of elements under one random configuration each; the pipe drains
// between batches because the configuration is static while in flight.
void run_batches(uint64_t seed, uint64_t salt, int batches, bool backpressure) {
  Rng rng(seed ^ salt);
  rtl_test::Clocked<Vpal_post> sim(seed);
  Vpal_post *m = sim.m;
  m->i_valid = 0;
  m->i_ready = 1;
  sim.reset();
  for (int b = 0; b < batches; b++) {
    Config cfg = random_config(rng);
    m->i_bias_en = cfg.bias_en;
    m->i_act = cfg.act;
    m->i_clip_lo = cfg.lo;
    m->i_clip_hi = cfg.hi;
    int n = rng.range(1, 60);
    std::deque<Expected> pending;
    int sent = 0, checked = 0;
    uint64_t limit = sim.cycles + 100000;
    while (checked < n) {
      m->i_ready = !backpressure || rng.chance(60);
      m->i_valid = 0;
      sim.settle();
      if (m->o_valid && m->i_ready) {
        RTL_CHECK(seed, !pending.empty(), "unit produced a result nobody asked for");
        Expected e = pending.front();
        pending.pop_front();
        RTL_CHECK(seed, m->o_data == e.data && m->o_nar == e.nar && m->o_tag == e.in.tag,
                  "acc %08x nar %d bias %08x (bias_en %d act %u lo %08x hi %08x): rtl %08x nar "
                  "%d, expected %08x nar %d",
                  e.in.acc, e.in.nar, e.in.bias, cfg.bias_en, cfg.act, cfg.lo, cfg.hi, m->o_data,
                  m->o_nar, e.data, e.nar);
        checked++;
      }
      if (m->o_ready && sent < n && (!backpressure || rng.chance(80))) {
        Case c = random_case(rng, cfg);
        m->i_valid = 1;
        m->i_acc = c.acc;
        m->i_nar = c.nar;
        m->i_bias = c.bias;
        m->i_tag = c.tag;
        pending.push_back(reference(cfg, c));
        sent++;
      }
      sim.tick();
      RTL_CHECK(seed, sim.cycles < limit, "unit stopped producing results");
    }
  }
}

void test_random_configs(void **state) {
  (void)state;
  run_batches(rtl_test::seed(), 0, 8000, false);
}

void test_random_configs_with_backpressure(void **state) {
  (void)state;
  run_batches(rtl_test::seed(), 0xB0, 2000, true);
}

// Hand-picked cases of pal_postprocess, with the latency of 4.
void test_corners(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  struct Row {
    Config cfg;
    Case c;
  };
  const uint32_t one = f2u(1.0f), mone = f2u(-1.0f), two = f2u(2.0f);
  static const Row rows[] = {
      {{false, PAL_ACT_RELU, 0, 0}, {0x80000000u, 0, false, 0}},    // ReLU(-0) = +0
      {{false, PAL_ACT_RELU, 0, 0}, {mone, 0, false, 1}},           // ReLU(-1) = +0
      {{false, PAL_ACT_RELU, 0, 0}, {0x7F800000u, 0, false, 0}},    // ReLU(inf) = inf
      {{false, PAL_ACT_NONE, 0, 0}, {one, 0, true, 0}},             // NaR passes as NaN
      {{true, PAL_ACT_NONE, 0, 0}, {one, 0x7FC00000u, false, 0}},   // NaN bias: NaR
      {{true, PAL_ACT_NONE, 0, 0}, {one, 0x7F800000u, false, 0}},   // inf bias: NaR
      {{true, PAL_ACT_NONE, 0, 0}, {0x00800000u, 0x807FFFFFu, false, 0}},  // subnormal bias
      {{true, PAL_ACT_NONE, 0, 0}, {0x00800000u, 0x80800000u, false, 0}},  // x - x = +0
      {{true, PAL_ACT_NONE, 0, 0}, {0x00800001u, 0x80800000u, false, 0}},  // subnormal: +0
      {{true, PAL_ACT_NONE, 0, 0}, {0x80800001u, 0x00800000u, false, 0}},  // subnormal: -0
      {{true, PAL_ACT_NONE, 0, 0}, {0x7F7FFFFFu, 0x7F7FFFFFu, false, 0}},  // overflow: NaR
      {{true, PAL_ACT_RELU, 0, 0}, {one, mone, false, 0}},          // 1 - 1 -> +0
      {{true, PAL_ACT_NONE, 0, 0}, {0x80000000u, 0x80000000u, false, 0}},  // -0 + -0 = -0
      {{false, PAL_ACT_CLIP, mone, one}, {two, 0, false, 0}},       // clip high
      {{false, PAL_ACT_CLIP, mone, one}, {0xC0000000u, 0, false, 0}},  // clip low
      {{false, PAL_ACT_CLIP, 0x80000000u, one}, {0x00000000u, 0, false, 0}},  // +0 vs lo -0
      {{false, PAL_ACT_CLIP, 0x00000000u, one}, {0x80000000u, 0, false, 0}},  // -0 vs lo +0
      {{false, PAL_ACT_CLIP, two, one}, {0, 0, false, 0}},          // lo > hi: hi wins
      {{false, PAL_ACT_CLIP, 0x7FC00000u, 0x7FC00000u}, {two, 0, false, 0}},  // NaN bounds
      {{false, PAL_ACT_CLIP, 0xFF800000u, 0x7F800000u}, {0xFF800000u, 0, false, 0}},
  };
  rtl_test::Clocked<Vpal_post> sim(seed);
  Vpal_post *m = sim.m;
  m->i_valid = 0;
  m->i_ready = 1;
  sim.reset();
  for (const Row &row : rows) {
    Expected e = reference(row.cfg, row.c);
    m->i_bias_en = row.cfg.bias_en;
    m->i_act = row.cfg.act;
    m->i_clip_lo = row.cfg.lo;
    m->i_clip_hi = row.cfg.hi;
    m->i_valid = 1;
    m->i_acc = row.c.acc;
    m->i_nar = row.c.nar;
    m->i_bias = row.c.bias;
    m->i_tag = row.c.tag;
    sim.tick();
    m->i_valid = 0;
    for (int i = 0; i < 3; i++) {
      RTL_CHECK(seed, !m->o_valid, "result before the documented latency of 4");
      sim.tick();
    }
    RTL_CHECK(seed, m->o_valid, "no result after the documented latency of 4");
    RTL_CHECK(seed, m->o_data == e.data && m->o_nar == e.nar && m->o_tag == row.c.tag,
              "acc %08x nar %d bias %08x: rtl %08x nar %d, expected %08x nar %d", row.c.acc,
              row.c.nar, row.c.bias, m->o_data, m->o_nar, e.data, e.nar);
    sim.tick();
    RTL_CHECK(seed, !m->o_valid, "one input gave two results");
  }
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_corners),
    cmocka_unit_test(test_random_configs),
    cmocka_unit_test(test_random_configs_with_backpressure),
};

RTL_TEST_MAIN("rtl_post", tests)
