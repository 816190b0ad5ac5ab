import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Caller } from '../../auth/index.js';
import { MemoryJobTable } from './memory-job-table.js';

const ALICE: Caller = { username: 'alice', superuser: false };

// The job store contract runs on MemoryJobStore, which is this table behind the async seam.
describe('MemoryJobTable', () => {
  test('bodies survive compaction when stragglers leave chunks mostly empty', () => {
    const table = new MemoryJobTable();
    const jobCount = 40_000;
    const bodyOf = (jobId: number): Uint8Array => new Uint8Array(100 + (jobId % 50)).fill(jobId % 256);
    for (let jobId = 1; jobId <= jobCount; jobId++) {
      table.add(jobId, 'alice', 0);
      table.finish(jobId, { status: 200, headers: [], body: bodyOf(jobId) }, 1);
    }
    for (let jobId = 1; jobId <= jobCount; jobId++) if (jobId % 10 !== 0) table.take(jobId, ALICE);
    for (let jobId = 10; jobId <= jobCount; jobId += 10) {
      assert.deepEqual(table.take(jobId, ALICE)?.result?.body, bodyOf(jobId));
    }
    assert.equal(table.size, 0);
  });
});
