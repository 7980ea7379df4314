// rtl/pal_rv_mailbox.v against its documented behaviour, with seeded random
// traffic and back-pressure on both sides: every word the link side hands
// in is read exactly once, in order, by the core through STATUS/RX_DATA;
// every word the core writes while STATUS says TX_FREE comes out on the
// link side exactly once, in order; a word written while not free is
// dropped; reading RX_DATA while RX_VALID is 0 loses nothing; STATUS always
// matches a reference model of the two registers.
#include "Vpal_rv_mailbox.h"
#include "verilated.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}
#include <cstdlib>
#include <deque>
#include <vector>

static uint64_t seed() {
  const char *s = getenv("PAL_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 0x5EED0A11ull;
}

struct Rng {
  uint64_t s;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (uint32_t)(s >> 16);
  }
};

static void test_mailbox_random(void **state) {
  (void)state;
  const uint64_t sd = seed();
  Rng rng{sd | 1};
  VerilatedContext ctx;
  ctx.randReset(2);
  ctx.randSeed((int)(sd & 0x7fffffff));
  Vpal_rv_mailbox m(&ctx);
  auto tick = [&]() {
    m.i_clk = 0;
    m.eval();
    m.i_clk = 1;
    m.eval();
  };
  m.i_rst = 1;
  m.i_valid = 0;
  m.i_req_valid = 0;
  m.i_resp_ready = 0;
  tick();
  tick();
  m.i_rst = 0;

  std::deque<uint32_t> to_send, expect_rx, expect_tx;
  std::vector<uint32_t> got_rx, got_tx;
  for (int i = 0; i < 400; i++) to_send.push_back(rng.next());
  expect_rx.assign(to_send.begin(), to_send.end());
  bool model_rx = false, model_tx = false;  // registers occupied
  int dropped = 0;
  // core-side operation in flight: 0 none, 1 read STATUS, 2 read RX, 3 write TX
  int op = 0;
  uint32_t op_data = 0;
  bool rx_seen = false;
  uint32_t expect_status = 0;
  bool rx_read_valid = false;  // RX_VALID when the pending RX read was made

  for (int cyc = 0; cyc < 20000 && (got_rx.size() < expect_rx.size() || !expect_tx.empty() || model_tx);
       cyc++) {
    // link side inputs
    bool offer = !to_send.empty() && rng.next() % 3 != 0;
    m.i_req_valid = offer;
    m.i_req_data = offer ? to_send.front() : 0;
    m.i_resp_ready = rng.next() % 4 != 0;
    // core side: start an operation when idle
    if (op == 0) {
      uint32_t r = rng.next() % 4;
      if (r == 0) {
        op = 1;
      } else if (r == 1 && (rx_seen || rng.next() % 8 == 0)) {
        op = 2;  // now and then without having seen RX_VALID: must change nothing
      } else if (r == 2 && got_tx.size() + expect_tx.size() < 300) {
        op = 3;
        op_data = rng.next();
      }
    }
    m.i_valid = op != 0;
    m.i_addr = op == 1 ? 0 : op == 2 ? 1 : 2;
    m.i_wstrb = op == 3 ? 0xF : 0;
    m.i_wdata = op_data;
    m.eval();
    // outputs before the edge
    bool req_taken = m.i_req_valid && m.o_req_ready;
    bool resp_taken = m.o_resp_valid && m.i_resp_ready;
    if (m.o_req_ready != !model_rx) fail_msg("cycle %d (seed 0x%llx): req_ready wrong", cyc, (unsigned long long)sd);
    if (m.o_resp_valid != model_tx) fail_msg("cycle %d (seed 0x%llx): resp_valid wrong", cyc, (unsigned long long)sd);
    if (resp_taken) {
      got_tx.push_back(m.o_resp_data);
      if (expect_tx.empty() || expect_tx.front() != m.o_resp_data)
        fail_msg("cycle %d (seed 0x%llx): link side got 0x%08x, expected %s", cyc,
                 (unsigned long long)sd, m.o_resp_data, expect_tx.empty() ? "nothing" : "another word");
      expect_tx.pop_front();
    }
    bool ack = m.o_ready;
    uint32_t rdata = m.o_rdata;
    bool access = m.i_valid && !ack;  // the cycle the mailbox acts on the request
    bool rd_rx = access && op == 2, wr_tx = access && op == 3;
    if (access && op == 2) rx_read_valid = model_rx;
    if (access && op == 1) expect_status = (model_rx ? 1u : 0u) | (model_tx ? 0u : 2u);
    // reference model of the two registers at the clock edge
    bool next_rx = (rd_rx && model_rx) ? false : (offer && !model_rx) ? true : model_rx;
    bool next_tx = (wr_tx && !model_tx) ? true : (model_tx && m.i_resp_ready) ? false : model_tx;
    if (req_taken) to_send.pop_front();
    if (wr_tx && !model_tx) expect_tx.push_back(op_data);
    if (wr_tx && model_tx) dropped++;
    model_rx = next_rx;
    model_tx = next_tx;
    tick();
    // a core-side operation completes with o_ready, the cycle after access
    if (ack) {
      if (op == 1) {
        if (rdata != expect_status)
          fail_msg("cycle %d (seed 0x%llx): STATUS 0x%x, expected 0x%x", cyc, (unsigned long long)sd,
                   rdata, expect_status);
        rx_seen = rdata & 1;
      } else if (op == 2) {
        if (rx_read_valid) got_rx.push_back(rdata);
        rx_seen = false;
      }
      op = 0;
    }
  }
  if (got_rx.size() != expect_rx.size())
    fail_msg("seed 0x%llx: core read %zu of %zu request words", (unsigned long long)sd, got_rx.size(),
             expect_rx.size());
  for (size_t i = 0; i < got_rx.size(); i++)
    if (got_rx[i] != expect_rx[i])
      fail_msg("seed 0x%llx: request word %zu read as 0x%08x, sent 0x%08x", (unsigned long long)sd, i,
               got_rx[i], expect_rx[i]);
  assert_true(expect_tx.empty());
  assert_true(got_tx.size() > 50);
  assert_true(dropped > 0);  // the traffic did exercise the drop rule
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_mailbox_random)};
  return cmocka_run_group_tests_name("rv32_mailbox", tests, NULL, NULL);
}
