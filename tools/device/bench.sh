#!/usr/bin/env bash
# Times u-LLaVA-7B's shapes (random weights, bf16) on a lent GPU machine: ours (`ullava bench --random-weights
# ullava-7b --synthetic`, fused and --unfused) and the Python reference (reference_bench.py: transformers, eager and
# sdpa), one after the other on the same card, into $OUT/bench-*.json (issue #10; BENCHMARKS.md keeps the results).
# Run from the repository root there with out/device/ullava.tar.xz carried (tools/device/publish.sh makes it).
#   BENCH_SECONDS (120): the limit for each of the four runs
set -uo pipefail
: "${OUT:?set OUT to the folder that comes back}"
KIT="${KIT:-out/device/ullava.tar.xz}"
WORK="${WORK:-$(mktemp -d)}"
[ -x "$WORK/ullava/ullava" ] || tar -C "$WORK" -xJf "$KIT" || exit 1
ULLAVA_LIBTORCH="${ULLAVA_LIBTORCH:-$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")}"
export ULLAVA_LIBTORCH PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
limit="${BENCH_SECONDS:-120}"
status=0
# GPU memory in use, sampled while each side runs (the largest reading is the peak).
peak() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$1" & echo $!; }
# Ours with fused projections (the default) and without (the baseline of that change), then the reference with eager
# attention (what the issue's figures are) and with SDPA (its fastest stock setting).
declare -A seen
# A run's name, numbered from its second time on (so repeated runs keep their reports apart).
# Sets $name (not a subshell: the count must survive).
numbered() { seen[$1]=$(( ${seen[$1]:-0} + 1 )); name="$1"; [ "${seen[$1]}" -eq 1 ] || name="$1-${seen[$1]}"; }
ours() {
  local name; numbered "$1"; shift
  p=$(peak "$WORK/mem-$name.txt")
  timeout "$limit" "$WORK/ullava/ullava" bench --random-weights ullava-7b --synthetic --device cuda --dtype bfloat16 \
    --json "$OUT/bench-$name.json" "$@" || status=1
  kill "$p"; echo "$name: peak GPU memory $(sort -n "$WORK/mem-$name.txt" | tail -1) MiB"
}
reference() {
  local name attn="$2"; numbered "$1"
  p=$(peak "$WORK/mem-$name.txt")
  timeout "$limit" python3 "$(dirname "${BASH_SOURCE[0]}")/reference_bench.py" --attn "$attn" --json "$OUT/bench-$name.json" || status=1
  kill "$p"; echo "$name: peak GPU memory $(sort -n "$WORK/mem-$name.txt" | tail -1) MiB"
}
# WHAT: the runs to make (default: the four below); e.g. WHAT="ours ours-no-system-cache" times one change against its
# baseline; ours-eager-norms, ours-unfused, ours-separate-residuals, ours-two-pass-prefill and ours-no-system-cache each
# undo one optimisation, ours-baseline all of them; ours-eager-sam and ours-augmented-sam force SAM's attention kernel
# either way. A run named twice is numbered.
for run in ${WHAT:-ours ours-unfused reference reference-sdpa}; do
  case "$run" in
    ours) ours ours ;;
    ours-unfused) ours ours-unfused --unfused ;;
    ours-no-system-cache) ours ours-no-system-cache --no-system-cache ;;
    ours-eager-sam) ours ours-eager-sam --sam-attention eager ;;
    ours-augmented-sam) ours ours-augmented-sam --sam-attention augmented ;;
    ours-eager-norms) ours ours-eager-norms --eager-norms ;;
    ours-separate-residuals) ours ours-separate-residuals --separate-residuals ;;
    ours-two-pass-prefill) ours ours-two-pass-prefill --two-pass-prefill ;;
    ours-baseline) ours ours-baseline --unfused --eager-norms --separate-residuals --sam-attention eager --no-system-cache --two-pass-prefill ;;
    reference) reference reference eager ;;
    reference-sdpa) reference reference-sdpa sdpa ;;
    *) echo "unknown run $run" >&2; status=1 ;;
  esac
done
exit $status
