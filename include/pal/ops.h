/* libpalops: the CPU operator kernels behind the runtime's `cpu` provider.
 * Plain arrays in, plain arrays out, ONNX semantics (opsets 13-17); no
 * dependency on the graph IR. docs/ops.md says where ONNX is subtle.
 *
 * Conventions for every kernel here:
 *  - Tensors are dense, row-major (C order), described by a pal_shape_t.
 *  - Each op with a non-trivial output shape has a `*_infer` function that
 *    validates the arguments and returns the output shape; the caller sizes
 *    the output buffer from it. The kernel itself re-validates (same checks,
 *    same messages) and assumes `out` holds that many elements.
 *  - Axes may be negative (counted from the end) where ONNX allows it.
 *  - Errors: PAL_INVALID_ARGUMENT (bad shape, axis, perm, attribute),
 *    PAL_OUT_OF_RANGE (index out of range, element count overflows int64),
 *    PAL_RESOURCE_EXHAUSTED (a workspace allocation failed). Messages name
 *    the op and the argument ("Add: shapes [2,3] and [4] do not broadcast").
 *  - Outputs must not alias inputs unless the function says otherwise. */
#ifndef PAL_OPS_H
#define PAL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- shapes ---------------------------------------------------------------- */

#define PAL_MAX_RANK 8

/* rank 0 is a scalar (one element); a dim of 0 makes an empty tensor. */
typedef struct pal_shape {
  int rank;
  int64_t dims[PAL_MAX_RANK];
} pal_shape_t;

/* Builds a shape from `rank` dims; fails on rank outside [0, PAL_MAX_RANK]
 * or a negative dim. */
pal_status_t pal_shape_make(int rank, const int64_t *dims, pal_shape_t *out_shape);
/* Checks rank and dims as pal_shape_make does and that the element count
 * fits int64; `what` names the tensor in the message. */
pal_status_t pal_shape_validate(const pal_shape_t *shape, const char *what);
/* Number of elements (1 for a scalar); PAL_OUT_OF_RANGE on int64 overflow. */
pal_status_t pal_shape_numel(const pal_shape_t *shape, int64_t *out_count);
/* Row-major element strides (innermost 1). */
void pal_shape_strides(const pal_shape_t *shape, int64_t strides[PAL_MAX_RANK]);
int pal_shape_equal(const pal_shape_t *a, const pal_shape_t *b);
/* Formats "[2,3,4]" into buf (always NUL-terminated); returns buf. */
const char *pal_shape_format(const pal_shape_t *shape, char *buf, size_t size);
/* NumPy (multidirectional) broadcast; the message names both shapes. `op`
 * names the caller in messages (may be NULL). */
pal_status_t pal_shape_broadcast(const char *op, const pal_shape_t *a, const pal_shape_t *b,
                                 pal_shape_t *out_shape);
pal_status_t pal_shape_broadcast3(const char *op, const pal_shape_t *a, const pal_shape_t *b,
                                  const pal_shape_t *c, pal_shape_t *out_shape);
/* Maps an ONNX axis in [-rank, rank-1] to [0, rank-1]. */
pal_status_t pal_shape_normalize_axis(const char *op, const char *what, int64_t axis, int rank,
                                      int *out_axis);

/* ---- element types (Cast, data movement, compare, integer arithmetic) ----- */

typedef enum pal_op_dtype {
  PAL_OP_F32 = 0,
  PAL_OP_I64,
  PAL_OP_I32,
  PAL_OP_BOOL, /* one byte, 0 or 1 */
  PAL_OP_U8,
} pal_op_dtype_t;

size_t pal_op_dtype_size(pal_op_dtype_t dtype);
const char *pal_op_dtype_name(pal_op_dtype_t dtype);

/* ---- element-wise binary (broadcasting) ------------------------------------ */

typedef enum pal_op_binary_kind {
  PAL_OP_ADD = 0,
  PAL_OP_SUB,
  PAL_OP_MUL,
  PAL_OP_DIV,
  PAL_OP_POW,
} pal_op_binary_kind_t;

/* out = a (op) b with NumPy broadcasting; out has the broadcast shape
 * (pal_shape_broadcast). dtype F32, I64, I32 or U8 (both inputs and out the
 * same type). Integer Div truncates toward zero and fails with
 * PAL_INVALID_ARGUMENT on a zero divisor; integer Pow uses repeated
 * multiplication (negative exponents give 0, or 1/-1 for bases 1/-1).
 * `out` may alias `a` or `b` when that input already has the output shape. */
pal_status_t pal_op_binary(pal_op_binary_kind_t kind, pal_op_dtype_t dtype, const void *a,
                           const pal_shape_t *a_shape, const void *b, const pal_shape_t *b_shape,
                           void *out);

typedef enum pal_op_compare_kind {
  PAL_OP_EQUAL = 0,
  PAL_OP_LESS,
  PAL_OP_GREATER,
  PAL_OP_LESS_OR_EQUAL,
  PAL_OP_GREATER_OR_EQUAL,
} pal_op_compare_kind_t;

/* out (bool bytes, 0/1) = a (cmp) b with broadcasting; dtype F32, I64, I32,
 * BOOL or U8. NaN compares false (Equal too). */
pal_status_t pal_op_compare(pal_op_compare_kind_t kind, pal_op_dtype_t dtype, const void *a,
                            const pal_shape_t *a_shape, const void *b, const pal_shape_t *b_shape,
                            uint8_t *out);

/* out = cond ? x : y, three-way broadcast (pal_shape_broadcast3); any
 * element size. cond bytes are tested for non-zero. */
pal_status_t pal_op_where(const uint8_t *cond, const pal_shape_t *cond_shape, const void *x,
                          const pal_shape_t *x_shape, const void *y, const pal_shape_t *y_shape,
                          size_t elem_size, void *out);

/* ---- element-wise unary (FP32; y may equal x) ------------------------------- */

typedef enum pal_op_unary_kind {
  PAL_OP_RELU = 0,
  PAL_OP_SIGMOID,
  PAL_OP_TANH,
  PAL_OP_ERF,
  PAL_OP_GELU,      /* exact: 0.5 x (1 + erf(x / sqrt 2)) (ONNX approximate="none") */
  PAL_OP_GELU_TANH, /* ONNX approximate="tanh" */
  PAL_OP_SQRT,
  PAL_OP_EXP,
  PAL_OP_LOG,
  PAL_OP_NEG,
  PAL_OP_ABS,
  PAL_OP_RECIPROCAL,
  PAL_OP_FLOOR,
  PAL_OP_CEIL,
} pal_op_unary_kind_t;

pal_status_t pal_op_unary(pal_op_unary_kind_t kind, const float *x, int64_t count, float *y);
pal_status_t pal_op_leaky_relu(const float *x, int64_t count, float alpha, float *y);
/* min > max is allowed and gives max everywhere (as ONNX's reference,
 * min(max(x, lo), hi)); NaN inputs stay NaN. Pass -INFINITY / INFINITY for
 * an absent bound. */
pal_status_t pal_op_clip(const float *x, int64_t count, float min, float max, float *y);

/* ---- softmax ---------------------------------------------------------------- */

/* Softmax / LogSoftmax along one axis (opset 13 semantics; for opset < 13
 * the caller views the tensor as 2-D [prod(d[:axis]), prod(d[axis:])] and
 * passes axis 1). Max-subtracted, so large inputs do not overflow. */
pal_status_t pal_op_softmax(const float *x, const pal_shape_t *shape, int64_t axis, float *y);
pal_status_t pal_op_log_softmax(const float *x, const pal_shape_t *shape, int64_t axis, float *y);

/* ---- reductions ------------------------------------------------------------- */

typedef enum pal_op_reduce_kind {
  PAL_OP_REDUCE_SUM = 0,
  PAL_OP_REDUCE_MEAN,
  PAL_OP_REDUCE_MAX,
  PAL_OP_REDUCE_MIN,
  PAL_OP_REDUCE_PROD,
} pal_op_reduce_kind_t;

/* Reduces over `axes` (n_axes of them, negative allowed, no repeats). With
 * n_axes == 0: all axes, or none (a copy) when noop_with_empty_axes. An
 * empty reduction gives 0 (Sum), NaN (Mean), -inf (Max), +inf (Min), 1
 * (Prod). Sums accumulate in double. */
pal_status_t pal_op_reduce_infer(const pal_shape_t *shape, const int64_t *axes, int n_axes,
                                 int keepdims, int noop_with_empty_axes, pal_shape_t *out_shape);
pal_status_t pal_op_reduce(pal_op_reduce_kind_t kind, const float *x, const pal_shape_t *shape,
                           const int64_t *axes, int n_axes, int keepdims, int noop_with_empty_axes,
                           float *y);

/* ---- pooling (NCHW, 2-D; a 1-D pool is the caller's H=1 view) ------------- */

typedef enum pal_op_auto_pad {
  PAL_OP_PAD_NOTSET = 0, /* use pads[] */
  PAL_OP_PAD_SAME_UPPER,
  PAL_OP_PAD_SAME_LOWER,
  PAL_OP_PAD_VALID,
} pal_op_auto_pad_t;

typedef struct pal_op_pool_params {
  int64_t kernel[2];    /* [kH, kW], required (> 0) */
  int64_t strides[2];   /* default 1 */
  int64_t pads[4];      /* ONNX order [h_begin, w_begin, h_end, w_end]; default 0 */
  int64_t dilations[2]; /* MaxPool only (AveragePool must leave 1); default 1 */
  pal_op_auto_pad_t auto_pad;
  int ceil_mode;         /* default 0 */
  int count_include_pad; /* AveragePool only; default 0 */
  int storage_order;     /* MaxPool indices: 0 row-major (default), 1 column-major */
} pal_op_pool_params_t;

/* Sets strides/dilations 1, pads 0, kernel 0 (must be set), NOTSET. */
void pal_op_pool_params_initialize(pal_op_pool_params_t *params);
/* x is [N, C, H, W]; out is [N, C, OH, OW]. */
pal_status_t pal_op_pool_infer(const pal_shape_t *x_shape, const pal_op_pool_params_t *params,
                               pal_shape_t *out_shape);
/* indices (may be NULL): ONNX MaxPool's second output, the flat index into
 * x including the N and C offsets: (n*C + c)*H*W + h*W + w, or with
 * storage_order 1 (n*C + c)*H*W + h + w*H. */
pal_status_t pal_op_max_pool(const float *x, const pal_shape_t *x_shape,
                             const pal_op_pool_params_t *params, float *y, int64_t *indices);
pal_status_t pal_op_average_pool(const float *x, const pal_shape_t *x_shape,
                                 const pal_op_pool_params_t *params, float *y);
/* x is [N, C, D1, ...] (rank >= 2); y is [N, C, 1, ...]. */
pal_status_t pal_op_global_average_pool(const float *x, const pal_shape_t *x_shape, float *y);
pal_status_t pal_op_global_max_pool(const float *x, const pal_shape_t *x_shape, float *y);

/* ---- normalisation ---------------------------------------------------------- */

/* Inference BatchNormalization: x [N, C, D...] (rank >= 2); scale, bias,
 * mean, var each hold C values. y has x's shape. */
pal_status_t pal_op_batch_norm(const float *x, const pal_shape_t *x_shape, const float *scale,
                               const float *bias, const float *mean, const float *var,
                               float epsilon, float *y);

/* LayerNormalization (opset 17): normalises over dims [axis, rank); scale
 * and bias (bias may be NULL) are unidirectionally broadcast to
 * x.dims[axis:]. mean and inv_std_dev (each may be NULL) receive
 * prod(x.dims[:axis]) values: their ONNX shape is x.dims[:axis] followed by
 * (rank - axis) ones. Statistics in double. */
pal_status_t pal_op_layer_norm(const float *x, const pal_shape_t *x_shape, const float *scale,
                               const pal_shape_t *scale_shape, const float *bias,
                               const pal_shape_t *bias_shape, int64_t axis, float epsilon,
                               float *y, float *mean, float *inv_std_dev);

/* ---- GEMM family (OpenBLAS) --------------------------------------------------- */

/* Y = alpha * A' B' + beta * C, A' = trans_a ? A^T : A (A is 2-D), same for
 * B. C (may be NULL) unidirectionally broadcasts to [M, N]. */
pal_status_t pal_op_gemm_infer(const pal_shape_t *a_shape, const pal_shape_t *b_shape,
                               const pal_shape_t *c_shape, int trans_a, int trans_b,
                               pal_shape_t *out_shape);
pal_status_t pal_op_gemm(const float *a, const pal_shape_t *a_shape, const float *b,
                         const pal_shape_t *b_shape, const float *c, const pal_shape_t *c_shape,
                         float alpha, float beta, int trans_a, int trans_b, float *y);

/* numpy.matmul: batch dims broadcast; a 1-D A is [1, K] and a 1-D B is
 * [K, 1] with that dim removed from the result. */
pal_status_t pal_op_matmul_infer(const pal_shape_t *a_shape, const pal_shape_t *b_shape,
                                 pal_shape_t *out_shape);
pal_status_t pal_op_matmul(const float *a, const pal_shape_t *a_shape, const float *b,
                           const pal_shape_t *b_shape, float *y);

/* ---- convolution (NCHW, 2-D; im2col + sgemm) -------------------------------- */

typedef struct pal_op_conv_params {
  int64_t group;        /* default 1 */
  int64_t strides[2];   /* default 1 */
  int64_t pads[4];      /* ONNX order [h_begin, w_begin, h_end, w_end] */
  int64_t dilations[2]; /* default 1 */
  pal_op_auto_pad_t auto_pad;
} pal_op_conv_params_t;

void pal_op_conv_params_initialize(pal_op_conv_params_t *params);
/* x [N, C, H, W], w [M, C/group, kH, kW]; out [N, M, OH, OW]. */
pal_status_t pal_op_conv_infer(const pal_shape_t *x_shape, const pal_shape_t *w_shape,
                               const pal_op_conv_params_t *params, pal_shape_t *out_shape);
/* bias (may be NULL) holds M values. Allocates an im2col workspace of about
 * 16 MiB at most (built a band of output rows at a time). */
pal_status_t pal_op_conv(const float *x, const pal_shape_t *x_shape, const float *w,
                         const pal_shape_t *w_shape, const float *bias,
                         const pal_op_conv_params_t *params, float *y);

/* ---- data movement (any element size) ----------------------------------------- */

/* perm (may be NULL: reverse the dims) is a permutation of [0, rank). */
pal_status_t pal_op_transpose_infer(const pal_shape_t *shape, const int64_t *perm,
                                    pal_shape_t *out_shape);
pal_status_t pal_op_transpose(const void *x, const pal_shape_t *shape, size_t elem_size,
                              const int64_t *perm, void *y);

/* n >= 1 inputs of equal rank, equal dims except at axis. */
pal_status_t pal_op_concat_infer(const pal_shape_t *shapes, int n, int64_t axis,
                                 pal_shape_t *out_shape);
pal_status_t pal_op_concat(const void *const *inputs, const pal_shape_t *shapes, int n,
                           int64_t axis, size_t elem_size, void *y);

/* n outputs along axis; sizes (may be NULL) must sum to dims[axis]; without
 * sizes each part gets ceil(d / n) and the last the remainder (opset 18;
 * identical to opset 13 whenever n divides d). */
pal_status_t pal_op_split_infer(const pal_shape_t *shape, int64_t axis, const int64_t *sizes,
                                int n, pal_shape_t *out_shapes);
pal_status_t pal_op_split(const void *x, const pal_shape_t *shape, size_t elem_size, int64_t axis,
                          const int64_t *sizes, int n, void *const *outputs);

/* ONNX Slice (opset 13): n entries; axes NULL means 0..n-1, steps NULL
 * means all 1. Starts/ends clamp as the spec says (docs/ops.md). */
pal_status_t pal_op_slice_infer(const pal_shape_t *shape, const int64_t *starts,
                                const int64_t *ends, const int64_t *axes, const int64_t *steps,
                                int n, pal_shape_t *out_shape);
pal_status_t pal_op_slice(const void *x, const pal_shape_t *shape, size_t elem_size,
                          const int64_t *starts, const int64_t *ends, const int64_t *axes,
                          const int64_t *steps, int n, void *y);

/* out shape = data.dims[:axis] + indices.dims + data.dims[axis+1:];
 * indices in [-d, d-1] (negative counts from the end), else
 * PAL_OUT_OF_RANGE naming the index and its position. */
pal_status_t pal_op_gather_infer(const pal_shape_t *data_shape, const pal_shape_t *indices_shape,
                                 int64_t axis, pal_shape_t *out_shape);
pal_status_t pal_op_gather(const void *data, const pal_shape_t *data_shape, size_t elem_size,
                           const int64_t *indices, const pal_shape_t *indices_shape, int64_t axis,
                           void *y);

/* Cast count elements. float -> integer: NaN -> 0, otherwise truncation
 * toward zero, saturating at the target's limits (docs/ops.md); -> BOOL is
 * x != 0 (NaN -> 1); integer -> narrower integer wraps (two's complement);
 * integer -> float rounds to nearest. */
pal_status_t pal_op_cast(const void *x, pal_op_dtype_t from, int64_t count, pal_op_dtype_t to,
                         void *y);

#ifdef __cplusplus
}
#endif
#endif /* PAL_OPS_H */
