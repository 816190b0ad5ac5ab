import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { delay, request, type Reply } from './helpers/http.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

const DURABLE_ROUTES = fileURLToPath(new URL('./fixtures/durable-routes.js', import.meta.url));
const ROUNDS = 10;
const CLIENTS = 12;

/** What the test knows of one job whose 202 arrived. */
interface KnownJob {
  jobId: string;
  /** The exact body its result must have. */
  expected: string;
  /** Its route is not idempotent: it may end failed ("server stopped"), never run twice. */
  once: boolean;
  /** 'open': not removed; 'removed': a fetch or delete was answered; 'maybe': one was sent and the answer lost. */
  state: 'open' | 'removed' | 'maybe';
}

async function storeRequest(server: ServerProcess, once: boolean, payload: string): Promise<Reply> {
  const path = once ? '/durable/once' : '/durable/echo';
  const body = once ? JSON.stringify({ marker: payload, holdMs: Math.floor(Math.random() * 40) }) : payload;
  return request(server.url, 'POST', path, { headers: { 'x-arango-async': 'store', 'content-type': 'application/json' }, body, timeoutMs: 10_000 });
}

/** The body a finished job answers with: the marker of /durable/once, or the echo of the payload. */
function expectedBody(once: boolean, payload: string): string {
  return once ? JSON.stringify({ marker: payload }) : payload;
}

/** Submits, fetches and deletes at random until the server dies under it. */
async function client(server: ServerProcess, jobs: Map<string, KnownJob>, round: number, index: number): Promise<void> {
  for (let n = 0; !server.child.killed; n++) {
    try {
      const roll = Math.random();
      const open = [...jobs.values()].filter((job) => job.state === 'open');
      if (roll < 0.6 || open.length === 0) {
        const once = Math.random() < 0.4;
        const payload = JSON.stringify({ round, index, n, pad: 'x'.repeat(Math.floor(Math.random() * 200)) });
        const reply = await storeRequest(server, once, payload);
        if (reply.status === 202) {
          const jobId = reply.headers.get('x-arango-async-id')!;
          assert.ok(!jobs.has(jobId), `job id ${jobId} was issued twice`);
          jobs.set(jobId, { jobId, expected: expectedBody(once, payload), once, state: 'open' });
        }
      } else {
        const job = open[Math.floor(Math.random() * open.length)];
        const remove = roll < 0.8;
        job.state = 'maybe';
        const reply = await request(server.url, remove ? 'DELETE' : 'PUT', `/_api/job/${job.jobId}`, { timeoutMs: 10_000 });
        if (reply.status === 204) job.state = 'open'; // still pending: nothing was removed
        else if (reply.status === 200) {
          if (!remove) assertResult(job, reply);
          job.state = 'removed';
        } else {
          assert.fail(`job ${job.jobId}: unexpected ${reply.status} ${reply.body}`);
        }
      }
    } catch (error) {
      // Killed under the request: its outcome is unknown, as it is to a real client.
      if (server.child.killed && !(error instanceof assert.AssertionError)) return;
      throw error;
    }
  }
}

function assertResult(job: KnownJob, reply: Reply): void {
  if (job.once && reply.status === 500) {
    assert.match(reply.body, /server stopped while this job ran/, `job ${job.jobId} failed for another reason`);
    return;
  }
  assert.equal(reply.status, 200, `job ${job.jobId}: ${reply.body}`);
  assert.equal(reply.body, job.expected, `job ${job.jobId} keeps its exact result`);
  assert.equal(reply.headers.get('x-arango-async-id'), job.jobId);
}

/** After a restart: every job is there with its exact result (or gone, if removed), then fetched. */
async function verifyAndCollect(server: ServerProcess, jobs: Map<string, KnownJob>): Promise<void> {
  for (const job of jobs.values()) {
    if (job.state === 'removed') {
      const reply = await request(server.url, 'GET', `/_api/job/${job.jobId}`);
      assert.equal(reply.status, 404, `job ${job.jobId} was fetched or deleted and must not come back`);
      continue;
    }
    let reply = await request(server.url, 'PUT', `/_api/job/${job.jobId}`);
    for (const deadline = Date.now() + 20_000; reply.status === 204 && Date.now() < deadline;) {
      await delay(20);
      reply = await request(server.url, 'PUT', `/_api/job/${job.jobId}`);
    }
    if (job.state === 'maybe' && reply.status === 404) {
      job.state = 'removed'; // its removal was committed before the crash
      continue;
    }
    assertResult(job, reply);
    job.state = 'removed';
  }
}

test('kill -9 at random moments under store/fetch/delete load, 10 times: nothing acknowledged is lost, nothing removed returns, no id repeats, nothing runs twice', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'durable-crash-'));
  const runLog = join(directory, '..', `${directory.split('/').pop()}-runs.log`);
  t.after(() => {
    rmSync(directory, { recursive: true, force: true });
    rmSync(runLog, { force: true });
  });
  process.env.DURABLE_RUN_LOG = runLog;
  const jobs = new Map<string, KnownJob>();
  let lastMaxId = 0n;
  let failedOnce = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const server = await startServer(['--database.directory', directory, '--server.handlers', DURABLE_ROUTES]);
    try {
      await verifyAndCollect(server, jobs);
      const clients = Array.from({ length: CLIENTS }, (_, index) => client(server, jobs, round, index));
      await delay(150 + Math.random() * 600);
      server.child.kill('SIGKILL');
      await Promise.all(clients);
      await server.exited;
    } finally {
      if (server.running) await server.stop('SIGKILL');
    }
    const ids = [...jobs.keys()].map(BigInt);
    const roundMax = ids.reduce((max, id) => (id > max ? id : max), 0n);
    assert.ok(roundMax >= lastMaxId, 'ids keep increasing across restarts');
    lastMaxId = roundMax;
  }
  const server = await startServer(['--database.directory', directory, '--server.handlers', DURABLE_ROUTES]);
  t.after(() => server.stop());
  await verifyAndCollect(server, jobs);
  const runs = readFileSync(runLog, 'utf8').split('\n').filter((line) => line !== '');
  const counts = new Map<string, number>();
  for (const marker of runs) counts.set(marker, (counts.get(marker) ?? 0) + 1);
  for (const [marker, count] of counts) assert.equal(count, 1, `the non-idempotent job ${marker} ran ${count} times`);
  for (const job of jobs.values()) if (job.once) failedOnce++;
  assert.ok(jobs.size > ROUNDS * 5, `the load acknowledged only ${jobs.size} jobs`);
  t.diagnostic(`${jobs.size} acknowledged jobs over ${ROUNDS} crashes; ${runs.length} runs of non-idempotent jobs (${failedOnce} submitted)`);
});
