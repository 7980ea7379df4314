/* `pal flash`: writes a board bitstream (make bitstream BOARD=...) to its
 * board through scripts/flash.sh, which holds the per-board tool and USB
 * ids (docs/boards.md); this only finds the script and maps its exit
 * status onto pal's exit codes. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
    "usage: pal flash [--dry-run] [--board] icebreaker|ulx3s|orangecrab [BITSTREAM]\n"
    "  Writes the board's bitstream (default: the one `make bitstream BOARD=...`\n"
    "  wrote under the build folder this pal was built in) with iceprog\n"
    "  (iCEBreaker) or openFPGALoader (ULX3S, OrangeCrab), after checking that\n"
    "  the board's USB device is attached. --dry-run prints the exact command and\n"
    "  runs nothing. Runs scripts/flash.sh of the source tree (PAL_FLASH_SCRIPT\n"
    "  overrides where it is; BUILD, the build folder).\n"
    "  Exit codes: 0 ok, 1 flashing failed or no bitstream, 2 usage error,\n"
    "  3 no board attached.\n";

/* This binary is $(BUILD)/bin/pal in the source tree: the build folder and
 * the script are found from its own path, so it works from any directory. */
static int exe_dir(char *out, size_t size) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  if (snprintf(out, size, "%s", dirname(buf)) >= (int)size) return -1;
  return 0;
}

int pal_cmd_flash(int argc, char **argv) {
  int dry = 0;
  const char *board = NULL, *file = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help, stdout);
      return PAL_EXIT_OK;
    } else if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n")) {
      dry = 1;
    } else if (!strcmp(argv[i], "--board") && i + 1 < argc && !board) {
      board = argv[++i];
    } else if (argv[i][0] != '-' && !board) {
      board = argv[i];
    } else if (argv[i][0] != '-' && !file) {
      file = argv[i];
    } else {
      fprintf(stderr, "pal flash: unexpected argument '%s'\n%s", argv[i], help);
      return PAL_EXIT_USAGE;
    }
  }
  if (!board) {
    fprintf(stderr, "pal flash: say which board\n%s", help);
    return PAL_EXIT_USAGE;
  }

  char dir[PATH_MAX], script[PATH_MAX + 32], build[PATH_MAX];
  const char *env_script = getenv("PAL_FLASH_SCRIPT");
  if (exe_dir(dir, sizeof dir) != 0) {
    if (!env_script) {
      fprintf(stderr, "pal flash: cannot tell where this binary is; set PAL_FLASH_SCRIPT\n");
      return PAL_EXIT_FAILURE;
    }
    dir[0] = '\0';
  }
  if (env_script)
    snprintf(script, sizeof script, "%s", env_script);
  else
    snprintf(script, sizeof script, "%s/../../scripts/flash.sh", dir);
  if (!getenv("BUILD") && dir[0]) {
    snprintf(build, sizeof build, "%s/..", dir);
    char *real = realpath(build, NULL);
    if (real) {
      setenv("BUILD", real, 1);
      free(real);
    }
  }
  if (access(script, X_OK) != 0) {
    fprintf(stderr, "pal flash: %s: %s (set PAL_FLASH_SCRIPT to scripts/flash.sh)\n", script,
            strerror(errno));
    return PAL_EXIT_FAILURE;
  }

  char *args[5];
  int n = 0;
  args[n++] = script;
  if (dry) args[n++] = "--dry-run";
  args[n++] = (char *)board;
  if (file) args[n++] = (char *)file;
  args[n] = NULL;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "pal flash: fork: %s\n", strerror(errno));
    return PAL_EXIT_FAILURE;
  }
  if (pid == 0) {
    execv(script, args);
    fprintf(stderr, "pal flash: %s: %s\n", script, strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return PAL_EXIT_FAILURE;
  if (!WIFEXITED(status)) return PAL_EXIT_FAILURE;
  switch (WEXITSTATUS(status)) {
    case 0: return PAL_EXIT_OK;
    case 64: return PAL_EXIT_USAGE;      /* flash.sh: usage, unknown board */
    case 2: return PAL_EXIT_UNAVAILABLE; /* flash.sh: no board attached */
    default: return PAL_EXIT_FAILURE;
  }
}
