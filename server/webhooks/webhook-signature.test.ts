import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { signStandardWebhook, signWebhook, verifyWebhook, webhookSecretProblem, webhookSigningKey } from './webhook-signature.js';

describe('webhook signature', () => {
  const body = '{"event":"COMPLETED","operationId":"42","deliveryId":"d-1","timestamp":"2023-11-14T22:13:20Z"}';

  test('X-Webhook-Signature is sha256= and the hex HMAC-SHA256 of the exact body, keyed with the secret as given', () => {
    for (const secret of ['secret', 'whsec_c2VjcmV0LWtleS1ieXRlcw==']) {
      const expected = createHmac('sha256', secret).update(body).digest('hex');
      assert.equal(signWebhook(webhookSigningKey(secret), body), `sha256=${expected}`);
    }
  });

  test('verifies its own signature, from a string or the raw bytes', () => {
    const signature = signWebhook(webhookSigningKey('secret'), body);
    assert.equal(verifyWebhook('secret', body, signature), true);
    assert.equal(verifyWebhook('secret', Buffer.from(body), signature), true);
  });

  test('rejects another secret or body, and malformed or missing headers', () => {
    const signature = signWebhook(webhookSigningKey('secret'), body);
    assert.equal(verifyWebhook('other', body, signature), false);
    assert.equal(verifyWebhook('secret', `${body} `, signature), false);
    assert.equal(verifyWebhook('secret', body, signature.slice(0, -1)), false);
    assert.equal(verifyWebhook('secret', body, 'sha256='), false);
    assert.equal(verifyWebhook('secret', body, undefined), false);
  });

  test('webhook-signature verifies with standardwebhooks: a whsec_ secret as it is, any other in raw format', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = (secret: string) => ({
      'webhook-id': 'd-1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(webhookSigningKey(secret), 'd-1', timestamp, body),
    });
    const whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    assert.deepEqual(new Webhook(whsec).verify(body, headers(whsec)), JSON.parse(body));
    assert.deepEqual(new Webhook('plain secret', { format: 'raw' }).verify(body, headers('plain secret')), JSON.parse(body));
    assert.throws(() => new Webhook(whsec).verify(`${body} `, headers(whsec)), /No matching signature/);
    assert.throws(() => new Webhook(whsec).verify(body, { ...headers(whsec), 'webhook-id': 'd-2' }), /No matching signature/);
  });

  test('a whsec_ secret must continue in base64; an empty or overlong secret is refused', () => {
    assert.equal(webhookSecretProblem('anything at all'), null);
    assert.equal(webhookSecretProblem('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), null);
    for (const secret of ['', 'whsec_', 'whsec_not base64!', 'whsec_abc', 'x'.repeat(1025)]) {
      assert.equal(typeof webhookSecretProblem(secret), 'string', JSON.stringify(secret));
      assert.throws(() => webhookSigningKey(secret), { code: 'ERR_WEBHOOK_CONFIG' });
    }
  });
});
