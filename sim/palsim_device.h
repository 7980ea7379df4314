/* Private to palsim: the simulated device as palsim's serving loop sees it,
 * a byte stream with a clock — bytes in, bytes out, time advanced in
 * slices — so the loop is the same for the C link model (emu) and the
 * Verilated SoC (rtl). */
#ifndef PALSIM_DEVICE_H
#define PALSIM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"

typedef struct palsim_device_options {
  const char *kind;       /* "rtl" or "emu" */
  uint32_t rows, cols;    /* tile geometry */
  const char *attach;     /* "fifo" or "uart" (rtl only; NULL: fifo) */
  uint32_t max_payload;   /* 0: the device's default */
  uint64_t seed;          /* rtl: the random power-on state */
  bool seed_given;
  const char *trace_path; /* rtl with a traced build: FST file (NULL: none) */
  bool firmware;           /* rtl: the SoC with the control core and its firmware */
} palsim_device_options_t;

typedef struct palsim_device palsim_device_t;

typedef struct palsim_device_ops {
  /* Bytes from the host, in order (they enter the device as time runs). */
  pal_status_t (*feed)(void *self, const uint8_t *data, size_t len);
  /* Moves up to cap reply bytes out, without advancing time. */
  size_t (*take)(void *self, uint8_t *out, size_t cap);
  /* Runs the device for one slice of model time. *out_active: the device
   * still has work (a kernel running, bytes in flight) and wants another
   * slice soon. */
  pal_status_t (*advance)(void *self, bool *out_active);
  /* The line was silent for `ms` milliseconds of wall time (the host is
   * gone or thinking): lets the link engine's idle timeout drop a partial
   * frame. */
  void (*idle)(void *self, uint32_t ms);
  /* The client went away: a partial frame must not reach the next one. */
  void (*disconnect)(void *self);
  /* One line for the startup banner: "emu 4x4, max payload 4096". */
  void (*describe)(void *self, char *buf, size_t size);
  void (*destroy)(void *self);
} palsim_device_ops_t;

struct palsim_device {
  const palsim_device_ops_t *ops;
  void *self;
};

/* The C link model in front of the emulator (always built). */
pal_status_t palsim_device_create_emu(const palsim_device_options_t *options,
                                      palsim_device_t *out_device);
/* The Verilated SoC (pal/soc.h); PAL_UNAVAILABLE in a build without it. */
pal_status_t palsim_device_create_rtl(const palsim_device_options_t *options,
                                      palsim_device_t *out_device);
/* Whether palsim_device_create_rtl works in this build. */
bool palsim_device_have_rtl(void);

#endif /* PALSIM_DEVICE_H */
