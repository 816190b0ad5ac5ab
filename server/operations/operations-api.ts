import type { Engine } from '../../engine/index.js';
import type { Caller } from '../auth/index.js';
import { JSON_TYPE, type Answer, type Exchange } from '../http/index.js';
import { answerWith, errorResult, sendStoreError, type GoneJob, type JobStore, type JobSummary, type JobView, type StoredRequest } from '../jobs/index.js';
import type { ArangoError } from '../errors/index.js';
import { logLineView } from './operation-log.js';
import { isFinalStatus, operationStatus, STATUS_FILTERS, type OperationStatus } from './operation-status.js';
import { failureProblem, finishedSummary, operationLinks } from './operation-summary.js';
import { attemptView, DEFAULT_CANCEL_REASON, type OperationTracker } from './operation-tracker.js';
import type { OperationWebhooks } from './operation-webhooks.js';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';
import { ERRORS } from '../errors/index.js';
import { SseStream } from './sse-stream.js';

const DEFAULT_HISTORY_LIMIT = 20;
const PROBLEM_HEADERS: readonly string[] = ['content-type', PROBLEM_CONTENT_TYPE];
const MAX_HISTORY_LIMIT = 1000;
const SSE_HEAD_HEADERS: readonly string[] = ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache'];

export interface OperationsApiOptions {
  store: JobStore;
  engine: Engine;
  tracker: OperationTracker;
  webhooks: OperationWebhooks | null;
  retentionMs: number;
  /** The engine's cancel, timed by the metrics; false when the engine no longer held the job. */
  cancelJob: (jobId: number, reason: string) => boolean;
  /** Queues a reopened job again under its id (`rerunStoredJob`): null once queued, else why not. */
  rerun: (jobId: number, createdAtMs: number, request: StoredRequest) => ArangoError | null;
  /**
   * Stored jobs take their ids from a counter several nodes share (a cluster): this server's
   * engine's id range says nothing about them, so only the store's gone records answer 410.
   */
  sharedIds?: boolean;
}

/** The request headers an operation's actions read, taken before the store is asked (uWS's request is gone after). */
interface ActionHeaders {
  /** `Accept` of a stream request. */
  accept: string;
  /** `Last-Event-ID` of a stream request. */
  lastEventId: string;
  /** A status request's `Prefer: return=representation`: the status itself, without the 303. */
  representation: boolean;
}

/**
 * The long-running-operations surface over the same job table: `/_api/operations` (history),
 * `/{id}` (status), `/{id}/result`, `/{id}/cancel`, `/{id}/stream` (SSE). Errors are RFC 9457
 * problems. `rest` is what follows `/_api/operations` in the path.
 */
export class OperationsApi {
  readonly #options: OperationsApiOptions;

  constructor(options: OperationsApiOptions) {
    this.#options = options;
  }

  /** `readBody` reads the request's body (call it at once, in uWS's handler); only a cancel has one. */
  handle(
    exchange: Exchange, method: string, rest: string, query: string, caller: Caller, headerOf: (name: string) => string,
    readBody: (onBody: (body: Uint8Array | null) => void) => void,
  ): void {
    const segments = rest === '' || rest === '/' ? [] : rest.slice(1).split('/');
    if (segments.length === 0) {
      if (method !== 'GET' && method !== 'HEAD') return sendMethodNotAllowed(exchange, 'GET');
      return this.#history(exchange, query, caller);
    }
    const jobId = /^[1-9]\d{0,15}$/.test(segments[0]) ? Number(segments[0]) : NaN;
    const action = segments.length === 2 ? segments[1] : segments.length === 1 ? '' : null;
    if (action === null || !Number.isSafeInteger(jobId)) {
      return sendProblem(exchange, problem(ERRORS.notFound, `no such resource: /_api/operations${rest}`));
    }
    if (action === 'retry' && method === 'POST') {
      // A body is allowed (and ignored) so that clients that always send `{}` are not refused.
      return readBody(() => answerWith(exchange, this.#options.store.get(jobId, caller), (job) => {
        if (job === undefined) return this.#missing(exchange, jobId, caller);
        this.#retry(exchange, job, caller);
      }));
    }
    if (action === 'cancel' && method === 'POST') {
      // `{"reason": "..."}`, read before anything else (uWS hands the body only to the handler it came with).
      return readBody((bytes) => {
        const reason = cancelReason(bytes);
        if (typeof reason !== 'string') return sendProblem(exchange, reason);
        answerWith(exchange, this.#options.store.get(jobId, caller), (job) => {
          if (job === undefined) return this.#missing(exchange, jobId, caller);
          this.#cancel(exchange, job, reason);
        });
      });
    }
    // uWS's request is gone once the store answered (Redis, LMDB off the cache): the headers
    // the actions need are read now.
    const headers: ActionHeaders = {
      accept: action === 'stream' ? headerOf('accept') : '',
      lastEventId: action === 'stream' ? headerOf('last-event-id') : '',
      representation: action === '' && /(^|[\s,;])return=representation\b/i.test(headerOf('prefer')),
    };
    answerWith(exchange, this.#options.store.get(jobId, caller), (job) => {
      if (job === undefined) return this.#missing(exchange, jobId, caller);
      this.#act(exchange, method, rest, query, headers, action, job, caller);
    });
  }

  #act(exchange: Exchange, method: string, rest: string, query: string, headers: ActionHeaders, action: string, job: JobView, caller: Caller): void {
    switch (action) {
      case '':
        if (method !== 'GET' && method !== 'HEAD') return sendMethodNotAllowed(exchange, 'GET');
        return this.#status(exchange, job, headers.representation);
      case 'result':
        if (method !== 'GET' && method !== 'HEAD') return sendMethodNotAllowed(exchange, 'GET');
        return this.#result(exchange, job);
      case 'cancel':
      case 'retry':
        return sendMethodNotAllowed(exchange, 'POST');
      case 'logs':
        if (method !== 'GET' && method !== 'HEAD') return sendMethodNotAllowed(exchange, 'GET');
        return this.#logs(exchange, job);
      case 'stream':
        // HEAD as on every GET route: the stream's headers, no stream.
        if (method === 'HEAD') return exchange.send(200, SSE_HEAD_HEADERS, null);
        if (method !== 'GET') return sendMethodNotAllowed(exchange, 'GET');
        return this.#stream(exchange, job, query, headers, caller);
      default:
        return sendProblem(exchange, problem(ERRORS.notFound, `no such resource: /_api/operations${rest}`));
    }
  }

  /**
   * The body of `GET /_api/operations/{id}`, also the answer to a submit (and its replays). As
   * the seed shows them: `startedAt`, and by outcome `completedAt` with a `result` summary (the
   * JSON result inline up to 64 KiB, else its link), `failedAt` with the `error` as a problem,
   * or `cancelledAt` with the `reason`; `progress` keeps what the job last reported.
   */
  describe(job: JobView, nowMs: number): Record<string, unknown> {
    const status = operationStatus(job);
    const { tracker } = this.#options;
    const progress = tracker.progressOf(job);
    const completed = status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS';
    const body: Record<string, unknown> = {
      operationId: String(job.jobId),
      type: job.type,
      status,
      progress: completed ? completedProgress(progress) : progress,
      owner: job.owner,
      timestamps: {
        created: iso(job.createdAtMs),
        started: job.startedAtMs === 0 ? null : iso(job.startedAtMs),
        finished: job.finishedAtMs === 0 ? null : iso(job.finishedAtMs),
      },
      links: operationLinks(job.jobId),
    };
    if (job.startedAtMs !== 0) body.startedAt = iso(job.startedAtMs);
    if (completed) {
      body.completedAt = iso(job.finishedAtMs);
      body.result = finishedSummary(job).result;
    } else if (status === 'FAILED') {
      body.failedAt = iso(job.finishedAtMs);
      body.error = failureProblem(job);
    } else if (status === 'CANCELLED') {
      const request = tracker.cancelRequestOf(job.jobId) ?? job.details?.cancel ?? undefined;
      body.cancelledAt = iso(request?.atMs ?? job.finishedAtMs);
      body.reason = request?.reason ?? DEFAULT_CANCEL_REASON;
    }
    if (status === 'FAILED' || status === 'CANCELLED') (body.links as Record<string, string>).retry = `/_api/operations/${job.jobId}/retry`;
    const attempts = tracker.attemptsOf(job);
    if (attempts !== null) body.attempts = attempts.map(attemptView);
    const retry = job.state === 'pending' ? tracker.retryOf(job.jobId) : null;
    if (retry !== null) {
      body.attempt = retry.attempt;
      body.nextAttemptAt = iso(retry.nextAttemptAtMs);
    } else if (attempts !== null && job.state === 'pending') body.attempt = attempts.length + 1;
    if (job.expiresAtMs !== 0) body.expiresAt = iso(job.expiresAtMs);
    // A shared store's record (cluster: the node that delivers may be another), else this server's own.
    const webhook = job.webhook === undefined ? this.#options.webhooks?.view(job.jobId) : { registered: true, ...job.webhook };
    if (webhook !== undefined) body.webhook = webhook;
    if (!isFinalStatus(status)) {
      body.retryAfter = tracker.retryAfterSeconds(job, nowMs);
      // Polling hints (Azure's and AIP-151's clients read them): the recommended interval is
      // Retry-After's; the estimate only when the progress rate gives one.
      body.pollInterval = { recommended: body.retryAfter, minimum: MIN_POLL_SECONDS };
      const remainingMs = tracker.remainingMs(job.jobId, nowMs);
      if (remainingMs !== undefined) body.estimatedCompletion = iso(nowMs + remainingMs);
    }
    return body;
  }

  /** `representation`: `Prefer: return=representation` asks for the status itself, without the 303 (a browser's fetch cannot read a 303's body). */
  #status(exchange: Exchange, job: JobView, representation: boolean): void {
    const nowMs = Date.now();
    const body = this.describe(job, nowMs);
    if (typeof body.retryAfter === 'number') {
      return exchange.send(200, ['content-type', JSON_TYPE, 'retry-after', String(body.retryAfter), 'cache-control', 'no-store'], JSON.stringify(body));
    }
    // Success only: RFC 9110 303 See Other points at the result, and the body still describes
    // the operation. A FAILED or CANCELLED operation answers 200 with its body, so that clients
    // that follow redirects (fetch, requests) see the failure rather than land on a raw error.
    if (body.status === 'COMPLETED' && !representation) {
      return exchange.send(303, ['content-type', JSON_TYPE, 'location', operationLinks(job.jobId).result, 'cache-control', 'no-store'], JSON.stringify(body));
    }
    exchange.send(200, ['content-type', JSON_TYPE, 'cache-control', 'no-store'], JSON.stringify(body));
  }

  #result(exchange: Exchange, job: JobView): void {
    const status = operationStatus(job);
    if (status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS' || status === 'FAILED') {
      const result = job.result!;
      return exchange.send(result.status, result.headers, result.body);
    }
    const detail = status === 'CANCELLED' ? 'the operation was cancelled: it has no result' : `the operation is ${status}: its result is not ready`;
    sendProblem(exchange, problem(ERRORS.operationNotFinished, detail, { operationId: String(job.jobId), operationStatus: status }));
  }

  /** `GET .../logs`: what the job logged, newest last; live while it runs. */
  #logs(exchange: Exchange, job: JobView): void {
    const log = this.#options.tracker.logOf(job);
    const body = {
      operationId: String(job.jobId),
      status: operationStatus(job),
      lines: log === null ? [] : log.lines.map(logLineView),
      truncated: log?.truncated ?? false,
      links: { operation: `/_api/operations/${job.jobId}` },
    };
    exchange.send(200, ['content-type', JSON_TYPE, 'cache-control', 'no-store'], JSON.stringify(body));
  }

  /**
   * `POST .../retry`: a failed or cancelled operation runs again under its id, its owner only
   * (a superuser who can see it may not start another user's work again); 409 while it runs or
   * once it completed. Answers 202 with the operation, as a submit does.
   */
  #retry(exchange: Exchange, job: JobView, caller: Caller): void {
    const status = operationStatus(job);
    if (job.owner !== caller.username) {
      return sendProblem(exchange, problem(ERRORS.operationForbidden, 'only the operation\'s owner may run it again', { operationId: String(job.jobId) }));
    }
    if (status !== 'FAILED' && status !== 'CANCELLED') {
      const detail = isFinalStatus(status) ? `the operation is ${status}: only a failed or cancelled one runs again` : `the operation is ${status}: it is still running`;
      return sendProblem(exchange, problem(ERRORS.operationNotRetryable, detail, { operationId: String(job.jobId), operationStatus: status }));
    }
    const { store, tracker, rerun } = this.#options;
    const nowMs = Date.now();
    answerWith(exchange, store.reopen(job.jobId, nowMs), (reopened) => {
      // Retried or deleted by another request meanwhile.
      if (reopened === undefined) return sendProblem(exchange, problem(ERRORS.operationNotRetryable, 'the operation is no longer failed or cancelled', { operationId: String(job.jobId) }));
      tracker.reopened(job.jobId, job, reopened.details, nowMs);
      const refused = rerun(job.jobId, job.createdAtMs, reopened.request);
      if (refused !== null) {
        // Pending again in the store but not queued: it fails again, with the reason.
        return answerWith(exchange, store.finish(job.jobId, errorResult(refused), Date.now(), 'failed'), () => {
          const row = refused.errorNum === ERRORS.queueFull.errorNum ? ERRORS.queueFull : refused.errorNum === ERRORS.shutdown.errorNum ? ERRORS.shutdown : ERRORS.internal;
          sendProblem(exchange, problem(row, refused.message, { operationId: String(job.jobId) }));
        });
      }
      answerWith(exchange, store.get(job.jobId, caller), (view) => {
        const body = this.describe(view ?? { ...job, state: 'pending', startedAtMs: 0, finishedAtMs: 0, outcome: null, result: null, details: null, expiresAtMs: 0 }, Date.now());
        exchange.send(202, ['content-type', JSON_TYPE, 'location', `/_api/operations/${job.jobId}`], JSON.stringify(body));
      });
    });
  }

  #cancel(exchange: Exchange, job: JobView, reason: string): void {
    const status = operationStatus(job);
    if (status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS' || status === 'FAILED') {
      return sendProblem(exchange, problem(ERRORS.operationFinished, `the operation is ${status} and keeps its result`, {
        operationId: String(job.jobId), operationStatus: status,
      }));
    }
    // The first cancel request's time and reason, every time (idempotent); a job cancelled
    // through /_api/job reports when it ended and the default reason.
    const first = this.#options.tracker.cancelRequested(job.jobId, status === 'CANCELLED' ? job.finishedAtMs : Date.now(), reason);
    if (status !== 'CANCELLED') this.#options.cancelJob(job.jobId, first.reason);
    const body = { operationId: String(job.jobId), status: 'CANCELLED' as OperationStatus, cancelledAt: iso(first.atMs), reason: first.reason };
    exchange.send(200, ['content-type', JSON_TYPE], JSON.stringify(body));
  }

  #stream(exchange: Exchange, job: JobView, query: string, headers: ActionHeaders, caller: Caller): void {
    const { accept } = headers;
    if (accept !== '' && !/text\/event-stream|\*\/\*|text\/\*/.test(accept)) {
      return sendProblem(exchange, problem(ERRORS.notAcceptable, 'this resource is a text/event-stream'));
    }
    const resumeFrom = headers.lastEventId || new URLSearchParams(query).get('lastEventId') || '0';
    const lastEventId = /^\d+$/.test(resumeFrom) ? Number(resumeFrom) : 0;
    const tracker = this.#options.tracker;
    if (job.state !== 'pending' && lastEventId >= tracker.finalEventIdOf(job)) {
      // The client already has the final event (an EventSource reconnecting after the end):
      // 204 tells it to stop reconnecting (WHATWG SSE).
      return exchange.send(204, [], null);
    }
    const stream = new SseStream(exchange, (closed) => tracker.unwatch(job.jobId, closed));
    tracker.watchCurrent(job, stream, lastEventId, () => this.#options.store.get(job.jobId, caller))
      .catch((error: Error) => sendStoreError(exchange, error));
  }

  /**
   * Not visible to the caller. 410 Gone (with `expiredAt` when it expired) for a removed job
   * the caller owned, while the table remembers it; for a superuser, also for any id this
   * server issued that is no longer stored (not in a cluster: see `sharedIds`). 404 for everything else, alike: someone else's
   * job, alive or gone, and ids never issued, so that ids reveal nothing about other users.
   */
  #missing(exchange: Exchange, jobId: number, caller: Caller): void {
    answerWith(exchange, this.#options.store.gone(jobId, caller), (gone) => this.#sendMissing(exchange, jobId, caller, gone));
  }

  #sendMissing(exchange: Exchange, jobId: number, caller: Caller, gone: GoneJob | undefined): void {
    const { engine } = this.#options;
    const issuedHere = this.#options.sharedIds !== true && jobId >= engine.firstJobId && jobId <= engine.lastJobId;
    if (gone === undefined && !(caller.superuser && issuedHere)) {
      return sendProblem(exchange, problem(ERRORS.operationNotFound, `no operation ${jobId}`, { instance: `/_api/operations/${jobId}` }));
    }
    const expiredAtMs = gone === undefined || gone.expiredAtMs === 0 ? undefined : gone.expiredAtMs;
    const retentionSeconds = Math.round(this.#options.retentionMs / 1000);
    sendProblem(exchange, problem(ERRORS.operationExpired, expiredAtMs === undefined
      ? `operation ${jobId} no longer exists: its result was fetched, deleted, or expired (results are kept ${retentionSeconds} s)`
      : `operation results are only available for ${retentionSeconds} s after they finish`, {
      instance: `/_api/operations/${jobId}`,
      ...(expiredAtMs === undefined ? {} : { expiredAt: iso(expiredAtMs) }),
    }));
  }

  /**
   * The history, newest first, as the seed pages it: by cursor (`limit`, `after` =
   * `pagination.next`, O(limit)), or by `page` and `size` (O(page × size): the pages before are
   * walked); both with `totalElements`, from counts kept per owner and status. A query
   * parameter it does not know, or a malformed one, is 400: nothing is silently ignored.
   */
  #history(exchange: Exchange, query: string, caller: Caller): void {
    const params = new URLSearchParams(query);
    for (const name of params.keys()) {
      if (!HISTORY_PARAMETERS.has(name)) {
        return sendProblem(exchange, problem(ERRORS.badParameter, `unknown query parameter "${name}": expecting ${[...HISTORY_PARAMETERS].join(', ')}`));
      }
    }
    const statusText = params.get('status');
    const filter = statusText === null ? undefined : STATUS_FILTERS[statusText.toUpperCase() as keyof typeof STATUS_FILTERS];
    if (statusText !== null && filter === undefined) {
      return sendProblem(exchange, problem(ERRORS.badParameter, `status must be one of ${Object.keys(STATUS_FILTERS).join(', ')}`));
    }
    // A superuser may list one user's operations (the dashboard's user filter); others only their own.
    const user = params.get('user');
    if (user !== null && user !== caller.username && !caller.superuser) {
      return sendProblem(exchange, problem(ERRORS.operationForbidden, 'only a superuser may list another user\'s operations'));
    }
    if (user !== null) caller = { username: user, superuser: false };
    const paged = params.has('page') || params.has('size');
    if (paged && (params.has('limit') || params.has('after'))) {
      return sendProblem(exchange, problem(ERRORS.badParameter, 'page and size page by number; limit and after by cursor: use one or the other'));
    }
    const { store } = this.#options;
    if (paged) {
      const size = integerParameter(params.get('size'), DEFAULT_HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT);
      const page = integerParameter(params.get('page'), 0, 0, MAX_HISTORY_PAGE);
      if (size === undefined) return sendProblem(exchange, problem(ERRORS.badParameter, `size must be an integer from 1 to ${MAX_HISTORY_LIMIT}`));
      if (page === undefined) return sendProblem(exchange, problem(ERRORS.badParameter, `page must be an integer from 0 to ${MAX_HISTORY_PAGE}`));
      const listed = Promise.all([store.history(caller, (page + 1) * size, Infinity, filter), store.historyCount(caller, filter)]);
      return answerWith(exchange, listed, ([jobs, totalElements]) => {
        sendHistory(exchange, jobs.slice(page * size), { page, size, totalElements });
      });
    }
    const limit = integerParameter(params.get('limit'), DEFAULT_HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT);
    if (limit === undefined) return sendProblem(exchange, problem(ERRORS.badParameter, `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`));
    const after = params.get('after');
    const before = after === null ? Infinity : /^[1-9]\d{0,15}$/.test(after) ? Number(after) : NaN;
    if (!(before === Infinity || Number.isSafeInteger(before))) {
      return sendProblem(exchange, problem(ERRORS.badParameter, 'after must be a cursor from pagination.next'));
    }
    const listed = Promise.all([store.history(caller, limit, before, filter), store.historyCount(caller, filter)]);
    answerWith(exchange, listed, ([jobs, totalElements]) => {
      sendHistory(exchange, jobs, { limit, next: jobs.length === limit ? String(jobs[jobs.length - 1].jobId) : null, totalElements });
    });
  }
}

/** What the history accepts. */
const HISTORY_PARAMETERS: ReadonlySet<string> = new Set(['status', 'user', 'limit', 'after', 'page', 'size']);
/** Pages beyond this would walk a million jobs per request. */
const MAX_HISTORY_PAGE = 1000;

/** A whole number from `min` to `max`, or `fallback` when absent; undefined when malformed. */
function integerParameter(text: string | null, fallback: number, min: number, max: number): number | undefined {
  if (text === null) return fallback;
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function sendHistory(exchange: Exchange, jobs: JobSummary[], pagination: Record<string, unknown>): void {
  const data = jobs.map((job) => {
    const status = operationStatus(job);
    const item: Record<string, unknown> = {
      operationId: String(job.jobId),
      type: job.type,
      status,
      owner: job.owner,
      timestamps: { created: iso(job.createdAtMs), started: job.startedAtMs === 0 ? null : iso(job.startedAtMs), finished: job.finishedAtMs === 0 ? null : iso(job.finishedAtMs) },
      // Seconds, as the seed's history shows it.
      duration: job.finishedAtMs === 0 || job.startedAtMs === 0 ? null : (job.finishedAtMs - job.startedAtMs) / 1000,
      links: operationLinks(job.jobId),
    };
    if (status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS') item.completedAt = iso(job.finishedAtMs);
    else if (status === 'FAILED') item.failedAt = iso(job.finishedAtMs);
    else if (status === 'CANCELLED') item.cancelledAt = iso(job.finishedAtMs);
    return item;
  });
  exchange.send(200, ['content-type', JSON_TYPE], JSON.stringify({ data, pagination }));
}

/** The shortest poll interval a client is asked to keep, seconds. */
const MIN_POLL_SECONDS = 1;

/** Longest cancel reason kept. */
const MAX_REASON_LENGTH = 1000;

/** The reason of a cancel's body (none: the default), or the 400 problem of a body that is not `{"reason": string}`. */
function cancelReason(bytes: Uint8Array | null): string | Problem {
  if (bytes === null || bytes.length === 0) return DEFAULT_CANCEL_REASON;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return problem(ERRORS.badParameter, 'a cancel body must be JSON: {"reason": "..."}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return problem(ERRORS.badParameter, 'a cancel body must be a JSON object: {"reason": "..."}');
  const reason = (parsed as { reason?: unknown }).reason;
  if (reason === undefined) return DEFAULT_CANCEL_REASON;
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > MAX_REASON_LENGTH) {
    return problem(ERRORS.badParameter, `reason must be a string of 1 to ${MAX_REASON_LENGTH} characters`);
  }
  return reason;
}

function completedProgress(progress: ReturnType<OperationTracker['progressOf']>): unknown {
  return progress === null ? { current: null, total: null, percentage: 100, phase: null, message: null } : { ...progress, percentage: 100 };
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function problemAnswer(body: Problem): Answer {
  return { status: body.status, headers: PROBLEM_HEADERS, body: JSON.stringify(body) };
}

export function sendProblem(exchange: Exchange, body: Problem): void {
  exchange.answer(problemAnswer(body));
}

function sendMethodNotAllowed(exchange: Exchange, allowed: string): void {
  exchange.send(ERRORS.methodNotAllowed.status, ['content-type', PROBLEM_CONTENT_TYPE, 'allow', allowed], JSON.stringify(problem(ERRORS.methodNotAllowed, `use ${allowed}`)));
}
