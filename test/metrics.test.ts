// GET /_admin/metrics: Prometheus text an operator can scrape, counting what clients did.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertArangoError, request } from './helpers/http.js';
import { fetchWhenFinished, metricValue, scrapeMetrics, storeJob } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer(['--server.threads', '1']);
});

after(async () => {
  await server?.stop();
});

const FAMILIES: [string, string][] = [
  ['arangojobs_requests_total', 'counter'],
  ['arangojobs_job_transitions_total', 'counter'],
  ['arangojobs_jobs', 'gauge'],
  ['arangojobs_queue_depth', 'gauge'],
  ['arangojobs_worker_threads', 'gauge'],
  ['arangojobs_worker_restarts_total', 'counter'],
  ['arangojobs_cancel_latency_seconds', 'histogram'],
  ['arangojobs_job_duration_seconds', 'histogram'],
];

test('is Prometheus text format with the server\'s metric families', async () => {
  for (const path of ['/_admin/metrics', '/_db/_system/_admin/metrics']) {
    const reply = await request(server.url, 'GET', path);
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    for (const [name, type] of FAMILIES) {
      assert.ok(reply.body.includes(`# HELP ${name} `), `HELP for ${name}`);
      assert.ok(reply.body.includes(`# TYPE ${name} ${type}\n`), `TYPE ${type} for ${name}`);
    }
    for (const line of reply.body.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      // Prometheus parses special values case-insensitively (Go's ParseFloat); prom-client writes "Nan".
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)$/, `sample line ${line}`);
    }
    assert.equal(metricValue(reply.body, 'arangojobs_worker_threads'), 1);
  }
});

test('counts requests by mode and status, and job transitions', async () => {
  const before = await scrapeMetrics(server.url);
  assert.equal((await request(server.url, 'GET', '/_api/version')).status, 200);
  assert.equal((await request(server.url, 'GET', '/_api/version', { headers: { 'x-arango-async': 'true' } })).status, 202);
  const jobId = await storeJob(server.url, 'GET', '/_api/version');
  assert.equal((await fetchWhenFinished(server.url, jobId)).status, 200);
  assertArangoError(await request(server.url, 'GET', '/_api/unknown'), 404, 404);
  const after = await scrapeMetrics(server.url);

  const grew = (labels: Record<string, string>): boolean =>
    metricValue(after, 'arangojobs_requests_total', labels) > metricValue(before, 'arangojobs_requests_total', labels);
  assert.ok(grew({ mode: 'blocking', status: '200' }), 'blocking 200');
  assert.ok(grew({ mode: 'fire', status: '202' }), 'fire and forget 202');
  assert.ok(grew({ mode: 'store', status: '202' }), 'store 202');
  assert.ok(grew({ status: '404' }), 'the 404');
  const done = (text: string): number => metricValue(text, 'arangojobs_job_transitions_total', { kind: 'done' });
  assert.ok(done(after) >= done(before) + 3, 'three jobs done');
  const durations = (text: string): number => metricValue(text, 'arangojobs_job_duration_seconds_count');
  assert.ok(durations(after) >= durations(before) + 3, 'each ended job is timed');
});

test('HEAD works and other methods are 405', async () => {
  assert.equal((await request(server.url, 'HEAD', '/_admin/metrics')).status, 200);
  assertArangoError(await request(server.url, 'PUT', '/_admin/metrics'), 405, 405);
});
