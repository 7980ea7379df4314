/* The pal provider: Gemm, MatMul and Conv with constant weights, with a
 * following bias Add and ReLU/Clip fused, run on a device (emu://, sim://,
 * ...) through the compiler layer (include/pal/compile.h). Consecutive
 * dense layers become one planned chain whose activations stay on chip;
 * FP32 <-> PAL8-B32 conversion at the chain's edges is the plan's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/driver.h"
#include "provider.h"

#ifdef PAL_RT_HAVE_COMPILER
#include "pal/compile.h"
#endif

#define IS(name) (strcmp(n->op, name) == 0)

typedef struct pal_ctx {
  char uri[PAL_URI_MAX];
  pal_device_t *dev;
  pal_tile_config_t geometry;
} pal_ctx_t;

static const pal_value_t *val(const pal_graph_t *g, int id) { return id >= 0 ? &g->values[id] : NULL; }

/* Can node `node` be the core of a tile layer (Gemm, MatMul, Conv)? */
static bool core_ok(const pal_graph_t *g, size_t node, char *why, size_t size) {
  const pal_node_t *n = &g->nodes[node];
  const pal_value_t *x = val(g, n->in[0]);
  if (IS("Gemm") || IS("MatMul")) {
    const pal_tensor_t *w = pal_rt_const_input(g, n, 1);
    if (!w || w->dtype != PAL_DTYPE_FP32 || w->rank != 2) {
      snprintf(why, size, "the weights (input 1) are not a constant f32 matrix");
      return false;
    }
    if (x->dtype != PAL_DTYPE_FP32 || x->shape.rank < (IS("Gemm") ? 2 : 2) ||
        (IS("Gemm") && x->shape.rank != 2)) {
      snprintf(why, size, "input 0 is not a known f32 matrix (rank %d)", x->shape.rank);
      return false;
    }
    if (IS("Gemm")) {
      /* alpha and beta are folded into the constant weights and bias;
       * a transposed activation would need a host transpose per run. */
      if (pal_node_attr_int(n, "transA", 0)) {
        snprintf(why, size, "transA = 1 (transposed activations)");
        return false;
      }
      if (n->n_in > 2 && n->in[2] >= 0) {
        const pal_tensor_t *c = pal_rt_const_input(g, n, 2);
        int64_t nn = pal_node_attr_int(n, "transB", 0) ? w->dims[0] : w->dims[1];
        if (!c || c->dtype != PAL_DTYPE_FP32 || ((int64_t)c->count != nn && c->count != 1) ||
            (c->rank == 2 && c->dims[0] != 1) || c->rank > 2) {
          snprintf(why, size, "the bias C is not a constant scalar or vector of N = %lld (a "
                   "per-row bias does not fit the tile's per-column bias)", (long long)nn);
          return false;
        }
      }
    }
    return true;
  }
  if (IS("Conv")) {
    const pal_tensor_t *w = pal_rt_const_input(g, n, 1);
    if (!w || w->dtype != PAL_DTYPE_FP32 || w->rank != 4) {
      snprintf(why, size, "the weights are not a constant f32 4-D tensor");
      return false;
    }
    if (x->shape.rank != 4 || x->shape.dims[1] < 0 || x->shape.dims[2] < 0 || x->shape.dims[3] < 0) {
      snprintf(why, size, "input 0 is not 4-D NCHW with known C, H, W");
      return false;
    }
    if (pal_node_attr_int(n, "group", 1) != 1) {
      snprintf(why, size, "grouped convolution (group %lld)", (long long)pal_node_attr_int(n, "group", 1));
      return false;
    }
    const char *ap = pal_node_attr_string(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) {
      snprintf(why, size, "auto_pad %s", ap);
      return false;
    }
    if (n->n_in > 2 && n->in[2] >= 0) {
      const pal_tensor_t *b = pal_rt_const_input(g, n, 2);
      if (!b || (int64_t)b->count != w->dims[0]) {
        snprintf(why, size, "the bias is not a constant vector of M values");
        return false;
      }
    }
    return true;
  }
  snprintf(why, size, "%s is not lowered to the tile (it runs Gemm, MatMul, Conv with fused bias "
           "and ReLU/Clip)", n->op);
  return false;
}

/* The node producing input 0 of `node`, when that value has no other use. */
static int sole_producer(const pal_graph_t *g, size_t node) {
  const pal_node_t *n = &g->nodes[node];
  if (!n->n_in || n->in[0] < 0) return -1;
  int v = n->in[0];
  if (g->values[v].producer < 0 || pal_graph_value_uses(g, v) != 1) return -1;
  return g->values[v].producer;
}

static bool bias_add_ok(const pal_graph_t *g, size_t node, int *out_core) {
  const pal_node_t *n = &g->nodes[node];
  if (!IS("Add") || n->n_in != 2) return false;
  for (int side = 0; side < 2; side++) {
    int v = n->in[side], c = n->in[1 - side];
    if (v < 0 || c < 0) continue;
    int p = g->values[v].producer;
    if (p < 0 || pal_graph_value_uses(g, v) != 1) continue;
    const pal_node_t *pn = &g->nodes[p];
    bool core_no_bias = !strcmp(pn->op, "MatMul") ||
                        (!strcmp(pn->op, "Gemm") && (pn->n_in < 3 || pn->in[2] < 0));
    const pal_tensor_t *b = g->values[c].init;
    const pal_tensor_t *w = pal_rt_const_input(g, pn, 1);
    char why[8];
    if (!core_no_bias || !b || !w || b->dtype != PAL_DTYPE_FP32 || b->rank != 1 ||
        !core_ok(g, (size_t)p, why, sizeof why))
      continue;
    int64_t nn = !strcmp(pn->op, "Gemm") && pal_node_attr_int(pn, "transB", 0) ? w->dims[0] : w->dims[1];
    if ((int64_t)b->count != nn) continue;
    *out_core = p;
    return true;
  }
  return false;
}

static bool pal_can_run(pal_provider_t *p, const pal_graph_t *g, size_t node, char *why,
                        size_t size) {
  (void)p;
  return pal_tile_can_run(g, node, why, size);
}

bool pal_tile_can_run(const pal_graph_t *g, size_t node, char *why, size_t size) {
  const pal_node_t *n = &g->nodes[node];
  int core;
  if (IS("Add")) {
    if (bias_add_ok(g, node, &core)) return true;
    snprintf(why, size, "Add is lowered only as a constant bias right after MatMul/Gemm");
    return false;
  }
  if (IS("Relu") || IS("Clip")) {
    int prod = sole_producer(g, node);
    char tmp[8];
    bool ok = false;
    if (prod >= 0) {
      const pal_node_t *pn = &g->nodes[prod];
      if (!strcmp(pn->op, "Add")) ok = bias_add_ok(g, (size_t)prod, &core);
      else if (!strcmp(pn->op, "Gemm") || !strcmp(pn->op, "MatMul") || !strcmp(pn->op, "Conv"))
        ok = core_ok(g, (size_t)prod, tmp, sizeof tmp);
    }
    if (ok && IS("Clip")) {
      if (g->opset < 11) {
        ok = true;
      } else {
        for (size_t k = 1; k < n->n_in; k++)
          if (n->in[k] >= 0 && (!pal_rt_const_input(g, n, k) || pal_rt_const_input(g, n, k)->dtype != PAL_DTYPE_FP32))
            ok = false;
      }
    }
    if (!ok) {
      snprintf(why, size, "%s runs on the tile only fused right after Gemm/MatMul/Conv "
               "(with constant bounds)", n->op);
      return false;
    }
    return true;
  }
  return core_ok(g, node, why, size);
}

#ifdef PAL_RT_HAVE_COMPILER

typedef struct layer {
  bool conv;
  int in_value, out_value;
  uint32_t k, n;
  float *weights; /* N x K */
  float *bias;
  pal_activation_t act;
  float lo, hi;
  pal_conv2d_t c2d;
  int64_t out_dims[4];
} layer_t;

typedef struct unit {
  bool conv;
  size_t first, count; /* layers */
  int in_value, out_value;
  pal_plan_t *plan;
  pal_conv2d_plan_t *cplan;
  pal_plan_stats_t stats; /* last run */
} unit_t;

typedef struct pal_state {
  layer_t *layers;
  size_t n_layers;
  unit_t *units;
  size_t n_units;
} pal_state_t;

static void state_free(pal_state_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_layers; i++) {
    free(s->layers[i].weights);
    free(s->layers[i].bias);
  }
  for (size_t i = 0; i < s->n_units; i++) {
    pal_plan_destroy(s->units[i].plan);
    pal_conv2d_plan_destroy(s->units[i].cplan);
  }
  free(s->layers);
  free(s->units);
  free(s);
}

static void pal_release_state(pal_provider_t *p, void *state) {
  (void)p;
  state_free(state);
}

static pal_status_t build_layer(const pal_graph_t *g, size_t node, layer_t *L) {
  const pal_node_t *n = &g->nodes[node];
  const pal_tensor_t *w = pal_rt_const_input(g, n, 1);
  memset(L, 0, sizeof *L);
  L->in_value = n->in[0];
  L->out_value = n->out[0];
  L->act = PAL_ACT_NONE;
  if (IS("Conv")) {
    const pal_value_t *x = &g->values[n->in[0]];
    L->conv = true;
    pal_conv2d_initialize(&L->c2d);
    L->c2d.in_channels = (uint32_t)x->shape.dims[1];
    L->c2d.in_h = (uint32_t)x->shape.dims[2];
    L->c2d.in_w = (uint32_t)x->shape.dims[3];
    L->c2d.out_channels = (uint32_t)w->dims[0];
    L->c2d.kernel_h = (uint32_t)w->dims[2];
    L->c2d.kernel_w = (uint32_t)w->dims[3];
    size_t ns, np, nd;
    const int64_t *s = pal_node_attr_ints(n, "strides", &ns);
    const int64_t *pd = pal_node_attr_ints(n, "pads", &np);
    const int64_t *d = pal_node_attr_ints(n, "dilations", &nd);
    if (s && ns == 2) L->c2d.stride_h = (uint32_t)s[0], L->c2d.stride_w = (uint32_t)s[1];
    if (d && nd == 2) L->c2d.dilation_h = (uint32_t)d[0], L->c2d.dilation_w = (uint32_t)d[1];
    if (pd && np == 4)
      L->c2d.pad_top = (uint32_t)pd[0], L->c2d.pad_left = (uint32_t)pd[1],
      L->c2d.pad_bottom = (uint32_t)pd[2], L->c2d.pad_right = (uint32_t)pd[3];
    L->k = (uint32_t)(w->count / (size_t)w->dims[0]);
    L->n = (uint32_t)w->dims[0];
    L->weights = malloc(w->count * sizeof(float));
    if (!L->weights) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(L->weights, w->data, w->count * sizeof(float));
    const pal_tensor_t *b = pal_rt_const_input(g, n, 2);
    if (b) {
      L->bias = malloc(b->count * sizeof(float));
      if (!L->bias) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
      memcpy(L->bias, b->data, b->count * sizeof(float));
    }
    return PAL_STATUS_OK;
  }
  bool trans_b = IS("Gemm") && pal_node_attr_int(n, "transB", 0);
  uint32_t k = (uint32_t)(trans_b ? w->dims[1] : w->dims[0]);
  uint32_t nn = (uint32_t)(trans_b ? w->dims[0] : w->dims[1]);
  L->k = k;
  L->n = nn;
  L->weights = malloc((size_t)k * nn * sizeof(float));
  if (!L->weights) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  if (trans_b) memcpy(L->weights, w->data, (size_t)k * nn * sizeof(float));
  else pal_dense_transpose_weights(w->data, k, nn, L->weights);
  const pal_tensor_t *c = IS("Gemm") ? pal_rt_const_input(g, n, 2) : NULL;
  if (c) { /* beta * C, a scalar broadcast over N */
    float beta = pal_node_attr_float(n, "beta", 1.0f);
    L->bias = malloc(nn * sizeof(float));
    if (!L->bias) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
    for (uint32_t j = 0; j < nn; j++)
      L->bias[j] = beta * ((const float *)c->data)[c->count == 1 ? 0 : j];
  }
  float alpha = IS("Gemm") ? pal_node_attr_float(n, "alpha", 1.0f) : 1.0f;
  if (alpha != 1.0f)
    for (size_t i = 0; i < (size_t)k * nn; i++) L->weights[i] *= alpha;
  return PAL_STATUS_OK;
}

/* The batch to size plans for: the known leading rows, else 64. */
static uint32_t plan_batch(const pal_graph_t *g, int value, uint32_t k) {
  const pal_value_t *v = &g->values[value];
  if (!pal_shape_known(&v->shape) || v->shape.rank < 1) return 64;
  size_t c = pal_shape_count(&v->shape);
  if (v->shape.rank == 4) return v->shape.dims[0] > 0 ? (uint32_t)v->shape.dims[0] : 1;
  size_t rows = k ? c / k : 1;
  return rows ? (uint32_t)(rows > 4096 ? 4096 : rows) : 1;
}

static pal_status_t pal_prepare(pal_provider_t *p, const pal_graph_t *g, const size_t *nodes,
                                size_t n_nodes, void **out_state) {
  pal_ctx_t *cx = p->ctx;
  *out_state = NULL;
  pal_state_t *s = calloc(1, sizeof *s);
  if (!s) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  s->layers = calloc(n_nodes, sizeof *s->layers);
  s->units = calloc(n_nodes, sizeof *s->units);
  pal_status_t st = !s->layers || !s->units ? pal_status_make(PAL_RESOURCE_EXHAUSTED, "oom") : NULL;
  char lbl[160];
  for (size_t i = 0; i < n_nodes && !st; i++) {
    const pal_node_t *n = &g->nodes[nodes[i]];
    if (IS("Gemm") || IS("MatMul") || IS("Conv")) {
      st = build_layer(g, nodes[i], &s->layers[s->n_layers]);
      s->n_layers++;
      continue;
    }
    /* A fused node: it continues the last layer, whose output it reads. */
    layer_t *L = s->n_layers ? &s->layers[s->n_layers - 1] : NULL;
    int from = -1;
    for (size_t k = 0; k < n->n_in; k++)
      if (L && n->in[k] == L->out_value) from = (int)k;
    if (!L || from < 0) {
      st = pal_status_make(PAL_INTERNAL, "%s: fused node is not next to its layer in the subgraph",
                           pal_node_label(g, nodes[i], lbl, sizeof lbl));
      break;
    }
    st = pal_rt_fuse_epilogue(g, n, from, &L->bias, &L->act, &L->lo, &L->hi);
    L->out_value = n->out[0];
  }
  /* Units: runs of dense layers, each feeding only the next; convs alone. */
  for (size_t i = 0; i < s->n_layers && !st; i++) {
    layer_t *L = &s->layers[i];
    unit_t *u = s->n_units ? &s->units[s->n_units - 1] : NULL;
    bool extend = u && !u->conv && !L->conv && L->in_value == u->out_value &&
                  pal_graph_value_uses(g, u->out_value) == 1;
    if (extend) {
      u->count++;
      u->out_value = L->out_value;
    } else {
      u = &s->units[s->n_units++];
      u->conv = L->conv;
      u->first = i;
      u->count = 1;
      u->in_value = L->in_value;
      u->out_value = L->out_value;
    }
  }
  for (size_t i = 0; i < s->n_units && !st; i++) {
    unit_t *u = &s->units[i];
    layer_t *L = &s->layers[u->first];
    if (u->conv) {
      L->c2d.weights = L->weights;
      L->c2d.bias = L->bias;
      L->c2d.act = L->act;
      L->c2d.clip_lo = L->lo;
      L->c2d.clip_hi = L->hi;
      st = pal_plan_conv2d(&cx->geometry, &L->c2d, plan_batch(g, u->in_value, 0), &u->cplan);
    } else {
      pal_dense_layer_t dl[64];
      if (u->count > 64) {
        st = pal_status_make(PAL_UNIMPLEMENTED, "a chain of %zu dense layers (at most 64)", u->count);
        break;
      }
      for (size_t k = 0; k < u->count; k++) {
        layer_t *Lk = &s->layers[u->first + k];
        pal_dense_layer_initialize(&dl[k]);
        dl[k].in_features = Lk->k;
        dl[k].out_features = Lk->n;
        dl[k].weights = Lk->weights;
        dl[k].bias = Lk->bias;
        dl[k].act = Lk->act;
        dl[k].clip_lo = Lk->lo;
        dl[k].clip_hi = Lk->hi;
      }
      st = pal_plan_dense_chain(&cx->geometry, dl, u->count, plan_batch(g, u->in_value, L->k), NULL,
                                &u->plan);
    }
    if (st) st = pal_status_annotate(st, "planning layer '%s' for %s", g->values[L->out_value].name, cx->uri);
  }
  if (st) {
    state_free(s);
    return st;
  }
  *out_state = s;
  return PAL_STATUS_OK;
}

static pal_status_t pal_run(pal_provider_t *p, void *state, const pal_graph_t *g,
                            const size_t *nodes, size_t n_nodes, pal_tensor_t **vals) {
  (void)nodes, (void)n_nodes;
  pal_ctx_t *cx = p->ctx;
  pal_state_t *s = state;
  for (size_t i = 0; i < s->n_units; i++) {
    unit_t *u = &s->units[i];
    const pal_tensor_t *x = vals[u->in_value];
    const char *xname = g->values[u->in_value].name;
    if (!x || x->dtype != PAL_DTYPE_FP32)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal provider: value '%s' is not f32", xname);
    pal_tensor_t *y = NULL;
    pal_status_t st;
    if (u->conv) {
      const pal_conv2d_t *c = &s->layers[u->first].c2d;
      uint32_t oh, ow;
      PAL_RETURN_IF_ERROR(pal_conv2d_check(c, &oh, &ow));
      if (x->rank != 4 || x->dims[1] != c->in_channels || x->dims[2] != c->in_h || x->dims[3] != c->in_w)
        return pal_status_make(PAL_INVALID_ARGUMENT, "pal provider: '%s' does not have the planned NCHW shape",
                               xname);
      int64_t dims[4] = {x->dims[0], c->out_channels, oh, ow};
      PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_FP32, 4, dims, &y));
      st = pal_conv2d_plan_run(u->cplan, cx->dev, x->data, (uint32_t)x->dims[0], y->data, &u->stats);
    } else {
      uint32_t k = pal_plan_in_features(u->plan), nn = pal_plan_out_features(u->plan);
      if (!x->rank || x->dims[x->rank - 1] != k)
        return pal_status_make(PAL_INVALID_ARGUMENT, "pal provider: '%s' has last dim %lld, the layer needs %u",
                               xname, (long long)(x->rank ? x->dims[x->rank - 1] : 0), k);
      int64_t dims[PAL_MAX_RANK];
      memcpy(dims, x->dims, x->rank * sizeof *dims);
      dims[x->rank - 1] = nn;
      PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_FP32, x->rank, dims, &y));
      size_t m = x->count / k;
      st = m ? pal_plan_run(u->plan, cx->dev, x->data, (uint32_t)m, y->data, &u->stats) : NULL;
    }
    if (st) {
      pal_tensor_release(y);
      return pal_status_annotate(st, "pal provider, layer '%s'", g->values[u->out_value].name);
    }
    pal_tensor_release(vals[u->out_value]);
    vals[u->out_value] = y;
  }
  return PAL_STATUS_OK;
}

static void pal_describe(pal_provider_t *p, void *state, FILE *f) {
  (void)p;
  pal_state_t *s = state;
  for (size_t i = 0; i < s->n_units; i++) {
    unit_t *u = &s->units[i];
    pal_plan_t *plan = u->conv ? pal_conv2d_plan_dense(u->cplan) : u->plan;
    fprintf(f, "    unit %zu: %s, %zu layer%s", i, u->conv ? "conv2d (im2col)" : "dense chain", u->count,
            u->count == 1 ? "" : "s");
    if (u->stats.kernel_runs)
      fprintf(f, "; last run: %llu kernel runs, %llu cycles, %llu MACs issued, %llu spills",
              (unsigned long long)u->stats.kernel_runs,
              (unsigned long long)u->stats.counters.value[PAL_TILE_CTR_CYC_TOTAL],
              (unsigned long long)u->stats.counters.value[PAL_TILE_CTR_MACS_ISSUED],
              (unsigned long long)u->stats.spills);
    if (u->stats.host_post_outputs)
      fprintf(f, ", %llu outputs post-processed on the CPU (the tile has no POST unit)",
              (unsigned long long)u->stats.host_post_outputs);
    fputc('\n', f);
    char *text = NULL;
    pal_status_t st = pal_plan_describe(plan, &text);
    if (!st && text) {
      for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(f, "      %s\n", line);
    }
    pal_status_free(st);
    free(text);
  }
}

static void pal_add_stats(pal_provider_t *p, void *state, pal_device_run_stats_t *io) {
  (void)p;
  pal_state_t *s = state;
  for (size_t i = 0; i < s->n_units; i++) {
    const pal_plan_stats_t *st = &s->units[i].stats;
    const uint64_t *c = st->counters.value;
    io->kernel_runs += st->kernel_runs;
    io->spills += st->spills;
    io->bytes_to_device += st->bytes_to_device;
    io->bytes_from_device += st->bytes_from_device;
    io->cycles_total += c[PAL_TILE_CTR_CYC_TOTAL];
    io->cycles_busy += c[PAL_TILE_CTR_CYC_BUSY];
    io->macs_issued += c[PAL_TILE_CTR_MACS_ISSUED];
    io->macs_gated += c[PAL_TILE_CTR_MACS_GATED];
    io->act_skipped += c[PAL_TILE_CTR_ACT_SKIPPED];
    io->blocks_skipped += c[PAL_TILE_CTR_BLOCKS_SKIPPED];
  }
}

static pal_status_t pal_save_kernels(pal_provider_t *p, void *state, const char *path) {
  (void)p;
  pal_state_t *s = state;
  if (s->n_units != 1)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: the device subgraph has %zu units (chains/convs); a .palk holds one",
                           path, s->n_units);
  unit_t *u = &s->units[0];
  return pal_plan_write_palk(u->conv ? pal_conv2d_plan_dense(u->cplan) : u->plan, path);
}
#endif /* PAL_RT_HAVE_COMPILER */

static void pal_destroy(pal_provider_t *p) {
  pal_ctx_t *cx = p->ctx;
  if (cx) pal_device_close(cx->dev);
  free(cx);
  free(p);
}

pal_status_t pal_provider_pal_create(const char *uri, pal_provider_t **out_provider) {
  pal_provider_t *p = calloc(1, sizeof *p);
  pal_ctx_t *cx = calloc(1, sizeof *cx);
  if (!p || !cx) {
    free(p);
    free(cx);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  }
  p->name = PAL_PROVIDER_PAL;
  p->ctx = cx;
  p->can_run = pal_can_run;
  p->destroy = pal_destroy;
  snprintf(cx->uri, sizeof cx->uri, "%s", uri ? uri : pal_default_device());
#ifdef PAL_RT_HAVE_COMPILER
  p->prepare = pal_prepare;
  p->run = pal_run;
  p->describe = pal_describe;
  p->save_kernels = pal_save_kernels;
  p->add_stats = pal_add_stats;
  p->release_state = pal_release_state;
  pal_status_t st = pal_device_open(cx->uri, NULL, &cx->dev);
  if (st) {
    /* Malformed URIs are the caller's error; a device that is not there
     * makes the provider unavailable, with the reason. */
    if (pal_status_code(st) == PAL_INVALID_ARGUMENT) {
      pal_destroy(p);
      return st;
    }
    snprintf(p->detail, sizeof p->detail, "%s", pal_status_message(st));
    pal_status_free(st);
    p->available = false;
  } else {
    pal_tile_device_t *tile = pal_device_tile(cx->dev);
    cx->geometry = tile->config;
    p->available = true;
    snprintf(p->detail, sizeof p->detail, "%.100s, %u x %u tile (%.20s)", cx->uri, cx->geometry.rows,
             cx->geometry.cols, tile->name ? tile->name : "?");
  }
#else
  p->available = false;
  snprintf(p->detail, sizeof p->detail, "not built: this build has no tile compiler (host/compiler)");
#endif
  *out_provider = p;
  return PAL_STATUS_OK;
}
