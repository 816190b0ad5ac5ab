import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ANY_OWNER, type Caller } from '../../auth/index.js';
import type {
  GoneJob, JobDetails, JobOutcome, JobStatusFilter, JobStore, JobSummary, JobView, NewJob, PendingWebhookEvent, ReopenedJob,
  StoreRecovery, StoredResult, UnfinishedJob, WebhookRegistration,
} from '../../jobs/index.js';
import { copyWebhookRegistration, firstJobIdAt } from '../../jobs/index.js';
import { idempotencyRecordKey, summaryOf, type IdempotencyKeys, type IdempotentJob, type MemoryJobTable } from '../memory/index.js';
import { StartLogs } from '../start-logs.js';
import { INDEX_RESULT, IndexBuilder, LARGE_RESULT_BYTES, type LoadedIndex } from './load-index.js';
import { ResultReader } from './result-reader.js';
import { ignoreDroppedCommitRejections, openStoreDatabases, type StoreDatabases } from './store-databases.js';
import { StoreCorruptError, StoreFormatError } from './store-errors.js';
import { storeWriteError } from './store-write-error.js';
import { StoreLock } from './store-lock.js';
import {
  CANCELLED, decodeJobRecord, DONE, encodeGoneRecord, encodeJobRecord, encodeResult, HAS_DETAILS_FLAG, KEEP_NO_BODY_FLAG, OUTCOMES, PENDING,
  type JobRecord, type RecordState,
} from './store-records.js';
import { verifyStoreFile } from './verify-store-file.js';

/** The newest format this server writes and reads (2: job records carry a type; format 1 stores are read as they are). */
const FORMAT = 2;
/** Gone records kept on disk: the newest by id; the lowest are pruned once this many more piled up. */
const GONE_KEPT = 100_000;
const GONE_PRUNE_SLACK = 10_000;

const DONE_PROMISE: Promise<void> = Promise.resolve();
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);

export interface LmdbJobStoreOptions {
  /** Where the store lives (`data.mdb`, `lock.mdb`, `dispatched.log`, `lock.pid`); created when missing. */
  directory: string;
  /**
   * Resolve each write only once it is fsynced, so it survives a power loss too; without it a
   * write resolves at commit, which survives the process (kill -9 included). Default false.
   */
  waitForSync?: boolean;
}

/**
 * The durable job store (`--database.directory`): jobs, results and what comes with them in
 * an LMDB environment, so that they survive a restart.
 *
 * An in-memory index, a MemoryJobTable holding every job's owner, state, times and outcome
 * but no result (finished with an empty stand-in), answers lists, history, gone jobs, counts
 * and states; result status, headers and body are read from LMDB by `get` and `take`, results
 * up to 64 KiB synchronously (a copy out of the memory map), larger ones after `prefetch`
 * touched their pages on lmdb-js's thread. So the server can hold more results than fit in RAM.
 *
 * Each call updates the index when it is made and writes its records in one lmdb-js batch, in
 * call order; its promise resolves when that batch committed (with `waitForSync`: fsynced).
 * `finish` is the exception: the index marks the job done only once the result is committed,
 * so a done state is never visible before its result is on disk; a `remove` made meanwhile
 * wins (the job is gone; the result's records are deleted after they were written), and a
 * `cancel` or second `finish` made meanwhile is a no-op, as the job is done in call order.
 * A write that fails (disk full: StoreFullError) rejects; what it did to the index is undone
 * for `add`, while a failed removal or cancel holds in this process but not after a restart.
 */
export class LmdbJobStore implements JobStore {
  readonly #directory: string;
  readonly #waitForSync: boolean;
  readonly #databases: StoreDatabases;
  readonly #lock: StoreLock;
  readonly #startLogs: StartLogs;
  readonly #releaseRejections: () => void;
  readonly #table: MemoryJobTable;
  readonly #ownerNames: string[];
  readonly #ownerIndexes = new Map<string, number>();
  readonly #typeNames: string[];
  readonly #typeIndexes = new Map<string, number>();
  /**
   * Owner and retention of jobs whose `add` is not committed yet; the others' are read from
   * their job record when needed (finish, cancel, removal), which is cheaper than keeping
   * them in memory for every job (two hash indexes cost 0.7 s of a million-job open).
   */
  readonly #unwrittenJobs = new Map<number, StoredFields>();
  readonly #record: JobRecord = { state: PENDING, outcome: 0, flags: 0, ownerIndex: 0, createdAtMs: 0, startedAtMs: 0, finishedAtMs: 0, retentionMs: 0, resultBytes: 0, typeIndex: 0 };
  readonly #results: ResultReader;
  readonly #largeResultIds: Set<number>;
  readonly #noBodyJobIds: Set<number>;
  /**
   * Finished jobs with a `details` record, and finished jobs that kept their request (failed,
   * cancelled): known here so that reading and removing the many jobs with neither (every
   * fetch of a completed job) costs no lookup or delete in those databases.
   */
  readonly #detailedJobIds: Set<number>;
  readonly #keptRequestIds: Set<number>;
  readonly #webhooks: Map<number, WebhookRegistration>;
  readonly #idempotencyKeys: IdempotencyKeys;
  /** Jobs whose `finish` is being written, with its promise: a fetch meanwhile waits for it rather than answer 204. */
  readonly #finishing = new Map<number, Promise<unknown>>();
  /** Set while a removal takes finished jobs only: only those in `#keptRequestIds` still have a request. */
  #removingFinished = false;
  #lastJobId: number;
  #goneCount: number;
  #lastFinishedAtMs = 0;
  /** Set while `expire` runs: its callback, which knows when the job expired, writes the gone record. */
  #expiring = false;
  /** Set while an `add` whose write failed is taken out of the index: nothing to delete on disk. */
  #undoingAdd = false;
  #removalListener: ((jobId: number | null) => void) | null = null;
  readonly #settle = (): Promise<void> | void => (this.#waitForSync ? this.#flushed() : undefined);
  readonly #failed = (error: unknown): Promise<never> => storeWriteError(this.#directory, error);

  private constructor(directory: string, waitForSync: boolean, databases: StoreDatabases, lock: StoreLock, dataPath: string, loaded: LoadedIndex) {
    this.#directory = directory;
    this.#waitForSync = waitForSync;
    this.#databases = databases;
    this.#lock = lock;
    this.#table = loaded.table;
    this.#ownerNames = loaded.ownerNames;
    this.#ownerNames.forEach((name, ownerIndex) => this.#ownerIndexes.set(name, ownerIndex));
    this.#typeNames = loaded.typeNames;
    this.#typeNames.forEach((name, typeIndex) => this.#typeIndexes.set(name, typeIndex));
    this.#results = new ResultReader(databases, dataPath);
    this.#largeResultIds = loaded.largeResultIds;
    this.#noBodyJobIds = loaded.noBodyJobIds;
    this.#detailedJobIds = loaded.detailedJobIds;
    this.#keptRequestIds = loaded.keptRequestIds;
    this.#webhooks = loaded.webhooks;
    this.#idempotencyKeys = loaded.idempotencyKeys;
    this.#lastJobId = loaded.lastJobId;
    this.#goneCount = loaded.goneCount;
    this.#startLogs = new StartLogs(directory);
    this.#releaseRejections = ignoreDroppedCommitRejections();
    this.#table.onRemoved((jobId) => this.#jobRemoved(jobId));
  }

  /**
   * Opens the store in `directory`, creating it when missing. Rejects with StoreLockedError
   * when another process has it open, StoreFormatError when a newer server wrote it, and
   * StoreCorruptError when its data file is damaged (read in a child process first, so that
   * damage LMDB would crash on cannot take this process down).
   */
  static async open(options: LmdbJobStoreOptions): Promise<LmdbJobStore> {
    const { directory, waitForSync = false } = options;
    mkdirSync(directory, { recursive: true });
    const lock = await StoreLock.acquire(directory);
    const dataPath = join(directory, 'data.mdb');
    try {
      // The index is built from what the verifying child streams while it reads the file.
      const index = new IndexBuilder(dataPath);
      if (existsSync(dataPath)) await verifyStoreFile(directory, dataPath, index.take);
      let databases: StoreDatabases;
      try {
        databases = openStoreDatabases(directory);
      } catch (error) {
        throw new StoreCorruptError(dataPath, (error as Error).message, { cause: error });
      }
      try {
        const format = databases.state.get('format');
        if (format === undefined) await databases.state.put('format', FORMAT);
        else if (format > FORMAT) throw new StoreFormatError(directory, format, FORMAT);
        return new LmdbJobStore(directory, waitForSync, databases, lock, dataPath, index.complete(databases));
      } catch (error) {
        await databases.root.close();
        throw error;
      }
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  get size(): number {
    return this.#table.size;
  }

  firstJobId(nowMs: number): number {
    return Math.max(firstJobIdAt(nowMs), this.#lastJobId + 1);
  }

  async recover(): Promise<StoreRecovery> {
    const { requests, webhookEvents } = this.#databases;
    const dispatched = this.#startLogs.readAll();
    const unfinished: UnfinishedJob[] = [];
    for (const jobId of this.#table.list('pending', Infinity, ANY_OWNER)) {
      const view = this.#table.get(jobId, ANY_OWNER)!;
      const stored = requests.get(jobId);
      if (stored === undefined) throw new StoreCorruptError(join(this.#directory, 'data.mdb'), `pending job ${jobId} has no request`);
      unfinished.push({
        jobId, owner: view.owner, createdAtMs: view.createdAtMs,
        request: { ...stored, body: stored.body === null ? null : new Uint8Array(stored.body) },
        keepNoBody: this.#noBodyJobIds.has(jobId), webhook: this.#webhooks.get(jobId) ?? null, dispatched: dispatched.has(jobId),
      });
    }
    // Those that may have run stay marked until they finish, across further restarts.
    this.#startLogs.replaceAll(unfinished.filter((job) => job.dispatched).map((job) => job.jobId));
    return {
      unfinished,
      webhooks: Array.from(this.#webhooks, ([jobId, webhook]) => ({ jobId, webhook })),
      webhookEvents: Array.from(webhookEvents.getRange(), (entry) => entry.value),
    };
  }

  add(job: NewJob): Promise<void> {
    const { jobId, owner, idempotency, webhook } = job;
    const { jobs, requests, webhooks, idempotency: idempotencyKeys } = this.#databases;
    const written = this.#databases.root.batch(() => {
      const ownerIndex = this.#ownerIndexOf(owner);
      const typeIndex = this.#typeIndexOf(job.type);
      this.#table.add(jobId, owner, job.createdAtMs, job.retentionMs, job.type);
      this.#unwrittenJobs.set(jobId, { ownerIndex, retentionMs: job.retentionMs, typeIndex, flags: job.keepNoBody ? KEEP_NO_BODY_FLAG : 0 });
      requests.put(jobId, job.request);
      let flags = 0;
      if (job.keepNoBody) {
        flags |= KEEP_NO_BODY_FLAG;
        this.#noBodyJobIds.add(jobId);
      }
      if (webhook !== null) {
        const registration = copyWebhookRegistration(webhook);
        this.#webhooks.set(jobId, registration);
        webhooks.put(jobId, registration);
      }
      if (idempotency !== null) {
        const name = idempotencyRecordKey(owner, idempotency.key);
        this.#idempotencyKeys.remember(name, jobId, idempotency.fingerprint, idempotency.expiresAtMs);
        idempotencyKeys.put(name, { jobId, fingerprint: idempotency.fingerprint, expiresAtMs: idempotency.expiresAtMs });
      }
      jobs.put(jobId, jobRecord(PENDING, 0, flags, ownerIndex, job.createdAtMs, 0, 0, job.retentionMs, 0, typeIndex));
    });
    if (jobId > this.#lastJobId) this.#lastJobId = jobId;
    return written.then(() => {
      this.#unwrittenJobs.delete(jobId);
      return this.#settle();
    }, (error: unknown) => {
      // First, so that lmdb-js's commitError promise has a handler whatever happens next.
      const failure = storeWriteError(this.#directory, error);
      this.#undoingAdd = true;
      this.#table.remove(jobId, ANY_OWNER);
      this.#undoingAdd = false;
      this.#unwrittenJobs.delete(jobId);
      return failure;
    });
  }

  get startLogDirectory(): string {
    return this.#startLogs.directory;
  }

  markStarted(jobId: number, nowMs: number): Promise<void> {
    // Index only: after a restart the job is queued again, so its start is not worth a write.
    this.#table.markStarted(jobId, nowMs);
    return DONE_PROMISE;
  }

  finish(jobId: number, result: StoredResult, nowMs: number, outcome: JobOutcome = 'completed', details: JobDetails | null = null): Promise<boolean> {
    if (this.#finishing.has(jobId)) return FALSE;
    const view = this.#table.get(jobId, ANY_OWNER);
    if (view === undefined || view.state !== 'pending') return FALSE;
    const finishedAtMs = this.#finishedAt(nowMs);
    const value = encodeResult(result, this.#noBodyJobIds.has(jobId));
    const { ownerIndex, retentionMs, typeIndex, flags } = this.#storedFields(jobId);
    const { jobs, results, requests } = this.#databases;
    // A completed job never runs again; a failed one keeps its request for a retry (`reopen`).
    const completed = outcome === 'completed' || outcome === 'completedWithErrors';
    const written = this.#databases.root.batch(() => {
      results.put(jobId, value);
      const kept = (completed ? 0 : flags & KEEP_NO_BODY_FLAG) | (details === null ? 0 : HAS_DETAILS_FLAG);
      jobs.put(jobId, jobRecord(DONE, OUTCOMES.indexOf(outcome), kept, ownerIndex, view.createdAtMs, view.startedAtMs, finishedAtMs, retentionMs, value.length, typeIndex));
      // Marked now, not at commit: a removal made meanwhile must delete these records too.
      if (completed) requests.remove(jobId);
      else this.#keptRequestIds.add(jobId);
      if (details !== null) {
        this.#databases.details.put(jobId, details);
        this.#detailedJobIds.add(jobId);
      }
    });
    const finished = written.then(() => {
      this.#finishing.delete(jobId);
      // False when a remove came meanwhile: its deletes were written after these records.
      if (this.#table.finish(jobId, INDEX_RESULT, finishedAtMs, outcome)) {
        this.#noBodyJobIds.delete(jobId);
        if (value.length > LARGE_RESULT_BYTES) this.#largeResultIds.add(jobId);
      }
      return this.#waitForSync ? this.#flushed().then(() => true) : true;
    }, (error: unknown) => {
      this.#finishing.delete(jobId);
      return storeWriteError(this.#directory, error);
    });
    this.#finishing.set(jobId, finished);
    return finished;
  }

  cancel(jobId: number, nowMs: number, details: JobDetails | null = null): Promise<boolean> {
    const view = this.#table.get(jobId, ANY_OWNER);
    if (view === undefined) return FALSE;
    if (view.state !== 'pending' || this.#finishing.has(jobId)) return TRUE;
    const finishedAtMs = this.#finishedAt(nowMs);
    const { ownerIndex, retentionMs, typeIndex, flags } = this.#storedFields(jobId);
    const { jobs } = this.#databases;
    // Its request stays: a cancelled operation may be retried (`reopen`).
    const written = this.#databases.root.batch(() => {
      this.#table.cancel(jobId, finishedAtMs);
      this.#noBodyJobIds.delete(jobId);
      jobs.put(jobId, jobRecord(CANCELLED, 0, flags | (details === null ? 0 : HAS_DETAILS_FLAG), ownerIndex, view.createdAtMs, view.startedAtMs, finishedAtMs, retentionMs, 0, typeIndex));
      this.#keptRequestIds.add(jobId);
      if (details !== null) {
        this.#databases.details.put(jobId, details);
        this.#detailedJobIds.add(jobId);
      }
    });
    return written.then(this.#settle, this.#failed).then(() => true);
  }

  reopen(jobId: number, _nowMs: number): Promise<ReopenedJob | undefined> {
    const view = this.#table.get(jobId, ANY_OWNER);
    if (view === undefined || this.#finishing.has(jobId)) return Promise.resolve(undefined);
    const { jobs, results, requests, details } = this.#databases;
    const stored = requests.get(jobId);
    if (stored === undefined || !this.#table.reopen(jobId)) return Promise.resolve(undefined);
    const request = { ...stored, body: stored.body === null ? null : new Uint8Array(stored.body) };
    const detailed = this.#detailedJobIds.delete(jobId);
    const previous = detailed ? details.get(jobId) ?? null : null;
    const { ownerIndex, retentionMs, typeIndex, flags } = this.#storedFields(jobId);
    if ((flags & KEEP_NO_BODY_FLAG) !== 0) this.#noBodyJobIds.add(jobId);
    this.#largeResultIds.delete(jobId);
    // Pending again: its request is removed with it like any pending job's.
    this.#keptRequestIds.delete(jobId);
    const written = this.#databases.root.batch(() => {
      jobs.put(jobId, jobRecord(PENDING, 0, flags & KEEP_NO_BODY_FLAG, ownerIndex, view.createdAtMs, 0, 0, retentionMs, 0, typeIndex));
      results.remove(jobId);
      if (detailed) details.remove(jobId);
    });
    return written.then(this.#settle, this.#failed).then(() => ({ request, details: previous }));
  }

  get(jobId: number, caller: Caller): Promise<JobView | undefined> {
    const view = this.#table.get(jobId, caller);
    if (view !== undefined && view.state !== 'pending') view.details = this.#detailsOf(jobId);
    if (view === undefined || view.state !== 'done') return Promise.resolve(view);
    if (!this.#largeResultIds.has(jobId)) {
      view.result = this.#results.small(jobId);
      return Promise.resolve(view);
    }
    return this.#results.large(jobId).then((result) => {
      view.result = result;
      return view;
    });
  }

  take(jobId: number, caller: Caller): Promise<JobView | undefined> {
    // Its result is being written: answer once it is on disk (then done), not 204 now.
    const finishing = this.#finishing.size > 0 ? this.#finishing.get(jobId) : undefined;
    if (finishing !== undefined) return finishing.then(() => this.take(jobId, caller), () => this.take(jobId, caller));
    const view = this.#table.get(jobId, caller);
    if (view === undefined || view.state === 'pending') return Promise.resolve(view);
    view.details = this.#detailsOf(jobId);
    let largeResult: Promise<StoredResult> | null = null;
    if (view.state === 'done') {
      // Read before the removal is written: the large read holds a snapshot from now on.
      if (this.#largeResultIds.has(jobId)) largeResult = this.#results.large(jobId);
      else view.result = this.#results.small(jobId);
    }
    const removed = this.#databases.root.batch(() => this.#removeFinished(() => this.#table.remove(jobId, ANY_OWNER))).then(this.#settle, this.#failed);
    if (largeResult === null) return removed.then(() => view);
    return Promise.all([largeResult, removed]).then(([result]) => {
      view.result = result;
      return view;
    });
  }

  remove(jobId: number, caller: Caller): Promise<boolean> {
    let removed = false;
    const written = this.#databases.root.batch(() => {
      removed = this.#table.remove(jobId, caller);
    });
    return written.then(this.#settle, this.#failed).then(() => removed);
  }

  list(state: 'done' | 'pending', count: number, caller: Caller): Promise<number[]> {
    return Promise.resolve(this.#table.list(state, count, caller));
  }

  removeAll(caller: Caller): Promise<number> {
    let removed = 0;
    const written = this.#databases.root.batch(() => {
      removed = caller.superuser ? this.#removeEverything() : this.#table.removeAll(caller);
    });
    return written.then(this.#settle, this.#failed).then(() => removed);
  }

  removeExpired(stampMs: number, caller: Caller): Promise<number> {
    let removed = 0;
    const written = this.#databases.root.batch(() => {
      removed = this.#removeFinished(() => this.#table.removeExpired(stampMs, caller));
    });
    return written.then(this.#settle, this.#failed).then(() => removed);
  }

  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): Promise<JobSummary[]> {
    return Promise.resolve(this.#table.history(caller, limit, beforeJobId, filter).map(summaryOf));
  }

  expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): Promise<number> {
    if (this.#startLogs.compactionDue(nowMs)) {
      this.#startLogs.compact((jobId) => this.#table.get(jobId, ANY_OWNER)?.state === 'pending');
    }
    let removed = 0;
    const { idempotency } = this.#databases;
    const written = this.#databases.root.batch(() => {
      this.#expiring = true;
      try {
        removed = this.#removeFinished(() => this.#table.expire(nowMs, (jobId, expiredAtMs) => {
          this.#recordGone(jobId, expiredAtMs);
          onExpired(jobId, expiredAtMs);
        }));
      } finally {
        this.#expiring = false;
      }
      this.#idempotencyKeys.expire(nowMs, (name) => idempotency.remove(name));
    });
    return written.then(this.#settle, this.#failed).then(() => removed);
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
    return this.#databases.webhookEvents.put(event.eventId, event).then(this.#settle, this.#failed);
  }

  webhookEventDone(eventId: number): Promise<void> {
    return this.#databases.webhookEvents.remove(eventId).then(this.#settle, this.#failed);
  }

  onRemoved(listener: (jobId: number | null) => void): void {
    this.#removalListener = listener;
  }

  async close(): Promise<void> {
    await this.#databases.root.flushed;
    await this.#databases.root.close();
    this.#releaseRejections();
    this.#lock.release();
  }

  /**
   * A superuser's removeAll, inside its batch: the job databases cleared at once (not a delete
   * per job), gone records for the newest jobs, as many as the table remembers; returns how many.
   */
  #removeEverything(): number {
    const newest = this.#table.history(ANY_OWNER, GONE_KEPT, Infinity);
    const { jobs, results, requests, webhooks, details } = this.#databases;
    const removed = this.#table.removeAll(ANY_OWNER);
    // Their promises are the batch's: the batch's own promise reports the commit.
    void jobs.clearAsync();
    void results.clearAsync();
    void requests.clearAsync();
    void details.clearAsync();
    void webhooks.clearAsync();
    for (let index = newest.length - 1; index >= 0; index--) this.#recordGone(newest[index].jobId, 0, this.#ownerIndexes.get(newest[index].owner)!);
    return removed;
  }

  /** Runs a removal of finished jobs only: of their requests, only those in `#keptRequestIds` are still stored. */
  #removeFinished<T>(removal: () => T): T {
    this.#removingFinished = true;
    try {
      return removal();
    } finally {
      this.#removingFinished = false;
    }
  }

  /** What finish or cancel stored beside a finished job's outcome; null for most jobs, without a read. */
  #detailsOf(jobId: number): JobDetails | null {
    return this.#detailedJobIds.size > 0 && this.#detailedJobIds.has(jobId) ? this.#databases.details.get(jobId) ?? null : null;
  }

  /** The table's removal listener: deletes the job's records (into the batch of the call that removed it). */
  #jobRemoved(jobId: number | null): void {
    if (jobId === null) {
      this.#unwrittenJobs.clear();
      this.#largeResultIds.clear();
      this.#noBodyJobIds.clear();
      this.#detailedJobIds.clear();
      this.#keptRequestIds.clear();
      this.#webhooks.clear();
    } else {
      // An add being undone never reached the disk: there is nothing to delete or to remember.
      const ownerIndex = this.#undoingAdd ? -1 : this.#storedFields(jobId).ownerIndex;
      if (this.#unwrittenJobs.size > 0) this.#unwrittenJobs.delete(jobId);
      if (this.#largeResultIds.size > 0) this.#largeResultIds.delete(jobId);
      if (this.#noBodyJobIds.size > 0) this.#noBodyJobIds.delete(jobId);
      const hadWebhook = this.#webhooks.size > 0 && this.#webhooks.delete(jobId);
      if (!this.#undoingAdd) {
        const { jobs, results, requests, webhooks, details } = this.#databases;
        jobs.remove(jobId);
        results.remove(jobId);
        // Pending, failed and cancelled jobs have a request; completed ones had it deleted at finish.
        const keptRequest = this.#keptRequestIds.size > 0 && this.#keptRequestIds.delete(jobId);
        if (!this.#removingFinished || keptRequest) requests.remove(jobId);
        if (this.#detailedJobIds.size > 0 && this.#detailedJobIds.delete(jobId)) details.remove(jobId);
        if (hadWebhook) webhooks.remove(jobId);
        // An expired job's gone record is written by expire's callback, which knows when it expired.
        if (!this.#expiring) this.#recordGone(jobId, 0, ownerIndex);
        else this.#expiringOwner = ownerIndex;
      }
    }
    this.#removalListener?.(jobId);
  }

  /** The owner index of the job `expire` is removing, from the listener to expire's callback. */
  #expiringOwner = 0;

  #recordGone(jobId: number, expiredAtMs: number, ownerIndex = this.#expiringOwner): void {
    const { gone } = this.#databases;
    gone.put(jobId, encodeGoneRecord(ownerIndex, expiredAtMs));
    if (++this.#goneCount > GONE_KEPT + GONE_PRUNE_SLACK) {
      for (const lowest of gone.getKeys({ limit: this.#goneCount - GONE_KEPT })) gone.remove(lowest);
      this.#goneCount = GONE_KEPT;
    }
  }

  #ownerIndexOf(owner: string): number {
    let ownerIndex = this.#ownerIndexes.get(owner);
    if (ownerIndex === undefined) {
      ownerIndex = this.#ownerNames.length;
      this.#ownerNames.push(owner);
      this.#ownerIndexes.set(owner, ownerIndex);
      this.#databases.owners.put(ownerIndex, owner);
    }
    return ownerIndex;
  }

  /** The index of an operation type in job records (1 up; written to `types` when new). */
  #typeIndexOf(type: string | null | undefined): number {
    if (typeof type !== 'string') return 0;
    let typeIndex = this.#typeIndexes.get(type);
    if (typeIndex === undefined) {
      typeIndex = Math.max(1, this.#typeNames.length);
      this.#typeNames[typeIndex] = type;
      this.#typeIndexes.set(type, typeIndex);
      this.#databases.types.put(typeIndex, type);
    }
    return typeIndex;
  }

  /** Finish times never go back (removeExpired stops at the first young job): a clock stepping back is clamped. */
  #finishedAt(nowMs: number): number {
    if (nowMs > this.#lastFinishedAtMs) this.#lastFinishedAtMs = nowMs;
    return this.#lastFinishedAtMs;
  }

  /** Owner index and retention of a stored job: from its pending add, or its committed job record (a read from the map). */
  #storedFields(jobId: number): StoredFields {
    const unwritten = this.#unwrittenJobs.get(jobId);
    if (unwritten !== undefined) return unwritten;
    const bytes = this.#databases.jobs.getBinaryFast(jobId);
    if (bytes === undefined || !decodeJobRecord(bytes, this.#record)) {
      throw new StoreCorruptError(join(this.#directory, 'data.mdb'), `stored job ${jobId} has no job record`);
    }
    return this.#record;
  }

  #flushed(): Promise<void> {
    return Promise.resolve(this.#databases.root.flushed).then(() => undefined, this.#failed);
  }

}

/** What finish, cancel and reopen carry over from a job's record. */
interface StoredFields {
  ownerIndex: number;
  retentionMs: number;
  typeIndex: number;
  flags: number;
}

function jobRecord(
  state: RecordState, outcome: number, flags: number, ownerIndex: number, createdAtMs: number, startedAtMs: number, finishedAtMs: number,
  retentionMs: number, resultBytes: number, typeIndex: number,
): Buffer {
  return encodeJobRecord({ state, outcome, flags, ownerIndex, createdAtMs, startedAtMs, finishedAtMs, retentionMs, resultBytes, typeIndex });
}
