import type { HttpRequest } from 'uWebSockets.js';
import { ERRORS } from '../errors/index.js';
import { AuthRefusal, type AuthOutcome } from '../auth/index.js';
import type { Caller } from '../auth/index.js';
import type { Exchange } from '../http/index.js';
import { readBody } from '../http/index.js';

/** What routing reads of a request: uWS's `HttpRequest`, or a `PendingRequest` that copied it. */
export interface RequestHeaders {
  /** `name` in lower case; '' when absent. */
  getHeader(name: string): string;
  forEach(callback: (name: string, value: string) => void): void;
}

/**
 * A request whose password is still being verified when uWS's handler returns. uWS's
 * `HttpRequest` is only valid inside that handler and a body must be read from it right away,
 * so its headers are kept (the flat list gathered in the handler) and the body is read
 * (bounded like any other) while scrypt runs.
 */
export class PendingRequest implements RequestHeaders {
  readonly #headers: readonly string[];
  /** The body once read (null: none); undefined while it is still arriving. */
  body: Uint8Array | null | undefined = undefined;

  /** `headers`: name, value, name, value... with names in lower case, as uWS gives them. */
  constructor(headers: readonly string[]) {
    this.#headers = headers;
  }

  getHeader(name: string): string {
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
    return '';
  }

  forEach(callback: (name: string, value: string) => void): void {
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i += 2) callback(headers[i], headers[i + 1]);
  }
}

/**
 * Reads the body of `req` (up to `maxBodySize`) while `verification` runs, then calls
 * `onCaller` once both are done, or `onRefusal` as soon as the verification refuses (the
 * rest of the body is discarded by uWS's parser). Neither is called when the client hung up
 * meanwhile or the body was refused (413), so nothing is queued for a client that is gone.
 * Must be called synchronously in the uWS request handler.
 */
export function whenAuthenticated(
  req: HttpRequest,
  exchange: Exchange,
  maxBodySize: number,
  headers: readonly string[],
  verification: Promise<AuthOutcome>,
  onCaller: (request: PendingRequest, caller: Caller) => void,
  onRefusal: (refusal: AuthRefusal) => void,
): void {
  const request = new PendingRequest(headers);
  let caller: Caller | undefined;
  readBody(req, exchange, maxBodySize, (body) => {
    request.body = body;
    if (caller !== undefined && !exchange.aborted) onCaller(request, caller);
  });
  verification.then((outcome) => {
    if (exchange.aborted) return;
    if (outcome instanceof AuthRefusal) return onRefusal(outcome);
    caller = outcome;
    if (request.body !== undefined) onCaller(request, caller);
  }, (error: Error) => {
    if (!exchange.aborted) onRefusal(new AuthRefusal(ERRORS.internal, `password verification failed: ${error.message}`));
  });
}
