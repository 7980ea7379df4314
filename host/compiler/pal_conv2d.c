/* 2-D convolution (NCHW, groups = 1) on the tile: im2col on the host, then
 * one dense layer over the patch rows (K = C*kH*kW, N = M, ONNX's weight
 * layout already is N x K). Shapes the lowering does not cover are refused
 * with a status naming the field, so a runtime can fall back with a reason. */
#include <stdlib.h>
#include <string.h>

#include "pal_compile_internal.h"

struct pal_conv2d_plan {
  pal_conv2d_t conv; /* weights/bias pointers cleared: the dense plan owns copies */
  uint32_t out_h, out_w;
  pal_plan_t *dense;
};

void pal_conv2d_initialize(pal_conv2d_t *conv) {
  memset(conv, 0, sizeof *conv);
  conv->stride_h = conv->stride_w = 1;
  conv->dilation_h = conv->dilation_w = 1;
  conv->groups = 1;
  conv->act = PAL_ACT_NONE;
}

/* The shape alone (im2col needs no weights). */
static pal_status_t check_shape(const pal_conv2d_t *c, uint32_t *out_h, uint32_t *out_w) {
  if (!c) return pal_status_make(PAL_INVALID_ARGUMENT, "conv2d: NULL description");
  if (c->groups != 1)
    return pal_status_make(PAL_UNIMPLEMENTED, "conv2d: groups = %u: only groups = 1 lowers to the tile", c->groups);
  if (!c->in_channels || !c->in_h || !c->in_w || !c->out_channels || !c->kernel_h || !c->kernel_w)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "conv2d: every size must be >= 1 (C %u, H %u, W %u, M %u, kernel %u x %u)",
                           c->in_channels, c->in_h, c->in_w, c->out_channels, c->kernel_h, c->kernel_w);
  if (!c->stride_h || !c->stride_w || !c->dilation_h || !c->dilation_w)
    return pal_status_make(PAL_INVALID_ARGUMENT, "conv2d: strides (%u, %u) and dilations (%u, %u) must be >= 1",
                           c->stride_h, c->stride_w, c->dilation_h, c->dilation_w);
  uint64_t ext_h = (uint64_t)c->dilation_h * (c->kernel_h - 1) + 1;
  uint64_t ext_w = (uint64_t)c->dilation_w * (c->kernel_w - 1) + 1;
  uint64_t ph = (uint64_t)c->in_h + c->pad_top + c->pad_bottom, pw = (uint64_t)c->in_w + c->pad_left + c->pad_right;
  if (ext_h > ph || ext_w > pw)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "conv2d: the dilated kernel (%llu x %llu) is larger than the padded input (%llu x %llu)",
                           (unsigned long long)ext_h, (unsigned long long)ext_w, (unsigned long long)ph,
                           (unsigned long long)pw);
  uint64_t oh = (ph - ext_h) / c->stride_h + 1, ow = (pw - ext_w) / c->stride_w + 1;
  uint64_t k = (uint64_t)c->in_channels * c->kernel_h * c->kernel_w;
  if (k > (1u << 24) || oh * ow > (1u << 24) || c->out_channels > (1u << 24))
    return pal_status_make(PAL_OUT_OF_RANGE, "conv2d: K %llu or %llu output pixels is past what the compiler supports",
                           (unsigned long long)k, (unsigned long long)(oh * ow));
  if (c->act == PAL_ACT_CLIP && !(c->clip_lo <= c->clip_hi))
    return pal_status_make(PAL_INVALID_ARGUMENT, "conv2d: clip_lo %g > clip_hi %g", (double)c->clip_lo,
                           (double)c->clip_hi);
  if (out_h) *out_h = (uint32_t)oh;
  if (out_w) *out_w = (uint32_t)ow;
  return PAL_STATUS_OK;
}

pal_status_t pal_conv2d_check(const pal_conv2d_t *c, uint32_t *out_h, uint32_t *out_w) {
  PAL_RETURN_IF_ERROR(check_shape(c, out_h, out_w));
  if (!c->weights) return pal_status_make(PAL_INVALID_ARGUMENT, "conv2d: weights are NULL");
  return PAL_STATUS_OK;
}

pal_status_t pal_conv2d_as_dense(const pal_conv2d_t *c, pal_dense_layer_t *out_layer) {
  PAL_RETURN_IF_ERROR(pal_conv2d_check(c, NULL, NULL));
  pal_dense_layer_initialize(out_layer);
  out_layer->in_features = c->in_channels * c->kernel_h * c->kernel_w;
  out_layer->out_features = c->out_channels;
  out_layer->weights = c->weights;
  out_layer->bias = c->bias;
  out_layer->act = c->act;
  out_layer->clip_lo = c->clip_lo;
  out_layer->clip_hi = c->clip_hi;
  return PAL_STATUS_OK;
}

void pal_conv2d_im2col(const pal_conv2d_t *c, const float *image, float *out_rows) {
  uint32_t oh_n, ow_n;
  pal_status_t st = check_shape(c, &oh_n, &ow_n);
  if (st) {
    pal_status_free(st);
    return;
  }
  size_t k = (size_t)c->in_channels * c->kernel_h * c->kernel_w;
  for (uint32_t oh = 0; oh < oh_n; oh++)
    for (uint32_t ow = 0; ow < ow_n; ow++) {
      float *row = out_rows + ((size_t)oh * ow_n + ow) * k;
      for (uint32_t ch = 0; ch < c->in_channels; ch++)
        for (uint32_t kh = 0; kh < c->kernel_h; kh++) {
          int64_t ih = (int64_t)oh * c->stride_h - c->pad_top + (int64_t)kh * c->dilation_h;
          for (uint32_t kw = 0; kw < c->kernel_w; kw++) {
            int64_t iw = (int64_t)ow * c->stride_w - c->pad_left + (int64_t)kw * c->dilation_w;
            bool in = ih >= 0 && ih < c->in_h && iw >= 0 && iw < c->in_w;
            row[((size_t)ch * c->kernel_h + kh) * c->kernel_w + kw] =
                in ? image[((size_t)ch * c->in_h + (size_t)ih) * c->in_w + (size_t)iw] : 0.0f;
          }
        }
    }
}

pal_status_t pal_plan_conv2d(const pal_tile_config_t *geometry, const pal_conv2d_t *conv, uint32_t max_batch,
                             pal_conv2d_plan_t **out_plan) {
  if (!out_plan) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_conv2d: out_plan is NULL");
  *out_plan = NULL;
  uint32_t oh, ow;
  PAL_RETURN_IF_ERROR(pal_conv2d_check(conv, &oh, &ow));
  if (max_batch == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_conv2d: max_batch is 0");
  pal_dense_layer_t layer;
  PAL_RETURN_IF_ERROR(pal_conv2d_as_dense(conv, &layer));
  pal_conv2d_plan_t *p = calloc(1, sizeof *p);
  if (!p) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a conv2d plan");
  p->conv = *conv;
  p->conv.weights = NULL;
  p->conv.bias = NULL;
  p->out_h = oh;
  p->out_w = ow;
  uint64_t rows = (uint64_t)max_batch * oh * ow;
  pal_status_t st = pal_plan_dense_chain(geometry, &layer, 1, rows > 65535 ? 65535 : (uint32_t)rows, NULL,
                                         &p->dense);
  if (st) {
    free(p);
    return pal_status_annotate(st, "conv2d as a dense layer over im2col rows: ");
  }
  *out_plan = p;
  return PAL_STATUS_OK;
}

void pal_conv2d_plan_destroy(pal_conv2d_plan_t *plan) {
  if (!plan) return;
  pal_plan_destroy(plan->dense);
  free(plan);
}

pal_plan_t *pal_conv2d_plan_dense(pal_conv2d_plan_t *plan) { return plan->dense; }

static void add_stats(pal_plan_stats_t *acc, const pal_plan_stats_t *s) {
  acc->kernel_runs += s->kernel_runs;
  acc->bytes_to_device += s->bytes_to_device;
  acc->bytes_from_device += s->bytes_from_device;
  acc->weight_bytes += s->weight_bytes;
  acc->spills += s->spills;
  acc->host_post_outputs += s->host_post_outputs;
  acc->link_requests += s->link_requests;
  acc->wire_bytes_tx += s->wire_bytes_tx;
  acc->wire_bytes_rx += s->wire_bytes_rx;
  for (int i = 0; i < PAL_TILE_CTR_COUNT; i++) acc->counters.value[i] += s->counters.value[i];
}

/* im2col, the dense call, then rows (b, oh, ow) x M to NCHW — a slice of
 * images at a time, so the im2col buffer stays bounded whatever the batch
 * (the dense plan cuts its own M chunks anyway, far below this). */
#define PAL_CONV2D_SLICE_ROWS 4096u
static pal_status_t conv_run(pal_conv2d_plan_t *plan, pal_device_t *device, const float *x, uint32_t batch,
                             float *y, pal_plan_stats_t *out_stats) {
  if (!plan || !x || !y || batch == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "conv2d run: NULL argument or batch 0");
  const pal_conv2d_t *c = &plan->conv;
  size_t pix = (size_t)plan->out_h * plan->out_w, k = (size_t)c->in_channels * c->kernel_h * c->kernel_w;
  size_t img = (size_t)c->in_channels * c->in_h * c->in_w, out_img = (size_t)c->out_channels * pix;
  size_t per = pix >= PAL_CONV2D_SLICE_ROWS ? 1 : PAL_CONV2D_SLICE_ROWS / pix;
  if (per > batch) per = batch;
  size_t rows = per * pix;
  if (rows > UINT32_MAX) return pal_status_make(PAL_OUT_OF_RANGE, "conv2d run: %zu im2col rows", rows);
  float *cols = malloc(rows * k * sizeof(float));
  float *out = malloc(rows * c->out_channels * sizeof(float));
  pal_plan_stats_t total, one;
  memset(&total, 0, sizeof total);
  pal_status_t st = PAL_STATUS_OK;
  if (!cols || !out) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for %zu im2col rows", rows);
  for (size_t b0 = 0; !st && b0 < batch; b0 += per) {
    size_t nb = batch - b0 < per ? batch - b0 : per;
    for (size_t b = 0; b < nb; b++) pal_conv2d_im2col(c, x + (b0 + b) * img, cols + b * pix * k);
    memset(&one, 0, sizeof one);
    st = device ? pal_plan_run(plan->dense, device, cols, (uint32_t)(nb * pix), out, &one)
                : pal_plan_reference(plan->dense, cols, (uint32_t)(nb * pix), out);
    add_stats(&total, &one);
    for (size_t b = 0; !st && b < nb; b++)
      for (size_t p = 0; p < pix; p++)
        for (uint32_t m = 0; m < c->out_channels; m++)
          y[(b0 + b) * out_img + (size_t)m * pix + p] = out[(b * pix + p) * c->out_channels + m];
  }
  free(cols);
  free(out);
  if (out_stats) *out_stats = total;
  return st;
}

pal_status_t pal_conv2d_plan_run(pal_conv2d_plan_t *plan, pal_device_t *device, const float *x, uint32_t batch,
                                 float *y, pal_plan_stats_t *out_stats) {
  if (!device) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_conv2d_plan_run: device is NULL");
  return conv_run(plan, device, x, batch, y, out_stats);
}

pal_status_t pal_conv2d_plan_reference(const pal_conv2d_plan_t *plan, const float *x, uint32_t batch,
                                       float *y) {
  return conv_run((pal_conv2d_plan_t *)plan, NULL, x, batch, y, NULL);
}
