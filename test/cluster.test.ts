import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestCluster } from './helpers/cluster.js';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { assertResultTrue, basicAuth, delay, parseJson, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, JOB_ID, listJobs, storeJob } from './helpers/jobs.js';
import { call, submitOperation, waitForFinal } from './helpers/operations.js';

/*
 * Several nodes on one Redis answer as one server: a job stored at one node is known at every
 * other, lists and bulk deletes cover the whole cluster, and ownership is the same everywhere.
 */

let users: UsersFile;
let cluster: TestCluster;
const ALICE = basicAuth('alice', 'alice-pw');
const BOB = basicAuth('bob', 'bob-pw');
const ROOT = basicAuth('root', 'root-pw');

before(async () => {
  users = await makeUsersFile([
    { username: 'alice', password: 'alice-pw' }, { username: 'bob', password: 'bob-pw' }, { username: 'root', password: 'root-pw' },
  ]);
  // appendfsync always: the outage test kills Redis right after a write it acknowledged, and only
  // with always does Redis promise to keep it (with everysec a busy disk may delay the write by up
  // to 2 s, past the kill: the README's settings say so).
  cluster = await TestCluster.start(3, ['--server.authentication', 'true', '--server.users', users.path, '--server.jwt-secret', 'cluster-secret'], { appendFsync: 'always' });
});
after(async () => {
  await cluster?.stop();
  await users?.remove();
});

test('a job stored at node A is pending at B, fetched at C exactly once, and gone everywhere after', async () => {
  const [a, b, c] = cluster.nodes;
  // 2 s: still pending when B looks, even on a machine busy with other tests.
  const jobId = await storeJob(a.url, 'GET', '/_admin/sleep?duration=2', ALICE);
  assert.match(jobId, JOB_ID);
  assert.ok(Number(jobId) < 2 ** 53 && Number(jobId) > Date.now() * 1000 - 60_000_000, 'a decimal id from the shared counter');
  assert.equal((await request(b.url, 'GET', `/_api/job/${jobId}`, { headers: ALICE })).status, 204, 'pending, seen from B');
  const fetched = await fetchWhenFinished(c.url, jobId, ALICE);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.headers.get('x-arango-async-id'), jobId);
  assert.equal((parseJson(fetched) as { duration: number }).duration, 2);
  for (const node of cluster.nodes) {
    assert.equal((await request(node.url, 'PUT', `/_api/job/${jobId}`, { headers: ALICE })).status, 404, `fetched once: gone at ${node.url}`);
  }
});

test('ids are unique across nodes submitting at once', async () => {
  const ids = await Promise.all(Array.from({ length: 60 }, (_, index) => storeJob(cluster.nodes[index % 3].url, 'GET', '/_api/version', BOB)));
  assert.equal(new Set(ids).size, ids.length);
  await Promise.all(ids.map((jobId, index) => fetchWhenFinished(cluster.nodes[(index + 1) % 3].url, jobId, BOB)));
});

test('lists and bulk deletes are cluster-wide, and each user sees only their own jobs at every node', async () => {
  const [a, b, c] = cluster.nodes;
  const aliceJobs = [await storeJob(a.url, 'GET', '/_api/version', ALICE), await storeJob(b.url, 'GET', '/_api/version', ALICE)];
  const bobJobs = [await storeJob(c.url, 'GET', '/_api/version', BOB), await storeJob(a.url, 'GET', '/_api/version', BOB)];
  for (const jobId of [...aliceJobs, ...bobJobs]) {
    await waitFor(`job ${jobId} done`, async () => ((await request(b.url, 'GET', `/_api/job/${jobId}`, { headers: ROOT })).status === 200 ? true : undefined));
  }
  for (const node of cluster.nodes) {
    assert.deepEqual((await listJobs(node.url, 'done', ALICE)).sort(), [...aliceJobs].sort(), `alice's list at ${node.url}`);
    assert.deepEqual((await listJobs(node.url, 'done', BOB)).sort(), [...bobJobs].sort(), `bob's list at ${node.url}`);
    assert.equal((await request(node.url, 'GET', `/_api/job/${aliceJobs[0]}`, { headers: BOB })).status, 404, 'another user\'s job does not exist');
  }
  const all = await listJobs(c.url, 'done', ROOT);
  for (const jobId of [...aliceJobs, ...bobJobs]) assert.ok(all.includes(jobId), 'a superuser sees every user\'s jobs');
  assertResultTrue(await request(c.url, 'DELETE', '/_api/job/all', { headers: ALICE }));
  assert.deepEqual(await listJobs(a.url, 'done', ALICE), [], 'alice\'s jobs of every node are gone');
  assert.deepEqual((await listJobs(b.url, 'done', BOB)).sort(), [...bobJobs].sort(), 'bob\'s are untouched');
  assertResultTrue(await request(a.url, 'DELETE', `/_api/job/expired?stamp=${Date.now() / 1000 + 10}`, { headers: BOB }));
  assert.deepEqual(await listJobs(c.url, 'done', BOB), []);
});

test('the operations surface answers for a job of another node: status, result, history, Idempotency-Key', async () => {
  const [a, b, c] = cluster.nodes;
  const headers = { ...ALICE, 'idempotency-key': 'report-42' };
  const submitted = await submitOperation(a.url, '/_admin/steps?count=3&ms=20', headers);
  const replay = await submitOperation(b.url, '/_admin/steps?count=3&ms=20', headers);
  assert.equal(replay.operationId, submitted.operationId, 'the same key at another node names the same operation');
  const final = await waitForFinal(c.url, submitted.operationId, ALICE);
  assert.equal(final.body.status, 'COMPLETED');
  assert.equal((await call(b.url, 'GET', `/_api/operations/${submitted.operationId}/result`, ALICE)).status, 200);
  const history = parseJson(await request(c.url, 'GET', '/_api/operations?limit=5', { headers: ALICE })) as { data: Array<{ operationId: string }> };
  assert.ok(history.data.some((item) => item.operationId === submitted.operationId), 'in the history at another node');
  assert.equal((await call(c.url, 'GET', `/_api/operations/${submitted.operationId}`, BOB)).status, 404, 'not bob\'s');
});

test('Redis down: requests that need it answer 503 with Retry-After, blocking ones keep running; back up, nothing acknowledged is lost', async () => {
  const [a, b] = cluster.nodes;
  const kept = await storeJob(a.url, 'GET', '/_api/version', ALICE);
  await waitFor('kept job done', async () => ((await request(a.url, 'GET', `/_api/job/${kept}`, { headers: ALICE })).status === 200 ? true : undefined));
  // Finishes while Redis is down: its outcome is written once Redis is back.
  const through = await storeJob(a.url, 'GET', '/_admin/sleep?duration=0.3', ALICE);
  await cluster.redis.kill();
  try {
    const refused = await request(b.url, 'GET', '/_api/version', { headers: { ...ALICE, 'x-arango-async': 'store' } });
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.headers.get('retry-after'), '1');
    const error = parseJson(refused) as { error: boolean; code: number; errorNum: number; errorMessage: string };
    assert.equal(error.error, true);
    assert.equal(error.code, 503);
    assert.match(error.errorMessage, /job store is unavailable/);
    assert.equal((await request(a.url, 'GET', `/_api/job/${kept}`, { headers: ALICE })).status, 503);
    const blocking = await request(a.url, 'GET', '/_api/version', { headers: ALICE });
    assert.equal(blocking.status, 200, 'a blocking request runs without Redis');
  } finally {
    await delay(200);
    await cluster.restartRedis();
  }
  const fetched = await waitFor('Redis back', async () => {
    const reply = await request(b.url, 'PUT', `/_api/job/${kept}`, { headers: ALICE });
    return reply.status === 503 ? undefined : reply;
  });
  assert.equal(fetched.status, 200, 'the job stored before the outage survived it (AOF)');
  const finishedThrough = await fetchWhenFinished(b.url, through, ALICE);
  assert.equal(finishedThrough.status, 200, 'a job that finished during the outage kept its result');
  const after = await storeJob(b.url, 'GET', '/_api/version', ALICE);
  assert.equal((await fetchWhenFinished(a.url, after, ALICE)).status, 200, 'and the cluster carries on');
});

test('an id never stored answers the same at every node, also to a superuser: 404, whatever each node ran', async () => {
  const [a, b, c] = cluster.nodes;
  // Blocking requests take ids of A's own engine (1, 2, 3, ...), which are not stored jobs' ids.
  for (let index = 0; index < 3; index++) assert.equal((await request(a.url, 'GET', '/_api/version', { headers: ROOT })).status, 200);
  for (const node of [a, b, c]) {
    const reply = await call(node.url, 'GET', '/_api/operations/2', ROOT);
    assert.equal(reply.status, 404, `at ${node.url}: ${reply.body}`);
  }
});
