/* The number-format study: element error, SQNR and GEMM error of PAL8 and
 * the comparison formats of include/pal/quant.h on four seeded
 * distributions, plus the bit-exact PAL8 GEMM fast path against OpenBLAS
 * sgemm side by side. Prints tables and writes build/bench/formats.json. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "pal/format.h"
#include "pal/gemm.h"
#include "pal/quant.h"
#include "pal/status.h"

/* ---- data ------------------------------------------------------------------ */

typedef enum dist {
  DIST_GAUSS = 0,
  DIST_STUDENT_T3,
  DIST_OUTLIER20,
  DIST_OUTLIER100,
  DIST_COUNT
} dist_t;

static const char *const k_dist_names[DIST_COUNT] = {"gauss", "student_t3", "gauss_outlier20",
                                                     "gauss_outlier100"};

typedef struct rng {
  uint64_t state;
} rng_t;

/* splitmix64: the same generator as the unit tests, so seeds mean the same. */
static uint64_t rng_u64(rng_t *r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double rng_uniform(rng_t *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

static double rng_gauss(rng_t *r) {
  double u1 = rng_uniform(r), u2 = rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Fills n values of `dist`. Outliers: each element independently, with
 * probability 0.1%, is multiplied by the factor. Student-t with nu = 3 as
 * Z / sqrt(chi2_3 / 3). */
static void fill_dist(dist_t dist, uint64_t seed, float *x, size_t n) {
  rng_t r = {seed};
  for (size_t i = 0; i < n; i++) {
    double z = rng_gauss(&r);
    switch (dist) {
      case DIST_STUDENT_T3: {
        double a = rng_gauss(&r), b = rng_gauss(&r), c = rng_gauss(&r);
        z /= sqrt((a * a + b * b + c * c) / 3.0);
        break;
      }
      case DIST_OUTLIER20:
      case DIST_OUTLIER100:
        if (rng_uniform(&r) < 0.001) z *= dist == DIST_OUTLIER20 ? 20.0 : 100.0;
        break;
      case DIST_GAUSS:
      case DIST_COUNT:
        break;
    }
    x[i] = (float)z;
  }
}

/* ---- helpers --------------------------------------------------------------- */

static void die_status(pal_status_t st, const char *what) {
  fprintf(stderr, "bench_formats: %s: %s\n", what, pal_status_message(st));
  pal_status_free(st);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) {
    fprintf(stderr, "bench_formats: out of memory (%zu bytes)\n", n);
    exit(1);
  }
  return p;
}

/* C = A W^T in FP64 (A: m x k, W: n x k, row-major). Four partial sums
 * break the dependency chain; the order does not matter at FP64 for an
 * error measured at the 1e-4 level. */
static void gemm_f64(const float *a, const float *w, size_t m, size_t n, size_t k, double *c) {
  for (size_t i = 0; i < m; i++) {
    const float *ar = a + i * k;
    for (size_t j = 0; j < n; j++) {
      const float *wr = w + j * k;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t k4 = k & ~(size_t)3;
      for (size_t p = 0; p < k4; p += 4) {
        s0 += (double)ar[p] * wr[p];
        s1 += (double)ar[p + 1] * wr[p + 1];
        s2 += (double)ar[p + 2] * wr[p + 2];
        s3 += (double)ar[p + 3] * wr[p + 3];
      }
      for (size_t p = k4; p < k; p++) s0 += (double)ar[p] * wr[p];
      c[i * n + j] = (s0 + s1) + (s2 + s3);
    }
  }
}

static double frobenius_rel_err_f64(const double *c, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = c[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return sqrt(num / den);
}

static double frobenius_rel_err_f32(const float *c, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)c[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return sqrt(num / den);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- targets --------------------------------------------------------------- */

/* Every target is also a JSON result; the verdicts are collected for the
 * summary table and the exit status stays 0 either way (a bench reports,
 * it does not gate). */
#define MAX_TARGETS 64
typedef struct target_row {
  char what[96];
  double value, target;
  const char *op;
  const char *unit_fmt; /* printf format of value and target */
} target_row_t;

typedef struct study {
  bench_json_t json;
  target_row_t targets[MAX_TARGETS];
  int n_targets;
} study_t;

static void add_target(study_t *s, const char *what, double value, const char *op,
                       double target, const char *unit_fmt) {
  if (s->n_targets == MAX_TARGETS) return;
  target_row_t *t = &s->targets[s->n_targets++];
  snprintf(t->what, sizeof t->what, "%s", what);
  t->value = value;
  t->op = op;
  t->target = target;
  t->unit_fmt = unit_fmt;
}

/* ---- element study ------------------------------------------------------- */

typedef struct elem_result {
  double rms_rel, sqnr_db;
} elem_result_t;

/* RMS of (q - x)/x over the nonzero x (a flushed element counts as 1), and
 * SQNR = 10 log10(sum x^2 / sum (q - x)^2) over all elements. */
static elem_result_t measure_elements(pal_qformat_t f, const float *x, float *q, size_t rows,
                                      size_t cols) {
  pal_status_t st = pal_quant_roundtrip(f, x, rows, cols, q);
  if (st) die_status(st, "pal_quant_roundtrip");
  double rel2 = 0, sig = 0, noise = 0;
  size_t nonzero = 0;
  for (size_t i = 0; i < rows * cols; i++) {
    double xv = x[i], e = (double)q[i] - xv;
    sig += xv * xv;
    noise += e * e;
    if (xv != 0) {
      rel2 += (e / xv) * (e / xv);
      nonzero++;
    }
  }
  elem_result_t r;
  r.rms_rel = nonzero ? sqrt(rel2 / (double)nonzero) : 0.0;
  r.sqnr_db = noise > 0 ? 10.0 * log10(sig / noise) : INFINITY;
  return r;
}

/* ---- GEMM error ------------------------------------------------------------ */

typedef struct gemm_err {
  double rel_err[PAL_QF_COUNT];
  double pal8_dequant_rel_err; /* PAL8-B32 operands, exact FP64 products */
  size_t pal8_ref_mismatches;  /* pal_gemm vs pal_gemm_ref, bits */
} gemm_err_t;

/* Encodes the GEMM operands a (m x k) and w (n x k) to PAL8-B32. */
static void encode_operands(const float *a, const float *w, size_t m, size_t n, size_t k,
                            pal_b32_matrix_t *qa, pal_b32_matrix_t *qw) {
  pal_status_t st = pal_b32_matrix_create(m, k, qa);
  if (st) die_status(st, "pal_b32_matrix_create");
  st = pal_b32_matrix_create(n, k, qw);
  if (st) die_status(st, "pal_b32_matrix_create");
  pal_b32_matrix_encode(a, k, qa);
  pal_b32_matrix_encode(w, k, qw);
}

static void pal8_gemm_exact(const float *a, const float *w, size_t m, size_t n, size_t k,
                            float *out, float *out_ref, const pal_gemm_options_t *opt) {
  pal_b32_matrix_t qa, qw;
  encode_operands(a, w, m, n, k, &qa, &qw);
  pal_status_t st;
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  st = pal_gemm(&qa, &qw, &epi, opt, out, n, NULL);
  if (st) die_status(st, "pal_gemm");
  if (out_ref) pal_gemm_ref(&qa, &qw, &epi, out_ref, n);
  pal_b32_matrix_release(&qa);
  pal_b32_matrix_release(&qw);
}

static gemm_err_t measure_gemm(dist_t dist, uint64_t seed, size_t m, size_t n, size_t k) {
  gemm_err_t r;
  memset(&r, 0, sizeof r);
  float *a = xmalloc(m * k * sizeof(float)), *w = xmalloc(n * k * sizeof(float));
  float *aq = xmalloc(m * k * sizeof(float)), *wq = xmalloc(n * k * sizeof(float));
  double *ref = xmalloc(m * n * sizeof(double)), *c = xmalloc(m * n * sizeof(double));
  float *c32 = xmalloc(m * n * sizeof(float)), *c32_ref = xmalloc(m * n * sizeof(float));
  fill_dist(dist, seed ^ 0xA11CEull, a, m * k);
  fill_dist(dist, seed ^ 0xB0Bull, w, n * k);
  gemm_f64(a, w, m, n, k, ref);

  for (int f = 0; f < PAL_QF_COUNT; f++) {
    pal_status_t st = pal_quant_roundtrip((pal_qformat_t)f, a, m, k, aq);
    if (!st) st = pal_quant_roundtrip((pal_qformat_t)f, w, n, k, wq);
    if (st) die_status(st, "pal_quant_roundtrip");
    gemm_f64(aq, wq, m, n, k, c);
    double dequant_err = frobenius_rel_err_f64(c, ref, m * n);
    if (f == PAL_QF_PAL8_B32) {
      /* The number that counts for PAL8 is the hardware's: §3 datapath. */
      pal_gemm_options_t opt;
      pal_gemm_options_initialize(&opt);
      pal8_gemm_exact(a, w, m, n, k, c32, c32_ref, &opt);
      r.rel_err[f] = frobenius_rel_err_f32(c32, ref, m * n);
      r.pal8_dequant_rel_err = dequant_err;
      r.pal8_ref_mismatches = 0;
      for (size_t i = 0; i < m * n; i++)
        if (memcmp(&c32[i], &c32_ref[i], sizeof(float)) != 0) r.pal8_ref_mismatches++;
    } else {
      r.rel_err[f] = dequant_err;
    }
  }
  free(a);
  free(w);
  free(aq);
  free(wq);
  free(ref);
  free(c);
  free(c32);
  free(c32_ref);
  return r;
}

/* ---- throughput ------------------------------------------------------------ */

typedef struct speed {
  double pal_median_s, pal_best_s, blas_median_s, blas_best_s;
  int reps, iters_pal, iters_blas, threads;
  pal_cpu_isa_t isa;
} speed_t;

static speed_t measure_speed(size_t sz, uint64_t seed, bool quick) {
  speed_t sp;
  memset(&sp, 0, sizeof sp);
  size_t m = sz, n = sz, k = sz;
  float *a = xmalloc(m * k * sizeof(float)), *w = xmalloc(n * k * sizeof(float));
  float *c = xmalloc(m * n * sizeof(float));
  fill_dist(DIST_GAUSS, seed ^ 0x5EEDull, a, m * k);
  fill_dist(DIST_GAUSS, seed ^ 0xFEEDull, w, n * k);

  /* Operands are encoded once, outside the timing: the fast path is
   * measured as the emulator uses it, on weights and activations already in
   * PAL8-B32, as sgemm gets FP32 operands already in memory. */
  pal_b32_matrix_t qa, qw;
  encode_operands(a, w, m, n, k, &qa, &qw);
  pal_status_t st;
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  pal_gemm_options_t opt;
  pal_gemm_options_initialize(&opt);
  sp.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (sp.threads < 1) sp.threads = 1;
  sp.isa = opt.isa == PAL_CPU_ISA_AUTO ? pal_gemm_best_isa() : opt.isa;
  openblas_set_num_threads(sp.threads);

  /* Warm up both (thread pools, caches, page faults), and size each sample
   * to a few tens of milliseconds so timer and scheduling noise stay small. */
  double t_pal = 1e9, t_blas = 1e9;
  for (int i = 0; i < 3; i++) {
    double t0 = bench_now();
    st = pal_gemm(&qa, &qw, &epi, &opt, c, n, NULL);
    if (st) die_status(st, "pal_gemm");
    double t1 = bench_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k,
                w, (int)k, 0.0f, c, (int)n);
    double t2 = bench_now();
    if (t1 - t0 < t_pal) t_pal = t1 - t0;
    if (t2 - t1 < t_blas) t_blas = t2 - t1;
  }
  double sample_s = quick ? 0.02 : 0.06;
  sp.iters_pal = (int)ceil(sample_s / t_pal);
  sp.iters_blas = (int)ceil(sample_s / t_blas);
  sp.reps = quick ? 3 : 7;
  double pal_t[16], blas_t[16];
  for (int r = 0; r < sp.reps; r++) {
    /* OpenBLAS's pthread workers keep spinning for a while after a call;
     * on a 2-core machine they would steal cycles from pal_gemm's workers
     * (which are created and joined per call, so nothing lingers the other
     * way). Let them go idle first. */
    usleep(100000);
    double t0 = bench_now();
    for (int i = 0; i < sp.iters_pal; i++) {
      st = pal_gemm(&qa, &qw, &epi, &opt, c, n, NULL);
      if (st) die_status(st, "pal_gemm");
    }
    double t1 = bench_now();
    for (int i = 0; i < sp.iters_blas; i++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a,
                  (int)k, w, (int)k, 0.0f, c, (int)n);
    double t2 = bench_now();
    pal_t[r] = (t1 - t0) / sp.iters_pal;
    blas_t[r] = (t2 - t1) / sp.iters_blas;
  }
  qsort(pal_t, (size_t)sp.reps, sizeof(double), cmp_double);
  qsort(blas_t, (size_t)sp.reps, sizeof(double), cmp_double);
  sp.pal_best_s = pal_t[0];
  sp.pal_median_s = pal_t[sp.reps / 2];
  sp.blas_best_s = blas_t[0];
  sp.blas_median_s = blas_t[sp.reps / 2];
  pal_b32_matrix_release(&qa);
  pal_b32_matrix_release(&qw);
  free(a);
  free(w);
  free(c);
  return sp;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--json PATH] [--quick] [--seed N]\n"
          "  --json PATH  write the results as JSON (docs/conventions.md shape)\n"
          "  --quick      smaller element sample and fewer timing repetitions\n"
          "  --seed N     data seed (default 0x5EED0F0F)\n",
          argv0);
}

int main(int argc, char **argv) {
  const char *json_path = NULL;
  bool quick = false;
  uint64_t seed = 0x5EED0F0Full;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) {
      json_path = argv[++i];
    } else if (!strcmp(argv[i], "--quick")) {
      quick = true;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 0);
    } else {
      usage(argv[0]);
      return 2;
    }
  }

  static study_t s;
  s.json.f = NULL;
  if (json_path && bench_json_open(&s.json, json_path, "formats") != 0) {
    fprintf(stderr, "bench_formats: cannot write %s\n", json_path);
    return 1;
  }
  double t_start = bench_now();

  /* Rows of 4096 so blocks and rows run along K, as in the GEMM operands. */
  const size_t cols = 4096, rows = quick ? 64 : 256;
  const size_t gm = 64, gn = 64, gk = 4096;
  char params[256], what[96];

  printf("PAL format study: seed 0x%llx, %zu x %zu elements per distribution, GEMM %zux%zux%zu "
         "(C = A W^T, both operands quantised)\n\n",
         (unsigned long long)seed, rows, cols, gm, gn, gk);

  /* Element study. */
  elem_result_t elem[PAL_QF_COUNT][DIST_COUNT];
  float *x = xmalloc(rows * cols * sizeof(float)), *q = xmalloc(rows * cols * sizeof(float));
  for (int d = 0; d < DIST_COUNT; d++) {
    fill_dist((dist_t)d, seed + (uint64_t)d, x, rows * cols);
    for (int f = 0; f < PAL_QF_COUNT; f++) {
      elem[f][d] = measure_elements((pal_qformat_t)f, x, q, rows, cols);
      snprintf(params, sizeof params,
               "\"format\": \"%s\", \"dist\": \"%s\", \"rows\": %zu, \"cols\": %zu",
               pal_qformat_name((pal_qformat_t)f), k_dist_names[d], rows, cols);
      bench_json_result(&s.json, "elem_rms_rel_err", elem[f][d].rms_rel, "ratio", params, NULL,
                        0);
      bool target = f == PAL_QF_PAL8_B32 && d == DIST_GAUSS;
      double sq = isfinite(elem[f][d].sqnr_db) ? elem[f][d].sqnr_db : 999.0;
      bench_json_result(&s.json, "sqnr_db", sq, "dB", params, target ? ">=" : NULL, 37.5);
      if (target) add_target(&s, "PAL8-B32 SQNR, gauss", sq, ">=", 37.5, "%.2f dB");
    }
  }
  free(x);
  free(q);

  /* GEMM error. */
  gemm_err_t gerr[DIST_COUNT];
  for (int d = 0; d < DIST_COUNT; d++) {
    gerr[d] = measure_gemm((dist_t)d, seed + 100 + (uint64_t)d, gm, gn, gk);
    for (int f = 0; f < PAL_QF_COUNT; f++) {
      snprintf(params, sizeof params,
               "\"format\": \"%s\", \"dist\": \"%s\", \"M\": %zu, \"N\": %zu, \"K\": %zu",
               pal_qformat_name((pal_qformat_t)f), k_dist_names[d], gm, gn, gk);
      const char *op = NULL;
      double tv = 0;
      if (f == PAL_QF_PAL8_B32) {
        op = "<=";
        tv = d == DIST_OUTLIER100 ? 0.030 : 0.0195;
      } else if (f == PAL_QF_PAL16) {
        op = "<=";
        tv = 0.0012;
      }
      bench_json_result(&s.json, "gemm_rel_err", gerr[d].rel_err[f], "ratio", params, op, tv);
      if (op) {
        snprintf(what, sizeof what, "%s GEMM rel err, %s", f == PAL_QF_PAL8_B32 ? "PAL8-B32" : "PAL16",
                 k_dist_names[d]);
        add_target(&s, what, 100.0 * gerr[d].rel_err[f], op, 100.0 * tv, "%.3f %%");
      }
    }
    snprintf(params, sizeof params,
             "\"format\": \"pal8_b32\", \"dist\": \"%s\", \"M\": %zu, \"N\": %zu, \"K\": %zu, "
             "\"datapath\": \"dequant_fp64\"",
             k_dist_names[d], gm, gn, gk);
    bench_json_result(&s.json, "gemm_rel_err_dequant", gerr[d].pal8_dequant_rel_err, "ratio",
                      params, NULL, 0);
    bench_json_result(&s.json, "pal_gemm_ref_mismatches", (double)gerr[d].pal8_ref_mismatches,
                      "count", params, NULL, 0);
    /* "PAL8-B32 lower than FP8 E4M3 and MXFP8": as ratios below 1. */
    const pal_qformat_t rivals[2] = {PAL_QF_FP8_E4M3, PAL_QF_MXFP8};
    for (int i = 0; i < 2; i++) {
      double ratio = gerr[d].rel_err[PAL_QF_PAL8_B32] / gerr[d].rel_err[rivals[i]];
      snprintf(params, sizeof params,
               "\"format\": \"pal8_b32\", \"vs\": \"%s\", \"dist\": \"%s\", \"M\": %zu, "
               "\"N\": %zu, \"K\": %zu",
               pal_qformat_name(rivals[i]), k_dist_names[d], gm, gn, gk);
      bench_json_result(&s.json, "gemm_rel_err_ratio", ratio, "ratio", params, "<", 1.0);
      snprintf(what, sizeof what, "PAL8-B32 / %s GEMM err, %s", pal_qformat_name(rivals[i]),
               k_dist_names[d]);
      add_target(&s, what, ratio, "<", 1.0, "%.3f");
    }
  }

  /* Throughput. */
  const size_t sz = 512;
  speed_t sp = measure_speed(sz, seed, quick);
  double macs = (double)sz * sz * sz;
  double pal_gmacs = macs / sp.pal_median_s * 1e-9, blas_gmacs = macs / sp.blas_median_s * 1e-9;
  double ratio = pal_gmacs / blas_gmacs;
  const char *isa = pal_cpu_isa_name(sp.isa);
  snprintf(params, sizeof params,
           "\"impl\": \"pal_gemm\", \"isa\": \"%s\", \"threads\": %d, \"M\": %zu, \"N\": %zu, "
           "\"K\": %zu, \"stat\": \"median\"",
           isa, sp.threads, sz, sz, sz);
  bench_json_result(&s.json, "gemm_gmacs", pal_gmacs, "GMAC/s", params, NULL, 0);
  snprintf(params, sizeof params,
           "\"impl\": \"openblas_sgemm\", \"threads\": %d, \"M\": %zu, \"N\": %zu, \"K\": %zu, "
           "\"stat\": \"median\"",
           sp.threads, sz, sz, sz);
  bench_json_result(&s.json, "gemm_gmacs", blas_gmacs, "GMAC/s", params, NULL, 0);
  snprintf(params, sizeof params,
           "\"impl\": \"pal_gemm/openblas_sgemm\", \"isa\": \"%s\", \"threads\": %d, \"M\": %zu, "
           "\"N\": %zu, \"K\": %zu, \"stat\": \"median\"",
           isa, sp.threads, sz, sz, sz);
  bench_json_result(&s.json, "gemm_throughput_ratio", ratio, "ratio", params, ">=", 0.2);
  add_target(&s, "pal_gemm / sgemm throughput", ratio, ">=", 0.2, "%.3f");

  /* ---- human tables ---- */
  printf("Element SQNR (dB) / RMS relative error (over nonzero x), %zu x %zu:\n", rows, cols);
  printf("%-10s %5s", "format", "bits");
  for (int d = 0; d < DIST_COUNT; d++) printf(" | %-22s", k_dist_names[d]);
  printf("\n");
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    printf("%-10s %5.2f", pal_qformat_name((pal_qformat_t)f), pal_qformat_bits((pal_qformat_t)f));
    for (int d = 0; d < DIST_COUNT; d++) {
      if (isfinite(elem[f][d].sqnr_db))
        printf(" | %7.2f dB  %9.3e ", elem[f][d].sqnr_db, elem[f][d].rms_rel);
      else
        printf(" | %7s     %9.3e ", "exact", elem[f][d].rms_rel);
    }
    printf("\n");
  }

  printf("\nGEMM relative error ||C_q - C_ref||_F / ||C_ref||_F, %zux%zux%zu, C_ref in FP64:\n",
         gm, gn, gk);
  printf("%-22s", "format");
  for (int d = 0; d < DIST_COUNT; d++) printf(" %17s", k_dist_names[d]);
  printf("\n");
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    printf("%-22s", f == PAL_QF_PAL8_B32 ? "pal8_b32 (pal_gemm)" : pal_qformat_name((pal_qformat_t)f));
    for (int d = 0; d < DIST_COUNT; d++) printf(" %16.4f%%", 100.0 * gerr[d].rel_err[f]);
    printf("\n");
  }
  printf("%-22s", "pal8_b32 (dequant f64)");
  for (int d = 0; d < DIST_COUNT; d++) printf(" %16.4f%%", 100.0 * gerr[d].pal8_dequant_rel_err);
  printf("\n%-22s", "pal_gemm != ref (bits)");
  for (int d = 0; d < DIST_COUNT; d++) printf(" %17zu", gerr[d].pal8_ref_mismatches);
  printf("\n");

  printf("\nThroughput, M = N = K = %zu, %d threads, median of %d interleaved samples "
         "(best in brackets), operands pre-encoded:\n",
         sz, sp.threads, sp.reps);
  printf("  pal_gemm (isa %s)  %8.2f GMAC/s  [%8.2f]  %8.3f ms\n", isa, pal_gmacs,
         macs / sp.pal_best_s * 1e-9, sp.pal_median_s * 1e3);
  printf("  openblas sgemm      %8.2f GMAC/s  [%8.2f]  %8.3f ms\n", blas_gmacs,
         macs / sp.blas_best_s * 1e-9, sp.blas_median_s * 1e3);
  printf("  ratio pal/openblas  %8.3f\n", ratio);

  printf("\nTargets:\n");
  int missed = 0;
  for (int i = 0; i < s.n_targets; i++) {
    const target_row_t *t = &s.targets[i];
    char v[32], tv[32];
    snprintf(v, sizeof v, t->unit_fmt, t->value);
    snprintf(tv, sizeof tv, t->unit_fmt, t->target);
    const char *verdict = bench_verdict(t->value, t->op, t->target);
    if (strcmp(verdict, "met")) missed++;
    printf("  %-44s %12s  %-2s %12s  %s\n", t->what, v, t->op, tv, verdict);
  }
  printf("  %d of %d targets met\n", s.n_targets - missed, s.n_targets);

  /* Compact table for the README. */
  printf("\nFormat study (README): GEMM rel err %zux%zux%zu, SQNR on gauss %zux%zu, seed 0x%llx\n\n",
         gm, gn, gk, rows, cols, (unsigned long long)seed);
  printf("| format | bits/elem |");
  for (int d = 0; d < DIST_COUNT; d++) printf(" %s |", k_dist_names[d]);
  printf(" SQNR gauss |\n|---|---:|");
  for (int d = 0; d < DIST_COUNT; d++) printf("---:|");
  printf("---:|\n");
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    if (f == PAL_QF_FP32) continue;
    printf("| %s | %.2f |", pal_qformat_name((pal_qformat_t)f), pal_qformat_bits((pal_qformat_t)f));
    for (int d = 0; d < DIST_COUNT; d++) printf(" %.3f%% |", 100.0 * gerr[d].rel_err[f]);
    printf(" %.1f dB |\n", elem[f][DIST_GAUSS].sqnr_db);
  }

  double elapsed = bench_now() - t_start;
  printf("\nbench_formats: %.1f s%s%s\n", elapsed, json_path ? ", wrote " : "",
         json_path ? json_path : "");
  if (json_path && bench_json_close(&s.json) != 0) {
    fprintf(stderr, "bench_formats: error writing %s\n", json_path);
    return 1;
  }
  return 0;
}
