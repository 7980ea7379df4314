/* The firmware-link SoC's bus on the host (emu_hal.h). */
#include "emu_hal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal.h"

emu_hal_t emu_hal;

void emu_hal_init(const pal_tile_config_t *config)
{
    emu_hal_release();
    memset(&emu_hal, 0, sizeof emu_hal);
    if (pal_emu_create(config, &emu_hal.emu)) {
        fprintf(stderr, "emu_hal: pal_emu_create failed\n");
        abort();
    }
    emu_hal.bus.tile = pal_emu_device(emu_hal.emu);
    emu_hal.bus.run_cycles = PAL_TILE_NO_CYCLE_LIMIT;
    emu_hal.time_step = 7;
    emu_hal.clock_hz = 12000000u;
    emu_hal.byte_cycles = 40;
    memcpy(emu_hal.name, "icebreaker", 10);
}

void emu_hal_release(void)
{
    if (emu_hal.emu) pal_emu_destroy(emu_hal.emu);
    free(emu_hal.tx);
    memset(&emu_hal, 0, sizeof emu_hal);
}

void emu_hal_rx(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (emu_hal.rx_tail - emu_hal.rx_head >= sizeof emu_hal.rx) abort(); /* the test overfilled it */
        emu_hal.rx[emu_hal.rx_tail++ % sizeof emu_hal.rx] = bytes[i];
    }
}

size_t emu_hal_take_tx(uint8_t *out, size_t cap)
{
    size_t n = emu_hal.tx_len < cap ? emu_hal.tx_len : cap;
    if (n == 0) return 0;
    memcpy(out, emu_hal.tx, n);
    memmove(emu_hal.tx, emu_hal.tx + n, emu_hal.tx_len - n);
    emu_hal.tx_len -= n;
    return n;
}

static void tx_push(uint8_t b)
{
    if (emu_hal.tx_len == emu_hal.tx_cap) {
        emu_hal.tx_cap = emu_hal.tx_cap ? 2 * emu_hal.tx_cap : 4096;
        emu_hal.tx = realloc(emu_hal.tx, emu_hal.tx_cap);
        if (!emu_hal.tx) abort();
    }
    emu_hal.tx[emu_hal.tx_len++] = b;
}

static uint32_t tile_read(uint32_t dev, size_t n)
{
    uint8_t b[4] = {0};
    pal_status_t st = pal_bus_read(&emu_hal.bus, dev, b, n, NULL);
    if (st) {
        emu_hal.bus_errors++;
        pal_status_free(st);
        return 0;
    }
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if (dev == PAL_FW_REG_STATUS && emu_hal.force_busy) v |= PAL_FW_STATUS_BUSY;
    return v;
}

static void tile_write(uint32_t dev, uint32_t v, size_t n)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pal_status_t st = pal_bus_write(&emu_hal.bus, dev, b, n, NULL);
    if (st) {
        emu_hal.bus_errors++;
        pal_status_free(st);
        return;
    }
    if (dev == PAL_FW_REG_CONTROL) pal_bus_advance(&emu_hal.bus);
}

uint32_t pal_hal_read32(uint32_t addr)
{
    if (addr & PAL_FW_TILE_BASE) return tile_read(addr & ~PAL_FW_TILE_BASE, 4);
    switch (addr) {
        case PAL_FW_TIMER_COUNT: return emu_hal.time += emu_hal.time_step;
        case PAL_FW_UART_STATUS:
            return (emu_hal.rx_head != emu_hal.rx_tail ? PAL_FW_UART_RX_VALID : 0) | PAL_FW_UART_TX_FREE;
        case PAL_FW_UART_RX_DATA:
            if (emu_hal.rx_head == emu_hal.rx_tail) return 0;
            return emu_hal.rx[emu_hal.rx_head++ % sizeof emu_hal.rx];
        case PAL_FW_CRC_VALUE: return emu_hal.crc;
        case PAL_FW_SYSINFO_CLOCK_HZ: return emu_hal.clock_hz;
        case PAL_FW_SYSINFO_BYTE_CYCLES: return emu_hal.byte_cycles;
        default: break;
    }
    if (addr >= PAL_FW_SYSINFO_NAME && addr < PAL_FW_SYSINFO_NAME + 16u) {
        const uint8_t *p = (const uint8_t *)emu_hal.name + (addr - PAL_FW_SYSINFO_NAME);
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    emu_hal.bus_errors++;
    return 0;
}

void pal_hal_write32(uint32_t addr, uint32_t value)
{
    if (addr & PAL_FW_TILE_BASE) {
        tile_write(addr & ~PAL_FW_TILE_BASE, value, 4);
        return;
    }
    switch (addr) {
        case PAL_FW_UART_TX_DATA: tx_push((uint8_t)value); return;
        case PAL_FW_CRC_VALUE: emu_hal.crc = value; return;
        case PAL_FW_CRC_BYTE: {
            uint8_t b = (uint8_t)value;
            /* the unit keeps the value before the final xor */
            emu_hal.crc = ~pal_proto_crc32_update(~emu_hal.crc, &b, 1);
            return;
        }
        case PAL_FW_SYSCTL_TILE_RESET:
            if (value & 1u) emu_hal.tile_resets++;
            return;
        case PAL_FW_TIMER_COUNT: emu_hal.time = value; return;
        case PAL_FW_SYSCTL_LED: emu_hal.led = value & 3u; return;
        default: emu_hal.bus_errors++; return;
    }
}

void pal_hal_write8(uint32_t addr, uint8_t value)
{
    if (addr & PAL_FW_TILE_BASE) {
        tile_write(addr & ~PAL_FW_TILE_BASE, value, 1);
        return;
    }
    emu_hal.bus_errors++;
}
