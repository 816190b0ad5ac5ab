import type { SubmitRequest } from './types.js';

/** Slot states (main thread only). */
export const SLOT_FREE = 0;
/** Accepted, waiting on the main thread for room in a lane's ring. */
export const SLOT_WAITING = 1;
/** Written to a lane's ring, not yet taken by its worker. */
export const SLOT_IN_RING = 2;
export const SLOT_RUNNING = 3;
/** Running, abort slot flipped, waiting for the worker to confirm (or for the grace period to end). */
export const SLOT_CANCELLING = 4;
/** Cancelled while in a ring: its final event is already out; the slot is freed when the worker skips it. */
export const SLOT_ZOMBIE = 5;
/** A zombie its worker has taken (and is skipping). */
export const SLOT_ZOMBIE_TAKEN = 6;
/** Failed, waiting out its retry's backoff on the main thread (`JobRetries`): in no lane. */
export const SLOT_DELAYED = 7;

/**
 * Every job the engine holds, as parallel typed arrays indexed by slot, so that accepting,
 * dispatching and finishing a job allocates nothing (STYLE.md §10). The slot index is also
 * the job's abort slot in shared memory and travels in its envelopes, so a result finds its
 * job without a Map. Looking a job up by id (cancel, and resubmit's check that the id is not
 * held) is a linear scan of the slots ever used: free slots are handed out lowest first, so it
 * covers the most jobs held at once, not the capacity; cheaper than a Map insert and delete on
 * every job.
 */
export class JobSlots {
  readonly capacity: number;
  readonly jobId: Float64Array;
  readonly state: Uint8Array;
  readonly lane: Int32Array;
  readonly route: Int32Array;
  /** Epoch ms, 0 when none. */
  readonly deadline: Float64Array;
  readonly attempt: Uint8Array;
  /** 1 when the submitter will not read the result. */
  readonly discard: Uint8Array;
  /** Kept until the job ends: a job re-dispatched after its worker died is encoded again. */
  readonly request: (SubmitRequest | undefined)[];
  readonly graceTimer: (NodeJS.Timeout | undefined)[];
  readonly #free: Int32Array;
  #freeCount: number;
  #used = 0;
  /** Above every slot handed out so far: `find` looks no further. */
  #highWater = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.jobId = new Float64Array(capacity);
    this.state = new Uint8Array(capacity);
    this.lane = new Int32Array(capacity).fill(-1);
    this.route = new Int32Array(capacity);
    this.deadline = new Float64Array(capacity);
    this.attempt = new Uint8Array(capacity);
    this.discard = new Uint8Array(capacity);
    this.request = new Array(capacity).fill(undefined);
    this.graceTimer = new Array(capacity).fill(undefined);
    this.#free = new Int32Array(capacity);
    // Hand out low slots first: they stay warm in cache.
    for (let i = 0; i < capacity; i++) this.#free[i] = capacity - 1 - i;
    this.#freeCount = capacity;
  }

  /** A free slot, or -1 when all are taken. */
  acquire(): number {
    if (this.#freeCount === 0) return -1;
    this.#used++;
    const slot = this.#free[--this.#freeCount];
    if (slot >= this.#highWater) this.#highWater = slot + 1;
    return slot;
  }

  release(slot: number): void {
    this.state[slot] = SLOT_FREE;
    this.jobId[slot] = 0;
    this.lane[slot] = -1;
    this.request[slot] = undefined;
    this.deadline[slot] = 0;
    this.#free[this.#freeCount++] = slot;
    this.#used--;
  }

  /** Slot of a job still held, or -1. */
  find(jobId: number): number {
    // Free slots hold job id 0, which no job has.
    if (jobId === 0) return -1;
    const ids = this.jobId;
    for (let slot = 0, end = this.#highWater; slot < end; slot++) if (ids[slot] === jobId) return slot;
    return -1;
  }

  get usedCount(): number {
    return this.#used;
  }
}

/**
 * FIFO of (slot, jobId, mark) entries in a preallocated ring; the job id detects a slot reused
 * meanwhile. Lanes use the mark for the ring cursor just past each job's record.
 */
export class SlotQueue {
  readonly #slots: Int32Array;
  readonly #jobIds: Float64Array;
  readonly #marks: Int32Array;
  readonly #mask: number;
  #head = 0;
  #tail = 0;

  /** `capacity` is rounded up to a power of two. */
  constructor(capacity: number) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(2, capacity)));
    this.#slots = new Int32Array(size);
    this.#jobIds = new Float64Array(size);
    this.#marks = new Int32Array(size);
    this.#mask = size - 1;
  }

  get size(): number {
    return this.#tail - this.#head;
  }

  push(slot: number, jobId: number, mark = 0): void {
    if (this.size > this.#mask) throw new RangeError('SlotQueue overflow');
    const index = this.#tail++ & this.#mask;
    this.#slots[index] = slot;
    this.#jobIds[index] = jobId;
    this.#marks[index] = mark;
  }

  peekMark(): number {
    return this.#marks[this.#head & this.#mask];
  }

  peekSlot(): number {
    return this.#slots[this.#head & this.#mask];
  }

  peekJobId(): number {
    return this.#jobIds[this.#head & this.#mask];
  }

  shift(): void {
    this.#head++;
  }

  clear(): void {
    this.#head = this.#tail = 0;
  }
}
