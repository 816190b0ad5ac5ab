import type { JobSummary } from '../jobs/index.js';

/** The operation states of the long-running-operations seed. */
export type OperationStatus = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED' | 'CANCELLED';

export function operationStatus(job: Pick<JobSummary, 'state' | 'startedAtMs' | 'outcome'>): OperationStatus {
  switch (job.state) {
    case 'pending':
      return job.startedAtMs === 0 ? 'PENDING' : 'PROCESSING';
    case 'cancelled':
      return 'CANCELLED';
    default:
      return job.outcome === 'completed' ? 'COMPLETED' : job.outcome === 'completedWithErrors' ? 'COMPLETED_WITH_ERRORS' : 'FAILED';
  }
}

export function isFinalStatus(status: OperationStatus): boolean {
  return status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS' || status === 'FAILED' || status === 'CANCELLED';
}

/** `?status=` of the history: operation names to the table's filter. */
export const STATUS_FILTERS = {
  PENDING: 'queued',
  PROCESSING: 'running',
  COMPLETED: 'completed',
  COMPLETED_WITH_ERRORS: 'completedWithErrors',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
