#!/usr/bin/python3
"""A real RTSP server for the capture tests and `ullava soak`: GStreamer's rtsp-server serving a moving videotestsrc as H.264.

Run with Debian's /usr/bin/python3 (needs python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-ugly for
x264enc). Prints "READY <url>" on stdout once the server is attached and listening.

    rtsp_server.py --port 8554 --path /test --fps 15 --width 320 --height 240 [--pattern ball]
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/test")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--pattern", default="ball")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))

    # is-live: frames follow the wall clock like a camera; zerolatency, and a keyframe every third of a second so
    # a new client (which joins mid-GOP and must wait for one) decodes within ~0.3 s.
    gop = max(1, args.fps // 3)
    launch = (
        f"( videotestsrc is-live=true pattern={args.pattern} "
        f"! video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=500 "
        f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    # Not shared: every client gets its own pipeline, so a new session starts at "now".
    factory.set_shared(False)
    server.get_mount_points().add_factory(args.path, factory)

    if server.attach(None) == 0:
        print(f"ERROR cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY rtsp://{args.host}:{args.port}{args.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
