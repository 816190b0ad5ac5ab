// HTTP/1.1 pipelining as uWebSockets.js v20.30 allows it (README, Known limitations): requests
// answered at once may be pipelined; a request arriving while an answer is still pending (a
// blocking job) gets the connection closed with no answer to either, the blocking job is
// cancelled as for any client that is gone, and nothing else is affected.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { parseJson, request, waitFor } from './helpers/http.js';
import { transitions, waitForRunningJobs } from './helpers/jobs.js';
import { describeRaw, rawExchange } from './helpers/raw-http.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  // One worker slot: a blocking job left running would hold up every later one.
  server = await startServer(['--server.threads', '1', '--server.worker-concurrency', '1', '--job.cancel-grace', '100']);
});

after(async () => {
  await server?.stop();
});

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

async function assertOthersServed(): Promise<void> {
  const reply = await request(server.url, 'GET', '/_api/version', { timeoutMs: 10_000 });
  assert.equal(reply.status, 200);
  assert.equal((parseJson(reply) as { server: string }).server, 'arango');
}

async function waitForCancelledAfter(count: number): Promise<void> {
  await waitFor('the blocking job to be cancelled', async () => ((await transitions(server.url, 'cancelled')) > count ? true : undefined), 10_000);
}

/** Writes `payload` at once and collects everything until the server closes the connection. */
function sendAndCollect(payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(payload));
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection stayed open; received ${JSON.stringify(response.slice(0, 300))}`));
    }, 10_000);
    socket.setEncoding('latin1').on('data', (chunk: string) => { response += chunk; });
    socket.on('error', reject);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(response);
    });
  });
}

test('requests pipelined behind answers given at once are all answered, in order', async () => {
  // The last one asks the server to close the connection after its answer.
  const response = await sendAndCollect(get('/_api/job/pending') + get('/_api/job/done?count=1') +
    get('/_api/job/nonsense').replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
  const statuses = [...response.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
  assert.deepEqual(statuses, [200, 200, 400], response.slice(0, 600));
});

test('a request pipelined behind a blocking one gets the connection closed with no answer, and the blocking job is cancelled', async () => {
  const cancelledBefore = await transitions(server.url, 'cancelled');
  const seen = await rawExchange(server.port, get('/_admin/sleep?duration=30') + get('/_api/version'), 5000);
  assert.equal(seen.response, '', describeRaw(seen));
  assert.ok(seen.closed, 'the server closed the connection');
  await waitForCancelledAfter(cancelledBefore);
  await waitForRunningJobs(server.url, 0);
  await assertOthersServed();
});

test('a second request sent while a blocking one runs gets the connection closed with no answer, and the blocking job is cancelled', async () => {
  const cancelledBefore = await transitions(server.url, 'cancelled');
  const socket = connect(server.port, '127.0.0.1');
  let response = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => { response += chunk; });
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.on('error', () => { /* a reset is one way for the server to close: asserted below */ });
  socket.write(get('/_admin/sleep?duration=30'));
  await waitForRunningJobs(server.url, 1);
  socket.write(get('/_api/version'));
  assert.ok(await closed, 'the server closed the connection');
  socket.destroy();
  assert.equal(response, '');
  await waitForCancelledAfter(cancelledBefore);
  await waitForRunningJobs(server.url, 0);
  await assertOthersServed();
});
