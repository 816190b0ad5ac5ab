import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

describe('webhook signature', () => {
  const body = '{"event":"COMPLETED","operationId":"42"}';

  test('is sha256= and the hex HMAC-SHA256 of timestamp "." body', () => {
    const expected = createHmac('sha256', 'secret').update(`1700000000.${body}`).digest('hex');
    assert.equal(signWebhook('secret', '1700000000', body), `sha256=${expected}`);
  });

  test('verifies its own signature, from a string or the raw bytes', () => {
    const signature = signWebhook('secret', '1700000000', body);
    assert.equal(verifyWebhook('secret', '1700000000', body, signature), true);
    assert.equal(verifyWebhook('secret', '1700000000', Buffer.from(body), signature), true);
  });

  test('rejects another secret, timestamp or body, and malformed or missing headers', () => {
    const signature = signWebhook('secret', '1700000000', body);
    assert.equal(verifyWebhook('other', '1700000000', body, signature), false);
    assert.equal(verifyWebhook('secret', '1700000001', body, signature), false);
    assert.equal(verifyWebhook('secret', '1700000000', `${body} `, signature), false);
    assert.equal(verifyWebhook('secret', '1700000000', body, signature.slice(0, -1)), false);
    assert.equal(verifyWebhook('secret', '1700000000', body, 'sha256='), false);
    assert.equal(verifyWebhook('secret', '1700000000', body, undefined), false);
  });
});
