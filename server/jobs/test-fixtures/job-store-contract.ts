import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Caller } from '../../auth/index.js';
import type { GoneJob, JobOutcome, JobStatusFilter, JobTable, JobView, StoredResult } from '../job-table.js';

/*
 * The conformance suite of the job store contract (job-table.ts): every store runs it, as
 * bullmq runs one suite against each of its backends. `jobStoreContract(name, makeStore)`
 * registers the tests; each gets a fresh, empty store from `makeStore`. It holds the rules a
 * client can observe (ownership, ArangoDB's fetch/remove semantics, lists, expiry, gone
 * jobs, the removal listener) and a model test against a plain-Map reference over random
 * command sequences.
 */

const ALICE: Caller = { username: 'alice', superuser: false };
const BOB: Caller = { username: 'bob', superuser: false };
const ROOT: Caller = { username: 'root', superuser: true };

function jsonResult(text: string, status = 200): StoredResult {
  return { status, headers: ['content-type', 'application/json'], body: new TextEncoder().encode(text) };
}

function bodyText(view: JobView | undefined): string {
  const body = view?.result?.body;
  assert.ok(body, 'expected a result body');
  return new TextDecoder().decode(body);
}

export function jobStoreContract(name: string, makeStore: () => JobTable): void {
  describe(`${name} keeps the job store contract`, () => {
    test('a new job is pending, visible to its owner, with no result', () => {
      const table = makeStore();
      table.add(1, 'alice', 1000);
      assert.equal(table.size, 1);
      assert.deepEqual(table.get(1, ALICE), {
        jobId: 1, owner: 'alice', state: 'pending', createdAtMs: 1000, startedAtMs: 0, finishedAtMs: 0, outcome: null, expiresAtMs: 0, result: null,
      });
      assert.equal(table.get(2, ALICE), undefined);
    });

    test('operations: started time, outcome, retention and newest-first history pages', () => {
      const table = makeStore();
      for (let jobId = 1; jobId <= 5; jobId++) table.add(jobId, jobId % 2 === 0 ? 'bob' : 'alice', 1000 + jobId, jobId === 5 ? 0 : 100);
      table.markStarted(1, 1010);
      table.markStarted(2, 1011);
      table.finish(1, jsonResult('{}', 200), 1020);
      table.finish(2, jsonResult('{}', 500), 1021, 'failed');
      table.cancel(3, 1022);
      assert.deepEqual(table.history(ROOT, 10, Infinity).map((job) => job.jobId), [5, 4, 3, 2, 1]);
      assert.deepEqual(table.history(ALICE, 10, Infinity).map((job) => job.jobId), [5, 3, 1]);
      assert.deepEqual(table.history(ROOT, 2, 4).map((job) => job.jobId), [3, 2]);
      assert.deepEqual(table.history(ROOT, 10, Infinity, 'failed').map((job) => job.jobId), [2]);
      assert.deepEqual(table.history(ROOT, 10, Infinity, 'queued').map((job) => job.jobId), [5, 4]);
      const one = table.get(1, ROOT)!;
      assert.equal(one.startedAtMs, 1010);
      assert.equal(one.outcome, 'completed');
      assert.equal(one.expiresAtMs, 1120);
      const expired: number[] = [];
      assert.equal(table.expire(1121, (jobId) => expired.push(jobId)), 2);
      assert.deepEqual(expired, [1, 2]);
      assert.equal(table.get(1, ROOT), undefined);
      assert.notEqual(table.get(3, ROOT), undefined);
      assert.equal(table.get(5, ROOT)!.expiresAtMs, 0);
    });

    test('finish stores status, headers and body; get does not remove it', () => {
      const table = makeStore();
      table.add(7, 'alice', 1000);
      assert.equal(table.finish(7, jsonResult('{"ok":true}', 201), 1500), true);
      const view = table.get(7, ALICE);
      assert.equal(view?.state, 'done');
      assert.equal(view?.finishedAtMs, 1500);
      assert.equal(view?.result?.status, 201);
      assert.deepEqual(view?.result?.headers, ['content-type', 'application/json']);
      assert.equal(bodyText(view), '{"ok":true}');
      assert.equal(bodyText(table.get(7, ALICE)), '{"ok":true}');
      assert.equal(table.size, 1);
    });

    test('finish copies the result, so the caller may reuse its buffers', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      const result = jsonResult('abc');
      table.finish(1, result, 1);
      (result.body as Uint8Array).fill(0);
      result.headers[1] = 'text/plain';
      assert.equal(bodyText(table.get(1, ALICE)), 'abc');
      assert.deepEqual(table.get(1, ALICE)?.result?.headers, ['content-type', 'application/json']);
    });

    test('keeps null, empty and large bodies apart', () => {
      const table = makeStore();
      const large = new Uint8Array(100_000).map((_, index) => index % 251);
      table.add(1, 'alice', 0);
      table.add(2, 'alice', 0);
      table.add(3, 'alice', 0);
      table.finish(1, { status: 204, headers: [], body: null }, 1);
      table.finish(2, { status: 200, headers: [], body: new Uint8Array(0) }, 1);
      table.finish(3, { status: 200, headers: [], body: large }, 1);
      assert.equal(table.get(1, ALICE)?.result?.body, null);
      assert.deepEqual(table.get(2, ALICE)?.result?.body, new Uint8Array(0));
      assert.deepEqual(table.take(3, ALICE)?.result?.body, large);
    });

    test('take of a pending job returns it without removing it', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      assert.equal(table.take(1, ALICE)?.state, 'pending');
      assert.equal(table.size, 1);
      assert.equal(table.get(1, ALICE)?.state, 'pending');
    });

    test('take of a done job removes it and returns its result once', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.finish(1, jsonResult('"r"'), 5);
      const taken = table.take(1, ALICE);
      assert.equal(taken?.state, 'done');
      assert.equal(table.size, 0);
      assert.equal(table.take(1, ALICE), undefined);
      // The taken body must survive later traffic reusing the freed slot.
      for (let jobId = 2; jobId < 2000; jobId++) {
        table.add(jobId, 'alice', 6);
        table.finish(jobId, jsonResult('x'.repeat(200)), 7);
        table.take(jobId, ALICE);
      }
      assert.equal(bodyText(taken), '"r"');
    });

    test('a cancelled job is listed as done and take removes it', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.add(2, 'alice', 0);
      assert.equal(table.cancel(1, 10), true);
      assert.deepEqual(table.list('done', 100, ALICE), [1]);
      assert.deepEqual(table.list('pending', 100, ALICE), [2]);
      const taken = table.take(1, ALICE);
      assert.equal(taken?.state, 'cancelled');
      assert.equal(taken?.finishedAtMs, 10);
      assert.equal(taken?.result, null);
      assert.equal(table.get(1, ALICE), undefined);
    });

    test('cancel is final: a later finish is dropped; cancelling a done job keeps its result', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.add(2, 'alice', 0);
      table.cancel(1, 1);
      assert.equal(table.finish(1, jsonResult('late'), 2), false);
      assert.equal(table.get(1, ALICE)?.state, 'cancelled');
      table.finish(2, jsonResult('kept'), 3);
      assert.equal(table.cancel(2, 4), true);
      assert.equal(bodyText(table.get(2, ALICE)), 'kept');
      assert.equal(table.cancel(3, 5), false);
    });

    test('finish after remove returns false and stores nothing', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      assert.equal(table.remove(1, ALICE), true);
      assert.equal(table.finish(1, jsonResult('{}'), 1), false);
      assert.equal(table.size, 0);
      assert.equal(table.remove(1, ALICE), false);
    });

    test('another user sees nothing: no get, take, remove, list or cleanup', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.add(2, 'alice', 0);
      table.finish(2, jsonResult('{}'), 1);
      assert.equal(table.get(1, BOB), undefined);
      assert.equal(table.take(2, BOB), undefined);
      assert.equal(table.remove(2, BOB), false);
      assert.deepEqual(table.list('pending', 100, BOB), []);
      assert.deepEqual(table.list('done', 100, BOB), []);
      assert.equal(table.removeAll(BOB), 0);
      assert.equal(table.removeExpired(Infinity, BOB), 0);
      assert.equal(table.size, 2);
    });

    test('a superuser sees and removes every user\'s jobs', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.add(2, 'bob', 0);
      table.finish(2, jsonResult('{}'), 1);
      assert.equal(table.get(1, ROOT)?.owner, 'alice');
      assert.deepEqual(table.list('pending', 100, ROOT), [1]);
      assert.deepEqual(table.list('done', 100, ROOT), [2]);
      assert.equal(table.take(2, ROOT)?.owner, 'bob');
      assert.equal(table.remove(1, ROOT), true);
      assert.equal(table.size, 0);
    });

    test('list is ascending, honours count, and holds only the caller\'s jobs', () => {
      const table = makeStore();
      for (let jobId = 1; jobId <= 10; jobId++) table.add(jobId, jobId % 2 === 0 ? 'alice' : 'bob', 0);
      for (const jobId of [8, 3, 6, 10, 1]) table.finish(jobId, jsonResult('{}'), jobId);
      assert.deepEqual(table.list('done', 100, ALICE), [6, 8, 10]);
      assert.deepEqual(table.list('done', 2, ALICE), [6, 8]);
      assert.deepEqual(table.list('pending', 100, ALICE), [2, 4]);
      assert.deepEqual(table.list('done', 100, BOB), [1, 3]);
      assert.deepEqual(table.list('done', 4, ROOT), [1, 3, 6, 8]);
      assert.deepEqual(table.list('pending', 3, ROOT), [2, 4, 5]);
      assert.deepEqual(table.list('pending', 0, ROOT), []);
    });

    test('removeAll removes only the caller\'s own jobs, a superuser\'s removes all', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.add(2, 'bob', 0);
      table.add(3, 'alice', 0);
      table.finish(3, jsonResult('{}'), 1);
      assert.equal(table.removeAll(ALICE), 2);
      assert.deepEqual(table.list('pending', 100, ROOT), [2]);
      table.add(4, 'alice', 2);
      assert.equal(table.removeAll(ROOT), 2);
      assert.equal(table.size, 0);
      assert.equal(table.finish(2, jsonResult('{}'), 3), false);
      table.add(5, 'bob', 4);
      assert.deepEqual(table.list('pending', 100, BOB), [5]);
    });

    test('removeExpired removes finished jobs older than the stamp, never pending ones', () => {
      const table = makeStore();
      for (let jobId = 1; jobId <= 5; jobId++) table.add(jobId, 'alice', 0);
      table.add(6, 'bob', 0);
      table.finish(2, jsonResult('{}'), 10);
      table.cancel(4, 20);
      table.finish(6, jsonResult('{}'), 20);
      table.finish(1, jsonResult('{}'), 30);
      assert.equal(table.removeExpired(20, ALICE), 1);
      assert.equal(table.removeExpired(25, ALICE), 1);
      assert.deepEqual(table.list('done', 100, ROOT), [1, 6]);
      assert.equal(table.removeExpired(1000, ROOT), 2);
      assert.deepEqual(table.list('pending', 100, ROOT), [3, 5]);
    });

    test('a wall clock stepping back does not hide expired jobs', () => {
      const table = makeStore();
      table.add(1, 'alice', 0);
      table.add(2, 'alice', 0);
      table.finish(1, jsonResult('{}'), 100);
      table.finish(2, jsonResult('{}'), 50);
      assert.equal(table.get(2, ALICE)?.finishedAtMs, 100);
      assert.equal(table.removeExpired(101, ALICE), 2);
    });

    test('finds every remaining job after many removals in random order', () => {
      const table = makeStore();
      const jobCount = 50_000;
      // Widely spaced and very large ids too: ids are any increasing safe integers.
      const jobIdOf = (index: number): number => (index % 2 === 0 ? index + 1 : 2 ** 40 + index * 977);
      const order = Array.from({ length: jobCount }, (_, index) => index);
      for (let index = 0; index < jobCount; index++) table.add(jobIdOf(index), 'alice', 0);
      let seed = 12345;
      for (let index = jobCount - 1; index > 0; index--) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const other = seed % (index + 1);
        [order[index], order[other]] = [order[other], order[index]];
      }
      const removed = new Set(order.slice(0, jobCount * 0.7));
      for (const index of removed) assert.equal(table.remove(jobIdOf(index), ALICE), true);
      for (let index = 0; index < jobCount; index++) {
        assert.equal(table.get(jobIdOf(index), ALICE)?.jobId, removed.has(index) ? undefined : jobIdOf(index));
      }
      assert.equal(table.size, jobCount - removed.size);
    });

    test('every way a job leaves the table is reported to the removal listener', () => {
      const table = makeStore();
      const removed: Array<number | null> = [];
      table.onRemoved((jobId) => removed.push(jobId));
      for (let jobId = 1; jobId <= 7; jobId++) table.add(jobId, jobId === 6 ? 'bob' : 'alice', 1000, jobId === 5 ? 10 : 0);
      for (const jobId of [1, 2, 4, 5]) table.finish(jobId, jsonResult('{}'), 1000);
      assert.equal(table.take(3, ALICE)?.state, 'pending');
      assert.deepEqual(removed, [], 'a pending fetch keeps the job');
      table.take(1, ALICE);
      table.remove(3, ALICE);
      table.removeExpired(1001, ALICE);
      table.removeAll(BOB);
      assert.deepEqual(removed, [1, 3, 2, 4, 5, 6]);
      table.add(8, 'alice', 2000, 10);
      table.finish(8, jsonResult('{}'), 2000);
      table.expire(2010, () => undefined);
      assert.deepEqual(removed, [1, 3, 2, 4, 5, 6, 8]);
      table.removeAll(ROOT);
      assert.deepEqual(removed, [1, 3, 2, 4, 5, 6, 8, null], 'a superuser removeAll reports all at once');
    });

    test('behaves like a plain Map over random command sequences', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(commandArbitrary, fc.integer({ min: 0, max: 3 })), { maxLength: 80 }), (steps) => {
          const table = makeStore();
          const reference = new ReferenceJobTable();
          // What each table's removal listener leaves of the ids added: must be what it still holds.
          const heardOf = (watched: JobTable): Set<number> => {
            const ids = new Set<number>();
            watched.onRemoved((jobId) => (jobId === null ? ids.clear() : ids.delete(jobId)));
            return ids;
          };
          const tableIds = heardOf(table);
          const referenceIds = heardOf(reference);
          let lastJobId = 0;
          let nowMs = 1_000;
          for (const [command, elapsedMs] of steps) {
            nowMs += elapsedMs;
            // Picks cover every id issued so far plus one never issued.
            const jobId = command.kind === 'add' ? ++lastJobId : 'pick' in command ? 1 + (command.pick % (lastJobId + 1)) : 0;
            if (command.kind === 'add') { tableIds.add(jobId); referenceIds.add(jobId); }
            assert.deepStrictEqual(run(table, command, jobId, nowMs), run(reference, command, jobId, nowMs));
            assert.equal(table.size, reference.size);
            assert.deepStrictEqual(tableIds, referenceIds);
            assert.equal(tableIds.size, table.size, 'every job that left the table was reported');
          }
        }),
        { numRuns: 500 },
      );
    });

    test('a removed job is gone for its owner and superusers only, and counts per owner follow removals', () => {
      const table = makeStore();
      table.add(1, 'alice', 0, 10);
      table.add(2, 'alice', 0);
      table.add(3, 'bob', 0);
      assert.deepEqual([table.countOwnedBy('alice'), table.countOwnedBy('bob'), table.countOwnedBy('carol')], [2, 1, 0]);
      table.finish(1, { status: 200, headers: [], body: null }, 5);
      table.expire(20, () => undefined);
      table.remove(2, ALICE);
      assert.deepEqual(table.gone(1, ALICE), { jobId: 1, expiredAtMs: 15 });
      assert.deepEqual(table.gone(2, ROOT), { jobId: 2, expiredAtMs: 0 });
      assert.equal(table.gone(1, BOB), undefined, "someone else's gone job looks like one never issued");
      assert.equal(table.gone(3, ROOT), undefined, 'still stored');
      assert.equal(table.countOwnedBy('alice'), 0);
      table.removeAll(ROOT);
      assert.deepEqual([table.gone(3, BOB), table.countOwnedBy('bob')], [{ jobId: 3, expiredAtMs: 0 }, 0]);
    });
  });
}

/** The reference: a plain Map and the rules written as plainly as possible. */
class ReferenceJobTable implements JobTable {
  readonly jobs = new Map<number, JobView>();
  get size(): number { return this.jobs.size; }
  readonly retention = new Map<number, number>();
  /** Every removed job: the model sequences stay far below the real table's memory of 100,000. */
  readonly removed = new Map<number, { owner: string; expiredAtMs: number }>();
  #removalListener: (jobId: number | null) => void = () => undefined;
  onRemoved(listener: (jobId: number | null) => void): void { this.#removalListener = listener; }
  add(jobId: number, owner: string, nowMs: number, retentionMs = 0): void {
    this.jobs.set(jobId, { jobId, owner, state: 'pending', createdAtMs: nowMs, startedAtMs: 0, finishedAtMs: 0, outcome: null, expiresAtMs: 0, result: null });
    this.retention.set(jobId, retentionMs);
  }
  markStarted(jobId: number, nowMs: number): void {
    const job = this.jobs.get(jobId);
    if (job?.state === 'pending' && job.startedAtMs === 0) job.startedAtMs = nowMs;
  }
  finish(jobId: number, result: StoredResult, nowMs: number, outcome: JobOutcome = 'completed'): boolean {
    const job = this.jobs.get(jobId);
    if (job?.state !== 'pending') return false;
    job.state = 'done';
    job.outcome = outcome;
    job.finishedAtMs = nowMs;
    job.expiresAtMs = this.retention.get(jobId)! > 0 ? nowMs + this.retention.get(jobId)! : 0;
    job.result = { status: result.status, headers: [...result.headers], body: result.body && result.body.slice() };
    return true;
  }
  cancel(jobId: number, nowMs: number): boolean {
    const job = this.jobs.get(jobId);
    if (job === undefined) return false;
    if (job.state === 'pending') {
      Object.assign(job, { state: 'cancelled', finishedAtMs: nowMs, expiresAtMs: this.retention.get(jobId)! > 0 ? nowMs + this.retention.get(jobId)! : 0 });
    }
    return true;
  }
  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): JobView[] {
    return [...this.jobs.values()]
      .filter((job) => visible(job, caller) && job.jobId < beforeJobId && (filter === undefined || statusOf(job) === filter))
      .sort((left, right) => right.jobId - left.jobId)
      .slice(0, limit)
      .map((job) => ({ ...job }));
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
  if (job.state === 'done') return job.outcome === 'completed' ? 'completed' : 'failed';
  return job.startedAtMs === 0 ? 'queued' : 'running';
}

function visible(job: JobView, caller: Caller): boolean {
  return caller.superuser || job.owner === caller.username;
}

type Command =
  | { kind: 'add'; owner: string; retentionMs: number }
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
  | { kind: 'countOwnedBy'; owner: string };

const callerArbitrary = fc.constantFrom<Caller>(ALICE, BOB, ROOT, { username: 'carol', superuser: false });
const pickArbitrary = fc.nat();
const resultArbitrary: fc.Arbitrary<StoredResult> = fc.record({
  status: fc.constantFrom(200, 201, 400, 500),
  // ['a\nb'] and ['a', 'b'] join to the same interning key.
  headers: fc.constantFrom<string[]>([], ['content-type', 'application/json'], ['a\nb'], ['a', 'b'], ['x-n', '1', 'x-m', '2']),
  body: fc.oneof(
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 40 }), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 255 }).map((value) => new Uint8Array(20_000).fill(value)), weight: 1 },
  ),
});
const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('add' as const), owner: fc.constantFrom('alice', 'bob', 'root'), retentionMs: fc.constantFrom(0, 0, 5) }), weight: 6 },
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
);

function run(table: JobTable, command: Command, jobId: number, nowMs: number): unknown {
  switch (command.kind) {
    case 'add': table.add(jobId, command.owner, nowMs, command.retentionMs); return undefined;
    case 'start': table.markStarted(jobId, nowMs); return undefined;
    case 'finish': return table.finish(jobId, command.result, nowMs, command.outcome);
    case 'history': return table.history(command.caller, command.limit, command.before, command.filter);
    case 'expire': {
      const expired: [number, number][] = [];
      const count = table.expire(nowMs, (expiredJobId, expiredAtMs) => expired.push([expiredJobId, expiredAtMs]));
      return { count, expired: expired.sort((left, right) => left[0] - right[0]) };
    }
    case 'cancel': return table.cancel(jobId, nowMs);
    case 'get': return table.get(jobId, command.caller);
    case 'take': return table.take(jobId, command.caller);
    case 'remove': return table.remove(jobId, command.caller);
    case 'list': return table.list(command.state, command.count, command.caller);
    case 'removeAll': return table.removeAll(command.caller);
    case 'removeExpired': return table.removeExpired(nowMs - command.age, command.caller);
    case 'gone': return table.gone(jobId, command.caller);
    case 'countOwnedBy': return table.countOwnedBy(command.owner);
  }
}

