/**
 * How fast a cancelled job really stops, from `cancel(jobId)` to its final `cancelled` event:
 *
 *   node dist/bench/cancel.js
 *
 * - a cooperative handler awaiting `ctx.sleep` (woken through its worker's doorbell),
 * - a cooperative handler looping over `ctx.checkpoint()` without yielding (sees the abort slot),
 * - a handler that never yields (a tight loop, as `/_admin/spin`): its worker is terminated after the grace
 *   period and replaced; the pool must be back at full strength afterwards.
 *
 * Each job is cancelled while it runs, one cancellation at a time, so every sample is the
 * latency of one cancellation. Job counts: CANCEL_BENCH_JOBS (default 200) per cooperative
 * kind, CANCEL_BENCH_SPIN_JOBS (default 200) never-yielding jobs, one per thread at a time.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineHarness, MarkerDir, resultHeader } from '../engine/test-fixtures/engine-harness.js';
import { LatencySamples } from '../engine/test-fixtures/latency-samples.js';

const THREADS = availableParallelism();
const COOPERATIVE_JOBS = Number(process.env.CANCEL_BENCH_JOBS ?? 200);
const SPIN_JOBS = Number(process.env.CANCEL_BENCH_SPIN_JOBS ?? 200);
/** The engine's default. */
const CANCEL_GRACE_MS = 250;

export interface CancelRow {
  handler: string;
  jobs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface CancelResult {
  rows: CancelRow[];
  graceMs: number;
  threads: number;
  workerRestarts: number;
  /** Distinct threads that served the follow-up batch after the last termination. */
  followUpThreads: number;
  /** Time for the follow-up batch (2 short jobs per thread) to complete, ms. */
  followUpMs: number;
}

/**
 * Waits until the handlers of `jobIds` wrote their `started` markers. Neither the `running`
 * event nor `stats` would do: they say a worker took the job, and a cancel landing before the
 * worker starts it stops it there, which is not what is measured here.
 */
async function untilStarted(markers: MarkerDir, jobIds: number[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!jobIds.every((jobId) => existsSync(join(markers.path, `${jobId}-started`)))) {
    if (Date.now() > deadline) throw new Error(`jobs ${jobIds.join(', ')} not started after 30 s`);
    await sleep(1);
  }
}

/** Cancels `jobId` and returns the milliseconds until its final event, which must be `cancelled`. */
async function timeCancel(harness: EngineHarness, jobId: number): Promise<number> {
  const cancelledAt = performance.now();
  if (!harness.engine.cancel(jobId)) throw new Error(`job ${jobId} was not held`);
  const final = await harness.final(jobId);
  if (final.kind !== 'cancelled') throw new Error(`job ${jobId} ended ${final.kind}, not cancelled`);
  return final.atMs - cancelledAt;
}

function row(handler: string, samples: LatencySamples): CancelRow {
  const summary = samples.summary();
  return { handler, jobs: summary.count, p50Ms: summary.p50, p99Ms: summary.p99, maxMs: summary.max };
}

async function cooperative(harness: EngineHarness, markers: MarkerDir, path: string): Promise<LatencySamples> {
  const samples = new LatencySamples();
  for (let index = 0; index < COOPERATIVE_JOBS; index++) {
    const jobId = harness.submit('GET', path, { query: `ms=60000&${markers.query}` });
    await untilStarted(markers, [jobId]);
    samples.record(await timeCancel(harness, jobId));
  }
  return samples;
}

async function neverYielding(harness: EngineHarness, markers: MarkerDir): Promise<LatencySamples> {
  const samples = new LatencySamples();
  for (let started = 0; started < SPIN_JOBS; started += THREADS) {
    const round = Math.min(THREADS, SPIN_JOBS - started);
    // One per thread: the least loaded lane takes each.
    const jobIds = Array.from({ length: round }, () => harness.submit('GET', '/fixture/spin', { query: `ms=60000&${markers.query}` }));
    await untilStarted(markers, jobIds);
    const latencies = await Promise.all(jobIds.map((jobId) => timeCancel(harness, jobId)));
    for (const latency of latencies) samples.record(latency);
  }
  return samples;
}

export async function runCancelBench(): Promise<CancelResult> {
  const harness = await EngineHarness.start({ threads: THREADS, cancelGraceMs: CANCEL_GRACE_MS });
  const markers = new MarkerDir();
  try {
    const rows = [
      row('awaiting ctx.sleep', await cooperative(harness, markers, '/fixture/hold')),
      row('looping over ctx.checkpoint()', await cooperative(harness, markers, '/fixture/checkpoint-loop')),
    ];
    const restartsBefore = harness.engine.stats.workerRestarts;
    rows.push(row(`never yielding (grace ${CANCEL_GRACE_MS} ms)`, await neverYielding(harness, markers)));
    const workerRestarts = harness.engine.stats.workerRestarts - restartsBefore;

    const followUpStart = performance.now();
    const followUp = Array.from({ length: 2 * THREADS }, () => harness.submit('GET', '/fixture/hold', { query: 'ms=100' }));
    const finals = await Promise.all(followUp.map((jobId) => harness.final(jobId)));
    const followUpMs = performance.now() - followUpStart;
    if (finals.some((final) => final.kind !== 'done')) throw new Error('a follow-up job did not complete');
    const followUpThreads = new Set(finals.map((final) => resultHeader(final, 'x-thread-id'))).size;
    harness.assertEveryJobEndedOnce();
    return { rows, graceMs: CANCEL_GRACE_MS, threads: harness.engine.stats.threads, workerRestarts, followUpThreads, followUpMs };
  } finally {
    await harness.close();
    markers.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runCancelBench();
  console.log(`cancel(jobId) to the job's cancelled event, ${result.threads} threads, one cancellation at a time`);
  console.table(result.rows.map((entry) => ({
    handler: entry.handler,
    jobs: entry.jobs,
    'p50 ms': Number(entry.p50Ms.toFixed(2)),
    'p99 ms': Number(entry.p99Ms.toFixed(2)),
    'max ms': Number(entry.maxMs.toFixed(2)),
  })));
  console.log(`never-yielding jobs: ${result.workerRestarts} workers terminated and replaced; stats.threads ${result.threads}; `
    + `follow-up batch of ${2 * result.threads} jobs ran on ${result.followUpThreads} distinct threads in ${result.followUpMs.toFixed(0)} ms`);
}
