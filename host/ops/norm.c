/* BatchNormalization (inference) and LayerNormalization (opset 17).
 * LayerNorm statistics are computed in double, two passes, so a large mean
 * does not cancel the variance. */
#include <math.h>
#include <stdlib.h>

#include "ops_internal.h"

pal_status_t pal_op_batch_norm(const float *x, const pal_shape_t *x_shape, const float *scale,
                               const float *bias, const float *mean, const float *var,
                               float epsilon, float *y) {
  const char *op = "BatchNormalization";
  int64_t n;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &n));
  if (x_shape->rank < 2) {
    char b[160];
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: X must have rank >= 2 [N,C,...], got %s", op,
                           pal_shape_format(x_shape, b, sizeof b));
  }
  int64_t c = x_shape->dims[1];
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "scale", scale, c));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "B", bias, c));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input_mean", mean, c));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input_var", var, c));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, n));
  if (n == 0) return PAL_STATUS_OK;
  int64_t sp = 1;
  for (int i = 2; i < x_shape->rank; i++) sp *= x_shape->dims[i];
  int64_t batches = x_shape->dims[0];
  for (int64_t ci = 0; ci < c; ci++) {
    /* y = (x - mean) * (scale / sqrt(var + eps)) + bias, folded per channel */
    double inv = 1.0 / sqrt((double)var[ci] + (double)epsilon);
    float k = (float)((double)scale[ci] * inv);
    float b0 = (float)((double)bias[ci] - (double)mean[ci] * (double)scale[ci] * inv);
    for (int64_t b = 0; b < batches; b++) {
      const float *xp = x + (b * c + ci) * sp;
      float *yp = y + (b * c + ci) * sp;
      for (int64_t i = 0; i < sp; i++) yp[i] = xp[i] * k + b0;
    }
  }
  return PAL_STATUS_OK;
}

/* Strides of a parameter tensor unidirectionally broadcast to the
 * normalised dims x.dims[axis:]. */
static pal_status_t param_strides(const char *op, const char *what, const pal_shape_t *ps,
                                  const pal_shape_t *x_shape, int axis, int64_t st[PAL_MAX_RANK],
                                  int64_t *count) {
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, what, ps, count));
  int nr = x_shape->rank - axis;
  char b0[160], b1[160];
  if (ps->rank > nr)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %s shape %s has more dims than the normalised shape of X %s (axis %d)",
                           op, what, pal_shape_format(ps, b0, sizeof b0),
                           pal_shape_format(x_shape, b1, sizeof b1), axis);
  int64_t s = 1;
  for (int i = nr - 1; i >= 0; i--) {
    int j = i - (nr - ps->rank);
    int64_t xd = x_shape->dims[axis + i];
    if (j < 0 || ps->dims[j] == 1) {
      st[i] = 0;
    } else if (ps->dims[j] == xd) {
      st[i] = s;
      s *= xd;
    } else {
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: %s shape %s does not broadcast to the normalised dims of X %s (axis %d)",
                             op, what, pal_shape_format(ps, b0, sizeof b0),
                             pal_shape_format(x_shape, b1, sizeof b1), axis);
    }
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_op_layer_norm(const float *x, const pal_shape_t *x_shape, const float *scale,
                               const pal_shape_t *scale_shape, const float *bias,
                               const pal_shape_t *bias_shape, int64_t axis, float epsilon,
                               float *y, float *mean, float *inv_std_dev) {
  const char *op = "LayerNormalization";
  int64_t n;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &n));
  int ax;
  PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axis", axis, x_shape->rank, &ax));
  int64_t sst[PAL_MAX_RANK], bst[PAL_MAX_RANK], ns, nb = 0;
  PAL_RETURN_IF_ERROR(param_strides(op, "Scale", scale_shape, x_shape, ax, sst, &ns));
  if (bias) PAL_RETURN_IF_ERROR(param_strides(op, "B", bias_shape, x_shape, ax, bst, &nb));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Scale", scale, ns));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, n));
  if (n == 0) return PAL_STATUS_OK; /* (mean and inv_std_dev of an empty block are not written) */
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; i++) outer *= x_shape->dims[i];
  for (int i = ax; i < x_shape->rank; i++) inner *= x_shape->dims[i];
  /* flat offsets of scale/bias for each position of the normalised block */
  int64_t *soff = malloc((size_t)(inner ? inner : 1) * 2 * sizeof *soff);
  if (!soff)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: no memory for %lld offsets", op,
                           (long long)inner);
  int64_t *boff = soff + inner;
  {
    int nr = x_shape->rank - ax;
    int64_t idx[PAL_MAX_RANK] = {0}, so = 0, bo = 0;
    for (int64_t i = 0; i < inner; i++) {
      soff[i] = so;
      boff[i] = bo;
      for (int d = nr - 1; d >= 0; d--) {
        idx[d]++;
        so += sst[d];
        if (bias) bo += bst[d];
        if (idx[d] < x_shape->dims[ax + d]) break;
        so -= sst[d] * x_shape->dims[ax + d];
        if (bias) bo -= bst[d] * x_shape->dims[ax + d];
        idx[d] = 0;
      }
    }
  }
  for (int64_t o = 0; o < outer; o++) {
    const float *xp = x + o * inner;
    float *yp = y + o * inner;
    double s = 0.0;
    for (int64_t i = 0; i < inner; i++) s += xp[i];
    double mu = inner ? s / (double)inner : NAN;
    double v = 0.0;
    for (int64_t i = 0; i < inner; i++) {
      double d = (double)xp[i] - mu;
      v += d * d;
    }
    v = inner ? v / (double)inner : NAN;
    double inv = 1.0 / sqrt(v + (double)epsilon);
    for (int64_t i = 0; i < inner; i++) {
      double t = ((double)xp[i] - mu) * inv * (double)scale[soff[i]];
      if (bias) t += (double)bias[boff[i]];
      yp[i] = (float)t;
    }
    if (mean) mean[o] = (float)mu;
    if (inv_std_dev) inv_std_dev[o] = (float)inv;
  }
  free(soff);
  return PAL_STATUS_OK;
}
