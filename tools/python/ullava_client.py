#!/usr/bin/python3
"""Python client of a u-LLaVA perception node: subscribe to results, send commands.

Needs Debian's python3-zmq and python3-protobuf, and classes generated from messages/proto by protoc:
  protoc -I messages/proto --python_out=DIR messages/proto/ullava/perception/v1/*.proto
then pass --pb-dir DIR (without it the script runs protoc itself into a temporary folder).

  ullava_client.py subscribe [--endpoint tcp://127.0.0.1:5556] [--topic ullava/v1/] [--count N] [--timeout S]
      one JSON line per message: {"topic", "type", "message"}; masks also get "maskAreas" and "maskBoxes"
      (inclusive pixel box) from their decoded RLE
  ullava_client.py command [--endpoint tcp://127.0.0.1:5557] [--timeout S] (--json COMMAND_JSON | VERB ...)
      VERB: status | list | pause | resume | remove ID | add TEXT [--kind K] [--stream ID]
      prints the Reply as JSON; exit 1 when ok is false, 2 on a timeout
"""
import argparse
import atexit
import glob
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

PROTO_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "messages", "proto")

# Topic suffix -> message name (README, Topics section).
TOPIC_TYPES = {"results": "InstructionResult", "masks": "MaskSet", "boxes": "BoxSet",
               "text": "TextUpdate", "calibration": "CameraCalibration", "status": "NodeStatus"}


def rle_decode(height, width, counts):
    """COCO RLE to a column-major (Fortran order) list of 0/1, runs alternating from background."""
    flat = bytearray(height * width)
    pos, value = 0, 0
    for run in counts:
        if pos + run > len(flat):
            raise ValueError("RLE counts cover %d pixels, the mask has %d" % (pos + run, len(flat)))
        if value:
            flat[pos:pos + run] = b"\x01" * run
        pos += run
        value ^= 1
    if pos != len(flat):
        raise ValueError("RLE counts cover %d pixels, the mask has %d" % (pos, len(flat)))
    return flat


def rle_pixel(flat, height, x, y):
    """The value at column x, row y of a column-major decoded mask."""
    return flat[x * height + y]


def rle_area(height, width, counts):
    return sum(rle_decode(height, width, counts))


def rle_box(height, width, counts):
    """[x_min, y_min, x_max, y_max] of the set pixels (inclusive), or None for an empty mask."""
    flat = rle_decode(height, width, counts)
    xs = [i // height for i, v in enumerate(flat) if v]
    ys = [i % height for i, v in enumerate(flat) if v]
    return [min(xs), min(ys), max(xs), max(ys)] if xs else None


def load_messages(pb_dir=None):
    """Imports the generated modules; generates them with protoc into a temporary folder when pb_dir is None."""
    if pb_dir is None:
        pb_dir = tempfile.mkdtemp(prefix="ullava-pb-")
        atexit.register(shutil.rmtree, pb_dir, True)
        protos = sorted(glob.glob(os.path.join(PROTO_ROOT, "ullava", "perception", "v1", "*.proto")))
        subprocess.run(["protoc", "-I", PROTO_ROOT, "--python_out=" + pb_dir] + protos, check=True)
    sys.path.insert(0, pb_dir)
    return {name: importlib.import_module("ullava.perception.v1.%s_pb2" % name)
            for name in ("commands", "results", "status", "calibration")}


class Client:
    """Decodes the node's topics and talks to its command socket."""

    def __init__(self, pb_dir=None):
        import zmq
        from google.protobuf import json_format
        self.zmq = zmq
        self.json_format = json_format
        self.pb = load_messages(pb_dir)
        self.context = zmq.Context.instance()

    def message_class(self, topic):
        name = TOPIC_TYPES.get("status" if topic.endswith("/status") else topic.rsplit("/", 1)[-1])
        if name is None:
            return None
        for module in self.pb.values():
            if hasattr(module, name):
                return getattr(module, name)
        return None

    def decode(self, topic, payload):
        """One JSON-ready dict for a [topic, protobuf] message."""
        cls = self.message_class(topic)
        if cls is None:
            return {"topic": topic, "error": "no known message type for this topic (%d bytes)" % len(payload)}
        message = cls()
        message.ParseFromString(payload)
        line = {"topic": topic, "type": cls.__name__, "message": self.json_format.MessageToDict(message)}
        if hasattr(message, "masks"):
            line["maskAreas"] = [rle_area(m.rle.height, m.rle.width, m.rle.counts) for m in message.masks]
            line["maskBoxes"] = [rle_box(m.rle.height, m.rle.width, m.rle.counts) for m in message.masks]
        return line

    def subscribe(self, endpoint, topic, count, timeout_s, out=sys.stdout):
        socket = self.context.socket(self.zmq.SUB)
        socket.setsockopt(self.zmq.LINGER, 0)
        socket.connect(endpoint)
        socket.setsockopt_string(self.zmq.SUBSCRIBE, topic)
        # Tell whoever drives us (a test, a pipe) that the subscription is on its way.
        print(json.dumps({"subscribed": topic, "endpoint": endpoint}), file=out, flush=True)
        written = 0
        try:
            while count == 0 or written < count:
                if timeout_s > 0 and not socket.poll(int(timeout_s * 1000)):
                    return written
                frames = socket.recv_multipart()
                if len(frames) != 2:
                    line = {"error": "expected [topic, protobuf], got %d frames" % len(frames)}
                else:
                    line = self.decode(frames[0].decode("utf-8", "replace"), frames[1])
                print(json.dumps(line), file=out, flush=True)
                written += 1
        finally:
            socket.close()
        return written

    def command(self, endpoint, command, timeout_s):
        """Sends a Command over a DEALER; the Reply, or None on a timeout."""
        if not command.request_id:
            command.request_id = uuid.uuid4().hex[:12]
        socket = self.context.socket(self.zmq.DEALER)
        socket.setsockopt(self.zmq.LINGER, 0)
        socket.connect(endpoint)
        try:
            socket.send(command.SerializeToString())
            while socket.poll(int(timeout_s * 1000)):
                reply = self.pb["commands"].Reply()
                reply.ParseFromString(socket.recv_multipart()[-1])
                if reply.request_id in (command.request_id, ""):
                    return reply
            return None
        finally:
            socket.close()

    def build(self, verb, rest):
        pb = self.pb["commands"]
        parser = argparse.ArgumentParser(prog="command " + verb)
        if verb in ("status", "list", "pause", "resume"):
            parser.parse_args(rest)
            body = {"status": ("get_status", pb.GetStatus()), "list": ("list_instructions", pb.ListInstructions()),
                    "pause": ("pause", pb.Pause()), "resume": ("resume", pb.Resume())}[verb]
            command = pb.Command()
            getattr(command, body[0]).CopyFrom(body[1])
            return command
        if verb == "remove":
            parser.add_argument("id")
            return pb.Command(remove_instruction=pb.RemoveInstruction(id=parser.parse_args(rest).id))
        if verb == "add":
            parser.add_argument("text", nargs="+")
            parser.add_argument("--kind", choices=["auto", "caption", "ask", "segment", "ground"], default="auto")
            parser.add_argument("--stream", action="append", default=[])
            a = parser.parse_args(rest)
            kind = self.pb["results"].InstructionKind.Value("INSTRUCTION_KIND_" + a.kind.upper())
            spec = pb.InstructionSpec(text=" ".join(a.text), kind=kind, stream_ids=a.stream)
            return pb.Command(add_instruction=pb.AddInstruction(spec=spec))
        raise SystemExit("unknown verb %r: use status, list, pause, resume, remove ID, add TEXT, or --json" % verb)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pb-dir", help="folder with the protoc-generated ullava/perception/v1/*_pb2.py")
    sub = parser.add_subparsers(dest="tool", required=True)
    s = sub.add_parser("subscribe")
    s.add_argument("--endpoint", default="tcp://127.0.0.1:5556")
    s.add_argument("--topic", default="ullava/v1/")
    s.add_argument("--count", type=int, default=0, help="stop after N messages (0: never)")
    s.add_argument("--timeout", type=float, default=0, help="stop after S seconds without a message (0: never)")
    c = sub.add_parser("command")
    c.add_argument("--endpoint", default="tcp://127.0.0.1:5557")
    c.add_argument("--timeout", type=float, default=5)
    c.add_argument("--json", help="the Command in protobuf JSON, e.g. '{\"getStatus\": {}}'")
    c.add_argument("verb", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    client = Client(args.pb_dir)
    if args.tool == "subscribe":
        client.subscribe(args.endpoint, args.topic, args.count, args.timeout)
        return 0
    if args.json:
        command = client.json_format.Parse(args.json, client.pb["commands"].Command())
    elif args.verb:
        command = client.build(args.verb[0], args.verb[1:])
    else:
        parser.error("command needs --json or a verb")
    reply = client.command(args.endpoint, command, args.timeout)
    if reply is None:
        print(json.dumps({"error": "no reply within %g s" % args.timeout, "requestId": command.request_id}))
        return 2
    print(json.dumps(client.json_format.MessageToDict(reply)))
    return 0 if reply.ok else 1


if __name__ == "__main__":
    sys.exit(main())
