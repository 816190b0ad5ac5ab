/**
 * Memory per stored job: a million done, unfetched jobs with a 100-byte body each.
 *
 *   node dist/bench/memory.js
 *
 * Each store is filled in its own child process run with --expose-gc, so a full
 * collection can run before and after filling it and neither store's garbage or heap
 * growth shows up in the other's numbers. "Overhead" is what a job costs beyond its
 * 100 body bytes. The plain Map of result objects is the baseline the table replaces.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { StoredResult } from '../server/jobs/index.js';
import { MemoryJobTable } from '../server/stores/memory/index.js';

const JOB_COUNT = 1_000_000;
const BODY_BYTES = 100;
const USER_COUNT = 1000;
const TARGET_OVERHEAD_BYTES = 300;
const STORES = ['MemoryJobTable', 'plain Map of result objects'] as const;
type StoreName = (typeof STORES)[number];

interface StoreMemory {
  store: StoreName;
  jobs: number;
  'heap bytes/job': number;
  'external bytes/job': number;
  'rss bytes/job': number;
  /** Heap plus external (array buffers) beyond the body: what the store itself costs. */
  'overhead bytes/job': number;
  'rss overhead bytes/job': number;
}

/** Stand-in for the result the engine hands over: a fresh headers array and body per job. */
function resultOf(jobId: number): StoredResult {
  return {
    status: 200,
    headers: ['content-type', 'application/json; charset=utf-8'],
    body: new Uint8Array(BODY_BYTES).fill(jobId & 0xff),
  };
}

function fillTable(): unknown {
  const table = new MemoryJobTable();
  for (let jobId = 1; jobId <= JOB_COUNT; jobId++) {
    table.add(jobId, `user${jobId % USER_COUNT}`, jobId);
    table.finish(jobId, resultOf(jobId), jobId);
  }
  return table;
}

function fillPlainMap(): unknown {
  const jobs = new Map<number, { owner: string; state: string; createdAtMs: number; finishedAtMs: number; result: StoredResult }>();
  for (let jobId = 1; jobId <= JOB_COUNT; jobId++) {
    jobs.set(jobId, { owner: `user${jobId % USER_COUNT}`, state: 'done', createdAtMs: jobId, finishedAtMs: jobId, result: resultOf(jobId) });
  }
  return jobs;
}

function collectGarbage(): void {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('bench/memory needs node --expose-gc');
  gc();
  gc();
}

/** Runs in the child: fills one store and measures it. */
function measure(store: StoreName): StoreMemory {
  collectGarbage();
  const before = process.memoryUsage();
  const filled = store === 'MemoryJobTable' ? fillTable() : fillPlainMap();
  collectGarbage();
  const after = process.memoryUsage();
  const perJob = (bytes: number): number => Math.round(bytes / JOB_COUNT);
  const heap = perJob(after.heapUsed - before.heapUsed);
  const external = perJob(after.external - before.external);
  const rss = perJob(after.rss - before.rss);
  // Keeps the store reachable until after the second measurement.
  if (filled === undefined) throw new Error('nothing stored');
  return {
    store,
    jobs: JOB_COUNT,
    'heap bytes/job': heap,
    'external bytes/job': external,
    'rss bytes/job': rss,
    'overhead bytes/job': heap + external - BODY_BYTES,
    'rss overhead bytes/job': rss - BODY_BYTES,
  };
}

const execFileAsync = promisify(execFile);

async function measureInChild(store: StoreName): Promise<StoreMemory> {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--measure', store]);
  return JSON.parse(stdout) as StoreMemory;
}

/** Measures each store in a fresh `--expose-gc` child; `targetMet` checks the table's overhead, RSS included. */
export async function runMemoryBench(): Promise<Record<string, unknown>> {
  const [table, baseline] = [await measureInChild(STORES[0]), await measureInChild(STORES[1])];
  const worstOverhead = Math.max(table['overhead bytes/job'], table['rss overhead bytes/job']);
  return { bodyBytes: BODY_BYTES, targetOverheadBytes: TARGET_OVERHEAD_BYTES, targetMet: worstOverhead <= TARGET_OVERHEAD_BYTES, table, baseline };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const measureIndex = process.argv.indexOf('--measure');
  if (measureIndex !== -1) {
    const store = process.argv[measureIndex + 1];
    const known = STORES.find((name) => name === store);
    if (known === undefined) throw new TypeError(`--measure: unknown store ${store}; expected one of ${STORES.join(', ')}`);
    process.stdout.write(JSON.stringify(measure(known)));
  } else {
    const result = await runMemoryBench();
    console.log(`${JOB_COUNT} done, unfetched jobs with ${BODY_BYTES}-byte bodies, ${USER_COUNT} users`);
    console.table([result.table, result.baseline]);
    const table = result.table as StoreMemory;
    console.log(`target: at most ${TARGET_OVERHEAD_BYTES} bytes of overhead per job beyond the body: ${result.targetMet ? 'met' : 'NOT met'}` +
      ` (${table['overhead bytes/job']} bytes heap+external, ${table['rss overhead bytes/job']} bytes RSS)`);
  }
}
