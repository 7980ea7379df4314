// One Verilated pal_soc model behind pal_soc_model. Compiled once per model
// by sim/soc.mk with PAL_SOC_CLASS (Vpal_soc_4x4_fifo, ...), PAL_SOC_HEADER,
// PAL_SOC_VARIANT (the exported C name), PAL_SOC_ROWS, PAL_SOC_COLS,
// PAL_SOC_UART (0 or 1), PAL_SOC_MAX_PAYLOAD (default 4096), PAL_SOC_FIRMWARE
// (1: the control core with its firmware, 2: with the tests' broken
// firmware), PAL_SOC_TRACE (0 or 1); for a board's configuration also
// PAL_SOC_BOARD (its name) and PAL_SOC_DEPTHS (six depths, 0: default).
#include PAL_SOC_HEADER

#include <memory>

#include "pal_soc_model.h"
#include "verilated.h"
#if PAL_SOC_TRACE
#include "verilated_fst_c.h"
#endif

namespace {

class Model final : public pal_soc_model {
 public:
  explicit Model(uint64_t seed) {
    ctx_.randReset(2);  // every register starts random: resets must matter
    ctx_.randSeed((int)((seed ^ (seed >> 31)) & 0x7FFFFFFF));
#if PAL_SOC_TRACE
    ctx_.traceEverOn(true);
#endif
    top_.reset(new PAL_SOC_CLASS(&ctx_, "soc"));
    top_->i_clk = 0;
    top_->i_rst = 0;
    top_->i_uart_rx = 1;
    top_->i_rx_valid = 0;
    top_->i_rx_data = 0;
    top_->i_tx_ready = 1;
    top_->eval();
  }
  ~Model() override {
    trace_close();
    top_->final();
  }

  void set_rst(bool rst) override { top_->i_rst = rst; }
  void cycle_fifo(bool rx_valid, uint8_t rx_data, bool *rx_taken, bool *tx_valid,
                  uint8_t *tx_data) override {
    top_->i_rx_valid = rx_valid;
    top_->i_rx_data = rx_data;
    top_->i_tx_ready = 1;
    top_->eval();  // the handshakes as the edge will see them
    *rx_taken = rx_valid && top_->o_rx_ready;
    *tx_valid = top_->o_tx_valid;
    *tx_data = top_->o_tx_data;
    tick();
  }
  bool cycle_uart(bool rx_pin) override {
    top_->i_uart_rx = rx_pin;
    tick();
    return top_->o_uart_tx;
  }
  bool busy() const override { return top_->o_leds & 1; }

  pal_status_t trace_open(const char *path) override {
#if PAL_SOC_TRACE
    trace_close();
    trace_.reset(new VerilatedFstC);
    top_->trace(trace_.get(), 99);
    trace_->open(path);
    if (!trace_->isOpen()) {
      trace_.reset();
      return pal_status_make(PAL_IO_ERROR, "soc: cannot open the FST file %s", path);
    }
    return PAL_STATUS_OK;
#else
    (void)path;
    return pal_status_make(PAL_UNIMPLEMENTED, "soc: the %ux%u model was built without tracing",
                           (unsigned)PAL_SOC_ROWS, (unsigned)PAL_SOC_COLS);
#endif
  }
  void trace_close() override {
#if PAL_SOC_TRACE
    if (trace_) {
      trace_->close();
      trace_.reset();
    }
#endif
  }

 private:
  void tick() {
    top_->i_clk = 1;
    top_->eval();
    dump();
    top_->i_clk = 0;
    top_->eval();
    dump();
  }
  void dump() {
#if PAL_SOC_TRACE
    if (trace_) trace_->dump(time_);
    time_ += 5;
#endif
  }

  VerilatedContext ctx_;
  std::unique_ptr<PAL_SOC_CLASS> top_;
#if PAL_SOC_TRACE
  std::unique_ptr<VerilatedFstC> trace_;
  uint64_t time_ = 0;
#endif
};

pal_soc_model *create(uint64_t seed) { return new Model(seed); }

}  // namespace

#ifndef PAL_SOC_MAX_PAYLOAD
#define PAL_SOC_MAX_PAYLOAD 4096
#endif
#ifndef PAL_SOC_FIRMWARE
#define PAL_SOC_FIRMWARE 0
#endif
#ifndef PAL_SOC_BOARD
#define PAL_SOC_BOARD NULL
#endif
#ifndef PAL_SOC_DEPTHS
#define PAL_SOC_DEPTHS 0, 0, 0, 0, 0, 0
#endif

extern "C" const pal_soc_variant_t PAL_SOC_VARIANT = {
    PAL_SOC_ROWS, PAL_SOC_COLS,     PAL_SOC_UART,  PAL_SOC_MAX_PAYLOAD,
    create,       PAL_SOC_FIRMWARE, PAL_SOC_BOARD, {PAL_SOC_DEPTHS},
    0 /* UART models: sim/soc.mk's SOC_CLOCKS_PER_BIT */};
