/* The Verilated RTL tile (rtl/pal_tile.v) behind a C ABI: create a model of
 * one of the geometries built into the program, clock it, drive its bus
 * port (docs/tile-rtl.md has the address map), and use it as a
 * pal_tile_device_t, so every device-level test, tool and kernel that runs
 * on the emulator (emu://) runs on the RTL unchanged.
 *
 * Which geometries exist is a link-time choice: each is a separately
 * Verilated model (build/sim/, sim/sim.mk), 4x4 and 8x8 for the tests,
 * 16x16 for the benchmark; FST tracing needs the traced models of
 * `make sim-trace`. pal_sim_variants() lists what this program has. */
#ifndef PAL_SIM_H
#define PAL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"
#include "pal/tile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pal_sim pal_sim_t;

typedef struct pal_sim_options {
  uint32_t rows, cols;    /* geometry (default 4 x 4); the rest is docs/isa.md §1's default */
  bool trace;             /* use a traced model (make sim-trace) ... */
  const char *trace_path; /* ... and write an FST file here from the start (NULL: not yet) */
  uint64_t seed;          /* every register starts random from this seed (0: a fixed one),
                             so a missing reset shows up as a difference */
} pal_sim_options_t;

void pal_sim_options_initialize(pal_sim_options_t *options);

/* One Verilated model this program was linked with. */
typedef struct pal_sim_variant_info {
  uint32_t rows, cols;
  bool traced;
} pal_sim_variant_info_t;

/* Writes up to `max` entries; returns how many variants there are. */
size_t pal_sim_variants(pal_sim_variant_info_t *out, size_t max);

/* Creates a model in the power-on state (memories zero) and applies i_rst.
 * PAL_NOT_FOUND when no variant of that geometry (and tracing) is linked in;
 * the message lists those that are. `options` may be NULL (4x4). */
pal_status_t pal_sim_create(const pal_sim_options_t *options, pal_sim_t **out_sim);
void pal_sim_destroy(pal_sim_t *sim);

/* The tile's geometry, as its ID registers report it. */
const pal_tile_config_t *pal_sim_config(const pal_sim_t *sim);

/* Holds i_rst for `cycles` (>= 1) cycles: the sequencer, the bus port and
 * every register go to their reset state; memories keep their contents. */
pal_status_t pal_sim_reset(pal_sim_t *sim, uint32_t cycles);
/* Clocks the model `cycles` cycles, bus idle. */
pal_status_t pal_sim_run(pal_sim_t *sim, uint64_t cycles);
/* Cycles clocked since pal_sim_create. */
uint64_t pal_sim_cycle(const pal_sim_t *sim);
/* STATUS.busy, without a bus transfer. */
bool pal_sim_busy(const pal_sim_t *sim);

/* One bus transfer (2 cycles): a 32-bit word at byte address `addr`
 * (a multiple of 4); `strobes` selects the bytes written (bit i: byte i).
 * Memory regions can be reached only while the tile is idle:
 * PAL_FAILED_PRECONDITION otherwise. */
pal_status_t pal_sim_bus_read(pal_sim_t *sim, uint32_t addr, uint32_t *out_value);
pal_status_t pal_sim_bus_write(pal_sim_t *sim, uint32_t addr, uint32_t value, uint32_t strobes);

/* The bus address of element `index` of a region (for WMEM_*, of PE `pe`):
 * the map of docs/tile-rtl.md. Byte regions pack 4 elements per word; ACC,
 * BIAS, OBUF and IMEM elements and ACC NaR flags take a word each. */
uint32_t pal_sim_region_address(const pal_tile_config_t *config, pal_tile_region_t region,
                                uint32_t pe, uint64_t index);

/* FST waveform of everything from now on (until close or destroy).
 * PAL_UNIMPLEMENTED on a model built without tracing. */
pal_status_t pal_sim_trace_open(pal_sim_t *sim, const char *path);
pal_status_t pal_sim_trace_close(pal_sim_t *sim);

/* The model as a tile device (regions, registers, run/wait in cycles);
 * valid until pal_sim_destroy. wait(max_cycles) clocks at most max_cycles
 * cycles. */
pal_tile_device_t *pal_sim_device(pal_sim_t *sim);

#ifdef __cplusplus
}
#endif
#endif /* PAL_SIM_H */
