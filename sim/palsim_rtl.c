/* palsim's rtl device: the Verilated SoC of include/pal/soc.h (link engine,
 * bus bridge, tile; FIFO or UART attachment). Compiled with
 * PALSIM_HAVE_RTL only where sim/soc.mk builds that library; otherwise
 * palsim is an emu-only build and this file says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "palsim_device.h"

#ifndef PALSIM_HAVE_RTL

bool palsim_device_have_rtl(void) { return false; }

pal_status_t palsim_device_create_rtl(const palsim_device_options_t *options,
                                      palsim_device_t *out_device) {
  (void)options;
  out_device->ops = NULL;
  out_device->self = NULL;
  return pal_status_make(PAL_UNAVAILABLE,
                         "--device rtl: this palsim was built without the Verilated SoC (sim/soc.mk)");
}

#else /* PALSIM_HAVE_RTL */

#include "pal/soc.h"
#include "pal_soc_debug.h"

/* Cycles per slice of the serving loop (FIFO: 1 byte a cycle, so a whole
 * 4 KiB packet; a few ms of Verilated time) and per step inside it, after
 * which a slice may end early once a reply is out and nothing is pending:
 * a register read costs the host tens of cycles, not a whole slice. */
#define RTL_SLICE_CYCLES 16384u
#define RTL_STEP_CYCLES 64u
/* The link engine's idle timeout (rtl/pal_soc.v IDLE_BYTE_TIMES). */
#define RTL_IDLE_BYTE_TIMES 4096u
/* Built into the link engine (sim/soc.mk: -GMAX_PAYLOAD=4096). */
#define RTL_MAX_PAYLOAD 4096u

typedef struct palsim_rtl {
  pal_soc_t *soc;
  pal_soc_options_t opt;
  uint8_t *out;
  size_t out_len, out_head, out_cap;
} palsim_rtl_t;

bool palsim_device_have_rtl(void) { return true; }

static uint32_t rtl_cycles_per_byte(const palsim_rtl_t *r) {
  return r->opt.attach == PAL_SOC_ATTACH_UART ? 10u * r->opt.clocks_per_bit : 1u;
}

static pal_status_t rtl_feed(void *self, const uint8_t *data, size_t len) {
  palsim_rtl_t *r = self;
  return pal_soc_write_bytes(r->soc, data, len);
}

/* Moves the SoC's reply bytes into our buffer; true when there were some. */
static bool rtl_pull(palsim_rtl_t *r) {
  bool got = false;
  for (;;) {
    if (r->out_head && r->out_cap - r->out_len < 1024) { /* compact before growing */
      memmove(r->out, r->out + r->out_head, r->out_len - r->out_head);
      r->out_len -= r->out_head;
      r->out_head = 0;
    }
    if (r->out_cap - r->out_len < 1024) {
      size_t cap = r->out_cap ? r->out_cap * 2 : 65536;
      uint8_t *p = realloc(r->out, cap);
      if (!p) return got; /* the bytes wait in the SoC's queue */
      r->out = p;
      r->out_cap = cap;
    }
    size_t n = pal_soc_read_bytes(r->soc, r->out + r->out_len, r->out_cap - r->out_len);
    if (!n) return got;
    r->out_len += n;
    got = true;
  }
}

static size_t rtl_take(void *self, uint8_t *out, size_t cap) {
  palsim_rtl_t *r = self;
  rtl_pull(r);
  size_t n = r->out_len - r->out_head;
  if (n > cap) n = cap;
  memcpy(out, r->out + r->out_head, n);
  r->out_head += n;
  return n;
}

static pal_status_t rtl_advance(void *self, bool *out_active) {
  palsim_rtl_t *r = self;
  bool replied = false;
  for (uint32_t done = 0; done < RTL_SLICE_CYCLES; done += RTL_STEP_CYCLES) {
    pal_status_t st = pal_soc_run(r->soc, RTL_STEP_CYCLES);
    if (st) return st;
    bool got = rtl_pull(r);
    replied = replied || got;
    bool pending = pal_soc_input_pending(r->soc) > 0;
    /* Nothing in flight: stop early (once the reply has stopped coming). */
    if (!pending && !got && (replied || !pal_soc_tile_busy(r->soc))) break;
  }
  *out_active = pal_soc_input_pending(r->soc) > 0 || pal_soc_tile_busy(r->soc);
  return PAL_STATUS_OK;
}

static void rtl_idle(void *self, uint32_t ms) {
  /* The SoC counts silence in its own cycles, which advance() runs; wall
   * time alone moves nothing (a slow host must not look like silence). */
  (void)self;
  (void)ms;
}

static void rtl_disconnect(void *self) {
  palsim_rtl_t *r = self;
  /* Silence longer than the idle timeout: a partial frame of the client
   * that left is dropped before the next one speaks; its replies too. */
  pal_status_free(pal_soc_run(r->soc, (uint64_t)RTL_IDLE_BYTE_TIMES * rtl_cycles_per_byte(r) + 64));
  rtl_pull(r);
  r->out_head = r->out_len = 0;
}

static void rtl_describe(void *self, char *buf, size_t size) {
  palsim_rtl_t *r = self;
  snprintf(buf, size, "rtl %ux%u, Verilated SoC%s, %s attachment%s, max payload %u", r->opt.rows,
           r->opt.cols, r->opt.firmware ? " with the control core and firmware" : "",
           r->opt.attach == PAL_SOC_ATTACH_UART ? "uart" : "fifo", r->opt.trace_path ? ", tracing" : "",
           RTL_MAX_PAYLOAD);
}

static void rtl_destroy(void *self) {
  palsim_rtl_t *r = self;
  if (!r) return;
  pal_soc_destroy(r->soc);
  free(r->out);
  free(r);
}

static const palsim_device_ops_t kRtlOps = {
    .feed = rtl_feed,
    .take = rtl_take,
    .advance = rtl_advance,
    .idle = rtl_idle,
    .disconnect = rtl_disconnect,
    .describe = rtl_describe,
    .destroy = rtl_destroy,
};

pal_status_t palsim_device_create_rtl(const palsim_device_options_t *options,
                                      palsim_device_t *out_device) {
  out_device->ops = NULL;
  out_device->self = NULL;
  if (options->max_payload && options->max_payload != RTL_MAX_PAYLOAD)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "--max-payload %u: the rtl device's link engine is built with %u",
                           (unsigned)options->max_payload, RTL_MAX_PAYLOAD);
  palsim_rtl_t *r = calloc(1, sizeof *r);
  if (!r) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "rtl device: out of memory");
  pal_soc_options_initialize(&r->opt);
  r->opt.rows = options->rows;
  r->opt.cols = options->cols;
  r->opt.attach = options->attach && !strcmp(options->attach, "uart") ? PAL_SOC_ATTACH_UART
                                                                     : PAL_SOC_ATTACH_FIFO;
  if (options->seed_given) r->opt.seed = options->seed;
  r->opt.trace_path = options->trace_path;
  r->opt.firmware = options->firmware;
  pal_status_t st = pal_soc_create(&r->opt, &r->soc);
  if (st) {
    rtl_destroy(r);
    return pal_status_annotate(st, "--device rtl");
  }
  out_device->ops = &kRtlOps;
  out_device->self = r;
  return PAL_STATUS_OK;
}

#endif
