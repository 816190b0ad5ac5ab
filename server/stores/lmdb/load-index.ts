import { ANY_OWNER } from '../../auth/index.js';
import type { StoredResult, WebhookRegistration } from '../../jobs/index.js';
import { IdempotencyKeys, MemoryJobTable } from '../memory/index.js';
import type { StoreDatabases } from './store-databases.js';
import { StoreCorruptError } from './store-errors.js';
import {
  CANCELLED, decodeJobRecord, goneExpiredAtMs, goneOwnerIndex, GONE_RECORD_BYTES, KEEP_NO_BODY_FLAG, OUTCOMES, PENDING,
  type JobRecord,
} from './store-records.js';

/** Results above this many bytes are read off the main thread (prefetched first). */
export const LARGE_RESULT_BYTES = 64 * 1024;

/** The index stands in for bodies with this: `get` and `take` read the real result from LMDB. */
export const INDEX_RESULT: StoredResult = Object.freeze({ status: 0, headers: Object.freeze([]) as unknown as string[], body: null });

/** What the store keeps in memory, rebuilt from the databases at open. */
export interface LoadedIndex {
  table: MemoryJobTable;
  ownerNames: string[];
  largeResultIds: Set<number>;
  /** Pending jobs submitted with HEAD. */
  noBodyJobIds: Set<number>;
  webhooks: Map<number, WebhookRegistration>;
  idempotencyKeys: IdempotencyKeys;
  /** The highest id in the job and gone records; 0 for an empty store. */
  lastJobId: number;
  goneCount: number;
}

/**
 * Rebuilds the in-memory index: the gone records first (each added and removed again, so the
 * table remembers it), then every job record in id order, then the finished ones finished
 * again in the order they finished (the table's finished list must be in time order for
 * `removeExpired` and `expire` to stop early). Only the 44-byte job records are read per job:
 * requests, results and headers stay on disk.
 */
export function loadIndex(databases: StoreDatabases, dataPath: string): LoadedIndex {
  const table = new MemoryJobTable();
  const ownerNames: string[] = [];
  for (const { key, value } of databases.owners.getRange()) ownerNames[key] = value;
  const ownerName = (ownerIndex: number, jobId: number): string => {
    const name = ownerNames[ownerIndex];
    if (name === undefined) throw new StoreCorruptError(dataPath, `job ${jobId} names owner ${ownerIndex}, which is not recorded`);
    return name;
  };

  let lastJobId = 0;
  let goneCount = 0;
  for (const { key: jobId, value } of databases.gone.getRange()) {
    if (value.length !== GONE_RECORD_BYTES) throw new StoreCorruptError(dataPath, `gone record ${jobId} has ${value.length} bytes`);
    const owner = ownerName(goneOwnerIndex(value), jobId);
    const expiredAtMs = goneExpiredAtMs(value);
    table.add(jobId, owner, 0, expiredAtMs);
    if (expiredAtMs > 0) {
      table.finish(jobId, INDEX_RESULT, 0);
      table.expire(Infinity, noteExpired);
    } else table.remove(jobId, ANY_OWNER);
    lastJobId = jobId;
    goneCount++;
  }

  const largeResultIds = new Set<number>();
  const noBodyJobIds = new Set<number>();
  const finished = new FinishedJobs();
  const record: JobRecord = { state: PENDING, outcome: 0, flags: 0, ownerIndex: 0, createdAtMs: 0, startedAtMs: 0, finishedAtMs: 0, retentionMs: 0, resultBytes: 0 };
  for (const { key: jobId, value } of databases.jobs.getRange()) {
    if (!decodeJobRecord(value, record)) throw new StoreCorruptError(dataPath, `job record ${jobId} is not one this server wrote`);
    table.add(jobId, ownerName(record.ownerIndex, jobId), record.createdAtMs, record.retentionMs);
    if (record.state === PENDING) {
      if ((record.flags & KEEP_NO_BODY_FLAG) !== 0) noBodyJobIds.add(jobId);
    } else {
      if (record.startedAtMs !== 0) table.markStarted(jobId, record.startedAtMs);
      if (record.resultBytes > LARGE_RESULT_BYTES) largeResultIds.add(jobId);
      finished.push(jobId, record.finishedAtMs, record.state === CANCELLED ? CANCELLED_KIND : record.outcome);
    }
    if (jobId > lastJobId) lastJobId = jobId;
  }
  finished.replayInto(table);

  const idempotencyKeys = new IdempotencyKeys();
  const keys = [...databases.idempotency.getRange()].sort((left, right) => left.value.expiresAtMs - right.value.expiresAtMs);
  for (const { key, value } of keys) idempotencyKeys.remember(key, value.jobId, value.fingerprint, value.expiresAtMs);
  const webhooks = new Map<number, WebhookRegistration>();
  for (const { key, value } of databases.webhooks.getRange()) webhooks.set(key, value);
  return { table, ownerNames, largeResultIds, noBodyJobIds, webhooks, idempotencyKeys, lastJobId, goneCount };
}

function noteExpired(): void {
  // Replaying a gone record: the table records it as gone, nobody else is told.
}

/** A finished job's kind while loading: an index into OUTCOMES, or this for a cancelled one. */
const CANCELLED_KIND = 255;

/** The finished jobs met while loading, to finish again in the order they finished. */
class FinishedJobs {
  #jobIds = new Float64Array(1024);
  #finishedAtMs = new Float64Array(1024);
  #kinds = new Uint8Array(1024);
  #count = 0;

  push(jobId: number, finishedAtMs: number, kind: number): void {
    if (this.#count === this.#jobIds.length) {
      this.#jobIds = grown(this.#jobIds);
      this.#finishedAtMs = grown(this.#finishedAtMs);
      this.#kinds = grown(this.#kinds);
    }
    this.#jobIds[this.#count] = jobId;
    this.#finishedAtMs[this.#count] = finishedAtMs;
    this.#kinds[this.#count++] = kind;
  }

  /** Finishes or cancels each in order of finish time, ties in id order. */
  replayInto(table: MemoryJobTable): void {
    const jobIds = this.#jobIds;
    const finishedAtMs = this.#finishedAtMs;
    const order = Array.from({ length: this.#count }, (_, index) => index);
    // Finish order is nearly id order, so this sort mostly walks runs (V8's TimSort).
    order.sort((left, right) => finishedAtMs[left] - finishedAtMs[right] || jobIds[left] - jobIds[right]);
    for (const index of order) {
      const kind = this.#kinds[index];
      if (kind === CANCELLED_KIND) table.cancel(jobIds[index], finishedAtMs[index]);
      else table.finish(jobIds[index], INDEX_RESULT, finishedAtMs[index], OUTCOMES[kind]);
    }
  }
}

function grown<T extends Float64Array | Uint8Array>(old: T): T {
  const next = new (old.constructor as new (length: number) => T)(old.length * 2);
  next.set(old);
  return next;
}
