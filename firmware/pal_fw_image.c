/* Streaming kernel-image validator and loader of the firmware (see
 * pal_fw_image.h and docs/control-core.md §5). Every table check completes
 * before the first data byte arrives, because the format places all data
 * after the tables. 64-bit file fields are read as (lo, hi) pairs: any hi
 * word that is not zero is out of every range a 32-bit image can have. */
#include "pal_fw_image.h"

#include "hal.h"

enum { PH_HEADER, PH_SECTIONS, PH_BINDINGS, PH_DATA, PH_DONE };

enum {
    KIND_CODE = 1, KIND_ABUF_CODES, KIND_ABUF_SCALES, KIND_WMEM_CODES, KIND_WMEM_SCALES,
    KIND_BIAS, KIND_ACC
};
/* pal_tile_region_t codes used by bindings */
enum { REGION_ABUF_CODES = 1, REGION_ACC = 5, REGION_BIAS = 7, REGION_OBUF = 8 };
enum { REQ_ROWS, REQ_COLS, REQ_IMEM, REQ_ABUF, REQ_WMEM, REQ_ACC, REQ_BIAS, REQ_OBUF };

static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t pal_fw_crc32_update(uint32_t crc, uint8_t byte)
{
    crc ^= byte;
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    return crc;
}

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }

static uint32_t reject(pal_fw_loader_t *ld, uint32_t why, uint32_t detail)
{
    if (ld->reject == PAL_FW_REJECT_NONE) {
        ld->reject = why;
        ld->detail = detail;
    }
    return ld->reject;
}

static uint32_t pes(const pal_fw_tile_info_t *t) { return t->rows * t->cols; }

static int is_wmem(uint32_t kind) { return kind == KIND_WMEM_CODES || kind == KIND_WMEM_SCALES; }
static uint32_t elem_size(uint32_t kind)
{
    return kind == KIND_CODE || kind == KIND_BIAS || kind == KIND_ACC ? 4u : 1u;
}

/* Elements of a section kind's region for buffer sizes s[REQ_IMEM..]. */
static uint32_t kind_length(uint32_t kind, const uint32_t *s)
{
    switch (kind) {
    case KIND_CODE: return s[REQ_IMEM] * 4u;
    case KIND_ABUF_CODES: return s[REQ_ABUF] * 32u;
    case KIND_ABUF_SCALES: return s[REQ_ABUF];
    case KIND_WMEM_CODES: return s[REQ_WMEM] * 32u;
    case KIND_WMEM_SCALES: return s[REQ_WMEM];
    case KIND_BIAS: return s[REQ_BIAS];
    default: return s[REQ_ACC];
    }
}

static void tile_sizes(const pal_fw_tile_info_t *t, uint32_t *s)
{
    s[REQ_ROWS] = t->rows;
    s[REQ_COLS] = t->cols;
    s[REQ_IMEM] = t->imem_depth;
    s[REQ_ABUF] = t->abuf_blocks;
    s[REQ_WMEM] = t->wmem_blocks;
    s[REQ_ACC] = t->acc_depth;
    s[REQ_BIAS] = t->bias_depth;
    s[REQ_OBUF] = t->obuf_depth;
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* Device address (in the core's tile window) of element e of a kind. */
static uint32_t element_address(uint32_t kind, uint32_t pe, uint32_t e)
{
    switch (kind) {
    case KIND_CODE: return PAL_FW_TILE_BASE + PAL_FW_DEV_IMEM + 4u * e;
    case KIND_ABUF_CODES: return PAL_FW_TILE_BASE + PAL_FW_DEV_ABUF_CODES + e;
    case KIND_ABUF_SCALES: return PAL_FW_TILE_BASE + PAL_FW_DEV_ABUF_SCALES + e;
    case KIND_WMEM_CODES: return PAL_FW_TILE_BASE + PAL_FW_DEV_WMEM_CODES + (pe << 16) + e;
    case KIND_WMEM_SCALES: return PAL_FW_TILE_BASE + PAL_FW_DEV_WMEM_SCALES + (pe << 12) + e;
    case KIND_BIAS: return PAL_FW_TILE_BASE + PAL_FW_DEV_BIAS + 4u * e;
    default: return PAL_FW_TILE_BASE + PAL_FW_DEV_ACC + 4u * e;
    }
}

void pal_fw_loader_begin(pal_fw_loader_t *ld, const pal_fw_tile_info_t *tile, uint32_t total)
{
    uint8_t *p = (uint8_t *)ld;
    for (uint32_t i = 0; i < sizeof *ld; i++)
        p[i] = 0;
    ld->tile = tile;
    ld->total = total;
    ld->crc = 0xFFFFFFFFu;
    ld->phase = PH_HEADER;
    if (total < 64u)
        reject(ld, PAL_FW_REJECT_TOTAL_LENGTH, 0);
}

static void check_header(pal_fw_loader_t *ld)
{
    const uint8_t *h = ld->buf;
    const pal_fw_tile_info_t *t = ld->tile;
    if (h[0] != 'P' || h[1] != 'A' || h[2] != 'L' || h[3] != 'K') {
        reject(ld, PAL_FW_REJECT_MAGIC, 0);
        return;
    }
    if (rd16(h + 4) != 1u) {
        reject(ld, PAL_FW_REJECT_FORMAT_VERSION, rd16(h + 4));
        return;
    }
    if (rd16(h + 6) != 64u) {
        reject(ld, PAL_FW_REJECT_HEADER_BYTES, rd16(h + 6));
        return;
    }
    if (rd32(h + 8) != ld->total || rd32(h + 12) != 0u) {
        reject(ld, PAL_FW_REJECT_TOTAL_LENGTH, rd32(h + 8));
        return;
    }
    ld->crc_stored = rd32(h + 16);
    if (rd32(h + 20) != t->isa_version) {
        reject(ld, PAL_FW_REJECT_ISA_VERSION, rd32(h + 20));
        return;
    }
    if (rd32(h + 24) != 0u) {
        reject(ld, PAL_FW_REJECT_FLAGS, rd32(h + 24));
        return;
    }
    ld->required[REQ_ROWS] = rd16(h + 28);
    ld->required[REQ_COLS] = rd16(h + 30);
    for (uint32_t i = 0; i < 6; i++)
        ld->required[REQ_IMEM + i] = rd32(h + 32 + 4 * i);
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t v = ld->required[i];
        uint32_t max = i < 2 ? 255u : i == REQ_IMEM ? 65535u : 65536u;
        if (v == 0 || v > max) {
            reject(ld, PAL_FW_REJECT_REQUIRED_RANGE, i);
            return;
        }
    }
    if (ld->required[REQ_ROWS] != t->rows || ld->required[REQ_COLS] != t->cols) {
        reject(ld, PAL_FW_REJECT_GEOMETRY, ld->required[REQ_ROWS] << 8 | ld->required[REQ_COLS]);
        return;
    }
    uint32_t dev[8];
    tile_sizes(t, dev);
    for (uint32_t i = REQ_IMEM; i <= REQ_OBUF; i++)
        if (dev[i] < ld->required[i]) {
            reject(ld, PAL_FW_REJECT_BUFFER_TOO_SMALL, i);
            return;
        }
    ld->entry_pc = rd32(h + 56);
    ld->section_count = (uint16_t)rd16(h + 60);
    ld->binding_count = (uint16_t)rd16(h + 62);
    if (ld->section_count > PAL_FW_MAX_SECTIONS) {
        reject(ld, PAL_FW_REJECT_TOO_MANY_SECTIONS, ld->section_count);
        return;
    }
    ld->tables_end = 64u + 32u * ld->section_count + 64u * ld->binding_count;
    if (ld->tables_end > ld->total)
        reject(ld, PAL_FW_REJECT_TABLES_OUTSIDE, ld->tables_end);
}

static void check_section(pal_fw_loader_t *ld, uint32_t i)
{
    const uint8_t *e = ld->buf;
    pal_fw_section_t *s = &ld->sec[i];
    uint32_t kind = rd16(e + 0), pe = rd32(e + 4);
    uint32_t index = rd32(e + 8), length = rd32(e + 16), offset = rd32(e + 24);
    if (kind < KIND_CODE || kind > KIND_ACC) {
        reject(ld, PAL_FW_REJECT_SECTION_KIND, i);
        return;
    }
    if (rd16(e + 2) != 0) {
        reject(ld, PAL_FW_REJECT_SECTION_FLAGS, i);
        return;
    }
    int striped = is_wmem(kind) && pe == 0xFFFFFFFFu;
    if (is_wmem(kind) ? (!striped && pe >= pes(ld->tile)) : pe != 0) {
        reject(ld, PAL_FW_REJECT_SECTION_PE, i);
        return;
    }
    if (rd32(e + 12) != 0 || rd32(e + 20) != 0) {
        reject(ld, PAL_FW_REJECT_SIZE_OVERFLOW, i);
        return;
    }
    if (length == 0 || (kind == KIND_CODE && ((index | length) & 3u) != 0)) {
        reject(ld, PAL_FW_REJECT_SECTION_LENGTH, i);
        return;
    }
    if ((offset & 7u) != 0) {
        reject(ld, PAL_FW_REJECT_SECTION_ALIGN, i);
        return;
    }
    if (rd32(e + 28) != 0 || offset < ld->tables_end) {
        reject(ld, rd32(e + 28) != 0 ? PAL_FW_REJECT_SECTION_DATA : PAL_FW_REJECT_SECTION_OFFSET, i);
        return;
    }
    /* Byte count in 64 bits: length < 2^32, x4, x P <= 65025. */
    uint64_t bytes = (uint64_t)length * elem_size(kind) * (striped ? pes(ld->tile) : 1u);
    if ((uint64_t)offset + bytes > ld->total) {
        reject(ld, PAL_FW_REJECT_SECTION_DATA, i);
        return;
    }
    uint32_t dev[8];
    tile_sizes(ld->tile, dev);
    uint32_t limit = min_u32(kind_length(kind, dev), kind_length(kind, ld->required));
    if ((uint64_t)index + length > limit) {
        reject(ld, PAL_FW_REJECT_SECTION_BUFFER, i);
        return;
    }
    s->kind = (uint8_t)kind;
    s->striped = (uint8_t)striped;
    s->pe = pe;
    s->index = index;
    s->length = length;
    s->offset = offset;
    s->bytes = (uint32_t)bytes;
}

static void check_binding(pal_fw_loader_t *ld, uint32_t i)
{
    const uint8_t *b = ld->buf;
    uint32_t n = 0;
    while (n < 32 && b[n] != 0) {
        if (b[n] < 0x21 || b[n] > 0x7E) {
            reject(ld, PAL_FW_REJECT_BINDING_NAME, i);
            return;
        }
        n++;
    }
    if (n == 0 || n > 31) {
        reject(ld, PAL_FW_REJECT_BINDING_NAME, i);
        return;
    }
    for (uint32_t k = n; k < 32; k++)
        if (b[k] != 0) {
            reject(ld, PAL_FW_REJECT_BINDING_NAME, i);
            return;
        }
    uint32_t dir = b[32], fmt = b[33], region = b[34];
    int reserved = b[35] != 0;
    for (uint32_t k = 52; k < 64; k++)
        reserved |= b[k] != 0;
    int region_ok = fmt == 1 ? region == REGION_ABUF_CODES
                  : dir == 0 ? (region == REGION_BIAS || region == REGION_ACC)
                             : (region == REGION_ACC || region == REGION_OBUF);
    if (dir > 1 || fmt > 1 || reserved || !region_ok) {
        reject(ld, PAL_FW_REJECT_BINDING_FIELD, i);
        return;
    }
    uint32_t rows = rd32(b + 36), cols = rd32(b + 40), index = rd32(b + 44), stride = rd32(b + 48);
    uint32_t width = fmt == 1 ? (cols >> 5) + ((cols & 31u) != 0) : cols;
    if (rows == 0 || cols == 0 || stride < width) {
        reject(ld, PAL_FW_REJECT_BINDING_SHAPE, i);
        return;
    }
    uint32_t dev[8];
    tile_sizes(ld->tile, dev);
    uint32_t which = region == REGION_ABUF_CODES ? REQ_ABUF : region == REGION_ACC ? REQ_ACC
                   : region == REGION_BIAS ? REQ_BIAS : REQ_OBUF;
    uint32_t limit = min_u32(dev[which], ld->required[which]);
    if ((uint64_t)index + (uint64_t)(rows - 1u) * stride + width > limit)
        reject(ld, PAL_FW_REJECT_BINDING_BUFFER, i);
}

static int sections_share(const pal_fw_section_t *a, const pal_fw_section_t *b)
{
    if (a->kind != b->kind)
        return 0;
    if (is_wmem(a->kind) && !a->striped && !b->striped && a->pe != b->pe)
        return 0;
    return a->index < b->index + b->length && b->index < a->index + a->length;
}

/* Checks that need all sections; then orders them by file offset. */
static void check_tables(pal_fw_loader_t *ld)
{
    uint32_t n = ld->section_count;
    int code = 0, entry = 0;
    for (uint32_t i = 0; i < n; i++) {
        const pal_fw_section_t *a = &ld->sec[i];
        for (uint32_t j = i + 1; j < n; j++) {
            const pal_fw_section_t *b = &ld->sec[j];
            if (a->offset < b->offset + b->bytes && b->offset < a->offset + a->bytes) {
                reject(ld, PAL_FW_REJECT_FILE_OVERLAP, j);
                return;
            }
            if (sections_share(a, b)) {
                reject(ld, PAL_FW_REJECT_SECTION_OVERLAP, j);
                return;
            }
        }
        if (a->kind == KIND_CODE) {
            code = 1;
            if (ld->entry_pc >= a->index / 4u && ld->entry_pc < (a->index + a->length) / 4u)
                entry = 1;
        }
    }
    if (!code) {
        reject(ld, PAL_FW_REJECT_NO_CODE, 0);
        return;
    }
    if (!entry) {
        reject(ld, PAL_FW_REJECT_ENTRY_PC, ld->entry_pc);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        pal_fw_section_t s = ld->sec[i];
        uint32_t j = i;
        while (j > 0 && ld->sec[j - 1].offset > s.offset) {
            ld->sec[j] = ld->sec[j - 1];
            j--;
        }
        ld->sec[j] = s;
    }
}

static void after_tables(pal_fw_loader_t *ld)
{
    check_tables(ld);
    ld->phase = PH_DATA;
    ld->cur = 0;
    ld->elem = 0;
    ld->pe = 0;
}

/* One byte at file position pos of the data part: write it if a section
 * holds it (padding between sections is skipped). The element address is
 * computed once per section and PE and then stepped: the core shifts one
 * bit per cycle, so no per-byte shifts or multiplies. */
static void data_byte(pal_fw_loader_t *ld, uint32_t pos, uint8_t byte)
{
    while (ld->cur < ld->section_count &&
           pos >= ld->sec[ld->cur].offset + ld->sec[ld->cur].bytes) {
        ld->cur++;
        ld->elem = 0;
        ld->pe = 0;
    }
    if (ld->cur >= ld->section_count)
        return;
    const pal_fw_section_t *s = &ld->sec[ld->cur];
    if (pos < s->offset)
        return;
    if (ld->elem == 0 && (elem_size(s->kind) == 1u || (pos & 3u) == 0))
        ld->addr = element_address(s->kind, s->striped ? ld->pe : s->pe, s->index);
    if (elem_size(s->kind) == 1u) {
        pal_hal_write8(ld->addr, byte);
        ld->addr++;
    } else {
        /* sections start at multiples of 8, so pos & 3 is the byte in the word */
        ld->word.b[pos & 3u] = byte;
        if ((pos & 3u) != 3u)
            return;
        pal_hal_write32(ld->addr, ld->word.w);
        if (s->kind == KIND_ACC) /* loading ACC clears its NaR flags */
            pal_hal_write8(PAL_FW_TILE_BASE + PAL_FW_DEV_ACC_NAR + s->index + ld->elem, 0);
        ld->addr += 4u;
    }
    if (++ld->elem == s->length) {
        ld->elem = 0;
        ld->pe++;
    }
}

uint32_t pal_fw_loader_feed(pal_fw_loader_t *ld, const uint8_t *data, uint32_t n)
{
    for (uint32_t k = 0; k < n && ld->reject == PAL_FW_REJECT_NONE; k++) {
        uint32_t pos = ld->pos;
        uint8_t b = data[k];
        if (pos >= ld->total)
            return reject(ld, PAL_FW_REJECT_TOTAL_LENGTH, pos);
        ld->crc = pal_fw_crc32_update(ld->crc, pos >= 16u && pos < 20u ? 0u : b);
        ld->pos = pos + 1u;
        if (ld->phase == PH_DATA) {
            data_byte(ld, pos, b);
        } else {
            ld->buf[ld->fill++] = b;
            if (ld->phase == PH_HEADER && ld->fill == 64u) {
                check_header(ld);
                ld->fill = 0;
                ld->phase = PH_SECTIONS;
            } else if (ld->phase == PH_SECTIONS && ld->fill == 32u) {
                check_section(ld, ld->entry++);
                ld->fill = 0;
            } else if (ld->phase == PH_BINDINGS && ld->fill == 64u) {
                check_binding(ld, ld->entry++);
                ld->fill = 0;
            }
            if (ld->reject != PAL_FW_REJECT_NONE)
                break;
            if (ld->phase == PH_SECTIONS && ld->entry == ld->section_count) {
                ld->phase = PH_BINDINGS;
                ld->entry = 0;
            }
            if (ld->phase == PH_BINDINGS && ld->entry == ld->binding_count)
                after_tables(ld);
        }
        if (ld->pos == ld->total && ld->reject == PAL_FW_REJECT_NONE) {
            if (ld->phase != PH_DATA)
                return reject(ld, PAL_FW_REJECT_TABLES_OUTSIDE, ld->pos);
            if (~ld->crc != ld->crc_stored)
                return reject(ld, PAL_FW_REJECT_CRC, ~ld->crc);
            ld->phase = PH_DONE;
        }
    }
    return ld->reject;
}

int pal_fw_loader_complete(const pal_fw_loader_t *ld)
{
    return ld->phase == PH_DONE && ld->reject == PAL_FW_REJECT_NONE;
}
