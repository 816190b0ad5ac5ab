import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ERRORS } from '../errors/index.js';
import type { JobStore } from '../jobs/index.js';
import { mountOperationStatusSocket } from './operation-status-socket.js';
import type { OperationTracker } from './operation-tracker.js';
import { closeSubscriptions, drainSubscriptions, sendError, SOCKET_LIMITS, subscribe, type SocketData } from './socket-subscription.js';
import { socketUpgrade, type SocketAuthenticator } from './socket-upgrade.js';

const MAX_SUBSCRIPTIONS = 1000;

/**
 * `/_api/operations/ws`: one WebSocket subscribes to several operations with
 * `{"subscribe":[ids]}` / `{"unsubscribe":[ids]}` and receives their events as JSON
 * `{ event, operationId, status, progress, timestamp, data }`. Same ownership rules as HTTP:
 * an operation the caller may not see is answered with an `ERROR` message, as if unknown.
 * Also mounts the per-operation socket, `/_api/operations/{id}/status`.
 */
export function mountOperationsSocket(app: TemplatedApp, store: JobStore, tracker: OperationTracker, authenticate: SocketAuthenticator): void {
  const behaviour = {
    ...SOCKET_LIMITS,
    upgrade: socketUpgrade(authenticate),
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
        if (data.subscriptions.size >= MAX_SUBSCRIPTIONS) {
          return sendError(ws, String(id), ERRORS.tooManySubscriptions, `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
        }
        subscribe(ws, id, store, tracker);
      }
      if (command?.subscribe === undefined && command?.unsubscribe === undefined) {
        sendError(ws, null, ERRORS.badSubscription, 'expecting {"subscribe":[ids]} or {"unsubscribe":[ids]}');
      }
    },
    drain: drainSubscriptions,
    close: (ws: WebSocket<SocketData>) => closeSubscriptions(ws, tracker),
  };
  app.ws('/_api/operations/ws', behaviour);
  app.ws('/_db/:database/_api/operations/ws', behaviour);
  mountOperationStatusSocket(app, store, tracker, authenticate);
}

function idList(value: unknown): number[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => (typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : typeof item === 'number' ? item : NaN));
}
