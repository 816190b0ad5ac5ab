// PUT /_api/job/{id}/cancel really stops jobs: a queued one never runs, a sleeping one wakes
// up cancelled, and a never-yielding one has its worker terminated after --job.cancel-grace,
// after which the server serves on all its threads again.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { assertArangoError, assertResultTrue, parseJson, request } from './helpers/http.js';
import {
  fetchWhenFinished, jobStatus, listJobs, metricValue, scrapeMetrics, storeJob, transitions, waitForJobDone, waitForRunningJobs,
} from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

const THREADS = 2;
let server: ServerProcess;

before(async () => {
  // One job per worker, so that "running" counts busy threads.
  server = await startServer(['--server.threads', String(THREADS), '--server.worker-concurrency', '1', '--job.cancel-grace', '100']);
});

// A failed test must not leave 30-second sleepers holding the workers for the next ones.
afterEach(async () => {
  for (const jobId of await listJobs(server.url, 'pending')) await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`);
});

after(async () => {
  await server?.stop();
});

async function cancelAndExpectGone(jobId: string): Promise<void> {
  assertResultTrue(await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`));
  const reply = await fetchWhenFinished(server.url, jobId, {}, 15_000);
  assertArangoError(reply, 410, 21, 'canceled request');
  assert.equal(reply.headers.get('x-arango-async-id'), jobId, 'the 410 is the answer of the job, as ArangoDB stores it');
  assertArangoError(await request(server.url, 'PUT', `/_api/job/${jobId}`), 404, 404);
}

test('a running /_admin/sleep job is cancelled: its fetch turns 410', async () => {
  const jobId = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  await cancelAndExpectGone(jobId);
  await waitForRunningJobs(server.url, 0);
});

test('a queued job is cancelled before it ever runs', async () => {
  const sleepers = [
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=30'),
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=30'),
  ];
  await waitForRunningJobs(server.url, THREADS);
  const startedBefore = await transitions(server.url, 'running');
  const queued = await storeJob(server.url, 'GET', '/_admin/steps?count=2&ms=10');
  assert.equal(metricValue(await scrapeMetrics(server.url), 'arangojobs_queue_depth'), 1);
  assert.equal(await jobStatus(server.url, queued), 204);

  await cancelAndExpectGone(queued);
  // The running jobs were not disturbed.
  for (const jobId of sleepers) assert.equal(await jobStatus(server.url, jobId), 204);
  const depthAfterCancel = metricValue(await scrapeMetrics(server.url), 'arangojobs_queue_depth');
  for (const jobId of sleepers) await cancelAndExpectGone(jobId);
  await waitForRunningJobs(server.url, 0);
  assert.equal(await transitions(server.url, 'running'), startedBefore, 'the cancelled job never started');
  assert.equal(depthAfterCancel, 0, 'the cancelled job left the queue at once (arangojobs_queue_depth)');
});

test('a never-yielding /_admin/spin job is stopped, and every thread serves again afterwards', async () => {
  const jobId = await storeJob(server.url, 'GET', '/_admin/spin?duration=60');
  await waitForRunningJobs(server.url, 1);
  await cancelAndExpectGone(jobId);

  const metrics = await scrapeMetrics(server.url);
  assert.ok(metricValue(metrics, 'arangojobs_worker_restarts_total') >= 1, 'the spinning worker was replaced');
  assert.equal(metricValue(metrics, 'arangojobs_worker_threads'), THREADS);
  // Both threads take work again: with one job per worker, two running jobs need two workers.
  const sleepers = [
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=30'),
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=30'),
  ];
  await waitForRunningJobs(server.url, THREADS);
  for (const sleeper of sleepers) await cancelAndExpectGone(sleeper);
  assert.equal((await request(server.url, 'GET', '/_api/version')).status, 200);
});

test('cancelling a finished job keeps its result', async () => {
  const jobId = await storeJob(server.url, 'GET', '/_api/version');
  await waitForJobDone(server.url, jobId);
  assertResultTrue(await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`));
  const reply = await request(server.url, 'PUT', `/_api/job/${jobId}`);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get('x-arango-async-id'), jobId);
  assert.equal((parseJson(reply) as { server: string }).server, 'arango');
});

test('cancellations are timed in the cancel latency histogram and leave no job behind', async () => {
  const metrics = await scrapeMetrics(server.url);
  assert.ok(metricValue(metrics, 'arangojobs_cancel_latency_seconds_count') >= 4);
  assert.deepEqual(await listJobs(server.url, 'pending'), []);
  assert.equal(metricValue(metrics, 'arangojobs_jobs', { state: 'running' }), 0);
});
