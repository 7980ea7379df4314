/* Small helpers shared by the trainer and evaluator programs: a monotonic
 * clock, mkdir -p, strict size parsing, and one graph run through a runtime
 * session in chunks (the evaluators' cpu and pal provider passes). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pal/pal.h"
#include "pal_train.h"

double pal_train_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

pal_status_t pal_train_make_dirs(const char *path) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: path too long", path);
  for (char *p = buf + 1;; p++) {
    bool end = *p == '\0';
    if (*p == '/' || end) {
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return pal_status_make(PAL_IO_ERROR, "%s: cannot create: %s", buf, strerror(errno));
      if (end) break;
      *p = '/';
    }
  }
  return PAL_STATUS_OK;
}

/* Decimal, octal or hex; no sign, no trailing characters, no overflow
 * (strtoull would quietly wrap "-1"). */
bool pal_train_parse_size(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || end == s || *end || s[0] == '-' || v > SIZE_MAX) return false;
  *out = (size_t)v;
  return true;
}

pal_status_t pal_train_run_session(const pal_graph_t *g, const char *providers, const char *device_uri,
                                   const float *x, size_t n, size_t item_rank, const int64_t *item_dims,
                                   size_t classes, size_t chunk, bool print_placement, float *logits,
                                   size_t *out_cpu_nodes) {
  if (item_rank < 1 || item_rank > 3 || chunk == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "run_session: item rank %zu, chunk %zu", item_rank, chunk);
  size_t item = 1;
  for (size_t i = 0; i < item_rank; i++) item *= (size_t)item_dims[i];
  pal_session_options_t so;
  pal_session_options_initialize(&so);
  so.providers = providers;
  so.device_uri = device_uri;
  pal_session_t *s = NULL;
  pal_status_t st = pal_session_create(g, &so, &s);
  if (!st && print_placement) pal_session_print_placement(s, stdout);
  if (!st && out_cpu_nodes) *out_cpu_nodes = pal_session_provider_node_count(s, PAL_PROVIDER_CPU);
  for (size_t s0 = 0; !st && s0 < n; s0 += chunk) {
    size_t b = n - s0 < chunk ? n - s0 : chunk;
    int64_t dims[4] = {(int64_t)b};
    memcpy(dims + 1, item_dims, item_rank * sizeof *item_dims);
    pal_tensor_t *in = NULL, *out = NULL;
    st = pal_tensor_create_from(PAL_DTYPE_FP32, 1 + item_rank, dims, x + s0 * item, &in);
    if (!st) {
      const pal_tensor_t *ins[1] = {in};
      st = pal_session_run(s, 1, ins, 1, &out);
    }
    if (!st && (pal_tensor_dtype(out) != PAL_DTYPE_FP32 || pal_tensor_count(out) != b * classes))
      st = pal_status_make(PAL_INTERNAL, "the session's output is not %zu x %zu FP32", b, classes);
    if (!st) memcpy(logits + s0 * classes, pal_tensor_cdata(out), b * classes * sizeof(float));
    pal_tensor_release(in);
    pal_tensor_release(out);
  }
  pal_session_release(s);
  return st;
}
