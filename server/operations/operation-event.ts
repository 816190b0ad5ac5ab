import type { PhaseProgress, ReportedProgress } from '../../engine/index.js';
import type { JobView, StoredProgress } from '../jobs/index.js';
import { operationStatus, type OperationStatus } from './operation-status.js';

/** A phase as the status body shows it (the seed's multi-phase example). */
export interface PhaseView {
  name: string;
  status: 'PENDING' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  /** Seconds, once the phase ended. */
  duration?: number;
  /** The job's percentage while this is its current phase. */
  percentage?: number;
}

/** Progress as the operations surface shows it: the handler's report plus a percentage, and its phases when it names any. */
export interface ProgressView {
  current: number | null;
  total: number | null;
  percentage: number | null;
  phase: string | null;
  message: string | null;
  phases?: PhaseView[];
}

/** One event of an operation, sent alike over SSE, WebSocket and (all but logs) webhooks. */
export interface OperationEvent {
  /** Increasing per operation: the SSE `id:` a client resumes from. */
  id: number;
  event: 'status-update' | 'log' | 'retrying' | 'completed' | 'failed' | 'cancelled';
  operationId: string;
  status: OperationStatus;
  progress: ProgressView | null;
  timestamp: string;
  data: Record<string, unknown>;
}

/** How a job ended, for the phases of its last progress: the phase it was in ends with it. */
export interface ProgressEnding {
  status: OperationStatus;
  atMs: number;
}

/** A progress report (live, or as stored with a finished job) as the status body shows it. */
export function progressView(progress: ReportedProgress | StoredProgress, ending?: ProgressEnding): ProgressView {
  const current = typeof progress.current === 'number' ? progress.current : null;
  const total = typeof progress.total === 'number' ? progress.total : null;
  const percentage = current !== null && total !== null && total > 0 ? Math.min(100, Math.round((current / total) * 1000) / 10) : null;
  const view: ProgressView = {
    current,
    total,
    percentage,
    phase: typeof progress.phase === 'string' ? progress.phase : null,
    message: typeof progress.message === 'string' ? progress.message : null,
  };
  if (Array.isArray(progress.phases) && progress.phases.length > 0) view.phases = progress.phases.map((phase) => phaseView(phase, percentage, ending));
  return view;
}

function phaseView(phase: PhaseProgress, percentage: number | null, ending: ProgressEnding | undefined): PhaseView {
  let status: PhaseView['status'] = phase.status;
  let endedAtMs = phase.endedAtMs;
  if (status === 'IN_PROGRESS' && ending !== undefined) {
    // The phase the job was in ends with it, as the job did.
    status = ending.status === 'COMPLETED' || ending.status === 'COMPLETED_WITH_ERRORS' ? 'COMPLETED' : ending.status === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
    endedAtMs = ending.atMs;
  }
  const view: PhaseView = { name: phase.name, status };
  if (phase.startedAtMs !== 0 && endedAtMs !== 0) view.duration = Math.max(0, Math.round((endedAtMs - phase.startedAtMs) / 100) / 10);
  if (status === 'IN_PROGRESS' && percentage !== null) view.percentage = percentage;
  return view;
}

/** A progress report as it is stored with its job. */
export function storedProgress(progress: ReportedProgress): StoredProgress {
  return {
    current: typeof progress.current === 'number' ? progress.current : null,
    total: typeof progress.total === 'number' ? progress.total : null,
    message: typeof progress.message === 'string' ? progress.message : null,
    phase: typeof progress.phase === 'string' ? progress.phase : null,
    phases: Array.isArray(progress.phases) && progress.phases.length > 0 ? progress.phases : null,
  };
}

/**
 * Event ids need no storage per operation: an event's id is the milliseconds since the
 * operation was created, bumped past the previous id when two fall in the same millisecond.
 * A finished operation's final event is therefore always `finishedAt - createdAt + 1` or
 * later, and can be rebuilt from the job table after its live state is gone.
 */
export function nextEventId(previousId: number, createdAtMs: number, nowMs: number): number {
  return Math.max(previousId + 1, Math.floor(nowMs - createdAtMs));
}

/** The last event of an operation: completed, failed or cancelled (status updates, logs and retries come before). */
export function isFinalEvent(event: OperationEvent): boolean {
  return event.event === 'completed' || event.event === 'failed' || event.event === 'cancelled';
}

/** What an event is called in the JSON every channel sends (the seed's WebSocket message format). */
export function eventName(event: OperationEvent): string {
  switch (event.event) {
    case 'status-update': return 'STATUS_UPDATE';
    case 'log': return 'LOG';
    case 'retrying': return 'RETRYING';
    default: return event.status;
  }
}

export function finalEventId(job: JobView, previousId: number): number {
  return Math.max(previousId + 1, Math.floor(job.finishedAtMs - job.createdAtMs) + 1);
}

/** The final event of a finished job; `summary` is its result or error as the operation shows it. */
export function finalEvent(job: JobView, id: number, progress: ProgressView | null, summary: Record<string, unknown>): OperationEvent {
  const status = operationStatus(job);
  return {
    id,
    event: status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS' ? 'completed' : status === 'FAILED' ? 'failed' : 'cancelled',
    operationId: String(job.jobId),
    status,
    progress,
    timestamp: new Date(job.finishedAtMs).toISOString(),
    data: summary,
  };
}
