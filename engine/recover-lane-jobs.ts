import type { Dispatcher } from './dispatcher.js';
import type { WorkerReplacedEvent } from './engine-options.js';
import { JOB_FAILURE } from './errors.js';
import { SLOT_CANCELLING, SLOT_FREE, SLOT_IN_RING, SLOT_RUNNING, SLOT_WAITING, SLOT_ZOMBIE, SLOT_ZOMBIE_TAKEN } from './job-slots.js';
import { ABORT_TIMED_OUT } from './layout.js';
import type { MainLane } from './main-lane.js';
import type { RouteTable } from './route-table.js';
import type { JobFailure, RetryNotice } from './types.js';

/**
 * A lane's worker is gone (crashed, ran out of memory, or was terminated to stop a job).
 * Every job it held is accounted for: what it finished is delivered, what it had not taken
 * is dispatched again, what it was running ends `failed` (or runs again once if its route is
 * idempotent), and the job it was terminated for ends `cancelled`.
 *
 * Called by `Engine` once the lane's responses are drained and its port closed; it resets the
 * lane and queues the jobs to dispatch again (a running job is not re-run once the engine is
 * closing), and returns the counts for `onWorkerReplaced`.
 */
export function recoverLaneJobs(dispatcher: Dispatcher, routes: RouteTable, lane: MainLane, reason: string): WorkerReplacedEvent {
  const slots = dispatcher.slots;
  const requeue: number[] = [];
  let failedJobCount = 0;
  let retriedJobCount = 0;
  for (let slot = 0; slot < slots.capacity; slot++) {
    if (slots.lane[slot] !== lane.index || slots.state[slot] === SLOT_FREE) continue;
    switch (slots.state[slot]) {
      case SLOT_ZOMBIE:
      case SLOT_ZOMBIE_TAKEN:
        dispatcher.end(slot, 'cancelled', undefined);
        break;
      case SLOT_CANCELLING:
        dispatcher.end(slot, Atomics.load(dispatcher.abortSlots, slot) === ABORT_TIMED_OUT ? 'timedOut' : 'cancelled', undefined);
        break;
      case SLOT_IN_RING:
        requeue.push(slot);
        break;
      case SLOT_RUNNING: {
        const failure: JobFailure = { code: JOB_FAILURE.workerTerminated, message: `worker terminated: ${reason}`, details: null };
        const route = routes.routes[slots.route[slot]];
        // Once for an idempotent route, or while its retry policy has attempts left.
        const attempt = slots.attempt[slot];
        const mayRetry = route.idempotent === true && (attempt === 0 || attempt + 1 < (route.retry?.attempts ?? 0));
        if (mayRetry && !dispatcher.closing) {
          slots.attempt[slot] = attempt + 1;
          const notice: RetryNotice = { ...failure, attempt: attempt + 1, delayMs: 0 };
          dispatcher.emit('retrying', slots.jobId[slot], notice);
          requeue.push(slot);
          retriedJobCount++;
        } else {
          dispatcher.end(slot, 'failed', failure);
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
    dispatcher.waiting.push(slot, slots.jobId[slot]);
    dispatcher.waitingJobCount++;
  }
  return {
    lane: lane.index, reason, failedJobCount, retriedJobCount, redispatchedJobCount: requeue.length - retriedJobCount,
  };
}
