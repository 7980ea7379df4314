/* The device address map of docs/protocol.md §5 and the bus master behind
 * the link engine: decodes a byte address into a tile register, a region of
 * one PE or a link-engine register, checks a whole access before any of it
 * happens, and drives a pal_tile_device_t. The direct emu:// path uses the
 * same bus, so both paths give every address the same meaning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/protocol.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the bus passes 32-bit elements through in host order; the wire is little-endian"
#endif

#define TILE_REG_WINDOW PAL_ADDR_TILE_REGS_WINDOW
#define LINK_REG_WINDOW PAL_ADDR_LINK_REGS_WINDOW

typedef struct window {
  uint32_t base;
  uint32_t size;   /* bytes of address space */
  uint32_t stride; /* per-PE windows: bytes per PE; 0 otherwise */
  pal_tile_region_t region;
} window_t;

static const window_t kWindows[] = {
    {PAL_ADDR_IMEM, PAL_ADDR_IMEM_WINDOW, 0, PAL_TILE_REGION_IMEM},
    {PAL_ADDR_ABUF_CODES, PAL_ADDR_ABUF_CODES_WINDOW, 0, PAL_TILE_REGION_ABUF_CODES},
    {PAL_ADDR_ABUF_SCALES, PAL_ADDR_ABUF_SCALES_WINDOW, 0, PAL_TILE_REGION_ABUF_SCALES},
    {PAL_ADDR_WMEM_CODES, PAL_ADDR_MAX_PES * PAL_ADDR_WMEM_CODES_STRIDE, PAL_ADDR_WMEM_CODES_STRIDE,
     PAL_TILE_REGION_WMEM_CODES},
    {PAL_ADDR_WMEM_SCALES, PAL_ADDR_MAX_PES * PAL_ADDR_WMEM_SCALES_STRIDE,
     PAL_ADDR_WMEM_SCALES_STRIDE, PAL_TILE_REGION_WMEM_SCALES},
    {PAL_ADDR_ACC, PAL_ADDR_BANK_WINDOW, 0, PAL_TILE_REGION_ACC},
    {PAL_ADDR_ACC_NAR, PAL_ADDR_BANK_WINDOW, 0, PAL_TILE_REGION_ACC_NAR},
    {PAL_ADDR_BIAS, PAL_ADDR_BANK_WINDOW, 0, PAL_TILE_REGION_BIAS},
    {PAL_ADDR_OBUF, PAL_ADDR_BANK_WINDOW, 0, PAL_TILE_REGION_OBUF},
};
#define N_WINDOWS (sizeof kWindows / sizeof kWindows[0])

static const window_t *window_of_region(pal_tile_region_t region) {
  for (size_t i = 0; i < N_WINDOWS; i++)
    if (kWindows[i].region == region) return &kWindows[i];
  return NULL;
}

static const char *const kLinkCounterNames[PAL_LINK_CTR_COUNT] = {
    "RX_FRAMES", "RX_BAD_HCRC", "RX_BAD_CRC", "RX_IDLE_RESETS",  "RX_DISCARDED",
    "TX_FRAMES", "NAKS_SENT",   "DUP_WRITES", "WRITES_EXECUTED", "KERNEL_STARTS",
};

const char *pal_link_counter_name(uint32_t counter) {
  return counter < PAL_LINK_CTR_COUNT ? kLinkCounterNames[counter] : "UNKNOWN";
}

pal_status_t pal_bus_check_geometry(const pal_tile_config_t *cfg) {
  uint32_t pes = pal_tile_config_pes(cfg);
  if (pes > PAL_ADDR_MAX_PES)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "address map: %u PEs, but the per-PE windows hold at most %u", pes,
                           PAL_ADDR_MAX_PES);
  for (size_t i = 0; i < N_WINDOWS; i++) {
    const window_t *w = &kWindows[i];
    uint64_t bytes = pal_tile_region_length(cfg, w->region) * pal_tile_region_element_size(w->region);
    uint64_t room = w->stride ? w->stride : w->size;
    if (bytes > room)
      return pal_status_make(PAL_OUT_OF_RANGE,
                             "address map: %s needs %llu bytes%s, its window at 0x%08x holds %llu",
                             pal_tile_region_name(w->region), (unsigned long long)bytes,
                             w->stride ? " per PE" : "", (unsigned)w->base,
                             (unsigned long long)room);
  }
  return PAL_STATUS_OK;
}

static bool tile_reg_writable(uint32_t offset) {
  return offset == PAL_TILE_REG_CONTROL || offset == PAL_TILE_REG_START_PC ||
         offset == PAL_TILE_REG_CLIP_LO || offset == PAL_TILE_REG_CLIP_HI;
}

static pal_status_t decode_regs(uint32_t address, uint32_t length, uint32_t base, uint32_t window,
                                pal_bus_target_kind_t kind, pal_bus_target_t *out) {
  uint32_t off = address - base;
  const char *what = kind == PAL_BUS_TILE_REG ? "tile registers" : "link-engine registers";
  if ((uint64_t)off + length > window)
    return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x (+%u bytes): runs past the %s",
                           (unsigned)address, (unsigned)length, what);
  if (off % 4 || length % 4)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "address 0x%08x (+%u bytes): %s take whole aligned 32-bit words",
                           (unsigned)address, (unsigned)length, what);
  for (uint32_t o = off; o < off + length; o += 4) {
    bool exists = kind == PAL_BUS_TILE_REG ? pal_tile_reg_name(o) != NULL
                                           : o < 4u * PAL_LINK_CTR_COUNT;
    if (!exists)
      return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x: no register at offset 0x%02x of the %s",
                             (unsigned)(base + o), (unsigned)o, what);
  }
  memset(out, 0, sizeof *out);
  out->kind = kind;
  out->offset = off;
  out->count = length / 4;
  return PAL_STATUS_OK;
}

pal_status_t pal_bus_decode(const pal_tile_config_t *cfg, uint32_t address, uint32_t length,
                            pal_bus_target_t *out_target) {
  if (length == 0)
    return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x: an access of 0 bytes", (unsigned)address);
  if (address < PAL_ADDR_TILE_REGS + TILE_REG_WINDOW)
    return decode_regs(address, length, PAL_ADDR_TILE_REGS, TILE_REG_WINDOW, PAL_BUS_TILE_REG,
                       out_target);
  if (address >= PAL_ADDR_LINK_REGS && address - PAL_ADDR_LINK_REGS < LINK_REG_WINDOW)
    return decode_regs(address, length, PAL_ADDR_LINK_REGS, LINK_REG_WINDOW, PAL_BUS_LINK_REG,
                       out_target);
  for (size_t i = 0; i < N_WINDOWS; i++) {
    const window_t *w = &kWindows[i];
    if (address < w->base || address - w->base >= w->size) continue;
    const char *rname = pal_tile_region_name(w->region);
    uint32_t off = address - w->base, pe = 0;
    if (w->stride) {
      pe = off / w->stride;
      off %= w->stride;
      uint32_t pes = pal_tile_config_pes(cfg);
      if (pe >= pes)
        return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x: %s of PE %u, but P = %u",
                               (unsigned)address, rname, (unsigned)pe, (unsigned)pes);
    }
    size_t es = pal_tile_region_element_size(w->region);
    uint64_t bytes = pal_tile_region_length(cfg, w->region) * es;
    if ((uint64_t)off + length > bytes) {
      char where[24] = "";
      if (w->stride) snprintf(where, sizeof where, " of PE %u", (unsigned)pe);
      return pal_status_make(PAL_OUT_OF_RANGE,
                             "address 0x%08x (+%u bytes): runs past the end of %s%s (%llu bytes)",
                             (unsigned)address, (unsigned)length, rname, where,
                             (unsigned long long)bytes);
    }
    if (off % es || length % es)
      return pal_status_make(PAL_OUT_OF_RANGE,
                             "address 0x%08x (+%u bytes): %s holds %zu-byte elements; the access "
                             "must be aligned to and a multiple of them",
                             (unsigned)address, (unsigned)length, rname, es);
    memset(out_target, 0, sizeof *out_target);
    out_target->kind = PAL_BUS_REGION;
    out_target->region = w->region;
    out_target->pe = pe;
    out_target->index = off / es;
    out_target->count = length / es;
    return PAL_STATUS_OK;
  }
  return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x: nothing is mapped there",
                         (unsigned)address);
}

pal_status_t pal_bus_region_address(const pal_tile_config_t *cfg, pal_tile_region_t region,
                                    uint32_t pe, uint64_t index, uint32_t *out_address) {
  const window_t *w = window_of_region(region);
  if (!w) return pal_status_make(PAL_INVALID_ARGUMENT, "address map: unknown region %d", (int)region);
  uint32_t pes = pal_tile_config_pes(cfg);
  if (w->stride ? pe >= pes || pe >= PAL_ADDR_MAX_PES : pe != 0)
    return pal_status_make(PAL_OUT_OF_RANGE, "address map: %s has no PE %u (P = %u)",
                           pal_tile_region_name(region), (unsigned)pe, (unsigned)pes);
  uint64_t len = pal_tile_region_length(cfg, region);
  uint64_t room = (w->stride ? w->stride : w->size) / pal_tile_region_element_size(region);
  if (index > len || index > room)
    return pal_status_make(PAL_OUT_OF_RANGE, "address map: %s element %llu is past its end (%llu)",
                           pal_tile_region_name(region), (unsigned long long)index,
                           (unsigned long long)len);
  *out_address = w->base + pe * w->stride + (uint32_t)(index * pal_tile_region_element_size(region));
  return PAL_STATUS_OK;
}

/* ---- bus master ------------------------------------------------------------ */

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static void set_nak(pal_nak_reason_t *out, pal_nak_reason_t reason) {
  if (out) *out = reason;
}

/* Tile-device failures as NAK reasons: a range the decoder let through but
 * the tile refuses is an address error, anything else a refused value. */
static pal_status_t tile_failed(pal_status_t st, pal_nak_reason_t *out_nak) {
  set_nak(out_nak, pal_status_code(st) == PAL_OUT_OF_RANGE ? PAL_NAK_BAD_ADDRESS : PAL_NAK_REFUSED);
  return st;
}

/* The bus itself has no link-engine registers: the link engine serves
 * their reads (pal_link_model.c), and nobody writes them. */
static pal_status_t link_regs(uint32_t address, bool write, pal_nak_reason_t *out_nak) {
  set_nak(out_nak, PAL_NAK_BAD_ADDRESS);
  return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x: link-engine registers %s",
                         (unsigned)address,
                         write ? "are read-only" : "are read by the link engine, and there is none on this path");
}

/* Register writes are checked word by word before the first is made. */
static pal_status_t write_regs(pal_bus_t *bus, const pal_bus_target_t *t, const uint8_t *data,
                               pal_nak_reason_t *out_nak) {
  pal_tile_device_t *tile = bus->tile;
  for (size_t k = 0; k < t->count; k++) {
    uint32_t off = t->offset + 4u * (uint32_t)k, v = get32(data + 4 * k);
    const char *name = pal_tile_reg_name(off);
    if (!tile_reg_writable(off)) {
      set_nak(out_nak, PAL_NAK_BAD_ADDRESS);
      return pal_status_make(PAL_OUT_OF_RANGE, "address 0x%08x: register %s is read-only",
                             (unsigned)(PAL_ADDR_TILE_REGS + off), name);
    }
    bool bad = false;
    const char *why = "";
    if (off == PAL_TILE_REG_CONTROL) {
      if (v & ~(PAL_TILE_CONTROL_START | PAL_TILE_CONTROL_RESET)) {
        bad = true;
        why = "sets reserved bits";
      } else if ((v & PAL_TILE_CONTROL_START) && !(v & PAL_TILE_CONTROL_RESET)) {
        pal_tile_status_t s;
        pal_status_t st = pal_tile_device_read_status(tile, &s);
        if (st) return tile_failed(st, out_nak);
        if (s.busy) bad = true, why = "starts the tile while it is busy";
      }
    } else if (off == PAL_TILE_REG_START_PC && v > 0xFFFFu) {
      bad = true;
      why = "does not fit 16 bits";
    }
    if (bad) {
      set_nak(out_nak, PAL_NAK_REFUSED);
      return pal_status_make(PAL_FAILED_PRECONDITION, "register %s = 0x%08x %s", name, (unsigned)v,
                             why);
    }
  }
  for (size_t k = 0; k < t->count; k++) {
    uint32_t off = t->offset + 4u * (uint32_t)k, v = get32(data + 4 * k);
    pal_status_t st = pal_tile_device_write_reg(tile, off, v);
    if (st) return tile_failed(st, out_nak);
    if (off == PAL_TILE_REG_CONTROL && (v & PAL_TILE_CONTROL_START)) bus->kernel_starts++;
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_bus_write(pal_bus_t *bus, uint32_t address, const uint8_t *data, size_t len,
                           pal_nak_reason_t *out_nak) {
  pal_bus_target_t t;
  if (len > UINT32_MAX) len = UINT32_MAX; /* decodes as out of range */
  pal_status_t st = pal_bus_decode(&bus->tile->config, address, (uint32_t)len, &t);
  if (st) {
    set_nak(out_nak, PAL_NAK_BAD_ADDRESS);
    return st;
  }
  switch (t.kind) {
    case PAL_BUS_TILE_REG: return write_regs(bus, &t, data, out_nak);
    case PAL_BUS_LINK_REG: return link_regs(address, true, out_nak);
    case PAL_BUS_REGION: break;
  }
  /* Word regions get aligned data whatever the caller's buffer. */
  void *bounce = NULL;
  const void *src = data;
  if (pal_tile_region_element_size(t.region) > 1 && ((uintptr_t)data & 3u)) {
    bounce = malloc(len);
    if (!bounce) {
      set_nak(out_nak, PAL_NAK_REFUSED);
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "bus write: out of memory");
    }
    memcpy(bounce, data, len);
    src = bounce;
  }
  /* pal_tile_device_write checks the whole range (and every NaR flag)
   * before the backend writes anything. */
  st = pal_tile_device_write(bus->tile, t.region, t.pe, t.index, t.count, src);
  free(bounce);
  return st ? tile_failed(st, out_nak) : PAL_STATUS_OK;
}

pal_status_t pal_bus_read(pal_bus_t *bus, uint32_t address, uint8_t *out_data, size_t len,
                          pal_nak_reason_t *out_nak) {
  pal_bus_target_t t;
  if (len > UINT32_MAX) len = UINT32_MAX;
  pal_status_t st = pal_bus_decode(&bus->tile->config, address, (uint32_t)len, &t);
  if (st) {
    set_nak(out_nak, PAL_NAK_BAD_ADDRESS);
    return st;
  }
  switch (t.kind) {
    case PAL_BUS_TILE_REG:
      for (size_t k = 0; k < t.count; k++) {
        uint32_t v;
        st = pal_tile_device_read_reg(bus->tile, t.offset + 4u * (uint32_t)k, &v);
        if (st) return tile_failed(st, out_nak);
        put32(out_data + 4 * k, v);
      }
      return PAL_STATUS_OK;
    case PAL_BUS_LINK_REG: return link_regs(address, false, out_nak);
    case PAL_BUS_REGION: break;
  }
  void *bounce = NULL;
  void *dst = out_data;
  if (pal_tile_region_element_size(t.region) > 1 && ((uintptr_t)out_data & 3u)) {
    bounce = malloc(len);
    if (!bounce) {
      set_nak(out_nak, PAL_NAK_REFUSED);
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "bus read: out of memory");
    }
    dst = bounce;
  }
  st = pal_tile_device_read(bus->tile, t.region, t.pe, t.index, t.count, dst);
  if (bounce) {
    if (!st) memcpy(out_data, bounce, len);
    free(bounce);
  }
  return st ? tile_failed(st, out_nak) : PAL_STATUS_OK;
}

void pal_bus_advance(pal_bus_t *bus) {
  /* A limited budget leaves the tile busy (DEADLINE_EXCEEDED): not an error. */
  pal_status_free(pal_tile_device_wait(bus->tile, bus->run_cycles));
}
