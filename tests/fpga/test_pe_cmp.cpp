// The comparison PEs of make bench-fpga (rtl/pe_cmp/) against C references,
// so that the area comparison compares working designs. Built twice: with
// PE_FP8=0 for pal_pe_int8 (INT8 x INT8 -> INT32, reference: integer dot
// product) and PE_FP8=1 for pal_pe_fp8 (E4M3 x E4M3 exact, reference: the
// E4M3 values from their definition, summed exactly in double). A sequencer
// model streams random blocks (random sparsity, zero activations skipped or
// not, flushes, bubbles, random consumer readiness) through the step bus
// while every emitted block sum is compared.
#include <deque>

#include "rtl_test.h"

#if PE_FP8
#include "Vpal_pe_fp8.h"
typedef Vpal_pe_fp8 Model;
#else
#include "Vpal_pe_int8.h"
typedef Vpal_pe_int8 Model;
#endif

using rtl_test::Rng;

namespace {

const int WDEPTH = 256;
const int BLOCK = 32;

struct Step {
  bool valid, last, flush;
  unsigned k;
  uint8_t code;
  bool end() const { return (valid && last) || flush; }
};

struct Expect {
  int64_t sum;
  bool nar;
  uint8_t scale;
};

#if PE_FP8
// E4M3 (OCP FP8) from its definition: bias 7, subnormals, S.1111.111 NaN.
bool fp8_nan(uint8_t c) { return (c & 0x7F) == 0x7F; }
double fp8_value(uint8_t c) {
  int e = (c >> 3) & 15, m = c & 7;
  double v = e ? ldexp(1.0 + m / 8.0, e - 7) : ldexp(m / 8.0, -6);
  return (c & 0x80) ? -v : v;
}
#endif

uint8_t random_code(Rng &rng, unsigned zero_percent) {
  if (rng.chance(zero_percent)) return rng.chance(50) ? 0x00 : (PE_FP8 ? 0x80 : 0x00);
  if (rng.chance(10)) {
    static const uint8_t ends[] = {0x7F, 0x80, 0xFF, 0x01, 0x81, 0x7E, 0xFE, 0x08};
    return ends[rng.below(8)];
  }
  return (uint8_t)rng.u32();
}

struct Bench {
  uint64_t seed;
  Rng rng;
  rtl_test::Clocked<Model> sim;
  Model *m;
  uint8_t w[WDEPTH];
  uint8_t scale[WDEPTH / BLOCK];
  std::deque<Step> steps;
  std::deque<Expect> expected;
  Step dp = {false, false, false, 0, 0};
  unsigned bubble_percent = 0, ready_percent = 100;
  uint64_t blocks_checked = 0, gated = 0, gated_expected = 0;

  Bench(uint64_t s) : seed(s), rng(s ^ 0xFB8Aull), sim(s), m(sim.m) {
    m->i_w_we = 0;
    m->i_step_valid = 0;
    m->i_step_last = 0;
    m->i_flush = 0;
    m->i_ready = 1;
    sim.reset();
  }

  void load_weights() {
    for (int b = 0; b < WDEPTH / BLOCK; b++) {
      static const unsigned zp[] = {0, 10, 50, 90};
      unsigned z = zp[rng.below(4)];
      scale[b] = rng.chance(10) ? 255 : (uint8_t)rng.u32();
      for (int i = 0; i < BLOCK; i++) {
        int a = b * BLOCK + i;
        w[a] = random_code(rng, z);
        m->i_w_we = 1;
        m->i_w_addr = (uint8_t)a;
        m->i_w_code = w[a];
#if PE_FP8
        m->i_w_scale = scale[b];
#endif
        sim.tick();
      }
    }
    m->i_w_we = 0;
  }

  // One activation block against weight block b: its steps and expectation.
  void queue_job(int b) {
    static const unsigned zp[] = {0, 25, 75, 100};
    unsigned z = zp[rng.below(4)];
    bool skip_zeros = rng.chance(50);
    Expect e = {0, false, PE_FP8 ? scale[b] : (uint8_t)0};
    double ref = 0;
    int n = 0;
    for (int i = 0; i < BLOCK; i++) {
      uint8_t a = random_code(rng, z);
      uint8_t wc = w[b * BLOCK + i];
      if (skip_zeros && (a & 0x7F) == 0) continue;
      steps.push_back(Step{true, false, false, (unsigned)(b * BLOCK + i), a});
      n++;
#if PE_FP8
      gated_expected += (wc & 0x7F) == 0;
      if (fp8_nan(a) || fp8_nan(wc)) e.nar = true;
      else ref += fp8_value(a) * fp8_value(wc);  // exact: < 2^41 units of 2^-18
#else
      gated_expected += wc == 0;
      e.sum += (int64_t)(int8_t)a * (int8_t)wc;
#endif
    }
#if PE_FP8
    e.sum = (int64_t)ldexp(ref, 18);
    RTL_CHECK(seed, ldexp((double)e.sum, -18) == ref, "reference sum is not a multiple of 2^-18");
    if (scale[b] == 255) e.nar = true;
#else
    e.sum = (int32_t)(uint32_t)e.sum;
#endif
    if (n) steps.back().last = true;
    else steps.push_back(Step{false, false, true, (unsigned)(b * BLOCK + rng.below(BLOCK)), 0});
    expected.push_back(e);
  }

  void cycle() {
    m->i_ready = rng.chance(ready_percent);
    if (m->o_valid && m->i_ready) {
      RTL_CHECK(seed, !expected.empty(), "PE emitted a block sum nobody asked for");
      Expect e = expected.front();
      expected.pop_front();
#if PE_FP8
      int64_t got = (int64_t)((uint64_t)m->o_sum << 22) >> 22;
      RTL_CHECK(seed, m->o_nar == e.nar && m->o_scale == e.scale,
                "block %llu: rtl nar %d scale %u, expected nar %d scale %u",
                (unsigned long long)blocks_checked, m->o_nar, m->o_scale, e.nar, e.scale);
      if (!e.nar)
        RTL_CHECK(seed, got == e.sum, "block %llu: rtl sum %lld, expected %lld",
                  (unsigned long long)blocks_checked, (long long)got, (long long)e.sum);
#else
      int64_t got = (int32_t)m->o_sum;
      RTL_CHECK(seed, got == e.sum, "block %llu: rtl sum %lld, expected %lld",
                (unsigned long long)blocks_checked, (long long)got, (long long)e.sum);
#endif
      blocks_checked++;
    }
    gated += m->o_gated;

    m->i_step_valid = dp.valid;
    m->i_step_code = dp.valid ? dp.code : (uint8_t)rng.u32();
    m->i_step_last = dp.valid ? dp.last : rng.chance(50);
    m->i_flush = dp.flush;
    Step next = {false, false, false, (unsigned)rng.below(WDEPTH), 0};
    if (!steps.empty() && !rng.chance(bubble_percent)) {
      const Step &s = steps.front();
      // o_end_ready's rule: sampled in the address phase of an end, valid
      // unless this cycle's data phase is an end itself.
      if (!s.end() || (m->o_end_ready && !dp.end())) {
        next = s;
        steps.pop_front();
      }
    }
    m->i_step_k = (uint8_t)next.k;
    sim.tick();
    dp = next;
  }

  void run(int jobs) {
    load_weights();
    for (int j = 0; j < jobs; j++) queue_job(rng.below(WDEPTH / BLOCK));
    uint64_t limit = sim.cycles + (uint64_t)jobs * 200 + 100;
    while ((!steps.empty() || !expected.empty() || dp.valid || dp.flush) && sim.cycles < limit)
      cycle();
    RTL_CHECK(seed, steps.empty() && expected.empty(),
              "%zu block sums never came out", expected.size());
    RTL_CHECK(seed, gated == gated_expected, "o_gated pulses %llu, expected %llu",
              (unsigned long long)gated, (unsigned long long)gated_expected);
  }
};

void test_back_to_back(void **state) {
  (void)state;
  Bench b(rtl_test::seed());
  b.run(400);
}

void test_bubbles_and_slow_consumer(void **state) {
  (void)state;
  Bench b(rtl_test::seed() + 1);
  b.bubble_percent = 30;
  b.ready_percent = 40;
  b.run(400);
}

}  // namespace

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_back_to_back),
      cmocka_unit_test(test_bubbles_and_slow_consumer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
