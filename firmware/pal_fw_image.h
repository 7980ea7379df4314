/* The firmware's own kernel-image validator and loader (docs/kernel-image.md,
 * checked independently of the host's driver/palk.c). An image arrives as a
 * byte stream in mailbox chunks; the header and both tables are checked
 * against the tile's real ID registers before the first data byte, so data
 * is only ever written inside the buffers the tables were validated for.
 * The CRC-32 can only be known at the end: an image whose CRC fails has
 * written its (in-bounds) data but is never marked startable.
 *
 * No heap, no libc beyond <stdint.h>: errors are codes (pal_fw_reject_t)
 * that travel in the mailbox reply; the host turns them into messages. */
#ifndef PAL_FW_IMAGE_H
#define PAL_FW_IMAGE_H

#include <stdint.h>

#define PAL_FW_MAX_SECTIONS 16u

/* What the tile says about itself (its ID registers, docs/isa.md §6). */
typedef struct pal_fw_tile_info {
    uint32_t id, isa_version, geometry;
    uint32_t rows, cols;
    uint32_t imem_depth, abuf_blocks, wmem_blocks, acc_depth, bias_depth, obuf_depth;
} pal_fw_tile_info_t;

/* Why an image was rejected. The numbering is part of the mailbox protocol
 * (docs/control-core.md §4); never renumber. */
typedef enum pal_fw_reject {
    PAL_FW_REJECT_NONE = 0,
    PAL_FW_REJECT_MAGIC = 1,            /* not "PALK" */
    PAL_FW_REJECT_FORMAT_VERSION = 2,   /* format_version != 1 */
    PAL_FW_REJECT_HEADER_BYTES = 3,     /* header_bytes != 64 */
    PAL_FW_REJECT_TOTAL_LENGTH = 4,     /* != announced size, < 64, or more bytes than announced */
    PAL_FW_REJECT_FLAGS = 5,            /* header flags != 0 */
    PAL_FW_REJECT_ISA_VERSION = 6,      /* != the tile's ISA_VERSION register */
    PAL_FW_REJECT_REQUIRED_RANGE = 7,   /* R, C or a required size out of its range */
    PAL_FW_REJECT_GEOMETRY = 8,         /* R x C != the tile's */
    PAL_FW_REJECT_BUFFER_TOO_SMALL = 9, /* a tile buffer smaller than required (detail: which) */
    PAL_FW_REJECT_TOO_MANY_SECTIONS = 10,
    PAL_FW_REJECT_TABLES_OUTSIDE = 11,  /* the tables run past the end of the image */
    PAL_FW_REJECT_SECTION_KIND = 12,
    PAL_FW_REJECT_SECTION_FLAGS = 13,
    PAL_FW_REJECT_SECTION_PE = 14,      /* pe != 0 for a non-WMEM kind, or >= P */
    PAL_FW_REJECT_SECTION_LENGTH = 15,  /* length 0, or CODE not whole instructions */
    PAL_FW_REJECT_SIZE_OVERFLOW = 16,   /* index or length >= 2^32 */
    PAL_FW_REJECT_SECTION_ALIGN = 17,   /* file_offset not a multiple of 8 */
    PAL_FW_REJECT_SECTION_OFFSET = 18,  /* data starts inside the header or tables */
    PAL_FW_REJECT_SECTION_DATA = 19,    /* data runs past the end of the image */
    PAL_FW_REJECT_SECTION_BUFFER = 20,  /* elements outside the tile's or required buffer */
    PAL_FW_REJECT_FILE_OVERLAP = 21,    /* two sections share file bytes */
    PAL_FW_REJECT_SECTION_OVERLAP = 22, /* two sections overlap in one region of one PE */
    PAL_FW_REJECT_BINDING_NAME = 23,
    PAL_FW_REJECT_BINDING_FIELD = 24,   /* direction, format, region or reserved bytes */
    PAL_FW_REJECT_BINDING_SHAPE = 25,   /* rows or cols 0, stride shorter than a row */
    PAL_FW_REJECT_BINDING_BUFFER = 26,  /* rows outside the tile's or required buffer */
    PAL_FW_REJECT_NO_CODE = 27,         /* no CODE section */
    PAL_FW_REJECT_ENTRY_PC = 28,        /* entry_pc outside every CODE section */
    PAL_FW_REJECT_CRC = 29,             /* CRC-32 mismatch */
    PAL_FW_REJECT_COUNT
} pal_fw_reject_t;

typedef struct pal_fw_section {
    uint8_t kind;
    uint8_t striped;   /* WMEM section over all PEs */
    uint32_t pe;
    uint32_t index;    /* first element */
    uint32_t length;   /* elements (per PE when striped) */
    uint32_t offset;   /* file offset */
    uint32_t bytes;    /* data bytes in the file */
} pal_fw_section_t;

typedef struct pal_fw_loader {
    const pal_fw_tile_info_t *tile;
    uint32_t total;       /* announced image size */
    uint32_t pos;         /* bytes consumed */
    uint32_t crc;         /* running CRC-32 register */
    uint32_t crc_stored;
    uint32_t tables_end;
    uint32_t entry_pc;
    uint32_t required[8]; /* rows, cols, imem, abuf, wmem, acc, bias, obuf */
    uint16_t section_count, binding_count;
    uint16_t entry;       /* table entries parsed so far */
    uint8_t phase;
    uint8_t fill;         /* bytes in buf */
    uint8_t buf[64];      /* header or current table entry */
    uint32_t reject;      /* pal_fw_reject_t, sticky */
    uint32_t detail;      /* section or binding index, or buffer number */
    /* data phase */
    uint16_t cur;         /* section receiving data (sorted by offset) */
    uint32_t elem, pe;    /* next element and PE of the current section */
    uint32_t addr;        /* core address of the next element */
    union {               /* word being assembled; both the core and the */
        uint32_t w;       /* hosts the tests run on are little-endian    */
        uint8_t b[4];
    } word;
    pal_fw_section_t sec[PAL_FW_MAX_SECTIONS];
} pal_fw_loader_t;

/* Starts a load of `total` bytes for the tile `tile` (kept by pointer). */
void pal_fw_loader_begin(pal_fw_loader_t *loader, const pal_fw_tile_info_t *tile, uint32_t total);
/* Consumes n bytes; returns the reject code (sticky; 0 while all is well).
 * Section data goes to the tile through the HAL as it arrives. */
uint32_t pal_fw_loader_feed(pal_fw_loader_t *loader, const uint8_t *data, uint32_t n);
/* 1 when all bytes arrived and every check, the CRC included, passed. */
int pal_fw_loader_complete(const pal_fw_loader_t *loader);

/* CRC-32 (IEEE, reflected 0xEDB88320), incremental: start with 0xFFFFFFFF,
 * final value is the complement. Nibble table: 64 bytes of rodata. */
uint32_t pal_fw_crc32_update(uint32_t crc, uint8_t byte);

#endif
