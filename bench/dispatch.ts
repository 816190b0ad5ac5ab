/**
 * A trivial job's round trip through the engine and through `piscina.run()`, same function,
 * same thread count, in one run:
 *
 *   node dist/bench/dispatch.js
 *
 * Each side keeps IN_FLIGHT jobs in flight: every completion submits the next job, as a busy
 * server does. A tinybench sample is the time for the next SAMPLE_JOBS completions, so ops/s
 * is SAMPLE_JOBS over the mean sample time. Latency is each job's time from submit to its
 * result, which at IN_FLIGHT jobs in flight is mostly waiting behind the others.
 * (Bursts of 10k submitted in one synchronous loop and then awaited measure lower for the
 * engine: it hands jobs over once per event-loop turn, so its workers idle while the loop
 * submits.)
 * Piscina runs once with its defaults and once per `atomics` mode with `concurrentTasksPerWorker`
 * raised to the engine's per-worker concurrency; the best of those is "piscina.run(best)".
 * Only one pool exists at a time: each is started before its task and destroyed after it.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import { Engine, type SubmitRequest } from '../engine/index.js';
import { LatencySamples } from '../engine/test-fixtures/latency-samples.js';
import { TRIVIAL_PATH } from '../engine/test-fixtures/trivial-handler.js';

const IN_FLIGHT = 10_000;
const SAMPLE_JOBS = 10_000;
const THREADS = availableParallelism();
/** The engine's default `concurrencyPerWorker`. */
const CONCURRENCY_PER_WORKER = 64;
const TIME_MS = Number(process.env.DISPATCH_BENCH_TIME_MS ?? 3000);
const TRIVIAL_MODULE = fileURLToPath(new URL('../engine/test-fixtures/trivial-handler.js', import.meta.url));
const REQUEST: SubmitRequest = { method: 'GET', path: TRIVIAL_PATH, query: '', headers: [], body: null };

export interface DispatchRow {
  name: string;
  threads: number;
  /** Jobs one thread runs at once. */
  perWorker: number;
  opsPerSecond: number;
  meanLatencyMs: number;
  p99LatencyMs: number;
  jobs: number;
}

export interface DispatchResult {
  rows: DispatchRow[];
  /** Engine ops/s over the best piscina.run() ops/s. */
  ratio: number;
}

/**
 * One side of the comparison: a stream of trivial jobs kept IN_FLIGHT deep. Subclasses submit
 * one job (`submitOne`) and call `completed` with its latency when it is done.
 */
abstract class Subject {
  abstract readonly name: string;
  abstract readonly perWorker: number;
  protected samples = new LatencySamples();
  #completedCount = 0;
  #sampleTarget = Infinity;
  #sampleDone: (() => void) | undefined;
  #refilling = false;
  #inFlight = 0;
  #drained: (() => void) | undefined;

  protected abstract open(): Promise<void>;
  protected abstract close(): Promise<void>;
  protected abstract submitOne(): void;

  /** Starts the threads and fills the pipeline. */
  async start(samples: LatencySamples): Promise<void> {
    await this.open();
    this.samples = samples;
    this.#refilling = true;
    for (let index = 0; index < IN_FLIGHT; index++) this.#submit();
  }

  /** Resolves when SAMPLE_JOBS more jobs have completed. */
  nextSample(): Promise<void> {
    return new Promise((resolve) => {
      this.#sampleTarget = this.#completedCount + SAMPLE_JOBS;
      this.#sampleDone = resolve;
    });
  }

  /** Stops refilling, waits for the jobs in flight (not recorded: the queue only shrinks), and stops the threads. */
  async stop(): Promise<void> {
    this.#refilling = false;
    this.samples = new LatencySamples();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => { this.#drained = resolve; });
    await this.close();
  }

  protected completed(latencyMs: number): void {
    this.samples.record(latencyMs);
    this.#inFlight--;
    if (++this.#completedCount >= this.#sampleTarget) {
      this.#sampleTarget = Infinity;
      this.#sampleDone!();
    }
    if (this.#refilling) this.#submit();
    else if (this.#inFlight === 0) this.#drained?.();
  }

  #submit(): void {
    this.#inFlight++;
    this.submitOne();
  }
}

/** Job ids are consecutive: a submit time is found by id in a ring larger than IN_FLIGHT. */
const SUBMITTED_AT_MASK = 2 ** Math.ceil(Math.log2(2 * IN_FLIGHT)) - 1;

class EngineSubject extends Subject {
  readonly name = 'engine.submit';
  readonly perWorker = CONCURRENCY_PER_WORKER;
  #engine: Engine | undefined;
  #routeIndex = 0;
  readonly #submittedAt = new Float64Array(SUBMITTED_AT_MASK + 1);
  #failure: Error | undefined;

  protected async open(): Promise<void> {
    const engine = await Engine.start({
      threads: THREADS, concurrencyPerWorker: CONCURRENCY_PER_WORKER, handlerModules: [TRIVIAL_MODULE],
      maxQueuedJobs: 2 * IN_FLIGHT,
    });
    const match = engine.routes.match(REQUEST.method, REQUEST.path);
    if (match.kind !== 'found') throw new Error(`no route ${REQUEST.path}`);
    this.#routeIndex = match.routeIndex;
    engine.subscribe((kind, jobId) => {
      if (kind === 'done') this.completed(performance.now() - this.#submittedAt[jobId & SUBMITTED_AT_MASK]);
      else if (kind === 'failed' || kind === 'cancelled' || kind === 'timedOut') this.#failure ??= new Error(`job ${jobId} ended ${kind}`);
    });
    this.#engine = engine;
  }

  protected submitOne(): void {
    const submittedAt = performance.now();
    this.#submittedAt[this.#engine!.submit(this.#routeIndex, REQUEST) & SUBMITTED_AT_MASK] = submittedAt;
  }

  protected async close(): Promise<void> {
    await this.#engine?.close();
    this.#engine = undefined;
    if (this.#failure !== undefined) throw this.#failure;
  }
}

class PiscinaSubject extends Subject {
  readonly name: string;
  readonly perWorker: number;
  readonly #atomics: 'sync' | 'async' | 'disabled' | undefined;
  #pool: Piscina | undefined;

  /** `perWorker` and `atomics` undefined: Piscina's defaults. */
  constructor(name: string, perWorker?: number, atomics?: 'sync' | 'async' | 'disabled') {
    super();
    this.name = name;
    this.perWorker = perWorker ?? 1;
    this.#atomics = atomics;
  }

  protected async open(): Promise<void> {
    this.#pool = new Piscina({
      filename: TRIVIAL_MODULE, minThreads: THREADS, maxThreads: THREADS, idleTimeout: Infinity,
      ...(this.perWorker === 1 ? {} : { concurrentTasksPerWorker: this.perWorker }),
      ...(this.#atomics === undefined ? {} : { atomics: this.#atomics }),
    });
    // Every thread up before anything is measured.
    await Promise.all(Array.from({ length: THREADS * 4 }, () => this.#pool!.run(REQUEST)));
  }

  protected submitOne(): void {
    const submittedAt = performance.now();
    this.#pool!.run(REQUEST).then(() => this.completed(performance.now() - submittedAt), (error: Error) => {
      throw new Error('a piscina task failed', { cause: error });
    });
  }

  protected async close(): Promise<void> {
    await this.#pool?.destroy();
    this.#pool = undefined;
  }
}

export async function runDispatchBench(): Promise<DispatchResult> {
  const subjects: Subject[] = [
    new EngineSubject(),
    new PiscinaSubject('piscina.run(defaults)'),
    new PiscinaSubject('piscina.run(atomics sync)', CONCURRENCY_PER_WORKER, 'sync'),
    new PiscinaSubject('piscina.run(atomics async)', CONCURRENCY_PER_WORKER, 'async'),
    new PiscinaSubject('piscina.run(atomics disabled)', CONCURRENCY_PER_WORKER, 'disabled'),
  ];
  const samples = new Map(subjects.map((subject) => [subject.name, new LatencySamples()]));
  const bench = new Bench({ name: 'dispatch', time: TIME_MS, iterations: 5, warmupTime: 500, warmupIterations: 2, throws: true });
  for (const subject of subjects) {
    const recorded = samples.get(subject.name)!;
    bench.add(subject.name, () => subject.nextSample(), {
      async: true,
      // Called for the warm-up and again for the measured run: only the latter's samples count.
      beforeAll: async () => {
        recorded.clear();
        await subject.start(recorded);
      },
      afterAll: () => subject.stop(),
    });
  }
  await bench.run();

  const rows = subjects.map((subject): DispatchRow => {
    const result = bench.getTask(subject.name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`${subject.name}: no result`);
    const latency = samples.get(subject.name)!.summary();
    return {
      name: subject.name,
      threads: THREADS,
      perWorker: subject.perWorker,
      opsPerSecond: (SAMPLE_JOBS * 1000) / result.latency.mean,
      meanLatencyMs: latency.mean,
      p99LatencyMs: latency.p99,
      jobs: latency.count,
    };
  });
  const engineRow = rows[0];
  const bestPiscina = rows.slice(2).reduce((best, row) => (row.opsPerSecond > best.opsPerSecond ? row : best));
  rows.push({ ...bestPiscina, name: `piscina.run(best) = ${bestPiscina.name.replace('piscina.run', '')}` });
  return { rows, ratio: engineRow.opsPerSecond / bestPiscina.opsPerSecond };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rows, ratio } = await runDispatchBench();
  console.log(`trivial job round trip, ${THREADS} threads, ${IN_FLIGHT} jobs kept in flight, samples of ${SAMPLE_JOBS} completions, ${TIME_MS} ms per subject`);
  console.table(rows.map((row) => ({
    subject: row.name,
    threads: row.threads,
    'jobs/worker': row.perWorker,
    'ops/s': Math.round(row.opsPerSecond),
    'mean latency ms': Number(row.meanLatencyMs.toFixed(2)),
    'p99 latency ms': Number(row.p99LatencyMs.toFixed(2)),
    jobs: row.jobs,
  })));
  console.log(`ratio engine/piscina.run(best): ${ratio.toFixed(1)}×`);
}
