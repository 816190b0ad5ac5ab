import type { Engine, SubmitRequest } from '../../engine/index.js';
import { errorBody, errorFromEngine, JOB_ENDINGS, type ArangoError } from '../errors/index.js';
import { JSON_TYPE } from '../http/index.js';
import type { JobRecorder } from './job-recorder.js';
import type { StoredRequest, StoredResult, UnfinishedJob } from './job-store.js';

/** How often jobs that did not fit into the engine's queue at start-up try again. */
const BACKLOG_RETRY_MS = 50;

export interface RecoveryOutcome {
  /** Queued again under their own id: they had not started, or their route is idempotent. */
  requeued: number;
  /** Ended failed: they may have run and their route is not idempotent (or no longer exists). */
  failed: number;
}

/**
 * Picks up what the last run left unfinished (a durable store after a crash or a restart):
 * a job that never reached a worker, or whose route is idempotent, runs again under its own
 * id; one that may have run (it was dispatched to a worker) on a route that is not
 * idempotent ends failed with a clear error instead, so that nothing runs twice unless that
 * is safe. Jobs beyond the engine's queue wait here and follow as it drains. A failed one ends
 * through the recorder, as if the engine had failed it: its watchers and its webhook hear of it.
 */
export async function recoverUnfinishedJobs(
  unfinished: readonly UnfinishedJob[], engine: Engine, recorder: JobRecorder,
  ending: ArangoError = JOB_ENDINGS.serverStopped,
): Promise<RecoveryOutcome> {
  const outcome: RecoveryOutcome = { requeued: 0, failed: 0 };
  const backlog: Array<{ job: UnfinishedJob; routeIndex: number }> = [];
  const failures: Promise<void>[] = [];
  const nowMs = Date.now();
  for (const job of unfinished) {
    const match = engine.routes.match(job.request.method, job.request.path);
    if (match.kind !== 'found') {
      failures.push(recorder.endUnrun(job.jobId, errorResult({ ...JOB_ENDINGS.serverStopped,
        message: `the server restarted and no longer has a route for ${job.request.method} ${job.request.path}` }), nowMs));
      outcome.failed++;
      continue;
    }
    if (job.dispatched && engine.routes.routes[match.routeIndex].idempotent !== true) {
      failures.push(recorder.endUnrun(job.jobId, errorResult(ending), nowMs));
      outcome.failed++;
      continue;
    }
    backlog.push({ job, routeIndex: match.routeIndex });
    outcome.requeued++;
  }
  await Promise.all(failures);
  feedBacklog(backlog, engine, recorder);
  return outcome;
}

function feedBacklog(backlog: Array<{ job: UnfinishedJob; routeIndex: number }>, engine: Engine, recorder: JobRecorder): void {
  let next = 0;
  const feed = (): void => {
    while (next < backlog.length) {
      const { job, routeIndex } = backlog[next];
      const request: SubmitRequest = { ...job.request, user: job.request.user ?? null };
      try {
        engine.resubmit(job.jobId, routeIndex, request);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ERR_QUEUE_FULL') return void setTimeout(feed, BACKLOG_RETRY_MS).unref();
        if ((error as { code?: unknown }).code === 'ERR_ENGINE_CLOSED') return;
        throw error;
      }
      recorder.trackStored(job.jobId, job.createdAtMs);
      next++;
    }
  };
  feed();
}

/** An ArangoDB error as a stored job's result (a job that ends failed without running). */
export function errorResult(error: ArangoError): StoredResult {
  return { status: error.status, headers: ['content-type', JSON_TYPE], body: Buffer.from(errorBody(error, error.message)) };
}

/**
 * Queues a stored job again under its id (a retry of a failed or cancelled operation, its
 * store record already pending again): null once queued, else why not (its route is gone, the
 * queue is full, the server is stopping), for the caller to answer and record.
 */
export function rerunStoredJob(engine: Engine, recorder: JobRecorder, jobId: number, createdAtMs: number, request: StoredRequest): ArangoError | null {
  const match = engine.routes.match(request.method, request.path);
  if (match.kind !== 'found') return { ...JOB_ENDINGS.serverStopped, message: `the server no longer has a route for ${request.method} ${request.path}` };
  recorder.trackStored(jobId, createdAtMs);
  try {
    engine.resubmit(jobId, match.routeIndex, { ...request, user: request.user ?? null });
    return null;
  } catch (error) {
    recorder.untrackStored(jobId);
    const mapped = errorFromEngine(error);
    if (mapped === undefined) throw error;
    return mapped;
  }
}
