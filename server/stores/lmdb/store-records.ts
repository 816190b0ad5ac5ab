import { pack, unpack } from 'msgpackr';
import type { JobOutcome, StoredResult } from '../../jobs/index.js';

/*
 * The fixed-layout binary records of the LMDB job store. A job's index record is read for
 * every job at open, so it is 44 bytes read with typed arrays: a million of them decode in
 * a fraction of what msgpack took (2.3 s per million, DESIGN.md "Stores").
 *
 * Job record (`jobs` database, key: job id):
 *
 *   0      1       2      3     4           8            16           24            32            40            44
 *   +------+-------+------+-----+-----------+------------+------------+-------------+-------------+-------------+---------+
 *   |state |outcome|flags | 0   |owner u32  |createdAtMs |startedAtMs |finishedAtMs |retentionMs  |result bytes |type u32 |
 *   +------+-------+------+-----+-----------+------------+------------+-------------+-------------+-------------+---------+
 *   little endian; times are float64 epoch ms; result bytes: the size of the job's `results` value;
 *   type: an index into the `types` database, 0 for none. Format 1 records end before the type (44 bytes).
 *
 * Result record (`results` database, key: job id): status u16, has-body u8, 0, headers
 * length u32, the headers as a msgpack array, then the body bytes.
 *
 * Gone record (`gone` database, key: job id): owner u32, expiredAtMs float64.
 */

export const JOB_RECORD_BYTES = 48;
/** A record of format 1, without its type. */
const FORMAT_1_RECORD_BYTES = 44;
export const GONE_RECORD_BYTES = 12;
const RESULT_HEADER_BYTES = 8;

export const PENDING = 0;
export const DONE = 1;
export const CANCELLED = 2;
export type RecordState = typeof PENDING | typeof DONE | typeof CANCELLED;

export const OUTCOMES: readonly JobOutcome[] = ['completed', 'failed', 'timedOut', 'completedWithErrors'];

/** Flags: submitted with HEAD. */
export const KEEP_NO_BODY_FLAG = 1;
/** Flags: a finished job with a record in the `details` database. */
export const HAS_DETAILS_FLAG = 2;

/** Whether a finished job keeps its request (for a retry): failed, timed out or cancelled ones do, completed ones not. */
export function keepsRequest(state: RecordState, outcome: number): boolean {
  return state === CANCELLED || (state === DONE && OUTCOMES[outcome] !== 'completed' && OUTCOMES[outcome] !== 'completedWithErrors');
}

/** One job record's fields, decoded into a reused object. */
export interface JobRecord {
  state: RecordState;
  outcome: number;
  flags: number;
  ownerIndex: number;
  createdAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  retentionMs: number;
  resultBytes: number;
  /** 0: none. */
  typeIndex: number;
}

export function encodeJobRecord(record: JobRecord): Buffer {
  // A fresh buffer per write: lmdb-js reads it on its write thread when the transaction runs.
  const bytes = Buffer.allocUnsafe(JOB_RECORD_BYTES);
  bytes[0] = record.state;
  bytes[1] = record.outcome;
  bytes[2] = record.flags;
  bytes[3] = 0;
  bytes.writeUInt32LE(record.ownerIndex, 4);
  bytes.writeDoubleLE(record.createdAtMs, 8);
  bytes.writeDoubleLE(record.startedAtMs, 16);
  bytes.writeDoubleLE(record.finishedAtMs, 24);
  bytes.writeDoubleLE(record.retentionMs, 32);
  bytes.writeUInt32LE(record.resultBytes, 40);
  bytes.writeUInt32LE(record.typeIndex, 44);
  return bytes;
}

// Decoding copies the record into this scratch first: its float64 fields sit at multiples of
// 8, so typed-array reads replace a DataView per record (which cost 0.9 s of a million-job open).
const scratchBytes = new Uint8Array(JOB_RECORD_BYTES);
const scratchFloats = new Float64Array(scratchBytes.buffer, 0, 5);
const scratchWords = new Uint32Array(scratchBytes.buffer, 0, 12);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes into `into` (no allocation); false when the bytes are not a job record. */
export function decodeJobRecord(bytes: Uint8Array, into: JobRecord): boolean {
  const length = bytes.length;
  if ((length !== JOB_RECORD_BYTES && length !== FORMAT_1_RECORD_BYTES) || bytes[0] > CANCELLED || bytes[1] >= OUTCOMES.length) return false;
  into.state = bytes[0] as RecordState;
  into.outcome = bytes[1];
  into.flags = bytes[2];
  if (!LITTLE_ENDIAN) return decodeWithDataView(bytes, into);
  // Not set(): lmdb-js's getBinaryFast buffer only pretends to be this short (its `length` is overridden).
  for (let index = 0; index < length; index++) scratchBytes[index] = bytes[index];
  into.ownerIndex = scratchWords[1];
  into.createdAtMs = scratchFloats[1];
  into.startedAtMs = scratchFloats[2];
  into.finishedAtMs = scratchFloats[3];
  into.retentionMs = scratchFloats[4];
  into.resultBytes = scratchWords[10];
  into.typeIndex = length === JOB_RECORD_BYTES ? scratchWords[11] : 0;
  return true;
}

function decodeWithDataView(bytes: Uint8Array, into: JobRecord): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  into.ownerIndex = view.getUint32(4, true);
  into.createdAtMs = view.getFloat64(8, true);
  into.startedAtMs = view.getFloat64(16, true);
  into.finishedAtMs = view.getFloat64(24, true);
  into.retentionMs = view.getFloat64(32, true);
  into.resultBytes = view.getUint32(40, true);
  into.typeIndex = bytes.length === JOB_RECORD_BYTES ? view.getUint32(44, true) : 0;
  return true;
}

export function encodeResult(result: StoredResult, keepNoBody: boolean): Buffer {
  const headers = pack(result.headers);
  const body = keepNoBody ? null : result.body;
  const bytes = Buffer.allocUnsafe(RESULT_HEADER_BYTES + headers.length + (body === null ? 0 : body.length));
  bytes.writeUInt16LE(result.status, 0);
  bytes[2] = body === null ? 0 : 1;
  bytes[3] = 0;
  bytes.writeUInt32LE(headers.length, 4);
  bytes.set(headers, RESULT_HEADER_BYTES);
  if (body !== null) bytes.set(body, RESULT_HEADER_BYTES + headers.length);
  return bytes;
}

/**
 * `owned`: the bytes are the caller's to keep (a dedicated buffer), so the body may be a view
 * of them; otherwise (lmdb-js's reused read buffer) the body is copied out.
 */
export function decodeResult(bytes: Uint8Array, owned: boolean): StoredResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const headersLength = view.getUint32(4, true);
  const bodyStart = RESULT_HEADER_BYTES + headersLength;
  const headers = unpack(bytes.subarray(RESULT_HEADER_BYTES, bodyStart)) as string[];
  let body: Uint8Array | null = null;
  if (bytes[2] === 1) {
    if (owned) body = new Uint8Array(bytes.buffer, bytes.byteOffset + bodyStart, bytes.length - bodyStart);
    else {
      body = new Uint8Array(bytes.length - bodyStart);
      body.set(bytes.subarray(bodyStart));
    }
  }
  return { status: view.getUint16(0, true), headers, body };
}

export function encodeGoneRecord(ownerIndex: number, expiredAtMs: number): Buffer {
  const bytes = Buffer.allocUnsafe(GONE_RECORD_BYTES);
  bytes.writeUInt32LE(ownerIndex, 0);
  bytes.writeDoubleLE(expiredAtMs, 4);
  return bytes;
}

export function goneOwnerIndex(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, GONE_RECORD_BYTES).getUint32(0, true);
}

export function goneExpiredAtMs(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, GONE_RECORD_BYTES).getFloat64(4, true);
}
