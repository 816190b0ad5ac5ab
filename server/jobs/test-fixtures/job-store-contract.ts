import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { firstJobIdAt } from '../job-ids.js';
import type { JobStore } from '../job-store.js';
import type { JobView, StoredResult } from '../job-store.js';
import { durabilityContract } from './job-store-durability.js';
import { ALICE, BOB, commandArbitrary, newJob, ReferenceJobStore, ROOT, run, type ModelTarget } from './reference-job-store.js';
import type { JobDetails, JobStatusFilter } from '../job-store.js';

const HISTORY_FILTERS: readonly JobStatusFilter[] = ['queued', 'running', 'completed', 'failed', 'cancelled', 'completedWithErrors'];

/** Details as an operation stores them: progress with phases, a log, warnings, an earlier attempt. */
const DETAILS: JobDetails = {
  progress: { current: 10, total: 10, message: 'done', phase: 'B', phases: [{ name: 'A', status: 'COMPLETED', startedAtMs: 1, endedAtMs: 2 }, { name: 'B', status: 'IN_PROGRESS', startedAtMs: 2, endedAtMs: 0 }] },
  warnings: [{ code: 'MISSING_DATA', message: 'some records had no email', affectedRecords: 15 }],
  logs: { lines: [{ atMs: 5, message: 'started', fields: { batch: 1, ok: true, note: null } }], truncated: false },
  attempts: [{ attempt: 1, startedAtMs: 1, endedAtMs: 2, code: 'ERR_HANDLER', message: 'flaky', status: 503 }],
  cancel: null,
  failure: null,
};

/*
 * The conformance suite of the job store contract (job-store.ts): every store runs it, as
 * bullmq runs one suite against each of its backends. `jobStoreContract(name, makeStore)`
 * registers the tests; each gets a fresh, empty store from `makeStore` and closes it at the
 * end. It holds the rules a client can observe (ownership, ArangoDB's fetch/remove semantics,
 * lists, expiry, gone jobs, the removal listener, idempotency keys, call order) and a model
 * test against a plain-Map reference over random command sequences. Durable stores also run
 * the restart tests (job-store-durability.ts).
 *
 * Decided here where job-store.ts leaves room:
 * - an idempotency key lives until its own `expiresAtMs`, whether or not its job is still
 *   stored (a replay then learns the job is gone), and no removal of jobs drops it;
 * - a call made before an earlier one's promise resolved still applies after it: a `remove`
 *   or `cancel` right after an unawaited `finish` sees the job done (the finish still resolves
 *   true; the cancel keeps the result), as in call order;
 * - after a restart a pending job is queued again: its `startedAtMs` is 0.
 */

export interface JobStoreContractOptions {
  /** The store keeps jobs across a restart: runs the durability tests, and restarts inside the model test. */
  durable?: boolean;
  /** Closes the store and opens it again on the same data; required with `durable`. */
  reopen?: (store: JobStore) => Promise<JobStore>;
  /** Random command sequences the model test runs (default 100). */
  modelRuns?: number;
}

/** A store for one test, closed when the test ends; `reopen` swaps it for a reopened one. */
export interface StoreFixture {
  store: JobStore;
  reopen(): Promise<JobStore>;
}

export function jsonResult(text: string, status = 200): StoredResult {
  return { status, headers: ['content-type', 'application/json'], body: new TextEncoder().encode(text) };
}

export function bodyText(view: JobView | undefined): string {
  const body = view?.result?.body;
  assert.ok(body, 'expected a result body');
  return new TextDecoder().decode(body);
}

export function jobStoreContract(name: string, makeStore: () => Promise<JobStore>, options: JobStoreContractOptions = {}): void {
  const { durable = false, reopen, modelRuns = 100 } = options;
  if (durable && reopen === undefined) throw new TypeError('a durable store\'s contract needs reopen');
  async function unclosedFixture(): Promise<StoreFixture> {
    const opened: StoreFixture = {
      store: await makeStore(),
      async reopen() {
        opened.store = await reopen!(opened.store);
        return opened.store;
      },
    };
    return opened;
  }
  async function fixture(t: TestContext): Promise<StoreFixture> {
    const opened = await unclosedFixture();
    t.after(() => opened.store.close());
    return opened;
  }
  const open = async (t: TestContext): Promise<JobStore> => (await fixture(t)).store;

  describe(`${name} keeps the job store contract`, () => {
    test('a new job is pending, visible to its owner, with no result', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 1000));
      assert.equal(store.size, 1);
      assert.deepEqual(await store.get(1, ALICE), {
        jobId: 1, owner: 'alice', state: 'pending', createdAtMs: 1000, startedAtMs: 0, finishedAtMs: 0, outcome: null, expiresAtMs: 0, result: null,
        type: 'GET /_api/version', details: null,
      });
      assert.equal(await store.get(2, ALICE), undefined);
    });

    test('a job keeps its type, and the details stored with its outcome, until it leaves', async (t) => {
      const fixture_ = await fixture(t);
      const { store } = fixture_;
      await store.add(newJob(1, 'alice', 1000, 0, { type: 'REPORT_GENERATION' }));
      await store.add(newJob(2, 'alice', 1000, 0, { type: 'REPORT_GENERATION' }));
      await store.add(newJob(3, 'bob', 1000));
      assert.equal((await store.finish(1, jsonResult('{"ok":true}'), 1010, 'completedWithErrors', DETAILS)), true);
      assert.equal(await store.cancel(2, 1011, { ...DETAILS, warnings: null, cancel: { atMs: 1011, reason: 'not needed' } }), true);
      const done = await store.get(1, ALICE);
      assert.equal(done?.type, 'REPORT_GENERATION');
      assert.equal(done?.outcome, 'completedWithErrors');
      assert.deepEqual(done?.details, DETAILS);
      assert.deepEqual((await store.get(2, ALICE))?.details?.cancel, { atMs: 1011, reason: 'not needed' });
      assert.equal((await store.get(3, BOB))?.details, null);
      assert.deepEqual((await store.history(ALICE, 10, Infinity, 'completedWithErrors')).map((job) => job.jobId), [1]);
      assert.deepEqual((await store.history(ALICE, 10, Infinity, 'completed')).map((job) => job.jobId), []);
      assert.equal(await store.historyCount(ALICE, 'completedWithErrors'), 1);
      assert.equal((await store.history(ALICE, 1, Infinity))[0].type, 'REPORT_GENERATION');
      if (durable) {
        const reopened = await fixture_.reopen();
        assert.deepEqual((await reopened.get(1, ALICE))?.details, DETAILS);
        assert.equal((await reopened.get(1, ALICE))?.type, 'REPORT_GENERATION');
      }
      assert.deepEqual((await fixture_.store.take(1, ALICE))?.details, DETAILS);
      assert.equal(await fixture_.store.get(1, ALICE), undefined);
    });

    test('reopen runs a failed or cancelled job again under its id, with its request; never a pending or completed one', async (t) => {
      const fixture_ = await fixture(t);
      const { store } = fixture_;
      const request = { method: 'POST', path: '/reports', query: 'a=1', headers: ['x-a', 'b'], body: new TextEncoder().encode('{"n":1}'), user: { name: 'alice', superuser: false } };
      for (let jobId = 1; jobId <= 4; jobId++) await store.add(newJob(jobId, 'alice', 1000 + jobId, 100, { request }));
      await store.markStarted(1, 1010);
      await store.finish(1, jsonResult('{"error":true}', 503), 1020, 'failed', { ...DETAILS, warnings: null });
      await store.cancel(2, 1021);
      await store.finish(3, jsonResult('{}'), 1022);
      assert.equal(await store.reopen(3, 1030), undefined, 'a completed job does not run again');
      assert.equal(await store.reopen(4, 1030), undefined, 'a pending job does not run again');
      assert.equal(await store.reopen(99, 1030), undefined);
      const failed = await store.reopen(1, 1030);
      assert.ok(failed);
      assert.deepEqual({ ...failed.request, body: Buffer.from(failed.request.body!).toString() }, { ...request, body: '{"n":1}' });
      assert.deepEqual(failed.details?.attempts, DETAILS.attempts);
      const again = await store.get(1, ALICE);
      assert.deepEqual([again?.state, again?.startedAtMs, again?.finishedAtMs, again?.result, again?.details, again?.expiresAtMs], ['pending', 0, 0, null, null, 0]);
      assert.deepEqual(await store.list('pending', 10, ALICE), [1, 4]);
      assert.ok(await store.reopen(2, 1031), 'a cancelled job runs again');
      assert.deepEqual(await store.list('pending', 10, ALICE), [1, 2, 4]);
      assert.equal(await store.historyCount(ALICE, 'queued'), 3);
      assert.equal(await store.historyCount(ALICE, 'failed'), 0);
      assert.equal(await store.reopen(1, 1032), undefined, 'once pending it is not reopened twice');
      if (durable) {
        const reopened = await fixture_.reopen();
        const recovery = await reopened.recover();
        assert.deepEqual(recovery.unfinished.map((job) => job.jobId), [1, 2, 4]);
      }
      assert.equal(await fixture_.store.finish(1, jsonResult('{"ok":true}'), 1040), true);
      assert.equal(bodyText(await fixture_.store.get(1, ALICE)), '{"ok":true}');
      assert.equal(await fixture_.store.reopen(1, 1041), undefined, 'a job that completed on its retry stays completed');
    });

    test('operations: started time, outcome, retention and newest-first history pages without results', async (t) => {
      const store = await open(t);
      for (let jobId = 1; jobId <= 5; jobId++) await store.add(newJob(jobId, jobId % 2 === 0 ? 'bob' : 'alice', 1000 + jobId, jobId === 5 ? 0 : 100));
      await store.markStarted(1, 1010);
      await store.markStarted(2, 1011);
      await store.finish(1, jsonResult('{}', 200), 1020);
      await store.finish(2, jsonResult('{}', 500), 1021, 'failed');
      await store.cancel(3, 1022);
      assert.deepEqual((await store.history(ROOT, 10, Infinity)).map((job) => job.jobId), [5, 4, 3, 2, 1]);
      assert.deepEqual((await store.history(ALICE, 10, Infinity)).map((job) => job.jobId), [5, 3, 1]);
      assert.deepEqual((await store.history(ROOT, 2, 4)).map((job) => job.jobId), [3, 2]);
      assert.deepEqual((await store.history(ROOT, 10, Infinity, 'failed')).map((job) => job.jobId), [2]);
      assert.deepEqual((await store.history(ROOT, 10, Infinity, 'queued')).map((job) => job.jobId), [5, 4]);
      assert.deepEqual(await store.history(ROOT, 1, 2), [
        { jobId: 1, owner: 'alice', state: 'done', createdAtMs: 1001, startedAtMs: 1010, finishedAtMs: 1020, outcome: 'completed', expiresAtMs: 1120, type: 'GET /_api/version' },
      ]);
      const one = (await store.get(1, ROOT))!;
      assert.equal(one.startedAtMs, 1010);
      assert.equal(one.outcome, 'completed');
      assert.equal(one.expiresAtMs, 1120);
      const expired: number[] = [];
      assert.equal(await store.expire(1121, (jobId) => expired.push(jobId)), 2);
      assert.deepEqual(expired, [1, 2]);
      assert.equal(await store.get(1, ROOT), undefined);
      assert.notEqual(await store.get(3, ROOT), undefined);
      assert.equal((await store.get(5, ROOT))!.expiresAtMs, 0);
    });

    test('finish stores status, headers and body; get does not remove it', async (t) => {
      const store = await open(t);
      await store.add(newJob(7, 'alice', 1000));
      assert.equal(await store.finish(7, jsonResult('{"ok":true}', 201), 1500), true);
      const view = await store.get(7, ALICE);
      assert.equal(view?.state, 'done');
      assert.equal(view?.finishedAtMs, 1500);
      assert.equal(view?.result?.status, 201);
      assert.deepEqual(view?.result?.headers, ['content-type', 'application/json']);
      assert.equal(bodyText(view), '{"ok":true}');
      assert.equal(bodyText(await store.get(7, ALICE)), '{"ok":true}');
      assert.equal(store.size, 1);
    });

    test('finish copies the result, so the caller may reuse its buffers', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      const result = jsonResult('abc');
      const finished = store.finish(1, result, 1);
      (result.body as Uint8Array).fill(0);
      result.headers[1] = 'text/plain';
      await finished;
      assert.equal(bodyText(await store.get(1, ALICE)), 'abc');
      assert.deepEqual((await store.get(1, ALICE))?.result?.headers, ['content-type', 'application/json']);
    });

    test('keeps null, empty and large bodies apart', async (t) => {
      const store = await open(t);
      const large = new Uint8Array(100_000).map((_, index) => index % 251);
      for (let jobId = 1; jobId <= 3; jobId++) await store.add(newJob(jobId, 'alice', 0));
      await store.finish(1, { status: 204, headers: [], body: null }, 1);
      await store.finish(2, { status: 200, headers: [], body: new Uint8Array(0) }, 1);
      await store.finish(3, { status: 200, headers: [], body: large }, 1);
      assert.equal((await store.get(1, ALICE))?.result?.body, null);
      assert.deepEqual((await store.get(2, ALICE))?.result?.body, new Uint8Array(0));
      assert.deepEqual((await store.take(3, ALICE))?.result?.body, large);
    });

    test('a job submitted with HEAD keeps status and headers of its result, never a body', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0, 0, { keepNoBody: true }));
      assert.equal(await store.finish(1, { status: 200, headers: ['content-length', '3'], body: new Uint8Array(3) }, 1), true);
      assert.deepEqual((await store.take(1, ALICE))?.result, { status: 200, headers: ['content-length', '3'], body: null });
    });

    test('take of a pending job returns it without removing it', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      assert.equal((await store.take(1, ALICE))?.state, 'pending');
      assert.equal(store.size, 1);
      assert.equal((await store.get(1, ALICE))?.state, 'pending');
    });

    test('take of a done job removes it and returns its result once', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.finish(1, jsonResult('"r"'), 5);
      const taken = await store.take(1, ALICE);
      assert.equal(taken?.state, 'done');
      assert.equal(store.size, 0);
      assert.equal(await store.take(1, ALICE), undefined);
      // The taken body must survive later traffic reusing the freed slot.
      const finished: Promise<boolean>[] = [];
      for (let jobId = 2; jobId < 2000; jobId++) {
        void store.add(newJob(jobId, 'alice', 6));
        finished.push(store.finish(jobId, jsonResult('x'.repeat(200)), 7));
      }
      await Promise.all(finished);
      const takes: Promise<JobView | undefined>[] = [];
      for (let jobId = 2; jobId < 2000; jobId++) takes.push(store.take(jobId, ALICE));
      await Promise.all(takes);
      assert.equal(bodyText(taken), '"r"');
    });

    test('a cancelled job is listed as done and take removes it', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.add(newJob(2, 'alice', 0));
      assert.equal(await store.cancel(1, 10), true);
      assert.deepEqual(await store.list('done', 100, ALICE), [1]);
      assert.deepEqual(await store.list('pending', 100, ALICE), [2]);
      const taken = await store.take(1, ALICE);
      assert.equal(taken?.state, 'cancelled');
      assert.equal(taken?.finishedAtMs, 10);
      assert.equal(taken?.result, null);
      assert.equal(await store.get(1, ALICE), undefined);
    });

    test('cancel is final: a later finish is dropped; cancelling a done job keeps its result', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.add(newJob(2, 'alice', 0));
      await store.cancel(1, 1);
      assert.equal(await store.finish(1, jsonResult('late'), 2), false);
      assert.equal((await store.get(1, ALICE))?.state, 'cancelled');
      await store.finish(2, jsonResult('kept'), 3);
      assert.equal(await store.cancel(2, 4), true);
      assert.equal(bodyText(await store.get(2, ALICE)), 'kept');
      assert.equal(await store.cancel(3, 5), false);
    });

    test('finish after remove returns false and stores nothing', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      assert.equal(await store.remove(1, ALICE), true);
      assert.equal(await store.finish(1, jsonResult('{}'), 1), false);
      assert.equal(store.size, 0);
      assert.equal(await store.remove(1, ALICE), false);
    });

    test('calls apply in the order they are made, before earlier promises resolve', async (t) => {
      const store = await open(t);
      const calls: Promise<unknown>[] = [];
      for (let jobId = 1; jobId <= 3; jobId++) calls.push(store.add(newJob(jobId, 'alice', 0)));
      const finishes = [1, 2, 3].map((jobId) => store.finish(jobId, jsonResult(`"${jobId}"`), 1));
      const secondFinish = store.finish(1, jsonResult('"again"'), 2);
      const cancelled = store.cancel(2, 2);
      const removed = store.remove(3, ALICE);
      await Promise.all(calls);
      assert.deepEqual(await Promise.all(finishes), [true, true, true]);
      assert.equal(await secondFinish, false, 'the first finish applied before it');
      assert.equal(await cancelled, true);
      assert.equal(await removed, true);
      assert.equal(bodyText(await store.get(1, ALICE)), '"1"');
      assert.equal(bodyText(await store.get(2, ALICE)), '"2"', 'cancelling a done job keeps its result');
      assert.equal(await store.get(3, ALICE), undefined);
      assert.deepEqual(await store.list('done', 10, ALICE), [1, 2]);
    });

    test('another user sees nothing: no get, take, remove, list or cleanup', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.add(newJob(2, 'alice', 0));
      await store.finish(2, jsonResult('{}'), 1);
      assert.equal(await store.get(1, BOB), undefined);
      assert.equal(await store.take(2, BOB), undefined);
      assert.equal(await store.remove(2, BOB), false);
      assert.deepEqual(await store.list('pending', 100, BOB), []);
      assert.deepEqual(await store.list('done', 100, BOB), []);
      assert.deepEqual(await store.history(BOB, 100, Infinity), []);
      assert.equal(await store.removeAll(BOB), 0);
      assert.equal(await store.removeExpired(Infinity, BOB), 0);
      assert.equal(store.size, 2);
    });

    test('a superuser sees and removes every user\'s jobs', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.add(newJob(2, 'bob', 0));
      await store.finish(2, jsonResult('{}'), 1);
      assert.equal((await store.get(1, ROOT))?.owner, 'alice');
      assert.deepEqual(await store.list('pending', 100, ROOT), [1]);
      assert.deepEqual(await store.list('done', 100, ROOT), [2]);
      assert.equal((await store.take(2, ROOT))?.owner, 'bob');
      assert.equal(await store.remove(1, ROOT), true);
      assert.equal(store.size, 0);
    });

    test('list is ascending, honours count, and holds only the caller\'s jobs', async (t) => {
      const store = await open(t);
      for (let jobId = 1; jobId <= 10; jobId++) await store.add(newJob(jobId, jobId % 2 === 0 ? 'alice' : 'bob', 0));
      for (const jobId of [8, 3, 6, 10, 1]) await store.finish(jobId, jsonResult('{}'), jobId);
      assert.deepEqual(await store.list('done', 100, ALICE), [6, 8, 10]);
      assert.deepEqual(await store.list('done', 2, ALICE), [6, 8]);
      assert.deepEqual(await store.list('pending', 100, ALICE), [2, 4]);
      assert.deepEqual(await store.list('done', 100, BOB), [1, 3]);
      assert.deepEqual(await store.list('done', 4, ROOT), [1, 3, 6, 8]);
      assert.deepEqual(await store.list('pending', 3, ROOT), [2, 4, 5]);
      assert.deepEqual(await store.list('pending', 0, ROOT), []);
    });

    test('removeAll removes only the caller\'s own jobs, a superuser\'s removes all', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.add(newJob(2, 'bob', 0));
      await store.add(newJob(3, 'alice', 0));
      await store.finish(3, jsonResult('{}'), 1);
      assert.equal(await store.removeAll(ALICE), 2);
      assert.deepEqual(await store.list('pending', 100, ROOT), [2]);
      await store.add(newJob(4, 'alice', 2));
      assert.equal(await store.removeAll(ROOT), 2);
      assert.equal(store.size, 0);
      assert.equal(await store.finish(2, jsonResult('{}'), 3), false);
      await store.add(newJob(5, 'bob', 4));
      assert.deepEqual(await store.list('pending', 100, BOB), [5]);
    });

    test('removeExpired removes finished jobs older than the stamp, never pending ones', async (t) => {
      const store = await open(t);
      for (let jobId = 1; jobId <= 5; jobId++) await store.add(newJob(jobId, 'alice', 0));
      await store.add(newJob(6, 'bob', 0));
      await store.finish(2, jsonResult('{}'), 10);
      await store.cancel(4, 20);
      await store.finish(6, jsonResult('{}'), 20);
      await store.finish(1, jsonResult('{}'), 30);
      assert.equal(await store.removeExpired(20, ALICE), 1);
      assert.equal(await store.removeExpired(25, ALICE), 1);
      assert.deepEqual(await store.list('done', 100, ROOT), [1, 6]);
      assert.equal(await store.removeExpired(1000, ROOT), 2);
      assert.deepEqual(await store.list('pending', 100, ROOT), [3, 5]);
    });

    test('a wall clock stepping back does not hide expired jobs', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0));
      await store.add(newJob(2, 'alice', 0));
      await store.finish(1, jsonResult('{}'), 100);
      await store.finish(2, jsonResult('{}'), 50);
      assert.equal((await store.get(2, ALICE))?.finishedAtMs, 100);
      assert.equal(await store.removeExpired(101, ALICE), 2);
    });

    test('finds every remaining job after many removals in random order', async (t) => {
      const store = await open(t);
      const jobCount = 20_000;
      // Widely spaced and very large ids too: ids are any increasing safe integers.
      const jobIdOf = (index: number): number => (index % 2 === 0 ? index + 1 : 2 ** 40 + index * 977);
      const order = Array.from({ length: jobCount }, (_, index) => index);
      const adds: Promise<void>[] = [];
      for (let index = 0; index < jobCount; index++) adds.push(store.add(newJob(jobIdOf(index), 'alice', 0)));
      await Promise.all(adds);
      let seed = 12345;
      for (let index = jobCount - 1; index > 0; index--) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const other = seed % (index + 1);
        [order[index], order[other]] = [order[other], order[index]];
      }
      const removed = new Set(order.slice(0, jobCount * 0.7));
      const removals = [...removed].map((index) => store.remove(jobIdOf(index), ALICE));
      assert.ok((await Promise.all(removals)).every(Boolean));
      for (let index = 0; index < jobCount; index++) {
        assert.equal((await store.get(jobIdOf(index), ALICE))?.jobId, removed.has(index) ? undefined : jobIdOf(index));
      }
      assert.equal(store.size, jobCount - removed.size);
    });

    test('every way a job leaves the store is reported to the removal listener', async (t) => {
      const store = await open(t);
      const removed: Array<number | null> = [];
      store.onRemoved((jobId) => removed.push(jobId));
      for (let jobId = 1; jobId <= 7; jobId++) await store.add(newJob(jobId, jobId === 6 ? 'bob' : 'alice', 1000, jobId === 5 ? 10 : 0));
      for (const jobId of [1, 2, 4, 5]) await store.finish(jobId, jsonResult('{}'), 1000);
      assert.equal((await store.take(3, ALICE))?.state, 'pending');
      assert.deepEqual(removed, [], 'a pending fetch keeps the job');
      await store.take(1, ALICE);
      await store.remove(3, ALICE);
      await store.removeExpired(1001, ALICE);
      await store.removeAll(BOB);
      assert.deepEqual(removed, [1, 3, 2, 4, 5, 6]);
      await store.add(newJob(8, 'alice', 2000, 10));
      await store.finish(8, jsonResult('{}'), 2000);
      await store.expire(2010, () => undefined);
      assert.deepEqual(removed, [1, 3, 2, 4, 5, 6, 8]);
      await store.removeAll(ROOT);
      assert.deepEqual(removed, [1, 3, 2, 4, 5, 6, 8, null], 'a superuser removeAll reports all at once');
    });

    test('a removed job is gone for its owner and superusers only, and counts per owner follow removals', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 0, 10));
      await store.add(newJob(2, 'alice', 0));
      await store.add(newJob(3, 'bob', 0));
      assert.deepEqual(await Promise.all(['alice', 'bob', 'carol'].map((owner) => store.countOwnedBy(owner))), [2, 1, 0]);
      await store.finish(1, { status: 200, headers: [], body: null }, 5);
      await store.expire(20, () => undefined);
      await store.remove(2, ALICE);
      assert.deepEqual(await store.gone(1, ALICE), { jobId: 1, expiredAtMs: 15 });
      assert.deepEqual(await store.gone(2, ROOT), { jobId: 2, expiredAtMs: 0 });
      assert.equal(await store.gone(1, BOB), undefined, "someone else's gone job looks like one never issued");
      assert.equal(await store.gone(3, ROOT), undefined, 'still stored');
      assert.equal(await store.countOwnedBy('alice'), 0);
      await store.removeAll(ROOT);
      assert.deepEqual([await store.gone(3, BOB), await store.countOwnedBy('bob')], [{ jobId: 3, expiredAtMs: 0 }, 0]);
    });

    test('an idempotency key names its job until its own expiry, for its owner only, even after the job left', async (t) => {
      const store = await open(t);
      await store.add(newJob(1, 'alice', 1000, 0, { idempotency: { key: 'k', fingerprint: 'f1', expiresAtMs: 2000 } }));
      await store.add(newJob(2, 'bob', 1000, 0, { idempotency: { key: 'k', fingerprint: 'f2', expiresAtMs: 3000 } }));
      assert.deepEqual(await store.findIdempotent('alice', 'k', 1999), { jobId: 1, fingerprint: 'f1' });
      assert.deepEqual(await store.findIdempotent('bob', 'k', 1999), { jobId: 2, fingerprint: 'f2' });
      assert.equal(await store.findIdempotent('alice', 'other', 1999), undefined);
      assert.equal(await store.findIdempotent('carol', 'k', 1999), undefined);
      await store.remove(1, ALICE);
      await store.removeAll(ROOT);
      assert.deepEqual(await store.findIdempotent('alice', 'k', 1999), { jobId: 1, fingerprint: 'f1' }, 'a key outlives its job');
      assert.equal(await store.findIdempotent('alice', 'k', 2000), undefined, 'expired at expiresAtMs, expire run or not');
      await store.expire(2500, () => undefined);
      assert.equal(await store.findIdempotent('alice', 'k', 1999), undefined, 'expire dropped it');
      assert.deepEqual(await store.findIdempotent('bob', 'k', 2500), { jobId: 2, fingerprint: 'f2' });
      await store.add(newJob(3, 'bob', 2600, 0, { idempotency: { key: 'k', fingerprint: 'f3', expiresAtMs: 4000 } }));
      assert.deepEqual(await store.findIdempotent('bob', 'k', 3500), { jobId: 3, fingerprint: 'f3' }, 'a later job takes the key over');
    });

    test('ids: firstJobId is at least firstJobIdAt of the clock', async (t) => {
      const store = await open(t);
      const nowMs = Date.now();
      assert.ok(store.firstJobId(nowMs) >= firstJobIdAt(nowMs));
    });

    test('a new store has nothing to recover', async (t) => {
      const store = await open(t);
      assert.deepEqual(await store.recover(), { unfinished: [], webhooks: [], webhookEvents: [] });
    });

    test(`behaves like a plain Map over random command sequences${durable ? ', across restarts' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(commandArbitrary(durable), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }), async (steps) => {
          const opened = await unclosedFixture();
          const reference = new ReferenceJobStore();
          // What each store's removal listener leaves of the ids added: must be what it still holds.
          const heardOf = (watched: ModelTarget, ids = new Set<number>()): Set<number> => {
            watched.onRemoved((jobId) => (jobId === null ? ids.clear() : ids.delete(jobId)));
            return ids;
          };
          const storeIds = heardOf(opened.store);
          const referenceIds = heardOf(reference);
          let lastJobId = 0;
          let nowMs = 1_000;
          try {
            for (const [command, elapsedMs] of steps) {
              nowMs += elapsedMs;
              if (command.kind === 'reopen') {
                heardOf(await opened.reopen(), storeIds);
                reference.restart();
                continue;
              }
              // Picks cover every id issued so far plus one never issued.
              const jobId = command.kind === 'add' ? ++lastJobId : 'pick' in command ? 1 + (command.pick % (lastJobId + 1)) : 0;
              if (command.kind === 'add') { storeIds.add(jobId); referenceIds.add(jobId); }
              assert.deepStrictEqual(await run(opened.store, command, jobId, nowMs), await run(reference, command, jobId, nowMs));
              assert.equal(opened.store.size, reference.size);
              assert.deepStrictEqual(storeIds, referenceIds);
              assert.equal(storeIds.size, opened.store.size, 'every job that left the store was reported');
            }
            // The counts kept per owner and status agree with what history pages through.
            for (const caller of [ALICE, BOB, ROOT]) {
              for (const filter of [undefined, ...HISTORY_FILTERS]) {
                const expected = reference.history(caller, Infinity, Infinity, filter).length;
                assert.equal(await opened.store.historyCount(caller, filter), expected, `historyCount(${caller.username}, ${filter ?? 'all'})`);
              }
            }
          } finally {
            await opened.store.close();
          }
        }),
        { numRuns: modelRuns },
      );
    });

    if (durable) durabilityContract(fixture);
  });
}
