import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebhookAllowlist } from './webhook-allowlist.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { collectAttempts } from './test-fixtures/collect.js';
import { startReceiver, type Receiver } from './test-fixtures/receiver.js';

const receivers: Receiver[] = [];
const dispatchers: WebhookDispatcher[] = [];

after(async () => {
  for (const dispatcher of dispatchers) dispatcher.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

function dispatcher(allow: string[], lookup?: (hostname: string) => Promise<Array<{ address: string; family: number }>>): WebhookDispatcher {
  const created = new WebhookDispatcher({
    allowlist: WebhookAllowlist.parse(allow, lookup === undefined ? {} : { lookup }), secret: 's', baseDelayMs: 5, maxDelayMs: 5, allowHttp: true,
  });
  dispatchers.push(created);
  return created;
}

async function receiver(answer: (response: ServerResponse) => void): Promise<Receiver> {
  const started = await startReceiver((_index, _request, response) => answer(response));
  receivers.push(started);
  return started;
}

describe('webhook delivery at the security boundary', () => {
  test('a target outside --webhook.allow is refused once, with no connection made', async () => {
    const target = await receiver((response) => response.end());
    const { record, done } = collectAttempts();
    dispatcher(['10.0.0.0/8']).deliver({ url: target.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    const attempts = await done;
    assert.deepEqual(attempts.map((a) => [a.outcome, a.errorCode, a.nextAttemptAt]), [['refused', 'ERR_WEBHOOK_REFUSED', undefined]]);
    assert.match(attempts[0]!.error ?? '', /127\.0\.0\.1:\d+ is not inside --webhook\.allow/);
    await sleep(20);
    assert.equal(target.connectionCount, 0);
  });

  test('a malformed URL is refused, never thrown at the caller', async () => {
    const { record, done } = collectAttempts();
    dispatcher(['127.0.0.1']).deliver({ url: 'not a url', operationId: '1' }, 'FAILED', { status: 'FAILED' }, record);
    assert.deepEqual((await done).map((a) => a.outcome), ['refused']);
  });

  test('a redirect is not followed and counts as a failure', async () => {
    const elsewhere = await receiver((response) => response.end());
    const redirecting = await receiver((response) => response.writeHead(307, { Location: `${elsewhere.origin}/stolen` }).end());
    const { record, done } = collectAttempts();
    dispatcher([`127.0.0.1:${new URL(redirecting.origin).port}`]).deliver({ url: redirecting.origin, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    const attempts = await done;
    assert.equal(attempts.length, 8, 'retried like any failure, up to the default maxAttempts');
    assert.deepEqual([attempts[0]!.outcome, attempts[0]!.statusCode, attempts[0]!.errorCode], ['failed', 307, 'ERR_WEBHOOK_REDIRECT']);
    assert.match(attempts[0]!.error ?? '', /redirect to http:\/\/127\.0\.0\.1:\d+\/stolen not followed/);
    assert.equal(elsewhere.connectionCount, 0);
  });

  test('a host name is connected at the address that was checked, never resolved again', async () => {
    const target = await receiver((response) => response.end());
    const port = new URL(target.origin).port;
    // `hooks.invalid` exists only in the allowlist's resolver: the system resolver would fail,
    // so the delivery succeeds only if the socket uses the checked address.
    const lookups: string[] = [];
    const pinned = dispatcher([`hooks.invalid:${port}`], async (hostname) => {
      lookups.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    });
    const { record, done } = collectAttempts();
    pinned.deliver({ url: `http://hooks.invalid:${port}/in`, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    assert.deepEqual((await done).map((a) => a.outcome), ['delivered']);
    assert.deepEqual(lookups, ['hooks.invalid']);
    assert.equal(target.requests[0]!.headers.host, `hooks.invalid:${port}`, 'the Host header keeps the name');
  });

  test('a name resolving outside the CIDRs is refused; a failed lookup is retried', async () => {
    const outside = dispatcher(['127.0.0.1/32'], async () => [{ address: '169.254.169.254', family: 4 }]);
    const refused = collectAttempts();
    outside.deliver({ url: 'http://metadata.invalid/', operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, refused.record);
    assert.match((await refused.done)[0]!.error ?? '', /resolves to 169\.254\.169\.254/);

    const unresolvable = dispatcher(['127.0.0.1/32'], async () => { throw Object.assign(new Error('queryA EAI_AGAIN'), { code: 'EAI_AGAIN' }); });
    const failed = collectAttempts();
    unresolvable.deliver({ url: 'http://flaky.invalid/', operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, failed.record);
    const attempts = await failed.done;
    assert.equal(attempts.length, 8);
    assert.ok(attempts.every((a) => a.outcome === 'failed' && a.errorCode === 'ERR_WEBHOOK_LOOKUP'));
  });
});
