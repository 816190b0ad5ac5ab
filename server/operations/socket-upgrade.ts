import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { AuthRefusal, type AuthOutcome } from '../auth/index.js';
import { ERRORS, errorBody } from '../errors/index.js';
import type { SocketData } from './socket-subscription.js';

/**
 * A browser's WebSocket cannot send `Authorization`: it offers the subprotocols
 * `arango-jobs` and `arango-jobs.bearer.<JWT>` instead (`new WebSocket(url, ['arango-jobs',
 * 'arango-jobs.bearer.' + jwt])`), and the server answers with `arango-jobs` alone, so the
 * token is never echoed. A JWT's characters (base64url and dots) are all allowed in a subprotocol.
 */
export const SOCKET_PROTOCOL = 'arango-jobs';
const TOKEN_PROTOCOL_PREFIX = `${SOCKET_PROTOCOL}.bearer.`;

/** Checks an upgrade request's `Authorization` header; a promise while a password is verified. */
export type SocketAuthenticator = (authorization: string, clientAddress: string) => AuthOutcome | Promise<AuthOutcome>;

interface Handshake {
  key: string;
  protocol: string;
  extensions: string;
  context: us_socket_context_t;
  followsOnly: number | null;
  aborted: boolean;
}

/**
 * The `upgrade` of the operations WebSockets: credentials are checked before the socket exists,
 * and refused with the HTTP status and ArangoDB body of any other request (401, 429).
 * `followsOnly` reads, from the request, the one operation the socket is for (the
 * per-operation socket); the request is gone once a password check makes the upgrade wait.
 */
export function socketUpgrade(authenticate: SocketAuthenticator, followsOnly: (req: HttpRequest) => number | null = () => null) {
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    let authorization = req.getHeader('authorization');
    let protocol = req.getHeader('sec-websocket-protocol');
    if (protocol.includes(TOKEN_PROTOCOL_PREFIX)) {
      const offered = protocol.split(',').map((entry) => entry.trim());
      const token = offered.find((entry) => entry.startsWith(TOKEN_PROTOCOL_PREFIX));
      if (token !== undefined && authorization === '') authorization = `bearer ${token.slice(TOKEN_PROTOCOL_PREFIX.length)}`;
      protocol = offered.includes(SOCKET_PROTOCOL) ? SOCKET_PROTOCOL : '';
    }
    const outcome = authenticate(authorization, Buffer.from(res.getRemoteAddressAsText()).toString());
    const handshake: Handshake = {
      key: req.getHeader('sec-websocket-key'), protocol,
      extensions: req.getHeader('sec-websocket-extensions'), context, followsOnly: followsOnly(req), aborted: false,
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
  };
}

function finishUpgrade(res: HttpResponse, outcome: AuthOutcome, handshake: Handshake): void {
  if (outcome instanceof AuthRefusal) return refuseUpgrade(res, outcome);
  const data: SocketData = { caller: outcome, subscriptions: new Map(), closed: false, followsOnly: handshake.followsOnly };
  res.upgrade(data, handshake.key, handshake.protocol, handshake.extensions, handshake.context);
}

function refuseUpgrade(res: HttpResponse, refusal: AuthRefusal): void {
  res.writeStatus(`${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Unknown'}`).writeHeader('content-type', 'application/json');
  if (refusal.retryAfterSeconds > 0) res.writeHeader('retry-after', String(refusal.retryAfterSeconds));
  res.end(errorBody(refusal, refusal.message));
}
