import fc from 'fast-check';
import type { Caller } from '../../auth/index.js';
import type { JobStore, JobSummary, NewJob } from '../job-store.js';
import type { GoneJob, JobDetails, JobOutcome, JobStatusFilter, JobView, StoredResult } from '../job-store.js';

/*
 * The model half of the conformance suite: a reference store written as plainly as possible
 * over a Map, and random command sequences to run against it and a real store side by side.
 */

export const ALICE: Caller = { username: 'alice', superuser: false };
export const BOB: Caller = { username: 'bob', superuser: false };
export const ROOT: Caller = { username: 'root', superuser: true };

/** A new job with an empty GET request, nothing else asked for. */
export function newJob(jobId: number, owner: string, createdAtMs: number, retentionMs = 0, extra: Partial<NewJob> = {}): NewJob {
  return {
    jobId, owner, createdAtMs, retentionMs, keepNoBody: false, idempotency: null, webhook: null, type: 'GET /_api/version',
    request: { method: 'GET', path: '/_api/version', query: '', headers: [], body: null, user: null },
    ...extra,
  };
}

export function summaryOf(view: JobView): JobSummary {
  const { result: _result, details: _details, ...summary } = view;
  return summary;
}

type Awaitable<T> = T | Promise<T>;

/** The part of JobStore the model drives; the reference answers synchronously. */
export type ModelTarget = {
  [Name in 'add' | 'markStarted' | 'finish' | 'cancel' | 'get' | 'take' | 'remove' | 'list' | 'removeAll' | 'removeExpired' | 'history' | 'expire' | 'gone' | 'countOwnedBy']:
    (...parameters: Parameters<JobStore[Name]>) => Awaitable<Awaited<ReturnType<JobStore[Name]>>>;
} & Pick<JobStore, 'onRemoved' | 'size'>;

/** The reference: a plain Map and the rules written as plainly as possible. */
export class ReferenceJobStore implements ModelTarget {
  readonly jobs = new Map<number, JobView>();
  get size(): number { return this.jobs.size; }
  readonly retention = new Map<number, number>();
  readonly noBody = new Set<number>();
  /** Every removed job: the model sequences stay far below a store's memory of 100,000. */
  readonly removed = new Map<number, { owner: string; expiredAtMs: number }>();
  #removalListener: (jobId: number | null) => void = () => undefined;
  onRemoved(listener: (jobId: number | null) => void): void { this.#removalListener = listener; }
  add(job: NewJob): void {
    const { jobId, owner, createdAtMs } = job;
    this.jobs.set(jobId, {
      jobId, owner, state: 'pending', createdAtMs, startedAtMs: 0, finishedAtMs: 0, outcome: null, expiresAtMs: 0, result: null,
      type: job.type, details: null,
    });
    this.retention.set(jobId, job.retentionMs);
    if (job.keepNoBody) this.noBody.add(jobId);
  }
  /** What a durable store's restart does: pending jobs are queued again. */
  restart(): void {
    for (const job of this.jobs.values()) if (job.state === 'pending') job.startedAtMs = 0;
  }
  markStarted(jobId: number, nowMs: number): void {
    const job = this.jobs.get(jobId);
    if (job?.state === 'pending' && job.startedAtMs === 0) job.startedAtMs = nowMs;
  }
  finish(jobId: number, result: StoredResult, nowMs: number, outcome: JobOutcome = 'completed', details: JobDetails | null = null): boolean {
    const job = this.jobs.get(jobId);
    if (job?.state !== 'pending') return false;
    job.details = details;
    job.state = 'done';
    job.outcome = outcome;
    job.finishedAtMs = nowMs;
    job.expiresAtMs = this.retention.get(jobId)! > 0 ? nowMs + this.retention.get(jobId)! : 0;
    const body = this.noBody.has(jobId) || result.body === null ? null : result.body.slice();
    job.result = { status: result.status, headers: [...result.headers], body };
    return true;
  }
  cancel(jobId: number, nowMs: number, details: JobDetails | null = null): boolean {
    const job = this.jobs.get(jobId);
    if (job === undefined) return false;
    if (job.state === 'pending') {
      Object.assign(job, { state: 'cancelled', details, finishedAtMs: nowMs, expiresAtMs: this.retention.get(jobId)! > 0 ? nowMs + this.retention.get(jobId)! : 0 });
    }
    return true;
  }
  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): JobSummary[] {
    return [...this.jobs.values()]
      .filter((job) => visible(job, caller) && job.jobId < beforeJobId && (filter === undefined || statusOf(job) === filter))
      .sort((left, right) => right.jobId - left.jobId)
      .slice(0, limit)
      .map(summaryOf);
  }
  expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): number {
    const due = [...this.jobs.values()].filter((job) => job.expiresAtMs !== 0 && job.expiresAtMs <= nowMs)
      .sort((left, right) => left.expiresAtMs - right.expiresAtMs || left.finishedAtMs - right.finishedAtMs);
    for (const job of due) {
      this.#delete(job, job.expiresAtMs);
      onExpired(job.jobId, job.expiresAtMs);
    }
    return due.length;
  }
  get(jobId: number, caller: Caller): JobView | undefined {
    const job = this.jobs.get(jobId);
    return job && visible(job, caller) ? { ...job } : undefined;
  }
  take(jobId: number, caller: Caller): JobView | undefined {
    const job = this.get(jobId, caller);
    if (job !== undefined && job.state !== 'pending') this.#delete(job, 0);
    return job;
  }
  remove(jobId: number, caller: Caller): boolean {
    const job = this.get(jobId, caller);
    return job !== undefined && this.#delete(job, 0);
  }
  gone(jobId: number, caller: Caller): GoneJob | undefined {
    const removed = this.removed.get(jobId);
    if (removed === undefined || this.jobs.has(jobId) || !(caller.superuser || removed.owner === caller.username)) return undefined;
    return { jobId, expiredAtMs: removed.expiredAtMs };
  }
  countOwnedBy(owner: string): number {
    return [...this.jobs.values()].filter((job) => job.owner === owner).length;
  }
  list(state: 'done' | 'pending', count: number, caller: Caller): number[] {
    return [...this.jobs.values()]
      .filter((job) => visible(job, caller) && (state === 'pending') === (job.state === 'pending'))
      .map((job) => job.jobId)
      .sort((left, right) => left - right)
      .slice(0, count);
  }
  removeAll(caller: Caller): number {
    return this.#removeWhere((job) => visible(job, caller));
  }
  removeExpired(stampMs: number, caller: Caller): number {
    return this.#removeWhere((job) => visible(job, caller) && job.state !== 'pending' && job.finishedAtMs < stampMs);
  }
  #removeWhere(predicate: (job: JobView) => boolean): number {
    let removed = 0;
    for (const job of [...this.jobs.values()]) if (predicate(job) && this.#delete(job, 0)) removed++;
    return removed;
  }
  #delete(job: JobView, expiredAtMs: number): boolean {
    this.removed.delete(job.jobId); // re-inserted: Map order is removal order
    this.removed.set(job.jobId, { owner: job.owner, expiredAtMs });
    const deleted = this.jobs.delete(job.jobId);
    if (deleted) this.#removalListener(job.jobId);
    return deleted;
  }
}

function statusOf(job: JobView): JobStatusFilter {
  if (job.state === 'cancelled') return 'cancelled';
  if (job.state === 'done') return job.outcome === 'completed' || job.outcome === 'completedWithErrors' ? job.outcome : 'failed';
  return job.startedAtMs === 0 ? 'queued' : 'running';
}

function visible(job: JobView, caller: Caller): boolean {
  return caller.superuser || job.owner === caller.username;
}

export type Command =
  | { kind: 'add'; owner: string; retentionMs: number; keepNoBody: boolean }
  | { kind: 'start'; pick: number }
  | { kind: 'finish'; pick: number; result: StoredResult; outcome: JobOutcome }
  | { kind: 'history'; limit: number; before: number; filter: JobStatusFilter | undefined; caller: Caller }
  | { kind: 'expire' }
  | { kind: 'cancel'; pick: number }
  | { kind: 'get' | 'take' | 'remove'; pick: number; caller: Caller }
  | { kind: 'list'; state: 'done' | 'pending'; count: number; caller: Caller }
  | { kind: 'removeAll'; caller: Caller }
  | { kind: 'removeExpired'; age: number; caller: Caller }
  | { kind: 'gone'; pick: number; caller: Caller }
  | { kind: 'countOwnedBy'; owner: string }
  /** Only for durable stores: close and open again. */
  | { kind: 'reopen' };

const callerArbitrary = fc.constantFrom<Caller>(ALICE, BOB, ROOT, { username: 'carol', superuser: false });
const pickArbitrary = fc.nat();
const resultArbitrary: fc.Arbitrary<StoredResult> = fc.record({
  status: fc.constantFrom(200, 201, 400, 500),
  // ['a\nb'] and ['a', 'b'] join to the same interning key.
  headers: fc.constantFrom<string[]>([], ['content-type', 'application/json'], ['a\nb'], ['a', 'b'], ['x-n', '1', 'x-m', 'ü€😀']),
  body: fc.oneof(
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 40 }), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 255 }).map((value) => new Uint8Array(20_000).fill(value)), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 255 }).map((value) => new Uint8Array(70_000).fill(value)), weight: 1 },
  ),
});

/** Random commands; `durable` adds restarts to the mix. */
export function commandArbitrary(durable: boolean): fc.Arbitrary<Command> {
  return fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('add' as const), owner: fc.constantFrom('alice', 'bob', 'root'), retentionMs: fc.constantFrom(0, 0, 5),
        keepNoBody: fc.constantFrom(false, false, false, true),
      }),
      weight: 6,
    },
    { arbitrary: fc.record({ kind: fc.constant('start' as const), pick: pickArbitrary }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: pickArbitrary, result: resultArbitrary, outcome: fc.constantFrom<JobOutcome>('completed', 'completed', 'failed', 'timedOut') }), weight: 5 },
    {
      arbitrary: fc.record({
        kind: fc.constant('history' as const), limit: fc.integer({ min: 0, max: 5 }), before: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 30 })),
        filter: fc.constantFrom<JobStatusFilter | undefined>(undefined, 'queued', 'running', 'completed', 'failed', 'cancelled'), caller: callerArbitrary,
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ kind: fc.constant('expire' as const) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: pickArbitrary }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constantFrom('get' as const, 'take' as const, 'remove' as const), pick: pickArbitrary, caller: callerArbitrary }), weight: 5 },
    { arbitrary: fc.record({ kind: fc.constant('list' as const), state: fc.constantFrom('done' as const, 'pending' as const), count: fc.integer({ min: 0, max: 6 }), caller: callerArbitrary }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('removeAll' as const), caller: callerArbitrary }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('removeExpired' as const), age: fc.integer({ min: 0, max: 8 }), caller: callerArbitrary }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('gone' as const), pick: pickArbitrary, caller: callerArbitrary }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('countOwnedBy' as const), owner: fc.constantFrom('alice', 'bob', 'root', 'carol') }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('reopen' as const) }), weight: durable ? 1 : 0 },
  );
}

/** Runs one command (not `reopen`) on a store or the reference, resolving what it answered. */
export async function run(target: ModelTarget, command: Command, jobId: number, nowMs: number): Promise<unknown> {
  switch (command.kind) {
    case 'add': return target.add(newJob(jobId, command.owner, nowMs, command.retentionMs, { keepNoBody: command.keepNoBody }));
    case 'start': return target.markStarted(jobId, nowMs);
    case 'finish': return target.finish(jobId, command.result, nowMs, command.outcome);
    case 'history': return target.history(command.caller, command.limit, command.before, command.filter);
    case 'expire': {
      const expired: [number, number][] = [];
      const count = await target.expire(nowMs, (expiredJobId, expiredAtMs) => expired.push([expiredJobId, expiredAtMs]));
      return { count, expired: expired.sort((left, right) => left[0] - right[0]) };
    }
    case 'cancel': return target.cancel(jobId, nowMs);
    case 'get': return target.get(jobId, command.caller);
    case 'take': return target.take(jobId, command.caller);
    case 'remove': return target.remove(jobId, command.caller);
    case 'list': return target.list(command.state, command.count, command.caller);
    case 'removeAll': return target.removeAll(command.caller);
    case 'removeExpired': return target.removeExpired(nowMs - command.age, command.caller);
    case 'gone': return target.gone(jobId, command.caller);
    case 'countOwnedBy': return target.countOwnedBy(command.owner);
    case 'reopen': throw new Error('reopen is the suite\'s to run');
  }
}
