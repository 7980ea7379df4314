/* The boot ROM of the firmware-link SoC (rtl/pal_fwsoc.v): copies the
 * firmware from the board's SPI flash into the RAM and runs it.
 *
 * The flash holds, at PAL_FW_FLASH_OFFSET (after the bitstream), a 16-byte
 * header: "PALF", the image's length in bytes, its CRC-32, 0; then the
 * image, linked for the RAM (firmware/pal_fw_link.ld). The boot ROM wakes
 * the flash (it may be in deep power-down after configuration), reads the
 * header and the image with READ (0x03), checks the length and the CRC-32
 * (through the SoC's CRC unit), and jumps to the RAM. A missing or damaged
 * image halts the core with the LED on: nothing half-loaded ever runs.
 * scripts/pal_fw_flash.py writes the header; make flash writes both. */
#include <stdint.h>

#include "hal.h"

void pal_boot(void);

static void spi_wait(void)
{
    while (pal_hal_read32(PAL_FW_SPI_CTRL) & PAL_FW_SPI_BUSY)
        ;
}

static uint32_t spi_byte(uint32_t b)
{
    pal_hal_write32(PAL_FW_SPI_DATA, b);
    spi_wait();
    return pal_hal_read32(PAL_FW_SPI_DATA);
}

static uint32_t spi_word(void)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < 32u; i += 8u)
        w |= spi_byte(0) << i;
    return w;
}

static void fail(void)
{
    pal_hal_write32(PAL_FW_SYSCTL_LED, 1);
    for (;;)
        __asm__ volatile("ebreak");
}

void pal_boot(void)
{
    /* release from deep power-down; tRES1 is 3 us at most (36 cycles at
     * 12 MHz), the loop below takes longer */
    pal_hal_write32(PAL_FW_SPI_CTRL, 1);
    spi_byte(0xAB);
    pal_hal_write32(PAL_FW_SPI_CTRL, 0);
    for (volatile uint32_t i = 0; i < 64u; i++)
        ;
    pal_hal_write32(PAL_FW_SPI_CTRL, 1);
    spi_byte(0x03);
    spi_byte((PAL_FW_FLASH_OFFSET >> 16) & 0xFFu);
    spi_byte((PAL_FW_FLASH_OFFSET >> 8) & 0xFFu);
    spi_byte(PAL_FW_FLASH_OFFSET & 0xFFu);
    uint32_t magic = spi_word(), len = spi_word(), crc = spi_word();
    spi_word();
    if (magic != PAL_FW_FLASH_MAGIC || len == 0 || len > PAL_FW_FLASH_MAX_IMAGE || (len & 3u))
        fail();
    pal_hal_write32(PAL_FW_CRC_VALUE, 0xFFFFFFFFu);
    for (uint32_t a = 0; a < len; a += 4u) {
        uint32_t w = 0;
        for (uint32_t i = 0; i < 32u; i += 8u) {
            uint32_t b = spi_byte(0);
            pal_hal_write32(PAL_FW_CRC_BYTE, b);
            w |= b << i;
        }
        pal_hal_write32(PAL_FW_RAM_BASE + a, w);
    }
    pal_hal_write32(PAL_FW_SPI_CTRL, 0);
    if (~pal_hal_read32(PAL_FW_CRC_VALUE) != crc)
        fail();
    ((void (*)(void))(uintptr_t)PAL_FW_RAM_BASE)();
}
