/* The FP32 MLP: He initialisation, forward pass, softmax cross-entropy with
 * its gradient by backpropagation, and minibatch training with Adam or SGD
 * with momentum. Every matrix product goes through OpenBLAS; everything
 * else is plain loops in a fixed order, so a seed fixes the result. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pal_train.h"

/* splitmix64: small, seedable, the same on every platform. */
static uint64_t rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double rng_uniform(uint64_t *state) { return (double)(rng_next(state) >> 11) * 0x1.0p-53; }
static double rng_gauss(uint64_t *state) {
  double u1 = rng_uniform(state), u2 = rng_uniform(state);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- the model -------------------------------------------------------------- */

pal_status_t pal_mlp_create(size_t n_layers, const size_t *sizes, pal_mlp_t **out_mlp) {
  if (!sizes || !out_mlp) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_create: NULL argument");
  *out_mlp = NULL;
  if (n_layers < 1 || n_layers > PAL_MLP_MAX_LAYERS)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_create: %zu layers (must be 1..%d)", n_layers,
                           PAL_MLP_MAX_LAYERS);
  for (size_t i = 0; i <= n_layers; i++)
    if (sizes[i] < 1 || sizes[i] > (1u << 20))
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_create: width %zu of level %zu is outside 1..2^20",
                             sizes[i], i);
  pal_mlp_t *m = calloc(1, sizeof *m);
  if (!m) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_mlp_create: out of memory");
  m->n_layers = n_layers;
  memcpy(m->sizes, sizes, (n_layers + 1) * sizeof *sizes);
  for (size_t i = 0; i < n_layers; i++) {
    m->w[i] = calloc(sizes[i + 1] * sizes[i], sizeof(float));
    m->b[i] = calloc(sizes[i + 1], sizeof(float));
    if (!m->w[i] || !m->b[i]) {
      pal_mlp_destroy(m);
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_mlp_create: out of memory for layer %zu", i);
    }
  }
  *out_mlp = m;
  return PAL_STATUS_OK;
}

void pal_mlp_destroy(pal_mlp_t *mlp) {
  if (!mlp) return;
  for (size_t i = 0; i < mlp->n_layers; i++) {
    free(mlp->w[i]);
    free(mlp->b[i]);
  }
  free(mlp);
}

void pal_mlp_init_he(pal_mlp_t *mlp, uint64_t seed) {
  uint64_t state = seed;
  for (size_t l = 0; l < mlp->n_layers; l++) {
    size_t in = mlp->sizes[l], out = mlp->sizes[l + 1];
    /* He et al. 2015: keeps the variance of ReLU activations constant. */
    double std = sqrt(2.0 / (double)in);
    for (size_t i = 0; i < in * out; i++) mlp->w[l][i] = (float)(std * rng_gauss(&state));
    memset(mlp->b[l], 0, out * sizeof(float));
  }
}

size_t pal_mlp_param_count(const pal_mlp_t *mlp) {
  size_t n = 0;
  for (size_t l = 0; l < mlp->n_layers; l++) n += mlp->sizes[l + 1] * (mlp->sizes[l] + 1);
  return n;
}

/* ---- forward ---------------------------------------------------------------- */

/* y = act(x W^T + b) for one layer; relu on all but the last. */
static void layer_forward(const pal_mlp_t *mlp, size_t l, const float *x, size_t batch, float *y) {
  size_t in = mlp->sizes[l], out = mlp->sizes[l + 1];
  for (size_t r = 0; r < batch; r++) memcpy(y + r * out, mlp->b[l], out * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, (int)out, (int)in, 1.0f, x, (int)in,
              mlp->w[l], (int)in, 1.0f, y, (int)out);
  if (l + 1 < mlp->n_layers)
    for (size_t i = 0; i < batch * out; i++)
      if (!(y[i] > 0.0f)) y[i] = 0.0f;
}

pal_status_t pal_mlp_forward(const pal_mlp_t *mlp, const float *x, size_t batch, float *const *acts) {
  if (!mlp || !x || !acts) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_forward: NULL argument");
  /* cblas takes int dimensions: every matrix must have fewer than 2^31 elements. */
  for (size_t l = 0; l <= mlp->n_layers; l++)
    if (batch == 0 || batch > (size_t)INT32_MAX / mlp->sizes[l])
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_forward: batch %zu is out of range", batch);
  const float *cur = x;
  for (size_t l = 0; l < mlp->n_layers; l++) {
    if (!acts[l]) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_forward: acts[%zu] is NULL", l);
    layer_forward(mlp, l, cur, batch, acts[l]);
    cur = acts[l];
  }
  return PAL_STATUS_OK;
}

/* ---- loss and gradient ------------------------------------------------------ */

/* Buffers for one batch of up to `cap` rows. */
typedef struct workspace {
  size_t cap;
  float *acts[PAL_MLP_MAX_LAYERS];
  float *delta, *delta_prev; /* cap x max width */
} workspace_t;

static void ws_free(workspace_t *ws) {
  for (size_t l = 0; l < PAL_MLP_MAX_LAYERS; l++) free(ws->acts[l]);
  free(ws->delta);
  free(ws->delta_prev);
  memset(ws, 0, sizeof *ws);
}

static pal_status_t ws_alloc(const pal_mlp_t *mlp, size_t cap, workspace_t *ws) {
  memset(ws, 0, sizeof *ws);
  ws->cap = cap;
  size_t widest = 0;
  bool ok = true;
  for (size_t l = 0; l < mlp->n_layers; l++) {
    ws->acts[l] = malloc(cap * mlp->sizes[l + 1] * sizeof(float));
    ok = ok && ws->acts[l];
  }
  for (size_t l = 0; l <= mlp->n_layers; l++)
    if (mlp->sizes[l] > widest) widest = mlp->sizes[l];
  ws->delta = malloc(cap * widest * sizeof(float));
  ws->delta_prev = malloc(cap * widest * sizeof(float));
  if (!ok || !ws->delta || !ws->delta_prev) {
    ws_free(ws);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a batch of %zu", cap);
  }
  return PAL_STATUS_OK;
}

static pal_status_t loss_grad_ws(const pal_mlp_t *mlp, workspace_t *ws, const float *x,
                                 const uint8_t *labels, size_t batch, pal_mlp_t *grad,
                                 double *out_loss) {
  size_t L = mlp->n_layers, classes = mlp->sizes[L];
  for (size_t r = 0; r < batch; r++)
    if (labels[r] >= classes)
      return pal_status_make(PAL_INVALID_ARGUMENT, "label %u of row %zu is not below %zu classes",
                             labels[r], r, classes);
  PAL_RETURN_IF_ERROR(pal_mlp_forward(mlp, x, batch, ws->acts));
  /* Softmax cross-entropy; delta = (softmax - onehot) / batch is the
   * gradient of the mean loss with respect to the logits. */
  double loss = 0.0;
  const float *logits = ws->acts[L - 1];
  float *delta = ws->delta;
  for (size_t r = 0; r < batch; r++) {
    const float *z = logits + r * classes;
    float m = z[0];
    for (size_t c = 1; c < classes; c++)
      if (z[c] > m) m = z[c];
    double s = 0.0;
    for (size_t c = 0; c < classes; c++) s += exp((double)z[c] - m);
    double lse = m + log(s);
    loss += lse - z[labels[r]];
    for (size_t c = 0; c < classes; c++) {
      double p = exp((double)z[c] - lse);
      delta[r * classes + c] = (float)((p - (c == labels[r] ? 1.0 : 0.0)) / (double)batch);
    }
  }
  if (out_loss) *out_loss = loss / (double)batch;
  if (!grad) return PAL_STATUS_OK;
  for (size_t l = L; l-- > 0;) {
    size_t in = mlp->sizes[l], out = mlp->sizes[l + 1];
    const float *input = l == 0 ? x : ws->acts[l - 1];
    /* dW = delta^T input (out x in), db = column sums of delta. */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)batch, 1.0f, delta,
                (int)out, input, (int)in, 0.0f, grad->w[l], (int)in);
    for (size_t c = 0; c < out; c++) {
      float s = 0.0f;
      for (size_t r = 0; r < batch; r++) s += delta[r * out + c];
      grad->b[l][c] = s;
    }
    if (l == 0) break;
    /* Back through W and the previous layer's ReLU (its output > 0). */
    float *dprev = ws->delta_prev;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, (int)in, (int)out, 1.0f, delta,
                (int)out, mlp->w[l], (int)in, 0.0f, dprev, (int)in);
    const float *a = ws->acts[l - 1];
    for (size_t i = 0; i < batch * in; i++)
      if (!(a[i] > 0.0f)) dprev[i] = 0.0f;
    ws->delta_prev = delta;
    ws->delta = dprev;
    delta = dprev;
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_mlp_loss_grad(const pal_mlp_t *mlp, const float *x, const uint8_t *labels,
                               size_t batch, pal_mlp_t *grad, double *out_loss) {
  if (!mlp || !x || !labels) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_loss_grad: NULL argument");
  if (batch == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_loss_grad: empty batch");
  if (grad) {
    if (grad->n_layers != mlp->n_layers ||
        memcmp(grad->sizes, mlp->sizes, (mlp->n_layers + 1) * sizeof(size_t)) != 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_loss_grad: grad's shape differs from the model's");
  }
  workspace_t ws;
  PAL_RETURN_IF_ERROR(ws_alloc(mlp, batch, &ws));
  pal_status_t st = loss_grad_ws(mlp, &ws, x, labels, batch, grad, out_loss);
  ws_free(&ws);
  return st;
}

/* ---- training --------------------------------------------------------------- */

void pal_train_options_initialize(pal_train_options_t *o) {
  memset(o, 0, sizeof *o);
  o->optimizer = PAL_OPT_ADAM;
  o->batch = 128;
  o->lr = 1e-3f;
  o->lr_decay = 0.8f;
  o->momentum = 0.9f;
  o->beta1 = 0.9f;
  o->beta2 = 0.999f;
  o->eps = 1e-8f;
  o->seed = 1;
}

struct pal_trainer {
  pal_mlp_t *mlp;
  pal_train_options_t opt;
  pal_mlp_t *grad, *m1, *m2; /* gradient, first and second moments (or velocity) */
  workspace_t ws;
  float *xb;
  uint8_t *yb;
  size_t *order;
  size_t order_n;
  uint64_t rng;
  uint64_t step;
  float lr;
};

pal_status_t pal_trainer_create(pal_mlp_t *mlp, const pal_train_options_t *options,
                                pal_trainer_t **out_trainer) {
  if (!mlp || !options || !out_trainer)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_trainer_create: NULL argument");
  *out_trainer = NULL;
  if (options->batch < 1 || options->batch > 65536)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_trainer_create: batch %zu is outside 1..65536",
                           options->batch);
  if (!(options->lr > 0.0f) || !(options->lr_decay > 0.0f) || options->optimizer > PAL_OPT_SGD_MOMENTUM)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_trainer_create: lr and lr_decay must be positive, optimizer known");
  pal_trainer_t *t = calloc(1, sizeof *t);
  if (!t) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_trainer_create: out of memory");
  t->mlp = mlp;
  t->opt = *options;
  t->rng = options->seed;
  t->lr = options->lr;
  pal_status_t st = pal_mlp_create(mlp->n_layers, mlp->sizes, &t->grad);
  if (!st) st = pal_mlp_create(mlp->n_layers, mlp->sizes, &t->m1);
  if (!st) st = pal_mlp_create(mlp->n_layers, mlp->sizes, &t->m2);
  if (!st) st = ws_alloc(mlp, options->batch, &t->ws);
  if (!st) {
    t->xb = malloc(options->batch * mlp->sizes[0] * sizeof(float));
    t->yb = malloc(options->batch);
    if (!t->xb || !t->yb) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_trainer_create: out of memory");
  }
  if (st) {
    pal_trainer_destroy(t);
    return st;
  }
  *out_trainer = t;
  return PAL_STATUS_OK;
}

void pal_trainer_destroy(pal_trainer_t *t) {
  if (!t) return;
  pal_mlp_destroy(t->grad);
  pal_mlp_destroy(t->m1);
  pal_mlp_destroy(t->m2);
  ws_free(&t->ws);
  free(t->xb);
  free(t->yb);
  free(t->order);
  free(t);
}

/* One optimiser step on n values p with gradient g and state s1, s2. */
static void update(const pal_trainer_t *t, float *p, const float *g, float *s1, float *s2, size_t n,
                   float c1, float c2) {
  const pal_train_options_t *o = &t->opt;
  if (o->optimizer == PAL_OPT_ADAM) {
    for (size_t i = 0; i < n; i++) {
      s1[i] = o->beta1 * s1[i] + (1.0f - o->beta1) * g[i];
      s2[i] = o->beta2 * s2[i] + (1.0f - o->beta2) * g[i] * g[i];
      float mhat = s1[i] / c1, vhat = s2[i] / c2;
      p[i] -= t->lr * mhat / (sqrtf(vhat) + o->eps);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      s1[i] = o->momentum * s1[i] + g[i];
      p[i] -= t->lr * s1[i];
    }
  }
}

pal_status_t pal_trainer_epoch(pal_trainer_t *t, const float *x, const uint8_t *labels, size_t n,
                               double *out_loss) {
  if (!t || !x || !labels) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_trainer_epoch: NULL argument");
  if (n == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_trainer_epoch: no examples");
  pal_mlp_t *mlp = t->mlp;
  size_t d = mlp->sizes[0];
  if (t->order_n != n) {
    size_t *o = realloc(t->order, n * sizeof *o);
    if (!o) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_trainer_epoch: out of memory");
    t->order = o;
    t->order_n = n;
  }
  for (size_t i = 0; i < n; i++) t->order[i] = i;
  for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
    size_t j = (size_t)(rng_next(&t->rng) % (i + 1));
    size_t tmp = t->order[i];
    t->order[i] = t->order[j];
    t->order[j] = tmp;
  }
  double total = 0.0;
  for (size_t start = 0; start < n; start += t->opt.batch) {
    size_t b = n - start < t->opt.batch ? n - start : t->opt.batch;
    for (size_t r = 0; r < b; r++) {
      size_t src = t->order[start + r];
      memcpy(t->xb + r * d, x + src * d, d * sizeof(float));
      t->yb[r] = labels[src];
    }
    double loss;
    PAL_RETURN_IF_ERROR(loss_grad_ws(mlp, &t->ws, t->xb, t->yb, b, t->grad, &loss));
    total += loss * (double)b;
    t->step++;
    float c1 = (float)(1.0 - pow(t->opt.beta1, (double)t->step));
    float c2 = (float)(1.0 - pow(t->opt.beta2, (double)t->step));
    for (size_t l = 0; l < mlp->n_layers; l++) {
      update(t, mlp->w[l], t->grad->w[l], t->m1->w[l], t->m2->w[l], mlp->sizes[l] * mlp->sizes[l + 1], c1, c2);
      update(t, mlp->b[l], t->grad->b[l], t->m1->b[l], t->m2->b[l], mlp->sizes[l + 1], c1, c2);
    }
  }
  t->lr *= t->opt.lr_decay;
  if (out_loss) *out_loss = total / (double)n;
  return PAL_STATUS_OK;
}
