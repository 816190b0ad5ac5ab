import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookConfigError } from './webhook-errors.js';

/*
 * The two signatures every delivery carries, each following its own convention for reading the
 * secret, so that a receiver can check either one with the secret exactly as it was handed out:
 *
 *   X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, body)>     the seed's scheme; the key is
 *                        the secret's UTF-8 bytes as given (a `whsec_` prefix included)
 *   webhook-signature:   v1,<base64 HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${body}`)>
 *                        Standard Webhooks; the key is the base64 after `whsec_` for a secret in
 *                        that form (`new Webhook(secret)`), else the secret's UTF-8 bytes
 *                        (`new Webhook(secret, { format: 'raw' })`)
 *
 * The seed's signature covers only the body, so the body itself carries `timestamp` and
 * `deliveryId` (see webhook-body.ts): a receiver refuses replays by an old timestamp or a
 * delivery id it has seen.
 */

const SIGNATURE_PREFIX = 'sha256=';
/** Hex digits of a SHA-256 HMAC. */
const SIGNATURE_HEX_LENGTH = 64;
/** Standard Webhooks' prefix of a base64 secret. */
const STANDARD_SECRET_PREFIX = 'whsec_';
const STANDARD_SIGNATURE_VERSION = 'v1,';
/** Canonical base64 (padding included), as Standard Webhooks secrets are written. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Longest secret accepted: a key longer than SHA-256's 64-byte block is hashed anyway. */
export const MAX_WEBHOOK_SECRET_LENGTH = 1024;

/** The HMAC keys of one secret, derived once (for the server's secret at start, a webhook's at submit). */
export interface WebhookSigningKey {
  /** Key of X-Webhook-Signature: the secret's UTF-8 bytes. */
  readonly seedKey: Buffer;
  /** Key of webhook-signature (Standard Webhooks). */
  readonly standardKey: Buffer;
}

/** Why `secret` cannot sign webhooks (for a 400 or a start-up error), or null when it can. */
export function webhookSecretProblem(secret: string): string | null {
  if (secret === '') return 'a webhook secret must not be empty';
  if (secret.length > MAX_WEBHOOK_SECRET_LENGTH) return `a webhook secret must be at most ${MAX_WEBHOOK_SECRET_LENGTH} characters`;
  if (secret.startsWith(STANDARD_SECRET_PREFIX)) {
    const encoded = secret.slice(STANDARD_SECRET_PREFIX.length);
    if (encoded === '' || !BASE64.test(encoded)) return 'a webhook secret starting with whsec_ must continue with a non-empty base64 key (Standard Webhooks)';
  }
  return null;
}

/** @throws {WebhookConfigError} (a TypeError) when `webhookSecretProblem` has an objection. */
export function webhookSigningKey(secret: string): WebhookSigningKey {
  const problem = webhookSecretProblem(secret);
  if (problem !== null) throw new WebhookConfigError(problem);
  const seedKey = Buffer.from(secret, 'utf8');
  const standardKey = secret.startsWith(STANDARD_SECRET_PREFIX)
    ? Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64')
    : seedKey;
  return { seedKey, standardKey };
}

/** The `X-Webhook-Signature` value: `sha256=` and the hex HMAC-SHA256 of the exact body. */
export function signWebhook(key: WebhookSigningKey, body: string | Uint8Array): string {
  return seedSignature(key.seedKey, body);
}

function seedSignature(key: Buffer | string, body: string | Uint8Array): string {
  return SIGNATURE_PREFIX + createHmac('sha256', key).update(body).digest('hex');
}

/**
 * The Standard Webhooks `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of
 * `${deliveryId}.${timestampSeconds}.${body}` (the `webhook-id` and `webhook-timestamp` headers).
 */
export function signStandardWebhook(key: WebhookSigningKey, deliveryId: string, timestampSeconds: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', key.standardKey).update(`${deliveryId}.${timestampSeconds}.`).update(body);
  return STANDARD_SIGNATURE_VERSION + hmac.digest('base64');
}

/**
 * Checks a received `X-Webhook-Signature` in constant time, as a receiver does. Pass the body
 * exactly as received (the raw bytes or their UTF-8 string), never re-serialised JSON: any byte
 * of difference fails.
 */
export function verifyWebhook(secret: string, body: string | Uint8Array, signatureHeader: string | undefined): boolean {
  if (signatureHeader === undefined) return false;
  const expected = Buffer.from(seedSignature(secret, body));
  const received = Buffer.from(signatureHeader.trim());
  // The length of a valid signature is public, so only equal-length values need the
  // constant-time comparison (timingSafeEqual throws on different lengths).
  if (received.length !== SIGNATURE_PREFIX.length + SIGNATURE_HEX_LENGTH) return false;
  return timingSafeEqual(expected, received);
}
