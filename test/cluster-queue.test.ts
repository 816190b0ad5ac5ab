import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestCluster } from './helpers/cluster.js';
import { request } from './helpers/http.js';
import { fetchWhenFinished, storeJob, waitForRunningJobs } from './helpers/jobs.js';

/*
 * --server.maximal-queue-size is cluster-wide: with every worker of the cluster busy, the
 * shared queue takes that many jobs from all nodes together, then every node refuses async
 * requests as one server does (500, errorNum 21003), and the queued ones run once workers free up.
 */

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start(2, ['--server.threads', '1', '--server.worker-concurrency', '1', '--server.maximal-queue-size', '3']);
});
after(() => cluster?.stop());

test('the shared queue is bounded cluster-wide by --server.maximal-queue-size', async () => {
  const [a, b] = cluster.nodes;
  const blockers = [await storeJob(a.url, 'GET', '/_admin/sleep?duration=1.5'), await storeJob(b.url, 'GET', '/_admin/sleep?duration=1.5')];
  await waitForRunningJobs(a.url, 1);
  await waitForRunningJobs(b.url, 1);
  const queued = [
    await storeJob(a.url, 'GET', '/_api/version'),
    await storeJob(b.url, 'GET', '/_api/version'),
    await storeJob(a.url, 'GET', '/_api/version'),
  ];
  for (const [node, mode] of [[b, 'store'], [a, 'true']] as const) {
    const refused = await request(node.url, 'GET', '/_api/version', { headers: { 'x-arango-async': mode } });
    assert.equal(refused.status, 500, `x-arango-async: ${mode} with 3 jobs queued across the cluster: ${refused.body}`);
    assert.equal(JSON.parse(refused.body).errorNum, 21003);
  }
  const blocking = await request(b.url, 'GET', '/_api/version');
  assert.equal(blocking.status, 200, 'blocking requests are not queued in the shared queue');
  for (const jobId of [...blockers, ...queued]) assert.equal((await fetchWhenFinished(a.url, jobId)).status, 200);
  assert.equal((await request(b.url, 'GET', '/_api/version', { headers: { 'x-arango-async': 'store' } })).status, 202, 'room again');
});
