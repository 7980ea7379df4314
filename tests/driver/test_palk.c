/* Kernel images (.palk): builder round trip, a table of malformed images
 * each rejected with its own code and message, truncation and corruption
 * properties, seeded random mutations, and a GEMM kernel built with the
 * builder, loaded into the emulator and compared with pal_gemm_ref bit for
 * bit. Seeded: PAL_TEST_SEED=<seed> replays a failure. */
#include "tile_test_util.h"

#include <unistd.h>

#include "pal/kernel_image.h"

#define OK(expr) TT_OK(g_seed, expr)

static uint64_t g_seed;

/* ---- little-endian patching ------------------------------------------------ */

static void put(uint8_t *p, unsigned width, uint64_t v) {
  for (unsigned i = 0; i < width; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get(const uint8_t *p, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* ---- the base image: every section kind, a striped and a single-PE WMEM
 * section, three bindings ------------------------------------------------- */

enum {
  SEC_CODE = 0,       /* pc 0..2: the §5 example */
  SEC_WMEM_ALL = 1,   /* WMEM codes, all PEs, [0, 64) */
  SEC_WSCALE_ALL = 2, /* WMEM scales, all PEs, [0, 2) */
  SEC_BIAS = 3,       /* BIAS [0, 16) */
  SEC_ABUF_A = 4,     /* ABUF codes [256, 288) */
  SEC_ASCALE = 5,     /* ABUF scales [8, 9) */
  SEC_WMEM_PE3 = 6,   /* WMEM codes of PE 3, [64, 96) */
  SEC_ACC = 7,        /* ACC [100, 104) */
  SEC_ABUF_B = 8,     /* ABUF codes [288, 320), adjacent to SEC_ABUF_A */
  N_SECTIONS = 9
};
enum { BND_X = 0, BND_Y = 1, BND_ACC = 2, N_BINDINGS = 3 };

static const char kProgram[] =
    "gemm  a=0 as=2 m=1 k=2 w=0 nt=1 acc=0 init=bias bias=0\n"
    "post  acc=0 n=8 m=1 act=relu fmt=fp32 out=0 os=8\n"
    "end\n";

static pal_kernel_binding_t binding(const char *name, pal_kernel_binding_direction_t dir,
                                    pal_kernel_element_format_t fmt, pal_tile_region_t region, uint32_t rows,
                                    uint32_t cols, uint32_t index, uint32_t stride) {
  pal_kernel_binding_t b;
  memset(&b, 0, sizeof b);
  snprintf(b.name, sizeof b.name, "%s", name);
  b.direction = dir;
  b.format = fmt;
  b.region = region;
  b.rows = rows;
  b.cols = cols;
  b.index = index;
  b.stride = stride;
  return b;
}

static void add(pal_kernel_image_builder_t *b, pal_kernel_section_kind_t kind, uint32_t pe, uint64_t index,
                uint64_t length, pal_test_rng_t *rng) {
  uint64_t bytes = length * pal_tile_region_element_size(pal_kernel_section_kind_region(kind));
  if (pe == PAL_KERNEL_IMAGE_ALL_PES) bytes *= 16;
  uint8_t *data = malloc(bytes);
  for (uint64_t i = 0; i < bytes; i++) data[i] = (uint8_t)pal_test_rng_u32(rng);
  pal_kernel_section_t s = {.kind = kind, .pe = pe, .index = index, .length = length, .data = data};
  OK(pal_kernel_image_builder_add_section(b, &s));
  free(data);
}

static pal_kernel_image_builder_t *base_builder(pal_test_rng_t *rng) {
  pal_kernel_image_builder_options_t o;
  pal_kernel_image_builder_options_initialize(&o);
  o.name = "x.palk";
  pal_kernel_image_builder_t *b = NULL;
  OK(pal_kernel_image_builder_create(&o, &b));
  pal_asm_program_t prog;
  OK(pal_asm_assemble(kProgram, strlen(kProgram), NULL, &prog));
  OK(pal_kernel_image_builder_add_code(b, 0, prog.words, prog.word_count));
  pal_asm_program_release(&prog);
  add(b, PAL_KERNEL_SECTION_WMEM_CODES, PAL_KERNEL_IMAGE_ALL_PES, 0, 64, rng);
  add(b, PAL_KERNEL_SECTION_WMEM_SCALES, PAL_KERNEL_IMAGE_ALL_PES, 0, 2, rng);
  add(b, PAL_KERNEL_SECTION_BIAS, 0, 0, 16, rng);
  add(b, PAL_KERNEL_SECTION_ABUF_CODES, 0, 256, 32, rng);
  add(b, PAL_KERNEL_SECTION_ABUF_SCALES, 0, 8, 1, rng);
  add(b, PAL_KERNEL_SECTION_WMEM_CODES, 3, 64, 32, rng);
  add(b, PAL_KERNEL_SECTION_ACC, 0, 100, 4, rng);
  add(b, PAL_KERNEL_SECTION_ABUF_CODES, 0, 288, 32, rng);
  pal_kernel_binding_t x = binding("x", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_PAL8_B32,
                                   PAL_TILE_REGION_ABUF_CODES, 1, 64, 0, 2);
  pal_kernel_binding_t y = binding("y", PAL_KERNEL_BINDING_OUTPUT, PAL_KERNEL_FORMAT_FP32, PAL_TILE_REGION_OBUF, 1,
                                   8, 0, 8);
  pal_kernel_binding_t a = binding("acc0", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_FP32, PAL_TILE_REGION_ACC, 2,
                                   4, 200, 4);
  OK(pal_kernel_image_builder_add_binding(b, &x));
  OK(pal_kernel_image_builder_add_binding(b, &y));
  OK(pal_kernel_image_builder_add_binding(b, &a));
  OK(pal_kernel_image_builder_set_entry(b, 0));
  return b;
}

static void base_image(uint8_t **out, size_t *out_size) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, g_seed);
  pal_kernel_image_builder_t *b = base_builder(&rng);
  void *data;
  OK(pal_kernel_image_builder_serialize(b, &data, out_size));
  pal_kernel_image_builder_destroy(b);
  *out = data;
}

/* ---- round trip ------------------------------------------------------------- */

static void test_crc32_vector(void **state) {
  (void)state;
  assert_int_equal(pal_kernel_image_crc32("123456789", 9), 0xCBF43926u);
  assert_int_equal(pal_kernel_image_crc32("", 0), 0u);
}

static void test_round_trip(void **state) {
  (void)state;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, g_seed);
  pal_kernel_image_builder_t *b = base_builder(&rng);
  void *data, *again;
  size_t size, size2;
  OK(pal_kernel_image_builder_serialize(b, &data, &size));
  OK(pal_kernel_image_builder_serialize(b, &again, &size2));
  assert_int_equal(size, size2);
  assert_memory_equal(data, again, size); /* deterministic */
  free(again);

  pal_kernel_image_t *img = NULL;
  OK(pal_kernel_image_parse_named(data, size, "x.palk", &img));
  OK(pal_kernel_image_validate(img, NULL));
  pal_tile_config_t dev;
  pal_tile_config_initialize(&dev, 4, 4);
  OK(pal_kernel_image_validate(img, &dev));

  pal_kernel_image_info_t info;
  pal_kernel_image_get_info(img, &info);
  assert_int_equal(info.format_version, PAL_KERNEL_IMAGE_FORMAT_VERSION);
  assert_int_equal(info.isa_version, PAL_ISA_VERSION);
  assert_int_equal(info.required.rows, 4);
  assert_int_equal(info.required.cols, 4);
  assert_int_equal(info.required.imem_depth, dev.imem_depth);
  assert_int_equal(info.required.abuf_blocks, dev.abuf_blocks);
  assert_int_equal(info.required.wmem_blocks, dev.wmem_blocks);
  assert_int_equal(info.required.acc_depth, dev.acc_depth);
  assert_int_equal(info.required.bias_depth, dev.bias_depth);
  assert_int_equal(info.required.obuf_depth, dev.obuf_depth);
  assert_int_equal(info.total_length, size);
  assert_int_equal(info.entry_pc, 0);
  assert_int_equal(pal_kernel_image_section_count(img), N_SECTIONS);
  assert_int_equal(pal_kernel_image_binding_count(img), N_BINDINGS);

  /* Every section back with its data: regenerate the builder's input. */
  pal_test_rng_init(&rng, g_seed);
  pal_kernel_image_builder_t *b2 = base_builder(&rng);
  pal_kernel_image_builder_destroy(b2); /* consumed the same random bytes */
  pal_test_rng_init(&rng, g_seed);
  static const struct {
    pal_kernel_section_kind_t kind;
    uint32_t pe;
    uint64_t index, length;
  } want[N_SECTIONS] = {
      {PAL_KERNEL_SECTION_CODE, 0, 0, 12},
      {PAL_KERNEL_SECTION_WMEM_CODES, PAL_KERNEL_IMAGE_ALL_PES, 0, 64},
      {PAL_KERNEL_SECTION_WMEM_SCALES, PAL_KERNEL_IMAGE_ALL_PES, 0, 2},
      {PAL_KERNEL_SECTION_BIAS, 0, 0, 16},
      {PAL_KERNEL_SECTION_ABUF_CODES, 0, 256, 32},
      {PAL_KERNEL_SECTION_ABUF_SCALES, 0, 8, 1},
      {PAL_KERNEL_SECTION_WMEM_CODES, 3, 64, 32},
      {PAL_KERNEL_SECTION_ACC, 0, 100, 4},
      {PAL_KERNEL_SECTION_ABUF_CODES, 0, 288, 32},
  };
  pal_asm_program_t prog;
  OK(pal_asm_assemble(kProgram, strlen(kProgram), NULL, &prog));
  for (size_t i = 0; i < N_SECTIONS; i++) {
    pal_kernel_section_t s;
    pal_kernel_image_section(img, i, &s);
    assert_int_equal(s.kind, want[i].kind);
    assert_int_equal(s.pe, want[i].pe);
    assert_int_equal(s.index, want[i].index);
    assert_int_equal(s.length, want[i].length);
    assert_int_equal(s.file_offset % PAL_KERNEL_IMAGE_DATA_ALIGN, 0);
    uint64_t bytes = s.length * pal_tile_region_element_size(pal_kernel_section_kind_region(s.kind)) *
                     (s.pe == PAL_KERNEL_IMAGE_ALL_PES ? 16 : 1);
    if (s.kind == PAL_KERNEL_SECTION_CODE) {
      for (size_t w = 0; w < prog.word_count; w++)
        assert_int_equal(get((const uint8_t *)s.data + 4 * w, 4), prog.words[w]);
    } else {
      for (uint64_t k = 0; k < bytes; k++)
        assert_int_equal(((const uint8_t *)s.data)[k], (uint8_t)pal_test_rng_u32(&rng));
    }
  }
  pal_asm_program_release(&prog);
  pal_kernel_binding_t bx, by, ba;
  OK(pal_kernel_image_find_binding(img, "x", &bx));
  OK(pal_kernel_image_find_binding(img, "y", &by));
  OK(pal_kernel_image_find_binding(img, "acc0", &ba));
  assert_string_equal(bx.name, "x");
  assert_int_equal(bx.direction, PAL_KERNEL_BINDING_INPUT);
  assert_int_equal(bx.format, PAL_KERNEL_FORMAT_PAL8_B32);
  assert_int_equal(bx.region, PAL_TILE_REGION_ABUF_CODES);
  assert_int_equal(bx.rows, 1);
  assert_int_equal(bx.cols, 64);
  assert_int_equal(bx.index, 0);
  assert_int_equal(bx.stride, 2);
  assert_int_equal(by.direction, PAL_KERNEL_BINDING_OUTPUT);
  assert_int_equal(by.format, PAL_KERNEL_FORMAT_FP32);
  assert_int_equal(by.region, PAL_TILE_REGION_OBUF);
  assert_int_equal(ba.rows, 2);
  assert_int_equal(ba.cols, 4);
  assert_int_equal(ba.index, 200);
  assert_int_equal(ba.stride, 4);
  pal_kernel_binding_t none;
  pal_status_t st = pal_kernel_image_find_binding(img, "z", &none);
  assert_int_equal(pal_status_code(st), PAL_NOT_FOUND);
  assert_non_null(strstr(pal_status_message(st), "x.palk: no binding named 'z'"));
  pal_status_free(st);

  /* the bytes survive a file round trip too */
  char path[64];
  snprintf(path, sizeof path, "/tmp/test_palk_%ld.palk", (long)getpid());
  OK(pal_kernel_image_builder_write_file(b, path));
  pal_kernel_image_t *img2 = NULL;
  OK(pal_kernel_image_read_file(path, &img2));
  size_t n2;
  const void *d2 = pal_kernel_image_data(img2, &n2);
  assert_int_equal(n2, size);
  assert_memory_equal(d2, data, size);
  assert_string_equal(pal_kernel_image_name(img2), path);
  remove(path);
  pal_kernel_image_destroy(img2);
  st = pal_kernel_image_read_file(path, &img2);
  assert_int_equal(pal_status_code(st), PAL_NOT_FOUND);
  pal_status_free(st);

  pal_kernel_image_destroy(img);
  pal_kernel_image_builder_destroy(b);
  free(data);
}

/* ---- malformed images: one row per rejection ---------------------------------- */

typedef enum { HDR = 0, SEC, BND } area_t;

typedef struct patch {
  area_t area;
  unsigned entry; /* section or binding index */
  unsigned off;   /* byte offset within the area's entry */
  unsigned width; /* 1, 2, 4, 8; 0 = unused */
  uint64_t value;
} patch_t;

typedef enum { VAL_NONE = 0, VAL_TOTAL_PLUS_8, VAL_TOTAL_MINUS_8, VAL_CRC_XOR_1, VAL_OFFSET_OF_SEC2 } special_t;

typedef struct bad_case {
  const char *name;
  patch_t patch[2];
  special_t special; /* a value that depends on the image */
  void (*custom)(uint8_t **data, size_t *size);
  void (*device)(pal_tile_config_t *cfg);
  bool keep_crc; /* do not reseal after patching */
  pal_status_code_t code;
  const char *message;
} bad_case_t;

static uint8_t *field(uint8_t *img, const patch_t *p) {
  uint16_t ns = (uint16_t)get(img + PAL_KERNEL_IMAGE_OFF_SECTION_COUNT, 2);
  switch (p->area) {
    case HDR: return img + p->off;
    case SEC: return img + PAL_KERNEL_IMAGE_HEADER_BYTES + p->entry * PAL_KERNEL_IMAGE_SECTION_BYTES + p->off;
    default:
      return img + PAL_KERNEL_IMAGE_HEADER_BYTES + (size_t)ns * PAL_KERNEL_IMAGE_SECTION_BYTES +
             p->entry * PAL_KERNEL_IMAGE_BINDING_BYTES + p->off;
  }
}

/* custom mutations */
static void append_8(uint8_t **d, size_t *n) {
  *d = realloc(*d, *n + 8);
  memset(*d + *n, 0, 8);
  *n += 8;
}
static void flip_last_byte(uint8_t **d, size_t *n) { (*d)[*n - 1] ^= 0x40; }
static uint8_t *bnd_name(uint8_t *d, unsigned i) {
  patch_t p = {BND, i, PAL_KERNEL_BINDING_OFF_NAME, 0, 0};
  return field(d, &p);
}
static void name_empty(uint8_t **d, size_t *n) {
  (void)n;
  memset(bnd_name(*d, BND_X), 0, PAL_KERNEL_IMAGE_NAME_BYTES);
}
static void name_unterminated(uint8_t **d, size_t *n) {
  (void)n;
  memset(bnd_name(*d, BND_X), 'a', PAL_KERNEL_IMAGE_NAME_BYTES);
}
static void name_blank(uint8_t **d, size_t *n) {
  (void)n;
  memcpy(bnd_name(*d, BND_X), "x y", 3);
}
static void name_junk_after_nul(uint8_t **d, size_t *n) {
  (void)n;
  bnd_name(*d, BND_X)[20] = 'q';
}
static void name_duplicate(uint8_t **d, size_t *n) {
  (void)n;
  memcpy(bnd_name(*d, BND_Y), "x", 2);
}
static void illegal_instruction(uint8_t **d, size_t *n) {
  (void)n;
  patch_t p = {SEC, SEC_CODE, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0};
  uint64_t off = get(field(*d, &p), 8);
  /* instruction 1, word 0: opcode 0x3F */
  put(*d + off + 16, 4, 0xFC000000u);
}
static void reserved_binding_byte(uint8_t **d, size_t *n) {
  (void)n;
  patch_t p = {BND, BND_Y, 56, 0, 0};
  *field(*d, &p) = 1;
}

/* device configurations */
static void dev_8x4(pal_tile_config_t *c) { pal_tile_config_initialize(c, 8, 4); }
static void dev_4x2(pal_tile_config_t *c) { pal_tile_config_initialize(c, 4, 2); }
static void dev_small_wmem(pal_tile_config_t *c) { c->wmem_blocks = 128; }
static void dev_small_imem(pal_tile_config_t *c) { c->imem_depth = 16; }
static void dev_small_abuf(pal_tile_config_t *c) { c->abuf_blocks = 9; }
static void dev_big_abuf(pal_tile_config_t *c) { c->abuf_blocks = 1024; }
static void dev_invalid(pal_tile_config_t *c) { c->acc_units = 0; }

#define H(off, w, v) {HDR, 0, (off), (w), (v)}
#define S(i, off, w, v) {SEC, (i), (off), (w), (v)}
#define B(i, off, w, v) {BND, (i), (off), (w), (v)}

static const bad_case_t kBadCases[] = {
    /* header */
    {"wrong magic", {H(0, 4, 0x4B4C4158u)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "x.palk: wrong magic 58 41 4c 4b (expected \"PALK\")"},
    {"wrong format version", {H(PAL_KERNEL_IMAGE_OFF_FORMAT_VERSION, 2, 2)}, 0, NULL, NULL, false, PAL_UNIMPLEMENTED,
     "format version 2, this loader reads version 1"},
    {"wrong header size", {H(PAL_KERNEL_IMAGE_OFF_HEADER_BYTES, 2, 72)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "header_bytes 72"},
    {"bad CRC field", {{0}}, VAL_CRC_XOR_1, NULL, NULL, true, PAL_DATA_LOSS, "CRC-32 mismatch"},
    {"corrupted data byte, CRC not updated", {{0}}, 0, flip_last_byte, NULL, true, PAL_DATA_LOSS,
     "(corrupted image)"},
    {"total_length past the end (truncated)", {{0}}, VAL_TOTAL_PLUS_8, NULL, NULL, false, PAL_DATA_LOSS,
     "truncated: total_length says"},
    {"total_length short of the end", {{0}}, VAL_TOTAL_MINUS_8, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "8 bytes of trailing data"},
    {"trailing bytes", {{0}}, 0, append_8, NULL, false, PAL_INVALID_ARGUMENT, "trailing data after the total_length"},
    {"wrong ISA version", {H(PAL_KERNEL_IMAGE_OFF_ISA_VERSION, 4, 2)}, 0, NULL, NULL, false, PAL_FAILED_PRECONDITION,
     "ISA version 2, but this loader"},
    {"unknown flag", {H(PAL_KERNEL_IMAGE_OFF_FLAGS, 4, 1)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "flags 0x00000001 has bits"},
    {"required rows 0", {H(PAL_KERNEL_IMAGE_OFF_ROWS, 2, 0)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "required rows 0 out of range"},
    {"required cols 256", {H(PAL_KERNEL_IMAGE_OFF_COLS, 2, 256)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "required cols 256 out of range"},
    {"required imem_depth 0", {H(PAL_KERNEL_IMAGE_OFF_IMEM_DEPTH, 4, 0)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "required imem_depth 0 out of range 1..65535"},
    {"required abuf_blocks 65537", {H(PAL_KERNEL_IMAGE_OFF_ABUF_BLOCKS, 4, 65537)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "required abuf_blocks 65537"},
    {"required obuf_depth near 2^32", {H(PAL_KERNEL_IMAGE_OFF_OBUF_DEPTH, 4, 0xFFFFFFFFu)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "required obuf_depth 4294967295"},
    {"section table past the file", {H(PAL_KERNEL_IMAGE_OFF_SECTION_COUNT, 2, 0xFFFF)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "section table (65535 entries)"},
    {"binding table past the file", {H(PAL_KERNEL_IMAGE_OFF_BINDING_COUNT, 2, 0xFFFF)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "binding table (65535 entries)"},
    /* sections: fields */
    {"unknown section kind", {S(SEC_WMEM_ALL, PAL_KERNEL_SECTION_OFF_KIND, 2, 99)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "section 1: unknown kind 99"},
    {"section flags", {S(SEC_WMEM_ALL, PAL_KERNEL_SECTION_OFF_FLAGS, 2, 1)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "section 1 (WMEM codes, all PEs): flags 0x0001"},
    {"PE on a BIAS section", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_PE, 4, 1)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "section 3 (BIAS): pe 1, but only WMEM sections name a PE"},
    {"zero-length section", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_LENGTH, 8, 0)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "section 3 (BIAS): zero length"},
    {"CODE length not whole instructions", {S(SEC_CODE, PAL_KERNEL_SECTION_OFF_LENGTH, 8, 10)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "length 10 words must be whole instructions"},
    {"CODE index not instruction-aligned", {S(SEC_CODE, PAL_KERNEL_SECTION_OFF_INDEX, 8, 2)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "section 0 (CODE): index 2 and length 12"},
    {"file offset not 8-aligned", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0)}, VAL_OFFSET_OF_SEC2, NULL, NULL,
     false, PAL_INVALID_ARGUMENT, "is not a multiple of 8"},
    {"file offset inside the tables", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 64)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "file offset 64 points into the header tables"},
    {"section data past the end of the file", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_LENGTH, 8, 4096)}, 0, NULL, NULL,
     false, PAL_OUT_OF_RANGE, "16384 bytes, lies outside the"},
    {"file offset near 2^64", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0xFFFFFFFFFFFFFFF8ull)}, 0, NULL, NULL,
     false, PAL_OUT_OF_RANGE, "data at file offset 18446744073709551608"},
    {"file offset near 2^32", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0xFFFFFFF8ull)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "data at file offset 4294967288"},
    {"length near 2^64: byte count overflows", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_LENGTH, 8, 0x4000000000000000ull)},
     0, NULL, NULL, false, PAL_OUT_OF_RANGE, "section 3 (BIAS): length 4611686018427387904 elements overflows"},
    {"striped length overflows with P = 16",
     {S(SEC_WMEM_ALL, PAL_KERNEL_SECTION_OFF_LENGTH, 8, 0x1000000000000000ull)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "(WMEM codes, all PEs): length 1152921504606846976 elements overflows"},
    {"length near 2^32 (4 GiB of words)", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_LENGTH, 8, 0x40000000ull)}, 0, NULL,
     NULL, false, PAL_OUT_OF_RANGE, "4294967296 bytes, lies outside"},
    {"sections share file bytes", {S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0)}, VAL_OFFSET_OF_SEC2 + 1, NULL,
     NULL, false, PAL_INVALID_ARGUMENT, "sections 2 and 3 share file bytes"},
    /* sections against the device */
    {"section beyond the device buffer", {S(SEC_ABUF_A, PAL_KERNEL_SECTION_OFF_INDEX, 8, 512 * 32 - 16)}, 0, NULL,
     NULL, false, PAL_OUT_OF_RANGE,
     "section 4 (ABUF codes): elements 16368..16399 lie beyond the device's ABUF_CODES of 16384"},
    {"section index near 2^64", {S(SEC_ABUF_A, PAL_KERNEL_SECTION_OFF_INDEX, 8, 0xFFFFFFFFFFFFFFF0ull)}, 0, NULL,
     NULL, false, PAL_OUT_OF_RANGE, "elements 18446744073709551600..18446744073709551615 lie beyond the device's"},
    {"section beyond a smaller device's buffer", {{0}}, 0, NULL, dev_small_abuf, false, PAL_OUT_OF_RANGE,
     "lie beyond the device's ABUF_CODES of 288 elements (abuf_blocks 9)"},
    {"section beyond the image's own requirement", {S(SEC_ABUF_A, PAL_KERNEL_SECTION_OFF_INDEX, 8, 600 * 32)}, 0,
     NULL, dev_big_abuf, false, PAL_OUT_OF_RANGE, "lie beyond the ABUF_CODES of 16384 elements that the image requires (abuf_blocks 512)"},
    {"PE index beyond the device's PEs", {S(SEC_WMEM_PE3, PAL_KERNEL_SECTION_OFF_PE, 4, 17)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "x.palk: section 6 (WMEM codes, PE 17): PE index beyond the device's 16 PEs"},
    {"single-PE section overlaps a striped one", {S(SEC_WMEM_PE3, PAL_KERNEL_SECTION_OFF_INDEX, 8, 32)}, 0, NULL,
     NULL, false, PAL_INVALID_ARGUMENT,
     "section 1 (WMEM codes, all PEs) and section 6 (WMEM codes, PE 3) overlap in WMEM_CODES elements 32..63"},
    {"two sections overlap in ABUF", {S(SEC_ABUF_B, PAL_KERNEL_SECTION_OFF_INDEX, 8, 270)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "section 4 (ABUF codes) and section 8 (ABUF codes) overlap in ABUF_CODES elements 270..287"},
    {"no CODE section", {S(SEC_CODE, PAL_KERNEL_SECTION_OFF_KIND, 2, PAL_KERNEL_SECTION_ACC)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "no CODE section"},
    {"illegal instruction in the code", {{0}}, 0, illegal_instruction, NULL, false, PAL_INVALID_ARGUMENT,
     "section 0 (CODE): instruction at pc 1"},
    /* geometry the device lacks */
    {"device has more rows", {{0}}, 0, NULL, dev_8x4, false, PAL_FAILED_PRECONDITION,
     "geometry mismatch: compiled for a 4x4 PE array, the device has 8x4"},
    {"device has fewer columns", {{0}}, 0, NULL, dev_4x2, false, PAL_FAILED_PRECONDITION, "the device has 4x2"},
    {"device WMEM smaller than required", {{0}}, 0, NULL, dev_small_wmem, false, PAL_FAILED_PRECONDITION,
     "the device's wmem_blocks is 128, smaller than the 256 the image requires"},
    {"device IMEM smaller than required", {{0}}, 0, NULL, dev_small_imem, false, PAL_FAILED_PRECONDITION,
     "the device's imem_depth is 16, smaller than the 256"},
    {"invalid device configuration", {{0}}, 0, NULL, dev_invalid, false, PAL_OUT_OF_RANGE,
     "x.palk: device configuration"},
    /* bindings */
    {"binding with 0 rows", {B(BND_X, PAL_KERNEL_BINDING_OFF_ROWS, 4, 0)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "binding 0 ('x'): shape 0x64"},
    {"binding with 0 cols", {B(BND_Y, PAL_KERNEL_BINDING_OFF_COLS, 4, 0)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "binding 1 ('y'): shape 1x0"},
    {"FP32 binding stride below a row", {B(BND_ACC, PAL_KERNEL_BINDING_OFF_STRIDE, 4, 3)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "binding 2 ('acc0'): stride 3 is less than one row of the 2x4 FP32 tensor (4 words)"},
    {"PAL8 binding stride below a row", {B(BND_X, PAL_KERNEL_BINDING_OFF_STRIDE, 4, 1)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "stride 1 is less than one row of the 1x64 PAL8-B32 tensor (2 blocks)"},
    {"PAL8 binding outside ABUF", {B(BND_X, PAL_KERNEL_BINDING_OFF_REGION, 1, PAL_TILE_REGION_WMEM_CODES)}, 0, NULL,
     NULL, false, PAL_INVALID_ARGUMENT, "region WMEM_CODES cannot hold a PAL8-B32 tensor"},
    {"FP32 input in OBUF", {B(BND_ACC, PAL_KERNEL_BINDING_OFF_REGION, 1, PAL_TILE_REGION_OBUF)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "region OBUF cannot hold an FP32 input"},
    {"FP32 output in BIAS", {B(BND_Y, PAL_KERNEL_BINDING_OFF_REGION, 1, PAL_TILE_REGION_BIAS)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "region BIAS cannot hold an FP32 output"},
    {"binding region not a region", {B(BND_X, PAL_KERNEL_BINDING_OFF_REGION, 1, 200)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "region 200 is not a tile region"},
    {"binding direction 2", {B(BND_X, PAL_KERNEL_BINDING_OFF_DIRECTION, 1, 2)}, 0, NULL, NULL, false,
     PAL_INVALID_ARGUMENT, "direction 2 (0 input, 1 output)"},
    {"binding format 7", {B(BND_X, PAL_KERNEL_BINDING_OFF_FORMAT, 1, 7)}, 0, NULL, NULL, false, PAL_INVALID_ARGUMENT,
     "element format 7"},
    {"binding beyond the device's OBUF", {B(BND_Y, PAL_KERNEL_BINDING_OFF_INDEX, 4, 4090)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "binding 1 ('y'): 1x8 at words 4090..4097 (stride 8) lies beyond the device's OBUF of 4096"},
    {"binding rows x stride near 2^32",
     {B(BND_ACC, PAL_KERNEL_BINDING_OFF_ROWS, 4, 0x10000), B(BND_ACC, PAL_KERNEL_BINDING_OFF_STRIDE, 4, 0x10000)}, 0,
     NULL, NULL, false, PAL_OUT_OF_RANGE, "at words 200..4294901963 (stride 65536) lies beyond the device's ACC"},
    {"PAL8 binding beyond ABUF", {B(BND_X, PAL_KERNEL_BINDING_OFF_INDEX, 4, 511)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "at blocks 511..512 (stride 2) lies beyond the device's ABUF of 512 blocks"},
    {"empty binding name", {{0}}, 0, name_empty, NULL, false, PAL_INVALID_ARGUMENT, "binding 0: empty name"},
    {"binding name not terminated", {{0}}, 0, name_unterminated, NULL, false, PAL_INVALID_ARGUMENT,
     "binding 0: name is not NUL-terminated"},
    {"binding name with a blank", {{0}}, 0, name_blank, NULL, false, PAL_INVALID_ARGUMENT,
     "binding 0: name byte 1 is 0x20"},
    {"bytes after the name's NUL", {{0}}, 0, name_junk_after_nul, NULL, false, PAL_INVALID_ARGUMENT,
     "non-zero bytes after the name's NUL"},
    {"reserved binding bytes", {{0}}, 0, reserved_binding_byte, NULL, false, PAL_INVALID_ARGUMENT,
     "binding 1 ('y'): reserved bytes 52..63"},
    {"duplicate binding names", {{0}}, 0, name_duplicate, NULL, false, PAL_INVALID_ARGUMENT,
     "bindings 0 and 1 have the same name 'x'"},
    /* entry */
    {"entry PC beyond the code", {H(PAL_KERNEL_IMAGE_OFF_ENTRY_PC, 4, 3)}, 0, NULL, NULL, false, PAL_OUT_OF_RANGE,
     "entry PC 3 is not inside the code (CODE sections span instructions 0..2)"},
    {"entry PC near 2^32", {H(PAL_KERNEL_IMAGE_OFF_ENTRY_PC, 4, 0xFFFFFFFFu)}, 0, NULL, NULL, false,
     PAL_OUT_OF_RANGE, "entry PC 4294967295 is not inside the code"},
};

static bool all_zero(pal_tile_device_t *dev, pal_tile_region_t region, uint32_t pe) {
  uint64_t n = pal_tile_region_length(&dev->config, region);
  size_t es = pal_tile_region_element_size(region);
  uint8_t *buf = malloc(n * es);
  OK(pal_tile_device_read(dev, region, pe, 0, (size_t)n, buf));
  bool zero = true;
  for (uint64_t i = 0; i < n * es && zero; i++) zero = buf[i] == 0;
  free(buf);
  return zero;
}

static void test_malformed_table(void **state) {
  (void)state;
  uint8_t *base;
  size_t base_size;
  base_image(&base, &base_size);
  size_t n_cases = sizeof kBadCases / sizeof kBadCases[0];
  for (size_t c = 0; c < n_cases; c++) {
    const bad_case_t *bc = &kBadCases[c];
    size_t size = base_size;
    uint8_t *img = malloc(size);
    memcpy(img, base, size);
    for (int k = 0; k < 2; k++)
      if (bc->patch[k].width) put(field(img, &bc->patch[k]), bc->patch[k].width, bc->patch[k].value);
    if (bc->special == VAL_TOTAL_PLUS_8) put(img + PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH, 8, size + 8);
    if (bc->special == VAL_TOTAL_MINUS_8) put(img + PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH, 8, size - 8);
    if (bc->special == VAL_CRC_XOR_1)
      put(img + PAL_KERNEL_IMAGE_OFF_CRC32, 4, get(img + PAL_KERNEL_IMAGE_OFF_CRC32, 4) ^ 1);
    if (bc->special >= VAL_OFFSET_OF_SEC2) {
      /* section 3's offset: section 2's plus 4 (misaligned) or plus 8 (inside it) */
      patch_t s2 = S(SEC_WSCALE_ALL, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0);
      patch_t s3 = S(SEC_BIAS, PAL_KERNEL_SECTION_OFF_OFFSET, 8, 0);
      uint64_t off2 = get(field(img, &s2), 8);
      put(field(img, &s3), 8, off2 + (bc->special == VAL_OFFSET_OF_SEC2 ? 4 : 8));
    }
    if (bc->custom) bc->custom(&img, &size);
    if (!bc->keep_crc) pal_kernel_image_seal(img, size);

    pal_tile_config_t dev;
    pal_tile_config_initialize(&dev, 4, 4);
    if (bc->device) bc->device(&dev);

    pal_kernel_image_t *image = NULL;
    pal_status_t st = pal_kernel_image_parse_named(img, size, "x.palk", &image);
    const char *stage = "parse";
    if (!st) {
      stage = "validate";
      st = pal_kernel_image_validate(image, &dev);
    }
    PAL_TEST_CHECK(g_seed, st != PAL_STATUS_OK, "case '%s': accepted", bc->name);
    PAL_TEST_CHECK(g_seed, pal_status_code(st) == bc->code, "case '%s' (%s): code %s, want %s: %s", bc->name, stage,
                   pal_status_code_name(pal_status_code(st)), pal_status_code_name(bc->code), pal_status_message(st));
    PAL_TEST_CHECK(g_seed, strstr(pal_status_message(st), bc->message) != NULL,
                   "case '%s' (%s): message \"%s\" lacks \"%s\"", bc->name, stage, pal_status_message(st),
                   bc->message);
    PAL_TEST_CHECK(g_seed, strncmp(pal_status_message(st), "x.palk: ", 8) == 0,
                   "case '%s': message does not name the image: %s", bc->name, pal_status_message(st));
    /* The loader refuses the same way and writes nothing. */
    pal_status_t dev_st = pal_tile_config_validate(&dev);
    bool dev_ok = dev_st == PAL_STATUS_OK;
    pal_status_free(dev_st);
    if (image && dev_ok) {
      pal_emu_t *emu = NULL;
      OK(pal_emu_create(&dev, &emu));
      pal_tile_device_t *td = pal_emu_device(emu);
      pal_status_t ls = pal_kernel_image_load(image, td);
      PAL_TEST_CHECK(g_seed, ls && pal_status_code(ls) == bc->code && !strcmp(pal_status_message(ls), pal_status_message(st)),
                     "case '%s': load gave \"%s\", validate \"%s\"", bc->name, pal_status_message(ls),
                     pal_status_message(st));
      pal_status_free(ls);
      PAL_TEST_CHECK(g_seed,
                     all_zero(td, PAL_TILE_REGION_IMEM, 0) && all_zero(td, PAL_TILE_REGION_WMEM_CODES, 0) &&
                         all_zero(td, PAL_TILE_REGION_BIAS, 0) && all_zero(td, PAL_TILE_REGION_ABUF_CODES, 0),
                     "case '%s': a rejected image wrote to the device", bc->name);
      pal_emu_destroy(emu);
    }
    pal_status_free(st);
    pal_kernel_image_destroy(image);
    free(img);
  }
  /* Every distinguishing message is distinct. */
  for (size_t a = 0; a < n_cases; a++)
    for (size_t b = a + 1; b < n_cases; b++)
      PAL_TEST_CHECK(g_seed, strcmp(kBadCases[a].message, kBadCases[b].message) != 0,
                     "cases '%s' and '%s' share their message", kBadCases[a].name, kBadCases[b].name);
  free(base);
}

/* The base image loads and validates: the table's rows fail for their own reason only. */
static void test_base_image_is_valid(void **state) {
  (void)state;
  uint8_t *base;
  size_t size;
  base_image(&base, &size);
  pal_kernel_image_t *img = NULL;
  OK(pal_kernel_image_parse_named(base, size, "x.palk", &img));
  pal_tile_config_t dev;
  pal_tile_config_initialize(&dev, 4, 4);
  OK(pal_kernel_image_validate(img, &dev));
  pal_tile_config_t big = dev;
  big.abuf_blocks = 1024; /* larger buffers are fine */
  big.imem_depth = 1024;
  OK(pal_kernel_image_validate(img, &big));
  /* a tile without a POST unit would stop at the image's POST: refused,
   * naming the instruction */
  pal_tile_config_t no_post = dev;
  no_post.no_post = 1;
  pal_status_t np = pal_kernel_image_validate(img, &no_post);
  PAL_TEST_CHECK(g_seed, np && pal_status_code(np) == PAL_FAILED_PRECONDITION &&
                             strstr(pal_status_message(np), "is a POST") &&
                             strstr(pal_status_message(np), "no POST unit"),
                 "an image with POST on a tile without: %s", np ? pal_status_message(np) : "accepted");
  pal_status_free(np);
  /* nor may a tile without accumulate units run its GEMM: it would leave
   * raw block sums where the image expects FP32 sums */
  pal_tile_config_t no_accu = no_post;
  no_accu.no_accu = 1;
  np = pal_kernel_image_validate(img, &no_accu);
  PAL_TEST_CHECK(g_seed, np && pal_status_code(np) == PAL_FAILED_PRECONDITION &&
                             strstr(pal_status_message(np), "is a GEMM") &&
                             strstr(pal_status_message(np), "no accumulate units"),
                 "an image with GEMM on a tile without accumulate units: %s",
                 np ? pal_status_message(np) : "accepted");
  pal_status_free(np);
  pal_emu_t *emu = NULL;
  OK(pal_emu_create(&dev, &emu));
  pal_tile_device_t *td = pal_emu_device(emu);
  OK(pal_kernel_image_load(img, td));
  /* spot checks: striped weights reached every PE; the single-PE section PE 3 only */
  for (uint32_t p = 0; p < 16; p++) {
    uint8_t w[64];
    OK(pal_tile_device_read(td, PAL_TILE_REGION_WMEM_CODES, p, 0, 64, w));
    pal_kernel_section_t s;
    pal_kernel_image_section(img, SEC_WMEM_ALL, &s);
    assert_memory_equal(w, (const uint8_t *)s.data + p * 64, 64);
    uint8_t w3[32];
    OK(pal_tile_device_read(td, PAL_TILE_REGION_WMEM_CODES, p, 64, 32, w3));
    pal_kernel_image_section(img, SEC_WMEM_PE3, &s);
    if (p == 3)
      assert_memory_equal(w3, s.data, 32);
    else
      for (int i = 0; i < 32; i++) assert_int_equal(w3[i], 0);
  }
  uint32_t acc[4];
  uint8_t nar[4] = {1, 1, 1, 1};
  OK(pal_tile_device_write(td, PAL_TILE_REGION_ACC_NAR, 0, 100, 4, nar));
  OK(pal_kernel_image_load(img, td)); /* loading ACC clears its NaR flags */
  OK(pal_tile_device_read(td, PAL_TILE_REGION_ACC, 0, 100, 4, acc));
  OK(pal_tile_device_read(td, PAL_TILE_REGION_ACC_NAR, 0, 100, 4, nar));
  pal_kernel_section_t s;
  pal_kernel_image_section(img, SEC_ACC, &s);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(acc[i], (uint32_t)get((const uint8_t *)s.data + 4 * i, 4));
    assert_int_equal(nar[i], 0);
  }
  uint32_t pc;
  OK(pal_tile_device_read_reg(td, PAL_TILE_REG_START_PC, &pc));
  assert_int_equal(pc, 0);
  pal_emu_destroy(emu);
  pal_kernel_image_destroy(img);
  free(base);
}

/* ---- truncation, corruption, random mutation --------------------------------- */

static void expect_truncated(const uint8_t *img, size_t cut) {
  pal_kernel_image_t *image = NULL;
  pal_status_t st = pal_kernel_image_parse_named(img, cut, "x.palk", &image);
  const char *want = cut < 4 ? "not even the 4-byte magic" : cut < 64 ? "the header alone is 64" : "total_length says";
  PAL_TEST_CHECK(g_seed, st && pal_status_code(st) == PAL_DATA_LOSS && strstr(pal_status_message(st), want),
                 "truncated to %zu bytes: %s", cut, st ? pal_status_message(st) : "accepted");
  pal_status_free(st);
  assert_null(image);
}

static void test_truncated(void **state) {
  (void)state;
  uint8_t *img;
  size_t size;
  base_image(&img, &size);
  /* every header field boundary, the table boundaries, each section's start */
  static const size_t header_cuts[] = {0, 1, 3, 4, 6, 8, 16, 20, 24, 28, 30, 32, 36, 40, 44, 48, 52, 56, 60, 62, 63};
  for (size_t i = 0; i < sizeof header_cuts / sizeof header_cuts[0]; i++) expect_truncated(img, header_cuts[i]);
  for (size_t i = 0; i <= N_SECTIONS; i++) expect_truncated(img, 64 + 32 * i);
  for (size_t i = 1; i <= N_BINDINGS; i++) expect_truncated(img, 64 + 32 * N_SECTIONS + 64 * i);
  pal_kernel_image_t *tmp = NULL;
  OK(pal_kernel_image_parse(img, size, &tmp));
  for (size_t i = 0; i < N_SECTIONS; i++) {
    pal_kernel_section_t s;
    pal_kernel_image_section(tmp, i, &s);
    expect_truncated(img, (size_t)s.file_offset);
    expect_truncated(img, (size_t)s.file_offset + 1);
  }
  pal_kernel_image_destroy(tmp);
  expect_truncated(img, size - 1);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, g_seed ^ 0x7472756eull);
  for (int i = 0; i < 300; i++) expect_truncated(img, pal_test_rng_below(&rng, (uint32_t)size));
  free(img);
}

/* CRC-32 catches every single-byte change the header checks before it do not. */
static void test_single_byte_corruption(void **state) {
  (void)state;
  uint8_t *img;
  size_t size;
  base_image(&img, &size);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, g_seed ^ 0x666c6970ull);
  for (size_t pos = 0; pos < size; pos++) {
    uint8_t old = img[pos];
    img[pos] = (uint8_t)(old ^ (1u + pal_test_rng_below(&rng, 255)));
    pal_kernel_image_t *image = NULL;
    pal_status_t st = pal_kernel_image_parse(img, size, &image);
    PAL_TEST_CHECK(g_seed, st != PAL_STATUS_OK, "byte %zu changed: accepted", pos);
    if (pos >= PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH + 8)
      PAL_TEST_CHECK(g_seed, pal_status_code(st) == PAL_DATA_LOSS && strstr(pal_status_message(st), "CRC-32 mismatch"),
                     "byte %zu changed: %s", pos, pal_status_message(st));
    pal_status_free(st);
    img[pos] = old;
  }
  free(img);
}

/* Random mutations with the CRC fixed up, so they reach every check: never
 * a crash (the san variant watches), every failure names the image, and
 * every accepted image loads without complaint and never out of bounds. */
static void test_random_mutations(void **state) {
  (void)state;
  uint8_t *base;
  size_t size;
  base_image(&base, &size);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, g_seed ^ 0x6d757461ull);
  pal_tile_config_t dev;
  pal_tile_config_initialize(&dev, 4, 4);
  pal_emu_t *emu = NULL;
  OK(pal_emu_create(&dev, &emu));
  int accepted = 0;
  uint8_t *img = malloc(size);
  for (int iter = 0; iter < 3000; iter++) {
    memcpy(img, base, size);
    int edits = 1 + (int)pal_test_rng_below(&rng, 4);
    for (int e = 0; e < edits; e++) {
      /* mostly the header and the tables, where the structure is */
      size_t span = pal_test_rng_below(&rng, 4) ? 64 + 32 * N_SECTIONS + 64 * N_BINDINGS : size;
      size_t pos = pal_test_rng_below(&rng, (uint32_t)span);
      switch (pal_test_rng_below(&rng, 4)) {
        case 0: img[pos] = (uint8_t)pal_test_rng_u32(&rng); break;
        case 1: img[pos] ^= (uint8_t)(1u << pal_test_rng_below(&rng, 8)); break;
        case 2: img[pos] = 0xFF; break;
        default: img[pos] = 0; break;
      }
    }
    size_t n = size;
    if (pal_test_rng_below(&rng, 8) == 0) n = pal_test_rng_below(&rng, (uint32_t)size + 1);
    if (n >= PAL_KERNEL_IMAGE_HEADER_BYTES && pal_test_rng_below(&rng, 8)) pal_kernel_image_seal(img, n);
    pal_kernel_image_t *image = NULL;
    pal_status_t st = pal_kernel_image_parse_named(img, n, "m.palk", &image);
    if (!st) st = pal_kernel_image_validate(image, &dev);
    if (st) {
      PAL_TEST_CHECK(g_seed, strncmp(pal_status_message(st), "m.palk: ", 8) == 0, "iteration %d: %s", iter,
                     pal_status_message(st));
    } else {
      accepted++;
      pal_status_t ls = pal_kernel_image_load(image, pal_emu_device(emu));
      PAL_TEST_CHECK(g_seed, ls == PAL_STATUS_OK, "iteration %d: validated image failed to load: %s", iter,
                     pal_status_message(ls));
    }
    pal_status_free(st);
    pal_kernel_image_destroy(image);
  }
  /* some mutations are harmless (data bytes, a different bias); they must load */
  PAL_TEST_CHECK(g_seed, accepted > 0, "no mutated image was accepted: the test explores nothing valid");
  free(img);
  pal_emu_destroy(emu);
  free(base);
}

/* ---- builder errors ------------------------------------------------------------ */

static void expect(pal_status_t st, pal_status_code_t code, const char *msg) {
  PAL_TEST_CHECK(g_seed, st && pal_status_code(st) == code && strstr(pal_status_message(st), msg),
                 "want %s \"%s\", got %s", pal_status_code_name(code), msg, st ? pal_status_message(st) : "ok");
  pal_status_free(st);
}

static void test_builder_rejects(void **state) {
  (void)state;
  pal_kernel_image_builder_options_t o;
  pal_kernel_image_builder_options_initialize(&o);
  o.name = "b.palk";
  pal_kernel_image_builder_t *b = NULL;
  OK(pal_kernel_image_builder_create(&o, &b));
  uint8_t data[64] = {0};
  pal_kernel_section_t s = {.kind = 42, .length = 1, .data = data};
  expect(pal_kernel_image_builder_add_section(b, &s), PAL_INVALID_ARGUMENT, "unknown kind 42");
  s.kind = PAL_KERNEL_SECTION_BIAS;
  s.length = 0;
  expect(pal_kernel_image_builder_add_section(b, &s), PAL_INVALID_ARGUMENT, "zero length");
  s.length = 1;
  s.pe = 2;
  expect(pal_kernel_image_builder_add_section(b, &s), PAL_INVALID_ARGUMENT, "only WMEM sections name a PE");
  uint32_t words[3] = {0};
  expect(pal_kernel_image_builder_add_code(b, 0, words, 3), PAL_INVALID_ARGUMENT, "not a whole number of instructions");
  pal_kernel_binding_t bd = binding("", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_FP32, PAL_TILE_REGION_BIAS, 1, 1, 0, 1);
  expect(pal_kernel_image_builder_add_binding(b, &bd), PAL_INVALID_ARGUMENT, "name must be 1..31 bytes");
  /* serialize validates: an empty kernel has no code */
  void *out;
  size_t n;
  expect(pal_kernel_image_builder_serialize(b, &out, &n), PAL_INVALID_ARGUMENT, "b.palk: no CODE section");
  /* and a section beyond the declared geometry */
  pal_asm_program_t prog;
  OK(pal_asm_assemble(kProgram, strlen(kProgram), NULL, &prog));
  OK(pal_kernel_image_builder_add_code(b, 0, prog.words, prog.word_count));
  pal_asm_program_release(&prog);
  s.pe = 0;
  s.index = 1024;
  OK(pal_kernel_image_builder_add_section(b, &s));
  expect(pal_kernel_image_builder_serialize(b, &out, &n), PAL_OUT_OF_RANGE, "section 1 (BIAS): elements 1024..1024");
  pal_kernel_image_builder_destroy(b);
  o.required.rows = 0;
  expect(pal_kernel_image_builder_create(&o, &b), PAL_OUT_OF_RANGE, "b.palk: required geometry: tile config: rows = 0");
}

/* ---- a GEMM kernel end to end on the emulator ----------------------------------- */

static void test_gemm_kernel_on_emulator(void **state) {
  (void)state;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, g_seed ^ 0x67656d6dull);
  const size_t M = 3, K = 96, N = 24, P = 16, kb = 3, nt = 2;
  tt_gen_t ga = {0.3, 0.1, 0.0, 0.0}, gw = {0.2, 0.0, 0.0, 0.0};
  pal_b32_matrix_t A, W;
  tt_random_matrix(g_seed, &rng, M, K, &ga, &A);
  tt_random_matrix(g_seed, &rng, N, K, &gw, &W);
  float bias[32] = {0};
  for (size_t n = 0; n < N; n++) bias[n] = (float)pal_test_rng_gauss(&rng);

  pal_kernel_image_builder_options_t o;
  pal_kernel_image_builder_options_initialize(&o); /* 4x4 */
  o.name = "gemm.palk";
  pal_kernel_image_builder_t *b = NULL;
  OK(pal_kernel_image_builder_create(&o, &b));
  /* code at pc 3..6 with an END at 3 and the entry at 4: running from the
   * wrong PC would stop at once (or trap on the zeros before it) */
  static const char prog_text[] =
      "end\n"
      "gemm a=0 as=3 m=3 k=3 w=0 nt=2 acc=0 init=bias bias=0\n"
      "post acc=0 n=24 m=3 act=relu fmt=fp32 out=0 os=24\n"
      "end\n";
  pal_asm_program_t prog;
  OK(pal_asm_assemble(prog_text, strlen(prog_text), NULL, &prog));
  OK(pal_kernel_image_builder_add_code(b, 3, prog.words, prog.word_count));
  pal_asm_program_release(&prog);
  OK(pal_kernel_image_builder_set_entry(b, 4));
  /* striped weights: PE p holds column n = t*P + p at blocks t*kb + kb' */
  uint8_t *wc = calloc(P * nt * kb * 32, 1), *ws = calloc(P * nt * kb, 1);
  for (size_t p = 0; p < P; p++)
    for (size_t t = 0; t < nt; t++) {
      size_t n = t * P + p;
      if (n >= N) continue;
      memcpy(wc + (p * nt * kb + t * kb) * 32, W.codes + n * kb * 32, kb * 32);
      memcpy(ws + p * nt * kb + t * kb, W.scales + n * kb, kb);
    }
  pal_kernel_section_t s = {.kind = PAL_KERNEL_SECTION_WMEM_CODES, .pe = PAL_KERNEL_IMAGE_ALL_PES, .index = 0,
                            .length = nt * kb * 32, .data = wc};
  OK(pal_kernel_image_builder_add_section(b, &s));
  s = (pal_kernel_section_t){.kind = PAL_KERNEL_SECTION_WMEM_SCALES, .pe = PAL_KERNEL_IMAGE_ALL_PES, .index = 0,
                             .length = nt * kb, .data = ws};
  OK(pal_kernel_image_builder_add_section(b, &s));
  uint8_t bias_le[32 * 4];
  for (size_t n = 0; n < 32; n++) put(bias_le + 4 * n, 4, tt_f2u(bias[n]));
  s = (pal_kernel_section_t){.kind = PAL_KERNEL_SECTION_BIAS, .index = 0, .length = 32, .data = bias_le};
  OK(pal_kernel_image_builder_add_section(b, &s));
  pal_kernel_binding_t bx = binding("x", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_PAL8_B32,
                                    PAL_TILE_REGION_ABUF_CODES, (uint32_t)M, (uint32_t)K, 0, 3);
  pal_kernel_binding_t by = binding("y", PAL_KERNEL_BINDING_OUTPUT, PAL_KERNEL_FORMAT_FP32, PAL_TILE_REGION_OBUF,
                                    (uint32_t)M, (uint32_t)N, 0, 24);
  OK(pal_kernel_image_builder_add_binding(b, &bx));
  OK(pal_kernel_image_builder_add_binding(b, &by));
  void *data;
  size_t size;
  OK(pal_kernel_image_builder_serialize(b, &data, &size));
  pal_kernel_image_builder_destroy(b);
  free(wc);
  free(ws);

  /* the runtime's side: parse, load, bind by name, run from the entry */
  pal_kernel_image_t *img = NULL;
  OK(pal_kernel_image_parse_named(data, size, "gemm.palk", &img));
  free(data);
  pal_emu_t *emu = tt_emu_create(g_seed, 4, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  OK(pal_kernel_image_load(img, dev));
  pal_kernel_binding_t x, y;
  OK(pal_kernel_image_find_binding(img, "x", &x));
  OK(pal_kernel_image_find_binding(img, "y", &y));
  OK(pal_kernel_binding_write_pal8(dev, &x, &A));
  pal_b32_matrix_t back;
  OK(pal_b32_matrix_create(M, K, &back));
  OK(pal_kernel_binding_read_pal8(dev, &x, &back));
  assert_memory_equal(back.codes, A.codes, M * kb * 32);
  assert_memory_equal(back.scales, A.scales, M * kb);
  pal_b32_matrix_release(&back);
  pal_tile_status_t ts;
  OK(pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  OK(pal_tile_device_run(dev, pal_kernel_image_entry_pc(img), PAL_TILE_NO_CYCLE_LIMIT, &ts));
  PAL_TEST_CHECK(g_seed, ts.done && ts.error == 0, "kernel stopped with %s at pc %u", pal_tile_error_name(ts.error),
                 ts.err_pc);
  float *got = malloc(M * N * sizeof *got), *ref = malloc(M * N * sizeof *ref);
  OK(pal_kernel_binding_read_fp32(dev, &y, got));
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  epi.bias = bias;
  epi.bias_mode = PAL_BIAS_START;
  epi.act = PAL_ACT_RELU;
  pal_gemm_ref(&A, &W, &epi, ref, N);
  for (size_t i = 0; i < M * N; i++) {
    uint32_t want = isnan(ref[i]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[i]);
    PAL_TEST_CHECK(g_seed, tt_f2u(got[i]) == want, "y[%zu][%zu]: tile %08x, pal_gemm_ref %08x", i / N, i % N,
                   tt_f2u(got[i]), want);
  }
  /* a binding of the wrong format is refused */
  pal_status_t st = pal_kernel_binding_read_fp32(dev, &x, got);
  assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
  pal_status_free(st);
  free(got);
  free(ref);
  pal_emu_destroy(emu);
  pal_kernel_image_destroy(img);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
}

int main(void) {
  g_seed = pal_test_seed();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32_vector),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_base_image_is_valid),
      cmocka_unit_test(test_malformed_table),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_single_byte_corruption),
      cmocka_unit_test(test_random_mutations),
      cmocka_unit_test(test_builder_rejects),
      cmocka_unit_test(test_gemm_kernel_on_emulator),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
