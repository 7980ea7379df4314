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

/* ---- the firmware-link SoC (rtl/pal_fwsoc.v, docs/control-core.md §10) --
 * No link engine and no mailbox: the firmware speaks the host protocol on
 * the UART itself (pal_fw_link.c). Its code and data share one RAM at
 * PAL_FW_DMEM_BASE's select; the timer and system control are where they
 * are above. */
#define PAL_FW_UART_BASE 0x05000000u
#define PAL_FW_UART_STATUS (PAL_FW_UART_BASE + 0x0u)  /* r: bit 0 RX byte waiting, bit 1 TX free */
#define PAL_FW_UART_RX_DATA (PAL_FW_UART_BASE + 0x4u) /* r: the byte; reading takes it */
#define PAL_FW_UART_TX_DATA (PAL_FW_UART_BASE + 0x8u) /* w: a byte to send (when TX free) */
#define PAL_FW_UART_RX_VALID 0x1u
#define PAL_FW_UART_TX_FREE 0x2u
#define PAL_FW_CRC_BASE 0x06000000u
#define PAL_FW_CRC_VALUE (PAL_FW_CRC_BASE + 0x0u)     /* rw: running CRC-32, before the final xor */
#define PAL_FW_CRC_BYTE (PAL_FW_CRC_BASE + 0x4u)      /* w: VALUE = one byte of CRC-32 over it */
#define PAL_FW_SYSINFO_BASE 0x07000000u
#define PAL_FW_SYSINFO_CLOCK_HZ (PAL_FW_SYSINFO_BASE + 0x0u)
#define PAL_FW_SYSINFO_BYTE_CYCLES (PAL_FW_SYSINFO_BASE + 0x4u) /* core cycles per link byte */
#define PAL_FW_SYSINFO_NAME (PAL_FW_SYSINFO_BASE + 0x10u)      /* 16 bytes, NUL-padded */
#define PAL_FW_SPI_BASE 0x08000000u
#define PAL_FW_SPI_CTRL (PAL_FW_SPI_BASE + 0x0u)  /* w: bit 0 chip select; r: bit 1 busy */
#define PAL_FW_SPI_DATA (PAL_FW_SPI_BASE + 0x4u)  /* w: send a byte; r: the byte received */
#define PAL_FW_SPI_BUSY 0x2u
#define PAL_FW_SYSCTL_LED (PAL_FW_SYSCTL_BASE + 0x8u) /* bit 0 error LED, bit 1 link activity */
#define PAL_FW_BOOT_BASE 0x00000000u  /* boot ROM (firmware/boot/) */
#define PAL_FW_BOOT_BYTES 1024u
#define PAL_FW_RAM_BASE 0x01000000u   /* code, data, stack */
#define PAL_FW_RAM_BYTES 65536u
/* the image in the board's flash: after the bitstream (a UP5K's is
 * 104 090 bytes), a 16-byte header ("PALF", length, CRC-32, 0) then the
 * image; make bitstream BOARD=icebreaker writes both into one flash image */
#define PAL_FW_FLASH_OFFSET 0x20000u
#define PAL_FW_FLASH_MAGIC 0x464C4150u /* "PALF" */
#define PAL_FW_FLASH_MAX_IMAGE 61440u  /* the RAM less the boot ROM's 4 KiB of stack */

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
