/* The binary interface between libpalcuda.so (host/cuda/pal_cuda_kernels.cu,
 * built by nvcc) and its loader in libpalcore (host/core/pal_cuda_loader.c).
 * The library exports one C symbol, pal_cuda_get_api(version), returning a
 * table of functions; everything crosses as plain C types, and errors come
 * back as a non-zero return with a message in the caller's buffer, so the
 * library needs nothing from libpal (it is built by another compiler and
 * loaded only where the CUDA runtime is wanted). Bump PAL_CUDA_ABI_VERSION
 * on any change to the table. */
#ifndef PAL_CUDA_ABI_H
#define PAL_CUDA_ABI_H

#include <stddef.h>
#include <stdint.h>

#define PAL_CUDA_ABI_VERSION 1u
#define PAL_CUDA_ABI_SYMBOL "pal_cuda_get_api"

/* Return codes of the table's functions (0: success). */
enum {
  PAL_CUDA_RC_OK = 0,
  PAL_CUDA_RC_NO_DEVICE = 1,   /* no GPU, or no driver: the provider is unavailable */
  PAL_CUDA_RC_BAD_ARGUMENT = 2,
  PAL_CUDA_RC_OUT_OF_MEMORY = 3,
  PAL_CUDA_RC_FAILED = 4,      /* any other CUDA or cuBLAS error */
};

typedef struct pal_cuda_api {
  uint32_t version; /* PAL_CUDA_ABI_VERSION */
  /* Picks device 0 and creates a cuBLAS handle. */
  int (*open)(void **out_ctx, char *name, size_t name_size, char *err, size_t err_size);
  void (*close)(void *ctx);
  /* Row-major C[m x n] = alpha * op(A) op(B) + beta * C on host arrays. */
  int (*sgemm)(void *ctx, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc, char *err, size_t err_size);
  /* y[i] = f(x[i]), op from pal_cuda_unary_op_t (include/pal/cuda.h). */
  int (*unary)(void *ctx, int op, const float *x, size_t n, float p0, float p1, float *y, char *err,
               size_t err_size);
  /* y[i] = a[na == 1 ? 0 : i] OP b[nb == 1 ? 0 : i], op from pal_cuda_binary_op_t. */
  int (*binary)(void *ctx, int op, const float *a, size_t na, const float *b, size_t nb, float *y,
                size_t n, char *err, size_t err_size);
} pal_cuda_api_t;

typedef const pal_cuda_api_t *(*pal_cuda_get_api_fn)(uint32_t version);

#endif /* PAL_CUDA_ABI_H */
