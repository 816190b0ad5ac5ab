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

/** User + system CPU of this process (all its threads) since `start`, in microseconds. */
export function ownCpuMicrosSince(start: NodeJS.CpuUsage): number {
  const usage = process.cpuUsage(start);
  return usage.user + usage.system;
}
