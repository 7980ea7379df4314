/* palsim's emu device: the link engine's C reference model
 * (driver/pal_link_model.c) in front of the instruction-level emulator.
 * The tile runs EMU_SLICE_CYCLES after every request and per slice of
 * the serving loop, so a kernel advances while the host polls STATUS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/protocol.h"
#include "pal/tile.h"
#include "palsim_device.h"

/* Tile cycles per slice: small enough that STATUS can be seen busy, large
 * enough that a kernel finishes in few slices. */
#define EMU_SLICE_CYCLES 20000u
/* Byte times per millisecond of silence (a 3 Mbaud line: 300 bytes/ms). */
#define EMU_BYTES_PER_MS 300u

typedef struct palsim_emu {
  pal_emu_t *emu;
  pal_link_model_t *model;
  uint8_t *out;
  size_t out_len, out_cap, out_head;
  bool failed; /* out of memory while queueing a reply */
  uint32_t max_payload;
  uint32_t rows, cols;
} palsim_emu_t;

static void emu_emit(void *ctx, const uint8_t *bytes, size_t len) {
  palsim_emu_t *e = ctx;
  if (e->out_head) { /* compact: the serving loop takes everything each turn */
    memmove(e->out, e->out + e->out_head, e->out_len - e->out_head);
    e->out_len -= e->out_head;
    e->out_head = 0;
  }
  if (e->out_len + len > e->out_cap) {
    size_t cap = e->out_cap ? e->out_cap : 65536;
    while (cap < e->out_len + len) cap *= 2;
    uint8_t *p = realloc(e->out, cap);
    if (!p) {
      e->failed = true;
      return;
    }
    e->out = p;
    e->out_cap = cap;
  }
  memcpy(e->out + e->out_len, bytes, len);
  e->out_len += len;
}

static pal_status_t emu_feed(void *self, const uint8_t *data, size_t len) {
  palsim_emu_t *e = self;
  pal_link_model_receive(e->model, data, len);
  if (e->failed) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "emu device: out of memory for replies");
  return PAL_STATUS_OK;
}

static size_t emu_take(void *self, uint8_t *out, size_t cap) {
  palsim_emu_t *e = self;
  size_t n = e->out_len - e->out_head;
  if (n > cap) n = cap;
  memcpy(out, e->out + e->out_head, n);
  e->out_head += n;
  return n;
}

static pal_status_t emu_advance(void *self, bool *out_active) {
  palsim_emu_t *e = self;
  /* DEADLINE_EXCEEDED: still busy after the slice, which is no error. */
  pal_status_t st = pal_tile_device_wait(pal_emu_device(e->emu), EMU_SLICE_CYCLES);
  *out_active = st && pal_status_code(st) == PAL_DEADLINE_EXCEEDED;
  if (st && !*out_active) return st;
  pal_status_free(st);
  return PAL_STATUS_OK;
}

static void emu_idle(void *self, uint32_t ms) {
  palsim_emu_t *e = self;
  pal_link_model_idle(e->model, (uint64_t)ms * EMU_BYTES_PER_MS);
}

static void emu_disconnect(void *self) {
  palsim_emu_t *e = self;
  pal_link_model_idle(e->model, UINT64_MAX);
  e->out_head = e->out_len = 0; /* replies to the old client go nowhere */
}

static void emu_describe(void *self, char *buf, size_t size) {
  palsim_emu_t *e = self;
  snprintf(buf, size, "emu %ux%u, link model, max payload %u", e->rows, e->cols, e->max_payload);
}

static void emu_destroy(void *self) {
  palsim_emu_t *e = self;
  if (!e) return;
  pal_link_model_destroy(e->model);
  pal_emu_destroy(e->emu);
  free(e->out);
  free(e);
}

static const palsim_device_ops_t kEmuOps = {
    .feed = emu_feed,
    .take = emu_take,
    .advance = emu_advance,
    .idle = emu_idle,
    .disconnect = emu_disconnect,
    .describe = emu_describe,
    .destroy = emu_destroy,
};

pal_status_t palsim_device_create_emu(const palsim_device_options_t *options,
                                      palsim_device_t *out_device) {
  out_device->ops = NULL;
  out_device->self = NULL;
  if (options->attach && strcmp(options->attach, "fifo") != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "--attach %s: the emu device has no UART attachment (use --device rtl)",
                           options->attach);
  if (options->trace_path)
    return pal_status_make(PAL_INVALID_ARGUMENT, "--trace: the emu device has no waveforms (use --device rtl)");
  if (options->firmware)
    return pal_status_make(PAL_INVALID_ARGUMENT, "--firmware: the emu device has no control core (use --device rtl)");
  palsim_emu_t *e = calloc(1, sizeof *e);
  if (!e) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "emu device: out of memory");
  e->rows = options->rows;
  e->cols = options->cols;
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, options->rows, options->cols);
  pal_status_t st = pal_emu_create(&cfg, &e->emu);
  if (!st) {
    pal_link_model_options_t mo;
    pal_link_model_options_initialize(&mo);
    if (options->max_payload) mo.max_payload = options->max_payload;
    mo.name = "palsim-emu";
    mo.emit = emu_emit;
    mo.emit_ctx = e;
    mo.run_cycles = EMU_SLICE_CYCLES;
    e->max_payload = mo.max_payload;
    st = pal_link_model_create(pal_emu_device(e->emu), &mo, &e->model);
  }
  if (st) {
    emu_destroy(e);
    return pal_status_annotate(st, "emu device %ux%u", options->rows, options->cols);
  }
  out_device->ops = &kEmuOps;
  out_device->self = e;
  return PAL_STATUS_OK;
}
