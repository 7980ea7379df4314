#!/usr/bin/env bash
# Installs the Debian packages the project needs, when any is missing:
# as root directly, otherwise through non-interactive sudo; if neither is
# possible it prints the exact command and stops. Called by `make test`
# and `make demo` (stamp-checked in the Makefile).
set -euo pipefail

# One list for the whole project; grow it as later layers need more.
PACKAGES=(
  build-essential pkg-config git python3 python3-venv
  libcmocka-dev                          # unit tests
  libopenblas-dev                        # CPU provider, sgemm comparison
  verilator yosys                        # RTL simulation, lint, synthesis
  nextpnr-ice40 fpga-icestorm openfpgaloader  # iCEBreaker bitstreams, flashing
  libusb-1.0-0-dev umockdev libumockdev-dev   # USB transport and its fake device
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata  # ONNX import/export
  dataset-fashion-mnist                  # end-to-end demo data
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
