/* The cpu provider: every supported op in FP32 (and the integer/bool ops
 * ONNX needs for shapes and masks), node by node, through libpalops. This
 * file only adapts nodes (attributes, shapes, dtypes) to the kernels' plain
 * arrays; output shapes come from the shared inference (infer.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/gemm.h"
#include "pal/ops.h"
#include "provider.h"

int pal_reduce_axes(const pal_graph_t *g, size_t node, const pal_infer_arg_t *in, int64_t *axes,
                    size_t *n_axes);
pal_status_t pal_conv_params_from_node(const pal_graph_t *g, size_t node, int spatial,
                                       pal_op_conv_params_t *p);

#define IS(name) (strcmp(n->op, name) == 0)

static pal_op_dtype_t op_dtype(pal_dtype_t d) {
  switch (d) {
    case PAL_DTYPE_INT64: return PAL_OP_I64;
    case PAL_DTYPE_INT32: return PAL_OP_I32;
    case PAL_DTYPE_BOOL: return PAL_OP_BOOL;
    case PAL_DTYPE_UINT8: return PAL_OP_U8;
    default: return PAL_OP_F32;
  }
}

static pal_shape_t shp(const pal_tensor_t *t) {
  pal_shape_t s;
  pal_shape_of_tensor(t, &s);
  return s;
}

static pal_shape_t view_2d_spatial(const pal_tensor_t *t) {
  pal_shape_t s = shp(t);
  if (s.rank == 3) {
    s.rank = 4;
    s.dims[3] = s.dims[2];
    s.dims[2] = 1;
  }
  return s;
}

static float scalar_f(const pal_tensor_t *t, float fallback) {
  if (!t || !t->count) return fallback;
  if (t->dtype == PAL_DTYPE_FP32) return ((const float *)t->data)[0];
  int64_t v;
  pal_tensor_ints(t, &v, 1);
  return (float)v;
}

static pal_status_t pool_params(const pal_node_t *n, int spatial, pal_op_pool_params_t *p) {
  pal_op_pool_params_initialize(p);
  size_t nk, ns, np, nd;
  const int64_t *k = pal_node_attr_ints(n, "kernel_shape", &nk);
  const int64_t *s = pal_node_attr_ints(n, "strides", &ns);
  const int64_t *pd = pal_node_attr_ints(n, "pads", &np);
  const int64_t *d = pal_node_attr_ints(n, "dilations", &nd);
  int off = spatial == 1 ? 1 : 0;
  for (int i = 0; i < spatial; i++) {
    p->kernel[off + i] = k ? k[i] : 0;
    if (s) p->strides[off + i] = s[i];
    if (d) p->dilations[off + i] = d[i];
    if (pd) {
      p->pads[off + i] = pd[i];
      p->pads[2 + off + i] = pd[spatial + i];
    }
  }
  if (spatial == 1) p->kernel[0] = 1;
  const char *ap = pal_node_attr_string(n, "auto_pad", "NOTSET");
  p->auto_pad = !strcmp(ap, "SAME_UPPER")   ? PAL_OP_PAD_SAME_UPPER
                : !strcmp(ap, "SAME_LOWER") ? PAL_OP_PAD_SAME_LOWER
                : !strcmp(ap, "VALID")      ? PAL_OP_PAD_VALID
                                            : PAL_OP_PAD_NOTSET;
  p->ceil_mode = (int)pal_node_attr_int(n, "ceil_mode", 0);
  p->count_include_pad = (int)pal_node_attr_int(n, "count_include_pad", 0);
  p->storage_order = (int)pal_node_attr_int(n, "storage_order", 0); /* 0 or 1: checked by infer.c */
  return PAL_STATUS_OK;
}

/* The kernel call for one node whose outputs are allocated. */
static pal_status_t dispatch(const pal_graph_t *g, size_t node, pal_tensor_t **in,
                             const pal_infer_arg_t *args, pal_tensor_t **out) {
  const pal_node_t *n = &g->nodes[node];
  pal_tensor_t *x = in[0], *y = out[0];
  const int64_t cnt = x ? (int64_t)x->count : 0;
  int64_t opset = g->opset;

  if (IS("Identity") || IS("Flatten") || IS("Reshape") || IS("Squeeze") || IS("Unsqueeze")) {
    if (y->count) memcpy(y->data, x->data, pal_tensor_nbytes(y));
    return PAL_STATUS_OK;
  }
  static const struct {
    const char *op;
    pal_op_unary_kind_t kind;
  } unary[] = {{"Relu", PAL_OP_RELU}, {"Sigmoid", PAL_OP_SIGMOID}, {"Tanh", PAL_OP_TANH},
               {"Erf", PAL_OP_ERF},   {"Sqrt", PAL_OP_SQRT},       {"Exp", PAL_OP_EXP},
               {"Log", PAL_OP_LOG},   {"Neg", PAL_OP_NEG},         {"Abs", PAL_OP_ABS},
               {"Reciprocal", PAL_OP_RECIPROCAL}, {"Floor", PAL_OP_FLOOR}, {"Ceil", PAL_OP_CEIL}};
  for (size_t i = 0; i < sizeof unary / sizeof *unary; i++)
    if (IS(unary[i].op)) return pal_op_unary(unary[i].kind, x->data, cnt, y->data);
  if (IS("Gelu"))
    return pal_op_unary(strcmp(pal_node_attr_string(n, "approximate", "none"), "tanh") == 0
                            ? PAL_OP_GELU_TANH
                            : PAL_OP_GELU,
                        x->data, cnt, y->data);
  if (IS("LeakyRelu"))
    return pal_op_leaky_relu(x->data, cnt, pal_node_attr_float(n, "alpha", 0.01f), y->data);
  if (IS("Clip")) {
    float lo, hi;
    if (opset < 11) {
      lo = pal_node_attr_float(n, "min", -INFINITY);
      hi = pal_node_attr_float(n, "max", INFINITY);
    } else {
      lo = scalar_f(n->n_in > 1 ? in[1] : NULL, -INFINITY);
      hi = scalar_f(n->n_in > 2 ? in[2] : NULL, INFINITY);
    }
    return pal_op_clip(x->data, cnt, lo, hi, y->data);
  }
  if (IS("Softmax") || IS("LogSoftmax")) {
    pal_shape_t s = shp(x);
    int64_t axis = pal_node_attr_int(n, "axis", opset < 13 ? 1 : -1);
    if (opset < 13) { /* coerced to 2-D at axis */
      int r = s.rank;
      if (axis < 0) axis += r;
      int64_t a = 1, b = 1;
      for (int i = 0; i < r; i++) *(i < axis ? &a : &b) *= s.dims[i];
      s.rank = 2;
      s.dims[0] = a;
      s.dims[1] = b;
      axis = 1;
    }
    return IS("Softmax") ? pal_op_softmax(x->data, &s, axis, y->data)
                         : pal_op_log_softmax(x->data, &s, axis, y->data);
  }
  static const struct {
    const char *op;
    pal_op_binary_kind_t kind;
  } binary[] = {{"Add", PAL_OP_ADD}, {"Sub", PAL_OP_SUB}, {"Mul", PAL_OP_MUL},
                {"Div", PAL_OP_DIV}, {"Pow", PAL_OP_POW}};
  for (size_t i = 0; i < sizeof binary / sizeof *binary; i++)
    if (IS(binary[i].op)) {
      pal_shape_t sa = shp(x), sb = shp(in[1]);
      if (in[1]->dtype != x->dtype) { /* Pow with an integer exponent */
        pal_tensor_t *tmp;
        PAL_RETURN_IF_ERROR(pal_tensor_create(x->dtype, in[1]->rank, in[1]->dims, &tmp));
        pal_status_t st = pal_op_cast(in[1]->data, op_dtype(in[1]->dtype), (int64_t)in[1]->count,
                                      op_dtype(x->dtype), tmp->data);
        if (!st)
          st = pal_op_binary(binary[i].kind, op_dtype(x->dtype), x->data, &sa, tmp->data, &sb, y->data);
        pal_tensor_release(tmp);
        return st;
      }
      return pal_op_binary(binary[i].kind, op_dtype(x->dtype), x->data, &sa, in[1]->data, &sb,
                           y->data);
    }
  static const struct {
    const char *op;
    pal_op_compare_kind_t kind;
  } cmp[] = {{"Equal", PAL_OP_EQUAL},
             {"Less", PAL_OP_LESS},
             {"Greater", PAL_OP_GREATER},
             {"LessOrEqual", PAL_OP_LESS_OR_EQUAL},
             {"GreaterOrEqual", PAL_OP_GREATER_OR_EQUAL}};
  for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++)
    if (IS(cmp[i].op)) {
      pal_shape_t sa = shp(x), sb = shp(in[1]);
      return pal_op_compare(cmp[i].kind, op_dtype(x->dtype), x->data, &sa, in[1]->data, &sb, y->data);
    }
  if (IS("Where")) {
    pal_shape_t sc = shp(x), sx = shp(in[1]), sy = shp(in[2]);
    return pal_op_where(x->data, &sc, in[1]->data, &sx, in[2]->data, &sy,
                        pal_dtype_size(in[1]->dtype), y->data);
  }
  if (IS("Cast")) {
    if (x->dtype == y->dtype) {
      if (y->count) memcpy(y->data, x->data, pal_tensor_nbytes(y));
      return PAL_STATUS_OK;
    }
    return pal_op_cast(x->data, op_dtype(x->dtype), cnt, op_dtype(y->dtype), y->data);
  }
  if (IS("Transpose")) {
    pal_shape_t s = shp(x);
    size_t np;
    const int64_t *perm = pal_node_attr_ints(n, "perm", &np);
    return pal_op_transpose(x->data, &s, pal_dtype_size(x->dtype), perm, y->data);
  }
  if (IS("Concat")) {
    const void *ptrs[16];
    pal_shape_t shapes[16];
    int c = 0;
    for (size_t k = 0; k < n->n_in; k++) {
      if (!in[k]) continue;
      ptrs[c] = in[k]->data;
      shapes[c++] = shp(in[k]);
    }
    return pal_op_concat(ptrs, shapes, c, pal_node_attr_int(n, "axis", 0), pal_dtype_size(x->dtype),
                         y->data);
  }
  if (IS("Split")) {
    int64_t sizes[16];
    size_t ns = 0;
    const int64_t *sp = NULL;
    if (n->n_in >= 2 && in[1]) {
      ns = pal_tensor_ints(in[1], sizes, 16);
      sp = sizes;
    } else {
      sp = pal_node_attr_ints(n, "split", &ns);
    }
    void *outs[8];
    for (size_t o = 0; o < n->n_out; o++) outs[o] = out[o]->data;
    pal_shape_t s = shp(x);
    return pal_op_split(x->data, &s, pal_dtype_size(x->dtype), pal_node_attr_int(n, "axis", 0), sp,
                        (int)n->n_out, outs);
  }
  if (IS("Slice")) {
    int64_t st[PAL_MAX_RANK], en[PAL_MAX_RANK], ax[PAL_MAX_RANK], sp[PAL_MAX_RANK];
    size_t ns = pal_tensor_ints(in[1], st, PAL_MAX_RANK);
    pal_tensor_ints(in[2], en, PAL_MAX_RANK);
    bool has_ax = n->n_in > 3 && in[3], has_sp = n->n_in > 4 && in[4];
    if (has_ax) pal_tensor_ints(in[3], ax, PAL_MAX_RANK);
    if (has_sp) pal_tensor_ints(in[4], sp, PAL_MAX_RANK);
    pal_shape_t s = shp(x);
    return pal_op_slice(x->data, &s, pal_dtype_size(x->dtype), st, en, has_ax ? ax : NULL,
                        has_sp ? sp : NULL, (int)ns, y->data);
  }
  if (IS("Gather")) {
    pal_shape_t sd = shp(x), si = shp(in[1]);
    int64_t *idx = in[1]->data;
    int64_t *tmp = NULL;
    if (in[1]->dtype != PAL_DTYPE_INT64) {
      tmp = malloc((in[1]->count ? in[1]->count : 1) * sizeof *tmp);
      if (!tmp) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "Gather: out of memory");
      pal_tensor_ints(in[1], tmp, in[1]->count);
      idx = tmp;
    }
    pal_status_t st = pal_op_gather(x->data, &sd, pal_dtype_size(x->dtype), idx, &si,
                                    pal_node_attr_int(n, "axis", 0), y->data);
    free(tmp);
    return st;
  }
  if (!strncmp(n->op, "Reduce", 6)) {
    pal_op_reduce_kind_t kind = IS("ReduceSum")    ? PAL_OP_REDUCE_SUM
                                : IS("ReduceMean") ? PAL_OP_REDUCE_MEAN
                                : IS("ReduceMax")  ? PAL_OP_REDUCE_MAX
                                : IS("ReduceMin")  ? PAL_OP_REDUCE_MIN
                                                   : PAL_OP_REDUCE_PROD;
    int64_t axes[PAL_MAX_RANK];
    size_t na;
    pal_reduce_axes(g, node, args, axes, &na);
    pal_shape_t s = shp(x);
    return pal_op_reduce(kind, x->data, &s, axes, (int)na, (int)pal_node_attr_int(n, "keepdims", 1),
                         (int)pal_node_attr_int(n, "noop_with_empty_axes", 0), y->data);
  }
  if (IS("MaxPool") || IS("AveragePool")) {
    pal_shape_t s = view_2d_spatial(x);
    pal_op_pool_params_t p;
    PAL_RETURN_IF_ERROR(pool_params(n, (int)x->rank - 2, &p));
    if (IS("MaxPool"))
      return pal_op_max_pool(x->data, &s, &p, y->data,
                             n->n_out > 1 && out[1] ? (int64_t *)out[1]->data : NULL);
    return pal_op_average_pool(x->data, &s, &p, y->data);
  }
  if (IS("GlobalAveragePool") || IS("GlobalMaxPool")) {
    pal_shape_t s = shp(x);
    return IS("GlobalAveragePool") ? pal_op_global_average_pool(x->data, &s, y->data)
                                   : pal_op_global_max_pool(x->data, &s, y->data);
  }
  if (IS("BatchNormalization")) {
    pal_shape_t s = shp(x);
    int64_t c = x->rank >= 2 ? x->dims[1] : 0;
    for (int k = 1; k < 5; k++)
      if (in[k]->dtype != PAL_DTYPE_FP32 || (int64_t)in[k]->count != c)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "BatchNormalization: input %d has %zu values, the channels are %lld",
                               k, in[k]->count, (long long)c);
    return pal_op_batch_norm(x->data, &s, in[1]->data, in[2]->data, in[3]->data, in[4]->data,
                             pal_node_attr_float(n, "epsilon", 1e-5f), y->data);
  }
  if (IS("LayerNormalization")) {
    pal_shape_t s = shp(x), ss = shp(in[1]), sb;
    bool has_b = n->n_in > 2 && in[2];
    if (has_b) sb = shp(in[2]);
    return pal_op_layer_norm(x->data, &s, in[1]->data, &ss, has_b ? in[2]->data : NULL,
                             has_b ? &sb : NULL, pal_node_attr_int(n, "axis", -1),
                             pal_node_attr_float(n, "epsilon", 1e-5f), y->data,
                             n->n_out > 1 && out[1] ? out[1]->data : NULL,
                             n->n_out > 2 && out[2] ? out[2]->data : NULL);
  }
  if (IS("Gemm")) {
    pal_shape_t sa = shp(x), sb = shp(in[1]), sc;
    bool has_c = n->n_in > 2 && in[2];
    if (has_c) sc = shp(in[2]);
    return pal_op_gemm(x->data, &sa, in[1]->data, &sb, has_c ? in[2]->data : NULL,
                       has_c ? &sc : NULL, pal_node_attr_float(n, "alpha", 1.0f),
                       pal_node_attr_float(n, "beta", 1.0f), (int)pal_node_attr_int(n, "transA", 0),
                       (int)pal_node_attr_int(n, "transB", 0), y->data);
  }
  if (IS("MatMul")) {
    pal_shape_t sa = shp(x), sb = shp(in[1]);
    return pal_op_matmul(x->data, &sa, in[1]->data, &sb, y->data);
  }
  if (IS("Conv")) {
    pal_shape_t sx = view_2d_spatial(x), sw = view_2d_spatial(in[1]);
    pal_op_conv_params_t p;
    PAL_RETURN_IF_ERROR(pal_conv_params_from_node(g, node, (int)x->rank - 2, &p));
    const float *bias = n->n_in > 2 && in[2] ? in[2]->data : NULL;
    if (bias && (int64_t)in[2]->count != in[1]->dims[0])
      return pal_status_make(PAL_INVALID_ARGUMENT, "Conv: input 'B' has %zu values, M is %lld",
                             in[2]->count, (long long)in[1]->dims[0]);
    return pal_op_conv(x->data, &sx, in[1]->data, &sw, bias, &p, y->data);
  }
  return pal_status_make(PAL_UNIMPLEMENTED, "cpu provider: op '%s' has no kernel", n->op);
}

static pal_status_t cpu_kernel(void *ctx, const pal_graph_t *g, size_t node, pal_tensor_t **in,
                               const pal_infer_arg_t *args, pal_tensor_t **out) {
  (void)ctx;
  return dispatch(g, node, in, args, out);
}

pal_status_t pal_cpu_run_node(const pal_graph_t *g, size_t node, pal_tensor_t **vals) {
  return pal_run_node_with(g, node, vals, cpu_kernel, NULL);
}

pal_status_t pal_run_node_with(const pal_graph_t *g, size_t node, pal_tensor_t **vals,
                               pal_node_kernel_fn kernel, void *kernel_ctx) {
  const pal_node_t *n = &g->nodes[node];
  char lbl[160];
  pal_tensor_t *in[16] = {0}, *out[8] = {0};
  pal_infer_arg_t args[16];
  pal_dtype_t odt[8];
  pal_shape_t osh[8];
  pal_tensor_t *oval[8] = {0};
  for (size_t k = 0; k < n->n_in; k++) {
    memset(&args[k], 0, sizeof args[k]);
    args[k].shape.rank = -1;
    if (n->in[k] < 0) continue;
    in[k] = vals[n->in[k]];
    if (!in[k])
      return pal_status_make(PAL_INTERNAL, "%s: input %zu '%s' has no value at run time",
                             pal_node_label(g, node, lbl, sizeof lbl), k, g->values[n->in[k]].name);
    args[k].dtype = in[k]->dtype;
    pal_shape_of_tensor(in[k], &args[k].shape);
    args[k].value = in[k];
  }
  PAL_RETURN_IF_ERROR(pal_infer_node(g, node, args, odt, osh, oval));
  pal_status_t st = PAL_STATUS_OK;
  bool full_write = IS("Gemm") || IS("MatMul");
  for (size_t o = 0; o < n->n_out && !st; o++) {
    if (oval[o]) { /* Constant, Shape: computed by the inference */
      out[o] = oval[o];
      oval[o] = NULL;
      continue;
    }
    if (n->out[o] < 0) continue; /* an optional output nobody asked for */
    if (!pal_shape_known(&osh[o]) || !odt[o]) {
      st = pal_status_make(PAL_INTERNAL, "%s: output %zu has no known shape at run time",
                           pal_node_label(g, node, lbl, sizeof lbl), o);
      break;
    }
    /* Gemm and MatMul write every output element (BLAS with beta 0 or
     * after the bias fill): no zero fill first. */
    st = full_write ? pal_tensor_create_uninit(odt[o], (size_t)osh[o].rank, osh[o].dims, &out[o])
                    : pal_tensor_create(odt[o], (size_t)osh[o].rank, osh[o].dims, &out[o]);
  }
  bool computed = IS("Constant") || IS("Shape");
  if (!st && !computed) st = kernel(kernel_ctx, g, node, in, args, out);
  for (size_t o = 0; o < n->n_out; o++) pal_tensor_release(oval[o]);
  if (st) {
    for (size_t o = 0; o < n->n_out; o++) pal_tensor_release(out[o]);
    return pal_status_annotate(st, "%s", pal_node_label(g, node, lbl, sizeof lbl));
  }
  for (size_t o = 0; o < n->n_out; o++) {
    if (n->out[o] < 0) {
      pal_tensor_release(out[o]);
      continue;
    }
    pal_tensor_release(vals[n->out[o]]);
    vals[n->out[o]] = out[o];
  }
  return PAL_STATUS_OK;
}

static bool cpu_can_run(pal_provider_t *p, const pal_graph_t *g, size_t node, char *reason,
                        size_t size) {
  (void)p;
  if (!pal_op_is_supported(g->nodes[node].op)) {
    snprintf(reason, size, "op %s has no cpu kernel", g->nodes[node].op);
    return false;
  }
  return true;
}

/* ---- PAL8-B32 mode: the tile's layers computed by pal_gemm ------------------
 * A layer is a Gemm/MatMul/Conv the tile would take (pal_tile_can_run) and
 * the bias Add and Relu/Clip nodes right after it that the tile would fuse,
 * prepared as the pal provider prepares it (weights N x K with alpha folded
 * in, bias beta * C as the accumulator's start value, activation in the
 * epilogue) and computed as the golden model: activations encoded row by
 * row (im2col rows for Conv), one pal_gemm per layer. */

typedef struct pal8_layer {
  bool conv;
  int in_value, out_value;
  size_t k, n;
  pal_b32_matrix_t w; /* N x K */
  float *bias;        /* N values or NULL */
  pal_activation_t act;
  float lo, hi;
  /* Conv (2-D, group 1): kernel, strides, dilations, pads t, l, b, r */
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
} pal8_layer_t;

typedef struct cpu_state {
  int *role; /* per subgraph node: layer index (its core), -1 plain FP32, -2 fused into a layer */
  pal8_layer_t *layers;
  size_t n_layers;
} cpu_state_t;

typedef struct cpu_ctx {
  bool pal8;
  pal_gemm_options_t gemm;
} cpu_ctx_t;

static void cpu_state_free(cpu_state_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_layers; i++) {
    pal_b32_matrix_release(&s->layers[i].w);
    free(s->layers[i].bias);
  }
  free(s->layers);
  free(s->role);
  free(s);
}

static pal_status_t pal8_layer_build(const pal_graph_t *g, size_t node, pal8_layer_t *L) {
  const pal_node_t *n = &g->nodes[node];
  const pal_tensor_t *w = pal_rt_const_input(g, n, 1);
  memset(L, 0, sizeof *L);
  L->in_value = n->in[0];
  L->out_value = n->out[0];
  L->act = PAL_ACT_NONE;
  float *wt = NULL;
  const float *wd = w->data;
  if (IS("Conv")) {
    L->conv = true;
    L->n = (size_t)w->dims[0];
    L->k = w->count / L->n;
    L->kh = w->dims[2];
    L->kw = w->dims[3];
    size_t ns, np, nd;
    const int64_t *st = pal_node_attr_ints(n, "strides", &ns);
    const int64_t *pd = pal_node_attr_ints(n, "pads", &np);
    const int64_t *dl = pal_node_attr_ints(n, "dilations", &nd);
    L->sh = st && ns == 2 ? st[0] : 1;
    L->sw = st && ns == 2 ? st[1] : 1;
    L->dh = dl && nd == 2 ? dl[0] : 1;
    L->dw = dl && nd == 2 ? dl[1] : 1;
    if (pd && np == 4) L->pt = pd[0], L->pl = pd[1], L->pb = pd[2], L->pr = pd[3];
    const pal_tensor_t *b = pal_rt_const_input(g, n, 2);
    if (b) {
      if (!(L->bias = malloc(b->count * sizeof(float))))
        return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
      memcpy(L->bias, b->data, b->count * sizeof(float));
    }
  } else {
    bool gemm = IS("Gemm"), trans_b = gemm && pal_node_attr_int(n, "transB", 0);
    L->k = (size_t)(trans_b ? w->dims[1] : w->dims[0]);
    L->n = (size_t)(trans_b ? w->dims[0] : w->dims[1]);
    float alpha = gemm ? pal_node_attr_float(n, "alpha", 1.0f) : 1.0f;
    if (!trans_b || alpha != 1.0f) {
      if (!(wt = malloc(L->k * L->n * sizeof(float))))
        return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
      for (size_t j = 0; j < L->n; j++)
        for (size_t q = 0; q < L->k; q++)
          wt[j * L->k + q] = trans_b ? wd[j * L->k + q] : wd[q * L->n + j];
      /* as the pal provider: alpha folded into the FP32 weights before encoding */
      if (alpha != 1.0f)
        for (size_t i = 0; i < L->k * L->n; i++) wt[i] *= alpha;
      wd = wt;
    }
    const pal_tensor_t *c = gemm ? pal_rt_const_input(g, n, 2) : NULL;
    if (c) {
      float beta = pal_node_attr_float(n, "beta", 1.0f);
      if (!(L->bias = malloc(L->n * sizeof(float)))) {
        free(wt);
        return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
      }
      for (size_t j = 0; j < L->n; j++)
        L->bias[j] = beta * ((const float *)c->data)[c->count == 1 ? 0 : j];
    }
  }
  pal_status_t st = pal_b32_matrix_create(L->n, L->k, &L->w);
  if (!st) pal_b32_matrix_encode(wd, L->k, &L->w);
  free(wt);
  return st;
}

/* Folds the fused node `node` (bias Add, Relu, Clip) into layer L. */
static pal_status_t pal8_layer_fuse(const pal_graph_t *g, size_t node, int from, pal8_layer_t *L) {
  const pal_node_t *n = &g->nodes[node];
  pal_status_t st = pal_rt_fuse_epilogue(g, n, from, &L->bias, &L->act, &L->lo, &L->hi);
  if (st) return st;
  L->out_value = n->out[0];
  return PAL_STATUS_OK;
}

static pal_status_t pal8_prepare(const pal_graph_t *g, const size_t *nodes, size_t n_nodes,
                                 cpu_state_t **out_state) {
  *out_state = NULL;
  cpu_state_t *s = calloc(1, sizeof *s);
  if (!s) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  s->role = malloc((n_nodes ? n_nodes : 1) * sizeof *s->role);
  s->layers = calloc(n_nodes ? n_nodes : 1, sizeof *s->layers);
  pal_status_t st = !s->role || !s->layers ? pal_status_make(PAL_RESOURCE_EXHAUSTED, "oom") : NULL;
  char why[8];
  for (size_t i = 0; i < n_nodes && !st; i++) {
    const pal_node_t *n = &g->nodes[nodes[i]];
    s->role[i] = -1;
    bool tile = pal_tile_can_run(g, nodes[i], why, sizeof why);
    if (tile && (IS("Gemm") || IS("MatMul") || IS("Conv"))) {
      st = pal8_layer_build(g, nodes[i], &s->layers[s->n_layers]);
      s->role[i] = (int)s->n_layers++;
      continue;
    }
    /* Fused as on the tile: right after the layer's last node, reading its output. */
    if (!tile || !i || s->role[i - 1] == -1 || !s->n_layers) continue;
    pal8_layer_t *L = &s->layers[s->n_layers - 1];
    int from = -1;
    for (size_t k = 0; k < n->n_in; k++)
      if (n->in[k] == L->out_value) from = (int)k;
    if (from < 0) continue;
    st = pal8_layer_fuse(g, nodes[i], from, L);
    s->role[i] = -2;
  }
  if (st) {
    cpu_state_free(s);
    return st;
  }
  *out_state = s;
  return PAL_STATUS_OK;
}

static pal_status_t pal8_gemm(const cpu_ctx_t *cx, const pal8_layer_t *L, const float *rows,
                              size_t m, float *out) {
  pal_b32_matrix_t a;
  PAL_RETURN_IF_ERROR(pal_b32_matrix_create(m, L->k, &a));
  pal_b32_matrix_encode(rows, L->k, &a);
  pal_epilogue_t ep;
  pal_epilogue_initialize(&ep);
  ep.bias = L->bias;
  ep.bias_mode = PAL_BIAS_START;
  ep.act = L->act;
  ep.clip_lo = L->lo;
  ep.clip_hi = L->hi;
  pal_status_t st = pal_gemm(&a, &L->w, &ep, &cx->gemm, out, L->n, NULL);
  pal_b32_matrix_release(&a);
  return st;
}

static pal_status_t pal8_run_layer(const cpu_ctx_t *cx, const pal_graph_t *g,
                                   const pal8_layer_t *L, pal_tensor_t **vals) {
  const pal_tensor_t *x = vals[L->in_value];
  const char *xname = g->values[L->in_value].name;
  if (!x || x->dtype != PAL_DTYPE_FP32)
    return pal_status_make(PAL_INVALID_ARGUMENT, "cpu provider (pal8-b32): value '%s' is not f32", xname);
  pal_tensor_t *y = NULL;
  pal_status_t st = PAL_STATUS_OK;
  if (!L->conv) {
    if (!x->rank || (size_t)x->dims[x->rank - 1] != L->k)
      return pal_status_make(PAL_INVALID_ARGUMENT, "cpu provider (pal8-b32): '%s' has last dim %lld, the layer needs %zu",
                             xname, (long long)(x->rank ? x->dims[x->rank - 1] : 0), L->k);
    int64_t dims[PAL_MAX_RANK];
    memcpy(dims, x->dims, x->rank * sizeof *dims);
    dims[x->rank - 1] = (int64_t)L->n;
    PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_FP32, x->rank, dims, &y));
    size_t m = x->count / L->k;
    if (m) st = pal8_gemm(cx, L, x->data, m, y->data);
  } else {
    if (x->rank != 4 || (size_t)x->dims[1] * (size_t)(L->kh * L->kw) != L->k)
      return pal_status_make(PAL_INVALID_ARGUMENT, "cpu provider (pal8-b32): '%s' is not NCHW with the layer's channels", xname);
    int64_t B = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t oh = (H + L->pt + L->pb - (L->dh * (L->kh - 1) + 1)) / L->sh + 1;
    int64_t ow = (W + L->pl + L->pr - (L->dw * (L->kw - 1) + 1)) / L->sw + 1;
    if (oh < 1 || ow < 1)
      return pal_status_make(PAL_INVALID_ARGUMENT, "cpu provider (pal8-b32): '%s' is smaller than the kernel", xname);
    int64_t dims[4] = {B, (int64_t)L->n, oh, ow};
    PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_FP32, 4, dims, &y));
    size_t npix = (size_t)(oh * ow);
    float *rows = malloc(npix * L->k * sizeof *rows), *tmp = malloc(npix * L->n * sizeof *tmp);
    if (!rows || !tmp) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
    const float *xd = x->data;
    float *yd = y->data;
    for (int64_t b = 0; b < B && !st; b++) {
      /* im2col: row (oh, ow), column (c, kh, kw), as the tile's lowering */
      for (int64_t r = 0; r < oh; r++)
        for (int64_t c = 0; c < ow; c++) {
          float *row = rows + (size_t)(r * ow + c) * L->k;
          for (int64_t ci = 0; ci < C; ci++)
            for (int64_t i = 0; i < L->kh; i++)
              for (int64_t j = 0; j < L->kw; j++) {
                int64_t ih = r * L->sh - L->pt + i * L->dh, iw = c * L->sw - L->pl + j * L->dw;
                *row++ = ih < 0 || ih >= H || iw < 0 || iw >= W
                             ? 0.0f
                             : xd[((b * C + ci) * H + ih) * W + iw];
              }
        }
      st = pal8_gemm(cx, L, rows, npix, tmp);
      for (size_t m = 0; m < L->n && !st; m++)
        for (size_t p = 0; p < npix; p++) yd[((size_t)b * L->n + m) * npix + p] = tmp[p * L->n + m];
    }
    free(rows);
    free(tmp);
  }
  if (st) {
    pal_tensor_release(y);
    char lbl[64];
    snprintf(lbl, sizeof lbl, "%s", g->values[L->out_value].name);
    return pal_status_annotate(st, "cpu provider (pal8-b32), layer '%s'", lbl);
  }
  pal_tensor_release(vals[L->out_value]);
  vals[L->out_value] = y;
  return PAL_STATUS_OK;
}

static pal_status_t cpu_prepare(pal_provider_t *p, const pal_graph_t *g, const size_t *nodes,
                                size_t n, void **out_state) {
  cpu_ctx_t *cx = p->ctx;
  *out_state = NULL;
  if (!cx->pal8) return PAL_STATUS_OK;
  cpu_state_t *s;
  PAL_RETURN_IF_ERROR(pal8_prepare(g, nodes, n, &s));
  *out_state = s;
  return PAL_STATUS_OK;
}

static pal_status_t cpu_run(pal_provider_t *p, void *state, const pal_graph_t *g,
                            const size_t *nodes, size_t n, pal_tensor_t **vals) {
  cpu_state_t *s = state;
  for (size_t i = 0; i < n; i++) {
    int role = s ? s->role[i] : -1;
    if (role == -1) PAL_RETURN_IF_ERROR(pal_cpu_run_node(g, nodes[i], vals));
    else if (role >= 0) PAL_RETURN_IF_ERROR(pal8_run_layer(p->ctx, g, &s->layers[role], vals));
    if (p->node_done) p->node_done(p->node_done_ctx);
  }
  return PAL_STATUS_OK;
}

static void cpu_describe(pal_provider_t *p, void *state, FILE *f) {
  (void)p;
  cpu_state_t *s = state;
  if (!s || !s->n_layers) return;
  fprintf(f, "    PAL8-B32 (pal_gemm, bit-exact with the tile): %zu layer%s:", s->n_layers,
          s->n_layers == 1 ? "" : "s");
  for (size_t i = 0; i < s->n_layers && i < 8; i++) {
    const pal8_layer_t *L = &s->layers[i];
    fprintf(f, " %s(%zux%zu%s%s)", L->conv ? "conv" : "dense", L->k, L->n, L->bias ? "+bias" : "",
            L->act == PAL_ACT_RELU ? "+relu" : L->act == PAL_ACT_CLIP ? "+clip" : "");
  }
  fprintf(f, "%s\n", s->n_layers > 8 ? " ..." : "");
}

static void cpu_release_state(pal_provider_t *p, void *state) {
  (void)p;
  cpu_state_free(state);
}

static void cpu_destroy(pal_provider_t *p) {
  free(p->ctx);
  free(p);
}

pal_status_t pal_provider_cpu_create(const char *format, pal_provider_t **out_provider) {
  *out_provider = NULL;
  bool pal8 = false;
  if (format && !strcmp(format, PAL_CPU_FORMAT_PAL8_B32))
    pal8 = true;
  else if (format && strcmp(format, PAL_CPU_FORMAT_FP32))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "cpu format '%s' is not known (the formats are fp32, pal8-b32)", format);
  pal_provider_t *p = calloc(1, sizeof *p);
  cpu_ctx_t *cx = calloc(1, sizeof *cx);
  if (!p || !cx) {
    free(p);
    free(cx);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  }
  cx->pal8 = pal8;
  pal_gemm_options_initialize(&cx->gemm);
  p->name = PAL_PROVIDER_CPU;
  p->ctx = cx;
  p->available = true;
  if (pal8)
    snprintf(p->detail, sizeof p->detail,
             "FP32 kernels (libpalops, OpenBLAS); tile-able Gemm/MatMul/Conv in PAL8-B32 "
             "(pal_gemm, %s)", pal_cpu_isa_name(pal_gemm_best_isa()));
  else
    snprintf(p->detail, sizeof p->detail, "FP32 kernels (libpalops, OpenBLAS)");
  p->can_run = cpu_can_run;
  p->prepare = cpu_prepare;
  p->run = cpu_run;
  p->describe = cpu_describe;
  p->release_state = cpu_release_state;
  p->destroy = cpu_destroy;
  *out_provider = p;
  return PAL_STATUS_OK;
}

void pal_provider_destroy(pal_provider_t *p) {
  if (p && p->destroy) p->destroy(p);
}

size_t pal_graph_value_uses(const pal_graph_t *g, int v) {
  size_t uses = 0;
  for (size_t i = 0; i < g->n_nodes; i++)
    for (size_t k = 0; k < g->nodes[i].n_in; k++) uses += g->nodes[i].in[k] == v;
  for (size_t o = 0; o < g->n_outputs; o++) uses += g->outputs[o] == v;
  return uses;
}
