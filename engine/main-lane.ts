import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Doorbell } from './doorbell.js';
import { SlotQueue } from './job-slots.js';
import { DOORBELL_CANCEL_GENERATION, DOORBELL_RESPONSE_RING_FULL, DOORBELL_SHUTDOWN, RECORD_ALIGN_BYTES } from './layout.js';
import { RingQueue } from './ring-queue.js';

/**
 * The main thread's end of one worker: its two rings, its doorbell and its spill port. A lane
 * outlives its workers: when Piscina replaces a dead worker, the lane gets fresh shared memory
 * (`reset`) and a new serve task, so nothing the dead worker wrote late can be misread.
 */
export class MainLane {
  readonly index: number;
  readonly #ringBytes: number;
  requestRing!: RingQueue;
  responseRing!: RingQueue;
  doorbell!: Doorbell;
  /** Main side of the spill channel; the other side goes to the worker with its task. */
  port!: MessagePort;
  workerPort!: MessagePort;
  /** Aborting it makes Piscina terminate this lane's worker (V8 TerminateExecution). */
  controller!: AbortController;
  /** Jobs written to the request ring and not yet seen taken, with the cursor just past each record. */
  readonly unstarted: SlotQueue;
  /** Jobs assigned to this lane and not yet ended (waiting in its ring or running). */
  assignedCount = 0;
  /** Jobs in its ring not yet taken by the worker. */
  waitingCount = 0;
  alive = false;
  /** Committed records not yet published to the worker. */
  dirty = false;
  /** Why the last worker of this lane is being terminated, for the jobs that die with it. */
  terminationReason: string | null = null;

  constructor(index: number, ringBytes: number) {
    this.index = index;
    this.#ringBytes = ringBytes;
    this.unstarted = new SlotQueue(ringBytes / RECORD_ALIGN_BYTES);
    this.reset();
  }

  reset(): void {
    this.requestRing = RingQueue.create(this.#ringBytes);
    this.responseRing = RingQueue.create(this.#ringBytes);
    this.doorbell = Doorbell.create();
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.workerPort = channel.port2;
    this.controller = new AbortController();
    this.unstarted.clear();
    this.assignedCount = 0;
    this.waitingCount = 0;
    this.dirty = false;
    this.terminationReason = null;
  }

  publish(): void {
    this.dirty = false;
    this.requestRing.publish();
    this.doorbell.ring();
  }

  /** Wakes the worker to look at its jobs' abort slots. */
  signalCancel(): void {
    Atomics.add(this.doorbell.words, DOORBELL_CANCEL_GENERATION, 1);
    this.doorbell.ring();
  }

  /** The worker asked to be woken once its response ring has room again. */
  wantsResponseRoom(): boolean {
    return Atomics.load(this.doorbell.words, DOORBELL_RESPONSE_RING_FULL) !== 0;
  }

  requestShutdown(): void {
    Atomics.store(this.doorbell.words, DOORBELL_SHUTDOWN, 1);
    this.doorbell.ring();
  }
}
