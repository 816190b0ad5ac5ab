import type { JobProgress } from '../../engine/index.js';
import type { JobView } from '../jobs/index.js';
import { operationStatus, type OperationStatus } from './operation-status.js';

/** Progress as the operations surface shows it: the handler's report plus a percentage. */
export interface ProgressView {
  current: number | null;
  total: number | null;
  percentage: number | null;
  phase: string | null;
  message: string | null;
}

/** One event of an operation, sent alike over SSE, WebSocket and (final ones) webhooks. */
export interface OperationEvent {
  /** Increasing per operation: the SSE `id:` a client resumes from. */
  id: number;
  event: 'status-update' | 'completed' | 'failed' | 'cancelled';
  operationId: string;
  status: OperationStatus;
  progress: ProgressView | null;
  timestamp: string;
  data: Record<string, unknown>;
}

export function progressView(progress: JobProgress): ProgressView {
  const current = typeof progress.current === 'number' ? progress.current : null;
  const total = typeof progress.total === 'number' ? progress.total : null;
  return {
    current,
    total,
    percentage: current !== null && total !== null && total > 0 ? Math.min(100, Math.round((current / total) * 1000) / 10) : null,
    phase: typeof progress.phase === 'string' ? progress.phase : null,
    message: typeof progress.message === 'string' ? progress.message : null,
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

export function finalEventId(job: JobView, previousId: number): number {
  return Math.max(previousId + 1, Math.floor(job.finishedAtMs - job.createdAtMs) + 1);
}

/** The final event of a finished job; `summary` is its result or error as the operation shows it. */
export function finalEvent(job: JobView, id: number, progress: ProgressView | null, summary: Record<string, unknown>): OperationEvent {
  const status = operationStatus(job);
  return {
    id,
    event: status === 'COMPLETED' ? 'completed' : status === 'FAILED' ? 'failed' : 'cancelled',
    operationId: String(job.jobId),
    status,
    progress,
    timestamp: new Date(job.finishedAtMs).toISOString(),
    data: summary,
  };
}
