/* Element-wise FP32 unary kernels (activations and math functions). NaN
 * inputs propagate (Relu and Clip included: comparisons are written so a NaN
 * falls through unchanged). */
#include <math.h>

#include "ops_internal.h"

static pal_status_t check_unary(const char *op, const float *x, int64_t count, const float *y) {
  if (count < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: count %lld is negative", op, (long long)count);
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, count));
  return pal_ops_check_ptr(op, "Y", y, count);
}

static float sigmoidf(float v) {
  /* the two branches keep exp() from overflowing for large |v| */
  if (v >= 0) return 1.0f / (1.0f + expf(-v));
  float e = expf(v);
  return e / (1.0f + e);
}

static float gelu_tanh(float v) {
  const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
  return 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
}

pal_status_t pal_op_unary(pal_op_unary_kind_t kind, const float *x, int64_t count, float *y) {
  PAL_RETURN_IF_ERROR(check_unary("unary", x, count, y));
  int64_t n = count;
  switch (kind) {
    case PAL_OP_RELU:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
      return PAL_STATUS_OK;
    case PAL_OP_SIGMOID:
      for (int64_t i = 0; i < n; i++) y[i] = sigmoidf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_TANH:
      for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_ERF:
      for (int64_t i = 0; i < n; i++) y[i] = erff(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_GELU:
      for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.7071067811865476f));
      return PAL_STATUS_OK;
    case PAL_OP_GELU_TANH:
      for (int64_t i = 0; i < n; i++) y[i] = gelu_tanh(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_SQRT:
      for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_EXP:
      for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_LOG:
      for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_NEG:
      for (int64_t i = 0; i < n; i++) y[i] = -x[i];
      return PAL_STATUS_OK;
    case PAL_OP_ABS:
      for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_RECIPROCAL:
      for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
      return PAL_STATUS_OK;
    case PAL_OP_FLOOR:
      for (int64_t i = 0; i < n; i++) y[i] = floorf(x[i]);
      return PAL_STATUS_OK;
    case PAL_OP_CEIL:
      for (int64_t i = 0; i < n; i++) y[i] = ceilf(x[i]);
      return PAL_STATUS_OK;
  }
  return pal_status_make(PAL_INVALID_ARGUMENT, "unary: unknown kind %d", (int)kind);
}

pal_status_t pal_op_leaky_relu(const float *x, int64_t count, float alpha, float *y) {
  PAL_RETURN_IF_ERROR(check_unary("LeakyRelu", x, count, y));
  for (int64_t i = 0; i < count; i++) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
  return PAL_STATUS_OK;
}

pal_status_t pal_op_clip(const float *x, int64_t count, float min, float max, float *y) {
  PAL_RETURN_IF_ERROR(check_unary("Clip", x, count, y));
  if (isnan(min) || isnan(max))
    return pal_status_make(PAL_INVALID_ARGUMENT, "Clip: %s bound is NaN", isnan(min) ? "min" : "max");
  for (int64_t i = 0; i < count; i++) {
    float v = x[i];
    v = v < min ? min : v; /* min(max(x, lo), hi), as ONNX defines it */
    y[i] = v > max ? max : v;
  }
  return PAL_STATUS_OK;
}
