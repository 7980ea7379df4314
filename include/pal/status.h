/* Status values returned by every fallible function of the project.
 * A status is either PAL_STATUS_OK (NULL, costs nothing) or an owned object
 * carrying a code and a message that names what was wrong with which input. */
#ifndef PAL_STATUS_H
#define PAL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pal_status_code {
  PAL_OK = 0,
  PAL_INVALID_ARGUMENT,   /* caller passed something malformed */
  PAL_OUT_OF_RANGE,       /* a size, index or address outside what is allowed */
  PAL_RESOURCE_EXHAUSTED, /* allocation failed, buffer too small */
  PAL_DATA_LOSS,          /* corrupt input: bad CRC, truncated file */
  PAL_UNAVAILABLE,        /* device or provider not present */
  PAL_DEADLINE_EXCEEDED,  /* timeout */
  PAL_UNIMPLEMENTED,      /* valid request this build cannot serve */
  PAL_FAILED_PRECONDITION,
  PAL_NOT_FOUND,
  PAL_IO_ERROR,
  PAL_INTERNAL,
} pal_status_code_t;

typedef struct pal_status_s *pal_status_t;

#define PAL_STATUS_OK ((pal_status_t)0)

/* Creates a status with a printf-style message. Never returns PAL_STATUS_OK;
 * if memory runs out it returns a static status that needs no release. */
pal_status_t pal_status_make(pal_status_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the message of `status` with more context ("loading x.palk: ...").
 * Takes ownership of `status` and returns the (possibly new) status. */
pal_status_t pal_status_annotate(pal_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

pal_status_code_t pal_status_code(pal_status_t status);
/* The message; "ok" for PAL_STATUS_OK. Valid until pal_status_free. */
const char *pal_status_message(pal_status_t status);
const char *pal_status_code_name(pal_status_code_t code);
/* Releases a status; PAL_STATUS_OK and the static out-of-memory status are
 * accepted and ignored. */
void pal_status_free(pal_status_t status);

static inline int pal_status_is_ok(pal_status_t status) { return status == PAL_STATUS_OK; }

/* Returns from the enclosing function when `expr` yields an error status. */
#define PAL_RETURN_IF_ERROR(expr)          \
  do {                                     \
    pal_status_t pal_status_tmp_ = (expr); \
    if (pal_status_tmp_) return pal_status_tmp_; \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif /* PAL_STATUS_H */
