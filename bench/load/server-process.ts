import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** How to start a server program on a given port. */
export interface ServerCommand {
  /** Shown in logs and errors. */
  readonly name: string;
  readonly command: string;
  args(port: number): readonly string[];
}

export interface ServerStartOptions {
  /** Give up (and kill the process) if it does not accept connections by then. @defaultValue 15000 */
  readonly startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const CONNECT_POLL_MS = 25;
const STDERR_TAIL_CHARS = 4096;
const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/** Asks the kernel for a free loopback port. Another process could take it before the server binds; start() then fails loudly. */
async function findFreePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, HOST);
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('cannot learn the port of a probe socket');
  return address.port;
}

async function acceptsConnections(port: number): Promise<boolean> {
  const socket = connect(port, HOST);
  try {
    await once(socket, 'connect');
    return true;
  } catch (error) {
    // Refused means "not listening yet", the one answer we poll through.
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return false;
    throw error;
  } finally {
    socket.destroy();
  }
}

/** A server program running on a loopback port, started for a benchmark. */
export class ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #stderrTail = '';
  #spawnError: Error | undefined;

  private constructor(name: string, port: number, child: ChildProcess) {
    this.name = name;
    this.port = port;
    this.url = `http://${HOST}:${port}`;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Without a listener a failed spawn (say, ENOENT) would crash the orchestrator instead of failing start().
    child.once('error', (error) => {
      this.#spawnError = error;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
  }

  /** Starts `command` on a free port and resolves once the port accepts TCP connections. */
  static async start(command: ServerCommand, options: ServerStartOptions = {}): Promise<ServerProcess> {
    const port = await findFreePort();
    const child = spawn(command.command, command.args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new ServerProcess(command.name, port, child);
    const deadline = performance.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    while (!(await acceptsConnections(port))) {
      if (server.#spawnError !== undefined) {
        throw new Error(`${command.name} could not be started`, { cause: server.#spawnError });
      }
      if (server.#hasExited()) {
        throw new Error(`${command.name} exited with ${server.#exitDescription()} before listening:\n${server.#stderrTail}`);
      }
      if (performance.now() > deadline) {
        await server.stop();
        throw new Error(`${command.name} did not accept connections on port ${port} in time:\n${server.#stderrTail}`);
      }
      await delay(CONNECT_POLL_MS);
    }
    return server;
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid: it failed to spawn`);
    return pid;
  }

  /** Sends SIGTERM, then SIGKILL if the process still runs after `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs: number = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (this.#hasExited() || this.#spawnError !== undefined) return;
    this.#child.kill('SIGTERM');
    const killTimer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(killTimer);
  }

  #hasExited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  #exitDescription(): string {
    return this.#child.signalCode ?? `code ${String(this.#child.exitCode)}`;
  }
}
