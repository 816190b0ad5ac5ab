import os from 'node:os';

/** A process the benchmark started: stop() signals it at once (synchronously) and resolves once it exited. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The processes one run of the cluster part has running (Redis, nodes, the BullMQ worker), so
 * that all of them stop when the run ends, fails, or is interrupted: guard() makes SIGINT and
 * SIGTERM (bench/run.ts sends the latter to a part it stops) stop them before the process exits,
 * and an exit without the handlers still signals them, as stop() signals synchronously.
 */
export class LiveProcesses {
  readonly #live = new Set<Stoppable>();

  /** Registers `process` and returns it. */
  add<T extends Stoppable>(process: T): T {
    this.#live.add(process);
    return process;
  }

  /** Stops `process` and forgets it. */
  async stop(process: Stoppable): Promise<void> {
    this.#live.delete(process);
    await process.stop();
  }

  /** Stops every registered process, newest first (nodes before their Redis). */
  async stopAll(): Promise<void> {
    const processes = [...this.#live].reverse();
    this.#live.clear();
    for (const each of processes) await each.stop();
  }

  /** Installs the signal and exit handlers; the returned function removes them. */
  guard(): () => void {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.stderr.write(`${signal}: stopping ${this.#live.size} benchmark process(es)\n`);
      void this.stopAll().finally(() => process.exit(128 + os.constants.signals[signal]));
    };
    const onExit = (): void => {
      for (const each of this.#live) void each.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('exit', onExit);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
    };
  }
}
