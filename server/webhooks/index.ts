/** Outbound webhook delivery: the surface the server imports; nothing bypasses it. */
export { WebhookAllowlist, type WebhookCheck, type WebhookLookup, type WebhookAllowlistOptions } from './webhook-allowlist.js';
export { WebhookDispatcher } from './webhook-dispatcher.js';
export type {
  WebhookDispatcherOptions, WebhookTarget, WebhookPayload, DeliveryAttempt, DeliveryRecorder, WebhookTimer, WebhookLogger,
} from './webhook-types.js';
export { webhookSecretProblem, webhookSigningKey, type WebhookSigningKey } from './webhook-signature.js';
export { WEBHOOK_EVENTS, DEFAULT_WEBHOOK_EVENTS, parseWebhookEvents, type WebhookEvent } from './webhook-events.js';
export {
  WebhookConfigError, WebhookError, WebhookLookupError, WebhookTimeoutError, WebhookClosedError, WEBHOOK_FAILURE,
} from './webhook-errors.js';
