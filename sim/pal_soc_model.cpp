// One Verilated pal_soc model behind pal_soc_model. Compiled once per model
// by sim/soc.mk with PAL_SOC_CLASS (Vpal_soc_4x4_fifo, ...), PAL_SOC_HEADER,
// PAL_SOC_VARIANT (the exported C name), PAL_SOC_ROWS, PAL_SOC_COLS,
// PAL_SOC_UART (0 or 1), PAL_SOC_MAX_PAYLOAD (default 4096), PAL_SOC_FIRMWARE
// (1: the control core with its firmware, 2: with the tests' broken
// firmware), PAL_SOC_TRACE (0 or 1); for a board's configuration also
// PAL_SOC_BOARD (its name) and PAL_SOC_DEPTHS (six depths, 0: default).
// PAL_SOC_FLASH names a flash image (scripts/pal_fw_flash.py) for the
// firmware-link SoC (rtl/pal_fwsoc.v), whose boot ROM reads it through the
// SPI pins from the flash modelled here, at PAL_FW_FLASH_OFFSET.
#include PAL_SOC_HEADER

#include <memory>
#if defined(PAL_SOC_FLASH)
#include "pal_fw_map.h"  // PAL_FW_FLASH_OFFSET
#include "pal_spi_flash.h"
#endif

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
#if defined(PAL_SOC_FLASH)
    top_->i_spi_miso = 1;
    // no image: the boot ROM halts, and the host is told nothing answers
    flash_.load(PAL_SOC_FLASH, PAL_FW_FLASH_OFFSET);
#endif
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
#if defined(PAL_SOC_FLASH)
  // Until the boot ROM has read the image (the chip select goes high after
  // the long READ) and jumped to it, or halted (no image, a bad CRC).
  void boot() override {
    for (uint64_t i = 0; i < kBootCycleLimit && !top_->o_halted; i++) {
      bool taken, tv;
      uint8_t td;
      cycle_fifo(false, 0, &taken, &tv, &td);
      if (flash_.read_bytes() > 16 && top_->o_spi_cs_n) break;
    }
    for (int i = 0; i < 64; i++) tick();  // the CRC check and the jump
  }
#endif

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
#if defined(PAL_SOC_FLASH)
    flash();
#endif
    top_->i_clk = 0;
    top_->eval();
    dump();
  }
#if defined(PAL_SOC_FLASH)
  static constexpr uint64_t kBootCycleLimit = 20000000;
  void flash() {
    top_->i_spi_miso = flash_.step(top_->o_spi_cs_n, top_->o_spi_sck, top_->o_spi_mosi);
  }
  pal_spi_flash flash_;
#endif
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
