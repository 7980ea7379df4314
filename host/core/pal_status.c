/* pal_status_t: heap-allocated code + message; NULL means OK. A static
 * status stands in when even the error cannot be allocated. */
#include "pal/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pal_status_s {
  pal_status_code_t code;
  char message[];
};

static struct {
  pal_status_code_t code;
  char message[32];
} oom_status = {PAL_RESOURCE_EXHAUSTED, "out of memory creating a status"};

#define OOM_STATUS ((pal_status_t)(void *)&oom_status)

static pal_status_t status_vmake(pal_status_code_t code, const char *prefix, const char *fmt,
                                 va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  size_t plen = prefix ? strlen(prefix) + 2 : 0;
  pal_status_t s = malloc(sizeof *s + plen + (size_t)n + 1);
  if (!s) return OOM_STATUS;
  s->code = code == PAL_OK ? PAL_INTERNAL : code;
  char *p = s->message;
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  if (prefix) {
    /* message = "<new context>: <old message>" */
    memmove(p + (size_t)n + 2, prefix, plen - 2);
    p[n] = ':';
    p[n + 1] = ' ';
    p[(size_t)n + plen] = 0;
  }
  return s;
}

pal_status_t pal_status_make(pal_status_code_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pal_status_t s = status_vmake(code, NULL, fmt, ap);
  va_end(ap);
  return s;
}

pal_status_t pal_status_annotate(pal_status_t status, const char *fmt, ...) {
  if (!status) return status;
  va_list ap;
  va_start(ap, fmt);
  pal_status_t s = status_vmake(status->code, status->message, fmt, ap);
  va_end(ap);
  if (s == OOM_STATUS) return status; /* keep the original rather than lose it */
  pal_status_free(status);
  return s;
}

pal_status_code_t pal_status_code(pal_status_t status) { return status ? status->code : PAL_OK; }

const char *pal_status_message(pal_status_t status) { return status ? status->message : "ok"; }

const char *pal_status_code_name(pal_status_code_t code) {
  switch (code) {
    case PAL_OK: return "OK";
    case PAL_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case PAL_OUT_OF_RANGE: return "OUT_OF_RANGE";
    case PAL_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case PAL_DATA_LOSS: return "DATA_LOSS";
    case PAL_UNAVAILABLE: return "UNAVAILABLE";
    case PAL_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case PAL_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case PAL_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case PAL_NOT_FOUND: return "NOT_FOUND";
    case PAL_IO_ERROR: return "IO_ERROR";
    case PAL_INTERNAL: return "INTERNAL";
  }
  return "UNKNOWN";
}

void pal_status_free(pal_status_t status) {
  if (status && status != OOM_STATUS) free(status);
}
