/**
 * The job stores behind the JobStore seam: throughput of the job cycle and the durable
 * store's start-up.
 *
 *   node dist/bench/durable-store.js
 *
 * "cycle": add, finish with a 100-byte body, take (the fetch), 256 jobs in flight, each call
 * awaited before the next of its job, as the server drives them. "open": LmdbJobStore.open
 * on 1,000,000 stored results (the verifying child's read and the index rebuilt), and the
 * data file's bytes per stored job. Temp directories under os.tmpdir(), removed after.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Caller } from '../server/auth/index.js';
import type { JobStore, NewJob } from '../server/jobs/index.js';
import { LmdbJobStore } from '../server/stores/lmdb/index.js';
import { MemoryJobStore } from '../server/stores/memory/index.js';

const IN_FLIGHT = 256;
const CYCLE_JOBS = 200_000;
const OPEN_JOBS = 1_000_000;
const BODY = new Uint8Array(100).fill(7);
const HEADERS = ['content-type', 'application/json; charset=utf-8'];
const ALICE: Caller = { username: 'alice', superuser: false };

function newJob(jobId: number): NewJob {
  return {
    jobId, owner: 'alice', createdAtMs: 1000, retentionMs: 0, keepNoBody: false, idempotency: null, webhook: null, type: 'GET /bench',
    request: { method: 'POST', path: '/_api/cursor', query: '', headers: ['content-type', 'application/json'], body: BODY, user: null },
  };
}

/** Jobs per second of add → finish → take with IN_FLIGHT jobs at a time. */
async function cycleRate(store: JobStore, jobCount: number): Promise<number> {
  let nextJobId = 1;
  const startMs = performance.now();
  async function worker(): Promise<void> {
    while (nextJobId <= jobCount) {
      const jobId = nextJobId++;
      await store.add(newJob(jobId));
      await store.finish(jobId, { status: 200, headers: HEADERS, body: BODY }, 2000);
      const taken = await store.take(jobId, ALICE);
      if (taken?.result?.body?.length !== BODY.length) throw new Error(`job ${jobId} came back without its body`);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return Math.round((jobCount * 1000) / (performance.now() - startMs));
}

/** Stores `jobCount` done jobs (ids 1 up, owner alice, a 100-byte result), 10,000 calls in flight at a time. */
export async function fill(store: JobStore, jobCount: number): Promise<void> {
  for (let first = 1; first <= jobCount; first += 10_000) {
    const writes: Promise<unknown>[] = [];
    for (let jobId = first; jobId < first + 10_000 && jobId <= jobCount; jobId++) {
      writes.push(store.add(newJob(jobId)), store.finish(jobId, { status: 200, headers: HEADERS, body: BODY }, 2000));
    }
    await Promise.all(writes);
  }
}

export async function runDurableStoreBench(): Promise<Record<string, unknown>[]> {
  const root = mkdtempSync(join(tmpdir(), 'durable-store-bench-'));
  const rows: Record<string, unknown>[] = [];
  try {
    const memory = new MemoryJobStore();
    rows.push({ store: 'MemoryJobStore', measure: 'add+finish+take, 256 in flight', value: await cycleRate(memory, CYCLE_JOBS * 5), unit: 'jobs/s' });
    for (const waitForSync of [false, true]) {
      const store = await LmdbJobStore.open({ directory: join(root, `cycle-${waitForSync}`), waitForSync });
      const jobCount = waitForSync ? CYCLE_JOBS / 4 : CYCLE_JOBS;
      rows.push({ store: `LmdbJobStore${waitForSync ? ' waitForSync' : ''}`, measure: 'add+finish+take, 256 in flight', value: await cycleRate(store, jobCount), unit: 'jobs/s' });
      await store.close();
    }
    const directory = join(root, 'open');
    const filled = await LmdbJobStore.open({ directory });
    const fillStartMs = performance.now();
    await fill(filled, OPEN_JOBS);
    const fillMs = performance.now() - fillStartMs;
    await filled.close();
    const data = statSync(join(directory, 'data.mdb'));
    rows.push({ store: 'LmdbJobStore', measure: `fill: add+finish ${OPEN_JOBS} jobs, 10k in flight`, value: Math.round((OPEN_JOBS * 1000) / fillMs), unit: 'jobs/s' });
    rows.push({ store: 'LmdbJobStore', measure: 'data.mdb per stored job (100-byte body)', value: Math.round(data.size / OPEN_JOBS), unit: `bytes (${Math.round(data.blocks * 512 / OPEN_JOBS)} allocated)` });
    for (let run = 1; run <= 2; run++) {
      const openStartMs = performance.now();
      const reopened = await LmdbJobStore.open({ directory });
      const openMs = performance.now() - openStartMs;
      if (reopened.size !== OPEN_JOBS) throw new Error(`reopened with ${reopened.size} jobs`);
      rows.push({ store: 'LmdbJobStore', measure: `open with ${OPEN_JOBS} stored results (run ${run})`, value: Math.round(openMs), unit: 'ms' });
      await reopened.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await runDurableStoreBench());
}
