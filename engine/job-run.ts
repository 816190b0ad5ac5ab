import { ABORT_NONE, ABORT_SHUTDOWN, ABORT_TIMED_OUT } from './layout.js';
import { JobTerminatedError } from './errors.js';
import type { RequestEnvelope } from './codec.js';
import { addWarnings, LogBuffer, PhaseTracker } from './job-report.js';
import type { JobContext, JobProgress, JobUser, JobWarning } from './types.js';

/**
 * One job running in a worker: the handler's `ctx`, and the worker's bookkeeping for it.
 *
 * Cancellation state lives in the job's abort slot in shared memory, written by the main
 * thread. `checkpoint()` reads it directly, so a cancelled job stops at its next checkpoint
 * with no message round trip. The worker wakes on its doorbell after a cancel and calls
 * `abort()`, which fires `signal` and ends pending `sleep()`s. The AbortController is created
 * only when a handler asks for `signal`: most jobs never do.
 */
export class JobRun implements JobContext {
  readonly jobId: number;
  readonly slot: number;
  readonly deadline: number;
  readonly attempt: number;
  /** Latest progress not yet sent to the main thread (coalesced). */
  pendingProgress: JobProgress | null = null;
  /** Log lines not yet sent; null until the handler logs. */
  logs: LogBuffer | null = null;
  /** What `warn` reported, sent with the result; null until then. */
  warnings: JobWarning[] | null = null;
  /** Null until the handler names a phase. */
  phases: PhaseTracker | null = null;
  /** A report (progress or log lines) is waiting for the next tick. */
  reportScheduled = false;
  readonly #abortSlots: Int32Array;
  readonly #userName: string | null;
  readonly #superuser: boolean;
  #user: JobUser | null | undefined;
  #controller: AbortController | null = null;
  #sleepers: Set<Sleeper> | null = null;
  #aborted = false;
  readonly #onProgress: (run: JobRun) => void;

  constructor(envelope: RequestEnvelope, abortSlots: Int32Array, onProgress: (run: JobRun) => void) {
    this.jobId = envelope.jobId;
    this.slot = envelope.slot;
    this.deadline = envelope.deadline === 0 ? Infinity : envelope.deadline;
    this.attempt = envelope.attempt;
    this.#userName = envelope.userName;
    this.#superuser = envelope.superuser;
    this.#abortSlots = abortSlots;
    this.#onProgress = onProgress;
  }

  /** Made on first read, frozen so that one handler cannot change what another part of it sees. */
  get user(): JobUser | null {
    if (this.#user === undefined) {
      this.#user = this.#userName === null ? null : Object.freeze({ name: this.#userName, superuser: this.#superuser });
    }
    return this.#user;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.terminationError());
    }
    return this.#controller.signal;
  }

  /** The abort slot's value: ABORT_NONE while the job may run on. */
  get abortReason(): number {
    return Atomics.load(this.#abortSlots, this.slot);
  }

  checkpoint(): void {
    if (Atomics.load(this.#abortSlots, this.slot) !== ABORT_NONE) throw this.terminationError();
  }

  sleep(ms: number): Promise<void> {
    if (this.abortReason !== ABORT_NONE) return Promise.reject(this.terminationError());
    return new Promise<void>((resolve, reject) => {
      const sleeper = new Sleeper(this, resolve, reject);
      sleeper.timer = setTimeout(wakeSleeper, ms, sleeper);
      (this.#sleepers ??= new Set()).add(sleeper);
    });
  }

  progress(progress: JobProgress): void {
    this.pendingProgress = progress;
    if (progress !== null && typeof progress === 'object' && (progress.phase !== undefined || progress.phases !== undefined)) {
      (this.phases ??= new PhaseTracker()).report(progress, Date.now());
    }
    this.#scheduleReport();
  }

  log(message: string, fields?: Record<string, unknown>): void {
    (this.logs ??= new LogBuffer()).add(message, fields, Date.now());
    this.#scheduleReport();
  }

  warn(warning: JobWarning): void {
    this.warnings = addWarnings(this.warnings, [warning]);
  }

  #scheduleReport(): void {
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    this.#onProgress(this);
  }

  /** Called by the worker when it sees this job's abort slot flipped. Idempotent. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const error = this.terminationError();
    this.#controller?.abort(error);
    if (this.#sleepers !== null) {
      for (const sleeper of this.#sleepers) {
        clearTimeout(sleeper.timer);
        sleeper.reject(error);
      }
      this.#sleepers.clear();
    }
  }

  removeSleeper(sleeper: Sleeper): void {
    this.#sleepers?.delete(sleeper);
  }

  terminationError(): JobTerminatedError {
    const reason = this.abortReason;
    return new JobTerminatedError(reason === ABORT_TIMED_OUT ? 'timed out' : reason === ABORT_SHUTDOWN ? 'shutdown' : 'cancelled');
  }
}

class Sleeper {
  timer: NodeJS.Timeout | undefined;
  constructor(readonly run: JobRun, readonly resolve: () => void, readonly reject: (error: Error) => void) {}
}

function wakeSleeper(sleeper: Sleeper): void {
  sleeper.run.removeSleeper(sleeper);
  sleeper.resolve();
}
