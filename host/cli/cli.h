/* The `pal` command line: shared pieces of the subcommands (exit codes,
 * status reporting, the progress bar). Exit codes are documented in
 * docs/runtime.md and in `pal --help`. */
#ifndef PAL_CLI_H
#define PAL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "pal/pal.h"

enum {
  PAL_EXIT_OK = 0,
  PAL_EXIT_FAILURE = 1,     /* the work failed (device error, run failed, I/O) */
  PAL_EXIT_USAGE = 2,       /* bad command line */
  PAL_EXIT_UNAVAILABLE = 3, /* the device or provider asked for is not there */
  PAL_EXIT_BAD_INPUT = 4,   /* malformed or unsupported model / .npy file */
  PAL_EXIT_FALLBACK = 5,    /* --no-fallback and a node would fall back */
};

/* Prints "pal CMD: message" to stderr, frees the status and returns the
 * exit code for its status code. */
int pal_cli_fail(const char *cmd, pal_status_t status);
/* The exit code for a status (PAL_EXIT_OK for OK). */
int pal_cli_exit_code(pal_status_t status);

/* A progress bar on stderr, shown only on a terminal and only once the
 * work has taken more than a second. */
typedef struct pal_progress {
  const char *label;
  double start;
  bool shown;
} pal_progress_t;

void pal_progress_begin(pal_progress_t *p, const char *label);
void pal_progress_update(pal_progress_t *p, size_t done, size_t total);
void pal_progress_end(pal_progress_t *p);
double pal_cli_now(void);

int pal_cmd_info(int argc, char **argv);
int pal_cmd_quantize(int argc, char **argv);
int pal_cmd_run(int argc, char **argv);
int pal_cmd_compile(int argc, char **argv);
int pal_cmd_bench(int argc, char **argv);
int pal_cmd_flash(int argc, char **argv);

#endif /* PAL_CLI_H */
