// "Use HTTPS Only" (the seed): an http:// x-callback-url is refused with 400 unless the operator
// allows it with --webhook.allow-http (local development, tests); HTTPS deliveries verify the
// receiver's certificate, trusting a private CA given with --webhook.ca besides Node's roots.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { transitions } from './helpers/jobs.js';
import { waitFor } from './helpers/http.js';
import { assertProblem, call, getOperation, submitOperation, waitForFinal, type DeliveryAttempt } from './helpers/operations.js';
import { runServerToExit, startServer, type ServerProcess } from './helpers/server-process.js';
import { makeTestCertificates, type TestCertificates } from './helpers/test-certificates.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

const SECRET = 'tls-secret';
let certificates: TestCertificates;
let secure: WebhookReceiver;
let plain: WebhookReceiver;
/** Trusts the test CA (--webhook.ca); https only. */
let withCa: ServerProcess;
/** Node's bundled roots only, one attempt per delivery; https only. */
let withoutCa: ServerProcess;

before(async () => {
  certificates = makeTestCertificates();
  [secure, plain] = await Promise.all([WebhookReceiver.start([], certificates), WebhookReceiver.start()]);
  const allow = ['--webhook.allow', `127.0.0.1:${secure.port},127.0.0.1:${plain.port}`, '--webhook.secret', SECRET];
  [withCa, withoutCa] = await Promise.all([
    startServer([...allow, '--webhook.ca', certificates.caFile]),
    startServer([...allow, '--webhook.max-attempts', '1']),
  ]);
});

after(async () => {
  await Promise.all([withCa?.stop(), withoutCa?.stop(), secure?.close(), plain?.close()]);
  certificates?.remove();
});

function deliveriesOf(server: ServerProcess, operationId: string): Promise<DeliveryAttempt[]> {
  return waitFor(`a final delivery attempt of operation ${operationId}`, async () => {
    const deliveries = (await getOperation(server.url, operationId)).body.webhook?.deliveries ?? [];
    return deliveries.some((attempt) => attempt.nextAttemptAt === undefined) ? deliveries : undefined;
  }, 15_000);
}

test('an http:// webhook is refused unless --webhook.allow-http', async () => {
  const queuedBefore = await transitions(withCa.url, 'queued');
  const reply = await call(withCa.url, 'GET', '/_api/version', { prefer: 'respond-async', 'x-callback-url': plain.url('/hook') });
  const problem = assertProblem(reply, 400);
  assert.match(String(problem.detail), /https: .*--webhook\.allow-http true/);
  assert.equal(problem.callbackUrl, plain.url('/hook'));
  assert.equal(await transitions(withCa.url, 'queued'), queuedBefore, 'nothing was queued');

  const allowing = await startServer(['--webhook.allow', `127.0.0.1:${plain.port}`, '--webhook.secret', SECRET, '--webhook.allow-http', 'true']);
  try {
    const operation = await submitOperation(allowing.url, '/_api/version', { 'x-callback-url': plain.url('/hook') });
    await plain.waitForDeliveryOf(operation.operationId);
  } finally {
    await allowing.stop();
  }
});

test('an HTTPS receiver whose certificate the --webhook.ca CA signed gets the delivery, verified', async () => {
  const operation = await submitOperation(withCa.url, '/_api/version', { 'x-callback-url': secure.url('/hook') });
  const delivery = await secure.waitForDeliveryOf(operation.operationId);
  assert.equal(delivery.headers['x-webhook-signature'], `sha256=${createHmac('sha256', SECRET).update(delivery.rawBody).digest('hex')}`);
  const [attempt] = await deliveriesOf(withCa, operation.operationId);
  assert.deepEqual([attempt.outcome, attempt.statusCode, attempt.url], ['delivered', 200, secure.url('/hook')]);
});

test("without --webhook.ca the receiver's certificate does not verify: the failed attempt is recorded, nothing is sent, the server goes on", async () => {
  const earlier = secure.received.length;
  const operation = await submitOperation(withoutCa.url, '/_api/version', { 'x-callback-url': secure.url('/hook') });
  const attempts = await deliveriesOf(withoutCa, operation.operationId);
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0].outcome, 'failed');
  assert.match(String(attempts[0].errorCode), /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  assert.equal(secure.received.length, earlier, 'no request reached the receiver');
  assert.equal((await waitForFinal(withoutCa.url, operation.operationId)).body.status, 'COMPLETED', 'the job itself was not affected');
  assert.equal((await call(withoutCa.url, 'GET', '/_api/version')).status, 200);
  assert.equal(withoutCa.running, true);
});

test('--webhook.ca naming a missing file, or one without a certificate, stops the server at start with one clear line', async () => {
  const notPem = join(certificates.caFile, '..', 'not-a-certificate.txt');
  writeFileSync(notPem, 'hello\n');
  for (const [file, message] of [[notPem, /--webhook\.ca: the file holds no PEM certificate/], [`${notPem}.missing`, /--webhook\.ca: cannot read/]] as const) {
    const run = await runServerToExit(['--server.endpoint', 'tcp://127.0.0.1:0', '--webhook.allow', '127.0.0.1', '--webhook.secret', SECRET, '--webhook.ca', file]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  }
});
