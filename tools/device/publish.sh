#!/usr/bin/env bash
# A self-contained `ullava` for a GPU machine that has PyTorch but no .NET (the lent H100/H200): without the bundled
# CPU libtorch (the machine's torch/lib provides CUDA's, see README "GPU routes") and without OpenCV's native library
# (110 MB; training, eval and the model stages need no camera). Published from a copy of the working tree so this
# repository's own build outputs are not touched. Writes out/device/ullava.tar.xz (~12 MB), small enough to carry.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$ROOT/out/device"
command -v xz >/dev/null || { echo "publish.sh: xz is missing (Debian: apt-get install xz-utils)" >&2; exit 1; }
SRC="$(mktemp -d)"
trap 'rm -rf "$SRC"' EXIT
(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^out/' | tar --null -T - -cf -) | tar -C "$SRC" -xf -
rm -rf "$OUT_DIR/ullava" "$OUT_DIR/ullava.tar.xz"
mkdir -p "$OUT_DIR"
dotnet publish "$SRC/tools/ULlava.Cli" -c Release -r linux-x64 --self-contained -nologo \
  -p:ULlavaBundledLibTorch=false -p:ULlavaBundledOpenCv=false \
  -p:PublishTrimmed=true -p:TrimMode=partial -p:JsonSerializerIsReflectionEnabledByDefault=true -p:SuppressTrimAnalysisWarnings=true \
  -p:DebugType=none -o "$OUT_DIR/ullava" >&2
# The bundled model's weights stay behind (26 MB that hardly compress): the device runs time random weights or train their
# own, and the working tree that travels beside the kit already holds them.
rm -f "$OUT_DIR"/ullava/assets/models/*/model.safetensors
# Trimmed (framework assemblies only: TrimMode=partial keeps ours, TorchSharp's and every reflected type) and -9e:
# the kit, the working tree and what else a device call carries must fit in 64 MiB together.
XZ_OPT="-9e -T0" tar -C "$OUT_DIR" -cJf "$OUT_DIR/ullava.tar.xz" ullava
du -h "$OUT_DIR/ullava.tar.xz"
