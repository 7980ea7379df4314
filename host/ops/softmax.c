/* Softmax and LogSoftmax along one axis (opset 13). The max is subtracted
 * first so exp() never overflows; the sum is kept in double. */
#include <math.h>
#include <stdlib.h>

#include "ops_internal.h"

static pal_status_t softmax_impl(const char *op, int logsm, const float *x,
                                 const pal_shape_t *shape, int64_t axis, float *y) {
  int64_t n;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, &n));
  int ax;
  /* a scalar has no axis; ONNX requires rank >= 1 */
  PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axis", axis, shape->rank, &ax));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input", x, n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, n));
  if (n == 0) return PAL_STATUS_OK;
  int64_t outer = 1, inner = 1, d = shape->dims[ax];
  for (int i = 0; i < ax; i++) outer *= shape->dims[i];
  for (int i = ax + 1; i < shape->rank; i++) inner *= shape->dims[i];
  double *acc = malloc((size_t)inner * sizeof *acc);
  float *mx = malloc((size_t)inner * sizeof *mx);
  if (!acc || !mx) {
    free(acc);
    free(mx);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: no memory for %lld-element workspace", op,
                           (long long)inner);
  }
  for (int64_t o = 0; o < outer; o++) {
    const float *xo = x + o * d * inner;
    float *yo = y + o * d * inner;
    for (int64_t i = 0; i < inner; i++) {
      mx[i] = -INFINITY;
      acc[i] = 0.0;
    }
    for (int64_t k = 0; k < d; k++)
      for (int64_t i = 0; i < inner; i++) {
        float v = xo[k * inner + i];
        if (v > mx[i] || isnan(v)) mx[i] = isnan(mx[i]) ? mx[i] : v;
      }
    /* a NaN anywhere along the axis makes the max NaN and so every output
     * NaN; an all -inf row gives NaN too (-inf - -inf), as in ONNX's reference */
    for (int64_t k = 0; k < d; k++)
      for (int64_t i = 0; i < inner; i++) {
        float e = expf(xo[k * inner + i] - mx[i]);
        if (!logsm) yo[k * inner + i] = e;
        acc[i] += e;
      }
    if (logsm) {
      for (int64_t i = 0; i < inner; i++) acc[i] = log(acc[i]);
      for (int64_t k = 0; k < d; k++)
        for (int64_t i = 0; i < inner; i++)
          yo[k * inner + i] = (float)((double)(xo[k * inner + i] - mx[i]) - acc[i]);
    } else {
      for (int64_t i = 0; i < inner; i++) acc[i] = 1.0 / acc[i];
      for (int64_t k = 0; k < d; k++)
        for (int64_t i = 0; i < inner; i++)
          yo[k * inner + i] = (float)((double)yo[k * inner + i] * acc[i]);
    }
  }
  free(acc);
  free(mx);
  return PAL_STATUS_OK;
}

pal_status_t pal_op_softmax(const float *x, const pal_shape_t *shape, int64_t axis, float *y) {
  return softmax_impl("Softmax", 0, x, shape, axis, y);
}

pal_status_t pal_op_log_softmax(const float *x, const pal_shape_t *shape, int64_t axis, float *y) {
  return softmax_impl("LogSoftmax", 1, x, shape, axis, y);
}
