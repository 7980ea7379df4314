// The Verilated SoC (rtl/pal_soc.v) behind include/pal/soc.h: the byte
// queues of the two attachments (the FIFO port, or bit-accurate 8N1 on the
// UART pins), the SoC as a pal_transport_t with model-time timeouts, and
// the sim:// device scheme.
#include "pal/soc.h"

#include <chrono>
#include <deque>
#include <memory>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/driver.h"
#include "pal_soc_debug.h"
#include "pal_soc_model.h"

extern "C" {
extern const pal_soc_variant_t pal_soc_variant_4x4_fifo __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_4x4_uart __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_8x8_fifo __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_8x8_uart __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_4x4_fifo_p256 __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_4x4_fifo_fw __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_4x4_uart_fw __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_8x8_fifo_fw __attribute__((weak));
extern const pal_soc_variant_t pal_soc_variant_4x4_fifo_fwbroken __attribute__((weak));
// a board's configuration (sim/soc.mk's board models: sim://?board=NAME)
extern const pal_soc_variant_t pal_soc_variant_board __attribute__((weak));
}

namespace {

const pal_soc_variant_t *const kVariants[] = {
    &pal_soc_variant_4x4_fifo,
    &pal_soc_variant_4x4_uart,
    &pal_soc_variant_8x8_fifo,
    &pal_soc_variant_8x8_uart,
    &pal_soc_variant_4x4_fifo_p256,
    &pal_soc_variant_4x4_fifo_fw,
    &pal_soc_variant_4x4_uart_fw,
    &pal_soc_variant_8x8_fifo_fw,
    &pal_soc_variant_4x4_fifo_fwbroken,
    &pal_soc_variant_board,
};

// The clocks_per_bit every UART model was built with (sim/soc.mk).
constexpr uint32_t kBuiltClocksPerBit = 4;
constexpr uint32_t kResetCycles = 4;

}  // namespace

struct pal_soc {
  pal_soc_options_t opt;
  pal_tile_config_t config;
  std::unique_ptr<pal_soc_model> model;
  uint64_t cycle = 0;
  std::deque<uint8_t> in, out;
  // UART attachment, host side: the byte being sent on the RX pin ...
  uint32_t tx_bits = 0;    // bits of the current frame left (0: line idle)
  uint32_t tx_frame = 0;   // start, data LSB first, stop
  uint32_t tx_cnt = 0;     // cycles of the current bit left
  // ... and the receiver sampling the TX pin at mid-bit.
  bool rx_active = false;
  uint32_t rx_t = 0;       // cycles since the start bit's falling edge
  uint32_t rx_byte = 0;
  bool rx_prev = true;
  uint64_t framing_errors = 0;
};

void pal_soc_options_initialize(pal_soc_options_t *options) {
  memset(options, 0, sizeof *options);
  options->rows = 4;
  options->cols = 4;
  options->attach = PAL_SOC_ATTACH_FIFO;
  options->clocks_per_bit = kBuiltClocksPerBit;
  options->cycles_per_ms = 12000;
  options->seed = 0;
  options->trace_path = NULL;
  options->firmware = false;
}

static void step(pal_soc_t *soc) {
  if (soc->opt.attach == PAL_SOC_ATTACH_FIFO) {
    bool taken = false, tx_valid = false;
    uint8_t tx_data = 0;
    bool have = !soc->in.empty();
    soc->model->cycle_fifo(have, have ? soc->in.front() : 0, &taken, &tx_valid, &tx_data);
    if (taken) soc->in.pop_front();
    if (tx_valid) soc->out.push_back(tx_data);
  } else {
    const uint32_t cpb = soc->opt.clocks_per_bit;
    if (soc->tx_bits == 0 && !soc->in.empty()) {
      soc->tx_frame = 0x200u | (uint32_t)soc->in.front() << 1;  // stop, data, start (0)
      soc->in.pop_front();
      soc->tx_bits = 10;
      soc->tx_cnt = cpb;
    }
    bool pin = soc->tx_bits ? (soc->tx_frame & 1u) != 0 : true;
    bool tx = soc->model->cycle_uart(pin);
    if (soc->tx_bits && --soc->tx_cnt == 0) {
      soc->tx_frame >>= 1;
      soc->tx_cnt = cpb;
      soc->tx_bits--;
    }
    // Sample the device's TX pin: bit k's middle is cpb/2 + k*cpb cycles
    // after the cycle the start bit began.
    if (!soc->rx_active) {
      if (soc->rx_prev && !tx) {
        soc->rx_active = true;
        soc->rx_t = 0;
        soc->rx_byte = 0;
      }
    } else {
      soc->rx_t++;
      if (soc->rx_t >= cpb / 2 && (soc->rx_t - cpb / 2) % cpb == 0) {
        uint32_t k = (soc->rx_t - cpb / 2) / cpb;
        if (k == 0 && tx) {
          soc->rx_active = false;  // not a start bit after all
        } else if (k >= 1 && k <= 8) {
          soc->rx_byte |= (uint32_t)tx << (k - 1);
        } else if (k == 9) {
          if (tx)
            soc->out.push_back((uint8_t)soc->rx_byte);
          else
            soc->framing_errors++;
          soc->rx_active = false;
        }
      }
    }
    soc->rx_prev = tx;
  }
  soc->cycle++;
}

namespace {
pal_status_t create_variant(const pal_soc_options_t *options, uint32_t max_payload, bool broken_fw,
                            pal_soc_t **out_soc);
}

pal_status_t pal_soc_create(const pal_soc_options_t *options, pal_soc_t **out_soc) {
  return create_variant(options, 4096, false, out_soc);
}

pal_status_t pal_soc_create_with_max_payload(const pal_soc_options_t *options, uint32_t max_payload,
                                             pal_soc_t **out_soc) {
  return create_variant(options, max_payload, false, out_soc);
}

pal_status_t pal_soc_create_with_broken_firmware(const pal_soc_options_t *options, pal_soc_t **out_soc) {
  pal_soc_options_t opt;
  if (options)
    opt = *options;
  else
    pal_soc_options_initialize(&opt);
  opt.firmware = true;
  return create_variant(&opt, 4096, true, out_soc);
}

namespace {
pal_status_t create_variant(const pal_soc_options_t *options, uint32_t max_payload, bool broken_fw,
                            pal_soc_t **out_soc) {
  *out_soc = NULL;
  pal_soc_options_t opt;
  if (options)
    opt = *options;
  else
    pal_soc_options_initialize(&opt);
  if ((unsigned)opt.attach > PAL_SOC_ATTACH_UART)
    return pal_status_make(PAL_INVALID_ARGUMENT, "soc: attach = %d is neither FIFO nor UART",
                           (int)opt.attach);
  if (opt.cycles_per_ms == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "soc: cycles_per_ms = 0");
  const pal_soc_variant_t *variant = NULL;
  char have[160] = "";
  size_t hn = 0;
  for (const pal_soc_variant_t *v : kVariants) {
    if (!v) continue;
    if (opt.board) {  // a board's model: its name decides, it carries the rest
      if (!v->board) continue;
      if (hn < sizeof have)
        hn += (size_t)snprintf(have + hn, sizeof have - hn, "%s%s", hn ? ", " : "", v->board);
      if (!strcmp(v->board, opt.board)) variant = v;
      continue;
    }
    if (v->board) continue;
    if (v->max_payload != max_payload) continue;
    if ((v->firmware == 2) != broken_fw) continue;  // the broken firmware only when asked for
    if (hn < sizeof have)
      hn += (size_t)snprintf(have + hn, sizeof have - hn, "%s%ux%u %s%s", hn ? ", " : "", v->rows,
                             v->cols, v->uart ? "uart" : "fifo", v->firmware ? " fw" : "");
    if (v->rows == opt.rows && v->cols == opt.cols && (v->uart != 0) == (opt.attach == PAL_SOC_ATTACH_UART) &&
        (v->firmware != 0) == opt.firmware)
      variant = v;
  }
  uint32_t built_cpb = variant && variant->clocks_per_bit ? variant->clocks_per_bit : kBuiltClocksPerBit;
  if (opt.attach == PAL_SOC_ATTACH_UART && opt.clocks_per_bit != built_cpb)
    return pal_status_make(PAL_NOT_FOUND,
                           "soc: no UART model with %u clocks per bit (built: %u)",
                           (unsigned)opt.clocks_per_bit, (unsigned)built_cpb);
  if (!variant && opt.board)
    return pal_status_make(PAL_NOT_FOUND, "soc: no model of board \"%s\" is linked in (have: %s)",
                           opt.board, hn ? have : "none");
  if (variant && opt.board && (variant->uart != 0) != (opt.attach == PAL_SOC_ATTACH_UART))
    return pal_status_make(PAL_NOT_FOUND, "soc: board \"%s\"'s model is built with the %s attachment",
                           opt.board, variant->uart ? "UART" : "FIFO");
  if (!variant)
    return pal_status_make(PAL_NOT_FOUND,
                           "soc: no %ux%u %s%s model with a %u-byte payload is linked in (have: %s)",
                           (unsigned)opt.rows, (unsigned)opt.cols,
                           opt.attach == PAL_SOC_ATTACH_UART ? "uart" : "fifo",
                           opt.firmware ? " firmware" : "",
                           (unsigned)max_payload, hn ? have : "none");
  pal_soc_t *soc = new (std::nothrow) pal_soc_t;
  if (!soc) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "soc: out of memory");
  soc->opt = opt;
  soc->opt.trace_path = NULL;
  soc->opt.board = NULL;  // the caller's string; the variant is chosen
  pal_tile_config_initialize(&soc->config, variant->rows, variant->cols);
  // a board's model carries its depths (0: the default)
  uint32_t *const depth[6] = {&soc->config.imem_depth, &soc->config.abuf_blocks,
                              &soc->config.wmem_blocks, &soc->config.acc_depth,
                              &soc->config.bias_depth, &soc->config.obuf_depth};
  for (int i = 0; i < 6; i++)
    if (variant->depths[i]) *depth[i] = variant->depths[i];
  soc->model.reset(variant->create(opt.seed ? opt.seed : 0x5EED50Cull));
  if (opt.trace_path) {
    pal_status_t st = soc->model->trace_open(opt.trace_path);
    if (st) {
      delete soc;
      return st;
    }
  }
  soc->model->set_rst(true);
  for (uint32_t i = 0; i < kResetCycles; i++) {
    bool taken, tv;
    uint8_t td;
    if (opt.attach == PAL_SOC_ATTACH_FIFO)
      soc->model->cycle_fifo(false, 0, &taken, &tv, &td);
    else
      soc->model->cycle_uart(true);
  }
  soc->model->set_rst(false);
  soc->model->boot();
  soc->cycle = 0;
  *out_soc = soc;
  return PAL_STATUS_OK;
}
}  // namespace

void pal_soc_destroy(pal_soc_t *soc) { delete soc; }

const pal_tile_config_t *pal_soc_config(const pal_soc_t *soc) { return &soc->config; }
uint64_t pal_soc_cycle(const pal_soc_t *soc) { return soc->cycle; }

pal_status_t pal_soc_run(pal_soc_t *soc, uint64_t cycles) {
  for (uint64_t i = 0; i < cycles; i++) step(soc);
  return PAL_STATUS_OK;
}

pal_status_t pal_soc_write_bytes(pal_soc_t *soc, const uint8_t *data, size_t len) {
  if (len && !data) return pal_status_make(PAL_INVALID_ARGUMENT, "soc: NULL data for %zu bytes", len);
  soc->in.insert(soc->in.end(), data, data + len);
  return PAL_STATUS_OK;
}

size_t pal_soc_read_bytes(pal_soc_t *soc, uint8_t *out_data, size_t cap) {
  size_t n = 0;
  while (n < cap && !soc->out.empty()) {
    out_data[n++] = soc->out.front();
    soc->out.pop_front();
  }
  return n;
}

size_t pal_soc_input_pending(const pal_soc_t *soc) {
  return soc->in.size() + (soc->tx_bits ? 1u : 0u);
}
bool pal_soc_tile_busy(const pal_soc_t *soc) { return soc->model->busy(); }

/* ---- transport ------------------------------------------------------------- */

namespace {

struct soc_transport {
  pal_soc_t *soc;
  bool owns;  // the sim:// scheme's transport destroys its SoC at close
};

uint32_t cycles_per_byte(const pal_soc_t *soc) {
  return soc->opt.attach == PAL_SOC_ATTACH_UART ? 10u * soc->opt.clocks_per_bit : 1u;
}

pal_status_t t_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  (void)timeout_ms;  // the queue takes everything at once
  return pal_soc_write_bytes(static_cast<soc_transport *>(self)->soc, data, len);
}

pal_status_t t_read(void *self, uint8_t *data, size_t cap, size_t *out_len, uint32_t timeout_ms) {
  pal_soc_t *soc = static_cast<soc_transport *>(self)->soc;
  *out_len = 0;
  const uint64_t budget = (uint64_t)timeout_ms * soc->opt.cycles_per_ms;
  const auto wall_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2ull * timeout_ms);
  uint64_t clocked = 0;
  // Until the first byte (or the timeout), then on while bytes keep coming,
  // so a reply is handed over in one piece rather than a byte per call.
  while (soc->out.empty() && clocked < budget) {
    uint64_t chunk = budget - clocked < 64 ? budget - clocked : 64;
    for (uint64_t i = 0; i < chunk && soc->out.empty(); i++, clocked++) step(soc);
    if ((clocked & 0xFFFF) < 64 && std::chrono::steady_clock::now() > wall_end) break;
  }
  if (!soc->out.empty()) {
    const uint64_t quiet = 2ull * cycles_per_byte(soc) + 8;
    uint64_t since = 0;
    while (soc->out.size() < cap && since < quiet) {
      size_t before = soc->out.size();
      step(soc);
      since = soc->out.size() == before ? since + 1 : 0;
    }
  }
  *out_len = pal_soc_read_bytes(soc, data, cap);
  return PAL_STATUS_OK;
}

pal_status_t t_purge(void *self) {
  pal_soc_t *soc = static_cast<soc_transport *>(self)->soc;
  soc->in.clear();
  soc->out.clear();
  return PAL_STATUS_OK;
}

void t_close(void *self) {
  soc_transport *t = static_cast<soc_transport *>(self);
  if (t->owns) pal_soc_destroy(t->soc);
  delete t;
}

const pal_transport_ops_t kOps = {t_write, t_read, t_purge, t_close};

pal_status_t make_transport(pal_soc_t *soc, const char *name, bool owns, pal_transport_t *out) {
  memset(out, 0, sizeof *out);
  soc_transport *t = new (std::nothrow) soc_transport{soc, owns};
  if (!t) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "soc: out of memory");
  out->ops = &kOps;
  out->self = t;
  snprintf(out->name, sizeof out->name, "%s", name ? name : "sim://");
  return PAL_STATUS_OK;
}

}  // namespace

pal_status_t pal_soc_transport(pal_soc_t *soc, const char *name, pal_transport_t *out_transport) {
  if (!soc) return pal_status_make(PAL_INVALID_ARGUMENT, "soc transport: no SoC");
  return make_transport(soc, name, false, out_transport);
}

/* ---- sim:// ------------------------------------------------------------------ */

namespace {

pal_status_t parse_u32(const pal_device_uri_t *uri, const char *key, uint32_t lo, uint32_t hi,
                       uint32_t *inout) {
  const char *v = pal_device_uri_query(uri, key);
  if (!v) return PAL_STATUS_OK;
  char *end = NULL;
  unsigned long long x = strtoull(v, &end, 10);
  if (!*v || *end || x < lo || x > hi)
    return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": %s=%s is not a number in %u..%u",
                           uri->text, key, v, (unsigned)lo, (unsigned)hi);
  *inout = (uint32_t)x;
  return PAL_STATUS_OK;
}

pal_status_t sim_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                      pal_device_t **out_device) {
  static const char *const keys[] = {"rows", "cols", "attach", "clocks_per_bit", "seed", "fw", "board",
                                     NULL};
  *out_device = NULL;
  PAL_RETURN_IF_ERROR(pal_device_uri_check_keys(uri, keys));
  if (uri->target[0])
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": sim:// takes no target, only ?rows=&cols=&attach=...",
                           uri->text);
  pal_soc_options_t o;
  pal_soc_options_initialize(&o);
  PAL_RETURN_IF_ERROR(parse_u32(uri, "rows", 1, 256, &o.rows));
  PAL_RETURN_IF_ERROR(parse_u32(uri, "cols", 1, 256, &o.cols));
  PAL_RETURN_IF_ERROR(parse_u32(uri, "clocks_per_bit", 1, 1u << 20, &o.clocks_per_bit));
  uint32_t fw = 0;
  PAL_RETURN_IF_ERROR(parse_u32(uri, "fw", 0, 1, &fw));
  o.firmware = fw != 0;
  o.board = pal_device_uri_query(uri, "board");
  if (o.board && (pal_device_uri_query(uri, "rows") || pal_device_uri_query(uri, "cols") ||
                  pal_device_uri_query(uri, "fw")))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "device URI \"%s\": board= fixes the geometry and the firmware; "
                           "rows=, cols= and fw= do not go with it",
                           uri->text);
  const char *a = pal_device_uri_query(uri, "attach");
  if (a) {
    if (!strcmp(a, "fifo"))
      o.attach = PAL_SOC_ATTACH_FIFO;
    else if (!strcmp(a, "uart"))
      o.attach = PAL_SOC_ATTACH_UART;
    else
      return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": attach=%s is not fifo or uart",
                             uri->text, a);
  }
  const char *s = pal_device_uri_query(uri, "seed");
  if (s) {
    char *end = NULL;
    o.seed = strtoull(s, &end, 0);
    if (!*s || *end)
      return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": seed=%s is not a number",
                             uri->text, s);
  }
  pal_soc_t *soc = NULL;
  pal_status_t st = pal_soc_create(&o, &soc);
  if (st) return pal_status_annotate(st, "%s", uri->text);
  pal_transport_t t;
  st = make_transport(soc, uri->text, true, &t);
  if (st) {
    pal_soc_destroy(soc);
    return st;
  }
  // Wire time per byte in the model's time, so the host's timeout grows
  // with the transfer as it would on the board.
  uint32_t byte_time_ns =
      (uint32_t)((uint64_t)cycles_per_byte(soc) * 1000000ull / o.cycles_per_ms);
  // The model's time moves only while the driver talks to it: pausing
  // between STATUS polls would only add wall time.
  pal_device_options_t opt;
  if (options)
    opt = *options;
  else
    pal_device_options_initialize(&opt);
  opt.wait_poll_us = 0;
  return pal_device_open_transport(uri->text, t, byte_time_ns, &opt, out_device);
}

const pal_device_scheme_t kSimScheme = {
    "sim",
    "sim://[?rows=R&cols=C&attach=fifo|uart&clocks_per_bit=4&seed=N&fw=1|board=NAME]  the "
    "Verilated SoC (RTL link engine + tile; fw=1: with the control core and firmware; board=: "
    "a board's configuration, where linked in) in this process",
    sim_open,
};

}  // namespace

pal_status_t pal_soc_register_scheme(void) { return pal_device_register_scheme(&kSimScheme); }
