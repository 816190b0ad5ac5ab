import type { Logger } from 'pino';
import type { JobEventKind, JobFailure, RetryNotice } from '../../engine/index.js';

/** What the log keeps of a job between its submit and its end: who, which route, since when. */
interface LoggedJob {
  owner: string;
  route: string;
  mode: string;
  submittedAtMs: number;
  startedAtMs: number;
}

/**
 * Lifecycle logging (the seed: "log operation lifecycle events"): with `--log.jobs true`, or at
 * log level debug, one structured line per transition of every job: submitted, started,
 * retrying, finished (with its outcome and duration), cancel requested (with the reason),
 * expired; each with the job id, owner and route. Off by default: then every call returns at
 * its first line and the hot path pays one branch.
 */
export class JobLog {
  readonly enabled: boolean;
  readonly #logger: Logger;
  readonly #jobs = new Map<number, LoggedJob>();

  constructor(logger: Logger, enabled: boolean) {
    this.#logger = logger;
    this.enabled = enabled;
  }

  submitted(jobId: number, owner: string, route: string, mode: string): void {
    if (!this.enabled) return;
    this.#jobs.set(jobId, { owner, route, mode, submittedAtMs: Date.now(), startedAtMs: 0 });
    this.#logger.info({ event: 'submitted', jobId, owner, route, mode }, 'job submitted');
  }

  /** An engine transition; `data` as the engine's listener gets it. */
  transition(kind: JobEventKind, jobId: number, data: unknown): void {
    if (!this.enabled || kind === 'queued' || kind === 'progress' || kind === 'log') return;
    const job = this.#jobs.get(jobId);
    const known = job === undefined ? { jobId } : { jobId, owner: job.owner, route: job.route, mode: job.mode };
    const nowMs = Date.now();
    if (kind === 'running') {
      if (job !== undefined) job.startedAtMs = nowMs;
      return this.#logger.info({ event: 'started', ...known, waitedMs: job === undefined ? undefined : nowMs - job.submittedAtMs }, 'job started');
    }
    if (kind === 'retrying') {
      const notice = data as RetryNotice | undefined;
      return this.#logger.info({ event: 'retrying', ...known, attempt: notice?.attempt, delayMs: notice?.delayMs, error: notice?.message }, 'job retrying');
    }
    this.#jobs.delete(jobId);
    const durationMs = job === undefined || job.startedAtMs === 0 ? undefined : nowMs - job.startedAtMs;
    const outcome = kind === 'done' ? 'completed' : kind;
    const error = kind === 'failed' ? (data as JobFailure | undefined)?.message : undefined;
    this.#logger.info({ event: 'finished', ...known, outcome, durationMs, error }, `job ${outcome}`);
  }

  cancelRequested(jobId: number, reason: string): void {
    if (!this.enabled) return;
    const job = this.#jobs.get(jobId);
    this.#logger.info({ event: 'cancel-requested', jobId, owner: job?.owner, route: job?.route, reason }, 'job cancel requested');
  }

  expired(jobId: number): void {
    if (!this.enabled) return;
    this.#logger.info({ event: 'expired', jobId }, 'job expired');
  }
}
