/* Loader of the CUDA provider's kernel library (include/pal/cuda.h): finds
 * libpalcuda.so, dlopens it, checks its ABI version and turns the table's
 * return codes and messages into statuses. Lives in libpalcore so that every
 * program can ask for the GPU without linking the CUDA runtime. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cuda/pal_cuda_abi.h"
#include "pal/cuda.h"

#define PAL_CUDA_LIBRARY_NAME "libpalcuda.so"

struct pal_cuda {
  void *handle;
  const pal_cuda_api_t *api;
  void *ctx;
  char name[128];
  char path[PATH_MAX];
};

/* dlopen one candidate; on failure keeps dlerror()'s text in `why`.
 * RTLD_NODELETE: the CUDA runtime inside keeps state (allocations, driver
 * handles) that does not survive unmapping; closing only drops the handle. */
static void *try_open(const char *path, char *why, size_t why_size) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!h) {
    const char *e = dlerror();
    snprintf(why, why_size, "%s", e ? e : "dlopen failed");
  }
  return h;
}

/* The build tree keeps the library in build/lib/, programs in build/bin/
 * and tests in build/<variant>/tests/ and build/<variant>/tests/<layer>/:
 * look one, two and three levels up from the program's folder. */
static void *open_near_program(char *path, size_t path_size, char *why, size_t why_size) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return NULL;
  *slash = 0;
  static const char *const kRel[] = {"../lib/", "../../lib/", "../../../lib/"};
  for (size_t i = 0; i < sizeof kRel / sizeof kRel[0]; i++) {
    int len = snprintf(path, path_size, "%s/%s%s", exe, kRel[i], PAL_CUDA_LIBRARY_NAME);
    if (len < 0 || (size_t)len >= path_size) continue;
    if (access(path, F_OK) != 0) continue;
    void *h = try_open(path, why, why_size);
    if (h) return h;
    return NULL; /* it is there but does not load: report that, not a later miss */
  }
  return NULL;
}

static pal_status_t unavailable(const char *what, const char *why) {
  return pal_status_make(PAL_UNAVAILABLE, "CUDA provider unavailable: %s%s%s", what,
                         why && *why ? ": " : "", why ? why : "");
}

pal_status_t pal_cuda_open(const char *library_path, pal_cuda_t **out_cuda) {
  if (!out_cuda) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cuda_open: out_cuda is NULL");
  *out_cuda = NULL;
  pal_cuda_t *cu = calloc(1, sizeof *cu);
  if (!cu) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cuda_open: out of memory");
  char why[512] = "";
  const char *env = getenv("PAL_CUDA_LIBRARY");
  if (library_path || (env && *env)) {
    const char *p = library_path ? library_path : env;
    snprintf(cu->path, sizeof cu->path, "%s", p);
    cu->handle = try_open(p, why, sizeof why);
    if (!cu->handle) {
      free(cu);
      return unavailable(library_path ? "cannot load the CUDA kernel library"
                                      : "cannot load PAL_CUDA_LIBRARY",
                         why);
    }
  } else {
    cu->handle = open_near_program(cu->path, sizeof cu->path, why, sizeof why);
    if (!cu->handle && !why[0]) {
      snprintf(cu->path, sizeof cu->path, "%s", PAL_CUDA_LIBRARY_NAME);
      cu->handle = try_open(PAL_CUDA_LIBRARY_NAME, why, sizeof why);
      if (!cu->handle) {
        free(cu);
        return unavailable(PAL_CUDA_LIBRARY_NAME " was not built (no CUDA toolkit at build time)"
                           " and is not on the library path",
                           NULL);
      }
    } else if (!cu->handle) {
      pal_status_t st = unavailable("cannot load the CUDA kernel library", why);
      free(cu);
      return st;
    }
  }
  dlerror();
  void *sym = dlsym(cu->handle, PAL_CUDA_ABI_SYMBOL);
  if (!sym) {
    pal_status_t st = pal_status_make(PAL_UNAVAILABLE,
                                      "CUDA provider unavailable: %s has no symbol %s (not a "
                                      "PAL CUDA kernel library)",
                                      cu->path, PAL_CUDA_ABI_SYMBOL);
    dlclose(cu->handle);
    free(cu);
    return st;
  }
  pal_cuda_get_api_fn get_api;
  memcpy(&get_api, &sym, sizeof get_api); /* object pointer to function pointer, POSIX-style */
  cu->api = get_api(PAL_CUDA_ABI_VERSION);
  if (!cu->api || cu->api->version != PAL_CUDA_ABI_VERSION) {
    pal_status_t st = pal_status_make(PAL_UNAVAILABLE,
                                      "CUDA provider unavailable: %s speaks another ABI version "
                                      "(this program: %u); rebuild it",
                                      cu->path, PAL_CUDA_ABI_VERSION);
    dlclose(cu->handle);
    free(cu);
    return st;
  }
  char err[512] = "";
  int rc = cu->api->open(&cu->ctx, cu->name, sizeof cu->name, err, sizeof err);
  if (rc != PAL_CUDA_RC_OK) {
    pal_status_t st = rc == PAL_CUDA_RC_NO_DEVICE
                          ? unavailable("no usable GPU", err)
                          : pal_status_make(PAL_INTERNAL, "CUDA provider: %s", err);
    dlclose(cu->handle);
    free(cu);
    return st;
  }
  *out_cuda = cu;
  return PAL_STATUS_OK;
}

void pal_cuda_close(pal_cuda_t *cuda) {
  if (!cuda) return;
  if (cuda->api && cuda->ctx) cuda->api->close(cuda->ctx);
  if (cuda->handle) dlclose(cuda->handle);
  free(cuda);
}

const char *pal_cuda_device_name(const pal_cuda_t *cuda) { return cuda ? cuda->name : ""; }
const char *pal_cuda_library_path(const pal_cuda_t *cuda) { return cuda ? cuda->path : ""; }

static pal_status_t from_rc(int rc, const char *op, const char *err) {
  if (rc == PAL_CUDA_RC_OK) return PAL_STATUS_OK;
  pal_status_code_t code = rc == PAL_CUDA_RC_BAD_ARGUMENT    ? PAL_INVALID_ARGUMENT
                           : rc == PAL_CUDA_RC_OUT_OF_MEMORY ? PAL_RESOURCE_EXHAUSTED
                           : rc == PAL_CUDA_RC_NO_DEVICE     ? PAL_UNAVAILABLE
                                                             : PAL_INTERNAL;
  return pal_status_make(code, "CUDA %s: %s", op, err[0] ? err : "failed");
}

pal_status_t pal_cuda_sgemm(pal_cuda_t *cuda, bool trans_a, bool trans_b, size_t m, size_t n,
                            size_t k, float alpha, const float *a, size_t lda, const float *b,
                            size_t ldb, float beta, float *c, size_t ldc) {
  if (!cuda) return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA sgemm: no device");
  if ((m && n && !c) || (m && k && (!a || !b)))
    return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA sgemm: NULL operand for %zux%zux%zu", m, n,
                           k);
  char err[512] = "";
  int rc = cuda->api->sgemm(cuda->ctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                            ldc, err, sizeof err);
  return from_rc(rc, "sgemm", err);
}

pal_status_t pal_cuda_unary(pal_cuda_t *cuda, pal_cuda_unary_op_t op, const float *x, size_t n,
                            float p0, float p1, float *y) {
  if (!cuda) return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA unary: no device");
  if ((unsigned)op >= PAL_CUDA_UNARY_COUNT)
    return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA unary: unknown op %d", (int)op);
  if (n && (!x || !y)) return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA unary: NULL array");
  char err[512] = "";
  return from_rc(cuda->api->unary(cuda->ctx, (int)op, x, n, p0, p1, y, err, sizeof err), "unary",
                 err);
}

pal_status_t pal_cuda_binary(pal_cuda_t *cuda, pal_cuda_binary_op_t op, const float *a, size_t na,
                             const float *b, size_t nb, float *y, size_t n) {
  if (!cuda) return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA binary: no device");
  if ((unsigned)op >= PAL_CUDA_BINARY_COUNT)
    return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA binary: unknown op %d", (int)op);
  if ((na != n && na != 1) || (nb != n && nb != 1))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "CUDA binary: operand sizes %zu and %zu for %zu outputs (each must be "
                           "the output size or 1)",
                           na, nb, n);
  if (n && (!a || !b || !y)) return pal_status_make(PAL_INVALID_ARGUMENT, "CUDA binary: NULL array");
  char err[512] = "";
  return from_rc(cuda->api->binary(cuda->ctx, (int)op, a, na, b, nb, y, n, err, sizeof err),
                 "binary", err);
}
