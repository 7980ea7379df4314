/* `pal quantize`: an FP32 .npy through one of the PAL formats and back,
 * with the error statistics of the round trip. Blocks and scales run along
 * the last axis, as the tile stores activations and weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pal/quant.h"

static const char help[] =
    "usage: pal quantize IN.npy -o OUT.npy --format pal8-b32|pal8-t|pal16\n"
    "  Encodes an f32 array in the format (blocks along the last axis) and\n"
    "  decodes it back into OUT.npy; prints the error statistics: max |err|,\n"
    "  RMS error, RMS error relative to the RMS of the input, SNR in dB.\n"
    "  Exit codes: 0 ok, 1 I/O failure, 2 usage error, 4 malformed or non-f32 input.\n";

int pal_cmd_quantize(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *fmt = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help, stdout);
      return PAL_EXIT_OK;
    } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
      out = argv[++i];
    } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
      fmt = argv[++i];
    } else if (argv[i][0] != '-' && !in) {
      in = argv[i];
    } else {
      fprintf(stderr, "pal quantize: unexpected argument '%s'\n%s", argv[i], help);
      return PAL_EXIT_USAGE;
    }
  }
  if (!in || !out || !fmt) {
    fprintf(stderr, "pal quantize: IN.npy, -o OUT.npy and --format are required\n%s", help);
    return PAL_EXIT_USAGE;
  }
  pal_qformat_t qf;
  if (!strcmp(fmt, "pal8-b32")) qf = PAL_QF_PAL8_B32;
  else if (!strcmp(fmt, "pal8-t")) qf = PAL_QF_PAL8_T;
  else if (!strcmp(fmt, "pal16")) qf = PAL_QF_PAL16;
  else {
    fprintf(stderr, "pal quantize: --format '%s' is not one of pal8-b32, pal8-t, pal16\n", fmt);
    return PAL_EXIT_USAGE;
  }
  pal_tensor_t *x;
  pal_status_t st = pal_npy_read(in, &x);
  if (st) return pal_cli_fail("quantize", st);
  if (pal_tensor_dtype(x) != PAL_DTYPE_FP32) {
    pal_tensor_release(x);
    return pal_cli_fail("quantize", pal_status_make(PAL_INVALID_ARGUMENT,
                                                    "%s: the array is not f32 ('<f4')", in));
  }
  size_t count = pal_tensor_count(x), rank = pal_tensor_rank(x);
  size_t cols = rank ? (size_t)pal_tensor_dims(x)[rank - 1] : 1;
  size_t rows = cols ? count / cols : 0;
  pal_tensor_t *y;
  st = pal_tensor_create(PAL_DTYPE_FP32, rank, pal_tensor_dims(x), &y);
  if (!st && count) st = pal_quant_roundtrip(qf, pal_tensor_cdata(x), rows, cols, pal_tensor_data(y));
  if (!st) st = pal_npy_write(out, y);
  if (st) {
    pal_tensor_release(x);
    pal_tensor_release(y);
    return pal_cli_fail("quantize", st);
  }
  const float *a = pal_tensor_cdata(x), *b = pal_tensor_cdata(y);
  double max_err = 0, se = 0, sx = 0;
  size_t finite = 0, nonfinite = 0;
  for (size_t i = 0; i < count; i++) {
    if (!isfinite(a[i])) {
      nonfinite++;
      continue;
    }
    double e = (double)b[i] - (double)a[i];
    if (!isfinite(b[i])) {
      nonfinite++;
      continue;
    }
    finite++;
    if (fabs(e) > max_err) max_err = fabs(e);
    se += e * e;
    sx += (double)a[i] * (double)a[i];
  }
  double rms = finite ? sqrt(se / (double)finite) : 0, rmsx = finite ? sqrt(sx / (double)finite) : 0;
  printf("%s -> %s -> %s: %zu values (%zu rows x %zu)\n", in, fmt, out, count, rows, cols);
  printf("  bits/element   %.3f\n", pal_qformat_bits(qf));
  printf("  max |err|      %.6g\n", max_err);
  printf("  rms err        %.6g\n", rms);
  printf("  rel rms err    %.6g\n", rmsx > 0 ? rms / rmsx : 0.0);
  printf("  snr            %.2f dB\n", se > 0 ? 10.0 * log10(sx / se) : INFINITY);
  if (nonfinite) printf("  non-finite     %zu (not counted)\n", nonfinite);
  pal_tensor_release(x);
  pal_tensor_release(y);
  return PAL_EXIT_OK;
}
