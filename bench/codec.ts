/**
 * The request envelope's trip from the main thread to a worker, encode plus decode, with the
 * engine's msgpackr records and with JSON, for a small and a 64 KB body:
 *
 *   node dist/bench/codec.js
 *
 * Each round trip encodes an envelope, copies it into a SharedArrayBuffer (where the ring keeps
 * it) and decodes it into an envelope whose body owns its bytes, as a worker needs it:
 *
 * - msgpackr records: engine/codec.ts's request packer and unpacker (shared structures), the
 *   record copied out of shared memory by RecordReader as the worker does.
 * - JSON, body base64: JSON.stringify written straight into the shared buffer (no
 *   intermediate Buffer), read back with toString + JSON.parse, body through base64.
 * - JSON, body as a separate part: the envelope without its body as JSON, then the raw body
 *   bytes after it, so JSON pays nothing for binary data: its best case.
 *
 * Each tinybench sample runs a batch of round trips, so the timer's own cost stays out of the
 * per-round-trip figures. Codecs are compared by their median sample: on a shared machine a
 * few preempted samples move the mean by tens of percent, the median hardly at all.
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
// codec.ts is internal to engine/ (its index does not export it): this bench measures exactly
// that internal choice, so it reaches in, as engine's own tests do.
import { createRequestPacker, createRequestUnpacker, RecordReader } from '../engine/codec.js';
import type { RequestEnvelope } from '../engine/codec.js';

const SMALL_BODY_BYTES = 100;
const LARGE_BODY_BYTES = 64 * 1024;
/** Round trips per sample: enough to make a sample last tens of microseconds. */
const SMALL_BATCH = 200;
const LARGE_BATCH = 4;
const TIME_MS = 500;
const WARMUP_MS = 100;
/** Room for the largest encoding (base64 grows a body by 4/3). */
const SHARED_BYTES = 256 * 1024;
/** The separate-part layout: a little-endian u32 JSON length, the JSON, then the body. */
const JSON_LENGTH_BYTES = 4;

/** JSON form of an envelope; `body` is base64, or absent when the body travels as its own part. */
interface JsonEnvelope extends Omit<RequestEnvelope, 'body'> {
  body: string | null;
  /** Length of the separate body part; -1 for no body. */
  bodyLength: number;
}

interface Codec {
  readonly name: string;
  /** Encodes `envelope` into `shared` at offset 0; returns the bytes written. */
  encode(envelope: RequestEnvelope, shared: Buffer): number;
  decode(shared: Buffer, length: number): RequestEnvelope;
}

export interface CodecRow {
  codec: string;
  body: string;
  'encoded bytes': number;
  'median ns/round trip': number;
  'mean ns/round trip': number;
  'p99 ns/round trip': number;
  /** From the median. */
  'round trips/s': number;
  /** This codec's median time over msgpackr's, for the same body. */
  'vs msgpackr': string;
  samples: number;
}

function envelopeWith(bodyBytes: number): RequestEnvelope {
  const body = new Uint8Array(bodyBytes);
  // A JSON-like body: text, as most request bodies are, so neither codec gets a run of zeros.
  for (let index = 0; index < bodyBytes; index++) body[index] = 0x20 + ((index * 31) % 90);
  return {
    jobId: 123_456, slot: 42, route: 3, method: 'POST', path: '/_api/cursor', query: 'batchSize=100',
    headers: ['content-type', 'application/json', 'x-arango-async', 'store', 'authorization', 'Basic cm9vdDpzZWNyZXQ='],
    body, deadline: 1_767_225_600_000, attempt: 0, spilled: false, discard: false, userName: 'root', superuser: true,
  };
}

function msgpackrCodec(): Codec {
  const packer = createRequestPacker();
  const reader = new RecordReader(createRequestUnpacker());
  return {
    name: 'msgpackr records',
    encode(envelope, shared) {
      const encoded = packer.pack(envelope);
      shared.set(encoded, 0);
      return encoded.length;
    },
    decode: (shared, length) => reader.decode<RequestEnvelope>(shared, 0, length),
  };
}

/** Reused per codec, so encoding allocates no envelope object, as the engine's ring does not. */
function jsonScratch(): JsonEnvelope {
  return { ...envelopeWith(0), body: null, bodyLength: 0 };
}

function fillJsonScratch(scratch: JsonEnvelope, envelope: RequestEnvelope, body: string | null): JsonEnvelope {
  scratch.jobId = envelope.jobId;
  scratch.slot = envelope.slot;
  scratch.route = envelope.route;
  scratch.method = envelope.method;
  scratch.path = envelope.path;
  scratch.query = envelope.query;
  scratch.headers = envelope.headers;
  scratch.body = body;
  scratch.bodyLength = envelope.body?.length ?? -1;
  scratch.deadline = envelope.deadline;
  scratch.attempt = envelope.attempt;
  scratch.spilled = envelope.spilled;
  scratch.discard = envelope.discard;
  scratch.userName = envelope.userName;
  scratch.superuser = envelope.superuser;
  return scratch;
}

function toEnvelope(parsed: JsonEnvelope, body: Uint8Array | null): RequestEnvelope {
  return {
    jobId: parsed.jobId, slot: parsed.slot, route: parsed.route, method: parsed.method, path: parsed.path,
    query: parsed.query, headers: parsed.headers, body, deadline: parsed.deadline, attempt: parsed.attempt,
    spilled: parsed.spilled, discard: parsed.discard, userName: parsed.userName, superuser: parsed.superuser,
  };
}

function jsonBase64Codec(): Codec {
  const scratch = jsonScratch();
  return {
    name: 'JSON, body base64',
    encode(envelope, shared) {
      const body = envelope.body === null
        ? null
        : Buffer.from(envelope.body.buffer, envelope.body.byteOffset, envelope.body.length).toString('base64');
      return shared.write(JSON.stringify(fillJsonScratch(scratch, envelope, body)), 0);
    },
    decode(shared, length) {
      const parsed = JSON.parse(shared.toString('utf8', 0, length)) as JsonEnvelope;
      return toEnvelope(parsed, parsed.body === null ? null : Buffer.from(parsed.body, 'base64'));
    },
  };
}

function jsonSeparateBodyCodec(): Codec {
  const scratch = jsonScratch();
  return {
    name: 'JSON, body as separate part',
    encode(envelope, shared) {
      const jsonLength = shared.write(JSON.stringify(fillJsonScratch(scratch, envelope, null)), JSON_LENGTH_BYTES);
      shared.writeUInt32LE(jsonLength, 0);
      if (envelope.body !== null) shared.set(envelope.body, JSON_LENGTH_BYTES + jsonLength);
      return JSON_LENGTH_BYTES + jsonLength + Math.max(scratch.bodyLength, 0);
    },
    decode(shared) {
      const jsonLength = shared.readUInt32LE(0);
      const parsed = JSON.parse(shared.toString('utf8', JSON_LENGTH_BYTES, JSON_LENGTH_BYTES + jsonLength)) as JsonEnvelope;
      const bodyStart = JSON_LENGTH_BYTES + jsonLength;
      // Uint8Array#slice copies into a fresh, unshared buffer: the body owns its bytes.
      const body = parsed.bodyLength < 0 ? null : Uint8Array.prototype.slice.call(shared, bodyStart, bodyStart + parsed.bodyLength);
      return toEnvelope(parsed, body);
    },
  };
}

/** Fails loudly if a codec loses anything, so a fast but wrong codec never shows up as a win. */
function checkRoundTrip(codec: Codec, envelope: RequestEnvelope, shared: Buffer): number {
  const length = codec.encode(envelope, shared);
  const decoded = codec.decode(shared, length);
  const sameBody = decoded.body !== null && envelope.body !== null && Buffer.compare(decoded.body, envelope.body) === 0;
  const sameRest = JSON.stringify({ ...decoded, body: null }) === JSON.stringify({ ...envelope, body: null });
  if (!sameBody || !sameRest) throw new Error(`${codec.name} does not round-trip the envelope`);
  if (decoded.body!.buffer instanceof SharedArrayBuffer) throw new Error(`${codec.name} leaves the body in shared memory`);
  return length;
}

/** Sink, so the optimiser keeps the decodes. */
let checksum = 0;

/** Runs every codec on each body size; one row per codec and size, times per round trip. */
export async function runCodecBench(): Promise<CodecRow[]> {
  const shared = Buffer.from(new SharedArrayBuffer(SHARED_BYTES));
  const codecs = [msgpackrCodec(), jsonBase64Codec(), jsonSeparateBodyCodec()];
  const sizes = [
    { label: `${SMALL_BODY_BYTES} B`, envelope: envelopeWith(SMALL_BODY_BYTES), batch: SMALL_BATCH },
    { label: `${LARGE_BODY_BYTES / 1024} KB`, envelope: envelopeWith(LARGE_BODY_BYTES), batch: LARGE_BATCH },
  ];
  const bench = new Bench({ name: 'codec', time: TIME_MS, warmupTime: WARMUP_MS, throws: true });
  const cases: { name: string; codec: Codec; size: (typeof sizes)[number]; encodedBytes: number }[] = [];
  for (const size of sizes) {
    for (const codec of codecs) {
      const name = `${codec.name} / ${size.label}`;
      cases.push({ name, codec, size, encodedBytes: checkRoundTrip(codec, size.envelope, shared) });
      bench.add(name, () => {
        for (let index = 0; index < size.batch; index++) {
          checksum += codec.decode(shared, codec.encode(size.envelope, shared)).jobId;
        }
      });
    }
  }
  await bench.run();

  const nanosPerRoundTrip = new Map<string, { median: number; mean: number; p99: number; samples: number }>();
  for (const { name, size } of cases) {
    const result = bench.getTask(name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`${name}: no result`);
    nanosPerRoundTrip.set(name, {
      median: (result.latency.p50 * 1e6) / size.batch,
      mean: (result.latency.mean * 1e6) / size.batch,
      p99: (result.latency.p99 * 1e6) / size.batch,
      samples: result.latency.samplesCount,
    });
  }
  return cases.map(({ name, codec, size, encodedBytes }): CodecRow => {
    const time = nanosPerRoundTrip.get(name)!;
    const msgpackrTime = nanosPerRoundTrip.get(`${codecs[0].name} / ${size.label}`)!;
    return {
      codec: codec.name,
      body: size.label,
      'encoded bytes': encodedBytes,
      'median ns/round trip': Math.round(time.median),
      'mean ns/round trip': Math.round(time.mean),
      'p99 ns/round trip': Math.round(time.p99),
      'round trips/s': Math.round(1e9 / time.median),
      'vs msgpackr': `${(time.median / msgpackrTime.median).toFixed(2)}×`,
      samples: time.samples,
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runCodecBench();
  console.log('request envelope encode + copy through a SharedArrayBuffer + decode, per round trip');
  console.table(rows);
  if (checksum === 0) console.log('(empty checksum)');
}
