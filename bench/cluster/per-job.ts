import type { CommandStat } from './redis-info.js';
import type { MonitoredCalls } from './system-run.js';
import type { MonitorTally } from './redis-monitor.js';

/** Calls per job by command, most frequent first, rounded to 2 decimals; commands under 0.01 per job left out. */
export function callsPerJob(stats: Readonly<Record<string, CommandStat>>, jobs: number): Record<string, number> {
  return perJob(Object.fromEntries(Object.entries(stats).map(([name, stat]) => [name, stat.calls])), jobs);
}

export function monitoredPerJob(tally: MonitorTally, jobs: number): MonitoredCalls {
  return {
    jobs, fromClients: perJob(tally.fromClients, jobs), fromScripts: perJob(tally.fromScripts, jobs), fromScriptsByScript: perJob(tally.fromScriptsByScript, jobs),
  };
}

function perJob(counts: Readonly<Record<string, number>>, jobs: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts)
    .map(([name, count]): [string, number] => [name, Math.round((count / jobs) * 100) / 100])
    .filter(([, count]) => count >= 0.01)
    .sort((left, right) => right[1] - left[1]));
}

/** Microseconds of CPU spent in one window by each side of a system, and the jobs it did. */
export interface WindowCpu {
  jobs: number;
  wallMicros: number;
  /** The nodes, or BullMQ's worker process. */
  serverMicros: number;
  redisMicros: number;
  /** This process: the load generator or BullMQ's producers. */
  clientMicros: number;
}

/** Throughput and CPU per job of a window; CPU per job counts server and Redis, the client shown apart. */
export function windowFigures(window: WindowCpu): {
  jobsPerSecond: number; cpuMicrosPerJob: number; serverCpuMicrosPerJob: number; redisCpuMicrosPerJob: number; clientCpuMicrosPerJob: number;
  jobs: number; seconds: number;
} {
  const { jobs } = window;
  const seconds = window.wallMicros / 1_000_000;
  return {
    jobsPerSecond: jobs / seconds,
    cpuMicrosPerJob: (window.serverMicros + window.redisMicros) / jobs,
    serverCpuMicrosPerJob: window.serverMicros / jobs,
    redisCpuMicrosPerJob: window.redisMicros / jobs,
    clientCpuMicrosPerJob: window.clientMicros / jobs,
    jobs,
    seconds,
  };
}

/** User + system CPU of this process (all its threads) since `start`, in microseconds. */
export function ownCpuMicrosSince(start: NodeJS.CpuUsage): number {
  const usage = process.cpuUsage(start);
  return usage.user + usage.system;
}
