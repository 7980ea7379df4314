/* Broadcasting element-wise kernels: Add/Sub/Mul/Div/Pow (FP32 and integer),
 * the comparisons (bool out) and Where (any element size). */
#include <math.h>

#include "ops_internal.h"

static const char *binary_name(pal_op_binary_kind_t k) {
  switch (k) {
    case PAL_OP_ADD: return "Add";
    case PAL_OP_SUB: return "Sub";
    case PAL_OP_MUL: return "Mul";
    case PAL_OP_DIV: return "Div";
    case PAL_OP_POW: return "Pow";
  }
  return "binary";
}

static const char *compare_name(pal_op_compare_kind_t k) {
  switch (k) {
    case PAL_OP_EQUAL: return "Equal";
    case PAL_OP_LESS: return "Less";
    case PAL_OP_GREATER: return "Greater";
    case PAL_OP_LESS_OR_EQUAL: return "LessOrEqual";
    case PAL_OP_GREATER_OR_EQUAL: return "GreaterOrEqual";
  }
  return "compare";
}

size_t pal_op_dtype_size(pal_op_dtype_t dtype) {
  switch (dtype) {
    case PAL_OP_F32: return 4;
    case PAL_OP_I64: return 8;
    case PAL_OP_I32: return 4;
    case PAL_OP_BOOL: return 1;
    case PAL_OP_U8: return 1;
  }
  return 0;
}

const char *pal_op_dtype_name(pal_op_dtype_t dtype) {
  switch (dtype) {
    case PAL_OP_F32: return "float32";
    case PAL_OP_I64: return "int64";
    case PAL_OP_I32: return "int32";
    case PAL_OP_BOOL: return "bool";
    case PAL_OP_U8: return "uint8";
  }
  return "unknown";
}

/* Integer power by squaring in unsigned arithmetic (wraps like the
 * reference implementations instead of overflowing signed types). */
static int64_t ipow64(int64_t base, int64_t e) {
  if (e < 0) {
    if (base == 1) return 1;
    if (base == -1) return (e & 1) ? -1 : 1;
    return 0;
  }
  uint64_t r = 1, b = (uint64_t)base;
  uint64_t ue = (uint64_t)e;
  while (ue) {
    if (ue & 1) r *= b;
    b *= b;
    ue >>= 1;
  }
  return (int64_t)r;
}

/* One inner row: strides are 0 or 1 after coalescing. */
#define ROW_LOOP(T, TO, EXPR)                                                 \
  do {                                                                        \
    const T *pa = (const T *)a + w.off[0];                                    \
    const T *pb = (const T *)b + w.off[1];                                    \
    TO *po = (TO *)out + row * inner;                                         \
    if (sa && sb) {                                                           \
      for (int64_t i = 0; i < inner; i++) {                                   \
        T x = pa[i], y = pb[i];                                               \
        po[i] = EXPR;                                                         \
      }                                                                       \
    } else if (sb) {                                                          \
      T x = pa[0];                                                            \
      for (int64_t i = 0; i < inner; i++) {                                   \
        T y = pb[i];                                                          \
        po[i] = EXPR;                                                         \
      }                                                                       \
    } else if (sa) {                                                          \
      T y = pb[0];                                                            \
      for (int64_t i = 0; i < inner; i++) {                                   \
        T x = pa[i];                                                          \
        po[i] = EXPR;                                                         \
      }                                                                       \
    } else {                                                                  \
      T x = pa[0], y = pb[0];                                                 \
      TO v = EXPR;                                                            \
      for (int64_t i = 0; i < inner; i++) po[i] = v;                          \
    }                                                                         \
  } while (0)

#define FOR_ROWS(BODY)                                                        \
  do {                                                                        \
    pal_ops_bcast_walk_t w;                                                   \
    memset(&w, 0, sizeof w);                                                  \
    int64_t rows = pal_ops_bcast_rows(&it), inner = it.dims[it.rank - 1];     \
    int sa = it.strides[0][it.rank - 1] != 0, sb = it.strides[1][it.rank - 1] != 0; \
    for (int64_t row = 0; row < rows; row++) {                                \
      BODY;                                                                   \
      pal_ops_bcast_next(&it, &w);                                            \
    }                                                                         \
  } while (0)

static pal_status_t prepare2(const char *op, const void *a, const pal_shape_t *a_shape,
                             const void *b, const pal_shape_t *b_shape, const void *out,
                             pal_ops_bcast_t *it) {
  int64_t na, nb;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "A", a_shape, &na));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "B", b_shape, &nb));
  pal_shape_t o;
  PAL_RETURN_IF_ERROR(pal_shape_broadcast(op, a_shape, b_shape, &o));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "A", a, na));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "B", b, nb));
  const pal_shape_t *ins[2] = {a_shape, b_shape};
  pal_ops_bcast_init(it, &o, 2, ins);
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", out, it->total));
  return PAL_STATUS_OK;
}

/* Integer division by zero is reported before anything is written. */
#define CHECK_ZERO_DIV(T)                                                       \
  do {                                                                          \
    const T *pb_ = (const T *)b;                                                \
    for (int64_t i_ = 0; i_ < nb; i_++)                                         \
      if (pb_[i_] == 0)                                                         \
        return pal_status_make(PAL_INVALID_ARGUMENT,                            \
                               "Div: integer division by zero (B element %lld)", \
                               (long long)i_);                                  \
  } while (0)

#define INT_BINARY(T, UT)                                                            \
  do {                                                                               \
    switch (kind) {                                                                  \
      case PAL_OP_ADD: FOR_ROWS(ROW_LOOP(T, T, (T)((UT)x + (UT)y))); break;          \
      case PAL_OP_SUB: FOR_ROWS(ROW_LOOP(T, T, (T)((UT)x - (UT)y))); break;          \
      case PAL_OP_MUL: FOR_ROWS(ROW_LOOP(T, T, (T)((UT)x * (UT)y))); break;          \
      case PAL_OP_DIV:                                                               \
        CHECK_ZERO_DIV(T);                                                           \
        /* MIN / -1 overflows in C; wrap it like two's complement hardware */        \
        FOR_ROWS(ROW_LOOP(T, T, (y == -1 ? (T)(0 - (UT)x) : (T)(x / y))));          \
        break;                                                                       \
      case PAL_OP_POW: FOR_ROWS(ROW_LOOP(T, T, (T)ipow64((int64_t)x, (int64_t)y))); break; \
    }                                                                                \
  } while (0)

pal_status_t pal_op_binary(pal_op_binary_kind_t kind, pal_op_dtype_t dtype, const void *a,
                           const pal_shape_t *a_shape, const void *b, const pal_shape_t *b_shape,
                           void *out) {
  if ((unsigned)kind > PAL_OP_POW)
    return pal_status_make(PAL_INVALID_ARGUMENT, "binary: unknown kind %d", (int)kind);
  const char *op = binary_name(kind);
  pal_ops_bcast_t it;
  PAL_RETURN_IF_ERROR(prepare2(op, a, a_shape, b, b_shape, out, &it));
  if (it.total == 0) return PAL_STATUS_OK;
  int64_t nb = 1;
  for (int i = 0; i < b_shape->rank; i++) nb *= b_shape->dims[i];
  switch (dtype) {
    case PAL_OP_F32:
      switch (kind) {
        case PAL_OP_ADD: FOR_ROWS(ROW_LOOP(float, float, x + y)); break;
        case PAL_OP_SUB: FOR_ROWS(ROW_LOOP(float, float, x - y)); break;
        case PAL_OP_MUL: FOR_ROWS(ROW_LOOP(float, float, x * y)); break;
        case PAL_OP_DIV: FOR_ROWS(ROW_LOOP(float, float, x / y)); break;
        case PAL_OP_POW: FOR_ROWS(ROW_LOOP(float, float, powf(x, y))); break;
      }
      return PAL_STATUS_OK;
    case PAL_OP_I64: INT_BINARY(int64_t, uint64_t); return PAL_STATUS_OK;
    case PAL_OP_I32: INT_BINARY(int32_t, uint32_t); return PAL_STATUS_OK;
    case PAL_OP_U8:
      switch (kind) {
        case PAL_OP_ADD: FOR_ROWS(ROW_LOOP(uint8_t, uint8_t, (uint8_t)(x + y))); break;
        case PAL_OP_SUB: FOR_ROWS(ROW_LOOP(uint8_t, uint8_t, (uint8_t)(x - y))); break;
        case PAL_OP_MUL: FOR_ROWS(ROW_LOOP(uint8_t, uint8_t, (uint8_t)(x * y))); break;
        case PAL_OP_DIV:
          CHECK_ZERO_DIV(uint8_t);
          FOR_ROWS(ROW_LOOP(uint8_t, uint8_t, (uint8_t)(x / y)));
          break;
        case PAL_OP_POW: FOR_ROWS(ROW_LOOP(uint8_t, uint8_t, (uint8_t)ipow64(x, y))); break;
      }
      return PAL_STATUS_OK;
    case PAL_OP_BOOL: break;
  }
  return pal_status_make(PAL_INVALID_ARGUMENT, "%s: element type %s not supported", op,
                         pal_op_dtype_name(dtype));
}

#define CMP_ALL(T)                                                               \
  do {                                                                           \
    switch (kind) {                                                              \
      case PAL_OP_EQUAL: FOR_ROWS(ROW_LOOP(T, uint8_t, (uint8_t)(x == y))); break; \
      case PAL_OP_LESS: FOR_ROWS(ROW_LOOP(T, uint8_t, (uint8_t)(x < y))); break;   \
      case PAL_OP_GREATER: FOR_ROWS(ROW_LOOP(T, uint8_t, (uint8_t)(x > y))); break; \
      case PAL_OP_LESS_OR_EQUAL: FOR_ROWS(ROW_LOOP(T, uint8_t, (uint8_t)(x <= y))); break; \
      case PAL_OP_GREATER_OR_EQUAL: FOR_ROWS(ROW_LOOP(T, uint8_t, (uint8_t)(x >= y))); break; \
    }                                                                            \
  } while (0)

pal_status_t pal_op_compare(pal_op_compare_kind_t kind, pal_op_dtype_t dtype, const void *a,
                            const pal_shape_t *a_shape, const void *b, const pal_shape_t *b_shape,
                            uint8_t *out) {
  if ((unsigned)kind > PAL_OP_GREATER_OR_EQUAL)
    return pal_status_make(PAL_INVALID_ARGUMENT, "compare: unknown kind %d", (int)kind);
  const char *op = compare_name(kind);
  pal_ops_bcast_t it;
  PAL_RETURN_IF_ERROR(prepare2(op, a, a_shape, b, b_shape, out, &it));
  if (it.total == 0) return PAL_STATUS_OK;
  switch (dtype) {
    case PAL_OP_F32: CMP_ALL(float); return PAL_STATUS_OK;
    case PAL_OP_I64: CMP_ALL(int64_t); return PAL_STATUS_OK;
    case PAL_OP_I32: CMP_ALL(int32_t); return PAL_STATUS_OK;
    case PAL_OP_BOOL:
    case PAL_OP_U8: CMP_ALL(uint8_t); return PAL_STATUS_OK;
  }
  return pal_status_make(PAL_INVALID_ARGUMENT, "%s: element type %d not supported", op, (int)dtype);
}

#define WHERE_LOOP(T)                                                              \
  do {                                                                             \
    for (int64_t row = 0; row < rows; row++) {                                     \
      const uint8_t *pc = cond + w.off[0];                                         \
      const T *px = (const T *)x + w.off[1];                                       \
      const T *py = (const T *)y + w.off[2];                                       \
      T *po = (T *)out + row * inner;                                              \
      for (int64_t i = 0; i < inner; i++) po[i] = pc[i * sc] ? px[i * sx] : py[i * sy]; \
      pal_ops_bcast_next(&it, &w);                                                 \
    }                                                                              \
  } while (0)

pal_status_t pal_op_where(const uint8_t *cond, const pal_shape_t *cond_shape, const void *x,
                          const pal_shape_t *x_shape, const void *y, const pal_shape_t *y_shape,
                          size_t elem_size, void *out) {
  const char *op = "Where";
  int64_t nc, nx, ny;
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "condition", cond_shape, &nc));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "X", x_shape, &nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_shape(op, "Y", y_shape, &ny));
  if (elem_size == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "Where: elem_size is 0");
  pal_shape_t o;
  PAL_RETURN_IF_ERROR(pal_shape_broadcast3(op, cond_shape, x_shape, y_shape, &o));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "condition", cond, nc));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "X", x, nx));
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "Y", y, ny));
  const pal_shape_t *ins[3] = {cond_shape, x_shape, y_shape};
  pal_ops_bcast_t it;
  pal_ops_bcast_init(&it, &o, 3, ins);
  PAL_RETURN_IF_ERROR(pal_ops_check_ptr(op, "output", out, it.total));
  if (it.total == 0) return PAL_STATUS_OK;
  pal_ops_bcast_walk_t w;
  memset(&w, 0, sizeof w);
  int64_t rows = pal_ops_bcast_rows(&it), inner = it.dims[it.rank - 1];
  int64_t sc = it.strides[0][it.rank - 1], sx = it.strides[1][it.rank - 1],
          sy = it.strides[2][it.rank - 1];
  switch (elem_size) {
    case 1: WHERE_LOOP(uint8_t); return PAL_STATUS_OK;
    case 2: WHERE_LOOP(uint16_t); return PAL_STATUS_OK;
    case 4: WHERE_LOOP(uint32_t); return PAL_STATUS_OK;
    case 8: WHERE_LOOP(uint64_t); return PAL_STATUS_OK;
    default: break;
  }
  for (int64_t row = 0; row < rows; row++) {
    const uint8_t *pc = cond + w.off[0];
    const char *px = (const char *)x + w.off[1] * (int64_t)elem_size;
    const char *py = (const char *)y + w.off[2] * (int64_t)elem_size;
    char *po = (char *)out + row * inner * (int64_t)elem_size;
    for (int64_t i = 0; i < inner; i++)
      memcpy(po + i * (int64_t)elem_size,
             pc[i * sc] ? px + i * sx * (int64_t)elem_size : py + i * sy * (int64_t)elem_size,
             elem_size);
    pal_ops_bcast_next(&it, &w);
  }
  return PAL_STATUS_OK;
}
