import type { JobLogLine, JobWarning, PhaseProgress } from '../../engine/index.js';
import type { Caller } from '../auth/index.js';

/** A finished job's HTTP answer as a store keeps it. */
export interface StoredResult {
  status: number;
  /** Flat `[name, value, name, value, ...]`. Arrays a table returns may be shared and frozen: never mutate them. */
  headers: string[];
  /** Body bytes, or null for none. Views a table returns may alias its storage: never mutate them. */
  body: Uint8Array | null;
}

/** `pending` covers queued and running; `done` and `cancelled` are final. */
export type JobState = 'pending' | 'done' | 'cancelled';

/**
 * How a `done` job ended: its handler answered, answered with warnings (it did its work in
 * part), failed (an error result), or ran past its deadline.
 */
export type JobOutcome = 'completed' | 'failed' | 'timedOut' | 'completedWithErrors';

/** What `history` can filter on. */
export type JobStatusFilter = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'completedWithErrors';

/** The last progress a job reported, as it is kept with the job. */
export interface StoredProgress {
  current: number | null;
  total: number | null;
  message: string | null;
  phase: string | null;
  /** Null when the job named no phases. */
  phases: PhaseProgress[] | null;
}

/** One failed attempt of a job that was run again (a retry policy, a worker crash, a retry request). */
export interface AttemptRecord {
  /** 1 for the first run. */
  attempt: number;
  /** Epoch milliseconds; 0 when it never started. */
  startedAtMs: number;
  endedAtMs: number;
  /** How it ended: a failure code (`ERR_HANDLER`, ...) or `CANCELLED`. */
  code: string;
  message: string;
  /** The HTTP status its answer had, when it failed with one. */
  status: number | null;
}

/**
 * What a job reported beside its result, and what the operations surface keeps of its life:
 * stored with the job when it ends, and gone with it. Every field is null when there is nothing.
 */
export interface JobDetails {
  progress: StoredProgress | null;
  warnings: JobWarning[] | null;
  /** The newest lines (bounded), oldest first; `truncated` when older ones were cut. */
  logs: { lines: JobLogLine[]; truncated: boolean } | null;
  /** Earlier attempts, oldest first, when the job ran more than once. */
  attempts: AttemptRecord[] | null;
  /** The first cancel request, when a client cancelled it. */
  cancel: { atMs: number; reason: string } | null;
  /** How a failed job's handler described its error: whether a retry may help, and when. */
  failure: { code: string; retryable: boolean | null; retryAfterMs: number | null } | null;
}

/** One stored job as seen at the moment of the call (a snapshot, not a live handle). */
export interface JobView {
  jobId: number;
  owner: string;
  state: JobState;
  /** Epoch milliseconds of `add`. */
  createdAtMs: number;
  /** Epoch milliseconds of `markStarted`; 0 until the job ran. */
  startedAtMs: number;
  /** Epoch milliseconds of `finish` or `cancel`; 0 while pending. */
  finishedAtMs: number;
  /** How a done job ended; null while pending and for cancelled jobs. */
  outcome: JobOutcome | null;
  /** Epoch milliseconds at which `expire` removes it; 0 when it has no retention or is pending. */
  expiresAtMs: number;
  /** The result of a `done` job; null while pending and for cancelled jobs. */
  result: StoredResult | null;
  /** The operation's type (`NewJob.type`); null for a job stored without one. */
  type: string | null;
  /** What `finish` or `cancel` stored beside the outcome; null while pending and when nothing was. */
  details: JobDetails | null;
  /**
   * Its webhook as a store that several nodes share keeps it (`recordWebhookDeliveries`), so
   * that every node shows the same registration and attempts; absent in a store of one server,
   * whose own registrations answer.
   */
  webhook?: SharedWebhook;
}

/** A job's webhook in a shared store: the registration without its secret, and the attempts of the node that delivers it. */
export interface SharedWebhook {
  url: string;
  events: string[];
  /** The delivering node's attempts (DeliveryAttempt records), oldest first. */
  deliveries: ReadonlyArray<Record<string, unknown>>;
}

/** A job that was stored and is gone: fetched, deleted, or removed when its retention ran out. */
export interface GoneJob {
  jobId: number;
  /** Epoch milliseconds at which its retention ran out; 0 when it was fetched or deleted. */
  expiredAtMs: number;
}

/** What a store keeps of a job's request: enough to run it again after a restart. */
export interface StoredRequest {
  method: string;
  path: string;
  query: string;
  /** Flat `[name, value, ...]`, lower-case names. */
  headers: string[];
  body: Uint8Array | null;
  /** `ctx.user` of the handler; null with authentication off. */
  user: { name: string; superuser: boolean } | null;
}

/** An `Idempotency-Key` a job was submitted with: the same owner, key and request within `expiresAtMs` replays it. */
export interface IdempotencyRecord {
  key: string;
  /** SHA-256 of method, path, query and body (`requestFingerprint`, operations/request-fingerprint.ts). */
  fingerprint: string;
  expiresAtMs: number;
}

/** A webhook registered with `x-callback-url` on submit. */
export interface WebhookRegistration {
  url: string;
  /** The events it asked for (`x-callback-events`), e.g. `COMPLETED`, `PROGRESS`. */
  events: string[];
  /**
   * Its own signing secret (`x-callback-secret`), used instead of the server's; absent when it
   * gave none (and in records written before it existed). Kept so that deliveries resumed after
   * a restart are signed alike; never part of an answer, an event or a log line.
   */
  secret?: string;
}

/** A copy a store may keep: the caller's arrays are not shared, and an absent secret stays absent. */
export function copyWebhookRegistration(registration: WebhookRegistration): WebhookRegistration {
  const copy: WebhookRegistration = { url: registration.url, events: [...registration.events] };
  if (registration.secret !== undefined) copy.secret = registration.secret;
  return copy;
}

/** A new stored job, as `add` records it. */
export interface NewJob {
  jobId: number;
  owner: string;
  createdAtMs: number;
  /**
   * > 0: once finished, `expire` removes it after that long (operations submitted with
   * `Prefer: respond-async`); 0: it stays until fetched or deleted (ArangoDB's rule).
   */
  retentionMs: number;
  request: StoredRequest;
  /** Submitted with HEAD: its result keeps status and headers, never a body. */
  keepNoBody: boolean;
  idempotency: IdempotencyRecord | null;
  webhook: WebhookRegistration | null;
  /** What the operations surface shows as its `type`: the route's name, or `METHOD /path/pattern`. */
  type: string;
  /**
   * A cluster's store: no node claims it yet, it waits in the shared queue for a node with a
   * free worker (the one that took it was busy). Other stores ignore it.
   */
  shared?: boolean;
}

/** A failed or cancelled job made pending again by `reopen`: what it takes to run it again. */
export interface ReopenedJob {
  request: StoredRequest;
  /** What its ended run had stored (earlier attempts, logs), for the new run to carry on. */
  details: JobDetails | null;
}

/** A job that was pending when the store was last closed or the process died. */
export interface UnfinishedJob {
  jobId: number;
  owner: string;
  createdAtMs: number;
  request: StoredRequest;
  keepNoBody: boolean;
  webhook: WebhookRegistration | null;
  /**
   * True when its handler may have run, in part or whole: a worker logged its start (see
   * `startLogDirectory`; only jobs of routes that are not idempotent are logged). False: it
   * never started, or its route is idempotent.
   */
  dispatched: boolean;
}

/** A webhook delivery not yet done (delivered, dropped or given up): it resumes after a restart. */
export interface PendingWebhookEvent {
  /** Unique per store, increasing. */
  eventId: number;
  jobId: number;
  url: string;
  event: string;
  payload: unknown;
}

/** What a store opened on existing data hands the server to pick up where it stopped. */
export interface StoreRecovery {
  unfinished: UnfinishedJob[];
  /** Webhook registrations of jobs still stored (finished ones may still be fetched and watched). */
  webhooks: Array<{ jobId: number; webhook: WebhookRegistration }>;
  webhookEvents: PendingWebhookEvent[];
}

/** A job's fields without its result and details, as lists and history pages return it. */
export type JobSummary = Omit<JobView, 'result' | 'details'>;

/**
 * The store of stored jobs (`x-arango-async: store` and operations): the one seam between
 * the server and where jobs live. The memory store is the default; the LMDB store makes jobs
 * survive a restart (`--database.directory`); a shared store (Redis) is the next one.
 *
 * It owns everything that must survive a restart or be shared between nodes: job records
 * with the request to run them again, results, the next job id (`firstJobId`), idempotency
 * keys, webhook registrations and undelivered webhook events, and what the operations
 * surface needs after a job is gone (`gone`).
 *
 * **Ordering.** Calls are applied in the order they are made, whether or not the promise of
 * an earlier one resolved; a write's promise resolves once the write is committed (for a
 * durable store: written through, and on disk when it syncs). A read made after a write's
 * promise resolved sees that write; one made before may or may not.
 *
 * **Visibility.** Every call taking a `Caller` applies ArangoDB's AsyncJobManager rule: a job
 * is visible only to its owner and to superusers; to anyone else it does not exist
 * (undefined, false, left out of lists). Calls without a caller are the engine's side.
 *
 * **Views** are snapshots, not live handles: taken when the call was answered and never
 * changed after. Their result bytes stay valid and unchanged after the job is removed; they
 * may alias the store's memory, so never mutate them, and header arrays may be shared and frozen.
 */
export interface JobStore {
  /**
   * The id to give the first job of this run: above every id the store ever recorded, and at
   * least `firstJobIdAt(nowMs)`, so that ids keep increasing across restarts even if the wall
   * clock stepped back.
   */
  firstJobId(nowMs: number): number;
  /**
   * What was left unfinished by the last run (empty for a new or in-memory store). Call once, before `add`.
   * Those jobs stay stored, pending and queued again (`startedAtMs` 0), under their ids.
   */
  recover(): Promise<StoreRecovery>;

  /** Records a new pending job. Ids must arrive strictly increasing (lists rely on it). */
  add(job: NewJob): Promise<void>;
  /**
   * Where the engine's workers log the start of each job whose route is not idempotent
   * (`EngineOptions.startLogDirectory`), before its handler runs; null for a store that does
   * not survive a restart. `recover()` reads the logs, so that after a crash a job that may
   * have run (`UnfinishedJob.dispatched`) is told apart from one that never left the queue,
   * and the store deletes what it no longer needs. A shared store keeps one per node.
   */
  readonly startLogDirectory: string | null;
  /** The job was taken by a worker. No-op for unknown or finished jobs. */
  markStarted(jobId: number, nowMs: number): Promise<void>;
  /**
   * Stores the result of a pending job and marks it done. The store copies what it keeps, so
   * the caller may reuse `result` and its buffers once the call returned. Resolves false when
   * the result is dropped: the job was removed meanwhile, or was cancelled (cancel is final).
   */
  finish(jobId: number, result: StoredResult, nowMs: number, outcome?: JobOutcome, details?: JobDetails | null): Promise<boolean>;
  /**
   * Marks a pending job cancelled (fetch then answers 410), with `details` when given. A job
   * already done keeps its result, as cancelling a finished job is a no-op in ArangoDB. False
   * if the id is unknown.
   */
  cancel(jobId: number, nowMs: number, details?: JobDetails | null): Promise<boolean>;
  /**
   * A retry under the same id: makes a failed, timed-out or cancelled job pending again
   * (queued, its result and details dropped) and returns its request and the details it had.
   * Undefined when the job is unknown, pending or completed (with or without errors). A store
   * keeps the request of every job until it completes, so a failed one can always run again.
   */
  reopen(jobId: number, nowMs: number): Promise<ReopenedJob | undefined>;

  /** Status lookup (`GET /_api/job/{id}`), with the result; does not remove. */
  get(jobId: number, caller: Caller): Promise<JobView | undefined>;
  /**
   * Fetch (`PUT /_api/job/{id}`): removes and returns a done or cancelled job, resolving once
   * the removal is committed (a fetched result never comes back); returns a pending one
   * without removing it.
   */
  take(jobId: number, caller: Caller): Promise<JobView | undefined>;
  /** `DELETE /_api/job/{id}`: removes in any state; a pending job keeps running and its result is dropped at finish. */
  remove(jobId: number, caller: Caller): Promise<boolean>;
  /** Ids of the caller's visible jobs in the state, ascending, at most `count`; `done` includes cancelled jobs. */
  list(state: 'done' | 'pending', count: number, caller: Caller): Promise<number[]>;
  /** `DELETE /_api/job/all`: removes the caller's jobs (a superuser's: all) in any state; resolves how many. */
  removeAll(caller: Caller): Promise<number>;
  /** `DELETE /_api/job/expired`: removes visible done or cancelled jobs that finished before `stampMs`. */
  removeExpired(stampMs: number, caller: Caller): Promise<number>;
  /**
   * Newest first: at most `limit` jobs visible to the caller with ids below `beforeJobId`
   * (Infinity for the first page), optionally only those matching `filter`.
   */
  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): Promise<JobSummary[]>;
  /**
   * Removes finished jobs whose retention ran out by `nowMs`, and idempotency keys past their
   * time, telling `onExpired` each removed job and when it expired.
   */
  expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): Promise<number>;
  /**
   * A removed job the caller could see (its owner, or a superuser), while the store remembers
   * it (at least the 100,000 most recent removals); undefined for anyone else, as for an id
   * never issued, so that nobody learns which ids are other users' jobs.
   */
  gone(jobId: number, caller: Caller): Promise<GoneJob | undefined>;
  /** Jobs stored for `owner`, in any state (the per-user bound on unfetched results). */
  countOwnedBy(owner: string): Promise<number>;
  /** How many jobs `history` could page through for the caller with `filter` (kept as counts, not counted). */
  historyCount(caller: Caller, filter?: JobStatusFilter): Promise<number>;
  /**
   * The job a live `Idempotency-Key` of `owner` names, with the fingerprint of the request it
   * was first used for; undefined when the key is unknown or expired. A key lives until its
   * `expiresAtMs`, also after its job left the store.
   */
  findIdempotent(owner: string, key: string, nowMs: number): Promise<{ jobId: number; fingerprint: string } | undefined>;

  /** Records a webhook delivery to make (resumed after a restart until `webhookEventDone`). */
  addWebhookEvent(event: PendingWebhookEvent): Promise<void>;
  /** The delivery ended: delivered, dropped, or given up after its attempts. */
  webhookEventDone(eventId: number): Promise<void>;
  /**
   * A store that several nodes share keeps the delivery attempts of a job's webhook with the
   * job (the node that runs it delivers), for every node's status answers (`JobView.webhook`);
   * absent in a store of one server.
   */
  recordWebhookDeliveries?(jobId: number, deliveries: ReadonlyArray<object>): Promise<void>;

  /**
   * Sets the one listener told about every job that leaves the store, by fetch, delete or
   * expiry, after it left: its id, or null when a superuser's `removeAll` dropped all at once.
   * The operations layer uses it to end what it keeps per job (webhook registrations, retries).
   */
  onRemoved(listener: (jobId: number | null) => void): void;
  /** Jobs stored, in any state, for all owners (as this process knows them). */
  readonly size: number;
  /** Writes what is pending and releases the store (files, locks, connections). */
  close(): Promise<void>;
}
