import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestCluster } from './helpers/cluster.js';
import { delay, request, waitFor } from './helpers/http.js';

/*
 * Redis restarted under load: two nodes take stored and blocking requests from 16 concurrent
 * clients while Redis restarts. Every answer is a 202 (stored), a 200 (blocking) or a 503 with
 * Retry-After; no node crashes or drops a connection; every stored job a client got a 202 for
 * is there afterwards with its result; and the cluster takes new work once Redis is back.
 */

const CLIENTS = 16;
const LOAD_MS = 4_000;
const RESTART_AT_MS = 1_500;

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start(2);
});
after(() => cluster?.stop());

test('Redis restarted under load: 503 + Retry-After meanwhile, nothing acknowledged lost, the nodes carry on', async (t) => {
  const stored: string[] = [];
  const statuses = new Map<string, number>();
  const count = (key: string): void => void statuses.set(key, (statuses.get(key) ?? 0) + 1);
  let restartedAt = Number.POSITIVE_INFINITY;
  let storedAfterRestart = 0;
  const endAt = Date.now() + LOAD_MS;
  const client = async (index: number): Promise<void> => {
    const node = cluster.nodes[index % cluster.nodes.length];
    for (let round = 0; Date.now() < endAt; round++) {
      if (round % 4 === 3) {
        const blocking = await request(node.url, 'GET', '/_api/version');
        count(`blocking ${blocking.status}`);
        assert.equal(blocking.status, 200, `a blocking request runs with or without Redis: ${blocking.body}`);
        continue;
      }
      const reply = await request(node.url, 'PUT', '/_api/version', { headers: { 'x-arango-async': 'store' } });
      count(`store ${reply.status}`);
      if (reply.status === 202) {
        stored.push(reply.headers.get('x-arango-async-id')!);
        if (Date.now() > restartedAt) storedAfterRestart++;
      } else {
        assert.equal(reply.status, 503, `stored: 202, or 503 while Redis is away; got ${reply.status} ${reply.body}`);
        assert.equal(reply.headers.get('retry-after'), '1');
        assert.equal(JSON.parse(reply.body).errorNum, 503);
        await delay(20);
      }
    }
  };
  const restart = (async () => {
    await delay(RESTART_AT_MS);
    await cluster.restartRedis({ graceful: true });
    restartedAt = Date.now();
  })();
  await Promise.all([...Array.from({ length: CLIENTS }, (_, index) => client(index)), restart]);

  const summary = JSON.stringify(Object.fromEntries(statuses));
  t.diagnostic(`answers: ${summary}`);
  assert.ok(stored.length > 50, `stored jobs under load: ${summary}`);
  assert.ok(storedAfterRestart > 0, `the nodes stored jobs again once Redis was back: ${summary}`);
  for (const [index, jobId] of stored.entries()) {
    const node = cluster.nodes[(index + 1) % cluster.nodes.length];
    const fetched = await waitFor(`job ${jobId}`, async () => {
      const reply = await request(node.url, 'PUT', `/_api/job/${jobId}`);
      return reply.status === 204 || reply.status === 503 ? undefined : reply;
    });
    assert.equal(fetched.status, 200, `job ${jobId}, acknowledged with a 202, kept its result (${summary})`);
  }
  for (const node of cluster.nodes) assert.equal((await request(node.url, 'GET', '/_api/version')).status, 200, 'every node still serves');
});
