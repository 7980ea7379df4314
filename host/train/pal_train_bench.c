/* bench-train: the demo model's figures in one run, as a table and
 * build/bench/train.json: training time (default configuration, one
 * OpenBLAS thread, and one epoch with one thread per CPU beside it), FP32
 * and PAL8-B32 test accuracy with the targets, argmax agreement,
 * and evaluation throughput of the FP32 and PAL8 paths. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define CNN_EPOCHS 3 /* pal-train-cnn's default */
#include "pal_train.h"

#define EPOCHS 8

static void die(pal_status_t st) {
  fprintf(stderr, "bench-train: %s\n", pal_status_message(st));
  exit(1);
}

typedef struct row {
  const char *metric, *unit, *params, *op;
  double value, target;
} row_t;

int main(int argc, char **argv) {
  const char *json = argc > 2 && !strcmp(argv[1], "--json") ? argv[2] : NULL;
  pal_mnist_set_t train, test;
  pal_status_t st = pal_mnist_load(PAL_MNIST_DEFAULT_DIR, "train", 0, &train);
  if (!st) st = pal_mnist_load(PAL_MNIST_DEFAULT_DIR, "t10k", 0, &test);
  if (st) die(st);
  const size_t sizes[4] = {PAL_MNIST_PIXELS, 256, 128, PAL_MNIST_CLASSES};
  pal_train_options_t opt;
  pal_train_options_initialize(&opt);
  opt.seed = 1 ^ 0x53485546464C45ull; /* as pal-train-mnist --seed 1 */

  /* One epoch with one thread per CPU, then the default run (one thread). */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  pal_mlp_t *mlp;
  pal_trainer_t *tr;
  double loss;
  if ((st = pal_mlp_create(3, sizes, &mlp)) || (pal_mlp_init_he(mlp, 1), 0) ||
      (st = pal_trainer_create(mlp, &opt, &tr)))
    die(st);
  openblas_set_num_threads((int)ncpu);
  double t0 = bench_now();
  if ((st = pal_trainer_epoch(tr, train.images, train.labels, train.n, &loss))) die(st);
  double epoch_ncpu = bench_now() - t0;
  pal_trainer_destroy(tr);
  pal_mlp_destroy(mlp);

  openblas_set_num_threads(1);
  if ((st = pal_mlp_create(3, sizes, &mlp)) || (pal_mlp_init_he(mlp, 1), 0) ||
      (st = pal_trainer_create(mlp, &opt, &tr)))
    die(st);
  t0 = bench_now();
  for (int e = 0; e < EPOCHS; e++)
    if ((st = pal_trainer_epoch(tr, train.images, train.labels, train.n, &loss))) die(st);
  double train_s = bench_now() - t0;
  pal_trainer_destroy(tr);

  /* Evaluation, FP32 and PAL8-B32, over the whole test set. */
  size_t n = test.n;
  float *fa[3], *qa[3];
  for (int l = 0; l < 3; l++) {
    fa[l] = malloc(n * sizes[l + 1] * sizeof(float));
    qa[l] = malloc(n * sizes[l + 1] * sizeof(float));
    if (!fa[l] || !qa[l]) die(pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory"));
  }
  openblas_set_num_threads((int)ncpu);
  t0 = bench_now();
  if ((st = pal_mlp_forward(mlp, test.images, n, fa))) die(st);
  double fp32_s = bench_now() - t0;
  pal_mlp_pal8_t *q;
  if ((st = pal_mlp_pal8_create(mlp, &q))) die(st);
  t0 = bench_now();
  if ((st = pal_mlp_pal8_forward(q, test.images, n, 0, qa, NULL))) die(st);
  double pal8_s = bench_now() - t0;
  size_t ok_f = 0, ok_q = 0, agree = 0;
  for (size_t i = 0; i < n; i++) {
    size_t pf = pal_argmax(fa[2] + i * 10, 10), pq = pal_argmax(qa[2] + i * 10, 10);
    ok_f += pf == test.labels[i];
    ok_q += pq == test.labels[i];
    agree += pf == pq;
  }
  double acc_f = 100.0 * ok_f / n, acc_q = 100.0 * ok_q / n;

  /* The CNN as pal-train-cnn trains it by default (one thread). */
  openblas_set_num_threads(1);
  pal_cnn_config_t ccfg;
  pal_cnn_config_initialize(&ccfg);
  pal_train_options_t copt;
  pal_train_options_initialize(&copt);
  copt.batch = 64;
  copt.lr = 2e-3f;
  copt.seed = 1 ^ 0x434E4E5348554646ull; /* as pal-train-cnn --seed 1 */
  pal_cnn_t *cnn;
  pal_cnn_trainer_t *ctr;
  if ((st = pal_cnn_create(&ccfg, &cnn)) || (pal_cnn_init_he(cnn, 1), 0) ||
      (st = pal_cnn_trainer_create(cnn, &copt, &ctr)))
    die(st);
  t0 = bench_now();
  for (int e = 0; e < CNN_EPOCHS; e++)
    if ((st = pal_cnn_trainer_epoch(ctr, train.images, train.labels, train.n, &loss))) die(st);
  double cnn_train_s = bench_now() - t0;
  pal_cnn_trainer_destroy(ctr);
  float *clog = malloc(n * 10 * sizeof(float));
  if (!clog) die(pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory"));
  for (size_t s0 = 0; s0 < n; s0 += 500)
    if ((st = pal_cnn_forward(cnn, test.images + s0 * PAL_MNIST_PIXELS, n - s0 < 500 ? n - s0 : 500,
                              clog + s0 * 10)))
      die(st);
  size_t ok_c = 0;
  for (size_t i = 0; i < n; i++) ok_c += pal_argmax(clog + i * 10, 10) == test.labels[i];
  free(clog);
  pal_cnn_destroy(cnn);

  char p_train[160], p_ep[160], p_eval[160], p_cnn[200];
  snprintf(p_cnn, sizeof p_cnn,
           "\"model\": \"cnn 16-32-128\", \"epochs\": %d, \"batch\": %zu, \"threads\": 1, \"seed\": 1, \"images\": %zu",
           CNN_EPOCHS, copt.batch, n);
  snprintf(p_train, sizeof p_train,
           "\"model\": \"784-256-128-10\", \"epochs\": %d, \"batch\": %zu, \"threads\": 1, \"seed\": 1", EPOCHS,
           opt.batch);
  snprintf(p_ep, sizeof p_ep, "\"model\": \"784-256-128-10\", \"batch\": %zu, \"threads\": %ld", opt.batch, ncpu);
  snprintf(p_eval, sizeof p_eval, "\"model\": \"784-256-128-10\", \"images\": %zu", n);
  const row_t rows[] = {
      {"train_time", "s", p_train, "<=", train_s, 60.0},
      {"train_epoch_time", "s", p_train, NULL, train_s / EPOCHS, 0},
      {"train_epoch_time", "s", p_ep, NULL, epoch_ncpu, 0},
      {"fp32_test_accuracy", "%", p_eval, ">=", acc_f, 88.0},
      {"pal8_b32_test_accuracy", "%", p_eval, NULL, acc_q, 0},
      {"pal8_minus_fp32_accuracy_abs", "points", p_eval, "<=", acc_q > acc_f ? acc_q - acc_f : acc_f - acc_q, 0.5},
      {"argmax_agreement", "%", p_eval, NULL, 100.0 * agree / n, 0},
      {"fp32_eval_throughput", "images/s", p_eval, NULL, n / fp32_s, 0},
      {"pal8_eval_throughput", "images/s", p_eval, NULL, n / pal8_s, 0},
      {"cnn_train_time", "s", p_cnn, "<=", cnn_train_s, 90.0},
      {"cnn_fp32_test_accuracy", "%", p_cnn, ">=", 100.0 * ok_c / n, 90.0},
  };
  bench_json_t j = {0};
  if (json && bench_json_open(&j, json, "train") != 0) {
    fprintf(stderr, "bench-train: cannot write %s\n", json);
    return 1;
  }
  printf("%-30s %12s %-9s %-8s %s\n", "metric", "value", "unit", "target", "params");
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const row_t *r = &rows[i];
    char target[32] = "";
    if (r->op) snprintf(target, sizeof target, "%s %g %s", r->op, r->target, bench_verdict(r->value, r->op, r->target));
    printf("%-30s %12.4g %-9s %-8s {%s}\n", r->metric, r->value, r->unit, target, r->params);
    if (json) bench_json_result(&j, r->metric, r->value, r->unit, r->params, r->op, r->target);
  }
  printf("(ratio: one epoch with %ld threads takes %.2fx the time of one with 1 thread)\n", ncpu,
         epoch_ncpu / (train_s / EPOCHS));
  if (json && bench_json_close(&j) != 0) return 1;
  pal_mlp_pal8_destroy(q);
  for (int l = 0; l < 3; l++) {
    free(fa[l]);
    free(qa[l]);
  }
  pal_mlp_destroy(mlp);
  pal_mnist_release(&train);
  pal_mnist_release(&test);
  return 0;
}
