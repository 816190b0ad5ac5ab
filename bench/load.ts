/**
 * Load-tests a running deployment, or starts the benchmark's targets one
 * after another and load-tests each (measuring its CPU):
 *
 *   node dist/bench/load.js --url http://127.0.0.1:8529 --scenario blocking [--pid PID]
 *   node dist/bench/load.js --target uws-inline,fastify-piscina --scenario all --threads 2
 *
 * Options: --scenario NAME[,NAME...]|all (blocking, fire, store-fetch,
 * store-sleep, cancel, mixed; `all` is these), --connections C (50),
 * --duration S (10), --warmup S (1; an unmeasured run first, so the JIT has
 * settled), --json.
 *
 * `--scenario sse` (this server only: it needs /_api/operations) holds C
 * watchers of running jobs over server-sent events and reports events/s,
 * server CPU per event and server RSS per watcher (bench/load/sse-watchers.ts):
 *
 *   node dist/bench/load.js --target server --scenario sse --connections 1000 --duration 10
 *   node dist/bench/load.js --url http://127.0.0.1:8529 --pid PID --scenario sse --connections 1000
 *
 * With --target, the server gets enough --server.worker-concurrency for every
 * watched job to run at once; with --url that is the operator's choice (the
 * report shows how many ran and how many queued half-way through).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  LOAD_TARGET_NAMES, SCENARIO_NAMES, SSE_SCENARIO_NAME, ServerProcess, formatLoadResults, formatSseResults, isLoadTargetName,
  isScenarioName, loadTargetCommand, readServerRssKb, runLoad, runSseLoad,
} from './load/index.js';
import type { LoadResult, LoadTargetName, ScenarioName, SseLoadResult } from './load/index.js';

/** The autocannon scenarios, and `sse`, which streams and so runs on its own client. */
type CliScenarioName = ScenarioName | typeof SSE_SCENARIO_NAME;
const CLI_SCENARIO_NAMES: readonly CliScenarioName[] = [...SCENARIO_NAMES, SSE_SCENARIO_NAME];

function isCliScenarioName(name: string): name is CliScenarioName {
  return name === SSE_SCENARIO_NAME || isScenarioName(name);
}

interface CliOptions {
  readonly url: string | undefined;
  readonly pid: number | undefined;
  readonly targets: readonly LoadTargetName[];
  readonly threads: number;
  readonly scenarios: readonly CliScenarioName[];
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly json: boolean;
}

interface Run {
  readonly target: string;
  readonly result: LoadResult | SseLoadResult;
}

/** `count`: a positive integer; `seconds`: a positive number; `optional-seconds`: zero allowed too. */
type NumberKind = 'count' | 'seconds' | 'optional-seconds';

function numberOption(flag: string, raw: string | undefined, fallback: number, kind: NumberKind): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const valid = kind === 'count'
    ? Number.isInteger(value) && value >= 1
    : Number.isFinite(value) && (value > 0 || (value === 0 && kind === 'optional-seconds'));
  if (!valid) throw new TypeError(`--${flag} must be ${kind === 'count' ? 'a positive integer' : 'a number of seconds'}, got ${raw}`);
  return value;
}

/** `all` stands for `all`, which may be fewer names than `known` (`sse` is never part of `all`). */
function list<Name extends string>(
  flag: string, raw: string, all: readonly Name[], isName: (name: string) => name is Name, known: readonly Name[] = all,
): Name[] {
  if (raw === 'all') return [...all];
  return raw.split(',').map((name) => {
    if (!isName(name)) throw new TypeError(`--${flag}: unknown ${name}; expected one of ${known.join(', ')} or all`);
    return name;
  });
}

function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      url: { type: 'string' }, pid: { type: 'string' }, target: { type: 'string' }, threads: { type: 'string' },
      scenario: { type: 'string' }, connections: { type: 'string' }, duration: { type: 'string' },
      warmup: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  if ((values.url === undefined) === (values.target === undefined)) throw new TypeError('give exactly one of --url and --target');
  if (values.scenario === undefined) throw new TypeError(`--scenario is required: ${CLI_SCENARIO_NAMES.join(', ')} or all`);
  return {
    url: values.url,
    pid: values.pid === undefined ? undefined : numberOption('pid', values.pid, 0, 'count'),
    targets: values.target === undefined ? [] : list('target', values.target, LOAD_TARGET_NAMES, isLoadTargetName),
    threads: numberOption('threads', values.threads, availableParallelism(), 'count'),
    scenarios: list<CliScenarioName>('scenario', values.scenario, SCENARIO_NAMES, isCliScenarioName, CLI_SCENARIO_NAMES),
    connections: numberOption('connections', values.connections, 50, 'count'),
    durationSeconds: numberOption('duration', values.duration, 10, 'seconds'),
    warmupSeconds: numberOption('warmup', values.warmup, 1, 'optional-seconds'),
    json: values.json,
  };
}

async function measure(cli: CliOptions, url: string, scenario: CliScenarioName, serverPid: number | undefined): Promise<LoadResult | SseLoadResult> {
  if (scenario === SSE_SCENARIO_NAME) return measureSse(cli, url, serverPid);
  const options = { url, scenario, connections: cli.connections };
  if (cli.warmupSeconds > 0) await runLoad({ ...options, durationSeconds: cli.warmupSeconds });
  return runLoad({ ...options, durationSeconds: cli.durationSeconds, serverPid });
}

async function measureSse(cli: CliOptions, url: string, serverPid: number | undefined): Promise<SseLoadResult> {
  // Read before the warm-up: memory per watcher is measured against the idle server.
  const idleRssKb = serverPid === undefined ? undefined : readServerRssKb(serverPid);
  const options = { url, connections: cli.connections };
  if (cli.warmupSeconds > 0) await runSseLoad({ ...options, durationSeconds: cli.warmupSeconds });
  return runSseLoad({ ...options, durationSeconds: cli.durationSeconds, serverPid, idleRssKb });
}

/** Server options a scenario needs: for `sse`, /_admin/steps and room for every watched job to run at once. */
function serverArgsFor(cli: CliOptions, target: LoadTargetName, scenario: CliScenarioName): string[] {
  if (scenario !== SSE_SCENARIO_NAME) return [];
  if (target !== 'server') throw new TypeError(`--scenario sse needs /_api/operations, which only --target server has (not ${target})`);
  return ['--server.worker-concurrency', String(Math.ceil(cli.connections / cli.threads)), '--server.demo-handlers', 'true'];
}

async function measureTargets(cli: CliOptions): Promise<Run[]> {
  const runs: Run[] = [];
  for (const target of cli.targets) {
    for (const scenario of cli.scenarios) {
      // A fresh process per scenario, so leftovers of one (cancelled workers, unfetched jobs) do not bill the next.
      const server = await ServerProcess.start(loadTargetCommand(target, cli.threads, serverArgsFor(cli, target, scenario)));
      try {
        console.error(`${target} ${scenario}: ${server.url} (pid ${server.pid})`);
        runs.push({ target, result: await measure(cli, server.url, scenario, server.pid) });
      } finally {
        await server.stop();
      }
    }
  }
  return runs;
}

async function measureUrl(cli: CliOptions, url: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (const scenario of cli.scenarios) runs.push({ target: url, result: await measure(cli, url, scenario, cli.pid) });
  return runs;
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  const runs = cli.url === undefined ? await measureTargets(cli) : await measureUrl(cli, cli.url);
  if (cli.json) {
    console.log(JSON.stringify(runs, null, 2));
    return;
  }
  const loadRuns = runs.filter((run): run is { target: string; result: LoadResult } => run.result.scenario !== SSE_SCENARIO_NAME);
  const sseRuns = runs.filter((run): run is { target: string; result: SseLoadResult } => run.result.scenario === SSE_SCENARIO_NAME);
  const tables = [];
  if (loadRuns.length > 0) tables.push(formatLoadResults(loadRuns));
  if (sseRuns.length > 0) tables.push(formatSseResults(sseRuns));
  console.log(tables.join('\n\n'));
}

await main();
