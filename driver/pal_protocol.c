/* The link protocol of docs/protocol.md, host side: CRCs, frame encoding,
 * the incremental frame parser (shared with the device model) and the
 * stop-and-wait request engine with retransmission and resync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/protocol.h"

/* ---- names ---------------------------------------------------------------- */

const char *pal_msg_type_name(uint32_t type) {
  switch (type) {
    case PAL_MSG_INFO: return "INFO";
    case PAL_MSG_WRITE: return "WRITE";
    case PAL_MSG_READ: return "READ";
    case PAL_MSG_PING: return "PING";
    case PAL_MSG_FW: return "FW";
    case PAL_MSG_FW_REPLY: return "FW_REPLY";
    case PAL_MSG_INFO_REPLY: return "INFO_REPLY";
    case PAL_MSG_WRITE_ACK: return "WRITE_ACK";
    case PAL_MSG_READ_REPLY: return "READ_REPLY";
    case PAL_MSG_PONG: return "PONG";
    case PAL_MSG_NAK: return "NAK";
    default: return "UNKNOWN";
  }
}

const char *pal_nak_reason_name(uint32_t reason) {
  switch (reason) {
    case PAL_NAK_BAD_CRC: return "BAD_CRC";
    case PAL_NAK_UNKNOWN_TYPE: return "UNKNOWN_TYPE";
    case PAL_NAK_BAD_LENGTH: return "BAD_LENGTH";
    case PAL_NAK_BAD_ADDRESS: return "BAD_ADDRESS";
    case PAL_NAK_BAD_VERSION: return "BAD_VERSION";
    case PAL_NAK_REFUSED: return "REFUSED";
    case PAL_NAK_FIRMWARE: return "FIRMWARE";
    default: return "UNKNOWN";
  }
}

const char *pal_frame_event_name(pal_frame_event_t event) {
  switch (event) {
    case PAL_FRAME_NONE: return "NONE";
    case PAL_FRAME_OK: return "OK";
    case PAL_FRAME_BAD_HCRC: return "BAD_HCRC";
    case PAL_FRAME_BAD_VERSION: return "BAD_VERSION";
    case PAL_FRAME_OVERSIZE: return "OVERSIZE";
    case PAL_FRAME_BAD_CRC: return "BAD_CRC";
  }
  return "UNKNOWN";
}

/* ---- CRCs ----------------------------------------------------------------- */

/* Bit-serial on purpose: six header bytes, and it reads as the RTL's LFSR. */
uint8_t pal_proto_crc8(const uint8_t *data, size_t len) {
  uint8_t crc = 0;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    for (int b = 0; b < 8; b++) crc = (uint8_t)((crc & 0x80u) ? ((unsigned)crc << 1) ^ 0x07u : (unsigned)crc << 1);
  }
  return crc;
}

static const uint32_t kCrc32Table[256] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu,
    0xE963A535u, 0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u,
    0x09B64C2Bu, 0x7EB17CBDu, 0xE7B82D07u, 0x90BF1D91u, 0x1DB71064u, 0x6AB020F2u,
    0xF3B97148u, 0x84BE41DEu, 0x1ADAD47Du, 0x6DDDE4EBu, 0xF4D4B551u, 0x83D385C7u,
    0x136C9856u, 0x646BA8C0u, 0xFD62F97Au, 0x8A65C9ECu, 0x14015C4Fu, 0x63066CD9u,
    0xFA0F3D63u, 0x8D080DF5u, 0x3B6E20C8u, 0x4C69105Eu, 0xD56041E4u, 0xA2677172u,
    0x3C03E4D1u, 0x4B04D447u, 0xD20D85FDu, 0xA50AB56Bu, 0x35B5A8FAu, 0x42B2986Cu,
    0xDBBBC9D6u, 0xACBCF940u, 0x32D86CE3u, 0x45DF5C75u, 0xDCD60DCFu, 0xABD13D59u,
    0x26D930ACu, 0x51DE003Au, 0xC8D75180u, 0xBFD06116u, 0x21B4F4B5u, 0x56B3C423u,
    0xCFBA9599u, 0xB8BDA50Fu, 0x2802B89Eu, 0x5F058808u, 0xC60CD9B2u, 0xB10BE924u,
    0x2F6F7C87u, 0x58684C11u, 0xC1611DABu, 0xB6662D3Du, 0x76DC4190u, 0x01DB7106u,
    0x98D220BCu, 0xEFD5102Au, 0x71B18589u, 0x06B6B51Fu, 0x9FBFE4A5u, 0xE8B8D433u,
    0x7807C9A2u, 0x0F00F934u, 0x9609A88Eu, 0xE10E9818u, 0x7F6A0DBBu, 0x086D3D2Du,
    0x91646C97u, 0xE6635C01u, 0x6B6B51F4u, 0x1C6C6162u, 0x856530D8u, 0xF262004Eu,
    0x6C0695EDu, 0x1B01A57Bu, 0x8208F4C1u, 0xF50FC457u, 0x65B0D9C6u, 0x12B7E950u,
    0x8BBEB8EAu, 0xFCB9887Cu, 0x62DD1DDFu, 0x15DA2D49u, 0x8CD37CF3u, 0xFBD44C65u,
    0x4DB26158u, 0x3AB551CEu, 0xA3BC0074u, 0xD4BB30E2u, 0x4ADFA541u, 0x3DD895D7u,
    0xA4D1C46Du, 0xD3D6F4FBu, 0x4369E96Au, 0x346ED9FCu, 0xAD678846u, 0xDA60B8D0u,
    0x44042D73u, 0x33031DE5u, 0xAA0A4C5Fu, 0xDD0D7CC9u, 0x5005713Cu, 0x270241AAu,
    0xBE0B1010u, 0xC90C2086u, 0x5768B525u, 0x206F85B3u, 0xB966D409u, 0xCE61E49Fu,
    0x5EDEF90Eu, 0x29D9C998u, 0xB0D09822u, 0xC7D7A8B4u, 0x59B33D17u, 0x2EB40D81u,
    0xB7BD5C3Bu, 0xC0BA6CADu, 0xEDB88320u, 0x9ABFB3B6u, 0x03B6E20Cu, 0x74B1D29Au,
    0xEAD54739u, 0x9DD277AFu, 0x04DB2615u, 0x73DC1683u, 0xE3630B12u, 0x94643B84u,
    0x0D6D6A3Eu, 0x7A6A5AA8u, 0xE40ECF0Bu, 0x9309FF9Du, 0x0A00AE27u, 0x7D079EB1u,
    0xF00F9344u, 0x8708A3D2u, 0x1E01F268u, 0x6906C2FEu, 0xF762575Du, 0x806567CBu,
    0x196C3671u, 0x6E6B06E7u, 0xFED41B76u, 0x89D32BE0u, 0x10DA7A5Au, 0x67DD4ACCu,
    0xF9B9DF6Fu, 0x8EBEEFF9u, 0x17B7BE43u, 0x60B08ED5u, 0xD6D6A3E8u, 0xA1D1937Eu,
    0x38D8C2C4u, 0x4FDFF252u, 0xD1BB67F1u, 0xA6BC5767u, 0x3FB506DDu, 0x48B2364Bu,
    0xD80D2BDAu, 0xAF0A1B4Cu, 0x36034AF6u, 0x41047A60u, 0xDF60EFC3u, 0xA867DF55u,
    0x316E8EEFu, 0x4669BE79u, 0xCB61B38Cu, 0xBC66831Au, 0x256FD2A0u, 0x5268E236u,
    0xCC0C7795u, 0xBB0B4703u, 0x220216B9u, 0x5505262Fu, 0xC5BA3BBEu, 0xB2BD0B28u,
    0x2BB45A92u, 0x5CB36A04u, 0xC2D7FFA7u, 0xB5D0CF31u, 0x2CD99E8Bu, 0x5BDEAE1Du,
    0x9B64C2B0u, 0xEC63F226u, 0x756AA39Cu, 0x026D930Au, 0x9C0906A9u, 0xEB0E363Fu,
    0x72076785u, 0x05005713u, 0x95BF4A82u, 0xE2B87A14u, 0x7BB12BAEu, 0x0CB61B38u,
    0x92D28E9Bu, 0xE5D5BE0Du, 0x7CDCEFB7u, 0x0BDBDF21u, 0x86D3D2D4u, 0xF1D4E242u,
    0x68DDB3F8u, 0x1FDA836Eu, 0x81BE16CDu, 0xF6B9265Bu, 0x6FB077E1u, 0x18B74777u,
    0x88085AE6u, 0xFF0F6A70u, 0x66063BCAu, 0x11010B5Cu, 0x8F659EFFu, 0xF862AE69u,
    0x616BFFD3u, 0x166CCF45u, 0xA00AE278u, 0xD70DD2EEu, 0x4E048354u, 0x3903B3C2u,
    0xA7672661u, 0xD06016F7u, 0x4969474Du, 0x3E6E77DBu, 0xAED16A4Au, 0xD9D65ADCu,
    0x40DF0B66u, 0x37D83BF0u, 0xA9BCAE53u, 0xDEBB9EC5u, 0x47B2CF7Fu, 0x30B5FFE9u,
    0xBDBDF21Cu, 0xCABAC28Au, 0x53B39330u, 0x24B4A3A6u, 0xBAD03605u, 0xCDD70693u,
    0x54DE5729u, 0x23D967BFu, 0xB3667A2Eu, 0xC4614AB8u, 0x5D681B02u, 0x2A6F2B94u,
    0xB40BBE37u, 0xC30C8EA1u, 0x5A05DF1Bu, 0x2D02EF8Du,
};

uint32_t pal_proto_crc32_update(uint32_t crc, const uint8_t *data, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) crc = kCrc32Table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

uint32_t pal_proto_crc32(const uint8_t *data, size_t len) {
  return pal_proto_crc32_update(0, data, len);
}

/* ---- little-endian helpers ------------------------------------------------ */

static inline void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v) {
  put16(p, v);
  put16(p + 2, v >> 16);
}
static inline uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }

/* ---- encoder -------------------------------------------------------------- */

pal_status_t pal_frame_encode(const pal_frame_t *frame, uint8_t *out, size_t cap, size_t *out_len) {
  size_t n = (size_t)frame->len + PAL_PROTO_OVERHEAD;
  if (cap < n)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                           "encoding a %s frame of %u payload bytes needs %zu bytes, buffer has %zu",
                           pal_msg_type_name(frame->type), (unsigned)frame->len, n, cap);
  out[0] = PAL_PROTO_SYNC;
  out[1] = frame->type;
  out[2] = frame->seq;
  put16(out + 3, frame->len);
  out[5] = frame->version;
  out[6] = pal_proto_crc8(out + 1, 5);
  if (frame->len) memmove(out + PAL_PROTO_HEADER_BYTES, frame->payload, frame->len);
  uint32_t crc = pal_proto_crc32_update(0, out + 1, 5);
  crc = pal_proto_crc32_update(crc, out + PAL_PROTO_HEADER_BYTES, frame->len);
  put32(out + PAL_PROTO_HEADER_BYTES + frame->len, crc);
  *out_len = n;
  return PAL_STATUS_OK;
}

/* ---- parser --------------------------------------------------------------- */

struct pal_frame_parser {
  uint32_t max_payload;
  uint8_t hdr[PAL_PROTO_HEADER_BYTES];
  uint32_t hdr_n;     /* header bytes collected; 0 = hunting for SYNC */
  bool in_body;       /* header accepted, collecting payload + CRC-32 */
  uint32_t body_need; /* LEN + 4 */
  uint32_t body_n;
  pal_frame_t cur;
  pal_frame_parser_stats_t stats;
  uint8_t body[PAL_PROTO_MAX_LEN + PAL_PROTO_TRAILER_BYTES];
};

pal_status_t pal_frame_parser_create(uint32_t max_payload, pal_frame_parser_t **out_parser) {
  *out_parser = NULL;
  if (max_payload < 1 || max_payload > PAL_PROTO_MAX_LEN)
    return pal_status_make(PAL_INVALID_ARGUMENT, "frame parser: max payload %u is outside 1..%u",
                           (unsigned)max_payload, (unsigned)PAL_PROTO_MAX_LEN);
  pal_frame_parser_t *p = calloc(1, sizeof *p);
  if (!p) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "frame parser: out of memory");
  p->max_payload = max_payload;
  *out_parser = p;
  return PAL_STATUS_OK;
}

void pal_frame_parser_destroy(pal_frame_parser_t *parser) { free(parser); }

void pal_frame_parser_set_max_payload(pal_frame_parser_t *parser, uint32_t max_payload) {
  if (max_payload >= 1 && max_payload <= PAL_PROTO_MAX_LEN) parser->max_payload = max_payload;
}

bool pal_frame_parser_busy(const pal_frame_parser_t *parser) {
  return parser->hdr_n > 0 || parser->in_body;
}

bool pal_frame_parser_reset(pal_frame_parser_t *parser) {
  bool dropped = pal_frame_parser_busy(parser);
  if (dropped) parser->stats.idle_resets++;
  parser->hdr_n = 0;
  parser->in_body = false;
  return dropped;
}

void pal_frame_parser_get_stats(const pal_frame_parser_t *parser,
                                pal_frame_parser_stats_t *out_stats) {
  *out_stats = parser->stats;
}

/* A header failed its CRC: hunting resumes at the byte after its SYNC, so
 * a SYNC among the six bytes already taken starts the next candidate. */
static void rescan_header(pal_frame_parser_t *p) {
  uint32_t j = 1;
  while (j < p->hdr_n && p->hdr[j] != PAL_PROTO_SYNC) j++;
  p->stats.bytes_discarded += j - 1;
  memmove(p->hdr, p->hdr + j, p->hdr_n - j);
  p->hdr_n -= j;
}

size_t pal_frame_parser_push(pal_frame_parser_t *p, const uint8_t *data, size_t len,
                             pal_frame_event_t *out_event, pal_frame_t *out_frame) {
  size_t i = 0;
  *out_event = PAL_FRAME_NONE;
  while (i < len) {
    if (p->in_body) {
      size_t take = p->body_need - p->body_n;
      if (take > len - i) take = len - i;
      memcpy(p->body + p->body_n, data + i, take);
      p->body_n += (uint32_t)take;
      i += take;
      if (p->body_n < p->body_need) continue;
      p->in_body = false;
      p->hdr_n = 0;
      uint32_t crc = pal_proto_crc32_update(0, p->hdr + 1, 5);
      crc = pal_proto_crc32_update(crc, p->body, p->cur.len);
      *out_frame = p->cur;
      if (crc == get32(p->body + p->cur.len)) {
        out_frame->payload = p->body;
        p->stats.frames_ok++;
        *out_event = PAL_FRAME_OK;
      } else {
        out_frame->payload = NULL;
        p->stats.bad_crc++;
        *out_event = PAL_FRAME_BAD_CRC;
      }
      return i;
    }
    if (p->hdr_n == 0) {
      const uint8_t *s = memchr(data + i, PAL_PROTO_SYNC, len - i);
      size_t skip = s ? (size_t)(s - (data + i)) : len - i;
      p->stats.bytes_discarded += skip;
      i += skip;
      if (!s) break;
      p->hdr[0] = data[i++];
      p->hdr_n = 1;
      continue;
    }
    p->hdr[p->hdr_n++] = data[i++];
    if (p->hdr_n < PAL_PROTO_HEADER_BYTES) continue;
    if (pal_proto_crc8(p->hdr + 1, 5) != p->hdr[6]) {
      p->stats.bad_hcrc++;
      rescan_header(p);
      *out_event = PAL_FRAME_BAD_HCRC;
      return i;
    }
    p->cur.type = p->hdr[1];
    p->cur.seq = p->hdr[2];
    p->cur.len = (uint16_t)get16(p->hdr + 3);
    p->cur.version = p->hdr[5];
    p->cur.payload = NULL;
    if (p->cur.version != PAL_PROTO_VERSION || p->cur.len > p->max_payload) {
      /* Nothing after this header can be trusted to be its payload: hunt on. */
      p->hdr_n = 0;
      *out_frame = p->cur;
      if (p->cur.version != PAL_PROTO_VERSION) {
        p->stats.bad_version++;
        *out_event = PAL_FRAME_BAD_VERSION;
      } else {
        p->stats.oversize++;
        *out_event = PAL_FRAME_OVERSIZE;
      }
      return i;
    }
    p->in_body = true;
    p->body_n = 0;
    p->body_need = (uint32_t)p->cur.len + PAL_PROTO_TRAILER_BYTES;
  }
  return i;
}

/* ---- INFO ------------------------------------------------------------------ */

void pal_link_info_encode(const pal_link_info_t *info, uint8_t out[PAL_PROTO_INFO_BYTES]) {
  memset(out, 0, PAL_PROTO_INFO_BYTES);
  memcpy(out, PAL_PROTO_INFO_MAGIC, 4);
  out[4] = (uint8_t)info->protocol_version;
  out[5] = (uint8_t)info->isa_version;
  put16(out + 6, info->flags | (info->tile.no_post ? PAL_PROTO_FLAG_NO_POST : 0) |
                     (info->tile.no_accu ? PAL_PROTO_FLAG_NO_ACCU : 0));
  out[8] = (uint8_t)info->tile.rows;
  out[9] = (uint8_t)info->tile.cols;
  out[10] = (uint8_t)info->tile.acc_units;
  put32(out + 12, info->tile.imem_depth);
  put32(out + 16, info->tile.abuf_blocks);
  put32(out + 20, info->tile.wmem_blocks);
  put32(out + 24, info->tile.acc_depth);
  put32(out + 28, info->tile.bias_depth);
  put32(out + 32, info->tile.obuf_depth);
  put32(out + 36, info->max_payload);
  put32(out + 40, info->clock_hz);
  put32(out + 44, info->idle_byte_times);
  memcpy(out + 48, info->name, strnlen(info->name, PAL_PROTO_NAME_BYTES));
}

pal_status_t pal_link_info_decode(const uint8_t *payload, size_t len, pal_link_info_t *out_info) {
  memset(out_info, 0, sizeof *out_info);
  if (len < PAL_PROTO_INFO_BYTES)
    return pal_status_make(PAL_DATA_LOSS, "INFO reply has %zu bytes, expected at least %u", len,
                           (unsigned)PAL_PROTO_INFO_BYTES);
  if (memcmp(payload, PAL_PROTO_INFO_MAGIC, 4) != 0)
    return pal_status_make(PAL_DATA_LOSS,
                           "INFO reply magic is %02x %02x %02x %02x, expected \"PAL1\"",
                           payload[0], payload[1], payload[2], payload[3]);
  out_info->protocol_version = payload[4];
  out_info->isa_version = payload[5];
  out_info->flags = get16(payload + 6);
  out_info->tile.no_post = (out_info->flags & PAL_PROTO_FLAG_NO_POST) ? 1 : 0;
  out_info->tile.no_accu = (out_info->flags & PAL_PROTO_FLAG_NO_ACCU) ? 1 : 0;
  out_info->tile.rows = payload[8];
  out_info->tile.cols = payload[9];
  out_info->tile.acc_units = payload[10];
  out_info->tile.imem_depth = get32(payload + 12);
  out_info->tile.abuf_blocks = get32(payload + 16);
  out_info->tile.wmem_blocks = get32(payload + 20);
  out_info->tile.acc_depth = get32(payload + 24);
  out_info->tile.bias_depth = get32(payload + 28);
  out_info->tile.obuf_depth = get32(payload + 32);
  out_info->max_payload = get32(payload + 36);
  out_info->clock_hz = get32(payload + 40);
  out_info->idle_byte_times = get32(payload + 44);
  memcpy(out_info->name, payload + 48, PAL_PROTO_NAME_BYTES);
  out_info->name[PAL_PROTO_NAME_BYTES] = 0;
  return PAL_STATUS_OK;
}

/* ---- host engine ------------------------------------------------------------ */

void pal_link_options_initialize(pal_link_options_t *options) {
  memset(options, 0, sizeof *options);
  options->timeout_ms = 250;
  options->byte_time_ns = 0;
  options->retries = 6;
  options->resync_attempts = 4;
  options->max_payload = 0;
}

#define LINK_RX_CHUNK 8192u
#define LINK_REPLY_FLOOR 256u /* the INFO reply buffer of pal_link_info */

struct pal_link {
  pal_transport_t transport;
  pal_link_options_t opt;
  uint32_t max_payload;
  uint8_t seq;
  pal_frame_parser_t *parser;
  uint8_t *tx; /* one frame of the largest payload */
  uint8_t rx[LINK_RX_CHUNK];
  size_t rx_pos, rx_len; /* received, not yet parsed */
  pal_link_stats_t stats;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

pal_status_t pal_link_create(pal_transport_t transport, const pal_link_options_t *options,
                             pal_link_t **out_link) {
  *out_link = NULL;
  pal_link_options_t opt;
  if (options)
    opt = *options;
  else
    pal_link_options_initialize(&opt);
  if (opt.max_payload > PAL_PROTO_MAX_LEN || (opt.max_payload && opt.max_payload < 8)) {
    pal_transport_close(&transport);
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: link max payload %u is outside 8..%u",
                           transport.name, (unsigned)opt.max_payload, (unsigned)PAL_PROTO_MAX_LEN);
  }
  pal_link_t *l = calloc(1, sizeof *l);
  uint8_t *tx = malloc(PAL_PROTO_MAX_LEN + PAL_PROTO_OVERHEAD);
  pal_frame_parser_t *parser = NULL;
  pal_status_t st = l && tx ? pal_frame_parser_create(PAL_PROTO_MAX_LEN, &parser)
                            : pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  if (st) {
    free(l);
    free(tx);
    pal_transport_close(&transport);
    return pal_status_annotate(st, "%s: creating the link", transport.name);
  }
  l->transport = transport;
  l->opt = opt;
  l->tx = tx;
  l->parser = parser;
  pal_link_set_max_payload(l, opt.max_payload ? opt.max_payload : PAL_PROTO_MIN_MAX_PAYLOAD);
  *out_link = l;
  return PAL_STATUS_OK;
}

void pal_link_destroy(pal_link_t *link) {
  if (!link) return;
  pal_transport_close(&link->transport);
  pal_frame_parser_destroy(link->parser);
  free(link->tx);
  free(link);
}

uint32_t pal_link_max_payload(const pal_link_t *link) { return link->max_payload; }

void pal_link_set_max_payload(pal_link_t *link, uint32_t max_payload) {
  if (max_payload < 8 || max_payload > PAL_PROTO_MAX_LEN) return;
  link->max_payload = max_payload;
  /* Replies are never longer than the device's max payload, so a false
   * header with a larger LEN is refused at once instead of waited for. The
   * floor leaves room for a longer INFO reply of a later version before
   * the max payload is known. */
  pal_frame_parser_set_max_payload(link->parser, max_payload > LINK_REPLY_FLOOR ? max_payload
                                                                                : LINK_REPLY_FLOOR);
}

void pal_link_get_stats(const pal_link_t *link, pal_link_stats_t *out_stats) {
  *out_stats = link->stats;
}

pal_transport_t *pal_link_transport(pal_link_t *link) { return &link->transport; }

/* The outcome of waiting for one reply. */
typedef enum {
  WAIT_GOT,       /* the reply, checked */
  WAIT_TIMEOUT,   /* nothing usable before the deadline */
  WAIT_RETRY_NAK, /* NAK that noise can cause (1, 3, 5) */
  WAIT_FATAL_NAK, /* NAK 2, 4, 6: the request itself is wrong; 7: the firmware is gone */
  WAIT_BAD_REPLY, /* our SEQ, but a bad CRC or a malformed payload */
  WAIT_ERROR,     /* the transport failed */
} wait_result_t;

/* What the reply must look like. */
typedef struct {
  uint8_t type;
  uint8_t seq;
  uint8_t *out;
  size_t cap;
  size_t *out_len;
  long exact_len;            /* -1: any length up to cap */
  const uint8_t *exact_data; /* non-NULL: the payload must equal these exact_len bytes */
} expect_t;

static wait_result_t await_reply(pal_link_t *l, const expect_t *e, uint64_t deadline,
                                 uint8_t *out_nak, pal_status_t *out_status) {
  for (;;) {
    if (l->rx_pos == l->rx_len) {
      uint64_t now = now_ns();
      if (now >= deadline) return WAIT_TIMEOUT;
      uint64_t ms = (deadline - now + 999999u) / 1000000u;
      size_t got = 0;
      pal_status_t st = l->transport.ops->read(l->transport.self, l->rx, sizeof l->rx, &got,
                                               ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
      if (st) {
        *out_status = st;
        return WAIT_ERROR;
      }
      /* The transport waited the time out (a model transport just says so). */
      if (got == 0) return WAIT_TIMEOUT;
      l->rx_pos = 0;
      l->rx_len = got;
      l->stats.rx_bytes += got;
    }
    pal_frame_event_t ev;
    pal_frame_t f;
    l->rx_pos += pal_frame_parser_push(l->parser, l->rx + l->rx_pos, l->rx_len - l->rx_pos, &ev, &f);
    switch (ev) {
      case PAL_FRAME_NONE: break;
      case PAL_FRAME_BAD_HCRC: l->stats.rx_bad_hcrc++; break;
      case PAL_FRAME_BAD_VERSION:
      case PAL_FRAME_OVERSIZE: l->stats.rx_bad_other++; break;
      case PAL_FRAME_BAD_CRC:
        l->stats.rx_bad_crc++;
        /* Our reply, damaged: ask again now rather than wait out the timeout. */
        if (f.seq == e->seq && (f.type == e->type || f.type == PAL_MSG_NAK)) return WAIT_BAD_REPLY;
        break;
      case PAL_FRAME_OK:
        if (f.seq != e->seq) {
          l->stats.replies_discarded++; /* a late reply to an earlier request */
          break;
        }
        if (f.type == PAL_MSG_NAK) {
          if (f.len != 1) {
            l->stats.replies_malformed++;
            return WAIT_BAD_REPLY;
          }
          l->stats.naks++;
          *out_nak = f.payload[0];
          return (*out_nak == PAL_NAK_BAD_CRC || *out_nak == PAL_NAK_BAD_LENGTH ||
                  *out_nak == PAL_NAK_BAD_VERSION)
                     ? WAIT_RETRY_NAK
                     : WAIT_FATAL_NAK;
        }
        if (f.type != e->type) {
          l->stats.replies_discarded++;
          break;
        }
        if ((e->exact_len >= 0 && f.len != (size_t)e->exact_len) || f.len > e->cap ||
            (e->exact_data && memcmp(f.payload, e->exact_data, f.len) != 0)) {
          l->stats.replies_malformed++;
          return WAIT_BAD_REPLY;
        }
        if (f.len) memcpy(e->out, f.payload, f.len);
        if (e->out_len) *e->out_len = f.len;
        return WAIT_GOT;
    }
  }
}

/* "WRITE 0x00100000 (+252 bytes)" for messages. */
static void describe(uint8_t type, const uint8_t *payload, size_t len, char *buf, size_t size) {
  if (type == PAL_MSG_WRITE && len >= 4)
    snprintf(buf, size, "WRITE 0x%08x (%zu bytes)", (unsigned)get32(payload), len - 4);
  else if (type == PAL_MSG_READ && len >= 6)
    snprintf(buf, size, "READ 0x%08x (%u bytes)", (unsigned)get32(payload),
             (unsigned)get16(payload + 4));
  else
    snprintf(buf, size, "%s", pal_msg_type_name(type));
}

static pal_status_t send_frame(pal_link_t *l, size_t n) {
  uint64_t ms = l->opt.timeout_ms + (uint64_t)n * l->opt.byte_time_ns / 1000000u;
  pal_status_t st = l->transport.ops->write(l->transport.self, l->tx, n,
                                            ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
  if (st) return st;
  l->stats.packets_sent++;
  l->stats.tx_bytes += n;
  return PAL_STATUS_OK;
}

static uint64_t reply_deadline(const pal_link_t *l, size_t tx_bytes, size_t reply_bytes) {
  return now_ns() + (uint64_t)l->opt.timeout_ms * 1000000u +
         (uint64_t)(tx_bytes + reply_bytes + PAL_PROTO_OVERHEAD) * l->opt.byte_time_ns;
}

/* A host-side idle timeout: whatever partial frame we hold is stale. */
static void drop_partial(pal_link_t *l) {
  l->rx_pos = l->rx_len = 0;
  pal_frame_parser_reset(l->parser);
}

pal_status_t pal_link_resync(pal_link_t *l) {
  l->stats.resyncs++;
  pal_status_t st = l->transport.ops->purge ? l->transport.ops->purge(l->transport.self) : NULL;
  if (st) return pal_status_annotate(st, "%s: resync: purging the transport", l->transport.name);
  drop_partial(l);
  for (uint32_t attempt = 0; attempt < l->opt.resync_attempts; attempt++) {
    pal_frame_t f = {PAL_MSG_PING, ++l->seq, PAL_PROTO_VERSION, 0, NULL};
    size_t n;
    PAL_RETURN_IF_ERROR(pal_frame_encode(&f, l->tx, PAL_PROTO_OVERHEAD, &n));
    st = send_frame(l, n);
    if (st) return pal_status_annotate(st, "%s: resync: sending PING", l->transport.name);
    expect_t e = {PAL_MSG_PONG, f.seq, NULL, 0, NULL, 0, NULL};
    uint8_t nak = 0;
    wait_result_t r = await_reply(l, &e, reply_deadline(l, n, 0), &nak, &st);
    if (r == WAIT_GOT) return PAL_STATUS_OK;
    if (r == WAIT_ERROR) return pal_status_annotate(st, "%s: resync", l->transport.name);
    if (r == WAIT_TIMEOUT) {
      l->stats.timeouts++;
      drop_partial(l);
    }
  }
  return pal_status_make(PAL_DEADLINE_EXCEEDED,
                         "%s: resync failed: no PONG after %u PINGs of %u ms each",
                         l->transport.name, (unsigned)l->opt.resync_attempts,
                         (unsigned)l->opt.timeout_ms);
}

static pal_status_t transact(pal_link_t *l, uint8_t type, const uint8_t *payload, size_t len,
                             expect_t *e) {
  if (len > l->max_payload)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s payload of %zu bytes exceeds the max %u",
                           l->transport.name, pal_msg_type_name(type), len,
                           (unsigned)l->max_payload);
  l->stats.requests++;
  pal_frame_t f = {type, ++l->seq, PAL_PROTO_VERSION, (uint16_t)len, payload};
  size_t n;
  PAL_RETURN_IF_ERROR(pal_frame_encode(&f, l->tx, PAL_PROTO_MAX_LEN + PAL_PROTO_OVERHEAD, &n));
  e->type = (uint8_t)(type | PAL_MSG_REPLY_BIT);
  e->seq = f.seq;
  size_t reply_bytes = e->exact_len >= 0 ? (size_t)e->exact_len : e->cap;
  uint32_t timeouts = 0, retry_naks = 0, bad = 0;
  uint8_t nak = 0;
  wait_result_t r = WAIT_TIMEOUT;
  for (uint32_t attempt = 0; attempt <= l->opt.retries; attempt++) {
    if (attempt) l->stats.retransmissions++;
    pal_status_t st = send_frame(l, n);
    if (!st) {
      r = await_reply(l, e, reply_deadline(l, n, reply_bytes), &nak, &st);
      if (r == WAIT_GOT) return PAL_STATUS_OK;
    }
    if (st) {
      char what[64];
      describe(type, payload, len, what, sizeof what);
      return pal_status_annotate(st, "%s: %s", l->transport.name, what);
    }
    if (r == WAIT_FATAL_NAK) {
      char what[64];
      describe(type, payload, len, what, sizeof what);
      if (nak == PAL_NAK_FIRMWARE)
        return pal_status_make(PAL_UNAVAILABLE,
                               "%s: %s: the device answered NAK %u (FIRMWARE): its control core has "
                               "halted or stopped answering; reset the device, or open it with bare=1 "
                               "to use the link engine's own path",
                               l->transport.name, what, (unsigned)nak);
      pal_status_code_t code = nak == PAL_NAK_BAD_ADDRESS ? PAL_OUT_OF_RANGE
                               : nak == PAL_NAK_REFUSED   ? PAL_FAILED_PRECONDITION
                                                          : PAL_INVALID_ARGUMENT;
      return pal_status_make(code, "%s: %s: the device answered NAK %u (%s)", l->transport.name,
                             what, (unsigned)nak, pal_nak_reason_name(nak));
    }
    if (r == WAIT_TIMEOUT) {
      l->stats.timeouts++;
      timeouts++;
      drop_partial(l);
    } else if (r == WAIT_RETRY_NAK) {
      retry_naks++;
    } else {
      bad++;
    }
  }
  l->stats.failures++;
  char what[64];
  describe(type, payload, len, what, sizeof what);
  pal_status_t rs = pal_link_resync(l);
  pal_status_t st = pal_status_make(
      r == WAIT_TIMEOUT ? PAL_DEADLINE_EXCEEDED : PAL_DATA_LOSS,
      "%s: %s: no valid reply after %u attempts (%u timed out after %u ms, %u NAKs, last %s, "
      "%u damaged or malformed replies); %s%s",
      l->transport.name, what, (unsigned)l->opt.retries + 1, (unsigned)timeouts,
      (unsigned)l->opt.timeout_ms, (unsigned)retry_naks,
      retry_naks ? pal_nak_reason_name(nak) : "none", (unsigned)bad,
      rs ? "resync failed too: " : "link resynchronised", rs ? pal_status_message(rs) : "");
  pal_status_free(rs);
  return st;
}

pal_status_t pal_link_transact(pal_link_t *link, uint8_t type, const uint8_t *payload,
                               size_t len, uint8_t *out, size_t cap, size_t *out_len) {
  expect_t e = {0, 0, out, cap, out_len, -1, NULL};
  return transact(link, type, payload, len, &e);
}

pal_status_t pal_link_info(pal_link_t *link, pal_link_info_t *out_info) {
  uint8_t buf[LINK_REPLY_FLOOR];
  size_t n = 0;
  expect_t e = {0, 0, buf, sizeof buf, &n, -1, NULL};
  PAL_RETURN_IF_ERROR(transact(link, PAL_MSG_INFO, NULL, 0, &e));
  pal_status_t st = pal_link_info_decode(buf, n, out_info);
  if (st) return pal_status_annotate(st, "%s", link->transport.name);
  if (out_info->max_payload < PAL_PROTO_MIN_MAX_PAYLOAD || out_info->max_payload > PAL_PROTO_MAX_LEN)
    return pal_status_make(PAL_DATA_LOSS, "%s: INFO reports a max payload of %u (allowed %u..%u)",
                           link->transport.name, (unsigned)out_info->max_payload,
                           (unsigned)PAL_PROTO_MIN_MAX_PAYLOAD, (unsigned)PAL_PROTO_MAX_LEN);
  pal_link_set_max_payload(link, out_info->max_payload);
  return PAL_STATUS_OK;
}

static pal_status_t check_span(const pal_link_t *l, const char *verb, uint32_t address, size_t len) {
  if (len > (uint64_t)UINT32_MAX + 1u - address)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s of %zu bytes at 0x%08x runs past 2^32",
                           l->transport.name, verb, len, (unsigned)address);
  return PAL_STATUS_OK;
}

pal_status_t pal_link_write(pal_link_t *link, uint32_t address, const void *data, size_t len) {
  PAL_RETURN_IF_ERROR(check_span(link, "write", address, len));
  const uint8_t *src = data;
  size_t chunk = link->max_payload - 4u;
  uint8_t *payload = malloc(4 + (len < chunk ? len : chunk));
  if (!payload && len) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", link->transport.name);
  pal_status_t st = PAL_STATUS_OK;
  for (size_t done = 0; done < len && !st;) {
    size_t n = len - done < chunk ? len - done : chunk;
    uint32_t a = address + (uint32_t)done;
    put32(payload, a);
    memcpy(payload + 4, src + done, n);
    uint8_t echo[6];
    put32(echo, a);
    put16(echo + 4, (uint32_t)n);
    uint8_t ack[6];
    expect_t e = {0, 0, ack, sizeof ack, NULL, 6, echo};
    st = transact(link, PAL_MSG_WRITE, payload, n + 4, &e);
    if (!st) link->stats.data_written += n;
    done += n;
  }
  free(payload);
  return st;
}

pal_status_t pal_link_read(pal_link_t *link, uint32_t address, void *out_data, size_t len) {
  PAL_RETURN_IF_ERROR(check_span(link, "read", address, len));
  uint8_t *dst = out_data;
  size_t chunk = link->max_payload;
  for (size_t done = 0; done < len;) {
    size_t n = len - done < chunk ? len - done : chunk;
    uint8_t req[6];
    put32(req, address + (uint32_t)done);
    put16(req + 4, (uint32_t)n);
    expect_t e = {0, 0, dst + done, n, NULL, (long)n, NULL};
    PAL_RETURN_IF_ERROR(transact(link, PAL_MSG_READ, req, sizeof req, &e));
    link->stats.data_read += n;
    done += n;
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_link_ping(pal_link_t *link, const uint8_t *payload, size_t len) {
  uint8_t *echo = malloc(len ? len : 1);
  if (!echo) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", link->transport.name);
  expect_t e = {0, 0, echo, len, NULL, (long)len, payload};
  pal_status_t st = transact(link, PAL_MSG_PING, payload, len, &e);
  free(echo);
  return st;
}
