import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebhookAllowlist } from './webhook-allowlist.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import type { WebhookDispatcherOptions } from './webhook-types.js';
import { WebhookConfigError } from './webhook-errors.js';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook, webhookSigningKey } from './webhook-signature.js';
import { collectAttempts } from './test-fixtures/collect.js';
import { startReceiver, type Receiver } from './test-fixtures/receiver.js';

const SECRET = 'test-secret';
const LOOPBACK = WebhookAllowlist.parse(['127.0.0.1/32,::1/128']);
const receivers: Receiver[] = [];
const dispatchers: WebhookDispatcher[] = [];

after(async () => {
  for (const dispatcher of dispatchers) dispatcher.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

/** An allowlist of the receivers' loopback ports: an entry without a port would allow only 80 and 443. */
function allowing(...targets: Receiver[]): WebhookAllowlist {
  return WebhookAllowlist.parse(targets.map((target) => `127.0.0.1:${new URL(target.origin).port}`));
}

/** The receivers here are plain-HTTP servers on loopback, so http: is allowed unless a test says otherwise. */
function dispatcher(options: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  const created = new WebhookDispatcher({ allowlist: LOOPBACK, secret: SECRET, baseDelayMs: 5, maxDelayMs: 20, allowHttp: true, ...options });
  dispatchers.push(created);
  return created;
}

async function receiver(statuses: number[]): Promise<Receiver> {
  const started = await startReceiver((index, _request, response) => {
    response.writeHead(statuses[Math.min(index, statuses.length - 1)]!).end();
  });
  receivers.push(started);
  return started;
}

describe('webhook delivery', () => {
  test('POSTs the signed JSON event with its headers', async () => {
    const target = await receiver([204]);
    const { record, done } = collectAttempts();
    dispatcher({ allowlist: allowing(target), now: () => Date.UTC(2025, 0, 2, 3, 4, 5) }).deliver(
      { url: `${target.origin}/hooks?x=1`, operationId: '42' }, 'COMPLETED', { status: 'COMPLETED', result: { rows: 3 } }, record,
    );
    const [attempt] = await done;
    assert.equal(target.requests.length, 1);
    const request = target.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/hooks?x=1');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-webhook-event'], 'COMPLETED');
    assert.equal(request.headers['x-operation-id'], '42');
    assert.equal(request.headers['webhook-timestamp'], String(Date.UTC(2025, 0, 2, 3, 4, 5) / 1000));
    const deliveryId = request.headers['webhook-id'];
    assert.deepEqual(JSON.parse(request.body), {
      event: 'COMPLETED', operationId: '42', deliveryId, timestamp: '2025-01-02T03:04:05Z', status: 'COMPLETED', result: { rows: 3 },
    });
    assert.equal(verifyWebhook(SECRET, request.body, request.headers['x-webhook-signature'] as string), true);
    assert.equal(verifyWebhook('wrong', request.body, request.headers['x-webhook-signature'] as string), false);
    assert.match(String(request.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(attempt, {
      attempt: 1, at: '2025-01-02T03:04:05.000Z', deliveryId, event: 'COMPLETED',
      url: `${target.origin}/hooks?x=1`, outcome: 'delivered', statusCode: 204,
    });
  });

  test('the payload cannot override event, operationId, deliveryId or timestamp', async () => {
    const target = await receiver([200]);
    const { record, done } = collectAttempts();
    dispatcher({ allowlist: allowing(target) }).deliver({ url: target.origin, operationId: '7' }, 'FAILED', { status: 'FAILED', event: 'COMPLETED', operationId: '8', deliveryId: 'mine', timestamp: 'then' }, record);
    const [attempt] = await done;
    const body = JSON.parse(target.requests[0]!.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['event', 'operationId', 'deliveryId', 'timestamp', 'status']);
    assert.equal(body.event, 'FAILED');
    assert.equal(body.operationId, '7');
    assert.equal(body.deliveryId, attempt!.deliveryId);
    assert.notEqual(body.timestamp, 'then');
  });

  test("a target's own key signs instead of the dispatcher's secret", async () => {
    const target = await receiver([200]);
    const { record, done } = collectAttempts();
    const own = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    dispatcher({ allowlist: allowing(target) }).deliver(
      { url: target.origin, operationId: '3', key: webhookSigningKey(own) }, 'COMPLETED', { status: 'COMPLETED' }, record,
    );
    await done;
    const request = target.requests[0]!;
    assert.equal(verifyWebhook(own, request.body, request.headers['x-webhook-signature'] as string), true);
    assert.equal(verifyWebhook(SECRET, request.body, request.headers['x-webhook-signature'] as string), false);
    new Webhook(own).verify(request.body, request.headers as Record<string, string>);
  });

  test('a receiver that fails twice then succeeds: three attempts, one delivery id, one delivered', async () => {
    const target = await receiver([500, 503, 200]);
    const { record, done } = collectAttempts();
    dispatcher({ allowlist: allowing(target) }).deliver({ url: target.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    const attempts = await done;
    assert.deepEqual(attempts.map((a) => [a.attempt, a.outcome, a.statusCode, a.errorCode]), [
      [1, 'failed', 500, 'ERR_WEBHOOK_STATUS'], [2, 'failed', 503, 'ERR_WEBHOOK_STATUS'], [3, 'delivered', 200, undefined],
    ]);
    assert.ok(attempts[0]!.nextAttemptAt !== undefined && attempts[1]!.nextAttemptAt !== undefined);
    assert.equal(attempts[2]!.nextAttemptAt, undefined);
    const ids = new Set(target.requests.map((request) => request.headers['webhook-id']));
    assert.deepEqual(ids, new Set([attempts[0]!.deliveryId]));
    const bodies = target.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>);
    assert.deepEqual(new Set(bodies.map((body) => body.deliveryId)), ids, 'every attempt carries the delivery id in its body');
    for (const request of target.requests) {
      assert.equal(verifyWebhook(SECRET, request.body, request.headers['x-webhook-signature'] as string), true);
      new Webhook(SECRET, { format: 'raw' }).verify(request.body, request.headers as Record<string, string>);
    }
  });

  test('gives up after maxAttempts; the last record has no nextAttemptAt', async () => {
    const target = await receiver([500]);
    const { record, done } = collectAttempts();
    dispatcher({ allowlist: allowing(target), maxAttempts: 3 }).deliver({ url: target.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    const attempts = await done;
    assert.deepEqual(attempts.map((a) => [a.outcome, a.nextAttemptAt === undefined]), [['failed', false], ['failed', false], ['failed', true]]);
    assert.equal(target.requests.length, 3);
  });

  test('network errors are failures, retried with capped exponential backoff and full jitter', async () => {
    const gone = await startReceiver(() => undefined);
    await gone.close();
    const delays: number[] = [];
    let clock = 1_000_000;
    const { record, done } = collectAttempts();
    dispatcher({
      allowlist: allowing(gone), maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300, now: () => clock, random: () => 0.999,
      schedule: (callback, delayMs) => {
        delays.push(delayMs);
        clock += delayMs;
        setImmediate(callback);
        return { cancel: () => assert.fail('nothing to cancel') };
      },
    }).deliver({ url: gone.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    const attempts = await done;
    assert.deepEqual(delays, [99, 199, 299, 299]);
    assert.deepEqual(attempts.map((a) => a.errorCode), Array(5).fill('ECONNREFUSED'));
    assert.equal(attempts[0]!.nextAttemptAt, new Date(1_000_000 + 99).toISOString());
    assert.equal(attempts[1]!.at, new Date(1_000_000 + 99).toISOString());
  });

  test('a timeout is a failure', async () => {
    const silent = await startReceiver(() => undefined);
    receivers.push(silent);
    const { record, done } = collectAttempts();
    dispatcher({ allowlist: allowing(silent), maxAttempts: 2, timeoutMs: 100 }).deliver({ url: silent.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    const attempts = await done;
    assert.deepEqual(attempts.map((a) => [a.outcome, a.errorCode]), [['failed', 'ERR_WEBHOOK_TIMEOUT'], ['failed', 'ERR_WEBHOOK_TIMEOUT']]);
    assert.match(attempts[0]!.error ?? '', /no response within 100 ms/);
  });

  test('close() cancels pending retries and ends later deliveries as closed', async () => {
    const target = await receiver([500]);
    const closing = dispatcher({ allowlist: allowing(target), baseDelayMs: 50, maxDelayMs: 50, random: () => 0.5 });
    const first = collectAttempts();
    closing.deliver({ url: target.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, first.record);
    while (first.attempts.length === 0) await sleep(5);
    closing.close();
    await sleep(100);
    assert.equal(target.requests.length, 1);
    assert.equal(first.attempts.length, 1);
    const late = collectAttempts();
    closing.deliver({ url: target.origin, operationId: '2' }, 'COMPLETED', { status: 'COMPLETED' }, late.record);
    assert.deepEqual((await late.done).map((a) => [a.outcome, a.errorCode, a.nextAttemptAt]), [['failed', 'ERR_WEBHOOK_CLOSED', undefined]]);
    assert.equal(target.connectionCount, 1);
  });

  test('a recorder that throws is logged and does not stop the retries', async () => {
    const target = await receiver([500, 200]);
    const logged: object[] = [];
    const outcomes: string[] = [];
    dispatcher({ allowlist: allowing(target), logger: { error: (details) => logged.push(details), warn: () => assert.fail('nothing is dropped') } }).deliver(
      { url: target.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' },
      (attempt) => { outcomes.push(attempt.outcome); if (attempt.attempt === 1) throw new Error('table gone'); },
    );
    while (outcomes.length < 2) await sleep(5);
    assert.deepEqual(outcomes, ['failed', 'delivered']);
    assert.equal(logged.length, 1);
  });

  test('a payload JSON cannot encode is reported, not thrown', async () => {
    const { record, done } = collectAttempts();
    dispatcher().deliver({ url: 'http://127.0.0.1:9/', operationId: '1' }, 'COMPLETED', { status: 'COMPLETED', result: 1n }, record);
    assert.deepEqual((await done).map((a) => [a.outcome, a.errorCode, a.nextAttemptAt]), [['failed', 'ERR_WEBHOOK_PAYLOAD', undefined]]);
  });
});

describe('WebhookDispatcher options and target checks', () => {
  test('an empty secret or a bad number is a WebhookConfigError (TypeError)', () => {
    assert.throws(() => new WebhookDispatcher({ allowlist: LOOPBACK, secret: '' }), WebhookConfigError);
    assert.throws(() => new WebhookDispatcher({ allowlist: LOOPBACK, secret: 's', maxAttempts: 0 }), TypeError);
    assert.throws(() => new WebhookDispatcher({ allowlist: LOOPBACK, secret: 's', timeoutMs: 1.5 }), /timeoutMs/);
  });

  test('checkTarget returns the message for a 400 for a URL that cannot be a target, or null', () => {
    assert.equal(dispatcher().checkTarget('https://127.0.0.1/x'), null);
    assert.match(dispatcher().checkTarget('hooks.example.com/x') ?? '', /not a valid absolute URL/);
    assert.match(dispatcher().checkTarget('javascript:alert(1)') ?? '', /http: or https:/);
    assert.match(dispatcher().checkTarget(`https://127.0.0.1/${'a'.repeat(2048)}`) ?? '', /longer than 2048/);
  });

  test('http: targets are refused, at submit and at delivery, unless allowHttp', async () => {
    const strict = dispatcher({ allowHttp: false });
    assert.match(strict.checkTarget('http://127.0.0.1/x') ?? '', /must use https: .*--webhook\.allow-http/);
    assert.equal(strict.checkTarget('https://127.0.0.1/x'), null);
    const target = await receiver([200]);
    const { record, done } = collectAttempts();
    dispatcher({ allowlist: allowing(target), allowHttp: false }).deliver({ url: target.origin, operationId: '5' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    assert.deepEqual((await done).map((a) => [a.outcome, a.errorCode]), [['refused', 'ERR_WEBHOOK_REFUSED']]);
    assert.equal(target.connectionCount, 0, 'no connection was made');
  });

  test('checkTarget adds what the allowlist refuses without DNS', () => {
    const closed = dispatcher({ allowlist: WebhookAllowlist.parse([]) });
    assert.match(closed.checkTarget('http://127.0.0.1/') ?? '', /--webhook\.allow is empty/);
    assert.equal(dispatcher().checkTarget('http://127.0.0.1/'), null);
    assert.match(dispatcher().checkTarget('http://10.0.0.1/') ?? '', /not inside/);
    assert.match(dispatcher().checkTarget('http://127.0.0.1:22/') ?? '', /127\.0\.0\.1:22 is not inside .*only ports 80 and 443/);
  });
});
