import { Packr, Unpackr } from 'msgpackr';
import type { FailureDetails, JobLogLine, JobWarning, ReportedProgress } from './types.js';

/**
 * msgpackr envelopes between the main thread and the workers.
 *
 * Both sides are built with the same shared record structures, so an envelope is encoded as a
 * one-byte record reference followed by its values: the keys are never re-described per
 * message. A packer and an unpacker each keep their own structure list, so each direction has
 * its own pair. Field order is the wire format: append, never reorder.
 */
const REQUEST_KEYS = ['jobId', 'slot', 'route', 'method', 'path', 'query', 'headers', 'body', 'deadline', 'attempt', 'spilled', 'discard', 'userName', 'superuser'];
const RESPONSE_KEYS = ['kind', 'jobId', 'slot', 'status', 'headers', 'body', 'code', 'message', 'details', 'progress', 'logs', 'dropped', 'warnings'];
const PROGRESS_KEYS = ['current', 'total', 'message', 'phase', 'phases'];

export interface RequestEnvelope {
  jobId: number;
  slot: number;
  route: number;
  method: string;
  path: string;
  query: string;
  headers: string[];
  body: Uint8Array | null;
  /** Epoch ms, 0 when none. */
  deadline: number;
  attempt: number;
  /** The full envelope travels over the lane's MessagePort; this ring record only holds its place. */
  spilled: boolean;
  /** Nobody will read the result (fire and forget): the worker reports only the status. */
  discard: boolean;
  /** `JobUser.name` of whoever submitted the job, null when the embedder named nobody. */
  userName: string | null;
  superuser: boolean;
}

export const RESPONSE_RESULT = 1;
export const RESPONSE_FAILED = 2;
export const RESPONSE_CANCELLED = 3;
export const RESPONSE_PROGRESS = 4;
/** A batch of `ctx.log` lines (`logs`, `dropped`). */
export const RESPONSE_LOG = 5;

export interface ResponseEnvelope {
  kind: number;
  jobId: number;
  slot: number;
  status: number;
  headers: string[] | null;
  body: Uint8Array | null;
  code: string | null;
  message: string | null;
  /** A failure's `JobFailure.details`. */
  details: FailureDetails | null;
  progress: ReportedProgress | null;
  /** RESPONSE_LOG: the lines, and how many were cut before them. */
  logs: JobLogLine[] | null;
  dropped: number;
  /** RESPONSE_RESULT: what `ctx.warn` and the response's `warnings` reported, null when nothing. */
  warnings: JobWarning[] | null;
}

function sharedStructures(keys: readonly string[][]): string[][] {
  return keys.map((list) => list.slice());
}

function codecOptions(keys: readonly string[][]) {
  return {
    structures: sharedStructures(keys),
    maxSharedStructures: keys.length,
    useRecords: true,
    // Bodies are sliced out of a reused scratch buffer: they must own their bytes.
    copyBuffers: true,
  };
}

export function createRequestPacker(): Packr {
  return new Packr(codecOptions([REQUEST_KEYS]));
}

export function createRequestUnpacker(): Unpackr {
  return new Unpackr(codecOptions([REQUEST_KEYS]));
}

export function createResponsePacker(): Packr {
  return new Packr(codecOptions([RESPONSE_KEYS, PROGRESS_KEYS]));
}

export function createResponseUnpacker(): Unpackr {
  return new Unpackr(codecOptions([RESPONSE_KEYS, PROGRESS_KEYS]));
}

/**
 * Copies a record out of shared memory before decoding it: msgpackr's native string decoder
 * rejects views on a SharedArrayBuffer (DESIGN.md), and a copy into one reused plain buffer is
 * cheaper than the JS decoding path. Grows the scratch buffer when a record is larger.
 */
export class RecordReader {
  #scratch: Buffer = Buffer.allocUnsafeSlow(64 * 1024);
  readonly #unpacker: Unpackr;

  constructor(unpacker: Unpackr) {
    this.#unpacker = unpacker;
  }

  decode<T>(source: Uint8Array, offset: number, length: number): T {
    if (length > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(length);
    this.#scratch.set(source.subarray(offset, offset + length), 0);
    return this.#unpacker.unpack(this.#scratch.subarray(0, length)) as T;
  }
}
