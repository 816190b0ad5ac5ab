// Failed password checks are throttled per client address and per user name: past the limit,
// 429 with Retry-After and no verification; a client with cached credentials is never slowed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { assertArangoError, basicAuth, delay, parseJson, request, type Reply } from './helpers/http.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

const MAX_PER_USER = 3;
const MAX_PER_ADDRESS = 12;

let users: UsersFile;
let server: ServerProcess;

before(async () => {
  users = await makeUsersFile([
    { username: 'alice', password: 'a' }, { username: 'bob', password: 'b' }, { username: 'erin', password: 'e' },
  ]);
  server = await startServer([
    '--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path,
    '--server.auth-max-failures-per-user', String(MAX_PER_USER), '--server.auth-max-failures-per-address', String(MAX_PER_ADDRESS),
  ]);
});

after(async () => {
  await server?.stop();
  await users?.remove();
});

function version(headers: Record<string, string>): Promise<Reply> {
  return request(server.url, 'GET', '/_api/version', { headers });
}

function assertTooManyAttempts(reply: Reply): number {
  assertArangoError(reply, 429, 420, /too many failed login attempts/);
  const retryAfter = Number(reply.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${reply.headers.get('retry-after')}`);
  return retryAfter;
}

// The tests share one address (127.0.0.1), so they run in order and count its failures.
test('a user name that failed too often gets 429 with a growing Retry-After, even for the right password', async () => {
  for (let attempt = 0; attempt < MAX_PER_USER; attempt++) assertArangoError(await version(basicAuth('bob', `wrong-${attempt}`)), 401, 11);
  const first = assertTooManyAttempts(await version(basicAuth('bob', 'wrong-again')));
  assertTooManyAttempts(await version(basicAuth('bob', 'b')));
  assertTooManyAttempts(await request(server.url, 'POST', '/_open/auth', { body: JSON.stringify({ username: 'bob', password: 'b' }) }));
  assert.equal((await version(basicAuth('alice', 'a'))).status, 200, 'another user is not throttled');

  await delay(first * 1000 + 100);
  for (let attempt = 0; attempt < MAX_PER_USER; attempt++) assertArangoError(await version(basicAuth('bob', `later-${attempt}`)), 401, 11);
  const second = assertTooManyAttempts(await version(basicAuth('bob', 'b')));
  assert.ok(second > first, `the second block (${second} s) is longer than the first (${first} s)`);
});

test('POST /_open/auth failures count toward the same throttle', async () => {
  for (let attempt = 0; attempt < MAX_PER_USER; attempt++) {
    assertArangoError(await request(server.url, 'POST', '/_open/auth', { body: JSON.stringify({ username: 'erin', password: `no-${attempt}` }) }), 401, 401);
  }
  assertTooManyAttempts(await version(basicAuth('erin', 'e')));
});

test('an address that failed too often gets 429 for every uncached credential, while cached ones are still served from it', async () => {
  const alice = basicAuth('alice', 'a');
  assert.equal((await version(alice)).status, 200, 'cached');
  // 2 × MAX_PER_USER failures so far (bob), MAX_PER_USER for erin: rotate names up to the address limit.
  let rotated = 0;
  let reply = await version(basicAuth(`rotating-${rotated++}`, 'x'));
  while (reply.status === 401) reply = await version(basicAuth(`rotating-${rotated++}`, 'x'));
  assertTooManyAttempts(reply);
  assert.ok(rotated <= MAX_PER_ADDRESS, `blocked after ${rotated} more names`);
  assertTooManyAttempts(await request(server.url, 'POST', '/_open/auth', { body: JSON.stringify({ username: 'alice', password: 'a' }) }));
  assertTooManyAttempts(await version(basicAuth('alice', 'a-different-spelling')));

  for (let index = 0; index < 5; index++) {
    const cached = await version(alice);
    assert.equal(cached.status, 200);
    assert.equal(typeof (parseJson(cached) as { version?: unknown }).version, 'string');
  }
});
