// Per-user shares: one user over a limit gets 429 with Retry-After and an ArangoDB-style body
// (errorNum 32, "resource limit exceeded"); other users go on as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nowSeconds, signJwt } from './helpers/credentials.js';
import { assertArangoError, bearerAuth, request, type Reply } from './helpers/http.js';
import { fetchWhenFinished, storeJob, waitForRunningJobs } from './helpers/jobs.js';
import { startServer } from './helpers/server-process.js';

const JWT_SECRET = 'limits-secret';
const AUTH_ARGS = ['--server.authentication', 'true', '--server.jwt-secret', JWT_SECRET, '--server.shutdown-timeout', '300'];

function userToken(username: string): Record<string, string> {
  return bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', preferred_username: username, exp: nowSeconds() + 3600 }));
}

const ALICE = userToken('alice');
const BOB = userToken('bob');
const SUPERUSER = bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', exp: nowSeconds() + 3600 }));

function assertLimited(reply: Reply, message: RegExp): void {
  assertArangoError(reply, 429, 32, message);
  const retryAfter = Number(reply.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${reply.headers.get('retry-after')}`);
}

function store(url: string, path: string, headers: Record<string, string>): Promise<Reply> {
  return request(url, 'GET', path, { headers: { ...headers, 'x-arango-async': 'store' } });
}

test('by default one user may take a quarter of the queue; the next user is still served', async (t) => {
  // One worker running one job at a time: everything after the first job waits in the queue.
  const server = await startServer([...AUTH_ARGS, '--server.threads', '1', '--server.worker-concurrency', '1', '--server.maximal-queue-size', '8']);
  t.after(() => server.stop());
  const sleeper = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30', ALICE);
  await waitForRunningJobs(server.url, 1, SUPERUSER);
  const queued = [await storeJob(server.url, 'GET', '/_api/version', ALICE), await storeJob(server.url, 'GET', '/_api/version', ALICE)];

  assertLimited(await store(server.url, '/_api/version', ALICE), /too many queued jobs/);
  assertLimited(await request(server.url, 'GET', '/_api/version', { headers: { ...ALICE, 'x-arango-async': 'true' } }), /too many queued jobs/);
  const bobs = await store(server.url, '/_api/version', BOB);
  assert.equal(bobs.status, 202, `bob is not limited by alice's share: ${bobs.body}`);

  // Once alice's queue drains she may submit again.
  assert.equal((await request(server.url, 'PUT', `/_api/job/${sleeper}/cancel`, { headers: ALICE })).status, 200);
  for (const jobId of queued) assert.equal((await fetchWhenFinished(server.url, jobId, ALICE)).status, 200);
  assert.equal((await store(server.url, '/_api/version', ALICE)).status, 202);
});

test('--server.max-stored-per-user bounds one user\'s unfetched results until some are fetched', async (t) => {
  const server = await startServer([...AUTH_ARGS, '--server.max-stored-per-user', '2']);
  t.after(() => server.stop());
  const first = await storeJob(server.url, 'GET', '/_api/version', ALICE);
  await storeJob(server.url, 'GET', '/_api/version', ALICE);
  assertLimited(await store(server.url, '/_api/version', ALICE), /too many stored jobs/);
  assert.equal((await request(server.url, 'GET', '/_api/version', { headers: ALICE })).status, 200, 'blocking requests store nothing');
  assert.equal((await store(server.url, '/_api/version', BOB)).status, 202);
  assert.equal((await fetchWhenFinished(server.url, first, ALICE)).status, 200);
  assert.equal((await store(server.url, '/_api/version', ALICE)).status, 202, 'a fetch makes room');
});

test('--server.rate-limit refuses a burst beyond its size, for that user only', async (t) => {
  const server = await startServer([...AUTH_ARGS, '--server.rate-limit', '5']);
  t.after(() => server.stop());
  const replies = await Promise.all(Array.from({ length: 20 }, () => request(server.url, 'GET', '/_api/version', { headers: ALICE })));
  const limited = replies.filter((reply) => reply.status === 429);
  assert.ok(limited.length > 0, `some of 20 at once are refused: ${replies.map((reply) => reply.status).join(',')}`);
  assert.ok(replies.filter((reply) => reply.status === 200).length >= 5, 'a burst of the rate is allowed');
  for (const reply of limited) assertLimited(reply, /rate limit exceeded/);
  assert.equal((await request(server.url, 'GET', '/_api/version', { headers: BOB })).status, 200);
});
