import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { errorBody } from './arango-errors.js';

/** "200 OK" for every status, computed once: uWS wants the whole status line text. */
const STATUS_LINES: string[] = [];
for (let status = 100; status < 600; status++) STATUS_LINES[status] = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;

export const JSON_TYPE = 'application/json; charset=utf-8';

/** Headers uWS writes itself, or that would break the framing if copied from a handler. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'date']);

/**
 * One HTTP request in flight. uWS invalidates `res` once the client hangs up: every write
 * checks `aborted` first (set by the `onAborted` handler every exchange registers), and writes
 * made outside uWS's own callback are corked into one syscall.
 */
export class Exchange {
  readonly res: HttpResponse;
  readonly head: boolean;
  aborted = false;
  /** Status of the answer once sent (0 before). */
  status = 0;
  /** Called once if the client hangs up before the answer is written. */
  onAbort: ((exchange: Exchange) => void) | null = null;

  constructor(res: HttpResponse, head: boolean) {
    this.res = res;
    this.head = head;
    res.onAborted(() => {
      this.aborted = true;
      this.onAbort?.(this);
    });
  }

  /** Status, flat headers, body. `extraName`/`extraValue` add one header (x-arango-async-id). */
  send(status: number, headers: readonly string[], body: Uint8Array | string | null, extraName?: string, extraValue?: string): void {
    if (this.aborted) return;
    this.aborted = true; // answered: nothing may write again
    this.status = status;
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
      else res.end(body ?? '');
    });
  }

  sendJson(status: number, body: string, extraName?: string, extraValue?: string): void {
    this.send(status, ['content-type', JSON_TYPE], body, extraName, extraValue);
  }

  sendError(status: number, errorNum: number, message: string): void {
    this.sendJson(status, errorBody(status, errorNum, message));
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
  refuseAndClose(status: number, errorNum: number, message: string): void {
    if (this.aborted) return;
    this.status = status;
    setImmediate(sendRefusal, this, errorBody(status, errorNum, message));
  }

  /** Refuses the request and closes the connection (its unread body would otherwise be parsed as the next request). */
  sendErrorAndClose(status: number, errorNum: number, message: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.status = status;
    this.res.cork(() => {
      this.res.writeStatus(STATUS_LINES[status]).writeHeader('content-type', JSON_TYPE).end(errorBody(status, errorNum, message), true);
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
