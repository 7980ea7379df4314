// make test: the ECP5 cell models that make check-gates brings for what
// Yosys 0.23 leaves without behaviour (tests/fpga/dp16kd_sim.v,
// tests/fpga/mult18x18d_sim.v) against the RTL they stand for.
// tests/fpga/pal_ecp5_prims_check.v (memories and multipliers shaped like
// the boards') is Verilated twice: as written, and as Yosys' synth_ecp5
// netlist with ecp5/cells_sim.v and the models (constraints/boards.mk
// checks that the netlist has the block RAM kinds and DSPs this means to
// cover). Both get the same random inputs for many cycles, addresses often
// confined to a few words so that reads meet fresh writes; every output
// must be equal after every cycle.
#include <memory>

#include "Vpal_ecp5_prims_gates.h"
#include "Vpal_ecp5_prims_rtl.h"
#include "rtl_test.h"

namespace {

struct Inputs {
  uint64_t r[4];
};

template <class M>
void drive(M *m, const Inputs &in) {
  const uint64_t r1 = in.r[0], r2 = in.r[1], r3 = in.r[2], r4 = in.r[3];
  m->i_a_en = r1 & 1;
  m->i_a_we = (r1 >> 1) & 3;
  m->i_a_addr = (r1 >> 3) & (((r1 >> 60) & 1) ? 15 : 1023);
  m->i_a_wdata = (r1 >> 13) & 0x3FFFF;
  m->i_b_en = (r1 >> 31) & 1;
  m->i_b_addr = (r1 >> 32) & (((r1 >> 61) & 1) ? 15 : 1023);
  m->i_c_en = (r1 >> 42) & 1;
  m->i_c_we = (r1 >> 43) & 1;
  m->i_c_addr = (r1 >> 44) & (((r1 >> 62) & 1) ? 31 : 2047);
  m->i_c_wdata = r2 & 0x1FF;
  m->i_d_we = (r2 >> 9) & 15;
  m->i_d_waddr = (r2 >> 13) & (((r2 >> 62) & 1) ? 7 : 511);
  m->i_d_wdata = r3 & 0xFFFFFFFFFull;
  m->i_d_re = (r2 >> 22) & 1;
  m->i_d_raddr = (r2 >> 23) & (((r2 >> 63) & 1) ? 7 : 511);
  m->i_m_a = r4 & 0x3FFFF;
  m->i_m_b = (r4 >> 18) & 0x3FFFF;
}

template <class M>
void clock(M *m) {
  m->i_clk = 1;
  m->eval();
  m->i_clk = 0;
  m->eval();
}

void test_models_match_rtl(void **) {
  const uint64_t seed = rtl_test::seed();
  rtl_test::Rng rng(seed);
  VerilatedContext ctx;
  std::unique_ptr<Vpal_ecp5_prims_rtl> rtl(new Vpal_ecp5_prims_rtl(&ctx));
  std::unique_ptr<Vpal_ecp5_prims_gates> net(new Vpal_ecp5_prims_gates(&ctx));
  rtl->i_clk = net->i_clk = 0;
  rtl->eval();
  net->eval();
  const int kCycles = 200000;
  for (int cyc = 0; cyc < kCycles; cyc++) {
    Inputs in;
    for (uint64_t &r : in.r) r = rng.u64();
    drive(rtl.get(), in);
    drive(net.get(), in);
    rtl->eval();
    net->eval();
    // the products are combinational: compare them before the edge
    if (rtl->o_m_u != net->o_m_u || rtl->o_m_s != net->o_m_s)
      fail_msg("seed 0x%llx cycle %d: %05x x %05x: unsigned %09llx / netlist %09llx, signed %09llx / %09llx",
               (unsigned long long)seed, cyc, rtl->i_m_a, rtl->i_m_b, (unsigned long long)rtl->o_m_u,
               (unsigned long long)net->o_m_u, (unsigned long long)rtl->o_m_s,
               (unsigned long long)net->o_m_s);
    clock(rtl.get());
    clock(net.get());
    if (rtl->o_a_rdata != net->o_a_rdata || rtl->o_b_rdata != net->o_b_rdata ||
        rtl->o_c_rdata != net->o_c_rdata || rtl->o_d_rdata != net->o_d_rdata)
      fail_msg("seed 0x%llx cycle %d: RTL / netlist: A %05x / %05x, B %05x / %05x, C %03x / %03x, "
               "D %09llx / %09llx",
               (unsigned long long)seed, cyc, rtl->o_a_rdata, net->o_a_rdata, rtl->o_b_rdata, net->o_b_rdata,
               rtl->o_c_rdata, net->o_c_rdata, (unsigned long long)rtl->o_d_rdata,
               (unsigned long long)net->o_d_rdata);
  }
  printf("ECP5 models: %d cycles of four memories and two products, netlist equal to the RTL\n", kCycles);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_models_match_rtl),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
