/* The host link protocol of docs/protocol.md: CRCs, frames, an incremental
 * frame parser, the device address map, the host's reliable stop-and-wait
 * request engine (pal_link_t) over any pal_transport_t, and the reference
 * model of the device's link engine (pal_link_model_t) that the RTL link
 * engine mirrors. Everything here is byte-exact with docs/protocol.md. */
#ifndef PAL_PROTOCOL_H
#define PAL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"
#include "pal/tile.h"
#include "pal/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Frame format (docs/protocol.md §2)                                       */
/* ======================================================================== */

#define PAL_PROTO_VERSION 1u
#define PAL_PROTO_SYNC 0xA5u
#define PAL_PROTO_HEADER_BYTES 7u  /* SYNC TYPE SEQ LEN(2) VER HCRC */
#define PAL_PROTO_TRAILER_BYTES 4u /* CRC-32 */
#define PAL_PROTO_OVERHEAD 11u     /* wire bytes per frame besides the payload */
#define PAL_PROTO_MAX_LEN 65535u   /* LEN is 16 bits */
/* Every device accepts payloads of at least this size, so a host can talk
 * to a device before INFO has told it the real maximum. */
#define PAL_PROTO_MIN_MAX_PAYLOAD 64u

/* Frame types. Replies are the request's type with bit 7 set, and NAK. */
typedef enum pal_msg_type {
  PAL_MSG_INFO = 0x01,
  PAL_MSG_WRITE = 0x02, /* payload: u32 address, data */
  PAL_MSG_READ = 0x03,  /* payload: u32 address, u16 length */
  PAL_MSG_PING = 0x04,  /* payload: anything (echoed) */
  PAL_MSG_FW = 0x05,    /* payload: one firmware message (docs/protocol.md §4.2) */
  PAL_MSG_INFO_REPLY = 0x81,
  PAL_MSG_WRITE_ACK = 0x82, /* payload: u32 address, u16 length (echo) */
  PAL_MSG_READ_REPLY = 0x83, /* payload: the data */
  PAL_MSG_PONG = 0x84,       /* payload: the PING's payload */
  PAL_MSG_FW_REPLY = 0x85,   /* payload: the firmware's reply message */
  PAL_MSG_NAK = 0xFF,        /* payload: u8 reason */
} pal_msg_type_t;

#define PAL_MSG_REPLY_BIT 0x80u

typedef enum pal_nak_reason {
  PAL_NAK_BAD_CRC = 1,      /* good header, payload CRC-32 wrong */
  PAL_NAK_UNKNOWN_TYPE = 2, /* not a request type */
  PAL_NAK_BAD_LENGTH = 3,   /* LEN over the max payload, or wrong for the type */
  PAL_NAK_BAD_ADDRESS = 4,  /* address out of range, misaligned, or not writable */
  PAL_NAK_BAD_VERSION = 5,  /* VER is not PAL_PROTO_VERSION */
  PAL_NAK_REFUSED = 6,      /* the target refused the value (CONTROL reserved
                             * bits or start while busy, NaR flag > 1, ...) */
  PAL_NAK_FIRMWARE = 7,     /* FW: the control core has halted, or did not take
                             * or answer a message in time; given up on until
                             * the device is reset (docs/protocol.md §4.2) */
} pal_nak_reason_t;

/* Firmware messages carried by PAL_MSG_FW (docs/control-core.md §4.1):
 * header word [7:0] command, [15:8] tag, [31:16] payload word count, then
 * the payload words, little-endian. Replies: command | 0x80, the tag, then
 * a status word and the command's data. */
typedef enum pal_fw_msg {
  PAL_FWMSG_INFO = 0x01,
  PAL_FWMSG_LOAD_BEGIN = 0x02,
  PAL_FWMSG_LOAD_DATA = 0x03,
  PAL_FWMSG_START = 0x04,
  PAL_FWMSG_STATUS = 0x05,
  PAL_FWMSG_COUNTERS = 0x06,
  PAL_FWMSG_RUN = 0x07,
} pal_fw_msg_t;
#define PAL_FWMSG_MAX_WORDS 64u /* payload words of one firmware request */

/* "INFO", "WRITE", ..., "NAK"; "UNKNOWN" otherwise. */
const char *pal_msg_type_name(uint32_t type);
/* "BAD_CRC", ...; "UNKNOWN" otherwise. */
const char *pal_nak_reason_name(uint32_t reason);

/* CRC-8, polynomial 0x07, init 0, no reflection, no final xor (the header
 * check: TYPE..VER). Check value of "123456789": 0xF4. */
uint8_t pal_proto_crc8(const uint8_t *data, size_t len);
/* CRC-32 IEEE 802.3 (reflected 0xEDB88320, init and xorout 0xFFFFFFFF).
 * Check value of "123456789": 0xCBF43926. */
uint32_t pal_proto_crc32(const uint8_t *data, size_t len);
/* Incremental form: crc = pal_proto_crc32_update(0, a, n); crc =
 * pal_proto_crc32_update(crc, b, m) equals pal_proto_crc32 of a then b. */
uint32_t pal_proto_crc32_update(uint32_t crc, const uint8_t *data, size_t len);

/* One frame, as the parser delivers it and the encoder takes it. */
typedef struct pal_frame {
  uint8_t type;
  uint8_t seq;
  uint8_t version; /* PAL_PROTO_VERSION for every frame this side sends */
  uint16_t len;
  const uint8_t *payload; /* len bytes (may be NULL when len is 0) */
} pal_frame_t;

/* Encodes `frame` (SYNC, header, HCRC, payload, CRC-32) into out, which
 * must hold frame->len + PAL_PROTO_OVERHEAD bytes (PAL_RESOURCE_EXHAUSTED
 * otherwise); *out_len receives that size. */
pal_status_t pal_frame_encode(const pal_frame_t *frame, uint8_t *out, size_t cap, size_t *out_len);

/* What the parser saw. Every event but NONE and BAD_HCRC comes with a
 * frame whose header passed its CRC (type, seq, version, len are valid). */
typedef enum pal_frame_event {
  PAL_FRAME_NONE = 0,     /* all input consumed, no frame completed */
  PAL_FRAME_OK,           /* a whole frame, both CRCs good: payload valid */
  PAL_FRAME_BAD_HCRC,     /* a header failed its CRC-8: dropped silently,
                           * hunting resumes at the byte after its SYNC */
  PAL_FRAME_BAD_VERSION,  /* good header, VER != 1: hunting resumes after it */
  PAL_FRAME_OVERSIZE,     /* good header, LEN > max payload: ditto */
  PAL_FRAME_BAD_CRC,      /* good header, payload CRC-32 wrong */
} pal_frame_event_t;

const char *pal_frame_event_name(pal_frame_event_t event);

typedef struct pal_frame_parser_stats {
  uint64_t frames_ok;
  uint64_t bad_hcrc;
  uint64_t bad_version;
  uint64_t oversize;
  uint64_t bad_crc;
  uint64_t idle_resets;     /* partial frames dropped by pal_frame_parser_reset */
  uint64_t bytes_discarded; /* bytes skipped while hunting for SYNC */
} pal_frame_parser_stats_t;

/* Incremental receiver: hunts for SYNC, checks the header CRC, collects
 * the payload and checks the CRC-32. No allocation after create. */
typedef struct pal_frame_parser pal_frame_parser_t;

/* max_payload: the largest LEN accepted (1..65535); larger is OVERSIZE. */
pal_status_t pal_frame_parser_create(uint32_t max_payload, pal_frame_parser_t **out_parser);
void pal_frame_parser_destroy(pal_frame_parser_t *parser);

/* Consumes bytes from data until an event happens or the input ends, and
 * returns how many it consumed (call again with the rest). *out_event is
 * the event; for every event with a good header, *out_frame describes the
 * frame, its payload (OK only) pointing into the parser, valid until the
 * next call on the parser. */
size_t pal_frame_parser_push(pal_frame_parser_t *parser, const uint8_t *data, size_t len,
                             pal_frame_event_t *out_event, pal_frame_t *out_frame);

/* The idle timeout: drops any partial frame and hunts again. Returns true
 * (and counts an idle reset) when a partial frame was dropped. */
bool pal_frame_parser_reset(pal_frame_parser_t *parser);
/* True while a frame has begun (SYNC seen) but not completed. */
bool pal_frame_parser_busy(const pal_frame_parser_t *parser);
void pal_frame_parser_set_max_payload(pal_frame_parser_t *parser, uint32_t max_payload);
void pal_frame_parser_get_stats(const pal_frame_parser_t *parser,
                                pal_frame_parser_stats_t *out_stats);

/* ======================================================================== */
/* INFO (docs/protocol.md §4)                                               */
/* ======================================================================== */

#define PAL_PROTO_INFO_BYTES 64u
#define PAL_PROTO_INFO_MAGIC "PAL1"
#define PAL_PROTO_NAME_BYTES 16u
#define PAL_PROTO_FLAG_FIRMWARE 0x1u /* a control core answers FW requests */
/* the tile has no POST unit (pal_tile_config_t.no_post): the encoder sets
 * it from `tile`, the decoder sets `tile.no_post` from it */
#define PAL_PROTO_FLAG_NO_POST 0x2u
/* the tile has no accumulate units (pal_tile_config_t.no_accu: GEMMs leave
 * raw block sums, docs/isa.md §1), set and read like NO_POST */
#define PAL_PROTO_FLAG_NO_ACCU 0x4u
/* the link engine keeps no §5.1 counters (the iCE40 board's, for its logic
 * cells): the link-register window is unmapped (NAK BAD_ADDRESS) and
 * pal_device_read_link_counters says so; the host's own link statistics
 * (pal_device_link_stats) still count */
#define PAL_PROTO_FLAG_NO_LINK_COUNTERS 0x8u

typedef struct pal_link_info {
  uint32_t protocol_version;
  uint32_t isa_version;
  uint32_t flags;            /* PAL_PROTO_FLAG_* */
  pal_tile_config_t tile;    /* geometry and buffer sizes */
  uint32_t max_payload;      /* largest LEN the device accepts and sends */
  uint32_t clock_hz;         /* core clock; 0 when not meaningful (emulator) */
  uint32_t idle_byte_times;  /* device's partial-frame idle timeout */
  char name[PAL_PROTO_NAME_BYTES + 1]; /* NUL-terminated */
} pal_link_info_t;

/* Writes the 64-byte INFO reply payload. */
void pal_link_info_encode(const pal_link_info_t *info, uint8_t out[PAL_PROTO_INFO_BYTES]);
/* Parses an INFO reply payload: fails (PAL_DATA_LOSS) on a short payload
 * or a bad magic; a newer device may send more than 64 bytes. */
pal_status_t pal_link_info_decode(const uint8_t *payload, size_t len, pal_link_info_t *out_info);

/* ======================================================================== */
/* Device address map (docs/protocol.md §5)                                 */
/* ======================================================================== */

#define PAL_ADDR_TILE_REGS 0x00000000u   /* docs/isa.md §6 */
#define PAL_ADDR_TILE_REGS_WINDOW 0x100u
#define PAL_ADDR_IMEM 0x00010000u
#define PAL_ADDR_IMEM_WINDOW 0xF0000u
#define PAL_ADDR_ABUF_CODES 0x00100000u
#define PAL_ADDR_ABUF_CODES_WINDOW 0x80000u
#define PAL_ADDR_ABUF_SCALES 0x00180000u
#define PAL_ADDR_ABUF_SCALES_WINDOW 0x10000u
#define PAL_ADDR_WMEM_CODES 0x01000000u  /* + pe * PAL_ADDR_WMEM_CODES_STRIDE */
#define PAL_ADDR_WMEM_CODES_STRIDE 0x10000u
#define PAL_ADDR_WMEM_SCALES 0x02000000u /* + pe * PAL_ADDR_WMEM_SCALES_STRIDE */
#define PAL_ADDR_WMEM_SCALES_STRIDE 0x1000u
#define PAL_ADDR_ACC 0x03000000u         /* each bank a PAL_ADDR_BANK_WINDOW */
#define PAL_ADDR_ACC_NAR 0x03100000u
#define PAL_ADDR_BIAS 0x03200000u
#define PAL_ADDR_OBUF 0x03300000u
#define PAL_ADDR_BANK_WINDOW 0x100000u
#define PAL_ADDR_LINK_REGS 0x0F000000u
#define PAL_ADDR_LINK_REGS_WINDOW 0x100u
#define PAL_ADDR_MAX_PES 256u            /* per-PE windows */
/* The RTL decodes this map from build/gen/pal_proto.vh, which
 * host/tile/pal_isagen.c writes from these definitions. */

/* Link-engine registers (read-only, 32 bits, wrap around), offsets from
 * PAL_ADDR_LINK_REGS. */
typedef enum pal_link_counter {
  PAL_LINK_CTR_RX_FRAMES = 0,   /* 0x00 frames received with both CRCs good */
  PAL_LINK_CTR_RX_BAD_HCRC,     /* 0x04 headers dropped (bad CRC-8) */
  PAL_LINK_CTR_RX_BAD_CRC,      /* 0x08 frames with a bad CRC-32 (NAK 1) */
  PAL_LINK_CTR_RX_IDLE_RESETS,  /* 0x0C partial frames dropped on idle timeout */
  PAL_LINK_CTR_RX_DISCARDED,    /* 0x10 bytes skipped while hunting for SYNC */
  PAL_LINK_CTR_TX_FRAMES,       /* 0x14 replies sent, NAKs included */
  PAL_LINK_CTR_NAKS_SENT,       /* 0x18 */
  PAL_LINK_CTR_DUP_WRITES,      /* 0x1C duplicate WRITEs acked, not executed */
  PAL_LINK_CTR_WRITES_EXECUTED, /* 0x20 */
  PAL_LINK_CTR_KERNEL_STARTS,   /* 0x24 CONTROL writes with start executed */
  PAL_LINK_CTR_COUNT
} pal_link_counter_t;

#define PAL_LINK_REG_COUNTER(c) (4u * (uint32_t)(c))

typedef struct pal_link_counters {
  uint32_t value[PAL_LINK_CTR_COUNT];
} pal_link_counters_t;

/* "RX_FRAMES", ...; "UNKNOWN" past the end. */
const char *pal_link_counter_name(uint32_t counter);

/* What one access (address, byte length) reaches. */
typedef enum pal_bus_target_kind {
  PAL_BUS_TILE_REG = 0, /* offset, word count */
  PAL_BUS_REGION,       /* region, pe, element index and count */
  PAL_BUS_LINK_REG,     /* offset, word count */
} pal_bus_target_kind_t;

typedef struct pal_bus_target {
  pal_bus_target_kind_t kind;
  pal_tile_region_t region;
  uint32_t pe;
  uint32_t offset;  /* register offset (TILE_REG, LINK_REG) */
  uint64_t index;   /* first element (REGION) */
  size_t count;     /* elements (REGION) or 32-bit registers */
} pal_bus_target_t;

/* Decodes an access of `length` bytes (>= 1) at `address` for a tile of
 * geometry cfg. An access reaches exactly one region of one PE, or a run of
 * registers; it must be aligned to and a multiple of the element size.
 * PAL_OUT_OF_RANGE (NAK 4) when it reaches nothing, crosses the end of its
 * region or is misaligned; the message names the address. */
pal_status_t pal_bus_decode(const pal_tile_config_t *cfg, uint32_t address, uint32_t length,
                            pal_bus_target_t *out_target);

/* The byte address of element `index` of `region` (of PE `pe` for WMEM_*). */
pal_status_t pal_bus_region_address(const pal_tile_config_t *cfg, pal_tile_region_t region,
                                    uint32_t pe, uint64_t index, uint32_t *out_address);

/* Checks that every region of a geometry fits its window of the map
 * (IMEM_DEPTH <= 61440, ABUF_BLOCKS <= 16384, P <= 256, WMEM_BLOCKS <= 2048). */
pal_status_t pal_bus_check_geometry(const pal_tile_config_t *cfg);

/* The bus master behind the link engine (and the direct emu:// path): the
 * address decoder in front of a tile device. A WRITE is checked whole
 * before any byte reaches the tile; reads have no side effects. After
 * every access the tile is allowed to run on by `run_cycles` (the model's
 * notion of time passing; PAL_TILE_NO_CYCLE_LIMIT: to completion). On
 * failure *out_nak (may be NULL) receives the NAK reason. */
typedef struct pal_bus {
  pal_tile_device_t *tile;
  uint64_t run_cycles;
  uint64_t kernel_starts; /* CONTROL writes with the start bit executed */
} pal_bus_t;

pal_status_t pal_bus_write(pal_bus_t *bus, uint32_t address, const uint8_t *data, size_t len,
                           pal_nak_reason_t *out_nak);
pal_status_t pal_bus_read(pal_bus_t *bus, uint32_t address, uint8_t *out_data, size_t len,
                          pal_nak_reason_t *out_nak);
/* Lets a busy tile run on by bus->run_cycles (called after every request). */
void pal_bus_advance(pal_bus_t *bus);

/* ======================================================================== */
/* Host side: reliable request/response (docs/protocol.md §6)               */
/* ======================================================================== */

typedef struct pal_link_options {
  uint32_t timeout_ms;      /* reply timeout per attempt, plus wire time (default 250) */
  uint32_t byte_time_ns;    /* wire time per byte (10e9/baud on a UART; 0 elsewhere) */
  uint32_t retries;         /* retransmissions after the first attempt (default 6) */
  uint32_t resync_attempts; /* PINGs of the resync procedure (default 4) */
  uint32_t max_payload;     /* 0: PAL_PROTO_MIN_MAX_PAYLOAD until INFO says more */
} pal_link_options_t;

void pal_link_options_initialize(pal_link_options_t *options);

/* What the host saw, for benchmarks and tests. */
typedef struct pal_link_stats {
  uint64_t requests;          /* transactions started (one per request) */
  uint64_t packets_sent;      /* frames written: requests, retransmissions, resync PINGs */
  uint64_t retransmissions;
  uint64_t timeouts;          /* attempts that got no usable reply in time */
  uint64_t naks;              /* NAKs received for the current request */
  uint64_t replies_discarded; /* good frames with the wrong SEQ or type (late duplicates) */
  uint64_t replies_malformed; /* right SEQ and type, wrong length or echo */
  uint64_t rx_bad_hcrc, rx_bad_crc, rx_bad_other; /* parser events on the way in */
  uint64_t resyncs;           /* resync procedures run */
  uint64_t failures;          /* transactions that failed after their retries */
  uint64_t tx_bytes, rx_bytes;       /* wire bytes */
  uint64_t data_written, data_read;  /* user bytes that WRITE/READ moved */
} pal_link_stats_t;

typedef struct pal_link pal_link_t;

/* Takes ownership of `transport` (closed by pal_link_destroy, also when
 * this fails). Sends nothing. `options` may be NULL. */
pal_status_t pal_link_create(pal_transport_t transport, const pal_link_options_t *options,
                             pal_link_t **out_link);
void pal_link_destroy(pal_link_t *link);

/* One stop-and-wait transaction: sends a request of `type` with a fresh
 * SEQ, retransmits it (same SEQ) on timeout, on a bad-CRC reply and on
 * NAK 1, 3 or 5 (which noise can cause), up to options.retries times, and
 * returns the reply payload of type (type | 0x80) in out (at most cap
 * bytes; a longer reply is malformed). NAK 2, 4, 6 and 7 fail at once
 * (PAL_INVALID_ARGUMENT, PAL_OUT_OF_RANGE, PAL_FAILED_PRECONDITION,
 * PAL_UNAVAILABLE naming the firmware). After
 * the last retry the link is resynchronised and the call fails
 * (PAL_DEADLINE_EXCEEDED when it timed out, PAL_DATA_LOSS otherwise);
 * messages start with the transport's name. */
pal_status_t pal_link_transact(pal_link_t *link, uint8_t type, const uint8_t *payload,
                               size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* INFO; also sets the link's max payload from the reply. */
pal_status_t pal_link_info(pal_link_t *link, pal_link_info_t *out_info);
/* WRITE/READ of any length (0 is a no-op), split into packets of at most
 * the max payload. A WRITE is acknowledged once executed; a READ reply's
 * length is verified. */
pal_status_t pal_link_write(pal_link_t *link, uint32_t address, const void *data, size_t len);
pal_status_t pal_link_read(pal_link_t *link, uint32_t address, void *out_data, size_t len);
/* PING with `len` bytes of payload; the PONG must echo them. */
pal_status_t pal_link_ping(pal_link_t *link, const uint8_t *payload, size_t len);
/* Purges the transport, then PINGs with fresh SEQs until a PONG comes back
 * (PAL_DEADLINE_EXCEEDED after options.resync_attempts). */
pal_status_t pal_link_resync(pal_link_t *link);

uint32_t pal_link_max_payload(const pal_link_t *link);
void pal_link_set_max_payload(pal_link_t *link, uint32_t max_payload);
void pal_link_get_stats(const pal_link_t *link, pal_link_stats_t *out_stats);
pal_transport_t *pal_link_transport(pal_link_t *link);

/* ======================================================================== */
/* Device side: the link-engine reference model (docs/protocol.md §7)       */
/* ======================================================================== */

#define PAL_LINK_DEFAULT_MAX_PAYLOAD 4096u
#define PAL_LINK_DEFAULT_IDLE_BYTE_TIMES 4096u

typedef struct pal_link_model_options {
  uint32_t max_payload;     /* 64..65535 (default 4096) */
  uint32_t idle_byte_times; /* partial frame dropped after this much silence (4096) */
  uint32_t clock_hz;        /* reported in INFO (default 0) */
  uint32_t flags;           /* reported in INFO */
  const char *name;         /* reported in INFO, up to 16 bytes (default "pal-link-model") */
  uint64_t run_cycles;      /* tile cycles per request (default: to completion) */
  /* Where replies go: called with each whole reply frame. */
  void (*emit)(void *ctx, const uint8_t *bytes, size_t len);
  void *emit_ctx;
} pal_link_model_options_t;

void pal_link_model_options_initialize(pal_link_model_options_t *options);

typedef struct pal_link_model pal_link_model_t;

/* The model drives `tile` (not owned; must outlive the model), whose
 * geometry must fit the address map. */
pal_status_t pal_link_model_create(pal_tile_device_t *tile, const pal_link_model_options_t *options,
                                   pal_link_model_t **out_model);
void pal_link_model_destroy(pal_link_model_t *model);
/* Redirects replies (replaces options.emit / emit_ctx). */
void pal_link_model_set_emit(pal_link_model_t *model,
                             void (*emit)(void *ctx, const uint8_t *bytes, size_t len), void *ctx);

/* Bytes from the line, in order, in any chunking. Replies are emitted
 * synchronously. Receiving also restarts the idle timer. */
void pal_link_model_receive(pal_link_model_t *model, const uint8_t *data, size_t len);
/* The line was silent for `byte_times`: once the silence since the last
 * byte reaches idle_byte_times, a partial frame is dropped. */
void pal_link_model_idle(pal_link_model_t *model, uint64_t byte_times);
void pal_link_model_get_counters(const pal_link_model_t *model, pal_link_counters_t *out_counters);
void pal_link_model_get_info(const pal_link_model_t *model, pal_link_info_t *out_info);

#ifdef __cplusplus
}
#endif
#endif /* PAL_PROTOCOL_H */
