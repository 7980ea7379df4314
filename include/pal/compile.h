/* The tile compiler (docs/compiler.md): lowers chains of dense layers (ONNX
 * Gemm/MatMul + bias + ReLU/Clip) and 2-D convolutions (through im2col) to
 * tile programs, tiled for a device's geometry and buffer sizes, and runs
 * them on any pal_device_t bit-exactly as pal_plan_reference predicts.
 *
 * Numbers: inputs are encoded FP32 -> PAL8-B32 on the host (rows along K,
 * pal_b32_matrix_encode), weights likewise (rows along K); every layer's
 * output but the last is re-quantised to PAL8-B32 along its features (on
 * chip by POST, or on the host when it spills: the same bits); the last
 * layer's output is FP32, NaR outputs as quiet NaN. */
#ifndef PAL_COMPILE_H
#define PAL_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/driver.h"
#include "pal/format.h"
#include "pal/kernel_image.h"
#include "pal/status.h"
#include "pal/tile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dense layers ---------------------------------------------------------- */

/* y[m][n] = act(sum_k x[m][k] * W[n][k] + bias[n]) */
typedef struct pal_dense_layer {
  uint32_t in_features;  /* K >= 1 */
  uint32_t out_features; /* N >= 1 */
  /* N x K, row-major (ONNX Gemm with transB = 1; for MatMul's K x N use
   * pal_dense_transpose_weights). Not owned; copied by the planner. */
  const float *weights;
  const float *bias;          /* N values, or NULL */
  pal_bias_mode_t bias_mode;  /* PAL_BIAS_START (default): the accumulator's
                               * start value; PAL_BIAS_POST: added after K */
  pal_activation_t act;       /* PAL_ACT_NONE, PAL_ACT_RELU, PAL_ACT_CLIP */
  float clip_lo, clip_hi;     /* for PAL_ACT_CLIP (lo <= hi) */
} pal_dense_layer_t;

/* Zero sizes, no weights, no bias (start mode), no activation. */
void pal_dense_layer_initialize(pal_dense_layer_t *layer);

/* out[n*K + k] = in[k*N + n]: MatMul's K x N weight to the N x K layout. */
void pal_dense_transpose_weights(const float *in_k_by_n, uint32_t k, uint32_t n,
                                 float *out_n_by_k);

/* ---- plans ----------------------------------------------------------------- */

typedef struct pal_plan pal_plan_t;

typedef struct pal_plan_options {
  /* Refuse plans whose intermediate activations would spill through the
   * host (PAL_RESOURCE_EXHAUSTED naming the layer) instead of spilling. */
  bool require_on_chip;
  /* Largest M chunk to use (0: as large as the buffers allow). For tests
   * and experiments; the planner may still choose smaller. */
  uint32_t max_m_chunk;
  /* Only tilings that are one kernel per M chunk (what a .palk can hold,
   * for `pal compile`): PAL_UNIMPLEMENTED naming why when there is none. */
  bool single_kernel;
} pal_plan_options_t;

void pal_plan_options_initialize(pal_plan_options_t *options);

/* Plans a chain of n >= 1 dense layers for a tile of `geometry` (the
 * device's, e.g. pal_device_tile(dev)->config). layers[i+1].in_features must
 * equal layers[i].out_features. max_batch (>= 1) sizes the M chunks; runs
 * may use any batch. Copies and encodes the weights. Fails with
 * PAL_INVALID_ARGUMENT (bad layer: zero sizes, NULL weights, chain
 * mismatch, clip_lo > clip_hi, bad enum) or PAL_RESOURCE_EXHAUSTED (the
 * geometry's buffers are too small for even the smallest tiling), the
 * message naming the layer and the buffer. `options` may be NULL.
 * Release with pal_plan_destroy. */
pal_status_t pal_plan_dense_chain(const pal_tile_config_t *geometry, const pal_dense_layer_t *layers,
                                  size_t n, uint32_t max_batch, const pal_plan_options_t *options,
                                  pal_plan_t **out_plan);
void pal_plan_destroy(pal_plan_t *plan);

/* What one pal_plan_run did (all counts summed over the call). */
typedef struct pal_plan_stats {
  uint64_t kernel_runs;       /* programs started on the tile */
  uint64_t bytes_to_device;   /* payload bytes written: weights, bias, activations, code */
  uint64_t bytes_from_device; /* payload bytes read back (outputs, spills) */
  uint64_t weight_bytes;      /* part of bytes_to_device that was WMEM */
  uint64_t spills;            /* layer outputs that went through the host mid-chain */
  uint64_t host_post_outputs; /* outputs whose bias/activation the host applied (a tile
                               * without a POST unit: pal_tile_config_t.no_post) */
  uint64_t link_requests;     /* protocol transactions (0 on emu://?direct=1) */
  uint64_t wire_bytes_tx, wire_bytes_rx; /* link bytes incl. framing (0 on the direct path) */
  pal_tile_counters_t counters; /* the tile's counters over the call (CYC_TOTAL, MACS_ISSUED, ...) */
} pal_plan_stats_t;

/* Runs the plan on `device` (whose geometry must match the plan's: same
 * R x C and buffers at least as large): x is batch x K0 FP32 row-major,
 * y receives batch x N_last FP32. Resets the tile's counters first.
 * out_stats may be NULL. Errors name the device, the layer and the step. */
pal_status_t pal_plan_run(pal_plan_t *plan, pal_device_t *device, const float *x, uint32_t batch,
                          float *y, pal_plan_stats_t *out_stats);

/* What pal_plan_run produces, computed on the host with the golden model
 * (pal_gemm_ref layer by layer, PAL8-B32 re-encoding between layers). */
pal_status_t pal_plan_reference(const pal_plan_t *plan, const float *x, uint32_t batch, float *y);

/* A human-readable summary of the tiling (one line per layer plus a
 * header): M chunk, K chunks, N groups, weights resident or streamed,
 * activations on chip or spilled, kernel runs per chunk. NUL-terminated;
 * release with free(). */
pal_status_t pal_plan_describe(const pal_plan_t *plan, char **out_text);

/* Shape queries. */
size_t pal_plan_layer_count(const pal_plan_t *plan);
uint32_t pal_plan_in_features(const pal_plan_t *plan);
uint32_t pal_plan_out_features(const pal_plan_t *plan);
/* Rows per kernel pass (the M chunk). */
uint32_t pal_plan_m_chunk(const pal_plan_t *plan);
/* True when one kernel image holds the whole chain (every weight resident,
 * every activation on chip, one program per M chunk): pal_plan_write_palk
 * works only then. */
bool pal_plan_is_single_kernel(const pal_plan_t *plan);

/* ---- kernel images --------------------------------------------------------
 * A single-kernel plan as a .palk image: WMEM and BIAS sections with the
 * constant weights, the program for one M chunk of pal_plan_m_chunk rows,
 * an input binding "x" (PAL8-B32, rows = M chunk, cols = K0, in ABUF) and
 * an output binding "y" (FP32, rows = M chunk, cols = N_last, in OBUF).
 * A batch smaller than the chunk is run with zero rows (they cost no MAC
 * cycles). Plans that need several kernel runs per chunk are refused with
 * PAL_UNIMPLEMENTED naming why (run them with pal_plan_run). */
pal_status_t pal_plan_build_palk(const pal_plan_t *plan, pal_kernel_image_builder_t **out_builder);
pal_status_t pal_plan_write_palk(const pal_plan_t *plan, const char *path);

/* Runs a dense image of the shape above (bindings "x" and "y") on a device:
 * validates and loads it, then for each chunk of the binding's rows writes
 * x (encoded, zero rows past batch), runs from the entry PC and reads y.
 * x is batch x cols("x"), y batch x cols("y"). out_stats may be NULL. */
pal_status_t pal_palk_run_dense(const pal_kernel_image_t *image, pal_device_t *device,
                                const float *x, uint32_t batch, float *y,
                                pal_plan_stats_t *out_stats);

/* ---- 2-D convolution (NCHW) through im2col --------------------------------- */

typedef struct pal_conv2d {
  uint32_t in_channels, in_h, in_w; /* C, H, W */
  uint32_t out_channels;            /* M */
  uint32_t kernel_h, kernel_w;
  uint32_t stride_h, stride_w;      /* >= 1 */
  uint32_t pad_top, pad_left, pad_bottom, pad_right;
  uint32_t dilation_h, dilation_w;  /* >= 1 */
  uint32_t groups;                  /* only 1 is supported */
  const float *weights;             /* M x C x kH x kW (ONNX layout) */
  const float *bias;                /* M values or NULL */
  pal_activation_t act;
  float clip_lo, clip_hi;
} pal_conv2d_t;

/* Strides and dilations 1, no padding, groups 1, no bias, no activation. */
void pal_conv2d_initialize(pal_conv2d_t *conv);
/* Checks the shape; PAL_UNIMPLEMENTED (groups != 1) or PAL_INVALID_ARGUMENT
 * naming the field, so a runtime can fall back with the reason. Fills the
 * output size. */
pal_status_t pal_conv2d_check(const pal_conv2d_t *conv, uint32_t *out_h, uint32_t *out_w);
/* The conv as a dense layer over im2col rows: K = C*kH*kW, N = M; the
 * weights pointer is the conv's (its layout already is N x K). */
pal_status_t pal_conv2d_as_dense(const pal_conv2d_t *conv, pal_dense_layer_t *out_layer);
/* im2col of one image (C x H x W): OH*OW rows of K values, row (oh, ow)
 * holding x[c][oh*sh - pt + kh*dh][ow*sw - pl + kw*dw] at k = (c*kH + kh)*kW + kw,
 * zero outside the image. Writes nothing for a shape pal_conv2d_check refuses
 * (weights are not needed here). */
void pal_conv2d_im2col(const pal_conv2d_t *conv, const float *image, float *out_rows);

/* A planned convolution: a one-layer plan over im2col rows, max_batch
 * images. Runs take x as batch x C x H x W and give y as batch x M x OH x OW. */
typedef struct pal_conv2d_plan pal_conv2d_plan_t;
pal_status_t pal_plan_conv2d(const pal_tile_config_t *geometry, const pal_conv2d_t *conv,
                             uint32_t max_batch, pal_conv2d_plan_t **out_plan);
void pal_conv2d_plan_destroy(pal_conv2d_plan_t *plan);
pal_status_t pal_conv2d_plan_run(pal_conv2d_plan_t *plan, pal_device_t *device, const float *x,
                                 uint32_t batch, float *y, pal_plan_stats_t *out_stats);
pal_status_t pal_conv2d_plan_reference(const pal_conv2d_plan_t *plan, const float *x,
                                       uint32_t batch, float *y);
/* The underlying dense plan (owned by the conv plan), for describe(). */
pal_plan_t *pal_conv2d_plan_dense(pal_conv2d_plan_t *plan);

#ifdef __cplusplus
}
#endif
#endif /* PAL_COMPILE_H */
