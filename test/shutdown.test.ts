// SIGTERM and SIGINT: the server refuses new jobs but goes on answering, lets running jobs
// finish (or cancels them after --server.shutdown-timeout), waits for results that finished
// meanwhile to be collected, and exits 0.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertArangoError, parseJson, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, jobStatus, storeJob, waitForHeldJobs, waitForRunningJobs } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

const started: ServerProcess[] = [];

async function start(args: string[]): Promise<ServerProcess> {
  const server = await startServer(args);
  started.push(server);
  return server;
}

after(async () => {
  await Promise.all(started.filter((server) => server.running).map((server) => server.stop('SIGKILL')));
});

test('SIGTERM while jobs run: they finish, blocking clients get their answers, the process exits 0', async () => {
  // Nobody fetches the two stored results: the drain waits for them until its 3-second timeout.
  const server = await start(['--server.threads', '2', '--server.shutdown-timeout', '3000']);
  await storeJob(server.url, 'GET', '/_admin/sleep?duration=1.2');
  await storeJob(server.url, 'GET', '/_admin/steps?count=4&ms=300');
  const blocking = request(server.url, 'GET', '/_admin/sleep?duration=1.2');
  await waitForRunningJobs(server.url, 3);

  const exit = await server.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status; stderr: ${server.stderr}`);
  const reply = await blocking;
  assert.equal(reply.status, 200);
  assert.equal((parseJson(reply) as { duration: number }).duration, 1.2);
  const messages = server.logLines.map((line) => line.msg);
  assert.ok(messages.includes('stopping') && messages.includes('stopped'), messages.join(', '));
  await assert.rejects(request(server.url, 'GET', '/_api/version', { timeoutMs: 5000 }), 'no longer accepting connections');
});

test('during the drain new jobs get 503 while a result that finishes meanwhile can still be fetched', async () => {
  const server = await start(['--server.threads', '2', '--server.shutdown-timeout', '20000']);
  const jobId = await storeJob(server.url, 'GET', '/_admin/sleep?duration=1');
  await waitForRunningJobs(server.url, 1);
  server.child.kill('SIGTERM');
  await waitForLogLine(server, 'stopping');

  assertArangoError(await request(server.url, 'GET', '/_api/version', { headers: { 'x-arango-async': 'store' } }), 503, 30, 'shutdown in progress');
  assertArangoError(await request(server.url, 'GET', '/_api/version'), 503, 30);
  assert.equal(await jobStatus(server.url, jobId), 204, 'the job API still answers');
  const fetched = await fetchWhenFinished(server.url, jobId);
  assert.equal(fetched.status, 200, fetched.body);
  assert.equal((parseJson(fetched) as { duration: number }).duration, 1);

  // Collected: the server need not wait for the rest of its 20-second timeout.
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  const stopped = server.logLines.find((line) => line.msg === 'stopped');
  assert.equal(stopped?.droppedResults, 0);
});

test('the stopped line says how many unfetched results were dropped', async () => {
  const server = await start(['--server.threads', '1']);
  await fetchWhenFinished(server.url, await storeJob(server.url, 'GET', '/_api/version'));
  const unfetched = await storeJob(server.url, 'GET', '/_api/version');
  await waitFor(`job ${unfetched} to finish`, async () => ((await jobStatus(server.url, unfetched)) === 200 ? true : undefined));
  assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  assert.equal(server.logLines.find((line) => line.msg === 'stopped')?.droppedResults, 1);
});

async function waitForLogLine(server: ServerProcess, message: string): Promise<void> {
  await waitFor(`log line "${message}"`, async () => (server.logLines.some((line) => line.msg === message) ? true : undefined));
}

test('jobs still running at --server.shutdown-timeout are cancelled, even a never-yielding one; exit 0', async () => {
  const server = await start(['--server.threads', '2', '--server.shutdown-timeout', '300', '--job.cancel-grace', '100']);
  await storeJob(server.url, 'GET', '/_admin/spin?duration=60');
  const sleeping = request(server.url, 'GET', '/_admin/sleep?duration=60');
  const spinning = request(server.url, 'GET', '/_db/_system/_admin/spin?duration=60');
  // The second spin may wait behind the first one: it counts as long as the engine holds it.
  await waitForHeldJobs(server.url, 3);

  const exit = await server.stop('SIGTERM', 15_000);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status; stderr: ${server.stderr}`);
  // The clients waiting on cancelled jobs are told why rather than left hanging.
  assertArangoError(await sleeping, 503, 30, 'shutdown in progress');
  assertArangoError(await spinning, 503, 30, 'shutdown in progress');
});

test('SIGINT stops an idle server with exit 0', async () => {
  const server = await start(['--server.threads', '1']);
  assert.equal((await request(server.url, 'GET', '/_api/version')).status, 200);
  assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
});

test('SIGTERM sent as soon as the listening line appears still exits 0', async () => {
  // An orchestrator may signal the moment the server says it listens; the signal handlers must
  // be in place by then. Several servers at once make the race more likely to show.
  const exits = await Promise.all(Array.from({ length: 6 }, async () => (await start(['--server.threads', '1'])).stop('SIGTERM')));
  for (const exit of exits) assert.deepEqual(exit, { code: 0, signal: null }, `exit statuses: ${JSON.stringify(exits)}`);
});
