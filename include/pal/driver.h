/* libpaldrv: the user-space driver. Opens a device by URI (emu://,
 * serial://, sim+tcp://, and sim:// or usb:// once their layers register
 * them), talks the link protocol of docs/protocol.md to it, and offers
 * byte-addressed access plus tile-level calls (regions, registers, run,
 * wait, counters). Every failure message names the device URI. */
#ifndef PAL_DRIVER_H
#define PAL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/protocol.h"
#include "pal/status.h"
#include "pal/tile.h"
#include "pal/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Transports (besides those of other layers)                               */
/* ======================================================================== */

/* A serial port in raw mode (8N1, no flow control, exclusive access) at any
 * baud rate the OS has a constant for (50 .. 4000000, 3000000 included).
 * Reads and writes wait with poll(). */
pal_status_t pal_transport_serial_open(const char *path, uint32_t baud, pal_transport_t *out_transport);
/* True when the OS has a termios speed for `baud`. */
bool pal_transport_serial_baud_supported(uint32_t baud);

/* A TCP client (palsim, or any server speaking the protocol), TCP_NODELAY.
 * host is a name or a numeric address (IPv6 without brackets). */
pal_status_t pal_transport_tcp_open(const char *host, uint16_t port, uint32_t connect_timeout_ms,
                                    pal_transport_t *out_transport);

/* An in-process link-engine model as the far end: bytes written are fed to
 * the model at once, its replies become readable. Reading with nothing
 * there tells the model the line went idle (for longer than its idle
 * timeout) and returns no bytes without sleeping: timeouts on this
 * transport cost no wall time. The model is not owned. */
pal_status_t pal_transport_model_open(pal_link_model_t *model, const char *name,
                                      pal_transport_t *out_transport);

/* Fault injection, per byte and per direction, seeded. */
typedef struct pal_fault_options {
  double drop_rate;      /* the byte is lost */
  double corrupt_rate;   /* the byte is xored with a random non-zero value */
  double duplicate_rate; /* the byte arrives twice */
  double insert_rate;    /* a random byte arrives before it */
  uint64_t seed;
} pal_fault_options_t;

void pal_fault_options_initialize(pal_fault_options_t *options); /* all rates 0 */
bool pal_fault_options_active(const pal_fault_options_t *options);

typedef struct pal_fault_stats {
  uint64_t bytes; /* bytes that went through, both directions */
  uint64_t dropped, corrupted, duplicated, inserted;
} pal_fault_stats_t;

/* Wraps `inner` (taking ownership) in a transport that damages the byte
 * stream both ways as `options` say. */
pal_status_t pal_transport_fault_wrap(pal_transport_t inner, const pal_fault_options_t *options,
                                      pal_transport_t *out_transport);
/* Fails (PAL_INVALID_ARGUMENT) when `transport` is not a fault wrapper. */
pal_status_t pal_transport_fault_get_stats(const pal_transport_t *transport,
                                           pal_fault_stats_t *out_stats);

/* ======================================================================== */
/* Device URIs                                                              */
/* ======================================================================== */

#define PAL_URI_MAX 256
#define PAL_URI_MAX_QUERY 8

typedef struct pal_device_uri {
  char text[PAL_URI_MAX];   /* the whole URI, for messages */
  char scheme[24];          /* "emu", "serial", "sim+tcp", ... */
  char target[PAL_URI_MAX]; /* between "://" and "?": "", "/dev/ttyUSB1", "127.0.0.1:5555" */
  size_t query_count;
  struct {
    char key[32];
    char value[96];
  } query[PAL_URI_MAX_QUERY];
} pal_device_uri_t;

/* Splits SCHEME://TARGET[?KEY=VALUE[&KEY=VALUE]...]. Fails with
 * PAL_INVALID_ARGUMENT naming what is malformed (no "://", a bad scheme
 * name, an empty or repeated key, a key without '=', too long). */
pal_status_t pal_device_uri_parse(const char *text, pal_device_uri_t *out_uri);
/* The value of `key`, or NULL. */
const char *pal_device_uri_query(const pal_device_uri_t *uri, const char *key);
/* Fails naming the first key not in `allowed` (NULL-terminated) and
 * listing the allowed ones. */
pal_status_t pal_device_uri_check_keys(const pal_device_uri_t *uri, const char *const *allowed);
/* Parses the unsigned decimal value of `key` within [min, max]; an absent
 * key gives `fallback`. */
pal_status_t pal_device_uri_query_u32(const pal_device_uri_t *uri, const char *key,
                                      uint32_t fallback, uint32_t min, uint32_t max,
                                      uint32_t *out_value);

/* ======================================================================== */
/* Devices                                                                  */
/* ======================================================================== */

/* One open device. Not thread-safe: one thread at a time uses a device
 * (the link is stop-and-wait anyway); different devices are independent. */
typedef struct pal_device pal_device_t;

typedef struct pal_device_options {
  /* link protocol (every scheme but the direct emu:// path) */
  uint32_t timeout_ms;      /* reply timeout per attempt (plus wire time); default 250 */
  uint32_t retries;         /* retransmissions per request; default 6 */
  uint32_t resync_attempts; /* PINGs when a request failed; default 4 */
  uint32_t connect_timeout_ms; /* sim+tcp://; default 2000 */
  uint32_t wait_timeout_ms;    /* pal_device_tile()'s wait(); default 10000 */
  pal_fault_options_t faults;  /* damage the byte stream (tests); default none */
  /* emu:// */
  bool emu_direct;             /* no protocol: calls go straight to the emulator */
  const pal_tile_config_t *emu_config; /* NULL: the 4x4 defaults (or ?rows=&cols=) */
  uint32_t emu_max_payload;    /* 0: 4096 (or ?max_payload=) */
  pal_emu_arith_t emu_arith;   /* the emulator's GEMM path */
  /* devices with firmware (INFO flags bit 0; docs/control-core.md) */
  bool bare;                   /* never use the firmware path (bring-up); URI ?bare=1 */
  uint32_t fw_watchdog_cycles; /* kernel limit sent with RUN; 0: the firmware's default */
  /* Pause between STATUS polls while waiting for a kernel, after the first
   * few quick ones (default 1000 us: a board is not hammered). 0 for an
   * in-process simulator, whose time moves only while it is polled (sim://
   * sets 0 for itself). */
  uint32_t wait_poll_us;
} pal_device_options_t;

void pal_device_options_initialize(pal_device_options_t *options);

/* What the device reported in INFO (for the direct path: what its link
 * model would report). */
typedef struct pal_device_info {
  pal_link_info_t link;
  bool protocol;            /* false on the direct emu:// path */
  char uri[PAL_URI_MAX];
  bool firmware;            /* the device runs firmware and the driver uses it (not bare=1) */
  uint32_t firmware_version; /* from the firmware's INFO (0 when not asked) */
} pal_device_info_t;

/* Opens the device at `uri`, asks INFO and checks it (protocol version 1,
 * a valid geometry that fits the address map). URIs:
 *   emu://[?rows=R&cols=C&max_payload=N&direct=0|1]
 *   serial://PATH[?baud=N]           (default 3000000)
 *   sim+tcp://HOST:PORT
 *   sim://, usb://...                (PAL_UNAVAILABLE until registered)
 * and on every protocol scheme ?timeout_ms=N&retries=N&bare=0|1. When
 * INFO reports firmware and bare is not set, the driver asks the firmware's
 * INFO too (its view of the tile must match the link's) and then launches
 * kernels (a write of CONTROL.start, pal_device_start/run), waits for them
 * and reads STATUS and the counters through firmware commands; the
 * firmware's watchdog ends a kernel that runs past its limit (see
 * pal_device_wait). `options` may be
 * NULL. Unknown schemes, bad ports, bad bauds and unknown keys are
 * PAL_INVALID_ARGUMENT; no answer is PAL_DEADLINE_EXCEEDED. */
pal_status_t pal_device_open(const char *uri, const pal_device_options_t *options,
                             pal_device_t **out_device);
/* Releases the device and its transport; NULL is accepted. */
void pal_device_close(pal_device_t *device);

/* For layers that bring their own transport (usb://, sim://): wraps it
 * (taking ownership, also on failure) in the protocol, applies
 * options->faults, asks INFO and checks it. byte_time_ns: wire time per
 * byte, 0 when there is none. */
pal_status_t pal_device_open_transport(const char *uri, pal_transport_t transport,
                                       uint32_t byte_time_ns, const pal_device_options_t *options,
                                       pal_device_t **out_device);
/* A device on a tile without the protocol (like emu://?direct=1): the bus
 * master of protocol.h in front of `tile`. release(ctx) runs at close. */
pal_status_t pal_device_open_tile(const char *uri, pal_tile_device_t *tile,
                                  void (*release)(void *ctx), void *ctx,
                                  pal_device_t **out_device);

/* URI schemes from other layers. open() gets the parsed URI; it usually
 * builds a transport and calls pal_device_open_transport(uri->text, ...).
 * A registered scheme replaces a built-in of the same name (sim, usb).
 * The process-wide table is the one piece of global state of the driver:
 * schemes are plug-ins of the process, like a dlopen'ed library, guarded
 * by a mutex; the scheme object must outlive its use. Up to 16. */
typedef struct pal_device_scheme {
  const char *name;  /* "sim", "usb": without "://" */
  const char *usage; /* one line: "usb://VID:PID[?interface=N]  board over libusb" */
  pal_status_t (*open)(const pal_device_uri_t *uri, const pal_device_options_t *options,
                       pal_device_t **out_device);
} pal_device_scheme_t;

pal_status_t pal_device_register_scheme(const pal_device_scheme_t *scheme);
/* The usage lines of every scheme, one a line, into buf (for --help). */
void pal_device_schemes_usage(char *buf, size_t size);

const char *pal_device_uri(const pal_device_t *device);
pal_status_t pal_device_info(pal_device_t *device, pal_device_info_t *out_info);

/* Byte-addressed access to the address map of docs/protocol.md §5. Any
 * length; split into packets of the device's max payload. An access must
 * stay inside one region of one PE (or one register block). */
pal_status_t pal_device_write(pal_device_t *device, uint32_t address, const void *data, size_t len);
pal_status_t pal_device_read(pal_device_t *device, uint32_t address, void *out_data, size_t len);

/* Tile regions by element (pal/tile.h): count elements from `index`, `pe`
 * for WMEM_* (0 otherwise), range-checked against INFO's geometry. */
pal_status_t pal_device_write_region(pal_device_t *device, pal_tile_region_t region, uint32_t pe,
                                     uint64_t index, size_t count, const void *data);
pal_status_t pal_device_read_region(pal_device_t *device, pal_tile_region_t region, uint32_t pe,
                                    uint64_t index, size_t count, void *out_data);
/* Tile registers (docs/isa.md §6), by offset. */
pal_status_t pal_device_write_reg(pal_device_t *device, uint32_t offset, uint32_t value);
pal_status_t pal_device_read_reg(pal_device_t *device, uint32_t offset, uint32_t *out_value);

/* Instruction words (a multiple of 4) into IMEM at instruction `pc`. */
pal_status_t pal_device_load_program(pal_device_t *device, uint32_t pc, const uint32_t *words,
                                     size_t n_words);
/* START_PC = pc, then CONTROL.start. */
pal_status_t pal_device_start(pal_device_t *device, uint32_t pc);
/* Polls STATUS until the tile is not busy; PAL_DEADLINE_EXCEEDED after
 * timeout_ms. A kernel that stopped with an error is not a failure of the
 * call: see out_status (may be NULL). On the firmware path a kernel the
 * firmware's watchdog stopped fails with PAL_DEADLINE_EXCEEDED and a
 * message that says so (the tile was reset; the next kernel can run). */
pal_status_t pal_device_wait(pal_device_t *device, uint32_t timeout_ms,
                             pal_tile_status_t *out_status);
/* start, then wait. */
pal_status_t pal_device_run(pal_device_t *device, uint32_t pc, uint32_t timeout_ms,
                            pal_tile_status_t *out_status);
pal_status_t pal_device_read_status(pal_device_t *device, pal_tile_status_t *out_status);
/* The tile's performance counters, read in one request. */
pal_status_t pal_device_read_counters(pal_device_t *device, pal_tile_counters_t *out_counters);
/* The link engine's counters (PAL_UNIMPLEMENTED on the direct path). */
pal_status_t pal_device_read_link_counters(pal_device_t *device, pal_link_counters_t *out_counters);
/* CONTROL.reset: counters and STATUS cleared, a running kernel stopped. */
pal_status_t pal_device_reset(pal_device_t *device);
/* The resync procedure (purge, PING until PONG); OK at once on the direct path. */
pal_status_t pal_device_resync(pal_device_t *device);

/* Host-side link figures (zero on the direct path). */
void pal_device_link_stats(const pal_device_t *device, pal_link_stats_t *out_stats);
/* What the fault injector did (PAL_FAILED_PRECONDITION without one). */
pal_status_t pal_device_fault_stats(const pal_device_t *device, pal_fault_stats_t *out_stats);

/* One firmware message (docs/control-core.md §4.1) over the link's FW
 * packet, whatever the bare setting: `command` with n_words payload words;
 * the reply's words after its header (status word first) go to out_words
 * (at most cap), their number to *out_count. PAL_UNIMPLEMENTED when the
 * device reports no firmware. A firmware status other than OK is not a
 * failure of the call: the caller reads out_words[0]. */
pal_status_t pal_device_fw_command(pal_device_t *device, uint32_t command, const uint32_t *payload,
                                   size_t n_words, uint32_t *out_words, size_t cap,
                                   size_t *out_count);
/* Loads a kernel image (.palk bytes, docs/kernel-image.md): the host's
 * loader checks it against INFO first on every device; then on the
 * firmware path the bytes go to the firmware (LOAD_BEGIN/LOAD_DATA), which
 * checks them again against the tile itself before writing (a rejection is
 * PAL_FAILED_PRECONDITION naming its reason), else the host writes the
 * sections over the link. START_PC is the entry pc afterwards, so
 * pal_device_start(device, entry) or a CONTROL.start launches it. */
pal_status_t pal_device_load_image(pal_device_t *device, const void *data, size_t size);
/* Whether the driver sends kernel launches, status and counter requests
 * through the firmware (INFO reports firmware and bare is not set). */
bool pal_device_uses_firmware(const pal_device_t *device);

/* The device as a pal_tile_device_t, so tile-level code (pal_tile_device_run,
 * the tile test helpers) runs unchanged on any device. Valid until close.
 * Over a link its wait() polls STATUS for up to options.wait_timeout_ms
 * (max_cycles is honoured only on the direct path). */
pal_tile_device_t *pal_device_tile(pal_device_t *device);

#ifdef __cplusplus
}
#endif
#endif /* PAL_DRIVER_H */
