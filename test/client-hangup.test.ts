// Clients that hang up mid-upload, mid-job or mid-answer: the server never crashes, queues
// nothing for an unfinished upload, and cancels a blocking job whose client is gone.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { delay, parseJson, request, waitFor } from './helpers/http.js';
import { listJobs, metricValue, scrapeMetrics, transitions, waitForRunningJobs } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  // One worker running one job at a time: a job left running would hold up every later one.
  server = await startServer(['--server.threads', '1', '--server.worker-concurrency', '1', '--job.cancel-grace', '100']);
});

after(async () => {
  await server?.stop();
});

interface OpenRequest {
  request: http.ClientRequest;
  /** Resolves when the client side is gone (errors after `destroy()` are expected). */
  closed: Promise<void>;
}

function openRequest(method: string, path: string, headers: Record<string, string>): OpenRequest {
  const outgoing = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false });
  outgoing.on('error', () => { /* the hang-up below makes this request fail on purpose */ });
  const closed = new Promise<void>((resolve) => outgoing.on('close', () => resolve()));
  return { request: outgoing, closed };
}

async function queuedSoFar(): Promise<number> {
  return transitions(server.url, 'queued');
}

async function assertServerServes(): Promise<void> {
  const reply = await request(server.url, 'GET', '/_api/version');
  assert.equal(reply.status, 200);
  assert.equal((parseJson(reply) as { server: string }).server, 'arango');
}

test('hanging up mid-upload queues nothing and the server keeps serving', async () => {
  const queuedBefore = await queuedSoFar();
  for (const mode of [undefined, 'true', 'store']) {
    const asyncHeader: Record<string, string> = mode === undefined ? {} : { 'x-arango-async': mode };
    const announced = openRequest('POST', '/_admin/echo', { ...asyncHeader, 'content-length': '1000000' });
    announced.request.write(Buffer.alloc(64 * 1024, 0x61));
    const chunked = openRequest('POST', '/_db/_system/_admin/echo', { ...asyncHeader, 'transfer-encoding': 'chunked' });
    chunked.request.write(Buffer.alloc(16 * 1024, 0x62));
    await delay(100);
    announced.request.destroy();
    chunked.request.destroy();
    await Promise.all([announced.closed, chunked.closed]);
  }
  await delay(100);
  assert.equal(await queuedSoFar(), queuedBefore, 'no job was queued for an unfinished upload');
  assert.deepEqual(await listJobs(server.url, 'pending'), []);
  assert.deepEqual(await listJobs(server.url, 'done'), []);
  await assertServerServes();
});

test('hanging up on a blocking /_admin/sleep cancels the job', async () => {
  const cancelledBefore = await transitions(server.url, 'cancelled');
  const sleeper = openRequest('GET', '/_admin/sleep?duration=30', {});
  sleeper.request.end();
  await waitForRunningJobs(server.url, 1);
  sleeper.request.destroy();
  await sleeper.closed;

  await waitFor('the abandoned job to be cancelled', async () => ((await transitions(server.url, 'cancelled')) > cancelledBefore ? true : undefined), 10_000);
  await waitForRunningJobs(server.url, 0);
  // The only worker slot is free again: a follow-up job runs long before the 30 s sleep would end.
  const followUp = await request(server.url, 'GET', '/_admin/sleep?duration=0', { timeoutMs: 10_000 });
  assert.equal(followUp.status, 200);
});

test('hanging up on a blocking never-yielding /_admin/spin terminates it', async () => {
  const cancelledBefore = await transitions(server.url, 'cancelled');
  const spinner = openRequest('GET', '/_admin/spin?duration=60', {});
  spinner.request.end();
  await waitForRunningJobs(server.url, 1);
  spinner.request.destroy();
  await spinner.closed;

  await waitFor('the abandoned spin to be stopped', async () => ((await transitions(server.url, 'cancelled')) > cancelledBefore ? true : undefined), 15_000);
  const followUp = await request(server.url, 'GET', '/_admin/sleep?duration=0', { timeoutMs: 15_000 });
  assert.equal(followUp.status, 200);
  const metrics = await scrapeMetrics(server.url);
  assert.equal(metricValue(metrics, 'arangojobs_worker_threads'), 1);
});

test('hanging up while a large answer is being sent leaves the server serving', async () => {
  const body = 'z'.repeat(4 * 1024 * 1024);
  for (let attempt = 0; attempt < 3; attempt++) {
    const reader = openRequest('POST', '/_admin/echo', { 'content-length': String(body.length) });
    const gotHeaders = new Promise<void>((resolve) => reader.request.on('response', (incoming) => {
      // Read one chunk, then hang up with most of the answer still unsent.
      incoming.once('data', () => resolve());
    }));
    reader.request.end(body);
    await gotHeaders;
    reader.request.destroy();
    await reader.closed;
  }
  await assertServerServes();
});
