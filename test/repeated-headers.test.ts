import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { basicAuth, parseJson, request } from './helpers/http.js';
import { listJobs } from './helpers/jobs.js';
import { CUSTOM_ROUTES, startServer, type ServerProcess } from './helpers/server-process.js';

/** Writes `payload` on a fresh connection and returns everything sent back until the server closes it. */
function sendUntilClosed(port: number, payload: string, waitMs = 5000): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let response = '';
    const timer = setTimeout(() => { socket.destroy(); resolve({ response, closed: false }); }, waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { response += chunk; });
    socket.on('close', () => { clearTimeout(timer); resolve({ response, closed: true }); });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
  });
}

function statusLines(response: string): string[] {
  return response.split('\r\n').filter((line) => /^HTTP\/1\.1 \d{3}/.test(line));
}

const ALICE = basicAuth('alice', 'alice-password');
const MALLORY = basicAuth('mallory', 'mallory-password');

describe('requests that repeat a header that must be single', () => {
  let users: UsersFile;
  let server: ServerProcess;

  before(async () => {
    users = await makeUsersFile([{ username: 'alice', password: 'alice-password' }, { username: 'mallory', password: 'mallory-password' }]);
    server = await startServer(['--server.authentication', 'true', '--server.users', users.path, '--server.handlers', CUSTOM_ROUTES]);
  });
  after(async () => {
    await server?.stop();
    await users?.remove();
  });

  test('two Authorization headers are refused with 400, the connection is closed and nothing runs', async () => {
    const payload = `GET /custom/whoami HTTP/1.1\r\nHost: x\r\nx-arango-async: store\r\nAuthorization: ${MALLORY.authorization}\r\nAuthorization: ${ALICE.authorization}\r\n\r\n`;
    const { response, closed } = await sendUntilClosed(server.port, payload);
    assert.deepEqual(statusLines(response), ['HTTP/1.1 400 Bad Request'], response);
    assert.match(response, /"errorNum":400/);
    assert.match(response, /repeats its authorization header/);
    assert.ok(closed, 'the connection is closed');
    assert.deepEqual(await listJobs(server.url, 'pending', ALICE), []);
    assert.deepEqual(await listJobs(server.url, 'done', ALICE), []);
    assert.deepEqual(await listJobs(server.url, 'done', MALLORY), []);
  });

  test('a request smuggled behind two Content-Length headers gets no answer and never runs', async () => {
    const smuggled = `GET /custom/whoami HTTP/1.1\r\nHost: x\r\nx-arango-async: store\r\nAuthorization: ${MALLORY.authorization}\r\n\r\n`;
    const payload = `POST /_admin/echo HTTP/1.1\r\nHost: x\r\nx-arango-async: store\r\nAuthorization: ${MALLORY.authorization}\r\n`
      + `Content-Length: 3\r\nContent-Length: ${3 + smuggled.length}\r\n\r\nabc${smuggled}`;
    const { response, closed } = await sendUntilClosed(server.port, payload);
    assert.ok(closed, 'the connection is closed');
    // At most the refusal of the first request; never an answer to the smuggled one.
    assert.ok(statusLines(response).every((line) => line === 'HTTP/1.1 400 Bad Request'), response);
    assert.ok(statusLines(response).length <= 1, response);
    assert.deepEqual(await listJobs(server.url, 'pending', MALLORY), []);
    assert.deepEqual(await listJobs(server.url, 'done', MALLORY), []);
  });

  test('two Content-Length headers without anything behind them are answered 400 and closed', async () => {
    const payload = `POST /_admin/echo HTTP/1.1\r\nHost: x\r\nAuthorization: ${MALLORY.authorization}\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc`;
    const { response, closed } = await sendUntilClosed(server.port, payload);
    assert.deepEqual(statusLines(response), ['HTTP/1.1 400 Bad Request'], response);
    assert.match(response, /repeats its content-length header/);
    assert.ok(closed);
  });

  test('two Host headers are refused with 400', async () => {
    const payload = `GET /_api/version HTTP/1.1\r\nHost: a\r\nHost: b\r\nAuthorization: ${ALICE.authorization}\r\n\r\n`;
    const { response } = await sendUntilClosed(server.port, payload);
    assert.deepEqual(statusLines(response), ['HTTP/1.1 400 Bad Request'], response);
  });

  test('the server goes on serving after the refusals', async () => {
    const reply = await request(server.url, 'GET', '/_api/version', { headers: ALICE });
    assert.equal(reply.status, 200);
  });

  test('handlers learn the authenticated caller from ctx.user, not from the headers', async () => {
    const reply = await request(server.url, 'GET', '/custom/whoami', { headers: ALICE });
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(parseJson(reply), { user: { name: 'alice', superuser: false }, authorization: ALICE.authorization });
  });
});

test('with authentication off, ctx.user is null', async (t) => {
  const server = await startServer(['--server.handlers', CUSTOM_ROUTES]);
  t.after(() => server.stop());
  const reply = await request(server.url, 'GET', '/custom/whoami');
  assert.deepEqual(parseJson(reply), { user: null, authorization: null });
});
