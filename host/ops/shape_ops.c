/* Data movement on any element size: Transpose, Concat, Split, Slice,
 * Gather; and Cast between the element types. All reduce to one strided
 * copy whose dims are coalesced so the innermost run is as long as the
 * layout allows (a memcpy when it is contiguous). */
#include <math.h>
#include <stdio.h>

#include "ops_internal.h"

/* dst (contiguous) <- src walked with element strides sst over dims. */
static void strided_copy(void *dst, const void *src, int rank, const int64_t *dims_in,
                         const int64_t *sst_in, size_t es) {
  int64_t dims[PAL_MAX_RANK], sst[PAL_MAX_RANK];
  int r = 0;
  for (int i = 0; i < rank; i++) {
    if (dims_in[i] == 0) return;
    if (dims_in[i] == 1) continue;
    if (r > 0 && sst[r - 1] == sst_in[i] * dims_in[i]) {
      dims[r - 1] *= dims_in[i];
      sst[r - 1] = sst_in[i];
      continue;
    }
    dims[r] = dims_in[i];
    sst[r] = sst_in[i];
    r++;
  }
  if (r == 0) {
    memcpy(dst, src, es);
    return;
  }
  const int64_t inner = dims[r - 1], is = sst[r - 1];
  int64_t rows = 1;
  for (int i = 0; i < r - 1; i++) rows *= dims[i];
  int64_t idx[PAL_MAX_RANK] = {0}, off = 0;
  char *d = dst;
  const char *s = src;
  const int64_t e = (int64_t)es;
  for (int64_t row = 0; row < rows; row++) {
    const char *sp = s + off * e;
    if (is == 1) {
      memcpy(d, sp, (size_t)(inner * e));
    } else {
      switch (es) {
        case 1:
          for (int64_t i = 0; i < inner; i++) d[i] = sp[i * is];
          break;
        case 4:
          for (int64_t i = 0; i < inner; i++) memcpy(d + 4 * i, sp + 4 * i * is, 4);
          break;
        case 8:
          for (int64_t i = 0; i < inner; i++) memcpy(d + 8 * i, sp + 8 * i * is, 8);
          break;
        default:
          for (int64_t i = 0; i < inner; i++) memcpy(d + e * i, sp + e * i * is, es);
      }
    }
    d += inner * e;
    for (int k = r - 2; k >= 0; k--) {
      idx[k]++;
      off += sst[k];
      if (idx[k] < dims[k]) break;
      off -= sst[k] * dims[k];
      idx[k] = 0;
    }
  }
}

static pal_status_t check_es(const char *op, size_t es) {
  if (es == 0 || es > 64)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: elem_size %zu outside [1, 64]", op, es);
  return PAL_STATUS_OK;
}

/* ---- Transpose ---- */

pal_status_t pal_op_transpose_infer(const pal_shape_t *shape, const int64_t *perm,
                                    pal_shape_t *out_shape) {
  const char *op = "Transpose";
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, NULL));
  int seen[PAL_MAX_RANK] = {0};
  pal_shape_t o;
  memset(&o, 0, sizeof o);
  o.rank = shape->rank;
  for (int i = 0; i < shape->rank; i++) {
    int64_t p = perm ? perm[i] : shape->rank - 1 - i;
    if (p < 0 || p >= shape->rank || seen[p])
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "Transpose: perm is not a permutation of [0, %d): entry %d is %lld%s",
                             shape->rank, i, (long long)p,
                             (p >= 0 && p < shape->rank) ? " (repeated)" : "");
    seen[p] = 1;
    o.dims[i] = shape->dims[p];
  }
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_transpose(const void *x, const pal_shape_t *shape, size_t elem_size,
                              const int64_t *perm, void *y) {
  const char *op = "Transpose";
  pal_shape_t o;
  int64_t n;
  PAL_RETURN_IF_ERROR(check_es(op, elem_size));
  PAL_RETURN_IF_ERROR(pal_op_transpose_infer(shape, perm, &o));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, &n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input", x, n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, n));
  if (n == 0) return PAL_STATUS_OK;
  int64_t st[PAL_MAX_RANK], sst[PAL_MAX_RANK];
  pal_shape_strides(shape, st);
  for (int i = 0; i < shape->rank; i++) sst[i] = st[perm ? perm[i] : shape->rank - 1 - i];
  strided_copy(y, x, o.rank, o.dims, sst, elem_size);
  return PAL_STATUS_OK;
}

/* ---- Concat ---- */

pal_status_t pal_op_concat_infer(const pal_shape_t *shapes, int n, int64_t axis,
                                 pal_shape_t *out_shape) {
  const char *op = "Concat";
  if (n < 1 || !shapes)
    return pal_status_make(PAL_INVALID_ARGUMENT, "Concat: needs at least one input (got %d)", n);
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input 0", &shapes[0], NULL));
  int ax;
  PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axis", axis, shapes[0].rank, &ax));
  pal_shape_t o = shapes[0];
  for (int k = 1; k < n; k++) {
    char what[32], b0[160], b1[160];
    snprintf(what, sizeof what, "input %d", k);
    PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, what, &shapes[k], NULL));
    int ok = shapes[k].rank == o.rank;
    for (int i = 0; ok && i < o.rank; i++)
      if (i != ax && shapes[k].dims[i] != o.dims[i]) ok = 0;
    if (!ok)
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "Concat: input %d shape %s does not match input 0 shape %s outside axis %d",
                             k, pal_shape_format(&shapes[k], b0, sizeof b0),
                             pal_shape_format(&shapes[0], b1, sizeof b1), ax);
    if (__builtin_add_overflow(o.dims[ax], shapes[k].dims[ax], &o.dims[ax]))
      return pal_status_make(PAL_OUT_OF_RANGE, "Concat: concatenated axis length overflows");
  }
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &o, NULL));
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_concat(const void *const *inputs, const pal_shape_t *shapes, int n,
                           int64_t axis, size_t elem_size, void *y) {
  const char *op = "Concat";
  pal_shape_t o;
  PAL_RETURN_IF_ERROR(check_es(op, elem_size));
  PAL_RETURN_IF_ERROR(pal_op_concat_infer(shapes, n, axis, &o));
  if (!inputs) return pal_status_make(PAL_INVALID_ARGUMENT, "Concat: inputs is NULL");
  int ax = (int)(axis < 0 ? axis + o.rank : axis);
  int64_t no;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &o, &no));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, no));
  for (int k = 0; k < n; k++) {
    int64_t nk;
    PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", &shapes[k], &nk));
    if (!inputs[k] && nk > 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "Concat: input %d is NULL", k);
  }
  if (no == 0) return PAL_STATUS_OK;
  int64_t outer = 1, inner = (int64_t)elem_size;
  for (int i = 0; i < ax; i++) outer *= o.dims[i];
  for (int i = ax + 1; i < o.rank; i++) inner *= o.dims[i];
  const int64_t orow = o.dims[ax] * inner;
  int64_t col = 0;
  for (int k = 0; k < n; k++) {
    const int64_t row = shapes[k].dims[ax] * inner;
    const char *src = inputs[k];
    for (int64_t r = 0; r < outer && row > 0; r++)
      memcpy((char *)y + r * orow + col, src + r * row, (size_t)row);
    col += row;
  }
  return PAL_STATUS_OK;
}

/* ---- Split ---- */

pal_status_t pal_op_split_infer(const pal_shape_t *shape, int64_t axis, const int64_t *sizes,
                                int n, pal_shape_t *out_shapes) {
  const char *op = "Split";
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, NULL));
  int ax;
  PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axis", axis, shape->rank, &ax));
  if (n < 1) return pal_status_make(PAL_INVALID_ARGUMENT, "Split: number of outputs %d < 1", n);
  const int64_t d = shape->dims[ax];
  int64_t sum = 0;
  for (int k = 0; k < n; k++) {
    int64_t s;
    if (sizes) {
      s = sizes[k];
      if (s < 0)
        return pal_status_make(PAL_INVALID_ARGUMENT, "Split: split[%d] = %lld is negative", k,
                               (long long)s);
    } else {
      int64_t part = d / n + (d % n != 0); /* ceil without overflow */
      s = d - sum < part ? d - sum : part;
      if (s < 0) s = 0;
    }
    if (__builtin_add_overflow(sum, s, &sum) || sum > d) {
      if (sizes)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "Split: split sizes exceed dim %d of length %lld", ax, (long long)d);
    }
    if (out_shapes) {
      out_shapes[k] = *shape;
      out_shapes[k].dims[ax] = s;
    }
  }
  if (sum != d)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "Split: split sizes sum to %lld, dim %d has length %lld", (long long)sum,
                           ax, (long long)d);
  return PAL_STATUS_OK;
}

pal_status_t pal_op_split(const void *x, const pal_shape_t *shape, size_t elem_size, int64_t axis,
                          const int64_t *sizes, int n, void *const *outputs) {
  const char *op = "Split";
  PAL_RETURN_IF_ERROR(check_es(op, elem_size));
  PAL_RETURN_IF_ERROR(pal_op_split_infer(shape, axis, sizes, n, NULL));
  if (!outputs) return pal_status_make(PAL_INVALID_ARGUMENT, "Split: outputs is NULL");
  int ax = (int)(axis < 0 ? axis + shape->rank : axis);
  int64_t nx;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "input", shape, &nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input", x, nx));
  if (nx == 0) return PAL_STATUS_OK; /* every output is empty too */
  int64_t outer = 1, inner = (int64_t)elem_size;
  for (int i = 0; i < ax; i++) outer *= shape->dims[i];
  for (int i = ax + 1; i < shape->rank; i++) inner *= shape->dims[i];
  const int64_t d = shape->dims[ax], irow = d * inner;
  int64_t col = 0, sum = 0;
  for (int k = 0; k < n; k++) {
    int64_t s;
    if (sizes) {
      s = sizes[k];
    } else {
      int64_t part = d / n + (d % n != 0); /* ceil without overflow */
      s = d - sum < part ? d - sum : part;
    }
    sum += s;
    const int64_t row = s * inner;
    if (!outputs[k] && row > 0 && outer > 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "Split: output %d is NULL", k);
    for (int64_t r = 0; r < outer && row > 0; r++)
      memcpy((char *)outputs[k] + r * row, (const char *)x + r * irow + col, (size_t)row);
    col += row;
  }
  return PAL_STATUS_OK;
}

/* ---- Slice ---- */

typedef struct slice_plan {
  int64_t start[PAL_MAX_RANK], step[PAL_MAX_RANK];
  pal_shape_t out;
} slice_plan_t;

static pal_status_t slice_plan(const pal_shape_t *shape, const int64_t *starts, const int64_t *ends,
                               const int64_t *axes, const int64_t *steps, int n, slice_plan_t *p) {
  const char *op = "Slice";
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "data", shape, NULL));
  if (n < 0 || n > shape->rank)
    return pal_status_make(PAL_INVALID_ARGUMENT, "Slice: %d starts/ends for data of rank %d", n,
                           shape->rank);
  if (n > 0 && (!starts || !ends))
    return pal_status_make(PAL_INVALID_ARGUMENT, "Slice: starts or ends is NULL");
  p->out = *shape;
  for (int i = 0; i < shape->rank; i++) {
    p->start[i] = 0;
    p->step[i] = 1;
  }
  int seen[PAL_MAX_RANK] = {0};
  for (int k = 0; k < n; k++) {
    int ax;
    PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axes entry", axes ? axes[k] : k, shape->rank, &ax));
    if (seen[ax])
      return pal_status_make(PAL_INVALID_ARGUMENT, "Slice: axis %d appears twice in axes", ax);
    seen[ax] = 1;
    int64_t st = steps ? steps[k] : 1;
    if (st == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "Slice: steps[%d] is 0", k);
    const int64_t d = shape->dims[ax];
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t len;
    if (st > 0) {
      s = s < 0 ? 0 : (s > d ? d : s);
      e = e < 0 ? 0 : (e > d ? d : e);
      len = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = s < 0 ? 0 : (s > d - 1 ? d - 1 : s);
      e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
      len = s > e ? (s - e - 1) / (st == INT64_MIN ? INT64_MAX : -st) + 1 : 0;
    }
    if (d == 0) len = 0; /* the clamping ranges are empty; so is the slice */
    p->start[ax] = len ? s : 0;
    p->step[ax] = st;
    p->out.dims[ax] = len;
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_op_slice_infer(const pal_shape_t *shape, const int64_t *starts,
                                const int64_t *ends, const int64_t *axes, const int64_t *steps,
                                int n, pal_shape_t *out_shape) {
  slice_plan_t p;
  PAL_RETURN_IF_ERROR(slice_plan(shape, starts, ends, axes, steps, n, &p));
  if (out_shape) *out_shape = p.out;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_slice(const void *x, const pal_shape_t *shape, size_t elem_size,
                          const int64_t *starts, const int64_t *ends, const int64_t *axes,
                          const int64_t *steps, int n, void *y) {
  const char *op = "Slice";
  slice_plan_t p;
  PAL_RETURN_IF_ERROR(check_es(op, elem_size));
  PAL_RETURN_IF_ERROR(slice_plan(shape, starts, ends, axes, steps, n, &p));
  int64_t nx, ny;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "data", shape, &nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &p.out, &ny));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "data", x, nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, ny));
  if (ny == 0) return PAL_STATUS_OK;
  int64_t st[PAL_MAX_RANK], sst[PAL_MAX_RANK], off = 0;
  pal_shape_strides(shape, st);
  for (int i = 0; i < shape->rank; i++) {
    off += p.start[i] * st[i];
    /* one output element along a dim: its step never moves the pointer, and
     * multiplying a huge step could overflow */
    sst[i] = p.out.dims[i] > 1 ? p.step[i] * st[i] : 0;
  }
  strided_copy(y, (const char *)x + off * (int64_t)elem_size, p.out.rank, p.out.dims, sst,
               elem_size);
  return PAL_STATUS_OK;
}

/* ---- Gather ---- */

pal_status_t pal_op_gather_infer(const pal_shape_t *data_shape, const pal_shape_t *indices_shape,
                                 int64_t axis, pal_shape_t *out_shape) {
  const char *op = "Gather";
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "data", data_shape, NULL));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "indices", indices_shape, NULL));
  int ax;
  PAL_RETURN_IF_ERROR(pal_shape_normalize_axis(op, "axis", axis, data_shape->rank, &ax));
  int r = data_shape->rank - 1 + indices_shape->rank;
  if (r > PAL_MAX_RANK)
    return pal_status_make(PAL_INVALID_ARGUMENT, "Gather: output rank %d exceeds %d", r, PAL_MAX_RANK);
  pal_shape_t o;
  memset(&o, 0, sizeof o);
  for (int i = 0; i < ax; i++) o.dims[o.rank++] = data_shape->dims[i];
  for (int i = 0; i < indices_shape->rank; i++) o.dims[o.rank++] = indices_shape->dims[i];
  for (int i = ax + 1; i < data_shape->rank; i++) o.dims[o.rank++] = data_shape->dims[i];
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &o, NULL));
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_gather(const void *data, const pal_shape_t *data_shape, size_t elem_size,
                           const int64_t *indices, const pal_shape_t *indices_shape, int64_t axis,
                           void *y) {
  const char *op = "Gather";
  pal_shape_t o;
  PAL_RETURN_IF_ERROR(check_es(op, elem_size));
  PAL_RETURN_IF_ERROR(pal_op_gather_infer(data_shape, indices_shape, axis, &o));
  int ax = (int)(axis < 0 ? axis + data_shape->rank : axis);
  int64_t nd, ni, ny;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "data", data_shape, &nd));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "indices", indices_shape, &ni));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &o, &ny));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "data", data, nd));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "indices", indices, ni));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, ny));
  const int64_t d = data_shape->dims[ax];
  /* every index is checked before anything is written */
  for (int64_t i = 0; i < ni; i++)
    if (indices[i] < -d || indices[i] >= d)
      return pal_status_make(PAL_OUT_OF_RANGE,
                             "Gather: indices[%lld] = %lld outside [%lld, %lld] (axis %d of length %lld)",
                             (long long)i, (long long)indices[i], (long long)-d, (long long)(d - 1),
                             ax, (long long)d);
  if (ny == 0) return PAL_STATUS_OK;
  int64_t outer = 1, inner = (int64_t)elem_size;
  for (int i = 0; i < ax; i++) outer *= data_shape->dims[i];
  for (int i = ax + 1; i < data_shape->rank; i++) inner *= data_shape->dims[i];
  char *dst = y;
  const char *src = data;
  for (int64_t r = 0; r < outer; r++)
    for (int64_t i = 0; i < ni; i++) {
      int64_t ix = indices[i] < 0 ? indices[i] + d : indices[i];
      memcpy(dst, src + (r * d + ix) * inner, (size_t)inner);
      dst += inner;
    }
  return PAL_STATUS_OK;
}

/* ---- Cast ---- */

/* float -> signed integer: NaN -> 0, truncation toward zero, saturation at
 * the limits (C leaves out-of-range conversions undefined). */
static int64_t f2i64(float v) {
  if (isnan(v)) return 0;
  if (v >= 9223372036854775808.0f) return INT64_MAX;
  if (v < -9223372036854775808.0f) return INT64_MIN;
  return (int64_t)v;
}
static int32_t f2i32(float v) {
  if (isnan(v)) return 0;
  if (v >= 2147483648.0f) return INT32_MAX;
  if (v < -2147483648.0f) return INT32_MIN;
  return (int32_t)v;
}
static uint8_t f2u8(float v) {
  if (isnan(v) || v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return (uint8_t)v;
}

static int64_t load_int(const void *x, pal_op_dtype_t t, int64_t i) {
  switch (t) {
    case PAL_OP_I64: return ((const int64_t *)x)[i];
    case PAL_OP_I32: return ((const int32_t *)x)[i];
    case PAL_OP_BOOL: return ((const uint8_t *)x)[i] != 0;
    case PAL_OP_U8: return ((const uint8_t *)x)[i];
    case PAL_OP_F32: break;
  }
  return 0;
}

pal_status_t pal_op_cast(const void *x, pal_op_dtype_t from, int64_t count, pal_op_dtype_t to,
                         void *y) {
  const char *op = "Cast";
  if ((unsigned)from > PAL_OP_U8 || (unsigned)to > PAL_OP_U8)
    return pal_status_make(PAL_INVALID_ARGUMENT, "Cast: unknown element type %d", (int)((unsigned)from > PAL_OP_U8 ? from : to));
  if (count < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "Cast: count %lld is negative", (long long)count);
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "input", x, count));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", y, count));
  if (from == to && from != PAL_OP_BOOL) {
    memmove(y, x, (size_t)count * pal_op_dtype_size(from));
    return PAL_STATUS_OK;
  }
  if (from == PAL_OP_F32) {
    const float *xf = x;
    for (int64_t i = 0; i < count; i++) switch (to) {
        case PAL_OP_I64: ((int64_t *)y)[i] = f2i64(xf[i]); break;
        case PAL_OP_I32: ((int32_t *)y)[i] = f2i32(xf[i]); break;
        case PAL_OP_U8: ((uint8_t *)y)[i] = f2u8(xf[i]); break;
        case PAL_OP_BOOL: ((uint8_t *)y)[i] = xf[i] != 0.0f; break; /* NaN != 0 -> true */
        case PAL_OP_F32: break;
      }
    return PAL_STATUS_OK;
  }
  for (int64_t i = 0; i < count; i++) {
    int64_t v = load_int(x, from, i);
    switch (to) {
      case PAL_OP_F32: ((float *)y)[i] = (float)v; break;
      case PAL_OP_I64: ((int64_t *)y)[i] = v; break;
      case PAL_OP_I32: ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)v; break; /* wraps */
      case PAL_OP_U8: ((uint8_t *)y)[i] = (uint8_t)(uint64_t)v; break;
      case PAL_OP_BOOL: ((uint8_t *)y)[i] = v != 0; break;
    }
  }
  return PAL_STATUS_OK;
}
