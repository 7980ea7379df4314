/* ReduceSum/Mean/Max/Min/Prod over a set of axes with keepdims. One pass
 * over the input in order; each element lands in its output slot through
 * strides that are 0 on the reduced dims. Sum/Mean/Prod accumulate in
 * double. */
#include <math.h>
#include <stdlib.h>

#include "ops_internal.h"

static const char *reduce_name(pal_op_reduce_kind_t k) {
  switch (k) {
    case PAL_OP_REDUCE_SUM: return "ReduceSum";
    case PAL_OP_REDUCE_MEAN: return "ReduceMean";
    case PAL_OP_REDUCE_MAX: return "ReduceMax";
    case PAL_OP_REDUCE_MIN: return "ReduceMin";
    case PAL_OP_REDUCE_PROD: return "ReduceProd";
  }
  return "Reduce";
}

/* Sets red[i] for every reduced dim and returns the output shape. */
static pal_status_t reduce_plan(const char *op, const pal_shape_t *shape, const int64_t *axes,
                                int n_axes, int keepdims, int noop, int red[PAL_MAX_RANK],
                                pal_shape_t *out_shape) {
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, NULL));
  if (n_axes < 0 || n_axes > PAL_MAX_RANK || (n_axes > 0 && !axes))
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: bad axes list (%d entries%s)", op, n_axes,
                           n_axes > 0 && !axes ? ", NULL" : "");
  for (int i = 0; i < PAL_MAX_RANK; i++) red[i] = 0;
  if (n_axes == 0) {
    for (int i = 0; i < shape->rank; i++) red[i] = !noop;
  } else {
    for (int k = 0; k < n_axes; k++) {
      int ax;
      PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axes entry", axes[k], shape->rank, &ax));
      if (red[ax])
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: axis %lld appears twice in axes", op,
                               (long long)axes[k]);
      red[ax] = 1;
    }
  }
  pal_shape_t o;
  memset(&o, 0, sizeof o);
  for (int i = 0; i < shape->rank; i++) {
    if (!red[i])
      o.dims[o.rank++] = shape->dims[i];
    else if (keepdims)
      o.dims[o.rank++] = 1;
  }
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_reduce_infer(const pal_shape_t *shape, const int64_t *axes, int n_axes,
                                 int keepdims, int noop_with_empty_axes, pal_shape_t *out_shape) {
  int red[PAL_MAX_RANK];
  return reduce_plan("Reduce", shape, axes, n_axes, keepdims, noop_with_empty_axes, red, out_shape);
}

pal_status_t pal_op_reduce(pal_op_reduce_kind_t kind, const float *x, const pal_shape_t *shape,
                           const int64_t *axes, int n_axes, int keepdims, int noop_with_empty_axes,
                           float *y) {
  if ((unsigned)kind > PAL_OP_REDUCE_PROD)
    return pal_status_make(PAL_INVALID_ARGUMENT, "Reduce: unknown kind %d", (int)kind);
  const char *op = reduce_name(kind);
  int red[PAL_MAX_RANK];
  pal_shape_t os;
  PAL_RETURN_IF_ERROR(reduce_plan(op, shape, axes, n_axes, keepdims, noop_with_empty_axes, red, &os));
  int64_t n, no;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, &n));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &os, &no));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input", x, n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, no));
  if (no == 0) return PAL_STATUS_OK;
  int64_t group = no ? n / no : 0; /* elements per output (0 when x is empty) */
  /* output strides along the input dims; 0 on reduced dims */
  int64_t ost[PAL_MAX_RANK];
  int64_t s = 1;
  for (int i = shape->rank - 1; i >= 0; i--) {
    if (red[i]) {
      ost[i] = 0;
    } else {
      ost[i] = s;
      s *= shape->dims[i];
    }
  }
  double *acc = NULL;
  if (kind == PAL_OP_REDUCE_SUM || kind == PAL_OP_REDUCE_MEAN || kind == PAL_OP_REDUCE_PROD) {
    acc = malloc((size_t)no * sizeof *acc);
    if (!acc)
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: no memory for %lld accumulators", op,
                             (long long)no);
    for (int64_t i = 0; i < no; i++) acc[i] = kind == PAL_OP_REDUCE_PROD ? 1.0 : 0.0;
  } else {
    float init = kind == PAL_OP_REDUCE_MAX ? -INFINITY : INFINITY;
    for (int64_t i = 0; i < no; i++) y[i] = init;
  }
  if (n > 0) {
    int r = shape->rank;
    int64_t inner = r ? shape->dims[r - 1] : 1;
    int64_t inner_st = r ? ost[r - 1] : 0;
    int64_t idx[PAL_MAX_RANK] = {0};
    int64_t off = 0;
    for (int64_t base = 0; base < n; base += inner) {
      const float *px = x + base;
      switch (kind) {
        case PAL_OP_REDUCE_SUM:
        case PAL_OP_REDUCE_MEAN:
          if (inner_st == 0) {
            double t = 0.0;
            for (int64_t i = 0; i < inner; i++) t += px[i];
            acc[off] += t;
          } else {
            for (int64_t i = 0; i < inner; i++) acc[off + i] += px[i];
          }
          break;
        case PAL_OP_REDUCE_PROD:
          for (int64_t i = 0; i < inner; i++) acc[off + i * inner_st] *= px[i];
          break;
        case PAL_OP_REDUCE_MAX:
          for (int64_t i = 0; i < inner; i++) {
            float v = px[i], *py = &y[off + i * inner_st];
            if (v > *py || isnan(v)) *py = isnan(*py) ? *py : v;
          }
          break;
        case PAL_OP_REDUCE_MIN:
          for (int64_t i = 0; i < inner; i++) {
            float v = px[i], *py = &y[off + i * inner_st];
            if (v < *py || isnan(v)) *py = isnan(*py) ? *py : v;
          }
          break;
      }
      for (int d = r - 2; d >= 0; d--) {
        idx[d]++;
        off += ost[d];
        if (idx[d] < shape->dims[d]) break;
        off -= ost[d] * shape->dims[d];
        idx[d] = 0;
      }
    }
  }
  if (acc) {
    if (kind == PAL_OP_REDUCE_MEAN)
      for (int64_t i = 0; i < no; i++) y[i] = group ? (float)(acc[i] / (double)group) : NAN;
    else
      for (int64_t i = 0; i < no; i++) y[i] = (float)acc[i];
    free(acc);
  }
  return PAL_STATUS_OK;
}
