/* Address map of the control core (docs/control-core.md §2) and the
 * register offsets the firmware uses. The one source of these numbers for C;
 * rtl/pal_rv_sys.v decodes the same map and `make rv-map-check` compares its
 * parameters with this file. Also included by the host-side tests. */
#ifndef PAL_FW_MAP_H
#define PAL_FW_MAP_H

/* ---- regions of the core's bus (select = address bits [31:24]) ---------- */
#define PAL_FW_IMEM_BASE 0x00000000u    /* firmware image, read-only */
#define PAL_FW_IMEM_BYTES 8192u
#define PAL_FW_DMEM_BASE 0x01000000u    /* data, bss, stack */
#define PAL_FW_DMEM_BYTES 2048u
#define PAL_FW_TIMER_BASE 0x02000000u
#define PAL_FW_MAILBOX_BASE 0x03000000u
#define PAL_FW_SYSCTL_BASE 0x04000000u
#define PAL_FW_TILE_BASE 0x80000000u    /* + device address of docs/protocol.md §5 */

/* timer */
#define PAL_FW_TIMER_COUNT (PAL_FW_TIMER_BASE + 0x0u) /* free-running cycles */

/* mailbox (rtl/pal_rv_mailbox.v) */
#define PAL_FW_MBOX_STATUS (PAL_FW_MAILBOX_BASE + 0x0u)
#define PAL_FW_MBOX_RX_DATA (PAL_FW_MAILBOX_BASE + 0x4u)
#define PAL_FW_MBOX_TX_DATA (PAL_FW_MAILBOX_BASE + 0x8u)
#define PAL_FW_MBOX_RX_VALID 0x1u
#define PAL_FW_MBOX_TX_FREE 0x2u

/* system control */
#define PAL_FW_SYSCTL_TILE_RESET (PAL_FW_SYSCTL_BASE + 0x0u) /* bit 0 holds the tile in reset */
#define PAL_FW_SYSCTL_BUS_ERROR (PAL_FW_SYSCTL_BASE + 0x4u)  /* sticky, write 1 to clear */

/* ---- the tile's device address space (docs/protocol.md §5) -------------- */
#define PAL_FW_DEV_IMEM 0x00010000u       /* 32-bit words, instruction i at 16 i */
#define PAL_FW_DEV_ABUF_CODES 0x00100000u /* bytes */
#define PAL_FW_DEV_ABUF_SCALES 0x00180000u
#define PAL_FW_DEV_WMEM_CODES 0x01000000u /* + pe * 0x10000 */
#define PAL_FW_DEV_WMEM_CODES_STRIDE 0x10000u
#define PAL_FW_DEV_WMEM_SCALES 0x02000000u /* + pe * 0x1000 */
#define PAL_FW_DEV_WMEM_SCALES_STRIDE 0x1000u
#define PAL_FW_DEV_ACC 0x03000000u       /* words */
#define PAL_FW_DEV_ACC_NAR 0x03100000u   /* one byte per ACC word */
#define PAL_FW_DEV_BIAS 0x03200000u      /* words */
#define PAL_FW_DEV_OBUF 0x03300000u      /* words */

/* tile registers (docs/isa.md §6), device addresses */
#define PAL_FW_REG_ID 0x00u
#define PAL_FW_REG_ISA_VERSION 0x04u
#define PAL_FW_REG_GEOMETRY 0x08u
#define PAL_FW_REG_IMEM_DEPTH 0x0Cu
#define PAL_FW_REG_ABUF_BLOCKS 0x10u
#define PAL_FW_REG_WMEM_BLOCKS 0x14u
#define PAL_FW_REG_ACC_DEPTH 0x18u
#define PAL_FW_REG_BIAS_DEPTH 0x1Cu
#define PAL_FW_REG_OBUF_DEPTH 0x20u
#define PAL_FW_REG_CONTROL 0x40u
#define PAL_FW_REG_START_PC 0x44u
#define PAL_FW_REG_STATUS 0x48u
#define PAL_FW_REG_COUNTERS 0x80u /* 9 counters x 2 words, low word first */
#define PAL_FW_COUNTER_WORDS 18u
#define PAL_FW_TILE_ID_VALUE 0x50414C31u /* "PAL1" */
#define PAL_FW_CONTROL_START 0x1u
#define PAL_FW_CONTROL_CLEAR 0x2u
#define PAL_FW_STATUS_BUSY 0x1u
#define PAL_FW_STATUS_DONE 0x2u

#endif
