import type { Engine, JobEventKind, JobFailure, JobProgress, JobResult } from '../../engine/index.js';
import { ANY_OWNER } from '../auth/index.js';
import { errorBody, failureAnswer, JOB_ENDINGS, type ArangoError } from '../errors/index.js';
import { JSON_TYPE, type Exchange } from '../http/index.js';
import { MODE_BLOCKING, type ServerMetrics } from '../observability/index.js';
import type { JobTable, JobView, StoredResult } from './job-table.js';
import type { UserLimits } from './user-limits.js';

/** What else wants to hear of stored jobs' transitions (the operations surface). */
export interface JobObserver {
  onRunning(jobId: number, nowMs: number): void;
  onProgress(jobId: number, progress: JobProgress, nowMs: number): void;
  /**
   * A stored job ended and the table holds its outcome. Returns whether the observer wants the
   * job's view, which then follows in `onFinished`: a job nobody watches costs no read.
   */
  onEnded(jobId: number): boolean;
  /** The view of a job `onEnded` asked for; undefined when it was removed while it ran. */
  onFinished(jobId: number, job: JobView | undefined): void;
}

export interface JobRecorderOptions {
  engine: Engine;
  table: JobTable;
  metrics: ServerMetrics;
  limits: UserLimits;
}

const JSON_HEADERS = ['content-type', JSON_TYPE];

/**
 * The one place engine events are bookkept: every transition is counted, the per-user queue
 * share is released, a blocking job's answer goes to its waiter, and a stored job's start and
 * outcome are written to the job table, whose view is then handed to the observer. Nothing else
 * subscribes to the engine.
 */
export class JobRecorder {
  readonly #table: JobTable;
  readonly #metrics: ServerMetrics;
  readonly #limits: UserLimits;
  #observer: JobObserver | null = null;
  /** Blocking requests waiting for their job, by job id. */
  readonly #waiters = new Map<number, Exchange>();
  /** Stored HEAD jobs: their handler (the GET route's) may answer a body, which HEAD must not keep. */
  readonly #headJobs = new Set<number>();
  /** Stored jobs that finished after SIGTERM: the drain waits (a while) for them to be fetched. */
  readonly #drainResults = new Set<number>();
  #draining = false;

  constructor(options: JobRecorderOptions) {
    this.#table = options.table;
    this.#metrics = options.metrics;
    this.#limits = options.limits;
    options.engine.subscribe(this.#onJobEvent);
  }

  setObserver(observer: JobObserver): void {
    this.#observer = observer;
  }

  /** A blocking job: its final answer goes to the client waiting on `exchange`, not to the table. */
  awaitResult(jobId: number, exchange: Exchange): void {
    this.#waiters.set(jobId, exchange);
  }

  /** The blocking client hung up; true when it was still waiting (so its job should stop). */
  dropWaiter(jobId: number): boolean {
    return this.#waiters.delete(jobId);
  }

  /** A stored job submitted with HEAD: its result keeps the status and headers only. */
  keepNoBody(jobId: number): void {
    this.#headJobs.add(jobId);
  }

  /** SIGTERM: jobs cancelled from now on answer 503 (errorNum 30); results that finish are tracked for the drain. */
  startDraining(): void {
    this.#draining = true;
  }

  /** Stored results that finished during the drain and have not been fetched or deleted yet. */
  get uncollectedDrainResults(): number {
    for (const jobId of this.#drainResults) {
      if (this.#table.get(jobId, ANY_OWNER) === undefined) this.#drainResults.delete(jobId);
    }
    return this.#drainResults.size;
  }

  readonly #onJobEvent = (kind: JobEventKind, jobId: number, data: JobResult | JobFailure | JobProgress | undefined): void => {
    this.#metrics.countJobEvent(kind, jobId);
    if (kind !== 'progress' && kind !== 'queued' && kind !== 'retrying') this.#limits.leftQueue(jobId);
    if (kind === 'running') {
      const now = Date.now();
      this.#table.markStarted(jobId, now);
      return this.#observer?.onRunning(jobId, now);
    }
    if (kind === 'progress') return this.#observer?.onProgress(jobId, data as JobProgress, Date.now());
    if (kind !== 'done' && kind !== 'failed' && kind !== 'cancelled' && kind !== 'timedOut') return;
    const exchange = this.#waiters.get(jobId);
    if (exchange !== undefined) {
      this.#waiters.delete(jobId);
      const result = finalResult(kind, data, this.#draining);
      exchange.send(result.status, result.headers, result.body);
      return this.#metrics.countRequest(MODE_BLOCKING, result.status);
    }
    const now = Date.now();
    if (kind === 'cancelled') {
      if (this.#headJobs.size > 0) this.#headJobs.delete(jobId);
      this.#table.cancel(jobId, now);
    } else {
      let result = finalResult(kind, data, this.#draining);
      if (this.#headJobs.size > 0 && this.#headJobs.delete(jobId)) result = { ...result, body: null };
      if (this.#table.finish(jobId, result, now, kind === 'done' ? 'completed' : kind) && this.#draining) this.#drainResults.add(jobId);
    }
    const observer = this.#observer;
    if (observer !== null && observer.onEnded(jobId)) observer.onFinished(jobId, this.#table.get(jobId, ANY_OWNER));
  };
}

function errorResult(error: ArangoError): StoredResult {
  return { status: error.status, headers: JSON_HEADERS, body: Buffer.from(errorBody(error, error.message)) };
}

/** What a job's final event answers, as a blocking request or a stored result. */
function finalResult(kind: JobEventKind, data: JobResult | JobFailure | JobProgress | undefined, draining: boolean): StoredResult {
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
