import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled server binary, as users start it (`node dist/server/main.js`). */
export const SERVER_MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));
/** The compiled add-user script (`node dist/scripts/add-user.js`). */
export const ADD_USER_SCRIPT = fileURLToPath(new URL('../../scripts/add-user.js', import.meta.url));
/** A handler module of our own, loaded with `--server.handlers` (see test/fixtures/custom-routes.ts). */
export const CUSTOM_ROUTES = fileURLToPath(new URL('../fixtures/custom-routes.js', import.meta.url));

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 20_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One pino JSON line of the server's stdout. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * A server binary started on port 0. `stop()` (call it in `after()`) sends SIGTERM and waits
 * for the exit, killing the process if it does not go.
 */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly exited: Promise<ExitStatus>;
  readonly #output: ProcessOutput;

  constructor(child: ChildProcess, port: number, exited: Promise<ExitStatus>, output: ProcessOutput) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.exited = exited;
    this.#output = output;
  }

  get stdout(): string {
    return this.#output.stdout;
  }

  get stderr(): string {
    return this.#output.stderr;
  }

  /** The JSON log lines printed so far. */
  get logLines(): LogLine[] {
    return parseLogLines(this.#output.stdout);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the exit; SIGKILLs and throws if it takes longer than `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS): Promise<ExitStatus> {
    if (this.running) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`server did not exit within ${timeoutMs} ms of ${signal}\nstderr: ${this.stderr}`);
    }
    return outcome;
  }
}

interface ProcessOutput {
  stdout: string;
  stderr: string;
}

export function parseLogLines(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // A line still being written; the next read completes it.
    }
  }
  return lines;
}

/** What a server is started under: `fileSizeLimitKb` caps the files it may grow (`ulimit -f`), as a full disk would. */
export interface ServerLimits {
  fileSizeLimitKb?: number;
}

function spawnServer(args: readonly string[], limits: ServerLimits = {}): { child: ChildProcess; output: ProcessOutput; exited: Promise<ExitStatus> } {
  const child = limits.fileSizeLimitKb === undefined
    ? spawn(process.execPath, [SERVER_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    // `exec`: the child is the server itself, so that signals reach it. sh counts in 512-byte blocks.
    : spawn('/bin/sh', ['-c', `ulimit -f ${limits.fileSizeLimitKb * 2}; exec "$0" "$@"`, process.execPath, SERVER_MAIN, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: ProcessOutput = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output.stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output.stderr += chunk; });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output, exited };
}

/**
 * Starts `node dist/server/main.js --server.endpoint tcp://127.0.0.1:0 [args]` and resolves once
 * it printed its `"msg":"listening"` line, with the port from that line. Adds
 * `--server.threads 2` unless `args` name a thread count, to stay gentle on a 2-core machine,
 * and `--server.demo-handlers true` unless `args` say otherwise.
 */
export async function startServer(args: readonly string[] = [], limits: ServerLimits = {}): Promise<ServerProcess> {
  const fullArgs = ['--server.endpoint', 'tcp://127.0.0.1:0', ...args];
  if (!args.some((arg) => arg.startsWith('--server.threads'))) fullArgs.push('--server.threads', '2');
  // Most scenarios need a job that spins, reports progress, fails or crashes its worker.
  if (!args.some((arg) => arg.startsWith('--server.demo-handlers'))) fullArgs.push('--server.demo-handlers', 'true');
  const { child, output, exited } = spawnServer(fullArgs, limits);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not print "listening" within ${START_TIMEOUT_MS} ms\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
    }, START_TIMEOUT_MS);
    const onData = (): void => {
      const listening = parseLogLines(output.stdout).find((line) => line.msg === 'listening');
      if (listening === undefined) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(Number(listening.port));
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening\nstderr: ${output.stderr}`));
    });
  });
  return new ServerProcess(child, port, exited, output);
}

export interface CompletedRun extends ExitStatus {
  stdout: string;
  stderr: string;
}

/**
 * Runs the server binary with exactly `args` until it exits by itself (bad options, --help).
 * A server that starts listening instead is killed after `timeoutMs` and reported as such.
 */
export async function runServerToExit(args: readonly string[], timeoutMs = 15_000): Promise<CompletedRun> {
  const { child, output, exited } = spawnServer(args);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const status = await exited;
  clearTimeout(timer);
  return { ...status, stdout: output.stdout, stderr: output.stderr };
}
