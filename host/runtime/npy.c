/* .npy files (NumPy format 1.0 and 2.0): '<f4', '<i8', '<i4' and '|b1' in
 * C order. The header is a Python dict literal; the parser accepts exactly
 * the three keys NumPy writes, in any order, and refuses everything else
 * with a message naming the file and the field. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"


#define NPY_MAX_FILE ((size_t)1 << 34)

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* A quoted Python string ('..' or "..") into out. */
static const char *parse_str(const char *p, const char *end, char *out, size_t size) {
  if (p >= end || (*p != '\'' && *p != '"')) return NULL;
  char q = *p++;
  size_t n = 0;
  while (p < end && *p != q) {
    if (n + 1 >= size) return NULL;
    out[n++] = *p++;
  }
  if (p >= end) return NULL;
  out[n] = 0;
  return p + 1;
}

pal_status_t pal_npy_parse(const void *data, size_t size, const char *name,
                           pal_tensor_t **out_tensor) {
  *out_tensor = NULL;
  const uint8_t *b = data;
  if (!name) name = "<memory>";
  if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
  unsigned major = b[6], minor = b[7];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return pal_status_make(PAL_DATA_LOSS, "%s: truncated header", name);
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    hstart = 12;
    if (major == 3)
      return pal_status_make(PAL_UNIMPLEMENTED, "%s: format version 3.0 (utf-8 header) is not supported",
                             name);
  } else {
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: format version %u.%u is not supported (1.0, 2.0 are)",
                           name, major, minor);
  }
  if (hlen > size - hstart)
    return pal_status_make(PAL_DATA_LOSS, "%s: header length %zu runs past the end of the %zu-byte file",
                           name, hlen, size);
  const char *p = (const char *)b + hstart, *end = p + hlen;
  char descr[16] = "";
  int fortran = -1;
  int64_t dims[PAL_MAX_RANK];
  int rank = -1;
  p = skip_ws(p, end);
  if (p >= end || *p++ != '{')
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header is not a dict", name);
  for (;;) {
    p = skip_ws(p, end);
    if (p < end && *p == '}') break;
    char key[32];
    if (!(p = parse_str(p, end, key, sizeof key)))
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header: malformed key", name);
    p = skip_ws(p, end);
    if (p >= end || *p++ != ':')
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header: no ':' after '%s'", name, key);
    p = skip_ws(p, end);
    if (!strcmp(key, "descr")) {
      if (!(p = parse_str(p, end, descr, sizeof descr)))
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header field 'descr' is not a short string",
                               name);
    } else if (!strcmp(key, "fortran_order")) {
      if (end - p >= 4 && !memcmp(p, "True", 4)) fortran = 1, p += 4;
      else if (end - p >= 5 && !memcmp(p, "False", 5)) fortran = 0, p += 5;
      else
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header field 'fortran_order' is not True/False",
                               name);
    } else if (!strcmp(key, "shape")) {
      if (p >= end || *p++ != '(')
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header field 'shape' is not a tuple", name);
      rank = 0;
      for (;;) {
        p = skip_ws(p, end);
        if (p < end && *p == ')') {
          p++;
          break;
        }
        if (p >= end || !isdigit((unsigned char)*p))
          return pal_status_make(PAL_INVALID_ARGUMENT,
                                 "%s: header field 'shape' holds something other than non-negative "
                                 "integers",
                                 name);
        if (rank >= PAL_MAX_RANK)
          return pal_status_make(PAL_UNIMPLEMENTED, "%s: header field 'shape' has more than %d dims",
                                 name, PAL_MAX_RANK);
        int64_t v = 0;
        while (p < end && isdigit((unsigned char)*p)) {
          if (v > (INT64_MAX - 9) / 10)
            return pal_status_make(PAL_OUT_OF_RANGE, "%s: header field 'shape': a dim overflows", name);
          v = v * 10 + (*p++ - '0');
        }
        dims[rank++] = v;
        p = skip_ws(p, end);
        if (p < end && *p == ',') p++;
        else if (p < end && *p == ')') continue;
        else
          return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header field 'shape' is malformed", name);
      }
    } else {
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header has an unknown field '%s'", name, key);
    }
    p = skip_ws(p, end);
    if (p < end && *p == ',') p++;
  }
  if (!descr[0] || fortran < 0 || rank < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: header lacks field '%s'", name,
                           !descr[0] ? "descr" : fortran < 0 ? "fortran_order" : "shape");
  if (fortran)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: header field 'fortran_order' is True; only C order "
                           "is supported", name);
  pal_dtype_t dtype;
  if (!strcmp(descr, "<f4")) dtype = PAL_DTYPE_FP32;
  else if (!strcmp(descr, "<i8")) dtype = PAL_DTYPE_INT64;
  else if (!strcmp(descr, "<i4")) dtype = PAL_DTYPE_INT32;
  else if (!strcmp(descr, "|b1")) dtype = PAL_DTYPE_BOOL;
  else if (!strcmp(descr, "|u1")) dtype = PAL_DTYPE_UINT8;
  else
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: header field 'descr' = '%s' is not supported ('<f4', '<i8', '<i4', "
                           "'|b1' are)",
                           name, descr);
  /* Size check before allocating. */
  size_t count = 1, es = pal_dtype_size(dtype);
  for (int i = 0; i < rank; i++) {
    if (dims[i] && count > (PAL_TENSOR_MAX_BYTES / 8) / (uint64_t)dims[i])
      return pal_status_make(PAL_OUT_OF_RANGE, "%s: header field 'shape' describes an array too large",
                             name);
    count *= (size_t)dims[i];
  }
  size_t dstart = hstart + hlen;
  if (size - dstart != count * es)
    return pal_status_make(PAL_DATA_LOSS, "%s: %zu data bytes, the shape and descr need %zu", name,
                           size - dstart, count * es);
  pal_tensor_t *t;
  PAL_RETURN_IF_ERROR(pal_tensor_create(dtype, (size_t)rank, dims, &t));
  if (count) memcpy(t->data, b + dstart, count * es);
  if (dtype == PAL_DTYPE_BOOL)
    for (size_t i = 0; i < count; i++) ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
  *out_tensor = t;
  return PAL_STATUS_OK;
}

pal_status_t pal_npy_read(const char *path, pal_tensor_t **out_tensor) {
  *out_tensor = NULL;
  uint8_t *data;
  size_t size;
  PAL_RETURN_IF_ERROR(pal_file_read_all(path, NPY_MAX_FILE, &data, &size));
  pal_status_t st = pal_npy_parse(data, size, path, out_tensor);
  free(data);
  return st;
}

pal_status_t pal_npy_write(const char *path, const pal_tensor_t *t) {
  const char *descr;
  switch (t->dtype) {
    case PAL_DTYPE_FP32: descr = "<f4"; break;
    case PAL_DTYPE_INT64: descr = "<i8"; break;
    case PAL_DTYPE_INT32: descr = "<i4"; break;
    case PAL_DTYPE_BOOL: descr = "|b1"; break;
    case PAL_DTYPE_UINT8: descr = "|u1"; break;
    default:
      return pal_status_make(PAL_UNIMPLEMENTED, "%s: a %s tensor has no .npy type", path,
                             pal_dtype_name(t->dtype));
  }
  char header[512];
  int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (size_t i = 0; i < t->rank; i++)
    n += snprintf(header + n, sizeof header - (size_t)n, "%lld%s", (long long)t->dims[i],
                  t->rank == 1 ? "," : i + 1 < t->rank ? ", " : "");
  n += snprintf(header + n, sizeof header - (size_t)n, "), }");
  /* Pad with spaces so magic + 2 + 2 + header + '\n' is a multiple of 64. */
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  memset(header + n, ' ', pad);
  n += (int)pad;
  header[n++] = '\n';
  uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(n & 0xff), (uint8_t)(n >> 8)};
  FILE *f = fopen(path, "wb");
  if (!f) return pal_status_make(PAL_IO_ERROR, "%s: cannot create: %s", path, strerror(errno));
  size_t nb = pal_tensor_nbytes(t);
  bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)n, f) == (size_t)n &&
            (nb == 0 || fwrite(t->data, 1, nb, f) == nb);
  if (fclose(f) != 0) ok = false;
  if (!ok) return pal_status_make(PAL_IO_ERROR, "%s: write failed", path);
  return PAL_STATUS_OK;
}
