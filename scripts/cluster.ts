// Starts a cluster on this machine to try it out: one Redis (`redis-server` from the PATH, on a
// free port) and N server nodes on consecutive ports, joined to it; Ctrl-C stops all:
//   npm run cluster -- [--nodes 3] [--port 8529] [--host 127.0.0.1] [--quiet] [-- NODE OPTIONS]
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RedisProcess } from './redis-process.js';

const USAGE = [
  'usage: npm run cluster -- [--nodes N] [--port P] [--host H] [--quiet] [-- NODE OPTIONS]',
  '  --nodes N  nodes to start, 1 to 26 (node-a, node-b, ...); default 3',
  '  --port P   port of the first node, the others on P+1, P+2, ...; default 8529',
  '  --host H   address the nodes listen on; default 127.0.0.1',
  '  --quiet    write the nodes\' logs to files instead of the terminal',
  '  any other --name value, and everything after --, goes to every node (e.g. --server.threads 2)',
].join('\n');
const EXIT_USAGE = 2;
const EXIT_FAILED = 1;

const SERVER_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));
const MAX_NODES = 26;
const START_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 50;
const READY_REQUEST_TIMEOUT_MS = 1000;
const STOP_TIMEOUT_MS = 10_000;
/** Lines of a node's output shown when it fails. */
const TAIL_LINES = 20;
/** Set by this script for each node; a second value would make the server refuse to start. */
const RESERVED_NODE_OPTIONS: ReadonlySet<string> = new Set(['--server.endpoint', '--cluster.redis', '--cluster.node-id']);

interface ClusterArguments {
  nodes: number;
  port: number;
  host: string;
  quiet: boolean;
  /** Passed to every node as they are. */
  nodeArgs: string[];
}

class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

/** The cluster could not start: a port is taken, Redis is missing. */
class StartError extends Error {
  readonly code = 'ERR_CLUSTER_START';
}

function parseArguments(argv: readonly string[]): ClusterArguments | 'help' {
  const parsed: ClusterArguments = { nodes: 3, port: 8529, host: '127.0.0.1', quiet: false, nodeArgs: [] };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--') {
      parsed.nodeArgs.push(...argv.slice(index + 1));
      break;
    }
    if (argument === '--help' || argument === '-h') return 'help';
    if (argument === '--quiet') {
      parsed.quiet = true;
      continue;
    }
    if (!argument.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(argument)}`);
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument : argument.slice(0, equals);
    // A following `--x` is the next option; a flag the server reads as `true` without a value may stand alone.
    const separateValue = equals === -1 && index + 1 < argv.length && !argv[index + 1].startsWith('--') ? argv[index + 1] : undefined;
    if (separateValue !== undefined) index++;
    const value = equals === -1 ? separateValue : argument.slice(equals + 1);
    if (name === '--nodes') parsed.nodes = integerIn(name, value, 1, MAX_NODES);
    else if (name === '--port') parsed.port = integerIn(name, value, 1, 65535);
    else if (name === '--host') {
      if (value === undefined || value === '') throw new UsageError('--host: missing value');
      parsed.host = value.replace(/^\[(.*)\]$/, '$1');
    } else parsed.nodeArgs.push(argument, ...(separateValue === undefined ? [] : [separateValue]));
  }
  const lastPort = parsed.port + parsed.nodes - 1;
  if (lastPort > 65535) throw new UsageError(`--port ${parsed.port} leaves no room for ${parsed.nodes} nodes (the last would be on ${lastPort})`);
  for (const argument of parsed.nodeArgs) {
    const name = argument.split('=', 1)[0];
    if (RESERVED_NODE_OPTIONS.has(name)) throw new UsageError(`${name} is set by this script for each node (use --host, --port)`);
  }
  return parsed;
}

function integerIn(name: string, value: string | undefined, minimum: number, maximum: number): number {
  const parsed = value !== undefined && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= minimum && parsed <= maximum)) throw new UsageError(`${name}: expected an integer from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`);
  return parsed;
}

/** `HOST` as it goes into URLs: IPv6 addresses in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Fails with the first port of the range someone listens on. The server's own "cannot listen"
 * would say so too, but uWebSockets binds with SO_REUSEPORT: a node would share the port of a
 * server left running from an earlier try and answer half of its requests.
 */
async function assertPortsFree(host: string, firstPort: number, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const port = firstPort + index;
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => {
        const reason = error.code === 'EADDRINUSE' ? 'is taken: another process listens on it'
          : error.code === 'EACCES' ? 'needs privileges (ports below 1024)'
            : `cannot be listened on (${error.code ?? error.message})`;
        reject(new StartError(`port ${port} (for ${nodeId(index)}) on ${host} ${reason}; choose another range with --port`));
      });
      probe.listen(port, host, () => probe.close(() => resolve()));
    });
  }
}

/** node-a, node-b, ... */
function nodeId(index: number): string {
  return `node-${String.fromCharCode(97 + index)}`;
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function describeExit({ code, signal }: ExitStatus): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

/** One server node: its output forwarded line by line, prefixed with its id, and the last lines kept. */
class NodeProcess {
  readonly nodeId: string;
  readonly url: string;
  readonly exited: Promise<ExitStatus>;
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  readonly #logFile: WriteStream | null;

  constructor(nodeId: string, host: string, port: number, redisUrl: string, nodeArgs: readonly string[], logDirectory: string | null) {
    this.nodeId = nodeId;
    this.url = `http://${urlHost(host)}:${port}`;
    this.#logFile = logDirectory === null ? null : createWriteStream(join(logDirectory, `${nodeId}.log`));
    this.#child = spawn(process.execPath, [
      SERVER_MAIN, '--server.endpoint', `tcp://${urlHost(host)}:${port}`, '--cluster.redis', redisUrl, '--cluster.node-id', nodeId, ...nodeArgs,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    createInterface({ input: this.#child.stdout!, crlfDelay: Infinity }).on('line', (line) => this.#onLine(line, process.stdout));
    createInterface({ input: this.#child.stderr!, crlfDelay: Infinity }).on('line', (line) => this.#onLine(line, process.stderr));
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines it printed, prefixed, for an error message. */
  get tail(): string {
    return this.#tail.length === 0 ? '  (no output)' : this.#tail.map((line) => `  ${line}`).join('\n');
  }

  /** Polls `GET /_api/version` (any answer, 401 too, means it serves); resolves with why not, or null once it answers. */
  async waitUntilAnswering(): Promise<string | null> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) return `exited (${describeExit(await this.exited)}) before it answered`;
      if (await answers(`${this.url}/_api/version`)) return null;
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    return `did not answer GET /_api/version within ${START_TIMEOUT_MS} ms`;
  }

  /** SIGTERM (the server drains), SIGKILL when it takes longer than STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    if (this.running) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => {
      console.error(`cluster: ${this.nodeId} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM: killing it`);
      this.#child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    if (this.#logFile !== null) await new Promise((resolve) => this.#logFile!.end(resolve));
  }

  #onLine(line: string, terminal: NodeJS.WriteStream): void {
    const prefixed = `${this.nodeId} | ${line}`;
    this.#tail.push(prefixed);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    if (this.#logFile !== null) this.#logFile.write(`${line}\n`);
    else terminal.write(`${prefixed}\n`);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(READY_REQUEST_TIMEOUT_MS) });
    await response.arrayBuffer();
    return true;
  } catch (error) {
    // fetch's TypeError is a refused or reset connection: not listening yet.
    if (error instanceof TypeError || (error as Error).name === 'TimeoutError') return false;
    throw error;
  }
}

/** Resolves with the first SIGINT or SIGTERM; later ones are ignored, as the stop is under way. */
function interruption(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => resolve(signal));
  });
}

async function runCluster(options: ClusterArguments): Promise<number> {
  await assertPortsFree(options.host, options.port, options.nodes);
  const interrupted = interruption();
  let redis: RedisProcess;
  try {
    redis = await RedisProcess.start();
  } catch (error) {
    throw new StartError(`cannot start Redis: ${(error as Error).message}`, { cause: error });
  }
  const logDirectory = options.quiet ? mkdtempSync(join(tmpdir(), 'cluster-')) : null;
  const nodes = Array.from({ length: options.nodes }, (_, index) =>
    new NodeProcess(nodeId(index), options.host, options.port + index, redis.url, options.nodeArgs, logDirectory));
  let exitCode = 0;
  try {
    const startFailures = Promise.all(nodes.map(async (node) => {
      const failure = await node.waitUntilAnswering();
      return failure === null ? null : `${node.nodeId} (${node.url}) ${failure}; its last output:\n${node.tail}`;
    }));
    const started = await Promise.race([startFailures, interrupted]);
    if (Array.isArray(started) && started.some((failure) => failure !== null)) {
      console.error(`cluster: ${started.filter((failure) => failure !== null).join('\n')}`);
      exitCode = EXIT_FAILED;
    } else if (Array.isArray(started)) {
      const width = Math.max(5, ...nodes.map((node) => node.nodeId.length)) + 2;
      const lines = nodes.map((node) => `${node.nodeId.padEnd(width)}${node.url}`);
      lines.push(`${'redis'.padEnd(width)}${redis.url}`);
      if (logDirectory !== null) lines.push(`${'logs'.padEnd(width)}${logDirectory}`);
      console.log(`${lines.join('\n')}\n${nodes.length} node${nodes.length === 1 ? '' : 's'} running; Ctrl-C stops all`);
      const unexpectedExit = Promise.race(nodes.map(async (node) => ({ node, status: await node.exited })));
      const ended = await Promise.race([interrupted, unexpectedExit]);
      if (typeof ended !== 'string') {
        console.error(`cluster: ${ended.node.nodeId} (${ended.node.url}) exited unexpectedly (${describeExit(ended.status)}); its last output:\n${ended.node.tail}`);
        exitCode = EXIT_FAILED;
      }
    }
  } finally {
    console.log(`stopping ${nodes.length} node${nodes.length === 1 ? '' : 's'} and Redis`);
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
  }
  if (exitCode === 0) console.log('stopped');
  return exitCode;
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parseArguments(argv);
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  process.exitCode = await runCluster(options);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`cluster: ${error.message}\n${USAGE}`);
    process.exitCode = EXIT_USAGE;
  } else if (error instanceof StartError) {
    console.error(`cluster: ${error.message}`);
    process.exitCode = EXIT_FAILED;
  } else {
    console.error(`cluster: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exitCode = EXIT_FAILED;
  }
});
