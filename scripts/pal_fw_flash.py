#!/usr/bin/env python3
"""Wraps a firmware image for the board's SPI flash (docs/control-core.md §10):
a 16-byte header -- "PALF", the image's length in bytes (padded to whole
words), its CRC-32 (IEEE, as zlib), 0 -- then the image. The boot ROM of
rtl/pal_fwsoc.v (firmware/boot/pal_boot.c) reads it from PAL_FW_FLASH_OFFSET
and refuses an image whose length or CRC does not match.

usage: pal_fw_flash.py IMAGE.bin OUT.flash MAX_BYTES"""
import struct
import sys
import zlib


def main():
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
