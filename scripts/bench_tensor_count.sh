#!/usr/bin/env bash
# bench_tensor_count.sh: what do many tensors cost `ptscope inspect` and
# `ptscope scan`, against the floor of reading the container's index?
#
# Usage: scripts/bench_tensor_count.sh [BUILD_DIR] [WORK_DIR]   (defaults: build, bench-data)
#
# Files (scripts/bench_make_many_tensors.py, made once and reused):
#   moe_21k.pt             21,117 tensors, torch.save zip (Mixtral-shaped, 8x8 each)
#   spread_4k.pt           4,000 tensors of 64 KiB, torch.save zip (records far apart)
#   many_100k.safetensors  100,000 tensors of 4 float32 values
# Cases per file: `ptscope inspect` (table and JSON) and `ptscope scan`, all to
# /dev/null, against the floor: `unzip -l` for the zip (its central
# directory), and for safetensors a Python one-liner that reads and parses
# the JSON header (Python's start-up, ~20 ms here, is in it; it is also a row
# of its own). Wall time: hyperfine (3 to RUNS runs, default 10, for at least 3 s, after 1 warm-up);
# peak RSS: `/usr/bin/time -v`'s "Maximum resident set size", one run. Warm
# page cache. Output: a Markdown table on stdout and in WORK_DIR/bench_tensor_count.md.
set -euo pipefail

BUILD_DIR=${1:-build}
WORK_DIR=${2:-bench-data}
RUNS=${RUNS:-10}
PY=/usr/bin/python3  # Debian's interpreter: the one with torch
PTSCOPE="$BUILD_DIR/ptscope"
GEN="$(dirname "$0")/bench_make_many_tensors.py"

die() { echo "bench_tensor_count: error: $*" >&2; exit 1; }
[[ -x "$PTSCOPE" ]] || die "no ptscope binary at $PTSCOPE (build it first, or pass BUILD_DIR)"
for t in hyperfine jq unzip /usr/bin/time "$PY"; do command -v "$t" >/dev/null || die "missing tool: $t"; done
mkdir -p "$WORK_DIR"
[[ -f "$WORK_DIR/moe_21k.pt" ]] || "$PY" "$GEN" moe "$WORK_DIR/moe_21k.pt"
[[ -f "$WORK_DIR/spread_4k.pt" ]] || "$PY" "$GEN" spread "$WORK_DIR/spread_4k.pt"
[[ -f "$WORK_DIR/many_100k.safetensors" ]] || "$PY" "$GEN" safetensors "$WORK_DIR/many_100k.safetensors"

# The safetensors floor, a file: hyperfine -N splits a command into words itself.
cat >"$WORK_DIR/read_header.py" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    print(len(json.loads(f.read(n))))
PY

ROWS=()
# row FILE LABEL FLOOR_MS CMD...: times CMD and appends a table row. One run
# first, under `timeout LIMIT` (default 120 s): a case that does not finish
# is a row saying so, not an hour of hyperfine.
LIMIT=${LIMIT:-120}
row() {
  local file=$1 label=$2 floor=$3; shift 3
  local json="$WORK_DIR/hf_count.json" mean sd rss
  cat "$file" >/dev/null
  if ! timeout "$LIMIT" "$@" >/dev/null 2>&1; then
    ROWS+=("| $(basename "$file") | $label | did not finish in $LIMIT s (or failed) | – | – |")
    LAST=
    return
  fi
  # At least 3 runs and at most RUNS: some cases take seconds.
  hyperfine -N --style none --warmup 1 --min-runs 3 --max-runs "$RUNS" --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null
  mean=$(jq -r '.results[0].mean * 1000' "$json")
  sd=$(jq -r '(.results[0].stddev // 0) * 1000' "$json")
  rss=$(/usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }')
  [[ -n $floor ]] || floor=$mean
  ROWS+=("$(printf '| %s | %s | %.1f ± %.1f | %s | %.2f |' "$(basename "$file")" "$label" "$mean" "$sd" "$rss" \
    "$(awk -v a="$mean" -v b="$floor" 'BEGIN { print a / b }')")")
  LAST=$mean
}

pt="$WORK_DIR/moe_21k.pt"
row "$pt" '`unzip -l` (floor)' "" unzip -l "$pt"
floor=$LAST
row "$pt" '`ptscope inspect`' "$floor" "$PTSCOPE" inspect "$pt"
row "$pt" '`ptscope inspect --format json`' "$floor" "$PTSCOPE" inspect --format json "$pt"
row "$pt" '`ptscope scan`' "$floor" "$PTSCOPE" scan "$pt"

sp="$WORK_DIR/spread_4k.pt"
row "$sp" '`unzip -l` (floor)' "" unzip -l "$sp"
floor=$LAST
row "$sp" '`ptscope inspect`' "$floor" "$PTSCOPE" inspect "$sp"
row "$sp" '`ptscope scan`' "$floor" "$PTSCOPE" scan "$sp"

st="$WORK_DIR/many_100k.safetensors"
row "$st" 'Python: read and parse the header (floor)' "" "$PY" "$WORK_DIR/read_header.py" "$st"
floor=$LAST
row "$st" 'Python start-up alone (`-c pass`)' "$floor" "$PY" -c pass
row "$st" '`ptscope inspect`' "$floor" "$PTSCOPE" inspect "$st"
row "$st" '`ptscope inspect --format json`' "$floor" "$PTSCOPE" inspect --format json "$st"
row "$st" '`ptscope scan`' "$floor" "$PTSCOPE" scan "$st"

{
  echo "| file | tool | mean ms ± sd | peak RSS MB | × floor |"
  echo "|------|------|-------------:|------------:|--------:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); 3 to $RUNS runs after 1 warm-up;" \
       "peak RSS from one \`/usr/bin/time -v\` run, 1 MB = 1024 KiB; $(date -u '+%Y-%m-%d')"
} | tee "$WORK_DIR/bench_tensor_count.md"
