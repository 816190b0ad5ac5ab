// `--job.retention SECONDS`: a finished operation is kept that long, then its status URL
// answers 410 Gone with a problem carrying `expiredAt`, and its result is gone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { delay, waitFor } from './helpers/http.js';
import { assertIsoTime, assertProblem, call, submitOperation, waitForFinal } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

const RETENTION_SECONDS = 1;
let server: ServerProcess;

before(async () => {
  server = await startServer(['--job.retention', String(RETENTION_SECONDS)]);
});

after(async () => {
  await server?.stop();
});

test('an operation past --job.retention answers 410 with expiredAt, and so does its result', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  const { reply, body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(reply.status, 303);
  assertIsoTime(body.expiresAt, 'expiresAt');
  const finishedAtMs = Date.parse(body.timestamps.finished!);
  assert.equal(Date.parse(body.expiresAt as string), finishedAtMs + RETENTION_SECONDS * 1000);

  // Expiry sweeps once a second, so the 410 comes within about 2 s of the finish.
  await delay(2000);
  const gone = await waitFor('the 410 of an expired operation', async () => {
    const reply = await call(server.url, 'GET', `/_api/operations/${operation.operationId}`);
    return reply.status === 303 ? undefined : reply;
  }, 5000, 100);
  const problem = assertProblem(gone, 410);
  assertIsoTime(problem.expiredAt, 'expiredAt');
  assert.equal(Date.parse(problem.expiredAt as string), finishedAtMs + RETENTION_SECONDS * 1000);
  assert.equal(problem.instance, `/_api/operations/${operation.operationId}`);
  assertProblem(await call(server.url, 'GET', `/_api/operations/${operation.operationId}/result`), 410);
  assertProblem(await call(server.url, 'GET', `/_api/operations/${operation.operationId}/stream`, { accept: 'text/event-stream' }), 410);
  // ArangoDB's job API no longer knows it either.
  assert.equal((await call(server.url, 'PUT', `/_api/job/${operation.operationId}`)).status, 404);
});
