/* pal-sim: runs a hand-written kernel (Tile ISA assembly, docs/isa.md §7)
 * on the Verilated RTL tile: loads raw data files into regions, runs,
 * prints STATUS and the counters, dumps regions to files, and (in the
 * pal-sim-trace build of `make sim-trace`) writes an FST waveform.
 *   usage: pal-sim [options] PROGRAM.s   (pal-sim --help) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/sim.h"
#include "pal/tile.h"

static const struct {
  const char *name;
  pal_tile_region_t region;
} kRegions[] = {
    {"imem", PAL_TILE_REGION_IMEM},         {"abuf", PAL_TILE_REGION_ABUF_CODES},
    {"ascale", PAL_TILE_REGION_ABUF_SCALES}, {"wmem", PAL_TILE_REGION_WMEM_CODES},
    {"wscale", PAL_TILE_REGION_WMEM_SCALES}, {"acc", PAL_TILE_REGION_ACC},
    {"accnar", PAL_TILE_REGION_ACC_NAR},     {"bias", PAL_TILE_REGION_BIAS},
    {"obuf", PAL_TILE_REGION_OBUF},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: pal-sim [options] PROGRAM.s\n"
          "  --tile RxC                    geometry (default 4x4; the models linked: see --list)\n"
          "  --load REGION[@PE]:INDEX=FILE raw little-endian elements from FILE at element INDEX\n"
          "  --dump REGION[@PE]:INDEX:COUNT=FILE  COUNT elements to FILE after the run\n"
          "  --fst FILE                    FST waveform of the whole run (pal-sim-trace only)\n"
          "  --max-cycles N                stop after N cycles (default: no limit)\n"
          "  --list                        list the models in this program\n"
          "REGION: imem abuf ascale wmem wscale acc accnar bias obuf (elements: docs/tile-rtl.md)\n"
          "exit status: 0 done, 1 the program stopped with an error or ran out of cycles,\n"
          "2 usage, file or simulator errors\n");
}

/* REGION[@PE]:INDEX[:COUNT]=FILE */
static int parse_spec(const char *spec, bool with_count, pal_tile_region_t *region, uint32_t *pe,
                      uint64_t *index, uint64_t *count, const char **file) {
  char name[16];
  size_t n = strcspn(spec, "@:");
  if (n == 0 || n >= sizeof name) return -1;
  memcpy(name, spec, n);
  name[n] = 0;
  size_t r = 0;
  for (; r < sizeof kRegions / sizeof kRegions[0]; r++)
    if (!strcmp(kRegions[r].name, name)) break;
  if (r == sizeof kRegions / sizeof kRegions[0]) return -1;
  *region = kRegions[r].region;
  const char *p = spec + n;
  char *end;
  *pe = 0;
  if (*p == '@') {
    *pe = (uint32_t)strtoul(p + 1, &end, 0);
    p = end;
  }
  if (*p != ':') return -1;
  *index = strtoull(p + 1, &end, 0);
  p = end;
  if (with_count) {
    if (*p != ':') return -1;
    *count = strtoull(p + 1, &end, 0);
    p = end;
  }
  if (*p != '=' || !p[1]) return -1;
  *file = p + 1;
  return 0;
}

static char *read_file(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) buf = realloc(buf, (cap *= 2) + 1);
  }
  fclose(f);
  buf[len] = 0;
  *out_len = len;
  return buf;
}

#define FAIL(...)                     \
  do {                                \
    fprintf(stderr, "pal-sim: ");     \
    fprintf(stderr, __VA_ARGS__);     \
    fprintf(stderr, "\n");            \
    return 2;                         \
  } while (0)

int main(int argc, char **argv) {
  pal_sim_options_t so;
  pal_sim_options_initialize(&so);
  const char *program = NULL, *fst = NULL;
  const char *loads[64], *dumps[64];
  int nloads = 0, ndumps = 0;
  uint64_t max_cycles = PAL_TILE_NO_CYCLE_LIMIT;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--list")) {
      pal_sim_variant_info_t v[16];
      size_t n = pal_sim_variants(v, 16);
      for (size_t j = 0; j < n && j < 16; j++)
        printf("%ux%u%s\n", (unsigned)v[j].rows, (unsigned)v[j].cols, v[j].traced ? " (FST trace)" : "");
      return 0;
    } else if (!strcmp(a, "--tile") && i + 1 < argc) {
      if (sscanf(argv[++i], "%ux%u", &so.rows, &so.cols) != 2) FAIL("--tile wants RxC, got %s", argv[i]);
    } else if (!strcmp(a, "--load") && i + 1 < argc && nloads < 64) {
      loads[nloads++] = argv[++i];
    } else if (!strcmp(a, "--dump") && i + 1 < argc && ndumps < 64) {
      dumps[ndumps++] = argv[++i];
    } else if (!strcmp(a, "--fst") && i + 1 < argc) {
      fst = argv[++i];
    } else if (!strcmp(a, "--max-cycles") && i + 1 < argc) {
      max_cycles = strtoull(argv[++i], NULL, 0);
    } else if (a[0] != '-' && !program) {
      program = a;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!program) {
    usage(stderr);
    return 2;
  }
  size_t len;
  char *text = read_file(program, &len);
  if (!text) FAIL("cannot read %s: %s", program, strerror(errno));
  pal_asm_program_t prog;
  pal_status_t st = pal_asm_assemble(text, len, NULL, &prog);
  free(text);
  if (st) FAIL("%s: %s", program, pal_status_message(st));

  so.trace = fst != NULL;
  so.trace_path = fst;
  pal_sim_t *sim;
  st = pal_sim_create(&so, &sim);
  if (st) FAIL("%s", pal_status_message(st));
  pal_tile_device_t *dev = pal_sim_device(sim);
  int rc = 0;
  for (int i = 0; i < nloads && !rc; i++) {
    pal_tile_region_t region;
    uint32_t pe;
    uint64_t index, count = 0;
    const char *file;
    if (parse_spec(loads[i], false, &region, &pe, &index, &count, &file)) {
      fprintf(stderr, "pal-sim: bad --load %s\n", loads[i]);
      rc = 2;
      break;
    }
    char *data = read_file(file, &len);
    if (!data) {
      fprintf(stderr, "pal-sim: cannot read %s: %s\n", file, strerror(errno));
      rc = 2;
      break;
    }
    size_t es = pal_tile_region_element_size(region);
    st = pal_tile_device_write(dev, region, pe, index, len / es, data);
    free(data);
    if (st) {
      fprintf(stderr, "pal-sim: --load %s: %s\n", loads[i], pal_status_message(st));
      rc = 2;
    }
  }
  pal_tile_status_t status = {0};
  if (!rc) {
    st = pal_tile_device_load_program(dev, 0, prog.words, prog.word_count);
    if (!st) st = pal_tile_device_run(dev, 0, max_cycles, &status);
    if (st && pal_status_code(st) != PAL_DEADLINE_EXCEEDED) {
      fprintf(stderr, "pal-sim: %s\n", pal_status_message(st));
      rc = 2;
    } else if (st || !status.done) {
      rc = 1;
    }
    pal_status_free(st);
  }
  if (rc != 2) {
    printf("status: %s%s%s error %s at pc %u\n", status.busy ? "busy " : "", status.done ? "done " : "",
           status.nar ? "nar " : "", pal_tile_error_name(status.error), (unsigned)status.err_pc);
    pal_tile_counters_t c;
    if (!status.busy && pal_tile_device_read_counters(dev, &c) == PAL_STATUS_OK)
      for (uint32_t i = 0; i < PAL_TILE_CTR_COUNT; i++)
        printf("%-15s %llu\n", pal_tile_counter_name(i), (unsigned long long)c.value[i]);
  }
  for (int i = 0; i < ndumps && rc != 2 && !status.busy; i++) {
    pal_tile_region_t region;
    uint32_t pe;
    uint64_t index, count;
    const char *file;
    if (parse_spec(dumps[i], true, &region, &pe, &index, &count, &file)) {
      fprintf(stderr, "pal-sim: bad --dump %s\n", dumps[i]);
      rc = 2;
      break;
    }
    size_t es = pal_tile_region_element_size(region);
    char *data = malloc(count * es + 1);
    st = pal_tile_device_read(dev, region, pe, index, count, data);
    FILE *f = st ? NULL : fopen(file, "wb");
    if (st || !f || fwrite(data, es, count, f) != count) {
      fprintf(stderr, "pal-sim: --dump %s: %s\n", dumps[i], st ? pal_status_message(st) : strerror(errno));
      rc = 2;
    }
    if (f) fclose(f);
    free(data);
    pal_status_free(st);
  }
  pal_asm_program_release(&prog);
  pal_sim_destroy(sim);
  return rc;
}
