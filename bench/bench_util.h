/* Shared helpers for the benchmarks: wall-clock timing and the JSON result
 * file of docs/conventions (bench, commit, machine, results[]). Header-only
 * so every bench/bench_*.c stays one translation unit. */
#ifndef PAL_BENCH_UTIL_H
#define PAL_BENCH_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct bench_json {
  FILE *f;
  int n_results;
} bench_json_t;

static inline void bench_json_escape(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if ((unsigned char)*s >= 0x20) fputc(*s, f);
  }
  fputc('"', f);
}

/* Reads one line of a command's output into buf (trailing newline removed). */
static inline void bench_command_line(const char *cmd, char *buf, size_t n) {
  buf[0] = 0;
  FILE *p = popen(cmd, "r");
  if (!p) return;
  if (fgets(buf, (int)n, p)) buf[strcspn(buf, "\n")] = 0;
  pclose(p);
}

/* Opens path and writes the header; returns 0 on success. */
static inline int bench_json_open(bench_json_t *j, const char *path, const char *bench) {
  j->n_results = 0;
  j->f = fopen(path, "w");
  if (!j->f) return -1;
  char commit[128], cpu[256], machine[320];
  bench_command_line("git describe --always --dirty 2>/dev/null", commit, sizeof commit);
  bench_command_line("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1", cpu,
                     sizeof cpu);
  snprintf(machine, sizeof machine, "%ld cpus, %s", sysconf(_SC_NPROCESSORS_ONLN),
           cpu[0] ? cpu : "unknown cpu");
  fprintf(j->f, "{\"bench\": ");
  bench_json_escape(j->f, bench);
  fprintf(j->f, ", \"commit\": ");
  bench_json_escape(j->f, commit[0] ? commit : "unknown");
  fprintf(j->f, ", \"machine\": ");
  bench_json_escape(j->f, machine);
  fprintf(j->f, ",\n \"results\": [");
  return 0;
}

/* Adds one result. params is a JSON object body without braces, e.g.
 * "\"format\": \"pal8_b32\", \"M\": 64" (may be empty). target_op is NULL
 * when the issue sets no target. */
static inline void bench_json_result(bench_json_t *j, const char *metric, double value,
                                     const char *unit, const char *params,
                                     const char *target_op, double target_value) {
  if (!j->f) return;
  fprintf(j->f, "%s\n  {\"metric\": ", j->n_results++ ? "," : "");
  bench_json_escape(j->f, metric);
  fprintf(j->f, ", \"value\": %.9g, \"unit\": ", value);
  bench_json_escape(j->f, unit);
  fprintf(j->f, ", \"params\": {%s}", params ? params : "");
  if (target_op) {
    fprintf(j->f, ", \"target\": {\"op\": ");
    bench_json_escape(j->f, target_op);
    fprintf(j->f, ", \"value\": %.9g}", target_value);
  }
  fputc('}', j->f);
}

static inline int bench_json_close(bench_json_t *j) {
  if (!j->f) return -1;
  fprintf(j->f, "\n]}\n");
  int rc = fclose(j->f);
  j->f = NULL;
  return rc;
}

/* Did value meet "op target"? For the table's verdict column. */
static inline const char *bench_verdict(double value, const char *op, double target) {
  if (!op) return "";
  int ok = (!strcmp(op, "<=") && value <= target) || (!strcmp(op, ">=") && value >= target) ||
           (!strcmp(op, "<") && value < target) || (!strcmp(op, ">") && value > target);
  return ok ? "met" : "MISSED";
}

#endif /* PAL_BENCH_UTIL_H */
