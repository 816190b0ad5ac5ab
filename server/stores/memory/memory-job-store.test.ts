import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Caller } from '../../auth/index.js';
import type { NewJob } from '../../jobs/index.js';
import { MemoryJobStore } from './memory-job-store.js';

const ALICE: Caller = { username: 'alice', superuser: false };

function newJob(jobId: number, overrides: Partial<NewJob> = {}): NewJob {
  return {
    jobId, owner: 'alice', createdAtMs: 1000, retentionMs: 0, keepNoBody: false, idempotency: null, webhook: null,
    request: { method: 'POST', path: '/x', query: '', headers: [], body: null, user: null },
    ...overrides,
  };
}

test('calls apply when made, before their promises are awaited', async () => {
  const store = new MemoryJobStore();
  const added = store.add(newJob(1));
  const finished = store.finish(1, { status: 200, headers: [], body: new Uint8Array([1]) }, 1500);
  const taken = store.take(1, ALICE);
  assert.equal(store.size, 0);
  await added;
  assert.equal(await finished, true);
  assert.deepEqual((await taken)?.result?.body, new Uint8Array([1]));
});

test('a HEAD job keeps status and headers of its result, never a body', async () => {
  const store = new MemoryJobStore();
  await store.add(newJob(1, { keepNoBody: true }));
  await store.finish(1, { status: 200, headers: ['content-length', '3'], body: new Uint8Array(3) }, 1500);
  assert.deepEqual((await store.get(1, ALICE))?.result, { status: 200, headers: ['content-length', '3'], body: null });
});
