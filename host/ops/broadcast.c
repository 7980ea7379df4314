/* Shapes: validation, element counts with overflow checks, NumPy broadcast,
 * and the coalescing broadcast iterator the element-wise kernels share. */
#include <stdio.h>

#include "ops_internal.h"

pal_status_t pal_shape_make(int rank, const int64_t *dims, pal_shape_t *out_shape) {
  if (!out_shape) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_shape_make: out_shape is NULL");
  if (rank < 0 || rank > PAL_MAX_RANK)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_shape_make: rank %d outside [0, %d]", rank,
                           PAL_MAX_RANK);
  if (rank > 0 && !dims) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_shape_make: dims is NULL");
  pal_shape_t s;
  memset(&s, 0, sizeof s);
  s.rank = rank;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_shape_make: dim %d is negative (%lld)", i,
                             (long long)dims[i]);
    s.dims[i] = dims[i];
  }
  *out_shape = s;
  return PAL_STATUS_OK;
}

const char *pal_shape_format(const pal_shape_t *shape, char *buf, size_t size) {
  if (!buf || size == 0) return buf;
  buf[0] = 0;
  if (!shape) {
    snprintf(buf, size, "(null)");
    return buf;
  }
  if (shape->rank < 0 || shape->rank > PAL_MAX_RANK) {
    snprintf(buf, size, "<rank %d>", shape->rank);
    return buf;
  }
  size_t n = 0;
  n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "[");
  for (int i = 0; i < shape->rank && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)shape->dims[i]);
  if (n < size) snprintf(buf + n, size - n, "]");
  return buf;
}

pal_status_t pal_shape_validate(const pal_shape_t *shape, const char *what) {
  int64_t n;
  return pal_ops_check_shape(NULL, what, shape, &n);
}

pal_status_t pal_ops_check_shape(const char *op, const char *what, const pal_shape_t *shape,
                                 int64_t *out_count) {
  const char *o = op ? op : "shape";
  const char *w = what ? what : "tensor";
  if (!shape) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s shape is NULL", o, w);
  if (shape->rank < 0 || shape->rank > PAL_MAX_RANK)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s has rank %d, outside [0, %d]", o, w,
                           shape->rank, PAL_MAX_RANK);
  int has_zero = 0;
  for (int i = 0; i < shape->rank; i++) {
    if (shape->dims[i] < 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s dim %d is negative (%lld)", o, w, i,
                             (long long)shape->dims[i]);
    if (shape->dims[i] == 0) has_zero = 1;
  }
  /* an empty tensor is fine whatever its other dims are */
  int64_t n = 1;
  for (int i = 0; i < shape->rank && !has_zero; i++) {
    if (__builtin_mul_overflow(n, shape->dims[i], &n)) {
      char buf[160];
      return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s shape %s has more elements than int64 holds",
                             o, w, pal_shape_format(shape, buf, sizeof buf));
    }
  }
  if (has_zero) n = 0;
  if (out_count) *out_count = n;
  return PAL_STATUS_OK;
}

pal_status_t pal_ops_check_ptr(const char *op, const char *what, const void *p, int64_t count) {
  if (!p && count > 0) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s is NULL", op, what);
  return PAL_STATUS_OK;
}

pal_status_t pal_shape_numel(const pal_shape_t *shape, int64_t *out_count) {
  if (!out_count) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_shape_numel: out_count is NULL");
  return pal_ops_check_shape(NULL, NULL, shape, out_count);
}

void pal_shape_strides(const pal_shape_t *shape, int64_t strides[PAL_MAX_RANK]) {
  int64_t s = 1;
  for (int i = PAL_MAX_RANK - 1; i >= 0; i--) {
    if (i < shape->rank) {
      strides[i] = s;
      /* wraps instead of overflowing for an empty tensor with huge dims,
       * whose strides are never used to address anything */
      s = (int64_t)((uint64_t)s * (uint64_t)shape->dims[i]);
    } else {
      strides[i] = 0;
    }
  }
}

int pal_shape_equal(const pal_shape_t *a, const pal_shape_t *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

static pal_status_t broadcast_n(const char *op, int n, const pal_shape_t *const *s,
                                pal_shape_t *out_shape) {
  const char *o = op ? op : "broadcast";
  static const char *const names[3] = {"A", "B", "C"};
  int rank = 0;
  for (int k = 0; k < n; k++) {
    PAL_RETURN_IF_ERROR(pal_ops_check_shape(o, names[k], s[k], NULL));
    if (s[k]->rank > rank) rank = s[k]->rank;
  }
  pal_shape_t r;
  memset(&r, 0, sizeof r);
  r.rank = rank;
  for (int i = 0; i < rank; i++) {
    int64_t d = 1;
    for (int k = 0; k < n; k++) {
      int j = i - (rank - s[k]->rank);
      if (j < 0) continue;
      int64_t e = s[k]->dims[j];
      if (e == 1) continue;
      if (d == 1) {
        d = e;
      } else if (e != d) {
        char b0[160], b1[160], b2[160];
        if (n == 2)
          return pal_status_make(PAL_INVALID_ARGUMENT, "%s: shapes %s and %s do not broadcast", o,
                                 pal_shape_format(s[0], b0, sizeof b0),
                                 pal_shape_format(s[1], b1, sizeof b1));
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: shapes %s, %s and %s do not broadcast", o,
                               pal_shape_format(s[0], b0, sizeof b0),
                               pal_shape_format(s[1], b1, sizeof b1),
                               pal_shape_format(s[2], b2, sizeof b2));
      }
    }
    r.dims[i] = d;
  }
  /* Broadcast dims come from inputs whose counts fit, but the product may not. */
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(o, "broadcast result", &r, NULL));
  if (out_shape) *out_shape = r;
  return PAL_STATUS_OK;
}

pal_status_t pal_shape_broadcast(const char *op, const pal_shape_t *a, const pal_shape_t *b,
                                 pal_shape_t *out_shape) {
  const pal_shape_t *s[2] = {a, b};
  return broadcast_n(op, 2, s, out_shape);
}

pal_status_t pal_shape_broadcast3(const char *op, const pal_shape_t *a, const pal_shape_t *b,
                                  const pal_shape_t *c, pal_shape_t *out_shape) {
  const pal_shape_t *s[3] = {a, b, c};
  return broadcast_n(op, 3, s, out_shape);
}

pal_status_t pal_shape_normalize_axis(const char *op, const char *what, int64_t axis, int rank,
                                      int *out_axis) {
  if (axis < -(int64_t)rank || axis >= rank || (rank == 0))
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s %lld outside [%d, %d] for rank %d",
                           op ? op : "axis", what ? what : "axis", (long long)axis, -rank,
                           rank - 1, rank);
  *out_axis = (int)(axis < 0 ? axis + rank : axis);
  return PAL_STATUS_OK;
}

void pal_ops_bcast_init(pal_ops_bcast_t *it, const pal_shape_t *out, int n_in,
                        const pal_shape_t *const *ins) {
  memset(it, 0, sizeof *it);
  it->n_in = n_in;
  int64_t total = 1;
  for (int i = 0; i < out->rank; i++)
    if (out->dims[i] == 0) total = 0;
  if (total == 0) {
    /* nothing to walk; avoid products of the other (possibly huge) dims */
    it->rank = 1;
    return;
  }
  for (int i = 0; i < out->rank; i++) total *= out->dims[i];
  it->total = total;
  /* full-rank element strides of each input against the output dims */
  int64_t st[3][PAL_MAX_RANK];
  for (int k = 0; k < n_in; k++) {
    int64_t s = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
      int j = i - (out->rank - ins[k]->rank);
      if (j >= 0 && ins[k]->dims[j] != 1) {
        st[k][i] = s;
        s *= ins[k]->dims[j];
      } else {
        st[k][i] = 0;
      }
    }
  }
  int r = 0;
  for (int i = 0; i < out->rank; i++) {
    if (out->dims[i] == 1) continue; /* contributes nothing to any offset */
    if (r > 0) {
      /* merge with the previous kept dim when every operand runs on */
      int merge = 1;
      for (int k = 0; k < n_in; k++)
        if (it->strides[k][r - 1] != st[k][i] * out->dims[i]) merge = 0;
      if (merge) {
        it->dims[r - 1] *= out->dims[i];
        for (int k = 0; k < n_in; k++) it->strides[k][r - 1] = st[k][i];
        continue;
      }
    }
    it->dims[r] = out->dims[i];
    for (int k = 0; k < n_in; k++) it->strides[k][r] = st[k][i];
    r++;
  }
  if (r == 0) {
    it->dims[0] = 1;
    for (int k = 0; k < n_in; k++) it->strides[k][0] = 0;
    r = 1;
  }
  it->rank = r;
}
