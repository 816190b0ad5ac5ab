// --server.maximal-queue-size: once that many jobs wait (queued, not yet running), a new async
// request is refused with HTTP 500, errorNum 21003 ("named queue is full"), and nothing is queued.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { assertArangoError, assertResultTrue, request } from './helpers/http.js';
import { fetchWhenFinished, jobStatus, listJobs, metricValue, scrapeMetrics, storeJob, waitForRunningJobs } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer(['--server.threads', '1', '--server.worker-concurrency', '1', '--server.maximal-queue-size', '2']);
});

// A failed test must not leave a 30-second sleeper holding the only worker.
afterEach(async () => {
  for (const jobId of await listJobs(server.url, 'pending')) await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`);
  await waitForRunningJobs(server.url, 0);
  await request(server.url, 'DELETE', '/_api/job/all');
});

after(async () => {
  await server?.stop();
});

async function queueDepth(): Promise<number> {
  return metricValue(await scrapeMetrics(server.url), 'arangojobs_queue_depth');
}

test('a full queue refuses async requests with 500 errorNum 21003 and queues nothing', async () => {
  // The only worker slot is taken by a sleeping job; two more jobs fill the queue.
  const blocker = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  const queued = [
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=0'),
    await storeJob(server.url, 'POST', '/_db/_system/_admin/echo', {}, 'second in line'),
  ];
  assert.equal(await queueDepth(), 2);

  for (const mode of ['store', 'true']) {
    for (const [method, path] of [['GET', '/_api/version'], ['POST', '/_db/_system/_admin/echo']]) {
      const reply = await request(server.url, method, path, { headers: { 'x-arango-async': mode }, body: method === 'POST' ? 'refused' : undefined });
      assertArangoError(reply, 500, 21003, 'named queue is full');
      assert.equal(reply.headers.get('x-arango-async-id'), null);
    }
  }
  assert.equal(await queueDepth(), 2, 'the refused requests were not queued');
  assert.deepEqual(await listJobs(server.url, 'pending'), [blocker, ...queued]);
  assert.deepEqual(await listJobs(server.url, 'done'), []);

  // The job API keeps answering while the queue is full, and freeing the worker drains the queue.
  assertResultTrue(await request(server.url, 'PUT', `/_api/job/${blocker}/cancel`));
  assertArangoError(await fetchWhenFinished(server.url, blocker), 410, 21);
  for (const jobId of queued) {
    const reply = await fetchWhenFinished(server.url, jobId);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-arango-async-id'), jobId);
  }

  const accepted = await storeJob(server.url, 'GET', '/_api/version');
  assert.equal((await fetchWhenFinished(server.url, accepted)).status, 200);
});

test('cancelled queued jobs give their places in the queue back at once', async () => {
  const blocker = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30');
  await waitForRunningJobs(server.url, 1);
  const queued = [
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=0'),
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=0'),
  ];
  for (const jobId of queued) {
    assertResultTrue(await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`));
    assertArangoError(await fetchWhenFinished(server.url, jobId), 410, 21);
  }
  // Both are gone for good (their fetch said so), so the queue is empty while the blocker runs.
  const reply = await request(server.url, 'GET', '/_api/version', { headers: { 'x-arango-async': 'store' } });
  assert.equal(reply.status, 202, `a new async request is accepted, got ${reply.status} ${reply.body}`);
  assert.equal(await queueDepth(), 1, 'arangojobs_queue_depth counts only the new job');
  assert.equal(await jobStatus(server.url, blocker), 204);
});
