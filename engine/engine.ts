import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  createRequestPacker, createResponseUnpacker, RecordReader, RESPONSE_CANCELLED, RESPONSE_FAILED,
  RESPONSE_PROGRESS, RESPONSE_RESULT, type RequestEnvelope, type ResponseEnvelope,
} from './codec.js';
import { Doorbell } from './doorbell.js';
import { EngineClosedError, EngineOptionsError, JOB_FAILURE, QueueFullError } from './errors.js';
import {
  JobSlots, SlotQueue, SLOT_CANCELLING, SLOT_FREE, SLOT_IN_RING, SLOT_RUNNING, SLOT_WAITING, SLOT_ZOMBIE, SLOT_ZOMBIE_TAKEN,
} from './job-slots.js';
import { ABORT_CANCELLED, ABORT_NONE, ABORT_SHUTDOWN, ABORT_TIMED_OUT } from './layout.js';
import { MainLane } from './main-lane.js';
import { RouteTable } from './route-table.js';
import type { ServeTask } from './serve-task.js';
import type { JobEventKind, JobEventListener, JobFailure, JobProgress, JobResult, SubmitRequest } from './types.js';

export interface EngineOptions {
  /** Worker threads. @defaultValue `os.availableParallelism()` */
  threads?: number;
  /** Jobs one worker runs at once (jobs that await do not hold a thread). @defaultValue 64 */
  concurrencyPerWorker?: number;
  /** Handler modules (absolute paths or file: URLs), loaded after the built-in handlers. */
  handlerModules?: readonly string[];
  /** Serve the built-in handlers (`/_api/version`, `/_admin/sleep`, ...). @defaultValue true */
  builtinHandlers?: boolean;
  /** Jobs that may wait to start; `submit` throws `QueueFullError` beyond. @defaultValue 4096 */
  maxQueuedJobs?: number;
  /** How long a cancelled job may take to stop before its worker is terminated, ms. @defaultValue 250 */
  cancelGraceMs?: number;
  /** Deadline of jobs whose route sets none, ms; 0 for none. @defaultValue 0 */
  defaultTimeoutMs?: number;
  /** Bytes of each ring (power of two); larger envelopes spill to a MessagePort. @defaultValue 1 MiB */
  ringBytes?: number;
  /** Interval at which coalesced progress is sent, ms. @defaultValue 50 */
  progressIntervalMs?: number;
  /** V8 limits of each worker; one exceeding them dies and is replaced. */
  resourceLimits?: ResourceLimits;
  /** Told each time a worker died or was terminated and is being replaced (for logs and metrics). */
  onWorkerReplaced?: (event: WorkerReplacedEvent) => void;
}

export interface WorkerReplacedEvent {
  lane: number;
  reason: string;
  /** Jobs of that worker that ended failed, were re-run, or were dispatched again. */
  failedJobCount: number;
  retriedJobCount: number;
  redispatchedJobCount: number;
}

export interface EngineStats {
  /** Accepted and not started. */
  queuedJobCount: number;
  /** Taken by a worker and not ended. */
  runningJobCount: number;
  threads: number;
  workerRestarts: number;
}

const BUILTIN_HANDLERS = fileURLToPath(new URL('./builtin-handlers.js', import.meta.url));
const WORKER_FILE = new URL('./worker.js', import.meta.url).href;
const DEADLINE_TICK_MS = 10;
/**
 * How often the main thread looks at the rings without being woken. A worker publishes each
 * result at once but wakes the main thread only when its batch yields, so a handler that never
 * yields would otherwise hide the results (and starts) of the jobs before it; ringing per job
 * instead costs every job a wake-up check. This bounds that delay for the price of a few
 * atomic loads 20 times a second.
 */
const SWEEP_MS = 50;

/**
 * Runs jobs on a Piscina-supervised pool of workers, handing them over through shared-memory
 * rings, and cancels them for real. See README "Engine" for the design.
 */
export class Engine {
  readonly routes: RouteTable;
  readonly #options: Required<Omit<EngineOptions, 'resourceLimits' | 'handlerModules' | 'builtinHandlers' | 'onWorkerReplaced'>>;
  readonly #onWorkerReplaced: ((event: WorkerReplacedEvent) => void) | undefined;
  readonly #handlerModules: string[];
  readonly #pool: Piscina;
  readonly #lanes: MainLane[];
  readonly #slots: JobSlots;
  readonly #waiting: SlotQueue;
  readonly #abortSlots: Int32Array;
  readonly #mainDoorbell = Doorbell.create();
  readonly #packer = createRequestPacker();
  readonly #reader = new RecordReader(createResponseUnpacker());
  readonly #listeners: JobEventListener[] = [];
  readonly #serveTasks = new Set<Promise<unknown>>();
  #lastJobId = 0;
  #laneCursor = 0;
  #flushScheduled = false;
  /** The main doorbell is marked awake: workers do not notify; the turn's end drains. */
  #mainAwake = false;
  #deadlineCount = 0;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #workerRestarts = 0;
  #closing = false;
  #closed = false;
  #wakeLoop: Promise<void> | undefined;
  #sweepTimer: NodeJS.Timeout;

  /** Loads the handlers, starts the workers, and resolves when the engine accepts jobs. */
  static async start(options: EngineOptions = {}): Promise<Engine> {
    const modules = [...(options.builtinHandlers === false ? [] : [BUILTIN_HANDLERS]), ...(options.handlerModules ?? [])];
    const routes = await RouteTable.load(modules);
    return new Engine(options, modules, routes);
  }

  private constructor(options: EngineOptions, handlerModules: string[], routes: RouteTable) {
    this.#options = {
      threads: positiveInteger(options.threads ?? availableParallelism(), 'threads'),
      concurrencyPerWorker: positiveInteger(options.concurrencyPerWorker ?? 64, 'concurrencyPerWorker'),
      maxQueuedJobs: positiveInteger(options.maxQueuedJobs ?? 4096, 'maxQueuedJobs'),
      cancelGraceMs: nonNegative(options.cancelGraceMs ?? 250, 'cancelGraceMs'),
      defaultTimeoutMs: nonNegative(options.defaultTimeoutMs ?? 0, 'defaultTimeoutMs'),
      ringBytes: powerOfTwo(options.ringBytes ?? 1 << 20, 'ringBytes'),
      progressIntervalMs: nonNegative(options.progressIntervalMs ?? 50, 'progressIntervalMs'),
    };
    const { threads, concurrencyPerWorker, maxQueuedJobs, ringBytes } = this.#options;
    this.routes = routes;
    this.#handlerModules = handlerModules;
    this.#onWorkerReplaced = options.onWorkerReplaced;
    // Room for every job that may wait, every job that may run, and as many cancelled
    // jobs still sitting in rings (they no longer count as waiting, but hold their slot
    // until their worker skips them).
    const capacity = 2 * maxQueuedJobs + threads * concurrencyPerWorker;
    this.#slots = new JobSlots(capacity);
    this.#waiting = new SlotQueue(capacity);
    this.#abortSlots = new Int32Array(new SharedArrayBuffer(capacity * 4));
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
    this.#lanes = Array.from({ length: threads }, (_, index) => new MainLane(index, ringBytes));
    for (const lane of this.#lanes) this.#startLane(lane);
    this.#wakeLoop = this.#waitLoop();
    this.#sweepTimer = setInterval(sweep, SWEEP_MS, this).unref();
  }

  /** Registers a listener of every job's transitions; returns its unsubscribe function. */
  subscribe(listener: JobEventListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  /**
   * Queues a job for the route at `routeIndex` (from `routes.match`) and returns its id, a
   * positive integer increasing by one per job. Throws `QueueFullError` when `maxQueuedJobs`
   * jobs are waiting to start, `EngineClosedError` once `close()` was called. With
   * `discardResult` (fire and forget) the `done` event carries the status only, no headers or
   * body, which saves encoding and copying a result nobody reads.
   */
  submit(routeIndex: number, request: SubmitRequest, discardResult = false): number {
    if (this.#closing) throw new EngineClosedError();
    if (this.#queuedCount(false) >= this.#options.maxQueuedJobs && this.#queuedCount(true) >= this.#options.maxQueuedJobs) {
      throw new QueueFullError(this.#options.maxQueuedJobs);
    }
    const slot = this.#slots.acquire();
    if (slot < 0) throw new QueueFullError(this.#options.maxQueuedJobs);
    const jobId = ++this.#lastJobId;
    const slots = this.#slots;
    slots.jobId[slot] = jobId;
    slots.route[slot] = routeIndex;
    slots.request[slot] = request;
    slots.attempt[slot] = 0;
    slots.discard[slot] = discardResult ? 1 : 0;
    // `??`, not `||`: a route's timeoutMs of 0 means "no deadline" (types.ts), not "the default".
    const timeoutMs = this.routes.routes[routeIndex].timeoutMs ?? this.#options.defaultTimeoutMs;
    if (timeoutMs > 0) {
      slots.deadline[slot] = Date.now() + timeoutMs;
      this.#deadlineCount++;
      this.#deadlineTimer ??= setInterval(checkDeadlines, DEADLINE_TICK_MS, this).unref();
    }
    if (!this.#mainAwake) {
      this.#mainAwake = true;
      this.#mainDoorbell.awake();
    }
    this.#emit('queued', jobId, undefined);
    this.#enqueue(slot);
    return jobId;
  }

  /**
   * Cancels a job: a waiting one never starts, a running one is told through its abort slot and
   * its worker is terminated if it has not stopped after the grace period. Returns false when
   * the engine no longer holds the job (unknown or already ended: an ended job keeps its result).
   */
  cancel(jobId: number): boolean {
    const slot = this.#slots.find(jobId);
    if (slot < 0) return false;
    this.#stop(slot, ABORT_CANCELLED);
    return true;
  }

  /** The id given to the newest job (0 before the first): ids at or below it were issued. */
  get lastJobId(): number {
    return this.#lastJobId;
  }

  get stats(): EngineStats {
    // Observe which jobs the workers took first: counted the other way round, a job taken
    // since the last look is in neither count.
    const queuedJobCount = this.#queuedCount(true);
    let running = 0;
    for (const lane of this.#lanes) running += lane.assignedCount - lane.waitingCount;
    return {
      queuedJobCount,
      runningJobCount: running,
      threads: this.#lanes.length,
      workerRestarts: this.#workerRestarts,
    };
  }

  /**
   * Stops accepting jobs, lets held jobs finish for up to `timeoutMs`, cancels the rest (they
   * end `cancelled`), then stops the workers.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const deadline = Date.now() + timeoutMs;
    while (this.#slots.usedCount > 0 && Date.now() < deadline) await delay(10);
    if (this.#slots.usedCount > 0) {
      for (let slot = 0; slot < this.#slots.capacity; slot++) {
        if (this.#slots.state[slot] !== SLOT_FREE) this.#stop(slot, ABORT_SHUTDOWN);
      }
      const graceEnd = Date.now() + this.#options.cancelGraceMs + 1000;
      while (this.#slots.usedCount > 0 && Date.now() < graceEnd) await delay(10);
    }
    for (const lane of this.#lanes) lane.requestShutdown();
    // Unreferenced: once the serve tasks have settled, this timer must not keep the process
    // alive for another second.
    await Promise.race([Promise.allSettled([...this.#serveTasks]), sleep(1000, undefined, { ref: false })]);
    this.#closed = true;
    clearInterval(this.#deadlineTimer);
    clearInterval(this.#sweepTimer);
    this.#mainDoorbell.ring();
    await this.#pool.destroy();
    for (const lane of this.#lanes) lane.port.close();
    await this.#wakeLoop;
  }

  // ---- dispatch ----

  #queuedCount(fresh: boolean): number {
    let count = this.#waiting.size;
    for (const lane of this.#lanes) {
      if (fresh && lane.alive) this.#observeStarted(lane);
      count += lane.waitingCount;
    }
    return count;
  }

  /** Keeps FIFO order: a job waits behind those already waiting on the main thread. */
  #enqueue(slot: number): void {
    if (this.#waiting.size > 0 || !this.#place(slot)) {
      this.#slots.state[slot] = SLOT_WAITING;
      this.#slots.lane[slot] = -1;
      this.#waiting.push(slot, this.#slots.jobId[slot]);
    }
  }

  /** Writes the job into the least loaded live lane's ring; false when none has room. */
  #place(slot: number): boolean {
    const lane = this.#pickLane();
    if (lane === undefined) return false;
    const slots = this.#slots;
    const request = slots.request[slot]!;
    const envelope: RequestEnvelope = {
      jobId: slots.jobId[slot], slot, route: slots.route[slot], method: request.method, path: request.path,
      query: request.query, headers: request.headers, body: request.body, deadline: slots.deadline[slot],
      attempt: slots.attempt[slot], spilled: false, discard: slots.discard[slot] === 1,
    };
    const ring = lane.requestRing;
    let encoded = this.#packer.pack(envelope);
    const spilled = encoded.length > ring.maxRecordBytes;
    if (spilled) {
      envelope.spilled = true;
      const full = envelope;
      encoded = this.#packer.pack({ ...envelope, headers: [], body: null });
      if (!ring.tryWrite(encoded)) return false;
      lane.port.postMessage(full);
    } else if (!ring.tryWrite(encoded)) {
      return false;
    }
    slots.state[slot] = SLOT_IN_RING;
    slots.lane[slot] = lane.index;
    lane.assignedCount++;
    lane.waitingCount++;
    lane.unstarted.push(slot, slots.jobId[slot], ring.writeCursor);
    lane.dirty = true;
    this.#scheduleFlush();
    return true;
  }

  /**
   * The lane with the fewest jobs; among equals, one whose worker is awake, because waking a
   * sleeping worker costs a futex wake-up on both threads (the largest single cost of a
   * trivial job in profiles).
   */
  #pickLane(): MainLane | undefined {
    const lanes = this.#lanes;
    let best: MainLane | undefined;
    let bestAwake = false;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[(this.#laneCursor + i) % lanes.length];
      if (!lane.alive) continue;
      if (best === undefined || lane.assignedCount < best.assignedCount) {
        best = lane;
        bestAwake = lane.doorbell.isAwake();
      } else if (lane.assignedCount === best.assignedCount && !bestAwake && lane.doorbell.isAwake()) {
        best = lane;
        bestAwake = true;
      }
    }
    this.#laneCursor = (this.#laneCursor + 1) % lanes.length;
    return best;
  }

  #drainWaiting(): void {
    const waiting = this.#waiting;
    while (waiting.size > 0) {
      const slot = waiting.peekSlot();
      if (this.#slots.jobId[slot] !== waiting.peekJobId() || this.#slots.state[slot] !== SLOT_WAITING) {
        waiting.shift(); // cancelled while waiting
        continue;
      }
      if (!this.#place(slot)) break;
      waiting.shift();
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Once per event-loop turn, not per job: every request uWS delivered in this turn goes
    // out with one cursor store and at most one wake-up per worker.
    setImmediate(publishLanes, this);
  }

  publishLanes(): void {
    this.#flushScheduled = false;
    for (const lane of this.#lanes) if (lane.dirty) lane.publish();
    if (this.#mainAwake) {
      this.#drain();
      this.#mainDoorbell.prepareToSleep();
      this.#mainAwake = false;
      this.#drain();
    }
  }

  // ---- results ----

  /**
   * One `Atomics.waitAsync` is always armed on the main doorbell. Workers only notify it
   * while the main thread is marked sleeping: a main thread busy with requests is marked
   * awake (`submit`) and drains the response rings at the end of its event-loop turn
   * instead, so a busy server pays no wake-up per result. The turn's end marks it sleeping
   * again and drains once more, so a result published in between is never stranded.
   */
  async #waitLoop(): Promise<void> {
    while (!this.#closed) {
      const sequence = this.#mainDoorbell.prepareToSleep();
      this.#mainAwake = false;
      this.#drain();
      const wait = this.#mainDoorbell.sleepAsync(sequence);
      if (wait !== null) await wait;
    }
  }

  #drain(): void {
    for (const lane of this.#lanes) {
      if (!lane.alive) continue;
      this.#observeStarted(lane);
      this.#drainResponses(lane);
      if (lane.wantsResponseRoom()) lane.doorbell.ring();
    }
    this.#drainWaiting();
  }

  /** Jobs whose records lie before the worker's read cursor were taken: they are running. */
  #observeStarted(lane: MainLane): void {
    const queue = lane.unstarted;
    if (queue.size === 0) return;
    const readCursor = lane.requestRing.loadReadCursor();
    while (queue.size > 0 && ((readCursor - queue.peekMark()) | 0) >= 0) {
      const slot = queue.peekSlot();
      if (this.#slots.jobId[slot] === queue.peekJobId() && this.#slots.lane[slot] === lane.index) this.#markStarted(slot, lane);
      queue.shift();
    }
  }

  #markStarted(slot: number, lane: MainLane): void {
    const state = this.#slots.state[slot];
    if (state === SLOT_IN_RING) {
      lane.waitingCount--;
      this.#slots.state[slot] = SLOT_RUNNING;
      this.#emit('running', this.#slots.jobId[slot], undefined);
    } else if (state === SLOT_ZOMBIE) {
      this.#slots.state[slot] = SLOT_ZOMBIE_TAKEN;
    }
  }

  #drainResponses(lane: MainLane): void {
    const ring = lane.responseRing;
    let offset = ring.peek();
    if (offset < 0) return;
    while (offset >= 0) {
      const response = this.#reader.decode<ResponseEnvelope>(ring.bytes, offset, ring.recordLength(offset));
      ring.advance(offset);
      this.#onResponse(response, lane);
      offset = ring.peek();
    }
    ring.release();
  }

  #onResponse(response: ResponseEnvelope, lane: MainLane): void {
    const slot = response.slot;
    const slots = this.#slots;
    if (slots.jobId[slot] !== response.jobId || slots.lane[slot] !== lane.index) return; // stale: the job already ended
    this.#markStarted(slot, lane);
    switch (response.kind) {
      case RESPONSE_PROGRESS:
        if (slots.state[slot] === SLOT_RUNNING) this.#emit('progress', response.jobId, response.progress as JobProgress);
        return;
      case RESPONSE_RESULT: {
        const result: JobResult = { status: response.status, headers: response.headers ?? [], body: response.body };
        this.#end(slot, 'done', result);
        return;
      }
      case RESPONSE_FAILED: {
        const failure: JobFailure = { status: response.status, code: response.code!, message: response.message! };
        if (response.errorNum !== null) failure.errorNum = response.errorNum;
        this.#end(slot, 'failed', failure);
        return;
      }
      case RESPONSE_CANCELLED:
        this.#end(slot, response.status === 1 ? 'timedOut' : 'cancelled', undefined);
        return;
    }
  }

  /** Ends a job: frees its slot, then tells the listeners (a zombie's final event is already out). */
  #end(slot: number, kind: JobEventKind, data: JobResult | JobFailure | undefined): void {
    const slots = this.#slots;
    const jobId = slots.jobId[slot];
    const state = slots.state[slot];
    const wasZombie = state === SLOT_ZOMBIE || state === SLOT_ZOMBIE_TAKEN;
    const laneIndex = slots.lane[slot];
    if (laneIndex >= 0) {
      const lane = this.#lanes[laneIndex];
      lane.assignedCount--;
      if (state === SLOT_IN_RING) lane.waitingCount--;
    }
    const timer = slots.graceTimer[slot];
    if (timer !== undefined) {
      clearTimeout(timer);
      slots.graceTimer[slot] = undefined;
    }
    if (slots.deadline[slot] !== 0) this.#deadlineCount--;
    Atomics.store(this.#abortSlots, slot, ABORT_NONE);
    slots.release(slot);
    if (!wasZombie) this.#emit(kind, jobId, data);
  }

  // ---- cancellation ----

  #stop(slot: number, reason: number): void {
    const slots = this.#slots;
    const jobId = slots.jobId[slot];
    const finalKind: JobEventKind = reason === ABORT_TIMED_OUT ? 'timedOut' : 'cancelled';
    // The worker may have taken the job since we last looked: decide on its real state.
    if (slots.state[slot] === SLOT_IN_RING) this.#observeStarted(this.#lanes[slots.lane[slot]]);
    switch (slots.state[slot]) {
      case SLOT_WAITING:
        this.#end(slot, finalKind, undefined);
        return;
      case SLOT_IN_RING:
        // Already handed over: the worker skips it when it gets there and then frees the slot.
        // Its final event goes out now; nothing of it will ever run, and it no longer counts
        // as waiting (it must not hold a place in the queue a new job could take).
        Atomics.store(this.#abortSlots, slot, reason);
        slots.state[slot] = SLOT_ZOMBIE;
        this.#lanes[slots.lane[slot]].waitingCount--;
        if (slots.deadline[slot] !== 0) {
          this.#deadlineCount--;
          slots.deadline[slot] = 0;
        }
        this.#emit(finalKind, jobId, undefined);
        return;
      case SLOT_RUNNING: {
        Atomics.store(this.#abortSlots, slot, reason);
        slots.state[slot] = SLOT_CANCELLING;
        this.#lanes[slots.lane[slot]].signalCancel();
        slots.graceTimer[slot] = setTimeout(onGraceExpired, this.#options.cancelGraceMs, this, slot, jobId);
        return;
      }
      default:
        return; // already stopping
    }
  }

  /** Called by the grace timer: the job ignored its cancellation, so its worker goes. */
  terminateStuckJob(slot: number, jobId: number): void {
    const slots = this.#slots;
    slots.graceTimer[slot] = undefined;
    if (slots.jobId[slot] !== jobId || slots.state[slot] !== SLOT_CANCELLING) return;
    const lane = this.#lanes[slots.lane[slot]];
    lane.terminationReason = `terminated to stop job ${jobId}, which did not stop within ${this.#options.cancelGraceMs} ms of its cancellation`;
    lane.controller.abort();
  }

  /** The periodic look at the rings (see SWEEP_MS). */
  sweep(): void {
    if (this.#slots.usedCount > 0 && !this.#closed) this.#drain();
  }

  checkDeadlines(): void {
    if (this.#deadlineCount === 0) {
      clearInterval(this.#deadlineTimer);
      this.#deadlineTimer = undefined;
      return;
    }
    const now = Date.now();
    const { deadline, state } = this.#slots;
    for (let slot = 0; slot < deadline.length; slot++) {
      const due = deadline[slot];
      if (due !== 0 && due <= now && (state[slot] === SLOT_WAITING || state[slot] === SLOT_IN_RING || state[slot] === SLOT_RUNNING)) {
        this.#stop(slot, ABORT_TIMED_OUT);
      }
    }
  }

  // ---- workers ----

  #startLane(lane: MainLane): void {
    const task: ServeTask = {
      laneIndex: lane.index,
      requestRing: lane.requestRing.buffer,
      responseRing: lane.responseRing.buffer,
      workerDoorbell: lane.doorbell.buffer,
      mainDoorbell: this.#mainDoorbell.buffer,
      abortSlots: this.#abortSlots.buffer as SharedArrayBuffer,
      port: lane.workerPort,
      handlerModules: this.#handlerModules,
      concurrency: this.#options.concurrencyPerWorker,
      progressIntervalMs: this.#options.progressIntervalMs,
    };
    lane.port.on('message', (response: ResponseEnvelope) => this.#onResponse(response, lane));
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
   * A lane's worker is gone (crashed, ran out of memory, or was terminated to stop a job).
   * Every job it held is accounted for: what it finished is delivered, what it had not taken
   * is dispatched again, what it was running ends `failed` (or runs again once if its route is
   * idempotent), and the job it was terminated for ends `cancelled`.
   */
  #onLaneEnded(lane: MainLane, controller: AbortController, reason: string): void {
    if (lane.controller !== controller || this.#closed) return;
    this.#observeStarted(lane);
    this.#drainResponses(lane);
    lane.alive = false;
    lane.port.removeAllListeners('message');
    lane.port.close();
    if (this.#closing && reason === 'its worker stopped serving') return;
    this.#workerRestarts++;
    const slots = this.#slots;
    const requeue: number[] = [];
    let failedJobCount = 0;
    let retriedJobCount = 0;
    for (let slot = 0; slot < slots.capacity; slot++) {
      if (slots.lane[slot] !== lane.index || slots.state[slot] === SLOT_FREE) continue;
      switch (slots.state[slot]) {
        case SLOT_ZOMBIE:
        case SLOT_ZOMBIE_TAKEN:
          this.#end(slot, 'cancelled', undefined);
          break;
        case SLOT_CANCELLING:
          this.#end(slot, Atomics.load(this.#abortSlots, slot) === ABORT_TIMED_OUT ? 'timedOut' : 'cancelled', undefined);
          break;
        case SLOT_IN_RING:
          requeue.push(slot);
          break;
        case SLOT_RUNNING: {
          const failure: JobFailure = { status: 500, code: JOB_FAILURE.workerTerminated, message: `worker terminated: ${reason}` };
          if (this.routes.routes[slots.route[slot]].idempotent === true && slots.attempt[slot] === 0 && !this.#closing) {
            slots.attempt[slot] = 1;
            this.#emit('retrying', slots.jobId[slot], failure);
            requeue.push(slot);
            retriedJobCount++;
          } else {
            this.#end(slot, 'failed', failure);
            failedJobCount++;
          }
          break;
        }
      }
    }
    lane.reset();
    for (const slot of requeue) {
      slots.lane[slot] = -1;
      slots.state[slot] = SLOT_WAITING;
      this.#waiting.push(slot, slots.jobId[slot]);
    }
    if (!this.#closing) this.#startLane(lane);
    this.#onWorkerReplaced?.({
      lane: lane.index, reason, failedJobCount, retriedJobCount, redispatchedJobCount: requeue.length - retriedJobCount,
    });
    this.#drainWaiting();
  }

  #emit(kind: JobEventKind, jobId: number, data: JobResult | JobFailure | JobProgress | undefined): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](kind, jobId, data);
  }
}

function onGraceExpired(engine: Engine, slot: number, jobId: number): void {
  engine.terminateStuckJob(slot, jobId);
}

function publishLanes(engine: Engine): void {
  engine.publishLanes();
}

function sweep(engine: Engine): void {
  engine.sweep();
}

function checkDeadlines(engine: Engine): void {
  engine.checkDeadlines();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new EngineOptionsError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new EngineOptionsError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

function powerOfTwo(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 4096 || (value & (value - 1)) !== 0) {
    throw new EngineOptionsError(`${name} must be a power of two of at least 4096, got ${value}`);
  }
  return value;
}
