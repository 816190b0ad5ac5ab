import type { JobSummary } from '../jobs/index.js';

/** The operation states of the long-running-operations seed. */
export type OperationStatus = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export function operationStatus(job: Pick<JobSummary, 'state' | 'startedAtMs' | 'outcome'>): OperationStatus {
  switch (job.state) {
    case 'pending':
      return job.startedAtMs === 0 ? 'PENDING' : 'PROCESSING';
    case 'cancelled':
      return 'CANCELLED';
    default:
      return job.outcome === 'completed' ? 'COMPLETED' : 'FAILED';
  }
}

export function isFinalStatus(status: OperationStatus): boolean {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
}

/** `?status=` of the history: operation names to the table's filter. */
export const STATUS_FILTERS = {
  PENDING: 'queued',
  PROCESSING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
