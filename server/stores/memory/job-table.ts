import type { Caller } from '../../auth/index.js';
import type { GoneJob, JobOutcome, JobStatusFilter, JobView, StoredResult } from '../../jobs/index.js';

/**
 * The synchronous job table: the memory store's whole state, and the index the LMDB store
 * keeps in memory (ids, owner, state, timestamps; its bodies live on disk). The server talks
 * to stores only through the async `JobStore` (jobs/job-store.ts); this is what two of them
 * share underneath.
 *
 * Every call taking a `Caller` applies ArangoDB's AsyncJobManager rule: a job is visible
 * only to its owner and to superusers; to anyone else it does not exist (undefined,
 * false, left out of lists). Calls without a caller are the engine's side and trust the id.
 * The in-memory table is the default; durable (LMDB) and shared (Redis) stores will
 * implement the same interface.
 */
export interface JobTable {
  /**
   * Records a new pending job. Ids must arrive strictly increasing (lists rely on it).
   * `retentionMs` > 0: once finished, `expire` removes it after that long (operations);
   * 0: it stays until fetched or deleted (ArangoDB's rule for `x-arango-async: store`).
   */
  add(jobId: number, owner: string, nowMs: number, retentionMs?: number, type?: string | null): void;
  /** Makes a failed or cancelled job pending again, queued, under its id; false when unknown, pending or completed. */
  reopen(jobId: number): boolean;
  /** The job was taken by a worker. No-op for unknown or finished jobs. */
  markStarted(jobId: number, nowMs: number): void;
  /**
   * Stores the result of a pending job and marks it done. The table copies what it keeps,
   * so the caller may reuse `result` and its buffers afterwards. Returns false when the
   * result is dropped: the job was removed meanwhile, or was cancelled (cancel is final).
   */
  finish(jobId: number, result: StoredResult, nowMs: number, outcome?: JobOutcome): boolean;
  /**
   * Marks a pending job cancelled (fetch then answers 410). A job already done keeps its
   * result, as cancelling a finished job is a no-op in ArangoDB. False if the id is unknown.
   */
  cancel(jobId: number, nowMs: number): boolean;
  /** Status lookup (`GET /_api/job/{id}`); does not remove. */
  get(jobId: number, caller: Caller): JobView | undefined;
  /** Fetch (`PUT /_api/job/{id}`): removes and returns a done or cancelled job; returns a pending one without removing it. */
  take(jobId: number, caller: Caller): JobView | undefined;
  /** `DELETE /_api/job/{id}`: removes in any state; a pending job keeps running and its result is dropped at finish. */
  remove(jobId: number, caller: Caller): boolean;
  /** Ids of the caller's visible jobs in the state, ascending, at most `count`; `done` includes cancelled jobs. */
  list(state: 'done' | 'pending', count: number, caller: Caller): number[];
  /** `DELETE /_api/job/all`: removes the caller's jobs (a superuser's: all) in any state; returns how many. */
  removeAll(caller: Caller): number;
  /** `DELETE /_api/job/expired`: removes visible done or cancelled jobs that finished before `stampMs`; returns how many. */
  removeExpired(stampMs: number, caller: Caller): number;
  /**
   * Newest first: at most `limit` jobs visible to the caller with ids below `beforeJobId`
   * (Infinity for the first page), optionally only those matching `filter`. Costs O(limit)
   * plus the jobs skipped by the filter.
   */
  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): JobView[];
  /** Removes finished jobs whose retention ran out by `nowMs`, telling `onExpired` each id and when it expired. */
  expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): number;
  /**
   * A removed job the caller could see (its owner, or a superuser), while the table remembers
   * it (at least the 100,000 most recent removals); undefined for anyone else, as for an id
   * never issued, so that nobody learns which ids are other users' jobs.
   */
  gone(jobId: number, caller: Caller): GoneJob | undefined;
  /** Jobs visible to the caller, optionally only those matching `filter`: from counts kept per owner and status, O(owners) at most. */
  count(caller: Caller, filter?: JobStatusFilter): number;
  /** Jobs stored for `owner`, in any state (the per-user bound on unfetched results). */
  countOwnedBy(owner: string): number;
  /**
   * Sets the one listener told about every job that leaves the table, by fetch, delete or
   * expiry, after it left: its id, or null when a superuser's `removeAll` dropped all jobs at once.
   * The operations layer uses it to end what it keeps per job (webhook registrations, retries).
   */
  onRemoved(listener: (jobId: number | null) => void): void;
  /** Jobs stored, in any state, for all owners. */
  readonly size: number;
}
