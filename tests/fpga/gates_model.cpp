// make check-gates: a board top (rtl/boards/pal_<board>.v) as a Verilated
// model behind sim/'s pal_soc_model, so that sim/pal_soc.cpp (bit-accurate
// 8N1 on the UART pins) and the real driver talk to it. Built from the
// gate-level netlist that make bitstream writes for the board (Yosys
// synth_ice40 or synth_ecp5, the family's cell models), or from the RTL top
// (to check this harness itself). Compiled with GATES_CLASS / GATES_HEADER
// naming the Verilated class, GATES_BOARD_<BOARD> for the pins, and
// GATES_NAME, GATES_ROWS,
// GATES_COLS, GATES_MAX_PAYLOAD, GATES_FIRMWARE the board build's
// parameters.
//
// GATES_CLOCKS_PER_HOST_CYCLE board clocks make one host cycle and
// GATES_HOST_CYCLES_PER_BIT host cycles one bit (constraints/boards.mk):
// the iCEBreaker's 12 MHz core runs its UART at 4 clocks per bit, as the
// UART models of sim/soc.mk do; the OrangeCrab's 18 MHz core at 6 and the
// ULX3S's 15 MHz core at 15; one board clock per host cycle each. The button is the reset: the board's reset
// generator then holds the SoC for 2^10 more
// cycles, which set_rst(false) clocks out with the line idle, so the
// host's first byte meets a listening UART.
//
// GATES_FLASH (the iCEBreaker's firmware-link SoC) names the firmware's
// flash image: the board's SPI flash is modelled on its pins
// (sim/pal_spi_flash.h), and boot() clocks the board until its boot ROM has
// copied the firmware out of it, as the board does after configuration.
#include GATES_HEADER

#include <memory>

#include "pal_soc_model.h"
#include "verilated.h"
#if defined(GATES_FLASH)
#include "pal_fw_map.h"  // PAL_FW_FLASH_OFFSET
#include "pal_spi_flash.h"
#endif

namespace {

// Each board's pins: clock, UART (RX into the FPGA, TX out of it), the
// reset button (pressed: rst true) and the tile-busy LED.
#if defined(GATES_BOARD_ICEBREAKER)
#define PIN_CLK CLK
#define PIN_RX RX
#define PIN_TX TX
#define SET_BUTTON(rst) (top_->BTN_N = (rst) ? 0 : 1)
#define BUSY_LED (top_->LED1)  // LED1 = tile busy
#elif defined(GATES_BOARD_ORANGECRAB)
#define PIN_CLK clk48
#define PIN_RX gpio_1
#define PIN_TX gpio_0
#define SET_BUTTON(rst) (top_->usr_btn = (rst) ? 0 : 1)
#define BUSY_LED (!top_->rgb_led0_g)  // green, active low = tile busy
#elif defined(GATES_BOARD_ULX3S)
#define PIN_CLK clk_25mhz
#define PIN_RX ftdi_txd  // the FT231X's TXD is the FPGA's input
#define PIN_TX ftdi_rxd
#define SET_BUTTON(rst) (top_->btn = (rst) ? 2 : 0)  // FIRE1 = btn[1], active high
#define BUSY_LED (top_->led & 1)                     // led[0] = busy
#else
#error "say which board: GATES_BOARD_ICEBREAKER, GATES_BOARD_ORANGECRAB or GATES_BOARD_ULX3S"
#endif
// from constraints/boards.mk, which gives the test program the same
constexpr int kClocksPerHostCycle = GATES_CLOCKS_PER_HOST_CYCLE;
constexpr uint32_t kHostCyclesPerBit = GATES_HOST_CYCLES_PER_BIT;
constexpr int kResetRelease = 2 + 1024 + 16;  // sync + 2^RESET_HOLD_BITS + margin

class GatesModel final : public pal_soc_model {
 public:
  explicit GatesModel(uint64_t seed) {
    ctx_.randReset(2);  // every flip-flop and RAM bit starts random
    ctx_.randSeed((int)((seed ^ (seed >> 31)) & 0x7FFFFFFF));
    top_.reset(new GATES_CLASS(&ctx_, "board"));
    top_->PIN_CLK = 0;
    top_->PIN_RX = 1;
    SET_BUTTON(true);
#if defined(GATES_FLASH)
    top_->FLASH_IO1 = 1;
    flash_.load(GATES_FLASH, PAL_FW_FLASH_OFFSET);
#endif
    top_->eval();
  }
  ~GatesModel() override { top_->final(); }

  void set_rst(bool rst) override {
    SET_BUTTON(rst);
    if (!rst)
      for (int i = 0; i < kResetRelease; i++) clock(true);
  }
  void cycle_fifo(bool, uint8_t, bool *rx_taken, bool *tx_valid, uint8_t *) override {
    *rx_taken = false;  // the board has only the UART
    *tx_valid = false;
  }
  bool cycle_uart(bool rx_pin) override {
    for (int i = 0; i < kClocksPerHostCycle; i++) clock(rx_pin);
    return top_->PIN_TX;
  }
  bool busy() const override { return BUSY_LED; }
#if defined(GATES_FLASH)
  // until the boot ROM has read the image (the chip select goes high after
  // the long READ), then a little more for its CRC check and the jump
  void boot() override {
    for (uint64_t i = 0; i < 20000000 && !(flash_.read_bytes() > 16 && top_->FLASH_SSB); i++) clock(true);
    for (int i = 0; i < 256; i++) clock(true);
  }
#endif
  pal_status_t trace_open(const char *) override {
    return pal_status_make(PAL_UNIMPLEMENTED, "gates: built without tracing");
  }
  void trace_close() override {}

 private:
  void clock(bool rx) {
    top_->PIN_RX = rx;
    top_->PIN_CLK = 1;
    top_->eval();
#if defined(GATES_FLASH)
    top_->FLASH_IO1 = flash_.step(top_->FLASH_SSB, top_->FLASH_SCK, top_->FLASH_IO0);
#endif
    top_->PIN_CLK = 0;
    top_->eval();
  }
#if defined(GATES_FLASH)
  pal_spi_flash flash_;
#endif
  VerilatedContext ctx_;
  std::unique_ptr<GATES_CLASS> top_;
};

pal_soc_model *create(uint64_t seed) { return new GatesModel(seed); }

}  // namespace

// sim/pal_soc.cpp looks its models up under a fixed set of names; this
// program links no other model, so the board takes the `board` slot
// (sim://?board=GATES_NAME) with its own geometry, payload limit, control
// core and bit time.
extern "C" const pal_soc_variant_t pal_soc_variant_board = {
    GATES_ROWS, GATES_COLS, 1, GATES_MAX_PAYLOAD, create, GATES_FIRMWARE, GATES_NAME, {0, 0, 0, 0, 0, 0},
    kHostCyclesPerBit};
