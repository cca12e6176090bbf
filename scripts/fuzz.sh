#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/, clang with
# -fsanitize=fuzzer,address,undefined) in build-sanitize/, the sanitized
# build scripts/sanitize.sh makes, and runs each for SECONDS (default 60),
# one after the other, at the lowest priority.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     HARNESS: load inspect scan folder
#
# Each harness starts from the fixtures and the committed corpus
# (scripts/fuzz_seeds.py) plus what earlier runs kept in
# build-sanitize/corpus/HARNESS. A finding (crash, sanitizer report, uncaught
# exception, an input slower than 10 s or over 2 GB) stops that harness; its
# input is left in build-sanitize/findings/HARNESS/ and the script fails at the
# end. Copy it into tests/fuzz/corpus/HARNESS/ as a regression file once
# fixed: the replay tests then run it in every build. The last line per
# harness gives executions and coverage (cov: edges, ft: features).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
harnesses=("$@")
(( ${#harnesses[@]} )) || harnesses=(load inspect scan folder)
dir=build-sanitize
max_len=$((256 * 1024))  # as scripts/fuzz_seeds.py's MAX_SEED

scripts/sanitize.sh --build-only

rm -rf "$dir/seeds"
python3 scripts/fuzz_seeds.py "$dir/seeds"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for h in "${harnesses[@]}"; do
  mkdir -p "$dir/corpus/$h" "$dir/findings/$h"
  log="$dir/fuzz_$h.log"
  echo "fuzz: $h for ${seconds} s (log: $log)" >&2
  # New inputs go to the first folder; the seeds are read only. A fixed
  # seed (FUZZ_SEED, default 1) makes CI's mutation sequence the same on
  # every run, so a finding there reproduces rather than flickers.
  if nice -n 19 "$dir/tests/fuzz/fuzz_$h" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/findings/$h/" \
      "$dir/corpus/$h" "$dir/seeds/$h" >"$log" 2>&1; then
    :
  else
    failed+=("$h")
    grep -m3 -E "ERROR|runtime error|deadly signal|timeout|out-of-memory|terminate" "$log" >&2 || tail -n 20 "$log" >&2
  fi
  # libFuzzer's last status line and its final stats, on one line.
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz: $h: ${execs:-?} executions; last status: $status" >&2
done
if (( ${#failed[@]} )); then
  echo "fuzz: findings in ${failed[*]}: see $dir/findings/" >&2
  exit 1
fi
