// What a handler reports beside its result, as a client of the operations surface sees it:
// the operation's type, phases, a log, warnings (COMPLETED_WITH_ERRORS), and retries, both
// automatic (a route's retry policy) and asked for (`POST /_api/operations/{id}/retry`).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jwtHeaders } from './helpers/credentials.js';
import { parseJson, waitFor } from './helpers/http.js';
import { assertProblem, call, getOperation, submitOperation, waitForFinal, waitForStatus, type OperationBody } from './helpers/operations.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { SseClient, type SseEvent } from './helpers/sse-client.js';

const JWT_SECRET = 'reports-secret';
let server: ServerProcess;

const ALICE = jwtHeaders(JWT_SECRET, 'alice');
const BOB = jwtHeaders(JWT_SECRET, 'bob');
// A token without preferred_username is ArangoDB's superuser (server-to-server) token.
const SUPERUSER = jwtHeaders(JWT_SECRET, null);

interface PhaseView { name: string; status: string; duration?: number; percentage?: number }
interface LogsBody { operationId: string; status: string; lines: Array<{ timestamp: string; message: string; fields?: Record<string, unknown> }>; truncated: boolean }
interface AttemptView { attempt: number; startedAt: string | null; endedAt: string; error: { code: string; message: string; status?: number } }

before(async () => {
  server = await startServer(['--server.authentication', 'true', '--server.jwt-secret', JWT_SECRET, '--server.shutdown-timeout', '500']);
});

after(async () => {
  await server?.stop();
});

function phasesOf(body: OperationBody): PhaseView[] {
  return ((body.progress as { phases?: PhaseView[] } | null)?.phases) ?? [];
}

async function logsOf(operationId: string, headers = ALICE): Promise<LogsBody> {
  const reply = await call(server.url, 'GET', `/_api/operations/${operationId}/logs`, headers);
  assert.equal(reply.status, 200, reply.body);
  return parseJson(reply) as LogsBody;
}

test('a route\'s name is its operations\' type in status and history; without one the type is METHOD /path/pattern', async () => {
  const named = await submitOperation(server.url, '/_admin/report?records=10&ms=1', ALICE);
  const plain = await submitOperation(server.url, '/_admin/steps?count=1&ms=1', ALICE);
  assert.equal(named.type, 'REPORT_GENERATION', 'the 202 shows it');
  assert.equal((await waitForFinal(server.url, named.operationId, ALICE)).body.type, 'REPORT_GENERATION');
  assert.equal((await waitForFinal(server.url, plain.operationId, ALICE)).body.type, 'GET /_admin/steps');
  const history = parseJson(await call(server.url, 'GET', '/_api/operations?limit=2', ALICE)) as { data: Array<{ operationId: string; type: string }> };
  assert.deepEqual(history.data.map((item) => [item.operationId, item.type]), [[plain.operationId, 'GET /_admin/steps'], [named.operationId, 'REPORT_GENERATION']]);
});

test('phases: the status body shows each with its status, a duration once done and the percentage of the current one', async () => {
  const operation = await submitOperation(server.url, '/_admin/report?records=200&ms=30', ALICE);
  const { body: running } = await waitFor('the DATA_PROCESSING phase', async () => {
    const seen = await getOperation(server.url, operation.operationId, ALICE);
    return seen.body.progress?.phase === 'DATA_PROCESSING' && (seen.body.progress?.current ?? 0) > 0 ? seen : undefined;
  });
  const phases = phasesOf(running);
  assert.deepEqual(phases.map((phase) => [phase.name, phase.status]), [['VALIDATION', 'COMPLETED'], ['DATA_PROCESSING', 'IN_PROGRESS'], ['REPORT_GENERATION', 'PENDING']]);
  assert.equal(typeof phases[0].duration, 'number');
  assert.equal(phases[1].percentage, running.progress!.percentage, 'the current phase carries the percentage');
  assert.equal(phases[2].duration, undefined);
  const { body: finished } = await waitForFinal(server.url, operation.operationId, ALICE);
  assert.deepEqual(phasesOf(finished).map((phase) => phase.status), ['COMPLETED', 'COMPLETED', 'COMPLETED'], 'the last phase ends with the job');
  assert.ok(phasesOf(finished).every((phase) => typeof phase.duration === 'number'));
});

test('a job that warns ends COMPLETED_WITH_ERRORS, answered 200 with result.warnings as the seed\'s partial failure; history filters it', async () => {
  const operation = await submitOperation(server.url, '/_admin/report?records=20&ms=1&missing=15', ALICE);
  const { reply, body } = await waitForFinal(server.url, operation.operationId, ALICE);
  assert.equal(body.status, 'COMPLETED_WITH_ERRORS');
  assert.equal(reply.status, 200, 'only plain success redirects');
  assert.equal(typeof body.completedAt, 'string');
  const result = body.result as { url: string; body: { reportId: string }; warnings: unknown[] };
  assert.deepEqual(result.warnings, [{ code: 'MISSING_DATA', message: 'Some customer records were missing email addresses', affectedRecords: 15 }]);
  assert.equal(result.body.reportId, `rpt-${operation.operationId}`);
  assert.equal((await call(server.url, 'GET', `/_api/operations/${operation.operationId}/result`, ALICE)).status, 200, 'its result is there');
  const page = parseJson(await call(server.url, 'GET', '/_api/operations?status=COMPLETED_WITH_ERRORS', ALICE)) as { data: Array<{ operationId: string; status: string }>; pagination: { totalElements: number } };
  assert.ok(page.data.some((item) => item.operationId === operation.operationId && item.status === 'COMPLETED_WITH_ERRORS'));
  assert.equal(page.pagination.totalElements, page.data.length);
  assertProblem(await call(server.url, 'POST', `/_api/operations/${operation.operationId}/cancel`, ALICE), 409);
});

test('ctx.log lines are at links.logs, newest last, while the job runs and after; over 1,000 lines the oldest go and truncated says so', async () => {
  const operation = await submitOperation(server.url, '/_admin/report?records=300&ms=30', ALICE);
  assert.equal(operation.links.logs, `/_api/operations/${operation.operationId}/logs`);
  const live = await waitFor('the first lines', async () => {
    const logs = await logsOf(operation.operationId);
    return logs.lines.length >= 2 ? logs : undefined;
  });
  assert.deepEqual(live.lines.slice(0, 2).map((line) => [line.message, line.fields]), [['validating', { records: 300 }], ['processing', { records: 300 }]]);
  assert.equal(live.truncated, false);
  await waitForFinal(server.url, operation.operationId, ALICE);
  const finished = await logsOf(operation.operationId);
  assert.deepEqual(finished.lines.map((line) => line.message), ['validating', 'processing', 'generating', 'done']);
  assert.ok(finished.lines.every((line) => !Number.isNaN(Date.parse(line.timestamp))));

  const chatty = await submitOperation(server.url, '/_admin/report?records=10&ms=1&lines=1500', ALICE);
  await waitForFinal(server.url, chatty.operationId, ALICE);
  const bounded = await logsOf(chatty.operationId);
  assert.equal(bounded.truncated, true);
  assert.ok(bounded.lines.length <= 1000, `${bounded.lines.length} lines kept`);
  assert.equal(bounded.lines.at(-1)!.message, 'done', 'newest last');
  assert.equal((await call(server.url, 'GET', `/_api/operations/${chatty.operationId}/logs`, BOB)).status, 404, 'another user\'s logs do not exist');
});

test('log events stream on SSE while the job runs', async () => {
  const operation = await submitOperation(server.url, '/_admin/report?records=100&ms=20', ALICE);
  const stream = await SseClient.open(server.url, `/_api/operations/${operation.operationId}/stream`, ALICE);
  assert.equal(await stream.finished, 'end');
  const logEvents = stream.events.filter((event: SseEvent) => event.event === 'log').map((event) => JSON.parse(event.data) as { data: { lines: Array<{ message: string }> } });
  const messages = logEvents.flatMap((event) => event.data.lines.map((line) => line.message));
  assert.ok(messages.includes('generating') && messages.includes('done'), `log events: ${messages.join(', ')}`);
  assert.equal(stream.events.at(-1)!.event, 'completed');
});

test('a retry policy runs a failed attempt again: the status lists the attempts, SSE carries a retrying event, and the job completes', async () => {
  // retryAfterMs spaces the attempts out, so that the stream is open before the second fails.
  const operation = await submitOperation(server.url, '/_admin/flaky?failures=2&retryAfterMs=600', ALICE);
  const stream = await SseClient.open(server.url, `/_api/operations/${operation.operationId}/stream`, ALICE);
  const { body } = await waitForFinal(server.url, operation.operationId, ALICE);
  assert.equal(body.status, 'COMPLETED');
  assert.equal(body.type, 'FLAKY_CALL');
  const attempts = body.attempts as AttemptView[];
  assert.deepEqual(attempts.map((attempt) => [attempt.attempt, attempt.error.status, attempt.error.message]), [
    [1, 503, 'External service temporarily unavailable'], [2, 503, 'External service temporarily unavailable'],
  ]);
  assert.ok(attempts.every((attempt) => typeof attempt.startedAt === 'string' && Date.parse(attempt.endedAt) >= Date.parse(attempt.startedAt!)));
  const result = parseJson(await call(server.url, 'GET', `/_api/operations/${operation.operationId}/result`, ALICE)) as { attempts: number };
  assert.equal(result.attempts, 3, 'the third attempt answered');
  assert.equal(await stream.finished, 'end');
  const retrying = stream.events.filter((event) => event.event === 'retrying').map((event) => JSON.parse(event.data) as { data: { attempt: number; nextAttemptAt: string } });
  // The first attempt may fail before the stream is open: what the stream shows is from then on.
  const seen = retrying.map((event) => event.data.attempt);
  assert.ok(seen.at(-1) === 2 && seen.every((attempt, index) => index === 0 || attempt === seen[index - 1] + 1), `one retrying event per failed attempt: ${stream.events.map((event) => event.event).join(', ')}`);
  assert.ok(retrying.every((event) => typeof event.data.nextAttemptAt === 'string'));
});

test('a failed operation\'s body says whether a retry may help (retryable, retryAfter) and links to retry', async () => {
  const operation = await submitOperation(server.url, '/_admin/flaky?failures=9&retryable=false', ALICE);
  const { reply, body } = await waitForFinal(server.url, operation.operationId, ALICE);
  assert.equal(reply.status, 200);
  assert.equal(body.status, 'FAILED');
  assert.equal(body.attempts, undefined, 'a non-retryable error ran once');
  assert.equal(body.error?.retryable, false);
  assert.equal(body.links.retry, `/_api/operations/${operation.operationId}/retry`);
  const later = await submitOperation(server.url, '/_admin/flaky?failures=9&retryAfterMs=1500', ALICE);
  const { body: exhausted } = await waitForFinal(server.url, later.operationId, ALICE);
  assert.equal(exhausted.status, 'FAILED');
  assert.deepEqual([exhausted.error?.retryable, exhausted.error?.retryAfter], [true, 2], 'retryAfter in seconds, rounded up');
  assert.equal((exhausted.attempts as AttemptView[]).length, 2, 'two failed attempts before the last');
});

test('POST /retry runs a failed operation again under its id; 409 while it runs or once completed; owner only', async () => {
  const operation = await submitOperation(server.url, '/_admin/flaky?failures=1&retryable=false', ALICE);
  const { body: failed } = await waitForFinal(server.url, operation.operationId, ALICE);
  assert.equal(failed.status, 'FAILED');
  assert.equal((await call(server.url, 'POST', `/_api/operations/${operation.operationId}/retry`, BOB)).status, 404, 'another user cannot see it');
  assertProblem(await call(server.url, 'POST', `/_api/operations/${operation.operationId}/retry`, SUPERUSER), 403);
  const retried = await call(server.url, 'POST', `/_api/operations/${operation.operationId}/retry`, ALICE);
  assert.equal(retried.status, 202, retried.body);
  assert.equal(retried.headers.get('location'), `/_api/operations/${operation.operationId}`);
  const accepted = parseJson(retried) as OperationBody;
  assert.equal(accepted.operationId, operation.operationId, 'the same id');
  assert.ok(accepted.status === 'PENDING' || accepted.status === 'PROCESSING');
  // A retry run starts again at ctx.attempt 0, so this handler fails the same way: what a client
  // sees is the second run and its attempts.
  const { body: again } = await waitForFinal(server.url, operation.operationId, ALICE);
  assert.equal(again.status, 'FAILED');
  assert.deepEqual((again.attempts as AttemptView[]).map((attempt) => attempt.attempt), [1], 'the first run is an attempt of the operation');
  assert.ok(Date.parse(again.timestamps.finished!) >= Date.parse(failed.timestamps.finished!));

  const slow = await submitOperation(server.url, '/_admin/steps?count=100&ms=20', ALICE);
  await waitForStatus(server.url, slow.operationId, ['PROCESSING'], ALICE);
  assertProblem(await call(server.url, 'POST', `/_api/operations/${slow.operationId}/retry`, ALICE), 409);
  await call(server.url, 'POST', `/_api/operations/${slow.operationId}/cancel`, ALICE);
  await waitForStatus(server.url, slow.operationId, ['CANCELLED'], ALICE);
  assert.equal((await call(server.url, 'POST', `/_api/operations/${slow.operationId}/retry`, ALICE)).status, 202, 'a cancelled operation runs again');
  const { body: rerun } = await waitForStatus(server.url, slow.operationId, ['PROCESSING', 'COMPLETED'], ALICE);
  assert.equal(rerun.reason, undefined, 'the new run is not cancelled');
  await call(server.url, 'POST', `/_api/operations/${slow.operationId}/cancel`, ALICE);

  const done = await submitOperation(server.url, '/_admin/steps?count=1&ms=1', ALICE);
  await waitForFinal(server.url, done.operationId, ALICE);
  assertProblem(await call(server.url, 'POST', `/_api/operations/${done.operationId}/retry`, ALICE), 409);
  assertProblem(await call(server.url, 'GET', `/_api/operations/${done.operationId}/retry`, ALICE), 405);
});
