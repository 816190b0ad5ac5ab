import { loadTargetCommand, runLoad, ServerProcess } from '../load/index.js';
import type { LiveProcesses } from './live-processes.js';
import { ownCpuMicrosSince, windowFigures } from './per-job.js';
import { ProcessTreeCpu } from './process-tree-cpu.js';
import type { WorkSettings } from './work-settings.js';

/** Worker threads of the reference server: as many as one cluster node has. */
const REFERENCE_THREADS = 1;

/** The same work done by one server that keeps its jobs in memory: no Redis at all. */
export interface MemoryReference {
  readonly jobsPerSecond: number;
  /** The server's CPU per job (all threads). */
  readonly serverCpuMicrosPerJob: number;
  /** The load generator's (this process). */
  readonly clientCpuMicrosPerJob: number;
  readonly threads: number;
}

/**
 * What a cluster could reach at most on this machine: one server without `--cluster.redis`
 * doing the `store-fetch` work of the cluster's run (the same producers, on one node), measured
 * like it. A cluster node does everything this server does per job and writes the job to Redis
 * besides, so on cores shared by everything measured its jobs/s stay below these.
 */
export async function measureMemoryReference(settings: WorkSettings, live: LiveProcesses): Promise<MemoryReference> {
  const server = live.add(await ServerProcess.start({ ...loadTargetCommand('server', REFERENCE_THREADS), name: 'memory-reference' }));
  try {
    const load = (durationSeconds: number) => runLoad({ url: server.url, scenario: 'store-fetch', connections: settings.producers, durationSeconds });
    await load(settings.warmupSeconds);
    const serverCpu = new ProcessTreeCpu([server.pid]);
    const clientStart = process.cpuUsage();
    const result = await load(settings.seconds);
    const { cpuMicros, wallMicros } = serverCpu.read();
    const figures = windowFigures({ jobs: result.operations, wallMicros, serverMicros: cpuMicros, redisMicros: 0, clientMicros: ownCpuMicrosSince(clientStart) });
    return {
      jobsPerSecond: figures.jobsPerSecond,
      serverCpuMicrosPerJob: figures.serverCpuMicrosPerJob,
      clientCpuMicrosPerJob: figures.clientCpuMicrosPerJob,
      threads: REFERENCE_THREADS,
    };
  } finally {
    await live.stop(server);
  }
}
