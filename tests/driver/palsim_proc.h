/* Test support: runs build/bin/palsim (sim/palsim.c) as a child process —
 * started on a free port or a pty, its address parsed from its stdout, and
 * stopped with a signal whose exit status the test checks. The binary is
 * $PALSIM, else bin/palsim found walking up from the test executable
 * (build/<variant>/tests/driver/ -> build/bin/). */
#ifndef PALSIM_PROC_H
#define PALSIM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pal/status.h"

typedef struct palsim_proc {
  pid_t pid;
  int out_fd;          /* palsim's stdout */
  char where[256];     /* "127.0.0.1:40123" or "/dev/pts/7" */
  char uri[320];       /* "sim+tcp://127.0.0.1:40123" or "serial:///dev/pts/7?baud=3000000" */
} palsim_proc_t;

/* The palsim binary, or NULL (with the places looked at in *out_why). */
const char *palsim_proc_binary(const char **out_why);

/* Starts palsim with `args` (NULL-terminated, after the binary name; they
 * must include --listen or --pty) and waits up to timeout_ms for the line
 * that gives its address. */
pal_status_t palsim_proc_start(const char *const *args, uint32_t timeout_ms, palsim_proc_t *out_proc);

/* Sends `sig` (0: none) and waits up to timeout_ms for the exit. Returns
 * the exit status, 128+N for death by signal N, or -1 when it did not end
 * in time (it is then killed with SIGKILL and reaped). */
int palsim_proc_stop(palsim_proc_t *proc, int sig, uint32_t timeout_ms);

/* Runs palsim with `args` to its end (killed after timeout_ms: -1) and
 * returns its exit status; its stderr (then stdout) lands in err_buf. */
int palsim_proc_run(const char *const *args, uint32_t timeout_ms, char *err_buf, size_t err_size);

/* SIGKILLs and reaps every palsim this process started and has not
 * stopped (a test's teardown, after a failure cut it short). */
void palsim_proc_kill_all(void);

/* Loads, on any device, a kernel long enough to be seen running: `gemms`
 * GEMMs over seeded non-zero operands that fill ACC, then END, at pc 0
 * (at most IMEM_DEPTH - 1 GEMMs). */
struct pal_device;
pal_status_t palsim_test_load_long_kernel(struct pal_device *device, uint32_t gemms, uint64_t seed);

#endif /* PALSIM_PROC_H */
