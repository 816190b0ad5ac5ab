/** ArangoDB's job API over the job store contract, job ids, and per-user limits. */
export { JobApi } from './job-api.js';
export { firstJobIdAt } from './job-ids.js';
export type { GoneJob, JobOutcome, JobState, JobStatusFilter, JobTable, JobView, StoredResult } from './job-table.js';
export type {
  IdempotencyRecord, JobStore, JobSummary, NewJob, PendingWebhookEvent, StoreRecovery, StoredRequest, UnfinishedJob, WebhookRegistration,
} from './job-store.js';
export { UserLimits, defaultQueuedPerUser } from './user-limits.js';
export { JobRecorder, type JobObserver } from './job-recorder.js';
