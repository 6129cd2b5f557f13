#!/usr/bin/env bash
# Trains the default model on a lent GPU machine, inside its time budget. Run from the repository root there, with
# out/device/ullava.tar.xz carried (tools/device/publish.sh makes it). Both stages run on CUDA through the machine's
# PyTorch libraries; stage 2 stops at --max-seconds with a resumable checkpoint. Results go to $OUT/results.tar.xz.part-*
# (model and optimizer are over the 16 MB a returned file may have: `cat results.tar.xz.part-* | tar -xJ` here):
# vision/ (unless VISION is given), sam/ (with SAM_SECONDS), default/checkpoint-N/, eval.txt.
#   VISION (a train-vision vision_encoder.safetensors: skips stage 0)  STAGE0_STEPS (3000)
#   SAM (a train-sam sam.safetensors) or SAM_SECONDS (> 0: run stage 1 for that long first, batch SAM_BATCH (32));
#   with neither, SAM trains from scratch inside stage 2
#   KEEP_OPTIMIZER (1; 0: results without the optimizer state)  DEVICE (cuda)  TRAIN_SECONDS (300)  STEPS (20000)  BATCH (8)  LR (1e-3)  WARMUP (500)  TRAIN_ARGS (extra train options)
set -euo pipefail
: "${OUT:?set OUT to the folder that comes back}"
KIT="${KIT:-out/device/ullava.tar.xz}"
WORK="${WORK:-$(mktemp -d)}"
[ -x "$WORK/ullava/ullava" ] || tar -C "$WORK" -xJf "$KIT"
ULLAVA_LIBTORCH="${ULLAVA_LIBTORCH:-$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")}"
export ULLAVA_LIBTORCH
ULLAVA="$WORK/ullava/ullava"
RUN="$WORK/run"
mkdir -p "$RUN"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
vision="${VISION:-}"
if [ -z "$vision" ]; then
  "$ULLAVA" train-vision --out "$RUN/vision" --size default --device "${DEVICE:-cuda}" --steps "${STAGE0_STEPS:-3000}" --batch 32 --lr 1e-3 \
    --warmup 100 --log-every 100
  vision="$RUN/vision/vision_encoder.safetensors"
fi
sam="${SAM:-}"
if [ -z "$sam" ] && [ "${SAM_SECONDS:-0}" -gt 0 ]; then
  "$ULLAVA" train-sam --out "$RUN/sam" --size default --device "${DEVICE:-cuda}" --steps "${SAM_STEPS:-20000}" \
    --batch "${SAM_BATCH:-32}" --lr 1e-3 --warmup 100 --log-every 100 --max-seconds "$SAM_SECONDS"
  sam="$RUN/sam/sam.safetensors"
fi
pack() {
  # KEEP_OPTIMIZER=0 leaves the optimizer state out (not resumable, 53 MB less to bring back).
  (cd "$RUN" && tar -cf - --exclude=./default/final ${KEEP_OPTIMIZER:+$([ "$KEEP_OPTIMIZER" = 0 ] && echo --exclude=optimizer.safetensors)} . \
    | xz -T0 -3 | split -b 15M - "$OUT/results.tar.xz.part-")
  ls -l "$OUT"
}
trap pack EXIT
"$ULLAVA" train --out "$RUN/default" --size default --device "${DEVICE:-cuda}" --steps "${STEPS:-20000}" --batch "${BATCH:-8}" \
  --lr "${LR:-1e-3}" --warmup "${WARMUP:-500}" --save-every 0 --log-every 100 --max-seconds "${TRAIN_SECONDS:-300}" \
  --vision "$vision" ${sam:+--sam "$sam"} ${TRAIN_ARGS:-}
last="$(ls -d "$RUN"/default/checkpoint-* "$RUN"/default/final 2>/dev/null | sort -t- -k2 -n | tail -1)"
echo "evaluating $last"
timeout "${EVAL_SECONDS:-90}" "$ULLAVA" eval --model "$last" --device "${DEVICE:-cuda}" --split validation --samples "${EVAL_SAMPLES:-50}" | tee "$RUN/eval.txt" || true
