import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * A `redis-server` of our own for tests, benchmarks and `npm run cluster`: on a free loopback
 * port, in a temporary directory, with AOF on (`appendfsync everysec`, as the README advises),
 * stopped and its directory removed by `stop()`. The binary comes from the PATH (Debian's
 * `redis-server` package; `.ci/run` installs it when missing).
 */

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
/** Another process may take the free port between our probe and Redis's bind: try again a few times. */
const START_ATTEMPTS = 5;

export interface RedisProcessOptions {
  /** Keep data in this directory (survives `stop()`); default: a fresh temporary one, removed at stop. */
  directory?: string;
  /** Port to listen on; default: a free one. */
  port?: number;
  /** `appendfsync`: `everysec` (default), `always` or `no`. */
  appendFsync?: 'everysec' | 'always' | 'no';
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '100mb']`. */
  extraArgs?: string[];
}

/** A running `redis-server`. */
export class RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly directory: string;
  readonly #child: ChildProcess;
  readonly #ownsDirectory: boolean;
  readonly #exited: Promise<void>;
  readonly #options: RedisProcessOptions;

  private constructor(child: ChildProcess, port: number, directory: string, ownsDirectory: boolean, options: RedisProcessOptions) {
    this.#child = child;
    this.#options = options;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.directory = directory;
    this.#ownsDirectory = ownsDirectory;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /** The process id, for CPU accounting (/proc/PID/stat). */
  get pid(): number {
    return this.#child.pid!;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts one; rejects with a clear message when `redis-server` is not installed. */
  static async start(options: RedisProcessOptions = {}): Promise<RedisProcess> {
    const ownsDirectory = options.directory === undefined;
    const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'redis-'));
    mkdirSync(directory, { recursive: true });
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = options.port ?? await freePort();
      try {
        return await RedisProcess.#startOn(port, directory, ownsDirectory, options);
      } catch (error) {
        lastError = error as Error;
        if ((error as { code?: unknown }).code === 'ENOENT' || options.port !== undefined) break;
      }
    }
    if (ownsDirectory) rmSync(directory, { recursive: true, force: true });
    throw lastError!;
  }

  static async #startOn(port: number, directory: string, ownsDirectory: boolean, options: RedisProcessOptions): Promise<RedisProcess> {
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', directory,
      '--save', '', '--appendonly', 'yes', '--appendfsync', options.appendFsync ?? 'everysec',
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
      ...(options.extraArgs ?? []),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const redis = new RedisProcess(child, port, directory, ownsDirectory, options);
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(Object.assign(new Error('redis-server is not on the PATH: install it (Debian: apt-get install -y redis-server)'), { code: 'ENOENT' }));
        } else reject(error);
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} before it listened: ${output.trim()}`)));
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (await answersPing(port)) return redis;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`redis-server did not answer on port ${port} within ${START_TIMEOUT_MS} ms: ${output.trim()}`);
    })();
    try {
      return await Promise.race([ready, spawnError]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** Stops it (SIGTERM: Redis flushes its AOF), SIGKILL after a timeout; removes its directory if it made it. */
  async stop(): Promise<void> {
    if (this.running) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
    if (this.#ownsDirectory) rmSync(this.directory, { recursive: true, force: true });
  }

  /** Kills it at once (SIGKILL), keeping its directory, as a crash would. */
  async kill(): Promise<void> {
    if (this.running) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /**
   * A new process on the same port and directory: a crash and restart (SIGKILL: with
   * `appendfsync everysec`, up to a second of writes may be lost), or with `graceful` a clean
   * one (SIGTERM: Redis writes its AOF out before it exits, nothing is lost).
   */
  async restart(options: { graceful?: boolean } = {}): Promise<RedisProcess> {
    if (this.running && options.graceful === true) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    if (this.running) await this.kill();
    return RedisProcess.#startOn(this.port, this.directory, this.#ownsDirectory, this.#options);
  }
}

/** A TCP port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}
