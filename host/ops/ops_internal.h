/* Private helpers shared by the libpalops kernels: broadcast iteration with
 * coalesced dims, argument checks that produce uniform messages. */
#ifndef PAL_OPS_INTERNAL_H
#define PAL_OPS_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "pal/ops.h"

/* Up to three inputs broadcast to one output, dims of size 1 dropped and
 * neighbouring dims merged where every operand is contiguous across them,
 * so the innermost loop is long and its strides are 0 or 1. */
typedef struct pal_ops_bcast {
  int rank; /* >= 1 after init (a scalar becomes [1]) */
  int n_in;
  int64_t dims[PAL_MAX_RANK];
  int64_t strides[3][PAL_MAX_RANK]; /* element strides, 0 where broadcast */
  int64_t total;                    /* output elements */
} pal_ops_bcast_t;

void pal_ops_bcast_init(pal_ops_bcast_t *it, const pal_shape_t *out, int n_in,
                        const pal_shape_t *const *ins);

/* Walks the outer (all but innermost) dims: call with `row` from 0 to
 * rows-1 in order; offsets are updated incrementally. */
typedef struct pal_ops_bcast_walk {
  int64_t idx[PAL_MAX_RANK];
  int64_t off[3];
} pal_ops_bcast_walk_t;

static inline int64_t pal_ops_bcast_rows(const pal_ops_bcast_t *it) {
  int64_t inner = it->dims[it->rank - 1];
  return inner ? it->total / inner : 0;
}

static inline void pal_ops_bcast_next(const pal_ops_bcast_t *it, pal_ops_bcast_walk_t *w) {
  for (int d = it->rank - 2; d >= 0; d--) {
    w->idx[d]++;
    for (int k = 0; k < it->n_in; k++) w->off[k] += it->strides[k][d];
    if (w->idx[d] < it->dims[d]) return;
    for (int k = 0; k < it->n_in; k++) w->off[k] -= it->strides[k][d] * it->dims[d];
    w->idx[d] = 0;
  }
}

/* Validates a shape argument of `op` (rank, dims, numel) and returns numel. */
pal_status_t pal_ops_check_shape(const char *op, const char *what, const pal_shape_t *shape,
                                 int64_t *out_count);
/* NULL pointer with a non-empty tensor is an error. */
pal_status_t pal_ops_check_ptr(const char *op, const char *what, const void *p, int64_t count);

/* One spatial dim of a pool or conv window (dim 0 = H, 1 = W): validates
 * kernel/stride/dilation/pads, resolves auto_pad, returns the output size
 * and the begin/end pads actually used. */
pal_status_t pal_ops_window_dim(const char *op, int dim, int64_t in, int64_t k, int64_t stride,
                                int64_t dil, int64_t pad_b, int64_t pad_e, pal_op_auto_pad_t ap,
                                int ceil_mode, int64_t *out, int64_t *out_pad_b,
                                int64_t *out_pad_e);

#endif /* PAL_OPS_INTERNAL_H */
