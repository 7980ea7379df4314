#!/usr/bin/env bash
# make check-flash: scripts/flash.sh's dry run prints the exact command per
# board; with no board attached it exits 2 and names the USB vendor:product
# it looked for; with the board present (a fake sysfs) it runs the tool
# (a stub on PATH) with exactly those arguments; bad boards are refused.
# With the pal CLI as the second argument: `pal flash` runs the same script
# (dry-run line with the bitstream of the build folder pal lives in, exit
# codes mapped to pal's: 3 no board, 2 usage).
set -u
build=${1:-build}
pal=${2:-}
work=$build/fpga/check-flash
rm -rf "$work"
mkdir -p "$work/bin" "$work/sys-empty" "$work/sys-board/1-1" "$work/bits"
bindir=$(cd "$work/bin" && pwd)
fail=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "check-flash: ok: $what"; else echo "check-flash: FAILED: $what"; fail=1; fi
}
for tool in iceprog openFPGALoader; do
  printf '#!/bin/sh\necho "${0##*/} $*" > "%s/called"\n' "$(cd "$work" && pwd)" > "$work/bin/$tool"
  chmod +x "$work/bin/$tool"
done

declare -A expect=(
  [icebreaker]="iceprog $build/boards/icebreaker/pal_icebreaker.bin"
  [ulx3s]="openFPGALoader -b ulx3s $build/boards/ulx3s/pal_ulx3s.bit"
  [orangecrab]="openFPGALoader -b orangeCrab $build/boards/orangecrab/pal_orangecrab.bit"
)
declare -A usb=([icebreaker]="0403 6010" [ulx3s]="0403 6015" [orangecrab]="1209 5af0")

for b in icebreaker ulx3s orangecrab; do
  out=$(BUILD=$build scripts/flash.sh --dry-run "$b" 2>/dev/null); rc=$?
  check "$b dry run prints '${expect[$b]}'" [ "$rc" -eq 0 -a "$out" = "${expect[$b]}" ]

  bit="$work/bits/$b.bit"; echo x > "$bit"
  set -- ${usb[$b]}
  err=$(PATH="$bindir:$PATH" PAL_FLASH_SYSFS="$work/sys-empty" scripts/flash.sh "$b" "$bit" 2>&1 >/dev/null); rc=$?
  check "$b with no board: exit 2, names $1:$2" [ "$rc" -eq 2 ]
  check "$b with no board: message names $1:$2" grep -q "USB $1:$2" <<<"$err"
  check "$b with no board: tool not run" [ ! -e "$work/called" ]

  echo "$1" > "$work/sys-board/1-1/idVendor"; echo "$2" > "$work/sys-board/1-1/idProduct"
  PATH="$bindir:$PATH" PAL_FLASH_SYSFS="$work/sys-board" scripts/flash.sh "$b" "$bit" >/dev/null 2>&1; rc=$?
  called=$(cat "$work/called" 2>/dev/null); rm -f "$work/called"
  want="$(echo "${expect[$b]}" | sed "s|[^ ]*\$|$bit|")"
  check "$b with the board attached runs '$want'" [ "$rc" -eq 0 -a "$called" = "$want" ]
done

# an FTDI device of the other board does not count
echo 0403 > "$work/sys-board/1-1/idVendor"; echo 6015 > "$work/sys-board/1-1/idProduct"
PATH="$bindir:$PATH" PAL_FLASH_SYSFS="$work/sys-board" scripts/flash.sh icebreaker "$work/bits/icebreaker.bit" >/dev/null 2>&1; rc=$?
check "icebreaker with only a ULX3S attached: exit 2" [ "$rc" -eq 2 ]
scripts/flash.sh --dry-run nosuchboard >/dev/null 2>&1; rc=$?
check "unknown board refused (exit 64)" [ "$rc" -eq 64 ]
PAL_FLASH_SYSFS="$work/sys-board" scripts/flash.sh icebreaker "$work/bits/missing.bin" >/dev/null 2>&1; rc=$?
check "missing bitstream refused (exit 1)" [ "$rc" -eq 1 ]

if [ -n "$pal" ]; then
  palbuild=$(cd "$(dirname "$pal")/.." && pwd)
  pal="$palbuild/bin/$(basename "$pal")"  # absolute: it runs from / below
  want="iceprog $palbuild/boards/icebreaker/pal_icebreaker.bin"
  out=$(cd / && env -u BUILD "$pal" flash --board icebreaker --dry-run 2>/dev/null); rc=$?
  check "pal flash --board icebreaker --dry-run prints '$want'" [ "$rc" -eq 0 -a "$out" = "$want" ]
  out=$(env -u BUILD "$pal" flash --dry-run orangecrab 2>/dev/null); rc=$?
  check "pal flash --dry-run orangecrab prints the openFPGALoader line" \
    [ "$rc" -eq 0 -a "$out" = "openFPGALoader -b orangeCrab $palbuild/boards/orangecrab/pal_orangecrab.bit" ]
  err=$(PAL_FLASH_SYSFS="$work/sys-empty" "$pal" flash ulx3s "$work/bits/ulx3s.bit" 2>&1); rc=$?
  check "pal flash with no board: exit 3, names 0403:6015" [ "$rc" -eq 3 ] && grep -q "USB 0403:6015" <<<"$err"
  "$pal" flash --board nosuchboard --dry-run >/dev/null 2>&1; rc=$?
  check "pal flash unknown board: exit 2" [ "$rc" -eq 2 ]
  out=$("$pal" flash --help 2>/dev/null); rc=$?
  check "pal flash --help: exit 0, usage line" [ "$rc" -eq 0 ] && grep -q "^usage: pal flash" <<<"$out"
fi
exit $fail
