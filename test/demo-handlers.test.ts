import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertArangoError, request } from './helpers/http.js';
import { startServer } from './helpers/server-process.js';

const DEMO_PATHS = ['/_admin/spin?duration=0', '/_admin/steps?count=1&ms=0', '/_admin/fail', '/_admin/crash'];

test('by default the demonstration routes do not exist, while ArangoDB\'s own built-ins do', async (t) => {
  const server = await startServer(['--server.demo-handlers', 'false']);
  t.after(() => server.stop());
  for (const path of DEMO_PATHS) assertArangoError(await request(server.url, 'GET', path), 404, 404);
  for (const path of ['/_api/version', '/_admin/time', '/_admin/sleep?duration=0']) {
    assert.equal((await request(server.url, 'GET', path)).status, 200, path);
  }
  assert.equal((await request(server.url, 'POST', '/_admin/echo', { body: 'x' })).status, 200);
});

test('--server.demo-handlers true mounts them', async (t) => {
  const server = await startServer(['--server.demo-handlers', 'true']);
  t.after(() => server.stop());
  assert.equal((await request(server.url, 'GET', '/_admin/steps?count=1&ms=0')).status, 200);
  assert.equal((await request(server.url, 'GET', '/_admin/fail?status=503')).status, 503);
});
