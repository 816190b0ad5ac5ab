// Webhook deliveries are bounded (hardening issue, item 6): with receivers that accept the
// connection and never answer, the server keeps at most --webhook.max-concurrent attempts
// (and --webhook.max-per-host per receiver) in flight, so its open file descriptors stay
// bounded and new clients are served; and a job that leaves the table (fetch, delete, expiry)
// takes its waiting deliveries and retries with it.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './helpers/http.js';
import { call, submitOperation } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { BlackholeReceiver } from './helpers/blackhole-receiver.js';
import { HoldingReceiver } from './helpers/holding-receiver.js';

const SECRET = 'limits-secret';
/** The receivers speak plain HTTP. */
const ALLOW_HTTP = ['--webhook.allow-http', 'true'];
/** Longer than any test here: an attempt in flight stays in flight until the test answers it. */
const LONG_TIMEOUT = ['--webhook.timeout', '120'];
/** The first retry comes within 1 s (full jitter under a 1 s base); 1.5 s of silence means none is coming. */
const NO_RETRY_WINDOW_MS = 1500;

function openFds(server: ServerProcess): number {
  return readdirSync(`/proc/${server.child.pid}/fd`).length;
}

/** GET /_api/version on a connection of its own, as a client arriving now would send it. */
function freshClientStatus(server: ServerProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server.url}/_api/version`, { agent: false, timeout: 5000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('a new client was not served within 5 s')));
    request.on('error', reject);
    request.end();
  });
}

describe('webhook deliveries to receivers that never answer', () => {
  const MAX_CONCURRENT = 6;
  const MAX_PER_HOST = 4;
  const OPERATIONS = 300;
  let server: ServerProcess;
  let first: BlackholeReceiver;
  let second: BlackholeReceiver;

  before(async () => {
    [first, second] = await Promise.all([BlackholeReceiver.start(), BlackholeReceiver.start()]);
    server = await startServer([
      '--webhook.allow', `127.0.0.1:${first.port},127.0.0.1:${second.port}`, '--webhook.secret', SECRET, ...ALLOW_HTTP, ...LONG_TIMEOUT,
      '--webhook.max-concurrent', String(MAX_CONCURRENT), '--webhook.max-per-host', String(MAX_PER_HOST),
    ]);
  });

  after(async () => {
    await Promise.all([server?.stop(), first?.close(), second?.close()]);
  });

  test(`${OPERATIONS} operations keep the attempts in flight, and the open fds, within the limits; a new client is served`, async () => {
    assert.equal(await freshClientStatus(server), 200);
    const baseFds = openFds(server);
    let peakFds = baseFds;
    const sampler = setInterval(() => { peakFds = Math.max(peakFds, openFds(server)); }, 20);
    try {
      for (let submitted = 0; submitted < OPERATIONS; submitted += 10) {
        await Promise.all(Array.from({ length: 10 }, (_, index) => submitOperation(server.url, '/_api/version', {
          'x-callback-url': ((submitted + index) % 2 === 0 ? first : second).url(),
        })));
      }
      await waitFor('the attempt slots to fill', async () => (first.open + second.open === MAX_CONCURRENT ? true : undefined));
      await sleep(500);
      assert.equal(await freshClientStatus(server), 200, 'a new client is served while every slot hangs');
    } finally {
      clearInterval(sampler);
    }
    assert.equal(first.peakOpen + second.peakOpen <= MAX_CONCURRENT + 1, true, `peaks ${first.peakOpen} + ${second.peakOpen}`);
    assert.ok(first.peakOpen <= MAX_PER_HOST && second.peakOpen <= MAX_PER_HOST, `per host: ${first.peakOpen}, ${second.peakOpen}`);
    assert.equal(first.accepted + second.accepted, MAX_CONCURRENT, 'the other deliveries wait without a socket');
    // The test's own keep-alive connections to the server (at most 10 submits at once) come on
    // top, with slack for what a busy machine keeps open a moment longer (fetch's sockets, the
    // workers' handles): the bound is about the limits, far below one fd per operation.
    const bound = baseFds + MAX_CONCURRENT + 40;
    assert.ok(bound < baseFds + OPERATIONS / 2);
    assert.ok(peakFds <= bound, `server fds peaked at ${peakFds} (base ${baseFds}, bound ${bound})`);
    assert.doesNotMatch(server.stderr, /MaxListenersExceededWarning/);
  });
});

describe('a job that leaves the table ends its webhook deliveries', () => {
  let server: ServerProcess;
  let expiringServer: ServerProcess;
  // One receiver per server: the receiver counts requests by operation id, and two servers may issue the same ids.
  let receiver: HoldingReceiver;
  let expiringReceiver: HoldingReceiver;

  before(async () => {
    [receiver, expiringReceiver] = await Promise.all([HoldingReceiver.start(), HoldingReceiver.start()]);
    // One attempt at a time: the first operation's attempt is in flight, the second's waits.
    const args = (target: HoldingReceiver): string[] => [
      '--webhook.allow', `127.0.0.1:${target.port}`, '--webhook.secret', SECRET, ...ALLOW_HTTP, '--webhook.max-per-host', '1', ...LONG_TIMEOUT,
    ];
    [server, expiringServer] = await Promise.all([startServer(args(receiver)), startServer([...args(expiringReceiver), '--job.retention', '1'])]);
  });

  after(async () => {
    await Promise.all([server?.stop(), expiringServer?.stop(), receiver?.close(), expiringReceiver?.close()]);
  });

  /**
   * Two finished operations with callbacks, the first one's attempt held at the receiver and the
   * second's waiting; `remove` takes both out of the table; then the held attempt fails with 500.
   * Neither a retry of the first nor the second's delivery may follow.
   */
  async function assertEndedBy(
    target: ServerProcess, receiver: HoldingReceiver, remove: (inFlight: string, waiting: string) => Promise<void>,
  ): Promise<void> {
    const inFlight = (await submitOperation(target.url, '/_api/version', { 'x-callback-url': receiver.url() })).operationId;
    await waitFor(`the attempt of ${inFlight}`, async () => (receiver.countFor(inFlight) === 1 ? true : undefined));
    const waiting = (await submitOperation(target.url, '/_api/version', { 'x-callback-url': receiver.url() })).operationId;
    await waitFor(`${waiting} to finish`, async () => ((await call(target.url, 'GET', `/_api/job/${waiting}`)).status === 200 ? true : undefined));
    await remove(inFlight, waiting);
    receiver.answerAll(500);
    await sleep(NO_RETRY_WINDOW_MS);
    assert.equal(receiver.countFor(inFlight), 1, 'the failed attempt was not retried');
    assert.equal(receiver.countFor(waiting), 0, 'the waiting delivery was never sent');
  }

  const removals: Array<[string, (inFlight: string, waiting: string) => Promise<void>]> = [
    ['DELETE /_api/job/{id}', async (inFlight, waiting) => {
      for (const jobId of [inFlight, waiting]) assert.equal((await call(server.url, 'DELETE', `/_api/job/${jobId}`)).status, 200);
    }],
    ['PUT /_api/job/{id} (fetch)', async (inFlight, waiting) => {
      for (const jobId of [inFlight, waiting]) assert.equal((await call(server.url, 'PUT', `/_api/job/${jobId}`)).status, 200);
    }],
    ['DELETE /_api/job/expired', async () => {
      const stamp = Math.ceil(Date.now() / 1000) + 1;
      assert.equal((await call(server.url, 'DELETE', `/_api/job/expired?stamp=${stamp}`)).status, 200);
    }],
    ['DELETE /_api/job/all', async () => {
      assert.equal((await call(server.url, 'DELETE', '/_api/job/all')).status, 200);
    }],
  ];
  for (const [name, remove] of removals) {
    test(`${name} drops the waiting delivery and the retry of the attempt in flight`, () => assertEndedBy(server, receiver, remove));
  }

  test('expiry (--job.retention) drops the waiting delivery and the retry of the attempt in flight', () => assertEndedBy(expiringServer, expiringReceiver, async (inFlight, waiting) => {
    for (const jobId of [inFlight, waiting]) {
      await waitFor(`${jobId} to expire`, async () => ((await call(expiringServer.url, 'GET', `/_api/operations/${jobId}`)).status === 410 ? true : undefined), 10_000);
    }
  }));
});
