// The C ABI of include/pal/sim.h over the Verilated pal_tile models: bus
// transfers, region and register access in the device's element units, and
// the pal_tile_device_ops_t that lets the emulator's device-level code drive
// the RTL.
#include "pal/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal_sim_model.h"

// The models this program may have been linked with; the absent ones are
// null (weak references).
extern "C" {
extern const pal_sim_variant_t pal_sim_variant_4x4 __attribute__((weak));
extern const pal_sim_variant_t pal_sim_variant_8x8 __attribute__((weak));
extern const pal_sim_variant_t pal_sim_variant_16x16 __attribute__((weak));
extern const pal_sim_variant_t pal_sim_variant_2x2 __attribute__((weak));
extern const pal_sim_variant_t pal_sim_variant_4x4_fst __attribute__((weak));
extern const pal_sim_variant_t pal_sim_variant_8x8_fst __attribute__((weak));
// a board's tile configuration, any geometry (sim/sim.mk's board models:
// a program links at most one)
extern const pal_sim_variant_t pal_sim_variant_board __attribute__((weak));
}

namespace {

const pal_sim_variant_t *const kVariants[] = {
    &pal_sim_variant_4x4,     &pal_sim_variant_8x8,     &pal_sim_variant_16x16,
    &pal_sim_variant_2x2,
    &pal_sim_variant_4x4_fst, &pal_sim_variant_8x8_fst, &pal_sim_variant_board,
};
constexpr size_t kNumVariants = sizeof kVariants / sizeof kVariants[0];

// Bus regions, address[31:28] (docs/tile-rtl.md; include/pal/tile.h).
constexpr uint32_t region_base(pal_tile_region_t region) {
  return PAL_TILE_PORT_RG(region) << PAL_TILE_PORT_RG_SHIFT;
}

uint32_t log2_ceil(uint64_t x) {
  uint32_t r = 0;
  while ((1ull << r) < x) r++;
  return r;
}

// Bytes of one element on the bus: byte regions pack 4 per word, the rest
// (and the ACC NaR flags) take a word.
bool packed_bytes(pal_tile_region_t region) {
  return pal_tile_region_element_size(region) == 1 && region != PAL_TILE_REGION_ACC_NAR;
}

}  // namespace

struct pal_sim {
  pal_sim_model *model;
  const pal_sim_variant_t *variant;
  pal_tile_device_t device;
  uint64_t cycle;
};

extern "C" {

void pal_sim_options_initialize(pal_sim_options_t *options) {
  memset(options, 0, sizeof *options);
  options->rows = 4;
  options->cols = 4;
}

size_t pal_sim_variants(pal_sim_variant_info_t *out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < kNumVariants; i++) {
    const pal_sim_variant_t *v = kVariants[i];
    if (!v) continue;
    if (out && n < max) out[n] = {v->rows, v->cols, v->traced != 0};
    n++;
  }
  return n;
}

uint32_t pal_sim_region_address(const pal_tile_config_t *config, pal_tile_region_t region,
                                uint32_t pe, uint64_t index) {
  uint32_t base = region_base(region);
  uint32_t wbits = log2_ceil(config->wmem_blocks);
  switch (region) {
    case PAL_TILE_REGION_WMEM_CODES:
      return base + (pe << (wbits + 5)) + (uint32_t)index;
    case PAL_TILE_REGION_WMEM_SCALES:
      return base + (pe << (wbits > 2 ? wbits : 2)) + (uint32_t)index;
    default:
      return base + (uint32_t)index * (packed_bytes(region) ? 1u : 4u);
  }
}

static pal_status_t transfer(pal_sim_t *sim, bool we, uint32_t addr, uint32_t wdata,
                             uint32_t strobes, uint32_t *out_rdata) {
  if (addr & 3u)
    return pal_status_make(PAL_INVALID_ARGUMENT, "sim bus: address 0x%08x is not word aligned",
                           (unsigned)addr);
  if ((addr >> 28) != 0 && sim->model->busy())
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "sim bus: memory at 0x%08x while the tile is busy", (unsigned)addr);
  sim->model->set_bus(true, we, addr, wdata, strobes);
  int guard = 0;
  do {
    sim->model->tick();
    sim->cycle++;
    if (++guard > 16) {
      sim->model->set_bus(false, false, 0, 0, 0);
      return pal_status_make(PAL_INTERNAL, "sim bus: no answer at 0x%08x", (unsigned)addr);
    }
  } while (!sim->model->bus_ready());
  if (out_rdata) *out_rdata = sim->model->bus_rdata();
  /* phase B: the write happens at this edge; a master holds its request
   * until then (docs/tile-rtl.md, "Bus": the tile reads it where it is) */
  sim->model->tick();
  sim->cycle++;
  sim->model->set_bus(false, false, 0, 0, 0);
  return PAL_STATUS_OK;
}

pal_status_t pal_sim_bus_read(pal_sim_t *sim, uint32_t addr, uint32_t *out_value) {
  return transfer(sim, false, addr, 0, 0, out_value);
}

pal_status_t pal_sim_bus_write(pal_sim_t *sim, uint32_t addr, uint32_t value, uint32_t strobes) {
  return transfer(sim, true, addr, value, strobes, NULL);
}

pal_status_t pal_sim_reset(pal_sim_t *sim, uint32_t cycles) {
  if (cycles < 1) cycles = 1;
  sim->model->set_bus(false, false, 0, 0, 0);
  sim->model->set_rst(true);
  for (uint32_t i = 0; i < cycles; i++) sim->model->tick();
  sim->model->set_rst(false);
  sim->cycle += cycles;
  return PAL_STATUS_OK;
}

pal_status_t pal_sim_run(pal_sim_t *sim, uint64_t cycles) {
  for (uint64_t i = 0; i < cycles; i++) sim->model->tick();
  sim->cycle += cycles;
  return PAL_STATUS_OK;
}

uint64_t pal_sim_cycle(const pal_sim_t *sim) { return sim->cycle; }
bool pal_sim_busy(const pal_sim_t *sim) { return sim->model->busy(); }
const pal_tile_config_t *pal_sim_config(const pal_sim_t *sim) { return &sim->device.config; }

pal_status_t pal_sim_trace_open(pal_sim_t *sim, const char *path) {
  return sim->model->trace_open(path);
}

pal_status_t pal_sim_trace_close(pal_sim_t *sim) {
  sim->model->trace_close();
  return PAL_STATUS_OK;
}

pal_tile_device_t *pal_sim_device(pal_sim_t *sim) { return &sim->device; }

}  // extern "C"

// ---- device backend -------------------------------------------------------------

static pal_status_t sim_write(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                              size_t count, const void *data) {
  pal_sim_t *sim = (pal_sim_t *)self;
  const pal_tile_config_t *cfg = &sim->device.config;
  if (sim->model->busy())
    return pal_status_make(PAL_FAILED_PRECONDITION, "rtl write %s: the tile is busy",
                           pal_tile_region_name(region));
  if (packed_bytes(region)) {
    const uint8_t *bytes = (const uint8_t *)data;
    size_t i = 0;
    while (i < count) {
      uint32_t addr = pal_sim_region_address(cfg, region, pe, index + i);
      uint32_t lane = addr & 3u, word = 0, strobes = 0;
      for (; lane < 4 && i < count; lane++, i++) {
        word |= (uint32_t)bytes[i] << (8 * lane);
        strobes |= 1u << lane;
      }
      PAL_RETURN_IF_ERROR(transfer(sim, true, addr & ~3u, word, strobes, NULL));
    }
  } else {
    for (size_t i = 0; i < count; i++) {
      uint32_t v = region == PAL_TILE_REGION_ACC_NAR ? ((const uint8_t *)data)[i]
                                                      : ((const uint32_t *)data)[i];
      PAL_RETURN_IF_ERROR(
          transfer(sim, true, pal_sim_region_address(cfg, region, pe, index + i), v, 0xF, NULL));
    }
  }
  return PAL_STATUS_OK;
}

static pal_status_t sim_read(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                             size_t count, void *out_data) {
  pal_sim_t *sim = (pal_sim_t *)self;
  const pal_tile_config_t *cfg = &sim->device.config;
  if (sim->model->busy())
    return pal_status_make(PAL_FAILED_PRECONDITION, "rtl read %s: the tile is busy",
                           pal_tile_region_name(region));
  if (packed_bytes(region)) {
    uint8_t *bytes = (uint8_t *)out_data;
    size_t i = 0;
    while (i < count) {
      uint32_t addr = pal_sim_region_address(cfg, region, pe, index + i), word;
      PAL_RETURN_IF_ERROR(transfer(sim, false, addr & ~3u, 0, 0, &word));
      for (uint32_t lane = addr & 3u; lane < 4 && i < count; lane++, i++)
        bytes[i] = (uint8_t)(word >> (8 * lane));
    }
  } else {
    for (size_t i = 0; i < count; i++) {
      uint32_t v;
      PAL_RETURN_IF_ERROR(
          transfer(sim, false, pal_sim_region_address(cfg, region, pe, index + i), 0, 0, &v));
      if (region == PAL_TILE_REGION_ACC_NAR)
        ((uint8_t *)out_data)[i] = (uint8_t)(v & 1u);
      else
        ((uint32_t *)out_data)[i] = v;
    }
  }
  return PAL_STATUS_OK;
}

static pal_status_t sim_write_reg(void *self, uint32_t offset, uint32_t value) {
  pal_sim_t *sim = (pal_sim_t *)self;
  if (offset == PAL_TILE_REG_CONTROL && (value & PAL_TILE_CONTROL_START) &&
      !(value & PAL_TILE_CONTROL_RESET) && sim->model->busy())
    return pal_status_make(PAL_FAILED_PRECONDITION, "rtl: CONTROL.start while the tile is busy");
  return transfer(sim, true, offset, value, 0xF, NULL);
}

static pal_status_t sim_read_reg(void *self, uint32_t offset, uint32_t *out_value) {
  return transfer((pal_sim_t *)self, false, offset, 0, 0, out_value);
}

static pal_status_t sim_wait(void *self, uint64_t max_cycles) {
  pal_sim_t *sim = (pal_sim_t *)self;
  if (!sim->model->busy()) return PAL_STATUS_OK;
  uint64_t n = sim->model->run_while_busy(max_cycles);
  sim->cycle += n;
  if (sim->model->busy())
    return pal_status_make(PAL_DEADLINE_EXCEEDED, "rtl: still busy after %llu cycles (limit %llu)",
                           (unsigned long long)n, (unsigned long long)max_cycles);
  return PAL_STATUS_OK;
}

static const pal_tile_device_ops_t kSimOps = {
    sim_write, sim_read, sim_write_reg, sim_read_reg, sim_wait,
};

// ---- lifetime -----------------------------------------------------------------------

extern "C" pal_status_t pal_sim_create(const pal_sim_options_t *options, pal_sim_t **out_sim) {
  *out_sim = NULL;
  pal_sim_options_t opts;
  if (options)
    opts = *options;
  else
    pal_sim_options_initialize(&opts);
  const pal_sim_variant_t *variant = NULL;
  char have[256] = "";
  size_t len = 0;
  for (size_t i = 0; i < kNumVariants; i++) {
    const pal_sim_variant_t *v = kVariants[i];
    if (!v) continue;
    len += (size_t)snprintf(have + len, len < sizeof have ? sizeof have - len : 0, "%s%ux%u%s",
                            len ? ", " : "", (unsigned)v->rows, (unsigned)v->cols,
                            v->traced ? " (traced)" : "");
    if (v->rows == opts.rows && v->cols == opts.cols && (v->traced != 0) == opts.trace)
      variant = v;
  }
  if (!variant)
    return pal_status_make(PAL_NOT_FOUND,
                           "sim: no %s%ux%u model in this program (linked: %s)",
                           opts.trace ? "traced " : "", (unsigned)opts.rows, (unsigned)opts.cols,
                           len ? have : "none");
  pal_sim_t *sim = (pal_sim_t *)calloc(1, sizeof *sim);
  if (!sim) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "sim: out of memory");
  sim->variant = variant;
  sim->model = variant->create(opts.seed ? opts.seed : 0x5EED0A11ull);
  pal_tile_config_initialize(&sim->device.config, variant->rows, variant->cols);
  // a model built with other depths (the iCEBreaker's 2x2) carries them
  uint32_t *const depth[6] = {&sim->device.config.imem_depth, &sim->device.config.abuf_blocks,
                              &sim->device.config.wmem_blocks, &sim->device.config.acc_depth,
                              &sim->device.config.bias_depth, &sim->device.config.obuf_depth};
  for (int i = 0; i < 6; i++)
    if (variant->depths[i]) *depth[i] = variant->depths[i];
  sim->device.config.no_post = variant->no_post;
  sim->device.config.no_accu = variant->no_accu;
  sim->device.ops = &kSimOps;
  sim->device.self = sim;
  sim->device.name = "rtl";
  pal_status_t st = PAL_STATUS_OK;
  if (opts.trace && opts.trace_path) st = sim->model->trace_open(opts.trace_path);
  if (!st) st = pal_sim_reset(sim, 2);

  // The RTL reports its own geometry: it must be the one the variant claims.
  static const struct {
    uint32_t reg;
    size_t offset;
  } kIds[] = {
      {PAL_TILE_REG_IMEM_DEPTH, offsetof(pal_tile_config_t, imem_depth)},
      {PAL_TILE_REG_ABUF_BLOCKS, offsetof(pal_tile_config_t, abuf_blocks)},
      {PAL_TILE_REG_WMEM_BLOCKS, offsetof(pal_tile_config_t, wmem_blocks)},
      {PAL_TILE_REG_ACC_DEPTH, offsetof(pal_tile_config_t, acc_depth)},
      {PAL_TILE_REG_BIAS_DEPTH, offsetof(pal_tile_config_t, bias_depth)},
      {PAL_TILE_REG_OBUF_DEPTH, offsetof(pal_tile_config_t, obuf_depth)},
  };
  uint32_t id = 0, geo = 0;
  if (!st) st = pal_sim_bus_read(sim, PAL_TILE_REG_ID, &id);
  if (!st) st = pal_sim_bus_read(sim, PAL_TILE_REG_GEOMETRY, &geo);
  const pal_tile_config_t *c = &sim->device.config;
  if (!st && (id != PAL_TILE_ID_VALUE ||
              geo != (c->rows | c->cols << 8 | c->acc_units << 16 | (c->no_post ? PAL_TILE_GEOMETRY_NO_POST : 0) |
                      (c->no_accu ? PAL_TILE_GEOMETRY_NO_ACCU : 0))))
    st = pal_status_make(PAL_INTERNAL, "sim: the %ux%u model reports ID 0x%08x, GEOMETRY 0x%08x",
                         (unsigned)c->rows, (unsigned)c->cols, (unsigned)id, (unsigned)geo);
  for (size_t i = 0; !st && i < sizeof kIds / sizeof kIds[0]; i++) {
    uint32_t v = 0;
    st = pal_sim_bus_read(sim, kIds[i].reg, &v);
    uint32_t want = *(const uint32_t *)((const char *)c + kIds[i].offset);
    if (!st && v != want)
      st = pal_status_make(PAL_INTERNAL, "sim: register %s = %u, the configuration says %u",
                           pal_tile_reg_name(kIds[i].reg), (unsigned)v, (unsigned)want);
  }
  if (st) {
    pal_sim_destroy(sim);
    return st;
  }
  *out_sim = sim;
  return PAL_STATUS_OK;
}

extern "C" void pal_sim_destroy(pal_sim_t *sim) {
  if (!sim) return;
  delete sim->model;
  free(sim);
}
