#!/usr/bin/env bash
# Writes a board bitstream made by `make bitstream BOARD=...` to its board
# (docs/boards.md): iceprog for the iCEBreaker's SPI flash, openFPGALoader
# for the ULX3S (FT231X JTAG) and the OrangeCrab (DFU bootloader).
#
#   scripts/flash.sh [--dry-run] BOARD [BITSTREAM]
#
# --dry-run prints the exact command and runs nothing. Before running the
# tool the script looks for the board's USB device (vendor:product) in
# sysfs and, if none is attached, says what it looked for and exits 2.
# PAL_FLASH_SYSFS overrides the sysfs USB device folder (for the tests).
set -euo pipefail

usage() {
  echo "usage: $0 [--dry-run] icebreaker|ulx3s|orangecrab [BITSTREAM]" >&2
  exit 64
}

dry=0
args=()
for a in "$@"; do
  case "$a" in
    --dry-run|-n) dry=1 ;;
    -h|--help) usage ;;
    -*) echo "flash: unknown option '$a'" >&2; usage ;;
    *) args+=("$a") ;;
  esac
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 2 ] || usage
board=${args[0]}
build=${BUILD:-build}

case "$board" in
  icebreaker)
    file=${args[1]:-$build/boards/icebreaker/pal_icebreaker.bin}
    ids=("0403:6010"); what="iCEBreaker (FTDI FT2232H, USB 0403:6010)"
    cmd=(iceprog "$file") ;;
  ulx3s)
    file=${args[1]:-$build/boards/ulx3s/pal_ulx3s.bit}
    ids=("0403:6015"); what="ULX3S (FTDI FT231X, USB 0403:6015)"
    cmd=(openFPGALoader -b ulx3s "$file") ;;
  orangecrab)
    file=${args[1]:-$build/boards/orangecrab/pal_orangecrab.bit}
    ids=("1209:5af0"); what="OrangeCrab in its DFU bootloader (USB 1209:5af0; hold the button while plugging in)"
    cmd=(openFPGALoader -b orangeCrab "$file") ;;
  *) echo "flash: unknown board '$board' (known: icebreaker, ulx3s, orangecrab)" >&2; exit 64 ;;
esac

if [ $dry -eq 1 ]; then
  printf '%s\n' "${cmd[*]}"
  [ -f "$file" ] || echo "flash: note: $file does not exist yet (make bitstream BOARD=$board)" >&2
  exit 0
fi

if [ ! -f "$file" ]; then
  echo "flash: bitstream $file not found; build it with: make bitstream BOARD=$board" >&2
  exit 1
fi

sysfs=${PAL_FLASH_SYSFS:-/sys/bus/usb/devices}
found=""
for d in "$sysfs"/*; do
  [ -f "$d/idVendor" ] && [ -f "$d/idProduct" ] || continue
  id="$(cat "$d/idVendor"):$(cat "$d/idProduct")"
  for want in "${ids[@]}"; do
    [ "$id" = "$want" ] && found="$d"
  done
done
if [ -z "$found" ]; then
  echo "flash: no board attached: looked for the $what among the USB devices in $sysfs." >&2
  echo "flash: connect the board (and see docs/boards.md for the udev rule), or use --dry-run." >&2
  exit 2
fi

tool=${cmd[0]}
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "flash: $tool not found; scripts/install-deps.sh installs it" >&2
  exit 1
fi
echo "flash: $what at $found"
echo "${cmd[*]}"
exec "${cmd[@]}"
