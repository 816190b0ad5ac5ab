import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stoppable } from './live-processes.js';

const WORKER_SCRIPT = fileURLToPath(new URL('../peers/bullmq-worker.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_TAIL_CHARS = 4096;

/** bench/peers/bullmq-worker.ts running in a process of its own, for its CPU from /proc. */
export class BullmqWorkerProcess implements Stoppable {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Spawns the worker and resolves once it printed `ready`; registers it through `onSpawn` first, so that a failed start is stopped too. */
  static async start(redisUrl: string, concurrency: number, onSpawn: (worker: BullmqWorkerProcess) => void): Promise<BullmqWorkerProcess> {
    const child = spawn(process.execPath, [WORKER_SCRIPT, '--redis', redisUrl, '--concurrency', String(concurrency)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const worker = new BullmqWorkerProcess(child);
    onSpawn(worker);
    let stderrTail = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
      process.stderr.write(chunk);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the BullMQ worker was not ready within ${START_TIMEOUT_MS / 1000} s:\n${stderrTail}`)), START_TIMEOUT_MS);
      let output = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('ready\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error('cannot start the BullMQ worker', { cause: error }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the BullMQ worker exited with ${signal ?? `code ${code}`} before it was ready:\n${stderrTail}`));
      });
    });
    return worker;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** SIGTERM (the worker closes and exits), SIGKILL after a timeout. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null || this.#child.pid === undefined) return;
    this.#child.kill('SIGTERM');
    const killTimer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(killTimer);
  }
}
