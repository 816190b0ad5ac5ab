// Submitting operations: `Prefer: respond-async` answers 202 with the operation, an
// ArangoDB `x-arango-async: store` job keeps ArangoDB's empty 202 yet is an operation too,
// `Idempotency-Key` replays the first operation and refuses a different request, and errors on
// this surface are RFC 9457 problems.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseJson } from './helpers/http.js';
import { listJobs, storeJob, transitions } from './helpers/jobs.js';
import {
  assertIsoTime, assertProblem, call, getOperation, linksOf, submitOperation, waitForFinal, type OperationBody,
} from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

test('Prefer: respond-async answers 202 with Location, Preference-Applied and the operation', async () => {
  const reply = await call(server.url, 'GET', '/_admin/steps?count=2&ms=20', { prefer: 'respond-async' });
  assert.equal(reply.status, 202, reply.body);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(reply.headers.get('preference-applied'), 'respond-async');
  const body = parseJson(reply) as OperationBody & { createdAt: string; statusUrl: string };
  assert.match(body.operationId, /^[1-9]\d*$/);
  assert.equal(reply.headers.get('location'), `/_api/operations/${body.operationId}`);
  assert.equal(body.statusUrl, `/_api/operations/${body.operationId}`);
  assert.ok(body.status === 'PENDING' || body.status === 'PROCESSING', `status ${body.status}`);
  assertIsoTime(body.createdAt, 'createdAt');
  assert.deepEqual(body.links, linksOf(body.operationId));
  // The operation id is the ArangoDB job id.
  const jobIds = [...await listJobs(server.url, 'pending'), ...await listJobs(server.url, 'done')];
  assert.ok(jobIds.includes(body.operationId), `operation ${body.operationId} among the ArangoDB job ids ${jobIds.join(', ')}`);
  await waitForFinal(server.url, body.operationId);
});

test('x-arango-async: store keeps ArangoDB\'s empty 202, and the job is an operation too', async () => {
  const jobId = await storeJob(server.url, 'GET', '/_admin/steps?count=2&ms=20');
  const { body } = await waitForFinal(server.url, jobId);
  assert.equal(body.operationId, jobId);
  assert.equal(body.status, 'COMPLETED');
  const result = await call(server.url, 'GET', `/_api/operations/${jobId}/result`);
  assert.equal(result.status, 200);
  assert.deepEqual(parseJson(result), { error: false, code: 200, steps: 2 });
  // ArangoDB's own fetch still answers it.
  const fetched = await call(server.url, 'PUT', `/_api/job/${jobId}`);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.headers.get('x-arango-async-id'), jobId);
});

test('x-arango-async: store answers no Location, Preference-Applied or body', async () => {
  const reply = await call(server.url, 'GET', '/_api/version', { 'x-arango-async': 'store' });
  assert.equal(reply.status, 202);
  assert.equal(reply.body, '');
  assert.match(reply.headers.get('x-arango-async-id') ?? '', /^[1-9]\d*$/);
  assert.equal(reply.headers.get('location'), null);
  assert.equal(reply.headers.get('preference-applied'), null);
});

test('the same Idempotency-Key and request returns the first operation and runs nothing new', async () => {
  const headers = { 'idempotency-key': 'order-4711', 'content-type': 'text/plain' };
  const first = await submitOperation(server.url, '/_admin/echo', headers, 'POST', 'the same body');
  await waitForFinal(server.url, first.operationId);
  const queuedBefore = await transitions(server.url, 'queued');

  const second = await submitOperation(server.url, '/_admin/echo', headers, 'POST', 'the same body');
  assert.equal(second.operationId, first.operationId);
  assert.equal(second.status, 'COMPLETED', 'the replay shows the first operation\'s current state');
  assert.equal(await transitions(server.url, 'queued'), queuedBefore, 'nothing new was queued');
  assert.deepEqual(await listJobs(server.url, 'pending'), []);
});

test('an Idempotency-Key replayed while the first operation runs returns it, still running', async () => {
  const headers = { 'idempotency-key': 'report-2026' };
  const first = await submitOperation(server.url, '/_admin/steps?count=4&ms=100', headers);
  const queuedBefore = await transitions(server.url, 'queued');
  const replay = await submitOperation(server.url, '/_admin/steps?count=4&ms=100', headers);
  assert.equal(replay.operationId, first.operationId);
  assert.ok(replay.status === 'PENDING' || replay.status === 'PROCESSING', `replay status ${replay.status}`);
  assert.equal(await transitions(server.url, 'queued'), queuedBefore, 'nothing new was queued');
  assert.deepEqual(await listJobs(server.url, 'pending'), [first.operationId]);
  await waitForFinal(server.url, first.operationId);
});

test('the same Idempotency-Key with another body, path or method is a 422 problem and queues nothing', async () => {
  const headers = { 'idempotency-key': 'order-4712' };
  const first = await submitOperation(server.url, '/_admin/echo', headers, 'POST', 'first body');
  await waitForFinal(server.url, first.operationId);
  const queuedBefore = await transitions(server.url, 'queued');
  const conflicts: [string, string, string | undefined][] = [['POST', '/_admin/echo', 'another body'], ['PUT', '/_admin/echo', 'first body'], ['GET', '/_api/version', undefined]];
  for (const [method, path, body] of conflicts) {
    const reply = await call(server.url, method, path, { ...headers, prefer: 'respond-async' }, body);
    const problem = assertProblem(reply, 422);
    assert.equal(problem.operationId, first.operationId, `${method} ${path}`);
  }
  assert.equal(await transitions(server.url, 'queued'), queuedBefore, 'nothing was queued');
});

test('errors on /_api/operations are application/problem+json', async () => {
  const unknown = assertProblem(await call(server.url, 'GET', '/_api/operations/999999999'), 404);
  assert.equal(unknown.instance, '/_api/operations/999999999');
  assertProblem(await call(server.url, 'GET', '/_api/operations/not-an-id'), 404);
  assertProblem(await call(server.url, 'POST', '/_api/operations/999999999/cancel'), 404);
  assertProblem(await call(server.url, 'GET', '/_api/operations?limit=0'), 400);
  assertProblem(await call(server.url, 'GET', '/_api/operations?status=DONE'), 400);
  const operation = await submitOperation(server.url, '/_api/version');
  const wrongMethod = await call(server.url, 'DELETE', `/_api/operations/${operation.operationId}`);
  assertProblem(wrongMethod, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'GET');
  const { body } = await getOperation(server.url, operation.operationId);
  assert.equal(body.operationId, operation.operationId);
});
