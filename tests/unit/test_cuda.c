/* The CUDA provider's loader and kernels (include/pal/cuda.h). The loader's
 * refusals run everywhere; the kernels run only where a GPU is, and are
 * skipped with the loader's one-line reason elsewhere. Where the build made
 * libpalcuda.so, the reason must be about the GPU or driver: the library
 * itself and its cuBLAS dependency have to load. */
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pal/cuda.h"
#include "pal_test.h"

static void test_missing_library(void **state) {
  (void)state;
  pal_cuda_t *cu = (pal_cuda_t *)1;
  pal_status_t st = pal_cuda_open("/nonexistent/libpalcuda.so", &cu);
  assert_int_equal(pal_status_code(st), PAL_UNAVAILABLE);
  assert_null(cu);
  assert_non_null(strstr(pal_status_message(st), "/nonexistent/libpalcuda.so"));
  pal_status_free(st);
}

static void test_not_a_library(void **state) {
  (void)state;
  char path[] = "/tmp/pal_cuda_test_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "not an ELF file\n", 16), 16);
  close(fd);
  pal_cuda_t *cu = NULL;
  pal_status_t st = pal_cuda_open(path, &cu);
  unlink(path);
  assert_int_equal(pal_status_code(st), PAL_UNAVAILABLE);
  assert_null(cu);
  assert_non_null(strstr(pal_status_message(st), "cannot load"));
  pal_status_free(st);
}

/* A real shared library that is not ours: cmocka's own. */
static void test_library_without_symbol(void **state) {
  (void)state;
  Dl_info info;
  void *fn = (void *)&_cmocka_run_group_tests;
  assert_true(dladdr(fn, &info) && info.dli_fname);
  pal_cuda_t *cu = NULL;
  pal_status_t st = pal_cuda_open(info.dli_fname, &cu);
  assert_int_equal(pal_status_code(st), PAL_UNAVAILABLE);
  assert_null(cu);
  assert_non_null(strstr(pal_status_message(st), "pal_cuda_get_api"));
  pal_status_free(st);
}

/* build/lib/libpalcuda.so relative to this program (build/<variant>/tests/). */
static int built_library(char *path, size_t size) {
  char exe[PATH_MAX - 32];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 0;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return 0;
  *slash = 0;
  int len = snprintf(path, size, "%s/../../lib/libpalcuda.so", exe);
  return len > 0 && (size_t)len < size && access(path, F_OK) == 0;
}

static pal_cuda_t *open_or_skip(void) {
  pal_cuda_t *cu = NULL;
  pal_status_t st = pal_cuda_open(NULL, &cu);
  if (!st) return cu;
  char lib[PATH_MAX];
  if (built_library(lib, sizeof lib)) {
    /* built here: loading must work, only the GPU may be missing */
    if (!strstr(pal_status_message(st), "no usable GPU")) fail_msg("%s", pal_status_message(st));
  }
  print_message("skipped: %s\n", pal_status_message(st));
  pal_status_free(st);
  skip();
  return NULL;
}

static double ref_dot(const float *a, size_t lda, int ta, const float *b, size_t ldb, int tb,
                      size_t i, size_t j, size_t k) {
  double s = 0;
  for (size_t p = 0; p < k; p++)
    s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
  return s;
}

static void test_gpu_sgemm(void **state) {
  (void)state;
  pal_cuda_t *cu = open_or_skip();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  static const size_t kShapes[][3] = {{1, 1, 1}, {7, 5, 3}, {64, 33, 130}, {3, 100, 1}, {5, 4, 0}};
  for (size_t s = 0; s < sizeof kShapes / sizeof kShapes[0]; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        size_t m = kShapes[s][0], n = kShapes[s][1], k = kShapes[s][2];
        size_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
        size_t ar = ta ? k : m, br = tb ? n : k;
        float *a = calloc(ar * lda + 1, sizeof *a), *b = calloc(br * ldb + 1, sizeof *b);
        float *c = calloc(m * ldc, sizeof *c);
        for (size_t i = 0; i < ar * lda; i++) a[i] = (float)pal_test_rng_gauss(&rng);
        for (size_t i = 0; i < br * ldb; i++) b[i] = (float)pal_test_rng_gauss(&rng);
        for (size_t i = 0; i < m * ldc; i++) c[i] = (float)pal_test_rng_gauss(&rng);
        float *c0 = malloc(m * ldc * sizeof *c0);
        memcpy(c0, c, m * ldc * sizeof *c);
        pal_status_t st = pal_cuda_sgemm(cu, ta, tb, m, n, k, 1.5f, a, lda, b, ldb, -0.5f, c, ldc);
        if (st) fail_msg("%s", pal_status_message(st));
        for (size_t i = 0; i < m; i++)
          for (size_t j = 0; j < n; j++) {
            double want = 1.5 * ref_dot(a, lda, ta, b, ldb, tb, i, j, k) - 0.5 * c0[i * ldc + j];
            double tol = 1e-4 * (double)(k + 1) * (1.0 + fabs(want));
            if (fabs(c[i * ldc + j] - want) > tol)
              fail_msg("sgemm %zux%zux%zu ta=%d tb=%d C[%zu,%zu] = %g, want %g", m, n, k, ta, tb,
                       i, j, c[i * ldc + j], want);
          }
        free(a), free(b), free(c), free(c0);
      }
  pal_cuda_close(cu);
}

static void test_gpu_elementwise(void **state) {
  (void)state;
  pal_cuda_t *cu = open_or_skip();
  enum { N = 1000 };
  float x[N], y[N], z[N];
  for (int i = 0; i < N; i++) x[i] = (float)(i - N / 2) / 97.0f;
  for (int op = 0; op < PAL_CUDA_UNARY_COUNT; op++) {
    pal_status_t st = pal_cuda_unary(cu, (pal_cuda_unary_op_t)op, x, N, 0.1f, 0.5f, y);
    if (st) fail_msg("%s", pal_status_message(st));
    for (int i = 0; i < N; i++) {
      double v = x[i], w;
      switch (op) {
        case PAL_CUDA_RELU: w = v > 0 ? v : 0; break;
        case PAL_CUDA_LEAKY_RELU: w = v >= 0 ? v : 0.1 * v; break;
        case PAL_CUDA_SIGMOID: w = 1 / (1 + exp(-v)); break;
        case PAL_CUDA_TANH: w = tanh(v); break;
        case PAL_CUDA_ERF: w = erf(v); break;
        case PAL_CUDA_GELU: w = 0.5 * v * (1 + erf(v / sqrt(2.0))); break;
        case PAL_CUDA_GELU_TANH: w = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); break;
        case PAL_CUDA_SQRT: w = sqrt(v); break;
        case PAL_CUDA_EXP: w = exp(v); break;
        case PAL_CUDA_LOG: w = log(v); break;
        case PAL_CUDA_NEG: w = -v; break;
        case PAL_CUDA_ABS: w = fabs(v); break;
        default: w = v < 0.1 ? 0.1 : v > 0.5 ? 0.5 : v; break;
      }
      if (isnan(w) ? !isnan(y[i]) : fabs(y[i] - w) > 1e-5 * (1 + fabs(w)))
        fail_msg("unary op %d x=%g: %g, want %g", op, v, y[i], w);
    }
  }
  float two = 2.0f;
  for (int op = 0; op < PAL_CUDA_BINARY_COUNT; op++) {
    pal_status_t st = pal_cuda_binary(cu, (pal_cuda_binary_op_t)op, x, N, &two, 1, z, N);
    if (st) fail_msg("%s", pal_status_message(st));
    for (int i = 0; i < N; i++) {
      double v = x[i];
      double w = op == 0 ? v + 2 : op == 1 ? v - 2 : op == 2 ? v * 2 : op == 3 ? v / 2 : v * v;
      if (fabs(z[i] - w) > 1e-5 * (1 + fabs(w))) fail_msg("binary op %d x=%g: %g, want %g", op, v, z[i], w);
    }
  }
  pal_status_t st = pal_cuda_binary(cu, PAL_CUDA_ADD, x, 3, x, N, z, N);
  assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
  pal_status_free(st);
  pal_cuda_close(cu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_library),
      cmocka_unit_test(test_not_a_library),
      cmocka_unit_test(test_library_without_symbol),
      cmocka_unit_test(test_gpu_sgemm),
      cmocka_unit_test(test_gpu_elementwise),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
