// Password checks run off the main thread: while wrong passwords are being verified, clients
// with cached credentials are answered; a request waiting for its verification still has its
// body read, and one whose client hung up meanwhile queues nothing.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { makeUsersFile, nowSeconds, signJwt, type UsersFile } from './helpers/credentials.js';
import { basicAuth, bearerAuth, delay, parseJson, request, type Reply } from './helpers/http.js';
import { transitions } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { TestWebSocket } from './helpers/websocket-client.js';

const JWT_SECRET = 'verification-test-secret';
const ROOT = bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', exp: nowSeconds() + 3600 }));
// Enough distinct wrong passwords to keep the verification line busy for several scrypt rounds.
const WRONG_PASSWORDS = 12;

let users: UsersFile;
let server: ServerProcess;

before(async () => {
  users = await makeUsersFile([
    { username: 'alice', password: 'a' }, { username: 'carol', password: 'c' }, { username: 'dave', password: 'd' },
    { username: 'wendy', password: 'w' },
  ]);
  // No address limit: this file sends many wrong passwords from 127.0.0.1 on purpose.
  server = await startServer([
    '--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path,
    '--server.jwt-secret', JWT_SECRET, '--server.auth-max-failures-per-address', '0',
  ]);
});

after(async () => {
  await server?.stop();
  await users?.remove();
});

/** Wrong passwords for distinct user names, all in flight at once; resolves when all are answered. */
function sendWrongPasswords(round: string): Promise<Reply[]> {
  return Promise.all(Array.from({ length: WRONG_PASSWORDS }, (_, index) =>
    request(server.url, 'GET', '/_api/version', { headers: basicAuth(`mallory-${round}-${index}`, 'wrong') })));
}

test('while wrong passwords are being verified, a client with cached credentials is answered first', async () => {
  const alice = basicAuth('alice', 'a');
  assert.equal((await request(server.url, 'GET', '/_api/version', { headers: alice })).status, 200, 'now cached');

  const order: string[] = [];
  const attack = sendWrongPasswords('order').then((replies) => {
    order.push('attack answered');
    return replies;
  });
  for (let index = 0; index < 5; index++) {
    assert.equal((await request(server.url, 'GET', '/_api/version', { headers: alice })).status, 200);
  }
  order.push('cached client answered 5 times');
  const replies = await attack;
  assert.deepEqual(replies.map((reply) => reply.status), Array(WRONG_PASSWORDS).fill(401));
  assert.deepEqual(order, ['cached client answered 5 times', 'attack answered']);
});

test('a request whose password is still being verified has its body read and gets its answer', async () => {
  const attack = sendWrongPasswords('body');
  const reply = await request(server.url, 'POST', '/_admin/echo', { headers: basicAuth('dave', 'd'), body: 'payload read while scrypt ran' });
  assert.equal(reply.status, 200, reply.body);
  assert.equal((parseJson(reply) as { body: string }).body, 'payload read while scrypt ran');
  await attack;
});

test('a client that hangs up while its password is verified queues nothing', async () => {
  const queuedBefore = await transitions(server.url, 'queued', ROOT);
  const attack = sendWrongPasswords('hangup');
  const outgoing = http.request({
    host: '127.0.0.1', port: server.port, method: 'POST', path: '/_admin/echo', agent: false,
    headers: { ...basicAuth('carol', 'c'), 'x-arango-async': 'store', 'content-length': '4' },
  });
  const closed = new Promise<void>((resolve) => outgoing.on('close', () => resolve()));
  outgoing.on('error', () => { /* the hang-up below makes this request fail on purpose */ });
  outgoing.end('body');
  // Loopback delivers the request at once; carol's check waits behind the wrong passwords.
  await delay(50);
  outgoing.destroy();
  await closed;
  await attack;
  // carol's verification is next in line after the attack: give it time to finish.
  await delay(500);
  assert.equal(await transitions(server.url, 'queued', ROOT), queuedBefore, 'nothing was queued for the client that left');

  const stored = await request(server.url, 'POST', '/_admin/echo', { headers: { ...basicAuth('carol', 'c'), 'x-arango-async': 'store' }, body: 'body' });
  assert.equal(stored.status, 202, 'the same request from a client that stays is queued');
  assert.equal(await transitions(server.url, 'queued', ROOT), queuedBefore + 1);
});

test('a WebSocket upgrade waits for its password check: right upgrades, wrong is 401', async () => {
  const attack = sendWrongPasswords('websocket');
  const socket = await TestWebSocket.connect(server.port, '/_api/operations/ws', basicAuth('wendy', 'w'));
  socket.close();
  await assert.rejects(TestWebSocket.connect(server.port, '/_api/operations/ws', basicAuth('wendy', 'not-w')), /upgrade refused: "HTTP\/1.1 401 /);
  await attack;
});
