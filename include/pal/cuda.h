/* The CUDA provider's kernels: GEMM through cuBLAS and the element-wise ops
 * on a GPU. They live in a shared library of their own, libpalcuda.so,
 * built only when the CUDA toolkit (nvcc, cuBLAS) is found, and loaded here
 * with dlopen at run time, so no other part of the project links the CUDA
 * runtime and every program runs on machines without it. When the library
 * is missing, or there is no driver or no GPU, pal_cuda_open() fails with
 * PAL_UNAVAILABLE and one line that says which: the runtime then skips the
 * provider with that line (docs/runtime.md). */
#ifndef PAL_CUDA_H
#define PAL_CUDA_H

#include <stdbool.h>
#include <stddef.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pal_cuda pal_cuda_t;

typedef enum pal_cuda_unary_op {
  PAL_CUDA_RELU = 0,
  PAL_CUDA_LEAKY_RELU, /* p0: alpha */
  PAL_CUDA_SIGMOID,
  PAL_CUDA_TANH,
  PAL_CUDA_ERF,
  PAL_CUDA_GELU,       /* exact: x/2 (1 + erf(x/sqrt 2)) */
  PAL_CUDA_GELU_TANH,  /* the tanh approximation */
  PAL_CUDA_SQRT,
  PAL_CUDA_EXP,
  PAL_CUDA_LOG,
  PAL_CUDA_NEG,
  PAL_CUDA_ABS,
  PAL_CUDA_CLIP,       /* p0: min, p1: max */
  PAL_CUDA_UNARY_COUNT
} pal_cuda_unary_op_t;

typedef enum pal_cuda_binary_op {
  PAL_CUDA_ADD = 0,
  PAL_CUDA_SUB,
  PAL_CUDA_MUL,
  PAL_CUDA_DIV,
  PAL_CUDA_POW,
  PAL_CUDA_BINARY_COUNT
} pal_cuda_binary_op_t;

/* Loads libpalcuda.so and opens GPU 0. `library_path` NULL searches: the
 * environment variable PAL_CUDA_LIBRARY, then lib/libpalcuda.so next to the
 * program's bin/ or build variant folder (the build tree's layout), then the
 * system's library path. PAL_UNAVAILABLE (with the reason in one line) when
 * the library is not there (not built: no CUDA toolkit at build time), when
 * it cannot be loaded, or when there is no driver or no GPU. */
pal_status_t pal_cuda_open(const char *library_path, pal_cuda_t **out_cuda);
void pal_cuda_close(pal_cuda_t *cuda);

/* The GPU's name ("NVIDIA H100 80GB HBM3"). */
const char *pal_cuda_device_name(const pal_cuda_t *cuda);
/* The library that was loaded. */
const char *pal_cuda_library_path(const pal_cuda_t *cuda);

/* Row-major C[m x n] = alpha * op(A) op(B) + beta * C, host arrays (copied
 * to and from the GPU). lda, ldb, ldc: row strides in elements. */
pal_status_t pal_cuda_sgemm(pal_cuda_t *cuda, bool trans_a, bool trans_b, size_t m, size_t n,
                            size_t k, float alpha, const float *a, size_t lda, const float *b,
                            size_t ldb, float beta, float *c, size_t ldc);
/* y = f(x) element-wise over n floats (p0, p1: the op's parameters). */
pal_status_t pal_cuda_unary(pal_cuda_t *cuda, pal_cuda_unary_op_t op, const float *x, size_t n,
                            float p0, float p1, float *y);
/* y = a OP b over n floats; na and nb are n or 1 (a scalar operand). Other
 * broadcasts are expanded by the caller. */
pal_status_t pal_cuda_binary(pal_cuda_t *cuda, pal_cuda_binary_op_t op, const float *a, size_t na,
                             const float *b, size_t nb, float *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* PAL_CUDA_H */
