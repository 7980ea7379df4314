// The CUDA provider's kernels (include/pal/cuda.h): row-major SGEMM through
// cuBLAS and the element-wise ops, on host arrays copied to and from GPU 0.
// Built by nvcc into libpalcuda.so (host/cuda.mk) and loaded with dlopen by
// host/core/pal_cuda_loader.c through the table of pal_cuda_abi.h; nothing
// here depends on the rest of the project.
//
// The CUDA runtime is linked statically (nvcc's default), so loading this
// library needs only cuBLAS and, to find a GPU, the driver's libcuda.so.1;
// without a driver cudaGetDeviceCount fails and open() reports it.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pal_cuda_abi.h"

namespace {

struct Ctx {
  cublasHandle_t blas;
  int device;
};

int fail(int rc, char *err, size_t err_size, const char *fmt, const char *what) {
  if (err && err_size) snprintf(err, err_size, fmt, what);
  return rc;
}

int cuda_rc(cudaError_t e) {
  if (e == cudaErrorMemoryAllocation) return PAL_CUDA_RC_OUT_OF_MEMORY;
  if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) return PAL_CUDA_RC_NO_DEVICE;
  return PAL_CUDA_RC_FAILED;
}

#define CU(call)                                                                         \
  do {                                                                                   \
    cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                             \
      if (err && err_size) snprintf(err, err_size, "%s: %s", #call, cudaGetErrorString(e_)); \
      rc = cuda_rc(e_);                                                                  \
      goto out;                                                                          \
    }                                                                                    \
  } while (0)

// Device buffers released on every path.
struct DevBuf {
  void *p = nullptr;
  ~DevBuf() {
    if (p) cudaFree(p);
  }
};

int extern_open(void **out_ctx, char *name, size_t name_size, char *err, size_t err_size) {
  int rc = PAL_CUDA_RC_OK;
  int count = 0;
  cudaDeviceProp prop;
  Ctx *ctx = nullptr;
  cublasStatus_t bs;
  *out_ctx = nullptr;
  {
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice ||
        e == cudaErrorInitializationError) {
      snprintf(err, err_size, "%s",
               e == cudaErrorNoDevice ? "the CUDA driver sees no GPU"
                                      : "no CUDA driver (libcuda.so.1) on this machine");
      return PAL_CUDA_RC_NO_DEVICE;
    }
    CU(e);
  }
  if (count < 1) return fail(PAL_CUDA_RC_NO_DEVICE, err, err_size, "%s", "no CUDA GPU");
  CU(cudaSetDevice(0));
  CU(cudaGetDeviceProperties(&prop, 0));
  ctx = new Ctx();
  ctx->device = 0;
  bs = cublasCreate(&ctx->blas);
  if (bs != CUBLAS_STATUS_SUCCESS) {
    delete ctx;
    return fail(PAL_CUDA_RC_FAILED, err, err_size, "cublasCreate: %s", cublasGetStatusString(bs));
  }
  snprintf(name, name_size, "%s", prop.name);
  *out_ctx = ctx;
out:
  return rc;
}

void extern_close(void *p) {
  Ctx *ctx = static_cast<Ctx *>(p);
  if (!ctx) return;
  cublasDestroy(ctx->blas);
  delete ctx;
}

// Row-major C = alpha op(A) op(B) + beta C is column-major
// C^T = alpha op(B)^T op(A)^T + beta C^T: swap the operands, keep the flags.
int extern_sgemm(void *p, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                 const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                 size_t ldc, char *err, size_t err_size) {
  Ctx *ctx = static_cast<Ctx *>(p);
  int rc = PAL_CUDA_RC_OK;
  if (m == 0 || n == 0) return PAL_CUDA_RC_OK;
  size_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  size_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  if (lda < a_cols || ldb < b_cols || ldc < n || m > 0x7FFFFFFF || n > 0x7FFFFFFF || k > 0x7FFFFFFF)
    return fail(PAL_CUDA_RC_BAD_ARGUMENT, err, err_size, "%s",
                "sgemm: a leading dimension is below the row length, or a size exceeds 2^31");
  DevBuf da, db, dc;
  cublasStatus_t bs;
  size_t a_bytes = (a_rows ? (a_rows - 1) * lda + a_cols : 0) * sizeof(float);
  size_t b_bytes = (b_rows ? (b_rows - 1) * ldb + b_cols : 0) * sizeof(float);
  size_t c_bytes = ((m - 1) * ldc + n) * sizeof(float);
  if (k > 0) {
    CU(cudaMalloc(&da.p, a_bytes));
    CU(cudaMalloc(&db.p, b_bytes));
    CU(cudaMemcpy(da.p, a, a_bytes, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(db.p, b, b_bytes, cudaMemcpyHostToDevice));
  }
  CU(cudaMalloc(&dc.p, c_bytes));
  CU(cudaMemcpy(dc.p, c, c_bytes, cudaMemcpyHostToDevice));
  if (k == 0) {
    // C = beta C: cuBLAS needs k >= 1 only in spirit; scale directly.
    bs = cublasSscal(ctx->blas, (int)(c_bytes / sizeof(float)), &beta, (float *)dc.p, 1);
  } else {
    bs = cublasSgemm(ctx->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                     trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)m, (int)k, &alpha,
                     (const float *)db.p, (int)ldb, (const float *)da.p, (int)lda, &beta,
                     (float *)dc.p, (int)ldc);
  }
  if (bs != CUBLAS_STATUS_SUCCESS)
    return fail(PAL_CUDA_RC_FAILED, err, err_size, "cublasSgemm: %s", cublasGetStatusString(bs));
  CU(cudaMemcpy(c, dc.p, c_bytes, cudaMemcpyDeviceToHost));
out:
  return rc;
}

__device__ float unary_op(int op, float x, float p0, float p1) {
  switch (op) {
    case 0: return x > 0.0f ? x : (x == x ? 0.0f : x);  // ReLU keeps NaN
    case 1: return x >= 0.0f ? x : p0 * x;
    case 2: return 1.0f / (1.0f + expf(-x));
    case 3: return tanhf(x);
    case 4: return erff(x);
    case 5: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case 6: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case 7: return sqrtf(x);
    case 8: return expf(x);
    case 9: return logf(x);
    case 10: return -x;
    case 11: return fabsf(x);
    case 12: return x != x ? x : fminf(fmaxf(x, p0), p1);
    default: return x;
  }
}

__global__ void unary_kernel(int op, const float *x, size_t n, float p0, float p1, float *y) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (; i < n; i += stride) y[i] = unary_op(op, x[i], p0, p1);
}

__device__ float binary_op(int op, float a, float b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return powf(a, b);
    default: return a;
  }
}

__global__ void binary_kernel(int op, const float *a, int a_scalar, const float *b, int b_scalar,
                              float *y, size_t n) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (; i < n; i += stride) y[i] = binary_op(op, a[a_scalar ? 0 : i], b[b_scalar ? 0 : i]);
}

unsigned grid_for(size_t n) {
  size_t blocks = (n + 255) / 256;
  return (unsigned)(blocks > 65535 ? 65535 : blocks ? blocks : 1);
}

int extern_unary(void *, int op, const float *x, size_t n, float p0, float p1, float *y, char *err,
                 size_t err_size) {
  int rc = PAL_CUDA_RC_OK;
  if (n == 0) return rc;
  DevBuf dx, dy;
  CU(cudaMalloc(&dx.p, n * sizeof(float)));
  CU(cudaMalloc(&dy.p, n * sizeof(float)));
  CU(cudaMemcpy(dx.p, x, n * sizeof(float), cudaMemcpyHostToDevice));
  unary_kernel<<<grid_for(n), 256>>>(op, (const float *)dx.p, n, p0, p1, (float *)dy.p);
  CU(cudaGetLastError());
  CU(cudaMemcpy(y, dy.p, n * sizeof(float), cudaMemcpyDeviceToHost));
out:
  return rc;
}

int extern_binary(void *, int op, const float *a, size_t na, const float *b, size_t nb, float *y,
                  size_t n, char *err, size_t err_size) {
  int rc = PAL_CUDA_RC_OK;
  if (n == 0) return rc;
  DevBuf da, db, dy;
  CU(cudaMalloc(&da.p, na * sizeof(float)));
  CU(cudaMalloc(&db.p, nb * sizeof(float)));
  CU(cudaMalloc(&dy.p, n * sizeof(float)));
  CU(cudaMemcpy(da.p, a, na * sizeof(float), cudaMemcpyHostToDevice));
  CU(cudaMemcpy(db.p, b, nb * sizeof(float), cudaMemcpyHostToDevice));
  binary_kernel<<<grid_for(n), 256>>>(op, (const float *)da.p, na == 1, (const float *)db.p,
                                      nb == 1, (float *)dy.p, n);
  CU(cudaGetLastError());
  CU(cudaMemcpy(y, dy.p, n * sizeof(float), cudaMemcpyDeviceToHost));
out:
  return rc;
}

const pal_cuda_api_t kApi = {
    PAL_CUDA_ABI_VERSION, extern_open, extern_close, extern_sgemm, extern_unary, extern_binary,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const pal_cuda_api_t *pal_cuda_get_api(
    uint32_t version) {
  return version == PAL_CUDA_ABI_VERSION ? &kApi : nullptr;
}
