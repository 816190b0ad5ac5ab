import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Engine, JobEventKind } from '../../engine/index.js';
import { TypedHistogram } from './typed-histogram.js';

/** How a request was executed, for `requests_total{mode}`. */
export const MODE_BLOCKING = 0;
export const MODE_FIRE = 1;
export const MODE_STORE = 2;
/** Answered on the main thread: job API, auth, metrics, errors before queueing. */
export const MODE_INLINE = 3;
const MODE_NAMES = ['blocking', 'fire', 'store', 'inline'];

const JOB_EVENT_KINDS: JobEventKind[] = ['queued', 'running', 'progress', 'log', 'retrying', 'done', 'failed', 'cancelled', 'timedOut'];

/**
 * Prometheus metrics (prom-client). The hot path only bumps plain numbers in typed arrays;
 * prom-client reads them in its `collect` callbacks at scrape time, so metrics cost the
 * request path a few array increments and no label hashing.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** requests by mode × status (100-599). */
  readonly #requests = new Float64Array(MODE_NAMES.length * 600);
  readonly #jobEvents = new Float64Array(JOB_EVENT_KINDS.length);
  readonly #jobEventIndex = new Map<string, number>(JOB_EVENT_KINDS.map((kind, index) => [kind, index]));
  readonly #cancelRequestedAt = new Map<number, number>();
  readonly #cancelLatency: Histogram;
  /** performance.now() at each running job's start, for the duration histogram. */
  readonly #startedAt = new Map<number, number>();
  readonly #jobDuration: TypedHistogram;

  constructor(engine: Engine) {
    collectDefaultMetrics({ register: this.registry });
    const requests = this.#requests;
    new Counter({
      name: 'arangojobs_requests_total',
      help: 'HTTP requests answered, by execution mode and status code',
      labelNames: ['mode', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (let index = 0; index < requests.length; index++) {
          if (requests[index] !== 0) this.inc({ mode: MODE_NAMES[Math.floor(index / 600)], status: String(index % 600) }, requests[index]);
        }
      },
    });
    const jobEvents = this.#jobEvents;
    new Counter({
      name: 'arangojobs_job_transitions_total',
      help: 'Job transitions reported by the engine, by kind (done, failed, cancelled and timedOut are final)',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        JOB_EVENT_KINDS.forEach((kind, index) => this.inc({ kind }, jobEvents[index]));
      },
    });
    new Gauge({
      name: 'arangojobs_jobs',
      help: 'Jobs held by the engine, by state',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const stats = engine.stats;
        this.set({ state: 'queued' }, stats.queuedJobCount);
        this.set({ state: 'running' }, stats.runningJobCount);
      },
    });
    new Gauge({
      name: 'arangojobs_queue_depth',
      help: 'Jobs accepted and waiting for a worker',
      registers: [this.registry],
      collect() {
        this.set(engine.stats.queuedJobCount);
      },
    });
    new Gauge({
      name: 'arangojobs_worker_threads',
      help: 'Worker threads in the pool',
      registers: [this.registry],
      collect() {
        this.set(engine.stats.threads);
      },
    });
    new Counter({
      name: 'arangojobs_worker_restarts_total',
      help: 'Workers that died or were terminated and were replaced',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(engine.stats.workerRestarts);
      },
    });
    this.#cancelLatency = new Histogram({
      name: 'arangojobs_cancel_latency_seconds',
      help: 'Time from a cancel request to the job really ending',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.#jobDuration = new TypedHistogram({
      name: 'arangojobs_job_duration_seconds',
      help: 'Time a job ran, from its (last) start to its end, whatever the outcome',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
  }

  countRequest(mode: number, status: number): void {
    this.#requests[mode * 600 + status]++;
  }

  countJobEvent(kind: JobEventKind, jobId: number): void {
    this.#jobEvents[this.#jobEventIndex.get(kind)!]++;
    if (kind === 'running') {
      this.#startedAt.set(jobId, performance.now());
      return;
    }
    if (kind !== 'cancelled' && kind !== 'done' && kind !== 'failed' && kind !== 'timedOut') return;
    const startedAt = this.#startedAt.get(jobId);
    if (startedAt !== undefined) {
      this.#startedAt.delete(jobId);
      this.#jobDuration.observe((performance.now() - startedAt) / 1000);
    }
    if (this.#cancelRequestedAt.size > 0) {
      const requestedAt = this.#cancelRequestedAt.get(jobId);
      if (requestedAt !== undefined) {
        this.#cancelRequestedAt.delete(jobId);
        this.#cancelLatency.observe((performance.now() - requestedAt) / 1000);
      }
    }
  }

  /**
   * Runs `cancel` for `jobId`, timing it until the job's final event. The clock starts before
   * the call because a job still queued ends inside it; a cancel that did nothing is not timed.
   */
  timeCancel(jobId: number, cancel: (jobId: number) => boolean): boolean {
    this.#cancelRequestedAt.set(jobId, performance.now());
    const cancelled = cancel(jobId);
    if (!cancelled) this.#cancelRequestedAt.delete(jobId);
    return cancelled;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
