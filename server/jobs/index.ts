/** ArangoDB's job API over the job store contract, job ids, and per-user limits. */
export { answerWith, JobApi, sendStoreError } from './job-api.js';
export { firstJobIdAt } from './job-ids.js';
export type {
  GoneJob, JobOutcome, JobState, JobStatusFilter, JobView, StoredResult,
  IdempotencyRecord, JobStore, JobSummary, NewJob, PendingWebhookEvent, StoreRecovery, StoredRequest, UnfinishedJob, WebhookRegistration,
  AttemptRecord, JobDetails, ReopenedJob, StoredProgress,
} from './job-store.js';
export { copyWebhookRegistration } from './job-store.js';
export { UserLimits, defaultQueuedPerUser } from './user-limits.js';
export { JobRecorder, type JobObserver, type RunningStoredJob } from './job-recorder.js';
export { errorResult, recoverUnfinishedJobs, rerunStoredJob, type RecoveryOutcome } from './job-recovery.js';
