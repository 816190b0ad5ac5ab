import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { makeTestCertificates, type TestCertificates } from '../../test/helpers/test-certificates.js';
import { WebhookAllowlist } from './webhook-allowlist.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { webhookSecureContext } from './webhook-tls.js';
import { collectAttempts } from './test-fixtures/collect.js';

describe('HTTPS delivery to a name pinned to its checked address', () => {
  let certificates: TestCertificates;
  let server: Server;
  let port: number;
  const seen: Array<{ servername: string | false | null; host: string | undefined }> = [];
  const dispatchers: WebhookDispatcher[] = [];

  before(async () => {
    certificates = makeTestCertificates(['hooks.test']);
    server = createServer({ key: certificates.key, cert: certificates.cert }, (request, response) => {
      seen.push({ servername: (request.socket as TLSSocket).servername, host: request.headers.host });
      request.resume();
      request.on('end', () => response.end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const dispatcher of dispatchers) dispatcher.close();
    server.closeAllConnections();
    server.close();
    certificates.remove();
  });

  /** Every name resolves to the receiver's loopback address, as a DNS answer would. */
  function dispatcher(ca: string | undefined): WebhookDispatcher {
    const allowlist = WebhookAllowlist.parse([`hooks.test:${port}`, `other.test:${port}`], { lookup: async () => [{ address: '127.0.0.1', family: 4 }] });
    const created = new WebhookDispatcher({ allowlist, secret: 's', maxAttempts: 1, ca });
    dispatchers.push(created);
    return created;
  }

  async function deliverTo(url: string, ca: string | undefined) {
    const { record, done } = collectAttempts();
    dispatcher(ca).deliver({ url, operationId: '1' }, 'COMPLETED', { status: 'COMPLETED' }, record);
    return (await done)[0]!;
  }

  test('sends SNI and checks the certificate for the URL name, trusting the added CA', async () => {
    const attempt = await deliverTo(`https://hooks.test:${port}/hook`, certificates.caPem);
    assert.deepEqual([attempt.outcome, attempt.statusCode], ['delivered', 200], attempt.error);
    assert.deepEqual(seen.at(-1), { servername: 'hooks.test', host: `hooks.test:${port}` });
  });

  test('a certificate for another name fails the attempt, though the address is the same', async () => {
    const count = seen.length;
    const attempt = await deliverTo(`https://other.test:${port}/hook`, certificates.caPem);
    assert.deepEqual([attempt.outcome, attempt.errorCode], ['failed', 'ERR_TLS_CERT_ALTNAME_INVALID']);
    assert.equal(seen.length, count, 'nothing was sent');
  });

  test('without the CA the certificate does not verify', async () => {
    const attempt = await deliverTo(`https://hooks.test:${port}/hook`, undefined);
    assert.equal(attempt.outcome, 'failed');
    assert.equal(attempt.errorCode, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});

describe('webhookSecureContext', () => {
  test('refuses a file with no certificate, or one that does not parse', () => {
    assert.throws(() => webhookSecureContext('just text\n'), { code: 'ERR_WEBHOOK_CONFIG', message: /no PEM certificate/ });
    assert.throws(() => webhookSecureContext('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n'), {
      code: 'ERR_WEBHOOK_CONFIG', message: /certificate 1 does not parse/,
    });
  });
});
