#!/usr/bin/env bash
# check_profile_vs_torch.sh: do `ptscope profile`'s FLOP counts agree with
# PyTorch's own profiler and with the published figures?
#
# Usage: scripts/check_profile_vs_torch.sh [BUILD_DIR] [WORK_DIR]   (defaults: build, bench-data)
#
# Exports (scripts/check_profile_vs_torch.py export, Debian's /usr/bin/python3):
#   torchvision resnet18 and resnet50 (weights=None, seed 0, eval), each
#   torch.jit.script'ed and torch.jit.trace'd at 1x3x224x224; the
#   transformer_block fixture (E=64, S=16) and the same hand-written pre-LN
#   block at BERT-base size (E=768, 12 heads, S=128, B=1).
# Then, per model:
#   ptscope profile FILE --input SHAPE --format json --iters 3 --warmup 1
#   torch.profiler.profile(with_flops=True) on the same file (torch.jit.load),
#   one no_grad forward after one warm-up: sum of evt.flops
# and prints a Markdown table: ptscope MACs and FLOPs, ptscope's MAC-op FLOPs
# (2 x MACs) against the profiler's MAC-op FLOPs (conv2d/mm/addmm/bmm/baddbmm)
# and total, and against the reference: torchvision's 1.814 / 4.09 GMACs for
# resnet18 / resnet50, 24*B*S*E^2 + 4*B*S^2*E FLOPs for a transformer block.
# Last, the FLOP counter's cost: `ptscope profile --counter-overhead --iters 20`
# on scripted resnet50, median latency with the counter over without.
#
# Nothing is enforced: the script reports.  Output: the report on stdout, also
# written to WORK_DIR/profile_vs_torch.md; the JSON it is made from stays in
# WORK_DIR (*.ptscope.json, *.torch.json, resnet50_script.overhead.json).
# Run time: about 2 minutes on 2 cores.

set -euo pipefail

BUILD_DIR=${1:-build}
WORK_DIR=${2:-bench-data}
PY=/usr/bin/python3   # Debian's interpreter: the one with torch
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPER="$SCRIPT_DIR/check_profile_vs_torch.py"
PTSCOPE="$BUILD_DIR/ptscope"

# name input: the files the helper exports, in table order.
MODELS=("resnet18_script 1x3x224x224" "resnet18_trace 1x3x224x224"
        "resnet50_script 1x3x224x224" "resnet50_trace 1x3x224x224"
        "block_e64_s16 1x16x64" "block_e768_s128 1x128x768")

die() { echo "check_profile_vs_torch: error: $*" >&2; exit 1; }
log() { echo "check_profile_vs_torch: $*" >&2; }

[[ -x "$PTSCOPE" ]] || die "no ptscope binary at $PTSCOPE (build it first, or pass BUILD_DIR)"
"$PY" -c 'import torch, torchvision' 2>/dev/null || die "$PY cannot import torch and torchvision"
mkdir -p "$WORK_DIR"
start=$SECONDS

log "exporting models to $WORK_DIR"
"$PY" "$HELPER" export "$WORK_DIR"

for entry in "${MODELS[@]}"; do
  read -r name input <<<"$entry"
  log "ptscope profile $name.pt --input $input"
  "$PTSCOPE" profile "$WORK_DIR/$name.pt" --input "$input" --format json --iters 3 --warmup 1 \
    >"$WORK_DIR/$name.ptscope.json" || die "ptscope profile failed on $WORK_DIR/$name.pt"
done

log "torch.profiler on the same files"
"$PY" "$HELPER" torchprof "$WORK_DIR"

log "FLOP-counter overhead: ptscope profile --counter-overhead --iters 20 (resnet50, scripted)"
"$PTSCOPE" profile "$WORK_DIR/resnet50_script.pt" --input 1x3x224x224 --format json \
  --counter-overhead --iters 20 >"$WORK_DIR/resnet50_script.overhead.json" \
  || die "ptscope profile --counter-overhead failed"

"$PY" "$HELPER" report "$WORK_DIR"
log "done in $((SECONDS - start)) s; report in $WORK_DIR/profile_vs_torch.md"
