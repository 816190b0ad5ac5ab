import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { JobStore } from '../../jobs/index.js';
import { jobStoreContract } from '../../jobs/test-fixtures/job-store-contract.js';
import { LmdbJobStore } from './lmdb-job-store.js';

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
