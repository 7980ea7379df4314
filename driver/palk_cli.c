/* pal-palk: builds kernel images (.palk) from tile assembly and raw data
 * files, dumps them in human-readable form, and checks them against a
 * device geometry (docs/kernel-image.md §7). Exit status: 0 success,
 * 1 invalid input (assembly error, image rejected), 2 usage or file errors. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/kernel_image.h"
#include "pal/tile.h"

enum { EXIT_INVALID = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
  fprintf(f,
          "usage: pal-palk build KERNEL.s -o OUT.palk [geometry options] [--entry PC]\n"
          "                      [--section KIND:PE:INDEX:FILE]... [--binding SPEC]...\n"
          "       pal-palk dump IN.palk\n"
          "       pal-palk check IN.palk [geometry options]\n"
          "\n"
          "geometry options (build: what the kernel requires; check: the device):\n"
          "  --geometry RxC   PE array (default 4x4)\n"
          "  --imem N --abuf N --wmem N --acc N --bias N --obuf N\n"
          "                   buffer sizes (default: docs/isa.md §1 defaults)\n"
          "--section KIND:PE:INDEX:FILE  raw little-endian data for one region:\n"
          "  KIND code | abuf-codes | abuf-scales | wmem-codes | wmem-scales | bias | acc;\n"
          "  PE the PE for wmem-*, or 'all' for P striped slices (PE 0 first), else 0;\n"
          "  INDEX the first element (words for code, bias, acc; bytes otherwise)\n"
          "--binding NAME:DIR:FORMAT:RxC:REGION:INDEX:STRIDE  a named tensor:\n"
          "  DIR in | out; FORMAT fp32 | pal8; REGION abuf | bias | acc | obuf;\n"
          "  INDEX and STRIDE in words (fp32) or ABUF blocks (pal8)\n"
          "exit status: 0 ok, 1 invalid input or image rejected, 2 usage or file error\n");
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end || v > max) return false;
  *out = v;
  return true;
}

static bool parse_u32(const char *s, uint32_t *out) {
  uint64_t v;
  if (!parse_u64(s, UINT32_MAX, &v)) return false;
  *out = (uint32_t)v;
  return true;
}

static bool parse_shape(const char *s, uint32_t *r, uint32_t *c) {
  const char *x = strchr(s, 'x');
  if (!x) return false;
  char buf[32];
  size_t n = (size_t)(x - s);
  if (n == 0 || n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = 0;
  return parse_u32(buf, r) && parse_u32(x + 1, c);
}

static int report(pal_status_t st, int code) {
  fprintf(stderr, "pal-palk: %s\n", pal_status_message(st));
  pal_status_free(st);
  return code;
}

/* Exit status for a failed library call: bad input vs. a file problem. */
static int status_exit(pal_status_t st) {
  pal_status_code_t c = pal_status_code(st);
  return report(st, c == PAL_IO_ERROR || c == PAL_NOT_FOUND ? EXIT_USAGE : EXIT_INVALID);
}

static bool read_whole(const char *path, uint8_t **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "pal-palk: %s: %s\n", path, strerror(errno));
    return false;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (len == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
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
    if (got == 0) break;
  }
  bool err = ferror(f) != 0;
  fclose(f);
  if (!buf || err) {
    fprintf(stderr, "pal-palk: %s: read failed\n", path);
    free(buf);
    return false;
  }
  *out = buf;
  *out_len = len;
  return true;
}

/* Geometry options shared by build and check. Returns 1 if argv[*i] was one
 * (consuming its value), 0 if not, -1 on a bad value. */
static int geometry_option(int argc, char **argv, int *i, pal_tile_config_t *cfg, bool *geometry_given,
                           uint32_t sizes[6], bool sizes_given[6]) {
  static const char *const names[6] = {"--imem", "--abuf", "--wmem", "--acc", "--bias", "--obuf"};
  const char *a = argv[*i];
  if (strcmp(a, "--geometry") == 0) {
    if (*i + 1 >= argc || !parse_shape(argv[*i + 1], &cfg->rows, &cfg->cols) || cfg->rows == 0 ||
        cfg->cols == 0 || cfg->rows > 255 || cfg->cols > 255) {
      fprintf(stderr, "pal-palk: --geometry wants RxC with R, C in 1..255\n");
      return -1;
    }
    *geometry_given = true;
    (*i)++;
    return 1;
  }
  for (int k = 0; k < 6; k++)
    if (strcmp(a, names[k]) == 0) {
      if (*i + 1 >= argc || !parse_u32(argv[*i + 1], &sizes[k])) {
        fprintf(stderr, "pal-palk: %s wants a number\n", names[k]);
        return -1;
      }
      sizes_given[k] = true;
      (*i)++;
      return 1;
    }
  return 0;
}

static void finish_config(pal_tile_config_t *cfg, const uint32_t sizes[6], const bool given[6]) {
  uint32_t r = cfg->rows ? cfg->rows : 4, c = cfg->cols ? cfg->cols : 4;
  pal_tile_config_initialize(cfg, r, c);
  uint32_t *f[6] = {&cfg->imem_depth, &cfg->abuf_blocks, &cfg->wmem_blocks,
                    &cfg->acc_depth,  &cfg->bias_depth,  &cfg->obuf_depth};
  for (int k = 0; k < 6; k++)
    if (given[k]) *f[k] = sizes[k];
}

static const struct {
  const char *name;
  pal_kernel_section_kind_t kind;
} kKinds[] = {
    {"code", PAL_KERNEL_SECTION_CODE},
    {"abuf-codes", PAL_KERNEL_SECTION_ABUF_CODES},
    {"abuf-scales", PAL_KERNEL_SECTION_ABUF_SCALES},
    {"wmem-codes", PAL_KERNEL_SECTION_WMEM_CODES},
    {"wmem-scales", PAL_KERNEL_SECTION_WMEM_SCALES},
    {"bias", PAL_KERNEL_SECTION_BIAS},
    {"acc", PAL_KERNEL_SECTION_ACC},
};

/* Splits s at ':' into at most n fields (in place). Returns the count. */
static int split(char *s, char **fields, int n) {
  int k = 0;
  fields[k++] = s;
  for (char *p = s; *p && k < n; p++)
    if (*p == ':') {
      *p = 0;
      fields[k++] = p + 1;
    }
  return k;
}

static int add_section_arg(pal_kernel_image_builder_t *b, const char *arg, uint32_t pes) {
  char buf[1024];
  if (strlen(arg) >= sizeof buf) {
    fprintf(stderr, "pal-palk: --section argument too long\n");
    return EXIT_USAGE;
  }
  strcpy(buf, arg);
  char *f[4];
  if (split(buf, f, 4) != 4) {
    fprintf(stderr, "pal-palk: --section %s: want KIND:PE:INDEX:FILE\n", arg);
    return EXIT_USAGE;
  }
  pal_kernel_section_t s = {0};
  size_t k;
  for (k = 0; k < sizeof kKinds / sizeof kKinds[0]; k++)
    if (strcmp(f[0], kKinds[k].name) == 0) break;
  if (k == sizeof kKinds / sizeof kKinds[0]) {
    fprintf(stderr, "pal-palk: --section %s: unknown kind '%s'\n", arg, f[0]);
    return EXIT_USAGE;
  }
  s.kind = kKinds[k].kind;
  if (strcmp(f[1], "all") == 0)
    s.pe = PAL_KERNEL_IMAGE_ALL_PES;
  else if (!parse_u32(f[1], &s.pe)) {
    fprintf(stderr, "pal-palk: --section %s: PE '%s' is not a number or 'all'\n", arg, f[1]);
    return EXIT_USAGE;
  }
  if (!parse_u64(f[2], UINT64_MAX, &s.index)) {
    fprintf(stderr, "pal-palk: --section %s: index '%s' is not a number\n", arg, f[2]);
    return EXIT_USAGE;
  }
  uint8_t *data;
  size_t len;
  if (!read_whole(f[3], &data, &len)) return EXIT_USAGE;
  size_t unit = pal_tile_region_element_size(pal_kernel_section_kind_region(s.kind));
  if (s.pe == PAL_KERNEL_IMAGE_ALL_PES) unit *= pes;
  if (len == 0 || len % unit) {
    fprintf(stderr, "pal-palk: %s: %zu bytes is not a non-zero multiple of %zu (%s%s)\n", f[3], len, unit,
            pal_kernel_section_kind_name(s.kind), s.pe == PAL_KERNEL_IMAGE_ALL_PES ? ", striped over all PEs" : "");
    free(data);
    return EXIT_INVALID;
  }
  s.length = len / unit;
  s.data = data;
  pal_status_t st = pal_kernel_image_builder_add_section(b, &s);
  free(data);
  return st ? status_exit(st) : 0;
}

static int add_binding_arg(pal_kernel_image_builder_t *b, const char *arg) {
  char buf[256];
  if (strlen(arg) >= sizeof buf) {
    fprintf(stderr, "pal-palk: --binding argument too long\n");
    return EXIT_USAGE;
  }
  strcpy(buf, arg);
  char *f[7];
  if (split(buf, f, 7) != 7) {
    fprintf(stderr, "pal-palk: --binding %s: want NAME:DIR:FORMAT:RxC:REGION:INDEX:STRIDE\n", arg);
    return EXIT_USAGE;
  }
  pal_kernel_binding_t bd;
  memset(&bd, 0, sizeof bd);
  if (strlen(f[0]) >= sizeof bd.name) {
    fprintf(stderr, "pal-palk: --binding %s: name longer than %zu bytes\n", arg, sizeof bd.name - 1);
    return EXIT_USAGE;
  }
  strcpy(bd.name, f[0]);
  if (strcmp(f[1], "in") == 0)
    bd.direction = PAL_KERNEL_BINDING_INPUT;
  else if (strcmp(f[1], "out") == 0)
    bd.direction = PAL_KERNEL_BINDING_OUTPUT;
  else {
    fprintf(stderr, "pal-palk: --binding %s: direction '%s' (in or out)\n", arg, f[1]);
    return EXIT_USAGE;
  }
  if (strcmp(f[2], "fp32") == 0)
    bd.format = PAL_KERNEL_FORMAT_FP32;
  else if (strcmp(f[2], "pal8") == 0)
    bd.format = PAL_KERNEL_FORMAT_PAL8_B32;
  else {
    fprintf(stderr, "pal-palk: --binding %s: format '%s' (fp32 or pal8)\n", arg, f[2]);
    return EXIT_USAGE;
  }
  if (!parse_shape(f[3], &bd.rows, &bd.cols)) {
    fprintf(stderr, "pal-palk: --binding %s: shape '%s' (RxC)\n", arg, f[3]);
    return EXIT_USAGE;
  }
  if (strcmp(f[4], "abuf") == 0)
    bd.region = PAL_TILE_REGION_ABUF_CODES;
  else if (strcmp(f[4], "bias") == 0)
    bd.region = PAL_TILE_REGION_BIAS;
  else if (strcmp(f[4], "acc") == 0)
    bd.region = PAL_TILE_REGION_ACC;
  else if (strcmp(f[4], "obuf") == 0)
    bd.region = PAL_TILE_REGION_OBUF;
  else {
    fprintf(stderr, "pal-palk: --binding %s: region '%s' (abuf, bias, acc or obuf)\n", arg, f[4]);
    return EXIT_USAGE;
  }
  if (!parse_u32(f[5], &bd.index) || !parse_u32(f[6], &bd.stride)) {
    fprintf(stderr, "pal-palk: --binding %s: index and stride must be numbers\n", arg);
    return EXIT_USAGE;
  }
  pal_status_t st = pal_kernel_image_builder_add_binding(b, &bd);
  return st ? status_exit(st) : 0;
}

static int cmd_build(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  pal_tile_config_t cfg = {0};
  bool geometry_given = false, sizes_given[6] = {0};
  uint32_t sizes[6] = {0}, entry = 0;
  /* First pass: everything but sections and bindings, which need the geometry. */
  for (int i = 2; i < argc; i++) {
    int g = geometry_option(argc, argv, &i, &cfg, &geometry_given, sizes, sizes_given);
    if (g < 0) return EXIT_USAGE;
    if (g) continue;
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else if (strcmp(argv[i], "--entry") == 0 && i + 1 < argc) {
      if (!parse_u32(argv[++i], &entry)) {
        fprintf(stderr, "pal-palk: --entry wants a number\n");
        return EXIT_USAGE;
      }
    } else if ((strcmp(argv[i], "--section") == 0 || strcmp(argv[i], "--binding") == 0) && i + 1 < argc) {
      i++;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "pal-palk build: unknown or incomplete option '%s'\n", argv[i]);
      return EXIT_USAGE;
    } else if (!in) {
      in = argv[i];
    } else {
      fprintf(stderr, "pal-palk build: more than one input ('%s')\n", argv[i]);
      return EXIT_USAGE;
    }
  }
  if (!in || !out) {
    usage(stderr);
    return EXIT_USAGE;
  }
  finish_config(&cfg, sizes, sizes_given);
  uint8_t *text;
  size_t text_len;
  if (!read_whole(in, &text, &text_len)) return EXIT_USAGE;
  pal_asm_options_t ao;
  pal_asm_options_initialize(&ao);
  ao.max_instructions = cfg.imem_depth;
  pal_asm_program_t prog;
  pal_status_t st = pal_asm_assemble((const char *)text, text_len, &ao, &prog);
  free(text);
  if (st) return report(pal_status_annotate(st, "%s", in), EXIT_INVALID);
  pal_kernel_image_builder_options_t bo;
  pal_kernel_image_builder_options_initialize(&bo);
  bo.required = cfg;
  bo.name = out;
  pal_kernel_image_builder_t *b = NULL;
  st = pal_kernel_image_builder_create(&bo, &b);
  if (!st && prog.word_count) st = pal_kernel_image_builder_add_code(b, 0, prog.words, prog.word_count);
  pal_asm_program_release(&prog);
  if (!st) st = pal_kernel_image_builder_set_entry(b, entry);
  int rc = 0;
  if (st) rc = status_exit(st);
  for (int i = 2; i < argc && !rc; i++) {
    if (strcmp(argv[i], "--section") == 0)
      rc = add_section_arg(b, argv[++i], cfg.rows * cfg.cols);
    else if (strcmp(argv[i], "--binding") == 0)
      rc = add_binding_arg(b, argv[++i]);
  }
  if (!rc) {
    st = pal_kernel_image_builder_write_file(b, out);
    if (st) rc = status_exit(st);
  }
  pal_kernel_image_builder_destroy(b);
  return rc;
}

static const char *dir_name(uint32_t d) { return d == PAL_KERNEL_BINDING_INPUT ? "input" : "output"; }

static int cmd_dump(int argc, char **argv) {
  if (argc != 3) {
    usage(stderr);
    return EXIT_USAGE;
  }
  pal_kernel_image_t *img = NULL;
  pal_status_t st = pal_kernel_image_read_file(argv[2], &img);
  if (st) return status_exit(st);
  pal_kernel_image_info_t info;
  pal_kernel_image_get_info(img, &info);
  const pal_tile_config_t *r = &info.required;
  printf("%s: PAL kernel image, format %" PRIu32 ", ISA %" PRIu32 ", %" PRIu64 " bytes, CRC-32 0x%08" PRIx32 " (ok)\n",
         argv[2], info.format_version, info.isa_version, info.total_length, info.crc32);
  printf("requires: %" PRIu32 "x%" PRIu32 " PEs, imem_depth %" PRIu32 ", abuf_blocks %" PRIu32 ", wmem_blocks %" PRIu32
         ", acc_depth %" PRIu32 ", bias_depth %" PRIu32 ", obuf_depth %" PRIu32 "\n",
         r->rows, r->cols, r->imem_depth, r->abuf_blocks, r->wmem_blocks, r->acc_depth, r->bias_depth, r->obuf_depth);
  printf("entry: pc %" PRIu32 "\n", info.entry_pc);
  printf("sections: %" PRIu32 "\n", info.section_count);
  for (size_t i = 0; i < info.section_count; i++) {
    pal_kernel_section_t s;
    pal_kernel_image_section(img, i, &s);
    pal_tile_region_t region = pal_kernel_section_kind_region(s.kind);
    char pe[16] = "";
    if (pal_tile_region_is_per_pe(region)) {
      if (s.pe == PAL_KERNEL_IMAGE_ALL_PES)
        snprintf(pe, sizeof pe, "all PEs");
      else
        snprintf(pe, sizeof pe, "PE %" PRIu32, s.pe);
    }
    printf("  %3zu  %-11s %-8s %-12s index %-8" PRIu64 " length %-8" PRIu64 " file offset %" PRIu64 "\n", i,
           pal_kernel_section_kind_name(s.kind), pe, pal_tile_region_name(region), s.index, s.length, s.file_offset);
  }
  printf("bindings: %" PRIu32 "\n", info.binding_count);
  for (size_t i = 0; i < info.binding_count; i++) {
    pal_kernel_binding_t b;
    pal_kernel_image_binding(img, i, &b);
    bool pal8 = b.format == PAL_KERNEL_FORMAT_PAL8_B32;
    printf("  %3zu  %-16s %-6s %-8s %" PRIu32 "x%" PRIu32 "  %s %s %" PRIu32 ", stride %" PRIu32 "\n", i, b.name,
           dir_name(b.direction), pal8 ? "PAL8-B32" : "FP32", b.rows, b.cols,
           pal8 ? "ABUF" : pal_tile_region_name(b.region), pal8 ? "block" : "word", b.index, b.stride);
  }
  for (size_t i = 0; i < info.section_count; i++) {
    pal_kernel_section_t s;
    pal_kernel_image_section(img, i, &s);
    if (s.kind != PAL_KERNEL_SECTION_CODE) continue;
    printf("code of section %zu (pc %" PRIu64 "..%" PRIu64 "):\n", i, s.index / 4, (s.index + s.length) / 4 - 1);
    uint32_t *w = malloc((size_t)s.length * sizeof *w);
    if (!w) break;
    const uint8_t *d = s.data;
    for (uint64_t k = 0; k < s.length; k++)
      w[k] = (uint32_t)d[4 * k] | (uint32_t)d[4 * k + 1] << 8 | (uint32_t)d[4 * k + 2] << 16 |
             (uint32_t)d[4 * k + 3] << 24;
    char *text = NULL;
    pal_disasm_options_t dopt;
    pal_disasm_options_initialize(&dopt);
    st = pal_asm_disassemble(w, (size_t)s.length, &dopt, &text);
    free(w);
    if (st) {
      pal_status_free(st);
      continue;
    }
    /* prefix each line with its pc */
    uint64_t pc = s.index / 4;
    for (char *line = text; *line;) {
      char *nl = strchr(line, '\n');
      size_t n = nl ? (size_t)(nl - line) : strlen(line);
      printf("  %5" PRIu64 "  %.*s\n", pc++, (int)n, line);
      line += n + (nl ? 1 : 0);
    }
    pal_asm_text_release(text);
  }
  st = pal_kernel_image_validate(img, NULL);
  if (st)
    printf("validation against its own requirements: FAILED: %s\n", pal_status_message(st));
  else
    printf("validation against its own requirements: ok\n");
  int rc = st ? EXIT_INVALID : 0;
  pal_status_free(st);
  pal_kernel_image_destroy(img);
  return rc;
}

static int cmd_check(int argc, char **argv) {
  const char *in = NULL;
  pal_tile_config_t cfg = {0};
  bool geometry_given = false, sizes_given[6] = {0};
  uint32_t sizes[6] = {0};
  for (int i = 2; i < argc; i++) {
    int g = geometry_option(argc, argv, &i, &cfg, &geometry_given, sizes, sizes_given);
    if (g < 0) return EXIT_USAGE;
    if (g) continue;
    if (argv[i][0] == '-' || in) {
      usage(stderr);
      return EXIT_USAGE;
    }
    in = argv[i];
  }
  if (!in) {
    usage(stderr);
    return EXIT_USAGE;
  }
  finish_config(&cfg, sizes, sizes_given);
  pal_kernel_image_t *img = NULL;
  pal_status_t st = pal_kernel_image_read_file(in, &img);
  if (st) return status_exit(st);
  st = pal_kernel_image_validate(img, &cfg);
  pal_kernel_image_destroy(img);
  if (st) return report(st, EXIT_INVALID);
  printf("%s: ok for a %" PRIu32 "x%" PRIu32 " device (imem_depth %" PRIu32 ", abuf_blocks %" PRIu32
         ", wmem_blocks %" PRIu32 ", acc_depth %" PRIu32 ", bias_depth %" PRIu32 ", obuf_depth %" PRIu32 ")\n",
         in, cfg.rows, cfg.cols, cfg.imem_depth, cfg.abuf_blocks, cfg.wmem_blocks, cfg.acc_depth, cfg.bias_depth,
         cfg.obuf_depth);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "build") == 0) return cmd_build(argc, argv);
  if (strcmp(argv[1], "dump") == 0) return cmd_dump(argc, argv);
  if (strcmp(argv[1], "check") == 0) return cmd_check(argc, argv);
  fprintf(stderr, "pal-palk: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return EXIT_USAGE;
}
