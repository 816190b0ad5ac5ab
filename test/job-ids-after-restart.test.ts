import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertArangoError, request } from './helpers/http.js';
import { fetchWhenFinished, storeJob } from './helpers/jobs.js';
import { startServer } from './helpers/server-process.js';

test('after kill -9 and a restart, an old job id is 404 and never names a new job', async (t) => {
  const first = await startServer();
  t.after(() => first.stop());
  const oldJobId = await storeJob(first.url, 'GET', '/_api/version');
  await first.stop('SIGKILL');

  const second = await startServer();
  t.after(() => second.stop());
  const newJobId = await storeJob(second.url, 'GET', '/_api/version');
  assert.ok(BigInt(newJobId) > BigInt(oldJobId), `new id ${newJobId} is above the old ${oldJobId}`);
  assert.ok(Number.isSafeInteger(Number(newJobId)), `${newJobId} stays below 2^53`);

  assertArangoError(await request(second.url, 'PUT', `/_api/job/${oldJobId}`), 404, 404);
  const fetched = await fetchWhenFinished(second.url, newJobId);
  assert.equal(fetched.status, 200, 'the new job keeps its result for its own client');
  assert.equal(fetched.headers.get('x-arango-async-id'), newJobId);
});

test('job ids increase within a run', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const ids = [];
  for (let index = 0; index < 5; index++) ids.push(BigInt(await storeJob(server.url, 'GET', '/_api/version')));
  for (let index = 1; index < ids.length; index++) assert.ok(ids[index] > ids[index - 1]);
});
