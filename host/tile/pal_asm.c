/* Assembler and disassembler for the text form of Tile ISA v1 (docs/isa.md
 * §5 and §7). Both read the field table of pal_isa.c, so a field added
 * there is assembled and printed without touching this file (apart from
 * symbolic value names). asm(disasm(words)) == words for every input. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pal/tile.h"

/* ---- symbolic values ------------------------------------------------------- */

typedef struct symbol {
  const char *field; /* assembler field name */
  const char *name;
  uint32_t value;
} symbol_t;

static const symbol_t kSymbols[] = {
    {"init", "zero", PAL_ISA_INIT_ZERO}, {"init", "bias", PAL_ISA_INIT_BIAS},
    {"init", "acc", PAL_ISA_INIT_ACC},   {"act", "none", PAL_ISA_ACT_NONE},
    {"act", "relu", PAL_ISA_ACT_RELU},   {"act", "clip", PAL_ISA_ACT_CLIP},
    {"fmt", "fp32", PAL_ISA_OUT_FP32},   {"fmt", "pal8", PAL_ISA_OUT_PAL8},
    {"reg", "clip_lo", PAL_ISA_SETR_CLIP_LO}, {"reg", "clip_hi", PAL_ISA_SETR_CLIP_HI},
};
#define N_SYMBOLS (sizeof kSymbols / sizeof kSymbols[0])

static const char *symbol_name(const char *field, uint32_t value) {
  for (size_t i = 0; i < N_SYMBOLS; i++)
    if (!strcmp(kSymbols[i].field, field) && kSymbols[i].value == value) return kSymbols[i].name;
  return NULL;
}

static size_t symbol_count(const char *field) {
  size_t n = 0;
  for (size_t i = 0; i < N_SYMBOLS; i++) n += !strcmp(kSymbols[i].field, field);
  return n;
}

static bool field_has_symbols(const char *field) { return symbol_count(field) != 0; }

static inline uint32_t field_mask(unsigned bits) {
  return bits >= 32 ? 0xFFFFFFFFu : ((1u << bits) - 1u);
}

/* ---- growable text buffer ------------------------------------------------------- */

typedef struct strbuf {
  char *data;
  size_t len, cap;
  bool failed;
} strbuf_t;

static void sb_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf_t *sb, const char *fmt, ...) {
  if (sb->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = sb->cap - sb->len;
    int n = vsnprintf(sb->data ? sb->data + sb->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      sb->failed = true;
      return;
    }
    if ((size_t)n < room) {
      sb->len += (size_t)n;
      return;
    }
    size_t cap = sb->cap ? sb->cap * 2 : 256;
    while (cap - sb->len <= (size_t)n) cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
      sb->failed = true;
      return;
    }
    sb->data = p;
    sb->cap = cap;
  }
}

/* ---- assembler ---------------------------------------------------------------------- */

typedef struct parser {
  const char *text;
  size_t length;
  size_t pos;        /* current byte */
  size_t line_start; /* byte offset of the current line */
  unsigned line;
} parser_t;

static unsigned column_of(const parser_t *ps, size_t pos) { return (unsigned)(pos - ps->line_start) + 1; }

static pal_status_t syntax_error(const parser_t *ps, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pal_status_t syntax_error(const parser_t *ps, size_t pos, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return pal_status_make(PAL_INVALID_ARGUMENT, "line %u, column %u: %s", ps->line,
                         column_of(ps, pos), msg);
}

static bool at_end_of_line(const parser_t *ps) {
  return ps->pos >= ps->length || ps->text[ps->pos] == '\n' || ps->text[ps->pos] == '#' ||
         ps->text[ps->pos] == ';';
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static void skip_blanks(parser_t *ps) {
  while (ps->pos < ps->length && is_blank(ps->text[ps->pos])) ps->pos++;
}

/* A token: everything up to a blank, a comment or the end of the line. */
static size_t token_end(const parser_t *ps, size_t from) {
  size_t e = from;
  while (e < ps->length) {
    char c = ps->text[e];
    if (is_blank(c) || c == '\n' || c == '#' || c == ';') break;
    e++;
  }
  return e;
}

/* Unsigned decimal or 0x hex, whole token; *too_big when it exceeds 2^32 - 1. */
static bool parse_uint(const char *s, size_t n, uint64_t *out, bool *too_big) {
  *too_big = false;
  if (n == 0) return false;
  uint64_t v = 0;
  size_t i = 0;
  unsigned base = 10;
  if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  for (; i < n; i++) {
    int d;
    char c = s[i];
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    if (v > 0xFFFFFFFFull) {
      *too_big = true; /* keep scanning: a later bad digit is still a syntax error */
      continue;
    }
    v = v * base + (unsigned)d;
  }
  if (v > 0xFFFFFFFFull) *too_big = true;
  *out = v;
  return true;
}

static const pal_isa_field_t *lookup_field(uint32_t opcode, const char *name, size_t n) {
  size_t count;
  const pal_isa_field_t *fields = pal_isa_fields(&count);
  for (size_t i = 0; i < count; i++)
    if (fields[i].opcode == opcode && strlen(fields[i].name) == n &&
        !strncasecmp(fields[i].name, name, n))
      return &fields[i];
  return NULL;
}

static void list_fields(uint32_t opcode, char *out, size_t size) {
  size_t count, len = 0;
  const pal_isa_field_t *fields = pal_isa_fields(&count);
  out[0] = 0;
  for (size_t i = 0; i < count && len < size; i++)
    if (fields[i].opcode == opcode)
      len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", fields[i].name);
  if (len == 0) snprintf(out, size, "none");
}

static void list_symbols(const char *field, char *out, size_t size) {
  size_t len = 0;
  out[0] = 0;
  for (size_t i = 0; i < N_SYMBOLS && len < size; i++)
    if (!strcmp(kSymbols[i].field, field))
      len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", kSymbols[i].name);
}

/* SETR value: 0x... is the raw bit pattern, anything else a decimal number
 * rounded to FP32 ("1.5", "-2", "1e-3", "inf"). */
static pal_status_t parse_fp32_value(const parser_t *ps, size_t pos, const char *tok, size_t n,
                                     uint32_t *out) {
  uint64_t v;
  bool too_big;
  if (n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
    if (!parse_uint(tok, n, &v, &too_big))
      return syntax_error(ps, pos, "field 'value': '%.*s' is not a hex bit pattern", (int)n, tok);
    if (too_big)
      return syntax_error(ps, pos, "field 'value': %.*s does not fit in 32 bits", (int)n, tok);
    *out = (uint32_t)v;
    return PAL_STATUS_OK;
  }
  char buf[64];
  if (n >= sizeof buf)
    return syntax_error(ps, pos, "field 'value': '%.*s...' is too long for a number", 20, tok);
  memcpy(buf, tok, n);
  buf[n] = 0;
  const char *digits = buf + (buf[0] == '-' || buf[0] == '+');
  if (!strncasecmp(digits, "nan", 3) || !strncasecmp(digits, "0x", 2))
    return syntax_error(ps, pos,
                        "field 'value': '%s' is not allowed; write a NaN or a hex float as its "
                        "bit pattern 0x........",
                        buf);
  errno = 0;
  char *end;
  float f = strtof(buf, &end);
  if (end == buf || *end)
    return syntax_error(ps, pos, "field 'value': '%s' is neither a number nor 0x bits", buf);
  bool inf_literal = !strncasecmp(digits, "inf", 3);
  if (isinf(f) && !inf_literal)
    return syntax_error(ps, pos, "field 'value': %s is too large for FP32", buf);
  memcpy(out, &f, sizeof *out);
  return PAL_STATUS_OK;
}

/* One field "name=value" at ps->pos; stores into *instr, marks *seen. */
static pal_status_t parse_field(parser_t *ps, uint32_t opcode, const char *mnemonic,
                                pal_isa_instr_t *instr, uint32_t *seen) {
  size_t start = ps->pos, end = token_end(ps, start);
  const char *tok = ps->text + start;
  size_t n = end - start;
  const char *eq = memchr(tok, '=', n);
  size_t name_len = eq ? (size_t)(eq - tok) : n;
  if (name_len == 0) return syntax_error(ps, start, "missing field name before '='");
  for (size_t i = 0; i < name_len; i++)
    if (!isalnum((unsigned char)tok[i]) && tok[i] != '_')
      return syntax_error(ps, start, "'%.*s' is not a field name", (int)name_len, tok);
  const pal_isa_field_t *f = lookup_field(opcode, tok, name_len);
  if (!f) {
    char fields[200];
    list_fields(opcode, fields, sizeof fields);
    return syntax_error(ps, start, "unknown field '%.*s' for %s (its fields: %s)", (int)name_len,
                        tok, mnemonic, fields);
  }
  if (!eq)
    return syntax_error(ps, start, "field '%s': missing '=value' (write %s=VALUE, no spaces)",
                        f->name, f->name);
  size_t vpos = start + name_len + 1;
  const char *val = tok + name_len + 1;
  size_t vn = end - vpos;
  if (vn == 0) return syntax_error(ps, vpos, "field '%s': missing value after '='", f->name);
  size_t count;
  const pal_isa_field_t *fields = pal_isa_fields(&count);
  uint32_t bit = 1u << (uint32_t)(f - fields);
  if (*seen & bit) return syntax_error(ps, start, "field '%s' is given twice", f->name);
  *seen |= bit;

  uint32_t value = 0;
  bool done = false;
  if (!strcmp(f->name, "value") && opcode == PAL_ISA_OP_SETR) {
    PAL_RETURN_IF_ERROR(parse_fp32_value(ps, vpos, val, vn, &value));
    done = true;
  } else if (field_has_symbols(f->name)) {
    for (size_t i = 0; i < N_SYMBOLS; i++)
      if (!strcmp(kSymbols[i].field, f->name) && strlen(kSymbols[i].name) == vn &&
          !strncasecmp(kSymbols[i].name, val, vn)) {
        value = kSymbols[i].value;
        done = true;
      }
  }
  if (!done) {
    uint64_t v;
    bool too_big;
    if (!parse_uint(val, vn, &v, &too_big)) {
      if (field_has_symbols(f->name)) {
        char names[120];
        list_symbols(f->name, names, sizeof names);
        return syntax_error(ps, vpos, "field '%s': '%.*s' is not one of %s or a number", f->name,
                            (int)vn, val, names);
      }
      return syntax_error(ps, vpos, "field '%s': '%.*s' is not an unsigned number", f->name,
                          (int)vn, val);
    }
    if (too_big || (v & ~(uint64_t)field_mask(f->bits)))
      return syntax_error(ps, vpos, "field '%s': value %.*s does not fit in %u bits (max %u)",
                          f->name, (int)vn, val, (unsigned)f->bits, (unsigned)field_mask(f->bits));
    value = (uint32_t)v;
    if (field_has_symbols(f->name) && !symbol_name(f->name, value)) {
      char names[120];
      list_symbols(f->name, names, sizeof names);
      return syntax_error(ps, vpos, "field '%s': %u is not a valid value (%s: 0..%u)", f->name,
                          (unsigned)value, names, (unsigned)symbol_count(f->name) - 1);
    }
  }
  *(uint32_t *)((char *)instr + f->offset) = value;
  ps->pos = end;
  return PAL_STATUS_OK;
}

static pal_status_t parse_inst_directive(parser_t *ps, size_t dpos, uint32_t words[4]) {
  unsigned n = 0;
  for (;;) {
    skip_blanks(ps);
    if (at_end_of_line(ps)) break;
    size_t start = ps->pos, end = token_end(ps, start);
    if (n == 4) return syntax_error(ps, start, "'.inst' takes 4 words; found more");
    uint64_t v;
    bool too_big;
    if (!parse_uint(ps->text + start, end - start, &v, &too_big))
      return syntax_error(ps, start, "'.inst' word %u: '%.*s' is not an unsigned number", n,
                          (int)(end - start), ps->text + start);
    if (too_big)
      return syntax_error(ps, start, "'.inst' word %u: value %.*s does not fit in 32 bits", n,
                          (int)(end - start), ps->text + start);
    words[n++] = (uint32_t)v;
    ps->pos = end;
  }
  if (n != 4) return syntax_error(ps, dpos, "'.inst' takes 4 words; found %u", n);
  return PAL_STATUS_OK;
}

/* Parses the line at ps->pos; *out_has_instr is false for blank lines. */
static pal_status_t parse_line(parser_t *ps, uint32_t words[4], bool *out_has_instr) {
  *out_has_instr = false;
  skip_blanks(ps);
  if (at_end_of_line(ps)) return PAL_STATUS_OK;
  size_t mpos = ps->pos, mend = token_end(ps, mpos);
  const char *m = ps->text + mpos;
  size_t mn = mend - mpos;
  ps->pos = mend;
  if (mn == 5 && !strncasecmp(m, ".inst", 5)) {
    PAL_RETURN_IF_ERROR(parse_inst_directive(ps, mpos, words));
    *out_has_instr = true;
    return PAL_STATUS_OK;
  }
  static const pal_isa_opcode_t kOps[] = {PAL_ISA_OP_GEMM, PAL_ISA_OP_POST, PAL_ISA_OP_SETR,
                                          PAL_ISA_OP_SYNC, PAL_ISA_OP_END};
  uint32_t opcode = PAL_ISA_OP_ILLEGAL;
  for (size_t i = 0; i < sizeof kOps / sizeof kOps[0]; i++) {
    const char *name = pal_isa_opcode_name(kOps[i]);
    if (strlen(name) == mn && !strncasecmp(name, m, mn)) opcode = kOps[i];
  }
  if (opcode == PAL_ISA_OP_ILLEGAL)
    return syntax_error(ps, mpos,
                        "unknown mnemonic '%.*s' (expected gemm, post, setr, sync, end or .inst)",
                        (int)mn, m);
  const char *mnemonic = pal_isa_opcode_name(opcode);
  pal_isa_instr_t instr;
  pal_isa_instr_initialize(&instr, (pal_isa_opcode_t)opcode);
  uint32_t seen = 0;
  for (;;) {
    skip_blanks(ps);
    if (at_end_of_line(ps)) break;
    PAL_RETURN_IF_ERROR(parse_field(ps, opcode, mnemonic, &instr, &seen));
  }
  pal_status_t st = pal_isa_encode(&instr, words);
  if (st) {
    pal_status_t err = syntax_error(ps, mpos, "%s", pal_status_message(st));
    pal_status_free(st);
    return err;
  }
  *out_has_instr = true;
  return PAL_STATUS_OK;
}

void pal_asm_options_initialize(pal_asm_options_t *options) {
  memset(options, 0, sizeof *options);
}

void pal_asm_program_release(pal_asm_program_t *program) {
  if (!program) return;
  free(program->words);
  program->words = NULL;
  program->word_count = 0;
}

pal_status_t pal_asm_assemble(const char *text, size_t length, const pal_asm_options_t *options,
                              pal_asm_program_t *out_program) {
  out_program->words = NULL;
  out_program->word_count = 0;
  if (!text && length) return pal_status_make(PAL_INVALID_ARGUMENT, "assemble: NULL text");
  pal_asm_options_t defaults;
  if (!options) {
    pal_asm_options_initialize(&defaults);
    options = &defaults;
  }
  parser_t ps = {text, length, 0, 0, 1};
  uint32_t *words = NULL;
  size_t count = 0, cap = 0;
  pal_status_t st = PAL_STATUS_OK;
  while (ps.pos < length) {
    const char *nul = memchr(text + ps.pos, 0, length - ps.pos);
    const char *nl = memchr(text + ps.pos, '\n', length - ps.pos);
    if (nul && (!nl || nul < nl)) {
      st = syntax_error(&ps, (size_t)(nul - text), "NUL byte in the text");
      break;
    }
    uint32_t w[4];
    bool has;
    st = parse_line(&ps, w, &has);
    if (st) break;
    /* the rest of the line is a comment or nothing */
    while (ps.pos < length && text[ps.pos] != '\n') ps.pos++;
    if (has) {
      if (options->max_instructions && count / 4 >= options->max_instructions) {
        st = pal_status_make(PAL_OUT_OF_RANGE,
                             "line %u: instruction %zu does not fit in %u instructions of IMEM",
                             ps.line, count / 4, (unsigned)options->max_instructions);
        break;
      }
      if (count + 4 > cap) {
        size_t ncap = cap ? cap * 2 : 64;
        uint32_t *p = realloc(words, ncap * sizeof *p);
        if (!p) {
          st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "assemble: out of memory at line %u",
                               ps.line);
          break;
        }
        words = p;
        cap = ncap;
      }
      memcpy(words + count, w, sizeof w);
      count += 4;
    }
    if (ps.pos < length) { /* newline */
      ps.pos++;
      ps.line++;
      ps.line_start = ps.pos;
    }
  }
  if (st) {
    free(words);
    return st;
  }
  out_program->words = words;
  out_program->word_count = count;
  return PAL_STATUS_OK;
}

/* ---- disassembler ------------------------------------------------------------ */

void pal_disasm_options_initialize(pal_disasm_options_t *options) {
  memset(options, 0, sizeof *options);
}

void pal_asm_text_release(char *text) { free(text); }

/* Whether the disassembler prints field f of instr: every field, except the
 * bias fields when they are unused and zero (so §5's example reads as
 * written there). */
static bool field_printed(const pal_isa_field_t *f, const pal_isa_instr_t *in) {
  if (in->opcode == PAL_ISA_OP_GEMM && !strcmp(f->name, "bias"))
    return in->init == PAL_ISA_INIT_BIAS || in->bias_base != 0;
  if (in->opcode == PAL_ISA_OP_POST && (!strcmp(f->name, "bias") || !strcmp(f->name, "bp")))
    return in->bias_post || in->bias_base != 0;
  return true;
}

static void disasm_one(strbuf_t *sb, const uint32_t w[4], size_t pc, const pal_disasm_options_t *o) {
  pal_isa_instr_t in;
  char comment[160] = "";
  if (pal_isa_decode_check(w, &in) != PAL_TILE_ERR_NONE) {
    sb_printf(sb, ".inst 0x%08x 0x%08x 0x%08x 0x%08x", (unsigned)w[0], (unsigned)w[1],
              (unsigned)w[2], (unsigned)w[3]);
    pal_status_t st = pal_isa_decode(w, &in);
    const char *msg = pal_status_message(st);
    const char *why = strstr(msg, ": "); /* drop the "decoding <words>" prefix */
    snprintf(comment, sizeof comment, "%s", why ? why + 2 : msg);
    pal_status_free(st);
  } else {
    const char *mn = pal_isa_opcode_name(in.opcode);
    size_t count;
    const pal_isa_field_t *fields = pal_isa_fields(&count);
    bool any = false;
    for (size_t i = 0; i < count; i++) {
      const pal_isa_field_t *f = &fields[i];
      if (f->opcode != in.opcode || !field_printed(f, &in)) continue;
      uint32_t v = *(const uint32_t *)((const char *)&in + f->offset);
      if (any)
        sb_printf(sb, " ");
      else
        sb_printf(sb, "%-5s ", mn);
      any = true;
      const char *sym = symbol_name(f->name, v);
      if (in.opcode == PAL_ISA_OP_SETR && !strcmp(f->name, "value")) {
        float fv;
        memcpy(&fv, &v, sizeof fv);
        sb_printf(sb, "%s=0x%08x", f->name, (unsigned)v);
        snprintf(comment, sizeof comment, "%.9g", (double)fv);
      } else if (sym) {
        sb_printf(sb, "%s=%s", f->name, sym);
      } else {
        sb_printf(sb, "%s=%u", f->name, (unsigned)v);
      }
    }
    if (!any) sb_printf(sb, "%s", mn);
  }
  if (o->pc_comments)
    sb_printf(sb, "  # pc %zu%s%s", pc, comment[0] ? ": " : "", comment);
  else if (comment[0])
    sb_printf(sb, "  # %s", comment);
  sb_printf(sb, "\n");
}

pal_status_t pal_asm_disassemble(const uint32_t *words, size_t n_words,
                                 const pal_disasm_options_t *options, char **out_text) {
  *out_text = NULL;
  if (n_words % PAL_ISA_INSTR_WORDS)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "disassemble: %zu words is not a whole number of 4-word instructions",
                           n_words);
  if (n_words && !words) return pal_status_make(PAL_INVALID_ARGUMENT, "disassemble: NULL words");
  pal_disasm_options_t defaults;
  if (!options) {
    pal_disasm_options_initialize(&defaults);
    options = &defaults;
  }
  strbuf_t sb = {0};
  sb_printf(&sb, "%s", "");
  for (size_t i = 0; i < n_words; i += PAL_ISA_INSTR_WORDS)
    disasm_one(&sb, words + i, i / PAL_ISA_INSTR_WORDS, options);
  if (sb.failed) {
    free(sb.data);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "disassemble: out of memory");
  }
  *out_text = sb.data;
  return PAL_STATUS_OK;
}
