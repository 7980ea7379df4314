/* Tensors: dense C-ordered arrays of the runtime's element types, and the
 * conversions between FP32 and PAL8-B32 (blocks along the last axis). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"

const char *pal_dtype_name(pal_dtype_t dtype) {
  switch (dtype) {
    case PAL_DTYPE_FP32: return "f32";
    case PAL_DTYPE_INT64: return "i64";
    case PAL_DTYPE_INT32: return "i32";
    case PAL_DTYPE_BOOL: return "bool";
    case PAL_DTYPE_UINT8: return "u8";
    case PAL_DTYPE_PAL8_B32: return "pal8_b32";
    default: return "undefined";
  }
}

size_t pal_dtype_size(pal_dtype_t dtype) {
  switch (dtype) {
    case PAL_DTYPE_FP32: return 4;
    case PAL_DTYPE_INT64: return 8;
    case PAL_DTYPE_INT32: return 4;
    case PAL_DTYPE_BOOL: return 1;
    case PAL_DTYPE_UINT8: return 1;
    default: return 0;
  }
}

/* Element count of a shape, refusing negative dims and overflow. */
static pal_status_t shape_count(size_t rank, const int64_t *dims, size_t *out_count) {
  if (rank > PAL_MAX_RANK)
    return pal_status_make(PAL_OUT_OF_RANGE, "tensor rank %zu exceeds the maximum %d", rank,
                           PAL_MAX_RANK);
  size_t count = 1;
  for (size_t i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "tensor dimension %zu is negative (%lld)", i,
                             (long long)dims[i]);
    if (dims[i] != 0 && count > (PAL_TENSOR_MAX_BYTES / 8) / (size_t)dims[i])
      return pal_status_make(PAL_OUT_OF_RANGE,
                             "tensor dimension %zu (%lld) makes the tensor larger than %zu bytes",
                             i, (long long)dims[i], PAL_TENSOR_MAX_BYTES);
    count *= (size_t)dims[i];
  }
  *out_count = count;
  return PAL_STATUS_OK;
}

static pal_status_t tensor_alloc(pal_dtype_t dtype, size_t rank, const int64_t *dims, bool zero,
                                 pal_tensor_t **out_tensor);

pal_status_t pal_tensor_create(pal_dtype_t dtype, size_t rank, const int64_t *dims,
                               pal_tensor_t **out_tensor) {
  return tensor_alloc(dtype, rank, dims, true, out_tensor);
}

pal_status_t pal_tensor_create_uninit(pal_dtype_t dtype, size_t rank, const int64_t *dims,
                                      pal_tensor_t **out_tensor) {
  return tensor_alloc(dtype, rank, dims, false, out_tensor);
}

static pal_status_t tensor_alloc(pal_dtype_t dtype, size_t rank, const int64_t *dims, bool zero,
                                 pal_tensor_t **out_tensor) {
  *out_tensor = NULL;
  size_t count = 0;
  PAL_RETURN_IF_ERROR(shape_count(rank, dims, &count));
  pal_tensor_t *t = calloc(1, sizeof *t);
  if (!t) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a tensor");
  t->dtype = dtype;
  t->rank = rank;
  if (rank) memcpy(t->dims, dims, rank * sizeof *dims);
  t->count = count;
  if (dtype == PAL_DTYPE_PAL8_B32) {
    size_t cols = rank ? (size_t)dims[rank - 1] : 1;
    size_t rows = cols ? count / cols : 0;
    pal_status_t st = pal_b32_matrix_create(rows, cols, &t->b32);
    if (st) {
      free(t);
      return st;
    }
  } else {
    size_t es = pal_dtype_size(dtype);
    if (!es) {
      free(t);
      return pal_status_make(PAL_INVALID_ARGUMENT, "tensor of undefined element type");
    }
    /* count * es cannot overflow: shape_count bounds the bytes. */
    t->data = zero ? calloc(count ? count : 1, es) : malloc((count ? count : 1) * es);
    if (!t->data) {
      free(t);
      return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for a %zu-element tensor",
                             count);
    }
  }
  *out_tensor = t;
  return PAL_STATUS_OK;
}

pal_status_t pal_tensor_create_from(pal_dtype_t dtype, size_t rank, const int64_t *dims,
                                    const void *data, pal_tensor_t **out_tensor) {
  if (dtype == PAL_DTYPE_PAL8_B32)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_tensor_create_from: PAL8-B32 tensors come from "
                           "pal_tensor_to_pal8_b32");
  PAL_RETURN_IF_ERROR(pal_tensor_create(dtype, rank, dims, out_tensor));
  if ((*out_tensor)->count) memcpy((*out_tensor)->data, data, pal_tensor_nbytes(*out_tensor));
  return PAL_STATUS_OK;
}

pal_status_t pal_tensor_clone(const pal_tensor_t *tensor, pal_tensor_t **out_tensor) {
  PAL_RETURN_IF_ERROR(pal_tensor_create(tensor->dtype, tensor->rank, tensor->dims, out_tensor));
  pal_tensor_t *t = *out_tensor;
  if (tensor->dtype == PAL_DTYPE_PAL8_B32) {
    memcpy(t->b32.codes, tensor->b32.codes, tensor->b32.rows * tensor->b32.kblocks * 32);
    memcpy(t->b32.scales, tensor->b32.scales, tensor->b32.rows * tensor->b32.kblocks);
  } else if (t->count) {
    memcpy(t->data, tensor->data, pal_tensor_nbytes(tensor));
  }
  return PAL_STATUS_OK;
}

void pal_tensor_release(pal_tensor_t *tensor) {
  if (!tensor) return;
  if (tensor->dtype == PAL_DTYPE_PAL8_B32) pal_b32_matrix_release(&tensor->b32);
  free(tensor->data);
  free(tensor);
}

pal_dtype_t pal_tensor_dtype(const pal_tensor_t *tensor) { return tensor->dtype; }
size_t pal_tensor_rank(const pal_tensor_t *tensor) { return tensor->rank; }
const int64_t *pal_tensor_dims(const pal_tensor_t *tensor) { return tensor->dims; }
size_t pal_tensor_count(const pal_tensor_t *tensor) { return tensor->count; }
void *pal_tensor_data(pal_tensor_t *tensor) { return tensor->data; }
const void *pal_tensor_cdata(const pal_tensor_t *tensor) { return tensor->data; }
size_t pal_tensor_nbytes(const pal_tensor_t *tensor) {
  if (tensor->dtype == PAL_DTYPE_PAL8_B32) return tensor->b32.rows * tensor->b32.kblocks * 33;
  return tensor->count * pal_dtype_size(tensor->dtype);
}
const pal_b32_matrix_t *pal_tensor_b32(const pal_tensor_t *tensor) {
  return tensor->dtype == PAL_DTYPE_PAL8_B32 ? &tensor->b32 : NULL;
}

void pal_shape_string(const pal_shape_t *shape, char *buf, size_t size) {
  if (shape->rank < 0) {
    snprintf(buf, size, "[?]");
    return;
  }
  size_t o = 0;
  o += (size_t)snprintf(buf + o, size - o, "[");
  for (int i = 0; i < shape->rank && o < size; i++) {
    if (shape->dims[i] < 0)
      o += (size_t)snprintf(buf + o, size - o, "%s?", i ? "," : "");
    else
      o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? "," : "", (long long)shape->dims[i]);
  }
  if (o < size) snprintf(buf + o, size - o, "]");
}

void pal_shape_of_tensor(const pal_tensor_t *tensor, pal_shape_t *out_shape) {
  out_shape->rank = (int)tensor->rank;
  for (size_t i = 0; i < tensor->rank; i++) out_shape->dims[i] = tensor->dims[i];
}

void pal_tensor_shape_string(const pal_tensor_t *tensor, char *buf, size_t size) {
  pal_shape_t s;
  pal_shape_of_tensor(tensor, &s);
  char dims[160];
  pal_shape_string(&s, dims, sizeof dims);
  snprintf(buf, size, "%s%s", pal_dtype_name(tensor->dtype), dims);
}

size_t pal_shape_count(const pal_shape_t *shape) {
  if (shape->rank < 0) return 0;
  size_t c = 1;
  for (int i = 0; i < shape->rank; i++) {
    if (shape->dims[i] < 0) return 0;
    c *= (size_t)shape->dims[i];
  }
  return c;
}

bool pal_shape_known(const pal_shape_t *shape) {
  if (shape->rank < 0) return false;
  for (int i = 0; i < shape->rank; i++)
    if (shape->dims[i] < 0) return false;
  return true;
}

size_t pal_tensor_ints(const pal_tensor_t *tensor, int64_t *out, size_t max) {
  size_t n = tensor->count < max ? tensor->count : max;
  for (size_t i = 0; i < n; i++) {
    if (tensor->dtype == PAL_DTYPE_INT64)
      out[i] = ((const int64_t *)tensor->data)[i];
    else if (tensor->dtype == PAL_DTYPE_INT32)
      out[i] = ((const int32_t *)tensor->data)[i];
    else if (tensor->dtype == PAL_DTYPE_BOOL || tensor->dtype == PAL_DTYPE_UINT8)
      out[i] = ((const uint8_t *)tensor->data)[i];
    else if (tensor->dtype == PAL_DTYPE_FP32)
      out[i] = (int64_t)((const float *)tensor->data)[i];
    else
      out[i] = 0;
  }
  return n;
}

pal_status_t pal_tensor_to_pal8_b32(const pal_tensor_t *fp32, pal_tensor_t **out_tensor) {
  *out_tensor = NULL;
  if (fp32->dtype != PAL_DTYPE_FP32)
    return pal_status_make(PAL_INVALID_ARGUMENT, "PAL8-B32 encoding needs an f32 tensor, got %s",
                           pal_dtype_name(fp32->dtype));
  int64_t one = 1;
  const int64_t *dims = fp32->rank ? fp32->dims : &one;
  size_t rank = fp32->rank ? fp32->rank : 1;
  pal_tensor_t *t;
  PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_PAL8_B32, rank, dims, &t));
  if (t->b32.rows && t->b32.cols) pal_b32_matrix_encode(fp32->data, t->b32.cols, &t->b32);
  t->rank = fp32->rank; /* keep the logical shape (a scalar stays a scalar) */
  *out_tensor = t;
  return PAL_STATUS_OK;
}

pal_status_t pal_tensor_from_pal8_b32(const pal_tensor_t *b32, pal_tensor_t **out_tensor) {
  *out_tensor = NULL;
  if (b32->dtype != PAL_DTYPE_PAL8_B32)
    return pal_status_make(PAL_INVALID_ARGUMENT, "PAL8-B32 decoding needs a pal8_b32 tensor, got %s",
                           pal_dtype_name(b32->dtype));
  pal_tensor_t *t;
  PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_FP32, b32->rank, b32->dims, &t));
  if (b32->b32.rows && b32->b32.cols) pal_b32_matrix_decode(&b32->b32, t->data, b32->b32.cols);
  *out_tensor = t;
  return PAL_STATUS_OK;
}
