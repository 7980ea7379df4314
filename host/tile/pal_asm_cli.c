/* pal-asm: command-line assembler and disassembler for Tile ISA v1
 * (docs/isa.md §7). Binary files are the instruction words, little-endian,
 * 16 bytes per instruction: what gets written to IMEM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/tile.h"

enum { EXIT_OK = 0, EXIT_BAD_INPUT = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
  fprintf(f,
          "usage: pal-asm asm IN.s -o OUT.bin [--imem-depth N]\n"
          "       pal-asm disasm IN.bin [-o OUT.s] [--pc]\n"
          "       pal-asm --help\n"
          "\n"
          "Assembles the text form of the PAL tile ISA v1 (docs/isa.md section 7)\n"
          "into instruction words, or prints words back as text. Binary files hold\n"
          "the words little-endian, 16 bytes per instruction. IN may be '-' for\n"
          "standard input; disasm writes to standard output unless -o is given.\n"
          "\n"
          "options:\n"
          "  -o FILE           output file ('-' for standard output)\n"
          "  --imem-depth N    asm: fail when the program has more than N instructions\n"
          "  --pc              disasm: end each line with a '# pc N' comment\n"
          "  -h, --help        this text\n"
          "\n"
          "exit status:\n"
          "  0  success\n"
          "  1  invalid input: an assembly error (the message names line, column and\n"
          "     field) or a binary that is not a whole number of instructions\n"
          "  2  usage error or a file that cannot be read or written\n");
}

/* Reads a whole file ('-' = stdin); NULL with errno-style message on failure. */
static char *read_file(const char *path, size_t *out_len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (len == cap) {
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f)) {
        free(buf);
        buf = NULL;
      }
      break;
    }
  }
  if (f != stdin) fclose(f);
  *out_len = len;
  return buf;
}

static int write_file(const char *path, const void *data, size_t len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
  if (!f) {
    fprintf(stderr, "pal-asm: cannot open %s: %s\n", path, strerror(errno));
    return EXIT_USAGE;
  }
  size_t n = fwrite(data, 1, len, f);
  int bad = n != len;
  if (f != stdout)
    bad |= fclose(f) != 0;
  else
    bad |= fflush(f) != 0;
  if (bad) {
    fprintf(stderr, "pal-asm: cannot write %s: %s\n", path, strerror(errno));
    return EXIT_USAGE;
  }
  return EXIT_OK;
}

static int do_asm(const char *in, const char *out, unsigned long imem_depth) {
  size_t len;
  char *text = read_file(in, &len);
  if (!text) {
    fprintf(stderr, "pal-asm: cannot read %s: %s\n", in, strerror(errno));
    return EXIT_USAGE;
  }
  pal_asm_options_t opt;
  pal_asm_options_initialize(&opt);
  opt.max_instructions = (uint32_t)imem_depth;
  pal_asm_program_t prog;
  pal_status_t st = pal_asm_assemble(text, len, &opt, &prog);
  free(text);
  if (st) {
    fprintf(stderr, "%s: %s\n", in, pal_status_message(st));
    pal_status_free(st);
    return EXIT_BAD_INPUT;
  }
  size_t nbytes = prog.word_count * 4;
  unsigned char *bytes = malloc(nbytes ? nbytes : 1);
  if (!bytes) {
    pal_asm_program_release(&prog);
    fprintf(stderr, "pal-asm: out of memory\n");
    return EXIT_USAGE;
  }
  for (size_t i = 0; i < prog.word_count; i++)
    for (unsigned b = 0; b < 4; b++) bytes[4 * i + b] = (unsigned char)(prog.words[i] >> (8 * b));
  pal_asm_program_release(&prog);
  int rc = write_file(out, bytes, nbytes);
  free(bytes);
  return rc;
}

static int do_disasm(const char *in, const char *out, int pc_comments) {
  size_t len;
  char *data = read_file(in, &len);
  if (!data) {
    fprintf(stderr, "pal-asm: cannot read %s: %s\n", in, strerror(errno));
    return EXIT_USAGE;
  }
  if (len % PAL_ISA_INSTR_BYTES) {
    fprintf(stderr, "%s: %zu bytes is not a whole number of %u-byte instructions\n", in, len,
            PAL_ISA_INSTR_BYTES);
    free(data);
    return EXIT_BAD_INPUT;
  }
  size_t n = len / 4;
  uint32_t *words = malloc(n ? n * sizeof *words : 1);
  if (!words) {
    free(data);
    fprintf(stderr, "pal-asm: out of memory\n");
    return EXIT_USAGE;
  }
  const unsigned char *b = (const unsigned char *)data;
  for (size_t i = 0; i < n; i++)
    words[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
  free(data);
  pal_disasm_options_t opt;
  pal_disasm_options_initialize(&opt);
  opt.pc_comments = pc_comments != 0;
  char *text;
  pal_status_t st = pal_asm_disassemble(words, n, &opt, &text);
  free(words);
  if (st) {
    fprintf(stderr, "%s: %s\n", in, pal_status_message(st));
    pal_status_free(st);
    return EXIT_BAD_INPUT;
  }
  int rc = write_file(out, text, strlen(text));
  pal_asm_text_release(text);
  return rc;
}

int main(int argc, char **argv) {
  const char *cmd = NULL, *in = NULL, *out = NULL;
  unsigned long imem_depth = 0;
  int pc_comments = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return EXIT_OK;
    } else if (!strcmp(a, "-o")) {
      if (++i >= argc) {
        fprintf(stderr, "pal-asm: -o needs a file name\n");
        return EXIT_USAGE;
      }
      out = argv[i];
    } else if (!strcmp(a, "--imem-depth")) {
      char *end;
      if (++i >= argc || (errno = 0, imem_depth = strtoul(argv[i], &end, 0), *end) ||
          imem_depth == 0 || imem_depth > 65535) {
        fprintf(stderr, "pal-asm: --imem-depth needs a number 1..65535\n");
        return EXIT_USAGE;
      }
    } else if (!strcmp(a, "--pc")) {
      pc_comments = 1;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "pal-asm: unknown option %s (see --help)\n", a);
      return EXIT_USAGE;
    } else if (!cmd) {
      cmd = a;
    } else if (!in) {
      in = a;
    } else {
      fprintf(stderr, "pal-asm: unexpected argument %s (see --help)\n", a);
      return EXIT_USAGE;
    }
  }
  if (!cmd || !in) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(cmd, "asm")) {
    if (!out) {
      fprintf(stderr, "pal-asm asm: -o OUT.bin is required\n");
      return EXIT_USAGE;
    }
    if (pc_comments) {
      fprintf(stderr, "pal-asm asm: --pc is a disasm option\n");
      return EXIT_USAGE;
    }
    return do_asm(in, out, imem_depth);
  }
  if (!strcmp(cmd, "disasm")) {
    if (imem_depth) {
      fprintf(stderr, "pal-asm disasm: --imem-depth is an asm option\n");
      return EXIT_USAGE;
    }
    return do_disasm(in, out ? out : "-", pc_comments);
  }
  fprintf(stderr, "pal-asm: unknown command '%s' (asm or disasm; see --help)\n", cmd);
  return EXIT_USAGE;
}
