import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestCluster } from './helpers/cluster.js';
import { delay, parseJson, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, metricValue, scrapeMetrics, storeJob, waitForRunningJobs } from './helpers/jobs.js';

/*
 * Work moves between nodes: a busy node's stored jobs go to the shared queue and idle nodes run
 * them; a cancel reaches the node that runs the job; a killed node's jobs are taken over. Each
 * node has one worker running one job at a time, so "busy" is one job.
 */

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start(3, ['--server.threads', '1', '--server.worker-concurrency', '1', '--job.cancel-grace', '200']);
});
after(() => cluster?.stop());

const nodeOf = (reply: { headers: Headers }): string | null => reply.headers.get('x-arango-async-node');

test('idle nodes run the jobs submitted to a busy one; the result says which node ran it', async () => {
  const [a, b] = cluster.nodes;
  const ids: string[] = [];
  for (let index = 0; index < 6; index++) ids.push(await storeJob(a.url, 'GET', '/_admin/sleep?duration=0.4'));
  const ranOn = new Set<string>();
  for (const jobId of ids) {
    const fetched = await fetchWhenFinished(b.url, jobId);
    assert.equal(fetched.status, 200);
    ranOn.add(nodeOf(fetched) ?? 'none');
  }
  assert.ok(ranOn.has('node-a'), `A ran the one it had room for: ${[...ranOn]}`);
  assert.ok(ranOn.has('node-b') || ranOn.has('node-c'), `the others ran on idle nodes: ${[...ranOn]}`);
});

test('fire-and-forget requests to a busy node run on the idle ones', async () => {
  const [a, b, c] = cluster.nodes;
  const done = async (node: typeof a): Promise<number> => metricValue(await scrapeMetrics(node.url), 'arangojobs_job_transitions_total', { kind: 'done' });
  const blocker = await storeJob(a.url, 'GET', '/_admin/sleep?duration=1.5');
  await waitForRunningJobs(a.url, 1);
  const before = await done(b) + await done(c);
  const doneAtA = await done(a);
  for (let index = 0; index < 4; index++) {
    const fired = await request(a.url, 'GET', '/_admin/sleep?duration=0.05', { headers: { 'x-arango-async': 'true' } });
    assert.equal(fired.status, 202);
  }
  await waitFor('B and C ran the four', async () => (await done(b) + await done(c) >= before + 4 ? true : undefined));
  assert.equal(await done(a), doneAtA, 'A, busy, ran none of them');
  assert.equal((await fetchWhenFinished(b.url, blocker)).status, 200);
});

test('cancel at C of a never-yielding job running on A stops it, and A runs jobs again', async () => {
  const [a, , c] = cluster.nodes;
  const jobId = await storeJob(a.url, 'GET', '/_admin/spin?duration=60');
  await waitForRunningJobs(a.url, 1);
  const restartsBefore = metricValue(await scrapeMetrics(a.url), 'arangojobs_worker_restarts_total');
  const cancelled = await request(c.url, 'PUT', `/_api/job/${jobId}/cancel`);
  assert.equal(cancelled.status, 200, cancelled.body);
  const fetched = await waitFor('the cancelled job', async () => {
    const reply = await request(c.url, 'PUT', `/_api/job/${jobId}`);
    return reply.status === 204 ? undefined : reply;
  }, 15_000);
  assert.equal(fetched.status, 410, 'cancelled');
  await waitForRunningJobs(a.url, 0);
  await waitFor('A\'s worker replaced', async () =>
    metricValue(await scrapeMetrics(a.url), 'arangojobs_worker_restarts_total') > restartsBefore ? true : undefined);
  const next = await request(a.url, 'GET', '/_api/version');
  assert.equal(next.status, 200, 'A\'s pool is back to full strength');
});

test('cancel at B of a job still waiting in the shared queue ends it cancelled before it runs', async () => {
  const [a, b] = cluster.nodes;
  // Every worker busy: the next stored job waits in the queue.
  const blockers = await Promise.all(cluster.nodes.map((node) => storeJob(node.url, 'GET', '/_admin/sleep?duration=1.5')));
  await delay(200);
  const waiting = await storeJob(a.url, 'GET', '/_admin/sleep?duration=0.1');
  assert.equal((await request(b.url, 'PUT', `/_api/job/${waiting}/cancel`)).status, 200);
  const fetched = await waitFor('cancelled', async () => {
    const reply = await request(b.url, 'PUT', `/_api/job/${waiting}`);
    return reply.status === 204 ? undefined : reply;
  });
  assert.equal(fetched.status, 410);
  for (const jobId of blockers) assert.equal((await fetchWhenFinished(b.url, jobId)).status, 200);
});

test('kill -9 of a node: its idempotent jobs finish elsewhere, the others fail "node lost", none stays pending', async () => {
  const [, b] = cluster.nodes;
  // A fourth node, to kill, running one idempotent job and one that is not.
  const doomed = await cluster.startNode(3, ['--server.threads', '2']);
  const idempotent = await storeJob(doomed.url, 'GET', '/_admin/sleep?duration=30');
  const once = await storeJob(doomed.url, 'GET', '/_admin/spin?duration=30');
  await waitForRunningJobs(doomed.url, 2);
  const killedAt = Date.now();
  await doomed.stop('SIGKILL');
  const failed = await waitFor('the non-idempotent job failed', async () => {
    const reply = await request(b.url, 'GET', `/_api/job/${once}`);
    return reply.status === 200 ? reply : undefined;
  }, 25_000, 200);
  assert.ok(Date.now() - killedAt < 15_000 + 5_000, 'within the lease and 5 s');
  const fetched = await request(b.url, 'PUT', `/_api/job/${once}`);
  assert.equal(fetched.status, 500);
  assert.match((parseJson(fetched) as { errorMessage: string }).errorMessage, /node lost/);
  assert.ok(failed);
  // The idempotent one runs again elsewhere (30 s sleep: cancel it there once it runs, which also shows it moved).
  await waitFor('the idempotent job running on another node', async () => {
    const status = await request(b.url, 'GET', `/_api/job/${idempotent}`);
    if (status.status !== 204) return undefined;
    let running = 0;
    for (const node of cluster.nodes.slice(0, 3)) running += metricValue(await scrapeMetrics(node.url), 'arangojobs_jobs', { state: 'running' });
    return running > 0 ? true : undefined;
  }, 25_000, 200);
  await request(b.url, 'PUT', `/_api/job/${idempotent}/cancel`);
  const ended = await waitFor('the idempotent job ended', async () => {
    const reply = await request(b.url, 'PUT', `/_api/job/${idempotent}`);
    return reply.status === 204 ? undefined : reply;
  });
  assert.equal(ended.status, 410, 'it was running on a live node, which cancelled it');
  const pending = parseJson(await request(b.url, 'GET', '/_api/job/pending')) as string[];
  assert.ok(!pending.includes(idempotent) && !pending.includes(once), 'none stays pending');
  cluster.nodes.length = 3;
});
