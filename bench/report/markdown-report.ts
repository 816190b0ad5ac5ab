import type { LoadResult } from '../load/index.js';
import { renderClusterPart } from './cluster-report.js';
import { formatCell, formatNumber, isRecord, markdownTable, oneLine, targetLabel } from './format.js';
import type { LoadRun, MicroPartName, PartEnvironment, SuiteResults } from './suite-results.js';

/** Parts whose results read better in a layout of their own; undefined from one falls back to renderMicroData. */
const PART_RENDERERS: Partial<Record<MicroPartName, (data: unknown) => string | undefined>> = { cluster: renderClusterPart };

function objectsTable(rows: readonly Record<string, unknown>[], firstColumn?: string): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const header = firstColumn === undefined ? columns : [firstColumn, ...columns.filter((column) => column !== firstColumn)];
  return markdownTable(header, rows.map((row) => header.map((column) => formatCell(row[column]))));
}

/**
 * Renders whatever a micro-benchmark returns: a list of rows is a table; an object's scalars
 * become a list, its lists of rows tables, and its flat sub-objects one table with a row each.
 */
function renderMicroData(data: unknown): string {
  if (Array.isArray(data) && data.every(isRecord)) return objectsTable(data);
  if (!isRecord(data)) return `\`\`\`\n${JSON.stringify(data, null, 2)}\n\`\`\``;
  const parts: string[] = [];
  const scalars = Object.entries(data).filter(([, value]) => !isRecord(value) && !Array.isArray(value));
  if (scalars.length > 0) parts.push(scalars.map(([key, value]) => `- ${key}: ${formatCell(value)}`).join('\n'));
  for (const [key, value] of Object.entries(data)) {
    if (Array.isArray(value)) parts.push(renderMicroData(value.map((item) => (isRecord(item) ? item : { [key]: item }))));
  }
  const flatObjects = Object.entries(data).filter(
    (entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]) && Object.values(entry[1]).every((item) => !isRecord(item)),
  );
  if (flatObjects.length > 0) parts.push(objectsTable(flatObjects.map(([key, value]) => ({ entry: key, ...value })), 'entry'));
  for (const [key, value] of Object.entries(data)) {
    if (isRecord(value) && !flatObjects.some(([flatKey]) => flatKey === key)) parts.push(`**${key}**\n\n${renderMicroData(value)}`);
  }
  return parts.join('\n\n');
}

function errorSummary(result: LoadResult): string {
  const notes = [`${result.errors} errors (${result.timeouts} timeouts)`, `${result.failedOperations} failed ops`];
  const failures = Object.entries(result.failures).map(([failure, count]) => `${failure} ×${count}`);
  return result.errors === 0 && result.failedOperations === 0 ? '0' : [...notes, ...failures].join('; ');
}

function loadRow(run: LoadRun): string[] {
  const result = run.result;
  if (result === undefined) return [run.scenario, targetLabel(run), `**failed**: ${formatCell(run.error)}`, '', '', '', '', '', ''];
  const cpu = result.serverCpu;
  return [
    run.scenario,
    targetLabel(run),
    formatNumber(result.requestsPerSecond),
    formatNumber(result.operationsPerSecond),
    `${formatNumber(result.operationLatency.p50Ms, 2)} / ${formatNumber(result.operationLatency.p99Ms, 2)}`,
    cpu === undefined ? '–' : formatNumber(cpu.microsPerOperation, 1),
    cpu === undefined ? '–' : formatNumber(cpu.cores, 2),
    errorSummary(result),
    Object.entries(result.statusCodes).map(([status, count]) => `${status}: ${formatNumber(count)}`).join(', '),
  ];
}

function passMark(pass: boolean | undefined): string {
  if (pass === undefined) return '➖ not measured';
  return pass ? '✅ pass' : '❌ fail';
}

function formatLoadAverage(loadAverage: readonly number[]): string {
  return loadAverage.map((value) => value.toFixed(2)).join(' / ');
}

/** The Markdown report of a run; `partEnvironment` names the settings each micro-benchmark ran with. */
export function renderReport(results: SuiteResults, partEnvironment: PartEnvironment): string {
  const { command, totalSeconds, machine, settings, load: loadRuns, ratios, targets, micro } = results;
  const lines: string[] = [
    '# Benchmark results',
    '',
    `\`${command}\` on ${new Date().toISOString()}, ${formatNumber(totalSeconds, 0)} s in all.`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}; ` +
      `load average (1/5/15 min) ${formatLoadAverage(machine.loadAverageAtStart)} at start, ${formatLoadAverage(machine.loadAverageAtEnd)} at end. ` +
      machine.note,
  ];
  if (loadRuns.length > 0) {
    lines.push(
      '', `## Load (autocannon, ${settings.connections} connections, ${settings.threads} worker threads per server)`, '',
      markdownTable(
        ['scenario', 'target', 'req/s', 'ops/s', 'op latency p50 / p99 ms', 'server CPU µs/op', 'server cores', 'errors', 'status codes'],
        loadRuns.map(loadRow),
      ),
      '',
      `Each target is started fresh per scenario and warmed up for ${settings.warmupSeconds} s; measured for ` +
        `${[...new Set(loadRuns.map((run) => run.scenario))].map((scenario) => `${scenario} ${settings.durationSeconds[scenario]} s`).join(', ')}. ` +
        'An operation is what a client wants done: one blocking call, one fire-and-forget 202, one stored job submitted and fetched ' +
        '(polls included), one job cancelled and confirmed by a 410. CPU is the server process\'s user + system time, all threads, from /proc. ' +
        'fastify-piscina runs with its best cancel mode per scenario: `--cancel signal` (piscina\'s own AbortSignal) for blocking, fire ' +
        'and store-fetch, `--cancel port` (stored jobs share workers) for store-sleep, cancel and mixed.',
      '', '## Ratios to the peers', '',
      markdownTable(
        ['scenario', 'CPU/op: server ÷ uws-inline', 'CPU/op: fastify-piscina ÷ server', 'ops/s: server ÷ fastify-piscina'],
        ratios.map((ratio) => [
          ratio.scenario, `${formatNumber(ratio.cpuServerOverUws, 2)}×`, `${formatNumber(ratio.cpuFastifyOverServer, 2)}×`,
          `${formatNumber(ratio.opsServerOverFastify, 2)}×`,
        ]),
      ),
    );
  }
  if (targets.length > 0) {
    lines.push('', '## Targets', '', markdownTable(['target', 'measured', 'result'], targets.map((target) => [target.description, target.measured, passMark(target.pass)])));
  }
  for (const run of micro) {
    lines.push('', `## ${run.part} (${formatNumber(run.seconds, 1)} s)`, '');
    const environment = Object.keys(partEnvironment[run.part]).map((name) => `${name}=${process.env[name] ?? partEnvironment[run.part][name]}`);
    if (environment.length > 0) lines.push(`Run with \`${environment.join(' ')}\` to fit the suite's time budget.`, '');
    lines.push(run.error === undefined ? PART_RENDERERS[run.part]?.(run.data) ?? renderMicroData(run.data) : `**failed**: ${oneLine(run.error)}`);
  }
  const failed = [
    ...loadRuns.filter((run) => run.error !== undefined).map((run) => `load ${run.scenario} on ${run.target}: ${run.error}`),
    ...micro.filter((run) => run.error !== undefined).map((run) => `${run.part}: ${run.error}`),
  ];
  if (failed.length > 0) lines.push('', '## Failed parts', '', ...failed.map((failure) => `- ${oneLine(failure)}`));
  return `${lines.join('\n')}\n`;
}
