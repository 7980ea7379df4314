/* The tile compiler's planner and executor (docs/compiler.md): splits a
 * chain of dense layers into M chunks, K chunks and N groups that fit the
 * tile's buffers, then drives a device through the schedule — weights into
 * WMEM, activations into ABUF, GEMM/POST programs into IMEM — and reads the
 * outputs back. The golden-model reference lives here too, so the plan and
 * its expectation cannot drift apart. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal_compile_internal.h"

#define PAL_PLAN_RUN_TIMEOUT_MS 120000u

static uint32_t div_up(uint32_t a, uint32_t b) { return a / b + (a % b != 0); }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t gcd_u32(uint32_t a, uint32_t b) {
  while (b) {
    uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

void pal_dense_layer_initialize(pal_dense_layer_t *layer) {
  memset(layer, 0, sizeof *layer);
  layer->bias_mode = PAL_BIAS_START;
  layer->act = PAL_ACT_NONE;
}

void pal_dense_transpose_weights(const float *in_k_by_n, uint32_t k, uint32_t n,
                                 float *out_n_by_k) {
  for (uint32_t kk = 0; kk < k; kk++)
    for (uint32_t nn = 0; nn < n; nn++)
      out_n_by_k[(size_t)nn * k + kk] = in_k_by_n[(size_t)kk * n + nn];
}

void pal_plan_options_initialize(pal_plan_options_t *options) {
  memset(options, 0, sizeof *options);
}

/* ---- planning ---------------------------------------------------------------- */

static pal_status_t check_layer(const pal_dense_layer_t *l, size_t i, const pal_dense_layer_t *prev) {
  if (l->in_features == 0 || l->out_features == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "layer %zu: in_features %u x out_features %u: both must be >= 1",
                           i, l->in_features, l->out_features);
  if (l->in_features > (1u << 24) || l->out_features > (1u << 24))
    return pal_status_make(PAL_OUT_OF_RANGE, "layer %zu: %u x %u is larger than the compiler supports (2^24)",
                           i, l->in_features, l->out_features);
  if (!l->weights) return pal_status_make(PAL_INVALID_ARGUMENT, "layer %zu: weights are NULL", i);
  if (prev && prev->out_features != l->in_features)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "layer %zu: in_features %u does not match layer %zu's out_features %u", i,
                           l->in_features, i - 1, prev->out_features);
  if (l->bias_mode != PAL_BIAS_START && l->bias_mode != PAL_BIAS_POST)
    return pal_status_make(PAL_INVALID_ARGUMENT, "layer %zu: bias_mode %d is not a pal_bias_mode_t", i,
                           (int)l->bias_mode);
  if (l->act != PAL_ACT_NONE && l->act != PAL_ACT_RELU && l->act != PAL_ACT_CLIP)
    return pal_status_make(PAL_INVALID_ARGUMENT, "layer %zu: act %d is not a pal_activation_t", i,
                           (int)l->act);
  if (l->act == PAL_ACT_CLIP && !(l->clip_lo <= l->clip_hi))
    return pal_status_make(PAL_INVALID_ARGUMENT, "layer %zu: clip_lo %g > clip_hi %g (or NaN)", i,
                           (double)l->clip_lo, (double)l->clip_hi);
  return PAL_STATUS_OK;
}

/* Which layers keep their weights (and bias) in WMEM (BIAS) for a whole run. */
typedef enum res_mode {
  RES_ALL = 0, /* every layer: one kernel per chunk when activations stay on chip */
  RES_PARTIAL, /* the smallest layers, in at most half of WMEM and BIAS */
  RES_NONE,
  RES_MODES
} res_mode_t;

/* Lays out every layer for M chunks of mc rows with residency `mode`.
 * *out_ok is false when the mode does not apply (nothing is resident, or
 * not everything fits). */
static pal_status_t tile_for_mc(pal_plan_t *plan, uint32_t mc, res_mode_t mode, bool *out_ok) {
  const pal_tile_config_t *c = &plan->cfg;
  const uint32_t P = plan->p;
  size_t n = plan->n_layers;
  *out_ok = false;
  /* choose the resident set */
  bool *res = calloc(n, sizeof *res);
  if (!res) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory planning");
  uint64_t wres = 0, bres = 0;
  size_t n_res = 0;
  if (mode == RES_ALL) {
    for (size_t i = 0; i < n; i++) {
      res[i] = true;
      wres += (uint64_t)plan->layers[i].nt * plan->layers[i].kb;
      if (plan->layers[i].bias && !c->no_accu) bres += (uint64_t)plan->layers[i].nt * P;
    }
    n_res = n;
    if (wres > c->wmem_blocks || bres > c->bias_depth) n_res = 0;
  } else if (mode == RES_PARTIAL) {
    /* smallest first, while they take at most half of WMEM and BIAS */
    for (;;) {
      size_t best = n;
      uint64_t best_w = UINT64_MAX;
      for (size_t i = 0; i < n; i++) {
        uint64_t w = (uint64_t)plan->layers[i].nt * plan->layers[i].kb;
        if (!res[i] && w < best_w) best = i, best_w = w;
      }
      if (best == n) break;
      uint64_t b = plan->layers[best].bias && !c->no_accu ? (uint64_t)plan->layers[best].nt * P : 0;
      if (wres + best_w > c->wmem_blocks / 2 || bres + b > c->bias_depth / 2) break;
      res[best] = true;
      wres += best_w;
      bres += b;
      n_res++;
    }
    if (n_res == n) n_res = 0; /* that is RES_ALL's plan */
  }
  if (mode != RES_NONE && n_res == 0) {
    free(res);
    return PAL_STATUS_OK;
  }
  /* what the other layers have: WMEM above the resident weights, BIAS above
   * the resident biases */
  uint32_t woff = (uint32_t)wres, wcap = c->wmem_blocks - woff;
  uint32_t boff = (uint32_t)bres, bcap = c->bias_depth - boff;
  uint32_t w_next = 0, b_next = 0;
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    pal_layer_plan_t *L = &plan->layers[i];
    uint32_t next_kb = i + 1 < n ? plan->layers[i + 1].kb : 0;
    L->in_on_chip = i > 0 && plan->layers[i - 1].out_on_chip;
    if (!L->in_on_chip) L->in_base = 0;
    /* only POST writes ABUF: without it every output goes through the host */
    bool want_chip = !c->no_post && i + 1 < n && (uint64_t)mc * (L->kb + next_kb) <= c->abuf_blocks;
    if (L->in_on_chip) {
      L->in_whole = true;
    } else {
      uint64_t room = c->abuf_blocks - (want_chip ? (uint64_t)mc * next_kb : 0);
      L->in_whole = (uint64_t)mc * L->kb <= room;
      if (!L->in_whole && want_chip) {
        want_chip = false;
        L->in_whole = (uint64_t)mc * L->kb <= c->abuf_blocks;
      }
    }
    L->kc = L->kb;
    if (!L->in_whole) L->kc = min_u32(L->kc, c->abuf_blocks / mc);
    /* without accumulate units a GEMM leaves one plane of mc x P words per
     * K block in ACC (docs/isa.md §1): ACC bounds the K chunk */
    if (c->no_accu) {
      uint32_t kmax = c->acc_depth / (mc * P);
      if (kmax == 0) {
        ok = false;
        break;
      }
      L->kc = min_u32(L->kc, kmax);
    }
    bool resident = res[i];
    if (resident && L->kc != L->kb) {
      /* its input streams through ABUF per K chunk: a resident layout
       * (k_blocks = kb) cannot be walked in chunks */
      if (mode == RES_ALL) {
        ok = false;
        break;
      }
      resident = false;
    }
    if (resident) {
      L->wmode = PAL_WMODE_RESIDENT;
      L->w_base = w_next;
      w_next += L->nt * L->kb;
    } else if (L->kc == L->kb && (uint64_t)L->nt * L->kb <= wcap) {
      L->wmode = PAL_WMODE_LAYER;
      L->w_base = woff;
    } else {
      L->wmode = PAL_WMODE_STREAM;
      L->w_base = woff;
      L->kc = min_u32(L->kc, wcap);
    }
    L->nk = div_up(L->kb, L->kc);
    L->bias_resident = false;
    L->bias_base = 0;
    if (!L->bias || c->no_accu) {
      L->bias_whole = true; /* (without accumulate units the host starts from the bias) */
    } else if (res[i]) {
      /* reserved even when the weights fell back to streaming */
      L->bias_whole = L->bias_resident = true;
      L->bias_base = b_next;
      b_next += L->nt * P;
    } else if (bcap < P) {
      ok = false; /* no room for one N-tile's bias beside the resident ones */
      break;
    } else {
      L->bias_whole = (uint64_t)L->nt * P <= bcap;
      L->bias_base = boff;
    }
    L->obuf_whole = (uint64_t)mc * L->n <= c->obuf_depth && L->n <= 65535;
    /* n_tiles is 8 bits, POST's n_count 16 */
    uint32_t ntg = min_u32(min_u32(L->nt, 255), 65535 / P);
    ntg = min_u32(ntg, c->acc_depth / (mc * P * (c->no_accu ? L->kc : 1)));
    if (L->wmode == PAL_WMODE_STREAM) ntg = min_u32(ntg, wcap / L->kc);
    if (L->bias && !L->bias_whole) ntg = min_u32(ntg, bcap / P);
    L->out_on_chip = want_chip;
    if (L->out_on_chip && ntg < L->nt) {
      /* groups must start on a 32-feature block boundary, so that each
       * POST encodes whole blocks of the next layer's input */
      uint32_t align = 32 / gcd_u32(P, 32);
      uint32_t aligned = ntg / align * align;
      if (aligned == 0)
        L->out_on_chip = false;
      else
        ntg = aligned;
    }
    /* an FP32 output lands in OBUF per N group (without POST it stays in ACC) */
    if (!L->out_on_chip && !L->obuf_whole && !c->no_post) ntg = min_u32(ntg, c->obuf_depth / (mc * P));
    if (ntg == 0) {
      free(res);
      return pal_status_make(PAL_INTERNAL, "layer %zu: no N group fits (planner bug)", i);
    }
    L->ntg = ntg;
    L->ng = div_up(L->nt, ntg);
    if (L->out_on_chip) plan->layers[i + 1].in_base = L->in_base == 0 ? c->abuf_blocks - mc * next_kb : 0;
  }
  free(res);
  if (!ok) return PAL_STATUS_OK;
  plan->resident = mode == RES_ALL;
  plan->mc = mc;
  *out_ok = true;
  return PAL_STATUS_OK;
}

/* What the planner minimises: bytes moved both ways for max_batch rows,
 * plus a charge per kernel run (program load, start, status polls on a
 * link), from a dry run of the schedule. */
#define PAL_PLAN_RUN_COST_BYTES 256u
static pal_status_t plan_cost(pal_plan_t *plan, uint64_t *out_cost) {
  pal_plan_stats_t s;
  memset(&s, 0, sizeof s);
  PAL_RETURN_IF_ERROR(pal_plan_execute(plan, NULL, NULL, plan->max_batch, NULL, &s, NULL, NULL));
  *out_cost = s.bytes_to_device + s.bytes_from_device + PAL_PLAN_RUN_COST_BYTES * s.kernel_runs;
  return PAL_STATUS_OK;
}

pal_status_t pal_plan_dense_chain(const pal_tile_config_t *geometry, const pal_dense_layer_t *layers,
                                  size_t n, uint32_t max_batch, const pal_plan_options_t *options,
                                  pal_plan_t **out_plan) {
  if (!out_plan) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_dense_chain: out_plan is NULL");
  *out_plan = NULL;
  if (!geometry) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_dense_chain: geometry is NULL");
  if (!layers || n == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_dense_chain: a chain needs at least one layer");
  if (max_batch == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_dense_chain: max_batch is 0");
  pal_plan_options_t defaults;
  pal_plan_options_initialize(&defaults);
  if (!options) options = &defaults;
  PAL_RETURN_IF_ERROR(pal_status_annotate(pal_tile_config_validate(geometry), "tile geometry: "));
  for (size_t i = 0; i < n; i++) PAL_RETURN_IF_ERROR(check_layer(&layers[i], i, i ? &layers[i - 1] : NULL));

  const pal_tile_config_t *c = geometry;
  uint32_t P = pal_tile_config_pes(c);
  if (c->imem_depth < 2)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "tile geometry: IMEM_DEPTH %u leaves no room for an instruction before END",
                           c->imem_depth);
  if (c->acc_depth < P)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                           "tile geometry: ACC_DEPTH %u is smaller than one N-tile of P = %u PEs", c->acc_depth, P);
  uint32_t mc_cap = min_u32(max_batch, 65535);
  mc_cap = min_u32(mc_cap, c->abuf_blocks);
  mc_cap = min_u32(mc_cap, c->acc_depth / P);
  if (options->max_m_chunk) mc_cap = min_u32(mc_cap, options->max_m_chunk);
  for (size_t i = 0; i < n; i++) {
    uint32_t w = min_u32(layers[i].out_features, P);
    if (c->no_post) w = 0; /* OBUF is not used: the host reads ACC */
    if (w && c->obuf_depth < w)
      return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                             "layer %zu: OBUF_DEPTH %u cannot hold one row of an N-tile (%u outputs)", i,
                             c->obuf_depth, w);
    if (w) mc_cap = min_u32(mc_cap, c->obuf_depth / w);
    if (layers[i].bias && c->bias_depth < P)
      return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                             "layer %zu: BIAS_DEPTH %u cannot hold the bias of one N-tile (P = %u)", i,
                             c->bias_depth, P);
  }

  pal_plan_t *plan = calloc(1, sizeof *plan);
  if (!plan) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a plan");
  plan->cfg = *c;
  plan->p = P;
  plan->max_batch = max_batch;
  plan->n_layers = n;
  plan->layers = calloc(n, sizeof *plan->layers);
  pal_status_t st = PAL_STATUS_OK;
  if (!plan->layers) {
    st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a plan of %zu layers", n);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const pal_dense_layer_t *src = &layers[i];
    pal_layer_plan_t *L = &plan->layers[i];
    L->k = src->in_features;
    L->n = src->out_features;
    L->kb = div_up(L->k, PAL_B32_BLOCK);
    L->nt = div_up(L->n, P);
    L->bias_mode = src->bias_mode;
    L->act = src->act;
    L->clip_lo = src->clip_lo;
    L->clip_hi = src->clip_hi;
    if ((uint64_t)L->kb > 65535 || (uint64_t)L->nt * P > 65535u * 16u) {
      st = pal_status_make(PAL_OUT_OF_RANGE, "layer %zu: K %u is past the 16-bit block fields of the ISA", i, L->k);
      goto fail;
    }
    st = pal_b32_matrix_create((size_t)L->nt * P, L->k, &L->w);
    if (st) goto fail;
    /* encode the N real rows; the padding rows stay zero codes, scale 0 */
    pal_b32_matrix_t view = L->w;
    view.rows = L->n;
    pal_b32_matrix_encode(src->weights, L->k, &view);
    if (src->bias) {
      L->bias = calloc((size_t)L->nt * P, sizeof(float));
      if (!L->bias) {
        st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for layer %zu's bias", i);
        goto fail;
      }
      memcpy(L->bias, src->bias, (size_t)L->n * sizeof(float));
    }
  }

  /* Candidates: the largest chunk the buffers allow and the largest that
   * keeps every activation on chip, each with all, some or no weights
   * resident; the cheapest by plan_cost wins. */
  uint32_t fuse_cap = mc_cap;
  fuse_cap = min_u32(fuse_cap, c->abuf_blocks / plan->layers[0].kb);
  for (size_t i = 0; i + 1 < n; i++)
    fuse_cap = min_u32(fuse_cap, c->abuf_blocks / (plan->layers[i].kb + plan->layers[i + 1].kb));
  if (mc_cap == 0) {
    st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "tile geometry: no M chunk fits ABUF %u / ACC %u / OBUF %u",
                         c->abuf_blocks, c->acc_depth, c->obuf_depth);
    goto fail;
  }
  uint32_t cand[2] = {mc_cap, fuse_cap >= 1 && fuse_cap < mc_cap ? fuse_cap : 0};
  uint64_t best_cost = UINT64_MAX;
  uint32_t best_mc = 0;
  res_mode_t best_mode = RES_NONE;
  for (int ci = 0; ci < 2; ci++) {
    if (!cand[ci]) continue;
    for (int mode = 0; mode < RES_MODES; mode++) {
      bool ok = false;
      uint64_t cost = 0;
      st = tile_for_mc(plan, cand[ci], (res_mode_t)mode, &ok);
      if (!st && ok) st = plan_cost(plan, &cost);
      if (st) goto fail;
      if (ok && options->single_kernel && !pal_plan_is_single_kernel(plan)) ok = false;
      if (ok && cost < best_cost) {
        best_cost = cost;
        best_mc = cand[ci];
        best_mode = (res_mode_t)mode;
      }
    }
  }
  if (options->single_kernel && c->no_post) {
    st = pal_status_make(PAL_UNIMPLEMENTED,
                         "no single-kernel tiling: the tile has no POST unit, so the host post-processes "
                         "every layer's sums between kernel runs");
    goto fail;
  }
  if (options->single_kernel && best_mc == 0) {
    st = pal_status_make(PAL_UNIMPLEMENTED,
                         "no single-kernel tiling on this geometry: the weights (and biases) of the %zu layer(s) "
                         "must fit WMEM %u blocks (BIAS %u words) together and every activation ABUF %u blocks",
                         n, c->wmem_blocks, c->bias_depth, c->abuf_blocks);
    goto fail;
  }
  bool ok = false;
  st = tile_for_mc(plan, best_mc, best_mode, &ok);
  if (!st && !ok) st = pal_status_make(PAL_INTERNAL, "no tiling found (planner bug)");
  if (st) goto fail;
  if (options->require_on_chip) {
    for (size_t i = 0; i + 1 < n; i++)
      if (!plan->layers[i].out_on_chip) {
        if (c->no_post)
          st = pal_status_make(PAL_RESOURCE_EXHAUSTED,
                               "layer %zu: its output cannot stay on chip: the tile has no POST unit to write it "
                               "into ABUF",
                               i);
        else
          st = pal_status_make(PAL_RESOURCE_EXHAUSTED,
                               "layer %zu: its output (%u features, M chunk %u) does not stay on chip in ABUF of %u blocks",
                               i, plan->layers[i].n, plan->mc, c->abuf_blocks);
        goto fail;
      }
  }
  *out_plan = plan;
  return PAL_STATUS_OK;
fail:
  pal_plan_destroy(plan);
  return st;
}

void pal_plan_destroy(pal_plan_t *plan) {
  if (!plan) return;
  for (size_t i = 0; plan->layers && i < plan->n_layers; i++) {
    pal_b32_matrix_release(&plan->layers[i].w);
    free(plan->layers[i].bias);
  }
  free(plan->layers);
  free(plan);
}

size_t pal_plan_layer_count(const pal_plan_t *plan) { return plan->n_layers; }
uint32_t pal_plan_in_features(const pal_plan_t *plan) { return plan->layers[0].k; }
uint32_t pal_plan_out_features(const pal_plan_t *plan) { return plan->layers[plan->n_layers - 1].n; }
uint32_t pal_plan_m_chunk(const pal_plan_t *plan) { return plan->mc; }

bool pal_plan_is_single_kernel(const pal_plan_t *plan) {
  if (!plan->resident || plan->cfg.no_post) return false; /* without POST the host finishes each layer */
  size_t n = plan->n_layers;
  if (!plan->layers[0].in_whole || !plan->layers[n - 1].obuf_whole) return false;
  for (size_t i = 0; i + 1 < n; i++)
    if (!plan->layers[i].out_on_chip) return false;
  uint32_t *words = NULL;
  size_t n_words = 0;
  pal_status_t st = pal_plan_execute((pal_plan_t *)plan, NULL, NULL, plan->mc, NULL, NULL, &words, &n_words);
  bool ok = st == PAL_STATUS_OK && n_words > 0;
  free(words);
  pal_status_free(st);
  return ok;
}

/* ---- execution --------------------------------------------------------------- */

typedef struct exec {
  pal_plan_t *plan;
  pal_device_t *dev;     /* NULL: dry run (counting or recording) */
  const char *uri;
  uint32_t *prog;        /* IMEM_DEPTH * 4 words */
  size_t n_instr;
  size_t layer;          /* for messages */
  pal_plan_stats_t *st;
  uint64_t runs;
  uint32_t **rec_words;  /* recording: the one program */
  size_t *rec_n;
  bool recorded;
} exec_t;

static pal_status_t ex_flush(exec_t *e) {
  if (e->n_instr == 0) return PAL_STATUS_OK;
  pal_isa_instr_t end;
  pal_isa_instr_initialize(&end, PAL_ISA_OP_END);
  PAL_RETURN_IF_ERROR(pal_isa_encode(&end, e->prog + 4 * e->n_instr));
  size_t words = 4 * (e->n_instr + 1);
  e->n_instr = 0;
  e->runs++;
  e->st->kernel_runs++;
  e->st->bytes_to_device += words * 4;
  if (e->rec_words) {
    if (e->recorded)
      return pal_status_make(PAL_UNIMPLEMENTED,
                             "layer %zu: the plan needs more than one kernel run per M chunk", e->layer);
    e->recorded = true;
    *e->rec_words = malloc(words * sizeof(uint32_t));
    if (!*e->rec_words) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a program");
    memcpy(*e->rec_words, e->prog, words * sizeof(uint32_t));
    *e->rec_n = words;
    return PAL_STATUS_OK;
  }
  if (!e->dev) return PAL_STATUS_OK;
  PAL_RETURN_IF_ERROR(pal_status_annotate(pal_device_load_program(e->dev, 0, e->prog, words),
                                          "layer %zu: loading a program of %zu instructions: ", e->layer,
                                          words / 4));
  pal_tile_status_t ts;
  PAL_RETURN_IF_ERROR(pal_status_annotate(pal_device_run(e->dev, 0, PAL_PLAN_RUN_TIMEOUT_MS, &ts),
                                          "layer %zu: running a kernel: ", e->layer));
  if (ts.error != PAL_TILE_ERR_NONE || !ts.done)
    return pal_status_make(PAL_INTERNAL, "%s: layer %zu: the kernel stopped with %s at pc %u (compiler bug)",
                           e->uri, e->layer, pal_tile_error_name(ts.error), ts.err_pc);
  return PAL_STATUS_OK;
}

static pal_status_t ex_emit(exec_t *e, const pal_isa_instr_t *in) {
  if (e->rec_words && e->recorded)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "layer %zu: the plan needs more than one kernel run per M chunk", e->layer);
  if (e->n_instr + 1 >= e->plan->cfg.imem_depth) PAL_RETURN_IF_ERROR(ex_flush(e));
  PAL_RETURN_IF_ERROR(pal_status_annotate(pal_isa_encode(in, e->prog + 4 * e->n_instr),
                                          "layer %zu: encoding a %s: ", e->layer,
                                          pal_isa_opcode_name(in->opcode)));
  e->n_instr++;
  return PAL_STATUS_OK;
}

/* A host write: whatever is pending runs first, since it may read the region. */
static pal_status_t ex_write(exec_t *e, pal_tile_region_t region, uint32_t pe, uint64_t index,
                             size_t count, const void *data) {
  PAL_RETURN_IF_ERROR(ex_flush(e));
  uint64_t bytes = (uint64_t)count * pal_tile_region_element_size(region);
  e->st->bytes_to_device += bytes;
  if (region == PAL_TILE_REGION_WMEM_CODES || region == PAL_TILE_REGION_WMEM_SCALES)
    e->st->weight_bytes += bytes;
  if (!e->dev) return PAL_STATUS_OK; /* dry run: counting only */
  return pal_status_annotate(pal_device_write_region(e->dev, region, pe, index, count, data), "layer %zu: ",
                             e->layer);
}

static pal_status_t ex_read(exec_t *e, pal_tile_region_t region, uint64_t index, size_t count,
                            void *out) {
  PAL_RETURN_IF_ERROR(ex_flush(e));
  e->st->bytes_from_device += (uint64_t)count * pal_tile_region_element_size(region);
  if (!e->dev) return PAL_STATUS_OK;
  return pal_status_annotate(pal_device_read_region(e->dev, region, 0, index, count, out), "layer %zu: ",
                             e->layer);
}

void pal_layer_pack_pe(const pal_plan_t *plan, const pal_layer_plan_t *L, uint32_t p, uint32_t t0,
                       uint32_t ntiles, uint32_t kb0, uint32_t kcc, uint8_t *codes, uint8_t *scales) {
  for (uint32_t t = 0; t < ntiles; t++) {
    size_t row = (size_t)(t0 + t) * plan->p + p;
    size_t blk = row * L->w.kblocks + kb0;
    memcpy(codes + (size_t)t * kcc * PAL_B32_BLOCK, L->w.codes + blk * PAL_B32_BLOCK,
           (size_t)kcc * PAL_B32_BLOCK);
    memcpy(scales + (size_t)t * kcc, L->w.scales + blk, kcc);
  }
}

/* Weights of tiles [t0, t0+ntiles) x blocks [kb0, kb0+kcc) at WMEM w_base of every PE. */
static pal_status_t ex_write_weights(exec_t *e, const pal_layer_plan_t *L, uint32_t t0,
                                     uint32_t ntiles, uint32_t kb0, uint32_t kcc, uint32_t w_base) {
  PAL_RETURN_IF_ERROR(ex_flush(e));
  size_t blocks = (size_t)ntiles * kcc;
  if (!e->dev) {
    for (uint32_t p = 0; p < e->plan->p; p++) {
      PAL_RETURN_IF_ERROR(ex_write(e, PAL_TILE_REGION_WMEM_CODES, p, 0, blocks * PAL_B32_BLOCK, NULL));
      PAL_RETURN_IF_ERROR(ex_write(e, PAL_TILE_REGION_WMEM_SCALES, p, 0, blocks, NULL));
    }
    return PAL_STATUS_OK;
  }
  uint8_t *codes = malloc(blocks * PAL_B32_BLOCK), *scales = malloc(blocks);
  pal_status_t st = PAL_STATUS_OK;
  if (!codes || !scales) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a weight unit");
  for (uint32_t p = 0; !st && p < e->plan->p; p++) {
    pal_layer_pack_pe(e->plan, L, p, t0, ntiles, kb0, kcc, codes, scales);
    st = ex_write(e, PAL_TILE_REGION_WMEM_CODES, p, (uint64_t)w_base * PAL_B32_BLOCK,
                  blocks * PAL_B32_BLOCK, codes);
    if (!st) st = ex_write(e, PAL_TILE_REGION_WMEM_SCALES, p, w_base, blocks, scales);
  }
  free(codes);
  free(scales);
  return st;
}

/* Rows [0, m) x blocks [kb0, kb0+kcc) of `a` into ABUF at `base`, stride kcc. */
static pal_status_t ex_write_acts(exec_t *e, const pal_b32_matrix_t *a, uint32_t m, uint32_t kb0,
                                  uint32_t kcc, uint32_t base) {
  PAL_RETURN_IF_ERROR(ex_flush(e));
  if (!e->dev) {
    PAL_RETURN_IF_ERROR(ex_write(e, PAL_TILE_REGION_ABUF_CODES, 0, 0, (size_t)m * kcc * PAL_B32_BLOCK, NULL));
    return ex_write(e, PAL_TILE_REGION_ABUF_SCALES, 0, 0, (size_t)m * kcc, NULL);
  }
  if (kb0 == 0 && kcc == a->kblocks) {
    PAL_RETURN_IF_ERROR(ex_write(e, PAL_TILE_REGION_ABUF_CODES, 0, (uint64_t)base * PAL_B32_BLOCK,
                                 (size_t)m * kcc * PAL_B32_BLOCK, a->codes));
    return ex_write(e, PAL_TILE_REGION_ABUF_SCALES, 0, base, (size_t)m * kcc, a->scales);
  }
  size_t blocks = (size_t)m * kcc;
  uint8_t *codes = malloc(blocks * PAL_B32_BLOCK), *scales = malloc(blocks);
  pal_status_t st = PAL_STATUS_OK;
  if (!codes || !scales) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for an activation chunk");
  for (uint32_t r = 0; !st && r < m; r++) {
    size_t src = (size_t)r * a->kblocks + kb0;
    memcpy(codes + (size_t)r * kcc * PAL_B32_BLOCK, a->codes + src * PAL_B32_BLOCK,
           (size_t)kcc * PAL_B32_BLOCK);
    memcpy(scales + (size_t)r * kcc, a->scales + src, kcc);
  }
  if (!st)
    st = ex_write(e, PAL_TILE_REGION_ABUF_CODES, 0, (uint64_t)base * PAL_B32_BLOCK, blocks * PAL_B32_BLOCK, codes);
  if (!st) st = ex_write(e, PAL_TILE_REGION_ABUF_SCALES, 0, base, blocks, scales);
  free(codes);
  free(scales);
  return st;
}

static pal_status_t ex_write_bias(exec_t *e, const pal_layer_plan_t *L, uint32_t n0, uint32_t words,
                                  uint32_t base) {
  if (!e->dev) return ex_write(e, PAL_TILE_REGION_BIAS, 0, base, words, NULL);
  uint32_t *bits = malloc((size_t)words * sizeof(uint32_t));
  if (!bits) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a bias");
  for (uint32_t j = 0; j < words; j++) bits[j] = pal_f32_bits(L->bias[n0 + j]);
  pal_status_t st = ex_write(e, PAL_TILE_REGION_BIAS, 0, base, words, bits);
  free(bits);
  return st;
}

/* Whether the tile reads the layer's bias: a GEMM that starts from it, or
 * POST; without a POST unit the host adds a post-bias itself. */
static bool bias_on_chip(const pal_plan_t *plan, const pal_layer_plan_t *L) {
  return L->bias && !plan->cfg.no_accu && (L->bias_mode == PAL_BIAS_START || !plan->cfg.no_post);
}

/* What POST would have done with FP32 output, on the host, for a tile
 * without a POST unit (pal_tile_config_t.no_post): m rows of sums (row r
 * at bits + r * stride, NaR flags alike) for outputs [n0, n0 + ncount) go
 * to out (m x N), a NaR as PAL_TILE_FP32_NAR, as POST writes OBUF: the same
 * pal_postprocess the emulator's POST applies. */
static void host_postprocess(const pal_layer_plan_t *L, uint32_t m, uint32_t n0, uint32_t ncount,
                             size_t stride, const uint32_t *bits, const uint8_t *nar, float *out) {
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  bool bias_post = L->bias && L->bias_mode == PAL_BIAS_POST;
  epi.bias = bias_post ? L->bias : NULL;
  epi.bias_mode = PAL_BIAS_POST;
  epi.act = L->act;
  epi.clip_lo = L->clip_lo;
  epi.clip_hi = L->clip_hi;
  for (uint32_t r = 0; r < m; r++)
    for (uint32_t j = 0; j < ncount; j++) {
      size_t a = (size_t)r * stride + j;
      bool is_nar = nar[a] != 0;
      float v = pal_postprocess(pal_f32_from_bits(bits[a]), bias_post ? L->bias[n0 + j] : 0.0f, &epi, &is_nar);
      out[(size_t)r * L->n + n0 + j] = is_nar ? pal_f32_from_bits(PAL_TILE_FP32_NAR) : v;
    }
}

/* A tile without a POST unit: the N group's GEMMs left m rows of `rows`
 * sums at ACC 0 (row r at r * rows), which the host reads and post-processes. */
static pal_status_t ex_host_post(exec_t *e, const pal_layer_plan_t *L, uint32_t m, uint32_t n0,
                                 uint32_t ncount, uint32_t rows, float *out) {
  size_t words = (size_t)m * rows;
  uint32_t *acc = NULL;
  uint8_t *nar = NULL;
  if (e->dev) {
    acc = malloc(words * sizeof *acc);
    nar = malloc(words);
    if (!acc || !nar) {
      free(acc);
      free(nar);
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "layer %zu: out of memory for ACC", e->layer);
    }
  }
  pal_status_t st = ex_read(e, PAL_TILE_REGION_ACC, 0, words, acc);
  if (!st) st = ex_read(e, PAL_TILE_REGION_ACC_NAR, 0, words, nar);
  e->st->host_post_outputs += (uint64_t)m * ncount;
  if (!st && e->dev && out) host_postprocess(L, m, n0, ncount, rows, acc, nar, out);
  free(acc);
  free(nar);
  return st;
}

/* A tile without accumulate units (pal_tile_config_t.no_accu, docs/isa.md
 * §1): the K chunk's GEMM (blocks [kb0, kb0 + kcc) of N-tiles [t0, t0 +
 * ntg)) left kcc planes of m x ntg*P raw words at ACC 0. The host reads
 * them and folds, in block order, the words of the blocks the walk visited
 * (a non-zero or NaR activation code, an activation scale of 255, a NaR
 * weight block in some PE of the N-tile: it wrote them all) into the
 * running sums sum/nar (m x ncount), as the accumulate units would have
 * (pal_tile_raw_add). Other words are whatever ACC held. */
static pal_status_t ex_raw_fold(exec_t *e, const pal_layer_plan_t *L, const pal_b32_matrix_t *in,
                                uint32_t m, uint32_t t0, uint32_t ntg, uint32_t kb0, uint32_t kcc,
                                uint32_t ncount, uint32_t *sum, uint8_t *nar) {
  const uint32_t P = e->plan->p, rows = ntg * P;
  size_t words = (size_t)kcc * m * rows;
  uint32_t *raw = NULL;
  uint8_t *rnar = NULL, *wnar = NULL;
  if (e->dev) {
    raw = malloc(words * sizeof *raw);
    rnar = malloc(words);
    wnar = malloc(ntg);
    if (!raw || !rnar || !wnar) {
      free(raw), free(rnar), free(wnar);
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "layer %zu: out of memory for ACC", e->layer);
    }
  }
  pal_status_t st = ex_read(e, PAL_TILE_REGION_ACC, 0, words, raw);
  if (!st) st = ex_read(e, PAL_TILE_REGION_ACC_NAR, 0, words, rnar);
  if (!st && e->dev) {
    for (uint32_t kb = 0; kb < kcc; kb++) {
      for (uint32_t t = 0; t < ntg; t++) {
        wnar[t] = 0;
        for (uint32_t p = 0; p < P; p++) {
          size_t blk = ((size_t)(t0 + t) * P + p) * L->w.kblocks + kb0 + kb;
          const uint8_t *wc = L->w.codes + blk * PAL_B32_BLOCK;
          wnar[t] |= L->w.scales[blk] == PAL_SCALE_NAR || memchr(wc, PAL_CODE8_NAR, PAL_B32_BLOCK) != NULL;
        }
      }
      for (uint32_t r = 0; r < m; r++) {
        size_t ab = (size_t)r * in->kblocks + kb0 + kb;
        const uint8_t *ac = in->codes + ab * PAL_B32_BLOCK;
        bool avis = in->scales[ab] == PAL_SCALE_NAR;
        for (int i = 0; i < PAL_B32_BLOCK && !avis; i++) avis = ac[i] != 0;
        for (uint32_t j = 0; j < ncount; j++) {
          if (!avis && !wnar[j / P]) continue;
          size_t at = ((size_t)kb * m + r) * rows + j, o = (size_t)r * ncount + j;
          bool is_nar = nar[o] != 0;
          float v = pal_tile_raw_add(pal_f32_from_bits(sum[o]), raw[at], rnar[at] != 0, &is_nar);
          sum[o] = is_nar ? PAL_TILE_FP32_NAR : pal_f32_bits(v);
          nar[o] = is_nar;
        }
      }
    }
  }
  free(raw), free(rnar), free(wnar);
  return st;
}

/* One layer for one M chunk of m rows. `in` is the host copy of the input
 * (used unless it is on chip); `out` (m x N FP32) receives the output
 * unless it stays on chip. */
static pal_status_t ex_layer(exec_t *e, pal_layer_plan_t *L, const pal_layer_plan_t *next,
                             const pal_b32_matrix_t *in, uint32_t m, float *out) {
  const uint32_t P = e->plan->p;
  if (!L->in_on_chip && L->in_whole) PAL_RETURN_IF_ERROR(ex_write_acts(e, in, m, 0, L->kb, L->in_base));
  if (L->wmode == PAL_WMODE_LAYER)
    PAL_RETURN_IF_ERROR(ex_write_weights(e, L, 0, L->nt, 0, L->kb, L->w_base));
  if (bias_on_chip(e->plan, L) && L->bias_whole && !L->bias_resident)
    PAL_RETURN_IF_ERROR(ex_write_bias(e, L, 0, L->nt * P, L->bias_base));
  uint32_t *obuf = NULL;
  pal_status_t st = PAL_STATUS_OK;
  const bool host_post = e->plan->cfg.no_post != 0, raw = e->plan->cfg.no_accu != 0;
  if (!L->out_on_chip && !host_post && e->dev) {
    obuf = malloc((size_t)m * (L->obuf_whole ? L->n : L->ntg * P) * sizeof(uint32_t));
    if (!obuf) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for an output chunk");
  }
  for (uint32_t g = 0; !st && g < L->ng; g++) {
    uint32_t t0 = g * L->ntg, ntg_g = min_u32(L->ntg, L->nt - t0);
    uint32_t n0 = t0 * P, ncount = min_u32(L->n - n0, ntg_g * P);
    uint32_t bias_base = L->bias_whole ? L->bias_base + n0 : L->bias_base;
    if (bias_on_chip(e->plan, L) && !L->bias_whole) st = ex_write_bias(e, L, n0, ntg_g * P, L->bias_base);
    /* without accumulate units the host keeps the group's running sums,
     * from the bias (a start bias) or +0 */
    uint32_t *sum = NULL;
    uint8_t *sum_nar = NULL;
    if (raw && e->dev) {
      sum = malloc((size_t)m * ncount * sizeof *sum);
      sum_nar = malloc((size_t)m * ncount);
      if (!sum || !sum_nar) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for an output chunk");
      for (uint32_t r = 0; !st && r < m; r++)
        for (uint32_t j = 0; j < ncount; j++) {
          bool is_nar = false;
          float v = L->bias && L->bias_mode == PAL_BIAS_START ? pal_fp32_start(L->bias[n0 + j], &is_nar) : 0.0f;
          sum[(size_t)r * ncount + j] = pal_f32_bits(v);
          sum_nar[(size_t)r * ncount + j] = is_nar;
        }
    }
    for (uint32_t ck = 0; !st && ck < L->nk; ck++) {
      uint32_t kb0 = ck * L->kc, kcc = min_u32(L->kc, L->kb - kb0);
      uint32_t w_base = L->w_base + t0 * L->kb;
      if (L->wmode == PAL_WMODE_STREAM) {
        st = ex_write_weights(e, L, t0, ntg_g, kb0, kcc, L->w_base);
        w_base = L->w_base;
      }
      uint32_t a_base = L->in_base + kb0, a_stride = L->kb;
      if (!st && !L->in_whole) {
        st = ex_write_acts(e, in, m, kb0, kcc, 0);
        a_base = 0;
        a_stride = kcc;
      }
      if (st) break;
      pal_isa_instr_t gm;
      pal_isa_instr_initialize(&gm, PAL_ISA_OP_GEMM);
      gm.init = raw      ? PAL_ISA_INIT_ZERO
                : ck > 0 ? PAL_ISA_INIT_ACC
                         : (L->bias && L->bias_mode == PAL_BIAS_START ? PAL_ISA_INIT_BIAS : PAL_ISA_INIT_ZERO);
      gm.n_tiles = ntg_g;
      gm.bias_base = gm.init == PAL_ISA_INIT_BIAS ? bias_base : 0;
      gm.a_base = a_base;
      gm.a_stride = a_stride;
      gm.k_blocks = kcc;
      gm.m_count = m;
      gm.acc_base = 0;
      gm.w_base = w_base;
      st = ex_emit(e, &gm);
      if (!st && raw) st = ex_raw_fold(e, L, in, m, t0, ntg_g, kb0, kcc, ncount, sum, sum_nar);
    }
    if (!st && raw) {
      e->st->host_post_outputs += (uint64_t)m * ncount;
      if (e->dev && out) host_postprocess(L, m, n0, ncount, ncount, sum, sum_nar, out);
    }
    free(sum);
    free(sum_nar);
    if (st) break;
    if (host_post) {
      if (!raw) st = ex_host_post(e, L, m, n0, ncount, ntg_g * P, out);
      if (st) break;
      continue;
    }
    if (L->act == PAL_ACT_CLIP) {
      pal_isa_instr_t sr;
      pal_isa_instr_initialize(&sr, PAL_ISA_OP_SETR);
      sr.reg = PAL_ISA_SETR_CLIP_LO;
      sr.value = pal_f32_bits(L->clip_lo);
      st = ex_emit(e, &sr);
      sr.reg = PAL_ISA_SETR_CLIP_HI;
      sr.value = pal_f32_bits(L->clip_hi);
      if (!st) st = ex_emit(e, &sr);
      if (st) break;
    }
    pal_isa_instr_t po;
    pal_isa_instr_initialize(&po, PAL_ISA_OP_POST);
    po.act = L->act == PAL_ACT_RELU ? PAL_ISA_ACT_RELU : L->act == PAL_ACT_CLIP ? PAL_ISA_ACT_CLIP : PAL_ISA_ACT_NONE;
    po.bias_post = L->bias && L->bias_mode == PAL_BIAS_POST;
    po.bias_base = po.bias_post ? bias_base : 0;
    po.n_count = ncount;
    po.acc_base = 0;
    po.m_count = m;
    if (L->out_on_chip) {
      po.out_fmt = PAL_ISA_OUT_PAL8;
      po.out_stride = next->kb;
      po.out_base = next->in_base + n0 / PAL_B32_BLOCK;
    } else {
      po.out_fmt = PAL_ISA_OUT_FP32;
      po.out_stride = L->obuf_whole ? L->n : ncount;
      po.out_base = L->obuf_whole ? n0 : 0;
    }
    st = ex_emit(e, &po);
    if (!st && !L->out_on_chip && !L->obuf_whole) {
      st = ex_read(e, PAL_TILE_REGION_OBUF, 0, (size_t)m * ncount, obuf);
      if (!st && obuf)
        for (uint32_t r = 0; r < m; r++)
          memcpy(out + (size_t)r * L->n + n0, obuf + (size_t)r * ncount, (size_t)ncount * 4);
    }
  }
  if (!st && !L->out_on_chip && !host_post && L->obuf_whole) {
    st = ex_read(e, PAL_TILE_REGION_OBUF, 0, (size_t)m * L->n, obuf);
    if (!st && obuf) memcpy(out, obuf, (size_t)m * L->n * 4);
  }
  free(obuf);
  return st;
}

static pal_status_t check_device(const pal_plan_t *plan, pal_device_t *device) {
  pal_tile_device_t *tile = pal_device_tile(device);
  const pal_tile_config_t *d = &tile->config, *p = &plan->cfg;
  const char *uri = pal_device_uri(device);
  if (d->rows != p->rows || d->cols != p->cols)
    return pal_status_make(PAL_FAILED_PRECONDITION, "%s: the device is a %u x %u tile, the plan is for %u x %u",
                           uri, d->rows, d->cols, p->rows, p->cols);
  struct {
    const char *name;
    uint32_t dev, plan;
  } b[] = {{"IMEM_DEPTH", d->imem_depth, p->imem_depth}, {"ABUF_BLOCKS", d->abuf_blocks, p->abuf_blocks},
           {"WMEM_BLOCKS", d->wmem_blocks, p->wmem_blocks}, {"ACC_DEPTH", d->acc_depth, p->acc_depth},
           {"BIAS_DEPTH", d->bias_depth, p->bias_depth}, {"OBUF_DEPTH", d->obuf_depth, p->obuf_depth}};
  if (d->no_post && !p->no_post)
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "%s: the device's tile has no POST unit, the plan was made for one that has",
                           uri);
  /* raw block sums read as FP32 sums, or the other way round, would be
   * silently wrong */
  if (d->no_accu != p->no_accu)
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "%s: the device's tile %s accumulate units, the plan was made for one that %s", uri,
                           d->no_accu ? "has no" : "has", p->no_accu ? "has none" : "has them");
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
    if (b[i].dev < b[i].plan)
      return pal_status_make(PAL_FAILED_PRECONDITION, "%s: the device's %s is %u, the plan needs %u", uri,
                             b[i].name, b[i].dev, b[i].plan);
  return PAL_STATUS_OK;
}

pal_status_t pal_plan_execute(pal_plan_t *plan, pal_device_t *device, const float *x, uint32_t batch,
                              float *y, pal_plan_stats_t *stats, uint32_t **out_words, size_t *out_n_words) {
  exec_t e = {0};
  pal_plan_stats_t local;
  memset(&local, 0, sizeof local);
  e.plan = plan;
  e.dev = device;
  e.uri = device ? pal_device_uri(device) : "(no device)";
  e.st = stats ? stats : &local;
  e.rec_words = out_words;
  e.rec_n = out_n_words;
  if (out_words) *out_words = NULL;
  e.prog = malloc((size_t)plan->cfg.imem_depth * 4 * sizeof(uint32_t));
  if (!e.prog) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a program");
  size_t n = plan->n_layers;
  uint32_t mc = plan->mc;
  /* host buffers: the chunk's input (encoded) and one FP32 spill buffer */
  uint32_t max_n = 0;
  for (size_t i = 0; i < n; i++) max_n = plan->layers[i].n > max_n ? plan->layers[i].n : max_n;
  float *spill = device ? malloc((size_t)mc * max_n * sizeof(float)) : NULL;
  pal_b32_matrix_t in;
  memset(&in, 0, sizeof in);
  pal_status_t st = PAL_STATUS_OK;
  if (device && !spill) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for activations");
  /* resident weights and biases: once per run */
  for (size_t i = 0; !st && i < n; i++) {
    pal_layer_plan_t *L = &plan->layers[i];
    e.layer = i;
    if (L->wmode == PAL_WMODE_RESIDENT) st = ex_write_weights(&e, L, 0, L->nt, 0, L->kb, L->w_base);
    if (!st && bias_on_chip(plan, L) && L->bias_resident)
      st = ex_write_bias(&e, L, 0, L->nt * plan->p, L->bias_base);
  }
  for (uint32_t r0 = 0; !st && r0 < batch; r0 += mc) {
    uint32_t m = min_u32(mc, batch - r0);
    if (device) {
      pal_b32_matrix_release(&in);
      st = pal_b32_matrix_create(m, plan->layers[0].k, &in);
      if (st) break;
      pal_b32_matrix_encode(x + (size_t)r0 * plan->layers[0].k, plan->layers[0].k, &in);
    }
    for (size_t i = 0; !st && i < n; i++) {
      pal_layer_plan_t *L = &plan->layers[i];
      e.layer = i;
      bool last = i + 1 == n;
      float *out = last ? (y ? y + (size_t)r0 * L->n : NULL) : spill;
      st = ex_layer(&e, L, last ? NULL : &plan->layers[i + 1], &in, m, out);
      if (!st && !last && !L->out_on_chip) {
        e.st->spills++;
        if (device) {
          /* the host re-encodes exactly as POST would have on chip */
          pal_b32_matrix_release(&in);
          st = pal_b32_matrix_create(m, L->n, &in);
          if (!st) pal_b32_matrix_encode(spill, L->n, &in);
        }
      }
    }
  }
  if (!st) st = ex_flush(&e);
  pal_b32_matrix_release(&in);
  free(spill);
  free(e.prog);
  if (st && out_words) {
    free(*out_words);
    *out_words = NULL;
  }
  return st;
}

pal_status_t pal_plan_run(pal_plan_t *plan, pal_device_t *device, const float *x, uint32_t batch,
                          float *y, pal_plan_stats_t *out_stats) {
  if (!plan || !device || !x || !y)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_run: plan, device, x and y must not be NULL");
  if (batch == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_run: batch is 0");
  PAL_RETURN_IF_ERROR(check_device(plan, device));
  pal_plan_stats_t stats;
  memset(&stats, 0, sizeof stats);
  PAL_RETURN_IF_ERROR(pal_device_reset(device));
  pal_link_stats_t l0, l1;
  pal_device_link_stats(device, &l0);
  pal_status_t st = pal_plan_execute(plan, device, x, batch, y, &stats, NULL, NULL);
  if (!st) st = pal_device_read_counters(device, &stats.counters);
  pal_device_link_stats(device, &l1);
  stats.link_requests = l1.requests - l0.requests;
  stats.wire_bytes_tx = l1.tx_bytes - l0.tx_bytes;
  stats.wire_bytes_rx = l1.rx_bytes - l0.rx_bytes;
  if (out_stats) *out_stats = stats;
  return st;
}

/* ---- golden-model expectation ------------------------------------------------ */

pal_status_t pal_plan_reference(const pal_plan_t *plan, const float *x, uint32_t batch, float *y) {
  if (!plan || !x || !y || batch == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_reference: plan, x, y must be set and batch >= 1");
  size_t n = plan->n_layers;
  const float *cur = x;
  float *buf = NULL;
  pal_status_t st = PAL_STATUS_OK;
  for (size_t i = 0; !st && i < n; i++) {
    const pal_layer_plan_t *L = &plan->layers[i];
    pal_b32_matrix_t a;
    st = pal_b32_matrix_create(batch, L->k, &a);
    if (st) break;
    pal_b32_matrix_encode(cur, L->k, &a);
    float *out = i + 1 == n ? y : malloc((size_t)batch * L->n * sizeof(float));
    if (!out) {
      pal_b32_matrix_release(&a);
      st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for layer %zu's reference output", i);
      break;
    }
    pal_b32_matrix_t w = L->w;
    w.rows = L->n;
    pal_epilogue_t ep;
    pal_epilogue_initialize(&ep);
    ep.bias = L->bias;
    ep.bias_mode = L->bias_mode;
    ep.act = L->act;
    ep.clip_lo = L->clip_lo;
    ep.clip_hi = L->clip_hi;
    pal_gemm_ref(&a, &w, &ep, out, L->n);
    pal_b32_matrix_release(&a);
    free(buf);
    buf = out == y ? NULL : out;
    cur = out;
  }
  free(buf);
  return st;
}

/* ---- describe ------------------------------------------------------------------ */

typedef struct sbuf {
  char *p;
  size_t len, cap;
  bool oom;
} sbuf_t;

static void sb_printf(sbuf_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *s, const char *fmt, ...) {
  if (s->oom) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if (s->len + (size_t)k + 1 > s->cap) {
    size_t cap = (s->cap ? s->cap * 2 : 1024) + (size_t)k;
    char *q = realloc(s->p, cap);
    if (!q) {
      s->oom = true;
      return;
    }
    s->p = q;
    s->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
  va_end(ap);
  s->len += (size_t)k;
}

static const char *act_name(pal_activation_t a) {
  return a == PAL_ACT_RELU ? "relu" : a == PAL_ACT_CLIP ? "clip" : "none";
}

pal_status_t pal_plan_describe(const pal_plan_t *plan, char **out_text) {
  if (!plan || !out_text) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_describe: NULL argument");
  *out_text = NULL;
  const pal_tile_config_t *c = &plan->cfg;
  pal_plan_stats_t one, all;
  memset(&one, 0, sizeof one);
  memset(&all, 0, sizeof all);
  PAL_RETURN_IF_ERROR(pal_plan_execute((pal_plan_t *)plan, NULL, NULL, plan->mc, NULL, &one, NULL, NULL));
  PAL_RETURN_IF_ERROR(pal_plan_execute((pal_plan_t *)plan, NULL, NULL, plan->max_batch, NULL, &all, NULL, NULL));
  sbuf_t s = {0};
  sb_printf(&s, "plan: %zu dense layer(s) %u -> %u on a %u x %u tile (P %u; IMEM %u, ABUF %u, WMEM %u, ACC %u, BIAS %u, OBUF %u%s%s)\n",
            plan->n_layers, plan->layers[0].k, plan->layers[plan->n_layers - 1].n, c->rows, c->cols, plan->p,
            c->imem_depth, c->abuf_blocks, c->wmem_blocks, c->acc_depth, c->bias_depth, c->obuf_depth,
            c->no_post ? "; no POST unit: bias-after, activation and re-encoding on the host (CPU)" : "",
            c->no_accu ? "; no accumulate units: the FP32 accumulation of the raw block sums on the host (CPU)" : "");
  sb_printf(&s, "  M chunk %u rows (max_batch %u: %u chunk(s)); weights %s; kernel runs: %" PRIu64
                " per full chunk, %" PRIu64 " for max_batch; %s\n",
            plan->mc, plan->max_batch, div_up(plan->max_batch, plan->mc),
            plan->resident ? "all resident in WMEM (loaded once per run)" : "as each layer says",
            one.kernel_runs, all.kernel_runs,
            pal_plan_is_single_kernel(plan) ? "single kernel (.palk can hold it)" : "several kernel runs (no single .palk)");
  for (size_t i = 0; i < plan->n_layers; i++) {
    const pal_layer_plan_t *L = &plan->layers[i];
    sb_printf(&s, "  layer %zu: %u -> %u (K %u blocks, %u N-tile(s)), bias %s, act %s", i, L->k, L->n, L->kb,
              L->nt, !L->bias ? "none" : L->bias_mode == PAL_BIAS_START ? "start" : "post", act_name(L->act));
    if (L->act == PAL_ACT_CLIP) sb_printf(&s, " [%g, %g]", (double)L->clip_lo, (double)L->clip_hi);
    sb_printf(&s, "\n    weights: %s, WMEM base %u, %u K chunk(s) of <= %u blocks, %u N group(s) of <= %u tile(s)\n",
              L->wmode == PAL_WMODE_RESIDENT ? "resident (loaded once per run)" : L->wmode == PAL_WMODE_LAYER ? "whole layer per M chunk"
                                                                                  : "streamed per (N group, K chunk)",
              L->w_base, L->nk, L->kc, L->ng, L->ntg);
    sb_printf(&s, "    input: %s; output: %s\n",
              L->in_on_chip ? "on chip (previous POST, PAL8-B32)"
              : L->in_whole ? "from host, whole chunk in ABUF"
                            : "from host, streamed through ABUF per K chunk (K too large for ABUF)",
              c->no_accu ? (i + 1 == plan->n_layers ? "raw block sums read from ACC per K chunk, accumulated and POST on the host"
                                                    : "SPILLED: raw block sums read from ACC per K chunk, accumulation, POST and re-encoding on the host")
              : c->no_post ? (i + 1 == plan->n_layers ? "FP32 sums read from ACC per N group, POST on the host"
                                                    : "SPILLED: FP32 sums read from ACC per N group, POST and re-encoding on the host")
              : i + 1 == plan->n_layers ? (L->obuf_whole ? "FP32 via OBUF, read per M chunk" : "FP32 via OBUF, read per N group")
              : L->out_on_chip        ? "on chip: POST writes PAL8-B32 into ABUF for the next layer"
                                      : "SPILLED through the host (FP32 read, re-encoded to PAL8-B32)");
  }
  if (s.oom) {
    free(s.p);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a plan description");
  }
  *out_text = s.p;
  return PAL_STATUS_OK;
}
