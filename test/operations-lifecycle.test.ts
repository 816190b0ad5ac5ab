// An operation's life as its status URL tells it: PENDING behind a busy worker, PROCESSING
// with progress, then COMPLETED, FAILED or CANCELLED; Retry-After while it runs, 303 to the
// result once it is done; /result answers the job's own response (and keeps it); cancel
// before, during and after the run.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { parseJson, request, waitFor } from './helpers/http.js';
import { listJobs, transitions, waitForRunningJobs } from './helpers/jobs.js';
import {
  assertIsoTime, assertProblem, call, getOperation, linksOf, rawCall, submitOperation, waitForFinal, waitForStatus, type OperationBody,
} from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  // One thread running one job at a time: a second job stays PENDING while the first runs.
  server = await startServer(['--server.threads', '1', '--server.worker-concurrency', '1', '--job.cancel-grace', '100', '--server.shutdown-timeout', '500']);
});

// A failed test must not leave a 30-second sleeper holding the only worker.
afterEach(async () => {
  for (const jobId of await listJobs(server.url, 'pending')) await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`);
  await waitForRunningJobs(server.url, 0);
});

after(async () => {
  await server?.stop();
});

function assertRetryAfter(reply: { headers: Headers }, body: OperationBody): void {
  const retryAfter = reply.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^[1-9]\d*$/, `Retry-After while ${body.status}: ${retryAfter}`);
}

test('a job submitted while the only worker is busy is PENDING, with Retry-After', async () => {
  const blocker = await submitOperation(server.url, '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  const queued = await submitOperation(server.url, '/_admin/steps?count=2&ms=10');
  assert.equal(queued.status, 'PENDING');

  const { reply, body } = await getOperation(server.url, queued.operationId);
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  assertRetryAfter(reply, body);
  assert.equal(body.operationId, queued.operationId);
  assert.equal(body.status, 'PENDING');
  assert.equal(body.progress, null);
  assertIsoTime(body.timestamps.created, 'timestamps.created');
  assert.equal(body.timestamps.started, null);
  assert.equal(body.timestamps.finished, null);
  assert.deepEqual(body.links, linksOf(queued.operationId));

  const blockerNow = await getOperation(server.url, blocker.operationId);
  assert.equal(blockerNow.body.status, 'PROCESSING');
  assertRetryAfter(blockerNow.reply, blockerNow.body);
});

// BUG: the 409 problems of this surface carry the operation status ("PROCESSING",
// "COMPLETED", "CANCELLED") in `status`, overwriting the HTTP status 409, and uWS then writes
// the status line `HTTP/1.1 PROCESSING Unknown`, which fetch, curl and every HTTP client
// refuse to parse. Hence the raw socket (rawCall) in the 409 tests.
test('/result of a PENDING or PROCESSING operation is a 409 problem', async () => {
  const running = await submitOperation(server.url, '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  const queued = await submitOperation(server.url, '/_admin/steps?count=2&ms=10');
  for (const operation of [queued, running]) {
    const result = await rawCall(server.port, 'GET', `/_api/operations/${operation.operationId}/result`);
    const problem = assertProblem(result, 409);
    assert.equal(problem.operationId, operation.operationId);
  }
});

test('a running job is PROCESSING with its progress and Retry-After, then COMPLETED with 303 to its result', async () => {
  const operation = await submitOperation(server.url, '/_admin/steps?count=5&ms=200');
  const running = await waitFor('PROCESSING with progress', async () => {
    const seen = await getOperation(server.url, operation.operationId);
    return seen.body.status === 'PROCESSING' && (seen.body.progress?.current ?? 0) >= 1 ? seen : undefined;
  });
  assert.equal(running.reply.status, 200);
  assertRetryAfter(running.reply, running.body);
  assertIsoTime(running.body.timestamps.started, 'timestamps.started');
  assert.equal(running.body.timestamps.finished, null);
  const progress = running.body.progress!;
  assert.equal(progress.total, 5);
  assert.equal(progress.percentage, (progress.current! / 5) * 100);
  assert.equal(progress.phase, null, 'steps names no phase');
  assert.match(progress.message ?? '', /^step \d of 5$/);

  const finished = await waitForFinal(server.url, operation.operationId);
  assert.equal(finished.body.status, 'COMPLETED');
  assert.equal(finished.reply.status, 303);
  assert.equal(finished.reply.headers.get('location'), `/_api/operations/${operation.operationId}/result`);
  assert.equal(finished.reply.headers.get('retry-after'), null, 'no Retry-After once finished');
  assertIsoTime(finished.body.timestamps.finished, 'timestamps.finished');
  assert.equal(finished.body.progress?.percentage, 100);
});

test('Prefer: return=representation gets a COMPLETED operation\'s status as 200, without the 303 (for browsers)', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  await waitForFinal(server.url, operation.operationId);
  const reply = await call(server.url, 'GET', `/_api/operations/${operation.operationId}`, { prefer: 'respond-async, return=representation' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('location'), null);
  const body = JSON.parse(reply.body) as { status: string; result: { url: string } };
  assert.equal(body.status, 'COMPLETED');
  assert.equal(body.result.url, `/_api/operations/${operation.operationId}/result`);
  assert.equal((await call(server.url, 'GET', `/_api/operations/${operation.operationId}`, { prefer: 'return=minimal' })).status, 303);
});

test('/result of a COMPLETED operation is the job\'s own answer, and stays after it was read', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  await waitForFinal(server.url, operation.operationId);
  for (let read = 0; read < 2; read++) {
    const result = await call(server.url, 'GET', `/_api/operations/${operation.operationId}/result`);
    assert.equal(result.status, 200, `read ${read + 1}: ${result.status} ${result.body}`);
    assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(parseJson(result), { server: 'arango', version: '3.12.0', license: 'community' });
  }
});

test('a failed operation answers 200 with its problem details and failedAt; only success redirects; /result answers its 418', async () => {
  const operation = await submitOperation(server.url, '/_admin/fail?status=418');
  const { reply, body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(body.status, 'FAILED');
  assert.equal(reply.status, 200, 'a client that follows redirects sees the failure');
  assert.equal(reply.headers.get('location'), null);
  assertIsoTime(body.failedAt, 'failedAt');
  assert.equal(body.failedAt, body.timestamps.finished);
  assert.equal(body.error?.status, 418);
  assert.equal(body.error?.detail, 'failed on purpose with status 418');
  assert.equal(typeof body.error?.type, 'string');
  for (let read = 0; read < 2; read++) {
    const result = await call(server.url, 'GET', `/_api/operations/${operation.operationId}/result`);
    assert.equal(result.status, 418);
    assert.deepEqual(parseJson(result), { error: true, code: 418, errorNum: 418, errorMessage: 'failed on purpose with status 418' });
  }
});

test('cancel before the start: CANCELLED at once, never runs, and a repeat answers the same cancelledAt', async () => {
  await submitOperation(server.url, '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  const startedBefore = await transitions(server.url, 'running');
  const queued = await submitOperation(server.url, '/_admin/steps?count=2&ms=10');

  const first = await call(server.url, 'POST', `/_api/operations/${queued.operationId}/cancel`);
  assert.equal(first.status, 200, first.body);
  const answer = parseJson(first) as { operationId: string; status: string; cancelledAt: string };
  assert.equal(answer.operationId, queued.operationId);
  assert.equal(answer.status, 'CANCELLED');
  assertIsoTime(answer.cancelledAt, 'cancelledAt');

  const { reply, body } = await waitForFinal(server.url, queued.operationId);
  assert.equal(body.status, 'CANCELLED');
  assert.equal(reply.status, 200, 'CANCELLED answers 200 with its body, no redirect');
  assert.equal(body.cancelledAt, answer.cancelledAt);
  assert.equal(body.reason, 'cancelled by user', 'the default reason');
  assert.equal(body.timestamps.started, null, 'it never started');
  const again = await call(server.url, 'POST', `/_api/operations/${queued.operationId}/cancel`);
  assert.equal(again.status, 200);
  assert.deepEqual(parseJson(again), answer);
  assert.equal(await transitions(server.url, 'running'), startedBefore, 'the cancelled job never ran');
});

// BUG: the first cancel of a running job answers the time of the request; once the job has
// stopped, a repeat answers the job's finish time instead. A never-yielding /_admin/spin job
// stops only after --job.cancel-grace (100 ms here), which makes the difference visible.
test('cancel while running: the job stops, CANCELLED, and a repeat answers the same cancelledAt', async () => {
  const operation = await submitOperation(server.url, '/_admin/spin?duration=30');
  await waitForStatus(server.url, operation.operationId, ['PROCESSING']);

  const first = await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`);
  assert.equal(first.status, 200, first.body);
  const answer = parseJson(first) as { operationId: string; status: string; cancelledAt: string };
  assert.equal(answer.status, 'CANCELLED');
  assertIsoTime(answer.cancelledAt, 'cancelledAt');
  const whileStopping = await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`);
  assert.deepEqual(parseJson(whileStopping), answer, 'a repeat while the job stops');

  await waitForRunningJobs(server.url, 0);
  const { body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(body.status, 'CANCELLED');
  assertIsoTime(body.timestamps.started, 'timestamps.started');
  const afterStop = await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`);
  assert.equal(afterStop.status, 200);
  assert.deepEqual(parseJson(afterStop), answer, 'a repeat once the job stopped: the same answer, the same cancelledAt');
});

// BUG (as above): answered with the status line `HTTP/1.1 COMPLETED Unknown`.
test('cancel after the job finished is 409 and keeps the result', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  await waitForFinal(server.url, operation.operationId);
  const cancel = await rawCall(server.port, 'POST', `/_api/operations/${operation.operationId}/cancel`).catch((error: Error) => error);

  const { body } = await getOperation(server.url, operation.operationId);
  assert.equal(body.status, 'COMPLETED');
  const result = await call(server.url, 'GET', `/_api/operations/${operation.operationId}/result`);
  assert.equal(result.status, 200, 'the result is kept');
  if (cancel instanceof Error) throw cancel;
  const problem = assertProblem(cancel, 409);
  assert.equal(problem.operationId, operation.operationId);
});

test('/result of a CANCELLED operation is 409', async () => {
  const operation = await submitOperation(server.url, '/_admin/sleep?duration=30');
  assert.equal((await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`)).status, 200);
  await waitForFinal(server.url, operation.operationId);
  assertProblem(await rawCall(server.port, 'GET', `/_api/operations/${operation.operationId}/result`), 409);
});
