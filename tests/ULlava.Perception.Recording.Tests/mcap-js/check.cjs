// Cross-check of our MCAP files with the reference TypeScript implementation (@mcap/core, @mcap/support).
//   node check.cjs read <file.mcap>    every record through McapStreamReader and McapIndexedReader (CRCs checked),
//                                      every message decoded with protobufjs from its channel's FileDescriptorSet;
//                                      prints a JSON report, exits non-zero on any error.
//   node check.cjs write <out.mcap>    writes a zstd-chunked file with McapWriter; prints what it wrote as JSON.
"use strict";
const fs = require("node:fs");
const { McapStreamReader, McapIndexedReader, McapWriter } = require("@mcap/core");
const { loadDecompressHandlers, protobufFromBinaryDescriptor } = require("@mcap/support");

async function read(path) {
  const data = new Uint8Array(fs.readFileSync(path));
  const decompressHandlers = await loadDecompressHandlers();

  // 1. Stream reader: every record in file order, chunk CRCs validated.
  const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true, includeChunks: true });
  stream.append(data);
  const recordCounts = {};
  const chunkCompressions = {};
  let streamMessages = 0;
  for (let record; (record = stream.nextRecord()); ) {
    recordCounts[record.type] = (recordCounts[record.type] ?? 0) + 1;
    if (record.type === "Message") streamMessages++;
    if (record.type === "Chunk") chunkCompressions[record.compression] = (chunkCompressions[record.compression] ?? 0) + 1;
  }
  if (!stream.done()) throw new Error(`stream reader did not reach the end (${stream.bytesRemaining()} bytes left)`);

  // 2. Indexed reader: through the summary, CRCs validated, messages in log-time order, each decoded.
  const readable = {
    size: async () => BigInt(data.length),
    read: async (offset, size) => data.subarray(Number(offset), Number(offset + size)),
  };
  const indexed = await McapIndexedReader.Initialize({ readable, decompressHandlers });
  const types = new Map();
  const perTopic = {};
  const firstDecoded = {};
  let indexedMessages = 0;
  let decoded = 0;
  let lastTime = -1n;
  for await (const message of indexed.readMessages({ validateCrcs: true })) {
    if (message.logTime < lastTime) throw new Error(`messages out of log-time order at ${message.logTime}`);
    lastTime = message.logTime;
    indexedMessages++;
    const channel = indexed.channelsById.get(message.channelId);
    perTopic[channel.topic] = (perTopic[channel.topic] ?? 0) + 1;
    const schema = indexed.schemasById.get(channel.schemaId);
    if (schema && schema.encoding === "protobuf" && channel.messageEncoding === "protobuf") {
      let type = types.get(schema.id);
      if (!type) {
        type = protobufFromBinaryDescriptor(schema.data).lookupType(schema.name);
        types.set(schema.id, type);
      }
      const value = type.decode(message.data);
      decoded++;
      if (!(channel.topic in firstDecoded)) {
        firstDecoded[channel.topic] = type.toObject(value, { longs: String, enums: String, bytes: String, defaults: false });
      }
    }
  }
  const metadataNames = [];
  for await (const metadata of indexed.readMetadata()) metadataNames.push(metadata.name);
  const attachments = [];
  for await (const attachment of indexed.readAttachments({ validateCrcs: true })) attachments.push(attachment.name);

  return {
    profile: indexed.header.profile,
    library: indexed.header.library,
    recordCounts,
    chunkCompressions,
    streamMessages,
    indexedMessages,
    decoded,
    perTopic,
    statisticsMessageCount: indexed.statistics ? Number(indexed.statistics.messageCount) : null,
    chunkIndexes: indexed.chunkIndexes.length,
    schemas: [...indexed.schemasById.values()].map((s) => s.name),
    metadataNames,
    attachments,
    firstDecoded,
  };
}

async function write(path) {
  const zstd = require("@foxglove/wasm-zstd");
  await zstd.isLoaded;
  const fd = fs.openSync(path, "w");
  let position = 0n;
  const writable = {
    write: async (buffer) => { fs.writeSync(fd, buffer); position += BigInt(buffer.byteLength); },
    position: () => position,
  };
  const writer = new McapWriter({
    writable,
    chunkSize: 2048,
    compressChunk: (chunk) => ({ compression: "zstd", compressedData: zstd.compress(chunk, 3) }),
  });
  await writer.start({ profile: "", library: "mcap-js-check" });
  const schemaId = await writer.registerSchema({ name: "raw", encoding: "", data: new Uint8Array() });
  const channels = [
    await writer.registerChannel({ topic: "/a", schemaId, messageEncoding: "raw", metadata: new Map([["k", "v"]]) }),
    await writer.registerChannel({ topic: "/b", schemaId, messageEncoding: "raw", metadata: new Map() }),
  ];
  const count = 300;
  for (let i = 0; i < count; i++) {
    const body = new TextEncoder().encode(`message ${i} `.repeat(1 + (i % 7)));
    await writer.addMessage({
      channelId: channels[i % 2], sequence: i, logTime: BigInt(1000 + i * 10), publishTime: BigInt(1000 + i * 10), data: body,
    });
  }
  await writer.addMetadata({ name: "js", metadata: new Map([["written_by", "@mcap/core"]]) });
  await writer.addAttachment({ name: "a.txt", mediaType: "text/plain", logTime: 5n, createTime: 6n, data: new TextEncoder().encode("hello") });
  await writer.end();
  fs.closeSync(fd);
  return { count, firstLogTime: 1000, step: 10, topics: ["/a", "/b"], pattern: "message {i} repeated 1 + i % 7 times" };
}

async function main() {
  const [mode, path] = process.argv.slice(2);
  const report = mode === "read" ? await read(path) : mode === "write" ? await write(path) : null;
  if (report === null) throw new Error("usage: check.cjs read|write <file.mcap>");
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
