/* Softmax, reductions, pooling, normalisation, Gemm/MatMul and Conv
 * against naive double references with explicit loops; ONNX's documented
 * examples for the subtle pooling modes; argument errors. */
#include "ops_test_util.h"

#define CHECK_ARRAY(seed, got, want, n, rtol, atol, ...)                                   \
  do {                                                                                     \
    for (int64_t i_ = 0; i_ < (n); i_++)                                                   \
      if (!ot_close((got)[i_], (want)[i_], rtol, atol)) {                                  \
        char ctx_[256];                                                                    \
        snprintf(ctx_, sizeof ctx_, __VA_ARGS__);                                          \
        PAL_TEST_FAIL(seed, "%s: element %lld is %.9g, want %.9g", ctx_, (long long)i_,   \
                      (double)(got)[i_], (double)(want)[i_]);                              \
      }                                                                                    \
  } while (0)

static void test_softmax(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 11);
  char b[96];
  for (int iter = 0; iter < 200; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 1, 4, 6, 15);
    int ax = (int)pal_test_rng_below(&r, (uint32_t)s.rank);
    int64_t axis = pal_test_rng_below(&r, 2) ? ax : ax - s.rank;
    int64_t n = ot_numel(&s);
    /* large magnitudes: a naive exp would overflow */
    float *x = ot_rand_floats(&r, n, iter % 3 == 0 ? 300.0 : 3.0, 0);
    if (iter % 7 == 0 && n > 0) x[pal_test_rng_below(&r, (uint32_t)n)] = NAN;
    float *y = malloc((size_t)(n + 1) * 4), *ly = malloc((size_t)(n + 1) * 4);
    double *want = malloc((size_t)(n + 1) * 8), *lwant = malloc((size_t)(n + 1) * 8);
    OT_OK(seed, pal_op_softmax(x, &s, axis, y));
    OT_OK(seed, pal_op_log_softmax(x, &s, axis, ly));
    int64_t outer = 1, inner = 1, d = s.dims[ax];
    for (int i = 0; i < ax; i++) outer *= s.dims[i];
    for (int i = ax + 1; i < s.rank; i++) inner *= s.dims[i];
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        double m = -INFINITY, sum = 0;
        int nan = 0;
        for (int64_t k = 0; k < d; k++) {
          double v = x[(o * d + k) * inner + i];
          if (isnan(v)) nan = 1;
          if (v > m) m = v;
        }
        for (int64_t k = 0; k < d; k++) sum += exp(x[(o * d + k) * inner + i] - m);
        for (int64_t k = 0; k < d; k++) {
          int64_t j = (o * d + k) * inner + i;
          want[j] = nan ? NAN : exp(x[j] - m) / sum;
          lwant[j] = nan ? NAN : (x[j] - m) - log(sum);
        }
      }
    CHECK_ARRAY(seed, y, want, n, 1e-5, 1e-7, "Softmax %s axis %lld", ot_fmt(&s, b, sizeof b), (long long)axis);
    CHECK_ARRAY(seed, ly, lwant, n, 1e-5, 1e-5, "LogSoftmax %s axis %lld", ot_fmt(&s, b, sizeof b), (long long)axis);
    free(x); free(y); free(ly); free(want); free(lwant);
  }
  float x[6] = {0}, y[6];
  pal_shape_t s = ot_shape(2, (int64_t[]){2, 3});
  OT_ERR(seed, pal_op_softmax(x, &s, 2, y), PAL_INVALID_ARGUMENT, "Softmax", "axis", "2");
  OT_ERR(seed, pal_op_log_softmax(x, &s, -3, y), PAL_INVALID_ARGUMENT, "LogSoftmax", "axis");
}

static void test_reduce(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 12);
  char b[96];
  for (int iter = 0; iter < 400; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 0, 5, 5, 15);
    pal_op_reduce_kind_t kind = (pal_op_reduce_kind_t)pal_test_rng_below(&r, 5);
    int red[PAL_MAX_RANK] = {0};
    int64_t axes[PAL_MAX_RANK];
    int na = 0;
    for (int i = 0; i < s.rank; i++)
      if (pal_test_rng_below(&r, 2)) {
        red[i] = 1;
        axes[na++] = pal_test_rng_below(&r, 2) ? i : i - s.rank;
      }
    /* shuffle: order must not matter */
    for (int i = na - 1; i > 0; i--) {
      int j = (int)pal_test_rng_below(&r, (uint32_t)i + 1);
      int64_t t = axes[i]; axes[i] = axes[j]; axes[j] = t;
    }
    int keep = pal_test_rng_below(&r, 2), noop = pal_test_rng_below(&r, 2);
    if (na == 0)
      for (int i = 0; i < s.rank; i++) red[i] = !noop;
    pal_shape_t os;
    OT_OK(seed, pal_op_reduce_infer(&s, axes, na, keep, noop, &os));
    /* expected output shape */
    pal_shape_t ws;
    memset(&ws, 0, sizeof ws);
    for (int i = 0; i < s.rank; i++)
      if (!red[i]) ws.dims[ws.rank++] = s.dims[i];
      else if (keep) ws.dims[ws.rank++] = 1;
    PAL_TEST_CHECK(seed, pal_shape_equal(&os, &ws), "reduce shape of %s", ot_fmt(&s, b, sizeof b));
    int64_t n = ot_numel(&s), no = ot_numel(&os);
    float *x = ot_rand_floats(&r, n, 1.0, iter % 5 == 0);
    float *y = malloc((size_t)(no + 1) * 4);
    double *want = malloc((size_t)(no + 1) * 8);
    int64_t *cnt = calloc((size_t)(no + 1), 8);
    for (int64_t i = 0; i < no; i++)
      want[i] = kind == PAL_OP_REDUCE_MAX ? -INFINITY : kind == PAL_OP_REDUCE_MIN ? INFINITY
              : kind == PAL_OP_REDUCE_PROD ? 1.0 : 0.0;
    OT_OK(seed, pal_op_reduce(kind, x, &s, axes, na, keep, noop, y));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < n; i++) {
      ot_unravel(&s, i, idx);
      int64_t o = 0;
      for (int d = 0; d < s.rank; d++)
        if (!red[d]) o = o * s.dims[d] + idx[d];
      double v = x[i];
      cnt[o]++;
      switch (kind) {
        case PAL_OP_REDUCE_SUM: case PAL_OP_REDUCE_MEAN: want[o] += v; break;
        case PAL_OP_REDUCE_PROD: want[o] *= v; break;
        case PAL_OP_REDUCE_MAX: if (isnan(v) || v > want[o]) want[o] = isnan(want[o]) ? want[o] : v; break;
        case PAL_OP_REDUCE_MIN: if (isnan(v) || v < want[o]) want[o] = isnan(want[o]) ? want[o] : v; break;
      }
    }
    if (kind == PAL_OP_REDUCE_MEAN)
      for (int64_t i = 0; i < no; i++) want[i] = cnt[i] ? want[i] / (double)cnt[i] : NAN;
    CHECK_ARRAY(seed, y, want, no, 1e-6, 1e-6, "reduce %d of %s (%d axes, keep %d, noop %d)", (int)kind,
                ot_fmt(&s, b, sizeof b), na, keep, noop);
    free(x); free(y); free(want); free(cnt);
  }
  float x[6] = {0}, y[6];
  pal_shape_t s = ot_shape(2, (int64_t[]){2, 3});
  OT_ERR(seed, pal_op_reduce(PAL_OP_REDUCE_SUM, x, &s, (int64_t[]){0, -2}, 2, 1, 0, y), PAL_INVALID_ARGUMENT,
         "ReduceSum", "twice");
  OT_ERR(seed, pal_op_reduce(PAL_OP_REDUCE_MEAN, x, &s, (int64_t[]){2}, 1, 1, 0, y), PAL_INVALID_ARGUMENT,
         "ReduceMean", "axes", "2");
}

/* ---- pooling ---- */

static int64_t ref_out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, int ceil_mode) {
  /* ONNX spec formula in floating point, then the rule (shared by ONNX
   * Runtime and PyTorch) that the last window must start inside the input
   * or its begin padding */
  double v = (double)(in + pb + pe - ((k - 1) * d + 1)) / (double)s;
  int64_t o = (int64_t)(ceil_mode ? ceil(v) : floor(v)) + 1;
  if (ceil_mode && (o - 1) * s >= in + pb) o--;
  return o;
}

static void ref_pool(int is_max, const float *x, int64_t N, int64_t C, int64_t H, int64_t W,
                     const pal_op_pool_params_t *p, const int64_t pads[4], int64_t OH, int64_t OW,
                     double *y, int64_t *ind) {
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t oy = 0; oy < OH; oy++)
        for (int64_t ox = 0; ox < OW; ox++) {
          double acc = is_max ? -INFINITY : 0.0;
          int64_t cnt = 0, cnt_pad = 0, best = -1;
          for (int64_t i = 0; i < p->kernel[0]; i++)
            for (int64_t j = 0; j < p->kernel[1]; j++) {
              int64_t iy = oy * p->strides[0] - pads[0] + i * p->dilations[0];
              int64_t ix = ox * p->strides[1] - pads[1] + j * p->dilations[1];
              /* positions inside input + declared padding count for
               * count_include_pad; ceil_mode's extra overhang does not */
              if (iy < H + pads[2] && ix < W + pads[3]) cnt_pad++;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              double v = x[((n * C + c) * H + iy) * W + ix];
              cnt++;
              if (is_max) {
                if (best < 0 || v > acc || (isnan(v) && !isnan(acc))) {
                  acc = v;
                  /* storage_order 1 numbers the plane column by column */
                  best = (n * C + c) * H * W + (p->storage_order ? iy + ix * H : iy * W + ix);
                }
              } else {
                acc += v;
              }
            }
          int64_t o = ((n * C + c) * OH + oy) * OW + ox;
          if (is_max) {
            y[o] = acc;
            if (ind) ind[o] = best;
          } else {
            int64_t dv = p->count_include_pad ? cnt_pad : cnt;
            y[o] = dv ? acc / (double)dv : NAN;
          }
        }
}

static void test_pool_random(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 13);
  for (int iter = 0; iter < 400; iter++) {
    int is_max = pal_test_rng_below(&r, 2);
    int64_t N = 1 + pal_test_rng_below(&r, 2), C = 1 + pal_test_rng_below(&r, 3);
    int64_t H = 1 + pal_test_rng_below(&r, 9), W = 1 + pal_test_rng_below(&r, 9);
    pal_op_pool_params_t p;
    pal_op_pool_params_initialize(&p);
    for (int d = 0; d < 2; d++) {
      p.kernel[d] = 1 + pal_test_rng_below(&r, 4);
      p.strides[d] = 1 + pal_test_rng_below(&r, 3);
      if (is_max) p.dilations[d] = 1 + pal_test_rng_below(&r, 2);
    }
    p.ceil_mode = pal_test_rng_below(&r, 2);
    p.count_include_pad = !is_max && pal_test_rng_below(&r, 2);
    p.storage_order = is_max && pal_test_rng_below(&r, 3) == 0;
    p.auto_pad = pal_test_rng_below(&r, 4) ? PAL_OP_PAD_NOTSET : (pal_op_auto_pad_t)(1 + pal_test_rng_below(&r, 3));
    for (int i = 0; i < 4; i++) p.pads[i] = pal_test_rng_below(&r, (uint32_t)p.kernel[i % 2]);
    int64_t in[2] = {H, W}, out[2], pads[4];
    int feasible = 1;
    for (int d = 0; d < 2; d++) {
      int64_t eff = (p.kernel[d] - 1) * p.dilations[d] + 1;
      switch (p.auto_pad) {
        case PAL_OP_PAD_NOTSET:
          pads[d] = p.pads[d];
          pads[d + 2] = p.pads[d + 2];
          if (in[d] + pads[d] + pads[d + 2] < eff) feasible = 0;
          else out[d] = ref_out_dim(in[d], p.kernel[d], p.strides[d], p.dilations[d], pads[d], pads[d + 2], p.ceil_mode);
          break;
        case PAL_OP_PAD_VALID:
          pads[d] = pads[d + 2] = 0;
          if (in[d] < eff) feasible = 0;
          else out[d] = (int64_t)ceil((double)(in[d] - eff + 1) / (double)p.strides[d]);
          break;
        default: {
          out[d] = (int64_t)ceil((double)in[d] / (double)p.strides[d]);
          int64_t total = (out[d] - 1) * p.strides[d] + eff - in[d];
          if (total < 0) total = 0;
          int64_t small = total / 2, big = total - small;
          pads[d] = p.auto_pad == PAL_OP_PAD_SAME_UPPER ? small : big;
          pads[d + 2] = total - pads[d];
        }
      }
    }
    pal_shape_t xs = ot_shape(4, (int64_t[]){N, C, H, W}), ys;
    if (!feasible) {
      OT_ERR(seed, pal_op_pool_infer(&xs, &p, &ys), PAL_INVALID_ARGUMENT, "kernel");
      continue;
    }
    OT_OK(seed, pal_op_pool_infer(&xs, &p, &ys));
    PAL_TEST_CHECK(seed, ys.rank == 4 && ys.dims[2] == out[0] && ys.dims[3] == out[1],
                   "iter %d: pool out %lldx%lld, want %lldx%lld (H %lld W %lld k %lldx%lld s %lld,%lld ceil %d auto %d)",
                   iter, (long long)ys.dims[2], (long long)ys.dims[3], (long long)out[0], (long long)out[1],
                   (long long)H, (long long)W, (long long)p.kernel[0], (long long)p.kernel[1],
                   (long long)p.strides[0], (long long)p.strides[1], p.ceil_mode, (int)p.auto_pad);
    int64_t nx = N * C * H * W, ny = N * C * out[0] * out[1];
    float *x = ot_rand_floats(&r, nx, 1.0, iter % 4 == 0);
    float *y = malloc((size_t)ny * 4);
    double *want = malloc((size_t)ny * 8);
    int64_t *ind = malloc((size_t)ny * 8), *wind = malloc((size_t)ny * 8);
    ref_pool(is_max, x, N, C, H, W, &p, pads, out[0], out[1], want, wind);
    if (is_max) {
      OT_OK(seed, pal_op_max_pool(x, &xs, &p, y, ind));
      for (int64_t i = 0; i < ny; i++)
        PAL_TEST_CHECK(seed, ind[i] == wind[i], "iter %d: MaxPool index %lld is %lld, want %lld", iter,
                       (long long)i, (long long)ind[i], (long long)wind[i]);
    } else {
      OT_OK(seed, pal_op_average_pool(x, &xs, &p, y));
    }
    CHECK_ARRAY(seed, y, want, ny, 1e-6, 1e-6, "iter %d %s", iter, is_max ? "MaxPool" : "AveragePool");
    free(x); free(y); free(want); free(ind); free(wind);
  }
}

/* ONNX's documented node tests (independent of the formulas above). */
static void test_pool_onnx_examples(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  float x[16], y[16];
  for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
  pal_shape_t xs = ot_shape(4, (int64_t[]){1, 1, 4, 4}), ys;
  pal_op_pool_params_t p;
  /* test_maxpool_2d_ceil: k 3, s 2, ceil -> [[11,12],[15,16]] */
  pal_op_pool_params_initialize(&p);
  p.kernel[0] = p.kernel[1] = 3;
  p.strides[0] = p.strides[1] = 2;
  p.ceil_mode = 1;
  OT_OK(seed, pal_op_pool_infer(&xs, &p, &ys));
  PAL_TEST_CHECK(seed, ys.dims[2] == 2 && ys.dims[3] == 2, "maxpool_2d_ceil shape");
  OT_OK(seed, pal_op_max_pool(x, &xs, &p, y, NULL));
  PAL_TEST_CHECK(seed, y[0] == 11 && y[1] == 12 && y[2] == 15 && y[3] == 16, "maxpool_2d_ceil values");
  /* test_averagepool_2d_ceil: same params -> [[6,7.5],[12,13.5]] */
  OT_OK(seed, pal_op_average_pool(x, &xs, &p, y));
  PAL_TEST_CHECK(seed, y[0] == 6 && y[1] == 7.5f && y[2] == 12 && y[3] == 13.5f, "averagepool_2d_ceil values %g %g %g %g",
                 y[0], y[1], y[2], y[3]);
  /* test_averagepool_2d_precomputed_pads_count_include_pad on 5x5:
   * k 5, pads 2 -> first output (1+2+3+6+7+8+11+12+13)/25 = 2.52 */
  float x5[25], y5[25];
  for (int i = 0; i < 25; i++) x5[i] = (float)(i + 1);
  pal_shape_t xs5 = ot_shape(4, (int64_t[]){1, 1, 5, 5});
  pal_op_pool_params_initialize(&p);
  p.kernel[0] = p.kernel[1] = 5;
  for (int i = 0; i < 4; i++) p.pads[i] = 2;
  p.count_include_pad = 1;
  OT_OK(seed, pal_op_average_pool(x5, &xs5, &p, y5));
  PAL_TEST_CHECK(seed, fabsf(y5[0] - 2.52f) < 1e-5f && fabsf(y5[12] - 13.0f) < 1e-5f, "count_include_pad: %g %g", y5[0], y5[12]);
  p.count_include_pad = 0;
  OT_OK(seed, pal_op_average_pool(x5, &xs5, &p, y5));
  PAL_TEST_CHECK(seed, fabsf(y5[0] - 7.0f) < 1e-5f, "exclude pad: %g", y5[0]);
  /* test_maxpool_2d_dilations: 4x4, k 2, dilation 2 -> [[11,12],[15,16]] */
  pal_op_pool_params_initialize(&p);
  p.kernel[0] = p.kernel[1] = 2;
  p.dilations[0] = p.dilations[1] = 2;
  OT_OK(seed, pal_op_max_pool(x, &xs, &p, y, NULL));
  PAL_TEST_CHECK(seed, y[0] == 11 && y[1] == 12 && y[2] == 15 && y[3] == 16, "maxpool_2d_dilations");
  /* errors */
  pal_op_pool_params_initialize(&p);
  OT_ERR(seed, pal_op_max_pool(x, &xs, &p, y, NULL), PAL_INVALID_ARGUMENT, "MaxPool", "kernel");
  p.kernel[0] = p.kernel[1] = 2;
  p.strides[1] = 0;
  OT_ERR(seed, pal_op_average_pool(x, &xs, &p, y), PAL_INVALID_ARGUMENT, "AveragePool", "stride");
  pal_shape_t x3 = ot_shape(3, (int64_t[]){1, 4, 4});
  p.strides[1] = 1;
  OT_ERR(seed, pal_op_max_pool(x, &x3, &p, y, NULL), PAL_INVALID_ARGUMENT, "MaxPool", "4-D");
}

static void test_global_pool(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 14);
  for (int iter = 0; iter < 100; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 2, 5, 5, 0);
    int64_t n = ot_numel(&s), nc = s.dims[0] * s.dims[1], sp = n / nc;
    float *x = ot_rand_floats(&r, n, 1.0, iter % 4 == 0), *ya = malloc((size_t)nc * 4), *ym = malloc((size_t)nc * 4);
    double *wa = malloc((size_t)nc * 8), *wm = malloc((size_t)nc * 8);
    OT_OK(seed, pal_op_global_average_pool(x, &s, ya));
    OT_OK(seed, pal_op_global_max_pool(x, &s, ym));
    for (int64_t i = 0; i < nc; i++) {
      double sum = 0, m = -INFINITY;
      for (int64_t k = 0; k < sp; k++) {
        double v = x[i * sp + k];
        sum += v;
        if (isnan(v) || v > m) m = isnan(m) ? m : v;
      }
      wa[i] = sum / (double)sp;
      wm[i] = m;
    }
    CHECK_ARRAY(seed, ya, wa, nc, 1e-6, 1e-6, "GlobalAveragePool iter %d", iter);
    CHECK_ARRAY(seed, ym, wm, nc, 0, 0, "GlobalMaxPool iter %d", iter);
    free(x); free(ya); free(ym); free(wa); free(wm);
  }
  float x = 0;
  pal_shape_t s1 = ot_shape(1, (int64_t[]){1});
  OT_ERR(seed, pal_op_global_average_pool(&x, &s1, &x), PAL_INVALID_ARGUMENT, "GlobalAveragePool", "rank");
}

static void test_batch_norm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 15);
  for (int iter = 0; iter < 100; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 2, 5, 5, 10);
    int64_t n = ot_numel(&s), C = s.dims[1], sp = 1;
    for (int i = 2; i < s.rank; i++) sp *= s.dims[i];
    float *x = ot_rand_floats(&r, n, 2.0, 0), *y = malloc((size_t)(n + 1) * 4);
    float *sc = ot_rand_floats(&r, C, 1.0, 0), *bi = ot_rand_floats(&r, C, 1.0, 0),
          *me = ot_rand_floats(&r, C, 1.0, 0), *va = ot_rand_floats(&r, C, 1.0, 0);
    for (int64_t c = 0; c < C; c++) va[c] = fabsf(va[c]);
    double *want = malloc((size_t)(n + 1) * 8);
    float eps = 1e-5f;
    for (int64_t i = 0; i < n; i++) {
      int64_t c = (i / sp) % C;
      want[i] = ((double)x[i] - me[c]) / sqrt((double)va[c] + eps) * sc[c] + bi[c];
    }
    OT_OK(seed, pal_op_batch_norm(x, &s, sc, bi, me, va, eps, y));
    CHECK_ARRAY(seed, y, want, n, 1e-5, 1e-5, "BatchNormalization iter %d", iter);
    free(x); free(y); free(sc); free(bi); free(me); free(va); free(want);
  }
}

static void test_layer_norm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 16);
  char b[96];
  for (int iter = 0; iter < 200; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 1, 4, 6, 0);
    int ax = (int)pal_test_rng_below(&r, (uint32_t)s.rank);
    int64_t axis = pal_test_rng_below(&r, 2) ? ax : ax - s.rank;
    /* scale / bias: the normalised dims, some broadcast (1 or dropped) */
    pal_shape_t ns;
    memset(&ns, 0, sizeof ns);
    for (int i = ax; i < s.rank; i++) ns.dims[ns.rank++] = s.dims[i];
    pal_shape_t ss = ot_bcast_operand(&r, &ns), bs = ot_bcast_operand(&r, &ns);
    int has_bias = pal_test_rng_below(&r, 3) != 0;
    int64_t n = ot_numel(&s), inner = ot_numel(&ns), outer = n / inner;
    float *x = ot_rand_floats(&r, n, 3.0, 0), *y = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) x[i] += 100.0f; /* a large mean must not cancel the variance */
    float *sc = ot_rand_floats(&r, ot_numel(&ss), 1.0, 0), *bi = ot_rand_floats(&r, ot_numel(&bs), 1.0, 0);
    float *mean = malloc((size_t)outer * 4), *inv = malloc((size_t)outer * 4);
    double *want = malloc((size_t)n * 8), *wmean = malloc((size_t)outer * 8), *winv = malloc((size_t)outer * 8);
    OT_OK(seed, pal_op_layer_norm(x, &s, sc, &ss, has_bias ? bi : NULL, has_bias ? &bs : NULL, axis, 1e-5f, y, mean, inv));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t o = 0; o < outer; o++) {
      double mu = 0, var = 0;
      for (int64_t i = 0; i < inner; i++) mu += x[o * inner + i];
      mu /= (double)inner;
      for (int64_t i = 0; i < inner; i++) var += (x[o * inner + i] - mu) * (x[o * inner + i] - mu);
      var /= (double)inner;
      double is = 1.0 / sqrt(var + 1e-5);
      wmean[o] = mu;
      winv[o] = is;
      for (int64_t i = 0; i < inner; i++) {
        ot_unravel(&ns, i, idx);
        double v = (x[o * inner + i] - mu) * is * sc[ot_bcast_offset(&ss, &ns, idx)];
        if (has_bias) v += bi[ot_bcast_offset(&bs, &ns, idx)];
        want[o * inner + i] = v;
      }
    }
    CHECK_ARRAY(seed, y, want, n, 1e-4, 1e-4, "LayerNorm %s axis %lld", ot_fmt(&s, b, sizeof b), (long long)axis);
    CHECK_ARRAY(seed, mean, wmean, outer, 1e-6, 0, "LayerNorm mean");
    CHECK_ARRAY(seed, inv, winv, outer, 1e-5, 0, "LayerNorm inv_std_dev");
    free(x); free(y); free(sc); free(bi); free(mean); free(inv); free(want); free(wmean); free(winv);
  }
  float x[6] = {0}, sc[6] = {1, 1, 1, 1, 1, 1}, y[6];
  pal_shape_t s = ot_shape(2, (int64_t[]){2, 3}), s2 = ot_shape(1, (int64_t[]){2});
  OT_ERR(seed, pal_op_layer_norm(x, &s, sc, &s2, NULL, NULL, -1, 1e-5f, y, NULL, NULL), PAL_INVALID_ARGUMENT,
         "LayerNormalization", "Scale", "[2]");
  OT_ERR(seed, pal_op_layer_norm(x, &s, sc, &s2, NULL, NULL, 2, 1e-5f, y, NULL, NULL), PAL_INVALID_ARGUMENT,
         "LayerNormalization", "axis");
}

static void test_gemm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 17);
  for (int iter = 0; iter < 200; iter++) {
    int64_t M = pal_test_rng_below(&r, 20), N = pal_test_rng_below(&r, 20), K = pal_test_rng_below(&r, 40);
    if (iter % 10) { M += 1; N += 1; K += 1; }
    if (iter % 25 == 1) { M += 100; N += 70; K += 150; } /* past OpenBLAS's small-matrix paths */
    int ta = pal_test_rng_below(&r, 2), tb = pal_test_rng_below(&r, 2);
    float alpha = (float)pal_test_rng_gauss(&r), beta = (float)pal_test_rng_gauss(&r);
    pal_shape_t as = ta ? ot_shape(2, (int64_t[]){K, M}) : ot_shape(2, (int64_t[]){M, K});
    pal_shape_t bs = tb ? ot_shape(2, (int64_t[]){N, K}) : ot_shape(2, (int64_t[]){K, N});
    pal_shape_t mn = ot_shape(2, (int64_t[]){M, N});
    pal_shape_t cs = ot_bcast_operand(&r, &mn);
    int has_c = pal_test_rng_below(&r, 4) != 0;
    float *a = ot_rand_floats(&r, M * K, 1.0, 0), *bm = ot_rand_floats(&r, K * N, 1.0, 0),
          *c = ot_rand_floats(&r, ot_numel(&cs), 1.0, 0), *y = malloc((size_t)(M * N + 1) * 4);
    double *want = malloc((size_t)(M * N + 1) * 8);
    pal_shape_t os;
    OT_OK(seed, pal_op_gemm_infer(&as, &bs, has_c ? &cs : NULL, ta, tb, &os));
    PAL_TEST_CHECK(seed, pal_shape_equal(&os, &mn), "Gemm shape");
    OT_OK(seed, pal_op_gemm(a, &as, bm, &bs, has_c ? c : NULL, &cs, alpha, beta, ta, tb, y));
    int64_t idx[2];
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++)
          s += (double)(ta ? a[k * M + i] : a[i * K + k]) * (tb ? bm[j * K + k] : bm[k * N + j]);
        idx[0] = i; idx[1] = j;
        want[i * N + j] = alpha * s + (has_c ? beta * (double)c[ot_bcast_offset(&cs, &mn, idx)] : 0.0);
      }
    CHECK_ARRAY(seed, y, want, M * N, 1e-4, 1e-4 * sqrt((double)K + 1), "Gemm %lldx%lldx%lld ta %d tb %d", (long long)M,
                (long long)N, (long long)K, ta, tb);
    free(a); free(bm); free(c); free(y); free(want);
  }
  float a[12] = {0}, y[16];
  pal_shape_t s23 = ot_shape(2, (int64_t[]){2, 3}), s3 = ot_shape(1, (int64_t[]){3}), s42 = ot_shape(2, (int64_t[]){4, 2});
  OT_ERR(seed, pal_op_gemm(a, &s23, a, &s23, NULL, NULL, 1, 1, 0, 0, y), PAL_INVALID_ARGUMENT, "Gemm", "[2,3]");
  OT_ERR(seed, pal_op_gemm(a, &s3, a, &s23, NULL, NULL, 1, 1, 0, 0, y), PAL_INVALID_ARGUMENT, "Gemm", "A", "2-D");
  /* C of shape [4,2] cannot broadcast to [2,2] */
  OT_ERR(seed, pal_op_gemm(a, &s23, a, &s23, a, &s42, 1, 1, 0, 1, y), PAL_INVALID_ARGUMENT, "Gemm", "C", "[4,2]");
}

static void test_matmul(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 18);
  char b0[96], b1[96];
  for (int iter = 0; iter < 300; iter++) {
    int64_t M = 1 + pal_test_rng_below(&r, 8), N = 1 + pal_test_rng_below(&r, 8), K = pal_test_rng_below(&r, 10);
    if (iter % 30 == 2) { M += 60; N += 40; K += 50; }
    pal_shape_t batch = ot_rand_shape(&r, 0, 3, 3, 20);
    pal_shape_t ab = ot_bcast_operand(&r, &batch), bb = ot_bcast_operand(&r, &batch);
    int a1 = pal_test_rng_below(&r, 6) == 0, b1d = pal_test_rng_below(&r, 6) == 0;
    pal_shape_t as = ab, bs = bb;
    if (a1) { as.rank = 1; as.dims[0] = K; M = 1; }
    else { as.dims[as.rank++] = M; as.dims[as.rank++] = K; }
    if (b1d) { bs.rank = 1; bs.dims[0] = K; N = 1; }
    else { bs.dims[bs.rank++] = K; bs.dims[bs.rank++] = N; }
    pal_shape_t ob;
    if (pal_shape_broadcast("t", a1 ? &(pal_shape_t){0, {0}} : &ab, b1d ? &(pal_shape_t){0, {0}} : &bb, &ob)) abort();
    pal_shape_t os;
    OT_OK(seed, pal_op_matmul_infer(&as, &bs, &os));
    pal_shape_t ws = ob;
    if (!a1) ws.dims[ws.rank++] = M;
    if (!b1d) ws.dims[ws.rank++] = N;
    PAL_TEST_CHECK(seed, pal_shape_equal(&os, &ws), "MatMul %s x %s gave %s", ot_fmt(&as, b0, sizeof b0),
                   ot_fmt(&bs, b1, sizeof b1), ot_fmt(&os, b0, sizeof b0));
    int64_t na = ot_numel(&as), nb = ot_numel(&bs), ny = ot_numel(&os), nbat = ot_numel(&ob);
    float *a = ot_rand_floats(&r, na, 1.0, 0), *bm = ot_rand_floats(&r, nb, 1.0, 0), *y = malloc((size_t)(ny + 1) * 4);
    double *want = malloc((size_t)(ny + 1) * 8);
    OT_OK(seed, pal_op_matmul(a, &as, bm, &bs, y));
    int64_t idx[PAL_MAX_RANK];
    pal_shape_t abs_ = a1 ? (pal_shape_t){0, {0}} : ab, bbs = b1d ? (pal_shape_t){0, {0}} : bb;
    for (int64_t t = 0; t < nbat; t++) {
      ot_unravel(&ob, t, idx);
      int64_t oa = ot_bcast_offset(&abs_, &ob, idx) * M * K, obb = ot_bcast_offset(&bbs, &ob, idx) * K * N;
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
          double s = 0;
          for (int64_t k = 0; k < K; k++) s += (double)a[oa + i * K + k] * bm[obb + k * N + j];
          want[(t * M + i) * N + j] = s;
        }
    }
    CHECK_ARRAY(seed, y, want, ny, 1e-4, 1e-5, "MatMul %s x %s", ot_fmt(&as, b0, sizeof b0), ot_fmt(&bs, b1, sizeof b1));
    free(a); free(bm); free(y); free(want);
  }
  float a[24] = {0}, y[24];
  pal_shape_t s234 = ot_shape(3, (int64_t[]){2, 3, 4}), s354 = ot_shape(3, (int64_t[]){3, 4, 5}), s0 = ot_shape(0, NULL);
  OT_ERR(seed, pal_op_matmul(a, &s234, a, &s354, y), PAL_INVALID_ARGUMENT, "MatMul", "[2,3,4]", "[3,4,5]");
  OT_ERR(seed, pal_op_matmul(a, &s0, a, &s354, y), PAL_INVALID_ARGUMENT, "MatMul", "rank");
}

static void test_conv(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 19);
  for (int iter = 0; iter < 200; iter++) {
    int64_t G = 1 + pal_test_rng_below(&r, 3), N = 1 + pal_test_rng_below(&r, 2);
    int64_t Cg = 1 + pal_test_rng_below(&r, 3), Mg = 1 + pal_test_rng_below(&r, 3);
    int64_t H = 1 + pal_test_rng_below(&r, 8), W = 1 + pal_test_rng_below(&r, 8);
    int64_t KH = 1 + pal_test_rng_below(&r, 3), KW = 1 + pal_test_rng_below(&r, 3);
    pal_op_conv_params_t p;
    pal_op_conv_params_initialize(&p);
    p.group = G;
    int simple = iter % 5 == 0; /* the 1x1 direct path */
    if (simple) KH = KW = 1;
    for (int d = 0; d < 2; d++) {
      if (!simple) {
        p.strides[d] = 1 + pal_test_rng_below(&r, 2);
        p.dilations[d] = 1 + pal_test_rng_below(&r, 2);
      }
    }
    if (!simple)
      for (int i = 0; i < 4; i++) p.pads[i] = pal_test_rng_below(&r, 3);
    if (!simple && pal_test_rng_below(&r, 4) == 0) p.auto_pad = (pal_op_auto_pad_t)(1 + pal_test_rng_below(&r, 3));
    int64_t C = G * Cg, M = G * Mg;
    int64_t k[2] = {KH, KW}, in[2] = {H, W}, out[2], pads[4];
    int feasible = 1;
    for (int d = 0; d < 2; d++) {
      int64_t eff = (k[d] - 1) * p.dilations[d] + 1;
      if (p.auto_pad == PAL_OP_PAD_NOTSET) {
        pads[d] = p.pads[d]; pads[d + 2] = p.pads[d + 2];
        int64_t span = in[d] + pads[d] + pads[d + 2] - eff;
        if (span < 0) feasible = 0; else out[d] = span / p.strides[d] + 1;
      } else if (p.auto_pad == PAL_OP_PAD_VALID) {
        pads[d] = pads[d + 2] = 0;
        if (in[d] < eff) feasible = 0; else out[d] = (in[d] - eff) / p.strides[d] + 1;
      } else {
        out[d] = (in[d] + p.strides[d] - 1) / p.strides[d];
        int64_t total = (out[d] - 1) * p.strides[d] + eff - in[d];
        if (total < 0) total = 0;
        pads[d] = p.auto_pad == PAL_OP_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        pads[d + 2] = total - pads[d];
      }
    }
    pal_shape_t xs = ot_shape(4, (int64_t[]){N, C, H, W}), ws = ot_shape(4, (int64_t[]){M, Cg, KH, KW}), ys;
    if (!feasible) {
      OT_ERR(seed, pal_op_conv_infer(&xs, &ws, &p, &ys), PAL_INVALID_ARGUMENT, "Conv", "kernel");
      continue;
    }
    OT_OK(seed, pal_op_conv_infer(&xs, &ws, &p, &ys));
    PAL_TEST_CHECK(seed, ys.dims[0] == N && ys.dims[1] == M && ys.dims[2] == out[0] && ys.dims[3] == out[1],
                   "iter %d: Conv out shape", iter);
    int64_t nx = N * C * H * W, nw = M * Cg * KH * KW, ny = N * M * out[0] * out[1];
    float *x = ot_rand_floats(&r, nx, 1.0, 0), *w = ot_rand_floats(&r, nw, 1.0, 0), *bias = ot_rand_floats(&r, M, 1.0, 0);
    float *y = malloc((size_t)ny * 4);
    double *want = malloc((size_t)ny * 8);
    int has_bias = pal_test_rng_below(&r, 2);
    OT_OK(seed, pal_op_conv(x, &xs, w, &ws, has_bias ? bias : NULL, &p, y));
    for (int64_t n = 0; n < N; n++)
      for (int64_t m = 0; m < M; m++)
        for (int64_t oy = 0; oy < out[0]; oy++)
          for (int64_t ox = 0; ox < out[1]; ox++) {
            double s = has_bias ? bias[m] : 0.0;
            int64_t g = m / Mg;
            for (int64_t c = 0; c < Cg; c++)
              for (int64_t i = 0; i < KH; i++)
                for (int64_t j = 0; j < KW; j++) {
                  int64_t iy = oy * p.strides[0] - pads[0] + i * p.dilations[0];
                  int64_t ix = ox * p.strides[1] - pads[1] + j * p.dilations[1];
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  s += (double)x[((n * C + g * Cg + c) * H + iy) * W + ix] * w[((m * Cg + c) * KH + i) * KW + j];
                }
            want[((n * M + m) * out[0] + oy) * out[1] + ox] = s;
          }
    CHECK_ARRAY(seed, y, want, ny, 1e-4, 1e-5, "Conv iter %d (G %lld C %lld M %lld %lldx%lld k %lldx%lld)", iter,
                (long long)G, (long long)C, (long long)M, (long long)H, (long long)W, (long long)KH, (long long)KW);
    free(x); free(w); free(bias); free(y); free(want);
  }
  pal_op_conv_params_t p;
  pal_op_conv_params_initialize(&p);
  p.group = 2;
  float x[64] = {0}, y[64];
  pal_shape_t xs = ot_shape(4, (int64_t[]){1, 3, 4, 4}), ws = ot_shape(4, (int64_t[]){2, 3, 1, 1});
  OT_ERR(seed, pal_op_conv(x, &xs, x, &ws, NULL, &p, y), PAL_INVALID_ARGUMENT, "Conv", "group");
  p.group = 1;
  pal_shape_t ws2 = ot_shape(4, (int64_t[]){2, 2, 1, 1});
  OT_ERR(seed, pal_op_conv(x, &xs, x, &ws2, NULL, &p, y), PAL_INVALID_ARGUMENT, "Conv", "W", "[2,2,1,1]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_softmax),     cmocka_unit_test(test_reduce),
      cmocka_unit_test(test_pool_random), cmocka_unit_test(test_pool_onnx_examples),
      cmocka_unit_test(test_global_pool), cmocka_unit_test(test_batch_norm),
      cmocka_unit_test(test_layer_norm),  cmocka_unit_test(test_gemm),
      cmocka_unit_test(test_matmul),      cmocka_unit_test(test_conv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
