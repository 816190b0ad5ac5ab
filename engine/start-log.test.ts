import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listStartLogs, readStartLogs } from './index.js';
import { withEngine } from './test-fixtures/engine-harness.js';

test('workers log the start of jobs of routes that are not idempotent, before their handler runs, and only those', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'start-log-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  await withEngine({ threads: 1, concurrencyPerWorker: 1, startLogDirectory: directory }, async (harness) => {
    const once = harness.submit('GET', '/fixture/hold-once', { query: 'ms=50' });
    const idempotent = harness.submit('GET', '/fixture/hold', { query: 'ms=1' });
    // Queued behind `once` (one worker, one job at a time): it has not started.
    const queued = harness.submit('GET', '/fixture/hold-once', { query: 'ms=1' });
    await harness.waitFor(once, 'running');
    // Written by the worker just before the handler, which may be a moment after main saw the job taken.
    for (const deadline = Date.now() + 10_000; !readStartLogs(listStartLogs(directory)).has(once) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual([...readStartLogs(listStartLogs(directory))], [once], 'the running job is logged; the queued one not yet');
    await harness.final(queued);
    await harness.final(idempotent);
    assert.deepEqual([...readStartLogs(listStartLogs(directory))].sort(), [once, queued].sort(), 'never the idempotent one');
  });
});

test('resubmit queues a job under an id issued before (an earlier run\'s, or reserved)', async () => {
  await withEngine({ firstJobId: 5000 }, async (harness) => {
    const { engine } = harness;
    assert.equal(engine.firstJobId, 5000);
    const match = engine.routes.match('GET', '/_api/version');
    assert.equal(match.kind, 'found');
    const routeIndex = (match as { routeIndex: number }).routeIndex;
    engine.resubmit(42, routeIndex, { method: 'GET', path: '/_api/version', query: '', headers: [], body: null });
    assert.equal((await harness.final(42)).kind, 'done');
    const next = harness.submit('GET', '/_api/version');
    assert.equal(next, 5000);
    assert.throws(() => engine.resubmit(5001, routeIndex, { method: 'GET', path: '/_api/version', query: '', headers: [], body: null }), RangeError,
      'an id not issued yet');
    const reserved = engine.reserveJobId();
    assert.equal(reserved, 5001);
    engine.resubmit(reserved, routeIndex, { method: 'GET', path: '/_api/version', query: '', headers: [], body: null });
    assert.equal((await harness.final(reserved)).kind, 'done');
  });
});
