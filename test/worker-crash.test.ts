// A handler that kills its worker (/_admin/crash) in the middle of other jobs: every other job
// finishes or fails with a clear error, none vanishes, and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertArangoError, parseJson, request, waitFor, type Reply } from './helpers/http.js';
import { fetchWhenFinished, listJobs, metricValue, scrapeMetrics, storeJob } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer(['--server.threads', '2']);
});

after(async () => {
  await server?.stop();
});

/** A finished job is its result (2xx) or an ArangoDB error with a message; never 204 or 404. */
function assertFinishedOrClearlyFailed(reply: Reply, jobId: string, what: string): void {
  assert.notEqual(reply.status, 404, `${what} (job ${jobId}) vanished`);
  assert.equal(reply.headers.get('x-arango-async-id'), jobId, `${what}: the fetched answer is the job's`);
  if (reply.status >= 200 && reply.status < 300) return;
  assert.ok(reply.status >= 500, `${what}: ${reply.status} ${reply.body}`);
  const body = parseJson(reply) as { error: boolean; errorNum: number; errorMessage: string };
  assert.equal(body.error, true);
  assert.equal(typeof body.errorNum, 'number');
  assert.ok(body.errorMessage.length > 0, `${what}: an error message`);
}

test('a worker crash amid stored jobs: each other job finishes or fails clearly, none vanishes', async () => {
  const restartsBefore = metricValue(await scrapeMetrics(server.url), 'arangojobs_worker_restarts_total');
  const jobs: { jobId: string; what: string }[] = [];
  const add = async (what: string, method: string, path: string, body?: string): Promise<void> => {
    jobs.push({ jobId: await storeJob(server.url, method, path, {}, body), what });
  };
  for (let index = 0; index < 4; index++) await add(`sleep ${index}`, 'GET', '/_admin/sleep?duration=0.8');
  await add('steps', 'GET', '/_admin/steps?count=5&ms=100');
  await add('spin', 'GET', '/_admin/spin?duration=0.3');
  await add('echo', 'POST', '/_admin/echo', 'still here');
  const crashId = await storeJob(server.url, 'GET', '/_admin/crash');
  for (let index = 0; index < 3; index++) await add(`later sleep ${index}`, 'GET', '/_admin/sleep?duration=0.2');
  await add('later version', 'GET', '/_db/_system/_api/version');

  await waitFor('every job to end', async () => ((await listJobs(server.url, 'pending')).length === 0 ? true : undefined), 30_000);
  const crashed = await fetchWhenFinished(server.url, crashId);
  assertArangoError(crashed, 500, 4, /worker/);
  assert.equal(crashed.headers.get('x-arango-async-id'), crashId);
  for (const { jobId, what } of jobs) assertFinishedOrClearlyFailed(await fetchWhenFinished(server.url, jobId), jobId, what);

  const metrics = await scrapeMetrics(server.url);
  assert.ok(metricValue(metrics, 'arangojobs_worker_restarts_total') > restartsBefore, 'the crashed worker was replaced');
  assert.equal(metricValue(metrics, 'arangojobs_worker_threads'), 2);
});

test('a blocking request that crashes its worker gets a 500, and concurrent requests all get answers', async () => {
  const others = Array.from({ length: 6 }, (_, index) => request(server.url, 'GET', `/_admin/sleep?duration=0.${index + 2}`));
  const crashed = await request(server.url, 'GET', '/_admin/crash');
  assertArangoError(crashed, 500, 4, /worker/);
  for (const reply of await Promise.all(others)) {
    assert.ok(reply.status === 200 || reply.status >= 500, `${reply.status} ${reply.body}`);
    if (reply.status !== 200) assert.ok((parseJson(reply) as { errorMessage: string }).errorMessage.length > 0);
  }
});

test('after the crashes the server serves in every mode', async () => {
  const blocking = await request(server.url, 'GET', '/_api/version');
  assert.equal(blocking.status, 200);
  const jobId = await storeJob(server.url, 'POST', '/_admin/echo', {}, 'after the crash');
  const fetched = await fetchWhenFinished(server.url, jobId);
  assert.equal(fetched.status, 200);
  assert.equal((parseJson(fetched) as { body: string }).body, 'after the crash');
  assert.equal((await request(server.url, 'GET', '/_api/version', { headers: { 'x-arango-async': 'true' } })).status, 202);
});
