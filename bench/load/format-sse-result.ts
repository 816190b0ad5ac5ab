import type { SseLoadResult } from './sse-watchers.js';

const COLUMNS = [
  'target', 'scenario', 'watchers', 'events/s', 'streams done', 'streams/s', 'ramp s', 'running/queued', 'cpu µs/event', 'cores',
  'rss idle MB', 'rss mean/peak MB', 'KB/watcher', 'failed',
] as const;

function fixed(value: number | undefined, digits: number): string {
  return value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function megabytes(kilobytes: number): string {
  return fixed(kilobytes / 1024, 1);
}

function row(target: string, result: SseLoadResult): string[] {
  const cpu = result.serverCpu;
  const memory = result.serverMemory;
  return [
    target,
    result.scenario,
    String(result.connections),
    fixed(result.eventsPerSecond, 0),
    String(result.streamsCompleted),
    fixed(result.streamsPerSecond, 0),
    result.rampMs === null ? '-' : fixed(result.rampMs / 1000, 2),
    result.jobsMidRun === undefined ? '-' : `${result.jobsMidRun.running}/${result.jobsMidRun.queued}`,
    fixed(cpu?.microsPerEvent, 1),
    fixed(cpu?.cores, 2),
    memory === undefined ? '-' : megabytes(memory.idleRssKb),
    memory === undefined ? '-' : `${megabytes(memory.meanRssKb)}/${megabytes(memory.peakRssKb)}`,
    fixed(memory?.kbPerWatcher, 1),
    String(Object.values(result.failures).reduce((sum, count) => sum + count, 0)),
  ];
}

/** Renders SSE load results as an aligned text table, with any failures listed below it. */
export function formatSseResults(runs: readonly { readonly target: string; readonly result: SseLoadResult }[]): string {
  const rows = [[...COLUMNS], ...runs.map((run) => row(run.target, run.result))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((cells) => cells[column].length)));
  const lines = rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  for (const run of runs) {
    lines.push(`  ${run.target} sse: watched job ${run.result.jobPath}`);
    for (const [failure, count] of Object.entries(run.result.failures)) lines.push(`  ${run.target} sse: ${count} × ${failure}`);
  }
  return lines.join('\n');
}
