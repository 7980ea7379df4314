/* pal-info: opens a device by URI and prints what it reports in INFO (and,
 * on request, its tile and link-engine counters), as text or JSON. The
 * quickest check that a board, palsim or the emulator answers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/driver.h"
#if defined(__has_include)
#if __has_include("pal/usb.h")
#include "pal/usb.h"
#define PAL_INFO_HAS_USB 1
#endif
#endif

enum { EXIT_DEVICE = 1, EXIT_USAGE = 2, EXIT_UNAVAILABLE = 3 };

static void usage(FILE *f) {
  char schemes[2048];
  pal_device_schemes_usage(schemes, sizeof schemes);
  fprintf(f,
          "usage: pal-info [options] URI\n"
          "\n"
          "Opens the device at URI, asks it for INFO over the link protocol and prints\n"
          "its ISA version, geometry, buffer sizes and link parameters.\n"
          "\n"
          "URIs:\n%s"
          "  (every protocol URI also takes ?timeout_ms=N&retries=N)\n"
          "\n"
          "options:\n"
          "  --json          print one JSON object instead of text\n"
          "  --counters      also read the tile's and the link engine's counters\n"
          "  --direct        emu:// without the protocol (same as ?direct=1)\n"
          "  --bare          never use the device's firmware, only the link engine\n"
          "                  (bring-up; same as ?bare=1)\n"
          "  --timeout MS    reply timeout per attempt (default 250)\n"
          "  --retries N     retransmissions per request (default 6)\n"
          "  -h, --help      this text\n"
          "\n"
          "exit status: 0 the device answered; 1 it did not answer or answered wrongly\n"
          "(timeout, I/O error, protocol error); 2 usage error or malformed URI;\n"
          "3 the device or scheme is not available here (no such port, no permission,\n"
          "a scheme this build lacks).\n",
          schemes);
}

static int exit_code(pal_status_t st) {
  switch (pal_status_code(st)) {
    case PAL_INVALID_ARGUMENT: return EXIT_USAGE;
    case PAL_UNAVAILABLE:
    case PAL_NOT_FOUND: return EXIT_UNAVAILABLE;
    default: return EXIT_DEVICE;
  }
}

static bool parse_u32(const char *s, uint32_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || v > UINT32_MAX || s[0] == '-') return false;
  *out = (uint32_t)v;
  return true;
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s >= 0x20) putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
#ifdef PAL_INFO_HAS_USB
  /* The schemes of the layers linked in (sim:// joins once libpalsim exists). */
  pal_status_free(pal_usb_register_scheme());
#endif
  pal_device_options_t opt;
  pal_device_options_initialize(&opt);
  bool json = false, counters = false;
  const char *uri = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--json")) {
      json = true;
    } else if (!strcmp(a, "--counters")) {
      counters = true;
    } else if (!strcmp(a, "--direct")) {
      opt.emu_direct = true;
    } else if (!strcmp(a, "--bare")) {
      opt.bare = true;
    } else if (!strcmp(a, "--timeout") || !strcmp(a, "--retries")) {
      uint32_t v;
      if (i + 1 >= argc || !parse_u32(argv[i + 1], &v) || (a[2] == 't' && v == 0)) {
        fprintf(stderr, "pal-info: %s needs a whole number%s\n", a, a[2] == 't' ? " > 0" : "");
        return EXIT_USAGE;
      }
      if (a[2] == 't')
        opt.timeout_ms = v;
      else
        opt.retries = v;
      i++;
    } else if (a[0] == '-') {
      fprintf(stderr, "pal-info: unknown option %s (try --help)\n", a);
      return EXIT_USAGE;
    } else if (uri) {
      fprintf(stderr, "pal-info: one URI at a time (got %s and %s)\n", uri, a);
      return EXIT_USAGE;
    } else {
      uri = a;
    }
  }
  if (!uri) {
    usage(stderr);
    return EXIT_USAGE;
  }

  pal_device_t *dev = NULL;
  pal_status_t st = pal_device_open(uri, &opt, &dev);
  if (st) {
    fprintf(stderr, "pal-info: %s (%s)\n", pal_status_message(st), pal_status_code_name(pal_status_code(st)));
    int rc = exit_code(st);
    pal_status_free(st);
    return rc;
  }
  pal_device_info_t info;
  pal_tile_counters_t tc;
  pal_link_counters_t lc;
  st = pal_device_info(dev, &info);
  if (!st && counters) st = pal_device_read_counters(dev, &tc);
  /* a device may keep no link counters (the iCE40 board: INFO flag
   * NO_LINK_COUNTERS); the host's link statistics are printed either way */
  bool link_ctrs = info.protocol && !(info.link.flags & PAL_PROTO_FLAG_NO_LINK_COUNTERS);
  if (!st && counters && link_ctrs) st = pal_device_read_link_counters(dev, &lc);
  if (st) {
    fprintf(stderr, "pal-info: %s (%s)\n", pal_status_message(st), pal_status_code_name(pal_status_code(st)));
    int rc = exit_code(st);
    pal_status_free(st);
    pal_device_close(dev);
    return rc == EXIT_USAGE ? EXIT_DEVICE : rc;
  }
  pal_link_stats_t ls;
  pal_device_link_stats(dev, &ls);
  const pal_link_info_t *li = &info.link;
  const pal_tile_config_t *t = &li->tile;

  if (json) {
    printf("{\"uri\": ");
    json_string(info.uri);
    printf(", \"name\": ");
    json_string(li->name);
    printf(", \"protocol\": %s, \"protocol_version\": %u, \"isa_version\": %u, \"flags\": %u, "
           "\"firmware\": %s, \"firmware_used\": %s, \"firmware_version\": %u,\n \"rows\": %u, \"cols\": %u, \"acc_units\": %u, \"imem_depth\": %u, "
           "\"abuf_blocks\": %u, \"wmem_blocks\": %u, \"acc_depth\": %u, \"bias_depth\": %u, "
           "\"obuf_depth\": %u, \"post_unit\": %s, \"accumulate_units\": %s,\n \"max_payload\": %u, \"clock_hz\": %u, \"idle_byte_times\": %u",
           info.protocol ? "true" : "false", li->protocol_version, li->isa_version, li->flags,
           (li->flags & PAL_PROTO_FLAG_FIRMWARE) ? "true" : "false", info.firmware ? "true" : "false",
           (unsigned)info.firmware_version, t->rows, t->cols, t->acc_units,
           t->imem_depth, t->abuf_blocks, t->wmem_blocks, t->acc_depth, t->bias_depth, t->obuf_depth,
           t->no_post ? "false" : "true", t->no_accu ? "false" : "true", li->max_payload, li->clock_hz,
           li->idle_byte_times);
    if (counters) {
      printf(",\n \"tile_counters\": {");
      for (uint32_t c = 0; c < PAL_TILE_CTR_COUNT; c++)
        printf("%s\"%s\": %" PRIu64, c ? ", " : "", pal_tile_counter_name(c), tc.value[c]);
      printf("}");
      if (info.protocol && !link_ctrs) printf(",\n \"link_counters\": null");
      if (link_ctrs) {
        printf(",\n \"link_counters\": {");
        for (uint32_t c = 0; c < PAL_LINK_CTR_COUNT; c++)
          printf("%s\"%s\": %u", c ? ", " : "", pal_link_counter_name(c), lc.value[c]);
        printf("}");
      }
    }
    printf("}\n");
  } else {
    printf("%s\n", info.uri);
    printf("  name          %s\n", li->name[0] ? li->name : "-");
    if (info.protocol)
      printf("  protocol      %u\n", li->protocol_version);
    else
      printf("  protocol      none (direct path to the emulator)\n");
    printf("  isa           %u\n", li->isa_version);
    if (t->no_accu)
      printf("  geometry      %u x %u (%u PEs, no accumulate units: raw block sums, %u per cycle)\n", t->rows,
             t->cols, pal_tile_config_pes(t), t->acc_units);
    else
      printf("  geometry      %u x %u (%u PEs, %u accumulate units)\n", t->rows, t->cols,
             pal_tile_config_pes(t), t->acc_units);
    printf("  imem          %u instructions\n", t->imem_depth);
    printf("  abuf          %u blocks\n", t->abuf_blocks);
    printf("  wmem          %u blocks per PE\n", t->wmem_blocks);
    printf("  acc           %u words\n", t->acc_depth);
    printf("  bias          %u words\n", t->bias_depth);
    printf("  obuf          %u words\n", t->obuf_depth);
    printf("  post unit     %s\n", t->no_post ? "no (bias-after, activation and re-encoding run on the host)" : "yes");
    if (info.protocol) {
      printf("  max payload   %u bytes\n", li->max_payload);
      printf("  idle timeout  %u byte times\n", li->idle_byte_times);
      if (li->clock_hz)
        printf("  clock         %.3f MHz\n", li->clock_hz / 1e6);
      else
        printf("  clock         not reported\n");
      if (info.firmware)
        printf("  firmware      yes, version %u (launches, status, counters through it)\n",
               (unsigned)info.firmware_version);
      else
        printf("  firmware      %s\n", (li->flags & PAL_PROTO_FLAG_FIRMWARE) ? "yes, not used (bare)" : "no");
      printf("  link          %" PRIu64 " packets, %" PRIu64 " retransmissions, %" PRIu64
             " bytes out, %" PRIu64 " bytes in\n",
             ls.packets_sent, ls.retransmissions, ls.tx_bytes, ls.rx_bytes);
    }
    if (counters) {
      printf("  tile counters\n");
      for (uint32_t c = 0; c < PAL_TILE_CTR_COUNT; c++)
        printf("    %-16s %" PRIu64 "\n", pal_tile_counter_name(c), tc.value[c]);
      if (info.protocol && !link_ctrs)
        printf("  link-engine counters: none on this device (INFO flag NO_LINK_COUNTERS)\n");
      if (link_ctrs) {
        printf("  link-engine counters\n");
        for (uint32_t c = 0; c < PAL_LINK_CTR_COUNT; c++)
          printf("    %-16s %u\n", pal_link_counter_name(c), lc.value[c]);
      }
    }
  }
  pal_device_close(dev);
  return 0;
}
