import type { Caller } from '../../auth/index.js';
import type {
  GoneJob, JobDetails, JobOutcome, JobStatusFilter, JobStore, JobSummary, JobView, NewJob, PendingWebhookEvent, ReopenedJob,
  StoreRecovery, StoredRequest, StoredResult, WebhookRegistration,
} from '../../jobs/index.js';
import { copyWebhookRegistration, firstJobIdAt } from '../../jobs/index.js';
import { ANY_OWNER } from '../../auth/index.js';
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
  /**
   * Requests of jobs that may run again (`reopen`): pending ones (the engine holds the same
   * object meanwhile, so this costs a Map entry) and failed or cancelled ones, until they leave.
   */
  readonly #requests = new Map<number, StoredRequest>();
  /** What finish or cancel stored beside the outcome; most jobs have none. */
  readonly #details = new Map<number, JobDetails>();
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
    this.#table.add(jobId, owner, job.createdAtMs, job.retentionMs, job.type);
    this.#requests.set(jobId, job.request);
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

  finish(jobId: number, result: StoredResult, nowMs: number, outcome: JobOutcome = 'completed', details: JobDetails | null = null): Promise<boolean> {
    if (this.#noBodyJobIds.size > 0 && this.#noBodyJobIds.has(jobId)) {
      result = { status: result.status, headers: result.headers, body: null };
    }
    if (!this.#table.finish(jobId, result, nowMs, outcome)) return FALSE;
    // A completed job never runs again; a failed one keeps what a retry needs.
    if (outcome === 'completed' || outcome === 'completedWithErrors') {
      this.#requests.delete(jobId);
      if (this.#noBodyJobIds.size > 0) this.#noBodyJobIds.delete(jobId);
    }
    if (details !== null) this.#details.set(jobId, details);
    return TRUE;
  }

  cancel(jobId: number, nowMs: number, details: JobDetails | null = null): Promise<boolean> {
    const pending = this.#table.get(jobId, ANY_OWNER)?.state === 'pending';
    if (!this.#table.cancel(jobId, nowMs)) return FALSE;
    if (pending && details !== null) this.#details.set(jobId, details);
    return TRUE;
  }

  reopen(jobId: number, _nowMs: number): Promise<ReopenedJob | undefined> {
    const request = this.#requests.get(jobId);
    if (request === undefined || !this.#table.reopen(jobId)) return Promise.resolve(undefined);
    const details = this.#details.get(jobId) ?? null;
    this.#details.delete(jobId);
    return Promise.resolve({ request, details });
  }

  get(jobId: number, caller: Caller): Promise<JobView | undefined> {
    return Promise.resolve(this.#withDetails(this.#table.get(jobId, caller)));
  }

  take(jobId: number, caller: Caller): Promise<JobView | undefined> {
    // Read before the take: the removal it makes drops the details.
    const details = this.#details.size > 0 ? this.#details.get(jobId) ?? null : null;
    const view = this.#table.take(jobId, caller);
    if (view !== undefined) view.details = details;
    return Promise.resolve(view);
  }

  #withDetails(view: JobView | undefined): JobView | undefined {
    if (view !== undefined && this.#details.size > 0) view.details = this.#details.get(view.jobId) ?? null;
    return view;
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
      this.#requests.clear();
      this.#details.clear();
    } else {
      // Most jobs have none of these: skip the hash lookups then.
      if (this.#webhooks.size > 0) this.#webhooks.delete(jobId);
      if (this.#noBodyJobIds.size > 0) this.#noBodyJobIds.delete(jobId);
      if (this.#requests.size > 0) this.#requests.delete(jobId);
      if (this.#details.size > 0) this.#details.delete(jobId);
    }
    this.#removalListener?.(jobId);
  }
}
