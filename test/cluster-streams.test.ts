import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestCluster } from './helpers/cluster.js';
import { delay, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, storeJob, waitForRunningJobs } from './helpers/jobs.js';
import { call, getOperation, submitOperation, waitForFinal } from './helpers/operations.js';
import { SseClient, type SseEvent } from './helpers/sse-client.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';
import { TestWebSocket } from './helpers/websocket-client.js';

/*
 * Streams from any node: SSE (with Last-Event-ID resume) and WebSocket at B for an operation
 * that A runs, and the webhook of a job submitted to a busy node, delivered by the node that
 * took it from the shared queue. One worker running one job per node, so "busy" is one job.
 */

let cluster: TestCluster;
let receiver: WebhookReceiver;
before(async () => {
  receiver = await WebhookReceiver.start();
  cluster = await TestCluster.start(2, [
    '--server.threads', '1', '--server.worker-concurrency', '1',
    '--webhook.allow', `127.0.0.1:${receiver.port}`, '--webhook.secret', 's3cret', '--webhook.allow-http', 'true',
  ]);
});
after(async () => {
  if (process.env.CLUSTER_TEST_LOGS === '1') for (const node of cluster?.nodes ?? []) console.log(node.stderr.slice(-3000));
  await cluster?.stop();
  await receiver?.close();
});

interface EventData {
  event: string;
  status: string;
  progress: { current: number | null; total: number | null } | null;
}

const dataOf = (event: SseEvent): EventData => JSON.parse(event.data) as EventData;

/** Which node ran a finished operation, as its result says. */
async function nodeThatRan(baseUrl: string, operationId: string): Promise<string | null> {
  const reply = await request(baseUrl, 'GET', `/_api/operations/${operationId}/result`);
  assert.equal(reply.status, 200, reply.body);
  return reply.headers.get('x-arango-async-node');
}

test('SSE at B for an operation running on A: progress as A reports it, resumed with Last-Event-ID, the final event', async () => {
  const [a, b] = cluster.nodes;
  const operation = await submitOperation(a.url, '/_admin/steps?count=8&ms=150');
  await waitForRunningJobs(a.url, 1);
  const first = await SseClient.open(b.url, `/_api/operations/${operation.operationId}/stream`);
  assert.equal(first.status, 200);
  const seen = await first.waitForEvents(3);
  first.close();
  for (const event of seen) assert.equal(event.event, 'status-update');
  assert.ok(seen.some((event) => dataOf(event).progress?.total === 8), `A's progress reached B: ${seen.map((event) => event.data).join(' | ')}`);
  assert.ok(seen.every((event) => dataOf(event).status === 'PROCESSING'), 'it runs (on A)');

  const lastEventId = seen[seen.length - 1].id;
  const resumed = await SseClient.open(b.url, `/_api/operations/${operation.operationId}/stream`, { 'last-event-id': lastEventId });
  assert.equal(await resumed.finished, 'end', 'B ends the stream after the final event');
  const { events } = resumed;
  let previous = Number(lastEventId);
  for (const event of events) {
    assert.ok(Number(event.id) > previous, `ids increase past the resumed one: ${lastEventId}, then ${events.map((each) => each.id).join(', ')}`);
    previous = Number(event.id);
  }
  const final = events[events.length - 1];
  assert.equal(final.event, 'completed');
  assert.equal(dataOf(final).progress?.current, 8, 'the final event carries the last progress');
  assert.ok(events.slice(0, -1).every((event) => event.event === 'status-update'), events.map((event) => event.event).join(', '));
  assert.equal(await nodeThatRan(b.url, operation.operationId), 'node-a');
});

test('the status at B of an operation running on A shows the progress A reports', async () => {
  const [a, b] = cluster.nodes;
  const operation = await submitOperation(a.url, '/_admin/steps?count=20&ms=100');
  const status = await waitFor('progress at B', async () => {
    const { body } = await getOperation(b.url, operation.operationId);
    return body.status === 'PROCESSING' && (body.progress?.current ?? 0) >= 2 ? body : undefined;
  });
  assert.equal(status.progress?.total, 20);
  assert.match(String(status.progress?.message), /^step \d+ of 20$/);
  await waitForFinal(b.url, operation.operationId);
  assert.equal(await nodeThatRan(b.url, operation.operationId), 'node-a');
});

test('a WebSocket at B follows an operation running on A; a cancel at B ends it cancelled on the stream', async () => {
  const [a, b] = cluster.nodes;
  const operation = await submitOperation(a.url, '/_admin/steps?count=100&ms=100');
  await waitForRunningJobs(a.url, 1);
  const socket = await TestWebSocket.connect(b.port, '/_api/operations/ws');
  try {
    socket.sendJson({ subscribe: [operation.operationId] });
    type Message = { event: string; operationId: string; progress: { total: number | null } | null };
    await socket.waitFor('progress from A', (messages) => (messages as Message[]).some((message) => message.progress?.total === 100));
    const cancelled = await call(b.url, 'POST', `/_api/operations/${operation.operationId}/cancel`, {}, JSON.stringify({ reason: 'enough' }));
    assert.equal(cancelled.status, 200, cancelled.body);
    const messages = (await socket.waitFor('the cancelled event', (received) => (
      (received as Message[]).some((message) => message.event === 'CANCELLED')
    ))) as Message[];
    const own = messages.filter((message) => message.operationId === operation.operationId);
    assert.equal(own[own.length - 1].event, 'CANCELLED', 'the final event comes last');
    assert.equal(own.filter((message) => message.event === 'CANCELLED').length, 1, 'once');
  } finally {
    socket.close();
  }
  await waitForRunningJobs(a.url, 0);
});

test('a webhook of a job submitted to a busy node is delivered by the node that ran it', async () => {
  const [a, b] = cluster.nodes;
  const blocker = await storeJob(a.url, 'GET', '/_admin/sleep?duration=1');
  await waitForRunningJobs(a.url, 1);
  const operation = await submitOperation(a.url, '/_api/version', { 'x-callback-url': receiver.url('/done') });
  const delivery = await receiver.waitForDeliveryOf(operation.operationId);
  assert.equal(delivery.headers['x-webhook-event'], 'COMPLETED');
  assert.equal(await nodeThatRan(a.url, operation.operationId), 'node-b', 'A was busy: B took it from the shared queue');
  // Every node shows the same registration and B's attempt, A (where it was submitted) too.
  const shown = [];
  for (const node of [a, b]) {
    shown.push(await waitFor(`the delivery in the status at ${node.url}`, async () => {
      const { body } = await getOperation(node.url, operation.operationId);
      const webhook = body.webhook as { url: string; registered: boolean; deliveries: Array<Record<string, unknown>> } | undefined;
      return webhook !== undefined && webhook.deliveries.length > 0 ? webhook : undefined;
    }));
  }
  assert.deepEqual(shown[0], shown[1], 'the same answer at A and B');
  assert.equal(shown[0].url, receiver.url('/done'));
  assert.equal(shown[0].registered, true);
  const [attempt] = shown[0].deliveries;
  assert.deepEqual([attempt.outcome, attempt.statusCode, attempt.event, attempt.deliveryId], ['delivered', 200, 'COMPLETED', delivery.headers['webhook-id']]);
  assert.equal((await fetchWhenFinished(b.url, blocker)).status, 200);
  await delay(300);
  assert.equal(receiver.received.filter((received) => received.headers['x-operation-id'] === operation.operationId).length, 1, 'delivered once, not by both nodes');
});

test('kill -9 of the node running a job with a webhook: the job fails "node lost" and its FAILED webhook is delivered by the node that took it over', async () => {
  const [a] = cluster.nodes;
  const doomed = await cluster.startNode(2);
  try {
    const operation = await submitOperation(doomed.url, '/_admin/spin?duration=60', { 'x-callback-url': receiver.url('/lost') });
    await waitForRunningJobs(doomed.url, 1);
    await doomed.stop('SIGKILL');
    // The lease (10 s) lapses, another node fails the job (spin is not idempotent) and tells the webhook.
    const delivery = await receiver.waitForDeliveryOf(operation.operationId, 25_000);
    assert.equal(delivery.headers['x-webhook-event'], 'FAILED');
    assert.match(delivery.rawBody.toString('utf8'), /node lost/);
    const { body } = await waitForFinal(a.url, operation.operationId);
    assert.equal(body.status, 'FAILED', 'the status at another node says the same');
  } finally {
    cluster.nodes.length = 2;
  }
});
