/* Kernel images (.palk): builder, parser, validator and loader
 * (docs/kernel-image.md). An image is outside input: every size and offset
 * is checked with 64-bit arithmetic that cannot wrap before anything is
 * read through it, and nothing reaches a device until the whole image has
 * been validated against that device. */
#include "pal/kernel_image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- little-endian fields ------------------------------------------------ */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (uint16_t)p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

/* ---- CRC-32 (IEEE) ------------------------------------------------------- */

/* Nibble table of the reflected polynomial 0xEDB88320: constant, so the CRC
 * needs no lazily-filled global. */
static const uint32_t kCrcNibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ kCrcNibble[crc & 15];
    crc = (crc >> 4) ^ kCrcNibble[crc & 15];
  }
  return crc;
}

uint32_t pal_kernel_image_crc32(const void *data, size_t size) {
  return crc32_update(0xFFFFFFFFu, data, size) ^ 0xFFFFFFFFu;
}

/* CRC of an image with its CRC field read as zero. */
static uint32_t image_crc(const uint8_t *p, size_t size) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  uint32_t c = crc32_update(0xFFFFFFFFu, p, PAL_KERNEL_IMAGE_OFF_CRC32);
  c = crc32_update(c, zero, 4);
  c = crc32_update(c, p + PAL_KERNEL_IMAGE_OFF_CRC32 + 4, size - PAL_KERNEL_IMAGE_OFF_CRC32 - 4);
  return c ^ 0xFFFFFFFFu;
}

void pal_kernel_image_seal(void *data, size_t size) {
  if (!data || size < PAL_KERNEL_IMAGE_HEADER_BYTES) return;
  uint8_t *p = data;
  wr32(p + PAL_KERNEL_IMAGE_OFF_CRC32, image_crc(p, size));
}

/* ---- kinds ---------------------------------------------------------------- */

const char *pal_kernel_section_kind_name(uint32_t kind) {
  switch (kind) {
    case PAL_KERNEL_SECTION_CODE: return "CODE";
    case PAL_KERNEL_SECTION_ABUF_CODES: return "ABUF codes";
    case PAL_KERNEL_SECTION_ABUF_SCALES: return "ABUF scales";
    case PAL_KERNEL_SECTION_WMEM_CODES: return "WMEM codes";
    case PAL_KERNEL_SECTION_WMEM_SCALES: return "WMEM scales";
    case PAL_KERNEL_SECTION_BIAS: return "BIAS";
    case PAL_KERNEL_SECTION_ACC: return "ACC";
    default: return "unknown";
  }
}

pal_tile_region_t pal_kernel_section_kind_region(uint32_t kind) {
  switch (kind) {
    case PAL_KERNEL_SECTION_CODE: return PAL_TILE_REGION_IMEM;
    case PAL_KERNEL_SECTION_ABUF_CODES: return PAL_TILE_REGION_ABUF_CODES;
    case PAL_KERNEL_SECTION_ABUF_SCALES: return PAL_TILE_REGION_ABUF_SCALES;
    case PAL_KERNEL_SECTION_WMEM_CODES: return PAL_TILE_REGION_WMEM_CODES;
    case PAL_KERNEL_SECTION_WMEM_SCALES: return PAL_TILE_REGION_WMEM_SCALES;
    case PAL_KERNEL_SECTION_BIAS: return PAL_TILE_REGION_BIAS;
    case PAL_KERNEL_SECTION_ACC: return PAL_TILE_REGION_ACC;
    default: return PAL_TILE_REGION_COUNT;
  }
}

static bool kind_is_per_pe(uint32_t kind) {
  return kind == PAL_KERNEL_SECTION_WMEM_CODES || kind == PAL_KERNEL_SECTION_WMEM_SCALES;
}

/* "section 3 (WMEM codes, PE 17)" */
typedef struct {
  char text[80];
} label_t;

static label_t section_label(size_t i, uint32_t kind, uint32_t pe) {
  label_t l;
  if (!kind_is_per_pe(kind))
    snprintf(l.text, sizeof l.text, "section %zu (%s)", i, pal_kernel_section_kind_name(kind));
  else if (pe == PAL_KERNEL_IMAGE_ALL_PES)
    snprintf(l.text, sizeof l.text, "section %zu (%s, all PEs)", i, pal_kernel_section_kind_name(kind));
  else
    snprintf(l.text, sizeof l.text, "section %zu (%s, PE %" PRIu32 ")", i,
             pal_kernel_section_kind_name(kind), pe);
  return l;
}

static label_t binding_label(size_t i, const char *name) {
  label_t l;
  snprintf(l.text, sizeof l.text, "binding %zu ('%.31s')", i, name);
  return l;
}

static const char *format_name(uint32_t format) {
  return format == PAL_KERNEL_FORMAT_FP32 ? "FP32" : format == PAL_KERNEL_FORMAT_PAL8_B32 ? "PAL8-B32" : "unknown";
}

/* The six required buffer sizes, in header order, with their names. */
typedef struct {
  const char *name;
  uint32_t off;
  uint32_t max;
  size_t field; /* offsetof in pal_tile_config_t */
} size_field_t;

static const size_field_t kSizeFields[6] = {
    {"imem_depth", PAL_KERNEL_IMAGE_OFF_IMEM_DEPTH, 65535u, offsetof(pal_tile_config_t, imem_depth)},
    {"abuf_blocks", PAL_KERNEL_IMAGE_OFF_ABUF_BLOCKS, 65536u, offsetof(pal_tile_config_t, abuf_blocks)},
    {"wmem_blocks", PAL_KERNEL_IMAGE_OFF_WMEM_BLOCKS, 65536u, offsetof(pal_tile_config_t, wmem_blocks)},
    {"acc_depth", PAL_KERNEL_IMAGE_OFF_ACC_DEPTH, 65536u, offsetof(pal_tile_config_t, acc_depth)},
    {"bias_depth", PAL_KERNEL_IMAGE_OFF_BIAS_DEPTH, 65536u, offsetof(pal_tile_config_t, bias_depth)},
    {"obuf_depth", PAL_KERNEL_IMAGE_OFF_OBUF_DEPTH, 65536u, offsetof(pal_tile_config_t, obuf_depth)},
};

static uint32_t *config_size(pal_tile_config_t *c, size_t i) {
  return (uint32_t *)(void *)((char *)c + kSizeFields[i].field);
}
static uint32_t config_size_get(const pal_tile_config_t *c, size_t i) {
  uint32_t v;
  memcpy(&v, (const char *)c + kSizeFields[i].field, sizeof v);
  return v;
}

/* The config field that sizes a region, for messages. */
static const char *region_size_field(pal_tile_region_t region) {
  switch (region) {
    case PAL_TILE_REGION_IMEM: return "imem_depth";
    case PAL_TILE_REGION_ABUF_CODES:
    case PAL_TILE_REGION_ABUF_SCALES: return "abuf_blocks";
    case PAL_TILE_REGION_WMEM_CODES:
    case PAL_TILE_REGION_WMEM_SCALES: return "wmem_blocks";
    case PAL_TILE_REGION_ACC:
    case PAL_TILE_REGION_ACC_NAR: return "acc_depth";
    case PAL_TILE_REGION_BIAS: return "bias_depth";
    case PAL_TILE_REGION_OBUF: return "obuf_depth";
    default: return "?";
  }
}

static uint32_t region_size_value(const pal_tile_config_t *c, pal_tile_region_t region) {
  switch (region) {
    case PAL_TILE_REGION_IMEM: return c->imem_depth;
    case PAL_TILE_REGION_ABUF_CODES:
    case PAL_TILE_REGION_ABUF_SCALES: return c->abuf_blocks;
    case PAL_TILE_REGION_WMEM_CODES:
    case PAL_TILE_REGION_WMEM_SCALES: return c->wmem_blocks;
    case PAL_TILE_REGION_ACC:
    case PAL_TILE_REGION_ACC_NAR: return c->acc_depth;
    case PAL_TILE_REGION_BIAS: return c->bias_depth;
    case PAL_TILE_REGION_OBUF: return c->obuf_depth;
    default: return 0;
  }
}

/* ---- the parsed image ---------------------------------------------------- */

struct pal_kernel_image {
  char *name;
  uint8_t *data;
  size_t size;
  pal_kernel_image_info_t info;
  pal_kernel_section_t *sections;
  pal_kernel_binding_t *bindings;
};

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void pal_kernel_image_destroy(pal_kernel_image_t *image) {
  if (!image) return;
  free(image->name);
  free(image->data);
  free(image->sections);
  free(image->bindings);
  free(image);
}

typedef struct {
  uint64_t key0, key1, start, end;
  size_t idx;
} span_t;

static int span_cmp(const void *a, const void *b) {
  const span_t *x = a, *y = b;
  if (x->key0 != y->key0) return x->key0 < y->key0 ? -1 : 1;
  if (x->key1 != y->key1) return x->key1 < y->key1 ? -1 : 1;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Bytes a section occupies in the file; false when the count overflows. */
static bool section_bytes(uint32_t kind, uint32_t pe, uint64_t length, uint32_t pes,
                          uint64_t *out_bytes) {
  uint64_t per = pal_tile_region_element_size(pal_kernel_section_kind_region(kind));
  if (kind_is_per_pe(kind) && pe == PAL_KERNEL_IMAGE_ALL_PES) per *= pes;
  if (per == 0 || length > UINT64_MAX / per) return false;
  *out_bytes = length * per;
  return true;
}

static pal_status_t parse_header(const char *nm, const uint8_t *p, size_t size,
                                 pal_kernel_image_info_t *info) {
  if (size < 4)
    return pal_status_make(PAL_DATA_LOSS, "%s: truncated: %zu bytes, not even the 4-byte magic", nm,
                           size);
  if (memcmp(p, PAL_KERNEL_IMAGE_MAGIC, 4) != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: wrong magic %02x %02x %02x %02x (expected \"PALK\"): not a kernel image",
                           nm, p[0], p[1], p[2], p[3]);
  if (size < PAL_KERNEL_IMAGE_HEADER_BYTES)
    return pal_status_make(PAL_DATA_LOSS, "%s: truncated: %zu bytes, the header alone is %u", nm, size,
                           PAL_KERNEL_IMAGE_HEADER_BYTES);
  memset(info, 0, sizeof *info);
  info->format_version = rd16(p + PAL_KERNEL_IMAGE_OFF_FORMAT_VERSION);
  if (info->format_version != PAL_KERNEL_IMAGE_FORMAT_VERSION)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: format version %" PRIu32 ", this loader reads version %u",
                           nm, info->format_version, PAL_KERNEL_IMAGE_FORMAT_VERSION);
  uint32_t header_bytes = rd16(p + PAL_KERNEL_IMAGE_OFF_HEADER_BYTES);
  if (header_bytes != PAL_KERNEL_IMAGE_HEADER_BYTES)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header_bytes %" PRIu32 ", format version 1 has %u",
                           nm, header_bytes, PAL_KERNEL_IMAGE_HEADER_BYTES);
  info->total_length = rd64(p + PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH);
  if (info->total_length > size)
    return pal_status_make(PAL_DATA_LOSS,
                           "%s: truncated: total_length says %" PRIu64 " bytes, only %zu present", nm,
                           info->total_length, size);
  if (info->total_length < size)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %" PRIu64 " bytes of trailing data after the total_length of %" PRIu64, nm,
                           (uint64_t)size - info->total_length, info->total_length);
  info->crc32 = rd32(p + PAL_KERNEL_IMAGE_OFF_CRC32);
  uint32_t crc = image_crc(p, size);
  if (crc != info->crc32)
    return pal_status_make(PAL_DATA_LOSS,
                           "%s: CRC-32 mismatch: header says 0x%08" PRIx32 ", contents give 0x%08" PRIx32
                           " (corrupted image)",
                           nm, info->crc32, crc);
  info->isa_version = rd32(p + PAL_KERNEL_IMAGE_OFF_ISA_VERSION);
  info->flags = rd32(p + PAL_KERNEL_IMAGE_OFF_FLAGS);
  if (info->flags != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: flags 0x%08" PRIx32 " has bits format version 1 does not define",
                           nm, info->flags);
  info->required.rows = rd16(p + PAL_KERNEL_IMAGE_OFF_ROWS);
  info->required.cols = rd16(p + PAL_KERNEL_IMAGE_OFF_COLS);
  if (info->required.rows < 1 || info->required.rows > 255)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: required rows %" PRIu32 " out of range 1..255", nm,
                           info->required.rows);
  if (info->required.cols < 1 || info->required.cols > 255)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: required cols %" PRIu32 " out of range 1..255", nm,
                           info->required.cols);
  for (size_t i = 0; i < 6; i++) {
    uint32_t v = rd32(p + kSizeFields[i].off);
    if (v < 1 || v > kSizeFields[i].max)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: required %s %" PRIu32 " out of range 1..%" PRIu32, nm,
                             kSizeFields[i].name, v, kSizeFields[i].max);
    *config_size(&info->required, i) = v;
  }
  info->entry_pc = rd32(p + PAL_KERNEL_IMAGE_OFF_ENTRY_PC);
  info->section_count = rd16(p + PAL_KERNEL_IMAGE_OFF_SECTION_COUNT);
  info->binding_count = rd16(p + PAL_KERNEL_IMAGE_OFF_BINDING_COUNT);
  uint64_t tables_end = (uint64_t)PAL_KERNEL_IMAGE_HEADER_BYTES +
                        (uint64_t)info->section_count * PAL_KERNEL_IMAGE_SECTION_BYTES +
                        (uint64_t)info->binding_count * PAL_KERNEL_IMAGE_BINDING_BYTES;
  if (tables_end > info->total_length)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: the section table (%" PRIu32 " entries) and binding table (%" PRIu32
                           " entries) end at byte %" PRIu64 ", past the image's %" PRIu64 " bytes",
                           nm, info->section_count, info->binding_count, tables_end, info->total_length);
  return PAL_STATUS_OK;
}

static pal_status_t parse_sections(pal_kernel_image_t *img) {
  const char *nm = img->name;
  const uint8_t *p = img->data;
  const pal_kernel_image_info_t *info = &img->info;
  uint32_t pes = info->required.rows * info->required.cols;
  uint64_t data_start = (uint64_t)PAL_KERNEL_IMAGE_HEADER_BYTES +
                        (uint64_t)info->section_count * PAL_KERNEL_IMAGE_SECTION_BYTES +
                        (uint64_t)info->binding_count * PAL_KERNEL_IMAGE_BINDING_BYTES;
  size_t n = info->section_count;
  span_t *spans = malloc((n ? n : 1) * sizeof *spans);
  if (!spans) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", nm);
  pal_status_t st = PAL_STATUS_OK;
  for (size_t i = 0; i < n && !st; i++) {
    const uint8_t *e = p + PAL_KERNEL_IMAGE_HEADER_BYTES + i * PAL_KERNEL_IMAGE_SECTION_BYTES;
    uint32_t kind = rd16(e + PAL_KERNEL_SECTION_OFF_KIND);
    uint32_t flags = rd16(e + PAL_KERNEL_SECTION_OFF_FLAGS);
    uint32_t pe = rd32(e + PAL_KERNEL_SECTION_OFF_PE);
    uint64_t index = rd64(e + PAL_KERNEL_SECTION_OFF_INDEX);
    uint64_t length = rd64(e + PAL_KERNEL_SECTION_OFF_LENGTH);
    uint64_t offset = rd64(e + PAL_KERNEL_SECTION_OFF_OFFSET);
    if (pal_kernel_section_kind_region(kind) == PAL_TILE_REGION_COUNT) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: section %zu: unknown kind %" PRIu32, nm, i, kind);
      break;
    }
    label_t l = section_label(i, kind, pe);
    uint64_t bytes = 0;
    if (flags != 0)
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: flags 0x%04" PRIx32 " has bits format version 1 does not define",
                           nm, l.text, flags);
    else if (!kind_is_per_pe(kind) && pe != 0)
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: pe %" PRIu32 ", but only WMEM sections name a PE",
                           nm, l.text, pe);
    else if (length == 0)
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: zero length (empty sections are not allowed)",
                           nm, l.text);
    else if (kind == PAL_KERNEL_SECTION_CODE && (index % PAL_ISA_INSTR_WORDS || length % PAL_ISA_INSTR_WORDS))
      st = pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %s: index %" PRIu64 " and length %" PRIu64
                           " words must be whole instructions (multiples of 4 words)",
                           nm, l.text, index, length);
    else if (!section_bytes(kind, pe, length, pes, &bytes))
      st = pal_status_make(PAL_OUT_OF_RANGE, "%s: %s: length %" PRIu64 " elements overflows a 64-bit byte count",
                           nm, l.text, length);
    else if (offset % PAL_KERNEL_IMAGE_DATA_ALIGN)
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: file offset %" PRIu64 " is not a multiple of %u",
                           nm, l.text, offset, PAL_KERNEL_IMAGE_DATA_ALIGN);
    else if (offset < data_start)
      st = pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: %s: file offset %" PRIu64 " points into the header tables (data starts at %" PRIu64 ")",
                           nm, l.text, offset, data_start);
    else if (offset > info->total_length || bytes > info->total_length - offset)
      st = pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: %s: data at file offset %" PRIu64 ", %" PRIu64
                           " bytes, lies outside the %" PRIu64 "-byte file",
                           nm, l.text, offset, bytes, info->total_length);
    if (st) break;
    pal_kernel_section_t *s = &img->sections[i];
    s->kind = (pal_kernel_section_kind_t)kind;
    s->pe = pe;
    s->index = index;
    s->length = length;
    s->file_offset = offset;
    s->data = p + offset;
    spans[i] = (span_t){0, 0, offset, offset + bytes, i};
  }
  if (!st && n > 1) {
    qsort(spans, n, sizeof *spans, span_cmp);
    for (size_t i = 1; i < n && !st; i++)
      if (spans[i - 1].end > spans[i].start) {
        size_t a = spans[i - 1].idx, b = spans[i].idx;
        if (a > b) {
          size_t t = a;
          a = b;
          b = t;
        }
        uint64_t lo = spans[i].start, hi = spans[i - 1].end < spans[i].end ? spans[i - 1].end : spans[i].end;
        st = pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: sections %zu and %zu share file bytes %" PRIu64 "..%" PRIu64
                             " (section data must not overlap in the file)",
                             nm, a, b, lo, hi - 1);
      }
  }
  free(spans);
  return st;
}

static pal_status_t parse_bindings(pal_kernel_image_t *img) {
  const char *nm = img->name;
  const uint8_t *base = img->data + PAL_KERNEL_IMAGE_HEADER_BYTES +
                        (size_t)img->info.section_count * PAL_KERNEL_IMAGE_SECTION_BYTES;
  for (size_t i = 0; i < img->info.binding_count; i++) {
    const uint8_t *e = base + i * PAL_KERNEL_IMAGE_BINDING_BYTES;
    const uint8_t *name = e + PAL_KERNEL_BINDING_OFF_NAME;
    size_t len = 0;
    while (len < PAL_KERNEL_IMAGE_NAME_BYTES && name[len]) len++;
    if (len == PAL_KERNEL_IMAGE_NAME_BYTES)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: binding %zu: name is not NUL-terminated within %u bytes",
                             nm, i, PAL_KERNEL_IMAGE_NAME_BYTES);
    if (len == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: binding %zu: empty name", nm, i);
    for (size_t k = 0; k < len; k++)
      if (name[k] < 0x21 || name[k] > 0x7E)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "%s: binding %zu: name byte %zu is 0x%02x (names are printable ASCII without blanks)",
                               nm, i, k, name[k]);
    for (size_t k = len; k < PAL_KERNEL_IMAGE_NAME_BYTES; k++)
      if (name[k])
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: binding %zu: non-zero bytes after the name's NUL", nm, i);
    pal_kernel_binding_t *b = &img->bindings[i];
    memcpy(b->name, name, len);
    b->name[len] = 0;
    label_t l = binding_label(i, b->name);
    uint32_t dir = e[PAL_KERNEL_BINDING_OFF_DIRECTION], fmt = e[PAL_KERNEL_BINDING_OFF_FORMAT];
    uint32_t region = e[PAL_KERNEL_BINDING_OFF_REGION];
    if (dir > PAL_KERNEL_BINDING_OUTPUT)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: direction %" PRIu32 " (0 input, 1 output)", nm, l.text, dir);
    if (fmt > PAL_KERNEL_FORMAT_PAL8_B32)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: element format %" PRIu32 " (0 FP32, 1 PAL8-B32)", nm,
                             l.text, fmt);
    if (region >= PAL_TILE_REGION_COUNT)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: region %" PRIu32 " is not a tile region", nm, l.text,
                             region);
    if (e[35] != 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: reserved byte 35 is not zero", nm, l.text);
    for (size_t k = 52; k < PAL_KERNEL_IMAGE_BINDING_BYTES; k++)
      if (e[k] != 0)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: reserved bytes 52..63 are not zero", nm, l.text);
    b->direction = (pal_kernel_binding_direction_t)dir;
    b->format = (pal_kernel_element_format_t)fmt;
    b->region = (pal_tile_region_t)region;
    b->rows = rd32(e + PAL_KERNEL_BINDING_OFF_ROWS);
    b->cols = rd32(e + PAL_KERNEL_BINDING_OFF_COLS);
    b->index = rd32(e + PAL_KERNEL_BINDING_OFF_INDEX);
    b->stride = rd32(e + PAL_KERNEL_BINDING_OFF_STRIDE);
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_image_parse_named(const void *data, size_t size, const char *name,
                                          pal_kernel_image_t **out_image) {
  if (!out_image) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_parse: out_image is NULL");
  *out_image = NULL;
  if (!name) name = "kernel image";
  if (!data && size) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: data is NULL", name);
  pal_kernel_image_info_t info;
  PAL_RETURN_IF_ERROR(parse_header(name, data, size, &info));
  pal_kernel_image_t *img = calloc(1, sizeof *img);
  if (!img) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", name);
  img->name = dup_string(name);
  img->data = malloc(size);
  img->sections = calloc(info.section_count ? info.section_count : 1, sizeof *img->sections);
  img->bindings = calloc(info.binding_count ? info.binding_count : 1, sizeof *img->bindings);
  if (!img->name || !img->data || !img->sections || !img->bindings) {
    pal_kernel_image_destroy(img);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory for a %zu-byte image", name, size);
  }
  memcpy(img->data, data, size);
  img->size = size;
  img->info = info;
  pal_status_t st = parse_sections(img);
  if (!st) st = parse_bindings(img);
  if (st) {
    pal_kernel_image_destroy(img);
    return st;
  }
  *out_image = img;
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_image_parse(const void *data, size_t size, pal_kernel_image_t **out_image) {
  return pal_kernel_image_parse_named(data, size, NULL, out_image);
}

pal_status_t pal_kernel_image_read_file(const char *path, pal_kernel_image_t **out_image) {
  if (!out_image) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_read_file: out_image is NULL");
  *out_image = NULL;
  if (!path) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_read_file: path is NULL");
  FILE *f = fopen(path, "rb");
  if (!f)
    return pal_status_make(errno == ENOENT ? PAL_NOT_FOUND : PAL_IO_ERROR, "%s: cannot open: %s", path,
                           strerror(errno));
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  pal_status_t st = PAL_STATUS_OK;
  while (buf) {
    if (len == cap) {
      uint8_t *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) st = pal_status_make(PAL_IO_ERROR, "%s: read failed: %s", path, strerror(errno));
      break;
    }
  }
  fclose(f);
  if (!buf) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory reading the file", path);
  if (!st) st = pal_kernel_image_parse_named(buf, len, path, out_image);
  free(buf);
  return st;
}

/* ---- accessors ------------------------------------------------------------ */

const char *pal_kernel_image_name(const pal_kernel_image_t *image) { return image->name; }
void pal_kernel_image_get_info(const pal_kernel_image_t *image, pal_kernel_image_info_t *out_info) {
  *out_info = image->info;
}
uint32_t pal_kernel_image_entry_pc(const pal_kernel_image_t *image) { return image->info.entry_pc; }
size_t pal_kernel_image_section_count(const pal_kernel_image_t *image) { return image->info.section_count; }
void pal_kernel_image_section(const pal_kernel_image_t *image, size_t i, pal_kernel_section_t *out_section) {
  *out_section = image->sections[i];
}
size_t pal_kernel_image_binding_count(const pal_kernel_image_t *image) { return image->info.binding_count; }
void pal_kernel_image_binding(const pal_kernel_image_t *image, size_t i, pal_kernel_binding_t *out_binding) {
  *out_binding = image->bindings[i];
}
const void *pal_kernel_image_data(const pal_kernel_image_t *image, size_t *out_size) {
  if (out_size) *out_size = image->size;
  return image->data;
}

pal_status_t pal_kernel_image_find_binding(const pal_kernel_image_t *image, const char *name,
                                           pal_kernel_binding_t *out_binding) {
  for (size_t i = 0; i < image->info.binding_count; i++)
    if (strcmp(image->bindings[i].name, name) == 0) {
      *out_binding = image->bindings[i];
      return PAL_STATUS_OK;
    }
  return pal_status_make(PAL_NOT_FOUND, "%s: no binding named '%s' (the image has %" PRIu32 ")", image->name,
                         name, image->info.binding_count);
}

/* ---- validation against a device ----------------------------------------- */

static bool range_fits(uint64_t index, uint64_t length, uint64_t capacity) {
  return index <= capacity && length <= capacity - index;
}

static pal_status_t check_section_range(const pal_kernel_image_t *img, size_t i,
                                        const pal_tile_config_t *cfg, bool is_device) {
  const pal_kernel_section_t *s = &img->sections[i];
  pal_tile_region_t region = pal_kernel_section_kind_region(s->kind);
  uint64_t cap = pal_tile_region_length(cfg, region);
  if (range_fits(s->index, s->length, cap)) return PAL_STATUS_OK;
  label_t l = section_label(i, s->kind, s->pe);
  uint64_t last = s->index + s->length - 1 < s->index ? UINT64_MAX : s->index + s->length - 1;
  if (is_device)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: %s: elements %" PRIu64 "..%" PRIu64 " lie beyond the device's %s of %" PRIu64
                           " elements (%s %" PRIu32 ")",
                           img->name, l.text, s->index, last, pal_tile_region_name(region), cap,
                           region_size_field(region), region_size_value(cfg, region));
  return pal_status_make(PAL_OUT_OF_RANGE,
                         "%s: %s: elements %" PRIu64 "..%" PRIu64 " lie beyond the %s of %" PRIu64
                         " elements that the image requires (%s %" PRIu32 ")",
                         img->name, l.text, s->index, last, pal_tile_region_name(region), cap,
                         region_size_field(region), region_size_value(cfg, region));
}

/* A binding's extent in its region: elements [first, end). */
static void binding_extent(const pal_kernel_binding_t *b, uint64_t *out_first, uint64_t *out_end,
                           uint64_t *out_width) {
  uint64_t width = b->format == PAL_KERNEL_FORMAT_FP32 ? b->cols : ((uint64_t)b->cols + 31) / 32;
  *out_width = width;
  *out_first = b->index;
  *out_end = (uint64_t)b->index + (uint64_t)(b->rows ? b->rows - 1 : 0) * b->stride + width;
}

static pal_status_t check_binding_range(const pal_kernel_image_t *img, size_t i,
                                        const pal_tile_config_t *cfg, bool is_device) {
  const pal_kernel_binding_t *b = &img->bindings[i];
  uint64_t first, end, width;
  binding_extent(b, &first, &end, &width);
  /* PAL8-B32 bindings count ABUF blocks, not code bytes. */
  uint64_t cap = b->format == PAL_KERNEL_FORMAT_PAL8_B32 ? cfg->abuf_blocks : pal_tile_region_length(cfg, b->region);
  if (end <= cap) return PAL_STATUS_OK;
  label_t l = binding_label(i, b->name);
  const char *unit = b->format == PAL_KERNEL_FORMAT_PAL8_B32 ? "blocks" : "words";
  const char *rname = b->format == PAL_KERNEL_FORMAT_PAL8_B32 ? "ABUF" : pal_tile_region_name(b->region);
  if (is_device)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: %s: %ux%u at %s %" PRIu64 "..%" PRIu64 " (stride %u) lies beyond the device's %s of %" PRIu64 " %s",
                           img->name, l.text, b->rows, b->cols, unit, first, end - 1, b->stride, rname, cap, unit);
  return pal_status_make(PAL_OUT_OF_RANGE,
                         "%s: %s: %ux%u at %s %" PRIu64 "..%" PRIu64 " (stride %u) lies beyond the %s of %" PRIu64
                         " %s that the image requires",
                         img->name, l.text, b->rows, b->cols, unit, first, end - 1, b->stride, rname, cap, unit);
}

static pal_status_t check_binding_shape(const pal_kernel_image_t *img, size_t i) {
  const pal_kernel_binding_t *b = &img->bindings[i];
  label_t l = binding_label(i, b->name);
  if (b->rows == 0 || b->cols == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: shape %ux%u: rows and cols must be at least 1",
                           img->name, l.text, b->rows, b->cols);
  if (b->format == PAL_KERNEL_FORMAT_PAL8_B32) {
    if (b->region != PAL_TILE_REGION_ABUF_CODES)
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: %s: region %s cannot hold a PAL8-B32 tensor (PAL8-B32 bindings live in ABUF, region ABUF_CODES)",
                             img->name, l.text, pal_tile_region_name(b->region));
  } else {
    bool in_ok = b->region == PAL_TILE_REGION_BIAS || b->region == PAL_TILE_REGION_ACC;
    bool out_ok = b->region == PAL_TILE_REGION_OBUF || b->region == PAL_TILE_REGION_ACC;
    if (b->direction == PAL_KERNEL_BINDING_INPUT && !in_ok)
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: %s: region %s cannot hold an FP32 input (FP32 inputs: BIAS, ACC)", img->name,
                             l.text, pal_tile_region_name(b->region));
    if (b->direction == PAL_KERNEL_BINDING_OUTPUT && !out_ok)
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: %s: region %s cannot hold an FP32 output (FP32 outputs: ACC, OBUF)", img->name,
                             l.text, pal_tile_region_name(b->region));
  }
  uint64_t first, end, width;
  binding_extent(b, &first, &end, &width);
  if (b->stride < width)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %s: stride %u is less than one row of the %ux%u %s tensor (%" PRIu64 " %s)",
                           img->name, l.text, b->stride, b->rows, b->cols, format_name(b->format), width,
                           b->format == PAL_KERNEL_FORMAT_FP32 ? "words" : "blocks");
  return PAL_STATUS_OK;
}

typedef struct {
  const char *name;
  size_t idx;
} name_ref_t;

static int name_ref_cmp(const void *a, const void *b) {
  const name_ref_t *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static pal_status_t check_overlaps(const pal_kernel_image_t *img) {
  size_t n = img->info.section_count;
  if (n < 2) return PAL_STATUS_OK;
  span_t *spans = malloc(n * sizeof *spans);
  if (!spans) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", img->name);
  for (size_t i = 0; i < n; i++) {
    const pal_kernel_section_t *s = &img->sections[i];
    uint64_t pe_key = kind_is_per_pe(s->kind) ? s->pe : 0; /* ALL sorts after every PE */
    spans[i] = (span_t){(uint64_t)pal_kernel_section_kind_region(s->kind), pe_key, s->index,
                        s->index + s->length, i};
  }
  qsort(spans, n, sizeof *spans, span_cmp);
  pal_status_t st = PAL_STATUS_OK;
  size_t clash_a = 0, clash_b = 0;
  bool clash = false;
  /* Same region, same PE (or both striped): a sweep over start order. */
  for (size_t i = 1, best = 0; i < n && !clash; i++) {
    if (spans[i].key0 != spans[best].key0 || spans[i].key1 != spans[best].key1) {
      best = i;
      continue;
    }
    if (spans[best].end > spans[i].start) {
      clash = true;
      clash_a = spans[best].idx;
      clash_b = spans[i].idx;
    } else if (spans[i].end > spans[best].end) {
      best = i;
    }
  }
  /* A striped WMEM section against the single-PE sections of its region:
   * the striped spans of a region are sorted and disjoint by now, so the
   * one with the largest start below a span's end is the only candidate. */
  for (size_t i = 0; i < n && !clash; i++) {
    if (spans[i].key1 == PAL_KERNEL_IMAGE_ALL_PES) continue;
    const pal_kernel_section_t *s = &img->sections[spans[i].idx];
    if (!kind_is_per_pe(s->kind)) continue;
    /* striped spans of this region: [lo, hi) in the sorted array */
    size_t lo = 0, hi = n;
    {
      size_t a = 0, b = n;
      while (a < b) { /* first span with (key0, key1) >= (region, ALL) */
        size_t m = a + (b - a) / 2;
        if (spans[m].key0 < spans[i].key0 ||
            (spans[m].key0 == spans[i].key0 && spans[m].key1 < PAL_KERNEL_IMAGE_ALL_PES))
          a = m + 1;
        else
          b = m;
      }
      lo = a;
      b = n;
      while (a < b) {
        size_t m = a + (b - a) / 2;
        if (spans[m].key0 == spans[i].key0 && spans[m].key1 == PAL_KERNEL_IMAGE_ALL_PES)
          a = m + 1;
        else
          b = m;
      }
      hi = a;
    }
    size_t a = lo, b = hi; /* first striped span with start >= this end */
    while (a < b) {
      size_t m = a + (b - a) / 2;
      if (spans[m].start < spans[i].end)
        a = m + 1;
      else
        b = m;
    }
    if (a > lo && spans[a - 1].end > spans[i].start) {
      clash = true;
      clash_a = spans[a - 1].idx;
      clash_b = spans[i].idx;
    }
  }
  if (clash) {
    if (clash_a > clash_b) {
      size_t t = clash_a;
      clash_a = clash_b;
      clash_b = t;
    }
    const pal_kernel_section_t *x = &img->sections[clash_a], *y = &img->sections[clash_b];
    uint64_t lo = x->index > y->index ? x->index : y->index;
    uint64_t xe = x->index + x->length, ye = y->index + y->length;
    uint64_t hi = xe < ye ? xe : ye;
    label_t lx = section_label(clash_a, x->kind, x->pe), ly = section_label(clash_b, y->kind, y->pe);
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s and %s overlap in %s elements %" PRIu64 "..%" PRIu64,
                         img->name, lx.text, ly.text, pal_tile_region_name(pal_kernel_section_kind_region(x->kind)),
                         lo, hi - 1);
  }
  free(spans);
  return st;
}

static pal_status_t check_code(const pal_kernel_image_t *img, const pal_tile_config_t *device_config) {
  bool have_code = false, entry_ok = false;
  uint64_t code_lo = UINT64_MAX, code_hi = 0;
  uint32_t pc = img->info.entry_pc;
  for (size_t i = 0; i < img->info.section_count; i++) {
    const pal_kernel_section_t *s = &img->sections[i];
    if (s->kind != PAL_KERNEL_SECTION_CODE) continue;
    have_code = true;
    uint64_t first = s->index / PAL_ISA_INSTR_WORDS, end = first + s->length / PAL_ISA_INSTR_WORDS;
    if (first < code_lo) code_lo = first;
    if (end > code_hi) code_hi = end;
    if (pc >= first && pc < end) entry_ok = true;
    const uint8_t *d = s->data;
    for (uint64_t k = 0; k < s->length / PAL_ISA_INSTR_WORDS; k++) {
      uint32_t w[PAL_ISA_INSTR_WORDS];
      for (uint32_t j = 0; j < PAL_ISA_INSTR_WORDS; j++) w[j] = rd32(d + (k * PAL_ISA_INSTR_WORDS + j) * 4);
      pal_isa_instr_t instr;
      pal_status_t st = pal_isa_decode(w, &instr);
      if (st) {
        label_t l = section_label(i, s->kind, s->pe);
        return pal_status_annotate(st, "%s: %s: instruction at pc %" PRIu64, img->name, l.text, first + k);
      }
      if (instr.opcode == PAL_ISA_OP_POST && device_config && device_config->no_post) {
        label_t l = section_label(i, s->kind, s->pe);
        return pal_status_make(PAL_FAILED_PRECONDITION,
                               "%s: %s: instruction at pc %" PRIu64 " is a POST, and the device's tile has no "
                               "POST unit (it would stop with ILLEGAL_OPCODE)",
                               img->name, l.text, first + k);
      }
      /* a GEMM there leaves raw block sums in ACC (docs/isa.md §1), and no
       * kernel image says that it expects them: reading them as FP32 sums
       * would be silently wrong */
      if (instr.opcode == PAL_ISA_OP_GEMM && device_config && device_config->no_accu) {
        label_t l = section_label(i, s->kind, s->pe);
        return pal_status_make(PAL_FAILED_PRECONDITION,
                               "%s: %s: instruction at pc %" PRIu64 " is a GEMM, and the device's tile has no "
                               "accumulate units (it would leave raw block sums, not FP32 sums, in ACC)",
                               img->name, l.text, first + k);
      }
    }
  }
  if (!have_code)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: no CODE section: a kernel needs at least one instruction",
                           img->name);
  if (!entry_ok)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: entry PC %" PRIu32 " is not inside the code (CODE sections span instructions %" PRIu64
                           "..%" PRIu64 ")",
                           img->name, pc, code_lo, code_hi - 1);
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_image_validate(const pal_kernel_image_t *image,
                                       const pal_tile_config_t *device_config) {
  if (!image) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_validate: image is NULL");
  const char *nm = image->name;
  const pal_kernel_image_info_t *info = &image->info;
  const pal_tile_config_t *req = &info->required;
  if (info->isa_version != PAL_ISA_VERSION)
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "%s: ISA version %" PRIu32 ", but this loader and its devices speak ISA version %u", nm,
                           info->isa_version, PAL_ISA_VERSION);
  uint32_t pes = req->rows * req->cols;
  if (device_config) {
    pal_status_t st = pal_tile_config_validate(device_config);
    if (st) return pal_status_annotate(st, "%s: device configuration", nm);
    if (device_config->rows != req->rows || device_config->cols != req->cols)
      return pal_status_make(PAL_FAILED_PRECONDITION,
                             "%s: geometry mismatch: compiled for a %ux%u PE array, the device has %ux%u", nm,
                             req->rows, req->cols, device_config->rows, device_config->cols);
  }
  const pal_tile_config_t *eff = device_config ? device_config : req;
  const char *who = device_config ? "the device's" : "the image's";
  /* Sections against the device: PE, then the element range. */
  for (size_t i = 0; i < info->section_count; i++) {
    const pal_kernel_section_t *s = &image->sections[i];
    if (kind_is_per_pe(s->kind) && s->pe != PAL_KERNEL_IMAGE_ALL_PES && s->pe >= pes) {
      label_t l = section_label(i, s->kind, s->pe);
      return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s: PE index beyond %s %u PEs (%ux%u)", nm, l.text, who, pes,
                             req->rows, req->cols);
    }
    PAL_RETURN_IF_ERROR(check_section_range(image, i, eff, device_config != NULL));
  }
  for (size_t i = 0; i < info->binding_count; i++) {
    PAL_RETURN_IF_ERROR(check_binding_shape(image, i));
    PAL_RETURN_IF_ERROR(check_binding_range(image, i, eff, device_config != NULL));
  }
  if (device_config) {
    for (size_t i = 0; i < 6; i++) {
      uint32_t have = config_size_get(device_config, i), need = config_size_get(req, i);
      if (have < need)
        return pal_status_make(PAL_FAILED_PRECONDITION,
                               "%s: the device's %s is %" PRIu32 ", smaller than the %" PRIu32 " the image requires",
                               nm, kSizeFields[i].name, have, need);
    }
    /* The image's own declared sizes must hold its sections too. */
    for (size_t i = 0; i < info->section_count; i++) PAL_RETURN_IF_ERROR(check_section_range(image, i, req, false));
    for (size_t i = 0; i < info->binding_count; i++) PAL_RETURN_IF_ERROR(check_binding_range(image, i, req, false));
  }
  PAL_RETURN_IF_ERROR(check_overlaps(image));
  if (info->binding_count > 1) {
    size_t n = info->binding_count;
    name_ref_t *refs = malloc(n * sizeof *refs);
    if (!refs) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", nm);
    for (size_t i = 0; i < n; i++) refs[i] = (name_ref_t){image->bindings[i].name, i};
    qsort(refs, n, sizeof *refs, name_ref_cmp);
    pal_status_t st = PAL_STATUS_OK;
    for (size_t i = 1; i < n && !st; i++)
      if (strcmp(refs[i - 1].name, refs[i].name) == 0)
        st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: bindings %zu and %zu have the same name '%s'", nm,
                             refs[i - 1].idx, refs[i].idx, refs[i].name);
    free(refs);
    if (st) return st;
  }
  return check_code(image, device_config);
}

/* ---- loading -------------------------------------------------------------- */

#define LOAD_CHUNK 4096u /* words converted per device write */

static pal_status_t write_words(pal_tile_device_t *dev, pal_tile_region_t region, uint64_t index,
                                uint64_t count, const uint8_t *src, uint32_t *tmp) {
  for (uint64_t done = 0; done < count;) {
    size_t n = count - done < LOAD_CHUNK ? (size_t)(count - done) : LOAD_CHUNK;
    for (size_t k = 0; k < n; k++) tmp[k] = rd32(src + (done + k) * 4);
    PAL_RETURN_IF_ERROR(pal_tile_device_write(dev, region, 0, index + done, n, tmp));
    done += n;
  }
  return PAL_STATUS_OK;
}

static pal_status_t load_section(const pal_kernel_image_t *img, const pal_kernel_section_t *s,
                                 pal_tile_device_t *dev, uint32_t *tmp) {
  pal_tile_region_t region = pal_kernel_section_kind_region(s->kind);
  const uint8_t *src = s->data;
  if (pal_tile_region_element_size(region) == 4) {
    PAL_RETURN_IF_ERROR(write_words(dev, region, s->index, s->length, src, tmp));
    if (s->kind == PAL_KERNEL_SECTION_ACC) {
      memset(tmp, 0, LOAD_CHUNK * sizeof *tmp);
      for (uint64_t done = 0; done < s->length;) {
        size_t n = s->length - done < LOAD_CHUNK * 4 ? (size_t)(s->length - done) : LOAD_CHUNK * 4;
        PAL_RETURN_IF_ERROR(pal_tile_device_write(dev, PAL_TILE_REGION_ACC_NAR, 0, s->index + done, n, tmp));
        done += n;
      }
    }
    return PAL_STATUS_OK;
  }
  if (kind_is_per_pe(s->kind) && s->pe == PAL_KERNEL_IMAGE_ALL_PES) {
    uint32_t pes = img->info.required.rows * img->info.required.cols;
    for (uint32_t p = 0; p < pes; p++)
      PAL_RETURN_IF_ERROR(pal_tile_device_write(dev, region, p, s->index, (size_t)s->length, src + (uint64_t)p * s->length));
    return PAL_STATUS_OK;
  }
  return pal_tile_device_write(dev, region, kind_is_per_pe(s->kind) ? s->pe : 0, s->index, (size_t)s->length, src);
}

pal_status_t pal_kernel_image_load(const pal_kernel_image_t *image, pal_tile_device_t *device) {
  if (!image || !device)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_load: image or device is NULL");
  PAL_RETURN_IF_ERROR(pal_kernel_image_validate(image, &device->config));
  uint32_t *tmp = malloc(LOAD_CHUNK * sizeof *tmp);
  if (!tmp) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory loading", image->name);
  pal_status_t st = PAL_STATUS_OK;
  for (size_t i = 0; i < image->info.section_count && !st; i++) {
    const pal_kernel_section_t *s = &image->sections[i];
    st = load_section(image, s, device, tmp);
    if (st) {
      label_t l = section_label(i, s->kind, s->pe);
      st = pal_status_annotate(st, "%s: loading %s into %s", image->name, l.text,
                               device->name ? device->name : "the device");
    }
  }
  free(tmp);
  if (!st) {
    st = pal_tile_device_write_reg(device, PAL_TILE_REG_START_PC, image->info.entry_pc);
    if (st) st = pal_status_annotate(st, "%s: setting START_PC", image->name);
  }
  return st;
}

/* ---- builder -------------------------------------------------------------- */

typedef struct {
  pal_kernel_section_t s;
  uint8_t *bytes;
  uint64_t size;
} built_section_t;

struct pal_kernel_image_builder {
  pal_kernel_image_builder_options_t options;
  char *name;
  built_section_t *sections;
  size_t n_sections, cap_sections;
  pal_kernel_binding_t *bindings;
  size_t n_bindings, cap_bindings;
  uint32_t entry_pc;
};

void pal_kernel_image_builder_options_initialize(pal_kernel_image_builder_options_t *options) {
  memset(options, 0, sizeof *options);
  pal_tile_config_initialize(&options->required, 4, 4);
  options->isa_version = PAL_ISA_VERSION;
}

pal_status_t pal_kernel_image_builder_create(const pal_kernel_image_builder_options_t *options,
                                             pal_kernel_image_builder_t **out_builder) {
  if (!out_builder) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_create: out_builder is NULL");
  *out_builder = NULL;
  pal_kernel_image_builder_options_t o;
  if (options)
    o = *options;
  else
    pal_kernel_image_builder_options_initialize(&o);
  const char *nm = o.name ? o.name : "kernel image";
  pal_tile_config_t check = o.required;
  if (check.acc_units == 0) check.acc_units = 1;
  pal_status_t st = pal_tile_config_validate(&check);
  if (st) return pal_status_annotate(st, "%s: required geometry", nm);
  pal_kernel_image_builder_t *b = calloc(1, sizeof *b);
  if (!b) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", nm);
  b->options = o;
  b->name = dup_string(nm);
  if (!b->name) {
    free(b);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", nm);
  }
  b->options.name = b->name;
  *out_builder = b;
  return PAL_STATUS_OK;
}

void pal_kernel_image_builder_destroy(pal_kernel_image_builder_t *builder) {
  if (!builder) return;
  for (size_t i = 0; i < builder->n_sections; i++) free(builder->sections[i].bytes);
  free(builder->sections);
  free(builder->bindings);
  free(builder->name);
  free(builder);
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t nc = *cap ? *cap * 2 : 8;
  while (nc < need) nc *= 2;
  void *na = realloc(*arr, nc * elem);
  if (!na) return false;
  *arr = na;
  *cap = nc;
  return true;
}

pal_status_t pal_kernel_image_builder_add_section(pal_kernel_image_builder_t *builder,
                                                  const pal_kernel_section_t *section) {
  if (!builder || !section)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_add_section: builder or section is NULL");
  const char *nm = builder->name;
  size_t i = builder->n_sections;
  uint32_t kind = section->kind;
  if (pal_kernel_section_kind_region(kind) == PAL_TILE_REGION_COUNT)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: section %zu: unknown kind %" PRIu32, nm, i, kind);
  label_t l = section_label(i, kind, section->pe);
  if (builder->n_sections >= 0xFFFFu)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: %s: an image holds at most 65535 sections", nm, l.text);
  if (!kind_is_per_pe(kind) && section->pe != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: pe %" PRIu32 ", but only WMEM sections name a PE", nm,
                           l.text, section->pe);
  if (section->length == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: zero length (empty sections are not allowed)", nm, l.text);
  if (!section->data) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: data is NULL", nm, l.text);
  uint32_t pes = builder->options.required.rows * builder->options.required.cols;
  uint64_t bytes;
  if (!section_bytes(kind, section->pe, section->length, pes, &bytes) || bytes > SIZE_MAX / 2)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s: length %" PRIu64 " elements is too large", nm, l.text,
                           section->length);
  if (!grow((void **)&builder->sections, &builder->cap_sections, i + 1, sizeof *builder->sections))
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", nm);
  uint8_t *copy = malloc((size_t)bytes);
  if (!copy) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: %s: out of memory for %" PRIu64 " bytes", nm, l.text, bytes);
  memcpy(copy, section->data, (size_t)bytes);
  built_section_t *bs = &builder->sections[i];
  bs->s = *section;
  bs->s.data = copy;
  bs->s.file_offset = 0;
  bs->bytes = copy;
  bs->size = bytes;
  builder->n_sections++;
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_image_builder_add_code(pal_kernel_image_builder_t *builder, uint32_t pc,
                                               const uint32_t *words, size_t n_words) {
  if (!builder || !words)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_add_code: builder or words is NULL");
  if (n_words == 0 || n_words % PAL_ISA_INSTR_WORDS)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: code of %zu words is not a whole number of instructions",
                           builder->name, n_words);
  uint8_t *bytes = malloc(n_words * 4);
  if (!bytes) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", builder->name);
  for (size_t i = 0; i < n_words; i++) wr32(bytes + 4 * i, words[i]);
  pal_kernel_section_t s = {.kind = PAL_KERNEL_SECTION_CODE,
                            .pe = 0,
                            .index = (uint64_t)pc * PAL_ISA_INSTR_WORDS,
                            .length = n_words,
                            .data = bytes};
  pal_status_t st = pal_kernel_image_builder_add_section(builder, &s);
  free(bytes);
  return st;
}

pal_status_t pal_kernel_image_builder_add_binding(pal_kernel_image_builder_t *builder,
                                                  const pal_kernel_binding_t *binding) {
  if (!builder || !binding)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_add_binding: builder or binding is NULL");
  size_t len = strnlen(binding->name, PAL_KERNEL_IMAGE_NAME_BYTES);
  if (len == 0 || len >= PAL_KERNEL_IMAGE_NAME_BYTES)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: binding %zu: name must be 1..%u bytes", builder->name,
                           builder->n_bindings, PAL_KERNEL_IMAGE_NAME_BYTES - 1);
  if (builder->n_bindings >= 0xFFFFu)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: an image holds at most 65535 bindings", builder->name);
  if (!grow((void **)&builder->bindings, &builder->cap_bindings, builder->n_bindings + 1, sizeof *builder->bindings))
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", builder->name);
  pal_kernel_binding_t *b = &builder->bindings[builder->n_bindings++];
  *b = *binding;
  memset(b->name + len, 0, PAL_KERNEL_IMAGE_NAME_BYTES - len);
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_image_builder_set_entry(pal_kernel_image_builder_t *builder, uint32_t pc) {
  if (!builder) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_set_entry: builder is NULL");
  builder->entry_pc = pc;
  return PAL_STATUS_OK;
}

static uint64_t align_up(uint64_t v) {
  return (v + PAL_KERNEL_IMAGE_DATA_ALIGN - 1) / PAL_KERNEL_IMAGE_DATA_ALIGN * PAL_KERNEL_IMAGE_DATA_ALIGN;
}

pal_status_t pal_kernel_image_builder_serialize(const pal_kernel_image_builder_t *builder, void **out_data,
                                                size_t *out_size) {
  if (!builder || !out_data || !out_size)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_serialize: NULL argument");
  *out_data = NULL;
  *out_size = 0;
  const pal_kernel_image_builder_options_t *o = &builder->options;
  uint64_t total = (uint64_t)PAL_KERNEL_IMAGE_HEADER_BYTES +
                   (uint64_t)builder->n_sections * PAL_KERNEL_IMAGE_SECTION_BYTES +
                   (uint64_t)builder->n_bindings * PAL_KERNEL_IMAGE_BINDING_BYTES;
  for (size_t i = 0; i < builder->n_sections; i++) total = align_up(total) + builder->sections[i].size;
  if (total > SIZE_MAX)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: image of %" PRIu64 " bytes is too large", builder->name, total);
  uint8_t *p = calloc(1, (size_t)total);
  if (!p) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory for %" PRIu64 " bytes", builder->name, total);
  memcpy(p, PAL_KERNEL_IMAGE_MAGIC, 4);
  wr16(p + PAL_KERNEL_IMAGE_OFF_FORMAT_VERSION, PAL_KERNEL_IMAGE_FORMAT_VERSION);
  wr16(p + PAL_KERNEL_IMAGE_OFF_HEADER_BYTES, PAL_KERNEL_IMAGE_HEADER_BYTES);
  wr64(p + PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH, total);
  wr32(p + PAL_KERNEL_IMAGE_OFF_ISA_VERSION, o->isa_version);
  wr32(p + PAL_KERNEL_IMAGE_OFF_FLAGS, 0);
  wr16(p + PAL_KERNEL_IMAGE_OFF_ROWS, o->required.rows);
  wr16(p + PAL_KERNEL_IMAGE_OFF_COLS, o->required.cols);
  for (size_t i = 0; i < 6; i++) wr32(p + kSizeFields[i].off, config_size_get(&o->required, i));
  wr32(p + PAL_KERNEL_IMAGE_OFF_ENTRY_PC, builder->entry_pc);
  wr16(p + PAL_KERNEL_IMAGE_OFF_SECTION_COUNT, (uint32_t)builder->n_sections);
  wr16(p + PAL_KERNEL_IMAGE_OFF_BINDING_COUNT, (uint32_t)builder->n_bindings);
  uint64_t off = (uint64_t)PAL_KERNEL_IMAGE_HEADER_BYTES + (uint64_t)builder->n_sections * PAL_KERNEL_IMAGE_SECTION_BYTES +
                 (uint64_t)builder->n_bindings * PAL_KERNEL_IMAGE_BINDING_BYTES;
  for (size_t i = 0; i < builder->n_sections; i++) {
    const built_section_t *bs = &builder->sections[i];
    uint8_t *e = p + PAL_KERNEL_IMAGE_HEADER_BYTES + i * PAL_KERNEL_IMAGE_SECTION_BYTES;
    off = align_up(off);
    wr16(e + PAL_KERNEL_SECTION_OFF_KIND, bs->s.kind);
    wr16(e + PAL_KERNEL_SECTION_OFF_FLAGS, 0);
    wr32(e + PAL_KERNEL_SECTION_OFF_PE, bs->s.pe);
    wr64(e + PAL_KERNEL_SECTION_OFF_INDEX, bs->s.index);
    wr64(e + PAL_KERNEL_SECTION_OFF_LENGTH, bs->s.length);
    wr64(e + PAL_KERNEL_SECTION_OFF_OFFSET, off);
    memcpy(p + off, bs->bytes, (size_t)bs->size);
    off += bs->size;
  }
  uint8_t *bt = p + PAL_KERNEL_IMAGE_HEADER_BYTES + builder->n_sections * PAL_KERNEL_IMAGE_SECTION_BYTES;
  for (size_t i = 0; i < builder->n_bindings; i++) {
    const pal_kernel_binding_t *b = &builder->bindings[i];
    uint8_t *e = bt + i * PAL_KERNEL_IMAGE_BINDING_BYTES;
    memcpy(e + PAL_KERNEL_BINDING_OFF_NAME, b->name, PAL_KERNEL_IMAGE_NAME_BYTES);
    e[PAL_KERNEL_BINDING_OFF_DIRECTION] = (uint8_t)b->direction;
    e[PAL_KERNEL_BINDING_OFF_FORMAT] = (uint8_t)b->format;
    e[PAL_KERNEL_BINDING_OFF_REGION] = (uint8_t)b->region;
    wr32(e + PAL_KERNEL_BINDING_OFF_ROWS, b->rows);
    wr32(e + PAL_KERNEL_BINDING_OFF_COLS, b->cols);
    wr32(e + PAL_KERNEL_BINDING_OFF_INDEX, b->index);
    wr32(e + PAL_KERNEL_BINDING_OFF_STRIDE, b->stride);
  }
  pal_kernel_image_seal(p, (size_t)total);
  /* The builder hands out only images the loader accepts. */
  pal_kernel_image_t *img = NULL;
  pal_status_t st = pal_kernel_image_parse_named(p, (size_t)total, builder->name, &img);
  if (!st) st = pal_kernel_image_validate(img, NULL);
  pal_kernel_image_destroy(img);
  if (st) {
    free(p);
    return st;
  }
  *out_data = p;
  *out_size = (size_t)total;
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_image_builder_write_file(const pal_kernel_image_builder_t *builder, const char *path) {
  if (!path) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_kernel_image_builder_write_file: path is NULL");
  void *data;
  size_t size;
  PAL_RETURN_IF_ERROR(pal_kernel_image_builder_serialize(builder, &data, &size));
  size_t tlen = strlen(path) + 32;
  char *tmp = malloc(tlen);
  if (!tmp) {
    free(data);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", path);
  }
  snprintf(tmp, tlen, "%s.tmp%ld", path, (long)getpid());
  pal_status_t st = PAL_STATUS_OK;
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    st = pal_status_make(PAL_IO_ERROR, "%s: cannot create: %s", tmp, strerror(errno));
  } else {
    bool ok = fwrite(data, 1, size, f) == size;
    int err = errno;
    if (fclose(f) != 0 && ok) {
      ok = false;
      err = errno;
    }
    if (!ok) st = pal_status_make(PAL_IO_ERROR, "%s: write failed: %s", tmp, strerror(err));
    else if (rename(tmp, path) != 0)
      st = pal_status_make(PAL_IO_ERROR, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (st) remove(tmp);
  }
  free(tmp);
  free(data);
  return st;
}

/* ---- tensors through bindings ---------------------------------------------- */

static pal_status_t binding_args(pal_tile_device_t *device, const pal_kernel_binding_t *b, const void *p,
                                 pal_kernel_element_format_t want) {
  if (!device || !b || !p)
    return pal_status_make(PAL_INVALID_ARGUMENT, "binding access: device, binding or data is NULL");
  if (b->format != want)
    return pal_status_make(PAL_INVALID_ARGUMENT, "binding '%.31s' holds %s, not %s", b->name, format_name(b->format),
                           format_name(want));
  if (b->rows == 0 || b->cols == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "binding '%.31s': empty shape %ux%u", b->name, b->rows, b->cols);
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_binding_write_fp32(pal_tile_device_t *device, const pal_kernel_binding_t *binding,
                                           const float *data) {
  PAL_RETURN_IF_ERROR(binding_args(device, binding, data, PAL_KERNEL_FORMAT_FP32));
  uint32_t *bits = malloc((size_t)binding->cols * sizeof *bits);
  uint8_t *zeros = calloc(binding->cols, 1);
  pal_status_t st = PAL_STATUS_OK;
  if (!bits || !zeros) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "binding '%.31s': out of memory", binding->name);
  for (uint32_t m = 0; m < binding->rows && !st; m++) {
    memcpy(bits, data + (size_t)m * binding->cols, (size_t)binding->cols * sizeof *bits);
    uint64_t at = binding->index + (uint64_t)m * binding->stride;
    st = pal_tile_device_write(device, binding->region, 0, at, binding->cols, bits);
    if (!st && binding->region == PAL_TILE_REGION_ACC)
      st = pal_tile_device_write(device, PAL_TILE_REGION_ACC_NAR, 0, at, binding->cols, zeros);
  }
  free(bits);
  free(zeros);
  return st ? pal_status_annotate(st, "writing binding '%.31s'", binding->name) : st;
}

pal_status_t pal_kernel_binding_read_fp32(pal_tile_device_t *device, const pal_kernel_binding_t *binding,
                                          float *out_data) {
  PAL_RETURN_IF_ERROR(binding_args(device, binding, out_data, PAL_KERNEL_FORMAT_FP32));
  uint32_t *bits = malloc((size_t)binding->cols * sizeof *bits);
  uint8_t *nar = malloc(binding->cols);
  pal_status_t st = PAL_STATUS_OK;
  if (!bits || !nar) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "binding '%.31s': out of memory", binding->name);
  for (uint32_t m = 0; m < binding->rows && !st; m++) {
    uint64_t at = binding->index + (uint64_t)m * binding->stride;
    st = pal_tile_device_read(device, binding->region, 0, at, binding->cols, bits);
    if (!st && binding->region == PAL_TILE_REGION_ACC) {
      st = pal_tile_device_read(device, PAL_TILE_REGION_ACC_NAR, 0, at, binding->cols, nar);
      for (uint32_t n = 0; n < binding->cols && !st; n++)
        if (nar[n]) bits[n] = PAL_TILE_FP32_NAR;
    }
    if (!st) memcpy(out_data + (size_t)m * binding->cols, bits, (size_t)binding->cols * sizeof *bits);
  }
  free(bits);
  free(nar);
  return st ? pal_status_annotate(st, "reading binding '%.31s'", binding->name) : st;
}

static pal_status_t pal8_args(pal_tile_device_t *device, const pal_kernel_binding_t *b, const pal_b32_matrix_t *m) {
  PAL_RETURN_IF_ERROR(binding_args(device, b, m, PAL_KERNEL_FORMAT_PAL8_B32));
  if (m->rows != b->rows || m->cols != b->cols || m->kblocks != ((size_t)b->cols + 31) / 32 || !m->codes || !m->scales)
    return pal_status_make(PAL_INVALID_ARGUMENT, "binding '%.31s' is %ux%u, the matrix %zux%zu (%zu blocks a row)",
                           b->name, b->rows, b->cols, m->rows, m->cols, m->kblocks);
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_binding_write_pal8(pal_tile_device_t *device, const pal_kernel_binding_t *binding,
                                           const pal_b32_matrix_t *matrix) {
  PAL_RETURN_IF_ERROR(pal8_args(device, binding, matrix));
  size_t kb = matrix->kblocks;
  for (size_t m = 0; m < matrix->rows; m++) {
    uint64_t blk = binding->index + (uint64_t)m * binding->stride;
    pal_status_t st = pal_tile_device_write(device, PAL_TILE_REGION_ABUF_CODES, 0, blk * PAL_B32_BLOCK,
                                            kb * PAL_B32_BLOCK, matrix->codes + m * kb * PAL_B32_BLOCK);
    if (!st) st = pal_tile_device_write(device, PAL_TILE_REGION_ABUF_SCALES, 0, blk, kb, matrix->scales + m * kb);
    if (st) return pal_status_annotate(st, "writing binding '%.31s'", binding->name);
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_kernel_binding_read_pal8(pal_tile_device_t *device, const pal_kernel_binding_t *binding,
                                          pal_b32_matrix_t *out_matrix) {
  PAL_RETURN_IF_ERROR(pal8_args(device, binding, out_matrix));
  size_t kb = out_matrix->kblocks;
  for (size_t m = 0; m < out_matrix->rows; m++) {
    uint64_t blk = binding->index + (uint64_t)m * binding->stride;
    pal_status_t st = pal_tile_device_read(device, PAL_TILE_REGION_ABUF_CODES, 0, blk * PAL_B32_BLOCK,
                                           kb * PAL_B32_BLOCK, out_matrix->codes + m * kb * PAL_B32_BLOCK);
    if (!st) st = pal_tile_device_read(device, PAL_TILE_REGION_ABUF_SCALES, 0, blk, kb, out_matrix->scales + m * kb);
    if (st) return pal_status_annotate(st, "reading binding '%.31s'", binding->name);
  }
  return PAL_STATUS_OK;
}
