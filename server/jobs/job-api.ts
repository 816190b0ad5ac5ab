import { ERRORS, errorBody } from '../errors/index.js';
import type { Caller } from '../auth/index.js';
import { JSON_TYPE, type Exchange } from '../http/index.js';
import type { JobView } from './job-store.js';
import type { JobStore } from './job-store.js';

const DEFAULT_LIST_COUNT = 100;
const RESULT_TRUE = '{"result":true}';
const NO_HEADERS: string[] = [];
const CANCELED_HEADERS = ['content-type', JSON_TYPE];
const CANCELED_BODY = errorBody(ERRORS.canceled, 'canceled request');

/**
 * ArangoDB's `/_api/job` API (seeds: RestJobHandler), answered on the main thread from the job
 * store; an answer that removes something is sent once the removal is committed. `rest` is what follows `/_api/job` in the path ('' or '/...').
 *
 * A segment starting with a digit 1-9 is a job id, anything else is a type (`done`,
 * `pending`, `all`, `expired`); a job that is not the caller's does not exist for them (404).
 */
export class JobApi {
  readonly #store: JobStore;
  /** The engine's cancel, timed by the metrics; false when the engine no longer held the job. */
  readonly #cancelJob: (jobId: number) => boolean;

  constructor(store: JobStore, cancelJob: (jobId: number) => boolean) {
    this.#store = store;
    this.#cancelJob = cancelJob;
  }

  handle(exchange: Exchange, method: string, rest: string, query: string, caller: Caller): void {
    const segments = rest === '' || rest === '/' ? [] : rest.slice(1).split('/');
    switch (method) {
      case 'GET':
      case 'HEAD':
        return this.#get(exchange, segments, query, caller);
      case 'PUT':
        return this.#put(exchange, segments, caller);
      case 'DELETE':
        return this.#delete(exchange, segments, query, caller);
      default:
        return exchange.sendError(ERRORS.methodNotAllowed, 'method not supported');
    }
  }

  #get(exchange: Exchange, segments: string[], query: string, caller: Caller): void {
    if (segments.length !== 1) return exchange.sendError(ERRORS.badParameter, 'expecting GET /_api/job/<job-id> or /_api/job/<type>');
    const [segment] = segments;
    if (isJobIdSegment(segment)) {
      return answerWith(exchange, this.#store.get(parseJobId(segment), caller), (job) => {
        if (job === undefined) return notFound(exchange);
        // Status is in the code alone: 200 finished, 204 still pending (empty bodies).
        exchange.send(job.state === 'pending' ? 204 : 200, NO_HEADERS, null);
      });
    }
    if (segment !== 'done' && segment !== 'pending') {
      return exchange.sendError(ERRORS.badParameter, `invalid type "${segment}": expecting done or pending`);
    }
    const count = listCount(query);
    if (count === undefined) return exchange.sendError(ERRORS.badParameter, 'count must be a non-negative integer');
    answerWith(exchange, this.#store.list(segment, count, caller), (ids) => exchange.sendJson(200, JSON.stringify(ids.map(String))));
  }

  #put(exchange: Exchange, segments: string[], caller: Caller): void {
    if (segments.length === 0 || segments[0] === '') return exchange.sendError(ERRORS.badParameter, 'expecting PUT /_api/job/<job-id>');
    if (segments.length > 2) return exchange.sendError(ERRORS.badParameter, 'expecting PUT /_api/job/<job-id>[/cancel]');
    const jobId = isJobIdSegment(segments[0]) ? parseJobId(segments[0]) : NaN;
    if (segments.length === 2) {
      if (segments[1] !== 'cancel') return exchange.sendError(ERRORS.badParameter, `expecting PUT /_api/job/<job-id>/cancel, got "${segments[1]}"`);
      return this.#cancel(exchange, jobId, caller);
    }
    answerWith(exchange, this.#store.take(jobId, caller), (job) => (job === undefined ? notFound(exchange) : sendFetched(exchange, job)));
  }

  #cancel(exchange: Exchange, jobId: number, caller: Caller): void {
    answerWith(exchange, this.#store.get(jobId, caller), (job) => {
      if (job === undefined) return notFound(exchange);
      // A finished job keeps its result; a pending one is told to stop and ends `cancelled`
      // once it really has (its fetch answers 204 until then, then 410).
      if (job.state === 'pending') this.#cancelJob(jobId);
      exchange.sendJson(200, RESULT_TRUE);
    });
  }

  #delete(exchange: Exchange, segments: string[], query: string, caller: Caller): void {
    if (segments.length !== 1 || segments[0] === '') return exchange.sendError(ERRORS.badParameter, 'expecting DELETE /_api/job/<job-id>, /all or /expired?stamp=<seconds>');
    const [segment] = segments;
    if (segment === 'all') {
      return answerWith(exchange, this.#store.removeAll(caller), () => exchange.sendJson(200, RESULT_TRUE));
    }
    if (segment === 'expired') {
      const stamp = new URLSearchParams(query).get('stamp');
      const seconds = stamp === null || stamp === '' ? NaN : Number(stamp);
      if (!Number.isFinite(seconds)) return exchange.sendError(ERRORS.badParameter, 'expecting a "stamp" query parameter in UNIX seconds');
      return answerWith(exchange, this.#store.removeExpired(seconds * 1000, caller), () => exchange.sendJson(200, RESULT_TRUE));
    }
    const jobId = isJobIdSegment(segment) ? parseJobId(segment) : NaN;
    answerWith(exchange, this.#store.remove(jobId, caller), (removed) => (removed ? exchange.sendJson(200, RESULT_TRUE) : notFound(exchange)));
  }
}

/**
 * Answers once the store did: `onValue` writes the answer (the exchange checks whether the
 * client is still there); a store that failed answers with its error (507 for a full disk).
 */
export function answerWith<T>(exchange: Exchange, pending: Promise<T>, onValue: (value: T) => void): void {
  pending.then(onValue, (error: unknown) => sendStoreError(exchange, error));
}

/** Seconds a client waits before it tries again while the cluster's Redis is unreachable. */
const STORE_RETRY_AFTER = '1';

/**
 * A store's refusal as an ArangoDB error: 503 with `Retry-After` when the cluster's Redis is
 * unreachable (nothing was changed), 507 when its disk or map is full, else 500.
 */
export function sendStoreError(exchange: Exchange, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_STORE_UNAVAILABLE') {
    return exchange.send(ERRORS.storeUnavailable.status, ['content-type', JSON_TYPE, 'retry-after', STORE_RETRY_AFTER],
      errorBody(ERRORS.storeUnavailable, `the job store is unavailable, try again shortly: ${(error as Error).message}`));
  }
  if (code === 'ERR_QUEUE_FULL') return exchange.sendError(ERRORS.queueFull, 'named queue is full');
  const full = code === 'ERR_STORE_FULL';
  exchange.sendError(full ? ERRORS.storeFull : ERRORS.internal, full ? (error as Error).message : `job store failed: ${(error as Error)?.message ?? String(error)}`);
}

function sendFetched(exchange: Exchange, job: JobView): void {
  if (job.state === 'pending') return exchange.send(204, NO_HEADERS, null);
  // ArangoDB stores the 410 as the job's answer and sends it with the job's id, as any fetched result.
  if (job.state === 'cancelled') {
    return exchange.send(ERRORS.canceled.status, CANCELED_HEADERS, CANCELED_BODY, 'x-arango-async-id', String(job.jobId));
  }
  const result = job.result!;
  exchange.send(result.status, result.headers, result.body, 'x-arango-async-id', String(job.jobId));
}

function notFound(exchange: Exchange): void {
  exchange.sendError(ERRORS.notFound, 'not found');
}

function isJobIdSegment(segment: string): boolean {
  const first = segment.charCodeAt(0);
  return first >= 0x31 && first <= 0x39; // '1'..'9'
}

/** NaN (never found) when the id has trailing garbage or is beyond exact integers. */
function parseJobId(segment: string): number {
  if (!/^\d+$/.test(segment)) return NaN;
  const id = Number(segment);
  return Number.isSafeInteger(id) ? id : NaN;
}

function listCount(query: string): number | undefined {
  const raw = query === '' ? null : new URLSearchParams(query).get('count');
  if (raw === null || raw === '') return DEFAULT_LIST_COUNT;
  const count = Number(raw);
  return Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}
