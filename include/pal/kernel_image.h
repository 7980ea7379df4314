/* Kernel images (.palk, docs/kernel-image.md): a builder that the assembler
 * and the compiler use to write them, a parser and validator that check
 * every field of an untrusted image before a byte of it reaches a device,
 * and a loader that writes a validated image through the tile device
 * interface (pal/tile.h). */
#ifndef PAL_KERNEL_IMAGE_H
#define PAL_KERNEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "pal/format.h"
#include "pal/status.h"
#include "pal/tile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- file layout constants (docs/kernel-image.md §2) -------------------- */

#define PAL_KERNEL_IMAGE_MAGIC "PALK"
#define PAL_KERNEL_IMAGE_FORMAT_VERSION 1u
#define PAL_KERNEL_IMAGE_HEADER_BYTES 64u
#define PAL_KERNEL_IMAGE_SECTION_BYTES 32u
#define PAL_KERNEL_IMAGE_BINDING_BYTES 64u
#define PAL_KERNEL_IMAGE_NAME_BYTES 32u /* names are 1..31 bytes plus NUL */
#define PAL_KERNEL_IMAGE_DATA_ALIGN 8u  /* section data file offsets */
#define PAL_KERNEL_IMAGE_ALL_PES 0xFFFFFFFFu /* WMEM section striped over all PEs */

/* Header field offsets (bytes), for tools and for tests that corrupt them. */
#define PAL_KERNEL_IMAGE_OFF_MAGIC 0u
#define PAL_KERNEL_IMAGE_OFF_FORMAT_VERSION 4u /* u16 */
#define PAL_KERNEL_IMAGE_OFF_HEADER_BYTES 6u   /* u16 */
#define PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH 8u   /* u64 */
#define PAL_KERNEL_IMAGE_OFF_CRC32 16u         /* u32 */
#define PAL_KERNEL_IMAGE_OFF_ISA_VERSION 20u   /* u32 */
#define PAL_KERNEL_IMAGE_OFF_FLAGS 24u         /* u32 */
#define PAL_KERNEL_IMAGE_OFF_ROWS 28u          /* u16 */
#define PAL_KERNEL_IMAGE_OFF_COLS 30u          /* u16 */
#define PAL_KERNEL_IMAGE_OFF_IMEM_DEPTH 32u    /* u32, then abuf, wmem, acc, bias, obuf */
#define PAL_KERNEL_IMAGE_OFF_ABUF_BLOCKS 36u
#define PAL_KERNEL_IMAGE_OFF_WMEM_BLOCKS 40u
#define PAL_KERNEL_IMAGE_OFF_ACC_DEPTH 44u
#define PAL_KERNEL_IMAGE_OFF_BIAS_DEPTH 48u
#define PAL_KERNEL_IMAGE_OFF_OBUF_DEPTH 52u
#define PAL_KERNEL_IMAGE_OFF_ENTRY_PC 56u      /* u32 */
#define PAL_KERNEL_IMAGE_OFF_SECTION_COUNT 60u /* u16 */
#define PAL_KERNEL_IMAGE_OFF_BINDING_COUNT 62u /* u16 */

/* Section entry field offsets, relative to the entry. */
#define PAL_KERNEL_SECTION_OFF_KIND 0u    /* u16 */
#define PAL_KERNEL_SECTION_OFF_FLAGS 2u   /* u16, 0 */
#define PAL_KERNEL_SECTION_OFF_PE 4u      /* u32 */
#define PAL_KERNEL_SECTION_OFF_INDEX 8u   /* u64 */
#define PAL_KERNEL_SECTION_OFF_LENGTH 16u /* u64 */
#define PAL_KERNEL_SECTION_OFF_OFFSET 24u /* u64 */

/* Binding entry field offsets, relative to the entry. */
#define PAL_KERNEL_BINDING_OFF_NAME 0u
#define PAL_KERNEL_BINDING_OFF_DIRECTION 32u /* u8 */
#define PAL_KERNEL_BINDING_OFF_FORMAT 33u    /* u8 */
#define PAL_KERNEL_BINDING_OFF_REGION 34u    /* u8 */
#define PAL_KERNEL_BINDING_OFF_ROWS 36u      /* u32 */
#define PAL_KERNEL_BINDING_OFF_COLS 40u      /* u32 */
#define PAL_KERNEL_BINDING_OFF_INDEX 44u     /* u32 */
#define PAL_KERNEL_BINDING_OFF_STRIDE 48u    /* u32 */

/* ---- sections and bindings ---------------------------------------------- */

/* What a section holds and where it goes. Each kind targets one tile region
 * (pal_kernel_section_kind_region); `index` and `length` count elements of
 * that region (32-bit words for CODE, BIAS and ACC; bytes otherwise). */
typedef enum pal_kernel_section_kind {
  PAL_KERNEL_SECTION_CODE = 1,        /* IMEM words; index, length multiples of 4 */
  PAL_KERNEL_SECTION_ABUF_CODES = 2,  /* constant activation codes */
  PAL_KERNEL_SECTION_ABUF_SCALES = 3, /* constant activation scales */
  PAL_KERNEL_SECTION_WMEM_CODES = 4,  /* weight codes of PE `pe`, or striped */
  PAL_KERNEL_SECTION_WMEM_SCALES = 5, /* weight scales of PE `pe`, or striped */
  PAL_KERNEL_SECTION_BIAS = 6,        /* FP32 bit patterns */
  PAL_KERNEL_SECTION_ACC = 7,         /* FP32 starting accumulators (NaR flags cleared) */
} pal_kernel_section_kind_t;

/* "CODE", "ABUF codes", ...; "unknown" for other values. */
const char *pal_kernel_section_kind_name(uint32_t kind);
/* The tile region a kind writes; PAL_TILE_REGION_COUNT for an unknown kind. */
pal_tile_region_t pal_kernel_section_kind_region(uint32_t kind);

typedef struct pal_kernel_section {
  pal_kernel_section_kind_t kind;
  /* WMEM kinds: the PE (0..P-1), or PAL_KERNEL_IMAGE_ALL_PES for the striped
   * layout (the data holds P slices of `length` elements, PE 0 first).
   * Every other kind: 0. */
  uint32_t pe;
  uint64_t index;  /* first element in the region */
  uint64_t length; /* elements (per PE when striped); never 0 */
  /* length * element size (* P when striped) bytes, little-endian words.
   * The builder copies it; in a parsed image it points into the image. */
  const void *data;
  uint64_t file_offset; /* parsed images only; the builder ignores it */
} pal_kernel_section_t;

typedef enum pal_kernel_binding_direction {
  PAL_KERNEL_BINDING_INPUT = 0,
  PAL_KERNEL_BINDING_OUTPUT = 1,
} pal_kernel_binding_direction_t;

typedef enum pal_kernel_element_format {
  PAL_KERNEL_FORMAT_FP32 = 0,     /* one 32-bit word per element */
  PAL_KERNEL_FORMAT_PAL8_B32 = 1, /* ABUF blocks: 32 codes + one scale per block */
} pal_kernel_element_format_t;

/* A named tensor the runtime writes before a run or reads after it:
 * element (m, n) of a rows x cols tensor lives at
 *   FP32:     word  index + m*stride + n        of `region` (BIAS, ACC, OBUF)
 *   PAL8-B32: block index + m*stride + n/32     of ABUF (region ABUF_CODES),
 *             code n%32 of that block; the block's scale at the same index
 *             of ABUF_SCALES.
 * Inputs may bind BIAS, ACC or ABUF; outputs ACC, OBUF or ABUF. */
typedef struct pal_kernel_binding {
  char name[PAL_KERNEL_IMAGE_NAME_BYTES]; /* 1..31 printable ASCII, no blanks */
  pal_kernel_binding_direction_t direction;
  pal_kernel_element_format_t format;
  pal_tile_region_t region;
  uint32_t rows, cols; /* both >= 1 */
  uint32_t index;      /* word (FP32) or block (PAL8-B32) of element (0, 0) */
  uint32_t stride;     /* between rows: >= cols words, or >= ceil(cols/32) blocks */
} pal_kernel_binding_t;

/* ---- builder ------------------------------------------------------------- */

typedef struct pal_kernel_image_builder_options {
  /* Geometry (rows, cols) and minimum buffer sizes the kernel is compiled
   * for; acc_units is not recorded (it changes timing, not results). */
  pal_tile_config_t required;
  uint32_t isa_version; /* PAL_ISA_VERSION */
  const char *name;     /* for messages ("model.palk"); may be NULL */
} pal_kernel_image_builder_options_t;

/* Defaults: the 4x4 geometry of pal_tile_config_initialize, PAL_ISA_VERSION. */
void pal_kernel_image_builder_options_initialize(pal_kernel_image_builder_options_t *options);

typedef struct pal_kernel_image_builder pal_kernel_image_builder_t;

/* `options` may be NULL (defaults). Release with pal_kernel_image_builder_destroy. */
pal_status_t pal_kernel_image_builder_create(const pal_kernel_image_builder_options_t *options,
                                             pal_kernel_image_builder_t **out_builder);
void pal_kernel_image_builder_destroy(pal_kernel_image_builder_t *builder);

/* Adds a section; copies its data. Checks the kind, the PE field and that
 * the length is non-zero; everything else is checked when serializing. */
pal_status_t pal_kernel_image_builder_add_section(pal_kernel_image_builder_t *builder,
                                                  const pal_kernel_section_t *section);
/* A CODE section of n_words (a multiple of 4) instruction words at
 * instruction `pc`. */
pal_status_t pal_kernel_image_builder_add_code(pal_kernel_image_builder_t *builder, uint32_t pc,
                                               const uint32_t *words, size_t n_words);
/* Adds a binding (names must be unique). */
pal_status_t pal_kernel_image_builder_add_binding(pal_kernel_image_builder_t *builder,
                                                  const pal_kernel_binding_t *binding);
/* The instruction the kernel starts at (default 0). */
pal_status_t pal_kernel_image_builder_set_entry(pal_kernel_image_builder_t *builder, uint32_t pc);

/* Writes the image into a new buffer (release with free()). The image is
 * parsed and validated (against its own required geometry) before it is
 * returned, so the builder never hands out an image the loader rejects. */
pal_status_t pal_kernel_image_builder_serialize(const pal_kernel_image_builder_t *builder,
                                                void **out_data, size_t *out_size);
/* As serialize, to a file (written whole or not at all: temp file + rename). */
pal_status_t pal_kernel_image_builder_write_file(const pal_kernel_image_builder_t *builder,
                                                 const char *path);

/* ---- parsed images ------------------------------------------------------- */

typedef struct pal_kernel_image pal_kernel_image_t;

typedef struct pal_kernel_image_info {
  uint32_t format_version;
  uint32_t isa_version;
  pal_tile_config_t required; /* acc_units is 0: any */
  uint32_t flags;
  uint32_t entry_pc;
  uint32_t section_count;
  uint32_t binding_count;
  uint64_t total_length;
  uint32_t crc32;
} pal_kernel_image_info_t;

/* Parses an image from memory (copied; the caller keeps `data`). Checks
 * everything that does not depend on a device: magic, format version,
 * header size, total length, CRC-32, flags, the required geometry's ranges,
 * the tables inside the file, each section's kind, PE field, alignment and
 * non-zero length, its data inside the file with 64-bit arithmetic that
 * cannot overflow, no two sections sharing file bytes, and each binding's
 * name, direction, format and region codes. Messages start with the
 * image's name ("kernel image" here). Release with pal_kernel_image_destroy. */
pal_status_t pal_kernel_image_parse(const void *data, size_t size, pal_kernel_image_t **out_image);
/* As pal_kernel_image_parse with `name` ("model.palk") in messages. */
pal_status_t pal_kernel_image_parse_named(const void *data, size_t size, const char *name,
                                          pal_kernel_image_t **out_image);
/* Reads and parses a file; the path names the image in messages. */
pal_status_t pal_kernel_image_read_file(const char *path, pal_kernel_image_t **out_image);
void pal_kernel_image_destroy(pal_kernel_image_t *image);

/* Checks the image against a device (docs/kernel-image.md §5): ISA version,
 * R and C equal to the device's, sections and bindings inside the device's
 * buffers and inside the sizes the image requires, device buffers at least
 * as large as required, no two sections overlapping in one region of one
 * PE, bindings consistent with their format, the entry PC inside a CODE
 * section, and every instruction decodable. `device_config` NULL checks
 * against the image's own required geometry. */
pal_status_t pal_kernel_image_validate(const pal_kernel_image_t *image,
                                       const pal_tile_config_t *device_config);

/* Validates against device->config, then writes every section through the
 * tile device interface and sets START_PC to the entry PC. Nothing is
 * written when validation fails. */
pal_status_t pal_kernel_image_load(const pal_kernel_image_t *image, pal_tile_device_t *device);

const char *pal_kernel_image_name(const pal_kernel_image_t *image);
void pal_kernel_image_get_info(const pal_kernel_image_t *image, pal_kernel_image_info_t *out_info);
uint32_t pal_kernel_image_entry_pc(const pal_kernel_image_t *image);
size_t pal_kernel_image_section_count(const pal_kernel_image_t *image);
/* Section i (< count); its data points into the image. */
void pal_kernel_image_section(const pal_kernel_image_t *image, size_t i,
                              pal_kernel_section_t *out_section);
size_t pal_kernel_image_binding_count(const pal_kernel_image_t *image);
void pal_kernel_image_binding(const pal_kernel_image_t *image, size_t i,
                              pal_kernel_binding_t *out_binding);
/* PAL_NOT_FOUND naming the image and the binding when there is none. */
pal_status_t pal_kernel_image_find_binding(const pal_kernel_image_t *image, const char *name,
                                           pal_kernel_binding_t *out_binding);

/* The serialized bytes of the image (as parsed). */
const void *pal_kernel_image_data(const pal_kernel_image_t *image, size_t *out_size);

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final XOR
 * 0xFFFFFFFF) of `size` bytes: "123456789" gives 0xCBF43926. */
uint32_t pal_kernel_image_crc32(const void *data, size_t size);
/* Stores the CRC of an image buffer in its header (computed with the field
 * zeroed). For tools that patch images; size must be at least the header. */
void pal_kernel_image_seal(void *data, size_t size);

/* ---- tensors through bindings ---------------------------------------------
 * The runtime's side of a binding. All take the binding as found in a
 * validated image, and the device the image was loaded into. */

/* rows x cols FP32 values, row-major with leading dimension cols. Writing
 * ACC clears the NaR flags of the words written. */
pal_status_t pal_kernel_binding_write_fp32(pal_tile_device_t *device,
                                           const pal_kernel_binding_t *binding, const float *data);
/* Reading ACC maps words whose NaR flag is set to quiet NaN. */
pal_status_t pal_kernel_binding_read_fp32(pal_tile_device_t *device,
                                          const pal_kernel_binding_t *binding, float *out_data);
/* A PAL8-B32 matrix of exactly rows x cols. */
pal_status_t pal_kernel_binding_write_pal8(pal_tile_device_t *device,
                                           const pal_kernel_binding_t *binding,
                                           const pal_b32_matrix_t *matrix);
/* Into a matrix the caller created with rows x cols (pal_b32_matrix_create). */
pal_status_t pal_kernel_binding_read_pal8(pal_tile_device_t *device,
                                          const pal_kernel_binding_t *binding,
                                          pal_b32_matrix_t *out_matrix);

#ifdef __cplusplus
}
#endif
#endif /* PAL_KERNEL_IMAGE_H */
