import type { Dispatcher } from './dispatcher.js';
import { SLOT_CANCELLING, SLOT_DELAYED, SLOT_IN_RING, SLOT_RUNNING, SLOT_WAITING, SLOT_ZOMBIE } from './job-slots.js';
import { ABORT_TIMED_OUT } from './layout.js';
import type { JobEventKind } from './types.js';

const DEADLINE_TICK_MS = 10;

/**
 * Stops jobs early: on `cancel`, at their deadline and at shutdown. A job that ignores its
 * cancellation for the grace period has its worker terminated.
 */
export class JobStopper {
  readonly #dispatcher: Dispatcher;
  readonly #cancelGraceMs: number;
  #deadlineTimer: NodeJS.Timeout | undefined;

  constructor(dispatcher: Dispatcher, cancelGraceMs: number) {
    this.#dispatcher = dispatcher;
    this.#cancelGraceMs = cancelGraceMs;
  }

  /** Gives the job in `slot` a deadline `timeoutMs` from now; the deadline timer runs while any job has one. */
  setDeadline(slot: number, timeoutMs: number): void {
    this.#dispatcher.slots.deadline[slot] = Date.now() + timeoutMs;
    this.#dispatcher.deadlineCount++;
    this.#deadlineTimer ??= setInterval(checkDeadlines, DEADLINE_TICK_MS, this).unref();
  }

  /** Stops the deadline timer (at shutdown). */
  close(): void {
    clearInterval(this.#deadlineTimer);
  }

  stop(slot: number, reason: number): void {
    const dispatcher = this.#dispatcher;
    const slots = dispatcher.slots;
    const jobId = slots.jobId[slot];
    const finalKind: JobEventKind = reason === ABORT_TIMED_OUT ? 'timedOut' : 'cancelled';
    // The worker may have taken the job since we last looked: decide on its real state.
    if (slots.state[slot] === SLOT_IN_RING) dispatcher.observeStarted(dispatcher.lanes[slots.lane[slot]]);
    switch (slots.state[slot]) {
      case SLOT_WAITING:
      case SLOT_DELAYED:
        dispatcher.end(slot, finalKind, undefined);
        return;
      case SLOT_IN_RING:
        // Already handed over: the worker skips it when it gets there and then frees the slot.
        // Its final event goes out now; nothing of it will ever run, and it no longer counts
        // as waiting (it must not hold a place in the queue a new job could take).
        Atomics.store(dispatcher.abortSlots, slot, reason);
        slots.state[slot] = SLOT_ZOMBIE;
        dispatcher.lanes[slots.lane[slot]].waitingCount--;
        if (slots.deadline[slot] !== 0) {
          dispatcher.deadlineCount--;
          slots.deadline[slot] = 0;
        }
        dispatcher.emit(finalKind, jobId, undefined);
        return;
      case SLOT_RUNNING: {
        Atomics.store(dispatcher.abortSlots, slot, reason);
        slots.state[slot] = SLOT_CANCELLING;
        dispatcher.lanes[slots.lane[slot]].signalCancel();
        slots.graceTimer[slot] = setTimeout(onGraceExpired, this.#cancelGraceMs, this, slot, jobId);
        return;
      }
      default:
        return; // already stopping
    }
  }

  /** Called by the grace timer: the job ignored its cancellation, so its worker goes. */
  terminateStuckJob(slot: number, jobId: number): void {
    const slots = this.#dispatcher.slots;
    slots.graceTimer[slot] = undefined;
    if (slots.jobId[slot] !== jobId || slots.state[slot] !== SLOT_CANCELLING) return;
    const lane = this.#dispatcher.lanes[slots.lane[slot]];
    lane.terminationReason = `terminated to stop job ${jobId}, which did not stop within ${this.#cancelGraceMs} ms of its cancellation`;
    lane.controller.abort();
  }

  checkDeadlines(): void {
    if (this.#dispatcher.deadlineCount === 0) {
      clearInterval(this.#deadlineTimer);
      this.#deadlineTimer = undefined;
      return;
    }
    const now = Date.now();
    const { deadline, state } = this.#dispatcher.slots;
    for (let slot = 0; slot < deadline.length; slot++) {
      const due = deadline[slot];
      if (due !== 0 && due <= now && (state[slot] === SLOT_WAITING || state[slot] === SLOT_IN_RING || state[slot] === SLOT_RUNNING)) {
        this.stop(slot, ABORT_TIMED_OUT);
      }
    }
  }
}

function onGraceExpired(stopper: JobStopper, slot: number, jobId: number): void {
  stopper.terminateStuckJob(slot, jobId);
}

function checkDeadlines(stopper: JobStopper): void {
  stopper.checkDeadlines();
}
