import { STATUS_CODES } from 'node:http';
import type { HttpResponse, TemplatedApp, us_socket_context_t, WebSocket } from 'uWebSockets.js';
import { ERRORS, errorBody, type ServerError } from '../errors/index.js';
import { AuthRefusal, type AuthOutcome } from '../auth/index.js';
import type { Caller } from '../auth/index.js';
import type { JobStore } from '../jobs/index.js';
import { isFinalEvent, type OperationEvent } from './operation-event.js';
import type { OperationTracker, OperationWatcher } from './operation-tracker.js';
import { problem } from './problem.js';
import { payloadOf } from './sse-stream.js';

/** Above this many bytes waiting in a socket, status updates are coalesced instead of sent. */
const SOFT_BACKPRESSURE_BYTES = 64 * 1024;
const MAX_SUBSCRIPTIONS = 1000;

interface SocketData {
  caller: Caller;
  subscriptions: Map<number, SocketSubscription>;
  closed: boolean;
}

/**
 * `/_api/operations/ws`: one WebSocket subscribes to several operations with
 * `{"subscribe":[ids]}` / `{"unsubscribe":[ids]}` and receives their events as JSON
 * `{ event, operationId, status, progress, timestamp, data }`. Same ownership rules as HTTP:
 * an operation the caller may not see is answered with an `ERROR` message, as if unknown.
 */
export function mountOperationsSocket(
  app: TemplatedApp,
  store: JobStore,
  tracker: OperationTracker,
  authenticate: (authorization: string, clientAddress: string) => AuthOutcome | Promise<AuthOutcome>,
): void {
  const behaviour = {
    maxPayloadLength: 64 * 1024,
    idleTimeout: 120,
    maxBackpressure: 1024 * 1024,
    sendPingsAutomatically: true,
    upgrade: (res: import('uWebSockets.js').HttpResponse, req: import('uWebSockets.js').HttpRequest, context: import('uWebSockets.js').us_socket_context_t) => {
      const outcome = authenticate(req.getHeader('authorization'), Buffer.from(res.getRemoteAddressAsText()).toString());
      const handshake: Handshake = {
        key: req.getHeader('sec-websocket-key'), protocol: req.getHeader('sec-websocket-protocol'),
        extensions: req.getHeader('sec-websocket-extensions'), context, aborted: false,
      };
      if (!(outcome instanceof Promise)) return finishUpgrade(res, outcome, handshake);
      // A password being verified: uWS lets the upgrade finish later, from a corked callback.
      res.onAborted(() => { handshake.aborted = true; });
      outcome.then(
        (result) => { if (!handshake.aborted) res.cork(() => finishUpgrade(res, result, handshake)); },
        (error: Error) => {
          if (!handshake.aborted) res.cork(() => refuseUpgrade(res, new AuthRefusal(ERRORS.internal, `password verification failed: ${error.message}`)));
        },
      );
    },
    message: (ws: WebSocket<SocketData>, message: ArrayBuffer) => {
      let command: { subscribe?: unknown; unsubscribe?: unknown };
      try {
        command = JSON.parse(Buffer.from(message).toString('utf8'));
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        return sendError(ws, null, ERRORS.badSubscription, 'expecting JSON {"subscribe":[ids]} or {"unsubscribe":[ids]}');
      }
      const data = ws.getUserData();
      for (const id of idList(command?.unsubscribe)) {
        const subscription = data.subscriptions.get(id);
        if (subscription === undefined) continue;
        data.subscriptions.delete(id);
        tracker.unwatch(id, subscription);
      }
      for (const id of idList(command?.subscribe)) {
        if (data.subscriptions.has(id)) continue;
        if (data.subscriptions.size >= MAX_SUBSCRIPTIONS) return sendError(ws, id, ERRORS.tooManySubscriptions, `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
        // Held from now on, so that a repeat while the store answers is not a second subscription.
        const subscription = new SocketSubscription(ws, id);
        data.subscriptions.set(id, subscription);
        const found = Number.isSafeInteger(id) && id > 0 ? store.get(id, data.caller) : Promise.resolve(undefined);
        found.then((job) => {
          if (data.closed || data.subscriptions.get(id) !== subscription) return;
          if (job === undefined) {
            data.subscriptions.delete(id);
            ws.cork(() => sendError(ws, id, ERRORS.subscriptionNotFound, `no operation ${id}`));
            return undefined;
          }
          return tracker.watchCurrent(job, subscription, 0, () => store.get(id, data.caller)).then((watching) => {
            if (!watching && data.subscriptions.get(id) === subscription) data.subscriptions.delete(id);
          });
        }).catch((error: Error) => {
          if (data.closed || data.subscriptions.get(id) !== subscription) return;
          data.subscriptions.delete(id);
          ws.cork(() => sendError(ws, id, ERRORS.internal, `job store failed: ${error.message}`));
        });
      }
      if (command?.subscribe === undefined && command?.unsubscribe === undefined) {
        sendError(ws, null, ERRORS.badSubscription, 'expecting {"subscribe":[ids]} or {"unsubscribe":[ids]}');
      }
    },
    drain: (ws: WebSocket<SocketData>) => {
      for (const subscription of ws.getUserData().subscriptions.values()) subscription.drain();
    },
    close: (ws: WebSocket<SocketData>) => {
      const data = ws.getUserData();
      data.closed = true;
      for (const [id, subscription] of data.subscriptions) tracker.unwatch(id, subscription);
      data.subscriptions.clear();
    },
  };
  app.ws('/_api/operations/ws', behaviour);
  app.ws('/_db/:database/_api/operations/ws', behaviour);
}

interface Handshake {
  key: string;
  protocol: string;
  extensions: string;
  context: us_socket_context_t;
  aborted: boolean;
}

function finishUpgrade(res: HttpResponse, outcome: AuthOutcome, handshake: Handshake): void {
  if (outcome instanceof AuthRefusal) return refuseUpgrade(res, outcome);
  const data: SocketData = { caller: outcome, subscriptions: new Map(), closed: false };
  res.upgrade(data, handshake.key, handshake.protocol, handshake.extensions, handshake.context);
}

function refuseUpgrade(res: HttpResponse, refusal: AuthRefusal): void {
  res.writeStatus(`${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Unknown'}`).writeHeader('content-type', 'application/json');
  if (refusal.retryAfterSeconds > 0) res.writeHeader('retry-after', String(refusal.retryAfterSeconds));
  res.end(errorBody(refusal, refusal.message));
}

/** One operation watched over one socket; holds back (coalesces) updates while the socket is congested. */
class SocketSubscription implements OperationWatcher {
  readonly #ws: WebSocket<SocketData>;
  readonly #jobId: number;
  #pendingUpdate: OperationEvent | null = null;
  #pendingFinal: OperationEvent | null = null;

  constructor(ws: WebSocket<SocketData>, jobId: number) {
    this.#ws = ws;
    this.#jobId = jobId;
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
    if (final) data.subscriptions.delete(this.#jobId);
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

function idList(value: unknown): number[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => (typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : typeof item === 'number' ? item : NaN));
}

function sendError(ws: WebSocket<SocketData>, operationId: number | null, error: ServerError, detail: string): void {
  if (ws.getUserData().closed) return;
  const body = { event: 'ERROR', operationId: operationId === null ? null : String(operationId), timestamp: new Date().toISOString(), data: problem(error, detail) };
  ws.cork(() => ws.send(JSON.stringify(body), false));
}
