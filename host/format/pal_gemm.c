/* The fast CPU path of the PAL8-B32 GEMM (include/pal/gemm.h): argument
 * checks, operand packing, the worker threads over output tiles, the
 * portable C kernel and the epilogue. Bit-identical to pal_gemm_ref, which
 * stays the definition; the AVX2 kernel lives in pal_gemm_avx2.c. */
#include "pal/gemm.h"

#include <float.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pal_gemm_internal.h"

void pal_gemm_options_initialize(pal_gemm_options_t *options) {
  memset(options, 0, sizeof *options);
  options->threads = 0;
  options->isa = PAL_CPU_ISA_AUTO;
}

static bool cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init(); /* idempotent; needed if we run before constructors */
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

pal_cpu_isa_t pal_gemm_best_isa(void) {
  return cpu_has_avx2() ? PAL_CPU_ISA_AVX2 : PAL_CPU_ISA_PORTABLE;
}

const char *pal_cpu_isa_name(pal_cpu_isa_t isa) {
  switch (isa) {
    case PAL_CPU_ISA_AUTO: return "auto";
    case PAL_CPU_ISA_PORTABLE: return "portable";
    case PAL_CPU_ISA_AVX2: return "avx2";
  }
  return "unknown";
}

/* ---- FP32 accumulation of one block sum (§3), scalar ------------------- */

/* acc += s * 2^e. The common case (t normal, sum normal or exactly zero) is
 * one IEEE addition done here; anything else goes to the golden model. */
static inline void accumulate_lane(float *acc, uint8_t *nar, int32_t s, int e) {
  uint32_t fb = pal_f32_bits((float)s); /* exact: |s| <= 2^20 */
  int bt = (int)((fb >> 23) & 0xFFu) + e;
  if (bt > 0 && bt < 255) {
    float sum = *acc + pal_f32_from_bits(fb + ((uint32_t)e << 23));
    uint32_t sb = pal_f32_bits(sum) & 0x7FFFFFFFu;
    if (sb == 0 || (sb >= 0x00800000u && sb < 0x7F800000u)) {
      *acc = sum;
      return;
    }
  }
  pal_gemm_accumulate_lane(acc, nar, s, e);
}

/* ---- the portable kernel ------------------------------------------------ */

/* A packed weight is one uint16 index wi into tables->prod: the distance dw
 * for a positive weight, 512 + dw for a negative one, and ZERO_WI (whose
 * window prod[300..426] is all zero) for a zero weight. prod[wi + da] is then
 * the signed product for a positive activation of distance da. */
#define PORTABLE_ZERO_WI 300u
#define PORTABLE_CHUNK ((size_t)PAL_B32_BLOCK * PAL_GEMM_NT * sizeof(uint16_t))

static void portable_pack_tile(const pal_b32_matrix_t *w, const uint8_t *w_nar, size_t tile,
                               uint8_t *dst) {
  const size_t kb = w->kblocks;
  for (size_t j = 0; j < PAL_GEMM_NT; j++) {
    size_t n = tile * PAL_GEMM_NT + j;
    bool live = n < w->rows && !w_nar[j];
    for (size_t b = 0; b < kb; b++) {
      uint16_t *chunk = (uint16_t *)(void *)(dst + b * PORTABLE_CHUNK);
      const uint8_t *codes = live ? w->codes + (n * kb + b) * PAL_B32_BLOCK : NULL;
      for (size_t k = 0; k < PAL_B32_BLOCK; k++) {
        uint8_t code = codes ? codes[k] : PAL_CODE8_ZERO;
        unsigned mag = code & PAL_CODE8_MAG_MASK;
        chunk[k * PAL_GEMM_NT + j] =
            mag == 0 ? (uint16_t)PORTABLE_ZERO_WI
                     : (uint16_t)((127u - mag) + ((code & PAL_CODE8_SIGN) ? 512u : 0u));
      }
    }
  }
}

static void portable_run_tile(const pal_gemm_plan_t *plan, size_t tile, size_t m0, size_t m1,
                              float *acc, uint8_t *nar) {
  const size_t kb = plan->kblocks;
  const int32_t *prod = plan->tables->prod;
  for (size_t b = 0; b < kb; b++) {
    const uint16_t *wb = (const uint16_t *)(const void *)(plan->wpack + (tile * kb + b) * plan->wpack_chunk);
    const int32_t *we = plan->wexp + (tile * kb + b) * PAL_GEMM_NT;
    for (size_t m = m0; m < m1; m++) {
      if (plan->a_nar[m]) continue; /* the whole row is NaR anyway */
      const pal_gemm_alist_t *al = plan->alists + m * kb + b;
      unsigned np = al->npos, nt = np + al->nneg, i = 0;
      if (nt == 0) continue; /* an all-zero block adds nothing */
      int32_t s[PAL_GEMM_NT] = {0};
      for (; i < np; i++) {
        const uint16_t *wk = wb + al->koff[i];
        const int32_t *tp = prod + al->doff[i];
        for (size_t j = 0; j < PAL_GEMM_NT; j++) s[j] += tp[wk[j]];
      }
      for (; i < nt; i++) {
        const uint16_t *wk = wb + al->koff[i];
        const int32_t *tp = prod + al->doff[i];
        for (size_t j = 0; j < PAL_GEMM_NT; j++) s[j] -= tp[wk[j]];
      }
      int ea = plan->aexp[m * kb + b];
      float *accp = acc + (m - m0) * PAL_GEMM_NT;
      uint8_t *narp = nar + (m - m0) * PAL_GEMM_NT;
      for (size_t j = 0; j < PAL_GEMM_NT; j++)
        if (s[j] != 0) accumulate_lane(&accp[j], &narp[j], s[j], we[j] + ea);
    }
  }
}

/* ---- packing ------------------------------------------------------------ */

static void tables_init(pal_gemm_tables_t *t, pal_cpu_isa_t isa) {
  if (isa == PAL_CPU_ISA_AVX2) {
    pal_gemm_avx2_tables(t);
    return;
  }
  for (unsigned i = 0; i < 1024; i++) {
    unsigned d = i & 511u;
    int32_t p = d <= 2 * PAL_CODE8_DIST_MAX ? (int32_t)pal_product_mag(d) : 0;
    t->prod[i] = i >= 512 ? -p : p;
  }
}

/* A NaR code anywhere in a row, or an X = 255 block, makes every output of
 * that row (or column) NaR: §3 pairs it with every code of the other operand,
 * zero included. The reference reads whole 32-code blocks, padding too. */
static bool row_has_nar(const pal_b32_matrix_t *x, size_t r) {
  const size_t kb = x->kblocks;
  if (kb == 0) return false; /* K = 0: codes may be NULL */
  if (memchr(x->scales + r * kb, PAL_SCALE_NAR, kb)) return true;
  return memchr(x->codes + r * kb * PAL_B32_BLOCK, PAL_CODE8_NAR, kb * PAL_B32_BLOCK) != NULL;
}

/* The non-zero activations of row m, block by block, as sign-grouped lists
 * (pal_gemm_alist_t) with the kernel's strides, and the block exponents. */
static void pack_activation_row(const pal_b32_matrix_t *a, size_t m, unsigned kstride,
                                unsigned dstride, pal_gemm_alist_t *alists, int32_t *aexp) {
  const size_t kb = a->kblocks;
  for (size_t b = 0; b < kb; b++) {
    size_t blk = m * kb + b;
    const uint8_t *codes = a->codes + blk * PAL_B32_BLOCK;
    pal_gemm_alist_t *al = &alists[blk];
    unsigned np = 0, nn = 0;
    uint32_t d0pos = 0, d0neg = 0;
    uint16_t nk[PAL_B32_BLOCK], nd[PAL_B32_BLOCK];
    /* Branch-free: signs are random, so a branch per code would mispredict. */
    for (unsigned k = 0; k < PAL_B32_BLOCK; k++) {
      unsigned mag = codes[k] & PAL_CODE8_MAG_MASK, neg = codes[k] >> 7;
      unsigned pos = (mag != 0) & !neg, ngt = (mag != 0) & neg; /* NaR rows never reach a kernel */
      unsigned da = 127u - mag;
      uint16_t koff = (uint16_t)(k * kstride), doff = (uint16_t)(da * dstride);
      al->koff[np] = koff;
      al->doff[np] = doff;
      nk[nn] = koff;
      nd[nn] = doff;
      d0pos |= (uint32_t)(pos & (da == 0)) << k;
      d0neg |= (uint32_t)(ngt & (da == 0)) << k;
      np += pos;
      nn += ngt;
    }
    memcpy(al->koff + np, nk, nn * sizeof nk[0]);
    memcpy(al->doff + np, nd, nn * sizeof nd[0]);
    al->npos = (uint8_t)np;
    al->nneg = (uint8_t)nn;
    al->d0pos = d0pos;
    al->d0neg = d0neg;
    aexp[blk] = (int32_t)a->scales[blk] - PAL_SCALE_BIAS - 15;
  }
}

/* ---- argument checks ---------------------------------------------------- */

static pal_status_t check_matrix(const pal_b32_matrix_t *x, const char *name) {
  if (!x) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: %s matrix is NULL", name);
  size_t want = x->cols / PAL_B32_BLOCK + (x->cols % PAL_B32_BLOCK != 0);
  if (x->kblocks != want)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_gemm: %s matrix has %zu blocks per row for K = %zu (expected %zu)",
                           name, x->kblocks, x->cols, want);
  if (x->rows && x->kblocks) {
    if (x->kblocks > SIZE_MAX / PAL_B32_BLOCK / x->rows)
      return pal_status_make(PAL_OUT_OF_RANGE, "pal_gemm: %s matrix of %zu x %zu is too large",
                             name, x->rows, x->cols);
    if (!x->codes || !x->scales)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: %s matrix has NULL %s", name,
                             !x->codes ? "codes" : "scales");
  }
  return PAL_STATUS_OK;
}

static pal_status_t check_arguments(const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                                    const pal_epilogue_t *epilogue,
                                    const pal_gemm_options_t *options, const float *out,
                                    size_t ldo, pal_cpu_isa_t *out_isa) {
  PAL_RETURN_IF_ERROR(check_matrix(a, "activation"));
  PAL_RETURN_IF_ERROR(check_matrix(w, "weight"));
  if (a->cols != w->cols)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_gemm: activations have K = %zu columns but weights have K = %zu",
                           a->cols, w->cols);
  size_t m = a->rows, n = w->rows;
  if (ldo < n)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_gemm: output leading dimension %zu is less than N = %zu", ldo, n);
  if (m && n) {
    if (!out) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: output pointer is NULL");
    if ((m - 1) > (SIZE_MAX / sizeof(float) - n) / ldo)
      return pal_status_make(PAL_OUT_OF_RANGE,
                             "pal_gemm: output of %zu rows x %zu (ldo) floats is too large", m, ldo);
  }
  if (epilogue) {
    if (epilogue->bias_mode != PAL_BIAS_START && epilogue->bias_mode != PAL_BIAS_POST)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: unknown epilogue bias mode %d",
                             (int)epilogue->bias_mode);
    if (epilogue->act != PAL_ACT_NONE && epilogue->act != PAL_ACT_RELU &&
        epilogue->act != PAL_ACT_CLIP)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: unknown epilogue activation %d",
                             (int)epilogue->act);
  }
  pal_cpu_isa_t isa = options ? options->isa : PAL_CPU_ISA_AUTO;
  if (options && options->threads < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: threads = %d is negative",
                           options->threads);
  switch (isa) {
    case PAL_CPU_ISA_AUTO: isa = pal_gemm_best_isa(); break;
    case PAL_CPU_ISA_PORTABLE: break;
    case PAL_CPU_ISA_AVX2:
      if (!cpu_has_avx2())
        return pal_status_make(PAL_UNAVAILABLE,
                               "pal_gemm: ISA avx2 requested but this CPU lacks AVX2");
      break;
    default:
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_gemm: unknown ISA %d", (int)isa);
  }
  *out_isa = isa;
  return PAL_STATUS_OK;
}

/* ---- the job: packing, then output tiles, over a few threads ------------ */

/* Activation rows per packing item. */
#define PACK_ROWS 32

typedef struct gemm_job {
  const pal_b32_matrix_t *a, *w;
  const pal_epilogue_t *epilogue;
  pal_cpu_isa_t isa;
  float *out;
  size_t ldo;
  /* Written by the packing items, read-only once `packed` reaches pack_items. */
  pal_gemm_plan_t plan;
  pal_gemm_alist_t *alists;
  int32_t *aexp, *wexp;
  uint8_t *a_nar, *w_nar, *wpack;
  /* Phase 1: packing items (weight tiles, then groups of activation rows). */
  size_t pack_items;
  atomic_size_t next_pack;
  size_t packed; /* under mu */
  pthread_mutex_t mu;
  pthread_cond_t all_packed;
  /* Phase 2: output items of mc rows x one tile. */
  size_t mc, mitems, items;
  atomic_size_t next;
} gemm_job_t;

typedef struct gemm_worker {
  gemm_job_t *job;
  float *acc;   /* mc x NT running sums */
  uint8_t *nar; /* mc x NT sticky NaR flags */
  size_t nar_count;
  pthread_t thread;
} gemm_worker_t;

static void pack_item(gemm_job_t *job, size_t item) {
  const size_t kb = job->plan.kblocks, ntiles = job->plan.ntiles;
  if (item < ntiles) {
    const pal_b32_matrix_t *w = job->w;
    size_t t = item, n0 = t * PAL_GEMM_NT;
    uint8_t *w_nar = job->w_nar + n0;
    for (size_t j = 0; j < PAL_GEMM_NT; j++) w_nar[j] = n0 + j < w->rows && row_has_nar(w, n0 + j);
    for (size_t b = 0; b < kb; b++)
      for (size_t j = 0; j < PAL_GEMM_NT; j++)
        job->wexp[(t * kb + b) * PAL_GEMM_NT + j] =
            n0 + j < w->rows ? (int32_t)w->scales[(n0 + j) * kb + b] - PAL_SCALE_BIAS : 0;
    uint8_t *dst = job->wpack + t * kb * job->plan.wpack_chunk;
    if (job->isa == PAL_CPU_ISA_AVX2)
      pal_gemm_avx2_pack_tile(w, w_nar, t, dst);
    else
      portable_pack_tile(w, w_nar, t, dst);
  } else {
    size_t m0 = (item - ntiles) * PACK_ROWS;
    size_t m1 = m0 + PACK_ROWS < job->a->rows ? m0 + PACK_ROWS : job->a->rows;
    for (size_t m = m0; m < m1; m++) {
      job->a_nar[m] = row_has_nar(job->a, m);
      if (job->isa == PAL_CPU_ISA_AVX2)
        pack_activation_row(job->a, m, PAL_GEMM_AVX2_KSTRIDE, PAL_GEMM_AVX2_DSTRIDE, job->alists,
                            job->aexp);
      else /* the portable layouts: uint16 weights per k, int32 products per da */
        pack_activation_row(job->a, m, PAL_GEMM_NT, 1, job->alists, job->aexp);
    }
  }
}

/* One output item: rows [m0, m1) x one tile, from start values to stored
 * outputs. Each output is finished by exactly one item, so the thread count
 * and the split never change a result. */
static void run_item(gemm_worker_t *wk, size_t item) {
  const gemm_job_t *job = wk->job;
  const pal_gemm_plan_t *plan = &job->plan;
  /* Tile-major order: consecutive items share the tile's packed weights. */
  size_t tile = item / job->mitems, mi = item % job->mitems;
  size_t m0 = mi * job->mc, m1 = m0 + job->mc < plan->m ? m0 + job->mc : plan->m;
  size_t n0 = tile * PAL_GEMM_NT;
  size_t nn = plan->n - n0 < PAL_GEMM_NT ? plan->n - n0 : PAL_GEMM_NT;
  const pal_epilogue_t *ep = job->epilogue;
  const float *bias = ep ? ep->bias : NULL;
  bool bias_start = bias && ep->bias_mode == PAL_BIAS_START;
  /* With no post-bias and no activation, pal_postprocess returns a
   * non-NaR accumulator unchanged. */
  bool plain = !ep || (ep->act == PAL_ACT_NONE && !(bias && ep->bias_mode == PAL_BIAS_POST));

  for (size_t m = m0; m < m1; m++) {
    float *accp = wk->acc + (m - m0) * PAL_GEMM_NT;
    uint8_t *narp = wk->nar + (m - m0) * PAL_GEMM_NT;
    for (size_t j = 0; j < PAL_GEMM_NT; j++) {
      accp[j] = 0.0f;
      narp[j] = plan->a_nar[m] || job->w_nar[n0 + j];
    }
    if (bias_start)
      for (size_t j = 0; j < nn; j++) {
        bool nar = narp[j] != 0;
        accp[j] = pal_fp32_start(bias[n0 + j], &nar);
        narp[j] = nar;
      }
  }

  if (job->isa == PAL_CPU_ISA_AVX2)
    pal_gemm_avx2_run_tile(plan, tile, m0, m1, wk->acc, wk->nar);
  else
    portable_run_tile(plan, tile, m0, m1, wk->acc, wk->nar);

  for (size_t m = m0; m < m1; m++) {
    const float *accp = wk->acc + (m - m0) * PAL_GEMM_NT;
    const uint8_t *narp = wk->nar + (m - m0) * PAL_GEMM_NT;
    float *o = job->out + m * job->ldo + n0;
    if (plain && !memchr(narp, 1, nn)) {
      memcpy(o, accp, nn * sizeof *o);
      continue;
    }
    for (size_t j = 0; j < nn; j++) {
      bool nar = narp[j] != 0;
      if (plain && !nar) {
        o[j] = accp[j];
        continue;
      }
      o[j] = pal_postprocess(accp[j], bias ? bias[n0 + j] : 0.0f, ep, &nar);
      wk->nar_count += nar;
    }
  }
}

static void *worker_main(void *arg) {
  gemm_worker_t *wk = arg;
  gemm_job_t *job = wk->job;
  for (;;) {
    size_t item = atomic_fetch_add_explicit(&job->next_pack, 1, memory_order_relaxed);
    if (item >= job->pack_items) break;
    pack_item(job, item);
    pthread_mutex_lock(&job->mu);
    if (++job->packed == job->pack_items) pthread_cond_broadcast(&job->all_packed);
    pthread_mutex_unlock(&job->mu);
  }
  /* The mutex also publishes the packed data to this thread. */
  pthread_mutex_lock(&job->mu);
  while (job->packed < job->pack_items) pthread_cond_wait(&job->all_packed, &job->mu);
  pthread_mutex_unlock(&job->mu);
  for (;;) {
    size_t item = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
    if (item >= job->items) break;
    run_item(wk, item);
  }
  return NULL;
}

/* ---- pal_gemm ----------------------------------------------------------- */

/* Overflow-checked a * b * c. */
static bool size_mul3(size_t a, size_t b, size_t c, size_t *out) {
  if (b && a > SIZE_MAX / b) return false;
  if (c && a * b > SIZE_MAX / c) return false;
  *out = a * b * c;
  return true;
}

static void *alloc_aligned(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  return aligned_alloc(64, rounded ? rounded : 64);
}

pal_status_t pal_gemm(const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                      const pal_epilogue_t *epilogue, const pal_gemm_options_t *options,
                      float *out, size_t ldo, size_t *out_nar_count) {
  pal_cpu_isa_t isa = PAL_CPU_ISA_PORTABLE;
  PAL_RETURN_IF_ERROR(check_arguments(a, w, epilogue, options, out, ldo, &isa));
  const size_t m = a->rows, n = w->rows, kb = a->kblocks;
  if (m == 0 || n == 0) {
    if (out_nar_count) *out_nar_count = 0;
    return PAL_STATUS_OK;
  }

  const size_t ntiles = n / PAL_GEMM_NT + (n % PAL_GEMM_NT != 0);
  const size_t chunk = isa == PAL_CPU_ISA_AVX2 ? PAL_GEMM_AVX2_CHUNK : PORTABLE_CHUNK;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  size_t threads = options && options->threads > 0 ? (size_t)options->threads
                                                   : (size_t)(online > 0 ? online : 1);
  /* Rows per output item: many, to reuse each packed weight chunk from L1;
   * few enough to give every thread several items. */
  size_t mc = 64;
  while (mc > 4 && (m + mc - 1) / mc * ntiles < 4 * threads) mc /= 2;
  size_t mitems = (m + mc - 1) / mc, items = mitems * ntiles;
  size_t pack_items = ntiles + (m + PACK_ROWS - 1) / PACK_ROWS;
  if (threads > items + pack_items) threads = items + pack_items;

  size_t wpack_bytes, wexp_bytes, alist_bytes, aexp_bytes;
  if (!size_mul3(ntiles, kb, chunk, &wpack_bytes) ||
      !size_mul3(ntiles, kb, PAL_GEMM_NT * sizeof(int32_t), &wexp_bytes) ||
      !size_mul3(m, kb, sizeof(pal_gemm_alist_t), &alist_bytes) ||
      !size_mul3(m, kb, sizeof(int32_t), &aexp_bytes))
    return pal_status_make(PAL_OUT_OF_RANGE, "pal_gemm: %zu x %zu x %zu is too large to pack", m,
                           n, a->cols);

  gemm_job_t *job = calloc(1, sizeof *job);
  pal_gemm_tables_t *tables = alloc_aligned(sizeof *tables);
  gemm_worker_t *workers = calloc(threads, sizeof *workers);
  float *acc = alloc_aligned(threads * mc * PAL_GEMM_NT * sizeof(float));
  uint8_t *nar = malloc(threads * mc * PAL_GEMM_NT);
  if (job) {
    job->wpack = alloc_aligned(wpack_bytes);
    job->wexp = alloc_aligned(wexp_bytes);
    job->alists = alloc_aligned(alist_bytes);
    job->aexp = alloc_aligned(aexp_bytes);
    job->a_nar = malloc(m);
    job->w_nar = malloc(ntiles * PAL_GEMM_NT);
  }
  pal_status_t status = PAL_STATUS_OK;
  if (!job || !tables || !workers || !acc || !nar || !job->wpack || !job->wexp || !job->alists ||
      !job->aexp || !job->a_nar || !job->w_nar) {
    status = pal_status_make(PAL_RESOURCE_EXHAUSTED,
                             "pal_gemm: out of memory packing a %zu x %zu x %zu GEMM", m, n, a->cols);
    goto done;
  }

  tables_init(tables, isa);
  job->a = a;
  job->w = w;
  job->epilogue = epilogue;
  job->isa = isa;
  job->out = out;
  job->ldo = ldo;
  job->plan = (pal_gemm_plan_t){
      .m = m, .n = n, .kblocks = kb, .ntiles = ntiles, .alists = job->alists,
      .aexp = job->aexp, .a_nar = job->a_nar, .wexp = job->wexp, .wpack = job->wpack,
      .wpack_chunk = chunk, .tables = tables,
  };
  job->pack_items = pack_items;
  job->mc = mc;
  job->mitems = mitems;
  job->items = items;
  atomic_init(&job->next_pack, 0);
  atomic_init(&job->next, 0);
  pthread_mutex_init(&job->mu, NULL);
  pthread_cond_init(&job->all_packed, NULL);
  for (size_t i = 0; i < threads; i++)
    workers[i] = (gemm_worker_t){.job = job, .acc = acc + i * mc * PAL_GEMM_NT,
                                 .nar = nar + i * mc * PAL_GEMM_NT};
  /* The calling thread is worker 0. A thread that cannot be started only
   * leaves more items to the others. */
  size_t started = 1;
  for (; started < threads; started++)
    if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started])) break;
  worker_main(&workers[0]);
  size_t nar_total = workers[0].nar_count;
  for (size_t i = 1; i < started; i++) {
    pthread_join(workers[i].thread, NULL);
    nar_total += workers[i].nar_count;
  }
  pthread_cond_destroy(&job->all_packed);
  pthread_mutex_destroy(&job->mu);
  if (out_nar_count) *out_nar_count = nar_total;

done:
  if (job) {
    free(job->wpack);
    free(job->wexp);
    free(job->alists);
    free(job->aexp);
    free(job->a_nar);
    free(job->w_nar);
  }
  free(job);
  free(tables);
  free(workers);
  free(acc);
  free(nar);
  return status;
}
