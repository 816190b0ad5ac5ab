import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_PREFIX = 'sha256=';
/** Hex digits of a SHA-256 HMAC. */
const SIGNATURE_HEX_LENGTH = 64;

/**
 * The `X-Webhook-Signature` value for one delivery attempt: `sha256=` and the hex HMAC-SHA256,
 * under `secret`, of `timestamp + "." + body`. The timestamp (the `X-Webhook-Timestamp` header,
 * UNIX seconds) is signed with the body so that a captured delivery cannot be replayed later
 * with a fresh timestamp; receivers should also refuse timestamps older than a few minutes.
 */
export function signWebhook(secret: string, timestamp: string, body: string | Uint8Array): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(timestamp).update('.').update(body).digest('hex');
}

/**
 * Checks a received `X-Webhook-Signature` in constant time. Pass the body exactly as received
 * (the raw bytes or their UTF-8 string), never re-serialised JSON: any byte of difference fails.
 */
export function verifyWebhook(
  secret: string,
  timestamp: string,
  body: string | Uint8Array,
  signatureHeader: string | undefined,
): boolean {
  if (signatureHeader === undefined) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const received = Buffer.from(signatureHeader.trim());
  // The length of a valid signature is public, so only equal-length values need the
  // constant-time comparison (timingSafeEqual throws on different lengths).
  if (received.length !== SIGNATURE_PREFIX.length + SIGNATURE_HEX_LENGTH) return false;
  return timingSafeEqual(expected, received);
}
