/**
 * The whole benchmark suite in one run, or one part of it:
 *
 *   npm run bench                  everything, in under 5 minutes on 2 cores
 *   npm run bench -- codec         one part: dispatch, cancel, codec, jobs, memory, auth-flood,
 *                                  slow-readers, webhook-fds, durable, cluster, load,
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
import { runClusterBench } from './cluster.js';
import { runCodecBench } from './codec.js';
import { runDispatchBench } from './dispatch.js';
import { runDurableBench } from './durable.js';
import { runJobsBench } from './jobs.js';
import { LOAD_TARGET_NAMES, ServerProcess, loadTargetCommand, runLoad } from './load/index.js';
import type { LoadTargetName, ScenarioName, ServerCommand } from './load/index.js';
import { runAuthFloodBench } from './hardening/auth-flood.js';
import { runSlowReadersBench } from './hardening/slow-readers.js';
import { runWebhookFdsBench } from './hardening/webhook-fds.js';
import { runMemoryBench } from './memory.js';
import { parseSelection } from './parse-selection.js';
import { formatNumber, oneLine } from './report/format.js';
import { machineInfo } from './report/machine-info.js';
import { renderReport } from './report/markdown-report.js';
import { computeRatios } from './report/ratios.js';
import {
  isMicroPartName, type LoadRun, type MicroPartName, type MicroRun, type PartEnvironment, type SuiteResults, type SuiteSettings,
} from './report/suite-results.js';
import { renderChart } from './report/svg-chart.js';
import { checkTargets } from './report/target-checks.js';

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
/**
 * `durable` fills a directory with 1M results before it measures start-up (30-60 s here);
 * `cluster` starts Redis, two nodes and a BullMQ worker and takes about 40 s, longer on a busy machine.
 */
const PART_TIMEOUT_OVERRIDES_MS: Partial<Record<MicroPartName, number>> = { durable: 300_000, cluster: 180_000 };
/**
 * Environment of each part's child process, unless already set. bench/cancel.ts defaults to 200
 * jobs per kind, and each never-yielding one costs a worker restart after the 250 ms grace
 * (about 60 s in all here): fewer keep the suite within 5 minutes.
 */
const PART_ENVIRONMENT: PartEnvironment = {
  dispatch: {}, cancel: { CANCEL_BENCH_JOBS: '50', CANCEL_BENCH_SPIN_JOBS: '20' }, codec: {}, jobs: {}, memory: {},
  'auth-flood': {}, 'slow-readers': {}, 'webhook-fds': {}, durable: {}, cluster: {},
};
/** argv[2] of a child process that runs one micro-benchmark and sends back its result. */
const CHILD_FLAG = '--run-part-in-child';
const RESULTS_DIRECTORY = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const SETTINGS: SuiteSettings = {
  connections: CONNECTIONS, threads: THREADS, warmupSeconds: WARMUP_SECONDS, durationSeconds: DURATION_SECONDS, fastifyCancelMode: FASTIFY_CANCEL_MODE,
};

interface Step {
  readonly label: string;
  run(): Promise<void>;
}

/** A micro-benchmark's outcome, as its child process sends it. */
type PartMessage = { readonly data: unknown } | { readonly error: string };

const liveServers = new Set<ServerProcess>();
const liveParts = new Set<ChildProcess>();

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

const MICRO_PARTS: Readonly<Record<MicroPartName, () => Promise<unknown>>> = {
  dispatch: runDispatchBench, cancel: runCancelBench, codec: runCodecBench, jobs: runJobsBench, memory: runMemoryBench,
  'auth-flood': () => runAuthFloodBench(), 'slow-readers': () => runSlowReadersBench(), 'webhook-fds': () => runWebhookFdsBench(),
  durable: runDurableBench, cluster: runClusterBench,
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
    }, PART_TIMEOUT_OVERRIDES_MS[part] ?? PART_TIMEOUT_MS);
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
      if (timedOut) reject(new Error(`did not finish within ${(PART_TIMEOUT_OVERRIDES_MS[part] ?? PART_TIMEOUT_MS) / 1000} s`));
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

// ---------- main ----------

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
  const results: SuiteResults = {
    command, startedAt: new Date(Date.now() - totalSeconds * 1000).toISOString(), totalSeconds, machine,
    settings: SETTINGS, load: loadRuns, ratios, targets, micro: microRuns,
  };
  const report = renderReport(results, PART_ENVIRONMENT);
  console.log(report);

  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  const base = `${RESULTS_DIRECTORY}${selection.resultName}`;
  // NaN ratios (a failed run) become null in JSON, which is what they mean.
  await writeFile(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(`${base}.md`, report);
  const written = [`${base}.md`, `${base}.json`];
  if (loadRuns.length > 0) {
    await writeFile(`${base}.svg`, `${renderChart(loadRuns, machine, SETTINGS)}\n`);
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
