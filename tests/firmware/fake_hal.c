/* The fake bus of fake_hal.h: pal_hal_read32/write32/write8 of the
 * firmware's HAL (firmware/hal.h, PAL_FW_HOST) implemented over it. */
#include "fake_hal.h"

#include <stdlib.h>
#include <string.h>

#include "hal.h"

fake_tile_t fake;

uint32_t pal_hal_read32(uint32_t addr);
void pal_hal_write32(uint32_t addr, uint32_t value);
void pal_hal_write8(uint32_t addr, uint8_t value);

void fake_init(const pal_tile_config_t *config)
{
    fake_release();
    memset(&fake, 0, sizeof fake);
    fake.config = *config;
    fake.id = PAL_FW_TILE_ID_VALUE;
    fake.isa_version = PAL_ISA_VERSION;
    fake.time_step = 1000;
    fake.run_polls = 3;
    uint32_t p = config->rows * config->cols;
    fake.mem_bytes[FAKE_R_IMEM] = (size_t)config->imem_depth * 16;
    fake.mem_bytes[FAKE_R_ABUF_CODES] = (size_t)config->abuf_blocks * 32;
    fake.mem_bytes[FAKE_R_ABUF_SCALES] = config->abuf_blocks;
    fake.mem_bytes[FAKE_R_WMEM_CODES] = (size_t)p * config->wmem_blocks * 32;
    fake.mem_bytes[FAKE_R_WMEM_SCALES] = (size_t)p * config->wmem_blocks;
    fake.mem_bytes[FAKE_R_ACC] = (size_t)config->acc_depth * 4;
    fake.mem_bytes[FAKE_R_ACC_NAR] = config->acc_depth;
    fake.mem_bytes[FAKE_R_BIAS] = (size_t)config->bias_depth * 4;
    fake.mem_bytes[FAKE_R_OBUF] = (size_t)config->obuf_depth * 4;
    for (int r = 0; r < FAKE_R_COUNT; r++) {
        fake.mem[r] = malloc(fake.mem_bytes[r]);
        memset(fake.mem[r], FAKE_CANARY, fake.mem_bytes[r]);
    }
    for (int i = 0; i < 18; i++)
        fake.counters[i] = 0x1000u + 7u * (uint32_t)i;
}

void fake_release(void)
{
    for (int r = 0; r < FAKE_R_COUNT; r++) {
        free(fake.mem[r]);
        fake.mem[r] = NULL;
    }
}

int fake_pristine(void)
{
    for (int r = 0; r < FAKE_R_COUNT; r++)
        for (size_t i = 0; i < fake.mem_bytes[r]; i++)
            if (fake.mem[r][i] != FAKE_CANARY)
                return 0;
    return 1;
}

void fake_send(uint32_t cmd, uint32_t tag, const uint32_t *payload, uint32_t n)
{
    fake.rx[fake.rx_tail++ % 4096] = cmd | tag << 8 | n << 16;
    for (uint32_t i = 0; i < n; i++)
        fake.rx[fake.rx_tail++ % 4096] = payload[i];
}

uint32_t fake_region_base(int region, uint32_t pe)
{
    switch (region) {
    case FAKE_R_IMEM: return PAL_FW_DEV_IMEM;
    case FAKE_R_ABUF_CODES: return PAL_FW_DEV_ABUF_CODES;
    case FAKE_R_ABUF_SCALES: return PAL_FW_DEV_ABUF_SCALES;
    case FAKE_R_WMEM_CODES: return PAL_FW_DEV_WMEM_CODES + pe * PAL_FW_DEV_WMEM_CODES_STRIDE;
    case FAKE_R_WMEM_SCALES: return PAL_FW_DEV_WMEM_SCALES + pe * PAL_FW_DEV_WMEM_SCALES_STRIDE;
    case FAKE_R_ACC: return PAL_FW_DEV_ACC;
    case FAKE_R_ACC_NAR: return PAL_FW_DEV_ACC_NAR;
    case FAKE_R_BIAS: return PAL_FW_DEV_BIAS;
    default: return PAL_FW_DEV_OBUF;
    }
}

/* The buffer byte behind a device address, or NULL. */
static uint8_t *buffer_byte(uint32_t dev)
{
    uint32_t p = fake.config.rows * fake.config.cols;
    for (int r = 0; r < FAKE_R_COUNT; r++) {
        int per_pe = r == FAKE_R_WMEM_CODES || r == FAKE_R_WMEM_SCALES;
        uint32_t n_pe = per_pe ? p : 1;
        size_t per = fake.mem_bytes[r] / n_pe;
        for (uint32_t pe = 0; pe < n_pe; pe++) {
            uint32_t base = fake_region_base(r, pe);
            if (dev >= base && dev - base < per)
                return &fake.mem[r][pe * per + (dev - base)];
        }
    }
    return NULL;
}

static uint32_t tile_read(uint32_t dev)
{
    const pal_tile_config_t *c = &fake.config;
    switch (dev) {
    case PAL_FW_REG_ID: return fake.id;
    case PAL_FW_REG_ISA_VERSION: return fake.isa_version;
    case PAL_FW_REG_GEOMETRY: return c->rows | c->cols << 8 | c->acc_units << 16;
    case PAL_FW_REG_IMEM_DEPTH: return c->imem_depth;
    case PAL_FW_REG_ABUF_BLOCKS: return c->abuf_blocks;
    case PAL_FW_REG_WMEM_BLOCKS: return c->wmem_blocks;
    case PAL_FW_REG_ACC_DEPTH: return c->acc_depth;
    case PAL_FW_REG_BIAS_DEPTH: return c->bias_depth;
    case PAL_FW_REG_OBUF_DEPTH: return c->obuf_depth;
    case PAL_FW_REG_START_PC: return fake.start_pc;
    case PAL_FW_REG_STATUS:
        if ((fake.status & PAL_FW_STATUS_BUSY) && !fake.hang && fake.run_polls-- == 0)
            fake.status = PAL_FW_STATUS_DONE;
        return fake.status;
    default: break;
    }
    if (dev >= PAL_FW_REG_COUNTERS && dev < PAL_FW_REG_COUNTERS + 72 && (dev & 3) == 0)
        return fake.counters[(dev - PAL_FW_REG_COUNTERS) / 4];
    uint8_t *b = buffer_byte(dev);
    if (b && (dev & 3) == 0) {
        uint32_t v;
        memcpy(&v, b, 4);
        return v;
    }
    return 0xFFFFFFFFu;
}

uint32_t pal_hal_read32(uint32_t addr)
{
    if (addr == PAL_FW_TIMER_COUNT) {
        fake.time += fake.time_step;
        return fake.time;
    }
    if (addr == PAL_FW_MBOX_STATUS)
        return PAL_FW_MBOX_TX_FREE | (fake.rx_head != fake.rx_tail ? PAL_FW_MBOX_RX_VALID : 0u);
    if (addr == PAL_FW_MBOX_RX_DATA)
        return fake.rx_head != fake.rx_tail ? fake.rx[fake.rx_head++ % 4096] : 0u;
    if (addr & PAL_FW_TILE_BASE)
        return tile_read(addr & ~PAL_FW_TILE_BASE);
    return 0;
}

static void outside(uint32_t addr)
{
    fake.outside_writes++;
    fake.last_outside = addr;
}

void pal_hal_write32(uint32_t addr, uint32_t value)
{
    if (addr == PAL_FW_MBOX_TX_DATA) {
        if (fake.tx_len < 4096)
            fake.tx[fake.tx_len++] = value;
        return;
    }
    if (addr == PAL_FW_SYSCTL_TILE_RESET) {
        if (value & 1u) {
            fake.resets++;
            fake.status = 0;
        }
        return;
    }
    if (!(addr & PAL_FW_TILE_BASE)) {
        outside(addr);
        return;
    }
    uint32_t dev = addr & ~PAL_FW_TILE_BASE;
    if (dev == PAL_FW_REG_START_PC) {
        fake.start_pc = value;
        return;
    }
    if (dev == PAL_FW_REG_CONTROL) {
        fake.control_writes++;
        if (value & PAL_FW_CONTROL_START) {
            fake.starts++;
            fake.status = PAL_FW_STATUS_BUSY;
            fake.run_polls = 3;
        }
        return;
    }
    uint8_t *b = buffer_byte(dev);
    /* word regions only: IMEM, ACC, BIAS, OBUF */
    int word_region = (dev >= PAL_FW_DEV_IMEM && dev < PAL_FW_DEV_ABUF_CODES) ||
                      (dev >= PAL_FW_DEV_ACC && dev < PAL_FW_DEV_ACC_NAR) ||
                      (dev >= PAL_FW_DEV_BIAS);
    if (!b || (dev & 3) || !word_region || !buffer_byte(dev + 3)) {
        outside(addr);
        return;
    }
    memcpy(b, &value, 4);
}

void pal_hal_write8(uint32_t addr, uint8_t value)
{
    uint32_t dev = addr & ~PAL_FW_TILE_BASE;
    uint8_t *b = (addr & PAL_FW_TILE_BASE) ? buffer_byte(dev) : NULL;
    int byte_region = (dev >= PAL_FW_DEV_ABUF_CODES && dev < PAL_FW_DEV_ACC) ||
                      (dev >= PAL_FW_DEV_ACC_NAR && dev < PAL_FW_DEV_BIAS);
    if (!b || !byte_region) {
        outside(addr);
        return;
    }
    *b = value;
}
