// With authentication on, an operation belongs to the user who submitted it: another user
// gets 404 everywhere (status, result, cancel, stream, WebSocket) and sees only their own in
// the history; superusers see all. The history is newest first, filters by status and pages
// with a cursor.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jwtHeaders } from './helpers/credentials.js';
import { parseJson } from './helpers/http.js';
import { assertProblem, call, getOperation, submitOperation, waitForFinal, waitForStatus, type OperationBody } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { SseClient } from './helpers/sse-client.js';
import { TestWebSocket } from './helpers/websocket-client.js';

const JWT_SECRET = 'operations-secret';
let server: ServerProcess;

const ALICE = jwtHeaders(JWT_SECRET, 'alice');
const BOB = jwtHeaders(JWT_SECRET, 'bob');
// A token without preferred_username is ArangoDB's superuser (server-to-server) token.
const SUPERUSER = jwtHeaders(JWT_SECRET, null);

interface HistoryItem {
  operationId: string;
  status: OperationBody['status'];
  timestamps: OperationBody['timestamps'];
  links: OperationBody['links'];
}

interface HistoryPage {
  data: HistoryItem[];
  pagination: { next: string | null };
}

before(async () => {
  // A short shutdown timeout: a failed test's 30-second sleeper must not hold up stop().
  server = await startServer(['--server.authentication', 'true', '--server.jwt-secret', JWT_SECRET, '--server.shutdown-timeout', '500']);
});

after(async () => {
  await server?.stop();
});

async function history(headers: Record<string, string>, query = ''): Promise<HistoryPage> {
  const reply = await call(server.url, 'GET', `/_api/operations${query}`, headers);
  assert.equal(reply.status, 200, reply.body);
  return parseJson(reply) as HistoryPage;
}

test('without credentials the operations surface answers 401 as a problem (application/problem+json), with WWW-Authenticate', async () => {
  for (const path of ['/_api/operations', '/_api/operations/123', '/_api/operations/123/stream']) {
    const reply = await call(server.url, 'GET', path);
    const body = assertProblem(reply, 401);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(body.title, 'Unauthorized');
    assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer /);
  }
  assert.equal((await call(server.url, 'GET', '/_api/version', { prefer: 'respond-async' })).status, 401);
});

test('bob gets 404 for alice\'s operation everywhere; alice and a superuser see it', async () => {
  const operation = await submitOperation(server.url, '/_admin/sleep?duration=30', ALICE);
  const id = operation.operationId;
  assertProblem(await call(server.url, 'GET', `/_api/operations/${id}`, BOB), 404);
  assertProblem(await call(server.url, 'GET', `/_api/operations/${id}/result`, BOB), 404);
  assertProblem(await call(server.url, 'POST', `/_api/operations/${id}/cancel`, BOB), 404);
  const stream = await SseClient.open(server.url, `/_api/operations/${id}/stream`, BOB);
  assert.equal(stream.status, 404);
  assert.equal(await stream.finished, 'end');
  assert.match(String(stream.headers['content-type']), /^application\/problem\+json/);

  const socket = await TestWebSocket.connect(server.port, '/_api/operations/ws', BOB);
  try {
    socket.sendJson({ subscribe: [id] });
    const [message] = await socket.waitFor('an ERROR message', (messages) => messages.length >= 1);
    assert.equal((message as { event: string }).event, 'ERROR');
    assert.equal((message as { operationId: string }).operationId, id);
  } finally {
    socket.close();
  }

  // The per-operation socket refuses bob as it refuses an unknown id: an ERROR message, then close 4404.
  const bobs = await TestWebSocket.connect(server.port, `/_api/operations/${id}/status`, BOB);
  assert.equal((await bobs.waitForClose()).code, 4404);
  assert.deepEqual((bobs.messages as Array<{ event: string; operationId: string }>).map((message) => [message.event, message.operationId]), [['ERROR', id]]);
  await assert.rejects(TestWebSocket.connect(server.port, `/_api/operations/${id}/status`), /upgrade refused: "HTTP\/1.1 401 /);
  for (const headers of [ALICE, SUPERUSER]) {
    const watching = await TestWebSocket.connect(server.port, `/_api/operations/${id}/status`, headers);
    try {
      const [first] = await watching.waitFor('the current state', (messages) => messages.length >= 1);
      assert.deepEqual([(first as { event: string }).event, (first as { operationId: string }).operationId], ['STATUS_UPDATE', id]);
    } finally {
      watching.close();
    }
  }

  assert.equal((await waitForStatus(server.url, id, ['PROCESSING'], ALICE)).body.operationId, id);
  assert.equal((await getOperation(server.url, id, SUPERUSER)).body.operationId, id);
  // Bob's cancel did nothing; alice's does.
  assert.equal((await call(server.url, 'POST', `/_api/operations/${id}/cancel`, ALICE)).status, 200);
  assert.equal((await waitForFinal(server.url, id, ALICE)).body.status, 'CANCELLED');
});

test('the history lists only the caller\'s operations, newest first; a superuser\'s lists everyone\'s', async () => {
  const carol = jwtHeaders(JWT_SECRET, 'carol');
  const dave = jwtHeaders(JWT_SECRET, 'dave');
  const carols = [];
  for (let index = 0; index < 3; index++) carols.push((await submitOperation(server.url, '/_api/version', carol)).operationId);
  const daves = [(await submitOperation(server.url, '/_api/version', dave)).operationId];
  for (const id of carols) await waitForFinal(server.url, id, carol);

  assert.deepEqual((await history(carol)).data.map((item) => item.operationId), [...carols].reverse());
  assert.deepEqual((await history(dave)).data.map((item) => item.operationId), daves);
  const everyone = (await history(SUPERUSER, '?limit=1000')).data.map((item) => item.operationId);
  for (const id of [...carols, ...daves]) assert.ok(everyone.includes(id), `superuser history holds ${id}`);
  const item = (await history(carol)).data[0];
  assert.equal(item.status, 'COMPLETED');
  assert.equal(item.links.self, `/_api/operations/${item.operationId}`);
});

test('each history item names its owner; a superuser lists one user\'s with ?user=, anyone else only their own (403)', async () => {
  const grace = jwtHeaders(JWT_SECRET, 'grace');
  const heidi = jwtHeaders(JWT_SECRET, 'heidi');
  const graces = (await submitOperation(server.url, '/_api/version', grace)).operationId;
  const heidis = (await submitOperation(server.url, '/_api/version', heidi)).operationId;
  const listed = (await history(SUPERUSER, '?user=grace')).data as Array<HistoryItem & { owner: string }>;
  assert.deepEqual(listed.map((item) => [item.operationId, item.owner]), [[graces, 'grace']]);
  assert.deepEqual((await history(grace, '?user=grace')).data.map((item) => item.operationId), [graces], 'naming oneself is allowed');
  const refused = await call(server.url, 'GET', '/_api/operations?user=heidi', grace);
  assertProblem(refused, 403);
  assert.doesNotMatch(refused.body, new RegExp(heidis));
  const everyone = (await history(SUPERUSER, '?limit=1000')).data as Array<HistoryItem & { owner: string }>;
  assert.equal(everyone.find((item) => item.operationId === heidis)?.owner, 'heidi');
});

test('?status=COMPLETED filters the history', async () => {
  const erin = jwtHeaders(JWT_SECRET, 'erin');
  const completed = (await submitOperation(server.url, '/_api/version', erin)).operationId;
  const failed = (await submitOperation(server.url, '/_admin/fail?status=418', erin)).operationId;
  const running = (await submitOperation(server.url, '/_admin/sleep?duration=30', erin)).operationId;
  await waitForFinal(server.url, completed, erin);
  await waitForFinal(server.url, failed, erin);
  await waitForStatus(server.url, running, ['PROCESSING'], erin);

  assert.deepEqual((await history(erin, '?status=COMPLETED')).data.map((item) => item.operationId), [completed]);
  assert.deepEqual((await history(erin, '?status=FAILED')).data.map((item) => item.operationId), [failed]);
  assert.deepEqual((await history(erin, '?status=PROCESSING')).data.map((item) => item.operationId), [running]);
  assert.equal((await call(server.url, 'POST', `/_api/operations/${running}/cancel`, erin)).status, 200);
  await waitForFinal(server.url, running, erin);
});

test('limit and the after cursor page through the history without gaps or repeats', async () => {
  const frank = jwtHeaders(JWT_SECRET, 'frank');
  const ids: string[] = [];
  for (let index = 0; index < 5; index++) ids.push((await submitOperation(server.url, '/_api/version', frank)).operationId);
  const newestFirst = [...ids].reverse();

  const seen: string[] = [];
  let query = '?limit=2';
  for (let page = 0; page < 3; page++) {
    const { data, pagination } = await history(frank, query);
    assert.ok(data.length <= 2, `page ${page + 1} has at most limit items`);
    seen.push(...data.map((item) => item.operationId));
    if (pagination.next === null) break;
    query = `?limit=2&after=${encodeURIComponent(pagination.next)}`;
  }
  assert.deepEqual(seen, newestFirst);
  const last = await history(frank, query);
  assert.equal(last.pagination.next, null, 'the last page has no next cursor');
});

test('to another user a live operation, a gone one and an unknown id answer exactly alike; the owner gets 410', async () => {
  const live = (await submitOperation(server.url, '/_admin/sleep?duration=30', ALICE)).operationId;
  const gone = (await submitOperation(server.url, '/_api/version', ALICE)).operationId;
  await waitForFinal(server.url, gone, ALICE);
  assert.equal((await call(server.url, 'DELETE', `/_api/job/${gone}`, ALICE)).status, 200);
  const unknown = String(Number(live) + 1_000_000);

  const answers = [];
  for (const id of [live, gone, unknown]) {
    const reply = await call(server.url, 'GET', `/_api/operations/${id}`, BOB);
    const body = assertProblem(reply, 404);
    // Same answer but for the id itself.
    answers.push(JSON.stringify(body).replaceAll(id, 'ID'));
  }
  assert.equal(new Set(answers).size, 1, answers.join('\n'));

  assertProblem(await call(server.url, 'GET', `/_api/operations/${gone}`, ALICE), 410);
  assertProblem(await call(server.url, 'GET', `/_api/operations/${gone}`, SUPERUSER), 410);
  assertProblem(await call(server.url, 'GET', `/_api/operations/${unknown}`, ALICE), 404);
  await call(server.url, 'POST', `/_api/operations/${live}/cancel`, ALICE);
});

test('a browser\'s WebSocket authenticates with the subprotocol arango-jobs.bearer.<JWT>; the answer names arango-jobs only', async () => {
  const token = ALICE.authorization.slice('bearer '.length);
  const { operationId } = await submitOperation(server.url, '/_admin/sleep?duration=0.2', ALICE);
  const socket = await TestWebSocket.connect(server.port, '/_api/operations/ws', { 'sec-websocket-protocol': `arango-jobs, arango-jobs.bearer.${token}` });
  try {
    const protocol = /\r\nsec-websocket-protocol: *([^\r]*)/i.exec(socket.responseHead)?.[1];
    assert.equal(protocol, 'arango-jobs', 'the token is not echoed');
    socket.sendJson({ subscribe: [operationId] });
    await socket.waitFor('alice\'s operation completed', (messages) => (messages as Array<{ event: string }>).some((message) => message.event === 'COMPLETED'));
  } finally {
    socket.close();
  }
  await assert.rejects(
    TestWebSocket.connect(server.port, '/_api/operations/ws', { 'sec-websocket-protocol': 'arango-jobs, arango-jobs.bearer.not-a-jwt' }),
    /upgrade refused: "HTTP\/1.1 401 /,
  );
});
