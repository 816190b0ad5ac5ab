import type { LoadResult } from './run-load.js';

const COLUMNS = [
  'target', 'scenario', 'conns', 'req/s', 'ops/s', 'req p50/p99 ms', 'op p50/p99 ms', 'cpu µs/op', 'cpu µs/req',
  'cores', 'failed', 'unfinished', 'errors', 'status codes',
] as const;

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function row(target: string, result: LoadResult): string[] {
  const cpu = result.serverCpu;
  return [
    target,
    result.scenario,
    String(result.connections),
    fixed(result.requestsPerSecond, 0),
    fixed(result.operationsPerSecond, 0),
    `${fixed(result.requestLatency.p50Ms, 2)}/${fixed(result.requestLatency.p99Ms, 2)}`,
    `${fixed(result.operationLatency.p50Ms, 2)}/${fixed(result.operationLatency.p99Ms, 2)}`,
    cpu === undefined ? '-' : fixed(cpu.microsPerOperation, 1),
    cpu === undefined ? '-' : fixed(cpu.microsPerRequest, 1),
    cpu === undefined ? '-' : fixed(cpu.cores, 2),
    String(result.failedOperations),
    String(result.unfinishedOperations),
    `${result.errors} (${result.timeouts} timeouts)`,
    Object.entries(result.statusCodes).map(([status, count]) => `${status}:${count}`).join(' '),
  ];
}

/** Renders load results as an aligned text table, one row per run, with any failures listed below it. */
export function formatLoadResults(runs: readonly { readonly target: string; readonly result: LoadResult }[]): string {
  const rows = [[...COLUMNS], ...runs.map((run) => row(run.target, run.result))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((cells) => cells[column].length)));
  const lines = rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  for (const run of runs) {
    for (const [failure, count] of Object.entries(run.result.failures)) {
      lines.push(`  ${run.target} ${run.result.scenario}: ${count} × ${failure}`);
    }
  }
  return lines.join('\n');
}
