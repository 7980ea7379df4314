/* Reference model of the device's link engine (docs/protocol.md §7): the
 * receiver (hunt, header CRC, payload CRC, idle timeout), the request
 * decoder, the duplicate-WRITE rule, the bus master in front of the tile and
 * the reply encoder. The RTL link engine mirrors this file; it is written
 * to be read next to the Verilog, one decision at a time. */
#include <stdlib.h>
#include <string.h>

#include "pal/protocol.h"

struct pal_link_model {
  pal_link_model_options_t opt;
  pal_bus_t bus;
  pal_frame_parser_t *rx;
  pal_link_info_t info;
  char name[PAL_PROTO_NAME_BYTES + 1];
  uint64_t silence; /* byte times since the last byte arrived */

  /* The duplicate-WRITE rule: the SEQ and kind of the last request that was
   * executed (not NAKed). A WRITE with the same SEQ right after that WRITE
   * is the host's retransmission: acknowledge it, do not execute it again. */
  bool have_last;
  bool last_was_write;
  uint8_t last_seq;

  uint64_t tx_frames, naks_sent, dup_writes, writes_executed;
  uint8_t *tx;       /* one reply frame */
  uint8_t *scratch;  /* a reply payload */
};

void pal_link_model_options_initialize(pal_link_model_options_t *options) {
  memset(options, 0, sizeof *options);
  options->max_payload = PAL_LINK_DEFAULT_MAX_PAYLOAD;
  options->idle_byte_times = PAL_LINK_DEFAULT_IDLE_BYTE_TIMES;
  options->clock_hz = 0;
  options->flags = 0;
  options->name = "pal-link-model";
  options->run_cycles = PAL_TILE_NO_CYCLE_LIMIT;
}

pal_status_t pal_link_model_create(pal_tile_device_t *tile, const pal_link_model_options_t *options,
                                   pal_link_model_t **out_model) {
  *out_model = NULL;
  pal_link_model_options_t opt;
  if (options)
    opt = *options;
  else
    pal_link_model_options_initialize(&opt);
  if (!tile) return pal_status_make(PAL_INVALID_ARGUMENT, "link model: no tile device");
  if (opt.max_payload < PAL_PROTO_MIN_MAX_PAYLOAD || opt.max_payload > PAL_PROTO_MAX_LEN)
    return pal_status_make(PAL_INVALID_ARGUMENT, "link model: max payload %u is outside %u..%u",
                           (unsigned)opt.max_payload, (unsigned)PAL_PROTO_MIN_MAX_PAYLOAD,
                           (unsigned)PAL_PROTO_MAX_LEN);
  if (opt.idle_byte_times == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "link model: idle timeout of 0 byte times");
  pal_status_t st = pal_bus_check_geometry(&tile->config);
  if (st) return pal_status_annotate(st, "link model on %s", tile->name ? tile->name : "tile");
  pal_link_model_t *m = calloc(1, sizeof *m);
  if (!m) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "link model: out of memory");
  m->tx = malloc(opt.max_payload + PAL_PROTO_OVERHEAD);
  m->scratch = malloc(opt.max_payload);
  st = m->tx && m->scratch ? pal_frame_parser_create(opt.max_payload, &m->rx)
                           : pal_status_make(PAL_RESOURCE_EXHAUSTED, "link model: out of memory");
  if (st) {
    pal_link_model_destroy(m);
    return st;
  }
  m->opt = opt;
  m->bus.tile = tile;
  m->bus.run_cycles = opt.run_cycles;
  strncpy(m->name, opt.name ? opt.name : "", PAL_PROTO_NAME_BYTES);
  m->opt.name = m->name;
  m->info.protocol_version = PAL_PROTO_VERSION;
  m->info.isa_version = PAL_ISA_VERSION;
  m->info.flags = opt.flags;
  m->info.tile = tile->config;
  m->info.max_payload = opt.max_payload;
  m->info.clock_hz = opt.clock_hz;
  m->info.idle_byte_times = opt.idle_byte_times;
  memcpy(m->info.name, m->name, sizeof m->info.name);
  *out_model = m;
  return PAL_STATUS_OK;
}

void pal_link_model_destroy(pal_link_model_t *model) {
  if (!model) return;
  pal_frame_parser_destroy(model->rx);
  free(model->tx);
  free(model->scratch);
  free(model);
}

void pal_link_model_get_info(const pal_link_model_t *model, pal_link_info_t *out_info) {
  *out_info = model->info;
}

void pal_link_model_get_counters(const pal_link_model_t *model, pal_link_counters_t *out) {
  pal_frame_parser_stats_t s;
  pal_frame_parser_get_stats(model->rx, &s);
  /* 32-bit registers that wrap, as the RTL's. */
  out->value[PAL_LINK_CTR_RX_FRAMES] = (uint32_t)s.frames_ok;
  out->value[PAL_LINK_CTR_RX_BAD_HCRC] = (uint32_t)s.bad_hcrc;
  out->value[PAL_LINK_CTR_RX_BAD_CRC] = (uint32_t)s.bad_crc;
  out->value[PAL_LINK_CTR_RX_IDLE_RESETS] = (uint32_t)s.idle_resets;
  out->value[PAL_LINK_CTR_RX_DISCARDED] = (uint32_t)s.bytes_discarded;
  out->value[PAL_LINK_CTR_TX_FRAMES] = (uint32_t)model->tx_frames;
  out->value[PAL_LINK_CTR_NAKS_SENT] = (uint32_t)model->naks_sent;
  out->value[PAL_LINK_CTR_DUP_WRITES] = (uint32_t)model->dup_writes;
  out->value[PAL_LINK_CTR_WRITES_EXECUTED] = (uint32_t)model->writes_executed;
  out->value[PAL_LINK_CTR_KERNEL_STARTS] = (uint32_t)model->bus.kernel_starts;
}

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }

static void reply(pal_link_model_t *m, uint8_t type, uint8_t seq, const uint8_t *payload, size_t len) {
  pal_frame_t f = {type, seq, PAL_PROTO_VERSION, (uint16_t)len, payload};
  size_t n = 0;
  /* Cannot fail: tx holds max_payload + overhead and no reply is longer. */
  pal_status_free(pal_frame_encode(&f, m->tx, m->opt.max_payload + PAL_PROTO_OVERHEAD, &n));
  m->tx_frames++;
  if (m->opt.emit) m->opt.emit(m->opt.emit_ctx, m->tx, n);
}

static void nak(pal_link_model_t *m, uint8_t seq, pal_nak_reason_t reason) {
  uint8_t r = (uint8_t)reason;
  m->naks_sent++;
  reply(m, PAL_MSG_NAK, seq, &r, 1);
}

/* Reads link-engine registers: the counters as they stand, this READ's own
 * frame already counted. */
static void read_link_regs(const pal_link_model_t *m, const pal_bus_target_t *t, uint8_t *out) {
  pal_link_counters_t c;
  pal_link_model_get_counters(m, &c);
  for (size_t k = 0; k < t->count; k++) {
    uint32_t v = c.value[t->offset / 4 + k];
    out[4 * k] = (uint8_t)v;
    out[4 * k + 1] = (uint8_t)(v >> 8);
    out[4 * k + 2] = (uint8_t)(v >> 16);
    out[4 * k + 3] = (uint8_t)(v >> 24);
  }
}

/* One request whose header and payload CRCs are good. Returns false when
 * it was NAKed (and so not executed). */
static bool execute(pal_link_model_t *m, const pal_frame_t *f) {
  switch (f->type) {
    case PAL_MSG_INFO: {
      if (f->len != 0) break;
      uint8_t p[PAL_PROTO_INFO_BYTES];
      pal_link_info_encode(&m->info, p);
      reply(m, PAL_MSG_INFO_REPLY, f->seq, p, sizeof p);
      return true;
    }
    case PAL_MSG_PING:
      reply(m, PAL_MSG_PONG, f->seq, f->payload, f->len);
      return true;
    case PAL_MSG_WRITE: {
      if (f->len < 5) break;
      uint32_t addr = get32(f->payload);
      uint32_t n = f->len - 4u;
      if (m->have_last && m->last_was_write && m->last_seq == f->seq) {
        m->dup_writes++; /* a retransmission: the first copy was executed */
      } else {
        /* The bus refuses the link-engine registers too: they are read-only. */
        pal_nak_reason_t why = PAL_NAK_BAD_ADDRESS;
        pal_status_t st = pal_bus_write(&m->bus, addr, f->payload + 4, n, &why);
        if (st) {
          pal_status_free(st);
          nak(m, f->seq, why);
          return false;
        }
        m->writes_executed++;
      }
      uint8_t ack[6];
      memcpy(ack, f->payload, 4);
      ack[4] = (uint8_t)n;
      ack[5] = (uint8_t)(n >> 8);
      reply(m, PAL_MSG_WRITE_ACK, f->seq, ack, sizeof ack);
      return true;
    }
    case PAL_MSG_READ: {
      if (f->len != 6) break;
      uint32_t addr = get32(f->payload), n = get16(f->payload + 4);
      if (n == 0 || n > m->opt.max_payload) break;
      pal_bus_target_t t;
      pal_nak_reason_t why = PAL_NAK_BAD_ADDRESS;
      pal_status_t st = pal_bus_decode(&m->bus.tile->config, addr, n, &t);
      if (!st) {
        if (t.kind == PAL_BUS_LINK_REG && (m->info.flags & PAL_PROTO_FLAG_NO_LINK_COUNTERS))
          st = pal_status_make(PAL_OUT_OF_RANGE, "no link counters on this device"); /* a hole */
        else if (t.kind == PAL_BUS_LINK_REG)
          read_link_regs(m, &t, m->scratch);
        else
          st = pal_bus_read(&m->bus, addr, m->scratch, n, &why);
      }
      if (st) {
        pal_status_free(st);
        nak(m, f->seq, why);
        return false;
      }
      reply(m, PAL_MSG_READ_REPLY, f->seq, m->scratch, n);
      return true;
    }
    default:
      nak(m, f->seq, PAL_NAK_UNKNOWN_TYPE);
      return false;
  }
  nak(m, f->seq, PAL_NAK_BAD_LENGTH); /* the payload length does not fit the type */
  return false;
}

void pal_link_model_receive(pal_link_model_t *m, const uint8_t *data, size_t len) {
  if (len) m->silence = 0;
  size_t i = 0;
  while (i < len) {
    pal_frame_event_t ev;
    pal_frame_t f;
    i += pal_frame_parser_push(m->rx, data + i, len - i, &ev, &f);
    switch (ev) {
      case PAL_FRAME_NONE:
      case PAL_FRAME_BAD_HCRC: /* silently: the header may not even be one */
        break;
      case PAL_FRAME_BAD_VERSION: nak(m, f.seq, PAL_NAK_BAD_VERSION); break;
      case PAL_FRAME_OVERSIZE: nak(m, f.seq, PAL_NAK_BAD_LENGTH); break;
      case PAL_FRAME_BAD_CRC: nak(m, f.seq, PAL_NAK_BAD_CRC); break;
      case PAL_FRAME_OK:
        if (execute(m, &f)) {
          m->have_last = true;
          m->last_was_write = f.type == PAL_MSG_WRITE;
          m->last_seq = f.seq;
        }
        /* The tile runs concurrently with the link: let it move on. */
        pal_bus_advance(&m->bus);
        break;
    }
  }
}

void pal_link_model_idle(pal_link_model_t *m, uint64_t byte_times) {
  m->silence = m->silence + byte_times < m->silence ? UINT64_MAX : m->silence + byte_times;
  if (m->silence >= m->opt.idle_byte_times) pal_frame_parser_reset(m->rx);
}

void pal_link_model_set_emit(pal_link_model_t *model,
                             void (*emit)(void *ctx, const uint8_t *bytes, size_t len), void *ctx) {
  model->opt.emit = emit;
  model->opt.emit_ctx = ctx;
}
