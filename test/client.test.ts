import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  HttpError, JobClient, OperationCancelledError, OperationFailedError, OperationGoneError, verifyWebhook, WaitTimeoutError,
  WebhookVerificationError, type OperationEvent, type Progress,
} from '../client/index.js';
import { makeUsersFile } from './helpers/credentials.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

/*
 * arango-async-jobs/client against the real server: submit and wait with progress, an SSE
 * connection dropped mid-stream and resumed with no event lost or repeated, cancel, retry,
 * typed errors, and webhook verification (valid, tampered, too old).
 */

const SECRET = 'client-test-secret';
let server: ServerProcess;
let receiver: WebhookReceiver;
let client: JobClient;

before(async () => {
  receiver = await WebhookReceiver.start();
  server = await startServer(['--webhook.allow', `127.0.0.1:${receiver.port}`, '--webhook.secret', SECRET, '--webhook.allow-http', 'true']);
  client = new JobClient({ url: server.url });
});
after(async () => {
  await server?.stop();
  await receiver?.close();
});

test('submit and wait: progress as it comes, then the job\'s own answer', async () => {
  const operation = await client.submit('GET', '/_admin/steps?count=5&ms=100');
  assert.match(operation.id, /^\d+$/);
  assert.ok(operation.submitted?.status === 'PENDING' || operation.submitted?.status === 'PROCESSING');
  const seen: Progress[] = [];
  const result = await operation.wait({ onProgress: (progress) => seen.push(progress) });
  assert.equal(result.status, 200);
  assert.deepEqual(result.body, { error: false, code: 200, steps: 5 });
  assert.ok(seen.length >= 2, `several progress updates: ${JSON.stringify(seen)}`);
  assert.ok(seen.every((progress) => progress.total === 5));
  const percentages = seen.map((progress) => progress.percentage ?? 0);
  assert.deepEqual(percentages, [...percentages].sort((left, right) => left - right), 'progress only goes up');
  assert.equal((await operation.status()).status, 'COMPLETED');
});

test('a dropped event stream is resumed with Last-Event-ID: no event lost or repeated', async () => {
  const streams: Array<string | null> = [];
  // The first stream breaks after two events, as a flaky network would cut it.
  const flaky: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!String(input).endsWith('/stream')) return response;
    streams.push(new Headers(init?.headers).get('last-event-id'));
    if (streams.length > 1 || response.body === null) return response;
    const reader = response.body.getReader();
    let events = 0;
    const broken = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        events += new TextDecoder().decode(value).split('\n\n').length - 1;
        if (events >= 3) {
          await reader.cancel();
          controller.error(new TypeError('network connection lost'));
        }
      },
    });
    return new Response(broken, { status: response.status, headers: response.headers });
  };
  const flakyClient = new JobClient({ url: server.url, fetch: flaky });
  const operation = await flakyClient.submit('GET', '/_admin/steps?count=8&ms=100');
  const events: OperationEvent[] = [];
  for await (const event of operation.events({ reconnectDelayMs: 50 })) events.push(event);
  assert.ok(streams.length >= 2, `reconnected: ${JSON.stringify(streams)}`);
  assert.equal(streams[0], null);
  assert.match(String(streams[1]), /^\d+$/, 'the second stream resumes after the last event seen');
  const ids = events.map((event) => Number(event.id));
  assert.deepEqual(ids, [...new Set(ids)].sort((left, right) => left - right), `ids increase, none repeated: ${ids}`);
  assert.ok(ids.includes(Number(streams[1])), 'the resumed id is one the client had');
  assert.equal(events[events.length - 1].event, 'COMPLETED');
  assert.equal(events.filter((event) => event.event === 'COMPLETED').length, 1);
});

test('cancel: wait rejects with OperationCancelledError and the reason; retry runs it again to completion', async () => {
  const operation = await client.submit('GET', '/_admin/steps?count=40&ms=100');
  const waiting = operation.wait();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cancelled = await operation.cancel('no longer needed');
  assert.equal(cancelled.status, 'CANCELLED');
  await assert.rejects(waiting, (error: unknown) => {
    assert.ok(error instanceof OperationCancelledError, String(error));
    assert.equal(error.operationId, operation.id);
    assert.equal(error.code, 'OPERATION_CANCELLED');
    assert.equal(error.reason, 'no longer needed');
    return true;
  });
  assert.equal((await operation.status()).status, 'CANCELLED');
  const again = await operation.retry();
  assert.equal(again.id, operation.id, 'a retry keeps the id');
  const result = await again.wait({ timeoutMs: 20_000 });
  assert.deepEqual(result.body, { error: false, code: 200, steps: 40 });
});

test('typed errors: a failed job, an unknown operation, a refused submit, a wait that times out', async () => {
  const failing = await client.submit('GET', '/_admin/fail');
  await assert.rejects(failing.wait(), (error: unknown) => error instanceof OperationFailedError && error.problem !== null);
  await assert.rejects(client.operation('987654321').status(), (error: unknown) => error instanceof OperationGoneError);
  await assert.rejects(
    client.submit('GET', '/_admin/sleep?duration=1', { webhook: { url: 'http://192.0.2.1:9/hook' } }),
    (error: unknown) => error instanceof HttpError && error.status === 400,
  );
  const slow = await client.submit('GET', '/_admin/sleep?duration=5');
  await assert.rejects(slow.wait({ timeoutMs: 200 }), (error: unknown) => error instanceof WaitTimeoutError);
  await slow.cancel();
  const ownSignal = new AbortController();
  const waiting = slow.wait({ signal: ownSignal.signal });
  ownSignal.abort(new Error('stop waiting'));
  await assert.rejects(waiting, /stop waiting|cancelled/);
});

test('remove() deletes an operation and its result: then it is gone, and a second remove rejects with OperationGoneError', async () => {
  const operation = await client.submit('GET', '/_api/version');
  assert.equal((await operation.wait()).status, 200);
  await operation.remove();
  await assert.rejects(operation.status(), (error: unknown) => error instanceof OperationGoneError);
  await assert.rejects(operation.result(), (error: unknown) => error instanceof OperationGoneError);
  await assert.rejects(operation.remove(), (error: unknown) => error instanceof OperationGoneError);
});

test('verifyWebhook: a real delivery verifies; a tampered body and an old timestamp do not', async () => {
  const operation = await client.submit('GET', '/_api/version', { webhook: { url: receiver.url('/hook'), events: ['COMPLETED'] } });
  const delivery = await receiver.waitForDeliveryOf(operation.id);
  const verified = await verifyWebhook({ secret: SECRET, headers: delivery.headers, body: delivery.rawBody });
  assert.equal(verified.payload.operationId, operation.id);
  assert.equal(verified.payload.event, 'COMPLETED');
  assert.equal(verified.deliveryId, delivery.headers['webhook-id']);

  const tampered = Buffer.from(delivery.rawBody.toString('utf8').replace('COMPLETED', 'FAILED'));
  await assert.rejects(verifyWebhook({ secret: SECRET, headers: delivery.headers, body: tampered }), WebhookVerificationError);
  await assert.rejects(verifyWebhook({ secret: 'another secret', headers: delivery.headers, body: delivery.rawBody }), WebhookVerificationError);
  const later = verified.timestampSeconds + 301;
  await assert.rejects(
    verifyWebhook({ secret: SECRET, headers: delivery.headers, body: delivery.rawBody, nowSeconds: later }),
    /more than 300 s/,
  );
  await verifyWebhook({ secret: SECRET, headers: delivery.headers, body: delivery.rawBody, nowSeconds: later, toleranceSeconds: 600 });
});

test('operations() pages through the history, filtered by status and type', async () => {
  const seen: string[] = [];
  for await (const operation of client.operations({ status: 'COMPLETED', type: 'GET /_admin/steps', pageSize: 1 })) {
    assert.equal(operation.status, 'COMPLETED');
    assert.equal(operation.type, 'GET /_admin/steps');
    seen.push(operation.operationId);
  }
  assert.ok(seen.length >= 3, `the completed steps operations, one per page: ${seen}`);
  assert.deepEqual(seen, [...seen].sort((left, right) => Number(right) - Number(left)), 'newest first');
});

test('the package exports the client as arango-async-jobs/client', async () => {
  // Resolved by Node through package.json's `exports` (a package may import itself by name).
  const specifier = 'arango-async-jobs/client';
  const exported = (await import(specifier)) as Record<string, unknown>;
  assert.equal((exported.JobClient as typeof JobClient).name, 'JobClient');
  assert.equal(typeof exported.verifyWebhook, 'function');
});

test('with authentication: Basic credentials, login() for a JWT, and another user\'s operations stay out of sight', async () => {
  const users = await makeUsersFile([{ username: 'alice', password: 'a-pass' }, { username: 'bob', password: 'b-pass' }]);
  const secured = await startServer(['--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path, '--server.jwt-secret', 'client-jwt']);
  try {
    const anonymous = new JobClient({ url: secured.url });
    await assert.rejects(anonymous.submit('GET', '/_api/version'), (error: unknown) => error instanceof HttpError && error.status === 401);
    const alice = new JobClient({ url: secured.url, auth: { username: 'alice', password: 'a-pass' } });
    const token = await alice.login();
    assert.equal(token.split('.').length, 3, 'a JWT');
    const operation = await alice.submit('GET', '/_api/version');
    assert.equal((await operation.wait()).status, 200);
    const bob = new JobClient({ url: secured.url, auth: { username: 'bob', password: 'b-pass' } });
    await assert.rejects(bob.operation(operation.id).status(), OperationGoneError);
    const bobs: string[] = [];
    for await (const each of bob.operations()) bobs.push(each.operationId);
    assert.ok(!bobs.includes(operation.id), 'bob does not see alice\'s operation');
    await assert.rejects(new JobClient({ url: secured.url }).login('alice', 'wrong'), (error: unknown) => error instanceof HttpError && error.status === 401);
  } finally {
    await secured.stop();
    await users.remove();
  }
});
