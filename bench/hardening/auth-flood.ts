/**
 * Auth flood: 8 connections send wrong Basic passwords (a new guess per request, as a
 * brute-force attacker does) while one legitimate client with cached credentials calls
 * `GET /_api/version` sequentially. Reports the legitimate client's latency alone and under
 * the flood, and the status codes the attack got. Starts the real server binary with
 * authentication on, on a loopback port, and stops it; about 10 s.
 *
 *   node dist/bench/hardening/auth-flood.js [--server-main PATH] [--no-throttle] [--json]
 *
 * `--server-main` runs another build of the server (say, the code before a change);
 * `--no-throttle` turns the failed-login throttle off (as if every guess came from a new
 * address), which leaves only the off-thread verification between attack and client.
 */
import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ServerProcess } from '../load/server-process.js';

const execFileAsync = promisify(execFile);
const SERVER_MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));
const ADD_USER_SCRIPT = fileURLToPath(new URL('../../scripts/add-user.js', import.meta.url));
const ATTACK_CONNECTIONS = 8;
const BASELINE_MS = 2000;
const ATTACK_SECONDS = 8;
// The attack needs a moment to fill the server before the client's figures mean anything.
const ATTACK_RAMP_MS = 500;
const USERNAME = 'alice';
const PASSWORD = 'right-password';

export interface AuthFloodOptions {
  /** The server build to run. @defaultValue this build's dist/server/main.js */
  serverMain?: string;
  /** Turns the failed-login throttle off (options of the hardened server only). @defaultValue false */
  noThrottle?: boolean;
}

export interface LatencySummary {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AuthFloodResult {
  serverMain: string;
  noThrottle: boolean;
  /** The legitimate client alone. */
  baseline: LatencySummary;
  /** The legitimate client during the flood. */
  underAttack: LatencySummary;
  /** Responses the legitimate client got under the flood that were not 200. */
  legitimateFailures: number;
  attackRequests: number;
  /** HTTP status → count, for the attack's responses. */
  attackStatusCounts: Record<string, number>;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { requests: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted.at(-1) ?? Number.NaN };
}

/** One keep-alive connection, one request at a time, as a client library with cached credentials. */
class LegitimateClient {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #port: number;
  readonly #authorization = basic(USERNAME, PASSWORD);
  failures = 0;

  constructor(port: number) {
    this.#port = port;
  }

  /** The status of one `GET /_api/version`. */
  call(): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers = { authorization: this.#authorization };
      const outgoing = http.get({ host: '127.0.0.1', port: this.#port, path: '/_api/version', agent: this.#agent, headers }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      outgoing.on('error', reject);
    });
  }

  /** Calls sequentially until `untilMs` (performance.now()); the latency of each call in ms. */
  async callUntil(untilMs: number): Promise<number[]> {
    const latencies: number[] = [];
    while (performance.now() < untilMs) {
      const started = performance.now();
      const status = await this.call();
      latencies.push(performance.now() - started);
      if (status !== 200) this.failures++;
    }
    return latencies;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** autocannon in this thread: the body of the attack worker. */
function attackHere(url: string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon<{ guess: number }>({
      url,
      connections: ATTACK_CONNECTIONS,
      duration: ATTACK_SECONDS,
      timeout: 30,
      initialContext: { guess: 0 },
      requests: [{
        method: 'GET',
        path: '/_api/version',
        // A new wrong password each time: repeating one would let the server share verifications.
        setupRequest: (request, context) => ({ ...request, headers: { authorization: basic(USERNAME, `guess-${context.guess++}-${Math.random()}`) } }),
      }],
    }, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}

/**
 * The attack runs in a worker thread of its own: sharing the client's event loop, autocannon's
 * work on thousands of cheap 429s per second would show up as the client's latency.
 */
function runAttack(url: string): Promise<Record<string, number> & { total: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { attackUrl: url } });
    worker.once('message', (counts: Record<string, number> & { total: number }) => {
      resolve(counts);
      // Nothing is left to wait for; a keep-alive socket must not hold the worker (and the bench) open.
      worker.terminate().then(() => undefined, reject);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the attack worker exited with code ${code} before reporting`)));
  });
}

/** Runs the flood against a freshly started server (authentication on, one worker thread) and stops it. */
export async function runAuthFloodBench(options: AuthFloodOptions = {}): Promise<AuthFloodResult> {
  const serverMain = options.serverMain ?? SERVER_MAIN;
  const noThrottle = options.noThrottle ?? false;
  const folder = await mkdtemp(join(tmpdir(), 'auth-flood-'));
  const usersFile = join(folder, 'users.json');
  let server: ServerProcess | undefined;
  let client: LegitimateClient | undefined;
  try {
    await execFileAsync(process.execPath, [ADD_USER_SCRIPT, '--users', usersFile, '--username', USERNAME, '--password', PASSWORD]);
    const throttleArgs = noThrottle ? ['--server.auth-max-failures-per-address', '0', '--server.auth-max-failures-per-user', '0'] : [];
    server = await ServerProcess.start({
      name: 'server',
      command: process.execPath,
      args: (port) => [serverMain, '--server.endpoint', `tcp://127.0.0.1:${port}`, '--server.threads', '1', '--log.level', 'warn',
        '--server.authentication', 'true', '--server.users', usersFile, ...throttleArgs],
    });
    client = new LegitimateClient(server.port);
    // The first call verifies the password; every later one hits the credential cache.
    if (await client.call() !== 200) throw new Error('the legitimate client was refused: check the users file');
    const baseline = await client.callUntil(performance.now() + BASELINE_MS);
    client.failures = 0;

    const attack = runAttack(server.url);
    await new Promise((resolve) => setTimeout(resolve, ATTACK_RAMP_MS));
    const underAttack = await client.callUntil(performance.now() + ATTACK_SECONDS * 1000 - 2 * ATTACK_RAMP_MS);
    const { total, ...attackStatusCounts } = await attack;
    return {
      serverMain, noThrottle, baseline: summarize(baseline), underAttack: summarize(underAttack), legitimateFailures: client.failures,
      attackRequests: total, attackStatusCounts,
    };
  } finally {
    client?.close();
    await server?.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

function milliseconds(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** A small Markdown table of one or more runs. */
export function formatAuthFlood(runs: readonly { label: string; result: AuthFloodResult }[]): string {
  const lines = [
    '| run | client alone p50 / p99 (ms) | client under flood p50 / p99 / max (ms) | client requests (non-200) | attack requests | attack status codes |',
    '|---|---|---|---|---|---|',
  ];
  for (const { label, result } of runs) {
    const codes = Object.entries(result.attackStatusCounts).map(([status, count]) => `${status}: ${count}`).join(', ');
    lines.push(`| ${label} | ${milliseconds(result.baseline.p50Ms)} / ${milliseconds(result.baseline.p99Ms)} `
      + `| ${milliseconds(result.underAttack.p50Ms)} / ${milliseconds(result.underAttack.p99Ms)} / ${milliseconds(result.underAttack.maxMs)} `
      + `| ${result.underAttack.requests} (${result.legitimateFailures}) | ${result.attackRequests} | ${codes} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'server-main': { type: 'string' }, 'no-throttle': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const result = await runAuthFloodBench({ serverMain: values['server-main'], noThrottle: values['no-throttle'] });
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const label = `${values['server-main'] ?? 'this build'}${result.noThrottle ? ', throttle off' : ''}`;
  console.log(`Auth flood: ${ATTACK_CONNECTIONS} connections of wrong Basic passwords vs one cached client (GET /_api/version, sequential)\n`);
  console.log(formatAuthFlood([{ label, result }]));
}

if (!isMainThread && (workerData as { attackUrl?: string } | null)?.attackUrl !== undefined) {
  const result = await attackHere((workerData as { attackUrl: string }).attackUrl);
  // Inside a worker thread autocannon reports raw histograms (its own multi-worker mode), so
  // the total is summed from the status counts, which it reports as usual.
  const counts: Record<string, number> & { total: number } = { total: 0 };
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
    counts[status] = count;
    counts.total += count;
  }
  parentPort!.postMessage(counts);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
