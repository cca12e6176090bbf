#!/usr/bin/env bash
# The one-shot GPU check (issue 10): on a machine with an NVIDIA GPU, CMake,
# ninja, a compiler and a Python PyTorch 2.x, and no network, build ptscope
# and its plugin against that PyTorch's LibTorch, write resnet50, vit_b_16 and
# GPT-2 small with that torch, and compare `ptscope profile --device cuda`
# with PyTorch's own figures on the same files and inputs.
#
#   scripts/gpu_check.sh --vendor DIR        here: fill DIR with the header-only
#                                            dependencies, from Debian's packages
#   scripts/gpu_check.sh [--vendor-dir DIR] OUTDIR
#                                            there: build, measure, write
#                                            OUTDIR/{table.md,raw.json,build.log,run.log}
#   scripts/gpu_check.sh --dry-run OUTDIR    here: the same build from the vendored
#                                            headers against Debian's LibTorch, and
#                                            the same table on the CPU with Python's
#                                            CPU figures (what CI runs)
#
# The vendored folder defaults to .vendor/ (ignored by git; the device tool
# carries it). Compile errors are all reported at once (ninja -k 0), so one
# failed run shows every fix needed. Python: $PYTHON, else python3 (on the GPU
# machine the one with torch), /usr/bin/python3 for the dry run. Work files go
# to build-gpu-check/ in the repository (nothing large lands in OUTDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

vendor_dir=$repo/.vendor
dry_run=0
fill_vendor=""
out=""
while (($#)); do
  case "$1" in
    --vendor) fill_vendor=${2:?--vendor needs a folder}; shift 2 ;;
    --vendor-dir) vendor_dir=$(realpath -m "${2:?--vendor-dir needs a folder}"); shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ -z "$out" ]] || { echo "gpu_check: one OUTDIR only" >&2; exit 2; }; out=$1; shift ;;
  esac
done

if [[ -n "$fill_vendor" ]]; then
  # CLI11, spdlog and fmt (header-only there), nlohmann-json, zlib's headers.
  scripts/setup.sh
  mkdir -p "$fill_vendor/include"
  for h in CLI spdlog fmt nlohmann zlib.h zconf.h; do
    cp -a "/usr/include/$h" "$fill_vendor/include/"
  done
  du -sh "$fill_vendor" | sed 's/^/gpu_check: vendored /' >&2
  exit 0
fi
[[ -n "$out" ]] || { echo "usage: scripts/gpu_check.sh [--dry-run] [--vendor-dir DIR] OUTDIR | --vendor DIR" >&2; exit 2; }
[[ -d "$vendor_dir/include" ]] || { echo "gpu_check: no vendored headers in $vendor_dir: run scripts/gpu_check.sh --vendor $vendor_dir here first" >&2; exit 2; }

mkdir -p "$out"
out=$(realpath "$out")
work=$repo/build-gpu-check
build=$work/build
mkdir -p "$work"
exec > >(tee "$out/run.log") 2>&1
start=$(date +%s)
say() { echo "gpu_check [$(( $(date +%s) - start ))s] $*"; }

if ((dry_run)); then
  py=${PYTHON:-/usr/bin/python3}
  torch_prefix=""  # Debian's LibTorch, where CMake looks by default
else
  py=${PYTHON:-python3}
fi
"$py" -c 'import torch, torchvision' || { echo "gpu_check: $py has no torch/torchvision" >&2; exit 1; }
((dry_run)) || torch_prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
say "python $py: $("$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpus", torch.cuda.device_count())')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu_check: /'

# 1. Build, every error at once.
cmake_args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPTSCOPE_TESTS=OFF
            -DPTSCOPE_VENDOR_DIR="$vendor_dir")
[[ -n "$torch_prefix" ]] && cmake_args+=(-DCMAKE_PREFIX_PATH="$torch_prefix")
if ! ((dry_run)) && command -v nvcc >/dev/null; then
  cuda_root=$(dirname "$(dirname "$(command -v nvcc)")")
  cmake_args+=(-DCUDAToolkit_ROOT="$cuda_root" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)")
fi
say "configure: cmake ${cmake_args[*]}"
if ! cmake "${cmake_args[@]}" >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log"; say "configure failed: $out/build.log"; exit 1
fi
say "build"
if ! cmake --build "$build" -j"$(nproc)" -- -k 0 >>"$out/build.log" 2>&1; then
  grep -E "error|Error" "$out/build.log" | head -60; say "build failed: $out/build.log has every error"; exit 1
fi
[[ -f "$build/libptscope_torch.so" ]] || { say "no plugin built: LibTorch not found (see build.log)"; exit 1; }
"$build/ptscope" backend

# 2. The models, written by this machine's torch.
say "models"
small=(); ((dry_run)) && small=(--small)
"$py" scripts/gpu_check.py models "$work/models" "${small[@]}"
dry=(); ((dry_run)) && dry=(--dry-run)
"$py" scripts/gpu_check.py cases "$work" "${dry[@]}"

# 3. ptscope on every case, one process each (as users run it).
say "ptscope"
rm -rf "$work/ptscope"
mkdir -p "$work/ptscope"
while IFS=$'\t' read -r name args; do
  # shellcheck disable=SC2086  # the arguments are one line of plain words
  if "$build/ptscope" -q $args -f json >"$work/ptscope/$name.json" 2>"$work/ptscope/$name.err"; then
    say "  $name ok"
  else
    say "  $name failed: $(tail -1 "$work/ptscope/$name.err")"
  fi
done <"$work/cases.tsv"

# 4. PyTorch on the same files and inputs, 5. the table.
say "reference"
PYTHONUNBUFFERED=1 "$py" scripts/gpu_check.py reference "$work"
"$py" scripts/gpu_check.py table "$work" "$out"
say "done: $out/table.md"
