// Lifecycle logging (`--log.jobs true`): one structured line per transition, with the job id,
// owner and route; nothing of it without the option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, storeJob, waitForRunningJobs } from './helpers/jobs.js';
import { call, submitOperation, waitForFinal } from './helpers/operations.js';
import { startServer } from './helpers/server-process.js';

test('--log.jobs true logs submitted, started, finished (outcome, duration) and cancel requested (reason), with id, owner and route', async (t) => {
  const server = await startServer(['--log.jobs', 'true']);
  t.after(() => server.stop());
  const jobId = await storeJob(server.url, 'GET', '/_api/version');
  await fetchWhenFinished(server.url, jobId);
  const operation = await submitOperation(server.url, '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`, {}, JSON.stringify({ reason: 'changed my mind' }));
  await waitForFinal(server.url, operation.operationId);
  const linesOf = (id: string): Array<Record<string, unknown>> => server.logLines.filter((line) => String(line.jobId) === id);
  const events = await waitFor('the lifecycle lines', async () => {
    const lines = linesOf(jobId);
    return lines.some((line) => line.event === 'finished') ? lines : undefined;
  });
  assert.deepEqual(events.map((line) => line.event), ['submitted', 'started', 'finished']);
  assert.equal(events[0].route, 'GET /_api/version');
  assert.equal(events[0].owner, 'root', 'with authentication off, every caller is root');
  assert.equal(events[0].mode, 'stored');
  assert.equal(events[2].outcome, 'completed');
  assert.equal(typeof events[2].durationMs, 'number');
  const cancelled = await waitFor('the cancelled job\'s lines', async () => {
    const lines = linesOf(operation.operationId);
    return lines.some((line) => line.event === 'finished') ? lines : undefined;
  });
  assert.deepEqual(cancelled.map((line) => line.event), ['submitted', 'started', 'cancel-requested', 'finished']);
  assert.equal(cancelled[2].reason, 'changed my mind');
  assert.equal(cancelled[3].outcome, 'cancelled');
});

test('without --log.jobs, jobs log nothing', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const jobId = await storeJob(server.url, 'GET', '/_api/version');
  await fetchWhenFinished(server.url, jobId);
  assert.equal((await request(server.url, 'GET', '/_api/version')).status, 200);
  assert.equal(server.logLines.filter((line) => line.jobId !== undefined).length, 0);
});
