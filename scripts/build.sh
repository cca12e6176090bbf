#!/usr/bin/env bash
# Configures and builds ptscope, its LibTorch plugin and its tests in build/
# (or $1). Release build; incremental when build/ already exists.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir" -j"$(nproc)"
