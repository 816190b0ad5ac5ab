import { WebhookVerificationError } from './errors.js';

/** What `verifyWebhook` needs of a delivery. */
export interface VerifyWebhookOptions {
  /** The secret the server signs with: `--webhook.secret`, or the submit's `x-callback-secret` (`whsec_<base64>` or any string). */
  secret: string;
  /** The request's headers: a `Headers`, or a plain object as Node's `IncomingMessage.headers` (names in lower case). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The body exactly as received (bytes or text): a re-serialised JSON would not verify. */
  body: string | Uint8Array;
  /** Refuse deliveries whose `webhook-timestamp` is further than this from now (replays). @defaultValue 300 */
  toleranceSeconds?: number;
  /** "Now" in UNIX seconds, for tests. @defaultValue the clock's */
  nowSeconds?: number;
}

/** A verified delivery: the parsed body, and its delivery id (the same on every retry: deduplicate on it). */
export interface WebhookEvent {
  deliveryId: string;
  timestampSeconds: number;
  /** `{event, operationId, deliveryId, timestamp, status, result?}` as the server sent it. */
  payload: Record<string, unknown>;
}

/**
 * Checks a webhook delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64>`: the HMAC-SHA256 of `id.timestamp.body`) and its age, with
 * the Web Crypto API (Node 20+, browsers, workers). Resolves with the delivery, or rejects with
 * {@link WebhookVerificationError}: a missing header, a signature that does not match (a
 * tampered body or the wrong secret), or a timestamp outside `toleranceSeconds`.
 */
export async function verifyWebhook(options: VerifyWebhookOptions): Promise<WebhookEvent> {
  const id = headerOf(options.headers, 'webhook-id');
  const timestamp = headerOf(options.headers, 'webhook-timestamp');
  const signatures = headerOf(options.headers, 'webhook-signature');
  if (id === null || timestamp === null || signatures === null) {
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  }
  const timestampSeconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError(`webhook-timestamp is not UNIX seconds: ${timestamp}`);
  const nowSeconds = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(nowSeconds - timestampSeconds) > tolerance) {
    throw new WebhookVerificationError(`webhook-timestamp ${timestampSeconds} is more than ${tolerance} s from now (${nowSeconds})`);
  }
  const body = typeof options.body === 'string' ? options.body : new TextDecoder().decode(options.body);
  const key = await crypto.subtle.importKey('raw', secretBytes(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    let signature: Uint8Array<ArrayBuffer>;
    try {
      signature = fromBase64(value);
    } catch {
      continue;
    }
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify('HMAC', key, signature, signed)) {
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(body) as Record<string, unknown>;
      } catch {
        throw new WebhookVerificationError('the signed body is not JSON');
      }
      return { deliveryId: id, timestampSeconds, payload };
    }
  }
  throw new WebhookVerificationError('no webhook-signature matches the body: tampered, or signed with another secret');
}

/** `whsec_<base64>` is Standard Webhooks' own form (keyed with the decoded bytes); any other secret is keyed with its UTF-8 bytes, as the server does. */
function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  return secret.startsWith('whsec_') ? fromBase64(secret.slice('whsec_'.length)) : new TextEncoder().encode(secret);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function headerOf(headers: VerifyWebhookOptions['headers'], name: string): string | null {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] ?? null : value ?? null;
}
