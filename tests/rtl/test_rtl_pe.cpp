// rtl/pal_pe.v against pal_b32_block_sum (pal-format.md §3): a sequencer
// model broadcasts the non-zero activations of random blocks, one step per
// cycle, back to back across block boundaries, while the other half of the
// weight memory is rewritten; every emitted block sum, NaR flag and scale
// byte is compared with the golden model, and the perf pulses are counted.
// A K-loop check runs the PE's block sums through pal_fp32_accumulate and
// compares with pal_gemm_ref.
#include <deque>
#include <vector>

#include "Vpal_pe.h"
#include "rtl_test.h"

using rtl_test::Rng;

namespace {

const int WDEPTH = 256;  // the module's default
const int NBLOCKS = WDEPTH / PAL_B32_BLOCK;

struct Step {
  bool valid, last, flush;
  unsigned k;
  uint8_t code;
  bool end() const { return (valid && last) || flush; }
};

struct BlockResult {
  int32_t sum;
  bool nar;
  uint8_t scale;
  int block;  // for messages
};

uint8_t random_code(Rng &rng, unsigned zero_percent, unsigned nar_percent) {
  if (rng.chance(zero_percent)) return PAL_CODE8_ZERO;
  if (rng.chance(nar_percent)) return PAL_CODE8_NAR;
  if (rng.chance(10)) {
    static const uint8_t ends[] = {0x7F, 0x01, 0xFF, 0x81, 0x7E, 0x02};
    return ends[rng.below(6)];
  }
  uint8_t c;
  do c = (uint8_t)rng.u32(); while (c == PAL_CODE8_ZERO || c == PAL_CODE8_NAR);
  return c;
}

uint8_t random_scale(Rng &rng) {
  static const uint8_t ends[] = {0, 1, 127, 253, 254, 255};
  return rng.chance(30) ? ends[rng.below(6)] : (uint8_t)rng.u32();
}

// A block of weights or activations with a random sparsity style.
void random_block(Rng &rng, uint8_t codes[PAL_B32_BLOCK], bool allow_nar) {
  static const unsigned zero_percent[] = {0, 0, 25, 50, 75, 90, 97, 100};
  unsigned z = zero_percent[rng.below(8)];
  unsigned nar = allow_nar && rng.chance(15) ? 3 : 0;
  for (int i = 0; i < PAL_B32_BLOCK; i++) codes[i] = random_code(rng, z, nar);
}

// The testbench's side of the PE: a sequencer that turns activation blocks
// into steps, a weight loader, and a consumer of block sums.
struct Bench {
  uint64_t seed;
  Rng rng;
  rtl_test::Clocked<Vpal_pe> sim;
  Vpal_pe *m;
  uint8_t wcodes[WDEPTH];
  uint8_t wscales[NBLOCKS];

  std::deque<Step> steps;            // not yet presented (address phase)
  Step data_phase = {false, false, false, 0, 0};  // presented last cycle
  std::deque<BlockResult> expected;  // one per end of block issued
  std::vector<BlockResult> results;  // what the PE emitted, in order
  std::deque<std::pair<unsigned, uint16_t>> writes;  // pending {addr, scale:code}

  // knobs
  unsigned bubble_percent = 0;   // idle cycles on the step bus
  unsigned ready_percent = 100;  // consumer's i_ready, at random
  unsigned ready_period = 0;     // or: ready one cycle in ready_period
  bool exact_rule = false;       // end blocks by the exact hand-off rule
  bool check_against_expected = true;

  // The consumer's i_ready, decided 3 cycles ahead so that the sequencer
  // can apply the exact rule (as a fixed drain schedule would let it).
  std::deque<bool> ready_schedule;
  bool prev_dp_end = false;  // the data phase of the previous cycle was an end

  // counters
  uint64_t steps_done = 0, stall_cycles = 0, gated = 0, gated_expected = 0;

  Bench(uint64_t s, uint64_t salt) : seed(s), rng(s ^ salt), sim(s), m(sim.m) {
    m->i_w_we = 0;
    m->i_step_valid = 0;
    m->i_step_last = 0;
    m->i_flush = 0;
    m->i_ready = 1;
    sim.reset();
    memset(wcodes, 0, sizeof wcodes);
    memset(wscales, 0, sizeof wscales);
  }

  // Queues the writes that give block b new weights. A block with a NaR
  // code is stored with scale 255 (the PE's contract: the pair of a NaR
  // weight and a skipped zero activation is never stepped).
  static uint8_t stored_scale(const uint8_t *codes, uint8_t scale) {
    for (int i = 0; i < PAL_B32_BLOCK; i++)
      if (codes[i] == PAL_CODE8_NAR) return PAL_SCALE_NAR;
    return scale;
  }
  void queue_weight_block(int b, const uint8_t *codes, uint8_t scale) {
    uint8_t x = stored_scale(codes, scale);
    for (int i = 0; i < PAL_B32_BLOCK; i++)
      writes.emplace_back(b * PAL_B32_BLOCK + i, (uint16_t)(x << 8 | codes[i]));
  }

  // Queues the steps of one activation block against weight block b and the
  // expected result (the weights must be final by the time the steps run).
  void queue_job(int b, const uint8_t a[PAL_B32_BLOCK]) {
    int n = 0;
    for (int i = 0; i < PAL_B32_BLOCK; i++) {
      if (a[i] == PAL_CODE8_ZERO) continue;  // the sequencer skips zeros
      steps.push_back(Step{true, false, false, (unsigned)(b * PAL_B32_BLOCK + i), a[i]});
      n++;
      gated_expected += wcodes[b * PAL_B32_BLOCK + i] == PAL_CODE8_ZERO;
    }
    if (n) steps.back().last = true;
    else  // nothing to multiply: end the block with a flush
      steps.push_back(Step{false, false, true, (unsigned)(b * PAL_B32_BLOCK + rng.below(32)), 0});
    BlockResult r;
    r.nar = false;
    r.sum = pal_b32_block_sum(wcodes + b * PAL_B32_BLOCK, a, &r.nar);
    r.scale = stored_scale(wcodes + b * PAL_B32_BLOCK, wscales[b]);
    r.nar |= r.scale == PAL_SCALE_NAR;  // what pal_gemm_ref does with X = 255
    r.block = b;
    expected.push_back(r);
  }

  bool next_ready() {
    if (ready_period) return sim.cycles % ready_period == 0;
    return rng.chance(ready_percent);
  }

  // One clock cycle of the whole bench.
  void cycle() {
    while (ready_schedule.size() < 3) ready_schedule.push_back(next_ready());
    bool ready_now = ready_schedule[0], ready_next = ready_schedule[1],
         ready_after = ready_schedule[2];
    ready_schedule.pop_front();
    // The hand-off rule: an end in last cycle's data phase is written to the
    // output register at the end of this cycle, which must be free by then.
    RTL_CHECK(seed, !prev_dp_end || !m->o_valid || ready_now,
              "bench broke the hand-off rule: output register still held");
    // Consumer: takes the held block sum when it is ready.
    m->i_ready = ready_now;
    if (m->o_valid && m->i_ready) {
      BlockResult got = {(int32_t)(m->o_sum << 10) >> 10, (bool)m->o_nar, (uint8_t)m->o_scale, -1};
      if (check_against_expected) {
        RTL_CHECK(seed, !expected.empty(), "PE emitted a block sum nobody asked for");
        BlockResult e = expected.front();
        expected.pop_front();
        RTL_CHECK(seed, got.sum == e.sum && got.nar == e.nar && got.scale == e.scale,
                  "block %zu (weight block %d): rtl sum %d nar %d scale %u, expected %d nar %d "
                  "scale %u",
                  results.size(), e.block, got.sum, got.nar, got.scale, e.sum, e.nar, e.scale);
      }
      results.push_back(got);
    }
    // Perf pulses belong to the data phase of the previous cycle.
    gated += m->o_gated;

    // Step bus: data phase of last cycle's step, address phase of the next.
    Step dp = data_phase;
    m->i_step_valid = dp.valid;
    m->i_step_code = dp.valid ? dp.code : (uint8_t)rng.u32();  // ignored when idle
    m->i_step_last = dp.valid ? dp.last : rng.chance(50);
    m->i_flush = dp.flush;
    RTL_CHECK(seed, exact_rule || !dp.end() || m->o_end_ready,
              "bench presented an end while o_end_ready low");

    Step next = {false, false, false, (unsigned)rng.below(WDEPTH), 0};
    if (!steps.empty() && !rng.chance(bubble_percent)) {
      const Step &s = steps.front();
      // An end's data phase comes next cycle. Conservative: o_end_ready
      // must hold then; it stays high until an end is presented, so now is
      // enough unless this cycle's data phase is an end itself. Exact: the
      // output register is free (or taken) in the cycle after that.
      bool may_end;
      if (exact_rule) {
        bool valid_next = prev_dp_end || (m->o_valid && !ready_now);
        bool valid_after = dp.end() || (valid_next && !ready_next);
        may_end = !valid_after || ready_after;
      } else {
        may_end = m->o_end_ready && !dp.end();
      }
      if (!s.end() || may_end) {
        next = s;
        steps.pop_front();
      } else {
        stall_cycles++;
      }
    }
    m->i_step_k = next.k;
    data_phase = next;
    prev_dp_end = dp.end();
    if (dp.valid) steps_done++;

    // Weight loader: one word per cycle when it has something to write.
    m->i_w_we = 0;
    if (!writes.empty() && rng.chance(60)) {
      m->i_w_we = 1;
      m->i_w_addr = writes.front().first;
      m->i_w_code = writes.front().second & 0xFF;
      m->i_w_scale = writes.front().second >> 8;
      writes.pop_front();
    }
    sim.tick();
  }

  bool busy() const { return !steps.empty() || data_phase.valid || data_phase.flush; }

  // Runs until every step is presented and every expected result came out.
  void drain() {
    uint64_t limit = sim.cycles + 100000;
    while (busy() || !writes.empty() || (check_against_expected && !expected.empty())) {
      cycle();
      RTL_CHECK(seed, sim.cycles < limit, "PE stopped emitting block sums");
    }
    for (int i = 0; i < 8; i++) cycle();  // nothing more may come out
    RTL_CHECK(seed, !check_against_expected || expected.empty(), "block sums missing");
  }

  // Loads the whole weight memory with random blocks (and the host copy).
  void load_all_weights() {
    for (int b = 0; b < NBLOCKS; b++) {
      random_block(rng, wcodes + b * PAL_B32_BLOCK, true);
      wscales[b] = random_scale(rng);
      queue_weight_block(b, wcodes + b * PAL_B32_BLOCK, wscales[b]);
    }
    drain();
  }
};

// Phases of random jobs on one half of the weight memory while the other
// half gets new weights through the write port, as weights stream through.
void run_phases(uint64_t seed, uint64_t salt, int phases, int jobs_per_phase, unsigned bubbles,
                unsigned ready, bool exact_rule) {
  Bench bench(seed, salt);
  Rng &rng = bench.rng;
  bench.load_all_weights();
  bench.bubble_percent = bubbles;
  bench.ready_percent = ready;
  bench.exact_rule = exact_rule;
  const int half = NBLOCKS / 2;
  for (int p = 0; p < phases; p++) {
    int active = (p % 2) * half, other = half - active;
    uint8_t next_codes[NBLOCKS / 2][PAL_B32_BLOCK];
    uint8_t next_scales[NBLOCKS / 2];
    for (int b = 0; b < half; b++) {
      random_block(rng, next_codes[b], true);
      next_scales[b] = random_scale(rng);
      bench.queue_weight_block(other + b, next_codes[b], next_scales[b]);
    }
    for (int j = 0; j < jobs_per_phase; j++) {
      uint8_t a[PAL_B32_BLOCK];
      random_block(rng, a, true);
      if (rng.chance(5)) {  // NaR activation against a zero weight is NaR
        int b = active + (int)rng.below(half), i = (int)rng.below(32);
        bench.drain();  // earlier jobs have read the old word
        bench.wcodes[b * 32 + i] = PAL_CODE8_ZERO;
        bench.queue_weight_block(b, bench.wcodes + b * 32, bench.wscales[b]);
        bench.drain();  // the write lands before this job's steps
        a[i] = PAL_CODE8_NAR;
        bench.queue_job(b, a);
        continue;
      }
      bench.queue_job(active + (int)rng.below(half), a);
    }
    bench.drain();
    for (int b = 0; b < half; b++) {
      memcpy(bench.wcodes + (other + b) * PAL_B32_BLOCK, next_codes[b], PAL_B32_BLOCK);
      bench.wscales[other + b] = next_scales[b];
    }
  }
  RTL_CHECK(seed, bench.gated == bench.gated_expected, "%llu gated pulses, expected %llu",
            (unsigned long long)bench.gated, (unsigned long long)bench.gated_expected);
}

void test_random_blocks(void **state) {
  (void)state;
  run_phases(rtl_test::seed(), 0, 40, 300, 0, 100, false);
}

void test_random_blocks_bubbles_backpressure(void **state) {
  (void)state;
  run_phases(rtl_test::seed(), 0xBB, 20, 300, 20, 50, false);
}

// The same with ends placed by the exact hand-off rule: the output register
// is reloaded in the very cycle it is taken.
void test_random_blocks_exact_rule(void **state) {
  (void)state;
  run_phases(rtl_test::seed(), 0xE1, 20, 300, 10, 50, true);
}

// One step every cycle across block boundaries: with blocks of 4 or more
// steps and a consumer that is always ready, no cycle is lost.
void test_back_to_back(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  Bench bench(seed, 0xB2B);
  Rng &rng = bench.rng;
  bench.load_all_weights();
  for (int j = 0; j < 3000; j++) {
    uint8_t a[PAL_B32_BLOCK];
    memset(a, 0, sizeof a);
    int n = rng.chance(30) ? rng.range(4, 6) : rng.range(4, 32);
    for (int i = 0; i < n; i++) a[rng.below(32)] = random_code(rng, 0, 1);
    int nonzero = 0;
    for (int i = 0; i < 32; i++) nonzero += a[i] != 0;
    for (int i = 0; nonzero < 4; i++)
      if (a[i] == 0) a[i] = 0x7F, nonzero++;
    bench.queue_job((int)rng.below(NBLOCKS), a);
  }
  uint64_t start = bench.sim.cycles, steps = bench.steps.size();
  while (bench.busy()) bench.cycle();
  uint64_t used = bench.sim.cycles - start;
  bench.drain();
  RTL_CHECK(seed, bench.stall_cycles == 0, "%llu stall cycles in %llu steps",
            (unsigned long long)bench.stall_cycles, (unsigned long long)steps);
  // One cycle more than the steps: the last step's data phase.
  RTL_CHECK(seed, used == steps + 1, "%llu steps took %llu cycles", (unsigned long long)steps,
            (unsigned long long)used);
  printf("back to back: %llu steps in %llu cycles\n", (unsigned long long)steps,
         (unsigned long long)used);
}

// A consumer that takes one PE's sum every 4 cycles, like an FP32 unit
// shared by 4 PEs: by the exact rule, blocks of 4 or more steps still run
// back to back, and blocks of one step end every cycle when it takes every
// cycle.
void test_shared_unit_schedule(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  for (int period = 1; period <= 4; period *= 4) {
    Bench bench(seed, 0x5C + (uint64_t)period);
    Rng &rng = bench.rng;
    bench.load_all_weights();
    bench.exact_rule = true;
    bench.ready_period = (unsigned)period;
    for (int j = 0; j < 2000; j++) {
      uint8_t a[PAL_B32_BLOCK];
      memset(a, 0, sizeof a);
      for (int i = 0; i < period; i++) a[(j + 7 * i) % 32] = random_code(rng, 0, 1);
      if (rng.chance(50)) a[rng.below(32)] = random_code(rng, 0, 1);
      bench.queue_job((int)rng.below(NBLOCKS), a);
    }
    uint64_t steps = bench.steps.size();
    while (bench.busy()) bench.cycle();
    bench.drain();
    RTL_CHECK(seed, bench.stall_cycles == 0, "consumer every %d cycles: %llu stalls in %llu steps",
              period, (unsigned long long)bench.stall_cycles, (unsigned long long)steps);
  }
}

// Blocks of one step or none (flush) back to back: ends wait for the output
// slot, results stay right.
void test_short_blocks(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  Bench bench(seed, 0x5B);
  Rng &rng = bench.rng;
  bench.load_all_weights();
  bench.ready_percent = 70;
  for (int j = 0; j < 3000; j++) {
    uint8_t a[PAL_B32_BLOCK];
    memset(a, 0, sizeof a);
    int n = (int)rng.below(3);
    for (int i = 0; i < n; i++) a[rng.below(32)] = random_code(rng, 0, 5);
    bench.queue_job((int)rng.below(NBLOCKS), a);
  }
  bench.drain();
}

// The K loop of §3 on the PE's block sums: out = pal_fp32_accumulate over
// the blocks, from the bias, equals pal_gemm_ref for a 1 x 1 output.
void test_k_loop_against_gemm_ref(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  Bench bench(seed, 0x6E);
  Rng &rng = bench.rng;
  const size_t K = WDEPTH;
  pal_b32_matrix_t a, w;
  assert_true(pal_b32_matrix_create(1, K, &a) == PAL_STATUS_OK);
  assert_true(pal_b32_matrix_create(1, K, &w) == PAL_STATUS_OK);
  std::vector<float> xa(K), xw(K);
  for (int trial = 0; trial < 150; trial++) {
    // Gaussian data, ReLU'd activations, a few blocks scaled far apart.
    for (size_t k = 0; k < K; k++) {
      double g = 0;
      for (int i = 0; i < 12; i++) g += (double)rng.u32() / 4294967296.0;
      xa[k] = (float)(g - 6.0);
      if (xa[k] < 0 && rng.chance(80)) xa[k] = 0;
      xw[k] = (float)((double)(int32_t)rng.u32() / 2147483648.0);
    }
    for (size_t b = 0; b < K / 32; b++) {
      float s = std::ldexp(1.0f, rng.range(-40, 40));
      for (size_t i = 0; i < 32; i++) xw[b * 32 + i] *= s;
    }
    if (rng.chance(20)) xa[rng.below(K)] = NAN;
    pal_b32_matrix_encode(xa.data(), K, &a);
    pal_b32_matrix_encode(xw.data(), K, &w);
    float bias = (float)rng.range(-3, 3);
    pal_epilogue_t epi;
    pal_epilogue_initialize(&epi);
    epi.bias = &bias;
    float ref;
    size_t ref_nar = pal_gemm_ref(&a, &w, &epi, &ref, 1);

    for (size_t b = 0; b < K / 32; b++) {
      memcpy(bench.wcodes + b * 32, w.codes + b * 32, 32);
      bench.wscales[b] = w.scales[b];
      bench.queue_weight_block((int)b, w.codes + b * 32, w.scales[b]);
    }
    bench.drain();
    bench.results.clear();
    for (size_t b = 0; b < K / 32; b++) bench.queue_job((int)b, a.codes + b * 32);
    bench.drain();
    assert_int_equal(bench.results.size(), K / 32);

    bool nar = false;
    float acc = pal_fp32_start(bias, &nar);
    for (size_t b = 0; b < K / 32; b++) {
      const BlockResult &r = bench.results[b];
      if (r.scale == PAL_SCALE_NAR || a.scales[b] == PAL_SCALE_NAR) {
        nar = true;
        continue;
      }
      nar |= r.nar;
      acc = pal_fp32_accumulate(acc, r.sum, (int)r.scale + (int)a.scales[b] - 269, &nar);
    }
    float out = pal_postprocess(acc, bias, &epi, &nar);
    RTL_CHECK(seed, (size_t)nar == ref_nar && (nar || rtl_test::f2u(out) == rtl_test::f2u(ref)),
              "trial %d: K loop on the PE's sums gives %08x nar %d, pal_gemm_ref %08x nar %zu",
              trial, rtl_test::f2u(out), nar, rtl_test::f2u(ref), ref_nar);
  }
  pal_b32_matrix_release(&a);
  pal_b32_matrix_release(&w);
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_random_blocks),
    cmocka_unit_test(test_random_blocks_bubbles_backpressure),
    cmocka_unit_test(test_random_blocks_exact_rule),
    cmocka_unit_test(test_back_to_back),
    cmocka_unit_test(test_shared_unit_schedule),
    cmocka_unit_test(test_short_blocks),
    cmocka_unit_test(test_k_loop_against_gemm_ref),
};

RTL_TEST_MAIN("rtl_pe", tests)
