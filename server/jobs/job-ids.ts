/**
 * Job ids per millisecond of wall clock. ArangoDB's job ids are server ticks, so an id from
 * before a restart never names a job after it; ours start at the start time × this and then
 * count up by one. A process would have to issue more than 1,000 jobs per millisecond
 * (a million per second, about three times what the engine manages on this machine) for its
 * ids to run ahead of a successor's start, and at this scale ids stay below 2^53 until the year
 * 2255.
 */
const JOB_IDS_PER_MS = 1000;

/**
 * The first job id of a server starting at `nowMs`: above every id a predecessor issued, as
 * long as the wall clock did not step back across the restart by more than the predecessor
 * ran (then only a durable store, which remembers its last id, can tell).
 */
export function firstJobIdAt(nowMs: number): number {
  return Math.floor(nowMs) * JOB_IDS_PER_MS + 1;
}
