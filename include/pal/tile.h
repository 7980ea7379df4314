/* The PAL tile as software sees it (docs/isa.md, Tile ISA v1): geometry,
 * instruction encoding, a backend-neutral device interface that the
 * emulator and the Verilated RTL both implement, the instruction-level
 * emulator (the emu:// device) and the assembler/disassembler.
 *
 * The constants here are the single source of truth for the ISA: the RTL
 * gets them through build/gen/pal_isa.vh, generated from this header and
 * the field table pal_isa_fields[] by host/tile/pal_isagen.c. */
#ifndef PAL_TILE_H
#define PAL_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* §1 geometry and memories                                                 */
/* ======================================================================== */

typedef struct pal_tile_config {
  uint32_t rows;        /* R, 1..255 */
  uint32_t cols;        /* C, 1..255; P = R*C processing elements */
  uint32_t acc_units;   /* FP32 accumulate units, 1..min(P, 255) */
  uint32_t imem_depth;  /* instructions, 1..65535 */
  uint32_t abuf_blocks; /* activation buffer, PAL8-B32 blocks, 1..65536 */
  uint32_t wmem_blocks; /* weight blocks in each PE's memory, 1..65536 */
  uint32_t acc_depth;   /* accumulator words, 1..65536 */
  uint32_t bias_depth;  /* bias words, 1..65536 */
  uint32_t obuf_depth;  /* output words, 1..65536 */
  /* 1: the tile has no POST unit (docs/isa.md §1): POST is an illegal
   * opcode there, and the host post-processes what a GEMM leaves in ACC.
   * 0 (the default) on every tile but the iCEBreaker's, which is built
   * without one to fit the iCE40UP5K. Zero is the full tile, so that a
   * configuration filled in by hand has POST. */
  uint32_t no_post;
  /* 1: the tile has no FP32 accumulate units (docs/isa.md §1, "raw block
   * sums"): a GEMM writes each visited block's sum and exponent to ACC
   * (pal_tile_raw_word) and the host accumulates them (pal_tile_raw_add).
   * Only with no_post = 1; GEMM's init must be zero there. The RTL's
   * ACCUMULATE = 0, for a UP5K-sized tile (docs/boards.md). */
  uint32_t no_accu;
} pal_tile_config_t;

/* Fills the defaults of docs/isa.md §1 for an R x C array: ACC_UNITS =
 * max(1, P/4) (at most 255, the width of its GEOMETRY field), IMEM 256,
 * ABUF 512, WMEM 256, ACC 4096, BIAS 1024, OBUF 4096, a POST unit. */
void pal_tile_config_initialize(pal_tile_config_t *config, uint32_t rows, uint32_t cols);

/* Checks every field against the ranges above; the message names the field. */
pal_status_t pal_tile_config_validate(const pal_tile_config_t *config);

/* P = R*C. */
uint32_t pal_tile_config_pes(const pal_tile_config_t *config);
/* H, the PEs each accumulate unit serves: ceil(P / ACC_UNITS) (= P/ACC_UNITS
 * whenever ACC_UNITS divides P, as in every default geometry). It is the
 * cycles one hand-off occupies the units in the timing model (§4). */
uint32_t pal_tile_config_pes_per_unit(const pal_tile_config_t *config);

/* ======================================================================== */
/* §2 instruction format                                                    */
/* ======================================================================== */

#define PAL_ISA_VERSION 1u
#define PAL_ISA_INSTR_WORDS 4u  /* 128 bits, w0..w3 little-endian */
#define PAL_ISA_INSTR_BYTES 16u
#define PAL_ISA_OPCODE_LSB 26u  /* w0[31:26] */
#define PAL_ISA_OPCODE_BITS 6u

typedef enum pal_isa_opcode {
  PAL_ISA_OP_ILLEGAL = 0x00, /* zero-filled memory traps */
  PAL_ISA_OP_GEMM = 0x01,
  PAL_ISA_OP_POST = 0x02,
  PAL_ISA_OP_SETR = 0x03,
  PAL_ISA_OP_SYNC = 0x04,
  PAL_ISA_OP_END = 0x0F,
} pal_isa_opcode_t;

/* GEMM init */
typedef enum pal_isa_init {
  PAL_ISA_INIT_ZERO = 0, /* start at +0 */
  PAL_ISA_INIT_BIAS = 1, /* start at pal_fp32_start(bias[bias_base + n]) */
  PAL_ISA_INIT_ACC = 2,  /* continue from the value already in ACC */
} pal_isa_init_t;

/* POST act */
typedef enum pal_isa_act {
  PAL_ISA_ACT_NONE = 0,
  PAL_ISA_ACT_RELU = 1,
  PAL_ISA_ACT_CLIP = 2, /* to [CLIP_LO, CLIP_HI] */
} pal_isa_act_t;

/* POST out_fmt */
typedef enum pal_isa_out_fmt {
  PAL_ISA_OUT_FP32 = 0, /* FP32 to OBUF */
  PAL_ISA_OUT_PAL8 = 1, /* PAL8-B32 blocks to ABUF */
} pal_isa_out_fmt_t;

/* SETR reg */
typedef enum pal_isa_setr_reg {
  PAL_ISA_SETR_CLIP_LO = 0,
  PAL_ISA_SETR_CLIP_HI = 1,
} pal_isa_setr_reg_t;

/* §4 timing constants (cycles). */
#define PAL_TILE_FETCH_CYCLES 1u      /* every instruction, the faulting one too */
#define PAL_TILE_GEMM_SETUP_CYCLES 2u
#define PAL_TILE_GEMM_DRAIN_CYCLES 3u /* FP32 accumulate pipeline drain */
#define PAL_TILE_POST_SETUP_CYCLES 2u
#define PAL_TILE_POST_DRAIN_CYCLES 2u
#define PAL_TILE_POST_FP32_CYCLES 1u  /* per output element */
#define PAL_TILE_POST_PAL8_CYCLES 2u  /* per output element */

/* The quiet NaN an FP32 NaR output is written as (format-notes.md #7). */
#define PAL_TILE_FP32_NAR 0x7FC00000u

/* One decoded instruction. Every field is the unsigned value of its bit
 * field; fields the opcode does not have are zero. GEMM and POST share
 * m_count, acc_base and bias_base. */
typedef struct pal_isa_instr {
  pal_isa_opcode_t opcode;
  /* GEMM */
  uint32_t init;       /* w0[25:24] pal_isa_init_t */
  uint32_t n_tiles;    /* w0[23:16] */
  uint32_t a_stride;   /* w1[31:16] */
  uint32_t a_base;     /* w1[15:0] */
  uint32_t k_blocks;   /* w2[31:16] */
  uint32_t w_base;     /* w3[15:0] */
  /* GEMM and POST */
  uint32_t bias_base;  /* w0[15:0] */
  uint32_t m_count;    /* w2[15:0] */
  uint32_t acc_base;   /* GEMM w3[31:16], POST w1[15:0] */
  /* POST */
  uint32_t out_fmt;    /* w0[25:24] pal_isa_out_fmt_t */
  uint32_t act;        /* w0[23:22] pal_isa_act_t */
  uint32_t bias_post;  /* w0[21] */
  uint32_t n_count;    /* w1[31:16] */
  uint32_t out_stride; /* w2[31:16] */
  uint32_t out_base;   /* w3[15:0] */
  /* SETR */
  uint32_t reg;        /* w0[7:0] pal_isa_setr_reg_t */
  uint32_t value;      /* w1 */
} pal_isa_instr_t;

/* One bit field of one opcode: the table that encode, decode, the assembler,
 * the disassembler and the Verilog header generator all read. `name` is the
 * assembler's (docs/isa.md §7), `long_name` the member of pal_isa_instr_t. */
typedef struct pal_isa_field {
  pal_isa_opcode_t opcode;
  const char *name;
  const char *long_name;
  uint8_t word;   /* 0..3 */
  uint8_t lsb;    /* bit position in the word */
  uint8_t bits;   /* width */
  size_t offset;  /* offsetof(pal_isa_instr_t, member) */
} pal_isa_field_t;

/* The fields of every legal opcode, in the order the disassembler prints
 * them; *out_count receives the number of entries. */
const pal_isa_field_t *pal_isa_fields(size_t *out_count);

/* "gemm", "post", "setr", "sync", "end"; NULL for an illegal opcode. */
const char *pal_isa_opcode_name(uint32_t opcode);
bool pal_isa_opcode_is_legal(uint32_t opcode);

/* Sets *instr to an instruction of `opcode` with every field zero. */
void pal_isa_instr_initialize(pal_isa_instr_t *instr, pal_isa_opcode_t opcode);

/* ======================================================================== */
/* §3 errors                                                                */
/* ======================================================================== */

typedef enum pal_tile_error {
  PAL_TILE_ERR_NONE = 0,
  PAL_TILE_ERR_ILLEGAL_OPCODE = 1,
  PAL_TILE_ERR_ADDR_RANGE = 2,
  PAL_TILE_ERR_ZERO_LOOP = 3,
  PAL_TILE_ERR_PC_RANGE = 4,
  PAL_TILE_ERR_BAD_FIELD = 5,
  PAL_TILE_ERR_WATCHDOG = 6, /* reserved for the control core */
} pal_tile_error_t;

/* "NONE", "ILLEGAL_OPCODE", ...; "UNKNOWN" for other values. */
const char *pal_tile_error_name(uint32_t error);

/* Decodes without allocating: returns PAL_TILE_ERR_NONE, ILLEGAL_OPCODE or
 * BAD_FIELD (reserved bits set, init = 3, act = 3, out_fmt >= 2, unknown
 * SETR register, POST to ABUF with n_count > out_stride*32), filling
 * *out_instr in every case as far as the opcode allows. ZERO_LOOP and
 * ADDR_RANGE depend on the geometry and are the executor's to check. */
pal_tile_error_t pal_isa_decode_check(const uint32_t words[PAL_ISA_INSTR_WORDS],
                                      pal_isa_instr_t *out_instr);

/* As pal_isa_decode_check, with a status whose message names the field and
 * value that is wrong (PAL_INVALID_ARGUMENT). */
pal_status_t pal_isa_decode(const uint32_t words[PAL_ISA_INSTR_WORDS], pal_isa_instr_t *out_instr);

/* Encodes an instruction that pal_isa_decode accepts: fails (and writes
 * nothing) on an illegal opcode, a field too wide for its bits, a non-zero
 * field the opcode does not have, or a BAD_FIELD value. Zero loop counts
 * and out-of-range addresses encode fine: they are run-time errors. */
pal_status_t pal_isa_encode(const pal_isa_instr_t *instr, uint32_t out_words[PAL_ISA_INSTR_WORDS]);

/* ======================================================================== */
/* §6 registers                                                             */
/* ======================================================================== */

#define PAL_TILE_REG_ID 0x00u
#define PAL_TILE_REG_ISA_VERSION 0x04u
#define PAL_TILE_REG_GEOMETRY 0x08u /* [7:0] R, [15:8] C, [23:16] ACC_UNITS, [24] no POST */
#define PAL_TILE_REG_IMEM_DEPTH 0x0Cu
#define PAL_TILE_REG_ABUF_BLOCKS 0x10u
#define PAL_TILE_REG_WMEM_BLOCKS 0x14u
#define PAL_TILE_REG_ACC_DEPTH 0x18u
#define PAL_TILE_REG_BIAS_DEPTH 0x1Cu
#define PAL_TILE_REG_OBUF_DEPTH 0x20u
#define PAL_TILE_REG_CONTROL 0x40u  /* write-only; reads as 0 */
#define PAL_TILE_REG_START_PC 0x44u /* [15:0]; upper bits read 0 */
#define PAL_TILE_REG_STATUS 0x48u
#define PAL_TILE_REG_CLIP_LO 0x4Cu  /* FP32 bits; 0 after power-on */
#define PAL_TILE_REG_CLIP_HI 0x50u  /* FP32 bits; 0 after power-on */
#define PAL_TILE_REG_COUNTERS 0x80u /* 64-bit each, low word first */

#define PAL_TILE_ID_VALUE 0x50414C31u /* "PAL1" */
#define PAL_TILE_GEOMETRY_NO_POST 0x01000000u /* GEOMETRY[24]: the tile has no POST unit */
#define PAL_TILE_GEOMETRY_NO_ACCU 0x02000000u /* GEOMETRY[25]: no accumulate units (raw block sums) */

#define PAL_TILE_CONTROL_START 0x1u /* start at START_PC */
#define PAL_TILE_CONTROL_RESET 0x2u /* reset counters and STATUS (not CLIP_*) */

#define PAL_TILE_STATUS_BUSY 0x1u
#define PAL_TILE_STATUS_DONE 0x2u
#define PAL_TILE_STATUS_NAR 0x4u
#define PAL_TILE_STATUS_ERROR_LSB 8u   /* [15:8] pal_tile_error_t */
#define PAL_TILE_STATUS_ERR_PC_LSB 16u /* [31:16] */

typedef enum pal_tile_counter {
  PAL_TILE_CTR_CYC_TOTAL = 0, /* 0x80 */
  PAL_TILE_CTR_CYC_BUSY,      /* 0x88 */
  PAL_TILE_CTR_CYC_STALL,     /* 0x90 */
  PAL_TILE_CTR_CYC_IDLE,      /* 0x98 */
  PAL_TILE_CTR_MACS_ISSUED,   /* 0xA0 */
  PAL_TILE_CTR_MACS_GATED,    /* 0xA8 */
  PAL_TILE_CTR_ACT_SKIPPED,   /* 0xB0 */
  PAL_TILE_CTR_BLOCKS_SKIPPED, /* 0xB8 */
  PAL_TILE_CTR_NAR_OUTPUTS,   /* 0xC0 */
  PAL_TILE_CTR_COUNT
} pal_tile_counter_t;

#define PAL_TILE_REG_COUNTER(c) (PAL_TILE_REG_COUNTERS + 8u * (uint32_t)(c))

/* "CYC_TOTAL", ...; "UNKNOWN" past the end. */
const char *pal_tile_counter_name(uint32_t counter);
/* The register's name ("STATUS", "CYC_BUSY_HI", ...) or NULL when no
 * register lives at `offset`. */
const char *pal_tile_reg_name(uint32_t offset);

typedef struct pal_tile_counters {
  uint64_t value[PAL_TILE_CTR_COUNT];
} pal_tile_counters_t;

/* STATUS, unpacked. */
typedef struct pal_tile_status {
  bool busy, done, nar;
  uint32_t error;  /* pal_tile_error_t */
  uint32_t err_pc; /* index of the instruction that stopped the tile */
} pal_tile_status_t;

void pal_tile_status_unpack(uint32_t status_reg, pal_tile_status_t *out_status);

/* ======================================================================== */
/* Tile device: one interface for the emulator and the RTL                  */
/* ======================================================================== */

/* Memory regions. Element types: uint32_t for IMEM, ACC, BIAS and OBUF;
 * uint8_t for the others. Indices count elements. */
typedef enum pal_tile_region {
  PAL_TILE_REGION_IMEM = 0,    /* IMEM_DEPTH*4 words, instruction i at 4i..4i+3 */
  PAL_TILE_REGION_ABUF_CODES,  /* ABUF_BLOCKS*32 codes, block b at 32b..32b+31 */
  PAL_TILE_REGION_ABUF_SCALES, /* ABUF_BLOCKS E8M0 scales */
  PAL_TILE_REGION_WMEM_CODES,  /* of PE `pe`: WMEM_BLOCKS*32 codes */
  PAL_TILE_REGION_WMEM_SCALES, /* of PE `pe`: WMEM_BLOCKS scales */
  PAL_TILE_REGION_ACC,         /* ACC_DEPTH FP32 bit patterns */
  PAL_TILE_REGION_ACC_NAR,     /* ACC_DEPTH NaR flags, 0 or 1 */
  PAL_TILE_REGION_BIAS,        /* BIAS_DEPTH FP32 bit patterns */
  PAL_TILE_REGION_OBUF,        /* OBUF_DEPTH FP32 bit patterns */
  PAL_TILE_REGION_COUNT
} pal_tile_region_t;

/* The RTL tile's bus port (docs/tile-rtl.md, "Bus"): a region is the code
 * in address bits [31:28], 0 for the registers; pal_isagen writes the codes
 * as PAL_TILE_PORT_RG_* for the RTL (the tile, the SoC's bus bridge and the
 * link engine that drive it) and the Verilated tile's C++ uses this. */
#define PAL_TILE_PORT_RG_SHIFT 28u
#define PAL_TILE_PORT_RG_REGS 0u
#define PAL_TILE_PORT_RG(region) ((uint32_t)(region) + 1u)

const char *pal_tile_region_name(pal_tile_region_t region);
/* 1 or 4; 0 for an unknown region. */
size_t pal_tile_region_element_size(pal_tile_region_t region);
/* Elements in the region (per PE for WMEM_*); 0 for an unknown region. */
uint64_t pal_tile_region_length(const pal_tile_config_t *config, pal_tile_region_t region);
bool pal_tile_region_is_per_pe(pal_tile_region_t region);

#define PAL_TILE_NO_CYCLE_LIMIT UINT64_MAX

/* What a backend implements. The pal_tile_device_* functions below check
 * every argument (region, PE, index range, register offset and access)
 * before calling these, so a backend sees only valid requests. */
typedef struct pal_tile_device_ops {
  pal_status_t (*write)(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                        size_t count, const void *data);
  pal_status_t (*read)(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index,
                       size_t count, void *out_data);
  pal_status_t (*write_reg)(void *self, uint32_t offset, uint32_t value);
  pal_status_t (*read_reg)(void *self, uint32_t offset, uint32_t *out_value);
  /* Advances until STATUS.busy clears (OK) or max_cycles have passed
   * (PAL_DEADLINE_EXCEEDED, the tile still busy). */
  pal_status_t (*wait)(void *self, uint64_t max_cycles);
} pal_tile_device_ops_t;

/* A tile behind some backend. Owned by whoever created it (for the
 * emulator: the pal_emu_t, see pal_emu_device). */
typedef struct pal_tile_device {
  const pal_tile_device_ops_t *ops;
  void *self;
  pal_tile_config_t config; /* the geometry, as the ID registers report it */
  const char *name;         /* "emu", "rtl", ... for messages */
} pal_tile_device_t;

/* Memory access, count elements from `index`; `pe` selects the PE for the
 * WMEM_* regions and must be 0 for the others. Every access is range-checked
 * (PAL_OUT_OF_RANGE naming the region, PE and index). Writing ACC_NAR
 * accepts only 0 and 1. */
pal_status_t pal_tile_device_write(pal_tile_device_t *device, pal_tile_region_t region, uint32_t pe,
                                   uint64_t index, size_t count, const void *data);
pal_status_t pal_tile_device_read(pal_tile_device_t *device, pal_tile_region_t region, uint32_t pe,
                                  uint64_t index, size_t count, void *out_data);

/* Register access (§6). Fails on an offset with no register, on writes to
 * read-only registers, on reserved CONTROL bits and START_PC >= 2^16.
 * Writing CONTROL.start while the tile is busy is PAL_FAILED_PRECONDITION. */
pal_status_t pal_tile_device_write_reg(pal_tile_device_t *device, uint32_t offset, uint32_t value);
pal_status_t pal_tile_device_read_reg(pal_tile_device_t *device, uint32_t offset,
                                      uint32_t *out_value);

/* Writes n_words (a multiple of 4) instruction words at instruction `pc`. */
pal_status_t pal_tile_device_load_program(pal_tile_device_t *device, uint32_t pc,
                                          const uint32_t *words, size_t n_words);

/* Sets START_PC, writes CONTROL.start and waits (pal_tile_device_wait).
 * A program that stops with an error is not a failure of this call: the
 * error is in *out_status (may be NULL). */
pal_status_t pal_tile_device_run(pal_tile_device_t *device, uint32_t start_pc, uint64_t max_cycles,
                                 pal_tile_status_t *out_status);
/* Lets a started tile run until it stops or max_cycles have passed
 * (PAL_DEADLINE_EXCEEDED; call again to continue). */
pal_status_t pal_tile_device_wait(pal_tile_device_t *device, uint64_t max_cycles);

pal_status_t pal_tile_device_read_status(pal_tile_device_t *device, pal_tile_status_t *out_status);
pal_status_t pal_tile_device_read_counters(pal_tile_device_t *device,
                                           pal_tile_counters_t *out_counters);

/* ======================================================================== */
/* The instruction-level emulator (emu://)                                  */
/* ======================================================================== */

/* Executes docs/isa.md exactly: every result through the golden model of
 * pal/format.h (bit-exact with pal_gemm_ref), every error check of §3, and
 * the cycle model of §4 with all counters. Programs run synchronously
 * inside pal_tile_device_wait; with a cycle limit the emulator stops at
 * the first instruction boundary at or past the limit.
 *
 * Power-on state: every memory zero (so IMEM traps), registers zero.
 *
 * Where docs/isa.md leaves a choice, the emulator does this (the RTL must
 * do the same; the differential tests check it):
 *  - Error priority within one instruction: ILLEGAL_OPCODE, then BAD_FIELD,
 *    then ZERO_LOOP, then ADDR_RANGE. A faulting instruction costs its one
 *    fetch/decode cycle and changes nothing but STATUS and CYC_TOTAL.
 *  - PC_RANGE is raised at the fetch of a PC >= IMEM_DEPTH (running off the
 *    end, or START_PC past it): 1 cycle, err_pc = that PC.
 *  - CONTROL.start clears done, nar, error and err_pc and sets busy;
 *    counters accumulate across runs until CONTROL.reset, which clears the
 *    counters and all of STATUS (and stops a busy tile) but not START_PC or
 *    CLIP_*. Both bits in one write: reset, then start.
 *  - SYNC costs its fetch cycle only: every instruction's count already
 *    includes its drain.
 *  - H = ceil(P / ACC_UNITS).
 *  - ACC of a NaR output: NaR flag 1 and bits PAL_TILE_FP32_NAR; only the
 *    flag is meaningful. GEMM init=acc continues from flag and bits.
 *  - The walk visits block (t, m, kb) when its activation block has a
 *    non-zero code (NaR counts), has scale 255, or when any of the P PEs
 *    (padding columns included) has a NaR code or scale 255 in its weight
 *    block w_base + t*k_blocks + kb. steps = non-zero codes, or 1 (a
 *    "NaR-only" step) when there are none.
 *  - Counters: CYC_BUSY = sum of steps; MACS_ISSUED = P * steps;
 *    MACS_GATED = for each step broadcasting a non-zero activation code at
 *    position i, the PEs whose weight code at i is zero, and all P PEs for
 *    a NaR-only step; ACT_SKIPPED = 32 - (non-zero codes) per visited block;
 *    BLOCKS_SKIPPED = blocks not visited. All per N-tile: an activation
 *    block walked for n_tiles tiles counts n_tiles times. NAR_OUTPUTS
 *    counts POST outputs only.
 *  - POST costs per element of m_count * n_count (PAL8 tail padding is
 *    free) and runs m outer, n inner (visible only when FP32 rows overlap,
 *    out_stride < n_count). */
typedef struct pal_emu pal_emu_t;

/* How GEMM values are computed; every choice gives the same bits. */
typedef enum pal_emu_arith {
  PAL_EMU_ARITH_AUTO = 0,  /* pal_gemm (pal/gemm.h) for GEMMs of >= 2^20 MACs
                            * with init zero or bias, the table path otherwise */
  PAL_EMU_ARITH_TABLE,     /* always the emulator's own single-threaded path */
  PAL_EMU_ARITH_FAST_GEMM, /* pal_gemm for every GEMM with init zero or bias */
} pal_emu_arith_t;

typedef struct pal_emu_options {
  pal_emu_arith_t arith;
  int threads; /* pal_gemm worker threads; 0 = one per online CPU */
} pal_emu_options_t;

void pal_emu_options_initialize(pal_emu_options_t *options);

/* pal_emu_create with default options. */
pal_status_t pal_emu_create(const pal_tile_config_t *config, pal_emu_t **out_emu);
/* `options` may be NULL (defaults). */
pal_status_t pal_emu_create_with_options(const pal_tile_config_t *config,
                                         const pal_emu_options_t *options, pal_emu_t **out_emu);
void pal_emu_destroy(pal_emu_t *emu);
/* The emulator's tile device; valid until pal_emu_destroy. */
pal_tile_device_t *pal_emu_device(pal_emu_t *emu);

/* ======================================================================== */
/* Raw block sums (docs/isa.md §1, tile without accumulate units)           */
/* ======================================================================== */

/* A GEMM on a tile with no_accu = 1 leaves, for each block (t, m, kb) the
 * walk visits and each PE p, the ACC word
 *   acc_base + (kb·m_count + m)·n_tiles·P + t·P + p
 * = {s[21:0], e[9:0]}: the 22-bit block sum s and e = Xw + Xa - 269, the
 * exponent of pal-format.md §3 (two's complement both), with NaR flag 0;
 * or 0 with NaR flag 1 when the block pair holds a NaR (a NaR code or a
 * scale of 255 on either side). Words of blocks the walk skips are not
 * written: their sum is 0, which adds nothing. */
#define PAL_TILE_RAW_EXP_BITS 10u

/* The word of block sum s (|s| < 2^21) at exponent e (-512..511). */
uint32_t pal_tile_raw_word(int32_t block_sum, int exp);
/* The block sum and exponent of a word. */
void pal_tile_raw_unpack(uint32_t word, int32_t *out_block_sum, int *out_exp);
/* acc (+) the block of a raw word with NaR flag `nar_flag`, exactly as an
 * accumulate unit does it (pal_fp32_accumulate); *io_nar is sticky. Fold
 * the visited blocks of one output in block order kb = 0, 1, ..., starting
 * from +0 or pal_fp32_start(bias), and the result is the ACC word a tile
 * with accumulate units leaves (NaR as *io_nar). */
float pal_tile_raw_add(float acc, uint32_t word, bool nar_flag, bool *io_nar);

/* ======================================================================== */
/* Assembler and disassembler (docs/isa.md §7)                              */
/* ======================================================================== */

typedef struct pal_asm_options {
  uint32_t max_instructions; /* 0: no limit; else fail past it (IMEM_DEPTH) */
} pal_asm_options_t;

void pal_asm_options_initialize(pal_asm_options_t *options);

/* Assembled program: 4 words per instruction. */
typedef struct pal_asm_program {
  uint32_t *words;
  size_t word_count;
} pal_asm_program_t;

void pal_asm_program_release(pal_asm_program_t *program);

/* Assembles `length` bytes of text. On failure the status message says
 * "line L, column C: ..." naming the field and what was wrong, and
 * *out_program is left empty. `options` may be NULL. */
pal_status_t pal_asm_assemble(const char *text, size_t length, const pal_asm_options_t *options,
                              pal_asm_program_t *out_program);

typedef struct pal_disasm_options {
  bool pc_comments; /* end each line with "# pc N" */
} pal_disasm_options_t;

void pal_disasm_options_initialize(pal_disasm_options_t *options);

/* Disassembles n_words (a multiple of 4) into NUL-terminated text, one
 * instruction a line; words that do not decode become ".inst w0 w1 w2 w3"
 * with the reason as a comment, so assembling the text gives the words
 * back for every input. Release the text with pal_asm_text_release. */
pal_status_t pal_asm_disassemble(const uint32_t *words, size_t n_words,
                                 const pal_disasm_options_t *options, char **out_text);
void pal_asm_text_release(char *text);

#ifdef __cplusplus
}
#endif
#endif /* PAL_TILE_H */
