/**
 * Bounds password verifications: at most `maxRunning` run at once, at most `maxWaiting` more wait
 * in line (first come, first served), and beyond that `run` refuses at once. scrypt runs on
 * libuv's pool of 4 threads, which also serves fs calls and the DNS lookups of webhook checks;
 * letting a flood of wrong passwords take every pool thread would stall those too.
 */
export class VerificationQueue {
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  readonly #waiting: Array<() => void> = [];
  #running = 0;

  constructor(maxRunning: number, maxWaiting: number) {
    this.#maxRunning = maxRunning;
    this.#maxWaiting = maxWaiting;
  }

  /** Verifications running now. */
  get running(): number {
    return this.#running;
  }

  /** Verifications waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a slot is free; undefined (and `task` never runs) when the line is full. */
  run<Result>(task: () => Promise<Result>): Promise<Result> | undefined {
    if (this.#running < this.#maxRunning) {
      this.#running++;
      return this.#execute(task);
    }
    if (this.#waiting.length >= this.#maxWaiting) return undefined;
    return new Promise<void>((resolve) => { this.#waiting.push(resolve); }).then(() => this.#execute(task));
  }

  async #execute<Result>(task: () => Promise<Result>): Promise<Result> {
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line (still counted as running), so a newcomer
      // cannot overtake those waiting.
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
