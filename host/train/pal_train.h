/* The demo's trainers and evaluators (private to host/train/ and its tests):
 * IDX files (Fashion-MNIST), an FP32 multi-layer perceptron and a small CNN
 * trained with OpenBLAS (the CNN through im2col), their ONNX export, and the
 * MLP's evaluation in PAL8-B32 through the golden model's fast path, exactly
 * as the tile runs a chain of dense layers. */
#ifndef PAL_TRAIN_H
#define PAL_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/format.h"
#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX files ------------------------------------------------------------
 * Big-endian header: two zero bytes, a type byte, the rank, rank uint32
 * dimensions; then the elements. Only type 0x08 (unsigned byte) is read,
 * which is what MNIST-style data sets use. */

#define PAL_IDX_MAX_RANK 4
#define PAL_IDX_TYPE_U8 0x08u

typedef struct pal_idx {
  size_t rank;
  size_t dims[PAL_IDX_MAX_RANK];
  size_t count; /* product of dims */
  uint8_t *data; /* count elements, owned; release with pal_idx_release */
} pal_idx_t;

/* Parses an IDX image in memory; `name` is used in messages. Bad magic,
 * unsupported type or rank, a zero or overflowing dimension, and a size
 * that disagrees with the dimensions (truncated or trailing bytes) are
 * PAL_INVALID_ARGUMENT / PAL_DATA_LOSS naming `name`. */
pal_status_t pal_idx_parse(const void *data, size_t size, const char *name, pal_idx_t *out_idx);
/* Reads an IDX file, gzip-compressed or plain (zlib reads both); a
 * damaged or truncated gzip stream is PAL_DATA_LOSS naming the file. */
pal_status_t pal_idx_read(const char *path, pal_idx_t *out_idx);
void pal_idx_release(pal_idx_t *idx);

/* ---- MNIST-style data sets ------------------------------------------------ */

#define PAL_MNIST_PIXELS 784 /* 28 x 28 */
#define PAL_MNIST_CLASSES 10

typedef struct pal_mnist_set {
  size_t n;
  float *images;   /* n x 784, pixels / 255 in [0, 1], owned */
  uint8_t *labels; /* n values 0..9, owned */
} pal_mnist_set_t;

/* The directory where Debian's dataset-fashion-mnist installs the files. */
#define PAL_MNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* Loads DIR/PREFIX-images-idx3-ubyte[.gz] and DIR/PREFIX-labels-idx1-ubyte[.gz]
 * (prefix "train" or "t10k"): images must be N x 28 x 28, labels N values
 * below 10, the same N. Errors name the file. max_n > 0 keeps only the
 * first max_n examples. */
pal_status_t pal_mnist_load(const char *dir, const char *prefix, size_t max_n,
                            pal_mnist_set_t *out_set);
void pal_mnist_release(pal_mnist_set_t *set);

/* ---- the MLP --------------------------------------------------------------- */

#define PAL_MLP_MAX_LAYERS 8

/* Dense layers with ReLU after every layer but the last, whose outputs are
 * the logits of a softmax. Weights are out x in, row-major (ONNX Gemm with
 * transB = 1, and pal_dense_layer_t of compile.h). */
typedef struct pal_mlp {
  size_t n_layers;
  size_t sizes[PAL_MLP_MAX_LAYERS + 1]; /* sizes[0] inputs ... sizes[n_layers] outputs */
  float *w[PAL_MLP_MAX_LAYERS];         /* sizes[i+1] x sizes[i] */
  float *b[PAL_MLP_MAX_LAYERS];         /* sizes[i+1] */
} pal_mlp_t;

/* An MLP with zero parameters (also used for gradients). */
pal_status_t pal_mlp_create(size_t n_layers, const size_t *sizes, pal_mlp_t **out_mlp);
/* He-normal weights (std sqrt(2 / fan_in)), zero biases; deterministic in seed. */
void pal_mlp_init_he(pal_mlp_t *mlp, uint64_t seed);
void pal_mlp_destroy(pal_mlp_t *mlp);
size_t pal_mlp_param_count(const pal_mlp_t *mlp);

/* FP32 forward pass of `batch` rows of x (batch x sizes[0]). acts[i]
 * (batch x sizes[i+1]) receives layer i's output after its activation
 * (acts[n_layers-1] = the logits). */
pal_status_t pal_mlp_forward(const pal_mlp_t *mlp, const float *x, size_t batch, float *const *acts);

/* Mean softmax cross-entropy over the batch and, when grad is not NULL,
 * its gradient with respect to every parameter (grad has mlp's shape).
 * Labels must be below sizes[n_layers]. */
pal_status_t pal_mlp_loss_grad(const pal_mlp_t *mlp, const float *x, const uint8_t *labels,
                               size_t batch, pal_mlp_t *grad, double *out_loss);

/* ---- training ----------------------------------------------------------- */

typedef enum pal_optimizer {
  PAL_OPT_ADAM = 0,
  PAL_OPT_SGD_MOMENTUM,
} pal_optimizer_t;

typedef struct pal_train_options {
  pal_optimizer_t optimizer;
  size_t batch;       /* minibatch size; default 128 */
  float lr;           /* default 1e-3 (Adam), use ~0.05 for SGD */
  float lr_decay;     /* learning rate multiplied by this after each epoch; default 0.8 */
  float momentum;     /* SGD; default 0.9 */
  float beta1, beta2, eps; /* Adam; 0.9, 0.999, 1e-8 */
  uint64_t seed;      /* shuffling order */
} pal_train_options_t;

void pal_train_options_initialize(pal_train_options_t *options);

typedef struct pal_trainer pal_trainer_t;

/* A trainer for `mlp` (not owned; must outlive the trainer). */
pal_status_t pal_trainer_create(pal_mlp_t *mlp, const pal_train_options_t *options,
                                pal_trainer_t **out_trainer);
void pal_trainer_destroy(pal_trainer_t *trainer);
/* One pass over n examples in a freshly shuffled order (the last partial
 * batch included); *out_loss is the mean training loss over the pass. */
pal_status_t pal_trainer_epoch(pal_trainer_t *trainer, const float *x, const uint8_t *labels,
                               size_t n, double *out_loss);

/* ---- the CNN ----------------------------------------------------------------
 * Conv 3x3 (1 -> c1, pad 1) + ReLU + MaxPool 2 -> Conv 3x3 (c1 -> c2, pad 1)
 * + ReLU + MaxPool 2 -> Flatten (NCHW order, as ONNX) -> Gemm (c2*(hw/4)^2 ->
 * hidden) + ReLU -> Gemm (hidden -> classes), softmax cross-entropy. */

#define PAL_CNN_DEFAULT_C1 16
#define PAL_CNN_DEFAULT_C2 32
#define PAL_CNN_DEFAULT_HIDDEN 128

typedef struct pal_cnn_config {
  size_t hw;                 /* input height = width, a multiple of 4 (28) */
  size_t c1, c2, hidden;     /* channels of the two convs, width of fc1 */
  size_t classes;            /* 10 */
} pal_cnn_config_t;

/* 28 x 28 input, the PAL_CNN_DEFAULT_* widths, 10 classes. */
void pal_cnn_config_initialize(pal_cnn_config_t *config);

typedef struct pal_cnn {
  pal_cnn_config_t cfg;
  size_t flat;      /* c2 * (hw/4)^2: fc1's inputs */
  size_t n_params;
  float *params;    /* every parameter, contiguous (the optimiser's vector), owned */
  /* Views into params, in ONNX layouts: w1 c1 x 1 x 3 x 3, w2 c2 x c1 x 3 x 3,
   * w3 hidden x flat, w4 classes x hidden; biases one value per output. */
  float *w1, *b1, *w2, *b2, *w3, *b3, *w4, *b4;
} pal_cnn_t;

/* Zero parameters (also used for gradients). PAL_INVALID_ARGUMENT for an
 * image size that is not a multiple of 4 or widths out of range. */
pal_status_t pal_cnn_create(const pal_cnn_config_t *config, pal_cnn_t **out_cnn);
void pal_cnn_destroy(pal_cnn_t *cnn);
/* He-normal weights, zero biases; deterministic in seed. */
void pal_cnn_init_he(pal_cnn_t *cnn, uint64_t seed);
/* FP32 logits (batch x classes) of batch images (batch x hw x hw, NCHW with C = 1). */
pal_status_t pal_cnn_forward(const pal_cnn_t *cnn, const float *x, size_t batch, float *logits);
/* Mean softmax cross-entropy and, when grad is not NULL (same config),
 * its gradient with respect to every parameter. */
pal_status_t pal_cnn_loss_grad(const pal_cnn_t *cnn, const float *x, const uint8_t *labels, size_t batch,
                               pal_cnn_t *grad, double *out_loss);

/* A hash of every ReLU's sign and every pool's winner for these inputs:
 * a finite-difference step that changes it crossed a kink (for tests). */
pal_status_t pal_cnn_kink_signature(const pal_cnn_t *cnn, const float *x, size_t batch, uint64_t *out_sig);

typedef struct pal_cnn_trainer pal_cnn_trainer_t;
/* Minibatch training of `cnn` (not owned) with the MLP's options. */
pal_status_t pal_cnn_trainer_create(pal_cnn_t *cnn, const pal_train_options_t *options,
                                    pal_cnn_trainer_t **out_trainer);
void pal_cnn_trainer_destroy(pal_cnn_trainer_t *trainer);
pal_status_t pal_cnn_trainer_epoch(pal_cnn_trainer_t *trainer, const float *x, const uint8_t *labels, size_t n,
                                   double *out_loss);

/* The CNN as a finalized runtime graph (opset 13): input "x" [N, 1, hw, hw],
 * Conv/Relu/MaxPool x 2, Flatten, Gemm(transB = 1), Relu, Gemm -> "logits";
 * initializers conv1.W, conv1.b, ..., fc2.b. Release with pal_graph_release. */
typedef struct pal_graph pal_graph_t;
pal_status_t pal_cnn_build_graph(const pal_cnn_t *cnn, pal_graph_t **out_graph);
/* The same graph written as ONNX through the runtime's exporter. */
pal_status_t pal_cnn_save_onnx(const pal_cnn_t *cnn, const char *path);

/* ---- helpers of the trainer and evaluator programs ------------------------ */

double pal_train_now_s(void);                      /* monotonic seconds */
pal_status_t pal_train_make_dirs(const char *path); /* mkdir -p */
/* A size in decimal, octal or hex; false for signs, junk or overflow. */
bool pal_train_parse_size(const char *s, size_t *out);
/* Runs the graph (one input, one FP32 output of n x classes) on n items of
 * item_dims (rank 1..3, without the batch axis) in chunks of `chunk` through
 * a runtime session with the given providers; logits receive n x classes.
 * Prints the placement summary when asked; *out_cpu_nodes (optional) gets
 * the number of nodes placed on the cpu provider. */
pal_status_t pal_train_run_session(const pal_graph_t *g, const char *providers, const char *device_uri,
                                   const float *x, size_t n, size_t item_rank, const int64_t *item_dims,
                                   size_t classes, size_t chunk, bool print_placement, float *logits,
                                   size_t *out_cpu_nodes);

/* ---- evaluation ------------------------------------------------------------ */

/* Index of the largest of n values (the first one on ties; NaN never wins). */
size_t pal_argmax(const float *v, size_t n);

/* The MLP in PAL8-B32: weights encoded once (rows along K). */
typedef struct pal_mlp_pal8 pal_mlp_pal8_t;

pal_status_t pal_mlp_pal8_create(const pal_mlp_t *mlp, pal_mlp_pal8_t **out_q);
void pal_mlp_pal8_destroy(pal_mlp_pal8_t *q);

/* The forward pass as the tile runs it (compile.h): x encoded to PAL8-B32,
 * each layer through pal_gemm with its bias as the accumulator's start
 * value (PAL_BIAS_START) and ReLU in the post-processing, each hidden
 * output re-encoded to PAL8-B32 along its features; the last layer's
 * output stays FP32. acts[i] as in pal_mlp_forward (FP32 before the
 * re-encoding). threads: pal_gemm worker threads (0: one per CPU).
 * *out_nar (may be NULL) counts NaR outputs. */
pal_status_t pal_mlp_pal8_forward(const pal_mlp_pal8_t *q, const float *x, size_t batch,
                                  int threads, float *const *acts, size_t *out_nar);

/* ---- model files ------------------------------------------------------------ */

/* DIR/W1.npy, b1.npy, ... (W_i: sizes[i] x sizes[i-1] '<f4', b_i: sizes[i]). */
pal_status_t pal_mlp_save_npy(const pal_mlp_t *mlp, const char *dir);
/* Loads W1.., b1.. until W<k>.npy is missing; checks the chain of shapes. */
pal_status_t pal_mlp_load_npy(const char *dir, pal_mlp_t **out_mlp);
/* The MLP as an ONNX model (opset 13): input "x" [N, sizes[0]] FP32,
 * Gemm(transB = 1) and Relu nodes, initializers W1.., b1.., output "logits". */
pal_status_t pal_mlp_save_onnx(const pal_mlp_t *mlp, const char *path);
/* Writes x (n x d FP32) and labels (n, as '<i8') as .npy files. */
pal_status_t pal_save_dataset_npy(const float *x, const uint8_t *labels, size_t n, size_t d,
                                  const char *x_path, const char *y_path);

#ifdef __cplusplus
}
#endif
#endif /* PAL_TRAIN_H */
