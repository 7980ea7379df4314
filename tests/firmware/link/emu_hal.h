/* The firmware-link SoC's bus (rtl/pal_fwsoc.v) for host tests of
 * firmware/pal_fw_link.c: the UART as byte queues, the CRC-32 unit, SYSINFO,
 * the timer (advanced by the test and a step per read), the system-control
 * tile reset, and the tile behind the protocol's device map through
 * pal_bus (driver/pal_bus.c) on the C emulator, as the SoC's bus bridge
 * puts the real tile there. A started kernel runs to completion at once,
 * as behind the C link model. */
#ifndef PAL_EMU_HAL_H
#define PAL_EMU_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "pal/protocol.h"
#include "pal/tile.h"

typedef struct emu_hal {
    pal_emu_t *emu;
    pal_bus_t bus;
    uint8_t rx[1 << 16];
    size_t rx_head, rx_tail;
    uint8_t *tx;
    size_t tx_len, tx_cap;
    uint32_t crc;
    uint32_t time, time_step;
    uint32_t clock_hz, byte_cycles;
    char name[16];
    int force_busy;               /* STATUS reads busy (a kernel still running) */
    uint32_t tile_resets, bus_errors;
    uint32_t led;                 /* the LEDs (system control): bit 0 error, bit 1 activity */
} emu_hal_t;

extern emu_hal_t emu_hal;

/* A fresh HAL around a new emulator of this geometry. */
void emu_hal_init(const pal_tile_config_t *config);
void emu_hal_release(void);
/* Bytes for the UART receiver. */
void emu_hal_rx(const uint8_t *bytes, size_t n);
/* The UART's sent bytes, taken (the buffer is emptied). */
size_t emu_hal_take_tx(uint8_t *out, size_t cap);

#endif
