/* libFuzzer target: the ONNX loader (protobuf unpacking, the import into
 * the graph IR, finalisation and shape inference) on arbitrary bytes, then,
 * for a graph that loads and whose inputs have small known shapes, a cpu
 * session run on zero-filled inputs and a re-serialization. Any input must
 * give a result or an error status, never a crash, a leak or a hang.
 * External data is refused (no base folder). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pal/pal.h"

static void try_run(const pal_graph_t *g) {
  size_t nin = pal_graph_input_count(g), nout = pal_graph_output_count(g);
  if (nin > 8 || nout > 8) return;
  pal_tensor_t *in[8] = {0}, *out[8] = {0};
  size_t total = 0;
  for (size_t i = 0; i < nin; i++) {
    pal_dtype_t dt;
    pal_shape_t s;
    if (!pal_graph_value_info(g, pal_graph_input_name(g, i), &dt, &s) || s.rank < 0) goto done;
    size_t c = 1;
    for (int d = 0; d < s.rank; d++) {
      if (s.dims[d] < 0 || s.dims[d] > 4096) goto done;
      c *= (size_t)s.dims[d];
      if (c > 4096) goto done;
    }
    total += c;
    pal_status_t st = pal_tensor_create(dt, (size_t)s.rank, s.dims, &in[i]);
    if (st) {
      pal_status_free(st);
      goto done;
    }
  }
  if (total <= 16384) {
    pal_session_options_t o;
    pal_session_options_initialize(&o);
    o.providers = "cpu";
    pal_session_t *s = NULL;
    pal_status_t st = pal_session_create(g, &o, &s);
    if (!st) st = pal_session_run(s, nin, (const pal_tensor_t *const *)in, nout, out);
    pal_status_free(st);
    pal_session_release(s);
  }
done:
  for (size_t i = 0; i < 8; i++) {
    pal_tensor_release(in[i]);
    pal_tensor_release(out[i]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pal_graph_t *g = NULL;
  pal_status_t st = pal_onnx_parse(data, size, "fuzz.onnx", NULL, &g);
  if (!st) {
    uint8_t *out = NULL;
    size_t n = 0;
    pal_status_free(pal_onnx_serialize(g, &out, &n));
    free(out);
    try_run(g);
  }
  pal_status_free(st);
  pal_graph_release(g);
  return 0;
}
