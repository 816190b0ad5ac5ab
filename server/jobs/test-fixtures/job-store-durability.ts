import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { StartLog } from '../../../engine/index.js';
import { firstJobIdAt } from '../job-ids.js';
import type { JobStore, NewJob, StoredRequest, UnfinishedJob } from '../job-store.js';
import type { JobView } from '../job-store.js';
import type { StoreFixture } from './job-store-contract.js';
import { ALICE, BOB, newJob, ROOT } from './reference-job-store.js';

/*
 * The restart half of the conformance suite, for durable stores: what was committed before
 * a close is there after the store is opened again on the same data.
 */

const REQUEST: StoredRequest = {
  method: 'POST', path: '/_api/cursor', query: 'a=1&b=%C3%BC', headers: ['content-type', 'application/json', 'x-trace', 'ü'],
  body: new TextEncoder().encode('{"query":"FOR d IN c RETURN d"}'), user: { name: 'alice', superuser: false },
};

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bytes[index] = seed >>> 24;
  }
  return bytes;
}

/** Every view the store answers, by id, plus what its lists say. */
async function snapshot(store: JobStore, jobIds: number[]) {
  return {
    size: store.size,
    views: await Promise.all(jobIds.map((jobId) => store.get(jobId, ROOT))),
    gone: await Promise.all(jobIds.map((jobId) => store.gone(jobId, ROOT))),
    history: await store.history(ROOT, 100, Infinity),
    done: await store.list('done', 100, ROOT),
    pending: await store.list('pending', 100, ROOT),
    counts: [await store.countOwnedBy('alice'), await store.countOwnedBy('bob')],
  };
}

/** What a restart changes: a pending job is queued again. */
function requeued<T extends Pick<JobView, 'state' | 'startedAtMs'> | undefined>(views: T[]): T[] {
  return views.map((view) => (view?.state === 'pending' ? { ...view, startedAtMs: 0 } : view));
}

export function durabilityContract(fixture: (t: TestContext) => Promise<StoreFixture>): void {
  test('restart: jobs, results to the byte, gone jobs, keys, webhooks, pending events and the id floor survive', async (t) => {
    const opened = await fixture(t);
    let store = opened.store;
    const base = firstJobIdAt(Date.now());
    const ids = Array.from({ length: 10 }, (_, index) => base + index);
    const large = randomBytes(300_000, 7);
    // With its own secret (x-callback-secret), which resumed deliveries sign with; ids[2]'s has none, and keeps none.
    const webhook = { url: 'https://hooks.example/x', events: ['COMPLETED', 'PROGRESS'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const jobs: NewJob[] = [
      newJob(ids[0], 'alice', 1000, 0, { request: REQUEST, webhook }),
      newJob(ids[1], 'alice', 1001, 0, { idempotency: { key: 'k1', fingerprint: 'f1', expiresAtMs: 10 ** 13 } }),
      newJob(ids[2], 'bob', 1002, 0, { webhook: { url: 'https://hooks.example/y', events: ['COMPLETED'] } }),
      newJob(ids[3], 'bob', 1003),
      newJob(ids[4], 'alice', 1004, 0, { keepNoBody: true }),
      newJob(ids[5], 'alice', 1005, 50),
      newJob(ids[6], 'bob', 1006),
      newJob(ids[7], 'alice', 1007),
      newJob(ids[8], 'bob', 1008, 0, { webhook: { url: 'https://hooks.example/gone', events: ['COMPLETED'] } }),
      newJob(ids[9], 'alice', 1009, 1000),
    ];
    for (const job of jobs) await store.add(job);
    await store.markStarted(ids[0], 1100);
    await store.markStarted(ids[1], 1101);
    await store.finish(ids[1], { status: 201, headers: ['content-type', 'application/octet-stream', 'x-ü', '€'], body: large }, 1200);
    await store.finish(ids[2], { status: 204, headers: [], body: null }, 1201, 'failed');
    await store.finish(ids[3], { status: 200, headers: [], body: new Uint8Array(0) }, 1202, 'timedOut');
    await store.finish(ids[4], { status: 200, headers: ['content-length', '5'], body: new Uint8Array(5) }, 1203);
    await store.finish(ids[5], { status: 200, headers: [], body: new Uint8Array([1, 2, 3]) }, 1204);
    await store.cancel(ids[6], 1205);
    await store.expire(1300, () => undefined);
    await store.finish(ids[7], { status: 200, headers: [], body: new Uint8Array([9]) }, 1301);
    await store.take(ids[7], ALICE);
    await store.remove(ids[8], BOB);
    await store.cancel(ids[9], 1302);
    await store.addWebhookEvent({ eventId: 1, jobId: ids[1], url: 'https://hooks.example/x', event: 'COMPLETED', payload: { status: 'completed', n: [1, 'two'] } });
    await store.addWebhookEvent({ eventId: 2, jobId: ids[2], url: 'https://hooks.example/y', event: 'COMPLETED', payload: null });
    await store.webhookEventDone(2);
    const before = await snapshot(store, ids);

    store = await opened.reopen();
    const recovery = await store.recover();
    assert.deepEqual(recovery.unfinished, [{
      jobId: ids[0], owner: 'alice', createdAtMs: 1000, request: REQUEST, keepNoBody: false, webhook, dispatched: false,
    } satisfies UnfinishedJob]);
    assert.deepEqual(recovery.webhooks.sort((left, right) => left.jobId - right.jobId), [
      { jobId: ids[0], webhook }, { jobId: ids[2], webhook: { url: 'https://hooks.example/y', events: ['COMPLETED'] } },
    ], 'registrations of stored jobs only');
    assert.deepEqual(recovery.webhookEvents, [
      { eventId: 1, jobId: ids[1], url: 'https://hooks.example/x', event: 'COMPLETED', payload: { status: 'completed', n: [1, 'two'] } },
    ]);
    assert.deepEqual(await snapshot(store, ids), { ...before, views: requeued(before.views), history: requeued(before.history) });
    assert.deepEqual((await store.get(ids[1], ALICE))?.result?.body, large);
    assert.deepEqual((await store.gone(ids[5], ALICE)), { jobId: ids[5], expiredAtMs: 1254 });
    assert.deepEqual(await store.findIdempotent('alice', 'k1', 2000), { jobId: ids[1], fingerprint: 'f1' });
    assert.ok(store.firstJobId(0) > ids[9], 'the id floor is above every id ever stored');
    const expired: number[] = [];
    assert.equal(await store.expire(2302, (jobId) => expired.push(jobId)), 1, 'retention survives too');
    assert.deepEqual(expired, [ids[9]]);
  });

  test('restart: the id floor stays above every id, even with every job removed', async (t) => {
    const opened = await fixture(t);
    const base = firstJobIdAt(Date.now());
    for (let index = 0; index < 5; index++) await opened.store.add(newJob(base + index, index % 2 === 0 ? 'alice' : 'bob', 1000));
    await opened.store.removeAll(ALICE);
    await opened.store.removeAll(ROOT);
    const store = await opened.reopen();
    await store.recover();
    assert.ok(store.firstJobId(0) > base + 4);
    // One clock reading for both sides: two would differ when the millisecond ticks between them.
    const laterMs = Date.now() + 60_000;
    assert.ok(store.firstJobId(laterMs) >= firstJobIdAt(laterMs));
    assert.equal(store.size, 0);
  });

  test('restart: pending jobs come back with their request, dispatched only when a worker logged their start', async (t) => {
    const opened = await fixture(t);
    for (let jobId = 1; jobId <= 4; jobId++) await opened.store.add(newJob(jobId, 'alice', 1000 + jobId, 0, { request: REQUEST, keepNoBody: jobId === 3 }));
    logStarts(opened.store, 0, [2, 4]);
    await opened.store.markStarted(2, 1100);
    await opened.store.finish(4, { status: 200, headers: [], body: null }, 1200);
    let store = await opened.reopen();
    const dispatchedOf = async (): Promise<Array<[number, boolean, boolean]>> =>
      (await store.recover()).unfinished.map((job) => [job.jobId, job.dispatched, job.keepNoBody]);
    assert.deepEqual(await dispatchedOf(), [[1, false, false], [2, true, false], [3, false, true]]);
    assert.deepEqual((await store.get(2, ALICE))?.startedAtMs, 0, 'queued again');
    store = await opened.reopen();
    assert.deepEqual(await dispatchedOf(), [[1, false, false], [2, true, false], [3, false, true]], 'still dispatched until it finishes');
    await store.finish(2, { status: 200, headers: [], body: null }, 1300);
    logStarts(store, 1, [1]);
    store = await opened.reopen();
    assert.deepEqual(await dispatchedOf(), [[1, true, false], [3, false, true]]);
  });

  test('restart: a fetched, deleted or superseded result never comes back', async (t) => {
    const opened = await fixture(t);
    for (let jobId = 1; jobId <= 4; jobId++) await opened.store.add(newJob(jobId, 'alice', 1000));
    await opened.store.finish(1, { status: 200, headers: [], body: new Uint8Array([1]) }, 1100);
    await opened.store.take(1, ALICE);
    // Not awaited: the remove and the cancel come while the finishes are being written.
    const finishes = [2, 3].map((jobId) => opened.store.finish(jobId, { status: 200, headers: [], body: new Uint8Array([jobId]) }, 1200));
    const removed = opened.store.remove(2, ALICE);
    const cancelled = opened.store.cancel(3, 1201);
    assert.deepEqual([await Promise.all(finishes), await removed, await cancelled], [[true, true], true, true]);
    await opened.store.cancel(4, 1300);
    const store = await opened.reopen();
    await store.recover();
    assert.deepEqual(await store.list('done', 10, ALICE), [3, 4]);
    assert.equal(await store.get(1, ALICE), undefined);
    assert.equal(await store.get(2, ALICE), undefined);
    assert.deepEqual((await store.get(3, ALICE))?.result?.body, new Uint8Array([3]), 'the cancel came after the finish');
    assert.equal((await store.get(4, ALICE))?.state, 'cancelled');
    assert.equal(await store.finish(4, { status: 200, headers: [], body: null }, 1400), false, 'cancel stays final');
    assert.deepEqual(await store.gone(2, ALICE), { jobId: 2, expiredAtMs: 0 });
  });
}

/** What a worker of lane `lane` writes before it runs each of these jobs' handlers. */
function logStarts(store: JobStore, lane: number, jobIds: readonly number[]): void {
  const log = new StartLog(store.startLogDirectory!, lane);
  for (const jobId of jobIds) log.append(jobId);
  log.close();
}
