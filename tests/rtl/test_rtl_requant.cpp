// rtl/pal_requant.v against pal_b32_encode_block (pal-format.md §2): blocks
// of up to 32 FP32 values stream in, 32 codes and the scale byte come out,
// bit for bit, over random blocks with NaN/Inf, subnormals, zeros, huge
// dynamic range (codes flushing to zero), clamped exponents and significands
// on the thresholds T_j.
#include <deque>
#include <vector>

#include "Vpal_requant.h"
#include "rtl_test.h"

using rtl_test::f2u;
using rtl_test::Rng;
using rtl_test::u2f;

namespace {

struct Block {
  std::vector<uint32_t> x;  // 1..32 values
  uint8_t codes[PAL_B32_BLOCK];
  uint8_t scale;
};

uint32_t random_value(Rng &rng, int center_exp, int spread) {
  switch (rng.below(20)) {
    case 0: return rng.chance(50) ? 0x00000000u : 0x80000000u;
    case 1: return (rng.u32() & 0x807FFFFFu) | (rng.chance(50) ? 0x7F800000u : 0u);  // NaN/Inf/sub
    case 2: {  // significand on a threshold T_j or just below it
      uint32_t t = pal_table_t8[rng.below(16)] - rng.below(2);
      int e = center_exp - (int)rng.below(3);
      if (e < 1) e = 1;
      if (e > 254) e = 254;
      return (rng.u32() & 0x80000000u) | (uint32_t)e << 23 | (t & 0x7FFFFFu);
    }
    case 3: {  // exact power of two
      int e = center_exp - (int)rng.below(10);
      if (e < 1) e = 1;
      return (rng.u32() & 0x80000000u) | (uint32_t)e << 23;
    }
    default: {
      int e = center_exp - (int)rng.below((uint32_t)spread + 1);
      if (e < 0) e = 0;
      if (e > 254) e = 254;
      return (rng.u32() & 0x80000000u) | (uint32_t)e << 23 | (rng.u32() & 0x7FFFFFu);
    }
  }
}

Block random_block(Rng &rng) {
  Block b;
  size_t n = rng.chance(75) ? PAL_B32_BLOCK : 1 + rng.below(PAL_B32_BLOCK);
  // Where the block's magnitudes sit: anywhere, often at the ends.
  int center;
  switch (rng.below(6)) {
    case 0: center = 254; break;                 // amax may clamp to X = 254
    case 1: center = rng.range(1, 10); break;    // near FLT_MIN, subnormals
    default: center = rng.range(1, 254); break;
  }
  int spread = rng.chance(50) ? 12 : 60;  // > 8 binades: codes flush to zero
  for (size_t i = 0; i < n; i++) b.x.push_back(random_value(rng, center, spread));
  if (rng.chance(5))  // all zero, or all non-finite
    for (uint32_t &v : b.x) v = rng.chance(50) ? 0u : 0x7FC00000u;
  std::vector<float> f(n);
  for (size_t i = 0; i < n; i++) f[i] = u2f(b.x[i]);
  pal_b32_encode_block(f.data(), n, b.codes, &b.scale);
  return b;
}

// Streams nblocks random blocks; bubbles and backpressure at random when
// asked. Returns the cycles taken.
uint64_t run_stream(uint64_t seed, uint64_t salt, int nblocks, unsigned bubble_percent,
                    unsigned ready_percent, bool only_full_blocks) {
  Rng rng(seed ^ salt);
  rtl_test::Clocked<Vpal_requant> sim(seed);
  Vpal_requant *m = sim.m;
  m->i_valid = 0;
  m->i_ready = 1;
  sim.reset();
  std::deque<Block> to_send, to_check;
  for (int i = 0; i < nblocks; i++) {
    Block b = random_block(rng);
    while (only_full_blocks && b.x.size() != PAL_B32_BLOCK) b = random_block(rng);
    to_send.push_back(b);
  }
  size_t in_index = 0, out_index = 0;
  uint64_t start = sim.cycles, limit = sim.cycles + (uint64_t)nblocks * 400 + 100;
  while (!to_send.empty() || !to_check.empty()) {
    m->i_ready = rng.chance(ready_percent);
    if (m->o_valid && m->i_ready) {
      RTL_CHECK(seed, !to_check.empty(), "a code nobody asked for");
      const Block &b = to_check.front();
      bool last = out_index == PAL_B32_BLOCK - 1;
      RTL_CHECK(seed,
                m->o_code == b.codes[out_index] && m->o_scale == b.scale && m->o_last == last,
                "element %zu of %zu (x = %08x): rtl code %02x scale %u last %d, expected %02x "
                "scale %u last %d",
                out_index, b.x.size(), out_index < b.x.size() ? b.x[out_index] : 0u, m->o_code,
                m->o_scale, m->o_last, b.codes[out_index], b.scale, last);
      if (++out_index == PAL_B32_BLOCK) {
        out_index = 0;
        to_check.pop_front();
      }
    }
    m->i_valid = 0;
    if (!to_send.empty() && m->o_ready && !rng.chance(bubble_percent)) {
      const Block &b = to_send.front();
      m->i_valid = 1;
      m->i_data = b.x[in_index];
      // A short block ends with i_last; a full one ends by itself, and
      // i_last on its 32nd value is optional.
      bool end = in_index + 1 == b.x.size();
      m->i_last = end && (b.x.size() < PAL_B32_BLOCK || rng.chance(50));
      if (++in_index == b.x.size()) {
        in_index = 0;
        to_check.push_back(b);
        to_send.pop_front();
      }
    } else {
      m->i_data = rng.u32();  // ignored without i_valid
      m->i_last = rng.chance(50);
    }
    sim.tick();
    RTL_CHECK(seed, sim.cycles < limit, "re-quantiser stopped producing codes");
  }
  for (int i = 0; i < 4; i++) {
    sim.tick();
    RTL_CHECK(seed, !m->o_valid, "codes after the last block");
  }
  return sim.cycles - start;
}

void test_random_blocks(void **state) {
  (void)state;
  run_stream(rtl_test::seed(), 0, 20000, 0, 100, false);
}

void test_random_blocks_bubbles_backpressure(void **state) {
  (void)state;
  run_stream(rtl_test::seed(), 0xB1, 5000, 30, 50, false);
}

// Full blocks, no bubbles, consumer always ready: one value in and one code
// out per cycle, sustained (2 cycles from the last value to its first code).
void test_throughput(void **state) {
  (void)state;
  const int nblocks = 1000;
  uint64_t cycles = run_stream(rtl_test::seed(), 0x7B, nblocks, 0, 100, true);
  // The stream ends with the last block's 32 codes after its values.
  RTL_CHECK(rtl_test::seed(), cycles <= (uint64_t)nblocks * PAL_B32_BLOCK + PAL_B32_BLOCK + 2 + 4,
            "%d blocks took %llu cycles", nblocks, (unsigned long long)cycles);
  printf("throughput: %d blocks in %llu cycles\n", nblocks, (unsigned long long)cycles);
}

}  // namespace

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_random_blocks),
    cmocka_unit_test(test_random_blocks_bubbles_backpressure),
    cmocka_unit_test(test_throughput),
};

RTL_TEST_MAIN("rtl_requant", tests)
