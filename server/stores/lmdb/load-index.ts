import { ANY_OWNER } from '../../auth/index.js';
import type { StoredResult, WebhookRegistration } from '../../jobs/index.js';
import { IdempotencyKeys, MemoryJobTable } from '../memory/index.js';
import type { StoreDatabases } from './store-databases.js';
import { StoreCorruptError } from './store-errors.js';
import {
  CANCELLED, decodeJobRecord, goneExpiredAtMs, goneOwnerIndex, GONE_RECORD_BYTES, HAS_DETAILS_FLAG, KEEP_NO_BODY_FLAG, keepsRequest,
  OUTCOMES, PENDING, type JobRecord,
} from './store-records.js';

/** Results above this many bytes are read off the main thread (prefetched first). */
export const LARGE_RESULT_BYTES = 64 * 1024;

/** The index stands in for bodies with this: `get` and `take` read the real result from LMDB. */
export const INDEX_RESULT: StoredResult = Object.freeze({ status: 0, headers: Object.freeze([]) as unknown as string[], body: null });

/** What the store keeps in memory, rebuilt from the databases at open. */
export interface LoadedIndex {
  table: MemoryJobTable;
  ownerNames: string[];
  /** By type index; index 0 (none) is empty. */
  typeNames: string[];
  largeResultIds: Set<number>;
  /** Pending jobs submitted with HEAD. */
  noBodyJobIds: Set<number>;
  /** Finished jobs with a `details` record. */
  detailedJobIds: Set<number>;
  /** Finished jobs that keep their request for a retry (failed, timed out, cancelled). */
  keptRequestIds: Set<number>;
  webhooks: Map<number, WebhookRegistration>;
  idempotencyKeys: IdempotencyKeys;
  /** The highest id in the job and gone records; 0 for an empty store. */
  lastJobId: number;
  goneCount: number;
}

/** What the verifying child streams, and `IndexBuilder` takes, in this order: owners, types, gone records, job records. */
export const RECORD_OWNER = 1;
export const RECORD_GONE = 2;
export const RECORD_JOB = 3;
export const RECORD_TYPE = 4;

/**
 * Rebuilds the in-memory index from the records of the `owners`, `gone` and `jobs` databases,
 * in that order and each in key order: the gone records first (each added and removed again,
 * so the table remembers it), then every job record in id order, then the finished ones
 * finished again in the order they finished (the table's finished list must be in time order
 * for `removeExpired` and `expire` to stop early). Only the 44-byte job records are read per
 * job: requests, results and headers stay on disk. The records come from the child that
 * verifies the file (see verify-store-child.ts), while it goes on reading the rest; a store
 * whose file did not exist yet starts from none.
 */
export class IndexBuilder {
  readonly #dataPath: string;
  readonly #table = new MemoryJobTable();
  readonly #ownerNames: string[] = [];
  readonly #typeNames: string[] = [];
  readonly #largeResultIds = new Set<number>();
  readonly #noBodyJobIds = new Set<number>();
  readonly #detailedJobIds = new Set<number>();
  readonly #keptRequestIds = new Set<number>();
  readonly #finished = new FinishedJobs();
  readonly #record: JobRecord = { state: PENDING, outcome: 0, flags: 0, ownerIndex: 0, createdAtMs: 0, startedAtMs: 0, finishedAtMs: 0, retentionMs: 0, resultBytes: 0, typeIndex: 0 };
  #lastJobId = 0;
  #goneCount = 0;

  constructor(dataPath: string) {
    this.#dataPath = dataPath;
  }

  /** One record of kind RECORD_OWNER (value: the name, UTF-8), RECORD_GONE or RECORD_JOB. */
  readonly take = (kind: number, key: number, value: Uint8Array): void => {
    if (kind === RECORD_JOB) this.#job(key, value);
    else if (kind === RECORD_GONE) this.#gone(key, value);
    else if (kind === RECORD_OWNER) this.#ownerNames[key] = Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8');
    else if (kind === RECORD_TYPE) this.#typeNames[key] = Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8');
    else throw new StoreCorruptError(this.#dataPath, `unknown record kind ${kind} while loading`);
  };

  /** The index, with what the smaller databases hold (read here: the child has verified them by now). */
  complete(databases: StoreDatabases): LoadedIndex {
    this.#finished.replayInto(this.#table);
    const idempotencyKeys = new IdempotencyKeys();
    const keys = [...databases.idempotency.getRange()].sort((left, right) => left.value.expiresAtMs - right.value.expiresAtMs);
    for (const { key, value } of keys) idempotencyKeys.remember(key, value.jobId, value.fingerprint, value.expiresAtMs);
    const webhooks = new Map<number, WebhookRegistration>();
    for (const { key, value } of databases.webhooks.getRange()) webhooks.set(key, value);
    return {
      table: this.#table, ownerNames: this.#ownerNames, typeNames: this.#typeNames, largeResultIds: this.#largeResultIds, noBodyJobIds: this.#noBodyJobIds,
      detailedJobIds: this.#detailedJobIds, keptRequestIds: this.#keptRequestIds,
      webhooks, idempotencyKeys, lastJobId: this.#lastJobId, goneCount: this.#goneCount,
    };
  }

  #ownerName(ownerIndex: number, jobId: number): string {
    const name = this.#ownerNames[ownerIndex];
    if (name === undefined) throw new StoreCorruptError(this.#dataPath, `job ${jobId} names owner ${ownerIndex}, which is not recorded`);
    return name;
  }

  #gone(jobId: number, value: Uint8Array): void {
    if (value.length !== GONE_RECORD_BYTES) throw new StoreCorruptError(this.#dataPath, `gone record ${jobId} has ${value.length} bytes`);
    const table = this.#table;
    const owner = this.#ownerName(goneOwnerIndex(value), jobId);
    const expiredAtMs = goneExpiredAtMs(value);
    table.add(jobId, owner, 0, expiredAtMs);
    if (expiredAtMs > 0) {
      table.finish(jobId, INDEX_RESULT, 0);
      table.expire(Infinity, noteExpired);
    } else table.remove(jobId, ANY_OWNER);
    this.#lastJobId = jobId;
    this.#goneCount++;
  }

  #job(jobId: number, value: Uint8Array): void {
    const record = this.#record;
    if (!decodeJobRecord(value, record)) throw new StoreCorruptError(this.#dataPath, `job record ${jobId} is not one this server wrote`);
    const owner = this.#ownerName(record.ownerIndex, jobId);
    const type = record.typeIndex === 0 ? null : this.#typeNames[record.typeIndex] ?? null;
    if (record.state === PENDING) {
      this.#table.add(jobId, owner, record.createdAtMs, record.retentionMs, type);
      if ((record.flags & KEEP_NO_BODY_FLAG) !== 0) this.#noBodyJobIds.add(jobId);
    } else {
      if (record.resultBytes > LARGE_RESULT_BYTES) this.#largeResultIds.add(jobId);
      if ((record.flags & HAS_DETAILS_FLAG) !== 0) this.#detailedJobIds.add(jobId);
      if (keepsRequest(record.state, record.outcome)) this.#keptRequestIds.add(jobId);
      const slot = this.#table.restore(jobId, owner, record.createdAtMs, record.retentionMs, record.startedAtMs, type);
      this.#finished.push(slot, record.finishedAtMs, record.state === CANCELLED ? CANCELLED_KIND : record.outcome);
    }
    if (jobId > this.#lastJobId) this.#lastJobId = jobId;
  }
}

function noteExpired(): void {
  // Replaying a gone record: the table records it as gone, nobody else is told.
}

/** A finished job's kind while loading: an index into OUTCOMES, or this for a cancelled one. */
const CANCELLED_KIND = 255;

/** The finished jobs met while loading (by slot in the table), to finish again in the order they finished. */
class FinishedJobs {
  #slots = new Float64Array(1024);
  #finishedAtMs = new Float64Array(1024);
  #kinds = new Uint8Array(1024);
  #count = 0;

  push(slot: number, finishedAtMs: number, kind: number): void {
    if (this.#count === this.#slots.length) {
      this.#slots = grown(this.#slots);
      this.#finishedAtMs = grown(this.#finishedAtMs);
      this.#kinds = grown(this.#kinds);
    }
    this.#slots[this.#count] = slot;
    this.#finishedAtMs[this.#count] = finishedAtMs;
    this.#kinds[this.#count++] = kind;
  }

  /** Finishes or cancels each in order of finish time, ties in id order. */
  replayInto(table: MemoryJobTable): void {
    const finishedAtMs = this.#finishedAtMs;
    const count = this.#count;
    let sorted = true;
    for (let index = 1; index < count && sorted; index++) sorted = finishedAtMs[index - 1] <= finishedAtMs[index];
    // Jobs usually finish in id order: then the order they were read in is the order, and the
    // sort (0.2 s for a million) is skipped.
    if (sorted) {
      for (let index = 0; index < count; index++) this.#replayOne(table, index);
      return;
    }
    const order = Array.from({ length: count }, (_, index) => index);
    // Finish order is nearly id order, so this sort mostly walks runs (V8's TimSort).
    // Ties in id order, which is the order they were read in.
    order.sort((left, right) => finishedAtMs[left] - finishedAtMs[right] || left - right);
    for (const index of order) this.#replayOne(table, index);
  }

  #replayOne(table: MemoryJobTable, index: number): void {
    const kind = this.#kinds[index];
    table.restoreOutcome(this.#slots[index], this.#finishedAtMs[index], kind === CANCELLED_KIND ? null : OUTCOMES[kind], INDEX_RESULT);
  }
}

function grown<T extends Float64Array | Uint8Array>(old: T): T {
  const next = new (old.constructor as new (length: number) => T)(old.length * 2);
  next.set(old);
  return next;
}
