// python-arango cannot be installed here (no PyPI), so this replays its HTTP calls byte for
// byte in spirit: the requests it sends (python-requests headers, Basic auth, /_db/_system/
// URLs, params urlencoded as Python does) and the decisions it takes on the answers, after
// arango/executor.py (AsyncApiExecutor), arango/job.py (AsyncJob), arango/database.py
// (async_jobs, clear_async_jobs) and Connection.prep_response.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { waitFor } from './helpers/http.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

/** arango.request.Request */
interface PyRequest {
  method: 'get' | 'put' | 'delete' | 'post';
  endpoint: string;
  params?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  data?: unknown;
}

/** arango.response.Response after Connection.prep_response. */
interface PyResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  errorCode: number | undefined;
  isSuccess: boolean;
}

/** What python-arango raises (AsyncJobStatusError, AsyncJobResultError, ...), with its message. */
class PyArangoError extends Error {
  readonly response: PyResponse;
  constructor(kind: string, response: PyResponse, message?: string) {
    super(`${kind}: ${message ?? `[HTTP ${response.statusCode}][ERR ${response.errorCode}]`}`);
    this.response = response;
  }
}

/** Python's str() of a value in a query string: True/False for booleans. */
function pythonString(value: string | number | boolean): string {
  return typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
}

/** arango.connection.BasicConnection over requests.Session, for database _system. */
class PyConnection {
  readonly #port: number;
  readonly #authorization: string;

  constructor(port: number, username: string, password: string) {
    this.#port = port;
    this.#authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  sendRequest(pyRequest: PyRequest): Promise<PyResponse> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(pyRequest.params ?? {})) query.append(name, pythonString(value));
    const body = pyRequest.data === undefined ? undefined : JSON.stringify(pyRequest.data);
    const headers: Record<string, string> = {
      'User-Agent': 'python-requests/2.32.3',
      'Accept-Encoding': 'gzip, deflate',
      Accept: '*/*',
      Connection: 'keep-alive',
      charset: 'utf-8',
      'content-type': 'application/json',
      'x-arango-driver': 'python-arango/8.1.4 (requests/2.32.3)',
      ...pyRequest.headers,
      Authorization: this.#authorization,
    };
    // requests announces an empty body on every method but GET and HEAD.
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    else if (pyRequest.method !== 'get') headers['Content-Length'] = '0';
    return new Promise((resolve, reject) => {
      const outgoing = http.request({
        host: '127.0.0.1', port: this.#port, method: pyRequest.method.toUpperCase(),
        path: `/_db/_system${pyRequest.endpoint}${query.size === 0 ? '' : `?${query}`}`, headers,
      }, (incoming) => {
        let rawBody = '';
        incoming.setEncoding('utf8').on('data', (chunk: string) => { rawBody += chunk; });
        incoming.on('end', () => resolve(prepResponse(incoming.statusCode!, incoming.headers, rawBody)));
      });
      outgoing.on('error', reject);
      outgoing.setTimeout(30_000, () => outgoing.destroy(new Error('no answer')));
      outgoing.end(body);
    });
  }
}

function prepResponse(statusCode: number, headers: http.IncomingHttpHeaders, rawBody: string): PyResponse {
  let body: unknown = rawBody;
  try {
    body = JSON.parse(rawBody);
  } catch (error) {
    // python-arango's deserialize() falls back to the raw text on ValueError.
    if (!(error instanceof SyntaxError)) throw error;
  }
  const errorCode = body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as { errorNum?: number }).errorNum
    : undefined;
  const httpOk = statusCode >= 200 && statusCode < 300;
  return { statusCode, headers, rawBody, body, errorCode, isSuccess: httpOk && errorCode === undefined };
}

/** arango.job.AsyncJob */
class PyAsyncJob<Result> {
  readonly id: string;
  readonly #connection: PyConnection;
  readonly #responseHandler: (response: PyResponse) => Result;

  constructor(connection: PyConnection, jobId: string, responseHandler: (response: PyResponse) => Result) {
    this.#connection = connection;
    this.id = jobId;
    this.#responseHandler = responseHandler;
  }

  async status(): Promise<'pending' | 'done'> {
    const response = await this.#connection.sendRequest({ method: 'get', endpoint: `/_api/job/${this.id}` });
    if (response.statusCode === 204) return 'pending';
    if (response.isSuccess) return 'done';
    if (response.errorCode === 404) throw new PyArangoError('AsyncJobStatusError', response, `job ${this.id} not found`);
    throw new PyArangoError('AsyncJobStatusError', response);
  }

  async result(): Promise<Result> {
    const response = await this.#connection.sendRequest({ method: 'put', endpoint: `/_api/job/${this.id}` });
    if ('x-arango-async-id' in response.headers) return this.#responseHandler(response);
    if (response.statusCode === 204) throw new PyArangoError('AsyncJobResultError', response, `job ${this.id} not done`);
    if (response.errorCode === 404) throw new PyArangoError('AsyncJobResultError', response, `job ${this.id} not found`);
    throw new PyArangoError('AsyncJobResultError', response);
  }

  async cancel(ignoreMissing = false): Promise<boolean> {
    const response = await this.#connection.sendRequest({ method: 'put', endpoint: `/_api/job/${this.id}/cancel` });
    if (response.statusCode === 200) return true;
    if (response.errorCode === 404) {
      if (ignoreMissing) return false;
      throw new PyArangoError('AsyncJobCancelError', response, `job ${this.id} not found`);
    }
    throw new PyArangoError('AsyncJobCancelError', response);
  }

  async clear(ignoreMissing = false): Promise<boolean> {
    const response = await this.#connection.sendRequest({ method: 'delete', endpoint: `/_api/job/${this.id}` });
    if (response.isSuccess) return true;
    if (response.errorCode === 404) {
      if (ignoreMissing) return false;
      throw new PyArangoError('AsyncJobClearError', response, `job ${this.id} not found`);
    }
    throw new PyArangoError('AsyncJobClearError', response);
  }
}

/** arango.executor.AsyncApiExecutor.execute */
async function executeAsync<Result>(
  connection: PyConnection, returnResult: boolean, pyRequest: PyRequest, responseHandler: (response: PyResponse) => Result,
): Promise<PyAsyncJob<Result> | null> {
  const response = await connection.sendRequest({
    ...pyRequest, headers: { ...pyRequest.headers, 'x-arango-async': returnResult ? 'store' : 'true' },
  });
  if (!response.isSuccess) throw new PyArangoError('AsyncExecuteError', response);
  if (!returnResult) return null;
  const jobId = response.headers['x-arango-async-id'];
  assert.equal(typeof jobId, 'string', 'python-arango reads resp.headers["x-arango-async-id"]');
  return new PyAsyncJob(connection, jobId as string, responseHandler);
}

/** Database.async_jobs(status, count) */
async function asyncJobs(connection: PyConnection, status: string, count?: number): Promise<string[]> {
  const response = await connection.sendRequest({ method: 'get', endpoint: `/_api/job/${status}`, params: count === undefined ? {} : { count } });
  if (response.isSuccess) return response.body as string[];
  throw new PyArangoError('AsyncJobListError', response);
}

/** Database.clear_async_jobs(threshold) */
async function clearAsyncJobs(connection: PyConnection, threshold?: number): Promise<boolean> {
  const response = threshold === undefined
    ? await connection.sendRequest({ method: 'delete', endpoint: '/_api/job/all' })
    : await connection.sendRequest({ method: 'delete', endpoint: '/_api/job/expired', params: { stamp: threshold } });
  if (response.isSuccess) return true;
  throw new PyArangoError('AsyncJobClearError', response);
}

/** The response handler of Database.version(): the body's version, or ServerVersionError. */
function versionHandler(response: PyResponse): string {
  if (!response.isSuccess) throw new PyArangoError('ServerVersionError', response);
  return (response.body as { version: string }).version;
}

/** A handler for a raw API call: the parsed body, or the server's error. */
function bodyHandler(response: PyResponse): unknown {
  if (!response.isSuccess) throw new PyArangoError('ArangoServerError', response);
  return response.body;
}

const VERSION_REQUEST: PyRequest = { method: 'get', endpoint: '/_api/version', params: { details: false } };
const SLEEP_REQUEST: PyRequest = { method: 'get', endpoint: '/_admin/sleep', params: { duration: 30 } };

let users: UsersFile;
let server: ServerProcess;
let root: PyConnection;

before(async () => {
  users = await makeUsersFile([{ username: 'root', password: 'passwd' }, { username: 'alice', password: 'x' }]);
  server = await startServer(['--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path]);
  root = new PyConnection(server.port, 'root', 'passwd');
});

after(async () => {
  await server?.stop();
  await users?.remove();
});

async function waitUntilDone(job: PyAsyncJob<unknown>): Promise<void> {
  await waitFor(`job ${job.id} to be done`, async () => ((await job.status()) === 'done' ? true : undefined));
}

describe('db.begin_async_execution(return_result=True)', () => {
  test('a call returns an AsyncJob: status() goes pending → done, result() returns once, then "not found"', async () => {
    const job = (await executeAsync(root, true, VERSION_REQUEST, versionHandler))!;
    assert.match(job.id, /^[1-9][0-9]*$/);
    assert.ok(['pending', 'done'].includes(await job.status()));
    await waitUntilDone(job);
    const blockingVersion = versionHandler(await root.sendRequest(VERSION_REQUEST));
    assert.equal(await job.result(), blockingVersion);
    await assert.rejects(job.result(), { message: `AsyncJobResultError: job ${job.id} not found` });
    await assert.rejects(job.status(), { message: `AsyncJobStatusError: job ${job.id} not found` });
  });

  test('a pending job: status() is "pending", result() raises "not done"; cancel() → True; then the 410', async () => {
    const job = (await executeAsync(root, true, SLEEP_REQUEST, bodyHandler))!;
    assert.equal(await job.status(), 'pending');
    await assert.rejects(job.result(), { message: `AsyncJobResultError: job ${job.id} not done` });
    assert.equal(await job.cancel(), true);
    const error = await waitFor('the cancelled job to end', async () => {
      try {
        await job.result();
        assert.fail('a cancelled job has no result');
      } catch (caught) {
        assert.ok(caught instanceof PyArangoError, String(caught));
        return caught.message.endsWith('not done') ? undefined : caught;
      }
    });
    assert.equal(error.response.statusCode, 410);
    assert.equal(error.response.errorCode, 21);
    assert.equal(await job.clear(true), false, 'the 410 fetch removed the job');
  });

  test('a failed job: result() hands the error answer (it has x-arango-async-id) to the response handler', async () => {
    const job = (await executeAsync(root, true, { method: 'get', endpoint: '/_admin/fail', params: { status: 503 } }, bodyHandler))!;
    await waitUntilDone(job);
    await assert.rejects(job.result(), (error: unknown) => {
      assert.ok(error instanceof PyArangoError);
      assert.match(error.message, /^ArangoServerError: /);
      assert.equal(error.response.statusCode, 503);
      assert.equal(error.response.errorCode, 503);
      return true;
    });
  });

  test('a POST with a JSON body runs and its result comes back', async () => {
    const job = (await executeAsync(root, true, { method: 'post', endpoint: '/_admin/echo', data: { _key: 'Abby' } }, bodyHandler))!;
    await waitUntilDone(job);
    const echoed = await job.result() as { method: string; body: string };
    assert.equal(echoed.method, 'POST');
    assert.deepEqual(JSON.parse(echoed.body), { _key: 'Abby' });
  });

  test('clear() removes a result; cancel() and clear() of unknown jobs raise, or return False with ignore_missing', async () => {
    const job = (await executeAsync(root, true, VERSION_REQUEST, versionHandler))!;
    await waitUntilDone(job);
    assert.equal(await job.clear(), true);
    await assert.rejects(job.clear(), { message: `AsyncJobClearError: job ${job.id} not found` });
    assert.equal(await job.clear(true), false);
    await assert.rejects(job.cancel(), { message: `AsyncJobCancelError: job ${job.id} not found` });
    assert.equal(await job.cancel(true), false);
  });
});

describe('db.begin_async_execution(return_result=False)', () => {
  test('sends x-arango-async: true; the 202 is a success and no job is returned', async () => {
    assert.equal(await executeAsync(root, false, VERSION_REQUEST, versionHandler), null);
    assert.deepEqual(await asyncJobs(root, 'pending'), []);
  });
});

describe('async_jobs and clear_async_jobs', () => {
  test('async_jobs(status, count) lists job ids; clear_async_jobs(threshold) and clear_async_jobs() delete results', async () => {
    assert.equal(await clearAsyncJobs(root), true);
    const finished: string[] = [];
    for (let index = 0; index < 3; index++) {
      const job = (await executeAsync(root, true, VERSION_REQUEST, versionHandler))!;
      await waitUntilDone(job);
      finished.push(job.id);
    }
    const sleeper = (await executeAsync(root, true, SLEEP_REQUEST, bodyHandler))!;

    assert.deepEqual(await asyncJobs(root, 'done', 100), finished);
    assert.deepEqual(await asyncJobs(root, 'done', 2), finished.slice(0, 2));
    assert.deepEqual(await asyncJobs(root, 'pending', 100), [sleeper.id]);
    await assert.rejects(asyncJobs(root, 'finished'), (error: unknown) => error instanceof PyArangoError && error.response.statusCode === 400);

    // time.time() is a float with a fraction; Python's urlencode writes it as is.
    assert.equal(await clearAsyncJobs(root, Date.now() / 1000 - 3600), true);
    assert.deepEqual(await asyncJobs(root, 'done'), finished);
    assert.equal(await clearAsyncJobs(root, Date.now() / 1000 + 1), true);
    assert.deepEqual(await asyncJobs(root, 'done'), []);

    assert.equal(await sleeper.cancel(), true);
    assert.equal(await clearAsyncJobs(root), true);
    assert.deepEqual(await asyncJobs(root, 'done'), []);
  });

  test('a user other than root neither lists nor clears root\'s jobs', async () => {
    const alice = new PyConnection(server.port, 'alice', 'x');
    const rootJob = (await executeAsync(root, true, VERSION_REQUEST, versionHandler))!;
    await waitUntilDone(rootJob);
    assert.deepEqual(await asyncJobs(alice, 'done'), []);
    assert.equal(await clearAsyncJobs(alice), true);
    assert.equal(await rootJob.status(), 'done');
    await assert.rejects(new PyAsyncJob(alice, rootJob.id, versionHandler).status(), { message: `AsyncJobStatusError: job ${rootJob.id} not found` });
    assert.equal(await rootJob.result(), versionHandler(await root.sendRequest(VERSION_REQUEST)));
  });
});
