/* The demo's FP32 CNN: Conv 3x3 (pad 1) + ReLU + MaxPool 2, twice, then
 * Flatten, Gemm + ReLU, Gemm. Convolutions run as im2col + OpenBLAS sgemm
 * on an NHWC working layout (rows = pixels, columns = channels), so each
 * conv is one matrix product per batch; the weights keep ONNX's M x C x kH x kW
 * layout, which is already the N x K matrix the product needs. Loops have
 * a fixed order and OpenBLAS runs one thread in the trainer, so a seed
 * fixes the result. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/pal.h"
#include "pal_train.h"

/* splitmix64, as in pal_mlp.c (kept private to each file). */
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

void pal_cnn_config_initialize(pal_cnn_config_t *config) {
  config->hw = 28;
  config->c1 = PAL_CNN_DEFAULT_C1;
  config->c2 = PAL_CNN_DEFAULT_C2;
  config->hidden = PAL_CNN_DEFAULT_HIDDEN;
  config->classes = PAL_MNIST_CLASSES;
}

pal_status_t pal_cnn_create(const pal_cnn_config_t *config, pal_cnn_t **out_cnn) {
  if (!config || !out_cnn) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_create: NULL argument");
  *out_cnn = NULL;
  const pal_cnn_config_t *c = config;
  if (c->hw < 4 || c->hw > 1024 || c->hw % 4)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_create: image size %zu must be a multiple of 4 in 4..1024",
                           c->hw);
  if (c->c1 < 1 || c->c1 > 1024 || c->c2 < 1 || c->c2 > 1024 || c->hidden < 1 || c->hidden > 65536 ||
      c->classes < 1 || c->classes > 256)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_cnn_create: channels %zu/%zu, hidden %zu or classes %zu out of range", c->c1,
                           c->c2, c->hidden, c->classes);
  pal_cnn_t *m = calloc(1, sizeof *m);
  if (!m) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cnn_create: out of memory");
  m->cfg = *c;
  size_t q = c->hw / 4;
  m->flat = c->c2 * q * q;
  size_t sizes[8] = {c->c1 * 9, c->c1, c->c2 * c->c1 * 9, c->c2, c->hidden * m->flat, c->hidden,
                     c->classes * c->hidden, c->classes};
  size_t n = 0;
  for (int i = 0; i < 8; i++) n += sizes[i];
  m->n_params = n;
  m->params = calloc(n, sizeof(float));
  if (!m->params) {
    free(m);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cnn_create: out of memory for %zu parameters", n);
  }
  float **views[8] = {&m->w1, &m->b1, &m->w2, &m->b2, &m->w3, &m->b3, &m->w4, &m->b4};
  float *p = m->params;
  for (int i = 0; i < 8; i++) {
    *views[i] = p;
    p += sizes[i];
  }
  *out_cnn = m;
  return PAL_STATUS_OK;
}

void pal_cnn_destroy(pal_cnn_t *cnn) {
  if (!cnn) return;
  free(cnn->params);
  free(cnn);
}

void pal_cnn_init_he(pal_cnn_t *cnn, uint64_t seed) {
  uint64_t state = seed;
  const pal_cnn_config_t *c = &cnn->cfg;
  float *w[4] = {cnn->w1, cnn->w2, cnn->w3, cnn->w4};
  size_t fan_in[4] = {9, c->c1 * 9, cnn->flat, c->hidden};
  size_t count[4] = {c->c1 * 9, c->c2 * c->c1 * 9, c->hidden * cnn->flat, c->classes * c->hidden};
  memset(cnn->params, 0, cnn->n_params * sizeof(float));
  for (int l = 0; l < 4; l++) {
    double std = sqrt(2.0 / (double)fan_in[l]); /* He et al. 2015, as the MLP */
    for (size_t i = 0; i < count[l]; i++) w[l][i] = (float)(std * rng_gauss(&state));
  }
}

/* ---- building blocks (NHWC: row = (image, y, x), column = channel) ---------- */

/* 3x3, pad 1, stride 1: row (b, oy, ox) holds x[b][oy+kh-1][ox+kw-1][c] at
 * k = (c*3 + kh)*3 + kw (ONNX weight order), zero outside the image. */
static void im2col3(const float *x, size_t B, size_t H, size_t W, size_t C, float *cols) {
  size_t K = C * 9;
  for (size_t b = 0; b < B; b++)
    for (size_t oy = 0; oy < H; oy++)
      for (size_t ox = 0; ox < W; ox++) {
        float *row = cols + ((b * H + oy) * W + ox) * K;
        for (size_t kh = 0; kh < 3; kh++)
          for (size_t kw = 0; kw < 3; kw++) {
            size_t iy = oy + kh - 1, ix = ox + kw - 1; /* wraps to huge when < 0 */
            bool in = iy < H && ix < W;
            const float *src = in ? x + ((b * H + iy) * W + ix) * C : NULL;
            for (size_t c = 0; c < C; c++) row[(c * 3 + kh) * 3 + kw] = in ? src[c] : 0.0f;
          }
      }
}

/* The adjoint of im2col3: dx (zeroed here) += every column's contribution. */
static void col2im3(const float *cols, size_t B, size_t H, size_t W, size_t C, float *dx) {
  size_t K = C * 9;
  memset(dx, 0, B * H * W * C * sizeof(float));
  for (size_t b = 0; b < B; b++)
    for (size_t oy = 0; oy < H; oy++)
      for (size_t ox = 0; ox < W; ox++) {
        const float *row = cols + ((b * H + oy) * W + ox) * K;
        for (size_t kh = 0; kh < 3; kh++)
          for (size_t kw = 0; kw < 3; kw++) {
            size_t iy = oy + kh - 1, ix = ox + kw - 1;
            if (iy >= H || ix >= W) continue;
            float *dst = dx + ((b * H + iy) * W + ix) * C;
            for (size_t c = 0; c < C; c++) dst[c] += row[(c * 3 + kh) * 3 + kw];
          }
      }
}

/* y = relu(cols w^T + b): M rows of K, N outputs. */
static void dense_relu(const float *cols, size_t M, size_t K, const float *w, const float *bias, size_t N,
                       bool relu, float *y) {
  for (size_t r = 0; r < M; r++) memcpy(y + r * N, bias, N * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, cols, (int)K, w, (int)K,
              1.0f, y, (int)N);
  if (relu)
    for (size_t i = 0; i < M * N; i++)
      if (!(y[i] > 0.0f)) y[i] = 0.0f;
}

/* 2x2 max pool, stride 2 (H, W even); idx gets the winning input's index
 * (the first of equal values, as ONNX MaxPool's Indices). */
static void maxpool2(const float *x, size_t B, size_t H, size_t W, size_t C, float *y, uint32_t *idx) {
  size_t OH = H / 2, OW = W / 2;
  for (size_t b = 0; b < B; b++)
    for (size_t oy = 0; oy < OH; oy++)
      for (size_t ox = 0; ox < OW; ox++)
        for (size_t c = 0; c < C; c++) {
          size_t best = ((b * H + 2 * oy) * W + 2 * ox) * C + c;
          for (size_t d = 1; d < 4; d++) {
            size_t i = ((b * H + 2 * oy + d / 2) * W + 2 * ox + d % 2) * C + c;
            if (x[i] > x[best]) best = i;
          }
          size_t o = ((b * OH + oy) * OW + ox) * C + c;
          y[o] = x[best];
          if (idx) idx[o] = (uint32_t)best;
        }
}

/* Activations of one batch. */
typedef struct cnn_ws {
  size_t cap; /* rows (images) the buffers hold */
  float *cols1, *a1, *p1, *cols2, *a2, *p2, *flat, *f, *logits;
  uint32_t *idx1, *idx2;
  float *df, *dflat, *mask2, *da1; /* backward only */
} cnn_ws_t;

static void ws_free(cnn_ws_t *ws) {
  free(ws->cols1);
  free(ws->a1);
  free(ws->p1);
  free(ws->cols2);
  free(ws->a2);
  free(ws->p2);
  free(ws->flat);
  free(ws->f);
  free(ws->logits);
  free(ws->idx1);
  free(ws->idx2);
  free(ws->df);
  free(ws->dflat);
  free(ws->mask2);
  free(ws->da1);
  memset(ws, 0, sizeof *ws);
}

static pal_status_t ws_alloc(const pal_cnn_t *m, size_t B, bool backward, cnn_ws_t *ws) {
  const pal_cnn_config_t *c = &m->cfg;
  size_t p = c->hw * c->hw, p2 = p / 4, p4 = p / 16;
  memset(ws, 0, sizeof *ws);
  /* cblas takes int dimensions: the largest matrix (cols2) must fit. */
  if (B == 0 || B > (size_t)INT32_MAX / (p2 * c->c1 * 9) || B > (size_t)INT32_MAX / (p * c->c1) ||
      B > (size_t)INT32_MAX / (p2 * c->c2))
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn: batch %zu is out of range", B);
  ws->cols1 = malloc(B * p * 9 * sizeof(float));
  ws->a1 = malloc(B * p * c->c1 * sizeof(float));
  ws->p1 = malloc(B * p2 * c->c1 * sizeof(float));
  ws->idx1 = malloc(B * p2 * c->c1 * sizeof(uint32_t));
  ws->cols2 = malloc(B * p2 * c->c1 * 9 * sizeof(float));
  ws->a2 = malloc(B * p2 * c->c2 * sizeof(float));
  ws->p2 = malloc(B * p4 * c->c2 * sizeof(float));
  ws->idx2 = malloc(B * p4 * c->c2 * sizeof(uint32_t));
  ws->flat = malloc(B * m->flat * sizeof(float));
  ws->f = malloc(B * c->hidden * sizeof(float));
  ws->logits = malloc(B * c->classes * sizeof(float));
  if (backward) {
    ws->df = malloc(B * c->hidden * sizeof(float));
    ws->dflat = malloc(B * m->flat * sizeof(float));
    ws->mask2 = malloc(B * p2 * c->c2 * sizeof(float));
    ws->da1 = malloc(B * p * c->c1 * sizeof(float));
  }
  ws->cap = B;
  if (!ws->cols1 || !ws->a1 || !ws->p1 || !ws->idx1 || !ws->cols2 || !ws->a2 || !ws->p2 || !ws->idx2 ||
      !ws->flat || !ws->f || !ws->logits || (backward && (!ws->df || !ws->dflat || !ws->mask2 || !ws->da1))) {
    ws_free(ws);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cnn: out of memory for a batch of %zu", B);
  }
  return PAL_STATUS_OK;
}

static void forward_ws(const pal_cnn_t *m, const float *x, size_t B, cnn_ws_t *ws) {
  const pal_cnn_config_t *c = &m->cfg;
  size_t H = c->hw, H2 = H / 2, H4 = H / 4, s4 = H4 * H4;
  /* The input has one channel, so N x 1 x H x W is already NHWC. */
  im2col3(x, B, H, H, 1, ws->cols1);
  dense_relu(ws->cols1, B * H * H, 9, m->w1, m->b1, c->c1, true, ws->a1);
  maxpool2(ws->a1, B, H, H, c->c1, ws->p1, ws->idx1);
  im2col3(ws->p1, B, H2, H2, c->c1, ws->cols2);
  dense_relu(ws->cols2, B * H2 * H2, c->c1 * 9, m->w2, m->b2, c->c2, true, ws->a2);
  maxpool2(ws->a2, B, H2, H2, c->c2, ws->p2, ws->idx2);
  /* ONNX Flatten of NCHW: feature c*H4*W4 + pixel. */
  for (size_t b = 0; b < B; b++)
    for (size_t s = 0; s < s4; s++)
      for (size_t ch = 0; ch < c->c2; ch++) ws->flat[b * m->flat + ch * s4 + s] = ws->p2[(b * s4 + s) * c->c2 + ch];
  dense_relu(ws->flat, B, m->flat, m->w3, m->b3, c->hidden, true, ws->f);
  dense_relu(ws->f, B, c->hidden, m->w4, m->b4, c->classes, false, ws->logits);
}

pal_status_t pal_cnn_forward(const pal_cnn_t *cnn, const float *x, size_t batch, float *logits) {
  if (!cnn || !x || !logits) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_forward: NULL argument");
  cnn_ws_t ws;
  PAL_RETURN_IF_ERROR(ws_alloc(cnn, batch, false, &ws));
  forward_ws(cnn, x, batch, &ws);
  memcpy(logits, ws.logits, batch * cnn->cfg.classes * sizeof(float));
  ws_free(&ws);
  return PAL_STATUS_OK;
}

pal_status_t pal_cnn_kink_signature(const pal_cnn_t *cnn, const float *x, size_t batch, uint64_t *out_sig) {
  if (!cnn || !x || !out_sig) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_kink_signature: NULL argument");
  cnn_ws_t ws;
  PAL_RETURN_IF_ERROR(ws_alloc(cnn, batch, false, &ws));
  forward_ws(cnn, x, batch, &ws);
  const pal_cnn_config_t *c = &cnn->cfg;
  size_t p = c->hw * c->hw;
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over every ReLU sign and pool winner */
#define SIG_MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001b3ull)
  for (size_t i = 0; i < batch * p * c->c1; i++) SIG_MIX(ws.a1[i] > 0.0f);
  for (size_t i = 0; i < batch * p / 4 * c->c1; i++) SIG_MIX(ws.idx1[i]);
  for (size_t i = 0; i < batch * p / 4 * c->c2; i++) SIG_MIX(ws.a2[i] > 0.0f);
  for (size_t i = 0; i < batch * p / 16 * c->c2; i++) SIG_MIX(ws.idx2[i]);
  for (size_t i = 0; i < batch * c->hidden; i++) SIG_MIX(ws.f[i] > 0.0f);
#undef SIG_MIX
  ws_free(&ws);
  *out_sig = h;
  return PAL_STATUS_OK;
}

/* ---- loss and gradient ------------------------------------------------------ */

static void col_sums(const float *d, size_t rows, size_t cols, float *out) {
  memset(out, 0, cols * sizeof(float));
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < cols; j++) out[j] += d[r * cols + j];
}

/* dW (N x K) = d^T (M x N) . in (M x K) */
static void weight_grad(const float *d, const float *in, size_t M, size_t N, size_t K, float *dw) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)K, (int)M, 1.0f, d, (int)N, in, (int)K, 0.0f,
              dw, (int)K);
}

/* din (M x K) = d (M x N) . W (N x K) */
static void input_grad(const float *d, const float *w, size_t M, size_t N, size_t K, float *din) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)K, (int)N, 1.0f, d, (int)N, w, (int)K, 0.0f,
              din, (int)K);
}

/* Loss and gradient of a batch of up to ws->cap images in a workspace
 * allocated with backward buffers (the trainer keeps one across batches:
 * fresh buffers for every batch cost page faults). */
static void loss_grad_ws(const pal_cnn_t *cnn, const float *x, const uint8_t *labels, size_t batch,
                         pal_cnn_t *grad, cnn_ws_t *ws, double *out_loss) {
  const pal_cnn_config_t *c = &cnn->cfg;
  forward_ws(cnn, x, batch, ws);
  size_t B = batch, K = c->classes, H = c->hw, H2 = H / 2, H4 = H / 4, s4 = H4 * H4;
  double loss = 0.0;
  /* dlogits = (softmax - onehot) / B, written over the logits. */
  float *dl = ws->logits;
  for (size_t r = 0; r < B; r++) {
    float *z = dl + r * K, mx = z[0];
    for (size_t j = 1; j < K; j++) mx = z[j] > mx ? z[j] : mx;
    double sum = 0.0;
    for (size_t j = 0; j < K; j++) sum += exp((double)(z[j] - mx));
    loss += log(sum) - (double)(z[labels[r]] - mx);
    for (size_t j = 0; j < K; j++)
      z[j] = (float)((exp((double)(z[j] - mx)) / sum - (j == labels[r] ? 1.0 : 0.0)) / (double)B);
  }
  *out_loss = loss / (double)B;
  if (!grad) return;
  float *df = ws->df, *dflat = ws->dflat;
  /* fc2 and fc1 */
  weight_grad(dl, ws->f, B, K, c->hidden, grad->w4);
  col_sums(dl, B, K, grad->b4);
  input_grad(dl, cnn->w4, B, K, c->hidden, df);
  for (size_t i = 0; i < B * c->hidden; i++)
    if (!(ws->f[i] > 0.0f)) df[i] = 0.0f;
  weight_grad(df, ws->flat, B, c->hidden, cnn->flat, grad->w3);
  col_sums(df, B, c->hidden, grad->b3);
  input_grad(df, cnn->w3, B, c->hidden, cnn->flat, dflat);
  /* Un-flatten into NHWC (over p2), then back through pool 2 and ReLU 2:
   * a2 gets the gradient only where its value won the pool. */
  for (size_t b = 0; b < B; b++)
    for (size_t s = 0; s < s4; s++)
      for (size_t ch = 0; ch < c->c2; ch++) ws->p2[(b * s4 + s) * c->c2 + ch] = dflat[b * cnn->flat + ch * s4 + s];
  size_t n_a2 = B * H2 * H2 * c->c2;
  float *da2 = ws->a2; /* a2 is needed only for its ReLU mask, saved first */
  for (size_t i = 0; i < n_a2; i++) ws->mask2[i] = ws->a2[i] > 0.0f ? 1.0f : 0.0f;
  memset(da2, 0, n_a2 * sizeof(float));
  for (size_t i = 0; i < B * s4 * c->c2; i++) da2[ws->idx2[i]] += ws->p2[i];
  for (size_t i = 0; i < n_a2; i++) da2[i] *= ws->mask2[i];
  /* conv2 */
  size_t M2 = B * H2 * H2, K2 = c->c1 * 9;
  weight_grad(da2, ws->cols2, M2, c->c2, K2, grad->w2);
  col_sums(da2, M2, c->c2, grad->b2);
  input_grad(da2, cnn->w2, M2, c->c2, K2, ws->cols2); /* cols2 is no longer needed */
  col2im3(ws->cols2, B, H2, H2, c->c1, ws->p1);       /* dp1 over p1 */
  /* pool 1, ReLU 1, conv1 (the input needs no gradient) */
  size_t n_a1 = B * H * H * c->c1;
  float *da1 = ws->da1;
  memset(da1, 0, n_a1 * sizeof(float));
  for (size_t i = 0; i < B * H2 * H2 * c->c1; i++) da1[ws->idx1[i]] += ws->p1[i];
  for (size_t i = 0; i < n_a1; i++)
    if (!(ws->a1[i] > 0.0f)) da1[i] = 0.0f;
  weight_grad(da1, ws->cols1, B * H * H, c->c1, 9, grad->w1);
  col_sums(da1, B * H * H, c->c1, grad->b1);
}

static pal_status_t check_batch(const pal_cnn_t *cnn, const uint8_t *labels, size_t batch, const pal_cnn_t *grad) {
  const pal_cnn_config_t *c = &cnn->cfg;
  if (grad && memcmp(&grad->cfg, c, sizeof *c) != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_loss_grad: grad has another shape than the model");
  for (size_t r = 0; r < batch; r++)
    if (labels[r] >= c->classes)
      return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_loss_grad: label %u of row %zu is not below %zu",
                             labels[r], r, c->classes);
  return PAL_STATUS_OK;
}

pal_status_t pal_cnn_loss_grad(const pal_cnn_t *cnn, const float *x, const uint8_t *labels, size_t batch,
                               pal_cnn_t *grad, double *out_loss) {
  if (!cnn || !x || !labels || !out_loss)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_loss_grad: NULL argument");
  PAL_RETURN_IF_ERROR(check_batch(cnn, labels, batch, grad));
  cnn_ws_t ws;
  PAL_RETURN_IF_ERROR(ws_alloc(cnn, batch, grad != NULL, &ws));
  loss_grad_ws(cnn, x, labels, batch, grad, &ws, out_loss);
  ws_free(&ws);
  return PAL_STATUS_OK;
}

/* ---- training ----------------------------------------------------------- */

struct pal_cnn_trainer {
  pal_cnn_t *cnn;
  pal_cnn_t *grad;
  pal_train_options_t opt;
  float *m, *v; /* Adam moments, or m = SGD velocity */
  uint64_t step;
  uint64_t rng;
  float lr;
  size_t *perm, perm_n;
  float *xb;
  uint8_t *yb;
  cnn_ws_t ws;
};

pal_status_t pal_cnn_trainer_create(pal_cnn_t *cnn, const pal_train_options_t *options,
                                    pal_cnn_trainer_t **out_trainer) {
  if (!cnn || !options || !out_trainer)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_trainer_create: NULL argument");
  *out_trainer = NULL;
  const pal_train_options_t *o = options;
  if (o->batch < 1 || o->batch > 65536 || !(o->lr > 0.0f) || !(o->lr_decay > 0.0f) ||
      (o->optimizer != PAL_OPT_ADAM && o->optimizer != PAL_OPT_SGD_MOMENTUM))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_cnn_trainer_create: bad options (batch %zu, lr %g, lr_decay %g, optimizer %d)",
                           o->batch, (double)o->lr, (double)o->lr_decay, (int)o->optimizer);
  pal_cnn_trainer_t *t = calloc(1, sizeof *t);
  if (!t) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cnn_trainer_create: out of memory");
  t->cnn = cnn;
  t->opt = *o;
  t->lr = o->lr;
  t->rng = o->seed;
  pal_status_t st = pal_cnn_create(&cnn->cfg, &t->grad);
  if (!st) {
    t->m = calloc(cnn->n_params, sizeof(float));
    t->v = calloc(cnn->n_params, sizeof(float));
    t->xb = malloc(o->batch * cnn->cfg.hw * cnn->cfg.hw * sizeof(float));
    t->yb = malloc(o->batch);
    if (!t->m || !t->v || !t->xb || !t->yb)
      st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cnn_trainer_create: out of memory");
  }
  if (!st) st = ws_alloc(cnn, o->batch, true, &t->ws);
  if (st) {
    pal_cnn_trainer_destroy(t);
    return st;
  }
  *out_trainer = t;
  return PAL_STATUS_OK;
}

void pal_cnn_trainer_destroy(pal_cnn_trainer_t *t) {
  if (!t) return;
  pal_cnn_destroy(t->grad);
  free(t->m);
  free(t->v);
  free(t->perm);
  free(t->xb);
  free(t->yb);
  ws_free(&t->ws);
  free(t);
}

static void apply_update(pal_cnn_trainer_t *t) {
  float *p = t->cnn->params, *g = t->grad->params;
  size_t n = t->cnn->n_params;
  const pal_train_options_t *o = &t->opt;
  if (o->optimizer == PAL_OPT_ADAM) {
    t->step++;
    double c1 = 1.0 - pow((double)o->beta1, (double)t->step), c2 = 1.0 - pow((double)o->beta2, (double)t->step);
    float a = (float)((double)t->lr * sqrt(c2) / c1);
    for (size_t i = 0; i < n; i++) {
      t->m[i] = o->beta1 * t->m[i] + (1.0f - o->beta1) * g[i];
      t->v[i] = o->beta2 * t->v[i] + (1.0f - o->beta2) * g[i] * g[i];
      p[i] -= a * t->m[i] / (sqrtf(t->v[i]) + o->eps);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      t->m[i] = o->momentum * t->m[i] + g[i];
      p[i] -= t->lr * t->m[i];
    }
  }
}

pal_status_t pal_cnn_trainer_epoch(pal_cnn_trainer_t *t, const float *x, const uint8_t *labels, size_t n,
                                   double *out_loss) {
  if (!t || !x || !labels || !out_loss || n == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_trainer_epoch: bad argument");
  if (t->perm_n != n) {
    free(t->perm);
    t->perm = malloc(n * sizeof(size_t));
    t->perm_n = t->perm ? n : 0;
    if (!t->perm) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_cnn_trainer_epoch: out of memory");
  }
  for (size_t i = 0; i < n; i++) t->perm[i] = i;
  for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
    size_t j = (size_t)(rng_next(&t->rng) % (i + 1)), tmp = t->perm[i];
    t->perm[i] = t->perm[j];
    t->perm[j] = tmp;
  }
  size_t d = t->cnn->cfg.hw * t->cnn->cfg.hw;
  double total = 0.0;
  for (size_t start = 0; start < n; start += t->opt.batch) {
    size_t b = n - start < t->opt.batch ? n - start : t->opt.batch;
    for (size_t r = 0; r < b; r++) {
      memcpy(t->xb + r * d, x + t->perm[start + r] * d, d * sizeof(float));
      t->yb[r] = labels[t->perm[start + r]];
    }
    double loss;
    PAL_RETURN_IF_ERROR(check_batch(t->cnn, t->yb, b, t->grad));
    loss_grad_ws(t->cnn, t->xb, t->yb, b, t->grad, &t->ws, &loss);
    apply_update(t);
    total += loss * (double)b;
  }
  t->lr *= t->opt.lr_decay;
  *out_loss = total / (double)n;
  return PAL_STATUS_OK;
}

/* ---- ONNX ----------------------------------------------------------------- */

static pal_status_t add_init(pal_graph_t *g, const char *name, size_t rank, const int64_t *dims, const float *v) {
  pal_tensor_t *t;
  PAL_RETURN_IF_ERROR(pal_tensor_create_from(PAL_DTYPE_FP32, rank, dims, v, &t));
  return pal_graph_add_initializer(g, name, t);
}

static pal_status_t add_node(pal_graph_t *g, const char *op, const char *name, size_t n_in, const char *const *ins,
                             const char *out, size_t *node) {
  const char *outs[1] = {out};
  return pal_graph_add_node(g, op, name, n_in, ins, 1, outs, node);
}

static pal_status_t add_conv_block(pal_graph_t *g, int i, const char *in, const char *out) {
  char w[16], b[16], cv[16], r[16], n[16];
  snprintf(w, sizeof w, "conv%d.W", i);
  snprintf(b, sizeof b, "conv%d.b", i);
  snprintf(cv, sizeof cv, "conv%d", i);
  snprintf(r, sizeof r, "relu%d", i);
  snprintf(n, sizeof n, "pool%d", i);
  const char *ins[3] = {in, w, b};
  size_t node;
  const int64_t k[2] = {3, 3}, pads[4] = {1, 1, 1, 1}, two[2] = {2, 2}, one[2] = {1, 1};
  PAL_RETURN_IF_ERROR(add_node(g, "Conv", cv, 3, ins, cv, &node));
  PAL_RETURN_IF_ERROR(pal_graph_set_attr_ints(g, node, "kernel_shape", 2, k));
  PAL_RETURN_IF_ERROR(pal_graph_set_attr_ints(g, node, "pads", 4, pads));
  PAL_RETURN_IF_ERROR(pal_graph_set_attr_ints(g, node, "strides", 2, one));
  const char *rin[1] = {cv};
  PAL_RETURN_IF_ERROR(add_node(g, "Relu", r, 1, rin, r, &node));
  const char *pin[1] = {r};
  PAL_RETURN_IF_ERROR(add_node(g, "MaxPool", n, 1, pin, out, &node));
  PAL_RETURN_IF_ERROR(pal_graph_set_attr_ints(g, node, "kernel_shape", 2, two));
  PAL_RETURN_IF_ERROR(pal_graph_set_attr_ints(g, node, "strides", 2, two));
  return PAL_STATUS_OK;
}

pal_status_t pal_cnn_build_graph(const pal_cnn_t *cnn, pal_graph_t **out_graph) {
  if (!cnn || !out_graph) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_build_graph: NULL argument");
  *out_graph = NULL;
  const pal_cnn_config_t *c = &cnn->cfg;
  pal_graph_t *g;
  PAL_RETURN_IF_ERROR(pal_graph_create("fashion_cnn", &g));
  pal_graph_set_opset(g, 13);
  pal_shape_t in_shape = {.rank = 4, .dims = {-1, 1, (int64_t)c->hw, (int64_t)c->hw}}; /* batch is symbolic */
  pal_status_t st = pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &in_shape);
  int64_t d1[4] = {(int64_t)c->c1, 1, 3, 3}, d2[4] = {(int64_t)c->c2, (int64_t)c->c1, 3, 3};
  int64_t d3[2] = {(int64_t)c->hidden, (int64_t)cnn->flat}, d4[2] = {(int64_t)c->classes, (int64_t)c->hidden};
  if (!st) st = add_init(g, "conv1.W", 4, d1, cnn->w1);
  if (!st) st = add_init(g, "conv1.b", 1, d1, cnn->b1);
  if (!st) st = add_init(g, "conv2.W", 4, d2, cnn->w2);
  if (!st) st = add_init(g, "conv2.b", 1, d2, cnn->b2);
  if (!st) st = add_init(g, "fc1.W", 2, d3, cnn->w3);
  if (!st) st = add_init(g, "fc1.b", 1, d3, cnn->b3);
  if (!st) st = add_init(g, "fc2.W", 2, d4, cnn->w4);
  if (!st) st = add_init(g, "fc2.b", 1, d4, cnn->b4);
  if (!st) st = add_conv_block(g, 1, "x", "pool1");
  if (!st) st = add_conv_block(g, 2, "pool1", "pool2");
  size_t node;
  const char *fin[1] = {"pool2"};
  if (!st) st = add_node(g, "Flatten", "flatten", 1, fin, "flat", &node);
  if (!st) st = pal_graph_set_attr_int(g, node, "axis", 1);
  const char *g1[3] = {"flat", "fc1.W", "fc1.b"};
  if (!st) st = add_node(g, "Gemm", "fc1", 3, g1, "fc1", &node);
  if (!st) st = pal_graph_set_attr_int(g, node, "transB", 1);
  const char *r3[1] = {"fc1"};
  if (!st) st = add_node(g, "Relu", "relu3", 1, r3, "relu3", &node);
  const char *g2[3] = {"relu3", "fc2.W", "fc2.b"};
  if (!st) st = add_node(g, "Gemm", "fc2", 3, g2, "logits", &node);
  if (!st) st = pal_graph_set_attr_int(g, node, "transB", 1);
  if (!st) st = pal_graph_add_output(g, "logits");
  if (!st) st = pal_graph_finalize(g);
  if (st) {
    pal_graph_release(g);
    return st;
  }
  *out_graph = g;
  return PAL_STATUS_OK;
}

pal_status_t pal_cnn_save_onnx(const pal_cnn_t *cnn, const char *path) {
  if (!path) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_cnn_save_onnx: NULL path");
  pal_graph_t *g;
  PAL_RETURN_IF_ERROR(pal_cnn_build_graph(cnn, &g));
  pal_status_t st = pal_onnx_save(g, path);
  pal_graph_release(g);
  return st;
}
