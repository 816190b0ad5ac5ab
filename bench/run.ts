/**
 * The whole benchmark suite in one run, or one part of it:
 *
 *   npm run bench                  everything, in under 5 minutes on 2 cores
 *   npm run bench -- codec         one part: dispatch, cancel, codec, jobs, memory, load,
 *   npm run bench -- store-fetch   or one load scenario on every target (`load:cancel` for the
 *                                  cancel scenario, as `cancel` is the micro-benchmark)
 *
 * Load runs start each target fresh per scenario (same thread count, 50 connections, a 1 s
 * unmeasured warm-up) and measure its CPU from /proc. A target that fails to start or a part
 * that throws is reported as failed and the run goes on; every server started is stopped at the
 * end, on SIGINT and on SIGTERM. A full run writes bench/results/latest.{md,json,svg}; a partial
 * run writes bench/results/latest-NAME.* so it never overwrites the full report.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runCancelBench } from './cancel.js';
import { runCodecBench } from './codec.js';
import { runDispatchBench } from './dispatch.js';
import { runJobsBench } from './jobs.js';
import {
  LOAD_TARGET_NAMES, SCENARIO_NAMES, ServerProcess, isScenarioName, loadTargetCommand, runLoad,
} from './load/index.js';
import type { LoadResult, LoadTargetName, ScenarioName, ServerCommand } from './load/index.js';
import { runMemoryBench } from './memory.js';

const CONNECTIONS = 50;
const THREADS = os.availableParallelism();
const WARMUP_SECONDS = 1;
/** Chosen so that 6 scenarios × 3 targets plus the micro-benchmarks fit in 5 minutes. */
const DURATION_SECONDS: Readonly<Record<ScenarioName, number>> = {
  blocking: 5, fire: 5, 'store-fetch': 5, 'store-sleep': 3, cancel: 3, mixed: 3,
};
/**
 * fastify-piscina's best cancel mode per scenario (bench/peers/fastify-piscina.ts): piscina's own
 * AbortSignal is cheapest when jobs are short, but it runs each stored job alone on a worker,
 * so sleeping and cancelled jobs go through a MessagePort and share workers instead.
 */
const FASTIFY_CANCEL_MODE: Readonly<Record<ScenarioName, 'signal' | 'port'>> = {
  blocking: 'signal', fire: 'signal', 'store-fetch': 'signal', 'store-sleep': 'port', cancel: 'port', mixed: 'port',
};
/** A micro-benchmark taking longer than this is killed and reported as failed, so one hang cannot eat the budget. */
const PART_TIMEOUT_MS = 120_000;
const MICRO_PART_NAMES = ['dispatch', 'cancel', 'codec', 'jobs', 'memory'] as const;
type MicroPartName = (typeof MICRO_PART_NAMES)[number];
/**
 * Environment of each part's child process, unless already set. bench/cancel.ts defaults to 200
 * jobs per kind, and each never-yielding one costs a worker restart after the 250 ms grace
 * (about 60 s in all here): fewer keep the suite within 5 minutes.
 */
const PART_ENVIRONMENT: Readonly<Record<MicroPartName, Readonly<Record<string, string>>>> = {
  dispatch: {}, cancel: { CANCEL_BENCH_JOBS: '50', CANCEL_BENCH_SPIN_JOBS: '20' }, codec: {}, jobs: {}, memory: {},
};
/** argv[2] of a child process that runs one micro-benchmark and sends back its result. */
const CHILD_FLAG = '--run-part-in-child';
const RESULTS_DIRECTORY = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const TARGET_COLORS: Readonly<Record<LoadTargetName, string>> = {
  server: '#2563eb', 'uws-inline': '#9ca3af', 'fastify-piscina': '#ea580c',
};

interface LoadRun {
  readonly scenario: ScenarioName;
  readonly target: LoadTargetName;
  /** Extra settings the target ran with, shown next to its name. */
  readonly settings: string;
  readonly seconds: number;
  readonly result?: LoadResult;
  readonly error?: string;
}

interface MicroRun {
  readonly part: MicroPartName;
  readonly seconds: number;
  readonly data?: unknown;
  readonly error?: string;
}

interface Ratios {
  readonly scenario: ScenarioName;
  /** Server CPU per operation over uws-inline's: 1 is the limit of the HTTP front. */
  readonly cpuServerOverUws: number;
  readonly cpuFastifyOverServer: number;
  readonly opsServerOverFastify: number;
}

interface TargetCheck {
  readonly description: string;
  readonly measured: string;
  /** Undefined when a run it needs failed. */
  readonly pass: boolean | undefined;
}

interface Step {
  readonly label: string;
  run(): Promise<void>;
}

/** A micro-benchmark's outcome, as its child process sends it. */
type PartMessage = { readonly data: unknown } | { readonly error: string };

const liveServers = new Set<ServerProcess>();
const liveParts = new Set<ChildProcess>();

/** Error messages may hold a server's stderr: one line keeps tables and lists intact. */
function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ⏎ ');
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

const MICRO_PARTS: Readonly<Record<MicroPartName, () => Promise<unknown>>> = {
  dispatch: runDispatchBench, cancel: runCancelBench, codec: runCodecBench, jobs: runJobsBench, memory: runMemoryBench,
};

function targetCommand(target: LoadTargetName, scenario: ScenarioName): { command: ServerCommand; settings: string } {
  const command = loadTargetCommand(target, THREADS);
  if (target !== 'fastify-piscina') return { command, settings: '' };
  const mode = FASTIFY_CANCEL_MODE[scenario];
  return { command: { ...command, args: (port) => [...command.args(port), '--cancel', mode] }, settings: `--cancel ${mode}` };
}

async function measureLoad(scenario: ScenarioName, target: LoadTargetName): Promise<LoadRun> {
  const { command, settings } = targetCommand(target, scenario);
  const startedAt = performance.now();
  const seconds = (): number => (performance.now() - startedAt) / 1000;
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start(command);
    liveServers.add(server);
    const options = { url: server.url, scenario, connections: CONNECTIONS };
    await runLoad({ ...options, durationSeconds: WARMUP_SECONDS });
    const result = await runLoad({ ...options, durationSeconds: DURATION_SECONDS[scenario], serverPid: server.pid });
    return { scenario, target, settings, seconds: seconds(), result };
  } catch (error) {
    return { scenario, target, settings, seconds: seconds(), error: describeError(error) };
  } finally {
    if (server !== undefined) {
      await server.stop();
      liveServers.delete(server);
    }
  }
}

/**
 * Runs a micro-benchmark in a child process of its own: a crash (an uncaught error in a worker,
 * say) or a hang fails that part alone, nothing it leaves running outlives it, and its heap does
 * not slow the in-process load generator. The child's output goes to stderr, next to the progress.
 */
function runPartInChild(part: MicroPartName): Promise<unknown> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, part], {
    env: { ...PART_ENVIRONMENT[part], ...process.env },
    // Structured clone keeps NaN and Infinity that JSON would turn into null.
    serialization: 'advanced',
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  liveParts.add(child);
  return new Promise((resolve, reject) => {
    let outcome: PartMessage | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, PART_TIMEOUT_MS);
    child.on('message', (message: PartMessage) => {
      outcome = message;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      liveParts.delete(child);
      reject(new Error(`cannot run ${part} in a child process`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      liveParts.delete(child);
      if (timedOut) reject(new Error(`did not finish within ${PART_TIMEOUT_MS / 1000} s`));
      else if (outcome === undefined) reject(new Error(`its process exited with ${signal ?? `code ${code}`} before reporting`));
      else if ('error' in outcome) reject(new Error(outcome.error));
      else resolve(outcome.data);
    });
  });
}

/** The child's side of runPartInChild. */
async function runChildPart(part: string): Promise<void> {
  if (!isMicroPartName(part)) throw new TypeError(`unknown part ${part}`);
  let message: PartMessage;
  try {
    message = { data: await MICRO_PARTS[part]() };
  } catch (error) {
    message = { error: describeError(error) };
  }
  // Exit once the result is out: a part may leave handles (worker pools) that would keep it alive.
  process.send!(message, () => process.exit(0));
}

async function stopAll(): Promise<void> {
  for (const child of liveParts) child.kill('SIGTERM');
  await Promise.allSettled([...liveServers].map((server) => server.stop()));
}

// ---------- numbers and tables ----------

function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatCell(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return formatNumber(value);
    return formatNumber(value, Math.abs(value) >= 100 ? 0 : 2);
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null || value === undefined) return '–';
  if (typeof value === 'object') return JSON.stringify(value);
  return oneLine(String(value)).replaceAll('|', '\\|');
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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

function targetLabel(run: LoadRun): string {
  return run.settings === '' ? run.target : `${run.target} (${run.settings})`;
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

function findRun(runs: readonly LoadRun[], scenario: ScenarioName, target: LoadTargetName): LoadResult | undefined {
  return runs.find((run) => run.scenario === scenario && run.target === target)?.result;
}

function cpuPerOperation(result: LoadResult | undefined): number {
  return result?.serverCpu?.microsPerOperation ?? Number.NaN;
}

function computeRatios(runs: readonly LoadRun[]): Ratios[] {
  const scenarios = SCENARIO_NAMES.filter((scenario) => runs.some((run) => run.scenario === scenario));
  return scenarios.map((scenario) => {
    const server = findRun(runs, scenario, 'server');
    const uws = findRun(runs, scenario, 'uws-inline');
    const fastify = findRun(runs, scenario, 'fastify-piscina');
    return {
      scenario,
      cpuServerOverUws: cpuPerOperation(server) / cpuPerOperation(uws),
      cpuFastifyOverServer: cpuPerOperation(fastify) / cpuPerOperation(server),
      opsServerOverFastify: (server?.operationsPerSecond ?? Number.NaN) / (fastify?.operationsPerSecond ?? Number.NaN),
    };
  });
}

/** Checks `ratio` against a bound; the shown value is rounded towards failing, so a 3.996× never reads as a failed 4.00×. */
function check(description: string, ratio: number | undefined, bound: 'at most' | 'at least', limit: number): TargetCheck {
  if (ratio === undefined || !Number.isFinite(ratio)) return { description, measured: 'not measured', pass: undefined };
  const shown = (bound === 'at most' ? Math.ceil(ratio * 100) : Math.floor(ratio * 100)) / 100;
  return { description, measured: `${formatNumber(shown, 2)}×`, pass: bound === 'at most' ? ratio <= limit : ratio >= limit };
}

/** The targets of issue 5; only those whose runs took place in this run. */
function checkTargets(ratios: readonly Ratios[], micro: readonly MicroRun[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const scenario of ['blocking', 'fire', 'store-fetch'] as const) {
    const ratio = ratios.find((entry) => entry.scenario === scenario);
    if (ratio === undefined) continue;
    checks.push(check(`${scenario}: server CPU/op within 1.5× of uws-inline`, ratio.cpuServerOverUws, 'at most', 1.5));
    checks.push(check(`${scenario}: server CPU/op at least 4× less than fastify-piscina`, ratio.cpuFastifyOverServer, 'at least', 4));
  }
  const storeFetch = ratios.find((entry) => entry.scenario === 'store-fetch');
  if (storeFetch !== undefined) {
    checks.push(check('store-fetch: server ops/s at least 1.5× fastify-piscina', storeFetch.opsServerOverFastify, 'at least', 1.5));
  }
  const memory = micro.find((run) => run.part === 'memory');
  if (memory !== undefined) {
    const data = isRecord(memory.data) ? memory.data : undefined;
    const table = isRecord(data?.table) ? data.table : undefined;
    checks.push({
      description: 'memory: at most 300 bytes of overhead per stored job beyond its body',
      measured: table === undefined
        ? 'not measured'
        : `${formatCell(table['overhead bytes/job'])} B heap + external, ${formatCell(table['rss overhead bytes/job'])} B RSS`,
      pass: typeof data?.targetMet === 'boolean' ? data.targetMet : undefined,
    });
  }
  return checks;
}

function passMark(pass: boolean | undefined): string {
  if (pass === undefined) return '➖ not measured';
  return pass ? '✅ pass' : '❌ fail';
}

// ---------- report ----------

interface MachineInfo {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  node: string;
  platform: string;
  totalMemoryBytes: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  note: string;
}

function machineInfo(loadAverageAtStart: number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryBytes: os.totalmem(),
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg(),
    note: 'Shared machine: other processes may run during the benchmark, so throughput varies between runs; CPU µs per operation is the steadier comparison.',
  };
}

function formatLoadAverage(loadAverage: readonly number[]): string {
  return loadAverage.map((value) => value.toFixed(2)).join(' / ');
}

function renderReport(
  command: string, totalSeconds: number, machine: MachineInfo, loadRuns: readonly LoadRun[], ratios: readonly Ratios[],
  targets: readonly TargetCheck[], micro: readonly MicroRun[],
): string {
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
      '', `## Load (autocannon, ${CONNECTIONS} connections, ${THREADS} worker threads per server)`, '',
      markdownTable(
        ['scenario', 'target', 'req/s', 'ops/s', 'op latency p50 / p99 ms', 'server CPU µs/op', 'server cores', 'errors', 'status codes'],
        loadRuns.map(loadRow),
      ),
      '',
      `Each target is started fresh per scenario and warmed up for ${WARMUP_SECONDS} s; measured for ` +
        `${[...new Set(loadRuns.map((run) => run.scenario))].map((scenario) => `${scenario} ${DURATION_SECONDS[scenario]} s`).join(', ')}. ` +
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
    const environment = Object.keys(PART_ENVIRONMENT[run.part]).map((name) => `${name}=${process.env[name] ?? PART_ENVIRONMENT[run.part][name]}`);
    if (environment.length > 0) lines.push(`Run with \`${environment.join(' ')}\` to fit the suite's time budget.`, '');
    lines.push(run.error === undefined ? renderMicroData(run.data) : `**failed**: ${oneLine(run.error)}`);
  }
  const failed = [
    ...loadRuns.filter((run) => run.error !== undefined).map((run) => `load ${run.scenario} on ${run.target}: ${run.error}`),
    ...micro.filter((run) => run.error !== undefined).map((run) => `${run.part}: ${run.error}`),
  ];
  if (failed.length > 0) lines.push('', '## Failed parts', '', ...failed.map((failure) => `- ${oneLine(failure)}`));
  return `${lines.join('\n')}\n`;
}

// ---------- chart ----------

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A round axis step (1, 2 or 5 × a power of ten) giving about `tickCount` ticks up to `max`. */
function niceStep(max: number, tickCount: number): number {
  const rough = max / tickCount;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 5, 10].find((candidate) => candidate * magnitude >= rough) ?? 10;
  return multiple * magnitude;
}

function shortNumber(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return value >= 10 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
}

interface ChartPanel {
  readonly title: string;
  readonly axisLabel: string;
  value(result: LoadResult): number;
}

const CHART_WIDTH = 1000;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 80, right: 20, top: 40, bottom: 50 } as const;

function renderPanel(panel: ChartPanel, runs: readonly LoadRun[], scenarios: readonly ScenarioName[], top: number): string {
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotTop = top + MARGIN.top;
  const plotBottom = plotTop + plotHeight;
  const values = runs.map((run) => (run.result === undefined ? Number.NaN : panel.value(run.result))).filter(Number.isFinite);
  const step = niceStep(Math.max(1, ...values), 5);
  const axisMax = Math.ceil(Math.max(1, ...values) / step) * step;
  const y = (value: number): number => plotBottom - (value / axisMax) * plotHeight;
  const parts: string[] = [
    `<text x="${MARGIN.left}" y="${top + 22}" class="title">${escapeXml(panel.title)}</text>`,
    `<text transform="translate(18 ${plotTop + plotHeight / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeXml(panel.axisLabel)}</text>`,
  ];
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(tick)}" y2="${y(tick)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" text-anchor="end" class="tick">${shortNumber(tick)}</text>`,
    );
  }
  const groupWidth = plotWidth / scenarios.length;
  const barWidth = (groupWidth * 0.8) / LOAD_TARGET_NAMES.length;
  scenarios.forEach((scenario, groupIndex) => {
    const groupLeft = MARGIN.left + groupIndex * groupWidth + groupWidth * 0.1;
    parts.push(`<text x="${groupLeft + groupWidth * 0.4}" y="${plotBottom + 20}" text-anchor="middle" class="label">${scenario}</text>`);
    LOAD_TARGET_NAMES.forEach((target, barIndex) => {
      const x = groupLeft + barIndex * barWidth;
      const run = runs.find((entry) => entry.scenario === scenario && entry.target === target);
      const value = run?.result === undefined ? Number.NaN : panel.value(run.result);
      const centre = (x + barWidth / 2).toFixed(1);
      if (!Number.isFinite(value)) {
        if (run !== undefined) parts.push(`<text x="${centre}" y="${plotBottom - 6}" text-anchor="middle" class="value">failed</text>`);
        return;
      }
      const barTop = y(value);
      parts.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotBottom - barTop).toFixed(1)}" fill="${TARGET_COLORS[target]}"><title>${escapeXml(`${scenario}, ${targetLabel(run!)}: ${formatNumber(value, 1)}`)}</title></rect>`,
        `<text x="${centre}" y="${(barTop - 4).toFixed(1)}" text-anchor="middle" class="value">${shortNumber(value)}</text>`,
      );
    });
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${plotBottom}" y2="${plotBottom}" class="axis-line"/>`);
  return parts.join('\n');
}

/** Grouped bars, by scenario and target: completed operations per second, and server CPU µs per operation. */
function renderChart(runs: readonly LoadRun[], machine: MachineInfo): string {
  const scenarios = SCENARIO_NAMES.filter((scenario) => runs.some((run) => run.scenario === scenario));
  const panels: ChartPanel[] = [
    { title: 'Throughput: completed operations per second (higher is better)', axisLabel: 'ops/s', value: (result) => result.operationsPerSecond },
    { title: 'Server CPU per operation (lower is better)', axisLabel: 'CPU µs / op', value: (result) => result.serverCpu?.microsPerOperation ?? Number.NaN },
  ];
  const legendTop = 12;
  const height = legendTop + 24 + panels.length * PANEL_HEIGHT + 24;
  const legend = LOAD_TARGET_NAMES.map((target, index) => {
    const x = MARGIN.left + index * 200;
    const label = target === 'fastify-piscina' ? `${target} (best --cancel per scenario)` : target;
    return `<rect x="${x}" y="${legendTop}" width="14" height="14" fill="${TARGET_COLORS[target]}"/><text x="${x + 20}" y="${legendTop + 12}" class="label">${label}</text>`;
  }).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="system-ui, sans-serif">`,
    '<style>.title{font-size:15px;font-weight:600}.axis{font-size:13px}.label{font-size:13px}.tick{font-size:11px;fill:#444}' +
      '.value{font-size:10px;fill:#222}.grid{stroke:#e5e7eb}.axis-line{stroke:#333}.note{font-size:11px;fill:#555}</style>',
    `<rect width="${CHART_WIDTH}" height="${height}" fill="#fff"/>`,
    legend,
    ...panels.map((panel, index) => renderPanel(panel, runs, scenarios, legendTop + 24 + index * PANEL_HEIGHT)),
    `<text x="${MARGIN.left}" y="${height - 8}" class="note">${escapeXml(`autocannon, ${CONNECTIONS} connections, ${THREADS} threads; ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; shared machine`)}</text>`,
    '</svg>',
  ].join('\n');
}

// ---------- selection and main ----------

interface Selection {
  readonly micro: readonly MicroPartName[];
  readonly scenarios: readonly ScenarioName[];
  /** Base name of the result files. */
  readonly resultName: string;
}

function isMicroPartName(name: string): name is MicroPartName {
  return (MICRO_PART_NAMES as readonly string[]).includes(name);
}

/** The prefix that names a load scenario outright: `cancel` alone is the cancel micro-benchmark. */
const LOAD_PREFIX = 'load:';

/** Part names, micro-benchmarks first; a scenario that shares a micro-benchmark's name needs `load:`. */
function parseSelection(names: readonly string[]): Selection {
  if (names.length === 0) return { micro: MICRO_PART_NAMES, scenarios: SCENARIO_NAMES, resultName: 'latest' };
  const micro = new Set<MicroPartName>();
  const scenarios = new Set<ScenarioName>();
  for (const name of names) {
    const scenario = name.startsWith(LOAD_PREFIX) ? name.slice(LOAD_PREFIX.length) : name;
    if (isMicroPartName(name)) micro.add(name);
    else if (name === 'load') SCENARIO_NAMES.forEach((each) => scenarios.add(each));
    else if (isScenarioName(scenario)) scenarios.add(scenario);
    else {
      throw new TypeError(`unknown part ${name}; expected one of ${[...MICRO_PART_NAMES, 'load'].join(', ')}, ` +
        `or a load scenario: ${SCENARIO_NAMES.map((each) => (isMicroPartName(each) ? `${LOAD_PREFIX}${each}` : each)).join(', ')}`);
    }
  }
  return {
    micro: MICRO_PART_NAMES.filter((name) => micro.has(name)),
    scenarios: SCENARIO_NAMES.filter((name) => scenarios.has(name)),
    resultName: `latest-${names.join('-').replaceAll(':', '-')}`,
  };
}

function elapsed(startedAt: number): string {
  const seconds = Math.round((performance.now() - startedAt) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function loadSummary(run: LoadRun): string {
  if (run.result === undefined) return `failed: ${oneLine(run.error ?? '')}`;
  const cpu = run.result.serverCpu?.microsPerOperation ?? Number.NaN;
  return `${formatNumber(run.result.operationsPerSecond)} ops/s, ${formatNumber(cpu, 1)} µs CPU/op`;
}

async function main(): Promise<number> {
  const selection = parseSelection(process.argv.slice(2));
  const startedAt = performance.now();
  const loadAverageAtStart = os.loadavg();
  const loadRuns: LoadRun[] = [];
  const microRuns: MicroRun[] = [];
  const steps: Step[] = [];
  for (const part of selection.micro) {
    steps.push({
      label: part,
      run: async () => {
        const partStartedAt = performance.now();
        let outcome: PartMessage;
        try {
          outcome = { data: await runPartInChild(part) };
        } catch (error) {
          outcome = { error: describeError(error) };
          console.error(`      failed: ${oneLine(outcome.error)}`);
        }
        microRuns.push({ part, seconds: (performance.now() - partStartedAt) / 1000, ...outcome });
      },
    });
  }
  for (const scenario of selection.scenarios) {
    for (const target of LOAD_TARGET_NAMES) {
      const settings = targetCommand(target, scenario).settings;
      steps.push({
        label: `load ${scenario} on ${target}${settings === '' ? '' : ` (${settings})`}`,
        run: async () => {
          const run = await measureLoad(scenario, target);
          loadRuns.push(run);
          console.error(`      ${loadSummary(run)}`);
        },
      });
    }
  }
  for (const [index, step] of steps.entries()) {
    console.error(`[${index + 1}/${steps.length}] ${step.label}… (${steps.length - index - 1} left after this, ${elapsed(startedAt)} elapsed)`);
    await step.run();
  }

  const totalSeconds = (performance.now() - startedAt) / 1000;
  const machine = machineInfo(loadAverageAtStart);
  const ratios = computeRatios(loadRuns);
  const targets = checkTargets(ratios, microRuns);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const report = renderReport(command, totalSeconds, machine, loadRuns, ratios, targets, microRuns);
  console.log(report);

  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  const base = `${RESULTS_DIRECTORY}${selection.resultName}`;
  const json = {
    command, startedAt: new Date(Date.now() - totalSeconds * 1000).toISOString(), totalSeconds, machine,
    settings: { connections: CONNECTIONS, threads: THREADS, warmupSeconds: WARMUP_SECONDS, durationSeconds: DURATION_SECONDS, fastifyCancelMode: FASTIFY_CANCEL_MODE },
    load: loadRuns, ratios, targets, micro: microRuns,
  };
  // NaN ratios (a failed run) become null in JSON, which is what they mean.
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${base}.md`, report);
  const written = [`${base}.md`, `${base}.json`];
  if (loadRuns.length > 0) {
    await writeFile(`${base}.svg`, `${renderChart(loadRuns, machine)}\n`);
    written.push(`${base}.svg`);
  }
  console.error(`wrote ${written.join(', ')} in ${elapsed(startedAt)}`);
  const failedParts = loadRuns.filter((run) => run.error !== undefined).length + microRuns.filter((run) => run.error !== undefined).length;
  return failedParts === 0 ? 0 : 1;
}

function onSignal(signal: NodeJS.Signals): void {
  console.error(`${signal}: stopping ${liveServers.size} server(s) and ${liveParts.size} benchmark process(es)`);
  void stopAll().finally(() => process.exit(128 + os.constants.signals[signal]));
}

if (process.argv[2] === CHILD_FLAG) {
  await runChildPart(process.argv[3]);
} else {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Last resort on any other exit: stop() and kill() send their signal synchronously.
  process.once('exit', () => {
    for (const child of liveParts) child.kill('SIGTERM');
    for (const server of liveServers) void server.stop();
  });
  try {
    const exitCode = await main();
    await stopAll();
    process.exit(exitCode);
  } catch (error) {
    console.error(describeError(error));
    await stopAll();
    process.exit(2);
  }
}
