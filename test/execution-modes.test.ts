// ArangoDB's three execution modes, as a client sees them: blocking (no x-arango-async header,
// or any value but `true` and `store`), fire and forget (`true`: 202, nothing kept) and store
// (`store`: 202 with a job id, result fetched later), for GET, POST and HEAD, with and without
// the /_db/_system/ prefix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertArangoError, assertEmptyWithoutJobId, parseJson, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, jobStatus, listJobs, metricValue, scrapeMetrics, storeJob, transitions } from './helpers/jobs.js';
import { CUSTOM_ROUTES, startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer(['--server.threads', '2', '--server.handlers', CUSTOM_ROUTES]);
});

after(async () => {
  await server?.stop();
});

const PREFIXES = ['', '/_db/_system'];

describe('blocking', () => {
  for (const prefix of PREFIXES) {
    test(`GET ${prefix}/_api/version without x-arango-async answers with the handler's result`, async () => {
      const reply = await request(server.url, 'GET', `${prefix}/_api/version`);
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(reply.headers.get('x-arango-async-id'), null);
      const body = parseJson(reply) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['license', 'server', 'version']);
      assert.equal(body.server, 'arango');
    });

    test(`POST ${prefix}/_admin/echo returns the request it got`, async () => {
      const reply = await request(server.url, 'POST', `${prefix}/_admin/echo?color=blue`, {
        headers: { 'content-type': 'text/plain', 'x-custom': 'yes' }, body: 'hello, worker',
      });
      assert.equal(reply.status, 200);
      const echoed = parseJson(reply) as { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string };
      assert.equal(echoed.method, 'POST');
      assert.equal(echoed.path, '/_admin/echo');
      assert.deepEqual(echoed.query, { color: 'blue' });
      assert.equal(echoed.headers['x-custom'], 'yes');
      assert.equal(echoed.body, 'hello, worker');
    });
  }

  test('the answer is the handler\'s own status, headers and body', async () => {
    const reply = await request(server.url, 'GET', '/custom/report');
    assert.equal(reply.status, 201);
    assert.equal(reply.headers.get('x-report-id'), 'r-42');
    assert.equal(reply.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(reply.body, 'method,GET\n');
  });

  test('a handler error is answered as the ArangoDB error it carries', async () => {
    assertArangoError(await request(server.url, 'GET', '/_admin/fail?status=503'), 503, 503, /failed on purpose/);
    assertArangoError(await request(server.url, 'GET', '/_admin/fail?status=42'), 400, 400);
  });

  for (const value of ['false', '1', 'yes', 'later']) {
    test(`x-arango-async: ${value} is blocking`, async () => {
      const reply = await request(server.url, 'GET', '/_api/version', { headers: { 'x-arango-async': value } });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('x-arango-async-id'), null);
      assert.equal((parseJson(reply) as { server: string }).server, 'arango');

      const posted = await request(server.url, 'POST', '/_admin/echo', { headers: { 'x-arango-async': value }, body: 'b' });
      assert.equal(posted.status, 200);
      assert.equal((parseJson(posted) as { body: string }).body, 'b');
    });
  }

  test('HEAD runs the GET route and answers its status without a body', async () => {
    const reply = await request(server.url, 'HEAD', '/_db/_system/_api/version');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '');
    assert.equal(reply.headers.get('x-arango-async-id'), null);
  });
});

describe('fire and forget (x-arango-async: true)', () => {
  for (const prefix of PREFIXES) {
    test(`GET, POST and HEAD under "${prefix}/" answer 202 at once with an empty body and no job id`, async () => {
      const doneBefore = await transitions(server.url, 'done');
      const listedBefore = await listJobs(server.url, 'done');
      const headers = { 'x-arango-async': 'true' };
      assertEmptyWithoutJobId(await request(server.url, 'GET', `${prefix}/_admin/sleep?duration=0.05`, { headers }), 202);
      assertEmptyWithoutJobId(await request(server.url, 'POST', `${prefix}/_admin/echo`, { headers, body: 'dropped' }), 202);
      assertEmptyWithoutJobId(await request(server.url, 'HEAD', `${prefix}/_api/version`, { headers }), 202);
      // The three jobs run, and their results are thrown away: nothing appears in the job lists.
      await waitFor('the three fire-and-forget jobs to run', async () => ((await transitions(server.url, 'done')) >= doneBefore + 3 ? true : undefined));
      assert.deepEqual(await listJobs(server.url, 'done'), listedBefore);
      assert.deepEqual(await listJobs(server.url, 'pending'), []);
    });
  }

  test('the 202 comes before the job has finished', async () => {
    const reply = await request(server.url, 'GET', '/_admin/sleep?duration=2', { headers: { 'x-arango-async': 'true' } });
    assertEmptyWithoutJobId(reply, 202);
    const metrics = await scrapeMetrics(server.url);
    const inFlight = metricValue(metrics, 'arangojobs_jobs', { state: 'running' }) + metricValue(metrics, 'arangojobs_jobs', { state: 'queued' });
    assert.ok(inFlight >= 1, 'the 2-second job is still running after its 202');
  });
});

describe('store (x-arango-async: store)', () => {
  for (const prefix of PREFIXES) {
    test(`GET, POST and HEAD under "${prefix}/" answer 202 with increasing decimal job ids, then the result is fetched`, async () => {
      const getId = await storeJob(server.url, 'GET', `${prefix}/_api/version`);
      const postId = await storeJob(server.url, 'POST', `${prefix}/_admin/echo`, { 'content-type': 'text/plain' }, 'kept for later');
      const headId = await storeJob(server.url, 'HEAD', `${prefix}/_api/version`);
      assert.ok(BigInt(getId) < BigInt(postId) && BigInt(postId) < BigInt(headId), `ids increase: ${getId} ${postId} ${headId}`);

      const fetchedGet = await fetchWhenFinished(server.url, getId);
      assert.equal(fetchedGet.status, 200);
      assert.equal(fetchedGet.headers.get('x-arango-async-id'), getId);
      assert.equal((parseJson(fetchedGet) as { server: string }).server, 'arango');

      const fetchedPost = await fetchWhenFinished(server.url, postId);
      assert.equal(fetchedPost.status, 200);
      assert.equal(fetchedPost.headers.get('x-arango-async-id'), postId);
      const echoed = parseJson(fetchedPost) as { method: string; body: string };
      assert.equal(echoed.method, 'POST');
      assert.equal(echoed.body, 'kept for later');

      const fetchedHead = await fetchWhenFinished(server.url, headId);
      assert.equal(fetchedHead.status, 200);
      assert.equal(fetchedHead.headers.get('x-arango-async-id'), headId);
    });
  }

  test('ids keep increasing across many requests', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) ids.push(await storeJob(server.url, 'GET', '/_api/version'));
    for (let index = 1; index < ids.length; index++) assert.ok(BigInt(ids[index - 1]) < BigInt(ids[index]), ids.join(' '));
    await request(server.url, 'DELETE', '/_api/job/all');
  });

  test('a fetched result is the handler\'s own status, headers and body plus x-arango-async-id', async () => {
    const jobId = await storeJob(server.url, 'POST', '/custom/report');
    const reply = await fetchWhenFinished(server.url, jobId);
    assert.equal(reply.status, 201);
    assert.equal(reply.headers.get('x-report-id'), 'r-42');
    assert.equal(reply.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(reply.headers.get('x-arango-async-id'), jobId);
    assert.equal(reply.body, 'method,POST\n');
  });

  test('a failed job is fetched as its ArangoDB error, with x-arango-async-id', async () => {
    const jobId = await storeJob(server.url, 'GET', '/_db/_system/_admin/fail?status=503');
    const reply = await fetchWhenFinished(server.url, jobId);
    assertArangoError(reply, 503, 503, /failed on purpose/);
    assert.equal(reply.headers.get('x-arango-async-id'), jobId);
  });

  test('a job reporting progress (/_admin/steps) is pending, then done with its result', async () => {
    const jobId = await storeJob(server.url, 'GET', '/_admin/steps?count=6&ms=60');
    assert.ok([200, 204].includes(await jobStatus(server.url, jobId)));
    const reply = await fetchWhenFinished(server.url, jobId);
    assert.equal(reply.status, 200);
    assert.deepEqual(parseJson(reply), { error: false, code: 200, steps: 6 });
    assert.equal(reply.headers.get('x-arango-async-id'), jobId);

    const blocking = await request(server.url, 'GET', '/_admin/steps?count=3&ms=20');
    assert.equal(blocking.status, 200);
    assert.deepEqual(parseJson(blocking), { error: false, code: 200, steps: 3 });
    assertEmptyWithoutJobId(await request(server.url, 'GET', '/_admin/steps?count=3&ms=20', { headers: { 'x-arango-async': 'true' } }), 202);
  });
});
