/* The bad-program cases of docs/isa.md §3, shared by the emulator's test
 * (tests/tile/test_tile_errors.c) and the RTL's (tests/sim/test_sim_errors.c):
 * every error code, each range check one past its limit beside a neighbour
 * just inside it, and two errors at once in one instruction. */
#ifndef TILE_ERROR_CASES_H
#define TILE_ERROR_CASES_H

#include <stdint.h>

typedef struct bad_case {
  const char *line; /* the faulting instruction, as assembly */
  uint32_t error;
  const char *ok_line; /* a neighbour just inside the limit that must run, or NULL */
} bad_case_t;

/* On 4x4 defaults: ABUF 512, WMEM 256, ACC 4096, BIAS 1024, OBUF 4096. */
static const bad_case_t kCases[] = {
    /* ILLEGAL_OPCODE */
    {".inst 0 0 0 0", PAL_TILE_ERR_ILLEGAL_OPCODE, NULL},
    {".inst 0x14000000 0 0 0", PAL_TILE_ERR_ILLEGAL_OPCODE, NULL},
    {".inst 0x38000000 0 0 0", PAL_TILE_ERR_ILLEGAL_OPCODE, NULL},
    {".inst 0xfc000000 1 2 3", PAL_TILE_ERR_ILLEGAL_OPCODE, NULL},
    /* BAD_FIELD */
    {".inst 0x07010000 0x00010000 0x00010001 0", PAL_TILE_ERR_BAD_FIELD, NULL}, /* init = 3 */
    {".inst 0x08c00000 0x00080000 0x00080001 0", PAL_TILE_ERR_BAD_FIELD, NULL}, /* act = 3 */
    {".inst 0x0a000000 0x00080000 0x00080001 0", PAL_TILE_ERR_BAD_FIELD, NULL}, /* fmt = 2 */
    {".inst 0x08010000 0x00080000 0x00080001 0", PAL_TILE_ERR_BAD_FIELD, NULL}, /* post w0 res */
    {".inst 0x08000000 0x00080000 0x00080001 0x00010000", PAL_TILE_ERR_BAD_FIELD, NULL},
    {".inst 0x0c000007 0x3f800000 0 0", PAL_TILE_ERR_BAD_FIELD, NULL}, /* setr reg = 7 */
    {".inst 0x0c000000 0x3f800000 1 0", PAL_TILE_ERR_BAD_FIELD, NULL}, /* setr w2 res */
    {".inst 0x10000000 0 0 1", PAL_TILE_ERR_BAD_FIELD, NULL},          /* sync w3 */
    {".inst 0x3c000001 0 0 0", PAL_TILE_ERR_BAD_FIELD, NULL},          /* end w0 res */
    {".inst 0x09000000 0x00210000 0x00010001 0", PAL_TILE_ERR_BAD_FIELD,
     "post acc=0 n=32 m=1 fmt=pal8 out=100 os=1"}, /* pal8, n = 33 > os*32 */
    /* two errors at once: the first in the emulator's order wins */
    {".inst 0x08010000 0 0x00080000 0", PAL_TILE_ERR_BAD_FIELD, NULL},   /* reserved bit, zero loop */
    {"gemm a=600 as=1 m=1 k=1 w=0 nt=0 acc=0", PAL_TILE_ERR_ZERO_LOOP, NULL}, /* zero loop, range */
    /* ZERO_LOOP */
    {"gemm a=0 as=1 m=1 k=1 w=0 nt=0 acc=0", PAL_TILE_ERR_ZERO_LOOP, "gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=0"},
    {"gemm a=0 as=1 m=0 k=1 w=0 nt=1 acc=0", PAL_TILE_ERR_ZERO_LOOP, NULL},
    {"gemm a=0 as=1 m=1 k=0 w=0 nt=1 acc=0", PAL_TILE_ERR_ZERO_LOOP, NULL},
    {"gemm", PAL_TILE_ERR_ZERO_LOOP, NULL},
    {"post acc=0 n=0 m=1 out=0 os=1", PAL_TILE_ERR_ZERO_LOOP, "post acc=0 n=1 m=1 out=0 os=1"},
    {"post acc=0 n=4 m=0 out=0 os=4", PAL_TILE_ERR_ZERO_LOOP, NULL},
    /* ADDR_RANGE, GEMM: each memory, one past its limit */
    {"gemm a=500 as=1 m=3 k=11 w=0 nt=1 acc=0", PAL_TILE_ERR_ADDR_RANGE, "gemm a=500 as=1 m=3 k=10 w=0 nt=1 acc=0"},
    {"gemm a=0 as=65535 m=2 k=1 w=0 nt=1 acc=0", PAL_TILE_ERR_ADDR_RANGE, "gemm a=0 as=511 m=2 k=1 w=0 nt=1 acc=0"},
    {"gemm a=65535 as=0 m=1 k=65535 w=0 nt=1 acc=0", PAL_TILE_ERR_ADDR_RANGE, NULL},
    {"gemm a=0 as=65535 m=65535 k=65535 w=65535 nt=255 acc=65535 init=bias bias=65535",
     PAL_TILE_ERR_ADDR_RANGE, NULL}, /* every product at its widest */
    {"gemm a=0 as=1 m=1 k=7 w=250 nt=1 acc=0", PAL_TILE_ERR_ADDR_RANGE, "gemm a=0 as=1 m=1 k=6 w=250 nt=1 acc=0"},
    {"gemm a=0 as=1 m=1 k=2 w=0 nt=129 acc=0", PAL_TILE_ERR_ADDR_RANGE, "gemm a=0 as=1 m=1 k=2 w=0 nt=128 acc=0"},
    {"gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=4081", PAL_TILE_ERR_ADDR_RANGE, "gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=4080"},
    {"gemm a=0 as=1 m=128 k=1 w=0 nt=2 acc=16", PAL_TILE_ERR_ADDR_RANGE, "gemm a=0 as=1 m=128 k=1 w=0 nt=2 acc=0"},
    {"gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=0 init=bias bias=1009", PAL_TILE_ERR_ADDR_RANGE,
     "gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=0 init=bias bias=1008"},
    {"gemm a=0 as=1 m=1 k=1 w=0 nt=64 acc=0 init=bias bias=1", PAL_TILE_ERR_ADDR_RANGE,
     "gemm a=0 as=1 m=1 k=1 w=0 nt=64 acc=0 init=zero bias=1"}, /* bias unchecked unless init=bias */
    /* ADDR_RANGE, POST */
    {"post acc=4081 n=16 m=1 out=0 os=16", PAL_TILE_ERR_ADDR_RANGE, "post acc=4080 n=16 m=1 out=0 os=16"},
    {"post acc=4085 n=8 m=1 out=0 os=8", PAL_TILE_ERR_ADDR_RANGE, "post acc=4080 n=8 m=1 out=0 os=8"},
    {"post acc=0 n=17 m=129 out=0 os=17", PAL_TILE_ERR_ADDR_RANGE, "post acc=0 n=17 m=128 out=0 os=17"},
    {"post acc=0 n=8 m=1 out=0 os=8 bias=1017 bp=1", PAL_TILE_ERR_ADDR_RANGE,
     "post acc=0 n=8 m=1 out=0 os=8 bias=1016 bp=1"},
    {"post acc=0 n=8 m=1 out=4089 os=8", PAL_TILE_ERR_ADDR_RANGE, "post acc=0 n=8 m=1 out=4088 os=8"},
    {"post acc=0 n=8 m=2 out=3989 os=100", PAL_TILE_ERR_ADDR_RANGE, "post acc=0 n=8 m=2 out=3988 os=100"},
    {"post acc=0 n=8 m=2 out=65535 os=65535", PAL_TILE_ERR_ADDR_RANGE, NULL},
    {"post acc=0 n=65535 m=65535 fmt=pal8 out=65535 os=65535 bias=65535 bp=1", PAL_TILE_ERR_ADDR_RANGE,
     NULL},
    {"post acc=0 n=40 m=1 fmt=pal8 out=511 os=2", PAL_TILE_ERR_ADDR_RANGE,
     "post acc=0 n=40 m=1 fmt=pal8 out=510 os=2"},
    {"post acc=0 n=32 m=3 fmt=pal8 out=510 os=1", PAL_TILE_ERR_ADDR_RANGE,
     "post acc=0 n=32 m=3 fmt=pal8 out=509 os=0x0001 bias=0"}, /* 509 + 2 + 1 = 512: fits */
};
#define N_CASES (sizeof kCases / sizeof kCases[0])

/* A valid prefix that writes ACC, OBUF and ABUF, so "earlier results stay"
 * is checked on real data. */
static const char kPrefix[] =
    "gemm a=0 as=2 m=3 k=2 w=0 nt=2 acc=100 init=bias bias=0\n"
    "post acc=100 n=20 m=3 act=relu fmt=pal8 out=300 os=1\n";
#define PREFIX_LEN 2

#endif /* TILE_ERROR_CASES_H */
