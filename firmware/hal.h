/* Hardware-access layer of the firmware: every access to the core's bus
 * goes through these three functions. On the core they are volatile loads
 * and stores; in the host tests (PAL_FW_HOST) tests/firmware/fake_hal.c
 * implements them over a model of the mailbox, timer and tile. */
#ifndef PAL_FW_HAL_H
#define PAL_FW_HAL_H

#include <stdint.h>

#include "pal_fw_map.h"

#ifdef PAL_FW_HOST
uint32_t pal_hal_read32(uint32_t addr);
void pal_hal_write32(uint32_t addr, uint32_t value);
void pal_hal_write8(uint32_t addr, uint8_t value);
#else
static inline uint32_t pal_hal_read32(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}
static inline void pal_hal_write32(uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)addr = value;
}
static inline void pal_hal_write8(uint32_t addr, uint8_t value)
{
    *(volatile uint8_t *)(uintptr_t)addr = value;
}
#endif

/* ---- conveniences over the map ------------------------------------------- */
static inline uint32_t pal_hal_now(void) { return pal_hal_read32(PAL_FW_TIMER_COUNT); }
static inline uint32_t pal_hal_tile_reg(uint32_t offset)
{
    return pal_hal_read32(PAL_FW_TILE_BASE + offset);
}
static inline void pal_hal_tile_reg_write(uint32_t offset, uint32_t value)
{
    pal_hal_write32(PAL_FW_TILE_BASE + offset, value);
}
static inline int pal_hal_mbox_rx_valid(void)
{
    return (pal_hal_read32(PAL_FW_MBOX_STATUS) & PAL_FW_MBOX_RX_VALID) != 0;
}
static inline uint32_t pal_hal_mbox_rx(void) { return pal_hal_read32(PAL_FW_MBOX_RX_DATA); }
static inline int pal_hal_mbox_tx_free(void)
{
    return (pal_hal_read32(PAL_FW_MBOX_STATUS) & PAL_FW_MBOX_TX_FREE) != 0;
}
static inline void pal_hal_mbox_tx(uint32_t word) { pal_hal_write32(PAL_FW_MBOX_TX_DATA, word); }
static inline void pal_hal_tile_reset(int on)
{
    pal_hal_write32(PAL_FW_SYSCTL_TILE_RESET, on ? 1u : 0u);
}

#endif
