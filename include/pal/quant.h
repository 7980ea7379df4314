/* Comparison number formats for the format study: quantise-dequantise
 * round trips of FP32 tensors, plus the scalar element codecs they use.
 * Blocks and rows run along the last (contiguous, reduction) axis. */
#ifndef PAL_QUANT_H
#define PAL_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pal_qformat {
  PAL_QF_FP32 = 0,   /* identity */
  PAL_QF_PAL8_B32,   /* PAL8, one E8M0 scale per 32 (pal-format.md §2) */
  PAL_QF_PAL8_T,     /* PAL8, one scale per tensor */
  PAL_QF_PAL16,      /* PAL16, fixed bias */
  PAL_QF_FP8_E4M3,   /* OCP FP8 E4M3, per-tensor FP32 scale amax/448 */
  PAL_QF_FP8_E5M2,   /* OCP FP8 E5M2, per-tensor FP32 scale amax/57344 */
  PAL_QF_MXFP8,      /* OCP MX: E4M3 elements, E8M0 scale per 32 */
  PAL_QF_INT8_ROW,   /* symmetric INT8, FP32 scale amax/127 per row */
  PAL_QF_MXINT8,     /* OCP MX: INT8 elements (implicit 2^-6), E8M0 per 32 */
  PAL_QF_BF16,       /* bfloat16, round to nearest even */
  PAL_QF_COUNT
} pal_qformat_t;

/* Stable snake_case name ("pal8_b32", "fp8_e4m3", ...). */
const char *pal_qformat_name(pal_qformat_t format);
/* Storage bits per element including block scales (8.25 for PAL8-B32,
 * MXFP8, MXINT8). Per-tensor and per-row scales are not counted (INT8 per
 * row stores 32 more bits per row). */
double pal_qformat_bits(pal_qformat_t format);

/* Quantises a rows x cols row-major matrix to `format` and decodes it back
 * into out (which may equal x). Fails on an unknown format or a size that
 * overflows.
 * Non-finite inputs: NaN and +-Inf come back as NaN (FP32 and BF16 keep
 * +-Inf; FP8 has no infinity here, so Inf encodes to its NaN code; INT8 and
 * MXINT8, with no NaN code, stand for a per-element flag). Scales are taken
 * from the finite elements only; a tensor, row or block whose largest
 * finite magnitude is below FLT_MIN comes back as zeros, as PAL does. */
pal_status_t pal_quant_roundtrip(pal_qformat_t format, const float *x, size_t rows,
                                 size_t cols, float *out);

/* Scalar element codecs (OCP 8-bit floating point v1.0): round to nearest
 * even, saturating to the largest finite value, NaN -> NaN encoding. */
uint8_t pal_fp8_e4m3_encode(float x);
float pal_fp8_e4m3_decode(uint8_t code);
uint8_t pal_fp8_e5m2_encode(float x);
float pal_fp8_e5m2_decode(uint8_t code);
uint16_t pal_bf16_encode(float x);
float pal_bf16_decode(uint16_t code);

#ifdef __cplusplus
}
#endif
#endif /* PAL_QUANT_H */
