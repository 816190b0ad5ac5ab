import type { WebhookAllowlist } from './webhook-allowlist.js';
import type { WebhookEvent } from './webhook-events.js';
import type { WebhookSigningKey } from './webhook-signature.js';

/* The dispatcher's public types, apart so that the class file stays about behaviour. */

/** Where one operation's webhooks go. */
export interface WebhookTarget {
  url: string;
  operationId: string;
  /** Signs instead of the dispatcher's secret: the webhook's own (`x-callback-secret`, `webhookSigningKey`). */
  key?: WebhookSigningKey;
}

/**
 * What the operation reports in a delivery, next to `event`, `operationId`, `deliveryId` and
 * `timestamp` (which the dispatcher sets; the payload cannot override them).
 */
export interface WebhookPayload {
  status: string;
  result?: unknown;
  [key: string]: unknown;
}

/** One attempt of one delivery, as the operation's `webhook.deliveries` shows it. */
export interface DeliveryAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** When the attempt started, ISO 8601. */
  at: string;
  /** Same for every attempt of one delivery (the `webhook-id` header and the body's `deliveryId`). */
  deliveryId: string;
  event: WebhookEvent;
  url: string;
  /** `dropped`: never sent, because the queue of waiting deliveries was full (`errorCode` ERR_WEBHOOK_QUEUE_FULL). */
  outcome: 'delivered' | 'failed' | 'refused' | 'dropped';
  /** The receiver's status, when it answered. */
  statusCode?: number;
  /** Why the attempt did not deliver. */
  error?: string;
  /** `ERR_WEBHOOK_*` (see WEBHOOK_FAILURE and the webhook errors) or a Node network code such as `ECONNREFUSED`. */
  errorCode?: string;
  /** When the next attempt is due, ISO 8601; absent when this was the last one. */
  nextAttemptAt?: string;
}

/** Receives each attempt record; it must not throw (a throw is logged, delivery goes on). */
export type DeliveryRecorder = (attempt: DeliveryAttempt) => void;

/** A scheduled retry that can be cancelled. */
export interface WebhookTimer {
  cancel(): void;
}

/** Where a recorder's exception and a dropped delivery are reported; pino's Logger fits. */
export interface WebhookLogger {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface WebhookDispatcherOptions {
  allowlist: WebhookAllowlist;
  /**
   * Signs deliveries whose target has no key of its own (`--webhook.secret`); must not be empty,
   * and a `whsec_` secret must continue in base64 (see webhook-signature.ts for how it keys each signature).
   */
  secret: string;
  /**
   * Also deliver to `http:` targets (`--webhook.allow-http`), for local development and tests;
   * otherwise they are refused at submit and at every attempt. @defaultValue false
   */
  allowHttp?: boolean;
  /**
   * PEM certificates (`--webhook.ca`) trusted for HTTPS deliveries besides Node's bundled roots,
   * e.g. a private CA's. @defaultValue none: the bundled roots only
   */
  ca?: string;
  /** Attempts per delivery, the first included. @defaultValue 8 */
  maxAttempts?: number;
  /**
   * Deadline of one attempt, from its start (DNS lookup, connecting, sending) to the response
   * status line, in ms; a timeout is a failed attempt, retried like any other. @defaultValue 10000
   */
  timeoutMs?: number;
  /**
   * Attempts in flight at once, all targets together; each holds one socket (one file
   * descriptor). @defaultValue 64
   */
  maxConcurrent?: number;
  /**
   * Attempts in flight at once to one origin (scheme, host and port), so that a receiver that
   * hangs until the timeout holds only this many of the `maxConcurrent` slots. @defaultValue 8
   */
  maxPerHost?: number;
  /**
   * Deliveries waiting for a slot (first attempts and retries that are due). Beyond it the oldest
   * waiting delivery of the origin with the most waiting is dropped, recorded with outcome
   * `dropped`, and logged. Retries still in their backoff do not count. @defaultValue 4096
   */
  maxQueued?: number;
  /** Backoff before retry n is drawn from [0, min(maxDelayMs, baseDelayMs * 2^(n-1))), in ms. @defaultValue 1000 */
  baseDelayMs?: number;
  /** Cap of one backoff delay, in ms. @defaultValue 300000 (5 min) */
  maxDelayMs?: number;
  /** @defaultValue none: recorder errors become `process.emitWarning` warnings */
  logger?: WebhookLogger;
  /** Clock, ms since the epoch. @defaultValue Date.now */
  now?: () => number;
  /** Uniform in [0, 1), for the backoff jitter. @defaultValue Math.random */
  random?: () => number;
  /** Runs `callback` after `delayMs`. @defaultValue an unref'd setTimeout */
  schedule?: (callback: () => void, delayMs: number) => WebhookTimer;
}
