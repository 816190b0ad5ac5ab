import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineHarness, MarkerDir, resultHeader, resultText, waitUntil, withEngine } from './test-fixtures/engine-harness.js';

const GRACE_MS = 250;
/** Allowed beyond the grace period for terminating and reporting: generous, for a busy 2-core machine. */
const TERMINATION_SLACK_MS = 3000;

/** Until the handlers of `jobIds` have written their `started` markers: taken by a worker is not yet started. */
function untilStarted(markers: MarkerDir, ...jobIds: number[]): Promise<void> {
  return waitUntil(() => jobIds.every((jobId) => markers.names().includes(`${jobId}-started`)), `jobs ${jobIds.join(', ')} started`);
}


describe('cooperative cancellation', () => {
  test('a job awaiting ctx.sleep ends cancelled', () => withEngine({ threads: 2 }, async (harness, markers) => {
    const jobId = harness.submit('GET', '/fixture/hold', { query: markers.query });
    await untilStarted(markers, jobId);
    assert.equal(harness.engine.cancel(jobId), true);
    const final = await harness.final(jobId);
    assert.equal(final.kind, 'cancelled');
    assert.equal(final.data, undefined);
    assert.equal(harness.engine.stats.workerRestarts, 0, 'a cooperative job stops without terminating its worker');
  }));

  test('a job looping over ctx.checkpoint() ends cancelled', () => withEngine({ threads: 2 }, async (harness, markers) => {
    const jobId = harness.submit('GET', '/fixture/checkpoint-loop', { query: markers.query });
    await untilStarted(markers, jobId);
    assert.equal(harness.engine.cancel(jobId), true);
    assert.equal((await harness.final(jobId)).kind, 'cancelled');
    assert.equal(harness.engine.stats.workerRestarts, 0);
    // The worker is free again: the next job runs.
    const next = harness.submit('GET', '/_api/version');
    assert.equal((await harness.final(next)).kind, 'done');
  }));

  // A long grace period: this is about the result, not about termination, and a busy machine
  // may delay the handler's 50 ms timer.
  test('a handler that catches the termination and carries on still ends cancelled; its result is discarded', () => withEngine({ threads: 1, cancelGraceMs: 5000 }, async (harness, markers) => {
    const asyncJob = harness.submit('GET', '/fixture/carry-on', { query: `ms=50&${markers.query}` });
    const syncJob = harness.submit('GET', '/fixture/carry-on-sync', { query: markers.query });
    await untilStarted(markers, asyncJob, syncJob);
    harness.engine.cancel(asyncJob);
    harness.engine.cancel(syncJob);
    for (const jobId of [asyncJob, syncJob]) {
      const final = await harness.final(jobId);
      assert.equal(final.kind, 'cancelled');
      assert.equal(final.data, undefined, 'the returned value is discarded');
      assert.ok(markers.names().includes(`${jobId}-carried-on`), `the handler did carry on and return (markers: ${markers.names().join(', ')})`);
    }
    assert.equal(harness.engine.stats.workerRestarts, 0, 'both returned within the grace period');
  }));

  test('a handler that carries on past the grace period is terminated with its worker', () => withEngine({ threads: 1, cancelGraceMs: GRACE_MS }, async (harness, markers) => {
    const jobId = harness.submit('GET', '/fixture/carry-on', { query: `ms=30000&${markers.query}` });
    await untilStarted(markers, jobId);
    const cancelledAt = performance.now();
    harness.engine.cancel(jobId);
    const final = await harness.final(jobId);
    assert.equal(final.kind, 'cancelled');
    assert.ok(final.atMs - cancelledAt < GRACE_MS + TERMINATION_SLACK_MS);
    assert.equal(harness.engine.stats.workerRestarts, 1);
    assert.deepEqual(markers.names(), [`${jobId}-started`], 'it never got to return');
  }));
});

describe('a job that never yields', () => {
  test('is terminated after the grace period, its worker replaced, and the pool serves at full strength', () => withEngine({ threads: 2, cancelGraceMs: GRACE_MS }, async (harness, markers) => {
    const threadsBefore = await holdOnEveryThread(harness, 4);
    assert.equal(threadsBefore.size, 2);

    const jobId = harness.submit('GET', '/fixture/spin', { query: markers.query });
    await untilStarted(markers, jobId);
    const cancelledAt = performance.now();
    assert.equal(harness.engine.cancel(jobId), true);
    const final = await harness.final(jobId);
    const elapsedMs = final.atMs - cancelledAt;
    assert.equal(final.kind, 'cancelled');
    assert.ok(elapsedMs >= GRACE_MS - 5, `waited the grace period first (${elapsedMs.toFixed(1)} ms)`);
    assert.ok(elapsedMs < GRACE_MS + TERMINATION_SLACK_MS, `terminated within grace + slack (${elapsedMs.toFixed(1)} ms)`);
    assert.equal(harness.engine.stats.workerRestarts, 1);
    assert.equal(harness.engine.stats.threads, 2);

    // Jobs submitted now are spread over two live threads: the survivor and a new one.
    const threadsAfter = await holdOnEveryThread(harness, 4);
    assert.equal(threadsAfter.size, 2, 'two threads serve again');
    const survivors = [...threadsAfter].filter((threadId) => threadsBefore.has(threadId));
    assert.equal(survivors.length, 1, 'exactly one of the old threads was replaced');
  }));

  test('jobs running beside it fail, or run again once when idempotent; its queued jobs run on the replacement', () => withEngine({ threads: 1, concurrencyPerWorker: 3, cancelGraceMs: GRACE_MS }, async (harness, markers) => {
    const idempotent = harness.submit('GET', '/fixture/hold', { query: 'ms=1000' });
    const once = harness.submit('GET', '/fixture/hold-once', { query: 'ms=60000' });
    const spinning = harness.submit('GET', '/fixture/spin', { query: markers.query });
    const queued = harness.submit('GET', '/_api/version');
    await untilStarted(markers, spinning);
    harness.engine.cancel(spinning);

    assert.equal((await harness.final(spinning)).kind, 'cancelled');
    const onceFinal = await harness.final(once);
    assert.equal(onceFinal.kind, 'failed');
    assert.equal((onceFinal.data as { code: string }).code, 'ERR_WORKER_TERMINATED');
    assert.match((onceFinal.data as { message: string }).message, new RegExp(`job ${spinning}`), 'the error says which job caused it');
    const idempotentFinal = await harness.final(idempotent);
    assert.equal(idempotentFinal.kind, 'done');
    assert.equal(resultHeader(idempotentFinal, 'x-attempt'), '1');
    assert.deepEqual(harness.kindsOf(idempotent), ['queued', 'running', 'retrying', 'running', 'done']);
    assert.equal((await harness.final(queued)).kind, 'done');
  }));

  test('jobs that finished before it on its worker keep their results when it is terminated', () => withEngine({ threads: 1, cancelGraceMs: GRACE_MS }, async (harness, markers) => {
    // Submitted in one turn, so the worker takes all three in one batch: the two quick jobs
    // finish before the spin starts, with the spin then holding the thread.
    const quick = [harness.submit('GET', '/fixture/mark', { query: markers.query }), harness.submit('GET', '/fixture/mark', { query: markers.query })];
    const spinning = harness.submit('GET', '/fixture/spin', { query: markers.query });
    await untilStarted(markers, spinning);
    harness.engine.cancel(spinning);
    assert.equal((await harness.final(spinning)).kind, 'cancelled');
    for (const jobId of quick) {
      assert.deepEqual(harness.kindsOf(jobId), ['queued', 'running', 'done'], 'finished, so neither failed nor run again');
    }
  }));

  test('jobs that finished before it on its worker are reported while it still runs', () => withEngine({ threads: 1, cancelGraceMs: GRACE_MS }, async (harness, markers) => {
    const quick = harness.submit('GET', '/fixture/mark', { query: markers.query });
    const spinning = harness.submit('GET', '/fixture/spin', { query: markers.query });
    try {
      await untilStarted(markers, spinning);
      assert.equal((await harness.final(quick, 3000)).kind, 'done');
    } finally {
      harness.engine.cancel(spinning);
      await harness.final(spinning);
    }
  }));

  test('/_admin/spin is cancelled the same way', () => withEngine({ threads: 1, cancelGraceMs: GRACE_MS }, async (harness) => {
    const jobId = harness.submit('GET', '/_admin/spin', { query: 'duration=60' });
    await waitUntil(() => harness.engine.stats.runningJobCount === 1, 'the spin was taken');
    harness.engine.cancel(jobId);
    assert.equal((await harness.final(jobId)).kind, 'cancelled');
    assert.equal((await harness.final(harness.submit('GET', '/_api/version'))).kind, 'done', 'the pool serves again');
  }));

  test('that misses its deadline ends timedOut after its worker is terminated', () => withEngine({ threads: 1, cancelGraceMs: GRACE_MS, defaultTimeoutMs: 300 }, async (harness) => {
    const submittedAt = performance.now();
    const jobId = harness.submit('GET', '/_admin/spin', { query: 'duration=60' });
    const final = await harness.final(jobId);
    assert.equal(final.kind, 'timedOut');
    assert.ok(final.atMs - submittedAt >= 300 + GRACE_MS - 15);
    assert.equal(harness.engine.stats.workerRestarts, 1);
  }));
});

describe('a queued job that is cancelled', () => {
  test('never starts, and the jobs around it run in order', () => withEngine({ threads: 1, concurrencyPerWorker: 1, ringBytes: 4096 }, async (harness, markers) => {
    const blocker = harness.submit('GET', '/fixture/hold', { query: markers.query });
    await waitUntil(() => markers.names().includes(`${blocker}-started`), 'the blocker is running');
    // 1200-byte bodies: three fit in the 4 KiB ring, the rest wait on the main thread, so the
    // cancelled jobs include one already handed to the worker and one not yet handed over.
    const padding = new Uint8Array(1200);
    const queued = Array.from({ length: 6 }, () => harness.submit('GET', '/fixture/mark', { query: markers.query, body: padding }));
    assert.equal(harness.engine.stats.queuedJobCount, 6);
    const cancelled = [queued[1], queued[4]];
    for (const jobId of cancelled) {
      assert.equal(harness.engine.cancel(jobId), true);
      const final = await harness.final(jobId);
      assert.equal(final.kind, 'cancelled', 'ends at once, while the worker is still busy');
    }
    harness.engine.cancel(blocker);
    const ran = queued.filter((jobId) => !cancelled.includes(jobId));
    const finals = await Promise.all(ran.map((jobId) => harness.final(jobId)));
    assert.deepEqual(finals.map((event) => event.kind), ['done', 'done', 'done', 'done']);
    assert.deepEqual(finals.map((event) => event.atMs).slice().sort((a, b) => a - b), finals.map((event) => event.atMs), 'FIFO order');
    for (const jobId of cancelled) assert.deepEqual(harness.kindsOf(jobId), ['queued', 'cancelled']);
    assert.deepEqual(markers.names(), [`${blocker}-started`, ...ran.map((jobId) => `${jobId}-ran`)].sort());
    await waitUntil(() => harness.engine.stats.runningJobCount === 0 && harness.engine.stats.queuedJobCount === 0, 'the engine holds nothing');
  }));
});

describe('a job cancelled after it finished', () => {
  test('keeps its result: cancel returns false and emits nothing', () => withEngine({ threads: 1 }, async (harness) => {
    const jobId = harness.submit('GET', '/_api/version');
    const final = await harness.final(jobId);
    assert.equal(final.kind, 'done');
    assert.equal(harness.engine.cancel(jobId), false);
    assert.equal(harness.engine.cancel(jobId + 1000), false, 'an unknown job');
    assert.deepEqual(harness.kindsOf(jobId), ['queued', 'running', 'done']);
    assert.match(resultText(final), /"version"/);
  }));
});

describe('deadlines', () => {
  test("a route's timeoutMs ends a job timedOut", () => withEngine({ threads: 1 }, async (harness) => {
    const submittedAt = performance.now();
    const jobId = harness.submit('GET', '/fixture/hold-with-deadline');
    const final = await harness.final(jobId);
    assert.equal(final.kind, 'timedOut');
    assert.ok(final.atMs - submittedAt >= 190);
    assert.equal(harness.engine.stats.workerRestarts, 0);
  }));

  test('defaultTimeoutMs ends a job of a route without its own timeout timedOut', () => withEngine({ threads: 1, defaultTimeoutMs: 200 }, async (harness) => {
    const jobId = harness.submit('GET', '/fixture/hold');
    assert.equal((await harness.final(jobId)).kind, 'timedOut');
  }));

  test("a route's timeoutMs of 0 means no deadline, whatever defaultTimeoutMs says", () => withEngine({ threads: 1, defaultTimeoutMs: 200 }, async (harness) => {
    const jobId = harness.submit('GET', '/fixture/hold-without-deadline', { query: 'ms=600' });
    assert.equal((await harness.final(jobId)).kind, 'done');
  }));
});

/** Runs `count` short holds at once and returns the thread ids that served them. */
async function holdOnEveryThread(harness: EngineHarness, count: number): Promise<Set<string>> {
  const jobIds = Array.from({ length: count }, () => harness.submit('GET', '/fixture/hold', { query: 'ms=300' }));
  const finals = await Promise.all(jobIds.map((jobId) => harness.final(jobId)));
  for (const final of finals) assert.equal(final.kind, 'done');
  return new Set(finals.map((final) => resultHeader(final, 'x-thread-id')!));
}
