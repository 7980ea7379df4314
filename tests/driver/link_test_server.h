/* A small device server for the driver tests and the link benchmark: the
 * link-engine model in front of the C emulator, served in a thread over a
 * pseudo-terminal (serial://) or a TCP socket on 127.0.0.1 with an
 * ephemeral port (sim+tcp://), so those transports are tested end to end.
 * (palsim, the real server around the Verilated SoC, is sim/'s.) */
#ifndef LINK_TEST_SERVER_H
#define LINK_TEST_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "pal/protocol.h"
#include "pal/status.h"
#include "pal/tile.h"

typedef enum lts_kind {
  LTS_PTY = 0, /* uri "serial:///dev/pts/N?baud=3000000" */
  LTS_TCP,     /* uri "sim+tcp://127.0.0.1:PORT" */
} lts_kind_t;

typedef struct lts_options {
  lts_kind_t kind;
  uint32_t rows, cols;   /* tile geometry (default 4 x 4) */
  uint32_t abuf_blocks;  /* 0: the default for the geometry */
  uint32_t max_payload;  /* the model's (default 4096) */
  uint32_t idle_ms;      /* silence that drops a partial frame (default 20) */
  bool mute;             /* a dead device: reads everything, answers nothing */
} lts_options_t;

void lts_options_initialize(lts_options_t *options);

typedef struct lts lts_t;

pal_status_t lts_start(const lts_options_t *options, lts_t **out_server);
/* Stops the thread and frees everything. NULL is accepted. */
void lts_stop(lts_t *server);
/* The URI a host opens to reach the server. */
const char *lts_uri(const lts_t *server);
/* The model's link counters, read under the server's lock. */
void lts_link_counters(lts_t *server, pal_link_counters_t *out_counters);

#endif /* LINK_TEST_SERVER_H */
