/**
 * `arango-async-jobs/client`: a typed client of the job server's operations surface, with no
 * dependencies (fetch, streams, Web Crypto), for Node 20+ and browsers.
 */
export {
  FINAL_STATUSES, JobClient, Operation,
  type EventsOptions, type FinalStatus, type HistoryPage, type JobClientAuth, type JobClientOptions, type OperationEvent, type OperationResult,
  type OperationState, type OperationStatus, type OperationsFilter, type Progress, type SubmitOptions, type WaitOptions,
} from './job-client.js';
export {
  HttpError, JobClientError, OperationCancelledError, OperationFailedError, OperationGoneError, WaitTimeoutError, WebhookVerificationError,
} from './errors.js';
export { verifyWebhook, type VerifyWebhookOptions, type WebhookEvent } from './webhooks.js';
export { readEventStream, type SseMessage } from './sse.js';
