import type {
  Engine, JobEventData, JobEventKind, JobFailure, JobLogBatch, JobResult, ReportedProgress, RetryNotice,
} from '../../engine/index.js';
import { ANY_OWNER } from '../auth/index.js';
import { errorBody, failureAnswer, JOB_ENDINGS, type ArangoError } from '../errors/index.js';
import { JSON_TYPE, type Exchange } from '../http/index.js';
import { MODE_BLOCKING, type JobLog, type ServerMetrics } from '../observability/index.js';
import type { JobDetails, JobOutcome, JobView, StoredResult } from './job-store.js';
import type { JobStore } from './job-store.js';
import type { UserLimits } from './user-limits.js';

/** A stored job this process runs, from its submit until its final event. */
export interface RunningStoredJob {
  readonly jobId: number;
  readonly createdAtMs: number;
  /** 0 until a worker took it. */
  startedAtMs: number;
  /** When its current attempt started (a job with retries runs more than once); 0 until then. */
  attemptStartedAtMs: number;
}

/** What else wants to hear of stored jobs' transitions (the operations surface). */
export interface JobObserver {
  onRunning(job: RunningStoredJob, nowMs: number): void;
  onProgress(job: RunningStoredJob, progress: ReportedProgress, nowMs: number): void;
  onLog(job: RunningStoredJob, batch: JobLogBatch, nowMs: number): void;
  onRetrying(job: RunningStoredJob, notice: RetryNotice, nowMs: number): void;
  /** What to store with the job beside its outcome (`JobStore.finish`, `cancel`), as its final event comes. */
  detailsOf(jobId: number, kind: JobEventKind, data: JobEventData): JobDetails | null;
  /**
   * A stored job ended and the store committed its outcome. Returns whether the observer wants
   * the job's view, which then follows in `onFinished`: a job nobody watches costs no read.
   */
  onEnded(jobId: number): boolean;
  /** The view of a job `onEnded` asked for; undefined when it was removed while it ran. */
  onFinished(jobId: number, job: JobView | undefined): void;
}

export interface JobRecorderOptions {
  engine: Engine;
  store: JobStore;
  metrics: ServerMetrics;
  limits: UserLimits;
  /** Told when the store refused a write (a full disk): the job's outcome could not be kept. */
  onStoreError: (error: Error, jobId: number) => void;
  /**
   * The store survives a restart: a stored job the drain cancels (it did not finish within the
   * shutdown timeout) is left unfinished in the store, to run again after the restart, rather
   * than recorded as cancelled. A job a client cancelled is recorded as always.
   */
  resumesAfterRestart?: boolean;
  /** Lifecycle lines (`--log.jobs`); told every transition. */
  jobLog?: JobLog;
}

const JSON_HEADERS = ['content-type', JSON_TYPE];
/** A full store is offered an outcome again after 1 s, then twice as long each time, up to a minute. */
const STORE_RETRY_FIRST_MS = 1000;
const STORE_RETRY_MAX_MS = 60_000;

/**
 * The one place engine events are bookkept: every transition is counted, the per-user queue
 * share is released, a blocking job's answer goes to its waiter, and a stored job's start and
 * outcome are written to the job store, whose view is then handed to the observer. Nothing
 * else subscribes to the engine. Fire-and-forget jobs never reach the store.
 */
export class JobRecorder {
  readonly #store: JobStore;
  readonly #metrics: ServerMetrics;
  readonly #limits: UserLimits;
  readonly #onStoreError: (error: Error, jobId: number) => void;
  #observer: JobObserver | null = null;
  /** Blocking requests waiting for their job, by job id. */
  readonly #waiters = new Map<number, Exchange>();
  /** Stored jobs between submit and their final event (bounded by the queue and the workers). */
  readonly #stored = new Map<number, RunningStoredJob>();
  /** Stored jobs that finished after SIGTERM: the drain waits (a while) for them to be fetched. */
  readonly #drainResults = new Set<number>();
  #draining = false;
  readonly #resumesAfterRestart: boolean;
  readonly #jobLog: JobLog | undefined;
  /** Stored jobs a client asked to cancel (until their final event). */
  readonly #cancelRequests = new Set<number>();

  constructor(options: JobRecorderOptions) {
    this.#store = options.store;
    this.#metrics = options.metrics;
    this.#limits = options.limits;
    this.#onStoreError = options.onStoreError;
    this.#resumesAfterRestart = options.resumesAfterRestart === true;
    this.#jobLog = options.jobLog?.enabled === true ? options.jobLog : undefined;
    options.engine.subscribe(this.#onJobEvent);
  }

  setObserver(observer: JobObserver): void {
    this.#observer = observer;
  }

  /** A blocking job: its final answer goes to the client waiting on `exchange`, not to the store. */
  awaitResult(jobId: number, exchange: Exchange): void {
    this.#waiters.set(jobId, exchange);
  }

  /** The blocking client hung up; true when it was still waiting (so its job should stop). */
  dropWaiter(jobId: number): boolean {
    return this.#waiters.delete(jobId);
  }

  /** A job whose outcome goes to the store (submitted now, or re-queued after a restart). */
  trackStored(jobId: number, createdAtMs: number): void {
    this.#stored.set(jobId, { jobId, createdAtMs, startedAtMs: 0, attemptStartedAtMs: 0 });
  }

  /** A job `trackStored` named that was never queued after all. */
  untrackStored(jobId: number): void {
    this.#stored.delete(jobId);
  }

  /** A client asked to cancel the stored job (through /_api/job or /_api/operations). */
  cancelRequested(jobId: number): void {
    if (this.#stored.has(jobId)) this.#cancelRequests.add(jobId);
  }

  /** True from a stored job's submit until its final event was handled. */
  isRunning(jobId: number): boolean {
    return this.#stored.has(jobId);
  }

  /** The stored job this process runs under `jobId`, from its submit until its final event was handled. */
  runningStored(jobId: number): RunningStoredJob | undefined {
    return this.#stored.get(jobId);
  }

  /** SIGTERM: jobs cancelled from now on answer 503 (errorNum 30); results that finish are tracked for the drain. */
  startDraining(): void {
    this.#draining = true;
  }

  /** Stored jobs still running, and results that finished during the drain and were not fetched or deleted yet. */
  async uncollectedDrainResults(): Promise<number> {
    for (const jobId of this.#drainResults) {
      if ((await this.#store.get(jobId, ANY_OWNER)) === undefined) this.#drainResults.delete(jobId);
    }
    return this.#drainResults.size;
  }

  readonly #onJobEvent = (kind: JobEventKind, jobId: number, data: JobEventData): void => {
    this.#metrics.countJobEvent(kind, jobId);
    if (this.#jobLog !== undefined) this.#jobLog.transition(kind, jobId, data);
    if (kind !== 'progress' && kind !== 'queued' && kind !== 'retrying' && kind !== 'log') this.#limits.leftQueue(jobId);
    if (kind === 'running') {
      const job = this.#stored.get(jobId);
      if (job === undefined) return;
      const now = Date.now();
      job.attemptStartedAtMs = now;
      // A retry starts the job again: the operation keeps the time it first started.
      if (job.startedAtMs === 0) {
        job.startedAtMs = now;
        this.#store.markStarted(jobId, now).catch((error: Error) => this.#onStoreError(error, jobId));
      }
      return this.#observer?.onRunning(job, now);
    }
    if (kind === 'progress' || kind === 'log' || kind === 'retrying') {
      const job = this.#stored.get(jobId);
      if (job === undefined || this.#observer === null) return;
      if (kind === 'progress') this.#observer.onProgress(job, data as ReportedProgress, Date.now());
      else if (kind === 'log') this.#observer.onLog(job, data as JobLogBatch, Date.now());
      else this.#observer.onRetrying(job, data as RetryNotice, Date.now());
      return;
    }
    if (kind !== 'done' && kind !== 'failed' && kind !== 'cancelled' && kind !== 'timedOut') return;
    const exchange = this.#waiters.get(jobId);
    if (exchange !== undefined) {
      this.#waiters.delete(jobId);
      const result = finalResult(kind, data, this.#draining);
      exchange.send(result.status, result.headers, result.body);
      return this.#metrics.countRequest(MODE_BLOCKING, result.status);
    }
    if (!this.#stored.delete(jobId)) return; // fire and forget
    const cancelledByClient = this.#cancelRequests.size > 0 && this.#cancelRequests.delete(jobId);
    // Cut off by the drain: it stays unfinished on disk and runs again after the restart.
    if (kind === 'cancelled' && this.#draining && this.#resumesAfterRestart && !cancelledByClient) return;
    const result = kind === 'cancelled' ? null : finalResult(kind, data, this.#draining);
    const details = this.#observer?.detailsOf(jobId, kind, data) ?? null;
    void this.#record(jobId, outcomeOf(kind, details), result, details, Date.now(), 0);
  };

  /**
   * Ends a stored job that will not run (recovery: it may have run in a process that is gone and
   * its route is not idempotent, or its route is gone) failed with `result`, as the engine's
   * final event would: written, then told to the observer, so that its watchers and its webhook
   * hear of the end. Resolves once written (or refused: the refusal is reported as for any job).
   */
  endUnrun(jobId: number, result: StoredResult, nowMs: number): Promise<void> {
    return this.#record(jobId, 'failed', result, null, nowMs, 0);
  }

  /**
   * Writes a stored job's outcome, then tells the observer. A store that is full keeps refusing
   * until space is freed: the outcome is offered again, less and less often, while the job
   * shows pending; after a restart the job is unfinished and runs again by the usual rules.
   */
  #record(jobId: number, outcome: JobOutcome | null, result: StoredResult | null, details: JobDetails | null, nowMs: number, attempt: number): Promise<void> {
    const written = result === null || outcome === null
      ? this.#store.cancel(jobId, nowMs, details)
      : this.#store.finish(jobId, result, nowMs, outcome, details);
    return written.then((kept) => {
      if (kept && this.#draining && result !== null) this.#drainResults.add(jobId);
      const observer = this.#observer;
      if (observer !== null && observer.onEnded(jobId)) {
        this.#store.get(jobId, ANY_OWNER).then((view) => observer.onFinished(jobId, view), (error: Error) => this.#onStoreError(error, jobId));
      }
    }, (error: Error) => {
      this.#onStoreError(error, jobId);
      if ((error as { code?: unknown }).code !== 'ERR_STORE_FULL') return;
      const delayMs = Math.min(STORE_RETRY_MAX_MS, STORE_RETRY_FIRST_MS * 2 ** attempt);
      setTimeout(() => void this.#record(jobId, outcome, result, details, Date.now(), attempt + 1), delayMs).unref();
    });
  }
}

function errorResult(error: ArangoError): StoredResult {
  return { status: error.status, headers: JSON_HEADERS, body: Buffer.from(errorBody(error, error.message)) };
}

/** The store's outcome of a final event (null: cancelled); a completed job that reported warnings completed with errors. */
function outcomeOf(kind: JobEventKind, details: JobDetails | null): JobOutcome | null {
  switch (kind) {
    case 'done':
      return details?.warnings != null ? 'completedWithErrors' : 'completed';
    case 'failed':
      return 'failed';
    case 'timedOut':
      return 'timedOut';
    default:
      return null;
  }
}

/** What a job's final event answers, as a blocking request or a stored result. */
function finalResult(kind: JobEventKind, data: JobEventData, draining: boolean): StoredResult {
  switch (kind) {
    case 'done':
      return data as JobResult;
    case 'failed':
      return errorResult(failureAnswer(data as JobFailure));
    case 'timedOut':
      return errorResult(JOB_ENDINGS.timedOut);
    default:
      return errorResult(draining ? JOB_ENDINGS.shutdown : JOB_ENDINGS.cancelled);
  }
}
