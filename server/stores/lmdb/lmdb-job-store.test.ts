import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { JobStore } from '../../jobs/index.js';
import { jobStoreContract } from '../../jobs/test-fixtures/job-store-contract.js';
import { newJob, ROOT } from '../../jobs/test-fixtures/reference-job-store.js';
import { LmdbJobStore } from './lmdb-job-store.js';
import { openStoreDatabases } from './store-databases.js';

const root = mkdtempSync(join(tmpdir(), 'lmdb-job-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let storeCount = 0;
const directories = new WeakMap<JobStore, string>();

async function openStore(directory = join(root, `store-${++storeCount}`)): Promise<JobStore> {
  const store = await LmdbJobStore.open({ directory });
  directories.set(store, directory);
  return store;
}

jobStoreContract('LmdbJobStore', () => openStore(), {
  durable: true,
  modelRuns: 60,
  async reopen(store) {
    await store.close();
    return openStore(directories.get(store));
  },
});

test('requests and details of removed jobs leave the disk, whichever way the jobs left and across a restart', async () => {
  const directory = join(root, `store-${++storeCount}`);
  const result = { status: 200, headers: [], body: null };
  const details = { progress: null, warnings: null, logs: { lines: [{ atMs: 1, message: 'm', fields: null }], truncated: false }, attempts: null, cancel: null, failure: null };
  let store = await LmdbJobStore.open({ directory });
  for (let jobId = 1; jobId <= 8; jobId++) {
    await store.add(newJob(jobId, 'alice', 1, jobId > 6 ? 1 : 0));
  }
  await store.finish(1, result, 10, 'completed', details);
  await store.finish(2, result, 11, 'failed', details);
  await store.cancel(3, 12, details);
  await store.finish(4, result, 13, 'failed');
  await store.finish(5, result, 14, 'completed');
  await store.finish(7, result, 15, 'failed', details);
  await store.cancel(8, 16);
  await store.close();
  store = await LmdbJobStore.open({ directory });
  await store.recover();
  for (const jobId of [1, 2, 3]) assert.deepEqual((await store.get(jobId, ROOT))?.details, details, `job ${jobId} keeps its details across the restart`);
  assert.ok(await store.reopen(4, 20), 'a failed job keeps its request across the restart');
  await store.take(1, ROOT);
  await store.take(2, ROOT);
  await store.remove(3, ROOT);
  await store.remove(4, ROOT);
  await store.removeExpired(Infinity, ROOT);
  await store.expire(Infinity, () => undefined);
  await store.remove(6, ROOT);
  assert.equal(store.size, 0);
  await store.close();
  const databases = openStoreDatabases(directory);
  try {
    assert.deepEqual([...databases.requests.getKeys()], [], 'no request is left behind');
    assert.deepEqual([...databases.details.getKeys()], [], 'no details are left behind');
  } finally {
    await databases.root.close();
  }
});
