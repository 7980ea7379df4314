/* The Verilated SoC (rtl/pal_soc.v: link engine + bus bridge + tile) behind
 * a C ABI, with its two attachments (docs/protocol.md, docs/soc-rtl.md):
 *   PAL_SOC_ATTACH_FIFO  bytes go straight into the link engine's byte port,
 *                        one byte per cycle each way (for speed);
 *   PAL_SOC_ATTACH_UART  bytes are serialised onto the UART RX pin and the
 *                        TX pin is sampled, 8N1, bit-accurate, at
 *                        `clocks_per_bit` cycles per bit.
 * The model is a byte stream: pal_soc_transport() wraps it as a
 * pal_transport_t, so the driver's protocol engine (and so sim://, palsim
 * and every test) talks to the RTL link engine exactly as it talks to a
 * board.
 *
 * Timing of the transport: write() queues the bytes (they enter the model
 * as the clock runs); read() clocks the model until at least one reply byte
 * has come out, or until it has clocked the cycles that `timeout_ms` stands
 * for at `cycles_per_ms` (model time, so a slow host machine never turns a
 * correct reply into a timeout), or until the wall-clock `timeout_ms` has
 * passed twice over, whichever comes first. The tile runs concurrently with
 * the link, as on hardware. */
#ifndef PAL_SOC_H
#define PAL_SOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"
#include "pal/tile.h"
#include "pal/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pal_soc pal_soc_t;

typedef enum pal_soc_attach {
  PAL_SOC_ATTACH_FIFO = 0,
  PAL_SOC_ATTACH_UART = 1,
} pal_soc_attach_t;

typedef struct pal_soc_options {
  uint32_t rows, cols;        /* tile geometry (default 4 x 4); must be a linked variant */
  pal_soc_attach_t attach;    /* default FIFO */
  uint32_t clocks_per_bit;    /* UART attachment: cycles per bit (default 4: the
                                 iCEBreaker's 12 MHz core at 3 Mbaud) */
  uint32_t cycles_per_ms;     /* model cycles a millisecond of timeout stands for
                                 (default 12000: a 12 MHz core) */
  uint64_t seed;              /* registers start random from it (0: a fixed one) */
  const char *trace_path;     /* FST of everything (needs a traced build; NULL: none) */
  bool firmware;              /* the SoC with the control core and its firmware
                                 (pal_soc CONTROL_CORE = 1: 4x4 FIFO or UART, 8x8 FIFO);
                                 default false */
  const char *board;          /* a board's configuration instead (sim://?board=NAME: the
                                 geometry, depths, payload size and control core of
                                 BOARD_PARAMS_<NAME>, constraints/boards.mk); rows,
                                 cols and firmware are then ignored. NULL: none */
} pal_soc_options_t;

void pal_soc_options_initialize(pal_soc_options_t *options);

/* Creates the SoC in its power-on state and applies reset. PAL_NOT_FOUND
 * when the geometry is not linked in (the message lists those that are). */
pal_status_t pal_soc_create(const pal_soc_options_t *options, pal_soc_t **out_soc);
void pal_soc_destroy(pal_soc_t *soc);

/* The tile's geometry (what INFO will report). */
const pal_tile_config_t *pal_soc_config(const pal_soc_t *soc);
/* Cycles clocked since creation. */
uint64_t pal_soc_cycle(const pal_soc_t *soc);
/* Clocks `cycles` cycles (bytes queued by write() keep flowing in, reply
 * bytes are collected for read()). */
pal_status_t pal_soc_run(pal_soc_t *soc, uint64_t cycles);

/* Byte interface, for tests that drive the link engine directly. */
pal_status_t pal_soc_write_bytes(pal_soc_t *soc, const uint8_t *data, size_t len);
/* Moves up to `cap` collected reply bytes out, without clocking. */
size_t pal_soc_read_bytes(pal_soc_t *soc, uint8_t *out_data, size_t cap);

/* The SoC as a transport (see the timing note above). The transport does
 * not own the SoC: close() leaves it alive; destroy the SoC after the
 * transport's last use. `name` is copied into transport.name. */
pal_status_t pal_soc_transport(pal_soc_t *soc, const char *name, pal_transport_t *out_transport);

/* Registers the sim:// scheme with the driver (driver.h):
 *   sim://[?rows=R&cols=C&attach=fifo|uart&clocks_per_bit=N&seed=N&fw=0|1]
 * opens a fresh SoC in this process and a device on it; the SoC is
 * destroyed when the device is closed. fw=1: the SoC with the control core
 * running firmware/ (INFO reports firmware; the driver then launches
 * kernels and reads status and counters through it, unless bare=1).
 * Idempotent. */
pal_status_t pal_soc_register_scheme(void);

#ifdef __cplusplus
}
#endif
#endif /* PAL_SOC_H */
