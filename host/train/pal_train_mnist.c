/* pal-train-mnist: trains the demo's Fashion-MNIST MLP (784-256-128-10) in
 * FP32 and writes its parameters (.npy), the test set (.npy) and the model
 * as ONNX for the runtime. Exit codes: 0 done, 1 failed, 2 usage. */
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pal_train.h"

#define DEFAULT_EPOCHS 8

static void usage(FILE *f) {
  fprintf(f,
          "usage: pal-train-mnist [options]\n"
          "Trains an MLP 784-256-128-10 (ReLU, softmax cross-entropy, Adam) on Fashion-MNIST in\n"
          "FP32 and writes W1..W3, b1..b3, x_test, y_test (.npy) and fashion_mlp.onnx.\n"
          "  --data DIR        IDX files (train-*, t10k-*, .gz or plain); default %s\n"
          "  --out DIR         output folder; default build/demo\n"
          "  --epochs N        passes over the training set; default %d\n"
          "  --seed S          initialisation and shuffling seed; default 1\n"
          "  --batch N         minibatch size; default 128\n"
          "  --lr X            learning rate; default 1e-3 (adam), 0.05 (sgd)\n"
          "  --optimizer NAME  adam or sgd (SGD with momentum 0.9); default adam\n"
          "  --train-limit N   use only the first N training images\n"
          "  --threads N       OpenBLAS threads; default 1: OpenBLAS splits its sums differently\n"
          "                    for other counts, so one thread gives the same weights on any\n"
          "                    machine with the same kind of CPU\n"
          "  --no-onnx         do not write fashion_mlp.onnx\n"
          "  --help            this text\n"
          "Exit codes: 0 done, 1 failed (the message says why), 2 usage error.\n",
          PAL_MNIST_DEFAULT_DIR, DEFAULT_EPOCHS);
}

static double accuracy(const pal_mlp_t *mlp, const pal_mnist_set_t *set, pal_status_t *st) {
  size_t chunk = 1000, correct = 0, classes = mlp->sizes[mlp->n_layers];
  float *acts[PAL_MLP_MAX_LAYERS] = {0};
  for (size_t l = 0; l < mlp->n_layers; l++) acts[l] = malloc(chunk * mlp->sizes[l + 1] * sizeof(float));
  *st = PAL_STATUS_OK;
  for (size_t l = 0; l < mlp->n_layers; l++)
    if (!acts[l]) *st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  for (size_t s = 0; !*st && s < set->n; s += chunk) {
    size_t b = set->n - s < chunk ? set->n - s : chunk;
    *st = pal_mlp_forward(mlp, set->images + s * PAL_MNIST_PIXELS, b, acts);
    for (size_t r = 0; !*st && r < b; r++)
      correct += pal_argmax(acts[mlp->n_layers - 1] + r * classes, classes) == set->labels[s + r];
  }
  for (size_t l = 0; l < mlp->n_layers; l++) free(acts[l]);
  return set->n ? (double)correct / (double)set->n : 0.0;
}

int main(int argc, char **argv) {
  const char *data = PAL_MNIST_DEFAULT_DIR, *out = "build/demo";
  size_t epochs = DEFAULT_EPOCHS, limit = 0, seed = 1, threads = 1;
  bool onnx = true, lr_set = false;
  pal_train_options_t opt;
  pal_train_options_initialize(&opt);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = true;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--no-onnx")) {
      onnx = false;
      continue;
    }
    if (!v) {
      fprintf(stderr, "pal-train-mnist: %s needs a value (or is unknown); see --help\n", a);
      return 2;
    }
    i++;
    if (!strcmp(a, "--data")) data = v;
    else if (!strcmp(a, "--out")) out = v;
    else if (!strcmp(a, "--epochs")) ok = pal_train_parse_size(v, &epochs) && epochs >= 1 && epochs <= 1000;
    else if (!strcmp(a, "--seed")) ok = pal_train_parse_size(v, &seed);
    else if (!strcmp(a, "--threads")) ok = pal_train_parse_size(v, &threads) && threads >= 1 && threads <= 256;
    else if (!strcmp(a, "--batch")) ok = pal_train_parse_size(v, &opt.batch) && opt.batch >= 1 && opt.batch <= 65536;
    else if (!strcmp(a, "--train-limit")) ok = pal_train_parse_size(v, &limit) && limit >= 1;
    else if (!strcmp(a, "--lr")) {
      char *end;
      opt.lr = strtof(v, &end);
      ok = end != v && !*end && opt.lr > 0.0f;
      lr_set = true;
    } else if (!strcmp(a, "--optimizer")) {
      if (!strcmp(v, "adam")) opt.optimizer = PAL_OPT_ADAM;
      else if (!strcmp(v, "sgd")) opt.optimizer = PAL_OPT_SGD_MOMENTUM;
      else ok = false;
    } else {
      fprintf(stderr, "pal-train-mnist: unknown option %s; see --help\n", a);
      return 2;
    }
    if (!ok) {
      fprintf(stderr, "pal-train-mnist: bad value '%s' for %s; see --help\n", v, a);
      return 2;
    }
  }
  if (opt.optimizer == PAL_OPT_SGD_MOMENTUM && !lr_set) opt.lr = 0.05f;
  openblas_set_num_threads((int)threads);
  opt.seed = (uint64_t)seed ^ 0x53485546464C45ull; /* shuffling: a stream apart from the init's */

  pal_mnist_set_t train = {0}, test = {0};
  pal_mlp_t *mlp = NULL;
  pal_trainer_t *trainer = NULL;
  char path[PATH_MAX], ypath[PATH_MAX];
  double t0 = pal_train_now_s();
  pal_status_t st = pal_mnist_load(data, "train", limit, &train);
  if (!st) st = pal_mnist_load(data, "t10k", 0, &test);
  if (!st) st = pal_train_make_dirs(out);
  if (!st) {
    printf("pal-train-mnist: %zu training and %zu test images from %s (%.1f s)\n", train.n, test.n, data,
           pal_train_now_s() - t0);
    const size_t sizes[4] = {PAL_MNIST_PIXELS, 256, 128, PAL_MNIST_CLASSES};
    st = pal_mlp_create(3, sizes, &mlp);
  }
  if (!st) {
    pal_mlp_init_he(mlp, (uint64_t)seed);
    st = pal_trainer_create(mlp, &opt, &trainer);
  }
  if (!st)
    printf("MLP 784-256-128-10, %zu parameters; %s, batch %zu, lr %g (x%g per epoch), seed %zu, %zu thread(s)\n",
           pal_mlp_param_count(mlp), opt.optimizer == PAL_OPT_ADAM ? "Adam" : "SGD+momentum", opt.batch,
           (double)opt.lr, (double)opt.lr_decay, seed, threads);
  double train_t0 = pal_train_now_s(), acc = 0.0;
  for (size_t e = 0; !st && e < epochs; e++) {
    double te = pal_train_now_s(), loss;
    st = pal_trainer_epoch(trainer, train.images, train.labels, train.n, &loss);
    if (st) break;
    double dt = pal_train_now_s() - te;
    acc = accuracy(mlp, &test, &st);
    if (st) break;
    printf("epoch %2zu/%zu  train loss %.4f  test acc %6.2f %%  (%.1f s)\n", e + 1, epochs, loss,
           100.0 * acc, dt);
    fflush(stdout);
  }
  double train_s = pal_train_now_s() - train_t0;
  if (!st) st = pal_mlp_save_npy(mlp, out);
  if (!st) {
    snprintf(path, sizeof path, "%s/x_test.npy", out);
    snprintf(ypath, sizeof ypath, "%s/y_test.npy", out);
    st = pal_save_dataset_npy(test.images, test.labels, test.n, PAL_MNIST_PIXELS, path, ypath);
  }
  if (!st && onnx) {
    snprintf(path, sizeof path, "%s/fashion_mlp.onnx", out);
    st = pal_mlp_save_onnx(mlp, path);
  }
  if (!st)
    printf("trained in %.1f s: FP32 test accuracy %.2f %%; wrote %s/{W1,b1,W2,b2,W3,b3,x_test,y_test}.npy%s\n",
           train_s, 100.0 * acc, out, onnx ? " and fashion_mlp.onnx" : "");
  pal_trainer_destroy(trainer);
  pal_mlp_destroy(mlp);
  pal_mnist_release(&train);
  pal_mnist_release(&test);
  if (st) {
    fprintf(stderr, "pal-train-mnist: %s\n", pal_status_message(st));
    pal_status_free(st);
    return 1;
  }
  return 0;
}
