/**
 * Webhook deliveries to a receiver that never answers: how many file descriptors they make the
 * server hold, and whether a new client is still served meanwhile (hardening issue, item 6).
 *
 *   node dist/bench/hardening/webhook-fds.js [--server-main PATH]
 *
 * `--server-main` (or WEBHOOK_FDS_SERVER_MAIN) runs another build of the server, for
 * before/after numbers; the default is this build's dist/server/main.js. A build that predates
 * ports in `--webhook.allow` refuses `127.0.0.1:PORT` at start (exit code 2); it is then run
 * with `127.0.0.1`, which such a build reads as every port. The receiver speaks plain HTTP, so
 * the server gets `--webhook.allow-http true`, and a build that predates that option runs without it.
 *
 * Per scenario: a fresh server on a loopback port, a blackhole receiver on loopback (accepts
 * TCP, never answers), WEBHOOK_FDS_OPERATIONS (default 3000) operations `GET /_api/version`
 * with `Prefer: respond-async` and `x-callback-url` submitted over 16 keep-alive connections,
 * then a window of 5 s. The server's open fds are counted in /proc/PID/fd every 50 ms; after
 * the window a client on a new connection asks for `/_api/version` (5 s timeout). Scenarios:
 * the fd limit the server inherits, and `ulimit -n 1024`, a common default, where 3,000
 * sockets cannot fit. Linux only; 15-30 s in all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const OPERATIONS = Number(process.env.WEBHOOK_FDS_OPERATIONS ?? 3000);
const SUBMIT_CONNECTIONS = 16;
const WINDOW_MS = 5000;
const SAMPLE_MS = 50;
const NEW_CLIENT_TIMEOUT_MS = 5000;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** Exit code of the server for a bad command line. */
const EXIT_BAD_OPTIONS = 2;
const LOW_FD_LIMIT = 1024;
const DEFAULT_SERVER_MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

export interface WebhookFdsScenarioResult {
  /** `inherited` or the `ulimit -n` the server ran under. */
  fdLimit: string;
  operations: number;
  /** Operations the server accepted with 202. */
  accepted: number;
  /** Open fds of the server just before the first submit. */
  baselineFds: number;
  peakFds: number;
  /** Connections the receiver accepted, and the most open at once. */
  receiverConnections: number;
  receiverPeakOpen: number;
  /** The new client's answer, or why it got none. */
  newClient: string;
  newClientMs: number | null;
  maxListenersWarning: boolean;
  /** The `--webhook.allow` entry used: with a port, or without for a build that predates them. */
  allowEntry: string;
}

export interface WebhookFdsResult {
  serverMain: string;
  scenarios: WebhookFdsScenarioResult[];
}

/** Accepts TCP connections and never answers: a receiver that hangs every delivery. */
class BlackholeReceiver {
  readonly #server: Server = createServer((socket) => this.#accept(socket));
  readonly #sockets = new Set<Socket>();
  accepted = 0;
  peakOpen = 0;

  async listen(): Promise<number> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return (this.#server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #accept(socket: Socket): void {
    this.accepted += 1;
    this.#sockets.add(socket);
    this.peakOpen = Math.max(this.peakOpen, this.#sockets.size);
    socket.resume();
    socket.on('close', () => this.#sockets.delete(socket));
    // The server resets its side when an attempt times out or it stops: expected, nothing to do.
    socket.on('error', () => this.#sockets.delete(socket));
  }
}

/** The server binary, started on port 0 (the port is read from its "listening" log line). */
class BenchServer {
  readonly child: ChildProcess;
  port = 0;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(serverMain: string, args: readonly string[], fdLimit: number | null) {
    const node = [process.execPath, serverMain, '--server.endpoint', 'tcp://127.0.0.1:0', ...args];
    // `ulimit` lowers the limit of the shell, which `exec` then hands to node: no wrapper process stays.
    this.child = fdLimit === null
      ? spawn(node[0]!, node.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$@"`, 'sh', ...node], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the port once listening, or with the exit code if the server exits first. */
  async started(): Promise<{ port: number } | { exitCode: number | null }> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => { exitCode = code; });
    while (Date.now() < deadline) {
      const listening = this.stdout.split('\n').find((line) => line.includes('"msg":"listening"'));
      if (listening !== undefined) {
        this.port = Number((JSON.parse(listening) as { port: unknown }).port);
        return { port: this.port };
      }
      if (exitCode !== undefined) return { exitCode };
      await delay(25);
    }
    await this.stop();
    throw new Error(`the server did not listen within ${START_TIMEOUT_MS} ms:\n${this.stderr}`);
  }

  openFds(): number {
    return readdirSync(`/proc/${this.child.pid}/fd`).length;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(killer);
  }
}

/** One request; resolves with the status (0 and the error message when there was no answer). */
function get(port: number, path: string, headers: Record<string, string>, agent: Agent | false, timeoutMs: number): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers, agent, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: 0, error: error.message }));
    request.end();
  });
}

async function startServer(serverMain: string, receiverPort: number, fdLimit: number | null): Promise<{ server: BenchServer; allowEntry: string }> {
  // Newest build first: each later form drops what an older build would refuse at start.
  const forms = [
    { allowEntry: `127.0.0.1:${receiverPort}`, extra: ['--webhook.allow-http', 'true'] },
    { allowEntry: `127.0.0.1:${receiverPort}`, extra: [] },
    { allowEntry: '127.0.0.1', extra: [] },
  ];
  for (const { allowEntry, extra } of forms) {
    const server = new BenchServer(serverMain, ['--webhook.allow', allowEntry, '--webhook.secret', 'bench-secret', ...extra], fdLimit);
    const outcome = await server.started();
    if ('port' in outcome) return { server, allowEntry };
    if (outcome.exitCode !== EXIT_BAD_OPTIONS) throw new Error(`the server exited with code ${String(outcome.exitCode)}:\n${server.stderr}`);
  }
  throw new Error('the server refused every form of --webhook.allow');
}

async function runScenario(serverMain: string, fdLimit: number | null): Promise<WebhookFdsScenarioResult> {
  const receiver = new BlackholeReceiver();
  const receiverPort = await receiver.listen();
  const { server, allowEntry } = await startServer(serverMain, receiverPort, fdLimit);
  const agent = new Agent({ keepAlive: true, maxSockets: SUBMIT_CONNECTIONS });
  try {
    await get(server.port, '/_api/version', {}, agent, NEW_CLIENT_TIMEOUT_MS);
    const baselineFds = server.openFds();
    let peakFds = baselineFds;
    const sampler = setInterval(() => { peakFds = Math.max(peakFds, server.openFds()); }, SAMPLE_MS);
    const headers = { prefer: 'respond-async', 'x-callback-url': `http://127.0.0.1:${receiverPort}/hook` };
    let accepted = 0;
    let next = 0;
    const submitter = async (): Promise<void> => {
      while (next < OPERATIONS) {
        next += 1;
        if ((await get(server.port, '/_api/version', headers, agent, NEW_CLIENT_TIMEOUT_MS)).status === 202) accepted += 1;
      }
    };
    await Promise.all(Array.from({ length: SUBMIT_CONNECTIONS }, submitter));
    await delay(WINDOW_MS);
    const started = performance.now();
    const answer = await get(server.port, '/_api/version', {}, false, NEW_CLIENT_TIMEOUT_MS);
    const newClientMs = answer.status === 0 ? null : performance.now() - started;
    clearInterval(sampler);
    peakFds = Math.max(peakFds, server.openFds());
    return {
      fdLimit: fdLimit === null ? 'inherited' : String(fdLimit),
      operations: OPERATIONS, accepted, baselineFds, peakFds,
      receiverConnections: receiver.accepted, receiverPeakOpen: receiver.peakOpen,
      newClient: answer.status === 0 ? `not served (${answer.error ?? 'no answer'})` : `HTTP ${answer.status}`,
      newClientMs,
      maxListenersWarning: /MaxListenersExceededWarning/.test(server.stderr),
      allowEntry,
    };
  } finally {
    agent.destroy();
    await server.stop();
    await receiver.close();
  }
}

export async function runWebhookFdsBench(serverMain: string = DEFAULT_SERVER_MAIN): Promise<WebhookFdsResult> {
  const scenarios = [await runScenario(serverMain, null), await runScenario(serverMain, LOW_FD_LIMIT)];
  return { serverMain, scenarios };
}

export function formatWebhookFdsResult(result: WebhookFdsResult): string {
  const lines = [
    `Webhook deliveries to a blackhole receiver (${result.serverMain})`,
    '',
    '| fd limit | operations (202) | fds before | peak fds | receiver connections (peak open) | new client after 5 s | MaxListenersExceededWarning | --webhook.allow |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of result.scenarios) {
    const newClient = row.newClientMs === null ? row.newClient : `${row.newClient} in ${row.newClientMs.toFixed(0)} ms`;
    lines.push(`| ${row.fdLimit} | ${row.operations} (${row.accepted}) | ${row.baselineFds} | ${row.peakFds} | ${row.receiverConnections} (${row.receiverPeakOpen}) | ${newClient} | ${row.maxListenersWarning ? 'yes' : 'no'} | \`${row.allowEntry}\` |`);
  }
  return lines.join('\n');
}

function serverMainArgument(argv: readonly string[]): string {
  const index = argv.indexOf('--server-main');
  if (index !== -1 && argv[index + 1] !== undefined) return argv[index + 1]!;
  return process.env.WEBHOOK_FDS_SERVER_MAIN ?? DEFAULT_SERVER_MAIN;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  console.log(formatWebhookFdsResult(await runWebhookFdsBench(serverMainArgument(process.argv.slice(2)))));
}
