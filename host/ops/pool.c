/* 2-D MaxPool / AveragePool (NCHW) and the global pools. Output size,
 * ceil_mode and count_include_pad follow ONNX's spec and ONNX Runtime
 * (docs/ops.md): with ceil_mode a window that would start in the end
 * padding is dropped. */
#include <math.h>

#include "ops_internal.h"

void pal_op_pool_params_initialize(pal_op_pool_params_t *params) {
  memset(params, 0, sizeof *params);
  params->strides[0] = params->strides[1] = 1;
  params->dilations[0] = params->dilations[1] = 1;
  params->auto_pad = PAL_OP_PAD_NOTSET;
}

pal_status_t pal_ops_window_dim(const char *op, int dim, int64_t in, int64_t k, int64_t stride,
                                int64_t dil, int64_t pad_b, int64_t pad_e, pal_op_auto_pad_t ap,
                                int ceil_mode, int64_t *out, int64_t *out_pad_b,
                                int64_t *out_pad_e) {
  const char *dn = dim ? "W" : "H";
  const int64_t lim = (int64_t)1 << 40; /* keeps all index arithmetic far from overflow */
  if (in > lim) /* only an empty tensor can have such a dim; refuse it */
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: input %s size %lld exceeds 2^40", op, dn,
                           (long long)in);
  if (k <= 0 || k > lim)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: kernel %s size %lld must be in [1, 2^40]", op,
                           dn, (long long)k);
  if (stride <= 0 || stride > lim)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: stride %s %lld must be positive", op, dn,
                           (long long)stride);
  if (dil <= 0 || dil > lim)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: dilation %s %lld must be positive", op, dn,
                           (long long)dil);
  if (k - 1 > lim / dil)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: dilated kernel %s too large", op, dn);
  int64_t eff = (k - 1) * dil + 1;
  if (eff > lim)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: dilated kernel %s too large", op, dn);
  int64_t o;
  switch (ap) {
    case PAL_OP_PAD_NOTSET: {
      if (pad_b < 0 || pad_e < 0 || pad_b > lim || pad_e > lim)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: pads for %s (%lld, %lld) must be >= 0", op,
                               dn, (long long)pad_b, (long long)pad_e);
      int64_t span = in + pad_b + pad_e - eff;
      if (span < 0)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "%s: kernel %s extent %lld exceeds padded input %lld", op, dn,
                               (long long)eff, (long long)(in + pad_b + pad_e));
      o = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
      /* the last window must start inside the input or the begin padding */
      if (ceil_mode && (o - 1) * stride >= in + pad_b) o--;
      break;
    }
    case PAL_OP_PAD_VALID:
      if (in < eff)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: kernel %s extent %lld exceeds input %lld",
                               op, dn, (long long)eff, (long long)in);
      pad_b = pad_e = 0;
      o = (in - eff) / stride + 1;
      break;
    case PAL_OP_PAD_SAME_UPPER:
    case PAL_OP_PAD_SAME_LOWER: {
      o = (in + stride - 1) / stride;
      int64_t total = (o - 1) * stride + eff - in;
      if (total < 0) total = 0;
      pad_b = ap == PAL_OP_PAD_SAME_UPPER ? total / 2 : total - total / 2;
      pad_e = total - pad_b;
      break;
    }
    default:
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: unknown auto_pad %d", op, (int)ap);
  }
  *out = o;
  *out_pad_b = pad_b;
  *out_pad_e = pad_e;
  return PAL_STATUS_OK;
}

/* Kernel taps i with base + i*dil in [0, in): first one, and one past the
 * last (capped at k). */
static int64_t tap_first(int64_t base, int64_t dil) {
  return base >= 0 ? 0 : (-base + dil - 1) / dil;
}
static int64_t tap_end(int64_t base, int64_t dil, int64_t in, int64_t k) {
  if (base >= in) return 0;
  int64_t e = (in - 1 - base) / dil + 1;
  return e < k ? e : k;
}

typedef struct pool_plan {
  int64_t n, c, h, w, oh, ow;
  int64_t pt, pl, pb, pr;
} pool_plan_t;

static pal_status_t pool_plan(const char *op, const pal_shape_t *x_shape,
                              const pal_op_pool_params_t *p, pool_plan_t *plan) {
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, NULL));
  if (!p) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: params is NULL", op);
  if (x_shape->rank != 4) {
    char b[160];
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: X must be 4-D [N,C,H,W], got %s", op,
                           pal_shape_format(x_shape, b, sizeof b));
  }
  plan->n = x_shape->dims[0];
  plan->c = x_shape->dims[1];
  plan->h = x_shape->dims[2];
  plan->w = x_shape->dims[3];
  PAL_RETURN_IF_ERROR(pal_ops_window_dim(op, 0, plan->h, p->kernel[0], p->strides[0],
                                         p->dilations[0], p->pads[0], p->pads[2], p->auto_pad,
                                         p->ceil_mode, &plan->oh, &plan->pt, &plan->pb));
  PAL_RETURN_IF_ERROR(pal_ops_window_dim(op, 1, plan->w, p->kernel[1], p->strides[1],
                                         p->dilations[1], p->pads[1], p->pads[3], p->auto_pad,
                                         p->ceil_mode, &plan->ow, &plan->pl, &plan->pr));
  /* pads as large as the kernel are accepted: a window that sees only
   * padding gives -inf (MaxPool, index -1) or NaN (AveragePool without
   * count_include_pad), see docs/ops.md */
  return PAL_STATUS_OK;
}

pal_status_t pal_op_pool_infer(const pal_shape_t *x_shape, const pal_op_pool_params_t *params,
                               pal_shape_t *out_shape) {
  pool_plan_t pl;
  PAL_RETURN_IF_ERROR(pool_plan("Pool", x_shape, params, &pl));
  pal_shape_t o = {4, {pl.n, pl.c, pl.oh, pl.ow}};
  PAL_RETURN_IF_ERROR(pal_ops_check_shape("Pool", "output", &o, NULL));
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_max_pool(const float *x, const pal_shape_t *x_shape,
                             const pal_op_pool_params_t *params, float *y, int64_t *indices) {
  const char *op = "MaxPool";
  pool_plan_t pl;
  PAL_RETURN_IF_ERROR(pool_plan(op, x_shape, params, &pl));
  int64_t nx, ny;
  pal_shape_t os = {4, {pl.n, pl.c, pl.oh, pl.ow}};
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "Y", &os, &ny));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, ny));
  if (ny == 0) return PAL_STATUS_OK;
  if (params->storage_order != 0 && params->storage_order != 1)
    return pal_status_make(PAL_INVALID_ARGUMENT, "MaxPool: storage_order %d is not 0 or 1",
                           params->storage_order);
  const int64_t kh = params->kernel[0], kw = params->kernel[1];
  const int64_t sh = params->strides[0], sw = params->strides[1];
  const int64_t dh = params->dilations[0], dw = params->dilations[1];
  for (int64_t nc = 0; nc < pl.n * pl.c; nc++) {
    const float *xp = x + nc * pl.h * pl.w;
    for (int64_t oy = 0; oy < pl.oh; oy++)
      for (int64_t ox = 0; ox < pl.ow; ox++) {
        float m = -INFINITY;
        int64_t mi = -1;
        /* only the taps that land inside the input: the loops stay bounded
         * by the input size whatever the kernel and padding */
        int64_t by = oy * sh - pl.pt, bx = ox * sw - pl.pl;
        int64_t i0 = tap_first(by, dh), i1 = tap_end(by, dh, pl.h, kh);
        int64_t j0 = tap_first(bx, dw), j1 = tap_end(bx, dw, pl.w, kw);
        for (int64_t i = i0; i < i1; i++) {
          int64_t iy = by + i * dh;
          for (int64_t j = j0; j < j1; j++) {
            int64_t ix = bx + j * dw;
            float v = xp[iy * pl.w + ix];
            /* NaN wins and stays (as numpy's max) */
            if (mi < 0 || v > m || (isnan(v) && !isnan(m))) {
              m = v;
              mi = iy * pl.w + ix;
            }
          }
        }
        int64_t o = (nc * pl.oh + oy) * pl.ow + ox;
        y[o] = m;
        if (indices)
          indices[o] = mi < 0 ? -1
                       : nc * pl.h * pl.w +
                             (params->storage_order ? (mi / pl.w) + (mi % pl.w) * pl.h : mi);
      }
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_op_average_pool(const float *x, const pal_shape_t *x_shape,
                                 const pal_op_pool_params_t *params, float *y) {
  const char *op = "AveragePool";
  if (params && (params->dilations[0] != 1 || params->dilations[1] != 1))
    return pal_status_make(PAL_UNIMPLEMENTED, "AveragePool: dilations other than 1 (opset 19)");
  pool_plan_t pl;
  PAL_RETURN_IF_ERROR(pool_plan(op, x_shape, params, &pl));
  int64_t nx, ny;
  pal_shape_t os = {4, {pl.n, pl.c, pl.oh, pl.ow}};
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "Y", &os, &ny));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, ny));
  if (ny == 0) return PAL_STATUS_OK;
  const int64_t kh = params->kernel[0], kw = params->kernel[1];
  const int64_t sh = params->strides[0], sw = params->strides[1];
  for (int64_t nc = 0; nc < pl.n * pl.c; nc++) {
    const float *xp = x + nc * pl.h * pl.w;
    for (int64_t oy = 0; oy < pl.oh; oy++) {
      int64_t y0 = oy * sh - pl.pt, y1 = y0 + kh;
      /* count_include_pad counts the declared padding, not what ceil_mode
       * adds beyond it */
      int64_t py1 = y1 < pl.h + pl.pb ? y1 : pl.h + pl.pb;
      int64_t cy0 = y0 < 0 ? 0 : y0, cy1 = y1 < pl.h ? y1 : pl.h;
      for (int64_t ox = 0; ox < pl.ow; ox++) {
        int64_t x0 = ox * sw - pl.pl, x1 = x0 + kw;
        int64_t px1 = x1 < pl.w + pl.pr ? x1 : pl.w + pl.pr;
        int64_t cx0 = x0 < 0 ? 0 : x0, cx1 = x1 < pl.w ? x1 : pl.w;
        double s = 0.0;
        for (int64_t iy = cy0; iy < cy1; iy++)
          for (int64_t ix = cx0; ix < cx1; ix++) s += xp[iy * pl.w + ix];
        /* in double: a (legal) huge kernel would overflow an int64 area */
        double cnt = params->count_include_pad ? (double)(py1 - y0) * (double)(px1 - x0)
                                               : (double)(cy1 - cy0) * (double)(cx1 - cx0);
        y[(nc * pl.oh + oy) * pl.ow + ox] = cnt > 0 ? (float)(s / cnt) : NAN;
      }
    }
  }
  return PAL_STATUS_OK;
}

static pal_status_t global_pool(const char *op, int is_max, const float *x,
                                const pal_shape_t *x_shape, float *y) {
  int64_t n;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &n));
  if (x_shape->rank < 2) {
    char b[160];
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: X must have rank >= 2 [N,C,...], got %s", op,
                           pal_shape_format(x_shape, b, sizeof b));
  }
  pal_shape_t os = *x_shape;
  for (int i = 2; i < os.rank; i++) os.dims[i] = 1;
  int64_t nc;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "Y", &os, &nc));
  if (n == 0 && nc > 0 && !is_max) {
    /* empty spatial extent: the mean of nothing */
    PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, nc));
    for (int64_t i = 0; i < nc; i++) y[i] = NAN;
    return PAL_STATUS_OK;
  }
  if (n == 0) {
    PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, nc));
    for (int64_t i = 0; i < nc; i++) y[i] = -INFINITY;
    return PAL_STATUS_OK;
  }
  int64_t sp = 1;
  for (int i = 2; i < x_shape->rank; i++) sp *= x_shape->dims[i];
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, nc));
  for (int64_t i = 0; i < nc; i++) {
    const float *p = x + i * sp;
    if (is_max) {
      float m = -INFINITY;
      for (int64_t k = 0; k < sp; k++)
        if (p[k] > m || (isnan(p[k]) && !isnan(m))) m = p[k];
      y[i] = m;
    } else {
      double s = 0.0;
      for (int64_t k = 0; k < sp; k++) s += p[k];
      y[i] = sp ? (float)(s / (double)sp) : NAN;
    }
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_op_global_average_pool(const float *x, const pal_shape_t *x_shape, float *y) {
  return global_pool("GlobalAveragePool", 0, x, x_shape, y);
}

pal_status_t pal_op_global_max_pool(const float *x, const pal_shape_t *x_shape, float *y) {
  return global_pool("GlobalMaxPool", 1, x, x_shape, y);
}
