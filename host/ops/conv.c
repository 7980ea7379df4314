/* 2-D convolution (NCHW) as im2col + sgemm per image and group. A 1x1,
 * stride-1, unpadded convolution skips im2col: the input already is the
 * column matrix. */
#include <cblas.h>
#include <stdlib.h>

#include "ops_internal.h"

void pal_op_conv_params_initialize(pal_op_conv_params_t *params) {
  memset(params, 0, sizeof *params);
  params->group = 1;
  params->strides[0] = params->strides[1] = 1;
  params->dilations[0] = params->dilations[1] = 1;
  params->auto_pad = PAL_OP_PAD_NOTSET;
}

typedef struct conv_plan {
  int64_t n, c, h, w, m, kh, kw, oh, ow, pt, pl, pb, pr, g, cg, mg;
} conv_plan_t;

static pal_status_t conv_plan(const pal_shape_t *x_shape, const pal_shape_t *w_shape,
                              const pal_op_conv_params_t *p, conv_plan_t *cp) {
  const char *op = "Conv";
  char b0[160], b1[160];
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, NULL));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "W", w_shape, NULL));
  if (!p) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: params is NULL", op);
  if (x_shape->rank != 4)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: X must be 4-D [N,C,H,W], got %s", op,
                           pal_shape_format(x_shape, b0, sizeof b0));
  if (w_shape->rank != 4)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: W must be 4-D [M,C/group,kH,kW], got %s", op,
                           pal_shape_format(w_shape, b0, sizeof b0));
  cp->n = x_shape->dims[0];
  cp->c = x_shape->dims[1];
  cp->h = x_shape->dims[2];
  cp->w = x_shape->dims[3];
  cp->m = w_shape->dims[0];
  cp->kh = w_shape->dims[2];
  cp->kw = w_shape->dims[3];
  cp->g = p->group;
  if (cp->g < 1 || cp->c % cp->g || cp->m % cp->g)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: group %lld must be >= 1 and divide both C=%lld and M=%lld", op,
                           (long long)cp->g, (long long)cp->c, (long long)cp->m);
  cp->cg = cp->c / cp->g;
  cp->mg = cp->m / cp->g;
  if (w_shape->dims[1] != cp->cg)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: W %s needs C/group = %lld input channels (X %s, group %lld)", op,
                           pal_shape_format(w_shape, b0, sizeof b0), (long long)cp->cg,
                           pal_shape_format(x_shape, b1, sizeof b1), (long long)cp->g);
  PAL_RETURN_IF_ERROR(pal_ops_window_dim(op, 0, cp->h, cp->kh, p->strides[0], p->dilations[0],
                                         p->pads[0], p->pads[2], p->auto_pad, 0, &cp->oh, &cp->pt,
                                         &cp->pb));
  PAL_RETURN_IF_ERROR(pal_ops_window_dim(op, 1, cp->w, cp->kw, p->strides[1], p->dilations[1],
                                         p->pads[1], p->pads[3], p->auto_pad, 0, &cp->ow, &cp->pl,
                                         &cp->pr));
  pal_shape_t o = {4, {cp->n, cp->m, cp->oh, cp->ow}};
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &o, NULL));
  int64_t kk = 0, sp = 0;
  if (__builtin_mul_overflow(cp->cg, cp->kh, &kk) || __builtin_mul_overflow(kk, cp->kw, &kk) ||
      __builtin_mul_overflow(cp->oh, cp->ow, &sp) || kk > INT32_MAX || sp > INT32_MAX ||
      cp->mg > INT32_MAX)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: GEMM dims M=%lld N=%lld K=%lld exceed 2^31-1", op,
                           (long long)cp->mg, (long long)sp, (long long)kk);
  return PAL_STATUS_OK;
}

pal_status_t pal_op_conv_infer(const pal_shape_t *x_shape, const pal_shape_t *w_shape,
                               const pal_op_conv_params_t *params, pal_shape_t *out_shape) {
  conv_plan_t cp;
  PAL_RETURN_IF_ERROR(conv_plan(x_shape, w_shape, params, &cp));
  pal_shape_t o = {4, {cp.n, cp.m, cp.oh, cp.ow}};
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

/* Output rows [oy0, oy1) of the column matrix:
 * col[(c*kh + i)*kw + j][(oy-oy0)*ow + ox] = x[c][oy*sh - pt + i*dh][ox*sw - pl + j*dw] or 0 */
static void im2col(const float *x, const conv_plan_t *cp, const pal_op_conv_params_t *p,
                   int64_t oy0, int64_t oy1, float *col) {
  const int64_t sh = p->strides[0], sw = p->strides[1], dh = p->dilations[0], dw = p->dilations[1];
  const int64_t sp = (oy1 - oy0) * cp->ow;
  for (int64_t c = 0; c < cp->cg; c++)
    for (int64_t i = 0; i < cp->kh; i++)
      for (int64_t j = 0; j < cp->kw; j++) {
        float *row = col + ((c * cp->kh + i) * cp->kw + j) * sp;
        const float *xc = x + c * cp->h * cp->w;
        for (int64_t oy = oy0; oy < oy1; oy++) {
          int64_t iy = oy * sh - cp->pt + i * dh;
          float *r = row + (oy - oy0) * cp->ow;
          if (iy < 0 || iy >= cp->h) {
            memset(r, 0, (size_t)cp->ow * sizeof *r);
            continue;
          }
          const float *xr = xc + iy * cp->w;
          int64_t x0 = j * dw - cp->pl;
          if (sw == 1 && x0 >= 0 && x0 + cp->ow <= cp->w) {
            memcpy(r, xr + x0, (size_t)cp->ow * sizeof *r);
            continue;
          }
          for (int64_t ox = 0; ox < cp->ow; ox++) {
            int64_t ix = ox * sw + x0;
            r[ox] = (ix < 0 || ix >= cp->w) ? 0.0f : xr[ix];
          }
        }
      }
}

pal_status_t pal_op_conv(const float *x, const pal_shape_t *x_shape, const float *w,
                         const pal_shape_t *w_shape, const float *bias,
                         const pal_op_conv_params_t *params, float *y) {
  const char *op = "Conv";
  conv_plan_t cp;
  PAL_RETURN_IF_ERROR(conv_plan(x_shape, w_shape, params, &cp));
  int64_t nx, nw;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "W", w_shape, &nw));
  const int64_t sp = cp.oh * cp.ow, kk = cp.cg * cp.kh * cp.kw;
  const int64_t ny = cp.n * cp.m * sp;
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "W", w, nw));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, ny));
  if (ny == 0) return PAL_STATUS_OK;
  const int direct = cp.kh == 1 && cp.kw == 1 && params->strides[0] == 1 &&
                     params->strides[1] == 1 && cp.pt == 0 && cp.pl == 0 && cp.pb == 0 &&
                     cp.pr == 0;
  /* The column matrix is built a band of output rows at a time so the
   * workspace stays near 4M floats (16 MiB) however large the
   * image (one output row at least). */
  const int64_t ws_floats = (int64_t)1 << 22;
  int64_t band = cp.oh;
  if (!direct && kk > 0 && kk * sp > ws_floats) {
    band = ws_floats / (kk * cp.ow);
    if (band < 1) band = 1;
  }
  float *col = NULL;
  if (!direct && kk > 0) {
    int64_t bytes;
    if (__builtin_mul_overflow(kk * band * cp.ow, (int64_t)sizeof(float), &bytes) ||
        !(col = malloc((size_t)bytes)))
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: no memory for a %lld x %lld im2col workspace",
                             op, (long long)kk, (long long)(band * cp.ow));
  }
  for (int64_t b = 0; b < cp.n; b++)
    for (int64_t g = 0; g < cp.g; g++) {
      const float *xg = x + (b * cp.c + g * cp.cg) * cp.h * cp.w;
      float *yg = y + (b * cp.m + g * cp.mg) * sp;
      if (kk == 0 || cp.mg == 0) {
        memset(yg, 0, (size_t)(cp.mg * sp) * sizeof *yg);
      } else {
        if (direct) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)cp.mg, (int)sp, (int)kk, 1.0f,
                      w + g * cp.mg * kk, (int)kk, xg, (int)sp, 0.0f, yg, (int)sp);
        } else {
          for (int64_t oy0 = 0; oy0 < cp.oh; oy0 += band) {
            int64_t oy1 = oy0 + band < cp.oh ? oy0 + band : cp.oh, cols = (oy1 - oy0) * cp.ow;
            im2col(xg, &cp, params, oy0, oy1, col);
            /* Y_g[:, oy0*ow .. oy1*ow) = W_g x col (ldc is the full row) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)cp.mg, (int)cols, (int)kk,
                        1.0f, w + g * cp.mg * kk, (int)kk, col, (int)cols, 0.0f,
                        yg + oy0 * cp.ow, (int)sp);
          }
        }
      }
      if (bias)
        for (int64_t mo = 0; mo < cp.mg; mo++) {
          float bv = bias[g * cp.mg + mo];
          float *yr = yg + mo * sp;
          for (int64_t i = 0; i < sp; i++) yr[i] += bv;
        }
    }
  free(col);
  return PAL_STATUS_OK;
}
