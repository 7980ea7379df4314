/* `pal info`: what this binary can run on — the providers and whether each
 * is ready (with the reason when not), the default device, the device
 * schemes, the supported ops. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pal/driver.h"

static const char help[] =
    "usage: pal info [--device URI] [--bare]\n"
    "  Lists the providers (pal, cuda, cpu) and whether each can run here, the\n"
    "  default device (sim:// when this binary registers it, else emu://), the\n"
    "  device URI schemes and the supported ONNX ops. --device asks the pal\n"
    "  provider about URI instead of the default device. --bare opens the device\n"
    "  with bare=1: the link engine only, never its firmware (bring-up).\n"
    "  Exit codes: 0 ok, 2 usage error or malformed URI.\n";

int pal_cmd_info(int argc, char **argv) {
  const char *device = NULL;
  int bare = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help, stdout);
      return PAL_EXIT_OK;
    } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
      device = argv[++i];
    } else if (!strcmp(argv[i], "--bare")) {
      bare = 1;
    } else {
      fprintf(stderr, "pal info: unexpected argument '%s'\n%s", argv[i], help);
      return PAL_EXIT_USAGE;
    }
  }
  char bare_uri[PAL_URI_MAX];
  if (bare) { /* the driver's bare=1 URI key (docs/protocol.md §10) */
    const char *u = device ? device : pal_default_device();
    snprintf(bare_uri, sizeof bare_uri, "%s%sbare=1", u, strchr(u, '?') ? "&" : "?");
    device = bare_uri;
  }
  if (device) {
    pal_device_uri_t uri;
    pal_status_t st = pal_device_uri_parse(device, &uri);
    if (st) {
      fprintf(stderr, "pal info: %s\n", pal_status_message(st));
      pal_status_free(st);
      return PAL_EXIT_USAGE;
    }
  }
  const char *def = pal_default_device();
  printf("pal runtime, ONNX opsets %d..%d\n", PAL_ONNX_OPSET_MIN, PAL_ONNX_OPSET_MAX);
  printf("default device: %s (%s)\n", def,
         strcmp(def, "sim://") == 0 ? "sim:// is registered in this binary"
                                    : "sim:// is not registered in this binary, so emu://");
  printf("providers (priority order):\n");
  pal_provider_status_t ps[4];
  size_t n = pal_providers_list(device, ps, 4);
  for (size_t i = 0; i < n; i++)
    printf("  %-5s %-11s %s\n", ps[i].name, ps[i].available ? "ready" : "unavailable", ps[i].detail);
  char schemes[2048];
  pal_device_schemes_usage(schemes, sizeof schemes);
  printf("device schemes:\n");
  for (char *line = strtok(schemes, "\n"); line; line = strtok(NULL, "\n")) printf("  %s\n", line);
  printf("supported ops:");
  const char *const *ops = pal_supported_ops();
  for (size_t i = 0; ops[i]; i++) printf("%s%s", i % 10 ? " " : "\n  ", ops[i]);
  printf("\n");
  return PAL_EXIT_OK;
}
