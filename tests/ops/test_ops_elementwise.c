/* Element-wise kernels against naive double references: broadcasting
 * binary ops (FP32 and integer), comparisons, Where, the unary functions,
 * Clip/LeakyRelu and Cast; NaN/Inf propagation; argument errors. */
#include "ops_test_util.h"

static double ref_binary(pal_op_binary_kind_t k, double x, double y) {
  switch (k) {
    case PAL_OP_ADD: return x + y;
    case PAL_OP_SUB: return x - y;
    case PAL_OP_MUL: return x * y;
    case PAL_OP_DIV: return x / y;
    case PAL_OP_POW: return pow(x, y);
  }
  return NAN;
}

static void random_bcast_triple(pal_test_rng_t *r, pal_shape_t *out, pal_shape_t *a, pal_shape_t *b) {
  *out = ot_rand_shape(r, 0, 5, 4, 12);
  *a = ot_bcast_operand(r, out);
  *b = ot_bcast_operand(r, out);
  /* the broadcast of the operands may be smaller than `out` (both 1) */
  pal_shape_t o;
  pal_status_t st = pal_shape_broadcast("test", a, b, &o);
  if (st) abort();
  *out = o;
}

static void test_binary_f32(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 1);
  char b0[96], b1[96];
  for (int iter = 0; iter < 1500; iter++) {
    pal_shape_t o, sa, sb;
    random_bcast_triple(&r, &o, &sa, &sb);
    if (iter % 50 == 0) /* long rows: [n, 300] against [300] or [n, 1] */
      o = ot_shape(2, (int64_t[]){1 + pal_test_rng_below(&r, 5), 300}), sa = o,
      sb = pal_test_rng_below(&r, 2) ? ot_shape(1, (int64_t[]){300}) : ot_shape(2, (int64_t[]){o.dims[0], 1});
    pal_op_binary_kind_t k = (pal_op_binary_kind_t)pal_test_rng_below(&r, 5);
    int64_t na = ot_numel(&sa), nb = ot_numel(&sb), no = ot_numel(&o);
    float *a = ot_rand_floats(&r, na, 2.0, 1), *b = ot_rand_floats(&r, nb, 2.0, 1);
    if (k == PAL_OP_POW)
      for (int64_t i = 0; i < na; i++) a[i] = fabsf(a[i]); /* real results mostly */
    float *y = malloc((size_t)(no ? no : 1) * sizeof *y);
    OT_OK(seed, pal_op_binary(k, PAL_OP_F32, a, &sa, b, &sb, y));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < no; i++) {
      ot_unravel(&o, i, idx);
      double x = a[ot_bcast_offset(&sa, &o, idx)], v = b[ot_bcast_offset(&sb, &o, idx)];
      double want = ref_binary(k, x, v);
      /* + - * / of floats: double rounding is exact enough that the float
       * result must equal the rounded double one bit for bit */
      double rtol = k == PAL_OP_POW ? 2e-6 : 0.0;
      if (k != PAL_OP_POW) want = (double)(float)want;
      PAL_TEST_CHECK(seed, ot_close(y[i], want, rtol, 0.0),
                     "iter %d op %d %s x %s elem %lld: %.9g op %.9g = %.9g, want %.9g", iter, (int)k,
                     ot_fmt(&sa, b0, sizeof b0), ot_fmt(&sb, b1, sizeof b1), (long long)i, x, v,
                     y[i], want);
    }
    /* in place into A when A already has the output shape */
    if (pal_shape_equal(&sa, &o) && no > 0) {
      float *a2 = malloc((size_t)no * sizeof *a2);
      memcpy(a2, a, (size_t)no * sizeof *a2);
      OT_OK(seed, pal_op_binary(k, PAL_OP_F32, a2, &sa, b, &sb, a2));
      PAL_TEST_CHECK(seed, memcmp(a2, y, (size_t)no * sizeof *y) == 0, "iter %d: in-place result differs", iter);
      free(a2);
    }
    free(a);
    free(b);
    free(y);
  }
}

static void test_binary_int(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 2);
  for (int iter = 0; iter < 300; iter++) {
    pal_shape_t o, sa, sb;
    random_bcast_triple(&r, &o, &sa, &sb);
    pal_op_binary_kind_t k = (pal_op_binary_kind_t)pal_test_rng_below(&r, 5);
    pal_op_dtype_t dt = (pal_op_dtype_t[]){PAL_OP_I64, PAL_OP_I32, PAL_OP_U8}[pal_test_rng_below(&r, 3)];
    int64_t na = ot_numel(&sa), nb = ot_numel(&sb), no = ot_numel(&o);
    int64_t *av = malloc((size_t)(na + 1) * 8), *bv = malloc((size_t)(nb + 1) * 8);
    for (int64_t i = 0; i < na; i++) av[i] = (int64_t)pal_test_rng_below(&r, 41) - 20;
    for (int64_t i = 0; i < nb; i++) {
      bv[i] = (int64_t)pal_test_rng_below(&r, 41) - 20;
      if (k == PAL_OP_DIV && bv[i] == 0) bv[i] = 3;
      if (k == PAL_OP_POW) bv[i] = (int64_t)pal_test_rng_below(&r, 7) - 1;
    }
    if (dt == PAL_OP_U8) {
      for (int64_t i = 0; i < na; i++) av[i] = av[i] < 0 ? -av[i] : av[i];
      for (int64_t i = 0; i < nb; i++) bv[i] = bv[i] < 0 ? -bv[i] : (bv[i] == 0 && k == PAL_OP_DIV ? 1 : bv[i]);
    }
    size_t es = pal_op_dtype_size(dt);
    void *a = malloc((size_t)(na + 1) * es), *b = malloc((size_t)(nb + 1) * es), *y = malloc((size_t)(no + 1) * es);
    for (int64_t i = 0; i < na; i++) {
      if (dt == PAL_OP_I64) ((int64_t *)a)[i] = av[i];
      if (dt == PAL_OP_I32) ((int32_t *)a)[i] = (int32_t)av[i];
      if (dt == PAL_OP_U8) ((uint8_t *)a)[i] = (uint8_t)av[i];
    }
    for (int64_t i = 0; i < nb; i++) {
      if (dt == PAL_OP_I64) ((int64_t *)b)[i] = bv[i];
      if (dt == PAL_OP_I32) ((int32_t *)b)[i] = (int32_t)bv[i];
      if (dt == PAL_OP_U8) ((uint8_t *)b)[i] = (uint8_t)bv[i];
    }
    OT_OK(seed, pal_op_binary(k, dt, a, &sa, b, &sb, y));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < no; i++) {
      ot_unravel(&o, i, idx);
      int64_t x = av[ot_bcast_offset(&sa, &o, idx)], v = bv[ot_bcast_offset(&sb, &o, idx)], want;
      switch (k) {
        case PAL_OP_ADD: want = x + v; break;
        case PAL_OP_SUB: want = x - v; break;
        case PAL_OP_MUL: want = x * v; break;
        case PAL_OP_DIV: want = (int64_t)trunc((double)x / (double)v); break;
        default: /* small exponents: the double pow is exact */
          want = v < 0 ? (x == 1 ? 1 : x == -1 ? ((v & 1) ? -1 : 1) : 0) : (int64_t)pow((double)x, (double)v);
      }
      int64_t got = dt == PAL_OP_I64 ? ((int64_t *)y)[i] : dt == PAL_OP_I32 ? ((int32_t *)y)[i] : ((uint8_t *)y)[i];
      if (dt == PAL_OP_U8) want = (uint8_t)want;
      if (dt == PAL_OP_I32) want = (int32_t)want;
      PAL_TEST_CHECK(seed, got == want, "iter %d op %d type %s: %lld op %lld = %lld, want %lld", iter,
                     (int)k, pal_op_dtype_name(dt), (long long)x, (long long)v, (long long)got, (long long)want);
    }
    free(av); free(bv); free(a); free(b); free(y);
  }
  /* integer division by zero is an error, INT64_MIN / -1 wraps */
  pal_shape_t s2 = ot_shape(1, (int64_t[]){2});
  int64_t a[2] = {7, INT64_MIN}, bz[2] = {1, 0}, bm[2] = {1, -1}, y[2];
  OT_ERR(seed, pal_op_binary(PAL_OP_DIV, PAL_OP_I64, a, &s2, bz, &s2, y), PAL_INVALID_ARGUMENT, "Div", "zero");
  OT_OK(seed, pal_op_binary(PAL_OP_DIV, PAL_OP_I64, a, &s2, bm, &s2, y));
  PAL_TEST_CHECK(seed, y[0] == 7 && y[1] == INT64_MIN, "INT64_MIN / -1 gave %lld", (long long)y[1]);
  OT_ERR(seed, pal_op_binary(PAL_OP_ADD, PAL_OP_BOOL, a, &s2, bm, &s2, y), PAL_INVALID_ARGUMENT, "Add", "bool");
}

static void test_binary_errors(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  float a[24] = {0}, b[24] = {0}, y[64];
  pal_shape_t s23 = ot_shape(2, (int64_t[]){2, 3}), s4 = ot_shape(1, (int64_t[]){4});
  OT_ERR(seed, pal_op_binary(PAL_OP_ADD, PAL_OP_F32, a, &s23, b, &s4, y), PAL_INVALID_ARGUMENT,
         "Add", "[2,3]", "[4]");
  OT_ERR(seed, pal_op_compare(PAL_OP_LESS, PAL_OP_F32, a, &s4, b, &s23, (uint8_t *)y), PAL_INVALID_ARGUMENT,
         "Less", "[4]", "[2,3]");
  pal_shape_t bad = ot_shape(2, (int64_t[]){2, -1});
  OT_ERR(seed, pal_op_binary(PAL_OP_MUL, PAL_OP_F32, a, &bad, b, &s4, y), PAL_INVALID_ARGUMENT, "Mul", "negative");
  pal_shape_t big = ot_shape(3, (int64_t[]){1ll << 40, 1ll << 40, 0});
  pal_shape_t big2 = ot_shape(2, (int64_t[]){1ll << 40, 1ll << 40});
  /* zero-size is fine even with huge dims; without the 0 it overflows */
  OT_OK(seed, pal_op_binary(PAL_OP_SUB, PAL_OP_F32, NULL, &big, NULL, &big, NULL));
  OT_ERR(seed, pal_op_binary(PAL_OP_SUB, PAL_OP_F32, a, &big2, b, &big2, y), PAL_OUT_OF_RANGE, "Sub", "int64");
  uint8_t c[6] = {0};
  pal_shape_t s3 = ot_shape(1, (int64_t[]){3});
  OT_ERR(seed, pal_op_where(c, &s4, a, &s23, b, &s3, 4, y), PAL_INVALID_ARGUMENT, "Where", "[4]", "[2,3]", "[3]");
  OT_ERR(seed, pal_op_binary(PAL_OP_ADD, PAL_OP_F32, NULL, &s4, b, &s4, y), PAL_INVALID_ARGUMENT, "Add", "A");
}

static void test_compare(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 3);
  for (int iter = 0; iter < 300; iter++) {
    pal_shape_t o, sa, sb;
    random_bcast_triple(&r, &o, &sa, &sb);
    pal_op_compare_kind_t k = (pal_op_compare_kind_t)pal_test_rng_below(&r, 5);
    int use_int = pal_test_rng_below(&r, 2);
    int64_t na = ot_numel(&sa), nb = ot_numel(&sb), no = ot_numel(&o);
    /* few distinct values so Equal is often true */
    float *a = ot_rand_floats(&r, na, 1.0, 1), *b = ot_rand_floats(&r, nb, 1.0, 1);
    for (int64_t i = 0; i < na; i++) if (!isnan(a[i]) && !isinf(a[i])) a[i] = roundf(a[i]);
    for (int64_t i = 0; i < nb; i++) if (!isnan(b[i]) && !isinf(b[i])) b[i] = roundf(b[i]);
    int64_t *ai = malloc((size_t)(na + 1) * 8), *bi = malloc((size_t)(nb + 1) * 8);
    for (int64_t i = 0; i < na; i++) ai[i] = isfinite(a[i]) ? (int64_t)a[i] : 5;
    for (int64_t i = 0; i < nb; i++) bi[i] = isfinite(b[i]) ? (int64_t)b[i] : 5;
    uint8_t *y = malloc((size_t)(no + 1));
    if (use_int)
      OT_OK(seed, pal_op_compare(k, PAL_OP_I64, ai, &sa, bi, &sb, y));
    else
      OT_OK(seed, pal_op_compare(k, PAL_OP_F32, a, &sa, b, &sb, y));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < no; i++) {
      ot_unravel(&o, i, idx);
      int64_t oa = ot_bcast_offset(&sa, &o, idx), ob = ot_bcast_offset(&sb, &o, idx);
      double x = use_int ? (double)ai[oa] : a[oa], v = use_int ? (double)bi[ob] : b[ob];
      int want = k == PAL_OP_EQUAL ? x == v : k == PAL_OP_LESS ? x < v : k == PAL_OP_GREATER ? x > v
               : k == PAL_OP_LESS_OR_EQUAL ? x <= v : x >= v;
      PAL_TEST_CHECK(seed, y[i] == want, "iter %d cmp %d: %g vs %g gave %d", iter, (int)k, x, v, y[i]);
    }
    free(a); free(b); free(ai); free(bi); free(y);
  }
}

static void test_where(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 4);
  for (int iter = 0; iter < 300; iter++) {
    pal_shape_t o = ot_rand_shape(&r, 0, 5, 4, 12);
    pal_shape_t sc = ot_bcast_operand(&r, &o), sx = ot_bcast_operand(&r, &o), sy = ot_bcast_operand(&r, &o);
    pal_status_t st = pal_shape_broadcast3("t", &sc, &sx, &sy, &o);
    if (st) abort();
    static const size_t sizes[] = {1, 2, 4, 8, 3, 12};
    size_t es = sizes[pal_test_rng_below(&r, 6)];
    int64_t nc = ot_numel(&sc), nx = ot_numel(&sx), ny = ot_numel(&sy), no = ot_numel(&o);
    uint8_t *c = malloc((size_t)nc + 1), *x = malloc((size_t)nx * es + 1), *y = malloc((size_t)ny * es + 1),
            *out = malloc((size_t)no * es + 1);
    for (int64_t i = 0; i < nc; i++) c[i] = (uint8_t)(pal_test_rng_below(&r, 2) * (1 + pal_test_rng_below(&r, 3)));
    for (int64_t i = 0; i < nx * (int64_t)es; i++) x[i] = (uint8_t)pal_test_rng_u32(&r);
    for (int64_t i = 0; i < ny * (int64_t)es; i++) y[i] = (uint8_t)pal_test_rng_u32(&r);
    OT_OK(seed, pal_op_where(c, &sc, x, &sx, y, &sy, es, out));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < no; i++) {
      ot_unravel(&o, i, idx);
      const uint8_t *want = c[ot_bcast_offset(&sc, &o, idx)] ? x + ot_bcast_offset(&sx, &o, idx) * (int64_t)es
                                                              : y + ot_bcast_offset(&sy, &o, idx) * (int64_t)es;
      PAL_TEST_CHECK(seed, memcmp(out + i * (int64_t)es, want, es) == 0, "iter %d elem %lld (es %zu) differs",
                     iter, (long long)i, es);
    }
    free(c); free(x); free(y); free(out);
  }
}

static double ref_unary(pal_op_unary_kind_t k, double x) {
  switch (k) {
    case PAL_OP_RELU: return isnan(x) ? x : (x > 0 ? x : 0);
    case PAL_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case PAL_OP_TANH: return tanh(x);
    case PAL_OP_ERF: return erf(x);
    case PAL_OP_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case PAL_OP_GELU_TANH:
      return isinf(x) ? (x > 0 ? x : 0.0)
                      : 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case PAL_OP_SQRT: return sqrt(x);
    case PAL_OP_EXP: return exp(x);
    case PAL_OP_LOG: return log(x);
    case PAL_OP_NEG: return -x;
    case PAL_OP_ABS: return fabs(x);
    case PAL_OP_RECIPROCAL: return 1.0 / x;
    case PAL_OP_FLOOR: return floor(x);
    case PAL_OP_CEIL: return ceil(x);
  }
  return NAN;
}

static void test_unary(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 5);
  for (int k = PAL_OP_RELU; k <= PAL_OP_CEIL; k++) {
    int64_t n = 3000;
    float *x = ot_rand_floats(&r, n, 3.0, 1), *y = malloc((size_t)n * sizeof *y);
    x[0] = 80.0f; x[1] = -80.0f; x[2] = 1e-30f; x[3] = -0.0f; /* exp/sigmoid range ends */
    if (k == PAL_OP_GELU_TANH) for (int64_t i = 0; i < n; i++) if (isinf(x[i])) x[i] = 9.0f;
    OT_OK(seed, pal_op_unary((pal_op_unary_kind_t)k, x, n, y));
    for (int64_t i = 0; i < n; i++) {
      double want = ref_unary((pal_op_unary_kind_t)k, x[i]);
      /* float libm vs double: a few ulps; Gelu near its zero crossing is
       * relative-error prone, hence the small absolute slack */
      PAL_TEST_CHECK(seed, ot_close(y[i], want, 4e-6, 1e-7), "unary %d: f(%.9g) = %.9g, want %.9g", k,
                     x[i], y[i], want);
    }
    /* in place */
    float *z = malloc((size_t)n * sizeof *z);
    memcpy(z, x, (size_t)n * sizeof *z);
    OT_OK(seed, pal_op_unary((pal_op_unary_kind_t)k, z, n, z));
    PAL_TEST_CHECK(seed, memcmp(z, y, (size_t)n * sizeof *z) == 0, "unary %d in place differs", k);
    free(x); free(y); free(z);
  }
  float x = 1.0f, y;
  OT_ERR(seed, pal_op_unary((pal_op_unary_kind_t)99, &x, 1, &y), PAL_INVALID_ARGUMENT, "unknown");
  OT_ERR(seed, pal_op_unary(PAL_OP_EXP, &x, -1, &y), PAL_INVALID_ARGUMENT, "count");
}

static void test_clip_leaky(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 6);
  int64_t n = 2000;
  float *x = ot_rand_floats(&r, n, 2.0, 1), *y = malloc((size_t)n * sizeof *y);
  for (int iter = 0; iter < 20; iter++) {
    float lo = (float)pal_test_rng_gauss(&r), hi = (float)pal_test_rng_gauss(&r);
    if (iter == 0) { lo = -INFINITY; hi = INFINITY; }
    OT_OK(seed, pal_op_clip(x, n, lo, hi, y));
    for (int64_t i = 0; i < n; i++) {
      /* numpy.clip / ONNX reference: min(max(x, lo), hi); NaN stays NaN */
      double want = isnan(x[i]) ? NAN : fmin(fmax(x[i], lo), hi);
      PAL_TEST_CHECK(seed, ot_close(y[i], want, 0, 0), "Clip(%g, %g, %g) = %g, want %g", x[i], lo, hi, y[i], want);
    }
    float alpha = (float)pal_test_rng_uniform(&r);
    OT_OK(seed, pal_op_leaky_relu(x, n, alpha, y));
    for (int64_t i = 0; i < n; i++) {
      double want = x[i] >= 0 ? x[i] : (double)(alpha * x[i]);
      PAL_TEST_CHECK(seed, ot_close(y[i], want, 0, 0), "LeakyRelu(%g, %g) = %g, want %g", x[i], alpha, y[i], want);
    }
  }
  OT_ERR(seed, pal_op_clip(x, n, NAN, 1.0f, y), PAL_INVALID_ARGUMENT, "Clip", "min");
  free(x);
  free(y);
}

static void test_cast(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 7);
  const int64_t n = 500;
  for (int from = PAL_OP_F32; from <= PAL_OP_U8; from++)
    for (int to = PAL_OP_F32; to <= PAL_OP_U8; to++) {
      /* source values as double: the exact value each element holds */
      double *v = malloc((size_t)n * sizeof *v);
      void *x = malloc((size_t)n * 8), *y = malloc((size_t)n * 8);
      for (int64_t i = 0; i < n; i++) {
        double d;
        switch (from) {
          case PAL_OP_F32: {
            static const float sp[] = {NAN, INFINITY, -INFINITY, 3e9f, -3e9f, 1e19f, -1e19f, 255.5f, 256.0f, -0.7f, 0.7f, -1.5f};
            float f = pal_test_rng_below(&r, 3) == 0 ? sp[pal_test_rng_below(&r, 12)]
                                                     : (float)(pal_test_rng_gauss(&r) * 200.0);
            ((float *)x)[i] = f;
            d = f;
            break;
          }
          case PAL_OP_I64: {
            int64_t t = (int64_t)pal_test_rng_u64(&r) >> pal_test_rng_below(&r, 64);
            ((int64_t *)x)[i] = t;
            d = (double)t; /* only used where exact enough, below */
            break;
          }
          case PAL_OP_I32: {
            int32_t t = (int32_t)pal_test_rng_u32(&r) >> pal_test_rng_below(&r, 32);
            ((int32_t *)x)[i] = t;
            d = t;
            break;
          }
          case PAL_OP_BOOL: {
            uint8_t t = (uint8_t)pal_test_rng_below(&r, 2);
            ((uint8_t *)x)[i] = t;
            d = t;
            break;
          }
          default: {
            uint8_t t = (uint8_t)pal_test_rng_u32(&r);
            ((uint8_t *)x)[i] = t;
            d = t;
          }
        }
        v[i] = d;
      }
      OT_OK(seed, pal_op_cast(x, (pal_op_dtype_t)from, n, (pal_op_dtype_t)to, y));
      for (int64_t i = 0; i < n; i++) {
        int64_t ival = from == PAL_OP_I64 ? ((int64_t *)x)[i] : (int64_t)v[i];
        double d = v[i];
        int ok = 1;
        double got = 0, want = 0;
        switch (to) {
          case PAL_OP_F32:
            got = ((float *)y)[i];
            /* int64 -> float: the nearest float to the exact integer */
            want = from == PAL_OP_I64 ? (double)(float)(long double)ival : (double)(float)d;
            ok = ot_close(got, want, 0, 0);
            break;
          case PAL_OP_I64: {
            int64_t g = ((int64_t *)y)[i], w;
            if (from == PAL_OP_F32)
              w = isnan(d) ? 0 : d >= 9223372036854775808.0 ? INT64_MAX : d < -9223372036854775808.0 ? INT64_MIN : (int64_t)trunc(d);
            else
              w = ival;
            ok = g == w; got = (double)g; want = (double)w;
            break;
          }
          case PAL_OP_I32: {
            int32_t g = ((int32_t *)y)[i], w;
            if (from == PAL_OP_F32)
              w = isnan(d) ? 0 : d >= 2147483647.0 ? INT32_MAX : d <= -2147483648.0 ? INT32_MIN : (int32_t)trunc(d);
            else
              w = (int32_t)(uint32_t)(uint64_t)ival;
            ok = g == w; got = g; want = w;
            break;
          }
          case PAL_OP_U8: {
            uint8_t g = ((uint8_t *)y)[i], w;
            if (from == PAL_OP_F32)
              w = isnan(d) || d <= 0 ? 0 : d >= 255 ? 255 : (uint8_t)trunc(d);
            else
              w = (uint8_t)(uint64_t)ival;
            ok = g == w; got = g; want = w;
            break;
          }
          case PAL_OP_BOOL: {
            uint8_t g = ((uint8_t *)y)[i];
            uint8_t w = from == PAL_OP_F32 ? (isnan(d) || d != 0) : ival != 0;
            ok = g == w; got = g; want = w;
            break;
          }
        }
        PAL_TEST_CHECK(seed, ok, "Cast %s -> %s of %.17g (%lld): got %.17g, want %.17g",
                       pal_op_dtype_name((pal_op_dtype_t)from), pal_op_dtype_name((pal_op_dtype_t)to), d,
                       (long long)ival, got, want);
      }
      free(v); free(x); free(y);
    }
  float f = 1;
  OT_ERR(seed, pal_op_cast(&f, (pal_op_dtype_t)17, 1, PAL_OP_F32, &f), PAL_INVALID_ARGUMENT, "Cast", "type");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_binary_f32),   cmocka_unit_test(test_binary_int),
      cmocka_unit_test(test_binary_errors), cmocka_unit_test(test_compare),
      cmocka_unit_test(test_where),        cmocka_unit_test(test_unary),
      cmocka_unit_test(test_clip_leaky),   cmocka_unit_test(test_cast),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
