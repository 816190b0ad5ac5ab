import type { MainLane } from './main-lane.js';

/**
 * The lane with the fewest jobs; among equals, one whose worker is awake, because waking a
 * sleeping worker costs a futex wake-up on both threads (the largest single cost of a
 * trivial job in profiles).
 *
 * The search starts at `startIndex`, which the dispatcher moves on by one per call, so equal
 * lanes take turns. Undefined when no lane is alive.
 */
export function pickLane(lanes: readonly MainLane[], startIndex: number): MainLane | undefined {
  let best: MainLane | undefined;
  let bestAwake = false;
  for (let i = 0; i < lanes.length; i++) {
    const lane = lanes[(startIndex + i) % lanes.length];
    if (!lane.alive) continue;
    if (best === undefined || lane.assignedCount < best.assignedCount) {
      best = lane;
      bestAwake = lane.doorbell.isAwake();
    } else if (lane.assignedCount === best.assignedCount && !bestAwake && lane.doorbell.isAwake()) {
      best = lane;
      bestAwake = true;
    }
  }
  return best;
}
