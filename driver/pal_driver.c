/* libpaldrv's device object: URI parsing and the scheme table, opening
 * emu://, serial:// and sim+tcp:// (others register themselves), and the
 * calls every device offers, over the link protocol or, for the direct
 * emu:// path, straight through the bus master to the emulator. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/driver.h"
#include "pal/kernel_image.h"

struct pal_device {
  char uri[PAL_URI_MAX];
  pal_device_options_t opt;
  pal_device_info_t info;
  pal_link_t *link; /* the protocol path; NULL on the direct path */
  pal_bus_t bus;    /* the direct path: bus.tile != NULL */
  void (*release)(void *ctx); /* frees what the device was built on, after the link */
  void *release_ctx;
  pal_tile_device_t tile_view;
  bool fw;           /* launches, waits, STATUS and counters through the firmware */
  uint8_t fw_tag;    /* tag of the last firmware message */
  uint32_t start_pc; /* the last START_PC written: the pc of a firmware RUN */
};

void pal_device_options_initialize(pal_device_options_t *options) {
  memset(options, 0, sizeof *options);
  options->timeout_ms = 250;
  options->retries = 6;
  options->resync_attempts = 4;
  options->connect_timeout_ms = 2000;
  options->wait_timeout_ms = 10000;
  pal_fault_options_initialize(&options->faults);
  options->emu_direct = false;
  options->emu_config = NULL;
  options->emu_max_payload = 0;
  options->emu_arith = PAL_EMU_ARITH_AUTO;
  options->bare = false;
  options->fw_watchdog_cycles = 0;
  options->wait_poll_us = 1000;
}

/* ======================================================================== */
/* URIs                                                                     */
/* ======================================================================== */

static pal_status_t uri_error(const char *text, const char *fmt, const char *detail) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, detail);
  return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": %s", text, msg);
}

pal_status_t pal_device_uri_parse(const char *text, pal_device_uri_t *out) {
  memset(out, 0, sizeof *out);
  if (!text) return pal_status_make(PAL_INVALID_ARGUMENT, "device URI: NULL");
  if (strlen(text) >= PAL_URI_MAX)
    return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%.40s...\": longer than %d bytes",
                           text, PAL_URI_MAX - 1);
  snprintf(out->text, sizeof out->text, "%s", text);
  const char *sep = strstr(text, "://");
  if (!sep) return uri_error(text, "%s", "not a device URI: expected SCHEME://... (for example emu://)");
  size_t slen = (size_t)(sep - text);
  if (slen == 0 || slen >= sizeof out->scheme) return uri_error(text, "%s", "scheme missing or too long");
  for (size_t i = 0; i < slen; i++) {
    char c = (char)tolower((unsigned char)text[i]);
    bool ok = isalpha((unsigned char)c) || (i > 0 && (isdigit((unsigned char)c) || c == '+' ||
                                                       c == '-' || c == '.'));
    if (!ok) return uri_error(text, "%s", "the scheme may hold only letters, digits, '+', '-', '.'");
    out->scheme[i] = c;
  }
  const char *rest = sep + 3;
  const char *q = strchr(rest, '?');
  size_t tlen = q ? (size_t)(q - rest) : strlen(rest);
  memcpy(out->target, rest, tlen);
  out->target[tlen] = 0;
  if (!q) return PAL_STATUS_OK;
  const char *p = q + 1;
  while (*p) {
    const char *end = strchr(p, '&');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    char item[160];
    snprintf(item, sizeof item, "%.*s", (int)(n < 150 ? n : 150), p);
    if (!eq) return uri_error(text, "query item \"%s\" is not KEY=VALUE", item);
    size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
    if (klen == 0) return uri_error(text, "query item \"%s\" has an empty key", item);
    if (out->query_count == PAL_URI_MAX_QUERY)
      return uri_error(text, "more than %s query items", "8");
    if (klen >= sizeof out->query[0].key || vlen >= sizeof out->query[0].value)
      return uri_error(text, "query item \"%s\" is too long", item);
    char key[32];
    memcpy(key, p, klen);
    key[klen] = 0;
    if (pal_device_uri_query(out, key)) return uri_error(text, "query key \"%s\" given twice", key);
    memcpy(out->query[out->query_count].key, key, klen + 1);
    memcpy(out->query[out->query_count].value, eq + 1, vlen);
    out->query[out->query_count].value[vlen] = 0;
    out->query_count++;
    if (!end) break;
    p = end + 1;
    if (!*p) return uri_error(text, "%s", "the query ends with '&'");
  }
  return PAL_STATUS_OK;
}

const char *pal_device_uri_query(const pal_device_uri_t *uri, const char *key) {
  for (size_t i = 0; i < uri->query_count; i++)
    if (!strcmp(uri->query[i].key, key)) return uri->query[i].value;
  return NULL;
}

pal_status_t pal_device_uri_check_keys(const pal_device_uri_t *uri, const char *const *allowed) {
  for (size_t i = 0; i < uri->query_count; i++) {
    bool ok = false;
    for (const char *const *a = allowed; a && *a && !ok; a++) ok = !strcmp(*a, uri->query[i].key);
    if (ok) continue;
    char list[160] = "";
    for (const char *const *a = allowed; a && *a; a++) {
      size_t l = strlen(list);
      snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *a);
    }
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": unknown query key \"%s\" for %s:// (known: %s)",
                           uri->text, uri->query[i].key, uri->scheme, list[0] ? list : "none");
  }
  return PAL_STATUS_OK;
}

static bool parse_u32(const char *s, uint32_t *out) {
  if (!s || !*s) return false;
  uint64_t v = 0;
  for (const char *c = s; *c; c++) {
    if (!isdigit((unsigned char)*c)) return false;
    v = v * 10 + (uint64_t)(*c - '0');
    if (v > UINT32_MAX) return false;
  }
  *out = (uint32_t)v;
  return true;
}

pal_status_t pal_device_uri_query_u32(const pal_device_uri_t *uri, const char *key,
                                      uint32_t fallback, uint32_t min, uint32_t max,
                                      uint32_t *out_value) {
  const char *v = pal_device_uri_query(uri, key);
  if (!v) {
    *out_value = fallback;
    return PAL_STATUS_OK;
  }
  uint32_t x;
  if (!parse_u32(v, &x) || x < min || x > max)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": %s=%s is not a whole number in %u..%u", uri->text,
                           key, v, (unsigned)min, (unsigned)max);
  *out_value = x;
  return PAL_STATUS_OK;
}

/* Removes `key` from the query (after the driver has applied it). */
static void uri_drop_key(pal_device_uri_t *uri, const char *key) {
  for (size_t i = 0; i < uri->query_count; i++)
    if (!strcmp(uri->query[i].key, key)) {
      memmove(&uri->query[i], &uri->query[i + 1], (uri->query_count - i - 1) * sizeof uri->query[0]);
      uri->query_count--;
      return;
    }
}

/* ======================================================================== */
/* Devices                                                                  */
/* ======================================================================== */

static pal_status_t check_info(const char *uri, const pal_link_info_t *info) {
  if (info->protocol_version != PAL_PROTO_VERSION)
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "%s: the device speaks link protocol version %u, this driver %u", uri,
                           (unsigned)info->protocol_version, (unsigned)PAL_PROTO_VERSION);
  pal_status_t st = pal_tile_config_validate(&info->tile);
  if (!st) st = pal_bus_check_geometry(&info->tile);
  if (st) return pal_status_annotate(st, "%s: INFO reports an unusable geometry", uri);
  return PAL_STATUS_OK;
}

static pal_device_t *device_new(const char *uri, const pal_device_options_t *options) {
  pal_device_t *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  snprintf(d->uri, sizeof d->uri, "%s", uri);
  if (options)
    d->opt = *options;
  else
    pal_device_options_initialize(&d->opt);
  snprintf(d->info.uri, sizeof d->info.uri, "%s", uri);
  return d;
}

/* ---- the firmware path (docs/control-core.md §4) ------------------------------ */

static void put32(uint8_t *p, uint32_t v);
static uint32_t get32(const uint8_t *p);

static const char *fw_command_name(uint32_t c) {
  switch (c) {
    case PAL_FWMSG_INFO: return "INFO";
    case PAL_FWMSG_LOAD_BEGIN: return "LOAD_BEGIN";
    case PAL_FWMSG_LOAD_DATA: return "LOAD_DATA";
    case PAL_FWMSG_START: return "START";
    case PAL_FWMSG_STATUS: return "STATUS";
    case PAL_FWMSG_COUNTERS: return "COUNTERS";
    case PAL_FWMSG_RUN: return "RUN";
    default: return "command";
  }
}

static const char *fw_status_name(uint32_t s) {
  static const char *const names[] = {"OK", "unknown command", "bad length", "busy (a kernel is running)",
                                      "no kernel loaded", "image rejected", "out of sequence",
                                      "pc outside IMEM", "no reply to replay"};
  return s < sizeof names / sizeof names[0] ? names[s] : "unknown status";
}

pal_status_t pal_device_fw_command(pal_device_t *d, uint32_t command, const uint32_t *payload,
                                   size_t n_words, uint32_t *out_words, size_t cap,
                                   size_t *out_count) {
  *out_count = 0;
  if (!d->link || !(d->info.link.flags & PAL_PROTO_FLAG_FIRMWARE))
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: the device reports no firmware (INFO flags 0x%x)",
                           d->uri, (unsigned)d->info.link.flags);
  if (command == 0 || command > 0x7F || n_words > PAL_FWMSG_MAX_WORDS || (n_words && !payload))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: firmware command 0x%02x with %zu payload words (at most %u)", d->uri,
                           (unsigned)command, n_words, (unsigned)PAL_FWMSG_MAX_WORDS);
  uint8_t req[4 * (1 + PAL_FWMSG_MAX_WORDS)];
  uint8_t tag = ++d->fw_tag;
  put32(req, command | (uint32_t)tag << 8 | (uint32_t)n_words << 16);
  for (size_t i = 0; i < n_words; i++) put32(req + 4 + 4 * i, payload[i]);
  uint8_t rep[4 * (2 + PAL_FWMSG_MAX_WORDS)];
  size_t rl = 0;
  pal_status_t st = pal_link_transact(d->link, PAL_MSG_FW, req, 4 + 4 * n_words, rep, sizeof rep, &rl);
  if (st) return pal_status_annotate(st, "firmware %s", fw_command_name(command));
  uint32_t head = rl >= 4 ? get32(rep) : 0;
  if (rl < 8 || rl % 4 || (head & 0xFFu) != (command | 0x80u) || ((head >> 8) & 0xFFu) != tag ||
      (head >> 16) + 1u != rl / 4)
    return pal_status_make(PAL_DATA_LOSS,
                           "%s: firmware %s: malformed reply (%zu bytes, header 0x%08x, tag %u)",
                           d->uri, fw_command_name(command), rl, (unsigned)head, (unsigned)tag);
  size_t n = rl / 4 - 1;
  for (size_t i = 0; i < n && i < cap; i++) out_words[i] = get32(rep + 4 + 4 * i);
  *out_count = n < cap ? n : cap;
  return PAL_STATUS_OK;
}

bool pal_device_uses_firmware(const pal_device_t *d) { return d->fw; }

/* A firmware command that must answer OK with at least `need` words
 * (status included). */
static pal_status_t fw_call(pal_device_t *d, uint32_t command, const uint32_t *payload, size_t n,
                            uint32_t *out, size_t cap, size_t need) {
  size_t got = 0;
  PAL_RETURN_IF_ERROR(pal_device_fw_command(d, command, payload, n, out, cap, &got));
  if (got < need)
    return pal_status_make(PAL_DATA_LOSS, "%s: firmware %s: reply of %zu words, expected %zu",
                           d->uri, fw_command_name(command), got, need);
  if (out[0] != 0) {
    pal_status_code_t code = out[0] == 3   ? PAL_FAILED_PRECONDITION
                             : out[0] == 7 ? PAL_OUT_OF_RANGE
                                           : PAL_INVALID_ARGUMENT;
    return pal_status_make(code, "%s: firmware %s: %s (status %u)", d->uri, fw_command_name(command),
                           fw_status_name(out[0]), (unsigned)out[0]);
  }
  return PAL_STATUS_OK;
}

/* The firmware's INFO, checked against the link engine's: both describe
 * the same tile, or something is badly wrong with the device. */
static pal_status_t fw_open(pal_device_t *d) {
  uint32_t r[16];
  PAL_RETURN_IF_ERROR(fw_call(d, PAL_FWMSG_INFO, NULL, 0, r, 16, 13));
  const pal_tile_config_t *t = &d->info.link.tile;
  if ((r[3] & 0xFFu) != t->rows || ((r[3] >> 8) & 0xFFu) != t->cols ||
      ((r[3] & PAL_TILE_GEOMETRY_NO_POST) != 0) != (t->no_post != 0) ||
      ((r[3] & PAL_TILE_GEOMETRY_NO_ACCU) != 0) != (t->no_accu != 0) || r[4] != t->imem_depth ||
      r[5] != t->abuf_blocks || r[6] != t->wmem_blocks || r[7] != t->acc_depth ||
      r[8] != t->bias_depth || r[9] != t->obuf_depth)
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "%s: the firmware sees another tile than INFO reports (geometry 0x%08x, "
                           "IMEM %u, ABUF %u, WMEM %u, ACC %u, BIAS %u, OBUF %u)",
                           d->uri, (unsigned)r[3], (unsigned)r[4], (unsigned)r[5], (unsigned)r[6],
                           (unsigned)r[7], (unsigned)r[8], (unsigned)r[9]);
  d->fw = true;
  d->info.firmware = true;
  d->info.firmware_version = r[10];
  return PAL_STATUS_OK;
}

/* STATUS reply words: status, run state, STATUS at the end of the run,
 * cycles, watchdog limit, kernel valid, last reject, detail, STATUS now. */
enum { FW_ST_RUN = 1, FW_ST_END = 2, FW_ST_CYCLES = 3, FW_ST_LIMIT = 4, FW_ST_LIVE = 8, FW_ST_WORDS = 9 };
enum { FW_RUN_IDLE = 0, FW_RUN_RUNNING = 1, FW_RUN_DONE = 2, FW_RUN_WATCHDOG = 3 };

static pal_status_t fw_status(pal_device_t *d, uint32_t *r) {
  return fw_call(d, PAL_FWMSG_STATUS, NULL, 0, r, 16, FW_ST_WORDS);
}

static pal_status_t fw_run(pal_device_t *d, uint32_t pc) {
  uint32_t p[2] = {pc, d->opt.fw_watchdog_cycles}, r[4];
  return fw_call(d, PAL_FWMSG_RUN, p, d->opt.fw_watchdog_cycles ? 2 : 1, r, 4, 1);
}

/* The protocol path over `transport` (owned, also on failure); release(ctx)
 * runs after the transport is closed, also on failure. */
static pal_status_t open_link(const char *uri, pal_transport_t transport, uint32_t byte_time_ns,
                              const pal_device_options_t *options, void (*release)(void *),
                              void *ctx, pal_device_t **out_device) {
  *out_device = NULL;
  pal_device_options_t defaults;
  if (!options) {
    pal_device_options_initialize(&defaults);
    options = &defaults;
  }
  snprintf(transport.name, sizeof transport.name, "%s", uri);
  pal_status_t st = PAL_STATUS_OK;
  if (pal_fault_options_active(&options->faults))
    st = pal_transport_fault_wrap(transport, &options->faults, &transport);
  pal_link_t *link = NULL;
  if (!st) {
    pal_link_options_t lo;
    pal_link_options_initialize(&lo);
    lo.timeout_ms = options->timeout_ms;
    lo.byte_time_ns = byte_time_ns;
    lo.retries = options->retries;
    lo.resync_attempts = options->resync_attempts;
    st = pal_link_create(transport, &lo, &link);
  }
  pal_device_t *d = NULL;
  if (!st) {
    d = device_new(uri, options);
    if (!d) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", uri);
  }
  if (!st) {
    d->link = link;
    d->release = release;
    d->release_ctx = ctx;
    d->info.protocol = true;
    st = pal_link_info(link, &d->info.link);
    if (!st) st = check_info(uri, &d->info.link);
    if (!st && (d->info.link.flags & PAL_PROTO_FLAG_FIRMWARE) && !options->bare)
      st = fw_open(d);
    if (st) {
      pal_device_close(d); /* destroys the link, then releases */
      return st;
    }
    *out_device = d;
    return PAL_STATUS_OK;
  }
  pal_link_destroy(link);
  if (release) release(ctx);
  return st;
}

pal_status_t pal_device_open_transport(const char *uri, pal_transport_t transport,
                                       uint32_t byte_time_ns, const pal_device_options_t *options,
                                       pal_device_t **out_device) {
  return open_link(uri, transport, byte_time_ns, options, NULL, NULL, out_device);
}

pal_status_t pal_device_open_tile(const char *uri, pal_tile_device_t *tile,
                                  void (*release)(void *ctx), void *ctx,
                                  pal_device_t **out_device) {
  *out_device = NULL;
  pal_status_t st = pal_bus_check_geometry(&tile->config);
  pal_device_t *d = st ? NULL : device_new(uri, NULL);
  if (!st && !d) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", uri);
  if (st) {
    if (release) release(ctx);
    return pal_status_annotate(st, "%s", uri);
  }
  d->bus.tile = tile;
  d->bus.run_cycles = PAL_TILE_NO_CYCLE_LIMIT;
  d->release = release;
  d->release_ctx = ctx;
  pal_link_info_t *li = &d->info.link;
  li->protocol_version = PAL_PROTO_VERSION;
  li->isa_version = PAL_ISA_VERSION;
  li->tile = tile->config;
  li->max_payload = PAL_PROTO_MAX_LEN;
  snprintf(li->name, sizeof li->name, "%s", tile->name ? tile->name : "tile");
  d->info.protocol = false;
  *out_device = d;
  return PAL_STATUS_OK;
}

void pal_device_close(pal_device_t *device) {
  if (!device) return;
  pal_link_destroy(device->link);
  if (device->release) device->release(device->release_ctx);
  free(device);
}

const char *pal_device_uri(const pal_device_t *device) { return device->uri; }

pal_status_t pal_device_info(pal_device_t *device, pal_device_info_t *out_info) {
  *out_info = device->info;
  return PAL_STATUS_OK;
}

/* ---- schemes ---------------------------------------------------------------- */

/* Prefixes the URI unless the message already starts with it. */
static pal_status_t with_uri(pal_status_t st, const char *uri) {
  if (!st || !strncmp(pal_status_message(st), uri, strlen(uri))) return st;
  return pal_status_annotate(st, "%s", uri);
}

typedef struct emu_resources {
  pal_emu_t *emu;
  pal_link_model_t *model;
} emu_resources_t;

static void emu_release(void *ctx) {
  emu_resources_t *r = ctx;
  pal_link_model_destroy(r->model);
  pal_emu_destroy(r->emu);
  free(r);
}

static pal_status_t emu_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                             pal_device_t **out_device) {
  static const char *const keys[] = {"rows", "cols", "max_payload", "direct", "post", "accu", "linkctrs", NULL};
  PAL_RETURN_IF_ERROR(pal_device_uri_check_keys(uri, keys));
  if (uri->target[0])
    return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": emu:// takes no path (got \"%s\")",
                           uri->text, uri->target);
  pal_tile_config_t cfg;
  if (options->emu_config)
    cfg = *options->emu_config;
  else
    pal_tile_config_initialize(&cfg, 4, 4);
  uint32_t rows, cols, direct, max_payload;
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "rows", cfg.rows, 1, 255, &rows));
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "cols", cfg.cols, 1, 255, &cols));
  if (rows != cfg.rows || cols != cfg.cols) pal_tile_config_initialize(&cfg, rows, cols);
  /* post=0: the tile without a POST unit, as the iCEBreaker's (docs/isa.md §1) */
  uint32_t post;
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "post", !cfg.no_post, 0, 1, &post));
  cfg.no_post = !post;
  /* accu=0: nor accumulate units (raw block sums, docs/isa.md §1; needs post=0) */
  uint32_t accu;
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "accu", !cfg.no_accu, 0, 1, &accu));
  cfg.no_accu = !accu;
  /* linkctrs=0: a link engine without its counters, as the iCEBreaker's
   * (INFO flag NO_LINK_COUNTERS, docs/protocol.md §5.1) */
  uint32_t linkctrs;
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "linkctrs", 1, 0, 1, &linkctrs));
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "direct", options->emu_direct, 0, 1, &direct));
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(
      uri, "max_payload", options->emu_max_payload ? options->emu_max_payload : PAL_LINK_DEFAULT_MAX_PAYLOAD,
      PAL_PROTO_MIN_MAX_PAYLOAD, PAL_PROTO_MAX_LEN, &max_payload));
  emu_resources_t *r = calloc(1, sizeof *r);
  if (!r) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", uri->text);
  pal_emu_options_t eo;
  pal_emu_options_initialize(&eo);
  eo.arith = options->emu_arith;
  pal_status_t st = pal_emu_create_with_options(&cfg, &eo, &r->emu);
  if (st) {
    free(r);
    return pal_status_annotate(st, "%s", uri->text);
  }
  pal_tile_device_t *tile = pal_emu_device(r->emu);
  if (direct) return pal_device_open_tile(uri->text, tile, emu_release, r, out_device);
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.max_payload = max_payload;
  mo.name = "emu";
  if (!linkctrs) mo.flags |= PAL_PROTO_FLAG_NO_LINK_COUNTERS;
  st = pal_link_model_create(tile, &mo, &r->model);
  pal_transport_t t;
  if (!st) st = pal_transport_model_open(r->model, uri->text, &t);
  if (st) {
    emu_release(r);
    return pal_status_annotate(st, "%s", uri->text);
  }
  return open_link(uri->text, t, 0, options, emu_release, r, out_device);
}

static pal_status_t serial_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                                pal_device_t **out_device) {
  static const char *const keys[] = {"baud", NULL};
  PAL_RETURN_IF_ERROR(pal_device_uri_check_keys(uri, keys));
  if (uri->target[0] != '/')
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": serial:// needs an absolute device path "
                           "(serial:///dev/ttyUSB1)",
                           uri->text);
  uint32_t baud;
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(uri, "baud", 3000000, 1, UINT32_MAX, &baud));
  if (!pal_transport_serial_baud_supported(baud))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": baud=%u is not a rate this OS supports (standard "
                           "rates from 50 to 4000000, 3000000 included)",
                           uri->text, (unsigned)baud);
  pal_transport_t t;
  pal_status_t st = pal_transport_serial_open(uri->target, baud, &t);
  if (st) return with_uri(st, uri->text);
  /* 8N1: ten bit times per byte. */
  return open_link(uri->text, t, (uint32_t)(10000000000ull / baud), options, NULL, NULL, out_device);
}

static pal_status_t tcp_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                             pal_device_t **out_device) {
  PAL_RETURN_IF_ERROR(pal_device_uri_check_keys(uri, NULL));
  char host[PAL_URI_MAX];
  const char *port_text;
  const char *t = uri->target;
  if (t[0] == '[') { /* [v6]:port */
    const char *close = strchr(t, ']');
    if (!close || close[1] != ':')
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "device URI \"%s\": expected sim+tcp://[IPV6]:PORT", uri->text);
    snprintf(host, sizeof host, "%.*s", (int)(close - t - 1), t + 1);
    port_text = close + 2;
  } else {
    const char *colon = strrchr(t, ':');
    if (!colon)
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "device URI \"%s\": expected sim+tcp://HOST:PORT (no port given)",
                             uri->text);
    snprintf(host, sizeof host, "%.*s", (int)(colon - t), t);
    port_text = colon + 1;
  }
  if (!host[0])
    return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": no host before the port",
                           uri->text);
  uint32_t port;
  if (!parse_u32(port_text, &port) || port < 1 || port > 65535)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": bad port \"%s\" (a number in 1..65535)", uri->text,
                           port_text);
  pal_transport_t tr;
  pal_status_t st = pal_transport_tcp_open(host, (uint16_t)port, options->connect_timeout_ms, &tr);
  if (st) return with_uri(st, uri->text);
  return open_link(uri->text, tr, 0, options, NULL, NULL, out_device);
}

static pal_status_t unavailable_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                                     pal_device_t **out_device) {
  (void)options;
  *out_device = NULL;
  const char *who = !strcmp(uri->scheme, "sim") ? "the Verilated SoC (libpalsim)"
                                                : "the USB transport";
  return pal_status_make(PAL_UNAVAILABLE,
                         "%s: %s:// is not available in this build: %s has not registered it "
                         "(pal_device_register_scheme)",
                         uri->text, uri->scheme, who);
}

static const pal_device_scheme_t kBuiltinSchemes[] = {
    {"emu", "emu://[?rows=R&cols=C&max_payload=N&direct=1]  C emulator behind the link-engine model",
     emu_open},
    {"serial", "serial://PATH[?baud=N]  board on a serial port (default 3000000 baud)", serial_open},
    {"sim+tcp", "sim+tcp://HOST:PORT  palsim (or any server speaking the protocol) over TCP",
     tcp_open},
    {"sim", "sim://  in-process Verilated SoC (once libpalsim registers it)", unavailable_open},
    {"usb", "usb://VID:PID[?interface=N]  board over libusb (once registered)", unavailable_open},
};
#define N_BUILTIN (sizeof kBuiltinSchemes / sizeof kBuiltinSchemes[0])

#define MAX_REGISTERED 16
static pthread_mutex_t g_schemes_lock = PTHREAD_MUTEX_INITIALIZER;
static const pal_device_scheme_t *g_schemes[MAX_REGISTERED];
static size_t g_scheme_count;

pal_status_t pal_device_register_scheme(const pal_device_scheme_t *scheme) {
  if (!scheme || !scheme->name || !scheme->name[0] || !scheme->open)
    return pal_status_make(PAL_INVALID_ARGUMENT, "registering a device scheme: name and open are required");
  pal_status_t st = PAL_STATUS_OK;
  pthread_mutex_lock(&g_schemes_lock);
  size_t i = 0;
  while (i < g_scheme_count && strcmp(g_schemes[i]->name, scheme->name)) i++;
  if (i < g_scheme_count)
    g_schemes[i] = scheme;
  else if (g_scheme_count < MAX_REGISTERED)
    g_schemes[g_scheme_count++] = scheme;
  else
    st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "registering %s://: the table holds %d schemes",
                         scheme->name, MAX_REGISTERED);
  pthread_mutex_unlock(&g_schemes_lock);
  return st;
}

static const pal_device_scheme_t *find_scheme(const char *name) {
  const pal_device_scheme_t *s = NULL;
  pthread_mutex_lock(&g_schemes_lock);
  for (size_t i = 0; i < g_scheme_count && !s; i++)
    if (!strcmp(g_schemes[i]->name, name)) s = g_schemes[i];
  pthread_mutex_unlock(&g_schemes_lock);
  for (size_t i = 0; i < N_BUILTIN && !s; i++)
    if (!strcmp(kBuiltinSchemes[i].name, name)) s = &kBuiltinSchemes[i];
  return s;
}

void pal_device_schemes_usage(char *buf, size_t size) {
  if (!size) return;
  buf[0] = 0;
  size_t len = 0;
  for (size_t i = 0; i < N_BUILTIN; i++) {
    const pal_device_scheme_t *s = find_scheme(kBuiltinSchemes[i].name); /* registered wins */
    len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "  %s\n",
                            s->usage ? s->usage : s->name);
    if (len >= size) return;
  }
  pthread_mutex_lock(&g_schemes_lock);
  for (size_t i = 0; i < g_scheme_count && len < size; i++) {
    bool builtin = false;
    for (size_t j = 0; j < N_BUILTIN; j++) builtin |= !strcmp(kBuiltinSchemes[j].name, g_schemes[i]->name);
    if (!builtin)
      len += (size_t)snprintf(buf + len, size - len, "  %s\n",
                              g_schemes[i]->usage ? g_schemes[i]->usage : g_schemes[i]->name);
  }
  pthread_mutex_unlock(&g_schemes_lock);
}

pal_status_t pal_device_open(const char *uri, const pal_device_options_t *options,
                             pal_device_t **out_device) {
  *out_device = NULL;
  pal_device_uri_t u;
  PAL_RETURN_IF_ERROR(pal_device_uri_parse(uri, &u));
  const pal_device_scheme_t *s = find_scheme(u.scheme);
  if (!s) {
    char known[512];
    pal_device_schemes_usage(known, sizeof known);
    return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": unknown scheme \"%s\"; known:\n%s",
                           uri, u.scheme, known);
  }
  /* Keys every protocol scheme takes, applied here so schemes need not. */
  pal_device_options_t opt;
  if (options)
    opt = *options;
  else
    pal_device_options_initialize(&opt);
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(&u, "timeout_ms", opt.timeout_ms, 1, 600000, &opt.timeout_ms));
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(&u, "retries", opt.retries, 0, 100, &opt.retries));
  uint32_t bare;
  PAL_RETURN_IF_ERROR(pal_device_uri_query_u32(&u, "bare", opt.bare, 0, 1, &bare));
  opt.bare = bare != 0;
  uri_drop_key(&u, "timeout_ms");
  uri_drop_key(&u, "retries");
  uri_drop_key(&u, "bare");
  return s->open(&u, &opt, out_device);
}

/* ---- access ------------------------------------------------------------------ */

/* A bus failure on the direct path gets the code its NAK would get over a
 * link (pal_link_transact), so callers see the same codes on every path. */
static pal_status_t direct_failed(const pal_device_t *d, pal_status_t st, pal_nak_reason_t nak) {
  pal_status_code_t code = pal_status_code(st);
  if (code != PAL_RESOURCE_EXHAUSTED)
    code = nak == PAL_NAK_REFUSED ? PAL_FAILED_PRECONDITION : PAL_OUT_OF_RANGE;
  pal_status_t out = pal_status_make(code, "%s: %s", d->uri, pal_status_message(st));
  pal_status_free(st);
  return out;
}

pal_status_t pal_device_write(pal_device_t *d, uint32_t address, const void *data, size_t len) {
  if (len == 0) return PAL_STATUS_OK;
  if (d->link) return pal_link_write(d->link, address, data, len);
  pal_nak_reason_t nak = PAL_NAK_BAD_ADDRESS;
  pal_status_t st = pal_bus_write(&d->bus, address, data, len, &nak);
  pal_bus_advance(&d->bus);
  return st ? direct_failed(d, st, nak) : PAL_STATUS_OK;
}

pal_status_t pal_device_read(pal_device_t *d, uint32_t address, void *out_data, size_t len) {
  if (len == 0) return PAL_STATUS_OK;
  if (d->link) return pal_link_read(d->link, address, out_data, len);
  pal_nak_reason_t nak = PAL_NAK_BAD_ADDRESS;
  pal_status_t st = pal_bus_read(&d->bus, address, out_data, len, &nak);
  pal_bus_advance(&d->bus);
  return st ? direct_failed(d, st, nak) : PAL_STATUS_OK;
}

static pal_status_t region_span(const pal_device_t *d, const char *verb, pal_tile_region_t region,
                                uint32_t pe, uint64_t index, size_t count, uint32_t *out_address) {
  const pal_tile_config_t *cfg = &d->info.link.tile;
  if ((unsigned)region >= PAL_TILE_REGION_COUNT)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: unknown region %d", d->uri, verb, (int)region);
  const char *rname = pal_tile_region_name(region);
  uint32_t pes = pal_tile_config_pes(cfg);
  if (pal_tile_region_is_per_pe(region) ? pe >= pes : pe != 0)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s %s: PE %u does not exist or the region is not per PE (P = %u)",
                           d->uri, verb, rname, (unsigned)pe, (unsigned)pes);
  uint64_t len = pal_tile_region_length(cfg, region);
  if (index > len || count > len - index)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s %s of PE %u: elements %llu..%llu are outside the region's %llu",
                           d->uri, verb, rname, (unsigned)pe, (unsigned long long)index,
                           (unsigned long long)(index + count) - 1ull, (unsigned long long)len);
  pal_status_t st = pal_bus_region_address(cfg, region, pe, index, out_address);
  return st ? pal_status_annotate(st, "%s", d->uri) : PAL_STATUS_OK;
}

pal_status_t pal_device_write_region(pal_device_t *d, pal_tile_region_t region, uint32_t pe,
                                     uint64_t index, size_t count, const void *data) {
  uint32_t a;
  PAL_RETURN_IF_ERROR(region_span(d, "write", region, pe, index, count, &a));
  return pal_device_write(d, a, data, count * pal_tile_region_element_size(region));
}

pal_status_t pal_device_read_region(pal_device_t *d, pal_tile_region_t region, uint32_t pe,
                                    uint64_t index, size_t count, void *out_data) {
  uint32_t a;
  PAL_RETURN_IF_ERROR(region_span(d, "read", region, pe, index, count, &a));
  return pal_device_read(d, a, out_data, count * pal_tile_region_element_size(region));
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

pal_status_t pal_device_write_reg(pal_device_t *d, uint32_t offset, uint32_t value) {
  /* On the firmware path a kernel launch (CONTROL = start) is the
   * firmware's RUN at the last START_PC, so its watchdog guards it. */
  if (d->fw && offset == PAL_TILE_REG_CONTROL && value == PAL_TILE_CONTROL_START)
    return fw_run(d, d->start_pc);
  uint8_t b[4];
  put32(b, value);
  PAL_RETURN_IF_ERROR(pal_device_write(d, PAL_ADDR_TILE_REGS + offset, b, 4));
  if (offset == PAL_TILE_REG_START_PC) d->start_pc = value;
  return PAL_STATUS_OK;
}

pal_status_t pal_device_read_reg(pal_device_t *d, uint32_t offset, uint32_t *out_value) {
  uint8_t b[4];
  PAL_RETURN_IF_ERROR(pal_device_read(d, PAL_ADDR_TILE_REGS + offset, b, 4));
  *out_value = get32(b);
  return PAL_STATUS_OK;
}

pal_status_t pal_device_load_program(pal_device_t *d, uint32_t pc, const uint32_t *words,
                                     size_t n_words) {
  if (n_words % PAL_ISA_INSTR_WORDS)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: load program: %zu words is not a whole number of instructions",
                           d->uri, n_words);
  return pal_device_write_region(d, PAL_TILE_REGION_IMEM, 0, (uint64_t)pc * PAL_ISA_INSTR_WORDS,
                                 n_words, words);
}

pal_status_t pal_device_start(pal_device_t *d, uint32_t pc) {
  PAL_RETURN_IF_ERROR(pal_device_write_reg(d, PAL_TILE_REG_START_PC, pc));
  return pal_device_write_reg(d, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START);
}

pal_status_t pal_device_read_status(pal_device_t *d, pal_tile_status_t *out_status) {
  if (d->fw) {
    uint32_t r[16];
    PAL_RETURN_IF_ERROR(fw_status(d, r));
    pal_tile_status_unpack(r[FW_ST_LIVE], out_status);
    return PAL_STATUS_OK;
  }
  uint32_t v;
  PAL_RETURN_IF_ERROR(pal_device_read_reg(d, PAL_TILE_REG_STATUS, &v));
  pal_tile_status_unpack(v, out_status);
  return PAL_STATUS_OK;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

pal_status_t pal_device_wait(pal_device_t *d, uint32_t timeout_ms, pal_tile_status_t *out_status) {
  uint64_t deadline = now_ms() + timeout_ms;
  for (unsigned polls = 0;; polls++) {
    uint32_t v;
    if (d->fw) {
      uint32_t r[16];
      PAL_RETURN_IF_ERROR(fw_status(d, r));
      if (r[FW_ST_RUN] == FW_RUN_WATCHDOG)
        return pal_status_make(PAL_DEADLINE_EXCEEDED,
                               "%s: the device's firmware watchdog stopped the kernel after %u "
                               "cycles (limit %u) and reset the tile (STATUS was 0x%08x)",
                               d->uri, (unsigned)r[FW_ST_CYCLES], (unsigned)r[FW_ST_LIMIT],
                               (unsigned)r[FW_ST_END]);
      /* running: STATUS now says busy; done or idle: STATUS now is the truth */
      v = r[FW_ST_LIVE];
      if (r[FW_ST_RUN] == FW_RUN_RUNNING) v |= PAL_TILE_STATUS_BUSY; /* busy until the firmware saw the end */
    } else {
      PAL_RETURN_IF_ERROR(pal_device_read_reg(d, PAL_TILE_REG_STATUS, &v));
    }
    pal_tile_status_t s;
    pal_tile_status_unpack(v, &s);
    if (!s.busy) {
      if (out_status) *out_status = s;
      return PAL_STATUS_OK;
    }
    if (now_ms() >= deadline)
      return pal_status_make(PAL_DEADLINE_EXCEEDED,
                             "%s: the kernel is still running after %u ms (STATUS 0x%08x)", d->uri,
                             (unsigned)timeout_ms, (unsigned)v);
    /* A few quick polls for short kernels, then back off (wait_poll_us). */
    if (polls >= 8 && d->opt.wait_poll_us) {
      struct timespec ts = {(time_t)(d->opt.wait_poll_us / 1000000u), (long)(d->opt.wait_poll_us % 1000000u) * 1000L};
      nanosleep(&ts, NULL);
    }
  }
}

pal_status_t pal_device_run(pal_device_t *d, uint32_t pc, uint32_t timeout_ms,
                            pal_tile_status_t *out_status) {
  PAL_RETURN_IF_ERROR(pal_device_start(d, pc));
  return pal_device_wait(d, timeout_ms, out_status);
}

pal_status_t pal_device_read_counters(pal_device_t *d, pal_tile_counters_t *out_counters) {
  if (d->fw) {
    uint32_t r[1 + 2 * PAL_TILE_CTR_COUNT + 8];
    PAL_RETURN_IF_ERROR(fw_call(d, PAL_FWMSG_COUNTERS, NULL, 0, r, sizeof r / sizeof r[0],
                                1 + 2 * PAL_TILE_CTR_COUNT));
    for (size_t c = 0; c < PAL_TILE_CTR_COUNT; c++)
      out_counters->value[c] = (uint64_t)r[1 + 2 * c] | (uint64_t)r[2 + 2 * c] << 32;
    return PAL_STATUS_OK;
  }
  uint8_t b[8 * PAL_TILE_CTR_COUNT];
  PAL_RETURN_IF_ERROR(pal_device_read(d, PAL_ADDR_TILE_REGS + PAL_TILE_REG_COUNTERS, b, sizeof b));
  for (size_t c = 0; c < PAL_TILE_CTR_COUNT; c++)
    out_counters->value[c] = (uint64_t)get32(b + 8 * c) | (uint64_t)get32(b + 8 * c + 4) << 32;
  return PAL_STATUS_OK;
}

pal_status_t pal_device_read_link_counters(pal_device_t *d, pal_link_counters_t *out_counters) {
  if (!d->link)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: the direct path has no link engine", d->uri);
  if (d->info.link.flags & PAL_PROTO_FLAG_NO_LINK_COUNTERS)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: the device's link engine keeps no link counters (INFO flag "
                           "NO_LINK_COUNTERS; the host's link statistics still count)",
                           d->uri);
  uint8_t b[4 * PAL_LINK_CTR_COUNT];
  PAL_RETURN_IF_ERROR(pal_device_read(d, PAL_ADDR_LINK_REGS, b, sizeof b));
  for (size_t c = 0; c < PAL_LINK_CTR_COUNT; c++) out_counters->value[c] = get32(b + 4 * c);
  return PAL_STATUS_OK;
}

pal_status_t pal_device_reset(pal_device_t *d) {
  return pal_device_write_reg(d, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET);
}

pal_status_t pal_device_resync(pal_device_t *d) {
  return d->link ? pal_link_resync(d->link) : PAL_STATUS_OK;
}

void pal_device_link_stats(const pal_device_t *d, pal_link_stats_t *out_stats) {
  if (d->link)
    pal_link_get_stats(d->link, out_stats);
  else
    memset(out_stats, 0, sizeof *out_stats);
}

pal_status_t pal_device_fault_stats(const pal_device_t *d, pal_fault_stats_t *out_stats) {
  if (!d->link || !pal_fault_options_active(&d->opt.faults))
    return pal_status_make(PAL_FAILED_PRECONDITION, "%s: no fault injection on this device", d->uri);
  return pal_transport_fault_get_stats(pal_link_transport(d->link), out_stats);
}

/* ---- kernel images ------------------------------------------------------------- */

static const char *fw_reject_name(uint32_t r) {
  static const char *const names[] = {
      "none", "magic", "format version", "header size", "total length", "flags", "ISA version",
      "required sizes out of range", "geometry", "a buffer too small", "too many sections",
      "tables outside the image", "section kind", "section flags", "section PE", "section length",
      "size overflow", "section alignment", "section offset", "section data outside the image",
      "section outside its buffer", "sections sharing file bytes", "sections overlapping",
      "binding name", "binding field", "binding shape", "binding outside its buffer", "no code",
      "entry pc", "CRC"};
  return r < sizeof names / sizeof names[0] ? names[r] : "unknown reason";
}

/* LOAD_BEGIN + LOAD_DATA chunks: the firmware validates the image against
 * the tile itself (docs/control-core.md §5) and writes it. */
static pal_status_t fw_load_image(pal_device_t *d, const uint8_t *data, size_t size) {
  /* a message's words fill at most one FW packet: header, count, data */
  size_t chunk = 4 * (PAL_FWMSG_MAX_WORDS - 1);
  if (d->info.link.max_payload < chunk + 8) chunk = (d->info.link.max_payload - 8) & ~(size_t)3;
  uint32_t r[8], total = (uint32_t)size;
  size_t n = 0;
  PAL_RETURN_IF_ERROR(pal_device_fw_command(d, PAL_FWMSG_LOAD_BEGIN, &total, 1, r, 8, &n));
  for (size_t pos = 0;; pos += chunk) {
    if (n < 5)
      return pal_status_make(PAL_DATA_LOSS, "%s: firmware LOAD: reply of %zu words", d->uri, n);
    if (r[0] == 5)
      return pal_status_make(PAL_FAILED_PRECONDITION,
                             "%s: the firmware rejected the kernel image: %s (reason %u, detail %u, "
                             "at byte %u)",
                             d->uri, fw_reject_name(r[1]), (unsigned)r[1], (unsigned)r[2],
                             (unsigned)r[3]);
    if (r[0] != 0)
      return pal_status_make(PAL_FAILED_PRECONDITION, "%s: firmware LOAD: %s (status %u)", d->uri,
                             fw_status_name(r[0]), (unsigned)r[0]);
    if (pos >= size) break;
    size_t k = size - pos < chunk ? size - pos : chunk;
    uint32_t p[PAL_FWMSG_MAX_WORDS] = {(uint32_t)k};
    for (size_t i = 0; i < k; i++) p[1 + i / 4] |= (uint32_t)data[pos + i] << (8 * (i % 4));
    PAL_RETURN_IF_ERROR(pal_device_fw_command(d, PAL_FWMSG_LOAD_DATA, p, 1 + (k + 3) / 4, r, 8, &n));
  }
  if (r[4] != 1)
    return pal_status_make(PAL_DATA_LOSS, "%s: the firmware took all %zu bytes of the image but "
                           "did not mark it valid", d->uri, size);
  return PAL_STATUS_OK;
}

pal_status_t pal_device_load_image(pal_device_t *d, const void *data, size_t size) {
  if (size > UINT32_MAX)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: a kernel image of %zu bytes", d->uri, size);
  pal_kernel_image_t *img = NULL;
  pal_status_t st = pal_kernel_image_parse(data, size, &img);
  if (!st) st = pal_kernel_image_validate(img, &d->info.link.tile);
  if (!st && d->fw) st = fw_load_image(d, data, size);
  else if (!st) st = pal_kernel_image_load(img, pal_device_tile(d));
  if (!st) d->start_pc = pal_kernel_image_entry_pc(img);
  pal_kernel_image_destroy(img);
  return with_uri(st, d->uri);
}

/* ---- the device as a tile device ---------------------------------------------- */

static pal_status_t view_write(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                               size_t count, const void *data) {
  return pal_device_write_region(self, region, pe, index, count, data);
}
static pal_status_t view_read(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                              size_t count, void *out_data) {
  return pal_device_read_region(self, region, pe, index, count, out_data);
}
static pal_status_t view_write_reg(void *self, uint32_t offset, uint32_t value) {
  return pal_device_write_reg(self, offset, value);
}
static pal_status_t view_read_reg(void *self, uint32_t offset, uint32_t *out_value) {
  return pal_device_read_reg(self, offset, out_value);
}
static pal_status_t view_wait(void *self, uint64_t max_cycles) {
  pal_device_t *d = self;
  if (!d->link) return pal_tile_device_wait(d->bus.tile, max_cycles);
  return pal_device_wait(d, d->opt.wait_timeout_ms, NULL);
}

static const pal_tile_device_ops_t kViewOps = {view_write, view_read, view_write_reg, view_read_reg,
                                               view_wait};

pal_tile_device_t *pal_device_tile(pal_device_t *d) {
  d->tile_view.ops = &kViewOps;
  d->tile_view.self = d;
  d->tile_view.config = d->info.link.tile;
  d->tile_view.name = d->uri;
  return &d->tile_view;
}
