/* IDX files (the MNIST container) and the Fashion-MNIST loader. Input from
 * outside: every size is checked before it is used, and every failure names
 * the file and what was wrong with it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pal_train.h"

pal_status_t pal_idx_parse(const void *data, size_t size, const char *name, pal_idx_t *out_idx) {
  if (!out_idx) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_idx_parse: out_idx is NULL");
  memset(out_idx, 0, sizeof *out_idx);
  if (!name) name = "<idx>";
  if (!data && size) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: data is NULL", name);
  const uint8_t *p = data;
  if (size < 4)
    return pal_status_make(PAL_DATA_LOSS, "%s: truncated IDX header (%zu bytes, need at least 4)",
                           name, size);
  if (p[0] != 0 || p[1] != 0)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: bad IDX magic %02x %02x %02x %02x (must start with 00 00)", name,
                           p[0], p[1], p[2], p[3]);
  if (p[2] != PAL_IDX_TYPE_U8)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: IDX element type 0x%02x is not supported (only 0x08, unsigned byte)",
                           name, p[2]);
  size_t rank = p[3];
  if (rank < 1 || rank > PAL_IDX_MAX_RANK)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: IDX rank %zu is outside 1..%d", name, rank,
                           PAL_IDX_MAX_RANK);
  size_t header = 4 + 4 * rank;
  if (size < header)
    return pal_status_make(PAL_DATA_LOSS, "%s: truncated IDX header (%zu bytes, rank %zu needs %zu)",
                           name, size, rank, header);
  size_t count = 1;
  for (size_t i = 0; i < rank; i++) {
    const uint8_t *d = p + 4 + 4 * i;
    size_t dim = ((size_t)d[0] << 24) | ((size_t)d[1] << 16) | ((size_t)d[2] << 8) | d[3];
    if (dim == 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: IDX dimension %zu is zero", name, i);
    if (count > SIZE_MAX / dim)
      return pal_status_make(PAL_OUT_OF_RANGE, "%s: IDX dimensions overflow the address space", name);
    count *= dim;
    out_idx->dims[i] = dim;
  }
  if (size - header < count)
    return pal_status_make(PAL_DATA_LOSS,
                           "%s: truncated: the header promises %zu elements, the file holds %zu",
                           name, count, size - header);
  if (size - header > count)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %zu bytes after the %zu elements the header promises "
                           "(dimensions do not match the data)",
                           name, size - header - count, count);
  out_idx->data = malloc(count);
  if (!out_idx->data)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory for %zu elements", name, count);
  memcpy(out_idx->data, p + header, count);
  out_idx->rank = rank;
  out_idx->count = count;
  return PAL_STATUS_OK;
}

void pal_idx_release(pal_idx_t *idx) {
  if (!idx) return;
  free(idx->data);
  memset(idx, 0, sizeof *idx);
}

/* The whole (decompressed) content of a file. */
static pal_status_t read_gz(const char *path, uint8_t **out_data, size_t *out_size) {
  *out_data = NULL;
  *out_size = 0;
  gzFile f = gzopen(path, "rb");
  if (!f)
    return pal_status_make(errno == ENOENT ? PAL_NOT_FOUND : PAL_IO_ERROR, "%s: cannot open: %s",
                           path, strerror(errno ? errno : EIO));
  size_t cap = 1u << 20, len = 0;
  uint8_t *buf = malloc(cap);
  pal_status_t st = PAL_STATUS_OK;
  if (!buf) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", path);
  while (!st) {
    if (len == cap) {
      /* Bigger than any data set we read; stops a decompression bomb. */
      if (cap >= ((size_t)1 << 32)) {
        st = pal_status_make(PAL_OUT_OF_RANGE, "%s: more than 4 GiB when decompressed", path);
        break;
      }
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", path);
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t want = cap - len > (1u << 30) ? (1u << 30) : cap - len;
    int got = gzread(f, buf + len, (unsigned)want);
    if (got < 0) {
      int zerr = 0;
      const char *msg = gzerror(f, &zerr);
      st = pal_status_make(PAL_DATA_LOSS, "%s: damaged gzip stream: %s", path, msg);
      break;
    }
    if (got == 0) {
      /* gzread returns a short count at a truncated stream; gzerror then
       * says Z_BUF_ERROR ("unexpected end of file"). */
      int zerr = 0;
      const char *msg = gzerror(f, &zerr);
      if (zerr != Z_OK && zerr != Z_STREAM_END)
        st = pal_status_make(PAL_DATA_LOSS, "%s: truncated or damaged gzip stream: %s", path, msg);
      break;
    }
    len += (size_t)got;
  }
  gzclose(f);
  if (st) {
    free(buf);
    return st;
  }
  *out_data = buf;
  *out_size = len;
  return PAL_STATUS_OK;
}

pal_status_t pal_idx_read(const char *path, pal_idx_t *out_idx) {
  if (!path || !out_idx) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_idx_read: NULL argument");
  memset(out_idx, 0, sizeof *out_idx);
  uint8_t *data;
  size_t size;
  PAL_RETURN_IF_ERROR(read_gz(path, &data, &size));
  pal_status_t st = pal_idx_parse(data, size, path, out_idx);
  free(data);
  return st;
}

/* DIR/NAME.gz if it exists, else DIR/NAME (sets *out_path, malloc'ed). */
static pal_status_t find_file(const char *dir, const char *name, char **out_path) {
  size_t n = strlen(dir) + strlen(name) + 8;
  char *path = malloc(n);
  if (!path) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  snprintf(path, n, "%s/%s.gz", dir, name);
  if (access(path, R_OK) != 0) {
    snprintf(path, n, "%s/%s", dir, name);
    if (access(path, R_OK) != 0) {
      pal_status_t st = pal_status_make(
          PAL_NOT_FOUND, "%s/%s(.gz): not found (Debian package dataset-fashion-mnist, or --data DIR)",
          dir, name);
      free(path);
      return st;
    }
  }
  *out_path = path;
  return PAL_STATUS_OK;
}

pal_status_t pal_mnist_load(const char *dir, const char *prefix, size_t max_n,
                            pal_mnist_set_t *out_set) {
  if (!dir || !prefix || !out_set)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mnist_load: NULL argument");
  memset(out_set, 0, sizeof *out_set);
  char name[128];
  char *img_path = NULL, *lbl_path = NULL;
  pal_idx_t img = {0}, lbl = {0};
  pal_status_t st;
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
  st = find_file(dir, name, &img_path);
  if (!st) {
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    st = find_file(dir, name, &lbl_path);
  }
  if (!st) st = pal_idx_read(img_path, &img);
  if (!st) st = pal_idx_read(lbl_path, &lbl);
  if (!st && (img.rank != 3 || img.dims[1] != 28 || img.dims[2] != 28))
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: images must be N x 28 x 28, got rank %zu (%zu x %zu x %zu)",
                         img_path, img.rank, img.dims[0], img.dims[1], img.dims[2]);
  if (!st && lbl.rank != 1)
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: labels must have rank 1, got %zu", lbl_path, lbl.rank);
  if (!st && lbl.dims[0] != img.dims[0])
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s holds %zu labels but %s holds %zu images", lbl_path,
                         lbl.dims[0], img_path, img.dims[0]);
  for (size_t i = 0; !st && i < lbl.count; i++)
    if (lbl.data[i] >= PAL_MNIST_CLASSES)
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: label %zu is %u (must be below %d)", lbl_path, i,
                           lbl.data[i], PAL_MNIST_CLASSES);
  if (!st) {
    size_t n = img.dims[0];
    if (max_n && max_n < n) n = max_n;
    out_set->images = malloc(n * PAL_MNIST_PIXELS * sizeof(float));
    out_set->labels = malloc(n);
    if (!out_set->images || !out_set->labels) {
      pal_mnist_release(out_set);
      st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory for %zu images", img_path, n);
    } else {
      for (size_t i = 0; i < n * PAL_MNIST_PIXELS; i++) out_set->images[i] = img.data[i] / 255.0f;
      memcpy(out_set->labels, lbl.data, n);
      out_set->n = n;
    }
  }
  pal_idx_release(&img);
  pal_idx_release(&lbl);
  free(img_path);
  free(lbl_path);
  return st;
}

void pal_mnist_release(pal_mnist_set_t *set) {
  if (!set) return;
  free(set->images);
  free(set->labels);
  memset(set, 0, sizeof *set);
}
