/**
 * Syntax of a webhook target URL, shared by the submit-time check (`x-callback-url`) and the
 * allowlist, so that both refuse exactly the same URLs.
 */

/** Longest accepted target URL. The URL is stored with the operation and echoed in every attempt record. */
export const MAX_TARGET_URL_LENGTH = 2048;

/** A target URL that passed the syntax check. */
export interface ParsedWebhookTarget {
  url: URL;
  /** `url.hostname` without IPv6 brackets and without a trailing dot, lowercase (WHATWG URL already lowercases and punycodes it). */
  host: string;
}

/**
 * Why a parsed target may not be called over plain HTTP, or null. The seed says "Use HTTPS
 * only": a delivery and its signature would cross the network readable by anyone on the path,
 * so `http:` is for local development and tests, behind `--webhook.allow-http`.
 */
export function insecureTargetRefusal(target: ParsedWebhookTarget, allowHttp: boolean): string | null {
  if (target.url.protocol === 'https:' || allowHttp) return null;
  return 'callback URL must use https: (webhooks are sent over HTTPS only; an operator can allow http: for local development with --webhook.allow-http true)';
}

/** Parses `input` as a webhook target; returns the reason as a string when it cannot be one. */
export function parseWebhookTarget(input: string): ParsedWebhookTarget | string {
  if (input.length > MAX_TARGET_URL_LENGTH) return `callback URL is longer than ${MAX_TARGET_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(input);
  } catch (error) {
    // The only error URL's constructor throws is ERR_INVALID_URL; its message just repeats the input.
    if ((error as { code?: unknown }).code === 'ERR_INVALID_URL') return `callback URL is not a valid absolute URL: ${input}`;
    throw error;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `callback URL must use http: or https:, not ${url.protocol}`;
  }
  // Credentials in the URL would be stored with the operation and shown in its status body;
  // receivers authenticate deliveries by the X-Webhook-Signature instead.
  if (url.username !== '' || url.password !== '') return 'callback URL must not contain a user name or password';
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') return 'callback URL has no host';
  return { url, host };
}
