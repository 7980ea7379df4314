// Internal to sim/: what pal_soc.cpp needs from one Verilated model of
// rtl/pal_soc.v. Each geometry and attachment is a separately Verilated
// class; sim/pal_soc_model.cpp is compiled once per model (sim/soc.mk) and
// exports a pal_soc_variant_t under a fixed C name.
#ifndef PAL_SOC_MODEL_H
#define PAL_SOC_MODEL_H

#include <stdint.h>

#include "pal/status.h"

struct pal_soc_model {
  virtual ~pal_soc_model() {}
  virtual void set_rst(bool rst) = 0;
  // One cycle of the FIFO attachment: offers a byte (rx_valid), returns
  // whether it was taken; the link engine's output is always taken, and
  // *tx_valid / *tx_data say whether a byte left in this cycle.
  virtual void cycle_fifo(bool rx_valid, uint8_t rx_data, bool *rx_taken, bool *tx_valid,
                          uint8_t *tx_data) = 0;
  // One cycle of the UART attachment: the RX pin's level during the cycle;
  // returns the TX pin's level after it.
  virtual bool cycle_uart(bool rx_pin) = 0;
  virtual bool busy() const = 0;
  // After reset: runs the SoC until it is ready for the host (the firmware-
  // link SoC's boot ROM has loaded the firmware from the flash); nothing to
  // do for the others.
  virtual void boot() {}
  virtual pal_status_t trace_open(const char *path) = 0;
  virtual void trace_close() = 0;
};

extern "C" {
typedef struct pal_soc_variant {
  uint32_t rows, cols;
  int uart;
  uint32_t max_payload;  /* the link engine's MAX_PAYLOAD */
  pal_soc_model *(*create)(uint64_t seed);
  int firmware;          /* CONTROL_CORE = 1: control core + firmware; 2: the tests'
                          * broken firmware (tests/soc/fw_broken.c) */
  const char *board;     /* a board's configuration (sim://?board=NAME), NULL otherwise */
  uint32_t depths[6];    /* IMEM, ABUF, WMEM, ACC, BIAS, OBUF depths it was built with
                          * (0: the default of docs/isa.md §1) */
  uint32_t clocks_per_bit; /* UART: the host cycles per bit it expects (0: sim/soc.mk's 4) */
} pal_soc_variant_t;
}

#endif  // PAL_SOC_MODEL_H
