import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebhookAllowlist } from './webhook-allowlist.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import type { DeliveryAttempt, WebhookDispatcherOptions, WebhookTimer } from './webhook-types.js';
import { collectAttempts } from './test-fixtures/collect.js';
import { startReceiver, type Receiver } from './test-fixtures/receiver.js';

const receivers: Receiver[] = [];
const dispatchers: WebhookDispatcher[] = [];

after(async () => {
  for (const dispatcher of dispatchers) dispatcher.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

function dispatcher(targets: Receiver[], options: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  const allowlist = WebhookAllowlist.parse(targets.map((target) => `127.0.0.1:${new URL(target.origin).port}`));
  const created = new WebhookDispatcher({ allowlist, secret: 's', baseDelayMs: 5, maxDelayMs: 5, allowHttp: true, ...options });
  dispatchers.push(created);
  return created;
}

/** A receiver that accepts every request and answers none until the test does. */
async function holdingReceiver(): Promise<Receiver & { held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const started = await startReceiver((_index, _request, response) => held.push(response));
  receivers.push(started);
  return Object.assign(started, { held });
}

async function answeringReceiver(status: number): Promise<Receiver> {
  const started = await startReceiver((_index, _request, response) => response.writeHead(status).end());
  receivers.push(started);
  return started;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 5) {
    if (waitedMs > 5000) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const COMPLETED = { status: 'COMPLETED' } as const;

describe('webhook delivery limits', () => {
  test('attempts to one origin stay within maxPerHost while another origin is served at once', async () => {
    const slow = await holdingReceiver();
    const fast = await answeringReceiver(204);
    const limited = dispatcher([slow, fast], { maxConcurrent: 3, maxPerHost: 2, timeoutMs: 60_000 });
    for (let operation = 1; operation <= 6; operation++) {
      limited.deliver({ url: slow.origin, operationId: String(operation) }, 'COMPLETED', COMPLETED, () => undefined);
    }
    const { record, done } = collectAttempts();
    limited.deliver({ url: fast.origin, operationId: '7' }, 'COMPLETED', COMPLETED, record);
    assert.deepEqual((await done).map((attempt) => attempt.outcome), ['delivered']);
    await until('two held requests', () => slow.held.length === 2);
    await sleep(50);
    assert.equal(slow.connectionCount, 2, 'the other four wait for a free per-host slot');
  });

  test('a timeout fails the attempt, frees its slot for the next delivery, and is retried', async () => {
    const silent = await holdingReceiver();
    const retryDelays: number[] = [];
    const limited = dispatcher([silent], {
      maxConcurrent: 1, timeoutMs: 100, maxAttempts: 2,
      schedule: (callback, delayMs) => {
        retryDelays.push(delayMs);
        setImmediate(callback);
        return { cancel: () => assert.fail('nothing to cancel') };
      },
    });
    const first = collectAttempts();
    const second = collectAttempts();
    limited.deliver({ url: silent.origin, operationId: '1' }, 'COMPLETED', COMPLETED, first.record);
    limited.deliver({ url: silent.origin, operationId: '2' }, 'COMPLETED', COMPLETED, second.record);
    const attempts = [...await first.done, ...await second.done];
    assert.deepEqual(attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.errorCode]), [
      [1, 'failed', 'ERR_WEBHOOK_TIMEOUT'], [2, 'failed', 'ERR_WEBHOOK_TIMEOUT'],
      [1, 'failed', 'ERR_WEBHOOK_TIMEOUT'], [2, 'failed', 'ERR_WEBHOOK_TIMEOUT'],
    ]);
    assert.equal(retryDelays.length, 2, 'one retry each, with the backoff');
    assert.equal(silent.connectionCount, 4);
    // One slot: the second delivery's first attempt started only after the first one timed out.
    assert.ok(Date.parse(second.attempts[0]!.at) >= Date.parse(first.attempts[0]!.at) + 100);
  });

  test('a full queue drops the oldest waiting delivery of the busiest origin, recorded and logged', async () => {
    const silent = await holdingReceiver();
    const warnings: object[] = [];
    const limited = dispatcher([silent], {
      maxConcurrent: 1, maxQueued: 2, timeoutMs: 60_000,
      logger: { error: () => assert.fail('no recorder throws'), warn: (details) => warnings.push(details) },
    });
    const records = new Map<string, DeliveryAttempt[]>();
    for (const operationId of ['1', '2', '3', '4']) {
      records.set(operationId, []);
      limited.deliver({ url: `${silent.origin}/hook`, operationId }, 'COMPLETED', COMPLETED, (attempt) => records.get(operationId)!.push(attempt));
    }
    const dropped = records.get('2')!;
    assert.equal(dropped.length, 1);
    assert.deepEqual(
      [dropped[0]!.attempt, dropped[0]!.outcome, dropped[0]!.errorCode, dropped[0]!.nextAttemptAt, dropped[0]!.url],
      [1, 'dropped', 'ERR_WEBHOOK_QUEUE_FULL', undefined, `${silent.origin}/hook`],
    );
    assert.match(dropped[0]!.error ?? '', /more than 2 deliveries were waiting \(--webhook\.max-queued\)/);
    assert.equal(warnings.length, 1);
    assert.deepEqual(['1', '3', '4'].map((operationId) => records.get(operationId)!.length), [0, 0, 0]);
  });

  test('cancel ends waiting deliveries and pending retries; an attempt in flight finishes but is not retried', async () => {
    const held = await holdingReceiver();
    const limited = dispatcher([held], { maxPerHost: 1, timeoutMs: 60_000 });
    const inFlight = collectAttempts();
    const waiting = collectAttempts();
    limited.deliver({ url: held.origin, operationId: '1' }, 'COMPLETED', COMPLETED, inFlight.record);
    limited.deliver({ url: held.origin, operationId: '2' }, 'COMPLETED', COMPLETED, waiting.record);
    await until('the first request', () => held.held.length === 1);
    limited.cancel('2');
    limited.cancel('1');
    held.held[0]!.writeHead(500).end();
    const attempts = await inFlight.done;
    assert.deepEqual(attempts.map((attempt) => [attempt.outcome, attempt.statusCode, attempt.nextAttemptAt]), [['failed', 500, undefined]]);
    await sleep(50);
    assert.equal(held.connectionCount, 1, 'neither a retry nor the waiting delivery was sent');
    assert.deepEqual(waiting.attempts, []);

    const failing = await answeringReceiver(500);
    const timers: Array<{ cancelled: boolean }> = [];
    const retrying = dispatcher([failing], {
      schedule: () => {
        const timer = { cancelled: false };
        timers.push(timer);
        return { cancel: () => { timer.cancelled = true; } } satisfies WebhookTimer;
      },
    });
    const pending = collectAttempts();
    retrying.deliver({ url: failing.origin, operationId: '9' }, 'COMPLETED', COMPLETED, pending.record);
    await until('the first attempt', () => pending.attempts.length === 1);
    assert.ok(pending.attempts[0]!.nextAttemptAt !== undefined);
    retrying.cancel('9');
    assert.deepEqual(timers, [{ cancelled: true }], 'the pending retry timer is cancelled, not left to fire');
  });

  test('many attempts in flight add no listener to a shared signal (no MaxListenersExceededWarning)', async () => {
    const silent = await holdingReceiver();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => { warnings.push(warning); };
    process.on('warning', onWarning);
    const busy = dispatcher([silent], { maxConcurrent: 40, maxPerHost: 40, timeoutMs: 60_000 });
    for (let operation = 1; operation <= 40; operation++) {
      busy.deliver({ url: silent.origin, operationId: String(operation) }, 'COMPLETED', COMPLETED, () => undefined);
    }
    await until('40 held requests', () => silent.held.length === 40);
    busy.close();
    await sleep(20);
    process.off('warning', onWarning);
    assert.deepEqual(warnings.map((warning) => warning.name), []);
  });
});
