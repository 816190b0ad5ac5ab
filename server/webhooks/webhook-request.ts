import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { SecureContext } from 'node:tls';

/** One POST to a webhook receiver, at an address the allowlist already checked. */
export interface WebhookRequest {
  url: URL;
  /** `url`'s host without IPv6 brackets. */
  host: string;
  /** The checked address; the connection goes there and nowhere else. */
  address: string;
  family: 4 | 6;
  headers: OutgoingHttpHeaders;
  body: string;
  /** For https: the trust to verify the receiver's certificate with; undefined: Node's bundled roots. */
  secureContext: SecureContext | undefined;
  /**
   * Aborts the attempt (its deadline, or the dispatcher closing); the request fails with
   * `signal.reason`. One signal per attempt: a signal shared by every attempt in flight would
   * collect one 'abort' listener each, and Node warns past 10 (MaxListenersExceededWarning).
   */
  signal: AbortSignal;
}

export interface WebhookResponse {
  statusCode: number;
  /** The Location header of a redirect, reported but never followed. */
  location: string | undefined;
}

/**
 * Sends one webhook POST and resolves with the response status once the status line arrives.
 *
 * Why node:http(s) and not fetch: the `lookup` option lets the socket connect to the address the
 * allowlist checked, while `hostname` stays the URL's host. So the Host header, TLS SNI and the
 * certificate check all use the real name, yet a DNS answer that changed since the check (DNS
 * rebinding to an internal address) is never consulted. fetch offers no such hook, and
 * connecting it to the IP would break certificate checks for https. node:http also never follows
 * redirects, which is what the allowlist needs: a 3xx could point anywhere.
 *
 * `agent: false` gives each attempt its own connection (sent with `Connection: close`): every
 * attempt connects to the address checked for it, and a closed dispatcher leaves no idle sockets.
 * Deliveries happen once per operation event, off the hot path, so connection reuse buys little.
 */
export function postWebhook(webhook: WebhookRequest): Promise<WebhookResponse> {
  return new Promise<WebhookResponse>((resolve, reject) => {
    if (webhook.signal.aborted) {
      reject(webhook.signal.reason);
      return;
    }
    const { url } = webhook;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send({
      method: 'POST',
      hostname: webhook.host,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname + url.search,
      headers: { ...webhook.headers, 'Content-Length': Buffer.byteLength(webhook.body) },
      agent: false,
      lookup: pinnedLookup(webhook.address, webhook.family),
      // Said, not assumed: a receiver whose certificate does not verify gets nothing (the attempt
      // fails with Node's code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, and is retried).
      rejectUnauthorized: true,
      ...(webhook.secureContext === undefined ? {} : { secureContext: webhook.secureContext }),
    });
    let settled = false;
    const settle = (error: unknown, response?: WebhookResponse): void => {
      if (settled) return;
      settled = true;
      webhook.signal.removeEventListener('abort', onAbort);
      if (response === undefined) reject(error);
      else resolve(response);
    };
    const onAbort = (): void => {
      request.destroy(webhook.signal.reason as Error);
    };
    webhook.signal.addEventListener('abort', onAbort, { once: true });
    // After the status line has settled the attempt, a later error (the receiver resetting the
    // connection we are tearing down) cannot change its outcome; `settle` ignores it, and the
    // listener must stay so that the error is not thrown as an unhandled 'error' event.
    request.on('error', (error) => settle(error));
    request.on('response', (response: IncomingMessage) => {
      settle(null, { statusCode: response.statusCode ?? 0, location: response.headers.location });
      // The status is the whole answer. Destroying instead of draining means a receiver that
      // streams an endless body costs nothing; the connection is not reused anyway.
      response.on('error', (error) => settle(error));
      response.destroy();
    });
    request.end(webhook.body);
  });
}

/** A `lookup` that answers every query with the checked address (both the single and the `all` form). */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
