#!/usr/bin/env python3
"""Wraps a firmware image for the board's SPI flash (docs/control-core.md §10):
a 16-byte header -- "PALF", the image's length in bytes (padded to whole
words), its CRC-32 (IEEE, as zlib), 0 -- then the image. The boot ROM of
rtl/pal_fwsoc.v (firmware/boot/pal_boot.c) reads it from PAL_FW_FLASH_OFFSET
and refuses an image whose length or CRC does not match.

With --flash-image it writes what iceprog puts into the board's flash: the
bitstream, erased bytes (0xFF) up to OFFSET, then the firmware's flash
image, refusing a bitstream that reaches OFFSET.

usage: pal_fw_flash.py IMAGE.bin OUT.flash MAX_BYTES
       pal_fw_flash.py --flash-image BITSTREAM.bin FIRMWARE.flash OFFSET OUT.bin"""
import struct
import sys
import zlib


def flash_image(bitstream, firmware, offset, out):
    bits = open(bitstream, "rb").read()
    fw = open(firmware, "rb").read()
    if len(bits) > offset:
        sys.exit("pal_fw_flash.py: the bitstream %s is %d bytes; the firmware's place at %#x would overwrite it"
                 % (bitstream, len(bits), offset))
    if fw[:4] != b"PALF":
        sys.exit("pal_fw_flash.py: %s is not a firmware flash image (no PALF header)" % firmware)
    with open(out, "wb") as f:
        f.write(bits + b"\xff" * (offset - len(bits)) + fw)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--flash-image":
        flash_image(sys.argv[2], sys.argv[3], int(sys.argv[4], 0), sys.argv[5])
        return
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    data = open(sys.argv[1], "rb").read()
    data += bytes((-len(data)) % 4)
    limit = int(sys.argv[3], 0)
    if not data or len(data) > limit:
        sys.exit("pal_fw_flash.py: %s is %d bytes; the RAM takes 1..%d" % (sys.argv[1], len(data), limit))
    head = struct.pack("<4sIII", b"PALF", len(data), zlib.crc32(data) & 0xFFFFFFFF, 0)
    with open(sys.argv[2], "wb") as f:
        f.write(head + data)


if __name__ == "__main__":
    main()
