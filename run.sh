#!/usr/bin/env bash
# ULlava.Perception: the one entry point.
#   ./run.sh                 set up what is missing, build, run the node on the bundled sample video and model
#   ./run.sh test            the whole test suite
#   ./run.sh node [opts]     the node with any source, model and instructions
#   ./run.sh <command> ...   any tool (./run.sh --help lists them)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIGURATION="${ULLAVA_CONFIGURATION:-Release}"
CLI_DLL="$ROOT/tools/ULlava.Cli/bin/$CONFIGURATION/net10.0/ullava.dll"

# Debian packages the node needs at run time: OpenCV's native library links GTK; ffmpeg reads network streams.
RUNTIME_PACKAGES=(libgtk-3-0 ffmpeg)
# ...and what the tests add: a real Python subscriber (zmq, protobuf, protoc), a real RTSP server
# (GStreamer's, driven by Debian's python3-gi; x264 from plugins-ugly), systemd-analyze for the unit file,
# headless Chromium for the preview page.
TEST_PACKAGES=(python3 python3-zmq python3-protobuf protobuf-compiler systemd chromium
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)

log() { printf '[run.sh] %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_dotnet() {
  if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
    log "the .NET 10 SDK is required (dotnet on PATH); see README: Requirements"
    exit 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

build_cli() {
  log "building ($CONFIGURATION)"
  dotnet build "$ROOT/tools/ULlava.Cli/ULlava.Cli.csproj" -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly >&2
}

case "${1:-}" in
  test)
    shift
    require_dotnet
    install_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    # The reference MCAP implementation (npm @mcap/core) that checks our recordings, pinned by its lockfile.
    command -v npm >/dev/null || install_packages nodejs npm
    npm ci --prefix "$ROOT/tests/ULlava.Perception.Recording.Tests/mcap-js" --no-audit --no-fund --loglevel=error >&2
    # One test project at a time (-m:1): the capture tests time real streams and must not share the CPU with the model tests.
    exec dotnet test "$ROOT/ULlava.Perception.sln" -c "$CONFIGURATION" -nologo -m:1 "$@"
    ;;
  soak)
    # The soak serves its own RTSP stream: GStreamer's server, driven by Debian's python3-gi.
    require_dotnet
    install_packages "${RUNTIME_PACKAGES[@]}" python3 python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 \
      gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
    build_cli
    exec dotnet "$CLI_DLL" "$@"
    ;;
  setup)
    require_dotnet
    install_packages "${RUNTIME_PACKAGES[@]}"
    build_cli
    ;;
  *)
    require_dotnet
    install_packages "${RUNTIME_PACKAGES[@]}"
    build_cli
    if [ $# -eq 0 ]; then set -- node; fi
    # exec: the node becomes this process, so a service manager's SIGTERM reaches it.
    exec dotnet "$CLI_DLL" "$@"
    ;;
esac
