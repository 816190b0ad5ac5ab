import assert from 'node:assert/strict';
import { parseJson, waitFor, type Reply } from './http.js';
import { JOB_ID } from './jobs.js';
import { rawExchange, rawStatus, describeRaw } from './raw-http.js';

const REQUEST_TIMEOUT_MS = 30_000;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
export const FINAL_STATUSES = ['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED'] as const;

/** The body of `GET /_api/operations/{id}` and of a submit's 202. */
export interface OperationBody {
  operationId: string;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  progress: { current: number | null; total: number | null; percentage: number | null; phase: string | null; message: string | null } | null;
  timestamps: { created: string; started: string | null; finished: string | null };
  links: { self: string; cancel: string; stream: string; result: string; logs: string; retry?: string };
  error?: Record<string, unknown>;
  webhook?: { registered: true; url: string; events: string[]; deliveries: DeliveryAttempt[] };
  [field: string]: unknown;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  deliveryId: string;
  event: string;
  url: string;
  outcome: 'delivered' | 'failed' | 'refused' | 'dropped';
  statusCode?: number;
  error?: string;
  errorCode?: string;
  nextAttemptAt?: string;
}

/**
 * One request with Node's fetch that does not follow redirects, so the 303 of a finished
 * operation is seen as users of `curl` see it.
 */
export async function call(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Submits with `Prefer: respond-async`, asserts the 202 of the issue and returns its body. */
export async function submitOperation(baseUrl: string, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<OperationBody> {
  const reply = await call(baseUrl, method, path, { ...headers, prefer: 'respond-async' }, body);
  assert.equal(reply.status, 202, `submit ${method} ${path}: ${reply.status} ${reply.body}`);
  const operation = parseJson(reply) as OperationBody;
  assert.ok(JOB_ID.test(operation.operationId), `operationId ${operation.operationId}`);
  assert.equal(reply.headers.get('location'), `/_api/operations/${operation.operationId}`);
  assert.equal(reply.headers.get('preference-applied'), 'respond-async');
  return operation;
}

/** `GET /_api/operations/{id}` with its reply and parsed body. */
export async function getOperation(baseUrl: string, operationId: string, headers: Record<string, string> = {}): Promise<{ reply: Reply; body: OperationBody }> {
  const reply = await call(baseUrl, 'GET', `/_api/operations/${operationId}`, headers);
  assert.ok(reply.status === 200 || reply.status === 303, `status of ${operationId}: ${reply.status} ${reply.body}`);
  return { reply, body: parseJson(reply) as OperationBody };
}

/** Polls the status URL until the operation's status is one of `statuses`. */
export async function waitForStatus(
  baseUrl: string, operationId: string, statuses: readonly string[], headers: Record<string, string> = {}, timeoutMs = 15_000,
): Promise<{ reply: Reply; body: OperationBody }> {
  return waitFor(`operation ${operationId} to be ${statuses.join(' or ')}`, async () => {
    const seen = await getOperation(baseUrl, operationId, headers);
    return statuses.includes(seen.body.status) ? seen : undefined;
  }, timeoutMs);
}

export function waitForFinal(baseUrl: string, operationId: string, headers: Record<string, string> = {}): Promise<{ reply: Reply; body: OperationBody }> {
  return waitForStatus(baseUrl, operationId, FINAL_STATUSES, headers);
}

/** Asserts an RFC 9457 problem answer and returns its body. */
export function assertProblem(reply: Reply, status: number): Record<string, unknown> {
  assert.equal(reply.status, status, `expected HTTP ${status}, got ${reply.status}: ${reply.body}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = parseJson(reply) as Record<string, unknown>;
  assert.equal(body.status, status, `problem status in ${reply.body}`);
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  return body;
}

/**
 * A request over a bare socket, for answers Node's HTTP clients refuse to parse (fetch fails
 * with HPE_INVALID_STATUS on a status line such as `HTTP/1.1 PROCESSING Unknown`): the status
 * line is asserted first, with the raw bytes in the message.
 */
export async function rawCall(port: number, method: string, path: string): Promise<Reply> {
  const exchange = await rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
  const status = rawStatus(exchange);
  assert.ok(status !== undefined, `${method} ${path} answered an unparseable status line: ${describeRaw(exchange)}`);
  const headerEnd = exchange.response.indexOf('\r\n\r\n');
  const headers = new Headers();
  for (const line of exchange.response.slice(0, headerEnd).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status, headers, body: Buffer.from(exchange.response.slice(headerEnd + 4), 'latin1').toString('utf8') };
}

export function assertIsoTime(value: unknown, what: string): void {
  assert.ok(typeof value === 'string' && ISO_TIME.test(value), `${what} is an ISO 8601 time: ${JSON.stringify(value)}`);
}

export function linksOf(operationId: string): OperationBody['links'] {
  const self = `/_api/operations/${operationId}`;
  return { self, cancel: `${self}/cancel`, stream: `${self}/stream`, result: `${self}/result`, logs: `${self}/logs` };
}
