import type { HttpRequest, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ERRORS } from '../errors/index.js';
import type { JobStore } from '../jobs/index.js';
import type { OperationTracker } from './operation-tracker.js';
import { closeSubscriptions, drainSubscriptions, refuseSubscription, sendError, SOCKET_LIMITS, subscribe, type SocketData } from './socket-subscription.js';
import { socketUpgrade, type SocketAuthenticator } from './socket-upgrade.js';

/** A job id as the operations routes read it: decimal, no leading zero, exact as a double. */
const OPERATION_ID = /^[1-9]\d{0,15}$/;

/**
 * `/_api/operations/{id}/status`, the seed's WebSocket URL: connecting subscribes to that one
 * operation. It sends what the shared socket sends for a subscription (the current state, each
 * `STATUS_UPDATE`, the final event), then closes normally (1000) after the final event.
 *
 * Credentials are checked on upgrade, as on the shared socket (401 without them). An operation
 * the caller may not see, or an unknown id, is not a 404 on upgrade but an accepted socket that
 * sends the shared socket's `ERROR` message for an unknown subscription and closes with 4404:
 * a browser's WebSocket reports a refused upgrade only as "closed, 1006", with no status, so a
 * client could not tell a wrong id from a network failure and would reconnect forever; this way
 * it reads why, in the same message its shared-socket code already handles. The check happens
 * after the upgrade, so someone else's id and one never issued look the same.
 *
 * uWS routes only Upgrade requests to a `ws` route (it yields a plain GET to the next match), so
 * `GET /_api/operations/{id}/status` without Upgrade is answered by the HTTP routes as before.
 */
export function mountOperationStatusSocket(app: TemplatedApp, store: JobStore, tracker: OperationTracker, authenticate: SocketAuthenticator): void {
  const behaviour = (idParameter: number) => ({
    ...SOCKET_LIMITS,
    upgrade: socketUpgrade(authenticate, (req: HttpRequest) => operationIdOf(req.getParameter(idParameter))),
    open: (ws: WebSocket<SocketData>) => {
      const jobId = ws.getUserData().followsOnly!;
      if (Number.isNaN(jobId)) return refuseSubscription(ws, jobId, ERRORS.subscriptionNotFound, 'not an operation id');
      subscribe(ws, jobId, store, tracker);
    },
    message: (ws: WebSocket<SocketData>) => {
      const jobId = ws.getUserData().followsOnly!;
      sendError(ws, String(jobId), ERRORS.badSubscription, `this socket follows operation ${jobId} only; subscribe to others on /_api/operations/ws`);
    },
    drain: drainSubscriptions,
    close: (ws: WebSocket<SocketData>) => closeSubscriptions(ws, tracker),
  });
  app.ws('/_api/operations/:id/status', behaviour(0));
  app.ws('/_db/:database/_api/operations/:id/status', behaviour(1));
}

/** The id of the path, or NaN when it cannot be one (then no store lookup is made). */
function operationIdOf(segment: string): number {
  return OPERATION_ID.test(segment) ? Number(segment) : Number.NaN;
}
