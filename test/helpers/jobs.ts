import assert from 'node:assert/strict';
import { parseJson, request, waitFor, type Reply } from './http.js';

export const JOB_ID = /^[1-9][0-9]*$/;

/** Sends a request with `x-arango-async: store`, asserts the 202 and returns the job id. */
export async function storeJob(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<string> {
  const reply = await request(baseUrl, method, path, { headers: { ...headers, 'x-arango-async': 'store' }, body });
  assert.equal(reply.status, 202, `store ${method} ${path}: ${reply.status} ${reply.body}`);
  assert.equal(reply.body, '');
  const jobId = reply.headers.get('x-arango-async-id');
  assert.ok(jobId !== null && JOB_ID.test(jobId), `x-arango-async-id ${jobId}`);
  return jobId;
}

/** Status code of `GET /_api/job/{id}`: 200 done, 204 pending, 404 unknown. */
export async function jobStatus(baseUrl: string, jobId: string, headers: Record<string, string> = {}): Promise<number> {
  const reply = await request(baseUrl, 'GET', `/_api/job/${jobId}`, { headers });
  return reply.status;
}

/** Polls `GET /_api/job/{id}` until the job is finished (200); fails on 404 or timeout. */
export async function waitForJobDone(baseUrl: string, jobId: string, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<void> {
  await waitFor(`job ${jobId} to finish`, async () => {
    const status = await jobStatus(baseUrl, jobId, headers);
    assert.notEqual(status, 404, `job ${jobId} vanished`);
    return status === 200 ? true : undefined;
  }, timeoutMs);
}

/** Polls `PUT /_api/job/{id}` until it answers something other than 204, and returns that answer. */
export async function fetchWhenFinished(baseUrl: string, jobId: string, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<Reply> {
  return waitFor(`job ${jobId} to be fetchable`, async () => {
    const reply = await request(baseUrl, 'PUT', `/_api/job/${jobId}`, { headers });
    return reply.status === 204 ? undefined : reply;
  }, timeoutMs);
}

/** `GET /_api/job/{type}` as a list of id strings. */
export async function listJobs(baseUrl: string, type: 'done' | 'pending', headers: Record<string, string> = {}, count?: number): Promise<string[]> {
  const reply = await request(baseUrl, 'GET', `/_api/job/${type}${count === undefined ? '' : `?count=${count}`}`, { headers });
  assert.equal(reply.status, 200, `list ${type}: ${reply.status} ${reply.body}`);
  const ids = parseJson(reply);
  assert.ok(Array.isArray(ids), `list ${type} is an array: ${reply.body}`);
  for (const id of ids) assert.ok(typeof id === 'string' && JOB_ID.test(id), `job id ${JSON.stringify(id)} is a decimal string`);
  return ids as string[];
}

/** Asserts that ids are in strictly ascending numeric order. */
export function assertAscending(ids: readonly string[]): void {
  for (let index = 1; index < ids.length; index++) {
    assert.ok(BigInt(ids[index - 1]) < BigInt(ids[index]), `ids not ascending: ${ids.join(', ')}`);
  }
}

/** The Prometheus text of `GET /_admin/metrics`. */
export async function scrapeMetrics(baseUrl: string, headers: Record<string, string> = {}): Promise<string> {
  const reply = await request(baseUrl, 'GET', '/_admin/metrics', { headers });
  assert.equal(reply.status, 200, `metrics: ${reply.status} ${reply.body}`);
  return reply.body;
}

/** The value of one sample, e.g. `metricValue(text, 'arangojobs_jobs', { state: 'running' })`; 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found.set(pair[1], pair[2]);
    if (Object.entries(labels).every(([label, value]) => found.get(label) === value)) return Number(match[3]);
  }
  return 0;
}

/** How many jobs ended with `kind` so far (`arangojobs_job_transitions_total{kind}`). */
export async function transitions(baseUrl: string, kind: string, headers: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrapeMetrics(baseUrl, headers), 'arangojobs_job_transitions_total', { kind });
}

/** Waits until the engine reports exactly `count` running jobs. */
export async function waitForRunningJobs(baseUrl: string, count: number, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<void> {
  await waitFor(`${count} running jobs`, async () => {
    const running = metricValue(await scrapeMetrics(baseUrl, headers), 'arangojobs_jobs', { state: 'running' });
    return running === count ? true : undefined;
  }, timeoutMs);
}

/** Waits until the engine holds exactly `count` jobs, running or queued. */
export async function waitForHeldJobs(baseUrl: string, count: number, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<void> {
  await waitFor(`${count} jobs running or queued`, async () => {
    const metrics = await scrapeMetrics(baseUrl, headers);
    const held = metricValue(metrics, 'arangojobs_jobs', { state: 'running' }) + metricValue(metrics, 'arangojobs_jobs', { state: 'queued' });
    return held === count ? true : undefined;
  }, timeoutMs);
}
