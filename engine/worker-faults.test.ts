import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobFailure } from './index.js';
import { EngineHarness, resultHeader, withEngine } from './test-fixtures/engine-harness.js';


describe('a handler that throws', () => {
  test('fails its job with status 500 and the error message', () => withEngine({ threads: 1 }, async (harness) => {
    const final = await harness.final(harness.submit('GET', '/fixture/throw-plain'));
    assert.equal(final.kind, 'failed');
    assert.deepEqual(final.data, { code: 'ERR_HANDLER', message: 'plain failure', details: null });
  }));

  test('fails only its job when what it threw cannot even be described', () => withEngine({ threads: 1 }, async (harness) => {
    const neighbour = harness.submit('GET', '/_admin/sleep', { query: 'duration=0.3' });
    await harness.waitFor(neighbour, 'running');
    const final = await harness.final(harness.submit('GET', '/fixture/throw-undescribable'));
    assert.equal(final.kind, 'failed');
    assert.equal((final.data as JobFailure).details, null);
    assert.match((final.data as JobFailure).message, /cannot be described/);
    assert.equal((await harness.final(neighbour)).kind, 'done', 'the job beside it was not taken down');
    assert.equal(harness.engine.stats.workerRestarts, 0);
  }));

  test('passes the fields its error carries through untouched, for the embedder to read', () => withEngine({ threads: 1 }, async (harness) => {
    const teapot = await harness.final(harness.submit('GET', '/fixture/throw-with-status'));
    assert.equal(teapot.kind, 'failed');
    assert.deepEqual(teapot.data, { code: 'ERR_HANDLER', message: "I'm a teapot", details: { status: 418, errorNum: 1234 } });
    const builtin = await harness.final(harness.submit('GET', '/_admin/fail', { query: 'status=503' }));
    assert.equal((builtin.data as JobFailure).details?.status, 503);
    const badParameter = await harness.final(harness.submit('GET', '/_admin/fail', { query: 'status=200' }));
    assert.deepEqual(badParameter.data, { code: 'ERR_HANDLER', message: 'status must be an HTTP error status (400-599)', details: { status: 400, errorNum: 400 } });
    assert.equal(harness.engine.stats.workerRestarts, 0, 'a thrown error does not cost the worker');
  }));
});

describe("a handler's answer that cannot be sent", () => {
  test('fails its own job only: the worker and the jobs beside it carry on', () => withEngine({ threads: 1 }, async (harness) => {
    const beside = harness.submit('GET', '/fixture/hold-once', { query: 'ms=500' });
    await harness.waitFor(beside, 'running');
    for (const path of ['/fixture/unencodable-body', '/fixture/unencodable-header']) {
      const final = await harness.final(harness.submit('GET', path));
      assert.equal(final.kind, 'failed', path);
      assert.equal((final.data as JobFailure).code, 'ERR_BAD_RESPONSE', path);
    }
    const nothing = await harness.final(harness.submit('GET', '/fixture/return-nothing'));
    assert.deepEqual(nothing.data, { code: 'ERR_BAD_RESPONSE', message: 'handler returned undefined, expected a response object { status, headers, body }', details: null });
    assert.equal((await harness.final(beside)).kind, 'done');
    assert.equal(harness.engine.stats.workerRestarts, 0);
  }));

  test('progress keeps its documented fields and drops what cannot be sent', () => withEngine({ threads: 1 }, async (harness) => {
    const jobId = harness.submit('GET', '/fixture/odd-progress');
    assert.equal((await harness.final(jobId)).kind, 'done');
    const progress = harness.eventsOf(jobId).filter((event) => event.kind === 'progress').map((event) => event.data);
    assert.deepEqual(progress, [{ current: 1, message: 'odd' }], `events: ${JSON.stringify(harness.eventsOf(jobId), (_key, value) => (typeof value === 'bigint' ? String(value) : value))}`);
    assert.equal(harness.engine.stats.workerRestarts, 0);
  }));
});

/**
 * One thread running three jobs at once (one idempotent, one not, one that kills the worker)
 * and holding two more queued: the idempotent one runs again, the other fails, the queued
 * ones run on the replacement worker, and nothing vanishes.
 */
async function killWorkerBesideOthers(harness: EngineHarness, killerPath: string): Promise<void> {
  const idempotent = harness.submit('GET', '/fixture/hold', { query: 'ms=1000' });
  const once = harness.submit('GET', '/fixture/hold-once', { query: 'ms=60000' });
  const killer = harness.submit('GET', killerPath);
  const queued = [harness.submit('GET', '/_api/version'), harness.submit('GET', '/_api/version')];

  const killerFinal = await harness.final(killer);
  assert.equal(killerFinal.kind, 'failed');
  assert.equal((killerFinal.data as JobFailure).code, 'ERR_WORKER_TERMINATED');
  assert.match((killerFinal.data as JobFailure).message, /^worker terminated: /);

  const onceFinal = await harness.final(once);
  assert.equal(onceFinal.kind, 'failed');
  assert.equal((onceFinal.data as JobFailure).code, 'ERR_WORKER_TERMINATED');

  const idempotentFinal = await harness.final(idempotent);
  assert.equal(idempotentFinal.kind, 'done');
  assert.equal(resultHeader(idempotentFinal, 'x-attempt'), '1');
  const kinds = harness.kindsOf(idempotent);
  assert.deepEqual(kinds, ['queued', 'running', 'retrying', 'running', 'done']);
  const retrying = harness.eventsOf(idempotent).find((event) => event.kind === 'retrying')!;
  assert.equal((retrying.data as JobFailure).code, 'ERR_WORKER_TERMINATED', 'the retrying event says why');

  for (const jobId of queued) assert.equal((await harness.final(jobId)).kind, 'done');
  assert.equal(harness.engine.stats.workerRestarts, 1);
  assert.equal(harness.engine.stats.threads, 1);

  // The replacement serves new work.
  assert.equal((await harness.final(harness.submit('GET', '/_api/version'))).kind, 'done');
  assert.equal(harness.engine.stats.runningJobCount, 0);
}

describe('a worker that dies', () => {
  test('by process.exit fails the jobs it ran, re-runs idempotent ones, and its queued jobs run elsewhere', () => withEngine({ threads: 1, concurrencyPerWorker: 3 }, async (harness) => {
    await killWorkerBesideOthers(harness, '/_admin/crash');
  }));

  test('by running out of memory under resourceLimits is handled the same way', () => withEngine({
    threads: 1, concurrencyPerWorker: 3, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
  }, async (harness) => {
    await killWorkerBesideOthers(harness, '/fixture/out-of-memory');
  }));

  test('by an uncaught exception in a timer is handled the same way', () => withEngine({ threads: 1, concurrencyPerWorker: 3 }, async (harness) => {
    await killWorkerBesideOthers(harness, '/fixture/throw-in-timer');
  }));

  test('one of two: the other thread keeps serving meanwhile', () => withEngine({ threads: 2 }, async (harness) => {
    const crashes = [harness.submit('GET', '/_admin/crash'), harness.submit('GET', '/_admin/crash')];
    const work = Array.from({ length: 200 }, () => harness.submit('GET', '/_api/version'));
    for (const jobId of crashes) assert.equal((await harness.final(jobId)).kind, 'failed');
    const finals = await Promise.all(work.map((jobId) => harness.final(jobId)));
    assert.ok(finals.every((event) => event.kind === 'done'), 'every queued job ran');
    assert.equal(harness.engine.stats.workerRestarts, 2);
  }));
});
