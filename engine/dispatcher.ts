import {
  createRequestPacker, createResponseUnpacker, RecordReader, RESPONSE_CANCELLED, RESPONSE_FAILED,
  RESPONSE_LOG, RESPONSE_PROGRESS, RESPONSE_RESULT, type RequestEnvelope, type ResponseEnvelope,
} from './codec.js';
import { Doorbell } from './doorbell.js';
import type { ResolvedEngineOptions } from './engine-options.js';
import type { JobRetries } from './job-retries.js';
import {
  JobSlots, SlotQueue, SLOT_DELAYED, SLOT_IN_RING, SLOT_RUNNING, SLOT_WAITING, SLOT_ZOMBIE, SLOT_ZOMBIE_TAKEN,
} from './job-slots.js';
import { ABORT_NONE } from './layout.js';
import { MainLane } from './main-lane.js';
import { pickLane } from './pick-lane.js';
import type { JobEventData, JobEventKind, JobEventListener, JobFailure, JobResult } from './types.js';

/**
 * How often the main thread looks at the rings without being woken. A worker publishes each
 * result at once but wakes the main thread only when its batch yields, so a handler that never
 * yields would otherwise hide the results (and starts) of the jobs before it; ringing per job
 * instead costs every job a wake-up check. This bounds that delay for the price of a few
 * atomic loads 20 times a second.
 */
const SWEEP_MS = 50;

/**
 * The engine's hot path: every job slot and every lane, the hand-over of jobs to the workers'
 * rings, and the turning of their responses into job events. `Engine` owns one and keeps the
 * workers, the public API and shutdown; `JobStopper` and `recoverLaneJobs` act on its state.
 */
export class Dispatcher {
  readonly lanes: MainLane[];
  readonly slots: JobSlots;
  readonly waiting: SlotQueue;
  readonly abortSlots: Int32Array;
  readonly mainDoorbell = Doorbell.create();
  readonly listeners: JobEventListener[] = [];
  /** Set by `Engine.close`: no job is accepted any more, and none runs again after its worker died. */
  closing = false;
  /** Jobs held with a deadline: the deadline timer (`JobStopper`) runs while there are any. */
  deadlineCount = 0;
  /**
   * Set by the engine: asked when a running job's attempt failed (the job may run again), and
   * keeper of the jobs waiting out a retry's backoff, which count as queued.
   */
  retries: Pick<JobRetries, 'retry' | 'delayedCount' | 'ended'> | null = null;
  readonly #packer = createRequestPacker();
  readonly #reader = new RecordReader(createResponseUnpacker());
  #laneCursor = 0;
  #flushScheduled = false;
  /** The main doorbell is marked awake: workers do not notify; the turn's end drains. */
  #mainAwake = false;
  #closed = false;
  readonly #sweepTimer: NodeJS.Timeout;

  constructor(options: ResolvedEngineOptions) {
    const { threads, concurrencyPerWorker, maxQueuedJobs, ringBytes } = options;
    // Room for every job that may wait, every job that may run, and as many cancelled
    // jobs still sitting in rings (they no longer count as waiting, but hold their slot
    // until their worker skips them).
    const capacity = 2 * maxQueuedJobs + threads * concurrencyPerWorker;
    this.slots = new JobSlots(capacity);
    this.waiting = new SlotQueue(capacity);
    this.abortSlots = new Int32Array(new SharedArrayBuffer(capacity * 4));
    this.lanes = Array.from({ length: threads }, (_, index) => new MainLane(index, ringBytes));
    this.#sweepTimer = setInterval(sweep, SWEEP_MS, this).unref();
  }

  /** True once `close()` was called: the wait loop and the sweep stop, and a lane's end is ignored. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the periodic sweep and ends `waitLoop`. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.mainDoorbell.ring();
  }

  /** Called by `submit`: this event-loop turn's end drains, so workers need not notify. */
  markMainAwake(): void {
    if (!this.#mainAwake) {
      this.#mainAwake = true;
      this.mainDoorbell.awake();
    }
  }

  // ---- dispatch ----

  /**
   * Jobs waiting on the main thread, not counting those cancelled while waiting: their stale
   * entries stay in `waiting` until the queue reaches them, but must not hold a place in it.
   */
  waitingJobCount = 0;

  queuedCount(fresh: boolean): number {
    let count = this.waitingJobCount + (this.retries?.delayedCount ?? 0);
    for (const lane of this.lanes) {
      if (fresh && lane.alive) this.observeStarted(lane);
      count += lane.waitingCount;
    }
    return count;
  }

  /** Keeps FIFO order: a job waits behind those already waiting on the main thread. */
  enqueue(slot: number): void {
    if (this.waiting.size > 0 || !this.#place(slot)) {
      this.slots.state[slot] = SLOT_WAITING;
      this.slots.lane[slot] = -1;
      this.waiting.push(slot, this.slots.jobId[slot]);
      this.waitingJobCount++;
    }
  }

  /** Writes the job into the least loaded live lane's ring; false when none has room. */
  #place(slot: number): boolean {
    const lane = pickLane(this.lanes, this.#laneCursor);
    this.#laneCursor = (this.#laneCursor + 1) % this.lanes.length;
    if (lane === undefined) return false;
    const slots = this.slots;
    const request = slots.request[slot]!;
    const envelope: RequestEnvelope = {
      jobId: slots.jobId[slot], slot, route: slots.route[slot], method: request.method, path: request.path,
      query: request.query, headers: request.headers, body: request.body, deadline: slots.deadline[slot],
      attempt: slots.attempt[slot], spilled: false, discard: slots.discard[slot] === 1,
      userName: request.user?.name ?? null, superuser: request.user?.superuser === true,
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

  drainWaiting(): void {
    const waiting = this.waiting;
    while (waiting.size > 0) {
      const slot = waiting.peekSlot();
      if (this.slots.jobId[slot] !== waiting.peekJobId() || this.slots.state[slot] !== SLOT_WAITING) {
        waiting.shift(); // cancelled while waiting
        continue;
      }
      if (!this.#place(slot)) break;
      waiting.shift();
      this.waitingJobCount--;
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
    for (const lane of this.lanes) if (lane.dirty) lane.publish();
    if (this.#mainAwake) {
      this.drain();
      this.mainDoorbell.prepareToSleep();
      this.#mainAwake = false;
      this.drain();
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
  async waitLoop(): Promise<void> {
    while (!this.#closed) {
      const sequence = this.mainDoorbell.prepareToSleep();
      this.#mainAwake = false;
      this.drain();
      const wait = this.mainDoorbell.sleepAsync(sequence);
      if (wait !== null) await wait;
    }
  }

  drain(): void {
    for (const lane of this.lanes) {
      if (!lane.alive) continue;
      this.observeStarted(lane);
      this.drainResponses(lane);
      if (lane.wantsResponseRoom()) lane.doorbell.ring();
    }
    this.drainWaiting();
  }

  /** Jobs whose records lie before the worker's read cursor were taken: they are running. */
  observeStarted(lane: MainLane): void {
    const queue = lane.unstarted;
    if (queue.size === 0) return;
    const readCursor = lane.requestRing.loadReadCursor();
    while (queue.size > 0 && ((readCursor - queue.peekMark()) | 0) >= 0) {
      const slot = queue.peekSlot();
      if (this.slots.jobId[slot] === queue.peekJobId() && this.slots.lane[slot] === lane.index) this.#markStarted(slot, lane);
      queue.shift();
    }
  }

  #markStarted(slot: number, lane: MainLane): void {
    const state = this.slots.state[slot];
    if (state === SLOT_IN_RING) {
      lane.waitingCount--;
      this.slots.state[slot] = SLOT_RUNNING;
      this.emit('running', this.slots.jobId[slot], undefined);
    } else if (state === SLOT_ZOMBIE) {
      this.slots.state[slot] = SLOT_ZOMBIE_TAKEN;
    }
  }

  drainResponses(lane: MainLane): void {
    const ring = lane.responseRing;
    let offset = ring.peek();
    if (offset < 0) return;
    while (offset >= 0) {
      const response = this.#reader.decode<ResponseEnvelope>(ring.bytes, offset, ring.recordLength(offset));
      ring.advance(offset);
      this.onResponse(response, lane);
      offset = ring.peek();
    }
    ring.release();
  }

  onResponse(response: ResponseEnvelope, lane: MainLane): void {
    const slot = response.slot;
    const slots = this.slots;
    if (slots.jobId[slot] !== response.jobId || slots.lane[slot] !== lane.index) return; // stale: the job already ended
    this.#markStarted(slot, lane);
    switch (response.kind) {
      case RESPONSE_PROGRESS:
        if (slots.state[slot] === SLOT_RUNNING) this.emit('progress', response.jobId, response.progress!);
        return;
      case RESPONSE_LOG:
        // Also while cancelling: the lines a job wrote on its way out say why it stopped.
        this.emit('log', response.jobId, { lines: response.logs ?? [], dropped: response.dropped });
        return;
      case RESPONSE_RESULT: {
        const result: JobResult = { status: response.status, headers: response.headers ?? [], body: response.body };
        if (response.warnings !== null) result.warnings = response.warnings;
        this.end(slot, 'done', result);
        return;
      }
      case RESPONSE_FAILED: {
        const failure: JobFailure = { code: response.code!, message: response.message!, details: response.details };
        if (this.retries !== null && this.retries.retry(slot, failure)) return;
        this.end(slot, 'failed', failure);
        return;
      }
      case RESPONSE_CANCELLED:
        this.end(slot, response.status === 1 ? 'timedOut' : 'cancelled', undefined);
        return;
    }
  }

  /** Ends a job: frees its slot, then tells the listeners (a zombie's final event is already out). */
  end(slot: number, kind: JobEventKind, data: JobEventData): void {
    const slots = this.slots;
    const jobId = slots.jobId[slot];
    const state = slots.state[slot];
    const wasZombie = state === SLOT_ZOMBIE || state === SLOT_ZOMBIE_TAKEN;
    const laneIndex = slots.lane[slot];
    if (laneIndex >= 0) {
      const lane = this.lanes[laneIndex];
      lane.assignedCount--;
      if (state === SLOT_IN_RING) lane.waitingCount--;
    } else if (state === SLOT_WAITING) {
      this.waitingJobCount--;
    } else if (state === SLOT_DELAYED) {
      this.retries?.ended();
    }
    const timer = slots.graceTimer[slot];
    if (timer !== undefined) {
      clearTimeout(timer);
      slots.graceTimer[slot] = undefined;
    }
    if (slots.deadline[slot] !== 0) this.deadlineCount--;
    Atomics.store(this.abortSlots, slot, ABORT_NONE);
    slots.release(slot);
    if (!wasZombie) this.emit(kind, jobId, data);
  }

  emit(kind: JobEventKind, jobId: number, data: JobEventData): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](kind, jobId, data);
  }

  /** The periodic look at the rings (see SWEEP_MS). */
  sweep(): void {
    if (this.slots.usedCount > 0 && !this.#closed) this.drain();
  }
}

function publishLanes(dispatcher: Dispatcher): void {
  dispatcher.publishLanes();
}

function sweep(dispatcher: Dispatcher): void {
  dispatcher.sweep();
}
