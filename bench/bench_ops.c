/* libpalops speed, side by side with OpenBLAS called directly on the same
 * shapes (the cpu provider's GEMM must not lose to its own BLAS), plus the
 * conv im2col overhead and broadcast Add bandwidth. Table on stdout,
 * JSON with --json PATH. */
#include <cblas.h>
#include <math.h>

#include "bench_util.h"
#include "pal/ops.h"

/* Best-of-3 seconds per call, each run repeating fn until 0.15 s pass. */
#define TIME_BEST(out, BODY)                                   \
  do {                                                         \
    double best_ = 1e30;                                       \
    for (int run_ = 0; run_ < 3; run_++) {                     \
      long reps_ = 0;                                          \
      double t0_ = bench_now(), t_;                            \
      do {                                                     \
        BODY;                                                  \
        reps_++;                                               \
        t_ = bench_now() - t0_;                                \
      } while (t_ < 0.15);                                     \
      if (t_ / (double)reps_ < best_) best_ = t_ / (double)reps_; \
    }                                                          \
    (out) = best_;                                             \
  } while (0)

static float *filled(size_t n, unsigned seed) {
  float *p = malloc(n * sizeof *p);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)((seed >> 8) & 0xFFFF) / 65536.0f - 0.5f;
  }
  return p;
}

static void check(pal_status_t st) {
  if (st) {
    fprintf(stderr, "bench_ops: %s\n", pal_status_message(st));
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *json = NULL;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
  bench_json_t j = {0};
  if (json && bench_json_open(&j, json, "ops")) {
    fprintf(stderr, "bench_ops: cannot write %s\n", json);
    return 1;
  }
  char params[256];
  printf("%-34s %12s %12s %8s %s\n", "GEMM (M x N x K)", "pal GFLOP/s", "BLAS GFLOP/s", "ratio", "target");
  static const int gemm_shapes[][3] = {{1, 256, 784}, {64, 256, 784}, {128, 10, 128}, {256, 256, 256}, {512, 512, 512}};
  for (size_t s = 0; s < sizeof gemm_shapes / sizeof gemm_shapes[0]; s++) {
    int M = gemm_shapes[s][0], N = gemm_shapes[s][1], K = gemm_shapes[s][2];
    float *a = filled((size_t)M * K, 1), *b = filled((size_t)K * N, 2), *c = filled((size_t)N, 3);
    float *y = malloc((size_t)M * N * sizeof *y);
    pal_shape_t as = {2, {M, K}}, bs = {2, {K, N}}, cs = {1, {N}};
    for (int with_c = 0; with_c < 2; with_c++) {
      double tp, tb;
      TIME_BEST(tp, check(pal_op_gemm(a, &as, b, &bs, with_c ? c : NULL, &cs, 1.0f, 1.0f, 0, 0, y)));
      /* direct: the same product; with bias, BLAS's own beta=1 over a
       * pre-filled Y is the fair equivalent */
      TIME_BEST(tb, {
        if (with_c)
          for (int i = 0; i < M; i++) memcpy(y + (size_t)i * N, c, (size_t)N * sizeof *y);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N,
                    with_c ? 1.0f : 0.0f, y, N);
      });
      double flops = 2.0 * M * N * K, ratio = tb / tp;
      char name[64];
      snprintf(name, sizeof name, "%d x %d x %d%s", M, N, K, with_c ? " +bias" : "");
      printf("%-34s %12.2f %12.2f %8.3f >= 0.9 %s\n", name, flops / tp * 1e-9, flops / tb * 1e-9, ratio,
             bench_verdict(ratio, ">=", 0.9));
      snprintf(params, sizeof params, "\"M\": %d, \"N\": %d, \"K\": %d, \"bias\": %d", M, N, K, with_c);
      bench_json_result(&j, "gemm_gflops", flops / tp * 1e-9, "GFLOP/s", params, NULL, 0);
      bench_json_result(&j, "gemm_vs_blas_ratio", ratio, "ratio", params, ">=", 0.9);
    }
    free(a); free(b); free(c); free(y);
  }

  printf("\n%-34s %12s %12s %8s\n", "MatMul", "pal GFLOP/s", "BLAS GFLOP/s", "ratio");
  static const int mm_shapes[][5] = {/* batch, M, N, K, shared B */ {16, 128, 64, 64, 1}, {16, 128, 128, 64, 0}};
  for (size_t s = 0; s < 2; s++) {
    int B = mm_shapes[s][0], M = mm_shapes[s][1], N = mm_shapes[s][2], K = mm_shapes[s][3], shared = mm_shapes[s][4];
    float *a = filled((size_t)B * M * K, 4), *b = filled((size_t)(shared ? 1 : B) * K * N, 5);
    float *y = malloc((size_t)B * M * N * sizeof *y);
    pal_shape_t as = {3, {B, M, K}}, bs = shared ? (pal_shape_t){2, {K, N}} : (pal_shape_t){3, {B, K, N}};
    double tp, tb;
    TIME_BEST(tp, check(pal_op_matmul(a, &as, b, &bs, y)));
    TIME_BEST(tb, {
      for (int t = 0; t < B; t++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a + (size_t)t * M * K, K,
                    b + (shared ? 0 : (size_t)t * K * N), N, 0.0f, y + (size_t)t * M * N, N);
    });
    double flops = 2.0 * B * M * N * K;
    char name[64];
    snprintf(name, sizeof name, "[%d,%d,%d] x %s[%d,%d]", B, M, K, shared ? "" : "batched ", K, N);
    printf("%-34s %12.2f %12.2f %8.3f\n", name, flops / tp * 1e-9, flops / tb * 1e-9, tb / tp);
    snprintf(params, sizeof params, "\"batch\": %d, \"M\": %d, \"N\": %d, \"K\": %d, \"shared_b\": %d", B, M, N, K, shared);
    bench_json_result(&j, "matmul_gflops", flops / tp * 1e-9, "GFLOP/s", params, NULL, 0);
    bench_json_result(&j, "matmul_vs_blas_loop_ratio", tb / tp, "ratio", params, NULL, 0);
    free(a); free(b); free(y);
  }

  printf("\n%-34s %12s %12s %8s\n", "Conv (im2col + sgemm)", "pal GFLOP/s", "GEMM only", "ratio");
  static const int conv_shapes[][6] = {/* C, H, W, M, k, pad */ {1, 28, 28, 32, 3, 1}, {32, 14, 14, 64, 3, 1}, {64, 14, 14, 64, 1, 0}};
  for (size_t s = 0; s < 3; s++) {
    int C = conv_shapes[s][0], H = conv_shapes[s][1], W = conv_shapes[s][2], M = conv_shapes[s][3],
        k = conv_shapes[s][4], pad = conv_shapes[s][5];
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1, KK = C * k * k, SP = OH * OW;
    float *x = filled((size_t)C * H * W, 6), *w = filled((size_t)M * KK, 7), *bias = filled((size_t)M, 8);
    float *y = malloc((size_t)M * SP * sizeof *y), *col = filled((size_t)KK * SP, 9);
    pal_shape_t xs = {4, {1, C, H, W}}, ws = {4, {M, C, k, k}};
    pal_op_conv_params_t p;
    pal_op_conv_params_initialize(&p);
    for (int i = 0; i < 4; i++) p.pads[i] = pad;
    double tp, tb;
    TIME_BEST(tp, check(pal_op_conv(x, &xs, w, &ws, bias, &p, y)));
    TIME_BEST(tb, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, SP, KK, 1.0f, w, KK, col, SP, 0.0f, y, SP));
    double flops = 2.0 * M * SP * KK;
    char name[64];
    snprintf(name, sizeof name, "[1,%d,%d,%d] * %dx%dx%d", C, H, W, M, k, k);
    printf("%-34s %12.2f %12.2f %8.3f\n", name, flops / tp * 1e-9, flops / tb * 1e-9, tb / tp);
    snprintf(params, sizeof params, "\"C\": %d, \"H\": %d, \"W\": %d, \"M\": %d, \"k\": %d, \"pad\": %d", C, H, W, M, k, pad);
    bench_json_result(&j, "conv_gflops", flops / tp * 1e-9, "GFLOP/s", params, NULL, 0);
    bench_json_result(&j, "conv_vs_gemm_only_ratio", tb / tp, "ratio", params, NULL, 0);
    free(x); free(w); free(bias); free(y); free(col);
  }

  printf("\n%-34s %12s %12s %8s\n", "Add (broadcast)", "pal GB/s", "loop GB/s", "ratio");
  {
    int R = 1024, Cn = 1024;
    float *a = filled((size_t)R * Cn, 10), *b = filled((size_t)Cn, 11), *y = malloc((size_t)R * Cn * sizeof *y);
    pal_shape_t as = {2, {R, Cn}}, bs = {1, {Cn}};
    double tp, tb;
    TIME_BEST(tp, check(pal_op_binary(PAL_OP_ADD, PAL_OP_F32, a, &as, b, &bs, y)));
    TIME_BEST(tb, {
      for (int i = 0; i < R; i++)
        for (int q = 0; q < Cn; q++) y[(size_t)i * Cn + q] = a[(size_t)i * Cn + q] + b[q];
    });
    double bytes = 2.0 * R * Cn * sizeof(float);
    printf("%-34s %12.2f %12.2f %8.3f\n", "[1024,1024] + [1024]", bytes / tp * 1e-9, bytes / tb * 1e-9, tb / tp);
    bench_json_result(&j, "add_bcast_gbps", bytes / tp * 1e-9, "GB/s", "\"shape\": \"[1024,1024]+[1024]\"", NULL, 0);
    bench_json_result(&j, "add_bcast_vs_loop_ratio", tb / tp, "ratio", "\"shape\": \"[1024,1024]+[1024]\"", NULL, 0);
    free(a); free(b); free(y);
  }
  if (json) {
    bench_json_close(&j);
    printf("\nwrote %s\n", json);
  }
  return 0;
}
