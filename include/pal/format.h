/* PAL number formats: the C golden model of docs/pal-format.md (normative
 * copy: shared/design/pal-format.md, v1). The RTL, the emulator, the compiler
 * and the CPU fallback all reproduce these functions bit for bit.
 *
 * Naming: pal_code8_* are single PAL8 element codes, pal_b32_* the PAL8-B32
 * block format (32 codes + one E8M0 scale), pal_t8_* PAL8 with one scale per
 * tensor, pal_code16_* PAL16. */
#ifndef PAL_FORMAT_H
#define PAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The IEEE-754 bit pattern of a float, and back (memcpy: no aliasing UB). */
static inline uint32_t pal_f32_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
static inline float pal_f32_from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* ---- §1 element code ---------------------------------------------------- */

#define PAL_CODE8_ZERO 0x00u        /* S=0, M=0 */
#define PAL_CODE8_NAR 0x80u         /* S=1, M=0: not a real */
#define PAL_CODE8_SIGN 0x80u
#define PAL_CODE8_MAG_MASK 0x7Fu
#define PAL_CODE8_MAG_MAX 127u      /* M of the largest magnitude, 2^E */
#define PAL_CODE8_DIST_MAX 126u     /* largest d = 127 - M of a non-zero code */
#define PAL_CODE8_STEPS 16          /* codes per binade */

#define PAL_EXP_MIN (-127)          /* block exponent range (E8M0 X = E + 127) */
#define PAL_EXP_MAX 127
#define PAL_SCALE_BIAS 127
#define PAL_SCALE_NAR 255u          /* X = 255: the whole block is NaR */

static inline bool pal_code8_is_zero(uint8_t c) { return c == PAL_CODE8_ZERO; }
static inline bool pal_code8_is_nar(uint8_t c) { return c == PAL_CODE8_NAR; }

/* Tables, generated at build time by host/format/palgen.c with exact integer
 * arithmetic (the same generator writes the RTL's copy, build/gen/pal_tables.vh). */
extern const uint32_t pal_table_t8[16];      /* T_j = ceil(2^((2j-1)/32) * 2^23), j = 1..16 */
extern const uint16_t pal_table_l8[16];      /* L[r] = round(2^(8 - r/16)) */
extern const uint32_t pal_table_d8[16];      /* FP32 bits of fp32(2^(-r/16)) (decode) */
extern const uint32_t pal_table_t16[256];    /* T_j = ceil(2^((2j-1)/512) * 2^23), j = 1..256 */
extern const uint32_t pal_table_d16[256];    /* FP32 bits of fp32(2^(f/256)) (decode) */

/* E = ceil(log2(amax)) from the FP32 bits, clamped to -127..127 (§2 step 3).
 * amax must be a finite normal positive value. */
int pal_block_exponent(float amax);

/* Encodes one value against block exponent E (-127..127), §2 steps 1, 4, 5:
 * NaN/Inf -> NaR; zero, subnormal or d > 126 -> zero; d < 0 saturates. */
uint8_t pal_code8_encode(float x, int exponent);

/* Decodes a code against block exponent E (§2 "Decoding"): NaR -> quiet NaN,
 * values below FLT_MIN -> +0. */
float pal_code8_decode(uint8_t code, int exponent);

/* ---- §2 PAL8-B32 blocks ------------------------------------------------- */

#define PAL_B32_BLOCK 32

/* Encodes n <= 32 values into one block; codes[n..31] are set to zero
 * (tail padding). All-NaN input still gets X from its finite elements (0 if
 * none), each NaN/Inf element becoming NaR. */
void pal_b32_encode_block(const float *x, size_t n, uint8_t codes[PAL_B32_BLOCK],
                          uint8_t *out_scale);

/* Decodes the first n <= 32 elements of a block. X = 255 decodes to NaN. */
void pal_b32_decode_block(const uint8_t codes[PAL_B32_BLOCK], uint8_t scale, size_t n,
                          float *out);

/* A row-major matrix in PAL8-B32, blocked along its columns (the reduction
 * axis K). Plain data, not owned by the library unless created with
 * pal_b32_matrix_create. */
typedef struct pal_b32_matrix {
  size_t rows;     /* M for activations, N for weights */
  size_t cols;     /* K, logical length of a row */
  size_t kblocks;  /* ceil(cols / 32) */
  uint8_t *codes;  /* rows * kblocks * 32 codes; tail blocks padded with zero */
  uint8_t *scales; /* rows * kblocks E8M0 scales */
} pal_b32_matrix_t;

pal_status_t pal_b32_matrix_create(size_t rows, size_t cols, pal_b32_matrix_t *out_matrix);
void pal_b32_matrix_release(pal_b32_matrix_t *matrix);

/* Encodes a rows x cols FP32 matrix (leading dimension ld >= cols). */
void pal_b32_matrix_encode(const float *x, size_t ld, pal_b32_matrix_t *matrix);
/* Decodes into a rows x cols FP32 matrix (leading dimension ld >= cols). */
void pal_b32_matrix_decode(const pal_b32_matrix_t *matrix, float *out, size_t ld);

/* ---- PAL8-T: one scale for the whole tensor ---------------------------- */

/* Encodes n values with one shared exponent; returns the E8M0 scale byte. */
uint8_t pal_t8_encode(const float *x, size_t n, uint8_t *codes);
void pal_t8_decode(const uint8_t *codes, size_t n, uint8_t scale, float *out);

/* ---- PAL16 ------------------------------------------------------------- */

#define PAL_CODE16_ZERO 0x0000u
#define PAL_CODE16_NAR 0x8000u
#define PAL_CODE16_BIAS 16384
#define PAL_CODE16_STEPS 256

/* value = +-2^((M - 16384)/256), M = 1..32767; nearest code in the log
 * domain, values past the smallest code flush to zero, past the largest
 * saturate. */
uint16_t pal_code16_encode(float x);
float pal_code16_decode(uint16_t code);

/* ---- §3 the MAC datapath ------------------------------------------------ */

/* Magnitude of one product from the summed code distance D = dw + da
 * (0..252): (L[D & 15] << 7) >> (D >> 4). */
static inline uint32_t pal_product_mag(unsigned dist_sum) {
  return ((uint32_t)pal_table_l8[dist_sum & 15u] << 7) >> (dist_sum >> 4);
}

/* Bit-exact block sum of §3 over one pair of 32-code blocks. Returns s
 * (|s| <= 2^20); sets *io_nar when any element pair involves a NaR code
 * (it is never cleared). Scales are not looked at. */
int32_t pal_b32_block_sum(const uint8_t w_codes[PAL_B32_BLOCK],
                          const uint8_t a_codes[PAL_B32_BLOCK], bool *io_nar);

/* One step of the cross-block FP32 accumulation of §3: returns
 * fp32_add(acc, s * 2^exp) with exp = Ew + Ea - 15, skipping blocks that
 * are zero or below FLT_MIN, flushing subnormal results to signed zero and
 * raising *io_nar on overflow. acc is never subnormal. */
float pal_fp32_accumulate(float acc, int32_t block_sum, int exp, bool *io_nar);

/* Start value of the accumulator from a bias (§3): FP32, subnormals
 * flushed to signed zero, NaN/Inf -> *io_nar. */
float pal_fp32_start(float bias, bool *io_nar);

/* ---- §4 post-processing ------------------------------------------------- */

typedef enum pal_activation {
  PAL_ACT_NONE = 0,
  PAL_ACT_RELU,
  PAL_ACT_CLIP,
} pal_activation_t;

typedef enum pal_bias_mode {
  PAL_BIAS_START = 0, /* bias is the accumulator's start value (§3) */
  PAL_BIAS_POST,      /* bias is added after the K loop (§4) */
} pal_bias_mode_t;

typedef struct pal_epilogue {
  const float *bias;      /* N values, or NULL for none */
  pal_bias_mode_t bias_mode;
  pal_activation_t act;
  float clip_lo, clip_hi; /* for PAL_ACT_CLIP */
} pal_epilogue_t;

/* An epilogue that does nothing: no bias, no activation. */
void pal_epilogue_initialize(pal_epilogue_t *epilogue);

/* Applies post-bias and activation to one accumulated output (§4). NaR is
 * carried in *io_nar and never turned into a number. Returns the FP32
 * output, a quiet NaN when *io_nar is set. */
float pal_postprocess(float acc, float bias, const pal_epilogue_t *epilogue, bool *io_nar);

/* The bit-exact reference GEMM: out[m*ldo + n] = sum_k a[m][k] * w[n][k]
 * through §3 and §4, block order k = 0, 1, ... Both operands must have the
 * same cols. NaR outputs are written as quiet NaN; the return value counts
 * them (the per-kernel NaR flag is "return value != 0"). */
size_t pal_gemm_ref(const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                    const pal_epilogue_t *epilogue, float *out, size_t ldo);

#ifdef __cplusplus
}
#endif
#endif /* PAL_FORMAT_H */
