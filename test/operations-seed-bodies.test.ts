// The long-running-operations seed's bodies and the ArangoDB examples it quotes: only success
// redirects, completion bodies with their times and result, the last progress kept, cancel
// with a reason (and the partial progress of a job stopped mid-way), and ArangoDB's own
// examples (`PUT /_api/version` stored, a cancelled job's 410 with its id).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertArangoError, parseJson, waitFor } from './helpers/http.js';
import { fetchWhenFinished, storeJob } from './helpers/jobs.js';
import { assertProblem, call, submitOperation, waitForFinal, waitForStatus } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

test('a completed operation answers 303 with completedAt, startedAt, its result inline and its progress kept at 10/10', async () => {
  const operation = await submitOperation(server.url, '/_admin/steps?count=10&ms=5');
  const { reply, body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(body.status, 'COMPLETED');
  assert.equal(reply.status, 303);
  assert.equal(body.completedAt, body.timestamps.finished);
  assert.equal(body.startedAt, body.timestamps.started);
  assert.deepEqual({ current: body.progress?.current, total: body.progress?.total, percentage: body.progress?.percentage }, { current: 10, total: 10, percentage: 100 });
  const result = body.result as { status: number; url: string; body?: unknown };
  assert.equal(result.status, 200);
  assert.equal(result.url, `/_api/operations/${operation.operationId}/result`);
  assert.ok(result.body !== undefined, 'a small JSON result is inline');
});

test('cancel with a reason: the answer and the status body carry it, and the job keeps its partial progress', async () => {
  const operation = await submitOperation(server.url, '/_admin/steps?count=1000&ms=20');
  await waitFor('some progress', async () => {
    const seen = await call(server.url, 'GET', `/_api/operations/${operation.operationId}`);
    const progress = (parseJson(seen) as { progress?: { current?: number } }).progress;
    return (progress?.current ?? 0) >= 2 ? true : undefined;
  });
  const cancelled = await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`, { 'content-type': 'application/json' },
    JSON.stringify({ reason: 'no longer needed' }));
  assert.equal(cancelled.status, 200, cancelled.body);
  assert.equal((parseJson(cancelled) as { reason: string }).reason, 'no longer needed');
  const { reply, body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(reply.status, 200);
  assert.equal(body.status, 'CANCELLED');
  assert.equal(body.reason, 'no longer needed');
  assert.equal(typeof body.cancelledAt, 'string');
  assert.ok((body.progress?.current ?? 0) >= 2 && (body.progress?.current ?? 0) < 1000, `partial progress kept: ${JSON.stringify(body.progress)}`);
});

test('a cancel body that is not {"reason": string} is a 400 problem and cancels nothing', async () => {
  const operation = await submitOperation(server.url, '/_admin/steps?count=1000&ms=20');
  for (const bad of ['not json', '[1]', '{"reason": 42}', '{"reason": ""}']) {
    assertProblem(await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`, {}, bad), 400);
  }
  const { body } = await waitForStatus(server.url, operation.operationId, ['PENDING', 'PROCESSING']);
  assert.notEqual(body.status, 'CANCELLED');
  assert.equal((await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`)).status, 200);
});

test('ArangoDB\'s example: PUT /_api/version stored with x-arango-async: store, then fetched', async () => {
  for (const method of ['PUT', 'POST', 'DELETE']) {
    const jobId = await storeJob(server.url, method, '/_api/version');
    const fetched = await fetchWhenFinished(server.url, jobId);
    assert.equal(fetched.status, 200, `${method}: ${fetched.body}`);
    assert.equal((parseJson(fetched) as { server: string }).server, 'arango');
  }
});

test('fetching a cancelled job answers 410 (errorNum 21) with its x-arango-async-id, as ArangoDB stores it', async () => {
  const jobId = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30');
  assert.equal((await call(server.url, 'PUT', `/_api/job/${jobId}/cancel`)).status, 200);
  const fetched = await fetchWhenFinished(server.url, jobId);
  assertArangoError(fetched, 410, 21);
  assert.equal(fetched.headers.get('x-arango-async-id'), jobId);
});

test('a running operation with progress gives estimatedCompletion and pollInterval beside Retry-After; a queued one no estimate', async () => {
  const operation = await submitOperation(server.url, '/_admin/steps?count=200&ms=20');
  assert.deepEqual(operation.pollInterval, { recommended: operation.retryAfter, minimum: 1 }, 'already in the 202');
  const seen = await waitFor('an estimate', async () => {
    const reply = await call(server.url, 'GET', `/_api/operations/${operation.operationId}`);
    const body = parseJson(reply) as { estimatedCompletion?: string; retryAfter?: number; pollInterval?: unknown };
    return body.estimatedCompletion !== undefined ? { reply, body } : undefined;
  });
  const estimate = Date.parse(seen.body.estimatedCompletion!);
  assert.ok(estimate > Date.now() - 1000 && estimate < Date.now() + 60_000, `a near estimate: ${seen.body.estimatedCompletion}`);
  assert.deepEqual(seen.body.pollInterval, { recommended: Number(seen.reply.headers.get('retry-after')), minimum: 1 });
  assert.equal((await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`)).status, 200);
  const { body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(body.estimatedCompletion, undefined, 'a finished operation has none');
  assert.equal(body.pollInterval, undefined);
});

test('HEAD works on /stream as on every GET route: the stream\'s headers, no body', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  const reply = await call(server.url, 'HEAD', `/_api/operations/${operation.operationId}/stream`);
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(reply.body, '');
});

test('history pages as the seed does: page and size with totalElements, items with completedAt and duration in seconds; unknown or malformed parameters are 400', async (t) => {
  const own = await startServer();
  t.after(() => own.stop());
  const ids: string[] = [];
  for (let index = 0; index < 5; index++) {
    const operation = await submitOperation(own.url, '/_api/version');
    await waitForFinal(own.url, operation.operationId);
    ids.push(operation.operationId);
  }
  const newestFirst = [...ids].reverse();
  const page = async (query: string): Promise<{ data: Array<Record<string, unknown>>; pagination: Record<string, unknown> }> => {
    const reply = await call(own.url, 'GET', `/_api/operations${query}`);
    assert.equal(reply.status, 200, reply.body);
    return parseJson(reply) as { data: Array<Record<string, unknown>>; pagination: Record<string, unknown> };
  };
  const first = await page('?status=COMPLETED&page=0&size=2');
  assert.deepEqual(first.data.map((item) => item.operationId), newestFirst.slice(0, 2));
  assert.deepEqual(first.pagination, { page: 0, size: 2, totalElements: 5 });
  const third = await page('?status=COMPLETED&page=2&size=2');
  assert.deepEqual(third.data.map((item) => item.operationId), newestFirst.slice(4));
  const item = first.data[0];
  assert.equal(item.completedAt, (item.timestamps as { finished: string }).finished);
  assert.equal(typeof item.duration, 'number');
  assert.ok((item.duration as number) < 60, 'seconds, not milliseconds');
  const cursor = await page('?limit=3');
  assert.equal(cursor.pagination.totalElements, 5);
  assert.equal(cursor.pagination.next, newestFirst[2]);
  assert.equal((await page('?status=FAILED')).pagination.totalElements, 0);
  for (const bad of ['?sort=asc', '?limit=0', '?limit=x', '?page=-1', '?size=0', '?page=1&after=5', '?status=', '?after=abc']) {
    assertProblem(await call(own.url, 'GET', `/_api/operations${bad}`), 400);
  }
});
