/* The cuda provider: Gemm and MatMul through cuBLAS and the element-wise
 * ops on GPU 0, with the kernels of libpalcuda.so (host/cuda/), loaded with
 * dlopen through pal_cuda_open (include/pal/cuda.h). When the library was
 * not built, or there is no driver or GPU, the provider is unavailable and
 * says why in one line (the loader's reason), the partitioner skips it and
 * can_run declines every node with that line.
 *
 * What it claims is decided from the graph alone (pal_cuda_node_claim), so
 * the same rule is testable on machines without a GPU. Operands are host
 * tensors: each node copies its operands to the GPU and its result back
 * (the library's interface), so the provider pays off on large GEMMs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/cuda.h"
#include "pal/ops.h"
#include "provider.h"

#define IS(name) (strcmp(n->op, name) == 0)

static const struct {
  const char *op;
  pal_cuda_unary_op_t kind;
} kUnary[] = {{"Relu", PAL_CUDA_RELU}, {"LeakyRelu", PAL_CUDA_LEAKY_RELU},
              {"Sigmoid", PAL_CUDA_SIGMOID}, {"Tanh", PAL_CUDA_TANH},
              {"Erf", PAL_CUDA_ERF}, {"Gelu", PAL_CUDA_GELU},
              {"Sqrt", PAL_CUDA_SQRT}, {"Exp", PAL_CUDA_EXP},
              {"Log", PAL_CUDA_LOG}, {"Neg", PAL_CUDA_NEG},
              {"Abs", PAL_CUDA_ABS}, {"Clip", PAL_CUDA_CLIP}};

static const struct {
  const char *op;
  pal_cuda_binary_op_t kind;
} kBinary[] = {{"Add", PAL_CUDA_ADD}, {"Sub", PAL_CUDA_SUB}, {"Mul", PAL_CUDA_MUL},
               {"Div", PAL_CUDA_DIV}, {"Pow", PAL_CUDA_POW}};

#define N_UNARY (sizeof kUnary / sizeof *kUnary)
#define N_BINARY (sizeof kBinary / sizeof *kBinary)

static int unary_index(const char *op) {
  for (size_t i = 0; i < N_UNARY; i++)
    if (!strcmp(op, kUnary[i].op)) return (int)i;
  return -1;
}

static int binary_index(const char *op) {
  for (size_t i = 0; i < N_BINARY; i++)
    if (!strcmp(op, kBinary[i].op)) return (int)i;
  return -1;
}

static const pal_value_t *input_value(const pal_graph_t *g, const pal_node_t *n, size_t k) {
  return k < n->n_in && n->in[k] >= 0 ? &g->values[n->in[k]] : NULL;
}

bool pal_cuda_node_claim(const pal_graph_t *g, size_t node, char *why, size_t size) {
  const pal_node_t *n = &g->nodes[node];
  bool gemm = IS("Gemm"), matmul = IS("MatMul");
  if (!gemm && !matmul && unary_index(n->op) < 0 && binary_index(n->op) < 0) {
    snprintf(why, size, "%s has no CUDA kernel (the GPU runs Gemm, MatMul and the element-wise "
             "Relu, LeakyRelu, Sigmoid, Tanh, Erf, Gelu, Sqrt, Exp, Log, Neg, Abs, Clip, Add, Sub, "
             "Mul, Div, Pow)", n->op);
    return false;
  }
  /* Every present input is f32 (Clip's bounds included). */
  for (size_t k = 0; k < n->n_in; k++) {
    const pal_value_t *v = input_value(g, n, k);
    if (v && v->dtype != PAL_DTYPE_FP32) {
      snprintf(why, size, "input %zu '%s' is %s, the CUDA kernels take f32", k, v->name,
               pal_dtype_name(v->dtype));
      return false;
    }
  }
  if (matmul) {
    const pal_value_t *a = input_value(g, n, 0), *b = input_value(g, n, 1);
    if (!a || !b || a->shape.rank < 2 || b->shape.rank != 2) {
      snprintf(why, size, "MatMul of ranks %d and %d (the cuBLAS path takes A of rank >= 2 and a "
               "2-D B)", a ? a->shape.rank : -1, b ? b->shape.rank : -1);
      return false;
    }
  }
  if (gemm) {
    const pal_value_t *c = input_value(g, n, 2);
    if (c && c->shape.rank > 2) {
      snprintf(why, size, "Gemm bias C of rank %d", c->shape.rank);
      return false;
    }
  }
  return true;
}

typedef struct cuda_ctx {
  pal_cuda_t *cuda; /* NULL when unavailable */
} cuda_ctx_t;

static float scalar_or(const pal_tensor_t *t, float fallback) {
  return t && t->count ? ((const float *)t->data)[0] : fallback;
}

/* `x` broadcast to the shape of `y` (bit for bit: a select, not arithmetic),
 * into a malloc'ed array. */
static pal_status_t expand_to(const pal_tensor_t *x, const pal_tensor_t *y, float **out) {
  *out = malloc((y->count ? y->count : 1) * sizeof(float));
  uint8_t *ones = malloc(y->count ? y->count : 1);
  if (!*out || !ones) {
    free(*out);
    free(ones);
    *out = NULL;
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "cuda provider: out of memory");
  }
  memset(ones, 1, y->count);
  pal_shape_t sx, sy;
  pal_shape_of_tensor(x, &sx);
  pal_shape_of_tensor(y, &sy);
  pal_status_t st = pal_op_where(ones, &sy, x->data, &sx, x->data, &sx, sizeof(float), *out);
  free(ones);
  if (st) {
    free(*out);
    *out = NULL;
  }
  return st;
}

static bool same_shape(const pal_tensor_t *a, const pal_tensor_t *b) {
  if (a->rank != b->rank) return false;
  for (size_t i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static pal_status_t cuda_kernel(void *vctx, const pal_graph_t *g, size_t node, pal_tensor_t **in,
                                const pal_infer_arg_t *args, pal_tensor_t **out) {
  (void)args;
  cuda_ctx_t *cx = vctx;
  const pal_node_t *n = &g->nodes[node];
  pal_tensor_t *x = in[0], *y = out[0];
  if (IS("Gemm")) {
    int ta = (int)pal_node_attr_int(n, "transA", 0), tb = (int)pal_node_attr_int(n, "transB", 0);
    size_t m = (size_t)y->dims[0], nn = (size_t)y->dims[1];
    size_t k = (size_t)(ta ? x->dims[0] : x->dims[1]);
    float alpha = pal_node_attr_float(n, "alpha", 1.0f), beta = pal_node_attr_float(n, "beta", 1.0f);
    const pal_tensor_t *c = n->n_in > 2 ? in[2] : NULL;
    float *yd = y->data;
    float gemm_beta = 0.0f;
    if (c && c->count) { /* Y = beta * broadcast(C), then Y += alpha op(A) op(B) on the GPU */
      size_t cm = c->rank == 2 ? (size_t)c->dims[0] : 1;
      size_t cn = c->rank >= 1 ? (size_t)c->dims[c->rank - 1] : 1;
      const float *cd = c->data;
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < nn; j++)
          yd[i * nn + j] = beta * cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      gemm_beta = 1.0f;
    }
    return pal_cuda_sgemm(cx->cuda, ta, tb, m, nn, k, alpha, x->data, (size_t)x->dims[1],
                          in[1]->data, (size_t)in[1]->dims[1], gemm_beta, yd, nn);
  }
  if (IS("MatMul")) {
    size_t k = (size_t)x->dims[x->rank - 1], nn = (size_t)in[1]->dims[1];
    size_t m = k ? x->count / k : 0;
    if (!k) { /* an empty inner dimension: the product is zeros */
      memset(y->data, 0, pal_tensor_nbytes(y));
      return PAL_STATUS_OK;
    }
    return pal_cuda_sgemm(cx->cuda, false, false, m, nn, k, 1.0f, x->data, k, in[1]->data, nn,
                          0.0f, y->data, nn);
  }
  int u = unary_index(n->op);
  if (u >= 0) {
    float p0 = 0, p1 = 0;
    pal_cuda_unary_op_t op = kUnary[u].kind;
    if (IS("LeakyRelu")) p0 = pal_node_attr_float(n, "alpha", 0.01f);
    if (IS("Gelu") && !strcmp(pal_node_attr_string(n, "approximate", "none"), "tanh"))
      op = PAL_CUDA_GELU_TANH;
    if (IS("Clip")) {
      if (g->opset < 11) {
        p0 = pal_node_attr_float(n, "min", -INFINITY);
        p1 = pal_node_attr_float(n, "max", INFINITY);
      } else {
        p0 = scalar_or(n->n_in > 1 ? in[1] : NULL, -INFINITY);
        p1 = scalar_or(n->n_in > 2 ? in[2] : NULL, INFINITY);
      }
    }
    return pal_cuda_unary(cx->cuda, op, x->data, x->count, p0, p1, y->data);
  }
  int b = binary_index(n->op);
  if (b >= 0) {
    const pal_tensor_t *ops[2] = {x, in[1]};
    float *tmp[2] = {NULL, NULL};
    const float *ptr[2];
    size_t cnt[2];
    pal_status_t st = PAL_STATUS_OK;
    for (int s = 0; s < 2 && !st; s++) {
      ptr[s] = ops[s]->data;
      cnt[s] = ops[s]->count;
      if (cnt[s] == 1 || same_shape(ops[s], y)) continue;
      st = expand_to(ops[s], y, &tmp[s]); /* other broadcasts: expanded on the host */
      ptr[s] = tmp[s];
      cnt[s] = y->count;
    }
    if (!st) st = pal_cuda_binary(cx->cuda, kBinary[b].kind, ptr[0], cnt[0], ptr[1], cnt[1], y->data, y->count);
    free(tmp[0]);
    free(tmp[1]);
    return st;
  }
  return pal_status_make(PAL_INTERNAL, "cuda provider: no kernel for %s", n->op);
}

static bool cuda_can_run(pal_provider_t *p, const pal_graph_t *g, size_t node, char *reason,
                         size_t size) {
  if (!p->available) {
    snprintf(reason, size, "unavailable: %s", p->detail);
    return false;
  }
  return pal_cuda_node_claim(g, node, reason, size);
}

static pal_status_t cuda_prepare(pal_provider_t *p, const pal_graph_t *g, const size_t *nodes,
                                 size_t n, void **out_state) {
  (void)g, (void)nodes, (void)n;
  *out_state = NULL;
  if (!p->available)
    return pal_status_make(PAL_UNAVAILABLE, "cuda provider: %s", p->detail);
  return PAL_STATUS_OK;
}

static pal_status_t cuda_run(pal_provider_t *p, void *state, const pal_graph_t *g,
                             const size_t *nodes, size_t n, pal_tensor_t **vals) {
  (void)state;
  for (size_t i = 0; i < n; i++) {
    PAL_RETURN_IF_ERROR(pal_run_node_with(g, nodes[i], vals, cuda_kernel, p->ctx));
    if (p->node_done) p->node_done(p->node_done_ctx);
  }
  return PAL_STATUS_OK;
}

static void cuda_destroy(pal_provider_t *p) {
  cuda_ctx_t *cx = p->ctx;
  if (cx) pal_cuda_close(cx->cuda);
  free(cx);
  free(p);
}

/* The loader's messages start "CUDA provider unavailable: "; the provider's
 * line is already labelled "cuda ... unavailable/skipped", so keep the rest. */
static const char *strip_prefix(const char *msg) {
  static const char kPrefix[] = "CUDA provider unavailable: ";
  return strncmp(msg, kPrefix, sizeof kPrefix - 1) ? msg : msg + sizeof kPrefix - 1;
}

pal_status_t pal_provider_cuda_create(pal_provider_t **out_provider) {
  pal_provider_t *p = calloc(1, sizeof *p);
  cuda_ctx_t *cx = calloc(1, sizeof *cx);
  if (!p || !cx) {
    free(p);
    free(cx);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  }
  p->name = PAL_PROVIDER_CUDA;
  p->ctx = cx;
  p->can_run = cuda_can_run;
  p->prepare = cuda_prepare;
  p->run = cuda_run;
  p->destroy = cuda_destroy;
  pal_status_t st = pal_cuda_open(NULL, &cx->cuda);
  if (st) {
    p->available = false;
    snprintf(p->detail, sizeof p->detail, "%s", strip_prefix(pal_status_message(st)));
    pal_status_free(st);
  } else {
    p->available = true;
    snprintf(p->detail, sizeof p->detail, "%.60s: Gemm/MatMul (cuBLAS), 17 element-wise ops (%.60s)",
             pal_cuda_device_name(cx->cuda), pal_cuda_library_path(cx->cuda));
  }
  *out_provider = p;
  return PAL_STATUS_OK;
}
