import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JobResult } from './index.js';
import { EngineHarness, MarkerDir, resultHeader, resultText } from './test-fixtures/engine-harness.js';
import { patternBytes } from './test-fixtures/fixture-handlers.js';

const TEN_MB = 10 * 1024 * 1024;

function sameBytes(actual: Uint8Array | null, expected: Uint8Array): boolean {
  return actual !== null && Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), expected) === 0;
}

describe('payloads larger than a ring record', () => {
  let harness: EngineHarness;
  before(async () => {
    harness = await EngineHarness.start({ threads: 2 });
  });
  after(() => harness.close());

  test('a 10 MB request body reaches the handler and comes back byte-exact', async () => {
    const body = randomBytes(TEN_MB);
    const final = await harness.final(harness.submit('POST', '/fixture/echo-bytes', { body }));
    assert.equal(final.kind, 'done');
    assert.equal(resultHeader(final, 'x-request-bytes'), String(TEN_MB));
    const result = final.data as JobResult;
    assert.equal(result.body?.byteLength, TEN_MB);
    assert.ok(sameBytes(result.body, body), 'bytes differ');
  });

  test('a 10 MB response body arrives byte-exact', async () => {
    const final = await harness.final(harness.submit('GET', '/fixture/big-response', { query: `bytes=${TEN_MB}` }));
    assert.equal(final.kind, 'done');
    assert.ok(sameBytes((final.data as JobResult).body, patternBytes(TEN_MB)), 'bytes differ');
  });

  test('a handler that answers the same cached body twice sends it whole both times', async () => {
    const expected = patternBytes(TEN_MB);
    // threads: 2, so send enough that both workers answer at least twice.
    const jobIds = Array.from({ length: 4 }, () => harness.submit('GET', '/fixture/cached-big-response'));
    for (const jobId of jobIds) {
      const final = await harness.final(jobId);
      assert.equal(final.kind, 'done');
      assert.equal((final.data as JobResult).body?.byteLength, TEN_MB, `job ${jobId}`);
      assert.ok(sameBytes((final.data as JobResult).body, expected), `job ${jobId}: bytes differ`);
    }
  });

  test('large and small jobs mixed all arrive intact', async () => {
    const bodies = Array.from({ length: 60 }, (_, index) => randomBytes(index % 20 === 0 ? 2 * 1024 * 1024 + index : index * 37));
    const jobIds = bodies.map((body) => harness.submit('POST', '/fixture/echo-bytes', { body }));
    const finals = await Promise.all(jobIds.map((jobId) => harness.final(jobId)));
    finals.forEach((final, index) => {
      assert.equal(final.kind, 'done');
      assert.ok(sameBytes((final.data as JobResult).body, bodies[index]), `job ${jobIds[index]}: bytes differ`);
    });
  });
});

describe('a large job cancelled before it starts', () => {
  test('leaves no copy of its body behind in the worker', async () => {
    const harness = await EngineHarness.start({ threads: 1, concurrencyPerWorker: 1 });
    const markers = new MarkerDir();
    const workerArrayBufferBytes = async (): Promise<number> => {
      const final = await harness.final(harness.submit('GET', '/fixture/array-buffer-bytes'));
      return (JSON.parse(resultText(final)) as { arrayBuffers: number }).arrayBuffers;
    };
    try {
      const before = await workerArrayBufferBytes();
      for (let round = 0; round < 4; round++) {
        const blocker = harness.submit('GET', '/fixture/hold', { query: markers.query });
        await harness.waitFor(blocker, 'running');
        const jobIds = Array.from({ length: 8 }, () => harness.submit('POST', '/fixture/echo-bytes', { body: new Uint8Array(4 * 1024 * 1024) }));
        for (const jobId of jobIds) harness.engine.cancel(jobId);
        harness.engine.cancel(blocker);
        for (const jobId of [blocker, ...jobIds]) assert.equal((await harness.final(jobId)).kind, 'cancelled');
      }
      // Envelopes still on their way over the port count for a moment: take the least of a few looks.
      let grownMb = Infinity;
      for (let look = 0; look < 3; look++) {
        await harness.final(harness.submit('GET', '/fixture/hold', { query: 'ms=100' }));
        grownMb = Math.min(grownMb, ((await workerArrayBufferBytes()) - before) / (1024 * 1024));
      }
      assert.ok(grownMb < 40, `the worker kept ${grownMb.toFixed(1)} MB of the 128 MB of cancelled bodies`);
    } finally {
      await harness.close();
      markers.remove();
    }
  });
});
