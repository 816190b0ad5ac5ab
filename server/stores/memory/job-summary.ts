import type { JobSummary, JobView } from '../../jobs/index.js';

/** A view without its result, as history pages return it. */
export function summaryOf(view: JobView): JobSummary {
  return {
    jobId: view.jobId, owner: view.owner, state: view.state, createdAtMs: view.createdAtMs, startedAtMs: view.startedAtMs,
    finishedAtMs: view.finishedAtMs, outcome: view.outcome, expiresAtMs: view.expiresAtMs, type: view.type,
  };
}
