// Durable mode (`--database.directory`): what survives a restart or a kill -9, how unfinished
// jobs come back, and the clear errors of a directory the server cannot use.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertArangoError, delay, parseJson, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, storeJob, waitForRunningJobs } from './helpers/jobs.js';
import { assertProblem, call, submitOperation, waitForFinal } from './helpers/operations.js';
import { runServerToExit, startServer, type ServerLimits, type ServerProcess } from './helpers/server-process.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

const DURABLE_ROUTES = fileURLToPath(new URL('./fixtures/durable-routes.js', import.meta.url));

function freshDirectory(t: { after(fn: () => void): void }): string {
  const directory = mkdtempSync(join(tmpdir(), 'durable-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function durableServer(
  t: { after(fn: () => Promise<unknown>): void }, directory: string, args: string[] = [], limits: ServerLimits = {},
): Promise<ServerProcess> {
  const server = await startServer(['--database.directory', directory, '--server.handlers', DURABLE_ROUTES, ...args], limits);
  t.after(() => server.stop('SIGKILL'));
  return server;
}

function storeOnce(server: ServerProcess, marker: string, holdMs: number): Promise<string> {
  return storeJob(server.url, 'POST', '/durable/once', { 'content-type': 'application/json' }, JSON.stringify({ marker, holdMs }));
}

test('finished results survive kill -9 with their exact status, headers and body; fetched and deleted ones stay gone', async (t) => {
  const directory = freshDirectory(t);
  const first = await durableServer(t, directory);
  const kept = await storeJob(first.url, 'POST', '/durable/echo', { 'content-type': 'text/plain' }, 'keep me');
  const fetched = await storeJob(first.url, 'POST', '/durable/echo', {}, 'fetch me');
  const deleted = await storeJob(first.url, 'POST', '/durable/echo', {}, 'delete me');
  const large = await storeJob(first.url, 'POST', '/durable/echo', {}, 'L'.repeat(3_000_000));
  for (const jobId of [kept, fetched, deleted, large]) {
    await waitFor(`job ${jobId} done`, async () => ((await request(first.url, 'GET', `/_api/job/${jobId}`)).status === 200 ? true : undefined));
  }
  assert.equal((await request(first.url, 'PUT', `/_api/job/${fetched}`)).status, 200);
  assert.equal((await request(first.url, 'DELETE', `/_api/job/${deleted}`)).status, 200);
  const before = await request(first.url, 'GET', `/_api/job/${kept}`);
  assert.equal(before.status, 200);
  await first.stop('SIGKILL');

  const second = await durableServer(t, directory);
  const reply = await request(second.url, 'PUT', `/_api/job/${kept}`);
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'keep me');
  assert.equal(reply.headers.get('x-arango-async-id'), kept);
  const big = await request(second.url, 'PUT', `/_api/job/${large}`);
  assert.equal(big.body.length, 3_000_000, 'a large result comes back whole');
  assert.equal(big.body, 'L'.repeat(3_000_000));
  for (const gone of [fetched, deleted, kept]) assertArangoError(await request(second.url, 'PUT', `/_api/job/${gone}`), 404, 404);
  const newId = await storeJob(second.url, 'GET', '/_api/version');
  assert.ok(BigInt(newId) > BigInt(large), 'ids keep increasing across the restart');
});

test('after kill -9: queued jobs run again, a running idempotent job runs again, a running non-idempotent one ends failed "server stopped"', async (t) => {
  const directory = freshDirectory(t);
  const runLog = join(directory, 'runs.log');
  process.env.DURABLE_RUN_LOG = runLog;
  // One worker running one job at a time: the first job runs, the rest wait in the queue.
  const args = ['--server.threads', '1', '--server.worker-concurrency', '1'];
  const first = await durableServer(t, directory, args);
  const running = await storeOnce(first, 'running', 60_000);
  await waitForRunningJobs(first.url, 1);
  const queuedOnce = await storeOnce(first, 'queued', 0);
  const queuedSleep = await storeJob(first.url, 'GET', '/_admin/sleep?duration=0.01');
  await waitFor('the running job to leave its trace', async () => (existsSync(runLog) && readFileSync(runLog, 'utf8').includes('running') ? true : undefined));
  await first.stop('SIGKILL');

  const second = await durableServer(t, directory, args);
  const failed = await fetchWhenFinished(second.url, running);
  assertArangoError(failed, 500, 4, /server stopped while this job ran/);
  assert.equal(failed.headers.get('x-arango-async-id'), running);
  const rerun = await fetchWhenFinished(second.url, queuedOnce);
  assert.equal(rerun.status, 200);
  assert.deepEqual(parseJson(rerun), { marker: 'queued' });
  assert.equal((await fetchWhenFinished(second.url, queuedSleep)).status, 200);
  const runs = readFileSync(runLog, 'utf8').split('\n').filter((line) => line !== '');
  assert.deepEqual(runs.sort(), ['queued', 'running'], 'each non-idempotent job ran exactly once');
  delete process.env.DURABLE_RUN_LOG;
});

test('a running idempotent job runs again after kill -9 and keeps its id', async (t) => {
  const directory = freshDirectory(t);
  const first = await durableServer(t, directory);
  const jobId = await storeJob(first.url, 'GET', '/_admin/sleep?duration=30');
  await waitForRunningJobs(first.url, 1);
  await first.stop('SIGKILL');
  const second = await durableServer(t, directory);
  await waitForRunningJobs(second.url, 1);
  assert.equal((await request(second.url, 'GET', `/_api/job/${jobId}`)).status, 204, 'pending again: it runs');
  assert.deepEqual(await (await fetch(`${second.url}/_api/job/pending`)).json(), [jobId]);
  assert.equal((await request(second.url, 'PUT', `/_api/job/${jobId}/cancel`)).status, 200, 'and it can be cancelled as before');
  assert.equal((await fetchWhenFinished(second.url, jobId)).status, 410);
});

test('an Idempotency-Key names the same operation after a restart', async (t) => {
  const directory = freshDirectory(t);
  const first = await durableServer(t, directory);
  const key = { 'idempotency-key': 'report-2026-12' };
  const submitted = await submitOperation(first.url, '/_api/version', key);
  await waitForFinal(first.url, submitted.operationId);
  await first.stop(); // SIGTERM: a clean stop keeps everything too
  const second = await durableServer(t, directory);
  const replay = await submitOperation(second.url, '/_api/version', key);
  assert.equal(replay.operationId, submitted.operationId);
  const conflict = await request(second.url, 'POST', '/durable/echo', { headers: { ...key, prefer: 'respond-async' }, body: 'other' });
  assertProblem(conflict, 422);
});

test('an expired operation keeps its expiredAt across a restart', async (t) => {
  const directory = freshDirectory(t);
  const first = await durableServer(t, directory, ['--job.retention', '1']);
  const expiring = await submitOperation(first.url, '/_api/version');
  const gone = await waitFor('the operation to expire', async () => {
    const reply = await call(first.url, 'GET', `/_api/operations/${expiring.operationId}`);
    return reply.status === 410 ? assertProblem(reply, 410) : undefined;
  }, 10_000, 100);
  assert.equal(typeof gone.expiredAt, 'string');
  await first.stop('SIGKILL');
  const second = await durableServer(t, directory, ['--job.retention', '1']);
  const stillGone = assertProblem(await call(second.url, 'GET', `/_api/operations/${expiring.operationId}`), 410);
  assert.equal(stillGone.expiredAt, gone.expiredAt);
});

test('an undelivered webhook event is delivered after kill -9, under the same delivery id and its own secret', async (t) => {
  const directory = freshDirectory(t);
  const receiver = await WebhookReceiver.start([500]); // the first attempt fails; the retry waits its backoff
  t.after(() => receiver.close());
  const args = ['--webhook.allow', `127.0.0.1:${receiver.port}`, '--webhook.secret', 's3cret', '--webhook.allow-http', 'true'];
  const first = await durableServer(t, directory, args);
  const operation = await submitOperation(first.url, '/_api/version', {
    'x-callback-url': `http://127.0.0.1:${receiver.port}/hook`, 'x-callback-secret': 'own-secret',
  });
  const [failedAttempt] = await receiver.waitForDeliveries(1);
  await first.stop('SIGKILL'); // before the retry
  const second = await durableServer(t, directory, args);
  const [, resumed] = await receiver.waitForDeliveries(2, 20_000);
  assert.equal(resumed.answeredStatus, 200);
  assert.equal(resumed.headers['webhook-id'], failedAttempt.headers['webhook-id']);
  assert.equal(JSON.parse(resumed.rawBody.toString()).deliveryId, failedAttempt.headers['webhook-id'], 'the body says so too');
  const ownSignature = `sha256=${createHmac('sha256', 'own-secret').update(resumed.rawBody).digest('hex')}`;
  assert.equal(resumed.headers['x-webhook-signature'], ownSignature, 'signed with the x-callback-secret kept in the directory');
  assert.equal(JSON.parse(resumed.rawBody.toString()).operationId, operation.operationId);
  await delay(300);
  await second.stop();
  const third = await durableServer(t, directory, args);
  await delay(1500);
  assert.equal(receiver.received.length, 2, 'a delivered event is not sent again after the next restart');
  await third.stop();
});

test('a job with a webhook that may have run when the server was killed fails "server stopped" after the restart, and its FAILED webhook is delivered', async (t) => {
  const directory = freshDirectory(t);
  const receiver = await WebhookReceiver.start();
  t.after(() => receiver.close());
  const args = ['--webhook.allow', `127.0.0.1:${receiver.port}`, '--webhook.secret', 's3cret', '--webhook.allow-http', 'true'];
  const first = await durableServer(t, directory, args);
  const operation = await submitOperation(first.url, '/_admin/spin?duration=60', { 'x-callback-url': `http://127.0.0.1:${receiver.port}/hook` });
  await waitForRunningJobs(first.url, 1);
  await first.stop('SIGKILL');
  const second = await durableServer(t, directory, args);
  const [delivery] = await receiver.waitForDeliveries(1, 20_000);
  assert.equal(delivery.headers['x-operation-id'], operation.operationId);
  assert.equal(delivery.headers['x-webhook-event'], 'FAILED');
  assert.equal(JSON.parse(delivery.rawBody.toString()).operationId, operation.operationId);
  const { body } = await waitForFinal(second.url, operation.operationId);
  assert.equal(body.status, 'FAILED');
  await second.stop();
});

test('a second server on the same directory is refused at start, and may start once the first was killed', async (t) => {
  const directory = freshDirectory(t);
  const first = await durableServer(t, directory);
  const second = await runServerToExit(['--server.endpoint', 'tcp://127.0.0.1:0', '--database.directory', directory]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /^error: --database\.directory: .*(in use|locked)/m);
  assert.doesNotMatch(second.stderr, /at .*\.js:\d+/, 'one clear line, no stack trace');
  await first.stop('SIGKILL');
  const third = await durableServer(t, directory);
  assert.equal((await request(third.url, 'GET', '/_api/version')).status, 200);
});

test('a corrupt data file is a clear error at start, not a crash', async (t) => {
  const directory = freshDirectory(t);
  const first = await durableServer(t, directory);
  await storeJob(first.url, 'GET', '/_api/version');
  await first.stop();
  for (const name of readdirSync(directory).filter((file) => file.endsWith('.mdb'))) {
    writeFileSync(join(directory, name), Buffer.alloc(64 * 1024, 0x5a));
  }
  const run = await runServerToExit(['--server.endpoint', 'tcp://127.0.0.1:0', '--database.directory', directory]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^error: --database\.directory: .*(corrupt|damaged)/im);
});

test('a full disk answers 507 and loses nothing it had acknowledged', async (t) => {
  const directory = freshDirectory(t);
  // The data file may not grow past 4 MiB, as if the disk were full.
  const server = await durableServer(t, directory, [], { fileSizeLimitKb: 4096 });
  const body = 'B'.repeat(256 * 1024);
  const accepted: string[] = [];
  let full: Awaited<ReturnType<typeof request>> | undefined;
  for (let index = 0; index < 40 && full === undefined; index++) {
    const reply = await request(server.url, 'POST', '/durable/echo', { headers: { 'x-arango-async': 'store' }, body: `${index}:${body}` });
    if (reply.status === 202) {
      accepted.push(reply.headers.get('x-arango-async-id')!);
      await delay(20);
    } else {
      full = reply;
    }
  }
  assert.ok(full !== undefined, 'the store filled up');
  assertArangoError(full, 507, 32);
  assert.ok(accepted.length > 0);
  // What was acknowledged is still there; results that could not be written end pending or failed, never lost silently.
  const first = await request(server.url, 'PUT', `/_api/job/${accepted[0]}`);
  assert.equal(first.status, 200);
  assert.equal(first.body, `0:${body}`);
  assert.equal((await request(server.url, 'GET', '/_api/version')).status, 200, 'the server goes on serving');
});

test('--database.wait-for-sync true stores and fetches as the default does', async (t) => {
  const directory = freshDirectory(t);
  const server = await durableServer(t, directory, ['--database.wait-for-sync', 'true']);
  const jobId = await storeJob(server.url, 'POST', '/durable/echo', {}, 'synced');
  const reply = await fetchWhenFinished(server.url, jobId);
  assert.equal(reply.body, 'synced');
});

test('fire-and-forget jobs are not persisted: one running at kill -9 does not run again', async (t) => {
  const directory = freshDirectory(t);
  const runLog = join(directory, 'fire-runs.log');
  process.env.DURABLE_RUN_LOG = runLog;
  const first = await durableServer(t, directory);
  const reply = await request(first.url, 'POST', '/durable/once', {
    headers: { 'x-arango-async': 'true' }, body: JSON.stringify({ marker: 'fire', holdMs: 60_000 }),
  });
  assert.equal(reply.status, 202);
  await waitFor('the job to run', async () => (existsSync(runLog) && readFileSync(runLog, 'utf8').includes('fire') ? true : undefined));
  await first.stop('SIGKILL');
  const second = await durableServer(t, directory);
  await delay(500);
  assert.deepEqual(await (await fetch(`${second.url}/_api/job/pending`)).json(), []);
  assert.equal(readFileSync(runLog, 'utf8'), 'fire\n');
  delete process.env.DURABLE_RUN_LOG;
});

test('SIGTERM keeps the jobs the drain cut off unfinished on disk: they run again after the restart; a client cancel stays a cancel', async (t) => {
  const directory = freshDirectory(t);
  const args = ['--server.threads', '1', '--server.worker-concurrency', '1', '--server.shutdown-timeout', '200'];
  const first = await durableServer(t, directory, args);
  const running = await storeOnce(first, 'held', 60_000);
  await waitForRunningJobs(first.url, 1);
  const queued = await storeJob(first.url, 'POST', '/durable/echo', {}, 'after the restart');
  const cancelled = await storeJob(first.url, 'POST', '/durable/echo', {}, 'never');
  assert.equal((await request(first.url, 'PUT', `/_api/job/${cancelled}/cancel`)).status, 200);
  const exit = await first.stop('SIGTERM');
  assert.equal(exit.code, 0);
  const second = await durableServer(t, directory, args);
  const rerun = await fetchWhenFinished(second.url, queued);
  assert.equal(rerun.body, 'after the restart');
  assertArangoError(await fetchWhenFinished(second.url, running), 500, 4, /server stopped while this job ran/);
  assertArangoError(await request(second.url, 'PUT', `/_api/job/${cancelled}`), 410, 21);
});

test('credentials are never written to the directory: a stored request keeps no Authorization or Cookie header', async (t) => {
  const directory = freshDirectory(t);
  const server = await durableServer(t, directory);
  const jobId = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30', {
    authorization: 'Bearer secret-token-0451', cookie: 'session=secret-cookie-0451', 'x-trace': 'kept-header-0451',
  });
  await waitForRunningJobs(server.url, 1);
  await server.stop('SIGKILL');
  const bytes = Buffer.concat(readdirSync(directory).filter((name) => name.endsWith('.mdb')).map((name) => readFileSync(join(directory, name))));
  assert.ok(bytes.includes('kept-header-0451'), 'the request is stored, to run it again');
  assert.ok(!bytes.includes('secret-token-0451'), 'but not its Authorization header');
  assert.ok(!bytes.includes('secret-cookie-0451'), 'nor its Cookie header');
  const again = await durableServer(t, directory);
  await waitForRunningJobs(again.url, 1);
  assert.equal((await request(again.url, 'GET', `/_api/job/${jobId}`)).status, 204, 'and it runs again');
});
