import { ERRORS } from '../errors/index.js';
import type { Caller } from '../auth/index.js';
import type { Exchange } from '../http/index.js';
import type { JobTable, JobView } from './job-table.js';

const DEFAULT_LIST_COUNT = 100;
const RESULT_TRUE = '{"result":true}';
const NO_HEADERS: string[] = [];

/**
 * ArangoDB's `/_api/job` API (seeds: RestJobHandler), answered on the main thread from the job
 * table. `rest` is what follows `/_api/job` in the path ('' or '/...').
 *
 * A segment starting with a digit 1-9 is a job id, anything else is a type (`done`,
 * `pending`, `all`, `expired`); a job that is not the caller's does not exist for them (404).
 */
export class JobApi {
  readonly #table: JobTable;
  /** The engine's cancel, timed by the metrics; false when the engine no longer held the job. */
  readonly #cancelJob: (jobId: number) => boolean;

  constructor(table: JobTable, cancelJob: (jobId: number) => boolean) {
    this.#table = table;
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
      const job = this.#table.get(parseJobId(segment), caller);
      if (job === undefined) return notFound(exchange);
      // Status is in the code alone: 200 finished, 204 still pending (empty bodies).
      return exchange.send(job.state === 'pending' ? 204 : 200, NO_HEADERS, null);
    }
    if (segment !== 'done' && segment !== 'pending') {
      return exchange.sendError(ERRORS.badParameter, `invalid type "${segment}": expecting done or pending`);
    }
    const count = listCount(query);
    if (count === undefined) return exchange.sendError(ERRORS.badParameter, 'count must be a non-negative integer');
    const ids = this.#table.list(segment, count, caller);
    exchange.sendJson(200, JSON.stringify(ids.map(String)));
  }

  #put(exchange: Exchange, segments: string[], caller: Caller): void {
    if (segments.length === 0 || segments[0] === '') return exchange.sendError(ERRORS.badParameter, 'expecting PUT /_api/job/<job-id>');
    if (segments.length > 2) return exchange.sendError(ERRORS.badParameter, 'expecting PUT /_api/job/<job-id>[/cancel]');
    const jobId = isJobIdSegment(segments[0]) ? parseJobId(segments[0]) : NaN;
    if (segments.length === 2) {
      if (segments[1] !== 'cancel') return exchange.sendError(ERRORS.badParameter, `expecting PUT /_api/job/<job-id>/cancel, got "${segments[1]}"`);
      return this.#cancel(exchange, jobId, caller);
    }
    const job = this.#table.take(jobId, caller);
    if (job === undefined) return notFound(exchange);
    sendFetched(exchange, job);
  }

  #cancel(exchange: Exchange, jobId: number, caller: Caller): void {
    const job = this.#table.get(jobId, caller);
    if (job === undefined) return notFound(exchange);
    // A finished job keeps its result; a pending one is told to stop and ends `cancelled`
    // once it really has (its fetch answers 204 until then, then 410).
    if (job.state === 'pending') this.#cancelJob(jobId);
    exchange.sendJson(200, RESULT_TRUE);
  }

  #delete(exchange: Exchange, segments: string[], query: string, caller: Caller): void {
    if (segments.length !== 1 || segments[0] === '') return exchange.sendError(ERRORS.badParameter, 'expecting DELETE /_api/job/<job-id>, /all or /expired?stamp=<seconds>');
    const [segment] = segments;
    if (segment === 'all') {
      this.#table.removeAll(caller);
      return exchange.sendJson(200, RESULT_TRUE);
    }
    if (segment === 'expired') {
      const stamp = new URLSearchParams(query).get('stamp');
      const seconds = stamp === null || stamp === '' ? NaN : Number(stamp);
      if (!Number.isFinite(seconds)) return exchange.sendError(ERRORS.badParameter, 'expecting a "stamp" query parameter in UNIX seconds');
      this.#table.removeExpired(seconds * 1000, caller);
      return exchange.sendJson(200, RESULT_TRUE);
    }
    const jobId = isJobIdSegment(segment) ? parseJobId(segment) : NaN;
    if (!this.#table.remove(jobId, caller)) return notFound(exchange);
    exchange.sendJson(200, RESULT_TRUE);
  }
}

function sendFetched(exchange: Exchange, job: JobView): void {
  if (job.state === 'pending') return exchange.send(204, NO_HEADERS, null);
  if (job.state === 'cancelled') return exchange.sendError(ERRORS.canceled, 'canceled request');
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
