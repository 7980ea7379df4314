/* `pal`: the runtime's command line. Dispatches to the subcommands and
 * holds what they share (exit codes, error printing, the progress bar). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#ifdef PAL_CLI_WITH_SIM
#include "pal/soc.h" /* the pal-sim build: sim:// in this process */
#endif

static const char usage[] =
    "usage: pal COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  info [--device URI]                       providers, default device, supported ops\n"
    "  quantize IN.npy -o OUT.npy --format F     round trip through pal8-b32|pal8-t|pal16,\n"
    "                                            prints the error statistics\n"
    "  run MODEL.onnx --input X.npy ... [--output Y.npy ...] [--device URI]\n"
    "      [--providers LIST] [--no-fallback] [--profile]   run a model\n"
    "  compile MODEL.onnx -o MODEL.palk [--device URI]     kernel image of the device part\n"
    "  bench MODEL.onnx [--device URI] [--iters N]          time the model\n"
    "  flash [--dry-run] [--board] BOARD [BITSTREAM]        write a bitstream to an FPGA board\n"
    "\n"
    "`pal COMMAND --help` describes each command.\n"
    "\n"
    "exit codes: 0 ok, 1 failure while working, 2 usage error, 3 device or provider\n"
    "unavailable, 4 malformed or unsupported input file, 5 a node would fall back\n"
    "under --no-fallback.\n";

double pal_cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int pal_cli_exit_code(pal_status_t st) {
  switch (pal_status_code(st)) {
    case PAL_OK: return PAL_EXIT_OK;
    case PAL_UNAVAILABLE: return PAL_EXIT_UNAVAILABLE;
    case PAL_INVALID_ARGUMENT:
    case PAL_DATA_LOSS:
    case PAL_UNIMPLEMENTED:
    case PAL_OUT_OF_RANGE:
    case PAL_NOT_FOUND: return PAL_EXIT_BAD_INPUT;
    case PAL_FAILED_PRECONDITION: return PAL_EXIT_FALLBACK;
    default: return PAL_EXIT_FAILURE;
  }
}

int pal_cli_fail(const char *cmd, pal_status_t st) {
  int rc = pal_cli_exit_code(st);
  fprintf(stderr, "pal %s: %s\n", cmd, pal_status_message(st));
  pal_status_free(st);
  return rc;
}

void pal_progress_begin(pal_progress_t *p, const char *label) {
  p->label = label;
  p->start = pal_cli_now();
  p->shown = false;
}

void pal_progress_update(pal_progress_t *p, size_t done, size_t total) {
  if (!isatty(STDERR_FILENO) || pal_cli_now() - p->start < 1.0 || !total) return;
  int width = 40, fill = (int)((double)width * (double)done / (double)total);
  fprintf(stderr, "\r%s [", p->label);
  for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
  fprintf(stderr, "] %zu/%zu", done, total);
  fflush(stderr);
  p->shown = true;
}

void pal_progress_end(pal_progress_t *p) {
  if (p->shown) fputc('\n', stderr);
  p->shown = false;
}

int main(int argc, char **argv) {
#ifdef PAL_CLI_WITH_SIM
  pal_status_t st = pal_soc_register_scheme();
  if (st) {
    fprintf(stderr, "pal: registering sim://: %s\n", pal_status_message(st));
    pal_status_free(st);
  }
#endif
  if (argc < 2) {
    fputs(usage, stderr);
    return PAL_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return PAL_EXIT_OK;
  }
  if (!strcmp(cmd, "info")) return pal_cmd_info(argc - 1, argv + 1);
  if (!strcmp(cmd, "quantize")) return pal_cmd_quantize(argc - 1, argv + 1);
  if (!strcmp(cmd, "run")) return pal_cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "compile")) return pal_cmd_compile(argc - 1, argv + 1);
  if (!strcmp(cmd, "bench")) return pal_cmd_bench(argc - 1, argv + 1);
  if (!strcmp(cmd, "flash")) return pal_cmd_flash(argc - 1, argv + 1);
  fprintf(stderr, "pal: unknown command '%s'\n\n%s", cmd, usage);
  return PAL_EXIT_USAGE;
}
