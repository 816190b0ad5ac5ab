import type { Caller } from '../../auth/index.js';
import type {
  GoneJob, JobOutcome, JobStatusFilter, JobStore, JobSummary, JobView, NewJob, PendingWebhookEvent, StoreRecovery,
  StoredResult, WebhookRegistration,
} from '../../jobs/index.js';
import { copyWebhookRegistration, firstJobIdAt } from '../../jobs/index.js';
import { IdempotencyKeys, idempotencyRecordKey, type IdempotentJob } from './idempotency-keys.js';
import { summaryOf } from './job-summary.js';
import { MemoryJobTable } from './memory-job-table.js';

// Shared settled promises: a resolved promise can be awaited any number of times, so the hot
// calls that answer nothing or a boolean allocate nothing at all.
const DONE: Promise<void> = Promise.resolve();
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);

/**
 * The default job store: the job store contract over a MemoryJobTable, for a server that does
 * not keep jobs across a restart. Every call does its work at once, when it is made, and
 * returns a settled promise, so calls apply in the order they are made and an `await` costs
 * only the promise (shared ones for void and boolean answers).
 *
 * Beside the table it keeps what the contract asks for in plain Maps: idempotency keys (live
 * until their own `expiresAtMs`), webhook registrations (until their job leaves) and pending
 * webhook events (until `webhookEventDone`). `recover` hands those over as they are, which for
 * a new store, called before the first `add` as the contract says, is nothing.
 */
export class MemoryJobStore implements JobStore {
  readonly #table = new MemoryJobTable();
  readonly #idempotencyKeys = new IdempotencyKeys();
  readonly #webhooks = new Map<number, WebhookRegistration>();
  readonly #webhookEvents = new Map<number, PendingWebhookEvent>();
  /** Jobs submitted with HEAD, until they finish or leave. */
  readonly #noBodyJobIds = new Set<number>();
  #removalListener: ((jobId: number | null) => void) | null = null;

  constructor() {
    this.#table.onRemoved((jobId) => this.#jobRemoved(jobId));
  }

  get size(): number {
    return this.#table.size;
  }

  firstJobId(nowMs: number): number {
    return firstJobIdAt(nowMs);
  }

  recover(): Promise<StoreRecovery> {
    return Promise.resolve({
      unfinished: [],
      webhooks: Array.from(this.#webhooks, ([jobId, webhook]) => ({ jobId, webhook })),
      webhookEvents: [...this.#webhookEvents.values()],
    });
  }

  add(job: NewJob): Promise<void> {
    const { jobId, owner } = job;
    this.#table.add(jobId, owner, job.createdAtMs, job.retentionMs);
    if (job.keepNoBody) this.#noBodyJobIds.add(jobId);
    const { idempotency, webhook } = job;
    if (idempotency !== null) {
      this.#idempotencyKeys.remember(idempotencyRecordKey(owner, idempotency.key), jobId, idempotency.fingerprint, idempotency.expiresAtMs);
    }
    if (webhook !== null) this.#webhooks.set(jobId, copyWebhookRegistration(webhook));
    return DONE;
  }

  /** Nothing survives a restart here, so there is no crash to tell apart. */
  readonly startLogDirectory = null;

  markStarted(jobId: number, nowMs: number): Promise<void> {
    this.#table.markStarted(jobId, nowMs);
    return DONE;
  }

  finish(jobId: number, result: StoredResult, nowMs: number, outcome?: JobOutcome): Promise<boolean> {
    if (this.#noBodyJobIds.size > 0 && this.#noBodyJobIds.delete(jobId)) {
      result = { status: result.status, headers: result.headers, body: null };
    }
    return this.#table.finish(jobId, result, nowMs, outcome) ? TRUE : FALSE;
  }

  cancel(jobId: number, nowMs: number): Promise<boolean> {
    return this.#table.cancel(jobId, nowMs) ? TRUE : FALSE;
  }

  get(jobId: number, caller: Caller): Promise<JobView | undefined> {
    return Promise.resolve(this.#table.get(jobId, caller));
  }

  take(jobId: number, caller: Caller): Promise<JobView | undefined> {
    return Promise.resolve(this.#table.take(jobId, caller));
  }

  remove(jobId: number, caller: Caller): Promise<boolean> {
    return this.#table.remove(jobId, caller) ? TRUE : FALSE;
  }

  list(state: 'done' | 'pending', count: number, caller: Caller): Promise<number[]> {
    return Promise.resolve(this.#table.list(state, count, caller));
  }

  removeAll(caller: Caller): Promise<number> {
    return Promise.resolve(this.#table.removeAll(caller));
  }

  removeExpired(stampMs: number, caller: Caller): Promise<number> {
    return Promise.resolve(this.#table.removeExpired(stampMs, caller));
  }

  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): Promise<JobSummary[]> {
    return Promise.resolve(this.#table.history(caller, limit, beforeJobId, filter).map(summaryOf));
  }

  expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): Promise<number> {
    const removed = this.#table.expire(nowMs, onExpired);
    this.#idempotencyKeys.expire(nowMs);
    return Promise.resolve(removed);
  }

  gone(jobId: number, caller: Caller): Promise<GoneJob | undefined> {
    return Promise.resolve(this.#table.gone(jobId, caller));
  }

  historyCount(caller: Caller, filter?: JobStatusFilter): Promise<number> {
    return Promise.resolve(this.#table.count(caller, filter));
  }

  countOwnedBy(owner: string): Promise<number> {
    return Promise.resolve(this.#table.countOwnedBy(owner));
  }

  findIdempotent(owner: string, key: string, nowMs: number): Promise<IdempotentJob | undefined> {
    return Promise.resolve(this.#idempotencyKeys.find(owner, key, nowMs));
  }

  addWebhookEvent(event: PendingWebhookEvent): Promise<void> {
    this.#webhookEvents.set(event.eventId, { ...event });
    return DONE;
  }

  webhookEventDone(eventId: number): Promise<void> {
    this.#webhookEvents.delete(eventId);
    return DONE;
  }

  onRemoved(listener: (jobId: number | null) => void): void {
    this.#removalListener = listener;
  }

  close(): Promise<void> {
    return DONE;
  }

  #jobRemoved(jobId: number | null): void {
    if (jobId === null) {
      this.#webhooks.clear();
      this.#noBodyJobIds.clear();
    } else {
      // Most jobs have neither: skip the hash lookups then.
      if (this.#webhooks.size > 0) this.#webhooks.delete(jobId);
      if (this.#noBodyJobIds.size > 0) this.#noBodyJobIds.delete(jobId);
    }
    this.#removalListener?.(jobId);
  }
}
