// /_api/operations/ws: one WebSocket subscribes to several operations and receives their
// events as JSON messages `{ event, operationId, status, progress, timestamp, data }`;
// an unknown id is answered with an ERROR message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem, call, submitOperation, waitForFinal } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { TestWebSocket } from './helpers/websocket-client.js';

let server: ServerProcess;
const sockets = new Set<TestWebSocket>();

interface SocketMessage {
  event: string;
  operationId: string | null;
  status?: string;
  progress?: { current: number | null; total: number | null } | null;
  timestamp: string;
  data: Record<string, unknown>;
}

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const socket of sockets) socket.close();
  await server?.stop();
});

async function connect(): Promise<TestWebSocket> {
  const socket = await TestWebSocket.connect(server.port, '/_api/operations/ws');
  sockets.add(socket);
  return socket;
}

const FINAL_EVENTS = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

function finalFor(messages: readonly unknown[], operationId: string): SocketMessage | undefined {
  return (messages as SocketMessage[]).find((message) => message.operationId === operationId && FINAL_EVENTS.has(message.event));
}

test('one socket with two subscriptions receives the events of both and a final event each', async () => {
  const first = await submitOperation(server.url, '/_admin/steps?count=4&ms=150');
  const second = await submitOperation(server.url, '/_admin/steps?count=3&ms=150');
  const socket = await connect();
  socket.sendJson({ subscribe: [first.operationId, second.operationId] });
  const messages = (await socket.waitFor('a final event for both operations', (received) => (
    finalFor(received, first.operationId) !== undefined && finalFor(received, second.operationId) !== undefined
  ))) as SocketMessage[];

  for (const [operation, steps] of [[first, 4], [second, 3]] as const) {
    const own = messages.filter((message) => message.operationId === operation.operationId);
    const updates = own.filter((message) => message.event === 'STATUS_UPDATE');
    assert.ok(updates.length >= 2, `operation ${operation.operationId}: several updates, got ${JSON.stringify(own)}`);
    assert.ok(updates.some((update) => update.progress?.total === steps), `operation ${operation.operationId}: updates carry progress`);
    for (const update of updates) assert.ok(update.status === 'PENDING' || update.status === 'PROCESSING');
    const finals = own.filter((message) => FINAL_EVENTS.has(message.event));
    assert.equal(finals.length, 1, 'exactly one final event');
    assert.equal(own[own.length - 1], finals[0], 'the final event comes last');
    assert.equal(finals[0].event, 'COMPLETED');
    assert.equal(finals[0].status, 'COMPLETED');
    assert.deepEqual((finals[0].data.result as { body: unknown }).body, { error: false, code: 200, steps });
    for (const message of own) assert.ok(!Number.isNaN(Date.parse(message.timestamp)), `timestamp ${message.timestamp}`);
  }
  assert.equal(socket.closed, false, 'the socket stays open for more subscriptions');
});

test('subscribing to an unknown id answers an ERROR message, and the socket goes on working', async () => {
  const socket = await connect();
  socket.sendJson({ subscribe: ['987654321'] });
  const [error] = (await socket.waitFor('an ERROR message', (received) => received.length >= 1)) as SocketMessage[];
  assert.equal(error.event, 'ERROR');
  assert.equal(error.operationId, '987654321');
  assert.equal(error.data.status, 404);

  const operation = await submitOperation(server.url, '/_api/version');
  await waitForFinal(server.url, operation.operationId);
  socket.sendJson({ subscribe: [operation.operationId] });
  const messages = await socket.waitFor('the final event of a finished operation', (received) => finalFor(received, operation.operationId) !== undefined);
  assert.equal(finalFor(messages, operation.operationId)!.event, 'COMPLETED');
});

test('unsubscribing stops the events of that operation only', async () => {
  const kept = await submitOperation(server.url, '/_admin/steps?count=4&ms=150');
  const dropped = await submitOperation(server.url, '/_admin/steps?count=4&ms=150');
  const socket = await connect();
  socket.sendJson({ subscribe: [kept.operationId, dropped.operationId] });
  await socket.waitFor('a first event of each', (received) => (
    (received as SocketMessage[]).some((message) => message.operationId === kept.operationId)
    && (received as SocketMessage[]).some((message) => message.operationId === dropped.operationId)
  ));
  socket.sendJson({ unsubscribe: [dropped.operationId] });
  await waitForFinal(server.url, dropped.operationId);
  await socket.waitFor('the final event of the kept operation', (received) => finalFor(received, kept.operationId) !== undefined);
  assert.equal(finalFor(socket.messages, dropped.operationId), undefined, 'no final event after unsubscribing');
});

// /_api/operations/{id}/status, the seed's WebSocket URL: connecting subscribes to that one
// operation; the final event is followed by a normal close.

async function connectTo(path: string): Promise<TestWebSocket> {
  const socket = await TestWebSocket.connect(server.port, path);
  sockets.add(socket);
  return socket;
}

test('a WebSocket at /_api/operations/{id}/status streams that operation to its end', async () => {
  const operation = await submitOperation(server.url, '/_admin/steps?count=4&ms=150');
  const [own, shared] = await Promise.all([connectTo(`/_api/operations/${operation.operationId}/status`), connect()]);
  shared.sendJson({ subscribe: [operation.operationId] });

  const close = await own.waitForClose();
  assert.deepEqual(close, { code: 1000, reason: 'operation finished' });
  const messages = own.messages as SocketMessage[];
  assert.ok(messages.every((message) => message.operationId === operation.operationId), JSON.stringify(messages));
  const updates = messages.filter((message) => message.event === 'STATUS_UPDATE');
  assert.ok(updates.length >= 2, `several updates, got ${JSON.stringify(messages)}`);
  assert.ok(updates.some((update) => update.progress?.total === 4), 'updates carry progress');
  assert.equal(messages.filter((message) => FINAL_EVENTS.has(message.event)).length, 1, 'one final event');
  const final = messages[messages.length - 1];
  assert.equal(final.event, 'COMPLETED', 'the final event comes last');

  const sharedMessages = await shared.waitFor('the final event on the shared socket', (received) => finalFor(received, operation.operationId) !== undefined);
  assert.deepEqual(final, finalFor(sharedMessages, operation.operationId), 'the same final event as the shared socket sends for a subscription');
});

test('under /_db/{name}/ too; a finished operation sends its final event and closes at once', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  await waitForFinal(server.url, operation.operationId);
  const socket = await connectTo(`/_db/_system/_api/operations/${operation.operationId}/status`);
  assert.equal((await socket.waitForClose()).code, 1000);
  assert.deepEqual((socket.messages as SocketMessage[]).map((message) => [message.event, message.status]), [['COMPLETED', 'COMPLETED']]);
});

test('an unknown id on /status is answered as an unknown subscription: an ERROR message, then close 4404', async () => {
  for (const [id, operationId] of [['987654321', '987654321'], ['not-an-id', null]] as const) {
    const socket = await connectTo(`/_api/operations/${id}/status`);
    const close = await socket.waitForClose();
    assert.deepEqual(close, { code: 4404, reason: 'ERR_SUBSCRIPTION_NOT_FOUND' });
    const [error] = socket.messages as SocketMessage[];
    assert.equal(socket.messages.length, 1);
    assert.equal(error.event, 'ERROR');
    assert.equal(error.operationId, operationId);
    assert.equal(error.data.status, 404);
    assert.equal(error.data.type, (await unknownSubscriptionError()).data.type, 'the problem the shared socket sends');
  }
});

test('a plain GET of /_api/operations/{id}/status, without Upgrade, is answered by the HTTP routes as before', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  const problem = assertProblem(await call(server.url, 'GET', `/_api/operations/${operation.operationId}/status`), 404);
  assert.equal(problem.detail, `no such resource: /_api/operations/${operation.operationId}/status`);
});

async function unknownSubscriptionError(): Promise<SocketMessage> {
  const socket = await connect();
  socket.sendJson({ subscribe: ['987654322'] });
  const [error] = await socket.waitFor('an ERROR message', (received) => received.length >= 1);
  socket.close();
  return error as SocketMessage;
}
