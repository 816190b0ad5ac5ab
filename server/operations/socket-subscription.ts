import type { WebSocket } from 'uWebSockets.js';
import type { Caller } from '../auth/index.js';
import { ERRORS, type ServerError } from '../errors/index.js';
import type { JobStore } from '../jobs/index.js';
import { isFinalEvent, type OperationEvent } from './operation-event.js';
import type { OperationTracker, OperationWatcher } from './operation-tracker.js';
import { problem } from './problem.js';
import { payloadOf } from './sse-stream.js';

/*
 * What the operations WebSockets share: the shared `/_api/operations/ws` (subscriptions by
 * message) and the per-operation `/_api/operations/{id}/status` (one subscription, made by
 * connecting). Both send the same messages for a subscription; the per-operation socket also
 * closes once its subscription ends.
 */

/** Above this many bytes waiting in a socket, status updates are coalesced instead of sent. */
const SOFT_BACKPRESSURE_BYTES = 64 * 1024;
/** Close code after the final event of the one operation a per-operation socket follows. */
const CLOSE_NORMAL = 1000;
/**
 * Close codes 4000-4999 are the application's (RFC 6455 §7.4.2): a refused subscription closes a
 * per-operation socket with 4000 + the HTTP status of the ERROR message's problem (4404, 4500),
 * so that a browser, whose WebSocket never shows an HTTP status, still learns why.
 */
const CLOSE_REFUSED_BASE = 4000;

/** uWS settings both operations WebSockets share. */
export const SOCKET_LIMITS = {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 120,
  maxBackpressure: 1024 * 1024,
  sendPingsAutomatically: true,
} as const;

export interface SocketData {
  caller: Caller;
  subscriptions: Map<number, SocketSubscription>;
  closed: boolean;
  /** The operation a per-operation socket follows (NaN for a malformed id); null on the shared socket. */
  followsOnly: number | null;
}

/** One operation watched over one socket; holds back (coalesces) updates while the socket is congested. */
export class SocketSubscription implements OperationWatcher {
  readonly #ws: WebSocket<SocketData>;
  readonly #jobId: number;
  #pendingUpdate: OperationEvent | null = null;
  #pendingFinal: OperationEvent | null = null;

  constructor(ws: WebSocket<SocketData>, jobId: number) {
    this.#ws = ws;
    this.#jobId = jobId;
  }

  /** The final event was pushed (sent, or held until the socket drains): the subscription needs nothing more. */
  get ended(): boolean {
    return this.#pendingFinal !== null || !this.#ws.getUserData().subscriptions.has(this.#jobId);
  }

  push(event: OperationEvent): void {
    const data = this.#ws.getUserData();
    if (data.closed) return;
    const final = isFinalEvent(event);
    if (this.#ws.getBufferedAmount() > SOFT_BACKPRESSURE_BYTES) {
      // Log lines a congested client misses stay readable at /logs; status is what must not lag.
      if (final) this.#pendingFinal = event;
      else if (event.event !== 'log') this.#pendingUpdate = event;
      return;
    }
    this.#ws.cork(() => this.#ws.send(JSON.stringify(payloadOf(event)), false));
    if (!final) return;
    data.subscriptions.delete(this.#jobId);
    // uWS queues the close frame behind the final event, which the client so reads first.
    if (data.followsOnly === this.#jobId) this.#ws.end(CLOSE_NORMAL, 'operation finished');
  }

  drain(): void {
    const update = this.#pendingUpdate;
    const final = this.#pendingFinal;
    this.#pendingUpdate = null;
    this.#pendingFinal = null;
    if (update !== null) this.push(update);
    if (final !== null) this.push(final);
  }
}

/**
 * Subscribes the socket to operation `jobId`: the caller's (or any, for a superuser) gets its
 * current state, then each event to the final one; anyone else's, or an unknown id, is refused
 * with an ERROR message as if it did not exist (the ownership rule of the HTTP routes).
 */
export function subscribe(ws: WebSocket<SocketData>, jobId: number, store: JobStore, tracker: OperationTracker): void {
  const data = ws.getUserData();
  // Held from now on, so that a repeat while the store answers is not a second subscription.
  const subscription = new SocketSubscription(ws, jobId);
  data.subscriptions.set(jobId, subscription);
  const current = (): boolean => !data.closed && data.subscriptions.get(jobId) === subscription;
  const found = Number.isSafeInteger(jobId) && jobId > 0 ? store.get(jobId, data.caller) : Promise.resolve(undefined);
  found.then((job) => {
    if (!current()) return undefined;
    if (job === undefined) return refuseSubscription(ws, jobId, ERRORS.subscriptionNotFound, `no operation ${jobId}`);
    return tracker.watchCurrent(job, subscription, 0, () => store.get(jobId, data.caller)).then((watching) => {
      // Not watching and no final event either: the job was removed between the two reads.
      if (!watching && current() && !subscription.ended) refuseSubscription(ws, jobId, ERRORS.subscriptionNotFound, `no operation ${jobId}`);
    });
  }).catch((error: Error) => {
    if (current()) refuseSubscription(ws, jobId, ERRORS.internal, `job store failed: ${error.message}`);
  });
}

/**
 * Ends a subscription with an ERROR message (`operationId` null for an id that is not one); a
 * per-operation socket, which has no other, then closes.
 */
export function refuseSubscription(ws: WebSocket<SocketData>, jobId: number, error: ServerError, detail: string): void {
  const data = ws.getUserData();
  data.subscriptions.delete(jobId);
  sendError(ws, Number.isNaN(jobId) ? null : String(jobId), error, detail);
  if (data.followsOnly !== null && !data.closed) ws.end(CLOSE_REFUSED_BASE + error.status, error.code);
}

/** `{"event":"ERROR","operationId","timestamp","data":<problem>}`; `operationId` null when no operation is named. */
export function sendError(ws: WebSocket<SocketData>, operationId: string | null, error: ServerError, detail: string): void {
  if (ws.getUserData().closed) return;
  const body = { event: 'ERROR', operationId, timestamp: new Date().toISOString(), data: problem(error, detail) };
  ws.cork(() => ws.send(JSON.stringify(body), false));
}

/** uWS's `drain`: the socket has room again; coalesced events go out. */
export function drainSubscriptions(ws: WebSocket<SocketData>): void {
  for (const subscription of ws.getUserData().subscriptions.values()) subscription.drain();
}

/** uWS's `close` (also right after `ws.end`): stops every watch of the socket. */
export function closeSubscriptions(ws: WebSocket<SocketData>, tracker: OperationTracker): void {
  const data = ws.getUserData();
  data.closed = true;
  for (const [id, subscription] of data.subscriptions) tracker.unwatch(id, subscription);
  data.subscriptions.clear();
}
