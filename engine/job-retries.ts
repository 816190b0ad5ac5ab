import { DelayedStarts } from './delayed-starts.js';
import type { Dispatcher } from './dispatcher.js';
import { JOB_FAILURE } from './errors.js';
import { SLOT_DELAYED, SLOT_RUNNING, SLOT_WAITING } from './job-slots.js';
import type { JobStopper } from './job-stopper.js';
import { ABORT_NONE } from './layout.js';
import type { RouteTable } from './route-table.js';
import type { JobFailure, RetryNotice, RetryPolicy } from './types.js';

const DEFAULT_DELAY_MS = 1000;
const DEFAULT_MAX_DELAY_MS = 60_000;

/**
 * Retries of routes with a retry policy (`RouteDefinition.retry`). A failed attempt does not
 * end its job: the job keeps its slot and id, waits out its backoff in `DelayedStarts` (one
 * timer for all), then queues again behind the jobs waiting then, with its attempt counted up
 * and a fresh deadline. A cancel of a waiting retry ends it at once, like a queued job.
 */
export class JobRetries {
  readonly #dispatcher: Dispatcher;
  readonly #routes: RouteTable;
  readonly #stopper: JobStopper;
  readonly #defaultTimeoutMs: number;
  readonly #random: () => number;
  readonly #delayed: DelayedStarts;

  constructor(dispatcher: Dispatcher, routes: RouteTable, stopper: JobStopper, defaultTimeoutMs: number, random: () => number = Math.random) {
    this.#dispatcher = dispatcher;
    this.#routes = routes;
    this.#stopper = stopper;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#random = random;
    this.#delayed = new DelayedStarts((slot, jobId) => this.#requeue(slot, jobId));
  }

  /** Jobs waiting out a backoff (they count as queued). */
  delayedCount = 0;

  /**
   * Called for a running job whose attempt failed: true when it will run again (its `retrying`
   * event is out, its slot now SLOT_DELAYED), false when the failure ends it.
   */
  retry(slot: number, failure: JobFailure): boolean {
    const dispatcher = this.#dispatcher;
    const slots = dispatcher.slots;
    const policy = this.#routes.routes[slots.route[slot]].retry;
    if (policy === undefined || dispatcher.closing || failure.code !== JOB_FAILURE.handlerError) return false;
    if (failure.details?.retryable === false || slots.attempt[slot] + 1 >= policy.attempts) return false;
    if (slots.state[slot] !== SLOT_RUNNING || Atomics.load(dispatcher.abortSlots, slot) !== ABORT_NONE) return false;
    const attempt = slots.attempt[slot] + 1;
    const delayMs = this.#delayOf(policy, attempt, failure);
    const lane = dispatcher.lanes[slots.lane[slot]];
    lane.assignedCount--;
    slots.lane[slot] = -1;
    slots.attempt[slot] = attempt;
    slots.state[slot] = SLOT_DELAYED;
    // Each attempt has the route's whole timeout; the wait in between counts against none.
    if (slots.deadline[slot] !== 0) {
      slots.deadline[slot] = 0;
      dispatcher.deadlineCount--;
    }
    this.delayedCount++;
    const notice: RetryNotice = { ...failure, attempt, delayMs };
    dispatcher.emit('retrying', slots.jobId[slot], notice);
    this.#delayed.add(slot, slots.jobId[slot], Date.now() + delayMs);
    return true;
  }

  /** A delayed job ended early (cancelled, shut down): it no longer counts. */
  ended(): void {
    this.delayedCount--;
  }

  close(): void {
    this.#delayed.close();
  }

  /**
   * The failure's `retryAfterMs` when it gave one, else `delayMs` doubled per attempt; both
   * capped at `maxDelayMs`, then spread over 50-100 % of the value (jitter).
   */
  #delayOf(policy: RetryPolicy, attempt: number, failure: JobFailure): number {
    const maxDelayMs = policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    const asked = failure.details?.retryAfterMs;
    if (typeof asked === 'number' && asked >= 0) return Math.min(maxDelayMs, asked);
    const base = Math.min(maxDelayMs, (policy.delayMs ?? DEFAULT_DELAY_MS) * 2 ** (attempt - 1));
    return policy.jitter === false ? base : Math.round(base * (0.5 + this.#random() / 2));
  }

  #requeue(slot: number, jobId: number): void {
    const dispatcher = this.#dispatcher;
    const slots = dispatcher.slots;
    if (slots.jobId[slot] !== jobId || slots.state[slot] !== SLOT_DELAYED) return; // cancelled meanwhile
    this.delayedCount--;
    const timeoutMs = this.#routes.routes[slots.route[slot]].timeoutMs ?? this.#defaultTimeoutMs;
    if (timeoutMs > 0) this.#stopper.setDeadline(slot, timeoutMs);
    slots.state[slot] = SLOT_WAITING;
    dispatcher.markMainAwake();
    dispatcher.enqueue(slot);
  }
}
