import type { DeliveryAttempt, DeliveryRecorder } from '../webhook-types.js';

/** Collects a delivery's attempt records; `done` resolves with all of them after the final one. */
export function collectAttempts(): { record: DeliveryRecorder; attempts: DeliveryAttempt[]; done: Promise<DeliveryAttempt[]> } {
  const attempts: DeliveryAttempt[] = [];
  let finish: (value: DeliveryAttempt[]) => void = () => undefined;
  const done = new Promise<DeliveryAttempt[]>((resolve) => { finish = resolve; });
  const record: DeliveryRecorder = (attempt) => {
    attempts.push(attempt);
    if (attempt.outcome !== 'failed' || attempt.nextAttemptAt === undefined) finish(attempts);
  };
  return { record, attempts, done };
}
