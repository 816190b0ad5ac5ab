/**
 * Load-tests a running deployment, or starts the benchmark's targets one
 * after another and load-tests each (measuring its CPU):
 *
 *   node dist/bench/load.js --url http://127.0.0.1:8529 --scenario blocking [--pid PID]
 *   node dist/bench/load.js --target uws-inline,fastify-piscina --scenario all --threads 2
 *
 * Options: --scenario NAME[,NAME...]|all (blocking, fire, store-fetch,
 * store-sleep, cancel, mixed), --connections C (50), --duration S (10),
 * --warmup S (1; an unmeasured run first, so the JIT has settled), --json.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  LOAD_TARGET_NAMES, SCENARIO_NAMES, ServerProcess, formatLoadResults, isLoadTargetName, isScenarioName,
  loadTargetCommand, runLoad,
} from './load/index.js';
import type { LoadResult, LoadTargetName, ScenarioName } from './load/index.js';

interface CliOptions {
  readonly url: string | undefined;
  readonly pid: number | undefined;
  readonly targets: readonly LoadTargetName[];
  readonly threads: number;
  readonly scenarios: readonly ScenarioName[];
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly json: boolean;
}

interface Run {
  readonly target: string;
  readonly result: LoadResult;
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

function list<Name extends string>(flag: string, raw: string, all: readonly Name[], isName: (name: string) => name is Name): Name[] {
  if (raw === 'all') return [...all];
  return raw.split(',').map((name) => {
    if (!isName(name)) throw new TypeError(`--${flag}: unknown ${name}; expected one of ${all.join(', ')} or all`);
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
  if (values.scenario === undefined) throw new TypeError(`--scenario is required: ${SCENARIO_NAMES.join(', ')} or all`);
  return {
    url: values.url,
    pid: values.pid === undefined ? undefined : numberOption('pid', values.pid, 0, 'count'),
    targets: values.target === undefined ? [] : list('target', values.target, LOAD_TARGET_NAMES, isLoadTargetName),
    threads: numberOption('threads', values.threads, availableParallelism(), 'count'),
    scenarios: list('scenario', values.scenario, SCENARIO_NAMES, isScenarioName),
    connections: numberOption('connections', values.connections, 50, 'count'),
    durationSeconds: numberOption('duration', values.duration, 10, 'seconds'),
    warmupSeconds: numberOption('warmup', values.warmup, 1, 'optional-seconds'),
    json: values.json,
  };
}

async function measure(cli: CliOptions, url: string, scenario: ScenarioName, serverPid: number | undefined): Promise<LoadResult> {
  const options = { url, scenario, connections: cli.connections };
  if (cli.warmupSeconds > 0) await runLoad({ ...options, durationSeconds: cli.warmupSeconds });
  return runLoad({ ...options, durationSeconds: cli.durationSeconds, serverPid });
}

async function measureTargets(cli: CliOptions): Promise<Run[]> {
  const runs: Run[] = [];
  for (const target of cli.targets) {
    for (const scenario of cli.scenarios) {
      // A fresh process per scenario, so leftovers of one (cancelled workers, unfetched jobs) do not bill the next.
      const server = await ServerProcess.start(loadTargetCommand(target, cli.threads));
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
  console.log(cli.json ? JSON.stringify(runs, null, 2) : formatLoadResults(runs));
}

await main();
