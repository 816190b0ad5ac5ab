import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { RedisProcess } from '../../../scripts/redis-process.js';
import type { JobStore } from '../../jobs/index.js';
import { jobStoreContract } from '../../jobs/test-fixtures/job-store-contract.js';
import { RedisJobStore, type RedisJobStoreOptions } from './redis-job-store.js';

/*
 * The store contract on Redis: one redis-server for the file, a fresh key prefix per store (as
 * separate clusters on one Redis would have), and a start-log directory per store, as a node has.
 */

const root = mkdtempSync(join(tmpdir(), 'redis-job-store-'));
let redis: RedisProcess;
before(async () => {
  redis = await RedisProcess.start({ directory: join(root, 'redis') });
});
after(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

let storeCount = 0;
const optionsOf = new WeakMap<JobStore, RedisJobStoreOptions>();

async function openStore(options?: RedisJobStoreOptions): Promise<JobStore> {
  const id = ++storeCount;
  options ??= { url: redis.url, prefix: `contract${id}`, nodeId: 'node-a', startLogDirectory: join(root, `node-${id}`) };
  const store = await RedisJobStore.open(options);
  optionsOf.set(store, options);
  return store;
}

jobStoreContract('RedisJobStore', () => openStore(), {
  durable: true,
  modelRuns: 40,
  async reopen(store) {
    await store.close();
    return openStore(optionsOf.get(store));
  },
});
