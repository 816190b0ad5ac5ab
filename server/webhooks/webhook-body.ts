import type { WebhookEvent } from './webhook-events.js';
import type { WebhookPayload } from './webhook-types.js';

/**
 * One delivery's JSON body, serialised once apart from its `timestamp`, which each attempt
 * sets: `{"event","operationId","deliveryId","timestamp", ...payload}`.
 *
 * The seed's X-Webhook-Signature covers the exact body and nothing else, so what a receiver
 * needs to refuse a replay is inside the body: `deliveryId` (the same for every attempt of a
 * delivery, and the `webhook-id` header) and `timestamp` (this attempt's, the `webhook-timestamp`
 * header in ISO 8601). A fresh timestamp per attempt lets receivers refuse old timestamps
 * without refusing a retry sent minutes after the event.
 */
export interface WebhookBody {
  /** Everything up to the timestamp's value. */
  readonly head: string;
  /** Everything after it. */
  readonly tail: string;
}

/** Keys the dispatcher sets; a payload's own keys of these names are dropped, never sent. */
const FIXED_KEYS = ['event', 'operationId', 'deliveryId', 'timestamp'] as const;

/**
 * @throws the error of `JSON.stringify` when the payload cannot be encoded (a BigInt, a cycle).
 */
export function prepareWebhookBody(event: WebhookEvent, operationId: string, deliveryId: string, payload: WebhookPayload): WebhookBody {
  const rest: Record<string, unknown> = { ...payload };
  for (const key of FIXED_KEYS) delete rest[key];
  // A 64 KiB inline result is stringified once per delivery, not once per attempt.
  const restJson = JSON.stringify(rest);
  const head = `{"event":${JSON.stringify(event)},"operationId":${JSON.stringify(operationId)},"deliveryId":${JSON.stringify(deliveryId)},"timestamp":"`;
  return { head, tail: restJson === '{}' ? '"}' : `",${restJson.slice(1)}` };
}

/** The body of an attempt made at `timestampSeconds` (UNIX seconds, as in `webhook-timestamp`). */
export function webhookBodyAt(body: WebhookBody, timestampSeconds: number): string {
  return body.head + isoSeconds(timestampSeconds) + body.tail;
}

/** `2024-07-15T14:34:22Z`, as the seed writes it: whole seconds, so it says exactly what `webhook-timestamp` says. */
function isoSeconds(timestampSeconds: number): string {
  return `${new Date(timestampSeconds * 1000).toISOString().slice(0, 19)}Z`;
}
