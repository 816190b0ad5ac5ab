import assert from 'node:assert/strict';

const REQUEST_TIMEOUT_MS = 30_000;

/** An HTTP answer as a client sees it. */
export interface Reply {
  status: number;
  headers: Headers;
  /** The body as text ('' when there is none). */
  body: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
}

/** One request with Node's fetch; `path` may carry a query string. */
export async function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: options.headers,
    body: options.body,
    signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
  });
  const body = await response.text();
  return { status: response.status, headers: response.headers, body };
}

export function parseJson(reply: Reply): unknown {
  try {
    return JSON.parse(reply.body);
  } catch (error) {
    throw new Error(`expected a JSON body, got status ${reply.status} with ${JSON.stringify(reply.body)}`, { cause: error });
  }
}

/** Asserts ArangoDB's error answer: `{"error":true,"code":status,"errorNum":N,"errorMessage":"..."}` as JSON. */
export function assertArangoError(reply: Reply, status: number, errorNum: number, message?: string | RegExp): void {
  assert.equal(reply.status, status, `expected HTTP ${status}, got ${reply.status}: ${reply.body}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  const body = parseJson(reply) as Record<string, unknown>;
  assert.equal(body.error, true);
  assert.equal(body.code, status);
  assert.equal(body.errorNum, errorNum, `errorNum in ${reply.body}`);
  assert.equal(typeof body.errorMessage, 'string');
  assert.notEqual(body.errorMessage, '');
  if (typeof message === 'string') assert.equal(body.errorMessage, message);
  else if (message !== undefined) assert.match(body.errorMessage as string, message);
}

/** Asserts an answer with no body at all and no job id (202 of fire-and-forget, 204 of a pending job). */
export function assertEmptyWithoutJobId(reply: Reply, status: number): void {
  assert.equal(reply.status, status, `expected HTTP ${status}, got ${reply.status}: ${reply.body}`);
  assert.equal(reply.body, '');
  assert.equal(reply.headers.get('x-arango-async-id'), null);
  // RFC 9110 8.6: a 204 carries no Content-Length.
  if (status === 204) assert.equal(reply.headers.get('content-length'), null);
}

/** Asserts `200 {"result":true}`, the answer of cancel and delete. */
export function assertResultTrue(reply: Reply): void {
  assert.equal(reply.status, 200, `expected HTTP 200, got ${reply.status}: ${reply.body}`);
  assert.deepEqual(parseJson(reply), { result: true });
}

export function basicAuth(username: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

export function bearerAuth(token: string): Record<string, string> {
  return { authorization: `bearer ${token}` };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<Value>(what: string, check: () => Promise<Value | undefined>, timeoutMs = 15_000, intervalMs = 25): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}
