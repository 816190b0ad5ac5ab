import type { MessagePort } from 'node:worker_threads';
import {
  createRequestUnpacker, createResponsePacker, RecordReader, RESPONSE_CANCELLED, RESPONSE_FAILED,
  RESPONSE_LOG, RESPONSE_PROGRESS, RESPONSE_RESULT, type RequestEnvelope, type ResponseEnvelope,
} from './codec.js';
import { addWarnings } from './job-report.js';
import { Doorbell } from './doorbell.js';
import { JOB_FAILURE } from './errors.js';
import { JobRun } from './job-run.js';
import {
  ABORT_NONE, ABORT_TIMED_OUT, DOORBELL_CANCEL_GENERATION, DOORBELL_RESPONSE_RING_FULL, DOORBELL_SHUTDOWN,
} from './layout.js';
import { normaliseResponse, type NormalisedResponse } from './normalise-response.js';
import { RingQueue } from './ring-queue.js';
import { RouteTable } from './route-table.js';
import type { ServeTask } from './serve-task.js';
import { StartLog } from './start-log.js';
import type { FailureDetails, JobProgress, JobRequest, ReportedProgress } from './types.js';

/**
 * The worker side of a lane: Piscina runs `serve` as one task that lasts as long as the worker.
 *
 * It pulls envelopes from its request ring while it runs fewer than `concurrency` jobs, runs
 * each handler in a `JobRun` context, and writes results to its response ring, publishing
 * them in batches (one atomic store and at most one wake-up per batch). While its JS is idle
 * it waits on its doorbell with `Atomics.waitAsync`, so timers and I/O of awaiting handlers
 * keep running and no core spins.
 */
export default async function serve(task: ServeTask): Promise<string> {
  const lane = new WorkerLane(task, await RouteTable.load(task.handlerModules));
  return lane.run();
}

class WorkerLane {
  readonly #requests: RingQueue;
  readonly #responses: RingQueue;
  readonly #doorbell: Doorbell;
  readonly #mainDoorbell: Doorbell;
  readonly #abortSlots: Int32Array;
  readonly #port: MessagePort;
  readonly #routes: RouteTable;
  readonly #concurrency: number;
  readonly #progressIntervalMs: number;
  /** Null unless the embedder asked for start logs. */
  readonly #startLog: StartLog | null;
  readonly #reader = new RecordReader(createRequestUnpacker());
  readonly #packer = createResponsePacker();
  readonly #running = new Set<JobRun>();
  /** Encoded responses that did not fit in the response ring; sent first once it drains. */
  readonly #backlog: Uint8Array[] = [];
  /** Spilled envelopes that arrived over the port before their ring record was read, and waiters for the others. */
  readonly #spilled = new Map<number, RequestEnvelope>();
  readonly #spillWaiters = new Map<number, (envelope: RequestEnvelope) => void>();
  /** Jobs with progress or log lines waiting for the next report tick. */
  readonly #progressDirty: JobRun[] = [];
  /** Envelopes taken from the ring in one pump, reused. */
  readonly #batch: RequestEnvelope[] = [];
  #progressTimer: NodeJS.Timeout | undefined;
  #cancelGeneration = 0;
  #flushScheduled = false;
  #pumping = false;
  #pumpAgain = false;
  #unpublished = false;
  #finished: ((value: string) => void) | undefined;

  constructor(task: ServeTask, routes: RouteTable) {
    this.#requests = new RingQueue(task.requestRing);
    this.#responses = new RingQueue(task.responseRing);
    this.#doorbell = new Doorbell(task.workerDoorbell);
    this.#mainDoorbell = new Doorbell(task.mainDoorbell);
    this.#abortSlots = new Int32Array(task.abortSlots);
    this.#port = task.port;
    this.#routes = routes;
    this.#concurrency = task.concurrency;
    this.#progressIntervalMs = task.progressIntervalMs;
    this.#startLog = task.startLogDirectory === null ? null : new StartLog(task.startLogDirectory, task.laneIndex);
    this.#port.on('message', (envelope: RequestEnvelope) => this.#onSpilledEnvelope(envelope));
  }

  run(): Promise<string> {
    const done = new Promise<string>((resolve) => { this.#finished = resolve; });
    void this.#waitLoop();
    return done;
  }

  /**
   * An idle worker (no job running) blocks in `Atomics.wait`: the cheapest wake-up there is,
   * and nothing of its own needs the event loop then. The wait is bounded so that timers a
   * handler left behind still run now and then. A worker with jobs awaiting something waits
   * with `Atomics.waitAsync`, so their timers and I/O go on.
   */
  async #waitLoop(): Promise<void> {
    for (;;) {
      const sequence = this.#doorbell.prepareToSleep();
      this.#onWake();
      if (this.#shuttingDown() && this.#running.size === 0 && this.#requests.isEmpty()) break;
      // Let async handlers that finish within a few microtasks do so, without paying for a
      // trip through the event loop; those still running then wait with waitAsync.
      for (let tick = 0; tick < SETTLE_MICROTASKS && this.#running.size > 0; tick++) await null;
      if (this.#running.size === 0 && this.#backlog.length === 0) {
        // A job that ended in the last microtask above may have its flush still queued behind
        // us: publish now, or its result would wait out the blocking sleep.
        this.#flush();
        if (this.#doorbell.sleep(sequence, IDLE_WAIT_MS) === 'timed-out') await yieldToEventLoop();
      } else {
        const wait = this.#doorbell.sleepAsync(sequence);
        if (wait !== null) await wait;
      }
      this.#doorbell.awake();
    }
    this.#flush();
    this.#startLog?.close();
    this.#port.close();
    this.#finished!('stopped');
  }

  #shuttingDown(): boolean {
    return Atomics.load(this.#doorbell.words, DOORBELL_SHUTDOWN) !== 0;
  }

  #onWake(): void {
    const generation = Atomics.load(this.#doorbell.words, DOORBELL_CANCEL_GENERATION);
    if (generation !== this.#cancelGeneration) {
      this.#cancelGeneration = generation;
      for (const run of this.#running) if (run.abortReason !== ABORT_NONE) run.abort();
    }
    if (Atomics.load(this.#doorbell.words, DOORBELL_RESPONSE_RING_FULL) !== 0) {
      Atomics.store(this.#doorbell.words, DOORBELL_RESPONSE_RING_FULL, 0);
      this.#drainBacklog();
    }
    this.#pump();
    this.#flush();
  }

  /**
   * Starts queued jobs while there is room; called on wake-ups and whenever a job ends. A job
   * that ends synchronously calls back in here: that only asks the running loop to go round
   * again, so the stack stays flat however many such jobs follow each other.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    const batch = this.#batch;
    do {
      this.#pumpAgain = false;
      while (this.#running.size + batch.length < this.#concurrency) {
        const offset = this.#requests.peek();
        if (offset < 0) break;
        batch.push(this.#reader.decode<RequestEnvelope>(this.#requests.bytes, offset, this.#requests.recordLength(offset)));
        this.#requests.advance(offset);
      }
      if (batch.length === 0) break;
      // Publish the read cursor before running anything: the main thread learns from it which
      // jobs started (a cancel looks at it directly, so a handler that never yields cannot hide
      // it). The wake-up that tells the main thread to look rides on the next result flush.
      this.#requests.release();
      this.#unpublished = true;
      this.#scheduleFlush();
      for (let i = 0; i < batch.length; i++) {
        // Results of the jobs before this one become readable before it runs: if it never
        // yields and its worker is terminated (or it kills the worker), the main thread still
        // drains them instead of failing or re-running jobs that had finished.
        if (i > 0) this.#responses.publish();
        this.#start(batch[i]);
      }
      batch.length = 0;
    } while (this.#pumpAgain);
    this.#pumping = false;
  }

  #start(envelope: RequestEnvelope): void {
    const run = new JobRun(envelope, this.#abortSlots, this.#onProgress);
    this.#running.add(run);
    if (run.abortReason !== ABORT_NONE) {
      // Cancelled while queued: it never starts. Its spilled envelope, arrived or still on its
      // way over the port, is dropped: kept, it would hold the body for the worker's lifetime.
      if (envelope.spilled && !this.#spilled.delete(envelope.jobId)) this.#spillWaiters.set(envelope.jobId, dropSpilledEnvelope);
      this.#end(run, cancelledEnvelope(run));
      return;
    }
    if (envelope.spilled) {
      const arrived = this.#spilled.get(envelope.jobId);
      if (arrived !== undefined) {
        this.#spilled.delete(envelope.jobId);
        this.#execute(run, arrived);
      } else {
        // Cancelled while its envelope was on its way: it still never starts.
        this.#spillWaiters.set(envelope.jobId, (full) => (run.abortReason === ABORT_NONE ? this.#execute(run, full) : this.#end(run, cancelledEnvelope(run))));
      }
      return;
    }
    this.#execute(run, envelope);
  }

  #onSpilledEnvelope(envelope: RequestEnvelope): void {
    const waiter = this.#spillWaiters.get(envelope.jobId);
    if (waiter === undefined) {
      this.#spilled.set(envelope.jobId, envelope);
    } else {
      this.#spillWaiters.delete(envelope.jobId);
      waiter(envelope);
    }
  }

  /**
   * Runs the handler. A handler that answers synchronously ends here, in the same turn: no
   * promise, no microtask, so a batch of trivial jobs leaves the worker idle at once.
   */
  #execute(run: JobRun, envelope: RequestEnvelope): void {
    let value: unknown;
    try {
      const request: JobRequest = {
        method: envelope.method,
        path: envelope.path,
        query: envelope.query,
        headers: headerObject(envelope.headers),
        params: this.#routes.params(envelope.route, envelope.path),
        body: envelope.body ?? EMPTY_BODY,
      };
      const route = this.#routes.routes[envelope.route];
      // Logged before the handler can do anything: after a crash, absence means it never started.
      if (this.#startLog !== null && route.idempotent !== true) this.#startLog.append(envelope.jobId);
      value = route.handler(request, run);
    } catch (error) {
      this.#complete(run, errorEnvelope(run, error));
      return;
    }
    if (isThenable(value)) {
      value.then(
        (response) => this.#complete(run, resultEnvelope(run, envelope.discard, response)),
        (error: unknown) => this.#complete(run, errorEnvelope(run, error)),
      );
    } else {
      this.#complete(run, resultEnvelope(run, envelope.discard, value));
    }
  }

  #complete(run: JobRun, response: ResponseEnvelope): void {
    // Once cancelled, a job ends cancelled whatever its handler did: caught the termination,
    // carried on, returned a value. Its result is discarded here.
    this.#end(run, run.abortReason === ABORT_NONE ? response : cancelledEnvelope(run));
  }

  #end(run: JobRun, response: ResponseEnvelope): void {
    this.#running.delete(run);
    if (run.pendingProgress !== null && response.kind === RESPONSE_RESULT) this.#writeProgress(run);
    // Log lines go out whatever the ending: a failed job's log says most about why.
    if (run.logs !== null && run.logs.lines.length > 0) this.#writeLogs(run);
    run.pendingProgress = null;
    this.#write(response);
    this.#pump();
  }

  readonly #onProgress = (run: JobRun): void => {
    this.#progressDirty.push(run);
    this.#progressTimer ??= setTimeout(flushProgress, this.#progressIntervalMs, this);
  };

  /** Sends the latest progress of every job that reported some since the last tick. */
  flushProgressNow(): void {
    this.#progressTimer = undefined;
    for (const run of this.#progressDirty) {
      run.reportScheduled = false;
      if (!this.#running.has(run)) continue;
      if (run.pendingProgress !== null) this.#writeProgress(run);
      if (run.logs !== null && run.logs.lines.length > 0) this.#writeLogs(run);
      run.pendingProgress = null;
    }
    this.#progressDirty.length = 0;
    this.#flush();
  }

  #writeProgress(run: JobRun): void {
    const progress = knownProgressFields(run.pendingProgress!);
    if (run.phases !== null && !run.phases.empty) progress.phases = run.phases.snapshot();
    this.#write({ ...RESPONSE_TEMPLATE, kind: RESPONSE_PROGRESS, jobId: run.jobId, slot: run.slot, progress });
  }

  #writeLogs(run: JobRun): void {
    const batch = run.logs!.take();
    this.#write({ ...RESPONSE_TEMPLATE, kind: RESPONSE_LOG, jobId: run.jobId, slot: run.slot, logs: batch.lines, dropped: batch.dropped });
  }

  #write(response: ResponseEnvelope): void {
    const encoded = this.#packer.pack(response);
    if (encoded.length > this.#responses.maxRecordBytes) {
      // Too large for the ring: the whole envelope travels over the port. Copied, not
      // transferred: the handler may keep the body (a cached file) and answer it again, and a
      // transfer would detach it under the handler.
      this.#port.postMessage(response);
      return;
    }
    if (this.#backlog.length > 0 || !this.#responses.tryWrite(encoded)) {
      this.#backlog.push(Uint8Array.prototype.slice.call(encoded));
      Atomics.store(this.#doorbell.words, DOORBELL_RESPONSE_RING_FULL, 1);
      this.#drainBacklog();
    }
    this.#unpublished = true;
    this.#scheduleFlush();
  }

  #drainBacklog(): void {
    let sent = 0;
    while (sent < this.#backlog.length && this.#responses.tryWrite(this.#backlog[sent])) sent++;
    if (sent > 0) {
      this.#backlog.splice(0, sent);
      this.#unpublished = true;
      this.#scheduleFlush();
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushFromMicrotask);
  }

  readonly #flushFromMicrotask = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  #flush(): void {
    if (!this.#unpublished) return;
    this.#unpublished = false;
    this.#responses.publish();
    this.#mainDoorbell.ring();
  }
}

/** The spill waiter of a job cancelled before its envelope arrived: the envelope is let go. */
function dropSpilledEnvelope(): void {}

function flushProgress(lane: WorkerLane): void {
  lane.flushProgressNow();
}

const EMPTY_BODY = new Uint8Array(0);
/** How long an idle worker blocks before giving its event loop a turn. */
const IDLE_WAIT_MS = 100;
/** Microtask turns granted to just-started async handlers before the worker decides how to wait. */
const SETTLE_MICROTASKS = 4;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const RESPONSE_TEMPLATE: ResponseEnvelope = {
  kind: 0, jobId: 0, slot: 0, status: 0, headers: null, body: null, code: null, message: null, details: null, progress: null,
  logs: null, dropped: 0, warnings: null,
};

function resultEnvelope(run: JobRun, discard: boolean, value: unknown): ResponseEnvelope {
  let result: NormalisedResponse;
  try {
    result = normaliseResponse(value);
  } catch (error) {
    // A body JSON cannot encode (a cycle, a BigInt) or a header value whose toString throws:
    // this job fails, not its worker and every job beside it.
    return failureEnvelope(run, JOB_FAILURE.badResponse, `handler returned a response that cannot be encoded: ${(error as Error).message}`, null);
  }
  if (!result.ok) return failureEnvelope(run, JOB_FAILURE.badResponse, result.message, null);
  if (discard) return { ...RESPONSE_TEMPLATE, kind: RESPONSE_RESULT, jobId: run.jobId, slot: run.slot, status: result.status };
  const warnings = result.warnings === undefined ? run.warnings : addWarnings(run.warnings, result.warnings);
  return { ...RESPONSE_TEMPLATE, kind: RESPONSE_RESULT, jobId: run.jobId, slot: run.slot, status: result.status, headers: result.headers, body: result.body, warnings };
}

/**
 * The four documented fields of a progress report, when of the documented type. Anything else a
 * handler passes (a cycle, a BigInt) would fail to encode here, in a timer, and take the worker
 * and every job on it down. Copied once per report sent, not per `ctx.progress()` call.
 */
function knownProgressFields(progress: JobProgress): ReportedProgress {
  const known: ReportedProgress = {};
  if (typeof progress?.current === 'number') known.current = progress.current;
  if (typeof progress?.total === 'number') known.total = progress.total;
  if (typeof progress?.message === 'string') known.message = progress.message;
  if (typeof progress?.phase === 'string') known.phase = progress.phase;
  return known;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function cancelledEnvelope(run: JobRun): ResponseEnvelope {
  return { ...RESPONSE_TEMPLATE, kind: RESPONSE_CANCELLED, jobId: run.jobId, slot: run.slot, status: run.abortReason === ABORT_TIMED_OUT ? 1 : 0 };
}

function failureEnvelope(run: JobRun, code: string, message: string, details: FailureDetails | null): ResponseEnvelope {
  return { ...RESPONSE_TEMPLATE, kind: RESPONSE_FAILED, jobId: run.jobId, slot: run.slot, code, message, details };
}

/** At most this many of a thrown error's fields travel with its failure, strings cut to MAX_DETAIL_CHARS. */
const MAX_DETAIL_FIELDS = 16;
const MAX_DETAIL_CHARS = 1024;
/** Fields an error class often defines as getters or on its prototype (not own enumerable ones). */
const WELL_KNOWN_DETAILS = ['status', 'statusCode', 'errorNum', 'code', 'retryable', 'retryAfterMs'];
const SKIPPED_DETAILS = new Set(['message', 'stack', 'cause', 'name']);

/** A thrown error's message, and its own data fields for the embedder to interpret (the engine reads none). */
function errorEnvelope(run: JobRun, error: unknown): ResponseEnvelope {
  const candidate = error as { message?: unknown } | null;
  let message: string;
  let details: Record<string, string | number | boolean> | null = null;
  // Reading a thrown value runs handler code (getters, toString) that may throw in turn: that
  // must fail this job, never the worker and every job beside it.
  try {
    const ownMessage = candidate?.message;
    message = typeof ownMessage === 'string' && ownMessage !== '' ? ownMessage : String(candidate);
    if (candidate !== null && typeof candidate === 'object') {
      const fields = candidate as Record<string, unknown>;
      for (const key of [...Object.keys(fields), ...WELL_KNOWN_DETAILS]) {
        if (SKIPPED_DETAILS.has(key) || (details !== null && (key in details || Object.keys(details).length >= MAX_DETAIL_FIELDS))) continue;
        const value = fields[key];
        if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) (details ??= {})[key] = value;
        else if (typeof value === 'string') (details ??= {})[key] = value.length > MAX_DETAIL_CHARS ? value.slice(0, MAX_DETAIL_CHARS) : value;
      }
    }
  } catch {
    // Named case: the thrown value cannot describe itself; its type is all there is to say.
    message = `handler threw a value that cannot be described (${Object.prototype.toString.call(candidate)})`;
    details = null;
  }
  return failureEnvelope(run, JOB_FAILURE.handlerError, message, details);
}

function headerObject(flat: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) headers[flat[i]] = flat[i + 1];
  return headers;
}
