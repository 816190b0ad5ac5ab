import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import type { JobDetails, PendingWebhookEvent, StoredRequest, WebhookRegistration } from '../../jobs/index.js';

/** The named databases of one store environment (`data.mdb` in the store's directory). */
export const DATABASE_NAMES = ['jobs', 'results', 'requests', 'gone', 'owners', 'types', 'details', 'idempotency', 'webhooks', 'webhookEvents', 'state'] as const;

/** An idempotency record as stored, keyed by `owner\nkey`. */
export interface StoredIdempotencyKey {
  jobId: number;
  fingerprint: string;
  expiresAtMs: number;
}

export interface StoreDatabases {
  root: RootDatabase;
  /** Job id → 48-byte job record (store-records.ts; 44 bytes in format 1). */
  jobs: Database<Buffer, number>;
  /** Job id → result record, for done jobs. */
  results: Database<Buffer, number>;
  /** Job id → the request, for pending, failed and cancelled jobs: read at `recover` and `reopen`. */
  requests: Database<StoredRequest, number>;
  /** Job id → gone record: the newest removals. */
  gone: Database<Buffer, number>;
  /** Owner index (in job and gone records) → user name. */
  owners: Database<string, number>;
  /** Type index (in job records, from 1) → operation type. */
  types: Database<string, number>;
  /** Job id → what finish or cancel stored beside the outcome, for the jobs that have any. */
  details: Database<JobDetails, number>;
  idempotency: Database<StoredIdempotencyKey, string>;
  webhooks: Database<WebhookRegistration, number>;
  webhookEvents: Database<PendingWebhookEvent, number>;
  /** `format` → the format version. */
  state: Database<number, string>;
}

/**
 * Opens (creating when missing) the environment.
 *
 * lmdb-js's default per-turn batching: the writes of one event-loop turn, from every store call
 * and every request of that turn, commit in one transaction (group commit). Each call's writes
 * also sit in one `batch()`, and the store answers a call from that batch's promise. lmdb-js
 * hands every single put and remove a promise of its own, which a failed commit (a full disk)
 * rejects: nobody holds those, so each gets a no-op handler here, or the rejection would take
 * the process down. Measured with store + fetch over HTTP (50 connections): 4.6k ops/s with a
 * transaction per call (eventTurnBatching off), 5.7-6.1k with per-turn batching.
 */
export function openStoreDatabases(directory: string): StoreDatabases {
  const root = open({ path: directory, maxDbs: DATABASE_NAMES.length + 1 });
  return {
    root,
    jobs: quiet(root.openDB<Buffer, number>({ name: 'jobs', encoding: 'binary' })),
    results: quiet(root.openDB<Buffer, number>({ name: 'results', encoding: 'binary' })),
    requests: quiet(root.openDB<StoredRequest, number>({ name: 'requests', encoding: 'msgpack' })),
    gone: quiet(root.openDB<Buffer, number>({ name: 'gone', encoding: 'binary' })),
    owners: quiet(root.openDB<string, number>({ name: 'owners', encoding: 'string' })),
    types: quiet(root.openDB<string, number>({ name: 'types', encoding: 'string' })),
    details: quiet(root.openDB<JobDetails, number>({ name: 'details', encoding: 'msgpack' })),
    idempotency: quiet(root.openDB<StoredIdempotencyKey, string>({ name: 'idempotency', encoding: 'msgpack' })),
    webhooks: quiet(root.openDB<WebhookRegistration, number>({ name: 'webhooks', encoding: 'msgpack' })),
    webhookEvents: quiet(root.openDB<PendingWebhookEvent, number>({ name: 'webhookEvents', encoding: 'msgpack' })),
    state: quiet(root.openDB<number, string>({ name: 'state', encoding: 'msgpack' })),
  };
}

function ignore(): void {}

/** The database with put and remove whose own promises never go unhandled (the caller's batch reports the commit). */
function quiet<K extends Key, V>(database: Database<V, K>): Database<V, K> {
  const put = database.put.bind(database);
  const remove = database.remove.bind(database);
  database.put = ((...args: Parameters<typeof put>) => {
    const written = put(...args);
    written.catch(ignore);
    return written;
  }) as typeof database.put;
  database.remove = ((...args: Parameters<typeof remove>) => {
    const removed = remove(...args);
    removed.catch(ignore);
    return removed;
  }) as typeof database.remove;
  return database;
}

const LMDB_COMMIT_FAILED = 'Commit failed (see commitError for details)';
let droppedCommitListener: ((reason: unknown) => void) | null = null;
let openStores = 0;

/**
 * While a store is open: a rejection lmdb-js left unhandled for a failed commit is dropped (the
 * writes of that commit were rejected to their callers, who answer 507); any other unhandled
 * rejection is thrown on, so that it takes the process down as Node's default would.
 */
export function ignoreDroppedCommitRejections(): () => void {
  if (openStores++ === 0) {
    droppedCommitListener = (reason: unknown): void => {
      const commitError = (reason as { commitError?: unknown } | null)?.commitError;
      if (reason instanceof Error && reason.message === LMDB_COMMIT_FAILED && commitError instanceof Promise) {
        commitError.catch(ignore);
        return;
      }
      throw reason;
    };
    process.on('unhandledRejection', droppedCommitListener);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--openStores === 0 && droppedCommitListener !== null) {
      process.off('unhandledRejection', droppedCommitListener);
      droppedCommitListener = null;
    }
  };
}
