import type { SecureContext } from 'node:tls';
import type { WebhookAllowlist } from './webhook-allowlist.js';
import type { WebhookEvent } from './webhook-events.js';
import { WEBHOOK_FAILURE } from './webhook-errors.js';
import { postWebhook } from './webhook-request.js';
import { webhookBodyAt, type WebhookBody } from './webhook-body.js';
import { signStandardWebhook, signWebhook, type WebhookSigningKey } from './webhook-signature.js';
import { insecureTargetRefusal, parseWebhookTarget } from './webhook-target.js';
import type { DeliveryAttempt } from './webhook-types.js';

/*
 * One attempt of one delivery: check the target, sign, POST, classify the answer. The
 * dispatcher owns the rest: limits, the deadline, retries.
 */

/** The record fields an attempt decides. */
export type AttemptResult = Pick<DeliveryAttempt, 'outcome' | 'statusCode' | 'error' | 'errorCode'>;

/** What every attempt of a dispatcher shares. */
export interface AttemptSettings {
  readonly allowlist: WebhookAllowlist;
  readonly now: () => number;
  /** `--webhook.allow-http`. */
  readonly allowHttp: boolean;
  /** With `--webhook.ca`: the bundled roots and the operator's CA. */
  readonly secureContext: SecureContext | undefined;
}

/** What an attempt needs of its delivery. */
export interface AttemptDelivery {
  readonly deliveryId: string;
  readonly event: WebhookEvent;
  readonly url: string;
  readonly operationId: string;
  readonly body: WebhookBody;
  /** The webhook's own secret (`x-callback-secret`), else the server's. */
  readonly key: WebhookSigningKey;
}

const USER_AGENT = 'arango-async-jobs-webhook/1';

/** Runs one attempt; rejects with the network, lookup, timeout or close error that failed it. */
export async function sendAttempt(settings: AttemptSettings, delivery: AttemptDelivery, signal: AbortSignal): Promise<AttemptResult> {
  const verdict = await untilAborted(settings.allowlist.check(delivery.url), signal);
  if (!verdict.allowed) return { outcome: 'refused', error: verdict.reason, errorCode: WEBHOOK_FAILURE.refused };
  const target = parseWebhookTarget(delivery.url);
  // Unreachable after an allowed verdict (the allowlist parses the same way); narrows the type.
  if (typeof target === 'string') return { outcome: 'refused', error: target, errorCode: WEBHOOK_FAILURE.refused };
  // Checked at submit too; here for registrations restored from a run that allowed http:.
  const insecure = insecureTargetRefusal(target, settings.allowHttp);
  if (insecure !== null) return { outcome: 'refused', error: insecure, errorCode: WEBHOOK_FAILURE.refused };
  // Signed per attempt: a retry minutes later carries a fresh timestamp, so receivers can
  // refuse old timestamps (replays) without refusing late retries.
  const timestamp = Math.floor(settings.now() / 1000);
  const body = webhookBodyAt(delivery.body, timestamp);
  const response = await postWebhook({
    url: target.url,
    host: target.host,
    address: verdict.address,
    family: verdict.family,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-Webhook-Event': delivery.event,
      'X-Operation-Id': delivery.operationId,
      'X-Webhook-Signature': signWebhook(delivery.key, body),
      // Standard Webhooks (standardwebhooks.com): the same delivery, verifiable with its libraries.
      'webhook-id': delivery.deliveryId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(delivery.key, delivery.deliveryId, timestamp, body),
    },
    body,
    secureContext: settings.secureContext,
    signal,
  });
  const { statusCode } = response;
  if (statusCode >= 200 && statusCode < 300) return { outcome: 'delivered', statusCode };
  if (statusCode >= 300 && statusCode < 400) {
    const location = response.location === undefined ? '' : ` to ${response.location}`;
    return { outcome: 'failed', statusCode, error: `redirect${location} not followed`, errorCode: WEBHOOK_FAILURE.redirect };
  }
  return { outcome: 'failed', statusCode, error: `receiver answered ${statusCode}`, errorCode: WEBHOOK_FAILURE.status };
}

/**
 * `promise`, or a rejection with `signal.reason` as soon as the signal aborts. For the DNS
 * lookup, which takes no signal: a late answer is ignored (its rejection too, so none goes
 * unhandled), and the attempt's slot is free at its deadline.
 */
function untilAborted<Value>(promise: Promise<Value>, signal: AbortSignal): Promise<Value> {
  return new Promise<Value>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}

/** The record fields of an attempt that failed with `error`. */
export function failure(error: unknown): AttemptResult {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    outcome: 'failed',
    error: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { errorCode: code } : {}),
  };
}
