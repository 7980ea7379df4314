/* The backend-neutral tile device (include/pal/tile.h): geometry, the
 * region and register maps, and the checking front end that every backend
 * (emulator, Verilated RTL) sits behind, so range errors read the same
 * whichever tile is underneath. */
#include <stdio.h>
#include <string.h>

#include "pal/tile.h"

/* ---- geometry ------------------------------------------------------------ */

void pal_tile_config_initialize(pal_tile_config_t *config, uint32_t rows, uint32_t cols) {
  memset(config, 0, sizeof *config);
  config->rows = rows;
  config->cols = cols;
  uint64_t units = (uint64_t)rows * cols / 4u;
  if (units < 1) units = 1;
  if (units > 255) units = 255;
  config->acc_units = (uint32_t)units;
  config->imem_depth = 256;
  config->abuf_blocks = 512;
  config->wmem_blocks = 256;
  config->acc_depth = 4096;
  config->bias_depth = 1024;
  config->obuf_depth = 4096;
}

uint32_t pal_tile_config_pes(const pal_tile_config_t *config) { return config->rows * config->cols; }

uint32_t pal_tile_config_pes_per_unit(const pal_tile_config_t *config) {
  uint32_t p = pal_tile_config_pes(config);
  return config->acc_units ? (p + config->acc_units - 1) / config->acc_units : p;
}

static pal_status_t check_range(const char *name, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value < lo || value > hi)
    return pal_status_make(PAL_OUT_OF_RANGE, "tile config: %s = %llu is outside %llu..%llu", name,
                           (unsigned long long)value, (unsigned long long)lo,
                           (unsigned long long)hi);
  return PAL_STATUS_OK;
}

pal_status_t pal_tile_config_validate(const pal_tile_config_t *config) {
  if (!config) return pal_status_make(PAL_INVALID_ARGUMENT, "tile config: NULL");
  PAL_RETURN_IF_ERROR(check_range("rows", config->rows, 1, 255));
  PAL_RETURN_IF_ERROR(check_range("cols", config->cols, 1, 255));
  uint32_t p = config->rows * config->cols;
  PAL_RETURN_IF_ERROR(check_range("acc_units", config->acc_units, 1, p < 255 ? p : 255));
  /* err_pc (16 bits) must be able to name the PC one past the last. */
  PAL_RETURN_IF_ERROR(check_range("imem_depth", config->imem_depth, 1, 65535));
  PAL_RETURN_IF_ERROR(check_range("abuf_blocks", config->abuf_blocks, 1, 65536));
  PAL_RETURN_IF_ERROR(check_range("wmem_blocks", config->wmem_blocks, 1, 65536));
  PAL_RETURN_IF_ERROR(check_range("acc_depth", config->acc_depth, 1, 65536));
  PAL_RETURN_IF_ERROR(check_range("bias_depth", config->bias_depth, 1, 65536));
  PAL_RETURN_IF_ERROR(check_range("obuf_depth", config->obuf_depth, 1, 65536));
  PAL_RETURN_IF_ERROR(check_range("no_post", config->no_post, 0, 1));
  PAL_RETURN_IF_ERROR(check_range("no_accu", config->no_accu, 0, 1));
  /* POST reads FP32 sums from ACC, which a tile without accumulate units
   * never has */
  if (config->no_accu && !config->no_post)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "tile config: no_accu = 1 needs no_post = 1 (POST reads FP32 sums)");
  return PAL_STATUS_OK;
}

/* ---- regions ------------------------------------------------------------- */

const char *pal_tile_region_name(pal_tile_region_t region) {
  switch (region) {
    case PAL_TILE_REGION_IMEM: return "IMEM";
    case PAL_TILE_REGION_ABUF_CODES: return "ABUF_CODES";
    case PAL_TILE_REGION_ABUF_SCALES: return "ABUF_SCALES";
    case PAL_TILE_REGION_WMEM_CODES: return "WMEM_CODES";
    case PAL_TILE_REGION_WMEM_SCALES: return "WMEM_SCALES";
    case PAL_TILE_REGION_ACC: return "ACC";
    case PAL_TILE_REGION_ACC_NAR: return "ACC_NAR";
    case PAL_TILE_REGION_BIAS: return "BIAS";
    case PAL_TILE_REGION_OBUF: return "OBUF";
    default: return "UNKNOWN";
  }
}

size_t pal_tile_region_element_size(pal_tile_region_t region) {
  switch (region) {
    case PAL_TILE_REGION_IMEM:
    case PAL_TILE_REGION_ACC:
    case PAL_TILE_REGION_BIAS:
    case PAL_TILE_REGION_OBUF: return 4;
    case PAL_TILE_REGION_ABUF_CODES:
    case PAL_TILE_REGION_ABUF_SCALES:
    case PAL_TILE_REGION_WMEM_CODES:
    case PAL_TILE_REGION_WMEM_SCALES:
    case PAL_TILE_REGION_ACC_NAR: return 1;
    default: return 0;
  }
}

uint64_t pal_tile_region_length(const pal_tile_config_t *config, pal_tile_region_t region) {
  switch (region) {
    case PAL_TILE_REGION_IMEM: return (uint64_t)config->imem_depth * PAL_ISA_INSTR_WORDS;
    case PAL_TILE_REGION_ABUF_CODES: return (uint64_t)config->abuf_blocks * 32u;
    case PAL_TILE_REGION_ABUF_SCALES: return config->abuf_blocks;
    case PAL_TILE_REGION_WMEM_CODES: return (uint64_t)config->wmem_blocks * 32u;
    case PAL_TILE_REGION_WMEM_SCALES: return config->wmem_blocks;
    case PAL_TILE_REGION_ACC:
    case PAL_TILE_REGION_ACC_NAR: return config->acc_depth;
    case PAL_TILE_REGION_BIAS: return config->bias_depth;
    case PAL_TILE_REGION_OBUF: return config->obuf_depth;
    default: return 0;
  }
}

bool pal_tile_region_is_per_pe(pal_tile_region_t region) {
  return region == PAL_TILE_REGION_WMEM_CODES || region == PAL_TILE_REGION_WMEM_SCALES;
}

/* ---- registers ----------------------------------------------------------- */

static const char *const kCounterNames[PAL_TILE_CTR_COUNT] = {
    "CYC_TOTAL",   "CYC_BUSY",    "CYC_STALL",      "CYC_IDLE",   "MACS_ISSUED",
    "MACS_GATED",  "ACT_SKIPPED", "BLOCKS_SKIPPED", "NAR_OUTPUTS",
};
static const char *const kCounterHiNames[PAL_TILE_CTR_COUNT] = {
    "CYC_TOTAL_HI",   "CYC_BUSY_HI",    "CYC_STALL_HI",      "CYC_IDLE_HI",   "MACS_ISSUED_HI",
    "MACS_GATED_HI",  "ACT_SKIPPED_HI", "BLOCKS_SKIPPED_HI", "NAR_OUTPUTS_HI",
};

const char *pal_tile_counter_name(uint32_t counter) {
  return counter < PAL_TILE_CTR_COUNT ? kCounterNames[counter] : "UNKNOWN";
}

const char *pal_tile_reg_name(uint32_t offset) {
  switch (offset) {
    case PAL_TILE_REG_ID: return "ID";
    case PAL_TILE_REG_ISA_VERSION: return "ISA_VERSION";
    case PAL_TILE_REG_GEOMETRY: return "GEOMETRY";
    case PAL_TILE_REG_IMEM_DEPTH: return "IMEM_DEPTH";
    case PAL_TILE_REG_ABUF_BLOCKS: return "ABUF_BLOCKS";
    case PAL_TILE_REG_WMEM_BLOCKS: return "WMEM_BLOCKS";
    case PAL_TILE_REG_ACC_DEPTH: return "ACC_DEPTH";
    case PAL_TILE_REG_BIAS_DEPTH: return "BIAS_DEPTH";
    case PAL_TILE_REG_OBUF_DEPTH: return "OBUF_DEPTH";
    case PAL_TILE_REG_CONTROL: return "CONTROL";
    case PAL_TILE_REG_START_PC: return "START_PC";
    case PAL_TILE_REG_STATUS: return "STATUS";
    case PAL_TILE_REG_CLIP_LO: return "CLIP_LO";
    case PAL_TILE_REG_CLIP_HI: return "CLIP_HI";
    default: break;
  }
  if (offset >= PAL_TILE_REG_COUNTERS && offset < PAL_TILE_REG_COUNTER(PAL_TILE_CTR_COUNT) &&
      offset % 4 == 0) {
    uint32_t i = (offset - PAL_TILE_REG_COUNTERS) / 8;
    return (offset % 8) ? kCounterHiNames[i] : kCounterNames[i];
  }
  return NULL;
}

void pal_tile_status_unpack(uint32_t status_reg, pal_tile_status_t *out_status) {
  out_status->busy = (status_reg & PAL_TILE_STATUS_BUSY) != 0;
  out_status->done = (status_reg & PAL_TILE_STATUS_DONE) != 0;
  out_status->nar = (status_reg & PAL_TILE_STATUS_NAR) != 0;
  out_status->error = (status_reg >> PAL_TILE_STATUS_ERROR_LSB) & 0xFFu;
  out_status->err_pc = status_reg >> PAL_TILE_STATUS_ERR_PC_LSB;
}

/* ---- checking front end -------------------------------------------------- */

static const char *dev_name(const pal_tile_device_t *device) {
  return device->name ? device->name : "tile";
}

static pal_status_t check_access(pal_tile_device_t *device, const char *verb,
                                 pal_tile_region_t region, uint32_t pe, uint64_t index,
                                 size_t count, const void *buffer) {
  if ((unsigned)region >= PAL_TILE_REGION_COUNT)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s %s: unknown region %d", dev_name(device),
                           verb, (int)region);
  const char *rname = pal_tile_region_name(region);
  uint32_t pes = pal_tile_config_pes(&device->config);
  if (pal_tile_region_is_per_pe(region)) {
    if (pe >= pes)
      return pal_status_make(PAL_OUT_OF_RANGE, "%s %s %s: PE %u does not exist (P = %u)",
                             dev_name(device), verb, rname, (unsigned)pe, (unsigned)pes);
  } else if (pe != 0) {
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s %s %s: pe = %u, but the region is not per PE",
                           dev_name(device), verb, rname, (unsigned)pe);
  }
  uint64_t len = pal_tile_region_length(&device->config, region);
  if (index > len || count > len - index) {
    char where[48] = "";
    if (pal_tile_region_is_per_pe(region)) snprintf(where, sizeof where, " of PE %u", (unsigned)pe);
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s %s %s%s: elements %llu..%llu are outside the region's %llu",
                           dev_name(device), verb, rname, where, (unsigned long long)index,
                           (unsigned long long)(index + count) - 1ull, (unsigned long long)len);
  }
  if (count && !buffer)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s %s %s: NULL buffer for %zu elements",
                           dev_name(device), verb, rname, count);
  return PAL_STATUS_OK;
}

pal_status_t pal_tile_device_write(pal_tile_device_t *device, pal_tile_region_t region, uint32_t pe,
                                   uint64_t index, size_t count, const void *data) {
  PAL_RETURN_IF_ERROR(check_access(device, "write", region, pe, index, count, data));
  if (region == PAL_TILE_REGION_ACC_NAR) {
    const uint8_t *flags = data;
    for (size_t i = 0; i < count; i++)
      if (flags[i] > 1)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "%s write ACC_NAR: element %llu is %u, a NaR flag is 0 or 1",
                               dev_name(device), (unsigned long long)(index + i),
                               (unsigned)flags[i]);
  }
  if (count == 0) return PAL_STATUS_OK;
  return device->ops->write(device->self, region, pe, index, count, data);
}

pal_status_t pal_tile_device_read(pal_tile_device_t *device, pal_tile_region_t region, uint32_t pe,
                                  uint64_t index, size_t count, void *out_data) {
  PAL_RETURN_IF_ERROR(check_access(device, "read", region, pe, index, count, out_data));
  if (count == 0) return PAL_STATUS_OK;
  return device->ops->read(device->self, region, pe, index, count, out_data);
}

static bool reg_is_writable(uint32_t offset) {
  return offset == PAL_TILE_REG_CONTROL || offset == PAL_TILE_REG_START_PC ||
         offset == PAL_TILE_REG_CLIP_LO || offset == PAL_TILE_REG_CLIP_HI;
}

pal_status_t pal_tile_device_write_reg(pal_tile_device_t *device, uint32_t offset, uint32_t value) {
  const char *name = pal_tile_reg_name(offset);
  if (!name)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s register write: no register at offset 0x%02x",
                           dev_name(device), (unsigned)offset);
  if (!reg_is_writable(offset))
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s register write: %s (0x%02x) is read-only",
                           dev_name(device), name, (unsigned)offset);
  if (offset == PAL_TILE_REG_CONTROL &&
      (value & ~(PAL_TILE_CONTROL_START | PAL_TILE_CONTROL_RESET)))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s register write: CONTROL = 0x%08x sets reserved bits 0x%08x",
                           dev_name(device), (unsigned)value,
                           (unsigned)(value & ~(PAL_TILE_CONTROL_START | PAL_TILE_CONTROL_RESET)));
  if (offset == PAL_TILE_REG_START_PC && value > 0xFFFFu)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s register write: START_PC = %u does not fit its 16 bits",
                           dev_name(device), (unsigned)value);
  return device->ops->write_reg(device->self, offset, value);
}

pal_status_t pal_tile_device_read_reg(pal_tile_device_t *device, uint32_t offset,
                                      uint32_t *out_value) {
  const char *name = pal_tile_reg_name(offset);
  if (!name)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s register read: no register at offset 0x%02x",
                           dev_name(device), (unsigned)offset);
  if (offset == PAL_TILE_REG_CONTROL) {
    *out_value = 0; /* write-only */
    return PAL_STATUS_OK;
  }
  return device->ops->read_reg(device->self, offset, out_value);
}

pal_status_t pal_tile_device_load_program(pal_tile_device_t *device, uint32_t pc,
                                          const uint32_t *words, size_t n_words) {
  if (n_words % PAL_ISA_INSTR_WORDS)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s load program: %zu words is not a whole number of instructions",
                           dev_name(device), n_words);
  return pal_tile_device_write(device, PAL_TILE_REGION_IMEM, 0, (uint64_t)pc * PAL_ISA_INSTR_WORDS,
                               n_words, words);
}

pal_status_t pal_tile_device_wait(pal_tile_device_t *device, uint64_t max_cycles) {
  return device->ops->wait(device->self, max_cycles);
}

pal_status_t pal_tile_device_read_status(pal_tile_device_t *device, pal_tile_status_t *out_status) {
  uint32_t v;
  PAL_RETURN_IF_ERROR(pal_tile_device_read_reg(device, PAL_TILE_REG_STATUS, &v));
  pal_tile_status_unpack(v, out_status);
  return PAL_STATUS_OK;
}

pal_status_t pal_tile_device_run(pal_tile_device_t *device, uint32_t start_pc, uint64_t max_cycles,
                                 pal_tile_status_t *out_status) {
  PAL_RETURN_IF_ERROR(pal_tile_device_write_reg(device, PAL_TILE_REG_START_PC, start_pc));
  PAL_RETURN_IF_ERROR(pal_tile_device_write_reg(device, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START));
  pal_status_t st = pal_tile_device_wait(device, max_cycles);
  if (out_status) {
    pal_status_t st2 = pal_tile_device_read_status(device, out_status);
    if (st2 && !st) return st2;
    pal_status_free(st2);
  }
  return st;
}

pal_status_t pal_tile_device_read_counters(pal_tile_device_t *device,
                                           pal_tile_counters_t *out_counters) {
  for (uint32_t c = 0; c < PAL_TILE_CTR_COUNT; c++) {
    uint32_t lo, hi;
    PAL_RETURN_IF_ERROR(pal_tile_device_read_reg(device, PAL_TILE_REG_COUNTER(c), &lo));
    PAL_RETURN_IF_ERROR(pal_tile_device_read_reg(device, PAL_TILE_REG_COUNTER(c) + 4u, &hi));
    out_counters->value[c] = ((uint64_t)hi << 32) | lo;
  }
  return PAL_STATUS_OK;
}
