/* A fake of the control core's bus for host tests of the firmware: the
 * mailbox (word queues), the timer (advances a fixed step per read), the
 * system-control tile reset, and the tile at docs/protocol.md §5 addresses
 * with its ID registers, STATUS/CONTROL/START_PC, counters and every buffer
 * region sized by the configured geometry. Every buffer byte starts as a
 * canary; a write outside every buffer is counted, never performed. */
#ifndef PAL_FAKE_HAL_H
#define PAL_FAKE_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "pal/tile.h"

enum {
    FAKE_R_IMEM, FAKE_R_ABUF_CODES, FAKE_R_ABUF_SCALES, FAKE_R_WMEM_CODES, FAKE_R_WMEM_SCALES,
    FAKE_R_ACC, FAKE_R_ACC_NAR, FAKE_R_BIAS, FAKE_R_OBUF, FAKE_R_COUNT
};
#define FAKE_CANARY 0xA5u

typedef struct fake_tile {
    pal_tile_config_t config;
    uint32_t id, isa_version;
    uint8_t *mem[FAKE_R_COUNT];   /* all PEs back to back for WMEM */
    size_t mem_bytes[FAKE_R_COUNT];
    uint32_t start_pc, status;    /* STATUS bit 0 busy, bit 1 done */
    uint32_t starts, resets, control_writes;
    uint32_t outside_writes, last_outside;   /* writes that reached no buffer or register */
    uint32_t counters[18];
    int hang;                     /* a started kernel never finishes */
    uint32_t run_polls;           /* STATUS reads left until a started kernel is done */
    uint32_t time, time_step;
    /* mailbox */
    uint32_t rx[4096];
    size_t rx_head, rx_tail;
    uint32_t tx[4096];
    size_t tx_len;
} fake_tile_t;

extern fake_tile_t fake;

/* Sets up the fake for a geometry (defaults of pal_tile_config_initialize). */
void fake_init(const pal_tile_config_t *config);
void fake_release(void);
/* 1 when every buffer byte is still the canary. */
int fake_pristine(void);
/* Queue a request: header (cmd, tag, n words) then the payload. */
void fake_send(uint32_t cmd, uint32_t tag, const uint32_t *payload, uint32_t n);
/* Base address (device space) and element count of a region. */
uint32_t fake_region_base(int region, uint32_t pe);

#endif
