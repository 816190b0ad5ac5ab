import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { errorBody, type ServerError } from '../errors/index.js';

/** "200 OK" for every status, computed once: uWS wants the whole status line text. */
const STATUS_LINES: string[] = [];
for (let status = 100; status < 600; status++) STATUS_LINES[status] = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;

export const JSON_TYPE = 'application/json; charset=utf-8';

/** An answer decided away from the socket (by the operations surface, say), for an Exchange to write. */
export interface Answer {
  status: number;
  /** Flat `[name, value, ...]`. */
  headers: readonly string[];
  body: Uint8Array | string | null;
}

/** Headers uWS writes itself, or that would break the framing if copied from a handler. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'date']);

/**
 * Bodies up to this size are ended with `res.end`, bigger ones with `tryEnd`, which costs
 * 0.4-0.9 µs more per answer (measured in a handler: its binding builds an `[ok, done]`
 * array), 2-3 % of a blocking request. A body this small adds no more to uWS's buffer than the
 * headers every answer carries, which no call can hold back (see Exchange).
 */
const SMALL_BODY_BYTES = 128;

/**
 * One HTTP request in flight. uWS invalidates `res` once the client hangs up: every write
 * checks `aborted` first (set by the `onAborted` handler every exchange registers), and writes
 * made outside uWS's own callback are corked into one syscall.
 *
 * Bodies go out with uWS backpressure. `res.end(body)` copies what the kernel does not take at
 * once into uWS's per-socket buffer and marks the response done, so the next pipelined
 * request is answered the same way: one connection pipelining 50 GETs of a 20 MB result and
 * reading nothing grew the server by 1.1 GB. `tryEnd` hands the kernel what it takes and leaves
 * the response pending; the rest is written from the body's own bytes (stored results are
 * immutable views that outlive their job, see body-arena.ts; engine bodies are fresh) as the
 * socket drains. A connection then holds one body the server holds anyway, plus headers, because:
 *
 * - a request arriving while a response is pending closes the connection: uWS v20.30's parser
 *   does that itself (HttpContext.h: "Are we not ready for another request yet? Terminate the
 *   connection"), whether it came in the same packet or later; the pending answer is cut off
 *   and `onAborted` runs. `res.pause()` cannot make such requests wait: it drops writable
 *   polling too (AsyncSocket.h throttle_helper sets the poll's events to 0), so `onWritable`
 *   never runs (tried: the answer stalls at the first 3.9 MB), and it disarms the timeout.
 * - a pending response that makes no progress is closed by uWS: a failed `tryEnd` arms its
 *   10 s timeout (HTTP_TIMEOUT_S; a writable event disarms it until the next failure), checked
 *   every 4 s: a client that stops reading is dropped 10-14 s later (measured: 11 s). No bound
 *   of our own is added: a client that keeps reading, however slowly, pins one body the server
 *   held anyway and one socket, as an idle keep-alive connection would.
 *
 * What stays unbounded is small: answers without a body (204, HEAD, 202) cannot see
 * backpressure (`tryEnd` of nothing always succeeds) and those with up to SMALL_BODY_BYTES do
 * not ask, so a client pipelining them without reading makes uWS buffer each: a few hundred
 * bytes per request it sends.
 */
export class Exchange {
  readonly res: HttpResponse;
  readonly head: boolean;
  aborted = false;
  /** Status of the answer once sent (0 before). */
  status = 0;
  /** Called once if the client hangs up before the answer is sent (not while its body drains). */
  onAbort: ((exchange: Exchange) => void) | null = null;
  /** The whole body of an answer the socket has not taken yet; null otherwise. */
  #unsentBody: Uint8Array | null = null;

  constructor(res: HttpResponse, head: boolean) {
    this.res = res;
    this.head = head;
    res.onAborted(() => {
      this.aborted = true;
      // Mid-body: `res` is gone, and with it any reason to keep the bytes.
      this.#unsentBody = null;
      this.onAbort?.(this);
    });
  }

  /** Status, flat headers, body. `extraName`/`extraValue` add one header (x-arango-async-id). */
  send(status: number, headers: readonly string[], body: Uint8Array | string | null, extraName?: string, extraValue?: string): void {
    if (this.aborted) return;
    this.aborted = true; // answered: nothing may write again
    this.status = status;
    // Whoever waited for the answer (a blocking job) is done with it, even if its body drains later.
    this.onAbort = null;
    this.res.cork(() => {
      const res = this.res;
      res.writeStatus(STATUS_LINES[status] ?? `${status} Unknown`);
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (!FRAMING_HEADERS.has(headers[i])) res.writeHeader(headers[i], headers[i + 1]);
      }
      if (extraName !== undefined) res.writeHeader(extraName, extraValue!);
      // 204 and 304 carry no body and no Content-Length (RFC 9110 8.6); HEAD reports the
      // length it would have had.
      if (status === 204 || status === 304) res.endWithoutBody();
      else if (this.head) res.endWithoutBody(body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      else if (body === null || body.length <= SMALL_BODY_BYTES) res.end(body ?? '');
      else this.#writeBody(body);
    });
  }

  /** Ends with `body`, or writes what the socket takes and the rest as it drains. */
  #writeBody(body: Uint8Array | string): void {
    // A total of 0 means "this chunk is the whole body": no byte count of a string needed.
    if (this.res.tryEnd(body, typeof body === 'string' ? 0 : body.byteLength)[1]) return;
    // Backpressure, the rare case: a string is encoded once here so that later writes can
    // resume at a byte offset.
    this.#unsentBody = typeof body === 'string' ? Buffer.from(body) : body;
    this.res.onWritable((offset) => this.#writeMore(offset));
  }

  /** uWS says the socket drained; `offset` is how many body bytes it has taken so far. */
  #writeMore(offset: number): boolean {
    const body = this.#unsentBody!;
    const [ok, done] = this.res.tryEnd(body.subarray(offset), body.byteLength);
    // Done: uWS has dropped this handler and `res`; the bytes are the kernel's now.
    if (done) this.#unsentBody = null;
    return ok;
  }

  answer(answer: Answer): void {
    this.send(answer.status, answer.headers, answer.body);
  }

  sendJson(status: number, body: string, extraName?: string, extraValue?: string): void {
    this.send(status, ['content-type', JSON_TYPE], body, extraName, extraValue);
  }

  /** ArangoDB's error body for a row of the error table, in the caller's words. */
  sendError(error: ServerError, message: string): void {
    this.sendJson(error.status, errorBody(error, message));
  }

  /**
   * Hands the response to a long-lived writer (an SSE stream): nothing else may answer, and
   * `onAbort` now belongs to that writer.
   */
  takeOver(onAbort: (exchange: Exchange) => void): HttpResponse {
    this.aborted = true;
    this.status = 200;
    this.onAbort = onAbort;
    return this.res;
  }

  /**
   * Refuses a request that must not be trusted (a repeated Authorization or Content-Length,
   * the tell of request smuggling) and closes the connection after the answer.
   *
   * The answer waits for the next turn of the event loop on purpose: uWS (v20.30,
   * HttpContext.h) parses every request already in the connection's buffer in one go, and
   * a request smuggled behind this one would be parsed, and answered, before a closing
   * `end()` took effect. While this response is pending, uWS refuses to parse another
   * request and closes the connection instead ("not ready for another request"), so a
   * smuggled request never reaches a handler; without one, the 400 goes out next turn.
   */
  refuseAndClose(error: ServerError, message: string): void {
    if (this.aborted) return;
    this.status = error.status;
    setImmediate(sendRefusal, this, errorBody(error, message));
  }

  /** Refuses the request and closes the connection (its unread body would otherwise be parsed as the next request). */
  sendErrorAndClose(error: ServerError, message: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.status = error.status;
    this.res.cork(() => {
      this.res.writeStatus(STATUS_LINES[error.status]).writeHeader('content-type', JSON_TYPE).end(errorBody(error, message), true);
    });
  }
}

function sendRefusal(exchange: Exchange, body: string): void {
  if (exchange.aborted) return; // uWS closed it: a smuggled request followed
  exchange.aborted = true;
  exchange.res.cork(() => {
    exchange.res.writeStatus(STATUS_LINES[exchange.status]).writeHeader('content-type', JSON_TYPE).end(body, true);
  });
}
