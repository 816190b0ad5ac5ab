import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import { LatencyHistogram } from '../load/index.js';
import { BULLMQ_PREFIX, BULLMQ_QUEUE, useNodeRedisForBullmq } from '../peers/bullmq-connection.js';
import { BullmqWorkerProcess } from './bullmq-worker-process.js';
import type { LiveProcesses } from './live-processes.js';
import { callsPerJob, monitoredPerJob, ownCpuMicrosSince, windowFigures } from './per-job.js';
import { ProcessTreeCpu } from './process-tree-cpu.js';
import type { RedisInfo } from './redis-info.js';
import { RedisMonitor } from './redis-monitor.js';
import type { SystemRun } from './system-run.js';
import type { WorkSettings } from './work-settings.js';

/** Jobs a worker runs at once: one per producer, so that no producer waits for a free slot. */
export const WORKER_CONCURRENCY = 50;
/** A producer gives up waiting for one result after this long (it then counts as failed). */
const RESULT_TIMEOUT_MS = 10_000;
const JOB_DATA = { path: '/_api/version' };
/**
 * Completed jobs are kept (removeOnComplete: false, BullMQ's default), in the throughput runs as
 * in the memory run: with removeOnComplete: true a job may be gone before waitUntilFinished's
 * own check of it ("Missing key for job … isFinished", seen here for 2 % of the jobs), and its
 * result could not be read at all.
 */
const KEPT: JobsOptions = { removeOnComplete: false };
/**
 * BullMQ's Lua scripts by the SHA1 that EVALSHA names them with, for MONITOR's tally only. The
 * package has no exports map and its ESM build imports without extensions, so its CommonJS
 * build's script list is the one to read.
 */
const BULLMQ_SCRIPT_NAMES: ReadonlyMap<string, string> = new Map(
  Object.values(createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js') as Record<string, { name?: string; content?: string }>)
    .filter((script): script is { name: string; content: string } => typeof script.name === 'string' && typeof script.content === 'string')
    .map((script) => [createHash('sha1').update(script.content).digest('hex'), script.name]),
);
const IDLE_POLL_MS = 20;
const IDLE_TIMEOUT_MS = 30_000;

interface ProduceOutcome {
  jobs: number;
  failures: Record<string, number>;
}

/** `producers` loops, each adding a job and awaiting its result (job.waitUntilFinished, the BullMQ way), for `seconds`. */
async function produce(queue: Queue, events: QueueEvents, producers: number, seconds: number, latency?: LatencyHistogram): Promise<ProduceOutcome> {
  const outcome: ProduceOutcome = { jobs: 0, failures: {} };
  const deadline = performance.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const startedAt = performance.now();
      try {
        const job = await queue.add('version', JOB_DATA, KEPT);
        const result = await job.waitUntilFinished(events, RESULT_TIMEOUT_MS) as { server?: unknown } | undefined;
        if (result?.server !== 'arango') throw new Error(`unexpected result ${JSON.stringify(result)}`);
      } catch (error) {
        const reason = (error as Error).message.slice(0, 80);
        outcome.failures[reason] = (outcome.failures[reason] ?? 0) + 1;
        continue;
      }
      const finishedAt = performance.now();
      // Jobs that end after the window are not counted: autocannon drops ours too.
      if (finishedAt > deadline) return;
      outcome.jobs += 1;
      latency?.record((finishedAt - startedAt) * 1000);
    }
  };
  await Promise.all(Array.from({ length: producers }, loop));
  return outcome;
}

/**
 * BullMQ doing the same work on the same Redis (keys `bull:…`): a worker process, and the
 * producers in this process. Same windows as our cluster's: warm-up, measured, MONITOR, memory.
 */
export async function measureBullmq(redisPid: number, info: RedisInfo, settings: WorkSettings, live: LiveProcesses): Promise<SystemRun> {
  useNodeRedisForBullmq();
  const connection = { url: settings.redisUrl };
  const worker = await BullmqWorkerProcess.start(settings.redisUrl, WORKER_CONCURRENCY, (spawned) => live.add(spawned));
  const queue = new Queue(BULLMQ_QUEUE, { connection, prefix: BULLMQ_PREFIX });
  const events = new QueueEvents(BULLMQ_QUEUE, { connection, prefix: BULLMQ_PREFIX });
  // waitUntilFinished adds a 'closing' listener to the queue per waiting job.
  queue.setMaxListeners(settings.producers + 10);
  events.setMaxListeners(settings.producers * 2 + 10);
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    await produce(queue, events, settings.producers, settings.warmupSeconds);
    const memoryBefore = await info.usedMemory();
    await info.resetStats();
    const workerCpu = new ProcessTreeCpu([worker.pid]);
    const redisCpu = new ProcessTreeCpu([redisPid]);
    const clientCpuStart = process.cpuUsage();
    const latency = new LatencyHistogram();
    const outcome = await produce(queue, events, settings.producers, settings.seconds, latency);
    const workerUsage = workerCpu.read();
    const redisMicros = redisCpu.read().cpuMicros;
    const clientMicros = ownCpuMicrosSince(clientCpuStart);
    const stats = await info.commandStats();
    const memoryAfterLoad = await info.usedMemory();
    if (Object.keys(outcome.failures).length > 0) process.stderr.write(`  bullmq failures: ${JSON.stringify(outcome.failures)}\n`);

    const monitor = await RedisMonitor.start(settings.redisUrl, BULLMQ_SCRIPT_NAMES);
    const monitored = await produce(queue, events, settings.producers, settings.monitorSeconds);
    const tally = monitor.stop();

    const jobs = outcome.jobs;
    return {
      ...windowFigures({ jobs, wallMicros: workerUsage.wallMicros, serverMicros: workerUsage.cpuMicros, redisMicros, clientMicros }),
      p50Ms: latency.percentileMicros(0.5) / 1000,
      p99Ms: latency.percentileMicros(0.99) / 1000,
      redisBytesPerJob: await keptJobBytes(queue, info, settings.storedJobs, settings.producers),
      redisBytesLeftPerReadJob: (memoryAfterLoad - memoryBefore) / jobs,
      failedJobs: Object.values(outcome.failures).reduce((sum, count) => sum + count, 0),
      redisCallsPerJob: callsPerJob(stats, jobs),
      monitoredCallsPerJob: monitoredPerJob(tally, monitored.jobs),
    };
  } finally {
    await Promise.all([queue.close(), events.close()]);
    await live.stop(worker);
  }
}

/** used_memory growth per job of `count` jobs added (by `concurrency` producers, not awaiting results) and completed, kept. */
async function keptJobBytes(queue: Queue, info: RedisInfo, count: number, concurrency: number): Promise<number> {
  const before = await info.usedMemory();
  let added = 0;
  const addLoop = async (): Promise<void> => {
    while (added < count) {
      added += 1;
      await queue.add('version', JOB_DATA, KEPT);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, addLoop));
  const deadline = performance.now() + IDLE_TIMEOUT_MS;
  for (;;) {
    const counts = await queue.getJobCounts('wait', 'active', 'completed');
    if (counts.wait === 0 && counts.active === 0 && counts.completed >= count) break;
    if (performance.now() > deadline) throw new Error(`BullMQ jobs not all completed after ${IDLE_TIMEOUT_MS / 1000} s: ${JSON.stringify(counts)}`);
    await delay(IDLE_POLL_MS);
  }
  return ((await info.usedMemory()) - before) / count;
}
