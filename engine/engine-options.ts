import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { EngineOptionsError } from './errors.js';

export interface EngineOptions {
  /** Worker threads. @defaultValue `os.availableParallelism()` */
  threads?: number;
  /** Jobs one worker runs at once (jobs that await do not hold a thread). @defaultValue 64 */
  concurrencyPerWorker?: number;
  /** Handler modules (absolute paths or file: URLs), loaded in order; the engine has no routes of its own. */
  handlerModules?: readonly string[];
  /** Jobs that may wait to start; `submit` throws `QueueFullError` beyond. @defaultValue 4096 */
  maxQueuedJobs?: number;
  /** How long a cancelled job may take to stop before its worker is terminated, ms. @defaultValue 250 */
  cancelGraceMs?: number;
  /** Deadline of jobs whose route sets none, ms; 0 for none. @defaultValue 0 */
  defaultTimeoutMs?: number;
  /** Bytes of each ring (power of two); larger envelopes spill to a MessagePort. @defaultValue 1 MiB */
  ringBytes?: number;
  /** Interval at which coalesced progress is sent, ms. @defaultValue 50 */
  progressIntervalMs?: number;
  /** V8 limits of each worker; one exceeding them dies and is replaced. */
  resourceLimits?: ResourceLimits;
  /**
   * Id of the first job; each later one gets the next integer. An embedder that restarts
   * chooses a start above every id it issued before (the server derives it from the clock),
   * so that a stale id never names a new job. @defaultValue 1
   */
  firstJobId?: number;
  /**
   * `resubmit` also takes ids this engine never issued: those of a cluster's shared counter,
   * for jobs another node accepted. The embedder keeps them apart from the engine's own ids
   * (a cluster node's engine counts from 1; the shared ids start near `Date.now() * 1000`).
   * @defaultValue false
   */
  externalJobIds?: boolean;
  /** Told each time a worker died or was terminated and is being replaced (for logs and metrics). */
  onWorkerReplaced?: (event: WorkerReplacedEvent) => void;
  /**
   * A directory where each worker, before it runs the handler of a job whose route is not
   * idempotent, appends the job's id (8 bytes, float64 little endian; one write(2), no fsync)
   * to a file of its own, `started-<lane>-<ms>-<n>.log`, moving to a new file every 4 MiB. An
   * embedder that persists jobs reads them after a crash: a job whose id is in none of them
   * never started (see start-log.ts). The embedder deletes files it no longer needs; a worker
   * never writes again to a file it moved on from. Off by default.
   */
  startLogDirectory?: string;
}

export interface WorkerReplacedEvent {
  lane: number;
  reason: string;
  /** Jobs of that worker that ended failed, were re-run, or were dispatched again. */
  failedJobCount: number;
  retriedJobCount: number;
  redispatchedJobCount: number;
}

/** The numeric options with their defaults applied, as the engine runs with them. */
export type ResolvedEngineOptions = Required<Omit<EngineOptions, 'resourceLimits' | 'handlerModules' | 'onWorkerReplaced' | 'startLogDirectory'>>;

/** Applies the defaults and checks each numeric option; throws `EngineOptionsError` at the first invalid one. */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  return {
    threads: positiveInteger(options.threads ?? availableParallelism(), 'threads'),
    concurrencyPerWorker: positiveInteger(options.concurrencyPerWorker ?? 64, 'concurrencyPerWorker'),
    maxQueuedJobs: positiveInteger(options.maxQueuedJobs ?? 4096, 'maxQueuedJobs'),
    cancelGraceMs: nonNegative(options.cancelGraceMs ?? 250, 'cancelGraceMs'),
    defaultTimeoutMs: nonNegative(options.defaultTimeoutMs ?? 0, 'defaultTimeoutMs'),
    ringBytes: powerOfTwo(options.ringBytes ?? 1 << 20, 'ringBytes'),
    progressIntervalMs: nonNegative(options.progressIntervalMs ?? 50, 'progressIntervalMs'),
    firstJobId: positiveInteger(options.firstJobId ?? 1, 'firstJobId'),
    externalJobIds: options.externalJobIds ?? false,
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new EngineOptionsError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new EngineOptionsError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

function powerOfTwo(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 4096 || (value & (value - 1)) !== 0) {
    throw new EngineOptionsError(`${name} must be a power of two of at least 4096, got ${value}`);
  }
  return value;
}
