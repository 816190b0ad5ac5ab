import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { ResponseEnvelope } from './codec.js';
import { Dispatcher } from './dispatcher.js';
import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions, type WorkerReplacedEvent } from './engine-options.js';
import { EngineClosedError, QueueFullError } from './errors.js';
import { SLOT_FREE } from './job-slots.js';
import { JobRetries } from './job-retries.js';
import { JobStopper } from './job-stopper.js';
import { ABORT_CANCELLED, ABORT_SHUTDOWN } from './layout.js';
import type { MainLane } from './main-lane.js';
import { recoverLaneJobs } from './recover-lane-jobs.js';
import { RouteTable } from './route-table.js';
import type { ServeTask } from './serve-task.js';
import type { JobEventListener, SubmitRequest } from './types.js';

export type { EngineOptions, WorkerReplacedEvent } from './engine-options.js';

export interface EngineStats {
  /** Accepted and not started. */
  queuedJobCount: number;
  /** Taken by a worker and not ended. */
  runningJobCount: number;
  threads: number;
  workerRestarts: number;
}

const WORKER_FILE = new URL('./worker.js', import.meta.url).href;

/**
 * Runs jobs on a Piscina-supervised pool of workers, handing them over through shared-memory
 * rings, and cancels them for real. See README "Engine" for the design.
 */
export class Engine {
  readonly routes: RouteTable;
  readonly #options: ResolvedEngineOptions;
  readonly #onWorkerReplaced: ((event: WorkerReplacedEvent) => void) | undefined;
  readonly #handlerModules: string[];
  readonly #pool: Piscina;
  readonly #dispatcher: Dispatcher;
  readonly #stopper: JobStopper;
  readonly #retries: JobRetries;
  readonly #serveTasks = new Set<Promise<unknown>>();
  #lastJobId: number;
  readonly #startLogDirectory: string | null;
  #workerRestarts = 0;
  #wakeLoop: Promise<void> | undefined;

  /** Loads the handlers, starts the workers, and resolves when the engine accepts jobs. */
  static async start(options: EngineOptions = {}): Promise<Engine> {
    const modules = [...(options.handlerModules ?? [])];
    const routes = await RouteTable.load(modules);
    return new Engine(options, modules, routes);
  }

  private constructor(options: EngineOptions, handlerModules: string[], routes: RouteTable) {
    this.#options = resolveEngineOptions(options);
    this.#lastJobId = this.#options.firstJobId - 1;
    const { threads } = this.#options;
    this.routes = routes;
    this.#handlerModules = handlerModules;
    this.#onWorkerReplaced = options.onWorkerReplaced;
    // One long-lived task per worker: concurrentTasksPerWorker 1 makes Piscina give each lane's
    // serve task its own thread, and a replacement thread picks up the re-posted one.
    this.#pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      atomics: 'disabled',
      resourceLimits: options.resourceLimits,
    });
    this.#dispatcher = new Dispatcher(this.#options);
    this.#startLogDirectory = options.startLogDirectory ?? null;
    this.#stopper = new JobStopper(this.#dispatcher, this.#options.cancelGraceMs);
    this.#retries = new JobRetries(this.#dispatcher, routes, this.#stopper, this.#options.defaultTimeoutMs);
    this.#dispatcher.retries = this.#retries;
    for (const lane of this.#dispatcher.lanes) this.#startLane(lane);
    this.#wakeLoop = this.#dispatcher.waitLoop();
  }

  /** Registers a listener of every job's transitions; returns its unsubscribe function. */
  subscribe(listener: JobEventListener): () => void {
    const listeners = this.#dispatcher.listeners;
    listeners.push(listener);
    return () => {
      const index = listeners.indexOf(listener);
      if (index >= 0) listeners.splice(index, 1);
    };
  }

  /**
   * Queues a job for the route at `routeIndex` (from `routes.match`) and returns its id, a
   * positive integer increasing by one per job from `firstJobId`. Throws `QueueFullError` when `maxQueuedJobs`
   * jobs are waiting to start, `EngineClosedError` once `close()` was called. With
   * `discardResult` (fire and forget) the `done` event carries the status only, no headers or
   * body, which saves encoding and copying a result nobody reads.
   */
  submit(routeIndex: number, request: SubmitRequest, discardResult = false): number {
    return this.#queue(routeIndex, request, discardResult, 0);
  }

  /**
   * Takes the next job id without queueing anything: an embedder that records a job before it
   * runs (a durable store: write ahead) takes its id here, then queues it with `resubmit`.
   */
  reserveJobId(): number {
    if (this.#dispatcher.closing) throw new EngineClosedError();
    return ++this.#lastJobId;
  }

  /**
   * Queues, under its own id, a job whose id was issued before and that the engine does not
   * hold: one reserved with `reserveJobId`, or one an earlier run of the embedder issued and did
   * not finish (a durable store's recovery), or with `externalJobIds` one from elsewhere. Throws as `submit` does when the queue is full or
   * the engine is closing.
   */
  resubmit(jobId: number, routeIndex: number, request: SubmitRequest): void {
    const issued = this.#options.externalJobIds || jobId <= this.#lastJobId;
    if (!(Number.isSafeInteger(jobId) && jobId > 0 && issued) || this.#dispatcher.slots.find(jobId) >= 0) {
      throw new RangeError(`resubmit: job ${jobId} was not issued before, or is held (newest id issued: ${this.#lastJobId})`);
    }
    this.#queue(routeIndex, request, false, jobId);
  }

  /** `givenJobId` 0: the next id, taken only once the job is accepted. */
  #queue(routeIndex: number, request: SubmitRequest, discardResult: boolean, givenJobId: number): number {
    const dispatcher = this.#dispatcher;
    if (dispatcher.closing) throw new EngineClosedError();
    if (dispatcher.queuedCount(false) >= this.#options.maxQueuedJobs && dispatcher.queuedCount(true) >= this.#options.maxQueuedJobs) {
      throw new QueueFullError(this.#options.maxQueuedJobs);
    }
    const slots = dispatcher.slots;
    const slot = slots.acquire();
    if (slot < 0) throw new QueueFullError(this.#options.maxQueuedJobs);
    const jobId = givenJobId === 0 ? ++this.#lastJobId : givenJobId;
    slots.jobId[slot] = jobId;
    slots.route[slot] = routeIndex;
    slots.request[slot] = request;
    slots.attempt[slot] = 0;
    slots.discard[slot] = discardResult ? 1 : 0;
    // `??`, not `||`: a route's timeoutMs of 0 means "no deadline" (types.ts), not "the default".
    const timeoutMs = this.routes.routes[routeIndex].timeoutMs ?? this.#options.defaultTimeoutMs;
    if (timeoutMs > 0) this.#stopper.setDeadline(slot, timeoutMs);
    dispatcher.markMainAwake();
    dispatcher.emit('queued', jobId, undefined);
    dispatcher.enqueue(slot);
    return jobId;
  }

  /**
   * Cancels a job: a waiting one never starts, a running one is told through its abort slot and
   * its worker is terminated if it has not stopped after the grace period. Returns false when
   * the engine no longer holds the job (unknown or already ended: an ended job keeps its result).
   */
  cancel(jobId: number): boolean {
    const slot = this.#dispatcher.slots.find(jobId);
    if (slot < 0) return false;
    this.#stopper.stop(slot, ABORT_CANCELLED);
    return true;
  }

  /** The id given to the newest job (`firstJobId - 1` before the first): ids from `firstJobId` up to it were issued. */
  get lastJobId(): number {
    return this.#lastJobId;
  }

  /** The id of this engine's first job (`EngineOptions.firstJobId`). */
  get firstJobId(): number {
    return this.#options.firstJobId;
  }

  get stats(): EngineStats {
    // Observe which jobs the workers took first: counted the other way round, a job taken
    // since the last look is in neither count.
    const queuedJobCount = this.#dispatcher.queuedCount(true);
    let running = 0;
    for (const lane of this.#dispatcher.lanes) running += lane.assignedCount - lane.waitingCount;
    return {
      queuedJobCount,
      runningJobCount: running,
      threads: this.#dispatcher.lanes.length,
      workerRestarts: this.#workerRestarts,
    };
  }

  /**
   * Stops accepting jobs, lets held jobs finish for up to `timeoutMs`, cancels the rest (they
   * end `cancelled`), then stops the workers.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    const dispatcher = this.#dispatcher;
    if (dispatcher.closing) return;
    dispatcher.closing = true;
    const slots = dispatcher.slots;
    const deadline = Date.now() + timeoutMs;
    while (slots.usedCount > 0 && Date.now() < deadline) await delay(10);
    if (slots.usedCount > 0) {
      for (let slot = 0; slot < slots.capacity; slot++) {
        if (slots.state[slot] !== SLOT_FREE) this.#stopper.stop(slot, ABORT_SHUTDOWN);
      }
      const graceEnd = Date.now() + this.#options.cancelGraceMs + 1000;
      while (slots.usedCount > 0 && Date.now() < graceEnd) await delay(10);
    }
    for (const lane of dispatcher.lanes) lane.requestShutdown();
    // Unreferenced: once the serve tasks have settled, this timer must not keep the process
    // alive for another second.
    await Promise.race([Promise.allSettled([...this.#serveTasks]), sleep(1000, undefined, { ref: false })]);
    dispatcher.close();
    this.#stopper.close();
    this.#retries.close();
    await this.#pool.destroy();
    for (const lane of dispatcher.lanes) lane.port.close();
    await this.#wakeLoop;
  }

  // ---- workers ----

  #startLane(lane: MainLane): void {
    const dispatcher = this.#dispatcher;
    const task: ServeTask = {
      laneIndex: lane.index,
      requestRing: lane.requestRing.buffer,
      responseRing: lane.responseRing.buffer,
      workerDoorbell: lane.doorbell.buffer,
      mainDoorbell: dispatcher.mainDoorbell.buffer,
      abortSlots: dispatcher.abortSlots.buffer as SharedArrayBuffer,
      port: lane.workerPort,
      handlerModules: this.#handlerModules,
      concurrency: this.#options.concurrencyPerWorker,
      progressIntervalMs: this.#options.progressIntervalMs,
      startLogDirectory: this.#startLogDirectory,
    };
    lane.port.on('message', (response: ResponseEnvelope) => dispatcher.onResponse(response, lane));
    lane.alive = true;
    const controller = lane.controller;
    const served = this.#pool.run(task, { signal: controller.signal, transferList: [lane.workerPort] as never });
    this.#serveTasks.add(served);
    served.then(
      () => this.#onLaneEnded(lane, controller, 'its worker stopped serving'),
      (error: Error) => this.#onLaneEnded(lane, controller, lane.terminationReason ?? `worker died: ${error.message}`),
    ).finally(() => this.#serveTasks.delete(served));
  }

  /**
   * A lane's worker is gone: takes what it published, accounts for its jobs (`recoverLaneJobs`)
   * and starts a replacement unless the engine is closing.
   */
  #onLaneEnded(lane: MainLane, controller: AbortController, reason: string): void {
    const dispatcher = this.#dispatcher;
    if (lane.controller !== controller || dispatcher.closed) return;
    dispatcher.observeStarted(lane);
    dispatcher.drainResponses(lane);
    lane.alive = false;
    lane.port.removeAllListeners('message');
    lane.port.close();
    if (dispatcher.closing && reason === 'its worker stopped serving') return;
    this.#workerRestarts++;
    const event = recoverLaneJobs(dispatcher, this.routes, lane, reason);
    if (!dispatcher.closing) this.#startLane(lane);
    this.#onWorkerReplaced?.(event);
    dispatcher.drainWaiting();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
