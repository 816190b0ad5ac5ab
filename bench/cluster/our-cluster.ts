import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { loadTargetCommand, runLoad, ServerProcess, type LoadResult } from '../load/index.js';
// For script names in MONITOR's tally only: the store's index does not expose its scripts.
import { BATCH_SCRIPT, SCRIPTS } from '../../server/stores/redis/index.js';
import type { LiveProcesses } from './live-processes.js';
import { callsPerJob, monitoredPerJob, ownCpuMicrosSince, windowFigures } from './per-job.js';
import { ProcessTreeCpu } from './process-tree-cpu.js';
import type { RedisInfo } from './redis-info.js';
import { RedisMonitor } from './redis-monitor.js';
import type { SystemRun } from './system-run.js';
import type { WorkSettings } from './work-settings.js';

/** `--cluster.prefix` of the nodes: Redis keys `bench:…`, apart from BullMQ's `bull:…`. */
export const CLUSTER_PREFIX = 'bench';
export const NODE_IDS = ['node-a', 'node-b'] as const;
/** One worker thread per node: two nodes and Redis share this machine's 2 cores with the load generator. */
export const THREADS_PER_NODE = 1;
const IDLE_POLL_MS = 20;
const IDLE_TIMEOUT_MS = 30_000;

/** The store's scripts by the SHA1 that EVALSHA names them with (as RedisConnection computes it). */
const SCRIPT_NAMES: ReadonlyMap<string, string> = new Map(
  [...Object.entries(SCRIPTS), ['batch (add, finish, take of one turn)', BATCH_SCRIPT]].map(([name, source]) => [createHash('sha1').update(source).digest('hex'), name]),
);

/** Starts the two nodes on `redisUrl`, one after the other, each registered in `live` as soon as it runs. */
export async function startNodes(redisUrl: string, live: LiveProcesses): Promise<ServerProcess[]> {
  const nodes: ServerProcess[] = [];
  for (const nodeId of NODE_IDS) {
    const args = ['--cluster.redis', redisUrl, '--cluster.node-id', nodeId, '--cluster.prefix', CLUSTER_PREFIX];
    nodes.push(live.add(await ServerProcess.start({ ...loadTargetCommand('server', THREADS_PER_NODE, args), name: nodeId })));
  }
  return nodes;
}

/** The `store-fetch` scenario (submit with `x-arango-async: store`, poll PUT /_api/job/ID until 200) on every node at once, connections split evenly. */
async function loadAll(nodes: readonly ServerProcess[], settings: WorkSettings, durationSeconds: number): Promise<LoadResult[]> {
  const connections = Math.ceil(settings.producers / nodes.length);
  return Promise.all(nodes.map((node) => runLoad({ url: node.url, scenario: 'store-fetch', connections, durationSeconds })));
}

function completed(results: readonly LoadResult[]): number {
  return results.reduce((sum, result) => sum + result.operations, 0);
}

/**
 * Our two nodes doing the work: throughput, latency and CPU in the measured window, Redis's
 * commands per job, then MONITOR's split of them in a short window of its own, then the
 * memory of `settings.storedJobs` results stored and left unread.
 */
export async function measureOurCluster(nodes: readonly ServerProcess[], redisPid: number, info: RedisInfo, settings: WorkSettings): Promise<SystemRun> {
  await loadAll(nodes, settings, settings.warmupSeconds);
  const memoryBefore = await info.usedMemory();
  await info.resetStats();
  const nodeCpu = new ProcessTreeCpu(nodes.map((node) => node.pid));
  const redisCpu = new ProcessTreeCpu([redisPid]);
  const clientCpuStart = process.cpuUsage();
  const results = await loadAll(nodes, settings, settings.seconds);
  const nodeUsage = nodeCpu.read();
  const redisMicros = redisCpu.read().cpuMicros;
  const clientMicros = ownCpuMicrosSince(clientCpuStart);
  const stats = await info.commandStats();
  const memoryAfterLoad = await info.usedMemory();

  const monitor = await RedisMonitor.start(settings.redisUrl, SCRIPT_NAMES);
  const monitoredJobs = completed(await loadAll(nodes, settings, settings.monitorSeconds));
  const tally = monitor.stop();

  const jobs = completed(results);
  return {
    ...windowFigures({ jobs, wallMicros: nodeUsage.wallMicros, serverMicros: nodeUsage.cpuMicros, redisMicros, clientMicros }),
    // Each node's own histogram; the worse of the two stands for both (they serve equal halves).
    p50Ms: Math.max(...results.map((result) => result.operationLatency.p50Ms)),
    p99Ms: Math.max(...results.map((result) => result.operationLatency.p99Ms)),
    redisBytesPerJob: await storedJobBytes(nodes, info, settings.storedJobs, settings.producers),
    redisBytesLeftPerReadJob: (memoryAfterLoad - memoryBefore) / jobs,
    failedJobs: results.reduce((sum, result) => sum + result.failedOperations + result.errors, 0),
    httpRequestsPerJob: requestsPerJob(results, jobs),
    redisCallsPerJob: callsPerJob(stats, jobs),
    monitoredCallsPerJob: monitoredPerJob(tally, monitoredJobs),
  };
}

function requestsPerJob(results: readonly LoadResult[], jobs: number): Record<string, number> {
  const perStatus: Record<string, number> = {};
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statusCodes)) perStatus[status] = (perStatus[status] ?? 0) + count;
  }
  const total = Object.values(perStatus).reduce((sum, count) => sum + count, 0);
  return Object.fromEntries([['all', total], ...Object.entries(perStatus)].map(([status, count]) => [status, Math.round((Number(count) / jobs) * 100) / 100]));
}

/** used_memory growth per job of `count` stored `GET /_api/version` jobs, all finished, none fetched. */
async function storedJobBytes(nodes: readonly ServerProcess[], info: RedisInfo, count: number, concurrency: number): Promise<number> {
  const before = await info.usedMemory();
  let submitted = 0;
  const submitLoop = async (producer: number): Promise<void> => {
    const url = `${nodes[producer % nodes.length].url}/_api/version`;
    while (submitted < count) {
      submitted += 1;
      const response = await fetch(url, { headers: { 'x-arango-async': 'store' } });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`storing a job answered ${response.status}, expected 202`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, producer) => submitLoop(producer)));
  await waitUntilNoneIsPending(nodes[0].url);
  return ((await info.usedMemory()) - before) / count;
}

async function waitUntilNoneIsPending(url: string): Promise<void> {
  const deadline = performance.now() + IDLE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const pending = await (await fetch(`${url}/_api/job/pending?count=1`)).json() as string[];
    if (pending.length === 0) return;
    await delay(IDLE_POLL_MS);
  }
  throw new Error(`stored jobs still pending after ${IDLE_TIMEOUT_MS / 1000} s`);
}
