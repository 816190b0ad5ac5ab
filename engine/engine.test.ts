import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Engine, EngineClosedError, EngineOptionsError, QueueFullError, type EngineOptions, type JobProgress } from './index.js';
import { EngineHarness, MarkerDir, STOCK_HANDLERS, waitUntil, withEngine } from './test-fixtures/engine-harness.js';


describe('concurrency within one worker', () => {
  test('500 jobs awaiting at once on one thread all run together and complete', () => withEngine({ threads: 1, concurrencyPerWorker: 500 }, async (harness) => {
    let runningNow = 0;
    let mostRunning = 0;
    harness.engine.subscribe((kind) => {
      if (kind === 'running') mostRunning = Math.max(mostRunning, ++runningNow);
      if (kind === 'done') runningNow--;
    });
    const startedAt = performance.now();
    const jobIds = Array.from({ length: 500 }, () => harness.submit('GET', '/fixture/hold', { query: 'ms=1000' }));
    const finals = await Promise.all(jobIds.map((jobId) => harness.final(jobId)));
    assert.ok(finals.every((event) => event.kind === 'done'));
    assert.equal(mostRunning, 500, 'all 500 were running at the same time');
    // One after another they would take 500 s; together, about one.
    assert.ok(performance.now() - startedAt < 30_000);
  }));

  test('a worker runs no more than concurrencyPerWorker jobs at once', () => withEngine({ threads: 1, concurrencyPerWorker: 3 }, async (harness) => {
    const jobIds = Array.from({ length: 7 }, () => harness.submit('GET', '/fixture/hold', { query: 'ms=200' }));
    await harness.waitFor(jobIds[2], 'running');
    assert.equal(harness.engine.stats.runningJobCount, 3);
    assert.equal(harness.engine.stats.queuedJobCount, 4);
    const finals = await Promise.all(jobIds.map((jobId) => harness.final(jobId)));
    assert.ok(finals.every((event) => event.kind === 'done'));
  }));
});

describe('prompt reporting', () => {
  /** Median, robust to the odd scheduling hiccup of a busy machine. */
  function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  // The bound is generous (results take well under a millisecond here); it catches a result
  // left waiting for a worker's next wake-up, which costs about 100 ms.
  const PROMPT_MS = 50;

  test('an async handler that returns within a few microtasks is reported promptly', () => withEngine({ threads: 1 }, async (harness) => {
    for (let awaits = 0; awaits <= 6; awaits++) {
      const latencies: number[] = [];
      for (let repeat = 0; repeat < 5; repeat++) {
        const submittedAt = performance.now();
        const final = await harness.final(harness.submit('GET', '/fixture/async-quick', { query: `awaits=${awaits}` }));
        assert.equal(final.kind, 'done');
        latencies.push(final.atMs - submittedAt);
      }
      assert.ok(median(latencies) < PROMPT_MS, `awaits=${awaits}: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    }
  }));

  test('a job awaiting ctx.sleep is reported cancelled promptly', () => withEngine({ threads: 1 }, async (harness) => {
    const latencies: number[] = [];
    for (let repeat = 0; repeat < 15; repeat++) {
      const jobId = harness.submit('GET', '/fixture/hold');
      await harness.waitFor(jobId, 'running');
      const cancelledAt = performance.now();
      harness.engine.cancel(jobId);
      const final = await harness.final(jobId);
      assert.equal(final.kind, 'cancelled');
      latencies.push(final.atMs - cancelledAt);
    }
    assert.ok(median(latencies) < PROMPT_MS, `${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  }));
});

describe('back-pressure', () => {
  test('submit throws QueueFullError once maxQueuedJobs jobs are waiting, and accepts again when they drain', () => withEngine({ threads: 1, concurrencyPerWorker: 1, maxQueuedJobs: 3 }, async (harness) => {
    const markers = new MarkerDir();
    try {
      const blocker = harness.submit('GET', '/fixture/hold', { query: markers.query });
      await harness.waitFor(blocker, 'running');
      const waiting = [1, 2, 3].map(() => harness.submit('GET', '/_api/version'));
      assert.equal(harness.engine.stats.queuedJobCount, 3);
      assert.throws(() => harness.submit('GET', '/_api/version'), (error: unknown) => {
        assert.ok(error instanceof QueueFullError);
        assert.equal(error.code, 'ERR_QUEUE_FULL');
        return true;
      });
      assert.equal(harness.events.filter((event) => event.kind === 'queued').length, 4, 'the refused job was never queued');
      // A job cancelled while waiting gives its place back at once.
      assert.equal(harness.engine.cancel(waiting[2]), true);
      assert.equal(harness.engine.stats.queuedJobCount, 2);
      waiting[2] = harness.submit('GET', '/_api/version');
      harness.engine.cancel(blocker);
      for (const jobId of waiting) assert.equal((await harness.final(jobId)).kind, 'done');
      assert.equal((await harness.final(harness.submit('GET', '/_api/version'))).kind, 'done');
    } finally {
      markers.remove();
    }
  }));
});

describe('back-pressure with a full ring', () => {
  test('a job cancelled while waiting on the main thread gives its place back at once', () => withEngine({ threads: 1, concurrencyPerWorker: 1, maxQueuedJobs: 3, ringBytes: 4096 }, async (harness, markers) => {
    const blocker = harness.submit('GET', '/fixture/hold', { query: markers.query });
    await harness.waitFor(blocker, 'running');
    // 1500-byte bodies: two fit in the 4 KiB ring, the third waits on the main thread.
    const body = new Uint8Array(1500);
    const waiting = [1, 2, 3].map(() => harness.submit('GET', '/_api/version', { body }));
    assert.equal(harness.engine.stats.queuedJobCount, 3);
    assert.throws(() => harness.submit('GET', '/_api/version'), QueueFullError);
    assert.equal(harness.engine.cancel(waiting[2]), true);
    assert.equal(harness.engine.stats.queuedJobCount, 2);
    waiting[2] = harness.submit('GET', '/_api/version', { body });
    harness.engine.cancel(blocker);
    for (const jobId of waiting) assert.equal((await harness.final(jobId)).kind, 'done');
  }));
});

describe('job events', () => {
  test('every job of a mixed workload gets exactly one final event', () => withEngine({ threads: 2, concurrencyPerWorker: 4 }, async (harness) => {
    const submitted: number[] = [];
    for (let round = 0; round < 10; round++) {
      submitted.push(
        harness.submit('GET', '/_api/version'),
        harness.submit('GET', '/fixture/throw-plain'),
        harness.submit('GET', '/fixture/hold-with-deadline'),
        harness.submit('POST', '/_admin/echo', { body: new TextEncoder().encode(`round ${round}`) }),
      );
      const toCancel = harness.submit('GET', '/fixture/hold');
      submitted.push(toCancel);
      if (round % 2 === 0) harness.engine.cancel(toCancel); // still queued
      else setTimeout(() => harness.engine.cancel(toCancel), 20 * round); // probably running
    }
    const finals = await Promise.all(submitted.map((jobId) => harness.final(jobId)));
    const counts = new Map<string, number>();
    for (const final of finals) counts.set(final.kind, (counts.get(final.kind) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { done: 20, failed: 10, timedOut: 10, cancelled: 10 });
    harness.assertEveryJobEndedOnce();
    const ids = harness.events.filter((event) => event.kind === 'queued').map((event) => event.jobId);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'job ids increase');
  }));

  test('progress of /_admin/steps arrives coalesced, in order, before the result', () => withEngine({ threads: 1, progressIntervalMs: 50 }, async (harness) => {
    const count = 40;
    const jobId = harness.submit('GET', '/_admin/steps', { query: `count=${count}&ms=2` });
    assert.equal((await harness.final(jobId)).kind, 'done');
    const progress = harness.eventsOf(jobId).filter((event) => event.kind === 'progress').map((event) => event.data as JobProgress);
    assert.ok(progress.length >= 1, 'some progress arrived');
    assert.ok(progress.length < count + 1, `${count + 1} reports were coalesced into ${progress.length} events`);
    const currents = progress.map((entry) => entry.current!);
    assert.deepEqual(currents, [...currents].sort((a, b) => a - b), 'in order');
    assert.deepEqual(progress.at(-1), { current: count, total: count, message: `${count} steps done` }, 'the last report is not lost');
    const kinds = harness.kindsOf(jobId);
    assert.equal(kinds.lastIndexOf('progress'), kinds.length - 2, 'all progress comes before done');
  }));

  test('a synchronous burst of progress reports arrives as one event carrying the latest', () => withEngine({ threads: 1 }, async (harness) => {
    const jobId = harness.submit('GET', '/fixture/progress-burst', { query: 'count=10000' });
    assert.equal((await harness.final(jobId)).kind, 'done');
    const progress = harness.eventsOf(jobId).filter((event) => event.kind === 'progress');
    assert.deepEqual(progress.map((event) => event.data), [{ current: 10_000, total: 10_000 }]);
  }));
});

describe('options and shutdown', () => {
  test('invalid options are refused with EngineOptionsError', async () => {
    for (const options of [{ threads: 0 }, { concurrencyPerWorker: 1.5 }, { ringBytes: 5000 }, { cancelGraceMs: -1 }] as EngineOptions[]) {
      await assert.rejects(Engine.start({ handlerModules: [STOCK_HANDLERS[0]], ...options }), (error: unknown) => error instanceof EngineOptionsError && error.code === 'ERR_ENGINE_OPTIONS');
    }
  });

  test('close() lets running jobs finish within its timeout and then refuses new jobs', async () => {
    const harness = await EngineHarness.start({ threads: 1 });
    const jobId = harness.submit('GET', '/fixture/hold', { query: 'ms=300' });
    await harness.waitFor(jobId, 'running');
    await harness.close(10_000);
    assert.equal((await harness.final(jobId)).kind, 'done');
    assert.throws(() => harness.submit('GET', '/_api/version'), EngineClosedError);
  });

  test('close() cancels what is still running, even a job that never yields, and the process exits by itself', async () => {
    const script = fileURLToPath(new URL('./test-fixtures/close-and-exit.js', import.meta.url));
    const startedAt = performance.now();
    let printedAt = 0;
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [script], { timeout: 30_000 }, (error, out) => {
        resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? null, stdout: out });
      });
      child.stdout!.once('data', () => { printedAt = performance.now(); });
    });
    const exitedAt = performance.now();
    assert.equal(code, 0, `the child exits cleanly and by itself (output: ${stdout})`);
    const report = JSON.parse(stdout.trim()) as Record<string, unknown>;
    assert.deepEqual({ ...report, closeMs: undefined }, {
      quick: 'done', sleeping: 'cancelled', spinning: 'cancelled', closeMs: undefined, submitAfterClose: 'ERR_ENGINE_CLOSED',
    });
    assert.ok(printedAt > startedAt);
    assert.ok(exitedAt - printedAt < 10_000, `exited ${(exitedAt - printedAt).toFixed(0)} ms after close() returned`);
  });

  test('stats report an idle engine', () => withEngine({ threads: 2 }, async (harness) => {
    await waitUntil(() => harness.engine.stats.threads === 2, 'two threads');
    assert.deepEqual(harness.engine.stats, { queuedJobCount: 0, runningJobCount: 0, threads: 2, workerRestarts: 0 });
  }));
});
