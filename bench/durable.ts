/**
 * Durable mode against memory mode (issue 10), in one run:
 *
 *   node dist/bench/durable.js
 *
 * 1. store + fetch: the `store-fetch` load scenario (50 connections, `GET /_api/version` stored
 *    with `x-arango-async: store`, then fetched) against a memory server and a server with
 *    `--database.directory`, each fresh, alternated (memory, durable, memory, durable) so that
 *    drift on a shared machine bills both; ops/s and server CPU µs per operation from /proc.
 *    Also `--database.wait-for-sync true` once, for what an fsync per commit costs.
 * 2. start-up: DURABLE_BENCH_RESULTS (default 1,000,000) finished jobs with a 100-byte result
 *    written into a directory with the store itself (durable-store.ts's fill), `sync` so that the fill's writeback does
 *    not bill the start, then the time from spawning the server on it to its first answer
 *    (the median of 3 starts), and the directory's bytes per stored job.
 *
 * Bars: durable store + fetch at least 50 % of memory mode's ops/s; start-up with 1M stored
 * results under 3 s. Linux only (CPU from /proc); about 60-90 s in all.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printJsonWhenRunDirectly } from './report/standalone.js';
import { loadTargetCommand, runLoad, ServerProcess, type LoadResult } from './load/index.js';
import { LmdbJobStore } from '../server/stores/lmdb/index.js';
import { fill } from './durable-store.js';

const THREADS = 2;
const CONNECTIONS = 50;
const LOAD_SECONDS = Number(process.env.DURABLE_BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 1;
const RESULTS = Number(process.env.DURABLE_BENCH_RESULTS ?? 1_000_000);
const SERVER_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));

export interface DurableLoadRun {
  mode: 'memory' | 'durable' | 'durable, wait-for-sync';
  operationsPerSecond: number;
  cpuMicrosPerOperation: number | null;
  p50Ms: number;
  p99Ms: number;
  failedOperations: number;
}

export interface DurableBenchResult {
  load: DurableLoadRun[];
  /** Mean durable ops/s over mean memory ops/s. */
  durableOverMemory: number;
  startup: {
    storedResults: number;
    fillSeconds: number;
    /** Spawn to the first answered request. */
    startupSeconds: number;
    diskBytes: number;
    bytesPerJob: number;
  };
}

async function measure(mode: DurableLoadRun['mode']): Promise<DurableLoadRun> {
  const directory = mode === 'memory' ? undefined : mkdtempSync(join(tmpdir(), 'durable-bench-'));
  const args = directory === undefined ? [] : ['--database.directory', directory, ...(mode === 'durable' ? [] : ['--database.wait-for-sync', 'true'])];
  const server = await ServerProcess.start(loadTargetCommand('server', THREADS, args));
  try {
    const options = { url: server.url, scenario: 'store-fetch' as const, connections: CONNECTIONS };
    await runLoad({ ...options, durationSeconds: WARMUP_SECONDS });
    const result: LoadResult = await runLoad({ ...options, durationSeconds: LOAD_SECONDS, serverPid: server.pid });
    return {
      mode,
      operationsPerSecond: result.operationsPerSecond,
      cpuMicrosPerOperation: result.serverCpu?.microsPerOperation ?? null,
      p50Ms: result.operationLatency.p50Ms,
      p99Ms: result.operationLatency.p99Ms,
      failedOperations: result.failedOperations,
    };
  } finally {
    await server.stop();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  }
}

/** Writes `count` finished jobs with the store itself, as a long-running durable server would have kept them. */
async function fillDirectory(directory: string, count: number): Promise<number> {
  const startedAt = performance.now();
  const store = await LmdbJobStore.open({ directory, waitForSync: false });
  await fill(store, count);
  const stored = store.size;
  await store.close();
  if (stored !== count) throw new Error(`filled ${stored} jobs, expected ${count}`);
  return (performance.now() - startedAt) / 1000;
}

function directoryBytes(directory: string): number {
  let bytes = 0;
  // Allocated blocks, not the apparent size: LMDB's file may be sparse.
  for (const name of readdirSync(directory)) bytes += statSync(join(directory, name)).blocks * 512;
  return bytes;
}

/** Seconds from spawning the server on `directory` to its first answer of GET /_api/version. */
async function startupSeconds(directory: string): Promise<number> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [SERVER_MAIN, '--server.endpoint', 'tcp://127.0.0.1:0', '--server.threads', String(THREADS),
    '--database.directory', directory], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const match = /"port":(\d+)/.exec(output);
        if (match !== null) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    });
    const reply = await fetch(`http://127.0.0.1:${port}/_api/version`);
    await reply.arrayBuffer();
    const seconds = (performance.now() - startedAt) / 1000;
    const pending = await (await fetch(`http://127.0.0.1:${port}/_api/job/done?count=1`)).json() as string[];
    if (pending.length !== 1) throw new Error('the restarted server does not list the stored jobs');
    return seconds;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

export async function runDurableBench(): Promise<DurableBenchResult> {
  const load: DurableLoadRun[] = [];
  for (const mode of ['memory', 'durable', 'memory', 'durable', 'durable, wait-for-sync'] as const) {
    const run = await measure(mode);
    load.push(run);
    process.stderr.write(`  ${mode}: ${run.operationsPerSecond.toFixed(0)} ops/s, ${run.cpuMicrosPerOperation?.toFixed(1)} µs CPU/op\n`);
  }
  const mean = (mode: DurableLoadRun['mode']): number => {
    const runs = load.filter((run) => run.mode === mode);
    return runs.reduce((sum, run) => sum + run.operationsPerSecond, 0) / runs.length;
  };
  const directory = mkdtempSync(join(tmpdir(), 'durable-bench-startup-'));
  try {
    const fillSeconds = await fillDirectory(directory, RESULTS);
    process.stderr.write(`  filled ${RESULTS} results in ${fillSeconds.toFixed(1)} s\n`);
    execFileSync('sync');
    const starts = [await startupSeconds(directory), await startupSeconds(directory), await startupSeconds(directory)];
    const startup = starts.sort((left, right) => left - right)[1];
    process.stderr.write(`  start-up: ${starts.map((seconds) => seconds.toFixed(2)).join(', ')} s\n`);
    const diskBytes = directoryBytes(directory);
    return {
      load,
      durableOverMemory: mean('durable') / mean('memory'),
      startup: { storedResults: RESULTS, fillSeconds, startupSeconds: startup, diskBytes, bytesPerJob: diskBytes / RESULTS },
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

printJsonWhenRunDirectly(import.meta.url, runDurableBench);
