import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Engine, JobUser, SubmitRequest } from '../../engine/index.js';
import { ANY_OWNER, AuthRefusal, UNAUTHORIZED, type Authenticator, type Caller } from '../auth/index.js';
import { ERRORS, errorBody, errorFromEngine, type ArangoError, type ServerError } from '../errors/index.js';
import { Exchange, JSON_TYPE, readBody, type Answer } from '../http/index.js';
import { JobApi, sendStoreError, type JobRecorder, type JobStore, type UserLimits } from '../jobs/index.js';
import { MODE_BLOCKING, MODE_FIRE, MODE_INLINE, MODE_STORE, type JobLog, type ServerMetrics } from '../observability/index.js';
import { DEFAULT_CANCEL_REASON, handlerHeaders, mountOperationsSocket, operationType, problem, problemAnswer, type OperationsApi, type OperationSubmit, type OperationTracker, type SubmitIntent } from '../operations/index.js';
import { whenAuthenticated, type RequestHeaders } from './auth-pending-request.js';
import { DASHBOARD_PATH, isDashboardPath, type DashboardAssets } from './dashboard-assets.js';

/**
 * uWS's LIBUS_LISTEN_EXCLUSIVE_PORT (its ListenOptions enum exists in the typings only): listen
 * without SO_REUSEPORT. The native listen takes it as the number after the port.
 */
const LISTEN_EXCLUSIVE_PORT = 1;

export interface HttpFrontOptions {
  engine: Engine;
  store: JobStore;
  authenticator: Authenticator;
  authentication: boolean;
  metrics: ServerMetrics;
  maxBodySize: number;
  operations: { api: OperationsApi; submit: OperationSubmit; tracker: OperationTracker };
  limits: UserLimits;
  recorder: JobRecorder;
  jobLog: JobLog;
  /** A client's cancel (recorded, logged, timed); the operations API gets the same one. */
  cancelJob: (jobId: number, reason: string) => boolean;
  /**
   * Where stored jobs take their ids: a cluster's shared counter (throws `ERR_STORE_UNAVAILABLE`
   * when it has none on hand); default: the engine's own (`reserveJobId`).
   */
  storedJobId?: () => number;
  /** A cluster node: true when a stored job should go to the shared queue (no free worker here) rather than run here. */
  shareStored?: () => boolean;
  /**
   * A cluster node: puts a fire-and-forget request into the shared queue (when `shareStored`
   * says so); rejects with `ERR_QUEUE_FULL` when that is full, or when Redis is out of reach
   * (the request then runs here).
   */
  shareFire?: (request: SubmitRequest) => Promise<void>;
  /** The browser dashboard's files, served at `/_admin/dashboard/` (none: every such path is a 404). */
  dashboard?: DashboardAssets;
}

const NO_HEADERS: string[] = [];
/** How the lifecycle log names the modes. */
const MODE_NAMES: Record<number, string> = { [MODE_BLOCKING]: 'blocking', [MODE_FIRE]: 'fire-and-forget', [MODE_STORE]: 'stored' };
const JSON_HEADERS = ['content-type', JSON_TYPE];
const AUTH_BODY_LIMIT = 64 * 1024;
/** Bodies the operations surface reads itself (a cancel's reason). */
const OPERATION_BODY_LIMIT = 64 * 1024;
const UNAUTHORIZED_HEADERS = ['content-type', JSON_TYPE, 'www-authenticate', 'Bearer token_type="JWT", realm="ArangoDB"'];
const UNAUTHORIZED_BODY = errorBody(ERRORS.unauthorized, 'not authorized to execute this request');

/*
 * The headers of the request being handled, gathered by one module-level callback (no closure
 * per request), with counts of those that must appear at most once. uWS hands the first of
 * repeated headers to getHeader() while handlers see the last one, and it frames the body by the
 * first Content-Length: a repeat is how a request smuggles a second one or a second identity.
 */
let scannedHeaders: string[] = [];
let authorizationCount = 0;
let contentLengthCount = 0;
let hostCount = 0;

function scanHeader(name: string, value: string): void {
  scannedHeaders.push(name, value);
  if (name === 'authorization') authorizationCount++;
  else if (name === 'content-length') contentLengthCount++;
  else if (name === 'host') hostCount++;
}

/** The request's flat headers, or the name of a header it repeats that must be single. */
function scanHeaders(req: HttpRequest): string[] | string {
  scannedHeaders = [];
  authorizationCount = 0;
  contentLengthCount = 0;
  hostCount = 0;
  req.forEach(scanHeader);
  if (authorizationCount > 1) return 'authorization';
  if (contentLengthCount > 1) return 'content-length';
  if (hostCount > 1) return 'host';
  return scannedHeaders;
}

/**
 * The uWebSockets.js front: parses, routes and authenticates each request on the main thread,
 * then either answers it here (job API, login, metrics, errors) or hands it to the engine in
 * the mode its `x-arango-async` header asks for, as ArangoDB does: routing and authentication
 * come before anything is queued.
 */
export class HttpFront {
  readonly #app: TemplatedApp;
  readonly #engine: Engine;
  readonly #store: JobStore;
  readonly #authenticator: Authenticator;
  readonly #authentication: boolean;
  readonly #metrics: ServerMetrics;
  readonly #maxBodySize: number;
  readonly #jobApi: JobApi;
  readonly #operations: HttpFrontOptions['operations'];
  readonly #limits: UserLimits;
  readonly #recorder: JobRecorder;
  readonly #jobLog: JobLog;
  readonly #storedJobId: () => number;
  readonly #shareStored: () => boolean;
  readonly #shareFire: ((request: SubmitRequest) => Promise<void>) | null;
  readonly #dashboard: DashboardAssets | null;
  /** What handlers see as `ctx.user`, one frozen object per caller. */
  readonly #jobUsers = new Map<string, JobUser>();
  #listenSocket: us_listen_socket | null = null;

  constructor(options: HttpFrontOptions) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#authenticator = options.authenticator;
    this.#authentication = options.authentication;
    this.#metrics = options.metrics;
    this.#maxBodySize = options.maxBodySize;
    this.#jobApi = new JobApi(this.#store, (jobId) => options.cancelJob(jobId, DEFAULT_CANCEL_REASON));
    this.#operations = options.operations;
    this.#limits = options.limits;
    this.#recorder = options.recorder;
    this.#jobLog = options.jobLog;
    this.#storedJobId = options.storedJobId ?? (() => this.#engine.reserveJobId());
    this.#shareStored = options.shareStored ?? (() => false);
    this.#shareFire = options.shareFire ?? null;
    this.#dashboard = options.dashboard ?? null;
    this.#app = uWS.App();
    mountOperationsSocket(this.#app, this.#store, options.operations.tracker, (authorization, clientAddress) =>
      this.#authenticator.authenticate(this.#authentication ? authorization : '', clientAddress));
    this.#app.any('/*', (res, req) => this.#onRequest(res, req));
  }

  /**
   * Starts listening; resolves with the port (useful with port 0). The port is this server's
   * alone: uWS otherwise sets SO_REUSEPORT, and a second server started on a taken port would
   * start without complaint and take a share of its connections.
   */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const listen = this.#app.listen as unknown as (host: string, port: number, options: number, callback: (socket: us_listen_socket | false) => void) => void;
      listen.call(this.#app, host, port, LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (socket === false) {
          reject(Object.assign(new Error(`cannot listen on ${host}:${port}: the address is in use or not available`), { code: 'ERR_LISTEN' }));
          return;
        }
        this.#listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
      });
    });
  }

  /**
   * Stops accepting connections; requests in flight still get their answers. On SIGTERM this
   * comes last: during the drain the server goes on listening so that clients can collect
   * results, while the closing engine refuses new jobs (503, errorNum 30).
   */
  stopListening(): void {
    if (this.#listenSocket !== null) {
      uWS.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = null;
    }
  }

  #onRequest(res: HttpResponse, req: HttpRequest): void {
    const method = req.getCaseSensitiveMethod().toUpperCase();
    let path = req.getUrl();
    const query = req.getQuery() ?? '';
    // ArangoDB clients address a database: /_db/{name}/... This server has one, so any name works.
    if (path.startsWith('/_db/')) {
      const slash = path.indexOf('/', 5);
      path = slash < 0 ? '/' : path.slice(slash);
    }
    const exchange = new Exchange(res, method === 'HEAD');
    const headers = scanHeaders(req);
    if (typeof headers === 'string') {
      exchange.refuseAndClose(ERRORS.repeatedHeader, `the request repeats its ${headers} header: refused, and the connection closed`);
      return this.#metrics.countRequest(MODE_INLINE, 400);
    }
    if (path === '/_open/auth') return this.#login(req, exchange, method);
    // The dashboard's files hold no data: the page must load to show its login form.
    if (this.#dashboard !== null && isDashboardPath(path)) {
      this.#dashboard.serve(exchange, method, path.slice(DASHBOARD_PATH.length), req.getHeader('if-none-match'));
      return this.#metrics.countRequest(MODE_INLINE, exchange.status);
    }
    // As ArangoDB does, every other path authenticates before routing: without credentials an
    // unknown path is 401 too, so routes cannot be enumerated.
    const authorization = this.#authentication ? req.getHeader('authorization') : '';
    const caller = this.#authenticator.cachedCaller(authorization);
    if (caller !== undefined) return this.#route(req, exchange, method, path, query, headers, caller, undefined);
    this.#authenticate(req, exchange, authorization, method, path, query, headers);
  }

  /**
   * Everything after authentication. `body` is the body already read (while a password was
   * verified), undefined when not read yet; `req` is then a copy of uWS's, which is gone.
   */
  #route(
    req: RequestHeaders, exchange: Exchange, method: string, path: string, query: string, headers: string[], caller: Caller,
    body: Uint8Array | null | undefined,
  ): void {
    if (path.startsWith('/_api/job') && (path.length === 9 || path.charCodeAt(9) === 0x2f)) {
      this.#jobApi.handle(exchange, method, path.slice(9), query, caller);
      return this.#metrics.countRequest(MODE_INLINE, exchange.status);
    }
    if (isOperationsPath(path)) {
      this.#operations.api.handle(exchange, method, path.slice(16), query, caller, (name) => req.getHeader(name),
        (onBody) => (body !== undefined ? onBody(body) : readBody(req as HttpRequest, exchange, OPERATION_BODY_LIMIT, onBody)));
      return this.#metrics.countRequest(MODE_INLINE, exchange.status);
    }
    if (path === '/_admin/metrics') return this.#serveMetrics(exchange, method);

    let match;
    try {
      match = this.#engine.routes.match(method, path);
    } catch (error) {
      if (!(error instanceof URIError)) throw error;
      return this.#inlineError(exchange, ERRORS.badParameter, `malformed path "${path}"`);
    }
    if (match.kind === 'notFound') return this.#inlineError(exchange, ERRORS.notFound, `unknown path '${path}'`);
    if (match.kind === 'methodNotAllowed') return this.#inlineError(exchange, ERRORS.methodNotAllowed, 'method not supported');
    const asyncHeader = req.getHeader('x-arango-async');
    let mode = asyncHeader === '' ? MODE_BLOCKING : asyncMode(asyncHeader);
    // Operations: Prefer: respond-async stores the job too; x-arango-async: true stays fire and forget.
    let intent: SubmitIntent | null = null;
    if (mode !== MODE_FIRE) {
      const decision = this.#operations.submit.intent(headers);
      if (decision.kind === 'refused') return this.#answer(exchange, decision.answer, MODE_INLINE);
      intent = decision;
      if (intent.respondAsync) mode = MODE_STORE;
    }
    const arangoStore = mode === MODE_STORE && asyncHeader !== '' && asyncMode(asyncHeader) === MODE_STORE;
    const routeIndex = match.routeIndex;
    const onBody = (body: Uint8Array | null): void => {
      // The one request of this submit, as the engine will run it; everything after reads it.
      const request: SubmitRequest = {
        method, path, query, headers: handlerHeaders(intent, headers), body, user: this.#authentication ? this.#jobUserOf(caller) : null,
      };
      const plan: SubmitPlan = { exchange, request, routeIndex, mode, caller, intent, arangoStore };
      if (intent === null || (intent.callbackUrl === null && (mode !== MODE_STORE || intent.idempotencyKey === null))) return this.#submit(plan);
      this.#submitChecked(plan, intent).catch((error: unknown) => sendStoreError(exchange, error));
    };
    if (body !== undefined) onBody(body);
    else readBody(req as HttpRequest, exchange, this.#maxBodySize, onBody);
  }

  /**
   * A submit with an Idempotency-Key or a webhook. A webhook target is checked (its host
   * resolved) before anything is queued; the key is looked up again afterwards, as a retry
   * may have been queued meanwhile.
   */
  async #submitChecked(plan: SubmitPlan, intent: SubmitIntent): Promise<void> {
    if (await this.#answeredByIdempotency(plan)) return;
    if (intent.callbackUrl !== null) {
      let refusal: Answer | null;
      try {
        refusal = await this.#operations.submit.callbackRefusal(intent);
      } catch (error) {
        return plan.exchange.sendError(ERRORS.internal, `webhook check failed: ${(error as Error).message}`);
      }
      if (refusal !== null) return this.#answer(plan.exchange, refusal, MODE_INLINE);
      if (await this.#answeredByIdempotency(plan)) return;
    }
    this.#submit(plan);
  }

  /** A stored submit repeating an Idempotency-Key is answered from the first one (or refused, 422). */
  async #answeredByIdempotency(plan: SubmitPlan): Promise<boolean> {
    if (plan.mode !== MODE_STORE) return false;
    const answer = await this.#operations.submit.idempotentAnswer(plan.intent!, plan.caller, plan.request, plan.arangoStore);
    if (answer === null) return false;
    this.#answer(plan.exchange, answer, MODE_STORE);
    return true;
  }

  #answer(exchange: Exchange, answer: Answer, mode: number): void {
    exchange.answer(answer);
    this.#metrics.countRequest(mode, answer.status);
  }

  #submit(plan: SubmitPlan): void {
    if (plan.exchange.aborted) return; // hung up during the upload: nothing queued
    const limits = this.#limits;
    if (limits.enabled && plan.mode === MODE_STORE && limits.boundsStored) {
      this.#store.countOwnedBy(plan.caller.username).then(
        (stored) => this.#admit(plan, stored),
        (error: unknown) => sendStoreError(plan.exchange, error),
      );
      return;
    }
    this.#admit(plan, 0);
  }

  /** `stored`: the caller's stored jobs, when the per-user bound on them applies. */
  #admit(plan: SubmitPlan, stored: number): void {
    const { exchange, mode, caller } = plan;
    const limits = this.#limits;
    if (limits.enabled) {
      const refusal = limits.admit(caller.username, mode === MODE_STORE, () => stored, Date.now());
      if (refusal !== null) {
        exchange.send(ERRORS.userLimit.status, ['content-type', JSON_TYPE, 'retry-after', String(refusal.retryAfterSeconds)],
          errorBody(ERRORS.userLimit, refusal.message));
        return this.#metrics.countRequest(mode, ERRORS.userLimit.status);
      }
    }
    if (mode === MODE_STORE) return this.#writeAhead(plan);
    if (mode === MODE_FIRE && this.#shareFire !== null && this.#shareStored()) return this.#fireShared(plan);
    this.#submitNow(plan);
  }

  /** Fire and forget with no free worker here: into the shared queue, for a node that has one; run here when Redis is out of reach. */
  #fireShared(plan: SubmitPlan): void {
    const { exchange, mode } = plan;
    this.#shareFire!(plan.request).then(() => {
      exchange.send(202, NO_HEADERS, null);
      this.#metrics.countRequest(mode, 202);
    }, (error: unknown) => {
      const mapped = errorFromEngine(error);
      if (mapped !== undefined) return this.#inlineError(exchange, mapped, mapped.message, mode);
      if (!exchange.aborted) this.#submitNow(plan);
    });
  }

  /** Hands a blocking or fire-and-forget job to this node's engine. */
  #submitNow(plan: SubmitPlan): void {
    const { exchange, mode, caller } = plan;
    const limits = this.#limits;
    let jobId: number;
    try {
      jobId = this.#engine.submit(plan.routeIndex, plan.request, mode === MODE_FIRE);
    } catch (error) {
      const mapped = errorFromEngine(error);
      if (mapped === undefined) throw error;
      return this.#inlineError(exchange, mapped, mapped.message, mode);
    }
    if (limits.enabled) limits.submitted(jobId, caller.username);
    if (this.#jobLog.enabled) this.#logSubmitted(plan, jobId);
    if (mode === MODE_BLOCKING) {
      const blocking = exchange as BlockingExchange;
      blocking.jobId = jobId;
      blocking.onAbort = this.#onBlockingClientGone;
      this.#recorder.awaitResult(jobId, blocking);
      return;
    }
    exchange.send(202, NO_HEADERS, null);
    this.#metrics.countRequest(mode, 202);
  }

  /**
   * A stored job is recorded before it is queued (write ahead), so that no job runs that the
   * store does not hold: a crash before the commit, or a full disk (507), leaves nothing that
   * ran. Its 202 goes out once it is both committed and queued.
   */
  #writeAhead(plan: SubmitPlan): void {
    const { exchange, mode, caller } = plan;
    let jobId: number;
    try {
      jobId = this.#storedJobId();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_STORE_UNAVAILABLE') return sendStoreError(exchange, error);
      const mapped = errorFromEngine(error);
      if (mapped === undefined) throw error;
      return this.#inlineError(exchange, mapped, mapped.message, mode);
    }
    const nowMs = Date.now();
    const { submit } = this.#operations;
    const type = operationType(this.#engine.routes.routes[plan.routeIndex], plan.request.method);
    const shared = this.#shareStored();
    submit.record(jobId, nowMs, plan.intent!, caller, plan.request, plan.arangoStore, exchange.head, type, shared).then(() => {
      if (shared) {
        // In the shared queue: the node with a free worker that takes it runs it. (The user's
        // share of the queue, --server.max-queued-per-user, counts this node's engine queue.)
        if (this.#jobLog.enabled) this.#logSubmitted(plan, jobId);
        return submit.accepted(jobId, nowMs, plan.intent!, caller, plan.arangoStore, type).then((answer) => this.#answer(exchange, answer, mode));
      }
      this.#recorder.trackStored(jobId, nowMs);
      try {
        this.#engine.resubmit(jobId, plan.routeIndex, plan.request);
      } catch (error) {
        const mapped = errorFromEngine(error);
        if (mapped === undefined) throw error;
        // Recorded but refused by the engine (full queue, shutdown): taken out again, never run.
        this.#recorder.untrackStored(jobId);
        return this.#store.remove(jobId, ANY_OWNER).then(() => this.#inlineError(exchange, mapped, mapped.message, mode));
      }
      if (this.#limits.enabled) this.#limits.submitted(jobId, caller.username);
      if (this.#jobLog.enabled) this.#logSubmitted(plan, jobId);
      return submit.accepted(jobId, nowMs, plan.intent!, caller, plan.arangoStore, type).then((answer) => this.#answer(exchange, answer, mode));
    }).catch((error: unknown) => {
      sendStoreError(exchange, error);
      this.#metrics.countRequest(mode, exchange.status);
    });
  }

  #logSubmitted(plan: SubmitPlan, jobId: number): void {
    const route = this.#engine.routes.routes[plan.routeIndex];
    this.#jobLog.submitted(jobId, plan.caller.username, `${plan.request.method} ${route.path}`, MODE_NAMES[plan.mode] ?? 'unknown');
  }

  #jobUserOf(caller: Caller): JobUser {
    let user = this.#jobUsers.get(caller.username);
    if (user === undefined || user.superuser !== caller.superuser) {
      user = Object.freeze({ name: caller.username, superuser: caller.superuser });
      this.#jobUsers.set(caller.username, user);
    }
    return user;
  }

  /** ArangoDB lets such a job run on; we cancel it and save the work. */
  readonly #onBlockingClientGone = (exchange: Exchange): void => {
    const jobId = (exchange as BlockingExchange).jobId;
    if (this.#recorder.dropWaiter(jobId)) this.#engine.cancel(jobId);
  };

  /** A header not in the cache: JWTs and refusals answer now; a password is verified off the main thread while the body is read. */
  #authenticate(
    req: HttpRequest, exchange: Exchange, authorization: string, method: string, path: string, query: string, headers: string[],
  ): void {
    const outcome = this.#authenticator.verify(authorization, clientAddress(exchange));
    if (outcome instanceof AuthRefusal) return this.#refuse(exchange, outcome, path);
    if (!(outcome instanceof Promise)) return this.#route(req, exchange, method, path, query, headers, outcome, undefined);
    whenAuthenticated(req, exchange, this.#maxBodySize, headers, outcome,
      (request, caller) => this.#route(request, exchange, method, path, query, headers, caller, request.body),
      (refusal) => this.#refuse(exchange, refusal, path));
  }

  /** `path`: the operations surface answers its refusals as RFC 9457 problems, the ArangoDB surface with ArangoDB's body. */
  #refuse(exchange: Exchange, refusal: AuthRefusal, path: string): void {
    if (isOperationsPath(path)) {
      const answer = problemAnswer(problem(refusal.error, refusal.message));
      const extra = refusal === UNAUTHORIZED ? ['www-authenticate', UNAUTHORIZED_HEADERS[3]] : refusal.retryAfterSeconds > 0 ? ['retry-after', String(refusal.retryAfterSeconds)] : [];
      exchange.answer({ ...answer, headers: [...answer.headers, ...extra] });
    } else if (refusal === UNAUTHORIZED) exchange.send(401, UNAUTHORIZED_HEADERS, UNAUTHORIZED_BODY);
    else if (refusal.retryAfterSeconds > 0) exchange.send(refusal.status, JSON_HEADERS, refusalBody(refusal), 'retry-after', String(refusal.retryAfterSeconds));
    else exchange.send(refusal.status, JSON_HEADERS, refusalBody(refusal));
    this.#metrics.countRequest(MODE_INLINE, refusal.status);
  }

  #inlineError(exchange: Exchange, error: ServerError | ArangoError, message: string, mode = MODE_INLINE): void {
    exchange.sendJson(error.status, errorBody(error, message));
    this.#metrics.countRequest(mode, error.status);
  }

  /** ArangoDB's login: `POST /_open/auth {username, password}` → `{jwt}` (arangojs `db.login()`). */
  #login(req: HttpRequest, exchange: Exchange, method: string): void {
    if (method !== 'POST') return this.#inlineError(exchange, ERRORS.methodNotAllowed, 'method not supported');
    const address = clientAddress(exchange);
    readBody(req, exchange, AUTH_BODY_LIMIT, (body) => {
      let credentials: { username?: unknown; password?: unknown };
      try {
        credentials = JSON.parse(body === null ? '' : Buffer.from(body).toString('utf8'));
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        return this.#inlineError(exchange, ERRORS.badParameter, 'expecting a JSON body {"username","password"}');
      }
      if (typeof credentials?.username !== 'string') {
        return this.#inlineError(exchange, ERRORS.badParameter, 'expecting a JSON body {"username","password"}');
      }
      const password = typeof credentials.password === 'string' ? credentials.password : '';
      this.#authenticator.issueToken(credentials.username, password, address).then((token) => {
        if (token === UNAUTHORIZED) return this.#inlineError(exchange, ERRORS.wrongCredentials, 'Wrong credentials');
        if (token instanceof AuthRefusal) return this.#refuse(exchange, token, '/_open/auth');
        exchange.send(200, JSON_HEADERS, JSON.stringify({ jwt: token }));
        this.#metrics.countRequest(MODE_INLINE, 200);
      }, (error: Error) => this.#inlineError(exchange, ERRORS.internal, `password verification failed: ${error.message}`));
    });
  }

  #serveMetrics(exchange: Exchange, method: string): void {
    if (method !== 'GET' && method !== 'HEAD') return this.#inlineError(exchange, ERRORS.methodNotAllowed, 'method not supported');
    this.#metrics.render().then(
      (text) => exchange.send(200, ['content-type', this.#metrics.contentType], text),
      (error: Error) => exchange.sendError(ERRORS.internal, `metrics failed: ${error.message}`),
    );
    this.#metrics.countRequest(MODE_INLINE, 200);
  }
}

interface BlockingExchange extends Exchange {
  jobId: number;
}

/** A handler route's submit, decided once its body is in: how it runs and for whom. */
interface SubmitPlan {
  exchange: Exchange;
  request: SubmitRequest;
  routeIndex: number;
  /** MODE_BLOCKING, MODE_FIRE or MODE_STORE. */
  mode: number;
  caller: Caller;
  /** Null for fire and forget, which the operations surface does not see. */
  intent: SubmitIntent | null;
  /** Stored with `x-arango-async: store`: ArangoDB's answer and retention apply. */
  arangoStore: boolean;
}

function isOperationsPath(path: string): boolean {
  return path.startsWith('/_api/operations') && (path.length === 16 || path.charCodeAt(16) === 0x2f);
}

/** The peer's address, the key of the failed-login throttle; read while uWS's handler runs. */
function clientAddress(exchange: Exchange): string {
  return Buffer.from(exchange.res.getRemoteAddressAsText()).toString();
}

function refusalBody(refusal: AuthRefusal): string {
  return errorBody(refusal, refusal.message);
}

/** `true` is fire and forget, `store` keeps the result; any other value means blocking (ArangoDB). */
function asyncMode(value: string): number {
  const lower = value.toLowerCase();
  return lower === 'true' ? MODE_FIRE : lower === 'store' ? MODE_STORE : MODE_BLOCKING;
}
