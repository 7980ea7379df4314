// make check-gates: the iCEBreaker board top (rtl/boards/pal_icebreaker.v)
// as a Verilated model behind sim/'s pal_soc_model, so that sim/pal_soc.cpp
// (bit-accurate 8N1 on the UART pins) and the real driver talk to it. Built
// from the gate-level netlist that make bitstream BOARD=icebreaker writes
// (Yosys synth_ice40, iCE40 cell models), or from the RTL top (to check this
// harness itself). Compiled with GATES_CLASS / GATES_HEADER naming the
// Verilated class, and GATES_ROWS / GATES_COLS / GATES_MAX_PAYLOAD the
// board build's parameters.
//
// The board's core clock is the PLL's 24 MHz and its UART runs at 8 clocks
// per bit; sim/pal_soc.cpp's UART models are built for 4, so one host cycle
// here is two board clocks (the host's sampling only needs whole cycles).
// The button is the reset: the board's reset generator then holds the SoC
// for 2^10 more cycles, which set_rst(false) clocks out with the line idle,
// so the host's first byte meets a listening UART.
#include GATES_HEADER

#include <memory>

#include "pal_soc_model.h"
#include "verilated.h"

namespace {

constexpr int kClocksPerHostCycle = 2;
constexpr int kResetRelease = 2 + 1024 + 16;  // sync + 2^RESET_HOLD_BITS + margin

class GatesModel final : public pal_soc_model {
 public:
  explicit GatesModel(uint64_t seed) {
    ctx_.randReset(2);  // every flip-flop and RAM bit starts random
    ctx_.randSeed((int)((seed ^ (seed >> 31)) & 0x7FFFFFFF));
    top_.reset(new GATES_CLASS(&ctx_, "board"));
    top_->CLK = 0;
    top_->RX = 1;
    top_->BTN_N = 0;
    top_->eval();
  }
  ~GatesModel() override { top_->final(); }

  void set_rst(bool rst) override {
    top_->BTN_N = rst ? 0 : 1;
    if (!rst)
      for (int i = 0; i < kResetRelease; i++) clock(true);
  }
  void cycle_fifo(bool, uint8_t, bool *rx_taken, bool *tx_valid, uint8_t *) override {
    *rx_taken = false;  // the board has only the UART
    *tx_valid = false;
  }
  bool cycle_uart(bool rx_pin) override {
    for (int i = 0; i < kClocksPerHostCycle; i++) clock(rx_pin);
    return top_->TX;
  }
  bool busy() const override { return top_->LED1; }  // LED1 = tile busy
  pal_status_t trace_open(const char *) override {
    return pal_status_make(PAL_UNIMPLEMENTED, "gates: built without tracing");
  }
  void trace_close() override {}

 private:
  void clock(bool rx) {
    top_->RX = rx;
    top_->CLK = 1;
    top_->eval();
    top_->CLK = 0;
    top_->eval();
  }
  VerilatedContext ctx_;
  std::unique_ptr<GATES_CLASS> top_;
};

pal_soc_model *create(uint64_t seed) { return new GatesModel(seed); }

}  // namespace

// sim/pal_soc.cpp looks its models up under a fixed set of names; this
// program links no other model, so the board takes the 4x4 UART slot and
// says its own geometry and payload limit (pal_soc_create matches those);
// the board top has no control core (firmware = 0).
extern "C" const pal_soc_variant_t pal_soc_variant_4x4_uart = {GATES_ROWS, GATES_COLS, 1,
                                                               GATES_MAX_PAYLOAD, create, 0};
