/* Gemm and MatMul through OpenBLAS cblas_sgemm. MatMul folds the batch into
 * M when B is shared by every batch, so small per-batch products become one
 * large call. */
#include <cblas.h>
#include <stdlib.h>

#include "ops_internal.h"

/* cblas takes int sizes; larger matrices are refused rather than truncated. */
static pal_status_t check_blas_dims(const char *op, int64_t m, int64_t n, int64_t k) {
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: matrix dims M=%lld N=%lld K=%lld exceed 2^31-1", op,
                           (long long)m, (long long)n, (long long)k);
  return PAL_STATUS_OK;
}

/* C[m x n] = A[m x k] * B[k x n] (row-major, leading dims given) + beta * C */
static void sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    /* BLAS would skip the product; the result is beta * C (0 when beta 0) */
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m,
              (int)n, (int)k, alpha, a, (int)(lda > 0 ? lda : 1), b, (int)(ldb > 0 ? ldb : 1), beta,
              c, (int)(ldc > 0 ? ldc : 1));
}

pal_status_t pal_op_gemm_infer(const pal_shape_t *a_shape, const pal_shape_t *b_shape,
                               const pal_shape_t *c_shape, int trans_a, int trans_b,
                               pal_shape_t *out_shape) {
  const char *op = "Gemm";
  char b0[160], b1[160];
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "A", a_shape, NULL));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "B", b_shape, NULL));
  if (a_shape->rank != 2)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: A must be 2-D, got %s", op,
                           pal_shape_format(a_shape, b0, sizeof b0));
  if (b_shape->rank != 2)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: B must be 2-D, got %s", op,
                           pal_shape_format(b_shape, b0, sizeof b0));
  int64_t m = a_shape->dims[trans_a ? 1 : 0], k = a_shape->dims[trans_a ? 0 : 1];
  int64_t kb = b_shape->dims[trans_b ? 1 : 0], n = b_shape->dims[trans_b ? 0 : 1];
  if (k != kb)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: inner dims differ: A %s (transA=%d) vs B %s (transB=%d)", op,
                           pal_shape_format(a_shape, b0, sizeof b0), trans_a,
                           pal_shape_format(b_shape, b1, sizeof b1), trans_b);
  pal_shape_t o = {2, {m, n}};
  if (c_shape) {
    PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "C", c_shape, NULL));
    /* unidirectional: C broadcasts to [M, N], never the other way */
    pal_shape_t bc;
    pal_status_t st = pal_shape_broadcast(op, c_shape, &o, &bc);
    if (st || !pal_shape_equal(&bc, &o)) {
      pal_status_free(st);
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: C shape %s does not broadcast to [M,N] = %s",
                             op, pal_shape_format(c_shape, b0, sizeof b0),
                             pal_shape_format(&o, b1, sizeof b1));
    }
  }
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &o, NULL));
  PAL_RETURN_IF_ERROR(check_blas_dims(op, m, n, k));
  if (out_shape) *out_shape = o;
  return PAL_STATUS_OK;
}

pal_status_t pal_op_gemm(const float *a, const pal_shape_t *a_shape, const float *b,
                         const pal_shape_t *b_shape, const float *c, const pal_shape_t *c_shape,
                         float alpha, float beta, int trans_a, int trans_b, float *y) {
  const char *op = "Gemm";
  pal_shape_t o;
  PAL_RETURN_IF_ERROR(pal_op_gemm_infer(a_shape, b_shape, c ? c_shape : NULL, trans_a, trans_b, &o));
  int64_t m = o.dims[0], n = o.dims[1];
  int64_t k = a_shape->dims[trans_a ? 0 : 1];
  int64_t nc = 0;
  if (c) PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "C", c_shape, &nc));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "A", a, m * k));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "B", b, k * n));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, m * n));
  if (m == 0 || n == 0) return PAL_STATUS_OK;
  float gemm_beta = 0.0f;
  if (c && nc > 0) {
    /* Y = beta * broadcast(C), then Y += alpha A B */
    pal_ops_bcast_t it;
    const pal_shape_t *ins[1] = {c_shape};
    pal_ops_bcast_init(&it, &o, 1, ins);
    pal_ops_bcast_walk_t w;
    memset(&w, 0, sizeof w);
    int64_t rows = pal_ops_bcast_rows(&it), inner = it.dims[it.rank - 1];
    int64_t s = it.strides[0][it.rank - 1];
    for (int64_t r = 0; r < rows; r++) {
      const float *pc = c + w.off[0];
      float *py = y + r * inner;
      for (int64_t i = 0; i < inner; i++) py[i] = beta * pc[i * s];
      pal_ops_bcast_next(&it, &w);
    }
    gemm_beta = 1.0f;
  }
  sgemm(trans_a, trans_b, m, n, k, alpha, a, a_shape->dims[1], b, b_shape->dims[1], gemm_beta, y, n);
  return PAL_STATUS_OK;
}

/* MatMul operands as batched matrices: batch shape plus [rows, cols]. */
typedef struct mm_plan {
  pal_shape_t a_batch, b_batch, batch; /* batch shapes (a/b padded by broadcast) */
  int64_t m, k, n;
  pal_shape_t out;
} mm_plan_t;

static pal_status_t matmul_plan(const pal_shape_t *a_shape, const pal_shape_t *b_shape,
                                mm_plan_t *p) {
  const char *op = "MatMul";
  char b0[160], b1[160];
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "A", a_shape, NULL));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "B", b_shape, NULL));
  if (a_shape->rank < 1 || b_shape->rank < 1)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: operands must have rank >= 1, got A %s and B %s",
                           op, pal_shape_format(a_shape, b0, sizeof b0),
                           pal_shape_format(b_shape, b1, sizeof b1));
  memset(p, 0, sizeof *p);
  int ra = a_shape->rank, rb = b_shape->rank;
  if (ra == 1) {
    p->m = 1;
    p->k = a_shape->dims[0];
  } else {
    p->m = a_shape->dims[ra - 2];
    p->k = a_shape->dims[ra - 1];
    p->a_batch.rank = ra - 2;
    memcpy(p->a_batch.dims, a_shape->dims, (size_t)(ra - 2) * sizeof(int64_t));
  }
  int64_t kb;
  if (rb == 1) {
    kb = b_shape->dims[0];
    p->n = 1;
  } else {
    kb = b_shape->dims[rb - 2];
    p->n = b_shape->dims[rb - 1];
    p->b_batch.rank = rb - 2;
    memcpy(p->b_batch.dims, b_shape->dims, (size_t)(rb - 2) * sizeof(int64_t));
  }
  if (kb != p->k)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: inner dims differ: A %s vs B %s", op,
                           pal_shape_format(a_shape, b0, sizeof b0),
                           pal_shape_format(b_shape, b1, sizeof b1));
  pal_status_t st = pal_shape_broadcast(op, &p->a_batch, &p->b_batch, &p->batch);
  if (st) {
    pal_status_free(st);
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: batch dims of A %s and B %s do not broadcast",
                           op, pal_shape_format(a_shape, b0, sizeof b0),
                           pal_shape_format(b_shape, b1, sizeof b1));
  }
  p->out = p->batch;
  if (ra > 1) p->out.dims[p->out.rank++] = p->m;
  if (rb > 1) p->out.dims[p->out.rank++] = p->n;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "output", &p->out, NULL));
  PAL_RETURN_IF_ERROR(check_blas_dims(op, p->m, p->n, p->k));
  return PAL_STATUS_OK;
}

pal_status_t pal_op_matmul_infer(const pal_shape_t *a_shape, const pal_shape_t *b_shape,
                                 pal_shape_t *out_shape) {
  mm_plan_t p;
  PAL_RETURN_IF_ERROR(matmul_plan(a_shape, b_shape, &p));
  if (out_shape) *out_shape = p.out;
  return PAL_STATUS_OK;
}

/* For validated shapes: an empty tensor may have huge other dims, so a 0
 * short-circuits before any product can overflow. */
static int64_t numel(const pal_shape_t *s) {
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i] == 0) return 0;
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->dims[i];
  return n;
}

pal_status_t pal_op_matmul(const float *a, const pal_shape_t *a_shape, const float *b,
                           const pal_shape_t *b_shape, float *y) {
  const char *op = "MatMul";
  mm_plan_t p;
  PAL_RETURN_IF_ERROR(matmul_plan(a_shape, b_shape, &p));
  int64_t na = numel(a_shape), nb = numel(b_shape), ny = numel(&p.out);
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "A", a, na));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "B", b, nb));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, ny));
  if (ny == 0) return PAL_STATUS_OK;
  const int64_t m = p.m, n = p.n, k = p.k;
  int64_t nbatch = numel(&p.batch);
  int64_t a_batches = numel(&p.a_batch), b_batches = numel(&p.b_batch);
  if (b_batches == 1 && a_batches == nbatch) {
    /* B shared: A's batches stacked are one [batch*M, K] matrix */
    sgemm(0, 0, nbatch * m, n, k, 1.0f, a, k, b, n, 0.0f, y, n);
    return PAL_STATUS_OK;
  }
  /* general case: per batch, operand offsets through broadcast strides */
  pal_ops_bcast_t it;
  const pal_shape_t *ins[2] = {&p.a_batch, &p.b_batch};
  pal_ops_bcast_init(&it, &p.batch, 2, ins);
  pal_ops_bcast_walk_t w;
  memset(&w, 0, sizeof w);
  int64_t rows = pal_ops_bcast_rows(&it), inner = it.dims[it.rank - 1];
  int64_t sa = it.strides[0][it.rank - 1], sb = it.strides[1][it.rank - 1];
  int64_t bi = 0;
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t i = 0; i < inner; i++, bi++)
      sgemm(0, 0, m, n, k, 1.0f, a + (w.off[0] + i * sa) * m * k, k, b + (w.off[1] + i * sb) * k * n,
            n, 0.0f, y + bi * m * n, n);
    pal_ops_bcast_next(&it, &w);
  }
  return PAL_STATUS_OK;
}
