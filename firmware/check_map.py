#!/usr/bin/env python3
"""Checks that the control core's address map agrees everywhere it is
written down: firmware/pal_fw_map.h (the C source of truth), the decoder and
RAM sizes of rtl/pal_rv_sys.v, the register offsets of rtl/pal_rv_mailbox.v,
the MEMORY block of firmware/pal_fw.ld and the hex size in
firmware/firmware.mk. Exit status 0 iff all agree; each disagreement is
printed with both values."""
import re
import sys


def read(path):
    with open(path) as f:
        return f.read()


def main():
    hdr = read("firmware/pal_fw_map.h")
    sysv = read("rtl/pal_rv_sys.v")
    mbox = read("rtl/pal_rv_mailbox.v")
    ld = read("firmware/pal_fw.ld")
    mk = read("firmware/firmware.mk")
    c = {m.group(1): int(m.group(2), 0)
         for m in re.finditer(r"#define (PAL_FW_\w+) (0x[0-9A-Fa-f]+|\d+)u", hdr)}
    for m in re.finditer(r"#define (PAL_FW_\w+) \((PAL_FW_\w+) \+ (0x[0-9A-Fa-f]+)u\)", hdr):
        c[m.group(1)] = c[m.group(2)] + int(m.group(3), 16)
    errors = []

    def same(what, a, b):
        if a != b:
            errors.append(f"{what}: {a:#x} vs {b:#x}")

    sel = {m.group(1): int(m.group(2), 16)
           for m in re.finditer(r"localparam \[7:0\] SEL_(\w+)\s*=\s*8'h([0-9A-Fa-f]+);", sysv)}
    for name in ("IMEM", "DMEM", "TIMER", "MAILBOX", "SYSCTL"):
        if name not in sel:
            errors.append(f"rtl/pal_rv_sys.v: no SEL_{name}")
            continue
        same(f"{name} base (pal_fw_map.h vs pal_rv_sys.v select)", c[f"PAL_FW_{name}_BASE"],
             sel[name] << 24)
    same("tile window (bit 31)", c["PAL_FW_TILE_BASE"], 0x80000000)
    words = {m.group(1): int(m.group(2))
             for m in re.finditer(r"parameter integer (\w+)_WORDS = (\d+)", sysv)}
    same("IMEM bytes (pal_fw_map.h vs pal_rv_sys.v)", c["PAL_FW_IMEM_BYTES"], 4 * words["IMEM"])
    same("DMEM bytes (pal_fw_map.h vs pal_rv_sys.v)", c["PAL_FW_DMEM_BYTES"], 4 * words["DMEM"])
    mem = {m.group(1): (int(m.group(2), 0), int(m.group(3), 0))
           for m in re.finditer(r"(\w+) \(\w+\) : ORIGIN = (0x[0-9A-Fa-f]+|\d+), LENGTH = (\d+)", ld)}
    for name in ("IMEM", "DMEM"):
        same(f"{name} origin (pal_fw.ld)", c[f"PAL_FW_{name}_BASE"], mem[name][0])
        same(f"{name} length (pal_fw.ld)", c[f"PAL_FW_{name}_BYTES"], mem[name][1])
    hexw = int(re.search(r"FW_IMEM_WORDS := (\d+)", mk).group(1))
    same("IMEM words of the hex image (firmware.mk)", c["PAL_FW_IMEM_BYTES"], 4 * hexw)
    regs = {m.group(2): int(m.group(1), 16)
            for m in re.finditer(r"//\s+0x([0-9a-f]) (\w+)\s", mbox)}
    for name, key in (("STATUS", "PAL_FW_MBOX_STATUS"), ("RX_DATA", "PAL_FW_MBOX_RX_DATA"),
                      ("TX_DATA", "PAL_FW_MBOX_TX_DATA")):
        if name not in regs:
            errors.append(f"rtl/pal_rv_mailbox.v: register {name} not documented")
            continue
        same(f"mailbox {name} offset", c[key] - c["PAL_FW_MAILBOX_BASE"], regs[name])
    # the decoder's register selects: i_addr == 2'dN for RX_DATA (1) and TX_DATA (2)
    same("mailbox RX_DATA decode", regs.get("RX_DATA", 0) >> 2,
         int(re.search(r"wire rd_rx .*i_addr == 2'd(\d)", mbox).group(1)))
    same("mailbox TX_DATA decode", regs.get("TX_DATA", 0) >> 2,
         int(re.search(r"wire wr_tx .*i_addr == 2'd(\d)", mbox).group(1)))
    # the firmware-link SoC (rtl/pal_fwsoc.v, pal_fwsoc_io.v, pal_fw_link.ld,
    # boot/pal_boot.ld, FW_BOOT_WORDS)
    fws = read("rtl/pal_fwsoc.v")
    fio = read("rtl/pal_fwsoc_io.v")
    fsel = {m.group(1): int(m.group(2), 16)
            for m in re.finditer(r"SEL_(\w+) = 8'h([0-9A-Fa-f]+)", fws)}
    for name, key in (("BOOT", "PAL_FW_BOOT_BASE"), ("RAM", "PAL_FW_RAM_BASE"),
                      ("TIMER", "PAL_FW_TIMER_BASE"), ("SYSCTL", "PAL_FW_SYSCTL_BASE")):
        if name not in fsel:
            errors.append(f"rtl/pal_fwsoc.v: no SEL_{name}")
            continue
        same(f"{name} base (pal_fw_map.h vs pal_fwsoc.v)", c[key], fsel[name] << 24)
    iosel = {m.group(1): int(m.group(2), 16)
             for m in re.finditer(r"SEL_(\w+) = 4'h([0-9A-Fa-f])", fio)}
    io_range = re.search(r"sel >= 8'h([0-9A-Fa-f]+) && sel <= 8'h([0-9A-Fa-f]+)", fws)
    for name in ("UART", "CRC", "SYSINFO", "SPI"):
        if name not in iosel:
            errors.append(f"rtl/pal_fwsoc_io.v: no SEL_{name}")
            continue
        same(f"{name} base (pal_fw_map.h vs pal_fwsoc_io.v)", c[f"PAL_FW_{name}_BASE"], iosel[name] << 24)
        if not (int(io_range.group(1), 16) <= iosel[name] <= int(io_range.group(2), 16)):
            errors.append(f"pal_fwsoc.v: the peripherals' select range leaves out {name}")
    fwords = {m.group(1): int(m.group(2))
              for m in re.finditer(r"parameter integer (\w+)_WORDS = (\d+)", fws)}
    same("boot ROM bytes (pal_fwsoc.v)", c["PAL_FW_BOOT_BYTES"], 4 * fwords["BOOT"])
    same("RAM bytes (pal_fwsoc.v)", c["PAL_FW_RAM_BYTES"], 4 * fwords["RAM"])
    lmem = {m.group(1): (int(m.group(2), 0), int(m.group(3), 0))
            for m in re.finditer(r"(\w+) \(\w+\) : ORIGIN = (0x[0-9A-Fa-f]+|\d+), LENGTH = (\d+)",
                                 read("firmware/pal_fw_link.ld") + read("firmware/boot/pal_boot.ld"))}
    same("RAM origin (pal_fw_link.ld)", c["PAL_FW_RAM_BASE"], lmem["RAM"][0])
    same("RAM length (pal_fw_link.ld)", c["PAL_FW_RAM_BYTES"], lmem["RAM"][1])
    same("boot ROM origin (pal_boot.ld)", c["PAL_FW_BOOT_BASE"], lmem["ROM"][0])
    same("boot ROM length (pal_boot.ld)", c["PAL_FW_BOOT_BYTES"], lmem["ROM"][1])
    same("boot ROM words of the hex image (firmware.mk)", c["PAL_FW_BOOT_BYTES"],
         4 * int(re.search(r"FW_BOOT_WORDS := (\d+)", mk).group(1)))
    # register offsets: the word index each decoder compares
    same("UART RX_DATA decode", (c["PAL_FW_UART_RX_DATA"] - c["PAL_FW_UART_BASE"]) >> 2,
         int(re.search(r"wire pop = .*i_addr\[3:2\] == 2'd(\d)", fio).group(1)))
    same("UART TX_DATA decode", (c["PAL_FW_UART_TX_DATA"] - c["PAL_FW_UART_BASE"]) >> 2,
         int(re.search(r"wire tx_write = .*i_addr\[3:2\] == 2'd(\d)", fio).group(1)))
    same("sysctl LED decode", (c["PAL_FW_SYSCTL_LED"] - c["PAL_FW_SYSCTL_BASE"]) >> 2,
         int(re.search(r"mem_addr\[3:2\] == 2'd(\d)\) led <=", fws).group(1)))
    same("SYSINFO NAME word", (c["PAL_FW_SYSINFO_NAME"] - c["PAL_FW_SYSINFO_BASE"]) >> 2,
         int(re.search(r"3'd(\d): rdata = name_word\(0\)", fio).group(1)))
    for e in errors:
        print("rv-map-check:", e)
    if errors:
        return 1
    print(f"rv-map-check: address maps consistent ({len(c)} constants; pal_rv_sys: 5 regions, RAM sizes, "
          "linker script, mailbox registers; pal_fwsoc: 8 regions, ROM and RAM sizes, linker scripts, "
          "register decodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
