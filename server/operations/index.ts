/** The long-running-operations surface over the same jobs: status, result, cancel, history, SSE, WebSocket, webhooks glue. */
export { handlerHeaders, OperationSubmit, storedRequestOf, type SubmitIntent } from './operation-submit.js';
export { DEFAULT_CANCEL_REASON, OperationTracker, type OperationWatcher, type RemoteWatches } from './operation-tracker.js';
export { isFinalEvent, type OperationEvent } from './operation-event.js';
export { OperationWebhooks } from './operation-webhooks.js';
export { OperationsApi, problemAnswer } from './operations-api.js';
export { problem } from './problem.js';
export { mountOperationsSocket } from './operations-socket.js';
export { operationType } from './operation-type.js';
