/**
 * Clients that ask for a large result and never read it: how much memory they make the
 * server hold, and whether everyone else is still served meanwhile.
 *
 *   node dist/bench/hardening/slow-readers.js [--server-main PATH]
 *
 * `--server-main` (or SLOW_READERS_SERVER_MAIN) runs another build of the server, for
 * before/after numbers; the default is this build's dist/server/main.js. Each scenario gets a
 * fresh server on a loopback port holding one stored 20 MB result, then:
 *
 * - `pipelined`: one connection sends 50 `GET /_api/operations/{id}/result` at once and never reads;
 * - `paused`: 40 connections send one such request each and never read.
 *
 * Meanwhile a legitimate client keeps fetching `/_api/version` and the whole 20 MB result.
 * RSS growth is the peak VmRSS of the server process during the window minus its VmRSS just
 * before it. Attacker sockets are paused from the start (Node reads nothing into them), and
 * whether the server closed them is read from the server side's TCP state in /proc/net/tcp,
 * since a client that never reads cannot see the close. Linux only; about 12 s in all.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { readServerRssKb, ServerProcess, type ServerCommand } from '../load/index.js';

const RESULT_BYTES = 20 * 1024 * 1024;
const PIPELINED_REQUESTS = 50;
const PAUSED_CONNECTIONS = 40;
const WINDOW_MS = 4000;
const SAMPLE_MS = 50;
const LEGITIMATE_TIMEOUT_MS = 10_000;
const DEFAULT_SERVER_MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));
/** /proc/net/tcp state codes (include/net/tcp_states.h). */
const TCP_ESTABLISHED = '01';

export type SlowReadersScenarioName = 'pipelined' | 'paused';

export interface SlowReadersScenarioResult {
  scenario: SlowReadersScenarioName;
  description: string;
  /** Peak VmRSS during the window minus VmRSS just before it, in MB (10^6 bytes). */
  rssGrowthMb: number;
  baselineRssMb: number;
  peakRssMb: number;
  attackerConnections: number;
  /** Attacker connections the server had closed by the end of the window. */
  closedByServer: number;
  /** Whole requests the legitimate client completed during the window (version and 20 MB result). */
  legitimateServed: number;
  legitimateFailed: number;
  /** Slowest legitimate request of the window, in ms. */
  legitimateSlowestMs: number;
}

export interface SlowReadersResult {
  serverMain: string;
  resultBytes: number;
  windowMs: number;
  scenarios: SlowReadersScenarioResult[];
}

export interface SlowReadersOptions {
  /** The server build to run. @defaultValue this build's dist/server/main.js */
  serverMain?: string;
}

function serverCommand(serverMain: string): ServerCommand {
  return {
    name: 'server',
    command: process.execPath,
    args: (port) => [serverMain, '--server.endpoint', `tcp://127.0.0.1:${port}`, '--server.threads', '2'],
  };
}

/** Stores a 20 MB echo result with `x-arango-async: store` and waits until it is done; returns its id. */
async function storeLargeResult(baseUrl: string): Promise<string> {
  const submitted = await fetch(`${baseUrl}/_admin/echo`, {
    method: 'POST', headers: { 'x-arango-async': 'store' }, body: Buffer.alloc(RESULT_BYTES, 0x61),
  });
  await submitted.arrayBuffer();
  const jobId = submitted.headers.get('x-arango-async-id');
  if (submitted.status !== 202 || jobId === null) throw new Error(`storing the result answered ${submitted.status}`);
  for (;;) {
    const status = await fetch(`${baseUrl}/_api/job/${jobId}`);
    await status.arrayBuffer();
    if (status.status === 200) return jobId;
    if (status.status !== 204) throw new Error(`job ${jobId} status answered ${status.status}`);
    await delay(20);
  }
}

function resultRequest(jobId: string): string {
  return `GET /_api/operations/${jobId}/result HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

/** A connection that writes `payload` and then reads nothing at all. */
function openNonReader(port: number, payload: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      // Errors after the server closes a connection nobody reads are the point of the exercise.
      socket.on('error', () => undefined);
      socket.write(payload, () => resolve(socket));
    });
  });
}

/**
 * Client ports whose connection the server still holds open: its side of the connection is
 * ESTABLISHED. Once it closes, its side moves on (FIN_WAIT1 while the kernel still owes the
 * client data) even though the client, reading nothing, never sees the FIN.
 */
function portsHeldOpenByServer(serverPort: number): Set<number> {
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [, local, remote, state] = fields;
    if (state !== TCP_ESTABLISHED || Number.parseInt(local.split(':')[1], 16) !== serverPort) continue;
    ports.add(Number.parseInt(remote.split(':')[1], 16));
  }
  return ports;
}

interface LegitimateTally {
  served: number;
  failed: number;
  slowestMs: number;
}

/** Fetches the version and the whole result back to back until `stop` is set. */
async function legitimateClient(baseUrl: string, jobId: string, stop: { done: boolean }): Promise<LegitimateTally> {
  const tally: LegitimateTally = { served: 0, failed: 0, slowestMs: 0 };
  while (!stop.done) {
    for (const path of ['/_api/version', `/_api/operations/${jobId}/result`]) {
      const started = performance.now();
      try {
        const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(LEGITIMATE_TIMEOUT_MS) });
        const body = await response.arrayBuffer();
        if (response.status === 200 && body.byteLength > 0) tally.served++;
        else tally.failed++;
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        tally.failed++;
      }
      tally.slowestMs = Math.max(tally.slowestMs, performance.now() - started);
    }
  }
  return tally;
}

function megabytes(kb: number): number {
  return Math.round((kb * 1024) / 1e5) / 10;
}

async function runScenario(scenario: SlowReadersScenarioName, serverMain: string): Promise<SlowReadersScenarioResult> {
  const server = await ServerProcess.start(serverCommand(serverMain));
  const attackers: Socket[] = [];
  try {
    const jobId = await storeLargeResult(server.url);
    // One fetch first, so that the baseline includes what any reader costs once.
    await (await fetch(`${server.url}/_api/operations/${jobId}/result`)).arrayBuffer();
    await delay(200);
    const baselineKb = readServerRssKb(server.pid);
    let peakKb = baselineKb;
    const stop = { done: false };
    const legitimate = legitimateClient(server.url, jobId, stop);
    if (scenario === 'pipelined') {
      attackers.push(await openNonReader(server.port, resultRequest(jobId).repeat(PIPELINED_REQUESTS)));
    } else {
      for (let i = 0; i < PAUSED_CONNECTIONS; i++) attackers.push(await openNonReader(server.port, resultRequest(jobId)));
    }
    const deadline = performance.now() + WINDOW_MS;
    while (performance.now() < deadline) {
      peakKb = Math.max(peakKb, readServerRssKb(server.pid));
      await delay(SAMPLE_MS);
    }
    const open = portsHeldOpenByServer(server.port);
    const closedByServer = attackers.filter((socket) => !open.has(socket.localPort!)).length;
    stop.done = true;
    const tally = await legitimate;
    return {
      scenario,
      description: scenario === 'pipelined'
        ? `1 connection pipelining ${PIPELINED_REQUESTS} GET of a 20 MB result, never reading`
        : `${PAUSED_CONNECTIONS} connections with 1 GET of a 20 MB result each, never reading`,
      rssGrowthMb: megabytes(peakKb - baselineKb),
      baselineRssMb: megabytes(baselineKb),
      peakRssMb: megabytes(peakKb),
      attackerConnections: attackers.length,
      closedByServer,
      legitimateServed: tally.served,
      legitimateFailed: tally.failed,
      legitimateSlowestMs: Math.round(tally.slowestMs),
    };
  } finally {
    for (const socket of attackers) socket.destroy();
    await server.stop();
  }
}

/** Both scenarios, each on a fresh server. */
export async function runSlowReadersBench(options: SlowReadersOptions = {}): Promise<SlowReadersResult> {
  const serverMain = options.serverMain ?? process.env.SLOW_READERS_SERVER_MAIN ?? DEFAULT_SERVER_MAIN;
  const scenarios: SlowReadersScenarioResult[] = [];
  for (const scenario of ['pipelined', 'paused'] as const) scenarios.push(await runScenario(scenario, serverMain));
  return { serverMain, resultBytes: RESULT_BYTES, windowMs: WINDOW_MS, scenarios };
}

export function formatSlowReaders(result: SlowReadersResult): string {
  const lines = [
    `Slow readers: ${result.serverMain}, ${result.windowMs / 1000} s window per scenario`,
    '',
    '| scenario | RSS growth (MB) | baseline → peak RSS (MB) | attacker connections closed by server | legitimate served / failed | slowest legitimate (ms) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of result.scenarios) {
    lines.push(`| ${row.description} | ${row.rssGrowthMb} | ${row.baselineRssMb} → ${row.peakRssMb} | ${row.closedByServer}/${row.attackerConnections}` +
      ` | ${row.legitimateServed} / ${row.legitimateFailed} | ${row.legitimateSlowestMs} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = process.argv.indexOf('--server-main');
  const serverMain = flag === -1 ? undefined : process.argv[flag + 1];
  if (flag !== -1 && serverMain === undefined) throw new TypeError('--server-main needs a path to a server main.js');
  console.log(formatSlowReaders(await runSlowReadersBench({ serverMain })));
}
