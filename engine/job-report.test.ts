import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayedStarts } from './delayed-starts.js';
import { LogBuffer, MAX_LOG_CHARS, MAX_LOG_LINES, PhaseTracker } from './job-report.js';
import type { JobLogBatch, JobResult, PhaseProgress, ReportedProgress, RetryNotice } from './index.js';
import { withEngine } from './test-fixtures/engine-harness.js';

describe('what a job reports beside its result', () => {
  test('ctx.log lines arrive as log events before the result, plain data only, cut to the newest within the bounds', async () => {
    await withEngine({ threads: 1 }, async (harness) => {
      const jobId = harness.submit('GET', '/fixture/reports', { query: 'lines=1500' });
      const done = await harness.final(jobId);
      assert.equal(done.kind, 'done');
      const batches = harness.eventsOf(jobId).filter((event) => event.kind === 'log').map((event) => event.data as JobLogBatch);
      const lines = batches.flatMap((batch) => batch.lines);
      const dropped = batches.reduce((sum, batch) => sum + batch.dropped, 0);
      assert.equal(lines.length + dropped, 1500, 'every line is sent or counted as dropped');
      assert.ok(lines.length <= MAX_LOG_LINES);
      assert.equal(lines.at(-1)!.message, 'line 1499', 'the newest lines are kept');
      assert.deepEqual(lines.at(-1)!.fields, { line: 1499, ok: true }, 'fields keep only strings, numbers, booleans and null');
      assert.ok(harness.kindsOf(jobId).lastIndexOf('log') < harness.kindsOf(jobId).indexOf('done'), 'log lines come before the result');
    });
  });

  test('warnings from ctx.warn and from the response ride with the result; a value that is no warning is dropped', async () => {
    await withEngine({ threads: 1 }, async (harness) => {
      const jobId = harness.submit('GET', '/fixture/reports', { query: 'warnings=2' });
      const done = await harness.final(jobId);
      assert.deepEqual((done.data as JobResult).warnings, [
        { code: 'W', message: 'warning 0', affected: 0 },
        { code: 'W', message: 'warning 1', affected: 1 },
        { code: 'FROM_RESPONSE', message: 'returned with the response' },
      ]);
      const plain = harness.submit('GET', '/_api/version');
      assert.equal((await harness.final(plain)).kind, 'done');
      assert.equal((harness.eventsOf(plain).at(-1)!.data as JobResult).warnings, undefined, 'a job without warnings carries none');
    });
  });

  test('named phases travel with progress: the one left is COMPLETED with its times, the declared ones not reached are PENDING', async () => {
    await withEngine({ threads: 1, progressIntervalMs: 1 }, async (harness) => {
      const jobId = harness.submit('GET', '/fixture/reports');
      await harness.final(jobId);
      const last = harness.eventsOf(jobId).filter((event) => event.kind === 'progress').at(-1)!.data as ReportedProgress;
      const phases = last.phases!;
      assert.deepEqual(phases.map((phase) => [phase.name, phase.status]), [['A', 'COMPLETED'], ['B', 'IN_PROGRESS'], ['C', 'PENDING']]);
      assert.ok(phases[0].endedAtMs >= phases[0].startedAtMs && phases[0].startedAtMs > 0);
      assert.equal(phases[1].startedAtMs, phases[0].endedAtMs, 'B starts when A ends');
      assert.equal(phases[2].startedAtMs, 0);
    });
  });
});

describe('retries', () => {
  test('a route with a retry policy runs a failed job again under its id: a retrying event per failed attempt, then done', async () => {
    await withEngine({ threads: 1 }, async (harness) => {
      const jobId = harness.submit('GET', '/fixture/fail-then-succeed', { query: 'failures=2' });
      const done = await harness.final(jobId);
      assert.equal(done.kind, 'done');
      assert.deepEqual(JSON.parse(Buffer.from((done.data as JobResult).body!).toString()), { attempt: 2 });
      const notices = harness.eventsOf(jobId).filter((event) => event.kind === 'retrying').map((event) => event.data as RetryNotice);
      assert.deepEqual(notices.map((notice) => [notice.attempt, notice.delayMs, notice.code, notice.details?.status]), [[1, 20, 'ERR_HANDLER', 503], [2, 40, 'ERR_HANDLER', 503]]);
      assert.deepEqual(harness.kindsOf(jobId).filter((kind) => kind === 'running').length, 3, 'each attempt starts');
      harness.assertEveryJobEndedOnce();
    });
  });

  test('the policy runs out: the last failure ends the job; a retryable: false error is not retried at all', async () => {
    await withEngine({ threads: 1 }, async (harness) => {
      const exhausted = harness.submit('GET', '/fixture/fail-then-succeed', { query: 'failures=5' });
      const refused = harness.submit('GET', '/fixture/fail-then-succeed', { query: 'retryable=false' });
      assert.equal((await harness.final(exhausted)).kind, 'failed');
      assert.equal(harness.kindsOf(exhausted).filter((kind) => kind === 'retrying').length, 2, '3 attempts in all');
      assert.equal((await harness.final(refused)).kind, 'failed');
      assert.equal(harness.kindsOf(refused).includes('retrying'), false);
    });
  });

  test('a job waiting out its backoff counts as queued, and a cancel ends it at once', async () => {
    await withEngine({ threads: 1 }, async (harness) => {
      const jobId = harness.submit('GET', '/fixture/fail-slowly-retried');
      await harness.waitFor(jobId, 'retrying');
      assert.equal(harness.engine.stats.queuedJobCount, 1);
      assert.equal(harness.engine.stats.runningJobCount, 0);
      assert.equal(harness.engine.cancel(jobId), true);
      assert.equal((await harness.final(jobId)).kind, 'cancelled');
      assert.equal(harness.engine.stats.queuedJobCount, 0);
      harness.assertEveryJobEndedOnce();
    });
  });

  test('the delayed starts run in due order with one timer, skipping entries whose job is gone', async () => {
    const started: number[] = [];
    const starts = new DelayedStarts((_slot, jobId) => started.push(jobId));
    const now = Date.now();
    for (const [jobId, dueIn] of [[1, 30], [2, 10], [3, 20], [4, 0], [5, 25]] as const) starts.add(jobId, jobId, now + dueIn);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(started, [4, 2, 3, 5, 1]);
    assert.equal(starts.size, 0);
  });
});

describe('bounds of what a handler reports', () => {
  test('a log batch keeps the newest lines within 1,000 lines and 64 KiB, counting what it cut', () => {
    const buffer = new LogBuffer();
    for (let line = 0; line < 3000; line++) buffer.add(`line ${line}`, undefined, line);
    const batch = buffer.take();
    assert.equal(batch.lines.length, MAX_LOG_LINES);
    assert.equal(batch.dropped, 2000);
    assert.equal(batch.lines[0].message, 'line 2000');
    for (let line = 0; line < 100; line++) buffer.add('x'.repeat(4000), null, line);
    const big = buffer.take();
    assert.ok(big.lines.reduce((sum, line) => sum + line.message.length, 0) <= MAX_LOG_CHARS);
    assert.ok(big.dropped > 0);
  });

  test('phases: naming one again does not restart it; skipped declared phases count as done', () => {
    const tracker = new PhaseTracker();
    tracker.report({ phase: 'A', phases: ['A', 'B', 'C'] }, 10);
    tracker.report({ phase: 'A', current: 5 }, 20);
    tracker.report({ phase: 'C' }, 30);
    const phases: PhaseProgress[] = tracker.snapshot();
    assert.deepEqual(phases, [
      { name: 'A', status: 'COMPLETED', startedAtMs: 10, endedAtMs: 30 },
      { name: 'B', status: 'COMPLETED', startedAtMs: 0, endedAtMs: 0 },
      { name: 'C', status: 'IN_PROGRESS', startedAtMs: 30, endedAtMs: 0 },
    ]);
  });
});
