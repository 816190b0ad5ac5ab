/**
 * An engine under test with every job event recorded: tests submit by method and path, wait for
 * a job's events, and check at the end that every job ended exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, type EngineOptions, type JobEventData, type JobEventKind, type JobResult } from '../index.js';

export const FIXTURE_HANDLERS = fileURLToPath(new URL('./fixture-handlers.js', import.meta.url));
/**
 * The server's stock handler modules (ArangoDB's endpoints, the demonstration routes): the
 * engine has no routes of its own, and many tests drive these as any handler module.
 */
export const STOCK_HANDLERS = [
  fileURLToPath(new URL('../../server/handlers/arango-handlers.js', import.meta.url)),
  fileURLToPath(new URL('../../server/handlers/demo-handlers.js', import.meta.url)),
];
export const FINAL_KINDS: ReadonlySet<JobEventKind> = new Set(['done', 'failed', 'cancelled', 'timedOut']);
/** How long a test waits for an event before failing: generous, for a slow and busy machine. */
export const EVENT_TIMEOUT_MS = 20_000;

export interface RecordedEvent {
  kind: JobEventKind;
  jobId: number;
  data: JobEventData;
  /** performance.now() when the listener saw it. */
  atMs: number;
}

interface Waiter {
  jobId: number;
  kinds: ReadonlySet<JobEventKind>;
  resolve: (event: RecordedEvent) => void;
}

export interface SubmitOptions {
  query?: string;
  body?: Uint8Array | null;
  headers?: string[];
}

export class EngineHarness {
  readonly engine: Engine;
  readonly events: RecordedEvent[] = [];
  readonly #byJob = new Map<number, RecordedEvent[]>();
  #waiters: Waiter[] = [];

  /** Starts an engine serving the built-in and fixture handlers (unless `options` says otherwise). */
  static async start(options: EngineOptions = {}): Promise<EngineHarness> {
    return new EngineHarness(await Engine.start({ handlerModules: [...STOCK_HANDLERS, FIXTURE_HANDLERS], ...options }));
  }

  private constructor(engine: Engine) {
    this.engine = engine;
    engine.subscribe((kind, jobId, data) => {
      const event: RecordedEvent = { kind, jobId, data, atMs: performance.now() };
      this.events.push(event);
      let list = this.#byJob.get(jobId);
      if (list === undefined) this.#byJob.set(jobId, (list = []));
      list.push(event);
      const ready = this.#waiters.filter((waiter) => waiter.jobId === jobId && waiter.kinds.has(kind));
      if (ready.length === 0) return;
      this.#waiters = this.#waiters.filter((waiter) => !ready.includes(waiter));
      for (const waiter of ready) waiter.resolve(event);
    });
  }

  /** Routes `method path` as the server would and submits it; returns the job id. */
  submit(method: string, path: string, options: SubmitOptions = {}): number {
    const match = this.engine.routes.match(method, path);
    assert.equal(match.kind, 'found', `no route for ${method} ${path}`);
    if (match.kind !== 'found') throw new Error('unreachable');
    return this.engine.submit(match.routeIndex, {
      method, path, query: options.query ?? '', headers: options.headers ?? [], body: options.body ?? null,
    });
  }

  eventsOf(jobId: number): RecordedEvent[] {
    return this.#byJob.get(jobId) ?? [];
  }

  kindsOf(jobId: number): JobEventKind[] {
    return this.eventsOf(jobId).map((event) => event.kind);
  }

  /** Resolves with the job's first event of one of `kinds` (at once if it already happened). */
  waitFor(jobId: number, kinds: JobEventKind | readonly JobEventKind[], timeoutMs = EVENT_TIMEOUT_MS): Promise<RecordedEvent> {
    const wanted = new Set(typeof kinds === 'string' ? [kinds] : kinds);
    const seen = this.eventsOf(jobId).find((event) => wanted.has(event.kind));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== entry);
        reject(new Error(`job ${jobId}: no ${[...wanted].join('/')} event within ${timeoutMs} ms; saw ${this.kindsOf(jobId).join(', ')}`));
      }, timeoutMs);
      const entry: Waiter = {
        jobId, kinds: wanted, resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      this.#waiters.push(entry);
    });
  }

  /** The job's final event (done, failed, cancelled or timedOut). */
  final(jobId: number, timeoutMs = EVENT_TIMEOUT_MS): Promise<RecordedEvent> {
    return this.waitFor(jobId, [...FINAL_KINDS], timeoutMs);
  }

  /** Every job seen began with `queued`, ended with exactly one final event, and had nothing after it. */
  assertEveryJobEndedOnce(): void {
    for (const [jobId, list] of this.#byJob) {
      const kinds = list.map((event) => event.kind);
      assert.equal(kinds[0], 'queued', `job ${jobId} events ${kinds.join(', ')}`);
      const finals = kinds.filter((kind) => FINAL_KINDS.has(kind));
      assert.equal(finals.length, 1, `job ${jobId} must end exactly once; events ${kinds.join(', ')}`);
      assert.ok(FINAL_KINDS.has(kinds[kinds.length - 1]), `job ${jobId} had events after its end: ${kinds.join(', ')}`);
    }
  }

  /** Closes the engine, giving held jobs `timeoutMs` to finish, then checks every job ended once. */
  async close(timeoutMs = 0): Promise<void> {
    await this.engine.close(timeoutMs);
    this.assertEveryJobEndedOnce();
  }
}

/** The `x-...` header of a done job's result. */
/**
 * Runs `body` against a fresh engine (and a fresh marker folder its fixture handlers write
 * to), closing both whatever happens, so every test stops by itself.
 */
export async function withEngine(
  options: Parameters<typeof EngineHarness.start>[0],
  body: (harness: EngineHarness, markers: MarkerDir) => Promise<void>,
): Promise<void> {
  const harness = await EngineHarness.start(options);
  const markers = new MarkerDir();
  try {
    await body(harness, markers);
  } finally {
    await harness.close();
    markers.remove();
  }
}

export function resultHeader(event: RecordedEvent, name: string): string | undefined {
  const headers = (event.data as JobResult).headers;
  for (let index = 0; index + 1 < headers.length; index += 2) if (headers[index] === name) return headers[index + 1];
  return undefined;
}

export function resultText(event: RecordedEvent): string {
  const body = (event.data as JobResult).body;
  return body === null ? '' : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

/** A fresh directory for marker files, and its listing. */
export class MarkerDir {
  readonly path = mkdtempSync(join(tmpdir(), 'engine-test-'));

  /** The query string that makes fixture handlers write their markers here. */
  get query(): string {
    return `dir=${encodeURIComponent(this.path)}`;
  }

  names(): string[] {
    return readdirSync(this.path).sort();
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await delay(10);
  }
}
