/* Tile ISA v1 encoding (docs/isa.md §2-§3): the field table every other
 * part reads (encoder, decoder, assembler, disassembler, the Verilog header
 * generator), and the decode-time checks ILLEGAL_OPCODE and BAD_FIELD. */
#include <stdio.h>
#include <string.h>

#include "pal/tile.h"

#define FIELD(op, name, member, word, lsb, bits) \
  { op, name, #member, word, lsb, bits, offsetof(pal_isa_instr_t, member) }

/* Per opcode in the disassembler's order (docs/isa.md §5 and §7). */
static const pal_isa_field_t kFields[] = {
    FIELD(PAL_ISA_OP_GEMM, "a", a_base, 1, 0, 16),
    FIELD(PAL_ISA_OP_GEMM, "as", a_stride, 1, 16, 16),
    FIELD(PAL_ISA_OP_GEMM, "m", m_count, 2, 0, 16),
    FIELD(PAL_ISA_OP_GEMM, "k", k_blocks, 2, 16, 16),
    FIELD(PAL_ISA_OP_GEMM, "w", w_base, 3, 0, 16),
    FIELD(PAL_ISA_OP_GEMM, "nt", n_tiles, 0, 16, 8),
    FIELD(PAL_ISA_OP_GEMM, "acc", acc_base, 3, 16, 16),
    FIELD(PAL_ISA_OP_GEMM, "init", init, 0, 24, 2),
    FIELD(PAL_ISA_OP_GEMM, "bias", bias_base, 0, 0, 16),
    FIELD(PAL_ISA_OP_POST, "acc", acc_base, 1, 0, 16),
    FIELD(PAL_ISA_OP_POST, "n", n_count, 1, 16, 16),
    FIELD(PAL_ISA_OP_POST, "m", m_count, 2, 0, 16),
    FIELD(PAL_ISA_OP_POST, "act", act, 0, 22, 2),
    FIELD(PAL_ISA_OP_POST, "fmt", out_fmt, 0, 24, 2),
    FIELD(PAL_ISA_OP_POST, "out", out_base, 3, 0, 16),
    FIELD(PAL_ISA_OP_POST, "os", out_stride, 2, 16, 16),
    FIELD(PAL_ISA_OP_POST, "bias", bias_base, 0, 0, 16),
    FIELD(PAL_ISA_OP_POST, "bp", bias_post, 0, 21, 1),
    FIELD(PAL_ISA_OP_SETR, "reg", reg, 0, 0, 8),
    FIELD(PAL_ISA_OP_SETR, "value", value, 1, 0, 32),
};
#define N_FIELDS (sizeof kFields / sizeof kFields[0])

/* Every member of pal_isa_instr_t, to find non-zero fields an opcode lacks. */
static const struct {
  const char *name;
  size_t offset;
} kMembers[] = {
#define MEMBER(m) {#m, offsetof(pal_isa_instr_t, m)}
    MEMBER(init),     MEMBER(n_tiles),  MEMBER(a_stride),   MEMBER(a_base),  MEMBER(k_blocks),
    MEMBER(w_base),   MEMBER(bias_base), MEMBER(m_count),   MEMBER(acc_base), MEMBER(out_fmt),
    MEMBER(act),      MEMBER(bias_post), MEMBER(n_count),   MEMBER(out_stride), MEMBER(out_base),
    MEMBER(reg),      MEMBER(value),
#undef MEMBER
};
#define N_MEMBERS (sizeof kMembers / sizeof kMembers[0])

const pal_isa_field_t *pal_isa_fields(size_t *out_count) {
  if (out_count) *out_count = N_FIELDS;
  return kFields;
}

const char *pal_isa_opcode_name(uint32_t opcode) {
  switch (opcode) {
    case PAL_ISA_OP_GEMM: return "gemm";
    case PAL_ISA_OP_POST: return "post";
    case PAL_ISA_OP_SETR: return "setr";
    case PAL_ISA_OP_SYNC: return "sync";
    case PAL_ISA_OP_END: return "end";
    default: return NULL;
  }
}

bool pal_isa_opcode_is_legal(uint32_t opcode) { return pal_isa_opcode_name(opcode) != NULL; }

void pal_isa_instr_initialize(pal_isa_instr_t *instr, pal_isa_opcode_t opcode) {
  memset(instr, 0, sizeof *instr);
  instr->opcode = opcode;
}

const char *pal_tile_error_name(uint32_t error) {
  switch (error) {
    case PAL_TILE_ERR_NONE: return "NONE";
    case PAL_TILE_ERR_ILLEGAL_OPCODE: return "ILLEGAL_OPCODE";
    case PAL_TILE_ERR_ADDR_RANGE: return "ADDR_RANGE";
    case PAL_TILE_ERR_ZERO_LOOP: return "ZERO_LOOP";
    case PAL_TILE_ERR_PC_RANGE: return "PC_RANGE";
    case PAL_TILE_ERR_BAD_FIELD: return "BAD_FIELD";
    case PAL_TILE_ERR_WATCHDOG: return "WATCHDOG";
    default: return "UNKNOWN";
  }
}

static inline uint32_t field_mask(unsigned bits) {
  return bits >= 32 ? 0xFFFFFFFFu : ((1u << bits) - 1u);
}

static inline uint32_t *member_ptr(pal_isa_instr_t *instr, size_t offset) {
  return (uint32_t *)((char *)instr + offset);
}
static inline uint32_t member_get(const pal_isa_instr_t *instr, size_t offset) {
  return *(const uint32_t *)((const char *)instr + offset);
}

/* Bits of word w that opcode's fields (and, in w0, the opcode) occupy. */
static uint32_t used_bits(uint32_t opcode, unsigned w) {
  uint32_t used = w == 0 ? field_mask(PAL_ISA_OPCODE_BITS) << PAL_ISA_OPCODE_LSB : 0;
  for (size_t i = 0; i < N_FIELDS; i++)
    if (kFields[i].opcode == opcode && kFields[i].word == w)
      used |= field_mask(kFields[i].bits) << kFields[i].lsb;
  return used;
}

/* The decoder proper; `msg` (may be NULL) receives why it failed. */
static pal_tile_error_t decode(const uint32_t words[PAL_ISA_INSTR_WORDS], pal_isa_instr_t *out,
                               char *msg, size_t msg_size) {
  uint32_t opcode = (words[0] >> PAL_ISA_OPCODE_LSB) & field_mask(PAL_ISA_OPCODE_BITS);
  memset(out, 0, sizeof *out);
  out->opcode = (pal_isa_opcode_t)opcode;
  if (!pal_isa_opcode_is_legal(opcode)) {
    if (msg) snprintf(msg, msg_size, "illegal opcode 0x%02x", (unsigned)opcode);
    return PAL_TILE_ERR_ILLEGAL_OPCODE;
  }
  const char *op_name = pal_isa_opcode_name(opcode);
  for (size_t i = 0; i < N_FIELDS; i++) {
    const pal_isa_field_t *f = &kFields[i];
    if (f->opcode != opcode) continue;
    *member_ptr(out, f->offset) = (words[f->word] >> f->lsb) & field_mask(f->bits);
  }
  for (unsigned w = 0; w < PAL_ISA_INSTR_WORDS; w++) {
    uint32_t reserved = words[w] & ~used_bits(opcode, w);
    if (reserved) {
      if (msg)
        snprintf(msg, msg_size, "%s: reserved bits 0x%08x of w%u are set", op_name,
                 (unsigned)reserved, w);
      return PAL_TILE_ERR_BAD_FIELD;
    }
  }
  switch (opcode) {
    case PAL_ISA_OP_GEMM:
      if (out->init > PAL_ISA_INIT_ACC) {
        if (msg)
          snprintf(msg, msg_size, "gemm: init = %u is not 0 (zero), 1 (bias) or 2 (acc)",
                   (unsigned)out->init);
        return PAL_TILE_ERR_BAD_FIELD;
      }
      break;
    case PAL_ISA_OP_POST:
      if (out->act > PAL_ISA_ACT_CLIP) {
        if (msg)
          snprintf(msg, msg_size, "post: act = %u is not 0 (none), 1 (relu) or 2 (clip)",
                   (unsigned)out->act);
        return PAL_TILE_ERR_BAD_FIELD;
      }
      if (out->out_fmt > PAL_ISA_OUT_PAL8) {
        if (msg)
          snprintf(msg, msg_size, "post: fmt = %u is not 0 (fp32) or 1 (pal8)",
                   (unsigned)out->out_fmt);
        return PAL_TILE_ERR_BAD_FIELD;
      }
      if (out->out_fmt == PAL_ISA_OUT_PAL8 && out->n_count > out->out_stride * 32u) {
        if (msg)
          snprintf(msg, msg_size,
                   "post: with fmt = pal8, n = %u needs os >= %u blocks (os = %u)",
                   (unsigned)out->n_count, (unsigned)((out->n_count + 31u) / 32u),
                   (unsigned)out->out_stride);
        return PAL_TILE_ERR_BAD_FIELD;
      }
      break;
    case PAL_ISA_OP_SETR:
      if (out->reg > PAL_ISA_SETR_CLIP_HI) {
        if (msg)
          snprintf(msg, msg_size, "setr: reg = %u is not 0 (clip_lo) or 1 (clip_hi)",
                   (unsigned)out->reg);
        return PAL_TILE_ERR_BAD_FIELD;
      }
      break;
    default:
      break;
  }
  return PAL_TILE_ERR_NONE;
}

pal_tile_error_t pal_isa_decode_check(const uint32_t words[PAL_ISA_INSTR_WORDS],
                                      pal_isa_instr_t *out_instr) {
  return decode(words, out_instr, NULL, 0);
}

pal_status_t pal_isa_decode(const uint32_t words[PAL_ISA_INSTR_WORDS], pal_isa_instr_t *out_instr) {
  char msg[200];
  pal_tile_error_t err = decode(words, out_instr, msg, sizeof msg);
  if (err == PAL_TILE_ERR_NONE) return PAL_STATUS_OK;
  return pal_status_make(PAL_INVALID_ARGUMENT, "decoding %08x %08x %08x %08x: %s (%s)",
                         (unsigned)words[0], (unsigned)words[1], (unsigned)words[2],
                         (unsigned)words[3], msg, pal_tile_error_name(err));
}

static const pal_isa_field_t *find_member_field(uint32_t opcode, size_t offset) {
  for (size_t i = 0; i < N_FIELDS; i++)
    if (kFields[i].opcode == opcode && kFields[i].offset == offset) return &kFields[i];
  return NULL;
}

pal_status_t pal_isa_encode(const pal_isa_instr_t *instr, uint32_t out_words[PAL_ISA_INSTR_WORDS]) {
  uint32_t opcode = (uint32_t)instr->opcode;
  if (!pal_isa_opcode_is_legal(opcode))
    return pal_status_make(PAL_INVALID_ARGUMENT, "encoding: illegal opcode 0x%02x",
                           (unsigned)opcode);
  const char *op_name = pal_isa_opcode_name(opcode);
  for (size_t i = 0; i < N_MEMBERS; i++) {
    uint32_t v = member_get(instr, kMembers[i].offset);
    const pal_isa_field_t *f = find_member_field(opcode, kMembers[i].offset);
    if (!f && v != 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "encoding %s: it has no field %s (value %u)",
                             op_name, kMembers[i].name, (unsigned)v);
    if (f && (v & ~field_mask(f->bits)))
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "encoding %s: field %s (%s) = %u does not fit in %u bits", op_name,
                             f->name, f->long_name, (unsigned)v, (unsigned)f->bits);
  }
  uint32_t w[PAL_ISA_INSTR_WORDS] = {opcode << PAL_ISA_OPCODE_LSB, 0, 0, 0};
  for (size_t i = 0; i < N_FIELDS; i++) {
    const pal_isa_field_t *f = &kFields[i];
    if (f->opcode == opcode) w[f->word] |= member_get(instr, f->offset) << f->lsb;
  }
  pal_isa_instr_t check;
  char msg[200];
  if (decode(w, &check, msg, sizeof msg) != PAL_TILE_ERR_NONE)
    return pal_status_make(PAL_INVALID_ARGUMENT, "encoding: %s", msg);
  memcpy(out_words, w, sizeof w);
  return PAL_STATUS_OK;
}
