// GET /_api/operations/{id}/stream (WHATWG server-sent events): status-update events with
// progress, then one final event (completed, failed, cancelled) and the end of the stream;
// increasing ids; Last-Event-ID resumes without duplicates; clients that hang up mid-stream
// leave the server and the job undisturbed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from './helpers/http.js';
import { assertProblem, call, submitOperation, waitForFinal, waitForStatus } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { SseClient, type SseEvent } from './helpers/sse-client.js';

const STEPS_PATH = '/_admin/steps?count=5&ms=200';
let server: ServerProcess;

interface EventData {
  event: string;
  operationId: string;
  status: string;
  progress: { current: number | null; total: number | null; percentage: number | null } | null;
  timestamp: string;
  data: { result?: { status: number; url: string; body?: unknown }; error?: { status: number } };
}

before(async () => {
  server = await startServer(['--server.shutdown-timeout', '500']);
});

after(async () => {
  await server?.stop();
});

function stream(operationId: string, headers: Record<string, string> = {}, deadlineMs?: number): Promise<SseClient> {
  return SseClient.open(server.url, `/_api/operations/${operationId}/stream`, headers, deadlineMs);
}

function dataOf(event: SseEvent): EventData {
  return JSON.parse(event.data) as EventData;
}

function assertIncreasingIds(events: readonly SseEvent[], after = 0): void {
  let previous = after;
  for (const event of events) {
    assert.match(event.id, /^\d+$/, `event id ${JSON.stringify(event.id)}`);
    assert.ok(Number(event.id) > previous, `ids strictly increase: ${events.map((each) => each.id).join(', ')} (after ${after})`);
    previous = Number(event.id);
  }
}

/** status-update events, then exactly one final event of type `final`, last. */
function assertEventSequence(events: readonly SseEvent[], operationId: string, final: string): EventData {
  assert.ok(events.length >= 1, 'at least the final event');
  for (const event of events.slice(0, -1)) assert.equal(event.event, 'status-update', `only the last event is final: ${events.map((each) => each.event).join(', ')}`);
  const last = events[events.length - 1];
  assert.equal(last.event, final);
  for (const event of events) assert.equal(dataOf(event).operationId, operationId);
  return dataOf(last);
}

test('a stream sends status-update events with progress, then completed, and ends', async () => {
  const operation = await submitOperation(server.url, STEPS_PATH);
  const client = await stream(operation.operationId);
  assert.equal(client.status, 200);
  assert.match(String(client.headers['content-type']), /^text\/event-stream/);
  assert.equal(client.headers['cache-control'], 'no-cache');
  assert.equal(await client.finished, 'end', 'the server ends the stream after the final event');

  const { events } = client;
  assertIncreasingIds(events);
  const final = assertEventSequence(events, operation.operationId, 'completed');
  assert.equal(final.event, 'COMPLETED');
  assert.equal(final.status, 'COMPLETED');
  assert.deepEqual(final.data.result, {
    status: 200, url: `/_api/operations/${operation.operationId}/result`, body: { error: false, code: 200, steps: 5 },
  });
  const updates = events.filter((event) => event.event === 'status-update').map(dataOf);
  assert.ok(updates.length >= 3, `several updates over a 1 s job, got ${updates.length}`);
  for (const update of updates) {
    assert.equal(update.event, 'STATUS_UPDATE');
    assert.ok(update.status === 'PENDING' || update.status === 'PROCESSING', `update status ${update.status}`);
    assert.ok(!Number.isNaN(Date.parse(update.timestamp)), `timestamp ${update.timestamp}`);
  }
  assert.ok(updates.some((update) => update.progress?.total === 5 && update.progress.current !== null), 'updates carry the handler\'s progress');
});

test('Last-Event-ID resumes: only later events, no duplicates, and the final event arrives', async () => {
  const operation = await submitOperation(server.url, STEPS_PATH);
  const first = await stream(operation.operationId);
  const seen = await first.waitForEvents(2);
  first.close();
  const lastEventId = seen[seen.length - 1].id;

  const resumed = await stream(operation.operationId, { 'last-event-id': lastEventId });
  assert.equal(resumed.status, 200);
  assert.equal(await resumed.finished, 'end');
  assertIncreasingIds(resumed.events, Number(lastEventId));
  const seenIds = new Set(seen.map((event) => event.id));
  for (const event of resumed.events) assert.ok(!seenIds.has(event.id), `event ${event.id} was already seen`);
  assertEventSequence(resumed.events, operation.operationId, 'completed');
});

test('a stream of a finished operation sends its final event and ends', async () => {
  const operation = await submitOperation(server.url, '/_admin/fail?status=418');
  await waitForFinal(server.url, operation.operationId);
  const client = await stream(operation.operationId);
  assert.equal(await client.finished, 'end');
  assert.equal(client.events.length, 1);
  const final = assertEventSequence(client.events, operation.operationId, 'failed');
  assert.equal(final.status, 'FAILED');
  assert.equal(final.data.error?.status, 418);
});

// BUG: a stream resumed with the id of the final event (what a browser's EventSource sends
// when it reconnects after the server ended the stream) is never ended: the server sends
// nothing, keeps the response open with keep-alive comments, and the browser never learns
// the operation is over. Expected: the stream ends at once (or a 204, which tells EventSource
// to stop reconnecting).
test('a stream resumed after the final event ends at once instead of hanging', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  await waitForFinal(server.url, operation.operationId);
  const first = await stream(operation.operationId);
  assert.equal(await first.finished, 'end');
  const finalId = first.events[first.events.length - 1].id;

  const resumed = await stream(operation.operationId, { 'last-event-id': finalId }, 2000);
  const outcome = await resumed.finished;
  if (outcome !== 'end') resumed.close();
  assert.ok(resumed.status === 204 || resumed.status === 200, `status ${resumed.status}`);
  assert.deepEqual(resumed.events, [], 'nothing already seen is sent again');
  assert.equal(outcome, 'end', `the stream must end; it was still open after 2 s (received ${JSON.stringify(resumed.text)})`);
});

test('cancelling a watched operation sends cancelled and ends the stream', async () => {
  const operation = await submitOperation(server.url, '/_admin/sleep?duration=30');
  await waitForStatus(server.url, operation.operationId, ['PROCESSING']);
  const client = await stream(operation.operationId);
  await client.waitForEvents(1);
  assert.equal((await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`)).status, 200);
  assert.equal(await client.finished, 'end');
  assertIncreasingIds(client.events);
  assert.equal(assertEventSequence(client.events, operation.operationId, 'cancelled').status, 'CANCELLED');
});

test('clients hanging up mid-stream do not disturb the server: it keeps serving and the job completes', async () => {
  const operation = await submitOperation(server.url, STEPS_PATH);
  const clients = await Promise.all(Array.from({ length: 20 }, () => stream(operation.operationId)));
  await Promise.all(clients.map((client) => client.waitForEvents(1)));
  for (const client of clients) client.close();

  assert.equal((await request(server.url, 'GET', '/_api/version')).status, 200);
  const watcher = await stream(operation.operationId);
  assert.equal(await watcher.finished, 'end');
  assertEventSequence(watcher.events, operation.operationId, 'completed');
  const { body } = await waitForFinal(server.url, operation.operationId);
  assert.equal(body.status, 'COMPLETED');
  assert.ok(server.running, 'the server is still running');
  assert.equal(server.stderr, '');
  assert.deepEqual(server.logLines.filter((line) => line.level >= 50), [], 'no error logged');
});

test('a stream asked for as JSON is a 406 problem', async () => {
  const operation = await submitOperation(server.url, '/_api/version');
  assertProblem(await call(server.url, 'GET', `/_api/operations/${operation.operationId}/stream`, { accept: 'application/json' }), 406);
});
