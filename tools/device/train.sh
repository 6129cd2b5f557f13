#!/usr/bin/env bash
# Trains the default model on a lent GPU machine, inside its time budget. Run from the repository root there, with
# out/device/ullava.tar.xz carried (tools/device/publish.sh makes it). Both stages run on CUDA through the machine's
# PyTorch libraries; each stops at its --max-seconds with a resumable checkpoint. Results go to $OUT (the device
# tool brings that folder back): vision/, default/checkpoint-N/ and the eval report.
#   STAGE0_STEPS (3000)  TRAIN_SECONDS (300)  TRAIN_ARGS (extra train options, e.g. --resume DIR)
set -euo pipefail
: "${OUT:?set OUT to the folder that comes back}"
KIT="${KIT:-out/device/ullava.tar.xz}"
WORK="$(mktemp -d)"
tar -C "$WORK" -xJf "$KIT"
ULLAVA_LIBTORCH="$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")"
export ULLAVA_LIBTORCH
ULLAVA="$WORK/ullava/ullava"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
if [ ! -f "$OUT/vision/vision_encoder.safetensors" ]; then
  "$ULLAVA" train-vision --out "$OUT/vision" --size default --device cuda --steps "${STAGE0_STEPS:-3000}" --batch 32 --lr 1e-3 \
    --warmup 100 --log-every 100
fi
"$ULLAVA" train --out "$OUT/default" --size default --device cuda --steps 20000 --batch 8 --lr 1e-3 --warmup 500 \
  --save-every 0 --log-every 200 --max-seconds "${TRAIN_SECONDS:-300}" --vision "$OUT/vision/vision_encoder.safetensors" ${TRAIN_ARGS:-}
last="$(ls -d "$OUT"/default/checkpoint-* | sort -t- -k2 -n | tail -1)"
"$ULLAVA" eval --model "$last" --device cuda --split validation --samples 50 | tee "$OUT/eval.txt" || true
