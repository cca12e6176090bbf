#!/usr/bin/env bash
# Installs what ptscope needs to build and test, from Debian 12's packages.
# Idempotent: when everything is there it only asks dpkg, and returns in
# well under a second. --fixtures adds what scripts/make_fixtures.py and the
# benchmarks need (Debian's python3-torch, torchvision, hyperfine, unzip),
# and chromium, which renders the --html pages in tests/html_browser_test.py;
# --sanitize what scripts/sanitize.sh and scripts/fuzz.sh need (clang 14 and
# its runtimes: ASan, UBSan, libFuzzer).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # LibTorch 1.13.1 (CPU), for the on-demand backend plugin
  libopenblas0-pthread    # its fp32 matmuls: Debian's default reference BLAS is ~10x slower
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev
  groff-base              # the install test renders the man page (scripts/check_install.sh)
)
for arg in "$@"; do
  case "$arg" in
    --fixtures) packages+=(python3-torch python3-torchvision hyperfine unzip time jq chromium) ;;
    --sanitize) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "setup: unknown option $arg (--fixtures, --sanitize)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
